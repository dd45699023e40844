/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The runtime v2 task events (docs/v2-protocol.md §6), through the ordered events queue (events.h).
 * Exits are the core's (its exit sink); while a Start is in flight they (and /tasks/oom) are
 * held back, so that none overtakes the /tasks/start or /tasks/exec-started of its process.
 */
#pragma once

#include <protobuf-c/protobuf-c.h>
#include <stdint.h>
#include <time.h>

/* Publishes msg in an Any whose type_url is type (e.g. "containerd.events.TaskStart"). */
void v2_event(const char *topic, const char *type, const ProtobufCMessage *msg);

/* Around a Start: exits that come in between are held, and published (in their order) at
 * v2_start_end, after the Start's own event. */
void v2_start_begin(void);
void v2_start_end(void);

/* v2_event, but held like an exit while a Start is in flight (/tasks/oom). */
void v2_event_held(const char *topic, const char *type, const ProtobufCMessage *msg);

/* The core's exit sink in serve mode. */
void v2_exit_sink(const char *container_id, const char *id, uint32_t pid, uint32_t exit_status,
		  const struct timespec *exited_at, void (*done)(void *), void *arg);
