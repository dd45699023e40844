/* SPDX-License-Identifier: Apache-2.0 */
/*
 * server/acceptor.c's outbox: responses sent by many threads at once reach a slow client
 * whole and in order, through a server socket whose send buffer is far smaller than a
 * response (every write is partial, most frames are queued and flushed by the loop on
 * EPOLLOUT); a client that never reads is dropped once its outbox passes the bound.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "tests/unit/conn_harness.h"

#define SENDERS 4
#define FRAMES 100 /* per sender and phase */
#define MAX_PAYLOAD 20000

/* Each frame is identified by its stream id: sender (0..7) and sequence number. */
static uint32_t stream_of(int sender, int seq)
{
	return ((uint32_t)sender * 100000u + (uint32_t)seq) * 2u + 1u;
}

static size_t payload_len(uint32_t stream)
{
	return 1 + (stream * 7919u) % MAX_PAYLOAD;
}

static uint8_t payload_byte(uint32_t stream, size_t i)
{
	return (uint8_t)(stream * 31u + i * 7u);
}

struct sender {
	struct conn *c;
	int id;
};

static void *send_frames(void *arg)
{
	struct sender *s = arg;
	uint8_t *p = malloc(MAX_PAYLOAD + 1);

	assert_non_null(p);
	for (int seq = 0; seq < FRAMES; seq++) {
		uint32_t stream = stream_of(s->id, seq);
		size_t n = payload_len(stream);
		for (size_t i = 0; i < n; i++)
			p[i] = payload_byte(stream, i);
		conn_respond(s->c, stream, GRPC_OK, NULL, p, n);
		if (seq % 8 == 0)
			sched_yield(); /* let the senders take turns */
	}
	free(p);
	return NULL;
}

static void run_senders(struct conn *c, int first_id, pthread_t *t, struct sender *s)
{
	for (int i = 0; i < SENDERS; i++) {
		s[i] = (struct sender){ .c = c, .id = first_id + i };
		assert_int_equal(pthread_create(&t[i], NULL, send_frames, &s[i]), 0);
	}
}

static void join_senders(pthread_t *t)
{
	for (int i = 0; i < SENDERS; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
}

struct check {
	int next_seq[2 * SENDERS];
	int frames;
	int last_phase1, first_phase2; /* frame indexes */
};

static int on_response(void *ctx, const struct ttrpc_hdr *h, uint8_t *body, bool oversize)
{
	struct check *k = ctx;
	int code, sender, seq;
	char *msg;
	uint8_t *pl;
	size_t plen;

	assert_false(oversize);
	assert_int_equal(h->type, TTRPC_TYPE_RESPONSE);
	assert_int_equal(ttrpc_response_decode(body, h->len, &code, &msg, &pl, &plen), 0);
	free(body);
	assert_int_equal(code, GRPC_OK);
	sender = (int)((h->stream - 1) / 2 / 100000);
	seq = (int)((h->stream - 1) / 2 % 100000);
	assert_true(sender >= 0 && sender < 2 * SENDERS);
	/* each sender's frames in the order it sent them, none lost */
	assert_int_equal(seq, k->next_seq[sender]);
	k->next_seq[sender]++;
	/* the frame whole: its payload byte for byte */
	assert_int_equal(plen, payload_len(h->stream));
	for (size_t i = 0; i < plen; i++)
		if (pl[i] != payload_byte(h->stream, i))
			fail_msg("stream %u: byte %zu differs", h->stream, i);
	if (sender < SENDERS)
		k->last_phase1 = k->frames;
	else if (k->first_phase2 < 0)
		k->first_phase2 = k->frames;
	k->frames++;
	free(msg);
	free(pl);
	return 0;
}

static void test_outbox_order_under_partial_writes(void **state)
{
	struct harness h;
	struct check k = { .last_phase1 = -1, .first_phase2 = -1 };
	struct ttrpc_reader rd;
	struct sender s[SENDERS];
	pthread_t t[SENDERS];
	uint8_t buf[1000];
	bool queued, armed;
	(void)state;

	harness_start(&h, 4096, 4096);
	ttrpc_reader_init(&rd);

	/* Phase 1: nobody reads. Writes are partial, then refused: the rest is queued. */
	run_senders(h.c, 0, t, s);
	join_senders(t);
	pthread_mutex_lock(&h.c->mu);
	queued = h.c->out_head != NULL && h.c->out_bytes > 0;
	armed = h.c->out_armed;
	pthread_mutex_unlock(&h.c->mu);
	assert_true(queued);
	assert_true(armed); /* the loop flushes on EPOLLOUT */

	/* Phase 2: a slow reader (small reads, pauses) while four more senders run. */
	run_senders(h.c, SENDERS, t, s);
	while (k.frames < 2 * SENDERS * FRAMES) {
		ssize_t n = read(h.cli, buf, sizeof(buf));
		assert_true(n > 0);
		assert_int_equal(ttrpc_reader_feed(&rd, buf, (size_t)n, on_response, &k), 0);
		if (k.frames % 50 == 0)
			harness_sleep_ms(1);
	}
	join_senders(t);
	assert_false(ttrpc_reader_mid_frame(&rd));
	for (int i = 0; i < 2 * SENDERS; i++)
		assert_int_equal(k.next_seq[i], FRAMES);
	/* what was sent after phase 1 ended comes after all of phase 1 */
	assert_true(k.first_phase2 > k.last_phase1);
	pthread_mutex_lock(&h.c->mu);
	assert_null(h.c->out_head);
	assert_int_equal(h.c->out_bytes, 0);
	pthread_mutex_unlock(&h.c->mu);
	ttrpc_reader_reset(&rd);
	harness_stop(&h);
}

/* One frame at a time into an empty outbox, each larger than the socket can take: the sender
 * writes what fits, the rest is queued and flushed by the loop as the client reads. */
static void test_outbox_frame_larger_than_socket_buffer(void **state)
{
	struct harness h;
	uint8_t *p = malloc(200000);
	bool rest_queued;
	(void)state;

	assert_non_null(p);
	harness_start(&h, 4096, 4096);
	for (int i = 0; i < 20; i++) {
		uint32_t stream = (uint32_t)(2 * i + 1);
		size_t n = 50000 + (size_t)i * 7000;
		struct harness_resp r;

		for (size_t j = 0; j < n; j++)
			p[j] = payload_byte(stream, j);
		conn_respond(h.c, stream, GRPC_OK, NULL, p, n);
		pthread_mutex_lock(&h.c->mu);
		rest_queued = h.c->out_head != NULL;
		pthread_mutex_unlock(&h.c->mu);
		assert_true(rest_queued);
		harness_read_response(&h, &r);
		assert_int_equal(r.hdr.stream, stream);
		assert_int_equal(r.code, GRPC_OK);
		assert_int_equal(r.plen, n);
		for (size_t j = 0; j < n; j++)
			if (r.payload[j] != payload_byte(stream, j))
				fail_msg("stream %u: byte %zu differs", stream, j);
		harness_resp_free(&r);
		/* all read: the loop has sent and freed the rest */
		pthread_mutex_lock(&h.c->mu);
		assert_null(h.c->out_head);
		assert_int_equal(h.c->out_bytes, 0);
		assert_false(h.c->out_armed);
		pthread_mutex_unlock(&h.c->mu);
	}
	free(p);
	harness_stop(&h);
}

static void test_outbox_drops_a_client_that_never_reads(void **state)
{
	struct harness h;
	const size_t plen = 3u << 20; /* under TTRPC_MAX_MSG */
	uint8_t *p = calloc(1, plen), *buf = malloc(1 << 16);
	size_t sent = 0, got = 0;
	bool dropped = false;
	(void)state;

	assert_non_null(p);
	assert_non_null(buf);
	harness_start(&h, 4096, 4096);
	/* 21 MiB of responses, more than the outbox holds (16 MiB) */
	for (int i = 0; i < 7; i++) {
		conn_respond(h.c, (uint32_t)(2 * i + 1), GRPC_OK, NULL, p, plen);
		sent += plen;
		pthread_mutex_lock(&h.c->mu);
		if (!h.c->out_head && h.c->out_bytes == 0 && i > 0)
			dropped = true; /* the outbox was freed, not grown */
		pthread_mutex_unlock(&h.c->mu);
	}
	assert_true(dropped);
	/* The client gets what the socket held, then end of file: the connection was shut
	 * down, and the loop closes it. */
	for (;;) {
		ssize_t n = read(h.cli, buf, 1 << 16);
		assert_true(n >= 0);
		if (n == 0)
			break;
		got += (size_t)n;
	}
	assert_true(got < sent);
	harness_wait_conns(0);
	free(p);
	free(buf);
	harness_stop(&h);
}

/* A response to a client that has gone: no crash, no queueing, the loop closes the
 * connection. */
static void test_send_after_client_left(void **state)
{
	struct harness h;
	uint8_t p[100] = { 0 };
	(void)state;

	harness_start(&h, 0, 0);
	close(h.cli);
	h.cli = -1;
	harness_wait_conns(0);
	conn_respond(h.c, 1, GRPC_OK, NULL, p, sizeof(p));
	pthread_mutex_lock(&h.c->mu);
	assert_true(h.c->closed);
	assert_null(h.c->out_head);
	pthread_mutex_unlock(&h.c->mu);
	harness_stop(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_outbox_order_under_partial_writes),
		cmocka_unit_test(test_outbox_frame_larger_than_socket_buffer),
		cmocka_unit_test(test_outbox_drops_a_client_that_never_reads),
		cmocka_unit_test(test_send_after_client_left),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
