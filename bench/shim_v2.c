/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/shim_v2.h"
#include "bench/util.h"
#include "github.com/containerd/containerd/runtime/v2/runc/options/oci.pb-c.h"
#include "github.com/containerd/containerd/runtime/v2/task/shim.pb-c.h"
#include "google/protobuf/any.pb-c.h"

#define CTL_TIMEOUT_MS 30000
#define SANDBOX_ANNOTATION "io.kubernetes.cri.sandbox-id"

/* One Task call: 0 when answered with code 0 (*resp unpacked with rdesc when both given),
 * -errno on a transport failure, -EIO on an error status; err says which (may be NULL). */
static int call(struct shimclient *c, const char *method, const ProtobufCMessage *req,
		const ProtobufCMessageDescriptor *rdesc, ProtobufCMessage **resp, int timeout_ms,
		char *err, size_t errn)
{
	struct shimclient_reply r;
	int rc = shimclient_call_ex(c, V2_TASK_SERVICE, method, req, timeout_ms, &r);

	if (resp)
		*resp = NULL;
	if (rc < 0) {
		if (err)
			xsnprintf(err, errn, "%s: %s", method, strerror(-rc));
		return rc;
	}
	if (r.code != 0) {
		if (err)
			xsnprintf(err, errn, "%s: code %d: %s", method, r.code, r.msg);
		shimclient_reply_free(&r);
		return -EIO;
	}
	if (rdesc && resp) {
		*resp = protobuf_c_message_unpack(rdesc, NULL, r.plen, r.payload);
		if (!*resp) {
			if (err)
				xsnprintf(err, errn, "%s: undecodable answer", method);
			rc = -EBADMSG;
		}
	}
	shimclient_reply_free(&r);
	return rc;
}

/* containerd.runc.v1.Options{root}, as an Any: what containerd hands `start` on stdin and
 * Create in its options (the launch's runtime root, so that cleanup finds the containers). */
static size_t pack_options(const char *root, uint8_t *opt, size_t optn, Google__Protobuf__Any *any)
{
	Containerd__Runc__V1__Options o = CONTAINERD__RUNC__V1__OPTIONS__INIT;
	uint8_t *val = opt + optn / 2;

	o.root = (char *)root;
	any->type_url = "containerd.runc.v1.Options";
	any->value.data = val;
	any->value.len = containerd__runc__v1__options__pack(&o, val);
	return google__protobuf__any__pack(any, opt);
}

static int start_action(struct bshim *b, struct shim_inst *si)
{
	Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
	uint8_t opt[2 * PATH_MAX + 64];
	size_t n = pack_options(b->si.runtime_root, opt, sizeof(opt), &any);
	char *out = NULL;
	int rc = shim_v2_start_action(si, NULL, opt, n, &out);

	if (rc < 0)
		warnx_("%s: `start` of %s failed (%s): %s", b->label, si->id, strerror(-rc),
		       out ? out : "");
	free(out);
	return rc;
}

int v2_start(struct bshim *b, const char *publisher)
{
	Containerd__Task__V2__ConnectRequest req = CONTAINERD__TASK__V2__CONNECT_REQUEST__INIT;
	Containerd__Task__V2__ConnectResponse *resp = NULL;
	char err[256];
	uint64_t t0;
	int rc;

	b->v2 = true;
	if (publisher && publisher[0])
		xsnprintf(b->si.publisher, sizeof(b->si.publisher), "%s", publisher);
	t0 = now_ns();
	if ((rc = start_action(b, &b->si)) < 0)
		return rc;
	b->start_exit_s = (double)(now_ns() - t0) / 1e9;
	b->ctl = shimclient_connect(b->si.sock, 10000);
	if (!b->ctl) {
		rc = -errno;
		warnx_("%s: connect %s: %s", b->label, b->si.sock, strerror(errno));
		return rc;
	}
	req.id = b->si.id;
	rc = call(b->ctl, "Connect", &req.base, &containerd__task__v2__connect_response__descriptor,
		  (ProtobufCMessage **)&resp, 10000, err, sizeof(err));
	b->first_answer_s = (double)(now_ns() - t0) / 1e9;
	if (rc < 0) {
		warnx_("%s: first answer: %s", b->label, err);
		return rc;
	}
	b->pid = b->si.pid = (pid_t)resp->shim_pid;
	protobuf_c_message_free_unpacked(&resp->base, NULL);
	return 0;
}

static int create_start(struct bshim *b, struct shim_inst *si, uint32_t *init_pid, bool *created,
			bool *started)
{
	Containerd__Task__V2__CreateTaskRequest cr =
		CONTAINERD__TASK__V2__CREATE_TASK_REQUEST__INIT;
	Containerd__Task__V2__StartRequest sr = CONTAINERD__TASK__V2__START_REQUEST__INIT;
	Containerd__Task__V2__CreateTaskResponse *resp = NULL;
	Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
	uint8_t opt[2 * PATH_MAX + 64];
	char err[256];
	int rc;

	pack_options(b->si.runtime_root, opt, sizeof(opt), &any);
	cr.id = si->id;
	cr.bundle = si->bundle;
	cr.options = &any;
	rc = call(b->ctl, "Create", &cr.base,
		  &containerd__task__v2__create_task_response__descriptor,
		  (ProtobufCMessage **)&resp, CTL_TIMEOUT_MS, err, sizeof(err));
	if (rc < 0) {
		warnx_("%s: %s", b->label, err);
		return rc;
	}
	*created = true;
	*init_pid = resp->pid;
	protobuf_c_message_free_unpacked(&resp->base, NULL);
	sr.id = si->id;
	if ((rc = call(b->ctl, "Start", &sr.base, NULL, NULL, CTL_TIMEOUT_MS, err, sizeof(err))) <
	    0) {
		warnx_("%s: %s", b->label, err);
		return rc;
	}
	*started = true;
	return 0;
}

int v2_create_start(struct bshim *b)
{
	return create_start(b, &b->si, &b->init_pid, &b->created, &b->started);
}

int bshim_add_container(struct bshim *b)
{
	static const char *const sleep_argv[] = { "sleep", "1000000", NULL };
	struct bctr *nv, *c;
	int rc;

	if (!b->v2 || !b->ctl)
		return -EINVAL;
	nv = realloc(b->ctr, (size_t)(b->nctr + 1) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	b->ctr = nv;
	c = &b->ctr[b->nctr];
	memset(c, 0, sizeof(*c));
	rc = shim_prepare(&c->si, b->si.shim, "ctr", sleep_argv);
	b->nctr++; /* from here on teardown covers it */
	if (rc == 0) {
		xsnprintf(c->si.address, sizeof(c->si.address), "%s", b->si.address);
		xsnprintf(c->si.publisher, sizeof(c->si.publisher), "%s", b->si.publisher);
		rc = bundle_set_annotation(&c->si, SANDBOX_ANNOTATION, b->si.id);
	}
	if (rc < 0) {
		warnx_("%s: preparing a container: %s", b->label, strerror(-rc));
		return rc;
	}
	if ((rc = start_action(b, &c->si)) < 0)
		return rc;
	if (strcmp(c->si.sock, b->si.sock) != 0) {
		warnx_("%s: `start` of %s printed %s, not its group's %s", b->label, c->si.id,
		       c->si.sock, b->si.sock);
		return -EPROTO;
	}
	return create_start(b, &c->si, &c->init_pid, &c->created, &c->started);
}

/* Kill, Wait, Delete of one container, errors ignored (teardown). */
static void remove_one(struct bshim *b, const char *id, bool started)
{
	Containerd__Task__V2__KillRequest kr = CONTAINERD__TASK__V2__KILL_REQUEST__INIT;
	Containerd__Task__V2__DeleteRequest dr = CONTAINERD__TASK__V2__DELETE_REQUEST__INIT;
	uint32_t st;

	kr.id = dr.id = (char *)id;
	kr.signal = SIGKILL;
	kr.all = true;
	if (started && call(b->ctl, "Kill", &kr.base, NULL, NULL, 10000, NULL, 0) == 0)
		v2_wait(b, b->ctl, id, &st, 10000);
	call(b->ctl, "Delete", &dr.base, &containerd__task__v2__delete_response__descriptor, NULL,
	     10000, NULL, 0);
}

void v2_teardown(struct bshim *b)
{
	Containerd__Task__V2__ShutdownRequest sr = CONTAINERD__TASK__V2__SHUTDOWN_REQUEST__INIT;

	for (int i = b->nctr - 1; i >= 0; i--)
		if (b->ctr[i].created)
			remove_one(b, b->ctr[i].si.id, b->ctr[i].started);
	if (b->created)
		remove_one(b, b->si.id, b->started);
	sr.id = b->si.id;
	call(b->ctl, "Shutdown", &sr.base, NULL, NULL, 5000, NULL, 0);
}

int v2_wait(const struct bshim *b, struct shimclient *c, const char *id, uint32_t *status,
	    int timeout_ms)
{
	Containerd__Task__V2__WaitRequest wr = CONTAINERD__TASK__V2__WAIT_REQUEST__INIT;
	Containerd__Task__V2__WaitResponse *resp = NULL;
	int rc;

	wr.id = (char *)(id ? id : b->si.id);
	rc = call(c, "Wait", &wr.base, &containerd__task__v2__wait_response__descriptor,
		  (ProtobufCMessage **)&resp, timeout_ms, NULL, 0);
	if (rc == 0) {
		*status = resp->exit_status;
		protobuf_c_message_free_unpacked(&resp->base, NULL);
	}
	return rc;
}

int v2_exec_cycle(const struct bshim *b, struct shimclient *c, const char *id, char *err,
		  size_t errn)
{
	Containerd__Task__V2__ExecProcessRequest er =
		CONTAINERD__TASK__V2__EXEC_PROCESS_REQUEST__INIT;
	Containerd__Task__V2__StartRequest sr = CONTAINERD__TASK__V2__START_REQUEST__INIT;
	Containerd__Task__V2__WaitRequest wr = CONTAINERD__TASK__V2__WAIT_REQUEST__INIT;
	Containerd__Task__V2__DeleteRequest dr = CONTAINERD__TASK__V2__DELETE_REQUEST__INIT;
	Google__Protobuf__Any spec = GOOGLE__PROTOBUF__ANY__INIT;
	int rc, rd;

	spec.type_url = PROCESS_TYPE_URL;
	spec.value.data = (uint8_t *)EXEC_SPEC_JSON;
	spec.value.len = strlen(EXEC_SPEC_JSON);
	er.id = sr.id = wr.id = dr.id = (char *)b->si.id;
	er.exec_id = sr.exec_id = wr.exec_id = dr.exec_id = (char *)id;
	er.spec = &spec;
	if ((rc = call(c, "Exec", &er.base, NULL, NULL, CTL_TIMEOUT_MS, err, errn)) < 0)
		return rc;
	rc = call(c, "Start", &sr.base, NULL, NULL, CTL_TIMEOUT_MS, err, errn);
	if (rc == 0)
		rc = call(c, "Wait", &wr.base, NULL, NULL, CTL_TIMEOUT_MS, err, errn);
	rd = call(c, "Delete", &dr.base, NULL, NULL, CTL_TIMEOUT_MS, rc == 0 ? err : NULL, errn);
	return rc < 0 ? rc : rd;
}
