/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conn.h"
#include "core/runtime.h"
#include "dispatch.h"
#include "io/clock.h"
#include "io/log.h"
#include "proto/ttrpc_codec.h"
#include "validate.h"
#include "worker_pool.h"

const struct method *method_find(const struct method *table, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(table[i].name, name) == 0)
			return &table[i];
	return NULL;
}

void call_reply(struct call *call, int code, const char *msg, const uint8_t *payload, size_t plen)
{
	conn_respond(call->c, call->stream, code, msg, payload, plen);
	atomic_fetch_sub(&call->c->inflight, 1);
	conn_unref(call->c);
	free(call->body);
	free(call);
}

static void run_call(void *arg)
{
	struct call *call = arg;
	/* Like the Go shim's request context: the runtime started for a request is killed when
	 * its client goes away. */
	runtime_set_cancel(&call->c->gone);
	call->m->fn(call);
	runtime_set_cancel(NULL);
}

static bool request_utf8_ok(const Ttrpc__Request *req, char *msg, size_t msgsz)
{
	const char *field = NULL;
	if (!validate_utf8(req->service))
		field = "service";
	else if (!validate_utf8(req->method))
		field = "method";
	for (size_t i = 0; !field && i < req->n_metadata; i++)
		if (!validate_utf8(req->metadata[i]->key) ||
		    !validate_utf8(req->metadata[i]->value))
			field = "metadata";
	if (!field)
		return true;
	snprintf(msg, msgsz,
		 "unmarshal request error: proto: field ttrpc.Request.%s contains invalid UTF-8",
		 field);
	return false;
}

/* The service served (v1's until dispatch_set_service). */
static struct {
	const char *const *names;
	const struct method *(*find)(const char *name);
} D = { (const char *const[]){ SHIM_SERVICE, NULL }, service_find_method };

void dispatch_set_service(const char *const *names, const struct method *(*find)(const char *))
{
	D.names = names;
	D.find = find;
}

static bool service_served(const char *name)
{
	for (const char *const *n = D.names; *n; n++)
		if (strcmp(*n, name) == 0)
			return true;
	return false;
}

void dispatch_frame(struct conn *c, const struct ttrpc_hdr *h, uint8_t *body)
{
	Ttrpc__Request *req = ttrpc_request_decode(body, h->len);
	const struct method *m;
	struct call *call;
	char msg[512];

	if (!req) {
		conn_respond(c, h->stream, GRPC_INVALID_ARGUMENT, TTRPC_DECODE_REQUEST_ERR, NULL,
			     0);
		goto out;
	}
	if (!request_utf8_ok(req, msg, sizeof(msg))) {
		conn_respond(c, h->stream, GRPC_INVALID_ARGUMENT, msg, NULL, 0);
		goto out;
	}
	if (h->stream % 2 == 0) {
		conn_respond(c, h->stream, GRPC_INVALID_ARGUMENT,
			     "StreamID must be odd for client initiated streams", NULL, 0);
		goto out;
	}
	if (!req->service || !service_served(req->service)) {
		snprintf(msg, sizeof(msg), "service %s", req->service ? req->service : "");
		conn_respond(c, h->stream, GRPC_UNIMPLEMENTED, msg, NULL, 0);
		goto out;
	}
	m = D.find(req->method ? req->method : "");
	if (!m) {
		snprintf(msg, sizeof(msg), "method %s", req->method ? req->method : "");
		conn_respond(c, h->stream, GRPC_UNIMPLEMENTED, msg, NULL, 0);
		goto out;
	}
	log_debug("request %s stream %u", m->name, h->stream);
	call = calloc(1, sizeof(*call));
	if (!call) {
		conn_respond(c, h->stream, GRPC_RESOURCE_EXHAUSTED, "out of memory", NULL, 0);
		goto out;
	}
	call->c = conn_ref(c);
	call->stream = h->stream;
	call->m = m;
	if (req->timeout_nano > 0)
		call->deadline_ns = clock_mono_ns() + (uint64_t)req->timeout_nano;
	/* The payload points into body, which the call keeps until it is answered. */
	call->payload = req->payload.data;
	call->plen = req->payload.len;
	{
		/* protobuf-c copies bytes fields: keep its copy by moving it out of req. */
		call->body = req->payload.data;
		req->payload.data = NULL;
		req->payload.len = 0;
	}
	atomic_fetch_add(&c->inflight, 1);
	ttrpc__request__free_unpacked(req, NULL);
	free(body);
	if (m->inline_ok) {
		m->fn(call);
		return;
	}
	/* A worker runs it: the loop sleeps after this batch instead of spinning on the CPU the
	 * worker may need (io/loop.h). */
	loop_spin_hold(c->loop);
	if (worker_pool_submit(run_call, call) < 0)
		call_reply(call, GRPC_RESOURCE_EXHAUSTED, "too many requests in flight", NULL, 0);
	return;
out:
	if (req)
		ttrpc__request__free_unpacked(req, NULL);
	free(body);
}
