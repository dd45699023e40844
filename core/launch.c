/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The launch of a process by the runtime, one sequence for the init's create, an exec's start
 * and a restore: the console socket, the runtime's run inside the reaper's start window (so
 * an exit before the pid is known is kept for the claim), the console master, the pid file.
 * What each does before (stdio, spec, mounts) and after (its process's state, the claim) is
 * its own.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../io/base.h"
#include "../io/fd_util.h"
#include "container_priv.h"
#include "reaper.h"

int launch_prepare(struct launch *l, enum shim_op op, bool terminal, struct shim_error *err)
{
	int r;

	memset(l, 0, sizeof(*l));
	l->op = op;
	l->terminal = terminal;
	l->cs.fd = -1;
	l->master = -1;
	if (terminal && (r = console_socket_new(&l->cs)) < 0)
		return shim_fail(err, r, SHIM_ERR_FAILED, op,
				 "failed to create OCI runtime console socket: %s", strerror(-r));
	return 0;
}

int launch_run(struct launch *l, const struct launch_call *call, struct shim_error *err)
{
	struct runtime_result res;
	int r;

	l->t0 = reaper_start_begin();
	l->window = true;
	r = runtime_run(call->rt,
			&(struct runtime_call){ .args = call->args,
						.fds = l->terminal ? NULL : call->io->rt_fd,
						.deadline_ns = call->deadline_ns },
			&res);
	stdio_spawned(call->io);
	if (r < 0 || res.status != 0) {
		if (r == -ETIMEDOUT && call->say_timeout)
			shim_fail(err, r, SHIM_ERR_RUNTIME, l->op, "%s timed out", call->rt->name);
		else if (r < 0)
			shim_fail(err, r, SHIM_ERR_RUNTIME, l->op, "%s", strerror(-r));
		else
			r = runtime_failure(call->rt, &res, l->op, err);
		runtime_result_free(&res);
		return r;
	}
	runtime_result_free(&res);
	l->ran = true;
	if (l->terminal && (r = container_recv_console(&l->cs, &l->master, err)) < 0)
		return r;
	r = container_read_pid_file(call->pid_file, &l->pid);
	if (r < 0)
		return shim_fail(err, r, SHIM_ERR_FAILED, l->op,
				 "failed to retrieve OCI runtime %s pid: %s", call->pid_what,
				 strerror(-r));
	console_socket_close(&l->cs);
	return 0;
}

void launch_finish(struct launch *l)
{
	if (l->window)
		reaper_start_end();
	l->window = false;
	safe_close(l->master);
	l->master = -1;
	console_socket_close(&l->cs);
}
