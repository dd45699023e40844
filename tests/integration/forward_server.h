/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A fake containerd events service for test_forward: a ttrpc server on a unix socket
 * (containerd's "<grpc address>.ttrpc") answering containerd.services.events.ttrpc.v1.Events/
 * Forward and recording every request it got, in arrival order. It can answer OK, answer an
 * error, or hold its answers until released.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum fwd_mode {
	FWD_OK,    /* answer google.protobuf.Empty at once */
	FWD_ERROR, /* answer status UNAVAILABLE at once */
	FWD_HOLD,  /* answer nothing until fwd_release() (then OK) */
};

struct fwd_req {
	char service[128], method[64];
	char md_ns[64]; /* the containerd-namespace-ttrpc metadata value, "" when absent */
	int64_t timeout_nano;
	uint32_t stream;
	int conn;     /* 1, 2, ...: which accepted connection it came on */
	bool decoded; /* the payload was a ForwardRequest with an envelope */
	char ns[64], topic[64];
	int64_t secs;
	int32_t nanos;
	char type_url[128];
	/* the TaskExit inside, when type_url is containerd.events.TaskExit */
	char container_id[80], id[80];
	uint32_t pid, exit_status;
	int64_t exited_secs;
	int32_t exited_nanos;
};

struct fwd_server;

/* Binds path and serves on a thread. NULL on failure (errno). */
struct fwd_server *fwd_start(const char *path, enum fwd_mode mode);
/* Stops the thread, closes every connection, unlinks the socket, frees. */
void fwd_stop(struct fwd_server *s);
void fwd_set_mode(struct fwd_server *s, enum fwd_mode mode);
/* Answers every held request (OK), and the ones that arrive later too when mode is OK. */
void fwd_release(struct fwd_server *s);
/* Requests recorded so far; copies up to max into out. */
int fwd_requests(struct fwd_server *s, struct fwd_req *out, int max);
/* Polls until at least n requests were recorded or timeout_ms passed; returns the count. */
int fwd_wait(struct fwd_server *s, int n, int timeout_ms);
/* Connections accepted so far. */
int fwd_connections(struct fwd_server *s);
