/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for server/v2_start.h and server/v2_serve.h: start's decisions (docs/v2-launch.md),
 * its launch half (bind or reuse, address file, options record, spawn with the listener on
 * fd 3, cgroup, oom score), and that this build's start refuses before changing anything. */
#include <errno.h>
#include <fcntl.h>
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

#include "core/v2_bundle.h"
#include "core/v2_socket.h"
#include "io/fd_util.h"
#include "io/usock.h"
#include "server/v2_actions.h"
#include "server/v2_serve.h"
#include "server/v2_start.h"

static char dir[64], bundle[128], sockdir[128], msg[512];

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static char *slurp(const char *path)
{
	char *buf = NULL;
	size_t len;
	return fd_read_file(path, 1 << 16, &buf, &len) < 0 ? NULL : buf;
}

static int setup(void **state)
{
	char path[256];
	(void)state;
	strcpy(dir, "/tmp/test_v2_start.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(bundle, sizeof(bundle), "%s/c1", dir);
	snprintf(sockdir, sizeof(sockdir), "%s/s", dir);
	mkdir(bundle, 0700);
	snprintf(path, sizeof(path), "%s/config.json", bundle);
	write_file(path, "{\"ociVersion\":\"1.0.2\",\"annotations\":"
			 "{\"io.containerd.runc.v2.group\":\"g1\"}}");
	return 0;
}

static pid_t spawned; /* killed by teardown if a test failed before it did */

static int teardown(void **state)
{
	char cmd[128];
	(void)state;
	if (spawned > 0) {
		kill(spawned, SIGKILL);
		waitpid(spawned, NULL, 0);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static struct v2_flags flags(void)
{
	struct v2_flags f = { .ns = "ns1",
			      .address = "/run/ctd.sock",
			      .publish_binary = "containerd",
			      .id = "c1",
			      .bundle = "",
			      .action = V2_ACT_START };
	return f;
}

static void test_prepare(void **state)
{
	(void)state;
	struct v2_flags f = flags();
	struct v2_stdin in = { 0 };
	struct v2_start_plan p = { .f = &f, .bundle = bundle, .in = &in };
	char want[256];

	assert_int_equal(v2_start_prepare(&p, sockdir, msg, sizeof(msg)), 0);
	/* the group annotation, not the id, names the socket */
	v2_socket_path(sockdir, "/run/ctd.sock", "ns1", "g1", want, sizeof(want));
	assert_string_equal(p.socket_path, want);
	assert_string_equal(p.address + 7, want);
	assert_memory_equal(p.address, "unix://", 7);
	v2_start_plan_free(&p);
	/* a BootstrapParams' socket_dir replaces /run/containerd/s */
	in.socket_dir = sockdir;
	assert_int_equal(v2_start_prepare(&p, NULL, msg, sizeof(msg)), 0);
	assert_string_equal(p.socket_path, want);
	v2_start_plan_free(&p);
	in.socket_dir = NULL;
	assert_int_equal(v2_start_prepare(&p, NULL, msg, sizeof(msg)), 0);
	assert_memory_equal(p.socket_path, "/run/containerd/s/", 18);
	v2_start_plan_free(&p);
}

/* The bundles the oracle was run in (tests/unit/test_v2_socket.c has its printed addresses):
 * config.json's annotations, -address, -namespace, -id, and the hex it printed. */
static void test_prepare_oracle_bundles(void **state)
{
	(void)state;
	static const struct {
		const char *ann, *addr, *ns, *id, *hex;
	} v[] = {
		{ "{}", "/run/ctd/containerd.sock", "specns", "t1",
		  "02f45282fc5746fd8cdca9ef242ba136b200ae45eb2cf9696be8fdcfe600d0d2" },
		{ "{}", "/run/containerd//containerd.sock/", "v2lns2", "../x",
		  "0d8b7408c869d29c4ba718e242692b0376e5add76ad7d0a7a22c50d6acaf3546" },
		{ "{\"io.containerd.runc.v2.group\":\"g1\"}", "./rel/../a.sock", "v2lns3", "c3",
		  "c0eabe74360663b060b17e62b7a1620ca966a244010ab99c19d8f590a12db720" },
		{ "{\"io.kubernetes.cri.sandbox-id\":\"sb1\"}", "/run/a.sock", "v2lns4", "c4",
		  "b0d1444abfafad8fac4692a8a6a04a79fe77c7c94f046492348bb4b02f647556" },
		{ "{\"io.kubernetes.cri.sandbox-id\":\"sb1\",\"io.containerd.runc.v2.group\":\"g2\"}",
		  "/run/a.sock", "v2lns5", "c5",
		  "eb32df4d25f7922a33e19db2aa9ace7f7220163566e708b8626319e894e96cf3" },
		{ "{\"io.containerd.runc.v2.group\":\"\"}", "/run/a.sock", "v2lns6", "c6",
		  "f2502ebbce78a9aefac5eca8210d254aac7f4909c2dc6dddeb763e2fa5165b87" },
	};
	char b[128], cfg[160], text[512], want[256];

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct v2_flags f = flags();
		struct v2_stdin in = { 0 };
		struct v2_start_plan p = { .f = &f, .bundle = b, .in = &in };

		snprintf(b, sizeof(b), "%s/o%zu", dir, i);
		mkdir(b, 0700);
		snprintf(cfg, sizeof(cfg), "%s/config.json", b);
		snprintf(text, sizeof(text), "{\"ociVersion\":\"1.0.2\",\"annotations\":%s}",
			 v[i].ann);
		write_file(cfg, text);
		f.address = v[i].addr;
		f.ns = v[i].ns;
		f.id = v[i].id;
		assert_int_equal(v2_start_prepare(&p, NULL, msg, sizeof(msg)), 0);
		snprintf(want, sizeof(want), "unix:///run/containerd/s/%s", v[i].hex);
		assert_string_equal(p.address, want);
		v2_start_plan_free(&p);
	}
}

static void test_prepare_errors(void **state)
{
	(void)state;
	struct v2_flags f = flags();
	struct v2_stdin in = { 0 };
	struct v2_start_plan p = { .f = &f, .bundle = dir, .in = &in };

	/* dir has no config.json */
	assert_int_equal(v2_start_prepare(&p, sockdir, msg, sizeof(msg)), -ENOENT);
	assert_non_null(strstr(msg, "config.json"));
	v2_start_plan_free(&p);
	f.id = "";
	p.bundle = bundle;
	assert_int_equal(v2_start_prepare(&p, sockdir, msg, sizeof(msg)), -EINVAL);
	assert_string_equal(msg, "-id is required");
	v2_start_plan_free(&p);
}

static void test_launch_reuses_live_shim(void **state)
{
	(void)state;
	struct v2_flags f = flags();
	struct v2_stdin in = {
		.runc = true, .opts = { .binary_name = "crun", .root = "/run/r", .criu_path = "" }
	};
	struct v2_start_plan p = { .f = &f, .bundle = bundle, .in = &in, .self = "/nonexistent" };
	char path[256], *s;
	struct v2_runtime_opts o;
	pid_t pid = 1;
	int live;

	assert_int_equal(v2_start_prepare(&p, sockdir, msg, sizeof(msg)), 0);
	mkdir(sockdir, 0700);
	live = usock_listen(p.socket_path, 16, 0600); /* the group's shim */
	assert_true(live >= 0);
	assert_int_equal(v2_start_launch(&p, &pid, msg, sizeof(msg)), V2_SOCKET_LIVE);
	assert_int_equal(pid, 0); /* nothing spawned (self does not even exist) */
	snprintf(path, sizeof(path), "%s/address", bundle);
	assert_non_null(s = slurp(path));
	assert_string_equal(s, p.address);
	free(s);
	assert_int_equal(v2_bundle_load_opts(bundle, &o), 0);
	assert_string_equal(o.binary_name, "crun");
	assert_string_equal(o.root, "/run/r");
	v2_runtime_opts_free(&o);
	assert_int_equal(usock_probe(p.socket_path, 100), 0);
	close(live);
	unlink(p.socket_path);
	unlink(path);
	snprintf(path, sizeof(path), "%s/%s", bundle, V2_OPTIONS_FILE);
	unlink(path);
	v2_start_plan_free(&p);
}

/* A stand-in for the long-running process: records what it was given, then waits. */
static const char *script = "#!/bin/sh\n"
			    "o=\"$(dirname \"$0\")\"\n"
			    "a=$(readlink /proc/$$/fd/0); b=$(readlink /proc/$$/fd/1)\n"
			    "c=$(readlink /proc/$$/fd/2); d=$(readlink /proc/$$/fd/3)\n"
			    "printf '%s\\n' \"$a\" \"$b\" \"$c\" \"$d\" > \"$o/fds.tmp\"\n"
			    "cut -d' ' -f5 /proc/$$/stat > \"$o/pgrp\"\n"
			    "echo $$ > \"$o/pid\"\n"
			    "pwd > \"$o/cwd\"\n"
			    "echo \"$@\" > \"$o/args\"\n"
			    "mv \"$o/fds.tmp\" \"$o/fds\"\n"
			    "exec sleep 1000\n";

static void test_launch_new_over_stale(void **state)
{
	(void)state;
	struct v2_flags f = flags();
	struct v2_stdin in = { 0 };
	struct v2_start_plan p = { .f = &f, .bundle = bundle, .in = &in, .self = NULL };
	char self[256], path[256], fifo[256], want[512], *s, *oom;
	pid_t pid = 0;
	int fd, reader, status;

	snprintf(self, sizeof(self), "%s/fake-shim", dir);
	write_file(self, script);
	chmod(self, 0755);
	p.self = self;
	f.debug = true;
	assert_int_equal(v2_start_prepare(&p, sockdir, msg, sizeof(msg)), 0);
	/* a dead shim's socket file */
	mkdir(sockdir, 0700);
	fd = usock_listen(p.socket_path, 1, 0600);
	close(fd);
	/* containerd's log FIFO, read side open before start (O_RDWR, as containerd opens it) */
	snprintf(fifo, sizeof(fifo), "%s/log", bundle);
	assert_int_equal(mkfifo(fifo, 0700), 0);
	reader = open(fifo, O_RDWR | O_CLOEXEC | O_NONBLOCK);
	assert_true(reader >= 0);

	assert_int_equal(v2_start_launch(&p, &pid, msg, sizeof(msg)), V2_SOCKET_NEW);
	assert_true(pid > 0);
	spawned = pid;
	snprintf(path, sizeof(path), "%s/fds", dir);
	for (int i = 0; i < 3000 && access(path, F_OK) < 0; i++) /* hang guard, not a timing */
		usleep(10000);
	assert_non_null(s = slurp(path));
	/* 0, 1 /dev/null; 2 the log FIFO; 3 the listener */
	assert_memory_equal(s, "/dev/null\n/dev/null\n", 20);
	snprintf(want, sizeof(want), "/dev/null\n/dev/null\n%s\nsocket:[", fifo);
	assert_memory_equal(s, want, strlen(want));
	free(s);
	assert_int_equal(usock_probe(p.socket_path, 100), 0); /* fd 3 listens on the path */
	snprintf(path, sizeof(path), "%s/pgrp", dir);
	assert_non_null(s = slurp(path));
	assert_int_equal(atoi(s), pid); /* own process group */
	free(s);
	snprintf(path, sizeof(path), "%s/cwd", dir);
	assert_non_null(s = slurp(path));
	snprintf(want, sizeof(want), "%s\n", bundle);
	assert_string_equal(s, want);
	free(s);
	snprintf(path, sizeof(path), "%s/args", dir);
	assert_non_null(s = slurp(path));
	assert_string_equal(s, "-namespace ns1 -id c1 -address /run/ctd.sock -publish-binary "
			       "containerd -debug serve\n");
	free(s);
	/* oom_score_adj: that of start's parent (containerd) + 1 */
	snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", (int)getppid());
	assert_non_null(oom = slurp(path));
	int want_oom = atoi(oom) + 1 > 1000 ? 1000 : atoi(oom) + 1;
	snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", (int)pid);
	assert_non_null(s = slurp(path));
	assert_int_equal(atoi(s), want_oom);
	free(s);
	free(oom);
	snprintf(path, sizeof(path), "%s/address", bundle);
	assert_non_null(s = slurp(path));
	assert_string_equal(s, p.address);
	free(s);
	/* no options on stdin: no options record (delete uses the defaults) */
	snprintf(path, sizeof(path), "%s/%s", bundle, V2_OPTIONS_FILE);
	assert_int_equal(access(path, F_OK), -1);

	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	spawned = 0;
	close(reader);
	unlink(fifo);
	unlink(p.socket_path);
	snprintf(path, sizeof(path), "%s/address", bundle);
	unlink(path);
	v2_start_plan_free(&p);
}

static void test_launch_failure_cleans_up(void **state)
{
	(void)state;
	struct v2_flags f = flags();
	struct v2_stdin in = { .runc = true,
			       .shim_cgroup = "/no/such/group",
			       .opts = { .binary_name = "", .root = "", .criu_path = "" } };
	struct v2_start_plan p = { .f = &f, .bundle = bundle, .in = &in, .cgroot = dir };
	char self[256], pidfile[256];
	pid_t pid = 1;
	int status;

	snprintf(self, sizeof(self), "%s/fake-shim", dir);
	write_file(self, script);
	chmod(self, 0755);
	p.self = self;
	snprintf(pidfile, sizeof(pidfile), "%s/pid", dir);
	unlink(pidfile);
	assert_int_equal(v2_start_prepare(&p, sockdir, msg, sizeof(msg)), 0);
	assert_int_equal(v2_start_launch(&p, &pid, msg, sizeof(msg)), -ENOENT);
	assert_non_null(strstr(msg, "/no/such/group"));
	assert_int_equal(pid, 0);
	/* the socket, the address file and the record are gone again, and the spawned process
	 * was killed */
	assert_int_equal(access(p.socket_path, F_OK), -1);
	snprintf(pidfile, sizeof(pidfile), "%s/address", bundle);
	assert_int_equal(access(pidfile, F_OK), -1);
	snprintf(pidfile, sizeof(pidfile), "%s/%s", bundle, V2_OPTIONS_FILE);
	assert_int_equal(access(pidfile, F_OK), -1);
	pid_t w = wait(&status);
	assert_true(w > 0);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);
	v2_start_plan_free(&p);
}

static void test_start_rejects_garbage_stdin(void **state)
{
	(void)state;
	struct v2_flags f = flags();
	char path[256], addr[256];
	int saved = fcntl(0, F_DUPFD_CLOEXEC, 0), fd;

	snprintf(path, sizeof(path), "%s/garbage", dir);
	write_file(path, "garbage on stdin\n");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	f.bundle = bundle;
	dup2(fd, 0);
	assert_int_equal(v2_start_main(&f), 1);
	dup2(saved, 0);
	close(saved);
	close(fd);
	snprintf(addr, sizeof(addr), "%s/address", bundle);
	assert_int_equal(access(addr, F_OK), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prepare),
		cmocka_unit_test(test_prepare_oracle_bundles),
		cmocka_unit_test(test_prepare_errors),
		cmocka_unit_test(test_launch_reuses_live_shim),
		cmocka_unit_test(test_launch_new_over_stale),
		cmocka_unit_test(test_launch_failure_cleans_up),
		cmocka_unit_test(test_start_rejects_garbage_stdin),
	};
	return cmocka_run_group_tests_name("v2_start", tests, setup, teardown);
}
