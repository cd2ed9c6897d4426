"""mlharness - run memlens, valgrind and the samples; parse what they say.

The integration tests compare three statements of the same truth:
- what a sample says about itself (`samples/X --expect`, a JSON object);
- what memlens reports (`tracer/memlens --json=FILE -- samples/X`);
- what valgrind memcheck reports (its LEAK SUMMARY).

Where things are: the build tree is $MEMLENS_BUILD if set, else the
repository root (an in-tree build): tracer/memlens and samples/X live there.
Sample sources are always looked up in the repository.

Run as a script to check the samples against valgrind without memlens:
    python3 tests/integration/mlharness.py [sample...]
"""

import atexit
import collections
import functools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

KINDS = ("definite", "indirect", "possible", "reachable")

# Samples whose leak answer the tests check, and their source files.
LEAK_SAMPLES = ("leaky", "cxxleaks", "threads")
SOURCES = {
    "leaky": "leaky.c",
    "cxxleaks": "cxxleaks.cpp",
    "threads": "threads.c",
    "exitcode": "exitcode.c",
    "shmclean": "shmclean.c",
    "shmleak": "shmleak.c",
    "shmattached": "shmattached.c",
    "posixshm": "posixshm.c",
    "mmapleak": "mmapleak.c",
    "mremap": "mremap.c",
    "mprotect": "mprotect.c",
    "layout": "layout.c",
}

VALGRIND_FLAGS = ("--leak-check=full", "--show-leak-kinds=all",
                  "--run-libc-freeres=no")

# Generous: memlens and valgrind on a loaded CI machine.
TIMEOUT = 600

MemlensRun = collections.namedtuple("MemlensRun", "status json stderr")

SOURCE_DIR = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


def build_dir():
    return os.path.abspath(os.environ.get("MEMLENS_BUILD") or SOURCE_DIR)


def memlens_path():
    return os.path.join(build_dir(), "tracer", "memlens")


def sample_path(prog):
    return os.path.join(build_dir(), "samples", prog)


def sample_source(prog):
    """The basename of the sample's source file (what file:line names)."""
    return SOURCES[prog]


def require_memlens():
    """Fail (not skip) when memlens is not built: a missing binary must not
    make the suite pass."""
    path = memlens_path()
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        raise AssertionError(
            "memlens not built: %s is missing (build first, or set "
            "MEMLENS_BUILD to the build tree)" % path)


def require_sample(prog):
    path = sample_path(prog)
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        raise AssertionError(
            "sample not built: %s is missing (build first, or set "
            "MEMLENS_BUILD to the build tree)" % path)
    return path


def have_valgrind():
    return shutil.which("valgrind") is not None


def skip_without_valgrind():
    if not have_valgrind():
        raise unittest.SkipTest(
            "valgrind is not installed: the comparison with memcheck is "
            "skipped (apt-get install valgrind)")


AS_NOBODY = ("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups")


def _nobody_can_read(memlens, shim):
    r = subprocess.run(list(AS_NOBODY) + ["sh", "-c", 'test -x "$1" && test -r "$2"', "sh",
                                          memlens, shim],
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
    return r.returncode == 0


@functools.lru_cache(maxsize=None)
def memlens_for_nobody():
    """A memlens that user nobody can run: the build tree's when nobody can
    read it, else a copy of memlens, its shim and its default suppressions,
    laid out as in the build tree (where memlens looks for them), in a
    world-readable directory removed when the tests end.  A clone under a
    0700 directory, such as mktemp -d's, is not readable by nobody."""
    shim_rel = os.path.join("preload", ".libs", "libmemlens.so")
    if _nobody_can_read(memlens_path(), os.path.join(build_dir(), shim_rel)):
        return memlens_path()
    top = tempfile.mkdtemp(prefix="mlnobody.")
    atexit.register(shutil.rmtree, top, True)
    for rel in (os.path.join("tracer", "memlens"), shim_rel,
                os.path.join("data", "default.supp")):
        os.makedirs(os.path.join(top, os.path.dirname(rel)), exist_ok=True)
        src = os.path.join(build_dir(), rel)
        if not os.path.exists(src):
            src = os.path.join(SOURCE_DIR, rel)
        shutil.copy(src, os.path.join(top, rel))
    for d, _, _ in os.walk(top):
        os.chmod(d, 0o755)
    return os.path.join(top, "tracer", "memlens")


def _run(cmd, **kw):
    return subprocess.run(cmd, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=TIMEOUT, **kw)


def run_bounded(cmd, limit, **kw):
    """Run cmd, killing it after `limit` seconds; a run that hit the limit
    fails the test (robustness tests check they were not hung).
    Returns (exit status, stdout text, stderr text)."""
    try:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=limit, **kw)
    except subprocess.TimeoutExpired:
        raise AssertionError("hung: %s did not end within %s s" % (cmd, limit))
    return (p.returncode, p.stdout.decode("utf-8", "replace"),
            p.stderr.decode("utf-8", "replace"))


def _parent(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return 0


def descendant_pid(ancestor, name, timeout=20):
    """The first process below `ancestor` whose program (argv[0]) is named
    `name` (bytes), waited for up to `timeout` seconds. memlens's own
    processes never qualify: their argv[0] is memlens."""
    end = time.time() + timeout
    while time.time() < end:
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open("/proc/%s/cmdline" % entry, "rb") as f:
                    argv0 = f.read().split(b"\0")[0]
            except OSError:
                continue
            if os.path.basename(argv0) != name:
                continue
            pid, up = int(entry), _parent(int(entry))
            for _ in range(8):
                if up == ancestor:
                    return pid
                if up <= 1:
                    break
                up = _parent(up)
        time.sleep(0.05)
    raise AssertionError("no %s started below pid %d" % (name.decode(), ancestor))


def run_memlens_cli(args):
    """Run memlens with exactly these arguments.
    Returns (exit status, stdout text, stderr text)."""
    p = _run([memlens_path()] + list(args))
    return (p.returncode, p.stdout.decode("utf-8", "replace"),
            p.stderr.decode("utf-8", "replace"))


def run_memlens(prog, args=(), options=()):
    """Run `memlens --json=FILE [options] -- samples/prog [args]`.

    `prog` is a sample name or a path.  Returns MemlensRun(status, json,
    stderr): the exit status, the parsed JSON document (None when memlens
    wrote none) and the text report that memlens writes to stderr."""
    require_memlens()
    target = prog if os.sep in prog else require_sample(prog)
    with tempfile.TemporaryDirectory(prefix="mlharness.") as tmp:
        out = os.path.join(tmp, "report.json")
        cmd = [memlens_path(), "--json=" + out] + list(options) \
            + ["--", target] + list(args)
        p = _run(cmd)
        doc = None
        if os.path.exists(out) and os.path.getsize(out) > 0:
            with open(out, encoding="utf-8") as f:
                doc = json.load(f)
    return MemlensRun(p.returncode, doc, p.stderr.decode("utf-8", "replace"))


def expected(prog, args=()):
    """What the sample says about itself: the JSON of `prog --expect`
    (followed by `args`, for samples whose answer depends on them)."""
    p = _run([require_sample(prog), "--expect"] + list(args))
    if p.returncode != 0:
        raise AssertionError("%s --expect exited %d" % (prog, p.returncode))
    return json.loads(p.stdout.decode("utf-8"))


def expected_summary(prog):
    exp = expected(prog)
    return {k: {"blocks": exp[k]["blocks"], "bytes": exp[k]["bytes"]}
            for k in KINDS}


_VG_LINES = {
    "definite": "definitely lost",
    "indirect": "indirectly lost",
    "possible": "possibly lost",
    "reachable": "still reachable",
    "suppressed": "suppressed",
}


def _vg_number(text):
    return int(text.replace(",", ""))


def parse_valgrind_summary(log):
    """Parse memcheck's LEAK SUMMARY out of a valgrind log.

    Returns {kind: {"blocks": N, "bytes": N}} for the four kinds and
    "suppressed".  "All heap blocks were freed" means zero everywhere."""
    zero = {k: {"blocks": 0, "bytes": 0} for k in _VG_LINES}
    if "All heap blocks were freed -- no leaks are possible" in log:
        return zero
    if "LEAK SUMMARY:" not in log:
        raise ValueError("no LEAK SUMMARY in valgrind's output:\n" + log)
    summary = log[log.index("LEAK SUMMARY:"):]
    result = {}
    for kind, label in _VG_LINES.items():
        m = re.search(re.escape(label) +
                      r":\s+([\d,]+) bytes in ([\d,]+) blocks", summary)
        if m is None:
            raise ValueError("no '%s' line in valgrind's LEAK SUMMARY:\n%s"
                             % (label, summary))
        result[kind] = {"blocks": _vg_number(m.group(2)),
                        "bytes": _vg_number(m.group(1))}
    return result


def run_valgrind(prog, args=()):
    """Run the sample under memcheck with the reference flags and return its
    LEAK SUMMARY as {kind: {"blocks", "bytes"}} (kinds as in memlens's JSON,
    plus "suppressed")."""
    target = prog if os.sep in prog else require_sample(prog)
    with tempfile.TemporaryDirectory(prefix="mlharness.") as tmp:
        log = os.path.join(tmp, "valgrind.log")
        cmd = ["valgrind"] + list(VALGRIND_FLAGS) + \
            ["--log-file=" + log, target] + list(args)
        _run(cmd)
        with open(log, encoding="utf-8", errors="replace") as f:
            return parse_valgrind_summary(f.read())


def valgrind_count(n):
    """A number as memcheck prints it: 1920 -> '1,920'."""
    return "{:,}".format(n)


def summary_line(kind, figures):
    """The LEAK SUMMARY line memcheck prints for a kind, without its
    leading padding, e.g. 'definitely lost: 1,920 bytes in 10 blocks'."""
    return "%s: %s bytes in %s blocks" % (
        _VG_LINES[kind], valgrind_count(figures["bytes"]),
        valgrind_count(figures["blocks"]))


def function_matches(name, wanted):
    """True when a frame's function is `wanted`: a C name, a demangled C++
    name with its parameter list ('leak_holder()'), or a mangled one
    ('_Z11leak_holderv')."""
    if not name:
        return False
    if name == wanted or name.split("(", 1)[0].strip() == wanted:
        return True
    m = re.match(r"_Z(\d+)", name)
    if m:
        start = m.end()
        return name[start:start + int(m.group(1))] == wanted
    return False


def frame_functions(record):
    return [fr.get("function") or "" for fr in record.get("stack", [])]


def leak_summary(doc, process=0):
    """processes[process].leaks.summary, four kinds, blocks and bytes."""
    summary = doc["processes"][process]["leaks"]["summary"]
    return {k: {"blocks": summary[k]["blocks"], "bytes": summary[k]["bytes"]}
            for k in KINDS}


def main(argv):
    """Check that each sample's --expect equals valgrind's LEAK SUMMARY."""
    progs = argv or list(LEAK_SAMPLES) + ["exitcode"]
    if not have_valgrind():
        print("valgrind is not installed")
        return 2
    bad = 0
    for prog in progs:
        exp = expected_summary(prog)
        vg = run_valgrind(prog)
        vg4 = {k: vg[k] for k in KINDS}
        same = exp == vg4 and vg["suppressed"]["blocks"] == 0
        bad += not same
        print("%-9s %s" % (prog, "ok" if same else "DIFFERS"))
        for k in KINDS:
            print("    %-9s expect %-30s valgrind %s" % (
                k, summary_line(k, exp[k]), summary_line(k, vg[k])))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
