"""test_prometheus.py: the shipped Prometheus, Alertmanager and Grafana files
with the real tools: promtool/amtool checks, a real Prometheus scraping the
stack under load (the dashboard queries answer, counts equal what was sent
across workers), every Grafana query names a metric the service exports, and
a firing rule travels Prometheus -> Alertmanager -> /webhooks/alerts -> a
Slack-compatible receiver."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Proc, Stack, TOP_SRCDIR, free_port, port_open, wait_for, watchdog  # noqa
from receivers import Receiver  # noqa

watchdog(115)

ETC = os.path.join(TOP_SRCDIR, "etc")
PROMTOOL = shutil.which("promtool")
PROMETHEUS = shutil.which("prometheus")
ALERTMANAGER = (shutil.which("prometheus-alertmanager") or
                shutil.which("alertmanager"))
AMTOOL = shutil.which("amtool")
WEBHOOK_SECRET = "alert-webhook-test-secret-0123456789"
# Series Prometheus makes itself (a scrape answered or not).
PROMETHEUS_OWN = {"up"}
PROMQL_WORDS = {"by", "without", "on", "ignoring", "group_left",
                "group_right", "and", "or", "unless", "bool", "offset"}


def require():
    """The real tools are part of the test setup: missing is a failure."""
    for tool, package in ((PROMTOOL, "prometheus"), (PROMETHEUS, "prometheus"),
                          (AMTOOL, "prometheus-alertmanager"),
                          (ALERTMANAGER, "prometheus-alertmanager")):
        if tool is None:
            raise AssertionError("missing: apt-get install " + package)


def exported_names(exposition):
    names = set()
    for line in exposition.splitlines():
        m = re.match(r"# TYPE (\S+) (\S+)", line)
        if m:
            names.add(m.group(1))
            if m.group(2) == "histogram":
                names |= {m.group(1) + s for s in ("_bucket", "_sum",
                                                   "_count")}
    return names


def metric_names(expr):
    """Metric names an expression reads (functions, labels, words removed)."""
    e = re.sub(r'"(\\.|[^"\\])*"', '""', expr)
    e = re.sub(r"\{[^}]*\}", "", e)
    e = re.sub(r"\[[^\]]*\]", "", e)
    e = re.sub(r"\b(by|without|on|ignoring)\s*\([^)]*\)", "", e)
    out = set()
    for m in re.finditer(r"\b([a-zA-Z_:][a-zA-Z0-9_:]*)\b(\s*\()?", e):
        if m.group(2) or m.group(1) in PROMQL_WORDS:
            continue
        out.add(m.group(1))
    return out


def dashboard_exprs():
    with open(os.path.join(ETC, "grafana", "anilist-gpt.json")) as f:
        dash = json.load(f)
    exprs = []
    for p in dash["panels"]:
        for t in p.get("targets", []):
            if "expr" in t:
                exprs.append((p["title"], t["expr"]))
    return dash, exprs


class ConfigChecks(unittest.TestCase):
    def setUp(self):
        require()
    def test_promtool_accepts_config_and_rules(self):
        r = subprocess.run([PROMTOOL, "check", "config", os.path.join(
            ETC, "prometheus", "prometheus.yml")], capture_output=True,
            text=True)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("12 rules found", r.stdout + r.stderr)
        r = subprocess.run([PROMTOOL, "check", "rules", os.path.join(
            ETC, "prometheus", "alerts.yml")], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_promtool_rule_tests_pass(self):
        """DiskSpaceLow and MemoryHigh on made-up series (promtool's own
        rule tests: they fire, per machine and path, and only then)."""
        r = subprocess.run([PROMTOOL, "test", "rules", os.path.join(
            TOP_SRCDIR, "tests", "prometheus", "alerts_test.yml")],
            capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("SUCCESS", r.stdout + r.stderr)

    def test_alert_rules_hold_the_sla_thresholds(self):
        with open(os.path.join(ETC, "prometheus", "alerts.yml")) as f:
            text = f.read()
        for needle in ('> 0.001', '> 0.01', 'histogram_quantile(0.95',
                       '> 0.5', 'histogram_quantile(0.99', '> 1\n',
                       'result="hit"', '< 0.8', 'process_resident_memory',
                       '> 0.8', 'up{job="anilist-gpt"} == 0',
                       'result="ratelimited"', 'filesystem_avail_bytes',
                       '< 0.1\n'):
            self.assertIn(needle, text)
        with open(os.path.join(TOP_SRCDIR, "docs", "MONITORING.md")) as f:
            doc = f.read().lower()
        for name in re.findall(r"- alert: (\w+)", text):
            self.assertIn("### " + name.lower(), doc,
                          "no runbook for " + name)

    def test_amtool_accepts_alertmanager_config(self):
        r = subprocess.run([AMTOOL, "check-config", os.path.join(
            ETC, "alertmanager", "alertmanager.yml")], capture_output=True,
            text=True)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        with open(os.path.join(ETC, "alertmanager", "alertmanager.yml")) as f:
            text = f.read()
        self.assertIn("/webhooks/alerts", text)
        self.assertIn("type: Bearer", text)
        self.assertNotIn(WEBHOOK_SECRET, text)


class RealPrometheus(unittest.TestCase):
    def setUp(self):
        require()
        self.dir = tempfile.mkdtemp(prefix="agpt-prom-")
        self.procs = []

    def tearDown(self):
        for p in self.procs:
            p.stop()
            if os.environ.get("ANILIST_GPT_TEST_VERBOSE"):
                sys.stderr.write(p.output()[-3000:])
        shutil.rmtree(self.dir, ignore_errors=True)

    def start_alertmanager(self, stack):
        port = free_port()
        secret = os.path.join(self.dir, "webhook-secret")
        with open(secret, "w") as f:
            f.write(WEBHOOK_SECRET)
        with open(os.path.join(ETC, "alertmanager", "alertmanager.yml")) as f:
            text = f.read()
        text = text.replace("https://localhost:8443/webhooks/alerts",
                            stack.url("/webhooks/alerts"))
        text = text.replace("/etc/anilist-gpt/alert-webhook-secret", secret)
        text = text.replace("            credentials_file: " + secret,
                            "            credentials_file: " + secret +
                            "\n          tls_config:\n            ca_file: " +
                            stack.ca)
        text = text.replace("group_wait: 30s", "group_wait: 1s")
        text = text.replace("group_interval: 5m", "group_interval: 1s")
        conf = os.path.join(self.dir, "alertmanager.yml")
        with open(conf, "w") as f:
            f.write(text)
        self.procs.append(Proc("alertmanager", [
            ALERTMANAGER, "--config.file=" + conf,
            "--storage.path=" + os.path.join(self.dir, "am"),
            "--web.listen-address=127.0.0.1:%d" % port,
            "--cluster.listen-address="], os.environ.copy(), self.dir))
        wait_for(lambda: port_open(port), timeout=20, what="alertmanager")
        return port

    def start_prometheus(self, stack, am_port):
        port = free_port()
        with open(os.path.join(ETC, "prometheus", "prometheus.yml")) as f:
            text = f.read()
        text = text.replace("15s", "1s").replace("scrape_timeout: 10s",
                                                 "scrape_timeout: 1s")
        text = text.replace("127.0.0.1:9180", "127.0.0.1:%d" %
                            stack.metrics_port)
        text = text.replace("127.0.0.1:9093", "127.0.0.1:%d" % am_port)
        text = text.replace("  - alerts.yml\n",
                            "  - alerts.yml\n  - test-rules.yml\n")
        with open(os.path.join(self.dir, "prometheus.yml"), "w") as f:
            f.write(text)
        shutil.copy(os.path.join(ETC, "prometheus", "alerts.yml"), self.dir)
        with open(os.path.join(self.dir, "test-rules.yml"), "w") as f:
            f.write("groups:\n  - name: test\n    rules:\n"
                    "      - alert: IntegrationTestAlert\n"
                    "        expr: sum(http_requests_total{route=\"/health\"})"
                    " > 0\n"
                    "        labels:\n          severity: critical\n"
                    "        annotations:\n"
                    "          summary: \"integration test: alert path "
                    "works\"\n")
        self.procs.append(Proc("prometheus", [
            PROMETHEUS, "--config.file=" + os.path.join(self.dir,
                                                         "prometheus.yml"),
            "--storage.tsdb.path=" + os.path.join(self.dir, "tsdb"),
            "--web.listen-address=127.0.0.1:%d" % port],
            os.environ.copy(), self.dir))
        wait_for(lambda: port_open(port), timeout=30, what="prometheus")
        self.prom = "http://127.0.0.1:%d" % port
        return port

    def query(self, expr):
        url = self.prom + "/api/v1/query?" + urllib.parse.urlencode(
            {"query": expr})
        with urllib.request.urlopen(url, timeout=10) as r:
            out = json.loads(r.read())
        self.assertEqual(out["status"], "success", out)
        return out["data"]["result"]

    def value(self, expr):
        res = self.query(expr)
        return float(res[0]["value"][1]) if res else None

    def test_scrape_under_load_and_alert_path(self):
        slack = Receiver()
        pd = Receiver()
        config = {"ALERT_WEBHOOK_SECRET": WEBHOOK_SECRET,
                  "SLACK_WEBHOOK_URL": slack.url + "/slack",
                  "PAGERDUTY_ROUTING_KEY": "test-routing-key",
                  "PAGERDUTY_URL": pd.url + "/v2/enqueue"}
        try:
            with Stack(workers=3, threads=4, memcached=False, upstream=False,
                       config=config) as s:
                am = self.start_alertmanager(s)
                self.start_prometheus(s, am)
                try:
                    wait_for(lambda: self.value('up{job="anilist-gpt"}') ==
                             1, timeout=45, what="first scrape")
                except TimeoutError:
                    with urllib.request.urlopen(self.prom +
                                                "/api/v1/targets") as r:
                        self.fail("no scrape: %r" % r.read()[:800])
                key = ('http_requests_total{route="/health",method="GET",'
                       'status="200"}')
                before = float(re.search(re.escape(key) + r" (\S+)",
                                         s.metrics()).group(1))
                sent, stop = [0], time.monotonic() + 6
                lock = threading.Lock()

                def load():
                    while time.monotonic() < stop:
                        if s.request("GET", "/health")[0] == 200:
                            with lock:
                                sent[0] += 1
                threads = [threading.Thread(target=load) for _ in range(6)]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                want = before + sent[0]
                try:
                    wait_for(lambda: self.value("sum(%s)" % key) == want,
                             timeout=20, what="every request in Prometheus")
                except TimeoutError:
                    self.fail("sent %d after %d: Prometheus has %s, "
                              "/metrics %s" % (sent[0], before, self.value(
                                  "sum(%s)" % key), re.search(
                                  re.escape(key) + r" (\S+)",
                                  s.metrics()).group(1)))
                self.assertGreater(sent[0], 100)

                rate = self.query("rate(http_requests_total[5m])")
                self.assertTrue(rate)
                self.assertTrue(any(float(r["value"][1]) > 0 for r in rate))
                p95 = self.query("histogram_quantile(0.95, rate("
                                 "http_request_duration_seconds_bucket[5m]))")
                health = [r for r in p95
                          if r["metric"].get("route") == "/health"]
                self.assertEqual(len(health), 1, p95)
                v = float(health[0]["value"][1])
                self.assertGreater(v, 0)
                self.assertLessEqual(v, 0.5)

                # Every dashboard query is valid PromQL over real data.
                _, exprs = dashboard_exprs()
                for title, expr in exprs:
                    self.query(expr.replace("$__range", "5m"))

                # The firing rule reached Slack through the webhook.
                wait_for(lambda: any("IntegrationTestAlert" in b.get("text",
                                                                      "")
                                     for b in slack.json_bodies("/slack")),
                         timeout=40, what="alert at the Slack receiver")
                text = [b["text"] for b in slack.json_bodies("/slack")
                        if "IntegrationTestAlert" in b["text"]][0]
                self.assertIn("[FIRING:1] IntegrationTestAlert", text)
                self.assertIn("integration test: alert path works", text)
                self.assertIn("(alertmanager)", text)
                wait_for(lambda: pd.json_bodies(), timeout=10,
                         what="critical alert at PagerDuty")
                event = pd.json_bodies()[0]
                self.assertEqual(event["routing_key"], "test-routing-key")
                self.assertEqual(event["event_action"], "trigger")
                logged = [l for l in s.log_lines()
                          if l.get("msg") == "alert received"]
                self.assertEqual(logged[0]["source"], "alertmanager")
                self.assertNotIn(WEBHOOK_SECRET, s.service_log())
        finally:
            slack.close()
            pd.close()


class Dashboard(unittest.TestCase):
    def test_every_panel_query_names_an_exported_metric(self):
        dash, exprs = dashboard_exprs()
        titles = " ".join(p["title"].lower() for p in dash["panels"])
        for want in ("requests per minute", "p95", "p99", "average",
                     "error rate", "cache hit rate", "active connections",
                     "top searched", "tool usage", "oauth success",
                     "upstream budget"):
            self.assertIn(want, titles)
        with Stack(workers=1, threads=2, memcached=False,
                   upstream=False) as s:
            names = exported_names(s.metrics())
        self.assertGreater(len(exprs), 20)
        for title, expr in exprs:
            used = metric_names(expr)
            self.assertTrue(used, "%s: no metric in %s" % (title, expr))
            for name in used - PROMETHEUS_OWN:
                self.assertIn(name, names, "%s: %s not exported" %
                              (title, name))
        self.assertIn('rate(http_requests_total[5m])',
                      " ".join(e for _, e in exprs))
        self.assertIn('histogram_quantile(0.95, rate('
                      'http_request_duration_seconds_bucket[5m]))',
                      " ".join(e for _, e in exprs))


if __name__ == "__main__":
    unittest.main(verbosity=2)
