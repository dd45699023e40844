/* SPDX-License-Identifier: Apache-2.0 */
/*
 * server/errmap: core's facts (-errno, struct shim_error) to the ttrpc code and the Go shim's
 * text. Every text below is what containerd 1.6's v1 shim answers (test_errors compares most
 * of them with the Go shim itself; the rest are docs/v1-protocol.md §3.0's and
 * the Go sources').
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/container_priv.h"
#include "core/error.h"
#include "core/runtime.h"
#include "proto/ttrpc_codec.h"
#include "server/errmap.h"

struct want {
	int code;
	const char *text;
};

static struct want map(int r, const struct shim_error *e)
{
	static char msg[4 * SHIM_ERR_MAX];
	struct want w;
	w.code = errmap_code(r, e, msg, sizeof(msg));
	w.text = msg;
	return w;
}

#define assert_maps(r, e, want_code, want_text)                                                    \
	do {                                                                                       \
		struct want w_ = map((r), (e));                                                    \
		assert_string_equal(w_.text, (want_text));                                         \
		assert_int_equal(w_.code, (want_code));                                            \
	} while (0)

/* A state refusal: core's errno and the wire's code and text. */
static void check_state(enum shim_op op, enum proc_status st, int want_r, int want_code,
			const char *want_text)
{
	struct shim_error e = { 0 };
	int r = shim_fail_state(&e, op, st);

	assert_int_equal(r, want_r);
	assert_int_equal(e.kind, SHIM_ERR_STATE);
	assert_maps(r, &e, want_code, want_text);
}

static void test_states(void **state)
{
	(void)state;
	/* Start: init, exec and restore alike */
	check_state(SHIM_OP_START, PROC_RUNNING, -EBUSY, GRPC_UNKNOWN,
		    "cannot start a running process");
	check_state(SHIM_OP_START, PROC_STOPPED, -EBUSY, GRPC_UNKNOWN,
		    "cannot start a stopped process");
	check_state(SHIM_OP_EXEC_START, PROC_DELETED, -ENOENT, GRPC_UNKNOWN,
		    "cannot start a deleted process");
	check_state(SHIM_OP_START, PROC_PAUSING, -EBUSY, GRPC_UNKNOWN,
		    "cannot start a pausing process");
	/* Kill */
	check_state(SHIM_OP_KILL, PROC_DELETED, -ENOENT, GRPC_NOT_FOUND,
		    "cannot kill a deleted process: not found");
	check_state(SHIM_OP_EXEC_KILL, PROC_DELETED, -ENOENT, GRPC_NOT_FOUND,
		    "cannot kill a deleted process: not found");
	check_state(SHIM_OP_EXEC_KILL, PROC_CREATED, -EBUSY, GRPC_FAILED_PRECONDITION,
		    "process not created: failed precondition");
	check_state(SHIM_OP_EXEC_KILL, PROC_STOPPED, -EBUSY, GRPC_NOT_FOUND,
		    "process already finished: not found");
	/* Delete, DeleteProcess */
	check_state(SHIM_OP_DELETE, PROC_RUNNING, -EBUSY, GRPC_UNKNOWN,
		    "cannot delete a running process");
	check_state(SHIM_OP_DELETE, PROC_PAUSED, -EBUSY, GRPC_UNKNOWN,
		    "cannot delete a paused process");
	check_state(SHIM_OP_DELETE, PROC_PAUSING, -EBUSY, GRPC_UNKNOWN,
		    "cannot delete a paused process");
	check_state(SHIM_OP_DELETE, PROC_DELETED, -ENOENT, GRPC_NOT_FOUND,
		    "cannot delete a deleted process: not found");
	check_state(SHIM_OP_DELETE_PROCESS, PROC_RUNNING, -EBUSY, GRPC_UNKNOWN,
		    "cannot delete a running process");
	check_state(SHIM_OP_DELETE_PROCESS, PROC_DELETED, -ENOENT, GRPC_NOT_FOUND,
		    "cannot delete a deleted process: not found");
	/* Exec (the init's state) */
	check_state(SHIM_OP_EXEC, PROC_CREATED, -EBUSY, GRPC_UNKNOWN,
		    "cannot exec in a created state");
	check_state(SHIM_OP_EXEC, PROC_STOPPED, -EBUSY, GRPC_UNKNOWN,
		    "cannot exec in a stopped state");
	check_state(SHIM_OP_EXEC, PROC_PAUSED, -EBUSY, GRPC_UNKNOWN,
		    "cannot exec in a paused state");
	/* ResizePty of an exec */
	check_state(SHIM_OP_RESIZE, PROC_STOPPED, -EBUSY, GRPC_UNKNOWN,
		    "cannot resize a stopped container");
	check_state(SHIM_OP_RESIZE, PROC_DELETED, -ENOENT, GRPC_UNKNOWN,
		    "cannot resize a deleted process");
	/* Pause */
	check_state(SHIM_OP_PAUSE, PROC_CREATED, -EBUSY, GRPC_UNKNOWN,
		    "cannot pause task in created state");
	check_state(SHIM_OP_PAUSE, PROC_DELETED, -ENOENT, GRPC_UNKNOWN,
		    "cannot pause a deleted process");
	check_state(SHIM_OP_PAUSE, PROC_STOPPED, -EBUSY, GRPC_UNKNOWN,
		    "cannot pause a stopped container");
	check_state(SHIM_OP_PAUSE, PROC_PAUSED, -EBUSY, GRPC_UNKNOWN,
		    "cannot pause a paused container");
	check_state(SHIM_OP_PAUSE, PROC_PAUSING, -EBUSY, GRPC_UNKNOWN,
		    "cannot pause a pausing container");
	/* Resume */
	check_state(SHIM_OP_RESUME, PROC_CREATED, -EBUSY, GRPC_UNKNOWN,
		    "cannot resume task in created state");
	check_state(SHIM_OP_RESUME, PROC_RUNNING, -EBUSY, GRPC_UNKNOWN,
		    "cannot resume a running process");
	check_state(SHIM_OP_RESUME, PROC_DELETED, -ENOENT, GRPC_UNKNOWN,
		    "cannot resume a deleted process");
	check_state(SHIM_OP_RESUME, PROC_STOPPED, -EBUSY, GRPC_UNKNOWN,
		    "cannot resume a stopped container");
	check_state(SHIM_OP_RESUME, PROC_PAUSING, -EBUSY, GRPC_UNKNOWN,
		    "cannot resume a pausing container");
	/* Update */
	check_state(SHIM_OP_UPDATE, PROC_STOPPED, -EBUSY, GRPC_UNKNOWN,
		    "cannot update a stopped container");
	check_state(SHIM_OP_UPDATE, PROC_DELETED, -ENOENT, GRPC_UNKNOWN,
		    "cannot update a deleted process");
	/* Checkpoint */
	check_state(SHIM_OP_CHECKPOINT, PROC_CREATED, -EBUSY, GRPC_UNKNOWN,
		    "cannot checkpoint a task in created state");
	check_state(SHIM_OP_CHECKPOINT, PROC_DELETED, -ENOENT, GRPC_UNKNOWN,
		    "cannot checkpoint a deleted process");
	check_state(SHIM_OP_CHECKPOINT, PROC_STOPPED, -EBUSY, GRPC_UNKNOWN,
		    "cannot checkpoint a stopped container");
	check_state(SHIM_OP_CHECKPOINT, PROC_PAUSING, -EBUSY, GRPC_UNKNOWN,
		    "cannot checkpoint a pausing container");
}

static void test_lookups(void **state)
{
	struct shim_error e = { 0 };
	int r;
	(void)state;

	r = shim_fail(&e, -ENOENT, SHIM_ERR_NO_PROCESS, SHIM_OP_NONE, "%s", "x1");
	assert_int_equal(r, -ENOENT);
	assert_maps(r, &e, GRPC_NOT_FOUND, "process x1 does not exist: not found");
	/* ResizePty's own text and code (service.go) */
	r = shim_fail(&e, -ENOENT, SHIM_ERR_NO_PROCESS, SHIM_OP_RESIZE, "%s", "x2");
	assert_maps(r, &e, GRPC_UNKNOWN, "process does not exist x2");
	r = shim_fail(&e, -ENOENT, SHIM_ERR_NO_INIT, SHIM_OP_NONE, "%s", "");
	assert_maps(r, &e, GRPC_FAILED_PRECONDITION,
		    "container must be created: failed precondition");
	r = shim_fail(&e, -EEXIST, SHIM_ERR_EXISTS, SHIM_OP_EXEC, "%s", "e1");
	assert_maps(r, &e, GRPC_ALREADY_EXISTS, "id e1: already exists");
	r = shim_fail(&e, -EPERM, SHIM_ERR_IS_INIT, SHIM_OP_DELETE_PROCESS, "%s", "c1");
	assert_maps(r, &e, GRPC_INVALID_ARGUMENT, "cannot delete init process with DeleteProcess");
}

static void test_missing_and_requests(void **state)
{
	struct shim_error e = { 0 };
	(void)state;

	shim_fail(&e, -EINVAL, SHIM_ERR_MISSING, SHIM_OP_EXEC, "%s", "spec");
	assert_maps(-EINVAL, &e, GRPC_INVALID_ARGUMENT, "exec spec is missing: invalid argument");
	shim_fail(&e, -EINVAL, SHIM_ERR_MISSING, SHIM_OP_UPDATE, "%s", "resources");
	assert_maps(-EINVAL, &e, GRPC_INVALID_ARGUMENT, "resources are missing: invalid argument");
	shim_fail(&e, -EINVAL, SHIM_ERR_MISSING, SHIM_OP_CHECKPOINT, "%s", "path");
	assert_maps(-EINVAL, &e, GRPC_INVALID_ARGUMENT,
		    "checkpoint image path not provided: invalid argument");
	shim_fail(&e, -EINVAL, SHIM_ERR_MISSING, SHIM_OP_RESIZE, "%s", "id");
	assert_maps(-EINVAL, &e, GRPC_INVALID_ARGUMENT, "id not provided: invalid argument");
	/* server/'s own request checks: the text as written, INVALID_ARGUMENT */
	shim_fail(&e, -EINVAL, SHIM_ERR_REQUEST, SHIM_OP_CREATE, "%s",
		  "bundle path b is not absolute: invalid argument");
	assert_maps(-EINVAL, &e, GRPC_INVALID_ARGUMENT,
		    "bundle path b is not absolute: invalid argument");
	/* a failed step: its message as is, UNKNOWN, whatever the errno */
	shim_fail(&e, -EINVAL, SHIM_ERR_FAILED, SHIM_OP_EXEC, "%s", "unexpected end of JSON input");
	assert_maps(-EINVAL, &e, GRPC_UNKNOWN, "unexpected end of JSON input");
	shim_fail(&e, -ENOENT, SHIM_ERR_FAILED, SHIM_OP_CREATE, "%s",
		  "failed to create init process I/O: open /x: no such file or directory");
	assert_maps(-ENOENT, &e, GRPC_UNKNOWN,
		    "failed to create init process I/O: open /x: no such file or directory");
}

static void test_runtime_failures(void **state)
{
	struct shim_error e = { 0 };
	static const struct {
		enum shim_op op;
		const char *text;
	} prefixed[] = {
		{ SHIM_OP_CREATE, "OCI runtime create failed: boom" },
		{ SHIM_OP_START, "OCI runtime start failed: boom" },
		{ SHIM_OP_RESTORE, "OCI runtime restore failed: boom" },
		{ SHIM_OP_EXEC_START, "OCI runtime exec failed: boom" },
		{ SHIM_OP_PAUSE, "OCI runtime pause failed: boom" },
		{ SHIM_OP_RESUME, "OCI runtime resume failed: boom" },
		{ SHIM_OP_DELETE, "failed to delete task: boom" },
		{ SHIM_OP_UPDATE, "boom" },
		{ SHIM_OP_LIST_PIDS, "boom" },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(prefixed) / sizeof(prefixed[0]); i++) {
		shim_fail(&e, -EIO, SHIM_ERR_RUNTIME, prefixed[i].op, "%s", "boom");
		assert_maps(-EIO, &e, GRPC_UNKNOWN, prefixed[i].text);
	}
	/* Create past its deadline: DEADLINE_EXCEEDED; other operations keep UNKNOWN */
	shim_fail(&e, -ETIMEDOUT, SHIM_ERR_RUNTIME, SHIM_OP_CREATE, "%s", "runc timed out");
	assert_maps(-ETIMEDOUT, &e, GRPC_DEADLINE_EXCEEDED,
		    "OCI runtime create failed: runc timed out: context deadline exceeded");
	shim_fail(&e, -ETIMEDOUT, SHIM_ERR_RUNTIME, SHIM_OP_DELETE, "%s", "Connection timed out");
	assert_maps(-ETIMEDOUT, &e, GRPC_UNKNOWN, "failed to delete task: Connection timed out");
	shim_fail(&e, -ENOENT, SHIM_ERR_NO_RUNTIME, SHIM_OP_CREATE, "%s", "nort");
	assert_maps(
		-ENOENT, &e, GRPC_UNKNOWN,
		"OCI runtime create failed: exec: \"nort\": executable file not found in $PATH");
	/* Checkpoint: the first line of the runtime's message, then the dump log */
	shim_fail(&e, -EIO, SHIM_ERR_RUNTIME, SHIM_OP_CHECKPOINT, "%s",
		  "runc did not terminate successfully: exit status 1: criu failed\nmore\n");
	e.path = "/b/criu-dump.log";
	assert_maps(-EIO, &e, GRPC_UNKNOWN,
		    "runc did not terminate successfully: exit status 1: criu failed path= "
		    "/b/criu-dump.log");
}

/* Go's checkKillError, for runc kill (the init) and kill(2) (an exec). */
static void test_kill(void **state)
{
	struct shim_error e = { 0 };
	(void)state;

	shim_fail(&e, -EIO, SHIM_ERR_RUNTIME, SHIM_OP_KILL, "%s",
		  "runc did not terminate successfully: exit status 1: container not running");
	assert_maps(-EIO, &e, GRPC_NOT_FOUND, "process already finished: not found");
	shim_fail(&e, -EIO, SHIM_ERR_RUNTIME, SHIM_OP_KILL, "%s", "os: process already finished");
	assert_maps(-EIO, &e, GRPC_NOT_FOUND, "process already finished: not found");
	shim_fail(&e, -EIO, SHIM_ERR_RUNTIME, SHIM_OP_KILL, "%s", "x: No Such Process");
	assert_maps(-EIO, &e, GRPC_NOT_FOUND, "process already finished: not found");
	shim_fail(&e, -EIO, SHIM_ERR_RUNTIME, SHIM_OP_KILL, "%s",
		  "runc did not terminate successfully: exit status 1: container c does not "
		  "exist");
	assert_maps(-EIO, &e, GRPC_NOT_FOUND, "no such container: not found");
	shim_fail(&e, -EIO, SHIM_ERR_RUNTIME, SHIM_OP_KILL, "%s", "weird");
	assert_maps(-EIO, &e, GRPC_UNKNOWN, "unknown error after kill: weird");
	shim_fail(&e, -ESRCH, SHIM_ERR_RUNTIME, SHIM_OP_EXEC_KILL, "%s", strerror(ESRCH));
	assert_maps(-ESRCH, &e, GRPC_NOT_FOUND,
		    "exec kill error: process already finished: not found");
	shim_fail(&e, -EPERM, SHIM_ERR_RUNTIME, SHIM_OP_EXEC_KILL, "%s", strerror(EPERM));
	assert_maps(-EPERM, &e, GRPC_UNKNOWN,
		    "exec kill error: unknown error after kill: Operation not permitted");
}

/* No facts: the errno table. */
static void test_errno_only(void **state)
{
	struct shim_error e = { 0 };
	(void)state;

	assert_maps(-ENOENT, NULL, GRPC_NOT_FOUND, "No such file or directory: not found");
	assert_maps(-ENOMEM, &e, GRPC_RESOURCE_EXHAUSTED, "Cannot allocate memory: out of memory");
	assert_maps(-EEXIST, &e, GRPC_ALREADY_EXISTS, "File exists: already exists");
	assert_maps(-EINVAL, &e, GRPC_INVALID_ARGUMENT, "Invalid argument: invalid argument");
	assert_maps(-ETIMEDOUT, &e, GRPC_DEADLINE_EXCEEDED,
		    "Connection timed out: context deadline exceeded");
	assert_maps(-EIO, &e, GRPC_UNKNOWN, "Input/output error");
	assert_maps(0, &e, GRPC_UNKNOWN, "Input/output error");
}

/* core/runtime.c gives the runtime's own message; errmap adds the operation's prefix. */
/* pkg/process: a copy that fails to start after the runtime ran (the Go errno text). */
static void test_io_start(void **state)
{
	struct shim_error e = { 0 };
	(void)state;
	container_io_start_error(&e, SHIM_OP_CREATE, false, -ENOMEM);
	assert_maps(-ENOMEM, &e, GRPC_UNKNOWN,
		    "failed to start io pipe copy: unable to copy pipes: cannot allocate memory");
	container_io_start_error(&e, SHIM_OP_EXEC_START, true, -ENOENT);
	assert_maps(-ENOENT, &e, GRPC_UNKNOWN,
		    "failed to start console copy: no such file or directory");
}

static void test_runtime_error_from_log(void **state)
{
	char dir[] = "/tmp/cshim-errmap-XXXXXX", log[256];
	struct runtime rt = { .name = "runc" };
	struct runtime_result res = { .status = 1 };
	struct shim_error e = { 0 };
	FILE *f;
	int r;
	(void)state;

	assert_non_null(mkdtemp(dir));
	snprintf(log, sizeof(log), "%s/log.json", dir);
	rt.log = log;
	/* no log: the runtime's exit text, and why the log could not be read */
	r = runtime_failure(&rt, &res, SHIM_OP_START, &e);
	assert_int_equal(r, -EIO);
	assert_int_equal(e.kind, SHIM_ERR_RUNTIME);
	char want[600];
	snprintf(want, sizeof(want),
		 "OCI runtime start failed: unable to retrieve OCI runtime error (open %s: No such "
		 "file or directory): runc did not terminate successfully: exit status 1",
		 log);
	assert_maps(r, &e, GRPC_UNKNOWN, want);
	/* the last error of the log */
	f = fopen(log, "w");
	assert_non_null(f);
	fputs("{\"level\":\"warning\",\"msg\":\"w\"}\n{\"level\":\"error\",\"msg\":\" it broke \\n\"}\n",
	      f);
	fclose(f);
	r = runtime_failure(&rt, &res, SHIM_OP_EXEC_START, &e);
	assert_maps(r, &e, GRPC_UNKNOWN, "OCI runtime exec failed: it broke");
	unlink(log);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_states),
		cmocka_unit_test(test_lookups),
		cmocka_unit_test(test_missing_and_requests),
		cmocka_unit_test(test_runtime_failures),
		cmocka_unit_test(test_kill),
		cmocka_unit_test(test_errno_only),
		cmocka_unit_test(test_runtime_error_from_log),
		cmocka_unit_test(test_io_start),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
