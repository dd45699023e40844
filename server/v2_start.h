/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>
#include <sys/types.h>

#include "v2_cli.h"
#include "v2_stdin.h"

/* Everything `start` decided before it changes anything. */
struct v2_start_plan {
	const struct v2_flags *f;
	const char *bundle;
	const struct v2_stdin *in;
	char *socket_path; /* SOCKDIR/<hex> */
	char *address;     /* unix://SOCKDIR/<hex> */
	const char *self;  /* the executable spawned (cshim itself) */
	const char *cgroot;
};

/* The side-effect-free half of start: -id, the bundle's config.json (group key), the socket
 * path (sockdir: NULL = BootstrapParams.socket_dir or /run/containerd/s). Returns 0 or
 * -errno with msg. */
int v2_start_prepare(struct v2_start_plan *p, const char *sockdir, char *msg, size_t msgsz);
void v2_start_plan_free(struct v2_start_plan *p);

/* The other half (docs/v2-launch.md, `start` 5-10): bind or find the group's live socket, write
 * BUNDLE/address and cshim's options record, spawn the long-running process (V2_SOCKET_NEW:
 * *ret_pid) with its cgroup and oom_score_adj. On a failure after the bind the new process is
 * killed and the socket unlinked. Returns V2_SOCKET_NEW, V2_SOCKET_LIVE, or -errno with msg. */
int v2_start_launch(const struct v2_start_plan *p, pid_t *ret_pid, char *msg, size_t msgsz);
