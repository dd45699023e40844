/* SPDX-License-Identifier: Apache-2.0 */
/* What the files of the core share: the shim-wide state, the container object, the exits. */
#pragma once

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <urcu/rculfhash.h>
#include <urcu/urcu-memb.h>

#include "../io/pty.h"
#include "container.h"

/* Shared by every container of the shim: set once by container_setup. */
struct shim {
	struct shim_config cfg;
	struct loop *loop;
	container_exit_sink sink;
};
extern struct shim S;

struct killall_ctx;

/*
 * One container: its init and execs. id and bundle never change; the object is reference
 * counted (the container table holds one, each of its processes one, a front end may hold
 * one) and freed after an RCU grace period once it left the table.
 */
struct container {
	struct cds_lfht_node node; /* the container table, by id */
	struct rcu_head rcu;
	atomic_int refs;
	char *id, *bundle;
	pthread_mutex_t mu; /* the service lock: Create, Delete, the init pointer */
	struct proc *init;  /* under mu; read lock-free as a flag */
	struct runtime rt;  /* set by Create, then read-only */
	bool have_mounts;   /* under mu */
	bool own_pidns;
	bool init_by_empty_id; /* create_req's; set before it enters the table */
	struct create_opts opts;
	char *criu_work_path;  /* CreateOptions.criu_work_path (NULL or "" = the work dir) */
	char *dump_log;        /* BUNDLE/criu-dump.log, made by the first failed Checkpoint */
	bool in_table;         /* under the table's lock */
	atomic_bool published; /* release/acquire pair of the table's publication (TSan) */
	/* The exec-before-init hold (exit.c), under hold_mu: claimed execs whose exit has not
	 * come through, and the init's exit waiting for them. */
	pthread_mutex_t hold_mu;
	int live_execs;
	struct killall_ctx *held;
	uintptr_t held_gen;
	/* Stats' view of the container's cgroup (stats.c), parsed from the runtime's state.json
	 * at the first Stats and kept: a container's cgroup does not move. Published once with
	 * a compare-and-swap, read-only after; freed with the container. */
	struct stats_src *stats_src;
};

#define ST(s) (1u << (s))

/* The container table (container_table.c). */
int container_table_init(void);
/* A new container, not in the table yet (one reference). */
struct container *container_new(const char *id, const char *bundle);
/* Adds c under its id: -EEXIST if taken, or if only_one and the table is not empty. */
int container_table_add(struct container *c, bool only_one);
/* Removes c (its table reference goes after a grace period). */
void container_table_remove(struct container *c);
/* Inside rcu_read_lock: valid until rcu_read_unlock. */
struct container *container_table_find(const char *id);

/* Frees what Stats kept of c's cgroup (stats.c); for the container's last unref. */
void container_stats_forget(struct container *c);

int container_err_not_found(struct shim_error *err, const char *id);
int container_err_no_init(struct shim_error *err);
enum proc_status container_proc_status(struct proc *p);
int container_read_pid_file(const char *path, uint32_t *ret);
/* Gets a console master after the runtime ran with --console-socket. */
int container_recv_console(struct console_socket *cs, int *ret_master, struct shim_error *err);
/* Start of an init created from a checkpoint: runc restore (p->mu held). */
int container_restore(struct container *c, struct proc *p, uint64_t deadline_ns,
		      struct shim_error *err);
/* The init with a reference, or NULL. */
struct proc *container_init_get(struct container *c);
/* Stdio for a process: FIFOs/files (io/stdio) or a binary:// logger. */
int container_io_prepare(const struct stdio_cfg *cfg, const char *id, struct stdio *io,
			 struct logger *lg, char *msg, size_t msgsz);
/* A stdio copy (terminal: the console copy) failed to start with r: the facts for errmap. */
int container_io_start_error(struct shim_error *err, enum shim_op op, bool terminal, int r);

/* The launch of a process by the runtime (launch.c): create, exec start, restore. */
struct launch {
	enum shim_op op;
	bool terminal;
	bool window; /* the reaper's start window is open */
	bool ran;    /* the runtime succeeded: it created or started the process */
	struct console_socket cs;
	int master; /* the console master (terminal), owned until taken */
	uint32_t pid;
	uint64_t t0; /* the start window's stamp, for exit_claim */
};
struct launch_call {
	const struct runtime *rt;
	const char *const *args; /* with l->cs.path after --console-socket when terminal */
	struct stdio *io;        /* its rt_fd are the runtime's stdio (not for a terminal) */
	const char *pid_file;
	const char *pid_what; /* "container" or "exec": for the pid file's error */
	bool say_timeout;     /* past the deadline: "RUNTIME timed out" (Create's text) */
	uint64_t deadline_ns;
};
/* Makes the console socket of a terminal process: 0 or -errno (*err set). */
int launch_prepare(struct launch *l, enum shim_op op, bool terminal, struct shim_error *err);
/* Runs the runtime, gets the console master and reads the pid file: 0, or -errno with *err
 * set (l->ran: the runtime did create or start the process). */
int launch_run(struct launch *l, const struct launch_call *call, struct shim_error *err);
/* Closes the start window, the console socket and an untaken master. */
void launch_finish(struct launch *l);

/* Exits (exit.c). */
/* The reaper's callback for a process's exit (cookie: the claimed struct proc). */
void exit_reaped(void *cookie, int status);
/* Routes the exit of a just-started process (which may have happened already). */
void exit_claim(struct proc *p, uint32_t pid, uint64_t t0);
/* Waits (at most 10 s) until the exit event of p was delivered or handed over. */
void exit_delivery_wait(struct proc *p);
