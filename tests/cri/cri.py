# SPDX-License-Identifier: Apache-2.0
"""A small CRI client for containerd's CRI plugin, driven the way kubelet drives it.

The Python stubs are generated at import time from the repo's copy of the CRI API
(proto/protos/k8s.io/cri-api/pkg/apis/runtime/v1/api.proto) into a temporary directory with
Debian's python3-grpc-tools; nothing generated is kept. Run with /usr/bin/python3 (the Debian
interpreter that has python3-grpcio).
"""

import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid

import grpc

HERE = os.path.dirname(os.path.abspath(__file__))
PROTO = os.path.join(HERE, "..", "..", "proto", "protos", "k8s.io", "cri-api", "pkg", "apis",
                     "runtime", "v1", "api.proto")


def _generate():
    """Compile api.proto into a temp dir and import the modules from there."""
    out = tempfile.mkdtemp(prefix="cshim-cri-gen.")
    atexit.register(shutil.rmtree, out, True)
    shutil.copy(PROTO, os.path.join(out, "api.proto"))
    subprocess.run([sys.executable, "-m", "grpc_tools.protoc", "-I" + out, "--python_out=" + out,
                    "--grpc_python_out=" + out, os.path.join(out, "api.proto")], check=True)
    sys.path.insert(0, out)
    import api_pb2  # noqa: E402  pylint: disable=import-outside-toplevel
    import api_pb2_grpc  # noqa: E402  pylint: disable=import-outside-toplevel
    sys.path.remove(out)
    return api_pb2, api_pb2_grpc


pb, pb_grpc = _generate()

RUNNING = pb.CONTAINER_RUNNING
EXITED = pb.CONTAINER_EXITED
CREATED = pb.CONTAINER_CREATED


def name(state):
    """A ContainerState's name, as the checks print it."""
    return pb.ContainerState.Name(state)


class Client:
    """RuntimeService and ImageService on one channel to containerd's gRPC socket."""

    def __init__(self, address, timeout=30):
        self.address = address
        self.timeout = timeout
        self.channel = grpc.insecure_channel("unix://" + address)
        self.rt = pb_grpc.RuntimeServiceStub(self.channel)
        self.img = pb_grpc.ImageServiceStub(self.channel)

    def close(self):
        self.channel.close()

    def reconnect(self):
        """A fresh channel (after containerd restarted)."""
        self.close()
        self.__init__(self.address, self.timeout)

    # ------------------------------------------------------------------ pods

    def run_pod(self, name, log_dir, cgroup_parent, uid=None):
        """A host-network pod (no CNI needed); returns (pod id, its config)."""
        ns = pb.NamespaceOption(network=pb.NODE, pid=pb.POD, ipc=pb.POD)
        config = pb.PodSandboxConfig(
            metadata=pb.PodSandboxMetadata(name=name, uid=uid or uuid.uuid4().hex,
                                           namespace="cshim-cri"),
            log_directory=log_dir,  # no hostname: the host UTS namespace goes with the network
            linux=pb.LinuxPodSandboxConfig(
                cgroup_parent=cgroup_parent,
                security_context=pb.LinuxSandboxSecurityContext(namespace_options=ns)))
        resp = self.rt.RunPodSandbox(pb.RunPodSandboxRequest(config=config), timeout=self.timeout)
        return resp.pod_sandbox_id, config

    def pod_status(self, pod_id):
        return self.rt.PodSandboxStatus(pb.PodSandboxStatusRequest(pod_sandbox_id=pod_id),
                                        timeout=self.timeout).status

    def pod_state(self, pod_id):
        """The pod's state, by name (SANDBOX_READY, SANDBOX_NOTREADY)."""
        return pb.PodSandboxState.Name(self.pod_status(pod_id).state)

    def stop_pod(self, pod_id):
        self.rt.StopPodSandbox(pb.StopPodSandboxRequest(pod_sandbox_id=pod_id),
                               timeout=self.timeout)

    def remove_pod(self, pod_id):
        self.rt.RemovePodSandbox(pb.RemovePodSandboxRequest(pod_sandbox_id=pod_id),
                                 timeout=self.timeout)

    def list_pods(self):
        return self.rt.ListPodSandbox(pb.ListPodSandboxRequest(), timeout=self.timeout).items

    # ------------------------------------------------------------ containers

    def create(self, pod_id, pod_config, name, image, command, log_path=None, resources=None,
               tty=False):
        """Create a container in the pod; command is the full argv. Returns its id."""
        config = pb.ContainerConfig(
            metadata=pb.ContainerMetadata(name=name), image=pb.ImageSpec(image=image),
            command=command[:1], args=command[1:], log_path=log_path or name + ".log",
            linux=pb.LinuxContainerConfig(resources=resources), tty=tty)
        resp = self.rt.CreateContainer(
            pb.CreateContainerRequest(pod_sandbox_id=pod_id, config=config,
                                      sandbox_config=pod_config), timeout=self.timeout)
        return resp.container_id

    def start(self, cid):
        self.rt.StartContainer(pb.StartContainerRequest(container_id=cid), timeout=self.timeout)

    def run(self, pod_id, pod_config, name, image, command, **kw):
        cid = self.create(pod_id, pod_config, name, image, command, **kw)
        self.start(cid)
        return cid

    def status(self, cid, verbose=False):
        """ContainerStatus; with verbose, (status, info dict) (info has the init pid)."""
        resp = self.rt.ContainerStatus(pb.ContainerStatusRequest(container_id=cid,
                                                                 verbose=verbose),
                                       timeout=self.timeout)
        if verbose:
            return resp.status, json.loads(resp.info.get("info", "{}"))
        return resp.status

    def state(self, cid):
        """The container's state, by name (CONTAINER_RUNNING, ...)."""
        return name(self.status(cid).state)

    def wait_state(self, cid, state, timeout=20, interval=0.02):
        """Poll ContainerStatus until it reads state; returns the status (or the last one)."""
        deadline = time.monotonic() + timeout
        while True:
            st = self.status(cid)
            if st.state == state or time.monotonic() >= deadline:
                return st
            time.sleep(interval)

    def exec_sync(self, cid, cmd, timeout=10):
        """ExecSync: (exit code, stdout bytes, stderr bytes)."""
        resp = self.rt.ExecSync(pb.ExecSyncRequest(container_id=cid, cmd=cmd, timeout=timeout),
                                timeout=timeout + self.timeout)
        return resp.exit_code, resp.stdout, resp.stderr

    def stats(self, cid):
        return self.rt.ContainerStats(pb.ContainerStatsRequest(container_id=cid),
                                      timeout=self.timeout).stats

    def update_resources(self, cid, resources):
        self.rt.UpdateContainerResources(
            pb.UpdateContainerResourcesRequest(container_id=cid, linux=resources),
            timeout=self.timeout)

    def stop(self, cid, timeout):
        """StopContainer: SIGTERM (or the image's stop signal), SIGKILL after timeout s."""
        self.rt.StopContainer(pb.StopContainerRequest(container_id=cid, timeout=timeout),
                              timeout=timeout + self.timeout)

    def remove(self, cid):
        self.rt.RemoveContainer(pb.RemoveContainerRequest(container_id=cid),
                                timeout=self.timeout)

    def list_containers(self, pod_id=None):
        flt = pb.ContainerFilter(pod_sandbox_id=pod_id) if pod_id else None
        return self.rt.ListContainers(pb.ListContainersRequest(filter=flt),
                                      timeout=self.timeout).containers

    def images(self):
        return [t for i in self.img.ListImages(pb.ListImagesRequest(), timeout=self.timeout).images
                for t in i.repo_tags]

    def version(self):
        return self.rt.Version(pb.VersionRequest(), timeout=self.timeout)

    def remove_all(self):
        """Stop and remove every pod (and with it its containers)."""
        for pod in self.list_pods():
            self.stop_pod(pod.id)
            self.remove_pod(pod.id)


def resources(**kw):
    return pb.LinuxContainerResources(**kw)


def read_cri_log(path):
    """Parse a CRI-format log file: [(timestamp, stream, tag, content)], one per line.

    Each line is "RFC3339NANO STREAM TAG CONTENT" (TAG "F" full line, "P" partial)."""
    entries = []
    with open(path, "rb") as f:
        for line in f.read().split(b"\n"):
            if not line:
                continue
            ts, stream, tag, content = line.split(b" ", 3)
            entries.append((ts.decode(), stream.decode(), tag.decode(), content))
    return entries
