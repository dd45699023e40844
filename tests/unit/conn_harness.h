/* SPDX-License-Identifier: Apache-2.0 */
/*
 * For the unit tests of server/acceptor.c and server/dispatch.c: a loop thread serving one
 * connection (acceptor_adopt) on one end of a socketpair; the test is the client on the other
 * end. Reads carry a generous watchdog (SO_RCVTIMEO) so that a bug fails a test instead of
 * hanging it; no test asserts how long anything takes.
 */
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <urcu/urcu-memb.h>

#include "io/loop.h"
#include "proto/ttrpc_codec.h"
#include "proto/ttrpc_frame.h"
#include "server/conn.h"

#define WATCHDOG_S 60

struct harness {
	struct loop *l;
	pthread_t loop_thread;
	int cli;        /* the client's end (blocking) */
	struct conn *c; /* the server's connection (a reference) */
};

static inline void *harness_loop_main(void *arg)
{
	struct harness *h = arg;
	intptr_t r;
	urcu_memb_register_thread(); /* inline methods read the RCU tables, as in the shim */
	r = loop_run(h->l);
	urcu_memb_unregister_thread();
	return (void *)r;
}

/* srv_sndbuf, cli_rcvbuf: socket buffer sizes (0: the default). */
static inline void harness_start(struct harness *h, int srv_sndbuf, int cli_rcvbuf)
{
	struct timeval tv = { .tv_sec = WATCHDOG_S };
	int sv[2];

	memset(h, 0, sizeof(*h));
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(fcntl(sv[0], F_SETFL, O_NONBLOCK), 0);
	if (srv_sndbuf)
		assert_int_equal(
			setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &srv_sndbuf, sizeof(srv_sndbuf)),
			0);
	if (cli_rcvbuf)
		assert_int_equal(
			setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &cli_rcvbuf, sizeof(cli_rcvbuf)),
			0);
	assert_int_equal(setsockopt(sv[1], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	assert_int_equal(setsockopt(sv[1], SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)), 0);
	h->cli = sv[1];
	assert_int_equal(loop_new(&h->l), 0);
	/* before the loop thread runs: this thread is the loop's only one */
	assert_int_equal(acceptor_adopt(h->l, sv[0], &h->c), 0);
	assert_int_equal(pthread_create(&h->loop_thread, NULL, harness_loop_main, h), 0);
}

static inline void harness_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Waits (with the watchdog) until the acceptor has n connections. */
static inline void harness_wait_conns(int n)
{
	for (int i = 0; i < WATCHDOG_S * 1000 && acceptor_conn_count() != n; i++)
		harness_sleep_ms(1);
	assert_int_equal(acceptor_conn_count(), n);
}

/* The client hangs up; the loop closes the connection; everything is freed. */
static inline void harness_stop(struct harness *h)
{
	close(h->cli);
	harness_wait_conns(0);
	loop_stop(h->l);
	assert_int_equal(pthread_join(h->loop_thread, NULL), 0);
	conn_unref(h->c);
	loop_free(h->l);
}

/* Reads exactly n bytes; returns how many it got before EOF. */
static inline size_t harness_read_full(int fd, uint8_t *buf, size_t n)
{
	size_t off = 0;
	while (off < n) {
		ssize_t k = read(fd, buf + off, n - off);
		if (k < 0 && errno == EINTR)
			continue;
		assert_true(k >= 0); /* a timeout here is the watchdog */
		if (k == 0)
			break;
		off += (size_t)k;
	}
	return off;
}

static inline void harness_write_all(int fd, const uint8_t *buf, size_t n)
{
	size_t off = 0;
	while (off < n) {
		ssize_t k = write(fd, buf + off, n - off);
		if (k < 0 && errno == EINTR)
			continue;
		assert_true(k > 0);
		off += (size_t)k;
	}
}

struct harness_resp {
	struct ttrpc_hdr hdr;
	int code;
	char *msg;
	uint8_t *payload;
	size_t plen;
};

/* Reads and decodes the next response frame. */
static inline void harness_read_response(struct harness *h, struct harness_resp *r)
{
	uint8_t hb[TTRPC_HDR_LEN], *body;

	memset(r, 0, sizeof(*r));
	assert_int_equal(harness_read_full(h->cli, hb, sizeof(hb)), sizeof(hb));
	ttrpc_hdr_decode(hb, &r->hdr);
	assert_int_equal(r->hdr.type, TTRPC_TYPE_RESPONSE);
	body = malloc(r->hdr.len ? r->hdr.len : 1);
	assert_non_null(body);
	assert_int_equal(harness_read_full(h->cli, body, r->hdr.len), r->hdr.len);
	assert_int_equal(
		ttrpc_response_decode(body, r->hdr.len, &r->code, &r->msg, &r->payload, &r->plen),
		0);
	free(body);
}

static inline void harness_resp_free(struct harness_resp *r)
{
	free(r->msg);
	free(r->payload);
}
