/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench/ctd.h"
#include "bench/procstat.h"
#include "bench/shim.h"
#include "bench/util.h"
#include "github.com/containerd/containerd/api/events/task.pb-c.h"
#include "google/protobuf/any.pb-c.h"
#include "tests/integration/launch.h"

#define CTD_START_TIMEOUT_MS 20000
#define PROBE_ATTEMPTS 20

/* fork + exec with an empty signal mask; fd 0 from in_fd (or /dev/null), 1 and 2 to out_fd
 * and err_fd. The child gets its own process group (a terminal's Ctrl-C goes to the bench,
 * which stops it in order). */
static pid_t spawn(const char *const argv[], int in_fd, int out_fd, int err_fd)
{
	int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	pid_t pid;
	if (devnull < 0)
		return -errno;
	pid = fork();
	if (pid == 0) {
		struct sigaction sa = { .sa_handler = SIG_DFL };
		sigset_t none;
		sigaction(SIGPIPE, &sa, NULL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		setpgid(0, 0);
		if (dup2(in_fd >= 0 ? in_fd : devnull, 0) < 0 ||
		    dup2(out_fd >= 0 ? out_fd : devnull, 1) < 0 ||
		    dup2(err_fd >= 0 ? err_fd : devnull, 2) < 0)
			_exit(127);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(devnull);
	return pid < 0 ? -errno : pid;
}

static void stop_pid(pid_t *pid, int grace_ms)
{
	int st;
	if (*pid <= 0)
		return;
	kill(*pid, SIGTERM);
	for (int waited = 0; waited < grace_ms; waited += 20) {
		if (waitpid(*pid, &st, WNOHANG) == *pid) {
			*pid = 0;
			return;
		}
		usleep(20000);
	}
	kill(*pid, SIGKILL);
	waitpid(*pid, &st, 0);
	*pid = 0;
}

static void *ev_main(void *arg)
{
	struct bctd *c = arg;
	char buf[65536];
	size_t have = 0;
	for (;;) {
		ssize_t k = read(c->ev_fd, buf + have, sizeof(buf) - 1 - have);
		uint64_t t = now_ns();
		char *start = buf, *nl;
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		have += (size_t)k;
		buf[have] = '\0';
		pthread_mutex_lock(&c->mu);
		while ((nl = strchr(start, '\n'))) {
			*nl = '\0';
			if (strstr(start, " /tasks/exit ")) {
				if (c->nev == c->capev) {
					int n = c->capev ? c->capev * 2 : 256;
					struct ev_line *v = realloc(c->ev, (size_t)n * sizeof(*v));
					if (!v)
						die("out of memory");
					c->ev = v;
					c->capev = n;
				}
				c->ev[c->nev].t_ns = t;
				c->ev[c->nev].text = strdup(start);
				if (c->ev[c->nev].text)
					c->nev++;
			}
			start = nl + 1;
		}
		pthread_cond_broadcast(&c->cv);
		pthread_mutex_unlock(&c->mu);
		have -= (size_t)(start - buf);
		memmove(buf, start, have);
		if (have == sizeof(buf) - 1)
			have = 0; /* a line longer than the buffer: not ours */
	}
	return NULL;
}

static uint64_t seen_locked(struct bctd *c, const char *id)
{
	char needle[160];
	xsnprintf(needle, sizeof(needle), "\"%s\"", id);
	for (int i = 0; i < c->nev; i++)
		if (strstr(c->ev[i].text, needle))
			return c->ev[i].t_ns;
	return 0;
}

uint64_t bctd_exit_seen(struct bctd *c, const char *id)
{
	uint64_t t;
	pthread_mutex_lock(&c->mu);
	t = seen_locked(c, id);
	pthread_mutex_unlock(&c->mu);
	return t;
}

int bctd_wait_exits(struct bctd *c, char *const *ids, int n, int timeout_ms)
{
	uint64_t deadline = now_ns() + (uint64_t)timeout_ms * 1000000ULL;
	int got = 0;
	pthread_mutex_lock(&c->mu);
	for (;;) {
		struct timespec ts;
		got = 0;
		for (int i = 0; i < n; i++)
			got += seen_locked(c, ids[i]) != 0;
		if (got == n || now_ns() >= deadline)
			break;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 50000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&c->cv, &c->mu, &ts);
	}
	pthread_mutex_unlock(&c->mu);
	return got;
}

double bctd_cpu_s(const struct bctd *c)
{
	struct proc_cpu p = proc_cpu(c->pid);
	return p.ok ? p.self_s : -1;
}

static int write_config(const struct bctd *c)
{
	char path[PATH_MAX + 16];
	FILE *f;
	xsnprintf(path, sizeof(path), "%s/config.toml", c->dir);
	f = fopen(path, "we");
	if (!f)
		return -errno;
	/* As tests/e2e/lib.sh, minus the v1 runtime settings (containerd starts no shim here) and
	 * the [ttrpc] address: containerd's default, ADDR.ttrpc, is what a shim derives. */
	fprintf(f,
		"version = 2\nroot = \"%s/root\"\nstate = \"%s/state\"\noom_score = 0\n"
		"disabled_plugins = [\"io.containerd.grpc.v1.cri\", "
		"\"io.containerd.internal.v1.opt\", \"io.containerd.internal.v1.tracing\", "
		"\"io.containerd.tracing.processor.v1.otlp\", "
		"\"io.containerd.snapshotter.v1.aufs\", \"io.containerd.snapshotter.v1.btrfs\", "
		"\"io.containerd.snapshotter.v1.devmapper\", \"io.containerd.snapshotter.v1.zfs\"]\n"
		"[grpc]\n  address = \"%s\"\n[debug]\n  address = \"%s/debug.sock\"\n"
		"  level = \"info\"\n[metrics]\n  address = \"\"\n",
		c->dir, c->dir, c->addr, c->dir);
	return fclose(f) == 0 ? 0 : -errno;
}

static bool sock_answers(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok;
	if (fd < 0)
		return false;
	xsnprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

/* `containerd publish` of a TaskExit for a task containerd never heard of. */
static int publish_probe(struct bctd *c, const char *ns, const char *id)
{
	Containerd__Events__TaskExit ev = CONTAINERD__EVENTS__TASK_EXIT__INIT;
	Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
	uint8_t evb[256], anyb[512];
	char path[PATH_MAX + 16];
	const char *argv[] = { c->binary,     "--address",   c->addr, "publish", "--topic",
			       "/tasks/exit", "--namespace", ns,      NULL };
	int fd, st = 0;
	pid_t pid;

	ev.container_id = ev.id = (char *)id;
	ev.pid = 1;
	ev.exit_status = 137;
	any.type_url = "containerd.events.TaskExit";
	any.value.data = evb;
	any.value.len = protobuf_c_message_pack(&ev.base, evb);
	xsnprintf(path, sizeof(path), "%s/probe.bin", c->dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (write(fd, anyb, protobuf_c_message_pack(&any.base, anyb)) < 0 ||
	    lseek(fd, 0, SEEK_SET) < 0) {
		close(fd);
		return -EIO;
	}
	pid = spawn(argv, fd, -1, -1);
	close(fd);
	if (pid < 0)
		return (int)pid;
	waitpid(pid, &st, 0);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -EIO;
}

static struct bctd *g_live; /* for the exit and signal hooks */

static void stop_live(void)
{
	if (g_live)
		bctd_stop(g_live);
}

int bctd_start(struct bctd *c, const char *binary, const char *ns)
{
	char cfg[PATH_MAX + 16], logp[PATH_MAX + 16], probe[64];
	const char *ctr = "/usr/bin/ctr";
	int logfd, p[2], rc = -EIO;
	uint64_t deadline;

	memset(c, 0, sizeof(*c));
	c->ev_fd = -1;
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	xsnprintf(c->binary, sizeof(c->binary), "%s", binary ? binary : "/usr/bin/containerd");
	xsnprintf(c->dir, sizeof(c->dir), "/tmp/cshim-bench-ctd.XXXXXX");
	if (!mkdtemp(c->dir)) {
		warnx_("mkdtemp: %s", strerror(errno));
		c->dir[0] = '\0';
		return -errno;
	}
	g_live = c;
	atexit(stop_live);
	bshim_at_signal(stop_live);
	xsnprintf(c->addr, sizeof(c->addr), "%s/containerd.sock", c->dir);
	xsnprintf(cfg, sizeof(cfg), "%s/config.toml", c->dir);
	xsnprintf(logp, sizeof(logp), "%s/containerd.log", c->dir);
	if ((rc = write_config(c)) < 0) {
		warnx_("containerd config: %s", strerror(-rc));
		goto fail;
	}
	logfd = open(logp, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	{
		const char *argv[] = { c->binary, "--config", cfg, NULL };
		c->pid = logfd < 0 ? -EIO : spawn(argv, -1, logfd, logfd);
	}
	if (logfd >= 0)
		close(logfd);
	if (c->pid < 0) {
		rc = c->pid;
		c->pid = 0;
		warnx_("starting %s: %s", c->binary, strerror(-rc));
		goto fail;
	}
	deadline = now_ns() + CTD_START_TIMEOUT_MS * 1000000ULL;
	while (!sock_answers(c->addr)) {
		int st;
		if (waitpid(c->pid, &st, WNOHANG) == c->pid || now_ns() > deadline) {
			c->pid = waitpid(c->pid, &st, WNOHANG) == 0 ? c->pid : 0;
			warnx_("containerd did not come up (log: %s)", logp);
			rc = -EIO;
			goto fail;
		}
		usleep(20000);
	}
	/* The subscriber: ctr prints one line per event (Go writes stdout unbuffered). */
	if (pipe2(p, O_CLOEXEC) < 0) {
		rc = -errno;
		goto fail;
	}
	{
		const char *argv[] = { ctr, "--address", c->addr, "events", NULL };
		c->ev_pid = spawn(argv, -1, p[1], -1);
	}
	close(p[1]);
	c->ev_fd = p[0];
	if (c->ev_pid < 0 || pthread_create(&c->ev_thr, NULL, ev_main, c) != 0) {
		rc = c->ev_pid < 0 ? c->ev_pid : -EAGAIN;
		c->ev_pid = 0;
		warnx_("starting %s events failed", ctr);
		goto fail;
	}
	c->ev_started = true;
	/* Until the subscriber prints the probe: it is listening, and containerd accepted a
	 * /tasks/exit for a task it does not know. */
	xsnprintf(probe, sizeof(probe), "bench-probe-%d", (int)getpid());
	for (int i = 0; i < PROBE_ATTEMPTS; i++) {
		char *ids[1] = { probe };
		if (publish_probe(c, ns, probe) < 0) {
			warnx_("containerd publish (probe) failed");
			rc = -EIO;
			goto fail;
		}
		if (bctd_wait_exits(c, ids, 1, 500) == 1)
			return 0;
	}
	warnx_("the probe event never reached `ctr events` (log: %s)", logp);
	rc = -ETIMEDOUT;
fail:
	bctd_stop(c);
	return rc;
}

void bctd_stop(struct bctd *c)
{
	stop_pid(&c->ev_pid, 2000);
	if (c->ev_started) {
		pthread_join(c->ev_thr, NULL);
		c->ev_started = false;
	}
	if (c->ev_fd >= 0)
		close(c->ev_fd);
	c->ev_fd = -1;
	stop_pid(&c->pid, 10000);
	if (c->dir[0]) {
		/* Nothing is mounted below it: containerd ran no task and made no snapshot. */
		const char *argv[] = { "/bin/rm", "-rf", "--one-file-system", c->dir, NULL };
		if (!getenv("CSHIM_IT_KEEP"))
			it_run(argv, 30000, NULL);
		c->dir[0] = '\0';
	}
	pthread_mutex_lock(&c->mu);
	for (int i = 0; i < c->nev; i++)
		free(c->ev[i].text);
	free(c->ev);
	c->ev = NULL;
	c->nev = c->capev = 0;
	pthread_mutex_unlock(&c->mu);
	if (g_live == c)
		g_live = NULL;
}
