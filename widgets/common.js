/* common.js: shared widget code (inlined by the server): the host bridges and DOM helpers that only ever set text, never HTML. */
"use strict";
var AGW = (function () {
	/* Images may come from AniList's CDN only (the resource CSP says the same). */
	var IMAGE_HOSTS = ["https://s4.anilist.co/", "https://img.anili.st/"];
	var SITE = "https://anilist.co/";
	var renderFn = null, root = null, lastData;

	function el(tag, cls, text) {
		var e = document.createElement(tag);
		if (cls) e.className = cls;
		if (text !== undefined && text !== null) e.textContent = String(text);
		return e;
	}
	function startsWithAny(s, prefixes) {
		if (typeof s !== "string") return false;
		for (var i = 0; i < prefixes.length; i++)
			if (s.indexOf(prefixes[i]) === 0) return true;
		return false;
	}
	function image(url, alt, big) {
		if (!startsWithAny(url, IMAGE_HOSTS)) return null;
		var img = el("img", big ? "agw-cover agw-cover-big" : "agw-cover");
		img.src = url;
		img.alt = alt || "";
		img.loading = "lazy";
		img.referrerPolicy = "no-referrer";
		return img;
	}
	function anchor(url, text) {
		var a = el("a", "agw-link", text);
		a.href = url;
		a.target = "_blank";
		a.rel = "noopener noreferrer";
		/* ChatGPT opens links for the widget, outside its frame. */
		a.addEventListener("click", function (ev) {
			var o = window.openai;
			if (o && typeof o.openExternal === "function") {
				ev.preventDefault();
				o.openExternal({ href: url });
			}
		});
		return a;
	}
	function link(url, text) {
		if (!startsWithAny(url, [SITE])) return null;
		return anchor(url, text || "Open on AniList");
	}
	/* A link to any web site (a streaming service): http(s) only. */
	function webLink(url, text) {
		if (!startsWithAny(url, ["https://", "http://"])) return null;
		return anchor(url, text || url);
	}
	function count(n) {
		return typeof n === "number" ? n.toLocaleString("en-US") : "?";
	}
	function title(t) {
		if (!t) return "Untitled";
		if (typeof t === "string") return t;
		return t.english || t.romaji || t.native || "Untitled";
	}
	function altTitle(t) {
		if (!t || typeof t !== "object") return null;
		var main = title(t);
		var other = t.romaji && t.romaji !== main ? t.romaji : t.native;
		return other && other !== main ? other : null;
	}
	function words(s) {
		if (typeof s !== "string") return "";
		return s.charAt(0) + s.slice(1).toLowerCase().replace(/_/g, " ");
	}
	function chips(list, max) {
		var box = el("div", "agw-chips");
		if (!Array.isArray(list)) return box;
		for (var i = 0; i < list.length && i < (max || 6); i++) {
			var v = list[i];
			box.appendChild(el("span", "agw-chip",
			    typeof v === "object" && v !== null ? v.name : v));
		}
		return box;
	}
	function facts(m) {
		var parts = [];
		if (m.format) parts.push(m.format.length <= 3 ? m.format : words(m.format));
		if (m.season && m.season_year) parts.push(words(m.season) + " " + m.season_year);
		else if (m.season_year) parts.push(String(m.season_year));
		if (typeof m.episodes === "number") parts.push(m.episodes + " ep");
		if (typeof m.chapters === "number") parts.push(m.chapters + " ch");
		if (typeof m.volumes === "number") parts.push(m.volumes + " vol");
		if (m.status) parts.push(words(m.status));
		return parts.join(" \u00b7 ");
	}
	function score(m) {
		if (typeof m.average_score !== "number") return null;
		return el("span", "agw-score", (m.average_score / 10).toFixed(1) + "/10");
	}
	/* A card for a compact media; extra(body) may add lines. */
	function mediaCard(m, extra) {
		var card = el("article", "agw-card");
		var img = image(m.cover_image, "");
		if (img) card.appendChild(img);
		var body = el("div", "agw-body");
		body.appendChild(el("div", "agw-title", title(m.title)));
		var alt = altTitle(m.title);
		if (alt) body.appendChild(el("div", "agw-sub", alt));
		var line = el("div", "agw-meta", facts(m));
		var s = score(m);
		if (s) { line.appendChild(document.createTextNode(" \u00b7 ")); line.appendChild(s); }
		body.appendChild(line);
		if (Array.isArray(m.studios) && m.studios.length)
			body.appendChild(el("div", "agw-meta", m.studios.slice(0, 3).join(", ")));
		if (m.next_airing && m.next_airing.episode)
			body.appendChild(el("div", "agw-meta", "Episode " + m.next_airing.episode +
			    " airs " + (m.next_airing.at ? new Date(m.next_airing.at).toUTCString() : "soon")));
		body.appendChild(chips(m.genres, 5));
		if (extra) extra(body);
		var a = link(m.site_url);
		if (a) body.appendChild(a);
		card.appendChild(body);
		return card;
	}
	function status(text) {
		return el("div", "agw-status", text);
	}
	function footer() {
		return el("div", "agw-footer", "Data from AniList \u00b7 unofficial AniList app");
	}
	function draw(data) {
		if (!root || !renderFn) return;
		if (data === undefined || data === null) return;
		lastData = data;
		root.replaceChildren();
		try {
			renderFn(data, root);
		} catch (e) {
			root.replaceChildren(status("This result cannot be shown."));
		}
		root.appendChild(footer());
		notifySize();
	}
	/* ChatGPT Apps: window.openai.toolOutput, updated with openai:set_globals. */
	function fromOpenAI() {
		var o = window.openai;
		if (o && o.toolOutput !== undefined && o.toolOutput !== null) {
			draw(o.toolOutput);
			return true;
		}
		return false;
	}
	/* MCP Apps: JSON-RPC over postMessage with the host (ui/initialize, tool-result). */
	var bridgeId = 1, bridgePending = {}, bridged = false;
	function post(msg) {
		if (window.parent && window.parent !== window) window.parent.postMessage(msg, "*");
	}
	function request(method, params, cb) {
		var id = bridgeId++;
		bridgePending[id] = cb;
		post({ jsonrpc: "2.0", id: id, method: method, params: params });
	}
	function onMessage(ev) {
		if (ev.source !== window.parent) return;
		var m = ev.data;
		if (!m || m.jsonrpc !== "2.0") return;
		if (m.id !== undefined && bridgePending[m.id]) {
			var cb = bridgePending[m.id];
			delete bridgePending[m.id];
			cb(m.result, m.error);
			return;
		}
		if (m.method === "ui/notifications/tool-result" && m.params) {
			if (m.params.structuredContent !== undefined)
				draw(m.params.structuredContent);
			else if (m.params.isError)
				root.replaceChildren(status("The tool reported an error."));
		} else if (m.method === "ui/resource-teardown" && m.id !== undefined) {
			post({ jsonrpc: "2.0", id: m.id, result: {} });
		}
	}
	function notifySize() {
		if (!bridged) return;
		post({ jsonrpc: "2.0", method: "ui/notifications/size-changed",
		    params: { width: document.documentElement.scrollWidth,
		    height: document.documentElement.scrollHeight } });
	}
	function bridge() {
		if (!window.parent || window.parent === window) return;
		window.addEventListener("message", onMessage);
		request("ui/initialize", {
			appInfo: { name: "anilist-gpt-widget", version: "1.0.0" },
			appCapabilities: { availableDisplayModes: ["inline"] },
			protocolVersion: "2026-01-26"
		}, function (result, error) {
			if (error) return;
			bridged = true;
			post({ jsonrpc: "2.0", method: "ui/notifications/initialized", params: {} });
		});
	}
	function start(fn) {
		renderFn = fn;
		root = document.getElementById("root");
		if (!fromOpenAI()) root.replaceChildren(status("Loading\u2026"));
		window.addEventListener("openai:set_globals", function () {
			var o = window.openai;
			if (o && o.toolOutput !== lastData) fromOpenAI();
		});
		if (!window.openai) bridge();
	}
	return { el: el, image: image, link: link, webLink: webLink, count: count, title: title, altTitle: altTitle, words: words,
	    chips: chips, facts: facts, score: score, mediaCard: mediaCard, status: status, start: start };
})();
