/* SPDX-License-Identifier: Apache-2.0 */
/* State shared by container.c (init, service lock) and exec.c (exec processes). */
#pragma once

#include <pthread.h>
#include <stdbool.h>

#include "../io/pty.h"
#include "container.h"

/* Set once by the first successful Create, never changed or freed: read without locks. */
struct cinfo {
	char id[256];
	char bundle[4096];
};

struct container {
	struct shim_config cfg;
	struct loop *loop;
	container_exit_sink sink;
	pthread_mutex_t mu; /* the service lock: Create, Delete, the init pointer */
	struct cinfo *info; /* RCU-published */
	struct proc *init;
	struct runtime rt;
	bool have_mounts;
	bool own_pidns;
	struct create_opts opts;
	char *criu_work_path; /* CreateOptions.criu_work_path (NULL or "" = the work dir) */
};

extern struct container C;

#define ST(s) (1u << (s))

int container_err_not_found(struct shim_error *err, const char *id);
int container_err_no_init(struct shim_error *err);
enum proc_status container_proc_status(struct proc *p);
int container_read_pid_file(const char *path, uint32_t *ret);
/* Routes the exit of a just-started process (which may have happened already). */
void container_claim_exit(struct proc *p, uint32_t pid, uint64_t t0);
/* Gets a console master after the runtime ran with --console-socket. */
int container_recv_console(struct console_socket *cs, int *ret_master, struct shim_error *err);
/* Start of an init created from a checkpoint: runc restore (p->mu held). */
int container_restore(struct proc *p, uint64_t deadline_ns, struct shim_error *err);
/* The bundle of the container ("" before Create). Lock-free. */
const char *container_bundle_path(void);
/* Stdio for a process: FIFOs/files (io/stdio) or a binary:// logger. */
int container_io_prepare(const struct stdio_cfg *cfg, const char *id, struct stdio *io,
			 struct logger *lg, char *msg, size_t msgsz);
/* A process's stdio copy failed to start after the runtime ran (r: -errno): Go's answer,
 * "failed to start io pipe copy: ..." or "failed to start console copy: ...". */
/* A stdio copy (terminal: the console copy) failed to start with r: the facts for errmap. */
int container_io_start_error(struct shim_error *err, enum shim_op op, bool terminal, int r);
