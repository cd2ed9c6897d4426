"""Processes that fork and exec: one report per process, each as memcheck's.

samples/forkexec forks twice: child 1 keeps its copy of the parent's heap
(and so the parent's lost block too), child 2 execs samples/leaky.  The
sample states each process's answer (`forkexec --expect`); valgrind
--trace-children=yes must agree process by process.
"""

import os
import re
import tempfile
import unittest

import mlharness as h


def summaries_by_pid(log_dir):
    """{pid: LEAK SUMMARY} from valgrind's per-process log files."""
    out = {}
    for name in os.listdir(log_dir):
        with open(os.path.join(log_dir, name), encoding="utf-8", errors="replace") as f:
            text = f.read()
        if "LEAK SUMMARY" in text or "All heap blocks were freed" in text:
            out[int(name.split(".")[-1])] = h.parse_valgrind_summary(text)
    return out


def strip(summary):
    return {k: summary[k] for k in h.KINDS}


class ForkExec(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.res = h.run_memlens("forkexec", options=["--trace-children=yes"])
        cls.expect = h.expected("forkexec")["processes"]
        cls.procs = cls.res.json["processes"]

    def test_every_process_reported_in_start_order(self):
        self.assertEqual(self.res.status, 0)
        self.assertEqual(len(self.procs), 3)
        parent, child, execd = self.procs
        self.assertEqual(child["ppid"], parent["pid"])
        self.assertEqual(execd["ppid"], parent["pid"])
        self.assertTrue(parent["exe"].endswith("/forkexec"))
        self.assertTrue(child["exe"].endswith("/forkexec"))
        self.assertTrue(execd["exe"].endswith("/leaky"), "exec reports the new image")
        for p in self.procs:
            self.assertEqual(p["exit"], {"code": 0})

    def test_figures_are_the_samples(self):
        leaky = h.expected_summary("leaky")
        want = [{k: self.expect[i][k] for k in h.KINDS} for i in range(2)] + [leaky]
        for i, p in enumerate(self.procs):
            with self.subTest(process=i):
                self.assertEqual(strip(p["leaks"]["summary"]), want[i])

    def test_inherited_block_keeps_the_parents_stack(self):
        for i in range(2):
            funcs = set()
            for rec in self.procs[i]["leaks"]["records"]:
                if rec["kind"] == "definite":
                    funcs.update(f["function"] or "" for f in rec["stack"])
            for want in self.expect[i]["definite_functions"]:
                with self.subTest(process=i, function=want):
                    self.assertTrue(any(h.function_matches(f, want) for f in funcs), funcs)

    def test_same_as_valgrind_trace_children(self):
        h.skip_without_valgrind()
        with tempfile.TemporaryDirectory() as tmp:
            h._run(["valgrind", "--trace-children=yes"] + list(h.VALGRIND_FLAGS) +
                   ["--log-file=" + os.path.join(tmp, "vg.%p"), h.sample_path("forkexec")])
            vg = summaries_by_pid(tmp)
        got = sorted(repr(sorted(strip(p["leaks"]["summary"]).items())) for p in self.procs)
        ref = sorted(repr(sorted(strip(s).items())) for s in vg.values())
        self.assertEqual(got, ref)


class TraceChildrenNo(unittest.TestCase):
    """valgrind's default: the forked child stays checked, the exec'd image
    (samples/leaky) runs untraced and without the shim."""

    @classmethod
    def setUpClass(cls):
        cls.res = h.run_memlens("forkexec")      # --trace-children=no is the default

    def test_forked_child_checked_execd_image_not(self):
        self.assertEqual(self.res.status, 0)
        procs = self.res.json["processes"]
        exp = h.expected("forkexec")["processes"]
        # forkexec.c: the parent and its first child (fork, no exec); the second
        # child's image is leaky, untraced
        self.assertEqual(len(procs), 2)
        for i in range(2):
            with self.subTest(process=i):
                self.assertEqual(strip(procs[i]["leaks"]["summary"]),
                                 {k: exp[i][k] for k in h.KINDS})
                self.assertTrue(procs[i]["exe"].endswith("/forkexec"))

    def test_same_as_valgrind_default(self):
        h.skip_without_valgrind()
        with tempfile.TemporaryDirectory() as tmp:
            h._run(["valgrind"] + list(h.VALGRIND_FLAGS) +
                   ["--log-file=" + os.path.join(tmp, "vg.%p"), h.sample_path("forkexec")])
            vg = summaries_by_pid(tmp)
        got = sorted(repr(sorted(strip(p["leaks"]["summary"]).items()))
                     for p in self.res.json["processes"])
        ref = sorted(repr(sorted(strip(s).items())) for s in vg.values())
        self.assertEqual(got, ref)

    def test_untraced_image_runs_without_the_shim(self):
        status, out, err = h.run_memlens_cli(["-q", "--", "sh", "-c", "exec env"])
        self.assertEqual(status, 0, err)
        self.assertNotIn("MEMLENS_SESSION", out)
        self.assertNotIn("libmemlens", out)
        status, out, err = h.run_memlens_cli(["-q", "--trace-children=yes", "--",
                                              "sh", "-c", "exec env"])
        self.assertIn("libmemlens", out)


if __name__ == "__main__":
    unittest.main()
