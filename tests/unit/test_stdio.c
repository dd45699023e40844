/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for io/stdio.c without a container: FIFOs and file:// targets in a temp dir, the
 * test playing the container on the runtime's ends (rt_fd[0..2]) and the client on the FIFOs.
 * The stdin FIFO is copied whatever the stdout scheme (containerd's copyPipes runs for
 * file:// too); without a stdin path the runtime gets /dev/null. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cmocka.h>

#include "io/loop.h"
#include "io/stdio.h"

/* A guard against a hang, never a timed assertion: a broken copy fails on the data. */
#define HANG_GUARD_MS 20000

struct env {
	char dir[64];
	char fifo[128];
	char out_uri[160];
	char out_path[128];
	struct loop *l;
	pthread_t thr;
};

static void *run_loop(void *arg)
{
	return (void *)(intptr_t)loop_run(arg);
}

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	assert_non_null(e);
	snprintf(e->dir, sizeof(e->dir), "/tmp/cshim-stdio-XXXXXX");
	assert_non_null(mkdtemp(e->dir));
	snprintf(e->fifo, sizeof(e->fifo), "%s/stdin", e->dir);
	assert_int_equal(mkfifo(e->fifo, 0600), 0);
	/* a parent that does not exist yet: file:// creates it */
	snprintf(e->out_path, sizeof(e->out_path), "%s/logs/out.log", e->dir);
	snprintf(e->out_uri, sizeof(e->out_uri), "file://%s", e->out_path);
	assert_int_equal(loop_new(&e->l), 0);
	assert_int_equal(pthread_create(&e->thr, NULL, run_loop, e->l), 0);
	*state = e;
	return 0;
}

static void stop_cb(void *arg)
{
	loop_stop(arg);
}

static int teardown(void **state)
{
	struct env *e = *state;
	char logs[96];
	/* from the loop thread: loop_run (re)sets running when it starts */
	assert_int_equal(loop_post(e->l, stop_cb, e->l), 0);
	pthread_join(e->thr, NULL);
	loop_free(e->l);
	(void)unlink(e->out_path);
	snprintf(logs, sizeof(logs), "%s/logs", e->dir);
	(void)rmdir(logs);
	(void)unlink(e->fifo);
	(void)rmdir(e->dir);
	free(e);
	return 0;
}

static bool is_devnull(int fd)
{
	struct stat st;
	return fstat(fd, &st) == 0 && S_ISCHR(st.st_mode) && major(st.st_rdev) == 1 &&
	       minor(st.st_rdev) == 3;
}

static bool is_pipe(int fd)
{
	struct stat st;
	return fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode);
}

/* Reads fd until EOF (or the hang guard); heap, NUL-terminated. */
static char *read_to_eof(int fd)
{
	size_t n = 0, cap = 256;
	char *buf = malloc(cap);
	assert_non_null(buf);
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, HANG_GUARD_MS) <= 0)
			fail_msg("no EOF on fd %d", fd);
		if (n + 1 == cap) {
			cap *= 2;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
		ssize_t k = read(fd, buf + n, cap - 1 - n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && errno == EAGAIN)
			continue;
		assert_true(k >= 0);
		if (k == 0)
			break;
		n += (size_t)k;
	}
	buf[n] = '\0';
	return buf;
}

static char *read_file(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	char *s = read_to_eof(fd);
	close(fd);
	return s;
}

/* The file once it holds at least len bytes (the copies run on the loop thread). */
static char *read_file_len(const char *path, size_t len)
{
	for (int i = 0; i < HANG_GUARD_MS / 10; i++) {
		char *s = read_file(path);
		if (strlen(s) >= len)
			return s;
		free(s);
		usleep(10000);
	}
	fail_msg("%s never held %zu bytes", path, len);
	return NULL;
}

/* The container side: dups of what the runtime would get, taken before stdio_spawned(). */
static void take_container_ends(struct stdio *io, int c[3])
{
	for (int i = 0; i < 3; i++) {
		c[i] = fcntl(io->rt_fd[i], F_DUPFD_CLOEXEC, 3);
		assert_true(c[i] >= 0);
	}
	stdio_spawned(io);
}

/* file:// stdout with a stdin FIFO: what the client writes reaches the container's stdin,
 * which ends (EOF) once the client closed its end and CloseIO dropped the keep-alive. */
static void test_file_uri_copies_stdin(void **state)
{
	struct env *e = *state;
	struct stdio_cfg cfg = { .in = e->fifo, .out = e->out_uri, .err = e->out_uri };
	struct stdio io;
	char msg[256];
	int c[3], w;

	assert_int_equal(stdio_prepare(&cfg, &io, msg, sizeof(msg)), 0);
	assert_true(is_pipe(io.rt_fd[0]));
	assert_false(is_devnull(io.rt_fd[0]));
	take_container_ends(&io, c);
	assert_int_equal(stdio_start(&io, e->l, "t"), 0);

	w = open(e->fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC); /* the shim holds a reader */
	assert_true(w >= 0);
	assert_int_equal(write(w, "hello\n", 6), 6);
	close(w);
	assert_int_equal(stdio_close_stdin(&io), 0);
	char *in = read_to_eof(c[0]);
	assert_string_equal(in, "hello\n");
	free(in);

	/* and the output side still goes to the file, stdout and stderr through one fd */
	assert_int_equal(write(c[1], "out\n", 4), 4);
	assert_int_equal(write(c[2], "err\n", 4), 4);
	for (int i = 0; i < 3; i++)
		close(c[i]);
	/* (stdio_wait is not used: its timed wait belongs to another change) */
	char *f = read_file_len(e->out_path, 8);
	assert_int_equal(strlen(f), 8);
	assert_non_null(strstr(f, "out\n"));
	assert_non_null(strstr(f, "err\n"));
	free(f);
	stdio_destroy(&io);
}

/* file:// stdout without stdin: the runtime's stdin is /dev/null, nothing is opened. */
static void test_file_uri_no_stdin(void **state)
{
	struct env *e = *state;
	struct stdio_cfg cfg = { .in = "", .out = e->out_uri, .err = e->out_uri };
	struct stdio io;
	char msg[256];

	assert_int_equal(stdio_prepare(&cfg, &io, msg, sizeof(msg)), 0);
	assert_true(is_devnull(io.rt_fd[0]));
	assert_true(is_pipe(io.rt_fd[1]));
	assert_int_equal(io.in_src, -1);
	assert_int_equal(io.in_keep, -1);
	stdio_destroy(&io);
}

/* A stdin path that is not there fails the prepare (before any runtime runs) and leaves no
 * fd open; the file:// target it made is all that remains. */
static void test_file_uri_missing_stdin(void **state)
{
	struct env *e = *state;
	char missing[160];
	struct stdio_cfg cfg = { .in = missing, .out = e->out_uri, .err = e->out_uri };
	struct stdio io;
	char msg[256];
	int before = 0, after = 0;

	snprintf(missing, sizeof(missing), "%s/nope", e->dir);
	for (int fd = 0; fd < 1024; fd++)
		before += fcntl(fd, F_GETFD) >= 0;
	assert_int_equal(stdio_prepare(&cfg, &io, msg, sizeof(msg)), -ENOENT);
	assert_non_null(strstr(msg, missing));
	for (int fd = 0; fd < 1024; fd++)
		after += fcntl(fd, F_GETFD) >= 0;
	assert_int_equal(after, before);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_file_uri_copies_stdin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_uri_no_stdin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_uri_missing_stdin, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
