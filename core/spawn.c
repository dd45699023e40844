/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../io/base.h"
#include "../io/slice.h"
#include "spawn.h"

extern char **environ;
static char **child_env;

int spawn_init_env(void)
{
	size_t n = 0, k = 0;
	for (char **e = environ; *e; e++)
		n++;
	child_env = calloc(n + 1, sizeof(char *));
	if (!child_env)
		return -ENOMEM;
	for (char **e = environ; *e; e++)
		if (strncmp(*e, "NOTIFY_SOCKET=", 14) != 0)
			child_env[k++] = *e;
	return 0;
}

char *const *spawn_child_env(void)
{
	return child_env ? child_env : environ;
}

int spawn_find_program(const char *name, char *buf, size_t bufsz)
{
	const char *path = getenv("PATH");
	struct stat st;

	if (!name || !*name)
		return -ENOENT;
	if (strchr(name, '/')) {
		if ((size_t)snprintf(buf, bufsz, "%s", name) >= bufsz)
			return -ENAMETOOLONG;
		return 0;
	}
	if (!path || !*path)
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	while (*path) {
		const char *end = strchrnul(path, ':');
		int len = (int)(end - path);
		if (len == 0)
			snprintf(buf, bufsz, "./%s", name);
		else
			snprintf(buf, bufsz, "%.*s/%s", len, path, name);
		if (stat(buf, &st) == 0 && S_ISREG(st.st_mode) && access(buf, X_OK) == 0)
			return 0;
		path = *end ? end + 1 : end;
	}
	return -ENOENT;
}

/*
 * The child side: raw system calls only (syscall(2)), not even libc's wrappers, which a
 * sanitizer intercepts: the child is a copy of a threaded process taken at any moment, and a
 * wrapper that takes a lock another thread held at that moment would wait for ever (seen
 * under ThreadSanitizer: the child hung in its race report for dup2, and with it the worker
 * waiting for its exec). Reports a failure's errno through errfd and exits.
 */
static __attribute__((noreturn, no_sanitize("thread"))) void child_exec(const struct spawn_opts *o,
									int errfd, int devnull)
{
	uint64_t empty = 0;
	int high[16];
	int e;

	slice_reset(); /* not the loop thread's short slice (io/slice.h) */
	if (o->pdeathsig)
		(void)syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	/* Move every source fd above the target range first so that dup3 cannot clobber a
	 * source that sits in 0..nfds-1. */
	for (int i = 0; i < o->nfds; i++) {
		int src = o->fds[i] >= 0 ? o->fds[i] : devnull;
		high[i] = (int)syscall(SYS_fcntl, src, F_DUPFD_CLOEXEC, 64);
		if (high[i] < 0)
			goto fail;
	}
	for (int i = 0; i < o->nfds; i++) /* high[i] >= 64 > i; flags 0: not CLOEXEC */
		if (syscall(SYS_dup3, high[i], i, 0) < 0)
			goto fail;
	/* Everything else goes at exec (the error pipe too, which must live until then). */
	if (syscall(SYS_close_range, o->nfds, ~0U, CLOSE_RANGE_CLOEXEC) < 0 && errno != ENOSYS)
		goto fail;
	/* Default dispositions for every signal, through the raw system call: glibc's
	 * sigaction() refuses its reserved real-time signals (32, 33), which an ignoring parent
	 * would otherwise pass on to the runtime and the container. */
	for (int sig = 1; sig <= 64; sig++) {
		struct {
			void *handler;
			unsigned long flags;
			void *restorer;
			uint64_t mask;
		} ksa = { .handler = SIG_DFL };
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		(void)syscall(SYS_rt_sigaction, sig, &ksa, NULL, sizeof(ksa.mask));
	}
	if (syscall(SYS_rt_sigprocmask, SIG_SETMASK, &empty, NULL, sizeof(empty)) < 0)
		goto fail;
	if (o->cwd && syscall(SYS_chdir, o->cwd) < 0)
		goto fail;
	if (o->setpgid && syscall(SYS_setpgid, 0, 0) < 0)
		goto fail;
	(void)syscall(SYS_execve, o->path, o->argv, o->envp);
fail:
	e = errno;
	(void)syscall(SYS_write, errfd, &e, sizeof(e));
	(void)syscall(SYS_exit_group, 127);
	__builtin_unreachable();
}

int spawn_process(const struct spawn_opts *o, pid_t *ret_pid, int *ret_pidfd)
{
	_cleanup_close_ int devnull = -1;
	int errpipe[2], pidfd = -1, child_err = 0;
	struct clone_args args = { 0 };
	long pid;
	ssize_t n;

	if (o->nfds > 16)
		return -EINVAL;
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (devnull < 0)
		return -errno;
	if (pipe2(errpipe, O_CLOEXEC) < 0)
		return -errno;
	args.flags = CLONE_PIDFD | CLONE_VFORK;
	args.pidfd = (uint64_t)(uintptr_t)&pidfd;
	args.exit_signal = SIGCHLD;
	pid = syscall(SYS_clone3, &args, sizeof(args));
	if (pid == 0) {
		(void)syscall(SYS_close, errpipe[0]);
		child_exec(o, errpipe[1], devnull);
	}
	close(errpipe[1]);
	if (pid < 0) {
		int r = -errno;
		close(errpipe[0]);
		return r;
	}
	/* CLONE_VFORK: the child has exec'd or exited by now. */
	do {
		n = read(errpipe[0], &child_err, sizeof(child_err));
	} while (n < 0 && errno == EINTR);
	close(errpipe[0]);
	if (n == (ssize_t)sizeof(child_err)) {
		/* The reaper collects the failed child; its status is of no interest. */
		close(pidfd);
		return -child_err;
	}
	*ret_pid = (pid_t)pid;
	if (ret_pidfd)
		*ret_pidfd = pidfd;
	else
		close(pidfd);
	return 0;
}
