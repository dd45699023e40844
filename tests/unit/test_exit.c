/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for core/exit.c with two containers in one shim: the reaper, the loop thread and
 * the exit sink run as in the shim; the containers share a pid namespace (kill --all first,
 * run here by `true` as the runtime) and their processes are forked children.
 *
 * - an init's exit is held behind the execs of its own container only: the init of B exits
 *   while an exec of A is still running, and its exit is reported at once, not after the
 *   hold's 2 s timeout (which logs "exec(s) still running");
 * - an init's exit still waits for its own container's exec: C's exec exits first.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/container_priv.h"
#include "core/reaper.h"
#include "io/fd_util.h"
#include "io/log.h"
#include "io/loop.h"

static char dir[] = "/tmp/cshim-exit-XXXXXX";
static char logpath[128];
static int logfd = -1;
static struct loop *loop;
static pthread_t loop_thread;

/* The exits the sink got, in order. */
#define MAX_EV 16
static struct {
	char cid[32], id[32];
	uint32_t status;
} ev[MAX_EV];
static int n_ev;
static pthread_mutex_t ev_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ev_cv = PTHREAD_COND_INITIALIZER;

static void sink(const char *container_id, const char *id, uint32_t pid, uint32_t exit_status,
		 const struct timespec *exited_at, void (*done)(void *), void *arg)
{
	(void)pid;
	(void)exited_at;
	pthread_mutex_lock(&ev_mu);
	if (n_ev < MAX_EV) {
		snprintf(ev[n_ev].cid, sizeof(ev[n_ev].cid), "%s", container_id);
		snprintf(ev[n_ev].id, sizeof(ev[n_ev].id), "%s", id);
		ev[n_ev].status = exit_status;
		n_ev++;
	}
	pthread_cond_broadcast(&ev_cv);
	pthread_mutex_unlock(&ev_mu);
	if (done)
		done(arg);
}

/* Waits (without a deadline: the exits must come) for the sink's n-th exit. */
static void wait_events(int n)
{
	pthread_mutex_lock(&ev_mu);
	while (n_ev < n)
		pthread_cond_wait(&ev_cv, &ev_mu);
	pthread_mutex_unlock(&ev_mu);
}

static void *loop_main(void *arg)
{
	(void)arg;
	urcu_memb_register_thread();
	loop_run(loop);
	urcu_memb_unregister_thread();
	return NULL;
}

/* A child that exits with code once its pipe is closed (*ret_release: the write end). */
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

/* A container sharing the host's pid namespace, with `true` as its runtime. */
static struct container *container(const char *id)
{
	struct container *c = container_new(id, dir);
	assert_non_null(c);
	assert_int_equal(runtime_init(&c->rt, "true", dir, "ns", dir, NULL, false), 0);
	c->own_pidns = false;
	assert_int_equal(container_table_add(c, false), 0);
	return c;
}

static struct proc *process(struct container *c, const char *id, bool init)
{
	struct proc *p = proc_new(id, init, NULL, NULL, NULL, false);
	assert_non_null(p);
	proc_set_container(p, c);
	assert_int_equal(proc_table_add(p), 0);
	return p;
}

/* Starts a blocked child for p and claims it, as a launch does. */
static int start(struct proc *p, int code)
{
	int release = -1;
	uint64_t t0 = reaper_start_begin();
	pid_t pid = child_blocked(code, &release);
	assert_true(pid > 0);
	exit_claim(p, (uint32_t)pid, t0);
	reaper_start_end();
	return release;
}

static bool log_has(const char *text)
{
	char *buf = NULL;
	size_t len = 0;
	bool found;
	assert_int_equal(fd_read_file(logpath, 1 << 20, &buf, &len), 0);
	found = buf && strstr(buf, text);
	free(buf);
	return found;
}

static void test_init_held_by_own_execs_only(void **state)
{
	(void)state;
	struct container *a = container("cA"), *b = container("cB"), *c = container("cC");
	struct proc *ea = process(a, "e1", false);
	struct proc *ib = process(b, "cB", true);
	struct proc *ic = process(c, "cC", true);
	struct proc *ec = process(c, "e1", false);
	int rel_ea = start(ea, 3), rel_ib = start(ib, 7);

	/* B's init exits while A's exec runs: B has no exec, its exit is not held */
	close(rel_ib);
	wait_events(1);
	assert_string_equal(ev[0].cid, "cB");
	assert_string_equal(ev[0].id, "cB");
	assert_int_equal(ev[0].status, 7);

	/* C's init exits while C's own exec runs: held until that exec's exit is through */
	int rel_ic = start(ic, 9), rel_ec = start(ec, 5);
	close(rel_ic);
	close(rel_ec);
	wait_events(3);
	assert_string_equal(ev[1].cid, "cC");
	assert_string_equal(ev[1].id, "e1");
	assert_int_equal(ev[1].status, 5);
	assert_string_equal(ev[2].cid, "cC");
	assert_string_equal(ev[2].id, "cC");
	assert_int_equal(ev[2].status, 9);

	/* A's exec, still running all along, last */
	close(rel_ea);
	wait_events(4);
	assert_string_equal(ev[3].cid, "cA");
	assert_string_equal(ev[3].id, "e1");
	assert_int_equal(ev[3].status, 3);

	/* no init exit waited for the hold's timeout */
	assert_false(log_has("still running"));

	struct proc *all[] = { ea, ib, ic, ec };
	for (size_t i = 0; i < 4; i++) {
		proc_table_remove(all[i]);
		proc_unref(all[i]);
	}
	container_table_remove(a);
	container_table_remove(b);
	container_table_remove(c);
	container_unref(a);
	container_unref(b);
	container_unref(c);
}

static int group_setup(void **state)
{
	struct shim_config cfg = { .ns = "ns", .workdir = dir, .runtime_root = dir, .bundle = dir };
	sigset_t set;
	(void)state;

	if (!mkdtemp(dir))
		return -1;
	snprintf(logpath, sizeof(logpath), "%s/log", dir);
	logfd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (logfd < 0)
		return -1;
	log_set_fd(logfd);
	/* as the shim does: SIGCHLD only through the reaper's signalfd */
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	urcu_memb_register_thread();
	if (loop_new(&loop) < 0 || container_setup(&cfg, loop, sink) < 0 ||
	    container_reaper_start() < 0)
		return -1;
	return pthread_create(&loop_thread, NULL, loop_main, NULL) == 0 ? 0 : -1;
}

static int group_teardown(void **state)
{
	char cmd[128];
	(void)state;
	loop_stop(loop);
	pthread_join(loop_thread, NULL);
	reaper_stop();
	urcu_memb_barrier();
	urcu_memb_unregister_thread();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_held_by_own_execs_only),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
