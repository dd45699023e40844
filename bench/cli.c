/* SPDX-License-Identifier: Apache-2.0 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/cli.h"
#include "bench/ctd.h"
#include "bench/report.h"
#include "bench/shim.h"
#include "bench/util.h"

void load_opts_defaults(struct load_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->weights[M_STATE] = 1;
	o->conns = 1;
	o->streams = 1;
	o->threads = 1;
	o->warmup_s = 0.5;
	o->duration_s = 2;
	o->drain_s = 10;
}

void parse_methods(const char *s, unsigned w[M_COUNT])
{
	char buf[256], *save = NULL, *tok;
	memset(w, 0, sizeof(unsigned) * M_COUNT);
	if (!strcasecmp(s, "mix")) {
		w[M_STATE] = 8;
		w[M_LISTPIDS] = 1;
		w[M_SHIMINFO] = 1;
		return;
	}
	xsnprintf(buf, sizeof(buf), "%s", s);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		int m;
		if (eq)
			*eq = '\0';
		m = method_parse(tok);
		if (m < 0)
			die("unknown method %s (State, ListPids, ShimInfo, mix)", tok);
		w[m] = eq ? (unsigned)parse_long("--method weight", eq + 1) : 1;
	}
}

int load_opt(struct load_opts *o, int argc, char **argv, int *i)
{
	const char *a = argv[*i], *v = *i + 1 < argc ? argv[*i + 1] : NULL;
	if (!strcmp(a, "--method") || !strcmp(a, "--mix")) {
		if (!v)
			die("%s needs a value", a);
		parse_methods(v, o->weights);
	} else if (!strcmp(a, "--conns")) {
		o->conns = (int)parse_long(a, v);
	} else if (!strcmp(a, "--streams")) {
		o->streams = (int)parse_long(a, v);
	} else if (!strcmp(a, "--threads")) {
		o->threads = (int)parse_long(a, v);
	} else if (!strcmp(a, "--duration")) {
		o->duration_s = parse_double(a, v);
	} else if (!strcmp(a, "--warmup")) {
		o->warmup_s = parse_double(a, v);
	} else if (!strcmp(a, "--rate")) {
		o->rate = parse_double(a, v);
	} else if (!strcmp(a, "--drain")) {
		o->drain_s = parse_double(a, v);
	} else {
		return 0;
	}
	(*i)++;
	return 1;
}

void load_opts_apply(const struct load_opts *o, struct load_spec *s)
{
	memcpy(s->weights, o->weights, sizeof(s->weights));
	s->conns = o->conns;
	s->streams = o->streams;
	s->threads = o->threads;
	s->warmup_s = o->warmup_s;
	s->duration_s = o->duration_s;
	s->rate = o->rate;
	s->drain_s = o->drain_s;
}

const char *default_goshim(void)
{
	const char *e = getenv("GOSHIM");
	return e && *e ? e : "/usr/bin/containerd-shim";
}

const char *default_cshim(void)
{
	const char *e = getenv("CSHIM");
	return e && *e ? e : "build/bin/cshim";
}

const char *default_gov2shim(void)
{
	const char *e = getenv("GOSHIMV2");
	return e && *e ? e : "/usr/bin/containerd-shim-runc-v2";
}

void ctd_cmd_parse(const char *name, int argc, char **argv, int max_rounds, struct ctd_cmd *o)
{
	int nb = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--rounds"))
			o->rounds = (int)parse_long(a, v), i++;
		else if (!strcmp(a, "--containerd"))
			o->containerd = v, i++;
		else if (!strcmp(a, "--json"))
			o->json = v, i++;
		else if (!strcmp(a, "--v2"))
			o->v2 = true;
		else if (a[0] >= '0' && a[0] <= '9')
			o->n = (int)parse_long("N", a);
		else if (a[0] != '-' && nb < 2)
			o->shim[nb++] = a;
		else
			die("%s: unknown option %s", name, a);
	}
	if (o->rounds < 1 || o->rounds > max_rounds || o->n < 1 || o->n > 1024)
		die("%s: 1 <= N <= 1024, 1 <= --rounds <= %d", name, max_rounds);
	if (!o->shim[0])
		o->shim[0] = o->v2 ? default_gov2shim() : default_goshim();
	if (!o->shim[1])
		o->shim[1] = default_cshim();
}

void ctd_cmd_run(const char *name, const struct ctd_cmd *o,
		 void (*run)(void *arg, struct bctd *ctd), void *arg)
{
	struct bctd ctd;

	bshim_install_signal_cleanup();
	bshim_use_v2(o->v2);
	if (bctd_start(&ctd, o->containerd, IT_NAMESPACE) < 0)
		die("%s: no private containerd", name);
	run(arg, &ctd);
	bctd_stop(&ctd);
	it_root_remove();
}

void ctd_cmd_json(const struct ctd_cmd *o, json_t *j)
{
	if (o->json && json_write_line(o->json, j) < 0)
		warnx_("writing %s failed", o->json);
	json_decref(j);
}
