/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What `start` does to the long-running shim process it spawned (docs/v2-launch.md, `start` 9-10):
 * its oom_score_adj (containerd's + 1) and the shim_cgroup of the runtime options.
 */
#pragma once

#include <sys/types.h>

/* parent's oom_score_adj + 1, clamped to [-1000, 1000]. Pure. */
int v2_oom_score_next(int parent);
/* /proc/PID/oom_score_adj of pid := that of parent + 1 (clamped). EPERM/EACCES (unprivileged
 * and lowering) are not errors, as in the Go shim. Returns 0 or -errno. */
int v2_oom_score_inherit(pid_t pid, pid_t parent);

/* Moves pid into the cgroup at path (relative to each hierarchy) under cgroot (normally
 * /sys/fs/cgroup). Unified (cgroot/cgroup.controllers exists): cgroot/path/cgroup.procs.
 * Otherwise cgroup v1: every hierarchy directory of cgroot in which path exists (Go's
 * cgroups.Load skips the others). Returns 0, -ENOENT when path exists in no hierarchy, or
 * -errno of a failed write. */
int v2_shim_cgroup_add(const char *cgroot, const char *path, pid_t pid);
