/* SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench/procstat.h"
#include "bench/shim.h"
#include "bench/shim_v2.h"
#include "bench/util.h"
#include "github.com/containerd/containerd/runtime/v1/shim/v1/shim.pb-c.h"
#include "google/protobuf/any.pb-c.h"
#include "google/protobuf/empty.pb-c.h"
#include "proto/ttrpc_codec.h"

extern char **environ;

#define CTL_TIMEOUT_MS 30000

/* ---- registry of live shims (for cleanup on a signal) ---- */

static pthread_mutex_t g_reg_mu = PTHREAD_MUTEX_INITIALIZER;
static struct bshim **g_reg;
static int g_nreg, g_capreg;

static void reg_add(struct bshim *b)
{
	pthread_mutex_lock(&g_reg_mu);
	if (g_nreg == g_capreg) {
		int nc = g_capreg ? g_capreg * 2 : 64;
		struct bshim **nv = realloc(g_reg, (size_t)nc * sizeof(*nv));
		if (!nv)
			die("out of memory");
		g_reg = nv;
		g_capreg = nc;
	}
	g_reg[g_nreg++] = b;
	b->registered = true;
	pthread_mutex_unlock(&g_reg_mu);
}

static void reg_del(struct bshim *b)
{
	pthread_mutex_lock(&g_reg_mu);
	for (int i = 0; i < g_nreg; i++)
		if (g_reg[i] == b) {
			g_reg[i] = g_reg[--g_nreg];
			break;
		}
	b->registered = false;
	pthread_mutex_unlock(&g_reg_mu);
}

static void (*g_at_signal)(void);

void bshim_at_signal(void (*fn)(void))
{
	g_at_signal = fn;
}

static void *signal_main(void *arg)
{
	sigset_t *set = arg;
	int sig = 0;
	sigwait(set, &sig);
	progress_clear();
	fprintf(stderr, "cshim-bench: signal %d: tearing down %d shim(s)\n", sig, g_nreg);
	/* No lock: the other threads may hold it forever; we exit right after. */
	for (int i = 0; i < g_nreg; i++) {
		if (g_reg[i]->pid > 0) {
			kill(-g_reg[i]->pid, SIGKILL);
			kill(g_reg[i]->pid, SIGKILL);
		}
	}
	for (int i = 0; i < g_nreg; i++) {
		for (int k = 0; k < g_reg[i]->nctr; k++)
			shim_cleanup(&g_reg[i]->ctr[k].si);
		shim_cleanup(&g_reg[i]->si);
		if (g_reg[i]->v2)
			unlink(g_reg[i]->si.sock);
	}
	it_root_remove();
	if (g_at_signal)
		g_at_signal();
	_exit(128 + sig);
}

void bshim_install_signal_cleanup(void)
{
	static sigset_t set;
	pthread_t t;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (pthread_create(&t, NULL, signal_main, &set) == 0)
		pthread_detach(t);
}

/* ---- the workdir FIFO drain (containerd reads shim.stdout.log / shim.stderr.log) ---- */

static pthread_once_t g_drain_once = PTHREAD_ONCE_INIT;
static int g_drain_ep = -1;

static void *drain_main(void *arg)
{
	char buf[16384];
	(void)arg;
	for (;;) {
		struct epoll_event ev[32];
		int n = epoll_wait(g_drain_ep, ev, 32, -1);
		for (int i = 0; i < n; i++) {
			/* fds are O_RDWR FIFOs: never EOF; a closed fd was removed before close. */
			while (read(ev[i].data.fd, buf, sizeof(buf)) > 0)
				;
		}
	}
	return NULL;
}

static void drain_init(void)
{
	pthread_t t;
	g_drain_ep = epoll_create1(EPOLL_CLOEXEC);
	if (g_drain_ep < 0 || pthread_create(&t, NULL, drain_main, NULL) != 0)
		die("drain thread: %s", strerror(errno));
	pthread_detach(t);
}

static void drain_add(struct bshim *b)
{
	static const char *const names[2] = { "shim.stdout.log", "shim.stderr.log" };
	pthread_once(&g_drain_once, drain_init);
	for (int i = 0; i < (b->v2 ? 1 : 2); i++) {
		char p[PATH_MAX + 32];
		/* v2: containerd copies the bundle's log FIFO (runtime/v2 openShimLog). */
		if (b->v2)
			xsnprintf(p, sizeof(p), "%s/log", b->si.bundle);
		else
			xsnprintf(p, sizeof(p), "%s/%s", b->si.workdir, names[i]);
		b->drain_fd[i] = open(p, O_RDWR | O_NONBLOCK | O_CLOEXEC);
		if (b->drain_fd[i] >= 0) {
			struct epoll_event ev = { .events = EPOLLIN, .data.fd = b->drain_fd[i] };
			epoll_ctl(g_drain_ep, EPOLL_CTL_ADD, b->drain_fd[i], &ev);
		}
	}
}

static void drain_del(struct bshim *b)
{
	for (int i = 0; i < 2; i++) {
		if (b->drain_fd[i] >= 0) {
			epoll_ctl(g_drain_ep, EPOLL_CTL_DEL, b->drain_fd[i], NULL);
			close(b->drain_fd[i]);
		}
		b->drain_fd[i] = -1;
	}
}

/* ---- start ---- */

static char g_address[PATH_MAX], g_binary[PATH_MAX];
static bool g_v2;

void bshim_use_v2(bool on)
{
	/* The long-running process outlives `start`: reparented here, reaped by shim_cleanup. */
	if (on && prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		warnx_("PR_SET_CHILD_SUBREAPER: %s", strerror(errno));
	g_v2 = on;
}

void bshim_use_containerd(const char *address, const char *binary)
{
	xsnprintf(g_address, sizeof(g_address), "%s", address ? address : "");
	xsnprintf(g_binary, sizeof(g_binary), "%s", binary ? binary : "");
}

void shim_label(const char *bin, char *out, size_t n)
{
	const char *base = strrchr(bin, '/');
	base = base ? base + 1 : bin;
	if (strncmp(base, "containerd-shim-runc-v2", 23) == 0)
		xsnprintf(out, n, "runc-v2");
	else if (strncmp(base, "containerd-shim", 15) == 0)
		xsnprintf(out, n, "go");
	else
		xsnprintf(out, n, "%s", base);
}

static int atomic_write(const char *dir, const char *name, const char *text)
{
	char tmp[PATH_MAX + 64], dst[PATH_MAX + 64];
	size_t n = strlen(text);
	int fd;
	xsnprintf(tmp, sizeof(tmp), "%s/.%s", dir, name);
	xsnprintf(dst, sizeof(dst), "%s/%s", dir, name);
	fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_SYNC | O_CLOEXEC, 0666);
	if (fd < 0)
		return -errno;
	if (write(fd, text, n) != (ssize_t)n) {
		close(fd);
		unlink(tmp);
		return -EIO;
	}
	close(fd);
	return rename(tmp, dst) < 0 ? -errno : 0;
}

/* Like launch.c's shim_start, but timestamps the moment the exec happened (the CLOEXEC error
 * pipe closes inside execve) and leaves writing address/shim.pid to the caller. */
static int exec_shim(struct bshim *b, uint64_t *t_exec)
{
	struct shim_inst *si = &b->si;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *argv[16];
	char **envp;
	size_t nenv = 0;
	int lfd, devnull, logfd, errp[2], ac = 0, rc;
	pid_t pid;

	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		return -errno;
	xsnprintf(sa.sun_path, sizeof(sa.sun_path), "%s", si->sock);
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 4096) < 0 ||
	    chmod(si->sock, 0600) < 0) {
		rc = -errno;
		close(lfd);
		return rc;
	}
	devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	logfd = open(si->shimlog, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	argv[ac++] = si->shim;
	argv[ac++] = "-namespace";
	argv[ac++] = si->ns;
	argv[ac++] = "-workdir";
	argv[ac++] = si->workdir;
	argv[ac++] = "-address";
	argv[ac++] = si->address;
	argv[ac++] = "-containerd-binary";
	argv[ac++] = g_binary[0] ? g_binary : si->publisher;
	argv[ac++] = "-runtime-root";
	argv[ac++] = si->runtime_root;
	argv[ac] = NULL;
	while (environ[nenv])
		nenv++;
	envp = calloc(nenv + 2, sizeof(char *));
	if (devnull < 0 || logfd < 0 || !envp || pipe2(errp, O_CLOEXEC) < 0) {
		rc = -(errno ? errno : ENOMEM);
		close(lfd);
		if (devnull >= 0)
			close(devnull);
		if (logfd >= 0)
			close(logfd);
		free(envp);
		return rc;
	}
	memcpy(envp, environ, nenv * sizeof(char *));
	envp[nenv] = "GOMAXPROCS=2";

	pid = fork();
	if (pid == 0) {
		struct sigaction sact;
		sigset_t none;
		int a = fcntl(devnull, F_DUPFD, 10), l2 = fcntl(logfd, F_DUPFD, 10);
		int l = fcntl(lfd, F_DUPFD, 10), e = fcntl(errp[1], F_DUPFD_CLOEXEC, 10);
		int err;
		memset(&sact, 0, sizeof(sact));
		sact.sa_handler = SIG_DFL;
		sigaction(SIGPIPE, &sact, NULL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		setpgid(0, 0);
		if (chdir(si->bundle) < 0)
			goto fail;
		if (a < 0 || l2 < 0 || l < 0 || e < 0 || dup2(a, 0) < 0 || dup2(l2, 1) < 0 ||
		    dup2(l2, 2) < 0 || dup2(l, 3) < 0)
			goto fail;
		fcntl(3, F_SETFL, fcntl(3, F_GETFL) & ~O_NONBLOCK);
		close_range(4, (unsigned)e - 1, 0);
		close_range((unsigned)e + 1, ~0U, 0);
		execve(argv[0], (char *const *)argv, envp);
	fail:
		err = errno;
		if (write(e, &err, sizeof(err)) < 0) {
			/* nothing to do */
		}
		_exit(127);
	}
	rc = pid < 0 ? -errno : 0;
	close(errp[1]);
	free(envp);
	close(lfd);
	close(devnull);
	close(logfd);
	if (rc < 0) {
		close(errp[0]);
		return rc;
	}
	setpgid(pid, pid);
	si->pid = pid;
	b->pid = pid;
	{
		int err = 0;
		ssize_t k;
		while ((k = read(errp[0], &err, sizeof(err))) < 0 && errno == EINTR)
			;
		*t_exec = now_ns();
		close(errp[0]);
		if (k == (ssize_t)sizeof(err))
			return err ? -err : -EIO;
	}
	return 0;
}

int bshim_start_only(struct bshim *b, const char *bin, const char *tag)
{
	static const char *const sleep_argv[] = { "sleep", "1000000", NULL };
	Containerd__Runtime__Linux__Shim__V1__ShimInfoResponse *resp = NULL;
	char addr[PATH_MAX + 16], pidbuf[32], *msg = NULL;
	uint64_t t_exec = 0;
	int rc, code = -1;

	memset(b, 0, sizeof(*b));
	b->drain_fd[0] = b->drain_fd[1] = -1;
	shim_label(bin, b->label, sizeof(b->label));
	rc = shim_prepare(&b->si, bin, tag, sleep_argv);
	if (rc == 0 && g_address[0])
		xsnprintf(b->si.address, sizeof(b->si.address), "%s", g_address);
	reg_add(b);
	if (rc < 0) {
		warnx_("%s: preparing bundle: %s", b->label, strerror(-rc));
		return rc;
	}
	if (g_v2) {
		rc = v2_start(b, g_binary);
		drain_add(b);
		return rc;
	}
	drain_add(b);
	rc = exec_shim(b, &t_exec);
	if (rc < 0) {
		warnx_("%s: starting %s: %s", b->label, bin, strerror(-rc));
		return rc;
	}
	b->ctl = shimclient_connect(b->si.sock, 10000);
	if (!b->ctl) {
		rc = -errno;
		warnx_("%s: connect %s: %s", b->label, b->si.sock, strerror(errno));
		return rc;
	}
	rc = shimclient_call(b->ctl, "ShimInfo", NULL,
			     &containerd__runtime__linux__shim__v1__shim_info_response__descriptor,
			     (ProtobufCMessage **)&resp, &code, &msg, 10000);
	b->first_answer_s = (double)(now_ns() - t_exec) / 1e9;
	if (rc < 0 || code != 0 || !resp) {
		warnx_("%s: first ShimInfo failed: rc=%d code=%d %s (shim log: %s)", b->label, rc,
		       code, msg ? msg : "", b->si.shimlog);
		free(msg);
		if (resp)
			protobuf_c_message_free_unpacked(&resp->base, NULL);
		return rc < 0 ? rc : -EIO;
	}
	if ((pid_t)resp->shim_pid != b->pid)
		warnx_("%s: ShimInfo says pid %u, we started %d", b->label, resp->shim_pid,
		       (int)b->pid);
	protobuf_c_message_free_unpacked(&resp->base, NULL);
	free(msg);
	/* containerd writes these after starting the shim; no shim reads them. Written after the
	 * first answer so that two O_SYNC writes are not part of the start-up time. */
	xsnprintf(addr, sizeof(addr), "unix://%s", b->si.sock);
	xsnprintf(pidbuf, sizeof(pidbuf), "%d", (int)b->pid);
	if ((rc = atomic_write(b->si.bundle, "address", addr)) < 0 ||
	    (rc = atomic_write(b->si.bundle, "shim.pid", pidbuf)) < 0) {
		warnx_("%s: writing address/shim.pid: %s", b->label, strerror(-rc));
		return rc;
	}
	return 0;
}

static int ctl_call(struct bshim *b, const char *method, const ProtobufCMessage *req,
		    const ProtobufCMessageDescriptor *rd, ProtobufCMessage **resp, int timeout_ms,
		    bool quiet)
{
	char *msg = NULL;
	int code = -1;
	int rc = shimclient_call(b->ctl, method, req, rd, resp, &code, &msg, timeout_ms);
	if ((rc < 0 || code != 0) && !quiet)
		warnx_("%s: %s failed: %s%s%s", b->label, method, rc < 0 ? strerror(-rc) : "",
		       rc < 0 ? "" : "code ", rc < 0 ? "" : msg);
	if (rc == 0 && code != 0) {
		rc = -EIO;
		if (!quiet)
			warnx_("%s: %s: code %d", b->label, method, code);
	}
	free(msg);
	return rc;
}

int bshim_create_start(struct bshim *b, const char *runtime)
{
	Containerd__Runtime__Linux__Shim__V1__CreateTaskRequest creq =
		CONTAINERD__RUNTIME__LINUX__SHIM__V1__CREATE_TASK_REQUEST__INIT;
	Containerd__Runtime__Linux__Shim__V1__StartRequest sreq =
		CONTAINERD__RUNTIME__LINUX__SHIM__V1__START_REQUEST__INIT;
	Containerd__Runtime__Linux__Shim__V1__StateRequest streq =
		CONTAINERD__RUNTIME__LINUX__SHIM__V1__STATE_REQUEST__INIT;
	Containerd__Runtime__Linux__Shim__V1__CreateTaskResponse *cresp = NULL;
	struct shimclient_reply rep;
	int rc;

	xsnprintf(b->runtime, sizeof(b->runtime), "%s", runtime ? runtime : "runc");
	if (b->v2)
		return v2_create_start(b);
	/* containerd would pass stdio FIFOs; the benchmark container writes nothing, so null
	 * IO (all three paths empty) it is. */
	creq.id = b->si.id;
	creq.bundle = b->si.bundle;
	creq.runtime = b->runtime;
	rc = ctl_call(b, "Create", &creq.base,
		      &containerd__runtime__linux__shim__v1__create_task_response__descriptor,
		      (ProtobufCMessage **)&cresp, CTL_TIMEOUT_MS, false);
	if (rc < 0)
		return rc;
	b->created = true;
	b->init_pid = cresp->pid;
	protobuf_c_message_free_unpacked(&cresp->base, NULL);
	sreq.id = b->si.id;
	rc = ctl_call(b, "Start", &sreq.base, NULL, NULL, CTL_TIMEOUT_MS, false);
	if (rc < 0)
		return rc;
	b->started = true;
	/* Size of a State exchange (for the pingpong floor). */
	streq.id = b->si.id;
	if (shimclient_call_ex(b->ctl, SHIM_SERVICE, "State", &streq.base, 10000, &rep) == 0) {
		b->state_resp_frame_len = rep.frame_len;
		if (rep.code == 0) {
			b->state_payload = rep.payload;
			b->state_plen = rep.plen;
			rep.payload = NULL;
		}
		shimclient_reply_free(&rep);
	}
	{
		uint8_t pl[256], *frame = NULL;
		size_t plen = protobuf_c_message_pack(&streq.base, pl), flen = 0;
		if (ttrpc_request_frame(1, SHIM_SERVICE, "State", pl, plen, 0, &frame, &flen) == 0)
			b->state_req_frame_len = flen - TTRPC_HDR_LEN;
		free(frame);
	}
	return 0;
}

int bshim_launch(struct bshim *b, const char *bin, const char *tag, const char *runtime,
		 const char *const argv[])
{
	int rc = bshim_start_only(b, bin, tag);
	if (rc < 0)
		return rc;
	if (argv && (rc = bundle_set_args(&b->si, argv)) < 0) {
		warnx_("%s: config.json: %s", b->label, strerror(-rc));
		return rc;
	}
	return bshim_create_start(b, runtime);
}

void bshim_destroy(struct bshim *b)
{
	if (b->v2 && b->ctl && b->pid > 0 && kill(b->pid, 0) == 0)
		v2_teardown(b);
	else if (b->ctl && b->pid > 0 && shim_alive(&b->si)) {
		if (b->created) {
			Containerd__Runtime__Linux__Shim__V1__KillRequest kr =
				CONTAINERD__RUNTIME__LINUX__SHIM__V1__KILL_REQUEST__INIT;
			Containerd__Runtime__Linux__Shim__V1__WaitRequest wr =
				CONTAINERD__RUNTIME__LINUX__SHIM__V1__WAIT_REQUEST__INIT;
			kr.id = b->si.id;
			kr.signal = SIGKILL;
			kr.all = true;
			wr.id = b->si.id;
			if (b->started &&
			    ctl_call(b, "Kill", &kr.base, NULL, NULL, 10000, true) == 0)
				ctl_call(
					b, "Wait", &wr.base,
					&containerd__runtime__linux__shim__v1__wait_response__descriptor,
					NULL, 10000, true);
			ctl_call(b, "Delete", NULL, NULL, NULL, 10000, true);
		}
	}
	if (b->ctl) {
		shimclient_close(b->ctl);
		b->ctl = NULL;
	}
	/* SIGKILL shim (and its group), runc delete --force, remove the dirs. */
	for (int i = 0; i < b->nctr; i++)
		shim_cleanup(&b->ctr[i].si);
	free(b->ctr);
	b->ctr = NULL;
	b->nctr = 0;
	shim_cleanup(&b->si);
	if (b->v2 && b->si.sock[0])
		unlink(b->si.sock); /* a shim killed leaves its socket in /run/containerd/s */
	b->pid = 0;
	free(b->state_payload);
	b->state_payload = NULL;
	drain_del(b);
	if (b->registered)
		reg_del(b);
}

struct destroy_job {
	struct bshim **v;
	int n;
	int next;
	pthread_mutex_t mu;
};

static void *destroy_main(void *arg)
{
	struct destroy_job *j = arg;
	for (;;) {
		int i;
		pthread_mutex_lock(&j->mu);
		i = j->next++;
		pthread_mutex_unlock(&j->mu);
		if (i >= j->n)
			break;
		if (j->v[i])
			bshim_destroy(j->v[i]);
	}
	return NULL;
}

void bshim_destroy_many(struct bshim **v, int n, int parallel)
{
	struct destroy_job j = { .v = v, .n = n, .mu = PTHREAD_MUTEX_INITIALIZER };
	pthread_t t[16];
	int k = 0;
	if (parallel > 16)
		parallel = 16;
	for (int i = 0; i < parallel; i++)
		if (pthread_create(&t[k], NULL, destroy_main, &j) == 0)
			k++;
	destroy_main(&j);
	for (int i = 0; i < k; i++)
		pthread_join(t[i], NULL);
}

/* ---- exec cycles, settling ---- */

#define EXEC_TIMEOUT_MS 30000

static int exec_call(struct shimclient *c, const char *method, const ProtobufCMessage *req,
		     char *err, size_t errn)
{
	char *msg = NULL;
	int code = -1;
	int rc = shimclient_call(c, method, req, NULL, NULL, &code, &msg, EXEC_TIMEOUT_MS);
	if ((rc < 0 || code != 0) && err)
		xsnprintf(err, errn, "%s: %s", method, rc < 0 ? strerror(-rc) : msg);
	free(msg);
	return rc < 0 ? rc : code != 0 ? -EIO : 0;
}

int bshim_wait(const struct bshim *b, struct shimclient *c, uint32_t *status, int timeout_ms)
{
	Containerd__Runtime__Linux__Shim__V1__WaitRequest wr =
		CONTAINERD__RUNTIME__LINUX__SHIM__V1__WAIT_REQUEST__INIT;
	Containerd__Runtime__Linux__Shim__V1__WaitResponse *resp = NULL;
	int code = -1, rc;

	if (b->v2)
		return v2_wait(b, c, NULL, status, timeout_ms);
	wr.id = (char *)b->si.id;
	rc = shimclient_call(c, "Wait", &wr.base,
			     &containerd__runtime__linux__shim__v1__wait_response__descriptor,
			     (ProtobufCMessage **)&resp, &code, NULL, timeout_ms);
	if (rc == 0 && code != 0)
		rc = -EIO;
	if (resp) {
		*status = resp->exit_status;
		protobuf_c_message_free_unpacked(&resp->base, NULL);
	}
	return rc;
}

int bshim_exec_cycle(const struct bshim *b, struct shimclient *c, const char *id, char *err,
		     size_t errn)
{
	Containerd__Runtime__Linux__Shim__V1__ExecProcessRequest er =
		CONTAINERD__RUNTIME__LINUX__SHIM__V1__EXEC_PROCESS_REQUEST__INIT;
	Google__Protobuf__Any spec = GOOGLE__PROTOBUF__ANY__INIT;
	Containerd__Runtime__Linux__Shim__V1__StartRequest sr =
		CONTAINERD__RUNTIME__LINUX__SHIM__V1__START_REQUEST__INIT;
	Containerd__Runtime__Linux__Shim__V1__WaitRequest wr =
		CONTAINERD__RUNTIME__LINUX__SHIM__V1__WAIT_REQUEST__INIT;
	Containerd__Runtime__Linux__Shim__V1__DeleteProcessRequest dr =
		CONTAINERD__RUNTIME__LINUX__SHIM__V1__DELETE_PROCESS_REQUEST__INIT;
	int rc, rd;

	if (b->v2)
		return v2_exec_cycle(b, c, id, err, errn);
	spec.type_url = PROCESS_TYPE_URL;
	spec.value.data = (uint8_t *)EXEC_SPEC_JSON;
	spec.value.len = strlen(EXEC_SPEC_JSON);
	er.id = sr.id = wr.id = dr.id = (char *)id;
	er.spec = &spec;
	if ((rc = exec_call(c, "Exec", &er.base, err, errn)) < 0)
		return rc;
	rc = exec_call(c, "Start", &sr.base, err, errn);
	if (rc == 0)
		rc = exec_call(c, "Wait", &wr.base, err, errn);
	rd = exec_call(c, "DeleteProcess", &dr.base, rc == 0 ? err : NULL, errn);
	return rc < 0 ? rc : rd;
}

int bshim_extra_children(const struct bshim *b)
{
	char dir[64], path[128], buf[4096];
	struct dirent *e;
	DIR *d;
	int n = 0;

	if (b->pid <= 0)
		return 0;
	xsnprintf(dir, sizeof(dir), "/proc/%d/task", (int)b->pid);
	d = opendir(dir);
	if (!d)
		return 0;
	while ((e = readdir(d))) {
		char *save = NULL, *tok;
		ssize_t k;
		int fd;
		if (e->d_name[0] == '.')
			continue;
		xsnprintf(path, sizeof(path), "%s/%s/children", dir, e->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		k = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (k <= 0)
			continue;
		buf[k] = '\0';
		for (tok = strtok_r(buf, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save)) {
			unsigned long pid = strtoul(tok, NULL, 10);
			bool init = pid == b->init_pid;
			for (int i = 0; i < b->nctr && !init; i++)
				init = pid == b->ctr[i].init_pid;
			n += !init;
		}
	}
	closedir(d);
	return n;
}

double bshim_settle(struct bshim **v, int n, double max_s)
{
	uint64_t t0 = now_ns();
	int quiet = 0;

	while ((double)(now_ns() - t0) / 1e9 < max_s && quiet < 3) {
		struct sys_cpu a, c;
		int kids = 0;
		for (int s = 0; s < n; s++)
			if (v[s] && v[s]->started)
				kids += bshim_extra_children(v[s]);
		a = sys_cpu();
		sleep_s(0.1);
		c = sys_cpu();
		quiet = kids == 0 && sys_cpu_busy(&a, &c) < 0.15 ? quiet + 1 : 0;
	}
	return (double)(now_ns() - t0) / 1e9;
}
