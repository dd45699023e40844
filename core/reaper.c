/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>
#include <urcu/urcu-memb.h>

#include "../io/base.h"
#include "../io/clock.h"
#include "../io/log.h"
#include "reaper.h"

#define BUCKETS 64
#define UNCLAIMED_MAX 4096
#define UNCLAIMED_TTL_NS (10ULL * 1000000000ULL)

struct claim {
	pid_t pid;
	void *cookie;
	int pidfd; /* the reaper's own dup, watched in epoll */
	struct claim *next;
};

struct unclaimed {
	pid_t pid;
	int status;
	uint64_t mono; /* CLOCK_MONOTONIC at reap: ordered against a start's stamp, and aged */
};

struct reaper_timer {
	uint64_t when;
	void (*fn)(void *);
	void *arg;
	struct reaper_timer *next;
};

static struct {
	pthread_t thread;
	bool started;
	int epfd, sigfd, timerfd, evfd;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct reaper_watch *watches[BUCKETS];
	struct claim *claims[BUCKETS];
	struct unclaimed *unclaimed;
	size_t n_unclaimed, cap_unclaimed;
	int starts_in_flight;
	struct reaper_timer *timers;
	reaper_proc_sink sink;
	atomic_bool stop;                  /* reaper_stop: any thread */
} R = { .mu = PTHREAD_MUTEX_INITIALIZER }; /* cv: clock_cond_init in reaper_start */

uint64_t reaper_now_ns(void)
{
	return clock_mono_ns();
}

/* Whether pid is gone (reaped), asked with R.mu held, so the reaper cannot reap meanwhile.
 * Only ESRCH says so: pidfd_open can also fail for want of an fd (EMFILE, ENFILE) or memory,
 * and then kill(pid, 0) asks again without needing one (a zombie still answers it). */
static bool pid_reaped_locked(pid_t pid, int *ret_pidfd)
{
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (ret_pidfd)
		*ret_pidfd = fd;
	if (fd >= 0) {
		if (!ret_pidfd)
			close(fd);
		return false;
	}
	if (errno == ESRCH)
		return true;
	return kill(pid, 0) < 0 && errno == ESRCH;
}

int reaper_exit_status(int wstatus)
{
	if (WIFSIGNALED(wstatus))
		return 128 + WTERMSIG(wstatus);
	return WEXITSTATUS(wstatus);
}

static unsigned bucket(pid_t pid)
{
	return (unsigned)pid % BUCKETS;
}

void reaper_watch(struct reaper_watch *w)
{
	pthread_mutex_lock(&R.mu);
	/* Reaped before we got here? An entry for the pid may also be the exit of an earlier
	 * process that had the same pid (an orphan): entries expire only when another is added
	 * and no start is in flight, while a fork storm in a host pid namespace goes round a
	 * 32768-pid space in seconds. Reaping and recording an exit are one step under R.mu
	 * (reap_all), so while the pid can still be opened our child is not reaped yet and the
	 * entry is stale. */
	for (size_t i = 0; i < R.n_unclaimed; i++) {
		if (R.unclaimed[i].pid == w->pid) {
			if (!pid_reaped_locked(w->pid, NULL)) {
				R.unclaimed[i] = R.unclaimed[--R.n_unclaimed];
				break;
			}
			w->status = R.unclaimed[i].status;
			w->exited = true;
			R.unclaimed[i] = R.unclaimed[--R.n_unclaimed];
			pthread_mutex_unlock(&R.mu);
			if (w->cb)
				w->cb(w, w->status);
			return;
		}
	}
	w->exited = false;
	w->next = R.watches[bucket(w->pid)];
	R.watches[bucket(w->pid)] = w;
	pthread_mutex_unlock(&R.mu);
}

int reaper_spawn(const struct spawn_opts *o, struct reaper_watch *w, int *ret_pidfd)
{
	pid_t pid;
	int r;

	/* The child runs only system calls and exec (core/spawn.h): it never needs R.mu, and the
	 * vfork-style spawn returns once it has exec'd. */
	pthread_mutex_lock(&R.mu);
	r = spawn_process(o, &pid, ret_pidfd);
	if (r == 0) {
		/* Our child is not reaped while we hold R.mu: an unclaimed exit with its pid is an
		 * earlier process's. */
		for (size_t i = 0; i < R.n_unclaimed; i++) {
			if (R.unclaimed[i].pid == pid) {
				R.unclaimed[i] = R.unclaimed[--R.n_unclaimed];
				break;
			}
		}
		w->pid = pid;
		w->exited = false;
		w->next = R.watches[bucket(pid)];
		R.watches[bucket(pid)] = w;
	}
	pthread_mutex_unlock(&R.mu);
	return r;
}

void reaper_watch_pidfd(struct reaper_watch *w, int pidfd)
{
	siginfo_t si = { 0 };
	bool reaped;

	pthread_mutex_lock(&R.mu);
	/* WNOWAIT: a zombie stays for the reaper; ECHILD: the pidfd's process was reaped. */
	reaped = waitid(P_PIDFD, (id_t)pidfd, &si, WEXITED | WNOHANG | WNOWAIT) < 0 &&
		 errno == ECHILD;
	w->status = -1;
	for (size_t i = 0; i < R.n_unclaimed; i++) {
		if (R.unclaimed[i].pid == w->pid) {
			/* Reaped: ours, unless a later process with the pid overwrote it. Not
			 * reaped: an earlier process's. */
			if (reaped)
				w->status = R.unclaimed[i].status;
			R.unclaimed[i] = R.unclaimed[--R.n_unclaimed];
			break;
		}
	}
	if (reaped) {
		w->exited = true;
		pthread_mutex_unlock(&R.mu);
		if (w->cb)
			w->cb(w, w->status);
		return;
	}
	w->exited = false;
	w->next = R.watches[bucket(w->pid)];
	R.watches[bucket(w->pid)] = w;
	pthread_mutex_unlock(&R.mu);
}

static void unlink_watch_locked(struct reaper_watch *w)
{
	for (struct reaper_watch **pp = &R.watches[bucket(w->pid)]; *pp; pp = &(*pp)->next) {
		if (*pp == w) {
			*pp = w->next;
			return;
		}
	}
}

int reaper_wait(struct reaper_watch *w, int pidfd, uint64_t deadline_ns)
{
	bool killed = false;

	pthread_mutex_lock(&R.mu);
	while (!w->exited) {
		if (deadline_ns && !killed) {
			if (reaper_now_ns() >= deadline_ns) {
				if (pidfd >= 0)
					(void)syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL,
						      0);
				else
					(void)kill(w->pid, SIGKILL);
				killed = true;
				continue;
			}
			(void)clock_cond_timedwait(&R.cv, &R.mu, deadline_ns);
		} else {
			pthread_cond_wait(&R.cv, &R.mu);
		}
	}
	pthread_mutex_unlock(&R.mu);
	return killed ? -ETIMEDOUT : w->status;
}

int reaper_wait_until(struct reaper_watch *w, uint64_t until_ns)
{
	int r = 0;
	pthread_mutex_lock(&R.mu);
	while (!w->exited) {
		if (!until_ns) {
			pthread_cond_wait(&R.cv, &R.mu);
			continue;
		}
		if (reaper_now_ns() >= until_ns) {
			r = -ETIMEDOUT;
			break;
		}
		(void)clock_cond_timedwait(&R.cv, &R.mu, until_ns);
	}
	pthread_mutex_unlock(&R.mu);
	return r < 0 ? r : w->status;
}

uint64_t reaper_start_begin(void)
{
	uint64_t stamp;
	pthread_mutex_lock(&R.mu);
	R.starts_in_flight++;
	stamp = reaper_now_ns();
	pthread_mutex_unlock(&R.mu);
	return stamp;
}

void reaper_start_end(void)
{
	pthread_mutex_lock(&R.mu);
	R.starts_in_flight--;
	pthread_mutex_unlock(&R.mu);
}

int reaper_claim_pid(pid_t pid, void *cookie, uint64_t not_before, int *ret_status, int *ret_pidfd)
{
	struct claim *c;
	int pidfd;
	bool reaped;

	*ret_pidfd = -1;
	pthread_mutex_lock(&R.mu);
	/* Under the lock the reaper cannot dispatch. If the pid can still be opened, the process
	 * is alive or an unreaped zombie: any unclaimed entry for it belongs to an earlier
	 * process that had the same pid. If it cannot, its exit was reaped: take the entry
	 * (reaped after our start began), or the reaper is about to dispatch it to the claim. */
	reaped = pid_reaped_locked(pid, &pidfd);
	for (size_t i = 0; i < R.n_unclaimed; i++) {
		struct unclaimed *u = &R.unclaimed[i];
		if (u->pid != pid)
			continue;
		/* Both stamps are monotonic: a wall-clock step cannot make a fresh exit stale. */
		if (reaped && u->mono >= not_before) {
			*ret_status = u->status;
			R.unclaimed[i] = R.unclaimed[--R.n_unclaimed];
			pthread_mutex_unlock(&R.mu);
			return 1;
		}
		R.unclaimed[i] = R.unclaimed[--R.n_unclaimed];
		break;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		pthread_mutex_unlock(&R.mu);
		safe_close(pidfd);
		return -ENOMEM;
	}
	c->pid = pid;
	c->cookie = cookie;
	c->pidfd = -1;
	if (pidfd >= 0) {
		struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 0 };
		c->pidfd = pidfd;
		(void)epoll_ctl(R.epfd, EPOLL_CTL_ADD, pidfd, &ev);
		*ret_pidfd = fcntl(pidfd, F_DUPFD_CLOEXEC, 3);
	}
	c->next = R.claims[bucket(pid)];
	R.claims[bucket(pid)] = c;
	pthread_mutex_unlock(&R.mu);
	return 0;
}

static struct claim *take_claim_locked(pid_t pid)
{
	for (struct claim **pp = &R.claims[bucket(pid)]; *pp; pp = &(*pp)->next) {
		if ((*pp)->pid == pid) {
			struct claim *c = *pp;
			*pp = c->next;
			return c;
		}
	}
	return NULL;
}

static void claim_free(struct claim *c)
{
	if (c->pidfd >= 0) {
		(void)epoll_ctl(R.epfd, EPOLL_CTL_DEL, c->pidfd, NULL);
		close(c->pidfd);
	}
	free(c);
}

void reaper_unclaim_pid(pid_t pid)
{
	struct claim *c;
	pthread_mutex_lock(&R.mu);
	c = take_claim_locked(pid);
	pthread_mutex_unlock(&R.mu);
	if (c)
		claim_free(c);
}

static void unclaimed_add_locked(pid_t pid, int status)
{
	uint64_t now = reaper_now_ns();
	struct unclaimed *u;

	/* Expire old entries unless a start is in flight (its pid file is not read yet). */
	if (R.starts_in_flight == 0) {
		for (size_t i = 0; i < R.n_unclaimed;) {
			if (now - R.unclaimed[i].mono > UNCLAIMED_TTL_NS)
				R.unclaimed[i] = R.unclaimed[--R.n_unclaimed];
			else
				i++;
		}
	}
	/* Grown on demand: an idle shim keeps a few entries, a fork storm up to the bound. */
	if (R.n_unclaimed == R.cap_unclaimed && R.cap_unclaimed < UNCLAIMED_MAX) {
		size_t ncap = R.cap_unclaimed ? R.cap_unclaimed * 2 : 16;
		struct unclaimed *nu = realloc(R.unclaimed, ncap * sizeof(*nu));
		if (nu) {
			R.unclaimed = nu;
			R.cap_unclaimed = ncap;
		}
	}
	if (!R.unclaimed)
		return;
	for (size_t i = 0; i < R.n_unclaimed; i++) {
		if (R.unclaimed[i].pid == pid) {
			u = &R.unclaimed[i];
			goto fill;
		}
	}
	if (R.n_unclaimed == R.cap_unclaimed) {
		/* Full (a fork storm of orphans): drop the oldest. */
		size_t oldest = 0;
		for (size_t i = 1; i < R.n_unclaimed; i++)
			if (R.unclaimed[i].mono < R.unclaimed[oldest].mono)
				oldest = i;
		u = &R.unclaimed[oldest];
	} else {
		u = &R.unclaimed[R.n_unclaimed++];
	}
fill:
	u->pid = pid;
	u->status = status;
	u->mono = now;
}

/* Called with R.mu held (reap_all); drops it. */
static void dispatch_locked(pid_t pid, int status)
{
	struct reaper_watch *w = NULL;
	struct claim *c = NULL;

	for (w = R.watches[bucket(pid)]; w; w = w->next)
		if (w->pid == pid)
			break;
	if (w) {
		/* A synchronous waiter's watch lives on its stack: once the lock is dropped it
		 * may be gone, so read everything needed before. */
		reaper_cb cb = w->cb;
		unlink_watch_locked(w);
		w->status = status;
		__atomic_store_n(&w->exited, true, __ATOMIC_RELEASE);
		if (!cb)
			pthread_cond_broadcast(&R.cv);
		pthread_mutex_unlock(&R.mu);
		if (cb)
			cb(w, status);
		return;
	}
	c = take_claim_locked(pid);
	if (!c)
		unclaimed_add_locked(pid, status);
	pthread_mutex_unlock(&R.mu);
	if (c) {
		void *cookie = c->cookie;
		claim_free(c);
		R.sink(cookie, status);
	}
}

static void reap_all(void)
{
	for (;;) {
		siginfo_t si;
		int wstatus, r;
		memset(&si, 0, sizeof(si));
		/* Under R.mu: a pid is never seen reaped but not yet recorded (reaper_watch). */
		pthread_mutex_lock(&R.mu);
		r = waitid(P_ALL, 0, &si, WEXITED | WNOHANG);
		if (r < 0 || si.si_pid == 0) {
			int e = errno;
			pthread_mutex_unlock(&R.mu);
			if (r < 0 && e == EINTR)
				continue;
			break; /* ECHILD, or nothing more */
		}
		if (si.si_code == CLD_EXITED)
			wstatus = (si.si_status & 0xff) << 8;
		else
			wstatus = si.si_status & 0x7f; /* killed / dumped */
		dispatch_locked(si.si_pid, reaper_exit_status(wstatus));
	}
}

static void arm_timer_locked(void)
{
	struct itimerspec its = { 0 };
	if (R.timers) {
		its.it_value.tv_sec = (time_t)(R.timers->when / 1000000000ULL);
		its.it_value.tv_nsec = (long)(R.timers->when % 1000000000ULL);
		if (!its.it_value.tv_sec && !its.it_value.tv_nsec)
			its.it_value.tv_nsec = 1;
	}
	(void)timerfd_settime(R.timerfd, TFD_TIMER_ABSTIME, &its, NULL);
}

int reaper_schedule(int delay_ms, void (*fn)(void *), void *arg)
{
	return reaper_schedule_timer(delay_ms, fn, arg, NULL);
}

bool reaper_cancel(struct reaper_timer *t)
{
	bool found = false;
	pthread_mutex_lock(&R.mu);
	for (struct reaper_timer **pp = &R.timers; *pp; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			found = true;
			break;
		}
	}
	pthread_mutex_unlock(&R.mu);
	if (found)
		free(t);
	return found;
}

int reaper_schedule_timer(int delay_ms, void (*fn)(void *), void *arg, struct reaper_timer **ret)
{
	struct reaper_timer *t = calloc(1, sizeof(*t)), **pp;
	if (!t)
		return -ENOMEM;
	t->when = reaper_now_ns() + (uint64_t)delay_ms * 1000000ULL;
	t->fn = fn;
	t->arg = arg;
	pthread_mutex_lock(&R.mu);
	for (pp = &R.timers; *pp && (*pp)->when <= t->when; pp = &(*pp)->next)
		;
	t->next = *pp;
	*pp = t;
	if (ret)
		*ret = t;
	arm_timer_locked();
	pthread_mutex_unlock(&R.mu);
	return 0;
}

static void run_timers(void)
{
	uint64_t v;
	(void)!read(R.timerfd, &v, sizeof(v));
	for (;;) {
		struct reaper_timer *t;
		pthread_mutex_lock(&R.mu);
		t = R.timers;
		if (!t || t->when > reaper_now_ns()) {
			arm_timer_locked();
			pthread_mutex_unlock(&R.mu);
			return;
		}
		R.timers = t->next;
		pthread_mutex_unlock(&R.mu);
		t->fn(t->arg);
		free(t);
	}
}

bool reaper_is_reaper_thread(void)
{
	return R.started && pthread_equal(R.thread, pthread_self());
}

static void *reaper_main(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "shim-reaper");
	urcu_memb_register_thread();
	reap_all(); /* a child that died before we started */
	while (!atomic_load(&R.stop)) {
		struct epoll_event evs[16];
		int n = epoll_wait(R.epfd, evs, ARRAY_SIZE(evs), -1);
		bool reap = false;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_error("reaper: epoll_wait: %s", strerror(errno));
			break;
		}
		for (int i = 0; i < n; i++) {
			if (evs[i].data.u64 == 1) {
				struct signalfd_siginfo si;
				while (read(R.sigfd, &si, sizeof(si)) == sizeof(si))
					;
				reap = true;
			} else if (evs[i].data.u64 == 2) {
				run_timers();
			} else if (evs[i].data.u64 == 3) {
				uint64_t v;
				(void)!read(R.evfd, &v, sizeof(v));
			} else {
				reap = true; /* a pidfd became readable: its process exited */
			}
		}
		if (reap)
			reap_all();
	}
	urcu_memb_unregister_thread();
	return NULL;
}

int reaper_start(reaper_proc_sink sink)
{
	struct epoll_event ev = { .events = EPOLLIN };
	sigset_t set;
	int r;

	R.sink = sink;
	/* reaper_wait's deadlines are monotonic: so must its condvar's clock be. */
	r = clock_cond_init(&R.cv);
	if (r < 0)
		return r;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	R.epfd = epoll_create1(EPOLL_CLOEXEC);
	R.sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	R.timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	R.evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (R.epfd < 0 || R.sigfd < 0 || R.timerfd < 0 || R.evfd < 0)
		return -errno;
	ev.data.u64 = 1;
	if (epoll_ctl(R.epfd, EPOLL_CTL_ADD, R.sigfd, &ev) < 0)
		return -errno;
	ev.data.u64 = 2;
	if (epoll_ctl(R.epfd, EPOLL_CTL_ADD, R.timerfd, &ev) < 0)
		return -errno;
	ev.data.u64 = 3;
	if (epoll_ctl(R.epfd, EPOLL_CTL_ADD, R.evfd, &ev) < 0)
		return -errno;
	r = pthread_create(&R.thread, NULL, reaper_main, NULL);
	if (r)
		return -r;
	R.started = true;
	return 0;
}

void reaper_stop(void)
{
	uint64_t one = 1;
	if (!R.started)
		return;
	atomic_store(&R.stop, true);
	(void)!write(R.evfd, &one, sizeof(one));
	pthread_join(R.thread, NULL);
	R.started = false;
}
