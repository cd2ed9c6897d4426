"""memlens gives memcheck's four leak kinds on the samples that pin down
one cause of difference each (samples/stalereuse, cliques, chunkhdr,
multiinherit, dlfail).

Each sample states its answer (`--expect`, derived from its code in its
header comment); memlens must give it, blocks and bytes, and so must
valgrind memcheck (--leak-check=full --show-leak-kinds=all
--run-libc-freeres=no) on the same binary: the comparison is skipped when
valgrind is not installed.
"""

import unittest

import mlharness as h


class AccuracySamples(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        h.require_memlens()

    def check(self, prog):
        want = h.expected_summary(prog)
        # the same freeres setting as memcheck's reference flags
        run = h.run_memlens(prog, options=("--run-libc-freeres=no",))
        self.assertIsNotNone(
            run.json, "memlens wrote no JSON for %s (exit %d); stderr:\n%s"
            % (prog, run.status, run.stderr[-4000:]))
        got = h.leak_summary(run.json)
        vg = h.run_valgrind(prog) if h.have_valgrind() else None
        for kind in h.KINDS:
            with self.subTest(sample=prog, kind=kind):
                self.assertEqual(got[kind], want[kind], "memlens %s, expected %s" % (
                    h.summary_line(kind, got[kind]), h.summary_line(kind, want[kind])))
                if vg is not None:
                    self.assertEqual(vg[kind], want[kind], "valgrind %s, expected %s" % (
                        h.summary_line(kind, vg[kind]), h.summary_line(kind, want[kind])))

    def test_no_stale_pointers_in_reused_chunks(self):
        self.check("stalereuse")

    def test_clique_leader_in_allocation_order(self):
        self.check("cliques")

    def test_chunk_header_is_no_interior_pointer(self):
        self.check("chunkhdr")

    def test_multiple_inheritance_vtable_test(self):
        self.check("multiinherit")

    def test_allocations_inside_the_loader(self):
        # No failed dl lookup of the shim's own may leave glibc's result
        # block behind for the program's failed dlopen to reuse.
        self.check("dlfail")


if __name__ == "__main__":
    unittest.main()
