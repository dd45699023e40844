/* SPDX-License-Identifier: Apache-2.0 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bench/cli.h"
#include "bench/compare.h"
#include "bench/report.h"
#include "bench/svg.h"
#include "bench/util.h"
#include "github.com/containerd/containerd/runtime/v1/shim/v1/shim.pb-c.h"

const char *const cm_names[CM_N] = { "req/s", "p50", "p90",          "p99",
				     "p99.9", "max", "shim CPU/req", "client CPU/req",
				     "errors" };

void cmp_params_defaults(struct cmp_params *p)
{
	memset(p, 0, sizeof(*p));
	p->nmethods = 1;
	p->weights[0][M_STATE] = 1;
	p->nconns = 1;
	p->conns[0] = 1;
	p->streams = 1;
	p->threads = 1;
	p->rounds = 3;
	p->warmup_s = 0.5;
	p->duration_s = 2;
	p->drain_s = 10;
}

double cm_value(const struct load_result *r, int metric)
{
	switch (metric) {
	case CM_RPS: return r->rps;
	case CM_P50: return lr_pct_ns(r, 50);
	case CM_P90: return lr_pct_ns(r, 90);
	case CM_P99: return lr_pct_ns(r, 99);
	case CM_P999: return lr_pct_ns(r, 99.9);
	case CM_MAX: return (double)r->all.max;
	case CM_CPU_REQ: return lr_cpu_per_req_us(r);
	case CM_CLIENT_REQ: return lr_client_cpu_per_req_us(r);
	case CM_ERRORS: return (double)lr_errors(r);
	}
	return NAN;
}

double cmp_median(const struct cmp_point *p, int s, int metric)
{
	double v[CMP_MAX_ROUNDS];
	for (int i = 0; i < p->rounds; i++)
		v[i] = cm_value(p->res[s][i], metric);
	return median_d(v, p->rounds);
}

void cmp_ratio(const struct cmp_point *p, int metric, double *mn, double *med, double *mx)
{
	double v[CMP_MAX_ROUNDS];
	int n = 0;
	for (int i = 0; i < p->rounds; i++) {
		double a = cm_value(p->res[0][i], metric), b = cm_value(p->res[1][i], metric);
		if (a > 0 && b >= 0)
			v[n++] = b / a;
	}
	if (!n) {
		*mn = *med = *mx = NAN;
		return;
	}
	*mn = min_d(v, n);
	*mx = max_d(v, n);
	*med = median_d(v, n);
}

const char *cmp_point_name(const struct cmp_point *p, char *buf, size_t n)
{
	char md[96];
	struct load_result tmp;
	memcpy(tmp.weights, p->weights, sizeof(tmp.weights));
	lr_method_desc(&tmp, md, sizeof(md));
	if (p->streams > 1)
		xsnprintf(buf, n, "%s %dx%ds", md, p->conns, p->streams);
	else
		xsnprintf(buf, n, "%s %dc", md, p->conns);
	return buf;
}

/* One call of each method the points use, so a method a shim cannot serve is reported up
 * front instead of as a wall of errors. */
static void check_methods(const struct cmp_params *cp, struct bshim *b)
{
	unsigned used[M_COUNT] = { 0 };
	for (int i = 0; i < cp->nmethods; i++)
		for (int m = 0; m < M_COUNT; m++)
			used[m] |= cp->weights[i][m];
	for (int m = 0; m < M_COUNT; m++) {
		/* v1 StateRequest, ListPidsRequest; v2 StateRequest, PidsRequest, StatsRequest:
		 * all of them {id} (ShimInfo takes Empty). */
		Containerd__Runtime__Linux__Shim__V1__StateRequest sr =
			CONTAINERD__RUNTIME__LINUX__SHIM__V1__STATE_REQUEST__INIT;
		struct shimclient_reply rep;
		int rc;
		if (!used[m])
			continue;
		sr.id = b->si.id;
		rc = shimclient_call_ex(b->ctl, b->v2 ? V2_TASK_SERVICE : SHIM_SERVICE,
					method_names[m], m == M_SHIMINFO ? NULL : &sr.base, 10000,
					&rep);
		if (rc < 0 || rep.code != 0)
			warnx_("%s: %s does not answer successfully (%s%s): its points will show "
			       "errors",
			       b->label, method_names[m], rc < 0 ? "transport " : "",
			       rc < 0 ? "error" : rep.msg);
		if (rc == 0)
			shimclient_reply_free(&rep);
	}
}

static int g_step, g_steps;

static int run_one(const struct cmp_params *cp, struct cmp_point *pt, struct bshim *b,
		   struct load_result *res, int round)
{
	struct load_spec s;
	char label[96], pn[96];
	load_spec_defaults(&s);
	memcpy(s.weights, pt->weights, sizeof(s.weights));
	s.sock = b->si.sock;
	s.server_pid = b->pid;
	s.container_id = b->si.id;
	s.v2 = b->v2;
	s.conns = pt->conns;
	s.streams = pt->streams;
	s.threads = cp->threads;
	s.warmup_s = cp->warmup_s;
	s.duration_s = cp->duration_s;
	s.rate = cp->rate;
	s.drain_s = cp->drain_s;
	xsnprintf(label, sizeof(label), "compare [%d/%d] %s %s round %d/%d", ++g_step, g_steps,
		  cmp_point_name(pt, pn, sizeof(pn)), b->label, round + 1, pt->rounds);
	s.label = label;
	return load_run(&s, res);
}

int compare_run(const struct cmp_params *cp, struct bshim *sh[2], struct cmp_result *out)
{
	memset(out, 0, sizeof(*out));
	out->params = *cp;
	for (int s = 0; s < 2; s++) {
		xsnprintf(out->label[s], sizeof(out->label[s]), "%s", sh[s]->label);
		check_methods(cp, sh[s]);
	}
	if (!strcmp(out->label[0], out->label[1])) {
		xsnprintf(out->label[0], sizeof(out->label[0]), "A:%s", sh[0]->label);
		xsnprintf(out->label[1], sizeof(out->label[1]), "B:%s", sh[1]->label);
	}
	g_step = 0;
	g_steps = cp->nmethods * cp->nconns * cp->rounds * 2;
	for (int mi = 0; mi < cp->nmethods; mi++) {
		for (int ci = 0; ci < cp->nconns; ci++) {
			struct cmp_point *pt;
			if (out->npoints == CMP_MAX_POINTS)
				die("too many points");
			pt = &out->p[out->npoints++];
			memcpy(pt->weights, cp->weights[mi], sizeof(pt->weights));
			pt->conns = cp->conns[ci];
			pt->streams = cp->streams;
			pt->rounds = cp->rounds;
			/* A B A B ...: both shims see the same machine state, round after round. */
			for (int r = 0; r < cp->rounds; r++) {
				if (cp->before_round)
					cp->before_round(cp->hook_arg, pt, r);
				for (int s = 0; s < 2; s++) {
					pt->res[s][r] = malloc(sizeof(struct load_result));
					if (!pt->res[s][r])
						die("out of memory");
					if (run_one(cp, pt, sh[s], pt->res[s][r], r) < 0)
						warnx_("%s: load failed", sh[s]->label);
				}
			}
		}
	}
	return 0;
}

void compare_free(struct cmp_result *r)
{
	for (int i = 0; i < r->npoints; i++)
		for (int s = 0; s < 2; s++)
			for (int k = 0; k < r->p[i].rounds; k++)
				free(r->p[i].res[s][k]);
	r->npoints = 0;
}

const char *cmp_ratio_fmt(char *b, size_t n, double mn, double med, double mx)
{
	if (isnan(med))
		xsnprintf(b, n, "-");
	else
		xsnprintf(b, n, "%.3g  [%.3g .. %.3g]", med, mn, mx);
	return b;
}

const char *cmp_fmt(char *b, size_t n, int metric, double v)
{
	if (isnan(v) || v < 0)
		xsnprintf(b, n, "-");
	else if (metric == CM_RPS || metric == CM_ERRORS)
		xsnprintf(b, n, "%.0f", v);
	else if (metric == CM_CPU_REQ || metric == CM_CLIENT_REQ)
		xsnprintf(b, n, "%.2fus", v);
	else
		fmt_ns(b, n, v);
	return b;
}

static const char *fmt_ratio(char *b, size_t n, double v)
{
	if (isnan(v))
		xsnprintf(b, n, "-");
	else
		xsnprintf(b, n, v >= 100 ? "%.0f" : v >= 10 ? "%.1f" : "%.3g", v);
	return b;
}

void compare_print(FILE *f, const struct cmp_result *r)
{
	const struct cmp_params *cp = &r->params;
	fprintf(f,
		"compare: A = %s, B = %s; %d round(s) of %.1fs (+%.1fs warm-up) per point, "
		"interleaved A B A B; %s\n",
		r->label[0], r->label[1], cp->rounds, cp->duration_s, cp->warmup_s,
		cp->rate > 0 ? "open loop" : "closed loop");
	for (int i = 0; i < r->npoints; i++) {
		const struct cmp_point *p = &r->p[i];
		char pn[96], ratio_hdr[80];
		cmp_point_name(p, pn, sizeof(pn));
		xsnprintf(ratio_hdr, sizeof(ratio_hdr), "%s/%s per round", r->label[1],
			  r->label[0]);
		fprintf(f, "\n%-22s %12s %12s   %-28s\n", pn, r->label[0], r->label[1], ratio_hdr);
		fprintf(f, "%-22s %12s %12s   %8s %8s %8s\n", "", "(median)", "(median)", "min",
			"median", "max");
		for (int m = 0; m < CM_N; m++) {
			char a[24], b[24], x[16], y[16], z[16];
			double mn, md, mx;
			cmp_ratio(p, m, &mn, &md, &mx);
			if (m == CM_ERRORS) {
				mn = md = mx = NAN;
			}
			fprintf(f, "  %-20s %12s %12s   %8s %8s %8s\n", cm_names[m],
				cmp_fmt(a, sizeof(a), m, cmp_median(p, 0, m)),
				cmp_fmt(b, sizeof(b), m, cmp_median(p, 1, m)),
				fmt_ratio(x, sizeof(x), mn), fmt_ratio(y, sizeof(y), md),
				fmt_ratio(z, sizeof(z), mx));
		}
		for (int s = 0; s < 2; s++)
			for (int k = 0; k < p->rounds; k++)
				if (p->res[s][k]->first_error[0]) {
					fprintf(f, "  %s round %d: %s\n", r->label[s], k + 1,
						p->res[s][k]->first_error);
					break;
				}
	}
}

json_t *compare_json(const struct cmp_result *r)
{
	json_t *j = json_object(), *pts = json_array();
	json_object_set_new(j, "a", json_string(r->label[0]));
	json_object_set_new(j, "b", json_string(r->label[1]));
	json_object_set_new(j, "ratio", json_string("b/a"));
	json_object_set_new(j, "rounds", json_integer(r->params.rounds));
	json_object_set_new(j, "duration_s", json_real(r->params.duration_s));
	json_object_set_new(j, "warmup_s", json_real(r->params.warmup_s));
	for (int i = 0; i < r->npoints; i++) {
		const struct cmp_point *p = &r->p[i];
		json_t *jp = json_object(), *runs = json_array(), *summary = json_object();
		char pn[96], md[96];
		struct load_result tmp;
		memcpy(tmp.weights, p->weights, sizeof(tmp.weights));
		json_object_set_new(jp, "point", json_string(cmp_point_name(p, pn, sizeof(pn))));
		json_object_set_new(jp, "method",
				    json_string(lr_method_desc(&tmp, md, sizeof(md))));
		json_object_set_new(jp, "conns", json_integer(p->conns));
		json_object_set_new(jp, "streams", json_integer(p->streams));
		for (int m = 0; m < CM_N; m++) {
			double mn, med, mx;
			json_t *jm = json_object();
			cmp_ratio(p, m, &mn, &med, &mx);
			json_object_set_new(jm, "a_median", json_real(cmp_median(p, 0, m)));
			json_object_set_new(jm, "b_median", json_real(cmp_median(p, 1, m)));
			if (!isnan(med)) {
				json_object_set_new(jm, "ratio_min", json_real(mn));
				json_object_set_new(jm, "ratio_median", json_real(med));
				json_object_set_new(jm, "ratio_max", json_real(mx));
			}
			json_object_set_new(summary, cm_names[m], jm);
		}
		json_object_set_new(jp, "summary", summary);
		for (int k = 0; k < p->rounds; k++)
			for (int s = 0; s < 2; s++) {
				json_t *one = lr_json(r->label[s], p->res[s][k]);
				json_object_set_new(one, "round", json_integer(k + 1));
				json_array_append_new(runs, one);
			}
		json_object_set_new(jp, "runs", runs);
		json_array_append_new(pts, jp);
	}
	json_object_set_new(j, "points", pts);
	return j;
}

void compare_plots(const struct cmp_result *r, const char *prefix)
{
	for (int i = 0; i < r->npoints; i++) {
		const struct cmp_point *p = &r->p[i];
		struct hist *h[2];
		struct svg_series sv[2];
		char path[1024], title[160], pn[96], md[96];
		struct load_result tmp;
		memcpy(tmp.weights, p->weights, sizeof(tmp.weights));
		lr_method_desc(&tmp, md, sizeof(md));
		for (char *c = md; *c; c++)
			if (*c == '(' || *c == ')' || *c == ',' || *c == '=')
				*c = '_';
		for (int s = 0; s < 2; s++) {
			h[s] = malloc(sizeof(struct hist));
			if (!h[s])
				die("out of memory");
			hist_init(h[s]);
			for (int k = 0; k < p->rounds; k++)
				hist_merge(h[s], &p->res[s][k]->all);
			sv[s] = (struct svg_series){ r->label[s], h[s] };
		}
		xsnprintf(path, sizeof(path), "%s-%s-%dc%s.svg", prefix, md, p->conns,
			  p->streams > 1 ? "-streams" : "");
		xsnprintf(title, sizeof(title), "%s: %s vs %s, all %d rounds",
			  cmp_point_name(p, pn, sizeof(pn)), r->label[0], r->label[1], p->rounds);
		if (svg_cdf(path, title, sv, 2) < 0)
			warnx_("writing %s failed", path);
		free(h[0]);
		free(h[1]);
	}
}

int cmd_compare(int argc, char **argv)
{
	struct cmp_params cp;
	struct cmp_result *res = calloc(1, sizeof(*res));
	struct bshim *sh[2];
	const char *bins[2] = { NULL, NULL }, *plot = NULL, *json_path = NULL;
	int nb = 0, rc = 0;

	if (!res)
		die("out of memory");
	cmp_params_defaults(&cp);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--methods") || !strcmp(a, "--method")) {
			char buf[256], *save = NULL, *tok;
			if (!v)
				die("%s needs a value", a);
			xsnprintf(buf, sizeof(buf), "%s", v);
			cp.nmethods = 0;
			for (tok = strtok_r(buf, ",", &save); tok;
			     tok = strtok_r(NULL, ",", &save)) {
				if (cp.nmethods == 8)
					die("at most 8 methods");
				parse_methods(tok, cp.weights[cp.nmethods++]);
			}
			i++;
		} else if (!strcmp(a, "--mix")) {
			parse_methods(v ? v : "mix", cp.weights[0]);
			cp.nmethods = 1;
			i++;
		} else if (!strcmp(a, "--conns")) {
			cp.nconns = parse_int_list(a, v, cp.conns, 8), i++;
		} else if (!strcmp(a, "--streams")) {
			cp.streams = (int)parse_long(a, v), i++;
		} else if (!strcmp(a, "--threads")) {
			cp.threads = (int)parse_long(a, v), i++;
		} else if (!strcmp(a, "--rounds")) {
			cp.rounds = (int)parse_long(a, v), i++;
		} else if (!strcmp(a, "--duration")) {
			cp.duration_s = parse_double(a, v), i++;
		} else if (!strcmp(a, "--warmup")) {
			cp.warmup_s = parse_double(a, v), i++;
		} else if (!strcmp(a, "--rate")) {
			cp.rate = parse_double(a, v), i++;
		} else if (!strcmp(a, "--drain")) {
			cp.drain_s = parse_double(a, v), i++;
		} else if (!strcmp(a, "--plot")) {
			plot = v, i++;
		} else if (!strcmp(a, "--json")) {
			json_path = v, i++;
		} else if (a[0] != '-' && nb < 2) {
			bins[nb++] = a;
		} else {
			die("compare: unknown option %s", a);
		}
	}
	if (cp.rounds < 1 || cp.rounds > CMP_MAX_ROUNDS)
		die("--rounds must be 1..%d", CMP_MAX_ROUNDS);
	if (!bins[0])
		bins[0] = default_goshim();
	if (!bins[1])
		bins[1] = default_cshim();
	bshim_install_signal_cleanup();
	for (int s = 0; s < 2; s++) {
		sh[s] = calloc(1, sizeof(struct bshim));
		if (!sh[s])
			die("out of memory");
	}
	for (int s = 0; s < 2; s++)
		if (bshim_launch(sh[s], bins[s], s ? "cmpB" : "cmpA", NULL, NULL) < 0) {
			bshim_destroy(sh[0]);
			bshim_destroy(sh[1]);
			it_root_remove();
			die("could not launch %s", bins[s]);
		}
	compare_run(&cp, sh, res);
	bshim_destroy(sh[0]);
	bshim_destroy(sh[1]);
	it_root_remove();
	compare_print(stdout, res);
	{
		json_t *j = compare_json(res);
		if (json_path && json_write_line(json_path, j) < 0)
			warnx_("writing %s failed", json_path);
		json_decref(j);
	}
	if (plot) {
		/* --plot FILE.svg: the prefix is FILE without .svg */
		char prefix[1024];
		size_t n;
		xsnprintf(prefix, sizeof(prefix), "%s", plot);
		n = strlen(prefix);
		if (n > 4 && !strcmp(prefix + n - 4, ".svg"))
			prefix[n - 4] = '\0';
		compare_plots(res, prefix);
	}
	for (int i = 0; i < res->npoints; i++)
		for (int s = 0; s < 2; s++)
			for (int k = 0; k < res->p[i].rounds; k++)
				rc |= lr_errors(res->p[i].res[s][k]) ? 1 : 0;
	compare_free(res);
	free(res);
	free(sh[0]);
	free(sh[1]);
	return rc;
}
