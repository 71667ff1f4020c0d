"""test_anime_details.py: get_anime's where to watch, list and score counts
and top reviews, over REST and MCP through Caddy, memcached and the sample
AniList: the answer checked against its output schema and the sample data,
one AniList call cold and none warm, and the anime-details widget rendered
in headless Chromium with a real result.

The sample data has list counts (stats.statusDistribution) but no streaming
links, reviews or score counts: the sample answers those as AniList does for
a title without them, and the answer says so with empty lists and nulls.
"""
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import test_breadth  # noqa: E402
from test_mcp import CHROMIUM, EVIL  # noqa: E402

harness.watchdog(150)

BY_ID = test_breadth.BY_ID
# Initial D FOURTH STAGE, and Monster: list counts in the data.
INITIAL_D = 18
MONSTER = 19
STATUS_WORDS = {"CURRENT": "watching", "COMPLETED": "completed",
                "PAUSED": "paused", "DROPPED": "dropped",
                "PLANNING": "planning"}


def distribution(mid):
    """The data's statusDistribution as get_anime words it."""
    return {s["status"].lower(): s["amount"]
            for s in BY_ID[mid]["stats"]["statusDistribution"]}


class AnimeDetailsTest(test_breadth.BreadthStack):
    tmp_prefix = "agpt-details-"

    def test_details_say_what_anilist_has_and_nothing_more(self):
        body, spent = self.cold_warm("get_anime", "/v1/anime/%d" % INITIAL_D,
                                     max_cold=1)
        self.assertEqual(spent, 1)
        a = body["anime"]
        self.assertEqual(a["status_distribution"], distribution(INITIAL_D))
        # Not in the data, so not in the answer: empty or null.
        self.assertEqual(a["where_to_watch"], [])
        self.assertEqual(a["reviews"], [])
        self.assertIsNone(a["score_distribution"])
        counts = ", ".join("%d %s" % (a["status_distribution"][s.lower()], w)
                           for s, w in STATUS_WORDS.items())
        self.assertIn(" On AniList lists: %s." % counts, body["text_summary"])
        self.assertNotIn("Stream on", body["text_summary"])
        self.assertNotIn("Top review", body["text_summary"])

    def test_details_over_mcp_match_the_output_schema(self):
        schema = self.tools["get_anime"]["outputSchema"]["properties"]
        props = schema["anime"]["properties"]
        for key in ("where_to_watch", "status_distribution",
                    "score_distribution", "reviews"):
            self.assertIn(key, props)
        self.assertIn("where to watch", self.tools["get_anime"]["description"])
        before = self.calls()
        body = self.mcp_result("get_anime", {"id": MONSTER})
        self.assertEqual(self.calls() - before, 1)
        self.assertEqual(body["anime"]["status_distribution"],
                         distribution(MONSTER))
        again = self.mcp_result("get_anime", {"id": MONSTER})
        self.assertEqual(self.calls() - before, 1, "warm")
        self.assertEqual(again["anime"], body["anime"])

    def test_details_widget_shows_lists_links_scores_and_reviews(self):
        self.assertTrue(os.access(CHROMIUM, os.X_OK))
        real = self.mcp_result("get_anime", {"id": INITIAL_D})
        r = self.render("ui://widget/anime-details.html", real, "details")
        self.assertIn("On AniList lists", r["text"])
        self.assertIn("Completed 30,267", r["text"])
        self.assertIn("Dropped 544", r["text"])
        for absent in ("Where to watch", "Scores given", "Reviews"):
            self.assertNotIn(absent, r["text"])

        # The same answer with what AniList adds for a streamed, reviewed
        # title (the sample has none of it), values hostile where they can be.
        full = json.loads(json.dumps(real))
        a = full["anime"]
        a["where_to_watch"] = [
            {"site": EVIL + "Crunchyroll",
             "url": "https://www.crunchyroll.com/series/G6NQ5DWZ6",
             "language": "Japanese", "notes": "Subtitled"},
            {"site": "Odd", "url": "javascript:window.__pwned=3",
             "language": None, "notes": None}]
        a["score_distribution"] = [{"score": s, "amount": s * 10}
                                   for s in range(10, 101, 10)]
        a["reviews"] = [
            {"score": 90, "summary": EVIL + " A classic of the road.",
             "rating": 40, "rating_amount": 44,
             "site_url": "https://anilist.co/review/1234"},
            {"score": 55, "summary": "Uneven pacing.", "rating": None,
             "rating_amount": None, "site_url": "javascript:alert(1)"}]
        self.assertEqual(test_breadth.schema_errors(
            self.tools["get_anime"]["outputSchema"], full), [])
        r = self.render("ui://widget/anime-details.html", full, "details-full")
        self.assertIn("Where to watch", r["text"])
        self.assertIn(EVIL + "Crunchyroll (Japanese, Subtitled)", r["text"])
        self.assertIn("Odd", r["text"])
        self.assertIn("Scores given", r["text"])
        self.assertIn("90/100 \u2014 " + EVIL + " A classic of the road.",
                      r["text"])
        self.assertIn("40 of 44 found it helpful", r["text"])
        self.assertIn("55/100 \u2014 Uneven pacing.", r["text"])
        self.assertIn("https://www.crunchyroll.com/series/G6NQ5DWZ6",
                      r["links"])
        self.assertIn("https://anilist.co/review/1234", r["links"])
        for link in r["links"]:
            self.assertTrue(link.startswith("https://"), link)


if __name__ == "__main__":
    unittest.main(verbosity=2)
