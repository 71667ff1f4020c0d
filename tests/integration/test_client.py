"""test_client.py: the AniList client against real memcached and the sample upstream.

anilist_fetch is driven by tests/integration/fetch-driver (the real client
objects, linked from the service's library) in threads and in separate
processes; the health endpoints are asked through Caddy. Proves: cache hits
with no upstream call, one upstream call for 20 concurrent identical cold
requests, stale copies on 500/429, 503 + Retry-After without one, 403 not
retried, 5xx and dropped connections retried within the deadline, the
breaker opening and recovering, memcached killed or hung mid-run, scope
invalidation, bearer tokens sent and never logged, and /health/cache,
/health/upstream and /health/ready; with MEMCACHED_SERVERS empty, and with
two memcached servers (keys spread by ketama, one of them down).
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

harness.watchdog(150)

DRIVER = os.path.join(harness.TOP_BUILDDIR, "tests", "integration",
                      "fetch-driver")


def memcached_command(port, command):
    """One text-protocol command; the first reply line."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(command.encode() + b"\r\n")
        data = b""
        while not data.endswith(b"\r\n"):
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        return data.decode().strip()


class Driver:
    """fetch-driver -i: one call per line written, one JSON line back."""

    def __init__(self, env, args):
        self.err = tempfile.TemporaryFile()
        self.p = subprocess.Popen([DRIVER, "-i"] + list(args), env=env,
                                  stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=self.err,
                                  text=True)

    def call(self, variables):
        self.p.stdin.write(json.dumps(variables) + "\n")
        self.p.stdin.flush()
        line = self.p.stdout.readline()
        if not line:
            raise AssertionError("driver died: " + self.stderr())
        return json.loads(line)

    def close(self):
        if self.p.poll() is None:
            self.p.stdin.close()
            self.p.wait(30)
        self.p.stdout.close()
        return self.p.returncode

    def stderr(self):
        self.err.seek(0)
        return self.err.read().decode("utf-8", "replace")


class ClientBase(unittest.TestCase):
    config = {}

    @classmethod
    def setUpClass(cls):
        cls.stack = harness.Stack(workers=2, threads=4, memcached=True,
                                  upstream=True, config=cls.config)
        cls.stack.start()

    @classmethod
    def tearDownClass(cls):
        cls.stack.stop()

    def setUp(self):
        if not self.stack.procs["memcached"].alive():
            self.stack.restart_memcached()
        self.stack.procs["memcached"].signal(signal.SIGCONT)
        self.assertEqual(memcached_command(self.stack.memcached_port,
                                           "flush_all"), "OK")
        self.stack.upstream_reset()

    # -- the driver ----------------------------------------------------
    def env(self, **over):
        env = {k: v for k, v in os.environ.items()
               if not k.isupper() or k in ("PATH", "HOME", "LANG", "TZ",
                                           "ASAN_OPTIONS", "UBSAN_OPTIONS",
                                           "LSAN_OPTIONS")}
        env.update({
            "ENVIRONMENT": "development",
            "LOG_LEVEL": "warn",
            "MEMCACHED_SERVERS": ("127.0.0.1:%d" % self.stack.memcached_port
                                  if self.stack.want_memcached else ""),
            "ANILIST_API_URL": self.stack.upstream_url + "/",
            # One exchange per operation: batching has its own tests
            # (test_batching.py).
            "UPSTREAM_BATCH_MS": "0",
        })
        env.update({k: str(v) for k, v in over.items()})
        return env

    def run_driver(self, *args, env=None, timeout=90):
        """Run fetch-driver to the end: (reply lines, stats or None)."""
        p = subprocess.run([DRIVER] + list(args), env=env or self.env(),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.driver_stderr = p.stderr
        lines = [json.loads(x) for x in p.stdout.splitlines() if x]
        stats = [x for x in lines if x.get("stats")]
        return ([x for x in lines if not x.get("stats")],
                stats[0] if stats else None)

    def spawn(self, *args, env=None):
        return subprocess.Popen([DRIVER] + list(args), env=env or self.env(),
                                stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)

    def interactive(self, *args, **over):
        d = Driver(self.env(**over), args)

        def finish():
            rc = d.close()
            err = d.stderr()
            d.err.close()
            self.assertEqual(rc, 0, err)
        self.addCleanup(finish)
        return d

    def upstream_count(self):
        return self.stack.upstream_requests()

    def fault(self, mode, **kw):
        self.stack.upstream_fault(mode, **kw)

    def upstream_config(self, **kw):
        self.stack.upstream("POST", "/__config", kw)


class ClientTest(ClientBase):

    def test_repeat_request_is_a_cache_hit_without_upstream_call(self):
        lines, stats = self.run_driver("-o", "SearchMedia", "-v",
                                       '{"type":"ANIME","perPage":5}',
                                       "-k", "search", "-n", "3", "-S")
        self.assertEqual([x["status"] for x in lines], [200, 200, 200])
        self.assertEqual([x["cache"] for x in lines], ["miss", "hit", "hit"])
        self.assertEqual([x["upstream_calls"] for x in lines], [1, 0, 0])
        self.assertEqual(len({x["fetched_at"] for x in lines}), 1)
        self.assertEqual(self.upstream_count(), 1)
        self.assertEqual(stats["hits"], 2)
        # Another process, the same arguments in another key order.
        lines, _ = self.run_driver("-o", "SearchMedia", "-v",
                                   '{"perPage":5,"type":"ANIME"}')
        self.assertEqual(lines[0]["cache"], "hit")
        self.assertEqual(self.upstream_count(), 1)
        # Different arguments are a different entry.
        lines, _ = self.run_driver("-o", "SearchMedia", "-v",
                                   '{"perPage":6,"type":"ANIME"}', "-d")
        self.assertEqual(lines[0]["cache"], "miss")
        self.assertEqual(len(lines[0]["data"]["Page"]["media"]), 6)
        self.assertEqual(self.upstream_count(), 2)

    # A follower whose memcached poll times out goes to AniList alone (the
    # cache failed): on a loaded machine (20 clients under ASan on 2 CPUs)
    # the 100 ms default can pass, so these tests give memcached longer.
    SLOW_CACHE_OK = {"MEMCACHED_TIMEOUT_MS": 3000}

    def test_twenty_concurrent_identical_cold_requests_threads(self):
        self.upstream_config(delay_ms=300)
        lines, stats = self.run_driver("-o", "SearchMedia", "-v",
                                       '{"search":"one piece"}', "-j", "20",
                                       "-S", env=self.env(
                                           **self.SLOW_CACHE_OK))
        self.assertEqual(len(lines), 20)
        self.assertTrue(all(x["status"] == 200 for x in lines), lines)
        self.assertEqual(sorted(x["cache"] for x in lines),
                         ["hit"] * 19 + ["miss"])
        self.assertEqual(sum(x["upstream_calls"] for x in lines), 1)
        self.assertEqual(self.upstream_count(), 1)
        self.assertEqual(stats["singleflight_shared"], 19)

    def test_fetch_driver_crash_threads_sharing_one_vars_object(self):
        # Regression: the client wrote into the borrowed vars object when
        # it built the request body (json-c keeps the printed text in the
        # object), so threads sharing one object freed each other's
        # buffer: fetch-driver died with SIGSEGV under load. First against
        # the sample upstream, then many calls to a port that refuses
        # connections: each is short, so they overlap.
        # The budget is paced (governor.h): calls wait their turn.
        lines, _ = self.run_driver("-o", "SearchMedia", "-v",
                                   '{"search":"naruto","perPage":3}',
                                   "-X", "-t", "0", "-j", "4", "-n", "2",
                                   env=self.env(UPSTREAM_QUEUE_MS=15000,
                                                UPSTREAM_TIMEOUT_MS=30000))
        self.assertTrue(all(x["status"] == 200 for x in lines), lines)
        self.assertEqual(self.upstream_count(), 8)
        with socket.socket() as refuse:
            refuse.bind(("127.0.0.1", 0))
            url = "http://127.0.0.1:%d/" % refuse.getsockname()[1]
            lines, _ = self.run_driver(
                "-o", "SearchMedia", "-v",
                '{"search":"naruto","perPage":3,'
                '"genres":["Action","Adventure","Comedy"]}',
                "-X", "-t", "0", "-j", "16", "-n", "40",
                env=self.env(ANILIST_API_URL=url, UPSTREAM_RETRIES=0,
                             UPSTREAM_TIMEOUT_MS=100))
        self.assertEqual(len(lines), 640)
        self.assertTrue(all(x["status"] in (503, 504) for x in lines),
                        lines[:3])

    def test_twenty_concurrent_identical_cold_requests_processes(self):
        self.upstream_config(delay_ms=400)
        procs = [self.spawn("-o", "SearchMedia", "-v",
                            '{"search":"bleach","perPage":3}',
                            env=self.env(**self.SLOW_CACHE_OK))
                 for _ in range(20)]
        replies = []
        for p in procs:
            out, err = p.communicate(timeout=60)
            self.assertEqual(p.returncode, 0, err)
            replies.append(json.loads(out))
        self.assertTrue(all(x["status"] == 200 for x in replies), replies)
        self.assertEqual(self.upstream_count(), 1, (
            self.stack.upstream("GET", "/__stats"), replies))
        self.assertEqual(sum(x["upstream_calls"] for x in replies), 1)
        self.assertEqual(len({x["fetched_at"] for x in replies}), 1)

    def test_stale_copy_answers_when_upstream_fails(self):
        d = self.interactive("-o", "SearchMedia", "-t", "1")
        first = {}
        for q in ("stale500", "stale429"):
            r = d.call({"search": q})
            self.assertEqual((r["status"], r["cache"]), (200, "miss"))
            first[q] = r["fetched_at"]
        time.sleep(1.2)
        self.fault("500")
        r = d.call({"search": "stale500"})
        self.assertEqual((r["status"], r["cache"]), (200, "stale"), r)
        self.assertEqual(r["fetched_at"], first["stale500"])
        self.assertTrue(r["has_data"])
        # The stale copy answers at once; a background refresh asks AniList
        # once (a failure is not retried) and leaves the copy alone.
        self.assertEqual(r["upstream_calls"], 0)
        self.wait_upstream_count(3)
        r = d.call({"search": "stale500"})
        self.assertEqual((r["cache"], r["fetched_at"]),
                         ("stale", first["stale500"]), r)
        self.fault("429", retry_after=2)
        r = d.call({"search": "stale429"})
        self.assertEqual((r["status"], r["cache"]), (200, "stale"), r)
        self.assertEqual(r["fetched_at"], first["stale429"])
        self.wait_upstream_count(4)
        time.sleep(0.2)
        self.assertEqual(self.upstream_count(), 4)

    def wait_upstream_count(self, n):
        end = time.monotonic() + 10
        while self.upstream_count() < n and time.monotonic() < end:
            time.sleep(0.02)
        self.assertEqual(self.upstream_count(), n)

    def test_without_stale_copy_failure_is_503_with_retry_after(self):
        self.fault("500")
        lines, _ = self.run_driver("-o", "SearchMedia", "-v",
                                   '{"search":"nostale"}',
                                   env=self.env(UPSTREAM_TIMEOUT_MS=2000))
        r = lines[0]
        self.assertEqual(r["status"], 503, r)
        self.assertGreaterEqual(r["retry_after"], 1)
        self.assertFalse(r["has_data"])
        self.assertIn("AniList", r["message"])
        self.stack.upstream_reset()
        self.fault("429", retry_after=2)
        lines, _ = self.run_driver("-o", "SearchMedia", "-v",
                                   '{"search":"nostale429"}')
        r = lines[0]
        self.assertEqual((r["status"], r["retry_after"]), (503, 2), r)
        self.assertIn("rate limit", r["message"])
        self.assertEqual(self.upstream_count(), 1)

    def test_stale_copy_has_a_bounded_life(self):
        d = self.interactive("-o", "SearchMedia", "-t", "1",
                             CACHE_STALE_TTL=1)
        self.assertEqual(d.call({"search": "short"})["cache"], "miss")
        time.sleep(3.1)
        self.fault("500")
        r = d.call({"search": "short"})
        self.assertEqual(r["status"], 503, r)

    def test_403_is_not_retried(self):
        self.fault("403")
        lines, _ = self.run_driver("-o", "SearchMedia", "-v",
                                   '{"search":"forbidden"}')
        r = lines[0]
        self.assertEqual(r["status"], 403, r)
        self.assertEqual(r["upstream_calls"], 1)
        self.assertIn("API disabled", r["message"])
        self.assertEqual(self.upstream_count(), 1)

    def test_5xx_and_dropped_connections_are_retried(self):
        self.fault("500", count=2)
        lines, _ = self.run_driver("-o", "SearchMedia", "-v",
                                   '{"search":"retry500"}')
        self.assertEqual((lines[0]["status"], lines[0]["upstream_calls"]),
                         (200, 3), lines)
        self.assertEqual(self.upstream_count(), 3)
        self.stack.upstream_reset()
        self.fault("drop", count=1)
        lines, _ = self.run_driver("-o", "SearchMedia", "-v",
                                   '{"search":"retrydrop"}')
        self.assertEqual((lines[0]["status"], lines[0]["upstream_calls"]),
                         (200, 2), lines)
        self.stack.upstream_reset()
        self.fault("errors", count=1)
        lines, _ = self.run_driver("-o", "SearchMedia", "-v",
                                   '{"search":"retryerrors"}')
        self.assertEqual((lines[0]["status"], lines[0]["upstream_calls"]),
                         (200, 2), lines)

    def test_retries_stay_within_the_deadline(self):
        self.fault("500")
        lines, _ = self.run_driver("-o", "SearchMedia", "-v",
                                   '{"search":"deadline"}',
                                   env=self.env(UPSTREAM_TIMEOUT_MS=1200))
        r = lines[0]
        self.assertEqual(r["status"], 503, r)
        self.assertGreaterEqual(r["upstream_calls"], 2)
        self.assertLessEqual(r["upstream_calls"], 4)
        self.assertLess(r["ms"], 1400)
        self.stack.upstream_reset()
        self.fault("slow", delay_ms=3000)
        lines, _ = self.run_driver("-o", "SearchMedia", "-v",
                                   '{"search":"slow"}',
                                   env=self.env(UPSTREAM_TIMEOUT_MS=800))
        r = lines[0]
        self.assertEqual(r["status"], 504, r)
        self.assertGreaterEqual(r["retry_after"], 1)
        self.assertLess(r["ms"], 1100)

    def test_breaker_opens_after_failures_and_recovers(self):
        # The cool-down outlasts the pace (governor.h: up to 860 ms
        # between calls at 80 a minute) of the three refused calls.
        d = self.interactive("-o", "SearchMedia",
                             UPSTREAM_BREAKER_THRESHOLD=3,
                             UPSTREAM_BREAKER_COOLDOWN=5, UPSTREAM_RETRIES=0)
        self.fault("500")
        for i in range(3):
            r = d.call({"search": "breaker%d" % i})
            self.assertEqual((r["status"], r["upstream_calls"]), (503, 1), r)
        for i in range(3, 6):
            r = d.call({"search": "breaker%d" % i})
            self.assertEqual((r["status"], r["upstream_calls"]), (503, 0), r)
            self.assertIn("not asking", r["message"])
            self.assertGreaterEqual(r["retry_after"], 1)
        self.assertEqual(self.upstream_count(), 3)
        # Half-open: one trial; a failure opens it again.
        time.sleep(5.1)
        r = d.call({"search": "breaker-trial"})
        self.assertEqual((r["status"], r["upstream_calls"]), (503, 1), r)
        r = d.call({"search": "breaker-trial2"})
        self.assertEqual(r["upstream_calls"], 0, r)
        # AniList recovers: the next trial closes it.
        self.fault("none")
        time.sleep(5.1)
        for i in range(3):
            r = d.call({"search": "breaker-ok%d" % i})
            self.assertEqual((r["status"], r["upstream_calls"]), (200, 1), r)

    def test_memcached_killed_mid_run_still_answers(self):
        d = self.interactive("-o", "SearchMedia", MEMCACHED_TIMEOUT_MS=100)
        self.assertEqual(d.call({"search": "mc"})["cache"], "miss")
        self.assertEqual(d.call({"search": "mc"})["cache"], "hit")
        self.stack.procs["memcached"].stop()
        for q in ("mc", "mc-a", "mc-b", "mc-c", "mc-d"):
            r = d.call({"search": q})
            self.assertEqual((r["status"], r["cache"]), (200, "bypass"), r)
            self.assertEqual(r["upstream_calls"], 1)
            self.assertLess(r["ms"], 500, r)
        # The service says so, and stays ready (the cache is optional).
        status, headers, body = self.stack.json("GET", "/health/cache")
        self.assertEqual(status, 503, body)
        self.assertIn("retry-after", headers)
        self.assertEqual(body["servers"][0]["status"], "down")
        status, _, body = self.stack.json("GET", "/health/ready")
        self.assertEqual(status, 200, body)
        self.assertEqual(body["dependencies"]["cache"]["status"], "down")
        self.assertFalse(body["dependencies"]["cache"]["required"])
        self.assertEqual(body["status"], "degraded")
        # Back: the cache is used again once the retry timeout passes.
        self.stack.restart_memcached()
        deadline = time.monotonic() + 6
        n = 0
        while True:
            r = d.call({"search": "mc-back%d" % n})
            self.assertEqual(r["status"], 200, r)
            if r["cache"] == "miss" or time.monotonic() > deadline:
                break
            n += 1
            time.sleep(0.2)
        self.assertEqual(r["cache"], "miss", r)
        self.assertEqual(d.call({"search": "mc-back%d" % n})["cache"], "hit")
        status, _, body = self.stack.json("GET", "/health/cache")
        self.assertEqual((status, body["status"]), (200, "up"), body)

    def test_hung_memcached_costs_little(self):
        d = self.interactive("-o", "SearchMedia", MEMCACHED_TIMEOUT_MS=100)
        self.assertEqual(d.call({"search": "hung"})["cache"], "miss")
        self.stack.procs["memcached"].signal(signal.SIGSTOP)
        try:
            t0 = time.monotonic()
            times = []
            for i in range(10):
                r = d.call({"search": "hung%d" % i})
                self.assertEqual(r["status"], 200, r)
                times.append(r["ms"])
            total = time.monotonic() - t0
        finally:
            self.stack.procs["memcached"].signal(signal.SIGCONT)
        # Two timeouts find it out; then it is skipped, not waited on.
        self.assertLess(max(times), 450, times)
        self.assertLess(sorted(times)[5], 100, times)
        self.assertLess(total, 3.0)

    def test_scope_generations_invalidate_one_scope(self):
        args = ("-o", "SearchMedia", "-v", '{"search":"scoped"}')
        lines, _ = self.run_driver(*args, "-s", "user:1", "-n", "2")
        self.assertEqual([x["cache"] for x in lines], ["miss", "hit"])
        lines, _ = self.run_driver(*args, "-s", "user:2")
        self.assertEqual(lines[0]["cache"], "miss")
        self.run_driver("-I", "user:1")
        lines, _ = self.run_driver(*args, "-s", "user:1", "-n", "2")
        self.assertEqual([x["cache"] for x in lines], ["miss", "hit"])
        lines, _ = self.run_driver(*args, "-s", "user:2")
        self.assertEqual(lines[0]["cache"], "hit")
        self.assertEqual(self.upstream_count(), 3)

    def test_bearer_token_is_sent_and_never_logged(self):
        token = self.stack.upstream("POST", "/__token",
                                    {"user": "alice"})["access_token"]
        env = self.env(LOG_LEVEL="debug")
        p = subprocess.run([DRIVER, "-o", "Viewer", "-t", "0", "-T", token,
                            "-d"], env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=30)
        r = json.loads(p.stdout)
        self.assertEqual(r["status"], 200, r)
        self.assertEqual(r["cache"], "bypass")
        self.assertEqual(r["data"]["Viewer"]["name"], "alice")
        logs = p.stderr
        # Tokens key their own entries: another token never gets alice's.
        p2 = subprocess.run([DRIVER, "-o", "Viewer", "-T", "not-a-token"],
                            env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, timeout=30)
        self.assertEqual(json.loads(p2.stdout)["status"], 401)
        logs += p2.stderr
        self.fault("500")
        p3 = subprocess.run([DRIVER, "-o", "Viewer", "-t", "60", "-T",
                             token], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, timeout=30)
        self.assertEqual(json.loads(p3.stdout)["status"], 503)
        logs += p3.stderr
        self.assertIn("anilist call failed", logs)
        self.assertNotIn(token, logs)
        self.assertNotIn(token.split(".")[2], logs)
        self.assertNotIn("not-a-token", logs)

    def test_mutations_are_never_cached_nor_retried(self):
        token = self.stack.upstream("POST", "/__token",
                                    {"user": "bob"})["access_token"]
        lines, _ = self.run_driver("-o", "SearchMedia", "-v",
                                   '{"perPage":1}', "-d")
        media = lines[0]["data"]["Page"]["media"][0]["id"]
        save = ("-o", "SaveListEntry", "-v",
                json.dumps({"mediaId": media, "status": "PLANNING"}),
                "-T", token, "-t", "600", "-d")
        lines, _ = self.run_driver(*save, "-n", "2")
        self.assertEqual([(x["status"], x["cache"], x["upstream_calls"])
                          for x in lines],
                         [(200, "bypass", 1), (200, "bypass", 1)])
        self.assertEqual(lines[0]["data"]["SaveMediaListEntry"]["mediaId"],
                         media)
        self.stack.upstream_reset()
        self.fault("500")
        lines, _ = self.run_driver(*save)
        self.assertEqual((lines[0]["status"], lines[0]["upstream_calls"]),
                         (503, 1), lines)
        self.assertEqual(self.upstream_count(), 1)

    def test_not_found_and_invalid_variables(self):
        lines, _ = self.run_driver("-o", "MediaDetails", "-v",
                                   '{"id":999999999}', "-k", "media")
        self.assertEqual(lines[0]["status"], 404, lines)
        lines, _ = self.run_driver("-o", "SearchMedia", "-v",
                                   '{"season":"NOT_A_SEASON"}')
        self.assertEqual(lines[0]["status"], 400, lines)
        self.assertIn("season", lines[0]["message"])
        self.assertEqual(lines[0]["upstream_calls"], 1)
        lines, _ = self.run_driver("-o", "NoSuchOperation")
        self.assertEqual(lines[0]["status"], 500, lines)
        self.assertEqual(lines[0]["upstream_calls"], 0)

    def test_health_endpoints(self):
        status, _, body = self.stack.json("GET", "/health/cache")
        self.assertEqual(status, 200, body)
        self.assertEqual(body["status"], "up")
        self.assertEqual(body["servers"][0]["server"],
                         "127.0.0.1:%d" % self.stack.memcached_port)
        self.assertIsInstance(body["servers"][0]["latency_ms"], float)
        status, _, body = self.stack.json("GET", "/health/upstream")
        self.assertEqual(status, 200, body)
        self.assertEqual(body["breaker"]["state"], "closed")
        g = body["governor"]
        self.assertTrue(g["shared"])
        self.assertEqual(g["limit_per_minute"], 80)
        self.assertEqual(g["budget"], 80)
        self.assertEqual(g["used"], 0)
        self.assertIsNone(g["blocked_until"])
        status, _, body = self.stack.json("GET", "/health/ready")
        self.assertEqual(status, 200, body)
        self.assertEqual(body["dependencies"]["cache"]["status"], "up")
        self.assertEqual(body["dependencies"]["upstream"]["status"], "up")
        # No AniList call was made by any of it.
        self.assertEqual(self.upstream_count(), 0)

        # A 429 seen by one process is seen by the service's workers.
        self.run_driver("-o", "SearchMedia", "-v", '{"search":"h1"}')
        self.fault("429", retry_after=3)
        lines, _ = self.run_driver("-o", "SearchMedia", "-v",
                                   '{"search":"h2"}')
        self.assertEqual(lines[0]["status"], 503)
        status, headers, body = self.stack.json("GET", "/health/upstream")
        self.assertEqual(status, 503, body)
        self.assertEqual(body["state"], "paused")
        self.assertIsNotNone(body["governor"]["blocked_until"])
        self.assertGreater(body["governor"]["blocked_for_ms"], 1000)
        self.assertEqual(body["governor"]["used"], 2)
        self.assertEqual(body["governor"]["anilist"]["limit"], 90)
        self.assertEqual(body["last_error"]["status"], 429)
        self.assertIn("retry-after", headers)
        status, _, body = self.stack.json("GET", "/health/ready")
        self.assertEqual(status, 200, body)
        self.assertEqual(body["dependencies"]["upstream"]["status"], "down")
        time.sleep(3.2)
        status, _, body = self.stack.json("GET", "/health/upstream")
        self.assertEqual(status, 200, body)


class ClientWithoutCacheTest(ClientBase):
    """MEMCACHED_SERVERS empty: no cache at all, and that is fine."""

    @classmethod
    def setUpClass(cls):
        cls.stack = harness.Stack(workers=1, threads=2, memcached=False,
                                  upstream=True)
        cls.stack.start()

    def setUp(self):
        self.stack.upstream_reset()

    def test_empty_server_list_disables_the_cache(self):
        env = self.env(MEMCACHED_SERVERS="")
        lines, _ = self.run_driver("-o", "SearchMedia", "-v",
                                   '{"search":"nocache"}', "-n", "2", "-S",
                                   env=env)
        self.assertEqual([(x["status"], x["cache"]) for x in lines],
                         [(200, "bypass"), (200, "bypass")])
        self.assertEqual(self.upstream_count(), 2)
        status, _, body = self.stack.json("GET", "/health/cache")
        self.assertEqual((status, body["status"]), (200, "disabled"), body)
        status, _, body = self.stack.json("GET", "/health/ready")
        self.assertEqual(status, 200, body)
        self.assertEqual(body["dependencies"]["cache"]["status"], "disabled")
        status, _, body = self.stack.json("GET", "/health/upstream")
        self.assertEqual(status, 200, body)
        self.assertFalse(body["governor"]["shared"])


class ClientTwoServersTest(ClientBase):
    """Two memcached servers: keys spread by ketama; one down is survived."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="agpt-it-mc-")
        cls.mc = []
        for name in ("mc-a", "mc-b"):
            port = harness.free_port()
            proc = harness.Proc(name, [
                "memcached", "-u", "nobody", "-l", "127.0.0.1", "-p",
                str(port), "-U", "0", "-m", "16"], os.environ.copy(),
                cls.tmp)
            harness.wait_for(lambda: harness.port_open(port), what=name)
            cls.mc.append((port, proc))
        cls.servers = ",".join("127.0.0.1:%d" % p for p, _ in cls.mc)
        cls.stack = harness.Stack(workers=1, threads=2, memcached=False,
                                  upstream=True,
                                  config={"MEMCACHED_SERVERS": cls.servers})
        cls.stack.start()

    @classmethod
    def tearDownClass(cls):
        cls.stack.stop()
        for _, proc in cls.mc:
            proc.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        self.stack.upstream_reset()

    def env(self, **over):
        over.setdefault("MEMCACHED_SERVERS", self.servers)
        return ClientBase.env(self, **over)

    def items(self, port):
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(b"stats\r\n")
            data = b""
            while not data.endswith(b"END\r\n"):
                data += s.recv(65536)
        for line in data.decode().splitlines():
            if line.startswith("STAT curr_items "):
                return int(line.split()[2])
        return 0

    def test_failed_multi_get_leaves_no_reply_behind_on_a_live_server(self):
        # Regression (test_keys_spread_... failed now and then): when one
        # server of a multi-get was down, libmemcached still sent the
        # request to the others and the client left their replies unread;
        # the next command on such a server read them ("SERVER END" for a
        # set), so a healthy server counted failures and was skipped. A
        # one-second governor window moves its keys (multi-get) between
        # the servers from one run to the next. A fresh dead port for each
        # run moves every key too: a process that first meets the dead
        # server outside a multi-get (its read of AniList's known limit)
        # skips it afterwards, so some runs must hash that key elsewhere.
        mgets = stale = 0
        for k in range(30):
            with socket.socket() as dead:
                dead.bind(("127.0.0.1", 0))
                env = self.env(
                    MEMCACHED_SERVERS="127.0.0.1:%d,127.0.0.1:%d" % (
                        self.mc[0][0], dead.getsockname()[1]),
                    LOG_LEVEL="debug", MEMCACHED_TIMEOUT_MS=1000,
                    UPSTREAM_RATE_WINDOW=1, UPSTREAM_RATE_LIMIT=90)
                p = subprocess.run(
                    [DRIVER, "-o", "SearchMedia", "-v",
                     '{"search":"multi%d"}' % k, "-t", "0"], env=env,
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                    timeout=60, text=True)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(json.loads(p.stdout)["status"], 200)
            mgets += p.stderr.count('"op":"mget"')
            stale += p.stderr.count('"error":"SERVER END"')
            time.sleep(0.09)
        self.assertGreater(mgets, 0)
        self.assertEqual(stale, 0)

    def test_keys_spread_and_one_server_down_is_survived(self):
        args = ("-o", "SearchMedia", "-v", '{"search":"spread"}', "-D",
                "page", "-n", "30")
        lines, _ = self.run_driver(*args)
        self.assertEqual({x["cache"] for x in lines}, {"miss"})
        self.assertGreater(self.items(self.mc[0][0]), 0)
        self.assertGreater(self.items(self.mc[1][0]), 0)
        lines, _ = self.run_driver(*args)
        self.assertEqual({x["cache"] for x in lines}, {"hit"})
        self.assertEqual(self.upstream_count(), 30)

        self.mc[1][1].stop()
        lines, _ = self.run_driver(*args, env=self.env(
            MEMCACHED_TIMEOUT_MS=100))
        self.assertTrue(all(x["status"] == 200 for x in lines), lines)
        caches = [x["cache"] for x in lines]
        # The keys on the live server still hit; the others go to AniList.
        self.assertIn("hit", caches, self.driver_stderr)
        self.assertTrue(set(caches) - {"hit"}, caches)
        self.assertLess(max(x["ms"] for x in lines), 500)
        status, _, body = self.stack.json("GET", "/health/cache")
        self.assertEqual((status, body["status"]), (200, "degraded"), body)
        self.assertEqual([x["status"] for x in body["servers"]],
                         ["up", "down"])
        status, _, body = self.stack.json("GET", "/health/ready")
        self.assertEqual(body["dependencies"]["cache"]["status"], "up")


if __name__ == "__main__":
    unittest.main()
