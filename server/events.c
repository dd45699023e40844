/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/reaper.h"
#include "core/spawn.h"
#include "event_queue.h"
#include "events.h"
#include "github.com/containerd/containerd/api/events/task.pb-c.h"
#include "google/protobuf/any.pb-c.h"
#include "google/protobuf/timestamp.pb-c.h"
#include "io/base.h"
#include "io/fd_util.h"
#include "io/log.h"
#include "io/loop.h"

#define PUBLISH_ATTEMPTS 5
#define PUBLISH_TIMEOUT_MS 30000

/*
 * The fallback: `containerd publish`, one child per event (what the Go v1 shim does), used
 * when containerd's ttrpc socket does not answer (event_queue.h).
 *
 * Publishers run side by side, so a slow one would let a later event overtake an earlier one.
 * An init's exit must reach containerd after the exits of the container's execs
 * (docs/v1-protocol.md §6.4; runc kill --all, or a pid namespace torn down, ends them together):
 * its publisher is handed the event at once, but the write end of its stdin stays open until every
 * earlier publication is done. `containerd publish` reads stdin to EOF, so it waits; if the shim
 * dies first, the kernel closes the pipe and the event still goes out.
 */
static struct {
	const char *binary;
	const char *address, *ns;
	pthread_mutex_t mu;      /* the list below and every pub's gate */
	struct pub *head, *tail; /* unfinished publications, oldest first */
	struct evq *q;           /* the ordered queue in front (NULL before events_start) */
} E = { .mu = PTHREAD_MUTEX_INITIALIZER };

struct pub {
	struct reaper_watch w; /* first: the reaper hands it back */
	uint8_t *data;
	size_t len;
	char *topic;
	int attempt;
	int out_r;
	int pidfd;
	atomic_int refs; /* the exit callback's and the timeout timer's */
	atomic_bool exited;
	struct reaper_timer *timer; /* this attempt's timeout, cancelled at the exit */
	void *timer_arg;
	char what[128];
	bool last;               /* an init's exit: delivered after every earlier event */
	int gate;                /* held write end of the publisher's stdin, or -1 */
	struct pub *prev, *next; /* E's list */
};

static void pub_spawn(struct pub *p);

/* Opens the gate of the oldest unfinished publication, if it waits (E.mu held). */
static int gate_take_locked(void)
{
	int fd = -1;
	if (E.head && E.head->gate >= 0) {
		fd = E.head->gate;
		E.head->gate = -1;
	}
	return fd;
}

/* The publication is over (published, or given up): the next one may go. */
static void pub_finish(struct pub *p)
{
	int fd;
	pthread_mutex_lock(&E.mu);
	if (p->prev)
		p->prev->next = p->next;
	else if (E.head == p)
		E.head = p->next;
	if (p->next)
		p->next->prev = p->prev;
	else if (E.tail == p)
		E.tail = p->prev;
	p->prev = p->next = NULL;
	if (p->gate >= 0) {
		close(p->gate);
		p->gate = -1;
	}
	fd = gate_take_locked();
	bool idle = !E.head;
	pthread_mutex_unlock(&E.mu);
	safe_close(fd);
	if (idle && E.q)
		evq_kick(E.q); /* later events may go over ttrpc again */
}

static void pub_unref(struct pub *p)
{
	if (atomic_fetch_sub(&p->refs, 1) != 1)
		return;
	free(p->data);
	free(p->topic);
	free(p);
}

void events_setup(const char *containerd_binary, const char *address, const char *ns)
{
	E.binary = containerd_binary;
	E.address = address;
	E.ns = ns;
}

uint8_t *events_encode_exit(const char *container_id, const char *id, uint32_t pid,
			    uint32_t exit_status, const struct timespec *exited_at, size_t *ret_len)
{
	Containerd__Events__TaskExit ev = CONTAINERD__EVENTS__TASK_EXIT__INIT;
	Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
	Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
	uint8_t *inner, *out;
	size_t n;

	ev.container_id = (char *)container_id;
	ev.id = (char *)id;
	ev.pid = pid;
	ev.exit_status = exit_status;
	ts.seconds = exited_at->tv_sec;
	ts.nanos = (int32_t)exited_at->tv_nsec;
	ev.exited_at = &ts;
	n = containerd__events__task_exit__get_packed_size(&ev);
	inner = malloc(n ? n : 1);
	if (!inner)
		return NULL;
	containerd__events__task_exit__pack(&ev, inner);
	any.type_url = (char *)"containerd.events.TaskExit";
	any.value.data = inner;
	any.value.len = n;
	n = google__protobuf__any__get_packed_size(&any);
	out = malloc(n);
	if (out) {
		google__protobuf__any__pack(&any, out);
		*ret_len = n;
	}
	free(inner);
	return out;
}

static void pub_retry(void *arg)
{
	pub_spawn(arg);
}

static void pub_exited(struct reaper_watch *w, int status)
{
	struct pub *p = (struct pub *)w;
	char out[1024] = "";
	ssize_t n;

	atomic_store(&p->exited, true);
	/* The timeout of this attempt is moot: drop it and its reference now rather than keep
	 * every publisher of the last 30 s alive. */
	if (p->timer && reaper_cancel(p->timer)) {
		free(p->timer_arg);
		p->timer = NULL;
		atomic_fetch_sub(&p->refs, 1); /* the chain's reference remains */
	}
	p->timer = NULL;
	n = read(p->out_r, out, sizeof(out) - 1);
	if (n > 0) {
		out[n] = '\0';
		if (out[n - 1] == '\n')
			out[n - 1] = '\0';
	}
	p->out_r = safe_close(p->out_r);
	p->pidfd = safe_close(p->pidfd);
	pthread_mutex_lock(&E.mu);
	if (p->gate >= 0) { /* ended while it waited (killed at its timeout) */
		close(p->gate);
		p->gate = -1;
	}
	pthread_mutex_unlock(&E.mu);
	if (status == 0) {
		log_debug("published %s", p->what);
		pub_finish(p);
		pub_unref(p);
		return;
	}
	if (p->attempt >= PUBLISH_ATTEMPTS) {
		log_error("failed to publish event %s after %d attempts: %s", p->what, p->attempt,
			  out);
		pub_finish(p);
		pub_unref(p);
		return;
	}
	log_warn("failed to publish event %s (attempt %d): exit status %d: %s; retrying", p->what,
		 p->attempt, status, out);
	/* The timer of this attempt still holds its reference; take one for the next. */
	(void)reaper_schedule(1000 * p->attempt, pub_retry, p);
}

struct pub_timer {
	struct pub *p;
	int attempt;
};

static void pub_timeout(void *arg)
{
	struct pub_timer *t = arg;
	struct pub *p = t->p;

	/* Still running the same attempt: kill it; its exit (status 137) leads to a retry. */
	if (p->attempt == t->attempt && !atomic_load(&p->exited) && p->pidfd >= 0) {
		log_warn("timeout %ds for publisher pid %d: killing it", PUBLISH_TIMEOUT_MS / 1000,
			 p->w.pid);
		(void)syscall(SYS_pidfd_send_signal, p->pidfd, SIGKILL, NULL, 0);
	}
	free(t);
	pub_unref(p);
}

static void pub_spawn(struct pub *p)
{
	const char *argv[] = { E.binary, "--address",   E.address, "publish", "--topic",
			       p->topic, "--namespace", E.ns,      NULL };
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, fds[3];
	struct spawn_opts o = { 0 };
	char path[4096];
	int r;

	p->attempt++;
	r = spawn_find_program(E.binary, path, sizeof(path));
	if (r < 0)
		goto fail;
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0) {
		r = -errno;
		goto fail;
	}
	/* The Any is small: it fits the pipe, so it is written (and closed) before the
	 * publisher even runs: handed over. An init's exit behind other publications keeps the
	 * write end (CLOEXEC: no other child gets it) until they are done. */
	r = fd_write_all(in[1], p->data, p->len);
	if (r < 0)
		goto fail;
	pthread_mutex_lock(&E.mu);
	if (p->last && E.head != p) {
		p->gate = in[1];
		in[1] = -1;
	}
	pthread_mutex_unlock(&E.mu);
	in[1] = safe_close(in[1]);
	(void)fd_set_nonblock(out[0], true);
	fds[0] = in[0];
	fds[1] = fds[2] = out[1];
	o.path = path;
	o.argv = (char *const *)argv;
	o.envp = spawn_child_env();
	o.fds = fds;
	o.nfds = 3;
	/* Everything the exit callback and the timeout use is set before the spawn: the
	 * callback may run as soon as reaper_spawn returns. */
	p->out_r = out[0];
	atomic_store(&p->exited, false);
	p->w.cb = pub_exited;
	/* A second reference for the timeout timer of this attempt. */
	{
		struct pub_timer *t = malloc(sizeof(*t));
		if (t) {
			t->p = p;
			t->attempt = p->attempt;
			atomic_fetch_add(&p->refs, 1);
			p->timer_arg = t;
			if (reaper_schedule_timer(PUBLISH_TIMEOUT_MS, pub_timeout, t, &p->timer) <
			    0) {
				free(t);
				p->timer = NULL;
				atomic_fetch_sub(&p->refs, 1);
			}
		}
	}
	r = reaper_spawn(&o, &p->w, &p->pidfd);
	in[0] = safe_close(in[0]);
	out[1] = safe_close(out[1]);
	if (r >= 0)
		return;
	p->out_r = -1; /* out[0] is closed below */
	if (p->timer && reaper_cancel(p->timer)) {
		free(p->timer_arg);
		atomic_fetch_sub(&p->refs, 1);
	}
	p->timer = NULL;
fail:
	safe_close(in[0]);
	safe_close(in[1]);
	safe_close(out[0]);
	safe_close(out[1]);
	log_error("failed to publish event %s: %s", p->what, strerror(-r));
	pthread_mutex_lock(&E.mu);
	if (p->gate >= 0) {
		close(p->gate);
		p->gate = -1;
	}
	pthread_mutex_unlock(&E.mu);
	if (p->attempt < PUBLISH_ATTEMPTS) {
		(void)reaper_schedule(1000 * p->attempt, pub_retry, p);
	} else {
		pub_finish(p);
		pub_unref(p);
	}
}

static bool fallback_busy(void *ctx)
{
	bool busy;
	(void)ctx;
	pthread_mutex_lock(&E.mu);
	busy = E.head != NULL;
	pthread_mutex_unlock(&E.mu);
	return busy;
}

static void fallback_publish(void *ctx, const char *topic, const uint8_t *any, size_t len,
			     unsigned flags, const char *what)
{
	struct pub *p = calloc(1, sizeof(*p));

	(void)ctx;
	if (p) {
		p->data = malloc(len ? len : 1);
		p->topic = strdup(topic);
	}
	if (!p || !p->data || !p->topic) {
		log_error("out of memory: event %s lost", what);
		if (p) {
			free(p->data);
			free(p->topic);
		}
		free(p);
		return;
	}
	memcpy(p->data, any, len);
	p->len = len;
	p->out_r = p->pidfd = p->gate = -1;
	p->last = flags & EVQ_BARRIER;
	atomic_init(&p->refs, 1);
	snprintf(p->what, sizeof(p->what), "%s", what);
	pthread_mutex_lock(&E.mu);
	p->prev = E.tail;
	if (E.tail)
		E.tail->next = p;
	else
		E.head = p;
	E.tail = p;
	pthread_mutex_unlock(&E.mu);
	pub_spawn(p);
}

int events_start(struct loop *l, bool retry)
{
	const struct evq_fallback fb = { .publish = fallback_publish, .busy = fallback_busy };
	char *path = evq_ttrpc_address(E.address, getenv("TTRPC_ADDRESS"));
	bool no_fb = retry && path;
	int r = evq_new(l, E.ns, path, no_fb ? NULL : &fb, &E.q);
	if (r == 0 && no_fb)
		log_debug("events: ttrpc %s, retried until taken", path);
	else if (r == 0)
		log_debug("events: ttrpc %s, fallback %s publish", path ? path : "(none)",
			  E.binary);
	free(path);
	return r;
}

void events_publish_exit(const char *container_id, const char *id, uint32_t pid,
			 uint32_t exit_status, const struct timespec *exited_at,
			 void (*done)(void *), void *arg)
{
	char what[128];
	unsigned flags = strcmp(id, container_id) == 0 ? EVQ_BARRIER : 0;
	size_t len = 0;
	uint8_t *any = events_encode_exit(container_id, id, pid, exit_status, exited_at, &len);
	int r = -ENOMEM;

	snprintf(what, sizeof(what), "/tasks/exit (%s pid %u status %u)", id, pid, exit_status);
	if (!any) {
		log_error("out of memory: exit event of %s lost", id);
	} else if (E.q) {
		r = evq_publish(E.q, "/tasks/exit", any, len, NULL, flags, what, done, arg);
		if (r == 0) {
			free(any);
			return;
		}
	}
	if (any) /* no queue (out of memory): straight to the fallback */
		fallback_publish(NULL, "/tasks/exit", any, len, flags, what);
	free(any);
	if (done)
		done(arg);
}

void events_publish(const char *topic, const uint8_t *any, size_t len, unsigned flags,
		    const char *what, void (*done)(void *), void *arg)
{
	if (E.q && evq_publish(E.q, topic, any, len, NULL, flags, what, done, arg) == 0)
		return;
	fallback_publish(NULL, topic, any, len, 0, what);
	if (done)
		done(arg);
}

size_t events_pending(void)
{
	return E.q ? evq_pending(E.q) : 0;
}
