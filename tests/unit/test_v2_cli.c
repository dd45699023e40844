/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for server/v2_cli.h: which front end an argv selects (docs/v2-launch.md,
 * "Which front end") and the v2 flags (docs/v2-protocol.md §2.3, §2.6, §2.7). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "server/v2_cli.h"

#define ARGC(a) ((int)(sizeof(a) / sizeof((a)[0])))

static char msg[256];

static void test_v1_argv_stays_v1(void **state)
{
	(void)state;
	/* containerd 1.6's v1 call (docs/v1-protocol.md §1.3), the v1 shim's own --version, -h */
	char *v1[] = { "cshim",
		       "-namespace",
		       "default",
		       "-workdir",
		       "/var/lib/c/w",
		       "-address",
		       "/run/containerd/containerd.sock",
		       "-containerd-binary",
		       "/usr/bin/containerd",
		       "-runtime-root",
		       "/run/containerd/runc",
		       "-systemd-cgroup",
		       "-debug" };
	char *ver[] = { "cshim", "--version" };
	char *ver2[] = { "cshim", "-version" };
	char *help[] = { "cshim", "-h" };
	char *none[] = { "cshim" };
	char *sock[] = { "cshim", "-namespace", "n", "-socket", "unix:///tmp/x" };

	assert_false(v2_cli_selected(ARGC(v1), v1));
	assert_false(v2_cli_selected(ARGC(ver), ver));
	assert_false(v2_cli_selected(ARGC(ver2), ver2));
	assert_false(v2_cli_selected(ARGC(help), help));
	assert_false(v2_cli_selected(ARGC(none), none));
	assert_false(v2_cli_selected(ARGC(sock), sock));
}

static void test_v2_argv_selected(void **state)
{
	(void)state;
	/* docs/v2-protocol.md §2.3 and §2.6, the exact 1.6 argv */
	char *start[] = { "shim",
			  "-namespace",
			  "default",
			  "-address",
			  "/run/containerd/containerd.sock",
			  "-publish-binary",
			  "/usr/bin/containerd",
			  "-id",
			  "c1",
			  "start" };
	char *del[] = { "shim",
			"-namespace",
			"default",
			"-address",
			"/run/c.sock",
			"-publish-binary",
			"/usr/bin/containerd",
			"-id",
			"c1",
			"-bundle",
			"/run/b/c1",
			"-debug",
			"delete" };
	char *serve[] = { "shim", "-namespace", "n", "-id", "c1", "-address", "/a", V2_SERVE_WORD };
	char *info[] = { "shim", "-info" };
	char *info2[] = { "shim", "--info=true" };
	char *v[] = { "shim", "-v" };
	char *version_id[] = { "shim", "-id", "x", "-version" };

	assert_true(v2_cli_selected(ARGC(start), start));
	assert_true(v2_cli_selected(ARGC(del), del));
	assert_true(v2_cli_selected(ARGC(serve), serve));
	assert_true(v2_cli_selected(ARGC(info), info));
	assert_true(v2_cli_selected(ARGC(info2), info2));
	assert_true(v2_cli_selected(ARGC(v), v));
	assert_true(v2_cli_selected(ARGC(version_id), version_id));
}

static void test_flag_values_are_not_flags(void **state)
{
	(void)state;
	/* "-v" and "-info" as values of string flags do not select v2 */
	char *a[] = { "shim", "-namespace", "-v", "-workdir", "-info" };
	char *b[] = { "shim", "-address=-v" };

	assert_false(v2_cli_selected(ARGC(a), a));
	assert_false(v2_cli_selected(ARGC(b), b));
}

static void test_parse_start(void **state)
{
	(void)state;
	char *argv[] = { "shim",
			 "--namespace=default",
			 "-address",
			 "/run/c.sock",
			 "-publish-binary",
			 "/usr/bin/containerd",
			 "-id=c1",
			 "--debug",
			 "start" };
	struct v2_flags f;

	assert_int_equal(v2_cli_parse(ARGC(argv), argv, &f, msg, sizeof(msg)), FLAGS_OK);
	assert_int_equal(f.action, V2_ACT_START);
	assert_string_equal(f.ns, "default");
	assert_string_equal(f.address, "/run/c.sock");
	assert_string_equal(f.publish_binary, "/usr/bin/containerd");
	assert_string_equal(f.id, "c1");
	assert_string_equal(f.bundle, "");
	assert_true(f.debug);
	assert_false(f.info);
}

static void test_parse_delete_defaults(void **state)
{
	(void)state;
	char *argv[] = { "shim", "-namespace", "n", "-id", "c1", "-bundle", "/b", "delete" };
	struct v2_flags f;

	assert_int_equal(v2_cli_parse(ARGC(argv), argv, &f, msg, sizeof(msg)), FLAGS_OK);
	assert_int_equal(f.action, V2_ACT_DELETE);
	assert_string_equal(f.bundle, "/b");
	assert_string_equal(f.publish_binary, "containerd"); /* Go's default */
	assert_string_equal(f.address, "");
	assert_false(f.debug);
}

static void test_parse_info_and_version(void **state)
{
	(void)state;
	char *info[] = { "shim", "-info" };
	char *v[] = { "shim", "-v" };
	char *ver[] = { "shim", "-version", "start" };
	struct v2_flags f;

	assert_int_equal(v2_cli_parse(ARGC(info), info, &f, msg, sizeof(msg)), FLAGS_OK);
	assert_true(f.info);
	assert_int_equal(f.action, V2_ACT_NONE);
	assert_int_equal(v2_cli_parse(ARGC(v), v, &f, msg, sizeof(msg)), FLAGS_EXIT_OK);
	assert_true(f.v);
	assert_false(f.help);
	assert_int_equal(v2_cli_parse(ARGC(ver), ver, &f, msg, sizeof(msg)), FLAGS_EXIT_OK);
	assert_true(f.version);
}

static void test_parse_errors(void **state)
{
	(void)state;
	char *unknown[] = { "shim", "-namespace", "n", "-workdir", "/w", "start" };
	char *noaction[] = { "shim", "-namespace", "n", "-id", "c1" };
	char *badaction[] = { "shim", "-namespace", "n", "-id", "c1", "stop" };
	char *noarg[] = { "shim", "-id" };
	struct v2_flags f;

	assert_int_equal(v2_cli_parse(ARGC(unknown), unknown, &f, msg, sizeof(msg)),
			 FLAGS_USAGE_ERROR);
	assert_string_equal(msg, "flag provided but not defined: -workdir");
	assert_int_equal(v2_cli_parse(ARGC(noaction), noaction, &f, msg, sizeof(msg)),
			 FLAGS_USAGE_ERROR);
	assert_non_null(strstr(msg, "no action"));
	assert_int_equal(v2_cli_parse(ARGC(badaction), badaction, &f, msg, sizeof(msg)),
			 FLAGS_USAGE_ERROR);
	assert_string_equal(msg, "unknown action \"stop\" (expected start or delete)");
	assert_int_equal(v2_cli_parse(ARGC(noarg), noarg, &f, msg, sizeof(msg)), FLAGS_USAGE_ERROR);
	assert_string_equal(msg, "flag needs an argument: -id");
}

static void test_double_dash_then_action(void **state)
{
	(void)state;
	char *argv[] = { "shim", "-namespace", "n", "-id", "c1", "--", "delete" };
	struct v2_flags f;

	assert_int_equal(v2_cli_parse(ARGC(argv), argv, &f, msg, sizeof(msg)), FLAGS_OK);
	assert_int_equal(f.action, V2_ACT_DELETE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v1_argv_stays_v1),
		cmocka_unit_test(test_v2_argv_selected),
		cmocka_unit_test(test_flag_values_are_not_flags),
		cmocka_unit_test(test_parse_start),
		cmocka_unit_test(test_parse_delete_defaults),
		cmocka_unit_test(test_parse_info_and_version),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_double_dash_then_action),
	};
	return cmocka_run_group_tests_name("v2_cli", tests, NULL, NULL);
}
