/* SPDX-License-Identifier: Apache-2.0 */
/* validate_wire_len (server/validate.c), the scan of a request's protobuf for the length a
 * client sent in a string field (a NUL inside makes it longer than what protobuf-c keeps).
 * First input byte even: the rest drives a generator of a well-formed CreateTaskRequest
 * (string fields 1-3 and 6-10, repeated, NULs and all; the bool 5; unknown fields of every
 * wire type), so the answer is known: for checkpoint (9), parent_checkpoint (10) and id (1),
 * the length of the field's last occurrence, 0 when absent. protobuf-c must decode it, keep
 * that last occurrence (cut at its first NUL) and validate_wire_len must return its length.
 * First byte odd: the rest as raw bytes: the answer is at most the input's length or
 * strlen(s), and when protobuf-c decodes the bytes, at least strlen of what it kept. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "fuzz_plant.h"
#include "github.com/containerd/containerd/runtime/v1/shim/v1/shim.pb-c.h"
#include "server/validate.h"

typedef Containerd__Runtime__Linux__Shim__V1__CreateTaskRequest CreateReq;
#define UNPACK containerd__runtime__linux__shim__v1__create_task_request__unpack
#define FREE containerd__runtime__linux__shim__v1__create_task_request__free_unpacked

static const uint32_t STRING_FIELDS[] = { 1, 2, 3, 6, 7, 8, 9, 10 };
static const uint32_t CHECKED[] = { 1, 9, 10 };
#define NCHECKED (sizeof(CHECKED) / sizeof(CHECKED[0]))

struct last {
	bool seen;
	size_t off, len; /* of the last occurrence's bytes in the output */
};

static size_t put_varint(uint8_t *o, uint64_t v)
{
	size_t n = 0;
	while (v >= 0x80) {
		o[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	o[n++] = (uint8_t)v;
	return n;
}

static const char *field_of(const CreateReq *r, uint32_t f)
{
	return f == 1 ? r->id : f == 9 ? r->checkpoint : r->parent_checkpoint;
}

/* Builds the message from the input's ops into out (room for 16 * size + 16 bytes). */
static size_t generate(const uint8_t *d, size_t size, uint8_t *out, struct last *last)
{
	size_t i = 0, o = 0;

	while (i < size) {
		uint8_t op = d[i++], arg = i < size ? d[i++] : 0;
		switch (op & 3) {
		case 0: { /* a string field, arg bytes of the input (fewer at its end) */
			uint32_t f = STRING_FIELDS[(op >> 2) % 8];
			size_t n = arg <= size - i ? arg : size - i;
			o += put_varint(out + o, (uint64_t)f << 3 | 2);
			o += put_varint(out + o, n);
			for (size_t k = 0; k < NCHECKED; k++)
				if (CHECKED[k] == f)
					last[k] = (struct last){ true, o, n };
			memcpy(out + o, d + i, n);
			o += n;
			i += n;
			break;
		}
		case 1: /* terminal, a varint */
			o += put_varint(out + o, 5 << 3 | 0);
			o += put_varint(out + o, (uint64_t)arg << (op >> 2));
			break;
		case 2: /* an unknown varint or length-delimited field */
			o += put_varint(out + o,
					(uint64_t)(20 + (op >> 3)) << 3 | (op & 4 ? 2 : 0));
			o += put_varint(out + o, op & 4 ? 0 : arg);
			break;
		default: /* an unknown fixed64 or fixed32 field */
			o += put_varint(out + o,
					(uint64_t)(20 + (op >> 3)) << 3 | (op & 4 ? 1 : 5));
			memset(out + o, arg, op & 4 ? 8 : 4);
			o += op & 4 ? 8 : 4;
			break;
		}
	}
	return o;
}

static void structured(const uint8_t *d, size_t size)
{
	uint8_t *buf = malloc(16 * size + 16);
	struct last last[NCHECKED] = { 0 };
	CreateReq *r;
	size_t len;

	if (!buf)
		return;
	len = generate(d, size, buf, last);
	r = UNPACK(NULL, len, buf);
	FUZZ_CHECK(r != NULL, "protobuf-c refused a well-formed CreateTaskRequest of %zu bytes",
		   len);
	for (size_t k = 0; k < NCHECKED; k++) {
		const char *s = field_of(r, CHECKED[k]);
		size_t want = last[k].seen ? last[k].len : 0;
		size_t got = validate_wire_len(buf, len, CHECKED[k], s);
		FUZZ_CHECK(got == want, "field %u: wire length %zu, sent %zu", CHECKED[k], got,
			   want);
		FUZZ_CHECK(strlen(s) == strnlen((const char *)buf + last[k].off, want) &&
				   memcmp(s, buf + last[k].off, strlen(s)) == 0,
			   "field %u: protobuf-c did not keep the last occurrence up to its NUL",
			   CHECKED[k]);
	}
	FREE(r, NULL);
	free(buf);
}

static void raw(const uint8_t *d, size_t size)
{
	CreateReq *r = UNPACK(NULL, size, d);

	for (size_t k = 0; k < NCHECKED; k++) {
		const char *s = r ? field_of(r, CHECKED[k]) : "field";
		size_t got = validate_wire_len(d, size, CHECKED[k], s);
		FUZZ_CHECK(got <= size || got == strlen(s), "field %u: %zu of %zu bytes",
			   CHECKED[k], got, size);
		FUZZ_CHECK(!r || got >= strlen(s), "field %u: wire length %zu, protobuf-c kept %zu",
			   CHECKED[k], got, strlen(s));
	}
	if (r)
		FREE(r, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FUZZ_PLANT(size);
	if (size < 1)
		return 0;
	if (data[0] & 1)
		raw(data + 1, size - 1);
	else
		structured(data + 1, size - 1);
	return 0;
}
