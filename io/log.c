/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static atomic_int log_fd = 2;
static atomic_bool log_debug_on;

void log_set_fd(int fd)
{
	atomic_store(&log_fd, fd);
}

void log_set_debug(bool on)
{
	atomic_store(&log_debug_on, on);
}

bool log_debug_enabled(void)
{
	return atomic_load_explicit(&log_debug_on, memory_order_relaxed);
}

static const char *const level_names[] = {
	[LOG_LVL_ERROR] = "error",
	[LOG_LVL_WARN] = "warning",
	[LOG_LVL_INFO] = "info",
	[LOG_LVL_DEBUG] = "debug",
};

/* Appends within buf[0..size-1), keeping room for the NUL. */
struct out {
	char *buf;
	int size, n;
};

static void put(struct out *o, const char *s, int len)
{
	for (int i = 0; i < len && o->n < o->size - 1; i++)
		o->buf[o->n++] = s[i];
}

int log_format_line(char *buf, int size, const struct timespec *ts, enum log_level lvl,
		    const char *msg)
{
	struct out o = { buf, size, 0 };
	char head[96];
	struct tm tm;
	int hn, tail_room = 2; /* the closing quote and the newline always fit */

	if (size < 1)
		return 0;
	gmtime_r(&ts->tv_sec, &tm);
	hn = snprintf(head, sizeof(head),
		      "time=\"%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ\" level=%s msg=\"",
		      tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
		      tm.tm_sec, ts->tv_nsec, level_names[lvl]);
	if (size - 1 <= hn + tail_room) {
		/* Too small for a line: as much of the head as fits. */
		put(&o, head, hn);
		buf[o.n] = '\0';
		return o.n;
	}
	put(&o, head, hn);
	o.size -= tail_room; /* the message may not eat the tail */
	/* logrus quotes with Go's strconv.Quote: short escapes, \xNN for other control bytes. */
	for (const unsigned char *m = (const unsigned char *)msg; *m; m++) {
		char e[8];
		int el;
		switch (*m) {
		case '"': el = snprintf(e, sizeof(e), "\\\""); break;
		case '\\': el = snprintf(e, sizeof(e), "\\\\"); break;
		case '\a': el = snprintf(e, sizeof(e), "\\a"); break;
		case '\b': el = snprintf(e, sizeof(e), "\\b"); break;
		case '\f': el = snprintf(e, sizeof(e), "\\f"); break;
		case '\n': el = snprintf(e, sizeof(e), "\\n"); break;
		case '\r': el = snprintf(e, sizeof(e), "\\r"); break;
		case '\t': el = snprintf(e, sizeof(e), "\\t"); break;
		case '\v': el = snprintf(e, sizeof(e), "\\v"); break;
		default:
			if (*m < 0x20 || *m == 0x7f)
				el = snprintf(e, sizeof(e), "\\x%02x", *m);
			else
				e[0] = (char)*m, el = 1;
		}
		if (o.n + el > o.size - 1)
			break; /* never split an escape */
		put(&o, e, el);
	}
	o.size += tail_room;
	put(&o, "\"\n", 2);
	buf[o.n] = '\0';
	return o.n;
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	char msg[2048], line[4096 + 128];
	struct timespec ts;
	int saved = errno, n, fd;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	clock_gettime(CLOCK_REALTIME, &ts);
	n = log_format_line(line, sizeof(line), &ts, lvl, msg);
	fd = atomic_load(&log_fd);
	/* One write per line: atomic for a pipe/FIFO up to PIPE_BUF; EAGAIN drops the line. */
	if (fd >= 0)
		(void)!write(fd, line, n);
	errno = saved;
}
