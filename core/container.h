/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The containers of this shim and their processes: the Shim service's behaviour without the
 * wire (docs/v1-protocol.md §3). A shim holds any number of containers (v1: one), each with its
 * init and execs; every operation names its container (NULL: none yet, answered as an empty one).
 * Functions return 0 or -errno; where errno alone does not tell what happened, *err holds the facts
 * (core/error.h). server/errmap.c turns both into the wire's code and text.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "mount.h"
#include "process.h"
#include "runtime.h"

struct loop;
struct container;

struct shim_config {
	const char *ns;
	const char *workdir;
	const char *address;
	const char *containerd_binary;
	const char *runtime_root;
	const char *criu;
	bool systemd_cgroup;
	const char *bundle; /* cwd */
	/* The front end publishes every process's start event itself and holds exits behind
	 * it (v2): no exit gate (core/exit_gate.h), exits go to the sink as they come. */
	bool front_end_orders_starts;
};

/* Called for every exit of a process of the table (on the loop thread, in the order the
 * exits are finished). The sink calls done(arg) once the event is delivered or handed over
 * (at once or later, on the loop thread): the process's Waits are answered only then. */
typedef void (*container_exit_sink)(const char *container_id, const char *id, uint32_t pid,
				    uint32_t exit_status, const struct timespec *exited_at,
				    void (*done)(void *), void *arg);

int container_setup(const struct shim_config *cfg, struct loop *loop, container_exit_sink sink);

struct create_opts {
	bool no_pivot_root, no_new_keyring;
	uint32_t io_uid, io_gid;
	const char *criu_work_path;
};

struct create_req {
	const char *id, *bundle, *runtime;
	const struct mount_spec *mounts;
	size_t n_mounts;
	bool terminal;
	const char *in, *out, *err;
	const char *checkpoint, *parent_checkpoint;
	struct create_opts opts;
	uint64_t deadline_ns;
	bool only_one; /* refused (as a taken id) while the shim holds a container */
	/* The runtime's configuration for this container (v2: Create's options); NULL or
	 * false: the shim's (container_setup's). */
	const char *runtime_root, *criu;
	bool systemd_cgroup;
	/* The v2 Task service's names: id "" is the init, every other id an exec (which may be
	 * named like the container); else (v1) the container's id is the init's. */
	bool init_by_empty_id;
};

struct proc_state {
	char id[256];
	char bundle[4096];
	uint32_t pid;
	enum proc_status status;
	uint32_t exit_status;
	struct timespec exited_at;
	bool terminal;
	/* stdio paths as given */
	const char *in, *out, *err;
	struct proc *ref; /* holds the strings; release with container_state_done */
};

/* The container table. A reference, or NULL. */
struct container *container_get(const char *id);
struct container *container_ref(struct container *c);
void container_unref(struct container *c);
/* The containers left in the table (Create adds one, Delete of its init removes it). */
unsigned container_count(void);
/* The container's id ("" for NULL). Lock-free. */
const char *container_id(const struct container *c);

/* Creates a container and its init; *ret_c gets a reference to it. */
int container_create(const struct create_req *req, struct container **ret_c, uint32_t *ret_pid,
		     struct shim_error *err);
int container_start(struct container *c, const char *id, uint64_t deadline_ns, uint32_t *ret_pid,
		    struct shim_error *err);
/* Lock-free. */
int container_state(struct container *c, const char *id, struct proc_state *st,
		    struct shim_error *err);
void container_state_done(struct proc_state *st);
int container_kill(struct container *c, const char *id, uint32_t sig, bool all,
		   uint64_t deadline_ns, struct shim_error *err);

struct exit_info {
	uint32_t pid, exit_status;
	struct timespec exited_at;
};
int container_delete(struct container *c, uint64_t deadline_ns, struct exit_info *ret,
		     struct shim_error *err);
int container_delete_process(struct container *c, const char *id, struct exit_info *ret,
			     struct shim_error *err);
/* Registers w on the process, or returns 1 with the result when it already exited. */
int container_wait(struct container *c, const char *id, struct proc_waiter *w,
		   struct exit_info *ret, struct shim_error *err);
int container_close_io(struct container *c, const char *id, struct shim_error *err);

struct pid_info {
	uint32_t pid;
	char exec_id[256]; /* "" if the pid is no process of the table */
	bool is_init;      /* the pid is the container's init */
};
int container_list_pids(struct container *c, const char *id, uint64_t deadline_ns,
			struct pid_info **ret, size_t *ret_n, struct shim_error *err);

int container_reaper_start(void);

struct exec_req {
	const char *id;
	bool terminal;
	const char *in, *out, *err;
	const char *spec; /* runtime-spec Process JSON; NULL: missing */
	size_t spec_len;
};
int container_exec(struct container *c, const struct exec_req *req, struct shim_error *err);
int container_resize_pty(struct container *c, const char *id, uint32_t width, uint32_t height,
			 struct shim_error *err);
int container_pause(struct container *c, uint64_t deadline_ns, struct shim_error *err);
int container_resume(struct container *c, uint64_t deadline_ns, struct shim_error *err);
/* resources: LinuxResources JSON; NULL: missing. */
int container_update(struct container *c, const char *resources, size_t len, uint64_t deadline_ns,
		     struct shim_error *err);

struct cgstats_v1_metrics;
struct cgstats_v2_metrics;
/* The cgroup statistics of the container (core/cgstats.h), from the cgroup its runtime's
 * state names: *is_v2 says which of m1 (cgroup v1) and m2 (unified) was filled (release it
 * with cgstats_v*_metrics_done, also after a failure). -ENOENT with SHIM_ERR_FAILED: the
 * runtime's state or the cgroup is gone. */
int container_cgroup_stats(struct container *c, bool *is_v2, struct cgstats_v1_metrics *m1,
			   struct cgstats_v2_metrics *m2, struct shim_error *err);

/* The container's memory cgroup directory (heap), from its runtime's state: the v1 memory
 * hierarchy's, else (*unified set) the unified one's. -ENOENT: none (or the state is gone). */
int container_memory_cgroup(struct container *c, char **ret, bool *unified);

struct checkpoint_req {
	const char *path; /* image path */
	bool exit, open_tcp, external_unix_sockets, terminal, file_locks;
	char **empty_namespaces;
	size_t n_empty_namespaces;
	const char *work_path; /* "" = WORKDIR/criu-work, removed afterwards */
	uint64_t deadline_ns;
};
int container_checkpoint(struct container *c, const struct checkpoint_req *req,
			 struct shim_error *err);
