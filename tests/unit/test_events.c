/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for server/events.h: the Any{TaskExit} bytes handed to `containerd publish`. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "server/events.h"

/* Decodes an unsigned varint from p (tests compute the example's values from its bytes). */
static uint64_t varint(const uint8_t *p, size_t n)
{
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++)
		v |= (uint64_t)(p[i] & 0x7f) << (7 * i);
	return v;
}

/* docs/v1-protocol.md §4.1, as written to the publisher's stdin:
 * 0a1a "containerd.events.TaskExit" 121c 0a02"b3" 1202"b3" 18bb7f 208901
 * 2a0c08c1f5aad80610dba6e7aa02 */
static const uint8_t spec_any[] = {
	0x0a, 0x1a, 'c',  'o',  'n',  't',  'a',  'i',  'n',  'e',  'r',  'd',  '.',  'e',  'v',
	'e',  'n',  't',  's',  '.',  'T',  'a',  's',  'k',  'E',  'x',  'i',  't',  0x12, 0x1c,
	0x0a, 0x02, 'b',  '3',  0x12, 0x02, 'b',  '3',  0x18, 0xbb, 0x7f, 0x20, 0x89, 0x01, 0x2a,
	0x0c, 0x08, 0xc1, 0xf5, 0xaa, 0xd8, 0x06, 0x10, 0xdb, 0xa6, 0xe7, 0xaa, 0x02,
};

static void test_spec_example_byte_for_byte(void **state)
{
	(void)state;
	static const uint8_t pid_b[] = { 0xbb, 0x7f }, st_b[] = { 0x89, 0x01 };
	static const uint8_t sec_b[] = { 0xc1, 0xf5, 0xaa, 0xd8, 0x06 };
	static const uint8_t ns_b[] = { 0xdb, 0xa6, 0xe7, 0xaa, 0x02 };
	uint32_t pid = (uint32_t)varint(pid_b, 2);
	uint32_t status = (uint32_t)varint(st_b, 2);
	struct timespec at = { .tv_sec = (time_t)varint(sec_b, 5),
			       .tv_nsec = (long)varint(ns_b, 5) };
	size_t n = 0;
	uint8_t *b;

	assert_int_equal(pid, 0x3fbb);
	assert_int_equal(status, 137);
	assert_int_equal(at.tv_sec, 1795865281);
	assert_int_equal(at.tv_nsec, 626643803);
	assert_int_equal(sizeof(spec_any), 2 + 26 + 2 + 28);

	b = events_encode_exit("b3", "b3", pid, status, &at, &n);
	assert_non_null(b);
	assert_int_equal(n, sizeof(spec_any));
	assert_memory_equal(b, spec_any, sizeof(spec_any));
	free(b);
}

static void test_exec_process(void **state)
{
	(void)state;
	/* an exec: id is the exec id, exit status 0 omitted (proto3), exited_at always there */
	struct timespec at = { .tv_sec = 1, .tv_nsec = 2 };
	static const uint8_t want[] = {
		0x0a, 0x1a, 'c',  'o',  'n',  't',  'a',  'i',  'n',  'e',  'r', 'd', '.',
		'e',  'v',  'e',  'n',  't',  's',  '.',  'T',  'a',  's',  'k', 'E', 'x',
		'i',  't',  0x12, 0x13, 0x0a, 0x02, 'c',  '1',  0x12, 0x05, 'e', 'x', 'e',
		'c',  '1',  0x18, 0x2a, 0x2a, 0x04, 0x08, 0x01, 0x10, 0x02,
	};
	size_t n = 0;
	uint8_t *b = events_encode_exit("c1", "exec1", 42, 0, &at, &n);

	assert_non_null(b);
	assert_int_equal(n, sizeof(want));
	assert_memory_equal(b, want, sizeof(want));
	free(b);
}

static void test_zero_fields_omitted_timestamp_kept(void **state)
{
	(void)state;
	/* pid 0, status 0, exited_at {0,0}: only the ids and an empty Timestamp (2a00) remain */
	struct timespec at = { 0, 0 };
	static const uint8_t want[] = {
		0x0a, 0x1a, 'c',  'o',  'n',  't',  'a', 'i',  'n',  'e', 'r',  'd',  '.',
		'e',  'v',  'e',  'n',  't',  's',  '.', 'T',  'a',  's', 'k',  'E',  'x',
		'i',  't',  0x12, 0x08, 0x0a, 0x01, 'x', 0x12, 0x01, 'x', 0x2a, 0x00,
	};
	size_t n = 0;
	uint8_t *b = events_encode_exit("x", "x", 0, 0, &at, &n);

	assert_non_null(b);
	assert_int_equal(n, sizeof(want));
	assert_memory_equal(b, want, sizeof(want));
	free(b);
}

static void test_large_values(void **state)
{
	(void)state;
	/* max uint32 pid and status: 5-byte varints; nanos 999999999 */
	struct timespec at = { .tv_sec = 253402300799LL, .tv_nsec = 999999999 };
	size_t n = 0;
	uint8_t *b = events_encode_exit("c", "c", 0xFFFFFFFFu, 0xFFFFFFFFu, &at, &n);
	static const uint8_t tail[] = {
		0x18,
		0xff,
		0xff,
		0xff,
		0xff,
		0x0f,
		0x20,
		0xff,
		0xff,
		0xff,
		0xff,
		0x0f,
		/* 253402300799 = 0x3AFFF4417F; 999999999 = 0x3B9AC9FF */
		0x2a,
		0x0d,
		0x08,
		0xff,
		0x82,
		0xd1,
		0xff,
		0xaf,
		0x07,
		0x10,
		0xff,
		0x93,
		0xeb,
		0xdc,
		0x03,
	};

	assert_non_null(b);
	/* Any header + value header + 2 ids (3 bytes each) + tail */
	assert_int_equal(n, 28 + 2 + 6 + sizeof(tail));
	assert_int_equal(b[28], 0x12);
	assert_int_equal(b[29], 6 + sizeof(tail));
	assert_memory_equal(b + n - sizeof(tail), tail, sizeof(tail));
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_example_byte_for_byte),
		cmocka_unit_test(test_exec_process),
		cmocka_unit_test(test_zero_fields_omitted_timestamp_kept),
		cmocka_unit_test(test_large_values),
	};
	return cmocka_run_group_tests_name("events", tests, NULL, NULL);
}
