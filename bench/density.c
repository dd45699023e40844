/* SPDX-License-Identifier: Apache-2.0 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bench/cli.h"
#include "bench/density.h"
#include "bench/report.h"
#include "bench/shim.h"
#include "bench/util.h"

void density_params_defaults(struct density_params *p)
{
	memset(p, 0, sizeof(*p));
	p->n = 50;
	p->settle_s = 12;
}

static struct density_stats stats(double *v, int n)
{
	struct density_stats s = { 0 };
	if (n <= 0)
		return s;
	for (int i = 0; i < n; i++)
		s.total += v[i];
	s.mean = s.total / n;
	s.min = min_d(v, n);
	s.max = max_d(v, n);
	s.median = median_d(v, n);
	return s;
}

int density_run(const struct density_params *p, struct density_result *res)
{
	int total = p->n * p->nshims, launched = 0;
	struct bshim **all = calloc((size_t)total, sizeof(*all));
	uint64_t t0 = now_ns();

	if (!all)
		die("out of memory");
	for (int s = 0; s < p->nshims; s++) {
		memset(&res[s], 0, sizeof(res[s]));
		shim_label(p->shim[s], res[s].label, sizeof(res[s].label));
		res[s].n = p->n;
		res[s].first_answer_s = calloc((size_t)p->n, sizeof(double));
		res[s].start_mem = calloc((size_t)p->n, sizeof(struct proc_mem));
		res[s].idle_mem = calloc((size_t)p->n, sizeof(struct proc_mem));
		if (!res[s].first_answer_s || !res[s].start_mem || !res[s].idle_mem)
			die("out of memory");
	}
	/* Interleaved launches: A1 B1 A2 B2 ... */
	for (int i = 0; i < p->n; i++) {
		for (int s = 0; s < p->nshims; s++) {
			struct bshim *b = calloc(1, sizeof(*b));
			char tag[16];
			if (!b)
				die("out of memory");
			all[i * p->nshims + s] = b;
			xsnprintf(tag, sizeof(tag), "d%d", s);
			progress("density: launching %s %d/%d (%.0fs)", res[s].label, i + 1, p->n,
				 (double)(now_ns() - t0) / 1e9);
			if (bshim_launch(b, p->shim[s], tag, NULL, NULL) < 0) {
				warnx_("density: %s #%d failed to launch", res[s].label, i + 1);
				res[s].first_answer_s[i] = NAN;
				continue;
			}
			launched++;
			res[s].first_answer_s[i] = b->first_answer_s;
			res[s].start_mem[i] = proc_mem(b->pid);
			res[s].nok++;
		}
	}
	/* Idle: nothing talks to any shim for settle_s. */
	for (double left = p->settle_s; left > 0; left -= 0.5) {
		progress("density: %d shims up, idle for %.1fs more", launched, left);
		sleep_s(left < 0.5 ? left : 0.5);
	}
	for (int i = 0; i < p->n; i++)
		for (int s = 0; s < p->nshims; s++) {
			struct bshim *b = all[i * p->nshims + s];
			if (b && b->started)
				res[s].idle_mem[i] = proc_mem(b->pid);
		}
	progress("density: tearing down %d shims", launched);
	bshim_destroy_many(all, total, 4);
	for (int i = 0; i < total; i++)
		free(all[i]);
	free(all);
	progress_clear();

	for (int s = 0; s < p->nshims; s++) {
		struct density_result *r = &res[s];
		double *v[8];
		int k = 0;
		for (int j = 0; j < 8; j++) {
			v[j] = calloc((size_t)p->n, sizeof(double));
			if (!v[j])
				die("out of memory");
		}
		for (int i = 0; i < p->n; i++) {
			if (!r->idle_mem[i].ok)
				continue;
			v[0][k] = (double)r->idle_mem[i].pss_kb;
			v[1][k] = (double)r->idle_mem[i].private_dirty_kb;
			v[2][k] = (double)r->idle_mem[i].rss_kb;
			v[3][k] = r->idle_mem[i].threads;
			v[4][k] = r->idle_mem[i].fds;
			v[5][k] = r->start_mem[i].threads;
			v[6][k] = r->first_answer_s[i] * 1e3;
			v[7][k] = (double)r->idle_mem[i].vm_data_kb;
			k++;
		}
		r->pss_kb = stats(v[0], k);
		r->pd_kb = stats(v[1], k);
		r->rss_kb = stats(v[2], k);
		r->threads = stats(v[3], k);
		r->fds = stats(v[4], k);
		r->threads_start = stats(v[5], k);
		r->first_ms = stats(v[6], k); /* sorts v[6] */
		r->first_p90_ms = k ? v[6][(int)ceil(0.9 * k) - 1] : 0;
		r->vm_data_kb = stats(v[7], k);
		for (int j = 0; j < 8; j++)
			free(v[j]);
	}
	return 0;
}

void density_print(FILE *f, const struct density_result *res, int nshims)
{
	fprintf(f,
		"density: %d shim(s) per binary, each with an idle container (launched "
		"interleaved; memory/threads/fds after the fleet idled)\n",
		res[0].n);
	fprintf(f, "%-10s %4s %12s %12s %12s %12s %12s %12s %10s %8s %8s %10s %10s\n", "", "ok",
		"Pss/shim", "PrivDirty", "Rss/shim", "VmData", "Pss total", "PrivD total",
		"threads", "thr@start", "fds", "1st ans p50", "p90/max");
	for (int s = 0; s < nshims; s++) {
		const struct density_result *r = &res[s];
		char a[24], b[24], c[24];
		xsnprintf(a, sizeof(a), "%.0f-%.0f", r->threads.min, r->threads.max);
		xsnprintf(b, sizeof(b), "%.0f-%.0f", r->threads_start.min, r->threads_start.max);
		xsnprintf(c, sizeof(c), "%.1f/%.1f", r->first_p90_ms, r->first_ms.max);
		fprintf(f,
			"%-10s %4d %9.0f kB %9.0f kB %9.0f kB %9.0f kB %9.1f MB %9.1f MB %10s %8s "
			"%8.0f %8.2fms %10s\n",
			r->label, r->nok, r->pss_kb.mean, r->pd_kb.mean, r->rss_kb.mean,
			r->vm_data_kb.mean, r->pss_kb.total / 1024, r->pd_kb.total / 1024, a, b,
			r->fds.median, r->first_ms.median, c);
	}
}

static json_t *stats_json(const struct density_stats *s)
{
	return json_pack("{s:f,s:f,s:f,s:f,s:f}", "mean", s->mean, "median", s->median, "min",
			 s->min, "max", s->max, "total", s->total);
}

json_t *density_json(const struct density_result *res, int nshims, double settle_s)
{
	json_t *j = json_object(), *arr = json_array();
	json_object_set_new(j, "n", json_integer(res[0].n));
	json_object_set_new(j, "settle_s", json_real(settle_s));
	for (int s = 0; s < nshims; s++) {
		const struct density_result *r = &res[s];
		json_t *o = json_object(), *per = json_array();
		json_object_set_new(o, "label", json_string(r->label));
		json_object_set_new(o, "ok", json_integer(r->nok));
		json_object_set_new(o, "pss_kb", stats_json(&r->pss_kb));
		json_object_set_new(o, "private_dirty_kb", stats_json(&r->pd_kb));
		json_object_set_new(o, "rss_kb", stats_json(&r->rss_kb));
		json_object_set_new(o, "vm_data_kb", stats_json(&r->vm_data_kb));
		json_object_set_new(o, "threads_idle", stats_json(&r->threads));
		json_object_set_new(o, "threads_after_start", stats_json(&r->threads_start));
		json_object_set_new(o, "fds", stats_json(&r->fds));
		json_object_set_new(o, "first_answer_ms", stats_json(&r->first_ms));
		json_object_set_new(o, "first_answer_p90_ms", json_real(r->first_p90_ms));
		for (int i = 0; i < r->n; i++) {
			const struct proc_mem *m = &r->idle_mem[i];
			json_array_append_new(
				per,
				json_pack("{s:f,s:I,s:I,s:I,s:I,s:i,s:i,s:i}", "first_answer_ms",
					  r->first_answer_s[i] * 1e3, "pss_kb",
					  (json_int_t)m->pss_kb, "private_dirty_kb",
					  (json_int_t)m->private_dirty_kb, "rss_kb",
					  (json_int_t)m->rss_kb, "vm_data_kb",
					  (json_int_t)m->vm_data_kb, "threads", m->threads, "fds",
					  m->fds, "threads_after_start", r->start_mem[i].threads));
		}
		json_object_set_new(o, "shims", per);
		json_array_append_new(arr, o);
	}
	json_object_set_new(j, "results", arr);
	return j;
}

void density_free(struct density_result *res, int nshims)
{
	for (int s = 0; s < nshims; s++) {
		free(res[s].first_answer_s);
		free(res[s].start_mem);
		free(res[s].idle_mem);
	}
}

int cmd_density(int argc, char **argv)
{
	struct density_params p;
	struct density_result res[DENSITY_MAX_SHIMS];
	const char *json_path = NULL;
	json_t *j;

	density_params_defaults(&p);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--settle"))
			p.settle_s = parse_double(a, v), i++;
		else if (!strcmp(a, "--json"))
			json_path = v, i++;
		else if (!strcmp(a, "-n") || !strcmp(a, "--n"))
			p.n = (int)parse_long(a, v), i++;
		else if (a[0] != '-' && i == 1 && strspn(a, "0123456789") == strlen(a))
			p.n = (int)parse_long("N", a);
		else if (a[0] != '-' && p.nshims < DENSITY_MAX_SHIMS)
			p.shim[p.nshims++] = a;
		else
			die("density: unknown option %s", a);
	}
	if (p.n < 1)
		die("density: N must be >= 1");
	if (!p.nshims) {
		p.shim[p.nshims++] = default_goshim();
		p.shim[p.nshims++] = default_cshim();
	}
	bshim_install_signal_cleanup();
	density_run(&p, res);
	it_root_remove();
	density_print(stdout, res, p.nshims);
	j = density_json(res, p.nshims, p.settle_s);
	json_dumpf(j, stdout, JSON_COMPACT | JSON_REAL_PRECISION(6));
	putchar('\n');
	if (json_path && json_write_line(json_path, j) < 0)
		warnx_("writing %s failed", json_path);
	json_decref(j);
	density_free(res, p.nshims);
	return 0;
}
