/* SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/churn.h"
#include "bench/cli.h"
#include "bench/pingpong.h"
#include "bench/procstat.h"
#include "bench/report.h"
#include "bench/shim.h"
#include "bench/svg.h"
#include "bench/util.h"
#include "github.com/containerd/containerd/runtime/v1/shim/v1/shim.pb-c.h"
#include "google/protobuf/any.pb-c.h"

const char *const churn_phase_names[PH_N] = { "idle", "churn", "hang" };

#define RESOURCES_TYPE_URL "types.containerd.io/opencontainers/runtime-spec/1/LinuxResources"
#define OP_TIMEOUT_MS 30000
#define SETTLE_MAX_S 15.0

void churn_params_defaults(struct churn_params *p)
{
	memset(p, 0, sizeof(*p));
	p->warmup_s = 0.5;
	p->duration_s = 2;
	p->rate = 1000;
	p->exec_clients = 2;
	p->kill_clients = 1;
	p->hang_on = "update";
}

/* ---- churn clients ---- */

struct worker {
	struct bshim *b;
	struct shimclient *c;
	bool kill;
	int idx;
	atomic_bool *stop;
	unsigned long long ok, err;
	char err_msg[160];
	pthread_t t;
};

static int call(struct worker *w, const char *method, const ProtobufCMessage *req)
{
	char *msg = NULL;
	int code = -1;
	int rc = shimclient_call(w->c, method, req, NULL, NULL, &code, &msg, OP_TIMEOUT_MS);
	if ((rc < 0 || code != 0) && !w->err_msg[0])
		xsnprintf(w->err_msg, sizeof(w->err_msg), "%s: %s", method,
			  rc < 0 ? strerror(-rc) : msg);
	free(msg);
	return rc < 0 ? rc : code != 0 ? -EIO : 0;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	unsigned long long k = 0;
	while (!atomic_load(w->stop)) {
		if (w->kill) {
			Containerd__Runtime__Linux__Shim__V1__KillRequest kr =
				CONTAINERD__RUNTIME__LINUX__SHIM__V1__KILL_REQUEST__INIT;
			kr.id = w->b->si.id;
			kr.signal = SIGCONT; /* harmless to `sleep`, still a full runc kill */
			if (call(w, "Kill", &kr.base) == 0)
				w->ok++;
			else
				w->err++;
			continue;
		}
		char id[48];
		xsnprintf(id, sizeof(id), "churn%d-%llu", w->idx, k++);
		if (bshim_exec_cycle(w->b, w->c, id, w->err_msg[0] ? NULL : w->err_msg,
				     sizeof(w->err_msg)) == 0) {
			w->ok++;
		} else {
			w->err++;
			usleep(10000);
		}
	}
	return NULL;
}

/* ---- the hanging RPC ---- */

struct hang_op {
	struct bshim *b;
	const char *verb;
	uint64_t t0, t1;
	int code;
	char msg[160];
	pthread_t t;
};

static void *hang_main(void *arg)
{
	struct hang_op *h = arg;
	struct shimclient *c = shimclient_connect(h->b->si.sock, 5000);
	char *msg = NULL;
	int code = -1, rc;

	h->t0 = now_ns();
	if (!c) {
		h->code = -1;
		xsnprintf(h->msg, sizeof(h->msg), "connect: %s", strerror(errno));
		h->t1 = now_ns();
		return NULL;
	}
	if (!strcmp(h->verb, "exec")) {
		/* Exec is quick; Start runs `runc exec`, which hangs. */
		Containerd__Runtime__Linux__Shim__V1__ExecProcessRequest er =
			CONTAINERD__RUNTIME__LINUX__SHIM__V1__EXEC_PROCESS_REQUEST__INIT;
		Containerd__Runtime__Linux__Shim__V1__StartRequest sr =
			CONTAINERD__RUNTIME__LINUX__SHIM__V1__START_REQUEST__INIT;
		Containerd__Runtime__Linux__Shim__V1__DeleteProcessRequest dr =
			CONTAINERD__RUNTIME__LINUX__SHIM__V1__DELETE_PROCESS_REQUEST__INIT;
		Containerd__Runtime__Linux__Shim__V1__WaitRequest wr =
			CONTAINERD__RUNTIME__LINUX__SHIM__V1__WAIT_REQUEST__INIT;
		Google__Protobuf__Any spec = GOOGLE__PROTOBUF__ANY__INIT;
		spec.type_url = PROCESS_TYPE_URL;
		spec.value.data = (uint8_t *)EXEC_SPEC_JSON;
		spec.value.len = strlen(EXEC_SPEC_JSON);
		er.id = sr.id = dr.id = wr.id = "hangexec";
		er.spec = &spec;
		rc = shimclient_call(c, "Exec", &er.base, NULL, NULL, &code, &msg, OP_TIMEOUT_MS);
		if (rc == 0 && code == 0) {
			free(msg);
			msg = NULL;
			h->t0 = now_ns();
			rc = shimclient_call(c, "Start", &sr.base, NULL, NULL, &code, &msg,
					     OP_TIMEOUT_MS + 60000);
			h->t1 = now_ns();
			shimclient_call(c, "Wait", &wr.base, NULL, NULL, NULL, NULL, OP_TIMEOUT_MS);
			shimclient_call(c, "DeleteProcess", &dr.base, NULL, NULL, NULL, NULL,
					OP_TIMEOUT_MS);
		} else {
			h->t1 = now_ns();
		}
	} else {
		Containerd__Runtime__Linux__Shim__V1__UpdateTaskRequest ur =
			CONTAINERD__RUNTIME__LINUX__SHIM__V1__UPDATE_TASK_REQUEST__INIT;
		Google__Protobuf__Any res = GOOGLE__PROTOBUF__ANY__INIT;
		res.type_url = RESOURCES_TYPE_URL;
		res.value.data = (uint8_t *)"{}";
		res.value.len = 2;
		ur.resources = &res;
		rc = shimclient_call(c, "Update", &ur.base, NULL, NULL, &code, &msg,
				     OP_TIMEOUT_MS + 60000);
		h->t1 = now_ns();
	}
	h->code = rc < 0 ? -1 : code;
	xsnprintf(h->msg, sizeof(h->msg), "%s", rc < 0 ? strerror(-rc) : msg ? msg : "");
	free(msg);
	shimclient_close(c);
	return NULL;
}

/* ---- phases ---- */

static char g_hang_file[PATH_MAX];

static int set_hang(const char *verb, double secs)
{
	FILE *f;
	if (!verb) {
		unlink(g_hang_file);
		return 0;
	}
	f = fopen(g_hang_file, "w");
	if (!f)
		return -errno;
	fprintf(f, "%s %.3f\n", verb, secs);
	return fclose(f) == 0 ? 0 : -errno;
}

static void state_load(const struct churn_params *p, struct bshim *b, const char *phase,
		       double warmup, struct load_result *r)
{
	struct load_spec s;
	char label[64];
	load_spec_defaults(&s);
	s.sock = b->si.sock;
	s.server_pid = b->pid;
	s.container_id = b->si.id;
	s.rate = p->rate;
	s.warmup_s = warmup;
	s.duration_s = p->duration_s;
	s.drain_s = 30;
	xsnprintf(label, sizeof(label), "churn/%s %s", phase, b->label);
	s.label = label;
	if (load_run(&s, r) < 0)
		warnx_("%s: State load failed", b->label);
}

/* The same open-loop State load against a server that does nothing but answer: what any shim
 * could at best get here under the same conditions. */
static void floor_load(const struct churn_params *p, struct bshim *b, double warmup,
		       struct load_result *r)
{
	struct pingpong_params pp = { .warmup_s = warmup,
				      .duration_s = p->duration_s,
				      .container_id = b->si.id,
				      .resp_payload = b->state_payload,
				      .resp_plen = b->state_plen,
				      .conns = 1,
				      .rate = p->rate };
	if (pingpong_run(&pp, r, NULL, NULL) < 0)
		warnx_("%s: floor load failed", b->label);
}

static void phase_churn(const struct churn_params *p, struct bshim *b, struct churn_result *r)
{
	int nw = p->exec_clients + p->kill_clients;
	struct worker *w = calloc((size_t)(nw ? nw : 1), sizeof(*w));
	atomic_bool stop = false;
	uint64_t t0 = now_ns();
	if (!w)
		die("out of memory");
	for (int i = 0; i < nw; i++) {
		w[i].b = b;
		w[i].kill = i >= p->exec_clients;
		w[i].idx = i;
		w[i].stop = &stop;
		w[i].c = shimclient_connect(b->si.sock, 5000);
		if (!w[i].c || pthread_create(&w[i].t, NULL, worker_main, &w[i]) != 0)
			die("churn client: %s", strerror(errno));
	}
	sleep_s(0.3); /* churn is going before the warm-up starts */
	state_load(p, b, "churn", p->warmup_s, r->ph[PH_CHURN]);
	floor_load(p, b, 0.2, r->floor[1]); /* the churn goes on */
	atomic_store(&stop, true);
	for (int i = 0; i < nw; i++) {
		pthread_join(w[i].t, NULL);
		shimclient_close(w[i].c);
		if (w[i].kill) {
			r->kills_ok += w[i].ok;
			r->kills_err += w[i].err;
		} else {
			r->execs_ok += w[i].ok;
			r->execs_err += w[i].err;
		}
		if (w[i].err_msg[0] && !r->churn_error[0])
			xsnprintf(r->churn_error, sizeof(r->churn_error), "%s", w[i].err_msg);
	}
	r->churn_elapsed_s = (double)(now_ns() - t0) / 1e9;
	free(w);
}

static void phase_hang(const struct churn_params *p, struct bshim *b, struct churn_result *r)
{
	double hang = p->hang_s > 0 ? p->hang_s : p->duration_s + 1.2;
	struct hang_op h = { .b = b, .verb = p->hang_on };

	if (set_hang(p->hang_on, hang) < 0)
		die("cannot write %s", g_hang_file);
	if (pthread_create(&h.t, NULL, hang_main, &h) != 0)
		die("pthread_create failed");
	sleep_s(0.3); /* the runtime is now asleep inside the shim's RPC */
	state_load(p, b, "hang", 0, r->ph[PH_HANG]);
	pthread_join(h.t, NULL);
	set_hang(NULL, 0);
	r->hang_op_s = (double)(h.t1 - h.t0) / 1e9;
	r->hang_op_code = h.code;
	r->hang_covered_window = h.t0 <= r->ph[PH_HANG]->t_window_start_ns &&
				 h.t1 >= r->ph[PH_HANG]->t_window_end_ns;
	xsnprintf(r->hang_msg, sizeof(r->hang_msg), "%s", h.msg);
}

int churn_run(const struct churn_params *p, struct churn_result *res)
{
	struct bshim *b[CHURN_MAX_SHIMS] = { 0 };
	char wrapper[PATH_MAX], runc[PATH_MAX];
	const char *root = it_root();

	if (p->wrapper) {
		if (!realpath(p->wrapper, wrapper))
			die("wrapper %s: %s", p->wrapper, strerror(errno));
	} else if (bench_file("runtime-hang.sh", wrapper, sizeof(wrapper)) < 0) {
		die("cannot find bench/runtime-hang.sh (set CSHIM_BENCH_DIR)");
	}
	if (access(wrapper, X_OK) < 0)
		die("%s is not executable", wrapper);
	if (!root)
		die("no temp dir");
	/* The wrapper's knobs reach it through the shims' environment (they pass theirs on). */
	xsnprintf(g_hang_file, sizeof(g_hang_file), "%s/hang.conf", root);
	setenv("CSHIM_BENCH_HANG_FILE", g_hang_file, 1);
	{
		const char *cands[] = { "/usr/sbin/runc",       "/usr/bin/runc",
					"/usr/local/sbin/runc", "/usr/local/bin/runc",
					"/sbin/runc",           NULL };
		runc[0] = '\0';
		for (int i = 0; cands[i]; i++)
			if (access(cands[i], X_OK) == 0) {
				xsnprintf(runc, sizeof(runc), "%s", cands[i]);
				break;
			}
		if (runc[0])
			setenv("CSHIM_BENCH_RUNC", runc, 1);
	}
	set_hang(NULL, 0);

	for (int s = 0; s < p->nshims; s++) {
		memset(&res[s], 0, sizeof(res[s]));
		shim_label(p->shim[s], res[s].label, sizeof(res[s].label));
		for (int k = 0; k < PH_N; k++) {
			res[s].ph[k] = calloc(1, sizeof(struct load_result));
			if (!res[s].ph[k])
				die("out of memory");
		}
		for (int k = 0; k < 2; k++) {
			res[s].floor[k] = calloc(1, sizeof(struct load_result));
			if (!res[s].floor[k])
				die("out of memory");
		}
		b[s] = calloc(1, sizeof(struct bshim));
		if (!b[s])
			die("out of memory");
		progress("churn: launching %s", res[s].label);
		res[s].ok = bshim_launch(b[s], p->shim[s], "churn", wrapper, NULL) == 0;
		if (!res[s].ok)
			warnx_("churn: %s did not launch with runtime %s", res[s].label, wrapper);
	}
	/* Phase by phase, shim after shim. */
	for (int ph = 0; ph < PH_N; ph++)
		for (int s = 0; s < p->nshims; s++) {
			if (!res[s].ok)
				continue;
			res[s].settle_s[ph] = bshim_settle(b, p->nshims, SETTLE_MAX_S);
			if (ph == PH_IDLE) {
				state_load(p, b[s], "idle", p->warmup_s, res[s].ph[PH_IDLE]);
				floor_load(p, b[s], p->warmup_s, res[s].floor[0]);
			} else if (ph == PH_CHURN)
				phase_churn(p, b[s], &res[s]);
			else
				phase_hang(p, b[s], &res[s]);
		}
	progress("churn: tearing down");
	for (int s = 0; s < p->nshims; s++) {
		bshim_destroy(b[s]);
		free(b[s]);
	}
	progress_clear();
	return 0;
}

static void print_row(FILE *f, const char *lab, const struct load_result *l)
{
	char a[4][24], rq[24];
	uint64_t n = l->ok + l->errors;
	xsnprintf(rq, sizeof(rq), "%.1fus", n ? l->shim_run_delay_s * 1e6 / (double)n : 0.0);
	fprintf(f, "%-17s %6.0f %9s %9s %9s %9s %7llu %7.1fus %9s %5.0f%%\n", lab, l->rps,
		fmt_ns(a[0], 24, hist_pct(&l->all, 50)), fmt_ns(a[1], 24, hist_pct(&l->all, 90)),
		fmt_ns(a[2], 24, hist_pct(&l->all, 99)), fmt_ns(a[3], 24, (double)l->all.max),
		lr_errors(l), lr_cpu_per_req_us(l), rq, l->sys_busy * 100);
}

void churn_print(FILE *f, const struct churn_params *p, const struct churn_result *res)
{
	double hang = p->hang_s > 0 ? p->hang_s : p->duration_s + 1.2;
	fprintf(f,
		"churn: State on one connection, open loop at %.0f/s, %.1fs windows; churn = "
		"%d exec client(s) (Exec+Start+Wait+DeleteProcess /bin/true) + %d Kill "
		"client(s); hang = runtime sleeps %.1fs in `%s`; floor = the same load against a "
		"zero-work server (pingpong's), idle and during the same churn\n",
		p->rate, p->duration_s, p->exec_clients, p->kill_clients, hang, p->hang_on);
	fprintf(f, "%-17s %6s %9s %9s %9s %9s %7s %9s %9s %6s\n", "", "sent/s", "p50", "p90", "p99",
		"max", "errors", "shim/req", "runq/req", "busy");
	for (int s = 0; s < p->nshims; s++) {
		const struct churn_result *r = &res[s];
		if (!r->ok) {
			fprintf(f, "%-14s did not launch\n", r->label);
			continue;
		}
		for (int ph = 0; ph < PH_N; ph++) {
			char lab[48];
			xsnprintf(lab, sizeof(lab), "%s %s", r->label, churn_phase_names[ph]);
			print_row(f, lab, r->ph[ph]);
		}
		for (int k = 0; k < 2; k++) {
			char lab[48];
			xsnprintf(lab, sizeof(lab), "%s floor %s", r->label, k ? "churn" : "idle");
			print_row(f, lab, r->floor[k]);
		}
		fprintf(f,
			"  %s: churn %.1f exec cycles/s (%llu failed), %.1f kills/s (%llu "
			"failed)%s%s; hung %s took %.2fs (code %d%s%s)%s; settled %.1f/%.1f/%.1fs "
			"before the windows\n",
			r->label, (double)r->execs_ok / r->churn_elapsed_s, r->execs_err,
			(double)r->kills_ok / r->churn_elapsed_s, r->kills_err,
			r->churn_error[0] ? "; first error: " : "", r->churn_error, p->hang_on,
			r->hang_op_s, r->hang_op_code, r->hang_msg[0] ? ": " : "", r->hang_msg,
			r->hang_covered_window ? "" : "  [WARNING: it ended before the window did]",
			r->settle_s[PH_IDLE], r->settle_s[PH_CHURN], r->settle_s[PH_HANG]);
	}
}

json_t *churn_json(const struct churn_params *p, const struct churn_result *res)
{
	json_t *j = json_object(), *arr = json_array();
	json_object_set_new(j, "rate", json_real(p->rate));
	json_object_set_new(j, "duration_s", json_real(p->duration_s));
	json_object_set_new(j, "exec_clients", json_integer(p->exec_clients));
	json_object_set_new(j, "kill_clients", json_integer(p->kill_clients));
	json_object_set_new(j, "hang_on", json_string(p->hang_on));
	json_object_set_new(j, "hang_s",
			    json_real(p->hang_s > 0 ? p->hang_s : p->duration_s + 1.2));
	for (int s = 0; s < p->nshims; s++) {
		const struct churn_result *r = &res[s];
		json_t *o = json_object();
		json_object_set_new(o, "label", json_string(r->label));
		json_object_set_new(o, "ok", json_boolean(r->ok));
		if (r->ok) {
			for (int ph = 0; ph < PH_N; ph++)
				json_object_set_new(o, churn_phase_names[ph],
						    lr_json(r->label, r->ph[ph]));
			json_object_set_new(o, "floor_idle", lr_json("floor", r->floor[0]));
			json_object_set_new(o, "floor_churn", lr_json("floor", r->floor[1]));
			json_object_set_new(o, "exec_cycles_ok",
					    json_integer((json_int_t)r->execs_ok));
			json_object_set_new(o, "exec_cycles_failed",
					    json_integer((json_int_t)r->execs_err));
			json_object_set_new(o, "kills_ok", json_integer((json_int_t)r->kills_ok));
			json_object_set_new(o, "kills_failed",
					    json_integer((json_int_t)r->kills_err));
			json_object_set_new(o, "churn_elapsed_s", json_real(r->churn_elapsed_s));
			if (r->churn_error[0])
				json_object_set_new(o, "churn_first_error",
						    json_string(r->churn_error));
			json_object_set_new(o, "hang_op_s", json_real(r->hang_op_s));
			json_object_set_new(o, "hang_op_code", json_integer(r->hang_op_code));
			json_object_set_new(o, "hang_op_message", json_string(r->hang_msg));
			json_object_set_new(o, "hang_covered_window",
					    json_boolean(r->hang_covered_window));
			for (int ph = 0; ph < PH_N; ph++) {
				char k[32];
				xsnprintf(k, sizeof(k), "settle_before_%s_s",
					  churn_phase_names[ph]);
				json_object_set_new(o, k, json_real(r->settle_s[ph]));
			}
		}
		json_array_append_new(arr, o);
	}
	json_object_set_new(j, "results", arr);
	return j;
}

void churn_plot(const struct churn_params *p, const struct churn_result *res, const char *path)
{
	struct svg_series sv[CHURN_MAX_SHIMS * PH_N];
	char labels[CHURN_MAX_SHIMS * PH_N][48];
	int n = 0;
	for (int s = 0; s < p->nshims; s++) {
		if (!res[s].ok)
			continue;
		for (int ph = 0; ph < PH_N; ph++) {
			xsnprintf(labels[n], sizeof(labels[n]), "%s %s", res[s].label,
				  churn_phase_names[ph]);
			sv[n] = (struct svg_series){ labels[n], &res[s].ph[ph]->all };
			n++;
		}
	}
	if (svg_cdf(path,
		    "State latency (open loop, from intended send time): idle, exec churn, "
		    "hung runtime",
		    sv, n) < 0)
		warnx_("writing %s failed", path);
}

void churn_free(struct churn_result *res, int nshims)
{
	for (int s = 0; s < nshims; s++) {
		for (int ph = 0; ph < PH_N; ph++) {
			free(res[s].ph[ph]);
			res[s].ph[ph] = NULL;
		}
		for (int k = 0; k < 2; k++) {
			free(res[s].floor[k]);
			res[s].floor[k] = NULL;
		}
	}
}

int cmd_churn(int argc, char **argv)
{
	struct churn_params p;
	struct churn_result res[CHURN_MAX_SHIMS];
	const char *plot = NULL, *json_path = NULL;
	json_t *j;

	churn_params_defaults(&p);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--duration"))
			p.duration_s = parse_double(a, v), i++;
		else if (!strcmp(a, "--warmup"))
			p.warmup_s = parse_double(a, v), i++;
		else if (!strcmp(a, "--rate"))
			p.rate = parse_double(a, v), i++;
		else if (!strcmp(a, "--exec-clients"))
			p.exec_clients = (int)parse_long(a, v), i++;
		else if (!strcmp(a, "--kill-clients"))
			p.kill_clients = (int)parse_long(a, v), i++;
		else if (!strcmp(a, "--hang"))
			p.hang_s = parse_double(a, v), i++;
		else if (!strcmp(a, "--hang-on"))
			p.hang_on = v, i++;
		else if (!strcmp(a, "--wrapper"))
			p.wrapper = v, i++;
		else if (!strcmp(a, "--plot"))
			plot = v, i++;
		else if (!strcmp(a, "--json"))
			json_path = v, i++;
		else if (a[0] != '-' && p.nshims < CHURN_MAX_SHIMS)
			p.shim[p.nshims++] = a;
		else
			die("churn: unknown option %s", a);
	}
	if (!p.hang_on || (strcmp(p.hang_on, "update") && strcmp(p.hang_on, "exec")))
		die("--hang-on: update or exec");
	if (p.rate <= 0)
		die("--rate must be > 0");
	if (!p.nshims) {
		p.shim[p.nshims++] = default_goshim();
		p.shim[p.nshims++] = default_cshim();
	}
	bshim_install_signal_cleanup();
	churn_run(&p, res);
	it_root_remove();
	churn_print(stdout, &p, res);
	j = churn_json(&p, res);
	json_dumpf(j, stdout, JSON_COMPACT | JSON_REAL_PRECISION(6));
	putchar('\n');
	if (json_path && json_write_line(json_path, j) < 0)
		warnx_("writing %s failed", json_path);
	json_decref(j);
	if (plot)
		churn_plot(&p, res, plot);
	churn_free(res, p.nshims);
	return 0;
}
