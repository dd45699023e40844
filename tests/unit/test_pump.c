/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for io/pump.h's waits (pump_wait_done, what Delete's 2 s output wait uses): with
 * the pump not finished it waits until its deadline, on the monotonic clock; it returns true as
 * soon as the pump reached EOF, which happens only once the writer end is closed. Pipes and a
 * loop thread; no root. Ordering only, no wall-clock upper bound. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "io/clock.h"
#include "io/loop.h"
#include "io/pump.h"

struct fixture {
	struct loop *l;
	pthread_t loop_thread;
	int in[2];  /* the test writes in[1]; the pump reads in[0] */
	int out[2]; /* the pump writes out[1]; the test reads out[0] */
	struct pump *p;
	atomic_bool ended; /* on_end ran */
};

static void *run_loop(void *arg)
{
	struct fixture *f = arg;
	return (void *)(intptr_t)loop_run(f->l);
}

static void on_end(void *arg, bool eof)
{
	struct fixture *f = arg;
	assert_true(eof);
	atomic_store(&f->ended, true);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	assert_int_equal(loop_new(&f->l), 0);
	assert_int_equal(pthread_create(&f->loop_thread, NULL, run_loop, f), 0);
	assert_int_equal(pipe2(f->in, O_CLOEXEC | O_NONBLOCK), 0);
	assert_int_equal(pipe2(f->out, O_CLOEXEC | O_NONBLOCK), 0);
	assert_int_equal(pump_start(f->l, f->in[0], f->out[1], 0, "test", on_end, f, &f->p), 0);
	*state = f;
	return 0;
}

static void noop(void *arg)
{
	(void)arg;
}

static void stop_loop(void *l)
{
	loop_stop(l);
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	void *rv;
	if (f->in[1] >= 0)
		close(f->in[1]);
	pump_close(f->p); /* drops our reference (the pump may have ended already) */
	/* Stopped by a posted task, after the one pump_close posted: it frees the pump. */
	assert_int_equal(loop_post(f->l, stop_loop, f->l), 0);
	pthread_join(f->loop_thread, &rv);
	loop_free(f->l);
	close(f->out[0]);
	free(f);
	return 0;
}

/* The writer is held open: the pump cannot finish, so the wait must last until its deadline
 * and report false; the monotonic clock is then past the deadline. (It returned at once when
 * the deadline was taken on CLOCK_MONOTONIC and the condvar waited on CLOCK_REALTIME.) */
static void test_wait_lasts_until_deadline(void **state)
{
	struct fixture *f = *state;
	uint64_t deadline = clock_mono_after_ms(300);

	assert_int_equal(write(f->in[1], "abc", 3), 3);
	assert_false(pump_wait_done(f->p, 300));
	assert_true(clock_mono_ns() >= deadline);
	assert_false(pump_is_done(f->p));
	assert_false(atomic_load(&f->ended));
}

struct closer {
	struct fixture *f;
	atomic_bool closed;
};

static void *close_writer_later(void *arg)
{
	struct closer *c = arg;
	struct timespec ts = { 0, 200 * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
	assert_int_equal(write(c->f->in[1], "tail", 4), 4);
	atomic_store(&c->closed, true); /* before the close: the wait cannot end earlier */
	close(c->f->in[1]);
	return NULL;
}

/* A long deadline and a writer that closes later: the wait returns true, only after the close,
 * and everything written came through. */
static void test_wait_returns_when_pump_ends(void **state)
{
	struct fixture *f = *state;
	struct closer c = { .f = f };
	pthread_t t;
	char buf[64];
	ssize_t n;

	assert_int_equal(write(f->in[1], "head-", 5), 5);
	assert_int_equal(pthread_create(&t, NULL, close_writer_later, &c), 0);
	assert_true(pump_wait_done(f->p, 120000));
	assert_true(atomic_load(&c.closed));
	assert_true(pump_is_done(f->p));
	pthread_join(t, NULL);
	f->in[1] = -1;
	/* on_end runs on the loop thread just after the waiters are woken: a task posted now
	 * runs after it (after the batch that ended the pump) */
	assert_int_equal(loop_call(f->l, noop, NULL), 0);
	assert_true(atomic_load(&f->ended));
	n = read(f->out[0], buf, sizeof(buf));
	assert_int_equal(n, 9);
	assert_memory_equal(buf, "head-tail", 9);
	/* dst was closed at src EOF: the reader sees EOF */
	assert_int_equal(read(f->out[0], buf, sizeof(buf)), 0);
}

/* Already finished: a wait with a deadline in the past still says true. */
static void test_wait_after_end(void **state)
{
	struct fixture *f = *state;
	close(f->in[1]);
	f->in[1] = -1;
	assert_true(pump_wait_done(f->p, 120000));
	assert_true(pump_wait_done(f->p, 0));
}

/* The clock helper: a monotonic condvar times out at a monotonic deadline, not before. */
static void test_clock_cond_deadline(void **state)
{
	(void)state;
	pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	pthread_cond_t cv;
	uint64_t deadline;
	int r;

	assert_int_equal(clock_cond_init(&cv), 0);
	pthread_mutex_lock(&mu);
	deadline = clock_mono_after_ms(100);
	do
		r = clock_cond_timedwait(&cv, &mu, deadline);
	while (r == 0);
	pthread_mutex_unlock(&mu);
	assert_int_equal(r, -ETIMEDOUT);
	assert_true(clock_mono_ns() >= deadline);
	struct timespec ts = clock_mono_timespec(3 * CLOCK_NS_PER_SEC + 5);
	assert_int_equal(ts.tv_sec, 3);
	assert_int_equal(ts.tv_nsec, 5);
	pthread_cond_destroy(&cv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_wait_lasts_until_deadline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wait_returns_when_pump_ends, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wait_after_end, setup, teardown),
		cmocka_unit_test(test_clock_cond_deadline),
	};
	return cmocka_run_group_tests_name("pump", tests, NULL, NULL);
}
