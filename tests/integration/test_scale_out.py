"""test_scale_out.py: two machines, one cache (docs/DEPLOY.md).

Two service instances, each with its own master, workers and Caddy and its
own governor identity (UPSTREAM_GOVERNOR_ID), share one memcached and one
sample AniList: a question answered cold by one is a hit on the other with
no AniList call; a client's rate limit counts across both; each keeps its
own AniList budget (3 requests a minute here).
"""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Stack, watchdog  # noqa: E402
from test_tools import url  # noqa: E402

watchdog(120)

CLIENT_LIMIT = 12
BUDGET = 3


class ScaleOutTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        shared = {"UPSTREAM_RATE_LIMIT": str(BUDGET),
                  "UPSTREAM_RATE_WINDOW": "60",
                  "UPSTREAM_QUEUE_MS": "0",
                  "RATE_LIMIT_REQUESTS": str(CLIENT_LIMIT),
                  "RATE_LIMIT_WINDOW": "600",
                  "RESULT_CACHE_KB": "0"}
        cls.a = Stack(workers=1, threads=4, memcached=True, upstream=True,
                      upstream_args=["--rate-limit", "0"],
                      config=dict(shared, UPSTREAM_GOVERNOR_ID="machine-a"))
        cls.a.start()
        try:
            cls.b = Stack(workers=1, threads=4, memcached=False,
                          upstream=False,
                          config=dict(shared,
                                      UPSTREAM_GOVERNOR_ID="machine-b",
                                      MEMCACHED_SERVERS="127.0.0.1:%d"
                                      % cls.a.memcached_port,
                                      ANILIST_API_URL=cls.a.upstream_url
                                      + "/"))
            cls.b.start()
        except BaseException:
            cls.a.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.b.stop()
        cls.a.stop()

    def calls(self):
        return self.a.upstream_requests()

    def search(self, stack, q):
        return stack.json("GET", url("/v1/anime/search", query=q))

    # Named in the order they run: the last one spends the client limit.
    def test_1_a_cold_answer_on_one_is_a_hit_on_the_other(self):
        n = self.calls()
        st, _, first = self.search(self.a, "monster")
        self.assertEqual((st, first["source"]["cache"]), (200, "miss"))
        self.assertEqual(self.calls(), n + 1)
        st, _, other = self.search(self.b, "monster")
        self.assertEqual((st, other["source"]["cache"]), (200, "hit"))
        self.assertEqual(self.calls(), n + 1)
        self.assertEqual(other["results"], first["results"])
        self.assertEqual(other["source"]["fetched_at"],
                         first["source"]["fetched_at"])

    def test_2_each_machine_keeps_its_own_anilist_budget(self):
        # 3 a minute is paced one per 30.5 s (governor.h): a has spent its
        # call of this pace (test 1), b has not.
        n = self.calls()
        st, h, body = self.search(self.a, "budget a1")
        self.assertEqual(st, 503, body)
        self.assertIn("budget", body["error"]["message"])
        self.assertEqual(self.calls(), n)
        # b's own budget is untouched: its call goes, then b waits too.
        st, _, body = self.search(self.b, "budget b1")
        self.assertEqual((st, body["source"]["cache"]), (200, "miss"), body)
        self.assertEqual(self.calls(), n + 1)
        st, _, body = self.search(self.b, "budget b2")
        self.assertEqual(st, 503, body)
        self.assertEqual(self.calls(), n + 1)

    def test_3_a_clients_limit_counts_across_both(self):
        # Tests 1 and 2 made 5 requests of this client (a: 2, b: 3);
        # alternating, a cached answer is served 7 more times, then both
        # refuse: one limit, not one per machine (that would allow 19).
        ok = 0
        for i in range(2 * CLIENT_LIMIT):
            stack = (self.a, self.b)[i % 2]
            st, _, _ = self.search(stack, "monster")
            if st == 429:
                break
            self.assertEqual(st, 200)
            ok += 1
        self.assertEqual((st, ok), (429, CLIENT_LIMIT - 5))
        self.assertEqual(self.search(self.a, "monster")[0], 429)
        self.assertEqual(self.search(self.b, "monster")[0], 429)


if __name__ == "__main__":
    unittest.main()
