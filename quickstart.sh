#!/bin/sh
# quickstart.sh - set up, build and try memlens on a fresh Debian 12 machine.
#   ./quickstart.sh         install missing build dependencies (apt-get), build,
#                           run memlens on a sample and write its reports
#   ./quickstart.sh check   the same set-up (and chromium, which renders the
#                           HTML report in its tests), then the whole test suite
set -eu
cd "$(dirname "$0")"

# Debian packages the build and the tests need.
PACKAGES="build-essential autoconf automake libtool pkg-config libunwind-dev
libdw-dev libelf-dev uthash-dev zlib1g-dev libcmocka-dev python3 valgrind"
# Only the test suite needs these: a headless browser for the HTML report,
# clang for the fuzzers (libFuzzer), go for `go tool pprof` (the pprof
# reader), jemalloc, tcmalloc and mimalloc (leak kinds whatever malloc runs);
# node and npm install Microsoft's SARIF validator (tests/package.json);
# strace is the second tracer the robustness tests start under memlens; the
# programs of the comparison corpus (tests/corpus/compare.py) close the list
# (not gawk: installed, it becomes /usr/bin/awk, which test_realworld runs).
CHECK_PACKAGES="chromium clang cmake googletest golang-go libjemalloc2 libtcmalloc-minimal4 libmimalloc2.0 strace
coreutils grep sed mawk gzip bzip2 xz-utils zstd lz4 diffutils findutils tar bc m4
jq sqlite3 python3 perl tcl lua5.4 make git file openssl libxml2-utils ninja-build gdb"
if [ "${1:-}" = check ]; then PACKAGES="$PACKAGES $CHECK_PACKAGES"; fi

missing_packages() {
    for p in $PACKAGES; do
        dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'install ok installed' || echo "$p"
    done
}

install_dependencies() {
    missing=$(missing_packages)
    [ -z "$missing" ] && return 0
    echo "quickstart: installing $(echo $missing)"
    if [ "$(id -u)" -ne 0 ]; then
        echo "quickstart: run as root (or install these packages yourself): $missing" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
}

build() {
    [ -x configure ] && [ configure -nt configure.ac ] && [ -f Makefile ] && [ Makefile -nt Makefile.am ] ||
        { autoreconf -fi >/dev/null 2>&1 || autoreconf -fi; ./configure -q; }
    make -j"$(nproc)" >/dev/null
}

demo() {
    mkdir -p out
    echo "quickstart: memlens -- samples/leaky"
    ./tracer/memlens --json=out/leaky.json --html=out/leaky.html -- ./samples/leaky || true
    echo
    echo "quickstart: the text report is above; also written:"
    echo "  out/leaky.json  (JSON)"
    echo "  out/leaky.html  (HTML: open file://$(pwd)/out/leaky.html in a browser)"
}

# The npm packages the tests judge outputs with, as tests/package-lock.json pins them.
install_test_readers() {
    if ! command -v npm >/dev/null 2>&1; then
        echo "quickstart: npm not found: the SARIF validator is not installed (its tests skip)" >&2
        return 0
    fi
    npm ci --prefix tests --no-audit --no-fund >/dev/null
}

install_dependencies
build
case "${1:-}" in
    check) install_test_readers; make -j"$(nproc)" check ;;
    "") demo ;;
    *) echo "usage: $0 [check]" >&2; exit 2 ;;
esac
