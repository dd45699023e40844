/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for server/ttrpc_client.h and server/event_queue.h: the client's frames on the
 * wire (stream ids, envelope, metadata, timeout), its answers, timeouts and connect errors;
 * the queue's order (one Forward in flight, done callbacks in order), its fallback (on an
 * error status, and for the events behind while the fallback is busy) and its return to
 * ttrpc. The test thread plays containerd on a unix socket; the loop runs on its own thread.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "github.com/containerd/containerd/api/services/ttrpc/events/v1/events.pb-c.h"
#include "google/protobuf/any.pb-c.h"
#include "io/loop.h"
#include "proto/ttrpc_codec.h"
#include "proto/ttrpc_frame.h"
#include "server/event_queue.h"
#include "server/ttrpc_client.h"

/* ---- a loop on its own thread ---- */

static struct loop *L;
static pthread_t loop_thr;
static char dir[32], sock_path[64];

static void *loop_main(void *arg)
{
	(void)arg;
	loop_run(L);
	return NULL;
}

static atomic_bool loop_running;

static void mark_running(void *arg)
{
	(void)arg;
	atomic_store(&loop_running, true);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/cshim-evq-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(sock_path, sizeof(sock_path), "%s/c.sock.ttrpc", dir);
	if (loop_new(&L) < 0)
		return -1;
	if (pthread_create(&loop_thr, NULL, loop_main, NULL) != 0)
		return -1;
	/* loop_call runs fn on the caller's thread until the loop runs: wait for it */
	loop_post(L, mark_running, NULL);
	for (int i = 0; i < 500 && !atomic_load(&loop_running); i++)
		usleep(10000);
	return atomic_load(&loop_running) ? 0 : -1;
}

static void stop_cb(void *arg)
{
	(void)arg;
	loop_stop(L);
}

static int teardown(void **state)
{
	(void)state;
	loop_post(L, stop_cb, NULL);
	pthread_join(loop_thr, NULL);
	unlink(sock_path);
	rmdir(dir);
	return 0;
}

/* ---- the fake server side ---- */

static int listen_at(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	unlink(path);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 8), 0);
	return fd;
}

static bool readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	return poll(&p, 1, ms) > 0;
}

static int accept_one(int lfd)
{
	assert_true(readable(lfd, 5000));
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	assert_true(fd >= 0);
	return fd;
}

static void read_full(int fd, uint8_t *buf, size_t n)
{
	size_t have = 0;
	while (have < n) {
		assert_true(readable(fd, 5000));
		ssize_t k = read(fd, buf + have, n - have);
		assert_true(k > 0);
		have += (size_t)k;
	}
}

/* One request frame: header and decoded envelope (free with ttrpc__request__free_unpacked). */
static Ttrpc__Request *read_request(int fd, struct ttrpc_hdr *h)
{
	uint8_t hb[TTRPC_HDR_LEN], *body;
	Ttrpc__Request *r;
	read_full(fd, hb, sizeof(hb));
	ttrpc_hdr_decode(hb, h);
	assert_int_equal(h->type, TTRPC_TYPE_REQUEST);
	body = malloc(h->len ? h->len : 1);
	read_full(fd, body, h->len);
	r = ttrpc_request_decode(body, h->len);
	free(body);
	assert_non_null(r);
	return r;
}

static void answer(int fd, uint32_t stream, int code, const uint8_t *pl, size_t plen)
{
	uint8_t *f;
	size_t len;
	assert_int_equal(
		ttrpc_response_frame(stream, code, code ? "nope" : NULL, pl, plen, &f, &len), 0);
	assert_int_equal(write(fd, f, len), (ssize_t)len);
	free(f);
}

/* ---- ttrpc_client ---- */

struct call_res {
	atomic_int calls;
	int err, code;
	bool sent;
	char msg[64];
	uint8_t payload[64];
	size_t plen;
};

static void call_cb(void *arg, const struct ttrpc_result *r)
{
	struct call_res *c = arg;
	c->err = r->err;
	c->sent = r->sent;
	c->code = r->code;
	snprintf(c->msg, sizeof(c->msg), "%s", r->msg ? r->msg : "");
	c->plen = r->plen < sizeof(c->payload) ? r->plen : sizeof(c->payload);
	if (c->plen)
		memcpy(c->payload, r->payload, c->plen);
	atomic_fetch_add(&c->calls, 1);
}

struct call_args {
	struct ttrpc_client *cli;
	const char *path;
	int timeout_ms;
	struct call_res *res;
	int ret;
};

static void do_new(void *arg)
{
	struct call_args *a = arg;
	a->ret = ttrpc_client_new(L, a->path, &a->cli);
}

static void do_call(void *arg)
{
	struct call_args *a = arg;
	static const struct ttrpc_md md[] = { { "containerd-namespace-ttrpc", "ns1" } };
	static const uint8_t pl[] = { 1, 2, 3 };
	a->ret = ttrpc_client_call(a->cli, "svc.S", "M", md, 1, pl, sizeof(pl), a->timeout_ms,
				   call_cb, a->res);
}

#define BIG (1u << 20) /* more than a unix socket's buffer: written in parts */
static uint8_t big_payload[BIG];

static void do_call_big(void *arg)
{
	struct call_args *a = arg;
	a->ret = ttrpc_client_call(a->cli, "svc.S", "Big", NULL, 0, big_payload, BIG, a->timeout_ms,
				   call_cb, a->res);
}

static void do_free(void *arg)
{
	struct call_args *a = arg;
	ttrpc_client_free(a->cli);
}

static void wait_calls(struct call_res *r, int n)
{
	for (int i = 0; i < 500 && atomic_load(&r->calls) < n; i++)
		usleep(10000);
	assert_int_equal(atomic_load(&r->calls), n);
}

static void test_client_frames_and_answers(void **state)
{
	struct call_res res = { 0 };
	struct call_args a = { .path = sock_path, .timeout_ms = 5000, .res = &res };
	char upath[160];
	struct ttrpc_hdr h;
	Ttrpc__Request *r;
	int lfd, fd;

	(void)state;
	lfd = listen_at(sock_path);
	snprintf(upath, sizeof(upath), "unix://%s", sock_path);
	a.path = upath; /* containerd addresses may carry the scheme */
	loop_call(L, do_new, &a);
	assert_int_equal(a.ret, 0);

	loop_call(L, do_call, &a);
	assert_int_equal(a.ret, 0);
	fd = accept_one(lfd);
	r = read_request(fd, &h);
	assert_int_equal(h.stream, 1);
	assert_int_equal(h.flags, 0);
	assert_string_equal(r->service, "svc.S");
	assert_string_equal(r->method, "M");
	assert_int_equal(r->timeout_nano, 5000000000LL);
	assert_int_equal(r->n_metadata, 1);
	assert_string_equal(r->metadata[0]->key, "containerd-namespace-ttrpc");
	assert_string_equal(r->metadata[0]->value, "ns1");
	assert_int_equal(r->payload.len, 3);
	ttrpc__request__free_unpacked(r, NULL);
	/* a second call while one is in flight is refused */
	loop_call(L, do_call, &a);
	assert_int_equal(a.ret, -EBUSY);
	/* an answer to another stream is not ours */
	answer(fd, 3, 0, (const uint8_t *)"x", 1);
	usleep(100000);
	assert_int_equal(atomic_load(&res.calls), 0);
	answer(fd, 1, 0, (const uint8_t *)"ok", 2);
	wait_calls(&res, 1);
	assert_int_equal(res.err, 0);
	assert_int_equal(res.code, 0);
	assert_int_equal(res.plen, 2);
	assert_memory_equal(res.payload, "ok", 2);

	/* same connection, next stream id; an error status */
	loop_call(L, do_call, &a);
	assert_int_equal(a.ret, 0);
	r = read_request(fd, &h);
	assert_int_equal(h.stream, 3);
	ttrpc__request__free_unpacked(r, NULL);
	answer(fd, 3, GRPC_UNAVAILABLE, NULL, 0);
	wait_calls(&res, 2);
	assert_int_equal(res.err, 0);
	assert_int_equal(res.code, GRPC_UNAVAILABLE);
	assert_string_equal(res.msg, "nope");

	/* the peer closes with a request out: -ECONNRESET, sent */
	loop_call(L, do_call, &a);
	assert_int_equal(a.ret, 0);
	r = read_request(fd, &h);
	ttrpc__request__free_unpacked(r, NULL);
	close(fd);
	wait_calls(&res, 3);
	assert_int_equal(res.err, -ECONNRESET);
	assert_true(res.sent);

	/* reconnects lazily: stream ids start again */
	/* (a request larger than the socket buffer goes out in parts, whole) */
	for (size_t i = 0; i < BIG; i++)
		big_payload[i] = (uint8_t)(i * 7);
	loop_call(L, do_call_big, &a);
	assert_int_equal(a.ret, 0);
	fd = accept_one(lfd);
	usleep(100000); /* the client meets a full buffer */
	r = read_request(fd, &h);
	assert_int_equal(h.stream, 1);
	assert_string_equal(r->method, "Big");
	assert_int_equal(r->payload.len, BIG);
	assert_memory_equal(r->payload.data, big_payload, BIG);
	ttrpc__request__free_unpacked(r, NULL);
	answer(fd, 1, 0, NULL, 0);
	wait_calls(&res, 4);
	assert_int_equal(res.err, 0);
	/* the next call on it */
	loop_call(L, do_call, &a);
	assert_int_equal(a.ret, 0);
	r = read_request(fd, &h);
	assert_int_equal(h.stream, 3);
	ttrpc__request__free_unpacked(r, NULL);
	answer(fd, 3, 0, NULL, 0);
	wait_calls(&res, 5);
	close(fd);
	usleep(50000); /* the client sees the close while idle */
	loop_call(L, do_call, &a);
	assert_int_equal(a.ret, 0);
	fd = accept_one(lfd);
	r = read_request(fd, &h);
	assert_int_equal(h.stream, 1);
	ttrpc__request__free_unpacked(r, NULL);

	/* no answer within the timeout: -ETIMEDOUT, and the connection is dropped */
	a.timeout_ms = 0; /* (the timer's minimum) */
	answer(fd, 1, 0, NULL, 0);
	wait_calls(&res, 6);
	a.timeout_ms = 100;
	loop_call(L, do_call, &a);
	assert_int_equal(a.ret, 0);
	r = read_request(fd, &h);
	ttrpc__request__free_unpacked(r, NULL);
	wait_calls(&res, 7);
	assert_int_equal(res.err, -ETIMEDOUT);
	assert_true(res.sent);
	{
		char b;
		assert_true(readable(fd, 5000));
		assert_int_equal(read(fd, &b, 1), 0); /* closed by the client */
	}
	close(fd);

	/* nothing listens: the call fails at once, no callback */
	close(lfd);
	unlink(sock_path);
	loop_call(L, do_call, &a);
	assert_int_equal(a.ret, -ENOENT);
	usleep(50000);
	assert_int_equal(atomic_load(&res.calls), 7);
	loop_call(L, do_free, &a);
}

/* ---- event_queue ---- */

static struct {
	pthread_mutex_t mu;
	char order[16][32]; /* "done:NAME" / "fallback:NAME" in the order they happened */
	int n;
	atomic_bool busy;
} R = { .mu = PTHREAD_MUTEX_INITIALIZER };

static void rec(const char *what, const char *name)
{
	pthread_mutex_lock(&R.mu);
	if (R.n < 16)
		snprintf(R.order[R.n++], sizeof(R.order[0]), "%s:%s", what, name);
	pthread_mutex_unlock(&R.mu);
}

static void fb_publish(void *ctx, const char *topic, const uint8_t *any, size_t len, unsigned flags,
		       const char *what)
{
	(void)ctx;
	(void)any;
	(void)len;
	assert_string_equal(topic, "/t/x");
	rec(flags & EVQ_BARRIER ? "fallback-barrier" : "fallback", what);
	atomic_store(&R.busy, true); /* its child runs until the test says otherwise */
}

static bool fb_busy(void *ctx)
{
	(void)ctx;
	return atomic_load(&R.busy);
}

static void done_cb(void *arg)
{
	rec("done", arg);
}

static int nrec(void)
{
	pthread_mutex_lock(&R.mu);
	int n = R.n;
	pthread_mutex_unlock(&R.mu);
	return n;
}

static void wait_rec(int n)
{
	for (int i = 0; i < 500 && nrec() < n; i++)
		usleep(10000);
	assert_int_equal(nrec(), n);
}

static uint8_t *any_of(const char *s, size_t *len)
{
	Google__Protobuf__Any a = GOOGLE__PROTOBUF__ANY__INIT;
	uint8_t *b;
	a.type_url = "test.Ev";
	a.value.data = (uint8_t *)s;
	a.value.len = strlen(s);
	*len = google__protobuf__any__get_packed_size(&a);
	b = malloc(*len);
	google__protobuf__any__pack(&a, b);
	return b;
}

static void publish(struct evq *q, const char *name, unsigned flags)
{
	size_t len;
	uint8_t *any = any_of(name, &len);
	struct timespec ts = { .tv_sec = 1700000000, .tv_nsec = 5 };
	assert_int_equal(evq_publish(q, "/t/x", any, len, &ts, flags, name, done_cb, (void *)name),
			 0);
	free(any);
}

/* The event name of a Forward request (its Any's value), checking the envelope. */
static void expect_forward(int fd, const char *name, uint32_t *stream)
{
	struct ttrpc_hdr h;
	Ttrpc__Request *r = read_request(fd, &h);
	Containerd__Services__Events__Ttrpc__V1__ForwardRequest *fr;

	assert_string_equal(r->service, "containerd.services.events.ttrpc.v1.Events");
	assert_string_equal(r->method, "Forward");
	assert_int_equal(r->timeout_nano, (int64_t)EVQ_TIMEOUT_MS * 1000000);
	assert_int_equal(r->n_metadata, 1);
	assert_string_equal(r->metadata[0]->key, "containerd-namespace-ttrpc");
	assert_string_equal(r->metadata[0]->value, "nsq");
	fr = containerd__services__events__ttrpc__v1__forward_request__unpack(NULL, r->payload.len,
									      r->payload.data);
	assert_non_null(fr);
	assert_non_null(fr->envelope);
	assert_string_equal(fr->envelope->namespace_, "nsq");
	assert_string_equal(fr->envelope->topic, "/t/x");
	assert_non_null(fr->envelope->timestamp);
	assert_int_equal(fr->envelope->timestamp->seconds, 1700000000);
	assert_int_equal(fr->envelope->timestamp->nanos, 5);
	assert_string_equal(fr->envelope->event->type_url, "test.Ev");
	assert_int_equal(fr->envelope->event->value.len, strlen(name));
	assert_memory_equal(fr->envelope->event->value.data, name, strlen(name));
	containerd__services__events__ttrpc__v1__forward_request__free_unpacked(fr, NULL);
	ttrpc__request__free_unpacked(r, NULL);
	*stream = h.stream;
}

static void do_evq_free(void *q)
{
	evq_free(q);
}

static void test_queue_order_and_fallback(void **state)
{
	const struct evq_fallback fb = { .publish = fb_publish, .busy = fb_busy };
	struct evq *q = NULL;
	uint32_t stream;
	int lfd, fd;

	(void)state;
	lfd = listen_at(sock_path);
	assert_int_equal(evq_new(L, "nsq", sock_path, &fb, &q), 0);

	/* three events: one Forward at a time, in order */
	publish(q, "a", 0);
	publish(q, "b", 0);
	publish(q, "c", EVQ_BARRIER);
	fd = accept_one(lfd);
	expect_forward(fd, "a", &stream);
	assert_false(readable(fd, 200)); /* b waits for a's answer */
	assert_int_equal(nrec(), 0);     /* a is not done before its answer */
	answer(fd, stream, 0, NULL, 0);
	expect_forward(fd, "b", &stream);
	wait_rec(1);
	/* b refused: the fallback gets it, and c behind it while the fallback is busy */
	answer(fd, stream, GRPC_INVALID_ARGUMENT, NULL, 0);
	wait_rec(5);
	assert_false(readable(fd, 200)); /* c never went over ttrpc */
	/* the fallback busy: a new event goes there too */
	publish(q, "d", 0);
	wait_rec(7);
	/* the fallback's children done: ttrpc again, same connection */
	atomic_store(&R.busy, false);
	evq_kick(q);
	publish(q, "e", 0);
	expect_forward(fd, "e", &stream);
	assert_int_equal(stream, 5);
	answer(fd, stream, 0, NULL, 0);
	wait_rec(8);
	{
		const char *want[] = { "done:a", "fallback:b", "done:b", "fallback-barrier:c",
				       "done:c", "fallback:d", "done:d", "done:e" };
		for (int i = 0; i < 8; i++)
			assert_string_equal(R.order[i], want[i]);
	}
	assert_int_equal(evq_pending(q), 0);
	loop_call(L, do_evq_free, q);
	close(fd);
	close(lfd);
	unlink(sock_path);
}

static void nop(void *arg)
{
	(void)arg;
}

/* No fallback (the v2 front end): while containerd's socket is missing the events wait, none
 * done; once it listens they go in order; one refused with an error status is sent again
 * before the next, and so is one whose connection closed before the answer. */
static void test_queue_retries_without_fallback(void **state)
{
	struct evq *q = NULL;
	uint32_t stream;
	int lfd, fd;

	(void)state;
	pthread_mutex_lock(&R.mu);
	R.n = 0;
	pthread_mutex_unlock(&R.mu);
	unlink(sock_path);
	assert_int_equal(evq_new(L, "nsq", NULL, NULL, &q), -EINVAL); /* nowhere to send */
	assert_int_equal(evq_new(L, "nsq", sock_path, NULL, &q), 0);
	publish(q, "a", 0);
	publish(q, "b", EVQ_BARRIER);
	loop_call(L, nop, NULL); /* the loop has tried: no socket */
	assert_int_equal(evq_pending(q), 2);
	lfd = listen_at(sock_path); /* containerd is back: a retry finds it */
	fd = accept_one(lfd);
	expect_forward(fd, "a", &stream);
	assert_int_equal(nrec(), 0); /* nothing done while containerd was away */
	answer(fd, stream, GRPC_UNAVAILABLE, NULL, 0);
	expect_forward(fd, "a", &stream); /* refused: a again, not b */
	assert_int_equal(nrec(), 0);
	answer(fd, stream, 0, NULL, 0);
	expect_forward(fd, "b", &stream);
	wait_rec(1);
	close(fd); /* no answer: b again, on a new connection */
	fd = accept_one(lfd);
	expect_forward(fd, "b", &stream);
	answer(fd, stream, 0, NULL, 0);
	wait_rec(2);
	assert_string_equal(R.order[0], "done:a");
	assert_string_equal(R.order[1], "done:b");
	assert_int_equal(evq_pending(q), 0);
	loop_call(L, do_evq_free, q);
	close(fd);
	close(lfd);
	unlink(sock_path);
}

static void publish_nodone(struct evq *q, const char *name, unsigned flags)
{
	size_t len;
	uint8_t *any = any_of(name, &len);
	struct timespec ts = { .tv_sec = 1700000000, .tv_nsec = 5 };
	assert_int_equal(evq_publish(q, "/t/x", any, len, &ts, flags, name, NULL, NULL), 0);
	free(any);
}

/* While containerd is away, a repeated EVQ_COALESCE event equal to one queued and not sent
 * yet is dropped; the head (being tried) does not count, other events keep their order and
 * their copies, and an equal event without the flag is kept. */
static void test_queue_coalesces_unsent_repeats(void **state)
{
	const char *want[] = { "o1", "o1", "a", "o2", "o1", "o1" };
	struct evq *q = NULL;
	uint32_t stream;
	int lfd, fd;

	(void)state;
	unlink(sock_path);
	assert_int_equal(evq_new(L, "nsq", sock_path, NULL, &q), 0);
	publish_nodone(q, "o1", EVQ_COALESCE); /* the head: tried, failing */
	loop_call(L, nop, NULL);
	publish_nodone(q, "o1", EVQ_COALESCE); /* behind the head: kept */
	publish_nodone(q, "o1", EVQ_COALESCE); /* equal to a queued one: dropped */
	publish_nodone(q, "a", 0);
	publish_nodone(q, "o2", EVQ_COALESCE); /* another container's: kept */
	publish_nodone(q, "o1", EVQ_COALESCE); /* dropped, though "a" came between */
	publish_nodone(q, "o2", EVQ_COALESCE); /* dropped */
	publish_nodone(q, "o1", 0);            /* no flag: kept */
	publish_nodone(q, "o1", EVQ_COALESCE); /* equal to a flagged one: dropped */
	assert_int_equal(evq_pending(q), 5);
	lfd = listen_at(sock_path);
	fd = accept_one(lfd);
	for (size_t i = 0; i < 5; i++) {
		expect_forward(fd, want[i], &stream);
		answer(fd, stream, 0, NULL, 0);
	}
	loop_call(L, nop, NULL);
	assert_int_equal(evq_pending(q), 0);
	/* sent: an equal event is new again */
	publish_nodone(q, "o1", EVQ_COALESCE);
	expect_forward(fd, want[5], &stream);
	answer(fd, stream, 0, NULL, 0);
	for (int i = 0; i < 500 && evq_pending(q); i++)
		usleep(10000);
	assert_int_equal(evq_pending(q), 0);
	loop_call(L, do_evq_free, q);
	close(fd);
	close(lfd);
	unlink(sock_path);
}

static void test_encode_forward(void **state)
{
	size_t alen, flen = 0;
	uint8_t *any = any_of("payload", &alen);
	struct timespec ts = { .tv_sec = 42, .tv_nsec = 7 };
	uint8_t *f = evq_encode_forward("ns", "/tasks/exit", &ts, any, alen, &flen);
	Containerd__Services__Events__Ttrpc__V1__ForwardRequest *fr;

	(void)state;
	assert_non_null(f);
	fr = containerd__services__events__ttrpc__v1__forward_request__unpack(NULL, flen, f);
	assert_non_null(fr);
	assert_string_equal(fr->envelope->namespace_, "ns");
	assert_string_equal(fr->envelope->topic, "/tasks/exit");
	assert_int_equal(fr->envelope->timestamp->seconds, 42);
	assert_int_equal(fr->envelope->timestamp->nanos, 7);
	assert_string_equal(fr->envelope->event->type_url, "test.Ev");
	/* the Any is carried as is: its bytes inside the envelope are the caller's */
	assert_int_equal(google__protobuf__any__get_packed_size(fr->envelope->event), alen);
	containerd__services__events__ttrpc__v1__forward_request__free_unpacked(fr, NULL);
	free(f);
	/* bytes that are no Any: refused */
	assert_null(evq_encode_forward("ns", "/t", &ts, (const uint8_t *)"\xff\xff", 2, &flen));
	free(any);
}

static void test_ttrpc_address(void **state)
{
	char *s;
	(void)state;
	s = evq_ttrpc_address("/run/containerd/containerd.sock", NULL);
	assert_string_equal(s, "/run/containerd/containerd.sock.ttrpc");
	free(s);
	s = evq_ttrpc_address("unix:///run/c.sock", "");
	assert_string_equal(s, "/run/c.sock.ttrpc");
	free(s);
	s = evq_ttrpc_address("/run/c.sock", "/elsewhere/t.sock");
	assert_string_equal(s, "/elsewhere/t.sock");
	free(s);
	assert_null(evq_ttrpc_address("", NULL));
	assert_null(evq_ttrpc_address(NULL, ""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ttrpc_address),
		cmocka_unit_test(test_encode_forward),
		cmocka_unit_test(test_client_frames_and_answers),
		cmocka_unit_test(test_queue_order_and_fallback),
		cmocka_unit_test(test_queue_retries_without_fallback),
		cmocka_unit_test(test_queue_coalesces_unsent_repeats),
	};
	return cmocka_run_group_tests_name("event_queue", tests, setup, teardown);
}
