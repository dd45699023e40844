/* SPDX-License-Identifier: Apache-2.0 */
/* The frame reader on an arbitrary byte stream, split anywhere (the first bytes choose the
 * split points), and the envelope and payload decoders behind it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_decode.h"
#include "fuzz_plant.h"
#include "proto/ttrpc_frame.h"

static int on_frame(void *ctx, const struct ttrpc_hdr *h, uint8_t *body, bool oversize)
{
	(void)ctx;
	if (!oversize && h->type == TTRPC_TYPE_REQUEST)
		fuzz_decode_request(body, h->len);
	free(body);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ttrpc_reader r;
	size_t off = 0;
	uint8_t step;

	FUZZ_PLANT(size);
	if (size < 1)
		return 0;
	step = data[0] ? data[0] : 1;
	data++;
	size--;
	ttrpc_reader_init(&r);
	while (off < size) {
		size_t n = size - off < step ? size - off : step;
		if (ttrpc_reader_feed(&r, data + off, n, on_frame, NULL) < 0)
			break;
		off += n;
		step = (uint8_t)(step * 7 + 3) | 1;
	}
	ttrpc_reader_reset(&r);
	return 0;
}
