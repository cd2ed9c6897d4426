"""valgrind's command line under memlens: every option accepted, the
valgrind-only ones with one warning, --log-file patterns, the text report's
valgrind lines (banner first, ERROR SUMMARY last) counted as memcheck counts.

The figures come from the samples' code: samples/leaky (leaky.c) leaks in 11
loss records: 5 definitely lost (leak_definite, leak_calloc, leak_realloc,
leak_memalign, leak_owner), 2 indirectly lost (the owner's two children),
1 possibly lost (keep_interior) and 3 still reachable (keep_global,
keep_in_static, keep_list); samples/forkexec (forkexec.c) forks twice, the
second child execs samples/leaky.
"""

import os
import re
import subprocess
import tempfile
import unittest

import mlharness as h

# (option, value) pairs that each must be accepted alone on /bin/true.
ACCEPTED = [
    "--tool=memcheck", "-q", "-v", "--verbose", "--quiet",
    "--leak-check=no", "--leak-check=summary", "--leak-check=yes", "--leak-check=full",
    "--show-leak-kinds=all", "--show-leak-kinds=definite,indirect", "--show-leak-kinds=none",
    "--errors-for-leak-kinds=all", "--errors-for-leak-kinds=definite",
    "--show-reachable=yes", "--show-reachable=no", "--show-possibly-lost=no",
    "--leak-check-heuristics=none", "--leak-check-heuristics=stdstring,length64",
    "--error-exitcode=3", "--default-suppressions=no", "--default-suppressions=yes",
    "--gen-suppressions=no", "--gen-suppressions=all", "-s", "--show-error-list=yes",
    "--num-callers=50", "--num-callers=500", "--trace-children=yes", "--trace-children=no",
    "--trace-children-skip=*/sh,*/env", "--trace-children-skip-by-arg=*x*",
    "--child-silent-after-fork=yes", "--run-libc-freeres=no", "--run-cxx-freeres=no",
    "--show-below-main=yes", "--demangle=no", "--track-fds=yes", "--track-fds=all",
    "--log-fd=2", "--alloc-fn=xmalloc", "--alloc-fn=xcalloc",
]

# valgrind 3.19 core and memcheck options memlens accepts without effect.
IGNORED = ["--track-origins=yes", "--malloc-fill=0xAB", "--free-fill=0xCD", "--freelist-vol=1000",
           "--keep-stacktraces=alloc", "--vgdb=no", "--smc-check=all", "--read-var-info=yes",
           "--max-stackframe=4000000", "--main-stacksize=8388608", "--fair-sched=yes",
           "--time-stamp=yes", "--sim-hints=lax-ioctls", "--undef-value-errors=no",
           "--partial-loads-ok=yes", "--expensive-definedness-checks=yes",
           "--ignore-ranges=0x1-0x2", "--redzone-size=32", "--max-threads=1000",
           "--fullpath-after=", "--extra-debuginfo-path=/tmp", "--leak-resolution=high",
           "--error-limit=no", "--trace-malloc=yes", "--vex-iropt-level=1", "--stats=yes"]


def memlens(args, **kw):
    p = subprocess.run([h.memlens_path()] + list(args), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=h.TIMEOUT, **kw)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def error_summary(text):
    """The figures of the last ERROR SUMMARY line of a report, valgrind's or memlens's."""
    found = re.findall(r"^==\d+== ERROR SUMMARY: ([\d,]+) errors from ([\d,]+) contexts "
                       r"\(suppressed: ([\d,]+) from ([\d,]+)\)$", text, re.M)
    return tuple(int(x.replace(",", "")) for x in found[-1]) if found else None


class Accepted(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        h.require_memlens()

    def test_each_option(self):
        for opt in ACCEPTED:
            with self.subTest(option=opt):
                status, _, err = memlens([opt, "/bin/true"])
                self.assertEqual(status, 0, err)
                self.assertNotIn("memlens: error", err)
                self.assertNotIn("memlens: warning", err)

    def test_xml_needs_a_destination(self):
        status, _, err = memlens(["--xml=yes", "/bin/true"])
        self.assertEqual(status, 125)
        with tempfile.TemporaryDirectory() as tmp:
            status, _, err = memlens(["--xml=yes", "--xml-file=" + os.path.join(tmp, "x.%p.xml"),
                                      "/bin/true"])
            self.assertEqual(status, 0, err)

    def test_ctest_line(self):
        # CTest's default for a valgrind-style checker (cmCTestMemCheckHandler)
        status, _, err = memlens(["-q", "--tool=memcheck", "--leak-check=yes", "--show-reachable=yes",
                                  "--num-callers=50", h.require_sample("leaky")])
        self.assertEqual(status, 0, err)
        self.assertNotIn("memlens:", err)
        # --show-reachable=yes shows all 11 records; CTest's regexes find them
        mlk = re.findall(r"== .*[0-9,]+ (?:\([0-9,]+ direct, [0-9,]+ indirect\) )?bytes in [0-9,]+ "
                         r"blocks are definitely lost in loss record [0-9,]+ of [0-9,]+", err)
        mpk = re.findall(r"== .*[0-9,]+ bytes in [0-9,]+ blocks are (?:possibly lost|still reachable) "
                         r"in loss record [0-9,]+ of [0-9,]+", err)
        self.assertEqual(len(mlk), 5)
        self.assertEqual(len(mpk), 4)           # 1 possible + 3 reachable
        self.assertTrue(all(re.match(r"^==[0-9][0-9]*==", l) for l in err.splitlines()), err)

    def test_other_tool_refused(self):
        status, _, err = memlens(["--tool=massif", "/bin/true"])
        self.assertEqual(status, 125)
        self.assertIn("memlens: error: --tool=massif", err)

    def test_unknown_option_refused(self):
        status, _, err = memlens(["--no-such-option=1", "/bin/true"])
        self.assertEqual(status, 125)
        self.assertIn("unknown or incomplete option '--no-such-option=1'", err)

    def test_valgrind_only_options_warn_once_each(self):
        args = IGNORED + ["--track-origins=no", "--malloc-fill=0"]   # two given twice
        status, _, err = memlens(args + ["/bin/true"])
        self.assertEqual(status, 0, err)
        warnings = [l for l in err.splitlines() if l.startswith("memlens: warning:")]
        self.assertEqual(len(warnings), len(IGNORED))
        for opt in IGNORED:
            with self.subTest(option=opt):
                name = opt.split("=")[0]
                self.assertIn("memlens: warning: %s is not supported; ignored" % name, warnings)


class LogFile(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        h.require_memlens()

    def files(self, pattern, options=(), env=None):
        with tempfile.TemporaryDirectory() as tmp:
            status, _, err = memlens(["--log-file=" + os.path.join(tmp, pattern)] + list(options)
                                     + [h.require_sample("forkexec")], env=env)
            self.assertEqual(status, 0, err)
            out = {}
            for name in os.listdir(tmp):
                with open(os.path.join(tmp, name)) as f:
                    out[name] = f.read()
            return out

    def test_pid_gives_one_file_per_process(self):
        # forkexec: the parent, its forked child, and the child that execs leaky
        # (untraced by default: its file holds the banner only, as valgrind's)
        for trace in ("no", "yes"):
            with self.subTest(trace_children=trace):
                files = self.files("ml.%p.log", ["--trace-children=" + trace])
                self.assertEqual(len(files), 3, sorted(files))
                for name, text in files.items():
                    pid = re.fullmatch(r"ml\.(\d+)\.log", name).group(1)
                    lines = text.splitlines()
                    self.assertTrue(all(l.startswith("==%s== " % pid) or l == "==%s==" % pid
                                        for l in lines), name)
                    self.assertIn("Parent PID: ", text)
                summaries = sorted(error_summary(t) or (-1,) for t in files.values())
                # parent: 2 definite records; forked child: 2; leaky: 6 (5 definite, 1 possible)
                want = [(2, 2, 0, 0), (2, 2, 0, 0), (6, 6, 0, 0) if trace == "yes" else (-1,)]
                self.assertEqual(summaries, sorted(want))

    def test_sequence_number(self):
        files = self.files("ml.%n.log")
        self.assertEqual(sorted(files), ["ml.1.log", "ml.2.log", "ml.3.log"])

    def test_environment_variable_and_percent(self):
        env = dict(os.environ, MLTEST_RANK="r7")
        files = self.files("ml.%q{MLTEST_RANK}.%%.log", env=env)
        self.assertEqual(sorted(files), ["ml.r7.%.log"])
        # without %p or %n every process writes into the one file
        self.assertEqual(len(re.findall(r"ERROR SUMMARY", files["ml.r7.%.log"])), 2)

    def test_bad_patterns(self):
        for pattern, why in (("x.%z", "expected 'p', 'n', 'q' or '%' after '%'"),
                             ("x.%q{ML_UNSET_VARIABLE}", "'ML_UNSET_VARIABLE' is not set"),
                             ("x.%q{HOME", "missing '}'")):
            with self.subTest(pattern=pattern):
                status, _, err = memlens(["--log-file=" + pattern, "/bin/true"])
                self.assertEqual(status, 125)
                self.assertIn(why, err)

    def test_unwritable_directory_fails_before_the_run(self):
        with tempfile.TemporaryDirectory() as tmp:
            marker = os.path.join(tmp, "ran")
            status, _, err = memlens(["--log-file=/nonexistent/dir/ml.%p.log",
                                      "/bin/sh", "-c", "touch " + marker])
            self.assertEqual(status, 125)
            self.assertIn("cannot write /nonexistent/dir/ml.%p.log: No such file or directory", err)
            self.assertFalse(os.path.exists(marker))

    def test_log_fd(self):
        r, w = os.pipe()
        p = subprocess.Popen([h.memlens_path(), "--log-fd=%d" % w, h.require_sample("leaky")],
                             stderr=subprocess.PIPE, pass_fds=(w,))
        os.close(w)
        with os.fdopen(r) as f:
            text = f.read()
        _, err = p.communicate(timeout=h.TIMEOUT)
        self.assertEqual(p.returncode, 0)
        self.assertIn("LEAK SUMMARY:", text)
        self.assertNotIn("LEAK SUMMARY:", err.decode())
        self.assertEqual(memlens(["--log-fd=97", "/bin/true"])[0], 125)


class TextReport(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        h.require_memlens()

    def test_banner_before_the_program_summary_after(self):
        status, _, err = memlens(["sh", "-c", "echo program-output >&2"])
        self.assertEqual(status, 0, err)
        lines = err.splitlines()
        out = lines.index("program-output")
        self.assertRegex(lines[0], r"^==\d+== memlens, a memory leak and fragmentation detector$")
        self.assertTrue(any(re.match(r"^==\d+== Command: sh -c echo\\ program-output\\ >&2$", l)
                            for l in lines[:out]))
        self.assertNotIn("Parent PID", err)          # only when the text goes to a file
        self.assertTrue(any("HEAP SUMMARY:" in l for l in lines[out:]))
        self.assertRegex(lines[-1], r"^==\d+== ERROR SUMMARY: ")

    def test_xml_replaces_the_text(self):
        # valgrind --xml=yes writes no text report: IDEs read the XML and show
        # the program's own stderr
        with tempfile.TemporaryDirectory() as tmp:
            status, _, err = memlens(["--xml=yes", "--xml-file=" + os.path.join(tmp, "x.xml"),
                                      h.require_sample("leaky")])
            self.assertEqual(status, 0, err)
            self.assertEqual(err, "")              # leaky.c writes nothing to stderr
            with open(os.path.join(tmp, "x.xml")) as f:
                self.assertIn("<kind>Leak_DefinitelyLost</kind>", f.read())

    def test_quiet_prints_only_the_records(self):
        status, _, err = memlens(["-q", h.require_sample("leaky")])
        self.assertEqual(status, 0)
        titles = re.findall(r"are (definitely|possibly) lost in loss record", err)
        self.assertEqual(len(titles), 6)
        for absent in ("HEAP SUMMARY", "LEAK SUMMARY", "ERROR SUMMARY", "Command:"):
            self.assertNotIn(absent, err)

    def test_error_exitcode_only_with_a_full_check(self):
        leaky = h.require_sample("leaky")
        self.assertEqual(memlens(["--error-exitcode=7", leaky])[0], 7)
        self.assertEqual(memlens(["--error-exitcode=7", "--leak-check=yes", leaky])[0], 7)
        for check in ("summary", "no"):
            with self.subTest(leak_check=check):
                status, _, err = memlens(["--error-exitcode=7", "--leak-check=" + check, leaky])
                self.assertEqual(status, 0)
                self.assertEqual(error_summary(err), (0, 0, 0, 0))


class Children(unittest.TestCase):
    """forkexec.c: the parent, a forked child, a forked child that execs leaky."""

    @classmethod
    def setUpClass(cls):
        h.require_memlens()

    def pids(self, options):
        run = h.run_memlens("forkexec", options=options)
        self.assertEqual(run.status, 0, run.stderr[-2000:])
        return [p["exe"].rsplit("/", 1)[-1] for p in run.json["processes"]], run.stderr

    def test_skip_patterns(self):
        self.assertEqual(self.pids(["--trace-children=yes"])[0], ["forkexec", "forkexec", "leaky"])
        self.assertEqual(self.pids(["--trace-children=yes", "--trace-children-skip=/nope,*/leak?"])[0],
                         ["forkexec", "forkexec"])
        # leaky runs with no argument: no argument pattern can match it
        self.assertEqual(self.pids(["--trace-children=yes", "--trace-children-skip-by-arg=*"])[0],
                         ["forkexec", "forkexec", "leaky"])

    def test_child_silent_after_fork(self):
        exes, err = self.pids(["--child-silent-after-fork=yes"])
        self.assertEqual(exes, ["forkexec", "forkexec"])    # still in the JSON
        self.assertEqual(len(re.findall(r"ERROR SUMMARY", err)), 1)   # the parent's text only
        exes, err = self.pids(["--child-silent-after-fork=yes", "--trace-children=yes"])
        self.assertEqual(len(re.findall(r"ERROR SUMMARY", err)), 2)   # and leaky's, after its exec


SUPPRESSIONS = """{
   leak-definite
   Memcheck:Leak
   match-leak-kinds: definite
   fun:malloc
   fun:leak_definite
}
{
   the-list
   Memcheck:Leak
   match-leak-kinds: reachable
   ...
   fun:keep_list
}
{
   the-children
   Memcheck:Leak
   match-leak-kinds: indirect
   ...
   fun:make_child
}
"""


class ErrorSummaryAsValgrind(unittest.TestCase):
    """The ERROR SUMMARY of memlens and of valgrind on the same program."""

    @classmethod
    def setUpClass(cls):
        h.require_memlens()
        h.skip_without_valgrind()
        cls.tmp = tempfile.TemporaryDirectory()
        cls.supp = os.path.join(cls.tmp.name, "leaky.supp")
        with open(cls.supp, "w") as f:
            f.write(SUPPRESSIONS)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def both(self, options, want):
        prog = h.require_sample("leaky")
        ml = memlens(["--leak-check=full"] + options + [prog])
        vg = subprocess.run(["valgrind", "--leak-check=full"] + options + [prog],
                            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, timeout=h.TIMEOUT)
        self.assertEqual(error_summary(vg.stderr.decode()), want, "valgrind")
        self.assertEqual(error_summary(ml[2]), want, "memlens")

    def test_default_kinds(self):
        # 5 definite + 1 possible records
        self.both([], (6, 6, 0, 0))

    def test_all_kinds(self):
        self.both(["--errors-for-leak-kinds=all"], (11, 11, 0, 0))

    def test_definite_only(self):
        self.both(["--errors-for-leak-kinds=definite", "--show-leak-kinds=none"], (5, 5, 0, 0))

    def test_suppressed(self):
        # leak_definite's record is suppressed: 4 definite + 1 possible remain
        self.both(["--suppressions=" + self.supp], (5, 5, 1, 1))
        # and of all kinds: the list's record and the two children's records as well
        self.both(["--suppressions=" + self.supp, "--errors-for-leak-kinds=all"], (7, 7, 4, 4))

    def test_show_error_list(self):
        """-s: valgrind's used_suppression lines (the entry's count, name,
        file:line of its name, bytes and blocks), then the ERROR SUMMARY twice."""
        prog = h.require_sample("leaky")
        args = ["--leak-check=full", "-s", "--suppressions=" + self.supp, prog]
        ml = memlens(args)[2]
        vg = subprocess.run(["valgrind"] + args, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            timeout=h.TIMEOUT).stderr.decode()
        used = lambda text: sorted(re.findall(r"^--\d+-- (used_suppression: .*)$", text, re.M))
        self.assertEqual(len(used(vg)), 3)
        self.assertEqual(used(ml), used(vg))
        for text in (ml, vg):
            self.assertEqual(len(re.findall(r"ERROR SUMMARY: 5 errors from 5 contexts "
                                            r"\(suppressed: 1 from 1\)", text)), 2)
            self.assertNotIn("rerun with: -s", text)

    def test_summary_check_finds_no_errors(self):
        self.both(["--leak-check=summary"], (0, 0, 0, 0))


def valgrind_lines(text, banner):
    """The lines of a report that memcheck has too: without the pid prefix,
    the banner's first lines (the tool's name), the stack frames (addresses
    and allocator objects differ) and memlens's own sections."""
    out, skip = [], False
    for l in text.splitlines()[banner:]:
        l = re.sub(r"^==\d+== ?", "", l)
        if re.match(r"^   (at|by) ", l):
            continue
        if l in ("HEAP FRAGMENTATION:", "FILE DESCRIPTORS:"):
            skip = True
        if l.startswith("For lists of detected") or l.startswith("ERROR SUMMARY"):
            skip = False
        if not skip:
            out.append(l)
    return out


class LineForLine(unittest.TestCase):
    """The text report is memcheck's, line for line, where memcheck has the line."""

    @classmethod
    def setUpClass(cls):
        h.require_memlens()
        h.skip_without_valgrind()

    def same(self, sample, options):
        prog = h.require_sample(sample)
        ml = memlens(["--leak-check=full"] + options + [prog])[2]
        vg = subprocess.run(["valgrind", "--leak-check=full"] + options + [prog],
                            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            timeout=h.TIMEOUT).stderr.decode()
        quiet = "-q" in options
        self.assertEqual(valgrind_lines(ml, 0 if quiet else 2), valgrind_lines(vg, 0 if quiet else 3))

    def test_leaky(self):
        for options in ([], ["--show-leak-kinds=all"], ["--leak-check=summary"], ["--leak-check=no"],
                        ["-q"], ["--errors-for-leak-kinds=all"]):
            with self.subTest(options=options):
                self.same("leaky", options)

    def test_heuristics(self):
        # cxxleaks.cpp: keep_widgets' new Widget[9] (224 bytes, a count word
        # first) is reachable only through memcheck's newarray heuristic
        self.same("cxxleaks", [])


if __name__ == "__main__":
    unittest.main()
