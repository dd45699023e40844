#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Fake `containerd publish` for tests/integration/test_abuse.c. The test copies it over the
# launch directory's publish.sh (launch.c's fake publisher), so it sits next to events.log.
# It records what it inherited from the shim into DIR/pubprobe.<pid> (same format and the same
# precautions as fdprobe.sh: the one extra fd is dash's O_CLOEXEC fd on this script), then
# appends the event like launch.c's publisher (ARGV line + hex DATA line) to DIR/events.log.
p=$$
dir=${0%/*}
sig=
while read -r k v; do
	case $k in
	SigBlk: | SigIgn:) sig="$sig $k$v" ;;
	esac
done </proc/$p/status
list=
for f in /proc/$p/fd/*; do
	list="$list ${f##*/}"
done
fds=
for n in $list; do
	[ -e /proc/$p/fd/$n ] && fds="$fds $n"
done
(
	echo "SIG$sig"
	echo "ARGV $*"
	for n in $fds; do
		fl=$(sed -n 's/^flags:[[:space:]]*//p' /proc/$p/fdinfo/$n 2>/dev/null)
		echo "FD $n ${fl:-?} $(readlink /proc/$p/fd/$n 2>/dev/null)"
	done
) >"$dir/pubprobe.$p.tmp" 2>&1
mv -f "$dir/pubprobe.$p.tmp" "$dir/pubprobe.$p"
data=$(od -An -v -tx1 | tr -d ' \n')
args=''
for a in "$@"; do args="$args [$a]"; done
printf 'ARGV%s\nDATA %s\n' "$args" "$data" >>"$dir/events.log"
exit 0
