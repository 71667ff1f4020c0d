/* test_anilist.c: how AniList answers are classified (status and body → outcome). */
#include "autoconf.h"

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "anilist.h"
#include "config.h"
#include "log.h"
#include "unit.h"
#include "util.h"

static const struct {
	long			 http;
	const char		*body;		/* NULL: not JSON */
	enum anilist_class	 cls;
	int			 status;
	const char		*message;	/* substring, or NULL */
	bool			 validation;
} cases[] = {
	{ 200, "{\"data\":{\"Page\":{\"media\":[]}}}", ANILIST_OK, 200, NULL,
	  false },
	{ 200, "{\"data\":{\"Page\":{\"media\":[]}},\"errors\":[]}", ANILIST_OK,
	  200, NULL, false },
	{ 200, "{\"data\":{\"A\":null,\"B\":{\"id\":1}}}", ANILIST_OK, 200, NULL,
	  false },
	{ 200, "{\"data\":{\"Media\":null}}", ANILIST_NOT_FOUND, 404, NULL,
	  false },
	{ 200, "{\"data\":{\"Media\":null},\"errors\":[{\"message\":"
	  "\"Not Found.\",\"status\":404}]}", ANILIST_NOT_FOUND, 404,
	  "Not Found.", false },
	{ 404, "{\"data\":{\"Media\":null},\"errors\":[{\"message\":"
	  "\"Not Found.\",\"status\":404}]}", ANILIST_NOT_FOUND, 404,
	  "Not Found.", false },
	{ 200, "{\"data\":null,\"errors\":[{\"message\":\"Internal Server "
	  "Error\",\"status\":500}]}", ANILIST_RETRY, 503, "Internal", false },
	{ 200, "{\"data\":null,\"errors\":[{\"message\":\"weird\"}]}",
	  ANILIST_BAD_ANSWER, 502, "weird", false },
	{ 200, NULL, ANILIST_BAD_ANSWER, 502, "without data", false },
	{ 200, "{\"nodata\":1}", ANILIST_BAD_ANSWER, 502, NULL, false },
	{ 200, "{\"data\":null}", ANILIST_BAD_ANSWER, 502, NULL, false },
	{ 400, "{\"data\":{\"SaveMediaListEntry\":null},\"errors\":[{\"message\":"
	  "\"validation\",\"status\":400,\"validation\":{\"scoreRaw\":[\"The "
	  "score raw must be between 0 and 100.\"]}}]}", ANILIST_INVALID, 400,
	  "validation", true },
	{ 400, "{\"data\":null,\"errors\":[{\"message\":\"Variable \\\"$season"
	  "\\\" got invalid value\",\"status\":400}]}", ANILIST_INVALID, 400,
	  "$season", false },
	{ 200, "{\"data\":null,\"errors\":[{\"message\":\"validation\","
	  "\"status\":400,\"validation\":{\"x\":[\"bad\"]}}]}", ANILIST_INVALID,
	  400, NULL, true },
	{ 401, "{\"data\":{\"Viewer\":null},\"errors\":[{\"message\":\"Invalid "
	  "token\",\"status\":401}]}", ANILIST_UNAUTHORIZED, 401, "Invalid token",
	  false },
	{ 403, "{\"data\":null,\"errors\":[{\"message\":\"API disabled\","
	  "\"status\":403}]}", ANILIST_FORBIDDEN, 403, "API disabled", false },
	{ 429, "{\"data\":null,\"errors\":[{\"message\":\"Too Many Requests.\","
	  "\"status\":429}]}", ANILIST_RATE_LIMITED, 503, "Too Many", false },
	{ 200, "{\"data\":null,\"errors\":[{\"message\":\"Too Many Requests.\","
	  "\"status\":429}]}", ANILIST_RATE_LIMITED, 503, NULL, false },
	{ 500, "{\"data\":null,\"errors\":[{\"message\":\"Internal Server "
	  "Error\",\"status\":500}]}", ANILIST_RETRY, 503, NULL, false },
	{ 502, NULL, ANILIST_RETRY, 503, "HTTP 502", false },
	{ 503, "<html>busy</html>", ANILIST_RETRY, 503, NULL, false },
	{ 504, NULL, ANILIST_RETRY, 503, NULL, false },
	{ 408, NULL, ANILIST_RETRY, 503, NULL, false },
	{ 418, NULL, ANILIST_BAD_ANSWER, 502, "HTTP 418", false },
	{ 301, "{}", ANILIST_BAD_ANSWER, 502, NULL, false },
};

START_TEST(test_classify_answers)
{
	struct json_object	*body = NULL, *validation = (void *)1;
	enum anilist_class	 cls;
	char			 msg[256];
	int			 status = 0;

	if (cases[_i].body != NULL)
		body = json_tokener_parse(cases[_i].body);
	cls = anilist_classify(cases[_i].http, body, &status, msg, sizeof msg,
	    &validation);
	ck_assert_msg(cls == cases[_i].cls, "case %d: class %s, want %s", _i,
	    anilist_class_name(cls), anilist_class_name(cases[_i].cls));
	ck_assert_int_eq(status, cases[_i].status);
	if (cases[_i].message != NULL)
		ck_assert_msg(strstr(msg, cases[_i].message) != NULL,
		    "case %d: message \"%s\"", _i, msg);
	if (cases[_i].status != 200)
		ck_assert_msg(*msg != '\0', "case %d: no message", _i);
	if (cases[_i].validation) {
		ck_assert_ptr_nonnull(validation);
		ck_assert(json_object_is_type(validation, json_type_object));
	} else
		ck_assert_ptr_null(validation);
	json_object_put(body);
}
END_TEST

START_TEST(test_class_names)
{
	ck_assert_str_eq(anilist_class_name(ANILIST_OK), "ok");
	ck_assert_str_eq(anilist_class_name(ANILIST_RETRY), "retry");
	ck_assert_str_eq(anilist_class_name(ANILIST_BAD_ANSWER), "bad_answer");
}
END_TEST

/*
 * Regression (found by fuzz_classify): AniList's message was cut with
 * snprintf, in the middle of a UTF-8 character, and copied byte for byte,
 * so error answers to our clients could hold text that is not UTF-8.
 */
START_TEST(test_classify_message_is_utf8_cut_on_a_character_boundary)
{
	struct json_object	*body, *validation;
	char			 msg[8];
	int			 status;

	/* "café é" : the second "é" would straddle the 8-byte buffer. */
	body = json_tokener_parse("{\"data\":null,\"errors\":[{\"message\":"
	    "\"caf\\u00e9 \\u00e9\",\"status\":404}]}");
	ck_assert_ptr_nonnull(body);
	anilist_classify(404, body, &status, msg, sizeof msg, &validation);
	ck_assert_str_eq(msg, "caf\xc3\xa9 ");
	json_object_put(body);

	/* Bytes that are not UTF-8 (json-c does not check) become '?'. */
	body = json_tokener_parse("{\"data\":null,\"errors\":[{\"message\":"
	    "\"a\xff\xc3" "b\",\"status\":500}]}");
	ck_assert_ptr_nonnull(body);
	anilist_classify(500, body, &status, msg, sizeof msg, &validation);
	ck_assert_str_eq(msg, "a??b");
	json_object_put(body);
}
END_TEST

/*
 * anilist_fetch without memcached against a loopback port that refuses
 * connections: each call builds its request and fails fast.
 */
static int	fetch_sock = -1;

static void
fetch_setup(void)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof sin;
	char			 url[64];

	/* Bound, never listening: connections to it are refused. */
	fetch_sock = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(fetch_sock, 0);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fetch_sock, (struct sockaddr *)&sin, len), 0);
	ck_assert_int_eq(getsockname(fetch_sock, (struct sockaddr *)&sin,
	    &len), 0);
	snprintf(url, sizeof url, "http://127.0.0.1:%u/",
	    (unsigned)ntohs(sin.sin_port));

	unit_config();
	unit_config_set("MEMCACHED_SERVERS", "");
	unit_config_set("ANILIST_API_URL", url);
	unit_config_set("UPSTREAM_RETRIES", "0");
	unit_config_set("UPSTREAM_TIMEOUT_MS", "100");
	unit_logs_quiet();
	ck_assert_int_eq(curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_OK);
}

static void
fetch_teardown(void)
{
	anilist_thread_cleanup();
	curl_global_cleanup();
	unit_logs_restore();
	close(fetch_sock);
	unit_config_free();
}

/*
 * Regression (fetch-driver SIGSEGV under parallel load): anilist_fetch
 * serialized its borrowed vars with json_object_to_json_string, which
 * writes into the object's own print buffer; threads sharing one vars
 * object freed and reused each other's buffer. The text json-c printed
 * before the call must still be there, untouched, after it.
 */
START_TEST(test_fetch_leaves_borrowed_vars_untouched)
{
	struct anilist_reply	 r;
	struct json_object	*vars;
	const char		*printed;
	char			*before;

	vars = json_tokener_parse("{\"search\":\"one piece\",\"page\":1,"
	    "\"genres\":[\"Action\",\"Drama\"]}");
	ck_assert_ptr_nonnull(vars);
	printed = json_object_to_json_string_ext(vars, JSON_C_TO_STRING_PRETTY);
	before = xstrdup(printed);
	ck_assert(!anilist_fetch(&(struct anilist_request){
	    .op = "SearchMedia", .vars = vars, .kind = "search", .ttl = 60 },
	    &r));
	ck_assert_int_eq(r.upstream_calls, 1);
	ck_assert_int_eq(r.status, 503);
	ck_assert_str_eq(printed, before);
	anilist_reply_free(&r);
	free(before);
	json_object_put(vars);
}
END_TEST

#define FETCH_THREADS	8
#define FETCH_CALLS	400

static void *
fetch_thread(void *arg)
{
	struct json_object	*vars = arg;
	struct anilist_reply	 r;
	int			 i;

	for (i = 0; i < FETCH_CALLS; i++) {
		anilist_fetch(&(struct anilist_request){
		    .op = "SearchMedia", .vars = vars, .kind = "search",
		    .ttl = 60 }, &r);
		anilist_reply_free(&r);
	}
	anilist_thread_cleanup();
	return (NULL);
}

/* The same: one vars object shared by threads calling at once. */
START_TEST(test_fetch_from_threads_sharing_vars)
{
	pthread_t		 t[FETCH_THREADS];
	struct json_object	*vars;
	struct anilist_stats	 st;
	int			 i;

	vars = json_tokener_parse("{\"search\":\"one piece\",\"page\":1,"
	    "\"perPage\":10,\"genres\":[\"Action\",\"Comedy\",\"Drama\"]}");
	ck_assert_ptr_nonnull(vars);
	for (i = 0; i < FETCH_THREADS; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, fetch_thread,
		    vars), 0);
	for (i = 0; i < FETCH_THREADS; i++)
		pthread_join(t[i], NULL);
	anilist_stats_get(&st);
	ck_assert_uint_eq(st.fetches, FETCH_THREADS * FETCH_CALLS);
	json_object_put(vars);
}
END_TEST

/*
 * TTL by what the data is. With "when", data is cut before the next
 * episode's airingAt: it gets now + when seconds and the closing braces.
 */
static const struct {
	const char	*data;
	const char	*when;		/* offset of the next episode, or NULL */
	int		 ttl;		/* the kind's */
	int		 want;		/* -1: the offset itself */
} ttl_cases[] = {
	/* a finished title keeps its kind's TTL (a day) */
	{ "{\"Media\":{\"status\":\"FINISHED\"}}", NULL, 86400, 86400 },
	{ "{\"Media\":{\"status\":\"CANCELLED\"}}", NULL, 86400, 86400 },
	/* an airing one lives at most CACHE_TTL_RELEASING (600 here) */
	{ "{\"Media\":{\"status\":\"RELEASING\"}}", NULL, 86400, 600 },
	{ "{\"Media\":{\"status\":\"NOT_YET_RELEASED\"}}", NULL, 86400,
	    600 },
	/* never past its next episode */
	{ "{\"Media\":{\"status\":\"RELEASING\",\"nextAiringEpisode\":"
	    "{\"airingAt\":", "120", 86400, -1 },
	/* an episode later than the cap, or already past, leaves the cap */
	{ "{\"Media\":{\"status\":\"RELEASING\",\"nextAiringEpisode\":"
	    "{\"airingAt\":", "5000", 86400, 600 },
	{ "{\"Media\":{\"status\":\"RELEASING\",\"nextAiringEpisode\":"
	    "{\"airingAt\":", "-100", 86400, 600 },
	/* a shorter kind TTL stays shorter */
	{ "{\"Media\":{\"status\":\"RELEASING\"}}", NULL, 60, 60 },
	/* lists and other shapes keep the kind's TTL */
	{ "{\"Page\":{\"media\":[{\"status\":\"RELEASING\"}]}}", NULL,
	    1800, 1800 },
	{ "{\"Media\":null}", NULL, 3600, 3600 },
	{ "{\"Media\":{\"status\":7}}", NULL, 3600, 3600 },
};

START_TEST(test_ttl_follows_the_status_of_the_title)
{
	struct json_object	*data;
	char			*text, at[32];
	long long		 off = 0;
	int			 got;

	cfg = config_create();
	cfg->cache_ttl_releasing = 600;
	if (ttl_cases[_i].when != NULL) {
		off = atoll(ttl_cases[_i].when);
		snprintf(at, sizeof at, "%lld",
		    (long long)(util_wall_ms() / 1000) + off);
		xasprintf(&text, "%s%s}}}", ttl_cases[_i].data, at);
	} else
		text = xstrdup(ttl_cases[_i].data);
	data = json_tokener_parse(text);
	ck_assert_ptr_nonnull(data);
	got = anilist_ttl_of(data, ttl_cases[_i].ttl);
	if (ttl_cases[_i].want < 0)
		/* a second may pass between making the data and reading it */
		ck_assert(got <= off && got >= off - 1);
	else
		ck_assert_int_eq(got, ttl_cases[_i].want);
	json_object_put(data);
	free(text);
	config_free(cfg);
	cfg = NULL;
}
END_TEST

static Suite *
anilist_suite(void)
{
	Suite	*s = suite_create("anilist");
	TCase	*tc = tcase_create("classify");

	tcase_add_loop_test(tc, test_classify_answers, 0, (int)nitems(cases));
	tcase_add_test(tc, test_class_names);
	tcase_add_test(tc,
	    test_classify_message_is_utf8_cut_on_a_character_boundary);
	suite_add_tcase(s, tc);
	tc = tcase_create("ttl");
	tcase_add_loop_test(tc, test_ttl_follows_the_status_of_the_title, 0,
	    (int)nitems(ttl_cases));
	suite_add_tcase(s, tc);
	tc = tcase_create("fetch");
	tcase_add_checked_fixture(tc, fetch_setup, fetch_teardown);
	tcase_add_test(tc, test_fetch_leaves_borrowed_vars_untouched);
	tcase_add_test(tc, test_fetch_from_threads_sharing_vars);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	return (unit_run(anilist_suite()));
}
