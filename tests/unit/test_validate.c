/* SPDX-License-Identifier: Apache-2.0 */
/* server/validate: containerd's identifier rules and the bundle check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "server/validate.h"

static void test_identifiers(void **state)
{
	char msg[256], long_id[100];
	(void)state;
	assert_true(validate_identifier("abc", msg, sizeof(msg)));
	assert_true(validate_identifier("a.b_c-d9", msg, sizeof(msg)));
	assert_true(validate_identifier("0", msg, sizeof(msg)));
	assert_false(validate_identifier("", msg, sizeof(msg)));
	assert_string_equal(msg, "identifier must not be empty: invalid argument");
	assert_false(validate_identifier("-a", msg, sizeof(msg)));
	assert_false(validate_identifier("a-", msg, sizeof(msg)));
	assert_false(validate_identifier("a..b", msg, sizeof(msg)));
	assert_false(validate_identifier("a/b", msg, sizeof(msg)));
	assert_false(validate_identifier("../x", msg, sizeof(msg)));
	assert_false(validate_identifier("a b", msg, sizeof(msg)));
	assert_false(validate_identifier("\xc3\xa9", msg, sizeof(msg)));
	assert_string_equal(msg, "identifier \"\xc3\xa9\" must match pattern "
				 "^[A-Za-z0-9]+(?:[._-](?:[A-Za-z0-9]+))*$: invalid argument");
	memset(long_id, 'a', 76);
	long_id[76] = '\0';
	assert_true(validate_identifier(long_id, msg, sizeof(msg)));
	long_id[76] = 'a';
	long_id[77] = '\0';
	assert_false(validate_identifier(long_id, msg, sizeof(msg)));
}

static void test_bundle(void **state)
{
	char msg[512], dir[] = "/tmp/cshim-test-validate-XXXXXX", link[64], sub[64];
	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(link, sizeof(link), "%s.lnk", dir);
	snprintf(sub, sizeof(sub), "%s/sub", dir);
	assert_int_equal(symlink(dir, link), 0);
	assert_int_equal(mkdir(sub, 0700), 0);
	assert_true(validate_bundle(dir, dir, msg, sizeof(msg)));
	assert_true(validate_bundle(link, dir, msg, sizeof(msg))); /* same directory */
	assert_false(validate_bundle(sub, dir, msg, sizeof(msg)));
	assert_false(validate_bundle("relative", dir, msg, sizeof(msg)));
	assert_false(validate_bundle("/nonexistent/x", dir, msg, sizeof(msg)));
	rmdir(sub);
	unlink(link);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identifiers),
		cmocka_unit_test(test_bundle),
	};
	return cmocka_run_group_tests_name("validate", tests, NULL, NULL);
}
