/* SPDX-License-Identifier: Apache-2.0 */
/* test_abuse cases on runtime and IO faults (abuse.h): a failing create, a hanging start, an
 * init killed right after Create, background children holding stdio, FIFOs nobody reads. */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/integration/abuse.h"

/* ======================================================================================
 * Faults
 * ====================================================================================== */

void case_failcreate(struct tc *t)
{
	struct fx f = { 0 };
	char *msg = NULL;
	if (fx_launch(t, &f, "fcr", ARGV_SLEEP) < 0)
		goto out;
	uint32_t pid = 0;
	long t0 = it_now_ms();
	int code = rpc_create(f.c, &f.si, wrapper("fail-create.sh"), NULL, NULL, &pid, &msg, 15000);
	long dt = it_now_ms() - t0;
	CHECK(t, code == GRPC_UNKNOWN && msg && strstr(msg, "cshim-it: injected create failure"),
	      "failing create: want UNKNOWN with the log.json message, got %d \"%s\"", code,
	      msg ? msg : "");
	obs(t, "failed Create: code %d \"%s\" (%ld ms)", code, msg ? msg : "", dt);
	free(msg);
	msg = NULL;
	int st = -1;
	code = it_state(f.c, f.si.id, &st, NULL, &msg, 5000);
	CHECK(t, code == GRPC_NOT_FOUND, "State after the failed create: %d \"%s\" status %d", code,
	      msg ? msg : "", st);
	obs(t, "State after the failed Create: %d \"%s\"", code, msg ? msg : "");
	free(msg);
	msg = NULL;
	code = it_state(f.c, "", NULL, NULL, NULL, 5000);
	code = rpc_delete(f.c, NULL, &msg, 5000);
	obs(t, "Delete after the failed Create: %d \"%s\"", code, msg ? msg : "");
	free(msg);
	msg = NULL;
	sleep_ms(300);
	int nev = pub_events_wait(&f.si, 1, 0);
	CHECK(t, nev == 0, "%d events published for a failed create", nev);
	/* A good create on the same shim. */
	code = rpc_create(f.c, &f.si, "runc", NULL, NULL, &pid, &msg, 20000);
	CHECK(t, code == 0 && pid > 0, "good Create after the failed one: %d \"%s\"", code,
	      msg ? msg : "");
	free(msg);
	msg = NULL;
	f.init_pid = pid;
	code = it_state(f.c, f.si.id, &st, NULL, NULL, 5000);
	CHECK(t, code == 0 && st == ST_CREATED, "State after the good create: %d status %d", code,
	      st);
	code = it_start(f.c, f.si.id, NULL, &msg, 20000);
	CHECK(t, code == 0, "Start after the good create: %d \"%s\"", code, msg ? msg : "");
	free(msg);
	msg = NULL;
	fx_stop_init(&f);
	shim_ok(t, &f, "after the failed and the good create");
out:
	free(msg);
	fx_free(&f);
}

/* True when the reply of stream has arrived (then *code and *msg are set); never waits. */
static bool start_reply(struct shimclient *c, uint32_t stream, int *code, char **msg)
{
	struct ttrpc_hdr rh;
	uint8_t *body = NULL;
	struct shimclient_reply rep;

	if (shimclient_recv_frame(c, stream, 0, &rh, &body) != 0)
		return false;
	if (shimclient_decode_reply(&rh, body, &rep) == 0) {
		*code = rep.code;
		*msg = rep.msg;
		rep.msg = NULL;
		shimclient_reply_free(&rep);
	}
	free(body);
	return true;
}

void case_hangstart(struct tc *t)
{
	struct fx f = { 0 };
	struct shimclient *c2 = NULL;
	char *msg = NULL;
	if (fx_launch(t, &f, "hst", ARGV_SLEEP) < 0)
		goto out;
	int code = rpc_create(f.c, &f.si, wrapper("hang-start.sh"), NULL, NULL, &f.init_pid, &msg,
			      20000);
	if (!CHECK(t, code == 0, "Create through hang-start.sh: %d \"%s\"", code, msg ? msg : ""))
		goto out;
	free(msg);
	msg = NULL;
	c2 = shimclient_connect(f.si.sock, 3000);
	if (!CHECK(t, c2 != NULL, "harness: second connection"))
		goto out;
	StartReq sr = CONTAINERD__RUNTIME__LINUX__SHIM__V1__START_REQUEST__INIT;
	sr.id = f.si.id;
	uint32_t stream = shimclient_next_stream(f.c);
	size_t fl;
	uint8_t *fr = mk_req(stream, "Start", &sr.base, 4000000000LL, &fl);
	long t0 = it_now_ms();
	int rc = shimclient_send_raw(f.c, fr, fl);
	free(fr);
	CHECK(t, rc == 0, "harness: sending Start: %d", rc);
	/* While the runtime hangs, the Start stays pending until its deadline (4 s): State and
	 * ShimInfo on another connection must be answered before it is, an ordering checked on
	 * each answer (the Start's reply not there yet), not a time bound. The loop's bound is a
	 * hang guard well under the hung runtime's own 60 s: an answer within it means the
	 * deadline ended the runtime. */
	long t_done = -1;
	int state_fail = 0, info_fail = 0, state_pending = 0, info_pending = 0, rcode = -1,
	    polls = 0;
	char *rmsg = NULL;
	while (rc == 0 && it_now_ms() - t0 < 30000) {
		if (start_reply(f.c, stream, &rcode, &rmsg)) {
			t_done = it_now_ms() - t0;
			break;
		}
		int st = -1;
		if (it_state(c2, f.si.id, &st, NULL, NULL, 20000) != 0)
			state_fail++;
		else if (start_reply(f.c, stream, &rcode, &rmsg))
			t_done = it_now_ms() - t0;
		else
			state_pending++;
		if (t_done >= 0)
			break;
		if (it_shiminfo(c2, NULL, 20000) != 0)
			info_fail++;
		else if (start_reply(f.c, stream, &rcode, &rmsg))
			t_done = it_now_ms() - t0;
		else
			info_pending++;
		if (t_done >= 0)
			break;
		polls++;
		sleep_ms(100);
	}
	CHECK(t, t_done >= 0, "Start with timeout_nano 4 s: not answered in 30 s");
	CHECK(t, t_done < 0 || rcode != 0, "Start of a hung runtime succeeded");
	CHECK(t, state_pending >= 1 && state_fail == 0,
	      "State on another connection answered while the hung Start was pending: %d times "
	      "(%d polls), %d failed",
	      state_pending, polls, state_fail);
	CHECK(t, info_pending >= 1 && info_fail == 0,
	      "ShimInfo on another connection answered while the hung Start was pending: %d times "
	      "(%d polls), %d failed",
	      info_pending, polls, info_fail);
	if (t_done >= 0)
		obs(t,
		    "Start (timeout_nano 4 s): code %d \"%s\" after %ld ms; before it, State "
		    "answered %d times, ShimInfo %d times",
		    rcode, rmsg ? rmsg : "", t_done, state_pending, info_pending);
	else
		obs(t,
		    "Start (timeout_nano 4 s): no answer within 30 s; meanwhile State answered %d "
		    "times, ShimInfo %d times",
		    state_pending, info_pending);
	free(rmsg);
	/* The hung runtime (exec'd `sleep 60`, a child of the shim) must be gone. */
	sleep_ms(500);
	pid_t kids[8];
	int nk = proc_children(f.si.pid, "sleep", kids, 8);
	CHECK(t, nk == 0, "the hung runtime is still running (%d 'sleep' children of the shim)",
	      nk);
	int st = -1;
	code = it_state(f.c, f.si.id, &st, NULL, NULL, 5000);
	obs(t, "after the failed Start: State %d status %d; hung runtime processes left: %d", code,
	    st, nk);
	shim_ok(t, &f, "after the hung start");
	if (c2)
		shimclient_close(c2);
	c2 = NULL;
	fx_free(&f);

	/* Part 2: a Start without deadline whose client vanishes mid-request
	 * (docs/v1-protocol.md §2.7: the in-flight requests of a closed connection are cancelled,
	 * runc children killed). */
	if (fx_launch(t, &f, "hsd", ARGV_SLEEP) < 0)
		goto out;
	code = rpc_create(f.c, &f.si, wrapper("hang-start.sh"), NULL, NULL, &f.init_pid, &msg,
			  20000);
	if (!CHECK(t, code == 0, "Create through hang-start.sh: %d \"%s\"", code, msg ? msg : ""))
		goto out;
	{
		int fd = raw_connect(f.si.sock);
		size_t fl2;
		sr.id = f.si.id;
		uint8_t *fr2 = mk_req(1, "Start", &sr.base, 0, &fl2);
		if (fd >= 0)
			(void)raw_send_all(fd, fr2, fl2, 2000);
		free(fr2);
		long dl = it_now_ms() + 3000;
		while (proc_children(f.si.pid, "sleep", kids, 8) == 0 && it_now_ms() < dl)
			sleep_ms(20);
		int hung = proc_children(f.si.pid, "sleep", kids, 8);
		if (fd >= 0)
			close(fd);
		long a = it_now_ms();
		while ((nk = proc_children(f.si.pid, "sleep", kids, 8)) > 0 &&
		       it_now_ms() - a < 3000)
			sleep_ms(20);
		long t_gone = it_now_ms() - a;
		CHECK(t, hung == 1 && nk == 0,
		      "Start whose client vanished: hung runtime %s 3 s after the disconnect",
		      hung != 1 ? "never seen"
		      : nk      ? "still running"
				: "gone");
		obs(t,
		    "Start whose client vanished mid-request: hung runtime %s (%ld ms after the "
		    "disconnect)",
		    hung != 1 ? "never seen"
		    : nk      ? "still running"
			      : "killed",
		    t_gone);
		shim_ok(t, &f, "after the abandoned Start");
	}
out:
	free(msg);
	if (c2)
		shimclient_close(c2);
	fx_free(&f);
}

void case_killcreated(struct tc *t)
{
	struct fx f = { 0 };
	char *msg = NULL;
	if (fx_launch(t, &f, "kcr", ARGV_SLEEP) < 0)
		goto out;
	int code = rpc_create(f.c, &f.si, "runc", NULL, NULL, &f.init_pid, &msg, 20000);
	if (!CHECK(t, code == 0 && f.init_pid > 0, "Create: %d \"%s\"", code, msg ? msg : ""))
		goto out;
	kill((pid_t)f.init_pid, SIGKILL);
	long t0 = it_now_ms();
	int st = -1;
	uint32_t es = 0;
	while (it_now_ms() - t0 < 5000) {
		code = it_state(f.c, f.si.id, &st, &es, NULL, 3000);
		if (code != 0 || st == ST_STOPPED)
			break;
		sleep_ms(20);
	}
	long t_state = it_now_ms() - t0;
	CHECK(t, code == 0 && st == ST_STOPPED && es == 137,
	      "State after SIGKILL of the created init: code %d status %d exit %u after %ld ms",
	      code, st, es, t_state);
	uint32_t ws = 0;
	long a = it_now_ms();
	int wc = it_wait(f.c, f.si.id, &ws, NULL, 5000);
	long t_wait = it_now_ms() - a;
	CHECK(t, wc == 0 && ws == 137, "Wait: code %d status %u", wc, ws);
	int nev = pub_events_wait(&f.si, 1, 3000);
	sleep_ms(200);
	nev = pub_events_wait(&f.si, 1, 0);
	CHECK(t, nev == 1, "%d TaskExit publications", nev);
	uint32_t des = 0;
	free(msg);
	msg = NULL;
	int dc = rpc_delete(f.c, &des, &msg, 10000);
	CHECK(t, dc == 0 && des == 137, "Delete: %d exit %u \"%s\"", dc, des, msg ? msg : "");
	obs(t, "STOPPED after %ld ms, Wait %u in %ld ms, %d TaskExit, Delete %d exit %u", t_state,
	    ws, t_wait, nev, dc, des);
	shim_ok(t, &f, "after the killed created init");
out:
	free(msg);
	fx_free(&f);
}

/* `sh -c 'sleep 300 & echo hi; exit 0'` variants. */
enum bgmode { BG_INIT, BG_INIT_HOSTPID, BG_EXEC };

static void bg_one(struct tc *t, enum bgmode mode)
{
	static const char *const NAMES[] = { "init", "init, host pid ns", "exec" };
	const char *sharg = "sleep 300 & echo bg=$!; echo hi; exit 0";
	const char *const argv_bg[] = { "/bin/sh", "-c", sharg, NULL };
	struct fx f = { 0 };
	char out[PATH_MAX], err[PATH_MAX];
	int ofd = -1, efd = -1;
	char *msg = NULL, *text = NULL;
	const char *name = NAMES[mode];

	if (fx_launch(t, &f, "bgc", mode == BG_EXEC ? ARGV_SLEEP : argv_bg) < 0)
		goto out;
	if (mode == BG_INIT_HOSTPID) {
		char cfg[PATH_MAX + 16];
		it_snprintf(cfg, sizeof(cfg), "%s/config.json", f.si.bundle);
		if (!CHECK(t, edit_json(cfg, drop_pid_ns) == 0, "harness: config edit"))
			goto out;
	}
	if (!CHECK(t,
		   mk_fifo(&f, "bgout", true, out, sizeof(out), &ofd) == 0 &&
			   mk_fifo(&f, "bgerr", true, err, sizeof(err), &efd) == 0,
		   "harness: fifo"))
		goto out;
	const char *wid = mode == BG_EXEC ? "bgx" : f.si.id;
	int code;
	long t0;
	if (mode == BG_EXEC) {
		if (fx_run_container(t, &f) < 0)
			goto out;
		code = rpc_exec(f.c, wid, argv_bg, out, err, &msg, 10000);
		if (!CHECK(t, code == 0, "%s: Exec: %d \"%s\"", name, code, msg ? msg : ""))
			goto out;
	} else {
		code = rpc_create(f.c, &f.si, "runc", out, err, &f.init_pid, &msg, 20000);
		if (!CHECK(t, code == 0, "%s: Create: %d \"%s\"", name, code, msg ? msg : ""))
			goto out;
	}
	free(msg);
	msg = NULL;
	t0 = it_now_ms();
	code = it_start(f.c, wid, NULL, &msg, 20000);
	if (!CHECK(t, code == 0, "%s: Start: %d \"%s\"", name, code, msg ? msg : ""))
		goto out;
	uint32_t es = 99;
	int wc = it_wait(f.c, wid, &es, NULL, 10000);
	long t_wait = it_now_ms() - t0;
	text = fifo_read_until(ofd, "hi\n", 2000);
	char *bgp = text ? strstr(text, "bg=") : NULL;
	pid_t bg = bgp ? (pid_t)atoi(bgp + 3) : 0;
	bool bg_alive = false;
	if (mode == BG_INIT_HOSTPID && bg > 0) {
		/* Host pid namespace: $! is a host pid; verify it is our sleep, then own it. */
		char p[64], comm[64] = "";
		it_snprintf(p, sizeof(p), "/proc/%d/comm", (int)bg);
		FILE *cf = fopen(p, "re");
		if (cf) {
			if (fgets(comm, sizeof(comm), cf))
				comm[strcspn(comm, "\n")] = '\0';
			fclose(cf);
		}
		if (strcmp(comm, "sleep") == 0) {
			bg_alive = true;
			f.bg[f.nbg++] = bg;
			reg_extra(bg, true);
		}
	}
	CHECK(t, wc == 0 && es == 0 && t_wait < 3000,
	      "%s: Wait with a background child holding stdout: code %d status %u after %ld ms",
	      name, wc, es, t_wait);
	CHECK(t, text && strstr(text, "hi\n"), "%s: output \"%s\"", name, text ? text : "");
	int nev = pub_events_wait(&f.si, 1, 3000);
	long t_ev = it_now_ms() - t0;
	CHECK(t, nev >= 1 && t_ev < 3500, "%s: TaskExit %d after %ld ms", name, nev, t_ev);
	long a = it_now_ms();
	int dc;
	if (mode == BG_EXEC)
		dc = it_delete_process(f.c, wid, NULL, 30000);
	else
		dc = rpc_delete(f.c, NULL, NULL, 30000);
	long t_del = it_now_ms() - a;
	CHECK(t, dc == 0 && t_del < 15000, "%s: Delete%s: code %d after %ld ms", name,
	      mode == BG_EXEC ? "Process" : "", dc, t_del);
	obs(t,
	    "%s: Wait %u after %ld ms, TaskExit after %ld ms, Delete%s %d after %ld ms; background "
	    "sleep %s",
	    name, es, t_wait, t_ev, mode == BG_EXEC ? "Process" : "", dc, t_del,
	    mode == BG_INIT_HOSTPID
		    ? (bg_alive ? "alive, holding stdout"
		       : bg > 0
			       ? "(host pid from $!) already killed: the shim runs kill --all when "
				 "an init sharing the pid namespace exits"
			       : "pid not seen")
		    : "lives on in the container, holding stdout");
	shim_ok(t, &f, "after the background-child case");
	if (mode == BG_EXEC)
		fx_stop_init(&f);
out:
	free(msg);
	free(text);
	if (ofd >= 0)
		close(ofd);
	if (efd >= 0)
		close(efd);
	fx_free(&f);
}

void case_bgchild(struct tc *t)
{
	bg_one(t, BG_INIT);
	bg_one(t, BG_INIT_HOSTPID);
	bg_one(t, BG_EXEC);
}

/* 1 MiB written to a stdout FIFO nobody reads. never_opened: the test never opens it (the Go
 * shim then blocks in Create: bounded by timeout_nano 4 s); else opened before Create and
 * closed right after Start. */
static void noreader_one(struct tc *t, bool never_opened)
{
	const char *const argv_w[] = { "/bin/sh", "-c", "head -c 1048576 /dev/zero; sleep 1000",
				       NULL };
	const char *name = never_opened ? "never opened" : "reader gone";
	struct fx f = { 0 };
	struct shimclient *c2 = NULL;
	char out[PATH_MAX], err[PATH_MAX], *msg = NULL;
	int ofd = -1, efd = -1, code;

	if (fx_launch(t, &f, "nio", argv_w) < 0)
		goto out;
	/* stderr: a FIFO whose reader stays open (the Go shim fails a Create that names stdout
	 * but leaves stderr empty: it opens "" as a file). */
	if (!CHECK(t,
		   mk_fifo(&f, "wout", !never_opened, out, sizeof(out), &ofd) == 0 &&
			   mk_fifo(&f, "werr", true, err, sizeof(err), &efd) == 0,
		   "harness: fifo"))
		goto out;
	CreateReq cr = CONTAINERD__RUNTIME__LINUX__SHIM__V1__CREATE_TASK_REQUEST__INIT;
	cr.id = f.si.id;
	cr.bundle = f.si.bundle;
	cr.runtime = "runc";
	cr.stdout = out;
	cr.stderr = err;
	uint32_t stream = shimclient_next_stream(f.c);
	size_t fl;
	uint8_t *fr = mk_req(stream, "Create", &cr.base, 4000000000LL, &fl);
	long t0 = it_now_ms();
	int rc = shimclient_send_raw(f.c, fr, fl);
	free(fr);
	struct ttrpc_hdr rh;
	uint8_t *body = NULL;
	if (rc == 0)
		rc = shimclient_recv_frame(f.c, stream, 20000, &rh, &body);
	code = -1;
	if (rc == 0) {
		struct shimclient_reply rep;
		if (shimclient_decode_reply(&rh, body, &rep) == 0) {
			code = rep.code;
			msg = rep.msg;
			rep.msg = NULL;
			if (code == 0) {
				CreateResp *cresp =
					containerd__runtime__linux__shim__v1__create_task_response__unpack(
						NULL, rep.plen, rep.payload);
				f.init_pid = cresp ? cresp->pid : 0;
				IT_FREE(cresp);
			}
			shimclient_reply_free(&rep);
		}
	}
	free(body);
	long t_create = it_now_ms() - t0;
	if (never_opened && !t->is_c) {
		/* Not meaningful for the Go shim (it needs a reader to open its FIFO end). */
		obs(t,
		    "%s: Create with timeout_nano 4 s: rc %d code %d \"%s\" after %ld ms "
		    "(not a difference: containerd always opens its end first)",
		    name, rc, code, msg ? msg : "", t_create);
		shim_ok(t, &f, "after the timed-out Create");
		goto out;
	}
	if (!CHECK(t, rc == 0 && code == 0, "%s: Create: rc %d code %d \"%s\" after %ld ms", name,
		   rc, code, msg ? msg : "", t_create))
		goto out;
	free(msg);
	msg = NULL;
	code = it_start(f.c, f.si.id, NULL, &msg, 20000);
	if (!CHECK(t, code == 0, "%s: Start: %d \"%s\"", name, code, msg ? msg : ""))
		goto out;
	if (ofd >= 0) {
		close(ofd);
		ofd = -1;
	}
	sleep_ms(1500);
	c2 = shimclient_connect(f.si.sock, 3000);
	/* Answered while the container's writer is still blocked on its unread stdout (checked
	 * after the calls): an ordering; the call timeouts are hang guards. */
	long worst = 0;
	int fails = 0, st = -1, np = -1;
	for (int i = 0; i < 5 && c2 && fails == 0; i++) {
		long a = it_now_ms();
		if (it_shiminfo(c2, NULL, 20000) != 0)
			fails++;
		if (it_state(c2, f.si.id, &st, NULL, NULL, 20000) != 0)
			fails++;
		if (rpc_listpids(c2, f.si.id, &np, 20000) != 0)
			fails++;
		long d = it_now_ms() - a;
		if (d > worst)
			worst = d;
	}
	bool alive = shim_alive(&f.si);
	pid_t heads[4];
	int nhead = proc_children((pid_t)f.init_pid, "head", heads, 4);
	CHECK(t, alive && c2 && fails == 0 && nhead > 0,
	      "%s: shim alive %d, %d failed RPCs, the writer %s blocked after them", name, alive,
	      fails, nhead > 0 ? "still" : "no longer");
	CHECK(t, st == ST_RUNNING, "%s: State %d", name, st);
	long a = it_now_ms();
	int kc = it_kill(f.c, f.si.id, SIGKILL, false, NULL, 5000);
	uint32_t es = 0;
	int wc = it_wait(f.c, f.si.id, &es, NULL, 10000);
	long t_wait = it_now_ms() - a;
	CHECK(t, kc == 0 && wc == 0 && es == 137 && t_wait < 5000,
	      "%s: Kill/Wait of the blocked writer: %d %d status %u after %ld ms", name, kc, wc, es,
	      t_wait);
	a = it_now_ms();
	int dc = rpc_delete(f.c, NULL, NULL, 30000);
	long t_del = it_now_ms() - a;
	CHECK(t, dc == 0 && t_del < 15000, "%s: Delete: %d after %ld ms", name, dc, t_del);
	obs(t,
	    "%s: after 1.5 s: alive %d, RPC round worst %ld ms, State %d, ListPids %d procs, "
	    "writer `head` %s; Kill+Wait %ld ms; Delete %d in %ld ms",
	    name, alive, worst, st, np, nhead > 0 ? "still blocked" : "done", t_wait, dc, t_del);
	shim_ok(t, &f, "after the unread stdout");
out:
	free(msg);
	if (c2)
		shimclient_close(c2);
	if (ofd >= 0)
		close(ofd);
	if (efd >= 0)
		close(efd);
	fx_free(&f);
}

void case_noreaderio(struct tc *t)
{
	noreader_one(t, true);
	noreader_one(t, false);
}

/* Several processes whose stdout nobody reads exit together: every exit must still be reported
 * promptly, in particular the exits of processes without any IO (the exit path must not be
 * serialized behind bounded-but-slow IO drains). */
#define STUCK_N 3
void case_stuckio(struct tc *t)
{
	const char *const argv_w[] = { "/bin/sh", "-c", "head -c 1048576 /dev/zero; sleep 1000",
				       NULL };
	const char *const argv_q[] = { "/bin/sleep", "1000", NULL };
	struct fx f = { 0 };
	struct shimclient *c2 = NULL;
	int ofd[STUCK_N], efd[STUCK_N];
	char ids[STUCK_N + 2][16];
	uint32_t streams[STUCK_N + 2];
	long seen[STUCK_N + 2];
	uint32_t status[STUCK_N + 2];
	char *msg = NULL;

	for (int i = 0; i < STUCK_N; i++)
		ofd[i] = efd[i] = -1;
	if (fx_launch(t, &f, "stk", ARGV_SLEEP) < 0 || fx_run_container(t, &f) < 0)
		goto out;
	for (int i = 0; i < STUCK_N; i++) {
		char on[16], en[16], op[PATH_MAX], ep[PATH_MAX];
		it_snprintf(ids[i], sizeof(ids[i]), "w%d", i);
		it_snprintf(on, sizeof(on), "w%do", i);
		it_snprintf(en, sizeof(en), "w%de", i);
		if (!CHECK(t,
			   mk_fifo(&f, on, true, op, sizeof(op), &ofd[i]) == 0 &&
				   mk_fifo(&f, en, true, ep, sizeof(ep), &efd[i]) == 0,
			   "harness: fifo"))
			goto out;
		int code = rpc_exec(f.c, ids[i], argv_w, op, ep, &msg, 10000);
		if (code == 0)
			code = it_start(f.c, ids[i], NULL, NULL, 20000);
		if (!CHECK(t, code == 0, "exec %s: %d \"%s\"", ids[i], code, msg ? msg : ""))
			goto out;
		free(msg);
		msg = NULL;
		close(ofd[i]); /* the reader goes away; the writer fills the FIFO and blocks */
		ofd[i] = -1;
	}
	it_snprintf(ids[STUCK_N], sizeof(ids[0]), "q");
	int code = rpc_exec(f.c, "q", argv_q, NULL, NULL, &msg, 10000);
	if (code == 0)
		code = it_start(f.c, "q", NULL, NULL, 20000);
	if (!CHECK(t, code == 0, "exec q (no IO): %d \"%s\"", code, msg ? msg : ""))
		goto out;
	it_snprintf(ids[STUCK_N + 1], sizeof(ids[0]), "%s", f.si.id);
	sleep_ms(1000);
	/* A Wait in flight for everything, then one SIGKILL of the init ends them all. */
	for (int i = 0; i < STUCK_N + 2; i++) {
		WaitReq wr = CONTAINERD__RUNTIME__LINUX__SHIM__V1__WAIT_REQUEST__INIT;
		size_t fl;
		wr.id = ids[i];
		streams[i] = shimclient_next_stream(f.c);
		uint8_t *fr = mk_req(streams[i], "Wait", &wr.base, 0, &fl);
		(void)shimclient_send_raw(f.c, fr, fl);
		free(fr);
		seen[i] = -1;
		status[i] = 0;
	}
	c2 = shimclient_connect(f.si.sock, 3000);
	if (!CHECK(t, c2 != NULL, "harness: second connection"))
		goto out;
	long t0 = it_now_ms();
	code = it_kill(c2, f.si.id, SIGKILL, false, NULL, 5000);
	CHECK(t, code == 0, "Kill init: %d", code);
	int left = STUCK_N + 2;
	long worst_state = 0;
	while (left > 0 && it_now_ms() - t0 < 10000) {
		for (int i = 0; i < STUCK_N + 2; i++) {
			struct ttrpc_hdr rh;
			uint8_t *body = NULL;
			if (seen[i] >= 0 ||
			    shimclient_recv_frame(f.c, streams[i], 0, &rh, &body) < 0)
				continue;
			seen[i] = it_now_ms() - t0;
			struct shimclient_reply rep;
			if (shimclient_decode_reply(&rh, body, &rep) == 0) {
				WaitResp *wr = NULL;
				if (rep.code == 0)
					wr = containerd__runtime__linux__shim__v1__wait_response__unpack(
						NULL, rep.plen, rep.payload);
				status[i] = wr ? wr->exit_status : 0;
				IT_FREE(wr);
				shimclient_reply_free(&rep);
			}
			free(body);
			left--;
		}
		long a = it_now_ms();
		(void)it_state(c2, "q", NULL, NULL, NULL, 3000);
		if (it_now_ms() - a > worst_state)
			worst_state = it_now_ms() - a;
		sleep_ms(10);
	}
	char desc[256] = "";
	size_t dl = 0;
	for (int i = 0; i < STUCK_N + 2; i++)
		dl += (size_t)snprintf(desc + dl, sizeof(desc) - dl, "%s%s=%ldms/%u", i ? " " : "",
				       i == STUCK_N + 1 ? "init" : ids[i], seen[i], status[i]);
	obs(t,
	    "%d execs with unread stdout + exec q (no IO) + init killed at once: Wait answered "
	    "after %s; State during: worst %ld ms",
	    STUCK_N, desc, worst_state);
	/* Orderings, not bounds: q's exit has no output to wait for, so it is not held behind
	 * the stuck drains; the init's comes after every exec's. */
	CHECK(t, seen[STUCK_N] >= 0, "exit of exec q (no IO) never reported");
	CHECK(t, seen[STUCK_N + 1] >= 0, "exit of the init never reported");
	for (int i = 0; i < STUCK_N; i++) {
		CHECK(t, seen[i] >= 0, "exit of %s never reported", ids[i]);
		CHECK(t, seen[STUCK_N] >= 0 && seen[i] >= 0 && seen[STUCK_N] < seen[i],
		      "exit of exec q (no IO) reported after %ld ms, not before %s's (%ld ms): held "
		      "behind its stuck drain",
		      seen[STUCK_N], ids[i], seen[i]);
		CHECK(t, seen[STUCK_N + 1] >= seen[i],
		      "exit of the init reported (%ld ms) before %s's (%ld ms)", seen[STUCK_N + 1],
		      ids[i], seen[i]);
	}
	shim_ok(t, &f, "after the stuck-IO exits");
out:
	free(msg);
	for (int i = 0; i < STUCK_N; i++) {
		if (ofd[i] >= 0)
			close(ofd[i]);
		if (efd[i] >= 0)
			close(efd[i]);
	}
	if (c2)
		shimclient_close(c2);
	fx_free(&f);
}
