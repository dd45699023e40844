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
