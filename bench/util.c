/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bench/util.h"

uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

void sleep_until_ns(uint64_t t)
{
	struct timespec ts = { .tv_sec = (time_t)(t / NS_PER_S), .tv_nsec = (long)(t % NS_PER_S) };
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

void sleep_s(double s)
{
	if (s > 0)
		sleep_until_ns(now_ns() + (uint64_t)(s * 1e9));
}

static bool g_quiet;
static bool g_tty = false, g_tty_known = false;
static bool g_line_shown;
static uint64_t g_last_progress;

bool progress_enabled(void)
{
	if (!g_tty_known) {
		g_tty = isatty(1) == 1;
		g_tty_known = true;
	}
	return g_tty && !g_quiet;
}

void progress_set_quiet(bool q)
{
	g_quiet = q;
}

void progress(const char *fmt, ...)
{
	char line[160];
	va_list ap;
	uint64_t t;

	if (!progress_enabled())
		return;
	t = now_ns();
	if (g_line_shown && t - g_last_progress < 100000000ULL)
		return;
	g_last_progress = t;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stdout, "\r\033[K%s", line);
	fflush(stdout);
	g_line_shown = true;
}

void progress_clear(void)
{
	if (g_line_shown) {
		fprintf(stdout, "\r\033[K");
		fflush(stdout);
		g_line_shown = false;
	}
}

void die(const char *fmt, ...)
{
	va_list ap;
	progress_clear();
	fprintf(stderr, "cshim-bench: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

void warnx_(const char *fmt, ...)
{
	va_list ap;
	progress_clear();
	fprintf(stderr, "cshim-bench: warning: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void info(const char *fmt, ...)
{
	va_list ap;
	progress_clear();
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int xsnprintf(char *out, size_t n, const char *fmt, ...)
{
	va_list ap;
	int k;
	va_start(ap, fmt);
	k = vsnprintf(out, n, fmt, ap);
	va_end(ap);
	return k;
}

double parse_double(const char *opt, const char *s)
{
	char *end;
	double v;
	if (!s)
		die("%s needs a value", opt);
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end)
		die("%s: not a number: %s", opt, s);
	return v;
}

long parse_long(const char *opt, const char *s)
{
	char *end;
	long v;
	if (!s)
		die("%s needs a value", opt);
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end)
		die("%s: not an integer: %s", opt, s);
	return v;
}

int parse_int_list(const char *opt, const char *s, int *out, int max)
{
	char buf[256], *save = NULL, *tok;
	int n = 0;
	if (!s)
		die("%s needs a value", opt);
	xsnprintf(buf, sizeof(buf), "%s", s);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (n == max)
			die("%s: at most %d values", opt, max);
		out[n++] = (int)parse_long(opt, tok);
	}
	if (n == 0)
		die("%s: empty list", opt);
	return n;
}

const char *fmt_ns(char *buf, size_t n, double ns)
{
	if (ns < 0)
		xsnprintf(buf, n, "-");
	else if (ns < 1e3)
		xsnprintf(buf, n, "%.0fns", ns);
	else if (ns < 1e5)
		xsnprintf(buf, n, "%.1fus", ns / 1e3);
	else if (ns < 1e6)
		xsnprintf(buf, n, "%.0fus", ns / 1e3);
	else if (ns < 1e8)
		xsnprintf(buf, n, "%.2fms", ns / 1e6);
	else if (ns < 1e9)
		xsnprintf(buf, n, "%.0fms", ns / 1e6);
	else
		xsnprintf(buf, n, "%.2fs", ns / 1e9);
	return buf;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

double median_d(double *v, int n)
{
	if (n <= 0)
		return 0;
	qsort(v, (size_t)n, sizeof(*v), cmp_d);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double pct_d(double *v, int n, double p)
{
	int k;
	if (n <= 0)
		return 0;
	qsort(v, (size_t)n, sizeof(*v), cmp_d);
	k = (int)ceil(p / 100 * n) - 1;
	return v[k < 0 ? 0 : k >= n ? n - 1 : k];
}

void ratio_d(const double *a, const double *b, int n, double r[3])
{
	double v[64];
	int k = 0;
	for (int i = 0; i < n && k < 64; i++)
		if (a[i] > 0 && b[i] >= 0)
			v[k++] = b[i] / a[i];
	if (!k) {
		r[0] = r[1] = r[2] = NAN;
		return;
	}
	r[0] = min_d(v, k);
	r[2] = max_d(v, k);
	r[1] = median_d(v, k);
}

double min_d(const double *v, int n)
{
	double m = n > 0 ? v[0] : 0;
	for (int i = 1; i < n; i++)
		if (v[i] < m)
			m = v[i];
	return m;
}

double max_d(const double *v, int n)
{
	double m = n > 0 ? v[0] : 0;
	for (int i = 1; i < n; i++)
		if (v[i] > m)
			m = v[i];
	return m;
}

int bench_file(const char *name, char *out, size_t n)
{
	char exe[PATH_MAX], cand[PATH_MAX + 64];
	const char *env = getenv("CSHIM_BENCH_DIR");
	ssize_t k;

	if (env) {
		xsnprintf(cand, sizeof(cand), "%s/%s", env, name);
		if (access(cand, F_OK) == 0 && realpath(cand, out))
			return 0;
	}
	xsnprintf(cand, sizeof(cand), "bench/%s", name);
	if (access(cand, F_OK) == 0 && realpath(cand, out))
		return 0;
	k = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (k > 0) {
		exe[k] = '\0';
		char *slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			xsnprintf(cand, sizeof(cand), "%s/../../bench/%s", exe, name);
			if (access(cand, F_OK) == 0 && realpath(cand, out))
				return 0;
		}
	}
	(void)n;
	return -ENOENT;
}

int mkdir_p(const char *path)
{
	char buf[PATH_MAX];
	xsnprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p == '/') {
			*p = '\0';
			if (mkdir(buf, 0755) < 0 && errno != EEXIST)
				return -errno;
			*p = '/';
		}
	}
	if (mkdir(buf, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}
