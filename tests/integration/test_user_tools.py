"""test_user_tools.py: the user tools (get_user_list, update_list_entry,
delete_list_entry) over REST and MCP, signed in through the real OAuth 2.1
flow.

Real PostgreSQL, memcached, Caddy and the sample AniList; nothing is
mocked. `sampleuser` owns the sample's seeded list (52 PLANNING entries);
every other user starts with an empty list.
"""
import os
import re
import secrets
import sys
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import oauth_flow  # noqa: E402

harness.watchdog(170)

V11 = "2025-11-25"
ENTRY_KEYS = {"id", "media_id", "title", "status", "score", "progress",
              "episodes", "format", "cover_image", "site_url", "updated_at"}
SEEDED = 52


class UserTools(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = harness.Stack(workers=2, threads=4, postgres=True,
                              upstream_args=["--rate-limit", "0"],
                              config={"UPSTREAM_RATE_LIMIT": "90"})
        cls.s.start()
        cls.owner = oauth_flow.grant(cls.s)            # sampleuser
        cls.other = oauth_flow.grant(cls.s, user="listother")
        cls.mcpuser = oauth_flow.grant(cls.s, user="mcplister")
        st, _, found = cls.s.json("GET", "/v1/anime/search?query=a&"
                                  "per_page=20&sort=POPULARITY_DESC")
        assert st == 200, found
        cls.media = [m for m in found["results"]]

    @classmethod
    def tearDownClass(cls):
        cls.s.stop()

    # -- helpers --------------------------------------------------------
    def call(self, method, path, token=None, body=None, headers=None):
        h = dict(headers or {})
        if token is not None:
            h["Authorization"] = "Bearer " + token
        return self.s.json(method, path, body, h)

    def ok(self, method, path, token=None, body=None):
        st, h, b = self.call(method, path, token, body)
        self.assertEqual(st, 200, b)
        return b

    def bad(self, method, path, token, body, field, status=400, code=None):
        st, _, b = self.call(method, path, token, body)
        self.assertEqual(st, status, b)
        if code is not None:
            self.assertEqual(b["error"]["code"], code, b)
        self.assertEqual(b["error"].get("field"), field, b)
        return b["error"]["message"]

    def ops(self):
        return self.s.upstream("GET", "/__stats")["by_operation"]

    def mcp(self, method, params, token=None, version=V11):
        return self.s.mcp(method, params, token, version)

    def tool(self, name, arguments, token=None):
        return self.mcp("tools/call", {"name": name, "arguments": arguments},
                        token)

    def challenge(self, invalid=False):
        v = 'resource_metadata="%s/.well-known/oauth-protected-resource"' % (
            self.s.base)
        return ("Bearer " + ('error="invalid_token", ' if invalid else "") +
                v)

    def assert_challenge(self, value, invalid):
        """A Bearer challenge (RFC 6750) naming our resource metadata
        (RFC 9728), and error="invalid_token" when a token was refused."""
        self.assertTrue(value.startswith("Bearer "), value)
        params = dict(re.findall(r'(\w+)="([^"]*)"', value))
        self.assertEqual(params["resource_metadata"], self.s.base +
                         "/.well-known/oauth-protected-resource")
        self.assertEqual(params.get("error"),
                         "invalid_token" if invalid else None, value)

    def mint(self, user):
        """An AniList token for user straight from the sample upstream."""
        return self.s.upstream("POST", "/__token", {"user": user})[
            "access_token"]

    def upstream_save(self, token, media_id, status):
        """Change a list at AniList behind the service's back."""
        return self.s.upstream_graphql(
            "mutation SaveListEntry($mediaId:Int,$status:MediaListStatus){"
            "SaveMediaListEntry(mediaId:$mediaId,status:$status){id}}",
            {"mediaId": media_id, "status": status}, token)

    # -- reading lists ----------------------------------------------------
    def test_own_list_compact_entries_paging_filter_and_cache(self):
        tok = self.owner["access_token"]
        st, h, body = self.call("GET", "/v1/me/list?per_page=500", tok)
        self.assertEqual(st, 200, body)
        self.assertEqual(h["cache-control"], "private, no-store")
        self.assertTrue(body["own_list"])
        self.assertEqual(body["user"]["name"], "sampleuser")
        self.assertEqual(body["list_type"], "ANIME")
        entries = body["results"]
        self.assertEqual(len(entries), SEEDED)
        self.assertFalse(body["page_info"]["has_next_page"])
        for e in entries:
            self.assertEqual(set(e), ENTRY_KEYS, e)
            self.assertEqual(e["status"], "PLANNING")
            self.assertTrue(e["site_url"].startswith("https://anilist.co/anime/"))
        self.assertEqual(len({e["id"] for e in entries}), SEEDED)
        self.assertIn("entries on your anime list", body["text_summary"])

        # A second read is served from the cache: AniList is not asked.
        before = self.ops().get("UserList", 0)
        again = self.ok("GET", "/v1/me/list?per_page=500", tok)
        self.assertEqual(again["source"]["cache"], "hit")
        self.assertEqual(again["results"], entries)
        self.assertEqual(self.ops().get("UserList", 0), before)

        # Pages of 20 by media id: every entry once, in order.
        seen = []
        for page, n, more in ((1, 20, True), (2, 20, True), (3, 12, False)):
            b = self.ok("GET", "/v1/me/list?per_page=20&sort=MEDIA_ID&page=%d"
                        % page, tok)
            self.assertEqual(len(b["results"]), n, page)
            self.assertEqual(b["page_info"], {"page": page, "per_page": 20,
                                              "has_next_page": more})
            seen += [e["media_id"] for e in b["results"]]
        self.assertEqual(seen, sorted(e["media_id"] for e in entries))
        b = self.ok("GET", "/v1/me/list?per_page=5&sort=MEDIA_ID_DESC", tok)
        self.assertEqual([e["media_id"] for e in b["results"]],
                         sorted(seen, reverse=True)[:5])

        # Status filter.
        b = self.ok("GET", "/v1/me/list?status=PLANNING&per_page=500", tok)
        self.assertEqual(len(b["results"]), SEEDED)
        b = self.ok("GET", "/v1/me/list?status=COMPLETED", tok)
        self.assertEqual(b["results"], [])
        self.assertIn("No entries", b["text_summary"])
        self.assertIn("COMPLETED", b["text_summary"])

    def test_public_list_by_name_needs_no_token(self):
        st, h, b = self.call("GET", "/v1/users/sampleuser/list?per_page=500")
        self.assertEqual(st, 200, b)
        self.assertNotIn("private", h.get("cache-control", ""))
        self.assertFalse(b["own_list"])
        self.assertEqual(b["user"]["name"], "sampleuser")
        self.assertEqual(len(b["results"]), SEEDED)
        st, _, b = self.call("GET", "/v1/users/nosuchlister/list")
        self.assertEqual(st, 404, b)
        self.assertEqual(b["error"]["code"], "not_found")
        # The same through MCP, anonymous.
        st, _, r = self.tool("get_user_list", {"user_name": "sampleuser",
                                               "per_page": 3})
        self.assertEqual(st, 200, r)
        self.assertFalse(r["result"]["isError"], r)
        self.assertEqual(len(r["result"]["structuredContent"]["results"]), 3)

    def test_users_never_see_each_others_cached_list(self):
        self.ok("GET", "/v1/me/list?per_page=500", self.owner["access_token"])
        self.ok("GET", "/v1/me/list?per_page=500", self.owner["access_token"])
        b = self.ok("GET", "/v1/me/list?per_page=500",
                    self.other["access_token"])
        self.assertEqual(b["user"]["name"], "listother")
        self.assertNotEqual(b["source"]["cache"], "hit")
        owner_ids = {e["id"] for e in self.ok(
            "GET", "/v1/me/list?per_page=500",
            self.owner["access_token"])["results"]}
        self.assertFalse(owner_ids & {e["id"] for e in b["results"]})
        # Another of the owner's own tokens is a key of its own too.
        again = oauth_flow.grant(self.s)
        b = self.ok("GET", "/v1/me/list?per_page=500", again["access_token"])
        self.assertNotEqual(b["source"]["cache"], "hit")
        self.assertEqual(len(b["results"]), SEEDED)

    # -- changing the list ----------------------------------------------
    def test_update_then_read_shows_the_change(self):
        tok = self.other["access_token"]
        mid = self.media[0]["id"]
        path = "/v1/me/list/%d" % mid
        mine = self.ok("GET", "/v1/me/list", tok)
        public = self.ok("GET", "/v1/users/listother/list")
        self.assertNotIn(mid, [e["media_id"] for e in mine["results"]])
        self.assertNotIn(mid, [e["media_id"] for e in public["results"]])

        b = self.ok("PUT", path, tok, {"status": "CURRENT", "progress": 3,
                                       "score": 85})
        self.assertEqual((b["entry"]["media_id"], b["entry"]["status"],
                          b["entry"]["progress"], b["entry"]["score"]),
                         (mid, "CURRENT", 3, 85))
        self.assertIn("Saved on your list", b["text_summary"])
        # Read again: the change, not the cached copy from before.
        for path_read, token in (("/v1/me/list", tok),
                                 ("/v1/users/listother/list", None)):
            got = self.ok("GET", path_read, token)
            e = [x for x in got["results"] if x["media_id"] == mid]
            self.assertEqual(len(e), 1, (path_read, got))
            self.assertEqual((e[0]["status"], e[0]["progress"],
                              e[0]["score"]), ("CURRENT", 3, 85))
            self.assertEqual(got["source"]["cache"], "miss")

        # Progress only: the status is looked up and sent as it is.
        before = self.ops()
        b = self.ok("PUT", path, tok, {"progress": 5})
        self.assertEqual((b["entry"]["status"], b["entry"]["progress"],
                          b["entry"]["score"]), ("CURRENT", 5, 85))
        after = self.ops()
        self.assertEqual(after.get("MediaListEntry", 0),
                         before.get("MediaListEntry", 0) + 1)
        self.assertEqual(after.get("SaveListEntry", 0),
                         before.get("SaveListEntry", 0) + 1)
        # Score 0 clears it; PUT again with the same body changes nothing.
        for _ in range(2):
            b = self.ok("PUT", path, tok, {"status": "PAUSED", "score": 0})
            self.assertEqual((b["entry"]["status"], b["entry"]["score"]),
                             ("PAUSED", None))
        got = self.ok("GET", "/v1/me/list?status=PAUSED", tok)
        self.assertEqual([e["media_id"] for e in got["results"]], [mid])
        self.ok("DELETE", path, tok)

    def test_new_entry_without_status_is_refused_before_saving(self):
        tok = self.other["access_token"]
        mid = self.media[1]["id"]
        before = self.ops()
        msg = self.bad("PUT", "/v1/me/list/%d" % mid, tok, {"progress": 1},
                       "status")
        self.assertIn("not on your list yet", msg)
        self.assertEqual(self.ops().get("SaveListEntry", 0),
                         before.get("SaveListEntry", 0))

    def test_delete_then_404(self):
        tok = self.other["access_token"]
        mid = self.media[2]["id"]
        path = "/v1/me/list/%d" % mid
        self.ok("PUT", path, tok, {"status": "PLANNING"})
        self.assertIn(mid, [e["media_id"] for e in self.ok(
            "GET", "/v1/me/list", tok)["results"]])
        b = self.ok("DELETE", path, tok)
        self.assertTrue(b["deleted"])
        self.assertEqual(b["media_id"], mid)
        self.assertIn("Removed", b["text_summary"])
        self.assertNotIn(mid, [e["media_id"] for e in self.ok(
            "GET", "/v1/me/list", tok)["results"]])
        msg = self.bad("DELETE", path, tok, None, "media_id", 404,
                       "not_found")
        self.assertIn("not on your list", msg)

    def test_bad_input_is_400_naming_the_field(self):
        tok = self.other["access_token"]
        mid = self.media[3]["id"]
        path = "/v1/me/list/%d" % mid
        n = self.s.upstream_requests()
        # Our validator: nothing reaches AniList.
        for body, field in (({"score": 101}, "score"),
                            ({"status": "WATCHING"}, "status"),
                            ({"progress": -1}, "progress"),
                            ({"status": "CURRENT", "rewatched": 1},
                             "rewatched"),
                            ({"status": "CURRENT", "media_id": 1},
                             "media_id"),
                            ({"score": "90"}, "score"),
                            ({}, "status")):
            self.bad("PUT", path, tok, body, field)
        self.bad("PUT", "/v1/me/list/abc", tok, {"status": "CURRENT"},
                 "media_id")
        self.bad("PUT", path + "?status=CURRENT", tok, None, "status")
        for raw in ("not json", "[1]", '{"status":"CURRENT"} x'):
            st, _, b = self.s.json("PUT", path, raw, {
                "Authorization": "Bearer " + tok,
                "Content-Type": "application/json"})
            self.assertEqual(st, 400, (raw, b))
        st, _, b = self.s.json("PUT", path, '{"status":"CURRENT"}', {
            "Authorization": "Bearer " + tok, "Content-Type": "text/plain"})
        self.assertEqual(st, 415, b)
        self.assertEqual(self.s.upstream_requests(), n)
        # AniList's own validation, passed back naming our argument.
        msg = self.bad("PUT", "/v1/me/list/2147483000", tok,
                       {"status": "CURRENT"}, "media_id", 400,
                       "invalid_argument")
        self.assertIn("AniList refused media_id", msg)
        self.assertIn("invalid", msg)

    def test_without_a_token_401_with_the_challenge(self):
        for method, path, body in (("GET", "/v1/me/list", None),
                                   ("PUT", "/v1/me/list/1",
                                    {"status": "CURRENT"}),
                                   ("DELETE", "/v1/me/list/1", None)):
            st, h, b = self.call(method, path, None, body)
            self.assertEqual(st, 401, (method, b))
            self.assertEqual(h["www-authenticate"], self.challenge())
            st, h, b = self.call(method, path, secrets.token_urlsafe(32),
                                 body)
            self.assertEqual(st, 401, (method, b))
            self.assertEqual(h["www-authenticate"], self.challenge(True))
        # A revoked token is refused as well.
        t = oauth_flow.grant(self.s, user="revoked1")
        self.ok("GET", "/v1/me/list", t["access_token"])
        st, _, _ = self.s.json("POST", "/oauth/revoke", urllib.parse.urlencode(
            {"token": t["access_token"], "client_id": t["client_id"]}),
            oauth_flow.FORM)
        self.assertEqual(st, 200)
        st, h, _ = self.call("GET", "/v1/me/list", t["access_token"])
        self.assertEqual(st, 401)
        self.assertEqual(h["www-authenticate"], self.challenge(True))

    def test_expired_anilist_authorization_asks_to_sign_in_again(self):
        t = oauth_flow.grant(self.s, user="expiring")
        self.ok("GET", "/v1/me/list", t["access_token"])
        self.s.psql("UPDATE anilist_tokens SET expires_at = now() - "
                    "interval '1 day' WHERE user_id = (SELECT id FROM users "
                    "WHERE anilist_name = 'expiring')")
        st, h, b = self.call("GET", "/v1/me/list", t["access_token"])
        self.assertEqual(st, 401, b)
        self.assertIn("sign in again", b["error"]["message"])
        self.assert_challenge(h["www-authenticate"], True)
        st, h, r = self.tool("get_user_list", {}, t["access_token"])
        self.assertEqual(st, 401, r)
        self.assert_challenge(h["www-authenticate"], True)

    def test_delete_me_drops_the_cached_lists(self):
        t = oauth_flow.grant(self.s, user="leaver")
        mid = self.media[4]["id"]
        self.ok("PUT", "/v1/me/list/%d" % mid, t["access_token"],
                {"status": "CURRENT"})
        public = self.ok("GET", "/v1/users/leaver/list")
        self.assertEqual([e["status"] for e in public["results"]],
                         ["CURRENT"])
        self.assertEqual(self.ok("GET", "/v1/users/leaver/list")["source"][
            "cache"], "hit")
        # AniList changes behind our back; the cache still has the old list.
        self.upstream_save(self.mint("leaver"), mid, "DROPPED")
        self.assertEqual(self.ok("GET", "/v1/users/leaver/list")["results"][
            0]["status"], "CURRENT")
        # Only the user's web session may delete the account.
        b = oauth_flow.Browser(self.s)
        status, _, _, body = b.follow(self.s.url("/auth/login"),
                                      user="leaver")
        self.assertEqual(status, 200, body)
        status, _, body = b.request("DELETE", self.s.url("/v1/me"),
                                    headers={"Origin": self.s.base})
        self.assertEqual(status, 200, body)
        got = self.ok("GET", "/v1/users/leaver/list")
        self.assertEqual(got["source"]["cache"], "miss")
        self.assertEqual(got["results"][0]["status"], "DROPPED")

    # -- MCP ----------------------------------------------------------------
    def test_mcp_tools_list_declares_auth(self):
        st, _, r = self.mcp("tools/list", {})
        self.assertEqual(st, 200)
        tools = {t["name"]: t for t in r["result"]["tools"]}
        oauth = {"type": "oauth2", "scopes": ["anilist"]}
        self.assertEqual(tools["get_user_list"]["securitySchemes"],
                         [{"type": "noauth"}, oauth])
        for name in ("update_list_entry", "delete_list_entry"):
            self.assertEqual(tools[name]["securitySchemes"], [oauth])
            self.assertEqual(tools[name]["_meta"]["securitySchemes"], [oauth])
        self.assertEqual(tools["search_anime"]["securitySchemes"],
                         [{"type": "noauth"}])
        ann = tools["update_list_entry"]["annotations"]
        self.assertEqual((ann["readOnlyHint"], ann["destructiveHint"],
                          ann["idempotentHint"]), (False, False, True))
        ann = tools["delete_list_entry"]["annotations"]
        self.assertEqual((ann["readOnlyHint"], ann["destructiveHint"]),
                         (False, True))
        self.assertTrue(tools["get_user_list"]["annotations"]["readOnlyHint"])
        self.assertEqual(tools["get_user_list"]["_meta"][
            "openai/outputTemplate"], "ui://widget/user-list.html")

    def test_mcp_without_a_token_gets_the_challenge(self):
        for name, args in (("get_user_list", {}),
                           ("update_list_entry", {"media_id": 1,
                                                  "status": "CURRENT"}),
                           ("delete_list_entry", {"media_id": 1})):
            # No token: HTTP 200, the challenge only in the result.
            st, h, r = self.tool(name, args)
            self.assertEqual(st, 200, (name, r))
            self.assertNotIn("www-authenticate", h)
            self.assertTrue(r["result"]["isError"])
            challenge = r["result"]["_meta"]["mcp/www_authenticate"][0]
            self.assertIn('scope="anilist"', challenge)
            self.assertIn("resource_metadata=", challenge)
            self.assertNotIn("invalid_token", challenge)
            # A token that does not verify: 401 and the header as well.
            st, h, r = self.tool(name, args, secrets.token_urlsafe(32))
            self.assertEqual(st, 401, (name, r))
            self.assert_challenge(h["www-authenticate"], True)
            self.assertTrue(r["result"]["isError"])
            self.assertEqual(r["result"]["_meta"]["mcp/www_authenticate"],
                             [h["www-authenticate"]])
        # Public tools ignore a token, even one that does not verify.
        st, _, r = self.tool("search_anime", {"query": "Frieren"},
                             secrets.token_urlsafe(32))
        self.assertEqual(st, 200)
        self.assertFalse(r["result"]["isError"])

    def test_mcp_with_a_token_reads_updates_and_deletes(self):
        tok = self.mcpuser["access_token"]
        mid = self.media[5]["id"]
        st, _, r = self.tool("update_list_entry", {
            "media_id": mid, "status": "CURRENT", "progress": 2,
            "score": 70}, tok)
        self.assertEqual(st, 200, r)
        self.assertFalse(r["result"]["isError"], r)
        self.assertEqual(r["result"]["structuredContent"]["entry"]["score"],
                         70)
        st, _, r = self.tool("get_user_list", {}, tok)
        self.assertEqual(st, 200, r)
        lst = r["result"]["structuredContent"]
        self.assertTrue(lst["own_list"])
        self.assertEqual(lst["user"]["name"], "mcplister")
        self.assertEqual([(e["media_id"], e["progress"])
                          for e in lst["results"]], [(mid, 2)])
        # Invalid arguments: a result the model can act on, nothing sent.
        n = self.s.upstream_requests()
        st, _, r = self.tool("update_list_entry", {"media_id": mid,
                                                   "score": 101}, tok)
        self.assertEqual(st, 200)
        self.assertTrue(r["result"]["isError"])
        self.assertEqual(r["result"]["_meta"]["anilist-gpt/error"]["field"],
                         "score")
        self.assertEqual(self.s.upstream_requests(), n)
        st, _, r = self.tool("delete_list_entry", {"media_id": mid}, tok)
        self.assertFalse(r["result"]["isError"], r)
        self.assertTrue(r["result"]["structuredContent"]["deleted"])
        st, _, r = self.tool("delete_list_entry", {"media_id": mid}, tok)
        self.assertTrue(r["result"]["isError"])
        self.assertEqual(r["result"]["_meta"]["anilist-gpt/error"]["status"],
                         404)
        st, _, r = self.tool("get_user_list", {}, tok)
        self.assertEqual(r["result"]["structuredContent"]["results"], [])

    def test_zz_no_token_in_the_service_log(self):
        log = self.s.service_log()
        self.assertIn("/v1/me/list", log)
        for t in (self.owner, self.other, self.mcpuser):
            self.assertNotIn(t["access_token"], log)
            self.assertNotIn(t["refresh_token"], log)
        self.assertIsNone(re.search(
            r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}", log))

    # -- PostgreSQL down (last: it stops the database) ----------------------
    def test_zz_postgres_down_own_list_503_public_200(self):
        tok = self.owner["access_token"]
        self.s.pg_ctl("stop")
        try:
            st, h, b = self.call("GET", "/v1/me/list", tok)
            self.assertEqual(st, 503, b)
            self.assertEqual(b["error"]["code"], "accounts_unavailable")
            self.assertIn("retry-after", h)
            st, _, b = self.call("PUT", "/v1/me/list/1", tok,
                                 {"status": "CURRENT"})
            self.assertEqual(st, 503, b)
            st, _, b = self.call("GET", "/v1/anime/search?query=Frieren")
            self.assertEqual(st, 200, b)
            st, _, b = self.call("GET", "/v1/users/sampleuser/list")
            self.assertEqual(st, 200, b)
            # MCP: the protected tool fails clearly, public ones work.
            st, _, r = self.tool("get_user_list", {}, tok)
            self.assertEqual(st, 200, r)
            self.assertTrue(r["result"]["isError"])
            err = r["result"]["_meta"]["anilist-gpt/error"]
            self.assertEqual((err["status"], err["code"]),
                             (503, "accounts_unavailable"))
            st, _, r = self.tool("search_anime", {"query": "Frieren"}, tok)
            self.assertEqual(st, 200)
            self.assertFalse(r["result"]["isError"])
        finally:
            self.s.pg_ctl("start")
        deadline = time.time() + 20
        while True:
            st, _, b = self.call("GET", "/v1/me/list", tok)
            if st == 200 or time.time() > deadline:
                break
            time.sleep(0.5)
        self.assertEqual(st, 200, b)


if __name__ == "__main__":
    unittest.main(verbosity=2)
