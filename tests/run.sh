#!/bin/sh
# run.sh - the whole test suite: cmocka unit tests, then the integration
# tests (python3 unittest) that run memlens on the samples.
# usage: tests/run.sh [BUILD_DIR]   (default: the source tree, an in-tree build)
# Prints every test's verdict and ends with the line "N passed, N failed".
# MEMLENS_SUITE=unit runs the unit tests only (the packaging test's make
# distcheck, which must not run the suite, and itself, again).
set -u
src=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$src}" && pwd)
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT
pass=0 fail=0 skip=0

count() {   # count <pass> <fail> <skip>
    pass=$((pass + $1)); fail=$((fail + $2)); skip=$((skip + $3))
}

for t in "$build"/tests/unit/test_*; do
    [ -x "$t" ] && [ -f "$t" ] || continue
    name=$(basename "$t")
    "$t" > "$log/$name" 2>&1
    rc=$?
    ok=$(grep -c '^\[       OK \]' "$log/$name")
    bad=$(grep -c '^\[  FAILED  \] [^0-9]' "$log/$name")
    if [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then bad=1; fi   # crashed
    grep -E '^\[ *(OK|FAILED) *\] [^0-9]' "$log/$name" | sed "s/^/$name: /"
    [ "$bad" -gt 0 ] && cat "$log/$name"
    count "$ok" "$bad" 0
done

if [ "${MEMLENS_SUITE:-all}" = unit ]; then
    echo; echo "$pass passed, $fail failed (unit tests only: MEMLENS_SUITE=unit)"
    [ "$fail" -eq 0 ]; exit
fi

# Fuzz the parsers of user input briefly (FUZZ_SECONDS each; longer by hand).
"$src/tests/fuzz/run.sh" "${FUZZ_SECONDS:-10}" > "$log/fuzz" 2>&1
rc=$?
grep '^fuzz ' "$log/fuzz"
if [ "$rc" -eq 77 ]; then
    count 0 0 1
else
    [ "$rc" -ne 0 ] && cat "$log/fuzz"
    count "$(grep -c '^fuzz .*: ok' "$log/fuzz")" "$(grep -c '^fuzz .*: FAILED' "$log/fuzz")" 0
fi

if command -v python3 >/dev/null 2>&1; then
    # Every fast stack walk of the shim is checked against libunwind's.
    MEMLENS_CHECK_UNWIND=1 MEMLENS_BUILD="$build" python3 -m unittest discover -v -s "$src/tests/integration" \
        -p 'test_*.py' > "$log/integration" 2>&1
    rc=$?
    grep -E ' \.\.\. ' "$log/integration" | grep -v '^  '
    ok=$(grep -cE ' \.\.\. ok$' "$log/integration")
    bad=$(grep -cE ' \.\.\. (FAIL|ERROR)$' "$log/integration")
    sk=$(grep -cE ' \.\.\. skipped' "$log/integration")
    if [ "$rc" -ne 0 ]; then
        sed -n '/^======/,$p' "$log/integration"
        [ "$bad" -eq 0 ] && bad=1
    fi
    count "$ok" "$bad" "$sk"
else
    echo "python3 not found: integration tests not run"; count 0 1 0
fi

echo
if [ "$skip" -gt 0 ]; then
    echo "$pass passed, $fail failed, $skip skipped"
else
    echo "$pass passed, $fail failed"
fi
[ "$fail" -eq 0 ]
