"""Clean programs are clean under --error-exitcode exactly where valgrind's
defaults say so, because glibc's and libstdc++'s freeres run at exit.

Each sample states its answer in its header: joinedthread (one joined
std::thread), dlclean (a failed dlopen, then dlerror()), iostream (std::cout
and std::cerr).  Both tools run each with --leak-check=full
--error-exitcode=7 and must agree on the exit status: 0 for the clean run,
7 when the sample drops a block of its own (argument "leak").  Skipped
without valgrind, except the checks that need memlens only.
"""

import unittest

import mlharness as h

CLEAN = ("joinedthread", "dlclean", "iostream")
OPTIONS = ("--leak-check=full", "--error-exitcode=7")


def valgrind_status(prog, args=(), options=()):
    p = h._run(["valgrind", "-q"] + list(OPTIONS) + list(options)
               + [h.require_sample(prog)] + list(args))
    return p.returncode


def memlens_status(prog, args=(), options=()):
    return h.run_memlens(prog, args, list(OPTIONS) + list(options)).status


class SameExitStatusAsValgrind(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        h.skip_without_valgrind()
        h.require_memlens()

    def check(self, prog, args, options, want):
        for tool, status in (("valgrind", valgrind_status),
                             ("memlens", memlens_status)):
            with self.subTest(sample=prog, args=args, tool=tool):
                self.assertEqual(status(prog, args, options), want)

    def test_clean_programs_pass(self):
        for prog in CLEAN:
            self.check(prog, (), (), 0)

    def test_own_leak_still_fails(self):
        for prog in CLEAN:
            self.check(prog, ("leak",), (), 7)

    def test_without_libc_freeres_the_joined_thread_tls_counts(self):
        # joinedthread.cpp: the cached stack's DTV is possibly lost then.
        self.check("joinedthread", (), ("--run-libc-freeres=no",), 7)


class FreeresWithLiveThreads(unittest.TestCase):

    def test_threads_alive_at_exit(self):
        # exitthreads.c: four threads run when main returns; one DTV each
        # stays, possibly lost; the freeres neither waits nor times out.
        run = h.run_memlens("exitthreads", (), ["--show-leak-kinds=all"])
        self.assertEqual(run.status, 0, run.stderr[-2000:])
        self.assertNotIn("freeres", run.stderr)
        summary = h.leak_summary(run.json)
        self.assertEqual(summary["possible"]["blocks"], 4)
        self.assertEqual(summary["definite"]["blocks"], 0)
        self.assertEqual(summary["indirect"]["blocks"], 0)

    def test_freeres_frees_the_exception_pool(self):
        # iostream.cpp: libstdc++'s emergency pool is its only block left
        # at exit; __gnu_cxx::__freeres frees it.
        on = h.leak_summary(h.run_memlens("iostream", (), ["--show-leak-kinds=all"]).json)
        off = h.leak_summary(h.run_memlens(
            "iostream", (), ["--show-leak-kinds=all", "--run-cxx-freeres=no"]).json)
        self.assertEqual(on["reachable"]["blocks"], 0)
        self.assertEqual(off["reachable"]["blocks"], 1)


if __name__ == "__main__":
    unittest.main()
