/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Runs the OCI runtime (runc, crun, any runc-compatible CLI) by its command line, as go-runc
 * does: RUNTIME --root ROOT --log BUNDLE/log.json --log-format json [--criu P]
 * [--systemd-cgroup] <subcommand> ...  Children are reaped by the reaper thread.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

/* The strings live in one allocation (a shim holds one runtime for its life: five page-sized
 * arrays would be five dirty pages). */
struct runtime {
	const char *name; /* as requested ("runc"): argv[0] and error texts */
	const char *path; /* resolved */
	const char *root; /* RUNTIME_ROOT/NS */
	const char *log;  /* BUNDLE/log.json */
	const char *criu; /* "" = none */
	bool systemd_cgroup;
	char *strings; /* owns the five above */
};

struct runtime_result {
	int status;   /* exit status (128+n: signal) */
	char *output; /* captured stdout+stderr (NULL when the caller gave stdio) */
	size_t output_len;
	pid_t pid;
	bool killed; /* past the request's deadline: SIGKILLed */
};

struct runtime_call {
	const char *const *args; /* subcommand and its arguments, NULL-terminated */
	const int *fds;          /* fd 0..2 for the runtime; NULL: stdin /dev/null, 1+2 captured */
	const char *stdin_data;  /* with fds == NULL: fed on stdin (must fit a pipe) */
	size_t stdin_len;
	uint64_t deadline_ns; /* CLOCK_MONOTONIC; 0 = none. Past it the runtime is SIGKILLed */
};

/* The calling thread's cancellation flag (set by the server per request: the client went
 * away): a runtime started by this thread is SIGKILLed once it is set. NULL: none. */
void runtime_set_cancel(const _Atomic bool *flag);

int runtime_init(struct runtime *rt, const char *name, const char *runtime_root, const char *ns,
		 const char *bundle, const char *criu, bool systemd_cgroup);
void runtime_free(struct runtime *rt);
/* Runs the runtime; returns 0 when it ran (see res->status) or -errno when it could not. */
int runtime_run(const struct runtime *rt, const struct runtime_call *c, struct runtime_result *res);
void runtime_result_free(struct runtime_result *res);

/* "<name> did not terminate successfully: exit status N[: output]" (go-runc's text). */
void runtime_exit_text(const struct runtime *rt, const struct runtime_result *res, char *buf,
		       size_t bufsz);
/* The last "level":"error" msg of a runc JSON log (whitespace-trimmed).
 * Returns 1 found, 0 none, -EINVAL unparsable. Pure, for tests and fuzzing. */
int runtime_log_last_error(const char *buf, size_t len, char *out, size_t outsz);
/* A failed runtime call of op: the runtime's own message (from BUNDLE/log.json, or its error
 * text) as a SHIM_ERR_RUNTIME (docs/v1-protocol.md §3.0). Returns -EIO. */
int runtime_failure(const struct runtime *rt, const struct runtime_result *res, enum shim_op op,
		    struct shim_error *err);

/* Starts the runtime without waiting (stdio /dev/null): for the reaper thread, which must
 * never wait for a child. done(data, status) runs on the reaper thread when it exits (status
 * -errno if it could not start; done is then called before returning). */
void runtime_run_async(const struct runtime *rt, const char *const *args,
		       void (*done)(void *data, int status), void *data);
