"""test_corpus.py: every fuzz target over its seed corpus (and any crash reproducers), built without libFuzzer.

tests/fuzz/fuzz_NAME (main.c + the target + the service library) is run
over tests/fuzz/corpus/NAME/; it fails on a crash, a sanitizer report or a
broken invariant (fuzz_assert). tests/fuzz/run fuzzes the same targets with
libFuzzer.
"""
import os
import subprocess
import sys
import unittest

TOP_SRCDIR = os.environ.get("top_srcdir", os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", ".."))
TOP_BUILDDIR = os.environ.get("top_builddir", TOP_SRCDIR)
CORPUS = os.path.join(TOP_SRCDIR, "tests", "fuzz", "corpus")
TARGETS = ("query", "schema", "mcp", "classify", "text", "serve",
           "jsonbody", "oauth")


class CorpusTest(unittest.TestCase):
    def test_corpus_directories_match_targets(self):
        self.assertEqual(sorted(os.listdir(CORPUS)), sorted(TARGETS))

    def run_target(self, name):
        binary = os.path.join(TOP_BUILDDIR, "tests", "fuzz", "fuzz_" + name)
        corpus = os.path.join(CORPUS, name)
        seeds = [f for f in os.listdir(corpus) if not f.startswith(".")]
        p = subprocess.run([binary, corpus], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr[-4000:])
        self.assertNotIn("runtime error:", p.stderr)
        self.assertIn("%d inputs" % len(seeds), p.stdout)


def make_test(name):
    def test(self):
        self.run_target(name)
    test.__name__ = "test_%s_corpus_runs_clean" % name
    return test


for _name in TARGETS:
    setattr(CorpusTest, "test_%s_corpus_runs_clean" % _name,
            make_test(_name))

if __name__ == "__main__":
    unittest.main(verbosity=2 if "-v" in sys.argv else 1)
