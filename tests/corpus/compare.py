#!/usr/bin/env python3
"""compare.py - memlens and valgrind memcheck on real programs from Debian
packages: the four leak kinds, blocks and bytes, side by side.

Each program of CORPUS runs twice in a scratch directory holding the input
files (make_inputs) and nothing else (the tools write their reports beside
it: make, ls and find read the directory): under `valgrind --leak-check=full --show-leak-kinds=all
--run-libc-freeres=no` and under `memlens --run-libc-freeres=no`.  Both
tools add variables to the program's environment (valgrind its LD_PRELOAD,
LD_LIBRARY_PATH, GLIBCXX_FORCE_NEW...; memlens its LD_PRELOAD and
MEMLENS_SESSION), and a program that copies its environment allocates by
its size: each run gets the other tool's variables as well, and LD_PRELOAD
is padded with empty entries (":") to the same length, so that the program
sees environments of the same names and sizes.  What each tool adds is
learnt once by running /usr/bin/env under it.

usage: compare.py BUILD_DIR [NAME...]    (`make compare` runs them all)
Prints one line per program and the figure "N of M exact".  Exit status 0.

The test suite (tests/integration/test_corpus.py) asserts exact equality on
the programs marked quick; programs whose answers differ are listed in
DIFFERS with the reason, as far as it was pinned down.
"""

import collections
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

KINDS = ("definite", "indirect", "possible", "reachable")
VALGRIND = ("valgrind", "--leak-check=full", "--show-leak-kinds=all",
            "--run-libc-freeres=no")
MEMLENS_OPTIONS = ("--run-libc-freeres=no",)
TIMEOUT = 300

# name: (argv, stdin file or None, quick).  Files are those make_inputs writes.
Program = collections.namedtuple("Program", "argv stdin quick")
CORPUS = collections.OrderedDict([
    ("ls", Program(["ls", "-l", "dir"], None, True)),
    ("sort", Program(["sort", "words.txt"], None, True)),
    ("cat", Program(["cat", "words.txt"], None, False)),
    ("wc", Program(["wc", "words.txt"], None, False)),
    ("du", Program(["du", "-s", "dir"], None, False)),
    ("date", Program(["date", "-d", "@0"], None, True)),
    ("sha256sum", Program(["sha256sum", "words.txt"], None, False)),
    ("base64", Program(["base64", "words.txt"], None, False)),
    ("tr", Program(["tr", "a-z", "A-Z"], "words.txt", True)),
    ("cut", Program(["cut", "-d", " ", "-f", "1,3", "words.txt"], None, False)),
    ("uniq", Program(["uniq", "-c", "words.txt"], None, False)),
    ("seq", Program(["seq", "1", "1000"], None, True)),
    ("stat", Program(["stat", "words.txt"], None, True)),
    ("od", Program(["od", "-c", "words.txt"], None, False)),
    ("nl", Program(["nl", "words.txt"], None, False)),
    ("grep", Program(["grep", "-c", "-E", "a[bc]+", "words.txt"], None, True)),
    ("sed", Program(["sed", "-e", "s/a/b/g", "words.txt"], None, True)),
    ("gawk", Program(["gawk", "{ n[$1]++ } END { for (k in n) c++; print c }", "words.txt"],
                     None, False)),
    ("mawk", Program(["mawk", "{ n += NF } END { print n }", "words.txt"], None, True)),
    ("gzip", Program(["gzip", "-c", "words.txt"], None, False)),
    ("bzip2", Program(["bzip2", "-c", "words.txt"], None, True)),
    ("xz", Program(["xz", "-c", "-T1", "words.txt"], None, False)),
    ("zstd", Program(["zstd", "-q", "-c", "words.txt"], None, False)),
    ("lz4", Program(["lz4", "-q", "-c", "words.txt"], None, False)),
    ("diff", Program(["diff", "words.txt", "other.txt"], None, True)),
    ("find", Program(["find", "dir", "-name", "*.txt"], None, True)),
    ("tar", Program(["tar", "-cf", "-", "dir"], None, True)),
    ("bc", Program(["bc", "-q"], "calc.bc", True)),
    ("m4", Program(["m4"], "macros.m4", True)),
    ("jq", Program(["jq", ".items | map(.n * 2) | add", "data.json"], None, True)),
    ("sqlite3", Program(["sqlite3", ":memory:"], "query.sql", False)),
    ("python3", Program(["python3", "-S", "-c",
                         "import sys; d = {w: len(w) for w in open('words.txt').read().split()};"
                         " sys.stdout.write(str(len(d)))"], None, True)),
    ("perl", Program(["perl", "-e", "my %h; while (<>) { $h{$_}++ for split } "
                      "print scalar(keys %h), qq{\\n}", "words.txt"], None, True)),
    ("tclsh", Program(["tclsh", "script.tcl"], None, False)),
    ("lua", Program(["lua5.4", "-e", "local t = {} for i = 1, 1000 do t[i] = i * i end "
                     "print(#t)"], None, True)),
    ("make", Program(["make", "-s", "-f", "build.mk"], None, False)),
    ("git", Program(["git", "hash-object", "words.txt"], None, False)),
    ("file", Program(["file", "words.txt", "data.json"], None, False)),
    ("openssl", Program(["openssl", "dgst", "-sha256", "words.txt"], None, False)),
    ("xmllint", Program(["xmllint", "--noout", "doc.xml"], None, True)),
    ("xz-T2", Program(["xz", "-c", "-T2", "words.txt"], None, False)),
    ("zstd-T2", Program(["zstd", "-q", "-c", "-T2", "words.txt"], None, False)),
    ("python3-site", Program(["python3", "-c", "import json, re; print(len(re.findall('a', "
                              "json.dumps(list(range(500))))))"], None, False)),
    ("cmake", Program(["cmake", "--version"], None, False)),
    ("ninja", Program(["ninja", "--version"], None, False)),
    ("gdb", Program(["gdb", "-nx", "-batch", "-ex", "print 1 + 2"], None, False)),
    ("sort-parallel", Program(["sort", "--parallel=2", "-S", "1M", "words.txt"], None, False)),
    ("head", Program(["head", "-n", "100", "words.txt"], None, False)),
    ("tail", Program(["tail", "-n", "100", "words.txt"], None, False)),
    ("fold", Program(["fold", "-w", "20", "words.txt"], None, False)),
])

# Programs whose answers differ, with the reason as far as it was pinned down.
DIFFERS = {
    "gawk": "two words of an early, reachable 11,200-byte block of gawk's nodes hold the "
            "addresses of the strings \"287\" and \"sorted_in\" (memcheck: possibly lost, "
            "reached only from another node block); most likely stale pointers to strings "
            "gawk freed, whose chunks glibc handed out again and valgrind's allocator, which "
            "delays reuse, did not (not verified word by word)",
    "gdb": "gdb gives each thread an alternate signal stack of sysconf(_SC_SIGSTKSZ) bytes: "
           "13,504 natively (4 x the kernel's AT_MINSIGSTKSZ, 3,376 on this CPU), 8,192 under "
           "valgrind, whose virtual CPU passes no AT_MINSIGSTKSZ: the program differs, not "
           "the leak check (blocks and the other kinds agree)",
}


def make_inputs(d):
    """The input files, the same on every run (fixed seed)."""
    import random
    rnd = random.Random(1)
    words = ["".join(rnd.choice("abcdefghij") for _ in range(rnd.randint(2, 7)))
             for _ in range(300)]
    lines = [" ".join(rnd.choice(words) for _ in range(6)) for _ in range(2000)]
    with open(os.path.join(d, "words.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(os.path.join(d, "other.txt"), "w") as f:
        f.write("\n".join(lines[:1000] + ["changed"] + lines[1001:]) + "\n")
    os.makedirs(os.path.join(d, "dir", "sub"), exist_ok=True)
    for i in range(5):
        with open(os.path.join(d, "dir", "f%d.txt" % i), "w") as f:
            f.write("file %d\n" % i * (i + 1))
    with open(os.path.join(d, "dir", "sub", "g.txt"), "w") as f:
        f.write("g\n")
    with open(os.path.join(d, "calc.bc"), "w") as f:
        f.write("scale=20\n2^100\nsqrt(2)\nquit\n")
    with open(os.path.join(d, "macros.m4"), "w") as f:
        f.write("define(`twice', `$1$1')dnl\ntwice(ab) twice(cd)\n")
    with open(os.path.join(d, "data.json"), "w") as f:
        json.dump({"items": [{"n": i, "name": "item%d" % i} for i in range(200)]}, f)
    with open(os.path.join(d, "query.sql"), "w") as f:
        f.write("create table t(x integer, y text);\n"
                "insert into t select value, 'v' || value from generate_series(1, 500);\n"
                "select count(*), sum(x) from t where y like 'v1%';\n")
    with open(os.path.join(d, "script.tcl"), "w") as f:
        f.write("set d [dict create]\nforeach w {a b c a b a} { dict incr d $w }\n"
                "puts [dict size $d]\n")
    with open(os.path.join(d, "build.mk"), "w") as f:
        f.write("all: out.txt\nout.txt: words.txt\n\t@true\n.PHONY: all out.txt\n")
    with open(os.path.join(d, "doc.xml"), "w") as f:
        f.write("<?xml version='1.0'?>\n<doc>" +
                "".join("<item n='%d'>text %d</item>" % (i, i) for i in range(200)) + "</doc>\n")


# ---- environments -------------------------------------------------------------

def added_env(cmd, base, cwd):
    """The variables a tool adds to (or changes in) the environment base."""
    p = subprocess.run(list(cmd) + ["/usr/bin/env"], env=base, cwd=cwd, stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=TIMEOUT)
    seen = dict(l.split("=", 1) for l in p.stdout.decode().splitlines() if "=" in l)
    return {k: v for k, v in seen.items() if base.get(k) != v}


def equal_envs(memlens, cwd):
    """(valgrind's env, memlens's env): what each tool adds is given to the
    other's run too, LD_PRELOAD padded to one length.  Perl's and Python's
    hash seeds are fixed: their tables would otherwise differ run to run.
    GLib allocates with malloc (G_SLICE), as it chooses to under valgrind."""
    base = {"PATH": "/usr/bin:/bin", "HOME": cwd, "LANG": "C", "LC_ALL": "C",
            "TZ": "UTC", "PWD": cwd,
            "PERL_HASH_SEED": "0", "PERL_PERTURB_KEYS": "0", "PYTHONHASHSEED": "0",
            "G_SLICE": "always-malloc"}
    vg = added_env(VALGRIND[:1] + ("-q",), base, cwd)
    ml = added_env((memlens, "-q", "--"), base, cwd)
    vpre, mpre = vg.pop("LD_PRELOAD", ""), ml.pop("LD_PRELOAD", "")
    venv, menv = dict(base), dict(base)
    venv.update(ml)     # memlens's own variables in valgrind's run
    menv.update(vg)     # and valgrind's in memlens's
    # Each tool prepends its preload to LD_PRELOAD with a ':'; pad with empty entries.
    longer = max(len(vpre), len(mpre))
    venv["LD_PRELOAD"] = ":" * (1 + longer - len(vpre))
    menv["LD_PRELOAD"] = ":" * (1 + longer - len(mpre))
    return venv, menv


# ---- runs ---------------------------------------------------------------------

def parse_valgrind(log):
    zero = {k: {"blocks": 0, "bytes": 0} for k in KINDS}
    if "All heap blocks were freed" in log:
        return zero
    labels = {"definite": "definitely lost", "indirect": "indirectly lost",
              "possible": "possibly lost", "reachable": "still reachable"}
    out = {}
    for k, label in labels.items():
        m = re.search(re.escape(label) + r":\s+([\d,]+) bytes in ([\d,]+) blocks", log)
        if not m:
            return None
        out[k] = {"blocks": int(m.group(2).replace(",", "")),
                  "bytes": int(m.group(1).replace(",", ""))}
    return out


def run_tool(cmd, prog, cwd, env):
    stdin = open(os.path.join(cwd, prog.stdin)) if prog.stdin else subprocess.DEVNULL
    try:
        subprocess.run(list(cmd) + prog.argv, cwd=cwd, env=env, stdin=stdin,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=TIMEOUT)
    finally:
        if prog.stdin:
            stdin.close()


def run_valgrind(prog, cwd, env):
    log = os.path.join(os.path.dirname(cwd), "vg.log")   # not where the program looks
    run_tool(VALGRIND + ("--log-file=" + log,), prog, cwd, env)
    with open(log, errors="replace") as f:
        text = f.read()
    os.unlink(log)
    return parse_valgrind(text)


def run_memlens(memlens, prog, cwd, env):
    out = os.path.join(os.path.dirname(cwd), "ml.json")
    run_tool((memlens, "--json=" + out) + MEMLENS_OPTIONS + ("--",), prog, cwd, env)
    if not os.path.exists(out):
        return None
    with open(out) as f:
        doc = json.load(f)
    os.unlink(out)
    s = doc["processes"][0]["leaks"]["summary"]
    return {k: {"blocks": s[k]["blocks"], "bytes": s[k]["bytes"]} for k in KINDS}


class Corpus:
    """A scratch directory with the inputs and the two environments."""

    def __init__(self, build):
        self.memlens = os.path.join(os.path.abspath(build), "tracer", "memlens")
        self.tmp = tempfile.TemporaryDirectory(prefix="memlens-corpus.")
        self.cwd = os.path.join(self.tmp.name, "work")   # the tools write next to it
        os.mkdir(self.cwd)
        make_inputs(self.cwd)
        self.venv, self.menv = equal_envs(self.memlens, self.cwd)

    def close(self):
        self.tmp.cleanup()

    def available(self, name):
        return shutil.which(CORPUS[name].argv[0]) is not None

    def compare(self, name):
        """(valgrind's kinds, memlens's kinds); None for a tool that gave none."""
        prog = CORPUS[name]
        return (run_valgrind(prog, self.cwd, self.venv),
                run_memlens(self.memlens, prog, self.cwd, self.menv))


def fmt(kinds):
    if kinds is None:
        return "(no answer)"
    return " ".join("%d/%d" % (kinds[k]["blocks"], kinds[k]["bytes"]) for k in KINDS)


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    names = argv[2:] or list(CORPUS)
    c = Corpus(argv[1])
    exact = total = 0
    print("%-10s %-8s %-44s %s" % ("program", "", "valgrind: definite indirect possible "
                                   "reachable (blocks/bytes)", "memlens"))
    try:
        for name in names:
            if not c.available(name):
                print("%-10s %-8s (%s not installed)" % (name, "skipped", CORPUS[name].argv[0]))
                continue
            vg, ml = c.compare(name)
            same = vg is not None and vg == ml
            total += 1
            exact += same
            print("%-10s %-8s %-44s %s%s" % (name, "exact" if same else "DIFFERS", fmt(vg),
                                             fmt(ml), "" if same or name not in DIFFERS
                                             else "  (" + DIFFERS[name] + ")"))
            sys.stdout.flush()
    finally:
        c.close()
    print("%d of %d exact" % (exact, total))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
