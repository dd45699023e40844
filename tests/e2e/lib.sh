# shellcheck shell=bash
# SPDX-License-Identifier: Apache-2.0
#
# tests/e2e/lib.sh -- helpers for end-to-end tests of a v1 shim through a
# private containerd (io.containerd.runtime.v1.linux) and ctr.
#
# Sourced by tests/e2e/run.sh and tests/demo.sh.  Needs bash, root, containerd,
# ctr, runc and busybox-static.
#
#   ctd_start SHIM_PATH   start a private containerd using SHIM_PATH as v1 shim
#   ctd_stop              stop everything ctd_start started (idempotent)
#   rootfs_make DIR       busybox rootfs in DIR
#   ctr_ ARGS...          ctr against the private containerd, namespace $NS,
#                         bounded by $CTR_TIMEOUT seconds
#   ctr_run ARGS...       ctr_ run --runtime io.containerd.runtime.v1.linux
#                         --fifo-dir $CTD_DIR/fifo ARGS...
#   ctr_exec ARGS...      ctr_ task exec --fifo-dir $CTD_DIR/fifo ARGS...
#   ctd_restart           restart only containerd (shims keep running)
#   ctr_tty ARGS...       ctr_ with a 31x101 terminal (script(1)); output in $TMP/tty.out
#   ok/fail/check_*       assertions; summary prints "N passed, M failed"
#
# Isolation: everything lives in one mktemp dir (/tmp/cshim-e2e.XXXXXX):
# containerd root/state, its gRPC/ttrpc/debug sockets, the runc root
# (plugin runtime_root, given to the shim as -runtime-root), ctr's FIFOs.
# The only things outside it are the shim sockets, whose directory
# /run/containerd/s is hard-coded in containerd, and the container cgroups
# (/sys/fs/cgroup/*/$NS/ID).  Use container ids ending in -$CTD_TAG (unique
# per run) so that concurrent runs never share a cgroup or a runc id.
# ctd_stop only ever kills the recorded containerd pid and processes whose
# command line contains this run's unique directory.

NS=${NS:-cshim-e2e}
CTR_TIMEOUT=${CTR_TIMEOUT:-60}
CTD_RUNTIME=${CTD_RUNTIME:-runc}
V1_RUNTIME=io.containerd.runtime.v1.linux
SHIM_SOCK_DIR=/run/containerd/s
export NS CTR_TIMEOUT CTD_RUNTIME V1_RUNTIME

CTD_DIR=${CTD_DIR:-}
CTD_PID=${CTD_PID:-}
E2E_PASS=0
E2E_FAIL=0
E2E_FAILED_NAMES=()

log() { printf '%s\n' "$*" >&2; }

# ---------------------------------------------------------------- assertions

ok() {
	E2E_PASS=$((E2E_PASS + 1))
	printf 'ok   - %s\n' "$1"
}

# fail NAME [DETAIL...]
fail() {
	local name=$1
	shift
	E2E_FAIL=$((E2E_FAIL + 1))
	E2E_FAILED_NAMES+=("$name")
	printf 'FAIL - %s\n' "$name"
	local line
	for line in "$@"; do
		printf '       %s\n' "$line"
	done
}

# check NAME CMD... : passes if CMD succeeds
check() {
	local name=$1
	shift
	if "$@"; then ok "$name"; else fail "$name" "command failed: $*"; fi
}

# check_eq NAME EXPECTED ACTUAL
check_eq() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		fail "$1" "expected: $(printf '%q' "$2")" "actual:   $(printf '%q' "$3")"
	fi
}

# check_contains NAME HAYSTACK NEEDLE
check_contains() {
	case $2 in
	*"$3"*) ok "$1" ;;
	*) fail "$1" "expected to contain: $(printf '%q' "$3")" \
		"actual: $(printf '%q' "$(printf '%s' "$2" | head -c 600)")" ;;
	esac
}

# check_match NAME HAYSTACK ERE
check_match() {
	if printf '%s' "$2" | grep -Eq -- "$3"; then
		ok "$1"
	else
		fail "$1" "expected to match /$3/" \
			"actual: $(printf '%q' "$(printf '%s' "$2" | head -c 600)")"
	fi
}

# summary: prints "N passed, M failed" alone on a line; returns 1 on failure.
summary() {
	local n
	if [ "$E2E_FAIL" -ne 0 ]; then
		printf 'failed checks:\n'
		for n in "${E2E_FAILED_NAMES[@]}"; do
			printf '  - %s\n' "$n"
		done
	fi
	printf '%d passed, %d failed\n' "$E2E_PASS" "$E2E_FAIL"
	[ "$E2E_FAIL" -eq 0 ]
}

# ------------------------------------------------------------------ helpers

# wait_until SECONDS CMD... : poll CMD every 0.1 s, bounded.
wait_until() {
	local deadline=$((SECONDS + $1))
	shift
	while :; do
		"$@" && return 0
		[ "$SECONDS" -ge "$deadline" ] && return 1
		sleep 0.1
	done
}

# ctr_ ARGS...: ctr on this run's containerd, bounded by $CTR_TIMEOUT.  Calls
# that hit the bound are appended to $CTD_DIR/ctr-timeouts (see ctr_timeouts).
ctr_() {
	local t0=$SECONDS rc
	timeout -k 5 "$CTR_TIMEOUT" ctr --address "$CTD_ADDR" -n "$NS" "$@"
	rc=$?
	if [ $((SECONDS - t0)) -ge "$CTR_TIMEOUT" ]; then
		log "ctr_: timed out after ${CTR_TIMEOUT}s: ctr $*"
		[ -d "${CTD_DIR:-}" ] && printf 'ctr %s\n' "$*" >>"$CTD_DIR/ctr-timeouts"
	fi
	return "$rc"
}

# ctr_timeouts: number of ctr_ calls so far that hit $CTR_TIMEOUT.
ctr_timeouts() {
	if [ -f "${CTD_DIR:-}/ctr-timeouts" ]; then
		wc -l <"$CTD_DIR/ctr-timeouts"
	else
		echo 0
	fi
}

# ctr_run ARGS... / ctr_exec ARGS...: `ctr run` with the v1 runtime and
# `ctr task exec`, with their FIFOs in $CTD_DIR/fifo (ctr's default is
# /run/containerd/fifo, and ctr never removes the FIFOs of -d processes).
ctr_run() {
	ctr_ run --runtime "$V1_RUNTIME" --fifo-dir "$CTD_DIR/fifo" "$@"
}

ctr_exec() {
	ctr_ task exec --fifo-dir "$CTD_DIR/fifo" "$@"
}

# ctr_tty ARGS...: ctr_ with a terminal on its stdin (ctr -t requires one),
# provided by script(1), sized 31x101.  Output (with \r and NULs removed) in $TMP/tty.out
# ($TMP: the caller's scratch dir).
# script(1) runs the command with $SHELL, so the shell is pinned (CI may have no
# SHELL at all: then script uses /bin/sh).  timeout(1) must stay in the
# terminal's foreground process group (--foreground): in a group of its own,
# ctr's switch to raw mode stops it with SIGTTOU until the timeout kills it.
ctr_tty() {
	local cmd a t0=$SECONDS
	cmd="stty cols 101 rows 31; exec timeout --foreground -k 5 $CTR_TIMEOUT ctr --address $(printf '%q' "$CTD_ADDR") -n $(printf '%q' "$NS")"
	for a in "$@"; do cmd+=" $(printf '%q' "$a")"; done
	SHELL=/bin/sh script -qec "$cmd" /dev/null </dev/null >"$TMP/tty.raw" 2>&1
	local rc=$?
	tr -d '\r\0' <"$TMP/tty.raw" >"$TMP/tty.out"
	if [ $((SECONDS - t0)) -ge "$CTR_TIMEOUT" ]; then
		log "ctr_tty: timed out after ${CTR_TIMEOUT}s: ctr $*"
		printf 'ctr -t %s\n' "$*" >>"$CTD_DIR/ctr-timeouts"
	fi
	return "$rc"
}

# shim_sock_path ID [NS]: the socket containerd creates for the shim of ID:
# /run/containerd/s/sha256(grpc-address/ns/id).
shim_sock_path() {
	local h
	h=$(printf '%s/%s/%s' "$CTD_ADDR" "${2:-$NS}" "$1" | sha256sum)
	printf '%s/%s\n' "$SHIM_SOCK_DIR" "${h%% *}"
}

# pids_matching STRING [-x]: pids whose command line has an argument
# containing STRING (with -x: an argument equal to STRING), except this
# shell.  One grep over /proc; the pattern goes through a file so that grep's
# own command line does not match.
pids_matching() {
	local mode=
	[ "${2:-}" = -x ] && mode=x
	grep -lzF$mode -f <(printf '%s\n' "$1") /proc/[0-9]*/cmdline 2>/dev/null |
		sed -n 's|^/proc/\([0-9]*\)/cmdline$|\1|p' |
		grep -vxF -e "$$" -e "${BASHPID:-$$}"
}

# unix_listen_paths PID: the paths of the listening unix sockets PID holds
# (its fds' socket inodes, looked up in /proc/net/unix: flag __SO_ACCEPTCON).
unix_listen_paths() {
	local inodes
	inodes=$(find "/proc/$1/fd" -lname 'socket:*' -printf '%l\n' 2>/dev/null |
		sed -n 's/^socket:\[\([0-9]*\)\]$/\1/p')
	[ -n "$inodes" ] || return 0
	awk -v list="$inodes" '
		BEGIN { n = split(list, a, "\n"); for (i = 1; i <= n; i++) want[a[i]] = 1 }
		NR > 1 && $4 == "00010000" && ($7 in want) && $8 != "" { print $8 }' /proc/net/unix
}

# mounts_under DIR: mount points at or below DIR, deepest first.
mounts_under() {
	local dir=$1
	# field 5 of mountinfo is the mount point, with octal escapes.
	awk '{print $5}' /proc/self/mountinfo 2>/dev/null |
		while IFS= read -r m; do
			m=$(printf '%b' "$m")
			case $m in
			"$dir" | "$dir"/*) printf '%s\n' "$m" ;;
			esac
		done | sort -r
}

# ------------------------------------------------------------------ rootfs

# rootfs_make DIR: static busybox + applet symlinks + the usual dirs.
rootfs_make() {
	local dir=$1 bb=/bin/busybox a
	[ -x "$bb" ] || { log "rootfs_make: $bb missing (install busybox-static)"; return 1; }
	mkdir -p "$dir"/bin "$dir"/sbin "$dir"/usr/bin "$dir"/usr/sbin \
		"$dir"/proc "$dir"/sys "$dir"/dev "$dir"/tmp "$dir"/etc "$dir"/root || return 1
	chmod 1777 "$dir/tmp"
	cp "$bb" "$dir/bin/busybox" || return 1
	for a in $("$bb" --list); do
		[ -e "$dir/bin/$a" ] || ln -s busybox "$dir/bin/$a"
	done
	[ -e "$dir/bin/sh" ] || ln -s busybox "$dir/bin/sh"
	printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$dir/etc/passwd"
	printf 'root:x:0:\nnogroup:x:65534:\n' >"$dir/etc/group"
	printf 'cshim-e2e\n' >"$dir/etc/hostname"
}

# --------------------------------------------------------------- containerd

# _ctd_dirs TEMPLATE SHIM: the run's dir (from the mktemp TEMPLATE) and the CTD_* variables,
# exported, with its fifo and runc dirs.
_ctd_dirs() {
	CTD_DIR=$(mktemp -d "$1") || return 1
	chmod 0711 "$CTD_DIR"
	CTD_ADDR=$CTD_DIR/containerd.sock
	CTD_CONFIG=$CTD_DIR/config.toml
	CTD_LOG=$CTD_DIR/containerd.log
	CTD_RUNC_ROOT=$CTD_DIR/runc
	CTD_SHIM=$2
	# unique, id-safe tag for container ids of this run
	CTD_TAG=$(printf '%s' "${CTD_DIR##*.}" | tr -c 'A-Za-z0-9' 'x')
	export CTD_DIR CTD_ADDR CTD_CONFIG CTD_LOG CTD_RUNC_ROOT CTD_SHIM CTD_TAG
	mkdir -p "$CTD_DIR/fifo" "$CTD_RUNC_ROOT"
}

# _ctd_config SHIM cri|no-cri: writes $CTD_CONFIG, the run's own root, state, sockets and
# debug log, SHIM as the v1 runtime's shim; the CRI plugin off unless "cri" (its section is
# then the caller's to append).
_ctd_config() {
	local cri_off='  "io.containerd.grpc.v1.cri",'
	[ "$2" = cri ] && cri_off=
	cat >"$CTD_CONFIG" <<EOF
version = 2
root = "$CTD_DIR/root"
state = "$CTD_DIR/state"
oom_score = 0
disabled_plugins = [${cri_off:+
$cri_off}
  "io.containerd.internal.v1.opt",
  "io.containerd.internal.v1.tracing",
  "io.containerd.tracing.processor.v1.otlp",
  "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs",
]

[grpc]
  address = "$CTD_ADDR"

[ttrpc]
  address = "$CTD_ADDR.ttrpc"

[debug]
  address = "$CTD_DIR/debug.sock"
  level = "debug"

[metrics]
  address = ""

[plugins]
  [plugins."io.containerd.runtime.v1.linux"]
    shim = "$1"
    runtime = "$CTD_RUNTIME"
    runtime_root = "$CTD_RUNC_ROOT"
    shim_debug = true
EOF
}

ctd_start() {
	local shim=$1
	if [ -z "$shim" ] || [ ! -x "$shim" ]; then
		log "ctd_start: shim '$shim' is not an executable file"
		return 1
	fi
	case $shim in /*) ;; *) shim=$(cd "$(dirname "$shim")" && pwd)/$(basename "$shim") ;; esac
	local bin
	for bin in containerd ctr "$CTD_RUNTIME" timeout sha256sum; do
		command -v "$bin" >/dev/null 2>&1 || { log "ctd_start: $bin not found"; return 1; }
	done
	if [ "$(id -u)" -ne 0 ]; then
		log "ctd_start: must run as root"
		return 1
	fi

	_ctd_dirs /tmp/cshim-e2e.XXXXXX "$shim" || return 1
	_ctd_config "$shim" no-cri
	_ctd_launch
}

# _ctd_launch: start containerd on $CTD_CONFIG, wait until it answers.
_ctd_launch() {
	containerd --config "$CTD_CONFIG" </dev/null >>"$CTD_LOG" 2>&1 &
	CTD_PID=$!
	export CTD_PID
	printf '%s\n' "$CTD_PID" >"$CTD_DIR/containerd.pid"

	local deadline=$((SECONDS + ${CTD_START_TIMEOUT:-20}))
	while :; do
		if ! kill -0 "$CTD_PID" 2>/dev/null; then
			log "ctd_start: containerd exited; log tail:"
			tail -n 20 "$CTD_LOG" >&2
			return 1
		fi
		if [ -S "$CTD_ADDR" ] &&
			timeout -k 2 5 ctr --address "$CTD_ADDR" version >/dev/null 2>&1; then
			return 0
		fi
		if [ "$SECONDS" -ge "$deadline" ]; then
			log "ctd_start: containerd not ready after ${CTD_START_TIMEOUT:-20}s; log tail:"
			tail -n 20 "$CTD_LOG" >&2
			return 1
		fi
		sleep 0.1
	done
}

# _ctd_kill_daemon: SIGTERM the recorded containerd, SIGKILL after 10 s.
_ctd_kill_daemon() {
	local i
	if _ctd_alive; then
		kill -TERM "$CTD_PID" 2>/dev/null
		for i in $(seq 1 100); do
			_ctd_alive || break
			sleep 0.1
		done
		if _ctd_alive; then
			log "ctd_stop: containerd $CTD_PID ignored SIGTERM, killing"
			kill -KILL "$CTD_PID" 2>/dev/null
		fi
	fi
	[ -n "$CTD_PID" ] && wait "$CTD_PID" 2>/dev/null
	CTD_PID=
}

# ctd_restart: stop containerd only (shims and containers keep running, as
# with a real daemon restart) and start it again on the same root/state.
ctd_restart() {
	[ -n "$CTD_DIR" ] || return 1
	_ctd_kill_daemon
	_ctd_launch
}

# _ctd_alive: the recorded containerd is still running.
_ctd_alive() {
	[ -n "$CTD_PID" ] && kill -0 "$CTD_PID" 2>/dev/null
}

# _ctd_clean_tasks: kill/delete every task and container of $NS through ctr.
_ctd_clean_tasks() {
	local t c i left
	local CTR_TIMEOUT=10
	for t in $(ctr_ task ls -q 2>/dev/null); do
		ctr_ task kill -a -s SIGKILL "$t" >/dev/null 2>&1
	done
	for t in $(ctr_ task ls -q 2>/dev/null); do
		for i in 1 2 3 4 5 6 7 8 9 10; do
			ctr_ task delete "$t" >/dev/null 2>&1
			ctr_ task ls -q 2>/dev/null | grep -qxF -- "$t" || break
			[ "$i" -ge 5 ] && ctr_ task delete -f "$t" >/dev/null 2>&1
			sleep 0.2
		done
	done
	for c in $(ctr_ container ls -q 2>/dev/null); do
		ctr_ container delete "$c" >/dev/null 2>&1
	done
	left=$(ctr_ task ls -q 2>/dev/null)
	[ -z "$left" ] || log "ctd_stop: tasks left: $left"
}

# ctd_stop: stop everything of this run.  Safe to call repeatedly / from traps.
ctd_stop() {
	[ -n "$CTD_DIR" ] || return 0
	case $CTD_DIR in /tmp/cshim-e2e.*) ;; *)
		log "ctd_stop: refusing to clean unexpected dir '$CTD_DIR'"
		return 1
		;;
	esac
	local p i m d ns id addr socks

	# 1. tasks and containers, through containerd while it is up
	if _ctd_alive; then
		_ctd_clean_tasks
	fi

	# 2. containerd itself, by recorded pid only
	_ctd_kill_daemon

	# 3. leftover processes of this run (shims, containerd publish, ...).
	#    Their command lines contain the unique $CTD_DIR. A v2 shim's socket
	#    outlives it: the ones it listens on in $SHIM_SOCK_DIR go too.
	for p in $(pids_matching "$CTD_DIR"); do
		log "ctd_stop: killing leftover pid $p: $(tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline")"
		socks=$(unix_listen_paths "$p")
		kill -KILL "$p" 2>/dev/null
		for d in $socks; do
			case $d in "$SHIM_SOCK_DIR"/*) rm -f "$d" ;; esac
		done
	done

	# 4. leftover runc containers in this run's runc root
	if [ -d "$CTD_RUNC_ROOT" ]; then
		for d in "$CTD_RUNC_ROOT"/*/*; do
			[ -d "$d" ] || continue
			id=${d##*/}
			ns=${d%/*}
			log "ctd_stop: runc delete --force $id (root $ns)"
			timeout -k 2 10 "$CTD_RUNTIME" --root "$ns" delete --force "$id" >/dev/null 2>&1
		done
	fi

	# 5. shim sockets of bundles that containerd did not remove (v1 shims', and the
	#    sockets of v2 shims killed in step 3)
	for d in "$CTD_DIR"/state/"$V1_RUNTIME"/*/* \
		"$CTD_DIR"/state/io.containerd.runtime.v2.task/*/*; do
		[ -f "$d/address" ] || continue
		addr=$(cat "$d/address" 2>/dev/null)
		addr=${addr#unix://}
		case $addr in "$SHIM_SOCK_DIR"/*) rm -f "$addr" ;; esac
	done

	# 6. mounts below the temp dir, deepest first
	for i in 1 2 3; do
		m=$(mounts_under "$CTD_DIR")
		[ -z "$m" ] && break
		while IFS= read -r d; do
			umount "$d" 2>/dev/null || umount -l "$d" 2>/dev/null
		done <<<"$m"
	done

	# 7. empty cgroups of this run's containers (ids ending in -$CTD_TAG,
	#    unique to this run); rmdir never removes a cgroup in use.
	if [ -n "${CTD_TAG:-}" ]; then
		for d in /sys/fs/cgroup/*/"$NS"/*-"$CTD_TAG" /sys/fs/cgroup/"$NS"/*-"$CTD_TAG"; do
			[ -d "$d" ] && rmdir "$d" 2>/dev/null
		done
	fi

	#    containerd's dead-shim cleanup runs `runc --root
	#    /run/containerd/runc/NS delete` (it ignores the plugin's
	#    runtime_root), and runc creates that dir: remove it if empty.
	rmdir "/run/containerd/runc/$NS" 2>/dev/null

	# 8. the directory itself (never across a mount that would not go away)
	if [ -z "$(mounts_under "$CTD_DIR")" ]; then
		rm -rf --one-file-system "$CTD_DIR"
	else
		log "ctd_stop: mounts remain under $CTD_DIR, not removing it"
	fi
	CTD_DIR=
}
