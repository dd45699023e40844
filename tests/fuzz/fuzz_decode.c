/* SPDX-License-Identifier: Apache-2.0 */
#include <stdlib.h>

#include "fuzz_decode.h"
#include "github.com/containerd/containerd/runtime/linux/runctypes/runc.pb-c.h"
#include "github.com/containerd/containerd/runtime/v1/shim/v1/shim.pb-c.h"
#include "google/protobuf/empty.pb-c.h"
#include "proto/ttrpc_codec.h"

static const ProtobufCMessageDescriptor *const descs[] = {
	&containerd__runtime__linux__shim__v1__create_task_request__descriptor,
	&containerd__runtime__linux__shim__v1__start_request__descriptor,
	&containerd__runtime__linux__shim__v1__state_request__descriptor,
	&containerd__runtime__linux__shim__v1__kill_request__descriptor,
	&containerd__runtime__linux__shim__v1__delete_process_request__descriptor,
	&containerd__runtime__linux__shim__v1__exec_process_request__descriptor,
	&containerd__runtime__linux__shim__v1__resize_pty_request__descriptor,
	&containerd__runtime__linux__shim__v1__close_iorequest__descriptor,
	&containerd__runtime__linux__shim__v1__list_pids_request__descriptor,
	&containerd__runtime__linux__shim__v1__checkpoint_task_request__descriptor,
	&containerd__runtime__linux__shim__v1__update_task_request__descriptor,
	&containerd__runtime__linux__shim__v1__wait_request__descriptor,
	&google__protobuf__empty__descriptor,
	&containerd__linux__runc__create_options__descriptor,
	&containerd__linux__runc__checkpoint_options__descriptor,
};

void fuzz_decode_payloads(const uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < sizeof(descs) / sizeof(descs[0]); i++) {
		ProtobufCMessage *m = protobuf_c_message_unpack(descs[i], NULL, len, buf);
		if (m) {
			/* Re-encode what was decoded: the packer must cope with any decoded value. */
			size_t n = protobuf_c_message_get_packed_size(m);
			uint8_t *out = malloc(n ? n : 1);
			if (out) {
				protobuf_c_message_pack(m, out);
				free(out);
			}
			protobuf_c_message_free_unpacked(m, NULL);
		}
	}
}

void fuzz_decode_request(const uint8_t *buf, size_t len)
{
	Ttrpc__Request *req = ttrpc_request_decode(buf, len);
	if (!req)
		return;
	fuzz_decode_payloads(req->payload.data, req->payload.len);
	ttrpc__request__free_unpacked(req, NULL);
}
