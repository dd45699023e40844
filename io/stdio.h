/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Stdio of one container process without a terminal: pipes to the runtime, the client's FIFOs
 * (or file:// targets) on the other side, copied by pumps on the loop.
 *
 * Life cycle: stdio_prepare() before the runtime runs (every path is opened here, without
 * blocking, so a bad path fails before anything is created); the runtime gets rt_fd[0..2];
 * stdio_spawned() closes the shim's copies of the container-side ends; stdio_start() starts
 * the copying; stdio_close_stdin() is CloseIO; stdio_wait()/stdio_drain() bound by time;
 * stdio_destroy() closes everything.
 */
#pragma once

#include <stdbool.h>
#include <pthread.h>
#include <sys/types.h>

struct loop;
struct pump;
struct console;

struct stdio_cfg {
	const char *in, *out, *err; /* as given by the client: FIFO path or URI, "" = none */
	uid_t uid;
	gid_t gid;
	bool terminal; /* the stdout FIFO gets the pty master's output; stderr is unused */
};

struct stdio {
	int rt_fd[3];         /* what the runtime gets as fd 0, 1, 2 */
	int in_src;           /* stdin FIFO read end (pump source) */
	int in_keep;          /* stdin FIFO keep-alive writer: closed by CloseIO */
	int in_pipe_w;        /* pipe write end towards the container */
	int out_pipe_r[2];    /* stdout, stderr pipe read ends */
	int out_dst[2];       /* FIFO (O_RDWR: never EPIPE) or file write fds */
	struct pump *pump[3]; /* stdin, stdout, stderr */
	bool terminal;
	struct console *console; /* the pty master (terminal mode) */
	/* Guards pump[] and in_keep: the reaper drains while a worker may destroy. */
	pthread_mutex_t mu;
};

/* Errors: -errno; *ret_msg (static or in msgbuf) describes what failed. */
int stdio_prepare(const struct stdio_cfg *cfg, struct stdio *io, char *msgbuf, size_t msgsz);
void stdio_spawned(struct stdio *io);
int stdio_start(struct stdio *io, struct loop *l, const char *name);
/* Terminal mode: copies between the FIFOs and the master (takes ownership of master). */
int stdio_start_console(struct stdio *io, struct loop *l, int master, const char *name);
/* The process exited: a pty master's EIO now means EOF (after draining). */
void stdio_process_exited(struct stdio *io);
/* TIOCSWINSZ on the console; 0 (a no-op) without one. */
int stdio_resize(struct stdio *io, unsigned width, unsigned height);
int stdio_close_stdin(struct stdio *io);
/* Waits for the output copies to reach EOF, at most timeout_ms. */
bool stdio_wait(struct stdio *io, int timeout_ms);
/* Loop thread: forwards what the output pipes hold now; true when nothing is left to forward
 * (false: a reader is slow, try again later). */
bool stdio_drain_now(struct stdio *io);
void stdio_destroy(struct stdio *io);
/* Initializes io (once); stdio_prepare does it for a fresh one. */
void stdio_init(struct stdio *io);
/* Moves a prepared io into an initialized one (to must be empty). */
void stdio_move(struct stdio *to, struct stdio *from);

/* Splits "scheme://rest" (no scheme: "fifo"). Pure, for tests. Returns the path part. */
const char *stdio_uri_scheme(const char *uri, char *scheme, size_t scheme_sz);
