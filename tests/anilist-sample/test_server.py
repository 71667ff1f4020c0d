#!/usr/bin/env python3
"""Tests for the AniList stand-in (server.py), driven by src/anilist/queries.c.

The GraphQL documents come from src/anilist/queries.c (parsed here with a small
regex-based reader), so the stand-in is checked against the very documents
the service sends, and those documents are checked against AniList's schema
(data/anilist_schema_anihyou.graphqls).

Run: python3 tests/anilist-sample/test_server.py [-v]
Set ANILIST_SAMPLE_PORT=N to test a stand-in that is already running on
127.0.0.1:N instead of starting one (it is reset between tests).
"""

import base64
import faulthandler
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import unittest
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
QUERIES_C = os.path.join(ROOT, "src", "anilist", "queries.c")
SCHEMA = os.path.join(HERE, "data", "anilist_schema_anihyou.graphqls")
MEDIA = os.path.join(HERE, "data", "sample-media.json")
LISTS = os.path.join(HERE, "data",
                     "seanime_MediaListCollection_BoilerplateAnimeCollection"
                     ".json")
WATCHDOG_SECONDS = 300

OPERATIONS = ["SearchMedia", "TrendingMedia", "SeasonalMedia", "MediaDetails",
              "CharacterById", "CharacterSearch", "AiringSchedule",
              "GenresAndTags", "Viewer", "UserList", "SaveListEntry",
              "DeleteListEntry", "MediaListEntry",
              # breadth_ops.py (tested in test_breadth_ops.py)
              "FranchiseHop", "MediaByIds", "StaffInfo", "StudioInfo", "UserAiring",
              "UserProfile", "ToggleFavourite"]


# ------------------------------------------------------------ queries.c


C_STRING = r'"(?:[^"\\\n]|\\.)*"'


def c_unescape(body):
    table = {"n": "\n", "t": "\t", "\\": "\\", '"': '"', "'": "'",
             "r": "\r", "0": "\0"}
    return re.sub(r"\\(.)", lambda m: table.get(m.group(1), m.group(1)),
                  body)


def load_queries(path=QUERIES_C):
    """{operation name: document} from the queries_ops table of queries.c."""
    with open(path, encoding="utf-8") as f:
        src = f.read()
    src = re.sub(r"/\*.*?\*/", " ", src, flags=re.S)
    src = src.replace("\\\n", " ")
    macros = {m.group(1): m.group(2) for m in
              re.finditer(r"^[ \t]*#[ \t]*define[ \t]+(\w+)[ \t]+(.*)$",
                          src, re.M)}

    def expand(expr, depth=0):
        if depth > 10:
            raise ValueError("macro recursion")
        out = []
        for tok in re.finditer(C_STRING + r"|\w+|\S", expr):
            t = tok.group(0)
            if t.startswith('"'):
                out.append(c_unescape(t[1:-1]))
            elif t in macros:
                out.append(expand(macros[t], depth + 1))
            else:
                raise ValueError("unexpected token %r in a document" % t)
        return "".join(out)

    docs = {}
    for m in re.finditer(r"const\s+char\s+(queries_\w+)\s*\[\s*\]\s*=\s*"
                         r"((?:" + C_STRING + r"|\s+|\w+)+);", src):
        docs[m.group(1)] = expand(m.group(2))
    table = re.search(r"queries_ops\s*\[\s*\]\s*=\s*\{(.*?)\n\};", src, re.S)
    if table is None:
        raise ValueError("no queries_ops table in " + path)
    ops = {}
    for m in re.finditer(r"\{\s*(" + C_STRING + r")\s*,\s*(queries_\w+)\s*\}",
                         table.group(1)):
        ops[c_unescape(m.group(1)[1:-1])] = docs[m.group(2)]
    return ops


QUERIES = load_queries()


# ------------------------------------------------------------ GraphQL check


TOKEN_RE = re.compile(r'''
    (?P<ws>[\s,\ufeff]+|\#[^\n]*)
  | (?P<block>"""[\s\S]*?""")
  | (?P<str>"(?:[^"\\\n]|\\.)*")
  | (?P<spread>\.\.\.)
  | (?P<punct>[!$&()\[\]{}:=@|])
  | (?P<num>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
  | (?P<name>[_A-Za-z][_0-9A-Za-z]*)
''', re.X)


def tokenize(text):
    toks, pos = [], 0
    while pos < len(text):
        m = TOKEN_RE.match(text, pos)
        if m is None:
            raise SyntaxError("bad character %r at %d" % (text[pos], pos))
        pos = m.end()
        kind = m.lastgroup
        if kind == "ws":
            continue
        if kind == "block":
            kind = "str"
        toks.append((kind, m.group(0)))
    toks.append(("eof", ""))
    return toks


class TokenStream:
    def __init__(self, text):
        self.toks = tokenize(text)
        self.i = 0

    def peek(self, value=None):
        kind, v = self.toks[self.i]
        if value is None:
            return kind, v
        return v == value and kind in ("punct", "name", "spread")

    def next(self):
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def expect(self, value):
        kind, v = self.next()
        if v != value:
            raise SyntaxError("expected %r, got %r" % (value, v))

    def name(self):
        kind, v = self.next()
        if kind != "name":
            raise SyntaxError("expected a name, got %r" % v)
        return v

    def skip_desc(self):
        while self.peek()[0] == "str":
            self.next()

    def type_ref(self):
        if self.peek("["):
            self.next()
            inner = self.type_ref()
            self.expect("]")
            t = "[" + inner + "]"
        else:
            t = self.name()
        if self.peek("!"):
            self.next()
            t += "!"
        return t

    def value(self):
        kind, v = self.next()
        if v == "$" and kind == "punct":
            return ("var", self.name())
        if v == "[" and kind == "punct":
            items = []
            while not self.peek("]"):
                items.append(self.value())
            self.next()
            return ("list", items)
        if v == "{" and kind == "punct":
            fields = {}
            while not self.peek("}"):
                k = self.name()
                self.expect(":")
                fields[k] = self.value()
            self.next()
            return ("obj", fields)
        if kind == "str":
            return ("str", v)
        if kind == "num":
            return ("float" if re.search(r"[.eE]", v) else "int", v)
        if kind == "name":
            if v in ("true", "false"):
                return ("bool", v)
            if v == "null":
                return ("null", v)
            return ("enum", v)
        raise SyntaxError("bad value %r" % v)

    def directives(self):
        while self.peek("@"):
            self.next()
            self.name()
            if self.peek("("):
                self.next()
                while not self.peek(")"):
                    self.name()
                    self.expect(":")
                    self.value()
                self.next()


def base_type(t):
    return t.replace("[", "").replace("]", "").replace("!", "")


class Schema:
    """The parts of an SDL document a query check needs."""

    def __init__(self, text):
        self.objects = {}    # type/interface name -> {field: (args, type)}
        self.inputs = {}     # input name -> {field: type}
        self.enums = {}
        self.scalars = {"Int", "Float", "String", "Boolean", "ID"}
        self.unions = set()
        s = TokenStream(text)
        while s.peek()[0] != "eof":
            s.skip_desc()
            kw = s.name()
            if kw == "extend":
                kw = s.name()
            if kw in ("type", "interface", "input"):
                name = s.name()
                if s.peek("implements"):
                    s.next()
                    while s.peek("&") or (s.peek()[0] == "name"):
                        s.next()
                s.directives()
                fields = {}
                if s.peek("{"):
                    s.next()
                    while not s.peek("}"):
                        s.skip_desc()
                        fname = s.name()
                        args = {}
                        if s.peek("("):
                            s.next()
                            while not s.peek(")"):
                                s.skip_desc()
                                aname = s.name()
                                s.expect(":")
                                args[aname] = s.type_ref()
                                if s.peek("="):
                                    s.next()
                                    s.value()
                                s.directives()
                            s.next()
                        s.expect(":")
                        ftype = s.type_ref()
                        if s.peek("="):
                            s.next()
                            s.value()
                        s.directives()
                        fields[fname] = (args, ftype)
                    s.next()
                if kw == "input":
                    self.inputs[name] = {k: v[1] for k, v in fields.items()}
                else:
                    self.objects.setdefault(name, {}).update(fields)
            elif kw == "enum":
                name = s.name()
                s.directives()
                values = set()
                s.expect("{")
                while not s.peek("}"):
                    s.skip_desc()
                    values.add(s.name())
                    s.directives()
                s.next()
                self.enums[name] = values
            elif kw == "scalar":
                self.scalars.add(s.name())
                s.directives()
            elif kw == "union":
                self.unions.add(s.name())
                s.directives()
                s.expect("=")
                if s.peek("|"):
                    s.next()
                s.name()
                while s.peek("|"):
                    s.next()
                    s.name()
            elif kw == "schema":
                s.directives()
                s.expect("{")
                while not s.peek("}"):
                    s.next()
                s.next()
            elif kw == "directive":
                s.expect("@")
                s.name()
                if s.peek("("):
                    depth = 0
                    while True:
                        kind, v = s.next()
                        if v == "(" and kind == "punct":
                            depth += 1
                        elif v == ")" and kind == "punct":
                            depth -= 1
                            if depth == 0:
                                break
                if s.peek("repeatable"):
                    s.next()
                s.expect("on")
                if s.peek("|"):
                    s.next()
                s.name()
                while s.peek("|"):
                    s.next()
                    s.name()
            else:
                raise SyntaxError("unknown definition " + kw)

    def is_leaf(self, name):
        return name in self.scalars or name in self.enums

    def check(self, doc):
        """A list of problems with one operation document (empty: valid)."""
        errors = []
        s = TokenStream(doc)
        kind = s.name()
        if kind not in ("query", "mutation"):
            return ["document must start with query or mutation"]
        if s.peek()[0] != "name":
            errors.append("operation has no name")
        else:
            s.next()
        declared = {}
        if s.peek("("):
            s.next()
            while not s.peek(")"):
                s.expect("$")
                vname = s.name()
                s.expect(":")
                vtype = s.type_ref()
                if s.peek("="):
                    s.next()
                    s.value()
                b = base_type(vtype)
                if not (self.is_leaf(b) or b in self.inputs):
                    errors.append("$%s has unknown type %s" % (vname, vtype))
                declared[vname] = vtype
            s.next()
        s.directives()
        used = set()
        root = "Mutation" if kind == "mutation" else "Query"
        self.fields = 0
        self._selection(s, root, declared, used, errors, root)
        # AniList counts about one point of complexity per field; max 500.
        if self.fields > 500:
            errors.append("%d fields: above AniList's complexity limit"
                          % self.fields)
        if s.peek()[0] != "eof":
            errors.append("text after the operation: %r" % (s.peek()[1],))
        for v in sorted(set(declared) - used):
            errors.append("$%s is declared but never used" % v)
        return errors

    def _selection(self, s, parent, declared, used, errors, path):
        s.expect("{")
        fields = self.objects.get(parent, {})
        data_fields = []
        while not s.peek("}"):
            if s.peek("..."):
                errors.append("%s: fragments are not checked" % path)
                return
            name = s.name()
            if s.peek(":"):
                s.next()
                name = s.name()
            here = path + "." + name
            self.fields += 1
            if name == "__typename":
                ftype, fargs = "String", {}
            elif name not in fields:
                errors.append("%s: no field %s on %s" % (here, name, parent))
                ftype, fargs = None, {}
            else:
                fargs, ftype = fields[name]
            if parent == "Page" and name != "pageInfo":
                data_fields.append(name)
            if s.peek("("):
                s.next()
                while not s.peek(")"):
                    aname = s.name()
                    s.expect(":")
                    value = s.value()
                    if ftype is None:
                        continue
                    if aname not in fargs:
                        errors.append("%s: no argument %s" % (here, aname))
                        continue
                    self._check_value(value, fargs[aname], declared, used,
                                      errors, here + "(" + aname + ")")
                    if aname == "perPage" and value[0] == "int" and \
                            int(value[1]) > 25:
                        errors.append("%s: nested perPage above 25" % here)
                s.next()
            s.directives()
            leaf = ftype is not None and self.is_leaf(base_type(ftype))
            if s.peek("{"):
                if leaf:
                    errors.append("%s: leaf field has a selection" % here)
                self._selection(s, base_type(ftype) if ftype else "?",
                                declared, used, errors, here)
            elif ftype is not None and not leaf:
                errors.append("%s: %s needs a selection" % (here, ftype))
        s.next()
        if len(data_fields) > 1:
            errors.append("%s: Page selects more than one list: %s"
                          % (path, data_fields))

    def _check_value(self, value, atype, declared, used, errors, where):
        kind, v = value
        if kind == "var":
            used.add(v)
            if v not in declared:
                errors.append("%s: $%s is not declared" % (where, v))
            elif declared[v].replace("!", "") != atype.replace("!", ""):
                errors.append("%s: $%s is %s, argument wants %s"
                              % (where, v, declared[v], atype))
            return
        if kind == "null":
            return
        t = atype.rstrip("!")
        if t.startswith("["):
            inner = t[1:-1]
            for item in (v if kind == "list" else [value]):
                self._check_value(item, inner, declared, used, errors, where)
            return
        ok = {
            "Int": kind == "int",
            "Float": kind in ("int", "float"),
            "String": kind == "str",
            "Boolean": kind == "bool",
        }.get(t)
        if t in self.enums:
            ok = kind == "enum" and v in self.enums[t]
        elif t in self.inputs:
            ok = kind == "obj" and set(v) <= set(self.inputs[t])
        if ok is False:
            errors.append("%s: %s is not a valid %s" % (where, v, atype))


# ------------------------------------------------------------ the server


PORT = None
PROC = None


def start_server():
    global PORT, PROC
    if os.environ.get("ANILIST_SAMPLE_PORT"):
        PORT = int(os.environ["ANILIST_SAMPLE_PORT"])
        return
    PROC = subprocess.Popen(
        [sys.executable, os.path.join(HERE, "server.py"), "--port", "0",
         "--host", "127.0.0.1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = PROC.stdout.readline()
    m = re.match(r"listening on 127\.0\.0\.1:(\d+)$", line.strip())
    if not m:
        PROC.kill()
        raise RuntimeError("server did not start: %r %s"
                           % (line, PROC.stderr.read()))
    PORT = int(m.group(1))


def stop_server():
    if PROC is not None:
        PROC.terminate()
        try:
            PROC.wait(10)
        except subprocess.TimeoutExpired:
            PROC.kill()
        PROC.stdout.close()
        PROC.stderr.close()


def setUpModule():
    faulthandler.dump_traceback_later(WATCHDOG_SECONDS, exit=True)
    start_server()


def tearDownModule():
    stop_server()
    faulthandler.cancel_dump_traceback_later()


class Response:
    def __init__(self, status, headers, raw):
        self.status = status
        self.headers = headers
        self.raw = raw

    def json(self):
        return json.loads(self.raw.decode("utf-8"))


def request(method, path, body=None, headers=None, conn=None, timeout=20):
    own = conn is None
    if own:
        conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=timeout)
    try:
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
            headers = dict(headers or {}, **{
                "Content-Type": "application/json"})
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        raw = resp.read()
        return Response(resp.status,
                        {k.lower(): v for k, v in resp.getheaders()}, raw)
    finally:
        if own:
            conn.close()


def gql(name, variables=None, token=None, conn=None, document=None,
        operation_name=True):
    body = {"query": QUERIES[name] if document is None else document,
            "variables": variables or {}}
    if operation_name:
        body["operationName"] = name
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = "Bearer " + token
    return request("POST", "/", body, headers, conn=conn)


def control(what, spec=None):
    r = request("POST", "/__" + what, spec or {})
    assert r.status == 200, (what, r.status, r.raw)
    return r.json()


def stats():
    return request("GET", "/__stats").json()


def load_data():
    with open(MEDIA, encoding="utf-8") as f:
        return json.load(f)["media"]


DATA = load_data()
BY_ID = {m["id"]: m for m in DATA}


class Base(unittest.TestCase):
    maxDiff = 4000

    def setUp(self):
        control("reset")

    def ok(self, name, variables=None, token=None):
        r = gql(name, variables, token)
        self.assertEqual(r.status, 200, r.raw[:500])
        body = r.json()
        self.assertNotIn("errors", body)
        return body["data"]

    def all_pages(self, name, variables, root="media", limit=60):
        """Every item over all pages, following hasNextPage."""
        control("config", {"rate_limit": 0})
        items, page = [], 1
        while True:
            data = self.ok(name, dict(variables, page=page, perPage=50))
            items.extend(data["Page"][root])
            if not data["Page"]["pageInfo"]["hasNextPage"]:
                return items
            page += 1
            self.assertLess(page, limit)


# ------------------------------------------------------------ the documents


class TestQueriesFile(Base):
    def setUp(self):
        pass

    def test_every_operation_is_in_the_table(self):
        self.assertEqual(sorted(QUERIES), sorted(OPERATIONS))

    def test_each_document_names_its_operation(self):
        for name, doc in QUERIES.items():
            kind = "mutation" if name in ("SaveListEntry",
                                          "DeleteListEntry",
                                          "ToggleFavourite") else "query"
            self.assertRegex(doc, r"^%s %s\b" % (kind, name))

    def test_documents_are_valid_against_the_anilist_schema(self):
        with open(SCHEMA, encoding="utf-8") as f:
            schema = Schema(f.read())
        for name, doc in QUERIES.items():
            with self.subTest(operation=name):
                self.assertEqual(schema.check(doc), [])

    def test_schema_check_catches_mistakes(self):
        with open(SCHEMA, encoding="utf-8") as f:
            schema = Schema(f.read())
        bad = ("query X($id:Int,$s:String){Media(id:$s,nope:1)"
               "{id title nonsense tags{name}}}")
        problems = schema.check(bad)
        text = "\n".join(problems)
        for part in ("no argument nope", "no field nonsense",
                     "$s is String", "title: MediaTitle needs a selection",
                     "$id is declared but never used"):
            self.assertIn(part, text)


# ------------------------------------------------------------ media


class TestSearchMedia(Base):
    def test_exact_title_ranks_first(self):
        data = self.ok("SearchMedia", {"search": "Initial D FOURTH STAGE"})
        self.assertEqual(data["Page"]["media"][0]["id"], 18)

    def test_search_is_case_insensitive_over_all_titles(self):
        for q in ("initial d 4th stage", "INITIAL D FOURTH", "頭文字"):
            with self.subTest(search=q):
                ids = [m["id"] for m in
                       self.ok("SearchMedia", {"search": q})["Page"]["media"]]
                self.assertIn(18, ids)

    def test_search_match_orders_exact_prefix_substring(self):
        items = self.all_pages("SearchMedia", {"search": "one piece"})
        self.assertGreater(len(items), 3)

        def rank(m):
            t = m["title"]
            names = [re.sub(r"[^\w]+", " ", x.casefold()).strip()
                     for x in (t["romaji"], t["english"], t["native"],
                               t["userPreferred"]) + tuple(m["synonyms"])
                     if x]
            if "one piece" in names:
                return 0
            if any(n.startswith("one piece") for n in names):
                return 1
            return 2
        ranks = [rank(m) for m in items]
        self.assertEqual(ranks, sorted(ranks))

    def test_result_shape_has_the_compact_fields(self):
        m = self.ok("SearchMedia", {"search": "Initial D FOURTH STAGE",
                                    "perPage": 1})["Page"]["media"][0]
        for k in ("id", "title", "synonyms", "format", "status",
                  "episodes", "duration", "season", "seasonYear",
                  "startDate", "genres", "averageScore", "meanScore",
                  "popularity", "favourites", "isAdult", "coverImage",
                  "siteUrl", "nextAiringEpisode", "studios", "tags",
                  "description", "source", "countryOfOrigin"):
            self.assertIn(k, m)
        self.assertEqual(m["title"]["english"], "Initial D 4th Stage")
        self.assertIn("large", m["coverImage"])
        self.assertTrue(all(t["rank"] is None for t in m["tags"]))
        self.assertTrue(all(isinstance(s["id"], int)
                            for s in m["studios"]["nodes"]))
        self.assertNotIn("mainCharacterNames", m)
        # As AniList: only what the document asks for.
        self.assertNotIn("idMal", m)

    def test_studio_ids_are_stable(self):
        a = self.ok("SearchMedia", {"search": "Initial D FOURTH STAGE"})
        b = self.ok("SearchMedia", {"search": "Initial D FOURTH STAGE"})
        self.assertEqual(a["Page"]["media"][0]["studios"],
                         b["Page"]["media"][0]["studios"])

    def filtered(self, variables, pred):
        got = self.all_pages("SearchMedia", variables)
        want = [m["id"] for m in DATA if pred(m)]
        self.assertEqual(sorted(m["id"] for m in got), sorted(want))
        self.assertGreater(len(want), 0)
        return got

    def test_genre_filter(self):
        self.filtered({"genre_in": ["Sports"]},
                      lambda m: "Sports" in m["genres"])

    def test_several_genres_must_all_match(self):
        self.filtered({"genre_in": ["Action", "Comedy"]},
                      lambda m: {"Action", "Comedy"} <= set(m["genres"]))

    def test_genre_match_any_when_configured(self):
        control("config", {"genre_match": "any"})
        self.filtered({"genre_in": ["Sports", "Horror"]},
                      lambda m: {"Sports", "Horror"} & set(m["genres"]))

    def test_tag_filter(self):
        self.filtered({"tag_in": ["Cars"]},
                      lambda m: "Cars" in [t["name"] for t in m["tags"]])

    def test_season_and_year(self):
        self.filtered({"season": "SPRING", "seasonYear": 2013},
                      lambda m: (m["season"], m["seasonYear"])
                      == ("SPRING", 2013))

    def test_status_and_format(self):
        self.filtered({"status": "RELEASING", "format": "TV"},
                      lambda m: m["status"] == "RELEASING"
                      and m["format"] == "TV")

    def test_average_score_greater(self):
        self.filtered({"averageScore_greater": 80},
                      lambda m: (m["averageScore"] or 0) > 80)

    def test_is_adult_false_excludes_adult_titles(self):
        self.filtered({"isAdult": False}, lambda m: not m["isAdult"])

    def test_is_adult_omitted_includes_adult_titles(self):
        got = self.all_pages("SearchMedia", {"genre_in": ["Hentai"]})
        self.assertTrue(any(m["isAdult"] for m in got))

    def test_type_manga_finds_nothing_in_an_anime_catalogue(self):
        data = self.ok("SearchMedia", {"type": "MANGA"})
        self.assertEqual(data["Page"]["media"], [])
        self.assertFalse(data["Page"]["pageInfo"]["hasNextPage"])

    def check_order(self, sort, key, reverse):
        items = self.all_pages("SearchMedia", {"sort": sort})
        self.assertEqual(len(items), len(DATA))
        values = [key(m) for m in items]
        known = [v for v in values if v is not None]
        self.assertEqual(known, sorted(known, reverse=reverse))
        # Nulls come last.
        self.assertEqual(values, known + [None] * (len(values) - len(known)))

    def test_sort_popularity_desc(self):
        self.check_order(["POPULARITY_DESC"], lambda m: m["popularity"], True)

    def test_sort_score_desc_puts_unknown_scores_last(self):
        self.check_order(["SCORE_DESC"], lambda m: m["averageScore"], True)

    def test_sort_start_date_desc(self):
        def key(m):
            d = m["startDate"]
            return (d["year"], d["month"] or 0, d["day"] or 0) \
                if d and d["year"] else None
        self.check_order(["START_DATE_DESC"], key, True)

    def test_sort_id(self):
        self.check_order(["ID"], lambda m: m["id"], False)

    def test_sort_trending_desc(self):
        control("config", {"rate_limit": 0})
        data = self.ok("TrendingMedia", {"perPage": 50})
        values = [m["trending"] for m in data["Page"]["media"]]
        self.assertEqual(values, sorted(values, reverse=True))

    def test_sort_by_two_keys(self):
        items = self.all_pages("SearchMedia", {"sort": ["FORMAT",
                                                         "POPULARITY_DESC"],
                                               "season": "SPRING",
                                               "seasonYear": 2025})
        keys = [(m["format"] or "~", -(m["popularity"] or 0)) for m in items]
        self.assertEqual(keys, sorted(keys))

    def test_pages_cover_the_results_once(self):
        control("config", {"rate_limit": 0})
        full = self.all_pages("SearchMedia", {"sort": ["POPULARITY_DESC"]})
        ids = [m["id"] for m in full]
        self.assertEqual(len(ids), len(set(ids)))
        small = []
        for page in (1, 2, 3):
            d = self.ok("SearchMedia", {"sort": ["POPULARITY_DESC"],
                                        "page": page, "perPage": 7})
            self.assertEqual(d["Page"]["pageInfo"]["currentPage"], page)
            self.assertEqual(d["Page"]["pageInfo"]["perPage"], 7)
            self.assertTrue(d["Page"]["pageInfo"]["hasNextPage"])
            small.extend(m["id"] for m in d["Page"]["media"])
        self.assertEqual(small, ids[:21])

    def test_has_next_page_is_false_exactly_on_the_last_page(self):
        n = sum(1 for m in DATA if m["season"] == "SUMMER"
                and m["seasonYear"] == 1971)
        self.assertEqual(n, 1)
        v = {"season": "FALL", "seasonYear": 1971, "perPage": 5}
        n = sum(1 for m in DATA if (m["season"], m["seasonYear"])
                == ("FALL", 1971))
        last = (n + 4) // 5
        for page in range(1, last + 2):
            d = self.ok("SearchMedia", dict(v, page=page))["Page"]
            self.assertEqual(d["pageInfo"]["hasNextPage"], page < last)
            want = max(0, min(5, n - (page - 1) * 5))
            self.assertEqual(len(d["media"]), want)

    def test_per_page_is_capped_at_50(self):
        d = self.ok("SearchMedia", {"perPage": 500})["Page"]
        self.assertEqual(d["pageInfo"]["perPage"], 50)
        self.assertEqual(len(d["media"]), 50)

    def test_bad_enum_value_is_a_400(self):
        r = gql("SearchMedia", {"season": "AUTUMN"})
        self.assertEqual(r.status, 400)
        body = r.json()
        self.assertIsNone(body["data"])
        self.assertIn("$season", body["errors"][0]["message"])
        self.assertEqual(body["errors"][0]["status"], 400)

    def test_bad_int_value_is_a_400(self):
        for bad in ("2", 1.5, True, 2 ** 40):
            r = gql("SearchMedia", {"seasonYear": bad})
            self.assertEqual(r.status, 400, bad)

    def test_null_variables_do_not_filter(self):
        d = self.ok("SearchMedia", {"search": None, "genre_in": None,
                                    "sort": None, "isAdult": None})
        self.assertEqual(len(d["Page"]["media"]), 50)
        self.assertEqual(d["Page"]["media"][0]["id"], min(BY_ID))


class TestTrendingAndSeasonal(Base):
    def test_trending_is_sorted_and_filters_adult(self):
        d = self.ok("TrendingMedia", {"perPage": 50, "type": "ANIME",
                                      "isAdult": False})["Page"]
        self.assertEqual(len(d["media"]), 50)
        self.assertTrue(d["pageInfo"]["hasNextPage"])
        self.assertFalse(any(m["isAdult"] for m in d["media"]))
        t = [m["trending"] for m in d["media"]]
        self.assertTrue(all(isinstance(x, int) for x in t))
        self.assertEqual(t, sorted(t, reverse=True))

    def test_seasonal_filters_and_sorts_by_popularity(self):
        items = self.all_pages("SeasonalMedia", {"season": "WINTER",
                                                 "seasonYear": 2026,
                                                 "isAdult": False})
        want = {m["id"] for m in DATA if m["season"] == "WINTER"
                and m["seasonYear"] == 2026 and not m["isAdult"]}
        self.assertEqual({m["id"] for m in items}, want)
        pops = [m["popularity"] for m in items]
        self.assertEqual(pops, sorted(pops, reverse=True))


class TestMediaDetails(Base):
    def test_details_of_a_title(self):
        m = self.ok("MediaDetails", {"id": 18})["Media"]
        self.assertEqual(m["id"], 18)
        self.assertEqual(m["endDate"], {"year": 2006, "month": 2, "day": 18})
        self.assertEqual(m["trailer"]["site"], "youtube")
        self.assertTrue(m["bannerImage"].startswith("https://"))
        self.assertNotIn("hashtag", m)           # not asked for
        self.assertEqual(sum(s["amount"] for s in
                             m["stats"]["statusDistribution"]),
                         2930 + 30267 + 1370 + 544 + 8035)
        edges = m["characters"]["edges"]
        self.assertEqual([e["node"]["name"]["full"] for e in edges],
                         BY_ID[18]["mainCharacterNames"][:10])
        self.assertTrue(all(e["role"] == "MAIN" for e in edges))
        self.assertEqual(m["recommendations"]["nodes"], [])
        self.assertIsInstance(m["relations"]["edges"], list)
        # Not in the data: none, as AniList answers a title without them.
        self.assertEqual(m["externalLinks"], [])
        self.assertEqual(m["reviews"]["nodes"], [])
        self.assertIsNone(m["stats"]["scoreDistribution"])

    def test_unknown_id_is_a_404_like_anilist(self):
        r = gql("MediaDetails", {"id": 999999999})
        self.assertEqual(r.status, 404)
        self.assertEqual(r.json(), {"data": {"Media": None}, "errors": [
            {"message": "Not Found.", "status": 404}]})

    def test_type_must_match_like_anilist(self):
        # Media(id, type): the sample holds anime only, so MANGA is no
        # match (null and a 404, as AniList answers an id of the other
        # type); ANIME finds the title as before.
        r = gql("MediaDetails", {"id": 18, "type": "MANGA"})
        self.assertEqual(r.status, 404)
        self.assertEqual(r.json()["data"], {"Media": None})
        m = self.ok("MediaDetails", {"id": 18, "type": "ANIME"})["Media"]
        self.assertEqual((m["id"], m["type"]), (18, "ANIME"))

    def test_manga_pages_are_empty(self):
        for op, v in (("SearchMedia", {"search": "initial d"}),
                      ("SearchMedia", {}), ("TrendingMedia", {})):
            with self.subTest(operation=op, variables=v):
                page = self.ok(op, dict(v, type="MANGA"))["Page"]
                self.assertEqual(page["media"], [])
                self.assertFalse(page["pageInfo"]["hasNextPage"])

    def test_relations_link_titles_sharing_main_characters(self):
        ids = [m["id"] for m in DATA if m["title"]["romaji"] in
               ("SLAM DUNK", "SLAM DUNK (Movie)")]
        self.assertEqual(len(ids), 2)
        m = self.ok("MediaDetails", {"id": ids[0]})["Media"]
        linked = {e["node"]["id"]: e["relationType"]
                  for e in m["relations"]["edges"]}
        self.assertIn(ids[1], linked)
        node = m["relations"]["edges"][0]["node"]
        for k in ("id", "title", "format", "type", "status"):
            self.assertIn(k, node)

    def test_community_recommendations_switch(self):
        control("config", {"community_recommendations": True})
        m = self.ok("MediaDetails", {"id": 18})["Media"]
        nodes = m["recommendations"]["nodes"]
        self.assertGreater(len(nodes), 0)
        self.assertLessEqual(len(nodes), 10)
        ratings = [n["rating"] for n in nodes]
        self.assertEqual(ratings, sorted(ratings, reverse=True))
        mine = set(BY_ID[18]["genres"]) | {t["name"] for t in
                                           BY_ID[18]["tags"]}
        for n in nodes:
            rec = n["mediaRecommendation"]
            self.assertNotEqual(rec["id"], 18)
            # the details ask for a recommended title's genres, not tags
            self.assertNotIn("tags", rec)
            theirs = set(BY_ID[rec["id"]]["genres"]) | {
                t["name"] for t in BY_ID[rec["id"]]["tags"]}
            self.assertEqual(n["rating"], 10 * len(mine & theirs))


class TestCharacters(Base):
    def test_search_and_lookup(self):
        d = self.ok("CharacterSearch", {"search": "takumi fujiwara"})
        c = d["Page"]["characters"][0]
        self.assertEqual(c["name"]["full"], "Takumi Fujiwara")
        self.assertIn("alternative", c["name"])
        self.assertIsNone(c["gender"])
        self.assertIsNone(c["age"])
        self.assertIsNone(c["favourites"])
        media = {e["node"]["id"]: e["characterRole"]
                 for e in c["media"]["edges"]}
        self.assertEqual(media.get(18), "MAIN")
        again = self.ok("CharacterById", {"id": c["id"]})["Character"]
        self.assertEqual(again["name"]["full"], "Takumi Fujiwara")
        self.assertEqual(again["id"], c["id"])

    def test_details_characters_resolve_by_id(self):
        m = self.ok("MediaDetails", {"id": 18})["Media"]
        cid = m["characters"]["edges"][0]["node"]["id"]
        c = self.ok("CharacterById", {"id": cid})["Character"]
        self.assertIn(18, [e["node"]["id"] for e in c["media"]["edges"]])

    def test_unknown_character_is_a_404(self):
        r = gql("CharacterById", {"id": 1})
        self.assertEqual(r.status, 404)
        self.assertEqual(r.json()["data"], {"Character": None})

    def test_search_pages(self):
        d = self.ok("CharacterSearch", {"search": "a", "perPage": 3})["Page"]
        self.assertEqual(len(d["characters"]), 3)
        self.assertTrue(d["pageInfo"]["hasNextPage"])


class TestAiringAndCollections(Base):
    def test_airing_window(self):
        times = sorted(m["nextAiringEpisode"]["airingAt"] for m in DATA
                       if m["nextAiringEpisode"])
        lo, hi = times[10], times[60]
        items = self.all_pages("AiringSchedule",
                               {"airingAt_greater": lo,
                                "airingAt_lesser": hi},
                               root="airingSchedules")
        got = [a["airingAt"] for a in items]
        self.assertEqual(got, sorted(got))
        self.assertEqual(len(got), sum(1 for t in times if lo < t < hi))
        now = time.time()
        for a in items:
            self.assertEqual(a["media"]["nextAiringEpisode"]["airingAt"],
                             a["airingAt"])
            self.assertAlmostEqual(a["timeUntilAiring"], a["airingAt"] - now,
                                   delta=30)
            self.assertIsInstance(a["id"], int)

    def test_genres_and_tags(self):
        d = self.ok("GenresAndTags")
        self.assertEqual(d["GenreCollection"],
                         sorted({g for m in DATA for g in m["genres"]}))
        names = [t["name"] for t in d["MediaTagCollection"]]
        self.assertEqual(set(names), {t["name"] for m in DATA
                                      for t in m["tags"]})
        self.assertTrue(all(t["category"] is None
                            for t in d["MediaTagCollection"]))


# ------------------------------------------------------------ protocol


class TestProtocol(Base):
    def test_any_operation_name_is_answered_by_its_fields(self):
        r = request("POST", "/", {"query": "query Nope{Viewer{id}}",
                                  "operationName": "Nope"})
        self.assertEqual(r.status, 401)
        self.assertEqual(r.json(), {"data": {"Viewer": None}, "errors": [
            {"message": "Invalid token", "status": 401,
             "path": ["Viewer"]}]})
        r = request("POST", "/", {"query": "query Nope{Bogus{id}}"})
        self.assertEqual(r.status, 400)
        self.assertIn('Cannot query field "Bogus"',
                      r.json()["errors"][0]["message"])

    def test_aliased_fields_answer_each_on_its_own(self):
        doc = ("query Batch($a_search:String,$a_perPage:Int,$b_id:Int,"
               "$c_id:Int){a_Page:Page(perPage:$a_perPage){pageInfo{"
               "hasNextPage} media(search:$a_search,sort:[SEARCH_MATCH]){"
               "id}} b_Media:Media(id:$b_id){id status} "
               "c_Media:Media(id:$c_id){id}}")
        r = request("POST", "/", {"query": doc, "operationName": "Batch",
                                  "variables": {"a_search": "monster",
                                                "a_perPage": 2, "b_id": 19,
                                                "c_id": 999999999}})
        body = r.json()
        # As AniList: the first error's status, data for the others.
        self.assertEqual(r.status, 404)
        self.assertEqual(body["data"]["a_Page"]["media"][0]["id"], 19)
        self.assertEqual(body["data"]["b_Media"]["id"], 19)
        self.assertIsNone(body["data"]["c_Media"])
        self.assertEqual(body["errors"], [{"message": "Not Found.",
                                           "status": 404,
                                           "path": ["c_Media"]}])

    def test_aliased_franchise_and_staff_fields_answer_as_alone(self):
        # A batch holding a watch order's FranchiseHop page (media by
        # id_in) and a staff lookup answers each as its operation alone.
        alone = request("POST", "/", {
            "query": "query FranchiseHop($ids:[Int]){Page(perPage:5){"
                     "media(id_in:$ids){id}}}",
            "variables": {"ids": [19]}}).json()
        doc = ("query Batch($a_ids:[Int],$b_search:String){"
               "a_Page:Page(perPage:5){media(id_in:$a_ids,type:ANIME){id}} "
               "b_Staff:Staff(search:$b_search){id}}")
        r = request("POST", "/", {"query": doc, "operationName": "Batch",
                                  "variables": {"a_ids": [19],
                                                "b_search": "Urasawa"}})
        body = r.json()
        self.assertEqual([m["id"] for m in body["data"]["a_Page"]["media"]],
                         [m["id"] for m in alone["data"]["Page"]["media"]])
        self.assertEqual([m["id"] for m in body["data"]["a_Page"]["media"]],
                         [19])
        self.assertIn("b_Staff", body["data"])

    def test_a_query_over_the_complexity_limit_is_refused(self):
        one = "b%d:Media(id:19){" + " ".join(
            "f%d" % i for i in range(49)) + "}"
        fits = "query Q{" + " ".join(one % i for i in range(10)) + "}"
        over = "query Q{" + " ".join(one % i for i in range(11)) + "}"
        # 10 x (1 + 49) = 500 fields: allowed (unknown fields are null).
        before = request("GET", "/__stats").json()["complexity"]
        r = request("POST", "/", {"query": fits})
        self.assertNotEqual(r.status, 400, r.json())
        r = request("POST", "/", {"query": over})
        self.assertEqual(r.status, 400)
        self.assertEqual(r.json()["errors"][0]["message"],
                         "Max query complexity should be 500 but got 550.")
        # /__stats sums what the queries let through asked for.
        self.assertEqual(request("GET", "/__stats").json()["complexity"],
                         before + 500)

    def test_bad_json(self):
        r = request("POST", "/", b"{not json",
                    {"Content-Type": "application/json"})
        self.assertEqual(r.status, 400)
        self.assertEqual(r.json()["errors"][0]["status"], 400)

    def test_name_taken_from_the_document(self):
        r = gql("GenresAndTags", operation_name=False)
        self.assertEqual(r.status, 200)
        self.assertIn("GenreCollection", r.json()["data"])

    def test_dispatch_on_operation_name_without_document(self):
        r = request("POST", "/graphql", {"operationName": "MediaDetails",
                                         "variables": {"id": 18}})
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json()["data"]["Media"]["id"], 18)

    def test_operation_name_must_be_in_the_document(self):
        r = request("POST", "/", {"query": QUERIES["Viewer"],
                                  "operationName": "GenresAndTags"})
        self.assertEqual(r.status, 400)

    def test_mutation_sent_as_query_is_rejected(self):
        doc = QUERIES["SaveListEntry"].replace("mutation", "query", 1)
        r = gql("SaveListEntry", {"mediaId": 18}, document=doc)
        self.assertEqual(r.status, 400)

    def test_undeclared_variables_are_ignored(self):
        doc = QUERIES["TrendingMedia"]
        d = gql("TrendingMedia", {"perPage": 2, "search": "zzzz"},
                document=doc).json()["data"]
        self.assertEqual(len(d["Page"]["media"]), 2)

    def test_get_and_unknown_paths(self):
        self.assertEqual(request("GET", "/").status, 400)
        r = request("GET", "/nowhere")
        self.assertEqual(r.status, 404)
        self.assertEqual(r.json()["errors"][0]["status"], 404)
        self.assertEqual(request("PUT", "/").status, 405)

    def test_keep_alive_serves_many_requests_on_one_connection(self):
        conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=20)
        try:
            for i in range(5):
                r = gql("MediaDetails", {"id": 18}, conn=conn)
                self.assertEqual(r.status, 200)
                self.assertEqual(r.headers.get("content-length"),
                                 str(len(r.raw)))
        finally:
            conn.close()

    def test_garbage_does_not_hurt_the_server(self):
        for raw in (b"\x00\xff garbage\r\n\r\n", b"GET\r\n\r\n",
                    b"POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n",
                    b"POST / HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n"):
            with socket.create_connection(("127.0.0.1", PORT), 10) as s:
                s.sendall(raw)
                s.shutdown(socket.SHUT_WR)
                try:
                    while s.recv(65536):
                        pass
                except OSError:
                    pass
        for body in ([1, 2], {"query": 5}, {"variables": "x"},
                     {"operationName": "SearchMedia", "variables": [1]},
                     {"operationName": "SearchMedia",
                      "variables": {"sort": [None, "ID"],
                                    "genre_in": [1, None],
                                    "search": "\udc80\u0000\u00e9"}}):
            r = request("POST", "/", body)
            self.assertIn(r.status, (200, 400), body)
        r = request("POST", "/", b"[" * 100000,
                    {"Content-Type": "application/json"})
        self.assertEqual(r.status, 400)
        self.assertEqual(request("GET", "/__health").status, 200)


class TestRateLimit(Base):
    def test_headers_count_down(self):
        r1 = gql("GenresAndTags")
        r2 = gql("GenresAndTags")
        self.assertEqual(r1.headers["x-ratelimit-limit"], "90")
        self.assertEqual(r1.headers["x-ratelimit-remaining"], "89")
        self.assertEqual(r2.headers["x-ratelimit-remaining"], "88")
        # Every response carries them, errors too.
        r3 = gql("MediaDetails", {"id": -1})
        self.assertEqual(r3.status, 404)
        self.assertEqual(r3.headers["x-ratelimit-remaining"], "87")

    def test_over_the_limit_is_a_429(self):
        control("config", {"rate_limit": 3})
        for _ in range(3):
            self.assertEqual(gql("GenresAndTags").status, 200)
        r = gql("GenresAndTags")
        now = time.time()
        self.assertEqual(r.status, 429)
        self.assertEqual(r.json(), {"data": None, "errors": [
            {"message": "Too Many Requests.", "status": 429}]})
        self.assertEqual(r.headers["x-ratelimit-remaining"], "0")
        self.assertEqual(r.headers["x-ratelimit-limit"], "3")
        retry = int(r.headers["retry-after"])
        self.assertTrue(1 <= retry <= 60, retry)
        reset = int(r.headers["x-ratelimit-reset"])
        self.assertTrue(now <= reset <= now + 61)
        s = stats()
        self.assertEqual(s["rate_limited"], 1)
        self.assertEqual(s["requests"], 4)
        # Going over earns a timeout: lifting the limit does not lift it,
        # but changing the limit starts afresh.
        r = gql("GenresAndTags")
        self.assertEqual(r.status, 429)
        self.assertEqual(r.headers["x-ratelimit-remaining"], "0")
        control("config", {"rate_limit": 4})
        self.assertEqual(gql("GenresAndTags").status, 200)


# ------------------------------------------------------------ faults


class TestFaults(Base):
    def test_429(self):
        control("fault", {"mode": "429", "retry_after": 7, "count": 1})
        r = gql("GenresAndTags")
        self.assertEqual(r.status, 429)
        self.assertEqual(r.headers["retry-after"], "7")
        self.assertIn("x-ratelimit-reset", r.headers)
        self.assertEqual(r.json()["errors"][0]["message"],
                         "Too Many Requests.")
        self.assertEqual(gql("GenresAndTags").status, 200)

    def test_403(self):
        control("fault", {"mode": "403", "count": 1})
        r = gql("GenresAndTags")
        self.assertEqual(r.status, 403)
        self.assertEqual(r.json(), {"data": None, "errors": [
            {"message": "API disabled", "status": 403}]})

    def test_500(self):
        control("fault", {"mode": "500", "count": 1})
        r = gql("GenresAndTags")
        self.assertEqual(r.status, 500)
        self.assertEqual(r.json()["errors"][0]["status"], 500)

    def test_errors_with_200(self):
        control("fault", {"mode": "errors", "count": 1})
        r = gql("GenresAndTags")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json(), {"data": None, "errors": [
            {"message": "Internal Server Error", "status": 500}]})

    def test_slow(self):
        control("fault", {"mode": "slow", "delay_ms": 1000, "count": 1})
        t = time.monotonic()
        r = gql("MediaDetails", {"id": 18})
        self.assertGreaterEqual(time.monotonic() - t, 1.0)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json()["data"]["Media"]["id"], 18)
        t = time.monotonic()
        gql("MediaDetails", {"id": 18})
        self.assertLess(time.monotonic() - t, 1.0)

    def test_drop(self):
        control("fault", {"mode": "drop", "count": 1})
        with self.assertRaises((http.client.RemoteDisconnected,
                                ConnectionResetError, BrokenPipeError)):
            gql("GenresAndTags")
        self.assertEqual(gql("GenresAndTags").status, 200)

    def test_fault_without_count_lasts_until_changed(self):
        control("fault", {"mode": "500"})
        self.assertEqual(gql("GenresAndTags").status, 500)
        self.assertEqual(gql("GenresAndTags").status, 500)
        control("fault", {"mode": "none"})
        self.assertEqual(gql("GenresAndTags").status, 200)

    def test_count_applies_to_that_many_requests(self):
        control("fault", {"mode": "errors", "count": 2})
        self.assertIsNone(gql("GenresAndTags").json()["data"])
        self.assertIsNone(gql("GenresAndTags").json()["data"])
        self.assertIsNotNone(gql("GenresAndTags").json()["data"])

    def test_fault_limited_to_one_operation(self):
        control("fault", {"mode": "500", "operation": "SearchMedia"})
        self.assertEqual(gql("GenresAndTags").status, 200)
        self.assertEqual(gql("SearchMedia").status, 500)

    def test_config_delay(self):
        control("config", {"delay_ms": 1000})
        t = time.monotonic()
        self.assertEqual(gql("GenresAndTags").status, 200)
        self.assertGreaterEqual(time.monotonic() - t, 1.0)
        control("reset")
        t = time.monotonic()
        gql("GenresAndTags")
        self.assertLess(time.monotonic() - t, 1.0)

    def test_bad_control_input(self):
        self.assertEqual(request("POST", "/__fault", {"mode": "melt"}).status,
                         400)
        self.assertEqual(request("POST", "/__config", {"nope": 1}).status,
                         400)
        self.assertEqual(request("POST", "/__control/fault",
                                 {"mode": "none"}).status, 200)

    def test_faulted_requests_are_counted(self):
        control("fault", {"mode": "drop", "count": 1})
        try:
            gql("GenresAndTags")
        except (http.client.RemoteDisconnected, ConnectionResetError,
                BrokenPipeError):
            pass
        control("fault", {"mode": "500", "count": 1})
        gql("GenresAndTags")
        gql("GenresAndTags")
        s = stats()
        self.assertEqual(s["requests"], 3)
        self.assertEqual(s["by_operation"], {"GenresAndTags": 3})
        self.assertEqual(s["faults_injected"], 2)


# ------------------------------------------------------------ OAuth


CLIENT = {"client_id": "sample-client", "client_secret": "sample-secret",
          "redirect_uri": "http://127.0.0.1:9/callback"}


def authorize(user=None, state="xyz", redirect=CLIENT["redirect_uri"]):
    q = {"client_id": CLIENT["client_id"], "redirect_uri": redirect,
         "response_type": "code", "state": state}
    if user:
        q["user"] = user
    r = request("GET", "/api/v2/oauth/authorize?" + urllib.parse.urlencode(q))
    assert r.status == 302, (r.status, r.raw)
    loc = urllib.parse.urlsplit(r.headers["location"])
    return loc, dict(urllib.parse.parse_qsl(loc.query))


def exchange(code, **over):
    body = dict(CLIENT, grant_type="authorization_code", code=code)
    body.update(over)
    return request("POST", "/api/v2/oauth/token", body,
                   {"Accept": "application/json"})


def login(user=None):
    _, q = authorize(user)
    r = exchange(q["code"])
    assert r.status == 200, r.raw
    return r.json()["access_token"]


class TestOAuth(Base):
    def test_code_token_viewer(self):
        loc, q = authorize()
        self.assertEqual(loc.scheme + "://" + loc.netloc + loc.path,
                         CLIENT["redirect_uri"])
        self.assertEqual(q["state"], "xyz")
        r = exchange(q["code"])
        self.assertEqual(r.status, 200)
        tok = r.json()
        self.assertEqual(tok["token_type"], "Bearer")
        self.assertEqual(tok["expires_in"], 31536000)
        parts = tok["access_token"].split(".")
        self.assertEqual(len(parts), 3)
        claims = json.loads(base64.urlsafe_b64decode(
            parts[1] + "=" * (-len(parts[1]) % 4)))
        self.assertEqual(claims["sub"], "1")
        self.assertAlmostEqual(claims["exp"], time.time() + 31536000,
                               delta=60)
        v = self.ok("Viewer", token=tok["access_token"])["Viewer"]
        self.assertEqual(v["id"], 1)
        self.assertEqual(v["name"], "sampleuser")
        self.assertIn("displayAdultContent", v["options"])
        self.assertEqual(v["mediaListOptions"]["scoreFormat"], "POINT_100")

    def test_codes_are_single_use(self):
        _, q = authorize()
        self.assertEqual(exchange(q["code"]).status, 200)
        r = exchange(q["code"])
        self.assertEqual(r.status, 400)
        self.assertEqual(r.json()["error"], "invalid_request")

    def test_wrong_secret_redirect_or_code(self):
        for over in ({"client_secret": "nope"},
                     {"redirect_uri": "http://127.0.0.1:9/other"},
                     {"client_id": "someone-else"}):
            _, q = authorize()
            r = exchange(q["code"], **over)
            self.assertEqual(r.status, 400, over)
            self.assertEqual(r.json()["error"], "invalid_request")
        r = exchange("not-a-code")
        self.assertEqual(r.status, 400)

    def test_form_encoded_token_request(self):
        _, q = authorize()
        body = urllib.parse.urlencode(dict(CLIENT, code=q["code"],
                                           grant_type="authorization_code"))
        r = request("POST", "/api/v2/oauth/token", body,
                    {"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(r.status, 200)
        self.assertIn("access_token", r.json())

    def test_authorize_rejects_unknown_client(self):
        r = request("GET", "/api/v2/oauth/authorize?client_id=x&"
                    "redirect_uri=http://a/b&response_type=code")
        self.assertEqual(r.status, 400)

    def test_redirect_keeps_its_query(self):
        loc, q = authorize(redirect="http://127.0.0.1:9/cb?next=%2Fx")
        self.assertEqual(q["next"], "/x")
        self.assertIn("code", q)

    def test_viewer_needs_a_valid_token(self):
        r = gql("Viewer")
        self.assertEqual(r.status, 401)
        self.assertEqual(r.json(), {"data": {"Viewer": None}, "errors": [
            {"message": "Invalid token", "status": 401}]})
        tok = login()
        forged = tok[:-4] + ("AAAA" if not tok.endswith("AAAA") else "BBBB")
        self.assertEqual(gql("Viewer", token=forged).status, 401)
        self.assertEqual(gql("Viewer", token="garbage").status, 401)
        # A bad token fails public queries too, as on AniList.
        self.assertEqual(gql("GenresAndTags", token="garbage").status, 401)

    def test_expired_token(self):
        tok = control("token", {"expires_in": -5})["access_token"]
        self.assertEqual(gql("Viewer", token=tok).status, 401)

    def test_other_user(self):
        tok = login("alice")
        v = self.ok("Viewer", token=tok)["Viewer"]
        self.assertEqual(v["name"], "alice")
        self.assertNotEqual(v["id"], 1)
        lst = self.ok("UserList", {"userName": "alice", "type": "ANIME"})
        self.assertEqual(lst["MediaListCollection"]["lists"], [])
        # The token still names alice after a reset.
        control("reset")
        self.assertEqual(self.ok("Viewer", token=tok)["Viewer"]["id"],
                         v["id"])

    def test_oauth_requests_are_counted(self):
        login()
        by = stats()["by_operation"]
        self.assertEqual(by["oauth_authorize"], 1)
        self.assertEqual(by["oauth_token"], 1)


# ------------------------------------------------------------ lists


def seed_entries():
    with open(LISTS, encoding="utf-8") as f:
        c = json.load(f)["MediaListCollection"]
    return [e for g in c["lists"] for e in g.get("entries") or []]


class TestLists(Base):
    def entries(self, data):
        return [e for g in data["MediaListCollection"]["lists"]
                for e in g["entries"]]

    def test_seeded_list_by_id_and_name(self):
        seed = seed_entries()
        for v in ({"userId": 1}, {"userName": "SampleUser"}):
            d = self.ok("UserList", dict(v, type="ANIME"))
            c = d["MediaListCollection"]
            self.assertEqual(c["user"], {"id": 1, "name": "sampleuser"})
            self.assertFalse(c["hasNextChunk"])
            self.assertEqual([g["name"] for g in c["lists"]], ["Planning"])
            got = self.entries(d)
            self.assertEqual(sorted(e["id"] for e in got),
                             sorted(e["id"] for e in seed))
        missing = [e for e in got if e["mediaId"] not in BY_ID]
        present = [e for e in got if e["mediaId"] in BY_ID]
        self.assertTrue(missing and present)
        self.assertTrue(all(e["media"]["title"]["romaji"] for e in missing))
        self.assertTrue(all("genres" in e["media"] for e in missing))
        self.assertTrue(all(e["media"]["genres"] for e in present))
        for e in got:
            self.assertEqual(e["mediaId"], e["media"]["id"])
            self.assertIn("score", e)
            self.assertIn("updatedAt", e)

    def test_chunks(self):
        a = self.ok("UserList", {"userId": 1, "chunk": 1, "perChunk": 20})
        b = self.ok("UserList", {"userId": 1, "chunk": 3, "perChunk": 20})
        self.assertTrue(a["MediaListCollection"]["hasNextChunk"])
        self.assertFalse(b["MediaListCollection"]["hasNextChunk"])
        self.assertEqual(len(self.entries(a)), 20)
        self.assertEqual(len(self.entries(b)), len(seed_entries()) - 40)

    def test_sorted_chunks(self):
        ids = sorted(e["media"]["id"] for e in seed_entries())
        got = []
        for chunk in (1, 2, 3):
            d = self.ok("UserList", {"userId": 1, "chunk": chunk,
                                     "perChunk": 20,
                                     "sort": ["MEDIA_ID_DESC"]})
            got += [e["mediaId"] for e in self.entries(d)]
        self.assertEqual(got, ids[::-1])
        d = self.ok("UserList", {"userId": 1, "sort": ["SCORE_DESC",
                                                       "MEDIA_ID"]})
        scores = [(-e["score"], e["mediaId"]) for e in self.entries(d)]
        self.assertEqual(scores, sorted(scores))
        self.assertEqual(gql("UserList", {"userId": 1,
                                          "sort": ["NOPE"]}).status, 400)

    def test_status_filter_and_unknown_users(self):
        d = self.ok("UserList", {"userId": 1, "status": "CURRENT"})
        self.assertEqual(d["MediaListCollection"]["lists"], [])
        r = gql("UserList", {"userName": "nobody-here"})
        self.assertEqual(r.status, 404)
        self.assertEqual(r.json()["data"], {"MediaListCollection": None})
        self.assertEqual(gql("UserList", {}).status, 400)

    def test_save_find_delete(self):
        self.assertEqual(gql("SaveListEntry", {"mediaId": 18}).status, 401)
        tok = login()
        e = self.ok("SaveListEntry", {"mediaId": 18, "status": "CURRENT",
                                      "progress": 3, "scoreRaw": 85},
                    token=tok)["SaveMediaListEntry"]
        self.assertEqual((e["mediaId"], e["status"], e["progress"],
                          e["score"]), (18, "CURRENT", 3, 85))
        lst = self.ok("UserList", {"userId": 1, "type": "ANIME"})
        names = [g["name"] for g in lst["MediaListCollection"]["lists"]]
        self.assertEqual(names, ["Watching", "Planning"])
        e2 = self.ok("SaveListEntry", {"mediaId": 18, "progress": 5},
                     token=tok)["SaveMediaListEntry"]
        self.assertEqual((e2["id"], e2["progress"], e2["status"],
                          e2["score"]), (e["id"], 5, "CURRENT", 85))
        found = self.ok("MediaListEntry", {"mediaId": 18, "userId": 1})
        self.assertEqual(found["MediaList"]["id"], e["id"])
        self.assertEqual(self.ok("DeleteListEntry", {"id": e["id"]},
                                 token=tok),
                         {"DeleteMediaListEntry": {"deleted": True}})
        r = gql("MediaListEntry", {"mediaId": 18, "userId": 1})
        self.assertEqual(r.status, 404)
        self.assertEqual(r.json()["data"], {"MediaList": None})
        self.assertEqual(gql("DeleteListEntry", {"id": e["id"]},
                             token=tok).status, 404)
        self.assertEqual(gql("DeleteListEntry", {"id": e["id"]}).status, 401)

    def test_volumes_read_are_kept(self):
        tok = login()
        e = self.ok("SaveListEntry", {"mediaId": 18, "status": "CURRENT",
                                      "progressVolumes": 2},
                    token=tok)["SaveMediaListEntry"]
        self.assertEqual(e["progressVolumes"], 2)
        r = gql("SaveListEntry", {"mediaId": 18, "progressVolumes": -1},
                token=tok)
        self.assertEqual(r.status, 400)
        self.assertEqual(r.json()["errors"][0]["validation"], {
            "progressVolumes": ["The progress volumes must be at least 0."]})

    def test_manga_list_is_empty(self):
        d = self.ok("UserList", {"userId": 1, "type": "MANGA"})
        self.assertEqual(d["MediaListCollection"]["lists"], [])

    def test_completed_fills_progress(self):
        tok = login()
        e = self.ok("SaveListEntry", {"mediaId": 18, "status": "COMPLETED"},
                    token=tok)["SaveMediaListEntry"]
        self.assertEqual(e["progress"], BY_ID[18]["episodes"])

    def test_validation_errors(self):
        tok = login()
        cases = [
            ({"mediaId": 18, "scoreRaw": 101}, "scoreRaw",
             "The score raw must be between 0 and 100."),
            ({"mediaId": 18, "progress": -1}, "progress",
             "The progress must be at least 0."),
            ({"mediaId": 999999999}, "mediaId",
             "The selected media id is invalid."),
        ]
        for v, field, msg in cases:
            r = gql("SaveListEntry", v, token=tok)
            self.assertEqual(r.status, 400, v)
            self.assertEqual(r.json(), {
                "data": {"SaveMediaListEntry": None},
                "errors": [{"message": "validation", "status": 400,
                            "validation": {field: [msg]}}]})
        r = gql("SaveListEntry", {"mediaId": 18, "status": "WATCHING"},
                token=tok)
        self.assertEqual(r.status, 400)
        self.assertIn("$status", r.json()["errors"][0]["message"])
        # Nothing was saved.
        self.assertEqual(gql("MediaListEntry",
                             {"mediaId": 18, "userId": 1}).status, 404)

    def test_list_media_outside_the_sample_can_be_saved(self):
        tok = login()
        mid = next(e["media"]["id"] for e in seed_entries()
                   if e["media"]["id"] not in BY_ID)
        e = self.ok("SaveListEntry", {"mediaId": mid, "status": "DROPPED"},
                    token=tok)["SaveMediaListEntry"]
        self.assertEqual(e["status"], "DROPPED")

    def test_reset_restores_the_seeded_list(self):
        tok = login()
        first = seed_entries()[0]
        self.ok("DeleteListEntry", {"id": first["id"]}, token=tok)
        self.ok("SaveListEntry", {"mediaId": 18}, token=tok)
        control("reset")
        d = self.ok("UserList", {"userId": 1})
        self.assertEqual(sorted(e["id"] for e in self.entries(d)),
                         sorted(e["id"] for e in seed_entries()))


# ------------------------------------------------------------ load


class TestConcurrency(Base):
    CONNECTIONS = 220

    def test_many_concurrent_keep_alive_connections(self):
        control("config", {"rate_limit": 0})
        barrier = threading.Barrier(self.CONNECTIONS, timeout=60)
        failures = []

        def worker(i):
            conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)
            try:
                conn.connect()
                barrier.wait()
                for j in range(3):
                    r = gql("SearchMedia", {"perPage": 2, "page": i % 20 + 1},
                            conn=conn)
                    if r.status != 200 or \
                            len(r.json()["data"]["Page"]["media"]) != 2:
                        failures.append((i, j, r.status))
            except Exception as e:  # reported below
                failures.append((i, repr(e)))
            finally:
                conn.close()

        threads = [threading.Thread(target=worker, args=(i,))
                   for i in range(self.CONNECTIONS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        self.assertEqual(failures, [])
        self.assertEqual(stats()["requests"], 3 * self.CONNECTIONS)


if __name__ == "__main__":
    unittest.main()
