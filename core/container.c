/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <urcu/urcu-memb.h>

#include "../io/base.h"
#include "../io/clock.h"
#include "../io/fd_util.h"
#include "../io/log.h"
#include "../io/loop.h"
#include "../io/pty.h"
#include "container_priv.h"
#include "exec.h"
#include "exit_gate.h"
#include "pids.h"
#include "reaper.h"
#include "specjson.h"

#define IO_WAIT_MS 2000
#define EXIT_DRAIN_MS 1000
#define CLEANUP_TIMEOUT_NS (10ULL * 1000000000ULL)

struct container C = { .mu = PTHREAD_MUTEX_INITIALIZER };

static void on_proc_exit(void *cookie, int status);
static void exec_live_add(int d);
static void exit_delivery_wait(struct proc *p);

int container_setup(const struct shim_config *cfg, struct loop *loop, container_exit_sink sink)
{
	C.cfg = *cfg;
	C.loop = loop;
	C.sink = sink;
	return proc_table_init();
}

const char *container_id(void)
{
	struct cinfo *i = rcu_deref(C.info);
	return i ? i->id : "";
}

const char *container_bundle_path(void)
{
	struct cinfo *i = rcu_deref(C.info);
	return i ? i->bundle : "";
}

int container_err_not_found(struct shim_error *err, const char *id)
{
	return shim_fail(err, -ENOENT, SHIM_ERR_NO_PROCESS, SHIM_OP_NONE, "%s", id);
}

int container_err_no_init(struct shim_error *err)
{
	return shim_fail(err, -ENOENT, SHIM_ERR_NO_INIT, SHIM_OP_NONE, "%s", "");
}

enum proc_status container_proc_status(struct proc *p)
{
	struct proc_snap s;
	proc_snap_get(p, &s);
	return s.status;
}

/* Does config.json give the container its own pid namespace? (No: kill --all at exit.) */
static bool bundle_own_pidns(const char *bundle)
{
	char path[4096];
	json_error_t jerr;
	json_t *root, *ns, *e;
	bool own = false;
	size_t i;

	snprintf(path, sizeof(path), "%s/config.json", bundle);
	root = json_load_file(path, 0, &jerr);
	if (!root)
		return false;
	ns = json_object_get(json_object_get(root, "linux"), "namespaces");
	json_array_foreach(ns, i, e) {
		const char *t = json_string_value(json_object_get(e, "type"));
		const char *p = json_string_value(json_object_get(e, "path"));
		if (t && strcmp(t, "pid") == 0 && (!p || !*p))
			own = true;
	}
	json_decref(root);
	return own;
}

int container_read_pid_file(const char *path, uint32_t *ret)
{
	char *buf = NULL;
	char *end;
	unsigned long v;
	int r = fd_read_file(path, 64, &buf, NULL);
	if (r < 0)
		return r;
	errno = 0;
	v = strtoul(buf, &end, 10);
	if (errno || end == buf || v == 0 || v > INT32_MAX) {
		free(buf);
		return -EINVAL;
	}
	free(buf);
	*ret = (uint32_t)v;
	return 0;
}

/* The pid of a just-started process is known: route its exit (which may have happened). */
void container_claim_exit(struct proc *p, uint32_t pid, uint64_t t0)
{
	int status, pidfd = -1, r;
	bool exec = !p->is_init;

	proc_ref(p); /* for the reaper's claim */
	if (exec)
		exec_live_add(1);
	r = reaper_claim_pid((pid_t)pid, p, t0, &status, &pidfd);
	p->pidfd = pidfd;
	if (r == 1) {
		on_proc_exit(p, status);
	} else if (r < 0) {
		proc_unref(p);
		if (exec)
			exec_live_add(-1);
	}
}

int container_io_prepare(const struct stdio_cfg *cfg, const char *id, struct stdio *io,
			 struct logger *lg, char *msg, size_t msgsz)
{
	int fds[3], r;

	if (!cfg->out || strncmp(cfg->out, "binary://", 9) != 0)
		return stdio_prepare(cfg, io, msg, msgsz);
	stdio_init(io);
	if (cfg->terminal) {
		snprintf(msg, msgsz, "binary:// logging of a terminal is not supported");
		return -ENOTSUP;
	}
	r = logger_start(cfg->out, id, C.cfg.ns, lg, fds, msg, msgsz);
	if (r < 0)
		return r;
	io->rt_fd[0] = fd_open_devnull(O_RDONLY);
	io->rt_fd[1] = fds[1];
	io->rt_fd[2] = fds[2];
	return 0;
}

/* The container's settings, once its init is in the table (C.mu held). */
static void create_commit(const struct create_req *req, struct runtime *rt, bool mounted,
			  struct proc *p)
{
	if (!C.info) {
		struct cinfo *ci = calloc(1, sizeof(*ci));
		if (ci) {
			snprintf(ci->id, sizeof(ci->id), "%s", req->id);
			snprintf(ci->bundle, sizeof(ci->bundle), "%s", req->bundle);
			rcu_publish(C.info, ci);
		}
	}
	runtime_free(&C.rt); /* (none: one Create per shim) */
	C.rt = *rt;
	rt->strings = NULL; /* moved */
	C.opts = req->opts;
	free(C.criu_work_path);
	C.criu_work_path = req->opts.criu_work_path && *req->opts.criu_work_path
				   ? strdup(req->opts.criu_work_path)
				   : NULL;
	C.opts.criu_work_path = C.criu_work_path;
	C.have_mounts = mounted;
	C.own_pidns = bundle_own_pidns(req->bundle);
	C.init = proc_ref(p);
}

int container_io_start_error(struct shim_error *err, enum shim_op op, bool terminal, int r)
{
	return shim_fail(err, r, SHIM_ERR_IO_START, op, "%s", terminal ? "console" : "pipes");
}

/* runc delete --force after a successful runc create whose Create then failed. */
static void delete_created(const struct runtime *rt, const char *id)
{
	const char *args[] = { "delete", "--force", id, NULL };
	struct runtime_result res;
	int r = runtime_run(
		rt,
		&(struct runtime_call){ .args = args,
					.deadline_ns = reaper_now_ns() + CLEANUP_TIMEOUT_NS },
		&res);
	if (r < 0 || res.status != 0)
		log_warn("%s: cleanup after a failed create: runtime delete failed: %s", id,
			 r < 0 ? strerror(-r) : "non-zero exit");
	runtime_result_free(&res);
}

int container_create(const struct create_req *req, uint32_t *ret_pid, struct shim_error *err)
{
	_cleanup_free_ char *pidfile = NULL; /* heap: worker stacks are 256 KiB */
	char rootfs[4096], msg[512];
	struct runtime rt;
	struct stdio io;
	struct stdio_cfg scfg = { .in = req->in,
				  .out = req->out,
				  .err = req->err,
				  .uid = req->opts.io_uid,
				  .gid = req->opts.io_gid,
				  .terminal = req->terminal };
	struct console_socket cs = { .fd = -1 };
	struct logger lg = { .pidfd = -1 };
	struct runtime_result res;
	uint64_t t0;
	struct proc *p = NULL;
	const char *args[16];
	uint32_t pid = 0;
	bool mounted = false;
	int n = 0, r, master = -1;

	if (asprintf(&pidfile, "%s/init.pid", req->bundle) < 0)
		return -ENOMEM;
	pthread_mutex_lock(&C.mu);
	r = runtime_init(&rt, req->runtime, C.cfg.runtime_root, C.cfg.ns, C.cfg.bundle, C.cfg.criu,
			 C.cfg.systemd_cgroup);
	if (r < 0) {
		shim_fail(err, r, SHIM_ERR_NO_RUNTIME, SHIM_OP_CREATE, "%s",
			  req->runtime && *req->runtime ? req->runtime : "runc");
		goto out;
	}
	snprintf(rootfs, sizeof(rootfs), "%s/rootfs", req->bundle);
	if (req->n_mounts > 0) {
		if (mkdir(rootfs, 0711) < 0 && errno != EEXIST) {
			r = -errno;
			shim_fail(err, r, SHIM_ERR_FAILED, SHIM_OP_CREATE, "mkdir %s: %s", rootfs,
				  strerror(-r));
			goto out;
		}
		r = mount_all(req->mounts, req->n_mounts, rootfs, msg, sizeof(msg));
		if (r < 0) {
			shim_fail(err, r, SHIM_ERR_FAILED, SHIM_OP_CREATE, "%s", msg);
			goto out;
		}
		mounted = true;
	}
	r = container_io_prepare(&scfg, req->id, &io, &lg, msg, sizeof(msg));
	if (r < 0) {
		shim_fail(err, r, SHIM_ERR_FAILED, SHIM_OP_CREATE,
			  "failed to create init process I/O: %s", msg);
		goto out_unmount;
	}

	if (req->checkpoint && *req->checkpoint) {
		/* Restored by Start: no runtime call now, pid 0. */
		p = proc_new(req->id, true, req->in, req->out, req->err, req->terminal);
		if (!p || !(p->ckpt_image = strdup(req->checkpoint)) ||
		    !(p->ckpt_parent =
			      strdup(req->parent_checkpoint ? req->parent_checkpoint : ""))) {
			r = -ENOMEM;
			stdio_destroy(&io);
			goto out_unmount_p;
		}
		p->from_checkpoint = true;
		stdio_move(&p->io, &io);
		p->logger = lg;
		lg.pid = 0;
		lg.pidfd = -1;
		r = proc_table_add(p);
		if (r < 0) {
			shim_fail(err, -EEXIST, SHIM_ERR_EXISTS, SHIM_OP_CREATE, "%s", req->id);
			goto out_unmount_p;
		}
		create_commit(req, &rt, mounted, p);
		proc_unref(p);
		*ret_pid = 0;
		pthread_mutex_unlock(&C.mu);
		return 0;
	}
	if (req->terminal && (r = console_socket_new(&cs)) < 0) {
		shim_fail(err, r, SHIM_ERR_FAILED, SHIM_OP_CREATE,
			  "failed to create OCI runtime console socket: %s", strerror(-r));
		stdio_destroy(&io);
		goto out_unmount;
	}
	args[n++] = "create";
	args[n++] = "--bundle";
	args[n++] = req->bundle;
	args[n++] = "--pid-file";
	args[n++] = pidfile;
	if (req->terminal) {
		args[n++] = "--console-socket";
		args[n++] = cs.path;
	}
	if (req->opts.no_pivot_root)
		args[n++] = "--no-pivot";
	if (req->opts.no_new_keyring)
		args[n++] = "--no-new-keyring";
	args[n++] = req->id;
	args[n] = NULL;

	t0 = reaper_start_begin();
	r = runtime_run(&rt,
			&(struct runtime_call){ .args = args,
						.fds = req->terminal ? NULL : io.rt_fd,
						.deadline_ns = req->deadline_ns },
			&res);
	stdio_spawned(&io);
	if (r < 0 || res.status != 0) {
		if (r == -ETIMEDOUT)
			shim_fail(err, r, SHIM_ERR_RUNTIME, SHIM_OP_CREATE, "%s timed out",
				  rt.name);
		else if (r < 0)
			shim_fail(err, r, SHIM_ERR_RUNTIME, SHIM_OP_CREATE, "%s", strerror(-r));
		else
			r = runtime_failure(&rt, &res, SHIM_OP_CREATE, err);
		runtime_result_free(&res);
		goto out_io;
	}
	runtime_result_free(&res);
	if (req->terminal && (r = container_recv_console(&cs, &master, err)) < 0)
		goto out_created;
	r = container_read_pid_file(pidfile, &pid);
	if (r < 0) {
		shim_fail(err, r, SHIM_ERR_FAILED, SHIM_OP_CREATE,
			  "failed to retrieve OCI runtime container pid: %s", strerror(-r));
		goto out_created;
	}
	p = proc_new(req->id, true, req->in, req->out, req->err, req->terminal);
	if (!p) {
		r = -ENOMEM;
		goto out_created;
	}
	stdio_move(&p->io, &io);
	p->logger = lg;
	lg.pid = 0;
	lg.pidfd = -1;
	pthread_mutex_lock(&p->st_mu);
	{
		struct proc_snap s = *p->snap;
		s.pid = pid;
		(void)proc_snap_set(p, &s);
	}
	pthread_mutex_unlock(&p->st_mu);
	console_socket_close(&cs);
	r = req->terminal ? stdio_start_console(&p->io, C.loop, TAKE_FD(master), req->id)
			  : stdio_start(&p->io, C.loop, req->id);
	if (r < 0) {
		container_io_start_error(err, SHIM_OP_CREATE, req->terminal, r);
		goto out_proc;
	}
	p->io_started = true;
	r = proc_table_add(p);
	if (r < 0) {
		r = shim_fail(err, -EEXIST, SHIM_ERR_EXISTS, SHIM_OP_CREATE, "%s", req->id);
		goto out_proc;
	}
	(void)proc_table_map_pid(p, pid);
	create_commit(req, &rt, mounted, p);
	container_claim_exit(p, pid, t0);
	reaper_start_end();
	proc_unref(p);
	*ret_pid = pid;
	pthread_mutex_unlock(&C.mu);
	return 0;

out_unmount_p:
	proc_unref(p);
	goto out_unmount;
out_proc:
	proc_unref(p);
out_created:
	/* The runtime created the container: remove it and its init, or they outlive the
	 * failed Create (their exit is reaped as unclaimed). */
	delete_created(&rt, req->id);
out_io:
	reaper_start_end();
	safe_close(master);
	console_socket_close(&cs);
	stdio_destroy(&io);
out_unmount:
	logger_stop(&lg);
	if (mounted)
		(void)mount_unmount_all(rootfs);
out:
	pthread_mutex_unlock(&C.mu);
	runtime_free(&rt);
	return r < 0 ? r : -EIO;
}

static int start_init(struct proc *p, uint64_t deadline_ns, struct shim_error *err)
{
	const char *args[] = { "start", p->id, NULL };
	struct runtime_result res;
	enum proc_status st = container_proc_status(p);
	int r;

	if (st != PROC_CREATED)
		return shim_fail_state(err, SHIM_OP_START, st);
	if (p->from_checkpoint)
		return container_restore(p, deadline_ns, err);
	r = runtime_run(&C.rt, &(struct runtime_call){ .args = args, .deadline_ns = deadline_ns },
			&res);
	if (r < 0 || res.status != 0) {
		if (r < 0)
			shim_fail(err, -EIO, SHIM_ERR_RUNTIME, SHIM_OP_START, "%s", strerror(-r));
		else
			runtime_failure(&C.rt, &res, SHIM_OP_START, err);
		runtime_result_free(&res);
		return -EIO;
	}
	runtime_result_free(&res);
	/* The process may have exited already (then the reaper made it stopped). */
	(void)proc_transition(p, ST(PROC_CREATED), PROC_RUNNING);
	return 0;
}

int container_start(const char *id, uint64_t deadline_ns, uint32_t *ret_pid, struct shim_error *err)
{
	struct proc *p = proc_table_get(id);
	struct proc_snap s;
	int r;

	if (!p)
		return container_err_not_found(err, id);
	pthread_mutex_lock(&p->mu);
	exit_gate_start_begin(p);
	if (p->is_init)
		r = start_init(p, deadline_ns, err);
	else
		r = exec_start(p, deadline_ns, err);
	pthread_mutex_unlock(&p->mu);
	exit_gate_start_end(p);
	proc_snap_get(p, &s);
	*ret_pid = s.pid;
	proc_unref(p);
	return r;
}

int container_state(const char *id, struct proc_state *st, struct shim_error *err)
{
	struct proc *p;
	struct proc_snap *s;

	urcu_memb_read_lock();
	p = proc_table_find_id(id);
	if (!p) {
		urcu_memb_read_unlock();
		return container_err_not_found(err, id);
	}
	s = proc_snap_deref(p);
	snprintf(st->id, sizeof(st->id), "%s", p->id);
	snprintf(st->bundle, sizeof(st->bundle), "%s", container_bundle_path());
	st->pid = s->pid;
	st->status = s->status == PROC_DELETED ? PROC_STOPPED : s->status;
	if (!p->is_init) {
		/* An exec reports its init's status while the init is paused. */
		struct proc *init = proc_table_find_id(container_id());
		if (init && init->is_init) {
			enum proc_status is = proc_snap_deref(init)->status;
			if (is == PROC_PAUSED || is == PROC_PAUSING)
				st->status = is;
		}
	}
	st->exit_status = s->exit_status;
	st->exited_at = s->exited_at;
	st->terminal = p->terminal;
	st->in = p->in;
	st->out = p->out;
	st->err = p->err;
	st->ref = proc_ref(p);
	urcu_memb_read_unlock();
	return 0;
}

void container_state_done(struct proc_state *st)
{
	proc_unref(st->ref);
	st->ref = NULL;
}

static int kill_init(struct proc *p, uint32_t sig, bool all, uint64_t deadline_ns,
		     struct shim_error *err)
{
	char signum[16], text[SHIM_ERR_MAX];
	const char *args[6];
	struct runtime_result res;
	int n = 0, r;

	if (container_proc_status(p) == PROC_DELETED)
		return shim_fail_state(err, SHIM_OP_KILL, PROC_DELETED);
	snprintf(signum, sizeof(signum), "%u", sig);
	args[n++] = "kill";
	if (all)
		args[n++] = "--all";
	args[n++] = p->id;
	args[n++] = signum;
	args[n] = NULL;
	r = runtime_run(&C.rt, &(struct runtime_call){ .args = args, .deadline_ns = deadline_ns },
			&res);
	if (r < 0)
		return shim_fail(err, -EIO, SHIM_ERR_RUNTIME, SHIM_OP_KILL, "%s", strerror(-r));
	if (res.status != 0) {
		runtime_exit_text(&C.rt, &res, text, sizeof(text));
		runtime_result_free(&res);
		return shim_fail(err, -EIO, SHIM_ERR_RUNTIME, SHIM_OP_KILL, "%s", text);
	}
	runtime_result_free(&res);
	return 0;
}

int container_kill(const char *id, uint32_t sig, bool all, uint64_t deadline_ns,
		   struct shim_error *err)
{
	struct proc *p;
	int r;

	if (!*id) {
		const char *cid = container_id();
		p = *cid ? proc_table_get(cid) : NULL;
		if (!p || !p->is_init) {
			proc_unref(p);
			return container_err_no_init(err);
		}
	} else {
		p = proc_table_get(id);
		if (!p)
			return container_err_not_found(err, id);
	}
	pthread_mutex_lock(&p->mu);
	if (p->is_init)
		r = kill_init(p, sig, all, deadline_ns, err);
	else
		r = exec_kill(p, sig, err);
	pthread_mutex_unlock(&p->mu);
	proc_unref(p);
	return r;
}

static void exit_info_of(struct proc *p, struct exit_info *ret)
{
	struct proc_snap s;
	proc_snap_get(p, &s);
	ret->pid = s.pid;
	ret->exit_status = s.exit_status;
	ret->exited_at = s.exited_at;
}

/* A failed Delete: apply an exit that arrived meanwhile. */
static void undelete(struct proc *p)
{
	struct proc_snap s;
	pthread_mutex_lock(&p->st_mu);
	p->deleting = false;
	s = *p->snap;
	if (p->exit_pending && s.status != PROC_STOPPED && s.status != PROC_DELETED) {
		s.status = PROC_STOPPED;
		s.exit_status = (uint32_t)p->pending_status;
		clock_gettime(CLOCK_REALTIME, &s.exited_at);
		(void)proc_snap_set(p, &s);
	}
	p->exit_pending = false;
	pthread_mutex_unlock(&p->st_mu);
}

int container_delete(uint64_t deadline_ns, struct exit_info *ret, struct shim_error *err)
{
	const char *args[3];
	char rootfs[4200], text[SHIM_ERR_MAX];
	struct runtime_result res;
	struct proc *p;
	enum proc_status st;
	int r = 0;

	pthread_mutex_lock(&C.mu);
	p = C.init;
	if (!p) {
		pthread_mutex_unlock(&C.mu);
		return container_err_no_init(err);
	}
	pthread_mutex_lock(&p->mu);
	st = container_proc_status(p);
	if (st == PROC_RUNNING || st == PROC_PAUSED || st == PROC_PAUSING || st == PROC_DELETED) {
		r = shim_fail_state(err, SHIM_OP_DELETE, st);
		goto out;
	}
	(void)stdio_wait(&p->io, IO_WAIT_MS);
	exit_delivery_wait(p);
	pthread_mutex_lock(&p->st_mu);
	p->deleting = true;
	pthread_mutex_unlock(&p->st_mu);
	args[0] = "delete";
	args[1] = p->id;
	args[2] = NULL;
	r = runtime_run(&C.rt, &(struct runtime_call){ .args = args, .deadline_ns = deadline_ns },
			&res);
	if (r < 0) {
		shim_fail(err, r, SHIM_ERR_RUNTIME, SHIM_OP_DELETE, "%s", strerror(-r));
	} else if (res.status != 0) {
		runtime_exit_text(&C.rt, &res, text, sizeof(text));
		if (strstr(text, "does not exist"))
			r = 0;
		else
			r = runtime_failure(&C.rt, &res, SHIM_OP_DELETE, err);
	}
	runtime_result_free(&res);
	stdio_destroy(&p->io);
	logger_stop(&p->logger);
	if (C.have_mounts) {
		int u;
		snprintf(rootfs, sizeof(rootfs), "%s/rootfs", container_bundle_path());
		u = mount_unmount_all(rootfs);
		if (u < 0 && r == 0)
			r = shim_fail(err, u, SHIM_ERR_FAILED, SHIM_OP_DELETE,
				      "failed rootfs umount: %s", strerror(-u));
		else if (u == 0)
			C.have_mounts = false;
	}
	if (r < 0) {
		undelete(p);
		goto out;
	}
	(void)proc_transition(p, ~0u, PROC_DELETED);
	exit_info_of(p, ret);
	proc_table_remove(p);
	C.init = NULL;
	pids_forget();
	pthread_mutex_unlock(&p->mu);
	/* A Wait on a process deleted before it ran must not hang. */
	proc_wait_release(p, ret->exit_status, &ret->exited_at);
	proc_unref(p);
	pthread_mutex_unlock(&C.mu);
	return 0;
out:
	pthread_mutex_unlock(&p->mu);
	pthread_mutex_unlock(&C.mu);
	return r;
}

int container_delete_process(const char *id, struct exit_info *ret, struct shim_error *err)
{
	struct proc *p;
	enum proc_status st;
	int r = 0;

	if (strcmp(id, container_id()) == 0)
		return shim_fail(err, -EPERM, SHIM_ERR_IS_INIT, SHIM_OP_DELETE_PROCESS, "%s", id);
	p = proc_table_get(id);
	if (!p)
		return container_err_not_found(err, id);
	pthread_mutex_lock(&p->mu);
	st = container_proc_status(p);
	if (p->is_init) {
		r = shim_fail(err, -EPERM, SHIM_ERR_IS_INIT, SHIM_OP_DELETE_PROCESS, "%s", id);
	} else if (st == PROC_RUNNING || st == PROC_DELETED) {
		r = shim_fail_state(err, SHIM_OP_DELETE_PROCESS, st);
	} else {
		_cleanup_free_ char *path = NULL;
		(void)stdio_wait(&p->io, IO_WAIT_MS);
		exit_delivery_wait(p);
		stdio_destroy(&p->io);
		logger_stop(&p->logger);
		if (asprintf(&path, "%s/%s.pid", C.cfg.bundle, p->id) >= 0)
			(void)unlink(path);
		(void)proc_transition(p, ~0u, PROC_DELETED);
		exit_info_of(p, ret);
		proc_table_remove(p);
	}
	pthread_mutex_unlock(&p->mu);
	if (r == 0)
		proc_wait_release(p, ret->exit_status, &ret->exited_at);
	proc_unref(p);
	return r;
}

int container_wait(const char *id, struct proc_waiter *w, struct exit_info *ret,
		   struct shim_error *err)
{
	struct proc *p;
	int r;

	urcu_memb_read_lock();
	p = proc_table_find_id(id);
	if (!p) {
		urcu_memb_read_unlock();
		return container_err_not_found(err, id);
	}
	r = proc_wait_add(p, w, &ret->exit_status, &ret->exited_at);
	if (r == 1)
		ret->pid = proc_snap_deref(p)->pid;
	urcu_memb_read_unlock();
	return r;
}

int container_close_io(const char *id, struct shim_error *err)
{
	struct proc *p = proc_table_get(id);
	if (!p)
		return container_err_not_found(err, id);
	pthread_mutex_lock(&p->mu);
	(void)stdio_close_stdin(&p->io);
	pthread_mutex_unlock(&p->mu);
	proc_unref(p);
	return 0;
}

int container_list_pids(const char *id, uint64_t deadline_ns, struct pid_info **ret, size_t *ret_n,
			struct shim_error *err)
{
	uint32_t *pids = NULL;
	size_t n = 0;
	struct pid_info *out;
	int r;

	if (!C.init)
		return container_err_no_init(err);
	r = pids_from_cgroup(C.rt.root, id, &pids, &n);
	if (r == -ENOENT) {
		const char *args[] = { "ps", "--format", "json", id, NULL };
		struct runtime_result res;
		char text[SHIM_ERR_MAX];
		r = runtime_run(&C.rt,
				&(struct runtime_call){ .args = args, .deadline_ns = deadline_ns },
				&res);
		if (r < 0)
			return shim_fail(err, r, SHIM_ERR_RUNTIME, SHIM_OP_LIST_PIDS, "%s",
					 strerror(-r));
		if (res.status != 0) {
			runtime_exit_text(&C.rt, &res, text, sizeof(text));
			runtime_result_free(&res);
			return shim_fail(err, -EIO, SHIM_ERR_RUNTIME, SHIM_OP_LIST_PIDS, "%s",
					 text);
		}
		r = pids_parse_ps_json(res.output, res.output_len, &pids, &n);
		runtime_result_free(&res);
		if (r < 0)
			return shim_fail(err, r, SHIM_ERR_FAILED, SHIM_OP_LIST_PIDS, "%s",
					 "failed to parse runc ps output");
	} else if (r < 0) {
		return r;
	}
	out = calloc(n ? n : 1, sizeof(*out));
	if (!out) {
		free(pids);
		return -ENOMEM;
	}
	urcu_memb_read_lock();
	for (size_t i = 0; i < n; i++) {
		struct proc *p = proc_table_find_pid(pids[i]);
		out[i].pid = pids[i];
		if (p)
			snprintf(out[i].exec_id, sizeof(out[i].exec_id), "%s", p->id);
	}
	urcu_memb_read_unlock();
	free(pids);
	*ret = out;
	*ret_n = n;
	return 0;
}

/* --- exits (reaper thread) --- */

struct killall_ctx {
	struct proc *p;
	int status;
};

static void finish_exit_init(struct proc *p, int status);
static void exit_enqueue(struct proc *p, int status);

/* The exit's event reached containerd, or a publisher child has it: answer the Waits. */
struct exit_delivery {
	struct proc *p;
	uint32_t status;
	struct timespec at;
};

/* exit_undelivered of every process, and Deletes waiting for it to clear. */
static pthread_mutex_t delivery_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t delivery_cv; /* monotonic (io/clock.h), made once by delivery_cv_init */
static pthread_once_t delivery_once = PTHREAD_ONCE_INIT;
static int delivery_cv_err;

static void delivery_cv_init(void)
{
	delivery_cv_err = clock_cond_init(&delivery_cv);
}

static void set_undelivered(struct proc *p, bool on)
{
	pthread_mutex_lock(&delivery_mu);
	p->exit_undelivered = on;
	pthread_once(&delivery_once, delivery_cv_init);
	if (!on)
		pthread_cond_broadcast(&delivery_cv);
	pthread_mutex_unlock(&delivery_mu);
}

/*
 * Delete of a process whose exit event is still on its way waits for it (at most
 * EXIT_DELIVERY_WAIT_MS: the events path gives up on containerd's socket after 5 s and hands
 * the event to a publisher child). containerd kills the shim right after Delete; a client
 * that saw the process stopped through State and deleted it without a Wait would otherwise
 * lose the event with the shim.
 */
#define EXIT_DELIVERY_WAIT_MS 10000

static void exit_delivery_wait(struct proc *p)
{
	uint64_t dl = clock_mono_after_ms(EXIT_DELIVERY_WAIT_MS);

	pthread_once(&delivery_once, delivery_cv_init);
	pthread_mutex_lock(&delivery_mu);
	while (p->exit_undelivered && delivery_cv_err == 0 &&
	       clock_cond_timedwait(&delivery_cv, &delivery_mu, dl) != -ETIMEDOUT)
		;
	if (p->exit_undelivered)
		log_warn("%s: deleting before the exit event was delivered", p->id);
	pthread_mutex_unlock(&delivery_mu);
}

static void exit_delivered(void *arg)
{
	struct exit_delivery *d = arg;
	set_undelivered(d->p, false);
	proc_wait_release(d->p, d->status, &d->at);
	proc_unref(d->p); /* the claim's reference */
	free(d);
}

static void finish_exit(struct proc *p, int status)
{
	struct exit_delivery *d;
	struct timespec now;
	struct proc_snap s;
	bool applied = false;

	clock_gettime(CLOCK_REALTIME, &now);
	pthread_mutex_lock(&p->st_mu);
	s = *p->snap;
	if (p->deleting) {
		/* Being deleted: the deleted state will ignore it (as in the Go shim). */
		p->exit_pending = true;
		p->pending_status = status;
	} else if (s.status != PROC_STOPPED && s.status != PROC_DELETED) {
		s.status = PROC_STOPPED;
		s.exit_status = (uint32_t)status;
		s.exited_at = now;
		(void)proc_snap_set(p, &s);
		applied = true;
	} else if (s.status == PROC_DELETED) {
		/* deleted before its exit arrived: keep what Delete reported */
		s.exit_status = (uint32_t)status;
		s.exited_at = now;
	}
	pthread_mutex_unlock(&p->st_mu);
	log_debug("%s: process %u exited with status %d%s", p->id, s.pid, status,
		  applied ? "" : " (ignored by the state machine)");
	d = malloc(sizeof(*d));
	if (!d) {
		/* Out of memory: the event is handed over before the Waits, as ever. */
		if (C.sink)
			exit_gate_send(C.sink, container_id(), p, s.pid, (uint32_t)status, &now,
				       NULL, NULL);
		proc_wait_release(p, (uint32_t)status, &now);
		proc_unref(p);
		return;
	}
	d->p = p; /* the claim's reference goes with it */
	d->status = (uint32_t)status;
	d->at = now;
	set_undelivered(p, true);
	if (C.sink)
		exit_gate_send(C.sink, container_id(), p, s.pid, (uint32_t)status, &now,
			       exit_delivered, d);
	else
		exit_delivered(d);
}

/*
 * Exec exits before the init's, in a shared pid namespace too: when `runc kill --all` returns,
 * the execs it killed may not have been reaped yet. The init's exit then waits for the execs
 * whose exits have not come through (at most INIT_HOLD_MS, should one never die).
 */
#define INIT_HOLD_MS 2000

static pthread_mutex_t hold_mu = PTHREAD_MUTEX_INITIALIZER;
static int live_execs;           /* claimed execs whose exit has not come through */
static struct killall_ctx *held; /* the init's exit, waiting for them */
static uintptr_t held_gen;

static void release_held(uintptr_t gen, bool timeout)
{
	struct killall_ctx *k = NULL;
	int left;
	pthread_mutex_lock(&hold_mu);
	if (held && (timeout ? gen == held_gen : live_execs <= 0)) {
		k = held;
		held = NULL;
	}
	left = live_execs;
	pthread_mutex_unlock(&hold_mu);
	if (!k)
		return;
	if (timeout)
		log_warn("%s: %d exec(s) still running %d ms after kill --all", k->p->id, left,
			 INIT_HOLD_MS);
	exit_enqueue(k->p, k->status);
	free(k);
}

static void held_timeout(void *arg)
{
	release_held((uintptr_t)arg, true);
}

static void exec_live_add(int d)
{
	pthread_mutex_lock(&hold_mu);
	live_execs += d;
	pthread_mutex_unlock(&hold_mu);
	if (d < 0)
		release_held(0, false);
}

static void killall_done(void *data, int rstatus)
{
	struct killall_ctx *k = data;
	uintptr_t gen;
	if (rstatus != 0)
		log_warn("%s: OCI runtime killall failed: status %d", k->p->id, rstatus);
	pthread_mutex_lock(&hold_mu);
	if (live_execs > 0 && !held) {
		held = k;
		gen = ++held_gen;
		pthread_mutex_unlock(&hold_mu);
		if (reaper_schedule(INIT_HOLD_MS, held_timeout, (void *)gen) < 0)
			release_held(gen, true);
		return;
	}
	pthread_mutex_unlock(&hold_mu);
	exit_enqueue(k->p, k->status);
	free(k);
}

static void resume_done(void *data, int rstatus)
{
	struct killall_ctx *k = data;
	if (rstatus != 0)
		log_warn("%s: OCI runtime resume failed: status %d", k->p->id, rstatus);
	finish_exit_init(k->p, k->status);
	free(k);
}

static void on_proc_exit(void *cookie, int status)
{
	struct proc *p = cookie;

	if (!p->is_init) {
		exit_enqueue(p, status);
		exec_live_add(-1); /* after: a held init exit follows this one */
		return;
	}

	if (p->is_init && container_proc_status(p) == PROC_PAUSED) {
		/* A paused init that exits is resumed first, so its cgroup is not left frozen. */
		const char *args[] = { "resume", p->id, NULL };
		struct killall_ctx *k = calloc(1, sizeof(*k));
		if (k) {
			k->p = p;
			k->status = status;
			runtime_run_async(&C.rt, args, resume_done, k);
			return;
		}
	}
	finish_exit_init(p, status);
}

static void finish_exit_init(struct proc *p, int status)
{
	if (p->is_init && !C.own_pidns) {
		/* The container shares a pid namespace: its other processes do not die with
		 * the init. runc kill --all first, without blocking the reaper. */
		static const char *args_tmpl[] = { "kill", "--all", NULL, "9", NULL };
		const char *args[5];
		struct killall_ctx *k = calloc(1, sizeof(*k));
		if (k) {
			memcpy(args, args_tmpl, sizeof(args));
			args[2] = p->id;
			k->p = p;
			k->status = status;
			runtime_run_async(&C.rt, args, killall_done, k);
			return;
		}
	}
	exit_enqueue(p, status);
}

/*
 * Exits are finished on the loop thread, each once its output was forwarded (an exec's as
 * soon as its own output is through; the init's after every exit reaped before it): the
 * pipes are drained until they are empty, or until EXIT_DRAIN_MS after the exit when a reader
 * is slow or a background child keeps a pipe busy. The waits run side by side, never one
 * exit after another, and never on the reaper thread.
 */
struct pending_exit {
	struct pending_exit *next;
	struct proc *p;
	int status;
	uint64_t deadline;
};

static struct pending_exit *pe_head, **pe_tail = &pe_head; /* loop thread only */
static bool pe_recheck;                                    /* loop thread only */

static void exits_step(void *unused);

static void exits_recheck(void *unused)
{
	(void)unused;
	if (loop_post(C.loop, exits_step, NULL) < 0)
		(void)reaper_schedule(20, exits_recheck, NULL);
}

static void exits_step(void *unused)
{
	uint64_t now = reaper_now_ns();
	bool waiting = false; /* an earlier exit is still draining */

	(void)unused;
	pe_recheck = false;
	for (struct pending_exit **pp = &pe_head, *e; (e = *pp);) {
		bool drained = !e->p->io_started || stdio_drain_now(&e->p->io);
		/* An exec's exit goes as soon as its own output is through; the init's only
		 * after every exit reaped before it (exec exits are reported before the init's). */
		if ((!drained && now < e->deadline) || (e->p->is_init && waiting)) {
			waiting = true;
			pp = &e->next;
			continue;
		}
		*pp = e->next;
		if (pe_tail == &e->next)
			pe_tail = pp;
		finish_exit(e->p, e->status);
		free(e);
	}
	if (waiting && !pe_recheck && reaper_schedule(20, exits_recheck, NULL) == 0)
		pe_recheck = true;
}

static void exit_enqueue_cb(void *arg)
{
	struct pending_exit *e = arg;
	if (e->p->io_started)
		stdio_process_exited(&e->p->io);
	*pe_tail = e;
	pe_tail = &e->next;
	exits_step(NULL);
}

static void exit_enqueue(struct proc *p, int status)
{
	struct pending_exit *e = calloc(1, sizeof(*e));

	if (e) {
		e->p = p;
		e->status = status;
		e->deadline = reaper_now_ns() + (uint64_t)EXIT_DRAIN_MS * 1000000ULL;
	}
	if (!e || loop_post(C.loop, exit_enqueue_cb, e) < 0) {
		free(e);
		finish_exit(p, status); /* out of memory: report it without draining */
	}
}

int container_recv_console(struct console_socket *cs, int *ret_master, struct shim_error *err)
{
	int r = console_socket_recv(cs, 10000, ret_master);
	if (r < 0)
		return shim_fail(err, r, SHIM_ERR_FAILED, SHIM_OP_NONE,
				 "failed to retrieve console master: %s", strerror(-r));
	return 0;
}

/* --- Pause, Resume, Update (init only) --- */

static struct proc *init_get(void)
{
	struct proc *p;
	pthread_mutex_lock(&C.mu);
	p = C.init ? proc_ref(C.init) : NULL;
	pthread_mutex_unlock(&C.mu);
	return p;
}

static int run_init_op(struct proc *p, const char *const *args, const char *stdin_data,
		       size_t stdin_len, uint64_t deadline_ns, enum shim_op op,
		       struct shim_error *err)
{
	struct runtime_result res;
	int r = runtime_run(&C.rt,
			    &(struct runtime_call){ .args = args,
						    .stdin_data = stdin_data,
						    .stdin_len = stdin_len,
						    .deadline_ns = deadline_ns },
			    &res);
	(void)p;
	if (r < 0)
		return shim_fail(err, r, SHIM_ERR_RUNTIME, op, "%s", strerror(-r));
	if (res.status != 0) {
		if (op != SHIM_OP_UPDATE) {
			runtime_failure(&C.rt, &res, op, err);
		} else { /* Update: the runtime's exit text, not its log */
			char text[SHIM_ERR_MAX];
			runtime_exit_text(&C.rt, &res, text, sizeof(text));
			shim_fail(err, -EIO, SHIM_ERR_RUNTIME, op, "%s", text);
		}
		runtime_result_free(&res);
		return -EIO;
	}
	runtime_result_free(&res);
	return 0;
}

int container_pause(uint64_t deadline_ns, struct shim_error *err)
{
	struct proc *p = init_get();
	enum proc_status st;
	int r;

	if (!p)
		return container_err_no_init(err);
	pthread_mutex_lock(&p->mu);
	st = proc_transition(p, ST(PROC_RUNNING), PROC_PAUSING);
	if (st != PROC_RUNNING) {
		r = shim_fail_state(err, SHIM_OP_PAUSE, st);
	} else {
		const char *args[] = { "pause", p->id, NULL };
		r = run_init_op(p, args, NULL, 0, deadline_ns, SHIM_OP_PAUSE, err);
		(void)proc_transition(p, ST(PROC_PAUSING), r < 0 ? PROC_RUNNING : PROC_PAUSED);
	}
	pthread_mutex_unlock(&p->mu);
	proc_unref(p);
	return r;
}

int container_resume(uint64_t deadline_ns, struct shim_error *err)
{
	struct proc *p = init_get();
	enum proc_status st;
	int r;

	if (!p)
		return container_err_no_init(err);
	pthread_mutex_lock(&p->mu);
	st = container_proc_status(p);
	if (st != PROC_PAUSED) {
		r = shim_fail_state(err, SHIM_OP_RESUME, st);
	} else {
		const char *args[] = { "resume", p->id, NULL };
		r = run_init_op(p, args, NULL, 0, deadline_ns, SHIM_OP_RESUME, err);
		if (r == 0)
			(void)proc_transition(p, ST(PROC_PAUSED), PROC_RUNNING);
	}
	pthread_mutex_unlock(&p->mu);
	proc_unref(p);
	return r;
}

int container_update(const char *resources, size_t len, uint64_t deadline_ns,
		     struct shim_error *err)
{
	struct proc *p;
	enum proc_status st;
	char text[SHIM_ERR_MAX];
	json_t *res;
	char *json;
	int r;

	p = init_get();
	if (!p)
		return container_err_no_init(err);
	pthread_mutex_lock(&p->mu);
	st = container_proc_status(p);
	if (st == PROC_STOPPED || st == PROC_DELETED) {
		r = shim_fail_state(err, SHIM_OP_UPDATE, st);
		goto out;
	}
	/* Go's order: init, state, then the resources (whose absence crashes the Go shim). */
	if (!resources) {
		r = shim_fail(err, -EINVAL, SHIM_ERR_MISSING, SHIM_OP_UPDATE, "%s", "resources");
		goto out;
	}
	/* Decoded and encoded again, as the Go shim does: garbage never reaches runc. */
	res = specjson_decode(resources, len, SPECJSON_RESOURCES, text, sizeof(text));
	if (!res) {
		r = shim_fail(err, -EINVAL, SHIM_ERR_FAILED, SHIM_OP_UPDATE, "%s", text);
		goto out;
	}
	json = json_dumps(res, JSON_COMPACT);
	json_decref(res);
	if (!json) {
		r = -ENOMEM;
		goto out;
	}
	{
		const char *args[] = { "update", "--resources", "-", p->id, NULL };
		r = run_init_op(p, args, json, strlen(json), deadline_ns, SHIM_OP_UPDATE, err);
	}
	free(json);
out:
	pthread_mutex_unlock(&p->mu);
	proc_unref(p);
	return r;
}

int container_reaper_start(void)
{
	return reaper_start(on_proc_exit);
}
