/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for core/v2_bundle.h: the group key (docs/v2-launch.md, `start` 2), the
 * address file (`start` 6) and cshim's options record read by delete (`start` 7, `delete` 2;
 * docs/v2-protocol.md §7). */
#include <errno.h>
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

#include "core/v2_bundle.h"
#include "io/fd_util.h"

static char dir[64];
static char msg[256];

static int setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/test_v2_bundle.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static void write_config(const char *text)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/config.json", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static const char *group_of(const char *config)
{
	static char buf[256];
	write_config(config);
	int r = v2_bundle_group(dir, "c1", buf, sizeof(buf), msg, sizeof(msg));
	return r < 0 ? NULL : buf;
}

static void test_group_key(void **state)
{
	(void)state;
	assert_string_equal(group_of("{\"ociVersion\":\"1.0.2\"}"), "c1");
	assert_string_equal(group_of("{\"annotations\":null}"), "c1");
	assert_string_equal(group_of("{\"annotations\":{\"other\":\"x\"}}"), "c1");
	assert_string_equal(group_of("{\"annotations\":{\"io.containerd.runc.v2.group\":\"g1\"}}"),
			    "g1");
	assert_string_equal(group_of("{\"annotations\":{\"io.kubernetes.cri.sandbox-id\":\"sb\"}}"),
			    "sb");
	/* the group annotation wins over the sandbox id, whatever the order */
	assert_string_equal(group_of("{\"annotations\":{\"io.kubernetes.cri.sandbox-id\":\"sb\","
				     "\"io.containerd.runc.v2.group\":\"g2\"}}"),
			    "g2");
	/* present but empty is used (Go's map lookup with ok) */
	assert_string_equal(group_of("{\"annotations\":{\"io.containerd.runc.v2.group\":\"\"}}"),
			    "");
}

static void test_group_errors(void **state)
{
	(void)state;
	char path[128], buf[64];

	snprintf(path, sizeof(path), "%s/config.json", dir);
	unlink(path);
	assert_int_equal(v2_bundle_group(dir, "c1", buf, sizeof(buf), msg, sizeof(msg)), -ENOENT);
	assert_non_null(strstr(msg, "config.json"));
	write_config("not json");
	assert_int_equal(v2_bundle_group(dir, "c1", buf, sizeof(buf), msg, sizeof(msg)), -EINVAL);
	write_config("[1]");
	assert_int_equal(v2_bundle_group(dir, "c1", buf, sizeof(buf), msg, sizeof(msg)), -EINVAL);
	write_config("{\"annotations\":[]}");
	assert_int_equal(v2_bundle_group(dir, "c1", buf, sizeof(buf), msg, sizeof(msg)), -EINVAL);
	write_config("{\"annotations\":{\"io.containerd.runc.v2.group\":7}}");
	assert_int_equal(v2_bundle_group(dir, "c1", buf, sizeof(buf), msg, sizeof(msg)), -EINVAL);
}

static void test_address_file(void **state)
{
	(void)state;
	char path[128], tmp[128];
	char *data = NULL;
	size_t len;
	struct stat st;
	const char *a = "unix:///run/containerd/s/0123456789abcdef";

	snprintf(path, sizeof(path), "%s/address", dir);
	snprintf(tmp, sizeof(tmp), "%s/.address", dir);
	umask(077); /* the mode is the file's own, not the umask's */
	assert_int_equal(v2_bundle_write_address(dir, "unix:///old/one/that/is/longer"), 0);
	assert_int_equal(v2_bundle_write_address(dir, a), 0);
	umask(022);
	assert_int_equal(fd_read_file(path, 4096, &data, &len), 0);
	assert_int_equal(len, strlen(a)); /* no newline, nothing of the longer old content */
	assert_memory_equal(data, a, len);
	free(data);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	assert_int_equal(access(tmp, F_OK), -1); /* renamed away */
	assert_int_equal(v2_bundle_write_address("/nonexistent-dir-v2", a), -ENOENT);
}

static void test_opts_round_trip(void **state)
{
	(void)state;
	struct v2_runtime_opts o = { .binary_name = "/opt/crun",
				     .root = "/run/alt",
				     .criu_path = "",
				     .systemd_cgroup = true };
	struct v2_runtime_opts l;
	char path[128];
	struct stat st;

	assert_int_equal(v2_bundle_save_opts(dir, &o), 0);
	snprintf(path, sizeof(path), "%s/%s", dir, V2_OPTIONS_FILE);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(v2_bundle_load_opts(dir, &l), 0);
	assert_string_equal(l.binary_name, "/opt/crun");
	assert_string_equal(l.root, "/run/alt");
	assert_string_equal(l.criu_path, "");
	assert_true(l.systemd_cgroup);
	v2_runtime_opts_free(&l);
	/* empty strings in the options mean the defaults */
	struct v2_runtime_opts e = { .binary_name = "", .root = "", .criu_path = "" };
	assert_int_equal(v2_bundle_save_opts(dir, &e), 0);
	assert_int_equal(v2_bundle_load_opts(dir, &l), 0);
	assert_string_equal(l.binary_name, "runc");
	assert_string_equal(l.root, "/run/containerd/runc");
	assert_false(l.systemd_cgroup);
	v2_runtime_opts_free(&l);
}

static void test_opts_absent_and_garbage(void **state)
{
	(void)state;
	struct v2_runtime_opts l;
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, V2_OPTIONS_FILE);
	unlink(path);
	assert_int_equal(v2_bundle_load_opts(dir, &l), 1);
	assert_string_equal(l.binary_name, "runc");
	assert_string_equal(l.root, "/run/containerd/runc");
	v2_runtime_opts_free(&l);
	f = fopen(path, "w");
	fputs("{\"root\": 5}", f);
	fclose(f);
	assert_int_equal(v2_bundle_load_opts(dir, &l), -EINVAL);
	f = fopen(path, "w");
	fputs("garbage", f);
	fclose(f);
	assert_int_equal(v2_bundle_load_opts(dir, &l), -EINVAL);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_group_key),
		cmocka_unit_test(test_group_errors),
		cmocka_unit_test(test_address_file),
		cmocka_unit_test(test_opts_round_trip),
		cmocka_unit_test(test_opts_absent_and_garbage),
	};
	return cmocka_run_group_tests_name("v2_bundle", tests, setup, teardown);
}
