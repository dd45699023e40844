/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../io/base.h"
#include "logger.h"
#include "reaper.h"
#include "spawn.h"

#define LOGGER_READY_MS 10000
#define LOGGER_STOP_MS 12000

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decodes [s, end) into out; plus_space: query rules ('+' is a space). */
static int unescape(const char *s, const char *end, bool plus_space, char **out, char *limit)
{
	char *o = *out;
	while (s < end) {
		if (o >= limit - 1)
			return -EINVAL;
		if (*s == '%') {
			int a, b;
			if (end - s < 3 || (a = hexval(s[1])) < 0 || (b = hexval(s[2])) < 0)
				return -EINVAL;
			*o++ = (char)(a * 16 + b);
			s += 3;
		} else if (*s == '+' && plus_space) {
			*o++ = ' ';
			s++;
		} else {
			*o++ = *s++;
		}
	}
	*o++ = '\0';
	*out = o;
	return 0;
}

int logger_parse_uri(const char *uri, char *buf, size_t bufsz, char **argv, int max)
{
	const char *p, *q, *end;
	char *o = buf, *limit = buf + bufsz;
	int n = 0;

	if (strncmp(uri, "binary://", 9) != 0 || max < 2)
		return -EINVAL;
	p = uri + 9;
	q = strchr(p, '?');
	end = q ? q : p + strlen(p);
	if (p == end)
		return -EINVAL;
	argv[n] = o;
	if (unescape(p, end, false, &o, limit) < 0 || argv[n][0] != '/')
		return -EINVAL;
	n++;
	while (q && *q) {
		const char *k = q + 1, *amp = strchr(k, '&'), *eq;
		const char *kend = amp ? amp : k + strlen(k);
		q = amp;
		if (k == kend)
			continue;
		eq = memchr(k, '=', (size_t)(kend - k));
		if (n + 2 >= max)
			return -E2BIG;
		argv[n] = o;
		if (unescape(k, eq ? eq : kend, true, &o, limit) < 0)
			return -EINVAL;
		n++;
		if (eq) {
			argv[n] = o;
			if (unescape(eq + 1, kend, true, &o, limit) < 0)
				return -EINVAL;
			n++;
		}
	}
	argv[n] = NULL;
	return n;
}

int logger_start(const char *uri, const char *id, const char *ns, struct logger *lg, int ret_fds[3],
		 char *msg, size_t msgsz)
{
	char buf[4096], envid[512], envns[512];
	char *argv[64], *envp[3];
	int out[2] = { -1, -1 }, err[2] = { -1, -1 }, ready[2] = { -1, -1 }, fds[6], r;
	struct spawn_opts o = { 0 };
	struct pollfd pfd;
	char byte;

	lg->pid = 0;
	lg->pidfd = -1;
	r = logger_parse_uri(uri, buf, sizeof(buf), argv, (int)ARRAY_SIZE(argv));
	if (r < 0) {
		snprintf(msg, msgsz, "invalid binary logger URI %s", uri);
		return -EINVAL;
	}
	snprintf(envid, sizeof(envid), "CONTAINER_ID=%s", id);
	snprintf(envns, sizeof(envns), "CONTAINER_NAMESPACE=%s", ns);
	envp[0] = envid;
	envp[1] = envns;
	envp[2] = NULL;
	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0 || pipe2(ready, O_CLOEXEC) < 0) {
		r = -errno;
		snprintf(msg, msgsz, "failed to create logger pipes: %s", strerror(errno));
		goto fail;
	}
	fds[0] = -1; /* /dev/null */
	fds[1] = -1;
	fds[2] = -1;
	fds[3] = out[0];
	fds[4] = err[0];
	fds[5] = ready[1];
	o.path = argv[0];
	o.argv = argv;
	o.envp = envp;
	o.fds = fds;
	o.nfds = 6;
	r = spawn_process(&o, &lg->pid, &lg->pidfd);
	if (r < 0) {
		snprintf(msg, msgsz, "failed to start binary logger %s: %s", argv[0], strerror(-r));
		goto fail;
	}
	out[0] = safe_close(out[0]);
	err[0] = safe_close(err[0]);
	ready[1] = safe_close(ready[1]);
	/* Ready when the logger writes a byte to fd 5 or closes it. */
	pfd.fd = ready[0];
	pfd.events = POLLIN;
	do {
		r = poll(&pfd, 1, LOGGER_READY_MS);
	} while (r < 0 && errno == EINTR);
	if (r <= 0) {
		snprintf(msg, msgsz, "binary logger %s did not get ready", argv[0]);
		logger_stop(lg);
		r = -ETIMEDOUT;
		goto fail;
	}
	(void)!read(ready[0], &byte, 1);
	ready[0] = safe_close(ready[0]);
	ret_fds[0] = -1;
	ret_fds[1] = out[1];
	ret_fds[2] = err[1];
	return 0;
fail:
	safe_close(out[0]);
	safe_close(out[1]);
	safe_close(err[0]);
	safe_close(err[1]);
	safe_close(ready[0]);
	safe_close(ready[1]);
	return r < 0 ? r : -EIO;
}

void logger_stop(struct logger *lg)
{
	struct reaper_watch w = { .pid = lg->pid };

	if (lg->pid <= 0)
		return;
	/* Already reaped (it died on its own)? Then w is done at once. */
	reaper_watch_pidfd(&w, lg->pidfd);
	if (!w.exited) {
		(void)syscall(SYS_pidfd_send_signal, lg->pidfd, SIGTERM, NULL, 0);
		/* reaper_wait SIGKILLs at the deadline and then waits for the exit. */
		(void)reaper_wait(&w, lg->pidfd, reaper_now_ns() + LOGGER_STOP_MS * 1000000ULL);
	}
	lg->pidfd = safe_close(lg->pidfd);
	lg->pid = 0;
}
