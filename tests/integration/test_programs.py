"""Programs memlens cannot watch as it would like: each gets a true sentence.

32-bit programs (samples/tiny32.S), an empty program name, a bad -p value,
a second tracer (strace) under memlens, a set-user-ID program
(samples/euid.c). Every run is bounded by a timeout the test checks was not hit.
"""

import os
import shutil
import subprocess
import tempfile
import unittest

import mlharness as h

LIMIT = 60


def memlens(args, **kw):
    return h.run_bounded([h.memlens_path()] + list(args), LIMIT, **kw)


class Refused(unittest.TestCase):

    def test_32bit_program(self):
        prog = h.sample_path("tiny32")
        if not os.path.exists(prog):
            self.skipTest("no 32-bit assembler: samples/tiny32 was not built")
        self.assertEqual(h.run_bounded([prog], LIMIT)[0], 0)      # it runs natively
        status, _, err = memlens(["-q", prog])
        self.assertEqual(status, 125, err)
        self.assertIn("memlens: error: %s: 32-bit programs are not supported" % prog, err)

    def test_empty_program_name_is_not_found(self):
        status, _, err = memlens([""])
        self.assertEqual(status, 127, err)                   # as `sh -c '""'`
        self.assertEqual(subprocess.run(["sh", "-c", '""'], stderr=subprocess.DEVNULL).returncode, 127)
        self.assertIn("program not found", err)

    def test_bad_pid_names_the_option(self):
        for args in (["-p", "abc"], ["--pid", "abc"], ["--pid=abc"]):
            with self.subTest(args=args):
                status, _, err = memlens(args)
                self.assertEqual(status, 125, err)
                self.assertIn("bad value 'abc' for option '%s" % args[0].split("=")[0], err)


class SecondTracer(unittest.TestCase):

    def test_strace_under_memlens_is_told_why(self):
        if not shutil.which("strace"):
            self.skipTest("strace is not installed (./quickstart.sh check installs it)")
        status, _, err = memlens(["-q", "--", "strace", "-o", "/dev/null", "/bin/true"])
        self.assertNotEqual(status, 0)                   # strace cannot trace its child
        self.assertIn("tries to trace a process with ptrace, which fails: a process has one "
                      "tracer, and memlens traces every process it runs", err)
        self.assertEqual(err.count("tries to trace a process"), 1, err)


@unittest.skipUnless(os.geteuid() == 0, "needs root to make set-user-ID copies")
class SetUserId(unittest.TestCase):
    """A set-user-ID copy of samples/euid owned by another user than the caller."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="mlsetuid.")
        os.chmod(self.tmp, 0o755)
        self.prog = os.path.join(self.tmp, "euid")
        shutil.copy(h.sample_path("euid"), self.prog)

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def install(self, owner):
        os.chown(self.prog, owner, owner)
        os.chmod(self.prog, 0o4755)
        native = h.run_bounded(self.as_nobody([self.prog]) if owner == 0 else [self.prog], LIMIT)[1]
        if int(native) != owner:
            self.skipTest("set-user-ID is not honoured here (nosuid mount)")

    @staticmethod
    def as_nobody(cmd):
        return list(h.AS_NOBODY) + cmd

    def test_caller_without_privileges_is_told_they_are_dropped(self):
        self.install(0)                  # set-user-ID root, run by nobody
        status, out, err = h.run_bounded(self.as_nobody([h.memlens_for_nobody(), "-q", self.prog]),
                                         LIMIT)
        self.assertEqual(status, 0, err)
        self.assertEqual(int(out), 65534)                # ptrace dropped the privilege
        self.assertIn("which is set-user-ID root: under ptrace (memlens, as any debugger) the "
                      "kernel runs it with your privileges", err)
        self.assertIn("16 bytes in 1 blocks are definitely lost", err)

    def test_root_caller_is_told_the_loader_ignores_the_shim(self):
        self.install(65534)              # set-user-ID nobody, run by root
        status, out, err = memlens(["-q", self.prog])
        self.assertEqual(status, 0, err)
        self.assertEqual(int(out), 65534)                # root's tracer keeps it
        self.assertIn("which is set-user-ID nobody: it keeps those privileges", err)
        self.assertIn("ignores LD_PRELOAD", err)


if __name__ == "__main__":
    unittest.main()
