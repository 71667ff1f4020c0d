"""test_breadth_widgets.py: the widgets of pick_from_my_list, get_my_airing,
get_staff_info, get_studio_info and get_user_profile, each rendered in
headless Chromium (tests/mcp-client/render-widget.mjs) from a real tool
result fetched over MCP through Caddy, memcached and the sample AniList,
with results that have data and results that are empty.

Signed-in results (a user's own airing and profile) come from a user signed
in through the real OAuth flow whose list is filled with update_list_entry;
the others use the public user-name variant of the sample user.
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
from test_breadth import schema_errors  # noqa: E402
from test_mcp import CHROMIUM, CLIENT_DIR, EVIL, IMAGE_HOSTS, npm_ci  # noqa: E402

harness.watchdog(240)

V11 = "2025-11-25"
with open(os.path.join(harness.TOP_SRCDIR, "tests", "anilist-sample", "data",
                       "sample-media.json"), encoding="utf-8") as f:
    BY_ID = {m["id"]: m for m in json.load(f)["media"]}

# Airing in the sample's week (its airing times are of August 2026):
# BLEACH: Sennen Kessen-hen - Kashin-tan and Tensei Shitara Slime Datta Ken
# 4th Season, watched; Kusuriya no Hitorigoto 2nd Season, completed, whose
# sequel (3rd Season) is announced.
BLEACH_PART = 185874
SLIME_4 = 182205
APOTHECARY_2 = 176301
APOTHECARY_3 = 195516
FRIEREN = 182255  # Sousou no Frieren 2nd Season
SAMPLE_WEEK = 1787400000


class BreadthWidgetsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        npm_ci()
        cls.s = harness.Stack(workers=1, threads=4, postgres=True,
                              upstream_args=["--rate-limit", "0"],
                              config={"WIDGETS_DIR": os.path.join(
                                  harness.TOP_SRCDIR, "widgets")})
        cls.s.start()
        cls.tmp = tempfile.mkdtemp(prefix="agpt-widgets-")
        st, b = cls.rpc("tools/list", {})
        assert st == 200, b
        cls.tools = {t["name"]: t for t in b["result"]["tools"]}
        cls.token = oauth_flow.grant(cls.s, user="widgetuser")[
            "access_token"]
        cls.empty_token = oauth_flow.grant(cls.s, user="newcomer")[
            "access_token"]

    @classmethod
    def tearDownClass(cls):
        cls.s.stop()
        harness.drop_screenshots(cls.tmp)

    # -- helpers --------------------------------------------------------
    @classmethod
    def rpc(cls, method, params, token=None):
        st, _, b = cls.s.mcp(method, params, token, V11)
        return st, b

    def result(self, name, arguments, token=None):
        """A tool's structuredContent over MCP, checked against its schema."""
        st, b = self.rpc("tools/call", {"name": name,
                                        "arguments": arguments}, token)
        self.assertEqual(st, 200, b)
        self.assertFalse(b["result"]["isError"], b)
        out = b["result"]["structuredContent"]
        self.assertEqual(schema_errors(self.tools[name]["outputSchema"], out),
                         [])
        return out

    def put(self, media_id, body):
        st, _, b = self.s.json("PUT", "/v1/me/list/%d" % media_id, body,
                               {"Authorization": "Bearer " + self.token})
        self.assertEqual(st, 200, b)

    def template(self, tool, uri):
        meta = self.tools[tool]["_meta"]
        self.assertEqual(meta["openai/outputTemplate"], uri)
        self.assertEqual(meta["ui"]["resourceUri"],
                         uri.replace(".html", ".app.html"))

    def render(self, uri, output, name, mode="openai"):
        """Render uri's template (as resources/read serves it) with output
        in headless Chromium: {text, cards, images, …}."""
        self.assertTrue(os.access(CHROMIUM, os.X_OK),
                        "Debian chromium is needed (apt-get install chromium)")
        if mode != "openai":
            uri = uri.replace(".html", ".app.html")
        st, b = self.rpc("resources/read", {"uri": uri})
        self.assertEqual(st, 200, b)
        content = b["result"]["contents"][0]
        self.assertEqual(content["_meta"]["ui"]["csp"]["connectDomains"], [])
        html = os.path.join(self.tmp, name + ".html")
        with open(html, "w") as f:
            f.write(content["text"])
        out = os.path.join(self.tmp, name + ".json")
        with open(out, "w") as f:
            json.dump(output, f)
        shot = os.path.join(self.tmp, name + ".png")
        env = dict(os.environ, NODE_EXTRA_CA_CERTS=self.s.ca)
        p = subprocess.run(["node", os.path.join(CLIENT_DIR,
                                                 "render-widget.mjs"),
                            html, out, shot, mode], cwd=CLIENT_DIR,
                           env=env, capture_output=True, text=True,
                           timeout=120)
        r = json.loads(p.stdout.strip().splitlines()[-1])
        self.assertEqual(p.returncode, 0, r.get("error"))
        with open(shot, "rb") as f:
            self.assertGreater(len(f.read()), 5000)
        self.assertFalse(r["scriptRan"], "a value ran as script")
        for u in r["requests"] + r["images"]:
            self.assertTrue(u.startswith(IMAGE_HOSTS), u)
        self.assertNotIn("This result cannot be shown", r["text"])
        return r

    @staticmethod
    def title(t):
        return t.get("english") or t.get("romaji")

    # -- pick_from_my_list ------------------------------------------------
    def test_picks_widget(self):
        self.template("pick_from_my_list", "ui://widget/picks.html")
        body = self.result("pick_from_my_list", {"user_name": "sampleuser",
                                                 "count": 4})
        self.assertEqual(len(body["picks"]), 4)
        evil = json.loads(json.dumps(body))
        evil["picks"][0]["anime"]["title"]["english"] = EVIL + "Evil"
        evil["picks"][1]["reasons"][0] = EVIL + " reason"
        r = self.render("ui://widget/picks.html", evil, "picks")
        self.assertEqual(r["cards"], 4)
        self.assertIn("Picks from sampleuser's planning list", r["text"])
        self.assertIn("sampleuser's list leans to " +
                      body["profile"]["genres"][0]["name"], r["text"])
        self.assertIn(EVIL + "Evil", r["text"])
        self.assertIn(EVIL + " reason", r["text"])
        for i, p in enumerate(body["picks"]):
            if i > 0:
                self.assertIn(self.title(p["anime"]["title"]), r["text"])
            self.assertIn("#%d" % (i + 1), r["text"])
            self.assertIn(p["reasons"][-1], r["text"])
            self.assertIn("score %d%%" % round(p["score"] * 100), r["text"])
        self.assertTrue(r["images"])

    def test_picks_widget_with_nothing_that_fits(self):
        body = self.result("pick_from_my_list", {"user_name": "sampleuser",
                                                 "minutes": 1,
                                                 "mood": "cozy"})
        self.assertEqual(body["picks"], [])
        self.assertTrue(body["notes"])
        r = self.render("ui://widget/picks.html", body, "picks-empty",
                        "mcp-app")
        self.assertEqual(r["cards"], 0)
        self.assertIn("Nothing to pick from sampleuser's planning list for "
                      "a cozy mood in 1 minute (%d titles on it)."
                      % body["considered"], r["text"])
        for n in body["notes"]:
            self.assertIn(n, r["text"])

    # -- get_my_airing ----------------------------------------------------
    def test_airing_widget_of_a_signed_in_users_list(self):
        self.template("get_my_airing", "ui://widget/my-airing.html")
        self.put(BLEACH_PART, {"status": "CURRENT", "progress": 3})
        self.put(SLIME_4, {"status": "CURRENT"})
        self.put(APOTHECARY_2, {"status": "COMPLETED"})
        body = self.result("get_my_airing", {"from": SAMPLE_WEEK,
                                             "days": 14}, self.token)
        self.assertTrue(body["own_list"])
        self.assertEqual({e["anime"]["id"] for e in body["episodes"]},
                         {BLEACH_PART, SLIME_4})
        self.assertIn(APOTHECARY_3, [s["anime"]["id"]
                                     for s in body["sequels"]])
        for mode in ("openai", "mcp-app"):
            r = self.render("ui://widget/my-airing.html", body,
                            "airing-" + mode, mode)
            self.assertEqual(r["cards"], len(body["episodes"]) +
                             len(body["sequels"]))
            self.assertIn("Airing for you", r["text"])
            self.assertIn("2 episodes airing", r["text"])
            self.assertIn("Sequels of titles you completed", r["text"])
            for e in body["episodes"]:
                self.assertIn(self.title(e["anime"]["title"]), r["text"])
                self.assertIn("Episode %d" % e["episode"], r["text"])
            self.assertIn("Watching, seen 3", r["text"])
            self.assertIn("Sequel of " + self.title(
                BY_ID[APOTHECARY_2]["title"]), r["text"])
            self.assertTrue(r["images"])

    def test_airing_widget_with_nothing_airing(self):
        # The sample user plans only finished titles and completed none.
        body = self.result("get_my_airing", {"user_name": "sampleuser"})
        self.assertEqual((body["episodes"], body["sequels"]), ([], []))
        r = self.render("ui://widget/my-airing.html", body, "airing-empty")
        self.assertEqual(r["cards"], 0)
        self.assertIn("Airing for sampleuser", r["text"])
        self.assertIn("Nothing on sampleuser's list airs in these days",
                      r["text"])

    # -- get_staff_info, get_studio_info ---------------------------------
    def test_works_widget_of_a_person(self):
        self.template("get_staff_info", "ui://widget/works.html")
        body = self.result("get_staff_info", {"search": "Makoto Shinkai"})
        p = body["staff"]
        self.assertTrue(p["works"])
        r = self.render("ui://widget/works.html", body, "staff")
        self.assertEqual(r["cards"], len(p["works"]))
        self.assertIn("Makoto Shinkai", r["text"])
        self.assertIn("%d anime on AniList" % p["works_total"], r["text"])
        self.assertIn("Best-known works of Makoto Shinkai", r["text"])
        for w in p["works"]:
            self.assertIn(self.title(w["title"]), r["text"])
            self.assertIn(w["role"], r["text"])
            self.assertIn(str(w["year"]), r["text"])

    def test_works_widget_of_a_studio(self):
        self.template("get_studio_info", "ui://widget/works.html")
        body = self.result("get_studio_info", {"search": "MAPPA"})
        s = body["studio"]
        r = self.render("ui://widget/works.html", body, "studio", "mcp-app")
        self.assertEqual(r["cards"], len(s["titles"]))
        self.assertIn("Most popular titles of MAPPA", r["text"])
        self.assertIn("Animation studio \u00b7 %d titles on AniList \u00b7 "
                      "Titles from %d to %d" % (
                          s["titles_total"], s["years_active"]["from"],
                          s["years_active"]["to"]), r["text"])
        self.assertIn(self.title(s["titles"][0]["title"]), r["text"])

    def test_works_widget_with_no_works(self):
        # On AniList a person credited only on manga has no anime works;
        # the sample credits everyone with one, so this is a real answer
        # with its lists emptied, still valid against the output schema.
        body = self.result("get_staff_info", {"search": "Makoto Shinkai"})
        body["staff"]["works"] = []
        body["staff"]["voice_roles"] = []
        self.assertEqual(schema_errors(
            self.tools["get_staff_info"]["outputSchema"], body), [])
        r = self.render("ui://widget/works.html", body, "staff-empty")
        self.assertEqual(r["cards"], 0)
        self.assertIn("Makoto Shinkai", r["text"])
        self.assertIn("AniList lists no anime for Makoto Shinkai.",
                      r["text"])
        self.assertNotIn("Best-known works", r["text"])

    # -- get_user_profile -------------------------------------------------
    def test_profile_widget_of_a_public_user(self):
        self.template("get_user_profile", "ui://widget/user-profile.html")
        body = self.result("get_user_profile", {"user_name": "sampleuser"})
        r = self.render("ui://widget/user-profile.html", body, "profile")
        self.assertIn("sampleuser's anime profile", r["text"])
        self.assertIn("%d\ntitles on the list" % body["anime"]["count"],
                      r["text"])
        self.assertIn("mean score (nothing scored)", r["text"])
        self.assertIn("Planning", r["text"])
        for g in body["genres"]:
            self.assertIn(g["name"], r["text"])
        self.assertIn("sampleuser has no favourites on AniList yet.",
                      r["text"])

    def test_profile_widget_of_the_signed_in_user(self):
        self.put(FRIEREN, {"status": "COMPLETED", "score": 90})
        st, b = self.rpc("tools/call", {"name": "toggle_favourite",
                                        "arguments": {"kind": "anime",
                                                      "id": FRIEREN}},
                         self.token)
        self.assertFalse(b["result"]["isError"], b)
        body = self.result("get_user_profile", {}, self.token)
        self.assertTrue(body["own_profile"])
        self.assertIn(FRIEREN, [a["id"] for a in
                                body["favourites"]["anime"]])
        r = self.render("ui://widget/user-profile.html", body, "profile-own",
                        "mcp-app")
        self.assertIn("Your anime profile (widgetuser)", r["text"])
        self.assertIn("Favourites", r["text"])
        self.assertIn(self.title(BY_ID[FRIEREN]["title"]), r["text"])
        self.assertIn("Completed", r["text"])
        self.assertIn("mean score", r["text"])

    def test_profile_widget_of_an_empty_list(self):
        body = self.result("get_user_profile", {}, self.empty_token)
        self.assertEqual(body["anime"]["count"], 0)
        r = self.render("ui://widget/user-profile.html", body,
                        "profile-empty")
        self.assertIn("Your anime profile (newcomer)", r["text"])
        self.assertIn("Your list has no anime yet.", r["text"])
        self.assertIn("You have no favourites on AniList yet.", r["text"])


if __name__ == "__main__":
    unittest.main()
