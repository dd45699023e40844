/* SPDX-License-Identifier: Apache-2.0 */
/* Starting a v1 shim binary exactly as containerd 1.6 does (docs/v1-protocol.md §1.2-1.5),
 * bundle helpers, the fake `containerd publish` binary and cleanup (integration tests only). */
#pragma once

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define IT_NAMESPACE "cshimit"
/* Never dialled: the publisher is fake, and nothing listens on its ".ttrpc" twin, so events
 * take the `containerd publish` fallback (test_forward serves one). */
#define IT_GRPC_ADDRESS "/run/cshim-it/containerd.sock"

struct shim_inst {
	char shim[PATH_MAX];         /* shim binary */
	char dir[PATH_MAX];          /* per-launch dir; everything below lives in it */
	char bundle[PATH_MAX];       /* DIR/bundle: shim cwd, config.json, rootfs/ */
	char workdir[PATH_MAX];      /* DIR/work: shim.stdout.log / shim.stderr.log FIFOs */
	char sock[PATH_MAX];         /* DIR/s.sock: listening socket passed as fd 3 */
	char runtime_root[PATH_MAX]; /* DIR/runc: -runtime-root (runc --root is this/NS) */
	char address[PATH_MAX];      /* -address (IT_GRPC_ADDRESS unless a test sets another
				      * before shim_start: the shim dials ADDRESS.ttrpc) */
	char publisher[PATH_MAX];    /* DIR/publish.sh: fake -containerd-binary */
	char events[PATH_MAX];       /* DIR/events.log: what the fake publisher recorded */
	char shimlog[PATH_MAX];      /* DIR/shim.log: shim fd 1/2 */
	char fifolog[PATH_MAX];      /* DIR/shim.fifo.log: drained workdir FIFOs */
	char id[64];                 /* container id for this launch */
	char ns[64];
	bool v2;         /* start it as runtime v2's long-running process (shim_start) */
	int v2_log;      /* v2: our end of BUNDLE/log, -1 when none */
	pid_t pid;       /* shim pid, 0 when not running */
	int exit_status; /* raw wait status once reaped, -1 before */
	/* workdir FIFO drain */
	int drain_fds[2];
	int drain_stop[2];
	pthread_t drain_thr;
	bool drain_started;
};

/* The binary under test (the CSHIM path, path here) must be an executable file: otherwise
 * prog fails at once (exit 1) and says so. A missing binary under test is a failure, never a
 * skip; the Go shim's runs are reference observations only, never a pass of anything. */
void it_require_cshim(const char *prog, const char *path);

/* One temporary root for the whole test program (mkdtemp under $CSHIM_IT_TMPDIR, else /tmp:
 * the bench puts bundles on a tmpfs with it, as containerd's /run state dir usually is). */
const char *it_root(void);
/* Removes the temporary root (unless CSHIM_IT_KEEP is set). */
void it_root_remove(void);

/* Unique name "<prefix><pid>x<counter>" (<= 40 chars). */
void it_unique(char *out, size_t n, const char *prefix);

/* Prepares DIR (under it_root()/tag), the bundle (config.json with process.args = argv,
 * terminal false, absolute root.path, readonly false; busybox rootfs), the workdir with its
 * two FIFOs, the fake publisher, and fills *si. Does not start anything. 0 or -errno. */
int shim_prepare(struct shim_inst *si, const char *shim_bin, const char *tag,
		 const char *const argv[]);

/* Rewrites config.json's process.args (before Create). */
int bundle_set_args(const struct shim_inst *si, const char *const argv[]);

/* Creates the listening socket (bind, listen 4096, chmod 0600), starts the shim the way
 * containerd does (fd 0 /dev/null, fd 1/2 the shim.log file, fd 3 the listener (blocking),
 * setpgid, cwd = bundle, env += GOMAXPROCS=2), writes bundle/address and bundle/shim.pid.
 * 0 or -errno. */
int shim_start(struct shim_inst *si, bool debug);

/* With si->v2 set, shim_start starts the runtime v2 long-running process instead, as
 * `start` leaves it (spec v2 §1.6): SHIM -namespace NS -id ID -address A -publish-binary P
 * [-debug] serve, cwd the bundle, fd 3 the listener, BUNDLE/log a FIFO (held open here).
 * The Go runc-v2 shim takes any action word but start/delete as "serve". Events go to
 * $TTRPC_ADDRESS (the caller's environment). */

/* Runs the runtime v2 `start` action as containerd 1.6 does (runtime/v2/binary.go Start,
 * shim/util.go Command; docs/v2-launch.md `start`): BUNDLE/log made a FIFO and held open for
 * reading first (si->v2_log), then SHIM -namespace NS -address A -publish-binary P -id ID
 * start, cwd the bundle, its own process group, env = ours + GOMAXPROCS=2 +
 * TTRPC_ADDRESS=ttrpc (NULL: A.ttrpc, containerd's default), stdin the options bytes (none
 * when opts is NULL), stdout and stderr one pipe read to EOF. On success the printed address
 * (unix://PATH) goes into si->sock and si->v2 is set; the long-running process is not
 * known here (ask it: the Task service's Connect names it). 0, or -errno with the output in
 * *out (heap, may be NULL). */
int shim_v2_start_action(struct shim_inst *si, const char *ttrpc, const uint8_t *opts,
			 size_t optlen, char **out);

/* Sets config.json's annotations[key] = value (grouping a container with another's shim). */
int bundle_set_annotation(const struct shim_inst *si, const char *key, const char *value);

/* Kills the shim (SIGKILL by pid, then its process group), reaps it, force-deletes every runc
 * container left in its runtime root, stops the FIFO drain, removes DIR. Idempotent. */
void shim_cleanup(struct shim_inst *si);

/* True while the shim process has not exited (reaps it if it did). */
bool shim_alive(struct shim_inst *si);

/* Runs argv (absolute path) with stdin /dev/null, stdout+stderr captured into *out (heap,
 * may be NULL), waiting at most timeout_ms (then SIGKILL). Returns the wait status or -errno. */
int it_run(const char *const argv[], int timeout_ms, char **out);

/* Recorded /tasks/exit publications. */
struct pub_event {
	char argv[1024]; /* "[a] [b] ..." of the publisher invocation */
	uint8_t *data;   /* stdin bytes (serialized google.protobuf.Any) */
	size_t len;
};
/* Reads all events recorded so far. Returns the count (>= 0) or -errno; free with
 * pub_events_free. */
int pub_events_read(const struct shim_inst *si, struct pub_event **ev);
void pub_events_free(struct pub_event *ev, int n);
/* Polls until at least `want` events were recorded or timeout_ms passed; returns count. */
int pub_events_wait(const struct shim_inst *si, int want, int timeout_ms);

/* Test-side stdio FIFOs like containerd's cio: mkfifo 0700 and open the read ends
 * (O_RDONLY|O_NONBLOCK) before Create. */
struct test_fifos {
	char stdout_path[PATH_MAX];
	char stderr_path[PATH_MAX];
	int out_fd, err_fd;
};
int fifos_make(const struct shim_inst *si, struct test_fifos *f);
/* Reads a FIFO until EOF (all writers closed) or timeout; returns heap NUL-terminated data. */
char *fifo_read_all(int fd, int timeout_ms);
/* The same, but stops as soon as the data read contains needle (NULL: never). */
char *fifo_read_until(int fd, const char *needle, int timeout_ms);
/* A whole file, heap and NUL-terminated (*len: its length, when len != NULL); NULL if it
 * cannot be read. */
char *it_read_file(const char *path, size_t *len);
void fifos_close(struct test_fifos *f);
