/* widget.c: the widget table, template loading and the resource _meta both app conventions read. */
#include "autoconf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "util.h"
#include "widget.h"

/* A template's include of a shared file of the same directory. */
#define WIDGET_INCLUDE		"/*#include "
/* Files larger than this are refused (they are a few KiB). */
#define WIDGET_MAX_BYTES	(256 * 1024)

/* The only hosts a template may load from: AniList's image CDN. */
static const char *const widget_resource_domains[] = {
	"https://s4.anilist.co",
	"https://img.anili.st",
};

const struct widget widgets[] = {
	{ "ui://widget/anime-list.html", "ui://widget/anime-list.app.html",
	    "anime-list.html", "anime-list", "Anime results",
	    "Cards for a list of anime: search results, trending and "
	    "seasonal titles, with cover, score, genres and airing." },
	{ "ui://widget/anime-details.html",
	    "ui://widget/anime-details.app.html",
	    "anime-details.html", "anime-details", "Anime details",
	    "One anime in full: cover, titles, score, studios, genres, "
	    "description, relations and recommendations." },
	{ "ui://widget/recommendations.html",
	    "ui://widget/recommendations.app.html",
	    "recommendations.html", "recommendations", "Recommendations",
	    "Recommended anime as cards, each with the reason it was "
	    "picked." },
	{ "ui://widget/user-list.html", "ui://widget/user-list.app.html",
	    "user-list.html", "user-list", "Your anime list",
	    "A user's AniList entries as cards: status, progress and "
	    "score." },
	{ "ui://widget/watch-order.html", "ui://widget/watch-order.app.html",
	    "watch-order.html", "watch-order", "Watch order",
	    "A franchise as a timeline in the suggested watch order: main "
	    "story, side stories, skippable recaps, each with its reason." },
	{ "ui://widget/picks.html", "ui://widget/picks.app.html",
	    "picks.html", "picks", "Picks from your list",
	    "The titles of a user's planning (or paused) list ranked for "
	    "now by taste, mood and time, each with its reasons." },
	{ "ui://widget/my-airing.html", "ui://widget/my-airing.app.html",
	    "my-airing.html", "my-airing", "Airing on your list",
	    "A user's airing schedule by day for the titles they watch or "
	    "plan, and the sequels of the titles they completed." },
	{ "ui://widget/works.html", "ui://widget/works.app.html",
	    "works.html", "works", "Works of a person or studio",
	    "A person or a studio with their best-known titles, most "
	    "popular first, their roles and the characters they voice." },
	{ "ui://widget/user-profile.html",
	    "ui://widget/user-profile.app.html",
	    "user-profile.html", "user-profile", "Anime profile",
	    "A user's anime profile: totals, list statuses, genres and "
	    "tags by time spent, and favourites." },
};
const size_t widgets_count = nitems(widgets);

const struct widget *
widget_find(const char *uri, bool *app)
{
	size_t	i;

	if (uri == NULL)
		return (NULL);
	for (i = 0; i < widgets_count; i++) {
		if (strcmp(widgets[i].uri, uri) == 0) {
			if (app != NULL)
				*app = false;
			return (&widgets[i]);
		}
		if (strcmp(widgets[i].app_uri, uri) == 0) {
			if (app != NULL)
				*app = true;
			return (&widgets[i]);
		}
	}
	return (NULL);
}

const char *
widget_mime(bool app)
{
	return (app ? WIDGET_MIME_MCP_APP : WIDGET_MIME_SKYBRIDGE);
}

/* A file of dir as text: NULL with *cause when missing, too large or not UTF-8. */
static char *
widget_read(const char *dir, const char *file, char **cause)
{
	struct buf	 b;
	char		*path = NULL, chunk[8192];
	FILE		*f;
	size_t		 n;

	buf_init(&b);
	xasprintf(&path, "%s/%s", dir, file);
	if ((f = fopen(path, "rb")) == NULL) {
		xasprintf(cause, "widget file %s: %s", path, strerror(errno));
		goto fail;
	}
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
		buf_append(&b, chunk, n);
		if (b.len > WIDGET_MAX_BYTES)
			break;
	}
	if (ferror(f) || b.len > WIDGET_MAX_BYTES || b.len == 0 ||
	    memchr(b.data, '\0', b.len) != NULL ||
	    !util_utf8_valid(b.data, b.len)) {
		xasprintf(cause, "widget file %s is empty, too large or not "
		    "UTF-8 text", path);
		fclose(f);
		goto fail;
	}
	fclose(f);
	free(path);
	return (buf_detach(&b));
fail:
	free(path);
	buf_free(&b);
	return (NULL);
}

/* Does s contain a closing tag that would end the <script> or <style> it is put in? */
static bool
widget_closes_element(const char *s)
{
	for (; (s = strstr(s, "</")) != NULL; s += 2) {
		if (strncasecmp(s + 2, "script", 6) == 0 ||
		    strncasecmp(s + 2, "style", 5) == 0)
			return (true);
	}
	return (false);
}

char *
widget_html(const struct widget *w, const char *dir, char **cause)
{
	struct buf	 out;
	char		*tmpl, *part, name[64];
	const char	*p, *mark, *end;
	size_t		 len;

	if ((tmpl = widget_read(dir, w->file, cause)) == NULL)
		return (NULL);
	buf_init(&out);
	buf_append(&out, "", 0);
	for (p = tmpl; (mark = strstr(p, WIDGET_INCLUDE)) != NULL;
	    p = end + 2) {
		buf_append(&out, p, (size_t)(mark - p));
		mark += strlen(WIDGET_INCLUDE);
		len = strspn(mark, "abcdefghijklmnopqrstuvwxyz0123456789-.");
		end = mark + len;
		if (len == 0 || len >= sizeof name || mark[0] == '.' ||
		    strncmp(end, "*/", 2) != 0) {
			xasprintf(cause, "%s: a malformed include", w->file);
			goto fail;
		}
		memcpy(name, mark, len);
		name[len] = '\0';
		if ((part = widget_read(dir, name, cause)) == NULL)
			goto fail;
		if (widget_closes_element(part) ||
		    strstr(part, WIDGET_INCLUDE) != NULL) {
			xasprintf(cause, "%s may not close its element or "
			    "include another file", name);
			free(part);
			goto fail;
		}
		buf_puts(&out, part);
		free(part);
	}
	buf_puts(&out, p);
	free(tmpl);
	return (buf_detach(&out));
fail:
	free(tmpl);
	buf_free(&out);
	return (NULL);
}

static struct json_object *
widget_domains(void)
{
	struct json_object	*a = json_object_new_array();
	size_t			 i;

	for (i = 0; i < nitems(widget_resource_domains); i++)
		json_object_array_add(a,
		    json_object_new_string(widget_resource_domains[i]));
	return (a);
}

/* The origin of url ("https://host[:port]", no path); caller frees. */
static char *
widget_origin(const char *url)
{
	const char	*host = strstr(url, "://");
	size_t		 len = strlen(url);

	if (host != NULL)
		len = (size_t)(host + 3 - url) + strcspn(host + 3, "/?#");
	return (xstrndup(url, len));
}

struct json_object *
widget_resource_meta(const struct widget *w, const char *public_url)
{
	struct json_object	*meta, *ui, *csp, *ocsp;
	char			*origin = NULL;

	/* MCP Apps: _meta.ui.csp with camelCase domain lists. */
	csp = json_object_new_object();
	json_object_object_add(csp, "connectDomains",
	    json_object_new_array());
	json_object_object_add(csp, "resourceDomains", widget_domains());
	ui = json_object_new_object();
	json_object_object_add(ui, "csp", csp);
	json_object_object_add(ui, "prefersBorder",
	    json_object_new_boolean(true));
	/* The app's own origin: ChatGPT uses it for links and "open in app". */
	if (public_url != NULL && *public_url != '\0') {
		origin = widget_origin(public_url);
		json_object_object_add(ui, "domain",
		    json_object_new_string(origin));
	}

	/* ChatGPT Apps SDK: openai/widgetCSP with snake_case lists. */
	ocsp = json_object_new_object();
	json_object_object_add(ocsp, "connect_domains",
	    json_object_new_array());
	json_object_object_add(ocsp, "resource_domains", widget_domains());

	meta = json_object_new_object();
	json_object_object_add(meta, "ui", ui);
	json_object_object_add(meta, "openai/widgetCSP", ocsp);
	json_object_object_add(meta, "openai/widgetDescription",
	    json_object_new_string(w->description));
	json_object_object_add(meta, "openai/widgetPrefersBorder",
	    json_object_new_boolean(true));
	if (origin != NULL)
		json_object_object_add(meta, "openai/widgetDomain",
		    json_object_new_string(origin));
	free(origin);
	return (meta);
}
