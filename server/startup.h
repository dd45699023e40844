/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The start-up sequence the v1 shim and the long-running v2 process share: signals blocked
 * before any thread exists, subreaper, the call_rcu thread, the events queue, the core, the
 * worker pool, the reaper, the acceptor, the idle trim, the short slice, then the loop.
 */
#pragma once

#include <stdbool.h>

#include "core/container.h"

struct loop;

#ifndef CSHIM_VERSION
#define CSHIM_VERSION "0.1.0"
#endif

#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/lsan_interface.h>
#define SHIM_LEAK_CHECK() __lsan_do_leak_check()
#else
#define SHIM_LEAK_CHECK()                                                                          \
	do {                                                                                       \
	} while (0)
#endif

/* Prints "containerd-shim: ..." to stderr and exits 1. */
void shim_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* Blocks every async signal (before any thread exists), ignores SIGPIPE, sets the thread
 * defaults and makes the process the child subreaper. Dies on failure. */
void startup_early(void);
/* fd 3 as containerd passes it: a listening socket, made close-on-exec and non-blocking.
 * Dies when it is not one. */
int startup_fd3(void);

struct startup {
	struct shim_config cfg;      /* for container_setup (cfg.bundle: the cwd) */
	const char *publish_binary;  /* the events fallback: `BINARY publish` */
	bool events_retry;           /* v2: no fallback, Forward retried until taken */
	int listen_fd;               /* bound and listening */
	void *(*on_term)(void *arg); /* SIGTERM/SIGINT: run on a `shim-shutdown` thread */
	bool term_once;              /* v1: stop watching the signals after the first */
	const char *version;         /* for the debug line */
	container_exit_sink sink;    /* NULL: /tasks/exit through events_publish_exit */
};

/* Sets everything up and runs the loop on this thread; returns only when it fails (the exit
 * status). The loop is *ret_loop from before the acceptor starts. */
int startup_run(const struct startup *s, struct loop **ret_loop);
