/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/container.h"
#include "core/spawn.h"
#include "dispatch.h"
#include "events.h"
#include "github.com/containerd/containerd/api/events/task.pb-c.h"
#include "io/base.h"
#include "io/clock.h"
#include "io/log.h"
#include "startup.h"
#include "v2_actions.h"
#include "v2_events.h"
#include "v2_oom.h"
#include "v2_serve.h"
#include "v2_service.h"

#define FLUSH_MS 5000 /* events flushed before exiting, at most (the Go shim's 5 s) */

bool v2_serve_available(void)
{
	return true;
}

size_t v2_serve_argv(const struct v2_flags *f, const char *self, char **argv)
{
	size_t n = 0;

	argv[n++] = (char *)self;
	argv[n++] = "-namespace";
	argv[n++] = (char *)f->ns;
	argv[n++] = "-id";
	argv[n++] = (char *)f->id;
	argv[n++] = "-address";
	argv[n++] = (char *)f->address;
	argv[n++] = "-publish-binary";
	argv[n++] = (char *)f->publish_binary;
	if (f->debug)
		argv[n++] = "-debug";
	argv[n++] = V2_SERVE_WORD;
	argv[n] = NULL;
	return n;
}

int v2_open_log(const char *bundle)
{
	_cleanup_free_ char *path = NULL;

	if (asprintf(&path, "%s/log", bundle) < 0)
		return -1;
	return open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
}

int v2_serve_spawn(const struct v2_spawn_args *a, pid_t *ret_pid)
{
	_cleanup_close_ int pidfd = -1;
	int fds[4] = { -1, -1, a->log_fd, a->listen_fd };
	struct spawn_opts o = {
		.path = a->self,
		.argv = a->argv,
		.envp = spawn_child_env(),
		.fds = fds,
		.nfds = 4,
		.cwd = a->bundle,
		.setpgid = true,
	};

	return spawn_process(&o, ret_pid, &pidfd);
}

static char *socket_path; /* the listener's file, unlinked at exit (NULL: abstract) */

static char *listener_path(int fd)
{
	struct sockaddr_un sa;
	socklen_t len = sizeof(sa);

	if (getsockname(fd, (struct sockaddr *)&sa, &len) < 0 || len <= sizeof(sa.sun_family) ||
	    sa.sun_path[0] == '\0')
		return NULL;
	return strndup(sa.sun_path, len - sizeof(sa.sun_family));
}

/* Shutdown with no container left: the queued events go out (at most FLUSH_MS), the socket
 * file goes, the process exits. */
static void v2_exit(void)
{
	uint64_t end = clock_mono_ns() + (uint64_t)FLUSH_MS * 1000000;

	while (events_pending() > 0 && clock_mono_ns() < end)
		usleep(10000);
	if (events_pending() > 0)
		log_warn("exiting with %zu events undelivered", events_pending());
	if (socket_path)
		(void)unlink(socket_path);
	log_debug("shutdown: no container left, exiting");
	SHIM_LEAK_CHECK();
	_exit(0);
}

/* Loop thread: an OOM of container id, held in order with the other events. */
static void v2_oom_publish(const char *id)
{
	Containerd__Events__TaskOOM e = CONTAINERD__EVENTS__TASK_OOM__INIT;
	e.container_id = (char *)id;
	v2_event_held("/tasks/oom", "containerd.events.TaskOOM", &e.base);
}

/* SIGTERM/SIGINT: exit as Shutdown does when no container is left, else keep serving
 * (docs/v2-protocol.md §10.2: the Go shim exits and containerd then kills the containers). */
static void *term_thread(void *arg)
{
	(void)arg;
	if (container_count() == 0)
		v2_exit();
	log_warn("SIGTERM with %u containers left: serving on", container_count());
	return NULL;
}

int v2_serve_main(const struct v2_flags *f)
{
	static struct startup st;
	static struct loop *l;

	startup_early();
	log_set_fd(2);
	log_set_debug(f->debug);
	if (!(st.cfg.bundle = getcwd(NULL, 0)))
		shim_die("getcwd: %s", strerror(errno));
	st.listen_fd = startup_fd3();
	socket_path = listener_path(st.listen_fd);
	st.cfg.ns = f->ns;
	st.cfg.workdir = st.cfg.bundle;
	st.cfg.address = f->address;
	st.cfg.containerd_binary = f->publish_binary;
	st.cfg.runtime_root = "/run/containerd/runc";
	st.cfg.criu = "";
	/* m_start publishes /tasks/start itself and holds exits until then (v2_events.c): the
	 * core's exit gate, v1's 50 ms hold for Docker 20.10, would only delay them. */
	st.cfg.front_end_orders_starts = true;
	st.publish_binary = f->publish_binary;
	/* runc-v2 publishes over ttrpc only; its 5 retries lose an event while containerd
	 * restarts (docs/v2-protocol.md §10.1): cshim's wait in the queue and are retried. */
	st.events_retry = true;
	st.on_term = term_thread;
	st.term_once = false;
	st.version = CSHIM_VERSION;
	st.sink = v2_exit_sink;
	dispatch_set_service(v2_service_names, v2_find_method);
	v2_service_setup(v2_exit);
	v2_oom_setup(&l, v2_oom_publish);
	return startup_run(&st, &l);
}
