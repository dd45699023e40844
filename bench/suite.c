/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `suite` (what `make bench` runs): pingpong, compare (Go shim = A, cshim = B) for State,
 * ListPids and ShimInfo at 1, 8 and 64 connections, churn, exitwait 20 and execs 10 (shims
 * publishing to a private containerd), density 50; then the runtime v2 table (bench/v2suite.h:
 * containerd-shim-runc-v2 against cshim, both started through `start`). Writes JSON and SVG
 * into --out and prints the side-by-side tables with PASS/MISS (v2: met/MISSED) per target
 * (ratios are cshim/go and cshim/runc-v2 measured in this run).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "bench/churn.h"
#include "bench/cli.h"
#include "bench/compare.h"
#include "bench/ctd.h"
#include "bench/density.h"
#include "bench/execs.h"
#include "bench/exitwait.h"
#include "bench/pingpong.h"
#include "bench/procstat.h"
#include "bench/report.h"
#include "bench/shim.h"
#include "bench/svg.h"
#include "bench/util.h"
#include "bench/v2suite.h"

struct target {
	char name[96];
	double value, limit;
	bool le; /* value <= limit passes (else >=) */
	bool pass, valid;
};

static struct target g_t[32];
static int g_nt;

static const struct target *add_target(const char *name, double value, bool le, double limit)
{
	struct target *t = &g_t[g_nt++];
	xsnprintf(t->name, sizeof(t->name), "%s", name);
	t->value = value;
	t->limit = limit;
	t->le = le;
	t->valid = !isnan(value) && value >= 0;
	t->pass = t->valid && (le ? value <= limit : value >= limit);
	return t;
}

static const char *tgt_str(char *b, size_t n, const struct target *t)
{
	xsnprintf(b, n, "%s %g", t->le ? "<=" : ">=", t->limit);
	return b;
}

static const char *res_str(const struct target *t)
{
	return !t->valid ? "n/a" : t->pass ? "PASS" : "MISS";
}

static void line(void)
{
	printf("%.*s\n", 118,
	       "----------------------------------------------------------------------------"
	       "----------------------------------------------------------------------");
}

static void row(const char *name, const char *a, const char *b, const char *ratio,
		const struct target *t)
{
	char ts[32] = "";
	if (t)
		tgt_str(ts, sizeof(ts), t);
	printf("%-36s %12s %12s  %-24s %-10s %s\n", name, a, b, ratio, ts, t ? res_str(t) : "");
}

/* The floor is measured in the same rounds as State on one connection: pingpong, go, cshim. */
struct floor_ctx {
	struct pingpong_params *ppp;
	struct load_result *pp[CMP_MAX_ROUNDS];
	int n;
	size_t req, resp;
};

static void floor_round(void *arg, const struct cmp_point *p, int round)
{
	struct floor_ctx *fc = arg;
	if (!p->weights[M_STATE] || p->weights[M_LISTPIDS] || p->weights[M_SHIMINFO] ||
	    p->conns != 1 || p->streams != 1 || round >= CMP_MAX_ROUNDS)
		return;
	fc->pp[round] = calloc(1, sizeof(struct load_result));
	if (!fc->pp[round])
		die("out of memory");
	pingpong_run(fc->ppp, fc->pp[round], &fc->req, &fc->resp);
	if (round + 1 > fc->n)
		fc->n = round + 1;
}

static void out_path(char *buf, size_t n, const char *dir, const char *name)
{
	xsnprintf(buf, n, "%s/%s", dir, name);
}

/* The rows of exitwait and execs; targets on the ratios (per round, median). */
static void exits_rows(const struct exitwait_result *r)
{
	int evs[2] = { 0, 0 };
	char a[24], b[24], x[48], name[80];
	for (int m = 0; m < EW_N; m++) {
		double q[3], va = exitwait_median(r, 0, m), vb = exitwait_median(r, 1, m);
		const struct target *t = NULL;
		exitwait_ratio(r, m, q);
		xsnprintf(name, sizeof(name), "%s%s", m ? "  " : "", ew_names[m]);
		if (!m)
			xsnprintf(name, sizeof(name), "%d exits at once: %s", r->n, ew_names[m]);
		if (m == EW_WAIT_P50 || m == EW_WAIT_P90) {
			char tn[96];
			xsnprintf(tn, sizeof(tn), "exitwait %d %s (ratio)", r->n, ew_names[m]);
			t = add_target(tn, q[1], true, 0.5);
		}
		cmp_fmt(a, sizeof(a), CM_P50, va);
		cmp_fmt(b, sizeof(b), CM_P50, vb);
		row(name, a, b, cmp_ratio_fmt(x, sizeof(x), q[0], q[1], q[2]), t);
	}
	for (int s = 0; s < 2; s++)
		for (int k = 0; k < r->rounds; k++)
			evs[s] += r->b[s][k].events;
	xsnprintf(a, sizeof(a), "%d/%d", evs[0], r->n * r->rounds);
	xsnprintf(b, sizeof(b), "%d/%d", evs[1], r->n * r->rounds);
	row("  exits that reached containerd", a, b, "(ctr events)", NULL);
}

static void execs_rows(const struct execs_result *r)
{
	char a[24], b[24], x[48], name[80];
	for (int m = 0; m < EX_N; m++) {
		double q[3], va = execs_median(r, 0, m), vb = execs_median(r, 1, m);
		const struct target *t = NULL;
		execs_ratio(r, m, q);
		xsnprintf(name, sizeof(name), "  %s", ex_names[m]);
		if (!m)
			xsnprintf(name, sizeof(name), "%d concurrent execs: wall", r->n);
		if (m == EX_WALL || m == EX_CPU) {
			char tn[96];
			xsnprintf(tn, sizeof(tn), "execs %d %s (ratio)", r->n, ex_names[m]);
			t = add_target(tn, q[1], true, 0.5);
		}
		if (m <= EX_CYCLE_P50) {
			cmp_fmt(a, sizeof(a), CM_P50, va);
			cmp_fmt(b, sizeof(b), CM_P50, vb);
		} else {
			xsnprintf(a, sizeof(a), isnan(va) ? "-" : "%.2fms", va * 1e3);
			xsnprintf(b, sizeof(b), isnan(vb) ? "-" : "%.2fms", vb * 1e3);
		}
		row(name, a, b, cmp_ratio_fmt(x, sizeof(x), q[0], q[1], q[2]), t);
	}
}

int cmd_suite(int argc, char **argv)
{
	const char *go = default_goshim(), *cs = default_cshim(), *out = "bench/results";
	const char *gov2 = default_gov2shim();
	bool quick = false, with_v2 = true;
	struct v2_params v2p;
	struct v2_result v2r;
	struct v2_count v2c = { 0, 0, 0 };
	struct cmp_params cp;
	struct cmp_result *cmp = calloc(1, sizeof(*cmp));
	struct load_result *pp = calloc(1, sizeof(*pp));
	struct floor_ctx fc = { .ppp = NULL };
	struct density_params dp;
	struct exitwait_params ewp;
	struct execs_params exp_;
	struct exitwait_result *ew = calloc(1, sizeof(*ew));
	struct execs_result *ex = calloc(1, sizeof(*ex));
	struct bctd ctd;
	bool have_ctd = false;
	struct density_result dr[2];
	struct churn_params chp;
	struct churn_result chr_r[CMP_MAX_ROUNDS][2], *chr;
	int churn_rounds = 3;
	struct bshim *sh[2];
	struct pingpong_params ppp = { 0 };
	char path[1024];
	uint64_t t0 = now_ns();
	struct utsname un;
	json_t *summary = json_object(), *targets = json_array();
	int misses = 0, passes = 0, na = 0;
	double busy_before = 0;
	struct sys_cpu busy0, busy1;

	if (!cmp || !pp || !ew || !ex)
		die("out of memory");
	exitwait_params_defaults(&ewp);
	execs_params_defaults(&exp_);
	cmp_params_defaults(&cp);
	density_params_defaults(&dp);
	churn_params_defaults(&chp);
	v2_params_defaults(&v2p);
	memset(&v2r, 0, sizeof(v2r));
	/* Budget (2 cores, < 5 min in all): 9 points x 3 rounds x 2 shims x 1.3s, churn 3 phases
	 * and 2 floor windows x 2 shims x 3 rounds, density 2 x 50 shims + 12s idle. */
	cp.nmethods = 3;
	memset(cp.weights, 0, sizeof(cp.weights));
	cp.weights[0][M_STATE] = 1;
	cp.weights[1][M_LISTPIDS] = 1;
	cp.weights[2][M_SHIMINFO] = 1;
	cp.nconns = 3;
	cp.conns[0] = 1;
	cp.conns[1] = 8;
	cp.conns[2] = 64;
	cp.rounds = 3;
	cp.duration_s = 1.0;
	cp.warmup_s = 0.3;
	dp.n = 50;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--go"))
			go = v, i++;
		else if (!strcmp(a, "--cshim"))
			cs = v, i++;
		else if (!strcmp(a, "--gov2"))
			gov2 = v, i++;
		else if (!strcmp(a, "--no-v2"))
			with_v2 = false;
		else if (!strcmp(a, "--out"))
			out = v, i++;
		else if (!strcmp(a, "--rounds"))
			cp.rounds = (int)parse_long(a, v), i++;
		else if (!strcmp(a, "--duration"))
			cp.duration_s = parse_double(a, v), i++;
		else if (!strcmp(a, "--density"))
			dp.n = (int)parse_long(a, v), i++;
		else if (!strcmp(a, "--settle"))
			dp.settle_s = parse_double(a, v), i++;
		else if (!strcmp(a, "--quick"))
			quick = true;
		else
			die("suite: unknown option %s", a);
	}
	if (!go || !cs || !out || !gov2)
		die("suite: option without value");
	if (quick) {
		cp.rounds = 1;
		cp.duration_s = 0.3;
		cp.warmup_s = 0.1;
		chp.duration_s = 0.5;
		chp.warmup_s = 0.1;
		dp.n = 4;
		dp.settle_s = 1;
		ewp.n = 5;
		ewp.rounds = 1;
		exp_.rounds = 1;
		v2_params_quick(&v2p);
	}
	if (cp.rounds < 1 || cp.rounds > CMP_MAX_ROUNDS)
		die("--rounds must be 1..%d", CMP_MAX_ROUNDS);
	if (mkdir_p(out) < 0)
		die("cannot create %s", out);
	bshim_install_signal_cleanup();
	uname(&un);
	{
		/* Is anything else using the machine? Every number below assumes it is idle. */
		struct sys_cpu a = sys_cpu(), b;
		sleep_s(1);
		b = sys_cpu();
		busy_before = sys_cpu_busy(&a, &b);
		if (busy_before > 0.1)
			warnx_("the machine is %.0f%% busy before the benchmark started: other "
			       "processes compete with the shims; expect noisy numbers",
			       busy_before * 100);
	}

	busy0 = sys_cpu();
	/* 1. the two shims compared; pingpong uses cshim's real State bytes */
	for (int s = 0; s < 2; s++) {
		sh[s] = calloc(1, sizeof(struct bshim));
		if (!sh[s])
			die("out of memory");
		if (bshim_launch(sh[s], s ? cs : go, s ? "cmpB" : "cmpA", NULL, NULL) < 0) {
			bshim_destroy(sh[0]);
			bshim_destroy(sh[1]);
			it_root_remove();
			die("could not launch %s", s ? cs : go);
		}
	}
	ppp.container_id = sh[1]->si.id;
	ppp.resp_payload = sh[1]->state_payload;
	ppp.resp_plen = sh[1]->state_plen;
	ppp.duration_s = cp.duration_s;
	ppp.warmup_s = cp.warmup_s;
	fc.ppp = &ppp;
	cp.before_round = floor_round;
	cp.hook_arg = &fc;
	compare_run(&cp, sh, cmp);
	/* all pingpong rounds in one histogram (plot, JSON) */
	hist_init(&pp->all);
	for (int m = 0; m < M_COUNT; m++)
		hist_init(&pp->per[m]);
	for (int r = 0; r < fc.n; r++) {
		hist_merge(&pp->all, &fc.pp[r]->all);
		hist_merge(&pp->per[M_STATE], &fc.pp[r]->per[M_STATE]);
		pp->ok += fc.pp[r]->ok;
		pp->window_s += fc.pp[r]->window_s;
		pp->shim_cpu_s += fc.pp[r]->shim_cpu_s;
		pp->client_cpu_s += fc.pp[r]->client_cpu_s;
	}
	pp->weights[M_STATE] = 1;
	pp->conns = pp->streams = 1;
	pp->rps = pp->window_s > 0 ? (double)pp->ok / pp->window_s : 0;
	bshim_destroy(sh[0]);
	bshim_destroy(sh[1]);
	free(sh[0]);
	free(sh[1]);

	/* 2. churn: rounds, each with fresh shims, phases interleaved go/cshim */
	chp.nshims = 2;
	chp.shim[0] = go;
	chp.shim[1] = cs;
	if (quick)
		churn_rounds = 1;
	for (int r = 0; r < churn_rounds; r++)
		churn_run(&chp, chr_r[r]);
	chr = chr_r[0];

	/* 3. exits and execs, the shims publishing to a real containerd */
	ewp.shim[0] = exp_.shim[0] = go;
	ewp.shim[1] = exp_.shim[1] = cs;
	have_ctd = bctd_start(&ctd, NULL, IT_NAMESPACE) == 0;
	if (have_ctd) {
		exitwait_run(&ewp, &ctd, ew);
		execs_run(&exp_, &ctd, ex);
		bctd_stop(&ctd);
	}

	/* 4. density */
	dp.nshims = 2;
	dp.shim[0] = go;
	dp.shim[1] = cs;
	density_run(&dp, dr);

	/* 5. the runtime v2 table: runc-v2 = A, cshim = B */
	if (with_v2) {
		v2p.shim[0] = gov2;
		v2p.shim[1] = cs;
		v2_run(&v2p, &v2r);
	}
	it_root_remove();

	busy1 = sys_cpu();
	/* ---- files ---- */
	{
		json_t *j = lr_json("pingpong", pp), *rounds = json_array();
		json_object_set_new(j, "request_bytes", json_integer((json_int_t)fc.req));
		json_object_set_new(j, "response_bytes", json_integer((json_int_t)fc.resp));
		for (int r = 0; r < fc.n; r++)
			json_array_append_new(rounds, lr_json("pingpong", fc.pp[r]));
		json_object_set_new(j, "rounds", rounds);
		out_path(path, sizeof(path), out, "pingpong.json");
		json_write_line(path, j);
		json_decref(j);
		struct svg_series s = { "pingpong", &pp->all };
		out_path(path, sizeof(path), out, "pingpong.svg");
		svg_cdf(path, "pingpong: State-sized AF_UNIX request/response (the floor)", &s, 1);
	}
	{
		json_t *j = compare_json(cmp);
		out_path(path, sizeof(path), out, "compare.json");
		json_write_line(path, j);
		json_decref(j);
		out_path(path, sizeof(path), out, "compare");
		compare_plots(cmp, path);
	}
	{
		json_t *j = json_object(), *arr = json_array();
		for (int r = 0; r < churn_rounds; r++)
			json_array_append_new(arr, churn_json(&chp, chr_r[r]));
		json_object_set_new(j, "rounds", arr);
		out_path(path, sizeof(path), out, "churn.json");
		json_write_line(path, j);
		json_decref(j);
		out_path(path, sizeof(path), out, "churn.svg");
		churn_plot(&chp, chr, path);
	}
	if (have_ctd) {
		json_t *j = exitwait_json(ew);
		out_path(path, sizeof(path), out, "exitwait.json");
		json_write_line(path, j);
		json_decref(j);
		j = execs_json(ex);
		out_path(path, sizeof(path), out, "execs.json");
		json_write_line(path, j);
		json_decref(j);
	}
	{
		json_t *j = density_json(dr, 2, dp.settle_s);
		out_path(path, sizeof(path), out, "density.json");
		json_write_line(path, j);
		json_decref(j);
	}

	/* ---- the table ---- */
	printf("\ncshim-bench suite: go = %s, cshim = %s\n", go, cs);
	printf("machine: %ld CPUs, %s %s; rpc: %d round(s) x %.1fs (+%.1fs warm-up) per point, "
	       "closed loop, Go and cshim interleaved; total %.0fs\n",
	       sysconf(_SC_NPROCESSORS_ONLN), un.sysname, un.release, cp.rounds, cp.duration_s,
	       cp.warmup_s, (double)(now_ns() - t0) / 1e9);
	printf("machine busy before start: %.0f%% (1s probe); average during the run: %.0f%%\n",
	       busy_before * 100, sys_cpu_busy(&busy0, &busy1) * 100);
	printf("ratios are cshim/go per round: median [min .. max]; latencies measured by the "
	       "client from send (closed loop) or intended send (open loop)\n");
	line();
	printf("%-36s %12s %12s  %-24s %-10s %s\n", "metric", "go", "cshim", "cshim/go", "target",
	       "result");
	line();
	for (int i = 0; i < cmp->npoints; i++) {
		const struct cmp_point *p = &cmp->p[i];
		int mlist[] = { CM_RPS, CM_P50, CM_P99, CM_P999, CM_CPU_REQ };
		char pn[64];
		int method = p->weights[M_STATE]      ? M_STATE
			     : p->weights[M_LISTPIDS] ? M_LISTPIDS
						      : M_SHIMINFO;
		cmp_point_name(p, pn, sizeof(pn));
		for (size_t k = 0; k < sizeof(mlist) / sizeof(mlist[0]); k++) {
			int m = mlist[k];
			char name[80], a[24], b[24], r[48], tn[96];
			double mn, med, mx;
			const struct target *t = NULL;
			cmp_ratio(p, m, &mn, &med, &mx);
			xsnprintf(name, sizeof(name), "%s %s", pn, cm_names[m]);
			xsnprintf(tn, sizeof(tn), "%s (ratio)", name);
			if (p->conns == 64 && method != M_LISTPIDS &&
			    (m == CM_RPS || m == CM_P99 || m == CM_CPU_REQ))
				t = add_target(tn, med, m != CM_RPS,
					       m == CM_RPS   ? 2
					       : m == CM_P99 ? 0.5
							     : 0.35);
			if (method == M_LISTPIDS && m == CM_P50)
				t = add_target(tn, med, true, 0.05);
			row(name, cmp_fmt(a, sizeof(a), m, cmp_median(p, 0, m)),
			    cmp_fmt(b, sizeof(b), m, cmp_median(p, 1, m)),
			    cmp_ratio_fmt(r, sizeof(r), mn, med, mx), t);
		}
		{
			char a[24], b[24];
			double ea = cmp_median(p, 0, CM_ERRORS), eb = cmp_median(p, 1, CM_ERRORS);
			if (ea > 0 || eb > 0) {
				xsnprintf(a, sizeof(a), "%.0f", ea);
				xsnprintf(b, sizeof(b), "%.0f", eb);
				row("  errors (median)", a, b, "", NULL);
			}
		}
	}
	line();
	{
		char a[24], b[24], r[48], name[80];
		double fp50[CMP_MAX_ROUNDS], fp99[CMP_MAX_ROUNDS], xg[CMP_MAX_ROUNDS],
			xc[CMP_MAX_ROUNDS];
		const struct cmp_point *s1 = NULL;
		for (int i = 0; i < cmp->npoints; i++)
			if (cmp->p[i].weights[M_STATE] && !cmp->p[i].weights[M_LISTPIDS] &&
			    !cmp->p[i].weights[M_SHIMINFO] && cmp->p[i].conns == 1 &&
			    cmp->p[i].streams == 1)
				s1 = &cmp->p[i];
		for (int k = 0; k < fc.n; k++) {
			fp50[k] = hist_pct(&fc.pp[k]->all, 50);
			fp99[k] = hist_pct(&fc.pp[k]->all, 99);
			if (s1) {
				xg[k] = cm_value(s1->res[0][k], CM_P50) / fp50[k];
				xc[k] = cm_value(s1->res[1][k], CM_P50) / fp50[k];
			}
		}
		xsnprintf(name, sizeof(name), "pingpong floor p50 (%zu+%zu B)", fc.req, fc.resp);
		fmt_ns(a, sizeof(a), median_d(fp50, fc.n));
		row(name, a, a, "(same rounds as State 1c)", NULL);
		fmt_ns(a, sizeof(a), median_d(fp99, fc.n));
		row("pingpong floor p99", a, a, "", NULL);
		if (s1 && fc.n) {
			double mg = median_d(xg, fc.n), mc;
			double mnc = min_d(xc, fc.n), mxc = max_d(xc, fc.n);
			mc = median_d(xc, fc.n);
			const struct target *t =
				add_target("State 1c p50 / pingpong p50 (cshim)", mc, true, 2);
			xsnprintf(a, sizeof(a), "%.2fx", mg);
			xsnprintf(b, sizeof(b), "%.2fx", mc);
			xsnprintf(r, sizeof(r), "x floor [%.2f .. %.2f]", mnc, mxc);
			row("State 1c p50 / pingpong p50", a, b, r, t);
		}
	}
	line();
	{
		struct density_result *g = &dr[0], *c = &dr[1];
		char a[24], b[24], r[48], name[64];
		const struct target *t;
		xsnprintf(name, sizeof(name), "density %d: Pss/shim (idle)", dp.n);
		xsnprintf(a, sizeof(a), "%.0f kB", g->pss_kb.mean);
		xsnprintf(b, sizeof(b), "%.0f kB", c->pss_kb.mean);
		t = add_target("density Pss per shim (ratio)", c->pss_kb.mean / g->pss_kb.mean,
			       true, 0.3);
		xsnprintf(r, sizeof(r), "%.3g", t->value);
		row(name, a, b, r, t);
		xsnprintf(a, sizeof(a), "%.0f kB", g->pd_kb.mean);
		xsnprintf(b, sizeof(b), "%.0f kB", c->pd_kb.mean);
		t = add_target("density idle Private_Dirty per shim (ratio)",
			       c->pd_kb.mean / g->pd_kb.mean, true, 0.3);
		xsnprintf(r, sizeof(r), "%.3g", t->value);
		row("  Private_Dirty/shim (idle)", a, b, r, t);
		xsnprintf(a, sizeof(a), "%.0f kB", g->rss_kb.mean);
		xsnprintf(b, sizeof(b), "%.0f kB", c->rss_kb.mean);
		xsnprintf(r, sizeof(r), "%.3g", c->rss_kb.mean / g->rss_kb.mean);
		row("  Rss/shim (idle)", a, b, r, NULL);
		xsnprintf(a, sizeof(a), "%.0f kB", g->vm_data_kb.mean);
		xsnprintf(b, sizeof(b), "%.0f kB", c->vm_data_kb.mean);
		xsnprintf(r, sizeof(r), "%.3g", c->vm_data_kb.mean / g->vm_data_kb.mean);
		row("  VmData/shim (commit charge)", a, b, r, NULL);
		xsnprintf(a, sizeof(a), "%.1f MB", g->pss_kb.total / 1024);
		xsnprintf(b, sizeof(b), "%.1f MB", c->pss_kb.total / 1024);
		xsnprintf(r, sizeof(r), "%.3g", c->pss_kb.total / g->pss_kb.total);
		row("  Pss total", a, b, r, NULL);
		xsnprintf(a, sizeof(a), "%.1f MB", g->pd_kb.total / 1024);
		xsnprintf(b, sizeof(b), "%.1f MB", c->pd_kb.total / 1024);
		xsnprintf(r, sizeof(r), "%.3g", c->pd_kb.total / g->pd_kb.total);
		row("  Private_Dirty total", a, b, r, NULL);
		xsnprintf(a, sizeof(a), "%.0f-%.0f", g->threads.min, g->threads.max);
		xsnprintf(b, sizeof(b), "%.0f-%.0f", c->threads.min, c->threads.max);
		t = add_target("threads per idle cshim (max)", c->threads.max, true, 3);
		row("  threads/shim idle (min-max)", a, b, "(absolute)", t);
		xsnprintf(a, sizeof(a), "%.0f-%.0f", g->threads_start.min, g->threads_start.max);
		xsnprintf(b, sizeof(b), "%.0f-%.0f", c->threads_start.min, c->threads_start.max);
		row("  threads/shim right after Start", a, b, "", NULL);
		xsnprintf(a, sizeof(a), "%.0f", g->fds.median);
		xsnprintf(b, sizeof(b), "%.0f", c->fds.median);
		xsnprintf(r, sizeof(r), "%.3g", c->fds.median / g->fds.median);
		row("  fds/shim (median)", a, b, r, NULL);
		xsnprintf(a, sizeof(a), "%.2fms", g->first_ms.median);
		xsnprintf(b, sizeof(b), "%.2fms", c->first_ms.median);
		t = add_target("start-to-first-answer p50 (ratio)",
			       c->first_ms.median / g->first_ms.median, true, 0.5);
		xsnprintf(r, sizeof(r), "%.3g", t->value);
		row("  start-to-first-answer p50", a, b, r, t);
		xsnprintf(a, sizeof(a), "%.2f/%.2fms", g->first_p90_ms, g->first_ms.max);
		xsnprintf(b, sizeof(b), "%.2f/%.2fms", c->first_p90_ms, c->first_ms.max);
		row("  start-to-first-answer p90/max", a, b, "", NULL);
		xsnprintf(a, sizeof(a), "%d/%d", g->nok, dp.n);
		xsnprintf(b, sizeof(b), "%d/%d", c->nok, dp.n);
		row("  shims launched ok", a, b, "", NULL);
	}
	line();
	if (chr[0].ok && chr[1].ok) {
		char a[24], b[24], r[48], name[80];
		int nr = 0;
		for (int k = 0; k < churn_rounds; k++)
			nr += chr_r[k][0].ok && chr_r[k][1].ok;
		for (int ph = 0; ph < PH_N; ph++) {
			double vg[CMP_MAX_ROUNDS], vc[CMP_MAX_ROUNDS], xg[CMP_MAX_ROUNDS],
				xc[CMP_MAX_ROUNDS], rr[CMP_MAX_ROUNDS];
			int n = 0;
			for (int k = 0; k < churn_rounds; k++) {
				if (!chr_r[k][0].ok || !chr_r[k][1].ok)
					continue;
				vg[n] = hist_pct(&chr_r[k][0].ph[ph]->all, 99);
				vc[n] = hist_pct(&chr_r[k][1].ph[ph]->all, 99);
				xg[n] = vg[n] / hist_pct(&chr_r[k][0].ph[PH_IDLE]->all, 99);
				xc[n] = vc[n] / hist_pct(&chr_r[k][1].ph[PH_IDLE]->all, 99);
				rr[n] = vc[n] / vg[n];
				n++;
			}
			if (ph == PH_IDLE)
				xsnprintf(name, sizeof(name), "State p99 idle (open %.0f/s)",
					  chp.rate);
			else if (ph == PH_CHURN)
				xsnprintf(name, sizeof(name), "State p99 during exec churn");
			else
				xsnprintf(name, sizeof(name), "State p99 while `%s` hangs",
					  chp.hang_on);
			fmt_ns(a, sizeof(a), median_d(vg, n));
			fmt_ns(b, sizeof(b), median_d(vc, n));
			{
				double mn = min_d(rr, n), mx = max_d(rr, n), md = median_d(rr, n);
				cmp_ratio_fmt(r, sizeof(r), mn, md, mx);
			}
			row(name, a, b, r, NULL);
			if (ph != PH_IDLE) {
				char tn[96];
				double mnc = min_d(xc, n), mxc = max_d(xc, n);
				const struct target *t;
				xsnprintf(tn, sizeof(tn), "%s / cshim idle p99 (same round)", name);
				t = add_target(tn, median_d(xc, n), true, 2);
				xsnprintf(a, sizeof(a), "%.2fx", median_d(xg, n));
				xsnprintf(b, sizeof(b), "%.2fx", t->value);
				xsnprintf(r, sizeof(r), "x own idle [%.2f .. %.2f]", mnc, mxc);
				row("  / own idle p99, per round", a, b, r, t);
			}
		}
		{
			/* The floor: the same client and rate against a zero-work server, during the
			 * same churn (each shim's), and that server idle. */
			double pg[CMP_MAX_ROUNDS], pc[CMP_MAX_ROUNDS], ig[CMP_MAX_ROUNDS],
				ic[CMP_MAX_ROUNDS], qg[CMP_MAX_ROUNDS], qc[CMP_MAX_ROUNDS];
			int n = 0;
			for (int k = 0; k < churn_rounds; k++) {
				const struct churn_result *g = &chr_r[k][0], *c = &chr_r[k][1];
				if (!g->ok || !c->ok)
					continue;
				pg[n] = hist_pct(&g->floor[1]->all, 99);
				pc[n] = hist_pct(&c->floor[1]->all, 99);
				ig[n] = pg[n] / hist_pct(&g->floor[0]->all, 99);
				ic[n] = pc[n] / hist_pct(&c->floor[0]->all, 99);
				qg[n] = hist_pct(&g->ph[PH_CHURN]->all, 99) / pg[n];
				qc[n] = hist_pct(&c->ph[PH_CHURN]->all, 99) / pc[n];
				n++;
			}
			row("zero-work server p99, same churn",
			    fmt_ns(a, sizeof(a), median_d(pg, n)),
			    fmt_ns(b, sizeof(b), median_d(pc, n)), "(the floor: pingpong's server)",
			    NULL);
			xsnprintf(a, sizeof(a), "%.2fx", median_d(ig, n));
			xsnprintf(b, sizeof(b), "%.2fx", median_d(ic, n));
			xsnprintf(r, sizeof(r), "x its idle [%.2f .. %.2f]", min_d(ic, n),
				  max_d(ic, n));
			row("  / its own idle p99, per round", a, b, r, NULL);
			xsnprintf(a, sizeof(a), "%.2fx", median_d(qg, n));
			xsnprintf(b, sizeof(b), "%.2fx", median_d(qc, n));
			xsnprintf(r, sizeof(r), "x floor [%.2f .. %.2f]", min_d(qc, n),
				  max_d(qc, n));
			row("  shim's churn p99 / this floor", a, b, r, NULL);
		}
		for (int ph = PH_CHURN; ph <= PH_HANG; ph++) {
			double mg[CMP_MAX_ROUNDS], mc[CMP_MAX_ROUNDS];
			int n = 0;
			for (int k = 0; k < churn_rounds; k++)
				if (chr_r[k][0].ok && chr_r[k][1].ok) {
					mg[n] = (double)chr_r[k][0].ph[ph]->all.max;
					mc[n] = (double)chr_r[k][1].ph[ph]->all.max;
					n++;
				}
			xsnprintf(name, sizeof(name), "  State max %s (median)",
				  ph == PH_CHURN ? "during churn" : "while hung");
			row(name, fmt_ns(a, sizeof(a), median_d(mg, n)),
			    fmt_ns(b, sizeof(b), median_d(mc, n)), "", NULL);
		}
		{
			double e[2] = { 0, 0 }, kl[2] = { 0, 0 }, rq[2][2] = { { 0, 0 }, { 0, 0 } },
			       busy[2] = { 0, 0 }, hang[2] = { 0, 0 };
			bool covered[2] = { true, true };
			for (int k = 0; k < churn_rounds; k++) {
				if (!chr_r[k][0].ok || !chr_r[k][1].ok)
					continue;
				for (int s2 = 0; s2 < 2; s2++) {
					const struct churn_result *c = &chr_r[k][s2];
					e[s2] += (double)c->execs_ok / c->churn_elapsed_s / nr;
					kl[s2] += (double)c->kills_ok / c->churn_elapsed_s / nr;
					busy[s2] += c->ph[PH_CHURN]->sys_busy / nr;
					hang[s2] += c->hang_op_s / nr;
					covered[s2] = covered[s2] && c->hang_covered_window;
					for (int ph = PH_IDLE; ph <= PH_CHURN; ph++) {
						const struct load_result *l = c->ph[ph];
						uint64_t nreq = l->ok + l->errors;
						rq[s2][ph] += nreq ? l->shim_run_delay_s * 1e6 /
									      (double)nreq / nr
								   : 0;
					}
				}
			}
			xsnprintf(a, sizeof(a), "%.1f/s", e[0]);
			xsnprintf(b, sizeof(b), "%.1f/s", e[1]);
			row("  exec cycles done during churn", a, b, "(mean of rounds)", NULL);
			xsnprintf(a, sizeof(a), "%.1f/s", kl[0]);
			xsnprintf(b, sizeof(b), "%.1f/s", kl[1]);
			row("  kills done during churn", a, b, "", NULL);
			for (int ph = PH_IDLE; ph <= PH_CHURN; ph++) {
				xsnprintf(a, sizeof(a), "%.1fus", rq[0][ph]);
				xsnprintf(b, sizeof(b), "%.1fus", rq[1][ph]);
				row(ph == PH_IDLE ? "  shim run-queue wait/req, idle"
						  : "  shim run-queue wait/req, churn",
				    a, b, "", NULL);
			}
			xsnprintf(a, sizeof(a), "%.0f%%", busy[0] * 100);
			xsnprintf(b, sizeof(b), "%.0f%%", busy[1] * 100);
			row("  machine CPU busy during churn", a, b, "", NULL);
			xsnprintf(a, sizeof(a), "%.2fs%s", hang[0], covered[0] ? "" : "!");
			xsnprintf(b, sizeof(b), "%.2fs%s", hang[1], covered[1] ? "" : "!");
			row("  hung RPC took (covers window)", a, b, "", NULL);
			xsnprintf(a, sizeof(a), "%d", nr);
			row("  churn rounds", a, a, "", NULL);
		}
	} else {
		printf("churn: a shim did not launch (see warnings)\n");
	}
	line();
	if (have_ctd) {
		exits_rows(ew);
		execs_rows(ex);
	} else {
		printf("exitwait, execs: the private containerd did not start (see warnings)\n");
	}
	line();
	for (int i = 0; i < g_nt; i++) {
		misses += g_t[i].valid && !g_t[i].pass;
		passes += g_t[i].pass;
		na += !g_t[i].valid;
	}
	printf("v1 targets: %d: PASS %d, MISS %d, n/a %d\n", g_nt, passes, misses, na);
	if (with_v2) {
		json_t *v2t = json_array(), *j;
		v2_print(stdout, &v2p, &v2r, v2t, &v2c);
		printf("v2 targets: %d: met %d, MISSED %d, n/a %d\n", v2c.pass + v2c.miss + v2c.na,
		       v2c.pass, v2c.miss, v2c.na);
		j = v2_json(&v2r);
		json_object_set_new(j, "targets", v2t);
		out_path(path, sizeof(path), out, "v2.json");
		json_write_line(path, j);
		json_decref(j);
		v2_free(&v2r);
	}
	printf("targets: %d: PASS %d, MISS %d, n/a %d   (files: %s/*.json, *.svg; %.0fs)\n",
	       g_nt + v2c.pass + v2c.miss + v2c.na, passes + v2c.pass, misses + v2c.miss,
	       na + v2c.na, out, (double)(now_ns() - t0) / 1e9);

	for (int i = 0; i < g_nt; i++)
		json_array_append_new(targets, json_pack("{s:s,s:f,s:s,s:f,s:s}", "target",
							 g_t[i].name, "value", g_t[i].value, "op",
							 g_t[i].le ? "<=" : ">=", "limit",
							 g_t[i].limit, "result", res_str(&g_t[i])));
	json_object_set_new(summary, "go", json_string(go));
	json_object_set_new(summary, "cshim", json_string(cs));
	json_object_set_new(summary, "runc_v2", json_string(gov2));
	json_object_set_new(summary, "machine_busy_before", json_real(busy_before));
	json_object_set_new(summary, "cpus", json_integer(sysconf(_SC_NPROCESSORS_ONLN)));
	json_object_set_new(summary, "seconds", json_real((double)(now_ns() - t0) / 1e9));
	json_object_set_new(summary, "targets", targets);
	out_path(path, sizeof(path), out, "summary.json");
	json_write_line(path, summary);
	json_decref(summary);

	compare_free(cmp);
	free(cmp);
	for (int r = 0; r < fc.n; r++)
		free(fc.pp[r]);
	free(pp);
	for (int r = 0; r < churn_rounds; r++)
		churn_free(chr_r[r], 2);
	density_free(dr, 2);
	exitwait_free(ew);
	execs_free(ex);
	free(ew);
	free(ex);
	return 0;
}
