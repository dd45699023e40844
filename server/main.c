/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cshim: containerd's v1 shim (containerd-shim) in C. Start-up order: flags, signals blocked
 * (before any thread exists), the log FIFOs, subreaper, the listener, the reaper thread, then
 * the loop on the main thread (acceptor, connections, stdio copies).
 */
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <urcu/urcu-memb.h>

#include "conn.h"
#include "dispatch.h"
#include "core/container.h"
#include "flags.h"
#include "io/log.h"
#include "startup.h"
#include "v2_cli.h"

/* jemalloc's configuration (malloc_conf) and how it was chosen: io/memtrim.c. */

#define die shim_die

/* WORKDIR/shim.stdout.log and shim.stderr.log: FIFOs containerd reads, kept open read-write
 * for the shim's lifetime (never blocks, never EPIPE). Logs go to the stdout one. */
static int open_log_fifo(const char *workdir, const char *name)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", workdir, name);
	if (mkfifo(path, 0700) < 0 && errno != EEXIST)
		return -errno;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NONBLOCK, 0700);
	return fd < 0 ? -errno : fd;
}

static int listen_socket(const char *spec)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t len;
	int fd;

	if (strlen(spec) > 106)
		die("socket address %s is too long", spec);
	if (strncmp(spec, "unix://", 7) == 0) {
		const char *path = spec + 7;
		if (strlen(path) >= sizeof(sa.sun_path))
			die("socket path too long");
		strcpy(sa.sun_path, path);
		len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1);
	} else {
		/* Like the Go shim: anything else is an abstract address. */
		sa.sun_path[0] = '\0';
		memcpy(sa.sun_path + 1, spec, strlen(spec));
		len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(spec));
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		die("socket: %s", strerror(errno));
	umask(077);
	if (bind(fd, (struct sockaddr *)&sa, len) < 0)
		die("bind %s: %s", spec, strerror(errno));
	if (sa.sun_path[0] && chmod(sa.sun_path, 0600) < 0)
		die("chmod %s: %s", sa.sun_path, strerror(errno));
	if (listen(fd, 4096) < 0)
		die("listen: %s", strerror(errno));
	return fd;
}

/* SIGTERM/SIGINT (containerd 1.6 never sends them): kill the container, delete it, exit. */
static void *shutdown_thread(void *arg)
{
	(void)arg;
	urcu_memb_register_thread();
	log_info("shutting down: killing and deleting the container");
	service_shutdown();
	/* Under ASan, leak detection at exit: _exit skips LeakSanitizer's atexit check (make
	 * asan stops the shims under test with SIGTERM so that this runs). */
	SHIM_LEAK_CHECK();
	_exit(0);
}

int main(int argc, char **argv)
{
	static struct startup st;
	struct shim_config *cfg = &st.cfg;
	struct shim_flags f;
	struct loop *l;
	char msg[256];

	/* The runtime v2 front end (start/delete/-info, and its long-running process): its own
	 * flags and actions (server/v2_cli.c). Every other argv is containerd's v1 call. */
	if (v2_cli_selected(argc, argv))
		return v2_main(argc, argv);
	switch (flags_parse(argc, argv, &f, msg, sizeof(msg))) {
	case FLAGS_USAGE_ERROR:
		fprintf(stderr, "%s\n", msg);
		flags_usage(argv[0], 2);
		return 2;
	case FLAGS_EXIT_OK:
		if (f.version) {
			printf("cshim %s (containerd v1 shim API)\n", CSHIM_VERSION);
			return 0;
		}
		flags_usage(argv[0], 2);
		return 0;
	case FLAGS_OK: break;
	}
	if (!*f.ns)
		die("shim namespace cannot be empty");

	startup_early();
	if (*f.workdir) {
		int out = open_log_fifo(f.workdir, "shim.stdout.log");
		int err = out >= 0 ? open_log_fifo(f.workdir, "shim.stderr.log") : out;
		if (out < 0 || err < 0)
			die("open %s/shim.std*.log: %s", f.workdir,
			    strerror(-(out < 0 ? out : err)));
		log_set_fd(out); /* err stays open: containerd's keep-alive pair */
	}
	log_set_debug(f.debug);
	if (!(cfg->bundle = getcwd(NULL, 0)))
		die("getcwd: %s", strerror(errno));
	st.listen_fd = *f.socket ? listen_socket(f.socket) : startup_fd3();
	cfg->ns = f.ns;
	cfg->workdir = f.workdir;
	cfg->address = f.address;
	cfg->containerd_binary = f.containerd_binary;
	cfg->runtime_root = f.runtime_root;
	cfg->criu = f.criu;
	cfg->systemd_cgroup = f.systemd_cgroup;
	st.publish_binary = f.containerd_binary;
	st.on_term = shutdown_thread;
	st.term_once = true;
	st.version = CSHIM_VERSION;
	service_setup(cfg->bundle);
	return startup_run(&st, &l);
}
