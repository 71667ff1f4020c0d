"""test_breadth.py: the franchise, people and studio tools (get_watch_order,
get_staff_info, get_studio_info) over REST and MCP through Caddy, memcached
and the sample AniList: answers checked against their output schema and
against the sample data, AniList calls cold and warm, bad arguments, and
the watch-order widget rendered in headless Chromium with a real result.

Expectations come from the sample data (tests/anilist-sample/data) and the
relations the sample derives from it (two titles sharing two main
characters; series ordered by start date).
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import oauth_flow  # noqa: E402
from test_mcp import CHROMIUM, CLIENT_DIR, EVIL, IMAGE_HOSTS, npm_ci  # noqa: E402

harness.watchdog(170)

V11 = "2025-11-25"
with open(os.path.join(harness.TOP_SRCDIR, "tests", "anilist-sample", "data",
                       "sample-media.json"), encoding="utf-8") as f:
    MEDIA = json.load(f)["media"]
BY_ID = {m["id"]: m for m in MEDIA}
with open(os.path.join(harness.TOP_SRCDIR, "tests", "anilist-sample", "data",
                       "seanime_MediaListCollection_BoilerplateAnimeCollection"
                       ".json"), encoding="utf-8") as f:
    # The sample user's list: every entry with its list's status.
    SEED_ENTRIES = [dict(e, status=e.get("status") or g["status"])
                    for g in json.load(f)["MediaListCollection"]["lists"]
                    for e in g.get("entries") or []]

# Kusuriya no Hitorigoto 2nd Season: two sequels, a special and a movie.
APOTHECARY = 176301
# Sousou no Frieren 2nd Season: an ONA prequel and an ONA sequel.
FRIEREN_2 = 182255
# Dr. STONE: SCIENCE FUTURE: two sequels.
DR_STONE = 172019
# Kaijuu 8-gou 2nd Season: an ONA prequel, a movie and a special.
KAIJUU_2 = 178754


def start_key(m):
    d = m.get("startDate") or {}
    if d.get("year") is None:
        return (9999, 0, 0, m["id"])
    return (d["year"], d.get("month") or 0, d.get("day") or 0, m["id"])


def schema_errors(schema, value, path="$"):
    """Problems of value against a tool's output schema (the subset the
    registry uses: type, enum, required, properties, items)."""
    errors = []
    types = schema.get("type")
    if types is not None:
        types = types if isinstance(types, list) else [types]
        kinds = {"object": dict, "array": list, "string": str,
                 "boolean": bool, "null": type(None)}
        ok = False
        for t in types:
            if t == "integer":
                ok = ok or (isinstance(value, int) and
                            not isinstance(value, bool))
            elif t == "number":
                ok = ok or (isinstance(value, (int, float)) and
                            not isinstance(value, bool))
            else:
                ok = ok or isinstance(value, kinds[t])
        if not ok:
            return ["%s: %r is not %s" % (path, value, types)]
    if "enum" in schema and value not in schema["enum"]:
        errors.append("%s: %r not in %s" % (path, value, schema["enum"]))
    if isinstance(value, dict):
        for k in schema.get("required", []):
            if k not in value:
                errors.append("%s: %s missing" % (path, k))
        for k, sub in schema.get("properties", {}).items():
            if k in value:
                errors += schema_errors(sub, value[k], path + "." + k)
    if isinstance(value, list) and "items" in schema:
        for i, v in enumerate(value):
            errors += schema_errors(schema["items"], v, "%s[%d]" % (path, i))
    return errors


class BreadthStack(unittest.TestCase):
    """A stack serving the widgets, with the tools' list and the breadth
    tests' helpers: calls, schema checks, rendering. Tests subclass it."""
    tmp_prefix = "agpt-breadth-"

    @classmethod
    def setUpClass(cls):
        npm_ci()
        cls.s = harness.Stack(workers=2, threads=4,
                              upstream_args=["--rate-limit", "0"],
                              config={"UPSTREAM_RATE_LIMIT": "90",
                                      "WIDGETS_DIR": os.path.join(
                                          harness.TOP_SRCDIR, "widgets")})
        cls.s.start()
        cls.tmp = tempfile.mkdtemp(prefix=cls.tmp_prefix)
        st, b = cls.rpc("tools/list", {})
        assert st == 200, b
        cls.tools = {t["name"]: t for t in b["result"]["tools"]}

    @classmethod
    def tearDownClass(cls):
        cls.s.stop()
        harness.drop_screenshots(cls.tmp)

    # -- helpers --------------------------------------------------------
    @classmethod
    def rpc(cls, method, params):
        st, _, b = cls.s.mcp(method, params, None, V11)
        return st, b

    def calls(self):
        return self.s.upstream_requests()

    def get(self, path, status=200):
        st, _, body = self.s.json("GET", path)
        self.assertEqual(st, status, "%s: %r" % (path, body))
        return body

    def valid(self, tool, body):
        self.assertEqual(schema_errors(self.tools[tool]["outputSchema"],
                                       body), [])
        self.assertTrue(body["text_summary"])
        self.assertLess(len(json.dumps(body)), 8192, "default answer size")
        return body

    def cold_warm(self, tool, path, max_cold, min_cold=1):
        """The answer of path, asked cold then warm: the warm one costs
        no AniList call and is the same. min_cold=0 where a user's list
        may be cached by an earlier test of another list tool."""
        before = self.calls()
        cold = self.valid(tool, self.get(path))
        spent = self.calls() - before
        self.assertGreaterEqual(spent, min_cold, path)
        self.assertLessEqual(spent, max_cold, path)
        warm = self.valid(tool, self.get(path))
        self.assertEqual(self.calls() - before, spent, "warm: " + path)
        cold.pop("source")
        warm.pop("source")
        self.assertEqual(cold, warm)
        return cold, spent

    def bad(self, path, field, status=400):
        before = self.calls()
        body = self.get(path, status)
        self.assertEqual(body["error"].get("field"), field, body)
        self.assertIn(field, body["error"]["message"])
        if status == 400:
            self.assertEqual(self.calls(), before, "no AniList call: " + path)
        return body["error"]

    def mcp_error(self, name, arguments, field):
        st, b = self.rpc("tools/call", {"name": name, "arguments": arguments})
        self.assertEqual(st, 200, b)
        self.assertTrue(b["result"]["isError"], b)
        self.assertIn(field, b["result"]["content"][0]["text"])

    def mcp_result(self, name, arguments):
        st, b = self.rpc("tools/call", {"name": name, "arguments": arguments})
        self.assertEqual(st, 200, b)
        self.assertFalse(b["result"]["isError"], b)
        return self.valid(name, b["result"]["structuredContent"])

    def render(self, uri, output, name):
        st, b = self.rpc("resources/read", {"uri": uri})
        self.assertEqual(st, 200, b)
        html = os.path.join(self.tmp, name + ".html")
        with open(html, "w") as f:
            f.write(b["result"]["contents"][0]["text"])
        out = os.path.join(self.tmp, name + ".json")
        with open(out, "w") as f:
            json.dump(output, f)
        shot = os.path.join(self.tmp, name + ".png")
        env = dict(os.environ, NODE_EXTRA_CA_CERTS=self.s.ca)
        p = subprocess.run(["node", os.path.join(CLIENT_DIR,
                                                 "render-widget.mjs"),
                            html, out, shot, "openai"], cwd=CLIENT_DIR,
                           env=env, capture_output=True, text=True,
                           timeout=120)
        r = json.loads(p.stdout.strip().splitlines()[-1])
        self.assertEqual(p.returncode, 0, r.get("error"))
        with open(shot, "rb") as f:
            self.assertGreater(len(f.read()), 5000)
        self.assertFalse(r["scriptRan"], "a value ran as script")
        for u in r["requests"] + r["images"]:
            self.assertTrue(u.startswith(IMAGE_HOSTS), u)
        return r

    # -- get_watch_order --------------------------------------------------
    def check_franchise(self, body, root):
        entries = body["entries"]
        ids = [e["id"] for e in entries]
        self.assertIn(root, ids)
        self.assertEqual(len(set(ids)), len(ids))
        self.assertEqual([e["order"] for e in entries],
                         list(range(1, len(entries) + 1)))
        for e in entries:
            m = BY_ID[e["id"]]
            self.assertEqual(e["format"], m["format"])
            self.assertEqual(e["episodes"], m.get("episodes"))
            self.assertEqual(e["year"], (m.get("startDate") or {}).get(
                "year") or m.get("seasonYear"))
            self.assertEqual(e["skippable"], e["role"] == "recap")
            self.assertTrue(e["reason"])
            if e["related_to"] is not None:
                self.assertIn(e["related_to"], ids)
        # Release order: every title once, by start date.
        self.assertEqual(sorted(body["release_order"]), sorted(ids))
        self.assertEqual(body["release_order"],
                         sorted(ids, key=lambda i: start_key(BY_ID[i])))
        for e in entries:
            self.assertEqual(body["release_order"][e["release_order"] - 1],
                             e["id"])
        # The main story in release order, first one says so.
        main = [e for e in entries if e["role"] == "main"]
        self.assertEqual([e["id"] for e in main],
                         sorted([e["id"] for e in main],
                                key=lambda i: start_key(BY_ID[i])))
        self.assertTrue(main[0]["reason"].startswith("Start here"))
        self.assertEqual(body["main_story"]["titles"], len(main))
        return entries


class BreadthTest(BreadthStack):
    def test_watch_order_of_a_sequel_chain(self):
        body, spent = self.cold_warm(
            "get_watch_order", "/v1/anime/%d/watch-order" % APOTHECARY, 3)
        entries = self.check_franchise(body, APOTHECARY)
        # The sample's relations of the title, as AniList would give them.
        seasons = {176301, 186148, 195516}
        others = {206349, 200929}
        self.assertEqual({e["id"] for e in entries}, seasons | others)
        for e in entries:
            self.assertEqual(e["role"], "main" if e["id"] in seasons
                             else "other", e)
        # Each optional title comes after the last main title released
        # before it (no spoilers) and before the next.
        order = [e["id"] for e in entries]
        self.assertLess(order.index(186148), order.index(206349))
        self.assertLess(order.index(206349), order.index(195516))
        self.assertEqual(order[-1], 200929)
        self.assertIn("Kusuriya no Hitorigoto 3rd Season",
                      entries[-1]["reason"])
        self.assertTrue(body["text_summary"].startswith(
            "Watch order for Kusuriya no Hitorigoto 2nd Season (5 titles, "
            "3 in the main story): 1. Kusuriya no Hitorigoto 2nd Season "
            "(2025, TV);"), body["text_summary"])
        self.assertFalse(body["truncated"])
        # Two rounds: the title, then its sequels (nothing new after them).
        self.assertEqual(spent, 2)

    def test_watch_order_from_the_middle_is_the_same_franchise(self):
        body = self.valid("get_watch_order", self.get(
            "/v1/anime/%d/watch-order" % FRIEREN_2))
        entries = self.check_franchise(body, FRIEREN_2)
        self.assertEqual([e["id"] for e in entries], [189513, 182255, 206425])
        self.assertEqual(entries[0]["relation"], "PREQUEL")
        self.assertEqual(entries[0]["related_to"], FRIEREN_2)
        self.assertIsNone(entries[1]["relation"])
        other = self.valid("get_watch_order", self.get(
            "/v1/anime/206425/watch-order"))
        self.assertEqual([e["id"] for e in other["entries"]],
                         [189513, 182255, 206425])

    def test_watch_order_limit_keeps_the_main_story(self):
        body = self.valid("get_watch_order", self.get(
            "/v1/anime/%d/watch-order?limit=2" % DR_STONE))
        self.assertEqual([e["id"] for e in body["entries"]],
                         [172019, 189117])
        self.assertEqual(body["main_story"]["titles"], 2)
        self.assertTrue(body["truncated"])
        self.assertIn("left out", body["text_summary"])

    def test_watch_order_of_a_title_without_relations(self):
        alone = BY_ID[18]  # Initial D FOURTH STAGE: no relations here
        body = self.valid("get_watch_order", self.get(
            "/v1/anime/%d/watch-order" % alone["id"]))
        self.assertEqual([e["id"] for e in body["entries"]], [18])

    def test_watch_order_adult_title_needs_include_adult(self):
        adult = next(m for m in MEDIA if m["isAdult"])
        err = self.get("/v1/anime/%d/watch-order" % adult["id"], 404)
        self.assertIn("include_adult", err["error"]["message"])
        self.valid("get_watch_order", self.get(
            "/v1/anime/%d/watch-order?include_adult=true" % adult["id"]))

    def test_watch_order_bad_arguments(self):
        self.bad("/v1/anime/0/watch-order", "id")
        self.bad("/v1/anime/abc/watch-order", "id")
        self.bad("/v1/anime/1/watch-order?limit=0", "limit")
        self.bad("/v1/anime/1/watch-order?limit=51", "limit")
        self.bad("/v1/anime/1/watch-order?sort=x", "sort")
        err = self.get("/v1/anime/999999/watch-order", 404)["error"]
        self.assertEqual(err["code"], "not_found")
        self.assertIn("999999", err["message"])
        self.mcp_error("get_watch_order", {}, "id")
        self.mcp_error("get_watch_order", {"id": 18, "limit": "x"},
                       "limit")

    def test_watch_order_over_mcp_and_its_widget(self):
        tool = self.tools["get_watch_order"]
        self.assertEqual(tool["_meta"]["openai/outputTemplate"],
                         "ui://widget/watch-order.html")
        self.assertTrue(tool["annotations"]["readOnlyHint"])
        body = self.mcp_result("get_watch_order", {"id": KAIJUU_2})
        self.assertEqual(len(body["entries"]), 4)
        evil = json.loads(json.dumps(body))
        evil["entries"][0]["title"]["english"] = EVIL + "Evil title"
        evil["entries"][1]["reason"] = EVIL + " reason"
        self.assertTrue(os.access(CHROMIUM, os.X_OK))
        r = self.render("ui://widget/watch-order.html", evil, "watch")
        self.assertEqual(r["cards"], 4)
        self.assertIn("Watch order: " + body["anime"]["title"]["english"],
                      r["text"])
        self.assertIn(EVIL + "Evil title", r["text"])
        self.assertIn(EVIL + " reason", r["text"])
        self.assertIn("Main story: 2 titles", r["text"])
        self.assertIn("Related \u00b7 optional".upper(), r["text"].upper())
        self.assertIn(body["entries"][3]["reason"], r["text"])
        self.assertTrue(r["images"])

    # -- the recommendations widget says what it is about ---------------
    def test_recommendations_widget_from_a_users_list(self):
        recs = self.mcp_result("get_anime_recommendations", {
            "recommendation_type": "taste_profile",
            "user_name": "sampleuser", "count": 3})
        self.assertTrue(recs["recommendations"])
        r = self.render("ui://widget/recommendations.html", recs, "recs")
        self.assertEqual(r["cards"], len(recs["recommendations"]))
        self.assertIn("From your list (%d titles)" % recs["profile"]["entries"],
                      r["text"])
        for item in recs["recommendations"]:
            self.assertIn(item["reasons"][0], r["text"])

    # -- get_staff_info -----------------------------------------------
    def staff_of(self, name):
        """{media id: roles} of a person in the sample's mainStaff."""
        out = {}
        for m in MEDIA:
            for x in m.get("mainStaff") or []:
                if x["name"] == name:
                    out.setdefault(m["id"], []).append(x["role"])
        return out

    def test_staff_by_name_then_by_id(self):
        works = self.staff_of("Makoto Shinkai")
        body, spent = self.cold_warm(
            "get_staff_info", "/v1/staff?search=makoto%20shinkai", 1)
        self.assertEqual(spent, 1)
        p = body["staff"]
        self.assertEqual(p["name"], "Makoto Shinkai")
        self.assertEqual(p["works_total"], len(works))
        ids = [w["id"] for w in p["works"]]
        self.assertEqual(ids, sorted(works, key=lambda i: (
            -BY_ID[i]["popularity"], i))[:8])
        for w in p["works"]:
            self.assertEqual(w["role"], ", ".join(works[w["id"]]))
            self.assertEqual(w["format"], BY_ID[w["id"]]["format"])
        # The sample knows no voice roles and no personal details.
        self.assertEqual(p["voice_roles"], [])
        self.assertIsNone(p["description"])
        first = BY_ID[ids[0]]["title"]["romaji"]
        self.assertTrue(body["text_summary"].startswith(
            "Makoto Shinkai: %d anime on AniList; best known: %s (" % (
                len(works), first)), body["text_summary"])
        again = self.valid("get_staff_info", self.get(
            "/v1/staff/%d" % p["id"]))
        self.assertEqual(again["staff"], p)

    def test_staff_adult_works_left_out_unless_asked(self):
        works = self.staff_of("Masamune Shirow")
        adult = [i for i in works if BY_ID[i]["isAdult"]]
        self.assertTrue(adult)
        body = self.valid("get_staff_info", self.get(
            "/v1/staff?search=Masamune%20Shirow&per_page=25"))
        self.assertFalse(set(adult) & {w["id"] for w in
                                       body["staff"]["works"]})
        body = self.valid("get_staff_info", self.get(
            "/v1/staff?search=Masamune%20Shirow&per_page=25"
            "&include_adult=true"))
        self.assertEqual({w["id"] for w in body["staff"]["works"]},
                         set(works))

    def test_staff_bad_arguments(self):
        self.bad("/v1/staff", "search")
        self.bad("/v1/staff/5?search=x", "search")
        self.bad("/v1/staff?search=", "search")
        self.bad("/v1/staff?search=x&per_page=26", "per_page")
        self.bad("/v1/staff/0", "id")
        err = self.get("/v1/staff?search=zzzz%20nobody%20at%20all",
                       404)["error"]
        self.assertIn("zzzz nobody at all", err["message"])
        self.mcp_error("get_staff_info", {}, "search")
        self.mcp_error("get_staff_info", {"id": "x"}, "id")

    def test_staff_over_mcp(self):
        tool = self.tools["get_staff_info"]
        self.assertTrue(tool["annotations"]["readOnlyHint"])
        body = self.mcp_result("get_staff_info",
                               {"search": "Tatsuki Fujimoto"})
        self.assertEqual(body["staff"]["works"][0]["id"], 127230)

    # -- get_studio_info ----------------------------------------------
    def test_studio_by_name_then_by_id(self):
        titles = [m for m in MEDIA if any(
            x["name"] == "MAPPA" for x in m["studios"]["nodes"])]
        safe = sorted((m for m in titles if not m["isAdult"]),
                      key=lambda m: (-m["popularity"], m["id"]))
        years = [m["startDate"]["year"] for m in titles
                 if m["startDate"].get("year")]
        body, spent = self.cold_warm(
            "get_studio_info", "/v1/studios?search=mappa", 1)
        self.assertEqual(spent, 1)
        st = body["studio"]
        self.assertEqual(st["name"], "MAPPA")
        self.assertTrue(st["is_animation_studio"])
        self.assertEqual(st["titles_total"], len(titles))
        self.assertEqual([t["id"] for t in st["titles"]],
                         [m["id"] for m in safe[:10]])
        self.assertEqual(st["years_active"],
                         {"from": min(years), "to": max(years)})
        self.assertTrue(body["text_summary"].startswith(
            "MAPPA (animation studio, titles from %d to %d, %d titles on "
            "AniList): most popular: Chainsaw Man (2022);" % (
                min(years), max(years), len(titles))),
            body["text_summary"])
        again = self.valid("get_studio_info", self.get(
            "/v1/studios/%d?per_page=3" % st["id"]))
        self.assertEqual(again["studio"]["titles"], st["titles"][:3])

    def test_studio_bad_arguments(self):
        self.bad("/v1/studios", "search")
        self.bad("/v1/studios/3?search=x", "search")
        self.bad("/v1/studios?search=x&per_page=0", "per_page")
        self.bad("/v1/studios?search=x&sort=y", "sort")
        self.bad("/v1/studios?search=" + "x" * 201, "search")
        err = self.get("/v1/studios/1", 404)["error"]
        self.assertIn("studio with id 1", err["message"])
        self.mcp_error("get_studio_info", {"search": 5}, "search")

    def test_studio_over_mcp(self):
        body = self.mcp_result("get_studio_info", {"search": "MAPPA",
                                                   "per_page": 25})
        self.assertLessEqual(len(body["studio"]["titles"]), 25)

    # -- pick_from_my_list ------------------------------------------------
    def test_picks_a_public_list_in_a_time_budget(self):
        # One UserList call at most (the signed-in test sees it cold).
        body, spent = self.cold_warm(
            "pick_from_my_list",
            "/v1/users/sampleuser/picks?minutes=120&count=20", 1, 0)
        self.assertEqual(body["user"], "sampleuser")
        self.assertFalse(body["own_list"])
        planning = [e for e in SEED_ENTRIES if e["status"] == "PLANNING"]
        self.assertEqual(body["considered"], len(planning))
        # Only titles whose episode length AniList gives can be timed.
        timed = [e for e in planning if (BY_ID.get(e["media"]["id"]) or
                                         {}).get("duration")]
        self.assertTrue(timed)
        picks = body["picks"]
        self.assertEqual(sorted(p["anime"]["id"] for p in picks),
                         sorted(e["media"]["id"] for e in timed))
        self.assertIn("%d titles left out: AniList gives no episode length"
                      % (len(planning) - len(timed)), " ".join(body["notes"]))
        scores = [p["score"] for p in picks]
        self.assertEqual(scores, sorted(scores, reverse=True))
        for p in picks:
            m = BY_ID[p["anime"]["id"]]
            entry = [e for e in timed if e["media"]["id"] == m["id"]][0]
            left = m["episodes"] - (entry.get("progress") or 0)
            self.assertEqual(p["minutes_per_episode"], m["duration"])
            self.assertEqual(p["minutes_left"], left * m["duration"])
            self.assertEqual(p["episodes_in_time"],
                             min(left, 120 // m["duration"]))
            said = " ".join(p["reasons"])
            if left * m["duration"] <= 120:
                self.assertIn("All of it fits your 120 minutes", said)
            else:
                self.assertIn("fit your 120 minutes", said)
            self.assertIn("AniList average score %d%%" % m["averageScore"],
                          said)
        self.assertTrue(body["text_summary"].startswith(
            "%d picks from sampleuser's planning list in 120 minutes: "
            % len(picks)), body["text_summary"])

    def test_picks_for_a_mood_put_its_genres_first(self):
        body = self.valid("pick_from_my_list", self.get(
            "/v1/users/sampleuser/picks?mood=light&minutes=600"))
        first = BY_ID[body["picks"][0]["anime"]["id"]]
        # SPY×FAMILY Part 2 is the one Comedy and Slice of Life title.
        self.assertEqual(set(first["genres"]) & {"Comedy", "Slice of Life"},
                         {"Comedy", "Slice of Life"})
        self.assertIn("Fits a light mood: Comedy, Slice of Life",
                      body["picks"][0]["reasons"])
        for p in body["picks"]:
            g = set(BY_ID[p["anime"]["id"]]["genres"])
            fits = any(r.startswith("Fits a light mood")
                       for r in p["reasons"])
            self.assertEqual(fits, bool(g & {"Comedy", "Slice of Life"}), p)
        self.assertEqual(body["mood"], "light")

    def test_picks_default_answer_and_paused(self):
        body = self.valid("pick_from_my_list",
                          self.get("/v1/users/sampleuser/picks"))
        self.assertEqual(len(body["picks"]), 5)
        for p in body["picks"]:
            self.assertTrue(p["reasons"])
        body = self.valid("pick_from_my_list", self.get(
            "/v1/users/sampleuser/picks?status=PAUSED"))
        self.assertEqual(body["picks"], [])
        self.assertEqual(body["considered"], 0)
        self.assertIn("paused list", body["text_summary"])

    def test_picks_bad_arguments(self):
        base = "/v1/users/sampleuser/picks"
        self.bad(base + "?minutes=0", "minutes")
        self.bad(base + "?minutes=1441", "minutes")
        self.bad(base + "?mood=sleepy", "mood")
        self.bad(base + "?status=COMPLETED", "status")
        self.bad(base + "?count=21", "count")
        self.bad("/v1/users/a%20b/picks", "user_name")
        err = self.get("/v1/users/nosuchuser123/picks", 404)["error"]
        self.assertIn("nosuchuser123", err["message"])
        self.mcp_error("pick_from_my_list", {"user_name": "sampleuser",
                                             "mood": "sleepy"}, "mood")

    def test_picks_without_a_user_or_a_token(self):
        st, h, b = self.s.json("GET", "/v1/me/picks")
        self.assertEqual(st, 401, b)
        self.assertTrue(h["www-authenticate"].startswith("Bearer "), h)
        st, b = self.rpc("tools/call", {"name": "pick_from_my_list",
                                        "arguments": {}})
        self.assertTrue(b["result"]["isError"], b)
        self.assertIn("mcp/www_authenticate", b["result"].get("_meta", {}))

    def test_picks_over_mcp(self):
        body = self.mcp_result("pick_from_my_list", {
            "user_name": "sampleuser", "mood": "emotional", "count": 3})
        self.assertLessEqual(len(body["picks"]), 3)

    # -- get_my_airing ----------------------------------------------------
    def test_airing_of_a_planning_only_list(self):
        # The sample user plans finished titles and completed none.
        body, spent = self.cold_warm(
            "get_my_airing", "/v1/users/sampleuser/airing?from=%d&days=14"
            % min(a["nextAiringEpisode"]["airingAt"] for a in MEDIA
                  if a.get("nextAiringEpisode")), 2)
        # The list (unless an earlier test read it), then its episodes;
        # no completed titles, so no sequel call.
        planned = {e["media"]["id"] for e in SEED_ENTRIES
                   if e["status"] in ("CURRENT", "PLANNING")}
        want = [m for m in MEDIA if m["id"] in planned and
                m.get("nextAiringEpisode") and body["from"] <=
                m["nextAiringEpisode"]["airingAt"] < body["to"]]
        self.assertEqual([e["anime"]["id"] for e in body["episodes"]],
                         [m["id"] for m in sorted(
                             want, key=lambda m: m["nextAiringEpisode"][
                                 "airingAt"])])
        self.assertEqual(body["sequels"], [])
        self.assertEqual(body["to"] - body["from"], 14 * 86400)
        self.assertIn("0 sequels", body["text_summary"])

    def test_airing_bad_arguments(self):
        base = "/v1/users/sampleuser/airing"
        self.bad(base + "?days=0", "days")
        self.bad(base + "?days=15", "days")
        self.bad(base + "?from=-1", "from")
        self.bad(base + "?include_sequels=maybe", "include_sequels")
        self.bad("/v1/users/a%20b/airing", "user_name")
        self.mcp_error("get_my_airing", {"days": "x"}, "days")

    def test_airing_without_a_user_or_a_token(self):
        st, h, b = self.s.json("GET", "/v1/me/airing")
        self.assertEqual(st, 401, b)
        self.assertTrue(h["www-authenticate"].startswith("Bearer "), h)

    def test_airing_over_mcp(self):
        body = self.mcp_result("get_my_airing", {"user_name": "sampleuser"})
        self.assertFalse(body["own_list"])

    # -- get_user_profile -------------------------------------------------
    def test_profile_of_the_sample_user(self):
        body, spent = self.cold_warm(
            "get_user_profile", "/v1/users/sampleuser?top=3", 1)
        self.assertEqual(spent, 1)
        self.assertEqual(body["user"]["name"], "sampleuser")
        self.assertFalse(body["own_profile"])
        a = body["anime"]
        known = [(e, BY_ID[e["media"]["id"]]) for e in SEED_ENTRIES
                 if e["media"]["id"] in BY_ID]
        self.assertEqual(a["count"], len(SEED_ENTRIES))
        self.assertEqual(a["episodes_watched"], sum(
            e.get("progress") or 0 for e in SEED_ENTRIES))
        minutes = sum((e.get("progress") or 0) * (m.get("duration") or 0)
                      for e, m in known)
        self.assertEqual(a["minutes_watched"], minutes)
        self.assertIsNone(a["mean_score"], "nothing is scored")
        self.assertEqual(a["statuses"], [{"status": "PLANNING",
                                          "count": len(SEED_ENTRIES)}])
        genres = {}
        for e, m in known:
            for g in m.get("genres") or []:
                c, t = genres.get(g, (0, 0))
                genres[g] = (c + 1, t + (e.get("progress") or 0) *
                             (m.get("duration") or 0))
        want = sorted(genres, key=lambda g: (-genres[g][1], -genres[g][0],
                                             g))[:3]
        self.assertEqual([g["name"] for g in body["genres"]], want)
        self.assertEqual(len(body["tags"]), 3)
        self.assertEqual(body["favourites"]["anime"], [])
        self.assertIn("most watched genres: " + ", ".join(want),
                      body["text_summary"])

    def test_profile_bad_arguments(self):
        self.bad("/v1/users/sampleuser?top=0", "top")
        self.bad("/v1/users/sampleuser?top=11", "top")
        self.bad("/v1/users/a%20b", "user_name")
        err = self.get("/v1/users/nosuchuser123", 404)["error"]
        self.assertIn("nosuchuser123", err["message"])
        self.mcp_error("get_user_profile", {"user_name": "sampleuser",
                                            "top": "x"}, "top")

    def test_profile_and_favourites_without_a_token(self):
        for method, path, body in (("GET", "/v1/me/profile", None),
                                   ("POST", "/v1/me/favourites",
                                    {"kind": "anime", "id": FRIEREN_2})):
            st, h, b = self.s.json(method, path, body)
            self.assertEqual(st, 401, b)
            self.assertTrue(h["www-authenticate"].startswith("Bearer "), h)
        st, b = self.rpc("tools/call", {"name": "toggle_favourite",
                                        "arguments": {"kind": "anime",
                                                      "id": FRIEREN_2}})
        self.assertTrue(b["result"]["isError"], b)
        self.assertIn("mcp/www_authenticate", b["result"]["_meta"])

    def test_profile_over_mcp(self):
        body = self.mcp_result("get_user_profile", {"user_name": "sampleuser"})
        self.assertEqual(body["user"]["name"], "sampleuser")

    # -- MCP prompts ------------------------------------------------------
    def test_prompts_advertised_listed_and_filled_in(self):
        st, b = self.rpc("initialize", {
            "protocolVersion": V11, "capabilities": {},
            "clientInfo": {"name": "t", "version": "1"}})
        self.assertEqual(st, 200, b)
        self.assertIn("prompts", b["result"]["capabilities"])
        st, b = self.rpc("prompts/list", {})
        self.assertEqual(st, 200, b)
        prompts = {p["name"]: p for p in b["result"]["prompts"]}
        self.assertEqual(set(prompts), {"tonights_pick", "season_digest",
                                        "catch_up_on_franchise"})
        for p in prompts.values():
            self.assertTrue(p["title"] and p["description"])
            for a in p["arguments"]:
                self.assertTrue(a["description"])
        self.assertEqual([a["name"] for a in prompts[
            "catch_up_on_franchise"]["arguments"] if a["required"]],
            ["title"])
        calls = self.calls()
        text = self.prompt("tonights_pick", {"minutes": "90",
                                             "mood": "cozy"})
        self.assertIn("pick_from_my_list with count 5, minutes 90, mood "
                      "\"cozy\"", text)
        self.assertIn("my own AniList planning list", text)
        text = self.prompt("tonights_pick", {"user_name": "sampleuser"})
        self.assertIn("user_name sampleuser", text)
        text = self.prompt("season_digest", {"season": "FALL",
                                             "year": "2025"})
        self.assertIn("get_seasonal_anime with season FALL year 2025", text)
        self.assertIn("this anime season", self.prompt("season_digest", {}))
        text = self.prompt("catch_up_on_franchise", {"title": "Dr. STONE"})
        self.assertIn("\"Dr. STONE\"", text)
        self.assertIn("get_watch_order", text)
        self.assertEqual(self.calls(), calls, "prompts ask AniList nothing")
        for name, args, says in (
                ("no_such_prompt", {}, "unknown prompt"),
                ("catch_up_on_franchise", {}, "needs the argument title"),
                ("catch_up_on_franchise", {"title": "x\ny"}, "title"),
                ("tonights_pick", {"minutes": "0"}, "minutes"),
                ("tonights_pick", {"minutes": 90}, "minutes"),
                ("tonights_pick", {"mood": "sleepy"}, "mood"),
                ("tonights_pick", {"user_name": "a b"}, "user_name"),
                ("season_digest", {"season": "MONSOON"}, "season"),
                ("season_digest", {"year": "20x5"}, "year"),
                ("season_digest", {"colour": "red"}, "colour")):
            st, b = self.rpc("prompts/get", {"name": name,
                                             "arguments": args})
            self.assertEqual(b["error"]["code"], -32602, (name, args, b))
            self.assertIn(says, b["error"]["message"], (name, args))

    def prompt(self, name, args):
        st, b = self.rpc("prompts/get", {"name": name, "arguments": args})
        self.assertEqual(st, 200, b)
        msgs = b["result"]["messages"]
        self.assertEqual(len(msgs), 1)
        self.assertEqual(msgs[0]["role"], "user")
        self.assertEqual(msgs[0]["content"]["type"], "text")
        self.assertTrue(b["result"]["description"])
        return msgs[0]["content"]["text"]


class ListEntryDetailsTest(unittest.TestCase):
    """update_list_entry's dates, repeat count, notes and private flag,
    signed in through the real OAuth flow; a partial update changes only
    what it gives."""

    @classmethod
    def setUpClass(cls):
        cls.s = harness.Stack(workers=1, threads=4, postgres=True,
                              upstream_args=["--rate-limit", "0"])
        cls.s.start()
        cls.token = oauth_flow.grant(cls.s, user="detailsuser")[
            "access_token"]

    @classmethod
    def tearDownClass(cls):
        cls.s.stop()

    def put(self, media_id, body, status=200, token=True):
        h = {"Authorization": "Bearer " + self.token} if token else {}
        st, hdrs, b = self.s.json("PUT", "/v1/me/list/%d" % media_id, body,
                                  h)
        self.assertEqual(st, status, b)
        return hdrs, b

    def entry_at_anilist(self, media_id):
        """The entry as AniList (the sample) holds it, asked directly."""
        anilist = self.s.upstream("POST", "/__token",
                                  {"user": "detailsuser"})["access_token"]
        doc = ("query MediaListEntry($mediaId:Int){"
               "MediaList(mediaId:$mediaId){"
               "status repeat notes private startedAt{year month day} "
               "completedAt{year month day}}}")
        return self.s.upstream_graphql(doc, {"mediaId": media_id},
                                       anilist)["data"]["MediaList"]

    def test_details_set_then_changed_one_at_a_time(self):
        _, b = self.put(FRIEREN_2, {
            "status": "COMPLETED", "started_at": "2024-03-05",
            "completed_at": "2024-04", "repeat": 2, "notes": "great",
            "private": True})
        e = b["entry"]
        self.assertEqual((e["status"], e["started_at"], e["completed_at"],
                          e["repeat"], e["notes"], e["private"]),
                         ("COMPLETED", "2024-03-05", "2024-04", 2, "great",
                          True))
        self.assertIn("started 2024-03-05, finished 2024-04, rewatched 2 "
                      "times, private, with notes", b["text_summary"])
        _, b = self.put(FRIEREN_2, {"notes": "even better"})
        e = b["entry"]
        self.assertEqual((e["status"], e["started_at"], e["completed_at"],
                          e["repeat"], e["notes"], e["private"]),
                         ("COMPLETED", "2024-03-05", "2024-04", 2,
                          "even better", True))
        _, b = self.put(FRIEREN_2, {"started_at": "", "private": False})
        e = b["entry"]
        self.assertIsNone(e["started_at"])
        self.assertEqual(e["completed_at"], "2024-04")
        self.assertFalse(e["private"])
        held = self.entry_at_anilist(FRIEREN_2)
        self.assertEqual(held["startedAt"],
                         {"year": None, "month": None, "day": None})
        self.assertEqual(held["completedAt"],
                         {"year": 2024, "month": 4, "day": None})
        self.assertEqual((held["repeat"], held["notes"], held["private"]),
                         (2, "even better", False))

    def test_bad_details_are_refused_and_change_nothing(self):
        self.put(DR_STONE, {"status": "CURRENT", "repeat": 1})
        before = self.entry_at_anilist(DR_STONE)
        calls = self.s.upstream_requests()
        for body, field in (({"started_at": "2024-13-01"}, "started_at"),
                            ({"completed_at": "yesterday"}, "completed_at"),
                            ({"started_at": "24-01-01"}, "started_at"),
                            ({"completed_at": "1800"}, "completed_at"),
                            ({"repeat": 1001}, "repeat"),
                            ({"repeat": -1}, "repeat"),
                            ({"notes": "x" * 2001}, "notes"),
                            ({"private": "yes"}, "private")):
            _, b = self.put(DR_STONE, body, 400)
            self.assertEqual(b["error"]["field"], field, body)
            self.assertIn(field, b["error"]["message"])
        self.assertEqual(self.s.upstream_requests(), calls)
        self.assertEqual(self.entry_at_anilist(DR_STONE), before)

    def test_without_a_token_the_sign_in_challenge(self):
        h, b = self.put(DR_STONE, {"notes": "x"}, 401, token=False)
        self.assertTrue(h["www-authenticate"].startswith("Bearer "), h)
        self.assertIn("resource_metadata", h["www-authenticate"])

    def test_picks_from_the_signed_in_users_own_list(self):
        self.put(APOTHECARY, {"status": "PLANNING"})
        self.put(KAIJUU_2, {"status": "PLANNING"})
        h = {"Authorization": "Bearer " + self.token}
        calls = self.s.upstream_requests()
        st, _, cold = self.s.json("GET", "/v1/me/picks?minutes=60", None,
                                  h)
        self.assertEqual(st, 200, cold)
        self.assertEqual(self.s.upstream_requests() - calls, 1)
        st, _, warm = self.s.json("GET", "/v1/me/picks?minutes=60", None,
                                  h)
        self.assertEqual(self.s.upstream_requests() - calls, 1, "warm")
        cold.pop("source")
        warm.pop("source")
        self.assertEqual(cold, warm)
        self.assertTrue(cold["own_list"])
        self.assertEqual(cold["user"], "detailsuser")
        self.assertEqual(cold["considered"], 2)
        self.assertEqual(sorted(p["anime"]["id"] for p in cold["picks"]),
                         sorted([APOTHECARY, KAIJUU_2]))
        for p in cold["picks"]:
            m = BY_ID[p["anime"]["id"]]
            self.assertEqual(p["episodes_in_time"],
                             min(m["episodes"], 60 // m["duration"]))
        self.assertTrue(cold["text_summary"].startswith(
            "2 picks from your planning list in 60 minutes"), cold)

    def test_airing_of_the_signed_in_users_watching_and_completed(self):
        # Re:Zero 4th Season airs; Samurai Troopers has a sequel airing.
        rezero, troopers, part2 = 189046, 194318, 209800
        self.put(rezero, {"status": "CURRENT", "progress": 12})
        self.put(troopers, {"status": "COMPLETED"})
        at = BY_ID[rezero]["nextAiringEpisode"]["airingAt"]
        h = {"Authorization": "Bearer " + self.token}
        path = "/v1/me/airing?from=%d&days=2" % (at - 86400)
        calls = self.s.upstream_requests()
        st, _, cold = self.s.json("GET", path, None, h)
        self.assertEqual(st, 200, cold)
        self.assertEqual(self.s.upstream_requests() - calls, 3)
        st, _, warm = self.s.json("GET", path, None, h)
        self.assertEqual(self.s.upstream_requests() - calls, 3, "warm")
        cold.pop("source")
        warm.pop("source")
        self.assertEqual(cold, warm)
        mine = [e for e in cold["episodes"] if e["anime"]["id"] == rezero]
        self.assertEqual(len(mine), 1, cold)
        self.assertEqual((mine[0]["episode"], mine[0]["airing_at_unix"],
                          mine[0]["list_status"], mine[0]["progress"]),
                         (BY_ID[rezero]["nextAiringEpisode"]["episode"], at,
                          "CURRENT", 12))
        seq = [s for s in cold["sequels"] if s["anime"]["id"] == part2]
        self.assertEqual(len(seq), 1, cold)
        self.assertEqual(seq[0]["sequel_of"]["id"], troopers)
        self.assertEqual(seq[0]["anime"]["status"], BY_ID[part2]["status"])
        self.assertIn("Yoroi Shinden Samurai Troopers Part 2",
                      cold["text_summary"])
        st, h2, b = self.s.json("GET", "/v1/me/airing")
        self.assertEqual(st, 401, b)
        self.assertIn("resource_metadata", h2["www-authenticate"])

    def favourite(self, kind, fid, status=200):
        st, _, b = self.s.json("POST", "/v1/me/favourites",
                               {"kind": kind, "id": fid},
                               {"Authorization": "Bearer " + self.token})
        self.assertEqual(st, status, b)
        return b

    def own_profile(self):
        st, _, b = self.s.json("GET", "/v1/me/profile", None,
                               {"Authorization": "Bearer " + self.token})
        self.assertEqual(st, 200, b)
        return b

    def test_favourites_toggled_and_shown_on_the_profile(self):
        before = self.own_profile()
        self.assertTrue(before["own_profile"])
        self.assertEqual(before["user"]["name"], "detailsuser")
        self.assertEqual(before["favourites"]["anime"], [])
        b = self.favourite("anime", FRIEREN_2)
        self.assertEqual((b["kind"], b["id"], b["favourite"], b["total"]),
                         ("anime", FRIEREN_2, True, 1))
        self.assertIn("added to your favourites", b["text_summary"])
        # The cached profile was dropped: the change shows at once.
        fav = self.own_profile()["favourites"]
        self.assertEqual([f["id"] for f in fav["anime"]], [FRIEREN_2])
        self.assertEqual(fav["anime"][0]["title"]["romaji"],
                         BY_ID[FRIEREN_2]["title"]["romaji"])
        self.assertEqual(fav["totals"]["anime"], 1)
        calls = self.s.upstream_requests()
        self.own_profile()
        self.assertEqual(self.s.upstream_requests(), calls, "warm")
        b = self.favourite("anime", FRIEREN_2)
        self.assertFalse(b["favourite"])
        self.assertIn("removed from your favourites", b["text_summary"])
        self.assertEqual(self.own_profile()["favourites"]["anime"], [])
        st, _, ch = self.s.json("GET", "/v1/characters?search=Frieren")
        cid = ch["results"][0]["id"]
        b = self.favourite("character", cid)
        self.assertTrue(b["favourite"])
        fav = self.own_profile()["favourites"]
        self.assertEqual([f["id"] for f in fav["characters"]], [cid])
        self.assertEqual(fav["characters"][0]["name"],
                         ch["results"][0]["name"]["full"])

    def test_bad_favourites_are_refused_and_change_nothing(self):
        before = self.own_profile()["favourites"]
        calls = self.s.upstream_requests()
        for body, field in (({"kind": "manga", "id": 1}, "kind"),
                            ({"kind": "anime", "id": 0}, "id"),
                            ({"kind": "anime"}, "id"),
                            ({"id": FRIEREN_2}, "kind")):
            st, _, b = self.s.json("POST", "/v1/me/favourites", body,
                                   {"Authorization": "Bearer " + self.token})
            self.assertEqual(st, 400, b)
            self.assertEqual(b["error"]["field"], field, body)
        self.assertEqual(self.s.upstream_requests(), calls)
        b = self.favourite("studio", 999999999, 404)
        self.assertIn("studio with id 999999999", b["error"]["message"])
        self.assertEqual(self.own_profile()["favourites"], before)


if __name__ == "__main__":
    unittest.main(verbosity=2)
