"""Heap fragmentation and residency: memlens against the samples' own truth.

Each fragmentation sample (fraghole, fragshred, fragarenas, mallinfo)
prints glibc's mallinfo2() and its [heap] Rss from /proc/self/smaps as its
last act (samples/mallinfo.h).  memlens's heap object must agree with them:
- extent_bytes and free_bytes summed over the main and arena heaps against
  mallinfo2's arena and fordblks, within 5%;
- the main heap's resident_bytes against smaps' Rss of [heap];
and with what each sample states in --expect: external fragmentation near
0 (fraghole) or near 1 (fragshred), the shredding function as the top
culprit, the live bytes of every arena (fragarenas), the mmapped chunk
(mallinfo).  Region residency sums hold for the heap.
"""

import json
import re
import unittest

import mlharness as h

FRAG_SAMPLES = ("fraghole", "fragshred", "fragarenas", "mallinfo")
TOLERANCE = 0.05


def glibc_view(stderr):
    """The sample's mallinfo line: {"mallinfo2": {...}, "heap_rss": N}."""
    for line in stderr.splitlines():
        if line.startswith('{"mallinfo2"'):
            return json.loads(line)
    raise AssertionError("the sample printed no mallinfo2 line:\n" + stderr)


def heap_of(run):
    if run.json is None:
        raise AssertionError("memlens wrote no JSON:\n" + run.stderr)
    heap = run.json["processes"][0]["heap"]
    if heap is None:
        raise AssertionError("memlens computed no heap figures:\n" + run.stderr)
    return heap


def arena_parts(heap):
    return [p for p in heap["parts"] if p["kind"] in ("main", "arena")]


def site_by_function(heap, function):
    for site in heap["sites"]:
        if any(h.function_matches(f, function) for f in h.frame_functions(site)):
            return site
    raise AssertionError("no heap site with %s in its stack" % function)


class FragChecks:
    """What holds for every sample; memlens runs once per sample class."""

    prog = None

    @classmethod
    def setUpClass(cls):
        cls.ml = h.run_memlens(cls.prog)
        cls.heap = heap_of(cls.ml)
        cls.glibc = glibc_view(cls.ml.stderr)
        cls.expect = h.expected(cls.prog)

    def assert_close(self, ours, glibc, what):
        self.assertGreater(glibc, 0, what)
        self.assertLessEqual(abs(ours - glibc) / glibc, TOLERANCE,
                             "%s: memlens %d, glibc %d" % (what, ours, glibc))

    def test_extent_equals_mallinfo_arena(self):
        extent = sum(p["extent_bytes"] for p in arena_parts(self.heap))
        self.assert_close(extent, self.glibc["mallinfo2"]["arena"], "extent_bytes vs arena")

    def test_free_equals_mallinfo_fordblks(self):
        free = sum(p["free_bytes"] for p in arena_parts(self.heap))
        self.assert_close(free, self.glibc["mallinfo2"]["fordblks"], "free_bytes vs fordblks")

    def test_main_heap_resident_equals_smaps_rss(self):
        main = [p for p in self.heap["parts"] if p["kind"] == "main"]
        self.assertEqual(len(main), 1)
        self.assertEqual(main[0]["resident_bytes"], self.glibc["heap_rss"])

    def test_figures_are_consistent(self):
        for fig in [self.heap] + self.heap["parts"]:
            with self.subTest(part=fig.get("kind", "total")):
                self.assertEqual(fig["internal_fragmentation_bytes"],
                                 fig["usable_bytes"] - fig["live_bytes"])
                self.assertLessEqual(fig["largest_free_bytes"], fig["free_bytes"])
                self.assertLessEqual(fig["free_bytes"], fig["extent_bytes"])
                self.assertLessEqual(fig["resident_bytes"], fig["extent_bytes"])
                self.assertLessEqual(fig["trimmable_bytes"], fig["resident_bytes"])
                self.assertGreaterEqual(fig["external_fragmentation"], 0.0)
                self.assertLess(fig["external_fragmentation"], 1.0)
        pinned = [s["pinned_pages"] for s in self.heap["sites"]]
        self.assertEqual(pinned, sorted(pinned, reverse=True))

    def test_heap_region_residency_sums(self):
        regions = [r for r in self.ml.json["processes"][0].get("regions") or []
                   if r["kind"] == "heap"]
        main = [p for p in self.heap["parts"] if p["kind"] == "main"][0]
        if not regions:
            # no memory map in the report: the same sums on the heap figures
            self.assertLessEqual(main["resident_bytes"], main["extent_bytes"])
            self.assertEqual(main["resident_bytes"], self.glibc["heap_rss"])
            return
        self.assertEqual(len(regions), 1)
        r = regions[0]
        self.assertEqual(r["resident"] + r["swapped"] + r["untouched"], r["size"])
        self.assertEqual(r["resident"], self.glibc["heap_rss"])
        self.assertEqual(r["size"], main["extent_bytes"])
        self.assertEqual(r["resident"], main["resident_bytes"])

    def test_text_sections(self):
        self.assertIn("HEAP FRAGMENTATION:", self.ml.stderr)
        self.assertIn("RESIDENCY:", self.ml.stderr)


class FragHole(FragChecks, unittest.TestCase):
    prog = "fraghole"

    def test_external_fragmentation_near_zero(self):
        self.assertLessEqual(self.heap["external_fragmentation"],
                             self.expect["external_fragmentation_at_most"])
        # what exit handlers allocate after main returns comes out of the gap
        self.assertGreaterEqual(self.heap["largest_free_bytes"],
                                self.expect["largest_free_bytes_at_least"] - 4096)

    def test_site_live_bytes(self):
        site = site_by_function(self.heap, self.expect["site_function"])
        self.assertEqual(site["live_bytes"], self.expect["site_live_bytes"])


class FragShred(FragChecks, unittest.TestCase):
    prog = "fragshred"

    def test_external_fragmentation_near_one(self):
        self.assertGreaterEqual(self.heap["external_fragmentation"],
                                self.expect["external_fragmentation_at_least"])
        self.assertGreaterEqual(self.heap["free_bytes"], self.expect["free_bytes_at_least"])

    def test_shredder_is_top_culprit(self):
        top = self.heap["sites"][0]
        functions = h.frame_functions(top)
        self.assertTrue(any(h.function_matches(f, self.expect["culprit_function"])
                            for f in functions), functions)
        self.assertEqual(top["live_bytes"], self.expect["culprit_live_bytes"])
        self.assertGreaterEqual(top["pinned_pages"],
                                self.expect["culprit_pinned_pages_at_least"])
        self.assertGreater(top["pinned_pages"], self.heap["sites"][1]["pinned_pages"])

    def test_pinned_pages_exact(self):
        # fragshred.c's header: shred_keep pins 2,047 pages, pack_table none.
        by = {}
        for site in self.heap["sites"]:
            for f in h.frame_functions(site):
                if f in ("shred_keep", "pack_table"):
                    by[f] = site["pinned_pages"]
                    break
        self.assertEqual(by, {"shred_keep": self.expect["culprit_pinned_pages"],
                              "pack_table": self.expect["table_pinned_pages"]})

    def test_text_names_the_culprit(self):
        """The first culprit the text lists, up to its blank line, is it."""
        lines = self.ml.stderr.splitlines()
        start = next(i for i, l in enumerate(lines) if "Top fragmentation culprits" in l)
        first = []
        for l in lines[start + 1:]:
            if re.fullmatch(r"==\d+== ?", l):
                break
            first.append(l)
        self.assertIn("pinned pages", first[0])
        self.assertTrue(any(self.expect["culprit_function"] in l for l in first), first)


class DenseHeap(unittest.TestCase):
    """samples/bigheap 200000: 200,000 blocks of 16 bytes back to back (32-byte
    chunks) in the brk heap, none freed: every page of the run is full but
    the first and the last, so no site can pin more than those 2 pages (a
    page pinned is at least half free), where a rule without the half-free
    test counts the run's 1,563 pages."""

    def test_no_culprit_but_the_run_ends(self):
        h.require_memlens()
        run = h.run_memlens("bigheap", args=["200000"])
        sites = heap_of(run)["sites"]
        self.assertTrue(sites)
        self.assertLessEqual(sum(s["pinned_pages"] for s in sites), 2, sites)


class FragArenas(FragChecks, unittest.TestCase):
    prog = "fragarenas"

    def test_arena_live_bytes(self):
        live = sorted(p["live_bytes"] for p in self.heap["parts"]
                      if p["kind"] == "arena" and p["live_bytes"] > 0)
        self.assertEqual(live, sorted(self.expect["arena_live_bytes"]))

    def test_site_spans_the_arenas(self):
        site = site_by_function(self.heap, self.expect["site_function"])
        self.assertEqual(site["live_bytes"], sum(self.expect["arena_live_bytes"]))


class MallInfo(FragChecks, unittest.TestCase):
    prog = "mallinfo"

    def test_mmapped_chunk(self):
        mm = [p for p in self.heap["parts"] if p["kind"] == "mmapped"]
        self.assertEqual(len(mm), 1)
        self.assertEqual(mm[0]["live_bytes"], self.expect["mmapped_live_bytes"])
        self.assertEqual(mm[0]["extent_bytes"], self.glibc["mallinfo2"]["hblkhd"])

    def test_records_resident(self):
        records = self.ml.json["processes"][0]["leaks"]["records"]
        self.assertTrue(records)
        for rec in records:
            self.assertLessEqual(rec["resident_bytes"] + rec.get("swapped_bytes", 0),
                                 rec["bytes"])
        big = [r for r in records if r["bytes"] == self.expect["mmapped_live_bytes"]]
        self.assertEqual(len(big), 1)
        self.assertEqual(big[0]["resident_bytes"], self.expect["mmapped_live_bytes"])


class FragSamplesTellTheTruth(unittest.TestCase):
    """The samples' leak statements against valgrind (skipped without it)."""

    @classmethod
    def setUpClass(cls):
        h.skip_without_valgrind()

    def test_leak_summaries(self):
        for prog in FRAG_SAMPLES:
            exp = h.expected_summary(prog)
            vg = h.run_valgrind(prog)
            for kind in h.KINDS:
                with self.subTest(sample=prog, kind=kind):
                    self.assertEqual(exp[kind], vg[kind])


if __name__ == "__main__":
    unittest.main()
