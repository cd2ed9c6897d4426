"""Suppression files travel between valgrind and memlens on real programs.

For each command, valgrind and memlens both run with --leak-check=full
--show-leak-kinds=all --gen-suppressions=all; then memlens runs with
valgrind's generated file and valgrind with memlens's, and each must leave
no block of any kind unsuppressed: the same stacks, named the same way
(public names, "(below main)", valgrind's allocator frames).  Hash seeds are
fixed so that perl and python allocate the same way in every run.  Skipped
without valgrind.
"""

import os
import re
import tempfile
import unittest

import mlharness as h

COMMANDS = {
    "sort": ["sort", "/etc/passwd"],
    "perl": ["perl", "-e", "1"],
    "python3": ["/usr/bin/python3", "-c", "pass"],
}
OPTIONS = ["--leak-check=full", "--show-leak-kinds=all"]
ENV = dict(os.environ, PERL_HASH_SEED="0", PERL_PERTURB_KEYS="0", PYTHONHASHSEED="0")
SUMMARY = re.compile(r"(definitely lost|indirectly lost|possibly lost|still reachable): "
                     r"([\d,]+) bytes in ([\d,]+) blocks")


def suppressions_of(log):
    """The generated entries in a log: every line not prefixed by ==PID==."""
    return "".join(l for l in log.splitlines(True) if not l.startswith("=="))


def unsuppressed_blocks(log):
    return sum(int(m.group(3).replace(",", "")) for m in SUMMARY.finditer(log))


def run(tool, cmd, extra, tmp, name):
    log = os.path.join(tmp, name + ".log")
    argv = ([h.memlens_path()] if tool == "memlens" else ["valgrind"]) \
        + OPTIONS + extra + ["--log-file=" + log, "--"] + cmd
    h._run(argv, env=ENV)
    with open(log) as f:
        return f.read()


class RoundTrip(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        h.skip_without_valgrind()
        h.require_memlens()

    def check(self, name, extra=()):
        cmd = COMMANDS[name]
        with tempfile.TemporaryDirectory(prefix="roundtrip.") as tmp:
            gen = {}
            for tool in ("valgrind", "memlens"):
                log = run(tool, cmd, ["--gen-suppressions=all"] + list(extra), tmp, tool + ".gen")
                gen[tool] = os.path.join(tmp, tool + ".supp")
                with open(gen[tool], "w") as f:
                    f.write(suppressions_of(log))
            for tool, other in (("memlens", "valgrind"), ("valgrind", "memlens")):
                with self.subTest(program=name, tool=tool, suppressions=other):
                    log = run(tool, cmd, ["--suppressions=" + gen[other]] + list(extra), tmp,
                              tool + ".use")
                    self.assertRegex(log, "LEAK SUMMARY|All heap blocks were freed")
                    self.assertEqual(unsuppressed_blocks(log), 0, log[-3000:])

    def test_sort(self):
        self.check("sort")

    def test_sort_without_libc_freeres(self):
        # glibc's locale and message-catalog blocks stay: stacks through
        # setlocale, textdomain, bindtextdomain, strdup, realloc.
        self.check("sort", ["--run-libc-freeres=no"])

    def test_perl(self):
        self.check("perl")

    def test_python3(self):
        self.check("python3")


if __name__ == "__main__":
    unittest.main()
