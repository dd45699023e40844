/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The shim's events, in order, to containerd: one FIFO, one Forward in flight at a time
 * (containerd.services.events.ttrpc.v1.Events/Forward over a persistent ttrpc connection,
 * ttrpc_client.h) driven by the loop thread. An event whose Forward fails (no socket, refused,
 * no answer within EVQ_TIMEOUT_MS, connection closed, an error status) goes to the fallback
 * publisher instead, and so does every event queued while the fallback still has unfinished
 * publications, so that none overtakes another; ttrpc is tried again after that.
 * Without a fallback (the v2 front end: runc-v2 publishes over ttrpc only), a failed event
 * stays at the head and its Forward is retried, EVQ_RETRY_MIN_MS doubling to
 * EVQ_RETRY_MAX_MS apart, until containerd takes it (a containerd restarting for longer
 * than the Go shim's 5 retries loses nothing).
 * Any topic, any google.protobuf.Any payload. See docs/events.md.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct loop;
struct evq;

#define EVQ_TIMEOUT_MS 5000 /* per Forward, as the Go runc-v2 shim */
#define EVQ_BUDGET 1024     /* queued events above which the queue logs (it never drops) */
#define EVQ_RETRY_MIN_MS 100
#define EVQ_RETRY_MAX_MS 1000

/* The event is kept behind every earlier one by the fallback too (an init's exit). */
#define EVQ_BARRIER 1u
/* Dropped when an equal event (topic and bytes, also EVQ_COALESCE) is already queued behind
 * the head, i.e. not sent yet: a repeated event that says nothing new (an OOM while
 * containerd is away). Only for events without a done. With it a queue waiting for
 * containerd grows by lifecycle events, not by a container's OOM loop. */
#define EVQ_COALESCE 2u

struct evq_fallback {
	/* Hands the event (the packed Any) to the fallback publisher; on return it is handed
	 * over (or its failure logged and its retries scheduled). Loop thread. */
	void (*publish)(void *ctx, const char *topic, const uint8_t *any, size_t len,
			unsigned flags, const char *what);
	/* True while the fallback has unfinished publications. Any thread. */
	bool (*busy)(void *ctx);
	void *ctx;
};

/* ns: the envelope's namespace. ttrpc_path: containerd's ttrpc socket, NULL or "" for none
 * (every event goes to the fallback). fb NULL: no fallback, Forwards are retried (then
 * ttrpc_path is required: -EINVAL). Copies the strings. */
int evq_new(struct loop *l, const char *ns, const char *ttrpc_path, const struct evq_fallback *fb,
	    struct evq **ret);
/* Loop thread, with no event in flight whose answer may still come (tests; the shim keeps
 * its queue for its life). Events still queued are dropped without their done. */
void evq_free(struct evq *q);
/* Any thread. Copies topic and any. done(arg) runs on the loop thread once containerd
 * acknowledged the event or it was handed to the fallback (never before; without a
 * fallback, an event that cannot be encoded is dropped and done). ts: the envelope's
 * timestamp (NULL: now). Returns 0, or -ENOMEM (nothing queued, done never runs). */
int evq_publish(struct evq *q, const char *topic, const uint8_t *any, size_t len,
		const struct timespec *ts, unsigned flags, const char *what, void (*done)(void *),
		void *arg);
/* Any thread: the fallback finished its publications (ttrpc may be used again). */
void evq_kick(struct evq *q);
/* Events queued and not done yet (any thread). */
size_t evq_pending(struct evq *q);

/* The ForwardRequest bytes for one event (pure). NULL on -ENOMEM or an undecodable Any. */
uint8_t *evq_encode_forward(const char *ns, const char *topic, const struct timespec *ts,
			    const uint8_t *any, size_t len, size_t *ret_len);

/* containerd's ttrpc address for a v1 shim: $TTRPC_ADDRESS when set (as containerd gives v2
 * shims), else the gRPC address (-address) + ".ttrpc", containerd's default when its config
 * sets none. Heap string, or NULL when both are empty. */
char *evq_ttrpc_address(const char *grpc_address, const char *env_ttrpc_address);
