/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A container process (the init or an exec). Immutable after creation: id, stdio paths,
 * terminal. Changing state lives in a snapshot published with RCU (rcu_xchg_pointer), so
 * State/Wait/ListPids read it without any lock. Operations on one process are serialized by
 * its mutex; waiters are kept under a separate small lock.
 */
#pragma once

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <urcu/urcu-memb.h>
#include <urcu/rculfhash.h>

#include "../io/stdio.h"
#include "logger.h"

enum proc_status {
	PROC_UNKNOWN = 0,
	PROC_CREATED = 1,
	PROC_RUNNING = 2,
	PROC_STOPPED = 3,
	PROC_PAUSED = 4,
	PROC_PAUSING = 5,
	PROC_DELETED = 6, /* reported as STOPPED */
};

struct proc_snap {
	enum proc_status status;
	uint32_t pid;
	uint32_t exit_status;
	struct timespec exited_at; /* {0,0}: not exited (encoded as Go's zero time) */
	struct rcu_head rcu;
};

struct proc_waiter;
typedef void (*proc_waiter_fn)(struct proc_waiter *w, uint32_t exit_status,
			       const struct timespec *exited_at);
struct proc_waiter {
	proc_waiter_fn fn;
	struct proc_waiter *next;
};

struct container;

struct proc {
	struct cds_lfht_node id_node, pid_node;
	struct container *c; /* its container (a reference), set before it enters the table */
	struct rcu_head rcu;
	atomic_int refs;
	char *id;
	/* What the table finds it by in its container: its id, or "" for the init of a container
	 * whose execs have a namespace of their own (create_req.init_by_empty_id, the v2 Task
	 * service: exec_id "" is the init, an exec may be named like its container). Set before
	 * it enters the table. */
	const char *key;
	bool is_init;
	char *in, *out, *err;
	bool terminal;
	struct proc_snap *snap; /* RCU */
	atomic_bool published;  /* release/acquire pair of the tables' publication */
	pthread_mutex_t mu;     /* serializes operations (start, kill, delete) */
	int pidfd;              /* pins the process once its pid is known */
	bool pid_mapped;
	struct stdio io;
	bool io_started;
	struct logger logger; /* binary:// stdio */
	char *spec_json;      /* exec: the runtime-spec Process JSON */
	/* Delete is running the runtime: an exit now is kept aside (Go's service lock makes the
	 * deleted state ignore it), and applied only if the delete fails. Under st_mu. */
	bool deleting, exit_pending;
	int pending_status;
	/* Its exit was recorded and its event not yet delivered (container.c: Delete waits
	 * for it, so the shim killed right after Delete cannot take the event along). */
	bool exit_undelivered;
	/* exit_gate.c (under its lock): Start running; when it was answered (monotonic). */
	bool gate_starting;
	uint64_t gate_started_ns;
	/* init created from a checkpoint: restored by Start */
	bool from_checkpoint;
	char *ckpt_image, *ckpt_parent;
	/* Guards snapshot transitions and waiters; held briefly, never across a child wait
	 * (the reaper takes it to record exits). */
	pthread_mutex_t st_mu;
	bool released;
	uint32_t rel_status;
	struct timespec rel_at;
	struct proc_waiter *waiters;
};

/* RCU publication of a snapshot pointer, as rcu_xchg_pointer/rcu_dereference, but with C11
 * atomics so that ThreadSanitizer sees the release/acquire pair (liburcu's inline asm it
 * cannot see). Same code on x86: a locked xchg and a plain load. */
#define proc_snap_deref(p) __atomic_load_n(&(p)->snap, __ATOMIC_ACQUIRE)
#define rcu_publish(ptr, v) __atomic_store_n(&(ptr), (v), __ATOMIC_RELEASE)
#define rcu_deref(ptr) __atomic_load_n(&(ptr), __ATOMIC_ACQUIRE)

/* ThreadSanitizer cannot see liburcu's grace periods either (sys_membarrier and its own
 * atomics, in an uninstrumented library), nor that call_rcu() comes before its callback: in
 * TSan builds only, the end of every read-side critical section and every call_rcu() of the
 * tables release one sync object, and the RCU callbacks acquire it before they free, so a
 * free after a grace period is ordered after the readers that preceded it and after what the
 * thread that retired the object did with it. Every reader of the tables includes this
 * header, so its urcu_memb_read_unlock() is this one. Elsewhere all is liburcu's, unchanged. */
#ifdef __SANITIZE_THREAD__
#include <sanitizer/tsan_interface.h>
extern char proc_rcu_gp;
static inline void proc_rcu_read_unlock(void)
{
	__tsan_release(&proc_rcu_gp);
	urcu_memb_read_unlock();
}
#define urcu_memb_read_unlock() proc_rcu_read_unlock()
#define proc_rcu_gp_acquire() __tsan_acquire(&proc_rcu_gp)
#define proc_rcu_gp_release() __tsan_release(&proc_rcu_gp)
#else
#define proc_rcu_gp_release()                                                                      \
	do {                                                                                       \
	} while (0)
#define proc_rcu_gp_acquire()                                                                      \
	do {                                                                                       \
	} while (0)
#endif

struct proc *proc_new(const char *id, bool is_init, const char *in, const char *out,
		      const char *err, bool terminal);
struct proc *proc_ref(struct proc *p);
void proc_unref(struct proc *p);

/* Reads the current snapshot (inside rcu_read_lock, or copy out with proc_snap_get). */
void proc_snap_get(struct proc *p, struct proc_snap *out);
/* Publishes a new snapshot (callers hold p->st_mu). */
int proc_snap_set(struct proc *p, const struct proc_snap *s);
/* Moves to st if the current status is in from_mask (bits 1 << status); returns the status
 * found (the transition happened iff it is in the mask). */
enum proc_status proc_transition(struct proc *p, unsigned from_mask, enum proc_status st);

/* Adds a waiter, or returns 1 with the result when already released. */
int proc_wait_add(struct proc *p, struct proc_waiter *w, uint32_t *ret_status,
		  struct timespec *ret_at);
/* Releases all waiters (once). */
void proc_wait_release(struct proc *p, uint32_t status, const struct timespec *at);
bool proc_wait_released(struct proc *p);

/* Sets p's container (takes a reference to it); before proc_table_add. */
void proc_set_container(struct proc *p, struct container *c);

/* The tables (RCU hash tables): by container and id (each container's processes, an id
 * unique within its container: two containers may both have an exec "e1"), and by pid,
 * shim-wide (the reaper's and ListPids' routing across containers). */
int proc_table_init(void);
/* Adds under an id unique in its container (p->c): -EEXIST if taken. Takes a reference for
 * the table. */
int proc_table_add(struct proc *p);
/* Maps the pid (once known). */
int proc_table_map_pid(struct proc *p, uint32_t pid);
/* Removes from both maps; the table's reference is dropped after a grace period. */
void proc_table_remove(struct proc *p);
/* Lookups: call inside rcu_read_lock; the result is valid until rcu_read_unlock. A process
 * found was published with release (proc_table_add) and is loaded with acquire here, so what
 * was written before it joined the tables is visible to ThreadSanitizer too (liburcu-cds links
 * nodes with its own, uninstrumented barriers). Exec ids are per container: (c, id). */
struct proc *proc_table_find_id(const struct container *c, const char *id);
struct proc *proc_table_find_pid(uint32_t pid);
/* Lookup by id that returns a reference (NULL: not found). */
struct proc *proc_table_get(const struct container *c, const char *id);
