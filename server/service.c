/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The containerd.runtime.linux.shim.v1.Shim methods: protobuf-c messages in and out,
 * core/ underneath. Conversions between the wire and core structs live here.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <urcu/urcu-memb.h>

#include "conn.h"
#include "core/container.h"
#include "dispatch.h"
#include "errmap.h"
#include "reply.h"
#include "validate.h"
#include "github.com/containerd/containerd/runtime/linux/runctypes/runc.pb-c.h"
#include "github.com/containerd/containerd/runtime/v1/shim/v1/shim.pb-c.h"
#include "google/protobuf/any.pb-c.h"
#include "google/protobuf/empty.pb-c.h"
#include "google/protobuf/timestamp.pb-c.h"
#include "io/log.h"
#include "proto/ttrpc_codec.h"

typedef Containerd__Runtime__Linux__Shim__V1__CreateTaskRequest CreateTaskRequest;
typedef Containerd__Runtime__Linux__Shim__V1__CreateTaskResponse CreateTaskResponse;
typedef Containerd__Runtime__Linux__Shim__V1__StartRequest StartRequest;
typedef Containerd__Runtime__Linux__Shim__V1__StartResponse StartResponse;
typedef Containerd__Runtime__Linux__Shim__V1__StateRequest StateRequest;
typedef Containerd__Runtime__Linux__Shim__V1__StateResponse StateResponse;
typedef Containerd__Runtime__Linux__Shim__V1__KillRequest KillRequest;
typedef Containerd__Runtime__Linux__Shim__V1__DeleteResponse DeleteResponse;
typedef Containerd__Runtime__Linux__Shim__V1__DeleteProcessRequest DeleteProcessRequest;
typedef Containerd__Runtime__Linux__Shim__V1__WaitRequest WaitRequest;
typedef Containerd__Runtime__Linux__Shim__V1__WaitResponse WaitResponse;
typedef Containerd__Runtime__Linux__Shim__V1__ListPidsRequest ListPidsRequest;
typedef Containerd__Runtime__Linux__Shim__V1__ListPidsResponse ListPidsResponse;
typedef Containerd__Runtime__Linux__Shim__V1__ShimInfoResponse ShimInfoResponse;
typedef Containerd__Runtime__Linux__Shim__V1__CloseIORequest CloseIORequest;
typedef Containerd__V1__Types__ProcessInfo ProcessInfo;
typedef Containerd__Linux__Runc__CreateOptions CreateOptions;
typedef Containerd__Linux__Runc__ProcessDetails ProcessDetails;
typedef Google__Protobuf__Timestamp Timestamp;

static const char *service_cwd; /* the bundle: the shim's cwd, for its life */

/* glibc makes every getpid() a system call; the shim never forks without exec. */
static uint32_t service_pid;

void service_setup(const char *bundle)
{
	service_cwd = bundle;
	service_pid = (uint32_t)getpid();
}

/*
 * The v1 shim's one container: NULL until the first Create succeeds, then the container that
 * Create made, for the life of the shim (after Delete of its init too: its execs still answer,
 * as in the Go shim). Published with RCU; a Create after that Delete replaces it, and the old
 * one is dropped a grace period later. Every method takes a reference for its call.
 */
static struct container *v1_c;
static pthread_mutex_t v1_mu = PTHREAD_MUTEX_INITIALIZER; /* replacements */

static struct container *v1_get(void)
{
	struct container *c;
	urcu_memb_read_lock();
	c = rcu_deref(v1_c);
	if (c)
		container_ref(c);
	urcu_memb_read_unlock();
	return c;
}

/* Takes over the caller's reference to c. */
static void v1_set(struct container *c)
{
	struct container *old;
	pthread_mutex_lock(&v1_mu);
	old = v1_c;
	rcu_publish(v1_c, c);
	pthread_mutex_unlock(&v1_mu);
	if (old) {
		urcu_memb_synchronize_rcu();
		container_unref(old);
	}
}

void service_shutdown(void)
{
	struct container *c = v1_get();
	struct shim_error err = { 0 };
	struct exit_info x;

	if (!c)
		return;
	(void)container_kill(c, "", 9, true, 0, &err);
	for (int i = 0; i < 50; i++) {
		struct proc_state st;
		if (container_state(c, container_id(c), &st, &err) < 0)
			break;
		enum proc_status s = st.status;
		container_state_done(&st);
		if (s == PROC_STOPPED)
			break;
		usleep(100000);
	}
	(void)container_delete(c, 0, &x, &err);
	container_unref(c);
}

/* Go's zero time.Time, which "not exited" must be (never 1970). */
#define GO_ZERO_TIME_SECONDS (-62135596800LL)

void set_ts(Timestamp *ts, const struct timespec *t)
{
	google__protobuf__timestamp__init(ts);
	if (t->tv_sec == 0 && t->tv_nsec == 0) {
		ts->seconds = GO_ZERO_TIME_SECONDS;
		ts->nanos = 0;
	} else {
		ts->seconds = t->tv_sec;
		ts->nanos = (int32_t)t->tv_nsec;
	}
}

int rootfs_mounts(Containerd__Types__Mount *const *rootfs, size_t n, struct mount_spec **ret)
{
	struct mount_spec *m = NULL;

	*ret = NULL;
	if (n && !(m = calloc(n, sizeof(*m))))
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		m[i].type = rootfs[i]->type;
		m[i].source = rootfs[i]->source;
		m[i].options = rootfs[i]->options;
		m[i].n_options = rootfs[i]->n_options;
	}
	*ret = m;
	return 0;
}

/* Packs msg and answers the call. */
void reply_msg(struct call *call, const ProtobufCMessage *msg)
{
	uint8_t stackbuf[1024], *buf = stackbuf;
	size_t n = msg ? protobuf_c_message_get_packed_size(msg) : 0;

	if (n > sizeof(stackbuf)) {
		buf = malloc(n);
		if (!buf) {
			call_reply(call, GRPC_RESOURCE_EXHAUSTED, "out of memory", NULL, 0);
			return;
		}
	}
	if (n)
		protobuf_c_message_pack(msg, buf);
	call_reply(call, GRPC_OK, NULL, buf, n);
	if (buf != stackbuf)
		free(buf);
}

static void reply_err(struct call *call, int r, const struct shim_error *err)
{
	char msg[SHIM_ERR_MAX + 64];
	int code = errmap_code(r, err, msg, sizeof(msg));
	call_reply(call, code, msg, NULL, 0);
}

static void reply_bad_payload(struct call *call)
{
	call_reply(call, GRPC_INTERNAL, TTRPC_DECODE_PAYLOAD_ERR, NULL, 0);
}

#define UNPACK(type, fn, var)                                                                      \
	type *var = fn(NULL, call->plen, call->payload);                                           \
	if (!var) {                                                                                \
		reply_bad_payload(call);                                                           \
		return;                                                                            \
	}

static uint64_t deadline(struct call *call)
{
	return call->deadline_ns;
}

/* --- Create --- */

static int create_options(const Google__Protobuf__Any *any, struct create_opts *o,
			  CreateOptions **ret, struct shim_error *err)
{
	CreateOptions *co;

	*ret = NULL;
	if (!any)
		return 0;
	if (!any->type_url || strcmp(any->type_url, "containerd.linux.runc.CreateOptions") != 0)
		return shim_fail(err, -EINVAL, SHIM_ERR_REQUEST, SHIM_OP_CREATE,
				 "options of type %s are not containerd.linux.runc."
				 "CreateOptions: invalid argument",
				 any->type_url ? any->type_url : "");
	co = containerd__linux__runc__create_options__unpack(NULL, any->value.len, any->value.data);
	if (!co)
		return shim_fail(err, -EINVAL, SHIM_ERR_REQUEST, SHIM_OP_CREATE,
				 "cannot decode CreateOptions: invalid argument");
	o->no_pivot_root = co->no_pivot_root;
	o->no_new_keyring = co->no_new_keyring;
	o->io_uid = co->io_uid;
	o->io_gid = co->io_gid;
	o->criu_work_path = co->criu_work_path;
	*ret = co;
	return 0;
}

/* The restore paths of a Create (used by Start's runc restore): the image dir must exist
 * (containerd extracts it, or names CreateOptions.criu_image_path), parent_checkpoint is
 * joined beneath it as runc does, criu_work_path may be created by runc like a checkpoint's
 * work path. All without symlinks (README, Reliability). */
static bool create_paths_ok(struct call *call, const CreateTaskRequest *req,
			    const CreateOptions *co, char *msg, size_t msgsz)
{
	/* wire lengths: a field sent as "\0..." is "" for protobuf-c but not absent */
	size_t ck = validate_wire_len(call->payload, call->plen, 9, req->checkpoint);
	size_t pc = validate_wire_len(call->payload, call->plen, 10, req->parent_checkpoint);
	size_t wk = co ? validate_wire_len(req->options->value.data, req->options->value.len, 12,
					   co->criu_work_path)
		       : 0;

	if (ck && !validate_request_path("create checkpoint", req->checkpoint, ck, REQ_PATH_DIR,
					 msg, msgsz))
		return false;
	if (ck && pc &&
	    !validate_request_subpath("create parent_checkpoint", req->checkpoint,
				      req->parent_checkpoint, pc, msg, msgsz))
		return false;
	if (wk && !validate_request_path("create criu_work_path", co->criu_work_path, wk,
					 REQ_PATH_DIR_OR_LEAF, msg, msgsz))
		return false;
	return true;
}

static void m_create(struct call *call)
{
	UNPACK(CreateTaskRequest, containerd__runtime__linux__shim__v1__create_task_request__unpack,
	       req);
	CreateTaskResponse resp = CONTAINERD__RUNTIME__LINUX__SHIM__V1__CREATE_TASK_RESPONSE__INIT;
	struct shim_error err = { 0 };
	struct mount_spec *mounts = NULL;
	CreateOptions *co = NULL;
	struct create_req cr = { 0 };
	struct container *c;
	uint32_t pid = 0;
	int r;

	r = create_options(req->options, &cr.opts, &co, &err);
	if (r < 0)
		goto out;
	if ((r = rootfs_mounts(req->rootfs, req->n_rootfs, &mounts)) < 0)
		goto out;
	cr.id = req->id;
	cr.bundle = req->bundle;
	cr.runtime = req->runtime;
	cr.mounts = mounts;
	cr.n_mounts = req->n_rootfs;
	cr.terminal = req->terminal;
	cr.in = req->stdin;
	cr.out = req->stdout;
	cr.err = req->stderr;
	cr.checkpoint = req->checkpoint;
	cr.parent_checkpoint = req->parent_checkpoint;
	cr.deadline_ns = deadline(call);
	if (!validate_identifier(cr.id, err.msg, sizeof(err.msg)) ||
	    !validate_bundle(cr.bundle, service_cwd, err.msg, sizeof(err.msg)) ||
	    !create_paths_ok(call, req, co, err.msg, sizeof(err.msg))) {
		err.kind = SHIM_ERR_REQUEST;
		r = -EINVAL;
		goto out;
	}
	cr.only_one = true;
	r = container_create(&cr, &c, &pid, &err);
	if (r == 0) {
		log_info("created container %s pid %u", req->id, pid);
		v1_set(c);
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
	if (co)
		containerd__linux__runc__create_options__free_unpacked(co, NULL);
	containerd__runtime__linux__shim__v1__create_task_request__free_unpacked(req, NULL);
}

/* --- Start --- */

static void m_start(struct call *call)
{
	UNPACK(StartRequest, containerd__runtime__linux__shim__v1__start_request__unpack, req);
	struct container *c = v1_get();
	StartResponse resp = CONTAINERD__RUNTIME__LINUX__SHIM__V1__START_RESPONSE__INIT;
	struct shim_error err = { 0 };
	uint32_t pid = 0;
	int r = container_start(c, req->id, deadline(call), &pid, &err);

	if (r < 0) {
		reply_err(call, r, &err);
	} else {
		resp.id = req->id;
		resp.pid = pid;
		reply_msg(call, &resp.base);
	}
	container_unref(c);
	containerd__runtime__linux__shim__v1__start_request__free_unpacked(req, NULL);
}

/* --- State (lock-free, inline) --- */

static void m_state(struct call *call)
{
	UNPACK(StateRequest, containerd__runtime__linux__shim__v1__state_request__unpack, req);
	struct container *c = v1_get();
	StateResponse resp = CONTAINERD__RUNTIME__LINUX__SHIM__V1__STATE_RESPONSE__INIT;
	struct shim_error err = { 0 };
	struct proc_state st;
	Timestamp ts;
	int r = container_state(c, req->id, &st, &err);

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
	containerd__runtime__linux__shim__v1__state_request__free_unpacked(req, NULL);
}

/* --- Kill --- */

static void m_kill(struct call *call)
{
	UNPACK(KillRequest, containerd__runtime__linux__shim__v1__kill_request__unpack, req);
	struct container *c = v1_get();
	struct shim_error err = { 0 };
	int r = container_kill(c, req->id, req->signal, req->all, deadline(call), &err);

	if (r < 0)
		reply_err(call, r, &err);
	else
		reply_msg(call, NULL);
	container_unref(c);
	containerd__runtime__linux__shim__v1__kill_request__free_unpacked(req, NULL);
}

/* --- Delete, DeleteProcess --- */

static void reply_exit(struct call *call, const struct exit_info *x)
{
	DeleteResponse resp = CONTAINERD__RUNTIME__LINUX__SHIM__V1__DELETE_RESPONSE__INIT;
	Timestamp ts;
	resp.pid = x->pid;
	resp.exit_status = x->exit_status;
	set_ts(&ts, &x->exited_at);
	resp.exited_at = &ts;
	reply_msg(call, &resp.base);
}

static void m_delete(struct call *call)
{
	UNPACK(Google__Protobuf__Empty, google__protobuf__empty__unpack, req);
	struct container *c = v1_get();
	struct shim_error err = { 0 };
	struct exit_info x = { 0 };
	int r = container_delete(c, deadline(call), &x, &err);

	if (r < 0)
		reply_err(call, r, &err);
	else
		reply_exit(call, &x);
	container_unref(c);
	google__protobuf__empty__free_unpacked(req, NULL);
}

static void m_delete_process(struct call *call)
{
	UNPACK(DeleteProcessRequest,
	       containerd__runtime__linux__shim__v1__delete_process_request__unpack, req);
	struct container *c = v1_get();
	struct shim_error err = { 0 };
	struct exit_info x = { 0 };
	int r = container_delete_process(c, req->id, &x, &err);

	if (r < 0)
		reply_err(call, r, &err);
	else
		reply_exit(call, &x);
	container_unref(c);
	containerd__runtime__linux__shim__v1__delete_process_request__free_unpacked(req, NULL);
}

/* --- Wait (registered inline, answered by the reaper when the exit is recorded) --- */

struct wait_ctx {
	struct proc_waiter w; /* first */
	struct call *call;
};

static void reply_wait(struct call *call, uint32_t status, const struct timespec *at)
{
	WaitResponse resp = CONTAINERD__RUNTIME__LINUX__SHIM__V1__WAIT_RESPONSE__INIT;
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
	UNPACK(WaitRequest, containerd__runtime__linux__shim__v1__wait_request__unpack, req);
	struct container *c = v1_get();
	struct shim_error err = { 0 };
	struct exit_info x = { 0 };
	struct wait_ctx *ctx = calloc(1, sizeof(*ctx));
	int r;

	if (!ctx) {
		reply_err(call, -ENOMEM, NULL);
		goto out;
	}
	ctx->w.fn = wait_done;
	ctx->call = call;
	r = container_wait(c, req->id, &ctx->w, &x, &err);
	if (r < 0) {
		free(ctx);
		reply_err(call, r, &err);
	} else if (r == 1) {
		free(ctx);
		reply_wait(call, x.exit_status, &x.exited_at);
	}
	/* r == 0: answered by wait_done */
out:
	container_unref(c);
	containerd__runtime__linux__shim__v1__wait_request__free_unpacked(req, NULL);
}

/* --- ListPids --- */

static void m_list_pids(struct call *call)
{
	UNPACK(ListPidsRequest, containerd__runtime__linux__shim__v1__list_pids_request__unpack,
	       req);
	struct container *c = v1_get();
	ListPidsResponse resp = CONTAINERD__RUNTIME__LINUX__SHIM__V1__LIST_PIDS_RESPONSE__INIT;
	struct shim_error err = { 0 };
	struct pid_info *pids = NULL;
	ProcessInfo *infos = NULL, **ptrs = NULL;
	Google__Protobuf__Any *anys = NULL;
	uint8_t *details = NULL;
	size_t n = 0;
	int r = container_list_pids(c, req->id, deadline(call), &pids, &n, &err);

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
		if (pids[i].exec_id[0]) {
			ProcessDetails d = CONTAINERD__LINUX__RUNC__PROCESS_DETAILS__INIT;
			d.exec_id = pids[i].exec_id;
			google__protobuf__any__init(&anys[i]);
			anys[i].type_url = (char *)"containerd.linux.runc.ProcessDetails";
			anys[i].value.data = details + i * 300;
			anys[i].value.len = containerd__linux__runc__process_details__pack(
				&d, details + i * 300);
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
	containerd__runtime__linux__shim__v1__list_pids_request__free_unpacked(req, NULL);
}

/* --- ShimInfo, CloseIO --- */

static void m_shim_info(struct call *call)
{
	UNPACK(Google__Protobuf__Empty, google__protobuf__empty__unpack, req);
	ShimInfoResponse resp = CONTAINERD__RUNTIME__LINUX__SHIM__V1__SHIM_INFO_RESPONSE__INIT;
	resp.shim_pid = service_pid;
	reply_msg(call, &resp.base);
	google__protobuf__empty__free_unpacked(req, NULL);
}

static void m_close_io(struct call *call)
{
	UNPACK(CloseIORequest, containerd__runtime__linux__shim__v1__close_iorequest__unpack, req);
	struct container *c = v1_get();
	struct shim_error err = { 0 };
	int r = container_close_io(c, req->id, &err);
	if (r < 0)
		reply_err(call, r, &err);
	else
		reply_msg(call, NULL);
	container_unref(c);
	containerd__runtime__linux__shim__v1__close_iorequest__free_unpacked(req, NULL);
}

typedef Containerd__Runtime__Linux__Shim__V1__ExecProcessRequest ExecProcessRequest;
typedef Containerd__Runtime__Linux__Shim__V1__ResizePtyRequest ResizePtyRequest;
typedef Containerd__Runtime__Linux__Shim__V1__UpdateTaskRequest UpdateTaskRequest;

static void m_exec(struct call *call)
{
	UNPACK(ExecProcessRequest,
	       containerd__runtime__linux__shim__v1__exec_process_request__unpack, req);
	struct container *c = v1_get();
	struct shim_error err = { 0 };
	struct exec_req er = { .id = req->id,
			       .terminal = req->terminal,
			       .in = req->stdin,
			       .out = req->stdout,
			       .err = req->stderr };
	int r;

	if (req->spec) {
		er.spec = (const char *)req->spec->value.data;
		er.spec_len = req->spec->value.len;
		if (!er.spec)
			er.spec = "";
	}
	if (!validate_identifier(req->id, err.msg, sizeof(err.msg))) {
		err.kind = SHIM_ERR_REQUEST;
		r = -EINVAL;
	} else {
		r = container_exec(c, &er, &err);
	}
	if (r < 0)
		reply_err(call, r, &err);
	else
		reply_msg(call, NULL);
	container_unref(c);
	containerd__runtime__linux__shim__v1__exec_process_request__free_unpacked(req, NULL);
}

static void m_resize_pty(struct call *call)
{
	UNPACK(ResizePtyRequest, containerd__runtime__linux__shim__v1__resize_pty_request__unpack,
	       req);
	struct container *c = v1_get();
	struct shim_error err = { 0 };
	int r = container_resize_pty(c, req->id, req->width, req->height, &err);
	if (r < 0)
		reply_err(call, r, &err);
	else
		reply_msg(call, NULL);
	container_unref(c);
	containerd__runtime__linux__shim__v1__resize_pty_request__free_unpacked(req, NULL);
}

static void m_pause(struct call *call)
{
	UNPACK(Google__Protobuf__Empty, google__protobuf__empty__unpack, req);
	struct container *c = v1_get();
	struct shim_error err = { 0 };
	int r = container_pause(c, deadline(call), &err);
	if (r < 0)
		reply_err(call, r, &err);
	else
		reply_msg(call, NULL);
	container_unref(c);
	google__protobuf__empty__free_unpacked(req, NULL);
}

static void m_resume(struct call *call)
{
	UNPACK(Google__Protobuf__Empty, google__protobuf__empty__unpack, req);
	struct container *c = v1_get();
	struct shim_error err = { 0 };
	int r = container_resume(c, deadline(call), &err);
	if (r < 0)
		reply_err(call, r, &err);
	else
		reply_msg(call, NULL);
	container_unref(c);
	google__protobuf__empty__free_unpacked(req, NULL);
}

static void m_update(struct call *call)
{
	UNPACK(UpdateTaskRequest, containerd__runtime__linux__shim__v1__update_task_request__unpack,
	       req);
	struct container *c = v1_get();
	struct shim_error err = { 0 };
	const char *res = NULL;
	size_t len = 0;
	int r;

	if (req->resources) {
		res = req->resources->value.data ? (const char *)req->resources->value.data : "";
		len = req->resources->value.len;
	}
	r = container_update(c, res, len, deadline(call), &err);
	if (r < 0)
		reply_err(call, r, &err);
	else
		reply_msg(call, NULL);
	container_unref(c);
	containerd__runtime__linux__shim__v1__update_task_request__free_unpacked(req, NULL);
}

typedef Containerd__Runtime__Linux__Shim__V1__CheckpointTaskRequest CheckpointTaskRequest;
typedef Containerd__Linux__Runc__CheckpointOptions CheckpointOptions;

static void m_checkpoint(struct call *call)
{
	UNPACK(CheckpointTaskRequest,
	       containerd__runtime__linux__shim__v1__checkpoint_task_request__unpack, req);
	struct container *c = v1_get();
	struct shim_error err = { 0 };
	struct checkpoint_req cr = { .path = req->path,
				     .work_path = "",
				     .deadline_ns = deadline(call) };
	CheckpointOptions *o = NULL;
	size_t plen_w, wlen_w;
	int r;

	if (req->options) {
		if (!req->options->type_url ||
		    strcmp(req->options->type_url, "containerd.linux.runc.CheckpointOptions") !=
			    0) {
			r = shim_fail(&err, -EINVAL, SHIM_ERR_REQUEST, SHIM_OP_CHECKPOINT,
				      "options of type %s are not containerd.linux.runc."
				      "CheckpointOptions: invalid argument",
				      req->options->type_url ? req->options->type_url : "");
			goto out;
		}
		o = containerd__linux__runc__checkpoint_options__unpack(
			NULL, req->options->value.len, req->options->value.data);
		if (!o) {
			r = shim_fail(&err, -EINVAL, SHIM_ERR_REQUEST, SHIM_OP_CHECKPOINT,
				      "cannot decode CheckpointOptions: invalid argument");
			goto out;
		}
		cr.exit = o->exit;
		cr.open_tcp = o->open_tcp;
		cr.external_unix_sockets = o->external_unix_sockets;
		cr.terminal = o->terminal;
		cr.file_locks = o->file_locks;
		cr.empty_namespaces = o->empty_namespaces;
		cr.n_empty_namespaces = o->n_empty_namespaces;
		cr.work_path = o->work_path;
	}
	/* Paths runc and CRIU write to: confined before any runtime runs (README, Reliability).
	 * An empty path keeps its own error below (after the init check, as before). */
	plen_w = validate_wire_len(call->payload, call->plen, 1, cr.path);
	wlen_w = o ? validate_wire_len(req->options->value.data, req->options->value.len, 8,
				       cr.work_path)
		   : 0;
	if ((plen_w && !validate_request_path("checkpoint path", cr.path, plen_w,
					      REQ_PATH_DIR_OR_LEAF, err.msg, sizeof(err.msg))) ||
	    (wlen_w && !validate_request_path("checkpoint work_path", cr.work_path, wlen_w,
					      REQ_PATH_DIR_OR_LEAF, err.msg, sizeof(err.msg)))) {
		err.kind = SHIM_ERR_REQUEST;
		r = -EINVAL;
		goto out;
	}
	r = container_checkpoint(c, &cr, &err);
out:
	if (r < 0)
		reply_err(call, r, &err);
	else
		reply_msg(call, NULL);
	if (o)
		containerd__linux__runc__checkpoint_options__free_unpacked(o, NULL);
	container_unref(c);
	containerd__runtime__linux__shim__v1__checkpoint_task_request__free_unpacked(req, NULL);
}

static const struct method methods[] = {
	{ "State", m_state, true },
	{ "Create", m_create, false },
	{ "Start", m_start, false },
	{ "Delete", m_delete, false },
	{ "DeleteProcess", m_delete_process, false },
	{ "ListPids", m_list_pids, false },
	{ "Pause", m_pause, false },
	{ "Resume", m_resume, false },
	{ "Checkpoint", m_checkpoint, false },
	{ "Kill", m_kill, false },
	{ "Exec", m_exec, false },
	{ "ResizePty", m_resize_pty, false },
	{ "CloseIO", m_close_io, false },
	{ "ShimInfo", m_shim_info, true },
	{ "Update", m_update, false },
	{ "Wait", m_wait, true },
};

const struct method *service_find_method(const char *name)
{
	return method_find(methods, sizeof(methods) / sizeof(methods[0]), name);
}
