/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "github.com/containerd/containerd/api/events/task.pb-c.h"
#include "github.com/containerd/containerd/api/services/ttrpc/events/v1/events.pb-c.h"
#include "github.com/containerd/ttrpc/request.pb-c.h"
#include "proto/ttrpc_codec.h"
#include "proto/ttrpc_frame.h"
#include "tests/integration/forward_server.h"

#define MAX_CONNS 16
#define MAX_REQS 256
#define MAX_HELD 64

struct fconn {
	int fd;
	int num;
	struct ttrpc_reader rd;
};

struct held {
	int fd;
	uint32_t stream;
};

struct fwd_server {
	char path[108];
	int lfd;
	int stop_pipe[2];
	pthread_t thr;
	pthread_mutex_t mu;
	enum fwd_mode mode;
	bool release;
	struct fconn conns[MAX_CONNS];
	int nconns, accepted;
	struct fwd_req reqs[MAX_REQS];
	int nreqs;
	struct held held[MAX_HELD];
	int nheld;
};

static void copy_str(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src ? src : "");
}

static void answer(int fd, uint32_t stream, int code)
{
	uint8_t *f = NULL;
	size_t len = 0;
	if (ttrpc_response_frame(stream, code, code ? "fake events service: unavailable" : NULL,
				 NULL, 0, &f, &len) == 0) {
		(void)!send(fd, f, len, MSG_NOSIGNAL);
		free(f);
	}
}

static void record(struct fwd_server *s, struct fconn *c, const struct ttrpc_hdr *h,
		   const uint8_t *body)
{
	Ttrpc__Request *req = ttrpc_request_decode(body, h->len);
	struct fwd_req r = { .stream = h->stream, .conn = c->num };

	if (req) {
		copy_str(r.service, sizeof(r.service), req->service);
		copy_str(r.method, sizeof(r.method), req->method);
		r.timeout_nano = req->timeout_nano;
		for (size_t i = 0; i < req->n_metadata; i++)
			if (strcmp(req->metadata[i]->key, "containerd-namespace-ttrpc") == 0)
				copy_str(r.md_ns, sizeof(r.md_ns), req->metadata[i]->value);
		Containerd__Services__Events__Ttrpc__V1__ForwardRequest *fr =
			containerd__services__events__ttrpc__v1__forward_request__unpack(
				NULL, req->payload.len, req->payload.data);
		if (fr && fr->envelope) {
			Containerd__Services__Events__Ttrpc__V1__Envelope *e = fr->envelope;
			r.decoded = true;
			copy_str(r.ns, sizeof(r.ns), e->namespace_);
			copy_str(r.topic, sizeof(r.topic), e->topic);
			if (e->timestamp) {
				r.secs = e->timestamp->seconds;
				r.nanos = e->timestamp->nanos;
			}
			if (e->event) {
				copy_str(r.type_url, sizeof(r.type_url), e->event->type_url);
				Containerd__Events__TaskExit *te =
					strcmp(r.type_url, "containerd.events.TaskExit") == 0
						? containerd__events__task_exit__unpack(
							  NULL, e->event->value.len,
							  e->event->value.data)
						: NULL;
				if (te) {
					copy_str(r.container_id, sizeof(r.container_id),
						 te->container_id);
					copy_str(r.id, sizeof(r.id), te->id);
					r.pid = te->pid;
					r.exit_status = te->exit_status;
					if (te->exited_at) {
						r.exited_secs = te->exited_at->seconds;
						r.exited_nanos = te->exited_at->nanos;
					}
					containerd__events__task_exit__free_unpacked(te, NULL);
				}
			}
		}
		if (fr)
			containerd__services__events__ttrpc__v1__forward_request__free_unpacked(
				fr, NULL);
		ttrpc__request__free_unpacked(req, NULL);
	}
	pthread_mutex_lock(&s->mu);
	if (s->nreqs < MAX_REQS)
		s->reqs[s->nreqs++] = r;
	if (s->mode == FWD_HOLD && !s->release) {
		if (s->nheld < MAX_HELD)
			s->held[s->nheld++] = (struct held){ c->fd, h->stream };
		pthread_mutex_unlock(&s->mu);
		return;
	}
	enum fwd_mode m = s->mode;
	pthread_mutex_unlock(&s->mu);
	answer(c->fd, h->stream, m == FWD_ERROR ? GRPC_UNAVAILABLE : 0);
}

struct feed_ctx {
	struct fwd_server *s;
	struct fconn *c;
};

static int on_frame(void *ctx, const struct ttrpc_hdr *h, uint8_t *body, bool oversize)
{
	struct feed_ctx *f = ctx;
	if (!oversize && h->type == TTRPC_TYPE_REQUEST)
		record(f->s, f->c, h, body);
	free(body);
	return 0;
}

static void conn_drop(struct fwd_server *s, int i)
{
	pthread_mutex_lock(&s->mu);
	for (int k = 0; k < s->nheld; k++)
		if (s->held[k].fd == s->conns[i].fd)
			s->held[k].fd = -1;
	pthread_mutex_unlock(&s->mu);
	close(s->conns[i].fd);
	ttrpc_reader_reset(&s->conns[i].rd);
	s->conns[i] = s->conns[--s->nconns];
}

static void *serve(void *arg)
{
	struct fwd_server *s = arg;
	for (;;) {
		struct pollfd p[MAX_CONNS + 2];
		int n = 0;
		p[n++] = (struct pollfd){ .fd = s->stop_pipe[0], .events = POLLIN };
		p[n++] = (struct pollfd){ .fd = s->lfd, .events = POLLIN };
		for (int i = 0; i < s->nconns; i++)
			p[n++] = (struct pollfd){ .fd = s->conns[i].fd, .events = POLLIN };
		if (poll(p, (nfds_t)n, 50) < 0)
			continue;
		if (p[0].revents)
			break;
		/* held answers released meanwhile */
		pthread_mutex_lock(&s->mu);
		if (s->release) {
			for (int k = 0; k < s->nheld; k++)
				if (s->held[k].fd >= 0)
					answer(s->held[k].fd, s->held[k].stream, 0);
			s->nheld = 0;
		}
		pthread_mutex_unlock(&s->mu);
		if ((p[1].revents & POLLIN) && s->nconns < MAX_CONNS) {
			int fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC);
			if (fd >= 0) {
				struct fconn *c = &s->conns[s->nconns++];
				c->fd = fd;
				pthread_mutex_lock(&s->mu);
				c->num = ++s->accepted;
				pthread_mutex_unlock(&s->mu);
				ttrpc_reader_init(&c->rd);
			}
		}
		for (int i = n - 1; i >= 2; i--) {
			uint8_t buf[4096];
			ssize_t k;
			int ci = i - 2;
			if (!p[i].revents)
				continue;
			k = recv(p[i].fd, buf, sizeof(buf), MSG_DONTWAIT);
			if (k < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			if (k <= 0) {
				conn_drop(s, ci);
				continue;
			}
			struct feed_ctx f = { s, &s->conns[ci] };
			(void)ttrpc_reader_feed(&s->conns[ci].rd, buf, (size_t)k, on_frame, &f);
		}
	}
	while (s->nconns > 0)
		conn_drop(s, s->nconns - 1);
	return NULL;
}

struct fwd_server *fwd_start(const char *path, enum fwd_mode mode)
{
	struct fwd_server *s = calloc(1, sizeof(*s));
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	if (!s)
		return NULL;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		free(s);
		errno = ENAMETOOLONG;
		return NULL;
	}
	strcpy(sa.sun_path, path);
	copy_str(s->path, sizeof(s->path), path);
	s->mode = mode;
	pthread_mutex_init(&s->mu, NULL);
	s->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->lfd < 0 || bind(s->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(s->lfd, 64) < 0 || pipe2(s->stop_pipe, O_CLOEXEC) < 0) {
		int e = errno;
		if (s->lfd >= 0)
			close(s->lfd);
		free(s);
		errno = e;
		return NULL;
	}
	if (pthread_create(&s->thr, NULL, serve, s) != 0) {
		close(s->lfd);
		unlink(path);
		free(s);
		return NULL;
	}
	return s;
}

void fwd_stop(struct fwd_server *s)
{
	if (!s)
		return;
	(void)!write(s->stop_pipe[1], "x", 1);
	pthread_join(s->thr, NULL);
	close(s->lfd);
	unlink(s->path);
	close(s->stop_pipe[0]);
	close(s->stop_pipe[1]);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

void fwd_set_mode(struct fwd_server *s, enum fwd_mode mode)
{
	pthread_mutex_lock(&s->mu);
	s->mode = mode;
	s->release = false;
	pthread_mutex_unlock(&s->mu);
}

void fwd_release(struct fwd_server *s)
{
	pthread_mutex_lock(&s->mu);
	s->release = true;
	pthread_mutex_unlock(&s->mu);
}

int fwd_requests(struct fwd_server *s, struct fwd_req *out, int max)
{
	int n;
	pthread_mutex_lock(&s->mu);
	n = s->nreqs;
	if (out)
		memcpy(out, s->reqs, (size_t)(n < max ? n : max) * sizeof(*out));
	pthread_mutex_unlock(&s->mu);
	return n;
}

int fwd_wait(struct fwd_server *s, int n, int timeout_ms)
{
	struct timespec t = { 0, 10 * 1000000L };
	int have = 0;
	for (int waited = 0; (have = fwd_requests(s, NULL, 0)) < n && waited < timeout_ms;
	     waited += 10)
		nanosleep(&t, NULL);
	return have;
}

int fwd_connections(struct fwd_server *s)
{
	int n;
	pthread_mutex_lock(&s->mu);
	n = s->accepted;
	pthread_mutex_unlock(&s->mu);
	return n;
}
