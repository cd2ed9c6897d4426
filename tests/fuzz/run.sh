#!/bin/sh
# run.sh - build the libFuzzer harnesses with clang and run each one.
# usage: tests/fuzz/run.sh [SECONDS]   (default 10 per fuzzer; by hand: 600)
# Prints "fuzz NAME: ok" or "fuzz NAME: FAILED" per harness; exit 0 when no
# harness found a crash, 77 when clang with libFuzzer is not available.
set -u
src=$(cd "$(dirname "$0")/../.." && pwd)
secs=${1:-${FUZZ_SECONDS:-10}}
work=${FUZZ_DIR:-$(mktemp -d)}
CC=${FUZZ_CC:-clang}
if ! command -v "$CC" >/dev/null 2>&1 ||
   ! echo 'int LLVMFuzzerTestOneInput(const char*d,unsigned long n){return 0;}' |
     "$CC" -x c -fsanitize=fuzzer - -o "$work/probe" 2>/dev/null; then
    echo "fuzz: clang with libFuzzer not found (Debian package clang): fuzzers not run"
    exit 77
fi
flags="-g -O1 -std=gnu11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
 -I$src/include -I$src/report -I$src/tracer -DPACKAGE_VERSION=\"fuzz\""
failed=0
build_and_run() {   # name sources...
    name=$1; shift
    # shellcheck disable=SC2086
    if ! $CC $flags "$@" -o "$work/$name" -ldw -lelf -ldl 2>"$work/$name.build"; then
        echo "fuzz $name: FAILED (build)"; cat "$work/$name.build"; failed=1; return
    fi
    mkdir -p "$work/corpus-$name"
    if "$work/$name" -max_total_time="$secs" -max_len=4096 -timeout=10 -print_final_stats=1 \
        -artifact_prefix="$work/" \
        "$work/corpus-$name" "$src/tests/fuzz/seeds/${name#fuzz_}" >"$work/$name.log" 2>&1; then
        echo "fuzz $name: ok ($(grep -o 'stat::number_of_executed_units: [0-9]*' "$work/$name.log" | grep -o '[0-9]*$') runs in ${secs}s)"
    else
        echo "fuzz $name: FAILED"; tail -40 "$work/$name.log"; failed=1
    fi
}
build_and_run fuzz_suppress "$src/tests/fuzz/fuzz_suppress.c" "$src/report/suppress.c" "$src/report/model.c" \
    "$src/report/strpool.c" "$src/report/stacktab.c"
build_and_run fuzz_options "$src/tests/fuzz/fuzz_options.c" "$src/tracer/options.c" "$src/tracer/filepattern.c"
build_and_run fuzz_maps "$src/tests/fuzz/fuzz_maps.c" "$src/report/snapshot.c"
# --load's reader: it needs most of report/ (the renderer and the names it maps back);
# html.c is left out (its assets are generated in the build tree).
# shellcheck disable=SC2046
build_and_run fuzz_jsonload "$src/tests/fuzz/fuzz_jsonload.c" $(ls "$src"/report/*.c | grep -v '/html\.c$') -lz -lpthread
[ -n "${FUZZ_DIR:-}" ] || rm -rf "$work"
exit $failed
