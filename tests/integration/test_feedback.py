"""What memlens says while it works: the exit analysis's progress line.

On a terminal (stderr a tty), an exit analysis that runs for more than a
second shows one line, "memlens: pid P: exit analysis: PHASE..." with the
blocks done, rewritten in place and erased before the report; on a pipe or
a file nothing of it appears.  samples/bigheap keeps 10,000,001 blocks live
to the exit (bigheap.c), whose analysis takes seconds.
"""

import os
import pty
import re
import select
import subprocess
import time
import unittest

import mlharness as h

PROGRESS = re.compile(r"memlens: pid (\d+): exit analysis: ([a-z ]+)[,:] ([\d,]+)(?: of ([\d,]+))? blocks")


def run_on_pty(args, timeout=h.TIMEOUT):
    """Run args with stdin, stdout and stderr on a new pseudo-terminal;
    returns (exit status, everything written to the terminal)."""
    master, slave = pty.openpty()
    p = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave, close_fds=True)
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
        status, out = run_on_pty([h.memlens_path(), "--", self.bigheap])
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


if __name__ == "__main__":
    unittest.main()
