"""test_front.py: the production Caddyfile (caddy/Caddyfile, as the image
runs it: plain HTTP on DOMAIN, Fly's edge terminating TLS) on the packaged
Caddy in front of the real service: 30 s of traffic without a panic and
without a Caddy line per request; Caddy logs only the requests it answers
itself and its own errors; CADDY_ACCESS_LOG=all brings its lines back."""
import json
import os
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Stack, wait_for, watchdog  # noqa
from front import ProductionCaddy  # noqa

watchdog(110)

TRAFFIC_SECONDS = 30


class ProductionFront(unittest.TestCase):
    def test_traffic_without_panic_or_per_request_lines(self):
        with Stack(workers=2, threads=4, memcached=True,
                   upstream=True) as s:
            front = ProductionCaddy(s)
            try:
                self.run_traffic(s, front)
                self.caddy_errors_are_logged(s, front)
            finally:
                front.close()

    def run_traffic(self, s, front):
        self.assertEqual(front.request("GET", "/health")[0], 200)
        # /metrics on the public site is answered by Caddy itself.
        own = {"sent": 1}
        self.own_answer_has_request_id(front)
        served = {"sent": 0, "bad": []}
        lock = threading.Lock()
        stop = time.monotonic() + TRAFFIC_SECONDS
        paths = ["/v1/anime/search?query=frieren", "/v1/genres", "/nope",
                 "/health/ready", "/openapi.json"]

        def mixed():
            i = 0
            while time.monotonic() < stop:
                path = paths[i % len(paths)]
                status = front.request("GET", path)[0]
                with lock:
                    served["sent"] += 1
                    if status not in (200, 404):
                        served["bad"].append((path, status))
                if i % 10 == 0:
                    self.assertEqual(front.request("GET", "/metrics")[0],
                                     404)
                    with lock:
                        own["sent"] += 1
                i += 1
        threads = [threading.Thread(target=mixed) for _ in range(2)]
        for t in threads:
            t.start()
        wrk = subprocess.run(
            ["wrk", "-t", "1", "-c", "8", "-d", "%ds" % TRAFFIC_SECONDS,
             "http://127.0.0.1:%d/health" % front.port],
            capture_output=True, text=True, timeout=TRAFFIC_SECONDS + 30)
        for t in threads:
            t.join()
        self.assertEqual(wrk.returncode, 0, wrk.stderr)
        self.assertNotIn("Non-2xx", wrk.stdout)
        self.assertEqual(served["bad"], [])
        self.assertGreater(served["sent"], 100)
        self.assertGreater(own["sent"], 10)

        out = front.output()
        self.assertNotIn("panic", out.lower())
        access = front.access_lines()
        # One line per request Caddy answered itself, none for the rest.
        self.assertEqual(len(access), own["sent"],
                         [l["request"]["uri"] for l in access][:20])
        for line in access:
            self.assertEqual(line["request"]["uri"], "/metrics")
            self.assertEqual(line["status"], 404)
        # The service logged the requests it answered (its own line each).
        logged = [l for l in s.log_lines() if l.get("route") == "/v1/genres"]
        self.assertGreater(len(logged), 10)

    def own_answer_has_request_id(self, front):
        """A request Caddy answers itself carries a request id of Caddy's,
        which its access-log line shows (the service's answers carry the
        service's: test_foundation)."""
        status, headers, _ = front.request("GET", "/metrics")
        self.assertEqual(status, 404)
        rid = headers.get("X-Request-Id")
        self.assertTrue(rid)
        wait_for(lambda: any(self.resp_request_id(l) == rid
                             for l in front.access_lines()),
                 timeout=10, what="Caddy's line with its request id")

    @staticmethod
    def resp_request_id(line):
        ids = line.get("resp_headers", {}).get("X-Request-Id") or [None]
        return ids[0]

    def caddy_errors_are_logged(self, s, front):
        """The workers gone: Caddy's own 502 is in its log, at error level,
        in the service's JSON error shape for the client."""
        s.service().stop()
        before = len(front.access_lines())
        status, headers, body = front.request("GET", "/v1/genres")
        self.assertIn(status, (502, 503))
        self.assertEqual(json.loads(body)["error"]["code"],
                         "service_unavailable")
        self.assertTrue(headers.get("X-Request-Id"))
        wait_for(lambda: len(front.access_lines()) > before, timeout=10,
                 what="Caddy's error in its log")
        line = front.access_lines()[-1]
        self.assertEqual(line["level"], "error")
        self.assertEqual(line["request"]["uri"], "/v1/genres")
        self.assertEqual(line["status"], status)
        self.assertEqual(self.resp_request_id(line),
                         headers["X-Request-Id"])
        self.assertNotIn("panic", front.output().lower())


class AccessLogAll(unittest.TestCase):
    def test_caddy_access_log_all_logs_every_request(self):
        with Stack(workers=1, threads=2, memcached=False,
                   upstream=False) as s:
            front = ProductionCaddy(s, access_log="all")
            try:
                for _ in range(5):
                    self.assertEqual(front.request("GET", "/health")[0], 200)
                wait_for(lambda: len(front.access_lines()) == 5, timeout=10,
                         what="five access lines")
                self.assertEqual({l["request"]["uri"] for l in
                                  front.access_lines()}, {"/health"})
            finally:
                front.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
