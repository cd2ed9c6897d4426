"""memlens gives exactly valgrind memcheck's leak answer on every sample.

Both run the same sample binary; memcheck with --leak-check=full
--show-leak-kinds=all --run-libc-freeres=no (its C++ freeres stays on, as
memlens's does).  Skipped when valgrind is not installed.
"""

import unittest

import mlharness as h


class MemlensEqualsValgrind(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        h.skip_without_valgrind()
        h.require_memlens()

    def check(self, prog):
        vg = h.run_valgrind(prog)
        run = h.run_memlens(prog)
        self.assertIsNotNone(
            run.json, "memlens wrote no JSON for %s (exit %d); stderr:\n%s"
            % (prog, run.status, run.stderr[-4000:]))
        ml = h.leak_summary(run.json)
        for kind in h.KINDS:
            with self.subTest(sample=prog, kind=kind):
                self.assertEqual(ml[kind], vg[kind],
                                 "memlens %s, valgrind %s" % (
                                     h.summary_line(kind, ml[kind]),
                                     h.summary_line(kind, vg[kind])))

    def test_leaky(self):
        self.check("leaky")

    def test_cxxleaks(self):
        self.check("cxxleaks")

    def test_threads(self):
        self.check("threads")

    def test_exitcode(self):
        self.check("exitcode")


if __name__ == "__main__":
    unittest.main()
