/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `churn`: State latency on one connection (open loop at a fixed rate, measured from the
 * intended send time) in three situations, interleaved across the shims phase by phase:
 *   idle   - nothing else happens;
 *   churn  - other clients loop exec churn (Exec + Start + Wait + DeleteProcess of /bin/true;
 *            a v1 shim holds one container, so this is its create/delete churn) and Kill
 *            signals (SIGCONT to the init, through `runc kill`);
 *   hang   - an Update is in flight while the runtime hangs in `update` for the whole window
 *            (bench/runtime-hang.sh is the container's runtime).
 * The Go shim holds the init's mutex across `runc update` and `runc kill`, so its State waits;
 * cshim claims State never waits for the runtime.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "bench/load.h"

#define CHURN_MAX_SHIMS 4

struct churn_params {
	int nshims;
	const char *shim[CHURN_MAX_SHIMS];
	double warmup_s, duration_s, rate;
	int exec_clients, kill_clients;
	double hang_s;       /* 0: duration + 1.2 */
	const char *hang_on; /* runc subcommand that hangs: "update" (default) or "exec" */
	const char *wrapper; /* NULL: bench/runtime-hang.sh */
};

enum { PH_IDLE, PH_CHURN, PH_HANG, PH_N };
extern const char *const churn_phase_names[PH_N];

struct churn_result {
	char label[32];
	bool ok;
	struct load_result *ph[PH_N];
	/* churn phase */
	unsigned long long execs_ok, execs_err, kills_ok, kills_err;
	double churn_elapsed_s;
	char churn_error[160];
	/* hang phase */
	double hang_op_s;         /* how long the hanging RPC took */
	int hang_op_code;         /* its gRPC code (0 ok), -1 transport error */
	bool hang_covered_window; /* still in flight when the window ended */
	char hang_msg[160];
	double settle_s[PH_N]; /* waited before the phase for the previous one's aftermath */
	/* The floor: the same client and rate against a zero-work server (bench/pingpong.h,
	 * this container's real StateResponse), idle and during this shim's churn. */
	struct load_result *floor[2];
};

void churn_params_defaults(struct churn_params *p);
int churn_run(const struct churn_params *p, struct churn_result *res);
void churn_print(FILE *f, const struct churn_params *p, const struct churn_result *res);
json_t *churn_json(const struct churn_params *p, const struct churn_result *res);
void churn_plot(const struct churn_params *p, const struct churn_result *res, const char *path);
void churn_free(struct churn_result *res, int nshims);
