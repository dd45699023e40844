/* SPDX-License-Identifier: Apache-2.0 */
/* Hardening items 3-5 (reliability guide §0 #2 #6 #7 #10, §1.2-1.5, §2.3-2.4; spec §2, §3,
 * §5, §6): protocol abuse over the real socket, peer credentials and fd/signal hygiene of every
 * process the shim spawns, and runtime/IO faults. Every case runs against cshim (CSHIM,
 * default build/bin/cshim) and then against the Go reference shim (GOSHIM, default
 * /usr/bin/containerd-shim). A failed check fails the test only for cshim; for the Go shim
 * it is printed as "[ GO-DIFF ]" and listed in the summary, since the Go shim is the
 * reference, not the subject. A summary table of every observation is printed at the end.
 *
 * Cases (cmocka test names are <case>_c and <case>_go):
 *   oversize      4 MiB + 1 frame -> RESOURCE_EXHAUSTED, same connection still works; exactly
 *                 4 MiB accepted; a 4 GiB length then the client vanishes (no allocation).
 *   vanish        truncated header / body / oversize body, then the client vanishes; requests
 *                 whose client vanished (ShimInfo, ShimInfo with an unread response, Wait,
 *                 ListPids): fd count back to baseline, thread count bounded, still serving.
 *   streams       even stream ids (INVALID_ARGUMENT on that id), reused and decreasing ids.
 *   garbage       random bytes, random bodies behind valid headers (per-frame codes compared
 *                 between the shims), response/data frame types (ignored), empty request.
 *   idle1000      1000 idle connections: others served < 1 s, each of them then answered,
 *                 all closed afterwards, fd count back to baseline.
 *   bytewise      requests written one byte per write (2 ms apart), coalesced frames.
 *   noreader      a client that never reads: 20000 ShimInfo, then 1 KiB State requests until
 *                 the shim drops it (cshim: outbox > 64 MiB) or pushes back (Go); another
 *                 connection's ShimInfo answered < 1 s meanwhile; shim RSS bounded.
 *   peercred      uid 65534 and gid 65534 clients refused without an answer, uid 0 served.
 *   hygiene       runtime wrapper (wrappers/fdprobe.sh) on every runc call, container init
 *                 and exec process, the event publisher (wrappers/publish-probe.sh): fds 0-2
 *                 only, SigBlk/SigIgn zero, the container's processes on the default
 *                 scheduler slice (cshim's loop thread on the shortest, where the kernel
 *                 has custom slices); the shim's own fds all O_CLOEXEC.
 *   failcreate    runtime whose create fails (wrappers/fail-create.sh): message reaches the
 *                 client, State -> NOT_FOUND, no TaskExit, a following good Create works.
 *   hangstart     runtime whose start hangs (wrappers/hang-start.sh), Start sent with
 *                 timeout_nano = 2 s: error within a few seconds, State/ShimInfo answered
 *                 meanwhile on another connection, the hung runtime is killed.
 *   killcreated   init SIGKILLed right after Create: State STOPPED, Wait 137, one TaskExit.
 *   bgchild       `sh -c 'sleep 300 & echo hi; exit 0'` with a FIFO stdout, as init (own pid
 *                 namespace), as init in the host pid namespace (the sleep survives and holds
 *                 stdout) and as an exec: exit reported < 3 s, Delete(Process) time reported.
 *   noreaderio    the container writes 1 MiB to a stdout FIFO that the test never opens
 *                 (cshim only: the Go shim blocks in Create until a reader appears, bounded
 *                 here by timeout_nano), or opens and closes again: shim alive, RPCs answered.
 *
 * Build (after `make`):
 *   gcc -O2 -g -std=gnu17 -Wall -Wextra -Werror -Wshadow -Wformat=2 -D_GNU_SOURCE -pthread \
 *     -I. -Ibuild/gen $(pkg-config --cflags libprotobuf-c jansson cmocka) \
 *     -o build/tests/test_abuse tests/integration/test_abuse.c tests/integration/shimclient.c \
 *     tests/integration/launch.c build/libcshim.a \
 *     $(pkg-config --libs libprotobuf-c liburcu-memb liburcu-cds jansson cmocka) -pthread
 * Run (as root, from the repository root): build/tests/test_abuse
 * Environment: CSHIM, GOSHIM, CSHIM_ABUSE_GO=0 (skip the Go shim), CSHIM_ABUSE_FILTER=<text>
 * (only cases whose name contains it), CSHIM_IT_WRAPPERS (wrapper dir, default
 * tests/integration/wrappers), CSHIM_IT_TIMEOUT (watchdog seconds, default 170),
 * CSHIM_IT_KEEP, CSHIM_IT_DEBUG (-debug to the shims). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "io/slice.h"
#include "github.com/containerd/containerd/runtime/v1/shim/v1/shim.pb-c.h"
#include "google/protobuf/any.pb-c.h"
#include "google/protobuf/empty.pb-c.h"
#include "proto/ttrpc_codec.h"
#include "proto/ttrpc_frame.h"
#include "tests/integration/launch.h"
#include "tests/integration/shimclient.h"

typedef Containerd__Runtime__Linux__Shim__V1__CreateTaskRequest CreateReq;
typedef Containerd__Runtime__Linux__Shim__V1__CreateTaskResponse CreateResp;
typedef Containerd__Runtime__Linux__Shim__V1__StateRequest StateReq;
typedef Containerd__Runtime__Linux__Shim__V1__StateResponse StateResp;
typedef Containerd__Runtime__Linux__Shim__V1__StartRequest StartReq;
typedef Containerd__Runtime__Linux__Shim__V1__StartResponse StartResp;
typedef Containerd__Runtime__Linux__Shim__V1__DeleteResponse DeleteResp;
typedef Containerd__Runtime__Linux__Shim__V1__DeleteProcessRequest DeleteProcReq;
typedef Containerd__Runtime__Linux__Shim__V1__KillRequest KillReq;
typedef Containerd__Runtime__Linux__Shim__V1__WaitRequest WaitReq;
typedef Containerd__Runtime__Linux__Shim__V1__WaitResponse WaitResp;
typedef Containerd__Runtime__Linux__Shim__V1__ListPidsRequest ListPidsReq;
typedef Containerd__Runtime__Linux__Shim__V1__ListPidsResponse ListPidsResp;
typedef Containerd__Runtime__Linux__Shim__V1__ShimInfoResponse ShimInfoResp;
typedef Containerd__Runtime__Linux__Shim__V1__ExecProcessRequest ExecReq;

#define D_CREATE_RESP (&containerd__runtime__linux__shim__v1__create_task_response__descriptor)
#define D_STATE_RESP (&containerd__runtime__linux__shim__v1__state_response__descriptor)
#define D_START_RESP (&containerd__runtime__linux__shim__v1__start_response__descriptor)
#define D_DELETE_RESP (&containerd__runtime__linux__shim__v1__delete_response__descriptor)
#define D_WAIT_RESP (&containerd__runtime__linux__shim__v1__wait_response__descriptor)
#define D_LISTPIDS_RESP (&containerd__runtime__linux__shim__v1__list_pids_response__descriptor)
#define D_SHIMINFO_RESP (&containerd__runtime__linux__shim__v1__shim_info_response__descriptor)
#define D_EMPTY (&google__protobuf__empty__descriptor)

#define ST_CREATED 1
#define ST_RUNNING 2
#define ST_STOPPED 3

#define OP_MS 10000 /* default bound of one RPC */
#define PROCESS_TYPE_URL "types.containerd.io/opencontainers/runtime-spec/1/Process"

static const char *const ARGV_SLEEP[] = { "/bin/sleep", "1000", NULL };

#define FREE_MSG(m)                                                                         \
	do {                                                                                \
		if (m)                                                                      \
			protobuf_c_message_free_unpacked((ProtobufCMessage *)(m), NULL);    \
		(m) = NULL;                                                                 \
	} while (0)

static bool g_go_ok;
static char g_wrappers[PATH_MAX]; /* copies of tests/integration/wrappers (mode 0755) */
static const char *g_filter;

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

__attribute__((format(printf, 3, 4))) static int xsnprintf(char *out, size_t n, const char *fmt,
							   ...)
{
	va_list ap;
	int k;
	va_start(ap, fmt);
	k = vsnprintf(out, n, fmt, ap);
	va_end(ap);
	return k;
}

/* ======================================================================================
 * Checks and observations
 * ====================================================================================== */

struct row {
	char test[24];
	char shim[8];
	char kind; /* 'o' observation, 'F' cshim failure, 'D' Go difference */
	char text[600];
};
#define MAX_ROWS 400
static struct row g_rows[MAX_ROWS];
static int g_nrows;
static pthread_mutex_t g_rows_mu = PTHREAD_MUTEX_INITIALIZER;

struct tc {
	bool is_c;
	const char *label; /* "cshim" / "go" */
	const char *name;  /* case name */
	int fails;
};

static void add_row(struct tc *t, char kind, const char *text)
{
	pthread_mutex_lock(&g_rows_mu);
	if (g_nrows < MAX_ROWS) {
		struct row *r = &g_rows[g_nrows++];
		xsnprintf(r->test, sizeof(r->test), "%s", t->name);
		xsnprintf(r->shim, sizeof(r->shim), "%s", t->label);
		r->kind = kind;
		xsnprintf(r->text, sizeof(r->text), "%s", text);
	}
	pthread_mutex_unlock(&g_rows_mu);
}

__attribute__((format(printf, 2, 3))) static void obs(struct tc *t, const char *fmt, ...)
{
	char buf[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fprintf(stderr, "[  OBS   ] %-5s %-11s %s\n", t->label, t->name, buf);
	add_row(t, 'o', buf);
}

__attribute__((format(printf, 4, 5))) static bool check_(struct tc *t, bool ok, int line,
							const char *fmt, ...)
{
	char buf[600];
	va_list ap;
	if (ok)
		return true;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	t->fails++;
	fprintf(stderr, "%s %-5s %-11s %s (line %d)\n", t->is_c ? "[  FAIL  ]" : "[ GO-DIFF ]",
		t->label, t->name, buf, line);
	add_row(t, t->is_c ? 'F' : 'D', buf);
	return false;
}
#define CHECK(t, cond, ...) check_((t), (cond), __LINE__, __VA_ARGS__)

/* ======================================================================================
 * Watchdog: everything this program started is killed if the run takes too long.
 * ====================================================================================== */

#define MAX_REG 32
static struct shim_inst *g_reg[MAX_REG];
static pid_t g_extra[64];
static pthread_mutex_t g_reg_mu = PTHREAD_MUTEX_INITIALIZER;

static void reg_shim(struct shim_inst *si, bool add)
{
	pthread_mutex_lock(&g_reg_mu);
	for (int i = 0; i < MAX_REG; i++) {
		if (add && !g_reg[i]) {
			g_reg[i] = si;
			break;
		}
		if (!add && g_reg[i] == si)
			g_reg[i] = NULL;
	}
	pthread_mutex_unlock(&g_reg_mu);
}

static void reg_extra(pid_t pid, bool add)
{
	pthread_mutex_lock(&g_reg_mu);
	for (int i = 0; i < 64; i++) {
		if (add && !g_extra[i]) {
			g_extra[i] = pid;
			break;
		}
		if (!add && g_extra[i] == pid)
			g_extra[i] = 0;
	}
	pthread_mutex_unlock(&g_reg_mu);
}

static void *watchdog_main(void *arg)
{
	long secs = (long)(intptr_t)arg;
	sleep_ms(secs * 1000);
	fprintf(stderr, "[ ERROR  ] watchdog: the run exceeded %ld s, killing everything\n", secs);
	pthread_mutex_lock(&g_reg_mu);
	for (int i = 0; i < 64; i++)
		if (g_extra[i] > 0)
			kill(g_extra[i], SIGKILL);
	for (int i = 0; i < MAX_REG; i++) {
		struct shim_inst *si = g_reg[i];
		if (!si || si->pid <= 0)
			continue;
		kill(-si->pid, SIGKILL);
		kill(si->pid, SIGKILL);
		char rroot[PATH_MAX + 80];
		xsnprintf(rroot, sizeof(rroot), "%s/%s", si->runtime_root, si->ns);
		const char *av[] = { "/usr/sbin/runc", "--root", rroot, "delete", "--force", si->id,
				     NULL };
		if (access(av[0], X_OK) == 0)
			it_run(av, 5000, NULL);
	}
	it_root_remove();
	_exit(3);
	return NULL;
}

/* ======================================================================================
 * /proc helpers
 * ====================================================================================== */

static int count_dir(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	int n = 0;
	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static int proc_fds(pid_t pid)
{
	char p[64];
	xsnprintf(p, sizeof(p), "/proc/%d/fd", (int)pid);
	return count_dir(p);
}

static int proc_threads(pid_t pid)
{
	char p[64];
	xsnprintf(p, sizeof(p), "/proc/%d/task", (int)pid);
	return count_dir(p);
}

/* Value of a "Key:" line of /proc/PID/status into out (trimmed). 0 or -1. */
static int proc_status(pid_t pid, const char *key, char *out, size_t n)
{
	char p[64], line[512];
	size_t kl = strlen(key);
	int rc = -1;
	xsnprintf(p, sizeof(p), "/proc/%d/status", (int)pid);
	FILE *f = fopen(p, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, key, kl) == 0 && line[kl] == ':') {
			char *v = line + kl + 1;
			while (*v == ' ' || *v == '\t')
				v++;
			v[strcspn(v, "\n")] = '\0';
			xsnprintf(out, n, "%s", v);
			rc = 0;
			break;
		}
	}
	fclose(f);
	return rc;
}

static long proc_rss_kb(pid_t pid)
{
	char v[64];
	if (proc_status(pid, "VmRSS", v, sizeof(v)) < 0)
		return -1;
	return atol(v);
}

/* "n->target n->target ..." of every fd of pid; returns the count, *extra = fds >= 3. */
static int proc_fd_desc(pid_t pid, char *out, size_t n, int *extra)
{
	char p[64], lp[96], tgt[PATH_MAX];
	DIR *d;
	struct dirent *de;
	size_t l = 0;
	int cnt = 0;

	out[0] = '\0';
	*extra = 0;
	xsnprintf(p, sizeof(p), "/proc/%d/fd", (int)pid);
	d = opendir(p);
	if (!d)
		return -1;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		int fd = atoi(de->d_name);
		if (fd == dirfd(d))
			continue;
		xsnprintf(lp, sizeof(lp), "%s/%s", p, de->d_name);
		ssize_t k = readlink(lp, tgt, sizeof(tgt) - 1);
		if (k < 0)
			continue;
		tgt[k] = '\0';
		cnt++;
		if (fd >= 3)
			(*extra)++;
		if (l + 8 < n)
			l += (size_t)snprintf(out + l, n - l, "%s%d->%.80s", l ? " " : "", fd, tgt);
	}
	closedir(d);
	return cnt;
}

/* "sockets N, pipes N, anon N, other N" of pid's fds. */
static void proc_fd_kinds(pid_t pid, char *out, size_t n)
{
	char p[64], lp[96], tgt[256];
	int so = 0, pi = 0, an = 0, ot = 0;
	DIR *d;
	struct dirent *de;
	xsnprintf(p, sizeof(p), "/proc/%d/fd", (int)pid);
	d = opendir(p);
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.' || atoi(de->d_name) == dirfd(d))
			continue;
		xsnprintf(lp, sizeof(lp), "%s/%s", p, de->d_name);
		ssize_t k = readlink(lp, tgt, sizeof(tgt) - 1);
		if (k < 0)
			continue;
		tgt[k] = '\0';
		if (strncmp(tgt, "socket:", 7) == 0)
			so++;
		else if (strncmp(tgt, "pipe:", 5) == 0)
			pi++;
		else if (strncmp(tgt, "anon_inode:", 11) == 0)
			an++;
		else
			ot++;
	}
	if (d)
		closedir(d);
	xsnprintf(out, n, "sockets %d, pipes %d, anon %d, other %d", so, pi, an, ot);
}

/* Children of `parent` whose comm is `comm` (NULL: any): pids into out (max n); count. */
static int proc_children(pid_t parent, const char *comm, pid_t *out, int n)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	int cnt = 0;
	if (!d)
		return -1;
	while ((de = readdir(d))) {
		char p[64], buf[512];
		int pid = atoi(de->d_name), ppid = 0;
		char st = '?';
		if (pid <= 0)
			continue;
		xsnprintf(p, sizeof(p), "/proc/%d/stat", pid);
		FILE *f = fopen(p, "re");
		if (!f)
			continue;
		size_t k = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[k] = '\0';
		char *lp = strchr(buf, '('), *rp = strrchr(buf, ')');
		if (!lp || !rp || sscanf(rp + 1, " %c %d", &st, &ppid) != 2 || ppid != parent)
			continue;
		*rp = '\0';
		if (comm && strcmp(lp + 1, comm) != 0)
			continue;
		if (st == 'Z')
			continue;
		if (cnt < n)
			out[cnt] = pid;
		cnt++;
	}
	closedir(d);
	return cnt;
}

/* Polls until the fd count of pid is <= want (or timeout); returns the last count. */
static int wait_fds_le(pid_t pid, int want, int timeout_ms)
{
	long dl = now_ms() + timeout_ms;
	int n;
	for (;;) {
		n = proc_fds(pid);
		if (n <= want || now_ms() >= dl)
			return n;
		sleep_ms(20);
	}
}

/* Samples fds/threads/RSS of a pid every 10 ms in the background. */
struct mon {
	pid_t pid;
	pthread_t thr;
	atomic_bool stop;
	bool started;
	int peak_fds, peak_threads;
	long peak_rss;
};

static void *mon_main(void *arg)
{
	struct mon *m = arg;
	while (!atomic_load(&m->stop)) {
		int f = proc_fds(m->pid), th = proc_threads(m->pid);
		long r = proc_rss_kb(m->pid);
		if (f > m->peak_fds)
			m->peak_fds = f;
		if (th > m->peak_threads)
			m->peak_threads = th;
		if (r > m->peak_rss)
			m->peak_rss = r;
		sleep_ms(10);
	}
	return NULL;
}

static void mon_start(struct mon *m, pid_t pid)
{
	memset(m, 0, sizeof(*m));
	m->pid = pid;
	atomic_init(&m->stop, false);
	m->started = pthread_create(&m->thr, NULL, mon_main, m) == 0;
}

static void mon_stop(struct mon *m)
{
	if (!m->started)
		return;
	atomic_store(&m->stop, true);
	pthread_join(m->thr, NULL);
	m->started = false;
}

/* ======================================================================================
 * Raw sockets and frames
 * ====================================================================================== */

static int raw_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	xsnprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

/* Writes everything (poll-bounded, works for blocking and non-blocking fds). */
static int raw_send_all(int fd, const void *buf, size_t n, int timeout_ms)
{
	const uint8_t *p = buf;
	long dl = now_ms() + timeout_ms;
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w > 0) {
			p += w;
			n -= (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno != EAGAIN)
			return -errno;
		long left = dl - now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		struct pollfd pf = { .fd = fd, .events = POLLOUT };
		poll(&pf, 1, (int)(left > 100 ? 100 : left));
	}
	return 0;
}

/* Reads exactly n bytes by a deadline. 0, -ETIMEDOUT, -EPIPE (EOF) or -errno. */
static int raw_read_full(int fd, void *buf, size_t n, long deadline)
{
	uint8_t *p = buf;
	while (n > 0) {
		ssize_t r = recv(fd, p, n, MSG_DONTWAIT);
		if (r > 0) {
			p += r;
			n -= (size_t)r;
			continue;
		}
		if (r == 0)
			return -EPIPE;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -errno;
		long left = deadline - now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		poll(&pf, 1, (int)left);
	}
	return 0;
}

static int raw_recv_frame(int fd, int timeout_ms, struct ttrpc_hdr *h, uint8_t **body)
{
	uint8_t hb[TTRPC_HDR_LEN];
	long dl = now_ms() + timeout_ms;
	int rc = raw_read_full(fd, hb, sizeof(hb), dl);
	*body = NULL;
	if (rc < 0)
		return rc;
	ttrpc_hdr_decode(hb, h);
	if (h->len > TTRPC_MAX_MSG)
		return -EMSGSIZE;
	if (h->len == 0)
		return 0;
	*body = malloc(h->len);
	if (!*body)
		return -ENOMEM;
	rc = raw_read_full(fd, *body, h->len, dl);
	if (rc < 0) {
		free(*body);
		*body = NULL;
	}
	return rc;
}

/* Reads one response frame and decodes it: 0 and *code, *msg (heap) or -errno. */
static int raw_recv_reply(int fd, int timeout_ms, struct ttrpc_hdr *h, int *code, char **msg,
			  uint8_t **payload, size_t *plen)
{
	uint8_t *body = NULL;
	int rc = raw_recv_frame(fd, timeout_ms, h, &body);
	uint8_t *pl = NULL;
	size_t pn = 0;
	char *m = NULL;
	int c = -1;
	if (rc < 0)
		return rc;
	rc = ttrpc_response_decode(body, h->len, &c, &m, &pl, &pn);
	free(body);
	if (rc < 0)
		return -EBADMSG;
	*code = c;
	if (msg)
		*msg = m;
	else
		free(m);
	if (payload) {
		*payload = pl;
		*plen = pn;
	} else {
		free(pl);
	}
	return 0;
}

/* A whole request frame for SHIM_SERVICE/method (m may be NULL: empty payload). */
static uint8_t *mk_req(uint32_t stream, const char *method, const ProtobufCMessage *m,
		       int64_t timeout_nano, size_t *len)
{
	uint8_t *pl = NULL, *frame = NULL;
	size_t plen = 0;
	if (m) {
		plen = protobuf_c_message_get_packed_size(m);
		pl = malloc(plen ? plen : 1);
		if (!pl)
			abort();
		protobuf_c_message_pack(m, pl);
	}
	if (ttrpc_request_frame(stream, SHIM_SERVICE, method, pl, plen, timeout_nano, &frame,
				len) < 0)
		abort();
	free(pl);
	return frame;
}

static uint8_t *mk_shiminfo(uint32_t stream, size_t *len)
{
	Google__Protobuf__Empty e = GOOGLE__PROTOBUF__EMPTY__INIT;
	return mk_req(stream, "ShimInfo", &e.base, 0, len);
}

static uint8_t *mk_state(uint32_t stream, const char *id, size_t *len)
{
	StateReq r = CONTAINERD__RUNTIME__LINUX__SHIM__V1__STATE_REQUEST__INIT;
	r.id = (char *)id;
	return mk_req(stream, "State", &r.base, 0, len);
}

static void set_stream(uint8_t *frame, uint32_t stream)
{
	frame[4] = (uint8_t)(stream >> 24);
	frame[5] = (uint8_t)(stream >> 16);
	frame[6] = (uint8_t)(stream >> 8);
	frame[7] = (uint8_t)stream;
}

/* ======================================================================================
 * Typed RPCs over shimclient
 * ====================================================================================== */

/* gRPC code (>= 0) or -errno; *msg heap when msg != NULL. */
static int rpc(struct shimclient *c, const char *method, const void *req,
	       const ProtobufCMessageDescriptor *rdesc, void *respp, char **msg, int timeout_ms)
{
	int code = -1;
	char *m = NULL;
	ProtobufCMessage *resp = NULL;
	int rc = shimclient_call(c, method, (const ProtobufCMessage *)req, rdesc,
				 respp ? &resp : NULL, &code, &m, timeout_ms);
	if (respp)
		*(ProtobufCMessage **)respp = resp;
	if (rc < 0) {
		free(m);
		if (msg)
			*msg = NULL;
		return rc;
	}
	if (msg)
		*msg = m ? m : strdup("");
	else
		free(m);
	return code;
}

static int rpc_shiminfo(struct shimclient *c, uint32_t *pid, int timeout_ms)
{
	Google__Protobuf__Empty e = GOOGLE__PROTOBUF__EMPTY__INIT;
	ShimInfoResp *r = NULL;
	int code = rpc(c, "ShimInfo", &e, D_SHIMINFO_RESP, &r, NULL, timeout_ms);
	if (pid)
		*pid = (code == 0 && r) ? r->shim_pid : 0;
	FREE_MSG(r);
	return code;
}

static int rpc_state(struct shimclient *c, const char *id, int *status, uint32_t *exit_status,
		     char **msg, int timeout_ms)
{
	StateReq req = CONTAINERD__RUNTIME__LINUX__SHIM__V1__STATE_REQUEST__INIT;
	StateResp *r = NULL;
	int code;
	req.id = (char *)id;
	code = rpc(c, "State", &req, D_STATE_RESP, &r, msg, timeout_ms);
	if (status)
		*status = (code == 0 && r) ? (int)r->status : -1;
	if (exit_status)
		*exit_status = (code == 0 && r) ? r->exit_status : 0;
	FREE_MSG(r);
	return code;
}

static int rpc_create(struct shimclient *c, const struct shim_inst *si, const char *runtime,
		      const char *out, const char *err, uint32_t *pid, char **msg, int timeout_ms)
{
	CreateReq req = CONTAINERD__RUNTIME__LINUX__SHIM__V1__CREATE_TASK_REQUEST__INIT;
	CreateResp *r = NULL;
	int code;
	req.id = (char *)si->id;
	req.bundle = (char *)si->bundle;
	req.runtime = (char *)(runtime ? runtime : "runc");
	req.stdout = (char *)(out ? out : "");
	req.stderr = (char *)(err ? err : "");
	code = rpc(c, "Create", &req, D_CREATE_RESP, &r, msg, timeout_ms);
	if (pid)
		*pid = (code == 0 && r) ? r->pid : 0;
	FREE_MSG(r);
	return code;
}

static int rpc_start(struct shimclient *c, const char *id, uint32_t *pid, char **msg,
		     int timeout_ms)
{
	StartReq req = CONTAINERD__RUNTIME__LINUX__SHIM__V1__START_REQUEST__INIT;
	StartResp *r = NULL;
	int code;
	req.id = (char *)id;
	code = rpc(c, "Start", &req, D_START_RESP, &r, msg, timeout_ms);
	if (pid)
		*pid = (code == 0 && r) ? r->pid : 0;
	FREE_MSG(r);
	return code;
}

static int rpc_kill(struct shimclient *c, const char *id, uint32_t sig, bool all,
		    int timeout_ms)
{
	KillReq req = CONTAINERD__RUNTIME__LINUX__SHIM__V1__KILL_REQUEST__INIT;
	req.id = (char *)id;
	req.signal = sig;
	req.all = all;
	return rpc(c, "Kill", &req, D_EMPTY, NULL, NULL, timeout_ms);
}

static int rpc_wait(struct shimclient *c, const char *id, uint32_t *status, int timeout_ms)
{
	WaitReq req = CONTAINERD__RUNTIME__LINUX__SHIM__V1__WAIT_REQUEST__INIT;
	WaitResp *r = NULL;
	int code;
	req.id = (char *)id;
	code = rpc(c, "Wait", &req, D_WAIT_RESP, &r, NULL, timeout_ms);
	if (status)
		*status = (code == 0 && r) ? r->exit_status : 0;
	FREE_MSG(r);
	return code;
}

static int rpc_delete(struct shimclient *c, uint32_t *exit_status, char **msg, int timeout_ms)
{
	Google__Protobuf__Empty e = GOOGLE__PROTOBUF__EMPTY__INIT;
	DeleteResp *r = NULL;
	int code = rpc(c, "Delete", &e, D_DELETE_RESP, &r, msg, timeout_ms);
	if (exit_status)
		*exit_status = (code == 0 && r) ? r->exit_status : 0;
	FREE_MSG(r);
	return code;
}

static int rpc_delete_process(struct shimclient *c, const char *id, int timeout_ms)
{
	DeleteProcReq req = CONTAINERD__RUNTIME__LINUX__SHIM__V1__DELETE_PROCESS_REQUEST__INIT;
	DeleteResp *r = NULL;
	int code;
	req.id = (char *)id;
	code = rpc(c, "DeleteProcess", &req, D_DELETE_RESP, &r, NULL, timeout_ms);
	FREE_MSG(r);
	return code;
}

static int rpc_listpids(struct shimclient *c, const char *id, int *n, int timeout_ms)
{
	ListPidsReq req = CONTAINERD__RUNTIME__LINUX__SHIM__V1__LIST_PIDS_REQUEST__INIT;
	ListPidsResp *r = NULL;
	int code;
	req.id = (char *)id;
	code = rpc(c, "ListPids", &req, D_LISTPIDS_RESP, &r, NULL, timeout_ms);
	if (n)
		*n = (code == 0 && r) ? (int)r->n_processes : -1;
	FREE_MSG(r);
	return code;
}

/* OCI process JSON for argv (no shell quoting issues: args are JSON-escaped). */
static char *process_json(const char *const argv[])
{
	json_t *p = json_object(), *args = json_array(), *user = json_object(),
	       *env = json_array();
	for (int i = 0; argv[i]; i++)
		json_array_append_new(args, json_string(argv[i]));
	json_object_set_new(user, "uid", json_integer(0));
	json_object_set_new(user, "gid", json_integer(0));
	json_array_append_new(env, json_string("PATH=/bin"));
	json_object_set_new(p, "terminal", json_false());
	json_object_set_new(p, "user", user);
	json_object_set_new(p, "args", args);
	json_object_set_new(p, "env", env);
	json_object_set_new(p, "cwd", json_string("/"));
	char *s = json_dumps(p, JSON_COMPACT);
	json_decref(p);
	return s;
}

static int rpc_exec(struct shimclient *c, const char *id, const char *const argv[],
		    const char *out, const char *err, char **msg, int timeout_ms)
{
	ExecReq req = CONTAINERD__RUNTIME__LINUX__SHIM__V1__EXEC_PROCESS_REQUEST__INIT;
	Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
	char *json = process_json(argv);
	int code;
	req.id = (char *)id;
	req.stdin = "";
	req.stdout = (char *)(out ? out : "");
	req.stderr = (char *)(err ? err : "");
	any.type_url = PROCESS_TYPE_URL;
	any.value.data = (uint8_t *)json;
	any.value.len = strlen(json);
	req.spec = &any;
	code = rpc(c, "Exec", &req, D_EMPTY, NULL, msg, timeout_ms);
	free(json);
	return code;
}

/* ======================================================================================
 * Fixture: one shim (launch.c) + one control connection
 * ====================================================================================== */

struct fx {
	bool is_c;
	struct shim_inst si;
	bool prepared;
	struct shimclient *c;
	uint32_t init_pid;
	pid_t bg[4]; /* processes the test must kill itself (host pid namespace leftovers) */
	int nbg;
};

static const char *shim_bin(bool is_c)
{
	const char *p = getenv(is_c ? "CSHIM" : "GOSHIM");
	if (p && *p)
		return p;
	return is_c ? "build/bin/cshim" : "/usr/bin/containerd-shim";
}

static int fx_launch(struct tc *t, struct fx *f, const char *tag, const char *const argv[])
{
	int rc;
	memset(f, 0, sizeof(*f));
	f->is_c = t->is_c;
	rc = shim_prepare(&f->si, shim_bin(t->is_c), tag, argv);
	f->prepared = true;
	reg_shim(&f->si, true);
	if (!CHECK(t, rc == 0, "harness: shim_prepare: %s", strerror(-rc)))
		return -1;
	rc = shim_start(&f->si, getenv("CSHIM_IT_DEBUG") != NULL);
	if (!CHECK(t, rc == 0, "harness: shim_start: %s", strerror(-rc)))
		return -1;
	f->c = shimclient_connect(f->si.sock, 5000);
	if (!CHECK(t, f->c != NULL, "harness: connect: %s", strerror(errno)))
		return -1;
	uint32_t pid = 0;
	rc = rpc_shiminfo(f->c, &pid, 5000);
	if (!CHECK(t, rc == 0 && pid == (uint32_t)f->si.pid, "harness: first ShimInfo: rc %d pid %u",
		   rc, pid))
		return -1;
	return 0;
}

static void fx_free(struct fx *f)
{
	if (f->c)
		shimclient_shutdown(f->c);
	for (int i = 0; i < f->nbg; i++) {
		if (f->bg[i] > 0) {
			kill(f->bg[i], SIGKILL);
			reg_extra(f->bg[i], false);
		}
	}
	f->nbg = 0;
	if (f->prepared) {
		shim_cleanup(&f->si);
		reg_shim(&f->si, false);
	}
	shimclient_close(f->c);
	f->c = NULL;
	f->prepared = false;
}

/* Create (runc) + Start of ARGV. */
static int fx_run_container(struct tc *t, struct fx *f)
{
	char *msg = NULL;
	int code = rpc_create(f->c, &f->si, "runc", NULL, NULL, &f->init_pid, &msg, 20000);
	bool ok = CHECK(t, code == 0 && f->init_pid > 0, "harness: Create: %d %s", code,
			msg ? msg : "");
	free(msg);
	if (!ok)
		return -1;
	code = rpc_start(f->c, f->si.id, NULL, &msg, 20000);
	ok = CHECK(t, code == 0, "harness: Start: %d %s", code, msg ? msg : "");
	free(msg);
	return ok ? 0 : -1;
}

/* Kills and reaps the init through the shim (bounded), for cases that end with a live one. */
static void fx_stop_init(struct fx *f)
{
	if (!f->c || !f->init_pid)
		return;
	(void)rpc_kill(f->c, f->si.id, SIGKILL, true, 5000);
	(void)rpc_wait(f->c, f->si.id, NULL, 5000);
}

static bool shim_ok(struct tc *t, struct fx *f, const char *when)
{
	uint32_t pid = 0;
	bool alive = shim_alive(&f->si);
	int rc = alive ? rpc_shiminfo(f->c, &pid, 3000) : -1;
	return CHECK(t, alive && rc == 0 && pid == (uint32_t)f->si.pid,
		     "shim not serving %s: alive %d, ShimInfo rc %d pid %u (exit status 0x%x)", when,
		     alive, rc, pid, (unsigned)f->si.exit_status);
}

/* Copies a wrapper into the run's private dir (0755) and returns its absolute path. */
static const char *wrapper(const char *name)
{
	static __thread char p[PATH_MAX];
	xsnprintf(p, sizeof(p), "%s/%s", g_wrappers, name);
	return p;
}

static int edit_json(const char *path, void (*fn)(json_t *))
{
	json_error_t je;
	json_t *j = json_load_file(path, 0, &je);
	if (!j)
		return -EINVAL;
	fn(j);
	int rc = json_dump_file(j, path, JSON_INDENT(1)) < 0 ? -EIO : 0;
	json_decref(j);
	return rc;
}

static void drop_pid_ns(json_t *cfg)
{
	json_t *ns = json_object_get(json_object_get(cfg, "linux"), "namespaces");
	size_t i;
	json_t *v;
	json_array_foreach(ns, i, v)
	{
		const char *ty = json_string_value(json_object_get(v, "type"));
		if (ty && strcmp(ty, "pid") == 0) {
			json_array_remove(ns, i);
			break;
		}
	}
}

/* mkfifo DIR/name; *rfd = read end (O_RDONLY|O_NONBLOCK) if open_reader, else -1. */
static int mk_fifo(const struct fx *f, const char *name, bool open_reader, char *path,
		   size_t n, int *rfd)
{
	xsnprintf(path, n, "%s/%s", f->si.dir, name);
	*rfd = -1;
	if (mkfifo(path, 0700) < 0)
		return -errno;
	if (open_reader) {
		*rfd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		if (*rfd < 0)
			return -errno;
	}
	return 0;
}

/* Reads from a non-blocking fd until `needle` was seen or timeout; heap text. */
static char *read_until(int fd, const char *needle, int timeout_ms)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap + 1);
	long dl = now_ms() + timeout_ms;
	if (!buf)
		return NULL;
	buf[0] = '\0';
	for (;;) {
		if (n == cap) {
			char *nb = realloc(buf, cap * 2 + 1);
			if (!nb)
				break;
			buf = nb;
			cap *= 2;
		}
		ssize_t r = read(fd, buf + n, cap - n);
		if (r > 0) {
			n += (size_t)r;
			buf[n] = '\0';
			if (needle && strstr(buf, needle))
				break;
			continue;
		}
		if (r == 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			break;
		long left = dl - now_ms();
		if (left <= 0)
			break;
		struct pollfd p = { .fd = fd, .events = POLLIN };
		poll(&p, 1, (int)(left > 50 ? 50 : left));
	}
	buf[n] = '\0';
	return buf;
}

static char *read_text(const char *path)
{
	FILE *f = fopen(path, "re");
	size_t cap = 8192, n = 0;
	char *buf;
	if (!f)
		return NULL;
	buf = malloc(cap + 1);
	while (buf) {
		if (n == cap) {
			char *nb = realloc(buf, cap * 2 + 1);
			if (!nb) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
			cap *= 2;
		}
		size_t k = fread(buf + n, 1, cap - n, f);
		if (k == 0)
			break;
		n += k;
	}
	fclose(f);
	if (buf)
		buf[n] = '\0';
	return buf;
}

/* ======================================================================================
 * Case: oversize frames
 * ====================================================================================== */

static void case_oversize(struct tc *t)
{
	struct fx f = { 0 };
	struct ttrpc_hdr h, rh;
	uint8_t *body = NULL;
	struct shimclient_reply rep = { 0 };
	int rc, fd = -1;

	if (fx_launch(t, &f, "ovs", ARGV_SLEEP) < 0)
		goto out;
	pid_t pid = f.si.pid;
	int fd0 = proc_fds(pid);
	long rss0 = proc_rss_kb(pid);

	/* 1. Length 4 MiB + 1, with its body: RESOURCE_EXHAUSTED on that stream. */
	h = (struct ttrpc_hdr){ .len = TTRPC_MAX_MSG + 1, .stream = shimclient_next_stream(f.c),
				.type = TTRPC_TYPE_REQUEST };
	long t0 = now_ms();
	rc = shimclient_send_frame(f.c, &h, NULL, 0, 'A');
	CHECK(t, rc == 0, "sending a 4 MiB + 1 frame: %s", strerror(-rc));
	rc = shimclient_recv_frame(f.c, h.stream, 10000, &rh, &body);
	if (CHECK(t, rc == 0, "no response to the 4 MiB + 1 frame: %s", strerror(-rc))) {
		rc = shimclient_decode_reply(&rh, body, &rep);
		CHECK(t, rc == 0 && rh.type == TTRPC_TYPE_RESPONSE && rh.flags == 0,
		      "oversize reply undecodable (rc %d type %u flags %u)", rc, rh.type, rh.flags);
		CHECK(t, rep.code == GRPC_RESOURCE_EXHAUSTED &&
				 rep.msg && strcmp(rep.msg, "message length 4194305 exceed maximum "
							  "message size of 4194304") == 0,
		      "oversize: want 8 \"message length 4194305 exceed maximum message size of "
		      "4194304\", got %d \"%s\"",
		      rep.code, rep.msg ? rep.msg : "");
		obs(t, "4 MiB + 1 frame: code %d \"%s\" after %ld ms", rep.code,
		    rep.msg ? rep.msg : "", now_ms() - t0);
		shimclient_reply_free(&rep);
	}
	free(body);
	body = NULL;

	/* 2. The same connection still works. */
	uint32_t spid = 0;
	rc = rpc_shiminfo(f.c, &spid, 5000);
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
		if (CHECK(t, rc == 0, "no response to an exactly-4 MiB request: %s", strerror(-rc))) {
			rc = shimclient_decode_reply(&rh, body, &rep);
			bool full = rep.msg && strlen(rep.msg) == L + 34 &&
				    strcmp(rep.msg + strlen(rep.msg) - 26, " does not exist: not found") == 0;
			CHECK(t, rc == 0 && rep.code == GRPC_NOT_FOUND && rep.msg &&
					 strncmp(rep.msg, "process qqq", 11) == 0,
			      "exactly 4 MiB State: want NOT_FOUND \"process <id>...\", got rc %d code %d",
			      rc, rep.code);
			obs(t, "exactly 4 MiB request: accepted, code %d, response frame %u bytes, message %s "
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
	CHECK(t, fdn <= fd0, "fd count %d, baseline %d, 3 s after the vanished oversize client", fdn,
	      fd0);
	if (fdn > fd0) {
		char desc[1024];
		int extra;
		fdn = wait_fds_le(pid, fd0, 2000);
		proc_fd_desc(pid, desc, sizeof(desc), &extra);
		obs(t, "5 s after the vanished oversize client: fd count %d (baseline %d): %s", fdn, fd0,
		    desc);
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
static const char *const VA_NAMES[] = { "hdr5",  "halfbody",   "4MiB-partial", "oversize-partial",
					"req",   "req+unread", "wait",         "listpids" };
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
	default:
		break;
	}
	free(fr);
	close(fd);
	return rc;
}

static void case_vanish(struct tc *t)
{
	struct fx f = { 0 };
	struct mon m = { 0 };

	if (fx_launch(t, &f, "van", ARGV_SLEEP) < 0 || fx_run_container(t, &f) < 0)
		goto out;
	pid_t pid = f.si.pid;
	sleep_ms(200);
	int fd0 = proc_fds(pid), th0 = proc_threads(pid);
	int fdv = fd0;
	mon_start(&m, pid);
	for (int v = 0; v < VA_N; v++) {
		long t0 = now_ms();
		int errs = 0;
		for (int i = 0; i < VA_COUNT[v]; i++)
			if (vanish_one(f.si.sock, (enum vanish)v, f.si.id) < 0)
				errs++;
		long dt = now_ms() - t0;
		int fdn = wait_fds_le(pid, fdv, 1500);
		int thn = proc_threads(pid);
		CHECK(t, fdn <= fdv, "%s: %d of %d connections still open 1.5 s after their clients "
				     "vanished (fds %d, baseline %d)",
		      VA_NAMES[v], fdn - fdv, VA_COUNT[v], fdn, fdv);
		CHECK(t, shim_alive(&f.si), "%s: shim died (%s)", VA_NAMES[v],
		      "see shim.log");
		obs(t, "%-16s x%d in %ld ms (%d send errors): fds %d (baseline %d), threads %d", VA_NAMES[v],
		    VA_COUNT[v], dt, errs, fdn, fdv, thn);
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
	int th1 = proc_threads(pid);
	/* cshim: fixed threads + at most 16 workers. */
	CHECK(t, th1 <= th0 + 17 && m.peak_threads <= th0 + 17,
	      "thread count grew: baseline %d, peak %d, now %d", th0, m.peak_threads, th1);
	obs(t, "threads baseline %d peak %d after %d; fds baseline %d peak %d", th0, m.peak_threads,
	    th1, fd0, m.peak_fds);
	if (!shim_ok(t, &f, "after the vanishing clients"))
		goto out;
	int st = -1;
	int rc = rpc_state(f.c, f.si.id, &st, NULL, NULL, 5000);
	CHECK(t, rc == 0 && st == ST_RUNNING, "State after the vanishing clients: rc %d status %d", rc,
	      st);
	/* The orphaned Waits are answered into closed connections now. */
	rc = rpc_kill(f.c, f.si.id, SIGKILL, false, 5000);
	uint32_t es = 0;
	int wrc = rpc_wait(f.c, f.si.id, &es, 5000);
	CHECK(t, rc == 0 && wrc == 0 && es == 137, "Kill/Wait after orphaned Waits: %d %d status %u",
	      rc, wrc, es);
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

static void case_streams(struct tc *t)
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
		rc = shimclient_call_bytes(c2, evens[i], SHIM_SERVICE, "ShimInfo", NULL, 0, 3000, &rep);
		CHECK(t, rc == 0 && rep.stream == evens[i] && rep.code == GRPC_INVALID_ARGUMENT &&
				 strcmp(rep.msg, want) == 0,
		      "even stream %u: want 3 \"%s\" on that stream, got rc %d stream %u code %d \"%s\"",
		      evens[i], want, rc, rc == 0 ? rep.stream : 0, rc == 0 ? rep.code : -1,
		      rc == 0 && rep.msg ? rep.msg : "");
		if (rc == 0)
			shimclient_reply_free(&rep);
	}
	uint32_t spid = 0;
	rc = rpc_shiminfo(c2, &spid, 3000);
	CHECK(t, rc == 0 && spid == (uint32_t)f.si.pid, "connection unusable after even ids: %d",
	      rc);

	/* Reuse and decrease: Go 1.1.1 does not track ids (spec §2.3); the guide asks for
	 * strictly increasing ids. Either answer is accepted if every request gets exactly one
	 * response and the connection stays usable; what happened is reported. */
	char seen[256] = "";
	size_t sl = 0;
	static const uint32_t seq[] = { 101, 101, 99, 1 };
	for (size_t i = 0; i < sizeof(seq) / sizeof(seq[0]); i++) {
		rc = shimclient_call_bytes(c2, seq[i], SHIM_SERVICE, "ShimInfo", NULL, 0, 3000, &rep);
		CHECK(t, rc == 0, "stream %u (sequence 101,101,99,1): no response: %s", seq[i],
		      strerror(-rc));
		sl += (size_t)snprintf(seen + sl, sizeof(seen) - sl, "%s%u:%d", i ? " " : "", seq[i],
				       rc == 0 ? rep.code : rc);
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
			cl += (size_t)snprintf(codes + cl, sizeof(codes) - cl, "%s%d", cl ? "," : "",
					       rep.code);
			shimclient_reply_free(&rep);
		}
		free(body);
	}
	CHECK(t, got == 2, "two in-flight requests on stream 201: %d responses", got);
	obs(t, "reused/decreasing ids (stream:code) %s; two in flight on 201: %d responses (codes %s)",
	    seen, got, codes);
	/* Largest odd id, then the connection still works with ordinary calls. */
	rc = shimclient_call_bytes(c2, 0xFFFFFFFFu, SHIM_SERVICE, "ShimInfo", NULL, 0, 3000, &rep);
	CHECK(t, rc == 0 && rep.code == 0, "stream 0xFFFFFFFF: rc %d code %d", rc,
	      rc == 0 ? rep.code : -1);
	if (rc == 0)
		shimclient_reply_free(&rep);
	rc = rpc_shiminfo(c2, &spid, 3000);
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

static void case_garbage(struct tc *t)
{
	struct fx f = { 0 };
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	int fd = -1;

	if (fx_launch(t, &f, "gbg", ARGV_SLEEP) < 0)
		goto out;
	pid_t pid = f.si.pid;
	int fd0 = proc_fds(pid);

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
		for (;;) {
			struct ttrpc_hdr h;
			uint8_t *body = NULL;
			int rc = raw_recv_frame(fd, 100, &h, &body);
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
		struct ttrpc_hdr h = { .len = len, .stream = (uint32_t)(2 * i + 1), .type = 1,
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
						       g_garbage_codes[0][i], g_garbage_codes[1][i]);
		}
		CHECK(t, ndiff == 0, "random bodies: %d of %d frames answered with another code than "
				     "cshim:%s",
		      ndiff, GB_FRAMES, d);
		if (first >= 0)
			obs(t, "first differing random body #%d: cshim %d \"%s\", go %d \"%s\"", first,
			    g_garbage_codes[0][first], g_garbage_msgs[0][first],
			    g_garbage_codes[1][first], g_garbage_msgs[1][first]);
	}
out:
	if (fd >= 0)
		close(fd);
	fx_free(&f);
}

/* ======================================================================================
 * Case: 1000 idle connections
 * ====================================================================================== */

#define IDLE_N 1000

static void case_idle1000(struct tc *t)
{
	struct fx f = { 0 };
	int *fds = calloc(IDLE_N, sizeof(int));
	int nopen = 0;
	struct mon m = { 0 };

	if (!fds || fx_launch(t, &f, "idl", ARGV_SLEEP) < 0)
		goto out;
	pid_t pid = f.si.pid;
	int fd0 = proc_fds(pid), th0 = proc_threads(pid);
	mon_start(&m, pid);
	long t0 = now_ms();
	for (int i = 0; i < IDLE_N; i++) {
		int fd = raw_connect(f.si.sock);
		if (fd < 0) {
			CHECK(t, false, "connection %d of %d: %s", i, IDLE_N, strerror(-fd));
			break;
		}
		fds[nopen++] = fd;
	}
	long t_conn = now_ms() - t0;
	/* Until the shim has accepted them all. */
	long dl = now_ms() + 5000;
	int fdc;
	while ((fdc = proc_fds(pid)) < fd0 + nopen && now_ms() < dl)
		sleep_ms(20);
	CHECK(t, fdc >= fd0 + nopen, "shim holds %d fds with %d idle connections (baseline %d)",
	      fdc, nopen, fd0);
	/* Others are still served quickly: the control connection and a new one. */
	long worst = 0;
	for (int i = 0; i < 20; i++) {
		long a = now_ms();
		int rc = rpc_shiminfo(f.c, NULL, 5000);
		long d = now_ms() - a;
		if (d > worst)
			worst = d;
		CHECK(t, rc == 0, "ShimInfo with %d idle connections: %d", nopen, rc);
	}
	long a = now_ms();
	struct shimclient *c2 = shimclient_connect(f.si.sock, 3000);
	int rc2 = c2 ? rpc_state(c2, "nope", NULL, NULL, NULL, 5000) : -1;
	long dnew = now_ms() - a;
	shimclient_close(c2);
	CHECK(t, worst < 1000 && dnew < 1000 && rc2 == GRPC_NOT_FOUND,
	      "with %d idle connections: ShimInfo worst %ld ms, new connection + State %ld ms (%d)",
	      nopen, worst, dnew, rc2);
	/* Then every idle connection asks once: all answered. */
	size_t fl;
	uint8_t *fr = mk_shiminfo(1, &fl);
	for (int i = 0; i < nopen; i++)
		(void)raw_send_all(fds[i], fr, fl, 1000);
	free(fr);
	int answered = 0;
	long t1 = now_ms();
	for (int i = 0; i < nopen; i++) {
		struct ttrpc_hdr h;
		int code = -1;
		long left = 8000 - (now_ms() - t1);
		if (raw_recv_reply(fds[i], left > 0 ? (int)left : 0, &h, &code, NULL, NULL, NULL) == 0 &&
		    code == 0)
			answered++;
	}
	long t_ans = now_ms() - t1;
	CHECK(t, answered == nopen, "%d of %d formerly idle connections answered", answered, nopen);
	for (int i = 0; i < nopen; i++)
		close(fds[i]);
	int nclosed = nopen;
	nopen = 0;
	int fdn = wait_fds_le(pid, fd0, 5000);
	mon_stop(&m);
	CHECK(t, fdn <= fd0, "fd count %d, baseline %d, after closing %d connections", fdn, fd0,
	      nclosed);
	obs(t, "%d conns in %ld ms; shim fds peak %d; ShimInfo worst %ld ms, new conn %ld ms; all "
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

static void case_bytewise(struct tc *t)
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
	long t0 = now_ms();
	rc = send_bytewise(fd, a, l1);
	if (rc == 0)
		rc = raw_recv_reply(fd, 3000, &h, &code, NULL, &pl, &pn);
	ShimInfoResp *si = NULL;
	if (rc == 0 && code == 0)
		si = containerd__runtime__linux__shim__v1__shim_info_response__unpack(NULL, pn, pl);
	CHECK(t, si && si->shim_pid == (uint32_t)f.si.pid && h.stream == 1,
	      "ShimInfo written bytewise: rc %d code %d", rc, rc == 0 ? code : -1);
	FREE_MSG(si);
	free(pl);
	pl = NULL;
	long d1 = now_ms() - t0;
	rc = send_bytewise(fd, b, l2);
	if (rc == 0)
		rc = raw_recv_reply(fd, 3000, &h, &code, &msg, NULL, NULL);
	CHECK(t, rc == 0 && code == GRPC_NOT_FOUND && msg &&
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

/* ======================================================================================
 * Case: a client that never reads its responses
 * ====================================================================================== */

struct prober {
	struct shimclient *c;
	pthread_t thr;
	atomic_bool stop;
	atomic_long worst_ms; /* read by the case while the prober runs */
	int calls, fails;
};

static void *prober_main(void *arg)
{
	struct prober *p = arg;
	while (!atomic_load(&p->stop)) {
		long a = now_ms();
		int rc = rpc_shiminfo(p->c, NULL, 5000);
		long d = now_ms() - a;
		p->calls++;
		if (rc != 0)
			p->fails++;
		if (d > atomic_load(&p->worst_ms))
			atomic_store(&p->worst_ms, d);
		sleep_ms(50);
	}
	return NULL;
}

/* Sends buf repeatedly-patched frames without reading. Returns bytes sent; *why: 'd'
 * dropped (EPIPE/ECONNRESET), 'b' pushed back (no progress for stall_ms), 'c' complete,
 * 't' time cap. */
static size_t flood_send(int fd, const uint8_t *buf, size_t n, int stall_ms, long cap_ms,
			 char *why)
{
	size_t off = 0;
	long start = now_ms(), last = now_ms();
	while (off < n) {
		ssize_t w = send(fd, buf + off, n - off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w > 0) {
			off += (size_t)w;
			last = now_ms();
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno != EAGAIN) {
			*why = 'd';
			return off;
		}
		if (now_ms() - last > stall_ms) {
			*why = 'b';
			return off;
		}
		if (now_ms() - start > cap_ms) {
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

static void case_noreader(struct tc *t)
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
	int fd0 = proc_fds(pid);
	long rss0 = proc_rss_kb(pid);
	pr.c = f.c;
	atomic_init(&pr.stop, false);
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
	long ta = now_ms();
	size_t sent_a = flood_send(fd, bulk, fl * (size_t)NA, 2000, 10000, &why);
	long dta = now_ms() - ta;
	free(bulk);
	bulk = NULL;
	sleep_ms(300);
	long worst_a = atomic_load(&pr.worst_ms);
	obs(t, "phase A: %zu of %zu bytes of ShimInfo sent unread in %ld ms (%s); other "
	       "connection's ShimInfo worst %ld ms",
	    sent_a, fl * (size_t)NA, dta,
	    why == 'c' ? "all" : why == 'b' ? "shim pushed back" : why == 'd' ? "dropped" : "time cap",
	    worst_a);
	CHECK(t, worst_a < 1000, "ShimInfo on another connection took %ld ms during phase A",
	      worst_a);

	/* Phase B: State requests with a 1000-byte id (each answered with a NOT_FOUND echoing the
	 * id: response ~ request size; cshim caps error messages at 1 KiB, so longer ids would
	 * not grow its outbox faster) until the shim drops the connection or stops reading it. */
	bool dropped = why == 'd';
	size_t sent_b = 0;
	long tb = now_ms();
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
		while (sent_b < (512u << 20) && now_ms() - tb < 15000) {
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
	long dtb = now_ms() - tb;
	sleep_ms(300);
	long rss_mid = proc_rss_kb(pid);
	/* Whether the shim closed its side. */
	bool eof = false;
	{
		struct pollfd pf = { .fd = fd, .events = POLLRDHUP };
		eof = poll(&pf, 1, 0) == 1 && (pf.revents & (POLLRDHUP | POLLHUP | POLLERR));
	}
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
	obs(t, "RSS baseline %ld KiB, peak %ld KiB (+%ld MiB), at end of flood %ld KiB, 1 s after "
	       "close %ld KiB; prober: %d calls, %d failed, worst %ld ms; fds %d (baseline %d)",
	    rss0, m.peak_rss, (m.peak_rss - rss0) >> 10, rss_mid, rss1, pr.calls, pr.fails, pr.worst_ms,
	    fdn, fd0);
	CHECK(t, pr.worst_ms < 1000 && pr.fails == 0,
	      "another connection's ShimInfo: worst %ld ms, %d failures", pr.worst_ms, pr.fails);
	CHECK(t, m.peak_rss - rss0 < 192 * 1024, "shim RSS grew by %ld MiB for an unread client",
	      (m.peak_rss - rss0) >> 10);
	if (t->is_c)
		CHECK(t, dropped || eof, "cshim neither dropped the non-reading client (%zu MiB sent)",
		      sent_b >> 20);
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
	long dl = now_ms() + 6000;
	int st = 0;
	for (;;) {
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid)
			break;
		if (now_ms() > dl) {
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
	case 10:
		return "closed without an answer";
	case 11:
		return "answered";
	case 12:
		return "left open, no answer in 3 s";
	case 22:
		return "connect: EACCES";
	default:
		return "harness error";
	}
}

static void case_peercred(struct tc *t)
{
	struct fx f = { 0 };
	if (fx_launch(t, &f, "pcr", ARGV_SLEEP) < 0)
		goto out;
	pid_t pid = f.si.pid;
	int fd0 = proc_fds(pid);
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
	char *l1 = read_text(f.si.shimlog), *l2 = read_text(f.si.fifolog);
	bool logged = (l1 && strstr(l1, "refusing connection")) ||
		      (l2 && strstr(l2, "refusing connection"));
	obs(t, "uid 65534: %s; gid 65534: %s; root: %s; refusal logged: %s", peer_text(r_nobody),
	    peer_text(r_gid), peer_text(r_root), logged ? "yes" : "no");
	free(l1);
	free(l2);
out:
	fx_free(&f);
}

/* ======================================================================================
 * Case: fd and signal hygiene of spawned processes
 * ====================================================================================== */

/* Checks one probe record (fdprobe.sh / publish-probe.sh format). script: the path dash
 * reads (its O_CLOEXEC fd is the one allowed extra). */
static void check_probe(struct tc *t, const char *what, const char *path, const char *script)
{
	char *txt = read_text(path);
	if (!CHECK(t, txt != NULL, "%s: no record %s", what, path))
		return;
	char *save = NULL;
	int script_fds = 0;
	char extra[400] = "", sig[128] = "";
	size_t el = 0;
	bool sig_ok = false;
	for (char *ln = strtok_r(txt, "\n", &save); ln; ln = strtok_r(NULL, "\n", &save)) {
		if (strncmp(ln, "SIG ", 4) == 0) {
			xsnprintf(sig, sizeof(sig), "%s", ln + 4);
			sig_ok = strstr(ln, "SigBlk:0000000000000000") &&
				 strstr(ln, "SigIgn:0000000000000000");
		} else if (strncmp(ln, "FD ", 3) == 0) {
			int n = -1;
			char flags[32] = "", tgt[PATH_MAX] = "";
			if (sscanf(ln + 3, "%d %31s %4095[^\n]", &n, flags, tgt) < 2)
				continue;
			if (n >= 0 && n <= 2)
				continue;
			unsigned long fv = strtoul(flags, NULL, 8);
			if (strcmp(tgt, script) == 0 && (fv & O_CLOEXEC)) {
				script_fds++;
				continue;
			}
			if (el + 8 < sizeof(extra))
				el += (size_t)snprintf(extra + el, sizeof(extra) - el, " %d(%s)->%s", n,
						       flags, tgt);
		}
	}
	CHECK(t, sig_ok, "%s: signal state not clean: %s", what, sig);
	CHECK(t, el == 0, "%s: inherited extra fds:%s", what, extra);
	CHECK(t, script_fds <= 1, "%s: %d fds on the script itself", what, script_fds);
	free(txt);
}

/* se.slice of a task (/proc/.../sched), -1 when the kernel does not show it. */
static long long sched_slice(const char *path)
{
	char *txt = read_text(path), *p;
	long long v = -1;
	if (txt && (p = strstr(txt, "se.slice")) && (p = strchr(p, ':')))
		v = strtoll(p + 1, NULL, 10);
	free(txt);
	return v;
}

static void check_live(struct tc *t, const char *what, pid_t pid)
{
	char desc[1024], blk[64] = "?", ign[64] = "?", sp[64];
	int extra = 0;
	int n = proc_fd_desc(pid, desc, sizeof(desc), &extra);
	long long slice, dflt = sched_slice("/proc/self/sched");
	proc_status(pid, "SigBlk", blk, sizeof(blk));
	proc_status(pid, "SigIgn", ign, sizeof(ign));
	CHECK(t, n >= 0 && extra == 0, "%s (pid %d): fds beyond 0-2: %s", what, (int)pid, desc);
	CHECK(t, strcmp(blk, "0000000000000000") == 0 && strcmp(ign, "0000000000000000") == 0,
	      "%s (pid %d): SigBlk %s SigIgn %s", what, (int)pid, blk, ign);
	/* not the shim loop thread's short slice (io/slice.h): the default, as this process has */
	xsnprintf(sp, sizeof(sp), "/proc/%d/sched", (int)pid);
	slice = sched_slice(sp);
	CHECK(t, dflt < 0 || slice == dflt, "%s (pid %d): scheduler slice %lld ns, not the default %lld",
	      what, (int)pid, slice, dflt);
	obs(t, "%s: fds [%s] SigBlk %s SigIgn %s slice %lld ns", what, desc, blk, ign, slice);
}

static void case_hygiene(struct tc *t)
{
	struct fx f = { 0 };
	int ofd = -1, xfd = -1, efd = -1, xefd = -1;
	char out[PATH_MAX], xout[PATH_MAX], err[PATH_MAX], xerr[PATH_MAX];
	char *msg = NULL;

	if (fx_launch(t, &f, "hyg", ARGV_SLEEP) < 0)
		goto out;
	/* The fake publisher becomes the recording one (same directory as events.log). */
	{
		char *src = read_text(wrapper("publish-probe.sh"));
		FILE *o = fopen(f.si.publisher, "we");
		if (!CHECK(t, src && o, "harness: publisher copy"))
			goto out_pub;
		fputs(src, o);
	out_pub:
		if (o)
			fclose(o);
		free(src);
		chmod(f.si.publisher, 0755);
	}
	const char *probe = wrapper("fdprobe.sh");
	if (mk_fifo(&f, "out", true, out, sizeof(out), &ofd) < 0 ||
	    mk_fifo(&f, "err", true, err, sizeof(err), &efd) < 0 ||
	    mk_fifo(&f, "xout", true, xout, sizeof(xout), &xfd) < 0 ||
	    mk_fifo(&f, "xerr", true, xerr, sizeof(xerr), &xefd) < 0) {
		CHECK(t, false, "harness: fifos: %s", strerror(errno));
		goto out;
	}
	int code = rpc_create(f.c, &f.si, probe, out, err, &f.init_pid, &msg, 20000);
	if (!CHECK(t, code == 0, "Create through fdprobe.sh: %d %s", code, msg ? msg : ""))
		goto out;
	free(msg);
	msg = NULL;
	code = rpc_start(f.c, f.si.id, NULL, &msg, 20000);
	if (!CHECK(t, code == 0, "Start through fdprobe.sh: %d %s", code, msg ? msg : ""))
		goto out;
	free(msg);
	msg = NULL;
	const char *xargv[] = { "/bin/sleep", "999", NULL };
	code = rpc_exec(f.c, "px", xargv, xout, xerr, &msg, 10000);
	free(msg);
	msg = NULL;
	uint32_t xpid = 0;
	if (CHECK(t, code == 0, "Exec: %d", code))
		code = rpc_start(f.c, "px", &xpid, NULL, 20000);
	CHECK(t, code == 0 && xpid > 0, "exec Start: %d", code);
	sleep_ms(200);
	check_live(t, "container init (sleep)", (pid_t)f.init_pid);
	if (xpid)
		check_live(t, "exec process (sleep)", (pid_t)xpid);
	if (t->is_c) {
		/* the loop thread (the main one) asks for the shortest slice, where the kernel has
		 * them (EEVDF custom slices, 6.12+) */
		char sp[64];
		long long loop;
		bool can = slice_set(SLICE_MIN_NS) == 0 &&
			   sched_slice("/proc/thread-self/sched") == (long long)SLICE_MIN_NS;
		(void)slice_set(0);
		xsnprintf(sp, sizeof(sp), "/proc/%d/task/%d/sched", (int)f.si.pid, (int)f.si.pid);
		loop = sched_slice(sp);
		CHECK(t, !can || loop == (long long)SLICE_MIN_NS, "shim loop thread: slice %lld ns",
		      loop);
		obs(t, "shim loop thread: scheduler slice %lld ns (custom slices here: %s)", loop,
		    can ? "yes" : "no");
	}

	/* The shim's own fds: every one above 2 must be O_CLOEXEC. */
	{
		char dp[64], fp[96], tgt[PATH_MAX], line[128], bad[400] = "";
		size_t bl = 0;
		int total = 0;
		xsnprintf(dp, sizeof(dp), "/proc/%d/fd", (int)f.si.pid);
		DIR *d = opendir(dp);
		struct dirent *de;
		while (d && (de = readdir(d))) {
			int n = atoi(de->d_name);
			if (de->d_name[0] == '.' || n <= 2)
				continue;
			xsnprintf(fp, sizeof(fp), "/proc/%d/fdinfo/%d", (int)f.si.pid, n);
			FILE *fi = fopen(fp, "re");
			unsigned long fv = 0;
			while (fi && fgets(line, sizeof(line), fi))
				if (strncmp(line, "flags:", 6) == 0)
					fv = strtoul(line + 6, NULL, 8);
			if (fi)
				fclose(fi);
			else
				continue;
			total++;
			if (!(fv & O_CLOEXEC)) {
				xsnprintf(fp, sizeof(fp), "%s/%d", dp, n);
				ssize_t k = readlink(fp, tgt, sizeof(tgt) - 1);
				tgt[k > 0 ? k : 0] = '\0';
				if (bl + 8 < sizeof(bad))
					bl += (size_t)snprintf(bad + bl, sizeof(bad) - bl, " %d->%s", n,
							       tgt);
			}
		}
		if (d)
			closedir(d);
		CHECK(t, bl == 0, "shim fds without O_CLOEXEC:%s", bad);
		obs(t, "shim holds %d fds above 2; without O_CLOEXEC:%s", total, bl ? bad : " none");
	}

	/* Exit -> TaskExit through the recording publisher; then Delete (runc delete). */
	code = rpc_kill(f.c, f.si.id, SIGKILL, false, 5000);
	uint32_t es = 0;
	int wrc = rpc_wait(f.c, f.si.id, &es, 5000);
	CHECK(t, code == 0 && wrc == 0 && es == 137, "Kill/Wait: %d %d %u", code, wrc, es);
	(void)rpc_wait(f.c, "px", NULL, 5000);
	(void)rpc_delete_process(f.c, "px", 10000);
	int nev = pub_events_wait(&f.si, 1, 5000);
	CHECK(t, nev >= 1, "no TaskExit published (%d)", nev);
	code = rpc_delete(f.c, NULL, NULL, 10000);
	CHECK(t, code == 0, "Delete: %d", code);

	/* Every record. */
	char subs[256] = "";
	size_t sl = 0;
	int nrec = 0, npub = 0;
	for (int pass = 0; pass < 2; pass++) {
		const char *dir = pass == 0 ? f.si.bundle : f.si.dir;
		const char *pfx = pass == 0 ? "probe." : "pubprobe.";
		DIR *d = opendir(dir);
		struct dirent *de;
		while (d && (de = readdir(d))) {
			char p[PATH_MAX + 300], what[96];
			if (strncmp(de->d_name, pfx, strlen(pfx)) != 0 || strstr(de->d_name, ".tmp"))
				continue;
			xsnprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
			if (pass == 0) {
				char sub[48] = "";
				sscanf(de->d_name + 6, "%47[^.]", sub);
				xsnprintf(what, sizeof(what), "runtime '%s'", sub);
				if (sl + 50 < sizeof(subs))
					sl += (size_t)snprintf(subs + sl, sizeof(subs) - sl, "%s%s",
							       sl ? "," : "", sub);
				check_probe(t, what, p, probe);
				nrec++;
			} else {
				xsnprintf(what, sizeof(what), "publisher");
				check_probe(t, what, p, f.si.publisher);
				npub++;
			}
		}
		if (d)
			closedir(d);
	}
	CHECK(t, nrec >= 3, "only %d runtime invocations recorded (%s)", nrec, subs);
	CHECK(t, npub >= 1, "no publisher record");
	obs(t, "checked %d runtime invocations (%s) and %d publisher runs", nrec, subs, npub);
	if (nrec > 0) {
		/* show one record verbatim, for the report */
		DIR *d = opendir(f.si.bundle);
		struct dirent *de;
		while (d && (de = readdir(d))) {
			if (strncmp(de->d_name, "probe.create.", 13) == 0) {
				char p[PATH_MAX + 300];
				xsnprintf(p, sizeof(p), "%s/%s", f.si.bundle, de->d_name);
				char *txt = read_text(p);
				for (char *q = txt; q && *q; q++)
					if (*q == '\n')
						*q = '|';
				obs(t, "runtime create record: %.480s", txt ? txt : "");
				free(txt);
				break;
			}
		}
		if (d)
			closedir(d);
	}
out:
	free(msg);
	if (ofd >= 0)
		close(ofd);
	if (xfd >= 0)
		close(xfd);
	if (efd >= 0)
		close(efd);
	if (xefd >= 0)
		close(xefd);
	fx_free(&f);
}

/* ======================================================================================
 * Faults
 * ====================================================================================== */

static void case_failcreate(struct tc *t)
{
	struct fx f = { 0 };
	char *msg = NULL;
	if (fx_launch(t, &f, "fcr", ARGV_SLEEP) < 0)
		goto out;
	uint32_t pid = 0;
	long t0 = now_ms();
	int code = rpc_create(f.c, &f.si, wrapper("fail-create.sh"), NULL, NULL, &pid, &msg, 15000);
	long dt = now_ms() - t0;
	CHECK(t, code == GRPC_UNKNOWN && msg && strstr(msg, "cshim-it: injected create failure"),
	      "failing create: want UNKNOWN with the log.json message, got %d \"%s\"", code,
	      msg ? msg : "");
	obs(t, "failed Create: code %d \"%s\" (%ld ms)", code, msg ? msg : "", dt);
	free(msg);
	msg = NULL;
	int st = -1;
	code = rpc_state(f.c, f.si.id, &st, NULL, &msg, 5000);
	CHECK(t, code == GRPC_NOT_FOUND, "State after the failed create: %d \"%s\" status %d", code,
	      msg ? msg : "", st);
	obs(t, "State after the failed Create: %d \"%s\"", code, msg ? msg : "");
	free(msg);
	msg = NULL;
	code = rpc_state(f.c, "", NULL, NULL, NULL, 5000);
	code = rpc_delete(f.c, NULL, &msg, 5000);
	obs(t, "Delete after the failed Create: %d \"%s\"", code, msg ? msg : "");
	free(msg);
	msg = NULL;
	sleep_ms(300);
	int nev = pub_events_wait(&f.si, 1, 0);
	CHECK(t, nev == 0, "%d events published for a failed create", nev);
	/* A good create on the same shim. */
	code = rpc_create(f.c, &f.si, "runc", NULL, NULL, &pid, &msg, 20000);
	CHECK(t, code == 0 && pid > 0, "good Create after the failed one: %d \"%s\"", code,
	      msg ? msg : "");
	free(msg);
	msg = NULL;
	f.init_pid = pid;
	code = rpc_state(f.c, f.si.id, &st, NULL, NULL, 5000);
	CHECK(t, code == 0 && st == ST_CREATED, "State after the good create: %d status %d", code,
	      st);
	code = rpc_start(f.c, f.si.id, NULL, &msg, 20000);
	CHECK(t, code == 0, "Start after the good create: %d \"%s\"", code, msg ? msg : "");
	free(msg);
	msg = NULL;
	fx_stop_init(&f);
	shim_ok(t, &f, "after the failed and the good create");
out:
	free(msg);
	fx_free(&f);
}

static void case_hangstart(struct tc *t)
{
	struct fx f = { 0 };
	struct shimclient *c2 = NULL;
	char *msg = NULL;
	if (fx_launch(t, &f, "hst", ARGV_SLEEP) < 0)
		goto out;
	int code = rpc_create(f.c, &f.si, wrapper("hang-start.sh"), NULL, NULL, &f.init_pid, &msg,
			      20000);
	if (!CHECK(t, code == 0, "Create through hang-start.sh: %d \"%s\"", code, msg ? msg : ""))
		goto out;
	free(msg);
	msg = NULL;
	c2 = shimclient_connect(f.si.sock, 3000);
	if (!CHECK(t, c2 != NULL, "harness: second connection"))
		goto out;
	StartReq sr = CONTAINERD__RUNTIME__LINUX__SHIM__V1__START_REQUEST__INIT;
	sr.id = f.si.id;
	uint32_t stream = shimclient_next_stream(f.c);
	size_t fl;
	uint8_t *fr = mk_req(stream, "Start", &sr.base, 2000000000LL, &fl);
	long t0 = now_ms();
	int rc = shimclient_send_raw(f.c, fr, fl);
	free(fr);
	CHECK(t, rc == 0, "harness: sending Start: %d", rc);
	long worst_state = 0, worst_info = 0, t_done = -1;
	int state_fail = 0, info_fail = 0, rcode = -1, polls = 0;
	char *rmsg = NULL;
	while (rc == 0 && now_ms() - t0 < 8000) {
		struct ttrpc_hdr rh;
		uint8_t *body = NULL;
		if (shimclient_recv_frame(f.c, stream, 0, &rh, &body) == 0) {
			t_done = now_ms() - t0;
			struct shimclient_reply rep;
			if (shimclient_decode_reply(&rh, body, &rep) == 0) {
				rcode = rep.code;
				rmsg = rep.msg;
				rep.msg = NULL;
				shimclient_reply_free(&rep);
			}
			free(body);
			break;
		}
		long a = now_ms();
		int st = -1;
		int sc = rpc_state(c2, f.si.id, &st, NULL, NULL, 5000);
		long d = now_ms() - a;
		if (sc != 0)
			state_fail++;
		if (d > worst_state)
			worst_state = d;
		a = now_ms();
		int ic = rpc_shiminfo(c2, NULL, 5000);
		d = now_ms() - a;
		if (ic != 0)
			info_fail++;
		if (d > worst_info)
			worst_info = d;
		polls++;
		sleep_ms(100);
	}
	CHECK(t, t_done >= 0 && t_done < 5000, "Start with timeout_nano 2 s: %s after %ld ms",
	      t_done >= 0 ? "answered" : "not answered", t_done >= 0 ? t_done : now_ms() - t0);
	CHECK(t, t_done < 0 || rcode != 0, "Start of a hung runtime succeeded");
	CHECK(t, worst_state < 1000 && state_fail == 0,
	      "State on another connection during the hung start: worst %ld ms, %d failed",
	      worst_state, state_fail);
	CHECK(t, worst_info < 1000 && info_fail == 0,
	      "ShimInfo on another connection during the hung start: worst %ld ms, %d failed",
	      worst_info, info_fail);
	if (t_done >= 0)
		obs(t, "Start (timeout_nano 2 s): code %d \"%s\" after %ld ms; meanwhile %d polls, "
		       "State worst %ld ms, ShimInfo worst %ld ms",
		    rcode, rmsg ? rmsg : "", t_done, polls, worst_state, worst_info);
	else
		obs(t, "Start (timeout_nano 2 s): no answer within 8 s; meanwhile %d polls, State "
		       "worst %ld ms, ShimInfo worst %ld ms",
		    polls, worst_state, worst_info);
	free(rmsg);
	/* The hung runtime (exec'd `sleep 60`, a child of the shim) must be gone. */
	sleep_ms(500);
	pid_t kids[8];
	int nk = proc_children(f.si.pid, "sleep", kids, 8);
	CHECK(t, nk == 0, "the hung runtime is still running (%d 'sleep' children of the shim)", nk);
	int st = -1;
	code = rpc_state(f.c, f.si.id, &st, NULL, NULL, 5000);
	obs(t, "after the failed Start: State %d status %d; hung runtime processes left: %d", code,
	    st, nk);
	shim_ok(t, &f, "after the hung start");
	if (c2)
		shimclient_close(c2);
	c2 = NULL;
	fx_free(&f);

	/* Part 2: a Start without deadline whose client vanishes mid-request (spec §2.7: the
	 * in-flight requests of a closed connection are cancelled, runc children killed). */
	if (fx_launch(t, &f, "hsd", ARGV_SLEEP) < 0)
		goto out;
	code = rpc_create(f.c, &f.si, wrapper("hang-start.sh"), NULL, NULL, &f.init_pid, &msg,
			  20000);
	if (!CHECK(t, code == 0, "Create through hang-start.sh: %d \"%s\"", code, msg ? msg : ""))
		goto out;
	{
		int fd = raw_connect(f.si.sock);
		size_t fl2;
		sr.id = f.si.id;
		uint8_t *fr2 = mk_req(1, "Start", &sr.base, 0, &fl2);
		if (fd >= 0)
			(void)raw_send_all(fd, fr2, fl2, 2000);
		free(fr2);
		long dl = now_ms() + 3000;
		while (proc_children(f.si.pid, "sleep", kids, 8) == 0 && now_ms() < dl)
			sleep_ms(20);
		int hung = proc_children(f.si.pid, "sleep", kids, 8);
		if (fd >= 0)
			close(fd);
		long a = now_ms();
		while ((nk = proc_children(f.si.pid, "sleep", kids, 8)) > 0 && now_ms() - a < 3000)
			sleep_ms(20);
		long t_gone = now_ms() - a;
		CHECK(t, hung == 1 && nk == 0,
		      "Start whose client vanished: hung runtime %s 3 s after the disconnect",
		      hung != 1 ? "never seen" : nk ? "still running" : "gone");
		obs(t, "Start whose client vanished mid-request: hung runtime %s (%ld ms after the "
		       "disconnect)",
		    hung != 1 ? "never seen" : nk ? "still running" : "killed", t_gone);
		shim_ok(t, &f, "after the abandoned Start");
	}
out:
	free(msg);
	if (c2)
		shimclient_close(c2);
	fx_free(&f);
}

static void case_killcreated(struct tc *t)
{
	struct fx f = { 0 };
	char *msg = NULL;
	if (fx_launch(t, &f, "kcr", ARGV_SLEEP) < 0)
		goto out;
	int code = rpc_create(f.c, &f.si, "runc", NULL, NULL, &f.init_pid, &msg, 20000);
	if (!CHECK(t, code == 0 && f.init_pid > 0, "Create: %d \"%s\"", code, msg ? msg : ""))
		goto out;
	kill((pid_t)f.init_pid, SIGKILL);
	long t0 = now_ms();
	int st = -1;
	uint32_t es = 0;
	while (now_ms() - t0 < 5000) {
		code = rpc_state(f.c, f.si.id, &st, &es, NULL, 3000);
		if (code != 0 || st == ST_STOPPED)
			break;
		sleep_ms(20);
	}
	long t_state = now_ms() - t0;
	CHECK(t, code == 0 && st == ST_STOPPED && es == 137,
	      "State after SIGKILL of the created init: code %d status %d exit %u after %ld ms", code,
	      st, es, t_state);
	uint32_t ws = 0;
	long a = now_ms();
	int wc = rpc_wait(f.c, f.si.id, &ws, 5000);
	long t_wait = now_ms() - a;
	CHECK(t, wc == 0 && ws == 137, "Wait: code %d status %u", wc, ws);
	int nev = pub_events_wait(&f.si, 1, 3000);
	sleep_ms(200);
	nev = pub_events_wait(&f.si, 1, 0);
	CHECK(t, nev == 1, "%d TaskExit publications", nev);
	uint32_t des = 0;
	free(msg);
	msg = NULL;
	int dc = rpc_delete(f.c, &des, &msg, 10000);
	CHECK(t, dc == 0 && des == 137, "Delete: %d exit %u \"%s\"", dc, des, msg ? msg : "");
	obs(t, "STOPPED after %ld ms, Wait %u in %ld ms, %d TaskExit, Delete %d exit %u", t_state, ws,
	    t_wait, nev, dc, des);
	shim_ok(t, &f, "after the killed created init");
out:
	free(msg);
	fx_free(&f);
}

/* `sh -c 'sleep 300 & echo hi; exit 0'` variants. */
enum bgmode { BG_INIT, BG_INIT_HOSTPID, BG_EXEC };

static void bg_one(struct tc *t, enum bgmode mode)
{
	static const char *const NAMES[] = { "init", "init, host pid ns", "exec" };
	const char *sharg = "sleep 300 & echo bg=$!; echo hi; exit 0";
	const char *const argv_bg[] = { "/bin/sh", "-c", sharg, NULL };
	struct fx f = { 0 };
	char out[PATH_MAX], err[PATH_MAX];
	int ofd = -1, efd = -1;
	char *msg = NULL, *text = NULL;
	const char *name = NAMES[mode];

	if (fx_launch(t, &f, "bgc", mode == BG_EXEC ? ARGV_SLEEP : argv_bg) < 0)
		goto out;
	if (mode == BG_INIT_HOSTPID) {
		char cfg[PATH_MAX + 16];
		xsnprintf(cfg, sizeof(cfg), "%s/config.json", f.si.bundle);
		if (!CHECK(t, edit_json(cfg, drop_pid_ns) == 0, "harness: config edit"))
			goto out;
	}
	if (!CHECK(t, mk_fifo(&f, "bgout", true, out, sizeof(out), &ofd) == 0 &&
			      mk_fifo(&f, "bgerr", true, err, sizeof(err), &efd) == 0,
		   "harness: fifo"))
		goto out;
	const char *wid = mode == BG_EXEC ? "bgx" : f.si.id;
	int code;
	long t0;
	if (mode == BG_EXEC) {
		if (fx_run_container(t, &f) < 0)
			goto out;
		code = rpc_exec(f.c, wid, argv_bg, out, err, &msg, 10000);
		if (!CHECK(t, code == 0, "%s: Exec: %d \"%s\"", name, code, msg ? msg : ""))
			goto out;
	} else {
		code = rpc_create(f.c, &f.si, "runc", out, err, &f.init_pid, &msg, 20000);
		if (!CHECK(t, code == 0, "%s: Create: %d \"%s\"", name, code, msg ? msg : ""))
			goto out;
	}
	free(msg);
	msg = NULL;
	t0 = now_ms();
	code = rpc_start(f.c, wid, NULL, &msg, 20000);
	if (!CHECK(t, code == 0, "%s: Start: %d \"%s\"", name, code, msg ? msg : ""))
		goto out;
	uint32_t es = 99;
	int wc = rpc_wait(f.c, wid, &es, 10000);
	long t_wait = now_ms() - t0;
	text = read_until(ofd, "hi\n", 2000);
	char *bgp = text ? strstr(text, "bg=") : NULL;
	pid_t bg = bgp ? (pid_t)atoi(bgp + 3) : 0;
	bool bg_alive = false;
	if (mode == BG_INIT_HOSTPID && bg > 0) {
		/* Host pid namespace: $! is a host pid; verify it is our sleep, then own it. */
		char p[64], comm[64] = "";
		xsnprintf(p, sizeof(p), "/proc/%d/comm", (int)bg);
		FILE *cf = fopen(p, "re");
		if (cf) {
			if (fgets(comm, sizeof(comm), cf))
				comm[strcspn(comm, "\n")] = '\0';
			fclose(cf);
		}
		if (strcmp(comm, "sleep") == 0) {
			bg_alive = true;
			f.bg[f.nbg++] = bg;
			reg_extra(bg, true);
		}
	}
	CHECK(t, wc == 0 && es == 0 && t_wait < 3000,
	      "%s: Wait with a background child holding stdout: code %d status %u after %ld ms", name,
	      wc, es, t_wait);
	CHECK(t, text && strstr(text, "hi\n"), "%s: output \"%s\"", name, text ? text : "");
	int nev = pub_events_wait(&f.si, 1, 3000);
	long t_ev = now_ms() - t0;
	CHECK(t, nev >= 1 && t_ev < 3500, "%s: TaskExit %d after %ld ms", name, nev, t_ev);
	long a = now_ms();
	int dc;
	if (mode == BG_EXEC)
		dc = rpc_delete_process(f.c, wid, 30000);
	else
		dc = rpc_delete(f.c, NULL, NULL, 30000);
	long t_del = now_ms() - a;
	CHECK(t, dc == 0 && t_del < 15000, "%s: Delete%s: code %d after %ld ms", name,
	      mode == BG_EXEC ? "Process" : "", dc, t_del);
	obs(t, "%s: Wait %u after %ld ms, TaskExit after %ld ms, Delete%s %d after %ld ms; background "
	       "sleep %s",
	    name, es, t_wait, t_ev, mode == BG_EXEC ? "Process" : "", dc, t_del,
	    mode == BG_INIT_HOSTPID
		    ? (bg_alive ? "alive, holding stdout"
				: bg > 0 ? "(host pid from $!) already killed: the shim runs kill --all when "
					   "an init sharing the pid namespace exits"
					 : "pid not seen")
		    : "lives on in the container, holding stdout");
	shim_ok(t, &f, "after the background-child case");
	if (mode == BG_EXEC)
		fx_stop_init(&f);
out:
	free(msg);
	free(text);
	if (ofd >= 0)
		close(ofd);
	if (efd >= 0)
		close(efd);
	fx_free(&f);
}

static void case_bgchild(struct tc *t)
{
	bg_one(t, BG_INIT);
	bg_one(t, BG_INIT_HOSTPID);
	bg_one(t, BG_EXEC);
}

/* 1 MiB written to a stdout FIFO nobody reads. never_opened: the test never opens it (the Go
 * shim then blocks in Create: bounded by timeout_nano 4 s); else opened before Create and
 * closed right after Start. */
static void noreader_one(struct tc *t, bool never_opened)
{
	const char *const argv_w[] = { "/bin/sh", "-c", "head -c 1048576 /dev/zero; sleep 1000",
				       NULL };
	const char *name = never_opened ? "never opened" : "reader gone";
	struct fx f = { 0 };
	struct shimclient *c2 = NULL;
	char out[PATH_MAX], err[PATH_MAX], *msg = NULL;
	int ofd = -1, efd = -1, code;

	if (fx_launch(t, &f, "nio", argv_w) < 0)
		goto out;
	/* stderr: a FIFO whose reader stays open (the Go shim fails a Create that names stdout
	 * but leaves stderr empty: it opens "" as a file). */
	if (!CHECK(t, mk_fifo(&f, "wout", !never_opened, out, sizeof(out), &ofd) == 0 &&
			      mk_fifo(&f, "werr", true, err, sizeof(err), &efd) == 0,
		   "harness: fifo"))
		goto out;
	CreateReq cr = CONTAINERD__RUNTIME__LINUX__SHIM__V1__CREATE_TASK_REQUEST__INIT;
	cr.id = f.si.id;
	cr.bundle = f.si.bundle;
	cr.runtime = "runc";
	cr.stdout = out;
	cr.stderr = err;
	uint32_t stream = shimclient_next_stream(f.c);
	size_t fl;
	uint8_t *fr = mk_req(stream, "Create", &cr.base, 4000000000LL, &fl);
	long t0 = now_ms();
	int rc = shimclient_send_raw(f.c, fr, fl);
	free(fr);
	struct ttrpc_hdr rh;
	uint8_t *body = NULL;
	if (rc == 0)
		rc = shimclient_recv_frame(f.c, stream, 20000, &rh, &body);
	code = -1;
	if (rc == 0) {
		struct shimclient_reply rep;
		if (shimclient_decode_reply(&rh, body, &rep) == 0) {
			code = rep.code;
			msg = rep.msg;
			rep.msg = NULL;
			if (code == 0) {
				CreateResp *cresp =
					containerd__runtime__linux__shim__v1__create_task_response__unpack(
						NULL, rep.plen, rep.payload);
				f.init_pid = cresp ? cresp->pid : 0;
				FREE_MSG(cresp);
			}
			shimclient_reply_free(&rep);
		}
	}
	free(body);
	long t_create = now_ms() - t0;
	if (never_opened && !t->is_c) {
		/* Not meaningful for the Go shim (it needs a reader to open its FIFO end). */
		obs(t, "%s: Create with timeout_nano 4 s: rc %d code %d \"%s\" after %ld ms "
		       "(not a difference: containerd always opens its end first)",
		    name, rc, code, msg ? msg : "", t_create);
		shim_ok(t, &f, "after the timed-out Create");
		goto out;
	}
	if (!CHECK(t, rc == 0 && code == 0, "%s: Create: rc %d code %d \"%s\" after %ld ms", name,
		   rc, code, msg ? msg : "", t_create))
		goto out;
	free(msg);
	msg = NULL;
	code = rpc_start(f.c, f.si.id, NULL, &msg, 20000);
	if (!CHECK(t, code == 0, "%s: Start: %d \"%s\"", name, code, msg ? msg : ""))
		goto out;
	if (ofd >= 0) {
		close(ofd);
		ofd = -1;
	}
	sleep_ms(1500);
	c2 = shimclient_connect(f.si.sock, 3000);
	long worst = 0;
	int fails = 0, st = -1, np = -1;
	for (int i = 0; i < 5 && c2; i++) {
		long a = now_ms();
		if (rpc_shiminfo(c2, NULL, 3000) != 0)
			fails++;
		if (rpc_state(c2, f.si.id, &st, NULL, NULL, 3000) != 0)
			fails++;
		if (rpc_listpids(c2, f.si.id, &np, 5000) != 0)
			fails++;
		long d = now_ms() - a;
		if (d > worst)
			worst = d;
	}
	bool alive = shim_alive(&f.si);
	pid_t heads[4];
	int nhead = proc_children((pid_t)f.init_pid, "head", heads, 4);
	CHECK(t, alive && c2 && fails == 0 && worst < 1000,
	      "%s: shim alive %d, %d failed RPCs, worst round %ld ms", name, alive, fails, worst);
	CHECK(t, st == ST_RUNNING, "%s: State %d", name, st);
	long a = now_ms();
	int kc = rpc_kill(f.c, f.si.id, SIGKILL, false, 5000);
	uint32_t es = 0;
	int wc = rpc_wait(f.c, f.si.id, &es, 10000);
	long t_wait = now_ms() - a;
	CHECK(t, kc == 0 && wc == 0 && es == 137 && t_wait < 5000,
	      "%s: Kill/Wait of the blocked writer: %d %d status %u after %ld ms", name, kc, wc, es,
	      t_wait);
	a = now_ms();
	int dc = rpc_delete(f.c, NULL, NULL, 30000);
	long t_del = now_ms() - a;
	CHECK(t, dc == 0 && t_del < 15000, "%s: Delete: %d after %ld ms", name, dc, t_del);
	obs(t, "%s: after 1.5 s: alive %d, RPC round worst %ld ms, State %d, ListPids %d procs, "
	       "writer `head` %s; Kill+Wait %ld ms; Delete %d in %ld ms",
	    name, alive, worst, st, np, nhead > 0 ? "still blocked" : "done", t_wait, dc, t_del);
	shim_ok(t, &f, "after the unread stdout");
out:
	free(msg);
	if (c2)
		shimclient_close(c2);
	if (ofd >= 0)
		close(ofd);
	if (efd >= 0)
		close(efd);
	fx_free(&f);
}

static void case_noreaderio(struct tc *t)
{
	noreader_one(t, true);
	noreader_one(t, false);
}


/* Several processes whose stdout nobody reads exit together: every exit must still be reported
 * promptly, in particular the exits of processes without any IO (the exit path must not be
 * serialized behind bounded-but-slow IO drains). */
#define STUCK_N 3
static void case_stuckio(struct tc *t)
{
	const char *const argv_w[] = { "/bin/sh", "-c", "head -c 1048576 /dev/zero; sleep 1000",
				       NULL };
	const char *const argv_q[] = { "/bin/sleep", "1000", NULL };
	struct fx f = { 0 };
	struct shimclient *c2 = NULL;
	int ofd[STUCK_N], efd[STUCK_N];
	char ids[STUCK_N + 2][16];
	uint32_t streams[STUCK_N + 2];
	long seen[STUCK_N + 2];
	uint32_t status[STUCK_N + 2];
	char *msg = NULL;

	for (int i = 0; i < STUCK_N; i++)
		ofd[i] = efd[i] = -1;
	if (fx_launch(t, &f, "stk", ARGV_SLEEP) < 0 || fx_run_container(t, &f) < 0)
		goto out;
	for (int i = 0; i < STUCK_N; i++) {
		char on[16], en[16], op[PATH_MAX], ep[PATH_MAX];
		xsnprintf(ids[i], sizeof(ids[i]), "w%d", i);
		xsnprintf(on, sizeof(on), "w%do", i);
		xsnprintf(en, sizeof(en), "w%de", i);
		if (!CHECK(t, mk_fifo(&f, on, true, op, sizeof(op), &ofd[i]) == 0 &&
				      mk_fifo(&f, en, true, ep, sizeof(ep), &efd[i]) == 0,
			   "harness: fifo"))
			goto out;
		int code = rpc_exec(f.c, ids[i], argv_w, op, ep, &msg, 10000);
		if (code == 0)
			code = rpc_start(f.c, ids[i], NULL, NULL, 20000);
		if (!CHECK(t, code == 0, "exec %s: %d \"%s\"", ids[i], code, msg ? msg : ""))
			goto out;
		free(msg);
		msg = NULL;
		close(ofd[i]); /* the reader goes away; the writer fills the FIFO and blocks */
		ofd[i] = -1;
	}
	xsnprintf(ids[STUCK_N], sizeof(ids[0]), "q");
	int code = rpc_exec(f.c, "q", argv_q, NULL, NULL, &msg, 10000);
	if (code == 0)
		code = rpc_start(f.c, "q", NULL, NULL, 20000);
	if (!CHECK(t, code == 0, "exec q (no IO): %d \"%s\"", code, msg ? msg : ""))
		goto out;
	xsnprintf(ids[STUCK_N + 1], sizeof(ids[0]), "%s", f.si.id);
	sleep_ms(1000);
	/* A Wait in flight for everything, then one SIGKILL of the init ends them all. */
	for (int i = 0; i < STUCK_N + 2; i++) {
		WaitReq wr = CONTAINERD__RUNTIME__LINUX__SHIM__V1__WAIT_REQUEST__INIT;
		size_t fl;
		wr.id = ids[i];
		streams[i] = shimclient_next_stream(f.c);
		uint8_t *fr = mk_req(streams[i], "Wait", &wr.base, 0, &fl);
		(void)shimclient_send_raw(f.c, fr, fl);
		free(fr);
		seen[i] = -1;
		status[i] = 0;
	}
	c2 = shimclient_connect(f.si.sock, 3000);
	if (!CHECK(t, c2 != NULL, "harness: second connection"))
		goto out;
	long t0 = now_ms();
	code = rpc_kill(c2, f.si.id, SIGKILL, false, 5000);
	CHECK(t, code == 0, "Kill init: %d", code);
	int left = STUCK_N + 2;
	long worst_state = 0;
	while (left > 0 && now_ms() - t0 < 10000) {
		for (int i = 0; i < STUCK_N + 2; i++) {
			struct ttrpc_hdr rh;
			uint8_t *body = NULL;
			if (seen[i] >= 0 || shimclient_recv_frame(f.c, streams[i], 0, &rh, &body) < 0)
				continue;
			seen[i] = now_ms() - t0;
			struct shimclient_reply rep;
			if (shimclient_decode_reply(&rh, body, &rep) == 0) {
				WaitResp *wr = NULL;
				if (rep.code == 0)
					wr = containerd__runtime__linux__shim__v1__wait_response__unpack(
						NULL, rep.plen, rep.payload);
				status[i] = wr ? wr->exit_status : 0;
				FREE_MSG(wr);
				shimclient_reply_free(&rep);
			}
			free(body);
			left--;
		}
		long a = now_ms();
		(void)rpc_state(c2, "q", NULL, NULL, NULL, 3000);
		if (now_ms() - a > worst_state)
			worst_state = now_ms() - a;
		sleep_ms(10);
	}
	char desc[256] = "";
	size_t dl = 0;
	for (int i = 0; i < STUCK_N + 2; i++)
		dl += (size_t)snprintf(desc + dl, sizeof(desc) - dl, "%s%s=%ldms/%u", i ? " " : "",
				       i == STUCK_N + 1 ? "init" : ids[i], seen[i], status[i]);
	obs(t, "%d execs with unread stdout + exec q (no IO) + init killed at once: Wait answered "
	       "after %s; State during: worst %ld ms",
	    STUCK_N, desc, worst_state);
	CHECK(t, seen[STUCK_N] >= 0 && seen[STUCK_N] < 1500,
	      "exit of exec q (no IO) reported after %ld ms (behind the stuck IO drains)",
	      seen[STUCK_N]);
	CHECK(t, seen[STUCK_N + 1] >= 0 && seen[STUCK_N + 1] < 3000,
	      "exit of the init reported after %ld ms", seen[STUCK_N + 1]);
	for (int i = 0; i < STUCK_N; i++)
		CHECK(t, seen[i] >= 0 && seen[i] < 3000, "exit of %s reported after %ld ms", ids[i],
		      seen[i]);
	shim_ok(t, &f, "after the stuck-IO exits");
out:
	free(msg);
	for (int i = 0; i < STUCK_N; i++) {
		if (ofd[i] >= 0)
			close(ofd[i]);
		if (efd[i] >= 0)
			close(efd[i]);
	}
	if (c2)
		shimclient_close(c2);
	fx_free(&f);
}

/* ======================================================================================
 * cmocka glue
 * ====================================================================================== */

static void run_case(const char *name, void (*fn)(struct tc *), bool is_c)
{
	struct tc t = { .is_c = is_c, .label = is_c ? "cshim" : "go", .name = name };
	if (g_filter && !strstr(name, g_filter))
		skip();
	if (!is_c && !g_go_ok)
		skip();
	long t0 = now_ms();
	fn(&t);
	fprintf(stderr, "[  TIME  ] %-5s %-11s %ld ms, %d failed checks\n", t.label, name,
		now_ms() - t0, t.fails);
	if (is_c && t.fails)
		fail_msg("%s: %d checks failed against cshim", name, t.fails);
}

#define CASE(n)                                                                             \
	static void n##_c(void **s)                                                         \
	{                                                                                   \
		(void)s;                                                                    \
		run_case(#n, case_##n, true);                                               \
	}                                                                                   \
	static void n##_go(void **s)                                                        \
	{                                                                                   \
		(void)s;                                                                    \
		run_case(#n, case_##n, false);                                              \
	}

CASE(oversize)
CASE(vanish)
CASE(streams)
CASE(garbage)
CASE(idle1000)
CASE(bytewise)
CASE(noreader)
CASE(peercred)
CASE(hygiene)
CASE(failcreate)
CASE(hangstart)
CASE(killcreated)
CASE(bgchild)
CASE(noreaderio)
CASE(stuckio)

static int copy_wrappers(void)
{
	static const char *const names[] = { "fdprobe.sh", "publish-probe.sh", "fail-create.sh",
					     "hang-start.sh", NULL };
	const char *src = getenv("CSHIM_IT_WRAPPERS");
	char srcdir[PATH_MAX];
	if (src && *src) {
		xsnprintf(srcdir, sizeof(srcdir), "%s", src);
	} else if (access("tests/integration/wrappers/fdprobe.sh", R_OK) == 0) {
		xsnprintf(srcdir, sizeof(srcdir), "tests/integration/wrappers");
	} else {
		/* next to the source tree of the binary: build/tests/test_abuse */
		char exe[PATH_MAX];
		ssize_t k = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		if (k < 0)
			return -errno;
		exe[k] = '\0';
		xsnprintf(srcdir, sizeof(srcdir), "%s/../../tests/integration/wrappers",
			  dirname(exe));
	}
	const char *root = it_root();
	if (!root)
		return -EIO;
	xsnprintf(g_wrappers, sizeof(g_wrappers), "%s/wrappers", root);
	if (mkdir(g_wrappers, 0755) < 0 && errno != EEXIST)
		return -errno;
	for (int i = 0; names[i]; i++) {
		char s[PATH_MAX + 64], d[PATH_MAX + 64];
		xsnprintf(s, sizeof(s), "%s/%s", srcdir, names[i]);
		xsnprintf(d, sizeof(d), "%s/%s", g_wrappers, names[i]);
		char *txt = read_text(s);
		if (!txt) {
			fprintf(stderr, "[ ERROR  ] cannot read %s\n", s);
			return -ENOENT;
		}
		FILE *o = fopen(d, "we");
		if (!o) {
			free(txt);
			return -errno;
		}
		fputs(txt, o);
		fclose(o);
		free(txt);
		if (chmod(d, 0755) < 0)
			return -errno;
	}
	return 0;
}

static int group_setup(void **s)
{
	(void)s;
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 4096) {
		rl.rlim_cur = rl.rlim_max < 4096 ? rl.rlim_max : 4096;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (copy_wrappers() < 0)
		return -1;
	return 0;
}

/* Anything this program started that is still around: a process whose cgroup or command line
 * mentions one of our container ids (it<ourpid>x...) or our temp root. Reported, killed by
 * pid. */
static int leftover_check(void)
{
	char tag[64], path[64], buf[8192];
	DIR *d = opendir("/proc");
	struct dirent *de;
	int found = 0;
	const char *root = it_root();

	xsnprintf(tag, sizeof(tag), "it%dx", (int)getpid());
	while (d && (de = readdir(d))) {
		int pid = atoi(de->d_name);
		if (pid <= 0 || pid == getpid())
			continue;
		for (int k = 0; k < 2; k++) {
			xsnprintf(path, sizeof(path), "/proc/%d/%s", pid, k ? "cmdline" : "cgroup");
			FILE *f = fopen(path, "re");
			if (!f)
				continue;
			size_t n = fread(buf, 1, sizeof(buf) - 1, f);
			fclose(f);
			for (size_t i = 0; i < n; i++)
				if (buf[i] == '\0')
					buf[i] = ' ';
			buf[n] = '\0';
			if (strstr(buf, tag) || (root && strstr(buf, root))) {
				fprintf(stderr, "[ ERROR  ] leftover process %d: %.200s\n", pid, buf);
				kill(pid, SIGKILL);
				found++;
				break;
			}
		}
	}
	if (d)
		closedir(d);
	return found;
}

static int group_teardown(void **s)
{
	(void)s;
	int left = leftover_check();
	if (left)
		fprintf(stderr, "[ ERROR  ] %d leftover processes were killed\n", left);
	fprintf(stderr, "\n==================== test_abuse summary ====================\n");
	fprintf(stderr, "kind: o observation, F cshim check failed, D Go differs from the check\n");
	for (int i = 0; i < g_nrows; i++)
		fprintf(stderr, "%c %-5s %-11s %s\n", g_rows[i].kind, g_rows[i].shim, g_rows[i].test,
			g_rows[i].text);
	fprintf(stderr, "=============================================================\n");
	it_root_remove();
	return 0;
}

int main(void)
{
	const char *go = getenv("CSHIM_ABUSE_GO");
	const char *to = getenv("CSHIM_IT_TIMEOUT");
	long secs = to && atol(to) > 0 ? atol(to) : 170;
	pthread_t wd;

	signal(SIGPIPE, SIG_IGN);
	g_filter = getenv("CSHIM_ABUSE_FILTER");
	if (g_filter && !*g_filter)
		g_filter = NULL;
	g_go_ok = !(go && strcmp(go, "0") == 0) && access(shim_bin(false), X_OK) == 0;
	if (geteuid() != 0) {
		fprintf(stderr, "test_abuse needs root (runc, setuid children)\n");
		return 77;
	}
	if (access(shim_bin(true), X_OK) != 0) {
		fprintf(stderr, "cshim binary %s not found (set CSHIM)\n", shim_bin(true));
		return 1;
	}
	pthread_create(&wd, NULL, watchdog_main, (void *)(intptr_t)secs);
	pthread_detach(wd);

	const struct CMUnitTest tests[] = {
		cmocka_unit_test(oversize_c),    cmocka_unit_test(oversize_go),
		cmocka_unit_test(vanish_c),      cmocka_unit_test(vanish_go),
		cmocka_unit_test(streams_c),     cmocka_unit_test(streams_go),
		cmocka_unit_test(garbage_c),     cmocka_unit_test(garbage_go),
		cmocka_unit_test(idle1000_c),    cmocka_unit_test(idle1000_go),
		cmocka_unit_test(bytewise_c),    cmocka_unit_test(bytewise_go),
		cmocka_unit_test(noreader_c),    cmocka_unit_test(noreader_go),
		cmocka_unit_test(peercred_c),    cmocka_unit_test(peercred_go),
		cmocka_unit_test(hygiene_c),     cmocka_unit_test(hygiene_go),
		cmocka_unit_test(failcreate_c),  cmocka_unit_test(failcreate_go),
		cmocka_unit_test(hangstart_c),   cmocka_unit_test(hangstart_go),
		cmocka_unit_test(killcreated_c), cmocka_unit_test(killcreated_go),
		cmocka_unit_test(bgchild_c),     cmocka_unit_test(bgchild_go),
		cmocka_unit_test(noreaderio_c),  cmocka_unit_test(noreaderio_go),
		cmocka_unit_test(stuckio_c),     cmocka_unit_test(stuckio_go),
	};
	int rc = cmocka_run_group_tests_name("test_abuse", tests, group_setup, group_teardown);
	return rc;
}
