/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for proto/ttrpc_frame.h: header coding and the incremental reader. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proto/ttrpc_frame.h"

/* ---- a callback that records every frame it gets ---- */

#define MAX_FRAMES 16

struct got_frame {
	struct ttrpc_hdr h;
	uint8_t *body; /* owned copy of what the reader handed over (NULL if it gave NULL) */
	bool body_was_null;
	bool oversize;
};

struct collector {
	struct got_frame f[MAX_FRAMES];
	int n;
	int fail_at; /* callback index that returns fail_rc (-1: never) */
	int fail_rc;
};

static void collector_init(struct collector *c)
{
	memset(c, 0, sizeof(*c));
	c->fail_at = -1;
}

static void collector_free(struct collector *c)
{
	for (int i = 0; i < c->n; i++)
		free(c->f[i].body);
	c->n = 0;
}

static int collect_cb(void *ctx, const struct ttrpc_hdr *h, uint8_t *body, bool oversize)
{
	struct collector *c = ctx;
	int idx = c->n;

	assert_true(c->n < MAX_FRAMES);
	c->f[idx].h = *h;
	c->f[idx].body = body; /* ownership handed over */
	c->f[idx].body_was_null = body == NULL;
	c->f[idx].oversize = oversize;
	c->n++;
	if (idx == c->fail_at)
		return c->fail_rc;
	return 0;
}

/* Appends one frame (header + data) to buf at *off. */
static void put_frame(uint8_t *buf, size_t *off, uint32_t len, uint32_t stream, uint8_t type,
		      uint8_t flags, const void *data)
{
	struct ttrpc_hdr h = { .len = len, .stream = stream, .type = type, .flags = flags };
	ttrpc_hdr_encode(buf + *off, &h);
	*off += TTRPC_HDR_LEN;
	if (len) {
		memcpy(buf + *off, data, len);
		*off += len;
	}
}

/* ---- header ---- */

static void test_hdr_encode_big_endian(void **state)
{
	(void)state;
	struct ttrpc_hdr h = { .len = 0x01020304, .stream = 0xA0B0C0D0, .type = 2, .flags = 5 };
	uint8_t out[TTRPC_HDR_LEN];
	static const uint8_t want[TTRPC_HDR_LEN] = { 0x01, 0x02, 0x03, 0x04, 0xA0,
						     0xB0, 0xC0, 0xD0, 0x02, 0x05 };

	memset(out, 0xEE, sizeof(out));
	ttrpc_hdr_encode(out, &h);
	assert_memory_equal(out, want, TTRPC_HDR_LEN);
}

static void test_hdr_encode_spec_example(void **state)
{
	(void)state;
	/* docs/v1-protocol.md §2.1: State request on stream 1 with 0x35 data bytes */
	struct ttrpc_hdr h = { .len = 0x35, .stream = 1, .type = TTRPC_TYPE_REQUEST, .flags = 0 };
	uint8_t out[TTRPC_HDR_LEN];
	static const uint8_t want[TTRPC_HDR_LEN] = { 0, 0, 0, 0x35, 0, 0, 0, 1, 1, 0 };

	ttrpc_hdr_encode(out, &h);
	assert_memory_equal(out, want, TTRPC_HDR_LEN);
}

static void test_hdr_decode(void **state)
{
	(void)state;
	static const uint8_t in[TTRPC_HDR_LEN] = { 0xFF, 0xFE, 0xFD, 0xFC, 0x80,
						   0x00, 0x00, 0x01, 0x02, 0x07 };
	struct ttrpc_hdr h;

	memset(&h, 0xAA, sizeof(h));
	ttrpc_hdr_decode(in, &h);
	assert_int_equal(h.len, 0xFFFEFDFCu);
	assert_int_equal(h.stream, 0x80000001u);
	assert_int_equal(h.type, 2);
	assert_int_equal(h.flags, 7);
}

static void test_hdr_round_trip(void **state)
{
	(void)state;
	static const uint32_t vals[] = {
		0,       1,          0xFF,        0x100,       0xFFFF,
		0x10000, 0x7FFFFFFF, 0x80000000u, 0xFFFFFFFFu, TTRPC_MAX_MSG
	};
	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		for (size_t j = 0; j < sizeof(vals) / sizeof(vals[0]); j++) {
			struct ttrpc_hdr a = { .len = vals[i],
					       .stream = vals[j],
					       .type = (uint8_t)i,
					       .flags = (uint8_t)(0xF0 | j) };
			struct ttrpc_hdr b;
			uint8_t buf[TTRPC_HDR_LEN];
			ttrpc_hdr_encode(buf, &a);
			ttrpc_hdr_decode(buf, &b);
			assert_int_equal(b.len, a.len);
			assert_int_equal(b.stream, a.stream);
			assert_int_equal(b.type, a.type);
			assert_int_equal(b.flags, a.flags);
		}
	}
}

/* ---- reader ---- */

static void test_reader_init_not_mid_frame(void **state)
{
	(void)state;
	struct ttrpc_reader r;
	memset(&r, 0x5A, sizeof(r));
	ttrpc_reader_init(&r);
	assert_false(ttrpc_reader_mid_frame(&r));
	assert_null(r.body);
}

static void test_reader_whole_frame(void **state)
{
	(void)state;
	uint8_t buf[64];
	size_t n = 0;
	struct ttrpc_reader r;
	struct collector c;

	put_frame(buf, &n, 5, 7, TTRPC_TYPE_REQUEST, 0, "hello");
	collector_init(&c);
	ttrpc_reader_init(&r);
	assert_int_equal(ttrpc_reader_feed(&r, buf, n, collect_cb, &c), 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.f[0].h.len, 5);
	assert_int_equal(c.f[0].h.stream, 7);
	assert_int_equal(c.f[0].h.type, TTRPC_TYPE_REQUEST);
	assert_int_equal(c.f[0].h.flags, 0);
	assert_false(c.f[0].oversize);
	assert_non_null(c.f[0].body);
	assert_memory_equal(c.f[0].body, "hello", 5);
	assert_false(ttrpc_reader_mid_frame(&r));
	/* feeding nothing more produces nothing */
	assert_int_equal(ttrpc_reader_feed(&r, buf, 0, collect_cb, &c), 0);
	assert_int_equal(c.n, 1);
	collector_free(&c);
	ttrpc_reader_reset(&r);
}

static void test_reader_flags_preserved(void **state)
{
	(void)state;
	uint8_t buf[64];
	size_t n = 0;
	struct ttrpc_reader r;
	struct collector c;

	put_frame(buf, &n, 1, 3, 3, 0x05, "x");
	collector_init(&c);
	ttrpc_reader_init(&r);
	assert_int_equal(ttrpc_reader_feed(&r, buf, n, collect_cb, &c), 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.f[0].h.type, 3);
	assert_int_equal(c.f[0].h.flags, 0x05);
	collector_free(&c);
	ttrpc_reader_reset(&r);
}

/* Three frames (5 bytes, 0 bytes, 3 bytes) of a stream, checked after any feeding pattern. */
static size_t build_three(uint8_t *buf)
{
	size_t n = 0;
	put_frame(buf, &n, 5, 1, TTRPC_TYPE_REQUEST, 0, "abcde");
	put_frame(buf, &n, 0, 3, TTRPC_TYPE_REQUEST, 0, NULL);
	put_frame(buf, &n, 3, 5, TTRPC_TYPE_RESPONSE, 0, "xyz");
	return n;
}

static void check_three(struct collector *c)
{
	assert_int_equal(c->n, 3);
	assert_int_equal(c->f[0].h.len, 5);
	assert_int_equal(c->f[0].h.stream, 1);
	assert_memory_equal(c->f[0].body, "abcde", 5);
	assert_int_equal(c->f[1].h.len, 0);
	assert_int_equal(c->f[1].h.stream, 3);
	assert_true(c->f[1].body_was_null);
	assert_false(c->f[1].oversize);
	assert_int_equal(c->f[2].h.len, 3);
	assert_int_equal(c->f[2].h.stream, 5);
	assert_int_equal(c->f[2].h.type, TTRPC_TYPE_RESPONSE);
	assert_memory_equal(c->f[2].body, "xyz", 3);
	for (int i = 0; i < 3; i++)
		assert_false(c->f[i].oversize);
}

static void test_reader_several_frames_one_feed(void **state)
{
	(void)state;
	uint8_t buf[128];
	size_t n = build_three(buf);
	struct ttrpc_reader r;
	struct collector c;

	assert_int_equal(n, 10 + 5 + 10 + 10 + 3);
	collector_init(&c);
	ttrpc_reader_init(&r);
	assert_int_equal(ttrpc_reader_feed(&r, buf, n, collect_cb, &c), 0);
	check_three(&c);
	assert_false(ttrpc_reader_mid_frame(&r));
	collector_free(&c);
	ttrpc_reader_reset(&r);
}

static void test_reader_split_every_position(void **state)
{
	(void)state;
	uint8_t buf[128];
	size_t n = build_three(buf);

	for (size_t cut = 0; cut <= n; cut++) {
		struct ttrpc_reader r;
		struct collector c;
		collector_init(&c);
		ttrpc_reader_init(&r);
		assert_int_equal(ttrpc_reader_feed(&r, buf, cut, collect_cb, &c), 0);
		assert_int_equal(ttrpc_reader_feed(&r, buf + cut, n - cut, collect_cb, &c), 0);
		check_three(&c);
		assert_false(ttrpc_reader_mid_frame(&r));
		collector_free(&c);
		ttrpc_reader_reset(&r);
	}
}

static void test_reader_split_every_pair_of_positions(void **state)
{
	(void)state;
	uint8_t buf[128];
	size_t n = build_three(buf);

	for (size_t a = 0; a <= n; a++) {
		for (size_t b = a; b <= n; b++) {
			struct ttrpc_reader r;
			struct collector c;
			collector_init(&c);
			ttrpc_reader_init(&r);
			assert_int_equal(ttrpc_reader_feed(&r, buf, a, collect_cb, &c), 0);
			assert_int_equal(ttrpc_reader_feed(&r, buf + a, b - a, collect_cb, &c), 0);
			assert_int_equal(ttrpc_reader_feed(&r, buf + b, n - b, collect_cb, &c), 0);
			check_three(&c);
			collector_free(&c);
			ttrpc_reader_reset(&r);
		}
	}
}

static void test_reader_byte_by_byte(void **state)
{
	(void)state;
	uint8_t buf[128];
	size_t n = build_three(buf);
	/* frame boundaries: after which byte a frame completes */
	const size_t ends[3] = { 15, 25, 38 };
	struct ttrpc_reader r;
	struct collector c;
	int next = 0;

	collector_init(&c);
	ttrpc_reader_init(&r);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(ttrpc_reader_feed(&r, buf + i, 1, collect_cb, &c), 0);
		bool boundary = next < 3 && i + 1 == ends[next];
		if (boundary)
			next++;
		assert_int_equal(c.n, next);
		/* mid-frame exactly when not at a frame boundary */
		assert_int_equal(ttrpc_reader_mid_frame(&r), !boundary);
	}
	check_three(&c);
	collector_free(&c);
	ttrpc_reader_reset(&r);
}

static void test_reader_zero_length_frames(void **state)
{
	(void)state;
	uint8_t buf[64];
	size_t n = 0;
	struct ttrpc_reader r;
	struct collector c;

	put_frame(buf, &n, 0, 9, TTRPC_TYPE_RESPONSE, 0, NULL);
	put_frame(buf, &n, 0, 11, TTRPC_TYPE_RESPONSE, 0, NULL);
	collector_init(&c);
	ttrpc_reader_init(&r);
	/* exactly one header: the zero-length frame is complete with it */
	assert_int_equal(ttrpc_reader_feed(&r, buf, TTRPC_HDR_LEN, collect_cb, &c), 0);
	assert_int_equal(c.n, 1);
	assert_true(c.f[0].body_was_null);
	assert_int_equal(c.f[0].h.len, 0);
	assert_int_equal(c.f[0].h.stream, 9);
	assert_false(ttrpc_reader_mid_frame(&r));
	assert_int_equal(ttrpc_reader_feed(&r, buf + TTRPC_HDR_LEN, TTRPC_HDR_LEN, collect_cb, &c),
			 0);
	assert_int_equal(c.n, 2);
	assert_true(c.f[1].body_was_null);
	assert_int_equal(c.f[1].h.stream, 11);
	assert_false(ttrpc_reader_mid_frame(&r));
	collector_free(&c);
	ttrpc_reader_reset(&r);
}

static void test_reader_exactly_max(void **state)
{
	(void)state;
	size_t total = TTRPC_HDR_LEN + TTRPC_MAX_MSG;
	uint8_t *buf = malloc(total);
	struct ttrpc_hdr h = { .len = TTRPC_MAX_MSG, .stream = 13, .type = TTRPC_TYPE_REQUEST };
	struct ttrpc_reader r;
	struct collector c;

	assert_non_null(buf);
	assert_int_equal(TTRPC_MAX_MSG, 4194304);
	ttrpc_hdr_encode(buf, &h);
	for (size_t i = 0; i < TTRPC_MAX_MSG; i++)
		buf[TTRPC_HDR_LEN + i] = (uint8_t)(i * 31 + (i >> 13));
	collector_init(&c);
	ttrpc_reader_init(&r);
	/* all but the last byte: nothing yet */
	assert_int_equal(ttrpc_reader_feed(&r, buf, total - 1, collect_cb, &c), 0);
	assert_int_equal(c.n, 0);
	assert_true(ttrpc_reader_mid_frame(&r));
	assert_int_equal(ttrpc_reader_feed(&r, buf + total - 1, 1, collect_cb, &c), 0);
	assert_int_equal(c.n, 1);
	assert_false(c.f[0].oversize);
	assert_int_equal(c.f[0].h.len, TTRPC_MAX_MSG);
	assert_int_equal(c.f[0].h.stream, 13);
	assert_non_null(c.f[0].body);
	assert_memory_equal(c.f[0].body, buf + TTRPC_HDR_LEN, TTRPC_MAX_MSG);
	assert_false(ttrpc_reader_mid_frame(&r));
	collector_free(&c);
	ttrpc_reader_reset(&r);
	free(buf);
}

static void test_reader_oversize_discarded_then_next_frame(void **state)
{
	(void)state;
	const size_t big = (size_t)TTRPC_MAX_MSG + 1;
	const size_t total = TTRPC_HDR_LEN + big;
	uint8_t *buf = malloc(total + 64);
	struct ttrpc_hdr h = { .len = (uint32_t)big, .stream = 15, .type = TTRPC_TYPE_REQUEST };
	size_t n;
	struct ttrpc_reader r;
	struct collector c;

	assert_non_null(buf);
	ttrpc_hdr_encode(buf, &h);
	/* data that looks like headers: it must be skipped, not parsed */
	memset(buf + TTRPC_HDR_LEN, 0, big);
	n = total;
	put_frame(buf, &n, 2, 17, TTRPC_TYPE_REQUEST, 0, "ok");

	collector_init(&c);
	ttrpc_reader_init(&r);
	/* header + 4 MiB of data: one byte still to discard, nothing reported */
	assert_int_equal(ttrpc_reader_feed(&r, buf, total - 1, collect_cb, &c), 0);
	assert_int_equal(c.n, 0);
	assert_true(ttrpc_reader_mid_frame(&r));
	assert_null(r.body); /* discarded, never buffered */
	/* the last byte of the oversized frame and the next frame in one feed */
	assert_int_equal(ttrpc_reader_feed(&r, buf + total - 1, n - (total - 1), collect_cb, &c),
			 0);
	assert_int_equal(c.n, 2);
	assert_true(c.f[0].oversize);
	assert_true(c.f[0].body_was_null);
	assert_int_equal(c.f[0].h.len, 4194305);
	assert_int_equal(c.f[0].h.stream, 15);
	assert_false(c.f[1].oversize);
	assert_int_equal(c.f[1].h.len, 2);
	assert_int_equal(c.f[1].h.stream, 17);
	assert_memory_equal(c.f[1].body, "ok", 2);
	assert_false(ttrpc_reader_mid_frame(&r));
	collector_free(&c);
	ttrpc_reader_reset(&r);
	free(buf);
}

static void test_reader_oversize_one_feed_and_header_splits(void **state)
{
	(void)state;
	const size_t big = (size_t)TTRPC_MAX_MSG + 1;
	const size_t total = TTRPC_HDR_LEN + big;
	uint8_t *buf = malloc(total + 64);
	struct ttrpc_hdr h = { .len = (uint32_t)big, .stream = 21, .type = TTRPC_TYPE_REQUEST };
	size_t n;

	assert_non_null(buf);
	ttrpc_hdr_encode(buf, &h);
	memset(buf + TTRPC_HDR_LEN, 0x41, big);
	n = total;
	put_frame(buf, &n, 0, 23, TTRPC_TYPE_REQUEST, 0, NULL);

	/* split anywhere inside the header, at the start of the data, and whole (cut = n) */
	for (size_t cut = 0; cut <= TTRPC_HDR_LEN + 1; cut++) {
		struct ttrpc_reader r;
		struct collector c;
		collector_init(&c);
		ttrpc_reader_init(&r);
		assert_int_equal(ttrpc_reader_feed(&r, buf, cut, collect_cb, &c), 0);
		assert_int_equal(c.n, 0);
		assert_int_equal(ttrpc_reader_mid_frame(&r), cut > 0);
		assert_int_equal(ttrpc_reader_feed(&r, buf + cut, n - cut, collect_cb, &c), 0);
		assert_int_equal(c.n, 2);
		assert_true(c.f[0].oversize);
		assert_int_equal(c.f[0].h.stream, 21);
		assert_false(c.f[1].oversize);
		assert_int_equal(c.f[1].h.stream, 23);
		assert_false(ttrpc_reader_mid_frame(&r));
		collector_free(&c);
		ttrpc_reader_reset(&r);
	}
	free(buf);
}

static void test_reader_huge_length_not_allocated(void **state)
{
	(void)state;
	uint8_t buf[TTRPC_HDR_LEN + 100];
	struct ttrpc_hdr h = { .len = 0xFFFFFFFFu, .stream = 1, .type = TTRPC_TYPE_REQUEST };
	struct ttrpc_reader r;
	struct collector c;

	ttrpc_hdr_encode(buf, &h);
	memset(buf + TTRPC_HDR_LEN, 0, 100);
	collector_init(&c);
	ttrpc_reader_init(&r);
	assert_int_equal(ttrpc_reader_feed(&r, buf, sizeof(buf), collect_cb, &c), 0);
	assert_int_equal(c.n, 0);
	assert_true(ttrpc_reader_mid_frame(&r));
	assert_null(r.body);
	assert_int_equal(r.discard_left, 0xFFFFFFFFull - 100);
	ttrpc_reader_reset(&r);
	assert_false(ttrpc_reader_mid_frame(&r));
}

static void test_reader_truncated_mid_frame(void **state)
{
	(void)state;
	uint8_t buf[64];
	size_t n = 0;
	struct ttrpc_reader r;
	struct collector c;

	put_frame(buf, &n, 8, 1, TTRPC_TYPE_REQUEST, 0, "12345678");
	for (size_t cut = 1; cut < n; cut++) {
		collector_init(&c);
		ttrpc_reader_init(&r);
		assert_int_equal(ttrpc_reader_feed(&r, buf, cut, collect_cb, &c), 0);
		assert_int_equal(c.n, 0);
		assert_true(ttrpc_reader_mid_frame(&r));
		/* reset drops the partial frame (and frees its buffer) */
		ttrpc_reader_reset(&r);
		assert_false(ttrpc_reader_mid_frame(&r));
		assert_null(r.body);
		/* and the reader is usable again from a frame boundary */
		assert_int_equal(ttrpc_reader_feed(&r, buf, n, collect_cb, &c), 0);
		assert_int_equal(c.n, 1);
		assert_memory_equal(c.f[0].body, "12345678", 8);
		collector_free(&c);
		ttrpc_reader_reset(&r);
	}
}

static void test_reader_callback_error_stops(void **state)
{
	(void)state;
	uint8_t buf[128];
	size_t n = build_three(buf);
	struct ttrpc_reader r;
	struct collector c;

	collector_init(&c);
	c.fail_at = 0;
	c.fail_rc = -EPIPE;
	ttrpc_reader_init(&r);
	assert_int_equal(ttrpc_reader_feed(&r, buf, n, collect_cb, &c), -EPIPE);
	assert_int_equal(c.n, 1); /* feeding stopped at the failing frame */
	assert_memory_equal(c.f[0].body, "abcde", 5);
	collector_free(&c);
	ttrpc_reader_reset(&r);

	/* the error from the zero-length (second) frame */
	collector_init(&c);
	c.fail_at = 1;
	c.fail_rc = -ECONNRESET;
	ttrpc_reader_init(&r);
	assert_int_equal(ttrpc_reader_feed(&r, buf, n, collect_cb, &c), -ECONNRESET);
	assert_int_equal(c.n, 2);
	collector_free(&c);
	ttrpc_reader_reset(&r);
}

static void test_reader_callback_positive_ignored(void **state)
{
	(void)state;
	uint8_t buf[128];
	size_t n = build_three(buf);
	struct ttrpc_reader r;
	struct collector c;

	collector_init(&c);
	c.fail_at = 0;
	c.fail_rc = 1; /* not negative: not an error */
	ttrpc_reader_init(&r);
	assert_int_equal(ttrpc_reader_feed(&r, buf, n, collect_cb, &c), 0);
	check_three(&c);
	collector_free(&c);
	ttrpc_reader_reset(&r);
}

static void test_reader_callback_error_on_oversize(void **state)
{
	(void)state;
	const size_t big = (size_t)TTRPC_MAX_MSG + 1;
	const size_t total = TTRPC_HDR_LEN + big;
	uint8_t *buf = malloc(total + 32);
	struct ttrpc_hdr h = { .len = (uint32_t)big, .stream = 1, .type = TTRPC_TYPE_REQUEST };
	size_t n;
	struct ttrpc_reader r;
	struct collector c;

	assert_non_null(buf);
	ttrpc_hdr_encode(buf, &h);
	memset(buf + TTRPC_HDR_LEN, 0, big);
	n = total;
	put_frame(buf, &n, 1, 3, TTRPC_TYPE_REQUEST, 0, "z");
	collector_init(&c);
	c.fail_at = 0;
	c.fail_rc = -EMSGSIZE;
	ttrpc_reader_init(&r);
	assert_int_equal(ttrpc_reader_feed(&r, buf, n, collect_cb, &c), -EMSGSIZE);
	assert_int_equal(c.n, 1);
	assert_true(c.f[0].oversize);
	collector_free(&c);
	ttrpc_reader_reset(&r);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hdr_encode_big_endian),
		cmocka_unit_test(test_hdr_encode_spec_example),
		cmocka_unit_test(test_hdr_decode),
		cmocka_unit_test(test_hdr_round_trip),
		cmocka_unit_test(test_reader_init_not_mid_frame),
		cmocka_unit_test(test_reader_whole_frame),
		cmocka_unit_test(test_reader_flags_preserved),
		cmocka_unit_test(test_reader_several_frames_one_feed),
		cmocka_unit_test(test_reader_split_every_position),
		cmocka_unit_test(test_reader_split_every_pair_of_positions),
		cmocka_unit_test(test_reader_byte_by_byte),
		cmocka_unit_test(test_reader_zero_length_frames),
		cmocka_unit_test(test_reader_exactly_max),
		cmocka_unit_test(test_reader_oversize_discarded_then_next_frame),
		cmocka_unit_test(test_reader_oversize_one_feed_and_header_splits),
		cmocka_unit_test(test_reader_huge_length_not_allocated),
		cmocka_unit_test(test_reader_truncated_mid_frame),
		cmocka_unit_test(test_reader_callback_error_stops),
		cmocka_unit_test(test_reader_callback_positive_ignored),
		cmocka_unit_test(test_reader_callback_error_on_oversize),
	};
	return cmocka_run_group_tests_name("ttrpc_frame", tests, NULL, NULL);
}
