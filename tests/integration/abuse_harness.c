/* SPDX-License-Identifier: Apache-2.0 */
/* test_abuse's harness (abuse.h): checks and their rows, the watchdog's registry, /proc,
 * raw frames, typed RPCs, the one-shim fixture, wrappers and files. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "proto/ttrpc_codec.h"
#include "tests/integration/abuse.h"

const char *const ARGV_SLEEP[] = { "/bin/sleep", "1000", NULL };

static char g_wrappers[PATH_MAX]; /* copies of tests/integration/wrappers (mode 0755) */

void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
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

static void add_row(struct tc *t, char kind, const char *text)
{
	pthread_mutex_lock(&g_rows_mu);
	if (g_nrows < MAX_ROWS) {
		struct row *r = &g_rows[g_nrows++];
		it_snprintf(r->test, sizeof(r->test), "%s", t->name);
		it_snprintf(r->shim, sizeof(r->shim), "%s", t->label);
		r->kind = kind;
		it_snprintf(r->text, sizeof(r->text), "%s", text);
	}
	pthread_mutex_unlock(&g_rows_mu);
}

__attribute__((format(printf, 2, 3))) void obs(struct tc *t, const char *fmt, ...)
{
	char buf[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fprintf(stderr, "[  OBS   ] %-5s %-11s %s\n", t->label, t->name, buf);
	add_row(t, 'o', buf);
}

__attribute__((format(printf, 4, 5))) bool check_(struct tc *t, bool ok, int line, const char *fmt,
						  ...)
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

/* ======================================================================================
 * Watchdog: everything this program started is killed if the run takes too long.
 * ====================================================================================== */

#define MAX_REG 32
static struct shim_inst *g_reg[MAX_REG];
static pid_t g_extra[64];
static pthread_mutex_t g_reg_mu = PTHREAD_MUTEX_INITIALIZER;

void reg_shim(struct shim_inst *si, bool add)
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

void reg_extra(pid_t pid, bool add)
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
		it_snprintf(rroot, sizeof(rroot), "%s/%s", si->runtime_root, si->ns);
		const char *av[] = { "/usr/sbin/runc", "--root", rroot, "delete",
				     "--force",        si->id,   NULL };
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

/* Value of a "Key:" line of /proc/PID/status into out (trimmed). 0 or -1. */
int proc_status(pid_t pid, const char *key, char *out, size_t n)
{
	char p[64], line[512];
	size_t kl = strlen(key);
	int rc = -1;
	it_snprintf(p, sizeof(p), "/proc/%d/status", (int)pid);
	FILE *f = fopen(p, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, key, kl) == 0 && line[kl] == ':') {
			char *v = line + kl + 1;
			while (*v == ' ' || *v == '\t')
				v++;
			v[strcspn(v, "\n")] = '\0';
			it_snprintf(out, n, "%s", v);
			rc = 0;
			break;
		}
	}
	fclose(f);
	return rc;
}

long proc_rss_kb(pid_t pid)
{
	char v[64];
	if (proc_status(pid, "VmRSS", v, sizeof(v)) < 0)
		return -1;
	return atol(v);
}

/* "n->target n->target ..." of every fd of pid; returns the count, *extra = fds >= 3. */
int proc_fd_desc(pid_t pid, char *out, size_t n, int *extra)
{
	char p[64], lp[96], tgt[PATH_MAX];
	DIR *d;
	struct dirent *de;
	size_t l = 0;
	int cnt = 0;

	out[0] = '\0';
	*extra = 0;
	it_snprintf(p, sizeof(p), "/proc/%d/fd", (int)pid);
	d = opendir(p);
	if (!d)
		return -1;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		int fd = atoi(de->d_name);
		if (fd == dirfd(d))
			continue;
		it_snprintf(lp, sizeof(lp), "%s/%s", p, de->d_name);
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
void proc_fd_kinds(pid_t pid, char *out, size_t n)
{
	char p[64], lp[96], tgt[256];
	int so = 0, pi = 0, an = 0, ot = 0;
	DIR *d;
	struct dirent *de;
	it_snprintf(p, sizeof(p), "/proc/%d/fd", (int)pid);
	d = opendir(p);
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.' || atoi(de->d_name) == dirfd(d))
			continue;
		it_snprintf(lp, sizeof(lp), "%s/%s", p, de->d_name);
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
	it_snprintf(out, n, "sockets %d, pipes %d, anon %d, other %d", so, pi, an, ot);
}

/* Children of `parent` whose comm is `comm` (NULL: any): pids into out (max n); count. */
int proc_children(pid_t parent, const char *comm, pid_t *out, int n)
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
		it_snprintf(p, sizeof(p), "/proc/%d/stat", pid);
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
int wait_fds_le(pid_t pid, int want, int timeout_ms)
{
	long dl = it_now_ms() + timeout_ms;
	int n;
	for (;;) {
		n = it_proc_fds(pid);
		if (n <= want || it_now_ms() >= dl)
			return n;
		sleep_ms(20);
	}
}

static void *mon_main(void *arg)
{
	struct mon *m = arg;
	while (!atomic_load(&m->stop)) {
		int f = it_proc_fds(m->pid), th = it_proc_threads(m->pid);
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

void mon_start(struct mon *m, pid_t pid)
{
	memset(m, 0, sizeof(*m));
	m->pid = pid;
	atomic_init(&m->stop, false);
	m->started = pthread_create(&m->thr, NULL, mon_main, m) == 0;
}

void mon_stop(struct mon *m)
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

int raw_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	it_snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

/* Writes everything (poll-bounded, works for blocking and non-blocking fds). */
int raw_send_all(int fd, const void *buf, size_t n, int timeout_ms)
{
	const uint8_t *p = buf;
	long dl = it_now_ms() + timeout_ms;
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
		long left = dl - it_now_ms();
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
		long left = deadline - it_now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		poll(&pf, 1, (int)left);
	}
	return 0;
}

int raw_recv_frame(int fd, int timeout_ms, struct ttrpc_hdr *h, uint8_t **body)
{
	uint8_t hb[TTRPC_HDR_LEN];
	long dl = it_now_ms() + timeout_ms;
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
int raw_recv_reply(int fd, int timeout_ms, struct ttrpc_hdr *h, int *code, char **msg,
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
uint8_t *mk_req(uint32_t stream, const char *method, const ProtobufCMessage *m,
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
	if (ttrpc_request_frame(stream, SHIM_SERVICE, method, pl, plen, timeout_nano, &frame, len) <
	    0)
		abort();
	free(pl);
	return frame;
}

uint8_t *mk_shiminfo(uint32_t stream, size_t *len)
{
	Google__Protobuf__Empty e = GOOGLE__PROTOBUF__EMPTY__INIT;
	return mk_req(stream, "ShimInfo", &e.base, 0, len);
}

uint8_t *mk_state(uint32_t stream, const char *id, size_t *len)
{
	StateReq r = CONTAINERD__RUNTIME__LINUX__SHIM__V1__STATE_REQUEST__INIT;
	r.id = (char *)id;
	return mk_req(stream, "State", &r.base, 0, len);
}

void set_stream(uint8_t *frame, uint32_t stream)
{
	frame[4] = (uint8_t)(stream >> 24);
	frame[5] = (uint8_t)(stream >> 16);
	frame[6] = (uint8_t)(stream >> 8);
	frame[7] = (uint8_t)stream;
}

/* ======================================================================================
 * Typed RPCs over shimclient
 * ====================================================================================== */

int rpc_create(struct shimclient *c, const struct shim_inst *si, const char *runtime,
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
	code = it_call(c, "Create", &req, D_CREATE_RESP, &r, msg, timeout_ms);
	if (pid)
		*pid = (code == 0 && r) ? r->pid : 0;
	IT_FREE(r);
	return code;
}

int rpc_delete(struct shimclient *c, uint32_t *exit_status, char **msg, int timeout_ms)
{
	Google__Protobuf__Empty e = GOOGLE__PROTOBUF__EMPTY__INIT;
	DeleteResp *r = NULL;
	int code = it_call(c, "Delete", &e, D_DELETE_RESP, &r, msg, timeout_ms);
	if (exit_status)
		*exit_status = (code == 0 && r) ? r->exit_status : 0;
	IT_FREE(r);
	return code;
}

int rpc_listpids(struct shimclient *c, const char *id, int *n, int timeout_ms)
{
	ListPidsReq req = CONTAINERD__RUNTIME__LINUX__SHIM__V1__LIST_PIDS_REQUEST__INIT;
	ListPidsResp *r = NULL;
	int code;
	req.id = (char *)id;
	code = it_call(c, "ListPids", &req, D_LISTPIDS_RESP, &r, NULL, timeout_ms);
	if (n)
		*n = (code == 0 && r) ? (int)r->n_processes : -1;
	IT_FREE(r);
	return code;
}

int rpc_exec(struct shimclient *c, const char *id, const char *const argv[], const char *out,
	     const char *err, char **msg, int timeout_ms)
{
	ExecReq req = CONTAINERD__RUNTIME__LINUX__SHIM__V1__EXEC_PROCESS_REQUEST__INIT;
	Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
	char *json = it_process_json(argv);
	int code;
	req.id = (char *)id;
	req.stdin = "";
	req.stdout = (char *)(out ? out : "");
	req.stderr = (char *)(err ? err : "");
	any.type_url = IT_PROCESS_TYPE_URL;
	any.value.data = (uint8_t *)json;
	any.value.len = strlen(json);
	req.spec = &any;
	code = it_call(c, "Exec", &req, D_EMPTY, NULL, msg, timeout_ms);
	free(json);
	return code;
}

/* ======================================================================================
 * Fixture: one shim (launch.c) + one control connection
 * ====================================================================================== */

int fx_launch(struct tc *t, struct fx *f, const char *tag, const char *const argv[])
{
	int rc;
	memset(f, 0, sizeof(*f));
	f->is_c = t->is_c;
	rc = shim_prepare(&f->si, t->is_c ? it_c_shim() : it_go_shim(), tag, argv);
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
	rc = it_shiminfo(f->c, &pid, 5000);
	if (!CHECK(t, rc == 0 && pid == (uint32_t)f->si.pid,
		   "harness: first ShimInfo: rc %d pid %u", rc, pid))
		return -1;
	return 0;
}

void fx_free(struct fx *f)
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
int fx_run_container(struct tc *t, struct fx *f)
{
	char *msg = NULL;
	int code = rpc_create(f->c, &f->si, "runc", NULL, NULL, &f->init_pid, &msg, 20000);
	bool ok = CHECK(t, code == 0 && f->init_pid > 0, "harness: Create: %d %s", code,
			msg ? msg : "");
	free(msg);
	if (!ok)
		return -1;
	code = it_start(f->c, f->si.id, NULL, &msg, 20000);
	ok = CHECK(t, code == 0, "harness: Start: %d %s", code, msg ? msg : "");
	free(msg);
	return ok ? 0 : -1;
}

/* Kills and reaps the init through the shim (bounded), for cases that end with a live one. */
void fx_stop_init(struct fx *f)
{
	if (!f->c || !f->init_pid)
		return;
	(void)it_kill(f->c, f->si.id, SIGKILL, true, NULL, 5000);
	(void)it_wait(f->c, f->si.id, NULL, NULL, 5000);
}

bool shim_ok(struct tc *t, struct fx *f, const char *when)
{
	uint32_t pid = 0;
	bool alive = shim_alive(&f->si);
	int rc = alive ? it_shiminfo(f->c, &pid, 3000) : -1;
	return CHECK(t, alive && rc == 0 && pid == (uint32_t)f->si.pid,
		     "shim not serving %s: alive %d, ShimInfo rc %d pid %u (exit status 0x%x)",
		     when, alive, rc, pid, (unsigned)f->si.exit_status);
}

/* Copies a wrapper into the run's private dir (0755) and returns its absolute path. */
const char *wrapper(const char *name)
{
	static __thread char p[PATH_MAX];
	it_snprintf(p, sizeof(p), "%s/%s", g_wrappers, name);
	return p;
}

int edit_json(const char *path, void (*fn)(json_t *))
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

void drop_pid_ns(json_t *cfg)
{
	json_t *ns = json_object_get(json_object_get(cfg, "linux"), "namespaces");
	size_t i;
	json_t *v;
	json_array_foreach(ns, i, v) {
		const char *ty = json_string_value(json_object_get(v, "type"));
		if (ty && strcmp(ty, "pid") == 0) {
			json_array_remove(ns, i);
			break;
		}
	}
}

/* mkfifo DIR/name; *rfd = read end (O_RDONLY|O_NONBLOCK) if open_reader, else -1. */
int mk_fifo(const struct fx *f, const char *name, bool open_reader, char *path, size_t n, int *rfd)
{
	it_snprintf(path, n, "%s/%s", f->si.dir, name);
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

int copy_wrappers(void)
{
	static const char *const names[] = { "fdprobe.sh", "publish-probe.sh", "fail-create.sh",
					     "hang-start.sh", NULL };
	const char *src = getenv("CSHIM_IT_WRAPPERS");
	char srcdir[PATH_MAX];
	if (src && *src) {
		it_snprintf(srcdir, sizeof(srcdir), "%s", src);
	} else if (access("tests/integration/wrappers/fdprobe.sh", R_OK) == 0) {
		it_snprintf(srcdir, sizeof(srcdir), "tests/integration/wrappers");
	} else {
		/* next to the source tree of the binary: build/tests/test_abuse */
		char exe[PATH_MAX];
		ssize_t k = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		if (k < 0)
			return -errno;
		exe[k] = '\0';
		it_snprintf(srcdir, sizeof(srcdir), "%s/../../tests/integration/wrappers",
			    dirname(exe));
	}
	const char *root = it_root();
	if (!root)
		return -EIO;
	it_snprintf(g_wrappers, sizeof(g_wrappers), "%s/wrappers", root);
	if (mkdir(g_wrappers, 0755) < 0 && errno != EEXIST)
		return -errno;
	for (int i = 0; names[i]; i++) {
		char s[PATH_MAX + 64], d[PATH_MAX + 64];
		it_snprintf(s, sizeof(s), "%s/%s", srcdir, names[i]);
		it_snprintf(d, sizeof(d), "%s/%s", g_wrappers, names[i]);
		char *txt = it_read_file(s, NULL);
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

void abuse_watchdog_start(long secs)
{
	pthread_t wd;
	if (pthread_create(&wd, NULL, watchdog_main, (void *)(intptr_t)secs) == 0)
		pthread_detach(wd);
}

void abuse_summary(void)
{
	fprintf(stderr, "\n==================== test_abuse summary ====================\n");
	fprintf(stderr, "kind: o observation, F cshim check failed, D Go differs from the check\n");
	for (int i = 0; i < g_nrows; i++)
		fprintf(stderr, "%c %-5s %-11s %s\n", g_rows[i].kind, g_rows[i].shim,
			g_rows[i].test, g_rows[i].text);
	fprintf(stderr, "=============================================================\n");
}
