# SPDX-License-Identifier: Apache-2.0
"""What the CRI cases know about the private containerd that tests/cri/lib.sh started.

Everything comes from the environment lib.sh exports (CTD_DIR, CTD_ADDR, CTD_CONFIG, CTD_LOG,
CTD_RUNC_ROOT, CRI_CGROUP, CRI_MODE). Paths follow containerd 1.6's layout, namespace k8s.io:
the v1 runtime's (one shim per container, found by its -workdir), or with CRI_MODE=v2 the
runtime v2's (one long-running shim per group, the pod, found by the socket it listens on).
"""

import os
import signal
import subprocess
import time

NS = "k8s.io"
V1 = "io.containerd.runtime.v1.linux"
V2_TASK = "io.containerd.runtime.v2.task"
IMAGE = "cshim.test/busybox:cri"

DIR = os.environ.get("CTD_DIR", "")
ADDR = os.environ.get("CTD_ADDR", "")
CONFIG = os.environ.get("CTD_CONFIG", "")
LOG = os.environ.get("CTD_LOG", "")
RUNC_ROOT = os.environ.get("CTD_RUNC_ROOT", "")
CGROUP = os.environ.get("CRI_CGROUP", "")
SHIM = os.environ.get("CTD_SHIM", "")
PIDFILE = os.path.join(DIR, "containerd.pid")
V2 = os.environ.get("CRI_MODE", "v1") == "v2"
RUNTIME = V2_TASK if V2 else V1  # the runtime plugin whose state dir holds the bundles


def bundle(cid):
    return os.path.join(DIR, "state", RUNTIME, NS, cid)


def rootfs(cid):
    return os.path.join(bundle(cid), "rootfs")


def shim_pids(cid):
    """v1: pids of the shim of cid: its -workdir argument is containerd's work dir for cid."""
    workdir = os.path.join(DIR, "root", V1, NS, cid).encode()
    pids = []
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open(f"/proc/{p}/cmdline", "rb") as f:
                args = f.read().split(b"\0")
        except OSError:
            continue
        if workdir in args:
            pids.append(int(p))
    return pids


def _argv(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return [a.decode(errors="replace") for a in f.read().split(b"\0")[:-1]]
    except OSError:
        return []


def _flag(argv, name):
    """The value of Go flag -name in argv (the "-name value" form containerd uses), or None."""
    for i, a in enumerate(argv[:-1]):
        if a == "-" + name:
            return argv[i + 1]
    return None


def v2_shims():
    """v2: {pid: -id} of this run's long-running shim processes: -address is this run's
    containerd, -namespace k8s.io, and the last argument is not an action of a short call
    (`start`, `delete`): cshim's ends in `serve`, runc-v2's in its last flag's value."""
    found = {}
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        argv = _argv(p)
        if (_flag(argv, "address") == ADDR and _flag(argv, "namespace") == NS
                and _flag(argv, "id") and argv[-1] not in ("start", "delete")):
            found[int(p)] = _flag(argv, "id")
    return found


def group_shims(gid):
    """v2: pids of this run's long-running shims started for group gid (argv -id gid)."""
    return sorted(p for p, i in v2_shims().items() if i == gid)


def address(cid):
    """v2: the bundle's address file (unix://PATH), "" when there is none."""
    return read_bytes(os.path.join(bundle(cid), "address")).decode()


def _listening_inodes(path):
    """Inodes of the listening unix sockets bound to path (/proc/net/unix, __SO_ACCEPTCON)."""
    inodes = set()
    with open("/proc/net/unix", encoding="utf-8", errors="replace") as f:
        next(f)
        for line in f:
            fields = line.split()
            if len(fields) >= 8 and fields[7] == path and int(fields[3], 16) & 0x10000:
                inodes.add(fields[6])
    return inodes


def serving(cid):
    """v2: pids of this run's long-running shims listening on the socket named by cid's
    bundle address file: the process that serves cid. [] without an address."""
    addr = address(cid)
    if not addr.startswith("unix://"):
        return []
    links = {f"socket:[{i}]" for i in _listening_inodes(addr[len("unix://"):])}
    pids = []
    for p in v2_shims():
        try:
            fds = os.listdir(f"/proc/{p}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{p}/fd/{fd}") in links:
                    pids.append(p)
                    break
            except OSError:
                pass
    return sorted(pids)


def exe(pid):
    """The program pid runs (its /proc exe link), or "" when it is gone."""
    try:
        return os.path.realpath(os.readlink(f"/proc/{pid}/exe"))
    except OSError:
        return ""


def read_bytes(path):
    """The file's bytes, b"" while it does not exist."""
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        return b""


def alive(pid):
    """pid exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def cgroup_file(pid, controller, name):
    """Path of a cgroup file of pid: cgroup v1 hierarchy holding controller, or v2."""
    with open(f"/proc/{pid}/cgroup", encoding="utf-8") as f:
        lines = [line.rstrip("\n").split(":", 2) for line in f]
    for _, ctrls, path in lines:
        if controller in ctrls.split(","):
            return os.path.join("/sys/fs/cgroup", ctrls, path.lstrip("/"), name)
    for hid, ctrls, path in lines:
        if hid == "0" and ctrls == "":
            return os.path.join("/sys/fs/cgroup", path.lstrip("/"), name)
    raise FileNotFoundError(f"no {controller} cgroup for pid {pid}")


def read_int(path):
    with open(path, encoding="ascii") as f:
        return int(f.read().split()[0])


def pid():
    with open(PIDFILE, encoding="ascii") as f:
        return int(f.read())


def stop(timeout=10):
    """SIGTERM containerd (by its recorded pid), SIGKILL after timeout s; wait until gone."""
    p = pid()
    os.kill(p, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while alive(p):
        if time.monotonic() >= deadline:
            os.kill(p, signal.SIGKILL)
            deadline = float("inf")
        time.sleep(0.05)


def start(client, timeout=20):
    """Start containerd on the same config (shims keep running), wait until CRI answers."""
    with open(LOG, "ab") as log:
        proc = subprocess.Popen(["containerd", "--config", CONFIG], stdin=subprocess.DEVNULL,
                                stdout=log, stderr=log)
    with open(PIDFILE, "w", encoding="ascii") as f:
        f.write(f"{proc.pid}\n")
    deadline = time.monotonic() + timeout
    while True:
        try:
            client.reconnect()
            client.version()
            return
        except Exception:  # pylint: disable=broad-except
            if time.monotonic() >= deadline or proc.poll() is not None:
                raise
            time.sleep(0.1)
