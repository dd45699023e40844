/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/container.h"
#include "github.com/containerd/containerd/api/events/task.pb-c.h"
#include "io/base.h"
#include "io/log.h"
#include "io/loop.h"
#include "v2_events.h"
#include "v2_oom.h"

struct oom_watch {
	struct loop_watch w; /* first */
	char *id, *dir;
	struct oom_watch *next;
};

/* The watches: loop thread only (changed through loop_call). */
static struct {
	struct loop **lp;
	struct oom_watch *head;
} O;

void v2_oom_setup(struct loop **lp)
{
	O.lp = lp;
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

static void oom_cb(struct loop_watch *w, uint32_t revents)
{
	struct oom_watch *o = (struct oom_watch *)w;
	char path[4096];
	uint64_t n;
	(void)revents;

	if (read(w->fd, &n, sizeof(n)) != sizeof(n))
		return;
	snprintf(path, sizeof(path), "%s/memory.oom_control", o->dir);
	if (access(path, F_OK) < 0) { /* the cgroup went away */
		watch_end(o);
		return;
	}
	Containerd__Events__TaskOOM e = CONTAINERD__EVENTS__TASK_OOM__INIT;
	e.container_id = o->id;
	log_debug("oom in %s", o->id);
	v2_event_held("/tasks/oom", "containerd.events.TaskOOM", &e.base);
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

void v2_oom_watch(struct container *c)
{
	_cleanup_free_ char *dir = NULL;
	_cleanup_close_ int ofd = -1, cfd = -1;
	char path[4096], line[64];
	struct oom_watch *o;
	int efd, n;

	if (!O.lp || !*O.lp || container_memory_cgroup(c, &dir) < 0)
		return;
	snprintf(path, sizeof(path), "%s/memory.oom_control", dir);
	ofd = open(path, O_RDONLY | O_CLOEXEC);
	snprintf(path, sizeof(path), "%s/cgroup.event_control", dir);
	cfd = open(path, O_WRONLY | O_CLOEXEC);
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (ofd < 0 || cfd < 0 || efd < 0)
		goto fail;
	n = snprintf(line, sizeof(line), "%d %d", efd, ofd);
	if (write(cfd, line, (size_t)n) != n)
		goto fail;
	if (!(o = calloc(1, sizeof(*o))) || !(o->id = strdup(container_id(c)))) {
		free(o);
		goto fail;
	}
	o->dir = dir;
	dir = NULL;
	o->w.fd = efd;
	o->w.cb = oom_cb;
	if (loop_call(*O.lp, add_on_loop, o) < 0)
		watch_free(o);
	return;
fail:
	log_warn("oom watch of %s: %s", container_id(c), strerror(errno));
	safe_close(efd);
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

void v2_oom_unwatch(const char *id)
{
	struct unwatch u = { id };
	if (O.lp && *O.lp)
		(void)loop_call(*O.lp, unwatch_on_loop, &u);
}
