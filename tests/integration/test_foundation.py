"""test_foundation.py: the foundation through real Caddy over HTTPS.

The HTTP surface (health, errors, limits, request ids, CORS, bad input), the
process model under a steady request loop (worker SIGKILL, SIGHUP with a
good and a bad file, SIGTERM drain, second SIGTERM), the command line, and
the spawn-fcgi (LISTEN = fd:0) mode.
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

harness.watchdog(110)

HEX32 = re.compile(r"^[0-9a-f]{32}$")
ALLOWED = "https://allowed.example"


def wait_log(stack, pred, timeout=15.0, what="a log line"):
    """Wait for a service log line (parsed JSON) matching pred; return it."""
    found = []

    def check():
        for line in stack.log_lines():
            if pred(line):
                found.append(line)
                return True
        return False
    harness.wait_for(check, timeout=timeout, what=what)
    return found[0]


def assert_error(test, status, headers, body, want_status, want_code):
    test.assertEqual(status, want_status, body)
    test.assertTrue(headers.get("content-type", "").startswith(
        "application/json"), headers)
    test.assertIsInstance(body, dict)
    test.assertEqual(set(body), {"error"})
    test.assertEqual(body["error"]["code"], want_code)
    test.assertTrue(body["error"]["message"])


class Load:
    """Client threads doing GET /health in a loop, counting failures."""

    def __init__(self, stack, threads=4):
        self.stack = stack
        self.nthreads = threads
        self.ok = 0
        self.failures = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.threads = []

    def run(self):
        while not self.stopping.is_set():
            try:
                status, _, body = self.stack.json("GET", "/health",
                                                  timeout=15)
                good = status == 200 and body["status"] == "healthy"
                detail = "%d %r" % (status, body)
            except Exception as e:  # noqa: BLE001 - any failure counts
                good = False
                detail = repr(e)
            with self.lock:
                if good:
                    self.ok += 1
                else:
                    self.failures.append((time.monotonic(), detail))

    def __enter__(self):
        for _ in range(self.nthreads):
            t = threading.Thread(target=self.run, daemon=True)
            t.start()
            self.threads.append(t)
        self.wait_for_more(20)
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        for t in self.threads:
            t.join(30)

    def count(self):
        with self.lock:
            return self.ok

    def wait_for_more(self, n, timeout=20):
        """Wait until n more requests succeeded (the stack serves)."""
        target = self.count() + n
        harness.wait_for(lambda: self.count() >= target, timeout=timeout,
                         what="%d more successful requests" % n)


class SlowRequest:
    """GET /health whose body arrives in two halves: in flight meanwhile."""

    def __init__(self, stack, size=200):
        self.size = size
        self.conn = stack.connection(timeout=30)
        self.conn.putrequest("GET", "/health")
        self.conn.putheader("Content-Length", str(size))
        self.conn.putheader("Content-Type", "application/octet-stream")
        self.conn.endheaders()
        self.conn.send(b"x" * (size // 2))

    def finish(self):
        self.conn.send(b"x" * (self.size - self.size // 2))
        r = self.conn.getresponse()
        body = r.read()
        self.conn.close()
        return r.status, body

    def close(self):
        self.conn.close()


class HttpSurfaceTest(unittest.TestCase):
    """Everything a client sees through Caddy, on one stack."""

    @classmethod
    def setUpClass(cls):
        cls.s = harness.Stack(upstream=False, config={
            "MAX_BODY_SIZE": "1024",
            "CORS_ORIGINS": "https://chatgpt.com, " + ALLOWED,
        })
        cls.s.start()
        cls.pids = sorted(cls.s.worker_pids())

    @classmethod
    def tearDownClass(cls):
        cls.s.stop()

    def test_health(self):
        status, h, body = self.s.json("GET", "/health")
        self.assertEqual(status, 200)
        self.assertEqual(body, {"status": "healthy",
                                "service": "anilist-gpt",
                                "version": body["version"]})
        self.assertRegex(body["version"], r"^\d+\.\d+\.\d+")
        self.assertTrue(h["content-type"].startswith("application/json"))
        # Caddy's part of the contract: HTTPS with security headers.
        self.assertIn("max-age=", h["strict-transport-security"])
        self.assertEqual(h["x-content-type-options"], "nosniff")

    def test_head_health_has_no_body(self):
        status, h, data = self.s.request("HEAD", "/health")
        self.assertEqual(status, 200)
        self.assertEqual(data, b"")

    def test_root(self):
        status, _, body = self.s.json("GET", "/")
        self.assertEqual(status, 200)
        self.assertEqual(body["name"], "anilist-gpt")
        self.assertEqual(body["status"], "running")
        self.assertIn("version", body)

    def test_ready(self):
        status, _, body = self.s.json("GET", "/health/ready")
        self.assertEqual(status, 200, body)
        self.assertEqual(body["status"], "ready")
        self.assertIsInstance(body["dependencies"], dict)
        for name, dep in body["dependencies"].items():
            self.assertIn(dep["status"], ("up", "disabled"), name)

    def test_unknown_path_is_404_json(self):
        assert_error(self, *self.s.json("GET", "/no/such/thing"), 404,
                     "not_found")

    def test_wrong_method_is_405_json_with_allow(self):
        for method in ("DELETE", "PUT", "PATCH", "POST"):
            status, h, body = self.s.json(method, "/health", body="{}")
            assert_error(self, status, h, body, 405, "method_not_allowed")
            self.assertEqual(h["allow"], "GET, HEAD, OPTIONS")

    def test_plain_options_lists_methods(self):
        status, h, _ = self.s.request("OPTIONS", "/health/ready")
        self.assertEqual(status, 204)
        self.assertEqual(h["allow"], "GET, HEAD, OPTIONS")

    def test_body_over_max_body_size_is_413_json(self):
        assert_error(self, *self.s.json("POST", "/health", body="x" * 1025),
                     413, "payload_too_large")
        # Far over the limit, and chunked (no Content-Length): still ours.
        assert_error(self, *self.s.json("POST", "/health",
                                        body="x" * 300000),
                     413, "payload_too_large")
        conn = self.s.connection()
        conn.request("POST", "/health", body=iter([b"y" * 700] * 3),
                     encode_chunked=True)
        r = conn.getresponse()
        body = json.loads(r.read())
        conn.close()
        self.assertEqual(r.status, 413)
        self.assertEqual(body["error"]["code"], "payload_too_large")

    def test_body_within_limit_is_read(self):
        # A chunked body under the limit reaches the router (405 here).
        conn = self.s.connection()
        conn.request("POST", "/health", body=iter([b"z" * 100] * 3),
                     encode_chunked=True)
        r = conn.getresponse()
        r.read()
        conn.close()
        self.assertEqual(r.status, 405)

    def log_line_for(self, rid):
        return wait_log(self.s, lambda l: l.get("msg") == "request" and
                        l.get("request_id") == rid,
                        what="access log line of " + rid)

    def test_request_id_given_is_echoed_and_logged(self):
        rid = "client-id-42.a_b:c"
        status, h, _ = self.s.json("GET", "/health",
                                   headers={"X-Request-ID": rid})
        self.assertEqual(status, 200)
        self.assertEqual(h["x-request-id"], rid)
        line = self.log_line_for(rid)
        for key in ("ts", "level", "msg", "method", "path", "route",
                    "status", "duration_ms"):
            self.assertIn(key, line)
        self.assertEqual(line["method"], "GET")
        self.assertEqual(line["path"], "/health")
        self.assertEqual(line["status"], 200)

    def test_request_id_generated_when_absent(self):
        ids = set()
        for _ in range(3):
            status, h, _ = self.s.json("GET", "/health")
            self.assertEqual(status, 200)
            self.assertTrue(h.get("x-request-id"))
            ids.add(h["x-request-id"])
        self.assertEqual(len(ids), 3)
        self.log_line_for(ids.pop())

    def test_request_id_unsafe_is_replaced(self):
        status, h, _ = self.s.json("GET", "/health",
                                   headers={"X-Request-ID": "a\"b c<d>"})
        self.assertEqual(status, 200)
        self.assertRegex(h["x-request-id"], HEX32)

    def test_cors_allowed_origin_echoed_without_credentials(self):
        status, h, _ = self.s.json("GET", "/health",
                                   headers={"Origin": ALLOWED})
        self.assertEqual(status, 200)
        self.assertEqual(h["access-control-allow-origin"], ALLOWED)
        self.assertNotIn("access-control-allow-credentials", h)
        self.assertIn("Origin", h["vary"])

    def test_cors_other_origin_gets_no_cors_headers(self):
        status, h, _ = self.s.json("GET", "/health",
                                   headers={"Origin": "https://evil.example"})
        self.assertEqual(status, 200)
        self.assertFalse([k for k in h if k.startswith("access-control-")],
                         h)

    def test_cors_preflight(self):
        status, h, data = self.s.request("OPTIONS", "/health", headers={
            "Origin": ALLOWED,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "content-type"})
        self.assertEqual(status, 204)
        self.assertEqual(data, b"")
        self.assertEqual(h["access-control-allow-origin"], ALLOWED)
        self.assertEqual(h["access-control-allow-methods"],
                         "GET, HEAD, OPTIONS")
        self.assertIn("Content-Type", h["access-control-allow-headers"])
        self.assertNotIn("access-control-allow-credentials", h)

    def test_cors_preflight_from_other_origin_is_refused(self):
        status, h, body = self.s.json("OPTIONS", "/health", headers={
            "Origin": "https://evil.example",
            "Access-Control-Request-Method": "GET"})
        assert_error(self, status, h, body, 403, "origin_not_allowed")
        self.assertNotIn("access-control-allow-origin", h)

    # -- bad input: always 4xx JSON, never 5xx, never a crash ------------
    BAD_QUERIES = [
        ("/health?q=%zz", 400, "invalid_request"),
        ("/health?q=%4", 400, "invalid_request"),
        ("/health?q=%00", 400, "invalid_request"),
        ("/health?q=a%00b&x=1", 400, "invalid_request"),
        ("/health?q=%ff%fe", 400, "invalid_request"),
        ("/health?q=%c0%af", 400, "invalid_request"),
        ("/health?%ff=1", 400, "invalid_request"),
        ("/health?" + "k=v&" * 65, 400, "invalid_request"),
        ("/health?q=" + "a" * 9000, 414, "uri_too_long"),
        ("/" + "a/" * 1100, 414, "uri_too_long"),
    ]

    def test_bad_queries_are_4xx_json(self):
        for path, want, code in self.BAD_QUERIES:
            with self.subTest(path=path[:40]):
                assert_error(self, *self.s.json("GET", path), want, code)

    def test_huge_header_is_431_json(self):
        assert_error(self, *self.s.json("GET", "/health", headers={
            "X-Big": "b" * 40000}), 431, "headers_too_large")

    def test_bad_path_escape_is_400_from_caddy(self):
        # Go's HTTP server refuses a bad escape in the path before Caddy
        # routes it (plain text): a 400, never a 5xx, and never reaches us.
        status, _, _ = self.s.request("GET", "/he%zzalth")
        self.assertEqual(status, 400)

    def test_bad_path_utf8_and_nul_are_400_json(self):
        # %00 is answered by Caddy (routes.caddy): its FastCGI transport
        # refuses it as an upstream error.
        for path in ("/he%ffalth", "/he%00alth", "/%00", "/health%00"):
            with self.subTest(path=path):
                t0 = time.monotonic()
                assert_error(self, *self.s.json("GET", path), 400,
                             "invalid_request")
                self.assertLess(time.monotonic() - t0, 1.0)
        # ... and it does not take the backend out for anyone else.
        self.assertEqual(self.s.json("GET", "/health?q=1")[0], 200)

    def test_invalid_json_bodies_are_4xx(self):
        # No POST route exists yet: any body to a GET route is a 405 JSON.
        for body in ("{", "\x00\x01", "[1,2", "\xff"):
            status, h, parsed = self.s.json("POST", "/", body=body,
                                            headers={"Content-Type":
                                                     "application/json"})
            assert_error(self, status, h, parsed, 405, "method_not_allowed")

    def test_zz_still_healthy_and_no_worker_died(self):
        # Runs last (alphabetical): the bad input above crashed nothing.
        status, _, _ = self.s.json("GET", "/health")
        self.assertEqual(status, 200)
        self.assertEqual(sorted(self.s.worker_pids()), self.pids)
        self.assertFalse([l for l in self.s.log_lines()
                          if l.get("level") in ("error", "fatal")])


class CorsStarTest(unittest.TestCase):
    def test_star_answers_star_and_never_credentials(self):
        with harness.Stack(upstream=False, memcached=False,
                           config={"CORS_ORIGINS": "*"}) as s:
            status, h, _ = s.json("GET", "/health",
                                  headers={"Origin": "https://x.example"})
            self.assertEqual(status, 200)
            self.assertEqual(h["access-control-allow-origin"], "*")
            self.assertNotIn("access-control-allow-credentials", h)
            status, h, _ = s.request("OPTIONS", "/", headers={
                "Origin": "https://x.example",
                "Access-Control-Request-Method": "GET"})
            self.assertEqual(status, 204)
            self.assertEqual(h["access-control-allow-origin"], "*")
            self.assertNotIn("access-control-allow-credentials", h)


class ProcessModelTest(unittest.TestCase):
    """Signals under load; each test has its own stack."""

    THREADS = 4

    def setUp(self):
        self.s = harness.Stack(workers=2, threads=self.THREADS,
                               upstream=False, memcached=False,
                               config={"SHUTDOWN_TIMEOUT": "5"})
        self.s.start()
        self.master = self.s.service()

    def tearDown(self):
        self.s.stop()

    def wait_workers(self, pred, what):
        harness.wait_for(lambda: pred(set(self.s.worker_pids())),
                         timeout=20, what=what)
        return set(self.s.worker_pids())

    def test_killed_worker_is_restarted(self):
        with Load(self.s, threads=4) as load:
            old = set(self.s.worker_pids())
            self.assertEqual(len(old), 2)
            victim = min(old)
            os.kill(victim, signal.SIGKILL)
            new = self.wait_workers(
                lambda p: len(p) == 2 and victim not in p,
                "a replacement worker")
            self.assertEqual(len(new - old), 1)
            line = wait_log(self.s, lambda l: l.get("msg") == "worker died"
                            and l.get("worker_pid") == victim)
            self.assertEqual(line["signal"], signal.SIGKILL)
            self.assertIn("restart_in_ms", line)
            wait_log(self.s, lambda l: l.get("msg") == "worker spawned" and
                     l.get("worker_pid") in new - old)
            load.wait_for_more(50)
        # Only requests in flight on the killed worker may fail.
        self.assertLessEqual(len(load.failures), self.THREADS,
                             load.failures)

    def test_reload_with_good_config_replaces_workers(self):
        with Load(self.s, threads=4) as load:
            old = set(self.s.worker_pids())
            values = self.s.config_values()
            values["WORKERS"] = "3"
            values["LOG_LEVEL"] = "warn"
            self.s.write_config(values)
            self.master.signal(signal.SIGHUP)
            line = wait_log(self.s, lambda l: l.get("msg") ==
                            "reload complete", timeout=30)
            self.assertEqual(line["workers"], 3)
            new = self.wait_workers(lambda p: len(p) == 3 and not p & old,
                                    "3 new workers, old ones gone")
            load.wait_for_more(100)
        self.assertEqual(load.failures, [])
        # One by one: each old worker is retired after its successor is
        # ready: spawned, retiring, spawned, retiring, spawned.
        lines = self.s.log_lines()
        events = [(l["msg"], l["worker_pid"]) for l in lines
                  if l.get("msg") in ("worker spawned", "retiring worker")
                  and (l["worker_pid"] in new or l["worker_pid"] in old)]
        self.assertEqual([m for m, _ in events],
                         ["worker spawned"] * 2 +
                         ["worker spawned", "retiring worker"] * 2 +
                         ["worker spawned"], events)
        self.assertEqual({p for m, p in events if m == "retiring worker"},
                         old)
        # The new LOG_LEVEL holds: new workers log no info request lines.
        self.assertFalse([l for l in lines if l.get("msg") == "request" and
                          l.get("pid") in new])

    def test_reload_with_bad_config_keeps_serving(self):
        with Load(self.s, threads=4) as load:
            old = set(self.s.worker_pids())
            values = self.s.config_values()
            values["THREADS"] = "100000"
            self.s.write_config(values)
            self.master.signal(signal.SIGHUP)
            line = wait_log(self.s, lambda l: l.get("msg") ==
                            "reload refused: keeping the running config")
            self.assertIn("THREADS", line["error"])
            self.assertIn("outside", line["error"])
            load.wait_for_more(100)
            self.assertEqual(set(self.s.worker_pids()), old)
        self.assertEqual(load.failures, [])
        self.assertTrue(self.master.alive())

    def test_sigterm_drains_in_flight_requests(self):
        # More requests than accept threads: 8 are being read by the
        # workers, 4 wait in the socket's queue; all of them were sent
        # before SIGTERM, so all of them must be answered.
        slow = [SlowRequest(self.s) for _ in range(2 * self.THREADS + 4)]
        time.sleep(1.0)		# the workers are reading the bodies now
        t0 = time.monotonic()
        self.master.signal(signal.SIGTERM)
        time.sleep(1.0)
        self.assertTrue(self.master.alive(), "exited with requests in "
                        "flight")
        for r in slow:
            status, body = r.finish()
            self.assertEqual(status, 200, body)
            self.assertEqual(json.loads(body)["status"], "healthy")
        rc = self.master.p.wait(10)
        elapsed = time.monotonic() - t0
        self.assertEqual(rc, 0, self.s.service_log()[-2000:])
        self.assertLess(elapsed, 5, "took longer than SHUTDOWN_TIMEOUT")
        draining = [l for l in self.s.log_lines()
                    if l.get("msg") == "worker draining"]
        self.assertEqual([l["in_flight"] for l in draining],
                         [self.THREADS, self.THREADS])
        self.assertFalse(os.path.exists(self.s.socket))
        self.assertEqual(self.s.worker_pids(), [])
        # With the service gone, Caddy answers in the same JSON shape.
        assert_error(self, *self.s.json("GET", "/health"), 502,
                     "service_unavailable")

    def test_drain_gives_up_after_shutdown_timeout(self):
        stuck = SlowRequest(self.s)
        time.sleep(1.0)
        t0 = time.monotonic()
        self.master.signal(signal.SIGTERM)
        rc = self.master.p.wait(15)
        elapsed = time.monotonic() - t0
        stuck.close()
        log = self.s.service_log()
        self.assertNotEqual(rc, 0, log)
        self.assertGreater(elapsed, 4, log)
        self.assertLess(elapsed, 9, log)
        self.assertIn("drain timed out", log)

    def test_second_sigterm_exits_at_once(self):
        stuck = SlowRequest(self.s)
        time.sleep(1.0)
        pids = self.s.worker_pids()
        self.master.signal(signal.SIGTERM)
        time.sleep(0.5)
        self.assertTrue(self.master.alive())
        t0 = time.monotonic()
        self.master.signal(signal.SIGTERM)
        rc = self.master.p.wait(5)
        self.assertLess(time.monotonic() - t0, 1.5)
        self.assertEqual(rc, 1)
        stuck.close()
        wait_log(self.s, lambda l: l.get("msg") ==
                 "second signal: stopping now")
        for pid in pids:
            harness.wait_for(lambda: not os.path.exists("/proc/%d" % pid) or
                             "Z" in open("/proc/%d/stat" % pid).read()
                             .split()[2], timeout=5, what="worker gone")


def clean_env():
    """The environment without any config key (they override files)."""
    return {k: v for k, v in os.environ.items()
            if not k.isupper() or k in ("PATH", "HOME", "LANG",
                                        "ASAN_OPTIONS", "UBSAN_OPTIONS",
                                        "LSAN_OPTIONS")}


class CommandLineTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="agpt-cli-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def conf(self, text):
        path = os.path.join(self.dir, "test.conf")
        with open(path, "w") as f:
            f.write(text)
        return path

    def run_cli(self, *args, timeout=20):
        return subprocess.run([harness.BINARY] + list(args),
                              env=clean_env(), capture_output=True,
                              text=True, timeout=timeout)

    def test_version(self):
        r = self.run_cli("version")
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"^anilist-gpt \d+\.\d+\.\d+\n$")

    def test_check_config_masks_secrets(self):
        path = self.conf("SECRET_KEY = %s\nDATABASE_URL = postgresql://u:"
                         "pw-XYZZY@db/x\nWORKERS = 3\n" % harness.SECRET)
        r = self.run_cli("-c", path, "check-config")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("configuration OK", r.stdout)
        self.assertIn("WORKERS = 3\n", r.stdout)
        self.assertIn("SECRET_KEY = ******** (set)\n", r.stdout)
        self.assertIn("DATABASE_URL = ******** (set)\n", r.stdout)
        self.assertNotIn(harness.SECRET, r.stdout + r.stderr)
        self.assertNotIn("XYZZY", r.stdout + r.stderr)

    def test_check_config_bad_file_names_the_key(self):
        path = self.conf("SECRET_KEY = %s\n# fine\nMAX_BODY_SIZE = 10\n"
                         % harness.SECRET)
        r = self.run_cli("-c", path, "check-config")
        self.assertEqual(r.returncode, 1)
        self.assertIn(":3: MAX_BODY_SIZE: 10 is outside", r.stderr)
        self.assertNotIn(harness.SECRET, r.stdout + r.stderr)

    def test_env_overrides_file_in_check_config(self):
        path = self.conf("SECRET_KEY = %s\nWORKERS = 3\n" % harness.SECRET)
        env = clean_env()
        env["WORKERS"] = "7"
        r = subprocess.run([harness.BINARY, "-c", path, "check-config"],
                           env=env, capture_output=True, text=True,
                           timeout=20)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("WORKERS = 7\n", r.stdout)

    def test_missing_secret_in_production_refuses_to_start(self):
        sock = os.path.join(self.dir, "s.sock")
        path = self.conf("LISTEN = unix:%s\nENVIRONMENT = production\n"
                         % sock)
        r = self.run_cli("-c", path, "serve")
        self.assertEqual(r.returncode, 1)
        line = json.loads(r.stderr.strip().splitlines()[-1])
        self.assertEqual(line["level"], "error")
        self.assertTrue(line["error"].startswith("SECRET_KEY: required"),
                        line)
        self.assertFalse(os.path.exists(sock))

    def test_live_socket_is_not_stolen_stale_one_is_replaced(self):
        sock = os.path.join(self.dir, "s.sock")
        path = self.conf("LISTEN = unix:%s\nSECRET_KEY = %s\nWORKERS = 1\n"
                         "MEMCACHED_SERVERS =\n" % (sock, harness.SECRET))
        other = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        other.bind(sock)
        other.listen(1)
        r = self.run_cli("-c", path, "serve")
        self.assertEqual(r.returncode, 1)
        self.assertIn("LISTEN: %s: another process is listening" % sock,
                      r.stderr)
        self.assertTrue(os.path.exists(sock))
        other.close()		# leaves a stale socket file behind
        p = subprocess.Popen([harness.BINARY, "-c", path, "serve"],
                             env=clean_env(), stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)
        try:
            harness.wait_for(lambda: self.connects(sock), timeout=10,
                             what="the service on the stale path")
        finally:
            p.send_signal(signal.SIGTERM)
            _, err = p.communicate(timeout=15)
        self.assertEqual(p.returncode, 0, err)

    def test_master_as_pid_1_keeps_its_workers(self):
        # In a container the master is often pid 1; workers must not take
        # "my parent is pid 1" for "my master died".
        probe = subprocess.run(["unshare", "--pid", "--fork", "true"],
                               capture_output=True)
        if probe.returncode != 0:
            self.skipTest("cannot make a pid namespace here")
        sock = os.path.join(self.dir, "p1.sock")
        path = self.conf("LISTEN = unix:%s\nSECRET_KEY = %s\nWORKERS = 2\n"
                         "THREADS = 1\n" % (sock, harness.SECRET))
        log = os.path.join(self.dir, "p1.log")
        with open(log, "w") as out:
            p = subprocess.Popen(["unshare", "--pid", "--fork",
                                  "--kill-child", harness.BINARY, "-c", path,
                                  "serve"], env=clean_env(), stdout=out,
                                 stderr=subprocess.STDOUT,
                                 start_new_session=True)
        try:
            harness.wait_for(lambda: self.connects(sock), timeout=10,
                             what="the service in a pid namespace")
            time.sleep(1.0)
        finally:
            os.killpg(p.pid, signal.SIGTERM)
            p.wait(15)
        lines = [json.loads(l) for l in open(log) if l.startswith("{")]
        starting = [l for l in lines if l["msg"] == "starting"]
        self.assertEqual(starting[0]["pid"], 1)
        self.assertEqual(len([l for l in lines
                              if l["msg"] == "worker started"]), 2)
        self.assertFalse([l for l in lines
                          if l["msg"] == "worker exited unexpectedly"])

    @staticmethod
    def connects(path):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as c:
            c.connect(path)
        return True

    def test_unknown_command_is_usage(self):
        r = self.run_cli("frobnicate")
        self.assertEqual(r.returncode, 2)
        self.assertIn("unknown command 'frobnicate'", r.stderr)
        self.assertIn("Try 'anilist-gpt --help'", r.stderr)


class SpawnFcgiStack(harness.Stack):
    """The service started by spawn-fcgi: the socket arrives on fd 0."""

    def start_service(self):
        self.procs["anilist-gpt"] = harness.Proc(
            "anilist-gpt", ["spawn-fcgi", "-n", "-s", self.socket, "-M",
                            "0660", "--", harness.BINARY, "-c",
                            self.config_path, "serve"],
            self.service_env(), self.logdir)
        harness.wait_for(lambda: os.path.exists(self.socket),
                         what="spawn-fcgi socket")


@unittest.skipUnless(shutil.which("spawn-fcgi"), "spawn-fcgi not installed")
class SpawnFcgiTest(unittest.TestCase):
    def test_fd0_mode_serves_and_drains(self):
        with SpawnFcgiStack(upstream=False, memcached=False,
                            config={"LISTEN": "fd:0"}) as s:
            with Load(s, threads=2) as load:
                load.wait_for_more(20)
            self.assertEqual(load.failures, [])
            self.assertEqual(len(s.worker_pids()), 2)
            start = wait_log(s, lambda l: l.get("msg") == "starting")
            self.assertEqual(start["listen"], "fd:0")
            master = s.service()
            master.signal(signal.SIGTERM)
            self.assertEqual(master.p.wait(10), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
