/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `exitwait N`: how late a burst of exits reaches containerd. Each round, for each of the two
 * shims in turn (A B, then B A next round): N fresh shims, each with a busybox `sleep`
 * container, all started as containerd 1.6 starts them and publishing to a real private
 * containerd (bench/ctd.h); one Wait per container in flight; then the bench SIGKILLs the N
 * container inits itself, back to back with kill(2) (the containers' own exit: a Kill RPC
 * would add a `runc kill` per container, which is not the path measured). Per container: kill
 * -> its Wait answer, and kill -> its /tasks/exit at a containerd subscriber (`ctr events`).
 * No CPU figures: the exit path's cost is spread over N shims, each read in whole clock ticks
 * (/proc/PID/stat), and each shim reaps its container's init there too; `execs` measures the
 * CPU of the same publishing, N exits in one shim.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#define EW_MAX_ROUNDS 16

struct exitwait_params {
	int n, rounds;
	const char *shim[2];
};

struct ew_batch {
	bool ok;          /* all N launched and answered their Wait */
	int waits_ok;     /* Waits answered with status 137 */
	int events;       /* /tasks/exit seen at the subscriber within 10 s */
	double *wait_ns;  /* N: kill -> Wait answer */
	double *event_ns; /* N: kill -> event at the subscriber (-1: not seen) */
	double settle_s;
	char error[160];
};

struct exitwait_result {
	char label[2][32];
	int n, rounds;
	struct ew_batch b[2][EW_MAX_ROUNDS];
};

enum ew_metric { EW_WAIT_P50, EW_WAIT_P90, EW_WAIT_MAX, EW_EV_P50, EW_EV_P90, EW_N };

void exitwait_params_defaults(struct exitwait_params *p);
struct bctd;
/* ctd: started (bctd_start); the shims publish to it. */
int exitwait_run(const struct exitwait_params *p, struct bctd *ctd, struct exitwait_result *r);
/* Per round of shim s: metric m (ns). */
double exitwait_value(const struct exitwait_result *r, int s, int round, int m);
/* Median over the rounds; the ratio B/A per round { min, median, max }. */
double exitwait_median(const struct exitwait_result *r, int s, int m);
void exitwait_ratio(const struct exitwait_result *r, int m, double out[3]);
extern const char *const ew_names[EW_N];
void exitwait_print(FILE *f, const struct exitwait_result *r);
json_t *exitwait_json(const struct exitwait_result *r);
void exitwait_free(struct exitwait_result *r);
