/* SPDX-License-Identifier: Apache-2.0 */
/* The frame reader on an arbitrary byte stream, split anywhere (the first byte
 * chooses the split points), and the envelope and payload decoders behind it.
 * Invariant: the frames the reader hands over (header, oversize flag, body
 * bytes) are exactly those of a reference that scans the whole stream at once,
 * in order, and the reader is mid-frame at the end exactly when bytes are left
 * over after the last complete frame. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "fuzz_decode.h"
#include "fuzz_plant.h"
#include "proto/ttrpc_frame.h"

struct ref_frame {
	size_t off; /* of the data, in the stream */
	uint32_t len, stream;
	uint8_t type, flags;
};

struct scan {
	const uint8_t *stream;
	struct ref_frame *want;
	size_t n_want, got;
};

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* The reference: complete frames of the whole stream; returns the offset after
 * the last. */
static size_t ref_scan(const uint8_t *d, size_t size, struct ref_frame *out, size_t *n)
{
	size_t pos = 0;

	*n = 0;
	while (size - pos >= TTRPC_HDR_LEN) {
		const uint8_t *h = d + pos;
		uint32_t len = be32(h);
		if (size - pos - TTRPC_HDR_LEN < len)
			break;
		out[(*n)++] = (struct ref_frame){ .off = pos + TTRPC_HDR_LEN,
						  .len = len,
						  .stream = be32(h + 4),
						  .type = h[8],
						  .flags = h[9] };
		pos += TTRPC_HDR_LEN + len;
	}
	return pos;
}

static int on_frame(void *ctx, const struct ttrpc_hdr *h, uint8_t *body, bool oversize)
{
	struct scan *sc = ctx;
	const struct ref_frame *w;

	FUZZ_CHECK(sc->got < sc->n_want, "frame %zu handed over, the stream has %zu", sc->got + 1,
		   sc->n_want);
	w = &sc->want[sc->got++];
	FUZZ_CHECK(h->len == w->len && h->stream == w->stream && h->type == w->type &&
			   h->flags == w->flags,
		   "frame %zu: header len %u stream %u type %u flags %u, want %u %u %u %u", sc->got,
		   h->len, h->stream, h->type, h->flags, w->len, w->stream, w->type, w->flags);
	FUZZ_CHECK(oversize == (w->len > TTRPC_MAX_MSG), "frame %zu: oversize %d, len %u", sc->got,
		   oversize, w->len);
	if (oversize || w->len == 0) {
		FUZZ_CHECK(body == NULL, "frame %zu: a body for len %u", sc->got, w->len);
	} else {
		FUZZ_CHECK(body && memcmp(body, sc->stream + w->off, w->len) == 0,
			   "frame %zu: body differs from the stream's %u bytes", sc->got, w->len);
		if (h->type == TTRPC_TYPE_REQUEST)
			fuzz_decode_request(body, h->len);
	}
	free(body);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ttrpc_reader r;
	struct scan sc = { 0 };
	size_t off = 0, end;
	uint8_t step;

	FUZZ_PLANT(size);
	if (size < 1)
		return 0;
	step = data[0] ? data[0] : 1;
	data++;
	size--;
	sc.stream = data;
	sc.want = malloc((size / TTRPC_HDR_LEN + 1) * sizeof(*sc.want));
	if (!sc.want)
		return 0;
	end = ref_scan(data, size, sc.want, &sc.n_want);
	ttrpc_reader_init(&r);
	while (off < size) {
		size_t n = size - off < step ? size - off : step;
		int rc = ttrpc_reader_feed(&r, data + off, n, on_frame, &sc);
		FUZZ_CHECK(rc == 0, "ttrpc_reader_feed: %d", rc);
		off += n;
		step = (uint8_t)(step * 7 + 3) | 1;
	}
	FUZZ_CHECK(sc.got == sc.n_want, "%zu frames handed over, the stream has %zu", sc.got,
		   sc.n_want);
	FUZZ_CHECK(ttrpc_reader_mid_frame(&r) == (end < size),
		   "mid_frame %d with %zu bytes after the last frame", ttrpc_reader_mid_frame(&r),
		   size - end);
	ttrpc_reader_reset(&r);
	free(sc.want);
	return 0;
}
