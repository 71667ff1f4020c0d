"""test_bad_input.py: hostile input to every route never crashes the service nor gets a 5xx.

The routes come from the route table itself (src/routes.c). Each gets, as
applies: hostile path captures, hostile query strings (huge, too many
parameters, bad escapes, NUL, invalid UTF-8, huge and negative numbers),
wrong methods, wrong content types, bodies that are not JSON, not UTF-8,
deeply nested (10000 arrays) or too large, and odd headers, some sent as
raw bytes on a TLS socket. The stack is complete (Caddy, memcached,
PostgreSQL, the sample upstream), so no 5xx is acceptable but a 503 that
names an upstream limit. Afterwards /health answers, no worker was
restarted and the log has no sanitizer report (checked at stop).
"""
import http.client
import json
import os
import re
import socket
import ssl
import sys
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

harness.watchdog(110)

ROUTE_RE = re.compile(r'\{\s*"([A-Z]+)",\s*"([^"]+)",\s*(\w+),')


def read_routes():
    """(method, pattern) of every line of the route table, in order."""
    with open(os.path.join(harness.TOP_SRCDIR, "src", "routes.c"),
              encoding="utf-8") as f:
        text = f.read()
    routes = []
    for m in ROUTE_RE.finditer(text):
        if (m.group(1), m.group(2)) not in routes:
            routes.append((m.group(1), m.group(2)))
    return routes


ROUTES = read_routes()

# Path captures ({id}) and query values, percent-encoded as sent.
HOSTILE_VALUES = [
    "0", "-1", "-9223372036854775809", "9223372036854775808",
    "99999999999999999999999999999999", "1e308", "1e999", "-0", "0x10",
    "1.5", "NaN", "Infinity", "%00", "1%00", "%ff", "%C0%AF", "%ED%A0%80",
    "%F4%90%80%80", "%zz", "%", "%2", "abc", "1%2F2", "..%2F..%2Fetc",
    "%20", "%0A1", "%E2%80%AE", "null", "true", "[]", "{}",
    "%F0%9F%98%80" * 60, "9" * 3000, "A" * 5000,
]
HOSTILE_QUERIES = [
    "a=" + "x" * 9000,
    "&".join("k%d=1" % i for i in range(80)),
    "page=-1&per_page=-5", "page=0&per_page=0",
    "page=99999999999999999999&per_page=1e309",
    "year=-2147483649", "year=2147483648", "id=-1&id=0",
    "from=-9223372036854775808&to=9223372036854775807",
    "genres=" + ",".join(["Action"] * 1000),
    "genres[]=%ff", "tags=%00", "query=" + "%F0%9F%98%80" * 300,
    "query=%ff%fe", "query=%C0%80", "search=%00abc", "full=%ff",
    "include_adult=maybe", "season=%00", "sort=", "=1", "&&&&", "%",
    "a%00b=1", "%ff=%ff", "q=" + "%25" * 3000, "media_type=" + "A" * 4000,
    "code=%00&state=%ff", "redirect_uri=javascript:alert(1)",
    "client_id=" + "%ff" * 100, "response_type=token&client_id=x",
]
BODIES = [
    ("", None),
    ("{", "application/json"),
    ("\x00\x01\x02", "application/json"),
    (b"\xff\xfe\xfd", "application/json"),
    (b'{"jsonrpc":"2.0","id":1,"method":"\xff"}', "application/json"),
    ('{"s":"\\ud800"}', "application/json"),
    ("[" * 10000 + "]" * 10000, "application/json"),
    ('{"a":' * 10000 + "1" + "}" * 10000, "application/json"),
    ("1" * 5000, "application/json"),
    ("1e999999", "application/json"),
    ("-" + "9" * 400, "application/json"),
    ("NaN", "application/json"),
    ('"' + "x" * 60000 + '"', "application/json"),
    ("x" * 70000, "application/json"),
    ("{}", "text/plain"),
    ("{}", "application/x-www-form-urlencoded"),
    ("a=%zz&b=%00&c=%ff", "application/x-www-form-urlencoded"),
    ("&".join("k%d=v" % i for i in range(200)),
     "application/x-www-form-urlencoded"),
    ("--x\r\n\r\n--x--", "multipart/form-data; boundary=x"),
    ("{}", "application/json; charset=latin1"),
    ("{}", "application/json\x7f"),
    ('{"jsonrpc":"2.0"}', "application/json"),
]


def mcp(method, params=None, id=1):
    o = {"jsonrpc": "2.0", "id": id, "method": method}
    if params is not None:
        o["params"] = params
    return json.dumps(o)


def deep(n):
    v = 1
    for _ in range(n):
        v = [v]
    return v


MCP_BODIES = [
    mcp("tools/call", {"name": "get_anime", "arguments": {"id": -1}}),
    mcp("tools/call", {"name": "get_anime", "arguments": {"id": 2 ** 63}}),
    mcp("tools/call", {"name": "get_anime", "arguments": {"id": 1e308}}),
    mcp("tools/call", {"name": "get_anime", "arguments": {"id": "1"}}),
    mcp("tools/call", {"name": "search_anime",
                       "arguments": {"query": "\ud800x", "year": -1}}),
    mcp("tools/call", {"name": "search_anime",
                       "arguments": {"genres": ["x"] * 5000}}),
    mcp("tools/call", {"name": "search_anime", "arguments": deep(60)}),
    mcp("tools/call", {"name": "search_anime",
                       "arguments": {"query": deep(200)}}),
    mcp("tools/call", {"name": "x" * 10000, "arguments": {}}),
    mcp("tools/call", {"name": None, "arguments": None}),
    mcp("tools/call", None, id=2 ** 70),
    mcp("tools/call", None, id=-1.5e308),
    mcp("tools/call", None, id=deep(10)),
    mcp("resources/read", {"uri": "ui://widget/../../../../etc/passwd"}),
    mcp("resources/read", {"uri": "file:///etc/passwd"}),
    mcp("resources/read", {"uri": "ui://widget/%00.html"}),
    mcp("initialize", {"protocolVersion": "x" * 10000}),
    mcp("initialize", {"protocolVersion": 2025}),
    mcp("x" * 20000),
    "[" + ",".join([mcp("ping")] * 500) + "]",
    "[" * 10000 + "]" * 10000,
    "[]", "[1]", "null", "0", '"x"',
]
METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "BREW"]
RETRY_CODES = ("upstream", "rate", "unavailable", "budget", "anilist")


class BadInputTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = harness.Stack(workers=2, threads=4, memcached=True,
                              postgres=True, upstream=True,
                              upstream_args=["--rate-limit", "0"],
                              config={"UPSTREAM_RATE_LIMIT": "90",
                                      "ALERT_WEBHOOK_SECRET":
                                          "bad-input-test-secret-0123456789",
                                      "RATE_LIMIT_REQUESTS": "0"})
        cls.s.start()
        cls.pids = sorted(cls.s.worker_pids())
        cls.host = urllib.parse.urlsplit(cls.s.base)
        cls.conn = None
        cls.sent = 0

    @classmethod
    def tearDownClass(cls):
        if cls.conn is not None:
            cls.conn.close()
        cls.s.stop()

    # -- sending ---------------------------------------------------------
    def send(self, method, path, body=None, headers=None):
        """One request on a kept-alive connection: (status, headers, body)."""
        if isinstance(body, str):
            body = body.encode("utf-8", "surrogatepass")
        for attempt in (1, 2):
            if self.conn is None:
                type(self).conn = self.s.connection(timeout=30)
            try:
                self.conn.request(method, path, body=body,
                                  headers=headers or {})
                r = self.conn.getresponse()
                data = r.read()
                if r.getheader("Connection", "").lower() == "close":
                    self.conn.close()
                    type(self).conn = None
                type(self).sent += 1
                return r.status, {k.lower(): v for k, v in
                                  r.getheaders()}, data
            except (http.client.HTTPException, OSError):
                self.conn.close()
                type(self).conn = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def raw(self, data):
        """Raw bytes on a new TLS connection: (status, headers, body)."""
        ctx = ssl.create_default_context(cafile=self.s.ca)
        with socket.create_connection((self.host.hostname,
                                       self.host.port), timeout=30) as sock:
            with ctx.wrap_socket(sock,
                                 server_hostname=self.host.hostname) as t:
                t.sendall(data)
                reply = b""
                while True:
                    chunk = t.recv(65536)
                    if not chunk:
                        break
                    reply += chunk
        type(self).sent += 1
        head, _, body = reply.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        m = re.match(r"HTTP/1\.[01] (\d{3})", lines[0])
        h = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            h[k.strip().lower()] = v.strip()
        if h.get("transfer-encoding", "").lower() == "chunked":
            out = b""
            while body:
                size, _, body = body.partition(b"\r\n")
                n = int(size.split(b";")[0] or b"0", 16)
                if n == 0:
                    break
                out += body[:n]
                body = body[n + 2:]
            body = out
        return (int(m.group(1)) if m else 0), h, body

    def check(self, what, status, h, data):
        """No 5xx (but an upstream-limit 503); JSON answers parse."""
        ctype = h.get("content-type", "")
        body = None
        if ctype.startswith("application/json") and data:
            try:
                body = json.loads(data.decode("utf-8"))
            except ValueError:
                self.fail("%s: %d with a body that is not JSON in UTF-8: "
                          "%r" % (what, status, data[:200]))
        if status < 500:
            return
        if status == 503 and body is not None:
            text = json.dumps(body).lower()
            if any(c in text for c in RETRY_CODES) and \
                    "retry-after" in h:
                return
        self.fail("%s: %d %r" % (what, status, data[:300]))

    def fill(self, pattern, value):
        return re.sub(r"\{\w+\}", value, pattern)

    # -- the tests ---------------------------------------------------------
    def test_routes_were_read(self):
        self.assertGreater(len(ROUTES), 20)
        self.assertIn(("POST", "/mcp"), ROUTES)
        self.assertIn(("GET", "/v1/anime/{id}"), ROUTES)

    def test_hostile_path_captures(self):
        for method, pattern in ROUTES:
            if "{" not in pattern:
                continue
            for v in HOSTILE_VALUES:
                path = self.fill(pattern, v)
                self.check("%s %s" % (method, path[:80]),
                           *self.send(method, path))

    def test_hostile_query_strings(self):
        for method, pattern in ROUTES:
            if method != "GET":
                continue
            path = self.fill(pattern, "1")
            for q in HOSTILE_QUERIES:
                self.check("GET %s?%s" % (path, q[:60]),
                           *self.send("GET", path + "?" + q))

    def test_wrong_methods(self):
        for method, pattern in ROUTES:
            path = self.fill(pattern, "1")
            # Methods another route of the same path answers are not wrong.
            allowed = {r[0] for r in ROUTES if r[1] == pattern}
            for m in METHODS:
                if m in allowed or (m == "HEAD" and "GET" in allowed):
                    continue
                status, h, data = self.send(m, path, body="{}", headers={
                    "Content-Type": "application/json"})
                self.check("%s %s" % (m, path), status, h, data)
                self.assertIn(status, (400, 404, 405, 501), (m, path))

    def test_hostile_bodies(self):
        for method, pattern in ROUTES:
            if method not in ("POST", "DELETE"):
                continue
            path = self.fill(pattern, "1")
            for body, ctype in BODIES:
                headers = {"Accept": "application/json, text/event-stream"}
                if ctype is not None:
                    headers["Content-Type"] = ctype
                self.check("%s %s %r" % (method, path, body[:40]),
                           *self.send(method, path, body, headers))

    def test_mcp_with_10000_nested_arrays_is_a_parse_error(self):
        status, h, data = self.send(
            "POST", "/mcp", "[" * 10000 + "]" * 10000,
            {"Content-Type": "application/json",
             "Accept": "application/json, text/event-stream"})
        self.assertEqual(status, 400, data[:300])
        body = json.loads(data)
        self.assertEqual(body["error"]["code"], -32700)

    def test_hostile_mcp_messages(self):
        headers = {"Content-Type": "application/json",
                   "Accept": "application/json, text/event-stream"}
        for version in (None, "2025-03-26", "2025-06-18", "2026-07-28"):
            h = dict(headers)
            if version:
                h["MCP-Protocol-Version"] = version
            for body in MCP_BODIES:
                self.check("POST /mcp %s %r" % (version, body[:60]),
                           *self.send("POST", "/mcp", body, h))

    def test_hostile_headers(self):
        cases = [
            {"Authorization": "Bearer " + "x" * 8000},
            {"Authorization": "Bearer a.b.c"},
            {"Authorization": "Basic %%%"},
            {"Authorization": "Bearer"},
            {"Cookie": "session=" + "%ff" * 1000},
            {"Cookie": "=;=;;;session"},
            {"Origin": "null"},
            {"Origin": "https://evil.example"},
            {"MCP-Protocol-Version": "9999-99-99"},
            {"Mcp-Method": "x" * 5000, "Mcp-Name": ""},
            {"X-Request-ID": "x" * 5000},
            {"Content-Length": "-1"},
            {"Accept": "text/html;q=-1"},
        ]
        for method, pattern in ROUTES:
            path = self.fill(pattern, "1")
            for h in cases:
                h = dict(h)
                h.setdefault("Content-Type", "application/json")
                body = mcp("tools/list") if method == "POST" else None
                try:
                    status, rh, data = self.send(method, path, body, h)
                except (http.client.HTTPException, OSError):
                    continue    # Caddy may refuse the request itself
                self.check("%s %s %r" % (method, path, list(h)[0]),
                           status, rh, data)

    def test_raw_bytes_caddy_passes_on(self):
        # Invalid UTF-8 and odd bytes in places http.client will not put.
        host = ("Host: %s:%d\r\n" % (self.host.hostname,
                                     self.host.port)).encode()
        requests = [
            b"GET /v1/anime/search?query=\xff\xfe HTTP/1.1\r\n",
            b"GET /v1/anime/\xc3\x28 HTTP/1.1\r\n",
            b"GET /health?\x7f=1 HTTP/1.1\r\n",
            b"POST /mcp HTTP/1.1\r\nContent-Type: application/json\r\n"
            b"Accept: application/json, text/event-stream\r\n"
            b"MCP-Protocol-Version: \xff\xfe\r\nContent-Length: 2\r\n",
            b"POST /mcp HTTP/1.1\r\nContent-Type: application/json\r\n"
            b"Accept: application/json, text/event-stream\r\n"
            b"Mcp-Method: tools/call\r\nMcp-Name: \xe2\x82\r\n"
            b"Content-Length: 2\r\n",
            b"GET /auth/me HTTP/1.1\r\nAuthorization: Bearer \xff\r\n",
            b"GET /health HTTP/1.1\r\nX-Request-ID: \x01\x02\r\n",
        ]
        for req in requests:
            head, _, rest = req.partition(b"\r\n")
            data = head + b"\r\n" + host + rest + b"Connection: close\r\n"
            body = b"{}" if b"Content-Length: 2" in req else b""
            status, h, reply = self.raw(data + b"\r\n" + body)
            self.assertTrue(status, req)
            self.check(repr(req[:50]), status, h, reply)

    def test_zz_still_healthy_and_no_worker_restarted(self):
        # Runs last (alphabetical order).
        status, _, _ = self.send("GET", "/health")
        self.assertEqual(status, 200)
        self.assertGreater(self.sent, 1000)
        self.assertEqual(sorted(self.s.worker_pids()), self.pids)
        died = [l for l in self.s.log_lines()
                if l.get("msg") in ("worker died",
                                    "worker exited unexpectedly")]
        self.assertEqual(died, [])
        self.assertIsNone(harness.sanitizer_report(self.s.service_log()))


if __name__ == "__main__":
    unittest.main()
