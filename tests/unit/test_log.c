/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for io/log.h: log_format_line, logrus text style with Go %q quoting. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "io/log.h"

/* 2026-11-28T13:29:50Z */
#define T_SEC 1795872590
#define PREFIX_INFO "time=\"2026-11-28T13:29:50.000000123Z\" level=info msg=\""

static const struct timespec ts = { .tv_sec = T_SEC, .tv_nsec = 123 };

/* Formats msg into a roomy buffer and checks the result against want. */
static void expect_line(enum log_level lvl, const char *msg, const char *want)
{
	char buf[4096];
	int n;

	memset(buf, 0x7e, sizeof(buf));
	n = log_format_line(buf, sizeof(buf), &ts, lvl, msg);
	assert_string_equal(buf, want);
	assert_int_equal(n, strlen(want));
}

static void expect_msg(const char *msg, const char *want_quoted_body)
{
	char want[4096];
	snprintf(want, sizeof(want), PREFIX_INFO "%s\"\n", want_quoted_body);
	expect_line(LOG_LVL_INFO, msg, want);
}

static void test_exact_info_line(void **state)
{
	(void)state;
	expect_line(LOG_LVL_INFO, "shim started",
		    "time=\"2026-11-28T13:29:50.000000123Z\" level=info msg=\"shim started\"\n");
}

static void test_level_names(void **state)
{
	(void)state;
	expect_line(LOG_LVL_ERROR, "e",
		    "time=\"2026-11-28T13:29:50.000000123Z\" level=error msg=\"e\"\n");
	expect_line(LOG_LVL_WARN, "w",
		    "time=\"2026-11-28T13:29:50.000000123Z\" level=warning msg=\"w\"\n");
	expect_line(LOG_LVL_DEBUG, "d",
		    "time=\"2026-11-28T13:29:50.000000123Z\" level=debug msg=\"d\"\n");
}

static void test_timestamps(void **state)
{
	(void)state;
	char buf[256];
	struct timespec t0 = { 0, 0 }, t1 = { 951782400 + 86399, 999999999 }; /* 2000-02-29 */

	log_format_line(buf, sizeof(buf), &t0, LOG_LVL_INFO, "x");
	assert_string_equal(buf, "time=\"1970-01-01T00:00:00.000000000Z\" level=info msg=\"x\"\n");
	log_format_line(buf, sizeof(buf), &t1, LOG_LVL_INFO, "x");
	assert_string_equal(buf, "time=\"2000-02-29T23:59:59.999999999Z\" level=info msg=\"x\"\n");
}

static void test_empty_message(void **state)
{
	(void)state;
	expect_msg("", "");
}

static void test_escape_quotes_and_backslashes(void **state)
{
	(void)state;
	expect_msg("say \"hi\"", "say \\\"hi\\\"");
	expect_msg("C:\\dir\\", "C:\\\\dir\\\\");
	expect_msg("\\\"", "\\\\\\\"");
}

static void test_escape_newline_tab(void **state)
{
	(void)state;
	expect_msg("line1\nline2\n", "line1\\nline2\\n");
	expect_msg("a\tb", "a\\tb");
}

static void test_escape_control_hex(void **state)
{
	(void)state;
	/* Go's %q: control characters without a short form are \xNN (lower-case hex) */
	expect_msg("a\x01z", "a\\x01z");
	expect_msg("\x1b[31m", "\\x1b[31m");
	expect_msg("\x1f\x02", "\\x1f\\x02");
}

static void test_escape_go_short_forms(void **state)
{
	(void)state;
	/* Go's %q (strconv.Quote) uses the short escapes \a \b \f \r \v */
	expect_msg("cr\r", "cr\\r");
	expect_msg("\a\b\f\v", "\\a\\b\\f\\v");
}

static void test_escape_del(void **state)
{
	(void)state;
	/* DEL is not printable: Go's %q writes \x7f */
	expect_msg("x\x7fy", "x\\x7fy");
}

static void test_utf8_passthrough(void **state)
{
	(void)state;
	/* printable UTF-8 is kept as is by %q */
	expect_msg("h\xc3\xa9llo \xe2\x9c\x93", "h\xc3\xa9llo \xe2\x9c\x93");
}

/* Parses the quoted body of a formatted line; returns the unescaped text length, or -1 when
 * the body is not a well-formed sequence of escapes. */
static int unescape_body(const char *body, size_t len, char *out)
{
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		char c = body[i];
		if (c == '"' || c == '\n')
			return -1; /* must be escaped */
		if (c != '\\') {
			out[o++] = c;
			continue;
		}
		if (++i >= len)
			return -1;
		switch (body[i]) {
		case '\\': out[o++] = '\\'; break;
		case '"': out[o++] = '"'; break;
		case 'n': out[o++] = '\n'; break;
		case 't': out[o++] = '\t'; break;
		case 'r': out[o++] = '\r'; break;
		case 'a': out[o++] = '\a'; break;
		case 'b': out[o++] = '\b'; break;
		case 'f': out[o++] = '\f'; break;
		case 'v': out[o++] = '\v'; break;
		case 'x': {
			unsigned v;
			if (i + 2 >= len || sscanf(body + i + 1, "%2x", &v) != 1)
				return -1;
			out[o++] = (char)v;
			i += 2;
			break;
		}
		default: return -1;
		}
	}
	out[o] = '\0';
	return (int)o;
}

static void check_truncated(const char *msg, int size)
{
	char buf[8192], text[8192];
	const size_t plen = strlen(PREFIX_INFO);
	int n;

	assert_true(size + 64 <= (int)sizeof(buf));
	memset(buf, 0x7e, sizeof(buf));
	n = log_format_line(buf, size, &ts, LOG_LVL_INFO, msg);
	/* nothing written past size */
	for (int i = size; i < size + 64; i++)
		assert_int_equal((unsigned char)buf[i], 0x7e);
	assert_true(n >= 0);
	assert_true(n <= size - 1);
	assert_int_equal(strlen(buf), n);
	if ((size_t)size <= plen + 3)
		return;
	/* the prefix is intact, the line ends with a closing quote and a newline */
	assert_memory_equal(buf, PREFIX_INFO, plen);
	assert_true(n >= (int)plen + 2);
	assert_int_equal(buf[n - 2], '"');
	assert_int_equal(buf[n - 1], '\n');
	/* the body is well formed and unescapes to a prefix of msg */
	int tl = unescape_body(buf + plen, n - 2 - plen, text);
	assert_true(tl >= 0);
	assert_memory_equal(text, msg, tl);
}

static void test_truncation_well_formed(void **state)
{
	(void)state;
	static char plain[3000], quotes[3000], ctrl[3000], mixed[3000];

	memset(plain, 'a', sizeof(plain) - 1);
	memset(quotes, '"', sizeof(quotes) - 1);
	memset(ctrl, '\x01', sizeof(ctrl) - 1);
	for (size_t i = 0; i < sizeof(mixed) - 1; i++)
		mixed[i] = "ab\"\\\n\x02\tc"[i % 8];
	for (int size = 60; size < 200; size++) {
		check_truncated(plain, size);
		check_truncated(quotes, size);
		check_truncated(ctrl, size);
		check_truncated(mixed, size);
	}
	check_truncated(mixed, 4096);
	check_truncated(ctrl, 4096 + 128);
}

static void test_truncation_keeps_whole_short_message(void **state)
{
	(void)state;
	char buf[128];
	const char *want = PREFIX_INFO "ok\"\n";
	int len = (int)strlen(want);

	/* with a few bytes to spare the whole message is kept */
	assert_int_equal(log_format_line(buf, len + 8, &ts, LOG_LVL_INFO, "ok"), len);
	assert_string_equal(buf, want);
}

static void test_tiny_buffers_stay_in_bounds(void **state)
{
	(void)state;
	char buf[64];

	assert_int_equal(log_format_line(buf, 0, &ts, LOG_LVL_INFO, "hello"), 0);
	assert_int_equal(log_format_line(buf, 1, &ts, LOG_LVL_INFO, "hello"), 0);
	/* "returns its length (truncated to size-1)": never more than size-1, never past size */
	for (int size = 3; size < 60; size++)
		check_truncated("hello \"world\"", size);
}

static void test_size_two_stays_in_bounds(void **state)
{
	(void)state;
	char buf[8];

	memset(buf, 0x7e, sizeof(buf));
	/* size 2 leaves room for one character and the NUL: buf[2] must stay untouched */
	int n = log_format_line(buf, 2, &ts, LOG_LVL_INFO, "hello");
	assert_int_equal((unsigned char)buf[2], 0x7e);
	assert_true(n <= 1);
}

static void test_log_msg_writes_one_line(void **state)
{
	(void)state;
	int p[2];
	char buf[512];
	ssize_t n;

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	log_set_fd(p[1]);
	log_set_debug(false);
	assert_false(log_debug_enabled());
	log_debug("hidden %d", 1);
	log_warn("value %d \"%s\"", 42, "q");
	log_set_fd(2);
	close(p[1]);
	n = read(p[0], buf, sizeof(buf) - 1);
	close(p[0]);
	assert_true(n > 0);
	buf[n] = '\0';
	/* time="YYYY-MM-DDTHH:MM:SS.NNNNNNNNNZ" level=warning msg="value 42 \"q\""\n */
	assert_int_equal(strncmp(buf, "time=\"", 6), 0);
	assert_int_equal(buf[6 + 29], 'Z');
	assert_string_equal(buf + 6 + 30, "\" level=warning msg=\"value 42 \\\"q\\\"\"\n");
	log_set_debug(true);
	assert_true(log_debug_enabled());
	log_set_debug(false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exact_info_line),
		cmocka_unit_test(test_level_names),
		cmocka_unit_test(test_timestamps),
		cmocka_unit_test(test_empty_message),
		cmocka_unit_test(test_escape_quotes_and_backslashes),
		cmocka_unit_test(test_escape_newline_tab),
		cmocka_unit_test(test_escape_control_hex),
		cmocka_unit_test(test_escape_go_short_forms),
		cmocka_unit_test(test_escape_del),
		cmocka_unit_test(test_utf8_passthrough),
		cmocka_unit_test(test_truncation_well_formed),
		cmocka_unit_test(test_truncation_keeps_whole_short_message),
		cmocka_unit_test(test_tiny_buffers_stay_in_bounds),
		cmocka_unit_test(test_size_two_stays_in_bounds),
		cmocka_unit_test(test_log_msg_writes_one_line),
	};
	return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
