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

# The runtime name io.containerd.cshim.v2 resolves to containerd-shim-cshim-v2 in containerd's
# PATH: what `make install` puts next to cshim (a link).
NAMEDIR=$(mktemp -d /tmp/cshim-e2e-v2bin.XXXXXX)
ln -s "$SHIM" "$NAMEDIR/containerd-shim-cshim-v2"
PATH=$NAMEDIR:$PATH ctd_start "$SHIM" || { rm -rf "$NAMEDIR"; exit 1; }
trap 'ctd_stop; rm -rf "$NAMEDIR"' EXIT
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

# Grouping: two containers with the same io.containerd.runc.v2.group annotation are served by
# ONE long-running shim (the first one's), each over its own connection; the shim exits once
# both are gone.
if [[ $SHIM == */cshim ]]; then
	g1=v2g1-$CTD_TAG g2=v2g2-$CTD_TAG
	ann=--annotation=io.containerd.runc.v2.group=grp-$CTD_TAG
	check "group: run -d first" run -d "$ann" "$g1" /bin/sleep 100
	check "group: run -d second" run -d "$ann" "$g2" /bin/sleep 100
	nshim=$(pgrep -f -- "^$SHIM .*serve\$" | while read -r p; do
		tr '\0' ' ' <"/proc/$p/cmdline" | grep -qe "-id $g1 " -e "-id $g2 " && echo "$p"
	done | wc -l)
	check_eq "group: one serve process for both" 1 "$nshim"
	check_eq "group: address files equal" "$(cat "$CTD_DIR/state/io.containerd.runtime.v2.task/$NS/$g1/address")" \
		"$(cat "$CTD_DIR/state/io.containerd.runtime.v2.task/$NS/$g2/address")"
	out=$(exe --exec-id ge "$g2" /bin/echo in-second 2>&1)
	check_eq "group: exec in the second" in-second "$out"
	for g in "$g1" "$g2"; do
		ctr_ task kill -s 9 "$g" >/dev/null 2>&1
		wait_until 10 sh -c "[ \"\$(ctr --address '$CTD_ADDR' -n '$NS' task ls 2>/dev/null | awk '\$1 == \"$g\" { print \$3 }')\" = STOPPED ]"
		check "group: task delete $g" ctr_ task delete "$g"
		ctr_ container delete "$g" >/dev/null 2>&1
	done
	ggone() { ! pgrep -f -- "-id $g1 .*serve\$" >/dev/null 2>&1; }
	check "group: the shim exited after both" wait_until 10 ggone

	# the runtime by name, through containerd's PATH
	id=v2n-$CTD_TAG
	out=$(ctr_ run --runtime io.containerd.cshim.v2 --fifo-dir "$CTD_DIR/fifo" --rm \
		--rootfs "$RFS" "$id" /bin/echo by-name 2>&1)
	check_eq "runtime io.containerd.cshim.v2: output" by-name "$out"
fi

summary
