"""test_alerting.py: POST /webhooks/alerts (auth, limits, garbage, retries of
a failing receiver), Sentry events for a 5xx and a worker crash at a local
Sentry-compatible receiver, scripts/health-check.sh, and the other ops files."""
import json
import os
import re
import signal
import subprocess
import sys
import time
import tomllib
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Stack, TOP_SRCDIR, free_port, wait_for, watchdog  # noqa
from receivers import Receiver  # noqa

watchdog(110)

SECRET = "webhook-secret-for-tests-0123456789"
AM_PAYLOAD = {
    "version": "4", "groupKey": "{}:{alertname=\"LatencyP95High\"}",
    "status": "firing", "receiver": "anilist-gpt",
    "groupLabels": {"alertname": "LatencyP95High"},
    "commonLabels": {"alertname": "LatencyP95High", "severity": "warning"},
    "commonAnnotations": {}, "externalURL": "http://alertmanager.local",
    "alerts": [{"status": "firing", "labels": {
        "alertname": "LatencyP95High", "severity": "warning"},
        "annotations": {"summary": "p95 response time 812ms"},
        "startsAt": "2026-01-01T00:00:00Z", "fingerprint": "f1"}]}


def auth(secret=SECRET):
    return {"Authorization": "Bearer " + secret}


class Webhook(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.slack = Receiver(fail_first=2, fail_status=503)
        cls.pd = Receiver()
        cls.stack = Stack(workers=2, threads=2, memcached=False,
                          upstream=False, config={
                              "ALERT_WEBHOOK_SECRET": SECRET,
                              "SLACK_WEBHOOK_URL": cls.slack.url + "/hook",
                              "PAGERDUTY_ROUTING_KEY": "rk-test",
                              "PAGERDUTY_URL": cls.pd.url + "/v2/enqueue"})
        cls.stack.start()

    @classmethod
    def tearDownClass(cls):
        cls.stack.stop()
        cls.slack.close()
        cls.pd.close()

    def test_refuses_bad_requests(self):
        s = self.stack
        attempts = self.slack.attempts
        cases = [
            (None, b'{"message":"x"}', 401),
            ({"Authorization": "Bearer wrong"}, b'{"message":"x"}', 401),
            ({"Authorization": "Basic " + SECRET}, b'{"message":"x"}', 401),
            (auth(), b"not json at all", 400),
            (auth(), b'{"unknown":"shape"}', 400),
            (auth(), b'{"alerts":"nope"}', 400),
            (auth(), b"[1,2,3]", 400),
            (auth(), b'{"message":"x"} tail', 400),
            (auth(), b"", 400),
            (auth(), b'{"message":"' + b"x" * 70000 + b'"}', 413),
        ]
        for headers, body, want in cases:
            h = dict(headers or {}, **{"Content-Type": "application/json"})
            status, rh, data = s.request("POST", "/webhooks/alerts",
                                         body=body, headers=h)
            self.assertEqual(status, want, (headers, body[:40], data))
            err = json.loads(data)["error"]
            self.assertTrue(err["code"] and err["message"])
            if want == 401:
                self.assertIn("Bearer", rh.get("www-authenticate", ""))
        self.assertEqual(s.request("GET", "/webhooks/alerts")[0], 405)
        self.assertNotIn(SECRET, s.service_log())
        time.sleep(0.3)
        self.assertEqual(self.slack.attempts, attempts)

    def test_alertmanager_warning_reaches_slack_after_retries(self):
        s = self.stack
        status, _, body = s.json("POST", "/webhooks/alerts", AM_PAYLOAD,
                                 auth())
        self.assertEqual((status, body), (200, {"status": "received"}))
        wait_for(lambda: any("LatencyP95High" in b["text"] for b in
                             self.slack.json_bodies("/hook")), timeout=15,
                 what="Slack message after two failures")
        text = [b["text"] for b in self.slack.json_bodies("/hook")
                if "LatencyP95High" in b["text"]][0]
        self.assertIn("[FIRING:1] LatencyP95High", text)
        self.assertIn("[warning] LatencyP95High: p95 response time 812ms",
                      text)
        retried = [l for l in s.log_lines()
                   if l.get("msg") == "notification failed; will retry"]
        self.assertEqual([l["status"] for l in retried], [503, 503])
        self.assertEqual(self.slack.attempts - len(
            self.slack.json_bodies()), 2)
        self.assertNotIn(self.slack.url, s.service_log())
        # A warning never pages.
        time.sleep(0.5)
        self.assertEqual(self.pd.json_bodies(), [])

    def test_plain_critical_message_pages(self):
        s = self.stack
        status, _, body = s.json("POST", "/webhooks/alerts",
                                 {"message": "database unreachable",
                                  "severity": "critical"}, auth())
        self.assertEqual((status, body), (200, {"status": "received"}))
        wait_for(lambda: self.pd.json_bodies(), timeout=10, what="PagerDuty")
        ev = self.pd.json_bodies()[0]
        self.assertEqual(ev["routing_key"], "rk-test")
        self.assertEqual(ev["event_action"], "trigger")
        self.assertEqual(ev["payload"]["severity"], "critical")
        self.assertEqual(ev["payload"]["summary"],
                         "[critical] database unreachable")
        self.assertEqual(self.pd.posts[0]["headers"]["content-type"],
                         "application/json")
        wait_for(lambda: any("database unreachable" in b["text"] for b in
                             self.slack.json_bodies("/hook")), timeout=15,
                 what="the same message at Slack")


class FailingReceiver(unittest.TestCase):
    def test_dead_receiver_is_retried_then_dropped(self):
        dead = "http://127.0.0.1:%d/hook" % free_port()
        with Stack(workers=1, threads=2, memcached=False, upstream=False,
                   config={"ALERT_WEBHOOK_SECRET": SECRET,
                           "SLACK_WEBHOOK_URL": dead}) as s:
            t0 = time.monotonic()
            status, _, body = s.json("POST", "/webhooks/alerts",
                                     {"message": "x"}, auth())
            self.assertEqual(status, 200)
            self.assertLess(time.monotonic() - t0, 5)   # not 4 attempts
            wait_for(lambda: any(l.get("msg") == "notification dropped"
                                 for l in s.log_lines()), timeout=15,
                     what="the final failure logged")
            dropped = [l for l in s.log_lines()
                       if l.get("msg") == "notification dropped"][0]
            self.assertEqual(dropped["attempts"], 4)
            self.assertEqual(dropped["target"], "slack")
            self.assertIn('notifications_total{target="slack",'
                          'result="failed"} 1', s.metrics())
            self.assertEqual(s.request("GET", "/health")[0], 200)


def sentry_events(receiver):
    out = []
    for post in receiver.posts:
        lines = post["body"].decode().strip().split("\n")
        out.append((post, [json.loads(l) for l in lines]))
    return out


class Sentry(unittest.TestCase):
    def test_5xx_and_worker_crash_reach_sentry(self):
        sentry = Receiver()
        dsn = "http://publickey42@127.0.0.1:%d/7" % sentry.port
        try:
            # PostgreSQL down (nothing listens at DATABASE_URL): storing
            # feedback answers 503, a real 5xx.
            dead_db = ("host=127.0.0.1 port=%d dbname=x user=x "
                       "connect_timeout=1" % free_port())
            with Stack(workers=2, threads=2, memcached=False, upstream=False,
                       config={"SENTRY_DSN": dsn,
                               "DATABASE_URL": dead_db}) as s:
                status, _, body = s.json(
                    "POST", "/v1/recommendations/feedback?token=query-secret",
                    {"anime_id": 1, "action": "shown"},
                    {"Cookie": "session=cookie-secret",
                     "X-Request-ID": "req-sentry-1"})
                self.assertEqual(status, 503)
                self.assertEqual(body["error"]["code"],
                                 "feedback_unavailable")
                wait_for(lambda: sentry.posts, timeout=10, what="event")
                post, (head, item, event) = sentry_events(sentry)[0]
                self.assertEqual(post["path"], "/api/7/envelope/")
                self.assertRegex(post["headers"]["x-sentry-auth"],
                                 r"^Sentry sentry_version=7, sentry_client="
                                 r"anilist-gpt/[0-9.]+, sentry_timestamp="
                                 r"\d+, sentry_key=publickey42$")
                self.assertEqual(post["headers"]["content-type"],
                                 "application/x-sentry-envelope")
                self.assertEqual(item["type"], "event")
                self.assertEqual(head["event_id"], event["event_id"])
                self.assertEqual(event["level"], "error")
                self.assertEqual(event["tags"]["status"], "503")
                self.assertEqual(event["tags"]["route"],
                                 "/v1/recommendations/feedback")
                self.assertEqual(event["tags"]["request_id"], "req-sentry-1")
                self.assertIn("HTTP 503 on POST /v1/recommendations/feedback",
                              event["message"]["formatted"])
                raw = post["body"].decode()
                for secret in ("query-secret", "cookie-secret"):
                    self.assertNotIn(secret, raw)

                # Not errors: 4xx, readiness, and the alert webhook of a
                # server without ALERT_WEBHOOK_SECRET (the route is off).
                s.request("GET", "/nope")
                s.request("GET", "/health/ready")
                status, _, body = s.json("POST", "/webhooks/alerts",
                                         {"message": "x"},
                                         {"Authorization": "Bearer x"})
                self.assertEqual(status, 404)
                self.assertEqual(body["error"]["code"], "not_found")
                self.assertIn('http_requests_total{route="/webhooks/alerts",'
                              'method="POST",status="404"} 1', s.metrics())

                victim = s.worker_pids()[0]
                os.kill(victim, signal.SIGABRT)
                wait_for(lambda: len(sentry.posts) >= 2, timeout=15,
                         what="crash event")
                post, (head, item, event) = sentry_events(sentry)[1]
                self.assertEqual(event["level"], "fatal")
                self.assertEqual(event["tags"]["kind"], "worker_crash")
                # SIGABRT: a sanitizer build handles SIGSEGV itself.
                self.assertEqual(event["tags"]["signal"],
                                 str(int(signal.SIGABRT)))
                self.assertIn("worker %d killed by signal %d" % (
                    victim, signal.SIGABRT), event["message"]["formatted"])
                self.assertIn("sentry_key=publickey42",
                              post["headers"]["x-sentry-auth"])
                time.sleep(0.5)
                self.assertEqual(len(sentry.posts), 2)
                wait_for(lambda: 'notifications_total{target="sentry",'
                         'result="sent"} 2' in s.metrics(), timeout=5,
                         what="both deliveries counted")
        finally:
            sentry.close()

    def test_bad_dsn_is_a_start_up_error(self):
        binary = os.path.join(os.environ.get("top_builddir", TOP_SRCDIR),
                              "src", "anilist-gpt")
        r = subprocess.run([binary, "check-config"], capture_output=True,
                           text=True, env={"PATH": os.environ["PATH"],
                                           "ENVIRONMENT": "development",
                                           "SENTRY_DSN": "https://host/1"})
        self.assertEqual(r.returncode, 1)
        self.assertIn("SENTRY_DSN", r.stderr)

    def test_short_webhook_secret_is_a_start_up_error(self):
        binary = os.path.join(os.environ.get("top_builddir", TOP_SRCDIR),
                              "src", "anilist-gpt")
        r = subprocess.run([binary, "check-config"], capture_output=True,
                           text=True, env={"PATH": os.environ["PATH"],
                                           "ENVIRONMENT": "development",
                                           "ALERT_WEBHOOK_SECRET": "x" * 31})
        self.assertEqual(r.returncode, 1)
        self.assertIn("ALERT_WEBHOOK_SECRET", r.stderr)
        self.assertIn("at least 32 bytes", r.stderr)
        self.assertNotIn("x" * 31, r.stderr)


class OpsFiles(unittest.TestCase):
    SCRIPT = os.path.join(TOP_SRCDIR, "scripts", "health-check.sh")

    def run_check(self, url, ca=None):
        env = dict(os.environ)
        if ca:
            env["HEALTH_CHECK_CA"] = ca
        return subprocess.run(["sh", self.SCRIPT, url], capture_output=True,
                              text=True, env=env, timeout=30)

    def test_health_check_script(self):
        with Stack(workers=1, threads=2, memcached=False,
                   upstream=False) as s:
            r = self.run_check(s.url("/health"), s.ca)
            self.assertEqual((r.returncode, r.stdout), (0, "Healthy\n"))
            r = self.run_check(s.url("/health/nope"), s.ca)
            self.assertEqual((r.returncode, r.stdout),
                             (1, "Unhealthy (HTTP 404)\n"))
        r = self.run_check("http://127.0.0.1:%d/health" % free_port())
        self.assertEqual((r.returncode, r.stdout),
                         (1, "Unhealthy (HTTP 000)\n"))
        r = subprocess.run(["sh", self.SCRIPT], capture_output=True,
                           text=True)
        self.assertNotEqual(r.returncode, 0)

    def test_vector_config_is_consistent(self):
        """vector.toml with either source file (the unit's journal, or a
        container's output on stdin) is one whole pipeline."""
        def load(name):
            with open(os.path.join(TOP_SRCDIR, "etc", "vector", name),
                      "rb") as f:
                return tomllib.load(f)
        v = load("vector.toml")
        self.assertNotIn("sources", v)
        for source, kind in (("journald.toml", "journald"),
                             ("stdin.toml", "stdin")):
            sources = load(source)["sources"]
            self.assertEqual(list(sources), ["anilist_gpt"])
            self.assertEqual(sources["anilist_gpt"]["type"], kind)
            ids = set(sources) | set(v["transforms"])
            for k in ("transforms", "sinks"):
                for name, c in v[k].items():
                    for i in c["inputs"]:
                        self.assertIn(i, ids, "%s.%s reads %s" % (k, name, i))
        self.assertEqual(load("journald.toml")["sources"]["anilist_gpt"]
                         ["include_units"], ["anilist-gpt.service"])
        self.assertIn("parse_json(.message)",
                      v["transforms"]["parsed"]["source"])

    def test_statsd_config_has_graphite_and_percentiles(self):
        with open(os.path.join(TOP_SRCDIR, "etc", "statsd",
                               "config.js")) as f:
            text = f.read()
        r = subprocess.run(["node", "-e", "const c = eval('(' + require('fs')"
                            ".readFileSync(process.argv[1], 'utf8') + ')');"
                            "console.log(JSON.stringify(c))",
                            os.path.join(TOP_SRCDIR, "etc", "statsd",
                                         "config.js")],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        c = json.loads(r.stdout)
        self.assertEqual(c["percentThreshold"], [50, 95, 99])
        self.assertEqual(c["backends"], ["./backends/graphite"])
        self.assertEqual(c["port"], 8125)
        self.assertIn("graphitePort", text)

    def test_workflows(self):
        wf = os.path.join(TOP_SRCDIR, ".github", "workflows")
        with open(os.path.join(wf, "ci.yml")) as f:
            ci = f.read()
        self.assertIn("./scripts/check", ci)
        with open(os.path.join(wf, "monitor.yml")) as f:
            mon = f.read()
        self.assertIn('cron: "*/5 * * * *"', mon)
        self.assertIn("scripts/health-check.sh \"$SERVICE_URL/health\"", mon)
        self.assertIn("/health/db", mon)
        self.assertIn("secrets.SLACK_WEBHOOK_URL", mon)
        parsed = subprocess.run(
            ["/usr/bin/python3", "-c", "import sys, yaml\n"
             "for p in sys.argv[1:]: yaml.safe_load(open(p))",
             os.path.join(wf, "ci.yml"), os.path.join(wf, "monitor.yml")],
            capture_output=True, text=True)
        self.assertEqual(parsed.returncode, 0, parsed.stderr)

    def test_monitor_checks_its_service_url(self):
        """monitor.yml documents SERVICE_URL and its first step refuses a
        missing or malformed one (run here with bash, as the runner does)."""
        wf = os.path.join(TOP_SRCDIR, ".github", "workflows", "monitor.yml")
        with open(wf) as f:
            text = f.read()
        self.assertIn("variable SERVICE_URL", text)
        r = subprocess.run(["/usr/bin/python3", "-c", "import sys, yaml, "
                            "json\nprint(json.dumps(yaml.safe_load("
                            "open(sys.argv[1]))))", wf],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        steps = json.loads(r.stdout)["jobs"]["health"]["steps"]
        check = [st for st in steps if st.get("name") == "SERVICE_URL"][0]
        for url, ok, says in (
                ("https://anilist-gpt.fly.dev", True, "monitoring"),
                ("", False, "SERVICE_URL is not set"),
                ("http://anilist-gpt.fly.dev", False, "https:// origin"),
                ("https://anilist-gpt.fly.dev/", False, "must not end"),
                ("https://", False, "https:// origin")):
            r = subprocess.run(["bash", "-e", "-c", check["run"]],
                               capture_output=True, text=True,
                               env={"PATH": os.environ["PATH"],
                                    "SERVICE_URL": url})
            self.assertEqual(r.returncode == 0, ok, (url, r.stdout))
            self.assertIn(says, r.stdout, url)


if __name__ == "__main__":
    unittest.main(verbosity=2)
