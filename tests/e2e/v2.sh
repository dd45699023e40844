#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# tests/e2e/v2.sh [SHIM] -- the shim as a containerd runtime v2 shim (ctr run
# --runtime /abs/SHIM) through a private containerd 1.6 (lib.sh): start,
# the long-running serve process, the Task service, delete. SHIM defaults to
# build/bin/cshim; /usr/bin/containerd-shim-runc-v2 gives the reference run.
set -u
cd "$(dirname "$0")/../.."
# shellcheck source=tests/e2e/lib.sh
source tests/e2e/lib.sh
SHIM=${1:-$PWD/build/bin/cshim}
case $SHIM in /*) ;; *) SHIM=$PWD/$SHIM ;; esac

ctd_start "$SHIM" || exit 1
trap ctd_stop EXIT
RFS=$CTD_DIR/rootfs
rootfs_make "$RFS"
# run [FLAGS...] ID CMD...: ctr's own flags go before --rootfs's path
run() {
	local flags=()
	while [[ $1 == -* ]]; do flags+=("$1"); shift; done
	ctr_ run --runtime "$SHIM" --fifo-dir "$CTD_DIR/fifo" "${flags[@]}" --rootfs "$RFS" "$@"
}
exe() { ctr_ task exec --fifo-dir "$CTD_DIR/fifo" "$@"; }
status() { ctr_ task ls 2>/dev/null | awk -v id="$1" '$1 == id { print $3 }'; }

id=v2a-$CTD_TAG
out=$(run --rm "$id" /bin/echo hello-v2 2>&1)
check_eq "run --rm: output" "hello-v2" "$out"
check_eq "run --rm: nothing left" "" "$(ctr_ task ls -q 2>/dev/null)"

out=$(run "$id" /bin/sh -c 'exit 7' 2>&1)
rc=$?
check_eq "run: exit status" 7 "$rc"
ctr_ container delete "$id" >/dev/null 2>&1

check "run -d" run -d "$id" /bin/sleep 100
check_eq "state running" RUNNING "$(status "$id")"
out=$(exe --exec-id e1 "$id" /bin/sh -c 'echo in-exec; exit 4' 2>&1)
rc=$?
check_eq "exec: output" in-exec "$out"
check_eq "exec: exit status" 4 "$rc"
pid=$(ctr_ task ls 2>/dev/null | awk -v id="$id" '$1 == id { print $2 }')
check_match "ps lists the init" "$(ctr_ task ps "$id" 2>&1)" "^$pid[[:space:]]"
check_match "metrics: memory" "$(ctr_ task metrics "$id" 2>&1)" "memory.usage_in_bytes[[:space:]]+[0-9]+"
check "pause" ctr_ task pause "$id"
check_eq "state paused" PAUSED "$(status "$id")"
check "resume" ctr_ task resume "$id"
check_eq "state running again" RUNNING "$(status "$id")"
check "kill" ctr_ task kill -s 9 "$id"
wait_until 10 sh -c "[ \"\$(ctr --address '$CTD_ADDR' -n '$NS' task ls 2>/dev/null | awk '\$1 == \"$id\" { print \$3 }')\" = STOPPED ]"
check_eq "state stopped" STOPPED "$(status "$id")"
check "task delete" ctr_ task delete "$id"
check "container delete" ctr_ container delete "$id"
gone() { ! pgrep -f -- "$CTD_DIR.*$id|-id $id " >/dev/null 2>&1 && ! pgrep -f -- "-id $id\$" >/dev/null 2>&1; }
check "the shim exited after Shutdown" wait_until 10 gone

summary
