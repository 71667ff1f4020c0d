// sdk-client.mjs: drives /mcp with the official TypeScript MCP SDK clients: v1 (@modelcontextprotocol/sdk,
// 2025 revisions through initialize) and v2 (@modelcontextprotocol/client, the 2026-07-28 revision).
// Usage: node sdk-client.mjs <mcp-url> <args.json>   (args.json: {"tool name": {arguments}, ...})
// Prints one JSON report on stdout; exits 1 when a check failed. Trust Caddy's CA with NODE_EXTRA_CA_CERTS.
import { readFileSync } from "node:fs";
import { Client as ClientV1 } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport as TransportV1 } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { EmptyResultSchema } from "@modelcontextprotocol/sdk/types.js";

const [url, argsFile] = process.argv.slice(2);
const toolArgs = JSON.parse(readFileSync(argsFile, "utf8"));
const report = { checks: [], failures: [] };

function check(name, ok, detail) {
	report.checks.push(name);
	if (!ok) report.failures.push(detail === undefined ? name : `${name}: ${detail}`);
}

async function expectError(name, fn, code) {
	try {
		const r = await fn();
		check(name, false, `expected error ${code}, got ${JSON.stringify(r).slice(0, 300)}`);
	} catch (e) {
		check(name, e.code === code, `code ${e.code}: ${e.message}`);
	}
}

// Arguments for a tool: the given ones, else none (a tool with required
// arguments must be listed in args.json, so a new tool fails loudly).
function argsFor(tool, context) {
	if (tool.name in toolArgs) return toolArgs[tool.name];
	if (tool.name === "get_anime" && context.animeId) return { id: context.animeId };
	const required = (tool.inputSchema && tool.inputSchema.required) || [];
	if (required.length) throw new Error(`no arguments known for ${tool.name} (requires ${required})`);
	return {};
}

// What both SDK generations must see the same way.
async function exercise(label, client) {
	const tools = (await client.listTools()).tools;
	check(`${label}: tools listed`, tools.length > 0);
	const context = {};
	const ordered = [...tools].sort((a, b) => (a.name === "search_anime" ? -1 : b.name === "search_anime" ? 1 : 0));
	let called = 0;
	for (const tool of ordered) {
		check(`${label}: ${tool.name} has title and schemas`,
		    typeof tool.title === "string" && tool.inputSchema && tool.outputSchema && tool.annotations,
		    JSON.stringify(tool).slice(0, 200));
		const schemes = (tool._meta && tool._meta.securitySchemes) || [];
		if (!schemes.some((s) => s.type === "noauth")) continue; // protected: needs a user
		// The SDK validates structuredContent against outputSchema itself.
		const result = await client.callTool({ name: tool.name, arguments: argsFor(tool, context) });
		called++;
		check(`${label}: ${tool.name} succeeds`, result.isError !== true,
		    JSON.stringify(result.content).slice(0, 300));
		check(`${label}: ${tool.name} has structuredContent and text`,
		    result.structuredContent && result.content[0].type === "text" &&
		    JSON.parse(result.content[0].text) !== null);
		if (tool.name === "search_anime" && result.structuredContent.results.length)
			context.animeId = result.structuredContent.results[0].id;
	}
	report[`${label}_tools_called`] = called;

	const resources = (await client.listResources()).resources;
	check(`${label}: widget resources listed`, resources.length >= 2);
	for (const r of resources) {
		const read = await client.readResource({ uri: r.uri });
		const c = read.contents[0];
		check(`${label}: read ${r.uri}`, c.uri === r.uri && c.mimeType === r.mimeType &&
		    c.text.startsWith("<!DOCTYPE html>") &&
		    (c.mimeType === "text/html+skybridge" || c.mimeType === "text/html;profile=mcp-app"),
		    `${c.mimeType} ${String(c.text).slice(0, 40)}`);
	}
	const templates = await client.listResourceTemplates();
	check(`${label}: resource templates listed`, Array.isArray(templates.resourceTemplates));

	// Error paths.
	await expectError(`${label}: unknown tool is -32602`,
	    () => client.callTool({ name: "no_such_tool", arguments: {} }), -32602);
	const bad = await client.callTool({ name: "get_anime", arguments: { id: 0 } });
	check(`${label}: invalid arguments give isError`, bad.isError === true &&
	    /id/.test(bad.content[0].text), JSON.stringify(bad).slice(0, 300));
	return tools;
}

async function runV1() {
	const client = new ClientV1({ name: "anilist-gpt-test-v1", version: "1.0.0" });
	const transport = new TransportV1(new URL(url));
	await client.connect(transport);
	report.v1_protocol_version = transport.protocolVersion;
	check("v1: negotiated 2025-11-25", transport.protocolVersion === "2025-11-25", transport.protocolVersion);
	check("v1: server says it is unofficial", /unofficial/.test(client.getServerVersion().title || ""));
	check("v1: tools capability", !!client.getServerCapabilities().tools);
	await client.ping();
	await exercise("v1", client);
	await expectError("v1: unknown resource is -32002",
	    () => client.readResource({ uri: "ui://widget/no-such.html" }), -32002);
	// Raw errors through the SDK's own request path.
	await expectError("v1: unknown method is -32601",
	    () => client.request({ method: "no/such/method", params: {} }, EmptyResultSchema), -32601);
	await client.close();
}

async function runV2(mode) {
	const v2 = await import("@modelcontextprotocol/client");
	const client = new v2.Client({ name: "anilist-gpt-test-v2", version: "1.0.0" },
	    { versionNegotiation: { mode } });
	const transport = new v2.StreamableHTTPClientTransport(new URL(url));
	await client.connect(transport);
	const label = typeof mode === "string" ? `v2-${mode}` : "v2-pinned";
	report[`${label}_protocol_version`] = transport.protocolVersion;
	check(`${label}: modern era 2026-07-28`, transport.protocolVersion === "2026-07-28", transport.protocolVersion);
	await exercise(label, client);
	await expectError(`${label}: unknown resource is -32602`,
	    () => client.readResource({ uri: "ui://widget/no-such.html" }), -32602);
	await client.close();
}

try {
	await runV1();
	await runV2({ pin: "2026-07-28" });
	await runV2("auto");
} catch (e) {
	report.failures.push(`exception: ${e && e.stack ? e.stack : e}`);
}
process.stdout.write(JSON.stringify(report) + "\n");
process.exit(report.failures.length ? 1 : 0);
