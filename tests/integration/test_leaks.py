"""memlens's leak answer on each sample equals what the sample says it did.

Each sample prints its own truth with `--expect` (blocks and bytes per leak
kind, the functions that allocate its definitely lost blocks, its exit
status); memlens runs the sample once per class and every test checks one
part of the report against that truth.
"""

import os
import re
import unittest

import mlharness as h


class SampleLeaks:
    """Mixin: the checks that apply to every leak sample."""

    sample = None

    @classmethod
    def setUpClass(cls):
        h.require_memlens()
        cls.expect = h.expected(cls.sample)
        cls.ml = h.run_memlens(cls.sample)
        cls.doc = cls.ml.json

    def setUp(self):
        self.assertIsNotNone(
            self.doc, "memlens wrote no JSON for %s (exit %d); stderr:\n%s"
            % (self.sample, self.ml.status, self.ml.stderr[-4000:]))

    # -- helpers ---------------------------------------------------------

    def process(self):
        procs = self.doc["processes"]
        self.assertGreaterEqual(len(procs), 1, "no process in the report")
        return procs[0]

    def records(self, kind):
        return [r for r in self.process()["leaks"]["records"]
                if r["kind"] == kind]

    def describe(self, record):
        return "%d bytes in %d blocks, stack %s" % (
            record["bytes"], record["blocks"],
            " <- ".join("%s (%s:%s)" % (f.get("function"), f.get("file"),
                                         f.get("line"))
                        for f in record.get("stack", [])))

    def expected_function_frame(self, record):
        """The first frame of the record that names an expected definite
        function, or None."""
        for frame in record.get("stack", []):
            for fn in self.expect["definite_functions"]:
                if h.function_matches(frame.get("function"), fn):
                    return fn, frame
        return None

    # -- checks ----------------------------------------------------------

    def test_exit_status_is_the_targets(self):
        self.assertEqual(self.ml.status, self.expect["exit_code"],
                         "stderr:\n" + self.ml.stderr[-4000:])

    def test_exit_recorded(self):
        self.assertEqual(self.process()["exit"],
                         {"code": self.expect["exit_code"]})

    def test_summary_equals_expect(self):
        summary = h.leak_summary(self.doc)
        for kind in h.KINDS:
            with self.subTest(kind=kind):
                self.assertEqual(summary[kind],
                                 {"blocks": self.expect[kind]["blocks"],
                                  "bytes": self.expect[kind]["bytes"]})

    def test_nothing_suppressed(self):
        suppressed = self.process()["leaks"]["summary"]["suppressed"]
        self.assertEqual((suppressed["blocks"], suppressed["bytes"]), (0, 0))

    def test_definite_records_add_up_to_summary(self):
        recs = self.records("definite")
        total = {"blocks": sum(r["blocks"] for r in recs),
                 "bytes": sum(r["bytes"] for r in recs)}
        self.assertEqual(total, h.leak_summary(self.doc)["definite"])

    def test_every_definite_record_is_from_an_expected_function(self):
        for rec in self.records("definite"):
            with self.subTest(record=self.describe(rec)):
                self.assertIsNotNone(
                    self.expected_function_frame(rec),
                    "no frame names one of %s"
                    % self.expect["definite_functions"])

    def test_every_expected_function_has_a_definite_record(self):
        recs = self.records("definite")
        for fn in self.expect["definite_functions"]:
            with self.subTest(function=fn):
                self.assertTrue(
                    any(h.function_matches(f, fn)
                        for r in recs for f in h.frame_functions(r)),
                    "no definite record has %s in its stack; records:\n%s"
                    % (fn, "\n".join(self.describe(r) for r in recs)))

    def test_definite_frames_have_source_lines(self):
        source = h.sample_source(self.sample)
        for rec in self.records("definite"):
            with self.subTest(record=self.describe(rec)):
                found = self.expected_function_frame(rec)
                self.assertIsNotNone(found)
                fn, frame = found
                self.assertEqual(os.path.basename(frame.get("file") or ""),
                                 source,
                                 "frame of %s names no source file" % fn)
                self.assertIsInstance(frame.get("line"), int)
                self.assertGreater(frame["line"], 0)
                self.assertEqual(
                    os.path.basename(frame.get("module") or ""), self.sample,
                    "frame of %s is not in the sample's executable" % fn)
                self.assertTrue(
                    re.fullmatch(r"0x[0-9a-fA-F]+", frame.get("address", "")),
                    "frame address %r is not hexadecimal"
                    % frame.get("address"))

    def test_text_report_has_leak_summary(self):
        err = self.ml.stderr
        self.assertIn("LEAK SUMMARY", err)
        for kind in h.KINDS:
            with self.subTest(kind=kind):
                self.assertIn(h.summary_line(kind, self.expect[kind]), err)


class LeakyTest(SampleLeaks, unittest.TestCase):
    sample = "leaky"


class CxxLeaksTest(SampleLeaks, unittest.TestCase):
    sample = "cxxleaks"


class ThreadsTest(SampleLeaks, unittest.TestCase):
    sample = "threads"


class ExitCodeTest(SampleLeaks, unittest.TestCase):
    """No leak at all: every kind is zero and no record is definite."""
    sample = "exitcode"

    def test_no_definite_record(self):
        self.assertEqual(self.records("definite"), [])

    def test_text_report_has_leak_summary(self):
        # memcheck says "All heap blocks were freed -- no leaks are
        # possible" instead of a LEAK SUMMARY when nothing is left; accept
        # that, or a LEAK SUMMARY of zeros.
        err = self.ml.stderr
        if "LEAK SUMMARY" in err:
            for kind in h.KINDS:
                with self.subTest(kind=kind):
                    self.assertIn(h.summary_line(kind, self.expect[kind]),
                                  err)
        else:
            self.assertIn("no leaks are possible", err)


if __name__ == "__main__":
    unittest.main()
