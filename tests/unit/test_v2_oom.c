/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The v2 OOM watch on a unified host (server/v2_oom.c): inotify on a cgroup directory's
 * memory.events and cgroup.events, given here as a fixture directory whose files the test
 * rewrites as the kernel would. An event each time oom_kill grows, none for other changes,
 * the watch ending when the cgroup empties or its files go.
 */
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
#include <unistd.h>

#include <cmocka.h>

#include "core/cgstats.h"
#include "io/loop.h"
#include "server/v2_oom.h"

static struct loop *L;
static pthread_t loop_thread;
static int sink_pipe[2];
static char dir[64];

/* Loop thread: one line per event. */
static void sink(const char *id)
{
	char line[128];
	int n = snprintf(line, sizeof(line), "%s\n", id);
	assert_int_equal(write(sink_pipe[1], line, (size_t)n), n);
}

static void *run_loop(void *arg)
{
	(void)arg;
	return (void *)(intptr_t)loop_run(L);
}

/* Writes the whole file in one write(2) at offset 0: the tests keep each file's length fixed,
 * so no reader sees it truncated or half written (a cgroup file changes atomically too). */
static void put(const char *name, const char *text)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, text, strlen(text), 0), (ssize_t)strlen(text));
	close(fd);
}

static void unlink_file(const char *name)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(unlink(path), 0);
}

static void put_kills(unsigned kills, unsigned oom)
{
	char text[128];
	snprintf(text, sizeof(text), "low 0\nhigh 0\nmax %06u\noom %06u\noom_kill %06u\n", oom, oom,
		 kills);
	put("memory.events", text);
}

/* Every change written so far has been handled: inotify queues an event in write(2) itself,
 * the level-triggered loop sees it in the batch that runs the first call's function (or an
 * earlier one), and the second call's function runs in a later batch. */
static void barrier(void)
{
	(void)v2_oom_watching(NULL);
	(void)v2_oom_watching(NULL);
}

/* The next event's id (waits: an event is expected). */
static char *next_event(char *buf, size_t size)
{
	struct pollfd p = { .fd = sink_pipe[0], .events = POLLIN };
	size_t n = 0;
	assert_int_equal(poll(&p, 1, 20000), 1); /* a bound for a hang, not a latency */
	while (n + 1 < size && read(sink_pipe[0], buf + n, 1) == 1 && buf[n] != '\n')
		n++;
	buf[n] = '\0';
	return buf;
}

static bool no_event(void)
{
	struct pollfd p = { .fd = sink_pipe[0], .events = POLLIN };
	barrier();
	return poll(&p, 1, 0) == 0;
}

static void say_running(void *arg)
{
	(void)arg;
	assert_int_equal(write(sink_pipe[1], "\n", 1), 1);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/cshim-oom.XXXXXX");
	assert_non_null(mkdtemp(dir));
	put_kills(0, 0);
	put("cgroup.events", "populated 1\nfrozen 0\n");
	assert_int_equal(pipe2(sink_pipe, O_CLOEXEC), 0);
	assert_int_equal(loop_new(&L), 0);
	v2_oom_setup(&L, sink);
	assert_int_equal(pthread_create(&loop_thread, NULL, run_loop, NULL), 0);
	/* loop_call runs a function inline until the loop runs: wait for it (a posted task) */
	char b[8];
	assert_int_equal(loop_post(L, say_running, NULL), 0);
	assert_string_equal(next_event(b, sizeof(b)), "");
	return 0;
}

static int teardown(void **state)
{
	char path[128];
	(void)state;
	v2_oom_unwatch("c1");
	assert_int_equal(v2_oom_watching(NULL), 0);
	loop_stop(L);
	assert_int_equal(pthread_join(loop_thread, NULL), 0);
	loop_free(L);
	close(sink_pipe[0]);
	close(sink_pipe[1]);
	snprintf(path, sizeof(path), "%s/memory.events", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/cgroup.events", dir);
	unlink(path);
	rmdir(dir);
	return 0;
}

static void test_files(void **state)
{
	uint64_t kills = 99;
	(void)state;
	put_kills(7, 9);
	assert_int_equal(cgstats_v2_oom_kill(dir, &kills), 0);
	assert_int_equal(kills, 7);
	assert_int_equal(cgstats_v2_populated(dir), 1);
	put("cgroup.events", "populated 0\nfrozen 0\n");
	assert_int_equal(cgstats_v2_populated(dir), 0);
	unlink_file("cgroup.events");
	put("cgroup.events", "frozen 0\n");
	assert_int_equal(cgstats_v2_populated(dir), 0); /* no line: empty, as isCgroupEmpty */
	unlink_file("memory.events");
	put("memory.events", "low 0\noom_kill\n");
	assert_int_equal(cgstats_v2_oom_kill(dir, &kills), -EINVAL);
	assert_int_equal(cgstats_v2_oom_kill("/nonexistent-cgroup", &kills), -ENOENT);
}

static void test_event_when_oom_kill_grows(void **state)
{
	char b[64];
	(void)state;
	assert_int_equal(v2_oom_watch_dir("c1", dir, true), 0);
	assert_int_equal(v2_oom_watching("c1"), 1);
	put_kills(0, 1); /* an OOM without a kill: none (pkg/oom/v2 looks at oom_kill) */
	assert_true(no_event());
	put_kills(1, 1);
	assert_string_equal(next_event(b, sizeof(b)), "c1");
	put_kills(1, 2); /* changed, but not oom_kill */
	assert_true(no_event());
	put("cgroup.events", "populated 1\nfrozen 1\n"); /* the other file, still populated */
	assert_true(no_event());
	put_kills(3, 3); /* two kills between wake-ups: one event, as the Go watcher */
	assert_string_equal(next_event(b, sizeof(b)), "c1");
	assert_true(no_event());
	assert_int_equal(v2_oom_watching("c1"), 1);
}

static void test_watch_ends_when_cgroup_empties(void **state)
{
	char b[64];
	(void)state;
	assert_int_equal(v2_oom_watch_dir("c1", dir, true), 0);
	/* the kill that empties the cgroup is reported, then the watch ends */
	put_kills(1, 1);
	put("cgroup.events", "populated 0\nfrozen 0\n");
	assert_string_equal(next_event(b, sizeof(b)), "c1");
	barrier();
	assert_int_equal(v2_oom_watching("c1"), 0);
	put_kills(5, 5);
	assert_true(no_event());
}

static void test_watch_ends_when_files_go(void **state)
{
	(void)state;
	assert_int_equal(v2_oom_watch_dir("c1", dir, true), 0);
	unlink_file("memory.events"); /* the cgroup removed */
	assert_true(no_event());
	assert_int_equal(v2_oom_watching("c1"), 0);
}

static void test_unwatch_and_bad_dirs(void **state)
{
	(void)state;
	assert_int_equal(v2_oom_watch_dir("c1", dir, true), 0);
	assert_int_equal(v2_oom_watch_dir("c2", dir, true), 0);
	assert_int_equal(v2_oom_watching(NULL), 2);
	v2_oom_unwatch("c1");
	assert_int_equal(v2_oom_watching("c1"), 0);
	assert_int_equal(v2_oom_watching("c2"), 1);
	put_kills(1, 1);
	char b[64];
	assert_string_equal(next_event(b, sizeof(b)), "c2");
	v2_oom_unwatch("c2");
	assert_int_equal(v2_oom_watch_dir("c3", "/nonexistent-cgroup", true), -ENOENT);
	assert_int_equal(v2_oom_watching(NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_event_when_oom_kill_grows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_watch_ends_when_cgroup_empties, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_watch_ends_when_files_go, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unwatch_and_bad_dirs, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
