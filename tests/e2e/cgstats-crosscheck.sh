#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# tests/e2e/cgstats-crosscheck.sh -- run by hand (root): core/cgstats against the real
# containerd-shim-runc-v2 on this host.
#
#   bash tests/e2e/cgstats-crosscheck.sh [BUILD_DIR]     (after make all; BUILD_DIR: build)
#
# Starts a private containerd (tests/e2e/lib.sh), runs an idle busybox container through
# io.containerd.runc.v2 with a memory limit and a CPU quota (it writes and reads 4 MiB with O_DIRECT, for
# blkio entries, then sleeps), then reads its Stats three
# times: cgstats (from the container's runc state.json), `ctr task metrics --format json`
# (the Go shim), cgstats again. Every field the Go shim printed must be printed by cgstats
# and the other way round; a field passes when the Go value lies between the two cgstats
# reads (counters move, limits must be equal). Prints each field that does not, and a
# summary line. Then the bytes: the Any the Go shim returns over ttrpc (type_url and value)
# must equal cgstats' message packed by protobuf-c (read just before or just after).
# Exits 1 on a mismatch.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
BUILD=${1:-$TOP/build}
# shellcheck source=tests/e2e/lib.sh
. "$HERE/lib.sh"

[ -x "$BUILD/bin/cshim" ] && [ -f "$BUILD/libcshim.a" ] || { log "make all first"; exit 2; }
WORK=$(mktemp -d /tmp/cgstats-xc.XXXXXX)
DUMP=$WORK/cgstats_dump
# shellcheck disable=SC2046
cc -O2 -std=gnu17 -D_GNU_SOURCE -pthread -I"$TOP" -I"$BUILD/gen" -o "$DUMP" \
	"$HERE/cgstats_dump.c" "$TOP/tests/integration/shimclient.c" \
	"$BUILD/libcshim.a" $(pkg-config --libs libprotobuf-c jansson) || exit 2

cleanup() {
	ctd_stop
	[ -n "${KEEP:-}" ] && log "kept $WORK" || rm -rf "$WORK"
}
trap cleanup EXIT
ctd_start "$BUILD/bin/cshim" || exit 2
rootfs_make "$WORK/rootfs" || exit 2
ID=cgx-$CTD_TAG
ctr_ run -d --runtime io.containerd.runc.v2 --fifo-dir "$CTD_DIR/fifo" \
	--memory-limit 268435456 --cpus 0.5 \
	--rootfs "$WORK/rootfs" "$ID" /bin/sh -c 'i=0; while [ $i -lt 2000 ]; do i=$((i+1)); done; /bin/dd if=/dev/zero of=/tmp/f bs=64k count=64 oflag=direct 2>/dev/null; /bin/dd if=/tmp/f of=/dev/null bs=64k iflag=direct 2>/dev/null; exec /bin/sleep 1000' \
	|| exit 1
STATE=/run/containerd/runc/$NS/$ID/state.json
wait_until 10 test -f "$STATE" || { log "no $STATE"; exit 1; }
sleep 1 # let the start-up settle: an idle container's counters then stay put

"$DUMP" "$STATE" >"$WORK/c1.json" || exit 1
ctr_ task metrics --format json "$ID" >"$WORK/go.json" || exit 1
"$DUMP" "$STATE" >"$WORK/c2.json" || exit 1
# the same on the wire: the Go shim's Any against cgstats' packed message
ADDR=$(cat "$CTD_DIR/state/io.containerd.runtime.v2.task/$NS/$ID/address") || exit 1
"$DUMP" "$STATE" "${ADDR#unix://}" "$ID"
BYTES=$?
ctr_ task kill -s SIGKILL "$ID" >/dev/null 2>&1

python3 - "$WORK/c1.json" "$WORK/go.json" "$WORK/c2.json" <<'EOF'
import json, sys

def flat(v, path, out):
    if isinstance(v, dict):
        if not v:
            out[path] = "{}"
        for k, x in v.items():
            flat(x, path + "." + k if path else k, out)
    elif isinstance(v, list):
        for i, x in enumerate(v):
            flat(x, "%s[%d]" % (path, i), out)
    else:
        out[path] = v

c1, go, c2 = ({}, {}, {})
for f, d in zip(sys.argv[1:], (c1, go, c2)):
    flat(json.load(open(f)), "", d)
bad = same = moved = 0
for k in sorted(set(c1) | set(go) | set(c2)):
    a, g, b = c1.get(k), go.get(k), c2.get(k)
    if a == g == b:
        same += 1
        continue
    if isinstance(g, int) and isinstance(a, int) and isinstance(b, int) and min(a, b) <= g <= max(a, b):
        moved += 1
        print("moved  %-45s cgstats %s .. %s, go %s" % (k, a, b, g))
        continue
    bad += 1
    print("DIFFER %-45s cgstats %s / %s, go %s" % (k, a, b, g))
print("cgstats-crosscheck: %d fields equal, %d between the two cgstats reads, %d differ"
      % (same, moved, bad))
sys.exit(1 if bad else 0)
EOF
JSON=$?
[ "$JSON" -eq 0 ] && [ "$BYTES" -eq 0 ]
