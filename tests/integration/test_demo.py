"""test_demo.py: scripts/demo starts the whole local stack for real, serves
every feature a person tries first, and stops leaving no process behind.

The script runs as a person would run it, with a private state directory,
every port 0 (any free one) and DEMO_BINARY = the binary under test, so it
never builds, never needs the network and never meets another stack or a
person's running demo. Processes are checked by pid: everything in the
sessions and process trees of what the script started.
"""
import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from oauth_flow import Browser  # noqa: E402

SCRIPT = os.path.join(harness.TOP_SRCDIR, "scripts", "demo")
WATCHDOG_S = 85
SERVICES = ("memcached", "upstream", "anilist-gpt", "caddy", "prometheus")
MCP_HEADERS = {"Content-Type": "application/json",
               "Accept": "application/json, text/event-stream"}

_active = None      # the test whose demo the watchdog must stop


def _on_alarm(signum, frame):
    sys.stderr.write("watchdog: test_demo exceeded %ds\n" % WATCHDOG_S)
    if _active is not None:
        _active.cleanup()
    os._exit(99)


def proc_table():
    """pid -> (state, ppid, pgrp, session, starttime) of every process."""
    out = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                rest = f.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        out[int(name)] = (rest[0], int(rest[1]), int(rest[2]), int(rest[3]),
                          rest[19])
    return out


def alive(pid, starttime):
    """The same process (by start time) still runs (a zombie is gone)."""
    p = proc_table().get(pid)
    return p is not None and p[4] == starttime and p[0] != "Z"


class DemoScript(unittest.TestCase):

    def setUp(self):
        global _active
        if os.geteuid() != 0:
            self.skipTest("scripts/demo runs PostgreSQL as the postgres "
                          "user: needs root")
        self.state = tempfile.mkdtemp(prefix="agpt-demo-")
        os.chmod(self.state, 0o755)
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith("DEMO_")}
        self.env.update({
            "DEMO_STATE_DIR": self.state,
            "DEMO_BINARY": harness.BINARY,
            "CADDY_LOG_LEVEL": "ERROR",
        })
        for var in ("PORT", "HTTP_PORT", "METRICS_PORT", "MEMCACHED_PORT",
                    "UPSTREAM_PORT", "PG_PORT", "PROMETHEUS_PORT"):
            self.env["DEMO_" + var] = "0"
        self.running = None
        self.seen = {}          # pid -> starttime of everything started
        _active = self
        signal.signal(signal.SIGALRM, _on_alarm)
        signal.alarm(WATCHDOG_S)

    def tearDown(self):
        global _active
        self.cleanup()
        signal.alarm(0)
        _active = None

    def cleanup(self):
        """Stop the demo whatever state it is in; kill what is left."""
        if getattr(self, "state", None) is None:
            return
        if self.running is not None and self.running.poll() is None:
            os.killpg(self.running.pid, signal.SIGKILL)
            self.running.wait(5)
        self.collect()
        try:
            subprocess.run([SCRIPT, "stop"], env=self.env, timeout=40,
                           stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            pass
        for pid, start in self.seen.items():
            if alive(pid, start):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        if os.environ.get("ANILIST_GPT_KEEP_TMP") is None:
            shutil.rmtree(self.state, ignore_errors=True)
        else:
            sys.stderr.write("demo state kept in %s\n" % self.state)
        self.state = None

    # -- helpers -----------------------------------------------------------
    def demo(self, *args, env=None, timeout=60):
        """Run scripts/demo: (exit status, stdout + stderr)."""
        self.running = subprocess.Popen(
            [SCRIPT] + list(args), env=env or self.env, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            start_new_session=True)
        try:
            out, _ = self.running.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.running.pid, signal.SIGKILL)
            out, _ = self.running.communicate()
            self.fail("scripts/demo %s timed out:\n%s%s" % (
                " ".join(args), out, self.logs()))
        return self.running.returncode, out

    def logs(self):
        out = []
        logdir = os.path.join(self.state, "logs")
        for name in sorted(os.listdir(logdir)) if os.path.isdir(logdir) else []:
            with open(os.path.join(logdir, name), errors="replace") as f:
                out.append("--- %s\n%s" % (name, f.read()[-2000:]))
        return "\n".join(out)

    def start(self, env=None):
        status, out = self.demo("start", env=env)
        self.assertEqual(status, 0, out + self.logs())
        self.assertIn("anilist-gpt demo is running", out)
        ports = {}
        with open(os.path.join(self.state, "demo.env")) as f:
            for line in f:
                if "=" in line and not line.startswith("#"):
                    k, v = line.strip().split("=", 1)
                    ports[k] = v
        self.ports = ports
        self.base = "https://localhost:%s" % ports["PORT"]
        self.ca = os.path.join(self.state, "caddy-data", "caddy", "pki",
                               "authorities", "local", "root.crt")
        self._ssl = ssl.create_default_context(cafile=self.ca)
        self.assertIn(self.base + "/mcp", out)
        self.assertIn(self.ca, out)
        return out

    def url(self, path):
        return self.base + path

    def json(self, method, path, body=None, headers=None):
        req = urllib.request.Request(self.url(path), method=method,
                                     data=body, headers=headers or {})
        try:
            with urllib.request.urlopen(req, context=self._ssl,
                                        timeout=20) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def pidfiles(self):
        """The pids the script recorded, PostgreSQL's postmaster included."""
        files = [os.path.join(self.state, "run", s + ".pid")
                 for s in SERVICES]
        files.append(os.path.join(self.state, "pg", "postmaster.pid"))
        out = {}
        for f in files:
            try:
                with open(f) as fh:
                    out[os.path.basename(f)] = int(fh.readline())
            except (OSError, ValueError):
                pass
        return out

    def ours(self, pid):
        """The process names the demo's state directory in its command
        line or its environment (DEMO_STATE_DIR, inherited)."""
        want = self.state.encode()
        for part in ("cmdline", "environ"):
            try:
                with open("/proc/%d/%s" % (pid, part), "rb") as f:
                    if want in f.read():
                        return True
            except OSError:
                pass
        return False

    def collect(self):
        """Every live process the demo started: the recorded pids, their
        sessions and their descendants. Adds them to self.seen."""
        table = proc_table()
        # A pidfile can outlive its process, and the pid can come back as
        # any other process on the machine (pids wrap at 32768 here, and a
        # test run starts tens of thousands): only a process that names
        # this demo's state directory is a root.
        roots = {p for p in self.pidfiles().values() if self.ours(p)}
        found = {p for p, t in table.items()
                 if p in roots or t[3] in roots}
        grew = True
        while grew:
            kids = {p for p, t in table.items()
                    if t[1] in found and p not in found}
            found |= kids
            grew = bool(kids)
        mine = {p: table[p][4] for p in found if table[p][0] != "Z"}
        self.seen.update(mine)
        return mine

    def assert_ready(self):
        status, body = self.json("GET", "/health/ready")
        self.assertEqual(status, 200, body)
        self.assertEqual(body["status"], "ready", body)
        for dep in ("db", "cache", "upstream"):
            self.assertEqual(body["dependencies"][dep]["status"], "up",
                             (dep, body))

    def assert_stops_cleanly(self, procs):
        status, out = self.demo("stop")
        self.assertEqual(status, 0, out)
        left = [p for p, start in procs.items() if alive(p, start)]
        self.assertEqual(left, [], "still running after stop: %r" % left)
        self.assertEqual(self.pidfiles(), {}, "pid files left")
        for var in ("PORT", "PG_PORT", "MEMCACHED_PORT", "UPSTREAM_PORT"):
            self.assertFalse(harness.port_open(int(self.ports[var])), var)
        status, out = self.demo("status")
        self.assertEqual(status, 0, out)
        self.assertNotIn(" running (pid", out)

    # -- the test ----------------------------------------------------------
    def test_demo_serves_every_feature_restarts_and_stops_clean(self):
        t0 = time.monotonic()
        self.start()
        self.assertEqual(len(set(v for k, v in self.ports.items()
                                 if k.endswith("PORT"))), 7, self.ports)
        self.assert_ready()

        # A search through Caddy, the service, memcached and the upstream.
        status, body = self.json("GET", "/v1/anime/search?query=frieren")
        self.assertEqual(status, 200, body)
        self.assertTrue(body["results"], body)
        self.assertIn("Frieren", json.dumps(body["results"][0]["title"]))

        # MCP tools/list, as ChatGPT asks it.
        status, body = self.json("POST", "/mcp", json.dumps({
            "jsonrpc": "2.0", "id": 1, "method": "tools/list"}).encode(),
            MCP_HEADERS)
        self.assertEqual(status, 200, body)
        names = {t["name"] for t in body["result"]["tools"]}
        for tool in ("search_anime", "get_anime_recommendations",
                     "get_user_list"):
            self.assertIn(tool, names)

        # The web login at the sample AniList (which checks the client id,
        # secret and redirect URI the demo gave both sides) reaches /auth/me.
        browser = Browser(self)
        status, url, _, body = browser.follow(self.url("/auth/login"))
        self.assertEqual(status, 200, body)
        self.assertTrue(url.endswith("/auth/me"), url)
        self.assertEqual(json.loads(body)["user"]["name"], "sampleuser")

        # /metrics on Caddy's internal listener; Prometheus scrapes it.
        with urllib.request.urlopen("http://127.0.0.1:%s/metrics" %
                                    self.ports["METRICS_PORT"],
                                    timeout=10) as r:
            self.assertIn("http_requests_total", r.read().decode())
        if shutil.which("prometheus"):
            self.assertEqual(self.ports["PROMETHEUS"], "yes")
            prom = "http://127.0.0.1:%s" % self.ports["PROMETHEUS_PORT"]

            def targets():
                with urllib.request.urlopen(prom + "/api/v1/targets",
                                            timeout=5) as r:
                    return json.loads(r.read())["data"]["activeTargets"]
            harness.wait_for(targets, timeout=20, what="prometheus targets")
            self.assertEqual(targets()[0]["scrapeUrl"],
                             "http://127.0.0.1:%s/metrics" %
                             self.ports["METRICS_PORT"])

        # What runs: every service, anilist-gpt with its one worker.
        procs = self.collect()
        recorded = self.pidfiles()
        self.assertEqual(len(recorded), 5 + bool(shutil.which("prometheus")),
                         recorded)
        # Each recorded process is recognised as this demo's.
        self.assertEqual({p for p in recorded.values() if p in procs},
                         set(recorded.values()), recorded)
        master = recorded["anilist-gpt.pid"]
        table = proc_table()
        self.assertEqual(len([p for p in procs if table[p][1] == master]), 1)

        # A second start while running says so and changes nothing.
        status, out = self.demo("start")
        self.assertEqual(status, 0, out)
        self.assertIn("already running", out)
        self.assertEqual(self.pidfiles(), recorded)
        status, out = self.demo("status")
        self.assertEqual(out.count(" running (pid"), len(recorded), out)

        self.assert_stops_cleanly(procs)

        # Start again on the same ports: the cluster, the secret key and
        # the session are kept.
        again = dict(self.env)
        for k, v in self.ports.items():
            if k.endswith("PORT"):
                again["DEMO_" + k] = v
        self.start(again)
        self.assert_ready()
        status, url, _, body = browser.follow(self.url("/auth/me"))
        self.assertEqual(status, 200, body)
        self.assertEqual(json.loads(body)["user"]["name"], "sampleuser")
        self.assert_stops_cleanly(self.collect())
        self.assertLess(time.monotonic() - t0, WATCHDOG_S)


if __name__ == "__main__":
    unittest.main()
