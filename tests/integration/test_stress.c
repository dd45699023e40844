/* SPDX-License-Identifier: Apache-2.0 */
/* Stress: an exec storm and a Wait storm against one running container.
 *
 * exec storm: N (default 500) short execs `/bin/sh -c '... exit i%256'` driven by W worker
 * threads (default 8) over K connections (default 4), in batches (default 16 per worker):
 * Exec, Wait sent (in flight), Start, Wait reply == i%256, DeleteProcess. Every 10th exec has
 * stdout+stderr FIFOs (every 20th also a stdin FIFO) and its output is checked. Afterwards:
 * exactly one /tasks/exit publication per exec with the right status, pid and exited_at
 * (= Wait's), no zombies or stray children under the shim, the shim's fd count back to its
 * baseline; thread counts are reported.
 *
 * wait storm: 500 Waits on the init (half on one connection, half spread over the others)
 * all in flight, then one Kill(SIGKILL) must release every one of them with 137 and the same
 * exited_at; one /tasks/exit for the init.
 *
 * idle (cshim): the worker pool drains back to the loop, reaper and call_rcu threads, all on
 * small stacks.
 *
 * cshim always; then the Go shim with a reduced exec storm (CSHIM_STRESS_GO_N execs, default
 * 50) unless CSHIM_STRESS_GO=0: from ~100 concurrent execs on, the Go shim intermittently
 * stalls for tens of seconds (500 execs took 151 s to > 380 s), far beyond the 90 s budget.
 * Environment: CSHIM, GOSHIM, CSHIM_STRESS_N, CSHIM_STRESS_WORKERS, CSHIM_STRESS_CONNS,
 * CSHIM_STRESS_BATCH, CSHIM_STRESS_WAITS, CSHIM_STRESS_GO, CSHIM_STRESS_GO_N,
 * CSHIM_STRESS_FIFO_EVERY (default 10; 0: no FIFO stdio), CSHIM_IT_KEEP, CSHIM_IT_DEBUG,
 * CSHIM_IT_TIMEOUT (watchdog seconds, default 170). */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "tests/integration/itutil.h"

#define MAX_ERRS 24

static int g_n = 500, g_workers = 8, g_conns = 4, g_batch = 16, g_waits = 500;
static int g_fifo_every = 10; /* every k-th exec has FIFO stdio (0: none) */
static long g_t_start;
static long g_c_total_ms = -1; /* cshim part, for the summary */
static int CALL_MS = 30000;    /* per call; the Go shim gets more (it is much slower) */

struct item {
	int idx;
	char id[16];
	uint32_t want;
	bool fifo, in;
	char out_path[PATH_MAX], err_path[PATH_MAX], in_path[PATH_MAX];
	int out_fd, err_fd;
	uint32_t wait_stream;
	uint32_t pid;
	int64_t w_secs;
	int32_t w_nanos;
	long t_exec, t_done; /* ms */
	bool ok;
};

struct storm {
	struct it_fx f;
	struct shimclient **conns;
	struct item *items;
	atomic_int next_batch;
	pthread_mutex_t mu;
	char *errs[MAX_ERRS];
	int nerr;
	atomic_int fail_exec, fail_start, fail_wait, fail_status, fail_output, fail_delete;
	atomic_bool stop_monitor;
	int peak_threads, peak_fds;
	char *json_cache;
};

static struct storm *volatile g_cur;

__attribute__((format(printf, 2, 3))) static void serr(struct storm *s, const char *fmt, ...)
{
	va_list ap;
	char *m = NULL;
	va_start(ap, fmt);
	if (vasprintf(&m, fmt, ap) < 0)
		m = NULL;
	va_end(ap);
	pthread_mutex_lock(&s->mu);
	if (s->nerr < MAX_ERRS && m) {
		s->errs[s->nerr++] = m;
		m = NULL;
	} else if (s->nerr < MAX_ERRS + 1) {
		s->nerr++;
	}
	pthread_mutex_unlock(&s->mu);
	free(m);
}

static void storm_free(struct storm *s)
{
	if (!s)
		return;
	g_cur = NULL;
	it_watch(NULL);
	for (int i = 0; s->conns && i < g_conns; i++)
		if (s->conns[i])
			shimclient_shutdown(s->conns[i]);
	it_fx_free(&s->f); /* closes conns[0] (= s->f.c) */
	for (int i = 1; s->conns && i < g_conns; i++)
		shimclient_close(s->conns[i]);
	free(s->conns);
	for (int i = 0; s->items && i < g_n; i++) {
		if (s->items[i].out_fd >= 0)
			close(s->items[i].out_fd);
		if (s->items[i].err_fd >= 0)
			close(s->items[i].err_fd);
	}
	free(s->items);
	for (int i = 0; i < s->nerr && i < MAX_ERRS; i++)
		free(s->errs[i]);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

static int env_int(const char *name, int def)
{
	const char *v = getenv(name);
	int k = v ? atoi(v) : 0;
	return k > 0 ? k : def;
}

static char *item_json(const struct item *it)
{
	char script[128];
	if (it->fifo)
		snprintf(script, sizeof(script), "echo out%d; echo err%d >&2; exit %u", it->idx,
			 it->idx, it->want);
	else
		snprintf(script, sizeof(script), "exit %u", it->want);
	const char *argv[] = { "/bin/sh", "-c", script, NULL };
	return it_process_json(argv);
}

static int mkfifo_at(const char *path)
{
	return mkfifo(path, 0700) < 0 && errno != EEXIST ? -errno : 0;
}

static int send_wait(struct shimclient *c, const char *id, uint32_t *stream)
{
	WaitReq w = CONTAINERD__RUNTIME__LINUX__SHIM__V1__WAIT_REQUEST__INIT;
	uint8_t pl[128], *frame = NULL;
	size_t flen = 0, pn;
	int rc;

	w.id = (char *)id;
	pn = protobuf_c_message_pack(&w.base, pl);
	*stream = shimclient_next_stream(c);
	rc = ttrpc_request_frame(*stream, SHIM_SERVICE, "Wait", pl, pn, 0, &frame, &flen);
	if (rc < 0)
		return rc;
	rc = shimclient_send_raw(c, frame, flen);
	free(frame);
	return rc;
}

/* Receives the reply of a Wait sent with send_wait: code (or -errno), status, exited_at. */
static int recv_wait(struct shimclient *c, uint32_t stream, int timeout_ms, uint32_t *status,
		     int64_t *secs, int32_t *nanos, char **msg)
{
	struct ttrpc_hdr h;
	uint8_t *body = NULL;
	struct shimclient_reply rep;
	int rc = shimclient_recv_frame(c, stream, timeout_ms, &h, &body);

	*msg = NULL;
	if (rc < 0)
		return rc;
	rc = shimclient_decode_reply(&h, body, &rep);
	free(body);
	if (rc < 0)
		return rc;
	rc = rep.code;
	*msg = rep.msg;
	rep.msg = NULL;
	if (rc == 0) {
		WaitResp *w = containerd__runtime__linux__shim__v1__wait_response__unpack(
			NULL, rep.plen, rep.payload);
		if (!w) {
			rc = -EBADMSG;
		} else {
			*status = w->exit_status;
			*secs = w->exited_at ? w->exited_at->seconds : 0;
			*nanos = w->exited_at ? w->exited_at->nanos : 0;
			IT_FREE(w);
		}
	}
	shimclient_reply_free(&rep);
	return rc;
}

/* One batch of items on one connection. */
static void run_batch(struct storm *s, struct shimclient *c, int lo, int hi)
{
	char *msg = NULL;
	int code;

	for (int i = lo; i < hi; i++) {
		struct item *it = &s->items[i];
		char *json = item_json(it);
		it->t_exec = it_now_ms();
		if (it->fifo) {
			if (mkfifo_at(it->out_path) < 0 || mkfifo_at(it->err_path) < 0 ||
			    (it->in && mkfifo_at(it->in_path) < 0)) {
				serr(s, "%s: mkfifo: %s", it->id, strerror(errno));
				free(json);
				continue;
			}
			it->out_fd = open(it->out_path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
			it->err_fd = open(it->err_path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		}
		code = it_exec(c, it->id, json, it->in ? it->in_path : NULL,
			       it->fifo ? it->out_path : NULL, it->fifo ? it->err_path : NULL, &msg,
			       CALL_MS);
		free(json);
		if (code != 0) {
			atomic_fetch_add(&s->fail_exec, 1);
			serr(s, "%s: Exec -> %d \"%s\"", it->id, code, msg ? msg : strerror(-code));
			free(msg);
			msg = NULL;
			continue;
		}
		free(msg);
		msg = NULL;
		if (send_wait(c, it->id, &it->wait_stream) < 0) {
			atomic_fetch_add(&s->fail_wait, 1);
			serr(s, "%s: sending Wait failed", it->id);
			it->wait_stream = 0;
		}
	}
	for (int i = lo; i < hi; i++) {
		struct item *it = &s->items[i];
		if (!it->wait_stream)
			continue;
		code = it_start(c, it->id, &it->pid, &msg, CALL_MS);
		if (code != 0) {
			atomic_fetch_add(&s->fail_start, 1);
			serr(s, "%s: Start -> %d \"%s\"", it->id, code,
			     msg ? msg : strerror(-code));
		}
		free(msg);
		msg = NULL;
	}
	for (int i = lo; i < hi; i++) {
		struct item *it = &s->items[i];
		uint32_t st = 0;
		if (!it->wait_stream)
			continue;
		code = recv_wait(c, it->wait_stream, CALL_MS, &st, &it->w_secs, &it->w_nanos, &msg);
		it->t_done = it_now_ms();
		if (code != 0) {
			atomic_fetch_add(&s->fail_wait, 1);
			serr(s, "%s: Wait -> %d \"%s\"", it->id, code, msg ? msg : strerror(-code));
			free(msg);
			msg = NULL;
			continue;
		}
		free(msg);
		msg = NULL;
		if (st != it->want || it->w_secs <= 0) {
			atomic_fetch_add(&s->fail_status, 1);
			serr(s, "%s: Wait status %u (want %u), exited_at %" PRId64, it->id, st,
			     it->want, it->w_secs);
			continue;
		}
		it->ok = true;
	}
	for (int i = lo; i < hi; i++) {
		struct item *it = &s->items[i];
		if (!it->fifo || it->out_fd < 0)
			continue;
		char *o = fifo_read_all(it->out_fd, 5000), *e = fifo_read_all(it->err_fd, 5000);
		char wo[32], we[32];
		snprintf(wo, sizeof(wo), "out%d\n", it->idx);
		snprintf(we, sizeof(we), "err%d\n", it->idx);
		if (!o || !e || strcmp(o, wo) != 0 || strcmp(e, we) != 0) {
			atomic_fetch_add(&s->fail_output, 1);
			serr(s, "%s: FIFO output stdout=\"%s\" stderr=\"%s\"", it->id, o ? o : "?",
			     e ? e : "?");
			it->ok = false;
		}
		free(o);
		free(e);
	}
	for (int i = lo; i < hi; i++) {
		struct item *it = &s->items[i];
		DeleteProcReq req =
			CONTAINERD__RUNTIME__LINUX__SHIM__V1__DELETE_PROCESS_REQUEST__INIT;
		DeleteResp *d = NULL;
		if (!it->wait_stream)
			continue;
		req.id = it->id;
		code = it_call(c, "DeleteProcess", &req, D_DELETE_RESP, &d, &msg, CALL_MS);
		if (code != 0 || !d || d->exit_status != it->want || d->pid != it->pid) {
			atomic_fetch_add(&s->fail_delete, 1);
			serr(s, "%s: DeleteProcess -> %d \"%s\" exit %u pid %u (want %u, %u)",
			     it->id, code, msg ? msg : (code < 0 ? strerror(-code) : ""),
			     d ? d->exit_status : 0, d ? d->pid : 0, it->want, it->pid);
			it->ok = false;
		}
		IT_FREE(d);
		free(msg);
		msg = NULL;
	}
}

struct worker_arg {
	struct storm *s;
	int w;
};

static void *worker_main(void *arg)
{
	struct worker_arg *wa = arg;
	struct storm *s = wa->s;
	struct shimclient *c = s->conns[wa->w % g_conns];
	for (;;) {
		int b = atomic_fetch_add(&s->next_batch, 1);
		int lo = b * g_batch, hi = lo + g_batch;
		if (lo >= g_n)
			break;
		if (hi > g_n)
			hi = g_n;
		run_batch(s, c, lo, hi);
	}
	return NULL;
}

static void *monitor_main(void *arg)
{
	struct storm *s = arg;
	while (!atomic_load(&s->stop_monitor)) {
		int t = it_proc_threads(s->f.si.pid), f = it_proc_fds(s->f.si.pid);
		if (t > s->peak_threads)
			s->peak_threads = t;
		if (f > s->peak_fds)
			s->peak_fds = f;
		usleep(50000);
	}
	return NULL;
}

static void one_exec(struct storm *s, const char *id, const char *script, uint32_t want, bool fifo)
{
	struct shimclient *c = s->f.c;
	const char *argv[] = { "/bin/sh", "-c", script, NULL };
	char *json = it_process_json(argv), *msg = NULL;
	char out[PATH_MAX], err[PATH_MAX];
	int ofd = -1, efd = -1;
	uint32_t st = 0;

	if (fifo) {
		it_snprintf(out, sizeof(out), "%s/fifo/%s-out", s->f.si.dir, id);
		it_snprintf(err, sizeof(err), "%s/fifo/%s-err", s->f.si.dir, id);
		assert_int_equal(mkfifo_at(out), 0);
		assert_int_equal(mkfifo_at(err), 0);
		ofd = open(out, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		efd = open(err, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	}
	int code = it_exec(c, id, json, NULL, fifo ? out : NULL, fifo ? err : NULL, &msg, CALL_MS);
	free(json);
	if (code != 0)
		fail_msg("[%s] warm-up Exec(%s) -> %d %s", s->f.label, id, code, msg ? msg : "");
	free(msg);
	code = it_start(c, id, NULL, &msg, CALL_MS);
	if (code != 0)
		fail_msg("[%s] warm-up Start(%s) -> %d %s", s->f.label, id, code, msg ? msg : "");
	free(msg);
	code = it_wait(c, id, &st, &msg, CALL_MS);
	free(msg);
	if (code != 0 || st != want)
		fail_msg("[%s] warm-up Wait(%s) -> %d status %u", s->f.label, id, code, st);
	if (fifo) {
		free(fifo_read_all(ofd, 5000));
		free(fifo_read_all(efd, 5000));
		close(ofd);
		close(efd);
	}
	code = it_delete_process(c, id, &msg, CALL_MS);
	free(msg);
	if (code != 0)
		fail_msg("[%s] warm-up DeleteProcess(%s) -> %d", s->f.label, id, code);
}

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;
	return x < y ? -1 : x > y;
}

/* After the storms (cshim only): the worker pool drains once idle (10 s in server/main.c),
 * leaving the loop (main) thread, shim-reaper and shim-rcu; every thread but the main one on
 * a small stack (server/worker_pool.c: 256 KiB, not glibc's 8 MiB), found as the mapping
 * that holds the stack pointer of the thread, blocked in a system call. Returns 0 or -1 with
 * the reason in desc. */
#define IDLE_THREADS_MS 20000
#define SMALL_STACK_KB 256

static long stack_mapping_kb(pid_t pid, unsigned long sp)
{
	char path[64], line[512];
	long kb = -1;
	FILE *f;

	it_snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	if (!(f = fopen(path, "re")))
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && sp >= lo && sp < hi) {
			kb = (long)((hi - lo) / 1024);
			break;
		}
	}
	fclose(f);
	return kb;
}

static int idle_threads_check(pid_t pid, char *desc, size_t dn)
{
	static const char *const names[] = { "shim-reaper", "shim-rcu" };
	long deadline = it_now_ms() + IDLE_THREADS_MS;
	/* A ThreadSanitizer build of the shim (make tsan sets TSAN_OPTIONS) has TSan's own
	 * background thread as well, and glibc's default stacks (server/worker_pool.c). */
	bool tsan = getenv("TSAN_OPTIONS") != NULL;
	int n, nwant = tsan ? 4 : 3;
	char path[96], buf[256];

	while ((n = it_proc_threads(pid)) > nwant && it_now_ms() < deadline)
		usleep(200000);
	if (n != nwant) {
		it_snprintf(desc, dn, "%d threads %d s after the storms (want %d)", n,
			    IDLE_THREADS_MS / 1000, nwant);
		return -1;
	}
	for (size_t w = 0; w < sizeof(names) / sizeof(names[0]); w++) {
		bool found = false;
		DIR *d;
		struct dirent *de;
		it_snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
		if (!(d = opendir(path)))
			return -1;
		while ((de = readdir(d)) && !found) {
			int tid = atoi(de->d_name);
			unsigned long sp = 0;
			long kb;
			FILE *f;
			if (tid <= 0 || tid == pid)
				continue;
			it_snprintf(path, sizeof(path), "/proc/%d/task/%d/comm", (int)pid, tid);
			if (!(f = fopen(path, "re")))
				continue;
			buf[0] = '\0';
			if (!fgets(buf, sizeof(buf), f))
				buf[0] = '\0';
			fclose(f);
			buf[strcspn(buf, "\n")] = '\0';
			if (strcmp(buf, names[w]) != 0)
				continue;
			found = true;
			/* "nr a1 .. a6 sp pc" while blocked in a system call */
			it_snprintf(path, sizeof(path), "/proc/%d/task/%d/syscall", (int)pid, tid);
			if (!(f = fopen(path, "re")))
				continue;
			if (fgets(buf, sizeof(buf), f)) {
				char *tok[9];
				int k = 0;
				for (char *save = NULL, *t = strtok_r(buf, " \n", &save);
				     t && k < 9; t = strtok_r(NULL, " \n", &save))
					tok[k++] = t;
				if (k == 9)
					sp = strtoul(tok[7], NULL, 16);
			}
			fclose(f);
			kb = sp ? stack_mapping_kb(pid, sp) : -1;
			if (kb < 0 || (kb > SMALL_STACK_KB && !tsan)) {
				closedir(d);
				it_snprintf(desc, dn,
					    "thread %s: stack mapping %ld KiB (want <= %d)",
					    names[w], kb, SMALL_STACK_KB);
				return -1;
			}
		}
		closedir(d);
		if (!found) {
			it_snprintf(desc, dn, "no thread named %s", names[w]);
			return -1;
		}
	}
	return 0;
}

/* The whole scenario for one shim. */
static void stress(bool is_c)
{
	struct storm *s = calloc(1, sizeof(*s));
	const char *const argv[] = { "/bin/sleep", "1000", NULL };
	const char *e;
	char *msg = NULL, desc[2048], d2[PATH_MAX];
	int code, base_fds, base_thr, nchild = 0, nz = 0, fds_now = 0, nev;
	long t0, t_storm, t_events, t_kill;
	pthread_t *thr, mon;
	struct worker_arg *wa;
	struct it_exit_ev *ev = NULL;
	bool failed = false;
	uint32_t shim_pid;

	assert_non_null(s);
	pthread_mutex_init(&s->mu, NULL);
	g_cur = s;
	it_watch(&s->f);
	e = it_fx_launch(&s->f, is_c, is_c ? "c-stress" : "go-stress", argv);
	if (e)
		fail_msg("[%s] launch: %s", is_c ? "cshim" : "go", e);
	shim_pid = (uint32_t)s->f.si.pid;
	code = it_create(&s->f, &msg);
	if (code != 0)
		fail_msg("[%s] Create -> %d %s", s->f.label, code, msg ? msg : "");
	free(msg);
	code = it_start(s->f.c, s->f.si.id, NULL, &msg, CALL_MS);
	if (code != 0)
		fail_msg("[%s] Start -> %d %s", s->f.label, code, msg ? msg : "");
	free(msg);
	it_snprintf(d2, sizeof(d2), "%s/fifo", s->f.si.dir);
	mkdir(d2, 0700);

	s->conns = calloc((size_t)g_conns, sizeof(*s->conns));
	assert_non_null(s->conns);
	s->conns[0] = s->f.c;
	for (int i = 1; i < g_conns; i++) {
		s->conns[i] = shimclient_connect(s->f.si.sock, 5000);
		assert_non_null(s->conns[i]);
	}
	/* items */
	s->items = calloc((size_t)g_n, sizeof(*s->items));
	assert_non_null(s->items);
	for (int i = 0; i < g_n; i++) {
		struct item *it = &s->items[i];
		it->idx = i;
		snprintf(it->id, sizeof(it->id), "s%03d", i);
		it->want = (uint32_t)(i % 256);
		it->fifo = g_fifo_every > 0 && i % g_fifo_every == 3 % g_fifo_every;
		it->in = it->fifo && (i / g_fifo_every) % 2 == 0;
		it->out_fd = it->err_fd = -1;
		it_snprintf(it->out_path, sizeof(it->out_path), "%s/%s-out", d2, it->id);
		it_snprintf(it->err_path, sizeof(it->err_path), "%s/%s-err", d2, it->id);
		it_snprintf(it->in_path, sizeof(it->in_path), "%s/%s-in", d2, it->id);
	}

	/* warm-up (lazy structures), then the baseline */
	one_exec(s, "warm1", "exit 1", 1, false);
	one_exec(s, "warm2", "echo a; echo b >&2; exit 2", 2, true);
	if (pub_events_wait(&s->f.si, 2, 10000) != 2)
		fail_msg("[%s] warm-up: expected 2 exit events", s->f.label);
	usleep(300000);
	if (!it_settle_children(s->f.si.pid, 1, 3000, desc, sizeof(desc), &nchild, &nz))
		fail_msg("[%s] before the storm: children of the shim: %s", s->f.label, desc);
	base_fds = it_proc_fds(s->f.si.pid);
	base_thr = it_proc_threads(s->f.si.pid);
	s->peak_fds = base_fds;
	s->peak_threads = base_thr;

	/* ---- exec storm ---- */
	assert_int_equal(pthread_create(&mon, NULL, monitor_main, s), 0);
	thr = calloc((size_t)g_workers, sizeof(*thr));
	wa = calloc((size_t)g_workers, sizeof(*wa));
	assert_non_null(thr);
	assert_non_null(wa);
	t0 = it_now_ms();
	for (int w = 0; w < g_workers; w++) {
		wa[w].s = s;
		wa[w].w = w;
		assert_int_equal(pthread_create(&thr[w], NULL, worker_main, &wa[w]), 0);
	}
	for (int w = 0; w < g_workers; w++)
		pthread_join(thr[w], NULL);
	t_storm = it_now_ms() - t0;
	free(thr);
	free(wa);

	if (!shim_alive(&s->f.si)) {
		serr(s, "the shim died during the storm: %s", it_death(&s->f.si));
		atomic_store(&s->stop_monitor, true);
		pthread_join(mon, NULL);
		for (int i = 0; i < s->nerr && i < MAX_ERRS; i++)
			print_error("[%s] %s\n", s->f.label, s->errs[i]);
		it_dump_tail("shim fd 1/2", s->f.si.shimlog, 3000);
		fail_msg("[%s] the shim died during the exec storm", s->f.label);
	}
	/* events: 2 warm-up + one per exec */
	t0 = it_now_ms();
	nev = pub_events_wait(&s->f.si, g_n + 2, 60000);
	t_events = it_now_ms() - t0;
	usleep(300000);
	atomic_store(&s->stop_monitor, true);
	pthread_join(mon, NULL);
	nev = it_exit_events(&s->f.si, &ev);
	{
		int *seen = calloc((size_t)g_n, sizeof(int));
		int bad_ev = 0, missing = 0, dup = 0, foreign = 0, mism = 0;
		assert_non_null(seen);
		for (int k = 0; k < nev; k++) {
			int idx;
			if (!ev[k].ok || strcmp(ev[k].container_id, s->f.si.id) != 0) {
				bad_ev++;
				if (bad_ev < 4)
					serr(s,
					     "event %d: bad record (argv/type/container_id \"%s\")",
					     k, ev[k].container_id);
				continue;
			}
			if (strncmp(ev[k].id, "warm", 4) == 0)
				continue;
			if (ev[k].id[0] != 's' || sscanf(ev[k].id + 1, "%d", &idx) != 1 ||
			    idx < 0 || idx >= g_n) {
				foreign++;
				serr(s, "event %d: unexpected id \"%s\"", k, ev[k].id);
				continue;
			}
			seen[idx]++;
			struct item *it = &s->items[idx];
			if (ev[k].exit_status != it->want || ev[k].pid != it->pid ||
			    (it->ok && (ev[k].secs != it->w_secs || ev[k].nanos != it->w_nanos))) {
				mism++;
				if (mism < 6)
					serr(s,
					     "%s: TaskExit status %u pid %u at %" PRId64
					     ".%09d; want %u "
					     "pid %u at %" PRId64 ".%09d",
					     it->id, ev[k].exit_status, ev[k].pid, ev[k].secs,
					     ev[k].nanos, it->want, it->pid, it->w_secs,
					     it->w_nanos);
			}
		}
		for (int i = 0; i < g_n; i++) {
			if (seen[i] == 0) {
				missing++;
				if (missing < 6)
					serr(s, "%s: no /tasks/exit event", s->items[i].id);
			} else if (seen[i] > 1) {
				dup++;
				if (dup < 6)
					serr(s, "%s: %d /tasks/exit events", s->items[i].id,
					     seen[i]);
			}
		}
		free(seen);
		free(ev);
		ev = NULL;
		if (bad_ev || missing || dup || foreign || mism)
			failed = true;
		print_message("[%s] events: %d recorded (want %d): missing %d, duplicated %d, "
			      "wrong status/pid/time %d, foreign %d, malformed %d\n",
			      s->f.label, nev, g_n + 2, missing, dup, mism, foreign, bad_ev);
	}

	/* latency stats */
	{
		long *lat = calloc((size_t)g_n, sizeof(long));
		int k = 0, okn = 0;
		assert_non_null(lat);
		for (int i = 0; i < g_n; i++) {
			if (s->items[i].ok)
				okn++;
			if (s->items[i].t_done > 0)
				lat[k++] = s->items[i].t_done - s->items[i].t_exec;
		}
		qsort(lat, (size_t)k, sizeof(long), cmp_long);
		print_message(
			"[%s] exec storm: %d execs (%d ok) by %d workers on %d connections in "
			"%ld ms (%.0f execs/s); per-exec Exec->Wait-reply (batched) p50 %ld ms, p99 %ld ms, max "
			"%ld ms; events drained %ld ms after the last exec\n",
			s->f.label, g_n, okn, g_workers, g_conns, t_storm,
			t_storm ? g_n * 1000.0 / (double)t_storm : 0.0, k ? lat[k / 2] : 0,
			k ? lat[(k * 99) / 100] : 0, k ? lat[k - 1] : 0, t_events);
		free(lat);
		if (okn != g_n)
			failed = true;
	}
	print_message("[%s] failures: exec %d start %d wait %d status %d output %d delete %d\n",
		      s->f.label, atomic_load(&s->fail_exec), atomic_load(&s->fail_start),
		      atomic_load(&s->fail_wait), atomic_load(&s->fail_status),
		      atomic_load(&s->fail_output), atomic_load(&s->fail_delete));

	/* zombies / stray children, fds, threads */
	if (!it_settle_children(s->f.si.pid, 1, 5000, desc, sizeof(desc), &nchild, &nz)) {
		failed = true;
		serr(s,
		     "after the storm: %d children of the shim (want 1: the init), %d zombies: %s",
		     nchild, nz, desc);
	}
	if (!it_settle_fds(s->f.si.pid, base_fds, 5000, &fds_now)) {
		failed = true;
		serr(s, "after the storm: shim has %d fds, baseline %d", fds_now, base_fds);
		it_fd_listing(s->f.si.pid);
	}
	print_message(
		"[%s] shim pid %u: fds baseline %d peak %d after %d; threads baseline %d peak "
		"%d after %d; children after %d (zombies %d)\n",
		s->f.label, shim_pid, base_fds, s->peak_fds, fds_now, base_thr, s->peak_threads,
		it_proc_threads(s->f.si.pid), nchild, nz);

	/* ---- wait storm on the init ---- */
	{
		uint32_t *streams = calloc((size_t)g_waits, sizeof(uint32_t));
		int *conn_of = calloc((size_t)g_waits, sizeof(int));
		int released = 0, badw = 0, early = 0;
		int64_t secs0 = 0;
		int32_t nanos0 = 0;
		bool first = true;
		int stale = 0;
		assert_non_null(streams);
		for (int k = 0; k < g_conns; k++) /* late replies of timed-out calls, if any */
			stale += (int)shimclient_pending_frames(s->conns[k]);
		assert_non_null(conn_of);
		for (int i = 0; i < g_waits; i++) {
			/* first half on connection 0, the rest spread over all connections */
			conn_of[i] = i < g_waits / 2 ? 0 : i % g_conns;
			if (send_wait(s->conns[conn_of[i]], s->f.si.id, &streams[i]) < 0)
				fail_msg("[%s] sending Wait %d failed", s->f.label, i);
		}
		usleep(300000);
		for (int k = 0; k < g_conns; k++)
			early += (int)shimclient_pending_frames(s->conns[k]);
		early -= stale;
		if (early) {
			failed = true;
			serr(s, "%d init Waits returned before the Kill", early);
		}
		t0 = it_now_ms();
		code = it_kill(s->f.c, s->f.si.id, 9, false, &msg, CALL_MS);
		if (code != 0)
			fail_msg("[%s] Kill(init, 9) -> %d %s", s->f.label, code, msg ? msg : "");
		free(msg);
		msg = NULL;
		for (int i = 0; i < g_waits; i++) {
			uint32_t st = 0;
			int64_t sec = 0;
			int32_t ns = 0;
			code = recv_wait(s->conns[conn_of[i]], streams[i], 15000, &st, &sec, &ns,
					 &msg);
			free(msg);
			msg = NULL;
			if (code != 0 || st != 137) {
				badw++;
				if (badw < 6)
					serr(s, "init Wait %d (conn %d): code %d status %u", i,
					     conn_of[i], code, st);
				continue;
			}
			if (first) {
				secs0 = sec;
				nanos0 = ns;
				first = false;
			} else if (sec != secs0 || ns != nanos0) {
				badw++;
				if (badw < 6)
					serr(s,
					     "init Wait %d: exited_at differs from the first one",
					     i);
				continue;
			}
			released++;
		}
		t_kill = it_now_ms() - t0;
		print_message(
			"[%s] wait storm: %d/%d init Waits (%d on one connection, %d spread over "
			"%d) released with 137 by one Kill in %ld ms\n",
			s->f.label, released, g_waits, g_waits / 2, g_waits - g_waits / 2, g_conns,
			t_kill);
		if (released != g_waits)
			failed = true;
		free(streams);
		free(conn_of);
		/* the init's exit event */
		pub_events_wait(&s->f.si, g_n + 3, 10000);
		usleep(200000);
		nev = it_exit_events(&s->f.si, &ev);
		int init_ev = 0;
		for (int k = 0; k < nev; k++)
			if (strcmp(ev[k].id, s->f.si.id) == 0) {
				init_ev++;
				if (ev[k].exit_status != 137 || ev[k].secs != secs0 ||
				    ev[k].nanos != nanos0) {
					failed = true;
					serr(s,
					     "init TaskExit status %u (want 137) or exited_at differs",
					     ev[k].exit_status);
				}
			}
		free(ev);
		ev = NULL;
		if (init_ev != 1) {
			failed = true;
			serr(s, "%d /tasks/exit events for the init (want 1)", init_ev);
		}
		{
			DeleteResp *d = NULL;
			Google__Protobuf__Empty em = GOOGLE__PROTOBUF__EMPTY__INIT;
			code = it_call(s->f.c, "Delete", &em, D_DELETE_RESP, &d, &msg, CALL_MS);
			if (code != 0 || !d || d->exit_status != 137) {
				failed = true;
				serr(s, "Delete -> %d \"%s\" exit %u", code, msg ? msg : "",
				     d ? d->exit_status : 0);
			}
			IT_FREE(d);
			free(msg);
			msg = NULL;
		}
		if (!it_settle_children(s->f.si.pid, 0, 5000, desc, sizeof(desc), &nchild, &nz)) {
			failed = true;
			serr(s, "after Delete: %d children of the shim (zombies %d): %s", nchild,
			     nz, desc);
		}
	}
	if (is_c && shim_alive(&s->f.si)) {
		long t_idle = it_now_ms();
		if (idle_threads_check(s->f.si.pid, desc, sizeof(desc)) < 0) {
			failed = true;
			serr(s, "idle threads: %s", desc);
		} else {
			bool tsan = getenv("TSAN_OPTIONS") != NULL;
			print_message("[%s] idle after %ld ms: %d threads (main, shim-reaper, "
				      "shim-rcu%s)%s\n",
				      s->f.label, it_now_ms() - t_idle,
				      it_proc_threads(s->f.si.pid), tsan ? ", TSan's" : "",
				      tsan ? "" : ", stacks <= 256 KiB");
		}
	}
	if (!shim_alive(&s->f.si)) {
		failed = true;
		serr(s, "the shim died: %s", it_death(&s->f.si));
	}
	print_message("[%s] total %ld ms\n", s->f.label, it_now_ms() - g_t_start);
	if (failed || s->nerr) {
		for (int i = 0; i < s->nerr && i < MAX_ERRS; i++)
			print_error("[%s] %s\n", s->f.label, s->errs[i]);
		if (s->nerr > MAX_ERRS)
			print_error("[%s] ... more errors\n", s->f.label);
		it_dump_tail("shim fd 1/2", s->f.si.shimlog, 3000);
		it_dump_tail("shim log FIFO", s->f.si.fifolog, 3000);
		storm_free(s);
		fail_msg("stress on %s failed", is_c ? "cshim" : "the Go shim");
	}
	storm_free(s);
}

static void test_stress_c(void **state)
{
	(void)state;
	long t0 = it_now_ms();
	stress(true);
	g_c_total_ms = it_now_ms() - t0;
}

/* The reduced storm against the Go shim, after cshim's (test_stress_c's teardown): a reference
 * observation, never a pass. */
static int reference_stress_go(void **state)
{
	(void)state;
	const char *g = getenv("CSHIM_STRESS_GO");
	long elapsed = it_now_ms() - g_t_start;
	if (g && strcmp(g, "0") == 0) {
		print_message("[ REFERENCE ] Go shim run disabled (CSHIM_STRESS_GO=0)\n");
		return 0;
	}
	/* The Go shim needs 150 s to > 380 s for 500 execs here (it stalls for tens of seconds
	 * at a time), far beyond the 90 s budget: by default it runs a reduced storm
	 * (CSHIM_STRESS_GO_N, default 50 execs; the Wait storm is full). */
	int go_n = env_int("CSHIM_STRESS_GO_N", 50);
	if (go_n > 1000)
		go_n = 1000;
	if (elapsed > 80000 && !(g && strcmp(g, "1") == 0)) {
		print_message(
			"[ REFERENCE ] Go shim run not made: %ld ms already used (budget 90 s)\n",
			elapsed);
		return 0;
	}
	print_message("Go shim: %d execs (CSHIM_STRESS_GO_N; cshim ran %d in %ld ms), %d Waits\n",
		      go_n, g_n, g_c_total_ms, g_waits);
	g_n = go_n;
	CALL_MS = 150000;
	long t0 = it_now_ms();
	stress(false);
	print_message("[ REFERENCE ] Go shim stress observed: %ld ms\n", it_now_ms() - t0);
	return 0;
}

/* --- cleanup (the watchdog: itutil.h) --- */

static int teardown_storm(void **state)
{
	(void)state;
	if (g_cur)
		storm_free(g_cur);
	return 0;
}

static int teardown_then_reference(void **state)
{
	teardown_storm(state);
	reference_stress_go(state);
	return teardown_storm(state);
}

static int group_setup(void **state)
{
	(void)state;
	if (geteuid() != 0) {
		print_error("integration tests need root (runc, cgroups)\n");
		return -1;
	}
	if (!it_root())
		return -1;
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	usleep(200000);
	int left = it_leftover_check();
	it_root_remove();
	return left ? -1 : 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_stress_c, teardown_then_reference),
	};
	struct rlimit rl;

	g_t_start = it_now_ms();
	g_n = env_int("CSHIM_STRESS_N", g_n);
	g_workers = env_int("CSHIM_STRESS_WORKERS", g_workers);
	g_conns = env_int("CSHIM_STRESS_CONNS", g_conns);
	g_batch = env_int("CSHIM_STRESS_BATCH", g_batch);
	g_waits = env_int("CSHIM_STRESS_WAITS", g_waits);
	if (getenv("CSHIM_STRESS_FIFO_EVERY"))
		g_fifo_every = atoi(getenv("CSHIM_STRESS_FIFO_EVERY"));
	if (g_n > 1000)
		g_n = 1000; /* ids are s000..s999 */
	/* FIFO read ends of in-flight execs */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	it_require_cshim("test_stress", it_c_shim());
	it_watchdog_start("test_stress", 170);
	return cmocka_run_group_tests_name("cshim_stress", tests, group_setup, group_teardown);
}
