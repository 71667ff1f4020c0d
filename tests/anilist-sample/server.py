#!/usr/bin/env python3
"""A stand-in for the AniList GraphQL API and OAuth endpoints: a test double.

It serves the named operations of src/anilist/queries.c from real AniList data kept in
data/ (1,414 titles), with AniList's filters, sorts, pagination, errors[],
rate-limit headers and OAuth authorization-code flow, plus a control API
(/__stats, /__reset, /__fault, /__config) that tests use to inject failures.
It is not AniList and the service never special-cases it. Python 3 stdlib only.

Usage: server.py --port N [--host 127.0.0.1] [--delay-ms N] [--rate-limit 90]
                 [--client-id ID] [--client-secret S] [--redirect-uri URI]
                 [--data-dir DIR] [--verbose]
"""

import argparse
import base64
import datetime
import functools
import hashlib
import hmac
import json
import math
import os
import re
import secrets
import socket
import socketserver
import sys
import threading
import time
import urllib.parse
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
MEDIA_FILE = "sample-media.json"
LIST_FILE = "seanime_MediaListCollection_BoilerplateAnimeCollection.json"

MAX_BODY = 2 * 1024 * 1024
MAX_PER_PAGE = 50
MAX_PER_CHUNK = 500
TOKEN_LIFETIME = 31536000
CODE_LIFETIME = 600
RATE_WINDOW = 60
UNLIMITED = 1000000  # the limit reported when --rate-limit is 0
# Names shared by more titles than this (e.g. "Narrator") never link titles.
GENERIC_NAME_TITLES = 10
# "Trending" is synthesised: popularity damped by age relative to this date,
# the day the newest source snapshot was taken (see README.md).
TRENDING_REFERENCE = datetime.date(2026, 8, 22)
TRENDING_HALF_DAYS = 180

ENUMS = {
    "MediaType": {"ANIME", "MANGA"},
    "MediaSeason": {"WINTER", "SPRING", "SUMMER", "FALL"},
    "MediaStatus": {"FINISHED", "RELEASING", "NOT_YET_RELEASED",
                    "CANCELLED", "HIATUS"},
    "MediaFormat": {"TV", "TV_SHORT", "MOVIE", "SPECIAL", "OVA", "ONA",
                    "MUSIC", "MANGA", "NOVEL", "ONE_SHOT"},
    "MediaListStatus": {"CURRENT", "PLANNING", "COMPLETED", "DROPPED",
                        "PAUSED", "REPEATING"},
    "ScoreFormat": {"POINT_100", "POINT_10_DECIMAL", "POINT_10", "POINT_5",
                    "POINT_3"},
    "CharacterSort": {"ID", "ID_DESC", "ROLE", "ROLE_DESC", "SEARCH_MATCH",
                      "FAVOURITES", "FAVOURITES_DESC", "RELEVANCE"},
    "AiringSort": {"ID", "ID_DESC", "MEDIA_ID", "MEDIA_ID_DESC", "TIME",
                   "TIME_DESC", "EPISODE", "EPISODE_DESC"},
    "MediaSort": {"ID", "ID_DESC", "TITLE_ROMAJI", "TITLE_ROMAJI_DESC",
                  "TITLE_ENGLISH", "TITLE_ENGLISH_DESC", "TITLE_NATIVE",
                  "TITLE_NATIVE_DESC", "TYPE", "TYPE_DESC", "FORMAT",
                  "FORMAT_DESC", "START_DATE", "START_DATE_DESC", "END_DATE",
                  "END_DATE_DESC", "SCORE", "SCORE_DESC", "POPULARITY",
                  "POPULARITY_DESC", "TRENDING", "TRENDING_DESC", "EPISODES",
                  "EPISODES_DESC", "DURATION", "DURATION_DESC", "STATUS",
                  "STATUS_DESC", "CHAPTERS", "CHAPTERS_DESC", "VOLUMES",
                  "VOLUMES_DESC", "UPDATED_AT", "UPDATED_AT_DESC",
                  "SEARCH_MATCH", "FAVOURITES", "FAVOURITES_DESC"},
    "MediaListSort": {v + d for v in (
        "MEDIA_ID", "SCORE", "STATUS", "PROGRESS", "PROGRESS_VOLUMES",
        "REPEAT", "PRIORITY", "STARTED_ON", "FINISHED_ON", "ADDED_TIME",
        "UPDATED_TIME", "MEDIA_TITLE_ROMAJI", "MEDIA_TITLE_ENGLISH",
        "MEDIA_TITLE_NATIVE", "MEDIA_POPULARITY") for d in ("", "_DESC")},
}

# Operation name -> (root field, is mutation).
OPERATIONS = {
    "SearchMedia": ("Page", False),
    "TrendingMedia": ("Page", False),
    "SeasonalMedia": ("Page", False),
    "MediaDetails": ("Media", False),
    "CharacterById": ("Character", False),
    "CharacterSearch": ("Page", False),
    "AiringSchedule": ("Page", False),
    "GenresAndTags": ("GenreCollection", False),
    "Viewer": ("Viewer", False),
    "UserList": ("MediaListCollection", False),
    "SaveListEntry": ("SaveMediaListEntry", True),
    "DeleteListEntry": ("DeleteMediaListEntry", True),
    "MediaListEntry": ("MediaList", False),
}

LIST_STATUS_ORDER = ["CURRENT", "REPEATING", "COMPLETED", "PAUSED",
                     "DROPPED", "PLANNING"]
LIST_NAMES = {
    "ANIME": {"CURRENT": "Watching", "REPEATING": "Rewatching",
              "COMPLETED": "Completed", "PAUSED": "Paused",
              "DROPPED": "Dropped", "PLANNING": "Planning"},
    "MANGA": {"CURRENT": "Reading", "REPEATING": "Rereading",
              "COMPLETED": "Completed", "PAUSED": "Paused",
              "DROPPED": "Dropped", "PLANNING": "Planning"},
}
SERIES_FORMATS = {"TV", "TV_SHORT", "ONA"}
# Fields the UserList document selects on media; absent ones become null.
LIST_MEDIA_FIELDS = ("id", "type", "title", "episodes", "format", "status",
                     "genres", "averageScore", "coverImage", "tags",
                     "studios", "seasonYear", "duration")
FAULT_MODES = {"none", "429", "403", "500", "slow", "drop", "errors",
               "hang"}
# A hung request is dropped after this long at the latest (seconds).
HANG_LIMIT = 120


class GraphQLError(Exception):
    """An AniList-shaped error: HTTP status, errors[] entry and data."""

    def __init__(self, status, message, data=None, **extra):
        super().__init__(message)
        self.status = status
        self.message = message
        self.data = data
        self.extra = extra

    def body(self):
        err = {"message": self.message, "status": self.status}
        err.update(self.extra)
        return {"data": self.data, "errors": [err]}


def not_found(root):
    return GraphQLError(404, "Not Found.", {root: None})


def unauthorized(root=None):
    return GraphQLError(401, "Invalid token",
                        {root: None} if root else None)


def stable_id(text, taken):
    """A small positive id derived from crc32(text), unique within taken."""
    n = zlib.crc32(text.encode("utf-8")) % 900000 + 100000
    while n in taken:
        n += 1
    taken.add(n)
    return n


def normalize(text):
    """Case-folded text with punctuation turned into single spaces."""
    if not isinstance(text, str):
        return ""
    out = [c if c.isalnum() else " " for c in text.casefold()]
    return " ".join("".join(out).split())


def match_rank(query, keys):
    """0 exact, 1 prefix, 2 substring, 3 every word found; None: no match."""
    best = None
    for k in keys:
        if k == query:
            return 0
        if k.startswith(query):
            r = 1
        elif query in k:
            r = 2
        else:
            continue
        if best is None or r < best:
            best = r
    if best is not None:
        return best
    words = query.split()
    if words and all(any(w in k for k in keys) for w in words):
        return 3
    return None


def date_tuple(d):
    if not isinstance(d, dict) or d.get("year") is None:
        return None
    return (d["year"], d.get("month") or 0, d.get("day") or 0)


def b64url(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def merge_prefer(extra, base):
    """base, with extra's values filled in wherever base has none."""
    out = dict(base)
    for k, v in extra.items():
        if out.get(k) is None:
            out[k] = v
        elif isinstance(out[k], dict) and isinstance(v, dict):
            out[k] = merge_prefer(v, out[k])
    return out


# ---------------------------------------------------------------- catalogue


class Catalogue:
    """The read-only data, indexed once at start-up."""

    def __init__(self, data_dir):
        with open(os.path.join(data_dir, MEDIA_FILE), encoding="utf-8") as f:
            raw = json.load(f)["media"]
        with open(os.path.join(data_dir, LIST_FILE), encoding="utf-8") as f:
            doc = json.load(f)
        self.seed_collection = doc.get("data", doc)["MediaListCollection"]

        self.raw = {m["id"]: m for m in raw}
        self.ids = sorted(self.raw)
        self.studio_ids = {}
        taken = set()
        for name in sorted({s["name"] for m in raw
                            for s in (m.get("studios") or {}).get("nodes")
                            or []}):
            self.studio_ids[name] = stable_id("studio:" + name, taken)

        self.api = {}
        self.keys = {}
        self.genres_cf = {}
        self.tags_cf = {}
        for m in raw:
            self.api[m["id"]] = self._api_media(m)
            t = m.get("title") or {}
            keys = {normalize(x) for x in
                    [t.get("romaji"), t.get("english"), t.get("native"),
                     t.get("userPreferred")] + list(m.get("synonyms") or [])}
            keys.discard("")
            self.keys[m["id"]] = sorted(keys)
            self.genres_cf[m["id"]] = {g.casefold()
                                       for g in m.get("genres") or []}
            self.tags_cf[m["id"]] = {x["name"].casefold()
                                     for x in m.get("tags") or []}

        self.genres = sorted({g for m in raw for g in m.get("genres") or []})
        self.tag_names = sorted({x["name"] for m in raw
                                 for x in m.get("tags") or []})
        self._build_characters(raw)
        self._build_relations()
        self._build_airing()
        self._recs = {}
        self._recs_lock = threading.Lock()

        # Media known to exist (list entries may use media not in the sample).
        self.list_media = {}
        for group in self.seed_collection.get("lists") or []:
            for e in group.get("entries") or []:
                media = e.get("media") or {}
                if isinstance(media.get("id"), int):
                    self.list_media[media["id"]] = media

    def _api_media(self, m):
        out = {k: v for k, v in m.items()
               if k not in ("mainCharacterNames", "mainStaff")}
        out["tags"] = [{"name": x["name"], "rank": None}
                       for x in m.get("tags") or []]
        studios = (m.get("studios") or {}).get("nodes") or []
        out["studios"] = {"nodes": [
            {"id": self.studio_ids[s["name"]], "name": s["name"],
             "isAnimationStudio": s.get("isAnimationStudio")}
            for s in studios]}
        cover = dict(m.get("coverImage") or {})
        for k in ("extraLarge", "large", "medium", "color"):
            cover.setdefault(k, None)
        out["coverImage"] = cover
        out["trending"] = self._trending(m)
        return out

    @staticmethod
    def _trending(m):
        pop = m.get("popularity")
        if pop is None:
            return None
        start = date_tuple(m.get("startDate"))
        if start is None:
            age = 3650
        else:
            try:
                d = datetime.date(start[0], max(start[1], 1),
                                  max(start[2], 1))
                age = max(0, (TRENDING_REFERENCE - d).days)
            except ValueError:
                age = 3650
        return int(pop * TRENDING_HALF_DAYS / (TRENDING_HALF_DAYS + age))

    def _build_characters(self, raw):
        titles = {}
        for m in raw:
            for name in m.get("mainCharacterNames") or []:
                if isinstance(name, str) and name.strip():
                    titles.setdefault(name, [])
                    if m["id"] not in titles[name]:
                        titles[name].append(m["id"])
        taken = set()
        self.char_by_name = {}
        self.chars = {}
        for name in sorted(titles):
            cid = stable_id("character:" + name, taken)
            media = sorted(titles[name],
                           key=lambda i: (-(self.raw[i].get("popularity")
                                            or 0), i))
            self.char_by_name[name] = cid
            self.chars[cid] = {"id": cid, "name": name, "media": media,
                               "key": normalize(name)}
        self.char_ids = sorted(self.chars)
        self.name_titles = titles

    def _build_relations(self):
        shared = {}
        for name, ids in self.name_titles.items():
            if len(ids) < 2 or len(ids) > GENERIC_NAME_TITLES:
                continue
            for a in ids:
                for b in ids:
                    if a != b:
                        shared[(a, b)] = shared.get((a, b), 0) + 1
        self.relations = {}
        for (a, b), n in sorted(shared.items()):
            if n < 2:
                continue
            ma, mb = self.raw[a], self.raw[b]
            da, db = date_tuple(ma.get("startDate")), \
                date_tuple(mb.get("startDate"))
            kind = "OTHER"
            if (ma.get("format") in SERIES_FORMATS
                    and mb.get("format") in SERIES_FORMATS
                    and da and db and da != db):
                kind = "PREQUEL" if db < da else "SEQUEL"
            self.relations.setdefault(a, []).append((kind, b))
        for a in self.relations:
            self.relations[a].sort(
                key=lambda e: (date_tuple(self.raw[e[1]].get("startDate"))
                               or (9999, 0, 0), e[1]))

    def _build_airing(self):
        self.airing = []
        for mid in self.ids:
            nae = self.raw[mid].get("nextAiringEpisode")
            if not isinstance(nae, dict):
                continue
            at, ep = nae.get("airingAt"), nae.get("episode")
            if not isinstance(at, int) or not isinstance(ep, int):
                continue
            self.airing.append({
                "id": stable_id("airing:%d:%d" % (mid, ep), set()),
                "airingAt": at, "episode": ep, "mediaId": mid})
        self.airing.sort(key=lambda a: (a["airingAt"], a["mediaId"]))

    # Output shapes.

    def media(self, mid, now):
        """The API shape of one title (a fresh top-level copy)."""
        m = dict(self.api[mid])
        nae = m.get("nextAiringEpisode")
        if isinstance(nae, dict) and isinstance(nae.get("airingAt"), int):
            m["nextAiringEpisode"] = dict(
                nae, timeUntilAiring=nae["airingAt"] - int(now),
                mediaId=mid)
        return m

    def media_node(self, mid):
        m = self.api[mid]
        return {k: m.get(k) for k in ("id", "idMal", "title", "type",
                                      "format", "status", "isAdult",
                                      "siteUrl", "coverImage", "startDate",
                                      "popularity", "averageScore")}

    def character(self, cid):
        c = self.chars[cid]
        edges = [{"characterRole": "MAIN", "node": self.media_node(mid)}
                 for mid in c["media"][:10]]
        return {
            "id": cid,
            "name": {"full": c["name"], "first": None, "middle": None,
                     "last": None, "native": None, "alternative": None,
                     "alternativeSpoiler": None,
                     "userPreferred": c["name"]},
            "image": {"large": None, "medium": None},
            "description": None, "gender": None, "age": None,
            "dateOfBirth": {"year": None, "month": None, "day": None},
            "bloodType": None, "favourites": None, "siteUrl": None,
            "media": {
                "pageInfo": page_info(1, 10, len(c["media"])),
                "edges": edges,
                "nodes": [e["node"] for e in edges],
            },
        }

    def details(self, mid, now, community_recs):
        m = self.media(mid, now)
        m["relations"] = {"edges": [
            {"relationType": kind, "node": self.media_node(other)}
            for kind, other in self.relations.get(mid, [])]}
        m["relations"]["nodes"] = [e["node"] for e in m["relations"]["edges"]]
        recs = self.recommendations(mid) if community_recs else []
        nodes = [{"id": stable_id("rec:%d:%d" % (mid, other), set()),
                  "rating": rating, "userRating": None,
                  "media": self.media_node(mid),
                  "mediaRecommendation": self.media(other, now)}
                 for other, rating in recs]
        m["recommendations"] = {"pageInfo": page_info(1, 10, len(nodes)),
                                "nodes": nodes}
        names = [n for n in self.raw[mid].get("mainCharacterNames") or []
                 if n in self.char_by_name]
        edges = []
        for name in names[:10]:
            cid = self.char_by_name[name]
            edges.append({"id": None, "role": "MAIN", "node": {
                "id": cid, "name": {"full": name, "native": None,
                                    "userPreferred": name},
                "image": {"large": None, "medium": None},
                "siteUrl": None}})
        m["characters"] = {"pageInfo": page_info(1, 10, len(names)),
                           "edges": edges,
                           "nodes": [e["node"] for e in edges]}
        # The data has no links, reviews or score counts: AniList's answer
        # for a title without links or reviews, and null (unknown) scores.
        m["externalLinks"] = []
        m["reviews"] = {"pageInfo": page_info(1, 3, 0), "nodes": []}
        stats = m.get("stats") or {}
        m["stats"] = dict(stats,
                          scoreDistribution=stats.get("scoreDistribution"))
        return m

    def recommendations(self, mid):
        """Up to 10 (media id, rating): titles sharing most genres + tags."""
        with self._recs_lock:
            if mid in self._recs:
                return self._recs[mid]
        g, t = self.genres_cf[mid], self.tags_cf[mid]
        scored = []
        for other in self.ids:
            if other == mid:
                continue
            n = len(g & self.genres_cf[other]) + len(t & self.tags_cf[other])
            if n > 0:
                scored.append((-n, -(self.raw[other].get("popularity") or 0),
                               other))
        scored.sort()
        out = [(other, -n * 10) for n, _, other in scored[:10]]
        with self._recs_lock:
            self._recs[mid] = out
        return out


def page_info(page, per_page, total):
    last = max(1, math.ceil(total / per_page)) if per_page else 1
    return {"total": total, "perPage": per_page, "currentPage": page,
            "lastPage": last, "hasNextPage": page * per_page < total}


def paginate(items, variables, default_per_page=MAX_PER_PAGE,
             cap=MAX_PER_PAGE):
    page = variables.get("page")
    per_page = variables.get("perPage")
    page = 1 if page is None or page < 1 else page
    if per_page is None:
        per_page = default_per_page
    per_page = max(1, min(cap, per_page))
    start = (page - 1) * per_page
    return page_info(page, per_page, len(items)), \
        items[start:start + per_page]


# ---------------------------------------------------------------- sorting


def _title_key(field):
    def key(m):
        v = (m.get("title") or {}).get(field)
        return v.casefold() if isinstance(v, str) else None
    return key


MEDIA_SORT_KEYS = {
    "ID": lambda m: m.get("id"),
    "TITLE_ROMAJI": _title_key("romaji"),
    "TITLE_ENGLISH": _title_key("english"),
    "TITLE_NATIVE": _title_key("native"),
    "TYPE": lambda m: m.get("type"),
    "FORMAT": lambda m: m.get("format"),
    "START_DATE": lambda m: date_tuple(m.get("startDate")),
    "END_DATE": lambda m: date_tuple(m.get("endDate")),
    "SCORE": lambda m: m.get("averageScore"),
    "POPULARITY": lambda m: m.get("popularity"),
    "TRENDING": lambda m: m.get("trending"),
    "EPISODES": lambda m: m.get("episodes"),
    "DURATION": lambda m: m.get("duration"),
    "STATUS": lambda m: m.get("status"),
    "CHAPTERS": lambda m: None,
    "VOLUMES": lambda m: None,
    "UPDATED_AT": lambda m: None,
    "FAVOURITES": lambda m: m.get("favourites"),
}


def _list_title_key(field):
    def key(e):
        v = ((e.get("media") or {}).get("title") or {}).get(field)
        return v.casefold() if isinstance(v, str) else None
    return key


# MediaListSort on list entries (each with its "media"); None sorts last.
LIST_SORT_KEYS = {
    "MEDIA_ID": lambda e: e.get("mediaId"),
    "SCORE": lambda e: e.get("score"),
    "STATUS": lambda e: e.get("status"),
    "PROGRESS": lambda e: e.get("progress"),
    "PROGRESS_VOLUMES": lambda e: e.get("progressVolumes"),
    "REPEAT": lambda e: e.get("repeat"),
    "PRIORITY": lambda e: e.get("priority"),
    "STARTED_ON": lambda e: date_tuple(e.get("startedAt")),
    "FINISHED_ON": lambda e: date_tuple(e.get("completedAt")),
    "ADDED_TIME": lambda e: e.get("createdAt"),
    "UPDATED_TIME": lambda e: e.get("updatedAt"),
    "MEDIA_TITLE_ROMAJI": _list_title_key("romaji"),
    "MEDIA_TITLE_ENGLISH": _list_title_key("english"),
    "MEDIA_TITLE_NATIVE": _list_title_key("native"),
    "MEDIA_POPULARITY": lambda e: (e.get("media") or {}).get("popularity"),
}


def sort_list_entries(items, sorts):
    """Sort list entries in place by MediaListSort values, in the order
    given (stable, nulls last either way)."""
    for s in reversed(sorts):
        desc = s.endswith("_DESC")
        keyf = LIST_SORT_KEYS[s[:-5] if desc else s]
        known = [e for e in items if keyf(e) is not None]
        unknown = [e for e in items if keyf(e) is None]
        known.sort(key=keyf, reverse=desc)
        items[:] = known + unknown


def sort_media(items, sorts, search_rank):
    """Sort API media dicts in place by AniList MediaSort values.

    Sorts apply in the order given; nulls go last either way; ties fall
    back to id. SEARCH_MATCH is best match first, then most popular.
    """
    items.sort(key=lambda m: m["id"])
    for s in reversed(sorts):
        if s == "SEARCH_MATCH":
            if search_rank:
                items.sort(key=lambda m: (search_rank[m["id"]],
                                          -(m.get("popularity") or 0)))
            continue
        desc = s.endswith("_DESC")
        keyf = MEDIA_SORT_KEYS[s[:-5] if desc else s]
        known = [m for m in items if keyf(m) is not None]
        unknown = [m for m in items if keyf(m) is None]
        known.sort(key=keyf, reverse=desc)
        items[:] = known + unknown


# ---------------------------------------------------------------- variables

VAR_DEF_RE = re.compile(r"\$(\w+)\s*:\s*(\[?\s*\w+\s*!?\s*\]?\s*!?)")
OP_RE = re.compile(r"\b(query|mutation|subscription)\s+([_A-Za-z]\w*)")


def parse_document(doc):
    """[(kind, name, {var: type})] for each named operation in doc."""
    ops = []
    for m in OP_RE.finditer(doc):
        rest = doc[m.end():].lstrip()
        defs = {}
        if rest.startswith("("):
            end = rest.find(")")
            if end > 0:
                for v in VAR_DEF_RE.finditer(rest[1:end]):
                    defs[v.group(1)] = re.sub(r"\s+", "", v.group(2))
        ops.append((m.group(1), m.group(2), defs))
    return ops


# AniList refuses a query whose complexity passes this (graphql-php's rule:
# every selected field costs 1, plus what it selects).
MAX_COMPLEXITY = 500
NAME_RE = re.compile(r"[_A-Za-z]\w*")


def _skip_string(doc, i):
    """Index after the string literal starting at doc[i] (a quote)."""
    i += 1
    while i < len(doc) and doc[i] != '"':
        i += 2 if doc[i] == "\\" else 1
    return i + 1


def _matching(doc, i, open_c, close_c):
    """Index after the bracket closing the one at doc[i]."""
    depth = 0
    while i < len(doc):
        c = doc[i]
        if c == '"':
            i = _skip_string(doc, i)
            continue
        if c == open_c:
            depth += 1
        elif c == close_c:
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return len(doc)


def selection_set(doc):
    """The text inside the first operation's outer braces, or None."""
    m = OP_RE.search(doc)
    i = doc.find("{", m.end() if m else 0)
    if m:
        rest = doc[m.end():].lstrip()
        if rest.startswith("("):
            i = doc.find("{", _matching(doc, doc.index("(", m.end()),
                                        "(", ")"))
    if i < 0:
        return None
    return doc[i + 1:_matching(doc, i, "{", "}") - 1]


def complexity(sel):
    """Fields selected in a selection set, at every depth (aliases and
    arguments are free)."""
    n, i = 0, 0
    while i < len(sel):
        c = sel[i]
        if c == "(":
            i = _matching(sel, i, "(", ")")
            continue
        if c == '"':
            i = _skip_string(sel, i)
            continue
        m = NAME_RE.match(sel, i)
        if m and (i == 0 or not (sel[i - 1].isalnum() or sel[i - 1] in
                                 "_$")):
            j = m.end()
            while j < len(sel) and sel[j].isspace():
                j += 1
            if j >= len(sel) or sel[j] != ":":
                n += 1
            i = m.end()
            continue
        i += 1
    return n


def root_fields(sel):
    """[(alias, field, args text, body text)] of a selection set."""
    out, i = [], 0
    while i < len(sel):
        m = NAME_RE.match(sel, i)
        if not m:
            i += 1
            continue
        alias = field = m.group(0)
        i = m.end()
        while i < len(sel) and sel[i].isspace():
            i += 1
        if i < len(sel) and sel[i] == ":":
            m = NAME_RE.match(sel, i + 1 + (len(sel[i + 1:]) -
                                            len(sel[i + 1:].lstrip())))
            if not m:
                break
            field, i = m.group(0), m.end()
            while i < len(sel) and sel[i].isspace():
                i += 1
        args = body = ""
        if i < len(sel) and sel[i] == "(":
            j = _matching(sel, i, "(", ")")
            args, i = sel[i + 1:j - 1], j
            while i < len(sel) and sel[i].isspace():
                i += 1
        if i < len(sel) and sel[i] == "{":
            j = _matching(sel, i, "{", "}")
            body, i = sel[i + 1:j - 1], j
        out.append((alias, field, args, body))
    return out


# root_fields, parsed once per selection text (prune asks for each item).
_fields_of = functools.lru_cache(maxsize=None)(root_fields)


def prune(value, sel):
    """value as a selection set asks for it, the way AniList answers:
    the selected fields only, under their aliases, null where the value
    has none. Without a selection set, value as it is."""
    if not sel or not sel.strip():
        return value
    if isinstance(value, list):
        return [prune(v, sel) for v in value]
    if not isinstance(value, dict):
        return value
    # (a field asked twice under aliases, with other arguments, is
    # resolved under each alias)
    return {alias: prune(value[alias] if alias in value else
                         value.get(field), body)
            for alias, field, _, body in _fields_of(sel)}


def _split_top(text):
    parts, depth, cur = [], 0, ""
    for c in text:
        if c in "[{(":
            depth += 1
        elif c in "]})":
            depth -= 1
        if c == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += c
    if cur.strip():
        parts.append(cur)
    return parts


def field_args(text, variables):
    """{name: value} of an argument list; $vars from variables."""
    def value(t):
        t = t.strip()
        if t.startswith("$"):
            return variables.get(t[1:])
        if t.startswith("["):
            return [value(x) for x in _split_top(t[1:-1])]
        if t.startswith('"'):
            return json.loads(t)
        if t in ("true", "false"):
            return t == "true"
        if t == "null":
            return None
        if re.fullmatch(r"-?\d+", t):
            return int(t)
        return t
    out = {}
    for part in _split_top(text):
        k, _, v = part.partition(":")
        out[k.strip()] = value(v)
    return out


def coerce_var(name, gtype, value):
    """Check value against a GraphQL variable type the way graphql-php does."""
    def bad():
        shown = json.dumps(value)
        return GraphQLError(400, 'Variable "$%s" got invalid value %s; '
                            "Expected type %s." % (name, shown,
                                                   gtype.rstrip("!")),
                            None, locations=[{"line": 1, "column": 1}])

    nonnull = gtype.endswith("!")
    base = gtype[:-1] if nonnull else gtype
    if value is None:
        if nonnull:
            raise bad()
        return None
    if base.startswith("["):
        inner = base[1:-1]
        items = value if isinstance(value, list) else [value]
        return [coerce_var(name, inner, v) for v in items]
    if base == "Int":
        if isinstance(value, bool):
            raise bad()
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, int) or not -2**31 <= value < 2**31:
            raise bad()
        return value
    if base == "Float":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise bad()
        return value
    if base == "String":
        if not isinstance(value, str):
            raise bad()
        return value
    if base == "Boolean":
        if not isinstance(value, bool):
            raise bad()
        return value
    if base in ENUMS:
        if not isinstance(value, str) or value not in ENUMS[base]:
            raise bad()
        return value
    return value


# Variable types used when a request has no document to declare them.
DEFAULT_VAR_TYPES = {
    "page": "Int", "perPage": "Int", "search": "String", "type": "MediaType",
    "genre_in": "[String]", "tag_in": "[String]", "season": "MediaSeason",
    "seasonYear": "Int", "status": None, "format": "MediaFormat",
    "averageScore_greater": "Int", "sort": "[MediaSort]",
    "isAdult": "Boolean", "id": "Int", "airingAt_greater": "Int",
    "airingAt_lesser": "Int", "userId": "Int", "userName": "String",
    "chunk": "Int", "perChunk": "Int", "mediaId": "Int", "progress": "Int",
    "scoreRaw": "Int", "progressVolumes": "Int",
}


# ---------------------------------------------------------------- state


class State:
    """Everything mutable, behind one lock."""

    def __init__(self, cat, args):
        self.cat = cat
        self.args = args
        self.lock = threading.Lock()
        self.key = hashlib.sha256(b"anilist-sample|"
                                  + args.client_secret.encode()).digest()
        self.reset()

    def reset(self):
        with self.lock:
            self.requests = 0
            self.complexity = 0
            self.by_operation = {}
            self.by_status = {}
            self.rate_limited = 0
            self.faults_injected = 0
            self.fault = {"mode": "none"}
            self.config = {"delay_ms": self.args.delay_ms,
                           "community_recommendations": False,
                           "rate_limit": self.args.rate_limit,
                           "genre_match": "all"}
            self.window_start = None
            self.window_count = 0
            self.blocked_until = None
            self.codes = {}
            self.users = {1: {"id": 1, "name": "sampleuser"}}
            self.lists = {1: self._seed_entries()}
            self.next_entry_id = 1 + max(
                [e["id"] for e in self.lists[1].values()] + [500000000])

    def _seed_entries(self):
        entries = {}
        for group in self.cat.seed_collection.get("lists") or []:
            for e in group.get("entries") or []:
                media = e.get("media") or {}
                if not isinstance(e.get("id"), int) or \
                        not isinstance(media.get("id"), int):
                    continue
                entries[e["id"]] = {
                    "id": e["id"], "userId": 1, "mediaId": media["id"],
                    "status": e.get("status") or group.get("status"),
                    "score": e.get("score") or 0,
                    "progress": e.get("progress") or 0,
                    "repeat": e.get("repeat") or 0,
                    "private": e.get("private", False),
                    "notes": e.get("notes"),
                    "startedAt": {k: (e.get("startedAt") or {}).get(k)
                                  for k in ("year", "month", "day")},
                    "completedAt": {k: (e.get("completedAt") or {}).get(k)
                                    for k in ("year", "month", "day")},
                    "updatedAt": e.get("updatedAt"),
                    "createdAt": e.get("createdAt"),
                }
        return entries

    # Counters.

    def count(self, operation):
        with self.lock:
            self.requests += 1
            self.by_operation[operation] = \
                self.by_operation.get(operation, 0) + 1

    def count_complexity(self, n):
        with self.lock:
            self.complexity += n

    def count_status(self, status):
        with self.lock:
            key = str(status)
            self.by_status[key] = self.by_status.get(key, 0) + 1

    def stats(self):
        with self.lock:
            return {"requests": self.requests,
                    "complexity": self.complexity,
                    "by_operation": dict(self.by_operation),
                    "by_status": dict(self.by_status),
                    "rate_limited": self.rate_limited,
                    "faults_injected": self.faults_injected,
                    "fault": dict(self.fault),
                    "config": dict(self.config)}

    # Faults.

    def set_fault(self, spec):
        mode = str(spec.get("mode", "none"))
        if mode not in FAULT_MODES:
            raise ValueError("mode must be one of " +
                             ", ".join(sorted(FAULT_MODES)))
        fault = {"mode": mode}
        for k in ("retry_after", "delay_ms", "count"):
            if spec.get(k) is not None:
                v = spec[k]
                if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                    raise ValueError(k + " must be a non-negative integer")
                fault[k] = v
        if spec.get("operation") is not None:
            if not isinstance(spec["operation"], str):
                raise ValueError("operation must be a string")
            fault["operation"] = spec["operation"]
        with self.lock:
            self.fault = fault
        return fault

    def fault_mode(self):
        with self.lock:
            return self.fault["mode"]

    def take_fault(self, operation):
        """The fault that applies to this request, if any (uses up count)."""
        with self.lock:
            f = self.fault
            if f["mode"] == "none":
                return None
            if f.get("operation") not in (None, operation):
                return None
            if "count" in f:
                if f["count"] <= 0:
                    self.fault = {"mode": "none"}
                    return None
                f["count"] -= 1
                if f["count"] == 0:
                    self.fault = {"mode": "none"}
            self.faults_injected += 1
            return dict(f)

    def set_config(self, spec):
        new = {}
        for k, v in spec.items():
            if k in ("delay_ms", "rate_limit"):
                if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                    raise ValueError(k + " must be a non-negative integer")
            elif k == "community_recommendations":
                if not isinstance(v, bool):
                    raise ValueError(k + " must be a boolean")
            elif k == "genre_match":
                if v not in ("all", "any"):
                    raise ValueError('genre_match must be "all" or "any"')
            else:
                raise ValueError("unknown setting " + k)
            new[k] = v
        with self.lock:
            if "rate_limit" in new and \
                    new["rate_limit"] != self.config["rate_limit"]:
                self.window_start = None
                self.window_count = 0
                self.blocked_until = None
            self.config.update(new)
            return dict(self.config)

    def get_config(self):
        with self.lock:
            return dict(self.config)

    # Rate limit: a one-minute window shared by every client. Going over
    # earns a one-minute timeout from that moment, as on AniList.

    def rate_check(self, now):
        """(allowed, limit, remaining, end of the timeout as unix time)."""
        with self.lock:
            limit = self.config["rate_limit"] or UNLIMITED
            if self.blocked_until is not None:
                if now < self.blocked_until:
                    self.rate_limited += 1
                    return False, limit, 0, self.blocked_until
                self.blocked_until = None
                self.window_start = None
            if self.window_start is None or \
                    now - self.window_start >= RATE_WINDOW:
                self.window_start = now
                self.window_count = 0
            if self.window_count >= limit:
                self.rate_limited += 1
                self.blocked_until = now + RATE_WINDOW
                return False, limit, 0, self.blocked_until
            self.window_count += 1
            return True, limit, limit - self.window_count, None

    def rate_headers(self, now):
        with self.lock:
            limit = self.config["rate_limit"] or UNLIMITED
            if self.blocked_until is not None and now < self.blocked_until:
                return limit, 0
            used = self.window_count
            if self.window_start is None or \
                    now - self.window_start >= RATE_WINDOW:
                used = 0
            return limit, max(0, limit - used)

    # Users and tokens.

    def user_by_name(self, name):
        with self.lock:
            for u in self.users.values():
                if u["name"].casefold() == name.casefold():
                    return dict(u)
        return None

    def user_for_login(self, name):
        if not name:
            name = "sampleuser"
        with self.lock:
            for u in self.users.values():
                if u["name"].casefold() == name.casefold():
                    return dict(u)
            # Ids derive from the name, so tokens stay meaningful after a
            # reset or a restart.
            uid = zlib.crc32(("user:" + name.casefold()).encode()) \
                % 900000 + 100000
            while uid in self.users:
                uid += 1
            self.users[uid] = {"id": uid, "name": name}
            self.lists.setdefault(uid, {})
            return dict(self.users[uid])

    def make_token(self, user, client_id, lifetime=TOKEN_LIFETIME):
        now = int(time.time())
        header = {"typ": "JWT", "alg": "HS256"}
        payload = {"aud": client_id, "jti": secrets.token_hex(20),
                   "iat": now, "nbf": now, "exp": now + lifetime,
                   "sub": str(user["id"]), "scopes": [],
                   "name": user["name"]}
        signing = b64url(json.dumps(header, separators=(",", ":")).encode()) \
            + "." + b64url(json.dumps(payload, separators=(",", ":"))
                           .encode())
        sig = hmac.new(self.key, signing.encode("ascii"),
                       hashlib.sha256).digest()
        return signing + "." + b64url(sig)

    def user_for_token(self, token):
        """The user a bearer token names, or None if it is not valid."""
        try:
            head, payload, sig = token.split(".")
            want = hmac.new(self.key, (head + "." + payload).encode("ascii"),
                            hashlib.sha256).digest()
            if not hmac.compare_digest(want, b64url_decode(sig)):
                return None
            claims = json.loads(b64url_decode(payload))
            if not isinstance(claims, dict):
                return None
            if not isinstance(claims.get("exp"), int) or \
                    claims["exp"] <= time.time():
                return None
            uid = int(claims.get("sub"))
        except (ValueError, TypeError, UnicodeError):
            return None
        name = claims.get("name")
        if not isinstance(name, str) or not name:
            return None
        with self.lock:
            if uid not in self.users:
                self.users[uid] = {"id": uid, "name": name}
                self.lists.setdefault(uid, {})
            elif self.users[uid]["name"].casefold() != name.casefold():
                return None
            return dict(self.users[uid])


# ---------------------------------------------------------------- GraphQL


class Resolver:
    """Answers one GraphQL operation from the catalogue and the state."""

    def __init__(self, cat, state):
        self.cat = cat
        self.state = state

    def run(self, opname, v, viewer):
        return getattr(self, "op_" + opname)(v, viewer)

    # Root fields by themselves (aliased requests): the field's arguments
    # are the variables of the operation that selects it.
    PAGE_FIELDS = {"media": "SearchMedia", "characters": "CharacterSearch",
                   "airingSchedules": "AiringSchedule"}
    ROOT_FIELDS = {"Media": "MediaDetails", "Character": "CharacterById",
                   "MediaListCollection": "UserList",
                   "MediaList": "MediaListEntry", "Viewer": "Viewer",
                   "GenreCollection": "GenresAndTags",
                   "MediaTagCollection": "GenresAndTags"}

    def field(self, field, args, body, variables, viewer):
        """The value of one root field."""
        v = field_args(args, variables)
        if field == "Page":
            inner = root_fields(body)
            data = [f for f in inner if f[1] in self.PAGE_FIELDS]
            if len(data) != 1:
                raise GraphQLError(400, "Page takes exactly one data field")
            v.update(field_args(data[0][2], variables))
            return self.run(self.PAGE_FIELDS[data[0][1]], v,
                            viewer)["Page"]
        if field not in self.ROOT_FIELDS:
            raise GraphQLError(400, 'Cannot query field "%s" on type '
                               '"Query".' % field)
        try:
            return self.run(self.ROOT_FIELDS[field], v, viewer)[field]
        except GraphQLError as e:
            if e.data is not None and field in e.data:
                e.data = None
            raise

    # Media lists.

    def _filter_media(self, v, search_rank):
        cat = self.cat
        genre_match = self.state.get_config()["genre_match"]
        want_genres = {g.casefold() for g in v.get("genre_in") or []
                       if isinstance(g, str)}
        want_tags = {t.casefold() for t in v.get("tag_in") or []
                     if isinstance(t, str)}
        search = normalize(v.get("search")) if v.get("search") else ""
        out = []
        for mid in cat.ids:
            m = cat.raw[mid]
            if v.get("type") is not None and m.get("type") != v["type"]:
                continue
            if v.get("isAdult") is not None and \
                    bool(m.get("isAdult")) != v["isAdult"]:
                continue
            if v.get("season") is not None and m.get("season") != v["season"]:
                continue
            if v.get("seasonYear") is not None and \
                    m.get("seasonYear") != v["seasonYear"]:
                continue
            if v.get("status") is not None and m.get("status") != v["status"]:
                continue
            if v.get("format") is not None and m.get("format") != v["format"]:
                continue
            if v.get("averageScore_greater") is not None:
                s = m.get("averageScore")
                if s is None or s <= v["averageScore_greater"]:
                    continue
            if want_genres:
                have = cat.genres_cf[mid]
                ok = want_genres <= have if genre_match == "all" \
                    else bool(want_genres & have)
                if not ok:
                    continue
            if want_tags:
                have = cat.tags_cf[mid]
                ok = want_tags <= have if genre_match == "all" \
                    else bool(want_tags & have)
                if not ok:
                    continue
            if search:
                r = match_rank(search, cat.keys[mid])
                if r is None:
                    continue
                search_rank[mid] = r
            out.append(mid)
        return out

    def _media_page(self, v, sorts):
        now = time.time()
        rank = {}
        ids = self._filter_media(v, rank)
        items = [self.cat.api[i] for i in ids]
        sort_media(items, sorts, rank)
        info, items = paginate(items, v)
        return {"Page": {"pageInfo": info,
                         "media": [self.cat.media(m["id"], now)
                                   for m in items]}}

    def op_SearchMedia(self, v, viewer):
        sorts = [s for s in v.get("sort") or [] if s]
        if not sorts:
            sorts = ["SEARCH_MATCH"] if v.get("search") else ["ID"]
        return self._media_page(v, sorts)

    def op_TrendingMedia(self, v, viewer):
        w = {k: v.get(k) for k in ("page", "perPage", "type", "isAdult")}
        return self._media_page(w, ["TRENDING_DESC", "POPULARITY_DESC"])

    def op_SeasonalMedia(self, v, viewer):
        w = {k: v.get(k) for k in ("page", "perPage", "season", "seasonYear",
                                   "isAdult")}
        w["type"] = "ANIME"
        return self._media_page(w, ["POPULARITY_DESC"])

    def op_MediaDetails(self, v, viewer):
        mid = v.get("id")
        if mid not in self.cat.api:
            raise not_found("Media")
        # Media(id, type): a media of another type is no match (the
        # sample holds anime only, so type MANGA finds nothing).
        if v.get("type") is not None and \
                self._media_type(mid) != v["type"]:
            raise not_found("Media")
        recs = self.state.get_config()["community_recommendations"]
        return {"Media": self.cat.details(mid, time.time(), recs)}

    # Characters.

    def op_CharacterById(self, v, viewer):
        cid = v.get("id")
        if cid not in self.cat.chars:
            raise not_found("Character")
        return {"Character": self.cat.character(cid)}

    def op_CharacterSearch(self, v, viewer):
        search = normalize(v.get("search")) if v.get("search") else ""
        found = []
        for cid in self.cat.char_ids:
            c = self.cat.chars[cid]
            if search:
                r = match_rank(search, [c["key"]])
                if r is None:
                    continue
            else:
                r = 0
            found.append((r, -len(c["media"]), c["name"].casefold(), cid))
        found.sort()
        info, page = paginate([f[3] for f in found], v)
        return {"Page": {"pageInfo": info,
                         "characters": [self.cat.character(c)
                                        for c in page]}}

    # Airing, genres, tags.

    def op_AiringSchedule(self, v, viewer):
        now = time.time()
        lo, hi = v.get("airingAt_greater"), v.get("airingAt_lesser")
        rows = [a for a in self.cat.airing
                if (lo is None or a["airingAt"] > lo)
                and (hi is None or a["airingAt"] < hi)]
        info, rows = paginate(rows, v)
        return {"Page": {"pageInfo": info, "airingSchedules": [
            dict(a, timeUntilAiring=a["airingAt"] - int(now),
                 media=self.cat.media(a["mediaId"], now))
            for a in rows]}}

    def op_GenresAndTags(self, v, viewer):
        return {"GenreCollection": list(self.cat.genres),
                "MediaTagCollection": [
                    {"name": n, "description": None, "category": None,
                     "rank": None, "isGeneralSpoiler": None,
                     "isMediaSpoiler": None, "isAdult": None}
                    for n in self.cat.tag_names]}

    # The viewer and lists.

    def op_Viewer(self, v, viewer):
        if viewer is None:
            raise unauthorized("Viewer")
        return {"Viewer": self._user(viewer, full=True)}

    @staticmethod
    def _user(u, full=False):
        out = {"id": u["id"], "name": u["name"]}
        if full:
            out.update({
                "avatar": {"large": None, "medium": None},
                "bannerImage": None,
                "siteUrl": "https://anilist.co/user/%s" %
                           urllib.parse.quote(u["name"]),
                "options": {"displayAdultContent": False,
                            "titleLanguage": "ROMAJI"},
                "mediaListOptions": {"scoreFormat": "POINT_100"}})
        return out

    def _entry_media(self, mid):
        cat = self.cat
        if mid in cat.api:
            m = cat.media(mid, time.time())
            if mid in cat.list_media:
                m = merge_prefer(cat.list_media[mid], m)
            return m
        m = dict(cat.list_media.get(mid) or {"id": mid})
        for k in LIST_MEDIA_FIELDS:
            m.setdefault(k, None)
        return m

    def _entry(self, e):
        out = dict(e)
        out["score"] = e["score"]
        out["media"] = self._entry_media(e["mediaId"])
        return out

    def op_UserList(self, v, viewer):
        st = self.state
        user = None
        if v.get("userId") is not None:
            with st.lock:
                u = st.users.get(v["userId"])
                user = dict(u) if u else None
        elif v.get("userName"):
            user = st.user_by_name(v["userName"])
        else:
            raise GraphQLError(400, "User id or name required",
                               {"MediaListCollection": None})
        if user is None:
            raise GraphQLError(404, "User not found",
                               {"MediaListCollection": None})
        with st.lock:
            entries = [dict(e) for e in st.lists.get(user["id"], {}).values()]
        mtype = v.get("type")
        if mtype is not None:
            entries = [e for e in entries
                       if self._media_type(e["mediaId"]) == mtype]
        if v.get("status") is not None:
            entries = [e for e in entries if e["status"] == v["status"]]
        order = {s: i for i, s in enumerate(LIST_STATUS_ORDER)}
        entries.sort(key=lambda e: order.get(e["status"], 99))
        if v.get("sort"):
            entries = [self._entry(e) for e in entries]
            sort_list_entries(entries, v["sort"])
        has_next = False
        if v.get("chunk") is not None or v.get("perChunk") is not None:
            chunk = max(1, v.get("chunk") or 1)
            per = v.get("perChunk") or MAX_PER_CHUNK
            per = max(1, min(MAX_PER_CHUNK, per))
            start = (chunk - 1) * per
            has_next = start + per < len(entries)
            entries = entries[start:start + per]
        names = LIST_NAMES.get(mtype or "ANIME")
        lists = []
        for status in LIST_STATUS_ORDER:
            group = [e if "media" in e else self._entry(e)
                     for e in entries if e["status"] == status]
            if group:
                lists.append({"name": names[status], "status": status,
                              "isCustomList": False,
                              "isSplitCompletedList": False,
                              "entries": group})
        return {"MediaListCollection": {"lists": lists,
                                        "user": self._user(user),
                                        "hasNextChunk": has_next}}

    def _media_type(self, mid):
        if mid in self.cat.raw:
            return self.cat.raw[mid].get("type")
        return (self.cat.list_media.get(mid) or {}).get("type")

    def op_MediaListEntry(self, v, viewer):
        uid = v.get("userId")
        if uid is None and viewer is not None:
            uid = viewer["id"]
        mid = v.get("mediaId")
        with self.state.lock:
            for e in self.state.lists.get(uid, {}).values():
                if e["mediaId"] == mid:
                    return {"MediaList": self._entry(dict(e))}
        raise not_found("MediaList")

    def op_SaveListEntry(self, v, viewer):
        root = "SaveMediaListEntry"
        if viewer is None:
            raise unauthorized(root)
        problems = {}
        mid = v.get("mediaId")
        if mid is None:
            problems["mediaId"] = [
                "The media id field is required when id is not present."]
        elif mid not in self.cat.raw and mid not in self.cat.list_media:
            problems["mediaId"] = ["The selected media id is invalid."]
        if v.get("progress") is not None and v["progress"] < 0:
            problems["progress"] = ["The progress must be at least 0."]
        if v.get("progressVolumes") is not None and \
                v["progressVolumes"] < 0:
            problems["progressVolumes"] = [
                "The progress volumes must be at least 0."]
        if v.get("scoreRaw") is not None and \
                not 0 <= v["scoreRaw"] <= 100:
            problems["scoreRaw"] = ["The score raw must be between 0 and 100."]
        if v.get("status") is not None and \
                v["status"] not in ENUMS["MediaListStatus"]:
            problems["status"] = ["The selected status is invalid."]
        if problems:
            raise GraphQLError(400, "validation", {root: None},
                               validation=problems)
        st = self.state
        now = int(time.time())
        with st.lock:
            entries = st.lists.setdefault(viewer["id"], {})
            entry = next((e for e in entries.values()
                          if e["mediaId"] == mid), None)
            if entry is None:
                entry = {"id": st.next_entry_id, "userId": viewer["id"],
                         "mediaId": mid, "status": "CURRENT", "score": 0,
                         "progress": 0, "repeat": 0, "private": False,
                         "notes": None,
                         "startedAt": {"year": None, "month": None,
                                       "day": None},
                         "completedAt": {"year": None, "month": None,
                                         "day": None},
                         "updatedAt": now, "createdAt": now}
                st.next_entry_id += 1
                entries[entry["id"]] = entry
            if v.get("status") is not None:
                entry["status"] = v["status"]
            if v.get("progressVolumes") is not None:
                entry["progressVolumes"] = v["progressVolumes"]
            if v.get("progress") is not None:
                entry["progress"] = v["progress"]
            elif v.get("status") == "COMPLETED":
                eps = (self.cat.raw.get(mid) or {}).get("episodes")
                if eps:
                    entry["progress"] = eps
            if v.get("scoreRaw") is not None:
                entry["score"] = v["scoreRaw"]
            entry["updatedAt"] = now
            saved = dict(entry)
        return {root: self._entry(saved)}

    def op_DeleteListEntry(self, v, viewer):
        root = "DeleteMediaListEntry"
        if viewer is None:
            raise unauthorized(root)
        eid = v.get("id")
        if eid is None:
            raise GraphQLError(
                400, "validation", {root: None},
                validation={"id": ["The id field is required."]})
        with self.state.lock:
            entries = self.state.lists.get(viewer["id"], {})
            if eid not in entries:
                raise not_found(root)
            del entries[eid]
        return {root: {"deleted": True}}


# ---------------------------------------------------------------- HTTP


class App:
    def __init__(self, args):
        self.args = args
        self.cat = Catalogue(args.data_dir)
        self.state = State(self.cat, args)
        self.resolver = Resolver(self.cat, self.state)

    def graphql(self, body, headers):
        """(status, payload, extra headers) for one POST to the API."""
        try:
            req = json.loads(body.decode("utf-8")) if body.strip() else None
        except (ValueError, UnicodeDecodeError, RecursionError):
            return "(invalid)", GraphQLError(
                400, "Syntax Error: request body is not valid JSON.")
        if not isinstance(req, dict):
            return "(invalid)", GraphQLError(400, "Must provide query string.")
        doc = req.get("query")
        opname = req.get("operationName")
        variables = req.get("variables")
        if doc is not None and not isinstance(doc, str):
            return "(invalid)", GraphQLError(400, "Must provide query string.")
        if opname is not None and not isinstance(opname, str):
            return "(invalid)", GraphQLError(
                400, "Operation name must be a string.")
        if isinstance(variables, str) and variables.strip():
            try:
                variables = json.loads(variables)
            except (ValueError, RecursionError):
                variables = None
        if variables is None:
            variables = {}
        if not isinstance(variables, dict):
            return opname or "(invalid)", GraphQLError(
                400, "Variables are invalid JSON.")
        if not doc and not opname:
            return "(invalid)", GraphQLError(400, "Must provide query string.")

        ops = parse_document(doc) if doc else []
        kind = None
        decl = None
        sel = selection_set(doc) if doc else None
        cost = complexity(sel) if sel is not None else 0
        if cost > MAX_COMPLEXITY:
            return opname or "(anonymous)", GraphQLError(
                400, "Max query complexity should be %d but got %d."
                % (MAX_COMPLEXITY, cost))
        self.state.count_complexity(cost)
        fields = root_fields(sel) if sel is not None else []
        if len(ops) == 1 and ops[0][0] == "query" and (
                opname in (None, ops[0][1]) and (
                    ops[0][1] not in OPERATIONS or
                    any(f[0] != f[1] for f in fields))):
            # Root fields asked for by themselves (aliases: several in
            # one request).
            return ops[0][1], ("fields", ops[0][2], variables, fields)
        if ops:
            names = [o[1] for o in ops]
            if opname is None:
                if len(ops) > 1:
                    return "(invalid)", GraphQLError(
                        400, "Must provide operation name if query contains "
                        "multiple operations.")
                opname = names[0]
            if opname not in names:
                return opname, GraphQLError(
                    400, 'Unknown operation named "%s".' % opname)
            kind, _, decl = ops[names.index(opname)]
            if names.index(opname) != 0:
                sel = None      # the first operation's, not this one's
        if opname not in OPERATIONS:
            return opname or "(anonymous)", GraphQLError(
                400, "Unknown operation %s" % (opname or "(anonymous)"))
        root, is_mutation = OPERATIONS[opname]
        if kind is not None and (kind == "mutation") != is_mutation:
            return opname, GraphQLError(
                400, 'Cannot query field "%s" on type "%s".'
                % (root, "Mutation" if kind == "mutation" else "Query"))
        return opname, (decl, variables, sel)

    def viewer(self, headers):
        auth = headers.get("Authorization")
        if not auth:
            return None
        parts = auth.split(None, 1)
        if len(parts) != 2 or parts[0].lower() != "bearer":
            raise unauthorized()
        viewer = self.state.user_for_token(parts[1].strip())
        if viewer is None:
            raise unauthorized()
        return viewer

    def resolve_fields(self, decl, variables, fields, headers):
        """Each root field on its own: a field that fails is null with its
        error (path: its alias); the HTTP status is the first error's."""
        try:
            v = {name: coerce_var(name, t, variables.get(name))
                 for name, t in decl.items()}
            viewer = self.viewer(headers)
        except GraphQLError as e:
            return e.status, e.body()
        data, errors = {}, []
        for alias, field, args, body in fields:
            try:
                data[alias] = prune(self.resolver.field(field, args, body,
                                                        v, viewer), body)
            except GraphQLError as e:
                data[alias] = None
                err = {"message": e.message, "status": e.status,
                       "path": [alias]}
                err.update(e.extra)
                errors.append(err)
        payload = {"data": data}
        if errors:
            payload["errors"] = errors
        return (errors[0]["status"] if errors else 200), payload

    def resolve(self, opname, decl, variables, headers, sel=None):
        try:
            v = {}
            if decl is None:
                for name, value in variables.items():
                    t = DEFAULT_VAR_TYPES.get(name)
                    v[name] = coerce_var(name, t, value) if t else value
                if "status" in v and v["status"] is not None:
                    t = "MediaListStatus" if opname in (
                        "UserList", "SaveListEntry") else "MediaStatus"
                    v["status"] = coerce_var("status", t, v["status"])
            else:
                for name, t in decl.items():
                    v[name] = coerce_var(name, t, variables.get(name))
            viewer = None
            auth = headers.get("Authorization")
            if auth:
                parts = auth.split(None, 1)
                if len(parts) != 2 or parts[0].lower() != "bearer":
                    raise unauthorized()
                viewer = self.state.user_for_token(parts[1].strip())
                if viewer is None:
                    raise unauthorized()
            return 200, {"data": prune(self.resolver.run(opname, v, viewer),
                                       sel)}
        except GraphQLError as e:
            return e.status, e.body()

    # OAuth (README.md, "OAuth"): the user always approves at once.

    def authorize(self, query):
        q = urllib.parse.parse_qs(query, keep_blank_values=True)

        def one(k):
            return (q.get(k) or [""])[0]

        client_id, redirect = one("client_id"), one("redirect_uri")
        if client_id != self.args.client_id:
            return 400, {"error": "invalid_client",
                         "message": "Client authentication failed"}, None
        if one("response_type") != "code":
            return 400, {"error": "unsupported_response_type",
                         "message": "The authorization server does not "
                                    "support this response type."}, None
        parsed = urllib.parse.urlsplit(redirect)
        if self.args.redirect_uri and redirect != self.args.redirect_uri:
            return 400, {"error": "invalid_client",
                         "message": "Client authentication failed",
                         "hint": "redirect_uri does not match the client's"}, \
                None
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            return 400, {"error": "invalid_request",
                         "message": "The request is missing a required "
                                    "parameter: redirect_uri.",
                         "hint": "redirect_uri must be an absolute URL"}, None
        user = self.state.user_for_login(one("user"))
        code = secrets.token_urlsafe(24)
        with self.state.lock:
            now = time.time()
            for c in [c for c, v in self.state.codes.items()
                      if v["expires"] < now]:
                del self.state.codes[c]
            self.state.codes[code] = {"client_id": client_id,
                                      "redirect_uri": redirect,
                                      "user": user,
                                      "expires": now + CODE_LIFETIME}
        params = [("code", code)]
        if "state" in q:
            params.append(("state", one("state")))
        sep = "&" if parsed.query else "?"
        location = redirect + sep + urllib.parse.urlencode(params)
        return 302, None, location

    def token(self, body, content_type):
        def fail(hint):
            return 400, {"error": "invalid_request",
                         "error_description": "The request is missing a "
                         "required parameter, includes an invalid parameter "
                         "value, includes a parameter more than once, or is "
                         "otherwise malformed.",
                         "hint": hint,
                         "message": "The request is missing a required "
                         "parameter, includes an invalid parameter value, "
                         "includes a parameter more than once, or is "
                         "otherwise malformed."}

        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return fail("body is not UTF-8")
        params = None
        if "json" in (content_type or "") or text.lstrip().startswith("{"):
            try:
                params = json.loads(text)
            except (ValueError, RecursionError):
                return fail("body is not valid JSON")
            if not isinstance(params, dict):
                return fail("body must be a JSON object")
        else:
            params = {k: v[0] for k, v in
                      urllib.parse.parse_qs(text,
                                            keep_blank_values=True).items()}
        p = {k: (v if isinstance(v, str) else "" if v is None else str(v))
             for k, v in params.items()}
        if p.get("grant_type") != "authorization_code":
            return 400, {"error": "unsupported_grant_type",
                         "message": "The authorization grant type is not "
                                    "supported by the authorization server.",
                         "hint": "Check that all required parameters have "
                                 "been provided"}
        for k in ("client_id", "client_secret", "redirect_uri", "code"):
            if not p.get(k):
                return fail('Check the `%s` parameter' % k)
        if p["client_id"] != self.args.client_id or \
                not hmac.compare_digest(p["client_secret"].encode(),
                                        self.args.client_secret.encode()):
            return fail("Client authentication failed")
        with self.state.lock:
            grant = self.state.codes.pop(p["code"], None)
        if grant is None or grant["expires"] < time.time():
            return fail("Authorization code has expired or was revoked")
        if grant["client_id"] != p["client_id"]:
            return fail("Authorization code was not issued to this client")
        if grant["redirect_uri"] != p["redirect_uri"]:
            return fail("Invalid redirect URI")
        return 200, {"token_type": "Bearer", "expires_in": TOKEN_LIFETIME,
                     "access_token": self.state.make_token(
                         grant["user"], p["client_id"])}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Nagle + delayed ACK would add 40 ms to every other keep-alive answer.
    disable_nagle_algorithm = True
    server_version = "anilist-sample/1"
    sys_version = ""
    op = "-"
    started = 0.0
    timeout = 120  # idle keep-alive connections are closed after this

    app = None  # set in main()

    def version_string(self):
        return self.server_version

    def log_message(self, fmt, *args):
        if self.app.args.verbose:
            sys.stderr.write("%s %s\n" % (self.address_string(), fmt % args))

    def log_request(self, code="-", size="-"):
        if self.app.args.verbose:
            ms = (time.monotonic() - self.started) * 1000 \
                if self.started else 0.0
            self.log_message("%s %s %s %s %.1fms", self.command,
                             getattr(self, "path", "-"), self.op, str(code),
                             ms)

    def send_error(self, code, message=None, explain=None):
        """Errors raised by the HTTP parser, as JSON."""
        try:
            self.close_connection = True
            self._send(code, {"data": None, "errors": [
                {"message": message or "Bad Request", "status": code}]},
                count=False)
        except OSError:
            pass

    # Plumbing.

    def _read_body(self):
        """The request body, or None after an error reply was sent."""
        te = self.headers.get("Transfer-Encoding", "")
        if "chunked" in te.lower():
            chunks, total = [], 0
            while True:
                line = self.rfile.readline(65537)
                try:
                    size = int(line.split(b";")[0].strip() or b"x", 16)
                    if size < 0:
                        raise ValueError
                except ValueError:
                    self.send_error(400, "Bad chunked encoding")
                    return None
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n",
                                                             b""):
                        pass
                    return b"".join(chunks)
                total += size
                if total > MAX_BODY:
                    self.send_error(413, "Payload Too Large")
                    return None
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)
        length = self.headers.get("Content-Length")
        if length is None:
            return b""
        try:
            n = int(length)
            if n < 0:
                raise ValueError
        except ValueError:
            self.send_error(400, "Bad Content-Length")
            return None
        if n > MAX_BODY:
            self.send_error(413, "Payload Too Large")
            return None
        data = self.rfile.read(n)
        if len(data) < n:
            self.close_connection = True
            return None
        return data

    def _send(self, status, payload, extra=None, count=True, raw=None,
              content_type="application/json; charset=utf-8", delay=False):
        if raw is None:
            raw = b"" if payload is None else json.dumps(
                payload, separators=(",", ":")).encode("ascii")
        if delay:
            self._delay()
        limit, remaining = self.app.state.rate_headers(time.time())
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(raw)))
        self.send_header("X-RateLimit-Limit", str(limit))
        self.send_header("X-RateLimit-Remaining", str(remaining))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(raw)
        if count:
            self.app.state.count_status(status)

    def _drop(self):
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _guard(self, fn):
        self.op = "-"
        self.started = time.monotonic()
        try:
            fn()
        except (BrokenPipeError, ConnectionResetError, socket.timeout):
            self.close_connection = True
        except Exception as e:  # never let one request kill the server
            self.close_connection = True
            if self.app.args.verbose:
                import traceback
                traceback.print_exc()
            try:
                self._send(500, {"data": None, "errors": [
                    {"message": "Internal Server Error: %s" % type(e).__name__,
                     "status": 500}]})
            except OSError:
                pass

    def do_GET(self):
        self._guard(self._get)

    def do_HEAD(self):
        self._guard(self._get)

    def do_POST(self):
        self._guard(self._post)

    def do_PUT(self):
        self._guard(self._other)

    do_DELETE = do_PATCH = do_OPTIONS = do_PUT

    def _other(self):
        self._read_body()
        self._send(405, {"data": None, "errors": [
            {"message": "Method Not Allowed", "status": 405}]},
            extra={"Allow": "GET, POST"})

    def _path(self):
        path, _, query = self.path.partition("?")
        path = "/" + path.strip("/")
        if path.startswith("/__control/"):
            path = "/__" + path[len("/__control/"):]
        return path, query

    # Routes.

    def _get(self):
        path, query = self._path()
        st = self.app.state
        if path in ("/api/v2/oauth/authorize", "/oauth/authorize"):
            self.op = "oauth_authorize"
            st.count(self.op)
            if self._fault("oauth_authorize"):
                return
            status, payload, location = self.app.authorize(query)
            if status == 302:
                self._send(302, None, extra={"Location": location},
                           raw=b"", content_type="text/plain")
            else:
                self._send(status, payload)
        elif path == "/__stats":
            self._send(200, st.stats(), count=False)
        elif path == "/__fault":
            self._send(200, st.stats()["fault"], count=False)
        elif path == "/__config":
            self._send(200, st.get_config(), count=False)
        elif path == "/__health":
            self._send(200, {"ok": True}, count=False)
        elif path in ("/", "/graphql"):
            self._send(400, {"data": None, "errors": [
                {"message": "Must provide query string.", "status": 400}]})
        else:
            self._send(404, {"data": None, "errors": [
                {"message": "Not Found.", "status": 404}]})

    def _post(self):
        body = self._read_body()
        if body is None:
            return
        path, _ = self._path()
        if path.startswith("/__"):
            self._control(path, body)
        elif path in ("/", "/graphql"):
            self._graphql(body)
        elif path in ("/api/v2/oauth/token", "/oauth/token"):
            self.op = "oauth_token"
            self.app.state.count(self.op)
            if self._fault("oauth_token"):
                return
            self._delay()
            status, payload = self.app.token(
                body, self.headers.get("Content-Type"))
            self._send(status, payload, extra={"Cache-Control": "no-store"})
        else:
            self._send(404, {"data": None, "errors": [
                {"message": "Not Found.", "status": 404}]})

    def _delay(self):
        """The configured delay counts from the request's arrival: the
        answer leaves delay_ms after it came, whatever the stand-in's own
        work took (up to the delay), so the delay is the same fixed cost
        for every operation."""
        ms = self.app.state.get_config()["delay_ms"]
        if ms > 0:
            left = ms / 1000.0 - (time.monotonic() - self.started)
            if left > 0:
                time.sleep(left)

    def _fault(self, operation):
        """Apply an injected fault; True if the request is answered."""
        f = self.app.state.take_fault(operation)
        if f is None:
            return False
        mode = f["mode"]
        if mode == "slow":
            time.sleep(f.get("delay_ms", 500) / 1000.0)
            return False
        if mode == "drop":
            self.app.state.count_status("drop")
            self._drop()
            return True
        if mode == "hang":
            # Like a stopped process: read, never answer, until the fault
            # is cleared (then the connection is dropped).
            self.app.state.count_status("hang")
            end = time.monotonic() + HANG_LIMIT
            while time.monotonic() < end and \
                    self.app.state.fault_mode() == "hang":
                time.sleep(0.05)
            self._drop()
            return True
        if mode == "429":
            retry = f.get("retry_after", 2)
            self._send(429, {"data": None, "errors": [
                {"message": "Too Many Requests.", "status": 429}]},
                extra={"Retry-After": str(retry),
                       "X-RateLimit-Reset": str(int(time.time()) + retry)})
        elif mode == "403":
            self._send(403, {"data": None, "errors": [
                {"message": "API disabled", "status": 403}]})
        elif mode == "500":
            self._send(500, {"data": None, "errors": [
                {"message": "Internal Server Error", "status": 500}]})
        elif mode == "errors":
            self._send(200, {"data": None, "errors": [
                {"message": "Internal Server Error", "status": 500}]})
        return True

    def _graphql(self, body):
        app, st = self.app, self.app.state
        opname, parsed = app.graphql(body, self.headers)
        self.op = opname
        st.count(opname)
        if self._fault(opname):
            return
        now = time.time()
        allowed, limit, remaining, reset_at = st.rate_check(now)
        if not allowed:
            self._send(429, {"data": None, "errors": [
                {"message": "Too Many Requests.", "status": 429}]},
                extra={"Retry-After": str(max(1, math.ceil(reset_at - now))),
                       "X-RateLimit-Reset": str(math.ceil(reset_at))},
                delay=True)
            return
        if isinstance(parsed, GraphQLError):
            self._send(parsed.status, parsed.body(), delay=True)
            return
        if parsed[0] == "fields":
            status, payload = app.resolve_fields(parsed[1], parsed[2],
                                                 parsed[3], self.headers)
            self._send(status, payload, delay=True)
            return
        decl, variables, sel = parsed
        status, payload = app.resolve(opname, decl, variables, self.headers,
                                      sel)
        self._send(status, payload, delay=True)

    def _control(self, path, body):
        st = self.app.state
        try:
            spec = json.loads(body.decode("utf-8")) if body.strip() else {}
            if not isinstance(spec, dict):
                raise ValueError("body must be a JSON object")
            if path == "/__reset":
                st.reset()
                self._send(200, {"ok": True}, count=False)
            elif path == "/__fault":
                self._send(200, st.set_fault(spec), count=False)
            elif path == "/__config":
                self._send(200, st.set_config(spec), count=False)
            elif path == "/__token":
                lifetime = spec.get("expires_in", TOKEN_LIFETIME)
                if isinstance(lifetime, bool) or \
                        not isinstance(lifetime, int):
                    raise ValueError("expires_in must be an integer")
                user = st.user_for_login(str(spec.get("user") or ""))
                self._send(200, {
                    "token_type": "Bearer", "expires_in": lifetime,
                    "access_token": st.make_token(
                        user, self.app.args.client_id, lifetime),
                    "user": user}, count=False)
            else:
                self._send(404, {"error": "unknown control endpoint"},
                           count=False)
        except (ValueError, UnicodeDecodeError, RecursionError) as e:
            self._send(400, {"error": str(e)}, count=False)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 1024
    allow_reuse_address = True

    def server_bind(self):
        # HTTPServer.server_bind would call getfqdn(): a DNS wait offline.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def handle_error(self, request, client_address):
        if Handler.app is not None and Handler.app.args.verbose:
            super().handle_error(request, client_address)


# Operations added by a module of their own (franchises, staff, studios).
sys.path.insert(0, HERE)
import breadth_ops  # noqa: E402
breadth_ops.install(sys.modules[__name__])


def parse_args(argv):
    p = argparse.ArgumentParser(
        description="AniList stand-in (test double) for anilist-gpt.")
    p.add_argument("--port", type=int, required=True,
                   help="TCP port (0 picks a free one)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--delay-ms", type=int, default=0,
                   help="added latency for every API request")
    p.add_argument("--rate-limit", type=int, default=90,
                   help="requests per minute over all clients (0: none)")
    p.add_argument("--client-id", default="sample-client")
    p.add_argument("--client-secret", default="sample-secret")
    p.add_argument("--redirect-uri", default=None,
                   help="the client's registered redirect URI "
                        "(default: accept any absolute http(s) URL)")
    p.add_argument("--data-dir", default=os.path.join(HERE, "data"))
    p.add_argument("--verbose", action="store_true",
                   help="log one line per request on stderr")
    args = p.parse_args(argv)
    if args.delay_ms < 0 or args.rate_limit < 0:
        p.error("--delay-ms and --rate-limit must not be negative")
    return args


def main(argv=None):
    args = parse_args(argv)
    Handler.app = App(args)
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    Server.address_family = family
    httpd = Server((args.host, args.port), Handler)
    host, port = httpd.server_address[:2]
    print("listening on %s:%d" % (host, port), flush=True)
    try:
        httpd.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
