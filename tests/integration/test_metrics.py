"""test_metrics.py: statsd lines for a known request sequence, /metrics totals
across workers on Caddy's internal listener only, and the real statsd ->
carbon -> whisper path (npm statsd, Debian graphite-carbon, whisper-fetch)."""
import glob
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (Proc, Stack, TOP_BUILDDIR, TOP_SRCDIR, free_port,  # noqa
                     port_open, wait_for, watchdog)

watchdog(115)


class UdpListener:
    """A statsd stand-in that only records datagrams: the lines as sent."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.packets = []
        self.lock = threading.Lock()
        self.running = True
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while self.running:
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            with self.lock:
                self.packets.append(data.decode())

    def take(self):
        with self.lock:
            out, self.packets = self.packets, []
        return out

    def close(self):
        self.running = False
        self.thread.join(2)
        self.sock.close()


def sample(text, series):
    """The value of one exposition sample line, or None."""
    for line in text.splitlines():
        if line.startswith(series + " "):
            return float(line.split()[-1])
    return None


def internal(s, path):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (
                s.metrics_port, path), timeout=10) as r:
            return r.status, dict(r.headers), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode()


PACKET_MAX = 1432      # METRICS_PACKET_MAX in src/observe/metrics.h


def lines_of(packets):
    return [line for p in packets for line in p.split("\n")]


def settled(udp, pred, want, timeout, what):
    """Wait until want lines matching pred have arrived (and 0.3 s more, so
    an extra or duplicate one would show too); every packet so far."""
    def count():
        with udp.lock:
            return sum(1 for l in lines_of(udp.packets) if pred(l))
    wait_for(lambda: count() >= want, timeout=timeout, what=what)
    time.sleep(0.3)
    return udp.take()


def started(udp, flush_s=0.1):
    """What the start-up sent has arrived and is dropped: the master's first
    gauges and the harness's readiness /health (the next master tick is
    10 s away). From now on, only what the test's requests send."""
    def seen(what):
        with udp.lock:
            return any(re.search(what, p) for p in udp.packets)
    wait_for(lambda: seen(r"\.workers\.alive:") and
             seen(r"\.http\.requests[.:]"),
             timeout=flush_s + 5, what="the start-up's statsd lines")
    time.sleep(flush_s + 0.2)
    udp.take()


class StatsdLines(unittest.TestCase):
    SEQUENCE = [("GET", "/health", "health", "GET", "2xx"),
                ("GET", "/nope", "unmatched", "GET", "4xx"),
                ("POST", "/health", "method_not_allowed", "POST", "4xx"),
                ("GET", "/", "root", "GET", "2xx")]

    def run_sequence(self, config):
        """The datagrams the sequence's requests sent."""
        udp = UdpListener()
        config = dict(config, STATSD_HOST="127.0.0.1",
                      STATSD_PORT=str(udp.port))
        try:
            with Stack(workers=2, threads=2, memcached=False,
                       upstream=False, config=config) as s:
                started(udp)
                for method, path, *_ in self.SEQUENCE:
                    s.request(method, path)
                return settled(udp, lambda l: re.match(
                    r"\S*\.http\.requests", l), 4, 5, "4 request lines")
        finally:
            udp.close()

    def test_known_request_sequence_sends_exact_lines(self):
        """STATSD_FLUSH_MS = 0: one datagram per request, at its end."""
        packets = self.run_sequence({"STATSD_FLUSH_MS": "0"})
        self.assertEqual(len(packets), 4, packets)
        for packet, (_, _, route, method, cls) in zip(packets,
                                                       self.SEQUENCE):
            lines = packet.split("\n")
            self.assertEqual(lines[0], "anilist_gpt.http.requests.%s.%s.%s"
                             ":1|c" % (route, method, cls))
            self.assertRegex(lines[1], r"^anilist_gpt\.http\.response_time"
                             r"\.%s:\d+\.\d{3}\|ms$" % route)
            self.assertEqual(lines[2], "anilist_gpt.http.in_flight:0|g")
            self.assertEqual(len(lines), 3, packet)

    def test_known_request_sequence_batched_sends_exact_lines(self):
        """The default interval: the same lines, each once, fewer packets
        allowed; nothing else."""
        packets = self.run_sequence({})
        got = sorted(re.sub(r"^(\S+response_time\.\w+):\d+\.\d{3}\|ms$",
                            r"\1:T|ms", l) for l in lines_of(packets))
        want = []
        for _, _, route, method, cls in self.SEQUENCE:
            want += ["anilist_gpt.http.requests.%s.%s.%s:1|c" % (
                route, method, cls),
                "anilist_gpt.http.response_time.%s:T|ms" % route,
                "anilist_gpt.http.in_flight:0|g"]
        self.assertEqual(got, sorted(want), packets)
        self.assertLessEqual(len(packets), 4)

    def test_dogstatsd_tags_and_prefix(self):
        packets = self.run_sequence({"STATSD_TAGS": "dogstatsd",
                                     "STATSD_PREFIX": "svc."})
        lines = lines_of(packets)
        requests = [l for l in lines if l.startswith("svc.http.requests:")]
        self.assertEqual(sorted(requests), sorted([
            "svc.http.requests:1|c|#route:/health,method:GET,status:200",
            "svc.http.requests:1|c|#route:unmatched,method:GET,status:404",
            "svc.http.requests:1|c|#route:method_not_allowed,method:POST,"
            "status:405",
            "svc.http.requests:1|c|#route:/,method:GET,status:200"]), lines)
        times = [l for l in lines if l.startswith("svc.http.response_time")]
        self.assertEqual(len(times), 4, lines)
        self.assertTrue(any(re.match(r"^svc\.http\.response_time:\d+\.\d{3}"
                                     r"\|ms\|#route:/health$", l)
                            for l in times), times)
        self.assertEqual(len(lines), 12, lines)

    def test_many_requests_share_datagrams_every_line_once(self):
        """Batching across requests: 240 requests from 8 clients leave in
        far fewer datagrams, none over the size limit, every line once."""
        n_clients, per_client = 8, 30
        n = n_clients * per_client
        udp = UdpListener()
        try:
            with Stack(workers=2, threads=4, memcached=False, upstream=False,
                       config={"STATSD_HOST": "127.0.0.1",
                               "STATSD_PORT": str(udp.port)}) as s:
                started(udp)
                errors = []

                def client():
                    for _ in range(per_client):
                        if s.request("GET", "/health")[0] != 200:
                            errors.append(1)
                threads = [threading.Thread(target=client)
                           for _ in range(n_clients)]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                self.assertEqual(errors, [])
                packets = settled(udp, lambda l: l.startswith(
                    "anilist_gpt.http.requests."), n, 10, "every request")
        finally:
            udp.close()
        lines = lines_of(packets)
        self.assertEqual(lines.count(
            "anilist_gpt.http.requests.health.GET.2xx:1|c"), n)
        self.assertEqual(sum(1 for l in lines if re.match(
            r"^anilist_gpt\.http\.response_time\.health:\d+\.\d{3}\|ms$",
            l)), n)
        self.assertEqual(sum(1 for l in lines if re.match(
            r"^anilist_gpt\.http\.in_flight:\d+\|g$", l)), n)
        self.assertEqual(len(lines), 3 * n, "lines other than the requests'")
        self.assertLessEqual(max(len(p.encode()) for p in packets),
                             PACKET_MAX)
        # One request is 3 lines (~125 bytes): ~11 fit in a datagram.
        self.assertLessEqual(len(packets), n // 4, len(packets))

    def test_line_waits_at_most_the_flush_interval(self):
        """STATSD_FLUSH_MS = 2000: a lone request's lines wait for later
        ones, then leave within the interval."""
        udp = UdpListener()
        try:
            with Stack(workers=1, threads=2, memcached=False, upstream=False,
                       config={"STATSD_HOST": "127.0.0.1",
                               "STATSD_PORT": str(udp.port),
                               "STATSD_FLUSH_MS": "2000"}) as s:
                def mine():
                    with udp.lock:
                        return [l for l in lines_of(udp.packets)
                                if ".http.requests." in l]
                started(udp, 2.0)
                t0 = time.monotonic()
                self.assertEqual(s.request("GET", "/health")[0], 200)
                t1 = time.monotonic()
                time.sleep(1.5)
                self.assertEqual(mine(), [], "sent before the interval")
                wait_for(lambda: mine(), timeout=5, what="the request line")
                arrived = time.monotonic()
                self.assertGreaterEqual(arrived - t0, 1.9)
                self.assertLessEqual(arrived - t1, 2.5)
                self.assertEqual(mine(), ["anilist_gpt.http.requests.health."
                                          "GET.2xx:1|c"])
        finally:
            udp.close()

    def test_drain_sends_waiting_lines(self):
        """STATSD_FLUSH_MS = 10000, then SIGTERM: the drain sends what
        waits instead of losing it."""
        udp = UdpListener()
        try:
            s = Stack(workers=2, threads=2, memcached=False, upstream=False,
                      config={"STATSD_HOST": "127.0.0.1",
                              "STATSD_PORT": str(udp.port),
                              "STATSD_FLUSH_MS": "10000"})
            with s:
                for _ in range(3):
                    self.assertEqual(s.request("GET", "/")[0], 200)
                time.sleep(0.3)
                self.assertEqual([l for l in lines_of(udp.take())
                                  if ".http." in l], [], "sent early")
                t0 = time.monotonic()
            # The stack stopped: workers drained, the master exited.
            self.assertLess(time.monotonic() - t0, 9)
            time.sleep(0.3)
            lines = lines_of(udp.take())
            self.assertEqual(lines.count(
                "anilist_gpt.http.requests.root.GET.2xx:1|c"), 3, lines)
            # The master's own waiting gauges are sent at its exit too.
            self.assertTrue(any(l.startswith("anilist_gpt.workers.alive:")
                                for l in lines), lines)
        finally:
            udp.close()

    def test_unreachable_statsd_changes_nothing(self):
        dead = free_port()      # nothing listens: ICMP port unreachable
        with Stack(workers=2, threads=2, memcached=False, upstream=False,
                   config={"STATSD_HOST": "127.0.0.1",
                           "STATSD_PORT": str(dead)}) as s:
            t0 = time.monotonic()
            for _ in range(100):
                self.assertEqual(s.request("GET", "/health")[0], 200)
            self.assertLess(time.monotonic() - t0, 10)
        with Stack(workers=1, threads=2, memcached=False, upstream=False,
                   config={"STATSD_HOST": "statsd.invalid"}) as s:
            for _ in range(20):
                self.assertEqual(s.request("GET", "/health")[0], 200)
            self.assertEqual(s.request("GET", "/health")[0], 200)
            warned = [l for l in s.log_lines()
                      if l.get("msg") == "statsd disabled in this process"]
            self.assertGreaterEqual(len(warned), 1)
            self.assertLessEqual(len(warned), 3)    # once per process


class Exposition(unittest.TestCase):
    def test_metrics_only_on_internal_listener(self):
        with Stack(workers=2, threads=2, memcached=False,
                   upstream=False) as s:
            for path in ("/metrics", "/metrics/", "/metrics/x", "/%6detrics",
                         "/METRICS"):
                status, h, body = s.request("GET", path)
                self.assertEqual(status, 404, path)
                self.assertNotIn(b"http_requests_total", body, path)
            status, h, body = internal(s, "/metrics")
            self.assertEqual(status, 200)
            self.assertEqual(h["Content-Type"],
                             "text/plain; version=0.0.4; charset=utf-8")
            self.assertIn("# TYPE http_requests_total counter", body)
            status, h, body = internal(s, "/health")
            self.assertEqual(status, 404)
            self.assertNotIn("healthy", body)

    @staticmethod
    def three_workers_listed(text):
        return sample(text, "workers_alive") == 3 and len(re.findall(
            r'process_resident_memory_bytes\{process="worker-', text)) == 3

    def test_totals_across_workers_survive_crash_and_reload(self):
        n_threads, per_thread = 8, 40
        with Stack(workers=3, threads=4, memcached=False,
                   upstream=False) as s:
            before = sample(s.metrics(), 'http_requests_total{'
                            'route="/health",method="GET",status="200"}') or 0
            errors = []

            def hammer(count):
                for _ in range(count):
                    if s.request("GET", "/health")[0] != 200:
                        errors.append(1)

            def phase(count):
                threads = [threading.Thread(target=hammer, args=(count,))
                           for _ in range(n_threads)]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                return n_threads * count

            def served():
                return {l.get("pid") for l in s.log_lines()
                        if l.get("msg") == "request"}
            sent = phase(per_thread)
            # Which worker the kernel wakes is its business: when one took
            # everything, pause it so that the others must serve the rest.
            if len(served()) < 2:
                busy = served().pop()
                os.kill(busy, signal.SIGSTOP)
                try:
                    sent += phase(per_thread // 4)
                finally:
                    os.kill(busy, signal.SIGCONT)
            self.assertEqual(errors, [])
            text = s.metrics()
            key = ('http_requests_total{route="/health",method="GET",'
                   'status="200"}')
            self.assertEqual(sample(text, key) - before, sent)
            self.assertEqual(sample(text, 'http_request_duration_seconds_'
                             'count{route="/health"}') - before, sent)
            self.assertEqual(sample(text, "workers_alive"), 3)
            self.assertEqual(sample(text, "worker_restarts_total"), 0)
            # Several workers served them, each listed with its memory.
            workers = re.findall(r'process_resident_memory_bytes\{process='
                                 r'"worker-\d+"\} (\d+)', text)
            self.assertEqual(len(workers), 3)
            self.assertTrue(all(int(w) > 0 for w in workers))
            self.assertIsNotNone(sample(
                text, 'process_resident_memory_bytes{process="master"}'))
            self.assertGreaterEqual(len(served()), 2, "one worker did it all")

            # A worker dies: counted as a restart, the totals stay.
            victim = s.worker_pids()[0]
            os.kill(victim, signal.SIGKILL)
            wait_for(lambda: victim not in s.worker_pids() and
                     len(s.worker_pids()) == 3, timeout=10,
                     what="replacement worker")
            wait_for(lambda: sample(s.metrics(), "worker_restarts_total") ==
                     1, timeout=10, what="restart counted")
            # The new worker registers once its start-up is done.
            wait_for(lambda: self.three_workers_listed(s.metrics()),
                     timeout=10, what="replacement worker registered")
            text = s.metrics()
            self.assertGreaterEqual(sample(text, key) - before, sent)
            self.assertEqual(sample(text, "workers_alive"), 3)
            self.assertEqual(len(re.findall(
                r'process_resident_memory_bytes\{process="worker-', text)), 3)

            # SIGHUP replaces every worker; the master keeps the registry.
            old = set(s.worker_pids())
            s.service().signal(signal.SIGHUP)
            wait_for(lambda: not (set(s.worker_pids()) & old) and
                     len(s.worker_pids()) == 3, timeout=20,
                     what="workers replaced by reload")
            text = s.metrics()
            self.assertGreaterEqual(sample(text, key) - before, sent)
            self.assertEqual(sample(text, "worker_restarts_total"), 1)
            self.assertEqual(sample(text, "http_in_flight_requests"), 1)

    def test_metrics_disabled(self):
        udp = UdpListener()
        try:
            with Stack(workers=1, threads=2, memcached=False, upstream=False,
                       config={"METRICS_ENABLED": "false",
                               "STATSD_HOST": "127.0.0.1",
                               "STATSD_PORT": str(udp.port)}) as s:
                for _ in range(5):
                    self.assertEqual(s.request("GET", "/health")[0], 200)
                status, _, body = internal(s, "/metrics")
                self.assertEqual(status, 404)
                self.assertIn("METRICS_ENABLED", body)
                time.sleep(0.3)
            self.assertEqual(udp.take(), [])
        finally:
            udp.close()


def statsd_dir():
    """npm statsd: as `npm ci --prefix tests/integration` left it, else
    installed now from the package-lock.json into the build tree."""
    def found(base):
        d = os.path.join(base, "tests", "integration", "node_modules",
                         "statsd")
        return d if os.path.exists(os.path.join(d, "stats.js")) else None
    for base in (TOP_SRCDIR, TOP_BUILDDIR):
        if found(base):
            return found(base)
    dest = os.path.join(TOP_BUILDDIR, "tests", "integration")
    os.makedirs(dest, exist_ok=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copy(os.path.join(TOP_SRCDIR, "tests", "integration", name),
                    dest)
    subprocess.run(["npm", "ci", "--prefix", dest, "--no-audit", "--no-fund",
                    "--ignore-scripts"], check=True, timeout=90,
                   stdout=subprocess.DEVNULL)
    return found(TOP_BUILDDIR)


def require(*tools):
    for tool, package in tools:
        if shutil.which(tool) is None:
            raise AssertionError("%s missing: apt-get install %s" %
                                 (tool, package))


class StatsdToGraphite(unittest.TestCase):
    """The shipped etc/statsd/config.js, with test ports, in front of carbon."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="agpt-graphite-")
        self.procs = []

    def tearDown(self):
        for p in self.procs:
            p.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def start_carbon(self):
        port = free_port()
        for sub in ("whisper", "log", "run"):
            os.mkdir(os.path.join(self.dir, sub))
        conf = os.path.join(self.dir, "carbon.conf")
        with open(conf, "w") as f:
            f.write("[cache]\n"
                    "STORAGE_DIR = {d}/\nLOCAL_DATA_DIR = {d}/whisper/\n"
                    "CONF_DIR = {d}/\nLOG_DIR = {d}/log/\nPID_DIR = {d}/run/\n"
                    "USER =\nMAX_CACHE_SIZE = inf\n"
                    "MAX_UPDATES_PER_SECOND = inf\n"
                    "MAX_CREATES_PER_MINUTE = inf\n"
                    "LINE_RECEIVER_INTERFACE = 127.0.0.1\n"
                    "LINE_RECEIVER_PORT = {p}\n"
                    "ENABLE_UDP_LISTENER = False\n"
                    "PICKLE_RECEIVER_INTERFACE = 127.0.0.1\n"
                    "PICKLE_RECEIVER_PORT = {pp}\n"
                    "CACHE_QUERY_INTERFACE = 127.0.0.1\n"
                    "CACHE_QUERY_PORT = {cp}\n"
                    "WHISPER_AUTOFLUSH = True\n"
                    "CACHE_WRITE_STRATEGY = naive\n".format(
                        d=self.dir, p=port, pp=free_port(), cp=free_port()))
        with open(os.path.join(self.dir, "storage-schemas.conf"), "w") as f:
            f.write("[all]\npattern = .*\nretentions = 1s:1h\n")
        with open(os.path.join(self.dir, "storage-aggregation.conf"),
                  "w") as f:
            f.write("[all]\npattern = .*\nxFilesFactor = 0\n"
                    "aggregationMethod = sum\n")
        self.procs.append(Proc("carbon", [
            "carbon-cache", "--config=" + conf, "--debug",
            "--pidfile=" + os.path.join(self.dir, "run", "carbon.pid"),
            "start"], os.environ.copy(), self.dir))
        wait_for(lambda: port_open(port), timeout=20, what="carbon")
        return port

    def start_statsd(self, sdir, carbon_port):
        port = free_port()
        etc = os.path.join(TOP_SRCDIR, "etc", "statsd", "config.js")
        with open(etc) as f:
            shipped = f.read()
        conf = os.path.join(self.dir, "statsd.js")
        with open(conf, "w") as f:
            f.write("(function () {\nvar c = %s;\n"
                    "c.port = %d; c.mgmt_port = %d;\n"
                    "c.graphitePort = %d; c.flushInterval = 2000;\n"
                    "return c;\n})()\n" % (shipped, port, free_port(),
                                           carbon_port))
        self.procs.append(Proc("statsd", ["node", "stats.js", conf],
                               os.environ.copy(), self.dir, cwd=sdir))
        wait_for(lambda: "server is up" in self.procs[-1].output(),
                 timeout=20, what="statsd")
        return port

    def whisper_values(self, metric):
        path = os.path.join(self.dir, "whisper",
                            *metric.split(".")) + ".wsp"
        if not os.path.exists(path):
            return None
        out = subprocess.run(["whisper-fetch", "--from=%d" % (
            time.time() - 600), path], capture_output=True, text=True,
            check=True).stdout
        values = []
        for line in out.splitlines():
            ts, v = line.split()
            if v != "None":
                values.append(float(v))
        return values

    def test_counts_reach_whisper(self):
        require(("carbon-cache", "graphite-carbon"),
                ("whisper-fetch", "python3-whisper"), ("node", "nodejs"),
                ("npm", "npm"))
        sdir = statsd_dir()
        carbon = self.start_carbon()
        statsd = self.start_statsd(sdir, carbon)
        n = 25
        with Stack(workers=2, threads=2, memcached=False, upstream=False,
                   config={"STATSD_HOST": "127.0.0.1",
                           "STATSD_PORT": str(statsd)}) as s:
            for _ in range(n):
                self.assertEqual(s.request("GET", "/")[0], 200)
            for _ in range(3):
                s.request("GET", "/nope")
            counter = "stats.counters.anilist_gpt.http.requests.root.GET.2xx.count"
            wait_for(lambda: sum(self.whisper_values(counter) or [0]) >= n,
                     timeout=30, what="counts in whisper")
            time.sleep(2.5)     # one more flush must not add any
            self.assertEqual(sum(self.whisper_values(counter)), n)
            self.assertEqual(sum(self.whisper_values(
                "stats.counters.anilist_gpt.http.requests.unmatched.GET.4xx."
                "count")), 3)
            timer = "stats.timers.anilist_gpt.http.response_time.root."
            self.assertEqual(sum(self.whisper_values(timer + "count")), n)
            for pct in ("upper_50", "upper_95", "upper_99"):
                self.assertTrue(self.whisper_values(timer + pct),
                                "no %s series" % pct)
            self.assertTrue(glob.glob(os.path.join(
                self.dir, "whisper", "stats", "gauges", "anilist_gpt",
                "workers", "alive.wsp")))


if __name__ == "__main__":
    unittest.main(verbosity=2)
