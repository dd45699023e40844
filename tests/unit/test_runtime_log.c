/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for core/runtime.h: runc JSON log error extraction (docs/v1-protocol.md §3.0) and
 * go-runc's "did not terminate successfully" texts. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/runtime.h"

static char out[SHIM_ERR_MAX];

static int last_error(const char *log)
{
	memset(out, 'Q', sizeof(out));
	out[sizeof(out) - 1] = '\0';
	return runtime_log_last_error(log, strlen(log), out, sizeof(out));
}

static void test_last_error_wins(void **state)
{
	(void)state;
	const char *log =
		"{\"level\":\"info\",\"msg\":\"starting\",\"time\":\"2023-05-01T10:00:00Z\"}\n"
		"{\"level\":\"error\",\"msg\":\"first failure\",\"time\":\"2023-05-01T10:00:01Z\"}\n"
		"{\"level\":\"warning\",\"msg\":\"careful\",\"time\":\"2023-05-01T10:00:02Z\"}\n"
		"{\"level\":\"error\",\"msg\":\"runc create failed: container with given ID "
		"already exists\",\"time\":\"2023-05-01T10:00:03Z\"}\n"
		"{\"level\":\"info\",\"msg\":\"after\",\"time\":\"2023-05-01T10:00:04Z\"}\n";

	assert_int_equal(last_error(log), 1);
	assert_string_equal(out, "runc create failed: container with given ID already exists");
}

static void test_whitespace_trimmed(void **state)
{
	(void)state;
	assert_int_equal(
		last_error("{\"level\":\"error\",\"msg\":\"  \\t spaced out \\n\\r\\n\"}\n"), 1);
	assert_string_equal(out, "spaced out");
	/* inner whitespace stays */
	assert_int_equal(last_error("{\"level\":\"error\",\"msg\":\"\\na\\n b\\n\"}"), 1);
	assert_string_equal(out, "a\n b");
	/* all whitespace -> empty message, still found */
	assert_int_equal(last_error("{\"level\":\"error\",\"msg\":\" \\n \"}"), 1);
	assert_string_equal(out, "");
}

static void test_info_warn_ignored(void **state)
{
	(void)state;
	const char *log = "{\"level\":\"info\",\"msg\":\"a\"}\n"
			  "{\"level\":\"warning\",\"msg\":\"b\"}\n"
			  "{\"level\":\"debug\",\"msg\":\"c\"}\n"
			  "{\"level\":\"Error\",\"msg\":\"case matters\"}\n"
			  "{\"level\":\"fatal\",\"msg\":\"not error\"}\n"
			  "{\"msg\":\"no level\"}\n";

	assert_int_equal(last_error(log), 0);
}

static void test_empty_log(void **state)
{
	(void)state;
	assert_int_equal(last_error(""), 0);
	assert_int_equal(last_error(" \n\n\t\r\n"), 0);
}

static void test_garbage(void **state)
{
	(void)state;
	assert_int_equal(last_error("this is not json"), -EINVAL);
	assert_int_equal(last_error("{\"level\":\"error\",\"msg\":\"x\"}\nnot json\n"), -EINVAL);
	/* a truncated last entry makes the log unparsable, as Go's json.Decoder says */
	assert_int_equal(last_error("{\"level\":\"error\",\"msg\":\"x\"}\n{\"level\":\"err"),
			 -EINVAL);
	assert_int_equal(last_error("{"), -EINVAL);
}

static void test_no_newline_separators(void **state)
{
	(void)state;
	assert_int_equal(last_error("{\"level\":\"error\",\"msg\":\"a\"}{\"level\":\"error\","
				    "\"msg\":\"b\"}{\"level\":\"info\",\"msg\":\"c\"}"),
			 1);
	assert_string_equal(out, "b");
	assert_int_equal(last_error("{\"level\":\"error\",\"msg\":\"a\"} {\"level\":\"info\"}\t"
				    "{\"level\":\"warning\",\"msg\":\"w\"}"),
			 1);
	assert_string_equal(out, "a");
}

static void test_crlf_and_escapes(void **state)
{
	(void)state;
	assert_int_equal(last_error("{\"level\":\"info\",\"msg\":\"i\"}\r\n"
				    "{\"level\":\"error\",\"msg\":\"say \\\"no\\\" \\u00e9\"}\r\n"),
			 1);
	assert_string_equal(out, "say \"no\" \xc3\xa9");
}

static void test_error_without_msg(void **state)
{
	(void)state;
	/* an error entry without a msg still counts: it replaces an earlier one */
	assert_int_equal(
		last_error("{\"level\":\"error\",\"msg\":\"old\"}\n{\"level\":\"error\"}\n"), 1);
	assert_string_equal(out, "");
}

static void test_len_respected(void **state)
{
	(void)state;
	const char *log = "{\"level\":\"error\",\"msg\":\"first\"}\n"
			  "{\"level\":\"error\",\"msg\":\"second\"}\n";
	size_t first_len = strlen("{\"level\":\"error\",\"msg\":\"first\"}\n");

	memset(out, 0, sizeof(out));
	assert_int_equal(runtime_log_last_error(log, first_len, out, sizeof(out)), 1);
	assert_string_equal(out, "first");
	/* not NUL-terminated input */
	char buf[64];
	memcpy(buf, "{\"level\":\"error\",\"msg\":\"x\"}XXXXXXXX", 35);
	assert_int_equal(runtime_log_last_error(buf, 27, out, sizeof(out)), 1);
	assert_string_equal(out, "x");
}

static void test_output_truncated(void **state)
{
	(void)state;
	char small[8];
	const char *log = "{\"level\":\"error\",\"msg\":\"  0123456789  \"}";

	assert_int_equal(runtime_log_last_error(log, strlen(log), small, sizeof(small)), 1);
	assert_string_equal(small, "0123456");
}

/* ---- runtime_exit_text ---- */

static void exit_text(const char *name, int status, const char *output, char *buf, size_t n)
{
	struct runtime rt;
	struct runtime_result res;

	memset(&rt, 0, sizeof(rt));
	memset(&res, 0, sizeof(res));
	rt.name = name;
	res.status = status;
	res.output = (char *)output;
	res.output_len = output ? strlen(output) : 0;
	runtime_exit_text(&rt, &res, buf, n);
}

static void test_exit_text_with_output(void **state)
{
	(void)state;
	char buf[512];

	exit_text("runc", 1, "container does not exist\n", buf, sizeof(buf));
	/* go-runc: fmt.Errorf("%s: %s", err, output), output kept verbatim (docs/v1-protocol.md
	 * §3.6) */
	assert_string_equal(buf,
			    "runc did not terminate successfully: exit status 1: container does "
			    "not exist\n");
}

static void test_exit_text_without_output(void **state)
{
	(void)state;
	char buf[512];

	exit_text("runc", 1, NULL, buf, sizeof(buf));
	assert_string_equal(buf, "runc did not terminate successfully: exit status 1");
	exit_text("crun", 2, NULL, buf, sizeof(buf));
	assert_string_equal(buf, "crun did not terminate successfully: exit status 2");
}

static void test_exit_text_empty_output(void **state)
{
	(void)state;
	char buf[512];

	/* captured but empty: go-runc still appends ": " and the (empty) output */
	exit_text("runc", 1, "", buf, sizeof(buf));
	assert_string_equal(buf, "runc did not terminate successfully: exit status 1: ");
}

static void test_exit_text_high_status(void **state)
{
	(void)state;
	char buf[512];

	exit_text("runc", 128, NULL, buf, sizeof(buf));
	assert_string_equal(buf, "runc did not terminate successfully: exit status 128");
}

static void test_exit_text_status_255(void **state)
{
	(void)state;
	char buf[512];

	exit_text("runc", 255, "x", buf, sizeof(buf));
	/* 255 is a plain exit status for go-runc (ExitError{Status}.Error() = "exit status N") */
	assert_string_equal(buf, "runc did not terminate successfully: exit status 255: x");
}

static void test_exit_text_killed(void **state)
{
	(void)state;
	char buf[512];

	/* A runtime killed by SIGKILL: the reaper reports 128+9. go-runc formats every non-zero
	 * status with ExitError{Status}.Error() = "exit status %d" (runtime.h: "exit status
	 * N[: output]"; docs/v1-protocol.md §3.0), so the text carries "exit status 137", never
	 * "signal: ...". */
	exit_text("runc", 137, "", buf, sizeof(buf));
	assert_string_equal(buf, "runc did not terminate successfully: exit status 137: ");
	exit_text("runc", 143, NULL, buf, sizeof(buf));
	assert_string_equal(buf, "runc did not terminate successfully: exit status 143");
}

static void test_exit_text_truncated(void **state)
{
	(void)state;
	char buf[20];

	exit_text("runc", 1, "abc", buf, sizeof(buf));
	assert_string_equal(buf, "runc did not termin");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_last_error_wins),
		cmocka_unit_test(test_whitespace_trimmed),
		cmocka_unit_test(test_info_warn_ignored),
		cmocka_unit_test(test_empty_log),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_no_newline_separators),
		cmocka_unit_test(test_crlf_and_escapes),
		cmocka_unit_test(test_error_without_msg),
		cmocka_unit_test(test_len_respected),
		cmocka_unit_test(test_output_truncated),
		cmocka_unit_test(test_exit_text_with_output),
		cmocka_unit_test(test_exit_text_without_output),
		cmocka_unit_test(test_exit_text_empty_output),
		cmocka_unit_test(test_exit_text_high_status),
		cmocka_unit_test(test_exit_text_status_255),
		cmocka_unit_test(test_exit_text_killed),
		cmocka_unit_test(test_exit_text_truncated),
	};
	return cmocka_run_group_tests_name("runtime_log", tests, NULL, NULL);
}
