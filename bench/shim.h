/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One benchmarked shim: a busybox bundle (tests/integration/launch.c prepares it), the shim
 * started exactly as containerd 1.6 starts it (listener on fd 3, containerd's flags, cwd =
 * bundle, setpgid, GOMAXPROCS=2 appended), the time from its exec to its first ShimInfo
 * answer, and a running container (Create + Start through the shim). Cleanup kills the
 * container, Deletes it, SIGKILLs the shim, runs `runc delete --force` and removes the dirs.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "tests/integration/launch.h"
#include "tests/integration/shimclient.h"

/* An exec of /bin/true (ExecProcessRequest.spec, a runtime-spec Process). */
#define EXEC_SPEC_JSON                                                                             \
	"{\"args\":[\"/bin/true\"],\"cwd\":\"/\",\"env\":[\"PATH=/bin\"],"                         \
	"\"user\":{\"uid\":0,\"gid\":0},\"terminal\":false}"
#define PROCESS_TYPE_URL "types.containerd.io/opencontainers/runtime-spec/1/Process"

/* One more container in a v2 shim (its own bundle, grouped with the shim's first one). */
struct bctr {
	struct shim_inst si;
	uint32_t init_pid;
	bool created, started;
};

struct bshim {
	struct shim_inst si;
	struct shimclient *ctl;      /* control connection (Create/Start/Kill/Delete/...) */
	char label[32];              /* "go", "cshim", ... */
	char runtime[PATH_MAX];      /* Create's runtime field */
	pid_t pid;                   /* shim pid */
	uint32_t init_pid;           /* container init pid */
	double first_answer_s;       /* exec of the shim -> first ShimInfo answer (v2: `start`
				      * invoked -> Connect answered) */
	double start_exit_s;         /* v2: `start` invoked -> `start` exited */
	size_t state_resp_frame_len; /* data length of a State response frame (pingpong sizing) */
	size_t state_req_frame_len;
	uint8_t *state_payload; /* a real StateResponse of this container (pingpong uses it) */
	size_t state_plen;
	bool created, started, registered;
	int drain_fd[2];
	bool v2;          /* a runtime v2 shim (bshim_use_v2): `start`, then the Task service */
	struct bctr *ctr; /* v2: the containers added to it after the first (bshim_add_container) */
	int nctr;
};

#define V2_TASK_SERVICE "containerd.task.v2.Task"

/* Shim label for tables: "runc-v2" for containerd-shim-runc-v2*, "go" for another
 * containerd-shim*, else its basename. */
void shim_label(const char *bin, char *out, size_t n);

/* Prepares, starts, measures first answer, Creates and Starts `sleep` (argv may be NULL for
 * "sleep 1000000"). runtime NULL = "runc". 0 or -errno (a message was printed). */
int bshim_launch(struct bshim *b, const char *bin, const char *tag, const char *runtime,
		 const char *const argv[]);
/* Only prepare + start + first answer (no container). */
int bshim_start_only(struct bshim *b, const char *bin, const char *tag);
/* Create + Start the container. */
int bshim_create_start(struct bshim *b, const char *runtime);
/* Tear everything down. Idempotent. */
void bshim_destroy(struct bshim *b);
/* Destroys several in parallel (threads). */
void bshim_destroy_many(struct bshim **v, int n, int parallel);

/* Every launched shim is registered; on SIGINT/SIGTERM/SIGHUP the bench tears them all down
 * before exiting. Call once at start-up. */
void bshim_install_signal_cleanup(void);

/* Called by the signal cleanup after the shims are gone (the private containerd's stop). */
void bshim_at_signal(void (*fn)(void));

/* Shims launched from now on get -address ADDRESS -containerd-binary BINARY (a real
 * containerd) instead of the fake publisher; NULL or "" goes back to the fake one. */
void bshim_use_containerd(const char *address, const char *binary);

/*
 * Shims launched from now on are runtime v2 shims (on) or v1 shims (off, the default), each
 * started as containerd 1.6 starts it (tests/integration/launch.c shim_v2_start_action: the
 * `start` action in the bundle, TTRPC_ADDRESS the -address's .ttrpc twin, runc Options with
 * the launch's runtime root on stdin), then driven over containerd.task.v2.Task: the first
 * answer is Connect's, the shim pid the one Connect names, Create/Start/Kill/Wait/Delete and
 * Shutdown the v2 ones. The first use makes this process a child subreaper, so that the
 * long-running processes `start` leaves behind are reaped here.
 */
void bshim_use_v2(bool on);

/* v2: one more container (busybox sleep) in b's shim, as CRI adds one to a pod: its own
 * bundle annotated io.kubernetes.cri.sandbox-id = b's id, its own `start` (which finds the
 * group's live shim and prints its address), then Create + Start on b's connection. 0 or
 * -errno. */
int bshim_add_container(struct bshim *b);

/* One exec cycle on connection c, as CRI's ExecSync drives it: Exec (/bin/true, null IO),
 * Start, Wait, DeleteProcess (v2: Delete of the exec), always once Exec succeeded. id names
 * the exec (v1: the process id; v2: exec_id in b's container). 0 or -errno; the first failure
 * is described in err (may be NULL). */
int bshim_exec_cycle(const struct bshim *b, struct shimclient *c, const char *id, char *err,
		     size_t errn);

/* Wait for b's container's init on connection c; its exit status in *status. 0 or -errno. */
int bshim_wait(const struct bshim *b, struct shimclient *c, uint32_t *status, int timeout_ms);

/* The shim's children other than its container's init: runtimes, exit publishers, exec'd
 * processes not yet reaped. */
int bshim_extra_children(const struct bshim *b);

/*
 * Before a measurement: the previous one's aftermath (its last runtimes and exit publishers,
 * a shim answering a backlog) must not land in it, whichever shim caused it. Waits until no
 * shim of v (NULL entries and shims not started are skipped) has a child but its container's
 * init and the machine has been below 15% busy for 0.3 s, at most max_s. Returns the seconds
 * waited.
 */
double bshim_settle(struct bshim **v, int n, double max_s);
