/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `density N`: N shims of each binary, each with an idle `sleep` container. Launches are
 * interleaved (A1 B1 A2 B2 ...) so both binaries start under the same conditions. Per shim:
 * start-to-first-answer (exec of the shim -> first successful ShimInfo answer), and after the
 * whole fleet has been idle for `settle` seconds: Pss and Private_Dirty (smaps_rollup),
 * threads (status), fds (/proc/PID/fd). Threads are also sampled right after start-up.
 */
#pragma once

#include <jansson.h>
#include <stdio.h>

#include "bench/procstat.h"

#define DENSITY_MAX_SHIMS 4

struct density_params {
	int n;
	int nshims;
	const char *shim[DENSITY_MAX_SHIMS];
	double settle_s;
};

struct density_stats {
	double mean, median, min, max, total;
};

struct density_result {
	char label[32];
	int n, nok;
	double *first_answer_s;     /* per launched shim */
	struct proc_mem *start_mem; /* right after Create+Start */
	struct proc_mem *idle_mem;  /* after settling */
	struct density_stats pss_kb, pd_kb, rss_kb, vm_data_kb, threads, fds, threads_start,
		first_ms;
	double first_p90_ms;
};

void density_params_defaults(struct density_params *p);
/* res: nshims results. */
int density_run(const struct density_params *p, struct density_result *res);
void density_print(FILE *f, const struct density_result *res, int nshims);
json_t *density_json(const struct density_result *res, int nshims, double settle_s);
void density_free(struct density_result *res, int nshims);
