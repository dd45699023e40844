/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "events.h"
#include "io/clock.h"
#include "io/log.h"
#include "startup.h"
#include "v2_events.h"
#include "v2_serve.h"
#include "v2_service.h"

#define FLUSH_MS 5000 /* events flushed before exiting, at most (the Go shim's 5 s) */

int v2_serve_flags_parse(int argc, char *const *argv, struct v2_serve_flags *f, char *msg,
			 size_t msgsz)
{
	static const struct {
		const char *name;
		size_t off;
	} str[] = {
		{ "namespace", offsetof(struct v2_serve_flags, ns) },
		{ "id", offsetof(struct v2_serve_flags, id) },
		{ "address", offsetof(struct v2_serve_flags, address) },
		{ "publish-binary", offsetof(struct v2_serve_flags, publish_binary) },
		{ "socket", offsetof(struct v2_serve_flags, socket) },
	};

	*f = (struct v2_serve_flags){
		.ns = "", .id = "", .address = "", .publish_binary = "containerd", .socket = ""
	};
	for (int i = 1; i < argc - 1; i++) {
		const char *a = argv[i], *eq;
		size_t n;
		bool found = false;

		if (a[0] != '-') {
			snprintf(msg, msgsz, "unexpected argument %s", a);
			return -EINVAL;
		}
		a += a[1] == '-' ? 2 : 1;
		eq = strchr(a, '=');
		n = eq ? (size_t)(eq - a) : strlen(a);
		if (n == 5 && strncmp(a, "debug", 5) == 0) {
			f->debug = !eq || strcmp(eq + 1, "true") == 0 || strcmp(eq + 1, "1") == 0;
			continue;
		}
		for (size_t k = 0; k < sizeof(str) / sizeof(str[0]); k++) {
			if (strlen(str[k].name) != n || strncmp(a, str[k].name, n) != 0)
				continue;
			if (!eq && i + 1 >= argc - 1) {
				snprintf(msg, msgsz, "flag needs an argument: -%s", str[k].name);
				return -EINVAL;
			}
			*(const char **)((char *)f + str[k].off) = eq ? eq + 1 : argv[++i];
			found = true;
			break;
		}
		if (!found) {
			snprintf(msg, msgsz, "flag provided but not defined: -%.*s", (int)n, a);
			return -EINVAL;
		}
	}
	if (argc < 2 || strcmp(argv[argc - 1], "serve") != 0) {
		snprintf(msg, msgsz, "the last argument must be serve");
		return -EINVAL;
	}
	if (!*f->ns) {
		snprintf(msg, msgsz, "shim namespace cannot be empty");
		return -EINVAL;
	}
	return 0;
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

/* SIGTERM/SIGINT: exit as Shutdown does when no container is left, else keep serving (spec
 * v2 §1.6: the Go shim exits and containerd then kills the containers; cshim does not). */
static void *term_thread(void *arg)
{
	(void)arg;
	if (container_count() == 0)
		v2_exit();
	log_warn("SIGTERM with %u containers left: serving on", container_count());
	return NULL;
}

int v2_serve_main(int argc, char **argv)
{
	static struct startup st;
	static struct v2_serve_flags f;
	struct loop *l;
	char msg[256];

	if (v2_serve_flags_parse(argc, argv, &f, msg, sizeof(msg)) < 0) {
		fprintf(stderr, "%s\n", msg);
		return 2;
	}
	startup_early();
	log_set_fd(2);
	log_set_debug(f.debug);
	if (!(st.cfg.bundle = getcwd(NULL, 0)))
		shim_die("getcwd: %s", strerror(errno));
	st.listen_fd = startup_fd3();
	socket_path = listener_path(st.listen_fd);
	st.cfg.ns = f.ns;
	st.cfg.workdir = st.cfg.bundle;
	st.cfg.address = f.address;
	st.cfg.containerd_binary = f.publish_binary;
	st.cfg.runtime_root = "/run/containerd/runc";
	st.cfg.criu = "";
	st.publish_binary = f.publish_binary;
	st.on_term = term_thread;
	st.term_once = false;
	st.version = CSHIM_VERSION;
	st.sink = v2_exit_sink;
	dispatch_set_service(v2_service_names, v2_find_method);
	v2_service_setup(v2_exit);
	return startup_run(&st, &l);
}
