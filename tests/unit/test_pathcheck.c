/* SPDX-License-Identifier: Apache-2.0 */
/* core/pathcheck: the syntax of request paths (pure), symlink-free resolution (openat2 and the
 * component walk must agree), the directory rules, and the tree removal that never follows. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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

#include "core/pathcheck.h"

#define UNCLEAN "must be an absolute, clean path"
#define CTRL "must not contain NUL or control characters"

static int abs_ok(const char *p)
{
	const char *why = NULL;
	return path_check_abs(p, strlen(p), &why);
}

static const char *abs_why(const char *p)
{
	const char *why = NULL;
	if (path_check_abs(p, strlen(p), &why) == 0)
		return "(accepted)";
	return why;
}

static void test_syntax_abs(void **state)
{
	const char *why = NULL;
	char longp[PATH_MAX + 8];
	(void)state;

	/* what containerd sends: os.MkdirTemp(XDG_RUNTIME_DIR or /tmp) */
	assert_int_equal(abs_ok("/tmp/ctd-checkpoint1234567"), 0);
	assert_int_equal(abs_ok("/run/user/0/ctrd-checkpoint99"), 0);
	assert_int_equal(abs_ok("/"), 0);
	assert_int_equal(abs_ok("/a/b/"), 0);              /* one trailing slash */
	assert_int_equal(abs_ok("/a/.b/c..d/..."), 0);     /* dots inside names are names */
	assert_int_equal(abs_ok("/\xc3\xa9t\xc3\xa9"), 0); /* non-ASCII names */

	assert_string_equal(abs_why("relative"), UNCLEAN);
	assert_string_equal(abs_why("./x"), UNCLEAN);
	assert_string_equal(abs_why("/x/../y"), UNCLEAN);
	assert_string_equal(abs_why("/x/.."), UNCLEAN);
	assert_string_equal(abs_why("/.."), UNCLEAN);
	assert_string_equal(abs_why("/x/./y"), UNCLEAN);
	assert_string_equal(abs_why("/x/."), UNCLEAN);
	assert_string_equal(abs_why("//x"), UNCLEAN);
	assert_string_equal(abs_why("/x//y"), UNCLEAN);
	assert_string_equal(abs_why("/x//"), UNCLEAN);
	assert_string_equal(abs_why("//"), UNCLEAN);
	assert_string_equal(abs_why(""), "must not be empty");
	assert_string_equal(abs_why("/x\ny"), CTRL);
	assert_string_equal(abs_why("/x\ty"), CTRL);
	assert_string_equal(abs_why("/x\x7fy"), CTRL);
	assert_string_equal(abs_why("/x\x1b[0m"), CTRL);

	/* a NUL on the wire: protobuf-c hands us the part before it, the length says more */
	assert_int_equal(path_check_abs("/x", 5, &why), -EINVAL);
	assert_string_equal(why, CTRL);
	assert_int_equal(path_check_abs("", 1, &why), -EINVAL);
	assert_string_equal(why, CTRL);

	memset(longp, 'a', sizeof(longp));
	longp[0] = '/';
	longp[PATH_MAX - 1] = '\0'; /* strlen PATH_MAX - 1: fits */
	for (size_t i = 200; i < PATH_MAX - 1; i += 200)
		longp[i] = '/';
	assert_int_equal(abs_ok(longp), 0);
	longp[PATH_MAX - 1] = 'a';
	longp[PATH_MAX] = '\0';
	assert_int_equal(path_check_abs(longp, PATH_MAX, &why), -ENAMETOOLONG);
	assert_string_equal(why, "is longer than PATH_MAX");
}

static void test_syntax_rel(void **state)
{
	const char *why = NULL;
	(void)state;
	assert_int_equal(path_check_rel("parent", 6, &why), 0);
	assert_int_equal(path_check_rel("a/b/", 4, &why), 0);
	assert_int_equal(path_check_rel("/abs", 4, &why), -EINVAL);
	assert_string_equal(why, "must be a relative, clean path");
	assert_int_equal(path_check_rel("../up", 5, &why), -EINVAL);
	assert_int_equal(path_check_rel("a/../../up", 10, &why), -EINVAL);
	assert_int_equal(path_check_rel(".", 1, &why), -EINVAL);
	assert_int_equal(path_check_rel("a//b", 4, &why), -EINVAL);
	assert_int_equal(path_check_rel("a\nb", 3, &why), -EINVAL);
	assert_string_equal(why, CTRL);
}

/* A tree for the resolution tests:
 *   D/dir/sub/            a directory
 *   D/file                a regular file
 *   D/lnk -> dir          a symlink to a directory
 *   D/dir/dangling -> nowhere
 *   D/dir/fifo            a FIFO */
static char g_dir[64];

static void mk(const char *rel, char kind, const char *target)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", g_dir, rel);
	switch (kind) {
	case 'd': assert_int_equal(mkdir(p, 0700), 0); break;
	case 'f': {
		int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		assert_true(fd >= 0);
		assert_int_equal(write(fd, "data", 4), 4);
		close(fd);
		break;
	}
	case 'l': assert_int_equal(symlink(target, p), 0); break;
	case 'p': assert_int_equal(mkfifo(p, 0600), 0); break;
	}
}

static int tree_setup(void **state)
{
	(void)state;
	snprintf(g_dir, sizeof(g_dir), "/tmp/cshim-test-pathcheck-XXXXXX");
	if (!mkdtemp(g_dir))
		return -1;
	mk("dir", 'd', NULL);
	mk("dir/sub", 'd', NULL);
	mk("file", 'f', NULL);
	mk("lnk", 'l', "dir");
	mk("dir/dangling", 'l', "/nonexistent-cshim");
	mk("dir/fifo", 'p', NULL);
	return 0;
}

static int tree_teardown(void **state)
{
	(void)state;
	return path_remove_tree(g_dir) == 0 && access(g_dir, F_OK) != 0 ? 0 : -1;
}

/* The error of opening D/rel as a directory with both resolvers (they must agree). */
static int open_dir_both(const char *rel)
{
	char p[256];
	int a, b;
	snprintf(p, sizeof(p), "%s%s%s", g_dir, *rel ? "/" : "", rel);
	a = path_open_nofollow(p, O_PATH | O_DIRECTORY, 0);
	b = path_open_walk(p, O_PATH | O_DIRECTORY, 0);
	if (a >= 0)
		close(a);
	if (b >= 0)
		close(b);
	assert_int_equal(a >= 0 ? 0 : a, b >= 0 ? 0 : b);
	return a >= 0 ? 0 : a;
}

static void test_open_nofollow(void **state)
{
	char p[256];
	int fd;
	(void)state;

	assert_int_equal(open_dir_both(""), 0);
	assert_int_equal(open_dir_both("dir"), 0);
	assert_int_equal(open_dir_both("dir/sub"), 0);
	assert_int_equal(open_dir_both("dir/sub/"), 0);
	assert_int_equal(open_dir_both("lnk"), -ELOOP);     /* the leaf is a symlink */
	assert_int_equal(open_dir_both("lnk/sub"), -ELOOP); /* a middle component is */
	assert_int_equal(open_dir_both("dir/dangling"), -ELOOP);
	assert_int_equal(open_dir_both("file"), -ENOTDIR);
	assert_int_equal(open_dir_both("file/x"), -ENOTDIR);
	assert_int_equal(open_dir_both("dir/fifo"), -ENOTDIR);
	assert_int_equal(open_dir_both("nope"), -ENOENT);
	assert_int_equal(open_dir_both("nope/x"), -ENOENT);
	assert_int_equal(path_open_walk("/proc/self/root", O_PATH | O_DIRECTORY, 0), -ELOOP);
	assert_int_equal(path_open_nofollow("/proc/self/root", O_PATH | O_DIRECTORY, 0), -ELOOP);
	assert_int_equal(path_open_nofollow("relative", O_PATH, 0), -EINVAL);

	/* a file through both, read-only: the data is there */
	snprintf(p, sizeof(p), "%s/file", g_dir);
	fd = path_open_walk(p, O_RDONLY, 0);
	assert_true(fd >= 0);
	close(fd);
	snprintf(p, sizeof(p), "%s/lnk/sub", g_dir);
	assert_int_equal(path_open_walk(p, O_RDONLY, 0), -ELOOP);
	snprintf(p, sizeof(p), "%s/dir/dangling", g_dir);
	assert_int_equal(path_open_walk(p, O_PATH, 0), -ELOOP);
	assert_int_equal(path_open_walk(p, O_RDONLY, 0), -ELOOP);
}

static int dir_rule(const char *rel, bool may_create, const char **why)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", g_dir, rel);
	return path_check_dir(p, may_create, why);
}

static void test_check_dir(void **state)
{
	const char *why;
	(void)state;

	assert_int_equal(dir_rule("dir", false, &why), 0);
	assert_int_equal(dir_rule("dir/sub/", false, &why), 0);
	assert_int_equal(dir_rule("lnk/sub", false, &why), -ELOOP);
	assert_string_equal(why, "has a symlink component");
	assert_int_equal(dir_rule("file", false, &why), -ENOTDIR);
	assert_string_equal(why, "is not a directory");
	assert_int_equal(dir_rule("dir/fifo", false, &why), -ENOTDIR);
	assert_int_equal(dir_rule("nope", false, &why), -ENOENT);
	assert_string_equal(why, "does not exist");

	/* may_create: a missing leaf under a real directory is for the runtime to make */
	assert_int_equal(dir_rule("nope", true, &why), 0);
	assert_int_equal(dir_rule("dir/new/", true, &why), 0);
	assert_int_equal(dir_rule("dir", true, &why), 0);
	assert_int_equal(dir_rule("nope/deeper", true, &why), -ENOENT);
	assert_string_equal(why, "does not exist, nor does its parent directory");
	assert_int_equal(dir_rule("lnk/new", true, &why), -ELOOP);
	assert_int_equal(dir_rule("file/new", true, &why), -ENOTDIR);
	assert_int_equal(dir_rule("dir/dangling", true, &why), -ELOOP);
	assert_int_equal(dir_rule("lnk", true, &why), -ELOOP);
	assert_int_equal(path_check_dir("/", false, &why), 0);
	{
		char name[320];
		memset(name, 'n', sizeof(name));
		memcpy(name, "dir/", 4);
		name[sizeof(name) - 1] = '\0';
		assert_int_equal(dir_rule(name, true, &why), -ENAMETOOLONG);
		assert_string_equal(why, "has a component longer than NAME_MAX");
		assert_int_equal(dir_rule(name, false, &why), -ENAMETOOLONG);
		assert_string_equal(why, "has a component longer than NAME_MAX");
	}
}

static void test_remove_tree(void **state)
{
	char top[256], victim[200], p[256];
	(void)state;

	/* D/t/{a/b/c, l -> D/dir (must survive), f}; D/tl -> D/dir (a symlink as the top) */
	snprintf(top, sizeof(top), "%s/t", g_dir);
	mk("t", 'd', NULL);
	mk("t/a", 'd', NULL);
	mk("t/a/b", 'd', NULL);
	mk("t/a/b/c", 'f', NULL);
	snprintf(victim, sizeof(victim), "%s/dir", g_dir);
	mk("t/l", 'l', victim);
	mk("t/f", 'f', NULL);
	assert_int_equal(path_remove_tree(top), 0);
	assert_int_not_equal(access(top, F_OK), 0);
	snprintf(p, sizeof(p), "%s/sub", victim);
	assert_int_equal(access(p, F_OK), 0); /* not followed */

	mk("tl", 'l', victim);
	snprintf(top, sizeof(top), "%s/tl/", g_dir);
	assert_int_equal(path_remove_tree(top), 0);
	snprintf(top, sizeof(top), "%s/tl", g_dir);
	struct stat st;
	assert_int_not_equal(lstat(top, &st), 0);   /* the link is gone ... */
	assert_int_equal(access(p, F_OK), 0);       /* ... its target is not */
	assert_int_equal(path_remove_tree(top), 0); /* missing: nothing to do */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_syntax_abs),    cmocka_unit_test(test_syntax_rel),
		cmocka_unit_test(test_open_nofollow), cmocka_unit_test(test_check_dir),
		cmocka_unit_test(test_remove_tree),
	};
	return cmocka_run_group_tests_name("pathcheck", tests, tree_setup, tree_teardown);
}
