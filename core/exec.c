/* SPDX-License-Identifier: Apache-2.0 */
/* Exec processes (docs/v1-protocol.md §3.8): registered by Exec, run by Start (`runc exec`). */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../io/base.h"
#include "../io/fd_util.h"
#include "../io/log.h"
#include "container_priv.h"
#include "exec.h"
#include "reaper.h"
#include "specjson.h"

int container_exec(struct container *c, const struct exec_req *req, struct shim_error *err)
{
	struct proc *p, *init;
	json_t *spec;
	enum proc_status ist;
	char text[256];

	urcu_memb_read_lock();
	p = proc_table_find_id(c, req->id);
	urcu_memb_read_unlock();
	if (p)
		return shim_fail(err, -EEXIST, SHIM_ERR_EXISTS, SHIM_OP_EXEC, "%s", req->id);
	init = container_init_get(c);
	if (!init)
		return container_err_no_init(err);
	ist = container_proc_status(init);
	if (ist == PROC_CREATED && init->from_checkpoint) {
		proc_unref(init);
		return shim_fail_state(err, SHIM_OP_EXEC, ist);
	}
	proc_unref(init);
	if (ist != PROC_CREATED && ist != PROC_RUNNING)
		return shim_fail_state(err, SHIM_OP_EXEC, ist);
	if (!req->spec)
		return shim_fail(err, -EINVAL, SHIM_ERR_MISSING, SHIM_OP_EXEC, "%s", "spec");
	spec = specjson_decode(req->spec, req->spec_len, SPECJSON_PROCESS, text, sizeof(text));
	if (!spec)
		return shim_fail(err, -EINVAL, SHIM_ERR_FAILED, SHIM_OP_EXEC, "%s", text);
	json_object_set_new(spec, "terminal", json_boolean(req->terminal));
	p = proc_new(req->id, false, req->in, req->out, req->err, req->terminal);
	if (!p) {
		json_decref(spec);
		return -ENOMEM;
	}
	p->spec_json = json_dumps(spec, JSON_COMPACT);
	json_decref(spec);
	if (!p->spec_json) {
		proc_unref(p);
		return -ENOMEM;
	}
	proc_set_container(p, c);
	if (proc_table_add(p) < 0) {
		proc_unref(p);
		return shim_fail(err, -EEXIST, SHIM_ERR_EXISTS, SHIM_OP_EXEC, "%s", req->id);
	}
	proc_unref(p);
	return 0;
}

/* Writes the process spec to a temp file outside the bundle. */
static int write_spec(const char *json, char *path, size_t pathsz)
{
	int fd, r;
	snprintf(path, pathsz, "%s/runc-processXXXXXX", pty_temp_dir());
	fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = fd_write_all(fd, json, strlen(json));
	if (r == 0)
		r = fd_write_all(fd, "\n", 1);
	close(fd);
	if (r < 0)
		(void)unlink(path);
	return r;
}

int exec_start(struct proc *p, uint64_t deadline_ns, struct shim_error *err)
{
	struct container *c = p->c;
	_cleanup_free_ char *pidfile = NULL; /* heap: worker stacks are 256 KiB */
	char specfile[4200], msg[512];
	struct stdio_cfg scfg = { .in = p->in,
				  .out = p->out,
				  .err = p->err,
				  .uid = c->opts.io_uid,
				  .gid = c->opts.io_gid,
				  .terminal = p->terminal };
	struct stdio io;
	struct timespec zero = { 0, 0 };
	struct launch l;
	const char *args[12];
	int n = 0, r;
	enum proc_status st = container_proc_status(p);

	if (st != PROC_CREATED)
		return shim_fail_state(err, SHIM_OP_EXEC_START, st);
	if (asprintf(&pidfile, "%s/%s.pid", c->bundle, p->id) < 0)
		return -ENOMEM;
	struct logger lg = { .pidfd = -1 };

	r = container_io_prepare(&scfg, p->id, &io, &lg, msg, sizeof(msg));
	if (r < 0)
		return shim_fail(err, r, SHIM_ERR_FAILED, SHIM_OP_EXEC_START,
				 "failed to create exec process I/O: %s", msg);
	r = write_spec(p->spec_json, specfile, sizeof(specfile));
	if (r < 0) {
		stdio_destroy(&io);
		logger_stop(&lg);
		return shim_fail(err, r, SHIM_ERR_FAILED, SHIM_OP_EXEC_START,
				 "failed to write exec spec: %s", strerror(-r));
	}
	r = launch_prepare(&l, SHIM_OP_EXEC_START, p->terminal, err);
	if (r < 0) {
		(void)unlink(specfile);
		stdio_destroy(&io);
		logger_stop(&lg);
		return r;
	}
	args[n++] = "exec";
	args[n++] = "--process";
	args[n++] = specfile;
	if (p->terminal) {
		args[n++] = "--console-socket";
		args[n++] = l.cs.path;
	}
	args[n++] = "--detach";
	args[n++] = "--pid-file";
	args[n++] = pidfile;
	args[n++] = c->id;
	args[n] = NULL;

	r = launch_run(&l,
		       &(struct launch_call){ .rt = &c->rt,
					      .args = args,
					      .io = &io,
					      .pid_file = pidfile,
					      .pid_what = "exec",
					      .deadline_ns = deadline_ns },
		       err);
	(void)unlink(specfile);
	if (r < 0)
		goto fail;
	stdio_move(&p->io, &io);
	r = p->terminal ? stdio_start_console(&p->io, S.loop, TAKE_FD(l.master), p->id)
			: stdio_start(&p->io, S.loop, p->id);
	if (r < 0) {
		/* The runtime started the process: kill it (the shim's child, not reaped yet
		 * unless it exited: then its exit sits in the unclaimed table and the pidfd
		 * cannot be had). The exec stays created, its Wait released as below. */
		int pfd = (int)syscall(SYS_pidfd_open, (pid_t)l.pid, 0);
		if (pfd >= 0) {
			(void)syscall(SYS_pidfd_send_signal, pfd, SIGKILL, NULL, 0);
			close(pfd);
		}
		stdio_destroy(&p->io);
		container_io_start_error(err, SHIM_OP_EXEC_START, p->terminal, r);
		goto fail;
	}
	p->io_started = true;
	p->logger = lg;
	pthread_mutex_lock(&p->st_mu);
	{
		struct proc_snap s = *p->snap;
		s.pid = l.pid;
		if (s.status == PROC_CREATED)
			s.status = PROC_RUNNING;
		(void)proc_snap_set(p, &s);
	}
	pthread_mutex_unlock(&p->st_mu);
	(void)proc_table_map_pid(p, l.pid);
	exit_claim(p, l.pid, l.t0);
	launch_finish(&l);
	return 0;
fail:
	launch_finish(&l);
	stdio_destroy(&io);
	logger_stop(&lg);
	/* A failed start releases Wait at once with status 0 (Go's behaviour). */
	proc_wait_release(p, 0, &zero);
	return -EIO;
}

int exec_kill(struct proc *p, uint32_t sig, struct shim_error *err)
{
	struct proc_snap s;
	int r;

	proc_snap_get(p, &s);
	if (s.status == PROC_DELETED)
		return shim_fail_state(err, SHIM_OP_EXEC_KILL, PROC_DELETED);
	if (s.pid == 0) /* not started */
		return shim_fail_state(err, SHIM_OP_EXEC_KILL, PROC_CREATED);
	if (s.status == PROC_STOPPED)
		return shim_fail_state(err, SHIM_OP_EXEC_KILL, PROC_STOPPED);
	if (p->pidfd >= 0)
		r = (int)syscall(SYS_pidfd_send_signal, p->pidfd, (int)sig, NULL, 0);
	else
		r = kill((pid_t)s.pid, (int)sig);
	if (r < 0)
		return shim_fail(err, -errno, SHIM_ERR_RUNTIME, SHIM_OP_EXEC_KILL, "%s",
				 strerror(errno));
	return 0;
}

int container_resize_pty(struct container *c, const char *id, uint32_t width, uint32_t height,
			 struct shim_error *err)
{
	struct proc *p;
	enum proc_status st;
	int r = 0;

	if (!*id && !(c && c->init_by_empty_id)) /* v2: "" is the init */
		return shim_fail(err, -EINVAL, SHIM_ERR_MISSING, SHIM_OP_RESIZE, "%s", "id");
	p = proc_table_get(c, id);
	if (!p)
		return shim_fail(err, -ENOENT, SHIM_ERR_NO_PROCESS, SHIM_OP_RESIZE, "%s", id);
	st = container_proc_status(p);
	if (!p->is_init && (st == PROC_STOPPED || st == PROC_DELETED))
		r = shim_fail_state(err, SHIM_OP_RESIZE, st);
	else if ((r = stdio_resize(&p->io, width, height)) < 0)
		r = shim_fail(err, r, SHIM_ERR_FAILED, SHIM_OP_RESIZE, "%s", strerror(-r));
	proc_unref(p);
	return r;
}
