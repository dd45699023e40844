/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base.h"
#include "fd_util.h"
#include "pty.h"
#include "pump.h"
#include "stdio.h"

static void stdio_reset(struct stdio *io)
{
	for (int i = 0; i < 3; i++)
		io->pump[i] = NULL;
	for (int i = 0; i < 3; i++)
		io->rt_fd[i] = -1;
	io->in_src = io->in_keep = io->in_pipe_w = -1;
	io->out_pipe_r[0] = io->out_pipe_r[1] = -1;
	io->out_dst[0] = io->out_dst[1] = -1;
	io->console = NULL;
	io->terminal = false;
}

/*
 * The pty master of a terminal process, shared by the stdio and the stdin pump: when stdin
 * reaches its end (the client closed it and CloseIO dropped the keep-alive), the console is
 * shut down, as in the Go shim: every master fd is closed and the container gets a hangup.
 */
struct console {
	atomic_int refs;
	pthread_mutex_t mu;
	int fd;           /* the master, for resize */
	struct pump *out; /* the copy that reads a dup of the master */
};

static struct console *console_ref(struct console *c)
{
	atomic_fetch_add(&c->refs, 1);
	return c;
}

static void console_unref(struct console *c)
{
	if (!c || atomic_fetch_sub(&c->refs, 1) != 1)
		return;
	pthread_mutex_destroy(&c->mu);
	free(c);
}

static void console_shutdown(struct console *c)
{
	pthread_mutex_lock(&c->mu);
	c->fd = safe_close(c->fd);
	if (c->out) {
		pump_close(c->out); /* drops the console's reference to it */
		c->out = NULL;
	}
	pthread_mutex_unlock(&c->mu);
}

/* End of the stdin copy of a terminal process. */
static void console_stdin_end(void *arg, bool eof)
{
	struct console *c = arg;
	if (eof)
		console_shutdown(c);
	console_unref(c);
}

void stdio_init(struct stdio *io)
{
	memset(io, 0, sizeof(*io));
	pthread_mutex_init(&io->mu, NULL);
	stdio_reset(io);
}

void stdio_move(struct stdio *to, struct stdio *from)
{
	pthread_mutex_lock(&to->mu);
	memcpy(to->rt_fd, from->rt_fd, sizeof(to->rt_fd));
	to->in_src = from->in_src;
	to->in_keep = from->in_keep;
	to->in_pipe_w = from->in_pipe_w;
	memcpy(to->out_pipe_r, from->out_pipe_r, sizeof(to->out_pipe_r));
	memcpy(to->out_dst, from->out_dst, sizeof(to->out_dst));
	memcpy(to->pump, from->pump, sizeof(to->pump));
	to->terminal = from->terminal;
	to->console = from->console;
	from->console = NULL;
	pthread_mutex_unlock(&to->mu);
	stdio_reset(from);
}

const char *stdio_uri_scheme(const char *uri, char *scheme, size_t scheme_sz)
{
	const char *sep = strstr(uri, "://");
	size_t n;

	if (!sep) {
		snprintf(scheme, scheme_sz, "fifo");
		return uri;
	}
	n = (size_t)(sep - uri);
	if (n >= scheme_sz)
		n = scheme_sz - 1;
	memcpy(scheme, uri, n);
	scheme[n] = '\0';
	return sep + 3;
}

static int mkdir_parents(const char *path)
{
	char buf[4096];
	size_t n = strlen(path);

	if (n >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, n + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return 0;
}

/* Opens an output target: a FIFO read-write (a reader always exists, so writes never EPIPE
 * when the client goes away), a regular file for append. */
static int open_output(const char *path, bool is_file_uri)
{
	struct stat st;
	int fd;

	if (path[0] != '/')
		return -EINVAL;
	if (is_file_uri) {
		int r = mkdir_parents(path);
		if (r < 0)
			return r;
		fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
			  0644);
		return fd < 0 ? -errno : fd;
	}
	if (stat(path, &st) < 0)
		return -errno;
	if (S_ISFIFO(st.st_mode))
		fd = open(path, O_RDWR | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	else if (S_ISREG(st.st_mode))
		fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	else
		return -EINVAL;
	return fd < 0 ? -errno : fd;
}

static int make_pipe(int p[2], uid_t uid, gid_t gid, int container_end)
{
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	if ((uid || gid) && fchown(p[container_end], uid, gid) < 0) {
		int r = -errno;
		close(p[0]);
		close(p[1]);
		return r;
	}
	return 0;
}

int stdio_prepare(const struct stdio_cfg *cfg, struct stdio *io, char *msg, size_t msgsz)
{
	const char *in = cfg->in ? cfg->in : "", *out = cfg->out ? cfg->out : "",
		   *err = cfg->err ? cfg->err : "";
	char scheme[16];
	const char *out_path, *err_path;
	bool file_uri = false;
	int r, p[2];

	stdio_init(io);
	msg[0] = '\0';
	io->terminal = cfg->terminal;
	if (!*in && !*out && !*err && !cfg->terminal) {
		/* Null IO: /dev/null for everything, nothing copied. */
		for (int i = 0; i < 3; i++) {
			io->rt_fd[i] = fd_open_devnull(i == 0 ? O_RDONLY : O_WRONLY);
			if (io->rt_fd[i] < 0) {
				r = io->rt_fd[i];
				goto fail;
			}
		}
		return 0;
	}
	out_path = stdio_uri_scheme(out, scheme, sizeof(scheme));
	if (strcmp(scheme, "file") == 0) {
		file_uri = true;
	} else if (strcmp(scheme, "fifo") != 0) {
		snprintf(msg, msgsz, "unknown STDIO scheme %s", scheme);
		r = -EINVAL;
		goto fail;
	}
	err_path = file_uri ? out_path : stdio_uri_scheme(err, scheme, sizeof(scheme));
	if (!file_uri && *err && strcmp(scheme, "fifo") != 0) {
		snprintf(msg, msgsz, "unknown STDIO scheme %s", scheme);
		r = -EINVAL;
		goto fail;
	}

	if (cfg->terminal) {
		/* runc gets the console socket instead of stdio (its own output is captured). */
		if (*in) {
			if (in[0] != '/') {
				snprintf(msg, msgsz, "stdin path %s is not absolute", in);
				r = -EINVAL;
				goto fail;
			}
			io->in_src = open(in, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
			if (io->in_src >= 0)
				io->in_keep =
					open(in, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
			if (io->in_src < 0 || io->in_keep < 0) {
				r = -errno;
				snprintf(msg, msgsz, "open %s: %s", in, strerror(errno));
				goto fail;
			}
		}
		if (*out) {
			io->out_dst[0] = open_output(out_path, file_uri);
			if (io->out_dst[0] < 0) {
				r = io->out_dst[0];
				io->out_dst[0] = -1;
				snprintf(msg, msgsz, "open %s: %s", out_path, strerror(-r));
				goto fail;
			}
		}
		return 0;
	}

	/* stdin: a FIFO whatever the stdout scheme (containerd's copyPipes runs for file://
	 * too; binary:// never gets here and has no stdin, as in the Go shim). */
	if (*in) {
		if (in[0] != '/') {
			snprintf(msg, msgsz, "stdin path %s is not absolute", in);
			r = -EINVAL;
			goto fail;
		}
		/* Read side first (non-blocking: never waits), then the keep-alive writer, which
		 * cannot block because a reader exists; with it the copy never sees EOF before
		 * CloseIO, so a client can detach and come back. */
		io->in_src = open(in, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
		if (io->in_src < 0) {
			r = -errno;
			snprintf(msg, msgsz, "open %s: %s", in, strerror(errno));
			goto fail;
		}
		io->in_keep = open(in, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
		if (io->in_keep < 0) {
			r = -errno;
			snprintf(msg, msgsz, "open %s: %s", in, strerror(errno));
			goto fail;
		}
		r = make_pipe(p, cfg->uid, cfg->gid, 0);
		if (r < 0)
			goto fail_sys;
		io->rt_fd[0] = p[0];
		io->in_pipe_w = p[1];
		(void)fd_set_nonblock(io->in_pipe_w, true);
	} else {
		io->rt_fd[0] = fd_open_devnull(O_RDONLY);
		if (io->rt_fd[0] < 0) {
			r = io->rt_fd[0];
			goto fail_sys;
		}
	}

	/* stdout, stderr */
	for (int i = 0; i < 2; i++) {
		const char *path = i == 0 ? out_path : err_path;
		const char *given = i == 0 ? out : err;
		if (!*given) {
			io->rt_fd[1 + i] = fd_open_devnull(O_WRONLY);
			if (io->rt_fd[1 + i] < 0) {
				r = io->rt_fd[1 + i];
				goto fail_sys;
			}
			continue;
		}
		if (i == 1 && file_uri && io->out_dst[0] >= 0) {
			/* file:// gives one append fd shared by stdout and stderr. */
			io->out_dst[1] = fcntl(io->out_dst[0], F_DUPFD_CLOEXEC, 3);
		} else {
			io->out_dst[i] = open_output(path, file_uri);
		}
		if (io->out_dst[i] < 0) {
			r = io->out_dst[i] < -1 ? io->out_dst[i] : -errno;
			io->out_dst[i] = -1;
			snprintf(msg, msgsz, "open %s: %s", path, strerror(-r));
			goto fail;
		}
		r = make_pipe(p, cfg->uid, cfg->gid, 1);
		if (r < 0)
			goto fail_sys;
		io->out_pipe_r[i] = p[0];
		io->rt_fd[1 + i] = p[1];
		(void)fd_set_nonblock(io->out_pipe_r[i], true);
	}
	return 0;

fail_sys:
	snprintf(msg, msgsz, "failed to create stdio pipes: %s", strerror(-r));
fail:
	stdio_destroy(io);
	return r;
}

/*
 * Failpoint for the integration tests: tests/tests.mk builds build/tests/cshim-fp from this
 * file compiled with -DCSHIM_FAILPOINTS (build/bin/cshim has none). With CSHIM_FP_STDIO_START
 * in its environment, the last copy of a process fails to start as an allocation failure
 * would (its fds closed, -ENOMEM), after the others started: a failed stdio start after the
 * runtime ran, which nothing else can bring about from outside.
 */
#ifdef CSHIM_FAILPOINTS
static bool fp_fail_start(bool last)
{
	return last && getenv("CSHIM_FP_STDIO_START") != NULL;
}
#else
static bool fp_fail_start(bool last)
{
	(void)last;
	return false;
}
#endif

static int start_pump(struct loop *l, int src, int dst, unsigned flags, const char *name,
		      pump_end_fn on_end, void *end_arg, struct pump **ret, bool last)
{
	if (fp_fail_start(last)) {
		close(src);
		close(dst);
		if (on_end)
			on_end(end_arg, false);
		return -ENOMEM;
	}
	return pump_start(l, src, dst, flags, name, on_end, end_arg, ret);
}

void stdio_spawned(struct stdio *io)
{
	for (int i = 0; i < 3; i++)
		io->rt_fd[i] = safe_close(io->rt_fd[i]);
}

int stdio_start(struct stdio *io, struct loop *l, const char *name)
{
	char pname[32];
	int r = 0;

	pthread_mutex_lock(&io->mu);
	if (io->in_src >= 0) {
		snprintf(pname, sizeof(pname), "%s-stdin", name);
		r = start_pump(l, TAKE_FD(io->in_src), TAKE_FD(io->in_pipe_w), 0, pname, NULL, NULL,
			       &io->pump[0], io->out_pipe_r[0] < 0 && io->out_pipe_r[1] < 0);
		if (r < 0)
			goto out;
	}
	for (int i = 0; i < 2; i++) {
		if (io->out_pipe_r[i] < 0)
			continue;
		snprintf(pname, sizeof(pname), "%s-%s", name, i ? "stderr" : "stdout");
		r = start_pump(l, TAKE_FD(io->out_pipe_r[i]), TAKE_FD(io->out_dst[i]), 0, pname,
			       NULL, NULL, &io->pump[1 + i], i == 1 || io->out_pipe_r[1] < 0);
		if (r < 0)
			goto out;
	}
out:
	pthread_mutex_unlock(&io->mu);
	return r;
}

int stdio_start_console(struct stdio *io, struct loop *l, int master, const char *name)
{
	struct console *cons = calloc(1, sizeof(*cons));
	char pname[32];
	int r = 0, m2;

	if (!cons) {
		close(master);
		return -ENOMEM;
	}
	atomic_init(&cons->refs, 1);
	pthread_mutex_init(&cons->mu, NULL);
	cons->fd = master;
	pthread_mutex_lock(&io->mu);
	io->console = cons;
	(void)fd_set_nonblock(master, true);
	if (io->out_dst[0] >= 0) {
		/* Each pump gets its own fd for the master: one epoll cannot hold one fd twice. */
		m2 = fcntl(master, F_DUPFD_CLOEXEC, 3);
		if (m2 < 0) {
			r = -errno;
			goto out;
		}
		snprintf(pname, sizeof(pname), "%s-console", name);
		r = start_pump(l, m2, TAKE_FD(io->out_dst[0]), PUMP_SRC_PTY, pname, NULL, NULL,
			       &io->pump[1], io->in_src < 0);
		if (r < 0)
			goto out;
		pthread_mutex_lock(&cons->mu);
		cons->out = pump_ref(io->pump[1]);
		pthread_mutex_unlock(&cons->mu);
	}
	if (io->in_src >= 0) {
		m2 = fcntl(master, F_DUPFD_CLOEXEC, 3);
		if (m2 < 0) {
			r = -errno;
			goto out;
		}
		snprintf(pname, sizeof(pname), "%s-stdin", name);
		r = start_pump(l, TAKE_FD(io->in_src), m2, PUMP_DST_PTY, pname, console_stdin_end,
			       console_ref(cons), &io->pump[0], true);
	}
out:
	pthread_mutex_unlock(&io->mu);
	return r;
}

void stdio_process_exited(struct stdio *io)
{
	pthread_mutex_lock(&io->mu);
	if (io->terminal && io->pump[1])
		pump_src_closing(io->pump[1]);
	pthread_mutex_unlock(&io->mu);
}

int stdio_resize(struct stdio *io, unsigned width, unsigned height)
{
	int r = 0;
	pthread_mutex_lock(&io->mu);
	if (io->console) {
		pthread_mutex_lock(&io->console->mu);
		if (io->console->fd >= 0)
			r = pty_resize(io->console->fd, width, height);
		pthread_mutex_unlock(&io->console->mu);
	}
	pthread_mutex_unlock(&io->mu);
	return r;
}

int stdio_close_stdin(struct stdio *io)
{
	pthread_mutex_lock(&io->mu);
	io->in_keep = safe_close(io->in_keep);
	pthread_mutex_unlock(&io->mu);
	return 0;
}

/* References to the output pumps, taken under the lock. */
static int output_pumps(struct stdio *io, struct pump *out[2])
{
	int n = 0;
	pthread_mutex_lock(&io->mu);
	for (int i = 1; i < 3; i++)
		if (io->pump[i])
			out[n++] = pump_ref(io->pump[i]);
	pthread_mutex_unlock(&io->mu);
	return n;
}

bool stdio_wait(struct stdio *io, int timeout_ms)
{
	struct pump *ps[2];
	int n = output_pumps(io, ps);
	bool ok = true;
	/* One deadline for all: the waits overlap. */
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < n; i++) {
		long spent;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		spent = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
		if (!pump_wait_done(ps[i], spent < timeout_ms ? (int)(timeout_ms - spent) : 0))
			ok = false;
		pump_unref(ps[i]);
	}
	return ok;
}

bool stdio_drain_now(struct stdio *io)
{
	struct pump *ps[2];
	int n = output_pumps(io, ps);
	bool ok = true;
	for (int i = 0; i < n; i++) {
		if (!pump_drain_now(ps[i]))
			ok = false;
		pump_unref(ps[i]);
	}
	return ok;
}

void stdio_destroy(struct stdio *io)
{
	pthread_mutex_lock(&io->mu);
	for (int i = 0; i < 3; i++) {
		io->rt_fd[i] = safe_close(io->rt_fd[i]);
		if (io->pump[i]) {
			pump_close(io->pump[i]);
			io->pump[i] = NULL;
		}
	}
	io->in_src = safe_close(io->in_src);
	io->in_keep = safe_close(io->in_keep);
	if (io->console) {
		console_shutdown(io->console);
		console_unref(io->console);
		io->console = NULL;
	}
	io->in_pipe_w = safe_close(io->in_pipe_w);
	for (int i = 0; i < 2; i++) {
		io->out_pipe_r[i] = safe_close(io->out_pipe_r[i]);
		io->out_dst[i] = safe_close(io->out_dst[i]);
	}
	pthread_mutex_unlock(&io->mu);
}
