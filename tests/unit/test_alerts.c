/* test_alerts.c: alert webhook payloads understood, garbage refused, Slack and PagerDuty wording, the bearer check. */
#include "autoconf.h"

#include <check.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "alerts.h"
#include "config.h"
#include "log.h"
#include "util.h"

static const char *am_firing =
    "{\"version\":\"4\",\"groupKey\":\"{}:{alertname=\\\"HighErrorRate\\\"}\","
    "\"truncatedAlerts\":0,\"status\":\"firing\",\"receiver\":\"svc\","
    "\"groupLabels\":{\"alertname\":\"HighErrorRate\"},"
    "\"commonLabels\":{\"alertname\":\"HighErrorRate\"},"
    "\"commonAnnotations\":{},\"externalURL\":\"http://am.local:9093\","
    "\"alerts\":[{\"status\":\"firing\",\"labels\":{\"alertname\":"
    "\"HighErrorRate\",\"severity\":\"critical\"},\"annotations\":"
    "{\"summary\":\"Error rate above 1% <for> 5m & more\"},"
    "\"startsAt\":\"2026-01-01T00:00:00Z\",\"fingerprint\":\"a1\"},"
    "{\"status\":\"firing\",\"labels\":{\"alertname\":\"HighErrorRate\","
    "\"severity\":\"warning\"},\"annotations\":{\"description\":"
    "\"Error rate above 0.1%\"}}]}";

static void
setup(void)
{
	cfg = config_create();
	log_set_fd(open("/dev/null", O_WRONLY));
}

static void
teardown(void)
{
	config_free(cfg);
	cfg = NULL;
}

static bool
parse(const char *body, struct alerts_msg *m)
{
	char	*cause = NULL;
	bool	 ok;

	ok = alerts_parse(body, strlen(body), m, &cause);
	ck_assert(ok || cause != NULL);
	free(cause);
	return (ok);
}

START_TEST(test_alertmanager_group_is_read)
{
	struct alerts_msg	m;

	ck_assert(parse(am_firing, &m));
	ck_assert_str_eq(m.source, "alertmanager");
	ck_assert(m.critical);
	ck_assert(!m.resolved);
	ck_assert_int_eq(m.count, 2);
	ck_assert_str_eq(m.title, "[FIRING:2] HighErrorRate");
	ck_assert_ptr_nonnull(strstr(m.text, "\n- [critical] HighErrorRate: "
	    "Error rate above 1% <for> 5m & more"));
	ck_assert_ptr_nonnull(strstr(m.text, "\n- [warning] HighErrorRate: "
	    "Error rate above 0.1%"));
	ck_assert_ptr_nonnull(strstr(m.text, "Source: http://am.local:9093"));
	ck_assert_str_eq(m.dedup_key + strlen(m.dedup_key) - 32,
	    m.dedup_key + 12);
	alerts_msg_clear(&m);
}
END_TEST

START_TEST(test_resolved_group_resolves_pagerduty)
{
	struct alerts_msg	 m, again;
	struct json_object	*o, *v;
	char			*pd, *firing_key;
	const char		*body =
	    "{\"version\":\"4\",\"status\":\"resolved\",\"groupKey\":"
	    "\"{}:{alertname=\\\"HighErrorRate\\\"}\",\"alerts\":[{\"status\":"
	    "\"resolved\",\"labels\":{\"alertname\":\"HighErrorRate\","
	    "\"severity\":\"critical\"},\"annotations\":{}}]}";

	ck_assert(parse(am_firing, &again));
	firing_key = xstrdup(again.dedup_key);
	alerts_msg_clear(&again);
	ck_assert(parse(body, &m));
	ck_assert(m.resolved);
	ck_assert(m.critical);
	ck_assert_str_eq(m.title, "[RESOLVED:1] HighErrorRate");
	/* Same group: PagerDuty resolves the incident it opened. */
	ck_assert_str_eq(m.dedup_key, firing_key);
	pd = alerts_pagerduty_payload(&m, "routing-key-1");
	o = json_tokener_parse(pd);
	ck_assert(json_object_object_get_ex(o, "event_action", &v));
	ck_assert_str_eq(json_object_get_string(v), "resolve");
	ck_assert(json_object_object_get_ex(o, "routing_key", &v));
	ck_assert_str_eq(json_object_get_string(v), "routing-key-1");
	ck_assert(json_object_object_get_ex(o, "dedup_key", &v));
	ck_assert_str_eq(json_object_get_string(v), firing_key);
	json_object_put(o);
	free(pd);
	free(firing_key);
	alerts_msg_clear(&m);
}
END_TEST

START_TEST(test_pagerduty_trigger_payload)
{
	struct alerts_msg	 m;
	struct json_object	*o, *p, *v;
	char			*pd;

	ck_assert(parse(am_firing, &m));
	pd = alerts_pagerduty_payload(&m, "rk");
	o = json_tokener_parse(pd);
	ck_assert(json_object_object_get_ex(o, "event_action", &v));
	ck_assert_str_eq(json_object_get_string(v), "trigger");
	ck_assert(json_object_object_get_ex(o, "payload", &p));
	ck_assert(json_object_object_get_ex(p, "summary", &v));
	ck_assert_str_eq(json_object_get_string(v), "[FIRING:2] HighErrorRate");
	ck_assert(json_object_object_get_ex(p, "severity", &v));
	ck_assert_str_eq(json_object_get_string(v), "critical");
	ck_assert(json_object_object_get_ex(p, "source", &v));
	json_object_put(o);
	free(pd);
	alerts_msg_clear(&m);
}
END_TEST

START_TEST(test_slack_text_is_escaped)
{
	struct alerts_msg	 m;
	struct json_object	*o, *v;
	char			*s;

	ck_assert(parse(am_firing, &m));
	s = alerts_slack_payload(&m);
	o = json_tokener_parse(s);
	ck_assert(json_object_object_get_ex(o, "text", &v));
	ck_assert_ptr_nonnull(strstr(json_object_get_string(v),
	    "*[FIRING:2] HighErrorRate* (alertmanager)"));
	ck_assert_ptr_nonnull(strstr(json_object_get_string(v),
	    "above 1% &lt;for&gt; 5m &amp; more"));
	json_object_put(o);
	free(s);
	alerts_msg_clear(&m);
}
END_TEST

START_TEST(test_grafana_payloads_are_read)
{
	struct alerts_msg	m;
	const char		*unified =
	    "{\"receiver\":\"svc\",\"status\":\"firing\",\"orgId\":1,"
	    "\"alerts\":[{\"status\":\"firing\",\"labels\":{\"alertname\":"
	    "\"LowCacheHitRate\"},\"annotations\":{\"summary\":\"hit rate 60%\"}}],"
	    "\"groupLabels\":{},\"commonLabels\":{},\"externalURL\":"
	    "\"http://grafana.local/\",\"version\":\"1\",\"groupKey\":\"g\","
	    "\"title\":\"[FIRING:1] LowCacheHitRate\",\"state\":\"alerting\","
	    "\"message\":\"hit rate 60%\"}";
	const char		*legacy =
	    "{\"title\":\"[Alerting] p95 latency\",\"ruleId\":1,\"ruleName\":"
	    "\"p95 latency\",\"state\":\"alerting\",\"message\":\"p95 is 800ms\","
	    "\"tags\":{\"severity\":\"critical\"},\"evalMatches\":[]}";

	ck_assert(parse(unified, &m));
	ck_assert_str_eq(m.source, "grafana");
	ck_assert(!m.critical);
	ck_assert_str_eq(m.title, "[FIRING:1] LowCacheHitRate");
	ck_assert_ptr_nonnull(strstr(m.text, "LowCacheHitRate: hit rate 60%"));
	alerts_msg_clear(&m);

	ck_assert(parse(legacy, &m));
	ck_assert_str_eq(m.source, "grafana");
	ck_assert(m.critical);
	ck_assert(!m.resolved);
	ck_assert_str_eq(m.title, "[Alerting] p95 latency");
	ck_assert_ptr_nonnull(strstr(m.text, "p95 is 800ms"));
	alerts_msg_clear(&m);
}
END_TEST

START_TEST(test_plain_message_is_read)
{
	struct alerts_msg	m;

	ck_assert(parse("{\"message\":\"disk almost full\"}", &m));
	ck_assert_str_eq(m.source, "plain");
	ck_assert(!m.critical);
	ck_assert_str_eq(m.title, "disk almost full");
	alerts_msg_clear(&m);
	ck_assert(parse("{\"message\":\"db down\",\"severity\":\"critical\"}",
	    &m));
	ck_assert(m.critical);
	ck_assert_str_eq(m.title, "[critical] db down");
	alerts_msg_clear(&m);
}
END_TEST

START_TEST(test_garbage_is_refused)
{
	static const char *bad[] = {
		"", "not json", "[]", "{}", "42", "\"message\"",
		"{\"alerts\":5}", "{\"alerts\":[]}", "{\"alerts\":[1]}",
		"{\"message\":\"\"}", "{\"message\":5}",
		"{\"message\":\"x\"} trailing", "{\"message\":\"x\"",
		"{\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]],"
		"\"message\":\"deep\"}",
		"{\"message\":\"\xff\xfe\"}",
	};
	struct alerts_msg	m;
	size_t			i;

	for (i = 0; i < nitems(bad); i++)
		ck_assert_msg(!parse(bad[i], &m), "accepted: %s", bad[i]);
}
END_TEST

START_TEST(test_long_groups_are_summarised)
{
	struct alerts_msg	 m;
	struct buf		 b;
	int			 i;

	buf_init(&b);
	buf_puts(&b, "{\"version\":\"4\",\"status\":\"firing\",\"alerts\":[");
	for (i = 0; i < 25; i++)
		buf_printf(&b, "%s{\"status\":\"firing\",\"labels\":"
		    "{\"alertname\":\"A%d\"}}", i ? "," : "", i);
	buf_puts(&b, "]}");
	ck_assert(parse(b.data, &m));
	ck_assert_int_eq(m.count, 25);
	ck_assert_str_eq(m.title, "[FIRING:25] A0");
	ck_assert_ptr_nonnull(strstr(m.text, "- A19"));
	ck_assert_ptr_null(strstr(m.text, "- A20"));
	ck_assert_ptr_nonnull(strstr(m.text, "... and 5 more"));
	alerts_msg_clear(&m);
	buf_free(&b);
}
END_TEST

START_TEST(test_bearer_secret_is_checked)
{
	free(cfg->alert_webhook_secret);
	cfg->alert_webhook_secret = xstrdup("");
	ck_assert(!alerts_authorised("Bearer "));
	ck_assert(!alerts_authorised("Bearer anything"));
	free(cfg->alert_webhook_secret);
	cfg->alert_webhook_secret = xstrdup("s3cret-value");
	ck_assert(alerts_authorised("Bearer s3cret-value"));
	ck_assert(alerts_authorised("bearer s3cret-value"));
	ck_assert(!alerts_authorised("Bearer s3cret-valu"));
	ck_assert(!alerts_authorised("Bearer s3cret-value2"));
	ck_assert(!alerts_authorised("Basic czNjcmV0LXZhbHVl"));
	ck_assert(!alerts_authorised("s3cret-value"));
	ck_assert(!alerts_authorised(NULL));
}
END_TEST

static Suite *
alerts_suite(void)
{
	Suite	*s = suite_create("alerts");
	TCase	*tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_alertmanager_group_is_read);
	tcase_add_test(tc, test_resolved_group_resolves_pagerduty);
	tcase_add_test(tc, test_pagerduty_trigger_payload);
	tcase_add_test(tc, test_slack_text_is_escaped);
	tcase_add_test(tc, test_grafana_payloads_are_read);
	tcase_add_test(tc, test_plain_message_is_read);
	tcase_add_test(tc, test_garbage_is_refused);
	tcase_add_test(tc, test_long_groups_are_summarised);
	tcase_add_test(tc, test_bearer_secret_is_checked);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr = srunner_create(alerts_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
