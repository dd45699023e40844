#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# OCI runtime wrapper for tests/integration/test_abuse.c: `start` hangs (the process becomes
# `sleep 60`, so a SIGKILL from the shim ends it and nothing else holds its pipes); every
# other subcommand is runc.
sub=
prev=
for a in "$@"; do
	if [ -n "$prev" ]; then
		prev=
		continue
	fi
	case $a in
	--root | --log | --log-format | --criu) prev=$a ;;
	-*) ;;
	*) [ -z "$sub" ] && sub=$a ;;
	esac
done
if [ "$sub" = start ]; then
	exec sleep 60
fi
exec runc "$@"
