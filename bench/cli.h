/* SPDX-License-Identifier: Apache-2.0 */
/* Command entry points and the option helpers they share. */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "bench/load.h"

/* Load options common to rpc and compare. */
struct load_opts {
	unsigned weights[M_COUNT];
	int conns, streams, threads;
	double warmup_s, duration_s, rate, drain_s;
};

void load_opts_defaults(struct load_opts *o);
/* Consumes argv[*i] (and its value) if it is a load option; returns 1, else 0. */
int load_opt(struct load_opts *o, int argc, char **argv, int *i);
void load_opts_apply(const struct load_opts *o, struct load_spec *s);
/* "State", "ListPids", "ShimInfo", "mix" (State=8,ListPids=1,ShimInfo=1) or
 * "State=3,ShimInfo=1". */
void parse_methods(const char *s, unsigned w[M_COUNT]);

/* Default shim binaries: $GOSHIM or /usr/bin/containerd-shim; $CSHIM or build/bin/cshim. */
const char *default_goshim(void);
const char *default_cshim(void);
/* The v2 reference: $GOSHIMV2 or /usr/bin/containerd-shim-runc-v2. */
const char *default_gov2shim(void);

/* The command line exitwait and execs share: [N] [SHIM_A [SHIM_B]] [--rounds R]
 * [--containerd PATH] [--json FILE] [--v2]. */
struct ctd_cmd {
	int n, rounds; /* in: the command's defaults */
	const char *shim[2];
	const char *containerd, *json;
	bool v2;
};
/* Parses argv into o (dies on an unknown option, or N or R out of 1..1024, 1..max_rounds);
 * the shims default to the Go shim (v2: runc-v2) and cshim. */
void ctd_cmd_parse(const char *name, int argc, char **argv, int max_rounds, struct ctd_cmd *o);
struct bctd;
/* Signal cleanup, v2 shims if asked, the private containerd (dies without it), run(arg, ctd),
 * containerd stopped, the temp dirs removed. */
void ctd_cmd_run(const char *name, const struct ctd_cmd *o,
		 void (*run)(void *arg, struct bctd *ctd), void *arg);
/* Writes j to o->json when one was asked for; releases j. */
void ctd_cmd_json(const struct ctd_cmd *o, json_t *j);

int cmd_launch(int argc, char **argv);
int cmd_rpc(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_density(int argc, char **argv);
int cmd_churn(int argc, char **argv);
int cmd_exitwait(int argc, char **argv);
int cmd_execs(int argc, char **argv);
int cmd_suite(int argc, char **argv);
int cmd_v2(int argc, char **argv);
