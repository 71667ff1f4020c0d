"""test_manga.py: media_type (ANIME, MANGA) of search_anime, get_anime and
the list tools over REST and MCP through Caddy, memcached, PostgreSQL and
the sample AniList.

The sample AniList holds anime only and answers manga questions as AniList
answers a question with no match: an empty page, an empty list, a null
Media (404). So a manga search is a clean, empty answer; the anime answers
stay as they were; a manga question is never answered from the anime's
cache entry; a bad media_type changes nothing. The manga shapes themselves
are covered by tests/unit/test_manga.c.
"""
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import oauth_flow  # noqa: E402
from test_breadth import schema_errors  # noqa: E402

harness.watchdog(170)

V11 = "2025-11-25"
# Sousou no Frieren 2nd Season, an anime of the sample.
FRIEREN_2 = 182255
# Kusuriya no Hitorigoto 2nd Season, another.
APOTHECARY = 176301


class MangaTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = harness.Stack(workers=2, threads=4, postgres=True,
                              upstream_args=["--rate-limit", "0"],
                              config={"UPSTREAM_RATE_LIMIT": "90"})
        cls.s.start()
        cls.user = oauth_flow.grant(cls.s, user="mangareader")
        st, b = cls.rpc("tools/list", {})
        assert st == 200, b
        cls.tools = {t["name"]: t for t in b["result"]["tools"]}

    @classmethod
    def tearDownClass(cls):
        cls.s.stop()

    # -- helpers --------------------------------------------------------
    @classmethod
    def rpc(cls, method, params, token=None):
        st, _, b = cls.s.mcp(method, params, token, V11)
        return st, b

    def tool(self, name, args, token=None):
        st, b = self.rpc("tools/call", {"name": name, "arguments": args},
                         token)
        self.assertEqual(st, 200, b)
        return b["result"]

    def get(self, path, status=200, token=None):
        h = {"Authorization": "Bearer " + token} if token else {}
        st, _, body = self.s.json("GET", path, None, h)
        self.assertEqual(st, status, "%s: %r" % (path, body))
        return body

    def valid(self, tool, body):
        self.assertEqual(schema_errors(self.tools[tool]["outputSchema"],
                                       body), [])
        self.assertTrue(body["text_summary"])
        return body

    def calls(self):
        return self.s.upstream_requests()

    def ops(self):
        return self.s.upstream("GET", "/__stats")["by_operation"]

    # -- search_anime ---------------------------------------------------
    def test_manga_search_is_an_empty_clean_answer(self):
        b = self.valid("search_anime", self.get(
            "/v1/anime/search?query=frieren&media_type=MANGA"))
        self.assertEqual(b["results"], [])
        self.assertFalse(b["page_info"]["has_next_page"])
        self.assertEqual(b["text_summary"],
                         "No manga results for 'frieren' (page 1).")
        r = self.tool("search_anime", {"media_type": "MANGA",
                                       "genres": ["Drama"]})
        self.assertFalse(r["isError"], r)
        self.assertEqual(r["structuredContent"]["results"], [])
        self.assertIn("No manga results", r["content"][0]["text"])

    def test_anime_search_is_unchanged(self):
        for path in ("/v1/anime/search?query=frieren",
                     "/v1/anime/search?query=frieren&media_type=ANIME"):
            b = self.valid("search_anime", self.get(path))
            self.assertGreater(len(b["results"]), 0)
            for m in b["results"]:
                self.assertEqual(m["type"], "ANIME")
                for k in ("episodes", "season", "season_year", "studios",
                          "next_airing"):
                    self.assertIn(k, m)
                self.assertNotIn("chapters", m)
            self.assertTrue(b["text_summary"].startswith(
                "%d results for 'frieren'" % len(b["results"])) or
                b["text_summary"].startswith("1 result for"), b)

    def test_bad_media_type_changes_nothing(self):
        before = self.calls()
        for path, field in (
                ("/v1/anime/search?query=x&media_type=NOVEL", "media_type"),
                ("/v1/anime/search?media_type=manga", "media_type"),
                ("/v1/anime/%d?media_type=BOOK" % FRIEREN_2, "media_type"),
                ("/v1/users/sampleuser/list?media_type=LN", "media_type"),
                ("/v1/anime/search?media_type=MANGA&season=FALL",
                 "season"),
                ("/v1/anime/search?media_type=MANGA&format=TV", "format")):
            b = self.get(path, 400)
            self.assertEqual(b["error"]["code"], "invalid_argument", path)
            self.assertEqual(b["error"]["field"], field, path)
        for name, args in (("search_anime", {"media_type": "NOVEL"}),
                           ("get_anime", {"id": FRIEREN_2,
                                          "media_type": "anime"}),
                           ("get_user_list", {"user_name": "sampleuser",
                                              "media_type": 1})):
            r = self.tool(name, args)
            self.assertTrue(r["isError"], r)
            self.assertIn("media_type", r["content"][0]["text"])
        self.assertEqual(self.calls(), before)

    # -- get_anime --------------------------------------------------------
    def test_type_is_part_of_the_question(self):
        anime = self.valid("get_anime", self.get("/v1/anime/%d" %
                                                 FRIEREN_2))
        self.assertEqual(anime["anime"]["type"], "ANIME")
        self.assertIn("episodes", anime["anime"])
        warm = self.calls()
        self.get("/v1/anime/%d" % FRIEREN_2)
        self.assertEqual(self.calls(), warm, "anime answer kept")
        # The same id as a manga: AniList is asked (no cached anime
        # answer serves it), and it has no such manga.
        b = self.get("/v1/anime/%d?media_type=MANGA" % FRIEREN_2, 404)
        self.assertEqual(b["error"]["code"], "not_found")
        self.assertIn("manga with id %d" % FRIEREN_2, b["error"]["message"])
        self.assertEqual(self.calls(), warm + 1)
        r = self.tool("get_anime", {"id": FRIEREN_2, "media_type": "MANGA"})
        self.assertTrue(r["isError"], r)
        # And the anime question still gets the anime, from the cache.
        again = self.get("/v1/anime/%d?media_type=ANIME" % FRIEREN_2)
        self.assertEqual(again["anime"]["id"], FRIEREN_2)
        self.assertEqual(again["anime"]["type"], "ANIME")

    def test_recommendations_share_get_animes_answer(self):
        # get_anime's default question and the reference of a similar
        # recommendation are one cache entry: the second asks no details.
        self.get("/v1/anime/%d" % APOTHECARY)
        details = self.ops().get("MediaDetails", 0)
        b = self.get("/v1/recommendations?reference_anime_id=%d&count=3" %
                     APOTHECARY)
        self.assertTrue(b["text_summary"])
        self.assertEqual(self.ops().get("MediaDetails", 0), details)

    # -- the list tools ---------------------------------------------------
    def test_manga_list_is_empty(self):
        b = self.valid("get_user_list", self.get(
            "/v1/users/sampleuser/list?media_type=MANGA"))
        self.assertEqual(b["results"], [])
        self.assertEqual((b["media_type"], b["list_type"]),
                         ("MANGA", "MANGA"))
        self.assertIn("manga list", b["text_summary"])
        # The older name still works, and the anime list is as it was.
        self.assertEqual(self.get("/v1/users/sampleuser/list?"
                                  "list_type=MANGA")["results"], [])
        anime = self.get("/v1/users/sampleuser/list")
        self.assertEqual(anime["media_type"], "ANIME")
        self.assertGreater(len(anime["results"]), 0)
        self.assertIn("episodes", anime["results"][0])
        self.assertNotIn("progress_volumes", anime["results"][0])
        self.get("/v1/users/sampleuser/list?media_type=MANGA&"
                 "list_type=ANIME", 400)

    def test_volumes_read_of_an_anime_change_nothing(self):
        tok = self.user["access_token"]
        saves = self.ops().get("SaveListEntry", 0)
        st, _, b = self.s.json(
            "PUT", "/v1/me/list/%d" % FRIEREN_2,
            {"status": "CURRENT", "progress_volumes": 2},
            {"Authorization": "Bearer " + tok})
        self.assertEqual(st, 400, b)
        self.assertEqual(b["error"]["field"], "progress_volumes")
        self.assertIn("no manga", b["error"]["message"])
        r = self.tool("update_list_entry", {"media_id": FRIEREN_2,
                                            "progress_volumes": 1}, tok)
        self.assertTrue(r["isError"], r)
        self.assertEqual(self.ops().get("SaveListEntry", 0), saves)
        mine = self.get("/v1/me/list", token=tok)
        self.assertEqual(mine["results"], [])

    # -- OpenAPI ------------------------------------------------------------
    def test_openapi_has_media_type(self):
        spec = self.get("/openapi.json")
        for path, method in (("/v1/anime/search", "get"),
                             ("/v1/anime/{id}", "get"),
                             ("/v1/users/{user_name}/list", "get"),
                             ("/v1/me/list", "get")):
            params = {p["name"]: p for p in
                      spec["paths"][path][method]["parameters"]}
            self.assertIn("media_type", params, path)
            self.assertEqual(params["media_type"]["schema"]["enum"],
                             ["ANIME", "MANGA"], path)
        body = spec["paths"]["/v1/me/list/{media_id}"]["put"][
            "requestBody"]["content"]["application/json"]["schema"]
        self.assertIn("progress_volumes", json.dumps(body))


if __name__ == "__main__":
    unittest.main()
