/* SPDX-License-Identifier: Apache-2.0 */
/* Command entry points and the option helpers they share. */
#pragma once

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

int cmd_launch(int argc, char **argv);
int cmd_rpc(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_density(int argc, char **argv);
int cmd_churn(int argc, char **argv);
int cmd_exitwait(int argc, char **argv);
int cmd_execs(int argc, char **argv);
int cmd_suite(int argc, char **argv);
int cmd_v2(int argc, char **argv);
