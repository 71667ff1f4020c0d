"""test_business_metrics.py: the metrics catalogue counted where it happens.

A known sequence through the real stack (Caddy, two workers, memcached,
PostgreSQL, the sample AniList): searches that hit, miss and find nothing,
tool calls over REST and MCP, AniList logins that succeed and fail, an
upstream 429 and the pause it causes. /metrics on the internal listener and
the statsd datagrams show exactly those counts; GET /v1/stats/top-searches
lists the searched queries after the flush, which never waits on the request
path and drops its counts (counted) while PostgreSQL is down. A second stack
opens and closes the breaker; a third shows the flush at drain.
"""
import json
import os
import re
import sys
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Stack, TOP_SRCDIR, wait_for, watchdog  # noqa: E402
from test_accounts import Browser  # noqa: E402
from test_metrics import UdpListener, sample  # noqa: E402

watchdog(170)

MCP_HEADERS = {"Content-Type": "application/json",
               "Accept": "application/json, text/event-stream",
               "MCP-Protocol-Version": "2025-11-25"}
PREFIX = "anilist_gpt."


def statsd_lines(packets):
    return [line for p in packets for line in p.split("\n") if line]


def delta(before, after, series):
    return (sample(after, series) or 0) - (sample(before, series) or 0)


class Stats:
    """The top-searches endpoint and the table behind it."""

    def __init__(self, stack):
        self.s = stack

    def top(self, query=""):
        return self.s.json("GET", "/v1/stats/top-searches" + query)

    def wait_top(self, want, query=""):
        """Wait for the flush: the endpoint lists exactly want."""
        seen = []

        def ok():
            status, _, body = self.top(query)
            seen[:] = [status, body]
            return status == 200 and body["top_searches"] == want
        try:
            wait_for(ok, timeout=15, what="top searches %r" % (want,))
        except Exception:
            raise AssertionError("top searches: %r, wanted %r" % (seen, want))


class BusinessMetrics(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.udp = UdpListener()
        # One client asks everything here: publish after one asker (the
        # threshold itself is test_security.py's).
        cls.s = Stack(workers=2, threads=4, postgres=True, config={
            "SEARCH_STATS_FLUSH_SECONDS": "1", "TOP_SEARCH_MIN_USERS": "1",
            "STATSD_HOST": "127.0.0.1", "STATSD_PORT": str(cls.udp.port)})
        cls.s.start()
        cls.stats = Stats(cls.s)

    @classmethod
    def tearDownClass(cls):
        cls.s.stop()
        cls.udp.close()

    # -- helpers --------------------------------------------------------
    def search(self, query, status=200):
        st, _, body = self.s.json("GET", "/v1/anime/search?" +
                                  urllib.parse.urlencode({"query": query}))
        self.assertEqual(st, status, body)
        return body

    def mcp_call(self, name, arguments):
        msg = {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
               "params": {"name": name, "arguments": arguments}}
        st, _, body = self.s.json("POST", "/mcp", msg, MCP_HEADERS)
        self.assertEqual(st, 200, body)
        return body["result"]

    def callback_url(self, b):
        """A login started and stopped before the callback: its URL."""
        status, url, _, _ = b.follow(
            self.s.url("/auth/login"),
            stop=lambda u: u.startswith(self.s.base + "/auth/callback"))
        self.assertEqual(status, 302)
        return url

    def deny_consent(self):
        """An MCP client's authorization the user refuses on our page."""
        cb = "http://127.0.0.1:9/callback"
        st, _, client = self.s.json("POST", "/oauth/register", {
            "redirect_uris": [cb], "token_endpoint_auth_method": "none",
            "client_name": "metrics test"})
        self.assertEqual(st, 201, client)
        b = Browser(self.s)
        st, _, body = b.request("GET", self.s.url(
            "/oauth/authorize?" + urllib.parse.urlencode({
                "response_type": "code", "client_id": client["client_id"],
                "redirect_uri": cb, "code_challenge": "x" * 43,
                "code_challenge_method": "S256", "state": "s"})))
        self.assertEqual(st, 200, body)
        login = re.search(rb'name="login" value="([^"]+)"', body).group(1)
        st, h, _ = b.request("POST", self.s.url("/oauth/authorize"),
                             {"login": login.decode(), "decision": "deny"},
                             {"Content-Type":
                              "application/x-www-form-urlencoded",
                              "Origin": self.s.base})
        self.assertEqual(st, 302)
        self.assertIn("error=access_denied", h["Location"])

    def upstream_graphql_counted(self):
        """GraphQL requests the sample's rate limit counted (not faulted)."""
        st = self.s.upstream("GET", "/__stats")
        ops = sum(n for op, n in st["by_operation"].items()
                  if not op.startswith("oauth_") and op != "(invalid)")
        return ops - st["faults_injected"] - st["rate_limited"]

    # -- the sequence ---------------------------------------------------
    def test_known_sequence_gives_exact_counts(self):
        s = self.s
        before = s.metrics()
        time.sleep(0.3)
        self.udp.take()

        # Searches: miss, hit (REST), hit (MCP, the same arguments), a
        # miss with odd spacing and case, a miss that finds nothing.
        frieren = self.search("Frieren")
        self.assertGreater(len(frieren["results"]), 0)
        self.assertEqual(self.search("Frieren")["source"]["cache"], "hit")
        r = self.mcp_call("search_anime", {"query": "Frieren"})
        self.assertFalse(r["isError"], r)
        self.assertGreater(len(r["structuredContent"]["results"]), 0)
        r = self.mcp_call("search_anime", {"query": "  BOCCHI   the Rock "})
        self.assertFalse(r["isError"], r)
        self.assertGreater(len(r["structuredContent"]["results"]), 0)
        self.assertEqual(self.search("zzqx no such title")["results"], [])

        # Another tool: a miss then a hit of kind "media".
        media_id = frieren["results"][0]["id"]
        for _ in range(2):
            st, _, body = s.json("GET", "/v1/anime/%d" % media_id)
            self.assertEqual(st, 200, body)

        # Refused arguments, over REST and over MCP.
        st, _, body = s.json("GET", "/v1/anime/search?query=x&year=1800")
        self.assertEqual(st, 400, body)
        self.assertEqual(body["error"]["code"], "invalid_argument")
        r = self.mcp_call("search_anime", {"query": "x", "per_page": 999})
        self.assertTrue(r["isError"], r)

        # AniList logins: one success (then an authenticated request),
        # and failures: no state, a code AniList refuses, a cancelled one,
        # and an MCP client's authorization the user denies.
        b = Browser(s)
        status, url, _, body = b.follow(s.url("/auth/login"),
                                        user="metricsuser")
        self.assertEqual(status, 200, body)
        self.assertTrue(url.endswith("/auth/me"), url)
        self.assertEqual(b.request("GET", s.url("/auth/me"))[0], 200)
        self.assertEqual(b.request("GET", s.url("/auth/callback?code=x"))[0],
                         400)
        url = self.callback_url(b)
        forged = re.sub(r"code=[^&]+", "code=forged-code", url)
        st, _, body = b.request("GET", forged)
        self.assertEqual(st, 400, body)
        self.assertEqual(json.loads(body)["error"]["code"], "anilist_refused")
        url = self.callback_url(b)
        cancelled = re.sub(r"code=[^&]+", "error=access_denied", url)
        st, _, body = b.request("GET", cancelled)
        self.assertEqual(st, 400, body)
        self.deny_consent()

        # AniList answers 429: counted as ratelimited; the pause it asks
        # for keeps the next call from being made at all (budget).
        s.upstream_fault("429", count=1, retry_after=5)
        body = self.search("one piece", status=503)
        self.assertEqual(body["error"]["code"], "upstream_unavailable")
        self.search("naruto", status=503)
        graphql = self.upstream_graphql_counted()

        after = s.metrics()
        want = {
            'cache_requests_total{kind="search",result="miss"}': 5,
            'cache_requests_total{kind="search",result="hit"}': 2,
            'cache_requests_total{kind="media",result="miss"}': 1,
            'cache_requests_total{kind="media",result="hit"}': 1,
            'cache_requests_total{kind="search",result="stale"}': 0,
            'cache_requests_total{kind="search",result="error"}': 0,
            # 3 searches and a media lookup, and the login's Viewer.
            'anilist_requests_total{result="ok"}': 5,
            'anilist_requests_total{result="ratelimited"}': 1,
            'anilist_requests_total{result="budget"}': 1,
            'anilist_request_duration_seconds_count': 6,
            'tool_calls_total{tool="search_anime",result="ok"}': 5,
            'tool_calls_total{tool="search_anime",'
            'result="invalid_argument"}': 2,
            'tool_calls_total{tool="search_anime",'
            'result="upstream_unavailable"}': 2,
            'tool_calls_total{tool="get_anime",result="ok"}': 2,
            'tool_duration_seconds_count{tool="search_anime"}': 9,
            'tool_duration_seconds_count{tool="get_anime"}': 2,
            'search_queries_total': 5,
            'search_zero_results_total': 1,
            'oauth_logins_total{result="success",reason=""}': 1,
            'oauth_logins_total{result="failure",reason="invalid_state"}': 1,
            'oauth_logins_total{result="failure",'
            'reason="anilist_refused"}': 1,
            'oauth_logins_total{result="failure",reason="cancelled"}': 1,
            'oauth_logins_total{result="failure",reason="denied"}': 1,
            'db_errors_total': 0,
        }
        got = {k: delta(before, after, k) for k in want}
        self.assertEqual(got, want)
        # One user signed in, seen at login and on /auth/me.
        self.assertEqual(sample(after, "active_users"), 1)
        # AniList's X-RateLimit-Remaining as the 429 carried it.
        self.assertEqual(sample(after, "anilist_ratelimit_remaining"),
                         90 - graphql)
        self.assertEqual(sample(after, "anilist_breaker_state"), 0)
        # The pool: every connection back, some open, checkouts timed.
        self.assertEqual(sample(after, 'db_pool_connections{'
                                'state="in_use"}'), 0)
        self.assertGreaterEqual(sample(after, 'db_pool_connections{'
                                       'state="idle"}'), 1)
        self.assertGreater(delta(before, after,
                                 "db_pool_wait_seconds_count"), 0)

        # statsd got the same events, one line each.
        time.sleep(0.5)
        lines = statsd_lines(self.udp.take())
        counts = {}
        for line in lines:
            counts[line] = counts.get(line, 0) + 1
        want_lines = {
            "cache.search.miss:1|c": 5, "cache.search.hit:1|c": 2,
            "cache.media.miss:1|c": 1, "cache.media.hit:1|c": 1,
            "anilist.requests.ok:1|c": 5,
            "anilist.requests.ratelimited:1|c": 1,
            "anilist.requests.budget:1|c": 1,
            "tools.calls.search_anime.ok:1|c": 5,
            "tools.calls.search_anime.invalid_argument:1|c": 2,
            "tools.calls.search_anime.upstream_unavailable:1|c": 2,
            "tools.calls.get_anime.ok:1|c": 2,
            "search.queries:1|c": 5, "search.zero_results:1|c": 1,
            "oauth.logins.success.none:1|c": 1,
            "oauth.logins.failure.invalid_state:1|c": 1,
            "oauth.logins.failure.anilist_refused:1|c": 1,
            "oauth.logins.failure.cancelled:1|c": 1,
            "oauth.logins.failure.denied:1|c": 1,
        }
        self.assertEqual({k: counts.get(PREFIX + k, 0) for k in want_lines},
                         want_lines)
        # The gauge follows every answer that carries the header (the
        # login's Viewer call too), so only its presence is exact.
        self.assertGreaterEqual(counts.get(
            PREFIX + "anilist.ratelimit_remaining:%d|g" % (90 - graphql), 0),
            1)
        users = {l for l in lines if l.startswith(PREFIX + "users.active:")}
        self.assertEqual(len(users), 1, users)
        self.assertRegex(users.pop(), r"^anilist_gpt\.users\.active:"
                         r"[0-9a-f]{8,64}\|s$")
        self.assertTrue(any(l.startswith(PREFIX + "tools.time.search_anime:")
                            and l.endswith("|ms") for l in lines))
        self.assertTrue(any(l.startswith(PREFIX + "anilist.response_time:")
                            for l in lines))
        self.assertTrue(any(l.startswith(PREFIX + "db.pool.wait:")
                            for l in lines))

        # Top searches: normalised, counted after the flush, no 429'd or
        # refused search among them.
        self.stats.wait_top([{"query": "frieren", "count": 3},
                             {"query": "bocchi the rock", "count": 1},
                             {"query": "zzqx no such title", "count": 1}])
        st, _, body = self.stats.top("?limit=1&window=30d")
        self.assertEqual(st, 200, body)
        self.assertEqual(body, {"top_searches": [{"query": "frieren",
                                                  "count": 3}],
                                "window": "30d"})
        # Nothing tied to a user is stored: the table's whole shape.
        self.assertEqual(s.psql(
            "SELECT column_name FROM information_schema.columns WHERE "
            "table_name = 'search_queries' ORDER BY ordinal_position"),
            [["hour"], ["query"], ["hits"]])
        self.assertEqual(s.psql(
            "SELECT count(*) FROM search_queries WHERE hour <> "
            "date_trunc('hour', hour)"), [["0"]])

        # PostgreSQL down: searches still answer at once, their counts are
        # dropped (counted), the endpoint says 503; then it recovers.
        s.pg_ctl("stop")
        try:
            t0 = time.monotonic()
            self.search("Frieren")
            self.assertLess(time.monotonic() - t0, 2)
            wait_for(lambda: (sample(s.metrics(), 'search_stats_dropped_'
                              'total{reason="database"}') or 0) >= 1,
                     timeout=15, what="a dropped flush")
            st, h, body = self.stats.top()
            self.assertEqual(st, 503, body)
            self.assertEqual(body["error"]["code"], "stats_unavailable")
            self.assertIn("retry-after", h)
            self.assertGreater(sample(s.metrics(), "db_errors_total"), 0)
        finally:
            s.pg_ctl("start")
        self.search("Frieren")
        self.stats.wait_top([{"query": "frieren", "count": 4},
                             {"query": "bocchi the rock", "count": 1},
                             {"query": "zzqx no such title", "count": 1}])
        logged = [l for l in s.log_lines() if l.get("msg") ==
                  "search statistics dropped until PostgreSQL answers"]
        self.assertGreaterEqual(len(logged), 1)
        self.assertLessEqual(len(logged), 2)    # once per worker

    def test_top_searches_refuses_bad_arguments(self):
        for query, field in (("?limit=0", "limit"), ("?limit=101", "limit"),
                             ("?limit=ten", "limit"), ("?window=1h", "window"),
                             ("?window=24H", "window"), ("?limit=5&limit=6",
                                                         "limit"),
                             ("?user=1", "user")):
            st, _, body = self.stats.top(query)
            self.assertEqual(st, 400, (query, body))
            self.assertEqual(body["error"]["code"], "invalid_argument")
            self.assertEqual(body["error"]["field"], field, query)
        st, _, body = self.stats.top("?window=7d")
        self.assertEqual(st, 200, body)
        self.assertEqual(body["window"], "7d")
        self.assertIsInstance(body["top_searches"], list)

    def test_grafana_panel_reads_what_the_endpoint_answers(self):
        with open(os.path.join(TOP_SRCDIR, "etc", "grafana",
                               "anilist-gpt.json")) as f:
            dash = json.load(f)
        panels = [p for p in dash["panels"]
                  if "top-searches" in json.dumps(p.get("targets", []))]
        self.assertEqual(len(panels), 1)
        target = panels[0]["targets"][0]
        path = urllib.parse.urlsplit(target["url"].replace(
            "${public_url}", "https://x"))
        st, _, body = self.stats.top("?" + path.query)
        self.assertEqual(st, 200, body)
        rows = body[target["root_selector"]]
        self.assertIsInstance(rows, list)
        keys = {c["selector"] for c in target["columns"]}
        self.assertEqual(keys, {"query", "count"})
        for row in rows:
            self.assertEqual(set(row), keys)


class Breaker(unittest.TestCase):
    """The breaker gauge follows one worker's breaker; no PostgreSQL."""

    def test_breaker_opens_and_closes_and_stats_without_database(self):
        udp = UdpListener()
        try:
            with Stack(workers=1, threads=2, memcached=False, config={
                    "UPSTREAM_BREAKER_THRESHOLD": "2",
                    "UPSTREAM_BREAKER_COOLDOWN": "1",
                    "UPSTREAM_RETRIES": "0",
                    "STATSD_HOST": "127.0.0.1",
                    "STATSD_PORT": str(udp.port)}) as s:
                time.sleep(0.3)
                udp.take()
                s.upstream_fault("500", count=2)
                for q in ("a", "b"):
                    self.assertEqual(s.json("GET", "/v1/anime/search?query="
                                            + q)[0], 503)
                self.assertEqual(sample(s.metrics(), "anilist_breaker_state"),
                                 2)
                st, _, body = s.json("GET", "/v1/anime/search?query=c")
                self.assertEqual(st, 503, body)
                time.sleep(1.2)
                st, _, body = s.json("GET", "/v1/anime/search?query=Frieren")
                self.assertEqual(st, 200, body)
                text = s.metrics()
                self.assertEqual(sample(text, "anilist_breaker_state"), 0)
                for result, n in (("server_error", 2), ("breaker_open", 1),
                                  ("ok", 1)):
                    self.assertEqual(sample(text, 'anilist_requests_total{'
                                            'result="%s"}' % result), n)
                # No cache configured: no lookups to count (the series
                # are there from the start, at 0).
                lookups = re.findall(r"(?m)^cache_requests_total\{.*\} "
                                     r"(\S+)$", text)
                self.assertTrue(lookups)
                self.assertEqual({float(v) for v in lookups}, {0.0})
                self.assertEqual(sample(text, "search_queries_total"), 1)
                self.assertEqual(sample(text, 'search_stats_dropped_total{'
                                        'reason="disabled"}'), 1)
                st, _, body = s.json("GET", "/v1/stats/top-searches")
                self.assertEqual(st, 503, body)
                self.assertEqual(body["error"]["code"], "stats_disabled")
                time.sleep(0.3)
                states = [l for l in statsd_lines(udp.take())
                          if l.startswith(PREFIX + "anilist.breaker_state:")]
                self.assertEqual(states, [PREFIX + "anilist.breaker_state:"
                                          "%d|g" % v for v in (2, 1, 0)])
        finally:
            udp.close()


class Drain(unittest.TestCase):
    """A worker that stops writes what it counted, whatever the interval."""

    def test_counts_reach_postgres_at_drain(self):
        with Stack(workers=1, threads=2, postgres=True, config={
                "SEARCH_STATS_FLUSH_SECONDS": "3600"}) as s:
            for _ in range(2):
                self.assertEqual(s.json("GET", "/v1/anime/search?query="
                                        "Drain%20Test")[0], 200)
            self.assertEqual(s.psql("SELECT count(*) FROM search_queries"),
                             [["0"]])
            s.service().stop()
            self.assertEqual(s.psql("SELECT query, hits FROM "
                                    "search_queries"), [["drain test", "2"]])


if __name__ == "__main__":
    unittest.main(verbosity=2)
