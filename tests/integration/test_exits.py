"""How processes end: memlens returns when its program has ended, and on SIGTERM.

Figures come from the samples' own statements (samples/leaderexit.c).
Every run is bounded by a timeout that the test checks was not hit.
"""

import json
import os
import signal
import subprocess
import tempfile
import time
import unittest

import mlharness as h

LIMIT = 60


def records(doc, kind, function):
    """(blocks, bytes) of the records of `kind` whose stack names `function`."""
    blocks = size = 0
    for rec in doc["processes"][0]["leaks"]["records"]:
        if rec["kind"] == kind and any(f.get("function") == function for f in rec["stack"]):
            blocks += rec["blocks"]
            size += rec["bytes"]
    return blocks, size


class LeaderExitsFirst(unittest.TestCase):
    """main() calls pthread_exit; the worker later calls exit(0)."""

    def test_returns_with_the_workers_leak(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "r.json")
            status, _, err = h.run_bounded([h.memlens_path(), "--json=" + out, "-q",
                                            h.sample_path("leaderexit")], LIMIT)
            self.assertEqual(status, 0, err)            # the worker's exit(0)
            with open(out) as f:
                doc = json.load(f)
        self.assertEqual(doc["processes"][0]["exit"], {"code": 0})
        self.assertEqual(records(doc, "definite", "leak_in_worker"), (1, 32))

    def test_sigterm_ends_it(self):
        # The worker would run 30 s; SIGTERM to memlens reaches the process
        # (the leader is a zombie already) and memlens returns 128+15.
        m = subprocess.Popen([h.memlens_path(), "-q", h.sample_path("leaderexit"), "30"],
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE)
        try:
            time.sleep(1)
            m.send_signal(signal.SIGTERM)
            _, err = m.communicate(timeout=LIMIT)
        except subprocess.TimeoutExpired:
            m.kill()
            m.communicate()
            self.fail("memlens did not end within %d s of SIGTERM" % LIMIT)
        self.assertEqual(m.returncode, 128 + signal.SIGTERM, err)


if __name__ == "__main__":
    unittest.main()
