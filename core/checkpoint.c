/* SPDX-License-Identifier: Apache-2.0 */
/* Checkpoint (runc checkpoint, criu) and the restore that Start does for an init created from a
 * checkpoint (docs/v1-protocol.md §7). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../io/base.h"
#include "../io/fd_util.h"
#include "../io/log.h"
#include "container_priv.h"
#include "pathcheck.h"
#include "reaper.h"

/* WORK/dump.log for reading, never through a symlink: the default work dir is opened
 * O_NOFOLLOW beneath our own (trusted) work dir, a requested one was validated symlink-free
 * (server/validate.c) and is resolved the same way again; dump.log itself must be a regular
 * file (O_NONBLOCK: a FIFO planted there cannot block the open). fd or -errno. */
static int open_dump_log(const char *work, bool own_work)
{
	struct stat st;
	int dfd, fd;

	if (own_work) {
		int wfd = open(S.cfg.workdir, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (wfd < 0)
			return -errno;
		dfd = openat(wfd, "criu-work", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (dfd < 0)
			dfd = -errno;
		close(wfd);
	} else {
		dfd = path_open_nofollow(work, O_PATH | O_DIRECTORY, 0);
	}
	if (dfd < 0)
		return dfd;
	fd = openat(dfd, "dump.log", O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		fd = -errno;
	close(dfd);
	if (fd >= 0 && (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))) {
		close(fd);
		fd = -EINVAL;
	}
	return fd;
}

/* Copies WORK/dump.log to `to` (BUNDLE/criu-dump.log), best effort as the Go shim does, but
 * without following a symlink at either end: the copy is written to a new file in the bundle
 * (O_EXCL) and renamed over `to`, which replaces whatever `to` was (a symlink planted there
 * included) instead of writing through it. */
static void copy_dump_log(const char *to, const char *work, bool own_work)
{
	_cleanup_free_ char *tmp = NULL;
	char *buf = NULL;
	size_t len = 0;
	int src, fd, r;

	src = open_dump_log(work, own_work);
	if (src < 0) {
		log_debug("checkpoint: %s/dump.log not copied: %s", work, strerror(-src));
		return;
	}
	r = fd_read_all(src, 64u << 20, &buf, &len);
	close(src);
	if (r < 0) {
		free(buf);
		return;
	}
	if (asprintf(&tmp, "%s.XXXXXX", to) < 0) {
		free(buf);
		return;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		log_warn("checkpoint: cannot create %s: %s", tmp, strerror(errno));
		free(buf);
		return;
	}
	r = fchmod(fd, 0644) < 0 ? -errno : fd_write_all(fd, buf, len);
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, to) < 0)
		r = -errno;
	if (r < 0) {
		log_warn("checkpoint: cannot write %s: %s", to, strerror(-r));
		(void)unlink(tmp);
	}
	free(buf);
}

/* <bundle>/criu-dump.log, made once per container (checkpoints run under the init's lock):
 * it lives as long as the container, which the caller holds, so an error may point to it. */
static const char *dump_log_path(struct container *c)
{
	if (!c->dump_log && asprintf(&c->dump_log, "%s/criu-dump.log", c->bundle) < 0)
		c->dump_log = NULL;
	return c->dump_log;
}

int container_checkpoint(struct container *c, const struct checkpoint_req *req,
			 struct shim_error *err)
{
	char work[4200], text[SHIM_ERR_MAX];
	const char *args[32];
	struct runtime_result res;
	struct proc *p;
	enum proc_status st;
	bool own_work = false;
	int n = 0, r;

	p = container_init_get(c);
	if (!p)
		return container_err_no_init(err);
	if (!req->path || !*req->path) {
		proc_unref(p);
		return shim_fail(err, -EINVAL, SHIM_ERR_MISSING, SHIM_OP_CHECKPOINT, "%s", "path");
	}
	pthread_mutex_lock(&p->mu);
	st = container_proc_status(p);
	if (st != PROC_RUNNING && st != PROC_PAUSED) {
		r = shim_fail_state(err, SHIM_OP_CHECKPOINT, st);
		goto out;
	}
	if (req->work_path && *req->work_path) {
		snprintf(work, sizeof(work), "%s", req->work_path);
	} else {
		snprintf(work, sizeof(work), "%s/criu-work", S.cfg.workdir);
		own_work = true;
		/* a leftover (or planted symlink) would be reused by runc: start afresh */
		(void)path_remove_tree(work);
	}
	args[n++] = "checkpoint";
	args[n++] = "--image-path";
	args[n++] = req->path;
	args[n++] = "--work-path";
	args[n++] = work;
	if (req->open_tcp)
		args[n++] = "--tcp-established";
	if (req->external_unix_sockets)
		args[n++] = "--ext-unix-sk";
	if (req->terminal)
		args[n++] = "--shell-job";
	if (req->file_locks)
		args[n++] = "--file-locks";
	for (size_t i = 0; i < req->n_empty_namespaces && n < 26; i++) {
		args[n++] = "--empty-ns";
		args[n++] = req->empty_namespaces[i];
	}
	if (!req->exit)
		args[n++] = "--leave-running";
	args[n++] = p->id;
	args[n] = NULL;
	r = runtime_run(&c->rt,
			&(struct runtime_call){ .args = args, .deadline_ns = req->deadline_ns },
			&res);
	if (r < 0 || res.status != 0) {
		if (r < 0)
			snprintf(text, sizeof(text), "%s", strerror(-r));
		else
			runtime_exit_text(&c->rt, &res, text, sizeof(text));
		const char *dumplog = dump_log_path(c);
		if (dumplog)
			copy_dump_log(dumplog, work, own_work);
		r = shim_fail(err, -EIO, SHIM_ERR_RUNTIME, SHIM_OP_CHECKPOINT, "%s", text);
		if (err)
			err->path = dumplog;
	}
	runtime_result_free(&res);
	if (own_work)
		(void)path_remove_tree(work); /* symlinks in it are removed, never followed */
out:
	pthread_mutex_unlock(&p->mu);
	proc_unref(p);
	return r;
}

int container_restore(struct container *c, struct proc *p, uint64_t deadline_ns,
		      struct shim_error *err)
{
	const char *work = c->criu_work_path ? c->criu_work_path : S.cfg.workdir;
	char pidfile[4200];
	struct launch l;
	const char *args[24];
	int n = 0, r;

	snprintf(pidfile, sizeof(pidfile), "%s/init.pid", c->bundle);
	r = launch_prepare(&l, SHIM_OP_RESTORE, p->terminal, err);
	if (r < 0)
		return r;
	args[n++] = "restore";
	args[n++] = "--image-path";
	args[n++] = p->ckpt_image;
	args[n++] = "--work-path";
	args[n++] = work;
	if (p->ckpt_parent && *p->ckpt_parent) {
		args[n++] = "--parent-path";
		args[n++] = p->ckpt_parent;
	}
	args[n++] = "--detach";
	args[n++] = "--pid-file";
	args[n++] = pidfile;
	if (p->terminal) {
		args[n++] = "--console-socket";
		args[n++] = l.cs.path;
	}
	if (c->opts.no_pivot_root)
		args[n++] = "--no-pivot";
	args[n++] = "-no-subreaper";
	args[n++] = "--bundle";
	args[n++] = c->bundle;
	args[n++] = p->id;
	args[n] = NULL;

	r = launch_run(&l,
		       &(struct launch_call){ .rt = &c->rt,
					      .args = args,
					      .io = &p->io,
					      .pid_file = pidfile,
					      .pid_what = "container",
					      .deadline_ns = deadline_ns },
		       err);
	if (r < 0) {
		if (!l.ran)
			r = -EIO;
		goto out;
	}
	pthread_mutex_lock(&p->st_mu);
	{
		struct proc_snap s = *p->snap;
		s.pid = l.pid;
		if (s.status == PROC_CREATED)
			s.status = PROC_RUNNING;
		(void)proc_snap_set(p, &s);
	}
	pthread_mutex_unlock(&p->st_mu);
	p->from_checkpoint = false;
	(void)proc_table_map_pid(p, l.pid);
	r = p->terminal ? stdio_start_console(&p->io, S.loop, TAKE_FD(l.master), p->id)
			: stdio_start(&p->io, S.loop, p->id);
	if (r < 0)
		log_warn("%s: failed to start io copy: %s", p->id, strerror(-r));
	p->io_started = true;
	exit_claim(p, l.pid, l.t0);
	r = 0;
out:
	launch_finish(&l);
	return r;
}
