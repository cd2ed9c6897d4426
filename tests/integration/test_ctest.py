"""CTest's memcheck reads the same defects per test from memlens as from
valgrind.

tests/ctest is a CMake project whose programs state their defects (see each
file's header); `ctest -T memcheck` runs it once with MEMORYCHECK_COMMAND
valgrind and once with memlens (MEMORYCHECK_TYPE=Valgrind: CTest's valgrind
mode, its options and its log parser), and the per-test defects in
Testing/<tag>/DynamicAnalysis.xml must be the stated ones under both.
googletest's own tests (a project not written for these tests: the
googletest package's sources in /usr/src/googletest) are compared the same
way through tests/ctest/memcheck.cmake, as googletest does not include CTest.
"""

import glob
import os
import shutil
import subprocess
import tempfile
import unittest
import xml.etree.ElementTree as ET

import mlharness as h

PROJECT = os.path.join(h.SOURCE_DIR, "tests", "ctest")
SCRIPT = os.path.join(PROJECT, "memcheck.cmake")
# From the programs' headers: CTest's defect counts per test.
EXPECTED = {
    "leak_definite": {"Memory Leak": 1},
    "leak_possible": {"Potential Memory Leak": 1},
    "no_leak": {},
    "reachable_only": {"Potential Memory Leak": 1},
    "leak_twice": {"Memory Leak": 2},
}
GOOGLETEST = "/usr/src/googletest/googletest"
# Three of its tests: two clean, one (gtest_repeat_test) with still reachable
# records that CTest counts as potential leaks.
GTESTS = ("gtest_environment_test", "gtest_no_test_unittest", "gtest_repeat_test")
TIMEOUT = 900


def run(cmd, cwd=None):
    p = subprocess.run(cmd, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=TIMEOUT)
    return p.returncode, p.stdout.decode("utf-8", "replace")


def defects(build):
    """{test name: {defect type: count}} from the newest DynamicAnalysis.xml;
    every test CTest ran is listed, with {} when it had none."""
    xmls = sorted(glob.glob(os.path.join(build, "Testing", "2*", "DynamicAnalysis.xml")))
    if not xmls:
        raise AssertionError("ctest wrote no DynamicAnalysis.xml in %s" % build)
    root = ET.parse(xmls[-1]).getroot()
    out = {os.path.basename(t.text): {} for t in root.iter("Test") if t.find("Name") is None}
    for t in root.iter("Test"):
        name = t.findtext("Name")
        if name:
            out[name] = {d.get("type"): int(d.text) for d in t.iter("Defect") if d.get("type")}
    return out


def checker(tool):
    return shutil.which("valgrind") if tool == "valgrind" else h.memlens_path()


class CTestMemcheck(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        h.skip_without_valgrind()
        h.require_memlens()
        if not (shutil.which("cmake") and shutil.which("ctest")):
            raise AssertionError("cmake is not installed (./quickstart.sh check installs it)")
        cls.tmp = tempfile.mkdtemp(prefix="mlctest.")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_own_project(self):
        for tool in ("valgrind", "memlens"):
            build = os.path.join(self.tmp, "own-" + tool)
            rc, out = run(["cmake", "-S", PROJECT, "-B", build,
                           "-DMEMORYCHECK_COMMAND=" + checker(tool),
                           "-DMEMORYCHECK_TYPE=Valgrind"])
            self.assertEqual(rc, 0, out)
            rc, out = run(["cmake", "--build", build])
            self.assertEqual(rc, 0, out)
            rc, out = run(["ctest", "-T", "memcheck"], cwd=build)
            self.assertEqual(rc, 0, out)
            self.assertNotIn("Cannot find memory tester output file", out)
            with self.subTest(tool=tool):
                self.assertEqual(defects(build), EXPECTED)

    def test_googletest(self):
        if not os.path.isfile(os.path.join(GOOGLETEST, "CMakeLists.txt")):
            self.skipTest("googletest's sources are not installed (apt-get install googletest)")
        build = os.path.join(self.tmp, "gtest")
        rc, out = run(["cmake", "-S", GOOGLETEST, "-B", build, "-Dgtest_build_tests=ON",
                       "-DCMAKE_BUILD_TYPE=Debug"])
        self.assertEqual(rc, 0, out)
        rc, out = run(["cmake", "--build", build, "-j2", "--target"] + list(GTESTS))
        self.assertEqual(rc, 0, out)
        found = {}
        for tool in ("valgrind", "memlens"):
            shutil.rmtree(os.path.join(build, "Testing"), ignore_errors=True)
            rc, out = run(["ctest", "-S", SCRIPT, "-DBUILD=" + build, "-DCHECKER=" + checker(tool),
                           "-DINCLUDE=^(%s)$" % "|".join(GTESTS)], cwd=build)
            self.assertEqual(rc, 0, out)
            self.assertNotIn("Cannot find memory tester output file", out)
            found[tool] = defects(build)
        self.assertEqual(sorted(found["valgrind"]), sorted(GTESTS))
        self.assertEqual(found["memlens"], found["valgrind"])


if __name__ == "__main__":
    unittest.main()
