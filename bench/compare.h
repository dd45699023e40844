/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `compare SHIM_A SHIM_B`: the same workload against both shims, interleaved A B A B ... in
 * one run, for several rounds; per metric the median of each shim over the rounds and the
 * ratio B/A per round (min / median / max). In the suite A is the Go shim and B cshim, so
 * B/A reads "cshim/go".
 */
#pragma once

#include <jansson.h>
#include <stdio.h>

#include "bench/load.h"
#include "bench/shim.h"

#define CMP_MAX_ROUNDS 16
#define CMP_MAX_POINTS 32

enum cmp_metric {
	CM_RPS,
	CM_P50,
	CM_P90,
	CM_P99,
	CM_P999,
	CM_MAX,
	CM_CPU_REQ,
	CM_CLIENT_REQ,
	CM_ERRORS,
	CM_N
};
extern const char *const cm_names[CM_N];

struct cmp_point;

struct cmp_params {
	int nmethods;
	unsigned weights[8][M_COUNT];
	int nconns;
	int conns[8];
	int streams, threads, rounds;
	double warmup_s, duration_s, rate, drain_s;
	/* Optional: called before each round of each point (before shim A runs). */
	void (*before_round)(void *arg, const struct cmp_point *p, int round);
	void *hook_arg;
};

struct cmp_point {
	unsigned weights[M_COUNT];
	int conns, streams, rounds;
	struct load_result *res[2][CMP_MAX_ROUNDS];
};

struct cmp_result {
	char label[2][32];
	int npoints;
	struct cmp_point p[CMP_MAX_POINTS];
	struct cmp_params params;
};

void cmp_params_defaults(struct cmp_params *p);
/* Runs every point on the two (launched) shims. */
int compare_run(const struct cmp_params *cp, struct bshim *sh[2], struct cmp_result *out);
void compare_free(struct cmp_result *r);

double cm_value(const struct load_result *r, int metric);
/* Median of shim s (0 = A, 1 = B) over the rounds. */
double cmp_median(const struct cmp_point *p, int s, int metric);
/* Ratio B/A per round: min, median, max. NaN when undefined. */
void cmp_ratio(const struct cmp_point *p, int metric, double *mn, double *med, double *mx);
const char *cmp_point_name(const struct cmp_point *p, char *buf, size_t n);
/* A metric's value for a table: "-" (NaN or negative), req/s, "12.3us" (CPU), or a duration. */
const char *cmp_fmt(char *b, size_t n, int metric, double v);
/* A ratio for a table: "median  [min .. max]", "-" when undefined. */
const char *cmp_ratio_fmt(char *b, size_t n, double mn, double med, double mx);

void compare_print(FILE *f, const struct cmp_result *r);
json_t *compare_json(const struct cmp_result *r);
/* One SVG per point: PREFIX-<method>-<conns>c.svg. */
void compare_plots(const struct cmp_result *r, const char *prefix);
