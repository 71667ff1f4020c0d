"""test_accounts.py: PostgreSQL, AniList login, the OAuth 2.1 server (issue 5).

Real PostgreSQL (a private cluster started as the postgres user), real Caddy,
the sample AniList upstream; nothing is mocked.
"""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

harness.watchdog(170)


class Accounts(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = harness.Stack(workers=2, threads=4, postgres=True)
        cls.s.start()

    @classmethod
    def tearDownClass(cls):
        cls.s.stop()

    # -- PostgreSQL --------------------------------------------------------
    def test_migrate_twice_changes_nothing(self):
        before = self.s.psql("SELECT version, checksum, applied_at "
                             "FROM schema_migrations ORDER BY version")
        out = self.s.migrate()
        self.assertIn("0 migrations applied now", out)
        after = self.s.psql("SELECT version, checksum, applied_at "
                            "FROM schema_migrations ORDER BY version")
        self.assertEqual(before, after)
        self.assertEqual(before[0][0], "1")

    def test_health_db_reports_select_latency_and_schema(self):
        status, _, body = self.s.json("GET", "/health/db")
        self.assertEqual(status, 200, body)
        self.assertEqual(body["status"], "up")
        self.assertGreaterEqual(body["latency_ms"], 0)
        self.assertEqual(body["schema_version"], body["schema_required"])
        status, _, body = self.s.json("GET", "/health/ready")
        self.assertEqual(body["dependencies"]["db"]["status"], "up")
        self.assertTrue(body["dependencies"]["db"]["required"])


class NoDatabase(unittest.TestCase):
    def test_health_db_disabled_without_database_url(self):
        with harness.Stack(workers=1, threads=2, memcached=False,
                           upstream=False) as s:
            status, _, body = s.json("GET", "/health/db")
            self.assertEqual((status, body["status"]), (200, "disabled"))
            status, _, body = s.json("GET", "/health/ready")
            self.assertEqual(status, 200)
            self.assertEqual(body["dependencies"]["db"]["status"],
                             "disabled")


if __name__ == "__main__":
    unittest.main()
