#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
#
# tests/e2e/task_update.py ADDRESS NAMESPACE ID MEMORY_LIMIT -- containerd's
# Tasks/Update with resources {"memory":{"limit":MEMORY_LIMIT}}, what `ctr task
# update --memory-limit` does in later releases (ctr 1.6 has no `task update`).
# The request is encoded by hand (three fields), so no containerd proto is needed:
#   UpdateTaskRequest{1: container_id, 2: Any{1: type_url, 2: value}}
# with the value the JSON of specs.LinuxResources under containerd's type URL.
# Exit 0 when containerd answered OK, else 1 with the status on stderr.
import json
import sys

import grpc


def field(num, data):
    """A length-delimited protobuf field."""
    n, out = len(data), bytearray([num << 3 | 2])
    while n >= 0x80:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out) + data


def main():
    addr, ns, cid, limit = sys.argv[1:5]
    res = json.dumps({"memory": {"limit": int(limit)}}).encode()
    any_ = field(1, b"types.containerd.io/opencontainers/runtime-spec/1/LinuxResources") + field(2, res)
    req = field(1, cid.encode()) + field(2, any_)
    with grpc.insecure_channel("unix://" + addr) as ch:
        call = ch.unary_unary("/containerd.services.tasks.v1.Tasks/Update",
                              request_serializer=lambda b: b, response_deserializer=lambda b: b)
        try:
            call(req, metadata=[("containerd-namespace", ns)], timeout=20)
        except grpc.RpcError as e:
            print(f"Update: {e.code()}: {e.details()}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
