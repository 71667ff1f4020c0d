"""receivers.py: tiny HTTP receivers standing in for Slack, PagerDuty and
Sentry in the integration tests (loopback only): they record every POST and
can be told to fail the first N with a status."""
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    def __init__(self, fail_first=0, fail_status=500):
        self.posts = []
        self.attempts = 0
        self.fail_first = fail_first
        self.fail_status = fail_status
        self.lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n)
                with owner.lock:
                    owner.attempts += 1
                    failing = owner.attempts <= owner.fail_first
                    if not failing:
                        owner.posts.append({
                            "path": self.path,
                            "headers": {k.lower(): v for k, v in
                                        self.headers.items()},
                            "body": body})
                self.send_response(owner.fail_status if failing else 200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = "http://127.0.0.1:%d" % self.port
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       daemon=True)
        self.thread.start()

    def bodies(self, path=None):
        with self.lock:
            return [p["body"] for p in self.posts
                    if path is None or p["path"] == path]

    def json_bodies(self, path=None):
        return [json.loads(b) for b in self.bodies(path)]

    def close(self):
        self.server.shutdown()
        self.server.server_close()
