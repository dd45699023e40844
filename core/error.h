/* SPDX-License-Identifier: Apache-2.0 */
/*
 * How core/ reports a failure: it returns -errno and, where errno alone does not say what
 * happened, fills a struct shim_error with the facts: what kind of failure, during which
 * operation, in which state, and a message (the id, the runtime's own message, why a step
 * failed). core/ knows no wire status codes and no texts that only the Go shim's quirks
 * explain: server/errmap.c turns the facts into the code and text containerd expects.
 */
#pragma once

#include <stdbool.h>

#include "process.h"

#define SHIM_ERR_MAX 1024

enum shim_err_kind {
	SHIM_ERR_ERRNO = 0,  /* nothing but -errno */
	SHIM_ERR_NO_PROCESS, /* -ENOENT: no process has the id (msg: the id) */
	SHIM_ERR_NO_INIT,    /* -ENOENT: no container was created yet */
	SHIM_ERR_EXISTS,     /* -EEXIST: the id (msg) is taken */
	SHIM_ERR_STATE,      /* -EBUSY, -ENOENT (deleted): op refused in state */
	SHIM_ERR_IS_INIT,    /* -EPERM: op is for exec processes, the target is the init */
	SHIM_ERR_MISSING,    /* -EINVAL: op's required request field is absent */
	SHIM_ERR_NO_RUNTIME, /* the runtime binary (msg: its name) is not found */
	SHIM_ERR_RUNTIME,    /* op's runtime call (or kill) failed: msg is its own message */
	SHIM_ERR_FAILED,     /* a step of op failed: msg says which and why */
	SHIM_ERR_IO_START,   /* -errno: op's stdio copy failed to start (msg: "pipes", "console") */
	SHIM_ERR_REQUEST,    /* server/ only: the request is invalid, msg is the whole text */
};

/* The operation that failed (where the wire text depends on it). */
enum shim_op {
	SHIM_OP_NONE = 0,
	SHIM_OP_CREATE,
	SHIM_OP_START,      /* an init: runc start */
	SHIM_OP_RESTORE,    /* an init created from a checkpoint: runc restore */
	SHIM_OP_EXEC_START, /* an exec process: runc exec */
	SHIM_OP_KILL,       /* the init: runc kill */
	SHIM_OP_EXEC_KILL,  /* an exec process: a signal */
	SHIM_OP_DELETE,
	SHIM_OP_DELETE_PROCESS,
	SHIM_OP_EXEC,
	SHIM_OP_RESIZE,
	SHIM_OP_PAUSE,
	SHIM_OP_RESUME,
	SHIM_OP_UPDATE,
	SHIM_OP_CHECKPOINT,
	SHIM_OP_LIST_PIDS,
};

struct shim_error {
	enum shim_err_kind kind;
	enum shim_op op;
	enum proc_status state; /* SHIM_ERR_STATE: the state that refused op */
	char msg[SHIM_ERR_MAX]; /* the facts (see the kinds) */
	/* A file the error points to (Checkpoint: the dump log), or NULL. Not a copy: it must
	 * outlive the error (the dump log's path lives as long as the shim). A 4 KiB array here
	 * would put every caller's frame over the stack budget (Makefile, -Wframe-larger-than). */
	const char *path;
};

/* Fills e (may be NULL) and returns r (a -errno). */
int shim_fail(struct shim_error *e, int r, enum shim_err_kind kind, enum shim_op op,
	      const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* op refused in state st: returns -ENOENT for a deleted process, else -EBUSY. */
int shim_fail_state(struct shim_error *e, enum shim_op op, enum proc_status st);
