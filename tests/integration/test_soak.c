/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Soak: CSHIM_SOAK_CYCLES exec cycles (Exec, Wait in flight, Start, Wait, DeleteProcess of
 * `/bin/sh -c 'exit N'`) on CSHIM_SOAK_WORKERS connections against cshim. Every Wait must
 * return N, every exit must be published exactly once, and the shim's fd count and RSS,
 * sampled after each block of cycles, must stay flat: the least-squares slope over the second
 * half of the run is reported, and fds must come back to their baseline. `make test` runs a
 * short version; `make stress` runs 10^5 cycles.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "itutil.h"

#define SAMPLES_MAX 4096

static int g_cycles = 300, g_workers = 4;
static struct it_fx g_fx;
static atomic_int g_next, g_done, g_bad;

static long rss_kib(pid_t pid)
{
	char path[64], line[256];
	long v = -1;
	FILE *f;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld", &v) == 1)
			break;
	fclose(f);
	return v;
}

static void *worker(void *arg)
{
	struct shimclient *c = shimclient_connect(g_fx.si.sock, 5000);
	(void)arg;
	if (!c) {
		atomic_fetch_add(&g_bad, 1);
		return NULL;
	}
	for (;;) {
		int i = atomic_fetch_add(&g_next, 1);
		char id[32], script[32], *json, *msg = NULL;
		const char *argv[] = { "/bin/sh", "-c", script, NULL };
		uint32_t status = 999;
		if (i >= g_cycles)
			break;
		snprintf(id, sizeof(id), "k%d", i);
		snprintf(script, sizeof(script), "exit %d", i % 256);
		json = it_process_json(argv);
		if (it_exec(c, id, json, NULL, NULL, NULL, &msg, 30000) != 0 ||
		    (free(msg), msg = NULL, it_start(c, id, NULL, &msg, 30000)) != 0 ||
		    (free(msg), msg = NULL, it_wait(c, id, &status, &msg, 30000)) != 0 ||
		    status != (uint32_t)(i % 256) ||
		    (free(msg), msg = NULL, it_delete_process(c, id, &msg, 30000)) != 0) {
			if (atomic_fetch_add(&g_bad, 1) < 5)
				print_error("cycle %d (%s): failed: %s (status %u)\n", i, id,
					    msg ? msg : "", status);
		}
		free(msg);
		free(json);
		atomic_fetch_add(&g_done, 1);
	}
	shimclient_shutdown(c);
	shimclient_close(c);
	return NULL;
}

/* Least-squares slope of y over x. */
static double slope(const double *x, const double *y, int n)
{
	double sx = 0, sy = 0, sxx = 0, sxy = 0;
	for (int i = 0; i < n; i++) {
		sx += x[i];
		sy += y[i];
		sxx += x[i] * x[i];
		sxy += x[i] * y[i];
	}
	if (n < 2 || n * sxx - sx * sx == 0)
		return 0;
	return (n * sxy - sx * sy) / (n * sxx - sx * sx);
}

static void test_soak(void **state)
{
	const char *argv[] = { "/bin/sleep", "100000", NULL };
	static double xs[SAMPLES_MAX], rss[SAMPLES_MAX], fds[SAMPLES_MAX];
	pthread_t *thr = calloc((size_t)g_workers, sizeof(*thr));
	struct it_exit_ev *ev = NULL;
	int n = 0, base_fds, nev, seen_ok = 0, every, nz = 0;
	char *msg = NULL, desc[512];
	long t0;
	(void)state;

	assert_null(it_fx_launch(&g_fx, true, "soak", argv));
	assert_int_equal(it_create(&g_fx, &msg), 0);
	free(msg);
	assert_int_equal(it_start(g_fx.c, g_fx.si.id, NULL, &msg, 30000), 0);
	free(msg);
	usleep(200000);
	base_fds = it_proc_fds(g_fx.si.pid);
	every = g_cycles / 64 > 0 ? g_cycles / 64 : 1;
	t0 = it_now_ms();
	for (int w = 0; w < g_workers; w++)
		assert_int_equal(pthread_create(&thr[w], NULL, worker, NULL), 0);
	for (int last = -1; atomic_load(&g_done) < g_cycles && atomic_load(&g_bad) < 5;) {
		int d = atomic_load(&g_done);
		if (d / every != last && n < SAMPLES_MAX) {
			last = d / every;
			xs[n] = d;
			rss[n] = (double)rss_kib(g_fx.si.pid);
			fds[n] = it_proc_fds(g_fx.si.pid);
			n++;
		}
		usleep(20000);
	}
	for (int w = 0; w < g_workers; w++)
		pthread_join(thr[w], NULL);
	free(thr);
	printf("[soak] %d cycles on %d connections in %ld ms (%d failed)\n", g_cycles, g_workers,
	       it_now_ms() - t0, atomic_load(&g_bad));
	assert_int_equal(atomic_load(&g_bad), 0);

	/* Every exit published exactly once, with its status (publishers may lag a little). */
	for (int tries = 0; tries < 200; tries++) {
		nev = it_exit_events(&g_fx.si, &ev);
		if (nev >= g_cycles)
			break;
		free(ev);
		ev = NULL;
		usleep(100000);
	}
	{
		unsigned char *seen = calloc((size_t)g_cycles, 1);
		assert_non_null(seen);
		for (int k = 0; k < nev; k++) {
			int i;
			if (!ev[k].ok || ev[k].id[0] != 'k')
				continue;
			i = atoi(ev[k].id + 1);
			if (i < 0 || i >= g_cycles || ev[k].exit_status != (uint32_t)(i % 256))
				continue;
			if (seen[i]++ == 0)
				seen_ok++;
			else
				print_error("exit of k%d published twice\n", i);
		}
		printf("[soak] exit events: %d recorded, %d distinct and right\n", nev, seen_ok);
		assert_int_equal(seen_ok, g_cycles);
		assert_int_equal(nev, g_cycles);
		free(seen);
		free(ev);
	}

	/* Flat: slopes over the second half, and fds back to their baseline. */
	{
		int h = n / 2;
		double s_rss = slope(xs + h, rss + h, n - h), s_fds = slope(xs + h, fds + h, n - h);
		int now_fds = it_proc_fds(g_fx.si.pid);
		for (int i = 0; i < 50 && now_fds != base_fds; i++) {
			usleep(100000);
			now_fds = it_proc_fds(g_fx.si.pid);
		}
		printf("[soak] %d samples; RSS %.0f -> %.0f KiB, slope over the second half %.3f "
		       "KiB per 1000 cycles; fds %d -> %d, slope %.4f per 1000 cycles\n",
		       n, n ? rss[0] : 0, n ? rss[n - 1] : 0, s_rss * 1000, base_fds, now_fds,
		       s_fds * 1000);
		assert_int_equal(now_fds, base_fds);
		(void)it_proc_children(g_fx.si.pid, &nz, desc, sizeof(desc));
		printf("[soak] zombies under the shim: %d\n", nz);
		assert_int_equal(nz, 0);
	}
	(void)it_kill(g_fx.c, g_fx.si.id, 9, false, NULL, 5000);
	(void)it_wait(g_fx.c, g_fx.si.id, NULL, NULL, 5000);
	it_fx_free(&g_fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_soak) };
	int r;
	it_require_cshim("test_soak", it_c_shim());
	if (getenv("CSHIM_SOAK_CYCLES"))
		g_cycles = atoi(getenv("CSHIM_SOAK_CYCLES"));
	if (getenv("CSHIM_SOAK_WORKERS"))
		g_workers = atoi(getenv("CSHIM_SOAK_WORKERS"));
	r = cmocka_run_group_tests_name("soak", tests, NULL, NULL);
	it_root_remove();
	return r;
}
