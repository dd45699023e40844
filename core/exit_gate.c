/* SPDX-License-Identifier: Apache-2.0 */
/* See exit_gate.h. One FIFO for the shim, under gate_mu; delivery outside the lock, with
 * `delivering` keeping a direct send from overtaking a batch being delivered. */
#include "exit_gate.h"

#include <stdbool.h>
#include <stdlib.h>

#include "../io/clock.h"
#include "../io/log.h"
#include "process.h"
#include "reaper.h"

struct gate_item {
	struct gate_item *next;
	container_exit_sink sink;
	const char *container_id;
	struct proc *p; /* a reference */
	uint32_t pid, status;
	struct timespec at;
	void (*done)(void *);
	void *arg;
};

static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static struct gate_item *head, **tail = &head;
static bool timer_armed, delivering;
static bool gate_off; /* set once, before any container exists */

#define SETTLE_NS ((uint64_t)EXIT_SETTLE_MS * 1000000u)

/* When p's exit may go: UINT64_MAX while its Start runs. Under gate_mu. */
static uint64_t due_ns(const struct proc *p)
{
	if (p->gate_starting)
		return UINT64_MAX;
	/* Docker matches an exec's exit by its exec id, registered before the start: only
	 * the init's needs the settling time. */
	return p->is_init && p->gate_started_ns ? p->gate_started_ns + SETTLE_NS : 0;
}

static void flush(void *arg);

/* Under gate_mu: a timer for the head, if it has a due time and none is armed. */
static void arm_locked(uint64_t now)
{
	uint64_t due;
	int ms;

	if (!head || timer_armed || delivering)
		return;
	due = due_ns(head->p);
	if (due == UINT64_MAX)
		return;
	ms = due > now ? (int)((due - now + 999999u) / 1000000u) : 0;
	if (reaper_schedule(ms, flush, NULL) == 0) {
		timer_armed = true;
		return;
	}
	/* No timer: let the queue go now rather than never. */
	log_warn("exit gate: cannot arm a timer, sending held exits now");
	for (struct gate_item *i = head; i; i = i->next)
		i->p->gate_starting = false, i->p->gate_started_ns = 0;
	if (reaper_schedule(0, flush, NULL) == 0)
		timer_armed = true;
}

static void deliver(struct gate_item *i)
{
	while (i) {
		struct gate_item *next = i->next;
		i->sink(i->container_id, i->p->id, i->pid, i->status, &i->at, i->done, i->arg);
		proc_unref(i->p);
		free(i);
		i = next;
	}
}

static void flush(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&gate_mu);
	timer_armed = false;
	while (!delivering) {
		uint64_t now = clock_mono_ns();
		struct gate_item *batch = NULL, **bt = &batch;
		while (head && due_ns(head->p) <= now) {
			struct gate_item *i = head;
			head = i->next;
			i->next = NULL;
			*bt = i;
			bt = &i->next;
		}
		if (!head)
			tail = &head;
		if (!batch) {
			arm_locked(now);
			break;
		}
		delivering = true;
		pthread_mutex_unlock(&gate_mu);
		deliver(batch);
		pthread_mutex_lock(&gate_mu);
		delivering = false;
	}
	pthread_mutex_unlock(&gate_mu);
}

void exit_gate_setup(bool off)
{
	gate_off = off;
}

void exit_gate_start_begin(struct proc *p)
{
	if (gate_off)
		return;
	pthread_mutex_lock(&gate_mu);
	p->gate_starting = true;
	pthread_mutex_unlock(&gate_mu);
}

void exit_gate_start_end(struct proc *p)
{
	uint64_t now = clock_mono_ns();

	if (gate_off)
		return;
	pthread_mutex_lock(&gate_mu);
	p->gate_starting = false;
	p->gate_started_ns = now;
	arm_locked(now);
	pthread_mutex_unlock(&gate_mu);
}

void exit_gate_send(container_exit_sink sink, const char *container_id, struct proc *p,
		    uint32_t pid, uint32_t status, const struct timespec *at, void (*done)(void *),
		    void *arg)
{
	struct gate_item *i;
	uint64_t now = clock_mono_ns();

	if (gate_off) {
		sink(container_id, p->id, pid, status, at, done, arg);
		return;
	}
	pthread_mutex_lock(&gate_mu);
	if (!head && !delivering && due_ns(p) <= now) {
		pthread_mutex_unlock(&gate_mu);
		sink(container_id, p->id, pid, status, at, done, arg);
		return;
	}
	i = calloc(1, sizeof(*i));
	if (!i) {
		pthread_mutex_unlock(&gate_mu);
		log_warn("%s: out of memory holding its exit: sending it now", p->id);
		sink(container_id, p->id, pid, status, at, done, arg);
		return;
	}
	*i = (struct gate_item){ .sink = sink,
				 .container_id = container_id,
				 .p = proc_ref(p),
				 .pid = pid,
				 .status = status,
				 .at = *at,
				 .done = done,
				 .arg = arg };
	*tail = i;
	tail = &i->next;
	log_debug("%s: exit event held (Start running or just answered, or behind another)", p->id);
	arm_locked(now);
	pthread_mutex_unlock(&gate_mu);
}
