#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Proves that the fuzz recipes fail when a target crashes. fuzz_frame is built with a planted
# crash (-DFUZZ_PLANT_CRASH: a trap on every input longer than one byte, tests/fuzz/fuzz_plant.h) in a
# build dir of its own, then run through the same recipes `make test` and `make fuzz` use:
#   1. make test-fuzz, corpus replay: the stored corpus has longer inputs, the replay traps;
#   2. make test-fuzz, brief run: from an empty corpus the replay passes (only the seed input
#      runs: libFuzzer's one-byte "\n") and the first longer input traps;
#   3. make fuzz: from an empty corpus, the first longer input traps.
# Each must exit non-zero, say why (libFuzzer's "deadly signal") and leave a crash-* file.
# Run by `make test-fuzz-selftest` (part of `make test`). Exits 0 when all three failed.
set -u
make=${MAKE:-make}
dir=build/fuzz/planted
bad=0

rm -rf "$dir"
mkdir -p "$dir/empty/frame"

expect_crash() { # name, the log that must show the crash, make arguments...
	name=$1
	log=$2
	shift 2
	rm -f "$dir"/crash-* "$dir"/*.log
	if $make --no-print-directory FUZZ_TARGETS=frame FUZZ_BIN_DIR="$dir" \
		FUZZ_DEFS=-DFUZZ_PLANT_CRASH "$@" >"$dir/$name.out" 2>&1; then
		echo "FAIL $name: the recipe exited 0 with a crashing target (output: $dir/$name.out)"
		bad=1
	elif ! grep -q 'ERROR: libFuzzer: deadly signal' "$dir/$log" 2>/dev/null ||
		! grep -q 'FAILED (exit' "$dir/$name.out"; then
		echo "FAIL $name: the recipe failed, but not on the planted crash in $log (output: $dir/$name.out):"
		tail -n 20 "$dir/$name.out"
		bad=1
	elif ! ls "$dir"/crash-* >/dev/null 2>&1; then
		echo "FAIL $name: no crash-* file in $dir"
		bad=1
	else
		echo "ok   $name: a planted crash fails the recipe"
	fi
}

expect_crash test-fuzz-replay replay-frame.log test-fuzz FUZZ_BRIEF=2
expect_crash test-fuzz-brief brief-frame.log test-fuzz FUZZ_BRIEF=10 FUZZ_CORPUS="$dir/empty"
expect_crash fuzz fuzz-frame.log fuzz FUZZ_SECONDS=10 FUZZ_CORPUS="$dir/empty"
exit $bad
