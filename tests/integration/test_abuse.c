/* SPDX-License-Identifier: Apache-2.0 */
/* Hardening items 3-5 (reliability guide §0 #2 #6 #7 #10, §1.2-1.5, §2.3-2.4;
 * docs/v1-protocol.md §2, §3, §5, §6): protocol abuse over the real socket, peer credentials and
 * fd/signal hygiene of every process the shim spawns, and runtime/IO faults. Every case runs
 * against cshim (CSHIM, default build/bin/cshim) and then against the Go reference shim (GOSHIM,
 * default /usr/bin/containerd-shim). A failed check fails the test only for cshim; for the Go shim
 * it is printed as "[ GO-DIFF ]" and listed in the summary, since the Go shim is the reference, not
 * the subject. A summary table of every observation is printed at the end.
 *
 * Cases (cmocka tests <case>_c; the Go shim's run, <case>_go, is the test's teardown and
 * reported as [ REFERENCE ], never as a pass):
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
 *   stuckio       several processes whose stdout nobody reads exit together with processes
 *                 without IO: every exit reported promptly (exits not serialized behind
 *                 slow IO drains).
 *
 * The harness is abuse.h/abuse_harness.c; the cases are in abuse_wire.c, abuse_clients.c,
 * abuse_hygiene.c and abuse_faults.c. Build: `make build/tests/test_abuse`.
 * Run (as root, from the repository root): build/tests/test_abuse
 * Environment: CSHIM, GOSHIM, CSHIM_ABUSE_GO=0 (skip the Go shim), CSHIM_ABUSE_FILTER=<text>
 * (only cases whose name contains it), CSHIM_IT_WRAPPERS (wrapper dir, default
 * tests/integration/wrappers), CSHIM_IT_TIMEOUT (watchdog seconds, default 170),
 * CSHIM_IT_KEEP, CSHIM_IT_DEBUG (-debug to the shims). */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/integration/abuse.h"

static bool g_go_ok;
static const char *g_filter;

/* ======================================================================================
 * cmocka glue
 * ====================================================================================== */

static void run_case(const char *name, void (*fn)(struct tc *))
{
	struct tc t = { .is_c = true, .label = "cshim", .name = name };
	if (g_filter && !strstr(name, g_filter))
		skip();
	long t0 = it_now_ms();
	fn(&t);
	fprintf(stderr, "[  TIME  ] %-5s %-11s %ld ms, %d failed checks\n", t.label, name,
		it_now_ms() - t0, t.fails);
	if (t.fails)
		fail_msg("%s: %d checks failed against cshim", name, t.fails);
}

/* The same case against the Go shim, after cshim's (the test's teardown): a reference
 * observation for the summary table, never a pass or a failure of anything. */
static int reference_case(const char *name, void (*fn)(struct tc *))
{
	struct tc t = { .is_c = false, .label = "go", .name = name };
	if ((g_filter && !strstr(name, g_filter)) || !g_go_ok)
		return 0;
	long t0 = it_now_ms();
	fn(&t);
	fprintf(stderr, "[ REFERENCE ] go %-11s %ld ms, %d checks the Go shim does not meet\n",
		name, it_now_ms() - t0, t.fails);
	return 0;
}

#define CASE(n)                                                                                    \
	static void n##_c(void **s)                                                                \
	{                                                                                          \
		(void)s;                                                                           \
		run_case(#n, case_##n);                                                            \
	}                                                                                          \
	static int n##_go(void **s)                                                                \
	{                                                                                          \
		(void)s;                                                                           \
		return reference_case(#n, case_##n);                                               \
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

static int group_teardown(void **s)
{
	(void)s;
	int left = it_leftover_check();
	if (left)
		fprintf(stderr, "[ ERROR  ] %d leftover processes were killed\n", left);
	abuse_summary();
	it_root_remove();
	return 0;
}

int main(void)
{
	const char *go = getenv("CSHIM_ABUSE_GO");
	const char *to = getenv("CSHIM_IT_TIMEOUT");
	long secs = to && atol(to) > 0 ? atol(to) : 170;

	signal(SIGPIPE, SIG_IGN);
	g_filter = getenv("CSHIM_ABUSE_FILTER");
	if (g_filter && !*g_filter)
		g_filter = NULL;
	g_go_ok = !(go && strcmp(go, "0") == 0) && access(it_go_shim(), X_OK) == 0;
	if (geteuid() != 0) {
		fprintf(stderr, "test_abuse needs root (runc, setuid children)\n");
		return 77;
	}
	it_require_cshim("test_abuse", it_c_shim());
	abuse_watchdog_start(secs);

	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(oversize_c, oversize_go),
		cmocka_unit_test_teardown(vanish_c, vanish_go),
		cmocka_unit_test_teardown(streams_c, streams_go),
		cmocka_unit_test_teardown(garbage_c, garbage_go),
		cmocka_unit_test_teardown(idle1000_c, idle1000_go),
		cmocka_unit_test_teardown(bytewise_c, bytewise_go),
		cmocka_unit_test_teardown(noreader_c, noreader_go),
		cmocka_unit_test_teardown(peercred_c, peercred_go),
		cmocka_unit_test_teardown(hygiene_c, hygiene_go),
		cmocka_unit_test_teardown(failcreate_c, failcreate_go),
		cmocka_unit_test_teardown(hangstart_c, hangstart_go),
		cmocka_unit_test_teardown(killcreated_c, killcreated_go),
		cmocka_unit_test_teardown(bgchild_c, bgchild_go),
		cmocka_unit_test_teardown(noreaderio_c, noreaderio_go),
		cmocka_unit_test_teardown(stuckio_c, stuckio_go),
	};
	int rc = cmocka_run_group_tests_name("test_abuse", tests, group_setup, group_teardown);
	return rc;
}
