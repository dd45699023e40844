/* SPDX-License-Identifier: Apache-2.0 */
/* cshim-bench: benchmarks for v1 shims (cshim and containerd's Go containerd-shim) without
 * containerd. See `cshim-bench help`. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/cli.h"
#include "bench/pingpong.h"
#include "bench/shim.h"
#include "bench/util.h"

static const char USAGE[] =
	"usage: cshim-bench COMMAND [options]\n"
	"\n"
	"  launch SHIM [--runtime PATH] [--hold SECONDS] [--v2 [--containers N]]\n"
	"      start SHIM like containerd 1.6 (fd 3 listener, its flags, cwd = bundle) with a\n"
	"      busybox bundle and a running `sleep` container; print socket and pids; wait for\n"
	"      EOF on stdin, SIGINT or --hold; then kill, Delete, SIGKILL, runc delete, rm.\n"
	"      --v2: a runtime v2 shim, through `start`; N containers grouped in it.\n"
	"  rpc [SHIM | --shim SHIM | --socket PATH --pid PID --id CONTAINER]\n"
	"      [--method State|ListPids|ShimInfo|Pids|Stats|mix|State=8,ShimInfo=1] [--conns N]\n"
	"      [--streams N] [--threads N] [--duration S] [--warmup S] [--rate R] [--drain S]\n"
	"      [--plot FILE.svg] [--json FILE]\n"
	"      [--v2]\n"
	"      closed-loop load (N connections, or N streams on each connection); with --rate\n"
	"      open loop at R requests/s, latency from the intended send time. --v2: a runtime\n"
	"      v2 shim (launched through `start`), containerd.task.v2.Task (State, Pids, Stats).\n"
	"  pingpong [--duration S] [--warmup S] [--plot FILE.svg] [--json FILE]\n"
	"      the floor: a bare AF_UNIX exchange of State-sized frames between two processes.\n"
	"  compare [SHIM_A [SHIM_B]] [--methods State,ListPids,ShimInfo] [--conns 1,8,64]\n"
	"      [--streams N] [--rounds R] [--duration S] [--warmup S] [--rate R]\n"
	"      [--plot PREFIX.svg] [--json FILE]\n"
	"      same load on both, interleaved A B A B per round; ratios B/A (min/median/max).\n"
	"  density N [SHIM ...] [--settle S] [--json FILE]\n"
	"      N shims per binary, each with an idle container: Pss, Private_Dirty, threads, fds,\n"
	"      start-to-first-answer; totals.\n"
	"  churn [SHIM ...] [--duration S] [--rate R] [--exec-clients N] [--kill-clients N]\n"
	"      [--hang-on update|exec] [--plot FILE.svg] [--json FILE]\n"
	"      State p99 (open loop) idle, during exec churn, and while the runtime hangs in\n"
	"      `update` (bench/runtime-hang.sh as the Create runtime).\n"
	"  exitwait [N] [SHIM_A [SHIM_B]] [--rounds R] [--containerd PATH] [--json FILE] [--v2]\n"
	"      N containers per shim (20) killed at once: exit -> Wait answer and exit ->\n"
	"      /tasks/exit at containerd, shims publishing to a private containerd.\n"
	"  execs [N] [SHIM_A [SHIM_B]] [--rounds R] [--containerd PATH] [--json FILE] [--v2]\n"
	"      N concurrent exec cycles (10) into one container: wall time, shim + children\n"
	"      CPU per exec (publishers included), shims publishing to a private containerd.\n"
	"  v2 [SHIM_A [SHIM_B]] [--pods P] [--extra X] [--settle S] [--rounds R]\n"
	"      [--containerd PATH] [--out DIR] [--quick]\n"
	"      two runtime v2 shims (runc-v2, cshim) started through `start`: idle pods\n"
	"      (sandbox + 2 containers per shim), the per-container slope, start -> first\n"
	"      answer, State/Pids/Stats, exitwait and execs; the v2 table with its targets.\n"
	"  suite [--go SHIM] [--gov2 SHIM] [--cshim SHIM] [--out DIR] [--quick] [--no-v2]\n"
	"      everything `make bench` runs, one side-by-side table with PASS/MISS per target.\n"
	"\n"
	"      --v2 (exitwait, execs): runtime v2 shims, started through `start`.\n"
	"\n"
	"Defaults: SHIM_A = $GOSHIM or /usr/bin/containerd-shim (v2: $GOSHIMV2 or\n"
	"/usr/bin/containerd-shim-runc-v2), SHIM_B = $CSHIM or build/bin/cshim. A one-line\n"
	"progress display is shown when stdout is a terminal.\n";

static int wait_stdin_or_hold(double hold)
{
	if (hold > 0) {
		sleep_s(hold);
		return 0;
	}
	char buf[256];
	while (fgets(buf, sizeof(buf), stdin))
		;
	return 0;
}

int cmd_launch(int argc, char **argv)
{
	struct bshim b;
	const char *shim = NULL, *runtime = NULL;
	double hold = 0;
	int containers = 1;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--runtime"))
			runtime = v, i++;
		else if (!strcmp(a, "--hold"))
			hold = parse_double(a, v), i++;
		else if (!strcmp(a, "--v2"))
			bshim_use_v2(true);
		else if (!strcmp(a, "--containers"))
			containers = (int)parse_long(a, v), i++;
		else if (a[0] != '-' && !shim)
			shim = a;
		else
			die("launch: unknown option %s", a);
	}
	if (!shim)
		shim = default_cshim();
	bshim_install_signal_cleanup();
	if (bshim_launch(&b, shim, "launch", runtime, NULL) < 0) {
		bshim_destroy(&b);
		it_root_remove();
		die("launch of %s failed", shim);
	}
	for (int k = 1; k < containers; k++)
		if (bshim_add_container(&b) < 0) {
			bshim_destroy(&b);
			it_root_remove();
			die("launch: container %d of %s failed", k + 1, shim);
		}
	printf("start_ran_ms=%.3f\nshim=%s\nsocket=%s\nshim_pid=%d\ncontainer=%s\ninit_pid=%u\nnamespace=%s\n"
	       "bundle=%s\nruntime_root=%s/%s\nfirst_answer_ms=%.3f\n",
	       b.start_exit_s * 1e3, b.si.shim, b.si.sock, (int)b.pid, b.si.id, b.init_pid, b.si.ns,
	       b.si.bundle, b.si.runtime_root, b.si.ns, b.first_answer_s * 1e3);
	printf("# e.g.: cshim-bench rpc --socket %s --pid %d --id %s\n", b.si.sock, (int)b.pid,
	       b.si.id);
	printf("# %s\n",
	       hold > 0 ? "holding; cleaning up afterwards" : "EOF on stdin (or Ctrl-C) cleans up");
	fflush(stdout);
	wait_stdin_or_hold(hold);
	bshim_destroy(&b);
	it_root_remove();
	return 0;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "help";

	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	if (!strcmp(cmd, "launch"))
		return cmd_launch(argc - 1, argv + 1);
	if (!strcmp(cmd, "rpc"))
		return cmd_rpc(argc - 1, argv + 1);
	if (!strcmp(cmd, "pingpong"))
		return cmd_pingpong(argc - 1, argv + 1);
	if (!strcmp(cmd, "compare"))
		return cmd_compare(argc - 1, argv + 1);
	if (!strcmp(cmd, "density"))
		return cmd_density(argc - 1, argv + 1);
	if (!strcmp(cmd, "churn"))
		return cmd_churn(argc - 1, argv + 1);
	if (!strcmp(cmd, "exitwait"))
		return cmd_exitwait(argc - 1, argv + 1);
	if (!strcmp(cmd, "execs"))
		return cmd_execs(argc - 1, argv + 1);
	if (!strcmp(cmd, "v2"))
		return cmd_v2(argc - 1, argv + 1);
	if (!strcmp(cmd, "suite"))
		return cmd_suite(argc - 1, argv + 1);
	if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
		fputs(USAGE, stdout);
		return 0;
	}
	fputs(USAGE, stderr);
	return 2;
}
