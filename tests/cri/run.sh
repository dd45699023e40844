#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# CRI tier: a private containerd 1.6 whose CRI plugin runs pods and containers through SHIM,
# driven by a Python CRI client (tests/cri/cases.py) as kubelet drives containerd.
#
#   bash tests/cri/run.sh SHIM [CASE...]        SHIM as the v1 runtime's shim
#                                               (build/bin/cshim, /usr/bin/containerd-shim)
#   bash tests/cri/run.sh --v2 SHIM [CASE...]   SHIM as a runtime v2 shim: runtime_type
#                                               io.containerd.runc.v2, runtime_path SHIM
#                                               (build/bin/cshim,
#                                               /usr/bin/containerd-shim-runc-v2)
#
# Env: CRI_LOG_COPY=FILE (copy containerd's log, with the shim's debug lines, before cleanup),
#      CRI_PROBE=1 (after the cases, run tests/cri/probe.py: figures only, never a check).
# Prints one line per check and finally "N passed, M failed"; exits non-zero on any failure.

set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/cri/lib.sh
. "$HERE/lib.sh"

MODE=v1
if [ "${1:-}" = --v2 ]; then
	MODE=v2
	shift
fi
SHIM=${1:-}
if [ -z "$SHIM" ]; then
	echo "usage: $0 [--v2] SHIM_PATH [CASE...]" >&2
	exit 2
fi
shift
T0=$SECONDS

trap 'cri_stop' EXIT
trap 'exit 130' INT TERM

printf '# cri %s: shim %s\n' "$MODE" "$SHIM"
if ! cri_start "$SHIM" "$MODE"; then
	printf 'FAIL - private containerd with CRI starts\n0 passed, 1 failed\n'
	exit 1
fi
printf 'ok   - private containerd with CRI starts (%s, pid %s)\n' "$CTD_DIR" "$CTD_PID"

"$PY" "$HERE/cases.py" "$@"
rc=$?

if [ "${CRI_PROBE:-0}" = 1 ]; then
	"$PY" "$HERE/probe.py" --label "$SHIM" || rc=1
fi

SAVED_DIR=$CTD_DIR
if [ "$rc" -ne 0 ]; then
	printf '# containerd/shim log tail (%s):\n' "$CTD_LOG"
	grep -v 'msg="loading plugin' "$CTD_LOG" | grep -E 'level=(error|warning)' |
		tail -n 30 | sed 's/^/#   /'
fi
[ -n "${CRI_LOG_COPY:-}" ] && cp "$CTD_LOG" "$CRI_LOG_COPY" 2>/dev/null
cri_stop
trap - EXIT
# what cri_stop must leave: no process naming the run dir, the dir gone, no cgroup of the run
left=$(pids_matching "$SAVED_DIR")
if [ -n "$left" ] || [ -e "$SAVED_DIR" ] || [ -n "$(cri_cgroups)" ]; then
	printf 'FAIL - cleanup: processes [%s], dir %s, cgroups [%s]\n' "$left" \
		"$([ -e "$SAVED_DIR" ] && echo left || echo removed)" "$(cri_cgroups | tr '\n' ' ')"
	rc=1
else
	printf 'ok   - cleanup: no process, run dir or cgroup left\n'
fi
printf '# cri %s: %d s\n' "$MODE" $((SECONDS - T0))
exit "$rc"
