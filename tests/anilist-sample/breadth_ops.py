"""breadth_ops.py: the stand-in's operations for franchises, staff and studios, answered only from the sample data, and the list entry's dates, repeat count, notes and private flag.

server.py calls install() once; it adds these operations to its table and
their resolvers to its Resolver class. Nothing here is invented: franchises
follow the relations server.py derives, staff come from the data's
mainStaff (name and role; everything else AniList would know is null), and
studios from the titles' studio lists. SaveListEntry also takes
startedAt, completedAt, repeat, notes and private; like AniList, a variable
left out leaves its field alone.
"""

import time

# Operation name -> (root field, is mutation), as server.OPERATIONS.
OPERATIONS = {
    "FranchiseHop": ("Page", False),
    "StaffInfo": ("Staff", False),
    "StudioInfo": ("Studio", False),
    "UserAiring": ("Page", False),
}

# The most a nested connection returns (AniList: perPage max 25).
NESTED_MAX = 25

# Fields of a title as a relation's node or a person's work.
NODE_FIELDS = ("id", "idMal", "type", "title", "format", "status",
               "episodes", "duration", "season", "seasonYear", "startDate",
               "averageScore", "popularity", "isAdult", "coverImage",
               "siteUrl")


def _node(cat, mid):
    m = cat.api[mid]
    return {k: m.get(k) for k in NODE_FIELDS}


def _by_popularity(cat, ids):
    return sorted(ids, key=lambda i: (-(cat.raw[i].get("popularity") or 0),
                                      i))


def _nested_page(items, per_page, srv):
    per = NESTED_MAX if per_page is None else \
        max(1, min(NESTED_MAX, per_page))
    return srv.page_info(1, per, len(items)), items[:per]


def _best_match(srv, search, candidates):
    """The key of candidates ({key: [names]}) that matches search best:
    exact > prefix > substring > all words, then the smallest key."""
    want = srv.normalize(search)
    best = None
    for key, names in candidates.items():
        r = srv.match_rank(want, [srv.normalize(n) for n in names if n])
        if r is not None and (best is None or (r, key) < best):
            best = (r, key)
    return None if best is None else best[1]


class People:
    """Staff (from mainStaff) and studios, indexed once."""

    def __init__(self, srv, cat):
        taken = set()
        works = {}
        for mid in cat.ids:
            for s in cat.raw[mid].get("mainStaff") or []:
                name, role = s.get("name"), s.get("role")
                if isinstance(name, str) and name.strip():
                    works.setdefault(name, []).append((mid, role))
        self.staff = {}
        self.staff_names = {}
        for name in sorted(works):
            sid = srv.stable_id("staff:" + name, taken)
            self.staff[sid] = {"name": name, "works": works[name]}
            self.staff_names[sid] = [name]
        self.studio_media = {}
        self.studio_anim = {}
        for mid in cat.ids:
            for s in (cat.raw[mid].get("studios") or {}).get("nodes") or []:
                sid = cat.studio_ids[s["name"]]
                self.studio_media.setdefault(sid, []).append(mid)
                if s.get("isAnimationStudio"):
                    self.studio_anim[sid] = True
        self.studio_name = {sid: name for name, sid in cat.studio_ids.items()}


def install(srv):
    """Add the operations to server.py (srv: the module)."""
    srv.OPERATIONS.update(OPERATIONS)
    people = {}

    def index(cat):
        if id(cat) not in people:
            people[id(cat)] = People(srv, cat)
        return people[id(cat)]

    def op_FranchiseHop(self, v, viewer):
        cat = self.cat
        now = time.time()
        ids = sorted({i for i in v.get("ids") or [] if i in cat.api})
        info, ids = srv.paginate(ids, v)
        media = []
        for mid in ids:
            m = cat.media(mid, now)
            edges = [{"relationType": kind, "node": _node(cat, other)}
                     for kind, other in cat.relations.get(mid, [])]
            m["relations"] = {"edges": edges,
                              "nodes": [e["node"] for e in edges]}
            media.append(m)
        return {"Page": {"pageInfo": info, "media": media}}

    def op_StaffInfo(self, v, viewer):
        p = index(self.cat)
        sid = v.get("id")
        if sid is None and v.get("search"):
            sid = _best_match(srv, v["search"], p.staff_names)
        if sid not in p.staff:
            raise srv.not_found("Staff")
        s = p.staff[sid]
        roles = {}
        for mid, role in s["works"]:
            roles.setdefault(mid, []).append(role)
        mids = _by_popularity(self.cat, roles)
        info, mids = _nested_page(mids, v.get("perPage"), srv)
        edges = [{"staffRole": ", ".join(r for r in roles[m] if r) or None,
                  "node": _node(self.cat, m)} for m in mids]
        empty = srv.page_info(1, info["perPage"], 0)
        return {"Staff": {
            "id": sid,
            "name": {"full": s["name"], "first": None, "middle": None,
                     "last": None, "native": None, "alternative": [],
                     "userPreferred": s["name"]},
            "image": {"large": None, "medium": None},
            "description": None, "primaryOccupations": [], "gender": None,
            "age": None, "yearsActive": [], "homeTown": None,
            "languageV2": None, "favourites": None,
            "siteUrl": None,
            "staffMedia": {"pageInfo": info, "edges": edges,
                           "nodes": [e["node"] for e in edges]},
            "characterMedia": {"pageInfo": empty, "edges": [],
                               "nodes": []},
        }}

    def op_StudioInfo(self, v, viewer):
        cat = self.cat
        p = index(cat)
        sid = v.get("id")
        if sid is None and v.get("search"):
            sid = _best_match(srv, v["search"],
                              {k: [n] for k, n in p.studio_name.items()})
        if sid not in p.studio_name:
            raise srv.not_found("Studio")
        mids = _by_popularity(cat, p.studio_media.get(sid, []))
        info, page = _nested_page(mids, v.get("perPage"), srv)

        def by_start(reverse):
            dated = [m for m in mids if srv.date_tuple(
                cat.raw[m].get("startDate"))]
            dated.sort(key=lambda m: srv.date_tuple(
                cat.raw[m].get("startDate")), reverse=reverse)
            return {"nodes": [_node(cat, m) for m in dated[:1]]}

        return {"Studio": {
            "id": sid, "name": p.studio_name[sid],
            "isAnimationStudio": bool(p.studio_anim.get(sid)),
            "favourites": None,
            "siteUrl": None,
            "media": {"pageInfo": info,
                      "nodes": [_node(cat, m) for m in page]},
            "first": by_start(False), "latest": by_start(True),
        }}

    save_core = srv.Resolver.op_SaveListEntry

    def op_SaveListEntry(self, v, viewer):
        root = "SaveMediaListEntry"
        problems = _entry_problems(v)
        if problems and viewer is not None:
            raise srv.GraphQLError(400, "validation", {root: None},
                                   validation=problems)
        saved = save_core(self, v, viewer)[root]
        with self.state.lock:
            entry = self.state.lists[viewer["id"]][saved["id"]]
            for k in EXTRA_FIELDS:
                if v.get(k) is not None:
                    entry[k] = dict(v[k]) if k in DATE_FIELDS else v[k]
            entry = dict(entry)
        return {root: self._entry(entry)}

    def op_UserAiring(self, v, viewer):
        ids = set(v.get("mediaIds") or [])
        lo, hi = v.get("airingAt_greater"), v.get("airingAt_lesser")
        rows = [a for a in self.cat.airing if a["mediaId"] in ids
                and (lo is None or a["airingAt"] > lo)
                and (hi is None or a["airingAt"] < hi)]
        info, rows = srv.paginate(rows, v)
        return {"Page": {"pageInfo": info,
                         "airingSchedules": [dict(a) for a in rows]}}

    for fn in (op_FranchiseHop, op_StaffInfo, op_StudioInfo,
               op_SaveListEntry, op_UserAiring):
        setattr(srv.Resolver, fn.__name__, fn)


# The fields of a list entry SaveListEntry sets besides status, progress
# and score.
EXTRA_FIELDS = ("startedAt", "completedAt", "repeat", "notes", "private")
DATE_FIELDS = ("startedAt", "completedAt")


def _entry_problems(v):
    """AniList's validation messages for the extra fields, by key."""
    problems = {}
    if v.get("repeat") is not None and not 0 <= v["repeat"] <= 1000:
        problems["repeat"] = ["The repeat must be between 0 and 1000."]
    if v.get("notes") is not None and len(v["notes"]) > 6000:
        problems["notes"] = ["The notes may not be greater than 6000 "
                             "characters."]
    for k in DATE_FIELDS:
        d = v.get(k)
        if d is None:
            continue
        if not isinstance(d, dict) or set(d) - {"year", "month", "day"} or \
                any(x is not None and (not isinstance(x, int) or
                                       isinstance(x, bool))
                    for x in d.values()):
            problems[k] = ["The %s must be a fuzzy date." % k]
        elif d.get("month") is not None and not 1 <= d["month"] <= 12:
            problems[k] = ["The %s month must be between 1 and 12." % k]
        elif d.get("day") is not None and not 1 <= d["day"] <= 31:
            problems[k] = ["The %s day must be between 1 and 31." % k]
    return problems
