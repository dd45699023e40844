/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Exit events over containerd's ttrpc events service (docs/events.md): the shim is given
 * -address DIR/containerd.sock and a fake Events/Forward server (forward_server.c) listens
 * on DIR/containerd.sock.ttrpc, as containerd's does next to its gRPC socket. Exits arrive
 * there in order (exec exits before the init's), on one connection, with no `containerd
 * publish` child; a Wait is answered only once its Forward was acknowledged; without the
 * server, or when it answers an error, the fallback publisher gets each event exactly once.
 * cshim only: the Go v1 shim has no ttrpc publisher.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "forward_server.h"
#include "itutil.h"

#define EVENT_TIMEOUT_MS 10000
#define GRACE_US 300000 /* a wrongly published event gets this long to show up */

static void launch(struct it_fx *f, const char *tag, const char *const argv[])
{
	int rc;

	memset(f, 0, sizeof(*f));
	f->is_c = true;
	f->label = "cshim";
	rc = shim_prepare(&f->si, it_c_shim(), tag, argv);
	f->prepared = true;
	assert_int_equal(rc, 0);
	it_snprintf(f->si.address, sizeof(f->si.address), "%s/containerd.sock", f->si.dir);
	it_watch(f);
	assert_int_equal(shim_start(&f->si, true), 0);
	f->c = shimclient_connect(f->si.sock, 5000);
	assert_non_null(f->c);
}

static void ttrpc_path(const struct it_fx *f, char *out, size_t n)
{
	it_snprintf(out, n, "%s.ttrpc", f->si.address);
}

static void exec_start(struct it_fx *f, const char *id, const char *const argv[])
{
	char *json = it_process_json(argv), *msg = NULL;
	assert_int_equal(it_exec(f->c, id, json, NULL, NULL, NULL, &msg, 10000), 0);
	free(msg);
	free(json);
	assert_int_equal(it_start(f->c, id, NULL, &msg, 15000), 0);
	free(msg);
}

/* Init `sleep 100`; exec e1 exits 3; exec e2 `sleep 100`; SIGKILL to the init (its pid
 * namespace goes, e2 with it). Exits, in order: e1 (3), e2 (137), the init (137). */
static void scenario(struct it_fx *f)
{
	const char *exit3[] = { "/bin/sh", "-c", "exit 3", NULL };
	const char *sleep100[] = { "/bin/sleep", "100", NULL };
	uint32_t status = 0;
	char *msg = NULL;

	assert_int_equal(it_create(f, &msg), 0);
	free(msg);
	assert_int_equal(it_start(f->c, f->si.id, NULL, &msg, 15000), 0);
	free(msg);
	exec_start(f, "e1", exit3);
	assert_int_equal(it_wait(f->c, "e1", &status, NULL, EVENT_TIMEOUT_MS), 0);
	assert_int_equal(status, 3);
	exec_start(f, "e2", sleep100);
	assert_int_equal(it_kill(f->c, f->si.id, 9, false, NULL, 5000), 0);
	assert_int_equal(it_wait(f->c, f->si.id, &status, NULL, EVENT_TIMEOUT_MS), 0);
	assert_int_equal(status, 137);
	assert_int_equal(it_wait(f->c, "e2", &status, NULL, EVENT_TIMEOUT_MS), 0);
	assert_int_equal(status, 137);
}

static void check_forward(const struct fwd_req *r, const struct it_fx *f, const char *id,
			  uint32_t status)
{
	assert_string_equal(r->service, "containerd.services.events.ttrpc.v1.Events");
	assert_string_equal(r->method, "Forward");
	assert_true(r->decoded);
	assert_string_equal(r->md_ns, IT_NAMESPACE);
	assert_string_equal(r->ns, IT_NAMESPACE);
	assert_string_equal(r->topic, "/tasks/exit");
	assert_true(r->secs > 0); /* containerd refuses a zero timestamp */
	assert_true(r->timeout_nano > 0);
	assert_string_equal(r->type_url, "containerd.events.TaskExit");
	assert_string_equal(r->container_id, f->si.id);
	assert_string_equal(r->id, id);
	assert_int_equal(r->exit_status, status);
	assert_true(r->pid > 0);
	assert_true(r->exited_secs > 0);
}

static int published(const struct shim_inst *si, struct it_exit_ev **ev)
{
	int n = it_exit_events(si, ev);
	assert_true(n >= 0);
	for (int i = 0; i < n; i++)
		assert_true((*ev)[i].ok);
	return n;
}

/* Polls the shim's log (its workdir FIFO, drained to a file) for needle. */
static bool log_says(const struct shim_inst *si, const char *needle)
{
	for (long end = it_now_ms() + EVENT_TIMEOUT_MS; it_now_ms() < end; usleep(10000)) {
		char *t = it_read_file(si->fifolog, NULL);
		bool found = t && strstr(t, needle);
		free(t);
		if (found)
			return true;
	}
	return false;
}

/* Every exit through Forward, in order, on one connection; no publisher child. */
static void test_forward_in_order(void **state)
{
	const char *argv[] = { "/bin/sleep", "100", NULL };
	struct fwd_req r[8];
	struct it_exit_ev *ev = NULL;
	char path[PATH_MAX];
	struct fwd_server *s;
	struct it_fx f;

	(void)state;
	launch(&f, "fwd-order", argv);
	ttrpc_path(&f, path, sizeof(path));
	s = fwd_start(path, FWD_OK);
	assert_non_null(s);
	scenario(&f);
	assert_int_equal(fwd_wait(s, 3, EVENT_TIMEOUT_MS), 3);
	usleep(GRACE_US);
	assert_int_equal(fwd_requests(s, r, 8), 3);
	check_forward(&r[0], &f, "e1", 3);
	check_forward(&r[1], &f, "e2", 137);
	check_forward(&r[2], &f, f.si.id, 137);
	assert_int_equal(r[2].pid, (uint32_t)f.init_pid);
	/* one persistent connection, ttrpc's client stream ids */
	assert_int_equal(fwd_connections(s), 1);
	assert_int_equal(r[0].stream, 1);
	assert_int_equal(r[1].stream, 3);
	assert_int_equal(r[2].stream, 5);
	assert_int_equal(published(&f.si, &ev), 0);
	free(ev);
	it_fx_free(&f);
	fwd_stop(s);
}

struct bg_wait {
	const char *sock, *id;
	bool delete; /* DeleteProcess instead of Wait */
	int code;
	uint32_t status;
	atomic_bool done;
};

static void *bg_wait_main(void *arg)
{
	struct bg_wait *w = arg;
	struct shimclient *c = shimclient_connect(w->sock, 5000);
	if (!c)
		w->code = -EIO;
	else if (w->delete)
		w->code = it_delete_process(c, w->id, NULL, 30000);
	else
		w->code = it_wait(c, w->id, &w->status, NULL, 30000);
	shimclient_close(c);
	atomic_store(&w->done, true);
	return NULL;
}

/* A Wait is answered only once containerd acknowledged the exit's Forward. */
static void test_wait_after_ack(void **state)
{
	const char *argv[] = { "/bin/sleep", "100", NULL };
	const char *exit5[] = { "/bin/sh", "-c", "exit 5", NULL };
	struct bg_wait w = { .id = "e1" };
	struct it_exit_ev *ev = NULL;
	struct fwd_req r[4];
	char path[PATH_MAX], *msg = NULL;
	struct fwd_server *s;
	struct it_fx f;
	pthread_t t;
	int st = -1;
	uint32_t xs = 0;

	(void)state;
	launch(&f, "fwd-hold", argv);
	ttrpc_path(&f, path, sizeof(path));
	s = fwd_start(path, FWD_HOLD);
	assert_non_null(s);
	assert_int_equal(it_create(&f, &msg), 0);
	free(msg);
	assert_int_equal(it_start(f.c, f.si.id, NULL, &msg, 15000), 0);
	free(msg);
	w.sock = f.si.sock;
	atomic_init(&w.done, false);
	exec_start(&f, "e1", exit5);
	assert_int_equal(pthread_create(&t, NULL, bg_wait_main, &w), 0);
	/* The exit happened and its Forward is out, unanswered. */
	assert_int_equal(fwd_wait(s, 1, EVENT_TIMEOUT_MS), 1);
	assert_int_equal(it_state(f.c, "e1", &st, &xs, NULL, 5000), 0);
	assert_int_equal(st, CONTAINERD__V1__TYPES__STATUS__STOPPED);
	assert_int_equal(xs, 5);
	usleep(GRACE_US);
	assert_false(atomic_load(&w.done));
	/* Acknowledged: the Wait is answered. */
	fwd_release(s);
	pthread_join(t, NULL);
	assert_int_equal(w.code, 0);
	assert_int_equal(w.status, 5);
	assert_int_equal(fwd_requests(s, r, 4), 1);
	check_forward(&r[0], &f, "e1", 5);
	assert_int_equal(published(&f.si, &ev), 0);
	free(ev);
	(void)it_kill(f.c, f.si.id, 9, false, NULL, 5000);
	(void)it_wait(f.c, f.si.id, NULL, NULL, EVENT_TIMEOUT_MS);
	it_fx_free(&f);
	fwd_stop(s);
}

/* A Delete without a Wait (a client that saw the process stopped through State) waits for
 * the exit's Forward to be acknowledged: containerd kills the shim right after Delete. */
static void test_delete_after_ack(void **state)
{
	const char *argv[] = { "/bin/sleep", "100", NULL };
	const char *exit6[] = { "/bin/sh", "-c", "exit 6", NULL };
	struct bg_wait w = { .id = "e1", .delete = true };
	struct it_exit_ev *ev = NULL;
	struct fwd_req r[4];
	char path[PATH_MAX], *msg = NULL;
	struct fwd_server *s;
	struct it_fx f;
	pthread_t t;
	int st = -1;

	(void)state;
	launch(&f, "fwd-del", argv);
	ttrpc_path(&f, path, sizeof(path));
	s = fwd_start(path, FWD_HOLD);
	assert_non_null(s);
	assert_int_equal(it_create(&f, &msg), 0);
	free(msg);
	assert_int_equal(it_start(f.c, f.si.id, NULL, &msg, 15000), 0);
	free(msg);
	w.sock = f.si.sock;
	atomic_init(&w.done, false);
	exec_start(&f, "e1", exit6);
	assert_int_equal(fwd_wait(s, 1, EVENT_TIMEOUT_MS), 1);
	assert_int_equal(it_state(f.c, "e1", &st, NULL, NULL, 5000), 0);
	assert_int_equal(st, CONTAINERD__V1__TYPES__STATUS__STOPPED);
	assert_int_equal(pthread_create(&t, NULL, bg_wait_main, &w), 0);
	usleep(GRACE_US);
	assert_false(atomic_load(&w.done));
	fwd_release(s);
	pthread_join(t, NULL);
	assert_int_equal(w.code, 0);
	assert_int_equal(fwd_requests(s, r, 4), 1);
	check_forward(&r[0], &f, "e1", 6);
	assert_int_equal(published(&f.si, &ev), 0);
	free(ev);
	(void)it_kill(f.c, f.si.id, 9, false, NULL, 5000);
	(void)it_wait(f.c, f.si.id, NULL, NULL, EVENT_TIMEOUT_MS);
	it_fx_free(&f);
	fwd_stop(s);
}

/* Checks the fallback's records: e1 (3), e2 (137), the init (137), each once. */
static void check_published_scenario(struct it_fx *f)
{
	struct it_exit_ev *ev = NULL;
	int n;

	assert_true(pub_events_wait(&f->si, 3, EVENT_TIMEOUT_MS) >= 3);
	usleep(GRACE_US);
	n = published(&f->si, &ev);
	assert_int_equal(n, 3);
	assert_string_equal(ev[0].id, "e1");
	assert_int_equal(ev[0].exit_status, 3);
	assert_string_equal(ev[1].id, "e2");
	assert_int_equal(ev[1].exit_status, 137);
	assert_string_equal(ev[2].id, f->si.id);
	assert_int_equal(ev[2].exit_status, 137);
	free(ev);
}

/* Forward answers an error: each event goes to `containerd publish`, exactly once, in order;
 * no event was tried twice over ttrpc. */
static void test_error_falls_back(void **state)
{
	const char *argv[] = { "/bin/sleep", "100", NULL };
	struct fwd_req r[8];
	char path[PATH_MAX];
	struct fwd_server *s;
	struct it_fx f;
	int n;

	(void)state;
	launch(&f, "fwd-err", argv);
	ttrpc_path(&f, path, sizeof(path));
	s = fwd_start(path, FWD_ERROR);
	assert_non_null(s);
	scenario(&f);
	check_published_scenario(&f);
	n = fwd_requests(s, r, 8);
	/* The first was tried (and refused); the ones behind it may have gone straight to
	 * the fallback while its publisher ran. */
	assert_true(n >= 1 && n <= 3);
	check_forward(&r[0], &f, "e1", 3);
	for (int i = 1; i < n; i++)
		assert_string_not_equal(r[i].id, r[i - 1].id);
	it_fx_free(&f);
	fwd_stop(s);
}

/* Nothing listens on the ttrpc address: the fallback, exactly once each, in order. */
static void test_absent_falls_back(void **state)
{
	const char *argv[] = { "/bin/sleep", "100", NULL };
	struct it_fx f;

	(void)state;
	launch(&f, "fwd-none", argv);
	scenario(&f);
	check_published_scenario(&f);
	it_fx_free(&f);
}

/* The fallback used, then ttrpc again once its publications are done; after the server
 * restarted, on a new connection. */
static void test_back_to_ttrpc(void **state)
{
	const char *argv[] = { "/bin/sleep", "100", NULL };
	const char *exit1[] = { "/bin/sh", "-c", "exit 1", NULL };
	const char *exit2[] = { "/bin/sh", "-c", "exit 2", NULL };
	const char *exit4[] = { "/bin/sh", "-c", "exit 4", NULL };
	struct it_exit_ev *ev = NULL;
	struct fwd_req r[8];
	char path[PATH_MAX], *msg = NULL;
	struct fwd_server *s;
	struct it_fx f;
	uint32_t status = 0;
	int n;

	(void)state;
	launch(&f, "fwd-back", argv);
	ttrpc_path(&f, path, sizeof(path));
	s = fwd_start(path, FWD_ERROR);
	assert_non_null(s);
	assert_int_equal(it_create(&f, &msg), 0);
	free(msg);
	assert_int_equal(it_start(f.c, f.si.id, NULL, &msg, 15000), 0);
	free(msg);
	exec_start(&f, "e1", exit1);
	assert_int_equal(it_wait(f.c, "e1", &status, NULL, EVENT_TIMEOUT_MS), 0);
	assert_int_equal(pub_events_wait(&f.si, 1, EVENT_TIMEOUT_MS), 1);
	/* The publisher child reaped (the shim's debug log says so): the fallback is idle. */
	assert_true(log_says(&f.si, "published /tasks/exit (e1 "));
	fwd_set_mode(s, FWD_OK);
	exec_start(&f, "e2", exit2);
	assert_int_equal(it_wait(f.c, "e2", &status, NULL, EVENT_TIMEOUT_MS), 0);
	assert_int_equal(fwd_wait(s, 2, EVENT_TIMEOUT_MS), 2);
	/* containerd restarts: its ttrpc socket goes away and comes back */
	fwd_stop(s);
	s = fwd_start(path, FWD_OK);
	assert_non_null(s);
	exec_start(&f, "e4", exit4);
	assert_int_equal(it_wait(f.c, "e4", &status, NULL, EVENT_TIMEOUT_MS), 0);
	assert_int_equal(status, 4);
	assert_int_equal(fwd_wait(s, 1, EVENT_TIMEOUT_MS), 1);
	usleep(GRACE_US);
	n = fwd_requests(s, r, 8);
	assert_int_equal(n, 1);
	check_forward(&r[0], &f, "e4", 4);
	assert_int_equal(r[0].stream, 1); /* a new connection */
	n = published(&f.si, &ev);
	assert_int_equal(n, 1); /* e1 only */
	assert_string_equal(ev[0].id, "e1");
	free(ev);
	(void)it_kill(f.c, f.si.id, 9, false, NULL, 5000);
	(void)it_wait(f.c, f.si.id, NULL, NULL, EVENT_TIMEOUT_MS);
	it_fx_free(&f);
	fwd_stop(s);
}

/* $TTRPC_ADDRESS, when containerd's environment has it, wins over -address + ".ttrpc". */
static void test_env_address(void **state)
{
	const char *argv[] = { "/bin/sh", "-c", "exit 7", NULL };
	struct fwd_req r[4];
	char path[PATH_MAX], other[PATH_MAX], *msg = NULL;
	struct fwd_server *s, *unused;
	struct it_exit_ev *ev = NULL;
	struct it_fx f;
	uint32_t status = 0;
	int rc;

	(void)state;
	memset(&f, 0, sizeof(f));
	f.is_c = true;
	f.label = "cshim";
	rc = shim_prepare(&f.si, it_c_shim(), "fwd-env", argv);
	f.prepared = true;
	assert_int_equal(rc, 0);
	it_snprintf(f.si.address, sizeof(f.si.address), "%s/containerd.sock", f.si.dir);
	it_snprintf(other, sizeof(other), "%s/elsewhere.ttrpc", f.si.dir);
	ttrpc_path(&f, path, sizeof(path));
	s = fwd_start(other, FWD_OK);
	unused = fwd_start(path, FWD_OK);
	assert_non_null(s);
	assert_non_null(unused);
	it_watch(&f);
	setenv("TTRPC_ADDRESS", other, 1);
	rc = shim_start(&f.si, true);
	unsetenv("TTRPC_ADDRESS");
	assert_int_equal(rc, 0);
	f.c = shimclient_connect(f.si.sock, 5000);
	assert_non_null(f.c);
	assert_int_equal(it_create(&f, &msg), 0);
	free(msg);
	assert_int_equal(it_start(f.c, f.si.id, NULL, &msg, 15000), 0);
	free(msg);
	assert_int_equal(it_wait(f.c, f.si.id, &status, NULL, EVENT_TIMEOUT_MS), 0);
	assert_int_equal(status, 7);
	assert_int_equal(fwd_wait(s, 1, EVENT_TIMEOUT_MS), 1);
	usleep(GRACE_US);
	assert_int_equal(fwd_requests(s, r, 4), 1);
	check_forward(&r[0], &f, f.si.id, 7);
	assert_int_equal(fwd_requests(unused, NULL, 0), 0);
	assert_int_equal(published(&f.si, &ev), 0);
	free(ev);
	it_fx_free(&f);
	fwd_stop(s);
	fwd_stop(unused);
}

/* An OCI runtime whose `start` returns only once DIR/release exists (at most 30 s): the
 * container's process runs, and here exits, while the shim's Start is still unanswered. */
static const char slow_start_sh[] =
	"#!/bin/sh\n"
	"sub=\n"
	"prev=\n"
	"for a in \"$@\"; do\n"
	"\tif [ -n \"$prev\" ]; then prev=; continue; fi\n"
	"\tcase $a in\n"
	"\t--root | --log | --log-format | --criu) prev=$a ;;\n"
	"\t-*) ;;\n"
	"\t*) [ -z \"$sub\" ] && sub=$a ;;\n"
	"\tesac\n"
	"done\n"
	"[ \"$sub\" = start ] || exec runc \"$@\"\n"
	"runc \"$@\" || exit $?\n"
	"i=0\n"
	"while [ ! -e \"$(dirname \"$0\")/release\" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); "
	"done\n";

struct bg_start {
	const char *sock, *id;
	int code;
	atomic_bool done;
};

static void *bg_start_main(void *arg)
{
	struct bg_start *b = arg;
	struct shimclient *c = shimclient_connect(b->sock, 5000);
	char *msg = NULL;
	b->code = c ? it_start(c, b->id, NULL, &msg, 40000) : -EIO;
	free(msg);
	shimclient_close(c);
	atomic_store(&b->done, true);
	return NULL;
}

static bool stopped(struct it_fx *f)
{
	int st = -1;
	return it_state(f->c, f->si.id, &st, NULL, NULL, 5000) == 0 &&
	       st == CONTAINERD__V1__TYPES__STATUS__STOPPED;
}

/* A process that exits while its Start is still running: its exit is forwarded only after
 * Start was answered (containerd publishes /tasks/start after that answer, and Docker 20.10
 * drops an exit it sees before its Start call returned: core/exit_gate.h). */
static void test_exit_after_start_reply(void **state)
{
	const char *argv[] = { "/bin/sh", "-c", "exit 7", NULL };
	CreateReq req = CONTAINERD__RUNTIME__LINUX__SHIM__V1__CREATE_TASK_REQUEST__INIT;
	CreateResp *resp = NULL;
	struct bg_start b = { 0 };
	struct fwd_req r[4];
	char path[PATH_MAX], rt[PATH_MAX + 16], rel[PATH_MAX + 16], *msg = NULL;
	struct fwd_server *s;
	struct it_fx f;
	uint32_t status = 0;
	pthread_t t;
	FILE *o;
	int i;

	(void)state;
	launch(&f, "fwd-startexit", argv);
	ttrpc_path(&f, path, sizeof(path));
	s = fwd_start(path, FWD_OK);
	assert_non_null(s);
	it_snprintf(rt, sizeof(rt), "%s/slow-start.sh", f.si.dir);
	it_snprintf(rel, sizeof(rel), "%s/release", f.si.dir);
	o = fopen(rt, "we");
	assert_non_null(o);
	fputs(slow_start_sh, o);
	fclose(o);
	assert_int_equal(chmod(rt, 0755), 0);
	req.id = f.si.id;
	req.bundle = f.si.bundle;
	req.runtime = rt;
	assert_int_equal(it_call(f.c, "Create", &req, D_CREATE_RESP, &resp, &msg, 15000), 0);
	IT_FREE(resp);
	free(msg);

	b.sock = f.si.sock;
	b.id = f.si.id;
	atomic_init(&b.done, false);
	assert_int_equal(pthread_create(&t, NULL, bg_start_main, &b), 0);
	/* The process exited; Start is held in the runtime until the release file exists. */
	for (i = 0; i < 200 && !stopped(&f); i++)
		usleep(50000);
	assert_true(stopped(&f));
	usleep(GRACE_US);
	assert_false(atomic_load(&b.done));
	assert_int_equal(fwd_requests(s, NULL, 0), 0);

	o = fopen(rel, "we");
	assert_non_null(o);
	fclose(o);
	pthread_join(t, NULL);
	assert_int_equal(b.code, 0);
	assert_int_equal(fwd_wait(s, 1, EVENT_TIMEOUT_MS), 1);
	assert_int_equal(it_wait(f.c, f.si.id, &status, NULL, EVENT_TIMEOUT_MS), 0);
	assert_int_equal(status, 7);
	usleep(GRACE_US);
	assert_int_equal(fwd_requests(s, r, 4), 1);
	check_forward(&r[0], &f, f.si.id, 7);
	it_fx_free(&f);
	fwd_stop(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forward_in_order),
		cmocka_unit_test(test_wait_after_ack),
		cmocka_unit_test(test_delete_after_ack),
		cmocka_unit_test(test_error_falls_back),
		cmocka_unit_test(test_absent_falls_back),
		cmocka_unit_test(test_back_to_ttrpc),
		cmocka_unit_test(test_env_address),
		cmocka_unit_test(test_exit_after_start_reply),
	};
	int r;

	it_require_cshim("test_forward", it_c_shim());
	it_watchdog_start("test_forward", 300);
	r = cmocka_run_group_tests_name("forward", tests, NULL, NULL);
	it_root_remove();
	return r;
}
