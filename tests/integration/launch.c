/* SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "tests/integration/launch.h"

extern char **environ;

static char g_root[PATH_MAX];
static unsigned g_counter;
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;

/* snprintf that is not subject to -Wformat-truncation (paths are checked by length where
 * it matters); returns the snprintf result. */
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

static const char *const BUSYBOX_APPLETS[] = {
	"sh", "echo", "sleep", "true", "false", "cat", "ls",
	"ps", "kill", "env",   "id",   "head",  "yes", NULL
};

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

void it_require_cshim(const char *prog, const char *path)
{
	struct stat st;

	errno = 0;
	if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0)
		return;
	fprintf(stderr,
		"%s: FAILED: the shim under test, CSHIM=%s, is missing or not executable (%s); "
		"set CSHIM to the built cshim (make all builds build/bin/cshim)\n",
		prog, path, errno ? strerror(errno) : "not a regular file");
	exit(1);
}

const char *it_root(void)
{
	pthread_mutex_lock(&g_mu);
	if (!g_root[0]) {
		const char *dir = getenv("CSHIM_IT_TMPDIR");
		char tmpl[PATH_MAX];
		xsnprintf(tmpl, sizeof(tmpl), "%s/cshimit.XXXXXX", dir && *dir ? dir : "/tmp");
		if (mkdtemp(tmpl)) {
			chmod(tmpl, 0711);
			xsnprintf(g_root, sizeof(g_root), "%s", tmpl);
		}
	}
	pthread_mutex_unlock(&g_mu);
	return g_root[0] ? g_root : NULL;
}

static int rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP || flag == FTW_D)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

static void rm_rf(const char *path)
{
	/* FTW_MOUNT: never descend into anything mounted below (we mount nothing). */
	nftw(path, rm_cb, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

void it_root_remove(void)
{
	if (!g_root[0])
		return;
	if (getenv("CSHIM_IT_KEEP"))
		fprintf(stderr, "[ INFO ] keeping test dir %s\n", g_root);
	else
		rm_rf(g_root);
	g_root[0] = '\0';
}

void it_unique(char *out, size_t n, const char *prefix)
{
	unsigned k;
	pthread_mutex_lock(&g_mu);
	k = ++g_counter;
	pthread_mutex_unlock(&g_mu);
	xsnprintf(out, n, "%s%dx%u", prefix, (int)getpid(), k);
}

/* ---- small file helpers ---- */

static int write_file(const char *path, const void *data, size_t n, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	const char *p = data;
	if (fd < 0)
		return -errno;
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			int e = -errno;
			close(fd);
			return e;
		}
		p += w;
		n -= (size_t)w;
	}
	if (fchmod(fd, mode) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	return close(fd) < 0 ? -errno : 0;
}

/* Like containerd's atomicWriteFile: .name with O_EXCL|O_SYNC, then rename. */
static int atomic_write(const char *dir, const char *name, const char *text)
{
	char tmp[PATH_MAX], dst[PATH_MAX];
	int fd;
	size_t n = strlen(text);

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

char *it_read_file(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t cap = 4096, n = 0;
	char *buf;

	if (fd < 0)
		return NULL;
	buf = malloc(cap + 1);
	while (buf) {
		ssize_t r;
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
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (buf) {
		buf[n] = '\0';
		if (len)
			*len = n;
	}
	return buf;
}

static int copy_file(const char *src, const char *dst, mode_t mode)
{
	size_t n;
	char *data = it_read_file(src, &n);
	int rc;
	if (!data)
		return -errno ? -errno : -EIO;
	rc = write_file(dst, data, n, mode);
	free(data);
	return rc;
}

static int find_in_path(const char *name, char *out, size_t n)
{
	const char *path = getenv("PATH");
	char buf[4096];
	char *save = NULL, *tok;

	xsnprintf(buf, sizeof(buf), "%s:/usr/local/sbin:/usr/sbin:/sbin:/usr/bin:/bin",
		  path ? path : "");
	for (tok = strtok_r(buf, ":", &save); tok; tok = strtok_r(NULL, ":", &save)) {
		xsnprintf(out, n, "%s/%s", tok, name);
		if (access(out, X_OK) == 0)
			return 0;
	}
	return -ENOENT;
}

/* ---- child processes ---- */

/* In a forked child before exec: an empty signal mask and default dispositions for what the
 * test program blocks or ignores (ignored dispositions survive execve). */
static void child_reset_signals(void)
{
	struct sigaction sa;
	sigset_t none;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigaction(SIGPIPE, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/* Reads fd to EOF (a pipe of a child's output): after timeout_ms it sends SIGKILL to
 * kill_target (a pid, or -pgid) and reads on for at most 1 s more (*killed set). Heap,
 * NUL-terminated; NULL without memory. */
static char *read_to_eof(int fd, pid_t kill_target, int timeout_ms, bool *killed)
{
	long deadline = now_ms() + timeout_ms;
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap + 1);

	*killed = false;
	fcntl(fd, F_SETFL, O_NONBLOCK);
	while (buf) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		long left = deadline - now_ms();
		ssize_t r;
		if (left <= 0 && !*killed) {
			kill(kill_target, SIGKILL);
			*killed = true;
			left = 1000;
		}
		if (left <= 0)
			break;
		if (poll(&pfd, 1, (int)left) < 0 && errno != EINTR)
			break;
		if (n == cap) {
			char *nb = realloc(buf, cap * 2 + 1);
			if (!nb)
				break;
			buf = nb;
			cap *= 2;
		}
		r = read(fd, buf + n, cap - n);
		if (r > 0)
			n += (size_t)r;
		else if (r == 0 || (errno != EAGAIN && errno != EINTR))
			break;
	}
	if (buf)
		buf[n] = '\0';
	return buf;
}

int it_run(const char *const argv[], int timeout_ms, char **out)
{
	int p[2], devnull, st = 0;
	pid_t pid;
	bool killed;
	char *buf;

	if (out)
		*out = NULL;
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	pid = fork();
	if (pid < 0) {
		int e = -errno;
		close(p[0]);
		close(p[1]);
		close(devnull);
		return e;
	}
	if (pid == 0) {
		child_reset_signals();
		dup2(devnull, 0);
		dup2(p[1], 1);
		dup2(p[1], 2);
		close_range(3, ~0U, 0);
		execve(argv[0], (char *const *)argv, environ);
		_exit(127);
	}
	close(p[1]);
	close(devnull);
	buf = read_to_eof(p[0], pid, timeout_ms, &killed);
	close(p[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (out)
		*out = buf;
	else
		free(buf);
	if (!buf && !killed)
		return -ENOMEM;
	return killed ? -ETIMEDOUT : st;
}

/* ---- bundle ---- */

static int make_rootfs(const char *rootfs)
{
	char p[PATH_MAX], bb[PATH_MAX];
	const char *dirs[] = { "bin", "proc", "dev", "sys", "tmp", "etc", NULL };
	int rc;

	if (mkdir(rootfs, 0711) < 0 && errno != EEXIST)
		return -errno;
	for (int i = 0; dirs[i]; i++) {
		xsnprintf(p, sizeof(p), "%s/%s", rootfs, dirs[i]);
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			return -errno;
	}
	if (access("/bin/busybox", X_OK) == 0)
		xsnprintf(bb, sizeof(bb), "/bin/busybox");
	else if (find_in_path("busybox", bb, sizeof(bb)) < 0)
		return -ENOENT;
	xsnprintf(p, sizeof(p), "%s/bin/busybox", rootfs);
	rc = copy_file(bb, p, 0755);
	if (rc < 0)
		return rc;
	for (int i = 0; BUSYBOX_APPLETS[i]; i++) {
		xsnprintf(p, sizeof(p), "%s/bin/%s", rootfs, BUSYBOX_APPLETS[i]);
		if (symlink("busybox", p) < 0 && errno != EEXIST)
			return -errno;
	}
	return 0;
}

static int edit_config(const char *bundle, const char *const argv[])
{
	char path[PATH_MAX], rootfs[PATH_MAX];
	json_error_t jerr;
	json_t *cfg, *process, *root, *args;
	int rc = 0;

	xsnprintf(path, sizeof(path), "%s/config.json", bundle);
	xsnprintf(rootfs, sizeof(rootfs), "%s/rootfs", bundle);
	cfg = json_load_file(path, 0, &jerr);
	if (!cfg)
		return -EINVAL;
	process = json_object_get(cfg, "process");
	root = json_object_get(cfg, "root");
	if (!json_is_object(process) || !json_is_object(root)) {
		json_decref(cfg);
		return -EINVAL;
	}
	if (argv) {
		args = json_array();
		for (int i = 0; argv[i]; i++)
			json_array_append_new(args, json_string(argv[i]));
		json_object_set_new(process, "args", args);
	}
	json_object_set_new(process, "terminal", json_false());
	json_object_set_new(root, "path", json_string(rootfs));
	json_object_set_new(root, "readonly", json_false());
	if (json_dump_file(cfg, path, JSON_INDENT(1)) < 0)
		rc = -EIO;
	json_decref(cfg);
	return rc;
}

int bundle_set_args(const struct shim_inst *si, const char *const argv[])
{
	return edit_config(si->bundle, argv);
}

static int write_publisher(struct shim_inst *si)
{
	char script[2 * PATH_MAX + 512];
	/* Fake `containerd publish`: appends its argv and a hex dump of stdin. One printf with
	 * O_APPEND, so a record is written in one go. */
	xsnprintf(script, sizeof(script),
		  "#!/bin/sh\n"
		  "# fake containerd binary written by cshim integration tests\n"
		  "data=$(od -An -v -tx1 | tr -d ' \\n')\n"
		  "args=''\n"
		  "for a in \"$@\"; do args=\"$args [$a]\"; done\n"
		  "printf 'ARGV%%s\\nDATA %%s\\n' \"$args\" \"$data\" >> '%s'\n"
		  "exit 0\n",
		  si->events);
	return write_file(si->publisher, script, strlen(script), 0755);
}

int shim_prepare(struct shim_inst *si, const char *shim_bin, const char *tag,
		 const char *const argv[])
{
	const char *root = it_root();
	char runc[PATH_MAX], p[PATH_MAX];
	char *out = NULL;
	int rc;

	memset(si, 0, sizeof(*si));
	si->exit_status = -1;
	si->drain_fds[0] = si->drain_fds[1] = -1;
	si->v2_log = -1;
	si->drain_stop[0] = si->drain_stop[1] = -1;
	if (!root)
		return -EIO;
	/* containerd resolves the binary (exec.LookPath) before the child chdirs to the bundle:
	 * a relative path must not be resolved against the bundle. */
	if (!realpath(shim_bin, si->shim))
		return -errno;
	xsnprintf(si->ns, sizeof(si->ns), "%s", IT_NAMESPACE);
	it_unique(si->id, sizeof(si->id), "it");
	xsnprintf(si->dir, sizeof(si->dir), "%s/%s-%s", root, tag, si->id);
	xsnprintf(si->bundle, sizeof(si->bundle), "%s/bundle", si->dir);
	xsnprintf(si->workdir, sizeof(si->workdir), "%s/work", si->dir);
	xsnprintf(si->sock, sizeof(si->sock), "%s/s.sock", si->dir);
	xsnprintf(si->runtime_root, sizeof(si->runtime_root), "%s/runc", si->dir);
	xsnprintf(si->address, sizeof(si->address), "%s", IT_GRPC_ADDRESS);
	xsnprintf(si->publisher, sizeof(si->publisher), "%s/publish.sh", si->dir);
	xsnprintf(si->events, sizeof(si->events), "%s/events.log", si->dir);
	xsnprintf(si->shimlog, sizeof(si->shimlog), "%s/shim.log", si->dir);
	xsnprintf(si->fifolog, sizeof(si->fifolog), "%s/shim.fifo.log", si->dir);
	if (strlen(si->sock) > 100)
		return -ENAMETOOLONG;

	if (mkdir(si->dir, 0711) < 0)
		return -errno;
	if (mkdir(si->bundle, 0700) < 0 || mkdir(si->workdir, 0711) < 0 ||
	    mkdir(si->runtime_root, 0711) < 0)
		return -errno;
	/* containerd mkfifo's the shim log FIFOs (0700) in the work dir. */
	xsnprintf(p, sizeof(p), "%s/shim.stdout.log", si->workdir);
	if (mkfifo(p, 0700) < 0)
		return -errno;
	xsnprintf(p, sizeof(p), "%s/shim.stderr.log", si->workdir);
	if (mkfifo(p, 0700) < 0)
		return -errno;

	if ((rc = find_in_path("runc", runc, sizeof(runc))) < 0)
		return rc;
	{
		const char *av[] = { runc, "spec", "--bundle", si->bundle, NULL };
		rc = it_run(av, 10000, &out);
		if (rc != 0) {
			fprintf(stderr, "runc spec failed (%d): %s\n", rc, out ? out : "");
			free(out);
			return rc < 0 ? rc : -EIO;
		}
		free(out);
	}
	xsnprintf(p, sizeof(p), "%s/rootfs", si->bundle);
	if ((rc = make_rootfs(p)) < 0)
		return rc;
	if ((rc = edit_config(si->bundle, argv)) < 0)
		return rc;
	if ((rc = write_publisher(si)) < 0)
		return rc;
	return 0;
}

/* ---- shim process ---- */

static void *drain_main(void *arg)
{
	struct shim_inst *si = arg;
	int out = open(si->fifolog, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	char buf[8192];

	for (;;) {
		struct pollfd p[3] = {
			{ .fd = si->drain_fds[0], .events = POLLIN },
			{ .fd = si->drain_fds[1], .events = POLLIN },
			{ .fd = si->drain_stop[0], .events = POLLIN },
		};
		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[2].revents)
			break;
		for (int i = 0; i < 2; i++) {
			if (!(p[i].revents & POLLIN))
				continue;
			ssize_t r = read(p[i].fd, buf, sizeof(buf));
			if (r > 0 && out >= 0 && write(out, buf, (size_t)r) < 0) {
				/* diagnostics only */
			}
		}
	}
	if (out >= 0)
		close(out);
	return NULL;
}

static int start_drain(struct shim_inst *si)
{
	char p[PATH_MAX];
	/* containerd opens both FIFOs for reading and copies them (to its stdout when
	 * shim_debug, else discards). O_RDWR: never EOF/POLLHUP when the shim goes away. */
	xsnprintf(p, sizeof(p), "%s/shim.stdout.log", si->workdir);
	si->drain_fds[0] = open(p, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	xsnprintf(p, sizeof(p), "%s/shim.stderr.log", si->workdir);
	si->drain_fds[1] = open(p, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (si->drain_fds[0] < 0 || si->drain_fds[1] < 0)
		return -errno;
	if (pipe2(si->drain_stop, O_CLOEXEC) < 0)
		return -errno;
	if (pthread_create(&si->drain_thr, NULL, drain_main, si) != 0)
		return -EAGAIN;
	si->drain_started = true;
	return 0;
}

int shim_start(struct shim_inst *si, bool debug)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *argv[16];
	char **envp;
	size_t nenv = 0;
	int lfd, devnull, logfd, rc, ac = 0;
	char pidbuf[32], addr[PATH_MAX + 16];
	int errp[2];
	pid_t pid;

	if ((rc = start_drain(si)) < 0)
		return rc;

	/* The listener, like containerd: socket, bind, listen(4096), chmod 0600. */
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
	if (devnull < 0 || logfd < 0) {
		rc = -errno;
		close(lfd);
		if (devnull >= 0)
			close(devnull);
		if (logfd >= 0)
			close(logfd);
		return rc;
	}

	argv[ac++] = si->shim;
	argv[ac++] = "-namespace";
	argv[ac++] = si->ns;
	if (si->v2) {
		char logp[PATH_MAX];
		xsnprintf(logp, sizeof(logp), "%s/log", si->bundle);
		if (mkfifo(logp, 0700) < 0 && errno != EEXIST)
			return -errno;
		if (si->v2_log < 0 &&
		    (si->v2_log = open(logp, O_RDWR | O_NONBLOCK | O_CLOEXEC)) < 0)
			return -errno;
		argv[ac++] = "-id";
		argv[ac++] = si->id;
		argv[ac++] = "-address";
		argv[ac++] = si->address;
		argv[ac++] = "-publish-binary";
		argv[ac++] = si->publisher;
		if (debug)
			argv[ac++] = "-debug";
		argv[ac++] = "serve";
		argv[ac] = NULL;
		goto env;
	}
	argv[ac++] = "-workdir";
	argv[ac++] = si->workdir;
	argv[ac++] = "-address";
	argv[ac++] = si->address;
	argv[ac++] = "-containerd-binary";
	argv[ac++] = si->publisher;
	argv[ac++] = "-runtime-root";
	argv[ac++] = si->runtime_root;
	if (debug)
		argv[ac++] = "-debug";
	argv[ac] = NULL;

env:
	/* env = ours + GOMAXPROCS=2 (containerd appends it). */
	while (environ[nenv])
		nenv++;
	envp = calloc(nenv + 2, sizeof(char *));
	if (!envp) {
		close(lfd);
		close(devnull);
		close(logfd);
		return -ENOMEM;
	}
	memcpy(envp, environ, nenv * sizeof(char *));
	envp[nenv] = "GOMAXPROCS=2";

	if (pipe2(errp, O_CLOEXEC) < 0) {
		rc = -errno;
		free(envp);
		close(lfd);
		close(devnull);
		close(logfd);
		return rc;
	}
	pid = fork();
	if (pid < 0) {
		rc = -errno;
		close(errp[0]);
		close(errp[1]);
		free(envp);
		close(lfd);
		close(devnull);
		close(logfd);
		return rc;
	}
	if (pid == 0) {
		/* Async-signal-safe only. Move sources above 10 first so dup2 never clobbers. */
		int a = fcntl(devnull, F_DUPFD, 10);
		int b = fcntl(logfd, F_DUPFD, 10);
		int l = fcntl(lfd, F_DUPFD, 10);
		int e = fcntl(errp[1], F_DUPFD_CLOEXEC, 10);
		int err;
		child_reset_signals();
		setpgid(0, 0);
		if (chdir(si->bundle) < 0)
			goto fail;
		if (a < 0 || b < 0 || l < 0 || e < 0 || dup2(a, 0) < 0 || dup2(b, 1) < 0 ||
		    dup2(b, 2) < 0 || dup2(l, 3) < 0)
			goto fail;
		/* Listener arrives blocking and without CLOEXEC (Go ExtraFiles semantics). */
		fcntl(3, F_SETFL, fcntl(3, F_GETFL) & ~O_NONBLOCK);
		/* Close everything else, except the CLOEXEC error pipe (closed by execve). */
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
	close(errp[1]);
	setpgid(pid, pid); /* as the parent too, to close the race */
	free(envp);
	close(lfd);
	close(devnull);
	close(logfd);
	si->pid = pid;
	{
		int err = 0;
		ssize_t k;
		while ((k = read(errp[0], &err, sizeof(err))) < 0 && errno == EINTR)
			;
		close(errp[0]);
		if (k == (ssize_t)sizeof(err))
			return err ? -err : -EIO; /* chdir/dup/exec failed in the child */
	}

	/* containerd writes address and shim.pid into the bundle after starting the shim. */
	xsnprintf(addr, sizeof(addr), "unix://%s", si->sock);
	xsnprintf(pidbuf, sizeof(pidbuf), "%d", (int)pid);
	if ((rc = atomic_write(si->bundle, "address", addr)) < 0)
		return rc;
	if ((rc = atomic_write(si->bundle, "shim.pid", pidbuf)) < 0)
		return rc;
	return 0;
}

int bundle_set_annotation(const struct shim_inst *si, const char *key, const char *value)
{
	char path[PATH_MAX];
	json_error_t jerr;
	json_t *cfg, *ann;
	int rc = 0;

	xsnprintf(path, sizeof(path), "%s/config.json", si->bundle);
	cfg = json_load_file(path, 0, &jerr);
	if (!cfg)
		return -EINVAL;
	ann = json_object_get(cfg, "annotations");
	if (!json_is_object(ann)) {
		ann = json_object();
		json_object_set_new(cfg, "annotations", ann);
	}
	json_object_set_new(ann, key, json_string(value));
	if (json_dump_file(cfg, path, JSON_INDENT(1)) < 0)
		rc = -EIO;
	json_decref(cfg);
	return rc;
}

/* The `start` child: containerd's exec.Cmd with Dir, Setpgid, Stdin, CombinedOutput. */
static pid_t spawn_start(const struct shim_inst *si, const char *const argv[], char **envp, int in,
			 int out)
{
	pid_t pid = fork();
	if (pid != 0)
		return pid < 0 ? -errno : pid;
	child_reset_signals();
	setpgid(0, 0);
	if (chdir(si->bundle) < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
		_exit(126);
	close_range(3, ~0U, 0);
	execve(argv[0], (char *const *)argv, envp);
	_exit(127);
}

int shim_v2_start_action(struct shim_inst *si, const char *ttrpc, const uint8_t *opts,
			 size_t optlen, char **out)
{
	char logp[PATH_MAX], ttenv[PATH_MAX + 32], *text, *a, *e;
	const char *argv[12];
	bool killed = false;
	char **envp;
	int in[2], o[2], st = 0, ac = 0, rc;
	size_t nenv = 0;
	pid_t pid;

	if (out)
		*out = NULL;
	/* containerd opens the shim log FIFO for reading before it runs `start`. */
	xsnprintf(logp, sizeof(logp), "%s/log", si->bundle);
	if (mkfifo(logp, 0700) < 0 && errno != EEXIST)
		return -errno;
	if (si->v2_log < 0 && (si->v2_log = open(logp, O_RDWR | O_NONBLOCK | O_CLOEXEC)) < 0)
		return -errno;
	if (ttrpc)
		xsnprintf(ttenv, sizeof(ttenv), "TTRPC_ADDRESS=%s", ttrpc);
	else
		xsnprintf(ttenv, sizeof(ttenv), "TTRPC_ADDRESS=%s.ttrpc", si->address);
	argv[ac++] = si->shim;
	argv[ac++] = "-namespace";
	argv[ac++] = si->ns;
	argv[ac++] = "-address";
	argv[ac++] = si->address;
	argv[ac++] = "-publish-binary";
	argv[ac++] = si->publisher;
	argv[ac++] = "-id";
	argv[ac++] = si->id;
	argv[ac++] = "start";
	argv[ac] = NULL;
	while (environ[nenv])
		nenv++;
	envp = calloc(nenv + 3, sizeof(char *));
	if (!envp)
		return -ENOMEM;
	memcpy(envp, environ, nenv * sizeof(char *));
	envp[nenv] = "GOMAXPROCS=2";
	envp[nenv + 1] = ttenv;
	if (pipe2(in, O_CLOEXEC) < 0) {
		free(envp);
		return -errno;
	}
	if (pipe2(o, O_CLOEXEC) < 0) {
		rc = -errno;
		close(in[0]);
		close(in[1]);
		free(envp);
		return rc;
	}
	pid = spawn_start(si, argv, envp, in[0], o[1]);
	free(envp);
	close(in[0]);
	close(o[1]);
	if (pid > 0)
		setpgid(pid, pid);
	/* The options fit in the pipe buffer: the write never waits for the reader. */
	if (pid > 0 && opts && optlen && write(in[1], opts, optlen) != (ssize_t)optlen)
		kill(pid, SIGKILL);
	close(in[1]);
	text = pid > 0 ? read_to_eof(o[0], -pid, 30000, &killed) : NULL;
	close(o[0]);
	if (pid < 0) {
		free(text);
		return pid;
	}
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (out)
		*out = text ? strdup(text) : NULL;
	rc = killed                                   ? -ETIMEDOUT
	     : !text                                  ? -ENOMEM
	     : !WIFEXITED(st) || WEXITSTATUS(st) != 0 ? -EIO
						      : 0;
	a = text && rc == 0 ? text + strspn(text, " \t\r\n") : NULL;
	if (a && strncmp(a, "unix://", 7) == 0)
		a += 7;
	if (a) {
		e = a + strcspn(a, " \t\r\n");
		*e = '\0';
		if (*a != '/' || (size_t)(e - a) >= sizeof(si->sock))
			rc = -EPROTO;
		else
			xsnprintf(si->sock, sizeof(si->sock), "%s", a);
	}
	si->v2 = rc == 0;
	free(text);
	return rc;
}

bool shim_alive(struct shim_inst *si)
{
	int st;
	if (si->pid <= 0)
		return false;
	pid_t r = waitpid(si->pid, &st, WNOHANG);
	if (r == si->pid) {
		si->exit_status = st;
		si->pid = 0;
		return false;
	}
	return r == 0;
}

static void runc_force_delete_all(const struct shim_inst *si)
{
	char runc[PATH_MAX], rroot[PATH_MAX];
	char *out = NULL;
	struct stat st;

	xsnprintf(rroot, sizeof(rroot), "%s/%s", si->runtime_root, si->ns);
	if (stat(rroot, &st) < 0)
		return;
	if (find_in_path("runc", runc, sizeof(runc)) < 0)
		return;
	{
		const char *av[] = { runc, "--root", rroot, "delete", "--force", si->id, NULL };
		it_run(av, 10000, NULL);
	}
	{
		const char *av[] = { runc, "--root", rroot, "list", "-q", NULL };
		if (it_run(av, 10000, &out) == 0 && out) {
			char *save = NULL;
			for (char *id = strtok_r(out, "\n", &save); id;
			     id = strtok_r(NULL, "\n", &save)) {
				const char *dv[] = { runc,      "--root", rroot, "delete",
						     "--force", id,       NULL };
				if (*id)
					it_run(dv, 10000, NULL);
			}
		}
		free(out);
	}
}

/* Under `make asan` (CSHIM_IT_LEAKCHECK=1) the shim under test (CSHIM) is stopped the way
 * containerd stops it, by SIGTERM, and given 10 s: its shutdown runs LeakSanitizer before
 * _exit (server/main.c), which SIGKILL would skip. Reaped: true. */
static bool shim_term_leakcheck(struct shim_inst *si)
{
	const char *on = getenv("CSHIM_IT_LEAKCHECK"), *c = getenv("CSHIM");
	long dl = now_ms() + 10000;
	int st;

	if (!on || strcmp(on, "1") != 0 || !c || strcmp(c, si->shim) != 0)
		return false;
	if (kill(si->pid, SIGTERM) < 0)
		return false;
	for (;;) {
		pid_t r = waitpid(si->pid, &st, WNOHANG);
		if (r == si->pid) {
			si->exit_status = st;
			return true;
		}
		if ((r < 0 && errno != EINTR) || now_ms() > dl)
			return false;
		usleep(5000);
	}
}

void shim_cleanup(struct shim_inst *si)
{
	if (si->pid > 0 && shim_term_leakcheck(si)) {
		kill(-si->pid, SIGKILL); /* what is left of its group */
		si->pid = 0;
	}
	if (si->pid > 0) {
		int st;
		long dl = now_ms() + 5000;
		/* The group first (publishers, runc children), while the shim's pid still names
		 * the group; then the shim itself. */
		kill(-si->pid, SIGKILL);
		kill(si->pid, SIGKILL);
		for (;;) {
			pid_t r = waitpid(si->pid, &st, WNOHANG);
			if (r == si->pid) {
				si->exit_status = st;
				break;
			}
			if ((r < 0 && errno != EINTR) || now_ms() > dl)
				break;
			usleep(5000);
		}
		si->pid = 0;
	}
	if (si->v2 && si->v2_log >= 0) {
		close(si->v2_log);
		si->v2_log = -1;
	}
	if (si->dir[0]) {
		runc_force_delete_all(si);
		if (si->drain_started) {
			if (write(si->drain_stop[1], "x", 1) < 0) {
				/* the thread also stops when the pipe breaks */
			}
			pthread_join(si->drain_thr, NULL);
			si->drain_started = false;
		}
		for (int i = 0; i < 2; i++) {
			if (si->drain_fds[i] >= 0)
				close(si->drain_fds[i]);
			if (si->drain_stop[i] >= 0)
				close(si->drain_stop[i]);
			si->drain_fds[i] = si->drain_stop[i] = -1;
		}
		if (!getenv("CSHIM_IT_KEEP"))
			rm_rf(si->dir);
		si->dir[0] = '\0';
	}
}

/* ---- publisher records ---- */

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int pub_events_read(const struct shim_inst *si, struct pub_event **ev)
{
	char *text = it_read_file(si->events, NULL);
	char *save = NULL, *line;
	struct pub_event *arr = NULL;
	int n = 0;
	char *pending_argv = NULL;

	*ev = NULL;
	if (!text)
		return errno == ENOENT ? 0 : -errno;
	/* Only complete records count: an ARGV line followed by a DATA line ending in \n. */
	size_t tl = strlen(text);
	if (tl > 0 && text[tl - 1] != '\n') {
		char *last = strrchr(text, '\n');
		if (last)
			last[1] = '\0';
		else
			text[0] = '\0';
	}
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "ARGV", 4) == 0) {
			pending_argv = line + 4;
			continue;
		}
		if (strncmp(line, "DATA ", 5) != 0 || !pending_argv)
			continue;
		struct pub_event *na = realloc(arr, (size_t)(n + 1) * sizeof(*arr));
		if (!na)
			break;
		arr = na;
		memset(&arr[n], 0, sizeof(arr[n]));
		xsnprintf(arr[n].argv, sizeof(arr[n].argv), "%s",
			  pending_argv[0] == ' ' ? pending_argv + 1 : pending_argv);
		const char *hx = line + 5;
		size_t hl = strlen(hx);
		arr[n].data = malloc(hl / 2 + 1);
		for (size_t i = 0; arr[n].data && i + 1 < hl; i += 2) {
			int h = hexval(hx[i]), l = hexval(hx[i + 1]);
			if (h < 0 || l < 0)
				break;
			arr[n].data[arr[n].len++] = (uint8_t)(h << 4 | l);
		}
		pending_argv = NULL;
		n++;
	}
	free(text);
	*ev = arr;
	return n;
}

void pub_events_free(struct pub_event *ev, int n)
{
	for (int i = 0; i < n; i++)
		free(ev[i].data);
	free(ev);
}

int pub_events_wait(const struct shim_inst *si, int want, int timeout_ms)
{
	long dl = now_ms() + timeout_ms;
	for (;;) {
		struct pub_event *ev;
		int n = pub_events_read(si, &ev);
		pub_events_free(ev, n > 0 ? n : 0);
		if (n >= want || now_ms() >= dl)
			return n;
		usleep(20000);
	}
}

/* ---- client stdio FIFOs ---- */

int fifos_make(const struct shim_inst *si, struct test_fifos *f)
{
	char d[PATH_MAX];

	f->out_fd = f->err_fd = -1;
	xsnprintf(d, sizeof(d), "%s/fifo", si->dir);
	if (mkdir(d, 0700) < 0 && errno != EEXIST)
		return -errno;
	xsnprintf(f->stdout_path, sizeof(f->stdout_path), "%s/%s-stdout", d, si->id);
	xsnprintf(f->stderr_path, sizeof(f->stderr_path), "%s/%s-stderr", d, si->id);
	if (mkfifo(f->stdout_path, 0700) < 0 || mkfifo(f->stderr_path, 0700) < 0)
		return -errno;
	f->out_fd = open(f->stdout_path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	f->err_fd = open(f->stderr_path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (f->out_fd < 0 || f->err_fd < 0)
		return -errno;
	return 0;
}

char *fifo_read_all(int fd, int timeout_ms)
{
	return fifo_read_until(fd, NULL, timeout_ms);
}

char *fifo_read_until(int fd, const char *needle, int timeout_ms)
{
	long dl = now_ms() + timeout_ms;
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap + 1);

	if (!buf)
		return NULL;
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
			break; /* EOF: every writer closed */
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			break;
		long left = dl - now_ms();
		if (left <= 0)
			break;
		struct pollfd p = { .fd = fd, .events = POLLIN };
		poll(&p, 1, (int)left);
	}
	buf[n] = '\0';
	return buf;
}

void fifos_close(struct test_fifos *f)
{
	if (f->out_fd >= 0)
		close(f->out_fd);
	if (f->err_fd >= 0)
		close(f->err_fd);
	f->out_fd = f->err_fd = -1;
}
