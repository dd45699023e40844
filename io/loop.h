/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A level-triggered epoll loop run by one thread. Watches are owned by the loop thread; other
 * threads talk to it only through loop_post(), which runs a function on the loop thread.
 * epoll_ctl itself is thread-safe, so loop_mod() may also be called by a thread that holds the
 * watch's owner lock (a connection's outbox arming EPOLLOUT).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>

struct loop;
struct loop_watch;

typedef void (*loop_cb)(struct loop_watch *w, uint32_t revents);

struct loop_watch {
	int fd;
	loop_cb cb;
	bool dead; /* set by loop_del: events still pending in this batch are skipped */
};

int loop_new(struct loop **ret);
void loop_free(struct loop *l);
int loop_add(struct loop *l, struct loop_watch *w, uint32_t events);
int loop_mod(struct loop *l, struct loop_watch *w, uint32_t events);
/* Loop thread only. The watch memory must stay valid until the current batch ends: free it
 * with loop_defer(). */
int loop_del(struct loop *l, struct loop_watch *w);
/* Runs fn(arg) on the loop thread after the current batch of events (loop thread only). */
int loop_defer(struct loop *l, void (*fn)(void *), void *arg);
/* Any thread: runs fn(arg) on the loop thread soon. */
int loop_post(struct loop *l, void (*fn)(void *), void *arg);
/* Any thread: runs fn(arg) on the loop thread and waits until it has returned. */
int loop_call(struct loop *l, void (*fn)(void *), void *arg);
bool loop_is_loop_thread(struct loop *l);
/* Loop thread only: fn(arg) runs once when the loop has had nothing to do for ms milliseconds
 * after having done something (for giving memory back when a burst is over). Costs nothing
 * on the busy path: it is only epoll_wait's timeout. */
void loop_set_idle(struct loop *l, int ms, void (*fn)(void *), void *arg);
/* Loop thread only (or before loop_run): after two batches of one event on the same watch,
 * poll for up to ns more before sleeping, when the last gap between a batch and the next
 * event was short (a few times ns). A peer that answers in microseconds (a client calling in
 * a loop on one connection) then finds the loop awake: on a VM, waking a sleeping thread on
 * another CPU costs tens of microseconds each way. A peer whose gaps are longer
 * (containerd's occasional calls, a client at a fixed rate) finds it asleep as before, and a
 * spin that finds nothing is not tried again for up to 64 waits. 0: off. */
void loop_set_spin(struct loop *l, uint64_t ns);
/* Loop thread only: the next wait sleeps at once. For a batch that handed work to another
 * thread: a spin would keep the CPU that thread may need (the loop thread's short slice,
 * io/slice.h, outlasts sched_yield's courtesy). */
void loop_spin_hold(struct loop *l);
struct loop_spin_stats {
	uint64_t hits;   /* spins that found an event */
	uint64_t misses; /* spins that ended in a blocking wait */
};
struct loop_spin_stats loop_spin_stats(struct loop *l);
/* Runs until loop_stop(). */
int loop_run(struct loop *l);
void loop_stop(struct loop *l);
