# SPDX-License-Identifier: Apache-2.0
"""Build, offline, an OCI image layout tar holding two tiny images made from busybox-static.

    image.py OUT.tar          writes the tar, prints the two image names

Both images share one layer (static busybox, its applet links, /etc/passwd and /etc/group):
IMAGE runs /bin/sh by default, PAUSE is the pod sandbox image (it sleeps). The index names each
manifest with containerd's io.containerd.image.name annotation, so `ctr -n k8s.io images import
OUT.tar` creates exactly these two names, and the CRI plugin's sandbox_image can point at PAUSE.
"""

import hashlib
import io
import json
import os
import platform
import subprocess
import sys
import tarfile

IMAGE = "cshim.test/busybox:cri"
PAUSE = "cshim.test/pause:cri"
BUSYBOX = "/bin/busybox"
MTIME = 1700000000  # fixed, so the same busybox gives the same digests

GOARCH = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "ppc64le": "ppc64le",
          "s390x": "s390x", "riscv64": "riscv64"}


def _add(tar, name, data=None, mode=0o644, kind=tarfile.REGTYPE, link=""):
    info = tarfile.TarInfo(name)
    info.mtime = MTIME
    info.mode = mode
    info.type = kind
    info.linkname = link
    if data is not None:
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    else:
        tar.addfile(info)


def layer_tar():
    """The uncompressed layer: a busybox root file system."""
    with open(BUSYBOX, "rb") as f:
        busybox = f.read()
    applets = subprocess.run([BUSYBOX, "--list"], check=True, capture_output=True,
                             text=True).stdout.split()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for d in ("bin", "dev", "etc", "proc", "root", "sys", "tmp", "var", "var/log"):
            _add(tar, d, mode=0o1777 if d == "tmp" else 0o755, kind=tarfile.DIRTYPE)
        _add(tar, "bin/busybox", busybox, mode=0o755)
        for a in sorted(set(applets) | {"sh"}):
            if a != "busybox":
                _add(tar, "bin/" + a, kind=tarfile.SYMTYPE, link="busybox")
        _add(tar, "etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n"
             b"nobody:x:65534:65534:nobody:/:/bin/false\n")
        _add(tar, "etc/group", b"root:x:0:\nnogroup:x:65534:\n")
    return buf.getvalue()


def _blob(blobs, media_type, data):
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    blobs[digest] = data
    return {"mediaType": media_type, "digest": digest, "size": len(data)}


def _json(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


def layout(out):
    arch = GOARCH.get(platform.machine(), platform.machine())
    blobs = {}
    layer = layer_tar()
    layer_desc = _blob(blobs, "application/vnd.oci.image.layer.v1.tar", layer)
    diff_id = layer_desc["digest"]  # uncompressed: the diff id is the blob's digest
    env = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]
    configs = {
        IMAGE: {"Env": env, "Cmd": ["/bin/sh"]},
        PAUSE: {"Env": env, "Entrypoint": ["/bin/sleep", "2147483647"]},
    }
    manifests = []
    for name, cfg in configs.items():
        config = {"architecture": arch, "os": "linux", "config": cfg,
                  "rootfs": {"type": "layers", "diff_ids": [diff_id]}}
        config_desc = _blob(blobs, "application/vnd.oci.image.config.v1+json", _json(config))
        manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "config": config_desc, "layers": [layer_desc]}
        desc = _blob(blobs, "application/vnd.oci.image.manifest.v1+json", _json(manifest))
        desc["platform"] = {"architecture": arch, "os": "linux"}
        desc["annotations"] = {"io.containerd.image.name": name,
                               "org.opencontainers.image.ref.name": name.rsplit(":", 1)[1]}
        manifests.append(desc)
    index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
             "manifests": manifests}
    with tarfile.open(out, "w") as tar:
        _add(tar, "oci-layout", _json({"imageLayoutVersion": "1.0.0"}))
        _add(tar, "index.json", _json(index))
        _add(tar, "blobs", mode=0o755, kind=tarfile.DIRTYPE)
        _add(tar, "blobs/sha256", mode=0o755, kind=tarfile.DIRTYPE)
        for digest, data in blobs.items():
            _add(tar, "blobs/sha256/" + digest.split(":", 1)[1], data)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: image.py OUT.tar")
    layout(sys.argv[1])
    os.chmod(sys.argv[1], 0o644)
    print(IMAGE, PAUSE)
