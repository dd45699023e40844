/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The v2 `delete` action (docs/v2-launch.md, `delete`) side by side with containerd 1.6's
 * containerd-shim-runc-v2 (GOSHIM_V2, default /usr/bin/containerd-shim-runc-v2) and cshim
 * (CSHIM): on a bundle whose runc container was created by hand (runc create, busybox
 * sleep), each shim's delete must exit 0, print only a DeleteResponse whose pid is init.pid's,
 * exit_status 137 and exited_at between the times taken before and after, and the runc
 * container must be gone. On a bundle where nothing exists, both answer pid 4294967295 (Go's
 * -1 for an unreadable init.pid) and 137. The bundle directory is named after the id: the Go
 * shim derives the bundle from its cwd's parent and -id.
 *
 * Each shim gets its runtime root the way it records it: the Go shim reads BUNDLE/options.json
 * and BUNDLE/runtime (written by its Create), cshim BUNDLE/cshim-options.json (written by its
 * start).
 */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>

#include <cmocka.h>

#include "github.com/containerd/containerd/runtime/v2/task/shim.pb-c.h"
#include "tests/integration/itutil.h"

#define NS "cshimv2it"

/* Paths here are short (under it_root()); snprintf into PATH_MAX buffers cannot truncate. */
#pragma GCC diagnostic ignored "-Wformat-truncation"

static const char *env_or(const char *name, const char *dflt)
{
	const char *v = getenv(name);
	return v && *v ? v : dflt;
}

static void put(const char *dir, const char *name, const char *text)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static int find_runc(char *buf, size_t n)
{
	static const char *const where[] = { "/usr/sbin/runc", "/usr/bin/runc",
					     "/usr/local/sbin/runc", "/usr/local/bin/runc" };
	for (size_t i = 0; i < sizeof(where) / sizeof(where[0]); i++)
		if (access(where[i], X_OK) == 0)
			return snprintf(buf, n, "%s", where[i]) < (int)n ? 0 : -ENAMETOOLONG;
	return -ENOENT;
}

/* Runs argv in cwd with stdin /dev/null, stdout read as bytes apart from stderr (kept in
 * *err). Returns the wait status. */
static int run_bytes(const char *const argv[], const char *cwd, uint8_t *out, size_t outsz,
		     size_t *outlen, char **err)
{
	int po[2], pe[2], st = 0;
	size_t n = 0;
	pid_t pid;

	assert_int_equal(pipe2(po, O_CLOEXEC), 0);
	assert_int_equal(pipe2(pe, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
		dup2(null, 0);
		dup2(po[1], 1);
		dup2(pe[1], 2);
		if (chdir(cwd) < 0)
			_exit(126);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	for (;;) {
		ssize_t r = read(po[0], out + n, outsz - n);
		if (r <= 0)
			break;
		n += (size_t)r;
		if (n == outsz)
			break;
	}
	close(po[0]);
	*err = fifo_read_all(pe[0], 15000);
	close(pe[0]);
	waitpid(pid, &st, 0);
	*outlen = n;
	return st;
}

static int usock_listen_for_test(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_true(strlen(path) < sizeof(sa.sun_path));
	strcpy(sa.sun_path, path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 4), 0);
	return fd;
}

struct bundle {
	char dir[PATH_MAX];    /* the launch dir */
	char bundle[PATH_MAX]; /* DIR/<id> */
	char root[PATH_MAX];   /* runc --root is ROOT/NS */
	char id[64];
	char runc[PATH_MAX];
};

static void runc_cmd(const struct bundle *b, const char *const *args, int *status)
{
	char rootns[PATH_MAX], log[PATH_MAX];
	const char *argv[16];
	char *out = NULL;
	int n = 0;

	snprintf(rootns, sizeof(rootns), "%s/%s", b->root, NS);
	snprintf(log, sizeof(log), "%s/log.json", b->bundle);
	argv[n++] = b->runc;
	argv[n++] = "--root";
	argv[n++] = rootns;
	argv[n++] = "--log";
	argv[n++] = log;
	argv[n++] = "--log-format";
	argv[n++] = "json";
	while (*args)
		argv[n++] = *args++;
	argv[n] = NULL;
	/* stdio /dev/null, not a pipe: the container's init inherits it and keeps it open */
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, status, 0), pid);
	(void)out;
}

/* A bundle DIR/<id> with a busybox rootfs whose runc container runs `sleep 1000`
 * (create only: the init waits in runc init, as after Create). with_container false: an
 * empty bundle directory. */
static void make_bundle(struct bundle *b, const char *tag, bool with_container)
{
	static const char *const sleep_argv[] = { "sleep", "1000", NULL };
	struct shim_inst si;
	int st;

	if (with_container) {
		assert_int_equal(
			shim_prepare(&si, env_or("CSHIM", "build/bin/cshim"), tag, sleep_argv), 0);
		snprintf(b->dir, sizeof(b->dir), "%s", si.dir);
		snprintf(b->id, sizeof(b->id), "%s", si.id);
		snprintf(b->bundle, sizeof(b->bundle), "%s/%s", si.dir, si.id);
		assert_int_equal(rename(si.bundle, b->bundle), 0);
		/* config.json's root.path is absolute: follow the rename */
		char *cfg, path[PATH_MAX], from[PATH_MAX + 16], to[PATH_MAX + 16], *at;
		snprintf(path, sizeof(path), "%s/config.json", b->bundle);
		cfg = it_read_file(path, NULL);
		assert_non_null(cfg);
		snprintf(from, sizeof(from), "\"%s/rootfs\"", si.bundle);
		snprintf(to, sizeof(to), "\"%s/rootfs\"", b->bundle);
		at = strstr(cfg, from);
		assert_non_null(at);
		FILE *f = fopen(path, "w");
		fprintf(f, "%.*s%s%s", (int)(at - cfg), cfg, to, at + strlen(from));
		fclose(f);
		free(cfg);
	} else {
		it_unique(b->id, sizeof(b->id), "v2e");
		snprintf(b->dir, sizeof(b->dir), "%s/%s-%s", it_root(), tag, b->id);
		assert_int_equal(mkdir(b->dir, 0711), 0);
		snprintf(b->bundle, sizeof(b->bundle), "%s/%s", b->dir, b->id);
		assert_int_equal(mkdir(b->bundle, 0700), 0);
	}
	snprintf(b->root, sizeof(b->root), "%s/runc", b->dir);
	mkdir(b->root, 0711);
	assert_int_equal(find_runc(b->runc, sizeof(b->runc)), 0);
	if (with_container) {
		char pidfile[PATH_MAX];
		snprintf(pidfile, sizeof(pidfile), "%s/init.pid", b->bundle);
		const char *args[] = { "create", "--bundle", b->bundle, "--pid-file",
				       pidfile,  b->id,      NULL };
		runc_cmd(b, args, &st);
		assert_int_equal(st, 0);
	}
	(void)st;
}

/* What each shim reads to find the runtime root (see the file comment). */
static void record_options(const struct bundle *b, bool go)
{
	char text[PATH_MAX + 64];

	if (go) {
		snprintf(text, sizeof(text), "{\"root\":\"%s\"}", b->root);
		put(b->bundle, "options.json", text);
		put(b->bundle, "runtime", "runc");
	} else {
		snprintf(text, sizeof(text), "{\"binary_name\":\"runc\",\"root\":\"%s\"}", b->root);
		put(b->bundle, "cshim-options.json", text);
	}
}

struct delete_result {
	int status;
	uint32_t pid, exit_status;
	int64_t sec;
	int32_t nsec;
	struct timespec before, after;
};

static void run_delete(const char *shim, const struct bundle *b, struct delete_result *r)
{
	const char *argv[] = { shim,
			       "-namespace",
			       NS,
			       "-address",
			       IT_GRPC_ADDRESS,
			       "-publish-binary",
			       "/usr/bin/containerd",
			       "-id",
			       b->id,
			       "-bundle",
			       b->bundle,
			       "delete",
			       NULL };
	uint8_t out[256];
	size_t len;
	char *err = NULL;
	Containerd__Task__V2__DeleteResponse *resp;

	clock_gettime(CLOCK_REALTIME, &r->before);
	r->status = run_bytes(argv, b->bundle, out, sizeof(out), &len, &err);
	clock_gettime(CLOCK_REALTIME, &r->after);
	if (getenv("CSHIM_IT_VERBOSE"))
		fprintf(stderr, "%s delete: status %d, %zu bytes, stderr: %s\n", shim, r->status,
			len, err ? err : "");
	free(err);
	if (r->status != 0)
		return;
	/* stdout is exactly one DeleteResponse: it decodes, with no unknown fields */
	resp = containerd__task__v2__delete_response__unpack(NULL, len, out);
	assert_non_null(resp);
	assert_int_equal(resp->base.n_unknown_fields, 0);
	assert_non_null(resp->exited_at);
	r->pid = resp->pid;
	r->exit_status = resp->exit_status;
	r->sec = resp->exited_at->seconds;
	r->nsec = resp->exited_at->nanos;
	containerd__task__v2__delete_response__free_unpacked(resp, NULL);
}

static void assert_exited_between(const struct delete_result *r)
{
	/* before <= exited_at <= after (ordering, not a time bound) */
	assert_true(r->sec > r->before.tv_sec ||
		    (r->sec == r->before.tv_sec && r->nsec >= r->before.tv_nsec));
	assert_true(r->sec < r->after.tv_sec ||
		    (r->sec == r->after.tv_sec && r->nsec <= r->after.tv_nsec));
}

static void delete_live_container(const char *shim, bool go, struct delete_result *r)
{
	struct bundle b;
	char path[PATH_MAX], *pidtext;
	int st;

	make_bundle(&b, go ? "v2del-go" : "v2del-c", true);
	record_options(&b, go);
	snprintf(path, sizeof(path), "%s/init.pid", b.bundle);
	pidtext = it_read_file(path, NULL);
	assert_non_null(pidtext);
	run_delete(shim, &b, r);
	/* the runc container is gone (checked, and cleaned up, before any assertion) */
	const char *args[] = { "state", b.id, NULL };
	int state_st;
	runc_cmd(&b, args, &state_st);
	if (state_st == 0) {
		const char *del[] = { "delete", "--force", b.id, NULL };
		runc_cmd(&b, del, &st);
	}
	assert_int_not_equal(state_st, 0);
	assert_int_equal(r->status, 0);
	assert_int_equal(r->pid, (uint32_t)atoi(pidtext));
	assert_int_equal(r->exit_status, 137);
	assert_exited_between(r);
	free(pidtext);
}

static void test_delete_live_go(void **state)
{
	(void)state;
	struct delete_result r;
	delete_live_container(env_or("GOSHIM_V2", "/usr/bin/containerd-shim-runc-v2"), true, &r);
}

static void test_delete_live_c(void **state)
{
	(void)state;
	struct delete_result r;
	delete_live_container(env_or("CSHIM", "build/bin/cshim"), false, &r);
}

static void test_delete_nothing_there(void **state)
{
	(void)state;
	struct bundle bg, bc;
	struct delete_result g, c, n;

	/* Go needs BUNDLE/runtime (it fails without it); both then answer the same */
	make_bundle(&bg, "v2del-empty-go", false);
	put(bg.bundle, "runtime", "runc");
	run_delete(env_or("GOSHIM_V2", "/usr/bin/containerd-shim-runc-v2"), &bg, &g);
	make_bundle(&bc, "v2del-empty-c", false);
	run_delete(env_or("CSHIM", "build/bin/cshim"), &bc, &c);
	assert_int_equal(g.status, 0);
	assert_int_equal(c.status, 0);
	assert_int_equal(c.pid, g.pid);
	assert_int_equal(c.pid, UINT32_MAX);
	assert_int_equal(c.exit_status, g.exit_status);
	assert_int_equal(c.exit_status, 137);
	assert_exited_between(&c);
	/* cshim: a second delete of the same bundle succeeds too (delete runs after every
	 * teardown, and again when containerd retries) */
	run_delete(env_or("CSHIM", "build/bin/cshim"), &bc, &n);
	assert_int_equal(n.status, 0);
}

/* The group socket named in BUNDLE/address: cshim's delete removes it when its shim is dead
 * (nothing accepts), and leaves it when a shim still listens (a group's other containers). */
static void test_delete_dead_socket(void **state)
{
	(void)state;
	struct bundle b;
	struct delete_result r;
	char sock[PATH_MAX], addr[PATH_MAX + 8];
	int fd;

	make_bundle(&b, "v2del-sock", false);
	snprintf(sock, sizeof(sock), "%s/g.sock", b.dir);
	snprintf(addr, sizeof(addr), "unix://%s", sock);
	put(b.bundle, "address", addr);
	fd = usock_listen_for_test(sock);
	run_delete(env_or("CSHIM", "build/bin/cshim"), &b, &r);
	assert_int_equal(r.status, 0);
	assert_int_equal(access(sock, F_OK), 0); /* alive: kept */
	close(fd);
	run_delete(env_or("CSHIM", "build/bin/cshim"), &b, &r);
	assert_int_equal(r.status, 0);
	assert_int_equal(access(sock, F_OK), -1); /* dead: removed */
}

static void test_delete_bad_options_record(void **state)
{
	(void)state;
	struct bundle b;
	struct delete_result r;

	make_bundle(&b, "v2del-bad", false);
	put(b.bundle, "cshim-options.json", "not json");
	run_delete(env_or("CSHIM", "build/bin/cshim"), &b, &r);
	assert_true(WIFEXITED(r.status));
	assert_int_not_equal(WEXITSTATUS(r.status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_delete_live_go),
		cmocka_unit_test(test_delete_live_c),
		cmocka_unit_test(test_delete_nothing_there),
		cmocka_unit_test(test_delete_dead_socket),
		cmocka_unit_test(test_delete_bad_options_record),
	};
	int r = cmocka_run_group_tests_name("v2delete", tests, NULL, NULL);
	it_root_remove();
	return r;
}
