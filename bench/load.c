/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "bench/load.h"
#include "bench/procstat.h"
#include "bench/util.h"
#include "github.com/containerd/containerd/runtime/v1/shim/v1/shim.pb-c.h"
#include "github.com/containerd/containerd/runtime/v2/task/shim.pb-c.h"
#include "proto/ttrpc_codec.h"
#include "proto/ttrpc_frame.h"

#define SHIM_SVC "containerd.runtime.linux.shim.v1.Shim"
#define TASK_SVC "containerd.task.v2.Task"

const char *const method_names[M_COUNT] = { "State", "ListPids", "ShimInfo", "Pids", "Stats" };

int method_parse(const char *name)
{
	for (int i = 0; i < M_COUNT; i++)
		if (strcasecmp(name, method_names[i]) == 0)
			return i;
	return -1;
}

struct pend {
	uint64_t t0; /* send time (closed loop) or intended send time (open loop) */
	uint32_t stream;
	uint8_t method;
	uint8_t in_window;
};

struct lconn {
	int fd;
	bool dead, want_out;
	uint8_t *rbuf;
	size_t rlen, rcap;
	uint8_t *wbuf;
	size_t wlen, woff, wcap;
	uint32_t next_stream;
	uint32_t outstanding;
	struct pend *pend;
	uint32_t pmask;
};

struct frames {
	uint8_t *f[M_COUNT];
	size_t len[M_COUNT];
};

struct lthread {
	pthread_t thr;
	const struct load_spec *s;
	const struct frames *fr;
	uint64_t t_start, t_warm, t_end, t_drain;
	struct lconn *c;
	int nc, rr, ep;
	bool open;
	double interval_ns;
	uint64_t k, next_due;
	uint64_t rng;
	unsigned wsum;
	int single; /* the only method with a weight, or -1 */
	struct hist all, per[M_COUNT];
	uint64_t ok, errors, timeouts, conn_errors, overflows, unexpected;
	uint64_t err_by_code[17];
	char first_error[160];
	_Atomic uint64_t answered; /* progress display */
};

void load_spec_defaults(struct load_spec *s)
{
	memset(s, 0, sizeof(*s));
	s->conns = 1;
	s->streams = 1;
	s->threads = 1;
	s->warmup_s = 0.5;
	s->duration_s = 2;
	s->drain_s = 10;
	s->weights[M_STATE] = 1;
}

__attribute__((format(printf, 2, 3))) static void set_error(struct lthread *t, const char *fmt, ...)
{
	va_list ap;
	if (t->first_error[0])
		return;
	va_start(ap, fmt);
	vsnprintf(t->first_error, sizeof(t->first_error), fmt, ap);
	va_end(ap);
}

static int build_frames(const struct load_spec *s, struct frames *fr)
{
	for (int m = 0; m < M_COUNT; m++) {
		uint8_t pl[512];
		size_t plen = 0;
		if (m == M_STATE) {
			Containerd__Runtime__Linux__Shim__V1__StateRequest r =
				CONTAINERD__RUNTIME__LINUX__SHIM__V1__STATE_REQUEST__INIT;
			r.id = (char *)s->container_id;
			plen = protobuf_c_message_pack(&r.base, pl);
		} else if (m == M_LISTPIDS) {
			Containerd__Runtime__Linux__Shim__V1__ListPidsRequest r =
				CONTAINERD__RUNTIME__LINUX__SHIM__V1__LIST_PIDS_REQUEST__INIT;
			r.id = (char *)s->container_id;
			plen = protobuf_c_message_pack(&r.base, pl);
		} else if (m == M_PIDS) {
			Containerd__Task__V2__PidsRequest r =
				CONTAINERD__TASK__V2__PIDS_REQUEST__INIT;
			r.id = (char *)s->container_id;
			plen = protobuf_c_message_pack(&r.base, pl);
		} else if (m == M_STATS) {
			Containerd__Task__V2__StatsRequest r =
				CONTAINERD__TASK__V2__STATS_REQUEST__INIT;
			r.id = (char *)s->container_id;
			plen = protobuf_c_message_pack(&r.base, pl);
		}
		/* v1's StateRequest{id} and v2's StateRequest{id, exec_id ""} are the same bytes. */
		if (ttrpc_request_frame(1, s->v2 ? TASK_SVC : SHIM_SVC, method_names[m], pl, plen,
					0, &fr->f[m], &fr->len[m]) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int connect_unix(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

/* ---- protobuf peeking: is Response.status present with a non-zero code? ---- */

static int varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	uint64_t r = 0;
	for (int sh = 0; sh < 64 && *p < end; sh += 7) {
		uint8_t b = *(*p)++;
		r |= (uint64_t)(b & 0x7f) << sh;
		if (!(b & 0x80)) {
			*v = r;
			return 0;
		}
	}
	return -1;
}

/* Returns the gRPC code (0 = success), or -1 when the body is not a ttrpc.Response. */
static int peek_status(const uint8_t *b, size_t n)
{
	const uint8_t *p = b, *end = b + n;
	int code = 0;
	while (p < end) {
		uint64_t tag, v;
		if (varint(&p, end, &tag) < 0)
			return -1;
		switch (tag & 7) {
		case 0:
			if (varint(&p, end, &v) < 0)
				return -1;
			break;
		case 2:
			if (varint(&p, end, &v) < 0 || v > (uint64_t)(end - p))
				return -1;
			if ((tag >> 3) == 1) { /* google.rpc.Status */
				const uint8_t *q = p, *qe = p + v;
				while (q < qe) {
					uint64_t t2, v2;
					if (varint(&q, qe, &t2) < 0)
						return -1;
					if ((t2 & 7) == 0) {
						if (varint(&q, qe, &v2) < 0)
							return -1;
						if ((t2 >> 3) == 1)
							code = (int)v2;
					} else if ((t2 & 7) == 2) {
						if (varint(&q, qe, &v2) < 0 ||
						    v2 > (uint64_t)(qe - q))
							return -1;
						q += v2;
					} else {
						return -1;
					}
				}
			}
			p += v;
			break;
		case 1:
			if (end - p < 8)
				return -1;
			p += 8;
			break;
		case 5:
			if (end - p < 4)
				return -1;
			p += 4;
			break;
		default: return -1;
		}
	}
	return code;
}

/* ---- connection I/O ---- */

static void conn_fail(struct lthread *t, struct lconn *c, int err)
{
	if (c->dead)
		return;
	c->dead = true;
	epoll_ctl(t->ep, EPOLL_CTL_DEL, c->fd, NULL);
	set_error(t, "connection: %s", err ? strerror(err) : "closed by peer");
}

static void arm_out(struct lthread *t, struct lconn *c, bool on)
{
	struct epoll_event ev = { .events = EPOLLIN | (on ? EPOLLOUT : 0), .data.ptr = c };
	if (c->want_out == on)
		return;
	c->want_out = on;
	epoll_ctl(t->ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static void conn_write(struct lthread *t, struct lconn *c, const uint8_t *data, size_t n)
{
	if (c->woff == c->wlen) {
		ssize_t w;
		c->woff = c->wlen = 0;
		w = send(c->fd, data, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w == (ssize_t)n)
			return;
		if (w < 0) {
			if (errno != EAGAIN && errno != EINTR) {
				conn_fail(t, c, errno);
				return;
			}
			w = 0;
		}
		data += w;
		n -= (size_t)w;
	}
	if (c->wlen + n > c->wcap) {
		size_t nc = c->wcap ? c->wcap : 4096;
		while (nc < c->wlen + n)
			nc *= 2;
		uint8_t *nb = realloc(c->wbuf, nc);
		if (!nb)
			die("out of memory");
		c->wbuf = nb;
		c->wcap = nc;
	}
	memcpy(c->wbuf + c->wlen, data, n);
	c->wlen += n;
	arm_out(t, c, true);
}

static void conn_flush(struct lthread *t, struct lconn *c)
{
	while (c->woff < c->wlen) {
		ssize_t w = send(c->fd, c->wbuf + c->woff, c->wlen - c->woff,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0) {
			if (errno == EAGAIN)
				return;
			if (errno == EINTR)
				continue;
			conn_fail(t, c, errno);
			return;
		}
		c->woff += (size_t)w;
	}
	c->woff = c->wlen = 0;
	arm_out(t, c, false);
}

static int pick_method(struct lthread *t)
{
	uint64_t x = t->rng;
	unsigned r;
	if (t->single >= 0)
		return t->single;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	t->rng = x;
	r = (unsigned)(x % t->wsum);
	for (int m = 0; m < M_COUNT; m++) {
		if (r < t->s->weights[m])
			return m;
		r -= t->s->weights[m];
	}
	return M_STATE;
}

static void send_req(struct lthread *t, struct lconn *c, uint64_t t0, bool in_window)
{
	int m = pick_method(t);
	uint32_t stream = c->next_stream;
	struct pend *p = &c->pend[(stream >> 1) & c->pmask];
	uint8_t buf[1024];
	const uint8_t *f = t->fr->f[m];
	size_t n = t->fr->len[m];

	if (c->dead)
		return;
	if (p->stream) {
		/* more in flight than we can track: the server is hopelessly behind */
		if (in_window)
			t->overflows++;
		return;
	}
	c->next_stream += 2;
	p->stream = stream;
	p->method = (uint8_t)m;
	p->in_window = in_window;
	c->outstanding++;
	if (n > sizeof(buf))
		die("request frame too large");
	memcpy(buf, f, n);
	buf[4] = (uint8_t)(stream >> 24);
	buf[5] = (uint8_t)(stream >> 16);
	buf[6] = (uint8_t)(stream >> 8);
	buf[7] = (uint8_t)stream;
	p->t0 = t->open ? t0 : now_ns();
	conn_write(t, c, buf, n);
}

static bool on_response(struct lthread *t, struct lconn *c, const struct ttrpc_hdr *h,
			const uint8_t *body, uint64_t t_recv)
{
	struct pend *p = &c->pend[(h->stream >> 1) & c->pmask];
	int code;

	if (p->stream != h->stream || h->type != TTRPC_TYPE_RESPONSE || !h->stream) {
		t->unexpected++;
		return false;
	}
	code = peek_status(body, h->len);
	if (p->in_window) {
		if (code == 0) {
			uint64_t lat = t_recv > p->t0 ? t_recv - p->t0 : 0;
			t->ok++;
			hist_add(&t->all, lat);
			hist_add(&t->per[p->method], lat);
		} else {
			t->errors++;
			t->err_by_code[code > 0 && code < 17 ? code : 0]++;
			if (!t->first_error[0]) {
				int c2 = 0;
				char *msg = NULL;
				uint8_t *pl = NULL;
				size_t plen = 0;
				if (code > 0 && ttrpc_response_decode(body, h->len, &c2, &msg, &pl,
								      &plen) == 0) {
					char tmp[140];
					xsnprintf(tmp, sizeof(tmp), "%s: code %d: %s",
						  method_names[p->method], c2, msg ? msg : "");
					set_error(t, "%s", tmp);
				} else {
					set_error(t, "%s: undecodable response",
						  method_names[p->method]);
				}
				free(msg);
				free(pl);
			}
		}
	}
	atomic_fetch_add_explicit(&t->answered, 1, memory_order_relaxed);
	p->stream = 0;
	c->outstanding--;
	return true;
}

static void conn_read(struct lthread *t, struct lconn *c)
{
	size_t off = 0;
	int closed_loop_sends = 0;
	uint64_t t_recv;
	ssize_t k;

	if (c->rcap - c->rlen < 4096) {
		size_t nc = c->rcap * 2;
		uint8_t *nb = realloc(c->rbuf, nc);
		if (!nb)
			die("out of memory");
		c->rbuf = nb;
		c->rcap = nc;
	}
	k = recv(c->fd, c->rbuf + c->rlen, c->rcap - c->rlen, MSG_DONTWAIT);
	t_recv = now_ns();
	if (k < 0) {
		if (errno != EAGAIN && errno != EINTR)
			conn_fail(t, c, errno);
		return;
	}
	if (k == 0) {
		conn_fail(t, c, 0);
		return;
	}
	c->rlen += (size_t)k;
	while (c->rlen - off >= TTRPC_HDR_LEN) {
		struct ttrpc_hdr h;
		ttrpc_hdr_decode(c->rbuf + off, &h);
		if (h.len > TTRPC_MAX_MSG) {
			conn_fail(t, c, EMSGSIZE);
			return;
		}
		if (c->rlen - off < TTRPC_HDR_LEN + (size_t)h.len) {
			size_t need = TTRPC_HDR_LEN + (size_t)h.len;
			if (need > c->rcap) {
				uint8_t *nb = realloc(c->rbuf, need * 2);
				if (!nb)
					die("out of memory");
				c->rbuf = nb;
				c->rcap = need * 2;
			}
			break;
		}
		if (on_response(t, c, &h, c->rbuf + off + TTRPC_HDR_LEN, t_recv))
			closed_loop_sends++;
		off += TTRPC_HDR_LEN + h.len;
	}
	if (off) {
		memmove(c->rbuf, c->rbuf + off, c->rlen - off);
		c->rlen -= off;
	}
	/* Closed loop: every answer is followed by the next request on that connection. */
	if (!t->open) {
		for (int i = 0; i < closed_loop_sends; i++) {
			uint64_t now = now_ns();
			if (now >= t->t_end)
				break;
			send_req(t, c, now, now >= t->t_warm);
		}
	}
}

static uint32_t total_outstanding(const struct lthread *t)
{
	uint32_t n = 0;
	for (int i = 0; i < t->nc; i++)
		if (!t->c[i].dead)
			n += t->c[i].outstanding;
	return n;
}

static bool all_dead(const struct lthread *t)
{
	for (int i = 0; i < t->nc; i++)
		if (!t->c[i].dead)
			return false;
	return true;
}

static struct lconn *next_live(struct lthread *t)
{
	for (int i = 0; i < t->nc; i++) {
		struct lconn *c = &t->c[t->rr++ % t->nc];
		if (!c->dead)
			return c;
	}
	return NULL;
}

static void *thread_main(void *arg)
{
	struct lthread *t = arg;
	struct epoll_event ev[64];

	sleep_until_ns(t->t_start);
	if (!t->open) {
		uint64_t now = now_ns();
		for (int i = 0; i < t->nc; i++)
			for (int j = 0; j < t->s->streams; j++)
				send_req(t, &t->c[i], now, now >= t->t_warm);
	} else {
		t->next_due = t->t_start;
	}
	for (;;) {
		uint64_t now = now_ns();
		struct timespec to;
		uint64_t wait_ns;
		int n;

		if (t->open) {
			while (t->next_due <= now && t->next_due < t->t_end) {
				struct lconn *c = next_live(t);
				if (!c)
					break;
				send_req(t, c, t->next_due, t->next_due >= t->t_warm);
				t->k++;
				t->next_due =
					t->t_start + (uint64_t)((double)t->k * t->interval_ns);
			}
		}
		if (all_dead(t))
			break;
		if (now >= t->t_end && (total_outstanding(t) == 0 || now >= t->t_drain))
			break;
		if (t->open && t->next_due < t->t_end)
			wait_ns = t->next_due > now ? t->next_due - now : 0;
		else if (now < t->t_end)
			wait_ns = t->t_end - now;
		else
			wait_ns = t->t_drain - now;
		if (wait_ns > 50000000ULL)
			wait_ns = 50000000ULL;
		to.tv_sec = 0;
		to.tv_nsec = (long)wait_ns;
		n = epoll_pwait2(t->ep, ev, 64, &to, NULL);
		for (int i = 0; i < n; i++) {
			struct lconn *c = ev[i].data.ptr;
			if (c->dead)
				continue;
			if (ev[i].events & EPOLLOUT)
				conn_flush(t, c);
			if (ev[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
				conn_read(t, c);
		}
	}
	/* Whatever was sent in the window and never answered. */
	for (int i = 0; i < t->nc; i++) {
		struct lconn *c = &t->c[i];
		for (uint32_t j = 0; j <= c->pmask; j++) {
			if (c->pend[j].stream && c->pend[j].in_window) {
				if (c->dead)
					t->conn_errors++;
				else
					t->timeouts++;
			}
		}
	}
	if (t->timeouts)
		set_error(t, "%s", "requests unanswered at the end of the drain period");
	return NULL;
}

static uint32_t pow2_at_least(uint32_t v)
{
	uint32_t p = 16;
	while (p < v)
		p <<= 1;
	return p;
}

int load_run(const struct load_spec *s, struct load_result *r)
{
	struct frames fr = { 0 };
	struct lthread *th;
	int nthr = s->threads > 0 ? s->threads : 1;
	int conns = s->conns > 0 ? s->conns : 1;
	bool open = s->rate > 0;
	uint32_t slots;
	unsigned wsum = 0;
	struct proc_cpu c0 = { 0 }, c1 = { 0 };
	double u0 = 0, u1 = 0;
	struct sys_cpu y0, y1;
	uint64_t t_start, t_warm, t_end, t_drain;
	int rc = 0;

	memset(r, 0, sizeof(*r));
	hist_init(&r->all);
	for (int m = 0; m < M_COUNT; m++) {
		hist_init(&r->per[m]);
		wsum += s->weights[m];
		r->weights[m] = s->weights[m];
	}
	if (!wsum)
		die("no method selected");
	if (nthr > conns)
		nthr = conns;
	r->open_loop = open;
	r->rate = s->rate;
	r->conns = conns;
	r->streams = s->streams;
	if (build_frames(s, &fr) < 0)
		die("out of memory");
	slots = open ? pow2_at_least(conns > 64 ? 1024 : 65536 / (uint32_t)conns)
		     : pow2_at_least((uint32_t)s->streams * 2);

	th = calloc((size_t)nthr, sizeof(*th));
	if (!th)
		die("out of memory");
	for (int i = 0; i < nthr; i++) {
		struct lthread *t = &th[i];
		t->s = s;
		t->fr = &fr;
		t->open = open;
		t->wsum = wsum;
		t->single = -1;
		for (int m = 0; m < M_COUNT; m++)
			if (s->weights[m] == wsum)
				t->single = m;
		t->rng = 0x9E3779B97F4A7C15ULL * (uint64_t)(i + 1) ^ now_ns();
		t->ep = epoll_create1(EPOLL_CLOEXEC);
		t->nc = conns / nthr + (i < conns % nthr);
		t->c = calloc((size_t)t->nc, sizeof(*t->c));
		hist_init(&t->all);
		for (int m = 0; m < M_COUNT; m++)
			hist_init(&t->per[m]);
		if (open)
			t->interval_ns = 1e9 / (s->rate / nthr);
		if (t->ep < 0 || !t->c)
			die("out of memory");
	}
	/* Connect everything before the clock starts. */
	for (int i = 0, ci = 0; i < nthr; i++) {
		for (int j = 0; j < th[i].nc; j++, ci++) {
			struct lconn *c = &th[i].c[j];
			struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
			c->fd = s->fds ? s->fds[ci] : connect_unix(s->sock);
			if (c->fd < 0) {
				rc = c->fd;
				warnx_("connect %s: %s", s->sock ? s->sock : "(fd)", strerror(-rc));
				c->dead = true;
				c->fd = -1;
				continue;
			}
			c->next_stream = 1;
			c->rcap = 65536;
			c->rbuf = malloc(c->rcap);
			c->pend = calloc(slots, sizeof(*c->pend));
			c->pmask = slots - 1;
			if (!c->rbuf || !c->pend)
				die("out of memory");
			epoll_ctl(th[i].ep, EPOLL_CTL_ADD, c->fd, &ev);
		}
	}
	if (rc < 0)
		goto out;

	t_start = now_ns() + 30000000ULL;
	t_warm = t_start + (uint64_t)(s->warmup_s * 1e9);
	t_end = t_warm + (uint64_t)(s->duration_s * 1e9);
	t_drain = t_end + (uint64_t)((s->drain_s > 0 ? s->drain_s : 10) * 1e9);
	for (int i = 0; i < nthr; i++) {
		th[i].t_start = t_start;
		th[i].t_warm = t_warm;
		th[i].t_end = t_end;
		th[i].t_drain = t_drain;
		if (pthread_create(&th[i].thr, NULL, thread_main, &th[i]) != 0)
			die("pthread_create failed");
	}
	/* Coordinator: snapshots at the window edges, progress in between. */
	for (;;) {
		uint64_t now = now_ns(), target = now + 200000000ULL;
		uint64_t answered = 0;
		if (now >= t_warm)
			break;
		sleep_until_ns(target < t_warm ? target : t_warm);
		for (int i = 0; i < nthr; i++)
			answered += atomic_load_explicit(&th[i].answered, memory_order_relaxed);
		progress("%s: warm-up %.1fs, %llu answered", s->label ? s->label : "load",
			 (double)(now_ns() - t_start) / 1e9, (unsigned long long)answered);
	}
	if (s->server_pid > 0)
		c0 = proc_cpu(s->server_pid);
	u0 = self_cpu_s();
	y0 = sys_cpu();
	if (s->on_window_start)
		s->on_window_start(s->hook_arg);
	for (;;) {
		uint64_t now = now_ns(), target = now + 200000000ULL;
		uint64_t answered = 0;
		if (now >= t_end)
			break;
		sleep_until_ns(target < t_end ? target : t_end);
		for (int i = 0; i < nthr; i++)
			answered += atomic_load_explicit(&th[i].answered, memory_order_relaxed);
		progress("%s: measuring %.1f/%.1fs, %llu answered", s->label ? s->label : "load",
			 (double)(now_ns() - t_warm) / 1e9, s->duration_s,
			 (unsigned long long)answered);
	}
	if (s->server_pid > 0)
		c1 = proc_cpu(s->server_pid);
	u1 = self_cpu_s();
	y1 = sys_cpu();
	for (int i = 0; i < nthr; i++)
		pthread_join(th[i].thr, NULL);

	r->window_s = (double)(t_end - t_warm) / 1e9;
	r->t_window_start_ns = t_warm;
	r->t_window_end_ns = t_end;
	for (int i = 0; i < nthr; i++) {
		struct lthread *t = &th[i];
		hist_merge(&r->all, &t->all);
		for (int m = 0; m < M_COUNT; m++)
			hist_merge(&r->per[m], &t->per[m]);
		r->ok += t->ok;
		r->errors += t->errors;
		r->timeouts += t->timeouts;
		r->conn_errors += t->conn_errors;
		r->overflows += t->overflows;
		for (int k = 0; k < 17; k++)
			r->err_by_code[k] += t->err_by_code[k];
		if (!r->first_error[0] && t->first_error[0])
			xsnprintf(r->first_error, sizeof(r->first_error), "%s", t->first_error);
	}
	r->rps = (double)(r->ok + r->errors) / r->window_s;
	if (c0.ok && c1.ok) {
		r->shim_cpu_s = c1.self_s - c0.self_s;
		r->shim_child_cpu_s = c1.children_s - c0.children_s;
		r->shim_run_delay_s = (double)proc_run_delay_between(&c0, &c1) / 1e9;
	} else if (s->server_pid > 0) {
		r->shim_cpu_s = -1;
	}
	r->client_cpu_s = u1 - u0;
	r->sys_busy = sys_cpu_busy(&y0, &y1);
out:
	for (int i = 0; i < nthr; i++) {
		for (int j = 0; j < th[i].nc; j++) {
			struct lconn *c = &th[i].c[j];
			if (c->fd >= 0 && !s->fds)
				close(c->fd);
			free(c->rbuf);
			free(c->wbuf);
			free(c->pend);
		}
		free(th[i].c);
		if (th[i].ep >= 0)
			close(th[i].ep);
	}
	free(th);
	for (int m = 0; m < M_COUNT; m++)
		free(fr.f[m]);
	progress_clear();
	return rc;
}

double lr_pct_ns(const struct load_result *r, double p)
{
	return hist_pct(&r->all, p);
}

static uint64_t answered(const struct load_result *r)
{
	return r->ok + r->errors;
}

double lr_cpu_per_req_us(const struct load_result *r)
{
	return answered(r) && r->shim_cpu_s >= 0 ? r->shim_cpu_s * 1e6 / (double)answered(r) : -1;
}

double lr_client_cpu_per_req_us(const struct load_result *r)
{
	return answered(r) ? r->client_cpu_s * 1e6 / (double)answered(r) : -1;
}
