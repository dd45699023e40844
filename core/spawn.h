/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The only place that creates processes. clone3(CLONE_PIDFD | CLONE_VFORK) without CLONE_VM:
 * the child is a copy of the calling thread that runs nothing but system calls on data
 * prepared before the call (no malloc, no locks, no stdio), so it is safe in a threaded
 * process. The child gets an empty signal mask, default dispositions, the default scheduler
 * slice (io/slice.h), exactly the fds it is meant to have (fds[i] becomes fd i; everything
 * else is closed), and optionally PR_SET_PDEATHSIG. The pidfd comes back atomically with the pid.
 *
 * The child is reaped by the reaper thread (never waitpid() here). A child whose exit matters
 * is spawned through reaper_spawn() (core/reaper.h), which registers its watch before it can
 * be reaped.
 */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

struct spawn_opts {
	const char *path; /* absolute path of the program */
	char *const *argv;
	char *const *envp;
	const int *fds; /* fds[i] becomes fd i in the child; -1: /dev/null */
	int nfds;
	const char *cwd; /* NULL: inherit */
	bool pdeathsig;  /* SIGKILL the child when the spawning thread exits */
	bool setpgid;    /* the child leads a new process group */
};

/* Returns 0 with pid and pidfd (CLOEXEC), or -errno (exec failures included). */
int spawn_process(const struct spawn_opts *o, pid_t *ret_pid, int *ret_pidfd);

/* Looks name up in PATH (absolute or relative names with a slash are taken as they are).
 * Returns 0 and writes the path, or -ENOENT. */
int spawn_find_program(const char *name, char *buf, size_t bufsz);

/* The environment for children: ours, minus NOTIFY_SOCKET=. Built once, at start-up. */
char *const *spawn_child_env(void);
int spawn_init_env(void);
