"""Hostile targets, crashes, kills and big programs: same answers, nothing lost.

Figures come from the samples' own statements (samples/hostile.c,
samples/manythreads.c, samples/bigheap.c, samples/leaky.c).
"""

import os
import signal
import subprocess
import time
import unittest

import mlharness as h

CRASH = {"definite": {"blocks": 1, "bytes": 48}, "indirect": {"blocks": 0, "bytes": 0},
         "possible": {"blocks": 0, "bytes": 0}, "reachable": {"blocks": 1, "bytes": 100}}
ONE_64 = {"definite": {"blocks": 1, "bytes": 64}, "indirect": {"blocks": 0, "bytes": 0},
          "possible": {"blocks": 0, "bytes": 0}, "reachable": {"blocks": 0, "bytes": 0}}


def kinds(doc, i=0):
    return {k: doc["processes"][i]["leaks"]["summary"][k] for k in h.KINDS}


def definite_functions(doc, i=0):
    out = set()
    for rec in doc["processes"][i]["leaks"]["records"]:
        if rec["kind"] == "definite":
            out.update(f["function"] or "" for f in rec["stack"])
    return out


class Crashes(unittest.TestCase):

    def check(self, mode, status, signame):
        run = h.run_memlens("hostile", args=[mode])
        self.assertEqual(run.status, status)
        p = run.json["processes"][0]
        self.assertEqual(p["exit"], {"signal": signame})
        self.assertTrue(p["scanned"], "the exit snapshot must be taken even for %s" % signame)
        self.assertEqual(kinds(run.json), CRASH)
        self.assertIn("lose", definite_functions(run.json))

    def test_segv(self):
        self.check("segv", 128 + signal.SIGSEGV, "SIGSEGV")

    def test_abort(self):
        self.check("abort", 128 + signal.SIGABRT, "SIGABRT")

    def test_sigkill_self(self):
        self.check("kill", 128 + signal.SIGKILL, "SIGKILL")


def start(args, json_path, sample="hostile", stderr=subprocess.DEVNULL):
    return subprocess.Popen([h.memlens_path(), "--json=" + json_path, "--", h.sample_path(sample)] + args,
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr)


def target_pid(memlens_pid, timeout=20, name=b"hostile"):
    """The traced process under memlens (a child of the tracer memlens
    forks) once it has exec'ed the sample."""
    return h.descendant_pid(memlens_pid, name, timeout)


def wait_paused(pid, timeout=20):
    """Until the target sleeps in pause(): its allocations are done."""
    end = time.time() + timeout
    while time.time() < end:
        with open("/proc/%d/wchan" % pid) as f:
            if f.read() not in ("", "0"):
                with open("/proc/%d/syscall" % pid) as g:
                    if g.read().split()[0] == "34":     # pause
                        return
        time.sleep(0.05)


class Killed(unittest.TestCase):

    def test_sigkill_from_outside_loses_nothing(self):
        path = os.path.join(h.build_dir(), "tests", "killed.json")
        m = start(["pause"], path)
        pid = target_pid(m.pid)
        wait_paused(pid)
        os.kill(pid, signal.SIGKILL)
        m.wait(timeout=60)
        self.assertEqual(m.returncode, 128 + signal.SIGKILL)
        import json
        with open(path) as f:
            doc = json.load(f)
        os.unlink(path)
        self.assertEqual(doc["processes"][0]["exit"], {"signal": "SIGKILL"})
        self.assertTrue(doc["processes"][0]["scanned"])
        self.assertEqual(kinds(doc), CRASH)

    def test_memlens_killed_leaves_no_target_stopped(self):
        path = os.path.join(h.build_dir(), "tests", "orphan.json")
        m = start(["pause"], path)
        pid = target_pid(m.pid)
        wait_paused(pid)
        m.kill()
        m.wait(timeout=20)
        end = time.time() + 10
        state = None
        while time.time() < end:
            try:
                with open("/proc/%d/status" % pid) as f:
                    status = f.read()
            except OSError:
                state = "gone"
                break
            state = [l for l in status.splitlines() if l.startswith("State:")][0]
            if "Z" in state or "X" in state:
                break
            time.sleep(0.05)
        self.assertTrue(state == "gone" or "Z" in state or "X" in state,
                        "target left behind: %s" % state)
        if os.path.exists(path):
            os.unlink(path)

    def test_sigterm_to_memlens_reaches_the_target(self):
        path = os.path.join(h.build_dir(), "tests", "term.json")
        m = start(["pause"], path)
        pid = target_pid(m.pid)
        wait_paused(pid)
        m.send_signal(signal.SIGTERM)
        m.wait(timeout=60)
        self.assertEqual(m.returncode, 128 + signal.SIGTERM)
        import json
        with open(path) as f:
            doc = json.load(f)
        os.unlink(path)
        self.assertEqual(doc["processes"][0]["exit"], {"signal": "SIGTERM"})
        self.assertEqual(kinds(doc), CRASH)


class NoRoomForTheCopy(unittest.TestCase):
    """memlens's address space is limited while the program waits, to less
    than the program's 512 MiB buffer (a live block): memlens reads the
    heaps that hold live blocks in pieces instead of copying them, so it
    needs no room for one; the report is whole and the leak kinds right."""

    def test_heap_read_without_a_copy(self):
        import json
        import resource
        expect = h.expected("holdmem")
        path = os.path.join(h.build_dir(), "tests", "holdmem.json")
        m = start([], path, sample="holdmem", stderr=subprocess.PIPE)
        pid = target_pid(m.pid, name=b"holdmem")
        wait_paused(pid)
        with open("/proc/%d/status" % pid) as f:     # the memlens process that traces it
            tracer = int([l for l in f if l.startswith("TracerPid:")][0].split()[1])
        with open("/proc/%d/status" % tracer) as f:
            size = int([l for l in f if l.startswith("VmSize:")][0].split()[1]) * 1024
        # Room for the report's own needs, not for a copy of the mapping.
        resource.prlimit(tracer, resource.RLIMIT_AS,
                         (size + expect["buffer_bytes"] // 2, resource.RLIM_INFINITY))
        os.kill(pid, signal.SIGUSR1)
        _, err = m.communicate(timeout=60)
        self.assertEqual(m.returncode, 0, err.decode(errors="replace")[-3000:])
        with open(path) as f:
            doc = json.load(f)
        os.unlink(path)
        p = doc["processes"][0]
        self.assertEqual(p["uncopied_bytes"], 0)
        self.assertEqual(p["unread_bytes"], 0)
        self.assertNotIn("could not be copied at exit", err.decode(errors="replace"))
        # The block's only pointer lies in the buffer, which was read in
        # pieces: it is still found.
        self.assertEqual(kinds(doc)["reachable"],
                         {"blocks": 2, "bytes": expect["buffer_bytes"] + expect["block_bytes"]})
        self.assertEqual(kinds(doc)["definite"], {"blocks": 0, "bytes": 0})

    def test_with_room_block_reachable(self):
        expect = h.expected("holdmem")
        path = os.path.join(h.build_dir(), "tests", "holdmem-room.json")
        m = start([], path, sample="holdmem")
        pid = target_pid(m.pid, name=b"holdmem")
        wait_paused(pid)
        os.kill(pid, signal.SIGUSR1)
        m.wait(timeout=60)
        import json
        with open(path) as f:
            doc = json.load(f)
        os.unlink(path)
        self.assertEqual(doc["processes"][0]["unread_bytes"], 0)
        self.assertEqual(doc["processes"][0]["uncopied_bytes"], 0)
        self.assertEqual(kinds(doc)["reachable"],
                         {"blocks": 2, "bytes": expect["buffer_bytes"] + expect["block_bytes"]})
        self.assertEqual(kinds(doc)["definite"], {"blocks": 0, "bytes": 0})


class JobControl(unittest.TestCase):

    def state(self, pid):
        with open("/proc/%d/status" % pid) as f:
            return [l.split()[1] for l in f if l.startswith("State:")][0]

    def test_stop_continue_and_handled_signal(self):
        path = os.path.join(h.build_dir(), "tests", "jobs.json")
        m = start(["usr1"], path)
        pid = target_pid(m.pid)
        wait_paused(pid)
        os.kill(pid, signal.SIGSTOP)
        end = time.time() + 10
        stopped = ("T", "t")       # a traced process in group-stop shows "t"
        # The signal-delivery stop also shows "t", and the target runs for a
        # moment after it, on its way to the group-stop: wait until it has
        # stayed stopped for 100 ms.
        while time.time() < end:
            if self.state(pid) in stopped:
                time.sleep(0.1)
                if self.state(pid) in stopped:
                    break
            time.sleep(0.05)
        self.assertIn(self.state(pid), stopped, "SIGSTOP must stop the target (group-stop)")
        time.sleep(0.3)
        self.assertIn(self.state(pid), stopped, "the target must stay stopped until SIGCONT")
        os.kill(pid, signal.SIGCONT)
        end = time.time() + 10
        while self.state(pid) in stopped and time.time() < end:
            time.sleep(0.05)
        self.assertNotIn(self.state(pid), stopped)
        os.kill(pid, signal.SIGUSR1)
        m.wait(timeout=60)
        self.assertEqual(m.returncode, 0)
        import json
        with open(path) as f:
            doc = json.load(f)
        os.unlink(path)
        self.assertEqual(kinds(doc)["definite"], {"blocks": 2, "bytes": 80})
        self.assertIn("on_usr1", definite_functions(doc))


class Hostile(unittest.TestCase):

    def test_closes_every_descriptor(self):
        run = h.run_memlens("hostile", args=["closefds"])
        self.assertEqual(run.status, 0)
        self.assertEqual(kinds(run.json), ONE_64)
        self.assertIn("leak_after_close", definite_functions(run.json))

    def test_changes_rlimits(self):
        run = h.run_memlens("hostile", args=["rlimit"])
        self.assertEqual(run.status, 0)
        self.assertEqual(kinds(run.json), ONE_64)

    def test_environment_cleared_before_exec(self):
        leaky = h.expected_summary("leaky")
        for mode in ("clearenv", "unsetpreload", "emptyenv"):
            with self.subTest(mode=mode):
                run = h.run_memlens("hostile", args=[mode, h.sample_path("leaky")],
                                    options=["--trace-children=yes"])
                self.assertEqual(run.status, 0)
                self.assertTrue(run.json["processes"][0]["exe"].endswith("/leaky"))
                self.assertEqual(kinds(run.json), leaky)

    def test_own_allocator_says_no_allocation_seen(self):
        run = h.run_memlens("ownalloc")
        self.assertEqual(run.status, 0)
        self.assertIn("No allocation was seen", run.stderr)
        self.assertNotIn("definitely lost", run.stderr)


class BadInput(unittest.TestCase):
    """memlens's own failures: exit 125 and a sentence naming the cause."""

    def check(self, args, cause):
        status, out, err = h.run_memlens_cli(args)
        self.assertEqual(status, 125, err)
        self.assertIn("memlens: error:", err)
        self.assertIn(cause, err)
        self.assertNotIn("Traceback", err)

    def test_unknown_option(self):
        self.check(["--no-such-option", "--", "/bin/true"], "--no-such-option")

    def test_bad_option_value(self):
        self.check(["--leak-check=sometimes", "/bin/true"], "sometimes")
        self.check(["--num-callers=0", "/bin/true"], "num-callers")

    def test_no_program(self):
        self.check([], "no program")

    def test_unreadable_suppressions(self):
        self.check(["--suppressions=/nonexistent/x.supp", "/bin/true"], "/nonexistent/x.supp")

    def test_unwritable_outputs(self):
        for opt in ("--json", "--log-file", "--html"):
            with self.subTest(option=opt):
                self.check([opt + "=/nonexistent/dir/out", "/bin/true"], "/nonexistent/dir/out")

    def test_bad_pid(self):
        self.check(["-p", "999999999"], "999999999")
        self.check(["-p", "abc"], "abc")


class Big(unittest.TestCase):

    def test_thousand_threads(self):
        exp = h.expected("manythreads", args=["1000"])
        run = h.run_memlens("manythreads", args=["1000"])
        self.assertEqual(run.status, 0)
        s = run.json["processes"][0]["leaks"]["summary"]
        self.assertEqual(s["definite"], exp["definite"])
        self.assertEqual(s["reachable"], exp["reachable"])
        a = run.json["processes"][0]["allocations"]
        self.assertGreaterEqual(a["calls"], exp["worker_allocs"])
        self.assertGreaterEqual(a["frees"], exp["worker_frees"])
        self.assertEqual(a["unknown_frees"], 0)
        self.assertEqual(a["live_blocks"], exp["threads"])

    def test_ten_million_live_blocks(self):
        exp = h.expected("bigheap")
        run = h.run_memlens("bigheap", options=["-q"])
        self.assertEqual(run.status, 0)
        p = run.json["processes"][0]
        self.assertEqual(p["allocations"]["calls"], exp["calls"])
        self.assertEqual(p["allocations"]["frees"], exp["frees"])
        self.assertEqual(kinds(run.json), {k: exp[k] for k in h.KINDS})


if __name__ == "__main__":
    unittest.main()
