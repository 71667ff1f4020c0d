/* test_metrics.c: the Prometheus exposition, the shared registry across processes, statsd lines and batching. */
#include "autoconf.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "metrics.h"
#include "util.h"

static int	udp_fd = -1;

static void
setup(void)
{
	cfg = config_create();
	free(cfg->statsd_host);
	cfg->statsd_host = xstrdup("");
	/* Each request's lines sent when it ends, unless a test batches. */
	cfg->statsd_flush_ms = 0;
	log_set_fd(open("/dev/null", O_WRONLY));
}

static void
teardown(void)
{
	metrics_process_shutdown();
	config_free(cfg);
	cfg = NULL;
	if (udp_fd != -1)
		close(udp_fd);
	udp_fd = -1;
}

/* The exposition as text; caller frees. */
static char *
exposition(void)
{
	struct buf	b;

	buf_init(&b);
	buf_append(&b, "", 0);
	metrics_expose(&b);
	return (buf_detach(&b));
}

/* The value on the sample line that starts with "name{labels} ". */
static double
sample(const char *text, const char *series)
{
	const char	*p = text;
	size_t		 n = strlen(series);

	while ((p = strstr(p, series)) != NULL) {
		if ((p == text || p[-1] == '\n') && p[n] == ' ')
			return (strtod(p + n + 1, NULL));
		p += n;
	}
	return (-1);
}

/* A statsd listener on a free loopback port, and the config pointing at it. */
static void
statsd_listen(void)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof sin;

	udp_fd = socket(AF_INET, SOCK_DGRAM, 0);
	ck_assert_int_ge(udp_fd, 0);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(udp_fd, (struct sockaddr *)&sin, sizeof sin), 0);
	ck_assert_int_eq(getsockname(udp_fd, (struct sockaddr *)&sin, &len),
	    0);
	free(cfg->statsd_host);
	cfg->statsd_host = xstrdup("127.0.0.1");
	cfg->statsd_port = ntohs(sin.sin_port);
}

/* The next datagram, or NULL when none is waiting; caller frees. */
static char *
datagram(void)
{
	char	pkt[65536];
	ssize_t	n;
	int	tries;

	for (tries = 0; tries < 50; tries++) {
		n = recv(udp_fd, pkt, sizeof pkt - 1, MSG_DONTWAIT);
		if (n >= 0) {
			pkt[n] = '\0';
			return (xstrdup(pkt));
		}
		if (tries == 0)
			continue;
		usleep(2000);
	}
	return (NULL);
}

static void
request(const char *route, const char *method, int status)
{
	metrics_request_begin();
	metrics_request_end(route, method, status, util_mono_us());
}

START_TEST(test_requests_are_counted_by_route_method_and_status)
{
	char	*t;

	ck_assert(metrics_shared_init());
	metrics_process_init(false);
	request("/health", "GET", 200);
	request("/health", "GET", 200);
	request("/health", "HEAD", 200);
	request("unmatched", "GET", 404);
	request("/health", "BREW", 200);
	t = exposition();
	ck_assert_double_eq(sample(t, "http_requests_total{route=\"/health\","
	    "method=\"GET\",status=\"200\"}"), 2);
	ck_assert_double_eq(sample(t, "http_requests_total{route=\"/health\","
	    "method=\"HEAD\",status=\"200\"}"), 1);
	ck_assert_double_eq(sample(t, "http_requests_total{route=\"unmatched\","
	    "method=\"GET\",status=\"404\"}"), 1);
	/* Unknown methods share one label value: bounded cardinality. */
	ck_assert_double_eq(sample(t, "http_requests_total{route=\"/health\","
	    "method=\"other\",status=\"200\"}"), 1);
	ck_assert_double_eq(sample(t, "http_request_duration_seconds_count{"
	    "route=\"/health\"}"), 4);
	ck_assert_double_eq(sample(t, "http_in_flight_requests"), 0);
	free(t);
}
END_TEST

START_TEST(test_histogram_buckets_are_cumulative_and_count_is_inf)
{
	char	*t;

	ck_assert(metrics_shared_init());
	metrics_process_init(false);
	metrics_request_begin();
	metrics_request_end("/slow", "GET", 200, util_mono_us() - 300000);
	metrics_request_begin();
	metrics_request_end("/slow", "GET", 200, util_mono_us() - 20000);
	metrics_tool("search_anime", "ok", 12.0);
	t = exposition();
	ck_assert_double_eq(sample(t, "http_request_duration_seconds_bucket{"
	    "route=\"/slow\",le=\"0.01\"}"), 0);
	ck_assert_double_eq(sample(t, "http_request_duration_seconds_bucket{"
	    "route=\"/slow\",le=\"0.025\"}"), 1);
	ck_assert_double_eq(sample(t, "http_request_duration_seconds_bucket{"
	    "route=\"/slow\",le=\"0.25\"}"), 1);
	ck_assert_double_eq(sample(t, "http_request_duration_seconds_bucket{"
	    "route=\"/slow\",le=\"0.5\"}"), 2);
	ck_assert_double_eq(sample(t, "http_request_duration_seconds_bucket{"
	    "route=\"/slow\",le=\"+Inf\"}"), 2);
	ck_assert_double_eq(sample(t, "http_request_duration_seconds_count{"
	    "route=\"/slow\"}"), 2);
	ck_assert_double_ge(sample(t, "http_request_duration_seconds_sum{"
	    "route=\"/slow\"}"), 0.32);
	ck_assert_double_lt(sample(t, "http_request_duration_seconds_sum{"
	    "route=\"/slow\"}"), 0.5);
	/* Above the last bucket: only +Inf has it. */
	ck_assert_double_eq(sample(t, "tool_duration_seconds_bucket{"
	    "tool=\"search_anime\",le=\"10\"}"), 0);
	ck_assert_double_eq(sample(t, "tool_duration_seconds_bucket{"
	    "tool=\"search_anime\",le=\"+Inf\"}"), 1);
	free(t);
}
END_TEST

/* Every line is a comment or "name{labels} value", each family declared once before its samples. */
START_TEST(test_exposition_is_well_formed)
{
	regex_t		 re;
	char		*t, *line, *save, family[128], *seen, *more;
	size_t		 n;

	ck_assert(metrics_shared_init());
	metrics_process_init(false);
	request("/health", "GET", 200);
	metrics_cache("media", "hit");
	metrics_oauth("failure", "state_mismatch");
	metrics_upstream("ok", 0.2);
	metrics_upstream_ratelimit(77);
	metrics_db_pool(2, 3);
	metrics_user("0123456789abcdef");
	ck_assert_int_eq(regcomp(&re, "^[a-zA-Z_:][a-zA-Z0-9_:]*"
	    "(\\{([a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\]|\\\\.)*\",?)*\\})?"
	    " [-+]?([0-9.eE+-]+|\\+Inf|NaN)$", REG_EXTENDED | REG_NOSUB), 0);
	t = exposition();
	seen = xstrdup(" ");
	for (line = strtok_r(t, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "# HELP ", 7) == 0) {
			n = strcspn(line + 7, " ");
			snprintf(family, sizeof family, " %.*s ", (int)n,
			    line + 7);
			ck_assert_msg(strstr(seen, family) == NULL,
			    "family twice: %s", family);
			xasprintf(&more, "%s%s", seen, family + 1);
			free(seen);
			seen = more;
			continue;
		}
		if (strncmp(line, "# TYPE ", 7) == 0)
			continue;
		ck_assert_msg(regexec(&re, line, 0, NULL, 0) == 0,
		    "bad sample line: %s", line);
		/* A sample belongs to the family declared last. */
		ck_assert_msg(strncmp(line, family + 1, strlen(family) - 2) ==
		    0, "%s outside its family %s", line, family);
	}
	regfree(&re);
	free(seen);
	free(t);
	t = exposition();
	ck_assert_double_eq(sample(t, "anilist_ratelimit_remaining"), 77);
	ck_assert_double_eq(sample(t,
	    "db_pool_connections{state=\"in_use\"}"), 2);
	ck_assert_double_eq(sample(t, "db_pool_connections{state=\"idle\"}"),
	    3);
	ck_assert_double_eq(sample(t, "oauth_logins_total{result=\"failure\","
	    "reason=\"state_mismatch\"}"), 1);
	ck_assert_ptr_nonnull(strstr(t, "# TYPE http_request_duration_seconds "
	    "histogram\n"));
	ck_assert_ptr_nonnull(strstr(t, "# TYPE process_cpu_seconds_total "
	    "counter\n"));
	ck_assert_double_gt(sample(t,
	    "process_resident_memory_bytes{process=\"worker-0\"}"), 0);
	free(t);
}
END_TEST

START_TEST(test_label_values_are_escaped_and_cut)
{
	char	*t, longv[100];

	ck_assert(metrics_shared_init());
	metrics_cache("a\"b\\c", "line\nbreak");
	memset(longv, 'x', sizeof longv - 1);
	longv[sizeof longv - 1] = '\0';
	metrics_feedback(longv);
	metrics_feedback("caf\xc3\xa9");
	t = exposition();
	ck_assert_double_eq(sample(t, "cache_requests_total{kind=\"a\\\"b\\\\c\","
	    "result=\"line\\nbreak\"}"), 1);
	ck_assert_double_eq(sample(t, "recommendation_feedback_total{action=\""
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}"), 1);
	ck_assert_double_eq(sample(t,
	    "recommendation_feedback_total{action=\"caf__\"}"), 1);
	free(t);
}
END_TEST

START_TEST(test_unlabelled_series_exist_before_any_event)
{
	char		*t;
	const char	*names[] = {
		"worker_restarts_total", "search_queries_total",
		"search_zero_results_total", "db_errors_total",
		"anilist_request_duration_seconds_count",
		"db_pool_wait_seconds_count", "workers_alive", "active_users",
		"anilist_breaker_state", "http_in_flight_requests",
		"metrics_series_dropped_total", "http_rate_limited_total"
	};
	size_t		 i;

	ck_assert(metrics_shared_init());
	t = exposition();
	for (i = 0; i < nitems(names); i++)
		ck_assert_msg(sample(t, names[i]) == 0, "%s", names[i]);
	free(t);
}
END_TEST

/* What workers count lands in the one registry the master mapped. */
START_TEST(test_registry_is_shared_by_forked_workers)
{
	pid_t	pids[3];
	char	*t;
	int	i, j, status;

	ck_assert(metrics_shared_init());
	metrics_process_init(true);
	for (i = 0; i < 3; i++) {
		if ((pids[i] = fork()) == 0) {
			metrics_process_init(false);
			for (j = 0; j < 1000; j++)
				request("/health", "GET", 200);
			metrics_search(j % 2 == 0);
			_exit(0);
		}
		ck_assert_int_gt(pids[i], 0);
	}
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
		ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		metrics_process_exited(pids[i]);
	}
	metrics_worker_restart();
	metrics_workers_alive(3);
	t = exposition();
	ck_assert_double_eq(sample(t, "http_requests_total{route=\"/health\","
	    "method=\"GET\",status=\"200\"}"), 3000);
	ck_assert_double_eq(sample(t, "http_request_duration_seconds_bucket{"
	    "route=\"/health\",le=\"+Inf\"}"), 3000);
	ck_assert_double_eq(sample(t, "search_queries_total"), 3);
	ck_assert_double_eq(sample(t, "search_zero_results_total"), 3);
	ck_assert_double_eq(sample(t, "worker_restarts_total"), 1);
	ck_assert_double_eq(sample(t, "workers_alive"), 3);
	/* The exited workers' processes are gone from the list. */
	ck_assert_ptr_null(strstr(t, "process=\"worker-"));
	ck_assert_ptr_nonnull(strstr(t, "process=\"master\""));
	free(t);
}
END_TEST

/* A worker that dies mid-request leaves no phantom in-flight request. */
START_TEST(test_dead_worker_in_flight_is_dropped_counts_kept)
{
	pid_t	pid;
	char	*t;
	int	status;

	ck_assert(metrics_shared_init());
	if ((pid = fork()) == 0) {
		metrics_process_init(false);
		request("/health", "GET", 200);
		metrics_request_begin();
		metrics_db_pool(4, 0);
		_exit(1);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	t = exposition();
	ck_assert_double_eq(sample(t, "http_in_flight_requests"), 1);
	ck_assert_double_eq(sample(t,
	    "db_pool_connections{state=\"in_use\"}"), 4);
	free(t);
	metrics_process_exited(pid);
	t = exposition();
	ck_assert_double_eq(sample(t, "http_in_flight_requests"), 0);
	ck_assert_double_eq(sample(t,
	    "db_pool_connections{state=\"in_use\"}"), 0);
	ck_assert_double_eq(sample(t, "http_requests_total{route=\"/health\","
	    "method=\"GET\",status=\"200\"}"), 1);
	free(t);
}
END_TEST

START_TEST(test_full_registry_drops_and_counts)
{
	char	name[32], *t;
	int	i;

	ck_assert(metrics_shared_init());
	for (i = 0; i < METRICS_MAX_SERIES + 500; i++) {
		snprintf(name, sizeof name, "tool%d", i);
		metrics_tool(name, "ok", -1);
	}
	metrics_tool("tool1", "ok", -1);
	t = exposition();
	ck_assert_double_ge(sample(t, "metrics_series_dropped_total"), 500);
	ck_assert_double_eq(sample(t,
	    "tool_calls_total{tool=\"tool1\",result=\"ok\"}"), 2);
	free(t);
}
END_TEST

START_TEST(test_disabled_metrics_map_nothing)
{
	char	*t;

	cfg->metrics_enabled = false;
	ck_assert(!metrics_shared_init());
	metrics_process_init(false);
	ck_assert(!metrics_enabled());
	request("/health", "GET", 200);
	metrics_cache("media", "hit");
	metrics_user("abc");
	metrics_db_pool(1, 1);
	t = exposition();
	ck_assert_str_eq(t, "");
	free(t);
}
END_TEST

START_TEST(test_active_users_counts_distinct_hashes)
{
	char	id[17];
	int	i, round;

	ck_assert(metrics_shared_init());
	ck_assert_double_eq(metrics_active_users(), 0);
	for (round = 0; round < 3; round++) {
		for (i = 0; i < 40; i++) {
			snprintf(id, sizeof id, "%016x", i * 7919);
			metrics_user(id);
		}
	}
	ck_assert_double_ge(metrics_active_users(), 38);
	ck_assert_double_le(metrics_active_users(), 42);
	for (i = 0; i < 3; i++)
		metrics_user("only-one-more");
	ck_assert_double_ge(metrics_active_users(), 39);
	ck_assert_double_le(metrics_active_users(), 43);
}
END_TEST

START_TEST(test_statsd_line_plain_and_tagged)
{
	struct buf	b;

	buf_init(&b);
	metrics_statsd_line(&b, "http.requests", "1", "c",
	    "route:/health,status:200", true);
	buf_putc(&b, '\n');
	metrics_statsd_line(&b, "http.requests", "1", "c",
	    "route:/health,status:200", false);
	buf_putc(&b, '\n');
	metrics_statsd_line(&b, "users.active", "abc", "s", NULL, true);
	ck_assert_str_eq(b.data,
	    "anilist_gpt.http.requests:1|c|#route:/health,status:200\n"
	    "anilist_gpt.http.requests:1|c\n"
	    "anilist_gpt.users.active:abc|s");
	buf_free(&b);
}
END_TEST

START_TEST(test_statsd_component_from_route_pattern)
{
	static const struct {
		const char	*in;
		const char	*out;
	} cases[] = {
		{ "/", "root" },
		{ "/health", "health" },
		{ "/health/ready", "health_ready" },
		{ "/v1/anime/{id}", "v1_anime_id" },
		{ "unmatched", "unmatched" },
		{ "", "none" },
		{ "state mismatch.x", "state_mismatch_x" },
	};
	char	out[64];
	size_t	i;

	for (i = 0; i < nitems(cases); i++) {
		metrics_statsd_component(out, sizeof out, cases[i].in);
		ck_assert_str_eq(out, cases[i].out);
	}
}
END_TEST

/* A request's lines leave in one datagram when the request ends. */
START_TEST(test_statsd_request_lines_are_one_datagram)
{
	const char	*want =
	    "anilist_gpt.cache.media.hit:1|c\n"
	    "anilist_gpt.anilist.requests.ratelimited:1|c\n"
	    "anilist_gpt.http.requests.v1_anime_id.GET.2xx:1|c\n"
	    "anilist_gpt.http.response_time.v1_anime_id:";
	char		*p;

	statsd_listen();
	ck_assert(metrics_shared_init());
	metrics_process_init(false);
	metrics_request_begin();
	metrics_cache("media", "hit");
	metrics_upstream("ratelimited", -1);
	ck_assert_ptr_null(datagram());		/* held until the end */
	metrics_request_end("/v1/anime/{id}", "GET", 200, util_mono_us());
	p = datagram();
	ck_assert_ptr_nonnull(p);
	ck_assert_msg(strncmp(p, want, strlen(want)) == 0, "%s", p);
	ck_assert_ptr_nonnull(strstr(p, "|ms\nanilist_gpt.http.in_flight:0|g"));
	ck_assert_ptr_null(strchr(p + strlen(p) - 1, '\n'));
	free(p);
	ck_assert_ptr_null(datagram());
}
END_TEST

START_TEST(test_statsd_dogstatsd_tags)
{
	const char	*want =
	    "svc.tools.calls:1|c|#tool:search_anime,result:ok\n"
	    "svc.tools.time:5.000|ms|#tool:search_anime\n"
	    "svc.http.requests:1|c|#route:/health,method:GET,status:503\n"
	    "svc.http.response_time:";
	char		*p;

	statsd_listen();
	free(cfg->statsd_tags);
	cfg->statsd_tags = xstrdup("dogstatsd");
	free(cfg->statsd_prefix);
	cfg->statsd_prefix = xstrdup("svc.");
	metrics_process_init(false);
	metrics_request_begin();
	metrics_tool("search_anime", "ok", 0.005);
	metrics_request_end("/health", "GET", 503, util_mono_us());
	p = datagram();
	ck_assert_ptr_nonnull(p);
	ck_assert_msg(strncmp(p, want, strlen(want)) == 0, "%s", p);
	ck_assert_ptr_nonnull(strstr(p, "|ms|#route:/health"));
	/* No registry mapped: no in-flight gauge to report. */
	ck_assert_ptr_null(strstr(p, "in_flight"));
	free(p);
}
END_TEST

/*
 * A label set's series and line are worked out once per thread: values are
 * told apart by their text (one buffer reused for two values counts two
 * series), every event still counts and sends, and a new prefix (a
 * reload) makes new lines.
 */
START_TEST(test_event_memo_by_value_text)
{
	char	 tool[16], want[256], *t, *p;
	int	 i;

	statsd_listen();
	ck_assert(metrics_shared_init());
	metrics_process_init(false);
	for (i = 0; i < 3; i++) {
		snprintf(tool, sizeof tool, "%s", i == 1 ? "tool_b" :
		    "tool_a");
		metrics_request_begin();
		metrics_tool(tool, "ok", 0.002);
		metrics_cache("media", i == 2 ? "miss" : "hit");
		metrics_request_end("/health", "GET", 200, util_mono_us());
		p = datagram();
		ck_assert_ptr_nonnull(p);
		snprintf(want, sizeof want,
		    "anilist_gpt.tools.calls.%s.ok:1|c\n"
		    "anilist_gpt.tools.time.%s:2.000|ms\n"
		    "anilist_gpt.cache.media.%s:1|c\n", tool, tool,
		    i == 2 ? "miss" : "hit");
		ck_assert_msg(strncmp(p, want, strlen(want)) == 0, "%s", p);
		free(p);
	}
	t = exposition();
	ck_assert_double_eq(sample(t,
	    "tool_calls_total{tool=\"tool_a\",result=\"ok\"}"), 2);
	ck_assert_double_eq(sample(t,
	    "tool_calls_total{tool=\"tool_b\",result=\"ok\"}"), 1);
	ck_assert_double_eq(sample(t,
	    "cache_requests_total{kind=\"media\",result=\"hit\"}"), 2);
	ck_assert_double_eq(sample(t,
	    "cache_requests_total{kind=\"media\",result=\"miss\"}"), 1);
	free(t);
	free(cfg->statsd_prefix);
	cfg->statsd_prefix = xstrdup("svc.");
	metrics_request_begin();
	metrics_tool("tool_a", "ok", 0.001);
	metrics_request_end("/health", "GET", 200, util_mono_us());
	p = datagram();
	ck_assert_ptr_nonnull(p);
	ck_assert_msg(strncmp(p, "svc.tools.calls.tool_a.ok:1|c\n"
	    "svc.tools.time.tool_a:1.000|ms\n", 53) == 0, "%s", p);
	free(p);
}
END_TEST

/* Many lines: several datagrams, none over the limit, no line split. */
START_TEST(test_statsd_batches_split_at_packet_size)
{
	char	*p, *line, *save;
	int	lines = 0, packets = 0, i;

	statsd_listen();
	metrics_process_init(false);
	metrics_request_begin();
	for (i = 0; i < 200; i++)
		metrics_cache("media", "miss");
	metrics_request_end("/health", "GET", 200, util_mono_us());
	while ((p = datagram()) != NULL) {
		packets++;
		ck_assert_uint_le(strlen(p), METRICS_PACKET_MAX);
		for (line = strtok_r(p, "\n", &save); line != NULL;
		    line = strtok_r(NULL, "\n", &save)) {
			ck_assert_msg(strchr(line, ':') != NULL &&
			    strchr(line, '|') != NULL, "split line %s", line);
			lines++;
		}
		free(p);
	}
	ck_assert_int_eq(lines, 202);
	ck_assert_int_ge(packets, 5);
	ck_assert_int_le(packets, 7);
}
END_TEST

/* Outside a request each call is sent at once. */
START_TEST(test_statsd_outside_request_sends_at_once)
{
	char	*p;

	statsd_listen();
	metrics_process_init(false);
	metrics_user("0123456789abcdef");
	p = datagram();
	ck_assert_str_eq(p, "anilist_gpt.users.active:0123456789abcdef|s");
	free(p);
}
END_TEST

/* A closed port (ICMP refusals) or an unknown host changes nothing. */
START_TEST(test_statsd_unreachable_never_delays)
{
	static const char *hosts[] = { "127.0.0.1", "statsd.invalid",
	    "127.0.0.1", "statsd.invalid" };
	uint64_t	t0;
	size_t		h;
	int		i;

	for (h = 0; h < nitems(hosts); h++) {
		statsd_listen();
		cfg->statsd_flush_ms = h < 2 ? 0 : 100;
		close(udp_fd);		/* nobody listens there now */
		udp_fd = -1;
		free(cfg->statsd_host);
		cfg->statsd_host = xstrdup(hosts[h]);
		ck_assert(metrics_shared_init());
		metrics_process_init(false);
		t0 = util_mono_ms();
		for (i = 0; i < 2000; i++)
			request("/health", "GET", 200);
		ck_assert_uint_lt(util_mono_ms() - t0, 1000);
		metrics_process_shutdown();
	}
}
END_TEST

/* Every datagram left: its lines appended to *lines, counted per text. */
struct statsd_seen {
	int	packets;
	int	lines;
	int	largest;
};

static void
statsd_drain(struct statsd_seen *seen, const char *needle, int *needles)
{
	char	*p, *line, *save;

	while ((p = datagram()) != NULL) {
		seen->packets++;
		if ((int)strlen(p) > seen->largest)
			seen->largest = (int)strlen(p);
		for (line = strtok_r(p, "\n", &save); line != NULL;
		    line = strtok_r(NULL, "\n", &save)) {
			ck_assert_msg(strchr(line, ':') != NULL &&
			    strchr(line, '|') != NULL, "split line %s", line);
			seen->lines++;
			if (needle != NULL && strcmp(line, needle) == 0)
				(*needles)++;
		}
		free(p);
	}
}

/* Batching: requests share a datagram, sent once the first line is due. */
START_TEST(test_statsd_requests_share_a_datagram_until_flush_interval)
{
	const char	*want = "anilist_gpt.http.requests.health.GET.2xx:1|c\n"
	    "anilist_gpt.http.response_time.health:";
	uint64_t	 t0;
	char		*p, *q;
	int		 i, lines = 1;

	statsd_listen();
	cfg->statsd_flush_ms = 400;
	metrics_process_init(false);
	t0 = util_mono_ms();
	for (i = 0; i < 5; i++)
		request("/health", "GET", 200);
	metrics_user("0123456789abcdef");	/* outside a request: same path */
	ck_assert_ptr_null(datagram());		/* ~100 ms: still waiting */
	while ((p = datagram()) == NULL && util_mono_ms() - t0 < 2000)
		;
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_ge(util_mono_ms() - t0, 400);
	ck_assert_uint_lt(util_mono_ms() - t0, 900);
	for (q = p; (q = strchr(q, '\n')) != NULL; q++)
		lines++;
	ck_assert_int_eq(lines, 11);
	ck_assert_msg(strncmp(p, want, strlen(want)) == 0, "%s", p);
	ck_assert_str_eq(strrchr(p, '\n') + 1,
	    "anilist_gpt.users.active:0123456789abcdef|s");
	free(p);
	ck_assert_ptr_null(datagram());
}
END_TEST

/* A datagram that cannot take the next request's lines leaves at once. */
START_TEST(test_statsd_full_datagram_leaves_without_waiting)
{
	struct statsd_seen	seen = { 0, 0, 0 };
	uint64_t		t0;
	char			*p;
	int			i;

	statsd_listen();
	cfg->statsd_flush_ms = 10000;
	metrics_process_init(false);
	t0 = util_mono_ms();
	for (i = 0; i < 20; i++)		/* 13 fit in one datagram */
		request("/v1/anime/search", "GET", 200);
	p = datagram();
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_lt(util_mono_ms() - t0, 5000);
	/* Full: the next request's two lines did not fit. */
	ck_assert_uint_le(strlen(p), METRICS_PACKET_MAX);
	ck_assert_uint_gt(strlen(p), METRICS_PACKET_MAX - 2 * 64);
	free(p);
	seen.packets = 1;
	statsd_drain(&seen, NULL, NULL);
	ck_assert_int_eq(seen.packets, 1);	/* the rest still waits */
	/* Shutdown (a worker's drain) sends what waits. */
	metrics_process_shutdown();
	statsd_drain(&seen, NULL, NULL);
	ck_assert_int_eq(seen.packets, 2);
	ck_assert_int_le(seen.largest, METRICS_PACKET_MAX);
}
END_TEST

static void *
statsd_requests_thread(void *arg)
{
	int	i;

	for (i = 0; i < 100; i++)
		request("/health", "GET", 200);
	return (NULL);
}

/* Threads fill one datagram together: every line exactly once, none cut. */
START_TEST(test_statsd_threads_batch_every_line_once)
{
	struct statsd_seen	seen = { 0, 0, 0 };
	pthread_t		t[4];
	int			i, users = 0;

	statsd_listen();
	cfg->statsd_flush_ms = 50;
	metrics_process_init(false);
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL,
		    statsd_requests_thread, NULL), 0);
	metrics_user("feedfacefeedface");
	for (i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	metrics_process_shutdown();
	statsd_drain(&seen, "anilist_gpt.users.active:feedfacefeedface|s",
	    &users);
	ck_assert_int_eq(seen.lines, 4 * 100 * 2 + 1);
	ck_assert_int_eq(users, 1);
	ck_assert_int_le(seen.largest, METRICS_PACKET_MAX);
	/* About 12 requests of 2 lines a datagram: far fewer than 400. */
	ck_assert_int_le(seen.packets, 4 * 100 / 8);
}
END_TEST

/*
 * The master forks with lines waiting: the worker neither sends them again
 * nor waits for a flusher thread it does not have.
 */
START_TEST(test_statsd_forked_child_leaves_parent_lines_to_parent)
{
	struct statsd_seen	seen = { 0, 0, 0 };
	pid_t			pid;
	int			status, parent = 0, child = 0;

	statsd_listen();
	cfg->statsd_flush_ms = 10000;
	metrics_process_init(true);
	metrics_user("aaaaaaaaaaaaaaaa");
	/*
	 * Let the flusher thread finish starting before the fork: under
	 * ASan a thread being created holds the sanitizer allocator's lock,
	 * and a child forked then hangs in its first malloc (glibc's own
	 * malloc is fork-safe; the sanitizer's, in GCC 12, is not).
	 */
	usleep(200 * 1000);
	if ((pid = fork()) == 0) {
		alarm(10);
		metrics_user("bbbbbbbbbbbbbbbb");	/* before its init: sent */
		metrics_process_init(false);
		request("/health", "GET", 200);
		metrics_process_shutdown();
		_exit(0);
	}
	ck_assert_int_gt(pid, 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	statsd_drain(&seen, "anilist_gpt.users.active:bbbbbbbbbbbbbbbb|s",
	    &child);
	ck_assert_int_eq(child, 1);
	ck_assert_int_eq(seen.lines, 1 + 2);
	metrics_process_shutdown();
	statsd_drain(&seen, "anilist_gpt.users.active:aaaaaaaaaaaaaaaa|s",
	    &parent);
	ck_assert_int_eq(parent, 1);
	ck_assert_int_eq(seen.lines, 1 + 2 + 1);
}
END_TEST

/* The memcached and PostgreSQL round trips: histograms on the shared buckets, every op from 0. */
START_TEST(test_round_trip_histograms)
{
	char	*t;

	ck_assert(metrics_shared_init());
	t = exposition();
	ck_assert_double_eq(sample(t, "memcached_request_duration_seconds_count"
	    "{op=\"decr\"}"), 0);
	ck_assert_double_eq(sample(t, "db_query_duration_seconds_count"), 0);
	free(t);
	metrics_memcached("get", 0.002);
	metrics_memcached("get", 0.2);
	metrics_db_query(0.03);
	t = exposition();
	ck_assert_double_eq(sample(t, "memcached_request_duration_seconds_"
	    "bucket{op=\"get\",le=\"0.0025\"}"), 1);
	ck_assert_double_eq(sample(t, "memcached_request_duration_seconds_"
	    "bucket{op=\"get\",le=\"0.25\"}"), 2);
	ck_assert_double_eq(sample(t, "memcached_request_duration_seconds_"
	    "count{op=\"get\"}"), 2);
	ck_assert_double_eq(sample(t, "memcached_request_duration_seconds_"
	    "count{op=\"set\"}"), 0);
	ck_assert_double_eq(sample(t, "db_query_duration_seconds_bucket{"
	    "le=\"0.025\"}"), 0);
	ck_assert_double_eq(sample(t, "db_query_duration_seconds_bucket{"
	    "le=\"0.05\"}"), 1);
	ck_assert(sample(t, "db_query_duration_seconds_sum") > 0.029);
	free(t);
}
END_TEST

/* statvfs of each METRICS_DISK_PATHS path; a missing one has no sample. */
START_TEST(test_disk_space_of_configured_paths)
{
	struct statvfs	 sv;
	char		 dir[] = "/tmp/test_metrics.XXXXXX", *t, *series;
	double		 avail, size;

	ck_assert(metrics_shared_init());
	ck_assert_ptr_nonnull(mkdtemp(dir));
	free(cfg->metrics_disk_paths);
	xasprintf(&cfg->metrics_disk_paths, " %s , /no/such/dir,/", dir);
	t = exposition();
	ck_assert_ptr_nonnull(strstr(t, "# TYPE filesystem_avail_bytes gauge\n"));
	ck_assert_ptr_nonnull(strstr(t, "# TYPE filesystem_size_bytes gauge\n"));
	ck_assert_ptr_null(strstr(t, "/no/such/dir"));
	ck_assert_int_eq(statvfs(dir, &sv), 0);
	xasprintf(&series, "filesystem_size_bytes{path=\"%s\"}", dir);
	size = sample(t, series);
	ck_assert_double_eq(size, (double)sv.f_blocks * (double)sv.f_frsize);
	free(series);
	xasprintf(&series, "filesystem_avail_bytes{path=\"%s\"}", dir);
	avail = sample(t, series);
	ck_assert(avail > 0 && avail <= size);
	free(series);
	ck_assert(sample(t, "filesystem_avail_bytes{path=\"/\"}") > 0);
	ck_assert(sample(t, "filesystem_size_bytes{path=\"/\"}") > 0);
	ck_assert(metrics_fs_space("/", &avail, &size) && avail <= size);
	ck_assert(!metrics_fs_space("/no/such/dir", &avail, &size));
	free(t);
	rmdir(dir);
}
END_TEST

/* A neighbour by pidfile, and every process of a name found in /proc. */
START_TEST(test_neighbour_memory_by_pidfile_and_name)
{
	char	 comm[32], pidfile[] = "/tmp/test_metrics.pid.XXXXXX", *t;
	char	*series, *cause = NULL;
	FILE	*f;
	const char *names[] = { NULL, NULL, "nosuchprocname" };
	pid_t	 kid, pids[64], got;
	size_t	 n, i, which[64];
	bool	 self = false, child = false;
	int	 fd, status;

	ck_assert(metrics_shared_init());
	f = fopen("/proc/self/comm", "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(comm, sizeof comm, f));
	fclose(f);
	comm[strcspn(comm, "\n")] = '\0';
	if ((kid = fork()) == 0) {
		pause();
		_exit(0);
	}
	ck_assert_int_gt(kid, 0);
	fd = mkstemp(pidfile);
	ck_assert_int_ge(fd, 0);
	dprintf(fd, "%d\n", (int)kid);
	close(fd);
	ck_assert(metrics_pidfile_read(pidfile, &got));
	ck_assert_int_eq(got, kid);

	names[1] = comm;
	n = metrics_proc_find(names, nitems(names), pids, which, nitems(pids));
	for (i = 0; i < n; i++) {
		ck_assert_uint_eq(which[i], 1);
		self |= pids[i] == getpid();
		child |= pids[i] == kid;
	}
	ck_assert(self && child);

	free(cfg->metrics_processes);
	xasprintf(&cfg->metrics_processes, "kid=%s,gone=/no/such.pid,%s,"
	    "nosuchprocname", pidfile, comm);
	ck_assert_msg(metrics_neighbours_check(cfg->metrics_processes, &cause),
	    "%s", cause);
	t = exposition();
	ck_assert(sample(t, "process_resident_memory_bytes{process=\"kid\"}") >
	    0);
	ck_assert(sample(t, "process_cpu_seconds_total{process=\"kid\"}") >= 0);
	xasprintf(&series, "process_resident_memory_bytes{process=\"%s\"}",
	    comm);
	ck_assert(sample(t, series) > sample(t,
	    "process_resident_memory_bytes{process=\"kid\"}"));
	free(series);
	ck_assert_ptr_null(strstr(t, "process=\"gone\""));
	ck_assert_ptr_null(strstr(t, "nosuchprocname"));
	free(t);
	kill(kid, SIGKILL);
	waitpid(kid, &status, 0);
	t = exposition();
	ck_assert_ptr_null(strstr(t, "process=\"kid\""));
	free(t);
	unlink(pidfile);
}
END_TEST

/* METRICS_DISK_PATHS and METRICS_PROCESSES: what is refused, and why. */
START_TEST(test_host_settings_are_checked)
{
	static const struct {
		bool		 disk;
		const char	*value;
		bool		 ok;
		const char	*why;
	} cases[] = {
		{ true, "", true, NULL },
		{ true, "/var/lib/anilist-gpt, /var/log", true, NULL },
		{ true, "/data,var/log", false, "\"var/log\" is not an absolute" },
		{ true, "/data,/data", false, "\"/data\" is listed twice" },
		{ false, "", true, NULL },
		{ false, " caddy , memcached=/run/memcached.pid", true, NULL },
		{ false, "master", false, "not master or worker-N" },
		{ false, "worker-3", false, "not master or worker-N" },
		{ false, "caddy=run/caddy.pid", false, "must be an absolute" },
		{ false, "my caddy", false, "a process name is 1 to 15" },
		{ false, "sixteen-letters-", false, "a process name" },
		{ false, "=/run/x.pid", false, "a process name" },
		{ false, "caddy,caddy=/run/caddy.pid", false,
		    "\"caddy\" is listed twice" },
		{ false, "a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p", true, NULL },
		{ false, "a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q", false,
		    "at most 16 processes" },
	};
	char	*cause;
	size_t	 i;
	bool	 ok;

	for (i = 0; i < nitems(cases); i++) {
		cause = NULL;
		ok = cases[i].disk ?
		    metrics_disk_paths_check(cases[i].value, &cause) :
		    metrics_neighbours_check(cases[i].value, &cause);
		ck_assert_msg(ok == cases[i].ok, "%s", cases[i].value);
		if (!ok)
			ck_assert_msg(strstr(cause, cases[i].why) != NULL,
			    "%s: %s", cases[i].value, cause);
		free(cause);
	}
}
END_TEST

static Suite *
metrics_suite(void)
{
	Suite	*s = suite_create("metrics");
	TCase	*tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_requests_are_counted_by_route_method_and_status);
	tcase_add_test(tc, test_histogram_buckets_are_cumulative_and_count_is_inf);
	tcase_add_test(tc, test_exposition_is_well_formed);
	tcase_add_test(tc, test_label_values_are_escaped_and_cut);
	tcase_add_test(tc, test_unlabelled_series_exist_before_any_event);
	tcase_add_test(tc, test_registry_is_shared_by_forked_workers);
	tcase_add_test(tc, test_dead_worker_in_flight_is_dropped_counts_kept);
	tcase_add_test(tc, test_full_registry_drops_and_counts);
	tcase_add_test(tc, test_disabled_metrics_map_nothing);
	tcase_add_test(tc, test_active_users_counts_distinct_hashes);
	tcase_add_test(tc, test_statsd_line_plain_and_tagged);
	tcase_add_test(tc, test_statsd_component_from_route_pattern);
	tcase_add_test(tc, test_statsd_request_lines_are_one_datagram);
	tcase_add_test(tc, test_statsd_dogstatsd_tags);
	tcase_add_test(tc, test_statsd_batches_split_at_packet_size);
	tcase_add_test(tc, test_event_memo_by_value_text);
	tcase_add_test(tc, test_statsd_outside_request_sends_at_once);
	tcase_add_test(tc, test_statsd_unreachable_never_delays);
	tcase_add_test(tc, test_statsd_requests_share_a_datagram_until_flush_interval);
	tcase_add_test(tc, test_statsd_full_datagram_leaves_without_waiting);
	tcase_add_test(tc, test_statsd_threads_batch_every_line_once);
	tcase_add_test(tc, test_statsd_forked_child_leaves_parent_lines_to_parent);
	tcase_add_test(tc, test_round_trip_histograms);
	tcase_add_test(tc, test_disk_space_of_configured_paths);
	tcase_add_test(tc, test_neighbour_memory_by_pidfile_and_name);
	tcase_add_test(tc, test_host_settings_are_checked);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr = srunner_create(metrics_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
