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

int log_format_line(char *buf, int size, const struct timespec *ts, enum log_level lvl,
		    const char *msg)
{
	struct tm tm;
	int n, i;

	if (size < 2)
		return 0;
	gmtime_r(&ts->tv_sec, &tm);
	n = snprintf(buf, size, "time=\"%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ\" level=%s msg=\"",
		     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		     ts->tv_nsec, level_names[lvl]);
	if (n < 0 || n >= size - 3)
		n = size - 3 > 0 ? size - 3 : 0;
	/* logrus quotes with Go's %q: escape backslash, quote and control characters. */
	for (i = 0; msg[i] && n < size - 6; i++) {
		unsigned char c = (unsigned char)msg[i];
		if (c == '"' || c == '\\') {
			buf[n++] = '\\';
			buf[n++] = (char)c;
		} else if (c == '\n') {
			buf[n++] = '\\';
			buf[n++] = 'n';
		} else if (c == '\t') {
			buf[n++] = '\\';
			buf[n++] = 't';
		} else if (c < 0x20) {
			n += snprintf(buf + n, size - n, "\\x%02x", c);
		} else {
			buf[n++] = (char)c;
		}
	}
	buf[n++] = '"';
	buf[n++] = '\n';
	buf[n] = '\0';
	return n;
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
