#!/bin/sh
# htmlload.sh - how long memlens's HTML report takes to open in headless Chromium.
#
# usage: bench/htmlload.sh [BUILD_DIR]   (default: the source tree)
# env:   RUNS (3)   page loads per report; the table shows the slowest
#
# Two reports at real-program size, written into a temporary directory:
#   procs100   sh running /bin/true 100 times, --trace-children=yes
#              (101 processes: the table across processes, closed sections);
#   records10k bench/manyrecords.c: 10,000 definitely lost blocks, each
#              from its own stack (10,000 loss records in one process).
# Each page is opened with chromium --headless --dump-dom.  The page sets
# data-ready-ms on #app (and a performance mark, memlens-ready) when its
# script has drawn the page and the layout is done: milliseconds since the
# navigation started.  "wall" is the whole chromium run minus the same run
# on an empty page (chromium's own start and exit).
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$src}" && pwd)
memlens=$build/tracer/memlens
runs=${RUNS:-3}
chrome=$(command -v chromium || command -v chromium-browser || command -v google-chrome)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/htmlload.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

${CC:-cc} -g -O0 -fno-inline -o "$tmp/manyrecords" "$src/bench/manyrecords.c"
"$memlens" -q --trace-children=yes --html="$tmp/procs100.html" -- \
    sh -c 'i=0; while [ $i -lt 100 ]; do /bin/true; i=$((i+1)); done' 2>/dev/null
"$memlens" -q --html="$tmp/records10k.html" -- "$tmp/manyrecords" 10000 2>/dev/null
echo '<!DOCTYPE html><title>empty</title>' >"$tmp/empty.html"

# Milliseconds of one chromium --dump-dom run of $1; the DOM in $tmp/dom.
load() {
    t0=$(date +%s%N)
    "$chrome" --headless --no-sandbox --disable-gpu --no-first-run \
        --user-data-dir="$tmp/profile" --dump-dom "file://$1" >"$tmp/dom" 2>/dev/null
    echo $(( ($(date +%s%N) - t0) / 1000000 ))
}
base=0
for i in $(seq "$runs"); do
    w=$(load "$tmp/empty.html")
    [ "$w" -gt "$base" ] && base=$w
done
printf '%-11s %9s %9s %9s\n' report size ready_ms wall_ms
for r in procs100 records10k; do
    ready=0 wall=0
    for i in $(seq "$runs"); do
        w=$(load "$tmp/$r.html")
        d=$(sed -n 's/.*data-ready-ms="\([0-9]*\)".*/\1/p' "$tmp/dom")
        [ -n "$d" ] || { echo "htmlload: $r.html drew no page" >&2; exit 1; }
        [ "$d" -gt "$ready" ] && ready=$d
        [ $((w - base)) -gt "$wall" ] && wall=$((w - base))
    done
    printf '%-11s %8sK %9s %9s\n' "$r" $(( $(wc -c <"$tmp/$r.html") / 1024 )) "$ready" "$wall"
done
