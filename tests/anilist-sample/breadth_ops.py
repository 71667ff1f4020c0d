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
    # Page.media(id_in) without relations: FranchiseHop, pruned to what
    # the document asks for (as aliased requests reach it, below).
    "MediaByIds": ("Page", False),
    "StaffInfo": ("Staff", False),
    "StudioInfo": ("Studio", False),
    "UserAiring": ("Page", False),
    "UserProfile": ("User", False),
    "ToggleFavourite": ("ToggleFavourite", True),
}

# ToggleFavourite's arguments and the Favourites field each fills.
FAVOURITE_KINDS = (("animeId", "anime"), ("characterId", "characters"),
                   ("staffId", "staff"), ("studioId", "studios"))

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

    def favourite_node(self, kind, fid):
        p = index(self.cat)
        if kind == "anime":
            return _node(self.cat, fid) if fid in self.cat.api else None
        if kind == "characters":
            if fid not in self.cat.chars:
                return None
            return {"id": fid, "name": {"full": self.cat.chars[fid]["name"]}}
        if kind == "staff":
            if fid not in p.staff:
                return None
            return {"id": fid, "name": {"full": p.staff[fid]["name"]}}
        if fid not in p.studio_name:
            return None
        return {"id": fid, "name": p.studio_name[fid]}

    def favourites(self, user_id, per_page):
        with self.state.lock:
            favs = {k: list(v) for k, v in
                    getattr(self.state, "favourites", {}).get(
                        user_id, {}).items()}
        out = {}
        for _, kind in FAVOURITE_KINDS:
            ids = favs.get(kind, [])
            info, page = _nested_page(ids, per_page, srv)
            nodes = [favourite_node(self, kind, i) for i in page]
            out[kind] = {"pageInfo": info, "nodes": nodes}
        out["manga"] = {"pageInfo": srv.page_info(1, NESTED_MAX, 0),
                        "nodes": []}
        return out

    def op_UserProfile(self, v, viewer):
        st = self.state
        if v.get("id") is not None:
            with st.lock:
                u = st.users.get(v["id"])
                user = dict(u) if u else None
        elif v.get("name"):
            user = st.user_by_name(v["name"])
        else:
            raise srv.GraphQLError(400, "User id or name required",
                                   {"User": None})
        if user is None:
            raise srv.not_found("User")
        with st.lock:
            entries = [dict(e) for e in st.lists.get(user["id"], {}).values()]
        entries = [self._entry(e) for e in entries
                   if self._media_type(e["mediaId"]) == "ANIME"]
        out = self._user(user, full=True)
        out["statistics"] = {"anime": _statistics(entries), "manga": None}
        out["favourites"] = favourites(self, user["id"], None)
        return {"User": out}

    def op_ToggleFavourite(self, v, viewer):
        root = "ToggleFavourite"
        if viewer is None:
            raise srv.unauthorized(root)
        given = [(arg, kind) for arg, kind in FAVOURITE_KINDS
                 if v.get(arg) is not None]
        if len(given) != 1 or \
                favourite_node(self, given[0][1], v[given[0][0]]) is None:
            raise srv.GraphQLError(404, "Not Found.", {root: None})
        arg, kind = given[0]
        with self.state.lock:
            if not hasattr(self.state, "favourites"):
                self.state.favourites = {}
            favs = self.state.favourites.setdefault(viewer["id"], {})
            ids = favs.setdefault(kind, [])
            if v[arg] in ids:
                ids.remove(v[arg])
            else:
                ids.append(v[arg])
        return {root: favourites(self, viewer["id"], None)}

    for fn in (op_FranchiseHop, op_StaffInfo, op_StudioInfo,
               op_SaveListEntry, op_UserAiring, op_UserProfile,
               op_ToggleFavourite):
        setattr(srv.Resolver, fn.__name__, fn)
    srv.Resolver.op_MediaByIds = op_FranchiseHop

    # Aliased requests (several root fields in one document) reach these
    # operations too: by root field, or for a Page by the arguments of its
    # data field (media by id_in, airing schedules by mediaId_in).
    srv.Resolver.ROOT_FIELDS = dict(srv.Resolver.ROOT_FIELDS, Staff="StaffInfo",
                                    Studio="StudioInfo", User="UserProfile")
    page_field = srv.Resolver.field

    def field(self, name, args, body, variables, viewer):
        if name == "Page":
            inner = srv.root_fields(body)
            if len(inner) == 1:
                v = srv.field_args(args, variables)
                a = srv.field_args(inner[0][2], variables)
                if inner[0][1] == "media" and "id_in" in a:
                    v["ids"] = a["id_in"]
                    return self.run("FranchiseHop", v, viewer)["Page"]
                if inner[0][1] == "airingSchedules" and "mediaId_in" in a:
                    v["mediaIds"] = a["mediaId_in"]
                    for k in ("airingAt_greater", "airingAt_lesser"):
                        if k in a:
                            v[k] = a[k]
                    return self.run("UserAiring", v, viewer)["Page"]
        return page_field(self, name, args, body, variables, viewer)
    srv.Resolver.field = field


# The fields of a list entry SaveListEntry sets besides status, progress
# and score.
EXTRA_FIELDS = ("startedAt", "completedAt", "repeat", "notes", "private")
DATE_FIELDS = ("startedAt", "completedAt")


def _group(entries, keys_of):
    """[{key, count, minutesWatched, meanScore}] of entries by key."""
    groups = {}
    for e in entries:
        for key in keys_of(e["media"]):
            groups.setdefault(key, []).append(e)
    out = []
    for key, es in groups.items():
        stats = _statistics_core(es)
        out.append(dict(stats, key=key))
    out.sort(key=lambda g: (-g["count"], str(g["key"])))
    return out


def _statistics_core(entries):
    scored = [e["score"] for e in entries if e.get("score")]
    minutes = sum((e.get("progress") or 0) * (e["media"].get("duration") or 0)
                  for e in entries)
    return {"count": len(entries),
            "meanScore": round(sum(scored) / len(scored), 2)
            if scored else 0,
            "minutesWatched": minutes, "chaptersRead": 0,
            "mediaIds": [e["mediaId"] for e in entries]}


def _statistics(entries):
    """AniList's UserStatistics of an anime list, from its entries: every
    entry counts; episodes from progress, minutes from progress × the
    episode length where the data gives it."""
    out = _statistics_core(entries)
    out.update({"episodesWatched": sum(e.get("progress") or 0
                                       for e in entries),
                "standardDeviation": 0, "volumesRead": 0})
    out.pop("mediaIds")

    out["statuses"] = [dict(g, status=g.pop("key")) for g in _group(
        [dict(e, media=dict(e["media"], _status=e["status"]))
         for e in entries], lambda m: [m["_status"]])]
    out["genres"] = [dict(g, genre=g.pop("key")) for g in _group(
        entries, lambda m: m.get("genres") or [])]
    out["tags"] = [dict(g, tag={"name": g.pop("key")}) for g in _group(
        entries, lambda m: [t["name"] for t in m.get("tags") or []
                            if t.get("name")])]
    return out


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
