"""Report files: created on the first write, written to the end, failures named.

A report that cannot be written is memlens's own failure: exit 125 and
"memlens: error: cannot write FILE: <the errno's words>". A run that fails
before it reports (the program is not found) leaves no file behind.
Each run is bounded by a timeout that the test checks was not hit.
"""

import os
import tempfile
import unittest

import mlharness as h

LIMIT = 60   # seconds; /bin/true under memlens takes well under one


def run(args):
    status, _, err = h.run_bounded([h.memlens_path()] + args, LIMIT)
    return status, err


class WriteErrors(unittest.TestCase):

    def test_full_device(self):
        # /dev/full takes the open and fails every write with ENOSPC.
        for opt in ("--log-file", "--json", "--html"):
            with self.subTest(option=opt):
                status, err = run([opt + "=/dev/full", "-q", "/bin/true"])
                self.assertEqual(status, 125, err)
                self.assertIn("memlens: error: cannot write /dev/full: No space left on device", err)

    def test_unwritable_directory_fails_before_the_run(self):
        with tempfile.TemporaryDirectory() as tmp:
            marker = os.path.join(tmp, "ran")
            status, err = run(["--json=/nonexistent/dir/out.json", "/bin/sh", "-c", "touch " + marker])
            self.assertEqual(status, 125, err)
            self.assertIn("cannot write /nonexistent/dir/out.json: No such file or directory", err)
            self.assertFalse(os.path.exists(marker), "the program ran although its report could not be written")


class NoFileBeforeTheRun(unittest.TestCase):

    def test_program_not_found_leaves_no_file(self):
        with tempfile.TemporaryDirectory() as tmp:
            outs = [os.path.join(tmp, n) for n in ("r.json", "r.html", "r.log")]
            status, err = run(["--json=" + outs[0], "--html=" + outs[1], "--log-file=" + outs[2],
                               "--", "/nonexistent/program"])
            self.assertEqual(status, 127, err)
            for path in outs:
                self.assertFalse(os.path.exists(path), path + " was created by a run that never started")

    def test_good_run_writes_every_file(self):
        with tempfile.TemporaryDirectory() as tmp:
            outs = [os.path.join(tmp, n) for n in ("r.json", "r.html")]
            status, err = run(["--json=" + outs[0], "--html=" + outs[1], "-q", "/bin/true"])
            self.assertEqual(status, 0, err)
            for path in outs:
                self.assertGreater(os.path.getsize(path), 100, path)


if __name__ == "__main__":
    unittest.main()
