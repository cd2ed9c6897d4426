#!/usr/bin/env python3
"""measure.py - runs bench/'s workloads natively and under each tool and
prints one table of medians (called by bench/run.sh, which builds the
workloads).

For every workload, each repetition runs native, memlens, heaptrack and
valgrind memcheck in turn (alternating, so that a change in the machine's
load hits every tool alike), RUNS repetitions in all; the table shows the
median of each column and its ratio to the native median:
  wall   elapsed time of the whole run (start-up, the exit analysis and the
         report included);
  cpu    user + system time of the whole process tree (wait4 of the root by
         bench/treeusage.c, which includes every reaped descendant: memlens's
         tracer and its drainer thread, heaptrack's helpers);
  peak   peak memory of the process tree: the larger of the biggest
         process's maximum RSS (wait4) and the sum of the tree's PSS,
         sampled from /proc while it runs (PSS counts memory shared by the
         tree's processes, such as memlens's session, once).
memlens runs with its defaults (full leak check, 12 frames), valgrind with
--leak-check=full; both get WORKLOAD_OPTIONS where a workload needs them.  heaptrack runs with --raw (record only): its interpreter,
heaptrack_interpret 1.4.0, grows to about 19 GB and aborts with bad_alloc on
the churn workload once it has made some 150,000 allocations, so its rows
show what heaptrack costs the running program, without the analysis that it
defers to later.

It then prints every goal of the cost-at-scale work (RATIO_GOALS and the
per-process, stack-table and heaptrack goals) with its measured value, the
seconds of memlens's exit steps on each workload, what zeroing new blocks costs on
churn (see zeroing_cost()), what memlens's session costs per live block and per unique
stack (see memory_costs()), and, with PROFILE=1 and perf installed, where
memlens's time goes at exit on the live-block workload (see exit_phases()).

Owns: the tool command lines, the runner, the RSS sampler, the table, the
goals.
"""
import os
import re
import shutil
import statistics
import tempfile
import subprocess
import sys
import threading
import time

TOOLS = ("native", "memlens", "heaptrack", "valgrind")

# Options a workload needs under the checkers (memlens and valgrind alike).
WORKLOAD_OPTIONS = {
    "procs": ["--trace-children=yes"],    # every short process is checked
    "stacks": ["--num-callers=48"],       # the stack table at its deepest
}
# Tools left out of a workload: valgrind needs minutes on these.
WORKLOAD_SKIP = {"small": {"valgrind"}, "stacks": {"valgrind"}}
PROCS = 81    # bench/run.sh's `procs` workload: sh and 80 children
STACKS_DEFAULT = 1 << 20   # bench/run.sh's `stacks` workload: its paths


# ---- one run ---------------------------------------------------------------

def children_of(pid):
    """Direct children of pid, from /proc/PID/task/*/children."""
    out = []
    try:
        for tid in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/children" % (pid, tid)) as f:
                out.extend(int(c) for c in f.read().split())
    except OSError:
        pass
    return out


def tree_of(pid):
    todo, seen = [pid], []
    while todo:
        p = todo.pop()
        seen.append(p)
        todo.extend(children_of(p))
    return seen


def pss_kib(pid):
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class TreeSampler(threading.Thread):
    """Samples the summed PSS of a process tree until stopped; the pause
    between samples is a few times what a sample costs (at least 10 ms), so
    that the sampler takes little of the CPU the measured run could use."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.peak = pid, 0
        self.done = threading.Event()

    def run(self):
        while not self.done.is_set():
            t0 = time.monotonic()
            total = sum(pss_kib(p) for p in tree_of(self.pid))
            self.peak = max(self.peak, total)
            self.done.wait(max(0.01, 4 * (time.monotonic() - t0)))


def run_once(cmd, cwd, env, log, usage):
    """Run cmd through the treeusage helper (bench/treeusage.c); returns
    (wall s, cpu s, peak KiB).  Exits on failure."""
    out = os.path.join(os.path.dirname(log), "usage.txt")
    with open(log, "wb") as err:
        t0 = time.monotonic()
        proc = subprocess.Popen([usage, out] + cmd, cwd=cwd, env=env,
                                stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=err)
        sampler = TreeSampler(proc.pid)
        sampler.start()
        proc.wait()
        wall = time.monotonic() - t0
        sampler.done.set()
        sampler.join()
    if proc.returncode != 0:
        sys.stderr.write(open(log, errors="replace").read()[-3000:])
        sys.exit("measure.py: %s exited with %d" % (" ".join(cmd), proc.returncode))
    u = dict(kv.split("=") for kv in open(out).read().split())
    cpu = float(u["utime"]) + float(u["stime"])
    return wall, cpu, max(int(u["maxrss_kib"]), sampler.peak)


# ---- tools -----------------------------------------------------------------

class Tools:
    def __init__(self, build, tmp):
        self.usage = os.path.join(tmp, "treeusage")
        self.memlens = os.path.join(build, "tracer", "memlens")
        self.tmp = tmp
        self.cwd = os.path.join(tmp, "cwd")   # heaptrack writes its file here
        os.makedirs(self.cwd, exist_ok=True)
        self.have = {"native": True, "memlens": os.access(self.memlens, os.X_OK),
                     "heaptrack": shutil.which("heaptrack") is not None,
                     "valgrind": shutil.which("valgrind") is not None}

    def command(self, tool, cmd, extra=()):
        log = os.path.join(self.tmp, "report.txt")
        if tool == "memlens":
            return [self.memlens, "--log-file=" + log] + list(extra) + ["--"] + cmd
        if tool == "heaptrack":
            return ["heaptrack", "--raw"] + cmd
        if tool == "valgrind":
            return ["valgrind", "--tool=memcheck", "--leak-check=full",
                    "--log-file=" + log] + list(extra) + cmd
        return cmd

    def run(self, tool, cmd, env=None, extra=()):
        full = self.command(tool, cmd, extra)
        res = run_once(full, self.cwd, env, os.path.join(self.tmp, "stderr.txt"),
                       self.usage)
        for f in os.listdir(self.cwd):          # heaptrack.PROG.PID.zst
            os.unlink(os.path.join(self.cwd, f))
        return res


# ---- the table -------------------------------------------------------------

def fmt_ratio(x, base):
    return "%.2fx" % (x / base) if base > 0 else "-"


def bench_workload(tools, name, cmd, runs, env):
    """{tool: (wall, cpu, peak)} medians over runs, tools alternating."""
    want = os.environ.get("TOOLS", ",".join(TOOLS)).split(",")
    skip = WORKLOAD_SKIP.get(name, set())
    got = {t: [] for t in TOOLS if tools.have[t] and t not in skip
           and (t in want or t == "native")}
    extra = WORKLOAD_OPTIONS.get(name, [])
    for i in range(runs):
        for t in got:
            got[t].append(tools.run(t, cmd, env, extra))
            w, c, p = got[t][-1]
            sys.stderr.write("  %-12s run %d/%d %-9s wall %.2fs cpu %.2fs peak %.0f MiB\n"
                             % (name, i + 1, runs, t, w, c, p / 1024))
    return {t: tuple(statistics.median(r[k] for r in v) for k in range(3))
            for t, v in got.items()}


def short(arg):
    """A workload argument as the table shows it: files of the temporary
    directory by their name."""
    return os.path.basename(arg) if arg.startswith(tempfile.gettempdir()) else arg


def print_table(rows, runs, workloads):
    head = ("workload", "tool", "wall s", "x native", "cpu s", "x native",
            "peak MiB", "x native")
    label = {"heaptrack": "heaptrack --raw"}
    print("| " + " | ".join(head) + " |")
    print("|" + "|".join("---" for _ in head) + "|")
    for name, res in rows:
        nw, nc, np_ = res["native"]
        for t in TOOLS:
            if t not in res:
                continue
            w, c, p = res[t]
            print("| %s | %s | %.2f | %s | %.2f | %s | %.0f | %s |"
                  % (name, label.get(t, t), w, fmt_ratio(w, nw), c, fmt_ratio(c, nc),
                     p / 1024, fmt_ratio(p, np_)))
        name = ""
    print()
    print("Medians of %d runs; tools alternate within each run.  Workloads:" % runs)
    for name, cmd in workloads:
        print("- %s: `%s`" % (name, " ".join(short(c) for c in cmd)))


# ---- the goals (issue: cost at scale) ----------------------------------------

# (workload, column, most memlens may cost as a multiple of native)
RATIO_GOALS = (
    ("churn", 0, 1.5), ("churn-4t", 0, 2.0), ("containers", 0, 1.5),
    ("perl", 0, 1.5), ("live", 0, 2.0), ("live", 2, 1.25),
    ("small", 0, 3.0), ("small", 2, 1.5),
    ("churn-64t", 0, 3.0),        # at least a third of native throughput
)
COLUMN = ("wall", "cpu", "peak memory")


def goal_line(text, measured, met):
    print("- %-58s %-22s %s" % (text, measured, "met" if met else "MISSED"))


def print_goals(rows, workloads):
    """Every goal with its measured value; 'MISSED' where it is not met."""
    res = dict(rows)
    print("Goals (medians above):")
    for name, col, most in RATIO_GOALS:
        if name not in res or "memlens" not in res[name]:
            continue
        ratio = res[name]["memlens"][col] / res[name]["native"][col]
        goal_line("%s: memlens %s at most %.2fx native" % (name, COLUMN[col], most),
                  "%.2fx" % ratio, ratio <= most)
    if "procs" in res and "memlens" in res["procs"]:
        cost = (res["procs"]["memlens"][0] - res["procs"]["native"][0]) / PROCS
        goal_line("procs: fixed cost per traced process at most 20 ms",
                  "%.1f ms" % (cost * 1000), cost <= 0.020)
    if "stacks" in res and "memlens" in res["stacks"]:
        wall = res["stacks"]["memlens"][0]
        goal_line("stacks: whole run at most 60 s", "%.1f s" % wall, wall <= 60)
        cmd = dict(workloads)["stacks"]
        paths = int(cmd[1]) if len(cmd) > 1 else STACKS_DEFAULT
        per = (res["stacks"]["memlens"][2] - res["stacks"]["native"][2]) * 1024 / paths
        goal_line("stacks: memlens's memory per unique stack under 600 bytes",
                  "%.0f bytes" % per, per < 600)
    for name, r in rows:
        if "memlens" in r and "heaptrack" in r:
            goal_line("%s: faster than heaptrack --raw" % name,
                      "%.2fx heaptrack" % (r["memlens"][0] / r["heaptrack"][0]),
                      r["memlens"][0] < r["heaptrack"][0])


def exit_steps(tools, name, cmd):
    """One memlens run with MEMLENS_STATS=1: seconds of each step
    (drain, capture, leaks, heap, regions, render), summed over processes."""
    env = dict(os.environ, MEMLENS_STATS="1")
    tools.run("memlens", cmd, env, WORKLOAD_OPTIONS.get(name, []))
    stats = open(os.path.join(tools.tmp, "stderr.txt"), errors="replace").read()
    steps = {}
    for m in re.finditer(r"memlens-stats: pid=\d+ phase=(\S+) seconds=([\d.]+)", stats):
        steps[m.group(1)] = steps.get(m.group(1), 0.0) + float(m.group(2))
    print("- %s: %s" % (name, ", ".join("%s %.2f s" % kv for kv in steps.items())))


def stacks_kept(tools, cmd):
    """The stacks workload with MEMLENS_STATS=1: does the stack table hold
    every one of its PATHS distinct stacks (none merged, none dropped)?
    (Counting the records in its JSON would need gigabytes here.)"""
    env = dict(os.environ, MEMLENS_STATS="1")
    tools.run("memlens", cmd, env, WORKLOAD_OPTIONS["stacks"])
    stats = open(os.path.join(tools.tmp, "stderr.txt"), errors="replace").read()
    found = re.search(r"memlens-stats:.*events=.*", stats)
    stacks = stat_of(found.group(0), "stacks") if found else 0
    want = int(cmd[1]) if len(cmd) > 1 else 1 << 20
    goal_line("stacks: every one of %d stacks kept" % want,
              "%d in the table" % stacks, stacks >= want)


# ---- memory per live block and per stack -----------------------------------

def memlens_extra(tools, cmd, runs):
    """Median (memlens peak - native peak) in KiB, and memlens's stats."""
    extra = []
    env = dict(os.environ, MEMLENS_STATS="1")
    for _ in range(runs):
        n = tools.run("native", cmd)[2]
        m = tools.run("memlens", cmd, env)[2]
        extra.append(m - n)
    stats = open(os.path.join(tools.tmp, "stderr.txt"), errors="replace").read()
    found = re.search(r"memlens-stats:.*events=.*", stats)   # not the phase lines
    return statistics.median(extra), found.group(0) if found else ""


def stat_of(stats, key):
    found = re.search(r"\b%s=(\d+)" % key, stats)
    return int(found.group(1)) if found else 0


def memory_costs(tools, churn, live, runs):
    """Per live block: the live-block program with 1M vs 1K blocks of 32
    bytes; per unique stack: churn with 1 live block and 2^18 vs 1 distinct
    paths.  The cost is the difference of memlens's extra peak (memlens
    peak minus native peak) divided by the difference in blocks or stacks."""
    big, small = 1 << 20, 1 << 10
    if live:
        a, _ = memlens_extra(tools, [live, str(big), "32"], runs)
        b, _ = memlens_extra(tools, [live, str(small), "32"], runs)
        print("Session memory per live block: %.0f bytes (live, 32-byte blocks: "
              "memlens peak minus native peak, %d vs %d blocks; includes the exit "
              "snapshot's copy of the block's heap chunk)"
              % ((a - b) * 1024 / (big - small), big, small))
    paths = 1 << 18
    a, sa = memlens_extra(tools, [churn, str(4 * paths), "1", str(paths), "1"], runs)
    b, sb = memlens_extra(tools, [churn, str(4 * paths), "1", "1", "1"], runs)
    na, nb = stat_of(sa, "stacks"), stat_of(sb, "stacks")
    if na > nb:
        per_stack = (a - b) * 1024 / (na - nb)   # no leak record: table only
        print("Session memory per unique stack: %.0f bytes (churn, 1 live block: "
              "memlens peak minus native peak, %d vs %d stacks; the shared table "
              "holds %.0f bytes of it: frames_bytes / stacks)"
              % (per_stack, na, nb, stat_of(sa, "frames_bytes") / na))

    print("  " + sa)


# ---- what zeroing new blocks costs -------------------------------------------

def zeroing_cost(tools, cmd, runs):
    """memlens on cmd with its default (every new block zeroed, so that no
    stale pointer of a reused chunk reaches the leak scan) and with
    MEMLENS_ZERO=0, alternating; prints the medians and the difference."""
    env = dict(os.environ, MEMLENS_ZERO="0")
    on, off = [], []
    for _ in range(runs):
        on.append(tools.run("memlens", cmd)[:2])
        off.append(tools.run("memlens", cmd, env)[:2])
    w1, c1 = (statistics.median(r[k] for r in on) for k in range(2))
    w0, c0 = (statistics.median(r[k] for r in off) for k in range(2))
    print("Zeroing new blocks on %s (medians of %d runs): wall %.2f s vs %.2f s "
          "without (%+.1f%%), cpu %.2f s vs %.2f s (%+.1f%%); the table's memlens rows "
          "include it." % (" ".join(short(c) for c in cmd), runs, w1, w0,
                           100 * (w1 - w0) / w0 if w0 else 0, c1, c0,
                           100 * (c1 - c0) / c0 if c0 else 0))


# ---- where memlens's exit time goes -----------------------------------------

PHASES = (
    ("drain events (drainer thread)", "drainer_main"),
    ("snapshot: read maps and memory", "ml_capture"),
    ("leak kinds, in all", "ml_leaks_build"),
    ("  of which reachability", "ml_reach_classify"),
    ("sort live blocks by address", "ml_blocks_sorted"),
    ("symbolization", "ml_stack_resolve"),
    ("fragmentation", "ml_frag_build"),
    ("text report", "ml_render_text"),
)


def exit_phases(tools, cmd):
    """CPU seconds of memlens's phases on cmd, from a perf profile with call
    graphs: a phase is the samples whose stack holds its function."""
    data = os.path.join(tools.tmp, "perf.data")
    freq = 499
    rec = ["perf", "record", "-q", "-F", str(freq), "--call-graph", "dwarf,8192",
           "-o", data, "--"] + tools.command("memlens", cmd)
    if subprocess.run(rec, cwd=tools.cwd, stdout=subprocess.DEVNULL,
                      stderr=subprocess.DEVNULL).returncode != 0:
        print("(perf record failed: no exit-phase profile)")
        return
    out = subprocess.run(["perf", "report", "-i", data, "--comm", "memlens",
                          "--children", "-n", "--sort", "sym", "--stdio", "-g", "none"],
                         capture_output=True, text=True).stdout
    samples = {}
    for line in out.splitlines():
        m = re.match(r"\s*([\d.]+)%\s+([\d.]+)%\s+(\d+)\s+\[\.\]\s+(\S+)", line)
        if m:
            samples.setdefault(m.group(4), float(m.group(1)))
    comms = subprocess.run(["perf", "report", "-i", data, "--sort", "comm", "-n",
                            "--stdio", "-g", "none"], capture_output=True, text=True).stdout
    per_comm = {m.group(2): int(m.group(1)) for m in
                re.finditer(r"^\s*[\d.]+%\s+(?:[\d.]+%\s+)?(\d+)\s+(\S+)\s*$",
                            comms, re.M)}
    total = sum(per_comm.values())
    print("memlens's CPU time on %s by phase (perf, %d Hz; a phase counts the "
          "samples whose call stack holds its function):"
          % (" ".join(short(c) for c in cmd), freq))
    for comm, n in sorted(per_comm.items(), key=lambda kv: -kv[1]):
        print("  %-34s %6.2f s" % ("process %s, all threads" % comm, n / freq))
    for label, fn in PHASES:
        pct = samples.get(fn, 0.0)   # perf's default: percent of all samples
        print("  %-34s %6.2f s  (%s)" % (label, pct * total / 100 / freq, fn))
    os.unlink(data)


# ---- main ------------------------------------------------------------------

def main():
    build, tmp = sys.argv[1], sys.argv[2]
    runs = int(os.environ.get("RUNS", "5"))
    tools = Tools(build, tmp)
    missing = [t for t, ok in tools.have.items() if not ok]
    if missing:
        sys.stderr.write("measure.py: not installed, rows left out: %s\n" % ", ".join(missing))
    if not tools.have["memlens"]:
        sys.exit("measure.py: %s is not built" % tools.memlens)
    workloads = []
    only = os.environ.get("ONLY", "")
    for spec in sys.argv[3:]:
        name, cmd = spec.split("=", 1)
        if not only or name in only.split(","):
            workloads.append((name, cmd.split()))
    rows = []
    for name, cmd in workloads:
        rows.append((name, bench_workload(tools, name, cmd, runs, None)))
    print_table(rows, runs, workloads)
    print()
    print_goals(rows, workloads)
    if "stacks" in dict(workloads):
        stacks_kept(tools, dict(workloads)["stacks"])
    print()
    print("memlens's exit steps (one run each, MEMLENS_STATS=1):")
    for name, cmd in workloads:
        exit_steps(tools, name, cmd)
    if "churn" in dict(workloads):
        print()
        zeroing_cost(tools, dict(workloads)["churn"], runs)
    churn = dict(workloads).get("churn", [None])[0]
    live = dict(workloads).get("live")
    if churn and os.environ.get("MEMORY", "1") == "1":
        print()
        memory_costs(tools, churn, live[0] if live else None, max(1, min(runs, 3)))
    if live and os.environ.get("PROFILE", "1") == "1" and shutil.which("perf"):
        print()
        exit_phases(tools, live)


if __name__ == "__main__":
    main()
