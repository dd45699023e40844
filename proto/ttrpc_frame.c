/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ttrpc_frame.h"

void ttrpc_hdr_encode(uint8_t out[TTRPC_HDR_LEN], const struct ttrpc_hdr *h)
{
	out[0] = (uint8_t)(h->len >> 24);
	out[1] = (uint8_t)(h->len >> 16);
	out[2] = (uint8_t)(h->len >> 8);
	out[3] = (uint8_t)h->len;
	out[4] = (uint8_t)(h->stream >> 24);
	out[5] = (uint8_t)(h->stream >> 16);
	out[6] = (uint8_t)(h->stream >> 8);
	out[7] = (uint8_t)h->stream;
	out[8] = h->type;
	out[9] = h->flags;
}

void ttrpc_hdr_decode(const uint8_t in[TTRPC_HDR_LEN], struct ttrpc_hdr *h)
{
	h->len = (uint32_t)in[0] << 24 | (uint32_t)in[1] << 16 | (uint32_t)in[2] << 8 | in[3];
	h->stream = (uint32_t)in[4] << 24 | (uint32_t)in[5] << 16 | (uint32_t)in[6] << 8 | in[7];
	h->type = in[8];
	h->flags = in[9];
}

void ttrpc_reader_init(struct ttrpc_reader *r)
{
	memset(r, 0, sizeof(*r));
}

void ttrpc_reader_reset(struct ttrpc_reader *r)
{
	free(r->body);
	ttrpc_reader_init(r);
}

bool ttrpc_reader_mid_frame(const struct ttrpc_reader *r)
{
	return r->hdr_have > 0 || r->in_body;
}

int ttrpc_reader_feed(struct ttrpc_reader *r, const uint8_t *data, size_t n, ttrpc_frame_cb cb,
		      void *ctx)
{
	while (n > 0 || (r->in_body && r->discard_left == 0 && r->body_have == r->hdr.len)) {
		if (!r->in_body) {
			size_t take = TTRPC_HDR_LEN - r->hdr_have;
			if (take > n)
				take = n;
			memcpy(r->hdr_buf + r->hdr_have, data, take);
			r->hdr_have += take;
			data += take;
			n -= take;
			if (r->hdr_have < TTRPC_HDR_LEN)
				return 0;
			ttrpc_hdr_decode(r->hdr_buf, &r->hdr);
			r->hdr_have = 0;
			r->in_body = true;
			r->body_have = 0;
			if (r->hdr.len > TTRPC_MAX_MSG) {
				r->discard_left = r->hdr.len;
			} else if (r->hdr.len > 0) {
				r->body = malloc(r->hdr.len);
				if (!r->body) {
					/* The stream cannot be resynchronized: the caller drops it. */
					ttrpc_reader_reset(r);
					return -ENOMEM;
				}
			}
		}
		if (r->discard_left > 0) {
			size_t take = n < r->discard_left ? n : (size_t)r->discard_left;
			data += take;
			n -= take;
			r->discard_left -= take;
			if (r->discard_left > 0)
				return 0;
			r->in_body = false;
			int rc = cb(ctx, &r->hdr, NULL, true);
			if (rc < 0)
				return rc;
			continue;
		}
		if (r->body_have < r->hdr.len) {
			size_t want = r->hdr.len - r->body_have;
			size_t take = n < want ? n : want;
			memcpy(r->body + r->body_have, data, take);
			r->body_have += take;
			data += take;
			n -= take;
			if (r->body_have < r->hdr.len)
				return 0;
		}
		{
			uint8_t *body = r->body;
			int rc;
			r->body = NULL;
			r->in_body = false;
			r->body_have = 0;
			rc = cb(ctx, &r->hdr, body, false);
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}
