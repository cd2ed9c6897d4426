"""Packaging: the tarball builds and installs, and an installed memlens works.

- `make distcheck` builds the dist tarball out of tree from a read-only copy
  of the sources, runs the unit tests there (MEMLENS_SUITE=unit: the whole
  suite, this test included, must not run again inside it), installs it and
  runs the installed memlens on samples/leaky (installcheck-local).
- `make install DESTDIR=...` from the build tree, the installed tree moved
  elsewhere, then its memlens run on leaky: it must find the shim next to
  itself, not where configure said it would be installed.
"""

import json
import os
import shutil
import subprocess
import tarfile
import tempfile
import unittest

import mlharness

# distcheck builds everything once more; generous for a loaded CI machine.
DISTCHECK_TIMEOUT = 900


def make(args, env=None):
    return subprocess.run(["make", "-C", mlharness.build_dir()] + list(args),
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=DISTCHECK_TIMEOUT,
                          env=env)


def find_file(root, name):
    for d, _, files in os.walk(root):
        if name in files:
            return os.path.join(d, name)
    return None


class Install(unittest.TestCase):
    def setUp(self):
        mlharness.require_memlens()
        if not os.path.isfile(os.path.join(mlharness.build_dir(), "Makefile")):
            self.skipTest("no configured build tree at " + mlharness.build_dir())

    def test_distcheck(self):
        env = dict(os.environ, MEMLENS_SUITE="unit")
        p = make(["distcheck"], env=env)
        out = p.stdout.decode("utf-8", "replace")
        try:
            self.assertEqual(p.returncode, 0, "make distcheck failed:\n" + out[-6000:])
            self.assertIn("archives ready for distribution", out)
            # installcheck-local ran the installed memlens on leaky.
            self.assertIn("leak_definite (leaky.c:", out)
            self.tarball_holds_the_repository()
        finally:
            for f in os.listdir(mlharness.build_dir()):
                if f.startswith("memlens-") and f.endswith(".tar.gz"):
                    os.remove(os.path.join(mlharness.build_dir(), f))

    def tarball_holds_the_repository(self):
        """Every file git tracks is in the tarball (.gitignore files aside):
        a file left out breaks the build or the tests of a release."""
        src = mlharness.SOURCE_DIR
        git = subprocess.run(["git", "-C", src, "ls-files"], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, timeout=60)
        if git.returncode != 0:
            return                                 # not a git checkout: nothing to compare
        tracked = {f for f in git.stdout.decode().split("\n") if f and os.path.basename(f) != ".gitignore"}
        (tarball,) = [f for f in os.listdir(mlharness.build_dir())
                      if f.startswith("memlens-") and f.endswith(".tar.gz")]
        with tarfile.open(os.path.join(mlharness.build_dir(), tarball)) as t:
            shipped = {n.split("/", 1)[1] for n in t.getnames() if "/" in n}
        self.assertEqual(sorted(tracked - shipped), [], "files missing from " + tarball)

    def test_destdir_install_is_relocatable(self):
        with tempfile.TemporaryDirectory(prefix="mlinstall.") as tmp:
            dest = os.path.join(tmp, "dest")
            p = make(["install", "DESTDIR=" + dest])
            self.assertEqual(p.returncode, 0, p.stdout.decode("utf-8", "replace"))
            shim = find_file(dest, "libmemlens.so")
            self.assertIsNotNone(shim, "make install put no libmemlens.so under DESTDIR")
            configured = shim[len(dest):]
            if os.path.exists(configured):
                self.skipTest("memlens is installed at %s: the relocated copy "
                              "could find that shim" % configured)
            moved = os.path.join(tmp, "moved")
            os.rename(dest, moved)
            memlens = find_file(moved, "memlens")
            self.assertTrue(memlens and os.access(memlens, os.X_OK))
            out = os.path.join(tmp, "leaky.json")
            r = subprocess.run([memlens, "-q", "--json=" + out, "--",
                                mlharness.require_sample("leaky")],
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, timeout=mlharness.TIMEOUT)
            self.assertEqual(r.returncode, 0, r.stderr.decode("utf-8", "replace"))
            with open(out, encoding="utf-8") as f:
                doc = json.load(f)
            got = doc["processes"][0]["leaks"]["summary"]["definite"]
            # leaky states its definitely lost blocks and bytes (--expect).
            want = mlharness.expected("leaky")["definite"]
            self.assertEqual((got["blocks"], got["bytes"]), (want["blocks"], want["bytes"]))
            # Its default suppressions too come from the moved tree.
            self.assertNotIn("not installed", r.stderr.decode("utf-8", "replace"))
            supp = doc["options"]["suppressions"]
            self.assertTrue(supp and supp[0].startswith(moved + "/"), supp)


if __name__ == "__main__":
    unittest.main()
