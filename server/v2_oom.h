/* SPDX-License-Identifier: Apache-2.0 */
/*
 * /tasks/oom (docs/v2-protocol.md §6) on a cgroup v1 host: an eventfd registered through the memory
 * cgroup's cgroup.event_control on memory.oom_control, watched by the loop; one event per
 * wake-up while the cgroup exists (its removal wakes it too: then the watch ends quietly), as
 * containerd's pkg/oom/v1 does. Registered at the init's Start, as runc-v2 1.6 does.
 */
#pragma once

struct loop;
struct container;

/* lp: where the loop will be (startup_run fills it before any request). */
void v2_oom_setup(struct loop **lp);
/* Watches c's memory cgroup (no-op without one). Any thread but the loop's. */
void v2_oom_watch(struct container *c);
/* Ends the watch of container id, if any. Any thread but the loop's. */
void v2_oom_unwatch(const char *id);
