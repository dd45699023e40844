#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# tests/demo.sh SHIM_PATH -- what `make demo` runs.
#
# Starts a private containerd (everything under /tmp/cshim-e2e.XXXXXX) whose
# io.containerd.runtime.v1.linux runtime uses SHIM_PATH as its shim, runs a
# busybox container through it, shows a detached container in `ctr task ls`,
# and stops everything it started.  Needs root, containerd, ctr, runc and
# busybox-static (see tests/deps.sh).

set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CTR_TIMEOUT=${CTR_TIMEOUT:-30}
# shellcheck source=tests/e2e/lib.sh
. "$HERE/e2e/lib.sh"

SHIM=${1:-}
if [ -z "$SHIM" ]; then
	echo "usage: $0 SHIM_PATH" >&2
	exit 2
fi
NAME=$(basename "$SHIM")

trap ctd_stop EXIT
trap 'exit 130' INT TERM

step() { printf '\n==> %s\n' "$*"; }
indent() { sed 's/^/    | /'; }
die() {
	printf '\ndemo FAILED: %s\n' "$*" >&2
	if [ -n "${CTD_LOG:-}" ] && [ -f "$CTD_LOG" ]; then
		echo "last lines of the containerd/shim log:" >&2
		grep -v 'msg="loading plugin' "$CTD_LOG" | tail -n 15 | indent >&2
	fi
	exit 1
}

step "starting a private containerd whose v1 runtime uses shim $SHIM"
ctd_start "$SHIM" || die "containerd did not start"
echo "    containerd pid $CTD_PID, gRPC socket $CTD_ADDR"
echo "    config, state, runc root and FIFOs under $CTD_DIR"

step "building a busybox rootfs"
R=$CTD_DIR/rootfs
rootfs_make "$R" || die "rootfs_make failed"
echo "    $R: $(find "$R/bin" -maxdepth 1 | wc -l) entries in /bin (static busybox + applet links)"

HELLO=hello-$CTD_TAG
step "ctr run --rm --runtime $V1_RUNTIME --rootfs ... $HELLO /bin/sh -c '...'"
ctr_run --rm --rootfs "$R" "$HELLO" /bin/sh -c \
	"echo 'Hello from a container run by $NAME'; echo; uname -a; echo; ps; exit 0" 2>&1 | indent
rc=${PIPESTATUS[0]}
[ "$rc" -eq 0 ] || die "ctr run exited with status $rc"
echo "    (exit status $rc)"

BG=sleeper-$CTD_TAG
step "ctr run -d ... $BG /bin/sleep 300"
ctr_run -d --rootfs "$R" "$BG" /bin/sleep 300 2>&1 | indent
[ "${PIPESTATUS[0]}" -eq 0 ] || die "ctr run -d failed"

step "ctr task ls"
ctr_ task ls 2>&1 | indent

step "the shim process serving $BG (child of containerd, parent of the container)"
shim_pid=$(pids_matching "$CTD_DIR/root/$V1_RUNTIME/$NS/$BG" -x | head -n 1)
if [ -n "$shim_pid" ]; then
	ps -o pid,ppid,rss,args -p "$shim_pid" | indent
	ps -o pid,ppid,args --ppid "$shim_pid" | indent
else
	echo "    (shim process not found)"
fi

step "ctr task exec --exec-id hi $BG /bin/sh -c 'echo ...; ps'"
ctr_exec --exec-id hi "$BG" /bin/sh -c 'echo "exec in the running container, processes:"; ps' 2>&1 | indent

step "ctr task kill -s SIGKILL $BG; ctr task delete $BG"
ctr_ task kill -s SIGKILL "$BG" 2>&1 | indent
for _ in $(seq 1 50); do
	[ "$(ctr_ task ls 2>/dev/null | awk -v id="$BG" '$1 == id {print $3}')" = STOPPED ] && break
	sleep 0.1
done
ctr_ task ls 2>&1 | indent
ctr_ task delete "$BG" 2>&1 | indent
ctr_ container delete "$BG" 2>&1 | indent

step "stopping containerd and cleaning up"
ctd_stop
echo
echo "demo OK: $NAME ran busybox containers through containerd $(containerd --version | awk '{print $3}')"
