"""Frames named as valgrind names them: stacks end at main or with one
"(below main)" frame unless --show-below-main=yes, C++ functions are
demangled unless --demangle=no, glibc functions go by their public names.
"""

import os
import tempfile
import unittest

import mlharness as h


def stacks(doc):
    return [[f.get("function") for f in r["stack"]]
            for r in doc["processes"][0]["leaks"]["records"]]


class Names(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        h.require_memlens()

    def test_stacks_end_at_main(self):
        # cxxleaks.cpp allocates every record below main.
        run = h.run_memlens("cxxleaks", (), ["--show-leak-kinds=all"])
        for st in stacks(run.json):
            self.assertEqual(st[-1], "main", st)

    def test_show_below_main(self):
        run = h.run_memlens("cxxleaks", (), ["--show-leak-kinds=all", "--show-below-main=yes",
                                                 "--num-callers=50"])
        for st in stacks(run.json):
            self.assertIn("main", st)
            self.assertIn("__libc_start_call_main", st[st.index("main") + 1:], st)

    def test_below_main_frame_without_symbols(self):
        # sort is stripped: main has no name, so the stack ends with the
        # frame that calls it, named "(below main)", and nothing after it.
        run = h.run_memlens("/usr/bin/sort", ("/etc/passwd",), ["--show-leak-kinds=all"])
        records = stacks(run.json)
        self.assertTrue(records)
        for st in records:
            self.assertEqual(st[-1], "(below main)", st)
            self.assertEqual(st.count("(below main)"), 1, st)

    def test_public_names(self):
        # sort calls setlocale(LC_ALL, ""): the locale blocks glibc keeps are
        # allocated under setlocale, not an internal alias (__GI_setlocale).
        run = h.run_memlens("/usr/bin/sort", ("/etc/passwd",),
                            ["--show-leak-kinds=all", "--run-libc-freeres=no"])
        names = {f for st in stacks(run.json) for f in st if f}
        self.assertIn("setlocale", names)
        self.assertFalse([n for n in names if n.startswith("__GI_")], names)

    def test_alias_names_still_match(self):
        # Files written when frames went by glibc's internal aliases keep
        # working: fun:__GI_setlocale matches the frame shown as setlocale.
        with tempfile.TemporaryDirectory() as tmp:
            supp = os.path.join(tmp, "old.supp")
            with open(supp, "w") as f:
                f.write("{\n   old-alias\n   Memcheck:Leak\n   match-leak-kinds: reachable\n"
                        "   fun:malloc\n   ...\n   fun:__GI_setlocale\n}\n")
            run = h.run_memlens("/usr/bin/sort", ("/etc/passwd",),
                                ["--show-leak-kinds=all", "--run-libc-freeres=no",
                                 "--suppressions=" + supp])
        self.assertGreater(run.json["processes"][0]["leaks"]["summary"]["suppressed"]["blocks"], 0)

    def test_demangle_no(self):
        # cxxleaks.cpp: leak_plain_new is a C++ function (_Z13leak_plain_newv).
        on = {f for st in stacks(h.run_memlens("cxxleaks").json) for f in st if f}
        off = {f for st in stacks(h.run_memlens("cxxleaks", (), ["--demangle=no"]).json)
               for f in st if f}
        self.assertIn("leak_plain_new()", on)
        self.assertIn("_Z14leak_plain_newv", off)


if __name__ == "__main__":
    unittest.main()
