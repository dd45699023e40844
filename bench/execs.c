/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "bench/cli.h"
#include "bench/ctd.h"
#include "bench/execs.h"
#include "bench/procstat.h"
#include "bench/report.h"
#include "bench/shim.h"
#include "bench/util.h"

#define EVENT_TIMEOUT_MS 10000

const char *const ex_names[EX_N] = {
	"wall for N",    "cycle p50",           "shim+children CPU/exec",
	"  shim itself", "  children (reaped)", "containerd CPU/exec, pooled"
};

void execs_params_defaults(struct execs_params *p)
{
	memset(p, 0, sizeof(*p));
	p->n = 10;
	p->rounds = 5;
}

struct cycler {
	const struct bshim *b;
	struct shimclient *c;
	pthread_barrier_t *go;
	char id[48];
	uint64_t t0, t1;
	int rc;
	char err[160];
	pthread_t t;
};

static void *cycler_main(void *arg)
{
	struct cycler *y = arg;
	pthread_barrier_wait(y->go);
	y->t0 = now_ns();
	y->rc = bshim_exec_cycle(y->b, y->c, y->id, y->err, sizeof(y->err));
	y->t1 = now_ns();
	return NULL;
}

static void batch(const struct execs_params *p, struct bctd *ctd, struct bshim **sh, int s,
		  struct shimclient **conns, int round, struct ex_batch *out)
{
	int n = p->n;
	struct bshim *b = sh[s];
	struct cycler *y = calloc((size_t)n, sizeof(*y));
	char **ids = calloc((size_t)n, sizeof(*ids));
	pthread_barrier_t go;
	struct proc_cpu c0, c1;
	double ctd0;
	uint64_t t0, t1 = 0;

	memset(out, 0, sizeof(*out));
	out->cycle_ns = calloc((size_t)n, sizeof(double));
	if (!y || !ids || !out->cycle_ns)
		die("out of memory");
	out->settle_s = bshim_settle(sh, 2, 3.0);
	progress("execs round %d: %s: %d exec cycles", round + 1, b->label, n);
	pthread_barrier_init(&go, NULL, (unsigned)n + 1);
	for (int i = 0; i < n; i++) {
		y[i].b = b;
		y[i].c = conns[i];
		y[i].go = &go;
		xsnprintf(y[i].id, sizeof(y[i].id), "ex%d-%d-%d", round, s, i);
		ids[i] = y[i].id;
		if (pthread_create(&y[i].t, NULL, cycler_main, &y[i]) != 0)
			die("pthread_create: %s", strerror(errno));
	}
	c0 = proc_cpu(b->pid);
	ctd0 = bctd_cpu_s(ctd);
	pthread_barrier_wait(&go);
	t0 = now_ns();
	for (int i = 0; i < n; i++) {
		pthread_join(y[i].t, NULL);
		out->cycle_ns[i] = (double)(y[i].t1 - y[i].t0);
		if (y[i].t1 > t1)
			t1 = y[i].t1;
		if (y[i].rc == 0)
			out->cycles_ok++;
		else if (!out->error[0])
			xsnprintf(out->error, sizeof(out->error), "%s: %s", b->label, y[i].err);
	}
	out->wall_ns = (double)(t1 - t0);
	out->events = bctd_wait_exits(ctd, ids, n, EVENT_TIMEOUT_MS);
	/* Every runc and publisher reaped: their CPU is in the shim's cutime/cstime now. */
	for (uint64_t w0 = now_ns(); bshim_extra_children(b) && now_ns() - w0 < 10 * NS_PER_S;)
		sleep_s(0.01);
	c1 = proc_cpu(b->pid);
	out->self_s = c1.self_s - c0.self_s;
	out->children_s = c1.children_s - c0.children_s;
	out->ctd_cpu_s = bctd_cpu_s(ctd) - ctd0;
	out->ok = out->cycles_ok == n;
	if (out->events < out->cycles_ok && !out->error[0])
		xsnprintf(out->error, sizeof(out->error), "%s: %d of %d exits reached containerd",
			  b->label, out->events, out->cycles_ok);
	pthread_barrier_destroy(&go);
	free(y);
	free(ids);
}

int execs_run(const struct execs_params *p, struct bctd *ctd, struct execs_result *r)
{
	struct bshim *sh[2] = { NULL, NULL };
	struct shimclient **conns[2] = { NULL, NULL };

	memset(r, 0, sizeof(*r));
	r->n = p->n;
	r->rounds = p->rounds;
	bshim_use_containerd(ctd->addr, ctd->binary);
	for (int s = 0; s < 2; s++) {
		sh[s] = calloc(1, sizeof(struct bshim));
		conns[s] = calloc((size_t)p->n, sizeof(struct shimclient *));
		if (!sh[s] || !conns[s])
			die("out of memory");
		progress("execs: launching %s", p->shim[s]);
		if (bshim_launch(sh[s], p->shim[s], s ? "exB" : "exA", NULL, NULL) < 0) {
			warnx_("execs: could not launch %s", p->shim[s]);
			r->rounds = 0; /* nothing measured: every value is NaN, every target n/a */
		}
		xsnprintf(r->label[s], sizeof(r->label[s]), "%s", sh[s]->label);
		for (int i = 0; r->rounds && i < p->n; i++)
			if (!(conns[s][i] = shimclient_connect(sh[s]->si.sock, 5000))) {
				warnx_("execs: connect: %s", strerror(errno));
				r->rounds = 0;
			}
	}
	bshim_use_containerd(NULL, NULL);
	if (!strcmp(r->label[0], r->label[1])) {
		xsnprintf(r->label[0], sizeof(r->label[0]), "A");
		xsnprintf(r->label[1], sizeof(r->label[1]), "B");
	}
	for (int k = 0; k < r->rounds; k++)
		for (int j = 0; j < 2; j++) {
			int s = k % 2 ? 1 - j : j; /* A B, B A, ... */
			batch(p, ctd, sh, s, conns[s], k, &r->b[s][k]);
			if (r->b[s][k].error[0])
				warnx_("execs round %d: %s", k + 1, r->b[s][k].error);
		}
	progress("execs: tearing down");
	for (int s = 0; s < 2; s++) {
		for (int i = 0; i < p->n; i++)
			shimclient_close(conns[s][i]); /* NULL: no-op */
		free(conns[s]);
		bshim_destroy(sh[s]);
		free(sh[s]);
	}
	progress_clear();
	return 0;
}

double execs_value(const struct execs_result *r, int s, int round, int m)
{
	const struct ex_batch *b = &r->b[s][round];
	double v[1024];
	int n = 0;
	switch (m) {
	case EX_WALL: return b->ok ? b->wall_ns : NAN;
	case EX_CYCLE_P50:
		for (int i = 0; i < r->n && i < 1024; i++)
			v[n++] = b->cycle_ns[i];
		return b->ok ? pct_d(v, n, 50) : NAN;
	case EX_CPU: return (b->self_s + b->children_s) / r->n;
	case EX_CPU_SELF: return b->self_s / r->n;
	case EX_CPU_CHILDREN: return b->children_s / r->n;
	default: return b->ctd_cpu_s / r->n;
	}
}

/* containerd's CPU per exec over all rounds (its CPU moves by whole ticks: 1 ms per exec in
 * one batch of 10). */
static double ctd_pooled(const struct execs_result *r, int s)
{
	double sum = 0;
	for (int k = 0; k < r->rounds; k++)
		sum += r->b[s][k].ctd_cpu_s;
	return r->rounds ? sum / (r->n * r->rounds) : NAN;
}

double execs_median(const struct execs_result *r, int s, int m)
{
	double v[EX_MAX_ROUNDS];
	int n = 0;
	if (m == EX_CTD_CPU)
		return ctd_pooled(r, s);
	for (int k = 0; k < r->rounds; k++) {
		double x = execs_value(r, s, k, m);
		if (!isnan(x))
			v[n++] = x;
	}
	return n ? median_d(v, n) : NAN;
}

void execs_ratio(const struct execs_result *r, int m, double out[3])
{
	double a[EX_MAX_ROUNDS], b[EX_MAX_ROUNDS];
	if (m == EX_CTD_CPU) {
		double pa = ctd_pooled(r, 0), pb = ctd_pooled(r, 1);
		out[0] = out[1] = out[2] = pa > 0 && pb >= 0 ? pb / pa : NAN;
		return;
	}
	for (int k = 0; k < r->rounds; k++) {
		a[k] = execs_value(r, 0, k, m);
		b[k] = execs_value(r, 1, k, m);
		if (isnan(a[k]) || isnan(b[k]))
			a[k] = -1;
	}
	ratio_d(a, b, r->rounds, out);
}

void execs_print(FILE *f, const struct execs_result *r)
{
	fprintf(f,
		"execs: %d concurrent exec cycles (Exec+Start+Wait+DeleteProcess /bin/true, one "
		"connection each) into one container, %d round(s), A = %s, B = %s (A B, B A, "
		"...), publishing to a private containerd\n",
		r->n, r->rounds, r->label[0], r->label[1]);
	fprintf(f, "%-28s %12s %12s   %8s %8s %8s\n", "", r->label[0], r->label[1], "B/A min",
		"median", "max");
	for (int m = 0; m < EX_N; m++) {
		char a[24], b[24];
		double x[3], va = execs_median(r, 0, m), vb = execs_median(r, 1, m);
		execs_ratio(r, m, x);
		if (m <= EX_CYCLE_P50) {
			fmt_ns(a, sizeof(a), va);
			fmt_ns(b, sizeof(b), vb);
		} else {
			xsnprintf(a, sizeof(a), isnan(va) ? "-" : "%.2fms", va * 1e3);
			xsnprintf(b, sizeof(b), isnan(vb) ? "-" : "%.2fms", vb * 1e3);
		}
		fprintf(f, "%-28s %12s %12s   %8.3g %8.3g %8.3g\n", ex_names[m], a, b, x[0], x[1],
			x[2]);
	}
	for (int s = 0; s < 2; s++) {
		int ok = 0, evs = 0;
		for (int k = 0; k < r->rounds; k++) {
			ok += r->b[s][k].cycles_ok;
			evs += r->b[s][k].events;
		}
		fprintf(f, "  %s: %d/%d cycles ok, %d exits reached containerd\n", r->label[s], ok,
			r->n * r->rounds, evs);
	}
}

json_t *execs_json(const struct execs_result *r)
{
	json_t *j = json_object(), *runs = json_array(), *sum = json_object();
	json_object_set_new(j, "a", json_string(r->label[0]));
	json_object_set_new(j, "b", json_string(r->label[1]));
	json_object_set_new(j, "n", json_integer(r->n));
	json_object_set_new(j, "rounds", json_integer(r->rounds));
	for (int m = 0; m < EX_N; m++) {
		double x[3];
		execs_ratio(r, m, x);
		json_object_set_new(sum, ex_names[m] + strspn(ex_names[m], " "),
				    json_pack("{s:f,s:f,s:f,s:f,s:f}", "a_median",
					      execs_median(r, 0, m), "b_median",
					      execs_median(r, 1, m), "ratio_min", x[0],
					      "ratio_median", x[1], "ratio_max", x[2]));
	}
	json_object_set_new(j, "summary", sum);
	for (int k = 0; k < r->rounds; k++)
		for (int s = 0; s < 2; s++) {
			const struct ex_batch *b = &r->b[s][k];
			json_t *o = json_object(), *cl = json_array();
			for (int i = 0; b->cycle_ns && i < r->n; i++)
				json_array_append_new(cl, json_real(b->cycle_ns[i] / 1e6));
			json_object_set_new(o, "label", json_string(r->label[s]));
			json_object_set_new(o, "round", json_integer(k + 1));
			json_object_set_new(o, "cycles_ok", json_integer(b->cycles_ok));
			json_object_set_new(o, "events", json_integer(b->events));
			json_object_set_new(o, "wall_ms", json_real(b->wall_ns / 1e6));
			json_object_set_new(o, "cycle_ms", cl);
			json_object_set_new(o, "shim_cpu_s", json_real(b->self_s));
			json_object_set_new(o, "shim_children_cpu_s", json_real(b->children_s));
			json_object_set_new(o, "containerd_cpu_s", json_real(b->ctd_cpu_s));
			json_object_set_new(o, "settle_s", json_real(b->settle_s));
			if (b->error[0])
				json_object_set_new(o, "error", json_string(b->error));
			json_array_append_new(runs, o);
		}
	json_object_set_new(j, "runs", runs);
	return j;
}

void execs_free(struct execs_result *r)
{
	for (int s = 0; s < 2; s++)
		for (int k = 0; k < r->rounds; k++) {
			free(r->b[s][k].cycle_ns);
			r->b[s][k].cycle_ns = NULL;
		}
}

struct ex_cmd {
	struct execs_params p;
	struct execs_result *r;
};

static void ex_run(void *arg, struct bctd *ctd)
{
	struct ex_cmd *c = arg;
	execs_run(&c->p, ctd, c->r);
}

int cmd_execs(int argc, char **argv)
{
	struct ex_cmd c;
	struct ctd_cmd o = { 0 };
	int rc;

	execs_params_defaults(&c.p);
	o.n = c.p.n;
	o.rounds = c.p.rounds;
	ctd_cmd_parse("execs", argc, argv, EX_MAX_ROUNDS, &o);
	c.p.n = o.n;
	c.p.rounds = o.rounds;
	c.p.shim[0] = o.shim[0];
	c.p.shim[1] = o.shim[1];
	if (!(c.r = calloc(1, sizeof(*c.r))))
		die("out of memory");
	ctd_cmd_run("execs", &o, ex_run, &c);
	execs_print(stdout, c.r);
	ctd_cmd_json(&o, execs_json(c.r));
	rc = c.r->rounds == 0;
	for (int s = 0; s < 2; s++)
		for (int k = 0; k < c.r->rounds; k++)
			rc |= !c.r->b[s][k].ok || c.r->b[s][k].events < c.p.n;
	execs_free(c.r);
	free(c.r);
	return rc;
}
