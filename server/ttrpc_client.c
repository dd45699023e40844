/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <unistd.h>

#include "io/base.h"
#include "io/log.h"
#include "io/loop.h"
#include "proto/ttrpc_frame.h"
#include "ttrpc_client.h"

/*
 * One connection at a time. It is its own allocation, freed after the loop's current batch
 * (loop_defer), so an event still pending for a closed connection can never be taken for one
 * of its successor's.
 */
struct conn {
	struct loop_watch w; /* first */
	struct ttrpc_client *c;
	struct ttrpc_reader rd;
	uint8_t *out; /* the request being written */
	size_t out_len, out_off;
	uint32_t next_stream;
	bool want_out; /* EPOLLOUT armed */
};

struct ttrpc_client {
	struct loop_watch timer; /* first: the call's timeout (timerfd) */
	struct loop *loop;
	char *path;
	struct conn *conn;
	bool in_flight;
	uint32_t stream; /* of the call in flight */
	ttrpc_client_cb cb;
	void *arg;
};

static void conn_cb(struct loop_watch *w, uint32_t revents);

static void conn_free_deferred(void *arg)
{
	struct conn *k = arg;
	ttrpc_reader_reset(&k->rd);
	free(k->out);
	free(k);
}

/* Closes the connection (the next call opens another). */
static void conn_close(struct ttrpc_client *c)
{
	struct conn *k = c->conn;
	if (!k)
		return;
	c->conn = NULL;
	(void)loop_del(c->loop, &k->w);
	k->w.fd = safe_close(k->w.fd);
	if (loop_defer(c->loop, conn_free_deferred, k) < 0) {
		/* Out of memory: leak it rather than free a watch the batch may still name. */
		log_error("ttrpc client: out of memory freeing a connection");
	}
}

static void timer_set(struct ttrpc_client *c, int ms)
{
	struct itimerspec its = { 0 };
	its.it_value.tv_sec = ms / 1000;
	its.it_value.tv_nsec = (long)(ms % 1000) * 1000000L;
	(void)timerfd_settime(c->timer.fd, 0, &its, NULL);
}

/* Ends the call in flight with r (the callback may start the next call). */
static void finish(struct ttrpc_client *c, struct ttrpc_result *r)
{
	ttrpc_client_cb cb = c->cb;
	void *arg = c->arg;

	if (!c->in_flight)
		return;
	c->in_flight = false;
	c->cb = NULL;
	c->arg = NULL;
	timer_set(c, 0);
	if (c->conn) {
		free(c->conn->out);
		c->conn->out = NULL;
		c->conn->out_len = c->conn->out_off = 0;
	}
	cb(arg, r);
}

static bool request_sent(const struct ttrpc_client *c)
{
	return c->conn && !c->conn->out;
}

/* The transport failed: close, and fail the call in flight, if any. */
static void fail(struct ttrpc_client *c, int err)
{
	struct ttrpc_result r = { .err = err, .sent = request_sent(c) };
	conn_close(c);
	finish(c, &r);
}

static void timer_cb(struct loop_watch *w, uint32_t revents)
{
	struct ttrpc_client *c = (struct ttrpc_client *)w;
	uint64_t n;
	(void)revents;
	if (read(w->fd, &n, sizeof(n)) != sizeof(n))
		return;
	if (c->in_flight)
		fail(c, -ETIMEDOUT);
}

static int on_frame(void *ctx, const struct ttrpc_hdr *h, uint8_t *body, bool oversize)
{
	struct conn *k = ctx;
	struct ttrpc_client *c = k->c;
	struct ttrpc_result r = { .sent = true };
	char *msg = NULL;
	uint8_t *pl = NULL;

	/* Bytes of a connection closed meanwhile (by the last answer's callback) are not
	 * looked at: a stream id of its successor's could match. */
	if (c->conn != k || h->type != TTRPC_TYPE_RESPONSE || !c->in_flight ||
	    h->stream != c->stream) {
		free(body); /* not ours: a late answer to a call that timed out is never read */
		return 0;
	}
	if (oversize)
		r.err = -EBADMSG;
	else
		r.err = ttrpc_response_decode(body, h->len, &r.code, &msg, &pl, &r.plen);
	free(body);
	if (r.err < 0) {
		/* The stream is out of step: start again on a new connection. */
		fail(c, r.err);
		return -EBADMSG;
	}
	r.msg = msg;
	r.payload = pl;
	finish(c, &r);
	free(msg);
	free(pl);
	return 0;
}

static int flush_out(struct ttrpc_client *c)
{
	struct conn *k = c->conn;
	while (k->out && k->out_off < k->out_len) {
		ssize_t n = send(k->w.fd, k->out + k->out_off, k->out_len - k->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			return -errno;
		}
		k->out_off += (size_t)n;
	}
	if (k->out && k->out_off == k->out_len) {
		free(k->out);
		k->out = NULL;
		k->out_len = k->out_off = 0;
	}
	if ((k->out != NULL) == k->want_out)
		return 0; /* EPOLLOUT armed exactly while a request waits */
	k->want_out = k->out != NULL;
	return loop_mod(c->loop, &k->w, EPOLLIN | (k->want_out ? EPOLLOUT : 0));
}

static void conn_cb(struct loop_watch *w, uint32_t revents)
{
	struct conn *k = (struct conn *)w;
	struct ttrpc_client *c = k->c;
	uint8_t buf[4096];

	if (revents & EPOLLOUT) {
		int r = flush_out(c);
		if (r < 0) {
			fail(c, -ECONNRESET);
			return;
		}
	}
	if (!(revents & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return;
	for (;;) {
		ssize_t n = recv(w->fd, buf, sizeof(buf), MSG_DONTWAIT);
		int r;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			/* EOF or an error: the peer went away (containerd restarting). */
			fail(c, -ECONNRESET);
			return;
		}
		r = ttrpc_reader_feed(&k->rd, buf, (size_t)n, on_frame, k);
		if (c->conn != k)
			return; /* closed (by the callback, or for a bad answer) */
		if (r < 0) {
			if (c->conn == k)
				fail(c, r == -ENOMEM ? -ENOMEM : -EBADMSG);
			return;
		}
	}
}

static int conn_open(struct ttrpc_client *c)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct conn *k;
	int fd, r;

	if (strlen(c->path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, c->path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	/* A unix socket connects at once, or fails at once (EAGAIN: the backlog is full). */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
		close(fd);
		return r == -EINPROGRESS ? -EAGAIN : r;
	}
	k = calloc(1, sizeof(*k));
	if (!k) {
		close(fd);
		return -ENOMEM;
	}
	k->w.fd = fd;
	k->w.cb = conn_cb;
	k->c = c;
	k->next_stream = 1;
	ttrpc_reader_init(&k->rd);
	r = loop_add(c->loop, &k->w, EPOLLIN);
	if (r < 0) {
		close(fd);
		free(k);
		return r;
	}
	c->conn = k;
	return 0;
}

int ttrpc_client_new(struct loop *l, const char *path, struct ttrpc_client **ret)
{
	struct ttrpc_client *c = calloc(1, sizeof(*c));
	int r;

	if (!c)
		return -ENOMEM;
	if (strncmp(path, "unix://", 7) == 0)
		path += 7;
	c->loop = l;
	c->path = strdup(path);
	c->timer.fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	c->timer.cb = timer_cb;
	if (!c->path || c->timer.fd < 0) {
		r = c->path ? -errno : -ENOMEM;
		goto fail;
	}
	r = loop_add(l, &c->timer, EPOLLIN);
	if (r < 0)
		goto fail;
	*ret = c;
	return 0;
fail:
	safe_close(c->timer.fd);
	free(c->path);
	free(c);
	return r;
}

void ttrpc_client_free(struct ttrpc_client *c)
{
	if (!c)
		return;
	fail(c, -ECANCELED);
	(void)loop_del(c->loop, &c->timer);
	safe_close(c->timer.fd);
	free(c->path);
	/* The timer's watch is part of c: free it after the batch. */
	if (loop_defer(c->loop, free, c) < 0)
		log_error("ttrpc client: out of memory freeing the client");
}

const char *ttrpc_client_path(const struct ttrpc_client *c)
{
	return c->path;
}

bool ttrpc_client_busy(const struct ttrpc_client *c)
{
	return c->in_flight;
}

int ttrpc_client_call(struct ttrpc_client *c, const char *service, const char *method,
		      const struct ttrpc_md *md, size_t n_md, const uint8_t *payload, size_t plen,
		      int timeout_ms, ttrpc_client_cb cb, void *arg)
{
	if (c->in_flight)
		return -EBUSY;
	/* At most two tries: a second one only when nothing of the request went out on a
	 * connection opened by an earlier call (it was dead: the peer restarted). */
	for (bool reused = c->conn != NULL;; reused = false) {
		struct conn *k;
		uint8_t *frame;
		size_t len;
		int r;

		if (!c->conn && (r = conn_open(c)) < 0)
			return r;
		k = c->conn;
		r = ttrpc_request_frame_md(k->next_stream, service, method, payload, plen,
					   (int64_t)timeout_ms * 1000000LL, md, n_md, &frame, &len);
		if (r < 0)
			return r;
		c->stream = k->next_stream;
		k->next_stream += 2;
		k->out = frame;
		k->out_len = len;
		k->out_off = 0;
		c->in_flight = true;
		c->cb = cb;
		c->arg = arg;
		timer_set(c, timeout_ms > 0 ? timeout_ms : 1);
		r = flush_out(c);
		if (r >= 0)
			return 0;
		bool nothing_sent = k->out && k->out_off == 0;
		c->in_flight = false;
		timer_set(c, 0);
		conn_close(c);
		if (!(nothing_sent && reused)) {
			/* Part of the frame went out: the server discards a frame it never
			 * completes. Report it as a failed connection (-ECONNRESET), never sent. */
			return -ECONNRESET;
		}
	}
}
