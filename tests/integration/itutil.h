/* SPDX-License-Identifier: Apache-2.0 */
/* Header-only helpers shared by the integration programs (test_errors, test_stress,
 * test_storm, test_tty, test_soak, test_abuse's harness): a "fixture" = one launched shim
 * (launch.h) + one ttrpc connection + the container id, typed call wrappers, an OCI process
 * spec builder, /proc inspection of the shim and decoding of the fake publisher's TaskExit
 * records. Everything is static and marked unused, so any source file may include it. */
#pragma once

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "github.com/containerd/containerd/api/events/task.pb-c.h"
#include "github.com/containerd/containerd/api/types/task/task.pb-c.h"
#include "github.com/containerd/containerd/runtime/linux/runctypes/runc.pb-c.h"
#include "github.com/containerd/containerd/runtime/v1/shim/v1/shim.pb-c.h"
#include "google/protobuf/any.pb-c.h"
#include "google/protobuf/empty.pb-c.h"
#include "google/protobuf/timestamp.pb-c.h"
#include "proto/ttrpc_codec.h"
#include "tests/integration/launch.h"
#include "tests/integration/shimclient.h"

#define IT_UNUSED __attribute__((unused))

typedef Containerd__Runtime__Linux__Shim__V1__CreateTaskRequest CreateReq;
typedef Containerd__Runtime__Linux__Shim__V1__CreateTaskResponse CreateResp;
typedef Containerd__Runtime__Linux__Shim__V1__StateRequest StateReq;
typedef Containerd__Runtime__Linux__Shim__V1__StateResponse StateResp;
typedef Containerd__Runtime__Linux__Shim__V1__StartRequest StartReq;
typedef Containerd__Runtime__Linux__Shim__V1__StartResponse StartResp;
typedef Containerd__Runtime__Linux__Shim__V1__DeleteResponse DeleteResp;
typedef Containerd__Runtime__Linux__Shim__V1__DeleteProcessRequest DeleteProcReq;
typedef Containerd__Runtime__Linux__Shim__V1__KillRequest KillReq;
typedef Containerd__Runtime__Linux__Shim__V1__WaitRequest WaitReq;
typedef Containerd__Runtime__Linux__Shim__V1__WaitResponse WaitResp;
typedef Containerd__Runtime__Linux__Shim__V1__ListPidsRequest ListPidsReq;
typedef Containerd__Runtime__Linux__Shim__V1__ListPidsResponse ListPidsResp;
typedef Containerd__Runtime__Linux__Shim__V1__ShimInfoResponse ShimInfoResp;
typedef Containerd__Runtime__Linux__Shim__V1__ResizePtyRequest ResizeReq;
typedef Containerd__Runtime__Linux__Shim__V1__CloseIORequest CloseIOReq;
typedef Containerd__Runtime__Linux__Shim__V1__ExecProcessRequest ExecReq;
typedef Containerd__Runtime__Linux__Shim__V1__UpdateTaskRequest UpdateReq;
typedef Containerd__Runtime__Linux__Shim__V1__CheckpointTaskRequest CheckpointReq;

#define D_CREATE_RESP (&containerd__runtime__linux__shim__v1__create_task_response__descriptor)
#define D_STATE_RESP (&containerd__runtime__linux__shim__v1__state_response__descriptor)
#define D_START_RESP (&containerd__runtime__linux__shim__v1__start_response__descriptor)
#define D_DELETE_RESP (&containerd__runtime__linux__shim__v1__delete_response__descriptor)
#define D_WAIT_RESP (&containerd__runtime__linux__shim__v1__wait_response__descriptor)
#define D_LISTPIDS_RESP (&containerd__runtime__linux__shim__v1__list_pids_response__descriptor)
#define D_SHIMINFO_RESP (&containerd__runtime__linux__shim__v1__shim_info_response__descriptor)
#define D_EMPTY (&google__protobuf__empty__descriptor)

#define IT_GO_ZERO_SECONDS (-62135596800LL)
#define IT_PROCESS_TYPE_URL "types.containerd.io/opencontainers/runtime-spec/1/Process"
#define IT_RESOURCES_TYPE_URL "types.containerd.io/opencontainers/runtime-spec/1/LinuxResources"

/* snprintf without -Wformat-truncation noise (paths here are far below PATH_MAX). */
__attribute__((format(printf, 3, 4))) static IT_UNUSED int it_snprintf(char *out, size_t n,
								       const char *fmt, ...)
{
	va_list ap;
	int k;
	va_start(ap, fmt);
	k = vsnprintf(out, n, fmt, ap);
	va_end(ap);
	return k;
}

static IT_UNUSED long it_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static IT_UNUSED const char *it_go_shim(void)
{
	const char *p = getenv("GOSHIM");
	return p && *p ? p : "/usr/bin/containerd-shim";
}

static IT_UNUSED const char *it_c_shim(void)
{
	const char *p = getenv("CSHIM");
	return p && *p ? p : "build/bin/cshim";
}

/* ---- fixture: one shim + one connection ---- */

struct it_fx {
	bool is_c;
	const char *label;
	struct shim_inst si;
	bool prepared;
	struct shimclient *c;
	int init_pid;
};

/* Prepares the bundle (process.args = argv), starts the shim, connects, checks ShimInfo.
 * Returns NULL or a static error text. */
static IT_UNUSED const char *it_fx_launch(struct it_fx *f, bool is_c, const char *tag,
					  const char *const argv[])
{
	static __thread char err[512];
	int rc;

	memset(f, 0, sizeof(*f));
	f->is_c = is_c;
	f->label = is_c ? "cshim" : "go";
	rc = shim_prepare(&f->si, is_c ? it_c_shim() : it_go_shim(), tag, argv);
	f->prepared = true;
	if (rc < 0) {
		snprintf(err, sizeof(err), "shim_prepare: %s", strerror(-rc));
		return err;
	}
	rc = shim_start(&f->si, getenv("CSHIM_IT_DEBUG") != NULL);
	if (rc < 0) {
		snprintf(err, sizeof(err), "shim_start: %s", strerror(-rc));
		return err;
	}
	f->c = shimclient_connect(f->si.sock, 5000);
	if (!f->c) {
		snprintf(err, sizeof(err), "connect: %s", strerror(errno));
		return err;
	}
	return NULL;
}

static IT_UNUSED void it_fx_free(struct it_fx *f)
{
	if (f->c)
		shimclient_shutdown(f->c);
	if (f->prepared)
		shim_cleanup(&f->si);
	shimclient_close(f->c);
	f->c = NULL;
	f->prepared = false;
}

/* Typed call. Returns the gRPC code (>= 0) or a negative errno (transport). *msg is heap
 * ("" without status) when msg != NULL. */
static IT_UNUSED int it_call(struct shimclient *c, const char *method, const void *req,
			     const ProtobufCMessageDescriptor *rdesc, void *respp, char **msg,
			     int timeout_ms)
{
	int code = -1;
	char *m = NULL;
	ProtobufCMessage *resp = NULL;
	int rc = shimclient_call(c, method, (const ProtobufCMessage *)req, rdesc,
				 respp ? &resp : NULL, &code, &m, timeout_ms);
	if (respp)
		*(ProtobufCMessage **)respp = resp;
	if (rc < 0) {
		free(m);
		if (msg)
			*msg = NULL;
		return rc;
	}
	if (msg)
		*msg = m ? m : strdup("");
	else
		free(m);
	return code;
}

#define IT_FREE(m)                                                                                 \
	do {                                                                                       \
		if (m)                                                                             \
			protobuf_c_message_free_unpacked((ProtobufCMessage *)(m), NULL);           \
		(m) = NULL;                                                                        \
	} while (0)

/* Create without stdio; sets f->init_pid. Returns the code (or -errno), *msg heap. */
static IT_UNUSED int it_create(struct it_fx *f, char **msg)
{
	CreateReq req = CONTAINERD__RUNTIME__LINUX__SHIM__V1__CREATE_TASK_REQUEST__INIT;
	CreateResp *resp = NULL;
	int code;

	req.id = f->si.id;
	req.bundle = f->si.bundle;
	req.runtime = "runc";
	code = it_call(f->c, "Create", &req, D_CREATE_RESP, &resp, msg, 15000);
	if (code == 0 && resp)
		f->init_pid = (int)resp->pid;
	IT_FREE(resp);
	return code;
}

/* State: *status (-1 on error) and *exit_status when not NULL. */
static IT_UNUSED int it_state(struct shimclient *c, const char *id, int *status,
			      uint32_t *exit_status, char **msg, int timeout_ms)
{
	StateReq req = CONTAINERD__RUNTIME__LINUX__SHIM__V1__STATE_REQUEST__INIT;
	StateResp *r = NULL;
	int code;
	req.id = (char *)id;
	code = it_call(c, "State", &req, D_STATE_RESP, &r, msg, timeout_ms);
	if (status)
		*status = (code == 0 && r) ? (int)r->status : -1;
	if (exit_status)
		*exit_status = (code == 0 && r) ? r->exit_status : 0;
	IT_FREE(r);
	return code;
}

static IT_UNUSED int it_shiminfo(struct shimclient *c, uint32_t *pid, int timeout_ms)
{
	Google__Protobuf__Empty e = GOOGLE__PROTOBUF__EMPTY__INIT;
	ShimInfoResp *r = NULL;
	int code = it_call(c, "ShimInfo", &e, D_SHIMINFO_RESP, &r, NULL, timeout_ms);
	if (pid)
		*pid = (code == 0 && r) ? r->shim_pid : 0;
	IT_FREE(r);
	return code;
}

static IT_UNUSED int it_start(struct shimclient *c, const char *id, uint32_t *pid, char **msg,
			      int timeout_ms)
{
	StartReq req = CONTAINERD__RUNTIME__LINUX__SHIM__V1__START_REQUEST__INIT;
	StartResp *r = NULL;
	int code;
	req.id = (char *)id;
	code = it_call(c, "Start", &req, D_START_RESP, &r, msg, timeout_ms);
	if (pid)
		*pid = (code == 0 && r) ? r->pid : 0;
	IT_FREE(r);
	return code;
}

static IT_UNUSED int it_kill(struct shimclient *c, const char *id, uint32_t sig, bool all,
			     char **msg, int timeout_ms)
{
	KillReq req = CONTAINERD__RUNTIME__LINUX__SHIM__V1__KILL_REQUEST__INIT;
	req.id = (char *)id;
	req.signal = sig;
	req.all = all;
	return it_call(c, "Kill", &req, D_EMPTY, NULL, msg, timeout_ms);
}

static IT_UNUSED int it_wait(struct shimclient *c, const char *id, uint32_t *status, char **msg,
			     int timeout_ms)
{
	WaitReq req = CONTAINERD__RUNTIME__LINUX__SHIM__V1__WAIT_REQUEST__INIT;
	WaitResp *r = NULL;
	int code;
	req.id = (char *)id;
	code = it_call(c, "Wait", &req, D_WAIT_RESP, &r, msg, timeout_ms);
	if (status)
		*status = (code == 0 && r) ? r->exit_status : 0;
	IT_FREE(r);
	return code;
}

static IT_UNUSED int it_delete_process(struct shimclient *c, const char *id, char **msg,
				       int timeout_ms)
{
	DeleteProcReq req = CONTAINERD__RUNTIME__LINUX__SHIM__V1__DELETE_PROCESS_REQUEST__INIT;
	DeleteResp *r = NULL;
	int code;
	req.id = (char *)id;
	code = it_call(c, "DeleteProcess", &req, D_DELETE_RESP, &r, msg, timeout_ms);
	IT_FREE(r);
	return code;
}

static IT_UNUSED int it_empty_call(struct shimclient *c, const char *method,
				   const ProtobufCMessageDescriptor *rdesc, char **msg,
				   int timeout_ms)
{
	Google__Protobuf__Empty e = GOOGLE__PROTOBUF__EMPTY__INIT;
	ProtobufCMessage *r = NULL;
	int code = it_call(c, method, &e, rdesc, rdesc ? (void *)&r : NULL, msg, timeout_ms);
	IT_FREE(r);
	return code;
}

/* JSON of an OCI process running argv (containerd-style: env, cwd and user always set); the
 * arguments are JSON-escaped by jansson. Heap. */
static IT_UNUSED char *it_process_json(const char *const argv[])
{
	json_t *p = json_object(), *args = json_array(), *user = json_object(), *env = json_array();
	char *s;

	for (int i = 0; argv[i]; i++)
		json_array_append_new(args, json_string(argv[i]));
	json_object_set_new(user, "uid", json_integer(0));
	json_object_set_new(user, "gid", json_integer(0));
	json_array_append_new(env, json_string("PATH=/bin"));
	json_object_set_new(p, "terminal", json_false());
	json_object_set_new(p, "user", user);
	json_object_set_new(p, "args", args);
	json_object_set_new(p, "env", env);
	json_object_set_new(p, "cwd", json_string("/"));
	s = json_dumps(p, JSON_COMPACT);
	json_decref(p);
	if (!s)
		abort();
	return s;
}

/* Exec with a JSON spec (json NULL: no spec field at all). stdio paths may be NULL. */
static IT_UNUSED int it_exec(struct shimclient *c, const char *id, const char *json, const char *in,
			     const char *out, const char *err, char **msg, int timeout_ms)
{
	ExecReq req = CONTAINERD__RUNTIME__LINUX__SHIM__V1__EXEC_PROCESS_REQUEST__INIT;
	Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;

	req.id = (char *)id;
	req.stdin = (char *)(in ? in : "");
	req.stdout = (char *)(out ? out : "");
	req.stderr = (char *)(err ? err : "");
	if (json) {
		any.type_url = IT_PROCESS_TYPE_URL;
		any.value.data = (uint8_t *)json;
		any.value.len = strlen(json);
		req.spec = &any;
	}
	return it_call(c, "Exec", &req, D_EMPTY, NULL, msg, timeout_ms);
}

/* ---- /proc inspection ---- */

static IT_UNUSED int it_count_dir(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	int n = 0;
	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static IT_UNUSED int it_proc_fds(pid_t pid)
{
	char p[64];
	snprintf(p, sizeof(p), "/proc/%d/fd", (int)pid);
	return it_count_dir(p);
}

static IT_UNUSED int it_proc_threads(pid_t pid)
{
	char p[64];
	snprintf(p, sizeof(p), "/proc/%d/task", (int)pid);
	return it_count_dir(p);
}

/* Children of `parent`: total count, zombies, and a description (comm/state/pid list). */
static IT_UNUSED int it_proc_children(pid_t parent, int *zombies, char *desc, size_t dn)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	int n = 0, z = 0;
	size_t dl = 0;

	if (desc && dn)
		desc[0] = '\0';
	if (!d)
		return -1;
	while ((de = readdir(d))) {
		char p[64], buf[512];
		int pid = atoi(de->d_name), ppid = 0;
		char st = '?';
		if (pid <= 0)
			continue;
		snprintf(p, sizeof(p), "/proc/%d/stat", pid);
		FILE *f = fopen(p, "r");
		if (!f)
			continue;
		size_t k = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[k] = '\0';
		char *rp = strrchr(buf, ')');
		char *lp = strchr(buf, '(');
		if (!rp || !lp || sscanf(rp + 1, " %c %d", &st, &ppid) != 2)
			continue;
		if (ppid != parent)
			continue;
		n++;
		if (st == 'Z')
			z++;
		if (desc && dl + 64 < dn) {
			*rp = '\0';
			dl += (size_t)snprintf(desc + dl, dn - dl, "%s%d(%.20s,%c)", dl ? " " : "",
					       pid, lp + 1, st);
		}
	}
	closedir(d);
	if (zombies)
		*zombies = z;
	return n;
}

/* Polls (every 50 ms, up to ms) until `pid` has `want` children and none of them is a zombie;
 * the last counts in *n, *z and desc. */
static IT_UNUSED bool it_settle_children(pid_t pid, int want, int ms, char *desc, size_t dn, int *n,
					 int *z)
{
	long dl = it_now_ms() + ms;
	for (;;) {
		*n = it_proc_children(pid, z, desc, dn);
		if (*n == want && *z == 0)
			return true;
		if (it_now_ms() > dl)
			return false;
		usleep(50000);
	}
}

/* Polls (every 50 ms, up to ms) until `pid` has `want` open fds; the last count in *now. */
static IT_UNUSED bool it_settle_fds(pid_t pid, int want, int ms, int *now)
{
	long dl = it_now_ms() + ms;
	for (;;) {
		*now = it_proc_fds(pid);
		if (*now == want)
			return true;
		if (it_now_ms() > dl)
			return false;
		usleep(50000);
	}
}

/* Prints pid's open fds and what they point to, to stderr. */
static IT_UNUSED void it_fd_listing(pid_t pid)
{
	char p[64], l[PATH_MAX], t[PATH_MAX + 64];
	DIR *d;
	struct dirent *de;
	snprintf(p, sizeof(p), "/proc/%d/fd", (int)pid);
	d = opendir(p);
	if (!d)
		return;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(t, sizeof(t), "%s/%s", p, de->d_name);
		ssize_t k = readlink(t, l, sizeof(l) - 1);
		l[k > 0 ? k : 0] = '\0';
		fprintf(stderr, "    fd %s -> %s\n", de->d_name, l);
	}
	closedir(d);
}

/* ---- publisher records ---- */

struct it_exit_ev {
	char container_id[80];
	char id[80];
	uint32_t pid;
	uint32_t exit_status;
	int64_t secs;
	int32_t nanos;
	bool ok; /* argv/type_url/decode all fine */
};

/* Decodes every recorded publication as a TaskExit. Returns count or -errno; *out heap. */
static IT_UNUSED int it_exit_events(const struct shim_inst *si, struct it_exit_ev **out)
{
	struct pub_event *ev = NULL;
	int n = pub_events_read(si, &ev);
	char expect_argv[PATH_MAX + 512];

	*out = NULL;
	if (n < 0)
		return n;
	it_snprintf(expect_argv, sizeof(expect_argv),
		    "[--address] [%s] [publish] [--topic] [/tasks/exit] [--namespace] [%s]",
		    si->address, IT_NAMESPACE);
	*out = calloc((size_t)n + 1, sizeof(**out));
	if (!*out) {
		pub_events_free(ev, n);
		return -ENOMEM;
	}
	for (int i = 0; i < n; i++) {
		struct it_exit_ev *e = &(*out)[i];
		Google__Protobuf__Any *any =
			google__protobuf__any__unpack(NULL, ev[i].len, ev[i].data);
		Containerd__Events__TaskExit *te = NULL;
		if (any && any->type_url &&
		    strcmp(any->type_url, "containerd.events.TaskExit") == 0)
			te = containerd__events__task_exit__unpack(NULL, any->value.len,
								   any->value.data);
		if (te) {
			snprintf(e->container_id, sizeof(e->container_id), "%s", te->container_id);
			snprintf(e->id, sizeof(e->id), "%s", te->id);
			e->pid = te->pid;
			e->exit_status = te->exit_status;
			if (te->exited_at) {
				e->secs = te->exited_at->seconds;
				e->nanos = te->exited_at->nanos;
			}
			e->ok = strcmp(ev[i].argv, expect_argv) == 0;
			containerd__events__task_exit__free_unpacked(te, NULL);
		}
		if (any)
			google__protobuf__any__free_unpacked(any, NULL);
	}
	pub_events_free(ev, n);
	return n;
}

static IT_UNUSED void it_dump_tail(const char *what, const char *path, long max)
{
	FILE *f = fopen(path, "r");
	char buf[4096];
	size_t n;

	if (!f)
		return;
	fseek(f, 0, SEEK_END);
	long sz = ftell(f);
	fseek(f, sz > max ? sz - max : 0, SEEK_SET);
	fprintf(stderr, "---- %s (%s, last %ld bytes) ----\n", what, path, max);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, n, stderr);
	fprintf(stderr, "\n----\n");
	fclose(f);
}

/* "" while alive, else how the shim ended (reaps it). */
static IT_UNUSED const char *it_death(struct shim_inst *si)
{
	static __thread char buf[96];
	for (int i = 0; i < 20 && shim_alive(si); i++)
		usleep(10000);
	if (shim_alive(si))
		return "";
	int st = si->exit_status;
	if (WIFSIGNALED(st))
		snprintf(buf, sizeof(buf), "shim died: signal %d", WTERMSIG(st));
	else if (WIFEXITED(st))
		snprintf(buf, sizeof(buf), "shim died: exit %d", WEXITSTATUS(st));
	else
		snprintf(buf, sizeof(buf), "shim died (0x%x)", st);
	return buf;
}

/* Anything we started that is still around after the tests: a process whose cgroup or
 * command line mentions one of our ids (it<ourpid>x...) or the temp root. Reported and
 * killed (by pid). Returns the count. */
static IT_UNUSED int it_leftover_check(void)
{
	char tag[64], path[64], buf[8192];
	DIR *d = opendir("/proc");
	struct dirent *de;
	int found = 0;
	const char *root = it_root();

	snprintf(tag, sizeof(tag), "it%dx", (int)getpid());
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		int pid = atoi(de->d_name);
		if (pid <= 0 || pid == getpid())
			continue;
		for (int k = 0; k < 2; k++) {
			snprintf(path, sizeof(path), "/proc/%d/%s", pid, k ? "cmdline" : "cgroup");
			FILE *f = fopen(path, "r");
			if (!f)
				continue;
			size_t n = fread(buf, 1, sizeof(buf) - 1, f);
			fclose(f);
			for (size_t i = 0; i < n; i++)
				if (buf[i] == '\0')
					buf[i] = ' ';
			buf[n] = '\0';
			if (strstr(buf, tag) || (root && strstr(buf, root))) {
				char st[600] = "", *c;
				snprintf(path, sizeof(path), "/proc/%d/stat", pid);
				FILE *sf = fopen(path, "r");
				if (sf) {
					size_t m = fread(st, 1, sizeof(st) - 1, sf);
					st[m] = '\0';
					fclose(sf);
				}
				for (c = buf; *c; c++)
					if (*c == '\n')
						*c = ' ';
				if ((c = strrchr(st, ')')) && c - st < 400)
					c[20] = '\0'; /* "pid (comm) S ppid ..." */
				if (c && c[1] == ' ' && c[2] == 'Z') {
					/* Container processes killed by the cleanup after their shim
					 * died are orphans: zombies until pid 1 reaps them (lazily on
					 * some hosts). Nothing runs; not a leak of ours. */
					fprintf(stderr,
						"[ INFO  ] orphaned zombie %d [%s] (awaiting pid 1)\n",
						pid, st);
					break;
				}
				fprintf(stderr, "[ ERROR ] leftover process %d [%s]: %.300s\n", pid,
					st, buf);
				kill(pid, SIGKILL);
				found++;
				break;
			}
		}
	}
	closedir(d);
	return found;
}

/* --- watchdog: past CSHIM_IT_TIMEOUT seconds, or on SIGINT/SIGTERM/SIGHUP, the shim of the
 * fixture being watched is killed, the temp root removed, and the program exits --- */

static struct it_fx *_Atomic it_watched; /* the running case's fixture, or NULL */
static sigset_t it_stop_sigs;
static const char *it_prog;

/* The fixture the watchdog cleans up from now on (NULL: none). */
static IT_UNUSED void it_watch(struct it_fx *f)
{
	atomic_store(&it_watched, f);
}

static IT_UNUSED void *it_watchdog_main(void *arg)
{
	long secs = (long)(intptr_t)arg, end = it_now_ms() + secs * 1000;
	siginfo_t si;
	int sig;
	struct it_fx *f;

	/* EINTR is no timeout: LeakSanitizer's exit-time check stops every thread (ptrace),
	 * which interrupts sigtimedwait. Wait again for what is left. */
	for (;;) {
		long ms = end - it_now_ms();
		struct timespec left = { .tv_sec = ms / 1000, .tv_nsec = ms % 1000 * 1000000L };
		if (ms <= 0) {
			sig = 0;
			break;
		}
		sig = sigtimedwait(&it_stop_sigs, &si, &left);
		if (sig > 0 || errno != EINTR)
			break;
	}
	f = atomic_load(&it_watched);

	if (sig > 0)
		fprintf(stderr, "[ ERROR ] interrupted by signal %d: cleaning up\n", sig);
	else
		fprintf(stderr, "[ ERROR ] %s exceeded %ld s: cleaning up\n", it_prog, secs);
	if (f && f->prepared) {
		if (f->si.pid > 0) {
			kill(-f->si.pid, SIGKILL);
			kill(f->si.pid, SIGKILL);
		}
		shim_cleanup(&f->si);
	}
	it_root_remove();
	_exit(sig > 0 ? 128 + sig : 2);
	return NULL;
}

/* Blocks the stop signals (call before any other thread starts) and starts the watchdog:
 * CSHIM_IT_TIMEOUT seconds, else default_secs. */
static IT_UNUSED void it_watchdog_start(const char *prog, long default_secs)
{
	const char *ts = getenv("CSHIM_IT_TIMEOUT");
	long secs = ts ? atol(ts) : default_secs;
	pthread_t wd;

	it_prog = prog;
	sigemptyset(&it_stop_sigs);
	sigaddset(&it_stop_sigs, SIGINT);
	sigaddset(&it_stop_sigs, SIGTERM);
	sigaddset(&it_stop_sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &it_stop_sigs, NULL);
	if (secs <= 0)
		secs = default_secs;
	if (pthread_create(&wd, NULL, it_watchdog_main, (void *)(intptr_t)secs) == 0)
		pthread_detach(wd);
}
