#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The CRI probe for several shims, side by side: for each SHIM a private containerd with CRI
# (tests/cri/lib.sh), tests/cri/probe.py against it, containerd stopped; then one table.
# Figures only: nothing here passes or fails on a time.
#
#   bash tests/cri/probe.sh SHIM... [-- PROBE_ARGS...]
#   e.g. CRI_PROBE_REPEAT=3 bash tests/cri/probe.sh build/bin/cshim /usr/bin/containerd-shim \
#        -- --rounds 3

set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/cri/lib.sh
. "$HERE/lib.sh"

SHIMS=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do
	SHIMS+=("$1")
	shift
done
[ "${1:-}" = -- ] && shift
if [ ${#SHIMS[@]} -eq 0 ]; then
	echo "usage: $0 SHIM... [-- PROBE_ARGS...]" >&2
	exit 2
fi

OUT=$(mktemp -d /tmp/cshim-cri-probe.XXXXXX) || exit 1
trap 'cri_stop; rm -rf "$OUT"' EXIT
trap 'exit 130' INT TERM

# The machine's load drifts: with CRI_PROBE_REPEAT=K the shims take turns K times (a fresh
# containerd each turn) and each column pools its turns' samples.
jsons=()
i=0
for rep in $(seq 1 "${CRI_PROBE_REPEAT:-1}"); do
	for shim in "${SHIMS[@]}"; do
		i=$((i + 1))
		printf '# probe: %s (turn %d)\n' "$shim" "$rep"
		cri_start "$shim" || { echo "probe: containerd with $shim did not start" >&2; exit 1; }
		"$PY" "$HERE/probe.py" --label "$shim" --json "$OUT/$i.json" "$@" >/dev/null || exit 1
		cri_stop
		jsons+=("$OUT/$i.json")
	done
done
"$PY" "$HERE/probe.py" --table "${jsons[@]}"
