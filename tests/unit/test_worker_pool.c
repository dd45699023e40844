/* SPDX-License-Identifier: Apache-2.0 */
/*
 * server/worker_pool.c: every task runs once; threads start only when no idle one can take a
 * task, never more than the bound; they leave when idle longer than the pool's idle time; the
 * queue is bounded. Tasks that block on a gate make the pool's state deterministic; waits
 * have no time limit but a watchdog (alarm) for a bug that would hang.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "server/worker_pool.h"

#define WATCHDOG_S 120
#define QUEUE_MAX 4096 /* worker_pool.c's */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static bool gate_open;
static int entered, done;
static _Atomic int runs[8192];

static void reset(void)
{
	pthread_mutex_lock(&mu);
	gate_open = false;
	entered = done = 0;
	pthread_mutex_unlock(&mu);
	for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++)
		atomic_store(&runs[i], 0);
}

/* arg: the task's number. Waits at the gate while it is closed. */
static void task(void *arg)
{
	atomic_fetch_add(&runs[(intptr_t)arg], 1);
	pthread_mutex_lock(&mu);
	entered++;
	pthread_cond_broadcast(&cv);
	while (!gate_open)
		pthread_cond_wait(&cv, &mu);
	done++;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
}

static void open_gate(void)
{
	pthread_mutex_lock(&mu);
	gate_open = true;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
}

static void wait_entered(int n)
{
	pthread_mutex_lock(&mu);
	while (entered < n)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
}

static void wait_done(int n)
{
	pthread_mutex_lock(&mu);
	while (done < n)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void wait_threads(int n)
{
	while (worker_pool_threads() != n)
		sleep_ms(1);
}

static void wait_idle(int n)
{
	while (worker_pool_idle() != n)
		sleep_ms(1);
}

static void submit(intptr_t i)
{
	assert_int_equal(worker_pool_submit(task, (void *)i), 0);
}

/* No thread before the first task; one more per task no idle thread can take, up to the
 * bound; the rest queue and run when a thread is free; all leave when idle. */
static void test_lazy_bounded_and_released(void **state)
{
	(void)state;
	reset();
	assert_int_equal(worker_pool_threads(), 0);
	worker_pool_init(3, 200);
	for (int i = 0; i < 3; i++) {
		submit(i);
		assert_int_equal(worker_pool_threads(), i + 1);
		wait_entered(i + 1); /* busy: the next task needs a new thread */
	}
	submit(3);
	submit(4);
	assert_int_equal(worker_pool_threads(), 3); /* the bound */
	pthread_mutex_lock(&mu);
	assert_int_equal(entered, 3); /* 3 and 4 wait in the queue */
	pthread_mutex_unlock(&mu);
	open_gate();
	wait_done(5);
	for (int i = 0; i < 5; i++)
		assert_int_equal(atomic_load(&runs[i]), 1);
	/* idle for longer than 200 ms: every thread leaves */
	wait_threads(0);
	assert_int_equal(worker_pool_idle(), 0);
}

/* An idle thread takes the next task: no new thread. */
static void test_idle_thread_reused(void **state)
{
	(void)state;
	reset();
	open_gate();
	worker_pool_init(3, 60000);
	assert_int_equal(worker_pool_threads(), 0);
	submit(0);
	wait_done(1);
	wait_idle(1);
	for (int i = 1; i < 20; i++) {
		submit(i);
		wait_done(i + 1);
		wait_idle(1);
		assert_int_equal(worker_pool_threads(), 1);
	}
	for (int i = 0; i < 20; i++)
		assert_int_equal(atomic_load(&runs[i]), 1);
	/* let it go for the next test */
	worker_pool_init(3, 1);
	submit(20); /* wakes it: its next wait is the short one */
	wait_threads(0);
}

/* Many tasks from many threads: each runs exactly once, on at most max threads. */
struct submitter {
	int first, n;
	int refused; /* asserted by the main thread (cmocka's asserts are not thread-safe) */
};

static void *submit_many(void *arg)
{
	struct submitter *s = arg;
	for (int i = s->first; i < s->first + s->n; i++)
		if (worker_pool_submit(task, (void *)(intptr_t)i) < 0)
			s->refused++;
	return NULL;
}

static void test_every_task_runs_once(void **state)
{
	struct submitter s[4];
	pthread_t t[4];
	(void)state;

	reset();
	worker_pool_init(4, 60000);
	open_gate();
	for (int i = 0; i < 4; i++) {
		/* 3600 in all: within the queue bound even if no task ran yet */
		s[i] = (struct submitter){ .first = i * 900, .n = 900 };
		assert_int_equal(pthread_create(&t[i], NULL, submit_many, &s[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(s[i].refused, 0);
	}
	wait_done(3600);
	for (int i = 0; i < 3600; i++)
		assert_int_equal(atomic_load(&runs[i]), 1);
	assert_true(worker_pool_threads() <= 4);
	worker_pool_init(4, 1);
	for (int i = 0; i < 4; i++)
		submit(3600 + i); /* wake them: their next wait is the short one */
	wait_threads(0);
}

/* The queue is bounded: past it, -EAGAIN at once; what was queued still runs. */
static void test_queue_bound(void **state)
{
	(void)state;
	reset();
	worker_pool_init(1, 60000);
	submit(0);
	wait_entered(1); /* the only thread is held: the rest queue */
	for (int i = 1; i <= QUEUE_MAX; i++)
		submit(i);
	assert_int_equal(worker_pool_submit(task, (void *)(intptr_t)(QUEUE_MAX + 1)), -EAGAIN);
	assert_int_equal(worker_pool_threads(), 1);
	open_gate();
	wait_done(QUEUE_MAX + 1);
	for (int i = 0; i <= QUEUE_MAX; i++)
		assert_int_equal(atomic_load(&runs[i]), 1);
	assert_int_equal(atomic_load(&runs[QUEUE_MAX + 1]), 0);
	worker_pool_init(1, 1);
	submit(QUEUE_MAX + 2);
	wait_threads(0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lazy_bounded_and_released),
		cmocka_unit_test(test_idle_thread_reused),
		cmocka_unit_test(test_every_task_runs_once),
		cmocka_unit_test(test_queue_bound),
	};
	alarm(WATCHDOG_S); /* a hang is a failure */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
