/* SPDX-License-Identifier: Apache-2.0 */
/*
 * server/dispatch.c through a real connection (acceptor_adopt on a socketpair): requests are
 * routed to the Shim service's methods, inline (ShimInfo, State, Wait) or on the worker pool
 * (the others); unknown services and methods, even stream ids, undecodable envelopes and
 * invalid UTF-8 get ttrpc's status; other frame types are ignored; a full pool answers
 * RESOURCE_EXHAUSTED. No container is created: the methods that need one answer
 * FAILED_PRECONDITION, which is enough to see that they ran.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "github.com/containerd/containerd/runtime/v1/shim/v1/shim.pb-c.h"
#include "core/process.h"
#include "server/dispatch.h"
#include "server/worker_pool.h"
#include "tests/unit/conn_harness.h"

static void send_request(struct harness *h, uint32_t stream, const char *service,
			 const char *method, const uint8_t *payload, size_t plen)
{
	uint8_t *frame;
	size_t len;

	assert_int_equal(
		ttrpc_request_frame(stream, service, method, payload, plen, 0, &frame, &len), 0);
	harness_write_all(h->cli, frame, len);
	free(frame);
}

static void send_raw(struct harness *h, uint32_t stream, uint8_t type, const uint8_t *body,
		     size_t len)
{
	struct ttrpc_hdr hdr = { .len = (uint32_t)len, .stream = stream, .type = type };
	uint8_t hb[TTRPC_HDR_LEN];

	ttrpc_hdr_encode(hb, &hdr);
	harness_write_all(h->cli, hb, sizeof(hb));
	if (len)
		harness_write_all(h->cli, body, len);
}

static void expect(struct harness *h, uint32_t stream, int code, const char *msg)
{
	struct harness_resp r;

	harness_read_response(h, &r);
	assert_int_equal(r.hdr.stream, stream);
	assert_string_equal(r.msg, msg);
	assert_int_equal(r.code, code);
	harness_resp_free(&r);
}

static void expect_shim_info(struct harness *h, uint32_t stream)
{
	Containerd__Runtime__Linux__Shim__V1__ShimInfoResponse *si;
	struct harness_resp r;

	harness_read_response(h, &r);
	assert_int_equal(r.hdr.stream, stream);
	assert_int_equal(r.code, GRPC_OK);
	si = containerd__runtime__linux__shim__v1__shim_info_response__unpack(NULL, r.plen,
									      r.payload);
	assert_non_null(si);
	assert_int_equal(si->shim_pid, (uint32_t)getpid());
	containerd__runtime__linux__shim__v1__shim_info_response__free_unpacked(si, NULL);
	harness_resp_free(&r);
}

static int setup(void **state)
{
	struct harness *h = calloc(1, sizeof(*h));
	assert_non_null(h);
	harness_start(h, 0, 0);
	*state = h;
	return 0;
}

static int teardown(void **state)
{
	struct harness *h = *state;
	harness_stop(h);
	free(h);
	return 0;
}

static void test_routes_methods(void **state)
{
	struct harness *h = *state;

	/* inline */
	send_request(h, 1, SHIM_SERVICE, "ShimInfo", NULL, 0);
	expect_shim_info(h, 1);
	/* on a worker: the service answers that there is no container yet */
	send_request(h, 3, SHIM_SERVICE, "Pause", NULL, 0);
	expect(h, 3, GRPC_FAILED_PRECONDITION, "container must be created: failed precondition");
	send_request(h, 5, SHIM_SERVICE, "Kill", NULL, 0);
	expect(h, 5, GRPC_FAILED_PRECONDITION, "container must be created: failed precondition");
	/* the method's payload reaches it: State of an id nobody has */
	{
		Containerd__Runtime__Linux__Shim__V1__StateRequest sr =
			CONTAINERD__RUNTIME__LINUX__SHIM__V1__STATE_REQUEST__INIT;
		uint8_t buf[64];
		size_t n;
		sr.id = (char *)"nosuch";
		n = containerd__runtime__linux__shim__v1__state_request__pack(&sr, buf);
		send_request(h, 7, SHIM_SERVICE, "State", buf, n);
		expect(h, 7, GRPC_NOT_FOUND, "process nosuch does not exist: not found");
	}
	/* an undecodable payload is the method's error, on its stream */
	send_request(h, 9, SHIM_SERVICE, "State", (const uint8_t *)"\x0a\x05x", 3);
	expect(h, 9, GRPC_INTERNAL, TTRPC_DECODE_PAYLOAD_ERR);
}

static void test_rejects_unknown_services_and_methods(void **state)
{
	struct harness *h = *state;

	send_request(h, 1, "containerd.task.v2.Task", "State", NULL, 0);
	expect(h, 1, GRPC_UNIMPLEMENTED, "service containerd.task.v2.Task");
	send_request(h, 3, "", "State", NULL, 0);
	expect(h, 3, GRPC_UNIMPLEMENTED, "service ");
	send_request(h, 5, SHIM_SERVICE, "Stats", NULL, 0);
	expect(h, 5, GRPC_UNIMPLEMENTED, "method Stats");
	send_request(h, 7, SHIM_SERVICE, "state", NULL, 0); /* names are case-sensitive */
	expect(h, 7, GRPC_UNIMPLEMENTED, "method state");
	send_request(h, 9, SHIM_SERVICE, "", NULL, 0);
	expect(h, 9, GRPC_UNIMPLEMENTED, "method ");
	/* the connection still serves */
	send_request(h, 11, SHIM_SERVICE, "ShimInfo", NULL, 0);
	expect_shim_info(h, 11);
}

static void test_stream_ids(void **state)
{
	struct harness *h = *state;

	/* client streams are odd; an even one is refused on that stream */
	send_request(h, 2, SHIM_SERVICE, "ShimInfo", NULL, 0);
	expect(h, 2, GRPC_INVALID_ARGUMENT, "StreamID must be odd for client initiated streams");
	send_request(h, 0, SHIM_SERVICE, "ShimInfo", NULL, 0);
	expect(h, 0, GRPC_INVALID_ARGUMENT, "StreamID must be odd for client initiated streams");
	/* the answer carries the request's stream, whatever the order of ids */
	send_request(h, 0x7fffffff, SHIM_SERVICE, "ShimInfo", NULL, 0);
	expect_shim_info(h, 0x7fffffff);
	send_request(h, 3, SHIM_SERVICE, "ShimInfo", NULL, 0);
	expect_shim_info(h, 3);
}

static void test_bad_envelopes(void **state)
{
	struct harness *h = *state;
	static const uint8_t garbage[] = { 0x0a, 0x7f, 'x' }; /* a field longer than the body */

	send_raw(h, 1, TTRPC_TYPE_REQUEST, garbage, sizeof(garbage));
	expect(h, 1, GRPC_INVALID_ARGUMENT, TTRPC_DECODE_REQUEST_ERR);
	send_request(h, 3, SHIM_SERVICE, "Shim\xffInfo", NULL, 0);
	expect(h, 3, GRPC_INVALID_ARGUMENT,
	       "unmarshal request error: proto: field ttrpc.Request.method contains invalid "
	       "UTF-8");
	send_request(h, 5, "containerd.\xc0\xaf", "ShimInfo", NULL, 0);
	expect(h, 5, GRPC_INVALID_ARGUMENT,
	       "unmarshal request error: proto: field ttrpc.Request.service contains invalid "
	       "UTF-8");
	/* frames of other types are ignored (ttrpc 1.1.1): the next answer is the request's */
	send_raw(h, 7, TTRPC_TYPE_RESPONSE, garbage, sizeof(garbage));
	send_raw(h, 9, 7, NULL, 0);
	send_request(h, 11, SHIM_SERVICE, "ShimInfo", NULL, 0);
	expect_shim_info(h, 11);
}

static void test_oversized_frame(void **state)
{
	struct harness *h = *state;
	size_t n = TTRPC_MAX_MSG + 1;
	uint8_t *big = calloc(1, n);
	char want[128];

	assert_non_null(big);
	send_raw(h, 1, TTRPC_TYPE_REQUEST, big, n);
	snprintf(want, sizeof(want), "message length %u exceed maximum message size of %u",
		 TTRPC_MAX_MSG + 1, TTRPC_MAX_MSG);
	expect(h, 1, GRPC_RESOURCE_EXHAUSTED, want);
	free(big);
	/* the stream is in step again */
	send_request(h, 3, SHIM_SERVICE, "ShimInfo", NULL, 0);
	expect_shim_info(h, 3);
}

/* The pool's only worker is held: a pooled request waits, an inline one does not; past the
 * pool's queue bound a request is refused at once. */
static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static bool gate_open, gate_entered;

static void hold_worker(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&gate_mu);
	gate_entered = true;
	pthread_cond_broadcast(&gate_cv);
	while (!gate_open)
		pthread_cond_wait(&gate_cv, &gate_mu);
	pthread_mutex_unlock(&gate_mu);
}

static void test_inline_and_pooled(void **state)
{
	struct harness *h = *state;
	const int queue_max = 4096; /* worker_pool.c's QUEUE_MAX */
	uint32_t s = 1;

	assert_int_equal(worker_pool_submit(hold_worker, NULL), 0);
	pthread_mutex_lock(&gate_mu);
	while (!gate_entered)
		pthread_cond_wait(&gate_cv, &gate_mu);
	pthread_mutex_unlock(&gate_mu);
	/* Pause waits for a worker; ShimInfo, sent after it, is answered first */
	send_request(h, s, SHIM_SERVICE, "Pause", NULL, 0);
	send_request(h, s + 2, SHIM_SERVICE, "ShimInfo", NULL, 0);
	expect_shim_info(h, s + 2);
	/* fill the queue: Pause is queued, so queue_max - 1 more fit, the next is refused */
	for (int i = 0; i < queue_max; i++)
		send_request(h, s + 4 + 2 * (uint32_t)i, SHIM_SERVICE, "Resume", NULL, 0);
	expect(h, s + 4 + 2 * (uint32_t)(queue_max - 1), GRPC_RESOURCE_EXHAUSTED,
	       "too many requests in flight");
	pthread_mutex_lock(&gate_mu);
	gate_open = true;
	pthread_cond_broadcast(&gate_cv);
	pthread_mutex_unlock(&gate_mu);
	/* the queued ones run, in order */
	expect(h, s, GRPC_FAILED_PRECONDITION, "container must be created: failed precondition");
	for (int i = 0; i < queue_max - 1; i++)
		expect(h, s + 4 + 2 * (uint32_t)i, GRPC_FAILED_PRECONDITION,
		       "container must be created: failed precondition");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_routes_methods, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rejects_unknown_services_and_methods, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_stream_ids, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_envelopes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_oversized_frame, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inline_and_pooled, setup, teardown),
	};

	assert_int_equal(proc_table_init(), 0); /* the process table, empty */
	service_setup("/nonexistent-bundle");
	worker_pool_init(1, 60000); /* one worker: pooled requests run in order */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
