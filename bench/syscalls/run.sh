#!/bin/sh
# run.sh - what the syscall watcher costs: unwatched syscalls (getpid) and
# watched ones (mmap/munmap pairs), natively and under memlens.
#
# usage: bench/syscalls/run.sh [BUILD_DIR]     (default: the source tree)
# env:   RUNS (5), GETPID_N (10000000), MMAP_N (200000), CC (cc)
#
# Builds getpid.c and mmaploop.c with -O2 in a temporary directory, then
# runs each workload RUNS times, alternating native and memlens runs, and
# prints the medians: the loop's own time (measured by the program) and the
# whole run's wall time (memlens's start-up and report included).  For the
# watched syscalls it prints the extra cost per call in microseconds:
# (memlens loop - native loop) / calls.  "mmap+munmap (libc)" goes through
# the shim, which also records each call with its stack; "(raw)" calls the
# kernel directly and measures the tracer's two stops per call alone.
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

# run_once LABEL CMD...: append "loop wall" to $tmp/LABEL
run_once() {
    label=$1; shift
    t0=$(now)
    "$@" 2> "$tmp/err" || { cat "$tmp/err" >&2; exit 1; }
    t1=$(now)
    loop=$(sed -n 's/^loop_seconds=\([0-9.]*\).*/\1/p' "$tmp/err" | tail -n 1)
    echo "$loop $(echo "$t0 $t1" | awk '{printf "%.6f", $2 - $1}')" >> "$tmp/$label"
}

median() {   # median FILE COLUMN
    awk -v c="$2" '{print $c}' "$1" | sort -n | awk '{v[NR] = $1}
        END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}

# bench NAME CALLS PROGRAM ARGS...
bench() {
    name=$1 calls=$2; shift 2
    i=0
    while [ "$i" -lt "$RUNS" ]; do
        run_once "$name.native" "$@"
        run_once "$name.memlens" "$memlens" -q --log-file="$tmp/report" -- "$@"
        i=$((i + 1))
    done
    nl=$(median "$tmp/$name.native" 1) nw=$(median "$tmp/$name.native" 2)
    ml=$(median "$tmp/$name.memlens" 1) mw=$(median "$tmp/$name.memlens" 2)
    echo "$name $calls $nl $ml $nw $mw" | awk '{
        printf "%-22s %10d calls  loop native %8.3f s  memlens %8.3f s  (x%.2f)", \
               $1, $2, $3, $4, $4 / $3
        printf "   wall native %7.3f s  memlens %7.3f s  (x%.2f)\n", $5, $6, $6 / $5
        if ($1 != "getpid")
            printf "%-22s %10s        extra cost per call under memlens: %.1f us\n", \
                   "", "", ($4 - $3) / $2 * 1e6
    }'
}

echo "memlens: $memlens; median of $RUNS runs each, native and memlens alternating"
bench getpid "$GETPID_N" "$tmp/getpid" "$GETPID_N"
bench "mmap+munmap(libc)" $((2 * MMAP_N)) "$tmp/mmaploop" "$MMAP_N"
bench "mmap+munmap(raw)" $((2 * MMAP_N)) "$tmp/mmaploop" "$MMAP_N" raw
