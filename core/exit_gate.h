/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The exit event of a process that ends during its Start is sent only after the Start's
 * reply; an init's, EXIT_SETTLE_MS after that reply at the earliest.
 *
 * Why: containerd 1.6 publishes /tasks/start itself once the shim answered Start, and Docker
 * 20.10 drops a /tasks/exit it processes before its own Start call has returned (its
 * daemon.ProcessEvent compares the event's pid with the container's pid, which it records
 * only then): the container stays "running" for good and `docker wait` hangs. The Go v1 shim
 * never shows this because each of its events costs a `containerd publish` child (25 to 90 ms
 * here); cshim forwards in well under a millisecond. Docker matches exec exits by exec id, so
 * those need no settling (`docker exec` stays fast). Every exit queued behind a held one
 * waits with it, so exits keep the order they were finished in (exec exits before the
 * init's).
 *
 * Only the v1 front end needs it: the v2 one publishes /tasks/start itself, in order, and
 * holds exits behind it (server/v2_events.c), so with `front_end_orders_starts` the gate is
 * off and every exit goes to the sink as it comes.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "container.h"

struct proc;

#define EXIT_SETTLE_MS 50

/* Off: begin/end do nothing and send hands every exit to the sink at once. */
void exit_gate_setup(bool off);
/* Start of p begins / was answered (or failed): its exit is held / released after settling. */
void exit_gate_start_begin(struct proc *p);
void exit_gate_start_end(struct proc *p);
/* Hands the exit to sink now, or once the gate lets it through (in order). Takes no
 * reference of its own on p beyond the one it keeps until sink was called. */
void exit_gate_send(container_exit_sink sink, const char *container_id, struct proc *p,
		    uint32_t pid, uint32_t status, const struct timespec *at, void (*done)(void *),
		    void *arg);
