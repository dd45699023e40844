/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "bench/cli.h"
#include "bench/ctd.h"
#include "bench/exitwait.h"
#include "bench/report.h"
#include "bench/shim.h"
#include "bench/util.h"
#include "github.com/containerd/containerd/runtime/v1/shim/v1/shim.pb-c.h"

#define WAIT_TIMEOUT_MS 30000
#define EVENT_TIMEOUT_MS 10000

const char *const ew_names[EW_N] = { "exit->Wait p50", "exit->Wait p90", "exit->Wait max",
				     "exit->event p50", "exit->event p90" };

void exitwait_params_defaults(struct exitwait_params *p)
{
	memset(p, 0, sizeof(*p));
	p->n = 20;
	p->rounds = 3;
}

struct waiter {
	struct bshim *b;
	atomic_int *sent;
	uint64_t t_done;
	int rc;
	uint32_t status;
	pthread_t t;
};

static void *waiter_main(void *arg)
{
	struct waiter *w = arg;

	atomic_fetch_add(w->sent, 1);
	w->rc = bshim_wait(w->b, w->b->ctl, &w->status, WAIT_TIMEOUT_MS);
	w->t_done = now_ns();
	return NULL;
}

/* One batch: N fresh shims of bin, their containers killed at once. */
static void batch(const struct exitwait_params *p, struct bctd *ctd, const char *bin,
		  const char *label, int round, struct ew_batch *out)
{
	int n = p->n, launched = 0;
	struct bshim **v = calloc((size_t)n, sizeof(*v));
	struct waiter *w = calloc((size_t)n, sizeof(*w));
	uint64_t *t_kill = calloc((size_t)n, sizeof(*t_kill));
	char **ids = calloc((size_t)n, sizeof(*ids));
	atomic_int sent = 0;

	memset(out, 0, sizeof(*out));
	out->wait_ns = calloc((size_t)n, sizeof(double));
	out->event_ns = calloc((size_t)n, sizeof(double));
	if (!v || !w || !t_kill || !ids || !out->wait_ns || !out->event_ns)
		die("out of memory");
	for (int i = 0; i < n; i++)
		out->wait_ns[i] = out->event_ns[i] = -1;
	for (int i = 0; i < n; i++) {
		progress("exitwait round %d: launching %s %d/%d", round + 1, label, i + 1, n);
		v[i] = calloc(1, sizeof(struct bshim));
		if (!v[i])
			die("out of memory");
		if (bshim_launch(v[i], bin, "ew", NULL, NULL) < 0) {
			xsnprintf(out->error, sizeof(out->error), "%s #%d did not launch", label,
				  i + 1);
			goto done;
		}
		ids[i] = v[i]->si.id;
		launched++;
	}
	for (int i = 0; i < n; i++) {
		w[i].b = v[i];
		w[i].sent = &sent;
		if (pthread_create(&w[i].t, NULL, waiter_main, &w[i]) != 0)
			die("pthread_create: %s", strerror(errno));
	}
	/* Every waiter about to send (its Wait on the wire 0.1 s later), the shims without a
	 * child but their inits and the machine quiet (at most 3 s): then the burst. */
	while (atomic_load(&sent) < n)
		sleep_s(0.005);
	sleep_s(0.1);
	out->settle_s = bshim_settle(v, n, 3.0);
	progress("exitwait round %d: %s: killing %d containers", round + 1, label, n);
	for (int i = 0; i < n; i++) {
		t_kill[i] = now_ns();
		kill((pid_t)v[i]->init_pid, SIGKILL);
	}
	for (int i = 0; i < n; i++) {
		pthread_join(w[i].t, NULL);
		out->wait_ns[i] = w[i].rc == 0 ? (double)(w[i].t_done - t_kill[i]) : -1;
		if (w[i].rc == 0 && w[i].status == 128 + SIGKILL)
			out->waits_ok++;
		else if (!out->error[0])
			xsnprintf(out->error, sizeof(out->error), "%s: Wait: %s, status %u", label,
				  w[i].rc ? strerror(-w[i].rc) : "ok", w[i].status);
	}
	out->events = bctd_wait_exits(ctd, ids, n, EVENT_TIMEOUT_MS);
	for (int i = 0; i < n; i++) {
		uint64_t t = bctd_exit_seen(ctd, ids[i]);
		out->event_ns[i] = t ? (double)(t - t_kill[i]) : -1;
	}
	/* No publisher left behind to run into the next batch. */
	for (uint64_t t0 = now_ns(); now_ns() - t0 < 10 * NS_PER_S;) {
		int kids = 0;
		for (int i = 0; i < n; i++)
			kids += bshim_extra_children(v[i]);
		if (!kids)
			break;
		sleep_s(0.01);
	}
	out->ok = out->waits_ok == n;
	if (out->events < n && !out->error[0])
		xsnprintf(out->error, sizeof(out->error), "%s: %d of %d exits reached containerd",
			  label, out->events, n);
done:
	progress("exitwait round %d: tearing down %d %s shims", round + 1, launched, label);
	bshim_destroy_many(v, n, 4);
	for (int i = 0; i < n; i++)
		free(v[i]);
	free(v);
	free(w);
	free(t_kill);
	free(ids);
}

int exitwait_run(const struct exitwait_params *p, struct bctd *ctd, struct exitwait_result *r)
{
	memset(r, 0, sizeof(*r));
	r->n = p->n;
	r->rounds = p->rounds;
	for (int s = 0; s < 2; s++)
		shim_label(p->shim[s], r->label[s], sizeof(r->label[s]));
	if (!strcmp(r->label[0], r->label[1])) {
		xsnprintf(r->label[0], sizeof(r->label[0]), "A");
		xsnprintf(r->label[1], sizeof(r->label[1]), "B");
	}
	bshim_use_containerd(ctd->addr, ctd->binary);
	for (int k = 0; k < p->rounds; k++)
		for (int j = 0; j < 2; j++) {
			int s = k % 2 ? 1 - j : j; /* A B, B A, ... */
			batch(p, ctd, p->shim[s], r->label[s], k, &r->b[s][k]);
			if (r->b[s][k].error[0])
				warnx_("exitwait round %d: %s", k + 1, r->b[s][k].error);
		}
	bshim_use_containerd(NULL, NULL);
	progress_clear();
	return 0;
}

double exitwait_value(const struct exitwait_result *r, int s, int round, int m)
{
	const struct ew_batch *b = &r->b[s][round];
	double v[1024];
	int n = 0;
	for (int i = 0; i < r->n && n < 1024; i++) {
		double x = m < EW_EV_P50 ? b->wait_ns[i] : b->event_ns[i];
		if (x >= 0)
			v[n++] = x;
	}
	if (!n)
		return NAN;
	switch (m) {
	case EW_WAIT_P50:
	case EW_EV_P50: return pct_d(v, n, 50);
	case EW_WAIT_P90:
	case EW_EV_P90: return pct_d(v, n, 90);
	default: return max_d(v, n);
	}
}

double exitwait_median(const struct exitwait_result *r, int s, int m)
{
	double v[EW_MAX_ROUNDS];
	int n = 0;
	for (int k = 0; k < r->rounds; k++) {
		double x = exitwait_value(r, s, k, m);
		if (!isnan(x))
			v[n++] = x;
	}
	return n ? median_d(v, n) : NAN;
}

void exitwait_ratio(const struct exitwait_result *r, int m, double out[3])
{
	double a[EW_MAX_ROUNDS], b[EW_MAX_ROUNDS];
	for (int k = 0; k < r->rounds; k++) {
		a[k] = exitwait_value(r, 0, k, m);
		b[k] = exitwait_value(r, 1, k, m);
		if (isnan(a[k]) || isnan(b[k]))
			a[k] = -1;
	}
	ratio_d(a, b, r->rounds, out);
}

void exitwait_print(FILE *f, const struct exitwait_result *r)
{
	fprintf(f,
		"exitwait: %d containers per shim killed at once (kill(2) of their inits), %d "
		"round(s), A = %s, B = %s (A B, B A, ...), publishing to a private containerd\n",
		r->n, r->rounds, r->label[0], r->label[1]);
	fprintf(f, "%-24s %12s %12s   %8s %8s %8s\n", "", r->label[0], r->label[1], "B/A min",
		"median", "max");
	for (int m = 0; m < EW_N; m++) {
		char a[24], b[24];
		double x[3], va = exitwait_median(r, 0, m), vb = exitwait_median(r, 1, m);
		exitwait_ratio(r, m, x);
		xsnprintf(a, sizeof(a), "-");
		xsnprintf(b, sizeof(b), "-");
		if (!isnan(va))
			fmt_ns(a, sizeof(a), va);
		if (!isnan(vb))
			fmt_ns(b, sizeof(b), vb);
		fprintf(f, "%-24s %12s %12s   %8.3g %8.3g %8.3g\n", ew_names[m], a, b, x[0], x[1],
			x[2]);
	}
	for (int s = 0; s < 2; s++) {
		int waits = 0, evs = 0;
		for (int k = 0; k < r->rounds; k++) {
			waits += r->b[s][k].waits_ok;
			evs += r->b[s][k].events;
		}
		fprintf(f,
			"  %s: %d/%d Waits answered (status 137), %d/%d exits reached containerd\n",
			r->label[s], waits, r->n * r->rounds, evs, r->n * r->rounds);
	}
}

json_t *exitwait_json(const struct exitwait_result *r)
{
	json_t *j = json_object(), *runs = json_array(), *sum = json_object();
	json_object_set_new(j, "a", json_string(r->label[0]));
	json_object_set_new(j, "b", json_string(r->label[1]));
	json_object_set_new(j, "n", json_integer(r->n));
	json_object_set_new(j, "rounds", json_integer(r->rounds));
	for (int m = 0; m < EW_N; m++) {
		double x[3];
		exitwait_ratio(r, m, x);
		json_object_set_new(sum, ew_names[m] + strspn(ew_names[m], " "),
				    json_pack("{s:f,s:f,s:f,s:f,s:f}", "a_median",
					      exitwait_median(r, 0, m), "b_median",
					      exitwait_median(r, 1, m), "ratio_min", x[0],
					      "ratio_median", x[1], "ratio_max", x[2]));
	}
	json_object_set_new(j, "summary", sum);
	for (int k = 0; k < r->rounds; k++)
		for (int s = 0; s < 2; s++) {
			const struct ew_batch *b = &r->b[s][k];
			json_t *o = json_object(), *wl = json_array(), *el = json_array();
			for (int i = 0; b->wait_ns && i < r->n; i++) {
				json_array_append_new(wl, json_real(b->wait_ns[i] / 1e6));
				json_array_append_new(el, json_real(b->event_ns[i] / 1e6));
			}
			json_object_set_new(o, "label", json_string(r->label[s]));
			json_object_set_new(o, "round", json_integer(k + 1));
			json_object_set_new(o, "waits_ok", json_integer(b->waits_ok));
			json_object_set_new(o, "events", json_integer(b->events));
			json_object_set_new(o, "exit_to_wait_ms", wl);
			json_object_set_new(o, "exit_to_event_ms", el);
			json_object_set_new(o, "settle_s", json_real(b->settle_s));
			if (b->error[0])
				json_object_set_new(o, "error", json_string(b->error));
			json_array_append_new(runs, o);
		}
	json_object_set_new(j, "runs", runs);
	return j;
}

void exitwait_free(struct exitwait_result *r)
{
	for (int s = 0; s < 2; s++)
		for (int k = 0; k < r->rounds; k++) {
			free(r->b[s][k].wait_ns);
			free(r->b[s][k].event_ns);
			r->b[s][k].wait_ns = r->b[s][k].event_ns = NULL;
		}
}

struct ew_cmd {
	struct exitwait_params p;
	struct exitwait_result *r;
};

static void ew_run(void *arg, struct bctd *ctd)
{
	struct ew_cmd *c = arg;
	exitwait_run(&c->p, ctd, c->r);
}

int cmd_exitwait(int argc, char **argv)
{
	struct ew_cmd c;
	struct ctd_cmd o = { 0 };
	int rc = 0;

	exitwait_params_defaults(&c.p);
	o.n = c.p.n;
	o.rounds = c.p.rounds;
	ctd_cmd_parse("exitwait", argc, argv, EW_MAX_ROUNDS, &o);
	c.p.n = o.n;
	c.p.rounds = o.rounds;
	c.p.shim[0] = o.shim[0];
	c.p.shim[1] = o.shim[1];
	if (!(c.r = calloc(1, sizeof(*c.r))))
		die("out of memory");
	ctd_cmd_run("exitwait", &o, ew_run, &c);
	exitwait_print(stdout, c.r);
	ctd_cmd_json(&o, exitwait_json(c.r));
	for (int s = 0; s < 2; s++)
		for (int k = 0; k < c.p.rounds; k++)
			rc |= !c.r->b[s][k].ok || c.r->b[s][k].events < c.p.n;
	exitwait_free(c.r);
	free(c.r);
	return rc;
}
