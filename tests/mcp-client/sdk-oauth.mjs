// sdk-oauth.mjs: the official TypeScript SDK clients (v1 @modelcontextprotocol/sdk, v2 @modelcontextprotocol/client)
// call a protected tool without a token, read the sign-in challenge of the tool result, complete OAuth with the
// SDK's own auth() (discovery, dynamic registration, PKCE, token exchange) and call the tool again.
// Usage: node sdk-oauth.mjs <mcp-url>   Prints one JSON report; exits 1 when a check failed.
// The "browser" is a cookie jar and manual redirects: our consent form, then the sample AniList, which approves at once.
import { Client as ClientV1 } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport as TransportV1 } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { auth as authV1 } from "@modelcontextprotocol/sdk/client/auth.js";

const [url] = process.argv.slice(2);
const CALLBACK = "http://127.0.0.1:9/callback"; // nothing listens: the code is read from the redirect
const report = { checks: [], failures: [] };

function check(name, ok, detail) {
	report.checks.push(name);
	if (!ok) report.failures.push(detail === undefined ? name : `${name}: ${detail}`);
}

// A browser: cookies per host, redirects followed by hand, stopping at the client's callback.
class Browser {
	constructor() { this.jar = new Map(); }
	cookies(u) { return [...(this.jar.get(new URL(u).host) || new Map())].map(([k, v]) => `${k}=${v}`).join("; "); }
	keep(u, res) {
		const host = new URL(u).host;
		if (!this.jar.has(host)) this.jar.set(host, new Map());
		for (const c of res.headers.getSetCookie()) {
			const [pair] = c.split(";");
			const i = pair.indexOf("=");
			this.jar.get(host).set(pair.slice(0, i).trim(), pair.slice(i + 1).trim());
		}
	}
	async go(u, init = {}) {
		for (let hops = 0; hops < 10; hops++) {
			if (u.startsWith(CALLBACK)) return { url: u };
			const headers = { ...(init.headers || {}), Cookie: this.cookies(u) };
			const res = await fetch(u, { ...init, headers, redirect: "manual" });
			this.keep(u, res);
			if (![301, 302, 303, 307].includes(res.status)) return { url: u, res, body: await res.text() };
			u = new URL(res.headers.get("location"), u).toString();
			init = {};
		}
		throw new Error("redirect loop");
	}
}

// What the SDK's auth() needs: an in-memory OAuth client that "opens" the authorization URL in Browser.
class Provider {
	constructor(label) { this.label = label; this.info = undefined; this.saved = undefined; this.verifier = undefined; this.code = undefined; }
	get redirectUrl() { return CALLBACK; }
	get clientMetadata() {
		return { client_name: `anilist-gpt SDK test ${this.label}`, redirect_uris: [CALLBACK],
		    grant_types: ["authorization_code", "refresh_token"], response_types: ["code"],
		    token_endpoint_auth_method: "none" };
	}
	clientInformation() { return this.info; }
	saveClientInformation(info) { this.info = info; }
	tokens() { return this.saved; }
	saveTokens(t) { this.saved = t; }
	saveCodeVerifier(v) { this.verifier = v; }
	codeVerifier() { return this.verifier; }
	async redirectToAuthorization(authorizationUrl) {
		const b = new Browser();
		const page = await b.go(authorizationUrl.toString());
		const login = /name="login" value="([^"]+)"/.exec(page.body || "");
		if (!login) throw new Error(`no consent form: ${page.res && page.res.status} ${String(page.body).slice(0, 200)}`);
		const origin = new URL(url).origin;
		const done = await b.go(new URL("/oauth/authorize", url).toString(), {
			method: "POST", body: new URLSearchParams({ login: login[1], decision: "allow" }).toString(),
			headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: origin } });
		const back = new URL(done.url);
		if (!done.url.startsWith(CALLBACK) || !back.searchParams.get("code"))
			throw new Error(`no code at the callback: ${done.url} ${done.res && done.res.status}`);
		this.code = back.searchParams.get("code");
		this.iss = back.searchParams.get("iss") || undefined; // RFC 9207
	}
}

// The challenge of a tool result: resource_metadata and scope from _meta["mcp/www_authenticate"].
function challengeOf(result) {
	const c = result && result._meta && result._meta["mcp/www_authenticate"];
	const text = Array.isArray(c) ? c[0] : c;
	if (typeof text !== "string") return null;
	const field = (k) => { const m = new RegExp(`${k}="([^"]*)"`).exec(text); return m ? m[1] : undefined; };
	return { text, resourceMetadata: field("resource_metadata"), scope: field("scope") };
}

async function run(label, makeClient, makeTransport, auth) {
	// 1. No token: an ordinary result (not a transport error) that carries the challenge.
	let client = makeClient();
	await client.connect(makeTransport(undefined));
	const first = await client.callTool({ name: "get_user_list", arguments: { per_page: 5 } });
	await client.close();
	const ch = challengeOf(first);
	check(`${label}: without a token the tool answers isError with the challenge`,
	    first.isError === true && ch !== null, JSON.stringify(first).slice(0, 300));
	check(`${label}: the challenge names resource_metadata and the scope`,
	    ch && ch.resourceMetadata && ch.resourceMetadata.endsWith("/.well-known/oauth-protected-resource") &&
	    ch.scope === "anilist", ch && ch.text);
	check(`${label}: the text tells the model to connect the account`,
	    /connect/i.test((first.content[0] || {}).text || ""), JSON.stringify(first.content));
	if (!ch) return;

	// 2. The SDK's own OAuth: discovery from the challenge, registration, PKCE, the browser, the token.
	const provider = new Provider(label);
	const opts = { serverUrl: url, scope: ch.scope, resourceMetadataUrl: new URL(ch.resourceMetadata) };
	const started = await auth(provider, opts);
	check(`${label}: auth() sends the user to sign in`, started === "REDIRECT" && provider.code, started);
	const finished = await auth(provider, { ...opts, authorizationCode: provider.code, iss: provider.iss });
	check(`${label}: auth() gets a token`, finished === "AUTHORIZED" && provider.tokens() &&
	    provider.tokens().access_token, finished);

	// 3. Again, signed in: the user's own list.
	client = makeClient();
	await client.connect(makeTransport(provider));
	const second = await client.callTool({ name: "get_user_list", arguments: { per_page: 5 } });
	await client.close();
	check(`${label}: with the token the tool answers the user's list`, second.isError !== true &&
	    second.structuredContent && second.structuredContent.user &&
	    second.structuredContent.user.name === "sampleuser", JSON.stringify(second).slice(0, 300));
	report[`${label}_user`] = second.structuredContent && second.structuredContent.user &&
	    second.structuredContent.user.name;
}

try {
	await run("v1", () => new ClientV1({ name: "anilist-gpt-oauth-v1", version: "1.0.0" }),
	    (p) => new TransportV1(new URL(url), p ? { authProvider: p } : {}), authV1);
	const v2 = await import("@modelcontextprotocol/client");
	await run("v2", () => new v2.Client({ name: "anilist-gpt-oauth-v2", version: "1.0.0" }),
	    (p) => new v2.StreamableHTTPClientTransport(new URL(url), p ? { authProvider: p } : {}), v2.auth);
} catch (e) {
	report.failures.push(`exception: ${e && e.stack ? e.stack : e}`);
}
process.stdout.write(JSON.stringify(report) + "\n");
process.exit(report.failures.length ? 1 : 0);
