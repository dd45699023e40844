#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Docker tier: Docker 20.10 (Debian's docker.io) driving a private containerd
# 1.6 whose v1 runtime (io.containerd.runtime.v1.linux) uses the shim under
# test.  A client nobody here wrote, exercising the shim the way docker does.
#
#   bash tests/docker/run.sh SHIM_PATH      e.g. build/bin/cshim, /usr/bin/containerd-shim
#
# How docker reaches the v1 shim: dockerd 20.10 registers the runtime name
# io.containerd.runtime.v1.linux (daemon/runtime_unix.go configureRuntimes);
# with --default-runtime set to it, every container is created with that
# containerd runtime, and containerd spawns the `shim` of its
# [plugins."io.containerd.runtime.v1.linux"] section (tests/e2e/lib.sh writes
# it).  dockerd is told to use our containerd with --containerd=SOCK.
#
# Isolation: containerd and dockerd live in one mktemp dir (data-root,
# exec-root, pidfile, API socket, daemon.json); dockerd runs with
# --iptables=false --bridge=none (containers use --network none), its own
# containerd namespace and cgroup parent.  No registry: the image is a
# busybox-static rootfs imported with `docker import`.  Everything is stopped
# by pid, mounts removed, even on failure.
#
# Env: DOCKER_BIN (default /usr/bin/docker: the 20.10 client; a newer client
#      may be first in PATH), DOCKER_STORAGE (default overlay2),
#      DOCKER_LOG_COPY=FILE (copy dockerd's and containerd's logs to FILE),
#      DOCKER_CASES="run exec ..." (run only these cases; "none" for none),
#      DOCKER_HOLD='CMD' (debugging: run CMD with $DK_SOCK and $IMG set
#      after the cases, before cleanup).
# Prints one line per check and finally "N passed, M failed".

# shellcheck disable=SC2016 # container commands are single-quoted on purpose
set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CTR_TIMEOUT=${CTR_TIMEOUT:-20}
NS=${NS:-cshim-docker}
# shellcheck source=tests/e2e/lib.sh
. "$HERE/../e2e/lib.sh"

SHIM=${1:-}
if [ -z "$SHIM" ]; then
	echo "usage: $0 SHIM_PATH" >&2
	exit 2
fi
DOCKER_BIN=${DOCKER_BIN:-/usr/bin/docker}
DOCKER_STORAGE=${DOCKER_STORAGE:-overlay2}
DK_TIMEOUT=${DK_TIMEOUT:-60}
for b in dockerd "$DOCKER_BIN" busybox; do
	command -v "$b" >/dev/null 2>&1 || {
		echo "tests/docker: $b not found (apt-get install docker.io busybox-static)" >&2
		exit 2
	}
done

T0=$SECONDS
DK_PID=
section() { printf '# %s (t=%ds)\n' "$1" $((SECONDS - T0)); }

# dk ARGS...: the docker client on our dockerd, bounded.
dk() {
	timeout -k 5 "$DK_TIMEOUT" "$DOCKER_BIN" -H "unix://$DK_SOCK" "$@"
}

# inspect NAME FORMAT
inspect() { dk inspect -f "$2" "$1" 2>/dev/null; }
status_is() { [ "$(inspect "$1" '{{.State.Status}}')" = "$2" ]; }

dk_launch() {
	dockerd --config-file "$DK_DIR/daemon.json" \
		--data-root "$DK_DIR/data" --exec-root "$DK_DIR/exec" \
		--pidfile "$DK_DIR/docker.pid" -H "unix://$DK_SOCK" \
		--containerd "$CTD_ADDR" --containerd-namespace "$NS-$CTD_TAG" \
		--containerd-plugins-namespace "$NS-plugins-$CTD_TAG" \
		--iptables=false --ip6tables=false --ip-masq=false --ip-forward=false \
		--bridge=none --userland-proxy=false \
		--storage-driver "$DOCKER_STORAGE" \
		--exec-opt native.cgroupdriver=cgroupfs \
		--cgroup-parent "/$NS-$CTD_TAG" \
		--default-runtime "$V1_RUNTIME" --live-restore \
		--experimental --log-level debug </dev/null >>"$DK_DIR/dockerd.log" 2>&1 &
	DK_PID=$!
	local deadline=$((SECONDS + 30))
	until dk version >/dev/null 2>&1; do
		if ! kill -0 "$DK_PID" 2>/dev/null || [ "$SECONDS" -ge "$deadline" ]; then
			log "dockerd did not come up; log tail:"
			tail -n 30 "$DK_DIR/dockerd.log" >&2
			return 1
		fi
		sleep 0.2
	done
}

# dk_kill_daemon: SIGTERM dockerd by pid, SIGKILL after 15 s.
dk_kill_daemon() {
	[ -n "$DK_PID" ] || return 0
	kill -TERM "$DK_PID" 2>/dev/null
	local i
	for i in $(seq 1 150); do
		kill -0 "$DK_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$DK_PID" 2>/dev/null
	wait "$DK_PID" 2>/dev/null
	DK_PID=
}

cleanup() {
	local ids c
	if [ -n "$DK_PID" ] && kill -0 "$DK_PID" 2>/dev/null; then
		ids=$(dk ps -aq 2>/dev/null)
		# shellcheck disable=SC2086
		[ -n "$ids" ] && dk rm -f $ids >/dev/null 2>&1
	fi
	dk_kill_daemon
	if [ -n "${DOCKER_LOG_COPY:-}" ] && [ -n "${CTD_DIR:-}" ]; then
		{
			echo "==== dockerd"
			cat "$DK_DIR/dockerd.log"
			echo "==== containerd"
			cat "$CTD_LOG"
		} >"$DOCKER_LOG_COPY" 2>/dev/null
	fi
	# containerd's namespace of dockerd: ctd_stop cleans $NS only.
	if [ -n "${CTD_DIR:-}" ] && _ctd_alive; then
		NS="$NS-$CTD_TAG" _ctd_clean_tasks
	fi
	if [ -n "${CTD_TAG:-}" ]; then
		for c in /sys/fs/cgroup/*/"$NS-$CTD_TAG"/* /sys/fs/cgroup/*/"$NS-$CTD_TAG"; do
			[ -d "$c" ] && rmdir "$c" 2>/dev/null
		done
	fi
	rmdir "/run/containerd/runc/$NS-$CTD_TAG" 2>/dev/null
	ctd_stop
	if [ -n "${KEY_MADE:-}" ]; then
		rm -f /etc/docker/key.json
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

want() { [ -z "${DOCKER_CASES:-}" ] || [[ " $DOCKER_CASES " == *" $1 "* ]]; }

# ------------------------------------------------------------------ setup

# dockerd 20.10 writes its trust key to /etc/docker/key.json whatever its roots are: remove
# it afterwards if this run made it.
KEY_MADE=
[ -e /etc/docker/key.json ] || KEY_MADE=1
ctd_start "$SHIM" || exit 1
DK_DIR=$CTD_DIR/docker
DK_SOCK=$DK_DIR/docker.sock
mkdir -p "$DK_DIR"
echo '{}' >"$DK_DIR/daemon.json"
dk_launch || exit 1
section "dockerd up"

rootfs_make "$CTD_DIR/rootfs" || exit 1
if ! tar -C "$CTD_DIR/rootfs" -c . | dk import - cshim-bb:test >/dev/null; then
	echo "docker import failed" >&2
	exit 1
fi
IMG=cshim-bb:test
RUN=(run --network none)

runtime=$(dk info -f '{{.DefaultRuntime}}' 2>/dev/null)
check_eq "dockerd default runtime is the v1 runtime" "$V1_RUNTIME" "$runtime"

# --------------------------------------------------------------- cases

if want run; then
	section run
	out=$(dk "${RUN[@]}" --rm "$IMG" sh -c 'echo hello; echo oops >&2; exit 3' 2>"$CTD_DIR/err")
	rc=$?
	check_eq "run --rm: stdout" hello "$out"
	# dockerd 20.10 warns on stderr that the v1 runtime is deprecated
	check_eq "run --rm: stderr" oops "$(grep -v '^WARNING: ' "$CTD_DIR/err")"
	check_eq "run --rm: exit code" 3 "$rc"
	out=$(printf 'line1\nline2\n' | dk "${RUN[@]}" --rm -i "$IMG" sh -c 'cat; echo end')
	check_eq "run -i: stdin reaches the container, EOF ends it" "$(printf 'line1\nline2\nend')" "$out"
	wait_until 10 sh -c "[ -z \"\$($DOCKER_BIN -H unix://$DK_SOCK ps -aq)\" ]"
	check_eq "run --rm: container removed" "" "$(dk ps -aq)"
fi

if want exec; then
	section exec
	dk "${RUN[@]}" -d --name ex "$IMG" sleep 1000 >/dev/null
	check_eq "run -d: running" running "$(inspect ex '{{.State.Status}}')"
	out=$(dk exec ex sh -c 'echo in-exec; exit 5')
	rc=$?
	check_eq "exec: stdout" in-exec "$out"
	check_eq "exec: exit code" 5 "$rc"
	out=$(printf 'abc\n' | dk exec -i ex sh -c 'read x; echo got-$x')
	check_eq "exec -i: stdin" got-abc "$out"
	out=$(printf 'x\ny\n' | dk exec -i ex cat)
	check_eq "exec -i: cat sees EOF" "$(printf 'x\ny')" "$out"
	out=$(dk exec ex sh -c 'echo e1 >&2' 2>&1 >/dev/null)
	check_eq "exec: stderr" e1 "$out"
	dk exec -d ex sh -c 'echo detached > /tmp/d'
	wait_until 10 sh -c "$DOCKER_BIN -H unix://$DK_SOCK exec ex cat /tmp/d 2>/dev/null | grep -q detached"
	check_eq "exec -d: ran" detached "$(dk exec ex cat /tmp/d 2>/dev/null)"
	out=$(dk exec ex /no/such/binary 2>&1)
	rc=$?
	check_eq "exec of a missing binary: exit code 126 or 127" 1 "$([ "$rc" = 126 ] || [ "$rc" = 127 ] && echo 1 || echo "rc=$rc")"
	check_match "exec of a missing binary: message" "$out" "no such file|not found"
	out=$(dk exec ex sh -c 'echo still')
	check_eq "exec after a failed exec" still "$out"
fi

if want tty; then
	section tty
	dk "${RUN[@]}" --rm -t "$IMG" sh -c 'tty; exit 4' >"$CTD_DIR/tty.out"
	rc=$?
	out=$(tr -d '\r' <"$CTD_DIR/tty.out")
	check_match "run -t: a pty" "$out" '^/dev/pts/[0-9]+$'
	check_eq "run -t: exit code" 4 "$rc"
	dk "${RUN[@]}" -d --name tt "$IMG" sleep 1000 >/dev/null
	out=$(dk exec -t tt sh -c 'tty; [ -t 1 ] && echo isatty' | tr -d '\r')
	check_match "exec -t: a pty" "$out" $'^/dev/pts/[0-9]+\nisatty$'
	out=$(dk exec -t tt sh -c 'exit 6')
	check_eq "exec -t: exit code" 6 "$?"
	dk "${RUN[@]}" -d -t --name tt2 "$IMG" sh -c 'echo tty-log; sleep 1000' >/dev/null
	wait_until 10 sh -c "$DOCKER_BIN -H unix://$DK_SOCK logs tt2 2>/dev/null | grep -q tty-log"
	check_contains "run -d -t: logs" "$(dk logs tt2 | tr -d '\r')" tty-log
fi

if want logs; then
	section logs
	dk "${RUN[@]}" -d --name lg "$IMG" sh -c 'echo out1; echo err1 >&2; sleep 1000' >/dev/null
	wait_until 10 sh -c "$DOCKER_BIN -H unix://$DK_SOCK logs lg 2>&1 | grep -q err1"
	check_eq "logs: stdout" out1 "$(dk logs lg 2>/dev/null)"
	check_eq "logs: stderr" err1 "$(dk logs lg 2>&1 >/dev/null)"
fi

if want stop; then
	section stop
	# pid 1 without a TERM handler ignores TERM: docker SIGKILLs after -t.
	dk "${RUN[@]}" -d --name st1 "$IMG" sleep 1000 >/dev/null
	dk stop -t 1 st1 >/dev/null
	check_eq "stop (TERM ignored): exited" exited "$(inspect st1 '{{.State.Status}}')"
	check_eq "stop (TERM ignored): exit code 137" 137 "$(inspect st1 '{{.State.ExitCode}}')"
	dk "${RUN[@]}" -d --name st2 "$IMG" sh -c 'trap "exit 7" TERM; while :; do sleep 0.1; done' >/dev/null
	dk stop -t 30 st2 >/dev/null
	check_eq "stop (TERM handled): exit code 7" 7 "$(inspect st2 '{{.State.ExitCode}}')"
	# stop signal from the image config / --stop-signal
	dk "${RUN[@]}" -d --stop-signal USR1 --name st3 "$IMG" sh -c 'trap "exit 8" USR1; while :; do sleep 0.1; done' >/dev/null
	dk stop -t 30 st3 >/dev/null
	check_eq "stop --stop-signal USR1: exit code 8" 8 "$(inspect st3 '{{.State.ExitCode}}')"
fi

if want kill; then
	section kill
	dk "${RUN[@]}" -d --name kl "$IMG" sh -c 'trap "echo usr1 >/tmp/sig" USR1; while :; do sleep 0.1; done' >/dev/null
	wait_until 10 status_is kl running
	dk kill -s USR1 kl >/dev/null
	wait_until 10 sh -c "$DOCKER_BIN -H unix://$DK_SOCK exec kl cat /tmp/sig 2>/dev/null | grep -q usr1"
	check_eq "kill -s USR1: delivered, still running" "usr1 running" \
		"$(dk exec kl cat /tmp/sig 2>/dev/null) $(inspect kl '{{.State.Status}}')"
	dk kill kl >/dev/null
	wait_until 10 status_is kl exited
	check_eq "kill: exit code 137" 137 "$(inspect kl '{{.State.ExitCode}}')"
	out=$(dk kill kl 2>&1)
	check_match "kill of a stopped container: error" "$out" "is not running"
fi

if want pause; then
	section pause
	dk "${RUN[@]}" -d --name pa "$IMG" sh -c 'i=0; while :; do i=$((i+1)); echo $i >/tmp/n; sleep 0.05; done' >/dev/null
	dk pause pa >/dev/null
	check_eq "pause: paused" paused "$(inspect pa '{{.State.Status}}')"
	out=$(dk exec pa true 2>&1)
	check_match "exec on a paused container: refused" "$out" "paused"
	dk unpause pa >/dev/null
	check_eq "unpause: running" running "$(inspect pa '{{.State.Status}}')"
	check_eq "exec after unpause" ok "$(dk exec pa sh -c 'echo ok')"
fi

if want top; then
	section top
	dk "${RUN[@]}" -d --name tp "$IMG" sh -c 'sleep 1001 & sleep 1002 & wait' >/dev/null
	wait_until 10 sh -c "$DOCKER_BIN -H unix://$DK_SOCK top tp 2>/dev/null | grep -q 'sleep 1002'"
	out=$(dk top tp 2>&1)
	check_contains "top: lists children (1)" "$out" "sleep 1001"
	check_contains "top: lists children (2)" "$out" "sleep 1002"
	check_eq "top: 3 processes" 3 "$(printf '%s\n' "$out" | awk 'NR > 1' | wc -l)"
fi

if want update; then
	section update
	dk "${RUN[@]}" -d --memory 256m --name up "$IMG" sleep 1000 >/dev/null
	dk update --memory 64m --memory-swap 128m up >/dev/null
	check_eq "update --memory: inspect" 67108864 "$(inspect up '{{.HostConfig.Memory}}')"
	cid=$(inspect up '{{.Id}}')
	lim=$(cat "/sys/fs/cgroup/memory/$NS-$CTD_TAG/$cid/memory.limit_in_bytes" 2>/dev/null ||
		cat "/sys/fs/cgroup/$NS-$CTD_TAG/$cid/memory.max" 2>/dev/null)
	check_eq "update --memory: cgroup limit" 67108864 "$lim"
	dk update --cpu-shares 512 up >/dev/null
	check_eq "update --cpu-shares: cgroup" 512 \
		"$(cat "/sys/fs/cgroup/cpu,cpuacct/$NS-$CTD_TAG/$cid/cpu.shares" 2>/dev/null ||
			cat "/sys/fs/cgroup/cpu/$NS-$CTD_TAG/$cid/cpu.shares" 2>/dev/null)"
	out=$(dk stats --no-stream --format '{{.MemUsage}}' up 2>&1)
	check_match "stats: memory usage against the new limit" "$out" '/ 64MiB$'
fi

if want wait; then
	section "wait / exit on its own"
	# the container exits by itself: docker learns it from the /tasks/exit
	# event the shim publishes (Events/Forward over containerd's ttrpc).
	dk "${RUN[@]}" -d --name wt "$IMG" sh -c 'sleep 1; exit 9' >/dev/null
	out=$(dk wait wt)
	check_eq "wait: exit code" 9 "$out"
	check_eq "exit on its own: exited" exited "$(inspect wt '{{.State.Status}}')"
	check_eq "exit on its own: exit code" 9 "$(inspect wt '{{.State.ExitCode}}')"
	dk "${RUN[@]}" -d --name wt2 "$IMG" sh -c 'exit 0' >/dev/null
	wait_until 20 status_is wt2 exited
	check_eq "immediate exit 0: seen" "exited 0" "$(inspect wt2 '{{.State.Status}} {{.State.ExitCode}}')"
	dk start wt2 >/dev/null
	check_eq "start again: exits 0 again" 0 "$(dk wait wt2)"
	# the same race five more times: an exit right after start
	res=
	for i in 1 2 3 4 5; do
		dk "${RUN[@]}" -d --name "wq$i" "$IMG" sh -c "exit $i" >/dev/null
	done
	for i in 1 2 3 4 5; do
		wait_until 20 status_is "wq$i" exited
		res+="$(inspect "wq$i" '{{.State.Status}} {{.State.ExitCode}}');"
	done
	check_eq "5 immediate exits: all seen" "exited 1;exited 2;exited 3;exited 4;exited 5;" "$res"
	# a restart policy depends on the exit event as well
	dk "${RUN[@]}" -d --restart on-failure:2 --name wt3 "$IMG" sh -c 'exit 2' >/dev/null
	wait_until 30 sh -c "[ \"\$($DOCKER_BIN -H unix://$DK_SOCK inspect -f '{{.RestartCount}} {{.State.Status}}' wt3)\" = '2 exited' ]"
	check_eq "restart on-failure:2: restarted twice" "2 exited 2" \
		"$(inspect wt3 '{{.RestartCount}} {{.State.Status}} {{.State.ExitCode}}')"
fi

if want restart; then
	section restart
	dk "${RUN[@]}" -d --name rs "$IMG" sleep 1000 >/dev/null
	p1=$(inspect rs '{{.State.Pid}}')
	dk restart -t 1 rs >/dev/null
	p2=$(inspect rs '{{.State.Pid}}')
	check_eq "restart: running" running "$(inspect rs '{{.State.Status}}')"
	check_eq "restart: a new pid" new "$([ -n "$p2" ] && [ "$p1" != "$p2" ] && [ "$p2" != 0 ] && echo new || echo "$p1 -> $p2")"
	check_eq "restart: exec works" ok "$(dk exec rs echo ok)"
fi

if want live-restore; then
	section "live-restore"
	dk "${RUN[@]}" -d --name lr "$IMG" sh -c 'trap "exit 11" TERM; while :; do sleep 0.1; done' >/dev/null
	dk "${RUN[@]}" -d --name lr2 "$IMG" sh -c 'trap "exit 12" USR2; while :; do sleep 0.1; done' >/dev/null
	p1=$(inspect lr '{{.State.Pid}}')
	dk_kill_daemon
	dk_launch || { fail "live-restore: dockerd restarts"; exit 1; }
	check_eq "live-restore: still running, same pid" "running $p1" "$(inspect lr '{{.State.Status}} {{.State.Pid}}')"
	check_eq "live-restore: exec" ok "$(dk exec lr echo ok)"
	dk stop -t 30 lr >/dev/null
	check_eq "live-restore: stop after restore, exit code" 11 "$(inspect lr '{{.State.ExitCode}}')"
	dk kill -s USR2 lr2 >/dev/null
	wait_until 20 status_is lr2 exited
	check_eq "live-restore: exit on its own seen after restore" "exited 12" "$(inspect lr2 '{{.State.Status}} {{.State.ExitCode}}')"
fi

if want bigio; then
	section "big output"
	want_sum=$(seq 1 200000 | md5sum)
	check_eq "run --rm: 1.3 MB of stdout intact" "$want_sum" \
		"$(dk "${RUN[@]}" --rm "$IMG" seq 1 200000 2>/dev/null | md5sum)"
	dk "${RUN[@]}" -d --name bio "$IMG" sleep 1000 >/dev/null
	check_eq "exec: 1.3 MB of stdout intact" "$want_sum" \
		"$(dk exec bio seq 1 200000 | md5sum)"
	check_eq "exec -i: 1.3 MB through stdin and back" "$want_sum" \
		"$(seq 1 200000 | dk exec -i bio cat | md5sum)"
	dk "${RUN[@]}" -d --name bio2 "$IMG" seq 1 100000 >/dev/null
	dk wait bio2 >/dev/null
	check_eq "logs: every line of an exited container" 100000 "$(dk logs bio2 | wc -l)"
	for i in 1 2 3 4 5 6 7 8; do
		dk exec bio sh -c "echo par-$i; exit $i" >"$CTD_DIR/par.$i" 2>&1 &
		echo $! >"$CTD_DIR/par.$i.pid"
	done
	res=
	for i in 1 2 3 4 5 6 7 8; do
		wait "$(cat "$CTD_DIR/par.$i.pid")"
		res+="$? $(grep -v '^WARNING' "$CTD_DIR/par.$i");"
	done
	check_eq "8 concurrent execs: outputs and codes" \
		"1 par-1;2 par-2;3 par-3;4 par-4;5 par-5;6 par-6;7 par-7;8 par-8;" "$res"
fi

if want execopts; then
	section "exec options"
	dk "${RUN[@]}" -d --name eo "$IMG" sleep 1000 >/dev/null
	check_eq "exec -u nobody" 65534 "$(dk exec -u nobody eo id -u)"
	check_eq "exec -w /tmp" /tmp "$(dk exec -w /tmp eo pwd)"
	check_eq "exec -e" bar "$(dk exec -e FOO=bar eo sh -c 'echo $FOO')"
	dk exec eo sh -c 'kill -9 $$' >/dev/null 2>&1
	check_eq "exec killed by SIGKILL: exit code 137" 137 "$?"
	dk exec eo sh -c 'kill -TERM $$' >/dev/null 2>&1
	check_eq "exec killed by SIGTERM: exit code 143" 143 "$?"
	dk exec -d eo sh -c 'sleep 1000' >/dev/null
	wait_until 10 sh -c "$DOCKER_BIN -H unix://$DK_SOCK top eo 2>/dev/null | grep -q 'sleep 1000$' && [ \$($DOCKER_BIN -H unix://$DK_SOCK top eo | grep -c 'sleep 1000') -ge 2 ]"
	dk stop -t 1 eo >/dev/null
	check_eq "stop with a running exec: exited 137" "exited 137" "$(inspect eo '{{.State.Status}} {{.State.ExitCode}}')"
	check_eq "restart after that" ok "$(dk start eo >/dev/null && dk exec eo echo ok)"
fi

if want ttysize; then
	section "tty size"
	dk "${RUN[@]}" -d --name ts "$IMG" sleep 1000 >/dev/null
	# the client resizes after the process started: poll until it did
	# (busybox `stty size` needs stdout to be the tty: parse `stty -a`).
	printf '%s\n' 'for i in $(seq 100); do s=$(stty -a | sed -n "s/.*rows \([0-9]*\); columns \([0-9]*\);.*/\1 \2/p"); [ -n "$s" ] && [ "$s" != "0 0" ] && break; sleep 0.1; done; echo "size=$s"' \
		>"$CTD_DIR/rootfs/size.sh"
	cmd="stty cols 101 rows 31; exec timeout --foreground -k 5 $DK_TIMEOUT $DOCKER_BIN -H unix://$DK_SOCK exec -it ts sh -c \"\$(cat $CTD_DIR/rootfs/size.sh)\""
	SHELL=/bin/sh script -qec "$cmd" /dev/null </dev/null >"$CTD_DIR/ts.raw" 2>&1
	check_contains "exec -it: the client's window size (ResizePty)" "$(tr -d '\r' <"$CTD_DIR/ts.raw")" "size=31 101"
	cmd="stty cols 99 rows 29; exec timeout --foreground -k 5 $DK_TIMEOUT $DOCKER_BIN -H unix://$DK_SOCK run --network none --rm -it $IMG sh -c \"\$(cat $CTD_DIR/rootfs/size.sh)\""
	SHELL=/bin/sh script -qec "$cmd" /dev/null </dev/null >"$CTD_DIR/ts.raw" 2>&1
	check_contains "run -it: the client's window size" "$(tr -d '\r' <"$CTD_DIR/ts.raw")" "size=29 99"
	cmd="exec timeout --foreground -k 5 $DK_TIMEOUT $DOCKER_BIN -H unix://$DK_SOCK exec -it ts sh -c 'read x; echo got-\$x; exit 3'"
	(sleep 1; printf 'hello\r') | SHELL=/bin/sh script -qec "$cmd" /dev/null >"$CTD_DIR/ts.raw" 2>&1
	check_contains "exec -it: typed input" "$(tr -d '\r' <"$CTD_DIR/ts.raw")" "got-hello"
fi

if want oom; then
	section oom
	dk "${RUN[@]}" -d --memory 16m --memory-swap 16m --name om "$IMG" \
		sh -c 'x=a; while :; do x=$x$x; done' >/dev/null
	dk wait om >/dev/null
	check_eq "oom: OOMKilled, exit code 137" "true 137" "$(inspect om '{{.State.OOMKilled}} {{.State.ExitCode}}')"
fi

if want ctd-restart; then
	section "containerd restart"
	dk "${RUN[@]}" -d --name cr "$IMG" sh -c 'trap "exit 13" USR2; while :; do sleep 0.1; done' >/dev/null
	p1=$(inspect cr '{{.State.Pid}}')
	ctd_restart
	wait_until 30 sh -c "$DOCKER_BIN -H unix://$DK_SOCK exec cr true 2>/dev/null"
	check_eq "containerd restart: exec" ok "$(dk exec cr echo ok)"
	check_eq "containerd restart: same pid" "$p1" "$(inspect cr '{{.State.Pid}}')"
	dk kill -s USR2 cr >/dev/null
	wait_until 20 status_is cr exited
	check_eq "containerd restart: exit on its own seen" "exited 13" "$(inspect cr '{{.State.Status}} {{.State.ExitCode}}')"
	check_eq "containerd restart: run --rm still works" hi "$(dk "${RUN[@]}" --rm "$IMG" echo hi 2>/dev/null)"
fi

if want init; then
	section "init and attach"
	out=$(dk "${RUN[@]}" --rm --init "$IMG" sh -c 'ps -o pid,comm | awk "\$1 == 1 {print \$2}"; exit 5' 2>/dev/null)
	rc=$?
	check_eq "run --init: docker-init is pid 1, exit code passed on" "docker-init 5" "$out $rc"
	dk "${RUN[@]}" -d --name at "$IMG" sh -c 'sleep 2; echo attached-out; exit 3' >/dev/null
	out=$(dk attach at 2>/dev/null)
	rc=$?
	check_eq "attach: output and exit code" "attached-out 3" "$out $rc"
fi

if want rm; then
	section rm
	dk "${RUN[@]}" -d --name rmf "$IMG" sleep 1000 >/dev/null
	dk rm -f rmf >/dev/null
	check_eq "rm -f running: gone" "" "$(dk ps -aq -f name=rmf)"
	ids=$(dk ps -aq)
	# shellcheck disable=SC2086
	[ -n "$ids" ] && dk rm -f $ids >/dev/null
	check_eq "rm -f all: none left" "" "$(dk ps -aq)"
	wait_until 10 sh -c "[ -z \"\$(ctr --address $CTD_ADDR -n $NS-$CTD_TAG task ls -q)\" ]"
	check_eq "containerd: no task left" "" "$(NS="$NS-$CTD_TAG" ctr_ task ls -q 2>/dev/null)"
	check_eq "no shim left" "" "$(pids_matching "$CTD_DIR/root/$V1_RUNTIME/" | tr '\n' ' ')"
fi

if [ -n "${DOCKER_HOLD:-}" ]; then
	# debugging: run a command with DK_SOCK set, then clean up
	DK_SOCK=$DK_SOCK IMG=$IMG bash -c "$DOCKER_HOLD"
fi

section finished
summary
