/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"
#include "dispatch.h"
#include "io/base.h"
#include "io/log.h"
#include "io/memtrim.h"
#include "proto/ttrpc_codec.h"

/* Connections are read on the loop thread only: one shared buffer (a 64 KiB stack buffer
 * would stay dirty in every shim for ever). */
#define READ_CHUNK 16384
static uint8_t *read_buf; /* READ_CHUNK bytes, mapped by acceptor_start */
/* A client that never reads its responses: past this many queued bytes, its connection is
 * dropped (a response is at most 4 MiB). */
#define OUTBOX_MAX (16u << 20)
#define MAX_CONNS 4096

static struct loop_watch listen_w;
/* Every live connection, from adoption to its last reference. Besides the epoll (which
 * LeakSanitizer cannot see into) this is what holds a connection still open when the process
 * exits (a v2 shim's Shutdown arrives on one). */
static pthread_mutex_t all_mu = PTHREAD_MUTEX_INITIALIZER;
static struct conn *all_head;
static struct loop *acc_loop;
static atomic_int n_conns;

struct conn *conn_ref(struct conn *c)
{
	atomic_fetch_add(&c->refs, 1);
	return c;
}

static void outbox_free_locked(struct conn *c)
{
	struct outframe *f = c->out_head;
	while (f) {
		struct outframe *n = f->next;
		free(f);
		f = n;
	}
	c->out_head = c->out_tail = NULL;
	c->out_bytes = 0;
}

void conn_unref(struct conn *c)
{
	if (atomic_fetch_sub(&c->refs, 1) != 1)
		return;
	pthread_mutex_lock(&all_mu);
	if (c->all_prev)
		c->all_prev->all_next = c->all_next;
	else if (all_head == c)
		all_head = c->all_next;
	if (c->all_next)
		c->all_next->all_prev = c->all_prev;
	pthread_mutex_unlock(&all_mu);
	ttrpc_reader_reset(&c->rd);
	outbox_free_locked(c);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

/* Under c->mu. Returns false when the connection broke. */
static bool flush_locked(struct conn *c)
{
	while (c->out_head) {
		struct outframe *f = c->out_head;
		ssize_t n = send(c->w.fd, f->data + f->off, f->len - f->off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return true;
			return false;
		}
		f->off += (size_t)n;
		if (f->off == f->len) {
			c->out_head = f->next;
			if (!c->out_head)
				c->out_tail = NULL;
			c->out_bytes -= sizeof(*f) + f->cap;
			free(f);
		}
	}
	return true;
}

static void arm_locked(struct conn *c)
{
	bool want = c->out_head != NULL;
	if (want != c->out_armed && !c->closed) {
		(void)loop_mod(c->loop, &c->w, EPOLLIN | EPOLLRDHUP | (want ? EPOLLOUT : 0));
		c->out_armed = want;
	}
}

static void conn_close_cb(void *arg);

#define OUTCHUNK 65536

/* Appends bytes to the outbox (c->mu held). out_bytes counts what is allocated. On out of
 * memory the bytes are dropped and the outbox marked over its bound, which drops the
 * connection (a stream with a hole cannot be resynchronized). */
static void queue_locked(struct conn *c, const uint8_t *data, size_t len)
{
	struct outframe *t = c->out_tail;

	if (t && t->cap - t->len >= len) {
		memcpy(t->data + t->len, data, len);
		t->len += len;
		return;
	}
	t = malloc(sizeof(*t) + (len > OUTCHUNK ? len : OUTCHUNK));
	if (!t) {
		c->out_bytes = OUTBOX_MAX + 1;
		return;
	}
	t->cap = len > OUTCHUNK ? len : OUTCHUNK;
	memcpy(t->data, data, len);
	t->len = len;
	t->off = 0;
	t->next = NULL;
	if (c->out_tail)
		c->out_tail->next = t;
	else
		c->out_head = t;
	c->out_tail = t;
	c->out_bytes += sizeof(*t) + t->cap;
}

void conn_send(struct conn *c, uint8_t *frame, size_t len)
{
	bool broken = false;

	pthread_mutex_lock(&c->mu);
	if (c->closed) {
		pthread_mutex_unlock(&c->mu);
		free(frame);
		return;
	}
	if (!c->out_head) {
		/* Fast path: write directly from this thread. */
		size_t off = 0;
		while (off < len) {
			ssize_t n =
				send(c->w.fd, frame + off, len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (n < 0) {
				if (errno == EINTR)
					continue;
				if (errno != EAGAIN)
					broken = true;
				break;
			}
			off += (size_t)n;
		}
		if (off == len || broken) {
			pthread_mutex_unlock(&c->mu);
			free(frame);
			return; /* a broken connection is closed by the loop on its EPOLLHUP */
		}
		queue_locked(c, frame + off, len - off);
	} else {
		queue_locked(c, frame, len);
	}
	free(frame);
	if (c->out_bytes > OUTBOX_MAX) {
		/* A client that does not read: drop it rather than grow. */
		log_warn("dropping a connection whose client does not read its responses");
		outbox_free_locked(c);
		(void)shutdown(c->w.fd, SHUT_RDWR);
		pthread_mutex_unlock(&c->mu);
		return;
	}
	arm_locked(c);
	pthread_mutex_unlock(&c->mu);
}

void conn_respond(struct conn *c, uint32_t stream, int code, const char *msg,
		  const uint8_t *payload, size_t plen)
{
	uint8_t *frame;
	size_t len;
	if (ttrpc_response_frame(stream, code, msg, payload, plen, &frame, &len) < 0) {
		log_error("out of memory building a response");
		return;
	}
	conn_send(c, frame, len);
}

/* Loop thread. */
static void conn_close(struct conn *c)
{
	pthread_mutex_lock(&c->mu);
	if (c->closed) {
		pthread_mutex_unlock(&c->mu);
		return;
	}
	c->closed = true;
	atomic_store(&c->gone, true);
	(void)loop_del(c->loop, &c->w);
	close(c->w.fd);
	outbox_free_locked(c);
	pthread_mutex_unlock(&c->mu);
	atomic_fetch_sub(&n_conns, 1);
	/* The watch memory must outlive this batch of events. */
	(void)loop_defer(c->loop, conn_close_cb, c);
}

static void conn_close_cb(void *arg)
{
	conn_unref(arg);
}

static int on_frame(void *ctx, const struct ttrpc_hdr *h, uint8_t *body, bool oversize)
{
	struct conn *c = ctx;
	char msg[128];

	if (oversize) {
		snprintf(msg, sizeof(msg), "message length %u exceed maximum message size of %u",
			 h->len, TTRPC_MAX_MSG);
		conn_respond(c, h->stream, GRPC_RESOURCE_EXHAUSTED, msg, NULL, 0);
		return 0;
	}
	if (h->type != TTRPC_TYPE_REQUEST) {
		free(body); /* ttrpc 1.1.1 ignores other types */
		return 0;
	}
	dispatch_frame(c, h, body);
	return 0;
}

static void conn_cb(struct loop_watch *w, uint32_t revents)
{
	struct conn *c = (struct conn *)w;
	uint8_t *buf = read_buf;

	if (revents & EPOLLOUT) {
		bool ok;
		pthread_mutex_lock(&c->mu);
		ok = flush_locked(c);
		if (ok)
			arm_locked(c);
		pthread_mutex_unlock(&c->mu);
		if (!ok) {
			conn_close(c);
			return;
		}
	}
	if (revents & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP)) {
		/* Bounded work per wakeup so one client cannot starve the others. */
		for (int i = 0; i < 16; i++) {
			ssize_t n = recv(c->w.fd, buf, READ_CHUNK, MSG_DONTWAIT);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && errno == EAGAIN)
				return;
			if (n <= 0) {
				conn_close(c);
				return;
			}
			if (ttrpc_reader_feed(&c->rd, buf, (size_t)n, on_frame, c) < 0) {
				log_error(
					"out of memory reading a request: closing the connection");
				conn_close(c);
				return;
			}
			if ((size_t)n < READ_CHUNK)
				return;
		}
	}
}

static bool peer_allowed(int fd)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0)
		return false;
	if (cr.uid != geteuid() || cr.gid != getegid()) {
		log_error("ttrpc: refusing connection after handshake: invalid credentials: "
			  "operation not permitted (peer uid %u gid %u)",
			  cr.uid, cr.gid);
		return false;
	}
	return true;
}

static int read_buf_init(void)
{
	if (!read_buf && !(read_buf = memtrim_pages_new(READ_CHUNK)))
		return -ENOMEM;
	return 0;
}

int acceptor_adopt(struct loop *l, int fd, struct conn **ret)
{
	struct conn *c;
	int r = read_buf_init();

	if (r < 0 || !(c = calloc(1, sizeof(*c)))) {
		close(fd);
		return -ENOMEM;
	}
	c->w.fd = fd;
	c->w.cb = conn_cb;
	c->loop = l;
	atomic_init(&c->refs, 1);
	pthread_mutex_init(&c->mu, NULL);
	ttrpc_reader_init(&c->rd);
	pthread_mutex_lock(&all_mu);
	c->all_next = all_head;
	if (all_head)
		all_head->all_prev = c;
	all_head = c;
	pthread_mutex_unlock(&all_mu);
	r = loop_add(l, &c->w, EPOLLIN | EPOLLRDHUP);
	if (r < 0) {
		close(fd);
		conn_unref(c);
		return r;
	}
	atomic_fetch_add(&n_conns, 1);
	if (ret)
		*ret = conn_ref(c);
	return 0;
}

static void listen_cb(struct loop_watch *w, uint32_t revents)
{
	(void)revents;
	for (int i = 0; i < 64; i++) {
		int fd = accept4(w->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN)
				log_warn("accept: %s", strerror(errno));
			return;
		}
		if (!peer_allowed(fd)) {
			close(fd);
			continue;
		}
		if (atomic_load(&n_conns) >= MAX_CONNS) {
			log_warn("too many connections (%d): refusing one", MAX_CONNS);
			close(fd);
			continue;
		}
		(void)acceptor_adopt(acc_loop, fd, NULL);
	}
}

void acceptor_release_buffer(void)
{
	memtrim_pages_release(read_buf, READ_CHUNK);
}

int acceptor_start(struct loop *l, int listen_fd)
{
	int r = read_buf_init();

	if (r < 0)
		return r;
	acc_loop = l;
	listen_w.fd = listen_fd;
	listen_w.cb = listen_cb;
	return loop_add(l, &listen_w, EPOLLIN);
}

int acceptor_conn_count(void)
{
	return atomic_load(&n_conns);
}
