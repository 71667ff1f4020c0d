"""test_monitoring.py: the Fly monitoring app (fly.monitoring.toml,
etc/monitoring/) for real on loopback: its entrypoint writes the secrets,
renders the shipped configs with etc/monitoring/render (loopback addresses
and ports in place of Fly's), and runs Debian's Prometheus and Alertmanager
against the stack behind the production Caddyfile. A forced error rate and
then stopped workers fire the shipped alerts, which reach a PagerDuty
stand-in and a Slack stand-in directly (also while the service is down) and
the service's webhook as a copy. promtool and amtool check the files; the
Fly files agree with each other."""
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import tomllib
import unittest
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Proc, Stack, TOP_SRCDIR, free_port, port_open, wait_for, watchdog  # noqa
from front import ProductionCaddy  # noqa
from receivers import Receiver  # noqa

watchdog(170)

ETC = os.path.join(TOP_SRCDIR, "etc")
RENDER = os.path.join(ETC, "monitoring", "render")
ENTRYPOINT = os.path.join(ETC, "monitoring", "entrypoint")
SHIPPED = {"prometheus.fly.yml": os.path.join(ETC, "prometheus"),
           "alerts.yml": os.path.join(ETC, "prometheus"),
           "alertmanager.fly.yml": os.path.join(ETC, "alertmanager")}
WEBHOOK_SECRET = "monitoring-test-webhook-secret-0123456789"
ROUTING_KEY = "monitoring-test-routing-key"


def tool(*names):
    for n in names:
        if shutil.which(n):
            return shutil.which(n)
    raise AssertionError("missing %s: apt-get install prometheus "
                         "prometheus-alertmanager" % names[0])


def load_toml(name):
    with open(os.path.join(TOP_SRCDIR, name), "rb") as f:
        return tomllib.load(f)


def copy_shipped(dest):
    os.makedirs(dest, exist_ok=True)
    for name, d in SHIPPED.items():
        shutil.copy(os.path.join(d, name), dest)


def render(src, out, env):
    e = {"PATH": os.environ["PATH"]}
    e.update(env)
    r = subprocess.run(["sh", RENDER, src, out], capture_output=True,
                       text=True, env=e)
    if r.returncode != 0:
        raise AssertionError("render: " + r.stderr)


class Files(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="agpt-mon-files-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def test_shipped_files_pass_promtool_and_amtool(self):
        r = subprocess.run([tool("promtool"), "check", "config", os.path.join(
            ETC, "prometheus", "prometheus.fly.yml")], capture_output=True,
            text=True)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("12 rules found", r.stdout + r.stderr)
        r = subprocess.run([tool("amtool"), "check-config", os.path.join(
            ETC, "alertmanager", "alertmanager.fly.yml")],
            capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_render_changes_only_addresses_ports_and_paths(self):
        src = os.path.join(self.dir, "src")
        copy_shipped(src)
        render(src, os.path.join(self.dir, "fly"), {})
        for shipped, out in (("prometheus.fly.yml", "prometheus.yml"),
                             ("alertmanager.fly.yml", "alertmanager.yml"),
                             ("alerts.yml", "alerts.yml")):
            with open(os.path.join(src, shipped)) as a, \
                    open(os.path.join(self.dir, "fly", out)) as b:
                self.assertEqual(a.read(), b.read(), shipped)
        render(src, os.path.join(self.dir, "lo"), {
            "SCRAPE_TARGETS": "127.0.0.1:1,127.0.0.1:2",
            "ALERTMANAGER_ADDRESS": "127.0.0.1:3",
            "PROMETHEUS_ADDRESS": "127.0.0.1:4",
            "SERVICE_WEBHOOK_URL": "http://127.0.0.1:5/webhooks/alerts",
            "PAGERDUTY_URL": "http://127.0.0.1:6/v2/enqueue",
            "SECRETS_DIR": "/tmp/s"})
        with open(os.path.join(self.dir, "lo", "prometheus.yml")) as f:
            text = f.read()
        self.assertIn('targets: ["127.0.0.1:1", "127.0.0.1:2"]', text)
        self.assertNotIn("dns_sd_configs", text)
        r = subprocess.run([tool("promtool"), "check", "config",
                            os.path.join(self.dir, "lo", "prometheus.yml")],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        r = subprocess.run([tool("amtool"), "check-config",
                            os.path.join(self.dir, "lo", "alertmanager.yml")],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        # A value that would change more than an address is refused.
        e = {"PATH": os.environ["PATH"], "MONITORED_APP": 'x" y'}
        r = subprocess.run(["sh", RENDER, src, os.path.join(self.dir, "x")],
                           capture_output=True, text=True, env=e)
        self.assertEqual(r.returncode, 2)

    def test_prometheus_discovers_the_apps_machines_over_private_dns(self):
        with open(os.path.join(ETC, "prometheus", "prometheus.fly.yml")) as f:
            text = f.read()
        self.assertIn('names: ["anilist-gpt.internal"]', text)
        self.assertIn("type: AAAA", text)
        self.assertIn("port: 9180", text)
        self.assertIn("  - alerts.yml", text)

    def test_alertmanager_delivers_directly_without_secrets_in_the_file(self):
        with open(os.path.join(ETC, "alertmanager",
                               "alertmanager.fly.yml")) as f:
            text = f.read()
        for needle in ("routing_key_file:", "api_url_file:",
                       "credentials_file:", "pagerduty_configs:",
                       "slack_configs:", "webhook_configs:",
                       "/webhooks/alerts", "severity = \"critical\""):
            self.assertIn(needle, text)
        self.assertNotRegex(text, r"hooks\.slack\.com|routing_key:|"
                                  r"api_url:|credentials:")

    def test_fly_files_agree(self):
        prod = load_toml("fly.production.toml")
        mon = load_toml("fly.monitoring.toml")
        self.assertEqual(mon["env"]["MONITORED_APP"], prod["app"])
        self.assertEqual(int(mon["env"]["METRICS_PORT"]),
                         prod["metrics"]["port"])
        self.assertEqual(mon["mounts"]["destination"], "/data")
        self.assertNotIn("services", mon)
        self.assertTrue(os.path.exists(os.path.join(
            TOP_SRCDIR, mon["build"]["dockerfile"])))
        with open(os.path.join(TOP_SRCDIR, mon["build"]["dockerfile"])) as f:
            docker = f.read()
        self.assertIn("prometheus prometheus-alertmanager", docker)
        for line in re.findall(r"(?ms)^COPY (.*?)(?<!\\)$", docker):
            for path in line.replace("\\\n", " ").split()[:-1]:
                self.assertTrue(os.path.exists(os.path.join(TOP_SRCDIR,
                                                            path)), path)
        # Production: only /health routes; db and ready only report.
        service = prod["services"][0]
        self.assertEqual([c["path"] for c in service["http_checks"]],
                         ["/health"])
        self.assertEqual(sorted(c["path"] for c in prod["checks"].values()),
                         ["/health/db", "/health/ready"])
        for c in prod["checks"].values():
            self.assertEqual(c["port"], service["internal_port"])
            self.assertEqual(c["type"], "http")
        self.assertEqual(prod["env"]["ANILIST_REDIRECT_URI"],
                         prod["env"]["PUBLIC_URL"] + "/auth/callback")

    def test_entrypoint_refuses_to_start_without_secrets(self):
        r = subprocess.run(["sh", ENTRYPOINT], capture_output=True,
                           text=True, env={"PATH": os.environ["PATH"],
                                           "SLACK_WEBHOOK_URL": "http://x/"},
                           timeout=20)
        self.assertEqual(r.returncode, 1)
        self.assertIn("PAGERDUTY_ROUTING_KEY ALERT_WEBHOOK_SECRET", r.stderr)


class RealMonitoring(unittest.TestCase):
    """The entrypoint, as on Fly, with loopback addresses."""

    def setUp(self):
        tool("prometheus")
        tool("prometheus-alertmanager", "alertmanager")
        self.dir = tempfile.mkdtemp(prefix="agpt-mon-")
        self.proc = None

    def tearDown(self):
        if self.proc is not None:
            self.proc.stop()
            if os.environ.get("ANILIST_GPT_TEST_VERBOSE"):
                sys.stderr.write(self.proc.output()[-4000:])
        shutil.rmtree(self.dir, ignore_errors=True)

    def start(self, front, slack, pd):
        """The image's entrypoint; only timings are shortened for the test
        (scrapes every second, rules' `for` of a few seconds)."""
        src = os.path.join(self.dir, "src")
        copy_shipped(src)
        for name in SHIPPED:
            path = os.path.join(src, name)
            with open(path) as f:
                text = f.read()
            text = (text.replace("15s", "1s")
                    .replace("scrape_timeout: 10s", "scrape_timeout: 1s")
                    .replace("group_wait: 30s", "group_wait: 1s")
                    .replace("group_interval: 5m", "group_interval: 1s")
                    .replace("for: 5m", "for: 3s")
                    .replace("for: 1m", "for: 3s"))
            with open(path, "w") as f:
                f.write(text)
        self.prom_port, am_port = free_port(), free_port()
        self.secrets = os.path.join(self.dir, "secrets")
        env = {"PATH": os.environ["PATH"], "HOME": self.dir,
               "CONFIG_SRC": src,
               "CONFIG_DIR": os.path.join(self.dir, "conf"),
               "DATA_DIR": os.path.join(self.dir, "data"),
               "SECRETS_DIR": self.secrets,
               "SCRAPE_TARGETS": "127.0.0.1:%d" % front.metrics_port,
               "PROMETHEUS_LISTEN": "127.0.0.1:%d" % self.prom_port,
               "PROMETHEUS_ADDRESS": "127.0.0.1:%d" % self.prom_port,
               "ALERTMANAGER_LISTEN": "127.0.0.1:%d" % am_port,
               "ALERTMANAGER_ADDRESS": "127.0.0.1:%d" % am_port,
               "SERVICE_WEBHOOK_URL": "http://127.0.0.1:%d/webhooks/alerts"
                                      % front.port,
               "PAGERDUTY_URL": pd.url + "/v2/enqueue",
               "SLACK_WEBHOOK_URL": slack.url + "/slack",
               "PAGERDUTY_ROUTING_KEY": ROUTING_KEY,
               "ALERT_WEBHOOK_SECRET": WEBHOOK_SECRET,
               "ALERTMANAGER": tool("prometheus-alertmanager",
                                    "alertmanager"),
               "PROMETHEUS": tool("prometheus")}
        self.proc = Proc("monitoring", ["sh", ENTRYPOINT], env, self.dir)
        wait_for(lambda: port_open(self.prom_port) and port_open(am_port),
                 timeout=40, what="prometheus and alertmanager")

    def query(self, expr):
        url = "http://127.0.0.1:%d/api/v1/query?%s" % (
            self.prom_port, urllib.parse.urlencode({"query": expr}))
        with urllib.request.urlopen(url, timeout=10) as r:
            out = json.loads(r.read())
        self.assertEqual(out["status"], "success", out)
        return out["data"]["result"]

    def up(self):
        res = self.query('up{job="anilist-gpt"}')
        return float(res[0]["value"][1]) if res else None

    @staticmethod
    def slack_texts(slack):
        out = []
        for b in slack.json_bodies("/slack"):
            for a in b.get("attachments", []):
                out.append(a.get("title", "") + "\n" + a.get("text", ""))
        return out

    @staticmethod
    def paged(pd, alertname):
        return [e for e in pd.json_bodies("/v2/enqueue")
                if alertname in json.dumps(e.get("payload", {}))]

    def test_faults_page_and_reach_slack_directly(self):
        slack, pd = Receiver(), Receiver()
        dead_db = ("host=127.0.0.1 port=%d dbname=x user=x "
                   "connect_timeout=1" % free_port())
        try:
            with Stack(workers=2, threads=2, memcached=False, upstream=False,
                       config={"ALERT_WEBHOOK_SECRET": WEBHOOK_SECRET,
                               "DATABASE_URL": dead_db}) as s:
                front = ProductionCaddy(s)
                try:
                    self.run_faults(s, front, slack, pd)
                finally:
                    front.close()
        finally:
            slack.close()
            pd.close()

    def run_faults(self, s, front, slack, pd):
        self.start(front, slack, pd)
        for name in ("slack-webhook-url", "pagerduty-routing-key",
                     "alert-webhook-secret"):
            mode = os.stat(os.path.join(self.secrets, name)).st_mode
            self.assertEqual(stat.S_IMODE(mode), 0o600, name)
        with open(os.path.join(self.dir, "conf", "alertmanager.yml")) as f:
            self.assertNotIn(WEBHOOK_SECRET, f.read())
        wait_for(lambda: self.up() == 1, timeout=40, what="first scrape")

        # Fault 1: PostgreSQL down, so storing feedback answers 503: a
        # forced error rate over 1 % (ErrorRateCritical, critical).
        for _ in range(40):
            status = front.request("POST", "/v1/recommendations/feedback",
                                   json.dumps({"anime_id": 1,
                                               "action": "shown"}),
                                   {"Content-Type": "application/json"})[0]
            self.assertEqual(status, 503)
            front.request("GET", "/health")
        wait_for(lambda: self.paged(pd, "ErrorRateCritical"), timeout=60,
                 what="ErrorRateCritical at PagerDuty")
        event = self.paged(pd, "ErrorRateCritical")[0]
        self.assertEqual(event["routing_key"], ROUTING_KEY)
        self.assertEqual(event["event_action"], "trigger")
        wait_for(lambda: any("ErrorRateCritical" in t
                             for t in self.slack_texts(slack)), timeout=20,
                 what="ErrorRateCritical at Slack")
        text = [t for t in self.slack_texts(slack)
                if "ErrorRateCritical" in t][0]
        self.assertIn("[FIRING:1] ErrorRateCritical", text)
        self.assertIn("5xx error rate", text)
        # The copy reached the service's webhook (the bearer secret from
        # the secret file).
        wait_for(lambda: any(l.get("msg") == "alert received" and
                             "ErrorRateCritical" in l.get("title", "")
                             for l in s.log_lines()), timeout=20,
                 what="the copy at /webhooks/alerts")
        self.assertNotIn(WEBHOOK_SECRET, s.service_log())
        self.assertNotIn(WEBHOOK_SECRET, self.proc.output())

        # Fault 2: the workers stopped. /metrics fails (Caddy's 502),
        # TargetDown pages, although the service's webhook cannot relay.
        s.service().stop()
        wait_for(lambda: self.up() == 0, timeout=30, what="up == 0")
        wait_for(lambda: self.paged(pd, "TargetDown"), timeout=60,
                 what="TargetDown at PagerDuty")
        self.assertEqual(self.paged(pd, "TargetDown")[0]["routing_key"],
                         ROUTING_KEY)
        wait_for(lambda: any("TargetDown" in t
                             for t in self.slack_texts(slack)), timeout=20,
                 what="TargetDown at Slack")


class ZeroSeries(unittest.TestCase):
    def test_labelled_series_are_exported_at_zero_from_the_start(self):
        with Stack(workers=1, threads=2, memcached=False,
                   upstream=False) as s:
            text = s.metrics()
        for line in (
                'recommendation_feedback_total{action="dismissed"} 0',
                'recommendation_feedback_total{action="accepted"} 0',
                'recommendation_feedback_total{action="added_to_list"} 0',
                'oauth_logins_total{result="success",reason=""} 0',
                'oauth_logins_total{result="failure",reason="denied"} 0',
                'cache_requests_total{kind="search",result="hit"} 0',
                'cache_requests_total{kind="media",result="stale"} 0',
                'anilist_requests_total{result="timeout"} 0',
                'anilist_requests_total{result="breaker_open"} 0',
                'notifications_total{target="pagerduty",result="failed"} 0',
                'alerts_received_total{source="alertmanager"} 0',
                'rate_limit_fail_open_total{reason="cache"} 0',
                'search_stats_dropped_total{reason="database"} 0',
                'http_requests_total{route="/v1/anime/search",method="GET",'
                'status="503"} 0',
                'http_requests_total{route="/v1/recommendations/feedback",'
                'method="POST",status="500"} 0',
                'http_requests_total{route="/health/db",method="GET",'
                'status="200"} 0'):
            self.assertIn("\n" + line + "\n", text, line)
        self.assertIn("\nmetrics_series_dropped_total 0\n", text)


if __name__ == "__main__":
    unittest.main(verbosity=2)
