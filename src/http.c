/* http.c: request parsing (path, query, headers) and response building. */
#include "autoconf.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "http.h"
#include "util.h"

static int
http_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);
	return (-1);
}

char *
http_decode(const char *s, size_t len, bool form)
{
	char	*out, *o;
	size_t	 i;
	int	 hi, lo;

	out = o = xmalloc(len + 1);
	for (i = 0; i < len; i++) {
		if (s[i] == '%') {
			if (i + 2 >= len) {
				free(out);
				return (NULL);
			}
			hi = http_hexval((unsigned char)s[i + 1]);
			lo = http_hexval((unsigned char)s[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
				free(out);
				return (NULL);
			}
			*o++ = (char)(hi << 4 | lo);
			i += 2;
		} else if (s[i] == '+' && form)
			*o++ = ' ';
		else if (s[i] == '\0') {
			free(out);
			return (NULL);
		} else
			*o++ = s[i];
	}
	*o = '\0';
	return (out);
}

char *
http_encode(const char *s)
{
	static const char	 hex[] = "0123456789ABCDEF";
	struct buf		 b;
	const unsigned char	*p;

	buf_init(&b);
	buf_append(&b, "", 0);
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (isalnum(*p) || *p == '-' || *p == '_' || *p == '.' ||
		    *p == '~')
			buf_putc(&b, (char)*p);
		else {
			buf_putc(&b, '%');
			buf_putc(&b, hex[*p >> 4]);
			buf_putc(&b, hex[*p & 0xf]);
		}
	}
	return (buf_detach(&b));
}

void
http_params_free(struct http_param *p, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		free(p[i].key);
		free(p[i].value);
	}
	free(p);
}

int
http_parse_query(const char *qs, struct http_param **out, size_t *nout,
    char **cause)
{
	struct http_param	*params = NULL;
	size_t			 n = 0, klen, vlen;
	const char		*p, *amp, *eq;
	char			*key, *value;

	*out = NULL;
	*nout = 0;
	if (qs == NULL || *qs == '\0')
		return (0);
	if (strlen(qs) > HTTP_MAX_QUERY) {
		xasprintf(cause, "query string longer than %d bytes",
		    HTTP_MAX_QUERY);
		return (414);
	}
	for (p = qs; *p != '\0'; p = (*amp == '\0') ? amp : amp + 1) {
		amp = strchr(p, '&');
		if (amp == NULL)
			amp = p + strlen(p);
		if (amp == p)
			continue;
		eq = memchr(p, '=', (size_t)(amp - p));
		klen = (size_t)((eq != NULL ? eq : amp) - p);
		vlen = eq != NULL ? (size_t)(amp - eq - 1) : 0;
		if (n == HTTP_MAX_PARAMS) {
			xasprintf(cause, "more than %d query parameters",
			    HTTP_MAX_PARAMS);
			goto fail;
		}
		key = http_decode(p, klen, true);
		value = http_decode(eq != NULL ? eq + 1 : "", vlen, true);
		if (key == NULL || value == NULL) {
			free(key);
			free(value);
			xasprintf(cause, "invalid percent-encoding in the "
			    "query string");
			goto fail;
		}
		if (!util_utf8_valid(key, strlen(key)) ||
		    !util_utf8_valid(value, strlen(value))) {
			xasprintf(cause, "query parameter \"%.64s\" is not "
			    "valid UTF-8", util_utf8_valid(key, strlen(key)) ?
			    key : "?");
			free(key);
			free(value);
			goto fail;
		}
		params = xrealloc(params, (n + 1) * sizeof *params);
		params[n].key = key;
		params[n].value = value;
		n++;
	}
	*out = params;
	*nout = n;
	return (0);
fail:
	http_params_free(params, n);
	return (400);
}

const char *
http_req_env(const struct http_req *req, const char *name)
{
	char *const	*e;
	size_t		 len = strlen(name);

	if (req->env == NULL)
		return (NULL);
	for (e = req->env; *e != NULL; e++) {
		if (strncmp(*e, name, len) == 0 && (*e)[len] == '=')
			return (*e + len + 1);
	}
	return (NULL);
}

bool
http_req_is_json(const struct http_req *req)
{
	const char	*type = http_req_header(req, "Content-Type");

	return (type != NULL && strcspn(type, "; \t") == 16 &&
	    strncasecmp(type, "application/json", 16) == 0);
}

/* The media type of a header value, without parameters: its length. */
static size_t
http_media_len(const char *type)
{
	return (strcspn(type, "; \t,"));
}

enum http_body_kind
http_req_body_kind(const struct http_req *req)
{
	const char	*type = http_req_header(req, "Content-Type");
	size_t		 len;

	if (type == NULL)
		return (HTTP_BODY_GENERIC);
	while (*type == ' ' || *type == '\t')
		type++;
	if ((len = http_media_len(type)) == 0)
		return (HTTP_BODY_GENERIC);
	if ((len == 16 && strncasecmp(type, "application/json", 16) == 0) ||
	    (len > 17 && strncasecmp(type, "application/", 12) == 0 &&
	    strncasecmp(type + len - 5, "+json", 5) == 0))
		return (HTTP_BODY_JSON);
	if ((len == 24 && strncasecmp(type, "application/octet-stream",
	    24) == 0) || (len == 10 && strncasecmp(type, "text/plain",
	    10) == 0))
		return (HTTP_BODY_GENERIC);
	return (HTTP_BODY_OTHER);
}

/* The q of one media range's parameters (";q=0.5"): 0..1000. */
static int
http_range_q(const char *params, size_t len)
{
	const char	*p = params, *end = params + len;
	int		 q = 1000, scale = 100;

	for (; p < end; p++) {
		if (*p != ';')
			continue;
		p++;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (end - p < 2 || (*p != 'q' && *p != 'Q') || p[1] != '=')
			continue;
		p += 2;
		if (p >= end || (*p != '0' && *p != '1'))
			return (1000);
		q = (*p++ - '0') * 1000;
		if (p < end && *p == '.')
			for (p++; p < end && *p >= '0' && *p <= '9' &&
			    scale > 0; p++, scale /= 10)
				q += (*p - '0') * scale;
		return (q > 1000 ? 1000 : q);
	}
	return (q);
}

bool
http_accepts(const char *accept, const char *type)
{
	const char	*p, *end, *slash = strchr(type, '/');
	size_t		 len, tlen = strlen(type), major;

	if (accept == NULL)
		return (true);
	major = slash != NULL ? (size_t)(slash - type) : tlen;
	for (p = accept; *p != '\0'; p = *end == ',' ? end + 1 : end) {
		while (*p == ' ' || *p == '\t')
			p++;
		end = p + strcspn(p, ",");
		len = strcspn(p, ";, \t");
		if (http_range_q(p + len, (size_t)(end - p) - len) == 0)
			continue;
		if ((len == tlen && strncasecmp(p, type, tlen) == 0) ||
		    (len == 3 && strncmp(p, "*/*", 3) == 0) ||
		    (len == major + 2 && strncasecmp(p, type, major + 1) == 0 &&
		    p[major + 1] == '*'))
			return (true);
	}
	return (false);
}

bool
http_method_has_body(const char *method)
{
	return (strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 ||
	    strcmp(method, "PATCH") == 0);
}

const char *
http_req_header(const struct http_req *req, const char *name)
{
	char	key[128];
	size_t	i, off = 0;

	if (strcasecmp(name, "Content-Type") == 0)
		return (http_req_env(req, "CONTENT_TYPE"));
	if (strcasecmp(name, "Content-Length") == 0)
		return (http_req_env(req, "CONTENT_LENGTH"));
	memcpy(key, "HTTP_", 5);
	off = 5;
	for (i = 0; name[i] != '\0' && off < sizeof key - 1; i++)
		key[off++] = name[i] == '-' ? '_' :
		    (char)toupper((unsigned char)name[i]);
	key[off] = '\0';
	return (http_req_env(req, key));
}

const char *
http_req_query(const struct http_req *req, const char *key)
{
	size_t	i;

	for (i = 0; i < req->nquery; i++) {
		if (strcmp(req->query[i].key, key) == 0)
			return (req->query[i].value);
	}
	return (NULL);
}

const char *
http_req_path_arg(const struct http_req *req, const char *name)
{
	size_t	i;

	for (i = 0; i < req->npath_args; i++) {
		if (strcmp(req->path_names[i], name) == 0)
			return (req->path_args[i]);
	}
	return (NULL);
}

/* Total size of the HTTP_* params, the request headers as Caddy passed them. */
static size_t
http_headers_size(char *const *env)
{
	char *const	*e;
	size_t		 total = 0;

	if (env == NULL)
		return (0);
	for (e = env; *e != NULL; e++) {
		if (strncmp(*e, "HTTP_", 5) == 0)
			total += strlen(*e) - 5;
	}
	return (total);
}

/* An HTTP token (RFC 9110 §5.6.2), as a method must be. */
static bool
http_is_token(const char *s)
{
	if (*s == '\0')
		return (false);
	for (; *s != '\0'; s++) {
		if (!isalnum((unsigned char)*s) &&
		    strchr("!#$%&'*+-.^_`|~", *s) == NULL)
			return (false);
	}
	return (true);
}

int
http_req_init(struct http_req *req, char *const *env, char **cause)
{
	const char	*uri, *q, *method;
	size_t		 plen;

	memset(req, 0, sizeof *req);
	req->env = env;
	req->start_us = util_mono_us();
	req->log_upstream_ms = -1;

	method = http_req_env(req, "REQUEST_METHOD");
	req->method = method != NULL ? method : "GET";
	if (!http_is_token(req->method)) {
		req->method = "GET";
		req->path = xstrdup("/");
		xasprintf(cause, "the request method is not an HTTP token");
		return (400);
	}

	if (http_headers_size(env) > HTTP_MAX_HEADERS) {
		req->path = xstrdup("/");
		xasprintf(cause, "request headers larger than %d bytes",
		    HTTP_MAX_HEADERS);
		return (431);
	}
	uri = http_req_env(req, "REQUEST_URI");
	if (uri == NULL)
		uri = http_req_env(req, "SCRIPT_NAME");
	if (uri == NULL || *uri == '\0')
		uri = "/";
	q = strchr(uri, '?');
	plen = q != NULL ? (size_t)(q - uri) : strlen(uri);
	if (plen > HTTP_MAX_PATH) {
		req->path = xstrdup("/");
		xasprintf(cause, "path longer than %d bytes", HTTP_MAX_PATH);
		return (414);
	}
	req->path = http_decode(uri, plen, false);
	if (req->path == NULL || !util_utf8_valid(req->path,
	    strlen(req->path))) {
		free(req->path);
		req->path = xstrdup("/");
		xasprintf(cause, "invalid percent-encoding in the path");
		return (400);
	}
	if (req->path[0] != '/') {
		xasprintf(cause, "path must start with /");
		return (400);
	}
	return (http_parse_query(http_req_env(req, "QUERY_STRING"),
	    &req->query, &req->nquery, cause));
}

void
http_req_free(struct http_req *req)
{
	size_t	i;

	free(req->path);
	http_params_free(req->query, req->nquery);
	free(req->body);
	for (i = 0; i < req->npath_args; i++)
		free(req->path_args[i]);
	memset(req, 0, sizeof *req);
}

const char *
http_status_text(int status)
{
	switch (status) {
	case 200: return ("OK");
	case 201: return ("Created");
	case 202: return ("Accepted");
	case 204: return ("No Content");
	case 301: return ("Moved Permanently");
	case 302: return ("Found");
	case 303: return ("See Other");
	case 304: return ("Not Modified");
	case 400: return ("Bad Request");
	case 401: return ("Unauthorized");
	case 403: return ("Forbidden");
	case 404: return ("Not Found");
	case 405: return ("Method Not Allowed");
	case 406: return ("Not Acceptable");
	case 409: return ("Conflict");
	case 411: return ("Length Required");
	case 413: return ("Content Too Large");
	case 414: return ("URI Too Long");
	case 415: return ("Unsupported Media Type");
	case 422: return ("Unprocessable Content");
	case 429: return ("Too Many Requests");
	case 431: return ("Request Header Fields Too Large");
	case 500: return ("Internal Server Error");
	case 502: return ("Bad Gateway");
	case 503: return ("Service Unavailable");
	case 504: return ("Gateway Timeout");
	default: return ("Unknown");
	}
}

void
http_resp_init(struct http_resp *resp)
{
	memset(resp, 0, sizeof *resp);
	resp->status = 200;
	buf_init(&resp->headers);
	buf_init(&resp->body);
}

void
http_resp_free(struct http_resp *resp)
{
	free(resp->content_type);
	buf_free(&resp->headers);
	buf_free(&resp->body);
}

bool
http_resp_header(struct http_resp *resp, const char *name, const char *fmt,
    ...)
{
	va_list	 ap;
	char	*value;

	va_start(ap, fmt);
	xvasprintf(&value, fmt, ap);
	va_end(ap);
	if (strpbrk(value, "\r\n") != NULL || strpbrk(name, "\r\n: ") != NULL) {
		free(value);
		return (false);
	}
	buf_printf(&resp->headers, "%s: %s\r\n", name, value);
	free(value);
	return (true);
}

/* Types we declare "; charset=utf-8" for (http_resp_serialise). */
static bool
http_type_is_utf8(const char *type)
{
	return (strncmp(type, "text/", 5) == 0 ||
	    strcmp(type, "application/json") == 0);
}

/*
 * Text we declare UTF-8 is UTF-8: a stray byte (an echoed header, say)
 * becomes U+FFFD rather than break the client's decoder.
 */
/* Replace status, type and body with len bytes of text, as they are. */
static void
http_resp_body(struct http_resp *resp, int status, const char *type,
    const char *text, size_t len)
{
	resp->status = status;
	free(resp->content_type);
	resp->content_type = xstrdup(type);
	buf_reset(&resp->body);
	buf_append(&resp->body, text, len);
}

void
http_resp_text(struct http_resp *resp, int status, const char *type,
    const char *text)
{
	http_resp_body(resp, status, type, text, strlen(text));
	if (http_type_is_utf8(type))
		buf_utf8_repair(&resp->body);
}

void
http_resp_json_text(struct http_resp *resp, int status, const char *text,
    size_t len)
{
	http_resp_body(resp, status, "application/json", text, len);
}

void
http_resp_event(struct http_resp *resp, int status, const char *event,
    const char *data, size_t len)
{
	struct buf	b;

	buf_init(&b);
	buf_printf(&b, "event: %s\ndata: ", event);
	buf_append(&b, data, len);
	buf_puts(&b, "\n\n");
	http_resp_body(resp, status, "text/event-stream", b.data, b.len);
	buf_utf8_repair(&resp->body);
	buf_free(&b);
}

void
http_resp_json(struct http_resp *resp, int status, struct json_object *obj)
{
	const char	*s;
	size_t		 len;

	s = json_object_to_json_string_length(obj, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	http_resp_body(resp, status, "application/json", s, len);
	/* json-c copies bytes >= 0x80 as they are, valid or not. */
	buf_utf8_repair(&resp->body);
	json_object_put(obj);
}

void
http_resp_error(struct http_resp *resp, int status, const char *code,
    const char *field, const char *fmt, ...)
{
	struct json_object	*root, *err;
	va_list			 ap;
	char			*msg;

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);

	err = json_object_new_object();
	json_object_object_add(err, "code", json_object_new_string(code));
	json_object_object_add(err, "message", json_object_new_string(msg));
	if (field != NULL)
		json_object_object_add(err, "field",
		    json_object_new_string(field));
	root = json_object_new_object();
	json_object_object_add(root, "error", err);
	free(msg);
	http_resp_json(resp, status, root);
}

void
http_resp_serialise(const struct http_resp *resp, const char *request_id,
    struct buf *out)
{
	/* Fixed text with buf_puts: this runs for every response. */
	buf_puts(out, "Status: ");
	buf_put_ll(out, resp->status);
	buf_putc(out, ' ');
	buf_puts(out, http_status_text(resp->status));
	buf_puts(out, "\r\n");
	if (resp->content_type != NULL) {
		buf_puts(out, "Content-Type: ");
		buf_puts(out, resp->content_type);
		if (http_type_is_utf8(resp->content_type))
			buf_puts(out, "; charset=utf-8");
		buf_puts(out, "\r\n");
	}
	if (resp->status != 204 && resp->status != 304) {
		buf_puts(out, "Content-Length: ");
		buf_put_ll(out, (long long)resp->body.len);
		buf_puts(out, "\r\n");
	}
	if (request_id != NULL && *request_id != '\0') {
		buf_puts(out, "X-Request-ID: ");
		buf_puts(out, request_id);
		buf_puts(out, "\r\n");
	}
	buf_append(out, resp->headers.data, resp->headers.len);
	buf_puts(out, "\r\n");
	if (!resp->head_only)
		buf_append(out, resp->body.data, resp->body.len);
}
