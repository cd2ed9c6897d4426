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
        cls.res = h.run_memlens("forkexec")
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

    def test_only_the_first_process(self):
        run = h.run_memlens("forkexec", options=["--trace-children=no"])
        self.assertEqual(run.status, 0)
        self.assertEqual(len(run.json["processes"]), 1)
        exp = h.expected("forkexec")["processes"][0]
        self.assertEqual(strip(run.json["processes"][0]["leaks"]["summary"]),
                         {k: exp[k] for k in h.KINDS})


if __name__ == "__main__":
    unittest.main()
