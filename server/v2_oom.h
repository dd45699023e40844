/* SPDX-License-Identifier: Apache-2.0 */
/*
 * /tasks/oom (docs/v2-protocol.md §6), watched by the loop, registered at the init's Start as
 * runc-v2 1.6 does:
 * - cgroup v1: an eventfd registered through the memory cgroup's cgroup.event_control on
 *   memory.oom_control; one event per wake-up while the cgroup exists (its removal wakes it
 *   too: then the watch ends quietly), as containerd's pkg/oom/v1 does;
 * - unified (cgroup v2): inotify on memory.events and cgroup.events; one event each time
 *   memory.events' oom_kill has grown since the last wake-up, the watch ending when the
 *   cgroup is empty or gone, as pkg/oom/v2 and the cgroups v2 manager's EventChan do.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct loop;
struct container;

/* Called on the loop thread, once per OOM event of container id. */
typedef void (*v2_oom_sink)(const char *id);

/* lp: where the loop will be (startup_run fills it before any request). */
void v2_oom_setup(struct loop **lp, v2_oom_sink sink);
/* Watches c's memory cgroup (no-op without one). Any thread but the loop's. */
void v2_oom_watch(struct container *c);
/* The same for a directory (v2_oom_watch's work; tests give a fixture directory). */
int v2_oom_watch_dir(const char *id, const char *dir, bool unified);
/* Ends the watch of container id, if any. Any thread but the loop's. */
void v2_oom_unwatch(const char *id);
/* How many watches there are for id (NULL: all). Any thread but the loop's. */
size_t v2_oom_watching(const char *id);
