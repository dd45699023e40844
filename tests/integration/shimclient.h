/* SPDX-License-Identifier: Apache-2.0 */
/* Minimal ttrpc client for the v1 shim service (integration tests only).
 *
 * One receive thread per connection demultiplexes response frames by stream id, so several
 * calls may be in flight on one connection (e.g. a Wait blocked in a background thread while
 * other calls proceed). Every blocking operation takes a timeout. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "proto/ttrpc_frame.h"

#define SHIM_SERVICE "containerd.runtime.linux.shim.v1.Shim"

struct shimclient;

/* Result of one call, as seen on the wire. */
struct shimclient_reply {
	uint32_t stream;    /* stream id used */
	uint8_t type;       /* response frame type (expect 2) */
	uint8_t flags;      /* response frame flags (expect 0) */
	uint32_t frame_len; /* Length field of the response frame (0 for an Empty success) */
	bool has_status;    /* Response.status present */
	int code;           /* gRPC code (0 when no status) */
	char *msg;          /* status message ("" when none), heap */
	uint8_t *payload;   /* Response.payload, heap (never NULL on success), plen bytes */
	size_t plen;
};

/* Connects to a unix socket path (abstract if path starts with '@'). NULL on failure
 * (errno set). The connect is retried until timeout_ms if the path does not exist yet. */
struct shimclient *shimclient_connect(const char *path, int timeout_ms);

/* Shuts the socket down, joins the receive thread, frees everything. Calls blocked in other
 * threads return -EPIPE first; the caller must join those threads before calling this if it
 * shares the object (shimclient_shutdown() wakes them without freeing). NULL is a no-op. */
void shimclient_close(struct shimclient *c);
/* Wakes every waiter (pending calls fail with -EPIPE) without freeing the object. */
void shimclient_shutdown(struct shimclient *c);

/* True once the peer closed the connection (or it was shut down). */
bool shimclient_closed(struct shimclient *c);

/* Next client stream id (1, 3, 5, ...). Thread-safe. */
uint32_t shimclient_next_stream(struct shimclient *c);

/* Typed call of SHIM_SERVICE/method. req may be NULL (sends an empty payload, i.e. Empty).
 * Returns 0 when a response frame arrived (then *code and *msg are set; *msg is heap, "" if no
 * status; code 0 and resp_desc != NULL: *resp is the unpacked payload, free with
 * protobuf_c_message_free_unpacked), or a negative errno: -ETIMEDOUT, -EPIPE (connection
 * closed), -EBADMSG (undecodable response or payload). code/msg/resp may be NULL. */
int shimclient_call(struct shimclient *c, const char *method, const ProtobufCMessage *req,
		    const ProtobufCMessageDescriptor *resp_desc, ProtobufCMessage **resp, int *code,
		    char **msg, int timeout_ms);

/* Same as shimclient_call, but also reports the wire details in *reply (free with
 * shimclient_reply_free). */
int shimclient_call_ex(struct shimclient *c, const char *service, const char *method,
		       const ProtobufCMessage *req, int timeout_ms, struct shimclient_reply *reply);

/* Sends a framed request with an arbitrary payload on a caller-chosen stream id and waits
 * for the response on that stream id. */
int shimclient_call_bytes(struct shimclient *c, uint32_t stream, const char *service,
			  const char *method, const uint8_t *payload, size_t plen, int timeout_ms,
			  struct shimclient_reply *reply);

void shimclient_reply_free(struct shimclient_reply *r);

/* ---- raw access (protocol-abuse tests) ---- */

/* Writes n bytes as they are (serialized with other senders). 0 or -errno. */
int shimclient_send_raw(struct shimclient *c, const void *buf, size_t n);
/* Writes a 10-byte header followed by `len` body bytes (body may be shorter than len:
 * the remainder is filled with `fill`). Useful for oversized frames. */
int shimclient_send_frame(struct shimclient *c, const struct ttrpc_hdr *h, const void *body,
			  size_t body_len, uint8_t fill);
/* Waits for one received frame on `stream` (stream 0: the oldest frame of any stream).
 * *body is heap (NULL when h->len is 0). 0, -ETIMEDOUT, or -EPIPE (closed, nothing queued). */
int shimclient_recv_frame(struct shimclient *c, uint32_t stream, int timeout_ms,
			  struct ttrpc_hdr *h, uint8_t **body);
/* Decodes a response frame body into *reply (h describes the frame). 0 or -EBADMSG. */
int shimclient_decode_reply(const struct ttrpc_hdr *h, const uint8_t *body,
			    struct shimclient_reply *reply);
/* Number of frames received but not claimed yet. */
size_t shimclient_pending_frames(struct shimclient *c);
