/* test_config.c: the config table: defaults, bounds, file + env, secrets, docs. */
#include "autoconf.h"

#include <check.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "util.h"

#define GOOD_SECRET	"0123456789abcdef0123456789abcdef"

/* Every test starts from an environment without any config key in it. */
static void
clear_env(void)
{
	size_t	i;

	for (i = 0; i < config_ndefs; i++)
		unsetenv(config_defs[i].key);
}

/* Write text to a new temporary file; caller unlinks and frees the path. */
static char *
write_temp(const char *text)
{
	char	*path;
	FILE	*f;
	int	 fd;

	path = xstrdup("/tmp/test_config.XXXXXX");
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	f = fdopen(fd, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	return (path);
}

/* Load text as a config file; NULL with *cause on failure. */
static struct config *
load_text(const char *text, char **cause)
{
	struct config	*c;
	char		*path = write_temp(text);

	c = config_load(path, cause);
	unlink(path);
	free(path);
	return (c);
}

/* The whole file as a string; caller frees. */
static char *
read_file(const char *path)
{
	struct buf	 b;
	char		 chunk[4096];
	size_t		 n;
	FILE		*f;

	f = fopen(path, "r");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	buf_init(&b);
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_append(&b, chunk, n);
	fclose(f);
	return (buf_detach(&b));
}

static char *
srcdir_file(const char *rel)
{
	const char	*top = getenv("top_srcdir");
	char		*path;

	/* make check exports top_srcdir; run by hand, the configured one. */
	xasprintf(&path, "%s/%s", top != NULL ? top : ABS_TOP_SRCDIR, rel);
	return (path);
}

/* config_print output as a string; caller frees. */
static char *
print_config(const struct config *c)
{
	char	*out = NULL;
	size_t	 len = 0;
	FILE	*f = open_memstream(&out, &len);

	ck_assert_ptr_nonnull(f);
	config_print(c, f);
	fclose(f);
	return (out);
}

START_TEST(test_defaults_match_the_table)
{
	struct config	*c = config_create();

	ck_assert_str_eq(c->listen, "unix:/run/anilist-gpt/anilist-gpt.sock");
	ck_assert_int_eq(c->workers, 1);
	ck_assert_int_eq(c->threads, 16);
	ck_assert_int_eq(c->shutdown_timeout, 10);
	ck_assert_str_eq(c->log_level, "info");
	ck_assert_str_eq(c->environment, "production");
	ck_assert_str_eq(c->secret_key, "");
	ck_assert_str_eq(c->anilist_api_url, "https://graphql.anilist.co");
	ck_assert_str_eq(c->anilist_oauth_url,
	    "https://anilist.co/api/v2/oauth");
	ck_assert_int_eq(c->upstream_rate_limit, 80);
	ck_assert_int_eq(c->max_body_size, 65536);
	ck_assert(c->metrics_enabled);
	ck_assert_str_eq(c->cors_origins,
	    "https://chatgpt.com,https://chat.openai.com");
	config_free(c);
}
END_TEST

START_TEST(test_table_is_well_formed)
{
	const struct config_def	*d, *e;
	const char		*p;
	size_t			 i, j;

	ck_assert_uint_gt(config_ndefs, 30);
	for (i = 0; i < config_ndefs; i++) {
		d = &config_defs[i];
		for (p = d->key; *p != '\0'; p++)
			ck_assert_msg(isupper((unsigned char)*p) ||
			    isdigit((unsigned char)*p) || *p == '_',
			    "%s: key is not UPPER_SNAKE", d->key);
		ck_assert_msg(d->help != NULL && *d->help != '\0',
		    "%s: no help text", d->key);
		ck_assert_ptr_eq(config_find(d->key), d);
		if (d->type == CONFIG_INT)
			ck_assert_msg(d->min <= d->max, "%s: bounds", d->key);
		for (j = i + 1; j < config_ndefs; j++) {
			e = &config_defs[j];
			ck_assert_msg(strcmp(d->key, e->key) != 0,
			    "%s twice in the table", d->key);
		}
	}
	ck_assert_ptr_null(config_find("NO_SUCH_KEY"));
	ck_assert_ptr_null(config_find("workers"));
}
END_TEST

/* One value for one key: accepted, or refused with a reason. */
static const struct {
	const char	*key;
	const char	*value;
	const char	*reason;	/* NULL: accepted */
} set_cases[] = {
	{ "WORKERS", "1", NULL },
	{ "WORKERS", "64", NULL },
	{ "WORKERS", "0", "0 is outside 1..64" },
	{ "WORKERS", "65", "65 is outside 1..64" },
	{ "WORKERS", "-3", "outside 1..64" },
	{ "WORKERS", "abc", "\"abc\" is not an integer" },
	{ "WORKERS", "4x", "is not an integer" },
	{ "WORKERS", "", "is not an integer" },
	{ "WORKERS", "99999999999999999999", "is not an integer" },
	{ "THREADS", "256", NULL },
	{ "THREADS", "257", "outside 1..256" },
	{ "SHUTDOWN_TIMEOUT", "0", "outside 1..300" },
	{ "MAX_BODY_SIZE", "1023", "outside 1024..16777216" },
	{ "UPSTREAM_RATE_LIMIT", "91", "outside 1..90" },
	{ "CACHE_STALE_TTL", "0", NULL },
	{ "RATE_LIMIT_REQUESTS", "0", NULL },
	{ "STATSD_PORT", "65536", "outside 1..65535" },
	{ "METRICS_ENABLED", "yes", NULL },
	{ "METRICS_ENABLED", "off", NULL },
	{ "METRICS_ENABLED", "FALSE", NULL },
	{ "METRICS_ENABLED", "maybe", "\"maybe\" is not true or false" },
	{ "LISTEN", "unix:/tmp/a.sock", NULL },
	{ "LISTEN", "127.0.0.1:9000", NULL },
	{ "LISTEN", "[::1]:9000", NULL },
	{ "LISTEN", ":9000", "expected unix:/path, host:port or fd:0" },
	{ "LISTEN", "fd:0", NULL },
	{ "LISTEN", "unix:relative.sock", "must be absolute" },
	{ "LISTEN", "localhost", "expected unix:/path, host:port or fd:0" },
	{ "LISTEN", "127.0.0.1:0", "port must be 1..65535" },
	{ "LISTEN", "127.0.0.1:http", "port must be 1..65535" },
	{ "ALERT_WEBHOOK_SECRET", "", NULL },
	{ "ALERT_WEBHOOK_SECRET", "0123456789abcdef0123456789abcdef", NULL },
	{ "ALERT_WEBHOOK_SECRET", "0123456789abcdef0123456789abcde",
	    "must be empty or at least 32 bytes" },
	{ "LOG_LEVEL", "debug", NULL },
	{ "LOG_LEVEL", "WARN", NULL },
	{ "LOG_LEVEL", "loud", "must be debug, info, warn or error" },
	{ "ENVIRONMENT", "development", NULL },
	{ "ENVIRONMENT", "staging", "must be production or development" },
	{ "MEMCACHED_SERVERS", "", NULL },
	{ "MEMCACHED_SERVERS", "10.0.0.1:11211, 10.0.0.2:11211", NULL },
	{ "MEMCACHED_SERVERS", "cache", "bad server \"cache\"" },
	{ "MEMCACHED_SERVERS", "a:1,b:x", "bad server \"b:x\"" },
	{ "ANILIST_API_URL", "http://127.0.0.1:1/", NULL },
	{ "ANILIST_API_URL", "ftp://example.com", "http:// or https:// URL" },
	{ "ANILIST_API_URL", "", "http:// or https:// URL" },
	{ "ANILIST_REDIRECT_URI", "", NULL },
	{ "SENTRY_DSN", "", NULL },
	{ "SENTRY_DSN", "not a url", "a DSN starts with https:// or http://" },
	{ "STATSD_TAGS", "dogstatsd", NULL },
	{ "STATSD_TAGS", "influx", "must be empty or dogstatsd" },
	{ "NO_SUCH_KEY", "1", "unknown key" },
};

START_TEST(test_set_accepts_or_names_key_and_reason)
{
	struct config	*c = config_create();
	char		*cause = NULL, *want;
	bool		 ok;

	ok = config_set(c, set_cases[_i].key, set_cases[_i].value, &cause);
	if (set_cases[_i].reason == NULL) {
		ck_assert_msg(ok, "%s = \"%s\" refused: %s", set_cases[_i].key,
		    set_cases[_i].value, cause != NULL ? cause : "?");
	} else {
		ck_assert_msg(!ok, "%s = \"%s\" accepted", set_cases[_i].key,
		    set_cases[_i].value);
		ck_assert_ptr_nonnull(cause);
		xasprintf(&want, "%s: ", set_cases[_i].key);
		ck_assert_msg(strncmp(cause, want, strlen(want)) == 0,
		    "cause \"%s\" does not start with \"%s\"", cause, want);
		ck_assert_msg(strstr(cause, set_cases[_i].reason) != NULL,
		    "cause \"%s\" lacks \"%s\"", cause, set_cases[_i].reason);
		free(want);
	}
	free(cause);
	config_free(c);
}
END_TEST

START_TEST(test_set_failure_keeps_the_old_value)
{
	struct config	*c = config_create();
	char		*cause = NULL;

	ck_assert(config_set(c, "WORKERS", "5", &cause));
	ck_assert(!config_set(c, "WORKERS", "500", &cause));
	free(cause);
	cause = NULL;
	ck_assert_int_eq(c->workers, 5);
	ck_assert(!config_set(c, "LOG_LEVEL", "loud", &cause));
	free(cause);
	ck_assert_str_eq(c->log_level, "info");
	config_free(c);
}
END_TEST

START_TEST(test_file_sets_values_with_comments_and_quotes)
{
	struct config	*c;
	char		*cause = NULL;

	c = load_text(
	    "# a comment\n"
	    "; another\n"
	    "\n"
	    "   WORKERS   =   3   \n"
	    "LOG_LEVEL=debug\n"
	    "CORS_ORIGINS = \"https://a.example, https://b.example\"\n"
	    "ENVIRONMENT = development\n"
	    "METRICS_ENABLED = no\n", &cause);
	ck_assert_msg(c != NULL, "load failed: %s", cause);
	ck_assert_int_eq(c->workers, 3);
	ck_assert_str_eq(c->log_level, "debug");
	ck_assert_str_eq(c->cors_origins, "https://a.example, https://b.example");
	ck_assert(!c->metrics_enabled);
	ck_assert(config_is_development(c));
	ck_assert_int_eq(c->threads, 16);	/* untouched: default */
	config_free(c);
}
END_TEST

START_TEST(test_env_overrides_the_file)
{
	struct config	*c;
	char		*cause = NULL;

	setenv("WORKERS", "5", 1);
	setenv("SECRET_KEY", GOOD_SECRET, 1);
	c = load_text("WORKERS = 3\nTHREADS = 4\nSECRET_KEY = short\n",
	    &cause);
	ck_assert_msg(c != NULL, "load failed: %s", cause);
	ck_assert_int_eq(c->workers, 5);
	ck_assert_int_eq(c->threads, 4);
	ck_assert_str_eq(c->secret_key, GOOD_SECRET);
	config_free(c);
}
END_TEST

START_TEST(test_env_without_file)
{
	struct config	*c;
	char		*cause = NULL;

	setenv("ENVIRONMENT", "development", 1);
	setenv("LOG_LEVEL", "error", 1);
	c = config_load(NULL, &cause);
	ck_assert_msg(c != NULL, "load failed: %s", cause);
	ck_assert_str_eq(c->log_level, "error");
	config_free(c);
}
END_TEST

START_TEST(test_bad_env_value_names_the_key)
{
	struct config	*c;
	char		*cause = NULL;

	setenv("ENVIRONMENT", "development", 1);
	setenv("THREADS", "zero", 1);
	c = config_load(NULL, &cause);
	ck_assert_ptr_null(c);
	ck_assert_ptr_nonnull(cause);
	ck_assert_str_eq(cause, "THREADS: \"zero\" is not an integer");
	free(cause);
}
END_TEST

/* A bad file: the cause names the file, the line, the key and the reason. */
static const struct {
	const char	*text;
	const char	*reason;
} file_cases[] = {
	{ "WORKERS = 0\n", ":1: WORKERS: 0 is outside 1..64" },
	{ "# ok\nNOPE = 1\n", ":2: NOPE: unknown key" },
	{ "\n\nWORKERS\n", ":3: expected KEY = value" },
	{ "LISTEN = unix:x\n", ":1: LISTEN: unix socket path must be absolute" },
	{ "LOG_LEVEL = loud\n", ":1: LOG_LEVEL: must be debug, info, warn "
	    "or error" },
};

START_TEST(test_bad_file_names_line_key_and_reason)
{
	struct config	*c;
	char		*cause = NULL;

	setenv("ENVIRONMENT", "development", 1);
	c = load_text(file_cases[_i].text, &cause);
	ck_assert_ptr_null(c);
	ck_assert_ptr_nonnull(cause);
	ck_assert_msg(strstr(cause, file_cases[_i].reason) != NULL,
	    "cause \"%s\" lacks \"%s\"", cause, file_cases[_i].reason);
	ck_assert_msg(strncmp(cause, "/tmp/test_config.", 17) == 0,
	    "cause \"%s\" does not name the file", cause);
	free(cause);
}
END_TEST

START_TEST(test_missing_file_is_an_error)
{
	char	*cause = NULL;

	ck_assert_ptr_null(config_load("/nonexistent/anilist-gpt.conf",
	    &cause));
	ck_assert_ptr_nonnull(cause);
	ck_assert_ptr_nonnull(strstr(cause, "/nonexistent/anilist-gpt.conf"));
	free(cause);
}
END_TEST

START_TEST(test_secret_key_required_in_production)
{
	struct config	*c;
	char		*cause = NULL;

	c = load_text("ENVIRONMENT = production\n", &cause);
	ck_assert_ptr_null(c);
	ck_assert_msg(strncmp(cause, "SECRET_KEY: required in production",
	    34) == 0, "cause: %s", cause);
	free(cause);
}
END_TEST

START_TEST(test_secret_key_must_be_32_bytes)
{
	struct config	*c;
	char		*cause = NULL;

	/* 31 bytes: refused; 32 bytes: accepted. */
	c = load_text("SECRET_KEY = 0123456789abcdef0123456789abcde\n",
	    &cause);
	ck_assert_ptr_null(c);
	ck_assert_str_eq(cause, "SECRET_KEY: must be at least 32 bytes");
	free(cause);
	cause = NULL;
	c = load_text("SECRET_KEY = " GOOD_SECRET "\n", &cause);
	ck_assert_msg(c != NULL, "32 bytes refused: %s", cause);
	config_free(c);
}
END_TEST

START_TEST(test_secret_key_optional_in_development)
{
	struct config	*c;
	char		*cause = NULL;

	c = load_text("ENVIRONMENT = development\n", &cause);
	ck_assert_msg(c != NULL, "refused: %s", cause);
	ck_assert_str_eq(c->secret_key, "");
	config_free(c);
}
END_TEST

START_TEST(test_client_id_needs_secret_and_redirect)
{
	struct config	*c;
	char		*cause = NULL;

	c = load_text("ENVIRONMENT = development\nANILIST_CLIENT_ID = 42\n",
	    &cause);
	ck_assert_ptr_null(c);
	ck_assert_msg(strncmp(cause, "ANILIST_CLIENT_SECRET: ", 23) == 0,
	    "cause: %s", cause);
	free(cause);
	cause = NULL;
	c = load_text("ENVIRONMENT = development\nANILIST_CLIENT_ID = 42\n"
	    "ANILIST_CLIENT_SECRET = s3cr3t\n"
	    "ANILIST_REDIRECT_URI = https://x.example/auth/callback\n", &cause);
	ck_assert_msg(c != NULL, "refused: %s", cause);
	config_free(c);
}
END_TEST

START_TEST(test_print_masks_every_secret)
{
	struct config		*c = config_create();
	const struct config_def	*d;
	char			*out, *cause = NULL, *line, *value;
	size_t			 i;

	ck_assert(config_set(c, "SECRET_KEY", "SECRETVALUE-key-0123456789abcdef",
	    &cause));
	ck_assert(config_set(c, "DATABASE_URL",
	    "postgresql://u:SECRETVALUE-db@h/d", &cause));
	ck_assert(config_set(c, "ANILIST_CLIENT_SECRET", "SECRETVALUE-cs",
	    &cause));
	ck_assert(config_set(c, "ALERT_WEBHOOK_SECRET",
	    "SECRETVALUE-wh-0123456789abcdef0123", &cause));
	ck_assert(config_set(c, "PAGERDUTY_ROUTING_KEY", "SECRETVALUE-pd",
	    &cause));
	ck_assert(config_set(c, "SLACK_WEBHOOK_URL",
	    "https://hooks.slack.example/SECRETVALUE", &cause));
	ck_assert(config_set(c, "SENTRY_DSN",
	    "https://SECRETVALUE@sentry.example/1", &cause));
	out = print_config(c);
	ck_assert_msg(strstr(out, "SECRETVALUE") == NULL,
	    "a secret leaked:\n%s", out);
	ck_assert_ptr_nonnull(strstr(out, "SECRET_KEY = ******** (set)\n"));
	ck_assert_ptr_nonnull(strstr(out, "DATABASE_URL = ******** (set)\n"));
	ck_assert_ptr_nonnull(strstr(out, "WORKERS = 1\n"));
	ck_assert_ptr_nonnull(strstr(out, "METRICS_ENABLED = true\n"));
	ck_assert_ptr_nonnull(strstr(out,
	    "ANILIST_API_URL = https://graphql.anilist.co\n"));
	/* One line per key, in table order; set secrets masked. */
	line = out;
	for (i = 0; i < config_ndefs; i++) {
		d = &config_defs[i];
		ck_assert_msg(strncmp(line, d->key, strlen(d->key)) == 0 &&
		    strncmp(line + strlen(d->key), " = ", 3) == 0,
		    "line %zu is not %s", i, d->key);
		value = line + strlen(d->key) + 3;
		if (d->secret && **(char **)((char *)c + d->offset) != '\0')
			ck_assert_msg(strncmp(value, "******** (set)\n", 15) ==
			    0, "%s is not masked", d->key);
		line = strchr(line, '\n');
		ck_assert_ptr_nonnull(line);
		line++;
	}
	ck_assert_str_eq(line, "");
	free(out);
	config_free(c);
}
END_TEST

START_TEST(test_print_shows_unset_secrets_as_empty)
{
	struct config	*c = config_create();
	char		*out = print_config(c);

	ck_assert_ptr_nonnull(strstr(out, "SECRET_KEY = \n"));
	ck_assert_ptr_nonnull(strstr(out, "ANILIST_CLIENT_SECRET = \n"));
	free(out);
	config_free(c);
}
END_TEST

/* Does the list allow the origin? */
static const struct {
	const char	*list;
	const char	*origin;
	bool		 allowed;
} origin_cases[] = {
	{ "https://chatgpt.com,https://chat.openai.com", "https://chatgpt.com",
	    true },
	{ "https://chatgpt.com,https://chat.openai.com",
	    "https://chat.openai.com", true },
	{ "https://chatgpt.com", "https://chatgpt.com.evil.example", false },
	{ "https://chatgpt.com", "https://chatgpt.co", false },
	{ "https://chatgpt.com", "http://chatgpt.com", false },
	{ "https://chatgpt.com", "", false },
	{ "https://chatgpt.com", "null", false },
	{ " https://a.example , https://b.example ", "https://b.example",
	    true },
	{ "", "https://chatgpt.com", false },
	{ "*", "https://anything.example", true },
	{ "https://a.example,*", "https://other.example", true },
};

START_TEST(test_origin_allow_list)
{
	struct config	*c = config_create();
	char		*cause = NULL;

	ck_assert(config_set(c, "CORS_ORIGINS", origin_cases[_i].list,
	    &cause));
	ck_assert_msg(config_origin_allowed(c, origin_cases[_i].origin) ==
	    origin_cases[_i].allowed, "list \"%s\", origin \"%s\"",
	    origin_cases[_i].list, origin_cases[_i].origin);
	config_free(c);
}
END_TEST

/* The value of "KEY = value" lines for key; NULL if none, "" twice. */
static char *
sample_value(const char *text, const char *key, int *count)
{
	const char	*p = text, *eol, *v;
	char		*found = NULL;
	size_t		 klen = strlen(key);

	*count = 0;
	for (; *p != '\0'; p = *eol == '\0' ? eol : eol + 1) {
		eol = strchr(p, '\n');
		if (eol == NULL)
			eol = p + strlen(p);
		if (strncmp(p, key, klen) != 0)
			continue;
		v = p + klen;
		while (*v == ' ' || *v == '\t')
			v++;
		if (*v != '=')
			continue;
		v++;
		while (v < eol && (*v == ' ' || *v == '\t'))
			v++;
		(*count)++;
		free(found);
		found = xstrndup(v, (size_t)(eol - v));
	}
	return (found);
}

START_TEST(test_sample_config_lists_every_key_with_its_default)
{
	const struct config_def	*d;
	char			*path, *text, *value;
	int			 count;
	size_t			 i;

	path = srcdir_file("etc/anilist-gpt.conf");
	text = read_file(path);
	for (i = 0; i < config_ndefs; i++) {
		d = &config_defs[i];
		value = sample_value(text, d->key, &count);
		ck_assert_msg(count == 1, "%s: %d lines \"%s = …\" in %s "
		    "(want 1)", d->key, count, d->key, path);
		if (d->secret)
			ck_assert_msg(*value == '\0', "%s: a secret must be "
			    "empty in the sample", d->key);
		else
			ck_assert_msg(strcmp(value, d->def) == 0,
			    "%s: sample says \"%s\", default is \"%s\"",
			    d->key, value, d->def);
		free(value);
	}
	free(text);
	free(path);
}
END_TEST

START_TEST(test_sample_config_loads)
{
	struct config	*c;
	char		*path, *cause = NULL;

	setenv("SECRET_KEY", GOOD_SECRET, 1);
	path = srcdir_file("etc/anilist-gpt.conf");
	c = config_load(path, &cause);
	ck_assert_msg(c != NULL, "sample refused: %s", cause);
	config_free(c);
	free(path);
}
END_TEST

START_TEST(test_readme_documents_every_key)
{
	const struct config_def	*d;
	char			*path, *text, *row, *eol, *want;
	size_t			 i;

	path = srcdir_file("README.md");
	text = read_file(path);
	for (i = 0; i < config_ndefs; i++) {
		d = &config_defs[i];
		xasprintf(&want, "\n| `%s` |", d->key);
		row = strstr(text, want);
		ck_assert_msg(row != NULL, "%s: no row \"| `%s` |\" in the "
		    "config reference of %s", d->key, d->key, path);
		free(want);
		eol = strchr(row + 1, '\n');
		if (eol != NULL)
			*eol = '\0';
		if (*d->def != '\0') {
			xasprintf(&want, "`%s`", d->def);
			ck_assert_msg(strstr(row, want) != NULL,
			    "%s: README row lacks the default %s", d->key,
			    want);
			free(want);
		}
		if (eol != NULL)
			*eol = '\n';
	}
	free(text);
	free(path);
}
END_TEST

static Suite *
config_suite(void)
{
	Suite	*s = suite_create("config");
	TCase	*tc = tcase_create("config");

	tcase_add_checked_fixture(tc, clear_env, NULL);
	tcase_add_test(tc, test_defaults_match_the_table);
	tcase_add_test(tc, test_table_is_well_formed);
	tcase_add_loop_test(tc, test_set_accepts_or_names_key_and_reason, 0,
	    (int)nitems(set_cases));
	tcase_add_test(tc, test_set_failure_keeps_the_old_value);
	tcase_add_test(tc, test_file_sets_values_with_comments_and_quotes);
	tcase_add_test(tc, test_env_overrides_the_file);
	tcase_add_test(tc, test_env_without_file);
	tcase_add_test(tc, test_bad_env_value_names_the_key);
	tcase_add_loop_test(tc, test_bad_file_names_line_key_and_reason, 0,
	    (int)nitems(file_cases));
	tcase_add_test(tc, test_missing_file_is_an_error);
	tcase_add_test(tc, test_secret_key_required_in_production);
	tcase_add_test(tc, test_secret_key_must_be_32_bytes);
	tcase_add_test(tc, test_secret_key_optional_in_development);
	tcase_add_test(tc, test_client_id_needs_secret_and_redirect);
	tcase_add_test(tc, test_print_masks_every_secret);
	tcase_add_test(tc, test_print_shows_unset_secrets_as_empty);
	tcase_add_loop_test(tc, test_origin_allow_list, 0,
	    (int)nitems(origin_cases));
	tcase_add_test(tc, test_sample_config_lists_every_key_with_its_default);
	tcase_add_test(tc, test_sample_config_loads);
	tcase_add_test(tc, test_readme_documents_every_key);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr = srunner_create(config_suite());
	int	 failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
