/* SPDX-License-Identifier: Apache-2.0 */
/* test_abuse cases about clients (abuse.h): 1000 idle connections, a client that never reads
 * its responses, peers refused by SO_PEERCRED. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/integration/abuse.h"

/* ======================================================================================
 * Case: 1000 idle connections
 * ====================================================================================== */

#define IDLE_N 1000

void case_idle1000(struct tc *t)
{
	struct fx f = { 0 };
	int *fds = calloc(IDLE_N, sizeof(int));
	int nopen = 0;
	struct mon m = { 0 };

	if (!fds || fx_launch(t, &f, "idl", ARGV_SLEEP) < 0)
		goto out;
	pid_t pid = f.si.pid;
	int fd0 = it_proc_fds(pid), th0 = it_proc_threads(pid);
	mon_start(&m, pid);
	long t0 = it_now_ms();
	for (int i = 0; i < IDLE_N; i++) {
		int fd = raw_connect(f.si.sock);
		if (fd < 0) {
			CHECK(t, false, "connection %d of %d: %s", i, IDLE_N, strerror(-fd));
			break;
		}
		fds[nopen++] = fd;
	}
	long t_conn = it_now_ms() - t0;
	/* Until the shim has accepted them all. */
	long dl = it_now_ms() + 20000;
	int fdc;
	while ((fdc = it_proc_fds(pid)) < fd0 + nopen && it_now_ms() < dl)
		sleep_ms(20);
	CHECK(t, fdc >= fd0 + nopen, "shim holds %d fds with %d idle connections (baseline %d)",
	      fdc, nopen, fd0);
	/* Others are still served while the idle connections stay open and silent: the control
	 * connection and a new one (answered at all: a shim stuck on an idle connection never
	 * answers them; the call timeouts are hang guards, not bounds). */
	long worst = 0;
	int info_ok = 0;
	for (int i = 0; i < 20 && info_ok == i; i++) {
		long a = it_now_ms();
		int rc = it_shiminfo(f.c, NULL, 20000);
		long d = it_now_ms() - a;
		if (d > worst)
			worst = d;
		info_ok += rc == 0;
	}
	long a = it_now_ms();
	struct shimclient *c2 = shimclient_connect(f.si.sock, 20000);
	int rc2 = c2 ? it_state(c2, "nope", NULL, NULL, NULL, 20000) : -1;
	long dnew = it_now_ms() - a;
	shimclient_close(c2);
	CHECK(t, info_ok == 20 && rc2 == GRPC_NOT_FOUND,
	      "with %d idle connections open: %d of 20 ShimInfo answered, new connection + State "
	      "%d",
	      nopen, info_ok, rc2);
	/* Then every idle connection asks once: all answered. */
	size_t fl;
	uint8_t *fr = mk_shiminfo(1, &fl);
	for (int i = 0; i < nopen; i++)
		(void)raw_send_all(fds[i], fr, fl, 1000);
	free(fr);
	int answered = 0;
	long t1 = it_now_ms();
	for (int i = 0; i < nopen; i++) {
		struct ttrpc_hdr h;
		int code = -1;
		long left = 8000 - (it_now_ms() - t1);
		if (raw_recv_reply(fds[i], left > 0 ? (int)left : 0, &h, &code, NULL, NULL, NULL) ==
			    0 &&
		    code == 0)
			answered++;
	}
	long t_ans = it_now_ms() - t1;
	CHECK(t, answered == nopen, "%d of %d formerly idle connections answered", answered, nopen);
	for (int i = 0; i < nopen; i++)
		close(fds[i]);
	int nclosed = nopen;
	nopen = 0;
	int fdn = wait_fds_le(pid, fd0, 20000);
	mon_stop(&m);
	CHECK(t, fdn <= fd0, "fd count %d, baseline %d, after closing %d connections", fdn, fd0,
	      nclosed);
	obs(t,
	    "%d conns in %ld ms; shim fds peak %d; ShimInfo worst %ld ms, new conn %ld ms; all "
	    "answered in %ld ms; fds after close %d (baseline %d); threads %d -> peak %d",
	    nclosed, t_conn, m.peak_fds, worst, dnew, t_ans, fdn, fd0, th0, m.peak_threads);
	shim_ok(t, &f, "after 1000 connections");
out:
	mon_stop(&m);
	for (int i = 0; i < nopen; i++)
		close(fds[i]);
	free(fds);
	fx_free(&f);
}

/* ======================================================================================
 * Case: a client that never reads its responses
 * ====================================================================================== */

struct prober {
	struct shimclient *c;
	pthread_t thr;
	atomic_bool stop;
	atomic_long worst_ms; /* read by the case while the prober runs */
	/* Set while the flooding client's requests are unanswered (from the flood's start until
	 * its connection is closed); calls sent and answered inside that window count. */
	atomic_bool flooding;
	atomic_int during; /* read by the case while the prober runs */
	int calls, fails;
};

static void *prober_main(void *arg)
{
	struct prober *p = arg;
	while (!atomic_load(&p->stop)) {
		long a = it_now_ms();
		bool in = atomic_load(&p->flooding);
		int rc = it_shiminfo(p->c, NULL, 20000);
		long d = it_now_ms() - a;
		p->calls++;
		if (rc != 0)
			p->fails++;
		else if (in && atomic_load(&p->flooding))
			atomic_fetch_add(&p->during, 1);
		if (d > atomic_load(&p->worst_ms))
			atomic_store(&p->worst_ms, d);
		sleep_ms(50);
	}
	return NULL;
}

/* Waits (hang guard 30 s) until the prober had want answers inside the flood window. */
static int prober_wait_during(struct prober *p, int want)
{
	long dl = it_now_ms() + 30000;
	while (atomic_load(&p->during) < want && it_now_ms() < dl)
		sleep_ms(20);
	return atomic_load(&p->during);
}

/* Sends buf repeatedly-patched frames without reading. Returns bytes sent; *why: 'd'
 * dropped (EPIPE/ECONNRESET), 'b' pushed back (no progress for stall_ms), 'c' complete,
 * 't' time cap. */
static size_t flood_send(int fd, const uint8_t *buf, size_t n, int stall_ms, long cap_ms, char *why)
{
	size_t off = 0;
	long start = it_now_ms(), last = it_now_ms();
	while (off < n) {
		ssize_t w = send(fd, buf + off, n - off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w > 0) {
			off += (size_t)w;
			last = it_now_ms();
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno != EAGAIN) {
			*why = 'd';
			return off;
		}
		if (it_now_ms() - last > stall_ms) {
			*why = 'b';
			return off;
		}
		if (it_now_ms() - start > cap_ms) {
			*why = 't';
			return off;
		}
		struct pollfd pf = { .fd = fd, .events = POLLOUT };
		poll(&pf, 1, 50);
		if (pf.revents & (POLLHUP | POLLERR)) {
			*why = 'd';
			return off;
		}
	}
	*why = 'c';
	return off;
}

void case_noreader(struct tc *t)
{
	struct fx f = { 0 };
	struct prober pr = { 0 };
	struct mon m = { 0 };
	bool pr_started = false;
	int fd = -1;
	uint8_t *bulk = NULL;

	if (fx_launch(t, &f, "nrd", ARGV_SLEEP) < 0)
		goto out;
	pid_t pid = f.si.pid;
	sleep_ms(100);
	int fd0 = it_proc_fds(pid);
	long rss0 = proc_rss_kb(pid);
	pr.c = f.c;
	atomic_init(&pr.stop, false);
	atomic_init(&pr.flooding, false);
	atomic_init(&pr.during, 0);
	pr_started = pthread_create(&pr.thr, NULL, prober_main, &pr) == 0;
	mon_start(&m, pid);
	fd = raw_connect(f.si.sock);
	if (!CHECK(t, fd >= 0, "connect: %s", strerror(-fd)))
		goto out;

	/* Phase A: 20000 ShimInfo requests, never read. */
	size_t fl;
	uint8_t *one = mk_shiminfo(1, &fl);
	const int NA = 20000;
	bulk = malloc(fl * (size_t)NA);
	for (int i = 0; i < NA; i++) {
		memcpy(bulk + (size_t)i * fl, one, fl);
		set_stream(bulk + (size_t)i * fl, (uint32_t)(2 * i + 1));
	}
	free(one);
	char why = '?';
	long ta = it_now_ms();
	atomic_store(&pr.flooding, true);
	size_t sent_a = flood_send(fd, bulk, fl * (size_t)NA, 2000, 10000, &why);
	long dta = it_now_ms() - ta;
	free(bulk);
	bulk = NULL;
	/* The 20000 responses are not read: the other connection is answered meanwhile. */
	int during_a = prober_wait_during(&pr, 3);
	long worst_a = atomic_load(&pr.worst_ms);
	obs(t,
	    "phase A: %zu of %zu bytes of ShimInfo sent unread in %ld ms (%s); other "
	    "connection's ShimInfo worst %ld ms",
	    sent_a, fl * (size_t)NA, dta,
	    why == 'c'   ? "all"
	    : why == 'b' ? "shim pushed back"
	    : why == 'd' ? "dropped"
			 : "time cap",
	    worst_a);
	CHECK(t, during_a >= 3,
	      "ShimInfo on another connection answered %d times while phase A's responses were "
	      "unread (3 wanted)",
	      during_a);

	/* Phase B: State requests with a 1000-byte id (each answered with a NOT_FOUND echoing the
	 * id: response ~ request size; cshim caps error messages at 1 KiB, so longer ids would
	 * not grow its outbox faster) until the shim drops the connection or stops reading it. */
	bool dropped = why == 'd';
	size_t sent_b = 0;
	long tb = it_now_ms();
	if (!dropped) {
		char *id = malloc(1001);
		memset(id, 'z', 1000);
		id[1000] = '\0';
		size_t bl;
		uint8_t *bf = mk_state(1, id, &bl);
		free(id);
		const int NB = 2048; /* per batch: ~2 MiB */
		bulk = malloc(bl * NB);
		uint32_t stream = 2u * (uint32_t)NA + 1;
		while (sent_b < (512u << 20) && it_now_ms() - tb < 15000) {
			for (int i = 0; i < NB; i++) {
				memcpy(bulk + (size_t)i * bl, bf, bl);
				set_stream(bulk + (size_t)i * bl, stream);
				stream += 2;
			}
			size_t k = flood_send(fd, bulk, bl * NB, 2000, 15000, &why);
			sent_b += k;
			if (why != 'c')
				break;
		}
		free(bf);
		dropped = why == 'd';
	}
	long dtb = it_now_ms() - tb;
	sleep_ms(300);
	long rss_mid = proc_rss_kb(pid);
	/* Whether the shim closed its side. */
	bool eof = false;
	{
		struct pollfd pf = { .fd = fd, .events = POLLRDHUP };
		eof = poll(&pf, 1, 0) == 1 && (pf.revents & (POLLRDHUP | POLLHUP | POLLERR));
	}
	/* Still the unread client's window (its connection open): three more answers. */
	int during_b = prober_wait_during(&pr, during_a + 3) - during_a;
	atomic_store(&pr.flooding, false);
	close(fd);
	fd = -1;
	sleep_ms(1000);
	atomic_store(&pr.stop, true);
	if (pr_started)
		pthread_join(pr.thr, NULL);
	pr_started = false;
	mon_stop(&m);
	long rss1 = proc_rss_kb(pid);
	int fdn = wait_fds_le(pid, fd0, 3000);
	obs(t, "phase B: %zu MiB of 1 KiB State requests in %ld ms: %s; shim side closed: %s",
	    sent_b >> 20, dtb,
	    why == 'd'   ? "connection dropped by the shim"
	    : why == 'b' ? "shim pushed back (stopped reading)"
	    : why == 't' ? "time cap"
			 : "512 MiB cap",
	    eof ? "yes" : "no");
	obs(t,
	    "RSS baseline %ld KiB, peak %ld KiB (+%ld MiB), at end of flood %ld KiB, 1 s after "
	    "close %ld KiB; prober: %d calls, %d failed, worst %ld ms; fds %d (baseline %d)",
	    rss0, m.peak_rss, (m.peak_rss - rss0) >> 10, rss_mid, rss1, pr.calls, pr.fails,
	    pr.worst_ms, fdn, fd0);
	CHECK(t, during_b >= 3 && pr.fails == 0,
	      "another connection's ShimInfo: %d answered after phase B, before the unread client "
	      "closed (3 wanted), %d failures",
	      during_b, pr.fails);
	CHECK(t, m.peak_rss - rss0 < 192 * 1024, "shim RSS grew by %ld MiB for an unread client",
	      (m.peak_rss - rss0) >> 10);
	if (t->is_c)
		CHECK(t, dropped || eof,
		      "cshim neither dropped the non-reading client (%zu MiB sent)", sent_b >> 20);
	CHECK(t, fdn <= fd0, "fd count %d, baseline %d", fdn, fd0);
	shim_ok(t, &f, "after the non-reading client");
out:
	if (pr_started) {
		atomic_store(&pr.stop, true);
		pthread_join(pr.thr, NULL);
	}
	mon_stop(&m);
	free(bulk);
	if (fd >= 0)
		close(fd);
	fx_free(&f);
}

/* ======================================================================================
 * Case: SO_PEERCRED
 * ====================================================================================== */

/* Child: becomes uid/gid, connects, sends a ShimInfo, reports: 10 closed without data, 11
 * answered, 12 neither within 3 s, 13 read error, 2x connect errno class, 3x setid failed. */
static int peer_try(const char *sock, uid_t uid, gid_t gid, const uint8_t *fr, size_t fl)
{
	pid_t pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		if (syscall(SYS_setgroups, 0, NULL) < 0)
			_exit(30);
		if (syscall(SYS_setresgid, gid, gid, gid) < 0)
			_exit(31);
		if (syscall(SYS_setresuid, uid, uid, uid) < 0)
			_exit(32);
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			_exit(20);
		size_t l = strlen(sock);
		if (l >= sizeof(sa.sun_path))
			_exit(21);
		memcpy(sa.sun_path, sock, l + 1);
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			_exit(errno == EACCES ? 22 : 23);
		(void)send(fd, fr, fl, MSG_NOSIGNAL);
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		if (poll(&pf, 1, 3000) <= 0)
			_exit(12);
		char b[64];
		ssize_t n = read(fd, b, sizeof(b));
		if (n == 0 || (n < 0 && errno == ECONNRESET))
			_exit(10);
		_exit(n > 0 ? 11 : 13);
	}
	reg_extra(pid, true);
	long dl = it_now_ms() + 6000;
	int st = 0;
	for (;;) {
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid)
			break;
		if (it_now_ms() > dl) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			st = -1;
			break;
		}
		sleep_ms(10);
	}
	reg_extra(pid, false);
	return st >= 0 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static const char *peer_text(int r)
{
	switch (r) {
	case 10: return "closed without an answer";
	case 11: return "answered";
	case 12: return "left open, no answer in 3 s";
	case 22: return "connect: EACCES";
	default: return "harness error";
	}
}

void case_peercred(struct tc *t)
{
	struct fx f = { 0 };
	if (fx_launch(t, &f, "pcr", ARGV_SLEEP) < 0)
		goto out;
	pid_t pid = f.si.pid;
	int fd0 = it_proc_fds(pid);
	/* The socket is ours (launch.c creates it like containerd): open it to everyone for this
	 * test only; the directories above are 0711. */
	CHECK(t, chmod(f.si.sock, 0777) == 0, "harness: chmod socket: %s", strerror(errno));
	size_t fl;
	uint8_t *fr = mk_shiminfo(1, &fl);
	int r_nobody = peer_try(f.si.sock, 65534, 65534, fr, fl);
	int r_gid = peer_try(f.si.sock, 0, 65534, fr, fl);
	int r_root = peer_try(f.si.sock, 0, 0, fr, fl);
	free(fr);
	CHECK(t, r_root == 11, "root client through the same path: %s (%d)", peer_text(r_root),
	      r_root);
	CHECK(t, r_nobody == 10, "uid/gid 65534 client: %s (%d)", peer_text(r_nobody), r_nobody);
	CHECK(t, r_gid == 10, "uid 0 gid 65534 client: %s (%d)", peer_text(r_gid), r_gid);
	int fdn = wait_fds_le(pid, fd0, 3000);
	CHECK(t, fdn <= fd0, "fd count %d, baseline %d, after refused clients", fdn, fd0);
	shim_ok(t, &f, "after refused clients");
	char *l1 = it_read_file(f.si.shimlog, NULL), *l2 = it_read_file(f.si.fifolog, NULL);
	bool logged = (l1 && strstr(l1, "refusing connection")) ||
		      (l2 && strstr(l2, "refusing connection"));
	obs(t, "uid 65534: %s; gid 65534: %s; root: %s; refusal logged: %s", peer_text(r_nobody),
	    peer_text(r_gid), peer_text(r_root), logged ? "yes" : "no");
	free(l1);
	free(l2);
out:
	fx_free(&f);
}
