"""test_tools.py: the discovery tools through Caddy, memcached and the sample upstream.

Every filter and sort of search_anime, adult titles excluded by default,
paging, trending, seasonal (current season by default), details, characters,
airing schedule, genres, and every validation error answered 400 naming the
field, without a call to AniList. Expectations come from the
sample data itself (tests/anilist-sample/data/sample-media.json).
"""
import datetime
import json
import os
import re
import sys
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import TOP_SRCDIR, Stack, watchdog  # noqa: E402

watchdog(110)

with open(os.path.join(TOP_SRCDIR, "tests", "anilist-sample", "data",
                       "sample-media.json"), encoding="utf-8") as f:
    MEDIA = json.load(f)["media"]
BY_ID = {m["id"]: m for m in MEDIA}
SAFE = [m for m in MEDIA if not m["isAdult"]]
ADULT = [m for m in MEDIA if m["isAdult"]]
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def current_season(now=None):
    """WINTER Dec-Feb (December counts towards next year) … FALL Sep-Nov."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    m, y = now.month, now.year
    if m == 12:
        return "WINTER", y + 1
    return (["WINTER"] * 2 + ["SPRING"] * 3 + ["SUMMER"] * 3 +
            ["FALL"] * 3)[m - 1], y


def url(path, **params):
    """A path with params; list values repeat the key."""
    if not params:
        return path
    return path + "?" + urllib.parse.urlencode(params, doseq=True)


class ToolsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stack = Stack(workers=2, threads=4, memcached=True,
                          upstream=True, upstream_args=["--rate-limit", "0"],
                          config={"UPSTREAM_RATE_LIMIT": "90"})
        cls.stack.start()

    @classmethod
    def tearDownClass(cls):
        cls.stack.stop()

    # -- helpers -------------------------------------------------------
    def get(self, path, status=200):
        st, h, body = self.stack.json("GET", path)
        self.assertEqual(st, status, "%s: %r" % (path, body))
        return h, body

    def ok(self, path):
        h, body = self.get(path)
        self.assertIn("source", body)
        self.assertIn(body["source"]["cache"], ("hit", "miss", "stale"))
        self.assertRegex(body["source"]["fetched_at"], RFC3339)
        self.assertIsInstance(body["text_summary"], str)
        self.assertTrue(body["text_summary"])
        return body

    def page(self, path, **params):
        body = self.ok(url(path, **params))
        self.assertEqual(set(body["page_info"]),
                         {"page", "per_page", "has_next_page"})
        return body

    def ids(self, body):
        return [r["id"] for r in body["results"]]

    def bad(self, path, field, status=400):
        _, body = self.get(path, status)
        err = body["error"]
        self.assertEqual(err["code"], "invalid_argument", path)
        self.assertEqual(err.get("field"), field, "%s: %r" % (path, err))
        self.assertIn(field, err["message"], path)
        return err

    # -- search_anime --------------------------------------------------
    def test_search_by_title_words(self):
        body = self.page("/v1/anime/search", query="frieren")
        self.assertTrue(body["results"])
        for r in body["results"]:
            m = BY_ID[r["id"]]
            names = [v for v in m["title"].values() if v] + m["synonyms"]
            self.assertTrue(any("frieren" in n.lower() for n in names), r)
        self.assertTrue(body["text_summary"].startswith(
            "%d results for 'frieren' (page 1): " % len(body["results"])),
            body["text_summary"])
        first = body["results"][0]
        self.assertIn(first["title"]["romaji"], body["text_summary"])

    def test_search_match_puts_the_exact_title_first(self):
        body = self.page("/v1/anime/search",
                         query="Sousou no Frieren 2nd Season",
                         sort="SEARCH_MATCH")
        self.assertEqual(body["results"][0]["id"], 182255)

    def test_compact_result_fields(self):
        body = self.page("/v1/anime/search", query="Sousou no Frieren 2nd",
                         per_page=1)
        r = body["results"][0]
        self.assertEqual(r["id"], 182255)
        self.assertEqual(set(r["title"]), {"romaji", "english", "native"})
        self.assertEqual(r["format"], "TV")
        self.assertEqual(r["season"], "WINTER")
        self.assertEqual(r["season_year"], 2026)
        self.assertEqual(r["average_score"], 88)
        self.assertEqual(r["studios"], ["MADHOUSE"])
        self.assertNotIn("<br>", r["description"])
        self.assertLessEqual(len(r["description"].encode()), 303)
        self.assertTrue(r["description"].endswith("\u2026"))
        self.assertEqual(r["site_url"], "https://anilist.co/anime/182255")
        self.assertIn("next_airing", r)

    def test_filter_genres_all_listed_repeated_or_comma(self):
        a = self.page("/v1/anime/search", genres=["Action", "Drama"],
                      per_page=50)
        b = self.page("/v1/anime/search?genres=Action,Drama&per_page=50")
        c = self.page("/v1/anime/search?genres[]=Action&genres[]=Drama"
                      "&per_page=50")
        self.assertTrue(a["results"])
        self.assertEqual(self.ids(a), self.ids(b))
        self.assertEqual(self.ids(a), self.ids(c))
        for r in a["results"]:
            self.assertTrue({"Action", "Drama"} <= set(r["genres"]), r)

    def test_filter_tags(self):
        body = self.page("/v1/anime/search", tags="Magic", per_page=20)
        self.assertTrue(body["results"])
        for r in body["results"]:
            self.assertIn("Magic", [t["name"] for t in BY_ID[r["id"]]["tags"]])

    def test_filter_season_and_year(self):
        body = self.page("/v1/anime/search", season="WINTER", year=2026,
                         per_page=50)
        self.assertTrue(body["results"])
        for r in body["results"]:
            self.assertEqual((r["season"], r["season_year"]),
                             ("WINTER", 2026))

    def test_filter_status_and_format(self):
        body = self.page("/v1/anime/search", status="RELEASING",
                         format="MOVIE", per_page=50)
        for r in body["results"]:
            self.assertEqual((r["status"], r["format"]),
                             ("RELEASING", "MOVIE"))
        body = self.page("/v1/anime/search", format="TV_SHORT", per_page=50)
        self.assertTrue(body["results"])
        self.assertEqual({r["format"] for r in body["results"]},
                         {"TV_SHORT"})

    def test_filter_minimum_score_is_inclusive(self):
        body = self.page("/v1/anime/search", minimum_score=85, per_page=50)
        want = {m["id"] for m in SAFE if (m["averageScore"] or 0) >= 85}
        self.assertIn(85, [BY_ID[i]["averageScore"] for i in want])
        self.assertEqual(set(self.ids(body)), want)
        self.assertFalse(body["page_info"]["has_next_page"])

    def test_sorts(self):
        def check(sort, key):
            body = self.page("/v1/anime/search", sort=sort, year=2025,
                             per_page=30)
            values = [key(r) for r in body["results"]]
            known = [v for v in values if v is not None]
            self.assertEqual(known, sorted(known, reverse=True), sort)
            self.assertEqual(values[:len(known)], known,
                             "%s: unknown values sort last" % sort)
        check("POPULARITY_DESC", lambda r: r["popularity"])
        check("SCORE_DESC", lambda r: r["average_score"])
        check("START_DATE_DESC", lambda r: tuple(
            int(p) for p in r["start_date"].split("-"))
            if r["start_date"] else None)
        trending = self.page("/v1/anime/trending", per_page=5)
        by_trend = self.page("/v1/anime/search", sort="TRENDING_DESC",
                             per_page=5)
        self.assertEqual(self.ids(by_trend), self.ids(trending))

    def test_default_sort_is_popularity_without_query(self):
        body = self.page("/v1/anime/search", year=2004)
        pops = [r["popularity"] for r in body["results"]]
        self.assertEqual(pops, sorted(pops, reverse=True))

    def test_adult_titles_excluded_by_default(self):
        body = self.page("/v1/anime/search", genres="Hentai")
        self.assertEqual(body["results"], [])
        self.assertTrue(body["text_summary"].startswith("No results"))
        body = self.page("/v1/anime/search", genres="Hentai",
                         include_adult="true", per_page=50)
        self.assertTrue(body["results"])
        self.assertTrue(all(r["is_adult"] for r in body["results"]))
        # WINTER 1994: 27 titles, 5 of them adult.
        season = self.page("/v1/anime/seasonal", season="WINTER", year=1994,
                           per_page=50)
        adult_ids = {m["id"] for m in ADULT}
        self.assertEqual(len(season["results"]), 22)
        self.assertFalse(adult_ids & set(self.ids(season)))
        with_adult = self.page("/v1/anime/seasonal", season="WINTER",
                               year=1994, per_page=50, include_adult="true")
        self.assertEqual(len(adult_ids & set(self.ids(with_adult))), 5)
        trending = self.page("/v1/anime/trending", per_page=50)
        self.assertFalse(adult_ids & set(self.ids(trending)))

    def test_paging_covers_every_match_once(self):
        want = {m["id"] for m in SAFE if m["seasonYear"] == 2004}
        seen, page = [], 1
        while True:
            body = self.page("/v1/anime/search", year=2004, per_page=50,
                             page=page)
            self.assertEqual(body["page_info"]["page"], page)
            self.assertEqual(body["page_info"]["per_page"], 50)
            seen += self.ids(body)
            if not body["page_info"]["has_next_page"]:
                break
            self.assertIn("More on page %d." % (page + 1),
                          body["text_summary"])
            page += 1
            self.assertLess(page, 5)
        self.assertEqual(page, 2)
        self.assertEqual(len(seen), len(set(seen)))
        self.assertEqual(set(seen), want)
        small = [self.page("/v1/anime/search", year=2004, per_page=5,
                           page=p) for p in (1, 2)]
        self.assertEqual(self.ids(small[0]) + self.ids(small[1]), seen[:10])
        self.assertTrue(small[1]["page_info"]["has_next_page"])

    # -- trending and seasonal -----------------------------------------
    def test_trending(self):
        body = self.page("/v1/anime/trending")
        self.assertEqual(len(body["results"]), 10)
        self.assertTrue(all(r["type"] == "ANIME" for r in body["results"]))
        self.assertTrue(body["text_summary"].startswith(
            "10 trending titles in anime (page 1): "))
        body = self.page("/v1/anime/trending", media_type="MANGA")
        self.assertEqual(body["results"], [])

    def test_seasonal_defaults_to_the_current_season(self):
        season, year = current_season()
        body = self.page("/v1/anime/seasonal", per_page=50)
        self.assertEqual((body["season"], body["year"]), (season, year))
        for r in body["results"]:
            self.assertEqual((r["season"], r["season_year"]), (season, year))
        self.assertIn("in %s %d" % (season, year), body["text_summary"])

    def test_seasonal_explicit(self):
        body = self.page("/v1/anime/seasonal", season="SPRING", year=2025,
                         per_page=50)
        want = {m["id"] for m in SAFE
                if (m["season"], m["seasonYear"]) == ("SPRING", 2025)}
        self.assertTrue(body["results"])
        self.assertTrue(set(self.ids(body)) <= want)
        pops = [r["popularity"] for r in body["results"]]
        self.assertEqual(pops, sorted(pops, reverse=True))

    # -- get_anime -------------------------------------------------------
    def test_anime_details(self):
        body = self.ok("/v1/anime/182255")
        a = body["anime"]
        self.assertEqual(a["id"], 182255)
        self.assertEqual(a["duration"], 24)
        self.assertEqual(a["end_date"], "2026-03-27")
        self.assertEqual(a["trailer"],
                         "https://www.youtube.com/watch?v=RH-FcW94z00")
        self.assertEqual(len(a["synonyms"]), 2)
        self.assertEqual([t["name"] for t in a["tags"]][:3],
                         ["Travel", "Elf", "Magic"])
        for key in ("relations", "recommendations", "characters"):
            self.assertIsInstance(a[key], list)
        self.assertEqual([c["name"] for c in a["characters"]][:3],
                         BY_ID[182255]["mainCharacterNames"][:3])
        self.assertTrue(body["text_summary"].startswith(
            "Sousou no Frieren 2nd Season (2026, TV, 8.8/10): 10 episodes"))
        full = self.ok("/v1/anime/182255?full=true")["anime"]
        self.assertIn("(Source: MAL Rewrite)", full["description"])
        self.assertNotIn("(Source", a["description"])

    def test_anime_relations_from_the_stand_in(self):
        for m in SAFE:
            names = set(m["mainCharacterNames"])
            if any(len(names & set(o["mainCharacterNames"])) >= 2 and
                   o["id"] != m["id"] for o in SAFE[:400]):
                break
        body = self.ok("/v1/anime/%d" % m["id"])
        rels = body["anime"]["relations"]
        self.assertTrue(rels)
        for r in rels:
            self.assertIn(r["relation"], ("PREQUEL", "SEQUEL", "OTHER"))
            self.assertIn("romaji", r["title"])

    def test_anime_unknown_id_is_404(self):
        _, body = self.get("/v1/anime/999999999", 404)
        self.assertEqual(body["error"]["code"], "not_found")
        self.assertIn("999999999", body["error"]["message"])

    def test_adult_anime_by_id_needs_include_adult(self):
        adult = ADULT[0]["id"]
        _, body = self.get("/v1/anime/%d" % adult, 404)
        self.assertIn("include_adult", body["error"]["message"])
        body = self.ok("/v1/anime/%d?include_adult=true" % adult)
        self.assertTrue(body["anime"]["is_adult"])

    def test_route_order_fixed_paths_win_over_id(self):
        self.assertIn("results", self.ok("/v1/anime/search?query=naruto"))
        self.assertIn("results", self.ok("/v1/anime/trending"))
        self.assertIn("results", self.ok("/v1/anime/seasonal"))
        self.bad("/v1/anime/frieren", "id")
        self.bad("/v1/anime/12abc", "id")

    # -- characters ------------------------------------------------------
    def test_characters_search_and_by_id(self):
        body = self.page("/v1/characters", search="Frieren")
        self.assertTrue(body["results"])
        ch = body["results"][0]
        self.assertEqual(ch["name"]["full"], "Frieren")
        detail = self.ok("/v1/characters/%d" % ch["id"])["character"]
        self.assertEqual(detail["id"], ch["id"])
        apps = {a["id"]: a["role"] for a in detail["appearances"]}
        self.assertEqual(apps.get(182255), "MAIN")
        for key in ("gender", "age", "birthday", "description"):
            self.assertIn(key, detail)
            self.assertIsNone(detail[key], "the stand-in does not know")
        self.get("/v1/characters/4294967", 404)
        self.bad("/v1/characters/abc", "id")
        self.bad("/v1/characters", "search")
        self.bad("/v1/characters?search=" + "x" * 201, "search")

    # -- airing ----------------------------------------------------------
    def test_airing_window(self):
        times = sorted(m["nextAiringEpisode"]["airingAt"] for m in SAFE
                       if m["nextAiringEpisode"])
        start, end = times[0], times[0] + 7 * 86400
        want = {m["id"] for m in SAFE if m["nextAiringEpisode"] and
                start <= m["nextAiringEpisode"]["airingAt"] < end}
        body = self.page("/v1/airing", **{"from": start, "to": end,
                                          "per_page": 50})
        self.assertEqual((body["from"], body["to"]), (start, end))
        got = [r["airing_at_unix"] for r in body["results"]]
        self.assertEqual(got, sorted(got))
        self.assertTrue(all(start <= t < end for t in got))
        if not body["page_info"]["has_next_page"]:
            self.assertEqual({r["anime"]["id"] for r in body["results"]},
                             want)
        self.assertTrue(want)
        for r in body["results"]:
            self.assertRegex(r["airing_at"], RFC3339)
            self.assertIn("episode", r)
        self.assertIn("episode", body["text_summary"])

    def test_airing_excludes_adult_titles_by_default(self):
        adult = sorted(m["nextAiringEpisode"]["airingAt"] for m in ADULT
                       if m["nextAiringEpisode"])
        start, end = adult[0], adult[0] + 86400
        plain = self.page("/v1/airing", **{"from": start, "to": end,
                                           "per_page": 50})
        self.assertFalse(any(r["anime"]["is_adult"]
                             for r in plain["results"]))
        spicy = self.page("/v1/airing", **{"from": start, "to": end,
                                           "per_page": 50,
                                           "include_adult": "true"})
        self.assertTrue(any(r["anime"]["is_adult"]
                            for r in spicy["results"]))

    # -- genres ------------------------------------------------------------
    def test_genres_and_tags(self):
        body = self.ok("/v1/genres")
        self.assertIn("Action", body["genres"])
        self.assertNotIn("Hentai", body["genres"])
        self.assertTrue(body["tags"])
        self.assertIn("Magic", [t["name"] for t in body["tags"]])
        body = self.ok("/v1/genres?include_adult=true")
        self.assertIn("Hentai", body["genres"])
        self.bad("/v1/genres?genre=Action", "genre")

    # -- validation: 400 naming the field, no AniList call -----------------
    def test_every_validation_error_names_the_field(self):
        this_year = datetime.datetime.now(datetime.timezone.utc).year
        s = "/v1/anime/search"
        cases = [
            (url(s, season="AUTUMN"), "season"),
            (url(s, season="winter"), "season"),
            (url(s, status="DONE"), "status"),
            (url(s, format="CARTOON"), "format"),
            (url(s, sort="NEWEST"), "sort"),
            (url(s, sort="SEARCH_MATCH"), "sort"),
            (url(s, year=1939), "year"),
            (url(s, year=this_year + 2), "year"),
            (url(s, year="abc"), "year"),
            (url(s, year="2020.5"), "year"),
            (url(s, per_page=0), "per_page"),
            (url(s, per_page=51), "per_page"),
            (url(s, page=0), "page"),
            (url(s, page=101, per_page=50), "page"),
            (url(s, page=5001), "page"),
            (url(s, minimum_score=101), "minimum_score"),
            (url(s, minimum_score=-1), "minimum_score"),
            (url(s, query="x" * 201), "query"),
            (url(s, query="\u00e9" * 101), "query"),
            (url(s, query=""), "query"),
            (url(s, include_adult="maybe"), "include_adult"),
            (url(s, genres=["g%d" % i for i in range(11)]), "genres"),
            (url(s, genres="x" * 51), "genres[0]"),
            (url(s, foo=1), "foo"),
            (url(s, page=[1, 2]), "page"),
            (url("/v1/anime/trending", media_type="NOVEL"), "media_type"),
            (url("/v1/anime/trending", per_page=51), "per_page"),
            (url("/v1/anime/seasonal", season="AUTUMN"), "season"),
            (url("/v1/anime/seasonal", year=this_year + 2), "year"),
            (url("/v1/anime/seasonal", year=1939), "year"),
            ("/v1/anime/abc", "id"),
            ("/v1/anime/0", "id"),
            ("/v1/anime/99999999999", "id"),
            ("/v1/anime/5?id=6", "id"),
            ("/v1/anime/5?bogus=1", "bogus"),
            (url("/v1/airing", **{"from": 0, "to": 14 * 86400 + 1}), "to"),
            (url("/v1/airing", **{"from": 1000, "to": 1000}), "to"),
            (url("/v1/airing", **{"from": 2000, "to": 1000}), "to"),
            (url("/v1/airing", **{"from": "soon"}), "from"),
            (url("/v1/airing", **{"from": -5}), "from"),
        ]
        before = self.stack.upstream_requests()
        for path, field in cases:
            with self.subTest(path=path):
                self.bad(path, field)
        self.assertEqual(self.stack.upstream_requests(), before,
                         "bad input must not reach AniList")

    def test_bounds_themselves_are_accepted(self):
        this_year = datetime.datetime.now(datetime.timezone.utc).year
        s = "/v1/anime/search"
        for params in ({"year": 1940}, {"year": this_year + 1},
                       {"per_page": 1}, {"per_page": 50, "year": 2025},
                       {"page": 100, "per_page": 50},
                       {"minimum_score": 0, "year": 1994},
                       {"minimum_score": 100},
                       {"query": "x" * 200}):
            with self.subTest(params=params):
                self.ok(url(s, **params))

    def test_invalid_utf8_is_refused_naming_the_parameter(self):
        before = self.stack.upstream_requests()
        _, body = self.get("/v1/anime/search?query=%FF%FE", 400)
        err = body["error"]
        self.assertIn("query", err.get("field") or err["message"])
        self.assertIn("UTF-8", err["message"])
        self.assertEqual(self.stack.upstream_requests(), before)

    def test_unknown_parameter_lists_the_known_ones(self):
        err = self.bad("/v1/anime/search?per_pag=5", "per_pag")
        self.assertIn("per_page", err["message"])

    # -- caching through the tools -------------------------------------------
    def test_equivalent_requests_share_one_upstream_call(self):
        """Parameter order, explicit defaults and full=true change nothing
        AniList is asked, so they share one cache entry."""
        before = self.stack.upstream_requests()
        first = self.page("/v1/anime/search?query=mushoku&genres=Drama")
        self.assertEqual(self.stack.upstream_requests(), before + 1)
        for path in ("/v1/anime/search?genres=Drama&query=mushoku",
                     "/v1/anime/search?query=mushoku&genres[]=Drama&page=1"
                     "&per_page=10&include_adult=false",
                     "/v1/anime/search?query=mushoku&genres=Drama&full=true"):
            body = self.page(path)
            self.assertEqual(body["source"]["cache"], "hit", path)
            self.assertEqual(self.ids(body), self.ids(first))
            self.assertEqual(body["source"]["fetched_at"],
                             first["source"]["fetched_at"])
        self.assertEqual(self.stack.upstream_requests(), before + 1)

    # -- HTTP details ------------------------------------------------------
    def test_head_and_wrong_method(self):
        st, h, data = self.stack.request("HEAD", "/v1/genres")
        self.assertEqual(st, 200)
        self.assertEqual(data, b"")
        st, h, body = self.stack.json("POST", "/v1/anime/search", body={})
        self.assertEqual(st, 405)
        self.assertIn("GET", h["allow"])

    def test_access_log_names_the_tool(self):
        self.ok("/v1/anime/182255")
        lines = [l for l in self.stack.log_lines()
                 if l.get("msg") == "request" and
                 l.get("path") == "/v1/anime/182255"]
        self.assertTrue(lines)
        self.assertEqual(lines[-1]["tool"], "get_anime")
        self.assertEqual(lines[-1]["route"], "/v1/anime/{id}")
        self.assertIn(lines[-1]["cache"], ("hit", "miss", "stale"))


class UpstreamFailureTest(unittest.TestCase):
    """Its own stack: failures may open the client's breaker."""

    def test_upstream_failure_without_cache_is_503_with_retry_after(self):
        with Stack(workers=1, threads=2, memcached=True, upstream=True) as s:
            s.upstream_fault("500", count=50)
            st, h, body = s.json("GET", url("/v1/anime/search",
                                            query="never asked before"))
            self.assertEqual(st, 503, body)
            self.assertEqual(body["error"]["code"], "upstream_unavailable")
            self.assertGreater(int(h["retry-after"]), 0)
            self.assertIsNone(body["error"].get("field"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
