"""harness.py: starts a real stack on loopback for the integration tests.

Caddy (Caddyfile.local, tls internal, its own ports), anilist-gpt (FastCGI
over a unix socket), memcached, PostgreSQL (as the postgres user) and the
sample AniList upstream, each on a free port in a private temporary
directory. Everything is torn down at exit, and a watchdog bounds each test
file. Set ANILIST_GPT_TEST_URL (and ANILIST_GPT_TEST_CA) to point the tests at
an already running stack instead.
"""
import atexit
import fcntl
import http.client
import json
import os
import random
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

TOP_SRCDIR = os.path.abspath(os.environ.get(
    "top_srcdir", os.path.join(os.path.dirname(__file__), "..", "..")))
TOP_BUILDDIR = os.path.abspath(os.environ.get("top_builddir", TOP_SRCDIR))
BINARY = os.path.join(TOP_BUILDDIR, "src", "anilist-gpt")
SECRET = "integration-test-secret-key-0123456789abcdef"

_live = []


# Ports handed out by free_port in this process, each held by a lock on a
# file that every test process agrees on: `make -j2 check` runs tests side
# by side, and two of them must not pick the same port between checking it
# and binding it. A lock goes away with its process.
PORT_LOCK_DIR = os.path.join(tempfile.gettempdir(), "anilist-gpt-test-ports")
_port_locks = []


def _claim_port(port):
    """Lock port for this process; False if another test holds it."""
    try:
        os.makedirs(PORT_LOCK_DIR, mode=0o1777, exist_ok=True)
        fd = os.open(os.path.join(PORT_LOCK_DIR, str(port)),
                     os.O_CREAT | os.O_RDWR, 0o666)
    except OSError:
        return True     # no shared directory: the bind check alone
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return False
    _port_locks.append(fd)
    return True


def free_port():
    """A free loopback port below the kernel's ephemeral range, so that a
    client connection of some other test cannot take it before our server
    binds it, and that no other test process was given."""
    rng = random.SystemRandom()
    for _ in range(200):
        port = rng.randrange(20000, 32000)
        if not _claim_port(port):
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(pred, timeout=15.0, what="condition", fatal=()):
    """Poll pred until true; exceptions of the fatal kinds end it at once."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if pred():
                return True
        except fatal:
            raise
        except Exception:
            pass
        time.sleep(0.05)
    raise TimeoutError("timed out waiting for " + what)


def port_open(port, host="127.0.0.1"):
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def drop_screenshots(path):
    """Remove a test's screenshot folder, or keep it and say where when
    ANILIST_GPT_KEEP_TMP is set."""
    if os.environ.get("ANILIST_GPT_KEEP_TMP") is None:
        shutil.rmtree(path, ignore_errors=True)
    else:
        sys.stderr.write("screenshots kept in %s\n" % path)


def watchdog(seconds):
    """Kill the whole test file if it runs longer than seconds."""
    def on_alarm(signum, frame):
        sys.stderr.write("watchdog: test file exceeded %ds\n" % seconds)
        _cleanup()
        os._exit(99)
    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(seconds)


def _cleanup():
    for stack in list(_live):
        try:
            stack.stop()
        except Exception:
            pass


atexit.register(_cleanup)


# What ASan, LeakSanitizer (workers run it at drain) and UBSan print.
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                   "runtime error:")


def sanitizer_report(text):
    """The first sanitizer report in a log (some lines of it), or None."""
    for mark in SANITIZER_MARKS:
        at = text.find(mark)
        if at != -1:
            start = text.rfind("\n", 0, at) + 1
            return text[start:start + 4000]
    return None


class Proc:
    """A child process in its own process group, with its output in a file."""

    def __init__(self, name, argv, env, logdir, cwd=None, user=None):
        self.name = name
        self.log_path = os.path.join(logdir, name + ".log")
        self.log = open(self.log_path, "ab")
        if user:
            argv = ["runuser", "-u", user, "--"] + argv
        self.p = subprocess.Popen(argv, env=env, stdout=self.log,
                                  stderr=subprocess.STDOUT, cwd=cwd,
                                  start_new_session=True)

    @property
    def pid(self):
        return self.p.pid

    def alive(self):
        return self.p.poll() is None

    def signal(self, sig):
        if self.alive():
            os.kill(self.p.pid, sig)

    def stop(self, timeout=15):
        if self.alive():
            try:
                os.killpg(self.p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.p.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.p.pid, signal.SIGKILL)
                self.p.wait(5)
        self.log.close()

    def output(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")


class Stack:
    """One full stack. Use as a context manager or call start()/stop()."""

    def __init__(self, workers=2, threads=4, memcached=True, postgres=False,
                 upstream=True, config=None, env=None, upstream_args=None):
        self.workers = workers
        self.threads = threads
        self.want_memcached = memcached
        self.want_postgres = postgres
        self.want_upstream = upstream
        self.extra_config = dict(config or {})
        self.extra_env = dict(env or {})
        self.upstream_args = list(upstream_args or [])
        self.procs = {}
        self.dir = None
        self.external = os.environ.get("ANILIST_GPT_TEST_URL")

    # -- lifecycle -----------------------------------------------------
    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        _live.append(self)
        if self.external:
            self.base = self.external.rstrip("/")
            self.ca = os.environ.get("ANILIST_GPT_TEST_CA")
            self._ssl = ssl.create_default_context(cafile=self.ca)
            return self
        self.dir = tempfile.mkdtemp(prefix="agpt-it-")
        os.chmod(self.dir, 0o755)
        self.logdir = os.path.join(self.dir, "logs")
        os.mkdir(self.logdir)
        self.socket = os.path.join(self.dir, "anilist-gpt.sock")
        self.https_port = free_port()
        self.http_port = free_port()
        self.metrics_port = free_port()
        if self.want_memcached:
            self.start_memcached()
        if self.want_postgres:
            self.start_postgres()
        if self.want_upstream:
            self.start_upstream()
        self.write_config()
        if self.want_postgres:
            self.migrate()
        self.start_service()
        self.start_caddy()
        return self

    def stop(self):
        """Stop everything; raise if the service's log has a sanitizer report."""
        for name in ("caddy", "anilist-gpt", "upstream", "memcached"):
            if name in self.procs:
                self.procs[name].stop()
        if "postgres" in self.procs:
            self.stop_postgres()
        if self in _live:
            _live.remove(self)
        report = None
        if "anilist-gpt" in self.procs:
            report = sanitizer_report(self.service_log())
        if self.dir and os.environ.get("ANILIST_GPT_KEEP_TMP") is None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None
        if report is not None:
            raise AssertionError("the service's log has a sanitizer "
                                 "report:\n" + report)

    # -- components ----------------------------------------------------
    def start_memcached(self):
        self.memcached_port = free_port()
        self.procs["memcached"] = Proc(
            "memcached", ["memcached", "-u", "nobody", "-l", "127.0.0.1",
                          "-p", str(self.memcached_port), "-U", "0",
                          "-m", "64", "-c", "1024"],
            os.environ.copy(), self.logdir)
        wait_for(lambda: port_open(self.memcached_port), what="memcached")

    def restart_memcached(self):
        self.procs["memcached"] = Proc(
            "memcached", ["memcached", "-u", "nobody", "-l", "127.0.0.1",
                          "-p", str(self.memcached_port), "-U", "0",
                          "-m", "64", "-c", "1024"],
            os.environ.copy(), self.logdir)
        wait_for(lambda: port_open(self.memcached_port), what="memcached")

    def pg_bin(self, name):
        found = shutil.which(name)
        if found:
            return found
        base = "/usr/lib/postgresql"
        for v in sorted(os.listdir(base), reverse=True):
            cand = os.path.join(base, v, "bin", name)
            if os.path.exists(cand):
                return cand
        raise RuntimeError(name + " not found")

    def start_postgres(self):
        self.pg_port = free_port()
        self.pg_dir = os.path.join(self.dir, "pg")
        os.mkdir(self.pg_dir)
        shutil.chown(self.pg_dir, "postgres", "postgres")
        subprocess.run(["runuser", "-u", "postgres", "--",
                        self.pg_bin("initdb"), "-D", self.pg_dir, "-A",
                        "trust", "-U", "postgres", "--no-sync"],
                       check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        self.pg_started = True
        self.pg_ctl("start")
        self.database_url = (
            "host=127.0.0.1 port=%d dbname=postgres user=postgres "
            "connect_timeout=2" % self.pg_port)
        self.procs["postgres"] = None

    def pg_ctl(self, action):
        argv = ["runuser", "-u", "postgres", "--", self.pg_bin("pg_ctl"),
                "-D", self.pg_dir, "-w", "-t", "30"]
        if action == "start":
            argv += ["-l", os.path.join(self.pg_dir, "server.log"), "-o",
                     "-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off"
                     % (self.pg_port, self.pg_dir), "start"]
        else:
            argv += ["-m", "fast", "stop"]
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)

    def migrate(self):
        """Run `anilist-gpt migrate` with the project's sql/: its output."""
        r = subprocess.run([BINARY, "-c", self.config_path, "-s",
                            os.path.join(TOP_SRCDIR, "sql"), "migrate"],
                           env=self.service_env(), capture_output=True,
                           text=True, timeout=60)
        if r.returncode != 0:
            raise RuntimeError("migrate failed: " + r.stderr)
        return r.stdout

    def psql(self, sql, *params):
        """Run one statement in the test database: rows as lists of text.

        params are passed with psql variables (:'p1' …), never pasted in.
        """
        argv = ["psql", "-X", "-q", "-A", "-t", "-F", "\x1f",
                "-v", "ON_ERROR_STOP=1", self.database_url]
        for i, p in enumerate(params):
            argv += ["-v", "p%d=%s" % (i + 1, p)]
        r = subprocess.run(argv, input=sql, capture_output=True, text=True,
                           timeout=30)
        if r.returncode != 0:
            raise RuntimeError("psql: " + r.stderr)
        return [line.split("\x1f") for line in r.stdout.splitlines()
                if line != ""]

    def stop_postgres(self):
        try:
            self.pg_ctl("stop")
        except subprocess.CalledProcessError:
            pass
        del self.procs["postgres"]

    def start_upstream(self):
        self.upstream_port = free_port()
        server = os.path.join(TOP_SRCDIR, "tests", "anilist-sample",
                              "server.py")
        self.procs["upstream"] = Proc(
            "upstream", [sys.executable, server, "--port",
                         str(self.upstream_port)] + self.upstream_args,
            os.environ.copy(), self.logdir)
        wait_for(lambda: port_open(self.upstream_port), what="upstream")
        self.upstream_url = "http://127.0.0.1:%d" % self.upstream_port

    def config_values(self):
        c = {
            "LISTEN": "unix:" + self.socket,
            "WORKERS": str(self.workers),
            "THREADS": str(self.threads),
            "SHUTDOWN_TIMEOUT": "10",
            "LOG_LEVEL": "info",
            "ENVIRONMENT": "production",
            "SECRET_KEY": SECRET,
            "PUBLIC_URL": "https://localhost:%d" % self.https_port,
            "CORS_ORIGINS": "https://chatgpt.com,https://allowed.example",
            "MEMCACHED_SERVERS": ("127.0.0.1:%d" % self.memcached_port
                                  if self.want_memcached else ""),
            "STATSD_HOST": "",
            # Tests send many requests from one address: the per-client
            # limit is off unless a test sets it (test_ratelimit.py).
            "RATE_LIMIT_REQUESTS": "0",
            # Likewise the registration quota (test_security.py's).
            "OAUTH_REGISTER_LIMIT": "0",
            "WIDGETS_DIR": os.path.join(TOP_SRCDIR, "widgets"),
        }
        if self.want_upstream:
            c["ANILIST_API_URL"] = self.upstream_url + "/"
            c["ANILIST_OAUTH_URL"] = self.upstream_url + "/api/v2/oauth"
            # The sample upstream's default client (its --client-id/-secret).
            c["ANILIST_CLIENT_ID"] = "sample-client"
            c["ANILIST_CLIENT_SECRET"] = "sample-secret"
            c["ANILIST_REDIRECT_URI"] = (
                "https://localhost:%d/auth/callback" % self.https_port)
        if self.want_postgres:
            c["DATABASE_URL"] = self.database_url
        c.update(self.extra_config)
        return c

    def write_config(self, values=None, text=None):
        self.config_path = os.path.join(self.dir, "anilist-gpt.conf")
        if text is None:
            values = values or self.config_values()
            text = "".join("%s = %s\n" % kv for kv in values.items())
        with open(self.config_path, "w") as f:
            f.write(text)

    def service_env(self):
        env = {k: v for k, v in os.environ.items()
               if not k.isupper() or k in ("PATH", "HOME", "LANG", "TZ",
                                           "ASAN_OPTIONS", "UBSAN_OPTIONS",
                                           "LSAN_OPTIONS")}
        env.update(self.extra_env)
        return env

    def start_service(self):
        self.procs["anilist-gpt"] = Proc(
            "anilist-gpt", [BINARY, "-c", self.config_path, "serve"],
            self.service_env(), self.logdir)
        wait_for(lambda: os.path.exists(self.socket), what="service socket")

    def start_caddy(self):
        env = os.environ.copy()
        env.update({
            "XDG_DATA_HOME": os.path.join(self.dir, "caddy-data"),
            "XDG_CONFIG_HOME": os.path.join(self.dir, "caddy-config"),
            "HOME": self.dir,
            "CADDY_HTTPS_PORT": str(self.https_port),
            "CADDY_HTTP_PORT": str(self.http_port),
            "METRICS_LISTEN": "127.0.0.1:%d" % self.metrics_port,
            "ANILIST_GPT_UPSTREAM": "unix/" + self.socket,
            "CADDY_LOG_LEVEL": os.environ.get("CADDY_LOG_LEVEL", "ERROR"),
        })
        self.procs["caddy"] = Proc(
            "caddy", ["caddy", "run", "--adapter", "caddyfile", "--config",
                      os.path.join(TOP_SRCDIR, "caddy", "Caddyfile.local")],
            env, self.logdir)
        self.ca = os.path.join(self.dir, "caddy-data", "caddy", "pki",
                               "authorities", "local", "root.crt")
        caddy = self.procs["caddy"]

        def caddy_up():
            if not caddy.alive():
                raise RuntimeError("caddy exited:\n" + caddy.output()[-2000:])
            return os.path.exists(self.ca) and port_open(self.https_port)
        try:
            wait_for(caddy_up, timeout=45, what="caddy", fatal=RuntimeError)
        except TimeoutError:
            raise TimeoutError("caddy did not start:\n" +
                               caddy.output()[-2000:])
        self._ssl = ssl.create_default_context(cafile=self.ca)
        self.base = "https://localhost:%d" % self.https_port
        wait_for(lambda: self.request("GET", "/health")[0] == 200,
                 what="/health through caddy")

    # -- talking to it -------------------------------------------------
    def url(self, path):
        return self.base + path

    def connection(self, timeout=30):
        u = urllib.parse.urlsplit(self.base)
        return http.client.HTTPSConnection(u.hostname, u.port,
                                           context=self._ssl,
                                           timeout=timeout)

    def request(self, method, path, body=None, headers=None, timeout=30):
        """One HTTPS request through Caddy: (status, headers, body bytes)."""
        conn = self.connection(timeout)
        try:
            h = dict(headers or {})
            if isinstance(body, (dict, list)):
                body = json.dumps(body).encode()
                h.setdefault("Content-Type", "application/json")
            elif isinstance(body, str):
                body = body.encode()
            conn.request(method, path, body=body, headers=h)
            r = conn.getresponse()
            data = r.read()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, data
        finally:
            conn.close()

    def json(self, method, path, body=None, headers=None, timeout=30):
        status, h, data = self.request(method, path, body, headers, timeout)
        try:
            obj = json.loads(data) if data else None
        except ValueError:
            raise AssertionError("not JSON (%d): %r" % (status, data[:300]))
        return status, h, obj

    def metrics(self):
        with urllib.request.urlopen(
                "http://127.0.0.1:%d/metrics" % self.metrics_port,
                timeout=10) as r:
            return r.read().decode()

    # -- the sample upstream's control API -----------------------------
    def upstream(self, method, path, body=None):
        req = urllib.request.Request(
            self.upstream_url + path, method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read() or b"null")

    def upstream_graphql(self, query, variables=None, token=None):
        """One GraphQL request straight to the sample upstream (as another
        AniList client would make it): the parsed answer."""
        h = {"Content-Type": "application/json"}
        if token is not None:
            h["Authorization"] = "Bearer " + token
        req = urllib.request.Request(
            self.upstream_url + "/", method="POST", headers=h,
            data=json.dumps({"query": query,
                             "variables": variables or {}}).encode())
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())

    def upstream_requests(self):
        return self.upstream("GET", "/__stats")["requests"]

    def upstream_fault(self, mode, **kw):
        kw["mode"] = mode
        return self.upstream("POST", "/__fault", kw)

    def upstream_reset(self):
        return self.upstream("POST", "/__reset", {})

    def mcp(self, method, params, token=None, version="2025-11-25"):
        """One JSON-RPC request to /mcp as a streamable-HTTP client sends
        it: (status, headers, the parsed body or None when empty)."""
        h = {"Content-Type": "application/json",
             "Accept": "application/json, text/event-stream",
             "MCP-Protocol-Version": version}
        if token is not None:
            h["Authorization"] = "Bearer " + token
        st, hdrs, out = self.request("POST", "/mcp", json.dumps(
            {"jsonrpc": "2.0", "id": 1, "method": method,
             "params": params}), h)
        return st, hdrs, json.loads(out) if out else None

    def flush_memcached(self):
        """Empty memcached: answers, single-flight locks and the AniList
        governor's counters (a fresh budget)."""
        with socket.create_connection(("127.0.0.1",
                                       self.memcached_port)) as c:
            c.sendall(b"flush_all\r\n")
            reply = c.recv(64)
        if reply != b"OK\r\n":
            raise AssertionError("memcached flush_all said %r" % reply)

    # -- the service ---------------------------------------------------
    def service(self):
        return self.procs["anilist-gpt"]

    def service_log(self):
        return self.procs["anilist-gpt"].output()

    def log_lines(self):
        out = []
        for line in self.service_log().splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
        return out

    def worker_pids(self):
        master = self.service().pid
        try:
            with open("/proc/%d/task/%d/children" % (master, master)) as f:
                return [int(p) for p in f.read().split()]
        except OSError:
            return []
