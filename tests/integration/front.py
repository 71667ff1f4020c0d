"""front.py: the production Caddyfile (caddy/Caddyfile, as the image runs
it: plain HTTP on DOMAIN, Fly's edge terminating TLS) in front of a test
Stack's socket, on its own loopback ports, for the integration tests."""
import http.client
import json
import os
import shutil
import tempfile

from harness import Proc, TOP_SRCDIR, free_port, port_open, wait_for

CADDYFILE = os.path.join(TOP_SRCDIR, "caddy", "Caddyfile")


class ProductionCaddy:
    """caddy/Caddyfile in front of a Stack's socket, on its own ports."""

    def __init__(self, stack, access_log=None):
        self.dir = tempfile.mkdtemp(prefix="agpt-front-")
        self.port = free_port()
        self.metrics_port = free_port()
        env = os.environ.copy()
        env.update({
            "XDG_DATA_HOME": os.path.join(self.dir, "data"),
            "XDG_CONFIG_HOME": os.path.join(self.dir, "config"),
            "HOME": self.dir,
            "DOMAIN": "http://127.0.0.1:%d" % self.port,
            "CADDY_ADMIN": "off",
            "METRICS_LISTEN": "127.0.0.1:%d" % self.metrics_port,
            "ANILIST_GPT_UPSTREAM": "unix/" + stack.socket,
        })
        env.pop("CADDY_ACCESS_LOG", None)
        if access_log is not None:
            env["CADDY_ACCESS_LOG"] = access_log
        self.proc = Proc("caddy-production", [
            "caddy", "run", "--adapter", "caddyfile", "--config", CADDYFILE],
            env, self.dir)
        wait_for(lambda: port_open(self.port), timeout=30,
                 what="production caddy")

    def request(self, method, path, body=None, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            r = conn.getresponse()
            return r.status, dict(r.getheaders()), r.read()
        finally:
            conn.close()

    def output(self):
        return self.proc.output()

    def lines(self):
        out = []
        for line in self.output().splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
        return out

    def access_lines(self):
        return [l for l in self.lines()
                if str(l.get("logger", "")).startswith("http.log.access")]

    def close(self):
        self.proc.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
