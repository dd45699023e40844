/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cshim: containerd's v1 shim (containerd-shim) in C. Start-up order: flags, signals blocked
 * (before any thread exists), the log FIFOs, subreaper, the listener, the reaper thread, then
 * the loop on the main thread (acceptor, connections, stdio copies).
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <urcu/urcu-memb.h>

#include "conn.h"
#include "dispatch.h"
#include "core/container.h"
#include "core/spawn.h"
#include "events.h"
#include "flags.h"
#include "io/base.h"
#include "io/fd_util.h"
#include "io/log.h"
#include "io/loop.h"
#include "io/memtrim.h"
#include "io/pump.h"
#include "io/slice.h"
#include "v2_cli.h"
#include "worker_pool.h"

#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/lsan_interface.h>
#define SHIM_LEAK_CHECK() __lsan_do_leak_check()
#else
#define SHIM_LEAK_CHECK()                                                                          \
	do {                                                                                       \
	} while (0)
#endif

#ifndef CSHIM_VERSION
#define CSHIM_VERSION "0.1.0"
#endif

/* jemalloc's configuration (malloc_conf) and how it was chosen: io/memtrim.c. */

#define WORKERS_MAX 16
#define WORKER_IDLE_MS 10000
#define IDLE_TRIM_MS 1000
/* How long the loop thread polls after a batch when its client answers that fast (io/loop.h).
 * A closed loop of State on one connection (`cshim-bench compare`, 3 rounds), 0 against
 * 50 us: the C client 3.3-4.5x the requests/s, p50 0.2x, shim CPU per request 0.5x (no
 * sleep and wake-up across CPUs, ~40 us each on this VM); containerd's own Go client answers
 * in ~80 us, so 50 us did nothing for it; 150 us against 50: p50 0.53-0.59x, shim CPU per
 * request 1.4-1.6x (bench/indep.sh, 2 rounds). 8 and 64 connections: no change beyond the
 * noise. */
#define LOOP_SPIN_NS 150000

static struct loop *main_loop;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "containerd-shim: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

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

static void on_exit_event(const char *container_id, const char *id, uint32_t pid,
			  uint32_t exit_status, const struct timespec *exited_at,
			  void (*done)(void *), void *arg)
{
	events_publish_exit(container_id, id, pid, exit_status, exited_at, done, arg);
}

/* SIGTERM/SIGINT (containerd 1.6 never sends them): kill the container, delete it, exit. */
struct term_watch {
	struct loop_watch w;
};

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

/* The loop has been idle for IDLE_TRIM_MS: what a burst used goes back to the kernel. */
static void idle_trim(void *arg)
{
	(void)arg;
	acceptor_release_buffer();
	pump_release_buffer();
	memtrim();
	memtrim_stack();
}

static void term_cb(struct loop_watch *w, uint32_t revents)
{
	struct signalfd_siginfo si;
	(void)revents;
	if (read(w->fd, &si, sizeof(si)) != sizeof(si))
		return;
	(void)loop_del(main_loop, w);
	if (thread_start("shim-shutdown", shutdown_thread, NULL) < 0)
		_exit(0);
}

int main(int argc, char **argv)
{
	static struct term_watch tw;
	struct shim_config cfg = { 0 };
	struct shim_flags f;
	struct call_rcu_data *crd;
	sigset_t all, term;
	char msg[256], comm[16] = "";
	int listen_fd, r;

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

	/* Every async signal blocked before any thread exists: the reaper reads SIGCHLD from a
	 * signalfd, the loop SIGTERM/SIGINT. SIGPIPE is ignored (fd 1/2 lose their reader when
	 * containerd restarts). */
	sigfillset(&all);
	sigdelset(&all, SIGSEGV);
	sigdelset(&all, SIGBUS);
	sigdelset(&all, SIGFPE);
	sigdelset(&all, SIGILL);
	sigdelset(&all, SIGABRT);
	sigdelset(&all, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	signal(SIGPIPE, SIG_IGN);
	if ((r = thread_defaults_init()) < 0)
		die("thread attributes: %s", strerror(-r));

	if (*f.workdir) {
		int out = open_log_fifo(f.workdir, "shim.stdout.log");
		int err = out >= 0 ? open_log_fifo(f.workdir, "shim.stderr.log") : out;
		if (out < 0 || err < 0)
			die("open %s/shim.std*.log: %s", f.workdir,
			    strerror(-(out < 0 ? out : err)));
		log_set_fd(out); /* err stays open: containerd's keep-alive pair */
	}
	log_set_debug(f.debug);
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		die("set subreaper: %s", strerror(errno));
	if (!(cfg.bundle = getcwd(NULL, 0)))
		die("getcwd: %s", strerror(errno));

	if (*f.socket) {
		listen_fd = listen_socket(f.socket);
	} else {
		/* containerd passes the listener, bound and listening, as fd 3 (blocking). */
		struct stat st;
		if (fstat(3, &st) < 0 || !S_ISSOCK(st.st_mode))
			die("fd 3 is not the listening socket (start me from containerd, or use "
			    "-socket)");
		listen_fd = 3;
		if (fd_set_cloexec(listen_fd, true) < 0 || fd_set_nonblock(listen_fd, true) < 0)
			die("fd 3: %s", strerror(errno));
	}

	if (spawn_init_env() < 0)
		die("out of memory");
	urcu_memb_register_thread();
	/* liburcu's call_rcu thread, started now with its own name (a new thread takes its
	 * creator's; started lazily, it would carry a worker's) and before this thread takes
	 * the short slice. */
	prctl(PR_GET_NAME, comm);
	prctl(PR_SET_NAME, "shim-rcu");
	crd = urcu_memb_get_default_call_rcu_data();
	prctl(PR_SET_NAME, comm);
	if (!crd)
		die("call_rcu thread: out of memory");
	cfg.ns = f.ns;
	cfg.workdir = f.workdir;
	cfg.address = f.address;
	cfg.containerd_binary = f.containerd_binary;
	cfg.runtime_root = f.runtime_root;
	cfg.criu = f.criu;
	cfg.systemd_cgroup = f.systemd_cgroup;
	events_setup(f.containerd_binary, f.address, f.ns);
	service_setup(cfg.bundle);
	if ((r = loop_new(&main_loop)) < 0)
		die("event loop: %s", strerror(-r));
	if ((r = events_start(main_loop)) < 0)
		die("events: %s", strerror(-r));
	if ((r = container_setup(&cfg, main_loop, on_exit_event)) < 0)
		die("process tables: %s", strerror(-r));
	if ((r = worker_pool_init(WORKERS_MAX, WORKER_IDLE_MS)) < 0)
		die("worker pool: %s", strerror(-r));
	if ((r = container_reaper_start()) < 0)
		die("reaper: %s", strerror(-r));
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigaddset(&term, SIGINT);
	tw.w.fd = signalfd(-1, &term, SFD_CLOEXEC | SFD_NONBLOCK);
	tw.w.cb = term_cb;
	if (tw.w.fd < 0 || loop_add(main_loop, &tw.w, EPOLLIN) < 0)
		die("signalfd: %s", strerror(errno));
	if ((r = acceptor_start(main_loop, listen_fd)) < 0)
		die("serve: %s", strerror(-r));
	/* A second without events: the burst is over, give its memory back. */
	memtrim_stack_init();
	loop_set_idle(main_loop, IDLE_TRIM_MS, idle_trim, NULL);
	/* This thread answers State, ShimInfo and Wait itself and pumps the stdio, a few
	 * microseconds at a time: with the shortest slice, a request that arrives while the
	 * runtime or the container keep the CPUs busy preempts them instead of queueing behind
	 * their slices. Threads and children it creates reset it (io/slice.h). */
	if ((r = slice_set(SLICE_MIN_NS)) < 0)
		log_debug("short scheduler slice: %s", strerror(-r));
	loop_set_spin(main_loop, LOOP_SPIN_NS);
	log_debug("cshim %s serving namespace %s in %s", CSHIM_VERSION, f.ns, cfg.bundle);
	r = loop_run(main_loop);
	log_error("containerd-shim: ttrpc server failure: %s", strerror(-r));
	return 1;
}
