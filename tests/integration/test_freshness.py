"""test_freshness.py: freshness that follows the data, stale-while-revalidate
and the budget's priority, through Caddy with real memcached and the sample
upstream.

The details of a title still airing stay fresh CACHE_TTL_RELEASING (1 s
here), a finished one's CACHE_TTL_MEDIA (an hour). A stale public copy
answers at once and one background refresh per key replaces it. When the
budget is nearly spent, such a refresh (optional) is refused while an
interactive call still goes.
"""
import os
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Stack, watchdog  # noqa: E402
from test_tools import url  # noqa: E402

watchdog(120)

FINISHED_ID = 19        # Monster
RELEASING_ID = 103303   # still airing in the sample data


def wait_calls(stack, n, timeout=10):
    end = time.monotonic() + timeout
    while stack.upstream_requests() < n and time.monotonic() < end:
        time.sleep(0.02)
    return stack.upstream_requests()


class FreshnessTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = Stack(workers=2, threads=8, memcached=True, upstream=True,
                      upstream_args=["--rate-limit", "0"],
                      config={"CACHE_TTL_RELEASING": "1",
                              "CACHE_TTL_MEDIA": "3600",
                              "CACHE_TTL_DEFAULT": "1",
                              "RESULT_CACHE_KB": "0"})
        cls.s.start()

    @classmethod
    def tearDownClass(cls):
        cls.s.stop()

    def setUp(self):
        self.s.flush_memcached()
        self.s.upstream_reset()

    def get(self, path, **params):
        st, _, body = self.s.json("GET", url(path, **params))
        self.assertEqual(st, 200, body)
        return body

    def test_ttl_follows_the_status_of_the_title(self):
        for mid in (FINISHED_ID, RELEASING_ID):
            self.assertEqual(self.get("/v1/anime/%d" % mid)["source"]["cache"],
                             "miss")
        status = {mid: self.s.upstream_graphql(
            "query MediaDetails($id:Int){Media(id:$id){status}}",
            {"id": mid})["data"]["Media"]["status"]
            for mid in (FINISHED_ID, RELEASING_ID)}
        self.assertEqual(status, {FINISHED_ID: "FINISHED",
                                  RELEASING_ID: "RELEASING"})
        time.sleep(1.3)
        calls = self.s.upstream_requests()
        self.assertEqual(
            self.get("/v1/anime/%d" % FINISHED_ID)["source"]["cache"], "hit")
        self.assertEqual(
            self.get("/v1/anime/%d" % RELEASING_ID)["source"]["cache"],
            "stale")
        # The airing title's refresh is the only call.
        self.assertEqual(wait_calls(self.s, calls + 1), calls + 1)
        self.assertEqual(
            self.get("/v1/anime/%d" % RELEASING_ID)["source"]["cache"], "hit")

    def test_a_stale_copy_is_refreshed_once_per_key_in_the_background(self):
        first = self.get("/v1/anime/search", query="haikyu")
        self.assertEqual(first["source"]["cache"], "miss")
        time.sleep(1.3)
        # The refresh takes 1.5 s: every request below comes before it ends.
        self.s.upstream("POST", "/__config", {"delay_ms": 1500})
        calls = self.s.upstream_requests()
        answers = []

        def ask():
            answers.append(self.get("/v1/anime/search", query="haikyu"))

        ts = [threading.Thread(target=ask) for _ in range(12)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(30)
        # Every one answered with the stale copy, without waiting.
        self.assertEqual(len(answers), 12)
        self.assertEqual({a["source"]["cache"] for a in answers}, {"stale"})
        self.assertEqual({a["source"]["fetched_at"] for a in answers},
                         {first["source"]["fetched_at"]})
        # One refresh for all of them (two workers, one lock in memcached).
        self.assertEqual(wait_calls(self.s, calls + 1), calls + 1)
        end = time.monotonic() + 10
        fresh = self.get("/v1/anime/search", query="haikyu")
        while fresh["source"]["cache"] != "hit" and time.monotonic() < end:
            time.sleep(0.1)
            fresh = self.get("/v1/anime/search", query="haikyu")
        self.assertEqual(fresh["source"]["cache"], "hit")
        self.assertEqual(self.s.upstream_requests(), calls + 1)
        self.assertNotEqual(fresh["source"]["fetched_at"],
                            first["source"]["fetched_at"])
        self.assertEqual(fresh["results"], first["results"])


class BudgetPriorityTest(unittest.TestCase):
    """A budget of 5 calls per 20-second window, paced one per 5,083 ms
    (governor.h): once 4 are spent, optional calls leave the last one (a
    fifth) to interactive ones, and a refresh never waits for it."""

    @classmethod
    def setUpClass(cls):
        cls.s = Stack(workers=1, threads=4, memcached=True, upstream=True,
                      upstream_args=["--rate-limit", "0"],
                      config={"UPSTREAM_RATE_LIMIT": "15",
                              "UPSTREAM_RATE_WINDOW": "20",
                              # interactive calls wait for the pace
                              "UPSTREAM_QUEUE_MS": "6000",
                              "UPSTREAM_TIMEOUT_MS": "10000",
                              "CACHE_TTL_DEFAULT": "1",
                              "RESULT_CACHE_KB": "0"})
        cls.s.start()

    @classmethod
    def tearDownClass(cls):
        cls.s.stop()

    def get(self, q):
        return self.s.json("GET", url("/v1/anime/search", query=q),
                           timeout=60)

    def test_refresh_waits_while_an_interactive_call_goes(self):
        # Four paced calls: about 15 s, all within one window (20.3 s).
        for q in ("one", "two", "three", "four"):
            st, _, body = self.get(q)
            self.assertEqual((st, body["source"]["cache"]), (200, "miss"))
        time.sleep(1.3)
        calls = self.s.upstream_requests()
        # 4 of 5 spent: the refresh of "one" (optional) is not sent.
        st, _, body = self.get("one")
        self.assertEqual((st, body["source"]["cache"]), (200, "stale"))
        time.sleep(0.5)
        self.assertEqual(self.s.upstream_requests(), calls)
        self.assertTrue(any(line.get("msg") == "stale copy not refreshed"
                            for line in self.s.log_lines()))
        # An interactive cold call still gets the last one, after its pace.
        st, _, body = self.get("five")
        self.assertEqual((st, body["source"]["cache"]), (200, "miss"), body)
        self.assertEqual(self.s.upstream_requests(), calls + 1)


if __name__ == "__main__":
    unittest.main()
