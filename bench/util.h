/* SPDX-License-Identifier: Apache-2.0 */
/* Small shared helpers of cshim-bench: clocks, messages, the one-line progress display,
 * formatting and parsing of numbers. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define NS_PER_S 1000000000ULL

uint64_t now_ns(void); /* CLOCK_MONOTONIC */
void sleep_until_ns(uint64_t t);
void sleep_s(double s);

__attribute__((format(printf, 1, 2), noreturn)) void die(const char *fmt, ...);
__attribute__((format(printf, 1, 2))) void warnx_(const char *fmt, ...);
__attribute__((format(printf, 1, 2))) void info(const char *fmt, ...);

/* snprintf without -Wformat-truncation noise; returns what snprintf returns. */
__attribute__((format(printf, 3, 4))) int xsnprintf(char *out, size_t n, const char *fmt, ...);

/* One-line progress display: only when stdout is a terminal; progress_clear() erases it.
 * Safe to call often (rate-limited to ~10 updates/s). */
__attribute__((format(printf, 1, 2))) void progress(const char *fmt, ...);
void progress_clear(void);
bool progress_enabled(void);
void progress_set_quiet(bool q);

/* "1.5" -> 1.5; exits with a message on garbage. */
double parse_double(const char *opt, const char *s);
long parse_long(const char *opt, const char *s);
/* "1,8,64" -> up to max values; returns count. */
int parse_int_list(const char *opt, const char *s, int *out, int max);

/* Human formatting of a nanosecond value: "812ns", "12.3us", "4.56ms", "1.23s". */
const char *fmt_ns(char *buf, size_t n, double ns);

double median_d(double *v, int n);        /* sorts v */
double pct_d(double *v, int n, double p); /* nearest rank, p in 0..100; sorts v */
/* Ratios b[i]/a[i] over n rounds (at most 64; rounds with a[i] <= 0 or b[i] < 0 left out):
 * r = { min, median, max }, NaN when none. */
void ratio_d(const double *a, const double *b, int n, double r[3]);
double min_d(const double *v, int n);
double max_d(const double *v, int n);

/* Absolute path of a file shipped next to the sources (bench/NAME): tries $CSHIM_BENCH_DIR,
 * ./bench, then <exe dir>/../../bench. 0 or -ENOENT. */
int bench_file(const char *name, char *out, size_t n);

/* mkdir -p (0755). */
int mkdir_p(const char *path);
