/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for io/pathjoin.h (Go's filepath.Join/Clean), io/usock.h and core/v2_socket.h:
 * the group socket's path (docs/v2-launch.md, `start` 3) and binding it
 * (`start` 5). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/v2_socket.h"
#include "io/pathjoin.h"
#include "io/usock.h"

static void test_clean_like_go(void **state)
{
	(void)state;
	/* Go's path/filepath Clean on Linux (its own test table, a selection) */
	static const char *const t[][2] = {
		{ "", "." },
		{ "abc", "abc" },
		{ "abc/def", "abc/def" },
		{ ".", "." },
		{ "..", ".." },
		{ "../..", "../.." },
		{ "../../abc", "../../abc" },
		{ "/abc", "/abc" },
		{ "/", "/" },
		{ "abc/", "abc" },
		{ "/abc/def/", "/abc/def" },
		{ "//abc", "/abc" },
		{ "abc//def//ghi", "abc/def/ghi" },
		{ "abc/./def", "abc/def" },
		{ "/./abc/def", "/abc/def" },
		{ "abc/.", "abc" },
		{ "abc/def/ghi/../jkl", "abc/def/jkl" },
		{ "abc/def/../ghi/../jkl", "abc/jkl" },
		{ "abc/def/..", "abc" },
		{ "abc/def/../..", "." },
		{ "/abc/def/../..", "/" },
		{ "abc/def/../../..", ".." },
		{ "/abc/def/../../..", "/" },
		{ "abc/def/../../../ghi/jkl/../../../mno", "../../mno" },
		{ "/../abc", "/abc" },
		{ "abc/./../def", "def" },
		{ "abc//./../def", "def" },
		{ "abc/../../././../def", "../../def" },
		{ "..abc/.d/...", "..abc/.d/..." },
	};
	char buf[128];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int n = path_clean(t[i][0], buf, sizeof(buf));
		assert_int_equal(n, (int)strlen(t[i][1]));
		assert_string_equal(buf, t[i][1]);
	}
	assert_int_equal(path_clean("/abc/def", buf, 5), -ENAMETOOLONG);
}

static void test_join_like_go(void **state)
{
	(void)state;
	const char *a[] = { "a", "b", "c" };
	const char *b[] = { "a", "", "c" };
	const char *c[] = { "", "", "" };
	const char *d[] = { "/run/containerd//containerd.sock/", "ns", "../x" };
	const char *e[] = { "", "b" };
	char buf[128];

	assert_int_equal(path_join(a, 3, buf, sizeof(buf)), 5);
	assert_string_equal(buf, "a/b/c");
	path_join(b, 3, buf, sizeof(buf));
	assert_string_equal(buf, "a/c");
	assert_int_equal(path_join(c, 3, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	path_join(d, 3, buf, sizeof(buf));
	assert_string_equal(buf, "/run/containerd/containerd.sock/x");
	path_join(e, 2, buf, sizeof(buf));
	assert_string_equal(buf, "b");
}

/* Vectors from the oracle: `containerd-shim-runc-v2 -namespace NS -address A -id ID start`
 * (containerd 1.6.20) in a bundle whose config.json has the given group annotations; the
 * address it printed. GROUP is the group key that bundle resolves to. */
static const struct {
	const char *addr, *ns, *group, *hex;
} oracle[] = {
	{ "/run/ctd/containerd.sock", "specns", "t1",
	  "02f45282fc5746fd8cdca9ef242ba136b200ae45eb2cf9696be8fdcfe600d0d2" },
	{ "/run/containerd/containerd.sock", "v2lns1", "c1",
	  "2cb7c8ea9ad9937c1e87a5f47b60422c546dbfbf1078dc97fd6984ec1e37b287" },
	{ "/run/containerd//containerd.sock/", "v2lns2", "../x",
	  "0d8b7408c869d29c4ba718e242692b0376e5add76ad7d0a7a22c50d6acaf3546" },
	{ "./rel/../a.sock", "v2lns3", "g1",
	  "c0eabe74360663b060b17e62b7a1620ca966a244010ab99c19d8f590a12db720" },
	{ "/run/a.sock", "v2lns4", "sb1",
	  "b0d1444abfafad8fac4692a8a6a04a79fe77c7c94f046492348bb4b02f647556" },
	{ "/run/a.sock", "v2lns5", "g2",
	  "eb32df4d25f7922a33e19db2aa9ace7f7220163566e708b8626319e894e96cf3" },
	{ "/run/a.sock", "v2lns6", "",
	  "f2502ebbce78a9aefac5eca8210d254aac7f4909c2dc6dddeb763e2fa5165b87" },
};

static void test_socket_path_oracle(void **state)
{
	(void)state;
	char buf[256], want[256];

	for (size_t i = 0; i < sizeof(oracle) / sizeof(oracle[0]); i++) {
		snprintf(want, sizeof(want), "/run/containerd/s/%s", oracle[i].hex);
		int n = v2_socket_path(V2_SOCKET_DIR, oracle[i].addr, oracle[i].ns, oracle[i].group,
				       buf, sizeof(buf));
		assert_int_equal(n, (int)strlen(want));
		assert_string_equal(buf, want);
	}
	assert_int_equal(v2_socket_path("/s", "/a", "n", "g", buf, 40), -ENAMETOOLONG);
}

static char dir[64];

static int setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/test_v2_socket.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static void test_listen_new_makes_dirs(void **state)
{
	(void)state;
	char path[128];
	struct stat st;
	int fd;

	snprintf(path, sizeof(path), "%s/a/b/sock", dir);
	assert_int_equal(v2_socket_listen(path, &fd), V2_SOCKET_NEW);
	assert_true(fd >= 0);
	assert_int_equal(fcntl(fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
	snprintf(path, sizeof(path), "%s/a/b", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	snprintf(path, sizeof(path), "%s/a/b/sock", dir);
	assert_int_equal(usock_probe(path, 100), 0); /* it listens */
	close(fd);
}

static void test_listen_replaces_stale(void **state)
{
	(void)state;
	char path[128];
	int fd, fd2, c;

	/* a socket file nobody listens on: what a SIGKILLed shim leaves behind */
	snprintf(path, sizeof(path), "%s/stale", dir);
	fd = usock_listen(path, 1, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(usock_probe(path, 100), -ECONNREFUSED);
	assert_int_equal(v2_socket_listen(path, &fd2), V2_SOCKET_NEW);
	assert_true(fd2 >= 0);
	assert_int_equal(usock_probe(path, 100), 0);
	/* and the new listener is the one that gets the connection */
	c = accept4(fd2, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	assert_true(c >= 0);
	close(c);
	close(fd2);
}

static void test_listen_reuses_live(void **state)
{
	(void)state;
	char path[128];
	struct stat before, after;
	int fd, fd2 = 123;

	snprintf(path, sizeof(path), "%s/live", dir);
	fd = usock_listen(path, 16, 0600);
	assert_true(fd >= 0);
	assert_int_equal(stat(path, &before), 0);
	assert_int_equal(v2_socket_listen(path, &fd2), V2_SOCKET_LIVE);
	assert_int_equal(fd2, -1);
	/* the live shim's socket was not stolen: same inode, still answering */
	assert_int_equal(stat(path, &after), 0);
	assert_int_equal(before.st_ino, after.st_ino);
	assert_int_equal(usock_probe(path, 100), 0);
	close(fd);
}

static void test_remove_dead(void **state)
{
	(void)state;
	char path[128];
	int fd;

	/* absent, and a regular file: left alone */
	snprintf(path, sizeof(path), "%s/dead", dir);
	assert_int_equal(v2_socket_remove_dead(path), 0);
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	close(fd);
	assert_int_equal(v2_socket_remove_dead(path), 0);
	assert_int_equal(access(path, F_OK), 0);
	unlink(path);
	/* a live listener: kept */
	fd = usock_listen(path, 4, 0600);
	assert_true(fd >= 0);
	assert_int_equal(v2_socket_remove_dead(path), 0);
	assert_int_equal(usock_probe(path, 100), 0);
	/* its shim died: removed */
	close(fd);
	assert_int_equal(v2_socket_remove_dead(path), 1);
	assert_int_equal(access(path, F_OK), -1);
}

static void test_listen_errors(void **state)
{
	(void)state;
	char path[256];
	int fd;

	memset(path, 'x', 200);
	path[0] = '/';
	path[200] = '\0';
	assert_int_equal(v2_socket_listen(path, &fd), -ENAMETOOLONG);
	snprintf(path, sizeof(path), "%s/none", dir);
	assert_int_equal(usock_probe(path, 100), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clean_like_go),
		cmocka_unit_test(test_join_like_go),
		cmocka_unit_test(test_socket_path_oracle),
		cmocka_unit_test(test_listen_new_makes_dirs),
		cmocka_unit_test(test_listen_replaces_stale),
		cmocka_unit_test(test_listen_reuses_live),
		cmocka_unit_test(test_remove_dead),
		cmocka_unit_test(test_listen_errors),
	};
	return cmocka_run_group_tests_name("v2_socket", tests, setup, teardown);
}
