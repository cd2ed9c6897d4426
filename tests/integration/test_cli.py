"""memlens's exit status and its handling of programs it cannot run.

Contract (DESIGN.md): memlens exits with the target's own status, or with
--error-exitcode when leaks of the error kinds (default definite,possible)
were found; a program that is not found exits 127, one that cannot be
executed 126, both with "memlens: error: ..." on stderr; --help and
--version exit 0.
"""

import os
import stat
import tempfile
import unittest

import mlharness as h


class ExitStatus(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        h.require_memlens()

    def test_target_exit_status(self):
        run = h.run_memlens("exitcode")
        self.assertEqual(run.status, 3, "stderr:\n" + run.stderr[-4000:])
        self.assertIsNotNone(run.json, "no JSON report")
        self.assertEqual(run.json["processes"][0]["exit"], {"code": 3})

    def test_leaks_do_not_change_exit_status_by_default(self):
        run = h.run_memlens("leaky")
        self.assertEqual(run.status, 0, "stderr:\n" + run.stderr[-4000:])

    def test_error_exitcode_on_leaks(self):
        run = h.run_memlens("leaky", options=["--error-exitcode=42"])
        self.assertEqual(run.status, 42, "stderr:\n" + run.stderr[-4000:])

    def test_error_exitcode_without_leaks(self):
        # exitcode leaks nothing: its own status wins.
        run = h.run_memlens("exitcode", options=["--error-exitcode=42"])
        self.assertEqual(run.status, 3, "stderr:\n" + run.stderr[-4000:])

    def test_error_exitcode_ignores_kinds_not_asked_for(self):
        # leaky has still reachable blocks, which are not an error kind by
        # default; asking for reachable only must still give 42, asking for
        # none must not.
        run = h.run_memlens("leaky", options=[
            "--error-exitcode=42", "--errors-for-leak-kinds=reachable"])
        self.assertEqual(run.status, 42, "stderr:\n" + run.stderr[-4000:])
        run = h.run_memlens("leaky", options=[
            "--error-exitcode=42", "--errors-for-leak-kinds=none"])
        self.assertEqual(run.status, 0, "stderr:\n" + run.stderr[-4000:])


class ProgramsThatCannotRun(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        h.require_memlens()

    def assert_error(self, status, err, want):
        self.assertEqual(status, want, "stderr:\n" + err[-4000:])
        self.assertIn("memlens: error:", err)

    def test_missing_path(self):
        with tempfile.TemporaryDirectory(prefix="mltest.") as tmp:
            missing = os.path.join(tmp, "no-such-program")
            status, _, err = h.run_memlens_cli(["--", missing])
        self.assert_error(status, err, 127)

    def test_missing_in_path(self):
        status, _, err = h.run_memlens_cli(
            ["--", "memlens-test-no-such-program-on-path"])
        self.assert_error(status, err, 127)

    def test_not_executable(self):
        with tempfile.TemporaryDirectory(prefix="mltest.") as tmp:
            path = os.path.join(tmp, "not-executable")
            with open(path, "w") as f:
                f.write("#!/bin/sh\nexit 0\n")
            os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)   # no x bit at all
            status, _, err = h.run_memlens_cli(["--", path])
        self.assert_error(status, err, 126)

    def test_directory(self):
        with tempfile.TemporaryDirectory(prefix="mltest.") as tmp:
            status, _, err = h.run_memlens_cli(["--", tmp])
        self.assert_error(status, err, 126)


class HelpAndVersion(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        h.require_memlens()

    def test_version(self):
        status, out, err = h.run_memlens_cli(["--version"])
        self.assertEqual(status, 0, "stderr:\n" + err)
        self.assertIn("memlens", out)

    def test_help(self):
        status, out, err = h.run_memlens_cli(["--help"])
        self.assertEqual(status, 0, "stderr:\n" + err)
        self.assertIn("--leak-check", out)
        self.assertIn("--json", out)


if __name__ == "__main__":
    unittest.main()
