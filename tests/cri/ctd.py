# SPDX-License-Identifier: Apache-2.0
"""What the CRI cases know about the private containerd that tests/cri/lib.sh started.

Everything comes from the environment lib.sh exports (CTD_DIR, CTD_ADDR, CTD_CONFIG, CTD_LOG,
CTD_RUNC_ROOT, CRI_CGROUP). Paths follow containerd 1.6's v1 runtime layout, namespace k8s.io.
"""

import os
import signal
import subprocess
import time

NS = "k8s.io"
V1 = "io.containerd.runtime.v1.linux"
IMAGE = "cshim.test/busybox:cri"

DIR = os.environ.get("CTD_DIR", "")
ADDR = os.environ.get("CTD_ADDR", "")
CONFIG = os.environ.get("CTD_CONFIG", "")
LOG = os.environ.get("CTD_LOG", "")
RUNC_ROOT = os.environ.get("CTD_RUNC_ROOT", "")
CGROUP = os.environ.get("CRI_CGROUP", "")
SHIM = os.environ.get("CTD_SHIM", "")
PIDFILE = os.path.join(DIR, "containerd.pid")


def bundle(cid):
    return os.path.join(DIR, "state", V1, NS, cid)


def rootfs(cid):
    return os.path.join(bundle(cid), "rootfs")


def shim_pids(cid):
    """Pids of the shim of cid: its -workdir argument is containerd's work dir for cid."""
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
