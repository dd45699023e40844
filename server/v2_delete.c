/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `SHIM ... -id ID -bundle BUNDLE delete` (spec v2 §1.7): what containerd runs after every
 * teardown and after a shim died. As the Go shim: runc delete --force (with the root and
 * runtime the container was started with), unmount the rootfs, read init.pid, and print
 * DeleteResponse{pid, 137, now} on stdout. Problems on the way are warnings (stderr), so a
 * container that is already gone is deleted successfully.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/mount.h"
#include "core/spawn.h"
#include "core/v2_bundle.h"
#include "core/v2_socket.h"
#include "github.com/containerd/containerd/runtime/v2/task/shim.pb-c.h"
#include "io/base.h"
#include "io/fd_util.h"
#include "v2_actions.h"
#include "v2_delete.h"
#include "v2_exec.h"

#define DELETE_EXIT_STATUS 137 /* 128 + SIGKILL, what containerd publishes for the task */

static void warn(const char *what, const char *detail)
{
	fprintf(stderr, "cshim: delete: %s: %s\n", what, detail);
}

static void runc_delete(const struct v2_runtime_opts *o, const char *bundle, const char *ns,
			const char *id)
{
	_cleanup_free_ char *root = NULL, *log = NULL, *out = NULL, *path = malloc(PATH_MAX);
	size_t len;
	int status, r;

	if (!path || spawn_find_program(o->binary_name, path, PATH_MAX) < 0) {
		warn("failed to remove runc container", "runtime not found in PATH");
		return;
	}
	if (asprintf(&root, "%s/%s", o->root, ns) < 0 || asprintf(&log, "%s/log.json", bundle) < 0)
		return;
	/* Go's delete passes neither --systemd-cgroup nor --criu (runc's state has them). */
	char *argv[] = { o->binary_name, "--root", root,      "--log",    log, "--log-format",
			 "json",         "delete", "--force", (char *)id, NULL };
	r = v2_exec_capture(path, argv, 4096, &out, &len, &status);
	if (r < 0)
		warn("failed to remove runc container", strerror(-r));
	else if (status != 0)
		fprintf(stderr,
			"cshim: delete: failed to remove runc container: %s exit status %d\n",
			o->binary_name, status);
}

/* go-runc's ReadPidFile gives -1 for a missing or unparsable file, which the Go shim sends as
 * uint32: 4294967295 (seen with containerd-shim-runc-v2 1.6.20 on a bundle without init.pid). */
#define PID_UNKNOWN UINT32_MAX

static uint32_t read_init_pid(const char *bundle)
{
	_cleanup_free_ char *path = NULL, *buf = NULL;
	size_t len;
	char *end;
	long pid;

	if (asprintf(&path, "%s/init.pid", bundle) < 0)
		return 0;
	if (fd_read_file(path, 64, &buf, &len) < 0) {
		warn("failed to read init pid file", path);
		return PID_UNKNOWN;
	}
	pid = strtol(buf, &end, 10);
	if (end == buf || *end != '\0' || pid < INT_MIN || pid > INT_MAX) { /* Go's Atoi */
		warn("invalid init pid file", path);
		return PID_UNKNOWN;
	}
	return (uint32_t)(int32_t)pid;
}

/* The group socket this container's start bound or reused, from BUNDLE/address: removed when
 * its shim is dead (the Go shim leaves it for ever; a live group shim keeps it). */
static void remove_dead_socket(const char *bundle)
{
	_cleanup_free_ char *path = NULL, *addr = NULL;
	size_t len;
	int r;

	if (asprintf(&path, "%s/address", bundle) < 0 || fd_read_file(path, 4096, &addr, &len) < 0)
		return;
	if (strncmp(addr, "unix://", 7) != 0 || strlen(addr) != len)
		return;
	if ((r = v2_socket_remove_dead(addr + 7)) < 0)
		warn("failed to remove the shim socket", strerror(-r));
}

int v2_delete_response(uint32_t pid, const struct timespec *now, uint8_t *buf, size_t bufsz)
{
	Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
	Containerd__Task__V2__DeleteResponse resp = CONTAINERD__TASK__V2__DELETE_RESPONSE__INIT;

	ts.seconds = now->tv_sec;
	ts.nanos = (int32_t)now->tv_nsec;
	resp.pid = pid;
	resp.exit_status = DELETE_EXIT_STATUS;
	resp.exited_at = &ts;
	if (containerd__task__v2__delete_response__get_packed_size(&resp) > bufsz)
		return -ENOBUFS;
	return (int)containerd__task__v2__delete_response__pack(&resp, buf);
}

int v2_delete_main(const struct v2_flags *f)
{
	struct v2_runtime_opts o;
	_cleanup_free_ char *cwd = NULL, *rootfs = NULL;
	const char *bundle = f->bundle;
	struct timespec now;
	uint8_t out[64];
	uint32_t pid;
	int r, n;

	if (!*f->id) {
		fprintf(stderr, "cshim: delete: -id is required\n");
		return 1;
	}
	if (!*bundle) {
		cwd = getcwd(NULL, 0);
		if (!cwd) {
			fprintf(stderr, "cshim: delete: getcwd: %s\n", strerror(errno));
			return 1;
		}
		bundle = cwd;
	}
	r = v2_bundle_load_opts(bundle, &o);
	if (r < 0) {
		fprintf(stderr, "cshim: delete: %s/%s: %s\n", bundle, V2_OPTIONS_FILE,
			r == -EINVAL ? "not cshim's options record" : strerror(-r));
		return 1;
	}
	if ((r = spawn_init_env()) < 0) {
		v2_runtime_opts_free(&o);
		fprintf(stderr, "cshim: delete: %s\n", strerror(-r));
		return 1;
	}
	runc_delete(&o, bundle, f->ns, f->id);
	v2_runtime_opts_free(&o);
	if (asprintf(&rootfs, "%s/rootfs", bundle) < 0)
		return 1;
	if ((r = mount_unmount_all(rootfs)) < 0)
		warn("failed to cleanup rootfs mount", strerror(-r));
	remove_dead_socket(bundle);
	pid = read_init_pid(bundle);
	clock_gettime(CLOCK_REALTIME, &now);
	n = v2_delete_response(pid, &now, out, sizeof(out));
	if (n < 0 || fd_write_all(STDOUT_FILENO, out, (size_t)n) < 0) {
		fprintf(stderr, "cshim: delete: writing the response failed\n");
		return 1;
	}
	return 0;
}
