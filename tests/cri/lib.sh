# shellcheck shell=bash
# SPDX-License-Identifier: Apache-2.0
#
# tests/cri/lib.sh -- a private containerd 1.6 with its CRI plugin, whose runtime handler runs
# the shim under test, as a v1 shim or as a runtime v2 shim. Builds on tests/e2e/lib.sh
# (containerd start/stop by pid, cleanup of processes, runc state, mounts).
#
#   cri_start SHIM [v1|v2]
#                    start containerd (CRI on), import the test images; sets CTD_*, CRI_MODE
#                    and CRI_CGROUP (the pods' cgroup parent, unique to this run).
#                    v1 (default): the handler's runtime_type is the v1 runtime
#                    (io.containerd.runtime.v1.linux) with SHIM as the v1 plugin's `shim`.
#                    v2: runtime_type io.containerd.runc.v2 with runtime_path = SHIM, so the
#                    CRI plugin creates every task with SHIM as the v2 shim binary and sends it
#                    runc's options (containerd.runc.v1.Options: BinaryName, Root).
#   cri_stop         remove every pod through CRI, then ctd_stop; removes this run's cgroups
#
# The CRI plugin of 1.6 always works in containerd namespace k8s.io; that namespace lives in
# this run's own root, state and sockets, so it is private to the run all the same. No CNI:
# pods use the host network; its conf dir points into the run dir. The images come from
# tests/cri/image.py (busybox-static, built offline) through `ctr -n k8s.io images import`.

CRI_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/e2e/lib.sh
. "$CRI_HERE/../e2e/lib.sh"

NS=k8s.io # the CRI plugin's namespace (fixed in containerd 1.6)
PY=${PY:-/usr/bin/python3} # Debian's interpreter: python3-grpcio, python3-grpc-tools
CRI_SANDBOX_IMAGE=cshim.test/pause:cri
PYTHONDONTWRITEBYTECODE=1 # nothing generated lands in the tree
export NS PY PYTHONDONTWRITEBYTECODE

cri_start() {
	local shim=$1 mode=${2:-v1} handler
	case $mode in v1 | v2) ;; *)
		log "cri_start: mode '$mode' is neither v1 nor v2"
		return 1
		;;
	esac
	if [ -z "$shim" ] || [ ! -x "$shim" ]; then
		log "cri_start: shim '$shim' is not an executable file"
		return 1
	fi
	case $shim in /*) ;; *) shim=$(cd "$(dirname "$shim")" && pwd)/$(basename "$shim") ;; esac
	if [ "$(id -u)" -ne 0 ]; then
		log "cri_start: must run as root"
		return 1
	fi
	if ! "$PY" -c 'import grpc, grpc_tools' 2>/dev/null; then
		log "cri_start: $PY lacks grpc/grpc_tools (apt-get install python3-grpcio python3-grpc-tools)"
		return 1
	fi
	# ctd_stop cleans only dirs named /tmp/cshim-e2e.*
	_ctd_dirs /tmp/cshim-e2e.cri.XXXXXX "$shim" || return 1
	CRI_CGROUP=/cshim-cri-$CTD_TAG
	CRI_MODE=$mode
	export CRI_CGROUP CRI_MODE
	mkdir -p "$CTD_DIR/cni/net.d" "$CTD_DIR/cni/bin" "$CTD_DIR/pods"

	# the one runtime handler, the default one (pods name no runtime_handler)
	if [ "$mode" = v1 ]; then
		handler="runtime_type = \"$V1_RUNTIME\""
	else
		# runtime_path: CRI passes it with every task it creates (containerd.WithRuntimePath)
		# and containerd runs it instead of the binary the type names. containerd 1.6.20's
		# client drops it on the way (containerd issue 8207; docs/v2-protocol.md 2.1), so
		# here the type's own name must lead to SHIM: containerd resolves io.containerd.runc.v2
		# to containerd-shim-runc-v2 in its PATH, and this run's bin dir comes first.
		mkdir -p "$CTD_DIR/bin"
		ln -s "$shim" "$CTD_DIR/bin/containerd-shim-runc-v2"
		PATH=$CTD_DIR/bin:$PATH
		export PATH
		handler="runtime_type = \"io.containerd.runc.v2\"
        runtime_path = \"$shim\"
        [plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.shim.options]
          BinaryName = \"$CTD_RUNTIME\"
          Root = \"$CTD_RUNC_ROOT\""
	fi

	_ctd_config "$shim" cri
	cat >>"$CTD_CONFIG" <<EOF

  [plugins."io.containerd.grpc.v1.cri"]
    sandbox_image = "$CRI_SANDBOX_IMAGE"
    stream_server_address = "127.0.0.1"
    stream_server_port = "0"
    disable_apparmor = true
    enable_selinux = false
    # the sandbox's oom_score_adj is -998 otherwise: lowering it needs CAP_SYS_RESOURCE, which
    # containers like this test machine lack (runc init fails: "can't get final child's PID")
    restrict_oom_score_adj = true
    [plugins."io.containerd.grpc.v1.cri".cni]
      bin_dir = "$CTD_DIR/cni/bin"
      conf_dir = "$CTD_DIR/cni/net.d"
    [plugins."io.containerd.grpc.v1.cri".containerd]
      snapshotter = "overlayfs"
      default_runtime_name = "shim"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.shim]
        $handler
EOF

	_ctd_launch || return 1
	"$PY" "$CRI_HERE/image.py" "$CTD_DIR/images.tar" >/dev/null || return 1
	ctr_ images import "$CTD_DIR/images.tar" >/dev/null || return 1
}

# cri_cgroups: this run's cgroup dirs (the pods' parent in every hierarchy), deepest first.
cri_cgroups() {
	find /sys/fs/cgroup -depth -type d -path "*$CRI_CGROUP*" 2>/dev/null
}

cri_stop() {
	[ -n "${CTD_DIR:-}" ] || return 0
	# the Python side may have restarted containerd: its pid is in the pid file
	[ -f "$CTD_DIR/containerd.pid" ] && CTD_PID=$(cat "$CTD_DIR/containerd.pid")
	if _ctd_alive; then
		timeout -k 2 60 "$PY" "$CRI_HERE/cases.py" --cleanup >/dev/null 2>&1 ||
			log "cri_stop: removing the pods through CRI failed"
	fi
	ctd_stop
	local d
	for d in $(cri_cgroups); do
		rmdir "$d" 2>/dev/null
	done
}
