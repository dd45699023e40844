/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for proto/ttrpc_codec.h: the ttrpc Request/Response envelopes, byte for byte. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proto/ttrpc_codec.h"
#include "proto/ttrpc_frame.h"

#define SHIM_SVC "containerd.runtime.linux.shim.v1.Shim"

/* docs/v1-protocol.md §2.1: State{id:"abc"} on stream 1 */
static const uint8_t state_frame[] = {
	0x00, 0x00, 0x00, 0x35, 0x00, 0x00, 0x00, 0x01, 0x01, 0x00, 0x0a, 0x25, 'c', 'o', 'n', 't',
	'a',  'i',  'n',  'e',  'r',  'd',  '.',  'r',  'u',  'n',  't',  'i',  'm', 'e', '.', 'l',
	'i',  'n',  'u',  'x',  '.',  's',  'h',  'i',  'm',  '.',  'v',  '1',  '.', 'S', 'h', 'i',
	'm',  0x12, 0x05, 'S',  't',  'a',  't',  'e',  0x1a, 0x05, 0x0a, 0x03, 'a', 'b', 'c',
};
static const uint8_t state_payload[] = { 0x0a, 0x03, 'a', 'b', 'c' };

#define NOTFOUND_MSG "process x does not exist: not found"

static void test_state_request_frame_exact(void **state)
{
	(void)state;
	uint8_t *f = NULL;
	size_t n = 0;

	assert_int_equal(sizeof(state_frame), 10 + 0x35);
	assert_int_equal(ttrpc_request_frame(1, SHIM_SVC, "State", state_payload,
					     sizeof(state_payload), 0, &f, &n),
			 0);
	assert_non_null(f);
	assert_int_equal(n, sizeof(state_frame));
	assert_memory_equal(f, state_frame, sizeof(state_frame));
	free(f);
}

static void test_request_frame_stream_and_timeout(void **state)
{
	(void)state;
	uint8_t *f = NULL;
	size_t n = 0;
	/* timeout_nano field 4 (varint): 1s = 1000000000 = 80 94 eb dc 03 */
	static const uint8_t tail[] = { 0x20, 0x80, 0x94, 0xeb, 0xdc, 0x03 };

	assert_int_equal(ttrpc_request_frame(0x01020305, SHIM_SVC, "State", state_payload,
					     sizeof(state_payload), 1000000000, &f, &n),
			 0);
	assert_int_equal(n, sizeof(state_frame) + sizeof(tail));
	/* header: length 0x35 + 6, stream big-endian, request type */
	static const uint8_t hdr[10] = { 0, 0, 0, 0x35 + 6, 0x01, 0x02, 0x03, 0x05, 0x01, 0x00 };
	assert_memory_equal(f, hdr, 10);
	assert_memory_equal(f + 10, state_frame + 10, sizeof(state_frame) - 10);
	assert_memory_equal(f + sizeof(state_frame), tail, sizeof(tail));
	free(f);
}

static void test_request_frame_empty_payload(void **state)
{
	(void)state;
	uint8_t *f = NULL;
	size_t n = 0;
	/* Empty payload (e.g. Delete(Empty)): the bytes field is omitted */
	static const uint8_t want[] = { 0,    0,    0,   0x2f, 0,   0,   0,   3,   1,   0,
					0x0a, 0x25, 'c', 'o',  'n', 't', 'a', 'i', 'n', 'e',
					'r',  'd',  '.', 'r',  'u', 'n', 't', 'i', 'm', 'e',
					'.',  'l',  'i', 'n',  'u', 'x', '.', 's', 'h', 'i',
					'm',  '.',  'v', '1',  '.', 'S', 'h', 'i', 'm', 0x12,
					0x06, 'D',  'e', 'l',  'e', 't', 'e' };

	assert_int_equal(ttrpc_request_frame(3, SHIM_SVC, "Delete", NULL, 0, 0, &f, &n), 0);
	assert_int_equal(n, sizeof(want));
	assert_memory_equal(f, want, sizeof(want));
	free(f);
}

static void test_request_decode_spec_example(void **state)
{
	(void)state;
	Ttrpc__Request *r = ttrpc_request_decode(state_frame + 10, sizeof(state_frame) - 10);

	assert_non_null(r);
	assert_string_equal(r->service, SHIM_SVC);
	assert_string_equal(r->method, "State");
	assert_int_equal(r->payload.len, sizeof(state_payload));
	assert_memory_equal(r->payload.data, state_payload, sizeof(state_payload));
	assert_int_equal(r->timeout_nano, 0);
	assert_int_equal(r->n_metadata, 0);
	ttrpc__request__free_unpacked(r, NULL);
}

static void test_request_decode_with_metadata(void **state)
{
	(void)state;
	/* service "s", method "m", timeout 5, metadata {k: v} */
	static const uint8_t body[] = { 0x0a, 0x01, 's',  0x12, 0x01, 'm',  0x20, 0x05,
					0x2a, 0x06, 0x0a, 0x01, 'k',  0x12, 0x01, 'v' };
	Ttrpc__Request *r = ttrpc_request_decode(body, sizeof(body));

	assert_non_null(r);
	assert_string_equal(r->service, "s");
	assert_string_equal(r->method, "m");
	assert_int_equal(r->payload.len, 0);
	assert_int_equal(r->timeout_nano, 5);
	assert_int_equal(r->n_metadata, 1);
	assert_string_equal(r->metadata[0]->key, "k");
	assert_string_equal(r->metadata[0]->value, "v");
	ttrpc__request__free_unpacked(r, NULL);
}

static void test_request_decode_empty_body(void **state)
{
	(void)state;
	/* a zero-length request body decodes to an empty Request (service/method "") */
	Ttrpc__Request *r = ttrpc_request_decode((const uint8_t *)"", 0);
	assert_non_null(r);
	assert_string_equal(r->service, "");
	assert_string_equal(r->method, "");
	assert_int_equal(r->payload.len, 0);
	ttrpc__request__free_unpacked(r, NULL);
}

static void test_request_decode_garbage(void **state)
{
	(void)state;
	/* truncated length-delimited field */
	static const uint8_t trunc[] = { 0x0a, 0x25, 'c', 'o', 'n' };
	/* length prefix running past the end */
	static const uint8_t bad_len[] = { 0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f };
	/* unterminated varint */
	static const uint8_t bad_varint[] = { 0x20, 0xff, 0xff };
	/* wrong wire type for field 1 (fixed64 where a string is expected) */
	static const uint8_t wrong_type[] = { 0x09, 1, 2, 3, 4, 5, 6, 7, 8 };
	/* field number 0 */
	static const uint8_t field0[] = { 0x00, 0x01 };

	assert_null(ttrpc_request_decode(trunc, sizeof(trunc)));
	assert_null(ttrpc_request_decode(bad_len, sizeof(bad_len)));
	assert_null(ttrpc_request_decode(bad_varint, sizeof(bad_varint)));
	assert_null(ttrpc_request_decode(wrong_type, sizeof(wrong_type)));
	assert_null(ttrpc_request_decode(field0, sizeof(field0)));
	/* the §2.1 example (docs/v1-protocol.md) cut one byte short */
	assert_null(ttrpc_request_decode(state_frame + 10, sizeof(state_frame) - 11));
}

static void test_response_error_notfound_exact(void **state)
{
	(void)state;
	uint8_t *f = NULL;
	size_t n = 0;
	/* docs/v1-protocol.md §2.5: 0a27 0805 1223 "process x does not exist: not found" */
	uint8_t want[10 + 41] = {
		0, 0, 0, 41, 0, 0, 0, 7, 2, 0, 0x0a, 0x27, 0x08, 0x05, 0x12, 0x23
	};

	assert_int_equal(strlen(NOTFOUND_MSG), 0x23);
	memcpy(want + 16, NOTFOUND_MSG, 0x23);
	assert_int_equal(ttrpc_response_frame(7, GRPC_NOT_FOUND, NOTFOUND_MSG, NULL, 0, &f, &n), 0);
	assert_int_equal(n, sizeof(want));
	assert_memory_equal(f, want, sizeof(want));
	free(f);
}

static void test_response_error_ignores_payload(void **state)
{
	(void)state;
	uint8_t *f = NULL, *g = NULL;
	size_t n = 0, m = 0;

	/* an error never carries a payload, even if one is given */
	assert_int_equal(ttrpc_response_frame(7, GRPC_NOT_FOUND, NOTFOUND_MSG,
					      (const uint8_t *)"xyz", 3, &f, &n),
			 0);
	assert_int_equal(ttrpc_response_frame(7, GRPC_NOT_FOUND, NOTFOUND_MSG, NULL, 0, &g, &m), 0);
	assert_int_equal(n, m);
	assert_memory_equal(f, g, n);
	free(f);
	free(g);
}

static void test_response_error_null_msg(void **state)
{
	(void)state;
	uint8_t *f = NULL;
	size_t n = 0;
	/* status {code: 2}; message "" omitted */
	static const uint8_t want[] = { 0, 0, 0, 4, 0, 0, 0, 9, 2, 0, 0x0a, 0x02, 0x08, 0x02 };

	assert_int_equal(ttrpc_response_frame(9, GRPC_UNKNOWN, NULL, NULL, 0, &f, &n), 0);
	assert_int_equal(n, sizeof(want));
	assert_memory_equal(f, want, sizeof(want));
	free(f);
}

static void test_response_success_empty_is_zero_length(void **state)
{
	(void)state;
	uint8_t *f = NULL;
	size_t n = 0;
	static const uint8_t want[] = { 0, 0, 0, 0, 0, 0, 0, 0x0b, 2, 0 };

	assert_int_equal(ttrpc_response_frame(11, GRPC_OK, NULL, NULL, 0, &f, &n), 0);
	assert_int_equal(n, TTRPC_HDR_LEN);
	assert_memory_equal(f, want, sizeof(want));
	free(f);
	/* a message given with code 0 is not sent either */
	assert_int_equal(ttrpc_response_frame(11, GRPC_OK, "ignored", NULL, 0, &f, &n), 0);
	assert_int_equal(n, TTRPC_HDR_LEN);
	assert_memory_equal(f, want, sizeof(want));
	free(f);
}

static void test_response_success_payload(void **state)
{
	(void)state;
	uint8_t *f = NULL;
	size_t n = 0;
	/* StateResponse{id:"abc"} -> Response{payload: 0a03"abc"} = 12 05 0a 03 61 62 63 */
	static const uint8_t want[] = { 0, 0,    0,    7,    0x80, 0,   0,   1,  2,
					0, 0x12, 0x05, 0x0a, 0x03, 'a', 'b', 'c' };

	assert_int_equal(ttrpc_response_frame(0x80000001u, GRPC_OK, NULL, state_payload,
					      sizeof(state_payload), &f, &n),
			 0);
	assert_int_equal(n, sizeof(want));
	assert_memory_equal(f, want, sizeof(want));
	free(f);
}

static void check_decoded(const uint8_t *frame, size_t flen, int want_code, const char *want_msg,
			  const uint8_t *want_pl, size_t want_plen)
{
	struct ttrpc_hdr h;
	int code = -1;
	char *msg = NULL;
	uint8_t *pl = NULL;
	size_t plen = 12345;

	assert_true(flen >= TTRPC_HDR_LEN);
	ttrpc_hdr_decode(frame, &h);
	assert_int_equal(h.len, flen - TTRPC_HDR_LEN);
	assert_int_equal(h.type, TTRPC_TYPE_RESPONSE);
	assert_int_equal(h.flags, 0);
	assert_int_equal(
		ttrpc_response_decode(frame + TTRPC_HDR_LEN, h.len, &code, &msg, &pl, &plen), 0);
	assert_int_equal(code, want_code);
	assert_non_null(msg);
	assert_string_equal(msg, want_msg);
	assert_non_null(pl);
	assert_int_equal(plen, want_plen);
	if (want_plen)
		assert_memory_equal(pl, want_pl, want_plen);
	free(msg);
	free(pl);
}

static void test_response_round_trip(void **state)
{
	(void)state;
	uint8_t *f = NULL;
	size_t n = 0;

	assert_int_equal(ttrpc_response_frame(1, GRPC_NOT_FOUND, NOTFOUND_MSG, NULL, 0, &f, &n), 0);
	check_decoded(f, n, GRPC_NOT_FOUND, NOTFOUND_MSG, NULL, 0);
	free(f);

	assert_int_equal(ttrpc_response_frame(1, GRPC_FAILED_PRECONDITION,
					      "container must be created: failed precondition",
					      NULL, 0, &f, &n),
			 0);
	check_decoded(f, n, GRPC_FAILED_PRECONDITION,
		      "container must be created: failed precondition", NULL, 0);
	free(f);

	assert_int_equal(ttrpc_response_frame(1, GRPC_OK, NULL, state_payload,
					      sizeof(state_payload), &f, &n),
			 0);
	check_decoded(f, n, GRPC_OK, "", state_payload, sizeof(state_payload));
	free(f);

	assert_int_equal(ttrpc_response_frame(1, GRPC_OK, NULL, NULL, 0, &f, &n), 0);
	check_decoded(f, n, GRPC_OK, "", NULL, 0);
	free(f);
}

static void test_response_decode_spec_bytes(void **state)
{
	(void)state;
	uint8_t body[41] = { 0x0a, 0x27, 0x08, 0x05, 0x12, 0x23 };
	int code = -1;
	char *msg = NULL;
	uint8_t *pl = NULL;
	size_t plen = 99;

	memcpy(body + 6, NOTFOUND_MSG, 0x23);
	assert_int_equal(ttrpc_response_decode(body, sizeof(body), &code, &msg, &pl, &plen), 0);
	assert_int_equal(code, 5);
	assert_string_equal(msg, NOTFOUND_MSG);
	assert_int_equal(plen, 0);
	free(msg);
	free(pl);
}

static void test_response_decode_garbage(void **state)
{
	(void)state;
	static const uint8_t trunc_status[] = { 0x0a, 0x05, 0x08 };
	static const uint8_t bad_len[] = { 0x12, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x00 };
	static const uint8_t bad_varint[] = { 0x0a, 0x02, 0x08, 0xff };
	int code = -1;
	char *msg = NULL;
	uint8_t *pl = NULL;
	size_t plen = 0;

	assert_int_equal(
		ttrpc_response_decode(trunc_status, sizeof(trunc_status), &code, &msg, &pl, &plen),
		-EBADMSG);
	assert_int_equal(ttrpc_response_decode(bad_len, sizeof(bad_len), &code, &msg, &pl, &plen),
			 -EBADMSG);
	assert_int_equal(
		ttrpc_response_decode(bad_varint, sizeof(bad_varint), &code, &msg, &pl, &plen),
		-EBADMSG);
	assert_null(msg);
	assert_null(pl);
}

/* Response{payload} packs to 1 (tag) + 4 (varint length, for 2^21 <= L < 2^28) + L bytes. */
static void test_response_payload_at_limit_accepted(void **state)
{
	(void)state;
	const size_t plen = TTRPC_MAX_MSG - 5; /* packs to exactly 4 MiB */
	uint8_t *pl = malloc(plen);
	uint8_t *f = NULL;
	struct ttrpc_hdr h;
	size_t n = 0;

	assert_non_null(pl);
	for (size_t i = 0; i < plen; i++)
		pl[i] = (uint8_t)(i ^ (i >> 9));
	assert_int_equal(ttrpc_response_frame(1, GRPC_OK, NULL, pl, plen, &f, &n), 0);
	assert_int_equal(n, TTRPC_HDR_LEN + (size_t)TTRPC_MAX_MSG);
	ttrpc_hdr_decode(f, &h);
	assert_int_equal(h.len, TTRPC_MAX_MSG);
	check_decoded(f, n, GRPC_OK, "", pl, plen);
	free(f);
	free(pl);
}

static void test_response_too_large_resource_exhausted(void **state)
{
	(void)state;
	const size_t plen = TTRPC_MAX_MSG - 4; /* packs to 4 MiB + 1 */
	uint8_t *pl = calloc(1, plen);
	uint8_t *f = NULL;
	size_t n = 0;
	static const char want_msg[] =
		"message length 4194305 exceed maximum message size of 4194304";
	/* Response{status: {code: 8, message: want_msg}}: 0a 41 08 08 12 3d "..." */
	uint8_t want[10 + 6 + 61] = { 0, 0, 0,    67,   0,    0,    0,    0x21,
				      2, 0, 0x0a, 0x41, 0x08, 0x08, 0x12, 0x3d };

	assert_non_null(pl);
	assert_int_equal(strlen(want_msg), 61);
	memcpy(want + 16, want_msg, 61);
	assert_int_equal(ttrpc_response_frame(0x21, GRPC_OK, NULL, pl, plen, &f, &n), 0);
	assert_int_equal(n, sizeof(want));
	assert_memory_equal(f, want, sizeof(want));
	check_decoded(f, n, GRPC_RESOURCE_EXHAUSTED, want_msg, NULL, 0);
	free(f);
	free(pl);
}

static void test_response_much_too_large(void **state)
{
	(void)state;
	const size_t plen = 3 * (size_t)TTRPC_MAX_MSG;
	uint8_t *pl = calloc(1, plen);
	uint8_t *f = NULL;
	size_t n = 0;

	assert_non_null(pl);
	assert_int_equal(ttrpc_response_frame(5, GRPC_OK, NULL, pl, plen, &f, &n), 0);
	assert_true(n < 256);
	check_decoded(f, n, GRPC_RESOURCE_EXHAUSTED,
		      "message length 12582917 exceed maximum message size of 4194304", NULL, 0);
	free(f);
	free(pl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_state_request_frame_exact),
		cmocka_unit_test(test_request_frame_stream_and_timeout),
		cmocka_unit_test(test_request_frame_empty_payload),
		cmocka_unit_test(test_request_decode_spec_example),
		cmocka_unit_test(test_request_decode_with_metadata),
		cmocka_unit_test(test_request_decode_empty_body),
		cmocka_unit_test(test_request_decode_garbage),
		cmocka_unit_test(test_response_error_notfound_exact),
		cmocka_unit_test(test_response_error_ignores_payload),
		cmocka_unit_test(test_response_error_null_msg),
		cmocka_unit_test(test_response_success_empty_is_zero_length),
		cmocka_unit_test(test_response_success_payload),
		cmocka_unit_test(test_response_round_trip),
		cmocka_unit_test(test_response_decode_spec_bytes),
		cmocka_unit_test(test_response_decode_garbage),
		cmocka_unit_test(test_response_payload_at_limit_accepted),
		cmocka_unit_test(test_response_too_large_resource_exhausted),
		cmocka_unit_test(test_response_much_too_large),
	};
	return cmocka_run_group_tests_name("ttrpc_codec", tests, NULL, NULL);
}
