/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A private containerd 1.6 for the benchmarks whose shims must publish for real (exitwait,
 * execs): its own config, root, state and sockets in one temp dir (/tmp/cshim-bench-ctd.*),
 * started and stopped by pid, and a `ctr events` subscriber whose lines are timestamped as
 * they arrive, so a run can count the /tasks/exit events containerd really received and when.
 * The shims are still driven by the bench; containerd does not know their tasks (its event
 * exchange accepts a /tasks/exit for any task: start() checks that with a probe published by
 * `containerd publish`, which is also how it knows the subscriber is listening).
 */
#pragma once

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct ev_line {
	uint64_t t_ns; /* now_ns() when the line was read */
	char *text;    /* "TIMESTAMP NAMESPACE TOPIC {json}" */
};

struct bctd {
	char dir[PATH_MAX];
	char addr[PATH_MAX]; /* gRPC socket; the ttrpc one is ADDR.ttrpc (containerd's default) */
	char binary[PATH_MAX];
	pid_t pid;    /* containerd */
	pid_t ev_pid; /* ctr events */
	int ev_fd;
	pthread_t ev_thr;
	bool ev_started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct ev_line *ev;
	int nev, capev;
};

/* Starts containerd (binary: NULL = /usr/bin/containerd) and the subscriber, publishes the
 * probe in namespace ns and waits for it. 0 or -errno (a message was printed; c is stopped). */
int bctd_start(struct bctd *c, const char *binary, const char *ns);
/* SIGTERM (SIGKILL after 10 s) by pid, the subscriber too; removes the dir. Idempotent. */
void bctd_stop(struct bctd *c);
/* When a /tasks/exit line naming id (as a JSON string: "id") arrived, or 0 if none yet. */
uint64_t bctd_exit_seen(struct bctd *c, const char *id);
/* Waits until every id's /tasks/exit arrived or timeout_ms passed; returns how many did. */
int bctd_wait_exits(struct bctd *c, char *const *ids, int n, int timeout_ms);
/* containerd's CPU time so far (utime+stime, seconds). */
double bctd_cpu_s(const struct bctd *c);
