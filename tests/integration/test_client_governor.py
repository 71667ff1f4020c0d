"""test_client_governor.py: the AniList rate-limit governor across processes.

fetch-driver processes (each with threads) share one memcached and the
sample upstream, as the service's workers do. Proves: 300 distinct queries
never put more than the budget into any window at the upstream; the budget
drops to the X-RateLimit-Limit AniList reports and stops when its
X-RateLimit-Remaining runs out; a 429 pauses every process until its
Retry-After with no upstream request meanwhile; without memcached each
process keeps to its share.
"""
import hashlib
import json
import os
import socket
import sys
import threading
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from test_client import ClientBase, memcached_command  # noqa: E402

harness.watchdog(150)

# 60 requests a minute, enforced over 10-second windows: 10 per window.
WINDOW = 10
BUDGET = 10


class StatsPoller:
    """Samples the upstream's request counter in the background."""

    def __init__(self, stack, period=0.2):
        self.stack = stack
        self.period = period
        self.samples = []
        self.stop_flag = threading.Event()
        self.t = threading.Thread(target=self.run, daemon=True)

    def run(self):
        while not self.stop_flag.is_set():
            t0 = time.monotonic()
            n = self.stack.upstream_requests()
            t1 = time.monotonic()
            self.samples.append((t0, t1, n))
            time.sleep(self.period)

    def __enter__(self):
        self.t.start()
        return self

    def __exit__(self, *exc):
        self.stop_flag.set()
        self.t.join(10)


class GovernorTest(ClientBase):

    def governed(self, **over):
        env = dict(UPSTREAM_RATE_LIMIT=60, UPSTREAM_RATE_WINDOW=WINDOW)
        env.update(over)
        return self.env(**env)

    def test_300_distinct_queries_stay_under_the_rate(self):
        # A loaded test machine must not make memcached look down here.
        env = self.governed(UPSTREAM_TIMEOUT_MS=1000,
                            MEMCACHED_TIMEOUT_MS=2000)
        start = time.monotonic()
        with StatsPoller(self.stack) as poller:
            procs = [self.spawn("-o", "SearchMedia", "-v",
                                '{"search":"governed%d"}' % k, "-D", "page",
                                "-j", "5", "-n", "30", "-p", "600", "-S",
                                env=env)
                     for k in range(2)]
            replies = []
            for p in procs:
                out, err = p.communicate(timeout=120)
                self.assertEqual(p.returncode, 0, err)
                lines = [json.loads(x) for x in out.splitlines() if x]
                replies += [x for x in lines if not x.get("stats")]
                stats = [x for x in lines if x.get("stats")][0]
                # memcached answered every time: no local decisions.
                self.assertEqual(stats["governor_local"], 0, err)
        elapsed = time.monotonic() - start
        self.assertEqual(len(replies), 300)
        ok = [r for r in replies if r["status"] == 200]
        refused = [r for r in replies if r["status"] != 200]
        self.assertTrue(all(r["status"] == 503 and r["retry_after"] >= 1
                            for r in refused),
                        [r for r in refused if r["status"] != 503][:3])
        total = self.stack.upstream_requests()
        self.assertEqual(total, len(ok))
        # Both processes got some: one budget, shared.
        self.assertEqual(len({r["pid"] for r in ok}), 2)
        self.assertGreaterEqual(total, BUDGET)
        self.assertLessEqual(total, BUDGET * (elapsed / WINDOW + 1))
        # No span of one window saw more than the budget upstream.
        s = poller.samples
        worst = 0
        for i in range(len(s)):
            for j in range(i + 1, len(s)):
                # Only pairs of reads surely less than a window apart.
                if s[j][1] - s[i][0] > WINDOW - 0.3:
                    break
                worst = max(worst, s[j][2] - s[i][2])
        self.assertLessEqual(worst, BUDGET, s)
        self.assertGreater(elapsed, WINDOW)

    def test_a_counter_memcached_pads_still_counts(self):
        # A decrement that drops a digit leaves memcached's counter padded
        # ("10" becomes "9 "). Read as no number, a busy slot of the
        # window counted 0 and let more than the budget through.
        env = self.governed(UPSTREAM_RATE_WINDOW=60,
                            UPSTREAM_GOVERNOR_ID="padded")
        host = hashlib.sha256(b"padded").hexdigest()[:16]
        key = "ag:v1:rl:%s:%d" % (host, int(time.time()))
        port = self.stack.memcached_port
        self.assertEqual(memcached_command(port, "set %s 0 60 2\r\n10"
                                           % key), "STORED")
        self.assertEqual(memcached_command(port, "decr %s 1" % key), "9")
        with socket.create_connection(("127.0.0.1", port)) as c:
            c.sendall(b"get %s\r\n" % key.encode())
            got = b""
            while not got.endswith(b"END\r\n"):
                got += c.recv(4096)
        self.assertIn(b"\r\n9 \r\n", got)
        lines, _ = self.run_driver("-H", env=env)
        self.assertEqual(lines[0]["governor"]["used"], 9, lines)

    def test_budget_drops_to_the_limit_anilist_reports(self):
        self.stack.upstream("POST", "/__config", {"rate_limit": 30})
        env = self.governed(UPSTREAM_TIMEOUT_MS=300)
        lines, _ = self.run_driver("-o", "SearchMedia", "-v",
                                   '{"search":"adapt"}', env=env)
        self.assertEqual(lines[0]["status"], 200)
        lines, _ = self.run_driver("-o", "SearchMedia", "-v",
                                   '{"search":"adapt"}', "-D", "page",
                                   "-j", "4", "-n", "10", env=env)
        ok = [r for r in lines if r["status"] == 200]
        # 30 a minute over 10 s is 5, the first call included, paced one
        # per (10 000 + 10 000 / 60) / 4 ms: 40 calls within a second
        # touch at most two pace slots, so at most two go.
        self.assertLessEqual(len(ok), 2, lines)
        self.assertEqual(self.stack.upstream_requests(), 1 + len(ok))
        lines, _ = self.run_driver("-H", env=env)
        g = lines[0]["governor"]
        self.assertEqual((g["budget"], g["anilist"]["limit"], g["pace_ms"]),
                         (5, 30, 2542))

    def test_stops_when_anilist_says_nothing_remains(self):
        self.stack.upstream("POST", "/__config", {"rate_limit": 90})
        # Another client of the same AniList budget used 87 of 90.
        for i in range(87):
            req = urllib.request.Request(
                self.stack.upstream_url + "/", method="POST",
                data=b'{"operationName":"GenresAndTags","query":'
                     b'"query GenresAndTags{GenreCollection}"}',
                headers={"Content-Type": "application/json"})
            urllib.request.urlopen(req, timeout=10).read()
        env = self.governed(UPSTREAM_RATE_WINDOW=60, UPSTREAM_TIMEOUT_MS=300)
        # A call every 1.2 s, slower than the pace (61 000 / 56 ms for 60 a
        # minute): only what AniList says is left stops them.
        lines, _ = self.run_driver("-o", "SearchMedia", "-v",
                                   '{"search":"remaining"}', "-D", "page",
                                   "-n", "8", "-p", "1200", env=env)
        self.assertEqual([r["status"] for r in lines], [200] * 3 + [503] * 5)
        stats = self.stack.upstream("GET", "/__stats")
        self.assertEqual(stats["requests"], 90)
        self.assertEqual(stats["rate_limited"], 0)

    def test_429_pauses_every_process_until_retry_after(self):
        env = self.env()
        self.stack.upstream_fault("429", retry_after=3, count=1)
        lines, _ = self.run_driver("-o", "SearchMedia", "-v",
                                   '{"search":"pause"}', env=env)
        t429 = time.monotonic()
        self.assertEqual((lines[0]["status"], lines[0]["retry_after"]),
                         (503, 3), lines)
        self.assertEqual(self.stack.upstream_requests(), 1)
        procs = [self.spawn("-o", "SearchMedia", "-v",
                            '{"search":"paused%d"}' % k, "-D", "page",
                            "-j", "4", "-n", "10", "-p", "150", env=env)
                 for k in range(3)]
        replies = []
        for p in procs:
            out, err = p.communicate(timeout=60)
            self.assertEqual(p.returncode, 0, err)
            replies += [json.loads(x)
                        for x in out.splitlines() if x]
        self.assertLess(time.monotonic() - t429, 2.9)
        self.assertEqual(len(replies), 120)
        self.assertTrue(all(r["status"] == 503 and r["upstream_calls"] == 0
                            and 1 <= r["retry_after"] <= 3
                            for r in replies), replies[:3])
        self.assertTrue(all("pause" in r["message"] for r in replies))
        self.assertEqual(self.stack.upstream_requests(), 1)
        time.sleep(max(0, 3.1 - (time.monotonic() - t429)))
        lines, _ = self.run_driver("-o", "SearchMedia", "-v",
                                   '{"search":"after"}', env=env)
        self.assertEqual(lines[0]["status"], 200, lines)
        self.assertEqual(self.stack.upstream_requests(), 2)

    def test_without_memcached_each_process_keeps_its_share(self):
        self.stack.procs["memcached"].stop()
        env = self.governed(UPSTREAM_TIMEOUT_MS=300, WORKERS=2)
        procs = [self.spawn("-o", "SearchMedia", "-v",
                            '{"search":"local%d"}' % k, "-D", "page",
                            "-j", "3", "-n", "10", env=env)
                 for k in range(2)]
        per_process = []
        for p in procs:
            out, err = p.communicate(timeout=60)
            self.assertEqual(p.returncode, 0, err)
            lines = [json.loads(x) for x in out.splitlines()
                     if x]
            self.assertTrue(all(r["cache"] == "bypass" for r in lines))
            per_process.append(sum(r["status"] == 200 for r in lines))
        # A budget of 10 split over WORKERS = 2: 5 each, 10 together.
        self.assertEqual(per_process, [5, 5])
        self.assertEqual(self.stack.upstream_requests(), 10)


if __name__ == "__main__":
    unittest.main()
