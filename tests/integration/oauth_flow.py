"""oauth_flow.py: a browser and an MCP client's OAuth 2.1 flow against a
harness.Stack, shared by the tests that need a signed-in user.

The flow is the real one: dynamic registration, /oauth/authorize with PKCE
S256, the consent form, the AniList login at the sample upstream (its
`user` parameter picks who logs in), our code back at the client's redirect
URI, and /oauth/token.
"""
import base64
import hashlib
import http.cookiejar
import re
import secrets
import urllib.error
import urllib.parse
import urllib.request

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
CLIENT_CB = "http://127.0.0.1:9/callback"      # nothing listens: we stop there


def pkce_pair():
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(
        hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kw):
        return None


class Browser:
    """A cookie jar and manual redirects, like a browser."""

    def __init__(self, stack):
        self.stack = stack
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPSHandler(context=stack._ssl),
            urllib.request.HTTPCookieProcessor(self.jar), NoRedirect())

    def request(self, method, url, data=None, headers=None):
        if isinstance(data, dict):
            data = urllib.parse.urlencode(data)
        if isinstance(data, str):
            data = data.encode()
        req = urllib.request.Request(url, data=data, method=method,
                                     headers=dict(headers or {}))
        try:
            r = self.opener.open(req, timeout=20)
            return r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read()

    def follow(self, url, method="GET", data=None, headers=None,
               stop=None, user=None):
        """Follow redirects; stop before a URL for which stop(url) holds.

        user picks who logs in at the sample AniList (its `user` param).
        Returns (status, url, headers, body) of the last response, or
        (302, url, None, None) when stopped before url.
        """
        if user and "/api/v2/oauth/authorize?" in url:
            url += "&user=" + urllib.parse.quote(user)
        for _ in range(10):
            if stop is not None and stop(url):
                return 302, url, None, None
            status, h, body = self.request(method, url, data, headers)
            if status not in (301, 302, 303, 307):
                return status, url, h, body
            url = urllib.parse.urljoin(url, h["Location"])
            if user and "/api/v2/oauth/authorize?" in url:
                url += "&user=" + urllib.parse.quote(user)
            method, data, headers = "GET", None, None
        raise AssertionError("redirect loop")

    def cookie(self, name):
        for c in self.jar:
            if c.name == name:
                return c.value
        return None


def grant(stack, user=None, client=None):
    """Sign user in as a public MCP client would: {client_id, access_token,
    refresh_token, …} of the token response. client: an already registered
    public client (its registration response) instead of a new one."""
    if client is None:
        status, _, client = stack.json("POST", "/oauth/register", {
            "redirect_uris": [CLIENT_CB],
            "token_endpoint_auth_method": "none",
            "client_name": "Test MCP client"})
        if status != 201:
            raise AssertionError("register: %d %r" % (status, client))
    verifier, challenge = pkce_pair()
    q = {"response_type": "code", "client_id": client["client_id"],
         "redirect_uri": CLIENT_CB, "code_challenge": challenge,
         "code_challenge_method": "S256", "state": "st-flow",
         "scope": "anilist", "resource": stack.base + "/mcp"}
    b = Browser(stack)
    status, h, body = b.request("GET", stack.url(
        "/oauth/authorize?" + urllib.parse.urlencode(q)))
    login = re.search(rb'name="login" value="([^"]+)"', body or b"")
    if status != 200 or login is None:
        raise AssertionError("authorize: %d %r" % (status, body[:300]))
    status, url, _, body = b.follow(
        stack.url("/oauth/authorize"), method="POST",
        data={"login": login.group(1).decode(), "decision": "allow"},
        headers=dict(FORM, Origin=stack.base),
        stop=lambda u: u.startswith(CLIENT_CB), user=user)
    if status != 302:
        raise AssertionError("consent: %d %r" % (status, body))
    back = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
    if back.get("state") != "st-flow" or "code" not in back:
        raise AssertionError("no code at the client: " + url)
    status, _, tokens = stack.json(
        "POST", "/oauth/token", urllib.parse.urlencode({
            "grant_type": "authorization_code", "code": back["code"],
            "redirect_uri": CLIENT_CB, "client_id": client["client_id"],
            "code_verifier": verifier}), FORM)
    if status != 200:
        raise AssertionError("token: %d %r" % (status, tokens))
    tokens["client_id"] = client["client_id"]
    return tokens
