/* unit.c: the helpers of unit.h shared by the Check unit tests. */
#include "autoconf.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "anilist.h"
#include "config.h"
#include "log.h"
#include "tool.h"
#include "unit.h"
#include "util.h"

/* How long the stand-in waits for the rest of a request. */
#define UNIT_READ_TIMEOUT_MS	5000

int
unit_run(Suite *suite)
{
	SRunner	*sr = srunner_create(suite);
	int	 failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}

char *
unit_srcdir_path(const char *rel)
{
	const char	*top = getenv("top_srcdir");
	char		*path;

	xasprintf(&path, "%s/%s", top != NULL ? top : ABS_TOP_SRCDIR, rel);
	return (path);
}

struct json_object *
unit_json_file(const char *rel)
{
	struct json_object	*o;
	char			*path = unit_srcdir_path(rel);

	o = json_object_from_file(path);
	ck_assert_msg(o != NULL, "cannot read JSON from %s: %s", path,
	    json_util_get_last_err());
	free(path);
	return (o);
}

struct json_object *
unit_json(const char *text)
{
	struct json_object	*o = json_tokener_parse(text);

	ck_assert_msg(o != NULL, "not JSON: %s", text);
	return (o);
}

static int	unit_devnull = -1;

void
unit_logs_quiet(void)
{
	if (unit_devnull == -1)
		unit_devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	ck_assert_int_ge(unit_devnull, 0);
	log_set_fd(unit_devnull);
	log_threshold = LOG_FATAL;
}

void
unit_logs_restore(void)
{
	log_set_fd(2);
	log_threshold = LOG_INFO;
	if (unit_devnull != -1)
		close(unit_devnull);
	unit_devnull = -1;
}

void
unit_config(void)
{
	config_free(cfg);
	cfg = config_create();
	unit_config_set("ENVIRONMENT", "development");
}

void
unit_config_set(const char *key, const char *value)
{
	char	*cause = NULL;

	ck_assert_msg(config_set(cfg, key, value, &cause), "%s = %s: %s", key,
	    value, cause);
}

void
unit_config_free(void)
{
	config_free(cfg);
	cfg = NULL;
}

struct unit_upstream {
	int		 fd;
	pthread_t	 thread;
	pthread_mutex_t	 lock;
	char		 url[64];
	/* Under lock: */
	bool		 stop;
	int		 status;
	char		*body;
	char		*last;
	int		 requests;
};

/* The value of Content-Length in a request head, 0 when there is none. */
static size_t
unit_content_length(const char *head)
{
	const char	*p;

	for (p = head; (p = strchr(p, '\n')) != NULL; p++) {
		if (strncasecmp(p + 1, "content-length:", 15) == 0)
			return ((size_t)strtoul(p + 16, NULL, 10));
	}
	return (0);
}

/* Read one request (head and body) from fd into b; false on EOF or a stall. */
static bool
unit_read_request(int fd, struct buf *b)
{
	struct pollfd	 pfd = { .fd = fd, .events = POLLIN };
	const char	*end;
	char		 chunk[4096];
	ssize_t		 n;

	for (;;) {
		end = b->data != NULL ? strstr(b->data, "\r\n\r\n") : NULL;
		if (end != NULL && b->len >= (size_t)(end + 4 - b->data) +
		    unit_content_length(b->data))
			return (true);
		if (poll(&pfd, 1, UNIT_READ_TIMEOUT_MS) != 1)
			return (false);
		if ((n = read(fd, chunk, sizeof chunk)) <= 0)
			return (false);
		buf_append(b, chunk, (size_t)n);
	}
}

/* Answer one connection with the canned reply, then close it. */
static void
unit_serve(struct unit_upstream *up, int fd)
{
	struct buf	 req, resp;
	const char	*text;

	buf_init(&req);
	buf_init(&resp);
	if (!unit_read_request(fd, &req))
		goto out;
	pthread_mutex_lock(&up->lock);
	free(up->last);
	up->last = buf_detach(&req);
	up->requests++;
	text = up->body != NULL ? up->body : "";
	buf_printf(&resp, "HTTP/1.1 %d Canned\r\nContent-Type: "
	    "application/json\r\nContent-Length: %zu\r\nConnection: close\r\n"
	    "\r\n%s", up->status, strlen(text), text);
	pthread_mutex_unlock(&up->lock);
	if (write(fd, resp.data, resp.len) != (ssize_t)resp.len)
		fprintf(stderr, "unit upstream: short write\n");
out:
	buf_free(&req);
	buf_free(&resp);
	close(fd);
}

static void *
unit_upstream_main(void *arg)
{
	struct unit_upstream	*up = arg;
	struct pollfd		 pfd = { .fd = up->fd, .events = POLLIN };
	bool			 stop;
	int			 c;

	for (;;) {
		pthread_mutex_lock(&up->lock);
		stop = up->stop;
		pthread_mutex_unlock(&up->lock);
		if (stop)
			break;
		if (poll(&pfd, 1, 50) != 1)
			continue;
		if ((c = accept(up->fd, NULL, NULL)) == -1)
			continue;
		unit_serve(up, c);
	}
	return (NULL);
}

struct unit_upstream *
unit_upstream_start(void)
{
	struct unit_upstream	*up = xcalloc(1, sizeof *up);
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof sin;

	pthread_mutex_init(&up->lock, NULL);
	up->status = 200;
	up->body = xstrdup("{\"data\":{}}");
	up->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(up->fd, 0);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(up->fd, (struct sockaddr *)&sin, len), 0);
	ck_assert_int_eq(getsockname(up->fd, (struct sockaddr *)&sin, &len),
	    0);
	ck_assert_int_eq(listen(up->fd, 16), 0);
	snprintf(up->url, sizeof up->url, "http://127.0.0.1:%u/",
	    (unsigned)ntohs(sin.sin_port));
	ck_assert_int_eq(pthread_create(&up->thread, NULL,
	    unit_upstream_main, up), 0);
	return (up);
}

const char *
unit_upstream_url(const struct unit_upstream *up)
{
	return (up->url);
}

void
unit_upstream_answer(struct unit_upstream *up, int status, const char *body)
{
	pthread_mutex_lock(&up->lock);
	free(up->body);
	up->body = xstrdup(body);
	up->status = status;
	pthread_mutex_unlock(&up->lock);
}

int
unit_upstream_requests(struct unit_upstream *up)
{
	int	n;

	pthread_mutex_lock(&up->lock);
	n = up->requests;
	pthread_mutex_unlock(&up->lock);
	return (n);
}

char *
unit_upstream_last_request(struct unit_upstream *up)
{
	char	*s;

	pthread_mutex_lock(&up->lock);
	s = up->last != NULL ? xstrdup(up->last) : NULL;
	pthread_mutex_unlock(&up->lock);
	return (s);
}

void
unit_upstream_stop(struct unit_upstream *up)
{
	if (up == NULL)
		return;
	pthread_mutex_lock(&up->lock);
	up->stop = true;
	pthread_mutex_unlock(&up->lock);
	pthread_join(up->thread, NULL);
	close(up->fd);
	pthread_mutex_destroy(&up->lock);
	free(up->body);
	free(up->last);
	free(up);
}

const struct tool_auth unit_signed_in = {
	.user_id = 1,
	.anilist_id = 5001,
	.name = "sampleuser",
	.anilist_token = "sample-token",
	.scope = "user:1",
};

struct unit_upstream *
unit_tools_start(void)
{
	struct unit_upstream	*up = unit_upstream_start();
	char			*cause = NULL;

	unit_config();
	unit_config_set("MEMCACHED_SERVERS", "");
	unit_config_set("ANILIST_API_URL", unit_upstream_url(up));
	unit_config_set("UPSTREAM_RETRIES", "0");
	unit_logs_quiet();
	ck_assert_int_eq(curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_OK);
	ck_assert_msg(tool_init(&cause), "tool_init: %s", cause);
	return (up);
}

void
unit_tools_stop(struct unit_upstream *up)
{
	anilist_thread_cleanup();
	curl_global_cleanup();
	unit_upstream_stop(up);
	unit_logs_restore();
	unit_config_free();
}

struct json_object *
unit_tool_invoke(const char *name, const char *args,
    const struct tool_auth *auth, struct tool_call *call)
{
	const struct tool	*t = tool_find(name);
	struct json_object	*a, *result;

	ck_assert_msg(t != NULL, "no tool %s", name);
	a = unit_json(args);
	result = tool_invoke(t, a, auth, call);
	json_object_put(a);
	return (result);
}

struct json_object *
unit_get(struct json_object *o, const char *key)
{
	struct json_object	*v = NULL;

	if (o != NULL)
		json_object_object_get_ex(o, key, &v);
	return (v);
}

long long
unit_get_int(struct json_object *o, const char *key)
{
	struct json_object	*v = unit_get(o, key);

	ck_assert_msg(json_object_is_type(v, json_type_int), "%s: %s", key,
	    json_object_to_json_string(o));
	return (json_object_get_int64(v));
}

const char *
unit_get_str(struct json_object *o, const char *key)
{
	return (json_object_get_string(unit_get(o, key)));
}
