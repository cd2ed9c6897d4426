"""Suppressions in valgrind's format, end to end.

A suppression moves exactly the blocks of the records it matches from their
kind to "suppressed" (checked against what samples/leaky.c and
samples/cxxleaks.cpp say they leak); C++ entries use mangled names as
valgrind writes them; wildcards, "..." and obj: work; malformed files stop
memlens with file:line; --gen-suppressions output, fed back, suppresses
every record it was printed for, and valgrind reads the same file (and
memlens reads the files valgrind generates).
"""

import os
import re
import subprocess
import tempfile
import unittest

import mlharness as h


def write(tmp, name, text):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def entry(name, *frames, kinds=None):
    lines = ["{", "   " + name, "   Memcheck:Leak"]
    if kinds:
        lines.append("   match-leak-kinds: " + kinds)
    lines += ["   " + f for f in frames]
    return "\n".join(lines + ["}", ""])


def summary(doc):
    s = doc["processes"][0]["leaks"]["summary"]
    return {k: (s[k]["blocks"], s[k]["bytes"]) for k in list(h.KINDS) + ["suppressed"]}


def generated(text):
    """The suppression entries printed in a text report."""
    return "".join(m.group(0) + "\n" for m in re.finditer(r"(?ms)^\{\n.*?^\}$", text))


class Baseline:
    """Runs each sample once without suppressions, to compare against."""

    _runs = {}

    @classmethod
    def baseline(cls, sample):
        if sample not in cls._runs:
            run = h.run_memlens(sample)
            if run.json is None:
                raise AssertionError("no JSON for %s:\n%s" % (sample, run.stderr[-4000:]))
            cls._runs[sample] = summary(run.json)
        return cls._runs[sample]


class SuppressLeaky(unittest.TestCase, Baseline):

    @classmethod
    def setUpClass(cls):
        h.require_memlens()
        cls.expect = h.expected("leaky")
        cls.tmp = tempfile.TemporaryDirectory(prefix="mlsupp.")

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def run_with(self, *texts, options=()):
        opts = list(options)
        for i, text in enumerate(texts):
            opts.append("--suppressions=" + write(self.tmp.name, "s%d.supp" % i, text))
        run = h.run_memlens("leaky", options=opts)
        self.assertEqual(run.status, 0, "stderr:\n" + run.stderr[-4000:])
        self.assertIsNotNone(run.json)
        return run

    def assert_moved(self, run, kind, blocks, nbytes):
        """kind lost exactly (blocks, nbytes) to suppressed; nothing else moved."""
        base, got = self.baseline("leaky"), summary(run.json)
        want = dict(base)
        want[kind] = (base[kind][0] - blocks, base[kind][1] - nbytes)
        want["suppressed"] = (base["suppressed"][0] + blocks, base["suppressed"][1] + nbytes)
        self.assertEqual(got, want)

    def test_one_function(self):
        # leaky.c: leak_calloc loses calloc(5, 16), 80 bytes in 1 block.
        run = self.run_with(entry("leaky-calloc", "fun:calloc", "fun:leak_calloc", kinds="definite"))
        got = summary(run.json)
        self.assertEqual(got["definite"], (self.expect["definite"]["blocks"] - 1,
                                           self.expect["definite"]["bytes"] - 80))
        self.assertEqual(got["suppressed"], (1, 80))
        self.assert_moved(run, "definite", 1, 80)
        recs = [r for r in run.json["processes"][0]["leaks"]["records"] if r["suppressed"]]
        self.assertEqual(len(recs), 1)
        self.assertEqual((recs[0]["kind"], recs[0]["bytes"], recs[0]["suppression"]),
                         ("definite", 80, "leaky-calloc"))
        self.assertTrue(any(h.function_matches(f["function"], "leak_calloc")
                            for f in recs[0]["stack"]))

    def test_text_report_counts_suppressed(self):
        run = self.run_with(entry("leaky-calloc", "fun:calloc", "fun:leak_calloc"))
        self.assertIn(h.summary_line("suppressed", {"blocks": 1, "bytes": 80}), run.stderr)
        self.assertNotIn("80 bytes in 1 blocks are definitely lost", run.stderr)

    def test_wildcards_and_frame_wildcard(self):
        # *alloc: malloc (leak_definite 48, leak_owner 32), calloc (leak_calloc 80),
        # realloc (leak_realloc 208), not posix_memalign; "..." then main.
        run = self.run_with(entry("alloc-family", "fun:*alloc", "...", "fun:main", kinds="definite"))
        self.assert_moved(run, "definite", 4, 48 + 32 + 80 + 208)

    def test_question_mark(self):
        run = self.run_with(entry("q", "fun:?alloc", "fun:leak_?alloc", kinds="definite"))
        self.assert_moved(run, "definite", 1, 80)

    def test_obj(self):
        # malloc called from code in the leaky executable: leak_definite and
        # leak_owner among the definite records.
        run = self.run_with(entry("obj", "fun:malloc", "obj:*/leaky", kinds="definite"))
        self.assert_moved(run, "definite", 2, 48 + 32)

    def test_kind_must_match(self):
        run = self.run_with(entry("wrong-kind", "fun:calloc", "fun:leak_calloc", kinds="reachable"))
        self.assert_moved(run, "definite", 0, 0)

    def test_several_files_and_other_tools(self):
        other = ("{\n   race\n   Helgrind:Race\n   fun:leak_calloc\n}\n"
                 "{\n   cond\n   Memcheck:Cond\n   fun:calloc\n}\n"
                 "{\n   param\n   Memcheck:Param\n   write(buf)\n   fun:write\n}\n")
        run = self.run_with(other, "# only comments\n",
                            entry("a", "fun:calloc", "fun:leak_calloc"),
                            entry("b", "fun:malloc", "fun:leak_definite"))
        self.assert_moved(run, "definite", 2, 80 + 48)

    def test_malformed_file(self):
        path = write(self.tmp.name, "bad.supp",
                     "# bad entry\n{\n   broken\n   Memcheck:Leak\n   fun:calloc\n   leak_calloc\n}\n")
        status, _, err = h.run_memlens_cli(["--suppressions=" + path, "--",
                                            h.require_sample("leaky")])
        self.assertEqual(status, 125, err)
        self.assertIn("memlens: error:", err)
        self.assertIn(path + ":6:", err)

    def test_missing_file(self):
        path = os.path.join(self.tmp.name, "no-such.supp")
        status, _, err = h.run_memlens_cli(["--suppressions=" + path, "--",
                                            h.require_sample("leaky")])
        self.assertEqual(status, 125, err)
        self.assertIn("memlens: error:", err)
        self.assertIn(path, err)


class SuppressCxx(unittest.TestCase, Baseline):

    @classmethod
    def setUpClass(cls):
        h.require_memlens()
        cls.tmp = tempfile.TemporaryDirectory(prefix="mlsupp.")

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def run_with(self, text):
        path = write(self.tmp.name, "cxx.supp", text)
        run = h.run_memlens("cxxleaks", options=["--suppressions=" + path])
        self.assertIsNotNone(run.json, run.stderr[-4000:])
        return summary(run.json)

    def test_mangled_names(self):
        # cxxleaks.cpp: leak_array loses new int[20], 80 bytes in 1 block;
        # valgrind names it _Znam called from _Z10leak_arrayv.
        got = self.run_with(entry("cxx-array", "fun:_Znam", "fun:_Z10leak_arrayv", "fun:main",
                                  kinds="definite"))
        base = self.baseline("cxxleaks")
        self.assertEqual(got["definite"], (base["definite"][0] - 1, base["definite"][1] - 80))
        self.assertEqual(got["suppressed"], (1, 80))

    def test_demangled_names(self):
        got = self.run_with(entry("cxx-point", "fun:operator new(unsigned long)",
                                  "fun:leak_plain_new()", kinds="definite"))
        self.assertEqual(got["suppressed"], (1, 16))

    def test_mangled_wildcard(self):
        # every definite record allocated by operator new (not new[]) called
        # straight from a leak_* function: Point 16, Parent 32, Derived 64, Holder 112.
        got = self.run_with(entry("cxx-new", "fun:_Znwm", "fun:_Z*leak_*", kinds="definite"))
        self.assertEqual(got["suppressed"], (4, 16 + 32 + 64 + 112))


class GeneratedSuppressions(unittest.TestCase, Baseline):
    """--gen-suppressions=yes prints entries that memlens and valgrind both read."""

    @classmethod
    def setUpClass(cls):
        h.require_memlens()
        cls.tmp = tempfile.TemporaryDirectory(prefix="mlsupp.")

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def generate(self, sample):
        run = h.run_memlens(sample, options=["--gen-suppressions=yes",
                                             "--show-leak-kinds=definite"])
        text = generated(run.stderr)
        self.assertIn("Memcheck:Leak", text)
        return write(self.tmp.name, sample + ".supp", text)

    def check_round_trip(self, sample):
        path = self.generate(sample)
        run = h.run_memlens(sample, options=["--suppressions=" + path])
        self.assertIsNotNone(run.json, run.stderr[-4000:])
        base, got = self.baseline(sample), summary(run.json)
        self.assertEqual(got["definite"], (0, 0))
        self.assertEqual(got["suppressed"], base["definite"])
        for kind in ("indirect", "possible", "reachable"):
            self.assertEqual(got[kind], base[kind], kind)

    def test_round_trip_leaky(self):
        self.check_round_trip("leaky")

    def test_round_trip_cxxleaks(self):
        self.check_round_trip("cxxleaks")

    def test_cxx_entries_use_mangled_names(self):
        with open(self.generate("cxxleaks")) as f:
            text = f.read()
        self.assertIn("fun:_Znwm\n", text)
        self.assertIn("fun:_Z10leak_arrayv\n", text)
        self.assertNotIn("operator new", text)

    def valgrind(self, sample, supp):
        h.skip_without_valgrind()
        with tempfile.TemporaryDirectory(prefix="mlvg.") as tmp:
            log = os.path.join(tmp, "vg.log")
            subprocess.run(["valgrind", "--leak-check=full", "--run-libc-freeres=no",
                            "--suppressions=" + supp, "--log-file=" + log,
                            h.require_sample(sample)],
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=h.TIMEOUT)
            with open(log, errors="replace") as f:
                return f.read()

    def test_valgrind_reads_generated_file(self):
        for sample in ("leaky", "cxxleaks"):
            with self.subTest(sample=sample):
                log = self.valgrind(sample, self.generate(sample))
                self.assertNotIn("parse error", log)
                self.assertNotIn("FATAL", log)
                self.assertIn("LEAK SUMMARY", log)
                if sample == "cxxleaks":     # its allocators look the same to both
                    self.assertEqual(h.parse_valgrind_summary(log)["definite"]["blocks"], 0)

    def test_memlens_reads_valgrind_generated_file(self):
        h.skip_without_valgrind()
        for sample in ("leaky", "cxxleaks"):
            with self.subTest(sample=sample):
                with tempfile.TemporaryDirectory(prefix="mlvg.") as tmp:
                    log = os.path.join(tmp, "vg.log")
                    subprocess.run(["valgrind", "--leak-check=full", "--run-libc-freeres=no",
                                    "--gen-suppressions=all", "--log-file=" + log,
                                    h.require_sample(sample)],
                                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, timeout=h.TIMEOUT)
                    with open(log, errors="replace") as f:
                        supp = write(self.tmp.name, sample + "-vg.supp", generated(
                            re.sub(r"(?m)^==\d+== ?", "", f.read())))
                run = h.run_memlens(sample, options=["--suppressions=" + supp])
                self.assertIsNotNone(run.json, run.stderr[-4000:])
                base, got = self.baseline(sample), summary(run.json)
                self.assertEqual(got["definite"], (0, 0))
                self.assertEqual(got["possible"], (0, 0))
                self.assertEqual(got["suppressed"], (base["definite"][0] + base["possible"][0],
                                                     base["definite"][1] + base["possible"][1]))


if __name__ == "__main__":
    unittest.main()
