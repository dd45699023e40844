/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "google/rpc/status.pb-c.h"
#include "ttrpc_codec.h"
#include "ttrpc_frame.h"

Ttrpc__Request *ttrpc_request_decode(const uint8_t *buf, size_t len)
{
	return ttrpc__request__unpack(NULL, len, buf);
}

static int frame_message(uint32_t stream, uint8_t type, const ProtobufCMessage *m,
			 uint8_t **ret_frame, size_t *ret_len)
{
	size_t n = protobuf_c_message_get_packed_size(m);
	uint8_t *f = malloc(TTRPC_HDR_LEN + n);
	struct ttrpc_hdr h = { .len = (uint32_t)n, .stream = stream, .type = type };

	if (!f)
		return -ENOMEM;
	ttrpc_hdr_encode(f, &h);
	protobuf_c_message_pack(m, f + TTRPC_HDR_LEN);
	*ret_frame = f;
	*ret_len = TTRPC_HDR_LEN + n;
	return 0;
}

int ttrpc_response_frame(uint32_t stream, int code, const char *msg, const uint8_t *payload,
			 size_t plen, uint8_t **ret_frame, size_t *ret_len)
{
	Ttrpc__Response resp = TTRPC__RESPONSE__INIT;
	Google__Rpc__Status st = GOOGLE__RPC__STATUS__INIT;
	char big[96];

	if (code == 0) {
		resp.payload.data = (uint8_t *)payload;
		resp.payload.len = plen;
		/* Never emit more than the peer accepts: containerd 1.6's client panics. */
		if (protobuf_c_message_get_packed_size(&resp.base) > TTRPC_MAX_MSG) {
			snprintf(big, sizeof(big),
				 "message length %zu exceed maximum message size of %u",
				 protobuf_c_message_get_packed_size(&resp.base), TTRPC_MAX_MSG);
			return ttrpc_response_frame(stream, GRPC_RESOURCE_EXHAUSTED, big, NULL, 0,
						    ret_frame, ret_len);
		}
	} else {
		st.code = code;
		st.message = (char *)(msg ? msg : "");
		resp.status = &st;
	}
	return frame_message(stream, TTRPC_TYPE_RESPONSE, &resp.base, ret_frame, ret_len);
}

int ttrpc_request_frame(uint32_t stream, const char *service, const char *method,
			const uint8_t *payload, size_t plen, int64_t timeout_nano,
			uint8_t **ret_frame, size_t *ret_len)
{
	return ttrpc_request_frame_md(stream, service, method, payload, plen, timeout_nano, NULL, 0,
				      ret_frame, ret_len);
}

int ttrpc_request_frame_md(uint32_t stream, const char *service, const char *method,
			   const uint8_t *payload, size_t plen, int64_t timeout_nano,
			   const struct ttrpc_md *md, size_t n_md, uint8_t **ret_frame,
			   size_t *ret_len)
{
	Ttrpc__Request req = TTRPC__REQUEST__INIT;
	Ttrpc__KeyValue kv[TTRPC_MD_MAX], *kvp[TTRPC_MD_MAX];

	if (n_md > TTRPC_MD_MAX)
		return -E2BIG;
	for (size_t i = 0; i < n_md; i++) {
		ttrpc__key_value__init(&kv[i]);
		kv[i].key = (char *)md[i].key;
		kv[i].value = (char *)md[i].value;
		kvp[i] = &kv[i];
	}
	req.service = (char *)service;
	req.method = (char *)method;
	req.payload.data = (uint8_t *)payload;
	req.payload.len = plen;
	req.timeout_nano = timeout_nano;
	req.n_metadata = n_md;
	req.metadata = n_md ? kvp : NULL;
	return frame_message(stream, TTRPC_TYPE_REQUEST, &req.base, ret_frame, ret_len);
}

int ttrpc_response_decode(const uint8_t *buf, size_t len, int *ret_code, char **ret_msg,
			  uint8_t **ret_payload, size_t *ret_plen)
{
	Ttrpc__Response *r = ttrpc__response__unpack(NULL, len, buf);
	char *msg = NULL;
	uint8_t *pl = NULL;

	if (!r)
		return -EBADMSG;
	*ret_code = r->status ? r->status->code : 0;
	msg = strdup(r->status && r->status->message ? r->status->message : "");
	pl = malloc(r->payload.len ? r->payload.len : 1);
	if (!msg || !pl) {
		free(msg);
		free(pl);
		ttrpc__response__free_unpacked(r, NULL);
		return -ENOMEM;
	}
	if (r->payload.len)
		memcpy(pl, r->payload.data, r->payload.len);
	*ret_plen = r->payload.len;
	*ret_msg = msg;
	*ret_payload = pl;
	ttrpc__response__free_unpacked(r, NULL);
	return 0;
}
