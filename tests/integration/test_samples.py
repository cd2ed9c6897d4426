"""Each sample's own statement (`--expect`) equals valgrind's LEAK SUMMARY.

This guards the samples themselves, without memlens: if a compiler, glibc
or libstdc++ change makes a sample leak differently from what it says, this
fails and points at the sample rather than at memlens.  Skipped when
valgrind is not installed.
"""

import unittest

import mlharness as h


class SamplesTellTheTruth(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        h.skip_without_valgrind()

    def check(self, prog):
        exp = h.expected_summary(prog)
        vg = h.run_valgrind(prog)
        for kind in h.KINDS:
            with self.subTest(sample=prog, kind=kind):
                self.assertEqual(exp[kind], vg[kind],
                                 "sample says %s, valgrind %s" % (
                                     h.summary_line(kind, exp[kind]),
                                     h.summary_line(kind, vg[kind])))
        self.assertEqual(vg["suppressed"], {"blocks": 0, "bytes": 0})

    def test_leaky(self):
        self.check("leaky")

    def test_cxxleaks(self):
        self.check("cxxleaks")

    def test_threads(self):
        self.check("threads")

    def test_exitcode(self):
        self.check("exitcode")


class ParseValgrindSummary(unittest.TestCase):
    """The LEAK SUMMARY parser itself, on text as memcheck prints it."""

    def test_commas_and_padding(self):
        log = """==12== LEAK SUMMARY:
==12==    definitely lost: 1,920 bytes in 10 blocks
==12==    indirectly lost: 0 bytes in 0 blocks
==12==      possibly lost: 160 bytes in 1 blocks
==12==    still reachable: 1,234,567 bytes in 1,002 blocks
==12==                       of which reachable via heuristic:
==12==                         newarray           : 224 bytes in 1 blocks
==12==         suppressed: 0 bytes in 0 blocks
"""
        s = h.parse_valgrind_summary(log)
        self.assertEqual(s["definite"], {"blocks": 10, "bytes": 1920})
        self.assertEqual(s["indirect"], {"blocks": 0, "bytes": 0})
        self.assertEqual(s["possible"], {"blocks": 1, "bytes": 160})
        self.assertEqual(s["reachable"], {"blocks": 1002, "bytes": 1234567})
        self.assertEqual(s["suppressed"], {"blocks": 0, "bytes": 0})

    def test_no_leaks(self):
        s = h.parse_valgrind_summary(
            "==7== All heap blocks were freed -- no leaks are possible\n")
        for kind in h.KINDS:
            self.assertEqual(s[kind], {"blocks": 0, "bytes": 0})

    def test_summary_line(self):
        self.assertEqual(h.summary_line("definite",
                                        {"blocks": 10, "bytes": 1920}),
                         "definitely lost: 1,920 bytes in 10 blocks")

    def test_function_matches(self):
        self.assertTrue(h.function_matches("leak_owner", "leak_owner"))
        self.assertTrue(h.function_matches("leak_holder()", "leak_holder"))
        self.assertTrue(h.function_matches("_Z11leak_holderv", "leak_holder"))
        self.assertFalse(h.function_matches("leak_holder2()", "leak_holder"))
        self.assertFalse(h.function_matches("_Z12leak_holder2v",
                                            "leak_holder"))
        self.assertFalse(h.function_matches(None, "leak_holder"))


if __name__ == "__main__":
    unittest.main()
