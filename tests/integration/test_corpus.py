"""memlens gives memcheck's four leak kinds, blocks and bytes, on real
programs from Debian packages (tests/corpus/compare.py, whose CORPUS marks
the quick ones run here; `make compare` runs them all and prints the table).

Each program runs under valgrind memcheck and under memlens with
environments of the same names and sizes, in a directory holding only its
inputs.  Skipped without valgrind; a program that is not installed fails
(quickstart.sh check installs them).
"""

import os
import shutil
import sys
import unittest

import mlharness as h

sys.path.insert(0, os.path.join(h.SOURCE_DIR, "tests", "corpus"))
import compare  # noqa: E402


class CorpusEqualsValgrind(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        h.skip_without_valgrind()
        h.require_memlens()
        cls.corpus = compare.Corpus(h.build_dir())

    @classmethod
    def tearDownClass(cls):
        cls.corpus.close()

    def test_quick_programs(self):
        for name, prog in compare.CORPUS.items():
            if not prog.quick or name in compare.DIFFERS:
                continue
            with self.subTest(program=name):
                self.assertTrue(shutil.which(prog.argv[0]),
                                "%s is not installed (./quickstart.sh check)" % prog.argv[0])
                vg, ml = self.corpus.compare(name)
                self.assertIsNotNone(vg, "valgrind gave no LEAK SUMMARY for " + name)
                self.assertIsNotNone(ml, "memlens wrote no JSON for " + name)
                for kind in h.KINDS:
                    self.assertEqual(ml[kind], vg[kind], "%s %s: memlens %s, valgrind %s" % (
                        name, kind, h.summary_line(kind, ml[kind]),
                        h.summary_line(kind, vg[kind])))


if __name__ == "__main__":
    unittest.main()
