"""test_pacing.py: AniList's budget is paced and cold requests wait for it
in batches, through Caddy with real memcached and the sample upstream.

The budget here is 10 requests per 10-second window, paced one per 1,271 ms
(governor.h: a burst of one after a quiet pace slot). Cold searches arriving four times
faster than that pace are all answered: while a group waits for the next
paced request, those arriving join it, so far fewer AniList calls answer
them than one per search, none past the queue's bound, and none refused.
Far more than the queue can hold in its bound get a prompt 503 with
Retry-After instead.
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

QUEUE_MS = 4000
PACE_MS = 1271      # (10 000 + 10 000 / 60) / (10 - 1 - 1), rounded up


class PacingTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # 96 threads: 72 may wait on AniList (the bulkhead keeps 24)
        cls.s = Stack(workers=1, threads=96, memcached=True, upstream=True,
                      upstream_args=["--rate-limit", "0"],
                      config={"UPSTREAM_RATE_LIMIT": "60",
                              "UPSTREAM_RATE_WINDOW": "10",
                              "UPSTREAM_QUEUE_MS": str(QUEUE_MS),
                              "UPSTREAM_TIMEOUT_MS": "8000",
                              "RESULT_CACHE_KB": "0",
                              "RATE_LIMIT_REQUESTS": "0"})
        cls.s.start()

    @classmethod
    def tearDownClass(cls):
        cls.s.stop()

    def setUp(self):
        # memcached holds the governor's counters too: a fresh budget
        self.s.flush_memcached()
        self.s.upstream_reset()

    def searches(self, queries, spacing):
        """GET a search per query, one every spacing seconds:
        [(status, headers, body)] in order."""
        out = [None] * len(queries)

        def one(i):
            out[i] = self.s.json("GET", url("/v1/anime/search",
                                            query=queries[i], per_page=3),
                                 timeout=60)

        ts = []
        start = time.monotonic()
        for i in range(len(queries)):
            delay = start + i * spacing - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            ts.append(threading.Thread(target=one, args=(i,)))
            ts[-1].start()
        for t in ts:
            t.join(60)
        return out

    def test_governor_says_its_pace(self):
        st, _, body = self.s.json("GET", "/health/upstream")
        self.assertEqual(st, 200, body)
        g = body["governor"]
        self.assertEqual((g["budget"], g["pace_ms"], g["burst"]),
                         (10, PACE_MS, 1))

    def test_cold_searches_faster_than_the_pace_wait_in_batches(self):
        # 16 distinct searches in 4 s: one-call-per-miss would need 16
        # calls, the pace allows about 4 in that time.
        queries = ["paced search %d" % i for i in range(16)]
        got = self.searches(queries, 0.25)
        for q, (st, _, body) in zip(queries, got):
            self.assertEqual(st, 200, (q, body))
            self.assertEqual(body["source"]["cache"], "miss", body)
        waited = [b["source"]["queued_ms"] for _, _, b in got
                  if "queued_ms" in b["source"]]
        # Most waited for the budget, none past the queue's bound.
        self.assertGreaterEqual(len(waited), len(queries) // 2, got)
        self.assertTrue(all(0 < ms <= QUEUE_MS for ms in waited), waited)
        calls = self.s.upstream_requests()
        self.assertLessEqual(calls, len(queries) // 2, calls)
        # A repeat is a hit and says it waited for nothing.
        st, _, body = self.s.json("GET", url("/v1/anime/search",
                                             query=queries[0], per_page=3))
        self.assertEqual(body["source"]["cache"], "hit")
        self.assertNotIn("queued_ms", body["source"])

    def test_more_than_the_queue_holds_get_a_prompt_503(self):
        # 64 at once: 8 searches fill a request (complexity 50 of 400),
        # so 8 groups would go a pace apart, about 5 s for the last; those
        # that cannot go within the queue's bound (4 s) are refused with
        # Retry-After.
        queries = ["crowded search %d" % i for i in range(64)]
        got = self.searches(queries, 0)
        ok = [b for st, _, b in got if st == 200]
        refused = [(h, b) for st, h, b in got if st == 503]
        self.assertEqual(len(ok) + len(refused), len(queries),
                         [st for st, _, _ in got])
        self.assertGreaterEqual(len(ok), 16)
        self.assertGreater(len(refused), 0)
        for h, b in refused:
            self.assertGreaterEqual(int(h["retry-after"]), 1, b)
            self.assertIn("budget", b["error"]["message"])
        calls = self.s.upstream_requests()
        self.assertLessEqual(calls * 4, len(ok), (calls, len(ok)))


if __name__ == "__main__":
    unittest.main()
