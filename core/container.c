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
#define CLEANUP_TIMEOUT_NS (10ULL * 1000000000ULL)

struct shim S;

int container_setup(const struct shim_config *cfg, struct loop *loop, container_exit_sink sink)
{
	int r;

	S.cfg = *cfg;
	S.loop = loop;
	S.sink = sink;
	exit_gate_setup(cfg->front_end_orders_starts);
	r = container_table_init();
	return r < 0 ? r : proc_table_init();
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
	r = logger_start(cfg->out, id, S.cfg.ns, lg, fds, msg, msgsz);
	if (r < 0)
		return r;
	io->rt_fd[0] = fd_open_devnull(O_RDONLY);
	io->rt_fd[1] = fds[1];
	io->rt_fd[2] = fds[2];
	return 0;
}

/* The container joins the table with its init (c->mu held): -EEXIST when its id is taken. */
static int create_commit(struct container *c, const struct create_req *req, struct runtime *rt,
			 bool mounted, struct proc *p)
{
	int r;

	c->rt = *rt;
	rt->strings = NULL; /* moved */
	c->opts = req->opts;
	c->criu_work_path = req->opts.criu_work_path && *req->opts.criu_work_path
				    ? strdup(req->opts.criu_work_path)
				    : NULL;
	c->opts.criu_work_path = c->criu_work_path;
	c->have_mounts = mounted;
	c->own_pidns = bundle_own_pidns(req->bundle);
	c->init_by_empty_id = req->init_by_empty_id;
	if (c->init_by_empty_id)
		p->key = "";
	r = container_table_add(c, req->only_one);
	if (r < 0) {
		*rt = c->rt; /* back to the caller, who frees it */
		memset(&c->rt, 0, sizeof(c->rt));
		return r;
	}
	proc_set_container(p, c);
	(void)proc_table_add(p); /* the container is new: its table is empty */
	rcu_publish(c->init, proc_ref(p));
	return 0;
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

int container_create(const struct create_req *req, struct container **ret_c, uint32_t *ret_pid,
		     struct shim_error *err)
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
	struct logger lg = { .pidfd = -1 };
	struct launch l;
	struct proc *p = NULL;
	const char *args[16];
	bool mounted = false;
	int n = 0, r;
	struct container *c;

	if (asprintf(&pidfile, "%s/init.pid", req->bundle) < 0)
		return -ENOMEM;
	if (req->only_one && container_count() > 0) {
		/* A second container where one is allowed: refused before the runtime runs (a
		 * Create of the same id is left to the runtime, whose error the client expects;
		 * create_commit checks again for a Create racing this one). */
		struct container *same = container_get(req->id);
		container_unref(same);
		if (!same)
			return shim_fail(err, -EEXIST, SHIM_ERR_EXISTS, SHIM_OP_CREATE, "%s",
					 req->id);
	}
	c = container_new(req->id, req->bundle);
	if (!c)
		return -ENOMEM;
	pthread_mutex_lock(&c->mu);
	r = runtime_init(&rt, req->runtime,
			 req->runtime_root && *req->runtime_root ? req->runtime_root
								 : S.cfg.runtime_root,
			 S.cfg.ns, req->bundle, req->criu && *req->criu ? req->criu : S.cfg.criu,
			 S.cfg.systemd_cgroup || req->systemd_cgroup);
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
		r = create_commit(c, req, &rt, mounted, p);
		if (r < 0) {
			shim_fail(err, -EEXIST, SHIM_ERR_EXISTS, SHIM_OP_CREATE, "%s", req->id);
			goto out_unmount_p;
		}
		proc_unref(p);
		*ret_pid = 0;
		*ret_c = c;
		pthread_mutex_unlock(&c->mu);
		return 0;
	}
	r = launch_prepare(&l, SHIM_OP_CREATE, req->terminal, err);
	if (r < 0) {
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
		args[n++] = l.cs.path;
	}
	if (req->opts.no_pivot_root)
		args[n++] = "--no-pivot";
	if (req->opts.no_new_keyring)
		args[n++] = "--no-new-keyring";
	args[n++] = req->id;
	args[n] = NULL;

	r = launch_run(&l,
		       &(struct launch_call){ .rt = &rt,
					      .args = args,
					      .io = &io,
					      .pid_file = pidfile,
					      .pid_what = "container",
					      .say_timeout = true,
					      .deadline_ns = req->deadline_ns },
		       err);
	if (r < 0)
		goto out_launched;
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
		s.pid = l.pid;
		(void)proc_snap_set(p, &s);
	}
	pthread_mutex_unlock(&p->st_mu);
	r = req->terminal ? stdio_start_console(&p->io, S.loop, TAKE_FD(l.master), req->id)
			  : stdio_start(&p->io, S.loop, req->id);
	if (r < 0) {
		container_io_start_error(err, SHIM_OP_CREATE, req->terminal, r);
		goto out_proc;
	}
	p->io_started = true;
	r = create_commit(c, req, &rt, mounted, p);
	if (r < 0) {
		r = shim_fail(err, -EEXIST, SHIM_ERR_EXISTS, SHIM_OP_CREATE, "%s", req->id);
		goto out_proc;
	}
	(void)proc_table_map_pid(p, l.pid);
	exit_claim(p, l.pid, l.t0);
	launch_finish(&l);
	proc_unref(p);
	*ret_pid = l.pid;
	*ret_c = c;
	pthread_mutex_unlock(&c->mu);
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
	goto out_io;
out_launched:
	if (l.ran)
		goto out_created;
out_io:
	launch_finish(&l);
	stdio_destroy(&io);
out_unmount:
	logger_stop(&lg);
	if (mounted)
		(void)mount_unmount_all(rootfs);
out:
	pthread_mutex_unlock(&c->mu);
	container_unref(c);
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
		return container_restore(p->c, p, deadline_ns, err);
	r = runtime_run(&p->c->rt,
			&(struct runtime_call){ .args = args, .deadline_ns = deadline_ns }, &res);
	if (r < 0 || res.status != 0) {
		if (r < 0)
			shim_fail(err, -EIO, SHIM_ERR_RUNTIME, SHIM_OP_START, "%s", strerror(-r));
		else
			runtime_failure(&p->c->rt, &res, SHIM_OP_START, err);
		runtime_result_free(&res);
		return -EIO;
	}
	runtime_result_free(&res);
	/* The process may have exited already (then the reaper made it stopped). */
	(void)proc_transition(p, ST(PROC_CREATED), PROC_RUNNING);
	return 0;
}

int container_start(struct container *c, const char *id, uint64_t deadline_ns, uint32_t *ret_pid,
		    struct shim_error *err)
{
	struct proc *p = proc_table_get(c, id);
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

int container_state(struct container *c, const char *id, struct proc_state *st,
		    struct shim_error *err)
{
	struct proc *p;
	struct proc_snap *s;

	urcu_memb_read_lock();
	p = proc_table_find_id(c, id);
	if (!p) {
		urcu_memb_read_unlock();
		return container_err_not_found(err, id);
	}
	s = proc_snap_deref(p);
	snprintf(st->id, sizeof(st->id), "%s", p->id);
	snprintf(st->bundle, sizeof(st->bundle), "%s", c->bundle);
	st->pid = s->pid;
	st->status = s->status == PROC_DELETED ? PROC_STOPPED : s->status;
	if (!p->is_init) {
		/* An exec reports its init's status while the init is paused. */
		struct proc *init = proc_table_find_id(c, c->init_by_empty_id ? "" : c->id);
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
	r = runtime_run(&p->c->rt,
			&(struct runtime_call){ .args = args, .deadline_ns = deadline_ns }, &res);
	if (r < 0)
		return shim_fail(err, -EIO, SHIM_ERR_RUNTIME, SHIM_OP_KILL, "%s", strerror(-r));
	if (res.status != 0) {
		runtime_exit_text(&p->c->rt, &res, text, sizeof(text));
		runtime_result_free(&res);
		return shim_fail(err, -EIO, SHIM_ERR_RUNTIME, SHIM_OP_KILL, "%s", text);
	}
	runtime_result_free(&res);
	return 0;
}

int container_kill(struct container *c, const char *id, uint32_t sig, bool all,
		   uint64_t deadline_ns, struct shim_error *err)
{
	struct proc *p;
	int r;

	if (!*id) {
		const char *cid = container_id(c);
		p = *cid ? proc_table_get(c, c->init_by_empty_id ? "" : cid) : NULL;
		if (!p || !p->is_init) {
			proc_unref(p);
			return container_err_no_init(err);
		}
	} else {
		p = proc_table_get(c, id);
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

int container_delete(struct container *c, uint64_t deadline_ns, struct exit_info *ret,
		     struct shim_error *err)
{
	const char *args[3];
	char rootfs[4200], text[SHIM_ERR_MAX];
	struct runtime_result res;
	struct proc *p;
	enum proc_status st;
	int r = 0;

	if (!c)
		return container_err_no_init(err);
	pthread_mutex_lock(&c->mu);
	p = c->init;
	if (!p) {
		pthread_mutex_unlock(&c->mu);
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
	r = runtime_run(&c->rt, &(struct runtime_call){ .args = args, .deadline_ns = deadline_ns },
			&res);
	if (r < 0) {
		shim_fail(err, r, SHIM_ERR_RUNTIME, SHIM_OP_DELETE, "%s", strerror(-r));
	} else if (res.status != 0) {
		runtime_exit_text(&c->rt, &res, text, sizeof(text));
		if (strstr(text, "does not exist"))
			r = 0;
		else
			r = runtime_failure(&c->rt, &res, SHIM_OP_DELETE, err);
	}
	runtime_result_free(&res);
	stdio_destroy(&p->io);
	logger_stop(&p->logger);
	if (c->have_mounts) {
		int u;
		snprintf(rootfs, sizeof(rootfs), "%s/rootfs", c->bundle);
		u = mount_unmount_all(rootfs);
		if (u < 0 && r == 0)
			r = shim_fail(err, u, SHIM_ERR_FAILED, SHIM_OP_DELETE,
				      "failed rootfs umount: %s", strerror(-u));
		else if (u == 0)
			c->have_mounts = false;
	}
	if (r < 0) {
		undelete(p);
		goto out;
	}
	(void)proc_transition(p, ~0u, PROC_DELETED);
	exit_info_of(p, ret);
	proc_table_remove(p);
	rcu_publish(c->init, NULL);
	/* The container leaves the table; its execs stay reachable through c (v1: a front end
	 * that holds it still answers for them, as the Go shim does). */
	container_table_remove(c);
	pids_forget();
	pthread_mutex_unlock(&p->mu);
	/* A Wait on a process deleted before it ran must not hang. */
	proc_wait_release(p, ret->exit_status, &ret->exited_at);
	proc_unref(p);
	pthread_mutex_unlock(&c->mu);
	return 0;
out:
	pthread_mutex_unlock(&p->mu);
	pthread_mutex_unlock(&c->mu);
	return r;
}

int container_delete_process(struct container *c, const char *id, struct exit_info *ret,
			     struct shim_error *err)
{
	struct proc *p;
	enum proc_status st;
	int r = 0;

	if (!(c && c->init_by_empty_id) && strcmp(id, container_id(c)) == 0)
		return shim_fail(err, -EPERM, SHIM_ERR_IS_INIT, SHIM_OP_DELETE_PROCESS, "%s", id);
	p = proc_table_get(c, id);
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
		if (asprintf(&path, "%s/%s.pid", c->bundle, p->id) >= 0)
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

int container_wait(struct container *c, const char *id, struct proc_waiter *w,
		   struct exit_info *ret, struct shim_error *err)
{
	struct proc *p;
	int r;

	urcu_memb_read_lock();
	p = proc_table_find_id(c, id);
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

int container_close_io(struct container *c, const char *id, struct shim_error *err)
{
	struct proc *p = proc_table_get(c, id);
	if (!p)
		return container_err_not_found(err, id);
	pthread_mutex_lock(&p->mu);
	(void)stdio_close_stdin(&p->io);
	pthread_mutex_unlock(&p->mu);
	proc_unref(p);
	return 0;
}

int container_list_pids(struct container *c, const char *id, uint64_t deadline_ns,
			struct pid_info **ret, size_t *ret_n, struct shim_error *err)
{
	uint32_t *pids = NULL;
	size_t n = 0;
	struct pid_info *out;
	int r;

	if (!c || !rcu_deref(c->init))
		return container_err_no_init(err);
	r = pids_from_cgroup(c->rt.root, id, &pids, &n);
	if (r == -ENOENT) {
		const char *args[] = { "ps", "--format", "json", id, NULL };
		struct runtime_result res;
		char text[SHIM_ERR_MAX];
		r = runtime_run(&c->rt,
				&(struct runtime_call){ .args = args, .deadline_ns = deadline_ns },
				&res);
		if (r < 0)
			return shim_fail(err, r, SHIM_ERR_RUNTIME, SHIM_OP_LIST_PIDS, "%s",
					 strerror(-r));
		if (res.status != 0) {
			runtime_exit_text(&c->rt, &res, text, sizeof(text));
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
		if (p && p->c == c) {
			snprintf(out[i].exec_id, sizeof(out[i].exec_id), "%s", p->id);
			out[i].is_init = p->is_init;
		}
	}
	urcu_memb_read_unlock();
	free(pids);
	*ret = out;
	*ret_n = n;
	return 0;
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

struct proc *container_init_get(struct container *c)
{
	struct proc *p;
	if (!c)
		return NULL;
	pthread_mutex_lock(&c->mu);
	p = c->init ? proc_ref(c->init) : NULL;
	pthread_mutex_unlock(&c->mu);
	return p;
}

static int run_init_op(struct proc *p, const char *const *args, const char *stdin_data,
		       size_t stdin_len, uint64_t deadline_ns, enum shim_op op,
		       struct shim_error *err)
{
	struct runtime_result res;
	int r = runtime_run(&p->c->rt,
			    &(struct runtime_call){ .args = args,
						    .stdin_data = stdin_data,
						    .stdin_len = stdin_len,
						    .deadline_ns = deadline_ns },
			    &res);
	if (r < 0)
		return shim_fail(err, r, SHIM_ERR_RUNTIME, op, "%s", strerror(-r));
	if (res.status != 0) {
		if (op != SHIM_OP_UPDATE) {
			runtime_failure(&p->c->rt, &res, op, err);
		} else { /* Update: the runtime's exit text, not its log */
			char text[SHIM_ERR_MAX];
			runtime_exit_text(&p->c->rt, &res, text, sizeof(text));
			shim_fail(err, -EIO, SHIM_ERR_RUNTIME, op, "%s", text);
		}
		runtime_result_free(&res);
		return -EIO;
	}
	runtime_result_free(&res);
	return 0;
}

int container_pause(struct container *c, uint64_t deadline_ns, struct shim_error *err)
{
	struct proc *p = container_init_get(c);
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

int container_resume(struct container *c, uint64_t deadline_ns, struct shim_error *err)
{
	struct proc *p = container_init_get(c);
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

int container_update(struct container *c, const char *resources, size_t len, uint64_t deadline_ns,
		     struct shim_error *err)
{
	struct proc *p;
	enum proc_status st;
	char text[SHIM_ERR_MAX];
	json_t *res;
	char *json;
	int r;

	p = container_init_get(c);
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
	return reaper_start(exit_reaped);
}
