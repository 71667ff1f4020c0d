#!/usr/bin/env python3
"""Tests for the stand-in's franchise, staff and studio operations
(breadth_ops.py), run in-process with the very documents of src/anilist/queries.c:
each document is valid against AniList's schema, and each answer holds
only what the sample data has.

Run: python3 tests/anilist-sample/test_breadth_ops.py [-v]
"""

import json
import os
import sys
import types
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import server  # noqa: E402
from test_server import QUERIES, SCHEMA, Schema  # noqa: E402

NEW_OPERATIONS = ("FranchiseHop", "MediaByIds", "StaffInfo", "StudioInfo",
                  "UserAiring", "UserProfile", "ToggleFavourite")

APP = server.App(types.SimpleNamespace(
    data_dir=os.path.join(HERE, "data"), client_secret="sample-secret",
    client_id="sample-client", rate_limit=0, delay_ms=0, redirect_uri=None))
RAW = APP.cat.raw


def ask(name, variables):
    """(HTTP status, body) of one operation, sent as the service sends it."""
    body = json.dumps({"query": QUERIES[name], "operationName": name,
                       "variables": variables}).encode()
    opname, parsed = APP.graphql(body, {})
    if isinstance(parsed, server.GraphQLError):
        return parsed.status, parsed.body()
    decl, v, sel = parsed
    return APP.resolve(opname, decl, v, {}, sel)


def ok(name, variables):
    status, body = ask(name, variables)
    assert status == 200, body
    return body["data"]


class TestDocuments(unittest.TestCase):
    def test_documents_are_valid_against_the_anilist_schema(self):
        with open(SCHEMA, encoding="utf-8") as f:
            schema = Schema(f.read())
        for name in NEW_OPERATIONS:
            with self.subTest(operation=name):
                self.assertEqual(schema.check(QUERIES[name]), [])

    def test_every_operation_is_installed(self):
        for name in NEW_OPERATIONS:
            self.assertIn(name, server.OPERATIONS)


class TestFranchiseHop(unittest.TestCase):
    def test_titles_by_id_with_the_derived_relations(self):
        page = ok("FranchiseHop", {"ids": [189513, 182255, 1],
                                   "perPage": 50})["Page"]
        self.assertEqual([m["id"] for m in page["media"]], [182255, 189513])
        self.assertNotIn("pageInfo", page)      # not asked for
        for m in page["media"]:
            self.assertEqual(
                [(e["relationType"], e["node"]["id"])
                 for e in m["relations"]["edges"]],
                APP.cat.relations.get(m["id"], []))
            for e in m["relations"]["edges"]:
                n, raw = e["node"], RAW[e["node"]["id"]]
                for k in ("format", "episodes", "duration", "startDate",
                          "type", "isAdult"):
                    self.assertEqual(n[k], raw.get(k))
                # the titles the document asks for
                self.assertEqual(n["title"], {
                    k: raw["title"].get(k) for k in ("romaji", "english")})

    def test_media_by_ids_is_the_same_page_without_relations(self):
        page = ok("MediaByIds", {"ids": [189513, 182255, 1],
                                 "perPage": 3})["Page"]
        self.assertEqual([m["id"] for m in page["media"]], [182255, 189513])
        for m in page["media"]:
            self.assertNotIn("relations", m)    # not asked for
            self.assertIsInstance(m["tags"], list)   # the compact fields

    def test_unknown_ids_give_an_empty_page(self):
        page = ok("FranchiseHop", {"ids": [999999999], "perPage": 50})
        self.assertEqual(page["Page"]["media"], [])

    def test_ids_must_be_ints(self):
        status, body = ask("FranchiseHop", {"ids": ["x"], "perPage": 50})
        self.assertEqual(status, 400)
        self.assertIn("$ids", body["errors"][0]["message"])


class TestStaffInfo(unittest.TestCase):
    def staff_of(self, name):
        return {m["id"]: [s["role"] for s in m["mainStaff"]
                          if s["name"] == name]
                for m in RAW.values()
                if any(s["name"] == name for s in m.get("mainStaff") or [])}

    def test_a_person_by_name_with_their_works_by_popularity(self):
        works = self.staff_of("Shuuichi Shigeno")
        s = ok("StaffInfo", {"search": "shuuichi shigeno",
                             "perPage": 10})["Staff"]
        self.assertEqual(s["name"]["full"], "Shuuichi Shigeno")
        edges = s["staffMedia"]["edges"]
        self.assertEqual({e["node"]["id"] for e in edges}, set(works))
        pops = [RAW[e["node"]["id"]]["popularity"] for e in edges]
        self.assertEqual(pops, sorted(pops, reverse=True))
        for e in edges:
            self.assertEqual(e["staffRole"], ", ".join(works[e["node"]["id"]]))
        # Nothing the data lacks is made up.
        self.assertEqual(s["characterMedia"]["edges"], [])
        self.assertIsNone(s["description"])
        self.assertIsNone(s["siteUrl"])
        again = ok("StaffInfo", {"id": s["id"], "perPage": 10})["Staff"]
        self.assertEqual(again, s)

    def test_per_page_caps_the_works(self):
        busiest = max({x["name"] for m in RAW.values()
                       for x in m.get("mainStaff") or []},
                      key=lambda n: len(self.staff_of(n)))
        s = ok("StaffInfo", {"search": busiest, "perPage": 3})["Staff"]
        self.assertEqual(len(s["staffMedia"]["edges"]), 3)
        self.assertTrue(s["staffMedia"]["pageInfo"]["hasNextPage"])
        self.assertEqual(s["staffMedia"]["pageInfo"]["total"],
                         len(self.staff_of(busiest)))

    def test_unknown_person_is_a_404(self):
        status, body = ask("StaffInfo", {"search": "zzzz no such person"})
        self.assertEqual(status, 404)
        self.assertIsNone(body["data"]["Staff"])
        status, body = ask("StaffInfo", {"id": 1})
        self.assertEqual(status, 404)


class TestStudioInfo(unittest.TestCase):
    def test_a_studio_by_name_with_its_titles_and_years(self):
        titles = [m for m in RAW.values()
                  if any(s["name"] == "MAPPA"
                         for s in m["studios"]["nodes"])]
        st = ok("StudioInfo", {"search": "mappa", "perPage": 5})["Studio"]
        self.assertEqual(st["name"], "MAPPA")
        self.assertTrue(st["isAnimationStudio"])
        nodes = st["media"]["nodes"]
        self.assertEqual([n["id"] for n in nodes],
                         [m["id"] for m in sorted(
                             titles, key=lambda m: (-m["popularity"],
                                                    m["id"]))][:5])
        self.assertEqual(st["media"]["pageInfo"]["total"], len(titles))
        years = [m["startDate"]["year"] for m in titles
                 if m["startDate"].get("year")]
        self.assertEqual(st["first"]["nodes"][0]["startDate"]["year"],
                         min(years))
        self.assertEqual(st["latest"]["nodes"][0]["startDate"]["year"],
                         max(years))
        self.assertEqual(ok("StudioInfo", {"id": st["id"], "perPage": 5})
                         ["Studio"], st)

    def test_unknown_studio_is_a_404(self):
        status, body = ask("StudioInfo", {"search": "zzzz no such studio"})
        self.assertEqual(status, 404)
        self.assertIsNone(body["data"]["Studio"])


class TestUserAiring(unittest.TestCase):
    def test_only_the_titles_asked_in_the_window(self):
        rows = sorted(APP.cat.airing, key=lambda a: a["airingAt"])
        ids = [rows[0]["mediaId"], rows[-1]["mediaId"]]
        lo, hi = rows[0]["airingAt"] - 1, rows[0]["airingAt"] + 86400
        page = ok("UserAiring", {"mediaIds": ids, "airingAt_greater": lo,
                                 "airingAt_lesser": hi, "perPage": 50})
        got = page["Page"]["airingSchedules"]
        want = [a for a in rows if a["mediaId"] in ids and
                lo < a["airingAt"] < hi]
        self.assertEqual([(a["mediaId"], a["episode"], a["airingAt"])
                          for a in got],
                         [(a["mediaId"], a["episode"], a["airingAt"])
                          for a in want])
        self.assertTrue(got)
        for a in got:
            nae = RAW[a["mediaId"]]["nextAiringEpisode"]
            self.assertEqual((a["episode"], a["airingAt"]),
                             (nae["episode"], nae["airingAt"]))

    def test_no_titles_no_episodes(self):
        page = ok("UserAiring", {"mediaIds": [], "perPage": 50})
        self.assertEqual(page["Page"]["airingSchedules"], [])


class TestProfileAndFavourites(unittest.TestCase):
    def test_statistics_from_the_users_list(self):
        user = ok("UserProfile", {"name": "sampleuser"})["User"]
        a = user["statistics"]["anime"]
        entries = [e for g in APP.cat.seed_collection["lists"]
                   for e in g.get("entries") or []]
        self.assertEqual(a["count"], len(entries))
        self.assertEqual(a["episodesWatched"],
                         sum(e.get("progress") or 0 for e in entries))
        self.assertEqual(a["meanScore"], 0)
        for g in a["genres"]:
            self.assertEqual(g["count"], sum(
                1 for e in entries if g["genre"] in
                (RAW.get(e["media"]["id"]) or {}).get("genres", [])))
        self.assertEqual(user["favourites"]["anime"]["nodes"], [])

    def test_unknown_user_is_a_404(self):
        status, _ = ask("UserProfile", {"name": "nosuchuser123"})
        self.assertEqual(status, 404)

    def test_toggle_needs_a_token(self):
        status, _ = ask("ToggleFavourite", {"animeId": 182255})
        self.assertEqual(status, 401)


if __name__ == "__main__":
    unittest.main(verbosity=2)
