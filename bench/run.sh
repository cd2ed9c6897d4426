#!/bin/sh
# run.sh - the benchmark behind `make bench`: each workload natively, under
# memlens, heaptrack and valgrind memcheck, in one table (bench/measure.py).
#
# usage: bench/run.sh [BUILD_DIR]     (default: the source tree)
# env:   RUNS (5)        repetitions; each runs every tool once, in turn
#        QUICK=1         small sizes and RUNS=1, for development
#        OPS (5000000)   churn's free+malloc pairs, single- and 4-threaded
#        ROUNDS (10)     containers' rounds
#        BLOCKS (2000000) live blocks kept to the exit by `live`
#        SMALL (10000000) live blocks kept by `small`
#        STACKS (1048576) distinct stacks of `stacks`
#        LINES (200000)  lines of the generated text `sort` and `perl` read
#        TOOLS           comma list of the tools to compare with native
#                        (default memlens,heaptrack,valgrind)
#        ONLY            comma list of the workloads to run (default all)
#        MEMORY=0        skip the session memory measurements
#        PROFILE=0       skip the perf profile of memlens's exit phases
#        CC (cc), CXX (c++)
#
# Workloads (sources in this directory, built with -O2 into a temporary
# directory, which also holds the tools' output and is removed at the end):
#   churn       churn.c: free+malloc of random sizes through 1024 distinct
#               10-deep call paths, 4096 live blocks;
#   churn-4t    the same split among 4 threads;
#   containers  containers.cc: std::string, vector, list, map,
#               unordered_map and shared_ptr, built and torn down;
#   live        live.c: 2M blocks (about 1 GiB) live at exit, 0.1% lost:
#               the exit analysis at scale;
#   small       live.c with 10M blocks of 16..48 bytes (SMALL): many small
#               blocks, the live-block table at its largest;
#   churn-64t   churn split among 64 threads: contention between threads;
#   stacks      deepstacks.c: one block through each of 2^20 distinct stacks
#               (STACKS), --num-callers=48: the stack table at scale;
#   procs       a shell running /bin/true 80 times, --trace-children=yes:
#               memlens's fixed cost per traced process;
#   sort        coreutils' sort on generated text (few, large allocations);
#   perl        Debian's perl counting the words of that text in a hash
#               (millions of small allocations in a real program).
# treeusage.c is the helper that measures each run's CPU time and maximum RSS.
# Timings depend on the machine and its load; nothing here is a test.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/..}" && pwd)
if [ "${QUICK:-0}" = 1 ]; then
    RUNS=${RUNS:-1} OPS=${OPS:-2000000} ROUNDS=${ROUNDS:-2}
    BLOCKS=${BLOCKS:-200000} LINES=${LINES:-50000}
    SMALL=${SMALL:-1000000} STACKS=${STACKS:-65536}
fi
export RUNS=${RUNS:-5}
OPS=${OPS:-5000000}
ROUNDS=${ROUNDS:-10}
BLOCKS=${BLOCKS:-2000000}
LINES=${LINES:-200000}
SMALL=${SMALL:-10000000}
STACKS=${STACKS:-1048576}
[ -x "$build/tracer/memlens" ] || { echo "run.sh: $build/tracer/memlens is not built" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
${CC:-cc} -O2 -o "$tmp/churn" "$here/churn.c" -lpthread
${CC:-cc} -O2 -o "$tmp/live" "$here/live.c"
${CC:-cc} -O2 -o "$tmp/deepstacks" "$here/deepstacks.c"
printf 'i=0\nwhile [ $i -lt 80 ]; do /bin/true; i=$((i + 1)); done\n' > "$tmp/procs.sh"
${CC:-cc} -O2 -o "$tmp/treeusage" "$here/treeusage.c"
${CXX:-c++} -O2 -o "$tmp/containers" "$here/containers.cc"

# LINES lines of six words drawn from 5000 made-up ones (fixed seed).
awk -v n="$LINES" 'BEGIN {
    srand(1);
    for (i = 0; i < 5000; i++) {
        w = ""; len = 3 + int(rand() * 10);
        for (j = 0; j < len; j++) w = w sprintf("%c", 97 + int(rand() * 26));
        word[i] = w;
    }
    for (i = 0; i < n; i++) {
        line = word[int(rand() * 5000)];
        for (j = 1; j < 6; j++) line = line " " word[int(rand() * 5000)];
        print line;
    }
}' > "$tmp/words.txt"
cat > "$tmp/count.pl" <<'PERL'
my %h; while (<>) { $h{$_}++ for split } print scalar(keys %h), "\n";
PERL

echo "memlens benchmark: $(nproc) CPUs, RUNS=$RUNS, $(date -u '+%Y-%m-%d %H:%M UTC')" >&2
python3 "$here/measure.py" "$build" "$tmp" \
    "churn=$tmp/churn $OPS 1" \
    "churn-4t=$tmp/churn $OPS 4" \
    "containers=$tmp/containers $ROUNDS" \
    "live=$tmp/live $BLOCKS" \
    "small=$tmp/live $SMALL 48 16" \
    "churn-64t=$tmp/churn $OPS 64" \
    "stacks=$tmp/deepstacks $STACKS" \
    "procs=sh $tmp/procs.sh" \
    "sort=sort -o /dev/null $tmp/words.txt" \
    "perl=perl $tmp/count.pl $tmp/words.txt"
