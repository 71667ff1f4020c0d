"""test_upstream_timeouts.py: a hung AniList costs a tool call at most its
deadline, timeouts open the breaker, and /health says degraded with the
reason, through Caddy with real memcached and the sample upstream.

The sample upstream's "hang" fault reads a request and never answers (a
stopped process). The deadline here is UPSTREAM_TIMEOUT_MS = 1200 per tool
call, retries included; one worker, so its breaker is the one asked. An
address that never completes a connection costs a call its connect timeout.
"""
import os
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Stack, watchdog  # noqa: E402
from test_tools import url  # noqa: E402

watchdog(120)

DEADLINE_MS = 1200


class UpstreamTimeoutsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = Stack(workers=1, threads=4, memcached=True, upstream=True,
                      upstream_args=["--rate-limit", "0"],
                      config={"UPSTREAM_TIMEOUT_MS": str(DEADLINE_MS),
                              "UPSTREAM_BREAKER_THRESHOLD": "3",
                              "UPSTREAM_BREAKER_COOLDOWN": "1",
                              "RESULT_CACHE_KB": "0"})
        cls.s.start()

    @classmethod
    def tearDownClass(cls):
        cls.s.stop()

    def setUp(self):
        self.s.upstream_reset()
        self.s.flush_memcached()
        # A breaker opened by an earlier test closes after its cool-down
        # and a trial call.
        time.sleep(1.1)
        self.search("warmup")

    def tearDown(self):
        self.s.upstream_fault("none")

    def search(self, q):
        t0 = time.monotonic()
        st, h, body = self.s.json("GET", url("/v1/anime/search", query=q))
        return st, h, body, time.monotonic() - t0

    def health(self, path):
        st, _, body = self.s.json("GET", path)
        return st, body

    def test_hung_upstream_costs_a_call_its_deadline_retries_included(self):
        self.s.upstream_fault("hang")
        before = self.s.upstream_requests()
        st, h, body, took = self.search("hung one")
        self.assertEqual(st, 504, body)
        self.assertEqual(body["error"]["code"], "upstream_timeout")
        self.assertIn("retry-after", h)
        # One attempt used the whole deadline: no retry after it.
        self.assertEqual(self.s.upstream_requests(), before + 1)
        # Bounded by the deadline (plus scheduling), never by retries.
        self.assertLess(took, DEADLINE_MS / 1000.0 * 3, took)

    def test_timeouts_say_degraded_with_the_reason_until_an_answer(self):
        st, body = self.health("/health/upstream")
        self.assertEqual((st, body["status"], body["state"]),
                         (200, "up", "ok"), body)
        self.s.upstream_fault("hang")
        self.assertEqual(self.search("slow one")[0], 504)
        self.s.upstream_fault("none")
        st, body = self.health("/health/upstream")
        self.assertEqual((st, body["status"], body["state"]),
                         (200, "degraded", "degraded"), body)
        self.assertIn("timed out 1 time", body["reason"])
        self.assertEqual(body["timeouts"]["count"], 1)
        st, ready = self.health("/health/ready")
        self.assertEqual(st, 200, ready)
        self.assertEqual(ready["status"], "degraded")
        up = ready["dependencies"]["upstream"]
        self.assertEqual(up["status"], "degraded")
        self.assertIn("timed out", up["reason"])
        # AniList answers again: no longer degraded.
        self.assertEqual(self.search("answers again")[0], 200)
        st, body = self.health("/health/upstream")
        self.assertEqual((st, body["status"]), (200, "up"), body)
        self.assertNotIn("reason", body)

    def test_timeouts_count_as_breaker_failures(self):
        self.s.upstream_fault("hang")
        for q in ("t1", "t2", "t3"):
            self.assertEqual(self.search(q)[0], 504)
        before = self.s.upstream_requests()
        st, h, body, _ = self.search("t4")
        self.assertEqual(st, 503, body)
        self.assertIn("failing", body["error"]["message"])
        self.assertEqual(self.s.upstream_requests(), before)
        st, body = self.health("/health/upstream")
        self.assertEqual((st, body["state"]), (503, "breaker_open"), body)
        self.assertIn("failed 3 times in a row", body["reason"])


CONNECT_MS = 500


class ConnectTimeoutTest(unittest.TestCase):
    """An AniList address that never completes a connection (a loopback
    socket whose accept queue is full: the kernel drops further handshakes)
    costs a call its connect timeout (UPSTREAM_CONNECT_TIMEOUT_MS), not its
    whole deadline, and counts as AniList timing out."""

    @classmethod
    def setUpClass(cls):
        cls.hole = socket.socket()
        cls.hole.bind(("127.0.0.1", 0))
        cls.hole.listen(0)
        addr = cls.hole.getsockname()
        cls.fillers = []
        for _ in range(4):
            f = socket.socket()
            f.setblocking(False)
            f.connect_ex(addr)
            cls.fillers.append(f)
        time.sleep(0.2)
        cls.s = Stack(workers=1, threads=4, memcached=True, upstream=False,
                      config={"ANILIST_API_URL": "http://127.0.0.1:%d/"
                              % addr[1],
                              "UPSTREAM_TIMEOUT_MS": "6000",
                              "UPSTREAM_CONNECT_TIMEOUT_MS": str(CONNECT_MS),
                              "UPSTREAM_RETRIES": "0",
                              "UPSTREAM_BREAKER_THRESHOLD": "1000",
                              "RESULT_CACHE_KB": "0"})
        cls.s.start()

    @classmethod
    def tearDownClass(cls):
        cls.s.stop()
        for f in cls.fillers:
            f.close()
        cls.hole.close()

    def test_the_address_never_accepts(self):
        c = socket.socket()
        c.settimeout(CONNECT_MS / 1000.0)
        try:
            with self.assertRaises(TimeoutError):
                c.connect(self.hole.getsockname())
        finally:
            c.close()

    def test_a_connection_that_never_completes_costs_the_connect_timeout(self):
        t0 = time.monotonic()
        st, h, body = self.s.json("GET", url("/v1/anime/search",
                                             query="never connects"))
        took = time.monotonic() - t0
        self.assertEqual(st, 503, body)
        self.assertIn("unreachable", body["error"]["message"])
        self.assertIn("retry-after", h)
        # The connect timeout, not the 6 s deadline (scheduling aside).
        self.assertLess(took, 3.0, took)
        st, _, up = self.s.json("GET", "/health/upstream")
        self.assertEqual((up["status"], up["state"]),
                         ("degraded", "degraded"), up)
        self.assertIn("timed out", up["reason"])


if __name__ == "__main__":
    unittest.main()
