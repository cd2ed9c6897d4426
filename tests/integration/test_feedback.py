"""What memlens says while it works: the exit analysis's progress line, and
attach mode's --interval growth in the JSON and HTML reports.

On a terminal (stderr a tty), an exit analysis that runs for more than a
second shows one line, "memlens: pid P: exit analysis: PHASE..." with the
blocks done, rewritten in place and erased before the report; on a pipe or
a file nothing of it appears.  samples/bigheap keeps 10,000,001 blocks live
to the exit (bigheap.c); its analysis takes about a second, so the test
starts the line at once (MEMLENS_PROGRESS_AFTER_MS=0) rather than after one.
"""

import os
import pty
import re
import select
import subprocess
import tempfile
import time
import unittest

import mlharness as h
from test_attach import Service, attach        # names only: their tests run once, there
from test_html import dump_dom, scan, skip_without_chromium

PROGRESS = re.compile(r"memlens: pid (\d+): exit analysis: ([a-z ]+)[,:] ([\d,]+)(?: of ([\d,]+))? blocks")


def run_on_pty(args, timeout=h.TIMEOUT, env=None):
    """Run args with stdin, stdout and stderr on a new pseudo-terminal;
    returns (exit status, everything written to the terminal)."""
    master, slave = pty.openpty()
    p = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave, close_fds=True,
                         env=env)
    os.close(slave)
    out, deadline = b"", time.monotonic() + timeout
    while time.monotonic() < deadline:
        r, _, _ = select.select([master], [], [], 1)
        if not r:
            if p.poll() is not None:
                break
            continue
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    os.close(master)
    status = p.wait(timeout=max(1, deadline - time.monotonic()))
    return status, out.decode("utf-8", "replace")


class ProgressLine(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        h.require_memlens()
        cls.bigheap = h.require_sample("bigheap")

    def test_on_a_terminal(self):
        start = time.monotonic()
        env = dict(os.environ, MEMLENS_PROGRESS_AFTER_MS="0")
        status, out = run_on_pty([h.memlens_path(), "--", self.bigheap], env=env)
        self.assertLess(time.monotonic() - start, h.TIMEOUT, "the run hit the timeout")
        self.assertEqual(status, 0, out[-3000:])
        lines = PROGRESS.findall(out)
        self.assertTrue(lines, "no progress line:\n" + out[-3000:])
        pids = {int(pid) for pid, _, _, _ in lines}
        self.assertEqual(len(pids), 1)
        phases = [phase for _, phase, _, _ in lines]
        self.assertIn("leak kinds", phases)
        for _, phase, a, b in lines:
            total = int((b or a).replace(",", ""))
            self.assertEqual(total, 10000001, phase)      # bigheap's live blocks
        # erased before the report: the LEAK SUMMARY starts on a clean line
        self.assertIn("\r\x1b[K", out)
        self.assertRegex(out, r"\n==\d+== LEAK SUMMARY:")

    def test_not_on_a_pipe(self):
        run = h.run_memlens("bigheap", args=["200000"])
        self.assertEqual(run.status, 0)
        self.assertNotIn("exit analysis", run.stderr)


class AttachWindow(unittest.TestCase):
    """memlens -p on samples/service for 3.5 s with --interval=1: three
    samples.  service.c leaks 100 blocks of 72 bytes a second in
    leak_request(), so from the second sample on leak_request grows in each
    interval, at about 7,200 bytes a second; no syscall is watched."""

    @classmethod
    def setUpClass(cls):
        h.require_memlens()
        cls.expect = h.expected("service")
        svc = Service()
        cls.tmp = tempfile.TemporaryDirectory(prefix="mlwindow.")
        cls.page = os.path.join(cls.tmp.name, "r.html")
        try:
            cls.status, cls.doc, cls.err = attach(
                svc.pid, ["--duration=3.5", "--interval=1", "--html=" + cls.page])
        finally:
            svc.stop()
        cls.p = cls.doc["processes"][0] if cls.doc else None

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_growth_in_json(self):
        self.assertEqual(self.status, 0, self.err)
        growth = self.p["growth"]
        self.assertEqual(len(growth), 3, growth)
        times = [g["seconds"] for g in growth]
        self.assertEqual(times, sorted(times))
        rate = self.expect["leak_rate"] * self.expect["leak_size"]
        later = [s for g in growth[1:] for s in g["sites"]
                 if self.expect["leak_function"] in h.frame_functions(s)]
        self.assertEqual(len(later), 2, growth)
        for s in later:
            self.assertGreaterEqual(s["intervals_in_a_row"], 2)
            self.assertGreater(s["grew_bytes"], 0)
            self.assertEqual(s["bytes"], s["blocks"] * self.expect["leak_size"])
            self.assertLess(abs(s["bytes_per_second"] - rate), rate / 2, s)

    def test_no_unwatched_syscalls(self):
        self.assertNotIn("syscalls", self.p)
        self.assertFalse(self.p.get("timeline"))

    def test_page_worded_for_a_window(self):
        skip_without_chromium()
        dom = dump_dom(self.page, "")
        text = "".join(scan(dom).text)      # what the page shows, not its script
        self.assertIn("Memory during the attach window", text)
        self.assertIn("Memory layout at detach", text)
        self.assertNotIn("Memory layout at exit", text)
        self.assertNotIn("Watched system calls", text)
        sites = re.findall(r'<tbody class="gsite"[^>]*>.*?<td class="where">.*?<span class="fn">([^<]*)</span>', dom, re.S)
        self.assertIn(self.expect["leak_function"], sites)


if __name__ == "__main__":
    unittest.main()
