// render-widget.mjs: renders a widget template in headless Chromium (Debian's /usr/bin/chromium) with a tool
// result as window.openai.toolOutput (ChatGPT Apps) or pushed over the MCP Apps postMessage bridge, screenshots it.
// Usage: node render-widget.mjs <template.html> <tool-output.json> <screenshot.png> [openai|mcp-app]
// Prints {text, cards, images, links, blocked, scriptRan, bridge}; network requests are recorded and refused.
import { readFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const [htmlFile, outputFile, shot, mode = "openai"] = process.argv.slice(2);
const html = readFileSync(htmlFile, "utf8");
const toolOutput = JSON.parse(readFileSync(outputFile, "utf8"));
const profile = mkdtempSync(join(tmpdir(), "agpt-chromium-"));
const args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const context = await chromium.launchPersistentContext(profile, {
	executablePath: process.env.CHROMIUM || "/usr/bin/chromium", headless: true, args,
	viewport: { width: 760, height: 900 }, offline: false,
});
const report = { requests: [] };
try {
	const page = context.pages()[0] || await context.newPage();
	// The widget is served from a host origin; nothing may leave the page but AniList image requests,
	// which are recorded and refused (no network here).
	await page.route("**/*", (route) => {
		const u = route.request().url();
		if (u === "https://widget.test/") return route.fulfill({ status: 200, contentType: "text/html", body: html });
		if (u === "https://host.test/") return route.fulfill({ status: 200, contentType: "text/html",
		    body: '<!DOCTYPE html><iframe src="https://widget.test/" style="width:740px;height:880px;border:0"></iframe>' });
		report.requests.push(u);
		return route.abort();
	});
	if (mode === "openai") {
		await page.addInitScript((out) => { window.openai = { toolOutput: out }; }, toolOutput);
		await page.goto("https://widget.test/");
	} else {
		// An MCP Apps host: a parent page that answers ui/initialize and sends the tool result.
		await page.addInitScript((out) => {
			window.__bridge = [];
			if (window.top !== window) return;
			window.addEventListener("message", (ev) => {
				const m = ev.data; window.__bridge.push(m && m.method);
				const frame = document.querySelector("iframe").contentWindow;
				if (m && m.method === "ui/initialize")
					frame.postMessage({ jsonrpc: "2.0", id: m.id, result: { protocolVersion: "2026-01-26",
					    hostCapabilities: {}, hostInfo: { name: "test-host", version: "1" }, hostContext: {} } }, "*");
				if (m && m.method === "ui/notifications/initialized")
					frame.postMessage({ jsonrpc: "2.0", method: "ui/notifications/tool-result",
					    params: { content: [{ type: "text", text: "" }], structuredContent: out } }, "*");
			});
		}, toolOutput);
		await page.goto("https://host.test/");
	}
	const frame = mode === "openai" ? page.mainFrame() : await (await page.waitForSelector("iframe")).contentFrame();
	await frame.waitForSelector(".agw-footer", { timeout: 15000 });
	report.text = await frame.evaluate(() => document.body.innerText);
	report.cards = await frame.evaluate(() => document.querySelectorAll(".agw-card").length);
	report.images = await frame.evaluate(() => [...document.images].map((i) => i.src));
	report.links = await frame.evaluate(() => [...document.links].map((a) => a.href));
	report.scriptRan = await frame.evaluate(() => window.__pwned !== undefined);
	report.scriptElements = await frame.evaluate(() => document.querySelectorAll("script").length);
	if (mode !== "openai") report.bridge = await page.evaluate(() => window.__bridge);
	await page.screenshot({ path: shot, fullPage: true });
} catch (e) {
	report.error = String(e && e.stack ? e.stack : e).slice(0, 2000);
} finally {
	await context.close();
	rmSync(profile, { recursive: true, force: true });
}
process.stdout.write(JSON.stringify(report) + "\n");
process.exit(report.error ? 1 : 0);
