/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the loop's adaptive spin (io/loop.h, loop_set_spin): a client that answers at
 * once finds the loop polling; one that waits longer than the spin never makes it spin; one
 * whose gaps are just too long for it makes it spin rarely (back-off); two clients taking turns
 * never make it spin; spin 0 never spins.
 * The "client" is a thread writing one byte to a pipe the loop watches; the loop answers by
 * writing one byte back. No ratio of hits is asserted (it depends on the machine's load). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "io/loop.h"

#define SPIN_NS 50000ULL

struct pp;

struct req_watch {
	struct loop_watch w; /* first: the loop hands back &w */
	struct pp *p;
};

struct pp {
	struct loop *l;
	struct req_watch w, w2;
	int req[2], req2[2], resp[2];
	bool two; /* requests alternate between req and req2: two clients taking turns */
	int rounds;
	long pause_us; /* the client's pause before each request (and before the end) */
	struct loop_spin_stats stats;
	pthread_t loop_thread;
};

static void on_request(struct loop_watch *w, uint32_t revents)
{
	struct pp *p = ((struct req_watch *)w)->p;
	char b;
	(void)revents;
	if (read(w->fd, &b, 1) == 1)
		assert_int_equal(write(p->resp[1], &b, 1), 1);
}

static void *run_loop(void *arg)
{
	struct pp *p = arg;
	return (void *)(intptr_t)loop_run(p->l);
}

static void take_stats(void *arg)
{
	struct pp *p = arg;
	p->stats = loop_spin_stats(p->l);
}

static void pause_us(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Runs the client for p->rounds round trips against a loop with the given spin; the loop's
 * spin statistics end in p->stats. */
static void run(struct pp *p, uint64_t spin_ns)
{
	assert_int_equal(loop_new(&p->l), 0);
	assert_int_equal(pipe2(p->req, O_CLOEXEC), 0);
	assert_int_equal(pipe2(p->req2, O_CLOEXEC), 0);
	assert_int_equal(pipe2(p->resp, O_CLOEXEC), 0);
	p->w = (struct req_watch){ .w = { .fd = p->req[0], .cb = on_request }, .p = p };
	p->w2 = (struct req_watch){ .w = { .fd = p->req2[0], .cb = on_request }, .p = p };
	assert_int_equal(loop_add(p->l, &p->w.w, EPOLLIN), 0);
	assert_int_equal(loop_add(p->l, &p->w2.w, EPOLLIN), 0);
	loop_set_spin(p->l, spin_ns);
	assert_int_equal(pthread_create(&p->loop_thread, NULL, run_loop, p), 0);
	for (int i = 0; i < p->rounds; i++) {
		char b = (char)i, r = 0;
		if (p->pause_us)
			pause_us(p->pause_us);
		assert_int_equal(write(p->two && i % 2 ? p->req2[1] : p->req[1], &b, 1), 1);
		assert_int_equal(read(p->resp[0], &r, 1), 1);
		assert_int_equal(r, b);
	}
	if (p->pause_us)
		pause_us(p->pause_us);
	assert_int_equal(loop_call(p->l, take_stats, p), 0);
	print_message("pause %ld us%s: %llu hits, %llu misses in %d round trips\n", p->pause_us,
		      p->two ? ", two clients" : "", (unsigned long long)p->stats.hits,
		      (unsigned long long)p->stats.misses, p->rounds);
	loop_stop(p->l);
	assert_int_equal(pthread_join(p->loop_thread, NULL), 0);
	loop_free(p->l);
	for (int i = 0; i < 2; i++) {
		close(p->req[i]);
		close(p->req2[i]);
		close(p->resp[i]);
	}
}

static void test_closed_loop_client_finds_the_loop_polling(void **state)
{
	struct pp p = { .rounds = 4000 };
	(void)state;
	run(&p, SPIN_NS);
	/* The first waits block (no short gap seen yet); then requests arrive while the loop
	 * polls. How many depends on the machine's load (a preempted client turns a hit into a
	 * miss), so the check is the behaviour, not a ratio: in a closed loop the loop is seen
	 * polling (hits), which the cases below never see. */
	assert_true(p.stats.hits > 0);
}

static void test_slow_client_never_makes_it_spin(void **state)
{
	struct pp p = { .rounds = 100, .pause_us = 2000 };
	(void)state;
	run(&p, SPIN_NS);
	/* 2 ms gaps are more than SPIN_GAP_FACTOR spins long: no spin (the first request and
	 * the loop_call that reads the statistics come after 2 ms as well). On a busy machine
	 * the loop thread may be preempted between a batch and its wait, so that the next
	 * request seems to follow at once: a spin now and then, never one a request. */
	assert_true(p.stats.hits + p.stats.misses <= (uint64_t)p.rounds / 10);
}

static void test_gaps_just_too_long_back_off(void **state)
{
	struct pp p = { .rounds = 600, .pause_us = 120 };
	(void)state;
	run(&p, SPIN_NS);
	/* Each miss doubles the waits without a spin (up to 64): a handful of misses, not one a
	 * request. Hits (a gap that came out short) restart the back-off, so both are bounded
	 * together. */
	assert_true(p.stats.misses <= (uint64_t)p.rounds / 8);
}

static void test_clients_taking_turns_never_make_it_spin(void **state)
{
	struct pp p = { .rounds = 2000, .two = true };
	(void)state;
	run(&p, SPIN_NS);
	/* Every batch is one event, but never twice on the same watch: several clients, each
	 * waiting for its turn, gain nothing from a spin and pay its CPU. */
	assert_int_equal(p.stats.hits + p.stats.misses, 0);
}

static void test_spin_off_never_spins(void **state)
{
	struct pp p = { .rounds = 2000 };
	(void)state;
	run(&p, 0);
	assert_int_equal(p.stats.hits + p.stats.misses, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_closed_loop_client_finds_the_loop_polling),
		cmocka_unit_test(test_slow_client_never_makes_it_spin),
		cmocka_unit_test(test_gaps_just_too_long_back_off),
		cmocka_unit_test(test_clients_taking_turns_never_make_it_spin),
		cmocka_unit_test(test_spin_off_never_spins),
	};
	return cmocka_run_group_tests_name("loop spin", tests, NULL, NULL);
}
