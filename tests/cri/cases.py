# SPDX-License-Identifier: Apache-2.0
"""The CRI cases: containerd's CRI plugin driving the shim under test as kubelet would.

The same cases for both front ends (lib.sh's CRI_MODE): a v1 shim is one process per container,
a runtime v2 shim one process per pod (the group io.kubernetes.cri.sandbox-id names), so the
checks about shim processes differ by mode; everything seen through CRI is checked alike.

    cases.py [CASE...]     run the cases (all by default); prints "ok - ..." / "FAIL - ..."
                           and finally "N passed, M failed"; exit status 1 on any failure
    cases.py --cleanup     stop and remove every pod (used by lib.sh's cri_stop)

Run by tests/cri/run.sh, which starts the private containerd and exports CTD_* (see ctd.py).
No timed assertions: waits are bounded, but what is checked is state, output and order.
"""

import os
import sys
import threading
import time
import traceback

import grpc

import cri
import ctd

PASS = 0
FAIL = 0
FAILED = []
SH = ["/bin/sh", "-c"]
WAIT_FILE = "while [ ! -e /tmp/go ]; do sleep 0.05; done; "


def ok(name):
    global PASS
    PASS += 1
    print(f"ok   - {name}", flush=True)


def fail(name, *details):
    global FAIL
    FAIL += 1
    FAILED.append(name)
    print(f"FAIL - {name}", flush=True)
    for d in details:
        print(f"       {d}", flush=True)


def check(name, cond, *details):
    if cond:
        ok(name)
    else:
        fail(name, *details)
    return cond


def eq(name, expected, actual):
    return check(name, expected == actual, f"expected: {expected!r}", f"actual:   {actual!r}")


def until(cond, timeout=20, interval=0.02):
    """Poll cond() until true or timeout s; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(interval)


def not_found(c, cid):
    try:
        c.status(cid)
    except grpc.RpcError as e:
        return e.code() == grpc.StatusCode.NOT_FOUND
    return False


class Pod:
    """A host-network pod with its log directory under the run dir. v2: shims are the pids
    serving its sandbox right after RunPodSandbox (one, unless grouping is broken)."""

    def __init__(self, c, name):
        self.c = c
        self.name = name
        self.log_dir = os.path.join(ctd.DIR, "pods", name)
        self.id, self.config = c.run_pod(name, self.log_dir, ctd.CGROUP)
        self.shims = ctd.serving(self.id) if ctd.V2 else []

    def run(self, name, script, **kw):
        """Start a container running sh -c script; returns its id."""
        return self.c.run(self.id, self.config, name, ctd.IMAGE, SH + [script], **kw)

    def log(self, name):
        return os.path.join(self.log_dir, name + ".log")

    def pid(self, cid):
        return self.c.status(cid, verbose=True)[1]["pid"]

    def check_served(self, what, cid):
        """v2: cid is served by the pod's one shim, which is still the one it started with."""
        check(f"{what}: served by the pod's one shim",
              len(self.shims) == 1 and ctd.serving(cid) == self.shims
              and ctd.serving(self.id) == self.shims,
              f"pod's: {self.shims}, container: {ctd.serving(cid)}, "
              f"sandbox: {ctd.serving(self.id)}")


def shim_exe_ok(pids):
    """Every pid runs the shim under test (its /proc exe is SHIM)."""
    return bool(pids) and {ctd.exe(p) for p in pids} == {os.path.realpath(ctd.SHIM)}


def check_v2_gone(what, pod_id, pids, sock, cids):
    """v2: the pod's shim exited (no long-running process for its group, the pids gone), its
    socket was removed, and no bundle of the pod is left."""
    check(f"{what}: the pod's shim exited",
          until(lambda: not ctd.group_shims(pod_id) and not any(ctd.alive(p) for p in pids),
                10), f"group {ctd.group_shims(pod_id)}, pids {pids}")
    check(f"{what}: the shim's socket is removed", sock and not os.path.exists(sock),
          f"socket {sock!r}")
    eq(f"{what}: no bundle of the pod left", [],
       [x for x in cids if os.path.exists(ctd.bundle(x))])


# ---------------------------------------------------------------------- cases


def case_pod_two_containers(c):
    pod = Pod(c, "two")
    eq("pod: READY after RunPodSandbox", "SANDBOX_READY", c.pod_state(pod.id))
    a = pod.run("a", "sleep 100001")
    b = pod.run("b", "sleep 100002")
    eq("two containers: a RUNNING", "CONTAINER_RUNNING", c.state(a))
    eq("two containers: b RUNNING", "CONTAINER_RUNNING", c.state(b))
    eq("two containers: ListContainers of the pod", sorted([a, b]),
       sorted(x.id for x in c.list_containers(pod.id)))
    # the pod shares one pid namespace: a sees b's process, b sees a's
    code, out, _ = c.exec_sync(a, ["ps", "-o", "args"])
    check("two containers: a sees b's process (pod pid namespace)",
          code == 0 and b"sleep 100002" in out, f"exit {code}, ps: {out!r}")
    code, out, _ = c.exec_sync(b, ["ps", "-o", "args"])
    check("two containers: b sees a's process", code == 0 and b"sleep 100001" in out,
          f"exit {code}, ps: {out!r}")
    if ctd.V2:
        check_one_shim(c, pod, a, b)
    else:
        check("two containers: one shim each", len(ctd.shim_pids(a)) == 1
              and len(ctd.shim_pids(b)) == 1 and ctd.shim_pids(a) != ctd.shim_pids(b),
              f"a: {ctd.shim_pids(a)}, b: {ctd.shim_pids(b)}")
        exes = sorted({ctd.exe(p) for x in (a, b, pod.id) for p in ctd.shim_pids(x)})
        eq("the pod's shims (sandbox and containers) run the shim under test",
           [os.path.realpath(ctd.SHIM)], exes)

    # StopPodSandbox stops every container in it; RemovePodSandbox removes them
    sandbox_shims = ctd.serving(pod.id) if ctd.V2 else ctd.shim_pids(pod.id)
    sock = ctd.address(pod.id)[len("unix://"):]
    c.stop_pod(pod.id)
    eq("stop pod: a EXITED", "CONTAINER_EXITED", c.state(a))
    eq("stop pod: b EXITED", "CONTAINER_EXITED", c.state(b))
    eq("stop pod: NOTREADY", "SANDBOX_NOTREADY", c.pod_state(pod.id))
    if ctd.V2:
        # containerd deletes each task once it exited; the shim exits after the last one
        check_v2_gone("stop pod", pod.id, sandbox_shims, sock, (a, b, pod.id))
    else:
        check("stop pod: the shims of the pod are gone",
              until(lambda: not (ctd.shim_pids(a) + ctd.shim_pids(b) + ctd.shim_pids(pod.id)),
                    10), f"sandbox shim was {sandbox_shims}")
    c.remove_pod(pod.id)
    check("remove pod: not listed", pod.id not in [p.id for p in c.list_pods()])
    check("remove pod: its containers are gone", not_found(c, a) and not_found(c, b))
    check("remove pod: no bundle left", not any(os.path.exists(ctd.bundle(x))
                                                for x in (a, b, pod.id)))


def check_one_shim(c, pod, a, b):
    """v2: the sandbox and both containers are served by ONE long-running shim process."""
    ids = (pod.id, a, b)
    addrs = [ctd.address(x) for x in ids]
    check("one shim: the bundles' address files are equal (one socket for the pod)",
          addrs[0].startswith("unix://") and addrs.count(addrs[0]) == 3, f"{addrs}")
    served = [ctd.serving(x) for x in ids]
    check("one shim: one process serves the sandbox, a and b",
          len(served[0]) == 1 and served.count(served[0]) == 3, f"{served}")
    # the long-running processes of this run for the pod: one, named by the sandbox's id (the
    # first task of the group); none was started for a or b
    eq("one shim: one long-running shim process for the pod's group (-id sandbox)",
       (served[0], [], []), (ctd.group_shims(pod.id), ctd.group_shims(a), ctd.group_shims(b)))
    eq("one shim: it is the one serving since RunPodSandbox", pod.shims, served[0])
    check("one shim: it runs the shim under test", shim_exe_ok(served[0]),
          f"{[ctd.exe(p) for p in served[0]]}")
    paths = {os.path.realpath(ctd.read_bytes(os.path.join(ctd.bundle(x), "shim-binary-path"))
                              .decode() or "/nonexistent") for x in ids}
    eq("one shim: containerd ran the shim under test for every task (shim-binary-path)",
       {os.path.realpath(ctd.SHIM)}, paths)
    for x, name in ((a, "a"), (b, "b")):
        code, out, _ = c.exec_sync(x, ["echo", f"in-{name}"])
        eq(f"one shim: ExecSync in {name}", (0, f"in-{name}\n".encode()), (code, out))
    for x, name in ((a, "a"), (b, "b")):
        s = c.stats(x)
        check(f"one shim: ContainerStats of {name} has figures",
              s.attributes.id == x and s.cpu.usage_core_nano_seconds.value > 0
              and s.memory.working_set_bytes.value > 0, f"{s}")


def case_exec_sync(c, pod):
    cid = pod.run("exec", "sleep 100003")
    code, out, err = c.exec_sync(cid, SH + ["echo out; echo err >&2; exit 7"])
    eq("ExecSync: exit code", 7, code)
    eq("ExecSync: stdout", b"out\n", out)
    eq("ExecSync: stderr", b"err\n", err)
    code, out, err = c.exec_sync(cid, ["seq", "1", "20000"])
    eq("ExecSync: large output, exit 0", 0, code)
    eq("ExecSync: large output intact", "".join(f"{i}\n" for i in range(1, 20001)).encode(),
       out)
    code, out, _ = c.exec_sync(cid, SH + ["kill -9 $$"])
    eq("ExecSync: killed by SIGKILL gives 137", 137, code)
    # ExecSync's timeout: containerd kills the exec when it runs out
    try:
        c.exec_sync(cid, ["sleep", "1000"], timeout=1)
        fail("ExecSync: timeout reported")
    except grpc.RpcError as e:
        check("ExecSync: timeout reported", e.code() == grpc.StatusCode.DEADLINE_EXCEEDED
              or "timeout" in (e.details() or ""), f"{e.code()}: {e.details()}")
    code, out, _ = c.exec_sync(cid, ["echo", "still-there"])
    eq("ExecSync after the timed-out exec", (0, b"still-there\n"), (code, out))
    eq("ExecSync: container still RUNNING", "CONTAINER_RUNNING", c.state(cid))


def case_exit_code(c, pod):
    cases = [("exit3", "exit 3", 3, "Error"), ("exit0", "true", 0, "Completed"),
             ("exitkill", "kill -9 $$", 137, "Error")]
    for name, script, code, reason in cases:
        cid = pod.run(name, script)
        st = c.wait_state(cid, cri.EXITED)
        eq(f"exit code: '{script}' EXITED", "CONTAINER_EXITED", cri.name(st.state))
        eq(f"exit code: '{script}' exit_code", code, st.exit_code)
        eq(f"exit code: '{script}' reason", reason, st.reason)
        # not started_at <= finished_at: CRI stamps started_at when the start returns, the exit
        # time comes from the shim, and a quick exit can come first (seen with the Go shim)
        check(f"exit code: '{script}' created <= finished, started set",
              0 < st.created_at <= st.finished_at and st.started_at > 0,
              f"created {st.created_at} started {st.started_at} finished {st.finished_at}")
        if ctd.V2:
            # containerd deletes the task once it exited: its bundle goes, the pod's shim stays
            check(f"exit code: '{script}' bundle gone after the exit",
                  until(lambda: not os.path.exists(ctd.bundle(cid)), 10))  # noqa: B023
            eq(f"exit code: '{script}' the pod's shim still serves the pod", pod.shims,
               ctd.serving(pod.id))
        else:
            check(f"exit code: '{script}' shim gone after the exit",
                  until(lambda: not ctd.shim_pids(cid), 10),  # noqa: B023
                  f"{ctd.shim_pids(cid)}")


def case_logs(c, pod):
    cid = pod.run("logs", "echo line1; echo err1 >&2; echo line2; printf 'no-newline'")
    c.wait_state(cid, cri.EXITED)
    path = pod.log("logs")
    eq("logs: ContainerStatus log_path", path, c.status(cid).log_path)
    entries = cri.read_cri_log(path)
    streams = [(s, t, text) for _, s, t, text in entries]
    out = [e for e in streams if e[0] == "stdout"]
    err = [e for e in streams if e[0] == "stderr"]
    eq("logs: stdout lines", [("stdout", "F", b"line1"), ("stdout", "F", b"line2"),
                              ("stdout", "P", b"no-newline")], out)
    eq("logs: stderr lines", [("stderr", "F", b"err1")], err)
    check("logs: RFC 3339 timestamps, UTC", all(ts[4] == "-" and ts.endswith("Z") and "T" in ts
                                                for ts, _, _, _ in entries), f"{entries!r}")
    # a long line is split by the CRI logger (max_container_log_line_size 16384) into P... F
    cid = pod.run("longlog", "head -c 40000 /dev/zero | tr '\\0' x; echo")
    c.wait_state(cid, cri.EXITED)
    entries = cri.read_cri_log(pod.log("longlog"))
    eq("logs: a 40000-byte line comes back whole", b"x" * 40000,
       b"".join(text for _, _, _, text in entries))
    check("logs: ... as partial lines ending in a full one",
          len(entries) > 1 and [t for _, _, t, _ in entries] ==
          ["P"] * (len(entries) - 1) + ["F"], f"tags {[t for _, _, t, _ in entries]}")


def case_stats(c, pod):
    cid = pod.run("stats", "sleep 100004")
    s1 = c.stats(cid)
    eq("stats: attributes.id", cid, s1.attributes.id)
    check("stats: cpu usage reported", s1.cpu.usage_core_nano_seconds.value > 0, str(s1.cpu))
    check("stats: memory working set reported", s1.memory.working_set_bytes.value > 0,
          str(s1.memory))
    check("stats: cpu timestamp set", s1.cpu.timestamp > 0)
    if ctd.V2:
        # the figures come from the shim (Task.Stats): with the v1 runtime containerd reads the
        # cgroup itself, so these say nothing about a v1 shim
        check_stats_figures(c, pod, cid, s1)
    code, _, _ = c.exec_sync(cid, SH + ["i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done"],
                             timeout=60)
    s2 = c.stats(cid)
    check("stats: cpu usage grows with an exec's work (exec in the container's cgroup)",
          code == 0 and s2.cpu.usage_core_nano_seconds.value
          > s1.cpu.usage_core_nano_seconds.value,
          f"{s1.cpu.usage_core_nano_seconds.value} -> {s2.cpu.usage_core_nano_seconds.value}")


def check_stats_figures(c, pod, cid, s1):
    """v2: ContainerStats reports the container cgroup's own figures."""
    # the cpu figure is the container cgroup's own: its counter read just before and just after
    # ContainerStats bounds what it reports (the container only sleeps meanwhile)
    pid = pod.pid(cid)
    cpu0 = cgroup_cpu(pid)
    cpu = c.stats(cid).cpu.usage_core_nano_seconds.value
    cpu1 = cgroup_cpu(pid)
    check("stats: cpu usage is the container cgroup's (read before <= it <= read after)",
          0 < cpu0 <= cpu <= cpu1, f"cgroup {cpu0} .. {cpu1}, ContainerStats {cpu}")
    # memory moves by a few pages on its own (the kernel charges in per-cpu batches, hence 1 MiB
    # of slack): a 16 MiB file the container writes (its page cache, charged to its cgroup)
    # must show in memory usage
    mem0 = s1.memory.usage_bytes.value
    code, _, _ = c.exec_sync(cid, SH + ["head -c 16777216 /dev/zero > /tmp/fill"])
    mem1 = c.stats(cid).memory.usage_bytes.value
    check("stats: memory usage grows by a 16 MiB file the container writes",
          code == 0 and 0 < mem0 < 16 << 20 <= mem1 - mem0 + (1 << 20),
          f"exit {code}, usage {mem0} -> {mem1}")


def cgroup_cpu(pid):
    """CPU ns used by pid's cgroup: cgroup v1 cpuacct.usage, or v2 cpu.stat usage_usec."""
    acct = ctd.cgroup_file(pid, "cpuacct", "cpuacct.usage")
    if os.path.exists(acct):
        return ctd.read_int(acct)
    with open(ctd.cgroup_file(pid, "cpu", "cpu.stat"), encoding="ascii") as f:
        return int(dict(line.split() for line in f)["usage_usec"]) * 1000


def case_update_resources(c, pod):
    mib = 1 << 20
    cid = pod.run("update", "sleep 100005",
                  resources=cri.resources(memory_limit_in_bytes=128 * mib, cpu_shares=512))
    pid = pod.pid(cid)
    mem = ctd.cgroup_file(pid, "memory", "memory.limit_in_bytes")
    if not os.path.exists(mem):  # cgroup v2
        mem = ctd.cgroup_file(pid, "memory", "memory.max")
    eq("update: memory limit at create", 128 * mib, ctd.read_int(mem))
    c.update_resources(cid, cri.resources(memory_limit_in_bytes=96 * mib, cpu_shares=256,
                                          cpu_period=100000, cpu_quota=50000))
    eq("update: memory limit after UpdateContainerResources", 96 * mib, ctd.read_int(mem))
    quota = ctd.cgroup_file(pid, "cpu", "cpu.cfs_quota_us")
    if os.path.exists(quota):
        eq("update: cpu quota", 50000, ctd.read_int(quota))
        eq("update: cpu shares", 256, ctd.read_int(ctd.cgroup_file(pid, "cpu", "cpu.shares")))
    eq("update: container still RUNNING", "CONTAINER_RUNNING", c.state(cid))
    code, out, _ = c.exec_sync(cid, ["echo", "after-update"])
    eq("update: exec after the update", (0, b"after-update\n"), (code, out))


def case_stop_timeout(c, pod):
    # ignores SIGTERM (says so in its log), so StopContainer must SIGKILL after the timeout
    cid = pod.run("stubborn", "trap 'echo got-term' TERM; echo ready; "
                  "while :; do sleep 0.1; done")
    log = pod.log("stubborn")
    until(lambda: b"ready" in ctd.read_bytes(log), 10)
    stopper = threading.Thread(target=c.stop, args=(cid, 4))
    stopper.start()
    seen = until(lambda: b"got-term" in ctd.read_bytes(log), 10)
    check("stop: SIGTERM reached the container (its trap ran)", seen)
    eq("stop: still RUNNING after SIGTERM, before the timeout", "CONTAINER_RUNNING",
       c.state(cid))
    stopper.join()
    st = c.status(cid)
    eq("stop: EXITED when StopContainer returns", "CONTAINER_EXITED", cri.name(st.state))
    eq("stop: killed by SIGKILL after the timeout (137)", 137, st.exit_code)

    # a container that SIGTERM ends: 143, without waiting for the timeout
    cid = pod.run("polite", "sleep 100006")
    c.stop(cid, 30)
    st = c.status(cid)
    eq("stop: SIGTERM ends a plain sleep (143)", ("CONTAINER_EXITED", 143),
       (cri.name(st.state), st.exit_code))
    c.stop(cid, 30)
    ok("stop: StopContainer again on an exited container succeeds")


def case_remove(c, pod):
    cid = pod.run("remove", "sleep 100007")
    if ctd.V2:
        pod.check_served("remove", cid)
    else:
        shim = ctd.shim_pids(cid)
        check("remove: one shim while running", len(shim) == 1, f"{shim}")
    # v1: the plugin's runtime_root; v2: the handler's options' Root (runc.v1.Options)
    check("remove: runc state in this run's runc root while running",
          os.path.isdir(os.path.join(ctd.RUNC_ROOT, ctd.NS, cid)))
    c.stop(cid, 2)
    c.remove(cid)
    check("remove: ContainerStatus is NOT_FOUND", not_found(c, cid))
    check("remove: not in ListContainers", cid not in [x.id for x in c.list_containers()])
    if ctd.V2:
        eq("remove: the pod's shim still serves the pod", pod.shims, ctd.serving(pod.id))
    else:
        check("remove: shim gone", until(lambda: not ctd.shim_pids(cid), 10))
    check("remove: bundle gone", not os.path.exists(ctd.bundle(cid)))
    check("remove: runc state gone",
          not os.path.exists(os.path.join(ctd.RUNC_ROOT, ctd.NS, cid)))
    c.remove(cid)
    ok("remove: RemoveContainer again succeeds (idempotent)")


def case_oom(c, pod):
    # a 16 MiB limit and a pipe that buffers 200 MiB: the kernel's OOM killer ends it
    cid = pod.run("oom", "head -c 200m /dev/zero | tail > /dev/null",
                  resources=cri.resources(memory_limit_in_bytes=16 << 20))
    st = c.wait_state(cid, cri.EXITED)
    eq("oom: EXITED, killed (137)", ("CONTAINER_EXITED", 137),
       (cri.name(st.state), st.exit_code))
    if ctd.V2:
        # CRI's reason OOMKilled comes from a /tasks/oom event: in v2 the shim's (with the v1
        # runtime containerd watches the cgroup itself); it may be handled just after the
        # exit: polled, bounded
        reason = until(lambda: c.status(cid).reason == "OOMKilled" and "OOMKilled", 10)
        eq("oom: reason OOMKilled (the shim's OOM event)", "OOMKilled",
           reason or c.status(cid).reason)


def case_tty(c, pod):
    cid = c.create(pod.id, pod.config, "tty", ctd.IMAGE, SH + ["echo hello-tty; tty"],
                   tty=True)
    c.start(cid)
    st = c.wait_state(cid, cri.EXITED)
    eq("tty: EXITED 0", ("CONTAINER_EXITED", 0), (cri.name(st.state), st.exit_code))
    lines = [(s, t, text) for _, s, t, text in cri.read_cri_log(pod.log("tty"))]
    check("tty: the output is logged, from a terminal (tty names /dev/pts/N)",
          len(lines) == 2 and lines[0] == ("stdout", "F", b"hello-tty")
          and lines[1][:2] == ("stdout", "F") and lines[1][2].startswith(b"/dev/pts/"),
          f"{lines!r}")


def case_start_error(c, pod):
    cid = c.create(pod.id, pod.config, "badcmd", ctd.IMAGE, ["/nonexistent"])
    try:
        c.start(cid)
        fail("start error: StartContainer fails")
    except grpc.RpcError as e:
        check("start error: StartContainer fails with the runtime's reason",
              "/nonexistent" in (e.details() or "")
              and "no such file or directory" in (e.details() or ""), f"{e.details()}")
    st = c.status(cid)
    eq("start error: EXITED 128, StartError", ("CONTAINER_EXITED", 128, "StartError"),
       (cri.name(st.state), st.exit_code, st.reason))
    check("start error: no bundle left", until(lambda: not os.path.exists(ctd.bundle(cid)), 10))
    if ctd.V2:
        eq("start error: the pod's shim still serves the pod", pod.shims, ctd.serving(pod.id))
    code, out, _ = c.exec_sync(pod.run("afterbad", "sleep 100009"), ["echo", "ok"])
    eq("start error: the pod runs a container after it", (0, b"ok\n"), (code, out))


def case_restart(c):
    pod = Pod(c, "restart")
    keep = pod.run("keep", "sleep 100008")
    later = pod.run("later", WAIT_FILE + "exit 5")
    down = pod.run("down", WAIT_FILE + "exit 6")
    pid_keep, pid_down = pod.pid(keep), pod.pid(down)
    ids = (pod.id, keep, later, down)
    if ctd.V2:
        pod.check_served("restart: before, keep", keep)
        # with every case, the main pod is up as well: one shim per pod, not one for all
        others = [p.id for p in c.list_pods()
                  if p.id != pod.id and p.state == cri.pb.SANDBOX_READY]
        if others:
            served = {o: ctd.serving(o) for o in others}
            check("restart: each other pod has a shim of its own",
                  all(len(v) == 1 and v != pod.shims for v in served.values()),
                  f"this pod's: {pod.shims}, others': {served}")
    else:
        shims = {x: ctd.shim_pids(x) for x in ids}
    ctd.stop()
    # "down" exits while containerd is not running
    open(os.path.join(ctd.rootfs(down), "tmp", "go"), "w").close()
    gone = until(lambda: not ctd.alive(pid_down), 10)
    check("restart: a container exited while containerd was down", gone)
    ctd.start(c)
    ok(f"restart: containerd started again (pid {ctd.pid()})")
    eq("restart: pod still READY", "SANDBOX_READY", c.pod_state(pod.id))
    st, info = c.status(keep, verbose=True)
    eq("restart: running container still RUNNING", "CONTAINER_RUNNING",
       cri.name(st.state))
    eq("restart: same init pid", pid_keep, info.get("pid"))
    if ctd.V2:
        # containerd reconnected to the shim through the bundles' address files ("down" is not
        # asked: CRI may have deleted its task already, exited while containerd was down)
        eq("restart: the same one shim serves the pod, keep and later",
           {x: pod.shims for x in ids[:3]}, {x: ctd.serving(x) for x in ids[:3]})
        eq("restart: still one long-running shim for the pod", pod.shims,
           ctd.group_shims(pod.id))
    else:
        eq("restart: same shims", shims[keep] + shims[pod.id],
           ctd.shim_pids(keep) + ctd.shim_pids(pod.id))
    code, out, _ = c.exec_sync(keep, ["echo", "after-restart"])
    eq("restart: ExecSync works", (0, b"after-restart\n"), (code, out))
    st = c.wait_state(down, cri.EXITED)
    eq("restart: the exit while down is seen, with its code", ("CONTAINER_EXITED", 6),
       (cri.name(st.state), st.exit_code))
    open(os.path.join(ctd.rootfs(later), "tmp", "go"), "w").close()
    st = c.wait_state(later, cri.EXITED)
    eq("restart: an exit after the restart is seen, with its code", ("CONTAINER_EXITED", 5),
       (cri.name(st.state), st.exit_code))
    c.stop(keep, 2)
    eq("restart: StopContainer after the restart (SIGTERM, 143)", ("CONTAINER_EXITED", 143),
       (c.state(keep), c.status(keep).exit_code))
    sock = ctd.address(pod.id)[len("unix://"):]
    if ctd.V2:
        eq("restart: the same shim serves the pod after its exits", pod.shims,
           ctd.serving(pod.id))
    c.stop_pod(pod.id)
    c.remove_pod(pod.id)
    if ctd.V2:
        check_v2_gone("restart: after RemovePodSandbox", pod.id, pod.shims, sock, ids)
    else:
        check("restart: every shim of the pod gone after RemovePodSandbox",
              until(lambda: not any(ctd.shim_pids(x) for x in shims), 10))


POD_CASES = {"exec_sync": case_exec_sync, "exit_code": case_exit_code, "logs": case_logs,
             "stats": case_stats, "update_resources": case_update_resources,
             "stop_timeout": case_stop_timeout, "remove": case_remove, "oom": case_oom,
             "tty": case_tty, "start_error": case_start_error}
OWN_CASES = {"pod_two_containers": case_pod_two_containers, "restart": case_restart}
ALL = ["pod_two_containers", *POD_CASES, "restart"]


def run(c, name, *args):
    print(f"# {name}", flush=True)
    fn = POD_CASES.get(name) or OWN_CASES[name]
    try:
        fn(c, *args)
    except Exception as e:  # pylint: disable=broad-except
        fail(f"{name}: raised {type(e).__name__}", *traceback.format_exc().splitlines()[-6:])


def main(argv):
    c = cri.Client(ctd.ADDR)
    if argv[:1] == ["--cleanup"]:
        c.remove_all()
        return 0
    names = argv or ALL
    unknown = [n for n in names if n not in ALL]
    if unknown:
        sys.exit(f"unknown case(s): {unknown}; known: {ALL}")
    eq("CRI: runtime answers Version", "v1", c.version().runtime_api_version)
    check("CRI: the test images are known", {ctd.IMAGE, "cshim.test/pause:cri"}
          <= set(c.images()), f"{c.images()}")
    pod = None
    for name in names:
        if name in POD_CASES and pod is None:
            pod = Pod(c, "main")
        run(c, name, *([pod] if name in POD_CASES else []))
    if pod is not None:
        if ctd.V2:
            # the pod the other cases shared lived through all of them (and the restart)
            eq("main pod: the same one shim served it throughout", pod.shims,
               ctd.serving(pod.id))
            sock = ctd.address(pod.id)[len("unix://"):]
            cids = [pod.id] + [x.id for x in c.list_containers(pod.id)]
        c.stop_pod(pod.id)
        c.remove_pod(pod.id)
        if ctd.V2:
            check_v2_gone("main pod removed", pod.id, pod.shims, sock, cids)
    eq("no pod left", [], [p.id for p in c.list_pods()])
    eq("no container left", [], [x.id for x in c.list_containers()])
    if ctd.V2:
        check("no long-running shim of this run left",
              until(lambda: not ctd.v2_shims(), 10), f"{ctd.v2_shims()}")
    if FAILED:
        print("failed checks:")
        for n in FAILED:
            print(f"  - {n}")
    print(f"{PASS} passed, {FAIL} failed", flush=True)
    return 1 if FAIL else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
