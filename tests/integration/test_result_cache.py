"""test_result_cache.py: finished tool results kept in the worker (src/rescache.c),
through Caddy, real memcached and the sample upstream.

One worker, so every request meets the same memory. memcached is flushed
between requests where a test must know that an answer came from the
worker's memory and not from memcached: the upstream's request counter then
tells a kept answer (no call) from a fetched one. Search data is fresh for
2 s here (CACHE_TTL_DEFAULT), trending for the default 30 min, and a kept
result lives at most RESULT_CACHE_SECONDS = 2.
"""
import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Stack, watchdog  # noqa: E402
from test_tools import url  # noqa: E402

watchdog(100)

ACCEPT = "application/json, text/event-stream"


class ResultCacheTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = Stack(workers=1, threads=4, memcached=True, upstream=True,
                      upstream_args=["--rate-limit", "0"],
                      config={"CACHE_TTL_DEFAULT": "2",
                              "RESULT_CACHE_SECONDS": "2",
                              "UPSTREAM_BREAKER_THRESHOLD": "1000"})
        cls.s.start()

    @classmethod
    def tearDownClass(cls):
        cls.s.stop()

    def setUp(self):
        self.s.flush_memcached()

    # -- helpers -------------------------------------------------------
    def get(self, path, **params):
        st, _, body = self.s.json("GET", url(path, **params))
        self.assertEqual(st, 200, body)
        return body

    def series(self, want):
        for line in self.s.metrics().splitlines():
            if line.startswith(want + " "):
                return float(line.rsplit(" ", 1)[1])
        return 0.0

    def mcp_call(self, name, arguments):
        msg = {"jsonrpc": "2.0", "id": 7, "method": "tools/call",
               "params": {"name": name, "arguments": arguments}}
        st, _, out = self.s.request(
            "POST", "/mcp", json.dumps(msg),
            {"Content-Type": "application/json", "Accept": ACCEPT,
             "MCP-Protocol-Version": "2025-11-25"})
        self.assertEqual(st, 200, out)
        return json.loads(out)

    # -- tests ---------------------------------------------------------
    def test_repeat_is_answered_from_memory_as_a_hit(self):
        hit = 'cache_requests_total{kind="search",result="hit"}'
        hits0 = self.series(hit)
        searches0 = self.series("search_queries_total")
        first = self.get("/v1/anime/search", query="frieren")
        self.assertEqual(first["source"]["cache"], "miss")
        self.assertTrue(first["results"])
        calls = self.s.upstream_requests()
        self.s.flush_memcached()
        # memcached is empty: only the worker's memory can answer this.
        again = self.get("/v1/anime/search", query="frieren")
        self.assertEqual(self.s.upstream_requests(), calls)
        self.assertEqual(again["source"]["cache"], "hit")
        first["source"]["cache"] = "hit"
        self.assertEqual(again, first)
        # The same arguments spelt out (defaults, order): the same entry.
        same = self.get("/v1/anime/search", per_page=10, page=1,
                        include_adult="false", query="frieren")
        self.assertEqual(same, first)
        self.assertEqual(self.s.upstream_requests(), calls)
        # Different arguments are a different answer.
        other = self.get("/v1/anime/search", query="frieren", per_page=1)
        self.assertEqual(other["source"]["cache"], "miss")
        self.assertEqual(len(other["results"]), 1)
        self.assertEqual(self.s.upstream_requests(), calls + 1)
        # Kept answers still count as cache hits and as searches.
        self.assertEqual(self.series(hit) - hits0, 2)
        self.assertEqual(self.series("search_queries_total") - searches0, 4)
        log = [l for l in self.s.log_lines()
               if l.get("path") == "/v1/anime/search"]
        self.assertEqual(log[-2]["cache"], "hit")
        self.assertEqual(log[-2]["tool"], "search_anime")

    def test_health_cache_shows_the_kept_answers(self):
        def kept():
            st, _, body = self.s.json("GET", "/health/cache")
            self.assertEqual(st, 200, body)
            return body["worker_kept_answers"]
        before = kept()
        self.get("/v1/anime/search", query="one piece")
        self.get("/v1/anime/search", query="one piece")
        after = kept()
        self.assertEqual(after["stores"] - before["stores"], 1)
        self.assertEqual(after["hits"] - before["hits"], 1)
        self.assertGreaterEqual(after["entries"], 1)
        self.assertGreater(after["bytes"], 0)
        self.assertLessEqual(after["bytes"], after["budget_bytes"])
        self.assertEqual(after["budget_bytes"], 4096 * 1024)

    def test_mcp_call_of_a_kept_result(self):
        rest = self.get("/v1/anime/search", query="bocchi")
        self.s.flush_memcached()
        calls = self.s.upstream_requests()
        out = self.mcp_call("search_anime", {"query": "bocchi"})
        self.assertEqual(self.s.upstream_requests(), calls)
        result = out["result"]
        self.assertFalse(result["isError"])
        rest["source"]["cache"] = "hit"
        self.assertEqual(result["structuredContent"], rest)
        self.assertEqual(result["content"][0]["type"], "text")
        self.assertEqual(json.loads(result["content"][0]["text"]), rest)
        self.assertEqual(out["id"], 7)

    def test_never_kept_past_the_freshness_of_the_data(self):
        self.get("/v1/anime/search", query="mushishi")
        time.sleep(2.3)
        # The data is 2.3 s old (fresh for 2): memory must not answer.
        # memcached's stale copy does, and is refreshed in the background.
        calls = self.s.upstream_requests()
        late = self.get("/v1/anime/search", query="mushishi")
        self.assertEqual(late["source"]["cache"], "stale")
        end = time.monotonic() + 10
        while self.s.upstream_requests() < calls + 1 and \
                time.monotonic() < end:
            time.sleep(0.02)
        self.assertEqual(self.s.upstream_requests(), calls + 1)
        again = self.get("/v1/anime/search", query="mushishi")
        self.assertEqual(again["source"]["cache"], "hit")
        self.assertNotEqual(again["source"]["fetched_at"],
                            late["source"]["fetched_at"])

    def test_kept_at_most_result_cache_seconds(self):
        # Trending data is fresh for 30 min; memory keeps it 2 s at most.
        self.get("/v1/anime/trending")
        self.s.flush_memcached()
        calls = self.s.upstream_requests()
        self.assertEqual(self.get("/v1/anime/trending")["source"]["cache"],
                         "hit")
        self.assertEqual(self.s.upstream_requests(), calls)
        time.sleep(2.3)
        self.s.flush_memcached()
        self.assertEqual(self.get("/v1/anime/trending")["source"]["cache"],
                         "miss")
        self.assertEqual(self.s.upstream_requests(), calls + 1)

    def test_stale_and_failed_answers_are_not_kept(self):
        self.get("/v1/anime/search", query="haikyu")
        time.sleep(2.3)
        self.s.upstream_fault("500", count=50)
        try:
            stale = self.get("/v1/anime/search", query="haikyu")
            self.assertEqual(stale["source"]["cache"], "stale")
            st, _, body = self.s.json("GET", url("/v1/anime/search",
                                                 query="never seen"))
            self.assertEqual(st, 503, body)
        finally:
            self.s.upstream_reset()
        # AniList is back. Without memcached's copies (and its short memory
        # of the failure), only the worker's memory could avoid a fetch.
        self.s.flush_memcached()
        calls = self.s.upstream_requests()
        fresh = self.get("/v1/anime/search", query="haikyu")
        self.assertEqual(fresh["source"]["cache"], "miss")
        seen = self.get("/v1/anime/search", query="never seen")
        self.assertEqual(seen["source"]["cache"], "miss")
        self.assertEqual(self.s.upstream_requests(), calls + 2)

    def test_warm_recommendations_are_kept_answers(self):
        q = dict(reference_anime_id=19, recommendation_type="similar",
                 count=5)
        cold = self.get("/v1/recommendations", **q)
        self.assertEqual(cold["source"]["cache"], "miss")
        self.assertGreater(cold["source"]["upstream_calls"], 0)
        # Without memcached's copies only the worker's memory can answer.
        self.s.flush_memcached()
        calls = self.s.upstream_requests()
        warm = self.get("/v1/recommendations", **q)
        self.assertEqual(self.s.upstream_requests(), calls)
        self.assertEqual(warm["source"]["cache"], "hit")
        self.assertEqual(warm["source"]["upstream_calls"], 0)
        self.assertEqual(warm["recommendations"], cold["recommendations"])
        self.assertEqual(warm["reference"], cold["reference"])
        self.assertEqual(warm["text_summary"], cold["text_summary"])

    def test_a_list_driven_recommendation_is_never_kept(self):
        q = dict(recommendation_type="taste_profile",
                 user_name="sampleuser", count=5)
        self.get("/v1/recommendations", **q)
        self.s.flush_memcached()
        calls = self.s.upstream_requests()
        again = self.get("/v1/recommendations", **q)
        self.assertEqual(again["source"]["cache"], "miss")
        self.assertGreater(self.s.upstream_requests(), calls)

    def test_invalid_arguments_are_refused_before_memory(self):
        self.get("/v1/anime/search", query="frieren")
        st, _, body = self.s.json("GET", url("/v1/anime/search",
                                             query="frieren", per_page=51))
        self.assertEqual(st, 400, body)
        self.assertEqual(body["error"]["field"], "per_page")


if __name__ == "__main__":
    unittest.main(verbosity=2)
