/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for core/mount.h: mount_parse_options against the table of
 * docs/v1-protocol.md §3.17. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/mount.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static char data[16384];

static int parse(char *const *opts, size_t n, unsigned long *flags)
{
	memset(data, 'Q', sizeof(data));
	*flags = 0xDEADBEEF;
	return mount_parse_options(opts, n, flags, data, sizeof(data));
}

/* One option on its own: its flag is set (or, for a "clear" option, nothing is set). */
static void test_table_single_options(void **state)
{
	(void)state;
	static const struct {
		const char *opt;
		unsigned long flags;
	} t[] = {
		{ "async", 0 },
		{ "atime", 0 },
		{ "bind", MS_BIND },
		{ "defaults", 0 },
		{ "dev", 0 },
		{ "diratime", 0 },
		{ "dirsync", MS_DIRSYNC },
		{ "exec", 0 },
		{ "mand", MS_MANDLOCK },
		{ "noatime", MS_NOATIME },
		{ "nodev", MS_NODEV },
		{ "nodiratime", MS_NODIRATIME },
		{ "noexec", MS_NOEXEC },
		{ "nomand", 0 },
		{ "norelatime", 0 },
		{ "nostrictatime", 0 },
		{ "nosuid", MS_NOSUID },
		{ "rbind", MS_BIND | MS_REC },
		{ "relatime", MS_RELATIME },
		{ "remount", MS_REMOUNT },
		{ "ro", MS_RDONLY },
		{ "rw", 0 },
		{ "strictatime", MS_STRICTATIME },
		{ "suid", 0 },
		{ "sync", MS_SYNCHRONOUS },
	};
	for (size_t i = 0; i < N(t); i++) {
		char *opts[] = { (char *)t[i].opt };
		unsigned long flags;
		assert_int_equal(parse(opts, 1, &flags), 0);
		if (flags != t[i].flags)
			fail_msg("option %s: flags %#lx, want %#lx", t[i].opt, flags, t[i].flags);
		assert_string_equal(data, "");
	}
}

/* Each "clear" option undoes its "set" counterpart given before it, and only that. */
static void test_table_clear_pairs(void **state)
{
	(void)state;
	static const struct {
		const char *set, *clear;
		unsigned long flag;
	} t[] = {
		{ "sync", "async", MS_SYNCHRONOUS },
		{ "noatime", "atime", MS_NOATIME },
		{ "nodev", "dev", MS_NODEV },
		{ "nodiratime", "diratime", MS_NODIRATIME },
		{ "noexec", "exec", MS_NOEXEC },
		{ "mand", "nomand", MS_MANDLOCK },
		{ "relatime", "norelatime", MS_RELATIME },
		{ "strictatime", "nostrictatime", MS_STRICTATIME },
		{ "nosuid", "suid", MS_NOSUID },
		{ "ro", "rw", MS_RDONLY },
	};
	for (size_t i = 0; i < N(t); i++) {
		unsigned long flags;
		char *on_off[] = { "bind", (char *)t[i].set, (char *)t[i].clear };
		char *off_on[] = { "bind", (char *)t[i].clear, (char *)t[i].set };
		assert_int_equal(parse(on_off, 3, &flags), 0);
		if (flags != MS_BIND)
			fail_msg("%s then %s: flags %#lx, want %#lx", t[i].set, t[i].clear, flags,
				 (unsigned long)MS_BIND);
		assert_int_equal(parse(off_on, 3, &flags), 0);
		if (flags != (MS_BIND | t[i].flag))
			fail_msg("%s then %s: flags %#lx", t[i].clear, t[i].set, flags);
	}
}

static void test_ro_rw_order(void **state)
{
	(void)state;
	unsigned long flags;
	char *a[] = { "ro", "rw" };
	char *b[] = { "rw", "ro" };
	char *c[] = { "rbind", "ro", "nosuid", "nodev", "noexec" };

	assert_int_equal(parse(a, 2, &flags), 0);
	assert_int_equal(flags, 0);
	assert_int_equal(parse(b, 2, &flags), 0);
	assert_int_equal(flags, MS_RDONLY);
	assert_int_equal(parse(c, N(c), &flags), 0);
	assert_int_equal(flags, MS_BIND | MS_REC | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC);
	assert_string_equal(data, "");
}

static void test_empty_options(void **state)
{
	(void)state;
	unsigned long flags;
	assert_int_equal(parse(NULL, 0, &flags), 0);
	assert_int_equal(flags, 0);
	assert_string_equal(data, "");
}

static void test_unknown_joined_as_data(void **state)
{
	(void)state;
	unsigned long flags;
	char *overlay[] = { "index=off",   "workdir=/w",       "ro",
			    "upperdir=/u", "lowerdir=/l1:/l2", "nosuid" };
	char *one[] = { "size=65536k" };
	char *near[] = { "robind", "RO", "bind=1" };

	assert_int_equal(parse(overlay, N(overlay), &flags), 0);
	assert_int_equal(flags, MS_RDONLY | MS_NOSUID);
	assert_string_equal(data, "index=off,workdir=/w,upperdir=/u,lowerdir=/l1:/l2");
	assert_int_equal(parse(one, 1, &flags), 0);
	assert_int_equal(flags, 0);
	assert_string_equal(data, "size=65536k");
	/* not exact names of the table: data (case-sensitive, whole word) */
	assert_int_equal(parse(near, 3, &flags), 0);
	assert_int_equal(flags, 0);
	assert_string_equal(data, "robind,RO,bind=1");
}

static void test_loop_not_supported(void **state)
{
	(void)state;
	unsigned long flags;
	char *a[] = { "loop" };
	char *b[] = { "ro", "size=1", "loop" };

	assert_int_equal(parse(a, 1, &flags), -ENOTSUP);
	assert_int_equal(parse(b, N(b), &flags), -ENOTSUP);
}

/* Builds n options of the given lengths ('a'...) */
static char **make_opts(const size_t *lens, size_t n)
{
	char **o = calloc(n, sizeof(*o));
	assert_non_null(o);
	for (size_t i = 0; i < n; i++) {
		o[i] = malloc(lens[i] + 1);
		assert_non_null(o[i]);
		memset(o[i], 'a' + (int)i, lens[i]);
		o[i][lens[i]] = '\0';
	}
	return o;
}

static void free_opts(char **o, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(o[i]);
	free(o);
}

static void test_data_page_limit(void **state)
{
	(void)state;
	const size_t page = (size_t)sysconf(_SC_PAGESIZE);
	unsigned long flags;

	/* two options joined: exactly a page of data is accepted */
	{
		size_t lens[] = { page / 2 - 1, page / 2 };
		char **o = make_opts(lens, 2);
		assert_int_equal(parse(o, 2, &flags), 0);
		assert_int_equal(strlen(data), page);
		free_opts(o, 2);
	}
	/* one byte more: -E2BIG */
	{
		size_t lens[] = { page / 2, page / 2 };
		char **o = make_opts(lens, 2);
		assert_int_equal(parse(o, 2, &flags), -E2BIG);
		free_opts(o, 2);
	}
	/* much more: -E2BIG */
	{
		size_t lens[] = { 1000, 1000, 1000, 1000, 1000 };
		char **o = make_opts(lens, 5);
		assert_int_equal(parse(o, 5, &flags), -E2BIG);
		free_opts(o, 5);
	}
	/* a single option of page+1 bytes */
	{
		size_t lens[] = { page + 1 };
		char **o = make_opts(lens, 1);
		assert_int_equal(parse(o, 1, &flags), -E2BIG);
		free_opts(o, 1);
	}
}

static void test_data_single_option_of_a_page(void **state)
{
	(void)state;
	/* docs/v1-protocol.md §3.17 / containerd: only data longer than a page is an error
	 * (len(data) > pagesize). One option of exactly a page is as long as the two-option
	 * page accepted above, and must be accepted the same way. */
	const size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t lens[] = { page };
	char **o = make_opts(lens, 1);
	unsigned long flags;

	assert_int_equal(parse(o, 1, &flags), 0);
	assert_int_equal(strlen(data), page);
	free_opts(o, 1);
}

static void test_data_buffer_limit(void **state)
{
	(void)state;
	unsigned long flags;
	char small[8];
	char *two[] = { "a=1", "b=2" }; /* "a=1,b=2" needs 8 bytes */
	char *three[] = { "a=1", "b=2", "c" };

	assert_int_equal(mount_parse_options(two, 2, &flags, small, sizeof(small)), 0);
	assert_string_equal(small, "a=1,b=2");
	assert_int_equal(mount_parse_options(three, 3, &flags, small, sizeof(small)), -E2BIG);
	assert_int_equal(mount_parse_options(two, 2, &flags, small, 7), -E2BIG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_single_options),
		cmocka_unit_test(test_table_clear_pairs),
		cmocka_unit_test(test_ro_rw_order),
		cmocka_unit_test(test_empty_options),
		cmocka_unit_test(test_unknown_joined_as_data),
		cmocka_unit_test(test_loop_not_supported),
		cmocka_unit_test(test_data_page_limit),
		cmocka_unit_test(test_data_single_option_of_a_page),
		cmocka_unit_test(test_data_buffer_limit),
	};
	return cmocka_run_group_tests_name("mount", tests, NULL, NULL);
}
