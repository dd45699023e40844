/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/spawn.h"
#include "io/base.h"
#include "v2_actions.h"
#include "v2_serve.h"

#define NOT_AVAILABLE "the runtime v2 task service is not available in this build"

bool v2_serve_available(void)
{
	return false;
}

int v2_serve_main(const struct v2_flags *f)
{
	(void)f;
	fprintf(stderr, "cshim: %s\n", NOT_AVAILABLE);
	return 1;
}

size_t v2_serve_argv(const struct v2_flags *f, const char *self, char **argv)
{
	size_t n = 0;

	argv[n++] = (char *)self;
	argv[n++] = "-namespace";
	argv[n++] = (char *)f->ns;
	argv[n++] = "-id";
	argv[n++] = (char *)f->id;
	argv[n++] = "-address";
	argv[n++] = (char *)f->address;
	argv[n++] = "-publish-binary";
	argv[n++] = (char *)f->publish_binary;
	if (f->debug)
		argv[n++] = "-debug";
	argv[n++] = V2_SERVE_WORD;
	argv[n] = NULL;
	return n;
}

int v2_open_log(const char *bundle)
{
	_cleanup_free_ char *path = NULL;

	if (asprintf(&path, "%s/log", bundle) < 0)
		return -1;
	return open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
}

int v2_serve_spawn(const struct v2_spawn_args *a, pid_t *ret_pid)
{
	_cleanup_close_ int pidfd = -1;
	int fds[4] = { -1, -1, a->log_fd, a->listen_fd };
	struct spawn_opts o = {
		.path = a->self,
		.argv = a->argv,
		.envp = spawn_child_env(),
		.fds = fds,
		.nfds = 4,
		.cwd = a->bundle,
		.setpgid = true,
	};

	return spawn_process(&o, ret_pid, &pidfd);
}
