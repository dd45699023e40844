/* SPDX-License-Identifier: Apache-2.0 */
/* server/validate: containerd's identifier rules, the bundle check, request paths. */
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

/* Request paths (checkpoint image and work dirs): the message names the field and quotes
 * the path safely; the rules themselves are tested in test_pathcheck. */
static void test_request_paths(void **state)
{
	char msg[1024], dir[] = "/tmp/cshim-test-validate-XXXXXX", p[128], lnk[128];
	char longp[400];
	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(p, sizeof(p), "%s/img", dir);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(lnk, sizeof(lnk), "%s/lnk", dir);
	assert_int_equal(symlink(p, lnk), 0);

	assert_true(validate_request_path("checkpoint path", p, strlen(p), REQ_PATH_DIR, msg,
					  sizeof(msg)));
	snprintf(p, sizeof(p), "%s/new", dir);
	assert_true(validate_request_path("checkpoint path", p, strlen(p), REQ_PATH_DIR_OR_LEAF,
					  msg, sizeof(msg)));
	assert_false(validate_request_path("create checkpoint", p, strlen(p), REQ_PATH_DIR, msg,
					   sizeof(msg)));
	snprintf(lnk, sizeof(lnk), "create checkpoint \"%s/new\": does not exist: invalid argument",
		 dir);
	assert_string_equal(msg, lnk);

	assert_false(validate_request_path("checkpoint path", "/x/../y", 7, REQ_PATH_DIR_OR_LEAF,
					   msg, sizeof(msg)));
	assert_string_equal(msg, "checkpoint path \"/x/../y\": must be an absolute, clean path: "
				 "invalid argument");
	assert_false(validate_request_path("checkpoint work_path", "rel", 3, REQ_PATH_DIR_OR_LEAF,
					   msg, sizeof(msg)));
	assert_string_equal(msg, "checkpoint work_path \"rel\": must be an absolute, clean path: "
				 "invalid argument");
	snprintf(p, sizeof(p), "%s/lnk/x", dir);
	assert_false(validate_request_path("checkpoint path", p, strlen(p), REQ_PATH_DIR_OR_LEAF,
					   msg, sizeof(msg)));
	assert_non_null(strstr(msg, "/lnk/x\": has a symlink component: invalid argument"));

	/* control characters, quotes, non-ASCII and a NUL are escaped; the text stays ASCII */
	assert_false(validate_request_path("checkpoint path", "/a\n\"\xc3\xa9", 6,
					   REQ_PATH_DIR_OR_LEAF, msg, sizeof(msg)));
	assert_string_equal(msg, "checkpoint path \"/a\\x0a\\\"\\xc3\\xa9\": must not contain "
				 "NUL or control characters: invalid argument");
	assert_false(validate_request_path("checkpoint path", "/a", 4, REQ_PATH_DIR_OR_LEAF, msg,
					   sizeof(msg)));
	assert_string_equal(msg, "checkpoint path \"/a\\x00...\": must not contain NUL or "
				 "control characters: invalid argument");
	/* a long path is cut in the message */
	memset(longp, 'a', sizeof(longp));
	longp[0] = '/';
	longp[sizeof(longp) - 1] = '\0';
	for (size_t i = 100; i < sizeof(longp) - 1; i += 100)
		longp[i] = '/';
	assert_false(validate_request_path("checkpoint path", longp, strlen(longp), REQ_PATH_DIR,
					   msg, sizeof(msg)));
	assert_non_null(strstr(msg, "aaa...\": does not exist: invalid argument"));
	assert_true(strlen(msg) < 300);

	/* parent_checkpoint: relative, beneath the image dir */
	snprintf(p, sizeof(p), "%s", dir);
	assert_true(validate_request_subpath("create parent_checkpoint", p, "img", 3, msg,
					     sizeof(msg)));
	assert_false(validate_request_subpath("create parent_checkpoint", p, "../img", 6, msg,
					      sizeof(msg)));
	assert_string_equal(msg, "create parent_checkpoint \"../img\": must be a relative, clean "
				 "path: invalid argument");
	assert_false(validate_request_subpath("create parent_checkpoint", p, "lnk", 3, msg,
					      sizeof(msg)));
	assert_string_equal(msg, "create parent_checkpoint \"lnk\": has a symlink component: "
				 "invalid argument");
	assert_false(validate_request_subpath("create parent_checkpoint", p, "nope", 4, msg,
					      sizeof(msg)));

	snprintf(p, sizeof(p), "%s/lnk", dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/img", dir);
	rmdir(p);
	rmdir(dir);
}

/* The wire length of a string field: how a NUL the client sent is seen. */
static void test_wire_len(void **state)
{
	/* CheckpointTaskRequest{path=1: "/a\0b", options=2: {...}} then path again as "/c" */
	static const uint8_t m1[] = { 0x0a, 4, '/', 'a', 0, 'b', 0x12, 2, 0x08, 1 };
	static const uint8_t m2[] = { 0x0a, 4, '/', 'a', 0, 'b', 0x0a, 2, '/', 'c' };
	static const uint8_t m3[] = { 0x08, 0x96, 0x01, 0x0a, 2, '/', 'c', 0x15, 1, 2, 3, 4 };
	static const uint8_t bad[] = { 0x0a, 9, '/', 'a' }; /* length past the end */
	(void)state;
	assert_int_equal(validate_wire_len(m1, sizeof(m1), 1, "/a"), 4);
	assert_int_equal(validate_wire_len(m2, sizeof(m2), 1, "/c"), 2); /* the last one wins */
	assert_int_equal(validate_wire_len(m3, sizeof(m3), 1, "/c"), 2);
	assert_int_equal(validate_wire_len(m3, sizeof(m3), 9, "xyz"), 3); /* absent */
	assert_int_equal(validate_wire_len(bad, sizeof(bad), 1, "/a"), 2);
	assert_int_equal(validate_wire_len(NULL, 0, 1, "/a"), 2);
}

/* Go's utf8.Valid: what the Go decoder accepts in a proto3 string. */
static void test_utf8(void **state)
{
	(void)state;
	assert_true(validate_utf8(NULL));
	assert_true(validate_utf8(""));
	assert_true(validate_utf8("containerd.runtime.linux.shim.v1.Shim"));
	assert_true(validate_utf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf"));
	assert_false(validate_utf8("\x80"));                 /* a lone continuation byte */
	assert_false(validate_utf8("\xc3"));                 /* cut short */
	assert_false(validate_utf8("\xc3("));                /* not a continuation */
	assert_false(validate_utf8("\xc0\x80"));             /* overlong NUL */
	assert_false(validate_utf8("\xe0\x80\xaf"));         /* overlong '/' */
	assert_false(validate_utf8("\xed\xa0\x80"));         /* U+D800, a surrogate */
	assert_false(validate_utf8("\xf4\x90\x80\x80"));     /* U+110000 */
	assert_false(validate_utf8("\xf8\x88\x80\x80\x80")); /* a 5-byte form */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identifiers),   cmocka_unit_test(test_bundle),
		cmocka_unit_test(test_request_paths), cmocka_unit_test(test_wire_len),
		cmocka_unit_test(test_utf8),
	};
	return cmocka_run_group_tests_name("validate", tests, NULL, NULL);
}
