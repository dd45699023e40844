#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# make test-ctdsuite: containerd 1.6's own client integration suite (integration/client of
# containerd v1.6.20, Debian's containerd version) against a private containerd whose v1 runtime
# (io.containerd.runtime.v1.linux) uses the shim under test.
#
#   tests/ctdsuite/run.sh SHIM            one run: a PASS/FAIL/SKIP line per test, then totals
#   tests/ctdsuite/run.sh compare [A [B]] runs A (default /usr/bin/containerd-shim) then B
#                                         (default build/bin/cshim); prints the tests whose
#                                         result differs; each test that passes with A
#                                         only is rerun alone with B ($RERUNS, 3 times):
#                                         exit 1 if it never passes
#
# Build (offline, cached in build/ctdsuite/): the suite's sources come from $CTDSUITE_SRC (a
# containerd source tree) or the git mirror at $CTDSUITE_GIT (tag v1.6.20); the test binary is
# built with Debian's Go in GOPATH mode against Debian's golang-*-dev packages under
# /usr/share/gocode (GO111MODULE=off), two small edits made to the copy: the daemon's fixed
# root/state paths are renamed to ours, and image_override_test.go lets $CTDSUITE_IMAGE replace
# the seed image. The image (busybox-static) is served by tests/ctdsuite/registry on 127.0.0.1.
#
# Env: CTDSUITE_RUN (go test -run regexp), CTDSUITE_SKIP (tests to skip, regexp; default: those
# that need the internet or images the local registry does not have), CTDSUITE_TIMEOUT (10m),
# KEEP=1 (keep the temp dir).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT=$PWD
B=$ROOT/build/ctdsuite
TAG=v1.6.20
CTDSUITE_GIT=${CTDSUITE_GIT:-/work/.mirror/containerd+containerd/repo}
CTD_ROOT=/var/lib/cshim-ctdsuite
CTD_STATE=/run/cshim-ctdsuite
# Tests that cannot run offline: other registries' images, multi-platform indexes, schema 1;
# TestBindLowPortNonOpt hangs: busybox-static's nc, pid 1, ignores the SIGTERM it waits on.
DEFAULT_SKIP='^(TestImagePullSchema1|TestImagePullSchema1WithEmptyLayers|TestImagePullAllPlatforms|TestImagePullSomePlatforms|TestImagePullWithDistSourceLabel|TestImageIsUnpacked|TestImageUsage|TestImageSupportedBySnapshotter_Error|TestLeaseResources|TestExportAndImport|TestExportAndImportMultiLayer|TestUserNamespaces|TestBindLowPortNonOpt)$'
SKIP=${CTDSUITE_SKIP-$DEFAULT_SKIP}

die() {
	echo "ctdsuite: $*" >&2
	exit 2
}

need_pkgs() {
	local p missing=
	for p in golang-go golang-github-containerd-containerd-dev golang-github-containerd-ttrpc-dev \
		golang-github-gogo-protobuf-dev golang-github-gotestyourself-gotest.tools-dev busybox-static criu; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	[ "$(id -u)" = 0 ] || die "missing Debian packages:$missing (install them as root)"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing >/dev/null || die "apt-get failed"
}

# build: build/ctdsuite/client.test and build/ctdsuite/registry (rebuilt when a source changed)
build() {
	need_pkgs
	local gp=$B/gopath pkg=$B/gopath/src/ctdsuite/client
	mkdir -p "$B"
	if [ ! -f "$pkg/client_test.go" ]; then
		rm -rf "$pkg" && mkdir -p "$pkg"
		if [ -n "${CTDSUITE_SRC:-}" ]; then
			cp "$CTDSUITE_SRC"/integration/client/*.go "$pkg"/ || die "no integration/client in $CTDSUITE_SRC"
		else
			[ -d "$CTDSUITE_GIT" ] || die "no containerd sources: set CTDSUITE_SRC or CTDSUITE_GIT" \
				"(Debian's golang-github-containerd-containerd-dev lacks integration/client)"
			git --git-dir="$CTDSUITE_GIT" archive "$TAG" integration/client |
				tar -x -C "$pkg" --strip-components=2 || die "git archive $TAG failed"
		fi
		sed -i -e "s|\"/var/lib/containerd-test\"|\"$CTD_ROOT\"|" \
			-e "s|\"/run/containerd-test\"|\"$CTD_STATE\"|" \
			-e "s|\"/run/containerd-test/containerd.sock\"|\"$CTD_STATE/containerd.sock\"|" \
			"$pkg/client_unix_test.go"
	fi
	cmp -s tests/ctdsuite/image_override_test.go "$pkg/image_override_test.go" ||
		cp tests/ctdsuite/image_override_test.go "$pkg/"
	local env=(env GO111MODULE=off GOPATH="$gp:/usr/share/gocode" GOCACHE="$B/gocache" GOFLAGS=)
	if [ ! -x "$B/client.test" ] || [ -n "$(find "$pkg" -newer "$B/client.test" -name '*.go')" ]; then
		echo "ctdsuite: building the suite (about a minute)" >&2
		(cd "$B" && "${env[@]}" go test -c -o "$B/client.test" ctdsuite/client) || die "suite build failed"
	fi
	if [ ! -x "$B/registry" ] || [ tests/ctdsuite/registry/main.go -nt "$B/registry" ]; then
		"${env[@]}" go build -o "$B/registry" ./tests/ctdsuite/registry || die "registry build failed"
	fi
}

TMP=
REG_PID=
SUITE_PID=
cleanup() {
	local p
	[ -n "$SUITE_PID" ] && kill -KILL "$SUITE_PID" 2>/dev/null
	[ -n "$REG_PID" ] && kill "$REG_PID" 2>/dev/null && wait "$REG_PID" 2>/dev/null
	if [ -n "$TMP" ]; then
		# our containerd (its pid written by the wrapper), then shims and containers under our dirs
		if [ -s "$TMP/containerd.pid" ]; then
			p=$(cat "$TMP/containerd.pid")
			[ "$(readlink "/proc/$p/exe" 2>/dev/null)" = /usr/bin/containerd ] && kill -KILL "$p" 2>/dev/null
		fi
		for p in /proc/[0-9]*; do
			grep -qsF "$CTD_STATE/containerd.sock" "$p/cmdline" && kill -KILL "${p#/proc/}" 2>/dev/null
		done
		if [ -d "$TMP/runc" ]; then
			local ns id
			for ns in "$TMP"/runc/*/; do
				[ -d "$ns" ] || continue
				for id in $(runc --root "$ns" list -q 2>/dev/null); do
					runc --root "$ns" delete -f "$id" >/dev/null 2>&1
				done
			done
		fi
	fi
	# mounts left under our dirs, deepest first
	awk -v a="$CTD_ROOT" -v b="$CTD_STATE" -v c="${TMP:-/nonexistent}" \
		'index($5, a) == 1 || index($5, b) == 1 || index($5, c) == 1 { print $5 }' \
		/proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
	rm -rf "$CTD_ROOT" "$CTD_STATE"
	[ -n "$TMP" ] && [ -z "${KEEP:-}" ] && rm -rf "$TMP"
	[ -n "$TMP" ] && [ -n "${KEEP:-}" ] && echo "ctdsuite: kept $TMP" >&2
	TMP=
}

# run_one SHIM OUT: the suite against SHIM; "RESULT Test" lines in OUT, the log in OUT.log
run_one() {
	local shim=$1 out=$2
	[ -x "$shim" ] || die "no shim at $shim"
	shim=$(readlink -f "$shim")
	TMP=$(mktemp -d /tmp/cshim-ctdsuite.XXXXXX)
	trap cleanup EXIT
	trap 'exit 130' INT TERM
	mkdir -p "$TMP/bin" "$TMP/runc"
	cat >"$TMP/config.toml" <<-TOML
		version = 2
		oom_score = 0
		disabled_plugins = [
		  "io.containerd.grpc.v1.cri",
		  "io.containerd.internal.v1.opt",
		  "io.containerd.internal.v1.tracing",
		  "io.containerd.tracing.processor.v1.otlp",
		  "io.containerd.snapshotter.v1.aufs",
		  "io.containerd.snapshotter.v1.btrfs",
		  "io.containerd.snapshotter.v1.devmapper",
		  "io.containerd.snapshotter.v1.zfs",
		]
		[debug]
		  address = "$CTD_STATE/debug.sock"
		[plugins."io.containerd.runtime.v1.linux"]
		  shim = "$shim"
		  runtime = "runc"
		  runtime_root = "$TMP/runc"
		  shim_debug = true
	TOML
	# The suite starts "containerd" from PATH with its own --config (shim_debug only): this
	# wrapper swaps in ours and records the daemon's pid for the cleanup.
	cat >"$TMP/bin/containerd" <<-SH
		#!/bin/sh
		echo \$\$ >"$TMP/containerd.pid"
		n=\$#; i=0
		while [ \$i -lt \$n ]; do
		  a=\$1; shift; i=\$((i + 1))
		  if [ "\$a" = --config ] && grep -qs shim_debug "\$1"; then
		    set -- "\$@" --config "$TMP/config.toml"; shift; i=\$((i + 1))
		  else
		    set -- "\$@" "\$a"
		  fi
		done
		exec /usr/bin/containerd "\$@"
	SH
	chmod +x "$TMP/bin/containerd"
	"$B/registry" -port-file "$TMP/port" >"$TMP/registry.log" 2>&1 &
	REG_PID=$!
	local i
	for i in $(seq 1 100); do
		[ -s "$TMP/port" ] && break
		sleep 0.1
	done
	[ -s "$TMP/port" ] || die "registry did not start: $(cat "$TMP/registry.log")"
	local img="localhost:$(cat "$TMP/port")/containerd/busybox:1.32"
	local args=(-test.v -test.root -test.timeout "${CTDSUITE_TIMEOUT:-10m}")
	# Go 1.19 has no -test.skip: run the listed tests that SKIP does not match
	local names
	names=$("$B/client.test" -test.short -test.list "${CTDSUITE_RUN:-.}" | grep '^Test' |
		{ if [ -n "$SKIP" ]; then grep -Ev "$SKIP"; else cat; fi } | paste -sd'|')
	[ -n "$names" ] || die "no test selected"
	args+=(-test.run "^($names)\$")
	echo "ctdsuite: $shim (containerd $CTD_STATE/containerd.sock, image $img)" >&2
	(cd "$TMP" && exec env PATH="$TMP/bin:$PATH" TEST_RUNTIME=io.containerd.runtime.v1.linux \
		CTDSUITE_IMAGE="$img" "$B/client.test" "${args[@]}") >"$out.log" 2>&1 &
	SUITE_PID=$!
	wait "$SUITE_PID"
	local rc=$?
	SUITE_PID=
	# top-level results only (subtests are indented)
	sed -n 's/^--- \(PASS\|FAIL\|SKIP\): \([^ ]*\) .*/\1 \2/p' "$out.log" >"$out"
	if [ -n "$SKIP" ]; then
		"$B/client.test" -test.short -test.list "${CTDSUITE_RUN:-.}" | grep '^Test' |
			grep -E "$SKIP" | sed 's/^/SKIP-OFFLINE /' >>"$out"
	fi
	cleanup
	trap - EXIT
	return $rc
}

summary() {
	printf '%-40s pass %3d  fail %3d  skip %3d  skipped-offline %3d\n' "$1" \
		"$(grep -c '^PASS ' "$2")" "$(grep -c '^FAIL ' "$2")" "$(grep -c '^SKIP ' "$2")" \
		"$(grep -c '^SKIP-OFFLINE ' "$2")"
}

[ $# -ge 1 ] || die "usage: $0 SHIM | compare [SHIM_A [SHIM_B]]"
[ "$(id -u)" = 0 ] || die "needs root (containerd, runc)"
build
mkdir -p "$B/results"
exec 9>"$B/lock"
flock -n 9 || die "another ctdsuite run holds $B/lock"

if [ "$1" != compare ]; then
	out=$B/results/$(basename "$1").txt
	run_one "$1" "$out"
	rc=$?
	cat "$out"
	summary "$1" "$out"
	[ $rc = 0 ] || echo "ctdsuite: suite exited $rc; log: $out.log" >&2
	exit $rc
fi

A=${2:-/usr/bin/containerd-shim}
C=${3:-build/bin/cshim}
ra=$B/results/a-$(basename "$A").txt
rc=$B/results/b-$(basename "$C").txt
run_one "$A" "$ra"
run_one "$C" "$rc"
summary "$A" "$ra"
summary "$C" "$rc"
echo "tests whose result differs ($(basename "$A") -> $(basename "$C")):"
diffs=$(join -a1 -a2 -e MISSING -o 0,1.1,2.1 -1 2 -2 2 <(sort -k2 "$ra") <(sort -k2 "$rc") |
	awk '$2 != $3')
[ -n "$diffs" ] && printf '%s\n' "$diffs" | awk '{ print "  " $1 ": " $2 " -> " $3 }'
# A test that passed with A only is run alone with B RERUNS more times: "consistent" if it
# never passes (exit 1), else "intermittent" with the count (reported, exit 0).
bad=0
for t in $(printf '%s\n' "$diffs" | awk '$2 == "PASS" { print $1 }'); do
	n=0
	for i in $(seq 1 "${RERUNS:-3}"); do
		CTDSUITE_RUN="^$t\$" run_one "$C" "$B/results/rerun.txt"
		grep -q "^PASS $t\$" "$B/results/rerun.txt" && n=$((n + 1))
	done
	if [ $n = 0 ]; then
		echo "  $t: fails with $(basename "$C") in ${RERUNS:-3} of ${RERUNS:-3} reruns alone: consistent"
		bad=1
	else
		echo "  $t: passes with $(basename "$C") in $n of ${RERUNS:-3} reruns alone: intermittent"
	fi
done
exit $bad
