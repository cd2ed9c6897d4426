"""docs/json.md documents every key the JSON report writes.

The samples below are run with the options that make memlens write each
optional section (--track-fds, shared memory, mappings, several heaps, a
--load --diff); the test walks every JSON document and fails on any key
whose object has no table in docs/json.md, or whose table lacks it.  The
keys that report/json.c writes by name are checked the same way, so that a
key only some run would write is documented too.
"""

import json
import os
import re
import subprocess
import tempfile
import unittest

import mlharness as h

DOC = os.path.join(h.SOURCE_DIR, "docs", "json.md")
WRITER = os.path.join(h.SOURCE_DIR, "report", "json.c")

# posixshm leaves its object behind on purpose: a name of this run's, removed after.
POSIX_NAME = "/memlens-jsondoc-%d" % os.getpid()

# (sample, arguments, memlens options): together they write every section.
RUNS = (
    ("leaky", (), ("--track-fds=yes",)),
    ("cxxleaks", (), ()),
    ("fdleak", (), ("--track-fds=all",)),
    ("shmclean", (), ()),
    ("posixshm", (POSIX_NAME,), ()),
    ("mmapleak", (), ()),
    ("fragarenas", (), ()),
    ("exitcode", (), ()),
)


def documented():
    """{object path pattern (a regex): set of keys} from the doc's tables."""
    tables, path = {}, None
    with open(DOC, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"#+\s+`([^`]+)`", line)
            if m:
                path = m.group(1)
                tables.setdefault(path, set())
                continue
            if path and line.startswith("| `"):
                first = line.split("|")[1]
                tables[path].update(re.findall(r"`([^`]+)`", first))
    return {re.compile("^" + re.escape(p).replace(r"\*", ".*") + "$"): keys
            for p, keys in tables.items()}


def walk(value, path, out):
    """Every (object path, key) in value; arrays add "[]" to the path."""
    if isinstance(value, dict):
        for k, v in value.items():
            out.add((path, k))
            walk(v, k if path == "(top)" else path + "." + k, out)
    elif isinstance(value, list):
        for v in value:
            walk(v, path + "[]", out)


def undocumented(pairs, tables):
    missing = []
    for path, key in sorted(pairs):
        found = [keys for rx, keys in tables.items() if rx.match(path)]
        if not found or not any(key in keys for keys in found):
            missing.append("%s: %s" % (path, key))
    return missing


class JsonDocumented(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        h.require_memlens()
        cls.tmp = tempfile.TemporaryDirectory(prefix="mljsondoc.")
        cls.docs = []
        for sample, args, opts in RUNS:
            out = os.path.join(cls.tmp.name, sample + ".json")
            subprocess.run([h.memlens_path(), "-q", "--json=" + out] + list(opts)
                           + ["--", h.require_sample(sample)] + list(args),
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=h.TIMEOUT)
            cls.docs.append(out)
        # A diff: growing leaks more with a larger argument.
        old, new = (os.path.join(cls.tmp.name, n) for n in ("g2.json", "g5.json"))
        for n, out in (("2", old), ("5", new)):
            subprocess.run([h.memlens_path(), "-q", "--json=" + out, "--", h.require_sample("growing"), n],
                           stdin=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=h.TIMEOUT)
        diff = os.path.join(cls.tmp.name, "diff.json")
        subprocess.run([h.memlens_path(), "-q", "--load=" + new, "--diff=" + old, "--json=" + diff],
                       stdin=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=h.TIMEOUT)
        cls.docs.append(diff)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()
        if os.path.exists("/dev/shm" + POSIX_NAME):
            os.unlink("/dev/shm" + POSIX_NAME)

    def test_every_written_key_is_documented(self):
        pairs = set()
        for path in self.docs:
            with open(path, encoding="utf-8") as f:
                walk(json.load(f), "(top)", pairs)
        keys = {k for _, k in pairs}
        # The runs reach the optional sections; else the test proves little.
        for k in ("fds", "descriptors", "shm", "mapping_leaks", "diff", "parts", "linkage_name",
                  "build_id", "code", "options", "timeline", "shmid", "removed", "leaked", "list_std"):
            self.assertIn(k, keys)
        self.assertEqual(undocumented(pairs, documented()), [])

    def test_every_key_the_writer_names_is_documented(self):
        with open(WRITER, encoding="utf-8") as f:
            src = f.read()
        named = set(re.findall(r'(?:key\w*|key_hex|write_\w+)\(w, "(\w+)"', src))
        self.assertGreater(len(named), 100)
        every = set().union(*documented().values())
        self.assertEqual(sorted(named - every), [])

    def test_detects_an_undocumented_key(self):
        pairs = {("processes[]", "no_such_key"), ("(top)", "tool")}
        self.assertEqual(undocumented(pairs, documented()), ["processes[]: no_such_key"])


if __name__ == "__main__":
    unittest.main()
