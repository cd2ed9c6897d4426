"""Attach twice: two good reports, and the process left as memlens found it.

samples/service leaks 72-byte blocks in leak_request at 100 a second by the
clock (samples/README.md, "Attach sample"): attached for 1.5 s, each report
has about 150 of them. After each detach nothing of memlens but the loaded
shim stays mapped. Every run is bounded by a timeout the test checks was not hit.
"""

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

import mlharness as h
from test_attach import Service, records_of

LIMIT = 120
SECONDS = 1.5


def attach(pid):
    with tempfile.TemporaryDirectory(prefix="mlreattach.") as tmp:
        out = os.path.join(tmp, "r.json")
        status, _, err = h.run_bounded([h.memlens_path(), "-q", "--json=" + out, "-p", str(pid),
                                        "--duration=%g" % SECONDS], LIMIT)
        with open(out) as f:
            return status, json.load(f), err


def session_maps(pid):
    with open("/proc/%d/maps" % pid) as f:
        return [l for l in f if "memlens-session" in l or "/SYSV6d6c" in l]


def maps(pid):
    with open("/proc/%d/maps" % pid) as f:
        return f.read()


class Reattach(unittest.TestCase):

    def test_twice(self):
        svc = Service(lifetime=60)
        try:
            after = []
            for _ in range(2):
                status, doc, err = attach(svc.pid)
                self.assertEqual(status, 0, err)
                leaked = records_of(doc, "definite", "leak_request")
                blocks = sum(r["blocks"] for r in leaked)
                # 100 a second for SECONDS, give or take the start and the end
                self.assertGreater(blocks, 100 * SECONDS * 0.6, err)
                self.assertLess(blocks, 100 * SECONDS * 1.6 + 20, err)
                self.assertEqual({r["bytes"] // r["blocks"] for r in leaked}, {72})
                end = time.time() + 5         # the shim unmaps its session 0.1 s after detach
                while session_maps(svc.pid) and time.time() < end:
                    time.sleep(0.05)
                self.assertEqual(session_maps(svc.pid), [], "a session mapping stayed behind")
                after.append(maps(svc.pid))
            self.assertEqual(after[0], after[1])
            self.assertTrue(svc.ticks() > 0 and svc.proc.poll() is None, "the service must run on")
        finally:
            svc.stop()



def status_field(pid, key):
    with open("/proc/%d/status" % pid) as f:
        return [l.split(":", 1)[1].strip() for l in f if l.startswith(key + ":")][0]


class CannotAttachNow(unittest.TestCase):
    """True sentences at once, and the process left as it was."""

    def refused(self, pid, sentence):
        t0 = time.time()
        status, _, err = h.run_bounded([h.memlens_path(), "-q", "-p", str(pid), "--duration=1"], LIMIT)
        self.assertEqual(status, 125, err)
        self.assertIn(sentence, err)
        self.assertLess(time.time() - t0, 5, "refused only after a timeout")
        self.assertEqual(status_field(pid, "TracerPid"), "0")

    def test_stopped_process(self):
        svc = Service(lifetime=60)
        try:
            os.kill(svc.pid, signal.SIGSTOP)
            end = time.time() + 5
            while not status_field(svc.pid, "State").startswith("T") and time.time() < end:
                time.sleep(0.05)
            self.refused(svc.pid, "-p %d: the process is stopped (job control or SIGSTOP)" % svc.pid)
            self.assertTrue(status_field(svc.pid, "State").startswith("T"), "it must stay stopped")
        finally:
            svc.stop()

    def test_main_thread_ended(self):
        # samples/leaderexit: main calls pthread_exit, a worker runs 30 s
        p = subprocess.Popen([h.require_sample("leaderexit"), "30"], stdin=subprocess.DEVNULL)
        try:
            end = time.time() + 5
            while status_field(p.pid, "State")[0] != "Z" and time.time() < end:
                time.sleep(0.05)
            self.refused(p.pid, "-p %d: its main thread has ended (pthread_exit) while other "
                         "threads run on" % p.pid)
        finally:
            p.kill()
            p.wait()


@unittest.skipUnless(os.geteuid() == 0 and shutil.which("unshare"), "needs root and unshare(1)")
class MountNamespace(unittest.TestCase):
    """The service in a mount namespace where the shim's directory is hidden
    (an empty tmpfs over it), as in a container with a root of its own."""

    def test_shim_not_visible_is_said(self):
        libs = os.path.dirname(os.path.realpath(os.path.join(h.build_dir(), "preload", ".libs",
                                                              "libmemlens.so")))
        with tempfile.TemporaryDirectory(prefix="mlmnt.") as tmp:
            progress = os.path.join(tmp, "progress")
            svc = subprocess.Popen(["unshare", "--mount", "--propagation", "private", "sh", "-c",
                                    'mount -t tmpfs none "$0" && exec "$1" "$2" 60', libs,
                                    h.require_sample("service"), progress],
                                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
            try:
                end = time.time() + 10
                while not os.path.exists(progress) and time.time() < end:
                    time.sleep(0.05)
                status, _, err = h.run_bounded([h.memlens_path(), "-q", "-p", str(svc.pid),
                                                "--duration=1"], LIMIT)
                self.assertEqual(status, 125, err)
                self.assertIn("-p %d: the process sees another file system (its own mount "
                              "namespace, as in a container)" % svc.pid, err)
                self.assertEqual(status_field(svc.pid, "TracerPid"), "0")
                self.assertIsNone(svc.poll(), "the service must run on")
            finally:
                svc.kill()
                svc.wait()


@unittest.skipUnless(os.geteuid() == 0 and shutil.which("unshare"), "needs root and unshare(1)")
class PidNamespace(unittest.TestCase):
    """The service in its own pid namespace with its own /proc, as in a container."""

    def test_records_as_outside(self):
        with tempfile.TemporaryDirectory(prefix="mlns.") as tmp:
            progress = os.path.join(tmp, "progress")
            u = subprocess.Popen(["unshare", "--pid", "--fork", "--mount-proc",
                                  h.require_sample("service"), progress, "60"],
                                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
            pid = None
            try:
                pid = h.descendant_pid(u.pid, b"service")     # its pid out here
                end = time.time() + 10
                while not os.path.exists(progress) and time.time() < end:
                    time.sleep(0.05)
                status, doc, err = attach(pid)
                self.assertEqual(status, 0, err)
                blocks = sum(r["blocks"] for r in records_of(doc, "definite", "leak_request"))
                self.assertGreater(blocks, 100 * SECONDS * 0.6, err)   # 100 a second
                end = time.time() + 5
                while session_maps(pid) and time.time() < end:
                    time.sleep(0.05)
                self.assertEqual(session_maps(pid), [])
            finally:
                if pid:
                    os.kill(pid, 9)        # pid 1 of the namespace: the namespace ends
                u.kill()
                u.wait()


if __name__ == "__main__":
    unittest.main()
