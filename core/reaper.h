/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The reaper thread: owns SIGCHLD (signalfd) and reaps every child (waitid(P_ALL)), since the
 * shim is the child subreaper of its containers. Each exit goes, in this order, to:
 *   1. a watch registered for that pid (runtime invocations, publishers), sync or async;
 *   2. the process sink (container processes, registered with reaper_claim_pid());
 *   3. the unclaimed table, where a later reaper_claim_pid() finds it (the early-exit race).
 * Container processes are also tracked through their pidfds in the reaper's epoll.
 * All exit callbacks run on the reaper thread and must not block on a child.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "spawn.h"

struct reaper_watch;
typedef void (*reaper_cb)(struct reaper_watch *w, int status);

struct reaper_watch {
	pid_t pid;
	int status; /* exit status, 128+n for signal n */
	bool exited;
	reaper_cb cb; /* NULL: a synchronous waiter (reaper_wait) */
	void *data;
	struct reaper_watch *next;
};

/* Exit of a claimed container process: (claim cookie, status). */
typedef void (*reaper_proc_sink)(void *cookie, int status);

int reaper_start(reaper_proc_sink sink);
void reaper_stop(void);

/* Encodes a wait status as containerd does: exit code, or 128 + signal. */
int reaper_exit_status(int wstatus);

/* Spawns a child (core/spawn.h) with w registered for its exit before the child can be
 * reaped: the reaper reaps only with its lock held, and the lock is held across the spawn. The
 * exit cannot be missed or taken for another process's that had the same pid, whatever
 * happens between the spawn and the caller's next step. Sets w->pid; w->cb and w->data are
 * the caller's (a callback may run as soon as this returns). Returns 0 or spawn_process's
 * -errno (then nothing is registered). */
int reaper_spawn(const struct spawn_opts *o, struct reaper_watch *w, int *ret_pidfd);
/* Registers interest in a child that is already running (its exit, if already reaped, is
 * taken from the unclaimed table). A child spawned to be watched: reaper_spawn. */
void reaper_watch(struct reaper_watch *w);
/* The same for a child we hold a pidfd of (a logger, watched only when it is stopped): the
 * pidfd tells exactly whether that child was reaped already, even if its pid was reused since.
 * Then w->exited is set at once, with the status the unclaimed table kept, or -1. */
void reaper_watch_pidfd(struct reaper_watch *w, int pidfd);
/* Waits for a watch registered without a callback. deadline_ns (CLOCK_MONOTONIC) 0 = none.
 * On timeout the child is SIGKILLed and then waited for. Returns the status, or -ETIMEDOUT
 * after the kill (status in w->status). */
int reaper_wait(struct reaper_watch *w, int pidfd, uint64_t deadline_ns);

/* Waits for a watch until until_ns (CLOCK_MONOTONIC; 0 = for ever). Returns the status, or
 * -ETIMEDOUT (the watch stays registered). */
int reaper_wait_until(struct reaper_watch *w, uint64_t until_ns);

/* A container process's pid became known (read from a pid file). Claims an exit that may
 * already have happened (reaped at or after not_before, the stamp reaper_start_begin()
 * returned), else routes the future exit to the sink with cookie. Returns 1 if the process
 * already exited (*ret_status set, no future sink call), 0 if claimed. ret_pidfd: a pidfd
 * pinning the process (or -1). */
int reaper_claim_pid(pid_t pid, void *cookie, uint64_t not_before, int *ret_status, int *ret_pidfd);
/* Forgets a claimed pid (process deleted before it exited). */
void reaper_unclaim_pid(pid_t pid);
/* Starts/ends a window in which pid files are being read: unclaimed exits are kept.
 * reaper_start_begin returns the window's stamp (CLOCK_MONOTONIC ns) for reaper_claim_pid:
 * exits reaped from then on may be the started process's. */
uint64_t reaper_start_begin(void);
void reaper_start_end(void);

/* Runs fn(arg) on the reaper thread after delay_ms (timers for publish retries). */
int reaper_schedule(int delay_ms, void (*fn)(void *), void *arg);
struct reaper_timer;
/* The same, returning a handle for reaper_cancel(). */
int reaper_schedule_timer(int delay_ms, void (*fn)(void *), void *arg, struct reaper_timer **ret);
/* Removes a timer that has not fired (true), or does nothing (false: it ran or is running). */
bool reaper_cancel(struct reaper_timer *t);
bool reaper_is_reaper_thread(void);
uint64_t reaper_now_ns(void);
