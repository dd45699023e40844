/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Exits, from the reaper to the exit sink, for every container of the shim: the init's
 * resume (paused) and kill --all (shared pid namespace), the hold of an init's exit behind its
 * own container's execs, the pending-exit list the loop thread drains, the record in the
 * snapshot, and the wait of a Delete for the exit's delivery.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../io/clock.h"
#include "../io/log.h"
#include "../io/loop.h"
#include "container_priv.h"
#include "exit_gate.h"
#include "reaper.h"

#define EXIT_DRAIN_MS 1000

struct killall_ctx {
	struct proc *p;
	int status;
};

static void finish_exit_init(struct proc *p, int status);
static void exit_enqueue(struct proc *p, int status);

/* The exit's event reached containerd, or a publisher child has it: answer the Waits. */
struct exit_delivery {
	struct proc *p;
	uint32_t status;
	struct timespec at;
};

/* exit_undelivered of every process, and Deletes waiting for it to clear (shim-wide). */
static pthread_mutex_t delivery_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t delivery_cv; /* monotonic (io/clock.h), made once by delivery_cv_init */
static pthread_once_t delivery_once = PTHREAD_ONCE_INIT;
static int delivery_cv_err;

static void delivery_cv_init(void)
{
	delivery_cv_err = clock_cond_init(&delivery_cv);
}

static void set_undelivered(struct proc *p, bool on)
{
	pthread_mutex_lock(&delivery_mu);
	p->exit_undelivered = on;
	pthread_once(&delivery_once, delivery_cv_init);
	if (!on)
		pthread_cond_broadcast(&delivery_cv);
	pthread_mutex_unlock(&delivery_mu);
}

/*
 * Delete of a process whose exit event is still on its way waits for it (at most
 * EXIT_DELIVERY_WAIT_MS: the events path gives up on containerd's socket after 5 s and hands
 * the event to a publisher child). containerd kills the shim right after Delete; a client
 * that saw the process stopped through State and deleted it without a Wait would otherwise
 * lose the event with the shim.
 */
#define EXIT_DELIVERY_WAIT_MS 10000

void exit_delivery_wait(struct proc *p)
{
	uint64_t dl = clock_mono_after_ms(EXIT_DELIVERY_WAIT_MS);

	pthread_once(&delivery_once, delivery_cv_init);
	pthread_mutex_lock(&delivery_mu);
	while (p->exit_undelivered && delivery_cv_err == 0 &&
	       clock_cond_timedwait(&delivery_cv, &delivery_mu, dl) != -ETIMEDOUT)
		;
	if (p->exit_undelivered)
		log_warn("%s: deleting before the exit event was delivered", p->id);
	pthread_mutex_unlock(&delivery_mu);
}

static void exit_delivered(void *arg)
{
	struct exit_delivery *d = arg;
	set_undelivered(d->p, false);
	proc_wait_release(d->p, d->status, &d->at);
	proc_unref(d->p); /* the claim's reference */
	free(d);
}

static void finish_exit(struct proc *p, int status)
{
	struct exit_delivery *d;
	struct timespec now;
	struct proc_snap s;
	bool applied = false;

	clock_gettime(CLOCK_REALTIME, &now);
	pthread_mutex_lock(&p->st_mu);
	s = *p->snap;
	if (p->deleting) {
		/* Being deleted: the deleted state will ignore it (as in the Go shim). */
		p->exit_pending = true;
		p->pending_status = status;
	} else if (s.status != PROC_STOPPED && s.status != PROC_DELETED) {
		s.status = PROC_STOPPED;
		s.exit_status = (uint32_t)status;
		s.exited_at = now;
		(void)proc_snap_set(p, &s);
		applied = true;
	} else if (s.status == PROC_DELETED) {
		/* deleted before its exit arrived: keep what Delete reported */
		s.exit_status = (uint32_t)status;
		s.exited_at = now;
	}
	pthread_mutex_unlock(&p->st_mu);
	log_debug("%s: process %u exited with status %d%s", p->id, s.pid, status,
		  applied ? "" : " (ignored by the state machine)");
	d = malloc(sizeof(*d));
	if (!d) {
		/* Out of memory: the event is handed over before the Waits, as ever. */
		if (S.sink)
			exit_gate_send(S.sink, container_id(p->c), p, s.pid, (uint32_t)status, &now,
				       NULL, NULL);
		proc_wait_release(p, (uint32_t)status, &now);
		proc_unref(p);
		return;
	}
	d->p = p; /* the claim's reference goes with it */
	d->status = (uint32_t)status;
	d->at = now;
	set_undelivered(p, true);
	if (S.sink)
		exit_gate_send(S.sink, container_id(p->c), p, s.pid, (uint32_t)status, &now,
			       exit_delivered, d);
	else
		exit_delivered(d);
}

/*
 * Exec exits before the init's, in a shared pid namespace too: when `runc kill --all` returns,
 * the execs it killed may not have been reaped yet. The init's exit then waits for the execs
 * of its container whose exits have not come through (at most INIT_HOLD_MS, should one never
 * die). The count and the held exit are the container's (c->hold_mu).
 */
#define INIT_HOLD_MS 2000

struct held_ref {
	struct container *c;
	uintptr_t gen;
};

static void release_held(struct container *c, uintptr_t gen, bool timeout)
{
	struct killall_ctx *k = NULL;
	int left;
	pthread_mutex_lock(&c->hold_mu);
	if (c->held && (timeout ? gen == c->held_gen : c->live_execs <= 0)) {
		k = c->held;
		c->held = NULL;
	}
	left = c->live_execs;
	pthread_mutex_unlock(&c->hold_mu);
	if (!k)
		return;
	if (timeout)
		log_warn("%s: %d exec(s) still running %d ms after kill --all", k->p->id, left,
			 INIT_HOLD_MS);
	exit_enqueue(k->p, k->status);
	free(k);
}

static void held_timeout(void *arg)
{
	struct held_ref *h = arg;
	release_held(h->c, h->gen, true);
	container_unref(h->c);
	free(h);
}

static void exec_live_add(struct container *c, int d)
{
	pthread_mutex_lock(&c->hold_mu);
	c->live_execs += d;
	pthread_mutex_unlock(&c->hold_mu);
	if (d < 0)
		release_held(c, 0, false);
}

static void killall_done(void *data, int rstatus)
{
	struct killall_ctx *k = data;
	struct container *c = k->p->c;
	struct held_ref *h;
	uintptr_t gen;
	if (rstatus != 0)
		log_warn("%s: OCI runtime killall failed: status %d", k->p->id, rstatus);
	pthread_mutex_lock(&c->hold_mu);
	if (c->live_execs > 0 && !c->held) {
		c->held = k;
		gen = ++c->held_gen;
		pthread_mutex_unlock(&c->hold_mu);
		h = malloc(sizeof(*h));
		if (h) {
			h->c = container_ref(c);
			h->gen = gen;
		}
		if (!h || reaper_schedule(INIT_HOLD_MS, held_timeout, h) < 0) {
			if (h) {
				container_unref(h->c);
				free(h);
			}
			release_held(c, gen, true);
		}
		return;
	}
	pthread_mutex_unlock(&c->hold_mu);
	exit_enqueue(k->p, k->status);
	free(k);
}

static void resume_done(void *data, int rstatus)
{
	struct killall_ctx *k = data;
	if (rstatus != 0)
		log_warn("%s: OCI runtime resume failed: status %d", k->p->id, rstatus);
	finish_exit_init(k->p, k->status);
	free(k);
}

void exit_reaped(void *cookie, int status)
{
	struct proc *p = cookie;

	if (!p->is_init) {
		exit_enqueue(p, status);
		exec_live_add(p->c, -1); /* after: a held init exit follows this one */
		return;
	}

	if (container_proc_status(p) == PROC_PAUSED) {
		/* A paused init that exits is resumed first, so its cgroup is not left frozen. */
		const char *args[] = { "resume", p->id, NULL };
		struct killall_ctx *k = calloc(1, sizeof(*k));
		if (k) {
			k->p = p;
			k->status = status;
			runtime_run_async(&p->c->rt, args, resume_done, k);
			return;
		}
	}
	finish_exit_init(p, status);
}

static void finish_exit_init(struct proc *p, int status)
{
	if (!p->c->own_pidns) {
		/* The container shares a pid namespace: its other processes do not die with
		 * the init. runc kill --all first, without blocking the reaper. */
		static const char *args_tmpl[] = { "kill", "--all", NULL, "9", NULL };
		const char *args[5];
		struct killall_ctx *k = calloc(1, sizeof(*k));
		if (k) {
			memcpy(args, args_tmpl, sizeof(args));
			args[2] = p->id;
			k->p = p;
			k->status = status;
			runtime_run_async(&p->c->rt, args, killall_done, k);
			return;
		}
	}
	exit_enqueue(p, status);
}

void exit_claim(struct proc *p, uint32_t pid, uint64_t t0)
{
	int status, pidfd = -1, r;
	bool exec = !p->is_init;

	proc_ref(p); /* for the reaper's claim */
	if (exec)
		exec_live_add(p->c, 1);
	r = reaper_claim_pid((pid_t)pid, p, t0, &status, &pidfd);
	p->pidfd = pidfd;
	if (r == 1) {
		exit_reaped(p, status);
	} else if (r < 0) {
		proc_unref(p);
		if (exec)
			exec_live_add(p->c, -1);
	}
}

/*
 * Exits are finished on the loop thread, each once its output was forwarded (an exec's as
 * soon as its own output is through; an init's after every exit of its container reaped
 * before it): the pipes are drained until they are empty, or until EXIT_DRAIN_MS after the
 * exit when a reader is slow or a background child keeps a pipe busy. The waits run side by
 * side, never one exit after another, and never on the reaper thread. One list for the shim.
 */
struct pending_exit {
	struct pending_exit *next;
	struct proc *p;
	int status;
	uint64_t deadline;
	bool waiting; /* still draining (this step) */
};

static struct pending_exit *pe_head, **pe_tail = &pe_head; /* loop thread only */
static bool pe_recheck;                                    /* loop thread only */

static void exits_step(void *unused);

static void exits_recheck(void *unused)
{
	(void)unused;
	if (loop_post(S.loop, exits_step, NULL) < 0)
		(void)reaper_schedule(20, exits_recheck, NULL);
}

/* Is an exit of c before `upto` still waiting? */
static bool container_waiting(const struct container *c, const struct pending_exit *upto)
{
	for (const struct pending_exit *e = pe_head; e && e != upto; e = e->next)
		if (e->waiting && e->p->c == c)
			return true;
	return false;
}

static void exits_step(void *unused)
{
	uint64_t now = reaper_now_ns();
	bool waiting = false; /* an earlier exit is still draining */

	(void)unused;
	pe_recheck = false;
	for (struct pending_exit *e = pe_head; e; e = e->next)
		e->waiting = false;
	for (struct pending_exit **pp = &pe_head, *e; (e = *pp);) {
		bool drained = !e->p->io_started || stdio_drain_now(&e->p->io);
		/* An exec's exit goes as soon as its own output is through; the init's only
		 * after every exit of its container reaped before it (exec exits are reported
		 * before the init's). */
		if ((!drained && now < e->deadline) ||
		    (e->p->is_init && container_waiting(e->p->c, e))) {
			e->waiting = waiting = true;
			pp = &e->next;
			continue;
		}
		*pp = e->next;
		if (pe_tail == &e->next)
			pe_tail = pp;
		finish_exit(e->p, e->status);
		free(e);
	}
	if (waiting && !pe_recheck && reaper_schedule(20, exits_recheck, NULL) == 0)
		pe_recheck = true;
}

static void exit_enqueue_cb(void *arg)
{
	struct pending_exit *e = arg;
	if (e->p->io_started)
		stdio_process_exited(&e->p->io);
	*pe_tail = e;
	pe_tail = &e->next;
	exits_step(NULL);
}

static void exit_enqueue(struct proc *p, int status)
{
	struct pending_exit *e = calloc(1, sizeof(*e));

	if (e) {
		e->p = p;
		e->status = status;
		e->deadline = reaper_now_ns() + (uint64_t)EXIT_DRAIN_MS * 1000000ULL;
	}
	if (!e || loop_post(S.loop, exit_enqueue_cb, e) < 0) {
		free(e);
		finish_exit(p, status); /* out of memory: report it without draining */
	}
}
