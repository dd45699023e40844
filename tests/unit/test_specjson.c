/* SPDX-License-Identifier: Apache-2.0 */
/* core/specjson: runtime-spec JSON decoded with Go encoding/json's error texts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/specjson.h"

static void expect_err(const char *in, enum specjson_kind k, const char *want)
{
	char msg[512] = "";
	json_t *v = specjson_decode(in, strlen(in), k, msg, sizeof(msg));
	assert_null(v);
	assert_string_equal(msg, want);
}

static void test_syntax(void **state)
{
	(void)state;
	expect_err("xx", SPECJSON_PROCESS, "invalid character 'x' looking for beginning of value");
	expect_err("{}x", SPECJSON_PROCESS, "invalid character 'x' after top-level value");
	expect_err("{\"args\":[", SPECJSON_PROCESS, "unexpected end of JSON input");
	expect_err("", SPECJSON_PROCESS, "unexpected end of JSON input");
	expect_err("   ", SPECJSON_RESOURCES, "unexpected end of JSON input");
}

static void test_types(void **state)
{
	(void)state;
	expect_err("[]", SPECJSON_PROCESS,
		   "json: cannot unmarshal array into Go value of type specs.Process");
	expect_err("7", SPECJSON_RESOURCES,
		   "json: cannot unmarshal number into Go value of type specs.LinuxResources");
	expect_err(
		"{\"args\":1}", SPECJSON_PROCESS,
		"json: cannot unmarshal number into Go struct field Process.args of type []string");
	expect_err(
		"{\"args\":[\"a\",2]}", SPECJSON_PROCESS,
		"json: cannot unmarshal number into Go struct field Process.args of type string");
	expect_err(
		"{\"pids\":\"x\"}", SPECJSON_RESOURCES,
		"json: cannot unmarshal string into Go struct field LinuxResources.pids of type specs.LinuxPids");
}

static void test_ok(void **state)
{
	char msg[128];
	json_t *v;
	(void)state;
	const char *in = "{\"args\":[\"/bin/true\"],\"cwd\":\"/\",\"terminal\":null,\"x\":1}";
	v = specjson_decode(in, strlen(in), SPECJSON_PROCESS, msg, sizeof(msg));
	assert_non_null(v);
	assert_string_equal(json_string_value(json_array_get(json_object_get(v, "args"), 0)),
			    "/bin/true");
	json_decref(v);
	v = specjson_decode("null", 4, SPECJSON_RESOURCES, msg, sizeof(msg));
	assert_non_null(v); /* Go leaves the struct empty */
	assert_true(json_is_object(v) && json_object_size(v) == 0);
	json_decref(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_syntax),
		cmocka_unit_test(test_types),
		cmocka_unit_test(test_ok),
	};
	return cmocka_run_group_tests_name("specjson", tests, NULL, NULL);
}
