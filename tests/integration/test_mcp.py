"""test_mcp.py: the ChatGPT surface over HTTPS through Caddy: POST /mcp for
every protocol revision (raw requests), the official TypeScript SDK clients,
the widgets rendered in headless Chromium, /openapi.json checked by a real
validator, the legacy plugin manifest and /privacy."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

V03, V06, V11, V26 = "2025-03-26", "2025-06-18", "2025-11-25", "2026-07-28"
LEGACY = (V03, V06, V11)
META26 = {"io.modelcontextprotocol/protocolVersion": V26,
          "io.modelcontextprotocol/clientInfo": {"name": "t", "version": "1"},
          "io.modelcontextprotocol/clientCapabilities": {}}
ACCEPT = "application/json, text/event-stream"
CLIENT_SRC = os.path.join(harness.TOP_SRCDIR, "tests", "mcp-client")
CLIENT_DIR = os.path.join(harness.TOP_BUILDDIR, "tests", "mcp-client")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
IMAGE_HOSTS = ("https://s4.anilist.co/", "https://img.anili.st/")
EVIL = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'


def npm_ci():
    """Install the test clients from the committed lock file into the build
    tree (the source tree may be read-only), once per lock file."""
    os.makedirs(CLIENT_DIR, exist_ok=True)
    for name in os.listdir(CLIENT_SRC):
        if name.endswith((".json", ".mjs")):
            shutil.copyfile(os.path.join(CLIENT_SRC, name),
                            os.path.join(CLIENT_DIR, name))
    stamp = os.path.join(CLIENT_DIR, "node_modules", ".agpt-lock")
    with open(os.path.join(CLIENT_DIR, "package-lock.json"), "rb") as f:
        lock = f.read()
    if os.path.exists(stamp):
        with open(stamp, "rb") as f:
            if f.read() == lock:
                return
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                   cwd=CLIENT_DIR, check=True, timeout=300,
                   stdout=subprocess.DEVNULL)
    with open(stamp, "wb") as f:
        f.write(lock)


class McpTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        harness.watchdog(170)
        npm_ci()
        cls.s = harness.Stack(workers=2, threads=4, config={
            "WIDGETS_DIR": os.path.join(harness.TOP_SRCDIR, "widgets")})
        cls.s.start()
        cls.tmp = tempfile.mkdtemp(prefix="agpt-mcp-")

    @classmethod
    def tearDownClass(cls):
        cls.s.stop()
        harness.drop_screenshots(cls.tmp)

    # -- helpers --------------------------------------------------------
    def post(self, body, version=None, headers=None, raw=False):
        h = {"Content-Type": "application/json", "Accept": ACCEPT}
        if version:
            h["MCP-Protocol-Version"] = version
        h.update(headers or {})
        data = body if isinstance(body, (bytes, str)) else json.dumps(body)
        status, hdrs, out = self.s.request("POST", "/mcp", data, h)
        if raw:
            return status, hdrs, out
        return status, hdrs, (json.loads(out) if out else None)

    def rpc(self, method, params=None, version=V11, id=1, headers=None):
        msg = {"jsonrpc": "2.0", "id": id, "method": method}
        if params is not None:
            msg["params"] = params
        return self.post(msg, version, headers)

    def modern(self, method, params=None, headers=None, name=None):
        p = dict(params or {})
        p["_meta"] = dict(META26)
        h = {"Mcp-Method": method}
        if name is not None:
            h["Mcp-Name"] = name
        h.update(headers or {})
        return self.rpc(method, p, V26, headers=h)

    def node(self, script, *args, timeout=120):
        env = dict(os.environ, NODE_EXTRA_CA_CERTS=self.s.ca)
        p = subprocess.run(["node", os.path.join(CLIENT_DIR, script)] +
                           list(args), cwd=CLIENT_DIR, env=env,
                           capture_output=True, text=True, timeout=timeout)
        try:
            report = json.loads(p.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            self.fail("%s printed no report (rc %d): %s %s" % (
                script, p.returncode, p.stdout[-2000:], p.stderr[-2000:]))
        return p.returncode, report

    def tool_result(self, name, arguments):
        st, _, b = self.rpc("tools/call", {"name": name,
                                           "arguments": arguments})
        self.assertEqual(st, 200, b)
        self.assertFalse(b["result"]["isError"], b)
        return b["result"]["structuredContent"]

    # -- transport ------------------------------------------------------
    def test_get_and_delete_are_405_with_allow(self):
        for method in ("GET", "DELETE"):
            st, h, _ = self.s.request(method, "/mcp", None,
                                      {"Accept": "text/event-stream"})
            self.assertEqual(st, 405, method)
            self.assertIn("POST", h["allow"])
            self.assertNotIn("GET", h["allow"])

    def test_origin_is_checked(self):
        st, _, b = self.rpc("ping", headers={"Origin": "https://evil.example"})
        self.assertEqual(st, 403)
        self.assertEqual(b["error"]["code"], -32600)
        self.assertIsNone(b["id"])
        for ok in ("https://chatgpt.com", self.s.base):
            st, _, b = self.rpc("ping", headers={"Origin": ok})
            self.assertEqual(st, 200, ok)
        # A browser client's preflight may send the 2026-07-28 headers.
        st, h, _ = self.s.request("OPTIONS", "/mcp", None, {
            "Origin": "https://chatgpt.com",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "mcp-protocol-version, mcp-method, mcp-name"})
        self.assertEqual(st, 204)
        self.assertIn("POST", h["access-control-allow-methods"])
        for name in ("MCP-Protocol-Version", "Mcp-Method", "Mcp-Name"):
            self.assertIn(name, h["access-control-allow-headers"])

    def test_content_type_and_accept(self):
        # A generic type is read when the body is JSON; a form is not.
        st, _, b = self.post('{"jsonrpc":"2.0","id":1,"method":"ping"}',
                             V11, {"Content-Type": "text/plain"})
        self.assertEqual((st, b["result"]), (200, {}))
        st, _, b = self.post('jsonrpc=2.0&id=1&method=ping', V11,
                             {"Content-Type": "text/plain"})
        self.assertEqual(st, 415)
        st, _, b = self.post('{"jsonrpc":"2.0","id":1,"method":"ping"}',
                             V11, {"Content-Type":
                                   "application/x-www-form-urlencoded"})
        self.assertEqual(st, 415)
        st, _, b = self.post({"jsonrpc": "2.0", "id": 1, "method": "ping"},
                             V11, {"Accept": "text/html"})
        self.assertEqual(st, 406)
        st, _, b = self.post({"jsonrpc": "2.0", "id": 1, "method": "ping"},
                             V11, {"Accept": "application/json"})
        self.assertEqual(st, 200)

    def test_body_limit(self):
        big = {"jsonrpc": "2.0", "id": 1, "method": "ping",
               "params": {"x": "a" * 70000}}
        st, _, _ = self.post(big, V11, raw=True)
        self.assertEqual(st, 413)

    def test_stateless_no_session(self):
        st, h, b = self.rpc("initialize", {"protocolVersion": V11,
                                           "capabilities": {},
                                           "clientInfo": {"name": "t",
                                                          "version": "1"}},
                            version=None)
        self.assertEqual(st, 200)
        self.assertNotIn("mcp-session-id", h)
        st, h, b = self.rpc("tools/list", headers={"Mcp-Session-Id": "x"})
        self.assertEqual(st, 200)
        self.assertNotIn("mcp-session-id", h)

    # -- JSON-RPC errors -------------------------------------------------
    def test_jsonrpc_errors(self):
        st, _, b = self.post("{not json", V11)
        self.assertEqual((st, b["error"]["code"], b["id"]), (400, -32700, None))
        st, _, b = self.post({"id": 1, "method": "ping"}, V11)
        self.assertEqual((st, b["error"]["code"]), (400, -32600))
        st, _, b = self.rpc("no/such/method", version=V11)
        self.assertEqual((st, b["error"]["code"], b["id"]), (200, -32601, 1))
        st, _, b = self.modern("no/such/method")
        self.assertEqual((st, b["error"]["code"]), (404, -32601))
        st, _, b = self.rpc("tools/call", {"name": "no_such_tool"})
        self.assertEqual(b["error"]["code"], -32602)
        st, _, b = self.rpc("ping", version="2099-01-01")
        self.assertEqual((st, b["error"]["code"]), (400, -32022))
        self.assertIn(V26, b["error"]["data"]["supported"])

    # -- legacy revisions ------------------------------------------------
    def test_initialize_and_list_per_version(self):
        for requested, answered in ((V03, V03), (V06, V06), (V11, V11),
                                    ("2024-11-05", V11), (V26, V11)):
            st, _, b = self.rpc("initialize", {
                "protocolVersion": requested, "capabilities": {},
                "clientInfo": {"name": "t", "version": "1"}}, version=None)
            self.assertEqual(st, 200)
            self.assertEqual(b["result"]["protocolVersion"], answered)
            st, h, body = self.post({"jsonrpc": "2.0",
                                     "method": "notifications/initialized"},
                                    answered, raw=True)
            self.assertEqual((st, body), (202, b""))
            st, _, b = self.rpc("tools/list", version=answered)
            self.assertEqual(st, 200)
            tools = b["result"]["tools"]
            self.assertTrue(tools)
            for t in tools:
                self.assertIn("readOnlyHint", t["annotations"])
                if answered == V03:
                    self.assertNotIn("outputSchema", t)
                else:
                    self.assertIn("title", t)
                    self.assertIn("outputSchema", t)
                    self.assertIn("securitySchemes", t["_meta"])
            st, _, b = self.rpc("ping", version=answered)
            self.assertEqual((st, b["result"]), (200, {}))

    def test_tools_list_is_the_same_text_every_call(self):
        """A worker serialises tools/list once per revision and UTC year and
        splices that text into every response: any call, any id,
        any worker gets the same bytes, with the year bounds resolved."""
        for version in LEGACY + (V26,):
            results = set()
            for i in range(8):
                params = {"_meta": META26} if version == V26 else {}
                msg = {"jsonrpc": "2.0", "id": "c%d" % i,
                       "method": "tools/list", "params": params}
                year = time.gmtime().tm_year
                st, _, raw = self.post(msg, version, {"Mcp-Method":
                                                      "tools/list"}, raw=True)
                self.assertEqual(st, 200, raw[:200])
                head = b'{"jsonrpc":"2.0","id":"c%d","result":' % i
                self.assertTrue(raw.startswith(head) and raw.endswith(b"}"),
                                raw[:200])
                results.add(raw[len(head):-1])
            self.assertEqual(len(results), 1, version)
            tools = json.loads(results.pop())["tools"]
            search = [t for t in tools if t["name"] == "search_anime"][0]
            prop = search["inputSchema"]["properties"]["year"]
            self.assertNotIn("x-maximumYearOffset", prop)
            self.assertIn(prop["maximum"], (year + 1, time.gmtime().tm_year
                                            + 1))

    def test_batches_only_in_2025_03_26(self):
        batch = [{"jsonrpc": "2.0", "id": 1, "method": "ping"},
                 {"jsonrpc": "2.0", "method": "notifications/initialized"},
                 {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}]
        for version in (None, V03):
            st, _, b = self.post(batch, version)
            self.assertEqual(st, 200, version)
            self.assertEqual([r["id"] for r in b], [1, 2])
        st, _, body = self.post(batch[1:2], None, raw=True)
        self.assertEqual((st, body), (202, b""))
        for version in (V06, V11):
            st, _, b = self.post(batch, version)
            self.assertEqual((st, b["error"]["code"]), (400, -32600), version)

    # -- 2026-07-28 ------------------------------------------------------
    def test_modern_revision(self):
        st, _, b = self.modern("server/discover")
        self.assertEqual(st, 200)
        r = b["result"]
        self.assertEqual(r["resultType"], "complete")
        self.assertEqual(r["supportedVersions"][0], V26)
        self.assertIn("ttlMs", r)
        self.assertEqual(r["_meta"]["io.modelcontextprotocol/serverInfo"]
                         ["name"], "anilist-gpt")
        st, _, b = self.modern("tools/list")
        self.assertEqual((st, b["result"]["cacheScope"]), (200, "public"))
        st, _, b = self.modern("tools/call", {"name": "search_anime",
                                              "arguments": {"query": "Frieren"}},
                               name="search_anime")
        self.assertEqual(st, 200, b)
        self.assertEqual(b["result"]["resultType"], "complete")
        self.assertTrue(b["result"]["structuredContent"]["results"])
        # what the revision requires, refused with its codes
        st, _, b = self.rpc("tools/list", {}, V26, headers={"Mcp-Method": "tools/list"})
        self.assertEqual((st, b["error"]["code"]), (400, -32602))
        st, _, b = self.modern("tools/list", headers={"Mcp-Method": "resources/list"})
        self.assertEqual((st, b["error"]["code"]), (400, -32020))
        st, _, b = self.modern("tools/call", {"name": "search_anime",
                                              "arguments": {"query": "x"}},
                               name="get_anime")
        self.assertEqual((st, b["error"]["code"]), (400, -32020))
        st, _, b = self.modern("tools/call", {"name": "search_anime",
                                              "arguments": {"query": "x"}})
        self.assertEqual((st, b["error"]["code"]), (400, -32020))
        # Two supported revisions: served per the body's _meta.
        st, _, b = self.rpc("tools/list", {"_meta": META26}, V11,
                            headers={"Mcp-Method": "tools/list"})
        self.assertEqual((st, b["result"]["resultType"]), (200, "complete"))
        st, _, b = self.modern("ping")
        self.assertEqual((st, b["error"]["code"]), (404, -32601))

    # -- tools -----------------------------------------------------------
    def test_tools_call_is_the_rest_tool(self):
        mcp = self.tool_result("search_anime", {"query": "Frieren"})
        st, _, rest = self.s.json("GET", "/v1/anime/search?query=Frieren")
        self.assertEqual(st, 200)
        self.assertEqual([m["id"] for m in mcp["results"]],
                         [m["id"] for m in rest["results"]])
        st, _, b = self.rpc("tools/call", {"name": "get_anime",
                                           "arguments": {"id": 0}})
        self.assertEqual(st, 200)
        self.assertTrue(b["result"]["isError"])
        self.assertIn("id", b["result"]["content"][0]["text"])
        self.assertEqual(b["result"]["_meta"]["anilist-gpt/error"]["code"],
                         "invalid_argument")
        # A token that cannot be verified changes nothing for public tools.
        st, _, b = self.rpc("tools/call", {"name": "get_anime",
                                           "arguments": {"id": mcp["results"][0]["id"]}},
                            headers={"Authorization": "Bearer not-a-token"})
        self.assertEqual(st, 200)
        self.assertFalse(b["result"]["isError"])
        tools = [l for l in self.s.log_lines() if l.get("route") == "/mcp"
                 and l.get("tool") == "search_anime"]
        self.assertTrue(tools)

    def test_widget_resources(self):
        st, _, b = self.rpc("resources/list")
        res = b["result"]["resources"]
        mimes = {r["mimeType"] for r in res}
        self.assertEqual(mimes, {"text/html+skybridge",
                                 "text/html;profile=mcp-app"})
        for r in res:
            st, _, b = self.rpc("resources/read", {"uri": r["uri"]})
            c = b["result"]["contents"][0]
            self.assertEqual(c["mimeType"], r["mimeType"])
            self.assertTrue(c["text"].startswith("<!DOCTYPE html>"))
            self.assertNotIn("innerHTML", c["text"])
            self.assertEqual(c["_meta"]["ui"]["csp"]["resourceDomains"],
                             ["https://s4.anilist.co", "https://img.anili.st"])
            self.assertEqual(c["_meta"]["ui"]["domain"], self.s.base)
            self.assertEqual(c["_meta"]["openai/widgetDomain"], self.s.base)
        st, _, b = self.rpc("resources/read", {"uri": "ui://widget/none.html"})
        self.assertEqual(b["error"]["code"], -32002)
        st, _, b = self.rpc("tools/list")
        templates = {t["name"]: t["_meta"].get("openai/outputTemplate")
                     for t in b["result"]["tools"]}
        self.assertEqual(templates["search_anime"], "ui://widget/anime-list.html")
        self.assertEqual(templates["get_anime"], "ui://widget/anime-details.html")

    # -- the official SDK ------------------------------------------------
    def test_official_sdk_clients(self):
        args = os.path.join(self.tmp, "args.json")
        with open(args, "w") as f:
            json.dump({"search_anime": {"query": "Frieren"},
                       "get_character_info": {"search": "Frieren"},
                       "get_anime_recommendations":
                           {"reference_title": "Frieren", "count": 3},
                       "get_user_list": {"user_name": "sampleuser",
                                         "per_page": 5},
                       "get_watch_order": {"id": 182255},
                       "get_staff_info": {"search": "Makoto Shinkai"},
                       "get_studio_info": {"search": "MAPPA"},
                       "pick_from_my_list": {"user_name": "sampleuser"},
                       "get_my_airing": {"user_name": "sampleuser"},
                       "get_user_profile": {"user_name": "sampleuser"}},
                      f)
        rc, r = self.node("sdk-client.mjs", self.s.url("/mcp"), args)
        self.assertEqual(r["failures"], [])
        self.assertEqual(rc, 0)
        self.assertEqual(r["v1_protocol_version"], V11)
        self.assertGreaterEqual(r["v1_tools_called"], 7)
        self.assertEqual(r["v2-pinned_protocol_version"], V26)
        self.assertEqual(r["v2-auto_protocol_version"], V26)
        self.assertGreaterEqual(r["v2-pinned_tools_called"], 7)

    # -- widgets in Chromium ---------------------------------------------
    def render(self, uri, output, name, mode="openai"):
        st, _, b = self.rpc("resources/read", {"uri": uri})
        html = os.path.join(self.tmp, name + ".html")
        with open(html, "w") as f:
            f.write(b["result"]["contents"][0]["text"])
        out = os.path.join(self.tmp, name + ".json")
        with open(out, "w") as f:
            json.dump(output, f)
        shot = os.path.join(self.tmp, name + ".png")
        rc, r = self.node("render-widget.mjs", html, out, shot, mode)
        self.assertEqual(rc, 0, r.get("error"))
        with open(shot, "rb") as f:
            png = f.read()
        self.assertTrue(png.startswith(b"\x89PNG\r\n\x1a\n"))
        self.assertGreater(len(png), 5000)
        self.assertFalse(r["scriptRan"], "a value ran as script")
        for u in r["requests"] + r["images"]:
            self.assertTrue(u.startswith(IMAGE_HOSTS), u)
        return r

    def test_widgets_render_in_chromium(self):
        self.assertTrue(os.access(CHROMIUM, os.X_OK),
                        "Debian chromium is needed (apt-get install chromium)")
        found = self.tool_result("search_anime", {"query": "Frieren"})
        self.assertTrue(found["results"])
        first = found["results"][0]
        evil = json.loads(json.dumps(found))
        evil["results"][0]["title"]["english"] = EVIL + "Evil title"
        r = self.render("ui://widget/anime-list.html", evil, "list")
        self.assertEqual(r["cards"], len(found["results"]))
        self.assertIn(EVIL + "Evil title", r["text"])
        self.assertIn(found["results"][1]["title"]["romaji"] or "", r["text"])
        self.assertTrue(r["images"])

        r = self.render("ui://widget/anime-list.app.html", evil, "list-app",
                        "mcp-app")
        self.assertEqual(r["cards"], len(found["results"]))
        self.assertIn("ui/initialize", r["bridge"])

        details = self.tool_result("get_anime", {"id": first["id"]})
        details["anime"]["description"] = EVIL + " description"
        r = self.render("ui://widget/anime-details.html", details, "details")
        self.assertIn(EVIL + " description", r["text"])
        self.assertIn(details["anime"]["title"]["romaji"], r["text"])

        # A real recommendations result: says what it is about, each card
        # with its reasons.
        recs = self.tool_result("get_anime_recommendations",
                                {"reference_title": "Frieren", "count": 4})
        self.assertTrue(recs["recommendations"])
        self.assertTrue(recs["recommendations"][0]["reasons"])
        evil = json.loads(json.dumps(recs))
        evil["recommendations"][0]["reasons"][0] = EVIL + " because"
        r = self.render("ui://widget/recommendations.html", evil, "recs")
        self.assertEqual(r["cards"], len(recs["recommendations"]))
        self.assertIn("Similar to " + (recs["reference"]["title"]["english"]
                                       or recs["reference"]["title"]["romaji"]),
                      r["text"])
        self.assertNotIn("Recommended for you", r["text"])
        self.assertIn(EVIL + " because", r["text"])
        for item in recs["recommendations"][1:]:
            self.assertIn(item["reasons"][0], r["text"])

        # A real get_user_list result (a public list: no sign-in needed).
        lst = self.tool_result("get_user_list", {"user_name": "sampleuser",
                                                 "per_page": 6})
        self.assertEqual(len(lst["results"]), 6)
        evil = json.loads(json.dumps(lst))
        evil["user"]["name"] = EVIL
        evil["results"][0]["title"]["english"] = EVIL + "Evil entry"
        evil["results"][0].update(progress=3, score=85)
        r = self.render("ui://widget/user-list.html", evil, "list-user")
        self.assertEqual(r["cards"], 6)
        self.assertIn(EVIL + "\u2019s anime list", r["text"])
        self.assertIn(EVIL + "Evil entry", r["text"])
        self.assertIn("Current" if evil["results"][0]["status"] == "CURRENT"
                      else "Planning", r["text"])
        self.assertIn("episode 3", r["text"])
        self.assertIn("your score 85/100", r["text"])
        second = lst["results"][1]["title"]
        self.assertIn(second["english"] or second["romaji"], r["text"])
        self.assertTrue(r["images"])

    # -- GPT Actions -----------------------------------------------------
    def test_openapi_is_valid_and_consistent(self):
        st, h, doc = self.s.json("GET", "/openapi.json")
        self.assertEqual(st, 200)
        self.assertEqual(doc["openapi"], "3.1.0")
        self.assertEqual(doc["servers"], [{"url": self.s.base}])
        self.assertIn("unofficial", doc["info"]["title"])
        ids = [op["operationId"] for item in doc["paths"].values()
               for op in item.values()]
        self.assertEqual(len(ids), len(set(ids)))
        self.assertIn("/v1/anime/{id}", doc["paths"])
        op = doc["paths"]["/v1/anime/{id}"]["get"]
        self.assertIn({"in": "path", "name": "id"},
                      [{"in": p["in"], "name": p["name"]}
                       for p in op["parameters"]])
        flow = doc["components"]["securitySchemes"]["anilist_oauth"]["flows"][
            "authorizationCode"]
        self.assertEqual(flow["authorizationUrl"], self.s.base + "/oauth/authorize")
        self.assertEqual(flow["tokenUrl"], self.s.base + "/oauth/token")
        rc, r = self.node("openapi-validate.mjs", self.s.url("/openapi.json"))
        self.assertTrue(r["valid"], r.get("error"))
        self.assertEqual(r["operations"], len(ids))

        st, _, m = self.s.json("GET", "/.well-known/ai-plugin.json")
        self.assertEqual(st, 200)
        self.assertEqual(m["api"]["url"], self.s.base + "/openapi.json")
        self.assertEqual(m["auth"]["client_url"], flow["authorizationUrl"])
        self.assertEqual(m["auth"]["authorization_url"], flow["tokenUrl"])
        self.assertIn("unofficial", m["name_for_human"])
        st, h, logo = self.s.request("GET", "/logo.svg")
        self.assertEqual(st, 200)
        self.assertTrue(h["content-type"].startswith("image/svg+xml"))

    def test_privacy_page(self):
        st, h, body = self.s.request("GET", "/privacy")
        self.assertEqual(st, 200)
        self.assertTrue(h["content-type"].startswith("text/html"))
        text = body.decode()
        self.assertIn("DELETE", text)
        self.assertIn(self.s.base + "/v1/me", text)
        self.assertIn("unofficial", text)
        self.assertIn("encrypted", text)


if __name__ == "__main__":
    unittest.main(verbosity=2)
