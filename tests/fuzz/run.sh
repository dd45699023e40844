#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Runs one libFuzzer command with its output in LOG (no pipe: the command's exit status is the
# script's), then prints a summary of LOG: its last line, or with --stats the final stats and
# any error lines. On failure (a crash, a sanitizer report, a leak, a timeout) it prints the
# end of LOG and exits with the fuzzer's status.
#
#   sh tests/fuzz/run.sh [--stats] LOG -- FUZZER ARGS...
set -u
stats=0
if [ "${1:-}" = --stats ]; then
	stats=1
	shift
fi
log=$1
shift
[ "${1:-}" = -- ] && shift
rc=0
"$@" >"$log" 2>&1 || rc=$?
if [ "$rc" -ne 0 ]; then
	tail -n 60 "$log"
	echo "FAILED (exit $rc): $* (full output in $log)"
	exit "$rc"
fi
if [ "$stats" = 1 ]; then
	grep -E '^(stat::number_of_executed_units|stat::peak_rss|==.*ERROR|SUMMARY)|Done' "$log" || :
else
	tail -n 1 "$log"
fi
