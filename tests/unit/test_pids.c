/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for core/pids.h: `runc ps --format json` parsing, the cgroup path from runc's
 * state.json, and the cgroup walk (on a fake cgroup tree in a temporary directory). */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <setjmp.h>
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

#include "core/pids.h"

static int parse(const char *s, uint32_t **v, size_t *n)
{
	*v = (uint32_t *)(uintptr_t)0x1; /* must be overwritten on success */
	*n = 777;
	return pids_parse_ps_json(s, strlen(s), v, n);
}

static void test_ps_json_list(void **state)
{
	(void)state;
	uint32_t *v;
	size_t n;

	assert_int_equal(parse("[1,2,3]", &v, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(v[0], 1);
	assert_int_equal(v[1], 2);
	assert_int_equal(v[2], 3);
	free(v);
	/* order kept, whitespace and the trailing newline of runc's output allowed */
	assert_int_equal(parse(" [ 4242 , 17,4294967295 ]\n", &v, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(v[0], 4242);
	assert_int_equal(v[1], 17);
	assert_int_equal(v[2], 4294967295u);
	free(v);
}

static void test_ps_json_many(void **state)
{
	(void)state;
	char buf[8192];
	size_t off = 0;
	uint32_t *v;
	size_t n;

	off += snprintf(buf + off, sizeof(buf) - off, "[");
	for (int i = 0; i < 500; i++)
		off += snprintf(buf + off, sizeof(buf) - off, "%s%d", i ? "," : "", 1000 + i);
	snprintf(buf + off, sizeof(buf) - off, "]");
	assert_int_equal(parse(buf, &v, &n), 0);
	assert_int_equal(n, 500);
	for (int i = 0; i < 500; i++)
		assert_int_equal(v[i], 1000 + i);
	free(v);
}

static void test_ps_json_empty_and_null(void **state)
{
	(void)state;
	uint32_t *v;
	size_t n;

	assert_int_equal(parse("[]", &v, &n), 0);
	assert_int_equal(n, 0);
	free(v);
	/* a Go nil slice */
	assert_int_equal(parse("null", &v, &n), 0);
	assert_int_equal(n, 0);
	assert_null(v);
	assert_int_equal(parse("null\n", &v, &n), 0);
	assert_int_equal(n, 0);
}

static void test_ps_json_invalid(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"",       "garbage",      "[1,2",  "[1,]",    "{\"pids\":[1]}", "[-1]",
		"[1,-5]", "[1.5]",        "[1e3]", "[\"1\"]", "[true]",         "[null]",
		"[[1]]",  "[4294967296]", "7",     "\"[1]\"", "true",           "[1] [2]",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint32_t *v = NULL;
		size_t n = 0;
		int r = pids_parse_ps_json(bad[i], strlen(bad[i]), &v, &n);
		if (r != -EINVAL)
			fail_msg("input %s: got %d, want -EINVAL", bad[i], r);
	}
}

static void test_ps_json_len_respected(void **state)
{
	(void)state;
	const char *s = "[1,2]garbage";
	uint32_t *v = NULL;
	size_t n = 0;

	assert_int_equal(pids_parse_ps_json(s, 5, &v, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(v[1], 2);
	free(v);
}

/* ---- state.json ---- */

static const char state_v1[] =
	"{\"id\":\"c1\",\"init_process_pid\":4242,\"init_process_start\":123456,"
	"\"created\":\"2023-05-01T10:00:00.123456789Z\",\"config\":{\"rootfs\":\"/run/c1/rootfs\","
	"\"cgroups\":{\"path\":\"/default/c1\",\"resources\":{\"devices\":[]}}},"
	"\"rootless\":false,"
	"\"cgroup_paths\":{\"blkio\":\"/sys/fs/cgroup/blkio/default/c1\","
	"\"cpu\":\"/sys/fs/cgroup/cpu,cpuacct/default/c1\","
	"\"cpuset\":\"/sys/fs/cgroup/cpuset/default/c1\","
	"\"devices\":\"/sys/fs/cgroup/devices/default/c1\","
	"\"freezer\":\"/sys/fs/cgroup/freezer/default/c1\","
	"\"memory\":\"/sys/fs/cgroup/memory/default/c1\","
	"\"name=systemd\":\"/sys/fs/cgroup/systemd/default/c1\","
	"\"pids\":\"/sys/fs/cgroup/pids/default/c1\"},"
	"\"namespace_paths\":{\"NEWNS\":\"/proc/4242/ns/mnt\"},\"external_descriptors\":[]}";

static const char state_v2[] =
	"{\"id\":\"c2\",\"init_process_pid\":777,\"config\":{\"cgroups\":{\"path\":\"/default/c2\"}},"
	"\"cgroup_paths\":{\"\":\"/sys/fs/cgroup/default/c2\"},\"namespace_paths\":{}}";

static void test_state_v1_devices(void **state)
{
	(void)state;
	char out[4096];
	assert_int_equal(pids_cgroup_from_state(state_v1, strlen(state_v1), out, sizeof(out)), 0);
	assert_string_equal(out, "/sys/fs/cgroup/devices/default/c1");
}

static void test_state_v2_unified(void **state)
{
	(void)state;
	char out[4096];
	assert_int_equal(pids_cgroup_from_state(state_v2, strlen(state_v2), out, sizeof(out)), 0);
	assert_string_equal(out, "/sys/fs/cgroup/default/c2");
}

static void test_state_hybrid_prefers_devices(void **state)
{
	(void)state;
	const char *s = "{\"cgroup_paths\":{\"\":\"/sys/fs/cgroup/unified/x\","
			"\"devices\":\"/sys/fs/cgroup/devices/x\"}}";
	char out[4096];
	assert_int_equal(pids_cgroup_from_state(s, strlen(s), out, sizeof(out)), 0);
	assert_string_equal(out, "/sys/fs/cgroup/devices/x");
}

static void test_state_missing(void **state)
{
	(void)state;
	static const char *const none[] = {
		"{\"id\":\"c3\"}",
		"{\"cgroup_paths\":null}",
		"{\"cgroup_paths\":{}}",
		"{\"cgroup_paths\":{\"memory\":\"/sys/fs/cgroup/memory/x\"}}",
		"{\"cgroup_paths\":{\"devices\":\"relative/path\"}}",
		"{\"cgroup_paths\":{\"devices\":42}}",
		"{\"cgroup_paths\":[\"/sys/fs/cgroup/x\"]}",
	};
	for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
		char out[256];
		int r = pids_cgroup_from_state(none[i], strlen(none[i]), out, sizeof(out));
		if (r != -ENOENT)
			fail_msg("state %s: got %d, want -ENOENT", none[i], r);
	}
}

static void test_state_garbage(void **state)
{
	(void)state;
	char out[256];
	assert_int_equal(pids_cgroup_from_state("{\"cgroup_paths\":", 16, out, sizeof(out)),
			 -EINVAL);
	assert_int_equal(pids_cgroup_from_state("nope", 4, out, sizeof(out)), -EINVAL);
	assert_int_equal(pids_cgroup_from_state("", 0, out, sizeof(out)), -EINVAL);
}

/* ---- the walk, on a fake tree ---- */

static int rm_one(const char *p, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)type;
	(void)ftw;
	return remove(p);
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[4096];
	FILE *f;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void make_dir(const char *base, const char *rel)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", base, rel);
	assert_int_equal(mkdir(path, 0755), 0);
}

static char tmpdir[64];

static int tmpdir_setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/cshim-test-pids-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

/* Runs even when the test failed: no leftover files. */
static int tmpdir_teardown(void **state)
{
	(void)state;
	int r = nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return r == 0 && access(tmpdir, F_OK) == -1 ? 0 : -1;
}

static void test_from_cgroup_walk(void **state)
{
	(void)state;
	const char *base = tmpdir;
	char cg[4096], json[8192], rootns[4096];
	uint32_t *v = NULL;
	size_t n = 0;

	snprintf(rootns, sizeof(rootns), "%s/root", base);
	snprintf(cg, sizeof(cg), "%s/cg", base);
	make_dir(base, "root");
	make_dir(base, "root/c1");
	make_dir(base, "cg");
	make_dir(base, "cg/b");
	make_dir(base, "cg/a");
	make_dir(base, "cg/a/x");
	make_dir(base, "cg/a/empty");
	write_file(cg, "cgroup.procs", "10\n11\n");
	write_file(cg, "b/cgroup.procs", "30\n");
	write_file(cg, "a/cgroup.procs", "20\n");
	write_file(cg, "a/x/cgroup.procs", "21\n22\n");
	write_file(cg, "a/empty/cgroup.procs", "");
	snprintf(json, sizeof(json), "{\"id\":\"c1\",\"cgroup_paths\":{\"\":\"%s\"}}", cg);
	write_file(rootns, "c1/state.json", json);

	assert_int_equal(pids_from_cgroup(rootns, "c1", &v, &n), 0);
	/* the cgroup itself, then descendants in lexical walk order */
	assert_int_equal(n, 6);
	static const uint32_t want[] = { 10, 11, 20, 21, 22, 30 };
	for (size_t i = 0; i < 6; i++)
		assert_int_equal(v[i], want[i]);
	free(v);

	/* ids that are not a plain name, and unknown ids */
	assert_int_equal(pids_from_cgroup(rootns, "", &v, &n), -ENOENT);
	assert_int_equal(pids_from_cgroup(rootns, "..", &v, &n), -ENOENT);
	assert_int_equal(pids_from_cgroup(rootns, ".", &v, &n), -ENOENT);
	assert_int_equal(pids_from_cgroup(rootns, "c1/../c1", &v, &n), -ENOENT);
	assert_int_equal(pids_from_cgroup(rootns, "c9", &v, &n), -ENOENT);

	/* a cgroup that vanished (container gone) */
	snprintf(json, sizeof(json), "{\"cgroup_paths\":{\"\":\"%s/gone\"}}", base);
	make_dir(base, "root/c2");
	write_file(rootns, "c2/state.json", json);
	assert_int_equal(pids_from_cgroup(rootns, "c2", &v, &n), -ENOENT);
}

/* ---- a deep tree, on the shim's thread stack ---- */

#define SHIM_STACK (256 * 1024) /* server/worker_pool.c's STACK_SIZE */

struct deep_walk {
	const char *rootns;
	uint32_t *v;
	size_t n;
	int r;
};

static void *deep_walk_thread(void *arg)
{
	struct deep_walk *d = arg;
	d->r = pids_from_cgroup(d->rootns, "deep", &d->v, &d->n);
	return NULL;
}

/* A cgroup nested `depth` levels deep, each level with its own pid (1000 + level) and an
 * empty sibling; ListPids runs on a 256 KiB thread in a child process (a stack overflow
 * kills the child, not this program), which writes the pids it found to a pipe. */
static void deep_tree_walk(int depth)
{
	char cg[4096], json[8192], rootns[4096], rel[2048] = "cg", pidtext[32];
	size_t off = 2;
	uint32_t got[1024];
	int p[2], st;
	ssize_t n;
	pid_t c;

	assert_true(depth < 1000);
	snprintf(rootns, sizeof(rootns), "%s/root", tmpdir);
	snprintf(cg, sizeof(cg), "%s/cg", tmpdir);
	make_dir(tmpdir, "root");
	make_dir(tmpdir, "root/deep");
	make_dir(tmpdir, "cg");
	write_file(cg, "cgroup.procs", "1000\n");
	for (int i = 1; i <= depth; i++) {
		char sib[2100];
		snprintf(sib, sizeof(sib), "%s/z", rel);
		make_dir(tmpdir, sib); /* an empty sibling, walked after "d" */
		snprintf(sib, sizeof(sib), "%s/z/cgroup.procs", rel);
		write_file(tmpdir, sib, "");
		off += (size_t)snprintf(rel + off, sizeof(rel) - off, "/d");
		assert_true(off < sizeof(rel) - 32);
		make_dir(tmpdir, rel);
		snprintf(sib, sizeof(sib), "%s/cgroup.procs", rel);
		snprintf(pidtext, sizeof(pidtext), "%d\n", 1000 + i);
		write_file(tmpdir, sib, pidtext);
	}
	snprintf(json, sizeof(json), "{\"cgroup_paths\":{\"\":\"%s\"}}", cg);
	write_file(rootns, "deep/state.json", json);

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	c = fork();
	assert_true(c >= 0);
	if (c == 0) {
		struct deep_walk d = { .rootns = rootns };
		pthread_attr_t attr;
		pthread_t t;
		close(p[0]);
		pthread_attr_init(&attr);
		pthread_attr_setstacksize(&attr, SHIM_STACK);
		if (pthread_create(&t, &attr, deep_walk_thread, &d) != 0)
			_exit(2);
		pthread_join(t, NULL);
		if (d.r != 0)
			_exit(3);
		if (write(p[1], d.v, d.n * sizeof(uint32_t)) != (ssize_t)(d.n * sizeof(uint32_t)))
			_exit(4);
		_exit(0);
	}
	close(p[1]);
	n = read(p[0], got, sizeof(got));
	close(p[0]);
	assert_int_equal(waitpid(c, &st, 0), c);
	if (WIFSIGNALED(st))
		fail_msg("the walk of %d levels killed its process (signal %d)", depth,
			 WTERMSIG(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	/* the cgroup, then each level in walk order (d before z) */
	assert_int_equal(n, (depth + 1) * (ssize_t)sizeof(uint32_t));
	for (int i = 0; i <= depth; i++)
		assert_int_equal(got[i], 1000 + i);
}

/* 60 levels: what a privileged or delegated container can nest under its own cgroup. */
static void test_walk_60_levels_on_shim_stack(void **state)
{
	(void)state;
	deep_tree_walk(60);
}

/* Hundreds of levels: no depth limit and no stack growth with depth. */
static void test_walk_400_levels_on_shim_stack(void **state)
{
	(void)state;
	deep_tree_walk(400);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ps_json_list),
		cmocka_unit_test(test_ps_json_many),
		cmocka_unit_test(test_ps_json_empty_and_null),
		cmocka_unit_test(test_ps_json_invalid),
		cmocka_unit_test(test_ps_json_len_respected),
		cmocka_unit_test(test_state_v1_devices),
		cmocka_unit_test(test_state_v2_unified),
		cmocka_unit_test(test_state_hybrid_prefers_devices),
		cmocka_unit_test(test_state_missing),
		cmocka_unit_test(test_state_garbage),
		cmocka_unit_test_setup_teardown(test_from_cgroup_walk, tmpdir_setup,
						tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_walk_60_levels_on_shim_stack, tmpdir_setup,
						tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_walk_400_levels_on_shim_stack, tmpdir_setup,
						tmpdir_teardown),
	};
	return cmocka_run_group_tests_name("pids", tests, NULL, NULL);
}
