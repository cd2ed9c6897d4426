"""memlens --help and the manual page (memlens.1) cover every option.

The options are read from tracer/options.c's getopt table, so an option
added there without documentation fails here.
"""

import os
import re
import shutil
import subprocess
import unittest

import mlharness as h


def long_options():
    with open(os.path.join(h.SOURCE_DIR, "tracer", "options.c")) as f:
        text = f.read()
    table = text[text.index("own_opts[]"):]
    table = table[:table.index("};")]
    names = re.findall(r'\{\s*"([a-z0-9-]+)"', table)
    if len(names) < 10:
        raise AssertionError("could not read the option table of tracer/options.c")
    return names


def manual_text():
    with open(os.path.join(h.SOURCE_DIR, "memlens.1")) as f:
        return f.read().replace("\\-", "-").replace("\\fR", "").replace("\\fP", "")


class Help(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        h.require_memlens()
        status, cls.out, err = h.run_memlens_cli(["--help"])
        if status != 0:
            raise AssertionError("memlens --help exited %d: %s" % (status, err))

    def test_every_option(self):
        for name in long_options():
            with self.subTest(option=name):
                self.assertRegex(self.out, r"--%s\b" % re.escape(name))

    def test_exit_statuses(self):
        for status in ("125", "126", "127"):
            self.assertIn(status, self.out)


class Manual(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.text = manual_text()

    def test_every_option(self):
        for name in long_options():
            with self.subTest(option=name):
                self.assertRegex(self.text, r"--%s\b" % re.escape(name))

    def test_sections(self):
        for section in ("NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "LEAK KINDS",
                        "SUPPRESSIONS", "EXIT STATUS", "EXAMPLES"):
            with self.subTest(section=section):
                self.assertRegex(self.text, r"(?m)^\.SH %s$" % section)

    def test_exit_statuses_and_kinds(self):
        for word in ("125", "126", "127", "definitely lost", "indirectly lost",
                     "possibly lost", "still reachable", "Memcheck:Leak"):
            with self.subTest(word=word):
                self.assertIn(word, self.text)

    def test_renders_without_warnings(self):
        groff = shutil.which("groff")
        if groff is None:
            raise unittest.SkipTest("groff is not installed")
        p = subprocess.run([groff, "-man", "-Tutf8", "-ww", "-z",
                            os.path.join(h.SOURCE_DIR, "memlens.1")],
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=60)
        self.assertEqual(p.returncode, 0)
        self.assertEqual(p.stderr.decode("utf-8", "replace"), "")


if __name__ == "__main__":
    unittest.main()
