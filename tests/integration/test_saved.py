"""Saved reports: the compact JSON, --load and --load --diff.

A report saved with --json is rendered again by `memlens --load=REPORT.json`
without running anything: the text and HTML equal the run's, the JSON the
saved one, and --suppressions, --show-leak-kinds, --errors-for-leak-kinds
and --error-exitcode given with --load apply to the saved records.  With
--diff=OLD.json the stacks that are new or grew are named: two runs of
samples/growing (whose leaks grow with its argument) give figures that the
sample states with --expect.
"""

import json
import os
import re
import subprocess
import tempfile
import unittest

import mlharness as h


def run(args):
    p = subprocess.run([h.memlens_path()] + list(args), stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=h.TIMEOUT)
    return p.returncode, p.stderr.decode("utf-8", "replace")


def site(stack):
    """The sample's own function that allocated: the first leak_* frame."""
    for f in stack:
        if f["function"] and f["function"].startswith("leak_"):
            return f["function"]
    return None


class Saved(unittest.TestCase):
    def setUp(self):
        h.require_memlens()
        self.tmp = tempfile.TemporaryDirectory(prefix="mlsaved.")
        self.addCleanup(self.tmp.cleanup)

    def path(self, name):
        return os.path.join(self.tmp.name, name)

    def save(self, sample, args=(), name=None, extra=(), xml=True):
        """Run sample with --json (and the other outputs); return the JSON's path."""
        name = name or sample
        out = self.path(name + ".json")
        status, err = run(["--json=" + out] + self.outputs(name, xml) + list(extra)
                          + ["--", h.require_sample(sample)] + list(args))
        self.assertEqual(status, 0, err)
        return out

    def outputs(self, name, xml=True):
        """Every output but the JSON, to files named after name (with --xml=yes
        there is no text report, as with valgrind)."""
        return ["--log-file=" + self.path(name + ".txt"), "--html=" + self.path(name + ".html"),
                "--sarif=" + self.path(name + ".sarif"), "--pprof=" + self.path(name + ".pb.gz")] + \
            (["--xml=yes", "--xml-file=" + self.path(name + ".xml")] if xml else [])

    def load(self, report, args=(), expect_status=0):
        status, err = run(["--load=" + report] + list(args))
        self.assertEqual(status, expect_status, err)
        return err

    def read(self, name, mode="r"):
        with open(self.path(name), mode, **({} if "b" in mode else {"encoding": "utf-8"})) as f:
            return f.read()

    def test_json_is_compact_and_parses(self):
        text = self.read(os.path.basename(self.save("leaky")))
        doc = json.loads(text)
        # One line: no pretty-printing, so smaller than the indented form.
        self.assertNotIn("\n", text.rstrip("\n"))
        self.assertLess(len(text), len(json.dumps(doc, indent=2)))
        self.assertEqual(doc["schema"], 1)
        self.assertEqual(doc["options"]["show_leak_kinds"], ["definite", "possible"])

    def test_load_renders_every_output_again(self):
        saved = self.save("leaky", extra=["--track-fds=yes"])
        self.load(saved, self.outputs("again") + ["--json=" + self.path("again.json"), "--track-fds=yes"])
        self.assertFalse(os.path.exists(self.path("again.txt")))   # the XML replaces it
        plain = self.save("leaky", name="plain", extra=["--track-fds=yes"], xml=False)
        self.load(plain, self.outputs("plain-again", xml=False) + ["--track-fds=yes"])
        self.assertEqual(self.read("plain-again.txt"), self.read("plain.txt"))
        self.assertIn("FILE DESCRIPTORS:", self.read("plain-again.txt"))
        for ext in (".sarif", ".pb.gz"):
            self.assertEqual(self.read("again" + ext, "rb"), self.read("leaky" + ext, "rb"), ext)
        # The XML names memlens's own command line (<vargv>): that one differs.
        vargv = re.compile(r"<vargv>.*?</vargv>", re.S)
        self.assertEqual(vargv.sub("", self.read("again.xml")), vargv.sub("", self.read("leaky.xml")))
        with open(saved, encoding="utf-8") as f:
            self.assertEqual(json.loads(self.read("again.json")), json.load(f))
        nonce = re.compile(r"nonce-?=?\"?[0-9a-f]{32}")     # a fresh nonce per page
        self.assertEqual(nonce.sub("", self.read("again.html")), nonce.sub("", self.read("leaky.html")))

    def test_every_sample_loads_to_the_same_report(self):
        # Whatever a run puts in its model must survive the JSON: the text
        # and the JSON of a load equal the run's, sample by sample.
        runs = (("forkexec", (), ("--trace-children=yes",)), ("fdleak", (), ("--track-fds=all",)),
                ("mmapleak", (), ()), ("shmclean", (), ()), ("fragarenas", (), ()),
                ("threads", (), ("--show-leak-kinds=all",)), ("exitcode", (), ()))
        for sample, args, opts in runs:
            with self.subTest(sample=sample):
                saved = self.path(sample + ".json")
                status, err = run(["--json=" + saved, "--log-file=" + self.path(sample + ".txt")]
                                  + list(opts) + ["--", h.require_sample(sample)] + list(args))
                self.assertNotEqual(status, 125, err)
                self.load(saved, ["--log-file=" + self.path(sample + "-again.txt"),
                                  "--json=" + self.path(sample + "-again.json")] + list(opts))
                with open(saved, encoding="utf-8") as f:
                    doc = json.load(f)
                self.assertEqual(json.loads(self.read(sample + "-again.json")), doc)
                # A run writes each process's preamble when it starts (none for
                # an image exec'd in place), a load one per process: the text is
                # compared where there is one process.
                if len(doc["processes"]) == 1:
                    self.assertEqual(self.read(sample + "-again.txt"), self.read(sample + ".txt"))

    def test_load_applies_new_suppressions(self):
        saved = self.save("leaky")
        supp = self.path("definite.supp")
        with open(supp, "w") as f:
            f.write("{\n   one\n   Memcheck:Leak\n   fun:malloc\n   fun:leak_definite\n}\n")
        self.load(saved, ["--suppressions=" + supp, "--json=" + self.path("s.json")])
        s = json.loads(self.read("s.json"))["processes"][0]["leaks"]["summary"]
        # leaky: 5 definite blocks of 624 bytes, leak_definite's is one malloc(48).
        exp = h.expected("leaky")["definite"]
        self.assertEqual(s["definite"], {"blocks": exp["blocks"] - 1, "bytes": exp["bytes"] - 48})
        self.assertEqual(s["suppressed"], {"blocks": 1, "bytes": 48})
        # -v names the entry used, by file and line, from a run and a load alike.
        used = r"used_suppression: +1 one " + re.escape(supp) + r":\d+ suppressed: 48 bytes in 1 blocks"
        self.assertRegex(self.load(saved, ["-v", "--suppressions=" + supp]), used)
        self.assertRegex(self.load(self.path("s.json"), ["-v"]), used)
        # An empty file lifts them again, here on a report saved suppressed.
        self.load(self.path("s.json"), ["--suppressions=/dev/null", "--json=" + self.path("u.json")])
        u = json.loads(self.read("u.json"))["processes"][0]["leaks"]["summary"]
        self.assertEqual(u["definite"], {"blocks": exp["blocks"], "bytes": exp["bytes"]})
        self.assertEqual(u["suppressed"], {"blocks": 0, "bytes": 0})

    def test_load_applies_kinds_and_exit_code(self):
        saved = self.save("leaky")
        text = self.load(saved, ["--show-leak-kinds=all"])
        self.assertIn("are still reachable in loss record", text)
        self.assertNotIn("are still reachable in loss record", self.load(saved))
        # leaky has definitely lost blocks: an error of the default kinds.
        self.load(saved, ["--error-exitcode=9"], expect_status=9)
        self.load(saved, ["--error-exitcode=9", "--errors-for-leak-kinds=reachable"], expect_status=9)
        # ... and no error when only kinds it has none of count (none).
        self.load(saved, ["--error-exitcode=9", "--errors-for-leak-kinds=none"])

    def test_linkage_names_are_saved_and_suppress_on_load(self):
        saved = self.save("cxxleaks")
        with open(saved, encoding="utf-8") as f:
            doc = json.load(f)
        frames = [fr for r in doc["processes"][0]["leaks"]["records"] for fr in r["stack"]]
        self.assertIn("_Znwm", [fr["linkage_name"] for fr in frames])
        supp = self.path("new.supp")
        with open(supp, "w") as f:
            f.write("{\n   new\n   Memcheck:Leak\n   fun:_Znwm\n}\n")
        # The same suppression file in a run and on a load of the run without it.
        ran = self.save("cxxleaks", name="ran", extra=["--suppressions=" + supp])
        self.load(saved, ["--suppressions=" + supp, "--json=" + self.path("l.json")])
        with open(ran, encoding="utf-8") as f:
            want = json.load(f)["processes"][0]["leaks"]["summary"]
        got = json.loads(self.read("l.json"))["processes"][0]["leaks"]["summary"]
        self.assertEqual(got, want)
        self.assertGreater(got["suppressed"]["blocks"], 0)

    def test_generated_suppressions_name_linkage_names_on_load(self):
        # The entries --gen-suppressions writes name C++ frames by their
        # linkage names: from a loaded report they must come out the same.
        saved = self.save("cxxleaks", name="gen", xml=False, extra=["--gen-suppressions=all"])
        self.load(saved, ["--gen-suppressions=all", "--log-file=" + self.path("gen-again.txt")])
        text = self.read("gen-again.txt")
        self.assertIn("fun:_Znwm", text)
        self.assertEqual(text, self.read("gen.txt"))

    def test_diff_names_what_grew(self):
        old = self.save("growing", ["2"], name="g2")
        new = self.save("growing", ["5"], name="g5")
        text = self.load(new, ["--diff=" + old, "--json=" + self.path("d.json")])
        e2, e5 = h.expected("growing", ["2"])["sites"], h.expected("growing", ["5"])["sites"]
        diff = json.loads(self.read("d.json"))["processes"][0]["diff"]
        got = {site(r["stack"]): (r["status"], r["blocks_grown"], r["bytes_grown"], r["blocks"], r["bytes"])
               for r in diff["records"]}
        grown = lambda k: e5[k]["blocks"] - e2[k]["blocks"]
        # growing: leak_per_item leaks one 48-byte block per item (2, then 5:
        # +3 blocks, +144 bytes); leak_when_big leaks its 256 bytes from N = 4
        # on (new); leak_steady leaks 2 x 80 bytes whatever N is (unchanged).
        self.assertEqual(got, {
            "leak_per_item": ("grew", grown("leak_per_item"), e5["leak_per_item"]["bytes"] - e2["leak_per_item"]["bytes"],
                              e5["leak_per_item"]["blocks"], e5["leak_per_item"]["bytes"]),
            "leak_when_big": ("new", 1, 256, 1, 256)})
        self.assertEqual(grown("leak_per_item"), 3)
        self.assertEqual(diff["gone"], 0)
        self.assertIn("GROWTH since", text)
        self.assertRegex(text, r"\+144 bytes in \+3 blocks \(now 240 bytes in 5 blocks\): definitely lost, grew")
        self.assertRegex(text, r"\+256 bytes in \+1 blocks \(now 256 bytes in 1 blocks\): definitely lost, new")
        # The other way round nothing grew, and leak_when_big's stack is gone.
        self.load(old, ["--diff=" + new, "--json=" + self.path("r.json")])
        back = json.loads(self.read("r.json"))["processes"][0]["diff"]
        self.assertEqual((back["records"], back["gone"]), ([], 1))

    def test_diff_html_section(self):
        import test_html
        test_html.skip_without_chromium()
        old = self.save("growing", ["2"], name="g2")
        new = self.save("growing", ["5"], name="g5")
        self.load(new, ["--diff=" + old, "--html=" + self.path("d.html")])
        pid = json.loads(self.read("g5.json"))["processes"][0]["pid"]
        dom = test_html.dump_dom(self.path("d.html"))
        m = re.search(r'<section[^>]*id="p%d-diff".*?</section>' % pid, dom, re.S)
        self.assertIsNotNone(m, "no growth section in the page")
        section = m.group(0)
        self.assertIn("leak_per_item", section)
        self.assertIn("leak_when_big", section)
        self.assertNotIn("leak_steady", section)

    def test_attach_report_loads_whole(self):
        import test_attach
        svc = test_attach.Service()
        try:
            saved = self.path("attach.json")
            status, err = run(["--json=" + saved, "-p", str(svc.pid), "--duration=2.5", "--interval=1"])
            self.assertEqual(status, 0, err)
        finally:
            svc.stop()
        text = self.load(saved, ["--json=" + self.path("attach-again.json")])
        with open(saved, encoding="utf-8") as f:
            doc = json.load(f)
        # An attach report's own parts: the mode, the ages and the growth samples.
        self.assertEqual(doc["mode"], "attach")
        self.assertTrue(any("age_seconds" in r for r in doc["processes"][0]["leaks"]["records"]))
        self.assertTrue(doc["processes"][0].get("growth"))
        self.assertEqual(json.loads(self.read("attach-again.json")), doc)
        self.assertIn("seconds before the end of the recording", text)

    def test_load_refuses_what_is_not_a_report(self):
        bad = self.path("bad.json")
        for text, why in (('{"tool": "memlens", "schema": 1, "processes": [', "offset"),
                          ('{"tool": "other"}', "not a memlens report"), ("", "offset")):
            with open(bad, "w") as f:
                f.write(text)
            status, err = run(["--load=" + bad])
            self.assertEqual(status, 125, err)
            self.assertIn("memlens: error: cannot load " + bad, err)
            self.assertIn(why, err)
        status, err = run(["--load=" + self.path("missing.json")])
        self.assertEqual(status, 125)
        self.assertIn("No such file", err)


if __name__ == "__main__":
    unittest.main()
