/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../io/base.h"
#include "../io/fd_util.h"
#include "reaper.h"
#include "runtime.h"
#include "spawn.h"

#define OUTPUT_MAX (1u << 20)

static _Thread_local const _Atomic bool *cancel_flag;

void runtime_set_cancel(const _Atomic bool *flag)
{
	cancel_flag = flag;
}

static bool cancelled(void)
{
	return cancel_flag && atomic_load(cancel_flag);
}

int runtime_init(struct runtime *rt, const char *name, const char *runtime_root, const char *ns,
		 const char *bundle, const char *criu, bool systemd_cgroup)
{
	char path[PATH_MAX];
	size_t lens[5];
	char *s;
	int r;

	memset(rt, 0, sizeof(*rt));
	if (!name || !*name)
		name = "runc";
	r = spawn_find_program(name, path, sizeof(path));
	if (r < 0)
		return r;
	if (!criu)
		criu = "";
	lens[0] = strlen(name) + 1;
	lens[1] = strlen(path) + 1;
	lens[2] = strlen(runtime_root) + 1 + strlen(ns) + 1;
	lens[3] = strlen(bundle) + sizeof("/log.json");
	lens[4] = strlen(criu) + 1;
	s = rt->strings = malloc(lens[0] + lens[1] + lens[2] + lens[3] + lens[4]);
	if (!s)
		return -ENOMEM;
	rt->name = memcpy(s, name, lens[0]);
	rt->path = memcpy(s += lens[0], path, lens[1]);
	snprintf(s += lens[1], lens[2], "%s/%s", runtime_root, ns);
	rt->root = s;
	snprintf(s += lens[2], lens[3], "%s/log.json", bundle);
	rt->log = s;
	rt->criu = memcpy(s + lens[3], criu, lens[4]);
	rt->systemd_cgroup = systemd_cgroup;
	return 0;
}

void runtime_free(struct runtime *rt)
{
	free(rt->strings);
	memset(rt, 0, sizeof(*rt));
}

void runtime_result_free(struct runtime_result *res)
{
	free(res->output);
	res->output = NULL;
}

/* Past the request's deadline, or its client gone: SIGKILL the runtime (once). */
static void check_deadline(struct reaper_watch *w, int pidfd, uint64_t deadline_ns, bool *killed)
{
	if (*killed || __atomic_load_n(&w->exited, __ATOMIC_ACQUIRE))
		return;
	if ((deadline_ns && reaper_now_ns() >= deadline_ns) || cancelled()) {
		(void)syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
		*killed = true;
	}
}

/* Reads the capture pipe until EOF, or until the runtime exited and the pipe is quiet (a
 * child of the runtime may hold the write end for ever). */
static void read_output(int fd, struct reaper_watch *w, int pidfd, uint64_t deadline_ns,
			bool *killed, struct runtime_result *res)
{
	size_t cap = 0;
	char *buf = NULL;

	res->output_len = 0;
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int n = poll(&pfd, 1, 100);
		if (n < 0 && errno == EINTR)
			continue;
		check_deadline(w, pidfd, deadline_ns, killed);
		if (n == 0) {
			if (__atomic_load_n(&w->exited, __ATOMIC_ACQUIRE))
				break;
			continue;
		}
		if (cap - res->output_len < 4096) {
			size_t ncap = cap ? cap * 2 : 8192;
			char *nb;
			if (ncap > OUTPUT_MAX + 1)
				ncap = OUTPUT_MAX + 1;
			if (ncap - res->output_len < 2) {
				char sink[4096];
				if (read(fd, sink, sizeof(sink)) <= 0)
					break;
				continue;
			}
			nb = realloc(buf, ncap);
			if (!nb)
				break;
			buf = nb;
			cap = ncap;
		}
		ssize_t k = read(fd, buf + res->output_len, cap - res->output_len - 1);
		if (k < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (k <= 0)
			break;
		res->output_len += (size_t)k;
	}
	if (!buf)
		buf = calloc(1, 1);
	if (buf)
		buf[res->output_len] = '\0';
	res->output = buf;
}

/* RUNTIME --root R --log L --log-format json [--criu C] [--systemd-cgroup] args... */
static int build_argv(const struct runtime *rt, const char *const *args, const char **argv,
		      size_t max)
{
	size_t n = 0;
	argv[n++] = rt->name;
	argv[n++] = "--root";
	argv[n++] = rt->root;
	argv[n++] = "--log";
	argv[n++] = rt->log;
	argv[n++] = "--log-format";
	argv[n++] = "json";
	if (rt->criu[0]) {
		argv[n++] = "--criu";
		argv[n++] = rt->criu;
	}
	if (rt->systemd_cgroup)
		argv[n++] = "--systemd-cgroup";
	for (int i = 0; args[i]; i++) {
		if (n >= max - 1)
			return -E2BIG;
		argv[n++] = args[i];
	}
	argv[n] = NULL;
	return (int)n;
}

int runtime_run(const struct runtime *rt, const struct runtime_call *c, struct runtime_result *res)
{
	const char *argv[64];
	int fds[3] = { -1, -1, -1 };
	_cleanup_close_ int out_r = -1, out_w = -1, in_r = -1;
	struct reaper_watch w = { 0 };
	struct spawn_opts o = { 0 };
	int n = 0, r, pidfd = -1;
	bool killed = false;
	pid_t pid;

	memset(res, 0, sizeof(*res));
	n = build_argv(rt, c->args, argv, ARRAY_SIZE(argv));
	if (n < 0)
		return n;

	if (c->fds) {
		memcpy(fds, c->fds, sizeof(fds));
	} else {
		int p[2];
		if (pipe2(p, O_CLOEXEC) < 0)
			return -errno;
		out_r = p[0];
		out_w = p[1];
		fds[1] = fds[2] = out_w;
		if (c->stdin_data) {
			if (c->stdin_len > 65536)
				return -E2BIG;
			if (pipe2(p, O_CLOEXEC) < 0)
				return -errno;
			in_r = p[0];
			r = fd_write_all(p[1], c->stdin_data, c->stdin_len);
			close(p[1]);
			if (r < 0)
				return r;
			fds[0] = in_r;
		}
	}
	o.path = rt->path;
	o.argv = (char *const *)argv;
	o.envp = spawn_child_env();
	o.fds = fds;
	o.nfds = 3;
	o.pdeathsig = true;
	r = reaper_spawn(&o, &w, &pidfd);
	if (r < 0)
		return r;
	pid = w.pid;
	out_w = safe_close(out_w);
	in_r = safe_close(in_r);
	if (out_r >= 0)
		read_output(out_r, &w, pidfd, c->deadline_ns, &killed, res);
	/* Waits in slices so that a client going away is noticed too. */
	for (;;) {
		uint64_t until;
		if (killed) {
			until = 0; /* killed: its exit comes */
		} else if (cancel_flag) {
			until = reaper_now_ns() + 100000000ULL;
			if (c->deadline_ns && c->deadline_ns < until)
				until = c->deadline_ns;
		} else {
			until = c->deadline_ns; /* 0: no deadline */
		}
		r = reaper_wait_until(&w, until);
		if (r >= 0)
			break;
		check_deadline(&w, pidfd, c->deadline_ns, &killed);
	}
	close(pidfd);
	res->pid = pid;
	res->status = w.status; /* 137 when killed: reported as the Go shim does */
	res->killed = killed;
	if (killed && cancelled())
		return -ECANCELED;
	return 0;
}

void runtime_exit_text(const struct runtime *rt, const struct runtime_result *res, char *buf,
		       size_t bufsz)
{
	/* go-runc: the reaper's status (128+n for signal n) as ExitError "exit status N". */
	if (res->output)
		snprintf(buf, bufsz, "%s did not terminate successfully: exit status %d: %s",
			 rt->name, res->status, res->output);
	else
		snprintf(buf, bufsz, "%s did not terminate successfully: exit status %d", rt->name,
			 res->status);
}

int runtime_log_last_error(const char *buf, size_t len, char *out, size_t outsz)
{
	size_t off = 0;
	int found = 0;

	while (off < len) {
		json_error_t jerr;
		json_t *o, *lvl, *msg;
		/* skip whitespace between objects */
		while (off < len && (buf[off] == ' ' || buf[off] == '\n' || buf[off] == '\r' ||
				     buf[off] == '\t'))
			off++;
		if (off >= len)
			break;
		o = json_loadb(buf + off, len - off, JSON_DISABLE_EOF_CHECK | JSON_DECODE_ANY,
			       &jerr);
		if (!o)
			return -EINVAL;
		off += jerr.position;
		lvl = json_is_object(o) ? json_object_get(o, "level") : NULL;
		msg = json_is_object(o) ? json_object_get(o, "msg") : NULL;
		if (json_is_string(lvl) && strcmp(json_string_value(lvl), "error") == 0) {
			const char *m = json_is_string(msg) ? json_string_value(msg) : "";
			size_t a = 0, b = strlen(m);
			while (a < b && strchr(" \t\r\n\v\f", m[a]))
				a++;
			while (b > a && strchr(" \t\r\n\v\f", m[b - 1]))
				b--;
			snprintf(out, outsz, "%.*s", (int)(b - a), m + a);
			found = 1;
		}
		json_decref(o);
	}
	return found;
}

int runtime_failure(const struct runtime *rt, const struct runtime_result *res, enum shim_op op,
		    struct shim_error *err)
{
	char text[SHIM_ERR_MAX], last[SHIM_ERR_MAX];
	char *log = NULL;
	size_t len = 0;
	int r;

	runtime_exit_text(rt, res, text, sizeof(text));
	r = fd_read_file(rt->log, 8u << 20, &log, &len);
	if (r < 0)
		return shim_fail(err, -EIO, SHIM_ERR_RUNTIME, op,
				 "unable to retrieve OCI runtime error (open %s: %s): %s", rt->log,
				 strerror(-r), text);
	r = runtime_log_last_error(log, len, last, sizeof(last));
	free(log);
	if (r > 0)
		return shim_fail(err, -EIO, SHIM_ERR_RUNTIME, op, "%s", last);
	if (r == 0)
		return shim_fail(err, -EIO, SHIM_ERR_RUNTIME, op, "%s", text);
	return shim_fail(err, -EIO, SHIM_ERR_RUNTIME, op,
			 "unable to retrieve OCI runtime error (invalid character in %s): %s",
			 rt->log, text);
}

struct async_run {
	struct reaper_watch w;
	void (*done)(void *data, int status);
	void *data;
};

static void async_exited(struct reaper_watch *w, int status)
{
	struct async_run *a = (struct async_run *)w;
	a->done(a->data, status);
	free(a);
}

void runtime_run_async(const struct runtime *rt, const char *const *args,
		       void (*done)(void *data, int status), void *data)
{
	const char *argv[32];
	int fds[3] = { -1, -1, -1 };
	struct spawn_opts o = { 0 };
	struct async_run *a;
	int n = 0, r;

	n = build_argv(rt, args, argv, ARRAY_SIZE(argv));
	if (n < 0) {
		done(data, n);
		return;
	}
	a = calloc(1, sizeof(*a));
	if (!a) {
		done(data, -ENOMEM);
		return;
	}
	a->done = done;
	a->data = data;
	o.path = rt->path;
	o.argv = (char *const *)argv;
	o.envp = spawn_child_env();
	o.fds = fds;
	o.nfds = 3;
	a->w.cb = async_exited;
	r = reaper_spawn(&o, &a->w, NULL); /* a is the callback's from now on */
	if (r < 0) {
		free(a);
		done(data, r);
	}
}
