/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A one-way byte copier (src -> dst) driven by the loop: no thread per stream. Both fds are
 * non-blocking and owned by the pump once started. Reading src to EOF closes dst (and the
 * optional keep-alive fd), which is how a container sees stdin EOF and a client sees stdout EOF.
 */
#pragma once

#include <stdbool.h>

struct loop;
struct pump;

enum pump_flags {
	/* src is a pty master: EIO means "no slave open right now", not EOF, until
	 * pump_src_closing() was called (the process exited). */
	PUMP_SRC_PTY = 1 << 0,
	/* dst is a pty master: EIO on write waits instead of failing. */
	PUMP_DST_PTY = 1 << 1,
	/* do not close dst at the end (it is shared: the pty master) */
	PUMP_KEEP_DST = 1 << 2,
	/* do not close src at the end (it is shared: the pty master) */
	PUMP_KEEP_SRC = 1 << 3,
};

/* Called once when the pump ends, on the loop thread: eof is true when src reached its end
 * (false: closed by its owner). It owns a reference to arg, if any. */
typedef void (*pump_end_fn)(void *arg, bool eof);

/* Takes ownership of src and dst. on_end may be NULL. */
int pump_start(struct loop *l, int src, int dst, unsigned flags, const char *name,
	       pump_end_fn on_end, void *end_arg, struct pump **ret);
/* Waits until the pump reached src EOF and closed its fds, or timeout_ms passed.
 * Returns true when done. */
bool pump_wait_done(struct pump *p, int timeout_ms);
/* Loop thread: copies what src holds right now, until something would block. Returns true when
 * src has nothing more for now (or ended) and everything read was written. */
bool pump_drain_now(struct pump *p);
/* Loop thread, between events: the pages of the loop's shared read buffer go back to the
 * kernel (it holds nothing between callbacks). */
void pump_release_buffer(void);
/* The process behind a pty exited: from now on EIO/EAGAIN with nothing read is EOF. */
void pump_src_closing(struct pump *p);
/* Stops the pump now, closing its fds (any thread), and drops the caller's reference. */
void pump_close(struct pump *p);
/* Takes a reference. */
struct pump *pump_ref(struct pump *p);
/* Drops the caller's reference; the pump goes on until EOF. */
void pump_unref(struct pump *p);
bool pump_is_done(struct pump *p);
