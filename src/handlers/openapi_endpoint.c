/* handlers/openapi_endpoint.c: GET /openapi.json, the legacy /.well-known/ai-plugin.json, /logo.svg and the /privacy page. */
#include "autoconf.h"

#include <json-c/json.h>

#include "auth.h"
#include "config.h"
#include "handlers.h"
#include "http.h"
#include "oauth_server.h"
#include "openapi.h"
#include "router.h"
#include "util.h"

#define OPENAPI_LOGO_SVG						\
	"<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 64 64\" "	\
	"width=\"64\" height=\"64\"><rect width=\"64\" height=\"64\" "	\
	"rx=\"12\" fill=\"#1e2630\"/><path d=\"M18 46 29 18h6l11 28h-7l-2.4"	\
	"-6.4H27.4L25 46zm11.4-12.2h5.2L32 26.6z\" fill=\"#3db4f2\"/></svg>\n"

void
handle_openapi(struct http_req *req, struct http_resp *resp, const void *arg)
{
	http_resp_json(resp, 200, openapi_document(routes, routes_count,
	    handle_tool, cfg->public_url));
	http_resp_header(resp, "Cache-Control", "public, max-age=300");
}

void
handle_ai_plugin(struct http_req *req, struct http_resp *resp, const void *arg)
{
	http_resp_json(resp, 200, openapi_plugin_manifest(cfg->public_url));
	http_resp_header(resp, "Cache-Control", "public, max-age=300");
}

void
handle_logo(struct http_req *req, struct http_resp *resp, const void *arg)
{
	http_resp_text(resp, 200, "image/svg+xml", OPENAPI_LOGO_SVG);
	http_resp_header(resp, "Cache-Control", "public, max-age=86400");
}

static void
privacy_escape(struct buf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '&': buf_puts(b, "&amp;"); break;
		case '<': buf_puts(b, "&lt;"); break;
		case '>': buf_puts(b, "&gt;"); break;
		case '"': buf_puts(b, "&quot;"); break;
		case '\'': buf_puts(b, "&#39;"); break;
		default: buf_putc(b, *s); break;
		}
	}
}

/* "3 days", "30 minutes" … for a number of seconds. */
static void
privacy_duration(struct buf *b, int seconds)
{
	if (seconds % 86400 == 0)
		buf_printf(b, "%d day%s", seconds / 86400,
		    seconds == 86400 ? "" : "s");
	else if (seconds % 3600 == 0)
		buf_printf(b, "%d hour%s", seconds / 3600,
		    seconds == 3600 ? "" : "s");
	else if (seconds % 60 == 0)
		buf_printf(b, "%d minute%s", seconds / 60,
		    seconds == 60 ? "" : "s");
	else
		buf_printf(b, "%d seconds", seconds);
}

void
handle_privacy(struct http_req *req, struct http_resp *resp, const void *arg)
{
	struct buf	b;
	int		longest;

	longest = cfg->cache_ttl_default;
	if (cfg->cache_ttl_media > longest)
		longest = cfg->cache_ttl_media;
	if (cfg->cache_ttl_character > longest)
		longest = cfg->cache_ttl_character;
	if (cfg->cache_ttl_genres > longest)
		longest = cfg->cache_ttl_genres;
	if (cfg->cache_ttl_seasonal > longest)
		longest = cfg->cache_ttl_seasonal;
	if (cfg->cache_ttl_trending > longest)
		longest = cfg->cache_ttl_trending;

	buf_init(&b);
	buf_puts(&b, "<!DOCTYPE html>\n<html lang=\"en\"><head>"
	    "<meta charset=\"utf-8\"><title>Privacy - " PACKAGE_DISPLAY_NAME
	    "</title><meta name=\"viewport\" content=\"width=device-width\">"
	    "<style>body{font:16px/1.5 system-ui,sans-serif;max-width:44em;"
	    "margin:2em auto;padding:0 1em;color:#1e2630}code{background:"
	    "#eef;padding:0 .2em}</style></head><body>\n");
	buf_puts(&b, "<h1>Privacy</h1>\n<p>" PACKAGE_DISPLAY_NAME " is an "
	    "unofficial third-party app built on the AniList API. It is not "
	    "made, run or endorsed by AniList.</p>\n");

	buf_puts(&b, "<h2>What is stored</h2>\n<ul>\n"
	    "<li><b>Without signing in:</b> no account and nothing tied to "
	    "you. Requests are logged for operations (time, path, status, "
	    "duration; the TLS proxy's access log also has the client IP "
	    "address) and kept as long as the host keeps its logs.</li>\n"
	    "<li><b>When you sign in with AniList:</b> your AniList user id "
	    "and name; the AniList access token, encrypted (AES-256-GCM); "
	    "the tokens this service issues to ChatGPT or another client, "
	    "stored only as hashes; your preferences; recommendation "
	    "feedback and search statistics tied to your account.</li>\n"
	    "<li><b>Anime data</b> is never stored as a database: answers "
	    "from AniList are cached in memory (memcached) for at most ");
	privacy_duration(&b, longest);
	buf_puts(&b, ", and a list of yours for ");
	privacy_duration(&b, cfg->cache_ttl_user_list);
	buf_puts(&b, ".</li>\n<li>Logs name a signed-in user only by a "
	    "one-way hash of the user id, never by name or token.</li>\n"
	    "</ul>\n");

	buf_puts(&b, "<h2>For how long</h2>\n<ul>\n<li>Sign-in states: ");
	privacy_duration(&b, AUTH_STATE_TTL);
	buf_puts(&b, ". Authorization codes: ");
	privacy_duration(&b, OAUTH_CODE_TTL);
	buf_puts(&b, ", single use.</li>\n"
	    "<li>Access tokens issued by this service: about an hour; "
	    "refresh tokens until used, revoked or your account is "
	    "deleted.</li>\n"
	    "<li>The AniList token: until it expires at AniList (about a "
	    "year), you sign out, or you delete your account here.</li>\n"
	    "<li>Your account, preferences, feedback and statistics: until "
	    "you delete them.</li>\n</ul>\n");

	buf_puts(&b, "<h2>How to delete it</h2>\n<p>Sign in at <code>");
	privacy_escape(&b, cfg->public_url);
	buf_puts(&b, "/auth/login</code>, then send <code>DELETE ");
	privacy_escape(&b, cfg->public_url);
	buf_puts(&b, "/v1/me</code> with that session's cookie (apps you "
	    "connected cannot delete your account). It deletes your "
	    "user, every token, your preferences and your events at once; "
	    "nothing is kept. You can also revoke this app's access in your "
	    "AniList settings (Apps).</p>\n");
	buf_puts(&b, "<h2>Sharing</h2>\n<p>Nothing is sold or shared. The "
	    "service talks to AniList on your behalf only for what you "
	    "ask.</p>\n</body></html>\n");
	http_resp_text(resp, 200, "text/html", b.data);
	http_resp_header(resp, "Cache-Control", "public, max-age=3600");
	buf_free(&b);
}
