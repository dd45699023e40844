/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for core/v2_shimproc.h: the long-running shim's oom_score_adj (docs/v2-launch.md,
 * `start` 10) and its shim_cgroup (`start` 9) on cgroup v1 and v2 layouts. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/v2_shimproc.h"
#include "io/fd_util.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/test_v2_shimproc.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static void test_oom_next(void **state)
{
	(void)state;
	assert_int_equal(v2_oom_score_next(0), 1);
	assert_int_equal(v2_oom_score_next(-999), -998);
	assert_int_equal(v2_oom_score_next(-1000), -999);
	assert_int_equal(v2_oom_score_next(999), 1000);
	assert_int_equal(v2_oom_score_next(1000), 1000);
	assert_int_equal(v2_oom_score_next(-2000), -1000);
}

static int read_oom(pid_t pid)
{
	char path[64], *buf = NULL;
	size_t len;
	int v;

	snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", (int)pid);
	assert_int_equal(fd_read_file(path, 64, &buf, &len), 0);
	v = atoi(buf);
	free(buf);
	return v;
}

static void test_oom_inherit(void **state)
{
	(void)state;
	/* parent = this process (set to 500), child = a forked sleeper: child gets 501 */
	char path[64];
	FILE *f;
	pid_t child;
	int status, saved = read_oom(getpid());

	snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", (int)getpid());
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "500");
	assert_int_equal(fclose(f), 0);
	child = fork();
	if (child == 0) {
		pause();
		_exit(0);
	}
	assert_int_equal(read_oom(child), 500); /* inherited by fork */
	assert_int_equal(v2_oom_score_inherit(child, getpid()), 0);
	assert_int_equal(read_oom(child), 501);
	kill(child, SIGKILL);
	waitpid(child, &status, 0);
	assert_int_equal(v2_oom_score_inherit(child, getpid()), -ENOENT); /* gone */
	f = fopen(path, "w");
	fprintf(f, "%d", saved);
	fclose(f);
}

static void mk(const char *rel)
{
	char path[256], cmd[300];
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", path);
	assert_int_equal(system(cmd), 0);
}

static void touch(const char *rel)
{
	char path[256];
	FILE *f;
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
}

static char *slurp(const char *rel)
{
	char path[256], *buf = NULL;
	size_t len;
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	if (fd_read_file(path, 64, &buf, &len) < 0)
		return NULL;
	return buf;
}

static void test_cgroup_v1(void **state)
{
	(void)state;
	char root[128];
	char *s;

	/* hybrid host: v1 hierarchies, a "cpu" symlink to "cpu,cpuacct", the unified mount */
	mk("v1/memory/shims/a");
	mk("v1/cpu,cpuacct/shims/a");
	mk("v1/pids"); /* the group does not exist here: skipped, as Go's cgroups.Load does */
	mk("v1/unified/shims/a");
	touch("v1/memory/shims/a/cgroup.procs");
	touch("v1/cpu,cpuacct/shims/a/cgroup.procs");
	touch("v1/unified/shims/a/cgroup.procs");
	snprintf(root, sizeof(root), "%s/v1/cpu,cpuacct", dir);
	char link[128];
	snprintf(link, sizeof(link), "%s/v1/cpu", dir);
	assert_int_equal(symlink(root, link), 0);
	snprintf(root, sizeof(root), "%s/v1", dir);
	assert_int_equal(v2_shim_cgroup_add(root, "/shims/a", 4242), 0);
	assert_non_null(s = slurp("v1/memory/shims/a/cgroup.procs"));
	assert_string_equal(s, "4242");
	free(s);
	assert_non_null(s = slurp("v1/cpu,cpuacct/shims/a/cgroup.procs"));
	assert_string_equal(s, "4242"); /* once, not twice through the symlink */
	free(s);
	assert_non_null(s = slurp("v1/unified/shims/a/cgroup.procs"));
	assert_string_equal(s, "");
	free(s);
	assert_int_equal(v2_shim_cgroup_add(root, "/missing", 4242), -ENOENT);
}

static void test_cgroup_v2(void **state)
{
	(void)state;
	char root[128];
	char *s;

	mk("v2/shims/b");
	touch("v2/cgroup.controllers");
	touch("v2/shims/b/cgroup.procs");
	snprintf(root, sizeof(root), "%s/v2", dir);
	assert_int_equal(v2_shim_cgroup_add(root, "shims/b", 77), 0);
	assert_non_null(s = slurp("v2/shims/b/cgroup.procs"));
	assert_string_equal(s, "77");
	free(s);
	assert_int_equal(v2_shim_cgroup_add(root, "shims/none", 77), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_oom_next),
		cmocka_unit_test(test_oom_inherit),
		cmocka_unit_test(test_cgroup_v1),
		cmocka_unit_test(test_cgroup_v2),
	};
	return cmocka_run_group_tests_name("v2_shimproc", tests, setup, teardown);
}
