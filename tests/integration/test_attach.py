"""memlens -p PID: attach to a running service, report its leaks, leave it running.

The figures come from samples/service.c, which states them itself
(`service --expect`): it leaks LEAK_SIZE-byte blocks in leak_request() at
exactly LEAK_RATE a second (by the clock), allocates and frees in
handle_request(), and keeps blocks in remember() that are reachable only
through a block allocated before any attach.
"""

import json
import os
import signal
import subprocess
import tempfile
import time
import unittest

import mlharness as h


def status_field(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return line.split(":", 1)[1].strip()
    return None


class Service:
    """samples/service running in the background, writing its tick count."""

    def __init__(self, prog="service", lifetime=None, plugin=None):
        self.dir = tempfile.TemporaryDirectory(prefix="mlattach.")
        self.progress_file = os.path.join(self.dir.name, "progress")
        args = [h.require_sample(prog), self.progress_file]
        if lifetime or plugin:
            args.append(str(lifetime or 0))
        if plugin:
            args.append(plugin)
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.pid = self.proc.pid
        deadline = time.time() + 10
        while self.ticks() < 20 and time.time() < deadline:   # past its start-up
            time.sleep(0.05)

    def ticks(self):
        try:
            with open(self.progress_file) as f:
                return int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            return 0

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.dir.cleanup()


def attach(pid, options=(), timeout=120):
    """Run memlens -p pid with options; returns (status, json doc, stderr)."""
    with tempfile.TemporaryDirectory(prefix="mlattach.") as tmp:
        out = os.path.join(tmp, "report.json")
        p = subprocess.run([h.memlens_path(), "--json=" + out, "-p", str(pid)] + list(options),
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=timeout)
        doc = None
        if os.path.exists(out) and os.path.getsize(out) > 0:
            with open(out) as f:
                doc = json.load(f)
    return p.returncode, doc, p.stderr.decode("utf-8", "replace")


def records_of(doc, kind, function):
    return [r for r in doc["processes"][0]["leaks"]["records"]
            if r["kind"] == kind and function in h.frame_functions(r)]


class AttachToService(unittest.TestCase):
    """One 3-second attach; each test checks one property of it."""

    SECONDS = 3.0

    @classmethod
    def setUpClass(cls):
        h.require_memlens()
        cls.expect = h.expected("service")
        cls.svc = Service()
        cls.status, cls.doc, cls.stderr = attach(cls.svc.pid, ["--duration=%g" % cls.SECONDS])
        cls.after = time.time()

    @classmethod
    def tearDownClass(cls):
        cls.svc.stop()

    def test_exits_zero_and_reports_detached(self):
        self.assertEqual(self.status, 0, self.stderr)
        self.assertEqual(self.doc["mode"], "attach")
        p = self.doc["processes"][0]
        self.assertEqual(p["pid"], self.svc.pid)
        self.assertEqual(p["exit"], {"detached": True})
        self.assertTrue(p["scanned"])
        self.assertEqual(os.path.basename(self.doc["command"][0]), "service")

    def test_leaking_function_at_its_rate(self):
        recs = records_of(self.doc, "definite", self.expect["leak_function"])
        self.assertEqual(len(recs), 1, self.stderr)
        rec = recs[0]
        want = self.expect["leak_rate"] * self.SECONDS
        self.assertGreaterEqual(rec["blocks"], 0.8 * want)
        self.assertLessEqual(rec["blocks"], 1.2 * want)
        self.assertEqual(rec["bytes"], rec["blocks"] * self.expect["leak_size"])

    def test_only_the_leak_is_definitely_lost(self):
        s = self.doc["processes"][0]["leaks"]["summary"]
        rec = records_of(self.doc, "definite", self.expect["leak_function"])[0]
        self.assertEqual(s["definite"], {"blocks": rec["blocks"], "bytes": rec["bytes"]})
        self.assertEqual(s["possible"]["blocks"], 0)
        self.assertEqual(s["indirect"]["blocks"], 0)
        for fn in self.expect["not_leaking_functions"]:
            for kind in ("definite", "possible", "indirect"):
                self.assertEqual(records_of(self.doc, kind, fn), [],
                                 "%s blamed as %s" % (fn, kind))

    def test_blocks_held_by_an_older_block_are_reachable(self):
        # remember() keeps its 64 slots' blocks in `registry`, allocated
        # before the attach: memory memlens never saw is a root.
        recs = records_of(self.doc, "reachable", "remember")
        self.assertEqual(len(recs), 1)
        self.assertLessEqual(recs[0]["blocks"], 64)
        self.assertEqual(recs[0]["bytes"], recs[0]["blocks"] * 40)

    def test_ages_span_the_window(self):
        rec = records_of(self.doc, "definite", self.expect["leak_function"])[0]
        age = rec["age_seconds"]
        self.assertGreater(age["oldest"], 0.8 * self.SECONDS)
        self.assertLess(age["oldest"], self.SECONDS + 1.0)
        self.assertLess(age["newest"], 0.5)
        self.assertGreaterEqual(age["newest"], 0.0)

    def test_service_runs_on_untraced(self):
        self.assertIsNone(self.svc.proc.poll(), "the service died")
        self.assertEqual(status_field(self.svc.pid, "TracerPid"), "0")
        self.assertEqual(status_field(self.svc.pid, "Seccomp"), "0")
        before = self.svc.ticks()
        time.sleep(0.5)
        self.assertGreater(self.svc.ticks(), before + 10, "the service stopped making progress")


class AttachEnds(unittest.TestCase):

    def test_ctrl_c_ends_the_recording(self):
        svc = Service()
        try:
            with tempfile.TemporaryDirectory(prefix="mlattach.") as tmp:
                out = os.path.join(tmp, "r.json")
                m = subprocess.Popen([h.memlens_path(), "-q", "--json=" + out, "-p", str(svc.pid)],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
                time.sleep(1.5)
                m.send_signal(signal.SIGINT)
                _, err = m.communicate(timeout=60)
                self.assertEqual(m.returncode, 0, err)
                with open(out) as f:
                    doc = json.load(f)
            self.assertEqual(doc["processes"][0]["exit"], {"detached": True})
            self.assertEqual(len(records_of(doc, "definite", "leak_request")), 1)
            self.assertIsNone(svc.proc.poll())
            self.assertEqual(status_field(svc.pid, "TracerPid"), "0")
        finally:
            svc.stop()

    def test_library_loaded_later(self):
        # The plugin is dlopen'ed about a second after the service starts,
        # after the attach: its allocations are recorded too.
        expect = h.expected("service")
        plugin = os.path.join(h.build_dir(), "samples", ".libs", "plugin.so")
        self.assertTrue(os.path.exists(plugin), plugin + " not built")
        svc = Service(plugin=plugin)
        try:
            status, doc, err = attach(svc.pid, ["--duration=2.5"])
            self.assertEqual(status, 0, err)
            recs = records_of(doc, "definite", expect["plugin_function"])
            self.assertEqual(len(recs), 1, err)
            self.assertGreaterEqual(recs[0]["blocks"], 0.5 * expect["plugin_leak_rate"])
            self.assertEqual(recs[0]["bytes"], recs[0]["blocks"] * expect["plugin_leak_size"])
            self.assertEqual(len(records_of(doc, "definite", expect["leak_function"])), 1)
        finally:
            svc.stop()

    def test_memlens_killed_leaves_it_running(self):
        # SIGKILL gives memlens no chance to detach: the kernel does, and
        # the shim, seeing no tracer, puts the GOT entries back itself.
        svc = Service()
        try:
            m = subprocess.Popen([h.memlens_path(), "-q", "-p", str(svc.pid)],
                                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
            time.sleep(1.5)
            m.kill()
            m.wait()
            time.sleep(0.3)
            self.assertIsNone(svc.proc.poll(), "the service died with memlens")
            self.assertEqual(status_field(svc.pid, "TracerPid"), "0")
            self.assertTrue(status_field(svc.pid, "State").startswith(("S", "R")))
            before = svc.ticks()
            time.sleep(0.5)
            self.assertGreater(svc.ticks(), before + 10)
        finally:
            svc.stop()

    def test_target_exits_while_recorded(self):
        # The service ends by itself 2 s after start; memlens reports it
        # with its exit status and exits with it.
        svc = Service(lifetime=2)
        try:
            status, doc, err = attach(svc.pid, ["--duration=30"])
            self.assertEqual(status, 0, err)
            p = doc["processes"][0]
            self.assertEqual(p["exit"], {"code": 0})
            self.assertEqual(len(records_of(doc, "definite", "leak_request")), 1)
        finally:
            svc.stop()

    def test_interval_names_the_growing_site(self):
        svc = Service()
        try:
            status, doc, err = attach(svc.pid, ["--duration=3.5", "--interval=1"])
            self.assertEqual(status, 0, err)
            # Sites that grew in two intervals in a row or more: a sample may
            # catch one of handle_request's short-lived buffers once, never
            # twice in a row growing.
            growth = [l for l in err.splitlines()
                      if "unfreed at" in l and "growing 1 interval in a row" not in l]
            self.assertTrue(any("leak_request" in l for l in growth), err)
            self.assertFalse(any("handle_request" in l for l in growth), err)
        finally:
            svc.stop()


class AttachErrors(unittest.TestCase):
    """Each failure: exit 125, a sentence naming the cause, the target untouched."""

    def check_error(self, pid, words):
        status, doc, err = attach(pid, ["-q"])
        self.assertEqual(status, 125, err)
        self.assertIn("memlens: error: -p %d: " % pid, err)
        for w in words:
            self.assertIn(w, err)
        self.assertIsNone(doc)

    def test_no_such_process(self):
        p = subprocess.Popen(["true"])
        p.wait()                      # reaped: the pid is free
        self.check_error(p.pid, ["no such process"])

    def test_exited_process(self):
        p = subprocess.Popen(["true"])
        time.sleep(0.3)               # a zombie: exited, not reaped
        try:
            self.check_error(p.pid, ["exited"])
        finally:
            p.wait()

    def test_statically_linked(self):
        svc = Service("service-static")
        try:
            self.check_error(svc.pid, ["statically linked"])
            self.assertIsNone(svc.proc.poll())
            self.assertEqual(status_field(svc.pid, "TracerPid"), "0")
            before = svc.ticks()
            time.sleep(0.3)
            self.assertGreater(svc.ticks(), before)
        finally:
            svc.stop()

    def test_already_traced(self):
        # The service runs under memlens itself (run mode): it has a tracer.
        with tempfile.TemporaryDirectory(prefix="mlattach.") as tmp:
            progress = os.path.join(tmp, "progress")
            runner = subprocess.Popen([h.memlens_path(), "-q", "--", h.require_sample("service"),
                                       progress], stdin=subprocess.DEVNULL,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                deadline = time.time() + 20
                while not os.path.exists(progress) and time.time() < deadline:
                    time.sleep(0.05)
                target = h.descendant_pid(runner.pid, b"service")
                tracer = status_field(target, "TracerPid")   # the process memlens traces from
                self.check_error(target, ["already traced by process %s" % tracer])
                self.assertEqual(h._parent(int(tracer)), runner.pid)
            finally:
                runner.kill()
                runner.wait()

    @unittest.skipUnless(os.geteuid() == 0, "needs root to run memlens as another user")
    def test_not_allowed(self):
        svc = Service()
        try:
            p = subprocess.run(list(h.AS_NOBODY) + [h.memlens_for_nobody(), "-q", "-p", str(svc.pid)],
                               stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
            err = p.stderr.decode()
            self.assertEqual(p.returncode, 125, err)
            self.assertIn("not allowed to trace it", err)
            self.assertIsNone(svc.proc.poll())
            self.assertEqual(status_field(svc.pid, "TracerPid"), "0")
        finally:
            svc.stop()


if __name__ == "__main__":
    unittest.main()
