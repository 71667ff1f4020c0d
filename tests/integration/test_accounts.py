"""test_accounts.py: PostgreSQL, AniList login, the OAuth 2.1 server.

Real PostgreSQL (a private cluster started as the postgres user), real Caddy,
the sample AniList upstream; nothing is mocked. A browser is played with
urllib and a cookie jar; an MCP client with plain HTTP requests.
"""
import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from oauth_flow import CLIENT_CB, FORM, Browser, pkce_pair  # noqa: E402

harness.watchdog(170)

JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}")
SQLI = ["' OR '1'='1", "'; DROP TABLE users; --", "\\x00'); DELETE FROM tokens;--",
        "1) OR 1=1 --", "$1", "\"; TRUNCATE oauth_clients; --"]
TABLES = ["users", "anilist_tokens", "oauth_clients", "login_states",
          "authorization_codes", "token_families", "tokens",
          "user_preferences", "recommendation_events", "search_stats"]


def hkdf_sha256(ikm, salt, info, n=32):
    prk = hmac.new(salt, ikm, hashlib.sha256).digest()
    out, t, i = b"", b"", 1
    while len(out) < n:
        t = hmac.new(prk, t + info + bytes([i]), hashlib.sha256).digest()
        out += t
        i += 1
    return out[:n]


HASH_KEY = hkdf_sha256(harness.SECRET.encode(), b"anilist-gpt v1",
                       b"anilist-gpt token hashing")


def token_hash(token):
    """What the service stores for one of its tokens (hex of the HMAC)."""
    return hmac.new(HASH_KEY, token.encode(), hashlib.sha256).hexdigest()


class Accounts(unittest.TestCase):
    secrets_seen = []

    @classmethod
    def setUpClass(cls):
        cls.s = harness.Stack(workers=2, threads=4, postgres=True)
        cls.s.start()
        cls.public = cls.s.base

    @classmethod
    def tearDownClass(cls):
        cls.s.stop()

    # -- helpers -----------------------------------------------------------
    def remember(self, *values):
        self.secrets_seen.extend(v for v in values if v)

    def counts(self):
        sql = " UNION ALL ".join("SELECT '%s', count(*) FROM %s" % (t, t)
                                 for t in TABLES)
        return {k: int(v) for k, v in self.s.psql(sql)}

    def login(self, user=None):
        """The whole browser login; returns (browser, /auth/me body)."""
        b = Browser(self.s)
        status, url, h, body = b.follow(self.s.url("/auth/login"), user=user)
        self.assertEqual(status, 200, body)
        self.assertTrue(url.endswith("/auth/me"), url)
        me = json.loads(body)
        self.remember(b.cookie("__Host-agpt_session"))
        return b, me

    def register(self, **meta):
        meta.setdefault("redirect_uris", [CLIENT_CB])
        meta.setdefault("token_endpoint_auth_method", "none")
        meta.setdefault("client_name", "Test MCP client")
        status, h, body = self.s.json("POST", "/oauth/register", meta)
        if status == 201:
            self.remember(body.get("client_secret"))
        return status, h, body

    def authorize_url(self, client_id, challenge, **extra):
        q = {"response_type": "code", "client_id": client_id,
             "redirect_uri": CLIENT_CB, "code_challenge": challenge,
             "code_challenge_method": "S256", "state": "st-" + "x" * 8,
             "scope": "anilist", "resource": self.public + "/mcp"}
        q.update(extra)
        q = {k: v for k, v in q.items() if v is not None}
        return self.s.url("/oauth/authorize?" + urllib.parse.urlencode(q))

    def authorize(self, client_id, challenge, user=None, decision="allow",
                  browser=None, **extra):
        """Authorize through consent and the AniList login.

        Returns the query of the client redirect as a dict.
        """
        b = browser or Browser(self.s)
        status, h, body = b.request("GET", self.authorize_url(
            client_id, challenge, **extra))
        self.assertEqual(status, 200, body)
        self.assertIn("text/html", h["Content-Type"])
        login = re.search(rb'name="login" value="([^"]+)"', body)
        self.assertIsNotNone(login, body)
        login = login.group(1).decode()
        self.remember(login)
        status, url, _, body = b.follow(
            self.s.url("/oauth/authorize"), method="POST",
            data={"login": login, "decision": decision},
            headers=dict(FORM, Origin=self.public),
            stop=lambda u: u.startswith(CLIENT_CB), user=user)
        self.assertEqual(status, 302, body)
        q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
        self.remember(q.get("code"))
        return q

    def token(self, form, headers=None):
        status, h, body = self.s.json(
            "POST", "/oauth/token", urllib.parse.urlencode(form),
            dict(FORM, **(headers or {})))
        if status == 200:
            self.remember(body["access_token"], body["refresh_token"])
            self.assertEqual(h.get("cache-control"), "no-store")
        return status, body

    def grant(self, user=None):
        """Register, authorize and exchange: (client_id, token response)."""
        _, _, client = self.register()
        verifier, challenge = pkce_pair()
        q = self.authorize(client["client_id"], challenge, user=user)
        status, tokens = self.token({
            "grant_type": "authorization_code", "code": q["code"],
            "redirect_uri": CLIENT_CB, "client_id": client["client_id"],
            "code_verifier": verifier})
        self.assertEqual(status, 200, tokens)
        return client["client_id"], tokens

    def me(self, bearer=None, cookie=None, method="GET", origin=None):
        h = {}
        if bearer:
            h["Authorization"] = "Bearer " + bearer
        if cookie:
            h["Cookie"] = "__Host-agpt_session=" + cookie
        if origin:
            h["Origin"] = origin
        return self.s.json(method, "/auth/me" if method == "GET" else
                           "/v1/me", headers=h)

    # -- PostgreSQL --------------------------------------------------------
    def test_migrate_twice_changes_nothing(self):
        before = self.s.psql("SELECT version, checksum, applied_at "
                             "FROM schema_migrations ORDER BY version")
        out = self.s.migrate()
        self.assertIn("0 migrations applied now", out)
        after = self.s.psql("SELECT version, checksum, applied_at "
                            "FROM schema_migrations ORDER BY version")
        self.assertEqual(before, after)
        self.assertEqual(before[0][0], "1")

    def migrate_dir(self, d):
        return subprocess.run(
            [harness.BINARY, "-c", self.s.config_path, "-s", d, "migrate"],
            env=self.s.service_env(), capture_output=True, text=True,
            timeout=60)

    def test_migrate_applies_in_order_and_rolls_back_a_failure(self):
        d = tempfile.mkdtemp(prefix="agpt-sql-")
        # The project's migrations (already applied), then test ones
        # numbered after any the project will have.
        sql = os.path.join(harness.TOP_SRCDIR, "sql")
        for name in os.listdir(sql):
            if name.endswith(".sql"):
                with open(os.path.join(sql, name)) as f, \
                        open(os.path.join(d, name), "w") as g:
                    g.write(f.read())
        files = {"910_later.sql": "INSERT INTO it_extra VALUES (10);",
                 "902_extra.sql": "CREATE TABLE it_extra (n int);\n"
                                  "INSERT INTO it_extra VALUES (2);",
                 "README": "not a migration", "3_x.txt": "nor this"}
        for name, text in files.items():
            with open(os.path.join(d, name), "w") as f:
                f.write(text)
        try:
            r = self.migrate_dir(d)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(r.stdout.splitlines()[:2],
                             ["applied 902_extra.sql", "applied 910_later.sql"])
            with open(os.path.join(d, "911_broken.sql"), "w") as f:
                f.write("INSERT INTO it_extra VALUES (11);\n"
                        "SELECT no_such_column FROM it_extra;")
            r = self.migrate_dir(d)
            self.assertEqual(r.returncode, 1)
            self.assertIn("911_broken.sql", r.stderr)
            self.assertEqual(self.s.psql("SELECT n FROM it_extra ORDER BY n"),
                             [["2"], ["10"]])
            self.assertEqual(self.s.psql(
                "SELECT max(version) FROM schema_migrations"), [["910"]])
            os.unlink(os.path.join(d, "911_broken.sql"))
            with open(os.path.join(d, "0902_again.sql"), "w") as f:
                f.write("SELECT 1;")
            r = self.migrate_dir(d)
            self.assertEqual(r.returncode, 1)
            self.assertIn("same version", r.stderr)
        finally:
            self.s.psql("DROP TABLE IF EXISTS it_extra")
            self.s.psql("DELETE FROM schema_migrations WHERE version >= 900")
            for name in os.listdir(d):
                os.unlink(os.path.join(d, name))
            os.rmdir(d)

    def test_health_db_reports_select_latency_and_schema(self):
        status, _, body = self.s.json("GET", "/health/db")
        self.assertEqual(status, 200, body)
        self.assertEqual(body["status"], "up")
        self.assertGreaterEqual(body["latency_ms"], 0)
        self.assertEqual(body["schema_version"], body["schema_required"])
        status, _, body = self.s.json("GET", "/health/ready")
        self.assertEqual(body["dependencies"]["db"]["status"], "up")
        self.assertTrue(body["dependencies"]["db"]["required"])

    # -- web login ---------------------------------------------------------
    def test_browser_login_through_caddy(self):
        b = Browser(self.s)
        status, h, _ = b.request("GET", self.s.url("/auth/login"))
        self.assertEqual(status, 302)
        loc = urllib.parse.urlsplit(h["Location"])
        q = dict(urllib.parse.parse_qsl(loc.query))
        self.assertEqual(loc.path, "/api/v2/oauth/authorize")
        self.assertEqual(q["client_id"], "sample-client")
        self.assertEqual(q["redirect_uri"], self.public + "/auth/callback")
        self.assertEqual(q["response_type"], "code")
        self.assertGreaterEqual(len(q["state"]), 43)
        # Every parameter is URL-encoded in the Location we sent.
        self.assertIn("redirect_uri=https%3A%2F%2Flocalhost", h["Location"])
        self.remember(q["state"])

        status, url, h, body = b.follow(h["Location"], user="webuser")
        self.assertEqual(status, 200, body)
        me = json.loads(body)
        self.assertEqual(me["user"]["name"], "webuser")
        self.assertEqual(me["via"], "session")
        self.assertGreater(me["anilist_token_expires_at"], time.time() + 86400)

        session = b.cookie("__Host-agpt_session")
        self.remember(session)
        self.assertEqual(len(session), 43)
        # Stored as its HMAC only; the AniList token sealed, never plain.
        rows = self.s.psql(
            "SELECT t.kind, u.anilist_name FROM tokens t JOIN users u ON "
            "u.id = t.user_id WHERE t.token_hash = decode(:'p1', 'hex')",
            token_hash(session))
        self.assertEqual(rows, [["session", "webuser"]])
        self.assertEqual(self.s.psql(
            "SELECT count(*) FROM tokens WHERE position(convert_to(:'p1', "
            "'UTF8') IN token_hash) > 0", session), [["0"]])
        sealed = self.s.psql(
            "SELECT encode(a.token_sealed, 'hex') FROM anilist_tokens a "
            "JOIN users u ON u.id = a.user_id WHERE u.anilist_name = "
            "'webuser'")[0][0]
        blob = bytes.fromhex(sealed)
        self.assertEqual(blob[0], 1)
        self.assertGreater(len(blob), 1 + 12 + 16 + 100)
        self.assertNotIn(b"eyJ", blob)
        self.assertNotIn(b"webuser", blob)

    def test_session_cookie_attributes(self):
        b = Browser(self.s)
        status, url, _, _ = b.follow(
            self.s.url("/auth/login"),
            stop=lambda u: u.startswith(self.public + "/auth/callback"))
        status, h, _ = b.request("GET", url)
        self.assertEqual(status, 302)
        cookies = h.get_all("Set-Cookie")
        session = [c for c in cookies if c.startswith("__Host-agpt_session=")]
        self.assertEqual(len(session), 1, cookies)
        attrs = [a.strip().lower() for a in session[0].split(";")]
        for want in ("httponly", "secure", "samesite=lax", "path=/"):
            self.assertIn(want, attrs)
        self.assertFalse(any(a.startswith("domain=") for a in attrs))
        self.assertIn("__Host-agpt_login=; Path=/; Max-Age=0",
                      " ".join(cookies))
        self.remember(session[0].split(";")[0].split("=", 1)[1])

    def test_login_again_updates_user_and_reseals_token(self):
        self.login(user="twice")
        first = self.s.psql("SELECT a.token_sealed FROM anilist_tokens a "
                            "JOIN users u ON u.id = a.user_id "
                            "WHERE u.anilist_name = 'twice'")
        self.login(user="twice")
        second = self.s.psql("SELECT a.token_sealed FROM anilist_tokens a "
                             "JOIN users u ON u.id = a.user_id "
                             "WHERE u.anilist_name = 'twice'")
        self.assertEqual(self.s.psql("SELECT count(*) FROM users WHERE "
                                     "anilist_name = 'twice'"), [["1"]])
        self.assertNotEqual(first, second)

    def callback_url(self, b):
        """Start a login and stop before the callback: its URL and state."""
        status, url, _, _ = b.follow(
            self.s.url("/auth/login"),
            stop=lambda u: u.startswith(self.public + "/auth/callback"))
        state = dict(urllib.parse.parse_qsl(
            urllib.parse.urlsplit(url).query))["state"]
        self.remember(state)
        return url, state

    def assert_refused(self, status, body, want_status=400, code=None):
        self.assertEqual(status, want_status, body)
        if code:
            self.assertEqual(body["error"]["code"], code, body)

    def test_missing_bad_foreign_expired_state_refused_nothing_stored(self):
        before = self.counts()
        # Missing state.
        status, _, body = self.s.json("GET", "/auth/callback?code=abc")
        self.assert_refused(status, body, code="invalid_state")
        # A state we never issued, even with a matching cookie.
        bad = secrets.token_urlsafe(32)
        status, _, body = self.s.json(
            "GET", "/auth/callback?code=abc&state=" + bad,
            headers={"Cookie": "__Host-agpt_login=" + bad})
        self.assert_refused(status, body, code="invalid_state")
        # A real state, but from another browser (no login cookie).
        b = Browser(self.s)
        url, state = self.callback_url(b)
        status, _, body = self.s.json("GET", url[len(self.public):])
        self.assert_refused(status, body, code="invalid_state")
        # An expired one (kept 10 minutes: age it in the database).
        b2 = Browser(self.s)
        url2, state2 = self.callback_url(b2)
        self.s.psql("UPDATE login_states SET expires_at = now() - "
                    "interval '1 second' WHERE state_hash = "
                    "decode(:'p1', 'hex')", token_hash(state2))
        status, _, body = b2.request("GET", url2)
        self.assert_refused(status, json.loads(body), code="invalid_state")
        after = self.counts()
        for t in ("users", "anilist_tokens", "tokens", "authorization_codes"):
            self.assertEqual(before[t], after[t], t)
        # The first browser's state is still good: it was never consumed.
        status, _, body = b.request("GET", url)
        self.assertEqual(status, 302, body)

    def test_reused_state_refused(self):
        b = Browser(self.s)
        url, state = self.callback_url(b)
        status, _, _ = b.request("GET", url)
        self.assertEqual(status, 302)
        before = self.counts()
        # Replay it with the login cookie the first answer deleted.
        status, _, body = self.s.json(
            "GET", url[len(self.public):],
            headers={"Cookie": "__Host-agpt_login=" + state})
        self.assert_refused(status, body, code="invalid_state")
        self.assertIn("already used", body["error"]["message"])
        self.assertEqual(before, self.counts())

    def test_code_refused_by_anilist_stores_nothing(self):
        b = Browser(self.s)
        url, state = self.callback_url(b)
        before = self.counts()
        forged = re.sub(r"code=[^&]+", "code=forged-code", url)
        status, _, body = b.request("GET", forged)
        body = json.loads(body)
        self.assertEqual(status, 400, body)
        self.assertEqual(body["error"]["code"], "anilist_refused")
        after = self.counts()
        for t in ("users", "anilist_tokens", "tokens"):
            self.assertEqual(before[t], after[t], t)

    def test_logout_revokes_session(self):
        b, _ = self.login()
        session = b.cookie("__Host-agpt_session")
        status, h, body = b.request("POST", self.s.url("/auth/logout"),
                                    data=b"", headers={
                                        "Origin": self.public})
        self.assertEqual(status, 200, body)
        self.assertIn("Max-Age=0", h["Set-Cookie"])
        status, _, body = self.me(cookie=session)
        self.assertEqual(status, 401, body)
        self.assertEqual(self.s.psql(
            "SELECT revoked_at IS NOT NULL FROM tokens WHERE token_hash = "
            "decode(:'p1', 'hex')", token_hash(session)), [["t"]])

    def test_unauthenticated_gets_resource_metadata_challenge(self):
        status, h, body = self.s.json("GET", "/auth/me")
        self.assertEqual(status, 401, body)
        self.assertEqual(
            h["www-authenticate"], 'Bearer resource_metadata="%s/.well-known/'
            'oauth-protected-resource"' % self.public)
        self.assertEqual(body["error"]["code"], "unauthorized")
        status, h, _ = self.me(bearer=secrets.token_urlsafe(32))
        self.assertEqual(status, 401)
        self.assertIn('error="invalid_token"', h["www-authenticate"])
        status, h, _ = self.s.json("DELETE", "/v1/me")
        self.assertEqual(status, 401)
        self.assertIn("resource_metadata=", h["www-authenticate"])

    def test_expired_anilist_token_needs_a_new_login(self):
        b, me = self.login(user="expiring")
        self.s.psql("UPDATE anilist_tokens SET expires_at = now() - "
                    "interval '1 second' WHERE user_id = (SELECT id FROM "
                    "users WHERE anilist_name = 'expiring')")
        status, _, body = self.me(cookie=b.cookie("__Host-agpt_session"))
        self.assertEqual(status, 401, body)
        self.assertIn("expired", body["error"]["message"])

    # -- foreign origins ---------------------------------------------------
    def test_foreign_origin_with_cookie_refused(self):
        b, _ = self.login(user="victim")
        session = b.cookie("__Host-agpt_session")
        for origin in ("https://evil.example", "null",
                       "https://allowed.example", "https://chatgpt.com"):
            status, _, body = self.s.json(
                "POST", "/auth/logout", b"", headers={
                    "Cookie": "__Host-agpt_session=" + session,
                    "Origin": origin})
            self.assertEqual(status, 403, (origin, body))
            status, _, body = self.me(cookie=session, method="DELETE",
                                      origin=origin)
            self.assertEqual(status, 403, (origin, body))
        status, _, body = self.me(cookie=session)
        self.assertEqual((status, body["user"]["name"]), (200, "victim"))
        self.assertEqual(self.s.psql(
            "SELECT count(*) FROM users WHERE anilist_name = 'victim'"),
            [["1"]])

    def test_consent_refuses_foreign_origin_and_other_browser(self):
        _, _, client = self.register()
        verifier, challenge = pkce_pair()
        b = Browser(self.s)
        status, _, body = b.request("GET", self.authorize_url(
            client["client_id"], challenge))
        login = re.search(rb'name="login" value="([^"]+)"', body).group(1)
        self.remember(login.decode())
        form = {"login": login.decode(), "decision": "allow"}
        status, _, body = b.request("POST", self.s.url("/oauth/authorize"),
                                    form, dict(FORM, Origin="https://evil."
                                               "example"))
        self.assertEqual(status, 403, body)
        other = Browser(self.s)
        status, _, body = other.request("POST",
                                        self.s.url("/oauth/authorize"), form,
                                        FORM)
        self.assertEqual(status, 400, body)
        # Still pending: the right browser can answer it.
        status, h, _ = b.request("POST", self.s.url("/oauth/authorize"), form,
                                 dict(FORM, Origin=self.public))
        self.assertEqual(status, 302)
        self.assertIn("/api/v2/oauth/authorize?", h["Location"])

    # -- OAuth 2.1 for MCP clients -----------------------------------------
    def test_discovery_metadata(self):
        status, _, md = self.s.json(
            "GET", "/.well-known/oauth-authorization-server")
        self.assertEqual(status, 200)
        self.assertEqual(md["issuer"], self.public)
        self.assertEqual(md["code_challenge_methods_supported"], ["S256"])
        self.assertEqual(md["token_endpoint"], self.public + "/oauth/token")
        self.assertEqual(md["registration_endpoint"],
                         self.public + "/oauth/register")
        self.assertEqual(md["revocation_endpoint"],
                         self.public + "/oauth/revoke")
        self.assertIn("refresh_token", md["grant_types_supported"])
        for path in ("/.well-known/oauth-protected-resource",
                     "/.well-known/oauth-protected-resource/mcp"):
            status, _, pr = self.s.json("GET", path)
            self.assertEqual(status, 200)
            self.assertEqual(pr["resource"], self.public + "/mcp")
            self.assertEqual(pr["authorization_servers"], [self.public])

    def test_mcp_client_full_flow(self):
        # Register (public client), authorize with PKCE, exchange.
        status, h, client = self.register(client_name="Claude <b>&")
        self.assertEqual(status, 201, client)
        self.assertNotIn("client_secret", client)
        self.assertEqual(client["redirect_uris"], [CLIENT_CB])
        verifier, challenge = pkce_pair()
        b = Browser(self.s)
        status, h, page = b.request("GET", self.authorize_url(
            client["client_id"], challenge, state="opaque state/ü"))
        self.assertIn(b"Claude &lt;b&gt;&amp;", page)
        self.assertIn("frame-ancestors 'none'",
                      h["Content-Security-Policy"])
        q = self.authorize(client["client_id"], challenge, user="mcpuser",
                           state="opaque state/ü")
        self.assertEqual(q["state"], "opaque state/ü")
        self.assertEqual(q["iss"], self.public)
        status, tokens = self.token({
            "grant_type": "authorization_code", "code": q["code"],
            "redirect_uri": CLIENT_CB, "client_id": client["client_id"],
            "code_verifier": verifier, "resource": self.public + "/mcp"})
        self.assertEqual(status, 200, tokens)
        self.assertEqual(tokens["token_type"], "Bearer")
        self.assertEqual(tokens["expires_in"], 3600)
        self.assertEqual(len(tokens["access_token"]), 43)
        # Call a protected route with it.
        status, _, me = self.me(bearer=tokens["access_token"])
        self.assertEqual(status, 200, me)
        self.assertEqual((me["user"]["name"], me["via"], me["client_id"]),
                         ("mcpuser", "bearer", client["client_id"]))
        # Stored hashed, about an hour.
        rows = self.s.psql(
            "SELECT kind, round(extract(epoch FROM expires_at - now())) "
            "FROM tokens WHERE token_hash = decode(:'p1', 'hex')",
            token_hash(tokens["access_token"]))
        self.assertEqual(rows[0][0], "access")
        self.assertAlmostEqual(int(float(rows[0][1])), 3600, delta=30)
        # Refresh: rotated (an empty client_secret is no secret).
        status, fresh = self.token({
            "grant_type": "refresh_token", "client_id": client["client_id"],
            "client_secret": "", "refresh_token": tokens["refresh_token"]})
        self.assertEqual(status, 200, fresh)
        self.assertNotEqual(fresh["refresh_token"], tokens["refresh_token"])
        self.assertEqual(self.me(bearer=fresh["access_token"])[0], 200)
        # Revoke the new access token, then the refresh token (the grant).
        status, _, body = self.s.json(
            "POST", "/oauth/revoke", urllib.parse.urlencode({
                "token": fresh["access_token"],
                "client_id": client["client_id"]}), FORM)
        self.assertEqual(status, 200, body)
        self.assertEqual(self.me(bearer=fresh["access_token"])[0], 401)
        self.assertEqual(self.me(bearer=tokens["access_token"])[0], 200)
        status, _, _ = self.s.json(
            "POST", "/oauth/revoke", urllib.parse.urlencode({
                "token": fresh["refresh_token"],
                "token_type_hint": "refresh_token",
                "client_id": client["client_id"]}), FORM)
        self.assertEqual(status, 200)
        self.assertEqual(self.me(bearer=tokens["access_token"])[0], 401)
        status, body = self.token({
            "grant_type": "refresh_token", "client_id": client["client_id"],
            "refresh_token": fresh["refresh_token"]})
        self.assertEqual((status, body["error"]), (400, "invalid_grant"))
        # Unknown tokens revoke fine (RFC 7009).
        status, _, _ = self.s.json(
            "POST", "/oauth/revoke", urllib.parse.urlencode({
                "token": "nope", "client_id": client["client_id"]}), FORM)
        self.assertEqual(status, 200)

    def test_reused_refresh_token_revokes_the_family(self):
        client_id, tokens = self.grant()
        status, second = self.token({
            "grant_type": "refresh_token", "client_id": client_id,
            "refresh_token": tokens["refresh_token"]})
        self.assertEqual(status, 200)
        before = self.counts()
        status, body = self.token({
            "grant_type": "refresh_token", "client_id": client_id,
            "refresh_token": tokens["refresh_token"]})
        self.assertEqual((status, body["error"]), (400, "invalid_grant"))
        self.assertEqual(before["tokens"], self.counts()["tokens"])
        # Every token of the grant is dead, the newest too.
        for t in (tokens["access_token"], second["access_token"]):
            self.assertEqual(self.me(bearer=t)[0], 401)
        status, body = self.token({
            "grant_type": "refresh_token", "client_id": client_id,
            "refresh_token": second["refresh_token"]})
        self.assertEqual((status, body["error"]), (400, "invalid_grant"))

    def test_code_refusals_store_nothing(self):
        _, _, client = self.register()
        cid = client["client_id"]
        verifier, challenge = pkce_pair()

        def exchange(code, **kw):
            form = {"grant_type": "authorization_code", "code": code,
                    "redirect_uri": CLIENT_CB, "client_id": cid,
                    "code_verifier": verifier}
            form.update(kw)
            return self.token(form)

        # Wrong verifier: refused, no token, and the code is spent.
        code = self.authorize(cid, challenge)["code"]
        before = self.counts()
        status, body = exchange(code, code_verifier=pkce_pair()[0])
        self.assertEqual((status, body["error"]), (400, "invalid_grant"))
        self.assertEqual(before["tokens"], self.counts()["tokens"])
        self.assertEqual(exchange(code)[0], 400)
        # Mismatched redirect_uri at the token endpoint.
        code = self.authorize(cid, challenge)["code"]
        status, body = exchange(code, redirect_uri=CLIENT_CB + "/x")
        self.assertEqual((status, body["error"]), (400, "invalid_grant"))
        # Expired code (60 seconds: age it in the database).
        code = self.authorize(cid, challenge)["code"]
        self.s.psql("UPDATE authorization_codes SET expires_at = now() - "
                    "interval '1 second' WHERE code_hash = "
                    "decode(:'p1', 'hex')", token_hash(code))
        status, body = exchange(code)
        self.assertEqual((status, body["error"]), (400, "invalid_grant"))
        self.assertIn("expired", body["error_description"])
        # Another client cannot redeem it.
        _, _, other = self.register()
        code = self.authorize(cid, challenge)["code"]
        status, body = exchange(code, client_id=other["client_id"])
        self.assertEqual((status, body["error"]), (400, "invalid_grant"))
        self.assertEqual(before["tokens"], self.counts()["tokens"])
        # Reused code: refused, and what the first use got is revoked.
        code = self.authorize(cid, challenge)["code"]
        status, tokens = exchange(code)
        self.assertEqual(status, 200)
        self.assertEqual(self.me(bearer=tokens["access_token"])[0], 200)
        n = self.counts()["tokens"]
        status, body = exchange(code)
        self.assertEqual((status, body["error"]), (400, "invalid_grant"))
        self.assertEqual(n, self.counts()["tokens"])
        self.assertEqual(self.me(bearer=tokens["access_token"])[0], 401)

    def test_authorize_refusals(self):
        _, _, client = self.register()
        cid = client["client_id"]
        _, challenge = pkce_pair()
        b = Browser(self.s)
        before = self.counts()

        def get(**extra):
            status, h, body = b.request("GET", self.authorize_url(
                cid, challenge, **extra))
            return status, h, body

        def shown_here(h, body):
            # Never redirected before consent: anyone may register a
            # client, so a redirect here would be an open redirector.
            self.assertNotIn("Location", h)
            return json.loads(body)

        # plain PKCE, no method, no challenge: shown here.
        for extra in ({"code_challenge_method": "plain"},
                      {"code_challenge_method": None},
                      {"code_challenge": None},
                      {"code_challenge": "short"}):
            status, h, body = get(**extra)
            self.assertEqual(status, 400, (extra, body))
            self.assertEqual(shown_here(h, body)["error"], "invalid_request",
                             extra)
        for extra, error in (({"response_type": "token"},
                              "unsupported_response_type"),
                             ({"scope": "admin"}, "invalid_scope"),
                             ({"resource": "https://evil.example/mcp"},
                              "invalid_target")):
            status, h, body = get(**extra)
            self.assertEqual((status, shown_here(h, body)["error"]),
                             (400, error), extra)
        # Redirect URI not registered exactly: shown here, never followed.
        for uri in (CLIENT_CB + "/", CLIENT_CB + "?x=1",
                    "https://evil.example/cb", CLIENT_CB.upper()):
            status, h, body = get(redirect_uri=uri)
            self.assertEqual(status, 400, uri)
            self.assertNotIn("Location", h)
            self.assertEqual(json.loads(body)["error"], "invalid_request")
        status, h, body = b.request("GET", self.authorize_url(
            "no-such-client", challenge))
        self.assertEqual((status, json.loads(body)["error"]),
                         (400, "invalid_request"))
        status, h, body = b.request("GET", self.authorize_url(
            cid, challenge) + "&client_id=" + cid)
        self.assertEqual(status, 400)
        self.assertEqual(before, self.counts())
        # Deny on the consent page: access_denied, nothing issued.
        q = self.authorize(cid, challenge, decision="deny")
        self.assertEqual(q["error"], "access_denied")
        self.assertNotIn("code", q)

    def test_registration_validates_redirect_uris(self):
        before = self.counts()
        for uris in (["http://example.com/cb"], ["javascript:alert(1)"],
                     ["https://example.com/cb#frag"], [],
                     ["https://user:pw@example.com/cb"], "https://a/cb",
                     [42], ["https://ok.example/cb"] * 11):
            status, _, body = self.register(redirect_uris=uris)
            self.assertEqual(status, 400, uris)
            self.assertEqual(body["error"], "invalid_redirect_uri", uris)
            self.assertIn("error_description", body)
        for meta in ({"token_endpoint_auth_method": "private_key_jwt"},
                     {"grant_types": ["implicit"]},
                     {"response_types": ["token"]},
                     {"client_name": "x" * 300}):
            status, _, body = self.register(**meta)
            self.assertEqual((status, body["error"]),
                             (400, "invalid_client_metadata"), meta)
        status, _, body = self.s.json("POST", "/oauth/register", "{not json")
        self.assertEqual((status, body["error"]),
                         (400, "invalid_client_metadata"))
        self.assertEqual(before, self.counts())
        for uris in (["http://127.0.0.1:33418/cb"],
                     ["http://localhost:6274/oauth/callback"],
                     ["http://[::1]:80/cb", "https://chatgpt.com/aip/x/cb"]):
            status, _, body = self.register(redirect_uris=uris)
            self.assertEqual(status, 201, (uris, body))

    def test_confidential_client_authenticates(self):
        status, _, client = self.register(
            token_endpoint_auth_method="client_secret_basic")
        self.assertEqual(status, 201)
        secret = client["client_secret"]
        self.assertEqual(self.s.psql(
            "SELECT encode(secret_hash, 'hex') FROM oauth_clients WHERE "
            "client_id = :'p1'", client["client_id"]),
            [[token_hash(secret)]])
        verifier, challenge = pkce_pair()

        def basic(cid, sec):
            raw = "%s:%s" % (urllib.parse.quote(cid), urllib.parse.quote(sec))
            return {"Authorization": "Basic " +
                    base64.b64encode(raw.encode()).decode()}

        def exchange(headers, **extra):
            code = self.authorize(client["client_id"], challenge)["code"]
            form = {"grant_type": "authorization_code", "code": code,
                    "redirect_uri": CLIENT_CB, "code_verifier": verifier}
            form.update(extra)
            return self.token(form, headers)

        status, body = exchange(basic(client["client_id"], "wrong"))
        self.assertEqual((status, body["error"]), (401, "invalid_client"))
        status, body = exchange({}, client_id=client["client_id"])
        self.assertEqual((status, body["error"]), (401, "invalid_client"))
        status, body = exchange(basic(client["client_id"], secret))
        self.assertEqual(status, 200, body)
        # The registered method only: the right secret in the body is
        # refused for a client_secret_basic client.
        status, body = exchange({}, client_id=client["client_id"],
                                client_secret=secret)
        self.assertEqual((status, body["error"]), (401, "invalid_client"))

    def test_token_endpoint_input_errors(self):
        _, _, client = self.register()
        cases = [
            ({"grant_type": "password", "client_id": client["client_id"]},
             400, "unsupported_grant_type"),
            ({"client_id": client["client_id"]}, 400, "invalid_request"),
            ({"grant_type": "authorization_code"}, 401, "invalid_client"),
            ({"grant_type": "authorization_code", "client_id": "nope"},
             401, "invalid_client"),
            ({"grant_type": "authorization_code",
              "client_id": client["client_id"]}, 400, "invalid_request"),
        ]
        for form, want, error in cases:
            status, body = self.token(form)
            self.assertEqual((status, body["error"]), (want, error), form)
        status, _, body = self.s.json(
            "POST", "/oauth/token", {"grant_type": "refresh_token"})
        self.assertEqual((status, body["error"]), (400, "invalid_request"))
        status, _, body = self.s.json(
            "POST", "/oauth/token",
            "grant_type=refresh_token&grant_type=authorization_code", FORM)
        self.assertEqual((status, body["error"]), (400, "invalid_request"))

    def test_sql_injection_strings_do_nothing(self):
        b, _ = self.login(user="sqli")
        _, _, client = self.register()
        before = self.counts()
        for evil in SQLI:
            q = urllib.parse.quote(evil, safe="")
            self.s.json("GET", "/auth/callback?code=%s&state=%s" % (q, q),
                        headers={"Cookie": "__Host-agpt_login=" + q})
            for path in ("/oauth/authorize?client_id=%s&redirect_uri=%s&"
                         "response_type=code&code_challenge=%s&"
                         "code_challenge_method=S256&state=%s" % (q, q, q, q),
                         "/oauth/authorize?client_id=%s&redirect_uri=%s" %
                         (client["client_id"], q)):
                status, _, _ = self.s.request("GET", path)
                self.assertEqual(status, 400, evil)
            for form in ({"grant_type": "authorization_code", "code": evil,
                          "redirect_uri": evil, "code_verifier": evil,
                          "client_id": client["client_id"]},
                         {"grant_type": "refresh_token",
                          "refresh_token": evil,
                          "client_id": client["client_id"]},
                         {"grant_type": "authorization_code",
                          "client_id": evil, "client_secret": evil}):
                status, body = self.token(form)
                self.assertIn(status, (400, 401), (form, body))
            self.s.json("POST", "/oauth/revoke", urllib.parse.urlencode(
                {"token": evil, "client_id": client["client_id"]}), FORM)
            self.s.json("POST", "/oauth/authorize", urllib.parse.urlencode(
                {"login": evil, "decision": "allow"}), dict(
                    FORM, Cookie="__Host-agpt_login=" + q))
            for h in ({"Authorization": "Bearer " + evil},
                      {"Cookie": "__Host-agpt_session=" + q}):
                status, _, _ = self.s.json("GET", "/auth/me", headers=h)
                self.assertEqual(status, 401, evil)
                status, _, _ = self.s.json("DELETE", "/v1/me", headers=h)
                self.assertEqual(status, 401, evil)
        self.assertEqual(before, self.counts())
        # Stored as data, never run: a client named like an attack.
        name = "Robert'); DROP TABLE users;--"
        status, _, c = self.register(client_name=name,
                                     redirect_uris=[CLIENT_CB + "?q='--"])
        self.assertEqual(status, 201)
        self.assertEqual(self.s.psql(
            "SELECT client_name, redirect_uris[1] FROM oauth_clients "
            "WHERE client_id = :'p1'", c["client_id"]),
            [[name, CLIENT_CB + "?q='--"]])
        self.assertEqual(self.me(cookie=b.cookie("__Host-agpt_session"))[0],
                         200)

    def test_delete_me_removes_everything(self):
        b, me = self.login(user="leaver")
        uid = self.s.psql("SELECT id FROM users WHERE anilist_name = "
                          "'leaver'")[0][0]
        _, tokens = self.grant(user="leaver")
        self.s.psql("INSERT INTO user_preferences (user_id, preferences) "
                    "VALUES (:'p1', '{\"genres\": [\"Drama\"]}')", uid)
        self.s.psql("INSERT INTO recommendation_events (user_id, media_id, "
                    "event) VALUES (:'p1', 1, 'shown')", uid)
        session = b.cookie("__Host-agpt_session")
        status, h, body = b.request("DELETE", self.s.url("/v1/me"),
                                    headers={"Origin": self.public})
        self.assertEqual(status, 200, body)
        self.assertIn("Max-Age=0", h["Set-Cookie"])
        for table, col in (("users", "id"), ("anilist_tokens", "user_id"),
                           ("tokens", "user_id"),
                           ("token_families", "user_id"),
                           ("authorization_codes", "user_id"),
                           ("user_preferences", "user_id"),
                           ("recommendation_events", "user_id")):
            self.assertEqual(self.s.psql(
                "SELECT count(*) FROM %s WHERE %s = :'p1'" % (table, col),
                uid), [["0"]], table)
        self.assertEqual(self.me(cookie=session)[0], 401)
        self.assertEqual(self.me(bearer=tokens["access_token"])[0], 401)

    def test_zz_no_secret_or_token_in_service_log(self):
        """Runs last: every secret the other tests saw, grepped for."""
        log = self.s.service_log()
        self.assertIn('"path":"/auth/callback"', log)
        self.assertGreater(len(self.secrets_seen), 20)
        for value in set(self.secrets_seen) | {harness.SECRET,
                                               "sample-secret"}:
            self.assertNotIn(value, log)
        self.assertIsNone(JWT.search(log))
        # Nor in the database in the clear.
        dump = subprocess.run(
            ["pg_dump", "-a", self.s.database_url], capture_output=True,
            text=True, timeout=60).stdout
        self.assertIn("webuser", dump)
        self.assertIsNone(JWT.search(dump))
        for value in set(self.secrets_seen):
            self.assertNotIn(value, dump)


class PostgresDown(unittest.TestCase):
    def test_postgres_down_then_back(self):
        with harness.Stack(workers=2, threads=4, postgres=True) as s:
            b = Browser(s)
            status, _, _, body = b.follow(s.url("/auth/login"))
            self.assertEqual(status, 200, body)
            session = b.cookie("__Host-agpt_session")
            cookie = {"Cookie": "__Host-agpt_session=" + session}
            s.pg_ctl("stop")
            t0 = time.monotonic()
            for path in ("/", "/health",
                         "/.well-known/oauth-authorization-server",
                         "/.well-known/oauth-protected-resource"):
                self.assertEqual(s.json("GET", path)[0], 200, path)
            status, h, body = s.json("GET", "/health/db")
            self.assertEqual((status, body["status"]), (503, "down"))
            self.assertIn("error", body)
            self.assertEqual(s.json("GET", "/health/ready")[0], 503)
            for method, path, data, headers in (
                    ("GET", "/auth/login", None, {}),
                    ("GET", "/auth/me", None, cookie),
                    ("DELETE", "/v1/me", None, cookie),
                    ("POST", "/auth/logout", b"", cookie),
                    ("GET", "/auth/callback?code=c&state=s", None,
                     {"Cookie": "__Host-agpt_login=s"}),
                    ("POST", "/oauth/register",
                     {"redirect_uris": [CLIENT_CB]}, {}),
                    ("GET", "/oauth/authorize?client_id=x&redirect_uri=y",
                     None, {}),
                    ("POST", "/oauth/token",
                     "grant_type=refresh_token&refresh_token=r&client_id=c",
                     FORM)):
                status, h, body = s.json(method, path, data, headers)
                self.assertEqual(status, 503, (path, body))
                self.assertIn("retry-after", h, path)
                self.assertIsInstance(body, dict)
            self.assertLess(time.monotonic() - t0, 20)
            s.pg_ctl("start")
            harness.wait_for(lambda: s.json("GET", "/health/db")[0] == 200,
                             timeout=15, what="database back")
            harness.wait_for(
                lambda: s.json("GET", "/auth/me", headers=cookie)[0] == 200,
                timeout=10, what="session usable again")
            for _ in range(8):      # every worker's pool recovered
                self.assertEqual(
                    s.json("GET", "/auth/me", headers=cookie)[0], 200)
            log = s.service_log()
            self.assertNotIn(session, log)


class PoolLimits(unittest.TestCase):
    def test_statement_timeout_and_pool_wait_give_503_then_recover(self):
        with harness.Stack(workers=1, threads=4, postgres=True, config={
                "DB_POOL_SIZE": "1", "DB_POOL_TIMEOUT_MS": "300",
                "DB_STATEMENT_TIMEOUT_MS": "1500"}) as s:
            b = Browser(s)
            status, _, _, body = b.follow(s.url("/auth/login"))
            self.assertEqual(status, 200, body)
            cookie = {"Cookie": "__Host-agpt_session=" +
                      b.cookie("__Host-agpt_session")}
            # Another session holds a lock every lookup needs.
            locker = subprocess.Popen(
                ["psql", "-X", "-q", s.database_url], stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                text=True)
            try:
                locker.stdin.write("BEGIN; LOCK TABLE tokens IN ACCESS "
                                   "EXCLUSIVE MODE;\n")
                locker.stdin.flush()
                harness.wait_for(lambda: s.psql(
                    "SELECT count(*) FROM pg_locks WHERE mode = "
                    "'AccessExclusiveLock' AND granted AND relation = "
                    "'tokens'::regclass")[0][0] == "1", what="lock")
                results = []

                def call():
                    t0 = time.monotonic()
                    st, _, body = s.json("GET", "/auth/me", headers=cookie)
                    results.append((st, time.monotonic() - t0))
                threads = [threading.Thread(target=call) for _ in range(2)]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join(20)
                self.assertEqual(sorted(r[0] for r in results), [503, 503])
                times = sorted(r[1] for r in results)
                # One waited for the pool (~0.3 s), one hit the statement
                # timeout (~1.5 s); neither hung on the lock.
                self.assertLess(times[0], 1.2, times)
                self.assertGreater(times[1], 1.2, times)
                self.assertLess(times[1], 5, times)
            finally:
                locker.kill()
                locker.wait()
            harness.wait_for(
                lambda: s.json("GET", "/auth/me", headers=cookie)[0] == 200,
                timeout=10, what="pool recovers")
            log = s.service_log()
            self.assertIn("database connections are busy", log)
            self.assertIn("statement timeout", log)


class Configuration(unittest.TestCase):
    def run_binary(self, secret, environment="production", cmd="serve"):
        d = tempfile.mkdtemp(prefix="agpt-cfg-")
        self.addCleanup(shutil.rmtree, d, True)
        conf = os.path.join(d, "anilist-gpt.conf")
        with open(conf, "w") as f:
            f.write("LISTEN = unix:%s/s.sock\nENVIRONMENT = %s\n"
                    "MEMCACHED_SERVERS =\n" % (d, environment))
            if secret is not None:
                f.write("SECRET_KEY = %s\n" % secret)
        env = {"PATH": os.environ["PATH"]}
        return subprocess.run([harness.BINARY, "-c", conf, cmd], env=env,
                              capture_output=True, text=True, timeout=20)

    def test_refuses_missing_or_short_secret_key_in_production(self):
        for secret in (None, "", "x" * 31):
            r = self.run_binary(secret)
            self.assertEqual(r.returncode, 1, (secret, r.stderr))
            self.assertIn("SECRET_KEY", r.stderr)
            self.assertFalse(secret and secret in r.stderr)
        r = self.run_binary("x" * 32, cmd="check-config")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn("x" * 32, r.stdout)

    def test_development_runs_without_secret_key(self):
        r = self.run_binary(None, environment="development",
                            cmd="check-config")
        self.assertEqual(r.returncode, 0, r.stderr)


class NoDatabase(unittest.TestCase):
    def test_accounts_disabled_without_database_url(self):
        with harness.Stack(workers=1, threads=2, memcached=False,
                           upstream=False) as s:
            status, _, body = s.json("GET", "/health/db")
            self.assertEqual((status, body["status"]), (200, "disabled"))
            status, _, body = s.json("GET", "/health/ready")
            self.assertEqual(status, 200)
            self.assertEqual(body["dependencies"]["db"]["status"],
                             "disabled")
            status, _, body = s.json("GET", "/auth/login")
            self.assertEqual((status, body["error"]["code"]),
                             (503, "accounts_disabled"))
            status, _, body = s.json("POST", "/oauth/register",
                                     {"redirect_uris": [CLIENT_CB]})
            self.assertEqual((status, body["error"]),
                             (503, "temporarily_unavailable"))


if __name__ == "__main__":
    unittest.main()
