"""test_bulkhead.py: threads that wait on AniList never take the last free
threads of a worker, through Caddy with real memcached and the sample
upstream.

One worker of 8 threads keeps the default reserve of 2: at most 6 threads
wait on a hung AniList. Cached answers, stale copies and /health are served
by the others while cold requests wait; a cold request with no thread left
to wait gets a 503 with Retry-After at once. A second stack shows the
bounded queue: a request waits for AniList's budget at most
UPSTREAM_QUEUE_MS, then gets a 503, however long its deadline.
"""
import os
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Stack, watchdog  # noqa: E402
from test_tools import url  # noqa: E402

watchdog(150)

THREADS = 8
LIMIT = 6          # THREADS less the default reserve, max(2, THREADS / 4)
COLD = 12


class BulkheadTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = Stack(workers=1, threads=THREADS, memcached=True,
                      upstream=True, upstream_args=["--rate-limit", "0"],
                      config={"UPSTREAM_TIMEOUT_MS": "4000",
                              "UPSTREAM_BATCH_MS": "0",
                              "UPSTREAM_RATE_LIMIT": "90",
                              "UPSTREAM_BREAKER_THRESHOLD": "1000",
                              "CACHE_TTL_DEFAULT": "1",
                              "RESULT_CACHE_KB": "0"})
        cls.s.start()

    @classmethod
    def tearDownClass(cls):
        cls.s.stop()

    def tearDown(self):
        self.s.upstream_fault("none")

    def get(self, path, **params):
        return self.s.json("GET", url(path, **params), timeout=60)

    def test_hung_upstream_leaves_the_reserve_to_cached_answers(self):
        self.s.flush_memcached()
        self.s.upstream_reset()
        # A title's details stay fresh (a day); a search is stale after 1 s.
        st, _, body = self.get("/v1/anime/19")
        self.assertEqual((st, body["source"]["cache"]), (200, "miss"), body)
        st, _, body = self.get("/v1/anime/search", query="stale later")
        self.assertEqual(st, 200, body)
        # Quiet long enough for the governor's burst: at 90 a minute one
        # request per pace slot of 763 ms and 9 more less the 2 made in the
        # 9 slots before, so all 6 go at once.
        time.sleep(4.0)

        self.s.upstream_fault("hang")
        results = [None] * COLD
        done = threading.Event()
        finished = []

        def cold(i):
            r = self.get("/v1/anime/search", query="cold %d" % i)
            results[i] = r
            finished.append(i)
            if len(finished) == COLD:
                done.set()

        threads = [threading.Thread(target=cold, args=(i,), daemon=True)
                   for i in range(COLD)]
        for t in threads:
            t.start()
        # Let them reach AniList: LIMIT wait, the rest are refused.
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline and \
                self.s.upstream("GET", "/__stats")["by_status"].get(
                    "hang", 0) < LIMIT:
            time.sleep(0.05)
        waiting = self.s.upstream("GET", "/__stats")["by_status"]["hang"]
        self.assertEqual(waiting, LIMIT)

        # Answers that need no AniList come while those still wait.
        self.assertEqual(self.s.request("GET", "/health")[0], 200)
        st, _, body = self.get("/v1/anime/19")
        self.assertEqual((st, body["source"]["cache"]), (200, "hit"), body)
        st, _, body = self.get("/v1/anime/search", query="stale later")
        self.assertEqual((st, body["source"]["cache"]), (200, "stale"), body)
        st, _, body = self.s.json("GET", "/health/upstream")
        self.assertEqual(st, 200, body)
        pending = COLD - len(finished)
        self.assertGreaterEqual(pending, LIMIT,
                                "cold requests done before the cached ones")

        self.assertTrue(done.wait(30))
        by = {}
        for st, h, body in results:
            by.setdefault(st, []).append((h, body))
        # LIMIT waited out the deadline; the others had no thread to wait.
        self.assertEqual(sorted(by), [503, 504], list(by))
        self.assertEqual(len(by[504]), LIMIT)
        self.assertEqual(len(by[503]), COLD - LIMIT)
        for h, body in by[503]:
            self.assertIn("retry-after", h)
            self.assertEqual(body["error"]["code"], "upstream_unavailable")
            self.assertIn("threads that may wait", body["error"]["message"])
        self.assertIn('anilist_requests_total{result="bulkhead"} %d'
                      % (COLD - LIMIT), self.s.metrics())


class QueueBoundTest(unittest.TestCase):
    """AniList's budget is 1 request per 10 s window here; the deadline
    (20 s) would let a request wait for the next one, the queue (1 s) does
    not."""

    @classmethod
    def setUpClass(cls):
        cls.s = Stack(workers=1, threads=4, memcached=True, upstream=True,
                      upstream_args=["--rate-limit", "0"],
                      config={"UPSTREAM_TIMEOUT_MS": "20000",
                              "UPSTREAM_QUEUE_MS": "1000",
                              "UPSTREAM_RATE_LIMIT": "6",
                              "UPSTREAM_RATE_WINDOW": "10",
                              "RESULT_CACHE_KB": "0"})
        cls.s.start()

    @classmethod
    def tearDownClass(cls):
        cls.s.stop()

    def test_budget_wait_is_bounded_by_the_queue(self):
        st, _, body = self.s.json("GET", url("/v1/anime/search",
                                             query="first"))
        self.assertEqual(st, 200, body)
        before = self.s.upstream_requests()
        st, h, body = self.s.json("GET", url("/v1/anime/search",
                                             query="second"), timeout=60)
        self.assertEqual(st, 503, body)
        self.assertIn("budget", body["error"]["message"])
        self.assertGreaterEqual(int(h["retry-after"]), 1)
        self.assertEqual(self.s.upstream_requests(), before)


if __name__ == "__main__":
    unittest.main()
