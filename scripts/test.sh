#!/usr/bin/env bash
# The README's test command: installs what is missing, builds, and runs every test.
#   1. the debugoptimized build (gcc: -O2 -g) and its suites: unit, interop (needs root),
#      component, e2e
#   2. release builds (buildtype=release: -O3, no -g; DPDK's pkg-config adds
#      -march=corei7) with gcc and with clang, each with -Werror: their unit and component
#      suites, and with gcc the install suite (meson install --destdir; the Debian package
#      built, installed with apt, its service run, purged; needs root)
#   3. the unit, component and e2e tests again under AddressSanitizer and
#      UndefinedBehaviorSanitizer (the gateway process itself sanitized)
#   4. the libFuzzer targets (clang), each for a bounded number of runs
# Ends with one line "N passed, N failed, N skipped" over all of them, and exits non-zero
# if anything failed.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

passed=0 failed=0 skipped=0

# setup DIR [meson options...]: configure once, reconfigure if options changed.
setup() {
	local dir=$1; shift
	if [ -f "$dir/build.ninja" ]; then
		meson configure "$dir" "$@" >/dev/null
	else
		meson setup "$dir" "$@" >/dev/null
	fi
	ninja -C "$dir"
}

# run DIR [meson test options...]: run, print failures' logs, add to the totals.
run() {
	local dir=$1; shift
	local log rc=0
	log=$(mktemp)
	meson test -C "$dir" --print-errorlogs "$@" 2>&1 | tee "$log" || rc=$?
	local ok fail skip timeout
	ok=$(awk '/^Ok:/ {print $2}' "$log"); fail=$(awk '/^Fail:/ {print $2}' "$log")
	skip=$(awk '/^Skipped:/ {print $2}' "$log"); timeout=$(awk '/^Timeout:/ {print $2}' "$log")
	rm -f "$log"
	passed=$((passed + ${ok:-0}))
	failed=$((failed + ${fail:-0} + ${timeout:-0}))
	skipped=$((skipped + ${skip:-0}))
	if [ "$rc" -ne 0 ] && [ "${fail:-0}" -eq 0 ] && [ "${timeout:-0}" -eq 0 ]; then
		failed=$((failed + 1))   # meson itself failed
	fi
}

echo "== build and test (debugoptimized, gcc) =="
setup build -Dbuildtype=debugoptimized
run build --no-suite install

echo "== release build (gcc): unit, component, install =="
CC=gcc setup build-release-gcc -Dbuildtype=release
run build-release-gcc --suite unit --suite component --suite install

echo "== release build (clang): unit, component =="
CC=clang setup build-release-clang -Dbuildtype=release
run build-release-clang --suite unit --suite component

echo "== unit, component and end-to-end tests under ASan + UBSan =="
# The gateway itself runs sanitized in the e2e tests here (all but the 2.5-minute rekey and
# the load tests, which measure what an unsanitized gateway keeps up with, and the
# e2e-variant runs of a scenario already run sanitized in another layout),
# so a memory error anywhere on its paths fails the run, not only in the unit tests.
setup build-san -Db_sanitize=address,undefined -Db_lundef=false
run build-san --suite unit --suite component --suite e2e --no-suite e2e-long --no-suite e2e-load \
	--no-suite e2e-variant

echo "== fuzz targets (libFuzzer, bounded) =="
CC=clang setup build-fuzz -Dfuzz=true -Dtests=false -Db_sanitize=address,undefined -Db_lundef=false
run build-fuzz --suite fuzz

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
