"""--track-fds=yes: the descriptors open at exit, as samples/fdleak states them.

fdleak opens a file, a pipe, a socket, a socket pair and a dup, closes some
(see its header) and prints its open set with --expect; `fdleak fork` also
forks a child that opens one more.  memlens's JSON and text are checked
against that statement, and the text's descriptor lines against valgrind
--track-fds=yes on the same binary.
"""

import os
import re
import subprocess
import tempfile
import unittest
import xml.etree.ElementTree as ET

import mlharness as h
import test_html as th

OPEN_LINE = re.compile(
    r"^==(\d+)== Open (?:file descriptor (\d+):(?: (.*))?|(\S+) socket (\d+): (.*))$")
AT_LINE = re.compile(r"^==\d+==    at 0x[0-9A-Fa-f]+: (\S+)")
SUMMARY_LINE = re.compile(r"^==(\d+)== FILE DESCRIPTORS: (\d+) open \((\d+) std\) at exit\.$")


def parse_text(text):
    """{pid: {"open": N, "std": M, "fds": {fd: (what, opening function)}}}
    from valgrind's (or memlens's) descriptor lines; what is the path, the
    socket family, or "" for an unnamed descriptor."""
    procs, cur, last = {}, None, None
    for line in text.splitlines():
        m = SUMMARY_LINE.match(line)
        if m:
            cur = procs.setdefault(int(m.group(1)), {"fds": {}})
            cur["open"], cur["std"] = int(m.group(2)), int(m.group(3))
            continue
        m = OPEN_LINE.match(line)
        if m and cur is not None:
            if m.group(2):
                last = int(m.group(2))
                cur["fds"][last] = [m.group(3) or "", None]
            else:
                last = int(m.group(5))
                cur["fds"][last] = [m.group(4), None]
            cur.setdefault("order", []).append(last)
            continue
        m = AT_LINE.match(line)
        if m and cur is not None and last is not None and cur["fds"][last][1] is None:
            cur["fds"][last][1] = m.group(1)
            continue
        if "<inherited from parent>" in line and last is not None:
            cur["fds"][last][1] = "<inherited>"
    return {pid: dict(p, fds={fd: tuple(v) for fd, v in p["fds"].items()})
            for pid, p in procs.items()}


def expected_text(proc):
    """The sample's statement as parse_text gives it: pipes are unnamed in
    valgrind's text (memlens names them pipe:[inode], checked apart)."""
    out = {}
    for fd, (kind, what, fn) in proc["fds"].items():
        out[int(fd)] = ("" if kind == "pipe" else what, fn)
    return out


def run_sample_fds(args=(), options=("--track-fds=yes",)):
    return h.run_memlens("fdleak", list(args), list(options))


class TrackFds(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        h.require_memlens()
        h.require_sample("fdleak")
        h.require_sample("fdctor")

    def check_json(self, got, exp):
        self.assertEqual(got["open"], exp["open"])
        self.assertEqual(got["std"], exp["std"])
        listed = {d["fd"]: d for d in got["descriptors"] if not d["std"]}
        self.assertEqual(sorted(listed), sorted(int(fd) for fd in exp["fds"]))
        for fd, (kind, what, fn) in exp["fds"].items():
            d = listed[int(fd)]
            with self.subTest(fd=fd):
                self.assertEqual(d["kind"], kind)
                if kind == "socket":
                    self.assertEqual(d["family"], what)
                elif kind == "pipe":
                    self.assertTrue(d["path"].startswith("pipe:["), d["path"])
                elif what:   # a file or anon_inode the sample names
                    self.assertEqual(d["path"], what)
                self.assertEqual(d["function"], fn)
                self.assertFalse(d["inherited"])
                if fn is None:   # made by a call memlens does not see
                    self.assertEqual(d["stack"], [])
                    continue
                names = [f.get("function") for f in d["stack"]]
                self.assertEqual(names[0], fn)
                if fd in exp["functions"]:
                    self.assertIn(exp["functions"][fd], names)
        std = [d for d in got["descriptors"] if d["std"]]
        self.assertEqual(sorted(d["fd"] for d in std), [0, 1, 2])
        self.assertTrue(all(d["inherited"] and not d["stack"] for d in std))

    def test_json_open_set_is_the_samples(self):
        exp = h.expected("fdleak")["processes"][0]
        run = run_sample_fds()
        self.assertEqual(run.status, 0, run.stderr[-3000:])
        self.check_json(run.json["processes"][0]["fds"], exp)
        # from /proc/PID/fdinfo: open("/dev/null", O_RDONLY), the pipe's write end
        by_fd = {d["fd"]: d for d in run.json["processes"][0]["fds"]["descriptors"]}
        self.assertEqual((by_fd[3]["access"], by_fd[3]["cloexec"], by_fd[3]["pos"]), ("read", False, 0))
        self.assertEqual(by_fd[5]["access"], "write")
        self.assertEqual(by_fd[7]["access"], "read-write")

    def test_text_lines(self):
        exp = h.expected("fdleak")["processes"][0]
        run = run_sample_fds()
        procs = parse_text(run.stderr)
        self.assertEqual(len(procs), 1, run.stderr[-3000:])
        got = next(iter(procs.values()))
        self.assertEqual((got["open"], got["std"]), (exp["open"], exp["std"]))
        want = expected_text(exp)
        # memlens names a pipe by its inode; valgrind leaves it blank
        got_fds = {fd: ("" if what.startswith("pipe:[") else what, fn)
                   for fd, (what, fn) in got["fds"].items()}
        self.assertEqual(got_fds, want)
        self.assertIn("Open AF_INET socket 4: <unbound> <-> unbound", run.stderr)
        self.assertIn("Open AF_UNIX socket 7: <unknown>", run.stderr)

    def test_every_kind_of_call(self):
        # fdleak kinds: one descriptor from each call the shim interposes
        exp = h.expected("fdleak", ["kinds"])["processes"][0]
        run = run_sample_fds(["kinds"])
        self.assertEqual(run.status, 0, run.stderr[-3000:])
        fds = run.json["processes"][0]["fds"]
        self.check_json(fds, exp)
        by_fd = {d["fd"]: d for d in fds["descriptors"]}
        self.assertRegex(by_fd[16]["address"], r"^127\.0\.0\.1:\d+ <-> 127\.0\.0\.1:\d+$")
        self.assertRegex(by_fd[14]["address"], r"^127\.0\.0\.1:\d+ <-> unbound$")
        # close-on-exec as the calls asked: pipe2, F_DUPFD_CLOEXEC, dup3 with
        # O_CLOEXEC, accept4 with SOCK_CLOEXEC, and opendir and shm_open
        # (glibc opens those O_CLOEXEC); dup2, openat, mkstemp without
        cloexec = sorted(fd for fd, d in by_fd.items() if d["cloexec"])
        self.assertEqual(cloexec, [4, 5, 12, 13, 16, 18, 21])
        self.assertTrue(by_fd[19]["path"].startswith("/tmp/fdleak"), by_fd[19]["path"])
        self.assertTrue(by_fd[21]["path"].startswith("/dev/shm/fdleak-"), by_fd[21]["path"])

    def test_every_kind_same_order_as_valgrind(self):
        # valgrind names some top frames by glibc's internals (fcntl, tmpfile,
        # opendir): the numbers, their order and the counts must agree
        h.skip_without_valgrind()
        p = subprocess.run(["valgrind", "--track-fds=yes", h.sample_path("fdleak"), "kinds"],
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, timeout=h.TIMEOUT)
        self.assertEqual(p.returncode, 0)
        vg = next(iter(parse_text(p.stderr.decode("utf-8", "replace")).values()))
        ml = next(iter(parse_text(run_sample_fds(["kinds"]).stderr).values()))
        self.assertEqual((ml["open"], ml["std"], ml["order"]), (vg["open"], vg["std"], vg["order"]))

    def test_closefrom_forgets(self):
        # closefrom(6) closed the dup at 6; a raw openat then got 6 unseen
        exp = h.expected("fdleak", ["closefrom"])["processes"][0]
        run = run_sample_fds(["closefrom"])
        self.assertEqual(run.status, 0, run.stderr[-3000:])
        self.check_json(run.json["processes"][0]["fds"], exp)
        self.assertIn("Open file descriptor 6: /dev/zero\n", re.sub(r"==\d+== ", "", run.stderr))
        self.assertIn("<opened by a call memlens does not see>", run.stderr)

    def test_library_constructor(self):
        # fdctor's library opens fd 3 in its constructor, which runs before
        # the shim's: the opener is still named, not "inherited"
        exp = h.expected("fdctor")["processes"][0]
        run = h.run_memlens("fdctor", [], ["--track-fds=yes"])
        self.assertEqual(run.status, 0, run.stderr[-3000:])
        self.check_json(run.json["processes"][0]["fds"], exp)

    def test_library_constructor_same_as_valgrind(self):
        self.same_as_valgrind([], prog="fdctor")

    def test_fork_child_has_its_own(self):
        # the child lists what it inherited, named by the parent's stacks as
        # valgrind names them, and its own fd 8; the parent has no fd 8
        exp = h.expected("fdleak", ["fork"])["processes"]
        run = run_sample_fds(["fork"])
        self.assertEqual(run.status, 0, run.stderr[-3000:])
        procs = run.json["processes"]
        self.assertEqual(len(procs), 2)
        self.assertEqual(procs[1]["ppid"], procs[0]["pid"])
        for got, want in zip(procs, exp):
            with self.subTest(pid=got["pid"]):
                self.check_json(got["fds"], want)

    def test_vfork_child_close_is_not_the_parents(self):
        # the vfork child shares the parent's memory (its session too) but not
        # its descriptors: its close(3) must leave the parent's record of 3
        exp = h.expected("fdleak", ["vfork"])["processes"]
        run = run_sample_fds(["vfork"])
        self.assertEqual(run.status, 0, run.stderr[-3000:])
        procs = run.json["processes"]
        self.assertEqual(len(procs), 2)
        for got, want in zip(procs, exp):
            with self.subTest(pid=got["pid"]):
                self.check_json(got["fds"], want)

    def test_vfork_same_as_valgrind(self):
        self.same_as_valgrind(["vfork"])

    def test_all_lists_the_std_ones(self):
        run = run_sample_fds(options=["--track-fds=all"])
        got = next(iter(parse_text(run.stderr).values()))
        self.assertEqual((got["open"], got["std"]), (8, 3))
        self.assertEqual(sorted(got["fds"]), [0, 1, 2, 3, 4, 5, 6, 7])
        self.assertTrue(all(got["fds"][fd][1] == "<inherited>" for fd in (0, 1, 2)))
        self.assertTrue(run.json["processes"][0]["fds"]["list_std"])

    def test_child_silent_after_fork(self):
        # as valgrind's: the forked child lists nothing, the parent its own
        run = run_sample_fds(["fork"], ["--track-fds=yes", "--child-silent-after-fork=yes"])
        self.assertEqual(run.status, 0, run.stderr[-3000:])
        procs = parse_text(run.stderr)
        self.assertEqual([p["open"] for p in procs.values()], [8])
        self.assertNotIn("fds", run.json["processes"][1])

    def test_xml_protocol_5_errors(self):
        # valgrind 3.19 writes no descriptor in its XML; protocol 5 (valgrind
        # 3.23) adds one FdNotClosed error per descriptor open at exit
        exp = h.expected("fdleak")["processes"][0]
        for track in ("yes", "no"):
            with tempfile.TemporaryDirectory() as tmp, self.subTest(track=track):
                xml = os.path.join(tmp, "out.xml")
                run = run_sample_fds(options=["--track-fds=" + track, "--xml=yes",
                                              "--xml-file=" + xml])
                self.assertEqual(run.status, 0, run.stderr[-3000:])
                root = ET.parse(xml).getroot()
                errors = [e for e in root.findall("error") if e.findtext("kind") == "FdNotClosed"]
                if track == "no":
                    self.assertEqual(root.findtext("protocolversion"), "4")
                    self.assertEqual(errors, [])
                    continue
                self.assertEqual(root.findtext("protocolversion"), "5")
                got = {int(e.findtext("fd")): (e.findtext("path"),
                                               e.find("stack/frame/fn").text) for e in errors}
                want = {int(fd): (what if kind == "file" else None, fn)
                        for fd, (kind, what, fn) in exp["fds"].items()}
                self.assertEqual(got, want)

    def test_html_section(self):
        # the page's Descriptors card: one row per listed descriptor, by fd
        th.skip_without_chromium()
        exp = h.expected("fdleak")["processes"][0]
        run, data, dom = th.page_of((), "", ["--track-fds=yes"], target="fdleak")
        self.assertEqual(run.status, 0, run.stderr[-3000:])
        fds = data["processes"][0]["fds"]
        self.assertEqual((fds["open"], fds["std"]), (exp["open"], exp["std"]))
        pid = run.json["processes"][0]["pid"]
        self.assertIn('id="p%d-fds"' % pid, dom)
        rows = sorted(int(fd) for fd in re.findall(r'<tbody class="fd" data-fd="(\d+)"', dom))
        self.assertEqual(rows, sorted(int(fd) for fd in exp["fds"]))
        self.assertIn("AF_INET socket 4: &lt;unbound&gt; &lt;-&gt; unbound", dom)

    def test_attach_warns_and_lists_nothing(self):
        # memlens -p cannot know who opened what before it came: one warning,
        # no descriptor section rather than a wrong one
        import test_attach as ta
        svc = ta.Service()
        try:
            status, doc, err = ta.attach(svc.pid, ["--track-fds=yes", "--duration=0.5"])
        finally:
            svc.stop()
        self.assertEqual(status, 0, err[-3000:])
        self.assertIn("memlens: warning: --track-fds is not supported with -p; ignored", err)
        self.assertNotIn("FILE DESCRIPTORS", err)
        self.assertNotIn("fds", doc["processes"][0])

    def test_load_renders_the_same_descriptors(self):
        # a saved JSON holds every descriptor: --load prints the same lines
        def fd_lines(text):
            return [re.sub(r"^==\d+==", "", l) for l in text.splitlines()
                    if re.match(r"^==\d+== (FILE DESCRIPTORS|Open |   at |   by |   <)", l)
                    and "loss record" not in l]
        with tempfile.TemporaryDirectory() as tmp:
            saved = os.path.join(tmp, "run.json")
            run = run_sample_fds(options=["--track-fds=yes", "--leak-check=summary",
                                          "--json=" + saved])
            status, _, err = h.run_memlens_cli(["--load=" + saved, "--leak-check=summary"])
        self.assertEqual(status, 0, err[-3000:])
        self.assertGreater(len(fd_lines(run.stderr)), 10)
        self.assertEqual(fd_lines(err), fd_lines(run.stderr))

    def test_off_by_default(self):
        run = h.run_memlens("fdleak")
        self.assertEqual(run.status, 0)
        self.assertNotIn("FILE DESCRIPTORS", run.stderr)
        self.assertNotIn("fds", run.json["processes"][0])

    def test_same_as_valgrind(self):
        self.same_as_valgrind([])

    def test_fork_same_as_valgrind(self):
        self.same_as_valgrind(["fork"])

    def same_as_valgrind(self, args, prog="fdleak"):
        h.skip_without_valgrind()
        # valgrind 3.19's --log-file descriptor is visible to the program
        # (as fd 3): its log goes to stderr instead, a pipe like memlens's.
        p = subprocess.run(["valgrind", "--track-fds=yes", h.sample_path(prog)] + args,
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, timeout=h.TIMEOUT)
        self.assertEqual(p.returncode, 0)
        vg = parse_text(p.stderr.decode("utf-8", "replace"))
        run = h.run_memlens(prog, args, ["--track-fds=yes"])
        ml = parse_text(run.stderr)
        self.assertEqual(len(vg), 1 + len(args))
        self.assertEqual(len(ml), len(vg))

        def key(proc):   # processes compared by their open sets and order (not by pid)
            fds = {fd: ("" if what.startswith("pipe:[") else what, fn)
                   for fd, (what, fn) in proc["fds"].items()}
            return (proc["open"], proc["std"], sorted(fds.items()), proc.get("order"))
        self.assertEqual(sorted(key(p) for p in ml.values()),
                         sorted(key(p) for p in vg.values()))


if __name__ == "__main__":
    unittest.main()
