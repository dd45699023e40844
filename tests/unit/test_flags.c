/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for server/flags.h: Go flag syntax and containerd 1.6's shim argv
 * (docs/v1-protocol.md §1.3). */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "server/flags.h"

#define ARGC(a) ((int)(sizeof(a) / sizeof((a)[0])))

static char msg[256];

static enum flags_result parse(int argc, char *const *argv, struct shim_flags *f)
{
	memset(msg, 'Z', sizeof(msg));
	msg[sizeof(msg) - 1] = '\0';
	return flags_parse(argc, argv, f, msg, sizeof(msg));
}

static void test_defaults(void **state)
{
	(void)state;
	char *argv[] = { "containerd-shim" };
	struct shim_flags f;

	assert_int_equal(parse(ARGC(argv), argv, &f), FLAGS_OK);
	assert_string_equal(msg, "");
	assert_string_equal(f.ns, "");
	assert_string_equal(f.workdir, "");
	assert_string_equal(f.address, "");
	assert_string_equal(f.containerd_binary, "containerd");
	assert_string_equal(f.runtime_root, "/run/containerd/runc");
	assert_string_equal(f.criu, "");
	assert_string_equal(f.socket, "");
	assert_false(f.systemd_cgroup);
	assert_false(f.debug);
	assert_false(f.version);
	assert_false(f.help);
}

static void test_containerd_argv(void **state)
{
	(void)state;
	/* docs/v1-protocol.md §1.3, every optional flag present, in containerd's order */
	char *argv[] = { "containerd-shim",
			 "-namespace",
			 "default",
			 "-workdir",
			 "/var/lib/containerd/io.containerd.runtime.v1.linux/default/c1",
			 "-address",
			 "/run/containerd/containerd.sock",
			 "-containerd-binary",
			 "/usr/bin/containerd",
			 "-criu-path",
			 "/usr/sbin/criu",
			 "-runtime-root",
			 "/run/containerd/runc-alt",
			 "-systemd-cgroup",
			 "-debug" };
	struct shim_flags f;

	assert_int_equal(parse(ARGC(argv), argv, &f), FLAGS_OK);
	assert_string_equal(msg, "");
	assert_string_equal(f.ns, "default");
	assert_string_equal(f.workdir,
			    "/var/lib/containerd/io.containerd.runtime.v1.linux/default/c1");
	assert_string_equal(f.address, "/run/containerd/containerd.sock");
	assert_string_equal(f.containerd_binary, "/usr/bin/containerd");
	assert_string_equal(f.criu, "/usr/sbin/criu");
	assert_string_equal(f.runtime_root, "/run/containerd/runc-alt");
	assert_true(f.systemd_cgroup);
	assert_true(f.debug);
	assert_string_equal(f.socket, "");
	assert_false(f.version);
	assert_false(f.help);
}

static void test_criu_and_socket(void **state)
{
	(void)state;
	char *argv[] = { "shim", "-criu", "/opt/criu", "-socket", "unix:///tmp/x.sock" };
	struct shim_flags f;

	assert_int_equal(parse(ARGC(argv), argv, &f), FLAGS_OK);
	assert_string_equal(f.criu, "/opt/criu");
	assert_string_equal(f.socket, "unix:///tmp/x.sock");
}

static void test_value_forms(void **state)
{
	(void)state;
	struct shim_flags f;
	{
		char *argv[] = { "shim", "-namespace", "a1" };
		assert_int_equal(parse(ARGC(argv), argv, &f), FLAGS_OK);
		assert_string_equal(f.ns, "a1");
	}
	{
		char *argv[] = { "shim", "-namespace=a2" };
		assert_int_equal(parse(ARGC(argv), argv, &f), FLAGS_OK);
		assert_string_equal(f.ns, "a2");
	}
	{
		char *argv[] = { "shim", "--namespace", "a3" };
		assert_int_equal(parse(ARGC(argv), argv, &f), FLAGS_OK);
		assert_string_equal(f.ns, "a3");
	}
	{
		char *argv[] = { "shim", "--namespace=a4" };
		assert_int_equal(parse(ARGC(argv), argv, &f), FLAGS_OK);
		assert_string_equal(f.ns, "a4");
	}
	{
		/* only the first '=' splits: the value keeps the rest */
		char *argv[] = { "shim", "-address=unix:///a=b" };
		assert_int_equal(parse(ARGC(argv), argv, &f), FLAGS_OK);
		assert_string_equal(f.address, "unix:///a=b");
	}
	{
		char *argv[] = { "shim", "-workdir=" };
		assert_int_equal(parse(ARGC(argv), argv, &f), FLAGS_OK);
		assert_string_equal(f.workdir, "");
	}
	{
		char *argv[] = { "shim", "-workdir", "" };
		assert_int_equal(parse(ARGC(argv), argv, &f), FLAGS_OK);
		assert_string_equal(f.workdir, "");
	}
}

static void test_every_string_flag_all_forms(void **state)
{
	(void)state;
	static const struct {
		const char *name;
		size_t off;
	} sf[] = {
		{ "namespace", offsetof(struct shim_flags, ns) },
		{ "workdir", offsetof(struct shim_flags, workdir) },
		{ "address", offsetof(struct shim_flags, address) },
		{ "containerd-binary", offsetof(struct shim_flags, containerd_binary) },
		{ "runtime-root", offsetof(struct shim_flags, runtime_root) },
		{ "criu", offsetof(struct shim_flags, criu) },
		{ "criu-path", offsetof(struct shim_flags, criu) },
		{ "socket", offsetof(struct shim_flags, socket) },
	};
	for (size_t i = 0; i < sizeof(sf) / sizeof(sf[0]); i++) {
		for (int form = 0; form < 4; form++) {
			char a1[64], a2[64];
			char *argv[3] = { "shim", a1, a2 };
			int argc = 3;
			struct shim_flags f;
			const char *dash = form & 1 ? "--" : "-";
			if (form & 2) {
				snprintf(a1, sizeof(a1), "%s%s=/v/%d", dash, sf[i].name, form);
				argc = 2;
			} else {
				snprintf(a1, sizeof(a1), "%s%s", dash, sf[i].name);
				snprintf(a2, sizeof(a2), "/v/%d", form);
			}
			assert_int_equal(parse(argc, argv, &f), FLAGS_OK);
			char want[16];
			snprintf(want, sizeof(want), "/v/%d", form);
			assert_string_equal(*(const char **)((char *)&f + sf[i].off), want);
		}
	}
}

static void test_value_may_start_with_dash(void **state)
{
	(void)state;
	/* Go: a string flag takes the next argument whatever it looks like */
	char *argv[] = { "shim", "-namespace", "-debug" };
	struct shim_flags f;

	assert_int_equal(parse(ARGC(argv), argv, &f), FLAGS_OK);
	assert_string_equal(f.ns, "-debug");
	assert_false(f.debug);
}

static void test_last_wins(void **state)
{
	(void)state;
	char *argv[] = { "shim", "-namespace", "a", "--namespace=b", "-debug", "-debug=false" };
	struct shim_flags f;

	assert_int_equal(parse(ARGC(argv), argv, &f), FLAGS_OK);
	assert_string_equal(f.ns, "b");
	assert_false(f.debug);
}

static void test_bool_forms(void **state)
{
	(void)state;
	static const struct {
		const char *arg;
		bool want;
	} cases[] = {
		{ "-debug", true },        { "--debug", true },      { "-debug=true", true },
		{ "-debug=false", false }, { "--debug=true", true }, { "--debug=false", false },
		{ "-debug=1", true },      { "-debug=0", false },    { "-debug=t", true },
		{ "-debug=F", false },     { "-debug=TRUE", true },  { "-debug=False", false },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *argv[] = { "shim", (char *)cases[i].arg };
		struct shim_flags f;
		assert_int_equal(parse(ARGC(argv), argv, &f), FLAGS_OK);
		assert_int_equal(f.debug, cases[i].want);
		assert_false(f.systemd_cgroup);
	}
	{
		char *argv[] = { "shim", "-systemd-cgroup=true", "-debug=false" };
		struct shim_flags f;
		assert_int_equal(parse(ARGC(argv), argv, &f), FLAGS_OK);
		assert_true(f.systemd_cgroup);
		assert_false(f.debug);
	}
}

static void test_bool_does_not_take_next_arg(void **state)
{
	(void)state;
	/* "-debug false": debug is true and "false" is the first non-flag: parsing stops */
	char *argv[] = { "shim", "-debug", "false", "-namespace", "x" };
	struct shim_flags f;

	assert_int_equal(parse(ARGC(argv), argv, &f), FLAGS_OK);
	assert_true(f.debug);
	assert_string_equal(f.ns, "");
}

static void test_bad_bool(void **state)
{
	(void)state;
	struct shim_flags f;
	{
		char *argv[] = { "shim", "-debug=maybe" };
		assert_int_equal(parse(ARGC(argv), argv, &f), FLAGS_USAGE_ERROR);
		assert_string_equal(msg, "invalid boolean value \"maybe\" for -debug: parse error");
	}
	{
		char *argv[] = { "shim", "--systemd-cgroup=yes" };
		assert_int_equal(parse(ARGC(argv), argv, &f), FLAGS_USAGE_ERROR);
		assert_string_equal(
			msg, "invalid boolean value \"yes\" for -systemd-cgroup: parse error");
	}
	{
		char *argv[] = { "shim", "-debug=" };
		assert_int_equal(parse(ARGC(argv), argv, &f), FLAGS_USAGE_ERROR);
		assert_string_equal(msg, "invalid boolean value \"\" for -debug: parse error");
	}
}

static void test_unknown_flag(void **state)
{
	(void)state;
	struct shim_flags f;
	{
		char *argv[] = { "shim", "-nope" };
		assert_int_equal(parse(ARGC(argv), argv, &f), FLAGS_USAGE_ERROR);
		assert_string_equal(msg, "flag provided but not defined: -nope");
	}
	{
		char *argv[] = { "shim", "-namespace", "x", "--nope=3", "-debug" };
		assert_int_equal(parse(ARGC(argv), argv, &f), FLAGS_USAGE_ERROR);
		assert_string_equal(msg, "flag provided but not defined: -nope");
	}
	{
		/* a prefix of a defined flag is not that flag */
		char *argv[] = { "shim", "-name", "x" };
		assert_int_equal(parse(ARGC(argv), argv, &f), FLAGS_USAGE_ERROR);
		assert_string_equal(msg, "flag provided but not defined: -name");
	}
	{
		/* names are case-sensitive */
		char *argv[] = { "shim", "-Debug" };
		assert_int_equal(parse(ARGC(argv), argv, &f), FLAGS_USAGE_ERROR);
		assert_string_equal(msg, "flag provided but not defined: -Debug");
	}
}

static void test_missing_argument(void **state)
{
	(void)state;
	struct shim_flags f;
	{
		char *argv[] = { "shim", "-namespace" };
		assert_int_equal(parse(ARGC(argv), argv, &f), FLAGS_USAGE_ERROR);
		assert_string_equal(msg, "flag needs an argument: -namespace");
	}
	{
		char *argv[] = { "shim", "-debug", "--containerd-binary" };
		assert_int_equal(parse(ARGC(argv), argv, &f), FLAGS_USAGE_ERROR);
		assert_string_equal(msg, "flag needs an argument: -containerd-binary");
	}
}

static void test_bad_syntax(void **state)
{
	(void)state;
	struct shim_flags f;
	{
		char *argv[] = { "shim", "---debug" };
		assert_int_equal(parse(ARGC(argv), argv, &f), FLAGS_USAGE_ERROR);
		assert_string_equal(msg, "bad flag syntax: ---debug");
	}
	{
		char *argv[] = { "shim", "-=x" };
		assert_int_equal(parse(ARGC(argv), argv, &f), FLAGS_USAGE_ERROR);
		assert_string_equal(msg, "bad flag syntax: -=x");
	}
}

static void test_double_dash_stops(void **state)
{
	(void)state;
	char *argv[] = { "shim", "-namespace", "a", "--", "-namespace", "b", "-nope" };
	struct shim_flags f;

	assert_int_equal(parse(ARGC(argv), argv, &f), FLAGS_OK);
	assert_string_equal(f.ns, "a");
	assert_string_equal(msg, "");
}

static void test_non_flag_stops(void **state)
{
	(void)state;
	struct shim_flags f;
	{
		char *argv[] = { "shim", "-namespace", "a", "extra", "-nope", "-debug" };
		assert_int_equal(parse(ARGC(argv), argv, &f), FLAGS_OK);
		assert_string_equal(f.ns, "a");
		assert_false(f.debug);
	}
	{
		/* a lone "-" is a non-flag argument */
		char *argv[] = { "shim", "-", "-debug" };
		assert_int_equal(parse(ARGC(argv), argv, &f), FLAGS_OK);
		assert_false(f.debug);
	}
	{
		char *argv[] = { "shim", "delete", "-debug" };
		assert_int_equal(parse(ARGC(argv), argv, &f), FLAGS_OK);
		assert_false(f.debug);
	}
}

static void test_help_and_version(void **state)
{
	(void)state;
	static const char *const helps[] = { "-h", "-help", "--help", "--h", "-h=1" };
	for (size_t i = 0; i < sizeof(helps) / sizeof(helps[0]); i++) {
		char *argv[] = { "shim", "-namespace", "x", (char *)helps[i], "-nope" };
		struct shim_flags f;
		assert_int_equal(parse(ARGC(argv), argv, &f), FLAGS_EXIT_OK);
		assert_true(f.help);
	}
	{
		char *argv[] = { "shim", "--version" };
		struct shim_flags f;
		assert_int_equal(parse(ARGC(argv), argv, &f), FLAGS_EXIT_OK);
		assert_true(f.version);
		assert_false(f.help);
	}
	{
		char *argv[] = { "shim", "-version", "-namespace", "n" };
		struct shim_flags f;
		assert_int_equal(parse(ARGC(argv), argv, &f), FLAGS_EXIT_OK);
		assert_true(f.version);
	}
	{
		char *argv[] = { "shim", "-version=false" };
		struct shim_flags f;
		assert_int_equal(parse(ARGC(argv), argv, &f), FLAGS_OK);
		assert_false(f.version);
	}
}

static void test_reparse_resets(void **state)
{
	(void)state;
	struct shim_flags f;
	char *a1[] = { "shim", "-debug", "-namespace", "x", "-runtime-root", "/r" };
	char *a2[] = { "shim" };

	assert_int_equal(parse(ARGC(a1), a1, &f), FLAGS_OK);
	assert_int_equal(parse(ARGC(a2), a2, &f), FLAGS_OK);
	assert_false(f.debug);
	assert_string_equal(f.ns, "");
	assert_string_equal(f.runtime_root, "/run/containerd/runc");
}

static void test_message_truncated_to_buffer(void **state)
{
	(void)state;
	char small[10];
	char *argv[] = { "shim", "-nope" };
	struct shim_flags f;

	memset(small, 'Z', sizeof(small));
	assert_int_equal(flags_parse(ARGC(argv), argv, &f, small, sizeof(small)),
			 FLAGS_USAGE_ERROR);
	assert_string_equal(small, "flag prov");
}

static void test_usage_lists_flags(void **state)
{
	(void)state;
	int p[2];
	char buf[8192];
	ssize_t n, tot = 0;

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	flags_usage("containerd-shim", p[1]);
	close(p[1]);
	while ((n = read(p[0], buf + tot, sizeof(buf) - 1 - tot)) > 0)
		tot += n;
	close(p[0]);
	buf[tot] = '\0';
	assert_int_equal(strncmp(buf, "Usage of containerd-shim:\n", 26), 0);
	assert_non_null(strstr(buf, "\n  -namespace string\n    \t"));
	assert_non_null(strstr(buf, "\n  -criu-path string\n"));
	assert_non_null(strstr(buf, "\n  -runtime-root string\n"));
	assert_non_null(strstr(buf, "\n  -debug\n    \t"));
	assert_non_null(strstr(buf, "\n  -systemd-cgroup\n"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_containerd_argv),
		cmocka_unit_test(test_criu_and_socket),
		cmocka_unit_test(test_value_forms),
		cmocka_unit_test(test_every_string_flag_all_forms),
		cmocka_unit_test(test_value_may_start_with_dash),
		cmocka_unit_test(test_last_wins),
		cmocka_unit_test(test_bool_forms),
		cmocka_unit_test(test_bool_does_not_take_next_arg),
		cmocka_unit_test(test_bad_bool),
		cmocka_unit_test(test_unknown_flag),
		cmocka_unit_test(test_missing_argument),
		cmocka_unit_test(test_bad_syntax),
		cmocka_unit_test(test_double_dash_stops),
		cmocka_unit_test(test_non_flag_stops),
		cmocka_unit_test(test_help_and_version),
		cmocka_unit_test(test_reparse_resets),
		cmocka_unit_test(test_message_truncated_to_buffer),
		cmocka_unit_test(test_usage_lists_flags),
	};
	return cmocka_run_group_tests_name("flags", tests, NULL, NULL);
}
