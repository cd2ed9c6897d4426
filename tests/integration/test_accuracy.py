"""memlens gives memcheck's four leak kinds on the samples that pin down
one cause of difference each (samples/stalereuse, cliques, chunkhdr,
freehead, multiinherit, dlfail).

Each sample states its answer (`--expect`, derived from its code in its
header comment); memlens must give it, blocks and bytes, and so must
valgrind memcheck (--leak-check=full --show-leak-kinds=all
--run-libc-freeres=no) on the same binary: the comparison is skipped when
valgrind is not installed.
"""

import os
import subprocess
import tempfile
import unittest

import mlharness as h

LIBDIR = "/usr/lib/x86_64-linux-gnu"
# Debian's libjemalloc2, libtcmalloc-minimal4 and libmimalloc2.0.
ALLOCATORS = {
    "jemalloc": "libjemalloc.so.2",
    "tcmalloc": "libtcmalloc_minimal.so.4",
    "mimalloc": "libmimalloc.so.2",
}
# What an allocator allocates itself, through the program's operator new:
# tcmalloc's constructor registers its MallocExtension (new(8), the pointer
# kept where no root holds it: definitely lost) and keeps a 16-byte guard
# object (still reachable).  memcheck reports both as well.
OWN_BLOCKS = {
    "tcmalloc": {"definite": (1, 8), "reachable": (1, 16)},
}


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

    def test_free_chunk_header_in_a_heap_read_in_parts(self):
        self.check("freehead")

    def test_multiple_inheritance_vtable_test(self):
        self.check("multiinherit")

    def test_allocations_inside_the_loader(self):
        # No failed dl lookup of the shim's own may leave glibc's result
        # block behind for the program's failed dlopen to reuse.
        self.check("dlfail")


class OtherAllocators(unittest.TestCase):
    """samples/allocleaks gives its answer with jemalloc, tcmalloc and
    mimalloc, preloaded or linked, as with glibc: what an allocator maps
    for itself (its records point at every block) is never a root."""

    @classmethod
    def setUpClass(cls):
        h.require_memlens()
        cls.tmp = tempfile.TemporaryDirectory(prefix="allocleaks.")

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def want(self, name):
        want = h.expected_summary("allocleaks")
        for kind, (blocks, size) in OWN_BLOCKS.get(name, {}).items():
            want[kind] = {"blocks": want[kind]["blocks"] + blocks,
                          "bytes": want[kind]["bytes"] + size}
        return want

    def run_with(self, name, prog, env):
        lib = os.path.join(LIBDIR, ALLOCATORS[name])
        if not os.path.exists(lib):
            self.fail("%s is not installed (quickstart.sh check installs it)" % lib)
        saved = os.environ.copy()
        os.environ.update(env)
        try:
            run = h.run_memlens(prog, options=("--run-libc-freeres=no",))
        finally:
            os.environ.clear()
            os.environ.update(saved)
        self.assertIsNotNone(run.json, "no JSON; stderr:\n" + run.stderr[-3000:])
        heap = run.json["processes"][0]["heap"]
        self.assertEqual((os.path.realpath(heap["malloc"]), heap["glibc_only"]),
                         (os.path.realpath(lib), True),
                         "the heap figures must say they cover glibc's heap only")
        self.assertIn("these figures cover glibc's heap only", run.stderr)
        got = h.leak_summary(run.json)
        want = self.want(name)
        for kind in h.KINDS:
            with self.subTest(allocator=name, prog=prog, kind=kind):
                self.assertEqual(got[kind], want[kind], "memlens %s, expected %s" % (
                    h.summary_line(kind, got[kind]), h.summary_line(kind, want[kind])))

    def linked(self, name):
        """allocleaks built against the allocator's library."""
        out = os.path.join(self.tmp.name, "allocleaks-" + name)
        if not os.path.exists(out):
            src = os.path.join(h.SOURCE_DIR, "samples", "allocleaks.c")
            subprocess.run(["cc", "-std=gnu11", "-g", "-O0", "-fno-inline",
                            "-I" + os.path.join(h.SOURCE_DIR, "samples"), "-o", out, src,
                            os.path.join(LIBDIR, ALLOCATORS[name])], check=True)
        return out

    def test_glibc(self):
        run = h.run_memlens("allocleaks", options=("--run-libc-freeres=no",))
        self.assertEqual(h.leak_summary(run.json), h.expected_summary("allocleaks"))
        self.assertFalse(run.json["processes"][0]["heap"]["glibc_only"])

    def test_preloaded(self):
        for name, lib in ALLOCATORS.items():
            self.run_with(name, "allocleaks", {"LD_PRELOAD": os.path.join(LIBDIR, lib)})

    def test_linked(self):
        for name in ALLOCATORS:
            self.run_with(name, self.linked(name), {})


if __name__ == "__main__":
    unittest.main()
