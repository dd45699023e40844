#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# End-to-end suite: a private containerd (runtime io.containerd.runtime.v1.linux)
# configured with the shim under test, driven through ctr.
#
#   bash tests/e2e/run.sh SHIM_PATH          e.g. build/bin/cshim, /usr/bin/containerd-shim
#
# Env: NS (default cshim-e2e), CTR_TIMEOUT (per ctr call, default 20 s),
#      E2E_LOG_COPY=FILE (copy containerd's log, which includes the shim's
#      debug log, to FILE before cleanup), E2E_KEEP_GOING=1 (run every case
#      even after the basic run failed or ctr timed out twice),
#      E2E_CASES="echo stdin ..." (run only these cases), E2E_STRICT=1
#      (also require what the Go shim gets wrong: a /tasks/exit event for
#      every `ctr run --rm`).
# Prints one line per check and finally "N passed, M failed"; exits non-zero
# on any failure.

set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# a healthy shim needs < 2 s for any single ctr call here
CTR_TIMEOUT=${CTR_TIMEOUT:-20}
# shellcheck source=tests/e2e/lib.sh
. "$HERE/lib.sh"

SHIM=${1:-}
if [ -z "$SHIM" ]; then
	echo "usage: $0 SHIM_PATH" >&2
	exit 2
fi

T0=$SECONDS
IDS=()

# newid NAME: sets ID to a container id unique to this run and records it.
newid() {
	ID="$1-$CTD_TAG"
	IDS+=("$ID")
}

section() { printf '# %s (t=%ds)\n' "$1" $((SECONDS - T0)); }

# zombies: "pid ppid comm" of zombie processes.
zombies() {
	ps -eo pid=,ppid=,stat=,comm= 2>/dev/null | awk '$3 ~ /^Z/ {print $1, $2, $4}'
}

# shim_pids: shim processes of this run (the workdir is below $CTD_DIR).
shim_pids() {
	pids_matching "$CTD_DIR/root/$V1_RUNTIME/"
}

# shim_pids_for ID
shim_pids_for() {
	pids_matching "$CTD_DIR/root/$V1_RUNTIME/$NS/$1" -x
}

# list_socks: entries of the shim socket dir, sorted
list_socks() { find "$SHIM_SOCK_DIR" -mindepth 1 -maxdepth 1 -printf '%f\n' 2>/dev/null | sort; }

# nprocs ID: number of processes `ctr task ps` lists
nprocs() { ctr_ task ps "$1" 2>/dev/null | awk 'NR > 1' | wc -l; }
nprocs_is() { [ "$(nprocs "$1")" = "$2" ]; }
nprocs_ge() { [ "$(nprocs "$1")" -ge "$2" ]; }
nshims_ge() { [ "$(shim_pids | wc -l)" -ge "$1" ]; }

# zombie_children PID: "pid ppid comm" of zombie children of PID
zombie_children() { zombies | awk -v p="$1" '$2 == p'; }
no_zombie_children() { [ -z "$(zombie_children "$1")" ]; }

# pid_gone PID: no such process, or only a zombie left
pid_gone() {
	[ ! -e "/proc/$1" ] || grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null
}

no_shim_for() { [ -z "$(shim_pids_for "$1")" ]; }
no_shims() { [ -z "$(shim_pids)" ]; }
no_run_procs() { [ -z "$(pids_matching "$SAVED_DIR")" ]; }

# task_field ID COLUMN(2=pid,3=status): from `ctr task ls`
task_field() {
	ctr_ task ls 2>/dev/null | awk -v id="$1" -v c="$2" '$1 == id {print $c}'
}

task_listed() { ctr_ task ls -q 2>/dev/null | grep -qxF -- "$1"; }

task_status_is() { [ "$(task_field "$1" 3)" = "$2" ]; }

# container_gone ID: no task, no container, no shim, no runc state, no bundle.
check_gone() {
	local name=$1 id=$2 what=()
	wait_until 5 no_shim_for "$id" || what+=("shim process $(shim_pids_for "$id" | tr '\n' ' ')")
	ctr_ task ls -q 2>/dev/null | grep -qxF -- "$id" && what+=("task still listed")
	ctr_ container ls -q 2>/dev/null | grep -qxF -- "$id" && what+=("container still listed")
	[ -e "$CTD_RUNC_ROOT/$NS/$id" ] && what+=("runc state $CTD_RUNC_ROOT/$NS/$id")
	[ -e "$CTD_DIR/state/$V1_RUNTIME/$NS/$id" ] && what+=("bundle dir")
	[ -e "$CTD_DIR/root/$V1_RUNTIME/$NS/$id" ] && what+=("work dir")
	[ -e "$(shim_sock_path "$id")" ] && what+=("shim socket $(shim_sock_path "$id")")
	if [ ${#what[@]} -eq 0 ]; then ok "$name"; else fail "$name" "${what[@]}"; fi
}

# run_d NAME ID CMD...: ctr run -d; checks (as NAME) that it succeeded.
run_d() {
	local name=$1 id=$2
	shift 2
	ctr_run -d --rootfs "$R" "$id" "$@" >"$TMP/$id.run-d" 2>&1
	local rc=$?
	if [ "$rc" -eq 0 ]; then
		ok "$name: exit status 0"
	else
		fail "$name: exit status 0" "exit status $rc: $(head -c 400 "$TMP/$id.run-d")"
	fi
	return "$rc"
}

# ctr 1.6 race: ctr sends CloseIO when it reads EOF on its stdin, but only if
# the task already exists; an EOF that comes earlier is dropped and the
# container never sees EOF.  So keep ctr's stdin open until the task exists.
# feed_then_eof ID DATA: print DATA, then wait until task ID is listed.
feed_then_eof() {
	printf '%s' "$2"
	wait_until 10 task_listed "$1"
	sleep 0.3
}

on_exit() {
	local rc=$?
	if [ -n "${CTD_DIR:-}" ]; then
		if [ -n "${E2E_LOG_COPY:-}" ] && [ -f "$CTD_LOG" ]; then
			cp "$CTD_LOG" "$E2E_LOG_COPY" 2>/dev/null
		fi
		ctd_stop
	fi
	exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT TERM

# ------------------------------------------------------------------- cases

# run --rm echo
case_echo() {
	newid echo
	out=$(ctr_run --rm --rootfs "$R" "$ID" /bin/echo hello 2>"$TMP/echo.err")
	rc=$?
	check_eq "run --rm /bin/echo hello: exit status" 0 "$rc"
	check_eq "run --rm /bin/echo hello: output" hello "$out"
	check_eq "run --rm /bin/echo hello: ctr stderr empty" "" "$(cat "$TMP/echo.err")"
	check_gone "run --rm echo: nothing left behind" "$ID"
}

# exit status
case_exit_status() {
	newid exit7
	out=$(ctr_run --rm --rootfs "$R" "$ID" /bin/sh -c 'exit 7' 2>&1)
	check_eq "sh -c 'exit 7': ctr run exit status" 7 "$?"
	newid exit0
	ctr_run --rm --rootfs "$R" "$ID" /bin/true >/dev/null 2>&1
	check_eq "/bin/true: ctr run exit status" 0 "$?"
	newid selfkill
	# pid 1 of a pid namespace ignores an unhandled SIGKILL from inside, so the
	# shell's child kills itself: exit status seen by sh is 137, passed on.
	ctr_run --rm --rootfs "$R" "$ID" /bin/sh -c '/bin/sh -c "kill -9 \$\$"; exit $?' >/dev/null 2>&1
	check_eq "child killed by SIGKILL inside: status 137 propagated" 137 "$?"
}

# stdin
case_stdin() {
	newid stdin
	out=$(feed_then_eof "$ID" $'abc\n' | ctr_run --rm --rootfs "$R" "$ID" /bin/cat 2>"$TMP/stdin.err")
	rc=$?
	check_eq "echo abc | run cat: exit status" 0 "$rc"
	check_eq "echo abc | run cat: output" abc "$out"

	newid stdinbig
	want=$(yes 0123456789abcde | head -c 1048576 | sha256sum)
	got=$({
		yes 0123456789abcde | head -c 1048576
		feed_then_eof "$ID" ""
	} | ctr_run --rm --rootfs "$R" "$ID" /bin/cat 2>"$TMP/stdinbig.err" | sha256sum)
	check_eq "1 MiB through stdin -> cat -> stdout byte-exact" "$want" "$got"

	newid stdineof
	out=$(feed_then_eof "$ID" "" | ctr_run --rm --rootfs "$R" "$ID" /bin/sh -c 'cat; echo eof-seen' 2>&1)
	check_eq "empty stdin: container sees EOF" eof-seen "$out"
}

# large output
case_large_output() {
	newid big
	ctr_run --rm --rootfs "$R" "$ID" /bin/sh -c 'yes abcdefgh | head -c 5242880' >"$TMP/big.out" 2>"$TMP/big.err"
	rc=$?
	check_eq "5 MiB stdout: exit status" 0 "$rc"
	check_eq "5 MiB stdout: size" 5242880 "$(stat -c %s "$TMP/big.out")"
	check_eq "5 MiB stdout: sha256" \
		"$(yes abcdefgh | head -c 5242880 | sha256sum | cut -d' ' -f1)" \
		"$(sha256sum <"$TMP/big.out" | cut -d' ' -f1)"

	newid bigerr
	ctr_run --rm --rootfs "$R" "$ID" /bin/sh -c 'yes xy | head -c 1048576 >&2; echo done' \
		>"$TMP/bigerr.out" 2>"$TMP/bigerr.err"
	check_eq "1 MiB stderr: size" 1048576 "$(stat -c %s "$TMP/bigerr.err")"
	check_eq "1 MiB stderr: stdout unaffected" "done" "$(cat "$TMP/bigerr.out")"
}

# stdout/stderr separation
case_stdout_stderr() {
	newid split
	ctr_run --rm --rootfs "$R" "$ID" /bin/sh -c 'echo out; echo err >&2' >"$TMP/split.out" 2>"$TMP/split.err"
	rc=$?
	check_eq "stdout/stderr: exit status" 0 "$rc"
	check_eq "stdout has only stdout" out "$(cat "$TMP/split.out")"
	check_eq "stderr has only stderr" err "$(cat "$TMP/split.err")"
}

# detached task lifecycle
case_detached() {
	newid det
	DET=$ID
	timeout -k 2 60 ctr --address "$CTD_ADDR" -n "$NS" events >"$TMP/events" 2>&1 &
	EVPID=$!
	sleep 0.2
	if ! run_d "run -d sleep 100" "$DET" /bin/sleep 100; then
		kill "$EVPID" 2>/dev/null
		wait "$EVPID" 2>/dev/null
		return
	fi
	lsline=$(ctr_ task ls 2>&1)
	pid=$(task_field "$DET" 2)
	check_eq "task ls: STATUS RUNNING" RUNNING "$(task_field "$DET" 3)"
	check_match "task ls: numeric PID" "${pid:-}" '^[1-9][0-9]*$'
	pspids=$(ctr_ task ps "$DET" 2>&1)
	check_eq "task ps: first pid == task ls pid" "$pid" "$(printf '%s\n' "$pspids" | awk 'NR==2 {print $1}')"
	check_contains "task ps: init's ProcessDetails exec id is the container id" "$pspids" "ExecID:$DET,"
	if [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ]; then
		check_eq "task pid is a live host process running /bin/sleep 100" \
			"/bin/sleep 100" "$(tr '\0' ' ' <"/proc/$pid/cmdline" | sed 's/ $//')"
	else
		fail "task pid is a live host process" "pid '$pid' not found; task ls: $lsline"
	fi
	shimpid=$(shim_pids_for "$DET" | head -n 1)
	check_match "one shim process for the task" "$(shim_pids_for "$DET" | wc -l)" '^1$'
	if [ -n "$shimpid" ] && [ -n "$pid" ]; then
		check_eq "container init is a child of the shim (subreaper)" "$shimpid" \
			"$(ps -o ppid= -p "$pid" | tr -d ' ')"
	fi

	out=$(ctr_exec --exec-id ex1 "$DET" /bin/sh -c 'echo in-exec; echo exec-err >&2; exit 3' 2>"$TMP/exec.err")
	check_eq "task exec: exit status" 3 "$?"
	check_eq "task exec: stdout" in-exec "$out"
	check_eq "task exec: stderr" exec-err "$(cat "$TMP/exec.err")"
	# (stdin EOF held back a little: the CloseIO race of feed_then_eof)
	out=$({
		printf 'xyz\n'
		sleep 0.5
	} | ctr_exec --exec-id ex2 "$DET" /bin/cat 2>&1)
	check_eq "task exec: stdin piped to exec'd cat" xyz "$out"
	ctr_exec -d --exec-id ex3 "$DET" /bin/sleep 50 >/dev/null 2>&1
	check_eq "task exec -d sleep: exit status" 0 "$?"
	check_eq "task ps lists init and exec" 2 "$(nprocs "$DET")"
	check_contains "task ps: exec's ProcessDetails exec id" "$(ctr_ task ps "$DET" 2>&1)" "ExecID:ex3,"
	# ListPids reads the cgroup instead of running `runc ps`: same answer, same order.
	runcps=$(runc --root "$CTD_RUNC_ROOT/$NS" ps --format json "$DET" 2>&1 | tr -d '[]' | tr ',' ' ')
	ctrps=$(ctr_ task ps "$DET" 2>&1 | awk 'NR>1 {printf "%s ", $1}' | sed 's/ $//')
	check_eq "task ps pids == runc ps pids (in order)" "$runcps" "$ctrps"
	ctr_ task kill -s SIGKILL --exec-id ex3 "$DET" >/dev/null 2>&1
	check_eq "task kill --exec-id: exit status" 0 "$?"
	wait_until 5 nprocs_is "$DET" 1
	check_eq "killed exec gone from task ps" 1 "$(nprocs "$DET")"
	ctr_ task delete --exec-id ex3 "$DET" >/dev/null 2>&1
	check_eq "task delete --exec-id of SIGKILLed exec: ctr status 137" 137 "$?"

	ctr_ task pause "$DET" >/dev/null 2>&1
	check_eq "task pause -> PAUSED" PAUSED "$(task_field "$DET" 3)"
	ctr_ task resume "$DET" >/dev/null 2>&1
	check_eq "task resume -> RUNNING" RUNNING "$(task_field "$DET" 3)"

	if [ -n "$shimpid" ]; then
		wait_until 3 no_zombie_children "$shimpid"
		check_eq "shim has no zombie children" "" "$(zombie_children "$shimpid")"
	fi

	ctr_ task kill -s SIGKILL "$DET" >/dev/null 2>&1
	check_eq "task kill -s SIGKILL: exit status" 0 "$?"
	wait_until 10 task_status_is "$DET" STOPPED
	check_eq "task ls after kill: STOPPED" STOPPED "$(task_field "$DET" 3)"
	wait_until 5 grep -q "/tasks/exit {\"container_id\":\"$DET\",\"id\":\"$DET\"" "$TMP/events"
	ev=$(grep "/tasks/exit {\"container_id\":\"$DET\",\"id\":\"$DET\"" "$TMP/events")
	check_contains "/tasks/exit event published for the init" "$ev" '"exit_status":137'
	check_contains "/tasks/exit event carries the pid" "$ev" "\"pid\":$pid,"
	evx=$(grep "/tasks/exit {\"container_id\":\"$DET\",\"id\":\"ex1\"" "$TMP/events")
	check_contains "/tasks/exit event published for exec ex1" "$evx" '"exit_status":3'
	out=$(ctr_ task delete "$DET" 2>&1)
	rc=$?
	# ctr 1.6 `task delete` exits 0 and logs the status as a warning.
	check_eq "task delete: exit status" 0 "$rc"
	check_contains "task delete reports exit code 137" "$out" "exit code 137"
	check "host process of the task is gone" wait_until 5 pid_gone "$pid"
	ctr_ container delete "$DET" >/dev/null 2>&1
	check_eq "container delete: exit status" 0 "$?"
	grep -q "/tasks/delete {\"container_id\":\"$DET\"" "$TMP/events"
	check_eq "/tasks/delete event (containerd) seen" 0 "$?"
	kill "$EVPID" 2>/dev/null
	wait "$EVPID" 2>/dev/null
	check_gone "detached task: nothing left behind" "$DET"
}

# task checkpoint (ctr 1.6 has no `task update`: Update is covered by the integration tier). criu cannot dump on every machine (in VMs it often
# fails with "criu failed: type DUMP"): then the error path is checked (the runtime's
# message, the criu-dump.log copied into the bundle, the task untouched) and the success
# path is reported as skipped, not passed.
case_checkpoint() {
	newid ckpt
	run_d "run -d (for checkpoint)" "$ID" /bin/sleep 100 || return
	out=$(ctr_ task checkpoint "$ID" 2>&1)
	rc=$?
	if [ "$rc" -eq 0 ]; then
		ok "task checkpoint (criu works here)"
		check_eq "task still RUNNING after checkpoint (leave-running)" RUNNING \
			"$(task_field "$ID" 3)"
	else
		check_match "checkpoint failure: runc's message and the dump log path" "$out" \
			'criu failed: .* path= .*/'"$ID"'/criu-dump.log'
		check "checkpoint failure: criu-dump.log copied into the bundle" \
			test -s "$CTD_DIR/state/io.containerd.runtime.v1.linux/$NS/$ID/criu-dump.log"
		check_eq "checkpoint failure leaves the task RUNNING" RUNNING "$(task_field "$ID" 3)"
		echo "skip - checkpoint success path: criu cannot dump on this machine"
	fi
	ctr_ task kill -s SIGKILL "$ID" >/dev/null 2>&1
	wait_until 10 task_status_is "$ID" STOPPED
	ctr_ task delete "$ID" >/dev/null 2>&1
	ctr_ container delete "$ID" >/dev/null 2>&1
	check_gone "checkpoint task: nothing left behind" "$ID"
}

# error paths
case_errors() {
	newid noexec
	out=$(ctr_run --rm --rootfs "$R" "$ID" /bin/nonexistent 2>&1)
	rc=$?
	check_match "nonexistent binary: ctr run fails" "$rc" '^[1-9]'
	check_match "nonexistent binary: error message" "$out" 'executable file not found|no such file'
	check_gone "nonexistent binary: nothing left behind" "$ID"

	newid noexecd
	out=$(ctr_run -d --rootfs "$R" "$ID" /bin/nonexistent 2>&1)
	check_match "run -d nonexistent binary: fails" "$?" '^[1-9]'
	ctr_ container delete "$ID" >/dev/null 2>&1
	check_gone "run -d nonexistent binary: nothing left behind" "$ID"
}

# io variants
case_io_variants() {
	newid nullio
	out=$(ctr_run --rm --null-io --rootfs "$R" "$ID" /bin/sh -c 'echo x; echo y >&2; exit 4' 2>&1)
	check_eq "--null-io: exit status" 4 "$?"
	check_eq "--null-io: no output" "" "$out"

	newid logfile
	out=$(ctr_run --rm --log-uri "file://$TMP/logfile.log" --rootfs "$R" "$ID" \
		/bin/sh -c 'echo to-out; echo to-err >&2' 2>&1)
	check_eq "--log-uri file://: exit status" 0 "$?"
	check_eq "--log-uri file://: file has stdout+stderr" "to-err to-out" \
		"$(sort "$TMP/logfile.log" 2>/dev/null | tr '\n' ' ' | sed 's/ $//')"

	# binary:// logger: fd 3 = stdout, fd 4 = stderr, fd 5 = ready; argv from the query;
	# CONTAINER_ID / CONTAINER_NAMESPACE in its environment. (The Go v1 shim fails here
	# under containerd 1.6: "namespace is required"; cshim takes -namespace.)
	newid binlog
	cat >"$TMP/logger.sh" <<'LOGGER'
#!/bin/sh
out=$2
{ echo "args: $*"; echo "env: $CONTAINER_ID $CONTAINER_NAMESPACE"; } >"$out.meta"
cat <&3 >"$out.stdout" &
cat <&4 >"$out.stderr" &
printf x >&5
exec 5>&-
wait
LOGGER
	chmod +x "$TMP/logger.sh"
	out=$(ctr_run --rm --log-uri "binary://$TMP/logger.sh?file=$TMP/binlog" --rootfs "$R" \
		"$ID" /bin/sh -c 'echo bin-out; echo bin-err >&2; exit 5' 2>&1)
	rc=$?
	if [ "$(basename "$SHIM")" = containerd-shim ]; then
		check_contains "binary:// with the Go shim: its known failure" "$out" \
			"namespace is required"
	else
		check_eq "binary:// logger: exit status" 5 "$rc"
		wait_until 5 test -s "$TMP/binlog.stderr"
		check_eq "binary:// logger got stdout on fd 3" bin-out "$(cat "$TMP/binlog.stdout" 2>/dev/null)"
		check_eq "binary:// logger got stderr on fd 4" bin-err "$(cat "$TMP/binlog.stderr" 2>/dev/null)"
		check_eq "binary:// logger argv and env" \
			"args: file $TMP/binlog env: $ID $NS" \
			"$(tr '\n' ' ' <"$TMP/binlog.meta" 2>/dev/null | sed 's/ $//')"
	fi
}

# terminal (pty) mode
case_tty() {
	if ! command -v script >/dev/null 2>&1; then
		echo "# script(1) not installed: tty cases skipped"
		return 0
	fi
	newid tty
	ctr_tty run --runtime "$V1_RUNTIME" --fifo-dir "$CTD_DIR/fifo" -t --rm --rootfs "$R" "$ID" \
		/bin/sh -c 'tty; sleep 0.5; stty size; echo tty-ok; exit 5'
	check_eq "run -t: exit status" 5 "$?"
	out=$(cat "$TMP/tty.out")
	check_match "run -t: process has a pty" "$out" '/dev/pts/[0-9]+'
	check_contains "run -t: output through the pty" "$out" tty-ok
	check_contains "run -t: window size is ctr's terminal size" "$out" "31 101"
	check_gone "run -t: nothing left behind" "$ID"

	newid ttyexec
	run_d "run -d for exec -t" "$ID" /bin/sleep 100000 || return
	ctr_tty task exec --fifo-dir "$CTD_DIR/fifo" -t --exec-id tx1 "$ID" /bin/sh -c 'tty; sleep 0.5; stty size; exit 6'
	check_eq "exec -t: exit status" 6 "$?"
	out=$(cat "$TMP/tty.out")
	check_match "exec -t: process has a pty" "$out" '/dev/pts/[0-9]+'
	check_contains "exec -t: window size set by ResizePty" "$out" "31 101"
	# Output through a terminal is complete, run after run: the pty is drained after the
	# process exits (EIO is not EOF before that).
	local i bad=0 last
	for i in $(seq 1 "${E2E_TTY_RUNS:-100}"); do
		ctr_tty task exec --fifo-dir "$CTD_DIR/fifo" -t --exec-id "sq$i" "$ID" \
			/bin/seq -s ' ' 1000000 >/dev/null 2>&1
		last=$(tail -c 16 "$TMP/tty.out" | tr -d '\n')
		case "$last" in *"999999 1000000") ;; *) bad=$((bad + 1)); echo "# run $i ended with: $last" ;; esac
		if [ "$(ctr_timeouts)" -ge 2 ] && [ "${E2E_KEEP_GOING:-0}" != 1 ]; then
			echo "# ctr timed out $(ctr_timeouts) times: runs $((i + 1))- not run"
			bad=$((bad + ${E2E_TTY_RUNS:-100} - i))
			break
		fi
	done
	check_eq "exec -t seq -s ' ' 1000000: every run ends with 999999 1000000" 0 "$bad"
	ctr_ task kill -s SIGKILL "$ID" >/dev/null 2>&1
	wait_until 10 task_status_is "$ID" STOPPED
	ctr_ task delete "$ID" >/dev/null 2>&1
	ctr_ container delete "$ID" >/dev/null 2>&1
	check_gone "exec -t: nothing left behind" "$ID"
}

# SIGTERM (ctr's default) delivered through the shim to a handler
case_sigterm() {
	newid sigterm
	run_d "run -d trap TERM" "$ID" /bin/sh -c 'trap "exit 42" TERM; while :; do sleep 0.1; done' || return
	wait_until 10 task_status_is "$ID" RUNNING
	sleep 0.3 # let sh install its trap
	ctr_ task kill "$ID" >/dev/null 2>&1
	check_eq "task kill (default SIGTERM): exit status" 0 "$?"
	wait_until 10 task_status_is "$ID" STOPPED
	check_eq "SIGTERM handled by the container: STOPPED" STOPPED "$(task_field "$ID" 3)"
	out=$(ctr_ task delete "$ID" 2>&1)
	check_contains "SIGTERM handler's exit status 42 reported" "$out" "exit code 42"
	ctr_ container delete "$ID" >/dev/null 2>&1
	check_gone "SIGTERM case: nothing left behind" "$ID"
}

# kill --all reaches every process of the container
case_killall() {
	newid killall
	run_d "run -d sh with 2 background sleeps" "$ID" \
		/bin/sh -c '/bin/sleep 100 & /bin/sleep 100 & wait' || return
	wait_until 10 nprocs_is "$ID" 3
	check_eq "task ps: init and its 2 children" 3 "$(nprocs "$ID")"
	ctr_ task kill -a -s SIGKILL "$ID" >/dev/null 2>&1
	check_eq "task kill --all -s SIGKILL: exit status" 0 "$?"
	wait_until 10 task_status_is "$ID" STOPPED
	check_eq "kill --all: STOPPED" STOPPED "$(task_field "$ID" 3)"
	out=$(ctr_ task delete "$ID" 2>&1)
	check_contains "kill --all: exit code 137" "$out" "exit code 137"
	ctr_ container delete "$ID" >/dev/null 2>&1
	check_gone "kill --all: nothing left behind" "$ID"
}

# containerd restart: the shim outlives containerd and is reconnected
case_restart() {
	newid restart
	local pid0 pid1 shim0 shim1
	run_d "run -d before restart" "$ID" /bin/sh -c 'while :; do echo tick; sleep 0.2; done' || return
	pid0=$(task_field "$ID" 2)
	shim0=$(shim_pids_for "$ID")
	if ! ctd_restart; then
		fail "containerd restarts"
		return
	fi
	ok "containerd restarts (pid $CTD_PID)"
	shim1=$(shim_pids_for "$ID")
	check_eq "shim survives the restart" "$shim0" "$shim1"
	pid1=$(task_field "$ID" 2)
	check_eq "task ls after restart: same pid" "$pid0" "$pid1"
	check_eq "task ls after restart: RUNNING" RUNNING "$(task_field "$ID" 3)"
	out=$(ctr_exec --exec-id rx1 "$ID" /bin/echo after-restart 2>&1)
	check_eq "exec after restart: exit status" 0 "$?"
	check_eq "exec after restart: output" after-restart "$out"
	sleep 0.5 # the container keeps writing into its (now reader-less) FIFO
	check_eq "task still RUNNING after restart + output" RUNNING "$(task_field "$ID" 3)"
	ctr_ task kill -s SIGKILL "$ID" >/dev/null 2>&1
	check_eq "kill after restart: exit status" 0 "$?"
	wait_until 10 task_status_is "$ID" STOPPED
	check_eq "kill after restart: STOPPED" STOPPED "$(task_field "$ID" 3)"
	out=$(ctr_ task delete "$ID" 2>&1)
	check_contains "delete after restart: exit code 137" "$out" "exit code 137"
	ctr_ container delete "$ID" >/dev/null 2>&1
	check_gone "restart case: nothing left behind" "$ID"

	# An exit while containerd is down is kept by the shim until Delete.
	newid downexit
	run_d "run -d (exits while containerd is down)" "$ID" /bin/sleep 100 || return
	pid0=$(task_field "$ID" 2)
	_ctd_kill_daemon
	kill -9 "$pid0" 2>/dev/null
	sleep 0.5
	_ctd_launch
	check_eq "exit while containerd was down: STOPPED after restart" STOPPED \
		"$(task_field "$ID" 3)"
	out=$(ctr_ task delete "$ID" 2>&1)
	check_contains "exit while containerd was down: delete reports 137" "$out" "exit code 137"
	ctr_ container delete "$ID" >/dev/null 2>&1
	check_gone "down-exit case: nothing left behind" "$ID"

	# Execs in flight while containerd is SIGKILLed and started again: one ends while it is
	# down (its exit event goes out once it is back: the publisher retries), one after.
	local shim e1 e2
	newid restexec
	run_d "run -d for execs across a containerd kill" "$ID" /bin/sleep 100000 || return
	shim=$(shim_pids_for "$ID")
	# each exec ends when its file appears in the (shared) rootfs
	ctr_exec --exec-id rq1 "$ID" /bin/sh -c \
		"while [ ! -e /tmp/$ID-rq1 ]; do sleep 0.05; done; exit 3" >/dev/null 2>&1 &
	e1=$!
	ctr_exec --exec-id rq2 "$ID" /bin/sh -c \
		"while [ ! -e /tmp/$ID-rq2 ]; do sleep 0.05; done; exit 4" >/dev/null 2>&1 &
	e2=$!
	wait_until 10 nprocs_ge "$ID" 3 # the init, the two execs (and their sleeps)
	check "two execs running before the kill" nprocs_ge "$ID" 3
	kill -KILL "$CTD_PID" 2>/dev/null
	wait "$CTD_PID" 2>/dev/null
	CTD_PID=
	: >"$R/tmp/$ID-rq1"
	sleep 1.5 # rq1 exits while containerd is down; its publisher fails and is retried
	if ! _ctd_launch; then
		fail "containerd starts again after SIGKILL"
		return
	fi
	ok "containerd starts again after SIGKILL (pid $CTD_PID)"
	: >"$R/tmp/$ID-rq2"
	wait "$e1" "$e2" 2>/dev/null # their ctr lost containerd
	check_eq "execs across the kill: same shim" "$shim" "$(shim_pids_for "$ID")"
	check_eq "execs across the kill: task RUNNING" RUNNING "$(task_field "$ID" 3)"
	wait_until 15 nprocs_is "$ID" 1
	check "execs across the kill: both execs ended, the init runs" nprocs_is "$ID" 1
	check "the exec that ended while containerd was down: its first publish failed" \
		grep -qF "failed to publish event /tasks/exit (rq1 pid" "$CTD_LOG"
	wait_until 15 grep -qF "published /tasks/exit (rq1 pid" "$CTD_LOG"
	check "exit of the exec that ended while containerd was down: published after it came back" \
		grep -qF "published /tasks/exit (rq1 pid" "$CTD_LOG"
	# rq2 ends once containerd is back: over ttrpc ("forwarded"), or through a publisher
	# when rq1's is still retrying (an exit never overtakes an earlier one).
	wait_until 15 grep -qE "(published|forwarded) /tasks/exit \(rq2 pid" "$CTD_LOG"
	check "exit of the exec that ended after the restart: published" \
		grep -qE "(published|forwarded) /tasks/exit \(rq2 pid" "$CTD_LOG"
	check_eq "execs across the kill: each exit published once" "1 1" \
		"$(grep -cE "(published|forwarded) /tasks/exit \(rq1 pid" "$CTD_LOG") $(grep -cE "(published|forwarded) /tasks/exit \(rq2 pid" "$CTD_LOG")"
	check "execs across the kill: no zombie under the shim" no_zombie_children "$shim"
	out=$(ctr_exec --exec-id rq3 "$ID" /bin/echo still-managed 2>&1)
	check_eq "exec after the kill: output" still-managed "$out"
	ctr_ task kill -s SIGKILL "$ID" >/dev/null 2>&1
	wait_until 10 task_status_is "$ID" STOPPED
	out=$(ctr_ task delete "$ID" 2>&1)
	check_contains "execs across the kill: delete reports 137" "$out" "exit code 137"
	ctr_ container delete "$ID" >/dev/null 2>&1
	rm -f "$R/tmp/$ID-rq1" "$R/tmp/$ID-rq2"
	check_gone "execs across the kill: nothing left behind" "$ID"
}

# concurrency
case_concurrency() {
	newid conc1
	C1=$ID
	newid conc2
	C2=$ID
	ctr_run --rm --rootfs "$R" "$C1" /bin/sh -c 'sleep 1; seq 1 20000; exit 11' >"$TMP/c1.out" 2>&1 &
	P1=$!
	ctr_run --rm --rootfs "$R" "$C2" /bin/sh -c 'sleep 1; seq 20001 40000; exit 12' >"$TMP/c2.out" 2>&1 &
	P2=$!
	wait_until 10 nshims_ge 2
	check "two shims run concurrently" nshims_ge 2
	wait "$P1"
	check_eq "concurrent container 1: exit status" 11 "$?"
	wait "$P2"
	check_eq "concurrent container 2: exit status" 12 "$?"
	check_eq "concurrent container 1: output" "$(seq 1 20000 | sha256sum)" "$(sha256sum <"$TMP/c1.out")"
	check_eq "concurrent container 2: output" "$(seq 20001 40000 | sha256sum)" "$(sha256sum <"$TMP/c2.out")"
	check_gone "concurrent container 1: nothing left behind" "$C1"
	check_gone "concurrent container 2: nothing left behind" "$C2"
}

# several sequential containers
case_sequential() {
	local okcount=0 evpid i n ids=()
	timeout -k 2 60 ctr --address "$CTD_ADDR" -n "$NS" events >"$TMP/seq-events" 2>&1 &
	evpid=$!
	sleep 0.2
	for i in 1 2 3 4 5; do
		newid "seq$i"
		ids+=("$ID")
		out=$(ctr_run --rm --rootfs "$R" "$ID" /bin/echo "n$i" 2>&1) && [ "$out" = "n$i" ] && okcount=$((okcount + 1))
	done
	check_eq "5 sequential run --rm" 5 "$okcount"
	# /tasks/exit after `run --rm`: the Go shim loses some of these (spec
	# App. C.6: it is SIGKILLed right after Delete, before publishing).
	sleep 1
	kill "$evpid" 2>/dev/null
	wait "$evpid" 2>/dev/null
	n=0
	for i in "${ids[@]}"; do
		grep -q "/tasks/exit {\"container_id\":\"$i\"" "$TMP/seq-events" && n=$((n + 1))
	done
	if [ "${E2E_STRICT:-0}" = 1 ]; then
		check_eq "/tasks/exit published for each of 5 run --rm" 5 "$n"
	else
		echo "# note: /tasks/exit seen for $n of 5 run --rm (checked with E2E_STRICT=1)"
	fi
}

# Exits go to containerd over its ttrpc events service (Events/Forward on
# <grpc address>.ttrpc, docs/events.md), not through `containerd publish`
# children: containerd's own debug log says "event forwarded" for a Forward
# and "event published" for a Publish (what `containerd publish` calls), and
# the shim's says "forwarded /tasks/exit (ID ..." or "published ...".
count_ctd() { grep -F "msg=\"$1\"" "$CTD_LOG" | grep -F "ns=$NS" | grep -cF "topic=/tasks/exit"; }
case_events_ttrpc() {
	local evpid pub0 fwd0 l0 ids=() i n order C log
	timeout -k 2 60 ctr --address "$CTD_ADDR" -n "$NS" events >"$TMP/ttrpc-events" 2>&1 &
	evpid=$!
	sleep 0.2
	pub0=$(count_ctd "event published")
	fwd0=$(count_ctd "event forwarded")
	l0=$(wc -l <"$CTD_LOG")
	newid evt
	C=$ID
	run_d "run -d (exits over ttrpc)" "$ID" /bin/sleep 100 || return
	ctr_exec --exec-id evx1 "$ID" /bin/sh -c 'exit 5' >/dev/null 2>&1
	check_eq "exec over ttrpc: exit status" 5 "$?"
	ctr_exec -d --exec-id evx2 "$ID" /bin/sleep 100 >/dev/null 2>&1
	wait_until 10 nprocs_is "$ID" 2
	ctr_ task kill -s SIGKILL "$ID" >/dev/null 2>&1
	wait_until 10 task_status_is "$ID" STOPPED
	check_eq "kill: STOPPED" STOPPED "$(task_field "$ID" 3)"
	for i in 1 2 3; do
		newid "evrm$i"
		ids+=("$ID")
		ctr_run --rm --rootfs "$R" "$ID" /bin/sh -c "exit $((20 + i))" >/dev/null 2>&1
		check_eq "run --rm $i: exit status" $((20 + i)) "$?"
	done
	ID=$C
	wait_until 5 grep -q "/tasks/exit {\"container_id\":\"$ID\",\"id\":\"$ID\"" "$TMP/ttrpc-events"
	sleep 0.5
	kill "$evpid" 2>/dev/null
	wait "$evpid" 2>/dev/null
	check_contains "/tasks/exit of exec evx1 (ctr events)" \
		"$(grep "/tasks/exit {\"container_id\":\"$ID\",\"id\":\"evx1\"" "$TMP/ttrpc-events")" '"exit_status":5'
	check_contains "/tasks/exit of the init (ctr events)" \
		"$(grep "/tasks/exit {\"container_id\":\"$ID\",\"id\":\"$ID\"" "$TMP/ttrpc-events")" '"exit_status":137'
	# exec exits before the init's
	order=$(grep "/tasks/exit {\"container_id\":\"$ID\"" "$TMP/ttrpc-events" |
		sed -n 's/.*"id":"\([^"]*\)".*/\1/p' | tr '\n' ' ')
	check_eq "exits in order: evx1, evx2, the init" "evx1 evx2 $ID " "$order"
	n=0
	for i in "${ids[@]}"; do
		grep -q "/tasks/exit {\"container_id\":\"$i\"" "$TMP/ttrpc-events" && n=$((n + 1))
	done
	check_eq "/tasks/exit for each of 3 run --rm (the shim is killed right after Delete)" 3 "$n"
	check_eq "containerd: 6 exits forwarded over ttrpc" 6 $(($(count_ctd "event forwarded") - fwd0))
	check_eq "containerd: no exit published (no containerd publish child)" 0 \
		$(($(count_ctd "event published") - pub0))
	log=$(tail -n +$((l0 + 1)) "$CTD_LOG")
	check_eq "shim log: each exit forwarded once" "1 1 1" \
		"$(grep -cF "forwarded /tasks/exit (evx1 pid" <<<"$log") $(grep -cF "forwarded /tasks/exit (evx2 pid" <<<"$log") $(grep -cF "forwarded /tasks/exit ($ID pid" <<<"$log")"
	check_eq "shim log: no publisher ran for them" 0 "$(grep -cF "published /tasks/exit (" <<<"$log")"
	ctr_ task delete "$ID" >/dev/null 2>&1
	ctr_ container delete "$ID" >/dev/null 2>&1
	check_gone "exits over ttrpc: nothing left behind" "$ID"
}

# ------------------------------------------------------------------ runner

ALL_CASES=(
	case_echo
	case_exit_status
	case_stdin
	case_large_output
	case_stdout_stderr
	case_detached
	case_checkpoint
	case_errors
	case_io_variants
	case_tty
	case_sigterm
	case_killall
	case_concurrency
	case_sequential
	case_events_ttrpc
	case_restart
)
CASES=()
if [ -n "${E2E_CASES:-}" ]; then
	for c in $E2E_CASES; do CASES+=("case_${c#case_}"); done
else
	CASES=("${ALL_CASES[@]}")
fi

section "e2e: shim $SHIM"
ZOMBIES_BEFORE=$(zombies)
SOCKS_BEFORE=$(list_socks)

if ! ctd_start "$SHIM"; then
	fail "private containerd starts"
	summary
	exit 1
fi
ok "private containerd starts ($CTD_DIR, pid $CTD_PID)"
SAVED_DIR=$CTD_DIR
R=$CTD_DIR/rootfs
check "busybox rootfs" rootfs_make "$R"
TMP=$CTD_DIR/out
mkdir -p "$TMP"

# Fail fast: when the basic `ctr run --rm echo` fails, or ctr calls keep
# timing out, the remaining cases are reported as not run (each one failure)
# instead of each waiting for its own timeouts.  E2E_KEEP_GOING=1 runs all.
ABORT=
for c in "${CASES[@]}"; do
	if [ -z "$ABORT" ] && [ "$(ctr_timeouts)" -ge 2 ]; then
		ABORT="ctr timed out $(ctr_timeouts) times; shim unresponsive?"
	fi
	if [ -n "$ABORT" ] && [ "${E2E_KEEP_GOING:-0}" != 1 ]; then
		fail "${c#case_}: not run ($ABORT)"
		continue
	fi
	section "${c#case_}"
	nfail=$E2E_FAIL
	"$c"
	if [ "$c" = case_echo ] && [ "$E2E_FAIL" -ne "$nfail" ]; then
		ABORT="basic ctr run failed"
	fi
done

# ------------------------------------------------------- leftovers (live)

section "leftovers while containerd is still running"
check "no shim process of this run left" wait_until 5 no_shims
check_eq "no task left" "" "$(ctr_ task ls -q 2>&1)"
check_eq "no container left" "" "$(ctr_ container ls -q 2>&1)"
check_eq "runc root empty" "" "$(ls -A "$CTD_RUNC_ROOT/$NS" 2>/dev/null)"
check_eq "no bundle left" "" "$(ls -A "$CTD_DIR/state/$V1_RUNTIME/$NS" 2>/dev/null)"
check_eq "no work dir left" "" "$(ls -A "$CTD_DIR/root/$V1_RUNTIME/$NS" 2>/dev/null)"
check_eq "no mount under the run dir" "" "$(mounts_under "$CTD_DIR")"
left=()
for id in "${IDS[@]}"; do
	n=0
	for d in /sys/fs/cgroup/*/"$NS/$id" /sys/fs/cgroup/"$NS/$id"; do
		[ -e "$d" ] && n=$((n + 1))
	done
	[ "$n" -gt 0 ] && left+=("/sys/fs/cgroup/*/$NS/$id ($n dirs)")
done
check_eq "no container cgroup left" "" "${left[*]}"
left=()
for id in "${IDS[@]}"; do
	s=$(shim_sock_path "$id")
	[ -e "$s" ] && left+=("$s")
done
check_eq "no shim socket of this run left in $SHIM_SOCK_DIR" "" "${left[*]}"
# before/after comparison of the shim socket dir: new sockets must not be
# this run's; ones that are not are another containerd's (reported only).
SOCKS_AFTER=$(list_socks)
newsocks=$(comm -13 <(printf '%s\n' "$SOCKS_BEFORE") <(printf '%s\n' "$SOCKS_AFTER") | grep -v '^$')
if [ -n "$newsocks" ]; then
	echo "# note: $(printf '%s\n' "$newsocks" | wc -l) new socket(s) in $SHIM_SOCK_DIR" \
		"not from this run's containers (another containerd running?)"
fi
# zombies whose parent is this run's containerd (shims are gone by now)
wait_until 3 no_zombie_children "$CTD_PID"
check_eq "no zombie child of containerd" "" "$(zombie_children "$CTD_PID")"

# -------------------------------------------------------- leftovers (stop)

section "stop containerd"
[ -n "${E2E_LOG_COPY:-}" ] && cp "$CTD_LOG" "$E2E_LOG_COPY" 2>/dev/null
if [ "$E2E_FAIL" -ne 0 ]; then
	echo "# containerd/shim log tail ($CTD_LOG):"
	grep -v 'msg="loading plugin' "$CTD_LOG" | tail -n 40 | sed 's/^/#   /'
fi
ctd_pid=$CTD_PID
ctd_stop
check "containerd stopped" pid_gone "$ctd_pid"
check "no process references the run dir" no_run_procs
check "run dir removed" test ! -e "$SAVED_DIR"
# Orphans (e.g. `containerd publish` children of a SIGKILLed shim) are
# reparented to pid 1; reaping them is init's job, so only report them.
zombie_orphans() {
	local zpid zppid zcomm
	while read -r zpid zppid zcomm; do
		[ -n "$zpid" ] || continue
		printf '%s\n' "$ZOMBIES_BEFORE" | grep -q "^$zpid " && continue
		case $zcomm in
		containerd* | cshim | runc | sleep | sh | cat | busybox | echo | true | seq | yes | head)
			printf '%s(ppid %s, %s) ' "$zpid" "$zppid" "$zcomm"
			;;
		esac
	done < <(zombies)
}
no_zombie_orphans() { [ -z "$(zombie_orphans)" ]; }
if ! wait_until 3 no_zombie_orphans; then
	echo "# note: zombie orphans not (yet) reaped by pid 1: $(zombie_orphans)"
fi

section "duration: $((SECONDS - T0)) s"
summary
