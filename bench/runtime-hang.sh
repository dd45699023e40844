#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# cshim-bench runtime wrapper, passed as the Create request's `runtime` (absolute path).
# It execs runc with the same arguments, except that when the file named by
# $CSHIM_BENCH_HANG_FILE exists and holds "SUBCOMMAND SECONDS" (e.g. "update 3"), a runc call
# of that subcommand first sleeps SECONDS: a runtime that hangs, on demand.
# $CSHIM_BENCH_RUNC is the real runc (default: runc from PATH).
RUNC=${CSHIM_BENCH_RUNC:-runc}
if [ -n "$CSHIM_BENCH_HANG_FILE" ] && [ -r "$CSHIM_BENCH_HANG_FILE" ]; then
	read -r verb secs < "$CSHIM_BENCH_HANG_FILE"
	sub=
	skip=0
	for a in "$@"; do
		if [ "$skip" = 1 ]; then
			skip=0
			continue
		fi
		case "$a" in
		--root | --log | --log-format | --criu | --rootless) skip=1 ;;
		-*) ;;
		*)
			sub=$a
			break
			;;
		esac
	done
	if [ -n "$verb" ] && [ "$sub" = "$verb" ]; then
		sleep "$secs"
	fi
fi
exec "$RUNC" "$@"
