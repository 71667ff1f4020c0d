/* widget.h: the HTML widget templates (ChatGPT Apps and MCP Apps) that render tool results as cards. */
#ifndef WIDGET_H
#define WIDGET_H

#include <stdbool.h>
#include <stddef.h>

struct json_object;

/* The MIME types the two conventions name for an HTML template. */
#define WIDGET_MIME_SKYBRIDGE	"text/html+skybridge"		/* ChatGPT Apps SDK */
#define WIDGET_MIME_MCP_APP	"text/html;profile=mcp-app"	/* MCP Apps */

/*
 * One template, served twice: as uri (text/html+skybridge, the tool's
 * _meta["openai/outputTemplate"] and struct tool's widget) and as app_uri
 * (text/html;profile=mcp-app, the tool's _meta.ui.resourceUri). The file
 * lives in WIDGETS_DIR and is the same for both.
 */
struct widget {
	const char	*uri;
	const char	*app_uri;
	const char	*file;
	const char	*name;
	const char	*title;
	const char	*description;
};

extern const struct widget	widgets[];
extern const size_t		widgets_count;

/* The widget with this uri or app_uri, or NULL; *app says which matched. */
const struct widget *widget_find(const char *uri, bool *app);
/* The MIME type for a widget URI form. */
const char	*widget_mime(bool app);

/*
 * The template's HTML, read from dir (WIDGETS_DIR) with each
 * include comment (slash, star, "#include name", star, slash) replaced by
 * that file of dir (common.js …). NULL
 * with *cause (caller frees) when a file is missing, not UTF-8, or an
 * included file would close its <script>/<style>. Caller frees.
 */
char	*widget_html(const struct widget *w, const char *dir, char **cause)
	    __attribute__((warn_unused_result));

/*
 * The widget _meta of a resource for either convention: the CSP (only
 * AniList's image CDN), the description, the border preference and the
 * app's domain (ui.domain, openai/widgetDomain: the origin of public_url,
 * left out when it is empty). Caller frees.
 */
struct json_object *widget_resource_meta(const struct widget *w,
	    const char *public_url);

#endif
