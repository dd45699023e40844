/* SPDX-License-Identifier: Apache-2.0 */
/* test_abuse cases on the wire (abuse.h): oversize frames, truncated frames and vanishing
 * clients, stream ids, garbage, byte-by-byte writers. */

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proto/ttrpc_codec.h"
#include "proto/ttrpc_frame.h"
#include "tests/integration/abuse.h"

/* ======================================================================================
 * Case: oversize frames
 * ====================================================================================== */

void case_oversize(struct tc *t)
{
	struct fx f = { 0 };
	struct ttrpc_hdr h, rh;
	uint8_t *body = NULL;
	struct shimclient_reply rep = { 0 };
	int rc, fd = -1;

	if (fx_launch(t, &f, "ovs", ARGV_SLEEP) < 0)
		goto out;
	pid_t pid = f.si.pid;
	int fd0 = it_proc_fds(pid);
	long rss0 = proc_rss_kb(pid);

	/* 1. Length 4 MiB + 1, with its body: RESOURCE_EXHAUSTED on that stream. */
	h = (struct ttrpc_hdr){ .len = TTRPC_MAX_MSG + 1,
				.stream = shimclient_next_stream(f.c),
				.type = TTRPC_TYPE_REQUEST };
	long t0 = it_now_ms();
	rc = shimclient_send_frame(f.c, &h, NULL, 0, 'A');
	CHECK(t, rc == 0, "sending a 4 MiB + 1 frame: %s", strerror(-rc));
	rc = shimclient_recv_frame(f.c, h.stream, 10000, &rh, &body);
	if (CHECK(t, rc == 0, "no response to the 4 MiB + 1 frame: %s", strerror(-rc))) {
		rc = shimclient_decode_reply(&rh, body, &rep);
		CHECK(t, rc == 0 && rh.type == TTRPC_TYPE_RESPONSE && rh.flags == 0,
		      "oversize reply undecodable (rc %d type %u flags %u)", rc, rh.type, rh.flags);
		CHECK(t,
		      rep.code == GRPC_RESOURCE_EXHAUSTED && rep.msg &&
			      strcmp(rep.msg, "message length 4194305 exceed maximum "
					      "message size of 4194304") == 0,
		      "oversize: want 8 \"message length 4194305 exceed maximum message size of "
		      "4194304\", got %d \"%s\"",
		      rep.code, rep.msg ? rep.msg : "");
		obs(t, "4 MiB + 1 frame: code %d \"%s\" after %ld ms", rep.code,
		    rep.msg ? rep.msg : "", it_now_ms() - t0);
		shimclient_reply_free(&rep);
	}
	free(body);
	body = NULL;

	/* 2. The same connection still works. */
	uint32_t spid = 0;
	rc = it_shiminfo(f.c, &spid, 5000);
	CHECK(t, rc == 0 && spid == (uint32_t)pid,
	      "ShimInfo on the same connection after the oversize frame: rc %d pid %u", rc, spid);

	/* 3. Exactly 4 MiB of data is legal: a State whose frame body is 4194304 bytes. */
	{
		size_t L = TTRPC_MAX_MSG - 64, flen = 0;
		char *big = NULL;
		uint8_t *frame = NULL;
		uint32_t st = shimclient_next_stream(f.c);
		for (int i = 0; i < 6; i++) {
			free(big);
			free(frame);
			big = malloc(L + 1);
			memset(big, 'q', L);
			big[L] = '\0';
			frame = mk_state(st, big, &flen);
			if (flen - TTRPC_HDR_LEN == TTRPC_MAX_MSG)
				break;
			L += TTRPC_MAX_MSG - (flen - TTRPC_HDR_LEN);
		}
		CHECK(t, flen - TTRPC_HDR_LEN == TTRPC_MAX_MSG, "harness: exact 4 MiB frame: %zu",
		      flen - TTRPC_HDR_LEN);
		rc = shimclient_send_raw(f.c, frame, flen);
		if (rc == 0)
			rc = shimclient_recv_frame(f.c, st, 10000, &rh, &body);
		if (CHECK(t, rc == 0, "no response to an exactly-4 MiB request: %s",
			  strerror(-rc))) {
			rc = shimclient_decode_reply(&rh, body, &rep);
			bool full = rep.msg && strlen(rep.msg) == L + 34 &&
				    strcmp(rep.msg + strlen(rep.msg) - 26,
					   " does not exist: not found") == 0;
			CHECK(t,
			      rc == 0 && rep.code == GRPC_NOT_FOUND && rep.msg &&
				      strncmp(rep.msg, "process qqq", 11) == 0,
			      "exactly 4 MiB State: want NOT_FOUND \"process <id>...\", got rc %d "
			      "code %d",
			      rc, rep.code);
			obs(t,
			    "exactly 4 MiB request: accepted, code %d, response frame %u bytes, "
			    "message %s "
			    "(%zu bytes)",
			    rep.code, rh.len, full ? "echoes the whole id" : "truncated",
			    rep.msg ? strlen(rep.msg) : 0);
			shimclient_reply_free(&rep);
		}
		free(body);
		body = NULL;
		free(big);
		free(frame);
	}

	/* 4. A second connection announces 0xFFFFFFF0 bytes, sends 1 MiB and vanishes: no
	 * allocation of the announced size, connection released. */
	fd = raw_connect(f.si.sock);
	if (CHECK(t, fd >= 0, "connect: %s", strerror(-fd))) {
		uint8_t hb[TTRPC_HDR_LEN];
		static uint8_t junk[1 << 20];
		memset(junk, 0x5a, sizeof(junk));
		h = (struct ttrpc_hdr){ .len = 0xFFFFFFF0u, .stream = 1, .type = 1 };
		ttrpc_hdr_encode(hb, &h);
		rc = raw_send_all(fd, hb, sizeof(hb), 5000);
		if (rc == 0)
			rc = raw_send_all(fd, junk, sizeof(junk), 5000);
		CHECK(t, rc == 0, "sending 1 MiB of a 4 GiB frame: %s", strerror(-rc));
		sleep_ms(100);
		long rss1 = proc_rss_kb(pid);
		close(fd);
		fd = -1;
		CHECK(t, rss1 - rss0 < 32 * 1024,
		      "RSS grew by %ld KiB while a 4 GiB frame was announced", rss1 - rss0);
		obs(t, "4 GiB length announced + 1 MiB sent: RSS %ld -> %ld KiB", rss0, rss1);
	}
	int fdn = wait_fds_le(pid, fd0, 3000);
	CHECK(t, fdn <= fd0, "fd count %d, baseline %d, 3 s after the vanished oversize client",
	      fdn, fd0);
	if (fdn > fd0) {
		char desc[1024];
		int extra;
		fdn = wait_fds_le(pid, fd0, 2000);
		proc_fd_desc(pid, desc, sizeof(desc), &extra);
		obs(t, "5 s after the vanished oversize client: fd count %d (baseline %d): %s", fdn,
		    fd0, desc);
	}
	shim_ok(t, &f, "after the oversize cases");
out:
	if (fd >= 0)
		close(fd);
	fx_free(&f);
}

/* ======================================================================================
 * Case: truncated frames and vanishing clients
 * ====================================================================================== */

enum vanish {
	VA_HDR5,      /* 5 header bytes */
	VA_HALFBODY,  /* header (len 200) + 100 bytes */
	VA_MAXPART,   /* header (len 4 MiB) + 64 KiB */
	VA_OVERPART,  /* header (len 0xFFFFFFF0) + 64 KiB */
	VA_REQ,       /* a whole ShimInfo, then gone */
	VA_REQ_RESET, /* ShimInfo, its response left unread, ShimInfo, gone (ECONNRESET) */
	VA_WAIT,      /* a Wait on the running init (never answered before exit), gone */
	VA_LISTPIDS,  /* a ListPids (runs on a worker), gone */
	VA_N
};
static const char *const VA_NAMES[] = { "hdr5", "halfbody",   "4MiB-partial", "oversize-partial",
					"req",  "req+unread", "wait",         "listpids" };
static const int VA_COUNT[] = { 40, 40, 20, 20, 40, 40, 40, 20 };

static int vanish_one(const char *sock, enum vanish v, const char *id)
{
	static uint8_t junk[65536];
	uint8_t hb[TTRPC_HDR_LEN];
	struct ttrpc_hdr h = { .stream = 1, .type = 1 };
	uint8_t *fr = NULL;
	size_t fl = 0;
	int fd = raw_connect(sock), rc = 0;

	if (fd < 0)
		return fd;
	switch (v) {
	case VA_HDR5:
		fr = mk_shiminfo(1, &fl);
		rc = raw_send_all(fd, fr, 5, 2000);
		break;
	case VA_HALFBODY:
	case VA_MAXPART:
	case VA_OVERPART:
		h.len = v == VA_HALFBODY ? 200 : v == VA_MAXPART ? TTRPC_MAX_MSG : 0xFFFFFFF0u;
		ttrpc_hdr_encode(hb, &h);
		rc = raw_send_all(fd, hb, sizeof(hb), 2000);
		if (rc == 0)
			rc = raw_send_all(fd, junk, v == VA_HALFBODY ? 100 : sizeof(junk), 2000);
		break;
	case VA_REQ:
		fr = mk_shiminfo(1, &fl);
		rc = raw_send_all(fd, fr, fl, 2000);
		break;
	case VA_REQ_RESET:
		fr = mk_shiminfo(1, &fl);
		rc = raw_send_all(fd, fr, fl, 2000);
		sleep_ms(5);
		set_stream(fr, 3);
		if (rc == 0)
			rc = raw_send_all(fd, fr, fl, 2000);
		break;
	case VA_WAIT: {
		WaitReq r = CONTAINERD__RUNTIME__LINUX__SHIM__V1__WAIT_REQUEST__INIT;
		r.id = (char *)id;
		fr = mk_req(1, "Wait", &r.base, 0, &fl);
		rc = raw_send_all(fd, fr, fl, 2000);
		break;
	}
	case VA_LISTPIDS: {
		ListPidsReq r = CONTAINERD__RUNTIME__LINUX__SHIM__V1__LIST_PIDS_REQUEST__INIT;
		r.id = (char *)id;
		fr = mk_req(1, "ListPids", &r.base, 0, &fl);
		rc = raw_send_all(fd, fr, fl, 2000);
		break;
	}
	default: break;
	}
	free(fr);
	close(fd);
	return rc;
}

void case_vanish(struct tc *t)
{
	struct fx f = { 0 };
	struct mon m = { 0 };

	if (fx_launch(t, &f, "van", ARGV_SLEEP) < 0 || fx_run_container(t, &f) < 0)
		goto out;
	pid_t pid = f.si.pid;
	sleep_ms(200);
	int fd0 = it_proc_fds(pid), th0 = it_proc_threads(pid);
	int fdv = fd0;
	mon_start(&m, pid);
	for (int v = 0; v < VA_N; v++) {
		long t0 = it_now_ms();
		int errs = 0;
		for (int i = 0; i < VA_COUNT[v]; i++)
			if (vanish_one(f.si.sock, (enum vanish)v, f.si.id) < 0)
				errs++;
		long dt = it_now_ms() - t0;
		int fdn = wait_fds_le(pid, fdv, 1500);
		int thn = it_proc_threads(pid);
		CHECK(t, fdn <= fdv,
		      "%s: %d of %d connections still open 1.5 s after their clients "
		      "vanished (fds %d, baseline %d)",
		      VA_NAMES[v], fdn - fdv, VA_COUNT[v], fdn, fdv);
		CHECK(t, shim_alive(&f.si), "%s: shim died (%s)", VA_NAMES[v], "see shim.log");
		obs(t, "%-16s x%d in %ld ms (%d send errors): fds %d (baseline %d), threads %d",
		    VA_NAMES[v], VA_COUNT[v], dt, errs, fdn, fdv, thn);
		if (fdn > fdv) {
			char kinds[128];
			proc_fd_kinds(pid, kinds, sizeof(kinds));
			obs(t, "%-16s left the shim with: %s", VA_NAMES[v], kinds);
			fdv = fdn; /* the next variant is measured on its own */
		}
		if (!shim_alive(&f.si))
			break;
	}
	sleep_ms(300);
	mon_stop(&m);
	int th1 = it_proc_threads(pid);
	/* cshim: fixed threads + at most 16 workers. */
	CHECK(t, th1 <= th0 + 17 && m.peak_threads <= th0 + 17,
	      "thread count grew: baseline %d, peak %d, now %d", th0, m.peak_threads, th1);
	obs(t, "threads baseline %d peak %d after %d; fds baseline %d peak %d", th0, m.peak_threads,
	    th1, fd0, m.peak_fds);
	if (!shim_ok(t, &f, "after the vanishing clients"))
		goto out;
	int st = -1;
	int rc = it_state(f.c, f.si.id, &st, NULL, NULL, 5000);
	CHECK(t, rc == 0 && st == ST_RUNNING, "State after the vanishing clients: rc %d status %d",
	      rc, st);
	/* The orphaned Waits are answered into closed connections now. */
	rc = it_kill(f.c, f.si.id, SIGKILL, false, NULL, 5000);
	uint32_t es = 0;
	int wrc = it_wait(f.c, f.si.id, &es, NULL, 5000);
	CHECK(t, rc == 0 && wrc == 0 && es == 137,
	      "Kill/Wait after orphaned Waits: %d %d status %u", rc, wrc, es);
	sleep_ms(200);
	shim_ok(t, &f, "after the orphaned Waits were released");
	int fdn = wait_fds_le(pid, fd0, 1500);
	obs(t, "after init exit: fds %d (baseline with a running init %d)", fdn, fd0);
out:
	mon_stop(&m);
	fx_free(&f);
}

/* ======================================================================================
 * Case: stream ids
 * ====================================================================================== */

void case_streams(struct tc *t)
{
	struct fx f = { 0 };
	struct shimclient *c2 = NULL;
	struct shimclient_reply rep;
	const char *want = "StreamID must be odd for client initiated streams";
	uint8_t *fr = NULL;
	size_t fl = 0;
	int rc;

	if (fx_launch(t, &f, "sid", ARGV_SLEEP) < 0)
		goto out;
	c2 = shimclient_connect(f.si.sock, 3000);
	if (!CHECK(t, c2 != NULL, "harness: second connection"))
		goto out;
	fr = mk_shiminfo(1, &fl);

	static const uint32_t evens[] = { 2, 0, 0xFFFFFFFEu };
	for (size_t i = 0; i < sizeof(evens) / sizeof(evens[0]); i++) {
		rc = shimclient_call_bytes(c2, evens[i], SHIM_SERVICE, "ShimInfo", NULL, 0, 3000,
					   &rep);
		CHECK(t,
		      rc == 0 && rep.stream == evens[i] && rep.code == GRPC_INVALID_ARGUMENT &&
			      strcmp(rep.msg, want) == 0,
		      "even stream %u: want 3 \"%s\" on that stream, got rc %d stream %u code %d "
		      "\"%s\"",
		      evens[i], want, rc, rc == 0 ? rep.stream : 0, rc == 0 ? rep.code : -1,
		      rc == 0 && rep.msg ? rep.msg : "");
		if (rc == 0)
			shimclient_reply_free(&rep);
	}
	uint32_t spid = 0;
	rc = it_shiminfo(c2, &spid, 3000);
	CHECK(t, rc == 0 && spid == (uint32_t)f.si.pid, "connection unusable after even ids: %d",
	      rc);

	/* Reuse and decrease: Go 1.1.1 does not track ids (docs/v1-protocol.md §2.3); the guide
	 * asks for strictly increasing ids. Either answer is accepted if every request gets exactly
	 * one response and the connection stays usable; what happened is reported. */
	char seen[256] = "";
	size_t sl = 0;
	static const uint32_t seq[] = { 101, 101, 99, 1 };
	for (size_t i = 0; i < sizeof(seq) / sizeof(seq[0]); i++) {
		rc = shimclient_call_bytes(c2, seq[i], SHIM_SERVICE, "ShimInfo", NULL, 0, 3000,
					   &rep);
		CHECK(t, rc == 0, "stream %u (sequence 101,101,99,1): no response: %s", seq[i],
		      strerror(-rc));
		sl += (size_t)snprintf(seen + sl, sizeof(seen) - sl, "%s%u:%d", i ? " " : "",
				       seq[i], rc == 0 ? rep.code : rc);
		if (rc == 0)
			shimclient_reply_free(&rep);
	}
	/* Two requests on stream 201 back to back, both in flight. */
	set_stream(fr, 201);
	rc = shimclient_send_raw(c2, fr, fl);
	if (rc == 0)
		rc = shimclient_send_raw(c2, fr, fl);
	int got = 0;
	char codes[64] = "";
	size_t cl = 0;
	for (int i = 0; i < 3 && rc == 0; i++) {
		struct ttrpc_hdr rh;
		uint8_t *body = NULL;
		if (shimclient_recv_frame(c2, 201, i < 2 ? 3000 : 300, &rh, &body) < 0)
			break;
		got++;
		if (shimclient_decode_reply(&rh, body, &rep) == 0) {
			cl += (size_t)snprintf(codes + cl, sizeof(codes) - cl, "%s%d",
					       cl ? "," : "", rep.code);
			shimclient_reply_free(&rep);
		}
		free(body);
	}
	CHECK(t, got == 2, "two in-flight requests on stream 201: %d responses", got);
	obs(t,
	    "reused/decreasing ids (stream:code) %s; two in flight on 201: %d responses (codes %s)",
	    seen, got, codes);
	/* Largest odd id, then the connection still works with ordinary calls. */
	rc = shimclient_call_bytes(c2, 0xFFFFFFFFu, SHIM_SERVICE, "ShimInfo", NULL, 0, 3000, &rep);
	CHECK(t, rc == 0 && rep.code == 0, "stream 0xFFFFFFFF: rc %d code %d", rc,
	      rc == 0 ? rep.code : -1);
	if (rc == 0)
		shimclient_reply_free(&rep);
	rc = it_shiminfo(c2, &spid, 3000);
	CHECK(t, rc == 0, "connection unusable after the stream id cases: %d", rc);
	shim_ok(t, &f, "after the stream id cases");
out:
	free(fr);
	if (c2)
		shimclient_close(c2);
	fx_free(&f);
}

/* ======================================================================================
 * Case: garbage
 * ====================================================================================== */

static uint64_t xs_next(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

/* Go's utf8.ValidString (proto3 string fields are validated by the Go decoder). */
static bool utf8_ok(const char *str)
{
	const unsigned char *p = (const unsigned char *)(str ? str : "");
	while (*p) {
		unsigned c = *p;
		int n;
		uint32_t cp, min;
		if (c < 0x80) {
			p++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			n = 1, cp = c & 0x1f, min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			n = 2, cp = c & 0x0f, min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			n = 3, cp = c & 0x07, min = 0x10000;
		} else {
			return false;
		}
		for (int i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (p[i] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		p += n + 1;
	}
	return true;
}

/* The envelope decodes but one of its strings is not UTF-8 (Go: INVALID_ARGUMENT). */
static bool envelope_bad_utf8(const uint8_t *body, size_t len)
{
	Ttrpc__Request *rq = ttrpc_request_decode(body, len);
	bool bad = false;
	if (!rq)
		return false;
	bad = !utf8_ok(rq->service) || !utf8_ok(rq->method);
	for (size_t i = 0; i < rq->n_metadata; i++)
		if (!utf8_ok(rq->metadata[i]->key) || !utf8_ok(rq->metadata[i]->value))
			bad = true;
	ttrpc__request__free_unpacked(rq, NULL);
	return bad;
}

#define GB_FRAMES 200
static int g_garbage_codes[2][GB_FRAMES]; /* [is_go][i]: code, -1 no response */
static char g_garbage_msgs[2][GB_FRAMES][80];
static bool g_garbage_done[2];

void case_garbage(struct tc *t)
{
	struct fx f = { 0 };
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	int fd = -1;

	if (fx_launch(t, &f, "gbg", ARGV_SLEEP) < 0)
		goto out;
	pid_t pid = f.si.pid;
	int fd0 = it_proc_fds(pid);

	/* a. 30 connections of 8 KiB random bytes each; whatever comes back must be well-formed
	 * response frames. */
	int frames_back = 0, bad_back = 0;
	for (int i = 0; i < 30; i++) {
		uint8_t buf[8192];
		for (size_t k = 0; k < sizeof(buf); k += 8) {
			uint64_t r = xs_next(&seed);
			memcpy(buf + k, &r, 8);
		}
		if (i % 3 == 0)
			buf[0] = 0; /* a plausible length byte now and then */
		fd = raw_connect(f.si.sock);
		if (!CHECK(t, fd >= 0, "connect: %s", strerror(-fd)))
			goto out;
		(void)raw_send_all(fd, buf, sizeof(buf), 2000);
		/* The end of what we send: cshim sees EOF and closes, so everything it answered
		 * is read up to that close, not in a 100 ms window per connection (3 s in all).
		 * The Go shim keeps a half-closed connection open: its window stays. */
		(void)shutdown(fd, SHUT_WR);
		for (;;) {
			struct ttrpc_hdr h;
			uint8_t *body = NULL;
			int rc = raw_recv_frame(fd, t->is_c ? 2000 : 100, &h, &body);
			free(body);
			if (rc == -EMSGSIZE) {
				bad_back++;
				break;
			}
			if (rc < 0)
				break;
			frames_back++;
			if (h.type != TTRPC_TYPE_RESPONSE || h.flags != 0)
				bad_back++;
		}
		close(fd);
		fd = -1;
	}
	CHECK(t, bad_back == 0, "random bytes: %d malformed frames came back", bad_back);
	obs(t, "30 x 8 KiB random bytes: %d response frames back", frames_back);
	if (!shim_ok(t, &f, "after random bytes"))
		goto out;

	/* b. Valid headers (odd stream, type 1, random flags) with random bodies: exactly one
	 * response each (a decode error, an unknown service, ...); codes recorded for the
	 * differential. */
	int *codes = g_garbage_codes[t->is_c ? 0 : 1];
	int hist[16] = { 0 }, nresp = 0, nbadutf8 = 0, badutf8_wrong = 0, first_bad = -1;
	fd = raw_connect(f.si.sock);
	if (!CHECK(t, fd >= 0, "connect: %s", strerror(-fd)))
		goto out;
	uint64_t seed2 = 0x0123456789abcdefULL;
	for (int i = 0; i < GB_FRAMES; i++) {
		uint8_t fr[TTRPC_HDR_LEN + 256];
		uint32_t len = (uint32_t)(xs_next(&seed2) % 200);
		struct ttrpc_hdr h = { .len = len,
				       .stream = (uint32_t)(2 * i + 1),
				       .type = 1,
				       .flags = (uint8_t)xs_next(&seed2) };
		ttrpc_hdr_encode(fr, &h);
		for (uint32_t k = 0; k < len; k++)
			fr[TTRPC_HDR_LEN + k] = (uint8_t)xs_next(&seed2);
		/* Every 4th: a body that starts like a Request (field 1, length) */
		if (i % 4 == 0 && len > 2) {
			fr[TTRPC_HDR_LEN] = 0x0a;
			fr[TTRPC_HDR_LEN + 1] = (uint8_t)(len - 2 < 0x7f ? len - 2 : 0x7f);
		}
		codes[i] = -1;
		if (raw_send_all(fd, fr, TTRPC_HDR_LEN + len, 2000) < 0)
			break;
		struct ttrpc_hdr rh;
		char *gm = NULL;
		int code = -1, rc = raw_recv_reply(fd, 2000, &rh, &code, &gm, NULL, NULL);
		if (rc == 0) {
			/* printable copy (cshim echoes the raw service bytes) */
			char *dst = g_garbage_msgs[t->is_c ? 0 : 1][i];
			size_t k = 0;
			for (const unsigned char *q = (const unsigned char *)(gm ? gm : "");
			     *q && k + 5 < 80; q++) {
				if (*q >= 0x20 && *q < 0x7f && *q != '\\')
					dst[k++] = (char)*q;
				else
					k += (size_t)snprintf(dst + k, 80 - k, "\\x%02x", *q);
			}
			dst[k] = '\0';
		}
		free(gm);
		if (envelope_bad_utf8(fr + TTRPC_HDR_LEN, len)) {
			nbadutf8++;
			if (rc == 0 && code != GRPC_INVALID_ARGUMENT) {
				badutf8_wrong++;
				if (first_bad < 0)
					first_bad = i;
			}
		}
		if (rc == 0 && rh.stream == h.stream) {
			codes[i] = code;
			nresp++;
			hist[code >= 0 && code < 16 ? code : 15]++;
		}
	}
	g_garbage_done[t->is_c ? 0 : 1] = true;
	CHECK(t, badutf8_wrong == 0,
	      "%d of %d requests whose envelope has a non-UTF-8 service/method were not rejected "
	      "with INVALID_ARGUMENT (Go: \"unmarshal request error: proto: field \".service\" "
	      "contains invalid UTF-8\"); e.g. #%d: code %d \"%s\"",
	      badutf8_wrong, nbadutf8, first_bad, first_bad >= 0 ? codes[first_bad] : -1,
	      first_bad >= 0 ? g_garbage_msgs[t->is_c ? 0 : 1][first_bad] : "");
	CHECK(t, nresp == GB_FRAMES, "random bodies: %d of %d answered on their stream", nresp,
	      GB_FRAMES);
	obs(t, "%d random bodies: codes 0:%d 3:%d 5:%d 12:%d 13:%d other:%d", GB_FRAMES, hist[0],
	    hist[3], hist[5], hist[12], hist[13],
	    GB_FRAMES - hist[0] - hist[3] - hist[5] - hist[12] - hist[13]);

	/* c. A response-type and a data-type frame (ignored: no reply), an empty request. */
	{
		size_t fl;
		uint8_t *fr = mk_shiminfo(1001, &fl);
		fr[8] = 2;
		(void)raw_send_all(fd, fr, fl, 2000);
		set_stream(fr, 1003);
		fr[8] = 3;
		(void)raw_send_all(fd, fr, fl, 2000);
		struct ttrpc_hdr rh;
		uint8_t *body = NULL;
		int rc = raw_recv_frame(fd, 300, &rh, &body);
		free(body);
		CHECK(t, rc == -ETIMEDOUT, "frames of type 2/3 were answered (rc %d stream %u)", rc,
		      rc == 0 ? rh.stream : 0);
		uint8_t hb[TTRPC_HDR_LEN];
		struct ttrpc_hdr h0 = { .len = 0, .stream = 1005, .type = 1 };
		ttrpc_hdr_encode(hb, &h0);
		(void)raw_send_all(fd, hb, sizeof(hb), 2000);
		int code = -1;
		char *msg = NULL;
		rc = raw_recv_reply(fd, 2000, &rh, &code, &msg, NULL, NULL);
		CHECK(t, rc == 0 && rh.stream == 1005, "empty request not answered: %d", rc);
		obs(t, "empty request (len 0): code %d \"%s\"", code, msg ? msg : "");
		free(msg);
		set_stream(fr, 1007);
		fr[8] = 1;
		(void)raw_send_all(fd, fr, fl, 2000);
		rc = raw_recv_reply(fd, 2000, &rh, &code, NULL, NULL, NULL);
		CHECK(t, rc == 0 && code == 0 && rh.stream == 1007,
		      "ShimInfo on the garbage connection afterwards: rc %d code %d", rc, code);
		free(fr);
	}
	close(fd);
	fd = -1;
	int fdn = wait_fds_le(pid, fd0, 3000);
	CHECK(t, fdn <= fd0, "fd count %d, baseline %d, after the garbage connections", fdn, fd0);
	shim_ok(t, &f, "after garbage");
	/* Differential on the random bodies (reported when both shims ran). */
	if (!t->is_c && g_garbage_done[0] && g_garbage_done[1]) {
		int ndiff = 0, first = -1;
		char d[400] = "";
		size_t dl = 0;
		for (int i = 0; i < GB_FRAMES; i++) {
			if (g_garbage_codes[0][i] == g_garbage_codes[1][i])
				continue;
			ndiff++;
			if (first < 0)
				first = i;
			if (dl + 24 < sizeof(d))
				dl += (size_t)snprintf(d + dl, sizeof(d) - dl, " #%d c=%d go=%d", i,
						       g_garbage_codes[0][i],
						       g_garbage_codes[1][i]);
		}
		CHECK(t, ndiff == 0,
		      "random bodies: %d of %d frames answered with another code than "
		      "cshim:%s",
		      ndiff, GB_FRAMES, d);
		if (first >= 0)
			obs(t, "first differing random body #%d: cshim %d \"%s\", go %d \"%s\"",
			    first, g_garbage_codes[0][first], g_garbage_msgs[0][first],
			    g_garbage_codes[1][first], g_garbage_msgs[1][first]);
	}
out:
	if (fd >= 0)
		close(fd);
	fx_free(&f);
}

/* ======================================================================================
 * Case: byte-by-byte writer
 * ====================================================================================== */

static int send_bytewise(int fd, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int rc = raw_send_all(fd, p + i, 1, 2000);
		if (rc < 0)
			return rc;
		sleep_ms(2);
	}
	return 0;
}

void case_bytewise(struct tc *t)
{
	struct fx f = { 0 };
	int fd = -1, rc, code;
	struct ttrpc_hdr h;
	char *msg = NULL;
	uint8_t *pl = NULL;
	size_t pn = 0;

	if (fx_launch(t, &f, "byt", ARGV_SLEEP) < 0)
		goto out;
	fd = raw_connect(f.si.sock);
	if (!CHECK(t, fd >= 0, "connect: %s", strerror(-fd)))
		goto out;
	size_t l1, l2, l3;
	uint8_t *a = mk_shiminfo(1, &l1), *b = mk_state(3, "nope", &l2), *c = mk_shiminfo(5, &l3);
	long t0 = it_now_ms();
	rc = send_bytewise(fd, a, l1);
	if (rc == 0)
		rc = raw_recv_reply(fd, 3000, &h, &code, NULL, &pl, &pn);
	ShimInfoResp *si = NULL;
	if (rc == 0 && code == 0)
		si = containerd__runtime__linux__shim__v1__shim_info_response__unpack(NULL, pn, pl);
	CHECK(t, si && si->shim_pid == (uint32_t)f.si.pid && h.stream == 1,
	      "ShimInfo written bytewise: rc %d code %d", rc, rc == 0 ? code : -1);
	IT_FREE(si);
	free(pl);
	pl = NULL;
	long d1 = it_now_ms() - t0;
	rc = send_bytewise(fd, b, l2);
	if (rc == 0)
		rc = raw_recv_reply(fd, 3000, &h, &code, &msg, NULL, NULL);
	CHECK(t,
	      rc == 0 && code == GRPC_NOT_FOUND && msg &&
		      strcmp(msg, "process nope does not exist: not found") == 0 && h.stream == 3,
	      "State written bytewise: rc %d code %d \"%s\"", rc, code, msg ? msg : "");
	free(msg);
	msg = NULL;
	/* Two frames in one write, then a frame split 3/9/1/rest. */
	uint8_t two[512];
	memcpy(two, a, l1);
	memcpy(two + l1, c, l3);
	set_stream(two, 7);
	rc = raw_send_all(fd, two, l1 + l3, 2000);
	int got = 0;
	for (int i = 0; i < 2 && rc == 0; i++) {
		if (raw_recv_reply(fd, 3000, &h, &code, NULL, NULL, NULL) == 0 && code == 0)
			got++;
	}
	CHECK(t, got == 2, "two coalesced frames: %d answered", got);
	set_stream(b, 9);
	size_t cuts[] = { 3, 9, 1, l2 - 13 };
	size_t off = 0;
	for (int i = 0; i < 4 && rc == 0; i++) {
		rc = raw_send_all(fd, b + off, cuts[i], 2000);
		off += cuts[i];
		sleep_ms(20);
	}
	if (rc == 0)
		rc = raw_recv_reply(fd, 3000, &h, &code, NULL, NULL, NULL);
	CHECK(t, rc == 0 && code == GRPC_NOT_FOUND && h.stream == 9, "split State: rc %d code %d",
	      rc, code);
	obs(t, "bytewise ShimInfo (%zu bytes, 2 ms apart) answered after %ld ms", l1, d1);
	free(a);
	free(b);
	free(c);
	shim_ok(t, &f, "after the bytewise writer");
out:
	if (fd >= 0)
		close(fd);
	fx_free(&f);
}
