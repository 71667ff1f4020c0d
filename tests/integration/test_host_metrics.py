"""test_host_metrics.py: the machine around the service in /metrics on the
real stack: free space of the METRICS_DISK_PATHS filesystems, the memory of
the stack's own memcached and Caddy (METRICS_PROCESSES by pidfile) beside the
workers', and the memcached and PostgreSQL round-trip histograms counting
real calls."""
import os
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Stack, wait_for, watchdog  # noqa

watchdog(115)

PAGE = os.sysconf("SC_PAGE_SIZE")
BUCKETS = ["0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1",
           "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"]


def samples(text):
    """{series: value} of every sample line."""
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            series, value = line.rsplit(" ", 1)
            out[series] = float(value)
    return out


def statm_rss(pid):
    with open("/proc/%d/statm" % pid) as f:
        return int(f.read().split()[1]) * PAGE


def buckets_of(s, family, labels):
    """The le values of one histogram series, in exposition order."""
    prefix = family + "_bucket{" + (labels + "," if labels else "")
    return [k[len(prefix) + 4:-2] for k in s if k.startswith(prefix)]


class HostMetrics(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="agpt-host-")
        cls.volume = os.path.join(cls.tmp, "state")
        os.mkdir(cls.volume)
        cls.mc_pidfile = os.path.join(cls.tmp, "memcached.pid")
        cls.caddy_pidfile = os.path.join(cls.tmp, "caddy.pid")
        cls.stack = Stack(postgres=True, config={
            "METRICS_DISK_PATHS": "%s,/no/such/volume" % cls.volume,
            "METRICS_PROCESSES": "memcached=%s, caddy=%s, nosuchproc" % (
                cls.mc_pidfile, cls.caddy_pidfile),
        })
        try:
            cls.stack.start()
        except BaseException:
            cls.stack.stop()
            shutil.rmtree(cls.tmp, ignore_errors=True)
            raise
        # The pidfiles are read at each scrape: written once the stack runs.
        for name, path in (("memcached", cls.mc_pidfile),
                           ("caddy", cls.caddy_pidfile)):
            with open(path, "w") as f:
                f.write("%d\n" % cls.stack.procs[name].pid)

    @classmethod
    def tearDownClass(cls):
        cls.stack.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_disk_space_of_the_configured_volume(self):
        text = self.stack.metrics()
        self.assertIn("# TYPE filesystem_avail_bytes gauge", text)
        self.assertIn("# TYPE filesystem_size_bytes gauge", text)
        s = samples(text)
        label = '{path="%s"}' % self.volume
        avail = s["filesystem_avail_bytes" + label]
        size = s["filesystem_size_bytes" + label]
        st = os.statvfs(self.volume)
        self.assertEqual(size, st.f_blocks * st.f_frsize)
        self.assertGreater(avail, 0)
        self.assertLessEqual(avail, size)
        # Other writers on this machine move it; within 1 % of the size.
        self.assertLess(abs(avail - st.f_bavail * st.f_frsize), size / 100)
        self.assertNotIn("/no/such/volume", text)

    def test_neighbours_memory_beside_the_workers(self):
        s = samples(self.stack.metrics())
        for name in ("memcached", "caddy"):
            rss = s['process_resident_memory_bytes{process="%s"}' % name]
            self.assertGreater(rss, 0, name)
            # Both are idle between the two reads: the same pages, give or
            # take what a scrape or a request touched.
            ref = statm_rss(self.stack.procs[name].pid)
            self.assertLess(abs(rss - ref), max(ref / 4, 4 << 20), name)
            self.assertIn('process_cpu_seconds_total{process="%s"}' % name, s)
        self.assertIn('process_resident_memory_bytes{process="master"}', s)
        self.assertNotIn("nosuchproc", " ".join(s))
        # What the MemoryHigh alert adds up: the workers and neighbours.
        total = sum(v for k, v in s.items()
                    if k.startswith("process_resident_memory_bytes{"))
        self.assertGreater(total, s[
            'process_resident_memory_bytes{process="memcached"}'] + s[
            'process_resident_memory_bytes{process="caddy"}'])

    def test_memcached_round_trips_count_real_calls(self):
        before = samples(self.stack.metrics())
        get = 'memcached_request_duration_seconds_count{op="get"}'
        put = 'memcached_request_duration_seconds_count{op="set"}'
        self.assertEqual(buckets_of(
            before, "memcached_request_duration_seconds", 'op="get"'),
            BUCKETS)
        # A query nobody asked before: a memcached miss, AniList, a set.
        status, _, _ = self.stack.request(
            "GET", "/v1/anime/search?query=host%20metrics%20frieren")
        self.assertEqual(status, 200)
        after = samples(self.stack.metrics())
        self.assertGreaterEqual(after[get] - before[get], 1)
        self.assertGreaterEqual(after[put] - before[put], 1)
        total = 'memcached_request_duration_seconds_sum{op="get"}'
        self.assertGreater(after[total], before[total])
        # The seconds are plausible for loopback: under a second each.
        self.assertLess((after[total] - before[total]) /
                        (after[get] - before[get]), 1.0)

    def test_postgresql_round_trips_count_real_statements(self):
        count = "db_query_duration_seconds_count"
        before = samples(self.stack.metrics())
        self.assertEqual(buckets_of(before, "db_query_duration_seconds", ""),
                         BUCKETS)
        status, _, body = self.stack.json("GET", "/health/db")
        self.assertEqual(status, 200, body)
        after = samples(self.stack.metrics())
        # SELECT 1 and the schema version, at least.
        self.assertGreaterEqual(after[count] - before[count], 2)
        self.assertGreater(after["db_query_duration_seconds_sum"],
                           before["db_query_duration_seconds_sum"])
        self.assertEqual(after['db_query_duration_seconds_bucket{le="+Inf"}'],
                         after[count])


if __name__ == "__main__":
    unittest.main()
