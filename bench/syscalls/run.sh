#!/bin/sh
# run.sh - what the syscall watcher costs: unwatched syscalls (getpid) and
# watched ones (mmap/munmap pairs), natively and under memlens.
#
# usage: bench/syscalls/run.sh [BUILD_DIR]     (default: the source tree)
# env:   RUNS (5), GETPID_N (10000000), MMAP_N (200000), CC (cc)
#
# Builds getpid.c and mmaploop.c with -O2 in a temporary directory, then
# runs each workload RUNS times, alternating the native run and the memlens
# run, and prints medians of: the loop's wall time and CPU time (measured
# by the program around its loop) and the whole run's wall time (memlens's
# start-up, exit snapshot and report included).
#
# Rows:
#   getpid              10M unwatched syscalls: the filter lets them run
#                       without a stop, so only the filter's own cost shows;
#   getpid, filter only the same loop natively under a filter of the same
#                       shape (no tracer): the kernel's share of that cost;
#   mmap+munmap (libc)  watched syscalls through libc, which the shim also
#                       records with their stacks;
#   mmap+munmap (raw)   the same through syscall(2): the tracer's two stops
#                       per call alone.
# For the watched rows it prints the extra wall time per call under memlens
# in microseconds: (memlens loop - native loop) / calls.
# Timings depend on the machine and its load; they are not test assertions.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../..}" && pwd)
memlens=$build/tracer/memlens
RUNS=${RUNS:-5}
GETPID_N=${GETPID_N:-10000000}
MMAP_N=${MMAP_N:-200000}
[ -x "$memlens" ] || { echo "run.sh: $memlens is not built" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
${CC:-cc} -O2 -o "$tmp/getpid" "$here/getpid.c"
${CC:-cc} -O2 -o "$tmp/mmaploop" "$here/mmaploop.c"

now() { date +%s.%N; }

# run_once FILE CMD...: append "loop_wall loop_cpu run_wall" to FILE
run_once() {
    file=$1; shift
    t0=$(now)
    "$@" 2> "$tmp/err" || { cat "$tmp/err" >&2; exit 1; }
    t1=$(now)
    line=$(grep '^loop_seconds=' "$tmp/err" | tail -n 1)
    echo "$line $t0 $t1" | sed 's/[a-z_]*=//g' |
        awk '{printf "%s %s %.6f\n", $1, $2, $5 - $4}' >> "$file"
}

median() {   # median FILE COLUMN
    awk -v c="$2" '{print $c}' "$1" | sort -n | awk '{v[NR] = $1}
        END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}

medians() {  # medians FILE -> "loop_wall loop_cpu run_wall"
    echo "$(median "$1" 1) $(median "$1" 2) $(median "$1" 3)"
}

# report NAME CALLS BASE_FILE OTHER_FILE OTHER_LABEL
report() {
    echo "$1 $2 $(medians "$3") $(medians "$4") $5" | awk '{
        printf "%-20s %9d calls\n", $1, $2
        printf "    loop wall  native %8.3f s   %-8s %8.3f s   x%.2f\n", $3, $9, $6, $6 / $3
        printf "    loop CPU   native %8.3f s   %-8s %8.3f s   x%.2f\n", $4, $9, $7, $7 / $4
        printf "    run wall   native %8.3f s   %-8s %8.3f s   x%.2f\n", $5, $9, $8, $8 / $5
        printf "    extra wall time per call: %.3f us\n", ($6 - $3) / $2 * 1e6
    }'
}

# bench NAME CALLS PROGRAM ARGS...: native and memlens runs, alternating
bench() {
    name=$1 calls=$2; shift 2
    i=0
    while [ "$i" -lt "$RUNS" ]; do
        run_once "$tmp/$name.native" "$@"
        run_once "$tmp/$name.memlens" "$memlens" -q --log-file="$tmp/report" -- "$@"
        i=$((i + 1))
    done
    report "$name" "$calls" "$tmp/$name.native" "$tmp/$name.memlens" memlens
}

echo "memlens: $memlens"
echo "median of $RUNS runs each; $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
bench getpid "$GETPID_N" "$tmp/getpid" "$GETPID_N"
i=0
while [ "$i" -lt "$RUNS" ]; do
    run_once "$tmp/plain" "$tmp/getpid" "$GETPID_N"
    run_once "$tmp/filter" "$tmp/getpid" "$GETPID_N" filter
    i=$((i + 1))
done
report "getpid,filter-only" "$GETPID_N" "$tmp/plain" "$tmp/filter" filter
bench "mmap+munmap(libc)" $((2 * MMAP_N)) "$tmp/mmaploop" "$MMAP_N"
bench "mmap+munmap(raw)" $((2 * MMAP_N)) "$tmp/mmaploop" "$MMAP_N" raw
