"""test_recommend.py: get_anime_recommendations, feedback and accuracy on the real stack.

Caddy, the service, memcached, PostgreSQL and the sample upstream (with its
synthesised community recommendations switched on). Title resolution in
every spelling, exclusions, adult titles, franchise filtering, reasons
checked against the sample data itself, the taste profile of the seeded
user changing when scores change (saved through the sample's GraphQL API),
the signed-in user's own list, a 400 for every bad parameter (without an
AniList call), feedback accounting and the list-add hook, the AniList call
budget counted by the sample upstream (at most 3 cold, 0 warm), and the
database going down.
"""
import json
import os
import subprocess
import sys
import time
import unittest
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import TOP_BUILDDIR, TOP_SRCDIR, Stack, wait_for, watchdog  # noqa: E402,E501
from test_accounts import Browser  # noqa: E402

watchdog(110)

with open(os.path.join(TOP_SRCDIR, "tests", "anilist-sample", "data",
                       "sample-media.json"), encoding="utf-8") as f:
    MEDIA = json.load(f)["media"]
BY_ID = {m["id"]: m for m in MEDIA}

# Seconds a user's list stays cached in this stack (CACHE_TTL_USER_LIST).
LIST_TTL = 3

CHAINSAW_MAN = 127230           # siblings: Reze-hen, Chainsaw Biyori
EMINENCE = 130298               # Kage no Jitsuryokusha ni Naritakute!
ADULT = 1401                    # adult; its community recommendations too

SAVE_ENTRY = ("mutation SaveListEntry($mediaId:Int,$status:MediaListStatus,"
              "$scoreRaw:Int){SaveMediaListEntry(mediaId:$mediaId,"
              "status:$status,scoreRaw:$scoreRaw){id mediaId status}}")
DETAILS = ("query MediaDetails($id:Int){Media(id:$id){id "
           "recommendations{nodes{rating mediaRecommendation{id}}}}}")
USER_LIST = ("query UserList($userName:String,$type:MediaType){"
             "MediaListCollection(userName:$userName,type:$type){"
             "lists{entries{mediaId}}}}")


def url(path="/v1/recommendations", **params):
    return path + "?" + urllib.parse.urlencode(params, doseq=True)


def siblings(mid):
    """Titles sharing at least two main characters (the sample's rule)."""
    count = {}
    for name in BY_ID[mid].get("mainCharacterNames") or []:
        holders = [m["id"] for m in MEDIA
                   if name in (m.get("mainCharacterNames") or [])]
        if len(holders) > 10:
            continue
        for other in holders:
            if other != mid:
                count[other] = count.get(other, 0) + 1
    return {k for k, v in count.items() if v >= 2}


def animation_studios(m):
    nodes = (m.get("studios") or {}).get("nodes") or []
    return {s["name"] for s in nodes if s.get("isAnimationStudio")}


class RecommendTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # THREADS as shipped: a cold similar asks three things at once
        # (the community's picks and two searches) beside the reserve.
        cls.s = Stack(workers=2, threads=8, postgres=True,
                      upstream_args=["--rate-limit", "0"],
                      config={"UPSTREAM_RATE_LIMIT": "90",
                              # a request's own searches surely meet
                              "UPSTREAM_BATCH_MS": "100",
                              "CACHE_TTL_USER_LIST": str(LIST_TTL)})
        cls.s.start()
        cls.community()

    @classmethod
    def tearDownClass(cls):
        cls.s.stop()

    # -- helpers -------------------------------------------------------
    @classmethod
    def community(cls):
        cls.s.upstream("POST", "/__config",
                       {"community_recommendations": True})

    def get(self, path, status=200, headers=None):
        st, h, body = self.s.json("GET", path, headers=headers)
        self.assertEqual(st, status, "%s: %r" % (path, body))
        return body

    def ids(self, body):
        return [r["anime"]["id"] for r in body["recommendations"]]

    def bad(self, path, field, status=400, headers=None):
        """A refused request: the status, the field, no AniList call."""
        before = self.s.upstream_requests()
        body = self.get(path, status, headers=headers)
        got = body["error"]["field"]
        self.assertTrue(got == field or got.startswith(field + "["), body)
        self.assertTrue(body["error"]["message"])
        self.assertEqual(self.s.upstream_requests(), before, path)
        return body

    def login(self, user="sampleuser"):
        b = Browser(self.s)
        status, where, _, body = b.follow(self.s.url("/auth/login"),
                                          user=user)
        self.assertEqual(status, 200, body)
        me = json.loads(body)
        return {"Cookie": "__Host-agpt_session=" +
                b.cookie("__Host-agpt_session")}, me["user"]["id"]

    def graphql(self, doc, variables, token=None):
        h = {"Content-Type": "application/json"}
        if token:
            h["Authorization"] = "Bearer " + token
        name = doc.split("(")[0].split()[1]
        req = urllib.request.Request(
            self.s.upstream_url + "/", method="POST", headers=h,
            data=json.dumps({"query": doc, "operationName": name,
                             "variables": variables}).encode())
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())

    def list_ids(self, user="sampleuser"):
        coll = self.graphql(USER_LIST, {"userName": user, "type": "ANIME"})
        return {e["mediaId"] for group in
                coll["data"]["MediaListCollection"]["lists"]
                for e in group["entries"]}

    def feedback(self, body, status=201, headers=None):
        st, _, out = self.s.json("POST", "/v1/recommendations/feedback",
                                 body, headers=headers)
        self.assertEqual(st, status, "%r: %r" % (body, out))
        return out

    def feedback_metric(self, action):
        """recommendation_feedback_total{action} summed over /metrics."""
        want = 'recommendation_feedback_total{action="%s"}' % action
        total = 0
        for line in self.s.metrics().splitlines():
            if line.startswith(want + " "):
                total += float(line.split()[-1])
        return total

    def events(self):
        return int(self.s.psql(
            "SELECT count(*) FROM recommendation_events")[0][0])

    # -- title resolution ----------------------------------------------
    def test_title_resolves_in_every_spelling(self):
        t = BY_ID[EMINENCE]
        for title in (t["title"]["romaji"], t["title"]["english"],
                      t["title"]["native"], t["synonyms"][0],
                      t["title"]["english"].swapcase(),
                      "  " + t["title"]["romaji"].upper() + " "):
            body = self.get(url(reference_title=title, count=3))
            self.assertEqual(body["reference"]["id"], EMINENCE, title)
            self.assertEqual(body["recommendation_type"], "similar")
            self.assertNotIn(EMINENCE, self.ids(body))

    def test_unknown_title_is_404_naming_the_field(self):
        body = self.get(url(reference_title="Qwzx Nonexistent Vortex"), 404)
        self.assertEqual(body["error"]["code"], "not_found")
        self.assertEqual(body["error"]["field"], "reference_title")

    def test_unknown_id_is_404_naming_the_field(self):
        body = self.get(url(reference_anime_id=999999999), 404)
        self.assertEqual(body["error"]["field"], "reference_anime_id")

    # -- the answer, exclusions, adult titles, franchise ----------------
    def test_answer_shape_and_count(self):
        body = self.get(url(reference_anime_id=CHAINSAW_MAN, count=7))
        self.assertEqual(body["reference"]["id"], CHAINSAW_MAN)
        self.assertEqual(len(body["recommendations"]), 7)
        scores = []
        for r in body["recommendations"]:
            self.assertEqual(set(r), {"anime", "score", "reasons"})
            self.assertTrue(0 <= r["score"] <= 1)
            self.assertTrue(r["reasons"])
            self.assertIn("title", r["anime"])
            self.assertFalse(r["anime"]["is_adult"])
            scores.append(r["score"])
        self.assertEqual(len(set(self.ids(body))), 7)
        self.assertIn("Chainsaw Man", body["text_summary"])
        self.assertIn(body["source"]["cache"], ("hit", "miss"))

    def test_the_community_picks_come_in_full(self):
        # A title's details list the community's picks lightly (no cover,
        # no description: the sample, like AniList, answers only what is
        # asked); similar completes them with MediaByIds, in the request
        # that carries its candidate searches.
        self.s.flush_memcached()
        st, _, details = self.s.json("GET", "/v1/anime/%d" % CHAINSAW_MAN)
        self.assertEqual(st, 200, details)
        self.assertTrue(details["anime"]["recommendations"], details)
        picks = [n["mediaRecommendation"]["id"] for n in self.graphql(
            DETAILS, {"id": CHAINSAW_MAN})["data"]["Media"]
            ["recommendations"]["nodes"]]
        n = self.s.upstream_requests()
        # (a count no other test asks: no worker keeps this answer)
        body = self.get(url(reference_anime_id=CHAINSAW_MAN, count=18))
        self.assertEqual(self.s.upstream_requests() - n, 1)
        # The picks shown (their reason says so) are complete.
        rated = [r["anime"] for r in body["recommendations"]
                 if any(x.startswith("recommended by ")
                        for x in r["reasons"])]
        self.assertTrue(rated, body)
        for a in rated:
            self.assertIn(a["id"], picks)
            self.assertTrue(a["cover_image"], a)
            self.assertTrue(a["description"], a)
            self.assertTrue(a["studios"], a)

    def test_exclude_ids_are_left_out(self):
        first = self.ids(self.get(url(reference_anime_id=CHAINSAW_MAN,
                                      count=5)))
        body = self.get(url(reference_anime_id=CHAINSAW_MAN, count=5,
                            exclude_ids=first[:3]))
        again = self.ids(body)
        self.assertEqual(len(again), 5)
        self.assertFalse(set(first[:3]) & set(again))
        # comma-separated works too
        body = self.get(url(reference_anime_id=CHAINSAW_MAN, count=5,
                            exclude_ids=",".join(map(str, first))))
        self.assertFalse(set(first) & set(self.ids(body)))

    def test_franchise_left_out_unless_include_related(self):
        sib = siblings(CHAINSAW_MAN)
        self.assertTrue(sib)
        plain = self.get(url(reference_anime_id=CHAINSAW_MAN, count=20))
        self.assertFalse(sib & set(self.ids(plain)), plain["text_summary"])
        related = self.get(url(reference_anime_id=CHAINSAW_MAN, count=20,
                               include_related="true"))
        found = [r for r in related["recommendations"]
                 if r["anime"]["id"] in sib]
        self.assertTrue(found, related["text_summary"])
        for r in found:
            self.assertTrue(r["reasons"][0].startswith(
                "same franchise as Chainsaw Man"), r["reasons"])

    def test_adult_titles_only_when_asked(self):
        body = self.get(url(reference_anime_id=ADULT), 404)
        self.assertEqual(body["error"]["field"], "reference_anime_id")
        self.assertIn("include_adult", body["error"]["message"])
        body = self.get(url(reference_anime_id=ADULT, include_adult="true",
                            count=20))
        self.assertEqual(body["reference"]["id"], ADULT)
        self.assertTrue(any(r["anime"]["is_adult"]
                            for r in body["recommendations"]))
        for q in (url(reference_anime_id=CHAINSAW_MAN, count=20),
                  url(recommendation_type="trending_genre",
                      reference_anime_id=CHAINSAW_MAN, count=20)):
            for r in self.get(q)["recommendations"]:
                self.assertFalse(BY_ID[r["anime"]["id"]]["isAdult"], q)

    def test_reasons_match_the_data(self):
        ref = BY_ID[CHAINSAW_MAN]
        details = self.graphql(DETAILS, {"id": CHAINSAW_MAN})["data"]["Media"]
        ratings = {n["mediaRecommendation"]["id"]: n["rating"]
                   for n in details["recommendations"]["nodes"]}
        body = self.get(url(reference_anime_id=CHAINSAW_MAN, count=20))
        rated = 0
        for r in body["recommendations"]:
            m = BY_ID[r["anime"]["id"]]
            for reason in r["reasons"]:
                if reason.startswith("shares "):
                    for name in reason[len("shares "):].split(", "):
                        both = (set(ref["genres"]) & set(m["genres"])) | (
                            {t["name"] for t in ref["tags"]} &
                            {t["name"] for t in m["tags"]})
                        self.assertIn(name, both, (m["id"], reason))
                elif reason.startswith("same studio "):
                    for name in reason[len("same studio "):].split(", "):
                        self.assertIn(name, animation_studios(ref))
                        self.assertIn(name, animation_studios(m))
                elif reason.startswith("recommended by "):
                    n = int(reason.split()[2])
                    self.assertEqual(n, ratings[m["id"]], reason)
                    self.assertEqual(reason, "recommended by %d AniList "
                                     "users" % n)
                    rated += 1
                elif reason.startswith("also adapted from "):
                    self.assertEqual(ref["source"], m["source"])
                elif reason == "also an original story":
                    self.assertEqual(m["source"], "ORIGINAL")
                    self.assertEqual(ref["source"], "ORIGINAL")
                else:
                    self.fail("unexpected reason %r" % reason)
        self.assertGreater(rated, 0)

    def test_trending_genre_from_a_reference(self):
        body = self.get(url(recommendation_type="trending_genre",
                            reference_title="Chainsaw Man", count=10))
        self.assertEqual(body["reference"]["id"], CHAINSAW_MAN)
        genres = body["genres"]
        self.assertEqual(genres, BY_ID[CHAINSAW_MAN]["genres"][:3])
        for r in body["recommendations"]:
            first = r["reasons"][0]
            self.assertTrue(first.startswith("trending now in "), first)
            named = first[len("trending now in "):].split(", ")
            for g in named:
                self.assertIn(g, genres)
                self.assertIn(g, BY_ID[r["anime"]["id"]]["genres"])

    # -- taste profiles --------------------------------------------------
    def test_taste_profile_changes_when_scores_change(self):
        try:
            q = url(recommendation_type="taste_profile",
                    user_name="sampleuser", count=10)
            before = self.get(q)
            self.assertEqual(before["reference"], None)
            weights = {g["name"]: g["weight"]
                       for g in before["profile"]["genres"]}
            self.assertNotEqual(before["profile"]["genres"][0]["name"],
                                "Romance")
            token = self.s.upstream("POST", "/__token",
                                    {"user": "sampleuser"})["access_token"]
            loved = [181444, 184951, 14813]        # romance, scored 95
            hated = [16498, 137822]                # action, dropped at 10
            for mid in loved:
                self.graphql(SAVE_ENTRY, {"mediaId": mid, "scoreRaw": 95,
                                          "status": "COMPLETED"}, token)
            for mid in hated:
                self.graphql(SAVE_ENTRY, {"mediaId": mid, "scoreRaw": 10,
                                          "status": "DROPPED"}, token)
            time.sleep(LIST_TTL + 0.3)
            after = self.get(q)
            top = after["profile"]["genres"][0]
            after_weights = {g["name"]: g["weight"]
                             for g in after["profile"]["genres"]}
            # Romance leads (Comedy, in every loved title, may tie).
            self.assertEqual(after_weights.get("Romance"), top["weight"],
                             after["profile"])
            self.assertGreater(top["weight"], weights.get("Romance", 0))
            self.assertLess(after_weights.get("Action", -1),
                            weights.get("Action", 0))
            listed = self.list_ids()
            self.assertEqual(after["profile"]["entries"], len(listed))
            self.assertGreater(after["profile"]["entries"],
                               before["profile"]["entries"])
            self.assertNotEqual(self.ids(before), self.ids(after))
            self.assertFalse(listed & set(self.ids(after)))
            liked = [r for r in after["recommendations"]
                     if "Romance" in r["anime"]["genres"]]
            self.assertTrue(liked)
            self.assertTrue(any(x.startswith("fits genres you rate "
                                             "highly: Romance")
                                for r in liked for x in r["reasons"]))
        finally:
            self.s.upstream_reset()
            self.community()

    def test_own_list_needs_a_sign_in_and_leaves_the_list_out(self):
        body = self.get(url(recommendation_type="taste_profile"), 401)
        self.assertEqual(body["error"]["code"], "unauthenticated")
        headers, _ = self.login()
        body = self.get(url(recommendation_type="taste_profile", count=20),
                        headers=headers)
        listed = self.list_ids()
        self.assertEqual(body["profile"]["entries"], len(listed))
        self.assertEqual(len(body["recommendations"]), 20)
        self.assertFalse(listed & set(self.ids(body)))
        self.assertIn("for your taste", body["text_summary"])
        trending = self.get(url(recommendation_type="trending_genre"),
                            headers=headers)
        self.assertFalse(listed & set(self.ids(trending)))
        self.assertEqual(trending["genres"],
                         [g["name"] for g in
                          trending["profile"]["genres"][:2]])
        st, h, _ = self.s.json("GET", url(recommendation_type="taste_"
                                          "profile"),
                               headers={"Authorization": "Bearer nope"})
        self.assertEqual(st, 401)
        self.assertIn("Bearer", h["www-authenticate"])

    def test_unknown_user_is_404(self):
        body = self.get(url(recommendation_type="taste_profile",
                            user_name="nobody_here_at_all"), 404)
        self.assertEqual(body["error"]["field"], "user_name")

    # -- validation --------------------------------------------------------
    def test_every_bad_parameter_is_400_without_an_anilist_call(self):
        ref = {"reference_anime_id": CHAINSAW_MAN}
        cases = [
            ({"reference_anime_id": "abc"}, "reference_anime_id"),
            ({"reference_anime_id": 0}, "reference_anime_id"),
            ({"reference_anime_id": 2147483648}, "reference_anime_id"),
            ({"reference_anime_id": [1, 2]}, "reference_anime_id"),
            ({"reference_title": ""}, "reference_title"),
            ({"reference_title": "x" * 201}, "reference_title"),
            ({"reference_title": "!!! ?"}, "reference_title"),
            (dict(ref, reference_title="Chainsaw Man"), "reference_title"),
            (dict(ref, recommendation_type="best"), "recommendation_type"),
            (dict(ref, count=0), "count"),
            (dict(ref, count=21), "count"),
            (dict(ref, count="ten"), "count"),
            (dict(ref, exclude_ids="a"), "exclude_ids"),
            (dict(ref, exclude_ids=0), "exclude_ids"),
            (dict(ref, exclude_ids=",".join(["5"] * 101)), "exclude_ids"),
            (dict(ref, include_adult="maybe"), "include_adult"),
            (dict(ref, include_related="perhaps"), "include_related"),
            (dict(ref, user_name="sampleuser"), "user_name"),
            ({"recommendation_type": "taste_profile",
              "user_name": "bad name!"}, "user_name"),
            ({"recommendation_type": "taste_profile",
              "user_name": "u" * 51}, "user_name"),
            ({"recommendation_type": "taste_profile",
              "user_name": "sampleuser", "reference_anime_id": 5},
             "reference_anime_id"),
            ({"recommendation_type": "trending_genre"},
             "reference_anime_id"),
            ({"recommendation_type": "trending_genre",
              "reference_title": "Chainsaw Man", "user_name": "sampleuser"},
             "user_name"),
            ({}, "reference_anime_id"),
            (dict(ref, colour="blue"), "colour"),
        ]
        for params, field in cases:
            self.bad(url(**params), field)
        self.bad(url(recommendation_type="taste_profile"), "user_name", 401)

    # -- feedback ------------------------------------------------------------
    def test_feedback_accounting_and_accuracy(self):
        before = self.get("/v1/stats/recommendations?window_days=7")
        n = self.events()
        counted = {a: self.feedback_metric(a) for a in
                   ("accepted", "dismissed", "added_to_list")}
        for action in ("accepted", "accepted", "dismissed", "shown"):
            out = self.feedback({"anime_id": 5114, "action": action,
                                 "reference": CHAINSAW_MAN})
            self.assertEqual(out["recorded_for"], "anonymous")
            self.assertEqual(out["reference"], str(CHAINSAW_MAN))
        headers, uid = self.login()
        out = self.feedback({"anime_id": 5114, "action": "added_to_list",
                             "reference": "taste_profile"}, headers=headers)
        self.assertEqual(out["recorded_for"], "user")
        rows = self.s.psql("SELECT user_id, event, source FROM "
                           "recommendation_events WHERE id = :'p1'",
                           str(out["id"]))
        self.assertEqual(rows, [[str(uid), "added_to_list",
                                 "taste_profile"]])
        anon = self.s.psql("SELECT count(*) FROM recommendation_events "
                           "WHERE user_id IS NULL AND media_id = 5114")
        self.assertEqual(anon, [["4"]])
        self.assertEqual(self.events(), n + 5)
        after = self.get("/v1/stats/recommendations?window_days=7")
        ev, ev0 = after["events"], before["events"]
        self.assertEqual(ev["accepted"], ev0["accepted"] + 2)
        self.assertEqual(ev["dismissed"], ev0["dismissed"] + 1)
        self.assertEqual(ev["added_to_list"], ev0["added_to_list"] + 1)
        self.assertEqual(ev["shown"], ev0["shown"] + 1)
        good = ev["accepted"] + ev["added_to_list"]
        self.assertEqual(after["accepted"], good)
        self.assertAlmostEqual(after["accuracy"],
                               good / (good + ev["dismissed"]), places=4)
        # The same events as a metric (recommendation_feedback_total).
        for action, more in (("accepted", 2), ("dismissed", 1),
                             ("added_to_list", 1)):
            self.assertEqual(self.feedback_metric(action),
                             counted[action] + more, action)
        db = self.s.psql(
            "SELECT count(*) FILTER (WHERE event IN ('accepted', "
            "'added_to_list')), count(*) FILTER (WHERE event = 'dismissed') "
            "FROM recommendation_events "
            "WHERE created_at > now() - interval '7 days'")[0]
        self.assertEqual([after["accepted"], after["dismissed"]],
                         [int(db[0]), int(db[1])])

    def test_bad_feedback_is_400_and_stores_nothing(self):
        n = self.events()
        cases = [
            ({"action": "accepted"}, "anime_id"),
            ({"anime_id": "5", "action": "accepted"}, "anime_id"),
            ({"anime_id": 0, "action": "accepted"}, "anime_id"),
            ({"anime_id": 2147483648, "action": "accepted"}, "anime_id"),
            ({"anime_id": 5}, "action"),
            ({"anime_id": 5, "action": "liked"}, "action"),
            ({"anime_id": 5, "action": "accepted", "reference": {}},
             "reference"),
            ({"anime_id": 5, "action": "accepted", "reference": ""},
             "reference"),
            ({"anime_id": 5, "action": "accepted", "reference": "r" * 101},
             "reference"),
            ({"anime_id": 5, "action": "accepted", "why": "fun"}, "why"),
        ]
        for body, field in cases:
            out = self.feedback(body, 400)
            self.assertEqual(out["error"]["field"], field, body)
        for raw in (b"", b"not json", b"[1,2]", b'{"anime_id":5} x',
                    b"\xff\xfe"):
            st, _, body = self.s.request("POST", "/v1/recommendations/"
                                         "feedback", raw, {"Content-Type":
                                                           "application/"
                                                           "json"})
            self.assertEqual(st, 400, raw)
        out = self.feedback({"anime_id": 5, "action": "accepted"}, 401,
                            headers={"Authorization": "Bearer junk"})
        self.assertEqual(self.events(), n)
        for q in ("window_days=0", "window_days=366", "window_days=x",
                  "days=3"):
            body = self.get("/v1/stats/recommendations?" + q, 400)
            self.assertIn(body["error"]["field"], ("window_days", "days"))

    def test_list_add_counts_as_accepted_once(self):
        headers, uid = self.login()
        # Shown events are stored for our own pages, not a cross-site link.
        shown = self.ids(self.get(url(reference_anime_id=EMINENCE, count=3),
                                  headers=dict(headers, **{
                                      "Sec-Fetch-Site": "same-origin"})))
        rows = self.s.psql("SELECT count(*) FROM recommendation_events WHERE "
                           "user_id = :'p1' AND event = 'shown' AND source = "
                           "'%d'" % EMINENCE, str(uid))
        self.assertGreaterEqual(int(rows[0][0]), 3)
        driver = os.path.join(TOP_BUILDDIR, "tests", "integration",
                              "feedback-driver")

        def hook(mid):
            out = subprocess.run([driver, "-c", self.s.config_path,
                                  str(uid), str(mid)], capture_output=True,
                                 timeout=30, text=True)
            self.assertEqual(out.returncode, 0, out.stderr)
            return json.loads(out.stdout)["recorded"]

        before = self.get("/v1/stats/recommendations")
        self.assertTrue(hook(shown[0]))
        self.assertFalse(hook(shown[0]))         # credited once
        self.assertFalse(hook(999999))           # never recommended
        after = self.get("/v1/stats/recommendations")
        self.assertEqual(after["events"]["added_to_list"],
                         before["events"]["added_to_list"] + 1)
        rows = self.s.psql("SELECT source FROM recommendation_events WHERE "
                           "user_id = :'p1' AND event = 'added_to_list' AND "
                           "media_id = %d" % shown[0], str(uid))
        self.assertEqual(rows, [[str(EMINENCE)]])

    # -- the AniList call budget ---------------------------------------------
    def test_budget_two_calls_cold_none_warm(self):
        headers, _ = self.login()
        self.s.flush_memcached()
        requests = [
            (url(reference_anime_id=16498), None),
            (url(reference_title="Blue Lock"), None),
            (url(recommendation_type="taste_profile",
                 user_name="sampleuser"), None),
            (url(recommendation_type="trending_genre",
                 reference_title="SAKAMOTO DAYS"), None),
            (url(recommendation_type="trending_genre",
                 reference_anime_id=142838), None),
            (url(recommendation_type="taste_profile"), headers),
            (url(recommendation_type="trending_genre"), headers),
        ]
        for i, (q, h) in enumerate(requests):
            n = self.s.upstream_requests()
            cold = self.get(q, headers=h)
            spent = self.s.upstream_requests() - n
            # The candidate searches share one request: 2 calls, 3 only
            # for similar by title (title, then details, then searches).
            self.assertLessEqual(spent, 3 if i == 1 else 2, q)
            self.assertGreaterEqual(spent, 1, q)
            if i == 0:
                self.assertEqual(spent, 2, q)
            self.assertEqual(cold["source"]["upstream_calls"], spent, q)
            n = self.s.upstream_requests()
            warm = self.get(q, headers=h)
            self.assertEqual(self.s.upstream_requests() - n, 0, q)
            self.assertEqual(warm["source"]["upstream_calls"], 0)
            self.assertEqual(warm["source"]["cache"], "hit")
            self.assertEqual(self.ids(warm), self.ids(cold), q)

    # -- the database down -------------------------------------------------------
    def test_database_down_feedback_503_recommendations_still_work(self):
        self.s.pg_ctl("stop")
        try:
            out = self.feedback({"anime_id": 5, "action": "accepted"}, 503)
            self.assertEqual(out["error"]["code"], "feedback_unavailable")
            body = self.get("/v1/stats/recommendations", 503)
            self.assertEqual(body["error"]["code"], "feedback_unavailable")
            body = self.get(url(reference_anime_id=CHAINSAW_MAN, count=3))
            self.assertEqual(len(body["recommendations"]), 3)
        finally:
            self.s.pg_ctl("start")
        wait_for(lambda: self.s.json("GET", "/v1/stats/recommendations")[0]
                 == 200, what="database back")


if __name__ == "__main__":
    unittest.main(verbosity=2)
