/* SPDX-License-Identifier: Apache-2.0 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bench/cli.h"
#include "bench/ctd.h"
#include "bench/report.h"
#include "bench/shim.h"
#include "bench/util.h"
#include "bench/v2suite.h"

void v2_params_defaults(struct v2_params *p)
{
	memset(p, 0, sizeof(*p));
	p->pods = 5;
	p->extra = 8;
	p->settle_s = 12; /* longer than cshim's 10 s worker idle timeout */
	cmp_params_defaults(&p->cp_state);
	p->cp_state.nconns = 2;
	p->cp_state.conns[0] = 1;
	p->cp_state.conns[1] = 64;
	p->cp_state.duration_s = 1.0;
	p->cp_state.warmup_s = 0.3;
	p->cp_other = p->cp_state;
	p->cp_other.nmethods = 2;
	memset(p->cp_other.weights, 0, sizeof(p->cp_other.weights));
	p->cp_other.weights[0][M_PIDS] = 1;
	p->cp_other.weights[1][M_STATS] = 1;
	p->cp_other.nconns = 1;
	exitwait_params_defaults(&p->ew);
	execs_params_defaults(&p->ex);
}

void v2_params_quick(struct v2_params *p)
{
	p->pods = 2;
	p->extra = 4;
	p->settle_s = 1;
	p->cp_state.rounds = p->cp_other.rounds = 1;
	p->cp_state.duration_s = p->cp_other.duration_s = 0.3;
	p->cp_state.warmup_s = p->cp_other.warmup_s = 0.1;
	p->ew.n = 5;
	p->ew.rounds = 1;
	p->ex.rounds = 1;
}

static void settle(const char *what, double s)
{
	for (double t = 0; t < s; t += 0.5) {
		progress("v2 %s: idle %.0f/%.0fs", what, t, s);
		sleep_s(0.5);
	}
}

/* A pod: a sandbox and two containers in one shim. NULL if any step failed. */
static struct bshim *pod_launch(const char *bin, const char *tag)
{
	struct bshim *b = calloc(1, sizeof(*b));
	if (!b)
		die("out of memory");
	if (bshim_launch(b, bin, tag, NULL, NULL) == 0 && bshim_add_container(b) == 0 &&
	    bshim_add_container(b) == 0)
		return b;
	warnx_("v2: a pod of %s did not launch", bin);
	bshim_destroy(b);
	free(b);
	return NULL;
}

static void pods_run(const struct v2_params *p, struct v2_result *r)
{
	struct bshim *v[2 * V2_MAX_PODS] = { NULL };
	struct bshim *first[2] = { NULL, NULL };

	for (int i = 0; i < p->pods; i++)
		for (int s = 0; s < 2; s++) {
			struct bshim *b;
			/* The previous pod's aftermath (its runtimes, containerd taking its events)
			 * must not land in this one's `start` -> first answer. */
			bshim_settle(v, 2 * p->pods, 2.0);
			progress("v2 pods: launching %s pod %d/%d", p->shim[s], i + 1, p->pods);
			b = pod_launch(p->shim[s], s ? "podB" : "podA");
			v[2 * i + s] = b;
			if (!b)
				continue;
			r->pod[s].start_ms[r->pod[s].nok] = b->start_exit_s * 1e3;
			r->pod[s].first_ms[r->pod[s].nok++] = b->first_answer_s * 1e3;
			if (!first[s])
				first[s] = b;
		}
	settle("pods", p->settle_s);
	for (int s = 0; s < 2; s++) {
		int k = 0;
		for (int i = 0; i < p->pods; i++)
			if (v[2 * i + s])
				r->pod[s].idle[k++] = proc_mem(v[2 * i + s]->pid);
	}
	/* The slope: containers added to one shim of each binary, interleaved. */
	for (int s = 0; s < 2; s++)
		if (first[s])
			r->pod[s].before = proc_mem(first[s]->pid);
	for (int k = 0; k < p->extra; k++)
		for (int s = 0; s < 2; s++) {
			progress("v2 slope: %s container %d/%d", p->shim[s], k + 1, p->extra);
			if (first[s] && bshim_add_container(first[s]) == 0)
				r->pod[s].added++;
		}
	settle("slope", p->settle_s);
	for (int s = 0; s < 2; s++)
		if (first[s])
			r->pod[s].after = proc_mem(first[s]->pid);
	progress("v2 pods: tearing down");
	bshim_destroy_many(v, 2 * p->pods, 4);
	for (int i = 0; i < 2 * p->pods; i++)
		free(v[i]);
}

static void compare_v2(const struct v2_params *p, struct v2_result *r)
{
	struct bshim *sh[2] = { NULL, NULL };
	bool ok = true;

	for (int s = 0; s < 2; s++) {
		sh[s] = calloc(1, sizeof(struct bshim));
		if (!sh[s])
			die("out of memory");
		progress("v2 compare: launching %s", p->shim[s]);
		ok = ok &&
		     bshim_launch(sh[s], p->shim[s], s ? "v2cmpB" : "v2cmpA", NULL, NULL) == 0;
	}
	if (ok) {
		compare_run(&p->cp_state, sh, r->state);
		compare_run(&p->cp_other, sh, r->other);
	} else {
		warnx_("v2 compare: a shim did not launch");
	}
	for (int s = 0; s < 2; s++) {
		bshim_destroy(sh[s]);
		free(sh[s]);
	}
}

int v2_run(const struct v2_params *pp, struct v2_result *r)
{
	struct v2_params p = *pp;
	struct bctd ctd;

	memset(r, 0, sizeof(*r));
	r->pods = p.pods;
	r->state = calloc(1, sizeof(*r->state));
	r->other = calloc(1, sizeof(*r->other));
	r->ew = calloc(1, sizeof(*r->ew));
	r->ex = calloc(1, sizeof(*r->ex));
	if (!r->state || !r->other || !r->ew || !r->ex)
		die("out of memory");
	if (p.pods < 1 || p.pods > V2_MAX_PODS)
		die("v2: 1 <= pods <= %d", V2_MAX_PODS);
	bshim_use_v2(true);
	if (bctd_start(&ctd, p.containerd, IT_NAMESPACE) < 0) {
		warnx_("v2: no private containerd: nothing measured");
		bshim_use_v2(false);
		return -1;
	}
	r->have_ctd = true;
	bshim_use_containerd(ctd.addr, ctd.binary);
	pods_run(&p, r);
	compare_v2(&p, r);
	for (int s = 0; s < 2; s++)
		p.ew.shim[s] = p.ex.shim[s] = p.shim[s];
	exitwait_run(&p.ew, &ctd, r->ew); /* each sets and resets the containerd address */
	execs_run(&p.ex, &ctd, r->ex);
	bctd_stop(&ctd);
	bshim_use_containerd(NULL, NULL);
	bshim_use_v2(false);
	progress_clear();
	return 0;
}

/* ---- the table ---- */

static void line(FILE *f)
{
	fprintf(f, "%.*s\n", 118,
		"------------------------------------------------------------------------------"
		"--------------------------------------------------------------------");
}

static void row(FILE *f, const char *name, const char *c, const char *g, const char *ratio,
		const char *tgt, const char *res)
{
	fprintf(f, "%-38s %12s %12s  %-24s %-8s %s\n", name, c, g, ratio, tgt, res);
}

struct tctx {
	FILE *f;
	json_t *targets;
	struct v2_count *c;
};

/* A row with a target: value <= limit is met. */
static void trow(struct tctx *t, const char *name, const char *c, const char *g, const char *ratio,
		 double value, double limit)
{
	bool valid = !isnan(value) && value >= 0, pass = valid && value <= limit;
	const char *res = !valid ? "n/a" : pass ? "met" : "MISSED";
	char ts[24];

	xsnprintf(ts, sizeof(ts), "<= %g", limit);
	row(t->f, name, c, g, ratio, ts, res);
	t->c->pass += pass;
	t->c->miss += valid && !pass;
	t->c->na += !valid;
	if (t->targets)
		json_array_append_new(t->targets, json_pack("{s:s,s:f,s:s,s:f,s:s}", "target", name,
							    "value", valid ? value : -1.0, "op",
							    "<=", "limit", limit, "result", res));
}

static double mean_of(const struct v2_pods *p, int which)
{
	double sum = 0;
	for (int i = 0; i < p->nok; i++)
		sum += which == 0   ? (double)p->idle[i].private_dirty_kb
		       : which == 1 ? (double)p->idle[i].pss_kb
				    : (double)p->idle[i].fds;
	return p->nok ? sum / p->nok : NAN;
}

static int threads_max(const struct v2_pods *p, int *mn)
{
	int mx = -1;
	*mn = -1;
	for (int i = 0; i < p->nok; i++) {
		if (p->idle[i].threads > mx)
			mx = p->idle[i].threads;
		if (*mn < 0 || p->idle[i].threads < *mn)
			*mn = p->idle[i].threads;
	}
	return mx;
}

static double slope_kb(const struct v2_pods *p)
{
	if (!p->added || !p->before.ok || !p->after.ok)
		return NAN;
	return (double)(p->after.private_dirty_kb - p->before.private_dirty_kb) / p->added;
}

static const struct cmp_point *find_point(const struct cmp_result *r, int method, int conns)
{
	for (int i = 0; r && i < r->npoints; i++)
		if (r->p[i].weights[method] && r->p[i].conns == conns)
			return &r->p[i];
	return NULL;
}

static void point_row(struct tctx *t, const char *name, const struct cmp_point *pt, int metric,
		      double limit)
{
	char c[24] = "-", g[24] = "-", x[48] = "-";
	double q[3] = { NAN, NAN, NAN };
	if (pt) {
		cmp_ratio(pt, metric, &q[0], &q[1], &q[2]);
		cmp_fmt(c, sizeof(c), metric, cmp_median(pt, 1, metric));
		cmp_fmt(g, sizeof(g), metric, cmp_median(pt, 0, metric));
		cmp_ratio_fmt(x, sizeof(x), q[0], q[1], q[2]);
	}
	if (limit > 0)
		trow(t, name, c, g, x, q[1], limit);
	else
		row(t->f, name, c, g, x, "", "");
}

static void pods_rows(struct tctx *t, const struct v2_result *r)
{
	const struct v2_pods *g = &r->pod[0], *c = &r->pod[1];
	char a[32], b[32], x[48], name[64];
	double va, vb, fg[V2_MAX_PODS], fc[V2_MAX_PODS];
	int gmn, cmn, gmx, cmx;

	for (int which = 0; which < 2; which++) {
		va = mean_of(g, which);
		vb = mean_of(c, which);
		xsnprintf(name, sizeof(name), "pod (sandbox+2) idle %s/shim",
			  which ? "Pss" : "Private_Dirty");
		xsnprintf(a, sizeof(a), "%.0f kB", vb);
		xsnprintf(b, sizeof(b), "%.0f kB", va);
		xsnprintf(x, sizeof(x), "%.3g", vb / va);
		trow(t, name, a, b, x, vb / va, 0.2);
	}
	gmx = threads_max(g, &gmn);
	cmx = threads_max(c, &cmn);
	xsnprintf(a, sizeof(a), "%d-%d", cmn, cmx);
	xsnprintf(b, sizeof(b), "%d-%d", gmn, gmx);
	trow(t, "  threads/shim idle (min-max)", a, b, "(absolute, cshim max)", cmx < 0 ? NAN : cmx,
	     3);
	xsnprintf(a, sizeof(a), "%.0f", mean_of(c, 2));
	xsnprintf(b, sizeof(b), "%.0f", mean_of(g, 2));
	row(t->f, "  fds/shim (mean)", a, b, "", "", "");
	memcpy(fg, g->first_ms, sizeof(fg));
	memcpy(fc, c->first_ms, sizeof(fc));
	va = g->nok ? median_d(fg, g->nok) : NAN;
	vb = c->nok ? median_d(fc, c->nok) : NAN;
	xsnprintf(a, sizeof(a), "%.2fms", vb);
	xsnprintf(b, sizeof(b), "%.2fms", va);
	xsnprintf(x, sizeof(x), "%.3g", vb / va);
	trow(t, "`start` invoked -> Connect answered p50", a, b, x, vb / va, 0.3);
	memcpy(fg, g->start_ms, sizeof(fg));
	memcpy(fc, c->start_ms, sizeof(fc));
	va = g->nok ? median_d(fg, g->nok) : NAN;
	vb = c->nok ? median_d(fc, c->nok) : NAN;
	xsnprintf(a, sizeof(a), "%.2fms", vb);
	xsnprintf(b, sizeof(b), "%.2fms", va);
	xsnprintf(x, sizeof(x), "%.3g", vb / va);
	row(t->f, "  of which `start` ran (to its exit) p50", a, b, x, "", "");
	xsnprintf(a, sizeof(a), "%d/%d", c->nok, r->pods);
	xsnprintf(b, sizeof(b), "%d/%d", g->nok, r->pods);
	row(t->f, "  pods launched whole", a, b, "", "", "");
	va = slope_kb(g);
	vb = slope_kb(c);
	xsnprintf(name, sizeof(name), "Private_Dirty per extra container (%d)", c->added);
	xsnprintf(a, sizeof(a), "%.1f kB", vb);
	xsnprintf(b, sizeof(b), "%.1f kB", va);
	trow(t, name, a, b, "(absolute, cshim)", vb, 40);
	xsnprintf(a, sizeof(a), "%ld->%ld kB", c->before.private_dirty_kb,
		  c->after.private_dirty_kb);
	xsnprintf(b, sizeof(b), "%ld->%ld kB", g->before.private_dirty_kb,
		  g->after.private_dirty_kb);
	row(t->f, "  its shim's Private_Dirty before->after", a, b, "", "", "");
}

static void exits_rows(struct tctx *t, const struct exitwait_result *r)
{
	char a[24], b[24], x[48], name[80];
	for (int m = 0; m < EW_N; m++) {
		double q[3], vg = exitwait_median(r, 0, m), vc = exitwait_median(r, 1, m);
		exitwait_ratio(r, m, q);
		xsnprintf(name, sizeof(name), "  %s", ew_names[m]);
		if (!m)
			xsnprintf(name, sizeof(name), "%d exits at once: %s", r->n, ew_names[m]);
		cmp_fmt(a, sizeof(a), CM_P50, vc);
		cmp_fmt(b, sizeof(b), CM_P50, vg);
		cmp_ratio_fmt(x, sizeof(x), q[0], q[1], q[2]);
		if (m == EW_WAIT_P50 || m == EW_WAIT_P90)
			trow(t, name, a, b, x, q[1], 0.5);
		else
			row(t->f, name, a, b, x, "", "");
	}
	for (int s = 0, evs[2] = { 0, 0 }; s < 2; s++) {
		for (int k = 0; k < r->rounds; k++)
			evs[s] += r->b[s][k].events;
		if (s == 1) {
			xsnprintf(a, sizeof(a), "%d/%d", evs[1], r->n * r->rounds);
			xsnprintf(b, sizeof(b), "%d/%d", evs[0], r->n * r->rounds);
			row(t->f, "  exits that reached containerd", a, b, "(ctr events)", "", "");
		}
	}
}

static void execs_rows(struct tctx *t, const struct execs_result *r)
{
	char a[24], b[24], x[48], name[80];
	for (int m = 0; m < EX_N; m++) {
		double q[3], vg = execs_median(r, 0, m), vc = execs_median(r, 1, m);
		execs_ratio(r, m, q);
		xsnprintf(name, sizeof(name), "  %s", ex_names[m]);
		if (!m)
			xsnprintf(name, sizeof(name), "%d concurrent execs: wall", r->n);
		if (m <= EX_CYCLE_P50) {
			cmp_fmt(a, sizeof(a), CM_P50, vc);
			cmp_fmt(b, sizeof(b), CM_P50, vg);
		} else {
			xsnprintf(a, sizeof(a), isnan(vc) ? "-" : "%.2fms", vc * 1e3);
			xsnprintf(b, sizeof(b), isnan(vg) ? "-" : "%.2fms", vg * 1e3);
		}
		cmp_ratio_fmt(x, sizeof(x), q[0], q[1], q[2]);
		if (m == EX_WALL || m == EX_CPU)
			trow(t, name, a, b, x, q[1], 0.5);
		else
			row(t->f, name, a, b, x, "", "");
	}
}

void v2_print(FILE *f, const struct v2_params *p, const struct v2_result *r, json_t *targets,
	      struct v2_count *c)
{
	struct tctx t = { .f = f, .targets = targets, .c = c };

	fprintf(f,
		"\nruntime v2: runc-v2 = %s, cshim = %s; each started through `start`, a private "
		"containerd receiving their events\n",
		p->shim[0], p->shim[1]);
	fprintf(f,
		"ratios are cshim/runc-v2 (per round: median [min .. max]); %d pod(s) per "
		"binary, %.0fs idle before memory is read\n",
		r->pods, p->settle_s);
	line(f);
	row(f, "v2 metric", "cshim", "runc-v2", "cshim/runc-v2", "target", "result");
	line(f);
	if (!r->have_ctd) {
		fprintf(f, "v2: the private containerd did not start (see warnings)\n");
		c->na++;
		return;
	}
	pods_rows(&t, r);
	line(f);
	point_row(&t, "State 1c p50", find_point(r->state, M_STATE, 1), CM_P50, 0);
	point_row(&t, "State 64c req/s", find_point(r->state, M_STATE, 64), CM_RPS, 0);
	point_row(&t, "State 64c shim CPU/req", find_point(r->state, M_STATE, 64), CM_CPU_REQ,
		  0.35);
	point_row(&t, "Pids 1c p50", find_point(r->other, M_PIDS, 1), CM_P50, 0.05);
	point_row(&t, "Stats 1c p50", find_point(r->other, M_STATS, 1), CM_P50, 0.3);
	line(f);
	exits_rows(&t, r->ew);
	execs_rows(&t, r->ex);
	line(f);
}

json_t *v2_json(const struct v2_result *r)
{
	json_t *j = json_object(), *pods = json_array();
	for (int s = 0; s < 2; s++) {
		const struct v2_pods *p = &r->pod[s];
		json_t *o = json_object(), *mem = json_array(), *first = json_array(),
		       *startx = json_array();
		for (int i = 0; i < p->nok; i++) {
			json_array_append_new(
				mem, json_pack("{s:I,s:I,s:I,s:i,s:i}", "pss_kb",
					       (json_int_t)p->idle[i].pss_kb, "private_dirty_kb",
					       (json_int_t)p->idle[i].private_dirty_kb, "rss_kb",
					       (json_int_t)p->idle[i].rss_kb, "threads",
					       p->idle[i].threads, "fds", p->idle[i].fds));
			json_array_append_new(first, json_real(p->first_ms[i]));
			json_array_append_new(startx, json_real(p->start_ms[i]));
		}
		json_object_set_new(o, "idle", mem);
		json_object_set_new(o, "start_to_first_answer_ms", first);
		json_object_set_new(o, "start_ran_ms", startx);
		json_object_set_new(o, "slope_added", json_integer(p->added));
		json_object_set_new(o, "slope_pd_before_kb",
				    json_integer((json_int_t)p->before.private_dirty_kb));
		json_object_set_new(o, "slope_pd_after_kb",
				    json_integer((json_int_t)p->after.private_dirty_kb));
		json_array_append_new(pods, o);
	}
	json_object_set_new(j, "pods", pods);
	if (r->have_ctd) {
		json_object_set_new(j, "compare_state", compare_json(r->state));
		json_object_set_new(j, "compare_pids_stats", compare_json(r->other));
		json_object_set_new(j, "exitwait", exitwait_json(r->ew));
		json_object_set_new(j, "execs", execs_json(r->ex));
	}
	return j;
}

void v2_free(struct v2_result *r)
{
	if (r->state)
		compare_free(r->state);
	if (r->other)
		compare_free(r->other);
	if (r->ew)
		exitwait_free(r->ew);
	if (r->ex)
		execs_free(r->ex);
	free(r->state);
	free(r->other);
	free(r->ew);
	free(r->ex);
	memset(r, 0, sizeof(*r));
}

int cmd_v2(int argc, char **argv)
{
	struct v2_params p;
	struct v2_result r;
	struct v2_count c = { 0, 0, 0 };
	const char *out = NULL;
	json_t *targets = json_array();
	bool measured;
	int nb = 0;

	v2_params_defaults(&p);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--pods"))
			p.pods = (int)parse_long(a, v), i++;
		else if (!strcmp(a, "--extra"))
			p.extra = (int)parse_long(a, v), i++;
		else if (!strcmp(a, "--settle"))
			p.settle_s = parse_double(a, v), i++;
		else if (!strcmp(a, "--rounds"))
			p.cp_state.rounds = p.cp_other.rounds = (int)parse_long(a, v), i++;
		else if (!strcmp(a, "--containerd"))
			p.containerd = v, i++;
		else if (!strcmp(a, "--out"))
			out = v, i++;
		else if (!strcmp(a, "--quick"))
			v2_params_quick(&p);
		else if (a[0] != '-' && nb < 2)
			p.shim[nb++] = a;
		else
			die("v2: unknown option %s", a);
	}
	if (!p.shim[0])
		p.shim[0] = default_gov2shim();
	if (!p.shim[1])
		p.shim[1] = default_cshim();
	bshim_install_signal_cleanup();
	v2_run(&p, &r);
	it_root_remove();
	v2_print(stdout, &p, &r, targets, &c);
	printf("v2 targets: %d: met %d, MISSED %d, n/a %d\n", c.pass + c.miss + c.na, c.pass,
	       c.miss, c.na);
	if (out && mkdir_p(out) == 0) {
		char path[1024];
		json_t *j = v2_json(&r);
		json_object_set_new(j, "targets", targets);
		targets = NULL;
		xsnprintf(path, sizeof(path), "%s/v2.json", out);
		json_write_line(path, j);
		json_decref(j);
	}
	json_decref(targets);
	measured = r.have_ctd;
	v2_free(&r);
	return measured ? 0 : 1; /* a missed target is a figure, not a failure */
}
