#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# OCI runtime wrapper for tests/integration/test_abuse.c: `create` fails the way runc does
# (an error entry appended to the --log file, a message on stderr, exit status 1); every
# other subcommand is runc.
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
if [ "$sub" = create ]; then
	msg="cshim-it: injected create failure"
	[ -n "$log" ] && printf '{"level":"error","msg":"%s","time":"2024-01-01T00:00:00Z"}\n' "$msg" >>"$log"
	echo "cshim-it: create failed on stderr" >&2
	exit 1
fi
exec runc "$@"
