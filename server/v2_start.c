/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `SHIM -namespace NS -address A -publish-binary P -id ID [-debug] start` (spec v2 §1.3-§1.5):
 * print the address of the shim that serves this container's group, starting that shim when
 * the group has none. Whatever goes to stdout or stderr becomes containerd's view of the
 * result, so on success exactly the address is written, nothing else.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/spawn.h"
#include "core/v2_bundle.h"
#include "core/v2_shimproc.h"
#include "core/v2_socket.h"
#include "io/base.h"
#include "io/fd_util.h"
#include "v2_actions.h"
#include "v2_serve.h"
#include "v2_start.h"

#define GROUP_MAX 4096

int v2_start_prepare(struct v2_start_plan *p, const char *sockdir, char *msg, size_t msgsz)
{
	_cleanup_free_ char *group = malloc(GROUP_MAX), *path = malloc(PATH_MAX);
	int r;

	if (!group || !path)
		return -ENOMEM;
	if (!*p->f->id) {
		snprintf(msg, msgsz, "-id is required");
		return -EINVAL;
	}
	r = v2_bundle_group(p->bundle, p->f->id, group, GROUP_MAX, msg, msgsz);
	if (r < 0)
		return r;
	if (!sockdir)
		sockdir =
			p->in->socket_dir && *p->in->socket_dir ? p->in->socket_dir : V2_SOCKET_DIR;
	r = v2_socket_path(sockdir, p->f->address, p->f->ns, group, path, PATH_MAX);
	if (r < 0) {
		snprintf(msg, msgsz, "socket path: %s", strerror(-r));
		return r;
	}
	/* sun_path holds 107 bytes and a NUL */
	if (strlen(path) > 107) {
		snprintf(msg, msgsz, "socket path %s is too long", path);
		return -ENAMETOOLONG;
	}
	p->socket_path = TAKE_PTR(path);
	if (asprintf(&p->address, "unix://%s", p->socket_path) < 0)
		return -ENOMEM;
	return 0;
}

void v2_start_plan_free(struct v2_start_plan *p)
{
	free(p->socket_path);
	free(p->address);
	p->socket_path = p->address = NULL;
}

/* Address file and options record: what this container's later calls read. */
static int write_bundle_files(const struct v2_start_plan *p, char *msg, size_t msgsz)
{
	int r = v2_bundle_write_address(p->bundle, p->address);

	if (r < 0) {
		snprintf(msg, msgsz, "write %s/address: %s", p->bundle, strerror(-r));
		return r;
	}
	if (p->in->runc && (r = v2_bundle_save_opts(p->bundle, &p->in->opts)) < 0) {
		snprintf(msg, msgsz, "write %s/%s: %s", p->bundle, V2_OPTIONS_FILE, strerror(-r));
		return r;
	}
	return 0;
}

static void remove_bundle_files(const struct v2_start_plan *p)
{
	_cleanup_free_ char *a = NULL, *o = NULL;

	if (asprintf(&a, "%s/address", p->bundle) >= 0)
		(void)unlink(a);
	if (p->in->runc && asprintf(&o, "%s/%s", p->bundle, V2_OPTIONS_FILE) >= 0)
		(void)unlink(o);
}

int v2_start_launch(const struct v2_start_plan *p, pid_t *ret_pid, char *msg, size_t msgsz)
{
	_cleanup_close_ int lfd = -1, logfd = -1;
	char *argv[V2_SERVE_ARGV_MAX];
	pid_t pid = 0;
	bool wrote = false;
	int r;

	*ret_pid = 0;
	r = v2_socket_listen(p->socket_path, &lfd);
	if (r < 0) {
		snprintf(msg, msgsz, "listen on %s: %s", p->socket_path, strerror(-r));
		return r;
	}
	if (r == V2_SOCKET_LIVE) /* the group's shim is alive: it serves this container too */
		return (r = write_bundle_files(p, msg, msgsz)) < 0 ? r : V2_SOCKET_LIVE;
	if ((r = write_bundle_files(p, msg, msgsz)) < 0)
		goto fail;
	wrote = true;
	logfd = v2_open_log(p->bundle);
	v2_serve_argv(p->f, p->self, argv);
	struct v2_spawn_args a = { .self = p->self,
				   .argv = argv,
				   .bundle = p->bundle,
				   .listen_fd = lfd,
				   .log_fd = logfd };
	if ((r = v2_serve_spawn(&a, &pid)) < 0) {
		snprintf(msg, msgsz, "start %s: %s", p->self, strerror(-r));
		goto fail;
	}
	if (p->in->runc && *p->in->shim_cgroup &&
	    (r = v2_shim_cgroup_add(p->cgroot, p->in->shim_cgroup, pid)) < 0) {
		snprintf(msg, msgsz, "add the shim to cgroup %s: %s", p->in->shim_cgroup,
			 strerror(-r));
		goto fail;
	}
	if ((r = v2_oom_score_inherit(pid, getppid())) < 0) {
		snprintf(msg, msgsz, "set the shim's oom_score_adj: %s", strerror(-r));
		goto fail;
	}
	*ret_pid = pid;
	return V2_SOCKET_NEW;
fail:
	if (pid > 0)
		(void)kill(pid, SIGKILL);
	(void)unlink(p->socket_path);
	if (wrote) /* containerd removes the bundle, but leave it as it was all the same */
		remove_bundle_files(p);
	return r;
}

int v2_start_main(const struct v2_flags *f)
{
	struct v2_stdin in;
	struct v2_start_plan p = { .f = f, .in = &in, .cgroot = "/sys/fs/cgroup" };
	_cleanup_free_ char *cwd = NULL, *self = NULL;
	char msg[512];
	pid_t pid;
	int r;

	if (v2_stdin_read(STDIN_FILENO, f->id, f->ns, &in, msg, sizeof(msg)) < 0) {
		fprintf(stderr, "cshim: start: %s\n", msg);
		return 1;
	}
	p.bundle = f->bundle;
	if (!*p.bundle) {
		if (!(cwd = getcwd(NULL, 0))) {
			fprintf(stderr, "cshim: start: getcwd: %s\n", strerror(errno));
			v2_stdin_free(&in);
			return 1;
		}
		p.bundle = cwd;
	}
	r = v2_start_prepare(&p, NULL, msg, sizeof(msg));
	if (r < 0) {
		fprintf(stderr, "cshim: start: %s\n", msg);
		goto out;
	}
	/* Until this build has the Task v2 server there is nothing to start: refuse before
	 * binding or writing anything (containerd then removes the bundle). */
	if (!v2_serve_available()) {
		fprintf(stderr,
			"cshim: the runtime v2 task service is not available in this build\n");
		r = -ENOSYS;
		goto out;
	}
	self = realpath("/proc/self/exe", NULL);
	if (!self || (r = spawn_init_env()) < 0) {
		fprintf(stderr, "cshim: start: cannot resolve /proc/self/exe\n");
		r = -ENOENT;
		goto out;
	}
	p.self = self;
	r = v2_start_launch(&p, &pid, msg, sizeof(msg));
	if (r < 0) {
		fprintf(stderr, "cshim: start: %s\n", msg);
		goto out;
	}
	if (fd_write_all(STDOUT_FILENO, p.address, strlen(p.address)) < 0)
		r = -EIO;
out:
	v2_start_plan_free(&p);
	v2_stdin_free(&in);
	return r < 0 ? 1 : 0;
}
