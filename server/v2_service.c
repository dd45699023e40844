/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The containerd.task.v2.Task methods (docs/v2-protocol.md §5), served also as containerd.task.v3.Task:
 * several containers per shim, each request naming its container by id and its process by
 * exec_id ("" = the init). core/ underneath, errmap.c's v2 texts, v2_events.c's events.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/cgstats.h"
#include "core/container.h"
#include "errmap.h"
#include "events.h"
#include "github.com/containerd/containerd/api/events/task.pb-c.h"
#include "github.com/containerd/containerd/runtime/v2/runc/options/oci.pb-c.h"
#include "github.com/containerd/containerd/runtime/v2/task/shim.pb-c.h"
#include "google/protobuf/empty.pb-c.h"
#include "io/log.h"
#include "metrics.h"
#include "proto/ttrpc_codec.h"
#include "reply.h"
#include "v2_events.h"
#include "v2_oom.h"
#include "v2_service.h"
#include "validate.h"

#define T(x) Containerd__Task__V2__##x
#define F(x) containerd__task__v2__##x
typedef Containerd__Runc__V1__Options Options;
typedef Google__Protobuf__Timestamp Timestamp;

static struct {
	uint32_t pid;
	void (*exit_fn)(void);
} V;

void v2_service_setup(void (*exit_fn)(void))
{
	V.pid = (uint32_t)getpid();
	V.exit_fn = exit_fn;
}

static void reply_err(struct call *call, int r, const struct shim_error *err)
{
	char msg[SHIM_ERR_MAX + 64];
	int code = errmap_v2_code(r, err, msg, sizeof(msg));
	call_reply(call, code, msg, NULL, 0);
}

static void reply_done(struct call *call, int r, const struct shim_error *err)
{
	if (r < 0)
		reply_err(call, r, err);
	else
		reply_msg(call, NULL);
}

/* The container named by the request, or NULL after answering NOT_FOUND. */
static struct container *get_c(struct call *call, const char *id)
{
	struct container *c = container_get(id ? id : "");
	if (!c) {
		char msg[128];
		int code = errmap_v2_no_container(msg, sizeof(msg));
		call_reply(call, code, msg, NULL, 0);
	}
	return c;
}

/* The core's process id in a v2 container (create_req.init_by_empty_id): the exec_id, ""
 * for the init. */
static const char *pid_of(struct container *c, const char *exec_id)
{
	(void)c;
	return exec_id ? exec_id : "";
}

#define UNPACK(type, fn, var)                                                                      \
	type *var = fn(NULL, call->plen, call->payload);                                           \
	if (!var) {                                                                                \
		call_reply(call, GRPC_INTERNAL, TTRPC_DECODE_PAYLOAD_ERR, NULL, 0);                \
		return;                                                                            \
	}

/* --- Create --- */

static int create_options(const Google__Protobuf__Any *any, struct create_req *cr, Options **ret,
			  struct shim_error *err)
{
	Options *o;

	*ret = NULL;
	if (!any || (!any->value.len && (!any->type_url || !*any->type_url)))
		return 0;
	if (!any->type_url || strcmp(any->type_url, "containerd.runc.v1.Options") != 0)
		return shim_fail(err, -EINVAL, SHIM_ERR_REQUEST, SHIM_OP_CREATE,
				 "options of type %s are not containerd.runc.v1.Options: invalid "
				 "argument",
				 any->type_url ? any->type_url : "");
	o = containerd__runc__v1__options__unpack(NULL, any->value.len, any->value.data);
	if (!o)
		return shim_fail(err, -EINVAL, SHIM_ERR_REQUEST, SHIM_OP_CREATE,
				 "cannot decode containerd.runc.v1.Options: invalid argument");
	cr->opts.no_pivot_root = o->no_pivot_root;
	cr->opts.no_new_keyring = o->no_new_keyring;
	cr->opts.io_uid = o->io_uid;
	cr->opts.io_gid = o->io_gid;
	cr->opts.criu_work_path = o->criu_work_path;
	cr->runtime = o->binary_name;
	cr->runtime_root = o->root;
	cr->criu = o->criu_path;
	cr->systemd_cgroup = o->systemd_cgroup;
	*ret = o;
	return 0;
}

static void create_event(const T(CreateTaskRequest) * req, uint32_t pid)
{
	Containerd__Events__TaskCreate e = CONTAINERD__EVENTS__TASK_CREATE__INIT;
	Containerd__Events__TaskIO io = CONTAINERD__EVENTS__TASK_IO__INIT;

	e.container_id = req->id;
	e.bundle = req->bundle;
	e.n_rootfs = req->n_rootfs;
	e.rootfs = req->rootfs;
	io.stdin = req->stdin;
	io.stdout = req->stdout;
	io.stderr = req->stderr;
	io.terminal = req->terminal;
	e.io = &io;
	e.checkpoint = req->checkpoint;
	e.pid = pid;
	v2_event("/tasks/create", "containerd.events.TaskCreate", &e.base);
}

static void m_create(struct call *call)
{
	UNPACK(T(CreateTaskRequest), F(create_task_request__unpack), req);
	T(CreateTaskResponse) resp = CONTAINERD__TASK__V2__CREATE_TASK_RESPONSE__INIT;
	struct shim_error err = { 0 };
	struct mount_spec *mounts = NULL;
	struct create_req cr = { 0 };
	Options *o = NULL;
	struct container *c;
	uint32_t pid = 0;
	int r;

	r = create_options(req->options, &cr, &o, &err);
	if (r < 0)
		goto out;
	if ((r = rootfs_mounts(req->rootfs, req->n_rootfs, &mounts)) < 0)
		goto out;
	cr.id = req->id;
	cr.bundle = req->bundle;
	cr.mounts = mounts;
	cr.n_mounts = req->n_rootfs;
	cr.terminal = req->terminal;
	cr.in = req->stdin;
	cr.out = req->stdout;
	cr.err = req->stderr;
	cr.checkpoint = req->checkpoint;
	cr.parent_checkpoint = req->parent_checkpoint;
	cr.deadline_ns = call->deadline_ns;
	cr.init_by_empty_id = true;
	if (!validate_identifier(cr.id, err.msg, sizeof(err.msg)) || !req->bundle ||
	    req->bundle[0] != '/') {
		if (!err.msg[0])
			snprintf(err.msg, sizeof(err.msg),
				 "bundle must be an absolute path: "
				 "invalid argument");
		err.kind = SHIM_ERR_REQUEST;
		r = -EINVAL;
		goto out;
	}
	r = container_create(&cr, &c, &pid, &err);
	if (r == 0) {
		log_info("created container %s pid %u", req->id, pid);
		create_event(req, pid);
		container_unref(c); /* the table keeps it */
	}
out:
	if (r < 0) {
		log_debug("create %s: %s", req->id, err.msg);
		reply_err(call, r, &err);
	} else {
		resp.pid = pid;
		reply_msg(call, &resp.base);
	}
	free(mounts);
	if (o)
		containerd__runc__v1__options__free_unpacked(o, NULL);
	F(create_task_request__free_unpacked)(req, NULL);
}

/* --- Start --- */

static void m_start(struct call *call)
{
	UNPACK(T(StartRequest), F(start_request__unpack), req);
	T(StartResponse) resp = CONTAINERD__TASK__V2__START_RESPONSE__INIT;
	struct container *c = get_c(call, req->id);
	struct shim_error err = { 0 };
	uint32_t pid = 0;
	int r;

	if (!c)
		goto out;
	v2_start_begin();
	r = container_start(c, pid_of(c, req->exec_id), call->deadline_ns, &pid, &err);
	if (r == 0 && !*req->exec_id) {
		Containerd__Events__TaskStart e = CONTAINERD__EVENTS__TASK_START__INIT;
		e.container_id = req->id;
		e.pid = pid;
		v2_event("/tasks/start", "containerd.events.TaskStart", &e.base);
		v2_oom_watch(c);
	} else if (r == 0) {
		Containerd__Events__TaskExecStarted e = CONTAINERD__EVENTS__TASK_EXEC_STARTED__INIT;
		e.container_id = req->id;
		e.exec_id = req->exec_id;
		e.pid = pid;
		v2_event("/tasks/exec-started", "containerd.events.TaskExecStarted", &e.base);
	}
	v2_start_end();
	if (r < 0) {
		reply_err(call, r, &err);
	} else {
		resp.pid = pid;
		reply_msg(call, &resp.base);
	}
	container_unref(c);
out:
	F(start_request__free_unpacked)(req, NULL);
}

/* --- State (inline, lock-free) --- */

static void m_state(struct call *call)
{
	UNPACK(T(StateRequest), F(state_request__unpack), req);
	T(StateResponse) resp = CONTAINERD__TASK__V2__STATE_RESPONSE__INIT;
	struct container *c = get_c(call, req->id);
	struct shim_error err = { 0 };
	struct proc_state st;
	Timestamp ts;
	int r;

	if (!c)
		goto out;
	r = container_state(c, pid_of(c, req->exec_id), &st, &err);
	if (r < 0) {
		reply_err(call, r, &err);
	} else {
		resp.id = st.id;
		resp.bundle = st.bundle;
		resp.pid = st.pid;
		resp.status = (Containerd__V1__Types__Status)st.status;
		resp.stdin = (char *)st.in;
		resp.stdout = (char *)st.out;
		resp.stderr = (char *)st.err;
		resp.terminal = st.terminal;
		resp.exit_status = st.exit_status;
		set_ts(&ts, &st.exited_at);
		resp.exited_at = &ts;
		reply_msg(call, &resp.base);
		container_state_done(&st);
	}
	container_unref(c);
out:
	F(state_request__free_unpacked)(req, NULL);
}

/* --- Delete --- */

static void m_delete(struct call *call)
{
	UNPACK(T(DeleteRequest), F(delete_request__unpack), req);
	T(DeleteResponse) resp = CONTAINERD__TASK__V2__DELETE_RESPONSE__INIT;
	struct container *c = get_c(call, req->id);
	struct shim_error err = { 0 };
	struct exit_info x = { 0 };
	Timestamp ts;
	int r;

	if (!c)
		goto out;
	if (*req->exec_id)
		r = container_delete_process(c, req->exec_id, &x, &err);
	else
		r = container_delete(c, call->deadline_ns, &x, &err);
	if (r < 0) {
		reply_err(call, r, &err);
	} else {
		set_ts(&ts, &x.exited_at);
		if (!*req->exec_id) {
			Containerd__Events__TaskDelete e = CONTAINERD__EVENTS__TASK_DELETE__INIT;
			e.container_id = req->id;
			e.pid = x.pid;
			e.exit_status = x.exit_status;
			e.exited_at = &ts;
			v2_event("/tasks/delete", "containerd.events.TaskDelete", &e.base);
			v2_oom_unwatch(req->id);
		}
		resp.pid = x.pid;
		resp.exit_status = x.exit_status;
		resp.exited_at = &ts;
		reply_msg(call, &resp.base);
	}
	container_unref(c);
out:
	F(delete_request__free_unpacked)(req, NULL);
}

/* --- Pids --- */

static void m_pids(struct call *call)
{
	UNPACK(T(PidsRequest), F(pids_request__unpack), req);
	T(PidsResponse) resp = CONTAINERD__TASK__V2__PIDS_RESPONSE__INIT;
	struct container *c = get_c(call, req->id);
	struct shim_error err = { 0 };
	struct pid_info *pids = NULL;
	Containerd__V1__Types__ProcessInfo *infos = NULL, **ptrs = NULL;
	Google__Protobuf__Any *anys = NULL;
	uint8_t *details = NULL;
	size_t n = 0;
	int r;

	if (!c)
		goto out;
	r = container_list_pids(c, container_id(c), call->deadline_ns, &pids, &n, &err);
	if (r < 0) {
		reply_err(call, r, &err);
		goto out;
	}
	infos = calloc(n ? n : 1, sizeof(*infos));
	ptrs = calloc(n ? n : 1, sizeof(*ptrs));
	anys = calloc(n ? n : 1, sizeof(*anys));
	details = calloc(n ? n : 1, 300);
	if (!infos || !ptrs || !anys || !details) {
		reply_err(call, -ENOMEM, NULL);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		containerd__v1__types__process_info__init(&infos[i]);
		infos[i].pid = pids[i].pid;
		/* runc-v2: details for exec processes only, not for the init */
		if (pids[i].exec_id[0] && !pids[i].is_init) {
			Containerd__Runc__V1__ProcessDetails d =
				CONTAINERD__RUNC__V1__PROCESS_DETAILS__INIT;
			d.exec_id = pids[i].exec_id;
			google__protobuf__any__init(&anys[i]);
			anys[i].type_url = (char *)"containerd.runc.v1.ProcessDetails";
			anys[i].value.data = details + i * 300;
			anys[i].value.len =
				containerd__runc__v1__process_details__pack(&d, details + i * 300);
			infos[i].info = &anys[i];
		}
		ptrs[i] = &infos[i];
	}
	resp.n_processes = n;
	resp.processes = ptrs;
	reply_msg(call, &resp.base);
out:
	free(pids);
	free(infos);
	free(ptrs);
	free(anys);
	free(details);
	container_unref(c);
	F(pids_request__free_unpacked)(req, NULL);
}

/* --- Pause, Resume --- */

static void paused_event(const char *topic, const char *id)
{
	if (strcmp(topic, "/tasks/paused") == 0) {
		Containerd__Events__TaskPaused e = CONTAINERD__EVENTS__TASK_PAUSED__INIT;
		e.container_id = (char *)id;
		v2_event(topic, "containerd.events.TaskPaused", &e.base);
	} else {
		Containerd__Events__TaskResumed e = CONTAINERD__EVENTS__TASK_RESUMED__INIT;
		e.container_id = (char *)id;
		v2_event(topic, "containerd.events.TaskResumed", &e.base);
	}
}

static void m_pause(struct call *call)
{
	UNPACK(T(PauseRequest), F(pause_request__unpack), req);
	struct container *c = get_c(call, req->id);
	struct shim_error err = { 0 };
	int r;

	if (c) {
		r = container_pause(c, call->deadline_ns, &err);
		if (r == 0)
			paused_event("/tasks/paused", req->id);
		reply_done(call, r, &err);
		container_unref(c);
	}
	F(pause_request__free_unpacked)(req, NULL);
}

static void m_resume(struct call *call)
{
	UNPACK(T(ResumeRequest), F(resume_request__unpack), req);
	struct container *c = get_c(call, req->id);
	struct shim_error err = { 0 };
	int r;

	if (c) {
		r = container_resume(c, call->deadline_ns, &err);
		if (r == 0)
			paused_event("/tasks/resumed", req->id);
		reply_done(call, r, &err);
		container_unref(c);
	}
	F(resume_request__free_unpacked)(req, NULL);
}

/* --- Checkpoint --- */

static void m_checkpoint(struct call *call)
{
	UNPACK(T(CheckpointTaskRequest), F(checkpoint_task_request__unpack), req);
	struct container *c = get_c(call, req->id);
	struct shim_error err = { 0 };
	struct checkpoint_req cr = { .path = req->path,
				     .work_path = "",
				     .deadline_ns = call->deadline_ns };
	Containerd__Runc__V1__CheckpointOptions *o = NULL;
	int r;

	if (!c)
		goto out;
	if (req->options && req->options->value.len) {
		o = containerd__runc__v1__checkpoint_options__unpack(NULL, req->options->value.len,
								     req->options->value.data);
		if (!o) {
			r = shim_fail(&err, -EINVAL, SHIM_ERR_REQUEST, SHIM_OP_CHECKPOINT,
				      "cannot decode CheckpointOptions: invalid argument");
			goto done;
		}
		cr.exit = o->exit;
		cr.open_tcp = o->open_tcp;
		cr.external_unix_sockets = o->external_unix_sockets;
		cr.terminal = o->terminal;
		cr.file_locks = o->file_locks;
		cr.empty_namespaces = o->empty_namespaces;
		cr.n_empty_namespaces = o->n_empty_namespaces;
		cr.work_path = o->work_path;
		if (o->image_path && *o->image_path)
			cr.path = o->image_path;
	}
	r = container_checkpoint(c, &cr, &err);
done:
	reply_done(call, r, &err);
	if (o)
		containerd__runc__v1__checkpoint_options__free_unpacked(o, NULL);
	container_unref(c);
out:
	F(checkpoint_task_request__free_unpacked)(req, NULL);
}

/* --- Kill --- */

static void m_kill(struct call *call)
{
	UNPACK(T(KillRequest), F(kill_request__unpack), req);
	struct container *c = get_c(call, req->id);
	struct shim_error err = { 0 };

	if (c) {
		int r = container_kill(c, pid_of(c, req->exec_id), req->signal, req->all,
				       call->deadline_ns, &err);
		reply_done(call, r, &err);
		container_unref(c);
	}
	F(kill_request__free_unpacked)(req, NULL);
}

/* --- Exec --- */

static void m_exec(struct call *call)
{
	UNPACK(T(ExecProcessRequest), F(exec_process_request__unpack), req);
	struct container *c = get_c(call, req->id);
	struct shim_error err = { 0 };
	struct exec_req er = { .id = req->exec_id,
			       .terminal = req->terminal,
			       .in = req->stdin,
			       .out = req->stdout,
			       .err = req->stderr };
	int r;

	if (!c)
		goto out;
	if (req->spec) {
		er.spec = req->spec->value.data ? (const char *)req->spec->value.data : "";
		er.spec_len = req->spec->value.len;
	}
	if (!validate_identifier(req->exec_id, err.msg, sizeof(err.msg))) {
		err.kind = SHIM_ERR_REQUEST;
		r = -EINVAL;
	} else {
		r = container_exec(c, &er, &err);
	}
	if (r == 0) {
		Containerd__Events__TaskExecAdded e = CONTAINERD__EVENTS__TASK_EXEC_ADDED__INIT;
		e.container_id = req->id;
		e.exec_id = req->exec_id;
		v2_event("/tasks/exec-added", "containerd.events.TaskExecAdded", &e.base);
	}
	reply_done(call, r, &err);
	container_unref(c);
out:
	F(exec_process_request__free_unpacked)(req, NULL);
}

/* --- ResizePty, CloseIO, Update --- */

static void m_resize_pty(struct call *call)
{
	UNPACK(T(ResizePtyRequest), F(resize_pty_request__unpack), req);
	struct container *c = get_c(call, req->id);
	struct shim_error err = { 0 };

	if (c) {
		int r = container_resize_pty(c, pid_of(c, req->exec_id), req->width, req->height,
					     &err);
		reply_done(call, r, &err);
		container_unref(c);
	}
	F(resize_pty_request__free_unpacked)(req, NULL);
}

static void m_close_io(struct call *call)
{
	UNPACK(T(CloseIORequest), F(close_iorequest__unpack), req);
	struct container *c = get_c(call, req->id);
	struct shim_error err = { 0 };

	if (c) {
		int r = container_close_io(c, pid_of(c, req->exec_id), &err);
		reply_done(call, r, &err);
		container_unref(c);
	}
	F(close_iorequest__free_unpacked)(req, NULL);
}

static void m_update(struct call *call)
{
	UNPACK(T(UpdateTaskRequest), F(update_task_request__unpack), req);
	struct container *c = get_c(call, req->id);
	struct shim_error err = { 0 };
	const char *res = NULL;
	size_t len = 0;

	if (c) {
		if (req->resources) {
			res = req->resources->value.data ? (const char *)req->resources->value.data
							 : "";
			len = req->resources->value.len;
		}
		int r = container_update(c, res, len, call->deadline_ns, &err);
		reply_done(call, r, &err);
		container_unref(c);
	}
	F(update_task_request__free_unpacked)(req, NULL);
}

/* --- Wait (registered inline, answered once the exit event is through) --- */

struct wait_ctx {
	struct proc_waiter w; /* first */
	struct call *call;
};

static void reply_wait(struct call *call, uint32_t status, const struct timespec *at)
{
	T(WaitResponse) resp = CONTAINERD__TASK__V2__WAIT_RESPONSE__INIT;
	Timestamp ts;
	resp.exit_status = status;
	set_ts(&ts, at);
	resp.exited_at = &ts;
	reply_msg(call, &resp.base);
}

static void wait_done(struct proc_waiter *w, uint32_t status, const struct timespec *at)
{
	struct wait_ctx *ctx = (struct wait_ctx *)w;
	reply_wait(ctx->call, status, at);
	free(ctx);
}

static void m_wait(struct call *call)
{
	UNPACK(T(WaitRequest), F(wait_request__unpack), req);
	struct container *c = get_c(call, req->id);
	struct shim_error err = { 0 };
	struct exit_info x = { 0 };
	struct wait_ctx *ctx;
	int r;

	if (!c)
		goto out;
	if (!(ctx = calloc(1, sizeof(*ctx)))) {
		reply_err(call, -ENOMEM, NULL);
		goto unref;
	}
	ctx->w.fn = wait_done;
	ctx->call = call;
	r = container_wait(c, pid_of(c, req->exec_id), &ctx->w, &x, &err);
	if (r < 0) {
		free(ctx);
		reply_err(call, r, &err);
	} else if (r == 1) {
		free(ctx);
		reply_wait(call, x.exit_status, &x.exited_at);
	}
unref:
	container_unref(c);
out:
	F(wait_request__free_unpacked)(req, NULL);
}

/* --- Stats --- */

static void m_stats(struct call *call)
{
	UNPACK(T(StatsRequest), F(stats_request__unpack), req);
	T(StatsResponse) resp = CONTAINERD__TASK__V2__STATS_RESPONSE__INIT;
	struct container *c = get_c(call, req->id);
	struct shim_error err = { 0 };
	struct cgstats_v1_metrics *m1 = NULL;
	struct cgstats_v2_metrics *m2 = NULL;
	Google__Protobuf__Any any;
	bool v2 = false;
	int r;

	if (!c)
		goto out;
	m1 = calloc(1, sizeof(*m1));
	m2 = calloc(1, sizeof(*m2));
	if (!m1 || !m2) {
		reply_err(call, -ENOMEM, NULL);
		goto unref;
	}
	r = container_cgroup_stats(c, &v2, m1, m2, &err);
	if (r == 0)
		r = v2 ? metrics_v2_any(m2, &any) : metrics_v1_any(m1, &any);
	else
		err.kind = SHIM_ERR_FAILED;
	if (r < 0) {
		reply_err(call, r, &err);
	} else {
		resp.stats = &any;
		reply_msg(call, &resp.base);
		metrics_any_clear(&any);
	}
	cgstats_v1_metrics_done(m1);
	cgstats_v2_metrics_done(m2);
unref:
	free(m1);
	free(m2);
	container_unref(c);
out:
	F(stats_request__free_unpacked)(req, NULL);
}

/* --- Connect, Shutdown --- */

static void m_connect(struct call *call)
{
	UNPACK(T(ConnectRequest), F(connect_request__unpack), req);
	T(ConnectResponse) resp = CONTAINERD__TASK__V2__CONNECT_RESPONSE__INIT;
	struct container *c = container_get(req->id);
	struct shim_error err = { 0 };
	struct proc_state st;

	resp.shim_pid = V.pid;
	if (c && container_state(c, "", &st, &err) == 0) {
		resp.task_pid = st.pid;
		container_state_done(&st);
	}
	container_unref(c);
	reply_msg(call, &resp.base);
	F(connect_request__free_unpacked)(req, NULL);
}

static void m_shutdown(struct call *call)
{
	UNPACK(T(ShutdownRequest), F(shutdown_request__unpack), req);
	unsigned left = container_count();

	reply_msg(call, NULL);
	F(shutdown_request__free_unpacked)(req, NULL);
	if (left > 0) {
		log_debug("shutdown: %u containers left, serving on", left);
		return;
	}
	if (V.exit_fn)
		V.exit_fn();
}

static const struct method methods[] = {
	{ "State", m_state, true },
	{ "Create", m_create, false },
	{ "Start", m_start, false },
	{ "Delete", m_delete, false },
	{ "Pids", m_pids, false },
	{ "Pause", m_pause, false },
	{ "Resume", m_resume, false },
	{ "Checkpoint", m_checkpoint, false },
	{ "Kill", m_kill, false },
	{ "Exec", m_exec, false },
	{ "ResizePty", m_resize_pty, false },
	{ "CloseIO", m_close_io, false },
	{ "Update", m_update, false },
	{ "Wait", m_wait, true },
	{ "Stats", m_stats, false },
	{ "Connect", m_connect, true },
	{ "Shutdown", m_shutdown, false },
};

const struct method *v2_find_method(const char *name)
{
	return method_find(methods, sizeof(methods) / sizeof(methods[0]), name);
}

const char *const v2_service_names[] = { "containerd.task.v2.Task", "containerd.task.v3.Task",
					 NULL };
