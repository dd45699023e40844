#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# tests/deps.sh -- make sure the Debian packages cshim needs are installed
# (what `make deps` runs).  Quiet when nothing is missing.  As root on Debian
# the missing ones are installed with apt-get; otherwise the missing list and
# the command to install them are printed and the exit status is 1.

PKGS="build-essential pkg-config containerd runc crun busybox-static
libprotobuf-c-dev protobuf-c-compiler protobuf-compiler liburcu-dev
libjemalloc-dev libjansson-dev nettle-dev libcmocka-dev criu clang libclang-rt-14-dev clang-format
python3-grpcio python3-grpc-tools docker.io"

missing=
for p in $PKGS; do
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)
	[ "$st" = installed ] || missing="$missing $p"
done
missing=${missing# }

[ -z "$missing" ] && exit 0

cmd="apt-get install -y --no-install-recommends $missing"
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
	echo "deps: installing: $missing"
	apt-get update || exit 1
	# shellcheck disable=SC2086 # word splitting of the package list is intended
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing || exit 1
	exit 0
fi

echo "deps: missing Debian packages: $missing" >&2
echo "deps: install them with:  sudo $cmd" >&2
exit 1
