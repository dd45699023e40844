/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for io/slice.h: the loop thread's short scheduler slice, and that neither the
 * processes the shim spawns (runtimes, containers) nor the threads it starts keep it. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/spawn.h"
#include "io/slice.h"

/* se.slice of a task (/proc/.../sched, 6.6+), or -1 when the kernel does not show it. */
static long long slice_in(const char *text)
{
	const char *p = strstr(text, "se.slice");
	if (!p || !(p = strchr(p, ':')))
		return -1;
	return strtoll(p + 1, NULL, 10);
}

static long long slice_of(const char *path)
{
	char buf[8192];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return slice_in(buf);
}

/* Skips unless this kernel takes and shows a custom slice (EEVDF, 6.12+). */
static void need_slices(void)
{
	int r = slice_set(SLICE_MIN_NS);
	if (r < 0 || slice_of("/proc/thread-self/sched") != (long long)SLICE_MIN_NS) {
		(void)slice_set(0);
		print_message("no custom scheduler slices here (%s)\n",
			      r < 0 ? strerror(-r) : "ignored");
		skip();
	}
}

static void test_set_and_back(void **state)
{
	(void)state;
	need_slices();
	assert_int_equal(slice_of("/proc/thread-self/sched"), SLICE_MIN_NS);
	assert_int_equal(slice_set(0), 0);
	assert_true(slice_of("/proc/thread-self/sched") > (long long)SLICE_MIN_NS);
}

static void test_nice_kept(void **state)
{
	(void)state;
	errno = 0;
	int before = nice(0);
	assert_int_equal(errno, 0);
	need_slices();
	errno = 0;
	assert_int_equal(nice(0), before);
	assert_int_equal(slice_set(0), 0);
}

/* What a spawned program (the runtime, then the container) runs with. */
static void test_spawned_process_gets_the_default(void **state)
{
	char buf[8192];
	char *argv[] = { "cat", "/proc/self/sched", NULL };
	char *envp[] = { NULL };
	int pipefd[2], fds[3];
	struct spawn_opts o = {
		.path = "/bin/cat", .argv = argv, .envp = envp, .fds = fds, .nfds = 3
	};
	size_t len = 0;
	ssize_t n;
	pid_t pid;
	int pidfd, status;

	(void)state;
	need_slices();
	assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);
	fds[0] = -1;
	fds[1] = pipefd[1];
	fds[2] = -1;
	assert_int_equal(spawn_process(&o, &pid, &pidfd), 0);
	close(pipefd[1]);
	while ((n = read(pipefd[0], buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	close(pipefd[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	close(pidfd);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* the parent still has its short slice; the child does not */
	assert_int_equal(slice_of("/proc/thread-self/sched"), SLICE_MIN_NS);
	assert_true(slice_in(buf) > (long long)SLICE_MIN_NS);
	assert_int_equal(slice_set(0), 0);
}

struct thread_seen {
	long long inherited, after_reset;
};

static void *thread_main(void *arg)
{
	struct thread_seen *t = arg;
	t->inherited = slice_of("/proc/thread-self/sched");
	slice_reset(); /* what worker threads do first */
	t->after_reset = slice_of("/proc/thread-self/sched");
	return NULL;
}

/* Threads inherit the slice, which is why the workers drop it. */
static void test_threads_inherit_until_reset(void **state)
{
	struct thread_seen t = { 0 };
	pthread_t th;

	(void)state;
	need_slices();
	assert_int_equal(pthread_create(&th, NULL, thread_main, &t), 0);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(t.inherited, SLICE_MIN_NS);
	assert_true(t.after_reset > (long long)SLICE_MIN_NS);
	assert_int_equal(slice_of("/proc/thread-self/sched"), SLICE_MIN_NS);
	assert_int_equal(slice_set(0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set_and_back),
		cmocka_unit_test(test_nice_kept),
		cmocka_unit_test(test_spawned_process_gets_the_default),
		cmocka_unit_test(test_threads_inherit_until_reset),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
