/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `execs N`: N concurrent ExecSync-like cycles (Exec + Start + Wait + DeleteProcess of
 * /bin/true, one connection each) into one container per shim; shims publishing to a real
 * private containerd (bench/ctd.h). Rounds interleave the shims (A B, then B A). Per batch:
 * the wall time from the start barrier to the last DeleteProcess answer, and the CPU of the
 * shim plus its children per exec: utime+stime+cutime+cstime of the shim from /proc/PID/stat,
 * read once every child was reaped (runc, and each exit's publisher: all of them are the
 * shim's children, so their CPU lands in its cutime/cstime); containerd's CPU separately.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#define EX_MAX_ROUNDS 16

struct execs_params {
	int n, rounds;
	const char *shim[2];
};

struct ex_batch {
	bool ok; /* every cycle succeeded */
	int cycles_ok, events;
	double wall_ns;
	double *cycle_ns;                     /* N: one cycle's latency */
	double self_s, children_s, ctd_cpu_s; /* deltas over the batch */
	double settle_s;
	char error[160];
};

struct execs_result {
	char label[2][32];
	int n, rounds;
	struct ex_batch b[2][EX_MAX_ROUNDS];
};

enum ex_metric { EX_WALL, EX_CYCLE_P50, EX_CPU, EX_CPU_SELF, EX_CPU_CHILDREN, EX_CTD_CPU, EX_N };
extern const char *const ex_names[EX_N];

void execs_params_defaults(struct execs_params *p);
struct bctd;
int execs_run(const struct execs_params *p, struct bctd *ctd, struct execs_result *r);
/* Round value of shim s: ns for EX_WALL/EX_CYCLE_P50, seconds per exec for the CPU rows. For
 * EX_CTD_CPU (a few clock ticks a batch) the median and the ratio are over all rounds pooled:
 * the sum of containerd's CPU over the rounds divided by all their execs. */
double execs_value(const struct execs_result *r, int s, int round, int m);
double execs_median(const struct execs_result *r, int s, int m);
void execs_ratio(const struct execs_result *r, int m, double out[3]);
void execs_print(FILE *f, const struct execs_result *r);
json_t *execs_json(const struct execs_result *r);
void execs_free(struct execs_result *r);
