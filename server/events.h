/* SPDX-License-Identifier: Apache-2.0 */
/*
 * /tasks/exit, the only event a v1 shim publishes (docs/v1-protocol.md §4). Events go through one
 * ordered queue (event_queue.h) to containerd's ttrpc Events/Forward; when that socket does not
 * answer, to `<containerd-binary> --address A publish --topic T --namespace NS` with the
 * Any-encoded event on stdin, as the Go shim does (retried a bounded number of times). An init's
 * exit is kept behind the earlier events on both paths. See docs/events.md.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct loop;

/* The strings are kept, not copied (the shim's flags, for its life). */
void events_setup(const char *containerd_binary, const char *address, const char *ns);
/* Creates the queue on loop l (its ttrpc address: $TTRPC_ADDRESS, else -address + ".ttrpc").
 * Before it, events go to the fallback directly. retry (v2): with a ttrpc address, no
 * fallback: each event is retried over ttrpc until containerd takes it. 0 or -errno. */
int events_start(struct loop *l, bool retry);
/* Any thread. done(arg) runs once the event was acknowledged by containerd or handed to a
 * `containerd publish` child (on the loop thread; on the caller's when the queue could not
 * take it): the caller answers the process's Waits only then. */
void events_publish_exit(const char *container_id, const char *id, uint32_t pid,
			 uint32_t exit_status, const struct timespec *exited_at,
			 void (*done)(void *), void *arg);
/* Any event (the packed google.protobuf.Any) on topic, behind every earlier one; done as for
 * events_publish_exit (may be NULL). what: for the log. flags: the queue's (event_queue.h:
 * EVQ_COALESCE). */
void events_publish(const char *topic, const uint8_t *any, size_t len, unsigned flags,
		    const char *what, void (*done)(void *), void *arg);
/* Events queued and not delivered yet. */
size_t events_pending(void);
/* Encodes the Any{TaskExit} bytes (pure, for tests). Returns the heap buffer. */
uint8_t *events_encode_exit(const char *container_id, const char *id, uint32_t pid,
			    uint32_t exit_status, const struct timespec *exited_at,
			    size_t *ret_len);
