/* SPDX-License-Identifier: Apache-2.0 */
/* `rpc`: load on one shim (launched here, or an existing socket). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/cli.h"
#include "bench/report.h"
#include "bench/shim.h"
#include "bench/svg.h"
#include "bench/util.h"

int cmd_rpc(int argc, char **argv)
{
	struct load_opts o;
	struct load_spec s;
	struct load_result r;
	struct bshim b;
	const char *shim = NULL, *sock = NULL, *id = NULL, *plot = NULL, *json_path = NULL;
	char label[64] = "shim", md[128];
	pid_t pid = 0;
	bool launched = false, v2 = false;
	json_t *j;
	int rc;

	load_opts_defaults(&o);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (load_opt(&o, argc, argv, &i))
			continue;
		if (!strcmp(a, "--shim"))
			shim = v, i++;
		else if (!strcmp(a, "--socket"))
			sock = v, i++;
		else if (!strcmp(a, "--pid"))
			pid = (pid_t)parse_long(a, v), i++;
		else if (!strcmp(a, "--id"))
			id = v, i++;
		else if (!strcmp(a, "--v2"))
			v2 = true; /* a runtime v2 shim: launched through `start`, Task service */
		else if (!strcmp(a, "--plot"))
			plot = v, i++;
		else if (!strcmp(a, "--json"))
			json_path = v, i++;
		else if (a[0] != '-' && !shim && !sock)
			shim = a;
		else
			die("rpc: unknown option %s", a);
	}
	if (!shim && !sock)
		shim = default_cshim();
	if (shim) {
		bshim_install_signal_cleanup();
		bshim_use_v2(v2);
		if (bshim_launch(&b, shim, "rpc", NULL, NULL) < 0) {
			bshim_destroy(&b);
			it_root_remove();
			die("could not launch %s", shim);
		}
		launched = true;
		sock = b.si.sock;
		pid = b.pid;
		id = b.si.id;
		xsnprintf(label, sizeof(label), "%s", b.label);
	}
	load_spec_defaults(&s);
	load_opts_apply(&o, &s);
	s.sock = sock;
	s.server_pid = pid;
	s.container_id = id ? id : "";
	s.v2 = v2;
	s.label = label;
	rc = load_run(&s, &r);
	if (launched) {
		bshim_destroy(&b);
		it_root_remove();
	}
	if (rc < 0)
		die("load failed: %s", strerror(-rc));
	printf("rpc %s, %d connection(s) x %d stream(s), %s, window %.1fs after %.1fs warm-up\n",
	       lr_method_desc(&r, md, sizeof(md)), r.conns, r.streams,
	       r.open_loop ? "open loop" : "closed loop", r.window_s, o.warmup_s);
	lr_table_header(stdout);
	lr_table_row(stdout, label, &r);
	lr_table_mix_rows(stdout, &r);
	if (r.first_error[0])
		printf("first error: %s\n", r.first_error);
	j = lr_json(label, &r);
	json_dumpf(j, stdout, JSON_COMPACT | JSON_REAL_PRECISION(6));
	putchar('\n');
	if (json_path && json_write_line(json_path, j) < 0)
		warnx_("writing %s failed", json_path);
	json_decref(j);
	if (plot) {
		struct svg_series sv[M_COUNT + 1];
		int n = 0;
		char title[160];
		sv[n++] = (struct svg_series){ strncmp(md, "mix", 3) ? label : "all methods",
					       &r.all };
		if (strncmp(md, "mix", 3) == 0)
			for (int m = 0; m < M_COUNT; m++)
				if (r.weights[m])
					sv[n++] = (struct svg_series){ method_names[m], &r.per[m] };
		xsnprintf(title, sizeof(title), "%s: %s, %d conn x %d streams, %s", label, md,
			  r.conns, r.streams, r.open_loop ? "open loop" : "closed loop");
		if (svg_cdf(plot, title, sv, n) < 0)
			warnx_("writing %s failed", plot);
	}
	return lr_errors(&r) ? 1 : 0;
}
