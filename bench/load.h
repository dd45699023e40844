/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Request load against a ttrpc server (a shim, or the pingpong echo server).
 *
 * Closed loop: every connection keeps `streams` requests in flight (N connections with one
 * stream each, or N streams multiplexed on one connection); a response is answered by the
 * next request. Open loop: requests are due at fixed intervals (rate/s in total, spread over
 * the connections) whether or not earlier ones were answered, and latency is measured from
 * the intended send time, so a stalled server is charged for every request it delayed (no
 * coordinated omission).
 *
 * Time line: [start, start+warmup) warm-up, [warm_end, end) measured window, then up to
 * drain_s to collect what was sent in the window. A request counts if it was sent (closed)
 * or due (open) inside the window. Latencies go into log-linear histograms, never an array.
 * Shim CPU = /proc/PID/stat utime+stime over the window; client CPU = this process's
 * getrusage over the window.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "bench/hist.h"

/* v1 shims serve State, ListPids and ShimInfo; v2 shims State, Pids and Stats. */
enum method_id { M_STATE, M_LISTPIDS, M_SHIMINFO, M_PIDS, M_STATS, M_COUNT };
extern const char *const method_names[M_COUNT];
/* "State" / "ListPids" / "ShimInfo" / "Pids" / "Stats" -> id, or -1. */
int method_parse(const char *name);

struct load_spec {
	const char *sock;         /* unix socket path (when fds is NULL) */
	const int *fds;           /* or: already connected sockets, one per connection */
	pid_t server_pid;         /* whose CPU is measured (0: none) */
	const char *container_id; /* for State/ListPids/Pids/Stats */
	bool v2;                  /* the requests go to containerd.task.v2.Task */
	int conns;                /* connections (default 1) */
	int streams;              /* closed loop: in flight per connection (default 1) */
	int threads;              /* client threads (default 1) */
	double warmup_s, duration_s;
	double rate;    /* > 0: open loop at this many requests/s in total */
	double drain_s; /* default 10 */
	unsigned weights[M_COUNT];
	const char *label; /* for the progress line */
	/* Optional hooks run by the coordinating thread at the window edges. */
	void (*on_window_start)(void *arg);
	void *hook_arg;
};

struct load_result {
	struct hist all;
	struct hist per[M_COUNT];
	uint64_t ok, errors, timeouts, conn_errors, overflows;
	uint64_t err_by_code[17];
	char first_error[160];
	double window_s;
	uint64_t t_window_start_ns, t_window_end_ns; /* CLOCK_MONOTONIC */
	double rps;              /* answered requests (ok + error responses) per second */
	double shim_cpu_s;       /* server utime+stime over the window */
	double shim_child_cpu_s; /* server's reaped children (runc) over the window */
	double shim_run_delay_s; /* server threads' runqueue wait over the window */
	double client_cpu_s;     /* this process over the window */
	double sys_busy;         /* whole machine: busy fraction of all CPUs in the window */
	bool open_loop;
	double rate;
	int conns, streams;
	unsigned weights[M_COUNT];
};

/* Fills defaults (conns 1, streams 1, threads 1, warmup 0.5, duration 2, drain 10, State). */
void load_spec_defaults(struct load_spec *s);
/* 0, or -errno when nothing could be measured (connect failed ...). */
int load_run(const struct load_spec *s, struct load_result *r);

/* Derived numbers. */
double lr_pct_ns(const struct load_result *r, double p);
double lr_cpu_per_req_us(const struct load_result *r);
double lr_client_cpu_per_req_us(const struct load_result *r);
