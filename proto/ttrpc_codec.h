/* SPDX-License-Identifier: Apache-2.0 */
/* ttrpc Request/Response envelopes (protobuf-c), framed. Pure code. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "github.com/containerd/ttrpc/request.pb-c.h"

#define TTRPC_DECODE_REQUEST_ERR "unmarshal request error: unexpected EOF"
#define TTRPC_DECODE_PAYLOAD_ERR "ttrpc: error unmarshalling payload: unexpected EOF"

/* gRPC codes */
enum {
	GRPC_OK = 0,
	GRPC_CANCELLED = 1,
	GRPC_UNKNOWN = 2,
	GRPC_INVALID_ARGUMENT = 3,
	GRPC_DEADLINE_EXCEEDED = 4,
	GRPC_NOT_FOUND = 5,
	GRPC_ALREADY_EXISTS = 6,
	GRPC_PERMISSION_DENIED = 7,
	GRPC_RESOURCE_EXHAUSTED = 8,
	GRPC_FAILED_PRECONDITION = 9,
	GRPC_ABORTED = 10,
	GRPC_OUT_OF_RANGE = 11,
	GRPC_UNIMPLEMENTED = 12,
	GRPC_INTERNAL = 13,
	GRPC_UNAVAILABLE = 14,
};

/* Decodes a ttrpc.Request; NULL if undecodable. Free with ttrpc__request__free_unpacked. */
Ttrpc__Request *ttrpc_request_decode(const uint8_t *buf, size_t len);

/* Builds a whole response frame (header included) in one heap buffer. code 0: success with
 * payload; else an error status with msg and no payload. A response that would exceed
 * TTRPC_MAX_MSG becomes RESOURCE_EXHAUSTED. Returns 0 or -ENOMEM. */
int ttrpc_response_frame(uint32_t stream, int code, const char *msg, const uint8_t *payload,
			 size_t plen, uint8_t **ret_frame, size_t *ret_len);

/* Builds a whole request frame (for clients: tests and the bench). */
int ttrpc_request_frame(uint32_t stream, const char *service, const char *method,
			const uint8_t *payload, size_t plen, int64_t timeout_nano,
			uint8_t **ret_frame, size_t *ret_len);

/* Request metadata (ttrpc.KeyValue), e.g. containerd's "containerd-namespace-ttrpc". */
struct ttrpc_md {
	const char *key, *value;
};
#define TTRPC_MD_MAX 8

/* The same with metadata (at most TTRPC_MD_MAX pairs, else -E2BIG). */
int ttrpc_request_frame_md(uint32_t stream, const char *service, const char *method,
			   const uint8_t *payload, size_t plen, int64_t timeout_nano,
			   const struct ttrpc_md *md, size_t n_md, uint8_t **ret_frame,
			   size_t *ret_len);

/* Decodes a response body: *ret_code (0 on success), message and payload copies (heap). */
int ttrpc_response_decode(const uint8_t *buf, size_t len, int *ret_code, char **ret_msg,
			  uint8_t **ret_payload, size_t *ret_plen);
