/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The long-running v2 process as `start` launches it (docs/v2-launch.md, `start` 8): its argv, its
 * fds (0/1 /dev/null, 2 the bundle's log FIFO or /dev/null, 3 the listener), its own process group,
 * cwd the bundle. The process itself (v2_serve_main, v2_actions.h) serves containerd.task.v2.Task
 * (and v3) until Shutdown finds no container left.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "v2_cli.h"

struct v2_spawn_args {
	const char *self;   /* absolute path of the executable to run */
	char *const *argv;  /* from v2_serve_argv */
	const char *bundle; /* its cwd */
	int listen_fd;      /* becomes fd 3 */
	int log_fd;         /* becomes fd 2; -1: /dev/null */
};

#define V2_SERVE_ARGV_MAX 12

/* SELF -namespace NS -id ID -address A -publish-binary P [-debug] serve, into argv (pointers
 * into f; NULL-terminated; at least V2_SERVE_ARGV_MAX slots). Returns the count. */
size_t v2_serve_argv(const struct v2_flags *f, const char *self, char **argv);
/* BUNDLE/log opened O_WRONLY|O_NONBLOCK|O_CLOEXEC: containerd holds its read side open from
 * before `start` on. Non-blocking it stays: a log line never blocks the shim. -1 when there is
 * no FIFO or no reader (the log then goes to /dev/null). */
int v2_open_log(const char *bundle);
/* Spawns the long-running process (not reaped here: `start` exits and it is reparented).
 * Returns 0 with *ret_pid or -errno. */
int v2_serve_spawn(const struct v2_spawn_args *a, pid_t *ret_pid);
