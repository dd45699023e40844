/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base.h"
#include "clock.h"
#include "log.h"
#include "loop.h"
#include "memtrim.h"
#include "pump.h"

/* Pumps run on the loop thread only, so they share one read buffer; a pump keeps a heap
 * copy only of what its destination could not take yet (then it stops reading). */
#define PUMP_BUF 16384
static uint8_t *pump_shared_buf; /* PUMP_BUF bytes, mapped by the first pump_start */
static pthread_once_t pump_buf_once = PTHREAD_ONCE_INIT;

static void pump_buf_map(void)
{
	pump_shared_buf = memtrim_pages_new(PUMP_BUF);
}

struct pump {
	struct loop *loop;
	struct loop_watch src_w, dst_w;
	pump_end_fn on_end;
	void *end_arg;
	unsigned flags;
	char name[32];
	uint8_t *pending; /* unwritten bytes (heap), NULL when none */
	size_t off, len;
	bool src_armed, dst_armed;
	bool src_eof;    /* no more input */
	bool src_quiet;  /* last read would block */
	bool dst_broken; /* writes fail: discard */
	atomic_bool closing;
	atomic_int refs;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool done; /* fds closed */
};

struct pump *pump_ref(struct pump *p)
{
	atomic_fetch_add(&p->refs, 1);
	return p;
}

void pump_unref(struct pump *p)
{
	if (!p || atomic_fetch_sub(&p->refs, 1) != 1)
		return;
	free(p->pending);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	free(p);
}

static void pump_unref_cb(void *arg)
{
	pump_unref(arg);
}

/* Loop thread: close everything, wake waiters, drop the loop's reference after the batch. */
static void pump_finish(struct pump *p)
{
	if (p->done)
		return;
	if (p->src_w.fd >= 0) {
		if (p->src_armed)
			(void)loop_del(p->loop, &p->src_w);
		if (!(p->flags & PUMP_KEEP_SRC))
			close(p->src_w.fd);
	}
	if (p->dst_w.fd >= 0) {
		if (p->dst_armed)
			(void)loop_del(p->loop, &p->dst_w);
		if (!(p->flags & PUMP_KEEP_DST))
			close(p->dst_w.fd);
	}
	p->src_w.fd = p->dst_w.fd = -1;
	p->src_armed = p->dst_armed = false;
	free(p->pending);
	p->pending = NULL;
	p->off = p->len = 0;
	pthread_mutex_lock(&p->mu);
	p->done = true;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	if (p->on_end) {
		pump_end_fn fn = p->on_end;
		p->on_end = NULL;
		fn(p->end_arg, p->src_eof);
	}
	(void)loop_defer(p->loop, pump_unref_cb, p);
}

static void pump_arm(struct pump *p, bool want_src, bool want_dst)
{
	if (want_src != p->src_armed) {
		/* A pty master whose slave is closed reports EPOLLHUP for ever: edge-triggered
		 * there, so that EIO waits for the next change instead of spinning. */
		if (want_src)
			(void)loop_add(p->loop, &p->src_w,
				       EPOLLIN | EPOLLRDHUP |
					       ((p->flags & PUMP_SRC_PTY) ? EPOLLET : 0));
		else
			(void)loop_del(p->loop, &p->src_w);
		p->src_armed = want_src;
	}
	if (want_dst != p->dst_armed) {
		if (want_dst)
			(void)loop_add(p->loop, &p->dst_w,
				       EPOLLOUT | ((p->flags & PUMP_DST_PTY) ? EPOLLET : 0));
		else
			(void)loop_del(p->loop, &p->dst_w);
		p->dst_armed = want_dst;
	}
}

/* Writes buf[0..len); returns how much was written (stops at EAGAIN). Marks the pump broken
 * on a hard error (EPIPE...): from then on its input is read and dropped. */
static size_t pump_write(struct pump *p, const uint8_t *buf, size_t len)
{
	size_t done = 0;
	while (done < len && !p->dst_broken) {
		ssize_t n = write(p->dst_w.fd, buf + done, len - done);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || (errno == EIO && (p->flags & PUMP_DST_PTY)))
				return done;
			log_debug("%s: write failed: %s, discarding", p->name, strerror(errno));
			p->dst_broken = true;
			break;
		}
		done += (size_t)n;
	}
	return p->dst_broken ? len : done;
}

/* Writes the pending bytes. Returns true when none are left. */
static bool pump_flush(struct pump *p)
{
	if (!p->pending)
		return true;
	p->off += pump_write(p, p->pending + p->off, p->len - p->off);
	if (p->off < p->len)
		return false;
	free(p->pending);
	p->pending = NULL;
	p->off = p->len = 0;
	return true;
}

/* Keeps the unwritten tail of a read; false on out of memory (the bytes are dropped). */
static bool pump_keep(struct pump *p, const uint8_t *buf, size_t len)
{
	p->pending = malloc(len);
	if (!p->pending) {
		log_error("%s: out of memory: %zu bytes of output dropped", p->name, len);
		return false;
	}
	memcpy(p->pending, buf, len);
	p->off = 0;
	p->len = len;
	return true;
}

/* One copy pass: read/write until something would block. */
static void pump_run(struct pump *p)
{
	if (p->done)
		return;
	for (;;) {
		ssize_t n;
		size_t w;
		if (!pump_flush(p)) {
			pump_arm(p, false, true);
			return;
		}
		if (p->src_eof)
			break;
		n = read(p->src_w.fd, pump_shared_buf, PUMP_BUF);
		if (n > 0) {
			w = pump_write(p, pump_shared_buf, (size_t)n);
			if (w < (size_t)n && pump_keep(p, pump_shared_buf + w, (size_t)n - w)) {
				pump_arm(p, false, true);
				return;
			}
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || (errno == EIO && (p->flags & PUMP_SRC_PTY)))) {
			if ((p->flags & PUMP_SRC_PTY) && atomic_load(&p->closing)) {
				p->src_eof = true; /* drained after exit */
				break;
			}
			p->src_quiet = true;
			pump_arm(p, true, false);
			return;
		}
		if (n < 0)
			log_debug("%s: read failed: %s", p->name, strerror(errno));
		p->src_eof = true;
	}
	pump_finish(p);
}

#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

static void pump_src_cb(struct loop_watch *w, uint32_t revents)
{
	struct pump *p = container_of(w, struct pump, src_w);
	(void)revents;
	p->src_quiet = false;
	pump_run(p);
}

static void pump_dst_cb(struct loop_watch *w, uint32_t revents)
{
	struct pump *p = container_of(w, struct pump, dst_w);
	(void)revents;
	if (pump_flush(p))
		pump_arm(p, true, false);
	pump_run(p);
}

static void pump_start_cb(void *arg)
{
	struct pump *p = arg;
	pump_arm(p, true, false);
	pump_run(p);
}

int pump_start(struct loop *l, int src, int dst, unsigned flags, const char *name,
	       pump_end_fn on_end, void *end_arg, struct pump **ret)
{
	struct pump *p;
	int r;

	(void)pthread_once(&pump_buf_once, pump_buf_map);
	p = pump_shared_buf ? calloc(1, sizeof(*p)) : NULL;
	if (p && clock_cond_init(&p->cv) < 0) {
		free(p);
		p = NULL;
	}
	if (!p) {
		close(src);
		close(dst);
		if (on_end)
			on_end(end_arg, false);
		return -ENOMEM;
	}
	p->loop = l;
	p->src_w.fd = src;
	p->src_w.cb = pump_src_cb;
	p->dst_w.fd = dst;
	p->dst_w.cb = pump_dst_cb;
	p->on_end = on_end;
	p->end_arg = end_arg;
	p->flags = flags;
	snprintf(p->name, sizeof(p->name), "%s", name);
	pthread_mutex_init(&p->mu, NULL);
	atomic_init(&p->refs, 2); /* the loop's and the caller's */
	r = loop_post(l, pump_start_cb, p);
	if (r < 0) {
		atomic_store(&p->refs, 1);
		p->done = true;
		close(src);
		close(dst);
		if (on_end)
			on_end(end_arg, false);
		pump_unref(p);
		return r;
	}
	*ret = p;
	return 0;
}

bool pump_wait_done(struct pump *p, int timeout_ms)
{
	uint64_t deadline = clock_mono_after_ms(timeout_ms);
	bool done;

	/* p->cv measures CLOCK_MONOTONIC (clock_cond_init), as the deadline does. */
	pthread_mutex_lock(&p->mu);
	while (!p->done) {
		if (clock_cond_timedwait(&p->cv, &p->mu, deadline) == -ETIMEDOUT)
			break;
	}
	done = p->done;
	pthread_mutex_unlock(&p->mu);
	return done;
}

bool pump_is_done(struct pump *p)
{
	bool done;
	pthread_mutex_lock(&p->mu);
	done = p->done;
	pthread_mutex_unlock(&p->mu);
	return done;
}

void pump_release_buffer(void)
{
	memtrim_pages_release(pump_shared_buf, PUMP_BUF);
}

bool pump_drain_now(struct pump *p)
{
	if (!p->done) {
		p->src_quiet = false;
		pump_run(p);
	}
	return p->done || (p->src_quiet && !p->pending);
}

static void pump_closing_cb(void *arg)
{
	struct pump *p = arg;
	atomic_store(&p->closing, true);
	p->src_quiet = false;
	pump_run(p);
	pump_unref(p);
}

void pump_src_closing(struct pump *p)
{
	if (loop_is_loop_thread(p->loop)) {
		atomic_store(&p->closing, true);
		return; /* the caller drains next */
	}
	pump_ref(p);
	if (loop_post(p->loop, pump_closing_cb, p) < 0) {
		atomic_store(&p->closing, true);
		pump_unref(p);
	}
}

static void pump_close_cb(void *arg)
{
	struct pump *p = arg;
	pump_finish(p);
	pump_unref(p);
}

void pump_close(struct pump *p)
{
	if (!p)
		return;
	/* The caller's reference travels with the request. */
	if (loop_post(p->loop, pump_close_cb, p) < 0)
		pump_unref(p);
}
