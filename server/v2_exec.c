/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/spawn.h"
#include "io/base.h"
#include "io/fd_util.h"
#include "v2_exec.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

int v2_exec_capture(const char *path, char *const *argv, size_t max, char **ret_out,
		    size_t *ret_len, int *ret_status)
{
	_cleanup_close_ int rd = -1, wr = -1, pidfd = -1;
	int p[2], fds[3], r;
	siginfo_t si = { 0 };
	pid_t pid;

	*ret_out = NULL;
	*ret_len = 0;
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	rd = p[0];
	wr = p[1];
	fds[0] = -1;
	fds[1] = wr;
	fds[2] = STDERR_FILENO;
	struct spawn_opts o = {
		.path = path, .argv = argv, .envp = spawn_child_env(), .fds = fds, .nfds = 3
	};
	r = spawn_process(&o, &pid, &pidfd);
	if (r < 0)
		return r;
	wr = safe_close(wr);
	r = fd_read_all(rd, max, ret_out, ret_len);
	while (waitid((idtype_t)P_PIDFD, (id_t)pidfd, &si, WEXITED) < 0) {
		if (errno != EINTR) {
			free(*ret_out);
			*ret_out = NULL;
			return -errno;
		}
	}
	if (r < 0)
		return r;
	*ret_status = si.si_code == CLD_EXITED ? si.si_status : 128 + si.si_status;
	return 0;
}
