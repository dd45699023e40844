/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>
#include <urcu/urcu-memb.h>

#include "conn.h"
#include "core/spawn.h"
#include "events.h"
#include "io/fd_util.h"
#include "io/log.h"
#include "io/loop.h"
#include "io/memtrim.h"
#include "io/pump.h"
#include "io/slice.h"
#include "startup.h"
#include "worker_pool.h"

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

void shim_die(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "containerd-shim: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

void startup_early(void)
{
	sigset_t all;
	int r;

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
		shim_die("thread attributes: %s", strerror(-r));
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		shim_die("set subreaper: %s", strerror(errno));
}

int startup_fd3(void)
{
	/* containerd passes the listener, bound and listening, as fd 3 (blocking). */
	struct stat st;
	if (fstat(3, &st) < 0 || !S_ISSOCK(st.st_mode))
		shim_die("fd 3 is not the listening socket (start me from containerd, or use "
			 "-socket)");
	if (fd_set_cloexec(3, true) < 0 || fd_set_nonblock(3, true) < 0)
		shim_die("fd 3: %s", strerror(errno));
	return 3;
}

static void on_exit_event(const char *container_id, const char *id, uint32_t pid,
			  uint32_t exit_status, const struct timespec *exited_at,
			  void (*done)(void *), void *arg)
{
	events_publish_exit(container_id, id, pid, exit_status, exited_at, done, arg);
}

struct term_watch {
	struct loop_watch w;
	struct loop *l;
	const struct startup *s;
};

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
	struct term_watch *tw = (struct term_watch *)w;
	struct signalfd_siginfo si;
	(void)revents;
	if (read(w->fd, &si, sizeof(si)) != sizeof(si))
		return;
	if (tw->s->term_once)
		(void)loop_del(tw->l, w);
	if (thread_start("shim-shutdown", tw->s->on_term, NULL) < 0)
		_exit(0);
}

int startup_run(const struct startup *s, struct loop **ret_loop)
{
	static struct term_watch tw;
	struct call_rcu_data *crd;
	struct loop *l;
	char comm[16] = "";
	sigset_t term;
	int r;

	if (spawn_init_env() < 0)
		shim_die("out of memory");
	urcu_memb_register_thread();
	/* liburcu's call_rcu thread, started now with its own name (a new thread takes its
	 * creator's; started lazily, it would carry a worker's) and before this thread takes
	 * the short slice. */
	prctl(PR_GET_NAME, comm);
	prctl(PR_SET_NAME, "shim-rcu");
	crd = urcu_memb_get_default_call_rcu_data();
	prctl(PR_SET_NAME, comm);
	if (!crd)
		shim_die("call_rcu thread: out of memory");
	events_setup(s->publish_binary, s->cfg.address, s->cfg.ns);
	if ((r = loop_new(&l)) < 0)
		shim_die("event loop: %s", strerror(-r));
	*ret_loop = l;
	if ((r = events_start(l, s->events_retry)) < 0)
		shim_die("events: %s", strerror(-r));
	if ((r = container_setup(&s->cfg, l, s->sink ? s->sink : on_exit_event)) < 0)
		shim_die("process tables: %s", strerror(-r));
	if ((r = worker_pool_init(WORKERS_MAX, WORKER_IDLE_MS)) < 0)
		shim_die("worker pool: %s", strerror(-r));
	if ((r = container_reaper_start()) < 0)
		shim_die("reaper: %s", strerror(-r));
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigaddset(&term, SIGINT);
	tw.w.fd = signalfd(-1, &term, SFD_CLOEXEC | SFD_NONBLOCK);
	tw.w.cb = term_cb;
	tw.l = l;
	tw.s = s;
	if (tw.w.fd < 0 || loop_add(l, &tw.w, EPOLLIN) < 0)
		shim_die("signalfd: %s", strerror(errno));
	if ((r = acceptor_start(l, s->listen_fd)) < 0)
		shim_die("serve: %s", strerror(-r));
	/* A second without events: the burst is over, give its memory back. */
	memtrim_stack_init();
	loop_set_idle(l, IDLE_TRIM_MS, idle_trim, NULL);
	/* This thread answers State, ShimInfo and Wait itself and pumps the stdio, a few
	 * microseconds at a time: with the shortest slice, a request that arrives while the
	 * runtime or the container keep the CPUs busy preempts them instead of queueing behind
	 * their slices. Threads and children it creates reset it (io/slice.h). */
	if ((r = slice_set(SLICE_MIN_NS)) < 0)
		log_debug("short scheduler slice: %s", strerror(-r));
	loop_set_spin(l, LOOP_SPIN_NS);
	log_debug("cshim %s serving namespace %s in %s", s->version, s->cfg.ns, s->cfg.bundle);
	r = loop_run(l);
	log_error("containerd-shim: ttrpc server failure: %s", strerror(-r));
	return 1;
}
