/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for core/reaper.h with forked children (no containers, no runtime):
 * - an exit reaped before its watch is registered still reaches the watcher;
 * - reaper_spawn: a child's watch is in place before it can be reaped (it gets its own exit,
 *   never an earlier process's with the same pid); reaper_watch_pidfd tells a reaped child
 *   from a live process that has its pid now;
 * - watches, waits with a deadline (the child is SIGKILLed), exit status encoding;
 * - reaper_claim_pid orders a reaped exit against the start's stamp on the monotonic clock:
 *   CLOCK_REALTIME stepped back between the start and the reap (simulated: this program's
 *   clock_gettime adds an offset to CLOCK_REALTIME, which the library's calls get) does not
 *   make a real exit look stale;
 * - a pidfd_open failure other than ESRCH (EMFILE, from a lowered RLIMIT_NOFILE) is not taken
 *   for "reaped": in a pid namespace of its own (root only: skipped otherwise) a pid is
 *   reused on purpose (ns_last_pid) so that the reaper holds the exit of an earlier process
 *   with the pid of a live one. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/reaper.h"
#include "io/clock.h"

/* ---- a wall clock the test can step ---- */

static _Atomic long long realtime_offset_ns;

/* Interposes libc's: the library's objects, linked into this program, call this one. */
int clock_gettime(clockid_t clk, struct timespec *ts)
{
	long long off;
	int r = (int)syscall(SYS_clock_gettime, clk, ts);
	if (r < 0 || clk != CLOCK_REALTIME || !(off = atomic_load(&realtime_offset_ns)))
		return r;
	long long ns = (long long)ts->tv_sec * 1000000000LL + ts->tv_nsec + off;
	ts->tv_sec = (time_t)(ns / 1000000000LL);
	ts->tv_nsec = (long)(ns % 1000000000LL);
	return r;
}

/* ---- the process sink ---- */

static struct {
	pthread_mutex_t mu;
	void *cookie[64];
	int status[64];
	int n;
} S = { .mu = PTHREAD_MUTEX_INITIALIZER };

static void sink(void *cookie, int status)
{
	pthread_mutex_lock(&S.mu);
	if (S.n < 64) {
		S.cookie[S.n] = cookie;
		S.status[S.n] = status;
		S.n++;
	}
	pthread_mutex_unlock(&S.mu);
}

static void pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* The sink's status for cookie, waiting for it (up to a minute: the test then fails). */
static int sink_wait(void *cookie)
{
	for (int tries = 0; tries < 60000; tries++) {
		pthread_mutex_lock(&S.mu);
		for (int i = 0; i < S.n; i++) {
			if (S.cookie[i] == cookie) {
				int st = S.status[i];
				pthread_mutex_unlock(&S.mu);
				return st;
			}
		}
		pthread_mutex_unlock(&S.mu);
		pause_ms(1);
	}
	return -1;
}

/* Waits until the reaper has reaped pid (only the reaper reaps here). */
static bool wait_reaped(pid_t pid)
{
	for (int tries = 0; tries < 60000; tries++) {
		if (kill(pid, 0) < 0 && errno == ESRCH)
			return true;
		pause_ms(1);
	}
	return false;
}

/* A child that exits with code once a byte (or EOF) arrives on *ret_release's other end. */
static pid_t child_blocked(int code, int *ret_release)
{
	int p[2];
	pid_t pid;
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		char b;
		close(p[1]);
		(void)!read(p[0], &b, 1);
		_exit(code);
	}
	close(p[0]);
	*ret_release = p[1];
	return pid;
}

static pid_t child_exiting(int code)
{
	pid_t pid = fork();
	if (pid == 0)
		_exit(code);
	return pid;
}

/* ---- in this process, with the reaper running ---- */

static int reaper_setup(void **state)
{
	(void)state;
	return reaper_start(sink) == 0 ? 0 : -1;
}

static int reaper_teardown(void **state)
{
	(void)state;
	reaper_stop();
	return 0;
}

static void test_exit_status_encoding(void **state)
{
	(void)state;
	assert_int_equal(reaper_exit_status(3 << 8), 3);
	assert_int_equal(reaper_exit_status(SIGKILL), 137);
	assert_int_equal(reaper_exit_status(SIGTERM), 143);
}

static void test_watch_then_exit(void **state)
{
	(void)state;
	int release;
	pid_t pid = child_blocked(42, &release);
	struct reaper_watch w = { .pid = pid };

	assert_true(pid > 0);
	reaper_watch(&w);
	assert_false(w.exited);
	close(release);
	assert_int_equal(reaper_wait(&w, -1, 0), 42);
	assert_true(w.exited);
}

static int cb_status = -1;
static void watch_cb(struct reaper_watch *w, int status)
{
	assert_int_equal(w->status, status);
	cb_status = status;
}

/* Reaped (into the unclaimed table) before anyone watched it: the watch still gets it, at
 * once, synchronous or with a callback. */
static void test_exit_reaped_before_watch(void **state)
{
	(void)state;
	pid_t a = child_exiting(5), b = child_exiting(6);
	struct reaper_watch wa = { .pid = a }, wb = { .pid = b, .cb = watch_cb };

	assert_true(a > 0 && b > 0);
	assert_true(wait_reaped(a));
	assert_true(wait_reaped(b));
	reaper_watch(&wa);
	assert_true(wa.exited);
	assert_int_equal(wa.status, 5);
	assert_int_equal(reaper_wait(&wa, -1, 0), 5);
	cb_status = -1;
	reaper_watch(&wb);
	assert_int_equal(cb_status, 6);
}

/* Past the deadline the child is SIGKILLed and waited for: -ETIMEDOUT, status 137, and the
 * monotonic clock is past the deadline. */
static void test_wait_deadline_kills(void **state)
{
	(void)state;
	int release;
	pid_t pid = child_blocked(0, &release);
	struct reaper_watch w = { .pid = pid };
	uint64_t deadline;

	assert_true(pid > 0);
	reaper_watch(&w);
	deadline = clock_mono_after_ms(200);
	assert_int_equal(reaper_wait(&w, -1, deadline), -ETIMEDOUT);
	assert_true(clock_mono_ns() >= deadline);
	assert_int_equal(w.status, 137);
	close(release);
}

/* reaper_wait_until: -ETIMEDOUT at the deadline with the watch still registered; the exit
 * then still reaches it. */
static void test_wait_until_keeps_watch(void **state)
{
	(void)state;
	int release;
	pid_t pid = child_blocked(17, &release);
	struct reaper_watch w = { .pid = pid };
	uint64_t until;

	assert_true(pid > 0);
	reaper_watch(&w);
	until = clock_mono_after_ms(100);
	assert_int_equal(reaper_wait_until(&w, until), -ETIMEDOUT);
	assert_true(clock_mono_ns() >= until);
	close(release);
	assert_int_equal(reaper_wait_until(&w, 0), 17);
}

/* The early-exit race of a started container process: exited and reaped before its pid was
 * read. A claim with the start's stamp takes the exit; a claim whose stamp is later than the
 * reap does not (the exit belongs to an earlier process that had the pid) and waits. */
static void test_claim_orders_by_stamp(void **state)
{
	(void)state;
	int status = -1, pidfd = -2;
	uint64_t stamp = reaper_start_begin();
	pid_t pid = child_exiting(11);

	assert_true(pid > 0);
	assert_true(wait_reaped(pid));
	assert_int_equal(reaper_claim_pid(pid, (void *)1, stamp, &status, &pidfd), 1);
	assert_int_equal(status, 11);
	assert_int_equal(pidfd, -1);
	reaper_start_end();

	pid = child_exiting(12);
	assert_true(pid > 0);
	assert_true(wait_reaped(pid));
	stamp = reaper_start_begin(); /* after the reap */
	status = -1;
	assert_int_equal(reaper_claim_pid(pid, (void *)2, stamp, &status, &pidfd), 0);
	assert_int_equal(status, -1);
	reaper_unclaim_pid(pid);
	reaper_start_end();
}

/* CLOCK_REALTIME stepped back an hour between the start and the child's exit: the exit is
 * still the started process's (it was lost when the order came from wall-clock stamps). */
static void test_claim_survives_wall_clock_step(void **state)
{
	(void)state;
	int status = -1, pidfd = -2, release, r;
	uint64_t stamp = reaper_start_begin();
	pid_t pid = child_blocked(23, &release);

	assert_true(pid > 0);
	atomic_store(&realtime_offset_ns, -3600LL * 1000000000LL);
	close(release);
	assert_true(wait_reaped(pid));
	r = reaper_claim_pid(pid, (void *)3, stamp, &status, &pidfd);
	atomic_store(&realtime_offset_ns, 0);
	reaper_start_end();
	assert_int_equal(r, 1);
	assert_int_equal(status, 23);
}

/* A live claimed process: its pidfd comes back and its exit goes to the sink. */
static void test_claim_live_goes_to_sink(void **state)
{
	(void)state;
	int status = -1, pidfd = -1, release;
	uint64_t stamp = reaper_start_begin();
	pid_t pid = child_blocked(31, &release);

	assert_true(pid > 0);
	assert_int_equal(reaper_claim_pid(pid, (void *)4, stamp, &status, &pidfd), 0);
	reaper_start_end();
	assert_true(pidfd >= 0);
	assert_true(fcntl(pidfd, F_GETFD) & FD_CLOEXEC);
	close(release);
	assert_int_equal(sink_wait((void *)4), 31);
	close(pidfd);
}

/* ---- reaper_spawn: the watch is registered before the child can be reaped ---- */

static char *const sh_env[] = { "PATH=/usr/bin:/bin", NULL };

static int spawn_sh(const char *script, struct reaper_watch *w, int *ret_pidfd)
{
	char *const argv[] = { "sh", "-c", (char *)script, NULL };
	int fds[3] = { -1, -1, 2 };
	struct spawn_opts o = {
		.path = "/bin/sh", .argv = argv, .envp = sh_env, .fds = fds, .nfds = 3
	};
	return reaper_spawn(&o, w, ret_pidfd);
}

static atomic_int async_status = -1;
static void async_cb(struct reaper_watch *w, int status)
{
	(void)w;
	atomic_store(&async_status, status);
}

static void test_spawn_watched(void **state)
{
	(void)state;
	struct reaper_watch w = { 0 }, wa = { .cb = async_cb };
	int pidfd = -1;

	/* exits at once: whatever the reaper does meanwhile, the watch gets it */
	assert_int_equal(spawn_sh("exit 3", &w, &pidfd), 0);
	assert_true(w.pid > 0);
	assert_true(pidfd >= 0);
	assert_true(fcntl(pidfd, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(reaper_wait(&w, pidfd, 0), 3);
	close(pidfd);
	for (int i = 0; i < 50; i++) {
		struct reaper_watch wi = { 0 };
		assert_int_equal(spawn_sh("exit 4", &wi, NULL), 0);
		assert_int_equal(reaper_wait(&wi, -1, 0), 4);
	}
	assert_int_equal(spawn_sh("kill -9 $$", &wa, NULL), 0);
	for (int i = 0; i < 60000 && atomic_load(&async_status) < 0; i++)
		pause_ms(1);
	assert_int_equal(atomic_load(&async_status), 137);
}

static void test_spawn_failure_registers_nothing(void **state)
{
	(void)state;
	char *const argv[] = { "nope", NULL };
	struct spawn_opts o = { .path = "/nonexistent/nope", .argv = argv, .envp = sh_env };
	struct reaper_watch w = { 0 };
	int pidfd = -1;

	assert_int_equal(reaper_spawn(&o, &w, &pidfd), -ENOENT);
	assert_int_equal(w.pid, 0);
	assert_int_equal(pidfd, -1);
}

/* reaper_watch_pidfd: a child that died and was reaped before the watch; one that is still
 * running. */
static void test_watch_pidfd(void **state)
{
	(void)state;
	int release;
	pid_t a = child_blocked(44, &release), b;
	int fa = (int)syscall(SYS_pidfd_open, a, 0), fb;
	struct reaper_watch wa = { .pid = a }, wb = { 0 };

	assert_true(fa >= 0);
	close(release); /* before b is forked: b would hold it open */
	assert_true(wait_reaped(a));
	b = child_blocked(45, &release);
	fb = (int)syscall(SYS_pidfd_open, b, 0);
	assert_true(fb >= 0);
	wb.pid = b;
	reaper_watch_pidfd(&wa, fa);
	assert_true(wa.exited);
	assert_int_equal(wa.status, 44);
	reaper_watch_pidfd(&wb, fb);
	assert_false(wb.exited);
	close(release);
	assert_int_equal(reaper_wait(&wb, fb, 0), 45);
	close(fa);
	close(fb);
}

/* ---- in a pid namespace of its own: pid reuse and EMFILE ---- */

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			fprintf(stderr, "test_reaper: line %d: %s\n", __LINE__, #c);               \
			_exit(1);                                                                  \
		}                                                                                  \
	} while (0)

static bool set_last_pid(pid_t last)
{
	char buf[32];
	int fd = open("/proc/sys/kernel/ns_last_pid", O_WRONLY | O_CLOEXEC);
	int n = snprintf(buf, sizeof(buf), "%d", (int)last);
	bool ok = fd >= 0 && write(fd, buf, (size_t)n) == n;
	if (fd >= 0)
		close(fd);
	return ok;
}

/* The reaper holds the exit (status 7) of a process whose pid now belongs to a live child
 * (returned, released through *ret_release, exit code 9). */
static pid_t reuse_pid_of_reaped(int *ret_release)
{
	pid_t old = child_exiting(7), live;
	CHECK(old > 0);
	CHECK(wait_reaped(old));
	CHECK(set_last_pid(old - 1));
	live = child_blocked(9, ret_release);
	if (live != old) {
		fprintf(stderr, "test_reaper: pid %d not reused (got %d)\n", old, live);
		_exit(77);
	}
	return live;
}

/* No fd can be opened any more (the lowest free one is at the limit). */
static void fds_exhaust(struct rlimit *saved)
{
	struct rlimit rl;
	int lowest = fcntl(0, F_DUPFD_CLOEXEC, 0);
	CHECK(lowest >= 0);
	close(lowest);
	CHECK(getrlimit(RLIMIT_NOFILE, saved) == 0);
	rl = *saved;
	rl.rlim_cur = (rlim_t)lowest;
	CHECK(setrlimit(RLIMIT_NOFILE, &rl) == 0);
}

static int emfile_scenario(void)
{
	struct rlimit saved;
	int release, status = -1, pidfd = -2;
	uint64_t stamp;
	pid_t pid;

	CHECK(reaper_start(sink) == 0);

	/* A watch: the unclaimed exit is not its child's while the pid can be signalled. */
	pid = reuse_pid_of_reaped(&release);
	{
		struct reaper_watch w = { .pid = pid };
		fds_exhaust(&saved);
		CHECK(syscall(SYS_pidfd_open, pid, 0) < 0 && errno == EMFILE);
		reaper_watch(&w);
		CHECK(setrlimit(RLIMIT_NOFILE, &saved) == 0);
		CHECK(!w.exited);
		close(release);
		CHECK(reaper_wait(&w, -1, 0) == 9);
	}

	/* A claim: the same, for a container process whose pid was just read. */
	stamp = reaper_start_begin();
	pid = reuse_pid_of_reaped(&release);
	fds_exhaust(&saved);
	CHECK(reaper_claim_pid(pid, (void *)5, stamp, &status, &pidfd) == 0);
	CHECK(setrlimit(RLIMIT_NOFILE, &saved) == 0);
	reaper_start_end();
	CHECK(pidfd == -1);
	CHECK(status == -1);
	close(release);
	CHECK(sink_wait((void *)5) == 9);
	return 0;
}

/* Pid reuse without EMFILE: reaper_spawn gets a pid whose earlier owner's exit (7) is in the
 * unclaimed table, and its watch gets its own exit; reaper_watch_pidfd tells a reaped child
 * from the live process that has its pid now. */
static int reuse_scenario(void)
{
	int release, pidfd;
	pid_t old, live;

	CHECK(reaper_start(sink) == 0);
	old = child_exiting(7);
	CHECK(old > 0);
	CHECK(wait_reaped(old));
	CHECK(set_last_pid(old - 1));
	{
		struct reaper_watch w = { 0 };
		CHECK(spawn_sh("read x; exit 9", &w, NULL) == 0);
		if (w.pid != old)
			_exit(77);
		CHECK(!w.exited);
		CHECK(reaper_wait(&w, -1, 0) == 9);
	}

	old = child_blocked(7, &release);
	CHECK(old > 0);
	pidfd = (int)syscall(SYS_pidfd_open, old, 0);
	CHECK(pidfd >= 0);
	close(release);
	CHECK(wait_reaped(old));
	CHECK(set_last_pid(old - 1));
	live = child_blocked(9, &release);
	if (live != old)
		_exit(77);
	{
		struct reaper_watch w = { .pid = old };
		reaper_watch_pidfd(&w, pidfd);
		CHECK(w.exited);
		CHECK(w.status == 7);
	}
	close(release);
	return 0;
}

/* Runs scenario as pid 1 of a new pid namespace (so that ns_last_pid is ours to set). */
static void in_pid_namespace(int (*scenario)(void))
{
	int st;
	pid_t c = fork();

	assert_true(c >= 0);
	if (c == 0) {
		pid_t g;
		if (unshare(CLONE_NEWPID) < 0)
			_exit(77);
		g = fork();
		if (g == 0)
			_exit(scenario());
		if (g < 0 || waitpid(g, &st, 0) != g)
			_exit(2);
		_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 100 + WTERMSIG(st));
	}
	assert_int_equal(waitpid(c, &st, 0), c);
	assert_true(WIFEXITED(st));
	if (WEXITSTATUS(st) == 77)
		skip(); /* not root (no pid namespace, ns_last_pid not writable), or no reuse */
	assert_int_equal(WEXITSTATUS(st), 0);
}

static void test_emfile_is_not_reaped(void **state)
{
	(void)state;
	in_pid_namespace(emfile_scenario);
}

static void test_reused_pid(void **state)
{
	(void)state;
	in_pid_namespace(reuse_scenario);
}

int main(void)
{
	sigset_t set;
	/* As in the shim: SIGCHLD is blocked in every thread, the reaper reads it from a
	 * signalfd. */
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	/* First, with no reaper thread in this process (forked children start their own). */
	const struct CMUnitTest forked[] = {
		cmocka_unit_test(test_emfile_is_not_reaped),
		cmocka_unit_test(test_reused_pid),
	};
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exit_status_encoding),
		cmocka_unit_test(test_watch_then_exit),
		cmocka_unit_test(test_exit_reaped_before_watch),
		cmocka_unit_test(test_wait_deadline_kills),
		cmocka_unit_test(test_wait_until_keeps_watch),
		cmocka_unit_test(test_claim_orders_by_stamp),
		cmocka_unit_test(test_claim_survives_wall_clock_step),
		cmocka_unit_test(test_claim_live_goes_to_sink),
		cmocka_unit_test(test_spawn_watched),
		cmocka_unit_test(test_spawn_failure_registers_nothing),
		cmocka_unit_test(test_watch_pidfd),
	};
	int r = cmocka_run_group_tests_name("reaper (pid namespace)", forked, NULL, NULL);
	return r | cmocka_run_group_tests_name("reaper", tests, reaper_setup, reaper_teardown);
}
