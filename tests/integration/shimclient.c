/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "github.com/containerd/ttrpc/request.pb-c.h"
#include "google/rpc/status.pb-c.h"
#include "proto/ttrpc_codec.h"
#include "tests/integration/shimclient.h"

struct rframe {
	struct ttrpc_hdr h;
	uint8_t *body;
	struct rframe *next;
};

struct shimclient {
	int fd;
	pthread_t rx;
	bool rx_started;
	pthread_mutex_t mu; /* protects everything below */
	pthread_cond_t cv;
	pthread_mutex_t send_mu;
	struct rframe *head, *tail;
	size_t nframes;
	bool closed;
	uint32_t next_stream;
	struct ttrpc_reader rd; /* receive thread only */
};

static void deadline_after(struct timespec *ts, int timeout_ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += timeout_ms / 1000;
	ts->tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static long ms_left(const struct timespec *dl)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (dl->tv_sec - now.tv_sec) * 1000L + (dl->tv_nsec - now.tv_nsec) / 1000000L;
}

static int on_frame(void *ctx, const struct ttrpc_hdr *h, uint8_t *body, bool oversize)
{
	struct shimclient *c = ctx;
	struct rframe *f = calloc(1, sizeof(*f));

	(void)oversize; /* a response > 4 MiB is kept as a frame with no body */
	if (!f) {
		free(body);
		return -ENOMEM;
	}
	f->h = *h;
	f->body = body;
	pthread_mutex_lock(&c->mu);
	if (c->tail)
		c->tail->next = f;
	else
		c->head = f;
	c->tail = f;
	c->nframes++;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
	return 0;
}

static void *rx_main(void *arg)
{
	struct shimclient *c = arg;
	uint8_t *buf = malloc(1 << 16);

	for (;;) {
		ssize_t n;
		if (!buf)
			break;
		n = read(c->fd, buf, 1 << 16);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (ttrpc_reader_feed(&c->rd, buf, (size_t)n, on_frame, c) < 0)
			break;
	}
	free(buf);
	ttrpc_reader_reset(&c->rd);
	pthread_mutex_lock(&c->mu);
	c->closed = true;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

struct shimclient *shimclient_connect(const char *path, int timeout_ms)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t salen;
	struct timespec dl;
	struct shimclient *c;
	pthread_condattr_t ca;
	struct timeval tv = { .tv_sec = 10 };
	size_t plen = strlen(path);
	int fd = -1;

	if (plen >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	memcpy(sa.sun_path, path, plen);
	if (path[0] == '@')
		sa.sun_path[0] = '\0';
	salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen + (path[0] != '@'));

	deadline_after(&dl, timeout_ms);
	for (;;) {
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return NULL;
		if (connect(fd, (struct sockaddr *)&sa, salen) == 0)
			break;
		int e = errno;
		close(fd);
		if ((e != ENOENT && e != EAGAIN) || ms_left(&dl) <= 0) {
			errno = e;
			return NULL;
		}
		usleep(20000);
	}
	/* Bound every write: a shim that stops reading must not hang the test. */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));

	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return NULL;
	}
	c->fd = fd;
	c->next_stream = 1;
	pthread_mutex_init(&c->mu, NULL);
	pthread_mutex_init(&c->send_mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&c->cv, &ca);
	pthread_condattr_destroy(&ca);
	ttrpc_reader_init(&c->rd);
	if (pthread_create(&c->rx, NULL, rx_main, c) != 0) {
		close(fd);
		free(c);
		errno = EAGAIN;
		return NULL;
	}
	c->rx_started = true;
	return c;
}

void shimclient_shutdown(struct shimclient *c)
{
	if (!c)
		return;
	shutdown(c->fd, SHUT_RDWR);
	pthread_mutex_lock(&c->mu);
	c->closed = true;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

void shimclient_close(struct shimclient *c)
{
	struct rframe *f, *n;

	if (!c)
		return;
	shimclient_shutdown(c);
	if (c->rx_started)
		pthread_join(c->rx, NULL);
	close(c->fd);
	for (f = c->head; f; f = n) {
		n = f->next;
		free(f->body);
		free(f);
	}
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->mu);
	pthread_mutex_destroy(&c->send_mu);
	free(c);
}

bool shimclient_closed(struct shimclient *c)
{
	bool r;
	pthread_mutex_lock(&c->mu);
	r = c->closed;
	pthread_mutex_unlock(&c->mu);
	return r;
}

uint32_t shimclient_next_stream(struct shimclient *c)
{
	uint32_t s;
	pthread_mutex_lock(&c->mu);
	s = c->next_stream;
	c->next_stream += 2;
	pthread_mutex_unlock(&c->mu);
	return s;
}

size_t shimclient_pending_frames(struct shimclient *c)
{
	size_t n;
	pthread_mutex_lock(&c->mu);
	n = c->nframes;
	pthread_mutex_unlock(&c->mu);
	return n;
}

static int send_all_locked(struct shimclient *c, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int shimclient_send_raw(struct shimclient *c, const void *buf, size_t n)
{
	int rc;
	pthread_mutex_lock(&c->send_mu);
	rc = send_all_locked(c, buf, n);
	pthread_mutex_unlock(&c->send_mu);
	return rc;
}

int shimclient_send_frame(struct shimclient *c, const struct ttrpc_hdr *h, const void *body,
			  size_t body_len, uint8_t fill)
{
	uint8_t hdr[TTRPC_HDR_LEN];
	uint8_t chunk[1 << 16];
	size_t left = h->len;
	int rc;

	ttrpc_hdr_encode(hdr, h);
	if (body_len > left)
		body_len = left;
	pthread_mutex_lock(&c->send_mu);
	rc = send_all_locked(c, hdr, sizeof(hdr));
	if (rc == 0 && body_len > 0)
		rc = send_all_locked(c, body, body_len);
	left -= body_len;
	memset(chunk, fill, sizeof(chunk));
	while (rc == 0 && left > 0) {
		size_t k = left < sizeof(chunk) ? left : sizeof(chunk);
		rc = send_all_locked(c, chunk, k);
		left -= k;
	}
	pthread_mutex_unlock(&c->send_mu);
	return rc;
}

int shimclient_recv_frame(struct shimclient *c, uint32_t stream, int timeout_ms,
			  struct ttrpc_hdr *h, uint8_t **body)
{
	struct timespec dl;
	int rc = 0;

	deadline_after(&dl, timeout_ms);
	pthread_mutex_lock(&c->mu);
	for (;;) {
		struct rframe **pp = &c->head, *prev = NULL;
		for (; *pp; prev = *pp, pp = &(*pp)->next) {
			struct rframe *f = *pp;
			if (stream != 0 && f->h.stream != stream)
				continue;
			*pp = f->next;
			if (c->tail == f)
				c->tail = prev;
			c->nframes--;
			pthread_mutex_unlock(&c->mu);
			*h = f->h;
			*body = f->body;
			free(f);
			return 0;
		}
		if (c->closed) {
			rc = -EPIPE;
			break;
		}
		if (rc == ETIMEDOUT) {
			rc = -ETIMEDOUT;
			break;
		}
		rc = pthread_cond_timedwait(&c->cv, &c->mu, &dl);
		if (rc != 0 && rc != ETIMEDOUT)
			rc = 0;
	}
	pthread_mutex_unlock(&c->mu);
	return rc;
}

void shimclient_reply_free(struct shimclient_reply *r)
{
	if (!r)
		return;
	free(r->msg);
	free(r->payload);
	r->msg = NULL;
	r->payload = NULL;
}

int shimclient_decode_reply(const struct ttrpc_hdr *h, const uint8_t *body,
			    struct shimclient_reply *reply)
{
	Ttrpc__Response *r;

	memset(reply, 0, sizeof(*reply));
	reply->stream = h->stream;
	reply->type = h->type;
	reply->flags = h->flags;
	reply->frame_len = h->len;
	if (h->len > 0 && !body)
		return -EBADMSG; /* oversized response: data discarded */
	r = ttrpc__response__unpack(NULL, h->len, body);
	if (!r)
		return -EBADMSG;
	reply->has_status = r->status != NULL;
	reply->code = r->status ? r->status->code : 0;
	reply->msg = strdup(r->status && r->status->message ? r->status->message : "");
	reply->plen = r->payload.len;
	reply->payload = malloc(r->payload.len ? r->payload.len : 1);
	if (reply->payload && r->payload.len)
		memcpy(reply->payload, r->payload.data, r->payload.len);
	ttrpc__response__free_unpacked(r, NULL);
	if (!reply->msg || !reply->payload) {
		shimclient_reply_free(reply);
		return -ENOMEM;
	}
	return 0;
}

int shimclient_call_bytes(struct shimclient *c, uint32_t stream, const char *service,
			  const char *method, const uint8_t *payload, size_t plen, int timeout_ms,
			  struct shimclient_reply *reply)
{
	uint8_t *frame = NULL, *body = NULL;
	size_t flen = 0;
	struct ttrpc_hdr h;
	int rc;

	memset(reply, 0, sizeof(*reply));
	rc = ttrpc_request_frame(stream, service, method, payload, plen, 0, &frame, &flen);
	if (rc < 0)
		return rc;
	rc = shimclient_send_raw(c, frame, flen);
	free(frame);
	if (rc < 0)
		return rc;
	rc = shimclient_recv_frame(c, stream, timeout_ms, &h, &body);
	if (rc < 0)
		return rc;
	rc = shimclient_decode_reply(&h, body, reply);
	free(body);
	return rc;
}

int shimclient_call_ex(struct shimclient *c, const char *service, const char *method,
		       const ProtobufCMessage *req, int timeout_ms, struct shimclient_reply *reply)
{
	uint8_t *pl = NULL;
	size_t plen = 0;
	int rc;

	if (req) {
		plen = protobuf_c_message_get_packed_size(req);
		pl = malloc(plen ? plen : 1);
		if (!pl)
			return -ENOMEM;
		protobuf_c_message_pack(req, pl);
	}
	rc = shimclient_call_bytes(c, shimclient_next_stream(c), service, method, pl, plen,
				   timeout_ms, reply);
	free(pl);
	return rc;
}

int shimclient_call(struct shimclient *c, const char *method, const ProtobufCMessage *req,
		    const ProtobufCMessageDescriptor *resp_desc, ProtobufCMessage **resp, int *code,
		    char **msg, int timeout_ms)
{
	struct shimclient_reply r;
	int rc;

	if (resp)
		*resp = NULL;
	if (code)
		*code = -1;
	if (msg)
		*msg = NULL;
	rc = shimclient_call_ex(c, SHIM_SERVICE, method, req, timeout_ms, &r);
	if (rc < 0)
		return rc;
	if (code)
		*code = r.code;
	if (r.code == 0 && resp_desc && resp) {
		*resp = protobuf_c_message_unpack(resp_desc, NULL, r.plen, r.payload);
		if (!*resp) {
			shimclient_reply_free(&r);
			return -EBADMSG;
		}
	}
	if (msg) {
		*msg = r.msg;
		r.msg = NULL;
	}
	shimclient_reply_free(&r);
	return 0;
}
