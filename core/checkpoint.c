/* SPDX-License-Identifier: Apache-2.0 */
/* Checkpoint (runc checkpoint, criu) and the restore that Start does for an init created from a
 * checkpoint (spec §3.2, §3.12). */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../io/base.h"
#include "../io/fd_util.h"
#include "../io/log.h"
#include "container_priv.h"
#include "reaper.h"

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	(void)remove(path);
	return 0;
}

static void rm_rf(const char *dir)
{
	(void)nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void copy_file(const char *to, const char *from)
{
	char *buf = NULL;
	size_t len = 0;
	int fd;

	if (fd_read_file(from, 64u << 20, &buf, &len) < 0)
		return;
	fd = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd >= 0) {
		(void)fd_write_all(fd, buf, len);
		close(fd);
	}
	free(buf);
}

int container_checkpoint(const struct checkpoint_req *req, struct shim_error *err)
{
	char work[4200], text[SHIM_ERR_MAX], dumplog[4200], src[4300];
	const char *args[32];
	struct runtime_result res;
	struct proc *p;
	enum proc_status st;
	bool own_work = false;
	int n = 0, r;

	pthread_mutex_lock(&C.mu);
	p = C.init ? proc_ref(C.init) : NULL;
	pthread_mutex_unlock(&C.mu);
	if (!p)
		return container_err_no_init(err);
	if (!req->path || !*req->path) {
		proc_unref(p);
		return shim_error_set(err, 3, "checkpoint image path not provided: invalid argument");
	}
	pthread_mutex_lock(&p->mu);
	st = container_proc_status(p);
	if (st != PROC_RUNNING && st != PROC_PAUSED) {
		if (st == PROC_CREATED)
			r = shim_error_set(err, 2, "cannot checkpoint a task in created state");
		else if (st == PROC_DELETED)
			r = shim_error_set(err, 2, "cannot checkpoint a deleted process");
		else
			r = shim_error_set(err, 2, "cannot checkpoint a %s container",
					   container_status_word(st));
		goto out;
	}
	if (req->work_path && *req->work_path) {
		snprintf(work, sizeof(work), "%s", req->work_path);
	} else {
		snprintf(work, sizeof(work), "%s/criu-work", C.cfg.workdir);
		own_work = true;
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
	r = runtime_run(&C.rt, &(struct runtime_call){ .args = args, .deadline_ns = req->deadline_ns },
			&res);
	if (r < 0 || res.status != 0) {
		if (r < 0)
			snprintf(text, sizeof(text), "%s", strerror(-r));
		else
			runtime_exit_text(&C.rt, &res, text, sizeof(text));
		text[strcspn(text, "\n")] = '\0'; /* the first line */
		snprintf(dumplog, sizeof(dumplog), "%s/criu-dump.log", container_bundle_path());
		snprintf(src, sizeof(src), "%s/dump.log", work);
		copy_file(dumplog, src);
		r = shim_error_set(err, 2, "%s path= %s", text, dumplog);
	}
	runtime_result_free(&res);
	if (own_work)
		rm_rf(work);
out:
	pthread_mutex_unlock(&p->mu);
	proc_unref(p);
	return r;
}

int container_restore(struct proc *p, uint64_t deadline_ns, struct shim_error *err)
{
	char pidfile[4200], work[4200];
	struct console_socket cs = { .fd = -1 };
	struct runtime_result res;
	struct timespec t0;
	const char *args[24];
	uint32_t pid;
	int n = 0, r, master = -1;

	snprintf(pidfile, sizeof(pidfile), "%s/init.pid", container_bundle_path());
	snprintf(work, sizeof(work), "%s", C.criu_work_path[0] ? C.criu_work_path : C.cfg.workdir);
	if (p->terminal && (r = console_socket_new(&cs)) < 0)
		return shim_error_set(err, 2, "failed to create OCI runtime console socket: %s",
				      strerror(-r));
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
		args[n++] = cs.path;
	}
	if (C.opts.no_pivot_root)
		args[n++] = "--no-pivot";
	args[n++] = "-no-subreaper";
	args[n++] = "--bundle";
	args[n++] = container_bundle_path();
	args[n++] = p->id;
	args[n] = NULL;

	reaper_start_begin();
	clock_gettime(CLOCK_REALTIME, &t0);
	r = runtime_run(&C.rt,
			&(struct runtime_call){ .args = args,
						.fds = p->terminal ? NULL : p->io.rt_fd,
						.deadline_ns = deadline_ns },
			&res);
	stdio_spawned(&p->io);
	if (r < 0 || res.status != 0) {
		if (r < 0)
			shim_error_set(err, 2, "OCI runtime restore failed: %s", strerror(-r));
		else
			runtime_error(&C.rt, &res, "OCI runtime restore failed", err);
		runtime_result_free(&res);
		r = -EIO;
		goto out;
	}
	runtime_result_free(&res);
	if (p->terminal && (r = container_recv_console(&cs, &master, err)) < 0)
		goto out;
	r = container_read_pid_file(pidfile, &pid);
	if (r < 0) {
		safe_close(master);
		r = shim_error_set(err, 2, "failed to retrieve OCI runtime container pid: %s",
				   strerror(-r));
		goto out;
	}
	pthread_mutex_lock(&p->st_mu);
	{
		struct proc_snap s = *p->snap;
		s.pid = pid;
		if (s.status == PROC_CREATED)
			s.status = PROC_RUNNING;
		(void)proc_snap_set(p, &s);
	}
	pthread_mutex_unlock(&p->st_mu);
	p->from_checkpoint = false;
	(void)proc_table_map_pid(p, pid);
	r = p->terminal ? stdio_start_console(&p->io, C.loop, master, p->id)
			: stdio_start(&p->io, C.loop, p->id);
	if (r < 0)
		log_warn("%s: failed to start io copy: %s", p->id, strerror(-r));
	p->io_started = true;
	container_claim_exit(p, pid, &t0);
	r = 0;
out:
	reaper_start_end();
	console_socket_close(&cs);
	return r;
}
