"""Resource limits: a program under limits behaves as natively, and memlens
reports it exactly or says why it cannot.

Figures come from the samples' own statements (samples/leaky.c via
`leaky --expect`, samples/aslimit.c, samples/manystacks.c, samples/fdlimit.c). Every run is bounded by a timeout that
the test checks was not hit.
"""

import json
import os
import tempfile
import unittest

import mlharness as h

LIMIT = 120


def summary(doc, i=0):
    return {k: doc["processes"][i]["leaks"]["summary"][k] for k in h.KINDS}


def run_json(cmd_prefix, args, shell_limits="", env=None):
    """memlens --json under `sh -c '<shell_limits>; exec memlens ...'`."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "r.json")
        line = "%s exec \"$@\"" % (shell_limits + ";" if shell_limits else "")
        cmd = ["sh", "-c", line, "sh", h.memlens_path(), "-q", "--json=" + out] + cmd_prefix + args
        status, stdout, err = h.run_bounded(cmd, LIMIT, env=env)
        doc = None
        if os.path.exists(out):
            with open(out) as f:
                doc = json.load(f)
    return status, stdout, err, doc


def definite_by(doc, function, i=0):
    blocks = size = 0
    for rec in doc["processes"][i]["leaks"]["records"]:
        if rec["kind"] == "definite" and any(f.get("function") == function for f in rec["stack"]):
            blocks += rec["blocks"]
            size += rec["bytes"]
    return blocks, size


class AddressSpace(unittest.TestCase):

    def test_leaks_exact_under_ulimit_v(self):
        # ulimit -v 1000000 (KiB) holds memlens and the program alike.
        status, _, err, doc = run_json([], [h.sample_path("leaky")], "ulimit -v 1000000")
        self.assertEqual(status, 0, err)
        self.assertNotIn("No allocation was seen", err)
        self.assertEqual(summary(doc), h.expected_summary("leaky"))

    def test_own_limit_gives_native_malloc_results(self):
        prog = h.sample_path("aslimit")
        native = h.run_bounded([prog, "malloc"], LIMIT)
        self.assertEqual(native[:2], (0, "malloc 209715200: ok\n"))
        status, out, err, doc = run_json([], [prog, "malloc"])
        self.assertEqual((status, out), native[:2], err)
        self.assertEqual(definite_by(doc, "leak_under_limit"), (1, 32))

    def test_says_when_it_cannot_record(self):
        # 48 MiB is room for leaky natively, not for memlens's session too.
        prog = h.sample_path("aslimit")
        self.assertEqual(h.run_bounded([prog, "exec", h.sample_path("leaky")], LIMIT)[0], 0)
        status, _, err, doc = run_json(["--trace-children=yes"], [prog, "exec", h.sample_path("leaky")])
        self.assertEqual(status, 0, err)
        self.assertIn("memlens could not record this process: its session could not be mapped "
                      "(Cannot allocate memory", err)
        self.assertNotIn("No allocation was seen", err)
        self.assertIn("session could not be mapped", doc["processes"][0]["not_recorded"])


    def test_says_when_memlens_itself_has_no_room(self):
        # ulimit -v 60000 (KiB) holds memlens too: no room for the session's
        # 84 MiB first mapping on either side.
        status, _, err, doc = run_json([], [h.sample_path("leaky")], "ulimit -v 60000")
        self.assertEqual(status, 0, err)
        self.assertIn("memlens could not record this process: its session could not be mapped", err)
        self.assertNotIn("No allocation was seen", err)


class Descriptors(unittest.TestCase):
    """samples/fdlimit: the process that leaks has no descriptor slot free."""

    def check(self, mode, leaker):
        prog = h.sample_path("fdlimit")
        self.assertEqual(h.run_bounded([prog, mode], LIMIT)[0], 0)     # natively fine
        # The suite's MEMLENS_CHECK_UNWIND compares each stack with libunwind's,
        # whose memory checks need a pipe: two descriptors the program lacks.
        env = {k: v for k, v in os.environ.items() if k != "MEMLENS_CHECK_UNWIND"}
        status, _, err, doc = run_json(["--trace-children=yes"], [prog, mode], env=env)
        self.assertEqual(status, 0, err)
        procs = doc["processes"]
        self.assertEqual(definite_by(doc, "leak_in_child", leaker), (1, 40))
        self.assertEqual(summary(doc, leaker)["definite"], {"blocks": 1, "bytes": 40})
        for i, p in enumerate(procs):
            if i != leaker:
                self.assertEqual(p["leaks"]["summary"]["definite"], {"blocks": 0, "bytes": 0})
        # memlens's session leaves no SysV segment behind
        with open("/proc/sysvipc/shm") as f:
            keys = [int(line.split()[0]) & 0xffffffff for line in f.readlines()[1:]]
        self.assertFalse([k for k in keys if k >> 16 == 0x6d6c], "a session segment was left")

    def test_every_slot_used_then_fork(self):
        self.check("fill", 1)          # the forked child, second in start order

    def test_nofile_3_then_exec(self):
        self.check("exec", 0)          # the new image of the one process


class StackTable(unittest.TestCase):

    def test_a_million_stacks_keep_every_record(self):
        # 2^20 distinct stacks, then the leak from a stack seen after them all.
        status, _, err, doc = run_json(["--num-callers=48"], [h.sample_path("manystacks")])
        self.assertEqual(status, 0, err)
        self.assertFalse(doc["processes"][0]["stacks_full"])
        self.assertEqual(summary(doc)["definite"], {"blocks": 1, "bytes": 24})
        self.assertEqual(definite_by(doc, "leak_after_many"), (1, 24))

    def frames_bytes(self, bits):
        env = dict(os.environ, MEMLENS_STATS="1")
        status, _, err, doc = run_json(["--num-callers=48"], [h.sample_path("manystacks"), str(bits)],
                                       env=env)
        self.assertEqual(status, 0, err)
        self.assertEqual(definite_by(doc, "leak_after_many"), (1, 24))
        for line in err.splitlines():
            if " frames_bytes=" in line:
                return int(line.split(" frames_bytes=")[1].split()[0])
        self.fail("no frames_bytes in " + err)

    def test_stacks_share_their_callers(self):
        # manystacks' leaf stack is leaf, walk at level BITS, the BITS walk
        # frames whose return address is the call site bit i of the path
        # picks, main and the three frames below it: BITS + 6 frames, past
        # ML_SPLIT_DEPTH (16) at BITS 11 and 12.  A record keeps its 8
        # innermost frames (8 + 8 * 8 bytes); the other frames (levels
        # BITS - 7 ... 0, main and below) are one stored stack per value of
        # the path's low BITS - 6 bits: 2^(BITS - 6) stacks of BITS - 2
        # frames (8 + 8 * (BITS - 2) bytes).  Everything else (the ring, the
        # leak's stack) is the same in both runs, so 2^12 against 2^11
        # paths differ by 2048 * 72 + (64 * 88 - 32 * 80) bytes; a table
        # of whole stacks would differ by 4096 * (8 + 8 * 18) - 2048 * (8 + 8 * 17).
        grew = self.frames_bytes(12) - self.frames_bytes(11)
        self.assertEqual(grew, 2048 * 72 + (64 * 88 - 32 * 80))


if __name__ == "__main__":
    unittest.main()
