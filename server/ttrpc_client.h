/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A ttrpc client driven by the loop thread: one persistent non-blocking connection to a unix
 * socket, opened lazily at the first call and again at the first call after it broke, and one
 * call in flight at a time (a caller that needs its calls in order gets that for free: the
 * server, containerd's included, handles the requests of one connection concurrently).
 * Any service, any method, any payload; the per-call timeout closes the connection.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/ttrpc_codec.h"

struct loop;
struct ttrpc_client;

struct ttrpc_result {
	/* 0: the server answered (code, msg, payload below); else the transport failed:
	 * -ETIMEDOUT (no answer within the call's timeout), -ECONNRESET (the connection closed
	 * or failed before the answer), -EBADMSG (an undecodable answer), -ENOMEM. */
	int err;
	/* The whole request had been written when err happened: the server may have handled
	 * it (the one case where the caller cannot know). */
	bool sent;
	int code; /* gRPC code; 0: OK */
	const char *msg;
	const uint8_t *payload;
	size_t plen;
};

/* Runs on the loop thread, once per call that ttrpc_client_call accepted, never from inside
 * ttrpc_client_call. r's pointers are valid during the callback only. */
typedef void (*ttrpc_client_cb)(void *arg, const struct ttrpc_result *r);

/* path: a unix socket path ("unix://" prefix allowed). Nothing is opened yet. 0 or -errno. */
int ttrpc_client_new(struct loop *l, const char *path, struct ttrpc_client **ret);
/* Loop thread. A call in flight is completed with -ECANCELED first. */
void ttrpc_client_free(struct ttrpc_client *c);
const char *ttrpc_client_path(const struct ttrpc_client *c);
/* Loop thread. True while a call is in flight. */
bool ttrpc_client_busy(const struct ttrpc_client *c);
/* Loop thread. Connects when not connected, writes the request (stream ids 1, 3, 5, ... on
 * each connection) and returns 0: cb runs later, exactly once. Or returns -errno and cb never
 * runs: -EBUSY (a call in flight), or connecting failed (-ENOENT, -ECONNREFUSED, -EAGAIN
 * when the listener's backlog is full, ...). */
int ttrpc_client_call(struct ttrpc_client *c, const char *service, const char *method,
		      const struct ttrpc_md *md, size_t n_md, const uint8_t *payload, size_t plen,
		      int timeout_ms, ttrpc_client_cb cb, void *arg);
