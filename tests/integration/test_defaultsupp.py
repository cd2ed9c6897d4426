"""Default suppressions: data/default.supp is read unless
--default-suppressions=no, and -v lists the files read and each entry's use
as valgrind -v does.

samples/dyntls.c states the answer: the worker thread's 200-byte dynamic
TLS block is possibly lost and suppressed by glibc-dynamic-tls-block; the
worker's DTV stays possibly lost, as under memcheck, so --error-exitcode
fails under both tools.
"""

import os
import re
import unittest

import mlharness as h

DEFAULT_SUPP = os.path.join(h.SOURCE_DIR, "data", "default.supp")


def entry_line(name):
    """The line of entry name's name in data/default.supp (valgrind's
    used_suppression gives that line)."""
    with open(DEFAULT_SUPP) as f:
        lines = f.read().split("\n")
    return next(i for i in range(len(lines)) if lines[i].strip() == "{"
                and lines[i + 1].strip() == name) + 2


def suppressed(doc):
    return doc["processes"][0]["leaks"]["summary"]["suppressed"]


class DefaultSuppressions(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        h.require_memlens()

    def test_applied_by_default(self):
        doc = h.run_memlens("dyntls").json
        self.assertEqual(h.leak_summary(doc)["possible"]["blocks"], 1)
        self.assertEqual(suppressed(doc), {"blocks": 1, "bytes": 200})

    def test_turned_off(self):
        doc = h.run_memlens("dyntls", (), ["--default-suppressions=no"]).json
        self.assertEqual(h.leak_summary(doc)["possible"]["blocks"], 2)
        self.assertEqual(suppressed(doc)["blocks"], 0)

    def test_verbose_lists_files_and_uses(self):
        run = h.run_memlens("dyntls", (), ["-v"])
        self.assertRegex(run.stderr, r"(?m)^--\d+-- Reading suppressions file: \S*data/default\.supp$")
        want = r"(?m)^--\d+-- used_suppression: +1 glibc-dynamic-tls-block \S*default\.supp:%d " \
            r"suppressed: 200 bytes in 1 blocks$" \
            % entry_line("glibc-dynamic-tls-block")
        self.assertRegex(run.stderr, want)
        quiet = h.run_memlens("dyntls")
        self.assertNotIn("used_suppression", quiet.stderr)

    def test_user_file_after_default(self):
        run = h.run_memlens("dyntls", (), ["-v", "--suppressions=" + DEFAULT_SUPP])
        files = re.findall(r"(?m)^--\d+-- Reading suppressions file: (\S+)$", run.stderr)
        self.assertEqual(len(files), 2)
        self.assertEqual(files[1], DEFAULT_SUPP)

    def test_same_exit_status_as_valgrind(self):
        h.skip_without_valgrind()
        opts = ["--leak-check=full", "--error-exitcode=7"]
        vg = h._run(["valgrind", "-q"] + opts + [h.require_sample("dyntls")]).returncode
        self.assertEqual(vg, 7)
        self.assertEqual(h.run_memlens("dyntls", (), opts).status, 7)


if __name__ == "__main__":
    unittest.main()
