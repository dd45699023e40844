/* SPDX-License-Identifier: Apache-2.0 */
/*
 * From a request frame to a handler (docs/v1-protocol.md §2.3, §2.8): decode the envelope, check
 * the stream id, find service and method. Methods that never block (State, ShimInfo, Wait's
 * registration) run right away on the loop thread; the others go to the worker pool.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/ttrpc_frame.h"

struct conn;

#define SHIM_SERVICE "containerd.runtime.linux.shim.v1.Shim"

/* One request being served. */
struct call {
	struct conn *c; /* a reference */
	uint32_t stream;
	uint64_t deadline_ns; /* CLOCK_MONOTONIC, 0 = none */
	uint8_t *body;        /* the frame body, owning payload's memory */
	const uint8_t *payload;
	size_t plen;
	const struct method *m;
};

typedef void (*method_fn)(struct call *call);

struct method {
	const char *name;
	method_fn fn;
	bool inline_ok; /* never blocks: run on the loop thread */
};

/* The method of a service's table by name (NULL: none); each front end's lookup. */
const struct method *method_find(const struct method *table, size_t n, const char *name);

/* The shim's bundle (its working directory), which Create must name; kept, not copied. */
void service_setup(const char *bundle);
/* SIGTERM/SIGINT: kills the container (all its processes), waits a little, deletes it. */
void service_shutdown(void);

/* The Shim service's method table (service.c). */
const struct method *service_find_method(const char *name);

/* Serve the services names (NULL-terminated, kept) with the method table find, instead of
 * v1's SHIM_SERVICE and service_find_method. Before the loop runs. */
void dispatch_set_service(const char *const *names, const struct method *(*find)(const char *));

/* Takes ownership of body. */
void dispatch_frame(struct conn *c, const struct ttrpc_hdr *h, uint8_t *body);
/* Ends a call: sends the response (or error) and frees the call. */
void call_reply(struct call *call, int code, const char *msg, const uint8_t *payload, size_t plen);
