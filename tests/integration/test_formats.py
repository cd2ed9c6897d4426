"""The formats other tools read, judged by those tools.

- --xml: valgrind's XML protocol 4.  memlens's XML and valgrind's own XML
  for the same sample binary, both parsed with xml.etree, hold the same
  multiset of (kind, leakedbytes, leakedblocks, first frame outside the
  allocator), and the blocks per kind are those the sample states
  (`--expect`).  Generated suppressions in the XML silence every record
  when read back; suppcounts count what a suppression silenced.
- --pprof: read by `go tool pprof -raw`; leaked_space totals the sample's
  definite + indirect bytes, inuse_space its live bytes, and the sample's
  functions and build-id are there.
- --sarif: Microsoft's SARIF validator (tests/package.json) finds no error;
  every result points at a line of the sample that allocates.
"""

import collections
import os
import re
import shutil
import subprocess
import tempfile
import unittest
import xml.etree.ElementTree as ET

import mlharness as h

XML_KINDS = {
    "Leak_DefinitelyLost": "definite",
    "Leak_IndirectlyLost": "indirect",
    "Leak_PossiblyLost": "possible",
    "Leak_StillReachable": "reachable",
}

# The objects that hold each tool's allocator replacements.
PRELOAD_OBJECTS = ("vgpreload_memcheck", "libmemlens.so")

VALIDATOR = os.path.join(h.SOURCE_DIR, "tests", "node_modules", ".bin", "sarif-multitool")


def run(cmd, limit=h.TIMEOUT):
    status, out, err = h.run_bounded(cmd, limit)
    return status, out, err


def memlens(options, target, tmp):
    cmd = [h.memlens_path()] + list(options) + ["--", target]
    status, out, err = run(cmd)
    return status, err


def xml_errors(path):
    """[(kind, leakedbytes, leakedblocks, first function outside the allocator)]."""
    root = ET.parse(path).getroot()
    out = []
    for e in root.findall("error"):
        frames = e.find("stack").findall("frame")
        first = next((f.findtext("fn") for f in frames
                      if not any(p in (f.findtext("obj") or "") for p in PRELOAD_OBJECTS)), None)
        xw = e.find("xwhat")
        out.append((e.findtext("kind"), int(xw.findtext("leakedbytes")),
                    int(xw.findtext("leakedblocks")), first))
    return out


def normal_function(name):
    """'leak_holder()' and 'Holder::Holder()' as valgrind and memlens both name them."""
    return (name or "").split("(", 1)[0]


class Xml(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        h.require_memlens()

    def both(self, prog, tmp):
        target = h.require_sample(prog)
        vg = os.path.join(tmp, "vg.xml")
        ml = os.path.join(tmp, "ml.xml")
        run(["valgrind"] + list(h.VALGRIND_FLAGS) + ["--xml=yes", "--xml-file=" + vg, target])
        status, err = memlens(["--show-leak-kinds=all", "--run-libc-freeres=no",
                               "--xml=yes", "--xml-file=" + ml], target, tmp)
        self.assertEqual(status, 0, err[-3000:])
        return xml_errors(vg), xml_errors(ml), ml

    def check_against_valgrind(self, prog):
        h.skip_without_valgrind()
        with tempfile.TemporaryDirectory(prefix="formats.") as tmp:
            vg, ml, path = self.both(prog, tmp)
            norm = lambda errs: collections.Counter(
                (k, b, n, normal_function(f)) for k, b, n, f in errs)
            self.assertEqual(norm(ml), norm(vg))
            # The blocks per kind are the sample's own statement.
            exp = h.expected_summary(prog)
            for xml_kind, kind in XML_KINDS.items():
                self.assertEqual(sum(n for k, _, n, _ in ml if k == xml_kind),
                                 exp[kind]["blocks"], kind)
            root = ET.parse(path).getroot()
            self.assertEqual(root.findtext("protocolversion"), "4")
            self.assertEqual(root.findtext("protocoltool"), "memcheck")
            self.assertGreater(int(root.findtext("pid")), 0)
            self.assertGreaterEqual(int(root.findtext("ppid")), 0)
            self.assertEqual(root.findtext("tool"), "memcheck")
            self.assertEqual(root.findtext("args/argv/exe"), h.sample_path(prog))
            self.assertEqual([s.findtext("state") for s in root.findall("status")],
                             ["RUNNING", "FINISHED"])
            self.assertIsNotNone(root.find("errorcounts"))
            self.assertIsNotNone(root.find("suppcounts"))
            return root

    def test_leaky_as_valgrind(self):
        root = self.check_against_valgrind("leaky")
        # leaky.c's leak_definite: malloc(48) at a line of leaky.c, with dir and file.
        frame = [f for e in root.findall("error") for f in e.iter("frame")
                 if f.findtext("fn") == "leak_definite"][0]
        self.assertEqual(frame.findtext("file"), "leaky.c")
        self.assertEqual(frame.findtext("dir"), os.path.join(h.SOURCE_DIR, "samples"))
        self.assertIn("malloc(48)", source_line("leaky", int(frame.findtext("line"))))

    def test_cxxleaks_as_valgrind(self):
        root = self.check_against_valgrind("cxxleaks")
        # C++ template names (std::vector<int>...) survive the escaping.
        names = [f.findtext("fn") or "" for f in root.iter("frame")]
        self.assertTrue(any("<" in n and ">" in n for n in names), names)

    def test_threads_as_valgrind(self):
        self.check_against_valgrind("threads")

    def test_suppressions_round_trip(self):
        """--gen-suppressions=all: each error carries its suppression; read back
        as a suppression file they silence every record, and suppcounts counts
        each one's record."""
        target = h.require_sample("leaky")
        with tempfile.TemporaryDirectory(prefix="formats.") as tmp:
            first = os.path.join(tmp, "first.xml")
            status, err = memlens(["--gen-suppressions=all", "--xml=yes", "--xml-file=" + first],
                                  target, tmp)
            self.assertEqual(status, 0, err[-3000:])
            errors = ET.parse(first).getroot().findall("error")
            # leaky.c: 5 definite records and 1 possible (the default shown kinds).
            self.assertEqual(len(errors), 6)
            supp = os.path.join(tmp, "all.supp")
            with open(supp, "w") as f:
                for i, e in enumerate(errors):
                    s = e.find("suppression")
                    self.assertEqual(s.findtext("skind"), "Memcheck:Leak")
                    fns = [fr.findtext("fun") for fr in s.findall("sframe")]
                    stack = [fr.findtext("fn") for fr in e.find("stack").findall("frame")]
                    self.assertEqual(fns, stack[:stack.index("main") + 1])
                    f.write(s.findtext("rawtext").strip().replace(
                        "<insert_a_suppression_name_here>", "gen%d" % i) + "\n")
            second = os.path.join(tmp, "second.xml")
            status, err = memlens(["--suppressions=" + supp, "--xml=yes",
                                   "--xml-file=" + second], target, tmp)
            self.assertEqual(status, 0, err[-3000:])
            root = ET.parse(second).getroot()
            self.assertEqual(root.findall("error"), [])
            counts = {p.findtext("name"): int(p.findtext("count"))
                      for p in root.find("suppcounts").findall("pair")}
            self.assertEqual(counts, {"gen%d" % i: 1 for i in range(6)})

    def test_xml_file_per_process(self):
        """--xml-file=x.%p.xml: a document per process, named by its pid, each
        with the process's own leaks (forkexec.c: the parent and the forked
        child lose 2 definite blocks each, the exec'd leaky 5)."""
        with tempfile.TemporaryDirectory(prefix="formats.") as tmp:
            r = h.run_memlens("forkexec", options=[
                "--trace-children=yes",
                "--xml=yes", "--xml-file=" + os.path.join(tmp, "x.%p.xml")])
            self.assertEqual(r.status, 0, r.stderr[-3000:])
            pids = [p["pid"] for p in r.json["processes"]]
            self.assertEqual(sorted(f for f in os.listdir(tmp) if f.endswith(".xml")),
                             sorted("x.%d.xml" % pid for pid in pids))
            definite = []
            for pid in pids:
                path = os.path.join(tmp, "x.%d.xml" % pid)
                self.assertEqual(ET.parse(path).getroot().findtext("pid"), str(pid))
                definite.append(sum(n for k, _, n, _ in xml_errors(path)
                                    if k == "Leak_DefinitelyLost"))
            self.assertEqual(definite, [2, 2, 5])

    def test_xml_fd(self):
        target = h.require_sample("leaky")
        with tempfile.TemporaryDirectory(prefix="formats.") as tmp:
            path = os.path.join(tmp, "fd.xml")
            with open(path, "w") as f:
                p = subprocess.run([h.memlens_path(), "--xml=yes", "--xml-fd=%d" % f.fileno(),
                                    "--", target], pass_fds=(f.fileno(),),
                                   stdin=subprocess.DEVNULL, capture_output=True, timeout=h.TIMEOUT)
            self.assertEqual(p.returncode, 0, p.stderr[-3000:])
            kinds = collections.Counter(k for k, _, _, _ in xml_errors(path))
            self.assertEqual(kinds, {"Leak_DefinitelyLost": 5, "Leak_PossiblyLost": 1})

    def test_unwritable_outputs(self):
        """Each format's report that cannot be written is memlens's failure:
        exit 125 naming the file, whether it cannot be created (checked before
        the run) or its writes fail (/dev/full)."""
        target = h.require_sample("leaky")
        for opts, name in ((["--xml=yes", "--xml-file=/nonexistent/dir/x.xml"], "/nonexistent/dir/x.xml"),
                           (["--sarif=/nonexistent/dir/x.sarif"], "/nonexistent/dir/x.sarif"),
                           (["--xml=yes", "--xml-file=/dev/full"], "/dev/full"),
                           (["--sarif=/dev/full"], "/dev/full"),
                           (["--pprof=/dev/full"], "/dev/full")):
            with self.subTest(options=opts):
                status, _, err = run([h.memlens_path()] + opts + ["--", target], limit=120)
                self.assertEqual(status, 125, err[-2000:])
                self.assertIn("memlens: error: cannot write " + name, err)


def source_line(prog, line):
    with open(os.path.join(h.SOURCE_DIR, "samples", h.sample_source(prog))) as f:
        return f.read().split("\n")[line - 1]


# What allocates in the samples' own code: an allocator call, a new
# expression, or a std container made to allocate (cxxleaks.cpp's
# g_items->reserve(5) and Holder::Holder's member initializers
# numbers(36, 5), name(95, 'n'), table{...}).
ALLOCATING = re.compile(r"\b(malloc|calloc|realloc|posix_memalign|aligned_alloc|new)\b"
                        r"|->reserve\(|^\s*[:,]?\s*(numbers|name|table)[({]")


def allocating_lines(prog):
    """Lines of the sample's source that allocate."""
    with open(os.path.join(h.SOURCE_DIR, "samples", h.sample_source(prog))) as f:
        text = f.read().split("\n")
    pat = ALLOCATING
    return {i + 1 for i, l in enumerate(text)
            if pat.search(l) and not l.lstrip().startswith(("//", "/*", "*"))}


def build_id(path):
    out = subprocess.run(["readelf", "-n", path], capture_output=True, text=True).stdout
    m = re.search(r"Build ID: ([0-9a-f]+)", out)
    return m.group(1) if m else None


class Pprof(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        h.require_memlens()
        if not shutil.which("go"):
            raise unittest.SkipTest("go is not installed (apt-get install golang-go): "
                                    "go tool pprof cannot read the profile")

    def raw(self, prog, tmp, options=()):
        target = h.require_sample(prog)
        prof = os.path.join(tmp, "leaks.pb.gz")
        run_ = h.run_memlens(prog, options=["--pprof=" + prof] + list(options))
        self.assertEqual(run_.status, 0, run_.stderr[-3000:])
        status, out, err = run(["go", "tool", "pprof", "-raw", prof])
        self.assertEqual(status, 0, err)
        return run_.json, out, target

    @staticmethod
    def totals(raw):
        """Sums of the four values over the samples of `go tool pprof -raw`."""
        samples = raw[raw.index("Samples:"):raw.index("Locations")]
        header = samples.split("\n")[1].split()
        sums = [0] * len(header)
        for line in samples.split("\n")[2:]:
            m = re.match(r"\s+((?:\d+\s+)+\d+):", line)
            if m:
                for i, v in enumerate(m.group(1).split()):
                    sums[i] += int(v)
        return dict(zip((t.replace("[dflt]", "") for t in header), sums))

    def test_leaky_totals(self):
        with tempfile.TemporaryDirectory(prefix="formats.") as tmp:
            doc, raw, target = self.raw("leaky", tmp)
        t = self.totals(raw)
        exp = h.expected_summary("leaky")
        # leaky.c: definite 5 blocks / 624 bytes, indirect 2 / 256 (its --expect).
        self.assertEqual(t["leaked_space/bytes"], exp["definite"]["bytes"] + exp["indirect"]["bytes"])
        self.assertEqual(t["leaked_objects/count"], exp["definite"]["blocks"] + exp["indirect"]["blocks"])
        s = doc["processes"][0]["leaks"]["summary"]
        self.assertEqual(t["leaked_space/bytes"], s["definite"]["bytes"] + s["indirect"]["bytes"])
        # In use: every live block of every kind (624 + 256 + 128 + 432 bytes, 13 blocks).
        live = sum(exp[k]["bytes"] for k in h.KINDS)
        self.assertEqual(t["inuse_space/bytes"], live)
        self.assertEqual(t["inuse_space/bytes"], doc["processes"][0]["allocations"]["live_bytes"])
        self.assertEqual(t["inuse_objects/count"], sum(exp[k]["blocks"] for k in h.KINDS))
        locations = raw[raw.index("Locations"):raw.index("Mappings")]
        for fn in h.expected("leaky")["definite_functions"] + ["make_child", "keep_interior", "main"]:
            self.assertRegex(locations, r"\b%s .*leaky\.c:\d+" % fn)
        mappings = raw[raw.index("Mappings"):]
        first = mappings.split("\n")[1]
        self.assertIn(target, first)            # the program's own mapping first
        self.assertIn(build_id(target), first)

    def test_inlined_frames(self):
        """A function inlined into its caller is a second line of the caller's
        location, innermost first, as profile.proto orders them."""
        source = (
            "#include <stdlib.h>\n"
            "void *volatile sink;\n"
            "static inline __attribute__((always_inline)) void *make(size_t n)\n"
            "{\n"
            "    return malloc(n);\n"                       # line 5
            "}\n"
            "__attribute__((noinline)) void leak_inlined(void)\n"
            "{\n"
            "    sink = make(48);\n"                        # line 9
            "    sink = 0;\n"
            "}\n"
            "int main(void)\n"
            "{\n"
            "    leak_inlined();\n"
            "    return 0;\n"
            "}\n")
        with tempfile.TemporaryDirectory(prefix="formats.") as tmp:
            src = os.path.join(tmp, "inl.c")
            prog = os.path.join(tmp, "inl")
            with open(src, "w") as f:
                f.write(source)
            subprocess.run(["cc", "-O1", "-g", "-o", prog, src], check=True, timeout=120)
            prof = os.path.join(tmp, "inl.pb.gz")
            status, _, err = run([h.memlens_path(), "--pprof=" + prof, "--", prog])
            self.assertEqual(status, 0, err[-3000:])
            status, raw, err = run(["go", "tool", "pprof", "-raw", prof])
            self.assertEqual(status, 0, err)
        # 48 bytes definitely lost, one location holding make (inl.c:5) then leak_inlined (inl.c:9).
        self.assertEqual(self.totals(raw)["leaked_space/bytes"], 48)
        self.assertRegex(raw, r"\d+: 0x[0-9a-f]+ M=1 make \S*inl\.c:5 s=0\n\s+leak_inlined \S*inl\.c:9 ")

    def test_cxxleaks_names(self):
        with tempfile.TemporaryDirectory(prefix="formats.") as tmp:
            doc, raw, _ = self.raw("cxxleaks", tmp)
        t = self.totals(raw)
        exp = h.expected_summary("cxxleaks")
        self.assertEqual(t["leaked_space/bytes"], exp["definite"]["bytes"] + exp["indirect"]["bytes"])
        self.assertIn("leak_holder", raw)
        self.assertIn("Holder::Holder", raw)


class Sarif(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        h.require_memlens()

    def sarif(self, prog, tmp, options=()):
        path = os.path.join(tmp, prog + ".sarif")
        r = h.run_memlens(prog, options=["--sarif=" + path] + list(options))
        self.assertEqual(r.status, 0, r.stderr[-3000:])
        import json
        with open(path) as f:
            return path, json.load(f)

    def validate(self, path, tmp):
        if not os.access(VALIDATOR, os.X_OK):
            self.skipTest("the SARIF validator is not installed (npm ci --prefix tests)")
        out = os.path.join(tmp, "validation.sarif")
        status, o, e = run([VALIDATOR, "validate", "--output", out, path])
        self.assertEqual(status, 0, o + e)
        import json
        with open(out) as f:
            found = json.load(f)["runs"][0].get("results", [])
        errors = [r["message"] for r in found if r.get("level", "warning") == "error"]
        self.assertEqual(errors, [])

    def check_lines(self, prog, doc):
        lines = allocating_lines(prog)
        for res in doc["runs"][0]["results"]:
            loc = res["locations"][0]["physicalLocation"]
            self.assertTrue(loc["artifactLocation"]["uri"].endswith("/samples/" + h.sample_source(prog)),
                            loc)
            self.assertIn(loc["region"]["startLine"], lines, res["message"]["text"])

    def test_leaky(self):
        with tempfile.TemporaryDirectory(prefix="formats.") as tmp:
            path, doc = self.sarif("leaky", tmp)
            self.validate(path, tmp)
            results = doc["runs"][0]["results"]
            # leaky.c with the default error kinds: 5 definite records, 1 possible.
            self.assertEqual(collections.Counter(r["ruleId"] for r in results),
                             {"definite": 5, "possible": 1})
            self.check_lines("leaky", doc)
            flows = results[0]["codeFlows"][0]["threadFlows"][0]["locations"]
            self.assertGreaterEqual(len(flows), 3)   # allocator, leak_*, main
            prints = [r["partialFingerprints"]["memlensStack/v1"] for r in results]
            self.assertEqual(len(set(prints)), len(prints))
            _, again = self.sarif("leaky", tmp)
            self.assertEqual(prints, [r["partialFingerprints"]["memlensStack/v1"]
                                      for r in again["runs"][0]["results"]])

    def test_cxxleaks_all_kinds(self):
        with tempfile.TemporaryDirectory(prefix="formats.") as tmp:
            path, doc = self.sarif("cxxleaks", tmp, ["--errors-for-leak-kinds=all"])
            self.validate(path, tmp)
            # Located in cxxleaks.cpp, never in libstdc++'s headers or the allocator.
            self.check_lines("cxxleaks", doc)
            kinds = {r["ruleId"] for r in doc["runs"][0]["results"]}
            self.assertEqual(kinds, {"definite", "indirect", "possible", "reachable"})


if __name__ == "__main__":
    unittest.main()
