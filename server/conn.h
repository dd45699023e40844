/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A client connection. The loop thread owns the fd: it reads, parses frames and closes.
 * Any thread may send a response: conn_send() writes whole frames under the connection's
 * lock (so frames never interleave), directly when the outbox is empty, otherwise queued and
 * flushed by the loop on EPOLLOUT. Workers hold references, never raw fds.
 */
#pragma once

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "io/loop.h"
#include "proto/ttrpc_frame.h"

/* Queued response bytes: small frames are packed into shared chunks, so memory follows
 * the bytes queued, not the number of frames. */
struct outframe {
	struct outframe *next;
	size_t len, off, cap;
	uint8_t data[];
};

struct conn {
	struct loop_watch w;
	struct loop *loop;
	atomic_int refs;
	pthread_mutex_t mu;
	bool closed;
	bool out_armed;
	struct outframe *out_head, *out_tail;
	size_t out_bytes;
	struct ttrpc_reader rd;
	atomic_int inflight;
	_Atomic bool gone; /* the client went away: its in-flight runtime calls are killed */
	struct conn *all_prev, *all_next; /* every live connection (acceptor.c, under its lock) */
};

struct conn *conn_ref(struct conn *c);
void conn_unref(struct conn *c);
/* Sends a whole frame (takes ownership of frame, a malloc'd buffer). */
void conn_send(struct conn *c, uint8_t *frame, size_t len);
/* Builds and sends a response frame. */
void conn_respond(struct conn *c, uint32_t stream, int code, const char *msg,
		  const uint8_t *payload, size_t plen);

/* The acceptor: owns the listener and the connections on the loop. */
int acceptor_start(struct loop *l, int listen_fd);
/* Loop thread, between events: the read buffer's pages go back to the kernel. */
void acceptor_release_buffer(void);
/* Loop thread: makes a connected socket (non-blocking, close-on-exec) a connection on l, as
 * the listener does with each one it accepts and lets in. ret (may be NULL): a reference for
 * the caller. Returns 0 or -errno (the fd is closed then). */
int acceptor_adopt(struct loop *l, int fd, struct conn **ret);
/* Number of open connections (for tests and the bench). */
int acceptor_conn_count(void);
