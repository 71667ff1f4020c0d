"""test_real_hosts.py: request shapes real MCP hosts send, replayed through
Caddy against real memcached, PostgreSQL and the sample AniList: each case is
named after the host behaviour it copies, with where the report came from.
Also the official SDK clients' sign-in (tests/mcp-client/sdk-oauth.mjs) and
the size of every tool's default and largest answers."""
import calendar
import json
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import test_mcp  # noqa: E402  (npm_ci and the client directory)

V11, V26 = "2025-11-25", "2026-07-28"
META26 = {"io.modelcontextprotocol/protocolVersion": V26,
          "io.modelcontextprotocol/clientCapabilities": {}}
USER_LIMIT = 120
BUDGET_DEFAULT, BUDGET_MAX = 8192, 49152


class RealHostsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        harness.watchdog(280)
        test_mcp.npm_ci()
        cls.s = harness.Stack(workers=2, threads=4, postgres=True, config={
            "RATE_LIMIT_REQUESTS": str(USER_LIMIT),
            "RATE_LIMIT_WINDOW": "60"})
        cls.s.start()

    @classmethod
    def tearDownClass(cls):
        cls.s.stop()

    def post(self, msg, headers=None, raw=False):
        h = {"Content-Type": "application/json",
             "Accept": "application/json, text/event-stream"}
        h.update(headers or {})
        h = {k: v for k, v in h.items() if v is not None}
        st, hdrs, out = self.s.request("POST", "/mcp", json.dumps(msg), h)
        return st, hdrs, (out if raw else json.loads(out) if out else None)

    def call(self, name, args, meta=None, headers=None):
        params = {"name": name, "arguments": args}
        if meta:
            params["_meta"] = meta
        return self.post({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                          "params": params},
                         dict({"MCP-Protocol-Version": V11}, **(headers or {})))

    # Claude connectors are reported to send MCP-Protocol-Version 2025-11-25
    # with a body whose _meta names 2026-07-28 (the issue that asked for
    # this; the 2026-07-28 client SDK stamps _meta on every request).
    def test_claude_header_and_meta_name_two_revisions(self):
        before = self.mismatches()
        st, _, b = self.post({"jsonrpc": "2.0", "id": 1, "method": "tools/list",
                              "params": {"_meta": META26}},
                             {"MCP-Protocol-Version": V11,
                              "Mcp-Method": "tools/list"})
        self.assertEqual(st, 200, b)
        self.assertEqual(b["result"]["resultType"], "complete")
        self.assertEqual(self.mismatches(), before + 1)
        # An unsupported revision is still refused.
        meta = dict(META26, **{"io.modelcontextprotocol/protocolVersion":
                               "2099-01-01"})
        st, _, b = self.post({"jsonrpc": "2.0", "id": 1, "method": "tools/list",
                              "params": {"_meta": meta}},
                             {"MCP-Protocol-Version": V11,
                              "Mcp-Method": "tools/list"})
        self.assertEqual((st, b["error"]["code"]), (400, -32022))

    def mismatches(self):
        total = 0
        for line in self.s.metrics().splitlines():
            if line.startswith("mcp_version_mismatch_total{"):
                total += int(float(line.rsplit(" ", 1)[1]))
        return total

    # ChatGPT's connector and hand-written clients that skip the header
    # (issue report: "no MCP-Protocol-Version header → the 2025-03-26
    # shape … so ChatGPT draws nothing").
    def test_no_version_header_gets_the_rich_shape(self):
        st, _, b = self.post({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
        self.assertEqual(st, 200)
        search = [t for t in b["result"]["tools"]
                  if t["name"] == "search_anime"][0]
        self.assertIn("outputSchema", search)
        self.assertEqual(search["_meta"]["openai/outputTemplate"],
                         "ui://widget/anime-list.html")
        st, _, b = self.call("search_anime", {"query": "Frieren"},
                             headers={"MCP-Protocol-Version": None})
        self.assertEqual(st, 200)
        self.assertTrue(b["result"]["structuredContent"]["results"])

    # OpenAI's app scanner is reported to post JSON as
    # application/octet-stream (the issue that asked for this).
    def test_app_scanner_posts_octet_stream(self):
        for ctype in ("application/octet-stream", "text/plain"):
            st, _, b = self.post({"jsonrpc": "2.0", "id": 1, "method": "ping"},
                                 {"Content-Type": ctype,
                                  "MCP-Protocol-Version": V11})
            self.assertEqual((st, b["result"]), (200, {}), ctype)
        st, _, _ = self.post({"jsonrpc": "2.0", "id": 1, "method": "ping"},
                             {"Content-Type": "multipart/form-data; boundary=x",
                              "MCP-Protocol-Version": V11})
        self.assertEqual(st, 415)

    # Clients that send Accept: text/event-stream alone (the issue that
    # asked for this: "→ 406").
    def test_sse_only_accept_gets_one_event(self):
        for msg in ({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                     "params": {"protocolVersion": V11, "capabilities": {},
                                "clientInfo": {"name": "t", "version": "1"}}},
                    {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
                    {"jsonrpc": "2.0", "id": 3, "method": "tools/call",
                     "params": {"name": "list_genres_and_tags",
                                "arguments": {}}}):
            st, h, raw = self.post(msg, {"Accept": "text/event-stream",
                                         "MCP-Protocol-Version": V11},
                                   raw=True)
            self.assertEqual(st, 200, raw[:200])
            self.assertTrue(h["content-type"].startswith("text/event-stream"))
            text = raw.decode()
            self.assertTrue(text.startswith("event: message\ndata: "), text[:80])
            self.assertTrue(text.endswith("\n\n"))
            body = json.loads(text[len("event: message\ndata: "):-2])
            self.assertEqual(body["id"], msg["id"])
            self.assertIn("result", body)

    # ChatGPT Apps SDK, "Authentication" (developers.openai.com/apps-sdk/
    # build/auth): a protected tool answers a tool result with
    # _meta["mcp/www_authenticate"]; a 401 is dropped as a transport error.
    def test_protected_tool_without_token_answers_the_challenge(self):
        st, h, b = self.call("get_user_list", {})
        self.assertEqual(st, 200, b)
        self.assertNotIn("www-authenticate", h)
        r = b["result"]
        self.assertTrue(r["isError"])
        self.assertIn("connect", r["content"][0]["text"])
        c = r["_meta"]["mcp/www_authenticate"][0]
        params = dict(re.findall(r'(\w+)="([^"]*)"', c))
        self.assertEqual(params["resource_metadata"], self.s.base +
                         "/.well-known/oauth-protected-resource")
        self.assertEqual(params["scope"], "anilist")
        # MCP authorization: an invalid token is still HTTP 401.
        st, h, b = self.call("get_user_list", {}, headers={
            "Authorization": "Bearer not-a-real-token-at-all-0123456789"})
        self.assertEqual(st, 401)
        self.assertIn('error="invalid_token"', h["www-authenticate"])
        # REST keeps its 401.
        st, h, _ = self.s.request("GET", "/v1/me/list")
        self.assertEqual(st, 401)
        self.assertIn("resource_metadata=", h["www-authenticate"])

    # Every ChatGPT user reaches us from a few OpenAI addresses; ChatGPT
    # names each one in _meta["openai/subject"] ("anonymized user id … for
    # the purposes of rate limiting", Apps SDK reference).
    def test_shared_egress_users_keep_their_own_budget(self):
        for i in range(200):
            st, h, b = self.call("get_anime", {"id": 0},
                                 {"openai/subject": "v1/user-%d" % i})
            self.assertEqual(st, 200)
            self.assertEqual(b["result"]["_meta"]["anilist-gpt/error"]["code"],
                             "invalid_argument", b)
        # One user over RATE_LIMIT_REQUESTS: told how long to wait.
        for i in range(USER_LIMIT + 1):
            st, h, b = self.call("get_anime", {"id": 0},
                                 {"openai/subject": "v1/busy-user"})
        self.assertEqual(st, 200)
        r = b["result"]
        self.assertTrue(r["isError"])
        err = r["_meta"]["anilist-gpt/error"]
        self.assertEqual(err["code"], "rate_limited")
        self.assertGreaterEqual(err["retry_after"], 1)
        self.assertIn("Wait %d seconds" % err["retry_after"],
                      r["content"][0]["text"])
        self.assertEqual(h["ratelimit-limit"], str(USER_LIMIT))
        self.assertEqual(h["ratelimit-remaining"], "0")
        # Other methods of that user: HTTP 429.
        st, h, b = self.post({"jsonrpc": "2.0", "id": 9, "method": "tools/list",
                              "params": {"_meta": {"openai/subject":
                                                   "v1/busy-user"}}},
                             {"MCP-Protocol-Version": V11})
        self.assertEqual(st, 429)
        self.assertIn("retry-after", h)
        self.assertEqual(b["error"]["code"], -32000)

    # Models misspell genres and put genres in tags (the issue that asked
    # for this: genres ["Romantic"] gave an empty result).
    def test_misspelt_genres_get_the_real_names(self):
        st, _, b = self.call("search_anime", {"genres": ["Romantic"]})
        r = b["result"]
        self.assertTrue(r["isError"])
        self.assertIn("did you mean Romance?", r["content"][0]["text"])
        self.assertEqual(r["_meta"]["anilist-gpt/error"]["field"], "genres[0]")
        st, _, b = self.call("search_anime", {"tags": ["Romance"]})
        self.assertIn("is a genre", b["result"]["content"][0]["text"])
        st, _, b = self.call("search_anime", {"genres": ["romance"]})
        self.assertFalse(b["result"]["isError"])
        self.assertTrue(b["result"]["structuredContent"]["results"])
        st, _, b = self.s.json("GET", "/v1/anime/search?genres=Romantic")
        self.assertEqual(st, 400)
        self.assertIn("Romance", b["error"]["message"])

    # Models compute Unix seconds badly and ask with dates (the issue that
    # asked for this).
    def test_airing_schedule_takes_calendar_dates(self):
        day = calendar.timegm((2026, 12, 7, 0, 0, 0))
        st, _, b = self.call("get_airing_schedule", {"from": "2026-12-07",
                                                     "to": "2026-12-08"})
        r = b["result"]["structuredContent"]
        self.assertEqual((r["from"], r["to"]), (day, day + 2 * 86400))
        self.assertEqual(r["time_zone"], "UTC")
        st, _, b = self.call("get_airing_schedule",
                             {"from": "2026-12-07T18:00:00+09:00"})
        r = b["result"]["structuredContent"]
        self.assertEqual(r["from"], day + 9 * 3600)
        self.assertEqual(r["time_zone"], "+09:00")
        st, _, b = self.call("get_airing_schedule", {"from": "next tuesday"})
        self.assertTrue(b["result"]["isError"])
        self.assertIn("2026-12-07", b["result"]["content"][0]["text"])
        st, _, b = self.s.json("GET", "/v1/airing?from=2026-12-07")
        self.assertEqual((st, b["from"]), (200, day))

    # Widget domains: the Apps SDK (openai/widgetDomain) and MCP Apps
    # (_meta.ui.domain) ask every template for the app's origin.
    def test_widget_templates_name_their_domain(self):
        st, _, b = self.post({"jsonrpc": "2.0", "id": 1,
                              "method": "resources/list"},
                             {"MCP-Protocol-Version": V11})
        for res in b["result"]["resources"]:
            self.assertEqual(res["_meta"]["ui"]["domain"], self.s.base)
            self.assertEqual(res["_meta"]["openai/widgetDomain"], self.s.base)

    # The official SDK clients: no token → the result with the challenge;
    # OAuth through the SDK's own auth(); the call again, signed in.
    def test_official_sdks_sign_in_from_the_challenge(self):
        rc, r = test_mcp.McpTest.node(self, "sdk-oauth.mjs",
                                      self.s.url("/mcp"), timeout=150)
        self.assertEqual(r["failures"], [])
        self.assertEqual(rc, 0)
        self.assertEqual((r["v1_user"], r["v2_user"]),
                         ("sampleuser", "sampleuser"))

    # Answers that fit a model's context: every tool's default answer and
    # its largest allowed one, measured as the text the model reads.
    def test_answers_fit_their_budgets(self):
        st, _, b = self.post({"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                             {"MCP-Protocol-Version": V11})
        required = {"search_anime": {"query": "a"},
                    "get_anime": {"id": self.any_anime_id()},
                    "get_character_info": {"search": "a"},
                    "get_anime_recommendations": {"reference_title": "Frieren"},
                    "get_user_list": {"user_name": "sampleuser"},
                    "get_watch_order": {"id": self.any_anime_id()},
                    "get_staff_info": {"search": "a"},
                    "get_studio_info": {"search": "a"},
                    "get_user_profile": {"user_name": "sampleuser"},
                    "pick_from_my_list": {"user_name": "sampleuser"},
                    "get_my_airing": {"user_name": "sampleuser"}}
        sizes = {}
        for tool in b["result"]["tools"]:
            if not any(s["type"] == "noauth"
                       for s in tool["_meta"]["securitySchemes"]):
                continue    # writes: a few hundred bytes, need a user
            props = tool["inputSchema"]["properties"]
            base = dict(required.get(tool["name"], {}))
            largest = dict(base)
            for k, p in props.items():
                if k in ("per_page", "count", "limit", "days") and \
                        "maximum" in p:
                    largest[k] = p["maximum"]
                elif k in ("full", "include_adult"):
                    largest[k] = True
            for label, args, budget in (("default", base, BUDGET_DEFAULT),
                                        ("largest", largest, BUDGET_MAX)):
                if tool["name"] == "list_genres_and_tags" and label == "default":
                    budget = 16384      # the tool's own (a lookup table)
                st, _, r = self.call(tool["name"], args)
                self.assertFalse(r["result"]["isError"], (tool["name"], r))
                size = len(r["result"]["content"][0]["text"].encode())
                sizes[(tool["name"], label)] = size
                self.assertLessEqual(size, budget, (tool["name"], label))
        # The largest search is trimmed, and says so.
        st, _, r = self.call("search_anime", {"query": "a", "full": True,
                                              "per_page": 50})
        sc = r["result"]["structuredContent"]
        self.assertIn("trimmed", sc)
        self.assertIn("Shortened to fit", sc["text_summary"])
        sys.stderr.write("answer sizes: %s\n" % json.dumps(
            {"%s %s" % k: v for k, v in sorted(sizes.items())}))

    def any_anime_id(self):
        st, _, b = self.call("search_anime", {"query": "Frieren"})
        return b["result"]["structuredContent"]["results"][0]["id"]


if __name__ == "__main__":
    unittest.main(verbosity=2)
