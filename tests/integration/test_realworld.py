"""Programs nobody wrote for these tests: Debian's own binaries.

memlens and valgrind memcheck (--run-libc-freeres=no) run the same command
line on the same input; their LEAK SUMMARY lines must be identical.  These
cover real C programs, a C++ one and multithreaded ones (sort --parallel,
xz -T2: each thread's glibc DTV is "possibly lost" in both).
"""

import os
import re
import shutil
import tempfile
import unittest

import mlharness as h

COMMANDS = [
    ["ls", "-la", "/usr"],
    ["sort", "{input}"],
    ["sed", "s/1/x/", "{input}"],
    ["grep", "-c", "7", "{input}"],
    ["awk", "{n += $1} END {print n}", "{input}"],
    ["date"],
    ["tar", "cf", "/dev/null", "/etc/hostname"],
    ["find", "/usr/include/linux", "-name", "*.h"],
    ["c++filt", "_ZN3foo3barEv"],
    ["sort", "--parallel=4", "-S", "1M", "{input}"],
    ["xz", "-T2", "-c", "{input}"],
]

LINE = re.compile(r"(definitely lost|indirectly lost|possibly lost|still reachable): .*")


def summary_lines(text):
    return [m.group(0) for m in LINE.finditer(text)] or \
        (["all freed"] if "All heap blocks were freed" in text else [])


class RealPrograms(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        h.skip_without_valgrind()
        h.require_memlens()
        cls.tmp = tempfile.mkdtemp(prefix="mlreal.")
        cls.input = os.path.join(cls.tmp, "input.txt")
        with open(cls.input, "w") as f:
            for i in range(20000):
                f.write("%d\n" % ((i * 7919) % 20011))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_same_leak_summary_as_valgrind(self):
        ran = 0
        for cmd in COMMANDS:
            path = shutil.which(cmd[0])
            if not path:
                continue
            argv = [path] + [a.replace("{input}", self.input) for a in cmd[1:]]
            with self.subTest(command=" ".join(cmd)):
                p = h._run([h.memlens_path()] + list(h.VALGRIND_FLAGS) + ["--"] + argv)
                v = h._run(["valgrind"] + list(h.VALGRIND_FLAGS) + argv)
                ours = summary_lines(p.stderr.decode("utf-8", "replace"))
                theirs = summary_lines(v.stderr.decode("utf-8", "replace"))
                self.assertTrue(theirs, "valgrind printed no summary for %s" % cmd)
                self.assertEqual(ours, theirs)
                ran += 1
        self.assertGreaterEqual(ran, 8, "too few of the reference programs are installed")


if __name__ == "__main__":
    unittest.main()
