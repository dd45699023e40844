/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "base.h"
#include "clock.h"
#include "loop.h"

struct loop_task {
	struct loop_task *next;
	void (*fn)(void *);
	void *arg;
};

struct loop {
	int epfd;
	struct loop_watch wake;
	pthread_mutex_t mu;
	struct loop_task *posted_head, **posted_tail;
	struct loop_task *deferred_head, **deferred_tail;
	pthread_t thread;
	atomic_bool running;
	atomic_bool have_thread;
	int idle_ms;
	bool busy; /* something ran since the idle callback last did */
	void (*idle_fn)(void *);
	void *idle_arg;
	uint64_t spin_ns;  /* loop_set_spin; 0: never */
	uint64_t last_gap; /* from the end of the last batch to the next event */
	unsigned spin_backoff, spin_skip;
	bool spin_hold;   /* loop_spin_hold: the next wait does not spin */
	void *last_watch; /* the watch of the last batch, when it had one event */
	bool spin_same;   /* the last two batches: one event each, on the same watch */
	struct loop_spin_stats spin;
};

static void loop_wake_cb(struct loop_watch *w, uint32_t revents)
{
	uint64_t v;
	(void)revents;
	(void)!read(w->fd, &v, sizeof(v));
}

int loop_new(struct loop **ret)
{
	struct loop *l = calloc(1, sizeof(*l));
	int r;

	if (!l)
		return -ENOMEM;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		r = -errno;
		free(l);
		return r;
	}
	l->wake.fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (l->wake.fd < 0) {
		r = -errno;
		close(l->epfd);
		free(l);
		return r;
	}
	l->wake.cb = loop_wake_cb;
	pthread_mutex_init(&l->mu, NULL);
	l->posted_tail = &l->posted_head;
	l->deferred_tail = &l->deferred_head;
	r = loop_add(l, &l->wake, EPOLLIN);
	if (r < 0) {
		loop_free(l);
		return r;
	}
	*ret = l;
	return 0;
}

void loop_free(struct loop *l)
{
	if (!l)
		return;
	close(l->wake.fd);
	close(l->epfd);
	pthread_mutex_destroy(&l->mu);
	free(l);
}

int loop_add(struct loop *l, struct loop_watch *w, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };
	w->dead = false;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, w->fd, &ev) < 0)
		return -errno;
	return 0;
}

int loop_mod(struct loop *l, struct loop_watch *w, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };
	if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, w->fd, &ev) < 0)
		return -errno;
	return 0;
}

int loop_del(struct loop *l, struct loop_watch *w)
{
	w->dead = true;
	if (epoll_ctl(l->epfd, EPOLL_CTL_DEL, w->fd, NULL) < 0)
		return -errno;
	return 0;
}

static int queue_task(struct loop_task ***tail, void (*fn)(void *), void *arg)
{
	struct loop_task *t = malloc(sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->next = NULL;
	t->fn = fn;
	t->arg = arg;
	**tail = t;
	*tail = &t->next;
	return 0;
}

int loop_defer(struct loop *l, void (*fn)(void *), void *arg)
{
	return queue_task(&l->deferred_tail, fn, arg);
}

int loop_post(struct loop *l, void (*fn)(void *), void *arg)
{
	uint64_t one = 1;
	int r;

	pthread_mutex_lock(&l->mu);
	r = queue_task(&l->posted_tail, fn, arg);
	pthread_mutex_unlock(&l->mu);
	if (r < 0)
		return r;
	(void)!write(l->wake.fd, &one, sizeof(one));
	return 0;
}

struct loop_call_ctx {
	void (*fn)(void *);
	void *arg;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool done;
};

static void loop_call_trampoline(void *p)
{
	struct loop_call_ctx *c = p;
	c->fn(c->arg);
	pthread_mutex_lock(&c->mu);
	c->done = true;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

int loop_call(struct loop *l, void (*fn)(void *), void *arg)
{
	struct loop_call_ctx c = { .fn = fn, .arg = arg };
	int r;

	if (loop_is_loop_thread(l) || !atomic_load(&l->running)) {
		fn(arg);
		return 0;
	}
	pthread_mutex_init(&c.mu, NULL);
	pthread_cond_init(&c.cv, NULL);
	r = loop_post(l, loop_call_trampoline, &c);
	if (r == 0) {
		pthread_mutex_lock(&c.mu);
		while (!c.done)
			pthread_cond_wait(&c.cv, &c.mu);
		pthread_mutex_unlock(&c.mu);
	}
	pthread_cond_destroy(&c.cv);
	pthread_mutex_destroy(&c.mu);
	return r;
}

bool loop_is_loop_thread(struct loop *l)
{
	return atomic_load(&l->have_thread) && pthread_equal(l->thread, pthread_self());
}

static void run_list(struct loop_task *t)
{
	while (t) {
		struct loop_task *next = t->next;
		t->fn(t->arg);
		free(t);
		t = next;
	}
}

void loop_set_idle(struct loop *l, int ms, void (*fn)(void *), void *arg)
{
	l->idle_ms = ms;
	l->idle_fn = fn;
	l->idle_arg = arg;
	l->busy = true;
}

void loop_set_spin(struct loop *l, uint64_t ns)
{
	l->spin_ns = ns;
	l->last_gap = UINT64_MAX;
}

void loop_spin_hold(struct loop *l)
{
	l->spin_hold = true;
}

struct loop_spin_stats loop_spin_stats(struct loop *l)
{
	return l->spin;
}

/* A gap this many spin periods long still counts as short when it was measured across a
 * blocking wait (it then includes this thread's own wake-up, tens of microseconds here). */
#define SPIN_GAP_FACTOR 4
/* After a spin that found nothing, that many waits (doubling, up to this) do not spin. */
#define SPIN_BACKOFF_MAX 64

/* The next events. After the second of two one-event batches on the same watch, when the last
 * gap to the next event was short (the peer answers in microseconds: a client calling in a
 * loop), they are polled for up to spin_ns, the CPU given to anything runnable here between
 * polls; otherwise, and when the spin finds nothing, a blocking wait. A spin that finds
 * nothing is not tried again for a while (doubling up to SPIN_BACKOFF_MAX waits), so a peer
 * whose gaps are just too long for it does not make the loop spin after every request. */
static int loop_wait(struct loop *l, struct epoll_event *evs, int max)
{
	int timeout = l->idle_fn && l->busy ? l->idle_ms : -1;
	uint64_t t0;
	int n;

	if (!l->spin_ns)
		return epoll_wait(l->epfd, evs, max, timeout);
	t0 = clock_mono_ns();
	if (l->spin_hold) {
		l->spin_hold = false;
	} else if (l->spin_skip) {
		l->spin_skip--;
	} else if (l->spin_same && l->last_gap <= SPIN_GAP_FACTOR * l->spin_ns) {
		do {
			n = epoll_wait(l->epfd, evs, max, 0);
			if (n > 0) {
				l->spin.hits++;
				l->spin_backoff = 0;
				l->last_gap = clock_mono_ns() - t0;
			}
			if (n != 0)
				return n;
			sched_yield();
		} while (clock_mono_ns() - t0 < l->spin_ns);
		l->spin.misses++;
		l->spin_backoff = l->spin_backoff ? l->spin_backoff * 2 : 1;
		if (l->spin_backoff > SPIN_BACKOFF_MAX)
			l->spin_backoff = SPIN_BACKOFF_MAX;
		l->spin_skip = l->spin_backoff;
	}
	n = epoll_wait(l->epfd, evs, max, timeout);
	if (n >= 0)
		l->last_gap = n > 0 ? clock_mono_ns() - t0 : UINT64_MAX;
	return n;
}

int loop_run(struct loop *l)
{
	struct epoll_event evs[64];

	l->thread = pthread_self();
	atomic_store(&l->have_thread, true);
	atomic_store(&l->running, true);
	while (atomic_load(&l->running)) {
		struct loop_task *posted, *deferred;
		int n = loop_wait(l, evs, ARRAY_SIZE(evs));

		/* One client calling in a loop: one event a batch, always on its connection. With
		 * more (several connections at once, or taking turns), the loop is busy anyway
		 * and a spin costs more CPU than it saves: 1.3x the shim CPU per request at 64
		 * connections of containerd's Go client, spinning after every one-event batch. */
		l->spin_same = n == 1 && evs[0].data.ptr == l->last_watch;
		l->last_watch = n == 1 ? evs[0].data.ptr : NULL;

		if (n < 0 && errno != EINTR)
			return -errno;
		if (n == 0 && l->idle_fn && l->busy) {
			l->busy = false;
			l->idle_fn(l->idle_arg);
			continue;
		}
		l->busy = true;
		for (int i = 0; i < n; i++) {
			struct loop_watch *w = evs[i].data.ptr;
			if (!w->dead)
				w->cb(w, evs[i].events);
		}
		pthread_mutex_lock(&l->mu);
		posted = l->posted_head;
		l->posted_head = NULL;
		l->posted_tail = &l->posted_head;
		pthread_mutex_unlock(&l->mu);
		run_list(posted);
		/* Deferred tasks may queue more deferred tasks: loop until none is left. */
		while ((deferred = l->deferred_head)) {
			l->deferred_head = NULL;
			l->deferred_tail = &l->deferred_head;
			run_list(deferred);
		}
	}
	return 0;
}

void loop_stop(struct loop *l)
{
	uint64_t one = 1;
	atomic_store(&l->running, false);
	(void)!write(l->wake.fd, &one, sizeof(one));
}
