#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# make bench-indep: the State and ShimInfo comparisons of `make bench`, repeated with an
# independent client: bench/goclient, built on containerd's own Go ttrpc client and generated
# shim API (Debian's golang-* -dev packages, installed when missing, as root; offline). The Go
# shim and cshim run side by side (each started by `cshim-bench launch` as containerd starts
# it), interleaved per round; shim CPU per request from /proc/PID/stat. Prints a table and
# writes $OUT/indep.txt.
#
# Env: GOSHIM, CSHIM, BENCH (cshim-bench), ROUNDS (3), DURATION (3s), CONNS ("1 64"), OUT.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

GOSHIM=${GOSHIM:-/usr/bin/containerd-shim}
CSHIM=${CSHIM:-build/bin/cshim}
BENCH=${BENCH:-build/bin/cshim-bench}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-3s}
CONNS=${CONNS:-"1 64"}
OUT=${OUT:-bench/results}
CLIENT=build/bin/goclient

pkgs="golang-go golang-github-containerd-containerd-dev golang-github-containerd-ttrpc-dev
golang-github-gogo-protobuf-dev"
missing=
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "bench-indep: missing Debian packages:$missing (install them as root)" >&2
		exit 1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing >/dev/null
fi
mkdir -p build/bin "$OUT"
GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE="$PWD/build/gocache" GOFLAGS= \
	go build -o "$CLIENT" bench/goclient/main.go

tmp=$(mktemp -d /tmp/cshim-indep.XXXXXX)
launchers=()
cleanup() {
	local p
	for p in "${launchers[@]}"; do kill -INT "$p" 2>/dev/null || true; done
	for p in "${launchers[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT

# launch LABEL SHIM: a shim with a running container; its socket, pid and id in $tmp/LABEL.*
launch() {
	"$BENCH" launch "$2" --hold 3600 >"$tmp/$1.launch" 2>&1 </dev/null &
	launchers+=($!)
	local i
	for i in $(seq 1 200); do
		grep -q '^first_answer_ms=' "$tmp/$1.launch" && break
		sleep 0.1
	done
	sed -n 's/^socket=//p' "$tmp/$1.launch" >"$tmp/$1.sock"
	sed -n 's/^shim_pid=//p' "$tmp/$1.launch" >"$tmp/$1.pid"
	sed -n 's/^container=//p' "$tmp/$1.launch" >"$tmp/$1.id"
	if [ ! -s "$tmp/$1.sock" ] || [ ! -s "$tmp/$1.pid" ]; then
		echo "bench-indep: $2 did not start:" >&2
		cat "$tmp/$1.launch" >&2
		exit 1
	fi
}

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# run LABEL METHOD CONNS: one measured window; appends "rps p50 p99 cpu_us_per_req errors"
run() {
	local pid c0 c1 out n
	pid=$(cat "$tmp/$1.pid")
	c0=$(cpu_ticks "$pid")
	out=$("$CLIENT" -socket "$(cat "$tmp/$1.sock")" -id "$(cat "$tmp/$1.id")" -method "$2" \
		-conns "$3" -duration "$DURATION")
	c1=$(cpu_ticks "$pid")
	n=$(printf '%s' "$out" | sed 's/.*"n":\([0-9]*\).*/\1/')
	printf '%s\n' "$out" | awk -v d=$((c1 - c0)) -v n="$n" -v hz="$(getconf CLK_TCK)" '{
		match($0, /"rps":[0-9.e+]*/); rps = substr($0, RSTART + 6, RLENGTH - 6)
		match($0, /"p50_us":[0-9.e+]*/); p50 = substr($0, RSTART + 9, RLENGTH - 9)
		match($0, /"p99_us":[0-9.e+]*/); p99 = substr($0, RSTART + 9, RLENGTH - 9)
		match($0, /"errors":[0-9]*/); e = substr($0, RSTART + 9, RLENGTH - 9)
		printf "%s %s %s %.2f %s\n", rps, p50, p99, (n > 0 ? d * 1e6 / hz / n : 0), e }' \
		>>"$tmp/$1.$2.$3"
}

launch go "$GOSHIM"
launch cshim "$CSHIM"
for r in $(seq 1 "$ROUNDS"); do
	for m in State ShimInfo; do
		for c in $CONNS; do
			if [ $((r % 2)) = 1 ]; then run go $m $c; run cshim $m $c
			else run cshim $m $c; run go $m $c; fi
		done
	done
	printf 'round %d/%d done\n' "$r" "$ROUNDS" >&2
done

# column K of each round for LABEL.METHOD.CONNS -> "median"; ratio per round -> "med [min .. max]"
median() {
	sort -g | awk '{ v[NR] = $1 } END { printf "%.6g\n", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
{
	printf '%-28s %12s %12s  %s\n' "independent client (Go ttrpc)" "go" "cshim" "cshim/go median [min .. max]"
	for m in State ShimInfo; do
		for c in $CONNS; do
			for k in 1:req/s 2:p50_us 3:p99_us 4:shim_cpu_us/req 5:errors; do
				col=${k%%:*}
				name="$m ${c}c ${k#*:}"
				g=$(awk -v k="$col" '{ print $k }' "$tmp/go.$m.$c" | median)
				s=$(awk -v k="$col" '{ print $k }' "$tmp/cshim.$m.$c" | median)
				ratios=$(paste -d' ' "$tmp/go.$m.$c" "$tmp/cshim.$m.$c" |
					awk -v k="$col" '{ g = $k; s = $(k + 5); if (g > 0) print s / g }')
				if [ -n "$ratios" ]; then
					rm_=$(printf '%s\n' "$ratios" | median)
					rlo=$(printf '%s\n' "$ratios" | sort -g | head -1)
					rhi=$(printf '%s\n' "$ratios" | sort -g | tail -1)
					printf '%-28s %12s %12s  %.3g [%.3g .. %.3g]\n' "$name" "$g" "$s" "$rm_" "$rlo" "$rhi"
				else
					printf '%-28s %12s %12s  -\n' "$name" "$g" "$s"
				fi
			done
		done
	done
} | tee "$OUT/indep.txt"
