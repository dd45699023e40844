/* SPDX-License-Identifier: Apache-2.0 */
/* Logging in containerd's logrus text style: time="..." level=info msg="..." key=value. */
#pragma once

#include <stdarg.h>
#include <stdbool.h>

enum log_level { LOG_LVL_ERROR = 0, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

/* Where lines go (a non-blocking fd: lines are dropped rather than stall on a full FIFO). */
void log_set_fd(int fd);
void log_set_debug(bool on);
bool log_debug_enabled(void);

/* Formats one line; returns its length (truncated to size-1). Pure, for tests. */
int log_format_line(char *buf, int size, const struct timespec *ts, enum log_level lvl,
		    const char *msg);

void log_msg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...)                                                                             \
	do {                                                                                       \
		if (log_debug_enabled())                                                           \
			log_msg(LOG_LVL_DEBUG, __VA_ARGS__);                                       \
	} while (0)
