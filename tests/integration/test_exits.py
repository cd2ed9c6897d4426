"""How processes end: memlens returns when its program has ended, and on SIGTERM.

Figures come from the samples' own statements (samples/leaderexit.c,
samples/daemon.c).
Every run is bounded by a timeout that the test checks was not hit.
"""

import json
import os
import signal
import subprocess
import tempfile
import time
import unittest

import mlharness as h

LIMIT = 60


def records(doc, kind, function):
    """(blocks, bytes) of the records of `kind` whose stack names `function`,
    over every process of doc."""
    blocks = size = 0
    for proc in doc["processes"]:
        for rec in proc["leaks"]["records"]:
            if rec["kind"] == kind and any(f.get("function") == function for f in rec["stack"]):
                blocks += rec["blocks"]
                size += rec["bytes"]
    return blocks, size


class LeaderExitsFirst(unittest.TestCase):
    """main() calls pthread_exit; the worker later calls exit(0)."""

    def test_returns_with_the_workers_leak(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "r.json")
            status, _, err = h.run_bounded([h.memlens_path(), "--json=" + out, "-q",
                                            h.sample_path("leaderexit")], LIMIT)
            self.assertEqual(status, 0, err)            # the worker's exit(0)
            with open(out) as f:
                doc = json.load(f)
        self.assertEqual(doc["processes"][0]["exit"], {"code": 0})
        self.assertEqual(records(doc, "definite", "leak_in_worker"), (1, 32))

    def test_sigterm_ends_it(self):
        # The worker would run 30 s; SIGTERM to memlens reaches the process
        # (the leader is a zombie already) and memlens returns 128+15.
        m = subprocess.Popen([h.memlens_path(), "-q", h.sample_path("leaderexit"), "30"],
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE)
        try:
            time.sleep(1)
            m.send_signal(signal.SIGTERM)
            _, err = m.communicate(timeout=LIMIT)
        except subprocess.TimeoutExpired:
            m.kill()
            m.communicate()
            self.fail("memlens did not end within %d s of SIGTERM" % LIMIT)
        self.assertEqual(m.returncode, 128 + signal.SIGTERM, err)


def wait_gone(pid, limit):
    end = time.time() + limit
    while os.path.exists("/proc/%d" % pid) and time.time() < end:
        time.sleep(0.05)
    if os.path.exists("/proc/%d" % pid):
        raise AssertionError("pid %d still there after %d s" % (pid, limit))


def processes(path):
    try:
        with open(path) as f:
            return json.load(f)["processes"]
    except (OSError, ValueError):
        return []


class Daemons(unittest.TestCase):
    """samples/daemon: the program exits at once, its daemon DAEMON_SECONDS later."""

    DAEMON_SECONDS = 4

    def start(self, tmp, options=(), program=()):
        self.out = os.path.join(tmp, "r.json")
        self.pidfile = os.path.join(tmp, "daemon.pid")
        # Not pipes: whoever holds a pipe's write end open (the daemon's
        # tracer) would keep the reader waiting.
        with open(os.path.join(tmp, "stderr"), "w") as err:
            t0 = time.time()
            m = subprocess.Popen([h.memlens_path(), "-q", "--json=" + self.out] + list(options)
                                 + [h.sample_path("daemon"), str(self.DAEMON_SECONDS), self.pidfile]
                                 + list(program), stdin=subprocess.DEVNULL, stdout=err, stderr=err)
            try:
                status = m.wait(timeout=LIMIT)
            except subprocess.TimeoutExpired:
                m.kill()
                m.wait()
                self.fail("memlens did not return within %d s" % LIMIT)
            took = time.time() - t0
        end = time.time() + LIMIT       # the daemon writes it after the program has exited
        while time.time() < end:
            try:
                with open(self.pidfile) as f:
                    return status, took, int(f.read())
            except (OSError, ValueError):
                time.sleep(0.05)
        self.fail("the daemon never wrote its pid")

    def test_returns_when_the_program_exits_and_reports_the_daemon_later(self):
        with tempfile.TemporaryDirectory() as tmp:
            status, took, daemon = self.start(tmp)
            self.assertEqual(status, 0)
            self.assertLess(took, self.DAEMON_SECONDS - 1, "memlens waited for the daemon")
            first = processes(self.out)
            self.assertEqual(records({"processes": first}, "definite", "leak_in_parent"), (1, 24))
            self.assertNotIn(daemon, [p["pid"] for p in first])
            wait_gone(daemon, LIMIT)
            end = time.time() + LIMIT        # the detached memlens rewrites the report
            while daemon not in [p["pid"] for p in processes(self.out)] and time.time() < end:
                time.sleep(0.1)
            procs = processes(self.out)
            mine = [p for p in procs if p["pid"] == daemon]
            self.assertEqual(len(mine), 1, "the daemon's report was never written")
            self.assertEqual(mine[0]["exit"], {"code": 0})
            self.assertEqual(records({"processes": mine}, "definite", "leak_in_daemon"), (1, 40))
            self.assertEqual(records({"processes": procs}, "definite", "leak_in_parent"), (1, 24))

    def test_untraced_children_do_not_hold_memlens(self):
        # --trace-children=no: the daemon execs /bin/true, an image memlens
        # does not report; memlens still returns when the program exits.
        with tempfile.TemporaryDirectory() as tmp:
            status, took, daemon = self.start(tmp, ["--trace-children=no"], ["/bin/true"])
            self.assertEqual(status, 0)
            self.assertLess(took, self.DAEMON_SECONDS - 1, "memlens waited for the daemon")
            wait_gone(daemon, LIMIT)
            procs = processes(self.out)
            self.assertEqual(records({"processes": procs}, "definite", "leak_in_parent"), (1, 24))
            self.assertNotIn("/bin/true", [p["exe"] for p in procs])


if __name__ == "__main__":
    unittest.main()
