"""test_ratelimit.py: the per-client rate limit of our API through the real stack.

Caddy, two workers and memcached with RATE_LIMIT_REQUESTS = 5 per
RATE_LIMIT_WINDOW = 3 seconds: the 6th request of a window gets 429
rate_limited with Retry-After, counted once for all workers (memcached),
with RateLimit-* headers on every limited path; /health, /.well-known/,
preflights and /metrics are never limited; the limit resets with the window;
IPv6 ::1 is another client; the memcached keys hold no address; the metric
and the statsd counter count the refusals. memcached stopped or killed: every
request passes (fail open, counted) without waiting more than the cache's
timeout. RATE_LIMIT_REQUESTS = 0: nothing is limited. No memcached: each
worker limits on its own.
"""
import http.client
import json
import os
import re
import signal
import socket
import sys
import threading
import time
import unittest
import urllib.parse
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Stack, wait_for, watchdog  # noqa: E402
from test_metrics import UdpListener, sample  # noqa: E402

watchdog(110)

LIMIT = 5
WINDOW = 3
TIMEOUT_MS = 100
PATH = "/"                      # limited and cheap: no upstream, no cache
MCP_HEADERS = {"Content-Type": "application/json",
               "Accept": "application/json, text/event-stream",
               "MCP-Protocol-Version": "2025-11-25"}
ORIGIN = "https://allowed.example"
RATE_HEADERS = ("ratelimit-limit", "ratelimit-remaining", "ratelimit-reset",
                "retry-after")


def align():
    """Sleep until just after the start of a RATE_LIMIT_WINDOW window.

    Windows are aligned on the Unix epoch by the service's wall clock, which
    is this machine's: the requests that follow all fall in one window.
    """
    time.sleep(WINDOW - time.time() % WINDOW + 0.05)


class V6Connection(http.client.HTTPSConnection):
    """HTTPS to Caddy over ::1, verified as localhost."""

    def connect(self):
        sock = socket.create_connection(("::1", self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock,
                                              server_hostname="localhost")


def get_v6(stack, path):
    u = urllib.parse.urlsplit(stack.base)
    conn = V6Connection("localhost", u.port, context=stack._ssl, timeout=10)
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


def memcached_keys(port):
    """Every key memcached holds (lru_crawler metadump), decoded."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"lru_crawler metadump all\r\n")
        data = b""
        while not data.endswith(b"END\r\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    keys = []
    for line in data.decode().splitlines():
        m = re.match(r"key=(\S+)", line)
        if m:
            keys.append(urllib.parse.unquote(m.group(1)))
    return keys


class Limited(unittest.TestCase):
    """Two workers sharing one counter per client in memcached."""

    @classmethod
    def setUpClass(cls):
        cls.udp = UdpListener()
        cls.s = Stack(workers=2, threads=4, config={
            "RATE_LIMIT_REQUESTS": str(LIMIT),
            "RATE_LIMIT_WINDOW": str(WINDOW),
            "MEMCACHED_TIMEOUT_MS": str(TIMEOUT_MS),
            "STATSD_HOST": "127.0.0.1", "STATSD_PORT": str(cls.udp.port)})
        cls.s.start()

    @classmethod
    def tearDownClass(cls):
        cls.s.stop()
        cls.udp.close()

    def get(self, path=PATH, rid=None):
        h = {"X-Request-ID": rid} if rid else None
        return self.s.request("GET", path, headers=h)

    def assert_429(self, status, h, body):
        self.assertEqual(status, 429, body)
        self.assertTrue(h.get("content-type", "").startswith(
            "application/json"), h)
        obj = json.loads(body)
        self.assertEqual(set(obj), {"error"})
        self.assertEqual(obj["error"]["code"], "rate_limited")
        self.assertTrue(obj["error"]["message"])
        retry = int(h["retry-after"])
        self.assertTrue(1 <= retry <= WINDOW, h)
        self.assertEqual(h["ratelimit-reset"], h["retry-after"])
        self.assertEqual(h["ratelimit-limit"], str(LIMIT))
        self.assertEqual(h["ratelimit-remaining"], "0")
        return retry

    def exhaust(self):
        """Use up this window's requests: the last answer (a 429)."""
        for _ in range(LIMIT):
            status, _, body = self.get()
            self.assertEqual(status, 200, body)
        r = self.get()
        self.assert_429(*r)
        return r

    def pids_of(self, rids):
        """The worker pid that logged each request id."""
        want = set(rids)
        out = {}

        def found():
            for line in self.s.log_lines():
                if line.get("msg") == "request" and \
                        line.get("request_id") in want:
                    out[line["request_id"]] = line["pid"]
            return len(out) == len(want)
        wait_for(found, timeout=10, what="request log lines")
        return out

    # -- the tests --------------------------------------------------------
    def test_sixth_request_of_a_window_is_429(self):
        align()
        for i in range(LIMIT):
            status, h, body = self.get()
            self.assertEqual(status, 200, body)
            self.assertEqual(h["ratelimit-limit"], str(LIMIT))
            self.assertEqual(h["ratelimit-remaining"], str(LIMIT - 1 - i))
            self.assertTrue(1 <= int(h["ratelimit-reset"]) <= WINDOW, h)
            self.assertNotIn("retry-after", h)
        retry = self.assert_429(*self.get())
        # The limit resets with the window: Retry-After is honest.
        time.sleep(retry + 0.05)
        status, h, body = self.get()
        self.assertEqual(status, 200, body)
        self.assertEqual(h["ratelimit-remaining"], str(LIMIT - 1))

    def test_one_count_for_all_workers(self):
        # A count per worker would refuse a client only at the 6th request
        # one worker served itself. Here the first requests go to one set
        # of workers and the rest, once those are gone, to the others, yet
        # the 6th of the window is refused.
        align()
        first = ["rl-a%d-%s" % (i, uuid.uuid4().hex) for i in range(3)]
        for i, rid in enumerate(first):
            status, h, body = self.get(rid=rid)
            self.assertEqual(status, 200, body)
            self.assertEqual(h["ratelimit-remaining"], str(LIMIT - 1 - i))
        served = set(self.pids_of(first).values())
        workers = set(self.s.worker_pids())
        if served == workers:
            gone = set()            # both served already: nothing to do
        else:
            # The kernel favours one worker when idle: retire it (SIGTERM
            # drains it; the master starts another) so the rest of the
            # window goes to the other.
            gone = served
            for pid in gone:
                os.kill(pid, signal.SIGTERM)
            wait_for(lambda: not gone & set(self.s.worker_pids()),
                     timeout=2, what="the worker to exit")
        rest = ["rl-b%d-%s" % (i, uuid.uuid4().hex) for i in range(3)]
        results = [self.get(rid=rid) for rid in rest]
        for i in range(2):
            self.assertEqual(results[i][0], 200, results[i][2])
            self.assertEqual(results[i][1]["ratelimit-remaining"],
                             str(LIMIT - 4 - i))
        self.assert_429(*results[2])
        pids = self.pids_of(first + rest)
        refuser = pids[rest[2]]
        self.assertNotIn(refuser, gone)
        own = sum(1 for rid in first + rest if pids[rid] == refuser)
        self.assertLess(own, LIMIT + 1, pids)

    def test_concurrent_requests_are_counted_exactly(self):
        align()
        results = []
        lock = threading.Lock()

        def one():
            r = self.get()
            with lock:
                results.append(r)
        threads = [threading.Thread(target=one) for _ in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        statuses = sorted(r[0] for r in results)
        self.assertEqual(statuses, [200] * LIMIT + [429] * (12 - LIMIT))
        remaining = sorted(int(r[1]["ratelimit-remaining"])
                           for r in results if r[0] == 200)
        self.assertEqual(remaining, list(range(LIMIT)))
        for r in results:
            if r[0] == 429:
                self.assert_429(*r)

    def test_exempt_paths_are_never_limited(self):
        align()
        self.exhaust()
        # Over the limit on every limited REST path; the MCP endpoint has
        # budgets of its own (a shared egress), so it still answers.
        self.assert_429(*self.get("/v1/genres"))
        msg = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
        status, h, _ = self.s.request("POST", "/mcp", json.dumps(msg),
                                      MCP_HEADERS)
        self.assertEqual(status, 200)
        self.assertEqual(h["ratelimit-limit"], "3000")
        # Yet health checks, /.well-known/ and preflights still answer.
        for path in ["/health"] * (LIMIT + 2) + [
                "/health/ready", "/.well-known/oauth-protected-resource"]:
            status, h, body = self.get(path)
            self.assertEqual(status, 200, (path, body))
            for name in RATE_HEADERS:
                self.assertNotIn(name, h, path)
        status, h, _ = self.s.request("OPTIONS", "/v1/anime/search", headers={
            "Origin": ORIGIN, "Access-Control-Request-Method": "GET"})
        self.assertEqual(status, 204)
        for name in RATE_HEADERS:
            self.assertNotIn(name, h)
        # Still within the window: the limited path is still refused.
        self.assert_429(*self.get())
        # /metrics on the internal listener.
        for _ in range(LIMIT + 1):
            self.assertIn("http_requests_total", self.s.metrics())

    def test_browsers_may_read_the_headers(self):
        status, h, _ = self.s.request("GET", "/", headers={"Origin": ORIGIN})
        exposed = [v.strip().lower() for v in
                   h["access-control-expose-headers"].split(",")]
        for name in RATE_HEADERS:
            self.assertIn(name, exposed)

    def test_ipv6_client_is_another_client(self):
        try:
            socket.create_connection(("::1", urllib.parse.urlsplit(
                self.s.base).port), 2).close()
        except OSError:
            self.skipTest("no IPv6 loopback")
        align()
        self.exhaust()
        status, h, body = get_v6(self.s, PATH)
        self.assertEqual(status, 200, body)
        self.assertEqual(h["ratelimit-remaining"], str(LIMIT - 1))

    def test_memcached_keys_hold_no_address(self):
        self.get()
        keys = [k for k in memcached_keys(self.s.memcached_port)
                if k.startswith("ag:v1:rl:")]
        self.assertTrue(keys)
        for k in keys:
            self.assertRegex(k, r"^ag:v1:rl:%d:\d+:[0-9a-f]{32}$" % WINDOW)
            start = int(k.split(":")[4])
            self.assertEqual(start % WINDOW, 0)
        everything = " ".join(memcached_keys(self.s.memcached_port))
        for raw in ("127.0.0.1", "7f000001", "::1"):
            self.assertNotIn(raw, everything)

    def test_refusals_are_counted_in_metrics_and_statsd(self):
        align()
        before = self.s.metrics()
        self.udp.take()
        self.exhaust()
        self.assert_429(*self.get())
        self.assert_429(*self.get("/v1/anime/search?query=x"))
        after = self.s.metrics()
        series = "http_rate_limited_total"
        self.assertEqual(sample(after, series) - sample(before, series), 3)
        series = ('http_requests_total{route="rate_limited",method="GET",'
                  'status="429"}')
        self.assertEqual((sample(after, series) or 0) -
                         (sample(before, series) or 0), 3)
        lines = []

        def three():
            lines.extend(l for p in self.udp.take() for l in p.split("\n")
                         if l.startswith("anilist_gpt.http.rate_limited:"))
            return len(lines) >= 3
        wait_for(three, timeout=5, what="statsd rate_limited lines")
        time.sleep(0.3)
        lines.extend(l for p in self.udp.take() for l in p.split("\n")
                     if l.startswith("anilist_gpt.http.rate_limited:"))
        self.assertEqual(lines, ["anilist_gpt.http.rate_limited:1|c"] * 3)


class FailOpen(unittest.TestCase):
    """memcached slow or gone: every request passes, quickly, counted."""

    @classmethod
    def setUpClass(cls):
        cls.s = Stack(workers=2, threads=4, upstream=False, config={
            "RATE_LIMIT_REQUESTS": str(LIMIT),
            "RATE_LIMIT_WINDOW": str(WINDOW),
            "MEMCACHED_TIMEOUT_MS": str(TIMEOUT_MS)})
        cls.s.start()

    @classmethod
    def tearDownClass(cls):
        cls.s.stop()

    def fail_open_count(self):
        return sample(self.s.metrics(),
                      'rate_limit_fail_open_total{reason="cache"}') or 0

    def burst(self, n):
        """n requests: each passes, without rate-limit headers, quickly."""
        slowest = 0.0
        for _ in range(n):
            t0 = time.monotonic()
            status, h, body = self.s.request("GET", PATH)
            slowest = max(slowest, time.monotonic() - t0)
            self.assertEqual(status, 200, body)
            for name in RATE_HEADERS:
                self.assertNotIn(name, h)
        # At most one memcached timeout per request, plus the request.
        self.assertLess(slowest, TIMEOUT_MS / 1000.0 + 0.5)

    def test_memcached_stopped_then_killed(self):
        # Limited while memcached answers.
        align()
        for _ in range(LIMIT):
            self.assertEqual(self.s.request("GET", PATH)[0], 200)
        self.assertEqual(self.s.request("GET", PATH)[0], 429)

        # Stopped (accepts, never answers): the slow case.
        mc = self.s.procs["memcached"]
        before = self.fail_open_count()
        mc.signal(signal.SIGSTOP)
        try:
            self.burst(4 * LIMIT)
        finally:
            mc.signal(signal.SIGCONT)
        self.assertEqual(self.fail_open_count() - before, 4 * LIMIT)

        # Back: the limit holds again once the skip period is over.
        wait_for(lambda: "ratelimit-limit" in
                 self.s.request("GET", PATH)[1], timeout=10,
                 what="the limit to come back")

        # Killed (refused): the same, and faster.
        mc.stop()
        before = self.fail_open_count()
        self.burst(4 * LIMIT)
        self.assertEqual(self.fail_open_count() - before, 4 * LIMIT)
        self.assertEqual(self.s.request("GET", "/health")[0], 200)


class Disabled(unittest.TestCase):
    def test_zero_disables_the_limit(self):
        with Stack(workers=2, threads=2, upstream=False, config={
                "RATE_LIMIT_REQUESTS": "0",
                "RATE_LIMIT_WINDOW": str(WINDOW)}) as s:
            for _ in range(6 * LIMIT):
                status, h, body = s.request("GET", PATH)
                self.assertEqual(status, 200, body)
                for name in RATE_HEADERS:
                    self.assertNotIn(name, h)
            self.assertEqual(sample(s.metrics(), "http_rate_limited_total"),
                             0)


class WithoutMemcached(unittest.TestCase):
    def test_one_worker_limits_on_its_own(self):
        # MEMCACHED_SERVERS empty: each worker counts its share
        # (LIMIT / WORKERS rounded up); with one worker that is LIMIT.
        with Stack(workers=1, threads=2, memcached=False, upstream=False,
                   config={"RATE_LIMIT_REQUESTS": str(LIMIT),
                           "RATE_LIMIT_WINDOW": str(WINDOW)}) as s:
            align()
            for i in range(LIMIT):
                status, h, body = s.request("GET", PATH)
                self.assertEqual(status, 200, body)
                self.assertEqual(h["ratelimit-remaining"], str(LIMIT - 1 - i))
            status, h, body = s.request("GET", PATH)
            self.assertEqual(status, 429, body)
            self.assertEqual(json.loads(body)["error"]["code"],
                             "rate_limited")
            self.assertTrue(1 <= int(h["retry-after"]) <= WINDOW)


if __name__ == "__main__":
    unittest.main()
