"""test_security.py: the attacks docs/SECURITY.md names, each refused
through Caddy with real PostgreSQL and memcached, and nothing stored.

One test per promise: the attack as a client would send it, the refusal,
and the row counts of the account tables before and after. Requests that
must look like different clients come from different loopback addresses
(127.0.0.N), which Caddy passes on as REMOTE_ADDR.
"""
import base64
import http.client
import json
import os
import re
import sys
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import oauth_flow  # noqa: E402
from oauth_flow import CLIENT_CB, FORM, Browser, pkce_pair  # noqa: E402

harness.watchdog(300)

TABLES = ["users", "anilist_tokens", "oauth_clients", "login_states",
          "authorization_codes", "token_families", "tokens",
          "recommendation_events", "search_queries", "search_askers"]
MCP = {"Content-Type": "application/json",
       "Accept": "application/json, text/event-stream",
       "MCP-Protocol-Version": "2025-11-25"}
WEBHOOK_SECRET = "security-test-webhook-secret-0123456789"
REGISTER_LIMIT = 3
MIN_USERS = 3


class Security(unittest.TestCase):
    next_addr = 10

    @classmethod
    def setUpClass(cls):
        cls.s = harness.Stack(workers=2, threads=4, postgres=True, config={
            "OAUTH_REGISTER_LIMIT": str(REGISTER_LIMIT),
            "TOP_SEARCH_MIN_USERS": str(MIN_USERS),
            "SEARCH_STATS_FLUSH_SECONDS": "1",
            "CLEANUP_INTERVAL_SECONDS": "1",
            "ALERT_WEBHOOK_SECRET": WEBHOOK_SECRET})
        cls.s.start()

    @classmethod
    def tearDownClass(cls):
        cls.s.stop()

    # -- helpers -----------------------------------------------------------
    @classmethod
    def fresh_addr(cls):
        """A loopback address no other test of this file uses."""
        cls.next_addr += 1
        return "127.0.0.%d" % cls.next_addr

    def request_from(self, addr, method, path, body=None, headers=None):
        """One request through Caddy from a given source address."""
        u = urllib.parse.urlsplit(self.s.base)
        conn = http.client.HTTPSConnection(u.hostname, u.port,
                                           context=self.s._ssl, timeout=30,
                                           source_address=(addr, 0))
        h = dict(headers or {})
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
            h.setdefault("Content-Type", "application/json")
        try:
            conn.request(method, path, body=body, headers=h)
            r = conn.getresponse()
            data = r.read()
            return (r.status, {k.lower(): v for k, v in r.getheaders()},
                    json.loads(data) if data else None)
        finally:
            conn.close()

    def counts(self):
        sql = " UNION ALL ".join("SELECT '%s', count(*) FROM %s" % (t, t)
                                 for t in TABLES)
        return {k: int(v) for k, v in self.s.psql(sql)}

    def register(self, addr=None, **meta):
        meta.setdefault("redirect_uris", [CLIENT_CB])
        meta.setdefault("token_endpoint_auth_method", "none")
        meta.setdefault("client_name", "Security test client")
        return self.request_from(addr or self.fresh_addr(), "POST",
                                 "/oauth/register", meta)

    def grant(self, user):
        status, _, client = self.register()
        self.assertEqual(status, 201, client)
        return oauth_flow.grant(self.s, user=user, client=client)

    def login(self, user):
        b = Browser(self.s)
        status, url, _, body = b.follow(self.s.url("/auth/login"), user=user)
        self.assertEqual(status, 200, body)
        return b, b.cookie("__Host-agpt_session")

    def authorize_query(self, client_id, **extra):
        _, challenge = pkce_pair()
        q = {"response_type": "code", "client_id": client_id,
             "redirect_uri": CLIENT_CB, "code_challenge": challenge,
             "code_challenge_method": "S256", "state": "st-sec"}
        q.update(extra)
        return "/oauth/authorize?" + urllib.parse.urlencode(
            {k: v for k, v in q.items() if v is not None})

    def assert_unchanged(self, before, *except_tables):
        after = self.counts()
        for t in TABLES:
            if t not in except_tables:
                self.assertEqual(before[t], after[t], t)

    # -- 1. open redirect ----------------------------------------------------
    def test_authorize_never_redirects_before_consent(self):
        status, _, client = self.register(
            redirect_uris=["https://evil.example/cb"])
        self.assertEqual(status, 201, client)
        before = self.counts()
        for extra in ({"response_type": "token"},
                      {"code_challenge_method": "plain"},
                      {"code_challenge": None}, {"scope": "admin"},
                      {"resource": "https://evil.example/"},
                      {"state": "s" * 600}):
            extra.setdefault("redirect_uri", "https://evil.example/cb")
            status, h, body = self.s.json("GET", self.authorize_query(
                client["client_id"], **extra))
            self.assertEqual(status, 400, (extra, body))
            self.assertNotIn("location", h, extra)
            self.assertIn("error", body)
        self.assert_unchanged(before)

    # -- 2. NUL in JSON ------------------------------------------------------
    def test_nul_in_any_json_string_is_400_and_stores_nothing(self):
        tokens = self.grant("nuluser")
        before = self.counts()
        for meta in ({"redirect_uris": ["https://evil.example/cb\x00junk"]},
                     {"client_name": "name\x00hidden"}):
            status, _, body = self.register(**meta)
            self.assertEqual(status, 400, (meta, body))
            self.assertEqual(body["error"], "invalid_client_metadata")
            self.assertIn("NUL", body["error_description"])
        # A key with a NUL (json-c would cut it short).
        status, _, body = self.request_from(
            self.fresh_addr(), "POST", "/oauth/register",
            '{"redirect_uris":["%s"],"client_name\\u0000x":"a"}' % CLIENT_CB,
            {"Content-Type": "application/json"})
        self.assertEqual(status, 400, body)
        status, _, body = self.s.json("POST", "/v1/recommendations/feedback",
                                      {"anime_id": 1, "action": "shown",
                                       "reference": "x\x00y"})
        self.assertEqual(status, 400, body)
        status, _, body = self.s.json(
            "PUT", "/v1/me/list/1", {"status": "CURRENT\x00"},
            {"Authorization": "Bearer " + tokens["access_token"]})
        self.assertEqual(status, 400, body)
        status, _, body = self.s.json("POST", "/mcp", {
            "jsonrpc": "2.0", "id": 1, "method": "tools/call",
            "params": {"name": "search_anime",
                       "arguments": {"query": "fri\x00eren"}}}, MCP)
        self.assertEqual(status, 400, body)
        status, _, body = self.s.json(
            "POST", "/webhooks/alerts", {"message": "disk\x00full"},
            {"Authorization": "Bearer " + WEBHOOK_SECRET})
        self.assertEqual(status, 400, body)
        self.assert_unchanged(before, "search_queries", "search_askers")

    # -- 3. client names -----------------------------------------------------
    def test_client_names_refuse_format_characters_and_say_unverified(self):
        before = self.counts()
        for name in ("Chat\u202eGPT", "Chat\u200bGPT", "x\u2066y", "\u00ad",
                     "tab\there", ""):
            status, _, body = self.register(client_name=name)
            self.assertEqual((status, body["error"]),
                             (400, "invalid_client_metadata"), repr(name))
        self.assert_unchanged(before)
        status, _, client = self.register(
            client_name="ChatGPT", redirect_uris=["https://evil.example/cb"])
        self.assertEqual(status, 201, client)
        status, h, body = self.s.request("GET", self.authorize_query(
            client["client_id"], redirect_uri="https://evil.example/cb"))
        self.assertEqual(status, 200, body)
        page = body.decode()
        host = page.index("evil.example")
        self.assertLess(host, page.index("ChatGPT"))
        self.assertIn("unverified", page)

    # -- 4. registration quota and unused clients ---------------------------
    def test_registration_quota_per_address(self):
        addr = self.fresh_addr()
        before = self.counts()
        for _ in range(REGISTER_LIMIT):
            status, _, body = self.register(addr)
            self.assertEqual(status, 201, body)
        status, h, body = self.register(addr)
        self.assertEqual((status, body["error"]),
                         (429, "too_many_registrations"))
        self.assertEqual(h["retry-after"], "3600")
        after = self.counts()
        self.assertEqual(after["oauth_clients"],
                         before["oauth_clients"] + REGISTER_LIMIT)
        # The stored identity is a keyed hash, not the address.
        rows = self.s.psql("SELECT DISTINCT encode(registered_by, 'escape') "
                           "FROM oauth_clients WHERE registered_by IS NOT "
                           "NULL")
        self.assertTrue(rows)
        for (r,) in rows:
            self.assertRegex(r, "^[0-9a-f]{32}$")
        # Another address still registers.
        self.assertEqual(self.register()[0], 201)

    def test_cleanup_deletes_what_expired_and_unused_clients(self):
        _, _, unused = self.register()
        _, _, used = self.register()
        # One statement each: the cleanup runs every second meanwhile.
        self.s.psql("UPDATE oauth_clients SET created_at = now() - "
                    "interval '8 days', last_code_at = now() "
                    "WHERE client_id = :'p1'", used["client_id"])
        self.s.psql("UPDATE oauth_clients SET created_at = now() - "
                    "interval '8 days' WHERE client_id = :'p1'",
                    unused["client_id"])
        tokens = self.grant("cleanupuser")
        self.s.psql("UPDATE tokens SET expires_at = now() - interval "
                    "'1 second' WHERE client_id = :'p1'",
                    tokens["client_id"])
        self.s.psql("UPDATE authorization_codes SET expires_at = now() - "
                    "interval '2 days' WHERE client_id = :'p1'",
                    tokens["client_id"])
        self.s.psql("INSERT INTO login_states (state_hash, expires_at) "
                    "VALUES ('\\x00ff', now() - interval '1 second')")

        def cleaned():
            return self.s.psql(
                "SELECT (SELECT count(*) FROM oauth_clients WHERE "
                "client_id = :'p1'), (SELECT count(*) FROM tokens WHERE "
                "client_id = :'p2'), (SELECT count(*) FROM token_families "
                "WHERE client_id = :'p2'), (SELECT count(*) FROM "
                "login_states WHERE state_hash = '\\x00ff')",
                unused["client_id"], tokens["client_id"]) == [
                    ["0", "0", "0", "0"]]
        harness.wait_for(cleaned, timeout=20, what="the cleanup job")
        self.assertEqual(self.s.psql(
            "SELECT count(*) FROM oauth_clients WHERE client_id = :'p1'",
            used["client_id"]), [["1"]])

    # -- 5. credentialed CORS ------------------------------------------------
    def test_session_cookie_is_not_usable_cross_origin(self):
        _, cookie = self.login("corsuser")
        h = {"Cookie": "__Host-agpt_session=" + cookie}
        status, _, body = self.s.json("GET", "/auth/me", headers=h)
        self.assertEqual(status, 200, body)
        before = self.counts()
        for origin in ("https://chatgpt.com", "https://evil.example"):
            status, hdr, body = self.s.json(
                "GET", "/v1/me/list", headers=dict(h, Origin=origin))
            self.assertEqual(status, 401, (origin, body))
            self.assertNotIn("results", body)
            self.assertNotIn("access-control-allow-credentials", hdr)
            status, _, body = self.s.json("GET", "/auth/me",
                                          headers=dict(h, Origin=origin))
            self.assertEqual(status, 401, (origin, body))
        status, hdr, _ = self.s.request(
            "OPTIONS", "/v1/me/list", headers={
                "Origin": "https://chatgpt.com",
                "Access-Control-Request-Method": "GET"})
        self.assertEqual(status, 204)
        self.assertNotIn("access-control-allow-credentials", hdr)
        self.assert_unchanged(before)

    # -- 6. client authentication method -------------------------------------
    def test_client_must_use_its_registered_auth_method(self):
        for registered in ("client_secret_basic", "client_secret_post"):
            status, _, client = self.register(
                token_endpoint_auth_method=registered)
            self.assertEqual(status, 201, client)
            cid, secret = client["client_id"], client["client_secret"]
            before = self.counts()
            form = {"grant_type": "refresh_token", "refresh_token": "x" * 43}
            if registered == "client_secret_basic":
                form.update(client_id=cid, client_secret=secret)
                headers = FORM
            else:
                raw = "%s:%s" % (cid, secret)
                headers = dict(FORM, Authorization="Basic " +
                               base64.b64encode(raw.encode()).decode())
            status, _, body = self.s.json(
                "POST", "/oauth/token", urllib.parse.urlencode(form),
                headers)
            self.assertEqual((status, body["error"]), (401, "invalid_client"),
                             registered)
            self.assertIn(registered, body["error_description"])
            self.assert_unchanged(before)

    # -- 7. lifetimes --------------------------------------------------------
    def test_codes_live_60_seconds_and_grants_have_an_end(self):
        tokens = self.grant("lifetimeuser")
        self.assertEqual(self.s.psql(
            "SELECT DISTINCT round(extract(epoch FROM expires_at - "
            "created_at)) FROM authorization_codes WHERE client_id = :'p1'",
            tokens["client_id"]), [["60"]])
        # A grant that began 89 days ago: the next refresh token lives one
        # day, not REFRESH_TOKEN_TTL.
        self.s.psql("UPDATE token_families SET created_at = now() - "
                    "interval '89 days' WHERE client_id = :'p1'",
                    tokens["client_id"])
        form = {"grant_type": "refresh_token", "client_id":
                tokens["client_id"], "refresh_token": tokens["refresh_token"]}
        status, _, fresh = self.s.json(
            "POST", "/oauth/token", urllib.parse.urlencode(form), FORM)
        self.assertEqual(status, 200, fresh)
        left = self.s.psql(
            "SELECT round(extract(epoch FROM expires_at - now()) / 3600) "
            "FROM tokens WHERE client_id = :'p1' AND kind = 'refresh' "
            "AND used_at IS NULL", tokens["client_id"])
        self.assertLessEqual(int(float(left[0][0])), 24)
        # Past OAUTH_REFRESH_MAX_DAYS: refused, nothing issued.
        self.s.psql("UPDATE token_families SET created_at = now() - "
                    "interval '91 days' WHERE client_id = :'p1'",
                    tokens["client_id"])
        before = self.counts()
        form["refresh_token"] = fresh["refresh_token"]
        status, _, body = self.s.json(
            "POST", "/oauth/token", urllib.parse.urlencode(form), FORM)
        self.assertEqual((status, body["error"]), (400, "invalid_grant"))
        self.assert_unchanged(before)

    # -- 8. account deletion -------------------------------------------------
    def test_client_token_cannot_delete_the_account(self):
        tokens = self.grant("keepme")
        before = self.counts()
        status, h, body = self.s.json(
            "DELETE", "/v1/me",
            headers={"Authorization": "Bearer " + tokens["access_token"]})
        self.assertEqual((status, body["error"]["code"]),
                         (403, "insufficient_scope"))
        self.assertIn("insufficient_scope", h["www-authenticate"])
        self.assert_unchanged(before)
        self.assertEqual(self.s.psql(
            "SELECT count(*) FROM users WHERE anilist_name = 'keepme'"),
            [["1"]])

    # -- 9. loopback redirects -----------------------------------------------
    def test_loopback_redirects_match_any_port_and_ports_are_bounded(self):
        before = self.counts()
        for uri in ("http://127.0.0.1:70000/cb", "https://example.com:65536/"):
            status, _, body = self.register(redirect_uris=[uri])
            self.assertEqual((status, body["error"]),
                             (400, "invalid_redirect_uri"), uri)
        self.assert_unchanged(before)
        status, _, client = self.register(
            redirect_uris=["http://127.0.0.1:4000/cb",
                           "http://localhost:4000/cb"])
        self.assertEqual(status, 201, client)
        cid = client["client_id"]
        for uri, want in (("http://127.0.0.1:5555/cb", 200),
                          ("http://127.0.0.1/cb", 200),
                          ("http://127.0.0.1:5555/other", 400),
                          ("http://localhost:5555/cb", 400),
                          ("http://127.0.0.2:4000/cb", 400)):
            status, _, _ = self.s.request("GET", self.authorize_query(
                cid, redirect_uri=uri))
            self.assertEqual(status, want, uri)

    # -- 10. leaks -----------------------------------------------------------
    def test_clients_get_no_upstream_detail_and_request_ids_are_plain(self):
        status, _, client = self.register()
        b = Browser(self.s)
        status, _, body = b.request("GET", self.s.url(self.authorize_query(
            client["client_id"])))
        self.assertEqual(status, 200, body)
        login = re.search(rb'name="login" value="([^"]+)"', body).group(1)
        status, url, _, _ = b.follow(
            self.s.url("/oauth/authorize"), method="POST",
            data={"login": login.decode(), "decision": "allow"},
            headers=dict(FORM, Origin=self.s.base),
            stop=lambda u: u.startswith(self.s.base + "/auth/callback"))
        self.assertEqual(status, 302)
        forged = re.sub(r"code=[^&]+", "code=forged-code", url)
        status, h, _ = b.request("GET", forged)
        self.assertEqual(status, 302)
        q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(
            h["Location"]).query))
        self.assertEqual(q["error"], "access_denied")
        self.assertEqual(q["error_description"],
                         "the AniList login did not complete")
        self.assertTrue(any(l.get("msg") == "AniList login failed" and
                            l.get("error") for l in self.s.log_lines()))
        for rid, kept in (("plain-request-0001", True), ("short", False),
                          ("-dash-first-id", False), ("x" * 64, False),
                          ("a b c d e f g h", False)):
            status, h, _ = self.s.request("GET", "/health",
                                          headers={"X-Request-ID": rid})
            self.assertEqual(status, 200)
            self.assertEqual(h["x-request-id"] == rid, kept, rid)
            if not kept:
                self.assertRegex(h["x-request-id"], "^[0-9a-f]{32}$")

    # -- 11. cross-site writes by GET ----------------------------------------
    def test_shown_events_only_for_same_origin_and_mcp(self):
        b, cookie = self.login("shownuser")
        uid = self.s.psql("SELECT id FROM users WHERE anilist_name = "
                          "'shownuser'")[0][0]
        path = "/v1/recommendations?reference_title=Frieren&count=3"

        def shown():
            return int(self.s.psql(
                "SELECT count(*) FROM recommendation_events WHERE "
                "user_id = :'p1'", uid)[0][0])
        for extra in ({}, {"Sec-Fetch-Site": "cross-site"},
                      {"Sec-Fetch-Site": "none"}):
            h = dict(extra, Cookie="__Host-agpt_session=" + cookie)
            status, _, body = self.s.json("GET", path, headers=h)
            self.assertEqual(status, 200, body)
            self.assertEqual(shown(), 0, extra)
        status, _, body = self.s.json("GET", path, headers={
            "Cookie": "__Host-agpt_session=" + cookie,
            "Sec-Fetch-Site": "same-origin"})
        self.assertEqual(status, 200, body)
        same_origin = shown()
        self.assertEqual(same_origin, len(body["recommendations"]))
        self.assertGreater(same_origin, 0)
        tokens = self.grant("shownuser")
        status, _, body = self.s.json("POST", "/mcp", {
            "jsonrpc": "2.0", "id": 1, "method": "tools/call",
            "params": {"name": "get_anime_recommendations", "arguments": {
                "reference_title": "Frieren", "count": 2}}},
            dict(MCP, Authorization="Bearer " + tokens["access_token"]))
        self.assertEqual(status, 200, body)
        self.assertFalse(body["result"]["isError"], body)
        self.assertGreater(shown(), same_origin)

    # -- 12. published searches ----------------------------------------------
    def test_top_searches_need_distinct_askers(self):
        def search(addr, q):
            status, _, body = self.request_from(
                addr, "GET", "/v1/anime/search?" + urllib.parse.urlencode(
                    {"query": q}))
            self.assertEqual(status, 200, body)

        def top():
            status, _, body = self.s.json(
                "GET", "/v1/stats/top-searches?limit=100")
            self.assertEqual(status, 200, body)
            return [t["query"] for t in body["top_searches"]]
        lonely = self.fresh_addr()
        for _ in range(6):
            search(lonely, "private needle query")
        askers = [self.fresh_addr() for _ in range(MIN_USERS)]
        for addr in askers[:-1]:
            search(addr, "Shared Frieren")
        harness.wait_for(lambda: self.s.psql(
            "SELECT count(*) FROM search_queries WHERE query = "
            "'private needle query'") != [["0"]] and self.s.psql(
            "SELECT count(DISTINCT asker) FROM search_askers WHERE query = "
            "'shared frieren'") == [[str(MIN_USERS - 1)]],
            what="the searches flushed")
        self.assertNotIn("private needle query", top())
        self.assertNotIn("shared frieren", top())
        self.assertEqual(self.s.psql(
            "SELECT count(DISTINCT asker) FROM search_askers WHERE query = "
            "'private needle query'"), [["1"]])
        search(askers[-1], "shared  FRIEREN")
        harness.wait_for(lambda: "shared frieren" in top(),
                         what="the query published")
        self.assertNotIn("private needle query", top())
        # Tags are per query: one client's two queries do not share one.
        self.assertEqual(self.s.psql(
            "SELECT count(*) FROM search_askers a JOIN search_askers b "
            "ON a.asker = b.asker AND a.query <> b.query"), [["0"]])


if __name__ == "__main__":
    unittest.main(verbosity=2)
