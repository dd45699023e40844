/* SPDX-License-Identifier: Apache-2.0 */
/* ttrpc framing (v1.1.1): 10-byte big-endian header, then Length bytes of data. Pure code. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TTRPC_HDR_LEN 10
#define TTRPC_MAX_MSG (4u << 20) /* 4 MiB of data; exactly 4 MiB is legal */
#define TTRPC_TYPE_REQUEST 1
#define TTRPC_TYPE_RESPONSE 2

struct ttrpc_hdr {
	uint32_t len;
	uint32_t stream;
	uint8_t type;
	uint8_t flags;
};

void ttrpc_hdr_encode(uint8_t out[TTRPC_HDR_LEN], const struct ttrpc_hdr *h);
void ttrpc_hdr_decode(const uint8_t in[TTRPC_HDR_LEN], struct ttrpc_hdr *h);

/* Incremental reader for a byte stream split anywhere. */
struct ttrpc_reader {
	uint8_t hdr_buf[TTRPC_HDR_LEN];
	size_t hdr_have;
	struct ttrpc_hdr hdr;
	uint8_t *body;
	size_t body_have;
	uint64_t discard_left; /* bytes of an oversized frame still to skip */
	bool in_body;
};

/* A complete frame. body is heap memory handed over to the callee (free() it), NULL when
 * len is 0. oversize: the frame was larger than TTRPC_MAX_MSG and its data was discarded. */
typedef int (*ttrpc_frame_cb)(void *ctx, const struct ttrpc_hdr *h, uint8_t *body, bool oversize);

void ttrpc_reader_init(struct ttrpc_reader *r);
void ttrpc_reader_reset(struct ttrpc_reader *r);
/* Feeds n bytes; calls cb for each completed frame. Returns 0, -ENOMEM, or the first negative
 * value a callback returned (feeding stops there). */
int ttrpc_reader_feed(struct ttrpc_reader *r, const uint8_t *data, size_t n, ttrpc_frame_cb cb,
		      void *ctx);
/* True if a frame is partially read (a client that vanishes now vanished mid-frame). */
bool ttrpc_reader_mid_frame(const struct ttrpc_reader *r);
