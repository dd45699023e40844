#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# OCI runtime wrapper for tests/integration/test_abuse.c (passed as CreateTaskRequest.runtime).
# Records what this process inherited from the shim, then becomes runc:
#   BUNDLE/probe.<subcommand>.<pid>   (BUNDLE = directory of the --log argument)
#     SIG SigBlk:<hex> SigIgn:<hex>
#     ARGV <args>
#     FD <n> <octal fdinfo flags> <readlink target>      (one line per open fd)
#
# Only the shell's own bookkeeping may differ from what runc would see, and the test accounts
# for it: dash (/bin/sh on Debian) reads this script through an fd it opens itself at 10 or
# above with O_CLOEXEC (so runc never gets it). The test accepts exactly one extra fd whose
# target is this script and whose flags contain O_CLOEXEC (02000000); any other fd >= 3 is an
# fd the shim leaked.
#
# How the listing stays free of our own fds: the signal lines are read with the `read`
# builtin (no child, and no blocked signals while the shell runs), the fd directory is
# globbed in this shell (the glob's directory fd is closed again right away and dropped by
# the `[ -e ]` re-check, which opens nothing), and the details are collected by a subshell
# about this shell's pid, so the subshell's own pipes and redirections are not in the list.
p=$$
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

log=
sub=
prev=
for a in "$@"; do
	if [ -n "$prev" ]; then
		[ "$prev" = --log ] && log=$a
		prev=
		continue
	fi
	case $a in
	--root | --log | --log-format | --criu) prev=$a ;;
	-*) ;;
	*) [ -z "$sub" ] && sub=$a ;;
	esac
done
dir=${log%/*}
[ -n "$log" ] && [ -d "$dir" ] || dir=.
rec="$dir/probe.${sub:-none}.$p"
(
	echo "SIG$sig"
	echo "ARGV $*"
	for n in $fds; do
		fl=$(sed -n 's/^flags:[[:space:]]*//p' /proc/$p/fdinfo/$n 2>/dev/null)
		echo "FD $n ${fl:-?} $(readlink /proc/$p/fd/$n 2>/dev/null)"
	done
) >"$rec.tmp" 2>&1
mv -f "$rec.tmp" "$rec"
exec runc "$@"
