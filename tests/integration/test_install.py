"""test_install.py: `make install DESTDIR=...` of the build tree puts a
runnable package in place: the binary (answering --help and --version as GNU
tools do), the sample config, the systemd unit (accepted by
`systemd-analyze verify`), its sysusers.d user and the manual page (rendered
by `man -l`, naming every configuration key with its default)."""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import TOP_BUILDDIR, watchdog  # noqa

watchdog(110)


def make_var(name):
    """A variable of the build tree's Makefile (prefix, sbindir ...)."""
    r = subprocess.run(["make", "-s", "-C", TOP_BUILDDIR, "--no-print-directory",
                        "-f", "Makefile", "-f", "-", "print-var"],
                       input="print-var:\n\t@echo $(%s)\n" % name,
                       capture_output=True, text=True, env=clean_env())
    if r.returncode != 0:
        raise AssertionError("make: " + r.stderr)
    return r.stdout.strip()


def clean_env():
    """The environment without the outer make's jobserver and flags."""
    return {k: v for k, v in os.environ.items()
            if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES")}


class Install(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        for tool in ("systemd-analyze", "man"):
            if shutil.which(tool) is None:
                raise AssertionError("missing %s: apt-get install systemd "
                                     "man-db groff-base" % tool)
        cls.dest = tempfile.mkdtemp(prefix="agpt-install-")
        r = subprocess.run(["make", "-C", TOP_BUILDDIR, "install",
                            "DESTDIR=" + cls.dest], capture_output=True,
                           text=True, env=clean_env(), timeout=100)
        if r.returncode != 0:
            raise AssertionError("make install: " + r.stdout[-2000:] +
                                 r.stderr[-2000:])
        cls.prefix = make_var("prefix")
        cls.sbindir = make_var("sbindir")
        cls.sysconfdir = make_var("sysconfdir")
        cls.mandir = make_var("mandir")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dest, ignore_errors=True)

    def at(self, path):
        return self.dest + path

    def test_files_in_place(self):
        for path in (self.sbindir + "/anilist-gpt",
                     self.sysconfdir + "/anilist-gpt.conf",
                     self.prefix + "/lib/systemd/system/anilist-gpt.service",
                     self.prefix + "/lib/sysusers.d/anilist-gpt.conf",
                     self.mandir + "/man8/anilist-gpt.8"):
            self.assertTrue(os.path.exists(self.at(path)), path)
        with open(self.at(self.prefix + "/lib/sysusers.d/anilist-gpt.conf"))\
                as f:
            self.assertRegex(f.read(), r"(?m)^u anilist-gpt - ")

    def test_help_and_version_as_gnu_tools(self):
        binary = self.at(self.sbindir + "/anilist-gpt")
        r = subprocess.run([binary, "--help"], capture_output=True,
                           text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr, "")
        self.assertTrue(r.stdout.startswith("Usage: anilist-gpt "))
        for word in ("serve", "check-config", "migrate", "--config=FILE",
                     "--sql-dir=DIR", "--help", "--version",
                     self.sysconfdir + "/anilist-gpt.conf", "anilist-gpt(8)"):
            self.assertIn(word, r.stdout)
        for argv in (["--version"], ["-V"], ["version"]):
            r = subprocess.run([binary] + argv, capture_output=True,
                               text=True)
            self.assertEqual((r.returncode, r.stderr), (0, ""), argv)
            self.assertRegex(r.stdout, r"^anilist-gpt \d+\.\d+\.\d+\n$")
        for argv in (["--bogus"], ["frobnicate"], ["serve", "migrate"]):
            r = subprocess.run([binary] + argv, capture_output=True,
                               text=True)
            self.assertEqual(r.returncode, 2, argv)
            self.assertEqual(r.stdout, "")
            self.assertIn("Try 'anilist-gpt --help' for more information.",
                          r.stderr)

    def unit_text(self):
        with open(self.at(self.prefix +
                          "/lib/systemd/system/anilist-gpt.service")) as f:
            return f.read()

    def test_unit_runs_the_installed_binary_sandboxed(self):
        text = self.unit_text()
        conf = self.sysconfdir + "/anilist-gpt.conf"
        binary = self.sbindir + "/anilist-gpt"
        self.assertNotRegex(text, r"@[a-zA-Z_]+@")
        want = ["User=anilist-gpt", "ExecStart=%s -c %s serve" % (binary,
                                                                   conf),
                "ExecReload=/bin/kill -HUP $MAINPID", "Restart=on-failure",
                "KillMode=mixed", "RuntimeDirectory=anilist-gpt",
                "NoNewPrivileges=yes", "ProtectSystem=strict",
                "ProtectHome=yes", "PrivateTmp=yes", "PrivateDevices=yes",
                "CapabilityBoundingSet=\n", "SystemCallFilter=@system-service",
                "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
                "Documentation=man:anilist-gpt(8)",
                "WantedBy=multi-user.target"]
        for line in want:
            self.assertIn(line, text)

    def test_systemd_analyze_verify(self):
        """The installed unit, its paths moved under DESTDIR (where the
        binary and the page are), passes `systemd-analyze verify` without a
        word about it; its Documentation= page is found through MANPATH."""
        work = tempfile.mkdtemp(prefix="agpt-unit-")
        try:
            unit = os.path.join(work, "anilist-gpt.service")
            with open(unit, "w") as f:
                f.write(self.unit_text().replace(self.prefix + "/",
                                                 self.at(self.prefix + "/")))
            env = clean_env()
            env["MANPATH"] = self.at(self.mandir)
            r = subprocess.run(["systemd-analyze", "verify", unit],
                               capture_output=True, text=True, env=env,
                               timeout=60)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            mine = [l for l in (r.stdout + r.stderr).splitlines()
                    if "anilist-gpt" in l]
            self.assertEqual(mine, [])
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def test_man_page_renders_every_key_with_its_default(self):
        page = self.at(self.mandir + "/man8/anilist-gpt.8")
        env = clean_env()
        env.update({"MANWIDTH": "200", "LC_ALL": "C.UTF-8",
                    "MAN_KEEP_FORMATTING": ""})
        r = subprocess.run(["man", "--warnings", "-l", page],
                           capture_output=True, text=True, env=env,
                           timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr.strip(), "", "troff warnings")
        text = re.sub(r".\x08", "", r.stdout)
        for section in ("NAME", "SYNOPSIS", "COMMANDS", "OPTIONS",
                        "CONFIGURATION", "SIGNALS", "FILES", "EXIT STATUS"):
            self.assertRegex(text, r"(?m)^%s$" % section)
        self.assertIn(self.sysconfdir + "/anilist-gpt.conf", text)
        for word in ("SIGHUP", "SIGTERM", "--help", "--version",
                     "check-config", "migrate"):
            self.assertIn(word, text)
        # Every key of the program's own table, with its default.
        binary = self.at(self.sbindir + "/anilist-gpt")
        r = subprocess.run([binary, "-c", "/dev/null", "check-config"],
                           capture_output=True, text=True,
                           env={"PATH": os.environ["PATH"],
                                "ENVIRONMENT": "development"})
        self.assertEqual(r.returncode, 0, r.stderr)
        keys = re.findall(r"(?m)^([A-Z_]+) = (.*)$", r.stdout)
        self.assertGreater(len(keys), 50)
        for key, default in keys:
            if key == "ENVIRONMENT":
                default = "production"
            m = re.search(r"(?m)^ {7}%s(?:\n {14}| +)Default: (.*?)\."
                          r"(?:  |\n)" % key, text)
            self.assertIsNotNone(m, "%s missing from the page" % key)
            # (man justifies lines: spaces are not significant)
            self.assertEqual(" ".join(m.group(1).split()),
                             default if default else "empty", key)


if __name__ == "__main__":
    unittest.main(verbosity=2)
