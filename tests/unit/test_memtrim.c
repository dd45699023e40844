/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for giving memory back when idle: the loop's idle callback (io/loop.h) and
 * io/memtrim.h (allocator purge, stack pages below the current frame). */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#ifdef CSHIM_JEMALLOC
#include <jemalloc/jemalloc.h>
#endif

#include "io/loop.h"
#include "io/memtrim.h"

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

struct idle_ctx {
	struct loop *l;
	atomic_int idle_calls;
	atomic_int tasks;
};

static void on_idle(void *arg)
{
	struct idle_ctx *c = arg;
	atomic_fetch_add(&c->idle_calls, 1);
}

static void a_task(void *arg)
{
	struct idle_ctx *c = arg;
	atomic_fetch_add(&c->tasks, 1);
}

static void set_idle_task(void *arg)
{
	struct idle_ctx *c = arg;
	loop_set_idle(c->l, 30, on_idle, c);
}

static void *run_loop(void *arg)
{
	struct idle_ctx *c = arg;
	return (void *)(intptr_t)loop_run(c->l);
}

/* Waits up to 10 s (a loaded machine) for *v to reach want. */
static int wait_for(atomic_int *v, int want)
{
	for (int i = 0; i < 1000 && atomic_load(v) < want; i++)
		sleep_ms(10);
	return atomic_load(v);
}

static void test_idle_fires_once_per_quiet_period(void **state)
{
	struct idle_ctx c = { 0 };
	pthread_t t;
	(void)state;

	assert_int_equal(loop_new(&c.l), 0);
	assert_int_equal(pthread_create(&t, NULL, run_loop, &c), 0);
	/* posted, so it runs on the loop thread even if that has not started yet */
	assert_int_equal(loop_post(c.l, set_idle_task, &c), 0);

	/* After activity, one call once the loop is quiet; none after it while it stays quiet. */
	assert_int_equal(wait_for(&c.idle_calls, 1), 1);
	sleep_ms(300); /* ten idle periods */
	assert_int_equal(atomic_load(&c.idle_calls), 1);

	/* New activity re-arms it, once. */
	assert_int_equal(loop_post(c.l, a_task, &c), 0);
	assert_int_equal(wait_for(&c.tasks, 1), 1);
	assert_int_equal(wait_for(&c.idle_calls, 2), 2);
	sleep_ms(300);
	assert_int_equal(atomic_load(&c.idle_calls), 2);

	loop_stop(c.l);
	assert_int_equal(pthread_join(t, NULL), 0);
	loop_free(c.l);
}

static void test_no_idle_without_callback(void **state)
{
	struct idle_ctx c = { 0 };
	pthread_t t;
	(void)state;

	assert_int_equal(loop_new(&c.l), 0);
	assert_int_equal(pthread_create(&t, NULL, run_loop, &c), 0);
	assert_int_equal(loop_post(c.l, a_task, &c), 0);
	assert_int_equal(wait_for(&c.tasks, 1), 1);
	sleep_ms(100);
	assert_int_equal(atomic_load(&c.idle_calls), 0);
	loop_stop(c.l);
	assert_int_equal(pthread_join(t, NULL), 0);
	loop_free(c.l);
}

/* Pages of [lo, lo + len) that are resident. */
static size_t resident_pages(uintptr_t lo, size_t len)
{
	size_t n = len / 4096, count = 0;
	unsigned char *v = calloc(n, 1);
	assert_non_null(v);
	assert_int_equal(mincore((void *)lo, len, v), 0);
	for (size_t i = 0; i < n; i++)
		count += v[i] & 1;
	free(v);
	return count;
}

#define DEEP (512 * 1024)
#define TOP (64 * 1024) /* near the frames still in use (sanitizers make them big) */

static __attribute__((noinline)) uintptr_t dirty_deep(void)
{
	volatile char buf[DEEP];
	for (size_t i = 0; i < sizeof(buf); i += 1024)
		buf[i] = (char)i;
	return (uintptr_t)&buf[0];
}

struct stack_result {
	size_t before, after;
};

static void *stack_thread(void *arg)
{
	struct stack_result *r = arg;
	uintptr_t lo;

	memtrim_stack_init();
	lo = dirty_deep() & ~(uintptr_t)4095;
	/* the deep frame's pages, all but its top (near this frame) */
	r->before = resident_pages(lo, DEEP - TOP);
	memtrim_stack();
	r->after = resident_pages(lo, DEEP - TOP);
	return NULL;
}

static void test_stack_pages_below_frame_go_back(void **state)
{
	struct stack_result r = { 0 };
	pthread_attr_t a;
	pthread_t t;
	(void)state;

	assert_int_equal(pthread_attr_init(&a), 0);
	assert_int_equal(pthread_attr_setstacksize(&a, 4 * 1024 * 1024), 0);
	assert_int_equal(pthread_create(&t, &a, stack_thread, &r), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	pthread_attr_destroy(&a);
	assert_true(r.before >= (DEEP - TOP) / 4096 - 1);
	assert_int_equal(r.after, 0);
}

#ifdef CSHIM_JEMALLOC
static size_t arena_stat(const char *name)
{
	uint64_t epoch = 1;
	size_t sz = sizeof(epoch), v = 0;
	assert_int_equal(mallctl("epoch", &epoch, &sz, &epoch, sz), 0);
	sz = sizeof(v);
	assert_int_equal(mallctl(name, &v, &sz, NULL, 0), 0);
	return v;
}

static ssize_t opt_ssize(const char *name)
{
	ssize_t v = -1;
	size_t sz = sizeof(v);
	assert_int_equal(mallctl(name, &v, &sz, NULL, 0), 0);
	return v;
}

static size_t opt_size(const char *name)
{
	size_t v = 0, sz = sizeof(v);
	assert_int_equal(mallctl(name, &v, &sz, NULL, 0), 0);
	return v;
}

/* Linking io/memtrim.c brings the shim's malloc_conf along. */
static void test_allocator_configuration(void **state)
{
	(void)state;
	assert_int_equal(opt_ssize("opt.dirty_decay_ms"), 0);
	assert_int_equal(opt_ssize("opt.muzzy_decay_ms"), 0);
	assert_int_equal(opt_size("opt.tcache_max"), 4096);
	unsigned nslots = 0;
	size_t sz = sizeof(nslots);
	assert_int_equal(mallctl("opt.tcache_nslots_small_max", &nslots, &sz, NULL, 0), 0);
	assert_int_equal(nslots, 16);
}
#endif

static void test_memtrim_returns_freed_pages(void **state)
{
	enum { N = 4000 };
	void **v = calloc(N, sizeof(*v));
	(void)state;

	assert_non_null(v);
	for (int i = 0; i < N; i++) {
		/* every size class the thread cache keeps (8 B .. 4 KiB), and a few it does not */
		v[i] = malloc(8 + (size_t)(i % 90) * 64);
		assert_non_null(v[i]);
		memset(v[i], 1, 8);
	}
	for (int i = 0; i < N; i++)
		free(v[i]);
	free(v);
#ifdef CSHIM_JEMALLOC
	/* the cache holds freed objects of ~30 classes, each pinning its slab */
	assert_true(arena_stat("stats.arenas.4096.tcache_bytes") > 16 * 4096);
	memtrim();
	/* all that is left in it is the one 1 KiB object memtrim itself cycles through */
	assert_true(arena_stat("stats.arenas.4096.tcache_bytes") <= 1024);
	/* and the slabs it pinned went back to the kernel, not into a dirty pool */
	assert_int_equal(arena_stat("stats.arenas.4096.pdirty"), 0);
#else
	memtrim(); /* glibc: malloc_trim; nothing to observe portably */
#endif
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_idle_fires_once_per_quiet_period),
		cmocka_unit_test(test_no_idle_without_callback),
		cmocka_unit_test(test_stack_pages_below_frame_go_back),
#ifdef CSHIM_JEMALLOC
		cmocka_unit_test(test_allocator_configuration),
#endif
		cmocka_unit_test(test_memtrim_returns_freed_pages),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
