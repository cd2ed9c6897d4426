"""The syscall watcher's answer on each memory-map sample equals the sample's
own statement: the process layout (JSON `regions`), SysV and POSIX shared
memory (`shm`), the program's never-unmapped anonymous mappings
(`mapping_leaks`) and the memory syscall counts (`syscalls`).

Each sample prints its truth with `--expect`; the samples that can only
know an address or an id at run time print it on stderr as their last act
("NAME: ..."), and the test reads it from memlens's stderr (the sample's
stderr is memlens's).  Samples that leave a SysV segment or a /dev/shm
file behind are cleaned up here, whatever the outcome.
"""

import os
import random
import re
import subprocess
import unittest

import mlharness as h

def process(doc):
    return doc["processes"][0]


def stack_names(entry):
    return h.frame_functions(entry)


def names_function(entry, function):
    return any(h.function_matches(n, function) for n in stack_names(entry))


def region_at(p, addr):
    """The region that starts at addr, or None."""
    for r in p.get("regions", []):
        if int(r["start"], 16) == addr:
            return r
    return None


def region_named(p, path):
    return [r for r in p.get("regions", []) if r["path"] == path]


def sample_line(stderr, prog, pattern):
    """The match of `prog: PATTERN` in the run's stderr, or None."""
    return re.search(r"^%s: %s$" % (re.escape(prog), pattern), stderr, re.M)


def ipcrm(shmid):
    """Remove a SysV segment the sample left behind (ignored when gone)."""
    subprocess.run(["ipcrm", "-m", str(shmid)], stdin=subprocess.DEVNULL,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def unlink_quietly(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


class WatcherSample:
    """Mixin: run the sample once per class; checks common to all of them."""

    sample = None
    args = ()
    expect_args = ()

    @classmethod
    def setUpClass(cls):
        h.require_memlens()
        cls.expect = h.expected(cls.sample, cls.expect_args)
        cls.ml = None
        try:
            cls.ml = h.run_memlens(cls.sample, cls.args)
        finally:
            cls.clean_up(cls.ml.stderr if cls.ml else "")
        cls.doc = cls.ml.json

    @classmethod
    def clean_up(cls, stderr):
        """Remove what the sample left in the system; stderr is the run's."""

    def setUp(self):
        self.assertIsNotNone(
            self.doc, "memlens wrote no JSON for %s (exit %d); stderr:\n%s"
            % (self.sample, self.ml.status, self.ml.stderr[-4000:]))
        self.p = process(self.doc)

    def test_exit_status(self):
        self.assertEqual(self.ml.status, self.expect["exit_code"],
                         self.ml.stderr[-4000:])

    def test_heap_leak_summary(self):
        summary = h.leak_summary(self.doc)
        for kind in h.KINDS:
            with self.subTest(kind=kind):
                self.assertEqual(summary[kind], self.expect[kind])

    def test_syscall_counts_at_least(self):
        counts = self.p["syscalls"]
        for name, low in self.expect.get("syscalls_at_least", {}).items():
            with self.subTest(syscall=name):
                self.assertGreaterEqual(counts[name], low)

    def test_shm_entries(self):
        self.assertEqual(len(self.p["shm"]), len(self.expect["shm"]),
                         "shm: %r" % self.p["shm"])

    def test_regions_are_consistent(self):
        regions = self.p["regions"]
        self.assertTrue(regions, "no regions in the report")
        previous_end = 0
        for r in regions:
            start, end = int(r["start"], 16), int(r["end"], 16)
            with self.subTest(region=r["start"]):
                self.assertEqual(r["size"], end - start)
                self.assertEqual(r["resident"] + r["swapped"] + r["untouched"],
                                 r["size"])
                self.assertGreaterEqual(start, previous_end,
                                        "regions overlap or are unsorted")
            previous_end = end

    def test_mapping_leaks(self):
        leaks = self.p["mapping_leaks"]
        want = self.expect["mapping_leaks"]
        self.assertEqual(len(leaks), len(want),
                         "mapping_leaks: %r" % [(l["mappings"], l["bytes"],
                                                 stack_names(l)[:3])
                                                for l in leaks])
        for w in want:
            with self.subTest(function=w["function"]):
                found = [l for l in leaks if names_function(l, w["function"])]
                self.assertEqual(len(found), 1,
                                 "one record must name %s" % w["function"])
                got = found[0]
                self.assertEqual(got["mappings"], w["mappings"])
                self.assertEqual(got["bytes"], w["bytes"])
                self.assertEqual(got["resident_bytes"], w["resident_bytes"])
        for fn in self.expect.get("not_leaking_functions", []):
            with self.subTest(not_leaking=fn):
                self.assertFalse([l for l in leaks if names_function(l, fn)])

    def check_shm(self, got, want):
        """One `shm` entry against the sample's statement of it."""
        for key in ("kind", "key", "size", "path", "detached", "removed",
                    "leaked"):
            if key in want:
                with self.subTest(field=key):
                    self.assertEqual(got.get(key), want[key])
        if "function" in want:
            self.assertTrue(names_function(got, want["function"]),
                            "shm stack %r does not name %s"
                            % (stack_names(got), want["function"]))

    def check_region(self, r, want):
        self.assertIsNotNone(r, "no region where the sample says")
        for key in ("kind", "path", "perms", "size", "resident", "origin"):
            if key in want:
                with self.subTest(field=key):
                    self.assertEqual(r[key], want[key])


class ShmClean(WatcherSample, unittest.TestCase):
    sample = "shmclean"

    def test_segment_detached_and_removed(self):
        m = sample_line(self.ml.stderr, "shmclean", r"shmid (\d+)")
        self.assertIsNotNone(m, self.ml.stderr[-2000:])
        (want,) = self.expect["shm"]
        got = [s for s in self.p["shm"] if s.get("shmid") == int(m.group(1))]
        self.assertEqual(len(got), 1, "shm: %r" % self.p["shm"])
        self.check_shm(got[0], want)
        self.assertIsNotNone(got[0]["attached"])

    def test_nothing_leaked(self):
        self.assertEqual([s for s in self.p["shm"] if s["leaked"]], [])


class ShmLeak(WatcherSample, unittest.TestCase):
    sample = "shmleak"
    key = 0x4d4c0000 | random.randrange(0x1000, 0xffff)
    args = (hex(key),)
    expect_args = (hex(key),)

    @classmethod
    def clean_up(cls, stderr):
        m = sample_line(stderr, "shmleak", r"shmid (\d+)")
        if m:
            ipcrm(m.group(1))

    def test_segment_leaked_with_its_creator(self):
        m = sample_line(self.ml.stderr, "shmleak", r"shmid (\d+)")
        self.assertIsNotNone(m, self.ml.stderr[-2000:])
        (want,) = self.expect["shm"]
        self.assertEqual(want["key"], self.key)
        got = [s for s in self.p["shm"] if s.get("shmid") == int(m.group(1))]
        self.assertEqual(len(got), 1, "shm: %r" % self.p["shm"])
        self.check_shm(got[0], want)

    def test_text_report_calls_it_a_leak(self):
        self.assertRegex(self.ml.stderr,
                         r"SysV shmid \d+ key 0x%08x, 30,000 bytes: detached, "
                         r"never removed: outlives the process \(leak\)"
                         % self.key)


class ShmAttached(WatcherSample, unittest.TestCase):
    sample = "shmattached"

    @classmethod
    def clean_up(cls, stderr):
        m = sample_line(stderr, "shmattached", r"shmid (\d+) at 0x[0-9a-f]+")
        if m:
            ipcrm(m.group(1))

    def line(self):
        m = sample_line(self.ml.stderr, "shmattached",
                        r"shmid (\d+) at (0x[0-9a-f]+)")
        self.assertIsNotNone(m, self.ml.stderr[-2000:])
        return int(m.group(1)), int(m.group(2), 16)

    def test_segment_attached_at_exit_and_leaked(self):
        shmid, addr = self.line()
        (want,) = self.expect["shm"]
        got = [s for s in self.p["shm"] if s.get("shmid") == shmid]
        self.assertEqual(len(got), 1, "shm: %r" % self.p["shm"])
        self.check_shm(got[0], want)
        self.assertEqual(int(got[0]["attached"], 16), addr)

    def test_region_of_the_segment(self):
        _, addr = self.line()
        self.check_region(region_at(self.p, addr), self.expect["region"])


class PosixShm(WatcherSample, unittest.TestCase):
    sample = "posixshm"
    name = "/memlens-test-%d-%d" % (os.getpid(), random.randrange(1 << 30))
    args = (name,)
    expect_args = (name,)

    @classmethod
    def clean_up(cls, stderr):
        unlink_quietly("/dev/shm" + cls.name)
        unlink_quietly("/dev/shm" + cls.name + "-tmp")

    def test_posix_objects(self):
        for want in self.expect["shm"]:
            with self.subTest(path=want["path"]):
                got = [s for s in self.p["shm"] if s.get("path") == want["path"]]
                self.assertEqual(len(got), 1, "shm: %r" % self.p["shm"])
                self.check_shm(got[0], want)

    def test_region_of_the_object_left_mapped(self):
        want = self.expect["region"]
        found = region_named(self.p, want["path"])
        self.assertEqual(len(found), 1)
        self.check_region(found[0], want)
        self.assertEqual(region_named(self.p, want["path"] + "-tmp"), [])


class MmapLeak(WatcherSample, unittest.TestCase):
    sample = "mmapleak"

    def test_text_report_names_them(self):
        for w in self.expect["mapping_leaks"]:
            with self.subTest(function=w["function"]):
                line = ("%s bytes in %d anonymous mappings are never "
                        "unmapped (%s resident)"
                        % (h.valgrind_count(w["bytes"]), w["mappings"],
                           h.valgrind_count(w["resident_bytes"])))
                self.assertTrue(line in self.ml.stderr, "no line '%s' in:\n%s"
                                % (line, "\n".join(
                                    l for l in self.ml.stderr.splitlines()
                                    if "never unmapped" in l)))


class Mremap(WatcherSample, unittest.TestCase):
    sample = "mremap"

    def test_region_moved_and_grown(self):
        m = sample_line(self.ml.stderr, "mremap",
                        r"moved (0x[0-9a-f]+) -> (0x[0-9a-f]+)")
        self.assertIsNotNone(m, self.ml.stderr[-2000:])
        old, new = int(m.group(1), 16), int(m.group(2), 16)
        self.assertNotEqual(old, new)
        self.check_region(region_at(self.p, new), self.expect["region"])
        old_region = region_at(self.p, old)
        self.assertTrue(old_region is None or old_region["origin"] != "mremap")


class BrkGrow(WatcherSample, unittest.TestCase):
    """brk calls are recorded at their entry when they cannot fail: the
    timeline must still never draw a growth the kernel refused."""
    sample = "brkgrow"

    def setUp(self):
        super().setUp()
        m = sample_line(self.ml.stderr, "brkgrow",
                        r"start (0x[0-9a-f]+) end (0x[0-9a-f]+) refused 1")
        self.assertIsNotNone(m, self.ml.stderr[-2000:])
        self.start, self.end = int(m.group(1), 16), int(m.group(2), 16)
        self.assertEqual(self.end - self.start, self.expect["heap_bytes"])
        heaps = [r for r in self.p["regions"] if r["kind"] == "heap"
                 and int(r["start"], 16) <= self.start < int(r["end"], 16)]
        self.assertEqual(len(heaps), 1, "no heap region holds %#x" % self.start)
        self.heap = heaps[0]

    def test_heap_region_ends_at_the_break(self):
        self.assertEqual(int(self.heap["end"], 16), self.end)

    def test_timeline_ends_at_the_break(self):
        sizes = [t["brk_bytes"] for t in self.p["timeline"]]
        self.assertEqual(sizes[-1], self.end - int(self.heap["start"], 16))

    def test_refused_growth_never_drawn(self):
        sizes = [t["brk_bytes"] for t in self.p["timeline"]]
        self.assertEqual(max(sizes), self.end - int(self.heap["start"], 16), sizes)


class SparseMapping(unittest.TestCase):
    """A 1 GiB-scale mapping that holds no block, only the pointer to one:
    the pointer still counts, and memlens keeps no copy of the mapping. With
    one touched page (8 GiB mapped) it does not even read the rest."""

    args = ()

    @classmethod
    def setUpClass(cls):
        h.require_memlens()
        cls.expect = h.expected("sparse", cls.args)
        saved = os.environ.get("MEMLENS_STATS")
        os.environ["MEMLENS_STATS"] = "1"
        try:
            cls.ml = h.run_memlens("sparse", cls.args)
        finally:
            if saved is None:
                del os.environ["MEMLENS_STATS"]
            else:
                os.environ["MEMLENS_STATS"] = saved

    def stat(self, name):
        m = re.search(r"%s=(\d+)" % name, self.ml.stderr)
        self.assertIsNotNone(m, self.ml.stderr[-3000:])
        return int(m.group(1))

    def test_leak_summary(self):
        self.assertIsNotNone(self.ml.json, self.ml.stderr[-3000:])
        summary = h.leak_summary(self.ml.json)
        for kind in h.KINDS:
            with self.subTest(kind=kind):
                self.assertEqual(summary[kind], self.expect[kind])

    def test_records_name_their_functions(self):
        records = self.ml.json["processes"][0]["leaks"]["records"]
        by_kind = {r["kind"]: r for r in records}
        self.assertTrue(names_function(by_kind["definite"], "lose"))
        self.assertTrue(names_function(by_kind["reachable"], "keep_in_sparse"))

    def test_mapping_not_copied(self):
        self.assertLess(self.stat("captured_bytes"), self.expect["mapping_bytes"] // 16)

    def test_mapping_read_only_where_written(self):
        scanned = self.stat("scanned_bytes")
        if self.expect["written"]:
            self.assertGreaterEqual(scanned, self.expect["mapping_bytes"])
        else:
            self.assertLess(scanned, self.expect["mapping_bytes"] // 16)


class WrittenMapping(SparseMapping):
    args = ("written",)


class Mprotect(WatcherSample, unittest.TestCase):
    sample = "mprotect"

    def test_two_regions(self):
        m = sample_line(self.ml.stderr, "mprotect", r"mapping at (0x[0-9a-f]+)")
        self.assertIsNotNone(m, self.ml.stderr[-2000:])
        base = int(m.group(1), 16)
        for want in self.expect["regions"]:
            with self.subTest(offset=want["offset"]):
                self.check_region(region_at(self.p, base + want["offset"]), want)


LAYOUT_LINE = re.compile(r"^==\d+== +(\S+) +([0-9a-f]+)-([0-9a-f]+) +([\d,]+)"
                         r" +([\d,]+) +([\d,]+) +(?:([r-][w-][x-][ps-]) )?(.*)$")


def text_layout(stderr):
    """PROCESS LAYOUT lines of the text report: (kind, start, end, KiB, path)."""
    at = stderr.find("PROCESS LAYOUT")
    if at < 0:
        return []
    rows = []
    for text in stderr[at:].splitlines()[2:]:
        m = LAYOUT_LINE.match(text)
        if not m:
            break                       # the blank line that ends the section
        rows.append((m.group(1), int(m.group(2), 16), int(m.group(3), 16),
                     int(m.group(4).replace(",", "")) * 1024, m.group(8).strip()))
    return rows


class LayoutChecks:
    """Mixin: the layout of a plain C program."""

    def kinds(self):
        return {r["kind"] for r in self.p["regions"]}

    def test_memlens_session_listed_apart(self):
        # The shim's event session is memlens's, not the program's: one range
        # in memlens_regions, overlapping none of the program's regions.
        own = self.p["memlens_regions"]
        self.assertEqual(len(own), 1, own)
        start, end = int(own[0]["start"], 16), int(own[0]["end"], 16)
        self.assertEqual(own[0]["size"], end - start)
        for r in self.p["regions"]:
            with self.subTest(region=r["start"]):
                self.assertTrue(int(r["end"], 16) <= start or int(r["start"], 16) >= end)

    def test_owner_of_every_region(self):
        # DESIGN "owner": the shim, the libraries it alone needs (the sample
        # links only libc: libunwind, liblzma and libgcc_s come with the shim)
        # and their .bss are memlens's; the program, libc and ld.so its own.
        regions = self.p["regions"]
        own = {"libmemlens.so", "libunwind.so.8", "liblzma.so.5", "libgcc_s.so.1"}
        theirs = {"libc.so.6", "ld-linux-x86-64.so.2"}
        seen = set()
        for i, r in enumerate(regions):
            name = os.path.basename(r["path"])
            lib = next((n for n in own | theirs if name.startswith(n)), None)
            with self.subTest(region=r["start"], path=r["path"]):
                self.assertIn(r["owner"], ("program", "memlens"))
                if r["path"] == self.p["exe"] or lib in theirs:
                    self.assertEqual(r["owner"], "program")
                elif lib in own:
                    self.assertEqual(r["owner"], "memlens")
                    seen.add(lib)
                elif r["kind"] == "bss" and i:
                    self.assertEqual(r["owner"], regions[i - 1]["owner"])
        self.assertIn("libmemlens.so", seen)
        listed = {os.path.basename(row[4]) for row in text_layout(self.ml.stderr) if row[0] == "object"}
        self.assertIn("libc.so.6", listed)
        self.assertNotIn("libmemlens.so", listed)
        self.assertRegex(self.ml.stderr, r"memlens's own, not the program's .* libmemlens\.so")

    def test_timeline_counts_only_the_programs(self):
        # The timeline's anonymous bytes at the end are the program's
        # anonymous mappings made by mmap (its libraries' .bss, its own maps);
        # memlens's (the shim's .bss, its libraries') are apart.
        regions = self.p["regions"]
        last = self.p["timeline"][-1]
        prog = sum(r["size"] for r in regions if r["owner"] == "program" and r["origin"] == "mmap"
                   and r["kind"] in ("bss", "mmap-anon", "guard"))
        # memlens's: the shim's libraries' .bss, its state block and the
        # block's two guard pages
        own = sum(r["size"] for r in regions if r["owner"] == "memlens"
                  and r["kind"] in ("bss", "mmap-anon", "guard"))
        self.assertGreater(own, 0)
        # the sample runs one thread: the shim maps one state block for it
        self.assertEqual(len([r for r in regions if r["owner"] == "memlens" and r["kind"] == "mmap-anon"]), 1)
        self.assertEqual(len([r for r in regions if r["owner"] == "memlens" and r["kind"] == "guard"]), 2)
        self.assertEqual(last["mmap_bytes"], prog)
        self.assertEqual(last["memlens_bytes"], own)

    def test_kinds_present(self):
        kinds = self.kinds()
        self.assertIn("text", kinds)
        self.assertTrue(kinds & {"data", "bss"}, kinds)
        self.assertIn("heap", kinds)
        self.assertIn("stack", kinds)

    def test_program_text_and_data(self):
        exe = self.p["exe"]
        mine = {r["kind"] for r in region_named(self.p, exe)}
        self.assertIn("text", mine)
        self.assertIn("data", mine)

    def test_one_heap_one_main_stack(self):
        self.assertEqual(len(region_named(self.p, "[heap]")), 1)
        self.assertEqual(len(region_named(self.p, "[stack]")), 1)
        (heap,) = region_named(self.p, "[heap]")
        self.assertEqual(heap["kind"], "heap")
        self.assertEqual(heap["origin"], "brk")
        self.assertGreater(heap["resident"], 0)

    def test_text_layout_agrees(self):
        rows = text_layout(self.ml.stderr)
        self.assertTrue(rows, "no PROCESS LAYOUT in the text report")
        (heap,) = region_named(self.p, "[heap]")
        text_heap = [r for r in rows if r[0] == "heap"]
        self.assertEqual(len(text_heap), 1, rows)
        _, start, end, size, _ = text_heap[0]
        self.assertEqual((start, end), (int(heap["start"], 16), int(heap["end"], 16)))
        self.assertEqual(size, heap["size"])
        (stack,) = region_named(self.p, "[stack]")
        text_stack = [r for r in rows if r[0] == "stack" and r[4] == "[stack]"]
        self.assertEqual(len(text_stack), 1, rows)
        self.assertEqual(text_stack[0][1:3],
                         (int(stack["start"], 16), int(stack["end"], 16)))


class Layout(WatcherSample, LayoutChecks, unittest.TestCase):
    sample = "layout"

    def own_maps(self, name):
        m = re.search(r"^layout: ([0-9a-f]+)-([0-9a-f]+) (\S+) .*\s%s$"
                      % re.escape(name), self.ml.stderr, re.M)
        self.assertIsNotNone(m, "the sample printed no %s line:\n%s"
                             % (name, self.ml.stderr[-2000:]))
        return int(m.group(1), 16), int(m.group(2), 16), m.group(3)

    def test_kinds_stated(self):
        kinds = self.kinds()
        for kind in self.expect["kinds"]:
            with self.subTest(kind=kind):
                self.assertIn(kind, kinds)

    def test_heap_equals_proc_maps(self):
        start, end, perms = self.own_maps("[heap]")
        (heap,) = region_named(self.p, "[heap]")
        self.assertEqual(int(heap["start"], 16), start)
        self.assertEqual(int(heap["end"], 16), end)
        self.assertEqual(heap["size"], end - start)
        self.assertEqual(heap["perms"], perms)

    def test_stack_equals_proc_maps(self):
        start, end, perms = self.own_maps("[stack]")
        (stack,) = region_named(self.p, "[stack]")
        self.assertEqual(stack["kind"], "stack")
        self.assertEqual(int(stack["end"], 16), end)
        # the exit path may grow the stack below what main saw
        self.assertLessEqual(int(stack["start"], 16), start)
        self.assertEqual(stack["perms"], perms)

    def test_bss_follows_data(self):
        exe = self.p["exe"]
        regions = self.p["regions"]
        for i, r in enumerate(regions):
            if r["kind"] == "bss" and i and regions[i - 1]["path"] == exe:
                self.assertEqual(regions[i - 1]["kind"], "data")
                self.assertEqual(regions[i - 1]["end"], r["start"])
                # 64 KiB + 256 KiB of zeroed globals, less what shares
                # the last page of .data
                self.assertGreaterEqual(r["size"], 320 * 1024 - 4096)
                return
        self.fail("no bss region right after the program's data")


class LeakyLayout(LayoutChecks, unittest.TestCase):
    """samples/leaky, a plain C program: its layout, whatever it leaks."""

    sample = "leaky"

    @classmethod
    def setUpClass(cls):
        h.require_memlens()
        cls.ml = h.run_memlens(cls.sample)
        cls.doc = cls.ml.json

    def setUp(self):
        self.assertIsNotNone(self.doc, self.ml.stderr[-4000:])
        self.p = process(self.doc)

    test_regions_are_consistent = WatcherSample.test_regions_are_consistent

    def test_brk_counted(self):
        self.assertGreaterEqual(self.p["syscalls"]["brk"], 1)
        self.assertGreaterEqual(self.p["syscalls"]["mmap"], 1)


if __name__ == "__main__":
    unittest.main()
