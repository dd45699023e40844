/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "core/cgstats.h"
#include "core/container.h"
#include "io/base.h"
#include "io/log.h"
#include "io/loop.h"
#include "v2_oom.h"

struct oom_watch {
	struct loop_watch w; /* first */
	char *id, *dir;
	bool unified;
	uint64_t last_kills; /* unified: the oom_kill count last seen (pkg/oom/v2 lastOOMMap) */
	struct oom_watch *next;
};

/* The watches: loop thread only (changed through loop_call). */
static struct {
	struct loop **lp;
	v2_oom_sink sink;
	struct oom_watch *head;
} O;

void v2_oom_setup(struct loop **lp, v2_oom_sink sink)
{
	O.lp = lp;
	O.sink = sink;
}

static void watch_free(void *arg)
{
	struct oom_watch *o = arg;
	safe_close(o->w.fd);
	free(o->id);
	free(o->dir);
	free(o);
}

/* Loop thread: unlinks and frees o after this batch. */
static void watch_end(struct oom_watch *o)
{
	for (struct oom_watch **pp = &O.head; *pp; pp = &(*pp)->next) {
		if (*pp == o) {
			*pp = o->next;
			break;
		}
	}
	(void)loop_del(*O.lp, &o->w);
	if (loop_defer(*O.lp, watch_free, o) < 0)
		watch_free(o); /* cannot defer: the batch holds no other event of it */
}

/* Unified: a change of memory.events or cgroup.events woke us. An event when oom_kill grew;
 * the watch ends when memory.events is gone or unreadable, or the cgroup is empty (after the
 * read: the kill that emptied it is still reported), as the cgroups v2 EventChan ends. */
static void oom_unified_cb(struct oom_watch *o)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	uint64_t kills;
	int r;

	while (read(o->w.fd, buf, sizeof(buf)) > 0)
		;
	if ((r = cgstats_v2_oom_kill(o->dir, &kills)) < 0) {
		if (r != -ENOENT && r != -ENODEV)
			log_warn("oom watch of %s: memory.events: %s", o->id, strerror(-r));
		watch_end(o);
		return;
	}
	if (kills > o->last_kills) {
		log_debug("oom in %s (oom_kill %llu)", o->id, (unsigned long long)kills);
		O.sink(o->id);
	}
	if (kills > 0)
		o->last_kills = kills;
	if (cgstats_v2_populated(o->dir) != 1)
		watch_end(o);
}

static void oom_cb(struct loop_watch *w, uint32_t revents)
{
	struct oom_watch *o = (struct oom_watch *)w;
	char path[4096];
	uint64_t n;
	(void)revents;

	if (o->unified) {
		oom_unified_cb(o);
		return;
	}
	if (read(w->fd, &n, sizeof(n)) != sizeof(n))
		return;
	snprintf(path, sizeof(path), "%s/memory.oom_control", o->dir);
	if (access(path, F_OK) < 0) { /* the cgroup went away */
		watch_end(o);
		return;
	}
	log_debug("oom in %s", o->id);
	O.sink(o->id);
}

static void add_on_loop(void *arg)
{
	struct oom_watch *o = arg;
	if (loop_add(*O.lp, &o->w, EPOLLIN) < 0) {
		log_warn("oom watch of %s: %s", o->id, strerror(errno));
		watch_free(o);
		return;
	}
	o->next = O.head;
	O.head = o;
}

/* v1: an eventfd on memory.oom_control through cgroup.event_control (pkg/oom/v1). */
static int watch_fd_v1(const char *dir)
{
	_cleanup_close_ int ofd = -1, cfd = -1, efd = -1;
	char path[4096], line[64];
	int n;

	snprintf(path, sizeof(path), "%s/memory.oom_control", dir);
	ofd = open(path, O_RDONLY | O_CLOEXEC);
	snprintf(path, sizeof(path), "%s/cgroup.event_control", dir);
	cfd = open(path, O_WRONLY | O_CLOEXEC);
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (ofd < 0 || cfd < 0 || efd < 0)
		return -errno;
	n = snprintf(line, sizeof(line), "%d %d", efd, ofd);
	if (write(cfd, line, (size_t)n) != n)
		return -errno;
	return TAKE_FD(efd);
}

/* Unified: inotify IN_MODIFY on memory.events and cgroup.events (cgroups v2 MemoryEventFD). */
static int watch_fd_unified(const char *dir)
{
	_cleanup_close_ int fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	char path[4096];

	if (fd < 0)
		return -errno;
	snprintf(path, sizeof(path), "%s/memory.events", dir);
	if (inotify_add_watch(fd, path, IN_MODIFY) < 0)
		return -errno;
	snprintf(path, sizeof(path), "%s/cgroup.events", dir);
	if (inotify_add_watch(fd, path, IN_MODIFY) < 0)
		return -errno;
	return TAKE_FD(fd);
}

int v2_oom_watch_dir(const char *id, const char *dir, bool unified)
{
	struct oom_watch *o;
	int fd;

	if (!O.lp || !*O.lp || !O.sink)
		return -EINVAL;
	fd = unified ? watch_fd_unified(dir) : watch_fd_v1(dir);
	if (fd < 0)
		return fd;
	if (!(o = calloc(1, sizeof(*o))) || !(o->id = strdup(id)) || !(o->dir = strdup(dir))) {
		if (o)
			free(o->id);
		free(o);
		safe_close(fd);
		return -ENOMEM;
	}
	o->unified = unified;
	o->w.fd = fd;
	o->w.cb = oom_cb;
	if (loop_call(*O.lp, add_on_loop, o) < 0) {
		watch_free(o);
		return -EIO;
	}
	return 0;
}

void v2_oom_watch(struct container *c)
{
	_cleanup_free_ char *dir = NULL;
	bool unified;
	int r;

	if (!O.lp || !*O.lp || container_memory_cgroup(c, &dir, &unified) < 0)
		return;
	if ((r = v2_oom_watch_dir(container_id(c), dir, unified)) < 0)
		log_warn("oom watch of %s: %s", container_id(c), strerror(-r));
}

struct unwatch {
	const char *id;
};

static void unwatch_on_loop(void *arg)
{
	struct unwatch *u = arg;
	for (struct oom_watch *o = O.head; o; o = o->next) {
		if (strcmp(o->id, u->id) == 0) {
			watch_end(o);
			return;
		}
	}
}

struct count {
	const char *id;
	size_t n;
};

static void count_on_loop(void *arg)
{
	struct count *k = arg;
	for (struct oom_watch *o = O.head; o; o = o->next)
		k->n += !k->id || strcmp(o->id, k->id) == 0;
}

size_t v2_oom_watching(const char *id)
{
	struct count k = { id, 0 };
	if (O.lp && *O.lp)
		(void)loop_call(*O.lp, count_on_loop, &k);
	return k.n;
}

void v2_oom_unwatch(const char *id)
{
	struct unwatch u = { id };
	if (O.lp && *O.lp)
		(void)loop_call(*O.lp, unwatch_on_loop, &u);
}
