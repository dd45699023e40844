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

struct bshim {
	struct shim_inst si;
	struct shimclient *ctl;      /* control connection (Create/Start/Kill/Delete/...) */
	char label[32];              /* "go", "cshim", ... */
	char runtime[PATH_MAX];      /* Create's runtime field */
	pid_t pid;                   /* shim pid */
	uint32_t init_pid;           /* container init pid */
	double first_answer_s;       /* exec of the shim -> first ShimInfo answer */
	size_t state_resp_frame_len; /* data length of a State response frame (pingpong sizing) */
	size_t state_req_frame_len;
	uint8_t *state_payload; /* a real StateResponse of this container (pingpong uses it) */
	size_t state_plen;
	bool created, started, registered;
	int drain_fd[2];
};

/* Shim label for tables: "go" for a binary named containerd-shim*, else its basename. */
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

/* One exec cycle on connection c, as CRI's ExecSync drives it: Exec (/bin/true, null IO),
 * Start, Wait, DeleteProcess (always, once Exec succeeded). 0 or -errno; the first failure
 * is described in err (may be NULL). */
int bshim_exec_cycle(struct shimclient *c, const char *id, char *err, size_t errn);

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
