/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "event_queue.h"
#include "github.com/containerd/containerd/api/services/ttrpc/events/v1/events.pb-c.h"
#include "google/protobuf/any.pb-c.h"
#include "google/protobuf/timestamp.pb-c.h"
#include "io/log.h"
#include "io/loop.h"
#include "ttrpc_client.h"

#define FORWARD_SERVICE "containerd.services.events.ttrpc.v1.Events"
#define FORWARD_METHOD "Forward"
#define NS_HEADER "containerd-namespace-ttrpc" /* containerd's namespaces.TTRPCHeader */

struct evq_item {
	struct evq_item *next;
	char *topic;
	uint8_t *any;
	size_t len;
	struct timespec ts;
	unsigned flags;
	void (*done)(void *);
	void *arg;
	char what[128];
};

struct evq {
	struct loop *loop;
	char *ns;
	struct ttrpc_client *cli; /* NULL: no ttrpc address */
	struct evq_fallback fb;   /* unused without a fallback (retry_w.fd >= 0) */
	pthread_mutex_t mu;       /* the list and its counters */
	struct evq_item *head, **tail;
	size_t n, warn_at;
	atomic_bool kick_posted;
	/* loop thread only */
	bool pumping;
	struct evq_item *in_flight; /* the head, while its Forward is out */
	int last_err;               /* of the last failed Forward (logged once per kind) */
	/* No fallback: the head's next Forward waits for this timer (a timerfd on the loop). */
	struct loop_watch retry_w; /* fd -1: a fallback */
	bool retry_armed;
	int retry_ms; /* the last delay, 0 after a success */
};

uint8_t *evq_encode_forward(const char *ns, const char *topic, const struct timespec *ts,
			    const uint8_t *any, size_t len, size_t *ret_len)
{
	Containerd__Services__Events__Ttrpc__V1__ForwardRequest req =
		CONTAINERD__SERVICES__EVENTS__TTRPC__V1__FORWARD_REQUEST__INIT;
	Containerd__Services__Events__Ttrpc__V1__Envelope env =
		CONTAINERD__SERVICES__EVENTS__TTRPC__V1__ENVELOPE__INIT;
	Google__Protobuf__Timestamp t = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
	Google__Protobuf__Any *ev = google__protobuf__any__unpack(NULL, len, any);
	uint8_t *out = NULL;
	size_t n;

	if (!ev)
		return NULL;
	t.seconds = ts->tv_sec;
	t.nanos = (int32_t)ts->tv_nsec;
	env.timestamp = &t;
	env.namespace_ = (char *)ns;
	env.topic = (char *)topic;
	env.event = ev;
	req.envelope = &env;
	n = containerd__services__events__ttrpc__v1__forward_request__get_packed_size(&req);
	out = malloc(n ? n : 1);
	if (out) {
		containerd__services__events__ttrpc__v1__forward_request__pack(&req, out);
		*ret_len = n;
	}
	google__protobuf__any__free_unpacked(ev, NULL);
	return out;
}

char *evq_ttrpc_address(const char *grpc_address, const char *env_ttrpc_address)
{
	char *s = NULL;

	if (env_ttrpc_address && *env_ttrpc_address)
		return strdup(env_ttrpc_address);
	if (!grpc_address || !*grpc_address)
		return NULL;
	if (strncmp(grpc_address, "unix://", 7) == 0)
		grpc_address += 7;
	if (asprintf(&s, "%s.ttrpc", grpc_address) < 0)
		return NULL;
	return s;
}

static void item_free(struct evq_item *it)
{
	free(it->topic);
	free(it->any);
	free(it);
}

/* Takes the head off the list (it is the item being finished). */
static void pop_head(struct evq *q, struct evq_item *it)
{
	pthread_mutex_lock(&q->mu);
	q->head = it->next;
	if (!q->head)
		q->tail = &q->head;
	q->n--;
	if (q->n < EVQ_BUDGET)
		q->warn_at = EVQ_BUDGET;
	pthread_mutex_unlock(&q->mu);
}

static void item_done(struct evq *q, struct evq_item *it)
{
	pop_head(q, it);
	if (it->done)
		it->done(it->arg);
	item_free(it);
}

static void to_fallback(struct evq *q, struct evq_item *it)
{
	q->fb.publish(q->fb.ctx, it->topic, it->any, it->len, it->flags, it->what);
	item_done(q, it);
}

static void pump(struct evq *q);

static bool has_fallback(const struct evq *q)
{
	return q->retry_w.fd < 0;
}

/* No fallback: the head stays, its Forward goes again after the next delay. Loop thread. */
static void retry_later(struct evq *q, const struct evq_item *it, int kind, const char *why)
{
	struct itimerspec t = { 0 };

	q->retry_ms = q->retry_ms ? q->retry_ms * 2 : EVQ_RETRY_MIN_MS;
	if (q->retry_ms > EVQ_RETRY_MAX_MS)
		q->retry_ms = EVQ_RETRY_MAX_MS;
	if (kind != q->last_err)
		log_warn("forward %s to %s: %s; retrying until containerd takes it", it->what,
			 ttrpc_client_path(q->cli), why);
	else
		log_debug("forward %s: %s; retrying", it->what, why);
	q->last_err = kind;
	t.it_value.tv_sec = q->retry_ms / 1000;
	t.it_value.tv_nsec = (long)(q->retry_ms % 1000) * 1000000L;
	if (timerfd_settime(q->retry_w.fd, 0, &t, NULL) == 0)
		q->retry_armed = true;
	else /* the next publish pumps again */
		log_error("event queue: retry timer: %s", strerror(errno));
}

static void retry_fired(struct loop_watch *w, uint32_t revents)
{
	struct evq *q = (struct evq *)((char *)w - offsetof(struct evq, retry_w));
	uint64_t n;

	(void)revents;
	if (read(w->fd, &n, sizeof(n)) < 0 && errno == EAGAIN)
		return;
	q->retry_armed = false;
	pump(q);
}

static void forward_done(void *arg, const struct ttrpc_result *r)
{
	struct evq *q = arg;
	struct evq_item *it = q->in_flight;

	q->in_flight = NULL;
	if (r->err == 0 && r->code == 0) {
		q->last_err = 0;
		q->retry_ms = 0;
		log_debug("forwarded %s", it->what);
		item_done(q, it);
	} else {
		int kind = r->err ? r->err : 1000 + r->code;
		char why[160];
		if (r->err)
			snprintf(why, sizeof(why), "%s", strerror(-r->err));
		else
			snprintf(why, sizeof(why), "status %d: %s", r->code, r->msg ? r->msg : "");
		if (!has_fallback(q)) {
			/* Written whole, answer lost: containerd may have taken it, and may see
			 * it twice (docs/events.md); not sending it again may lose it. */
			retry_later(q, it, kind, why);
			return;
		}
		if (r->err && r->sent)
			/* Written whole, answer lost: containerd may have taken it. Publishing
			 * it again may deliver it twice; not publishing may lose it. */
			log_warn("forward %s to %s: %s after the request was sent; publishing it "
				 "with the fallback (containerd may see it twice)",
				 it->what, ttrpc_client_path(q->cli), why);
		else if (kind != q->last_err)
			log_warn("forward %s to %s: %s; publishing with the fallback", it->what,
				 ttrpc_client_path(q->cli), why);
		else
			log_debug("forward %s: %s; publishing with the fallback", it->what, why);
		q->last_err = kind;
		to_fallback(q, it);
	}
	pump(q);
}

/* Sends the head, or hands it (and the ones behind) to the fallback. Loop thread. */
static void pump(struct evq *q)
{
	if (q->pumping)
		return; /* the outer call goes on */
	q->pumping = true;
	while (!q->in_flight && !q->retry_armed) {
		struct evq_item *it;
		uint8_t *req;
		size_t rlen = 0;
		int r;

		pthread_mutex_lock(&q->mu);
		it = q->head;
		pthread_mutex_unlock(&q->mu);
		if (!it)
			break;
		/* The fallback's publications run side by side and take tens of milliseconds:
		 * while any is unfinished, a Forward could overtake it. */
		if (has_fallback(q) && (!q->cli || q->fb.busy(q->fb.ctx))) {
			to_fallback(q, it);
			continue;
		}
		req = evq_encode_forward(q->ns, it->topic, &it->ts, it->any, it->len, &rlen);
		if (!req && !has_fallback(q)) {
			log_error("forward %s: cannot encode it; dropped", it->what);
			item_done(q, it);
			continue;
		}
		if (!req) {
			log_error("forward %s: cannot encode it; publishing with the fallback",
				  it->what);
			to_fallback(q, it);
			continue;
		}
		{
			const struct ttrpc_md md[] = { { NS_HEADER, q->ns } };
			q->in_flight = it;
			r = ttrpc_client_call(q->cli, FORWARD_SERVICE, FORWARD_METHOD, md, 1, req,
					      rlen, EVQ_TIMEOUT_MS, forward_done, q);
		}
		free(req);
		if (r < 0 && !has_fallback(q)) {
			q->in_flight = NULL;
			retry_later(q, it, r, strerror(-r));
		} else if (r < 0) {
			q->in_flight = NULL;
			if (r != q->last_err)
				log_warn("forward %s: connect to %s: %s; publishing with the "
					 "fallback",
					 it->what, ttrpc_client_path(q->cli), strerror(-r));
			else
				log_debug("forward %s: connect: %s; publishing with the fallback",
					  it->what, strerror(-r));
			q->last_err = r;
			to_fallback(q, it);
		}
	}
	q->pumping = false;
}

static void pump_posted(void *arg)
{
	struct evq *q = arg;
	atomic_store(&q->kick_posted, false);
	pump(q);
}

void evq_kick(struct evq *q)
{
	if (loop_is_loop_thread(q->loop)) {
		pump(q);
		return;
	}
	if (atomic_exchange(&q->kick_posted, true))
		return; /* one is on its way */
	if (loop_post(q->loop, pump_posted, q) < 0) {
		atomic_store(&q->kick_posted, false);
		log_error("event queue: out of memory waking the loop; events wait for the next");
	}
}

/* Under q->mu: an event equal to it (EVQ_COALESCE, topic, bytes) queued behind the head (the
 * head may be in flight, or sent with its answer lost: it does not count as unsent). */
static bool queued_equal(const struct evq *q, const struct evq_item *it)
{
	for (const struct evq_item *o = q->head ? q->head->next : NULL; o; o = o->next)
		if ((o->flags & EVQ_COALESCE) && o->len == it->len &&
		    strcmp(o->topic, it->topic) == 0 && memcmp(o->any, it->any, it->len) == 0)
			return true;
	return false;
}

int evq_publish(struct evq *q, const char *topic, const uint8_t *any, size_t len,
		const struct timespec *ts, unsigned flags, const char *what, void (*done)(void *),
		void *arg)
{
	struct evq_item *it = calloc(1, sizeof(*it));

	if (!it)
		return -ENOMEM;
	it->topic = strdup(topic);
	it->any = malloc(len ? len : 1);
	if (!it->topic || !it->any) {
		item_free(it);
		return -ENOMEM;
	}
	memcpy(it->any, any, len);
	it->len = len;
	if (ts)
		it->ts = *ts;
	else
		clock_gettime(CLOCK_REALTIME, &it->ts);
	if (it->ts.tv_sec == 0 && it->ts.tv_nsec == 0)
		it->ts.tv_nsec = 1; /* containerd refuses a zero timestamp */
	it->flags = flags;
	it->done = done;
	it->arg = arg;
	snprintf(it->what, sizeof(it->what), "%s", what ? what : topic);
	pthread_mutex_lock(&q->mu);
	if ((flags & EVQ_COALESCE) && !done && queued_equal(q, it)) {
		pthread_mutex_unlock(&q->mu);
		log_debug("%s: an equal one is queued, not sent yet: this one dropped", it->what);
		item_free(it);
		return 0;
	}
	*q->tail = it;
	q->tail = &it->next;
	if (++q->n > q->warn_at) {
		log_warn("event queue: %zu events waiting for containerd (none is dropped)", q->n);
		q->warn_at *= 2;
	}
	pthread_mutex_unlock(&q->mu);
	evq_kick(q);
	return 0;
}

size_t evq_pending(struct evq *q)
{
	size_t n;
	pthread_mutex_lock(&q->mu);
	n = q->n;
	pthread_mutex_unlock(&q->mu);
	return n;
}

void evq_free(struct evq *q)
{
	if (!q)
		return;
	ttrpc_client_free(q->cli); /* fails the Forward in flight, if any: its done is not run */
	if (q->retry_w.fd >= 0) {
		(void)loop_del(q->loop, &q->retry_w);
		close(q->retry_w.fd);
	}
	for (struct evq_item *it = q->head, *next; it; it = next) {
		next = it->next;
		item_free(it);
	}
	pthread_mutex_destroy(&q->mu);
	free(q->ns);
	free(q);
}

int evq_new(struct loop *l, const char *ns, const char *ttrpc_path, const struct evq_fallback *fb,
	    struct evq **ret)
{
	struct evq *q = calloc(1, sizeof(*q));
	int r;

	if (!q)
		return -ENOMEM;
	if (!fb && !(ttrpc_path && *ttrpc_path)) {
		free(q);
		return -EINVAL;
	}
	q->loop = l;
	q->retry_w.fd = -1;
	if (fb)
		q->fb = *fb;
	q->tail = &q->head;
	q->warn_at = EVQ_BUDGET;
	pthread_mutex_init(&q->mu, NULL);
	atomic_init(&q->kick_posted, false);
	q->ns = strdup(ns);
	if (!q->ns) {
		free(q);
		return -ENOMEM;
	}
	if (ttrpc_path && *ttrpc_path) {
		r = ttrpc_client_new(l, ttrpc_path, &q->cli);
		if (r < 0) {
			free(q->ns);
			free(q);
			return r;
		}
	}
	if (!fb) {
		q->retry_w.cb = retry_fired;
		q->retry_w.fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
		r = q->retry_w.fd < 0 ? -errno : loop_add(l, &q->retry_w, EPOLLIN);
		if (r < 0) {
			if (q->retry_w.fd >= 0)
				close(q->retry_w.fd);
			ttrpc_client_free(q->cli);
			free(q->ns);
			free(q);
			return r;
		}
	}
	*ret = q;
	return 0;
}
