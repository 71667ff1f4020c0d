"""test_batching.py: cold operations arriving together go to AniList as one
aliased request, through Caddy with real memcached and the sample upstream.

The window is wide here (UPSTREAM_BATCH_MS = 300) so that requests started
together surely meet in it on a loaded machine. Every caller gets its own
part of the answer; an error in one part fails that caller only; a group
whose complexity would pass the budget (400 of AniList's 500) is split;
identical requests still make one call (single flight); requests arriving
while the group waits for AniList's budget join it; and an arriving part joins
the first queued group with room for it, not only the last one opened.
"""
import os
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Stack, watchdog  # noqa: E402
from test_tools import url  # noqa: E402

watchdog(180)

# Titles of the sample data a search finds first.
SEARCHES = {"shingeki no kyojin": 16498, "chainsaw man": 127230,
            "hataraku maou-sama!": 15809, "yahari ore no seishu": 14813,
            "ore dake level up na": 176496, "monster": 19,
            "blue lock": 137822, "gachiakuta": 178025}


class BatchingTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = Stack(workers=1, threads=32, memcached=True, upstream=True,
                      upstream_args=["--rate-limit", "0"],
                      config={"UPSTREAM_BATCH_MS": "300",
                              "RESULT_CACHE_KB": "0"})
        cls.s.start()

    @classmethod
    def tearDownClass(cls):
        cls.s.stop()

    def setUp(self):
        self.s.flush_memcached()
        self.s.upstream_reset()

    def together(self, paths):
        """GET every path at once: [(status, body)] in order."""
        out = [None] * len(paths)
        gate = threading.Barrier(len(paths))

        def one(i):
            gate.wait()
            st, _, body = self.s.json("GET", paths[i], timeout=60)
            out[i] = (st, body)

        ts = [threading.Thread(target=one, args=(i,)) for i in
              range(len(paths))]
        for t in ts:
            t.start()
        for t in ts:
            t.join(60)
        return out

    def stats(self):
        return self.s.upstream("GET", "/__stats")

    def test_concurrent_cold_searches_share_one_request(self):
        queries = list(SEARCHES)
        got = self.together([url("/v1/anime/search", query=q, per_page=3)
                             for q in queries])
        for q, (st, body) in zip(queries, got):
            self.assertEqual(st, 200, body)
            self.assertEqual(body["results"][0]["id"], SEARCHES[q], q)
            self.assertEqual(body["source"]["cache"], "miss")
        # 8 searches of complexity 50 fit one request (400).
        self.assertEqual(self.stats()["requests"], 1, self.stats())
        # Each is cached on its own: all hits now, no call.
        again = self.together([url("/v1/anime/search", query=q, per_page=3)
                               for q in queries])
        self.assertEqual({b["source"]["cache"] for _, b in again}, {"hit"})
        self.assertEqual(self.stats()["requests"], 1)

    def test_an_error_in_one_part_fails_that_caller_only(self):
        # Two details (109 each) and a search (50) fit one request.
        got = self.together(["/v1/anime/19", "/v1/anime/999999999",
                             url("/v1/anime/search",
                                 query="shingeki no kyojin", per_page=3)])
        self.assertEqual(got[0][0], 200, got[0][1])
        self.assertEqual(got[0][1]["anime"]["id"], 19)
        self.assertEqual(got[1][0], 404, got[1][1])
        self.assertEqual(got[1][1]["error"]["code"], "not_found")
        self.assertEqual(got[2][0], 200, got[2][1])
        self.assertEqual(got[2][1]["results"][0]["id"], 16498)
        self.assertEqual(self.stats()["requests"], 1, self.stats())

    def test_a_group_over_the_complexity_budget_is_split(self):
        # Details cost 109: three fit 400, seven need three requests.
        ids = [19, 16498, 127230, 15809, 14813, 137822, 18]
        got = self.together(["/v1/anime/%d" % i for i in ids])
        for i, (st, body) in zip(ids, got):
            self.assertEqual(st, 200, body)
            self.assertEqual(body["anime"]["id"], i)
        st = self.stats()
        self.assertEqual(st["requests"], 3, st)
        self.assertNotIn("400", st["by_status"])

    def test_identical_requests_still_make_one_call(self):
        got = self.together([url("/v1/anime/search", query="monster")] * 8)
        self.assertEqual({st for st, _ in got}, {200})
        self.assertEqual(self.stats()["requests"], 1)


class GovernedTest(unittest.TestCase):
    """One worker on a stack whose AniList budget is rate_limit a minute,
    counted over 10 s windows, with a long queue and deadline, so that
    cold requests wait for the budget rather than give up."""
    rate_limit = None

    @classmethod
    def setUpClass(cls):
        cls.s = Stack(workers=1, threads=16, memcached=True, upstream=True,
                      upstream_args=["--rate-limit", "0"],
                      config={"UPSTREAM_RATE_LIMIT": str(cls.rate_limit),
                              "UPSTREAM_RATE_WINDOW": "10",
                              "UPSTREAM_QUEUE_MS": "15000",
                              "UPSTREAM_TIMEOUT_MS": "20000",
                              "RESULT_CACHE_KB": "0"})
        cls.s.start()

    @classmethod
    def tearDownClass(cls):
        cls.s.stop()


class BudgetGatheringTest(GovernedTest):
    """AniList's budget is 1 request per 10 s window here: while the first
    cold request of a group waits for it (the queue), those arriving
    meanwhile join its request instead of waiting for budgets of their
    own."""

    rate_limit = 6

    def test_requests_arriving_while_the_budget_is_out_share_one_call(self):
        st, _, _ = self.s.json("GET", url("/v1/anime/search", query="naruto"))
        self.assertEqual(st, 200)
        n = self.s.upstream_requests()
        queries = list(SEARCHES)[:6]
        out = [None] * len(queries)

        def one(i):
            out[i] = self.s.json("GET", url("/v1/anime/search",
                                            query=queries[i]), timeout=60)

        ts = [threading.Thread(target=one, args=(i,))
              for i in range(len(queries))]
        for t in ts:
            t.start()
        for t in ts:
            t.join(60)
        for q, (st, _, body) in zip(queries, out):
            self.assertEqual(st, 200, body)
            self.assertEqual(body["results"][0]["id"], SEARCHES[q])
        self.assertEqual(self.s.upstream_requests(), n + 1)


class FirstFitTest(GovernedTest):
    """AniList's budget is 5 requests per 10 s window here, paced one per
    2,542 ms with no burst and one extra where the window has room
    (governor.h): cold requests arriving within a pace slot whose request
    and extra have gone all wait in the queue, and each joins the first
    queued group with room for it."""

    rate_limit = 30

    def setUp(self):
        # memcached holds the governor's counters too: a fresh budget
        self.s.flush_memcached()
        self.s.upstream_reset()

    def at_pace_slot_start(self):
        """Sleep until just after a pace slot starts (pace slots are wall
        clock ms / pace_ms, governor.h): what follows has the rest of it."""
        st, _, body = self.s.json("GET", "/health/upstream")
        self.assertEqual(st, 200, body)
        pace = body["governor"]["pace_ms"]
        self.assertEqual(body["governor"]["burst"], 0, body)
        self.assertGreaterEqual(pace, 1800, body)
        into = (time.time() * 1000) % pace
        time.sleep((pace - into + 20) / 1000.0)
        return pace

    def test_a_small_part_fills_a_gap_in_an_earlier_group(self):
        # The warm-up takes this pace slot and its one extra (the window
        # is empty, so early in the slot it has room for it, and no more);
        # the eight below arrive in order within the slot, so all wait in
        # the queue. Details cost 109, searches 50, a request 400 at most.
        # Closing groups in arrival order makes three requests
        # (D D D | D D D S | S); first fit makes two: the first search
        # fills the first group's gap (D D D S = 377), the second joins
        # the second group (D D D S = 377).
        self.at_pace_slot_start()
        t0 = time.monotonic()
        # The extra has room only in the first ~150 ms of the slot (later,
        # one more pace slot begins before it would leave the window): the
        # two go 40 ms apart, past each other's batch window, rather than
        # one after the other's answer, which a slow build may not give
        # in time.
        warm = {}

        def ask(q):
            warm[q] = self.s.json("GET", url("/v1/anime/search", query=q))

        ts = []
        for q in ("naruto", "one piece"):
            ts.append(threading.Thread(target=ask, args=(q,)))
            ts[-1].start()
            time.sleep(0.04)
        for t in ts:
            t.join(60)
        for st, _, body in warm.values():
            self.assertEqual(st, 200)
            self.assertNotIn("queued_ms", body["source"], body)
        n = self.s.upstream_requests()
        self.assertEqual(n, 2)
        paths = ["/v1/anime/19", "/v1/anime/16498", "/v1/anime/127230",
                 "/v1/anime/15809", "/v1/anime/14813", "/v1/anime/137822",
                 url("/v1/anime/search", query="chainsaw man", per_page=3),
                 url("/v1/anime/search", query="monster", per_page=3)]
        want = [19, 16498, 127230, 15809, 14813, 137822, 127230, 19]
        out = [None] * len(paths)

        def one(i):
            out[i] = self.s.json("GET", paths[i], timeout=60)

        ts = []
        for i in range(len(paths)):
            # 150 ms apart after the warm-up: in order, within the slot
            delay = t0 + 0.25 + 0.15 * i - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            ts.append(threading.Thread(target=one, args=(i,)))
            ts[-1].start()
        for t in ts:
            t.join(60)
        for path, w, (st, _, body) in zip(paths, want, out):
            self.assertEqual(st, 200, (path, body))
            got = (body["anime"]["id"] if "anime" in body
                   else body["results"][0]["id"])
            self.assertEqual(got, w, path)
            self.assertGreater(body["source"].get("queued_ms", 0), 0, body)
        self.assertEqual(self.s.upstream_requests(), n + 2)


if __name__ == "__main__":
    unittest.main()
