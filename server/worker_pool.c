/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <urcu/urcu-memb.h>

#include "io/base.h"
#include "io/clock.h"
#include "io/memtrim.h"
#include "io/slice.h"
#include "worker_pool.h"

#define QUEUE_MAX 4096
#define STACK_SIZE (256 * 1024)

struct job {
	struct job *next;
	void (*fn)(void *);
	void *arg;
};

static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct job *head, *tail;
	int queued;
	int threads, idle, max, idle_ms;
	int cv_err;                        /* clock_cond_init's result */
} P = { .mu = PTHREAD_MUTEX_INITIALIZER }; /* cv: monotonic, made by worker_pool_init */

static void pool_cv_init(void)
{
	P.cv_err = clock_cond_init(&P.cv);
}

int thread_defaults_init(void)
{
	pthread_attr_t attr;
	int r;

#ifdef __SANITIZE_THREAD__
	/* ThreadSanitizer keeps its per-thread state in static TLS, which glibc carves out of
	 * the thread's stack: on 256 KiB a thread created without attributes (liburcu's) fails
	 * with EINVAL. TSan enlarges the stacks it is asked for, not the default: keep glibc's. */
	return 0;
#endif
	pthread_attr_init(&attr);
	r = pthread_attr_setstacksize(&attr, STACK_SIZE);
	if (r == 0)
		r = pthread_setattr_default_np(&attr);
	pthread_attr_destroy(&attr);
	return -r;
}

int thread_start(const char *name, void *(*fn)(void *), void *arg)
{
	pthread_attr_t attr;
	sigset_t all, old;
	pthread_t t;
	int r;

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, STACK_SIZE);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	r = pthread_create(&t, &attr, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (r)
		return -r;
	pthread_setname_np(t, name);
	return 0;
}

static void *worker_main(void *arg)
{
	(void)arg;
	slice_reset(); /* workers run runtimes and wait: the default slice (io/slice.h) */
	urcu_memb_register_thread();
	memtrim_stack_init();
	pthread_mutex_lock(&P.mu);
	for (;;) {
		struct job *j;
		while (!P.head) {
			int r;
			P.idle++;
			r = clock_cond_timedwait(&P.cv, &P.mu, clock_mono_after_ms(P.idle_ms));
			P.idle--;
			if (r == -ETIMEDOUT && !P.head)
				goto out;
		}
		j = P.head;
		P.head = j->next;
		if (!P.head)
			P.tail = NULL;
		P.queued--;
		pthread_mutex_unlock(&P.mu);
		j->fn(j->arg);
		free(j);
		pthread_mutex_lock(&P.mu);
	}
out:
	P.threads--;
	pthread_mutex_unlock(&P.mu);
	urcu_memb_unregister_thread();
	memtrim_thread_exit(); /* the pages this worker's requests freed go back */
	memtrim_stack();       /* glibc keeps this stack for the next thread: keep it clean */
	return NULL;
}

int worker_pool_init(int max_threads, int idle_ms)
{
	/* The idle timeout is measured on the monotonic clock: a wall-clock step neither ends
	 * every idle worker at once nor keeps them for hours. Made once: the tests call init
	 * again to change the knobs while workers wait on it. */
	static pthread_once_t cv_once = PTHREAD_ONCE_INIT;
	pthread_once(&cv_once, pool_cv_init);
	if (P.cv_err < 0)
		return P.cv_err;
	/* under the lock: the tests change the knobs while workers wait */
	pthread_mutex_lock(&P.mu);
	P.max = max_threads;
	P.idle_ms = idle_ms;
	pthread_mutex_unlock(&P.mu);
	return 0;
}

int worker_pool_submit(void (*fn)(void *), void *arg)
{
	struct job *j = malloc(sizeof(*j));
	bool spawn = false;

	if (!j)
		return -ENOMEM;
	j->next = NULL;
	j->fn = fn;
	j->arg = arg;
	pthread_mutex_lock(&P.mu);
	if (P.queued >= QUEUE_MAX) {
		pthread_mutex_unlock(&P.mu);
		free(j);
		return -EAGAIN;
	}
	if (P.tail)
		P.tail->next = j;
	else
		P.head = j;
	P.tail = j;
	P.queued++;
	/* Grow only when nobody idle can take it. */
	if (P.idle < P.queued && P.threads < P.max) {
		P.threads++;
		spawn = true;
	}
	pthread_cond_signal(&P.cv);
	pthread_mutex_unlock(&P.mu);
	if (spawn && thread_start("shim-worker", worker_main, NULL) < 0) {
		pthread_mutex_lock(&P.mu);
		P.threads--;
		pthread_mutex_unlock(&P.mu);
		/* The job stays queued: an existing worker, or the next one started, runs it. */
	}
	return 0;
}

int worker_pool_threads(void)
{
	int n;
	pthread_mutex_lock(&P.mu);
	n = P.threads;
	pthread_mutex_unlock(&P.mu);
	return n;
}

int worker_pool_idle(void)
{
	int n;
	pthread_mutex_lock(&P.mu);
	n = P.idle;
	pthread_mutex_unlock(&P.mu);
	return n;
}
