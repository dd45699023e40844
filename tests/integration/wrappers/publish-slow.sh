#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Slow fake `containerd publish` for tests/integration/test_storm.c. The test copies it over the
# launch directory's publish.sh (launch.c's fake publisher), so it sits next to events.log.
# It reads the event from stdin at once, notes its hand-over in DIR/spawns.log
# ("SPAWN <pid> <hex>"), sleeps DIR/pub-delay seconds (default 0.5: a containerd that is slow
# to answer), then appends the event like launch.c's publisher (ARGV line + hex DATA line, one
# printf with O_APPEND) to DIR/events.log.
dir=${0%/*}
data=$(od -An -v -tx1 | tr -d ' \n')
printf 'SPAWN %s %s\n' "$$" "$data" >>"$dir/spawns.log"
delay=0.5
[ -r "$dir/pub-delay" ] && read -r delay <"$dir/pub-delay"
sleep "$delay"
args=''
for a in "$@"; do args="$args [$a]"; done
printf 'ARGV%s\nDATA %s\n' "$args" "$data" >>"$dir/events.log"
exit 0
