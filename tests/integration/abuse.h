/* SPDX-License-Identifier: Apache-2.0 */
/* The harness of test_abuse (test_abuse.c lists the cases): every case runs against cshim and
 * then the Go shim; a failed CHECK fails the test for cshim and is a "GO-DIFF" row for the Go
 * shim. abuse_harness.c implements what is declared here; the cases live in abuse_wire.c,
 * abuse_clients.c, abuse_hygiene.c and abuse_faults.c. Built on itutil.h (typed calls,
 * descriptors, /proc counts). */
#pragma once

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "proto/ttrpc_frame.h"
#include "tests/integration/itutil.h"

#define ST_CREATED 1
#define ST_RUNNING 2
#define ST_STOPPED 3

#define OP_MS 10000 /* default bound of one RPC */

extern const char *const ARGV_SLEEP[]; /* /bin/sleep 1000 */

/* ---- one case run against one shim; checks and observations ---- */

struct tc {
	bool is_c;
	const char *label; /* "cshim" / "go" */
	const char *name;  /* case name */
	int fails;
};

/* An observation row (printed now and in the summary). */
__attribute__((format(printf, 2, 3))) void obs(struct tc *t, const char *fmt, ...);
/* A check: false (and a row, a failed check for cshim) when !ok. Use CHECK. */
__attribute__((format(printf, 4, 5))) bool check_(struct tc *t, bool ok, int line, const char *fmt,
						  ...);
#define CHECK(t, cond, ...) check_((t), (cond), __LINE__, __VA_ARGS__)
/* Prints every row: observations, cshim failures, Go differences. */
void abuse_summary(void);

/* ---- what the watchdog kills when the run takes too long ---- */

void reg_shim(struct shim_inst *si, bool add);
void reg_extra(pid_t pid, bool add);
/* Kills everything registered and exits after `secs` seconds. */
void abuse_watchdog_start(long secs);

void sleep_ms(long ms);

/* ---- /proc ---- */

int proc_status(pid_t pid, const char *key, char *out, size_t n);
long proc_rss_kb(pid_t pid);
int proc_fd_desc(pid_t pid, char *out, size_t n, int *extra);
void proc_fd_kinds(pid_t pid, char *out, size_t n);
int proc_children(pid_t parent, const char *comm, pid_t *out, int n);
int wait_fds_le(pid_t pid, int want, int timeout_ms);

/* Samples fds/threads/RSS of a pid every 10 ms in the background. */
struct mon {
	pid_t pid;
	pthread_t thr;
	atomic_bool stop;
	bool started;
	int peak_fds, peak_threads;
	long peak_rss;
};
void mon_start(struct mon *m, pid_t pid);
void mon_stop(struct mon *m);

/* ---- raw sockets and frames ---- */

int raw_connect(const char *path);
int raw_send_all(int fd, const void *buf, size_t n, int timeout_ms);
int raw_recv_frame(int fd, int timeout_ms, struct ttrpc_hdr *h, uint8_t **body);
int raw_recv_reply(int fd, int timeout_ms, struct ttrpc_hdr *h, int *code, char **msg,
		   uint8_t **payload, size_t *plen);
uint8_t *mk_req(uint32_t stream, const char *method, const ProtobufCMessage *m,
		int64_t timeout_nano, size_t *len);
uint8_t *mk_shiminfo(uint32_t stream, size_t *len);
uint8_t *mk_state(uint32_t stream, const char *id, size_t *len);
void set_stream(uint8_t *frame, uint32_t stream);

/* ---- typed RPCs: the gRPC code (>= 0) or -errno; *msg heap when msg != NULL ---- */

int rpc_create(struct shimclient *c, const struct shim_inst *si, const char *runtime,
	       const char *out, const char *err, uint32_t *pid, char **msg, int timeout_ms);
int rpc_delete(struct shimclient *c, uint32_t *exit_status, char **msg, int timeout_ms);
int rpc_listpids(struct shimclient *c, const char *id, int *n, int timeout_ms);
int rpc_exec(struct shimclient *c, const char *id, const char *const argv[], const char *out,
	     const char *err, char **msg, int timeout_ms);

/* ---- fixture: one shim (launch.c) + one control connection ---- */

struct fx {
	bool is_c;
	struct shim_inst si;
	bool prepared;
	struct shimclient *c;
	uint32_t init_pid;
	pid_t bg[4]; /* processes the test must kill itself (host pid namespace leftovers) */
	int nbg;
};

int fx_launch(struct tc *t, struct fx *f, const char *tag, const char *const argv[]);
void fx_free(struct fx *f);
int fx_run_container(struct tc *t, struct fx *f);
void fx_stop_init(struct fx *f);
bool shim_ok(struct tc *t, struct fx *f, const char *when);

/* ---- files ---- */

/* Copies tests/integration/wrappers into the run's private dir (0755). */
int copy_wrappers(void);
/* The absolute path of a wrapper copied by copy_wrappers(). */
const char *wrapper(const char *name);
int edit_json(const char *path, void (*fn)(json_t *));
void drop_pid_ns(json_t *cfg);
int mk_fifo(const struct fx *f, const char *name, bool open_reader, char *path, size_t n, int *rfd);

/* ---- the cases ---- */

void case_oversize(struct tc *t);
void case_vanish(struct tc *t);
void case_streams(struct tc *t);
void case_garbage(struct tc *t);
void case_bytewise(struct tc *t);
void case_idle1000(struct tc *t);
void case_noreader(struct tc *t);
void case_peercred(struct tc *t);
void case_hygiene(struct tc *t);
void case_failcreate(struct tc *t);
void case_hangstart(struct tc *t);
void case_killcreated(struct tc *t);
void case_bgchild(struct tc *t);
void case_noreaderio(struct tc *t);
void case_stuckio(struct tc *t);
