/* SPDX-License-Identifier: Apache-2.0 */
/*
 * core/ reports -errno and the facts (struct shim_error); here they become the ttrpc status
 * code and the text the Go shim (containerd 1.6, runtime/v1/shim and pkg/process) gives:
 * its errdefs suffixes (": not found"), its per-state refusals, the prefixes it wraps
 * runtime errors in, checkKillError.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "errmap.h"
#include "proto/ttrpc_codec.h"

static const struct {
	int err;
	int code;
	const char *suffix;
} errno_codes[] = {
	{ ENOENT, GRPC_NOT_FOUND, "not found" },
	{ EEXIST, GRPC_ALREADY_EXISTS, "already exists" },
	{ EINVAL, GRPC_INVALID_ARGUMENT, "invalid argument" },
	{ ETIMEDOUT, GRPC_DEADLINE_EXCEEDED, "context deadline exceeded" },
	{ ENOTSUP, GRPC_UNIMPLEMENTED, "not implemented" },
	{ EPERM, GRPC_PERMISSION_DENIED, "permission denied" },
	{ EACCES, GRPC_PERMISSION_DENIED, "permission denied" },
	{ ENOMEM, GRPC_RESOURCE_EXHAUSTED, "out of memory" },
	{ EAGAIN, GRPC_UNAVAILABLE, "unavailable" },
};

static int from_errno(int r, char *msg, size_t msgsz)
{
	if (r >= 0)
		r = -EIO;
	for (size_t i = 0; i < sizeof(errno_codes) / sizeof(errno_codes[0]); i++) {
		if (errno_codes[i].err == -r) {
			snprintf(msg, msgsz, "%s: %s", strerror(-r), errno_codes[i].suffix);
			return errno_codes[i].code;
		}
	}
	snprintf(msg, msgsz, "%s", strerror(-r));
	return GRPC_UNKNOWN;
}

/* The Go shim's status words (pkg/process). */
static const char *status_word(enum proc_status st)
{
	switch (st) {
	case PROC_CREATED: return "created";
	case PROC_RUNNING: return "running";
	case PROC_STOPPED: return "stopped";
	case PROC_PAUSED: return "paused";
	case PROC_PAUSING: return "pausing";
	case PROC_DELETED: return "deleted";
	default: return "unknown";
	}
}

#define TEXT(...) (snprintf(msg, msgsz, __VA_ARGS__), GRPC_UNKNOWN)
#define NOT_FOUND(what) (snprintf(msg, msgsz, "%s: not found", what), GRPC_NOT_FOUND)

/* An operation refused in a state: the texts of the Go shim's state objects (pkg/process
 * init_state.go, exec_state.go) and service.go's checks. */
static int state_error(enum shim_op op, enum proc_status st, char *msg, size_t msgsz)
{
	const char *w = status_word(st);

	switch (op) {
	case SHIM_OP_START:
	case SHIM_OP_RESTORE:
	case SHIM_OP_EXEC_START: return TEXT("cannot start a %s process", w);
	case SHIM_OP_KILL:
	case SHIM_OP_EXEC_KILL:
		if (st == PROC_CREATED) {
			snprintf(msg, msgsz, "process not created: failed precondition");
			return GRPC_FAILED_PRECONDITION;
		}
		if (st == PROC_STOPPED)
			return NOT_FOUND("process already finished");
		return NOT_FOUND("cannot kill a deleted process");
	case SHIM_OP_DELETE:
	case SHIM_OP_DELETE_PROCESS:
		if (st == PROC_DELETED)
			return NOT_FOUND("cannot delete a deleted process");
		return TEXT("cannot delete a %s process", st == PROC_PAUSING ? "paused" : w);
	case SHIM_OP_EXEC: return TEXT("cannot exec in a %s state", w);
	case SHIM_OP_RESIZE:
		if (st == PROC_DELETED)
			return TEXT("cannot resize a deleted process");
		return TEXT("cannot resize a %s container", w);
	case SHIM_OP_PAUSE:
	case SHIM_OP_RESUME:
	case SHIM_OP_CHECKPOINT: {
		const char *verb = op == SHIM_OP_PAUSE    ? "pause"
				   : op == SHIM_OP_RESUME ? "resume"
							  : "checkpoint";
		if (st == PROC_CREATED)
			return TEXT("cannot %s %stask in created state", verb,
				    op == SHIM_OP_CHECKPOINT ? "a " : "");
		if (st == PROC_DELETED || (op == SHIM_OP_RESUME && st == PROC_RUNNING))
			return TEXT("cannot %s a %s process", verb, w);
		return TEXT("cannot %s a %s container", verb, w);
	}
	case SHIM_OP_UPDATE:
		if (st == PROC_DELETED)
			return TEXT("cannot update a deleted process");
		return TEXT("cannot update a %s container", w);
	default: return TEXT("cannot do this in a %s state", w);
	}
}

/* A required request field is absent (the Go shim crashes on some of them, App. C.5). */
static int missing_error(enum shim_op op, char *msg, size_t msgsz)
{
	const char *what;

	switch (op) {
	case SHIM_OP_EXEC: what = "exec spec is missing"; break;
	case SHIM_OP_UPDATE: what = "resources are missing"; break;
	case SHIM_OP_CHECKPOINT: what = "checkpoint image path not provided"; break;
	case SHIM_OP_RESIZE: what = "id not provided"; break;
	default: what = "a required field is missing"; break;
	}
	snprintf(msg, msgsz, "%s: invalid argument", what);
	return GRPC_INVALID_ARGUMENT;
}

/* Go's checkKillError: text is the runtime's (or kill(2)'s) message. */
static int kill_error(const char *prefix, const char *text, char *msg, size_t msgsz)
{
	if (strstr(text, "os: process already finished") || strstr(text, "container not running") ||
	    strcasestr(text, "no such process"))
		snprintf(msg, msgsz, "%sprocess already finished: not found", prefix);
	else if (strstr(text, "does not exist"))
		snprintf(msg, msgsz, "%sno such container: not found", prefix);
	else
		return TEXT("%sunknown error after kill: %s", prefix, text);
	return GRPC_NOT_FOUND;
}

/* The runtime failed during op: the prefixes the Go shim wraps its message in. */
static int runtime_failed(int r, const struct shim_error *e, char *msg, size_t msgsz)
{
	const char *prefix = NULL;

	switch (e->op) {
	case SHIM_OP_CREATE: prefix = "OCI runtime create failed"; break;
	case SHIM_OP_START: prefix = "OCI runtime start failed"; break;
	case SHIM_OP_RESTORE: prefix = "OCI runtime restore failed"; break;
	case SHIM_OP_EXEC_START: prefix = "OCI runtime exec failed"; break;
	case SHIM_OP_PAUSE: prefix = "OCI runtime pause failed"; break;
	case SHIM_OP_RESUME: prefix = "OCI runtime resume failed"; break;
	case SHIM_OP_DELETE: prefix = "failed to delete task"; break;
	case SHIM_OP_KILL: return kill_error("", e->msg, msg, msgsz);
	case SHIM_OP_EXEC_KILL: return kill_error("exec kill error: ", e->msg, msg, msgsz);
	case SHIM_OP_CHECKPOINT:
		/* criuError: the first line of the runtime's message, then the dump log */
		return TEXT("%.*s path= %s", (int)strcspn(e->msg, "\n"), e->msg,
			    e->path ? e->path : "");
	default: break;
	}
	if (r == -ETIMEDOUT && e->op == SHIM_OP_CREATE) { /* past the request's deadline */
		snprintf(msg, msgsz, "%s%s%s: context deadline exceeded", prefix ? prefix : "",
			 prefix ? ": " : "", e->msg);
		return GRPC_DEADLINE_EXCEEDED;
	}
	return TEXT("%s%s%s", prefix ? prefix : "", prefix ? ": " : "", e->msg);
}

/* pkg/process's copy start failures; Go's errno texts are strerror's, lower case first. */
static int io_start_error(int r, const struct shim_error *e, char *msg, size_t msgsz)
{
	char text[128];
	snprintf(text, sizeof(text), "%s", strerror(r < 0 ? -r : EIO));
	text[0] = (char)tolower((unsigned char)text[0]);
	if (strcmp(e->msg, "console") == 0)
		return TEXT("failed to start console copy: %s", text);
	return TEXT("failed to start io pipe copy: unable to copy pipes: %s", text);
}

int errmap_code(int r, const struct shim_error *e, char *msg, size_t msgsz)
{
	if (!e)
		return from_errno(r, msg, msgsz);
	switch (e->kind) {
	case SHIM_ERR_NO_PROCESS:
		if (e->op == SHIM_OP_RESIZE) /* service.go's ResizePty */
			return TEXT("process does not exist %s", e->msg);
		snprintf(msg, msgsz, "process %s does not exist: not found", e->msg);
		return GRPC_NOT_FOUND;
	case SHIM_ERR_NO_INIT:
		snprintf(msg, msgsz, "container must be created: failed precondition");
		return GRPC_FAILED_PRECONDITION;
	case SHIM_ERR_EXISTS:
		snprintf(msg, msgsz, "id %s: already exists", e->msg);
		return GRPC_ALREADY_EXISTS;
	case SHIM_ERR_STATE: return state_error(e->op, e->state, msg, msgsz);
	case SHIM_ERR_IS_INIT:
		snprintf(msg, msgsz, "cannot delete init process with DeleteProcess");
		return GRPC_INVALID_ARGUMENT;
	case SHIM_ERR_MISSING: return missing_error(e->op, msg, msgsz);
	case SHIM_ERR_NO_RUNTIME:
		return TEXT("OCI runtime create failed: exec: \"%s\": executable file not found in "
			    "$PATH",
			    e->msg);
	case SHIM_ERR_RUNTIME: return runtime_failed(r, e, msg, msgsz);
	case SHIM_ERR_FAILED: return TEXT("%s", e->msg);
	case SHIM_ERR_IO_START: return io_start_error(r, e, msg, msgsz);
	case SHIM_ERR_REQUEST: snprintf(msg, msgsz, "%s", e->msg); return GRPC_INVALID_ARGUMENT;
	case SHIM_ERR_ERRNO:
	default: return from_errno(r, msg, msgsz);
	}
}

/* The runtime v2 shim's texts where they differ from v1's (spec v2 §4). */
int errmap_v2_code(int r, const struct shim_error *e, char *msg, size_t msgsz)
{
	if (e && e->kind == SHIM_ERR_NO_PROCESS) {
		/* every method, ResizePty and CloseIO too (Go: CloseIO says UNKNOWN, App. C.4) */
		snprintf(msg, msgsz, "process does not exist %s: not found", e->msg);
		return GRPC_NOT_FOUND;
	}
	if (e && e->kind == SHIM_ERR_NO_INIT)
		return errmap_v2_no_container(msg, msgsz);
	if (e && e->kind == SHIM_ERR_FAILED && r == -ENOENT &&
	    strcmp(e->msg, "cgroup does not exist") == 0) {
		snprintf(msg, msgsz, "cgroup does not exist: not found");
		return GRPC_NOT_FOUND;
	}
	return errmap_code(r, e, msg, msgsz);
}

int errmap_v2_no_container(char *msg, size_t msgsz)
{
	snprintf(msg, msgsz, "container not created: not found");
	return GRPC_NOT_FOUND;
}
