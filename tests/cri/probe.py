# SPDX-License-Identifier: Apache-2.0
"""Figures, never checks: how fast exits and execs go through containerd's CRI plugin.

    probe.py --label NAME [--json FILE] [--burst N] [--rounds R] [--execs E]
    probe.py --table FILE...        the figures of several runs side by side

exit latency: N containers (sleep) in one pod are SIGKILLed from the host at once; each exit
is timed by a pidfd on the container's init (the moment it exits), and containerd's view of it
three ways, each as a latency from that moment:
  exit->Wait         containerd's Tasks.Wait returns (called before the kill). CRI's exit
                     monitor waits there; with the v1 runtime it is the shim's Wait answer.
  exit->/tasks/exit  the shim's exit event reaches containerd's event service (`ctr events`).
  exit->EXITED       ListContainers of the pod (polled every 2 ms) reads EXITED: what kubelet
                     sees. CRI sets it after the Wait returned and it deleted the task (runc
                     delete, the shim's teardown), so it adds containerd's own work.
A burst of N, R rounds, and R rounds of a single container.

execsync: E concurrent ExecSync(true) in one container, wall time from the start of all to the
end of the last; and one ExecSync alone, for scale. R rounds each.

Run by tests/cri/probe.sh (a private containerd per shim), or by run.sh with CRI_PROBE=1.
"""

import argparse
import json
import os
import select
import signal
import statistics
import subprocess
import sys
import threading
import time

import grpc

import cri
import ctd

POLL = 0.002


def pct(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]


def summary(values):
    """median / p90 / max in ms."""
    ms = [x * 1000 for x in values]
    if not ms:
        return None
    return {"n": len(ms), "median": statistics.median(ms), "p90": pct(ms, 90), "max": max(ms)}


class ExitEvents:
    """/tasks/exit events as they reach containerd's event service: `ctr events`, each line
    timestamped on arrival (ctr writes one line per event, unbuffered)."""

    def __init__(self):
        self.arrived = {}
        self.proc = subprocess.Popen(
            ["ctr", "--address", ctd.ADDR, "-n", ctd.NS, "events", 'topic=="/tasks/exit"'],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            t = time.monotonic()
            try:
                ev = json.loads(line[line.index(b"{"):])
            except ValueError:
                continue
            if ev.get("id") == ev.get("container_id"):  # the init's exit, not an exec's
                self.arrived.setdefault(ev["container_id"], t)

    def close(self):
        self.proc.kill()
        self.proc.wait()


class TaskWaits:
    """containerd's Tasks.Wait (what CRI's exit monitor calls; with the v1 runtime it is the
    shim's Wait) on one channel, called raw: the request is WaitRequest{container_id}, field 1,
    and the response is only awaited, not decoded."""

    def __init__(self):
        self.channel = grpc.insecure_channel("unix://" + ctd.ADDR)
        self.call = self.channel.unary_unary(
            "/containerd.services.tasks.v1.Tasks/Wait",
            request_serializer=lambda cid: b"\x0a" + _varint(len(cid)) + cid.encode(),
            response_deserializer=lambda raw: raw)
        self.returned = {}

    def start(self, cid):
        def wait():
            try:
                self.call(cid, metadata=[("containerd-namespace", ctd.NS)], timeout=120)
                self.returned[cid] = time.monotonic()
            except grpc.RpcError as e:
                print(f"# probe: Wait {cid[:12]}: {e.code()}", file=sys.stderr)

        t = threading.Thread(target=wait)
        t.start()
        return t

    def close(self):
        self.channel.close()


def _varint(n):
    out = b""
    while n >= 0x80:
        out += bytes([n & 0x7F | 0x80])
        n >>= 7
    return out + bytes([n])


def exit_round(c, pod, n, tag, events, waits):
    """Start n containers, kill them all at once: {figure: [latency s]}."""
    cids = [pod.run(f"x{tag}-{i}", f"sleep {200000 + i}") for i in range(n)]
    pids = {cid: pod.pid(cid) for cid in cids}
    fds = {os.pidfd_open(pid): cid for cid, pid in pids.items()}
    exited = {}

    def watch():
        poller = select.poll()
        for fd in fds:
            poller.register(fd, select.POLLIN)
        while len(exited) < len(fds):
            for fd, _ in poller.poll(10000):
                exited[fds[fd]] = time.monotonic()
                poller.unregister(fd)

    watcher = threading.Thread(target=watch)
    watcher.start()
    waiters = [waits.start(cid) for cid in cids]
    time.sleep(0.3)  # the Waits reach the shims before the exits
    for pid in pids.values():
        os.kill(pid, signal.SIGKILL)
    seen = {}
    deadline = time.monotonic() + 60
    while len(seen) < n and time.monotonic() < deadline:
        for x in c.list_containers(pod.id):
            if x.id in pids and x.state == cri.EXITED and x.id not in seen:
                seen[x.id] = time.monotonic()
        time.sleep(POLL)
    watcher.join()
    for t in waiters:
        t.join()
    for fd in fds:
        os.close(fd)
    for cid in cids:
        c.remove(cid)
    if len(seen) < n:
        print(f"# probe: {n - len(seen)} of {n} exits never seen as EXITED", file=sys.stderr)
    out = {}
    for what, at in (("Wait", waits.returned), ("/tasks/exit", events.arrived),
                     ("EXITED", seen)):
        out[what] = [at[cid] - exited[cid] for cid in cids if cid in at]
        if len(out[what]) < n:
            print(f"# probe: {n - len(out[what])} of {n} exits never reached {what}",
                  file=sys.stderr)
    return out


def exec_round(c, cid, k):
    """k concurrent ExecSync(true): wall time s."""
    barrier = threading.Barrier(k + 1)
    ends = []
    errors = []

    def one():
        barrier.wait()
        code, _, _ = c.exec_sync(cid, ["true"])
        if code != 0:
            errors.append(code)
        ends.append(time.monotonic())

    threads = [threading.Thread(target=one) for _ in range(k)]
    for t in threads:
        t.start()
    barrier.wait()
    t0 = time.monotonic()
    for t in threads:
        t.join()
    if errors:
        print(f"# probe: ExecSync exit codes {errors}", file=sys.stderr)
    return max(ends) - t0


def probe(args):
    """{"label": ..., "samples": {figure: [seconds...]}}"""
    from cases import Pod  # pylint: disable=import-outside-toplevel

    c = cri.Client(ctd.ADDR, timeout=120)
    pod = Pod(c, "probe")
    samples = {}
    events, waits = ExitEvents(), TaskWaits()
    for n, name in ((args.burst, f"burst of {args.burst}"), (1, "one")):
        for r in range(args.rounds):
            for what, v in exit_round(c, pod, n, f"{n}-{r}", events, waits).items():
                samples.setdefault(f"exit->{what}, {name}", []).extend(v)
    events.close()
    waits.close()
    cid = pod.run("execs", "sleep 300000")
    c.exec_sync(cid, ["true"])  # warm
    samples[f"{args.execs} concurrent ExecSync, wall"] = [
        exec_round(c, cid, args.execs) for _ in range(args.rounds)]
    samples["1 ExecSync"] = [exec_round(c, cid, 1) for _ in range(args.rounds)]
    c.stop_pod(pod.id)
    c.remove_pod(pod.id)
    return {"label": args.label, "samples": samples}


def table(runs):
    """One column per label; the samples of runs with the same label are pooled."""
    pooled = {}
    for run in runs:
        col = pooled.setdefault(run["label"], {})
        for k, v in run["samples"].items():
            col.setdefault(k, []).extend(v)
    keys = list(dict.fromkeys(k for col in pooled.values() for k in col))
    width = max(len(k) for k in keys) + 2
    print("figures in ms: median / p90 / max (samples)")
    print(" " * width + "".join(f"{label[-30:]:>32}" for label in pooled))
    for k in keys:
        row = k.ljust(width)
        for col in pooled.values():
            s = summary(col.get(k, []))
            cell = f"{s['median']:.1f} / {s['p90']:.1f} / {s['max']:.1f} ({s['n']})" if s else "-"
            row += f"{cell:>32}"
        print(row)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--label", default="shim")
    ap.add_argument("--json")
    ap.add_argument("--burst", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--execs", type=int, default=10)
    ap.add_argument("--table", nargs="+")
    args = ap.parse_args()
    if args.table:
        runs = []
        for path in args.table:
            with open(path, encoding="utf-8") as f:
                runs.append(json.load(f))
        table(runs)
        return 0
    run = probe(args)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(run, f)
    table([run])
    return 0


if __name__ == "__main__":
    sys.exit(main())
