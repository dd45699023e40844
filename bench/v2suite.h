/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `v2` (and the v2 table of `suite`): two runtime v2 shims, A (containerd-shim-runc-v2) and B
 * (cshim), each started as containerd 1.6 starts one (bench/shim.h bshim_use_v2: `start`,
 * then the long-running process, driven over containerd.task.v2.Task), every shim publishing
 * its task events to a private containerd (bench/ctd.h) through TTRPC_ADDRESS. In one run:
 *
 *  - pods: P pods per binary, launched interleaved (A1 B1 A2 B2 ...), each a sandbox and two
 *    containers in ONE shim (grouped by io.kubernetes.cri.sandbox-id, each with its own
 *    `start`); `start` invoked -> Connect answered for each sandbox; after `settle` s idle:
 *    Pss, Private_Dirty, threads, fds of each shim;
 *  - the slope: X more containers added to the first pod of each binary, settle again,
 *    (Private_Dirty after - before) / X;
 *  - compare: State at 1 and 64 connections, Pids and Stats at 1, rounds A B A B;
 *  - exitwait and execs as for v1, with v2 shims.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "bench/compare.h"
#include "bench/execs.h"
#include "bench/exitwait.h"
#include "bench/procstat.h"

#define V2_MAX_PODS 16

struct v2_params {
	const char *shim[2]; /* A, B */
	int pods, extra;
	double settle_s;
	struct cmp_params cp_state, cp_other; /* State 1c and 64c; Pids and Stats 1c */
	struct exitwait_params ew;
	struct execs_params ex;
	const char *containerd; /* NULL: /usr/bin/containerd */
};

struct v2_pods {
	int nok;                           /* pods launched whole */
	double first_ms[V2_MAX_PODS];      /* `start` invoked -> Connect answered */
	double start_ms[V2_MAX_PODS];      /* `start` invoked -> `start` exited */
	struct proc_mem idle[V2_MAX_PODS]; /* each pod's shim after settling */
	struct proc_mem before, after;     /* the first pod's shim around the slope */
	int added;                         /* containers added for the slope */
};

struct v2_result {
	bool have_ctd;
	int pods;
	struct v2_pods pod[2];
	struct cmp_result *state, *other;
	struct exitwait_result *ew;
	struct execs_result *ex;
};

void v2_params_defaults(struct v2_params *p);
/* Shorter everything (suite --quick). */
void v2_params_quick(struct v2_params *p);
int v2_run(const struct v2_params *p, struct v2_result *r);

/* A target row's verdict, for the caller's count. */
struct v2_count {
	int pass, miss, na;
};
/* The table (cshim, runc-v2, ratio cshim/runc-v2, target, met/MISSED); adds each target to
 * targets (a JSON array, may be NULL) and counts it in *c. */
void v2_print(FILE *f, const struct v2_params *p, const struct v2_result *r, json_t *targets,
	      struct v2_count *c);
json_t *v2_json(const struct v2_result *r);
void v2_free(struct v2_result *r);
