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
trap 'kill "${EVPID:-}" 2>/dev/null; [ -n "${E2E_LOG_COPY:-}" ] && cp "$CTD_LOG" "$E2E_LOG_COPY"
	ctd_stop; rm -rf "$NAMEDIR"' EXIT
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
taskpid() { ctr_ task ls 2>/dev/null | awk -v id="$1" '$1 == id { print $2 }'; }
status_is() { [ "$(status "$1")" = "$2" ]; }
not_listed() { ! ctr_ task ls -q 2>/dev/null | grep -qxF -- "$1"; }
TMP=$CTD_DIR/out
mkdir -p "$TMP"
V2_STATE=$CTD_DIR/state/io.containerd.runtime.v2.task/$NS
# The runc root of v2 containers: ctr sends no options, so runc-v2's and cshim's default.
V2_RUNC_ROOT=/run/containerd/runc/$NS
# shim_of ID: the long-running shim serving ID (grouped tasks: the group's shim): the process
# holding the listening socket named in the bundle's `address`.
shim_of() {
	local a ino f
	a=$(cat "$V2_STATE/$1/address" 2>/dev/null) || return 0
	ino=$(awk -v p="${a#unix://}" '$NF == p && $6 == "01" { print $7; exit }' /proc/net/unix)
	[ -n "$ino" ] || return 0
	for f in /proc/[0-9]*/fd/*; do
		[ "$(readlink "$f" 2>/dev/null)" = "socket:[$ino]" ] && { f=${f#/proc/}; echo "${f%%/*}"; }
	done | sort -u
}
# no_proc_of ID: no process has ID as an argument (a shim started for ID has `-id ID`).
no_proc_of() { [ -z "$(pids_matching "$1" -x)" ]; }
pid_gone() { [ ! -e "/proc/$1" ] || grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }
kill_wait_stopped() {
	ctr_ task kill -s 9 "$1" >/dev/null 2>&1
	wait_until 10 status_is "$1" STOPPED
}
# `ctr events` from here on: every run's topics, in the order containerd got them.
timeout -k 2 600 ctr --address "$CTD_ADDR" -n "$NS" events >"$TMP/events" 2>&1 &
EVPID=$!

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
# Checkpoint through the v2 Task service: criu cannot dump on every machine (here it fails
# "criu failed: type DUMP"); then the error path: runc's message with the dump log's path
# in the bundle, the log copied there, the task left RUNNING (runc-v2's pkg/process).
out=$(ctr_ task checkpoint "$id" 2>&1)
if [ $? -eq 0 ]; then
	ok "checkpoint (criu works here)"
else
	b=$CTD_DIR/state/io.containerd.runtime.v2.task/$NS/$id
	check_match "checkpoint failure: runc's message and the dump log path" "$out" \
		"criu failed: .* path= $b/criu-dump.log"
	check "checkpoint failure: criu-dump.log copied into the bundle" test -s "$b/criu-dump.log"
	echo "skip - checkpoint success path: criu cannot dump on this machine"
fi
check_eq "state running after checkpoint" RUNNING "$(status "$id")"
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

# ---- events: the v2 topics of one run, in order (docs/v2-protocol.md §6.3), as containerd
# got them from the shim (`ctr events`: TIME NS TOPIC {JSON}).
id=v2ev-$CTD_TAG
check "events: run -d" run -d "$id" /bin/sleep 100
out=$(exe --exec-id ev1 "$id" /bin/sh -c 'exit 5' 2>&1)
check_eq "events: exec exit status" 5 "$?"
kill_wait_stopped "$id"
check "events: task delete" ctr_ task delete "$id"
ctr_ container delete "$id" >/dev/null 2>&1
wait_until 10 grep -qF "/tasks/delete {\"container_id\":\"$id\"" "$TMP/events"
evs=$(grep -F "\"container_id\":\"$id\"" "$TMP/events" | awk '{
	if (!match($0, / \/tasks\/[a-z-]+ /)) next
	t = substr($0, RSTART + 1, RLENGTH - 2); x = ""
	if (match($0, /"(id|exec_id)":"[^"]*"/)) {
		x = substr($0, RSTART, RLENGTH); sub(/^"(id|exec_id)":"/, "", x); sub(/"$/, "", x)
	}
	printf "%s%s ", t, (x == "" ? "" : "(" x ")") }')
check_eq "events: create, start, exec-added, exec-started, exec exit, init exit, delete" \
	"/tasks/create /tasks/start /tasks/exec-added(ev1) /tasks/exec-started(ev1) /tasks/exit(ev1) /tasks/exit($id) /tasks/delete " "$evs"
check_contains "events: the exec's exit status" \
	"$(grep -F "/tasks/exit {\"container_id\":\"$id\",\"id\":\"ev1\"" "$TMP/events")" '"exit_status":5'
check_contains "events: the init's exit status" \
	"$(grep -F "/tasks/exit {\"container_id\":\"$id\",\"id\":\"$id\"" "$TMP/events")" '"exit_status":137'

# ---- update: containerd's Tasks/Update with a memory limit (what later ctr's `task update
# --memory-limit` sends; ctr 1.6 has no such command) reaches the container's cgroup
id=v2up-$CTD_TAG
check "update: run -d" run -d "$id" /bin/sleep 100
check "update: Tasks/Update with a memory limit" \
	/usr/bin/python3 tests/e2e/task_update.py "$CTD_ADDR" "$NS" "$id" 67108864
lim=$(cat "/sys/fs/cgroup/memory/$NS/$id/memory.limit_in_bytes" 2>/dev/null ||
	cat "/sys/fs/cgroup/$NS/$id/memory.max" 2>/dev/null)
check_eq "update: the cgroup's memory limit" 67108864 "$lim"
kill_wait_stopped "$id"
ctr_ task delete "$id" >/dev/null 2>&1
ctr_ container delete "$id" >/dev/null 2>&1

# ---- tty: `ctr run -t` through the shim with a pty (script(1) gives ctr a 31x101 terminal):
# the output arrives through the pty, ResizePty set ctr's size, the exit status comes back.
if command -v script >/dev/null 2>&1; then
	id=v2tty-$CTD_TAG
	ctr_tty run --runtime "$SHIM" --fifo-dir "$CTD_DIR/fifo" -t --rm --rootfs "$RFS" "$id" \
		/bin/sh -c 'tty; sleep 0.5; stty size; echo tty-ok; exit 5'
	check_eq "run -t: exit status" 5 "$?"
	out=$(cat "$TMP/tty.out")
	check_match "run -t: the process has a pty" "$out" '/dev/pts/[0-9]+'
	check_contains "run -t: output through the pty" "$out" tty-ok
	check_contains "run -t: window size is ctr's (ResizePty)" "$out" "31 101"
	check "run -t: the shim exited" wait_until 10 no_proc_of "$id"
	id=v2ttx-$CTD_TAG
	check "exec -t: run -d" run -d "$id" /bin/sleep 100
	ctr_tty task exec --fifo-dir "$CTD_DIR/fifo" -t --exec-id tx1 "$id" \
		/bin/sh -c 'tty; sleep 0.5; stty size; exit 6'
	check_eq "exec -t: exit status" 6 "$?"
	out=$(cat "$TMP/tty.out")
	check_match "exec -t: the process has a pty" "$out" '/dev/pts/[0-9]+'
	check_contains "exec -t: window size is ctr's (ResizePty)" "$out" "31 101"
	kill_wait_stopped "$id"
	ctr_ task delete "$id" >/dev/null 2>&1
	ctr_ container delete "$id" >/dev/null 2>&1
else
	echo "# script(1) not installed: tty checks skipped"
fi

# ---- containerd restart (docs/v2-protocol.md §4.2): containerd stopped by pid and started
# on the same root and state; it reloads each bundle's `address` and calls Connect. Running
# tasks (one alone, two grouped in one shim) keep their shim and pid; an exit while
# containerd is down is reported when it is back (State, then Delete's status).
r1=v2r1-$CTD_TAG g1=v2rg1-$CTD_TAG g2=v2rg2-$CTD_TAG dx=v2rdx-$CTD_TAG
ann=--annotation=io.containerd.runc.v2.group=rgrp-$CTD_TAG
check "restart: run -d alone" run -d "$r1" /bin/sh -c 'while :; do echo tick; sleep 0.2; done'
check "restart: run -d grouped 1" run -d "$ann" "$g1" /bin/sleep 100
check "restart: run -d grouped 2" run -d "$ann" "$g2" /bin/sleep 100
rm -f "$RFS/tmp/$dx"
check "restart: run -d (exits while containerd is down)" run -d "$dx" /bin/sh -c \
	"while [ ! -e /tmp/$dx ]; do sleep 0.05; done; exit 7"
declare -A pid0 shim0
for t in "$r1" "$g1" "$g2" "$dx"; do
	pid0[$t]=$(taskpid "$t")
	shim0[$t]=$(shim_of "$t")
done
check_eq "restart: the grouped tasks share one shim" "${shim0[$g1]}" "${shim0[$g2]}"
_ctd_kill_daemon
: >"$RFS/tmp/$dx"
wait_until 10 pid_gone "${pid0[$dx]}"
check "restart: $dx ended while containerd was down" pid_gone "${pid0[$dx]}"
# Down long enough for runc-v2 to give up its event (5 retries, about 21 s: docs/v2-protocol.md
# §10.1); cshim keeps it until containerd takes it.
sleep "${V2_DOWN_SECONDS:-25}"
wait "$EVPID" 2>/dev/null # its stream ended with containerd
l0=$(wc -l <"$CTD_LOG")
# fwd_exits: /tasks/exit events of $NS containerd took since its restart (over ttrpc:
# "event forwarded"; through `containerd publish`: "event published")
fwd_exits() {
	tail -n +$((l0 + 1)) "$CTD_LOG" | grep -E 'msg="event (forwarded|published)"' |
		grep -F "ns=$NS" | grep -cF "topic=/tasks/exit"
}
fwd_exits_some() { [ "$(fwd_exits)" -ge 1 ]; }
if _ctd_launch; then
	ok "restart: containerd starts again (pid $CTD_PID)"
	timeout -k 2 600 ctr --address "$CTD_ADDR" -n "$NS" events >>"$TMP/events" 2>&1 &
	EVPID=$!
	for t in "$r1" "$g1" "$g2"; do
		check_eq "restart: $t RUNNING" RUNNING "$(status "$t")"
		check_eq "restart: $t same pid" "${pid0[$t]}" "$(taskpid "$t")"
		check_eq "restart: $t same shim" "${shim0[$t]}" "$(shim_of "$t")"
	done
	check_eq "restart: the exit while down: STOPPED" STOPPED "$(status "$dx")"
	wait_until 15 fwd_exits_some
	check_eq "restart: the exit while down: its /tasks/exit reaches containerd once" 1 "$(fwd_exits)"
	# Pids, what 1.7+ call after Connect (a live task's list must not be empty; a stopped
	# one's is, and 1.7+ then delete it)
	check_match "restart: ps of a live task lists its init" "$(ctr_ task ps "$g2" 2>&1)" \
		"^${pid0[$g2]}[[:space:]]"
	out=$(ctr_ task ps "$dx" 2>&1)
	check_eq "restart: ps of the task that exited: no process" 0 "$(awk 'NR > 1' <<<"$out" | grep -c .)"
	out=$(exe --exec-id rx1 "$r1" /bin/echo after-restart 2>&1)
	check_eq "restart: exec in the lone task" after-restart "$out"
	out=$(exe --exec-id rx2 "$g2" /bin/echo after-restart-g 2>&1)
	check_eq "restart: exec in a grouped task" after-restart-g "$out"
	out=$(ctr_ task delete "$dx" 2>&1)
	check_contains "restart: the exit while down: delete reports its status" "$out" "exit code 7"
	ctr_ container delete "$dx" >/dev/null 2>&1
	check "restart: $dx's shim exited" wait_until 10 pid_gone "${shim0[$dx]}"
	kill_wait_stopped "$r1"
	check_eq "restart: kill after restart: STOPPED" STOPPED "$(status "$r1")"
	out=$(ctr_ task delete "$r1" 2>&1)
	check_contains "restart: delete after restart: 137" "$out" "exit code 137"
	ctr_ container delete "$r1" >/dev/null 2>&1
	check "restart: $r1's shim exited" wait_until 10 pid_gone "${shim0[$r1]}"
	kill_wait_stopped "$g1"
	check "restart: task delete $g1" ctr_ task delete "$g1"
	ctr_ container delete "$g1" >/dev/null 2>&1
	check_eq "restart: the group's shim serves on for $g2" "${shim0[$g2]}" "$(shim_of "$g2")"
	kill_wait_stopped "$g2"
	check "restart: task delete $g2" ctr_ task delete "$g2"
	ctr_ container delete "$g2" >/dev/null 2>&1
	check "restart: the group's shim exited after the last delete" \
		wait_until 10 pid_gone "${shim0[$g2]}"
else
	fail "restart: containerd starts again"
fi

# ---- the shim SIGKILLed with a running container (docs/v2-protocol.md §4.4): containerd
# sees EOF, runs `SHIM delete` (runc delete --force, rootfs unmounted, DeleteResponse), drops
# the task, publishes its exit and delete (status 137) and removes the bundle. Nothing of the
# container is left, and the same id runs again.
id=v2kill-$CTD_TAG
check "shim death: run -d" run -d "$id" /bin/sleep 100
ipid=$(taskpid "$id")
spid=$(shim_of "$id")
sock=$(cat "$V2_STATE/$id/address" 2>/dev/null)
sock=${sock#unix://}
check_match "shim death: a shim serves it" "$spid" '^[0-9]+$'
kill -KILL "$spid"
wait_until 15 not_listed "$id"
check "shim death: the task is gone from containerd" not_listed "$id"
wait_until 10 grep -qF "/tasks/delete {\"container_id\":\"$id\"" "$TMP/events"
check_contains "shim death: /tasks/exit published (137)" \
	"$(grep -F "/tasks/exit {\"container_id\":\"$id\"" "$TMP/events")" '"exit_status":137'
check_contains "shim death: /tasks/delete published" \
	"$(grep -F "/tasks/delete {\"container_id\":\"$id\"" "$TMP/events")" '"exit_status":137'
wait_until 10 pid_gone "$ipid"
check "shim death: the container's init was killed" pid_gone "$ipid"
check_eq "shim death: bundle removed" "" "$(ls -d "$V2_STATE/$id" 2>/dev/null)"
check_eq "shim death: no mount left" "" "$(mounts_under "$V2_STATE/$id")"
check_eq "shim death: no runc state left" "" "$(ls -d "$V2_RUNC_ROOT/$id" 2>/dev/null)"
check_eq "shim death: no cgroup left" "" "$(ls -d /sys/fs/cgroup/*/"$NS/$id" /sys/fs/cgroup/"$NS/$id" 2>/dev/null)"
check "shim death: no process of it left" no_proc_of "$id"
if [[ $SHIM == */cshim ]]; then
	check "shim death: the dead shim's socket removed (cshim delete)" test ! -e "$sock"
else
	echo "# reference: socket file left by the dead shim: $(ls "$sock" 2>/dev/null || echo none)"
	rm -f "$sock"
fi
check "shim death: container delete" ctr_ container delete "$id"
out=$(run --rm "$id" /bin/echo same-id-again 2>&1)
check_eq "shim death: the same id runs again" same-id-again "$out"

# A group's shim SIGKILLed: each of its tasks is cleaned up through its own `delete`.
k1=v2gk1-$CTD_TAG k2=v2gk2-$CTD_TAG
ann=--annotation=io.containerd.runc.v2.group=kgrp-$CTD_TAG
check "group shim death: run -d first" run -d "$ann" "$k1" /bin/sleep 100
check "group shim death: run -d second" run -d "$ann" "$k2" /bin/sleep 100
declare -A kpid
for t in "$k1" "$k2"; do kpid[$t]=$(taskpid "$t"); done
spid=$(shim_of "$k1")
check_eq "group shim death: one shim for both" "$spid" "$(shim_of "$k2")"
kill -KILL "$spid"
for t in "$k1" "$k2"; do
	wait_until 15 not_listed "$t"
	check "group shim death: $t gone from containerd" not_listed "$t"
	wait_until 10 pid_gone "${kpid[$t]}"
	check "group shim death: $t's init was killed" pid_gone "${kpid[$t]}"
	# the task leaves `ctr task ls` as soon as its shim is gone; the cleanup runs on
	wait_until 10 grep -qF "/tasks/delete {\"container_id\":\"$t\"" "$TMP/events"
	check_contains "group shim death: $t's /tasks/delete published (137)" \
		"$(grep -F "/tasks/delete {\"container_id\":\"$t\"" "$TMP/events")" '"exit_status":137'
	check_eq "group shim death: $t's bundle removed" "" "$(ls -d "$V2_STATE/$t" 2>/dev/null)"
	check_eq "group shim death: $t's runc state removed" "" "$(ls -d "$V2_RUNC_ROOT/$t" 2>/dev/null)"
	check "group shim death: $t container delete" ctr_ container delete "$t"
done

summary
