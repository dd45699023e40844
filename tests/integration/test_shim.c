/* SPDX-License-Identifier: Apache-2.0 */
/* Differential integration tests: every scenario runs against the Go reference shim (GOSHIM,
 * default /usr/bin/containerd-shim) and against cshim (CSHIM, default build/bin/cshim; missing,
 * the program fails). Each run records a normalized transcript (method, gRPC code, message,
 * response fields with pids/timestamps replaced by markers); the cshim transcript must equal the
 * Go one. The Go run is the reference (the test's setup, reported as such, never as a pass).
 * Absolute assertions from docs/v1-protocol.md are checked for both shims.
 *
 * Environment: GOSHIM, CSHIM, CSHIM_IT_DEBUG (pass -debug), CSHIM_IT_KEEP (keep temp dirs),
 * CSHIM_IT_VERBOSE (print transcripts), CSHIM_IT_TIMEOUT (watchdog seconds, default 110). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "github.com/containerd/containerd/api/events/task.pb-c.h"
#include "github.com/containerd/containerd/api/types/task/task.pb-c.h"
#include "github.com/containerd/containerd/runtime/linux/runctypes/runc.pb-c.h"
#include "github.com/containerd/containerd/runtime/v1/shim/v1/shim.pb-c.h"
#include "github.com/containerd/ttrpc/request.pb-c.h"
#include "google/protobuf/any.pb-c.h"
#include "google/protobuf/empty.pb-c.h"
#include "google/protobuf/timestamp.pb-c.h"
#include "proto/ttrpc_codec.h"
#include "tests/integration/launch.h"
#include "tests/integration/shimclient.h"

/* Short type names */
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

#define D_CREATE_RESP (&containerd__runtime__linux__shim__v1__create_task_response__descriptor)
#define D_STATE_RESP (&containerd__runtime__linux__shim__v1__state_response__descriptor)
#define D_START_RESP (&containerd__runtime__linux__shim__v1__start_response__descriptor)
#define D_DELETE_RESP (&containerd__runtime__linux__shim__v1__delete_response__descriptor)
#define D_WAIT_RESP (&containerd__runtime__linux__shim__v1__wait_response__descriptor)
#define D_LISTPIDS_RESP (&containerd__runtime__linux__shim__v1__list_pids_response__descriptor)
#define D_SHIMINFO_RESP (&containerd__runtime__linux__shim__v1__shim_info_response__descriptor)
#define D_EMPTY (&google__protobuf__empty__descriptor)

#define GO_ZERO_SECONDS (-62135596800LL)
/* Budget: a hung shim costs one timeout per scenario (the scenario fails there), so the
 * whole run stays well under 2 minutes; the watchdog (CSHIM_IT_TIMEOUT) is the last resort. */
#define CALL_TIMEOUT_MS 5000
#define CREATE_TIMEOUT_MS 10000
#define WAIT_TIMEOUT_MS 10000
#define EVENT_TIMEOUT_MS 5000
#define MAX_MSG (4u << 20)

/* ------------------------------------------------------------------------------------------ */
/* string builder                                                                              */

struct sb {
	char *s;
	size_t n, cap;
};

static void sb_vprintf(struct sb *b, const char *fmt, va_list ap)
{
	va_list aq;
	int k;
	va_copy(aq, ap);
	k = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (k < 0)
		return;
	if (b->n + (size_t)k + 1 > b->cap) {
		size_t nc = (b->cap ? b->cap : 256);
		while (nc < b->n + (size_t)k + 1)
			nc *= 2;
		char *ns = realloc(b->s, nc);
		if (!ns)
			abort();
		b->s = ns;
		b->cap = nc;
	}
	vsnprintf(b->s + b->n, (size_t)k + 1, fmt, ap);
	b->n += (size_t)k;
}

__attribute__((format(printf, 2, 3))) static void sb_printf(struct sb *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	sb_vprintf(b, fmt, ap);
	va_end(ap);
}

static const char *sb_str(struct sb *b)
{
	return b->s ? b->s : "";
}

/* ------------------------------------------------------------------------------------------ */
/* runs                                                                                        */

struct bgcall {
	pthread_t thr;
	bool started;
	atomic_bool done;
	struct shimclient *c;
	const char *method;
	uint8_t *payload;
	size_t plen;
	int rc;
	struct shimclient_reply reply;
};

#define MAX_BG 4

struct run {
	bool is_c;
	const char *label; /* "go" / "cshim" */
	struct shim_inst si;
	bool si_prepared;
	struct shimclient *c;
	struct shimclient *c2; /* optional second connection */
	struct sb tr;          /* normalized transcript */
	struct bgcall bg[MAX_BG];
	int nbg;
	/* last call */
	int code;
	char *msg;
	uint32_t shim_pid;
};

#define MAX_RUNS 4
static struct run *g_runs[MAX_RUNS];
static pthread_mutex_t g_runs_mu = PTHREAD_MUTEX_INITIALIZER;

static const char *go_shim_path(void)
{
	const char *p = getenv("GOSHIM");
	return p && *p ? p : "/usr/bin/containerd-shim";
}

static const char *c_shim_path(void)
{
	const char *p = getenv("CSHIM");
	return p && *p ? p : "build/bin/cshim";
}

static bool g_cur_ok; /* the current test reached its end (or skipped) */

static void dump_tail(const char *what, const char *path, long max)
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

/* Diagnostics for a failed test: the transcript so far and the shim's logs. */
static void run_dump(struct run *r)
{
	fprintf(stderr, "---- [%s] transcript so far ----\n%s", r->label, sb_str(&r->tr));
	if (r->si_prepared && r->si.dir[0]) {
		dump_tail("shim fd 1/2", r->si.shimlog, 3000);
		dump_tail("shim log FIFO", r->si.fifolog, 3000);
	}
	fflush(stderr);
}

static void run_free(struct run *r)
{
	if (!r)
		return;
	if (!g_cur_ok)
		run_dump(r);
	/* Wake background calls, kill the shim, join, then free. */
	if (r->c)
		shimclient_shutdown(r->c);
	if (r->c2)
		shimclient_shutdown(r->c2);
	if (r->si_prepared)
		shim_cleanup(&r->si);
	for (int i = 0; i < r->nbg; i++) {
		if (r->bg[i].started)
			pthread_join(r->bg[i].thr, NULL);
		free(r->bg[i].payload);
		shimclient_reply_free(&r->bg[i].reply);
	}
	shimclient_close(r->c);
	shimclient_close(r->c2);
	free(r->msg);
	free(r->tr.s);
	free(r);
}

/* "" while the shim lives, else how it ended (waits up to 300 ms for it to go). */
static const char *shim_death(struct run *r)
{
	static char buf[96];
	for (int i = 0; i < 30 && shim_alive(&r->si); i++)
		usleep(10000);
	if (shim_alive(&r->si))
		return "";
	int st = r->si.exit_status;
	if (WIFSIGNALED(st))
		snprintf(buf, sizeof(buf), " -- shim died: killed by signal %d (%s)", WTERMSIG(st),
			 strsignal(WTERMSIG(st)));
	else if (WIFEXITED(st))
		snprintf(buf, sizeof(buf), " -- shim died: exit status %d", WEXITSTATUS(st));
	else
		snprintf(buf, sizeof(buf), " -- shim died (wait status 0x%x)", st);
	return buf;
}

/* Normalizes a string from a response: the launch dir and container id become markers. */
static char *norm(const struct run *r, const char *s)
{
	struct sb b = { 0 };
	const char *dir = r->si.dir, *id = r->si.id;
	size_t dl = strlen(dir), il = strlen(id);

	if (!s)
		return strdup("(null)");
	while (*s) {
		if (dl && strncmp(s, dir, dl) == 0) {
			sb_printf(&b, "$DIR");
			s += dl;
		} else if (il && strncmp(s, id, il) == 0) {
			sb_printf(&b, "$ID");
			s += il;
		} else if (*s == '\n') {
			sb_printf(&b, "\\n");
			s++;
		} else {
			sb_printf(&b, "%c", *s++);
		}
	}
	if (!b.s)
		return strdup("");
	return b.s;
}

static void trf(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void trf(struct run *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	sb_vprintf(&r->tr, fmt, ap);
	va_end(ap);
}

static void render_ts(struct sb *o, const Google__Protobuf__Timestamp *ts)
{
	time_t now = time(NULL);
	if (!ts)
		sb_printf(o, "absent");
	else if (ts->seconds == GO_ZERO_SECONDS && ts->nanos == 0)
		sb_printf(o, "zero");
	else if (ts->seconds == 0 && ts->nanos == 0)
		sb_printf(o, "epoch(1970!)");
	else if (ts->seconds > now - 86400 && ts->seconds < now + 86400 && ts->nanos >= 0 &&
		 ts->nanos < 1000000000)
		sb_printf(o, "nonzero");
	else
		sb_printf(o, "bogus(%" PRId64 ",%d)", ts->seconds, ts->nanos);
}

static void render_msg(struct sb *o, const struct run *r, const ProtobufCMessage *m);

static void render_any(struct sb *o, const struct run *r, const Google__Protobuf__Any *a)
{
	char *t = norm(r, a->type_url);
	sb_printf(o, "Any{type_url=\"%s\" ", t);
	if (a->type_url && strcmp(a->type_url, "containerd.linux.runc.ProcessDetails") == 0) {
		ProtobufCMessage *pd = protobuf_c_message_unpack(
			&containerd__linux__runc__process_details__descriptor, NULL, a->value.len,
			a->value.data);
		if (pd) {
			render_msg(o, r, pd);
			protobuf_c_message_free_unpacked(pd, NULL);
		} else {
			sb_printf(o, "undecodable");
		}
	} else {
		sb_printf(o, "value=%zu bytes", a->value.len);
	}
	sb_printf(o, "}");
	free(t);
}

static bool is_pid_field(const char *name)
{
	return strcmp(name, "pid") == 0 || strcmp(name, "shim_pid") == 0;
}

static void render_value(struct sb *o, const struct run *r, const ProtobufCFieldDescriptor *f,
			 const void *p)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING: {
		char *s = norm(r, *(char *const *)p);
		sb_printf(o, "\"%s\"", s);
		free(s);
		break;
	}
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32: {
		uint32_t v = *(const uint32_t *)p;
		if (is_pid_field(f->name))
			sb_printf(o, "%s", v ? "pid>0" : "0");
		else
			sb_printf(o, "%" PRIu32, v);
		break;
	}
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32: sb_printf(o, "%" PRId32, *(const int32_t *)p); break;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64: sb_printf(o, "%" PRId64, *(const int64_t *)p); break;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64: sb_printf(o, "%" PRIu64, *(const uint64_t *)p); break;
	case PROTOBUF_C_TYPE_BOOL:
		sb_printf(o, "%s", *(const protobuf_c_boolean *)p ? "true" : "false");
		break;
	case PROTOBUF_C_TYPE_ENUM: {
		int v = *(const int *)p;
		const ProtobufCEnumValue *ev =
			protobuf_c_enum_descriptor_get_value(f->descriptor, v);
		if (ev)
			sb_printf(o, "%s", ev->name);
		else
			sb_printf(o, "%d", v);
		break;
	}
	case PROTOBUF_C_TYPE_BYTES:
		sb_printf(o, "%zu bytes", ((const ProtobufCBinaryData *)p)->len);
		break;
	case PROTOBUF_C_TYPE_MESSAGE: {
		const ProtobufCMessage *sub = *(const ProtobufCMessage *const *)p;
		if (f->descriptor == &google__protobuf__timestamp__descriptor)
			render_ts(o, (const Google__Protobuf__Timestamp *)sub);
		else if (!sub)
			sb_printf(o, "absent");
		else if (f->descriptor == &google__protobuf__any__descriptor)
			render_any(o, r, (const Google__Protobuf__Any *)sub);
		else
			render_msg(o, r, sub);
		break;
	}
	default: sb_printf(o, "?");
	}
}

static size_t elem_size(const ProtobufCFieldDescriptor *f)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_MESSAGE: return sizeof(void *);
	case PROTOBUF_C_TYPE_BYTES: return sizeof(ProtobufCBinaryData);
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_DOUBLE: return 8;
	case PROTOBUF_C_TYPE_BOOL: return sizeof(protobuf_c_boolean);
	default: return 4;
	}
}

static void render_msg(struct sb *o, const struct run *r, const ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;

	sb_printf(o, "{");
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		const char *p = (const char *)m + f->offset;
		if (i)
			sb_printf(o, " ");
		sb_printf(o, "%s=", f->name);
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *(const size_t *)((const char *)m + f->quantifier_offset);
			const char *arr = *(const char *const *)p;
			sb_printf(o, "[");
			for (size_t k = 0; k < n; k++) {
				if (k)
					sb_printf(o, ", ");
				render_value(o, r, f, arr + k * elem_size(f));
			}
			sb_printf(o, "]");
		} else {
			render_value(o, r, f, p);
		}
	}
	sb_printf(o, "}");
}

/* One call: records "Method(args) -> code msg resp" in the transcript; asserts that the
 * transport worked. Returns the gRPC code; r->msg holds the message. */
static int call(struct run *r, const char *method, const char *args, const void *req,
		const ProtobufCMessageDescriptor *rdesc, void *respp)
{
	ProtobufCMessage *resp = NULL;
	int code = -1, rc;
	char *msg = NULL, *nm;

	free(r->msg);
	r->msg = NULL;
	rc = shimclient_call(r->c, method, req, rdesc, &resp, &code, &msg,
			     strcmp(method, "Create") == 0 ? CREATE_TIMEOUT_MS : CALL_TIMEOUT_MS);
	if (rc < 0)
		fail_msg("[%s] %s(%s): transport error %d (%s)%s", r->label, method, args, rc,
			 strerror(-rc), shim_death(r));
	nm = norm(r, msg);
	trf(r, "%s(%s) -> code=%d msg=\"%s\"", method, args, code, nm);
	if (code == 0 && resp) {
		trf(r, " resp=");
		render_msg(&r->tr, r, resp);
	}
	trf(r, "\n");
	free(nm);
	r->code = code;
	r->msg = msg;
	if (respp)
		*(ProtobufCMessage **)respp = resp;
	else if (resp)
		protobuf_c_message_free_unpacked(resp, NULL);
	return code;
}

#define FREE_MSG(m)                                                                                \
	do {                                                                                       \
		if (m)                                                                             \
			protobuf_c_message_free_unpacked((ProtobufCMessage *)(m), NULL);           \
		(m) = NULL;                                                                        \
	} while (0)

static void expect_err(struct run *r, int code, const char *msg)
{
	if (r->code != code || strcmp(r->msg ? r->msg : "", msg) != 0)
		fail_msg("[%s] expected code %d \"%s\", got code %d \"%s\"", r->label, code, msg,
			 r->code, r->msg ? r->msg : "");
}

static void expect_ok(struct run *r, const char *what)
{
	if (r->code != 0)
		fail_msg("[%s] %s: expected success, got code %d \"%s\"", r->label, what, r->code,
			 r->msg ? r->msg : "");
}

/* Background call (a Wait blocked while other calls proceed on the same connection). */
static void *bg_main(void *arg)
{
	struct bgcall *b = arg;
	b->rc = shimclient_call_bytes(b->c, shimclient_next_stream(b->c), SHIM_SERVICE, b->method,
				      b->payload, b->plen, WAIT_TIMEOUT_MS, &b->reply);
	atomic_store(&b->done, true);
	return NULL;
}

static int bg_start(struct run *r, const char *method, const void *req)
{
	struct bgcall *b;
	const ProtobufCMessage *m = req;

	assert_true(r->nbg < MAX_BG);
	b = &r->bg[r->nbg++];
	memset(b, 0, sizeof(*b));
	b->c = r->c;
	b->method = method;
	b->plen = protobuf_c_message_get_packed_size(m);
	b->payload = malloc(b->plen ? b->plen : 1);
	assert_non_null(b->payload);
	protobuf_c_message_pack(m, b->payload);
	assert_int_equal(pthread_create(&b->thr, NULL, bg_main, b), 0);
	b->started = true;
	return r->nbg - 1;
}

static bool bg_done(struct run *r, int i)
{
	return atomic_load(&r->bg[i].done);
}

/* Joins background call i (waiting at most timeout_ms), records it, returns its code. */
static int bg_join(struct run *r, int i, const char *args, const ProtobufCMessageDescriptor *rdesc,
		   void *respp)
{
	struct bgcall *b = &r->bg[i];
	struct timespec t0, t1;
	ProtobufCMessage *resp = NULL;
	char *nm;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!atomic_load(&b->done)) {
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if ((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 >
		    WAIT_TIMEOUT_MS + 2000)
			fail_msg("[%s] background %s did not finish", r->label, b->method);
		usleep(5000);
	}
	pthread_join(b->thr, NULL);
	b->started = false;
	if (b->rc < 0)
		fail_msg("[%s] background %s: transport error %d (%s)%s", r->label, b->method,
			 b->rc, strerror(-b->rc), shim_death(r));
	nm = norm(r, b->reply.msg);
	trf(r, "%s(%s) [background] -> code=%d msg=\"%s\"", b->method, args, b->reply.code, nm);
	free(nm);
	if (b->reply.code == 0 && rdesc) {
		resp = protobuf_c_message_unpack(rdesc, NULL, b->reply.plen, b->reply.payload);
		if (!resp)
			fail_msg("[%s] background %s: undecodable response", r->label, b->method);
		trf(r, " resp=");
		render_msg(&r->tr, r, resp);
	}
	trf(r, "\n");
	r->code = b->reply.code;
	free(r->msg);
	r->msg = strdup(b->reply.msg ? b->reply.msg : "");
	if (respp)
		*(ProtobufCMessage **)respp = resp;
	else if (resp)
		protobuf_c_message_free_unpacked(resp, NULL);
	return b->reply.code;
}

/* Fails (with the early reply recorded) if background call i already returned. */
static void bg_expect_pending(struct run *r, int i, const char *what)
{
	if (!bg_done(r, i))
		return;
	bg_join(r, i, "id", NULL, NULL);
	fail_msg("[%s] %s: background %s returned early with code %d \"%s\"", r->label, what,
		 r->bg[i].method, r->code, r->msg ? r->msg : "");
}

/* ------------------------------------------------------------------------------------------ */
/* common steps                                                                                */

static bool ts_is_go_zero(const Google__Protobuf__Timestamp *ts)
{
	return ts && ts->seconds == GO_ZERO_SECONDS && ts->nanos == 0;
}

static bool ts_is_recent(const Google__Protobuf__Timestamp *ts)
{
	time_t now = time(NULL);
	return ts && ts->seconds > now - 3600 && ts->seconds <= now + 60 && ts->nanos >= 0 &&
	       ts->nanos < 1000000000;
}

static bool ts_equal(const Google__Protobuf__Timestamp *a, const Google__Protobuf__Timestamp *b)
{
	return a && b && a->seconds == b->seconds && a->nanos == b->nanos;
}

static void shiminfo(struct run *r)
{
	ShimInfoResp *si = NULL;
	Google__Protobuf__Empty e = GOOGLE__PROTOBUF__EMPTY__INIT;

	call(r, "ShimInfo", "", &e, D_SHIMINFO_RESP, &si);
	expect_ok(r, "ShimInfo");
	assert_non_null(si);
	if ((pid_t)si->shim_pid != r->si.pid)
		fail_msg("[%s] ShimInfo shim_pid %u != launched pid %d", r->label, si->shim_pid,
			 (int)r->si.pid);
	r->shim_pid = si->shim_pid;
	FREE_MSG(si);
}

/* cshim with its failpoints (tests/tests.mk: build/tests/cshim-fp): CSHIM_FP, else next to
 * CSHIM's build/bin/cshim. */
static const char *fp_shim_path(void)
{
	static char buf[PATH_MAX];
	const char *p = getenv("CSHIM_FP"), *c = c_shim_path();
	size_t n = strlen(c), k = strlen("bin/cshim");
	if (p && *p)
		return p;
	if (n >= k && strcmp(c + n - k, "bin/cshim") == 0 && n - k + 32 < sizeof(buf)) {
		snprintf(buf, sizeof(buf), "%.*stests/cshim-fp", (int)(n - k), c);
		return buf;
	}
	return "build/tests/cshim-fp";
}

static struct run *run_begin_fp(bool is_c, const char *tag, const char *const argv[], bool fp)
{
	struct run *r = calloc(1, sizeof(*r));
	int rc, slot = -1;
	const char *bin = is_c ? (fp ? fp_shim_path() : c_shim_path()) : go_shim_path();
	char t[64];

	assert_non_null(r);
	r->is_c = is_c;
	r->label = is_c ? "cshim" : "go";
	pthread_mutex_lock(&g_runs_mu);
	for (int i = 0; i < MAX_RUNS; i++)
		if (!g_runs[i]) {
			g_runs[i] = r;
			slot = i;
			break;
		}
	pthread_mutex_unlock(&g_runs_mu);
	if (slot < 0) {
		free(r);
		fail_msg("too many runs");
	}
	snprintf(t, sizeof(t), "%s-%s", r->label, tag);
	rc = shim_prepare(&r->si, bin, t, argv);
	r->si_prepared = true;
	if (rc < 0)
		fail_msg("[%s] preparing bundle/dirs failed: %s", r->label, strerror(-rc));
	if (fp) /* only cshim-fp reads it */
		setenv("CSHIM_FP_STDIO_START", "1", 1);
	rc = shim_start(&r->si, getenv("CSHIM_IT_DEBUG") != NULL);
	unsetenv("CSHIM_FP_STDIO_START");
	if (rc < 0)
		fail_msg("[%s] starting %s failed: %s", r->label, bin, strerror(-rc));
	r->c = shimclient_connect(r->si.sock, 5000);
	if (!r->c) {
		int e = errno;
		usleep(100000);
		const char *d = shim_death(r);
		if (*d)
			fail_msg("[%s] %s exited right after start%s", r->label, r->si.shim, d);
		fail_msg("[%s] connect %s: %s", r->label, r->si.sock, strerror(e));
	}
	shiminfo(r);
	return r;
}

static struct run *run_begin(bool is_c, const char *tag, const char *const argv[])
{
	return run_begin_fp(is_c, tag, argv, false);
}

static void run_end(struct run *r)
{
	/* The shim must still be alive (nothing crashed) and the connection open. */
	if (!shim_alive(&r->si))
		fail_msg("[%s] shim exited unexpectedly%s", r->label, shim_death(r));
	if (shimclient_closed(r->c))
		fail_msg("[%s] shim closed the connection", r->label);
	if (getenv("CSHIM_IT_VERBOSE")) {
		fprintf(stdout, "---- %s transcript ----\n%s", r->label, sb_str(&r->tr));
		fflush(stdout);
	}
}

static int create(struct run *r, const char *stdout_path, const char *stderr_path)
{
	CreateReq req = CONTAINERD__RUNTIME__LINUX__SHIM__V1__CREATE_TASK_REQUEST__INIT;
	CreateResp *resp = NULL;
	int pid = 0;

	req.id = r->si.id;
	req.bundle = r->si.bundle;
	req.runtime = "runc";
	req.stdout = (char *)(stdout_path ? stdout_path : "");
	req.stderr = (char *)(stderr_path ? stderr_path : "");
	call(r, "Create", stdout_path ? "id, fifo stdout+stderr" : "id, no stdio", &req,
	     D_CREATE_RESP, &resp);
	if (r->code == 0) {
		assert_non_null(resp);
		pid = (int)resp->pid;
		if (pid <= 0)
			fail_msg("[%s] Create returned pid 0", r->label);
	}
	FREE_MSG(resp);
	return pid;
}

static StateResp *state(struct run *r, const char *id, const char *label)
{
	StateReq req = CONTAINERD__RUNTIME__LINUX__SHIM__V1__STATE_REQUEST__INIT;
	StateResp *resp = NULL;
	req.id = (char *)id;
	call(r, "State", label, &req, D_STATE_RESP, &resp);
	return resp;
}

static int kill_(struct run *r, const char *id, uint32_t sig, const char *label)
{
	KillReq req = CONTAINERD__RUNTIME__LINUX__SHIM__V1__KILL_REQUEST__INIT;
	req.id = (char *)id;
	req.signal = sig;
	return call(r, "Kill", label, &req, D_EMPTY, NULL);
}

static StartResp *start(struct run *r, const char *label)
{
	StartReq req = CONTAINERD__RUNTIME__LINUX__SHIM__V1__START_REQUEST__INIT;
	StartResp *resp = NULL;
	req.id = r->si.id;
	call(r, "Start", label, &req, D_START_RESP, &resp);
	return resp;
}

static DeleteResp *delete_(struct run *r, const char *label)
{
	Google__Protobuf__Empty e = GOOGLE__PROTOBUF__EMPTY__INIT;
	DeleteResp *resp = NULL;
	call(r, "Delete", label, &e, D_DELETE_RESP, &resp);
	return resp;
}

static int wait_bg_start(struct run *r)
{
	WaitReq req = CONTAINERD__RUNTIME__LINUX__SHIM__V1__WAIT_REQUEST__INIT;
	req.id = r->si.id;
	return bg_start(r, "Wait", &req);
}

/* Checks the recorded /tasks/exit publications: exactly `want` events by now, the last one a
 * TaskExit for the init with the given status and exited_at. Adds them to the transcript. */
static void check_exit_events(struct run *r, int want, uint32_t pid, uint32_t status,
			      const Google__Protobuf__Timestamp *exited_at)
{
	struct pub_event *ev = NULL;
	int n;
	char expect_argv[512];

	if (want > 0)
		pub_events_wait(&r->si, want, EVENT_TIMEOUT_MS);
	else
		usleep(300000); /* give a wrongly published event a chance to show up */
	n = pub_events_read(&r->si, &ev);
	assert_true(n >= 0);
	trf(r, "events: %d\n", n);
	if (n != want) {
		pub_events_free(ev, n);
		fail_msg("[%s] expected %d /tasks/exit publications, got %d (%s)", r->label, want,
			 n, r->si.events);
	}
	snprintf(expect_argv, sizeof(expect_argv),
		 "[--address] [%s] [publish] [--topic] [/tasks/exit] [--namespace] [%s]",
		 IT_GRPC_ADDRESS, IT_NAMESPACE);
	for (int i = 0; i < n; i++) {
		Google__Protobuf__Any *any;
		Containerd__Events__TaskExit *te;
		char *na = norm(r, ev[i].argv);

		trf(r, "event argv=%s ", na);
		free(na);
		if (strcmp(ev[i].argv, expect_argv) != 0) {
			char got[1024];
			snprintf(got, sizeof(got), "%s", ev[i].argv);
			pub_events_free(ev, n);
			fail_msg("[%s] publisher argv \"%s\" != \"%s\"", r->label, got,
				 expect_argv);
		}
		any = google__protobuf__any__unpack(NULL, ev[i].len, ev[i].data);
		if (!any) {
			pub_events_free(ev, n);
			fail_msg("[%s] publisher stdin is not a google.protobuf.Any", r->label);
		}
		te = containerd__events__task_exit__unpack(NULL, any->value.len, any->value.data);
		trf(r, "type_url=%s ", any->type_url);
		if (te)
			render_msg(&r->tr, r, &te->base);
		trf(r, "\n");
		bool ok = strcmp(any->type_url, "containerd.events.TaskExit") == 0 && te &&
			  strcmp(te->container_id, r->si.id) == 0 &&
			  strcmp(te->id, r->si.id) == 0 && te->pid == pid &&
			  te->exit_status == status && ts_is_recent(te->exited_at) &&
			  (!exited_at || ts_equal(te->exited_at, exited_at));
		if (te)
			containerd__events__task_exit__free_unpacked(te, NULL);
		google__protobuf__any__free_unpacked(any, NULL);
		if (!ok) {
			pub_events_free(ev, n);
			fail_msg(
				"[%s] bad TaskExit event (want pid %u status %u): see transcript:\n%s",
				r->label, pid, status, sb_str(&r->tr));
		}
	}
	pub_events_free(ev, n);
}

/* ------------------------------------------------------------------------------------------ */
/* scenarios                                                                                   */

static const char *const ARGV_ECHO[] = { "/bin/sh", "-c", "echo hi; exit 3", NULL };
static const char *const ARGV_SLEEP[] = { "/bin/sleep", "100", NULL };
static const char *const ARGV_BAD[] = { "/nonexistent", NULL };

/* ShimInfo and every lookup error before Create. */
static void scen_precreate(struct run *r)
{
	Google__Protobuf__Empty e = GOOGLE__PROTOBUF__EMPTY__INIT;
	StateResp *st;
	DeleteResp *del;

	st = state(r, "x", "x");
	expect_err(r, 5, "process x does not exist: not found");
	FREE_MSG(st);
	st = state(r, "", "\"\"");
	expect_err(r, 5, "process  does not exist: not found");
	FREE_MSG(st);
	del = delete_(r, "");
	expect_err(r, 9, "container must be created: failed precondition");
	FREE_MSG(del);
	kill_(r, "", 9, "\"\", 9");
	expect_err(r, 9, "container must be created: failed precondition");
	kill_(r, "x", 9, "x, 9");
	expect_err(r, 5, "process x does not exist: not found");
	{
		DeleteProcReq req =
			CONTAINERD__RUNTIME__LINUX__SHIM__V1__DELETE_PROCESS_REQUEST__INIT;
		req.id = "";
		call(r, "DeleteProcess", "\"\"", &req, D_DELETE_RESP, NULL);
		expect_err(r, 3, "cannot delete init process with DeleteProcess");
		req.id = "x";
		call(r, "DeleteProcess", "x", &req, D_DELETE_RESP, NULL);
		expect_err(r, 5, "process x does not exist: not found");
	}
	{
		StartReq req = CONTAINERD__RUNTIME__LINUX__SHIM__V1__START_REQUEST__INIT;
		req.id = "x";
		call(r, "Start", "x", &req, D_START_RESP, NULL);
		expect_err(r, 5, "process x does not exist: not found");
	}
	{
		WaitReq req = CONTAINERD__RUNTIME__LINUX__SHIM__V1__WAIT_REQUEST__INIT;
		req.id = "x";
		call(r, "Wait", "x", &req, D_WAIT_RESP, NULL);
		expect_err(r, 5, "process x does not exist: not found");
	}
	{
		ListPidsReq req = CONTAINERD__RUNTIME__LINUX__SHIM__V1__LIST_PIDS_REQUEST__INIT;
		req.id = "x";
		call(r, "ListPids", "x", &req, D_LISTPIDS_RESP, NULL);
		expect_err(r, 9, "container must be created: failed precondition");
	}
	call(r, "Pause", "", &e, D_EMPTY, NULL);
	expect_err(r, 9, "container must be created: failed precondition");
	call(r, "Resume", "", &e, D_EMPTY, NULL);
	expect_err(r, 9, "container must be created: failed precondition");
	{
		ResizeReq req = CONTAINERD__RUNTIME__LINUX__SHIM__V1__RESIZE_PTY_REQUEST__INIT;
		req.id = "";
		call(r, "ResizePty", "\"\"", &req, D_EMPTY, NULL);
		expect_err(r, 3, "id not provided: invalid argument");
		req.id = "x";
		req.width = 80;
		req.height = 24;
		call(r, "ResizePty", "x", &req, D_EMPTY, NULL);
		expect_err(r, 2, "process does not exist x");
	}
	{
		CloseIOReq req = CONTAINERD__RUNTIME__LINUX__SHIM__V1__CLOSE_IOREQUEST__INIT;
		req.id = "x";
		req.stdin = 1;
		call(r, "CloseIO", "x", &req, D_EMPTY, NULL);
		expect_err(r, 5, "process x does not exist: not found");
	}
	shiminfo(r);
}

static void echo_exit3(struct run *r, bool with_fifos)
{
	struct test_fifos f = { .out_fd = -1, .err_fd = -1 };
	StateResp *st;
	StartResp *sr;
	WaitResp *wr = NULL;
	DeleteResp *dr;
	int pid, wi;
	char *out = NULL, *err = NULL;

	if (with_fifos)
		assert_int_equal(fifos_make(&r->si, &f), 0);
	pid = create(r, with_fifos ? f.stdout_path : NULL, with_fifos ? f.stderr_path : NULL);
	expect_ok(r, "Create");

	/* Before Start: CREATED, pid = Create's pid, exited_at = Go zero time. */
	st = state(r, r->si.id, "id");
	expect_ok(r, "State");
	assert_string_equal(st->id, r->si.id);
	assert_string_equal(st->bundle, r->si.bundle);
	assert_int_equal(st->pid, pid);
	assert_int_equal(st->status, CONTAINERD__V1__TYPES__STATUS__CREATED);
	assert_int_equal(st->exit_status, 0);
	if (!ts_is_go_zero(st->exited_at))
		fail_msg("[%s] State.exited_at before exit is not Go zero time", r->label);
	assert_string_equal(st->stdout, with_fifos ? f.stdout_path : "");
	assert_string_equal(st->stderr, with_fifos ? f.stderr_path : "");
	assert_string_equal(st->stdin, "");
	assert_false(st->terminal);
	FREE_MSG(st);

	wi = wait_bg_start(r);
	sr = start(r, "id");
	expect_ok(r, "Start");
	assert_string_equal(sr->id, r->si.id);
	assert_int_equal(sr->pid, pid);
	FREE_MSG(sr);

	bg_join(r, wi, "id", D_WAIT_RESP, &wr);
	expect_ok(r, "Wait");
	assert_int_equal(wr->exit_status, 3);
	if (!ts_is_recent(wr->exited_at))
		fail_msg("[%s] Wait.exited_at is not a recent time", r->label);

	st = state(r, r->si.id, "id");
	expect_ok(r, "State");
	assert_int_equal(st->status, CONTAINERD__V1__TYPES__STATUS__STOPPED);
	assert_int_equal(st->exit_status, 3);
	assert_int_equal(st->pid, pid);
	if (!ts_equal(st->exited_at, wr->exited_at))
		fail_msg("[%s] State.exited_at != Wait.exited_at", r->label);
	FREE_MSG(st);

	if (with_fifos) {
		out = fifo_read_all(f.out_fd, 5000);
		err = fifo_read_all(f.err_fd, 5000);
		trf(r, "stdout fifo: \"%s\" stderr fifo: \"%s\"\n", out ? out : "(null)",
		    err ? err : "(null)");
		bool ok = out && strcmp(out, "hi\n") == 0 && err && err[0] == '\0';
		free(out);
		free(err);
		fifos_close(&f);
		if (!ok)
			fail_msg("[%s] unexpected container output on the FIFOs", r->label);
	}

	check_exit_events(r, 1, (uint32_t)pid, 3, wr->exited_at);

	dr = delete_(r, "");
	expect_ok(r, "Delete");
	assert_int_equal(dr->pid, pid);
	assert_int_equal(dr->exit_status, 3);
	if (!ts_equal(dr->exited_at, wr->exited_at))
		fail_msg("[%s] Delete.exited_at != Wait.exited_at", r->label);
	FREE_MSG(dr);
	FREE_MSG(wr);

	st = state(r, r->si.id, "id");
	{
		char m[128];
		snprintf(m, sizeof(m), "process %s does not exist: not found", r->si.id);
		expect_err(r, 5, m);
	}
	FREE_MSG(st);
	dr = delete_(r, "again");
	expect_err(r, 9, "container must be created: failed precondition");
	FREE_MSG(dr);
	check_exit_events(r, 1, (uint32_t)pid, 3, NULL);
	fifos_close(&f);
}

static void scen_echo_nostdio(struct run *r)
{
	echo_exit3(r, false);
}

static void scen_echo_fifo(struct run *r)
{
	echo_exit3(r, true);
}

static void scen_sleep(struct run *r)
{
	StateResp *st;
	StartResp *sr;
	WaitResp *wr = NULL;
	DeleteResp *dr;
	ListPidsResp *lp = NULL;
	int pid, wi;

	pid = create(r, NULL, NULL);
	expect_ok(r, "Create");
	sr = start(r, "id");
	expect_ok(r, "Start");
	assert_int_equal(sr->pid, pid);
	FREE_MSG(sr);
	wi = wait_bg_start(r);

	sr = start(r, "id again");
	expect_err(r, 2, "cannot start a running process");
	FREE_MSG(sr);
	dr = delete_(r, "running");
	expect_err(r, 2, "cannot delete a running process");
	FREE_MSG(dr);
	{
		DeleteProcReq req =
			CONTAINERD__RUNTIME__LINUX__SHIM__V1__DELETE_PROCESS_REQUEST__INIT;
		req.id = r->si.id;
		call(r, "DeleteProcess", "id", &req, D_DELETE_RESP, NULL);
		expect_err(r, 3, "cannot delete init process with DeleteProcess");
	}

	st = state(r, r->si.id, "id");
	expect_ok(r, "State");
	assert_int_equal(st->status, CONTAINERD__V1__TYPES__STATUS__RUNNING);
	assert_int_equal(st->pid, pid);
	if (!ts_is_go_zero(st->exited_at))
		fail_msg("[%s] State.exited_at while running is not Go zero time", r->label);
	FREE_MSG(st);

	{
		ListPidsReq req = CONTAINERD__RUNTIME__LINUX__SHIM__V1__LIST_PIDS_REQUEST__INIT;
		bool found = false;
		req.id = r->si.id;
		call(r, "ListPids", "id", &req, D_LISTPIDS_RESP, &lp);
		expect_ok(r, "ListPids");
		for (size_t i = 0; i < lp->n_processes; i++) {
			Containerd__V1__Types__ProcessInfo *pi = lp->processes[i];
			if ((int)pi->pid != pid)
				continue;
			found = true;
			assert_non_null(pi->info);
			assert_string_equal(pi->info->type_url,
					    "containerd.linux.runc.ProcessDetails");
			Containerd__Linux__Runc__ProcessDetails *pd =
				containerd__linux__runc__process_details__unpack(
					NULL, pi->info->value.len, pi->info->value.data);
			assert_non_null(pd);
			bool ok = strcmp(pd->exec_id, r->si.id) == 0;
			containerd__linux__runc__process_details__free_unpacked(pd, NULL);
			if (!ok)
				fail_msg("[%s] ProcessDetails.exec_id is not the container id",
					 r->label);
		}
		FREE_MSG(lp);
		if (!found)
			fail_msg("[%s] ListPids does not contain the init pid %d", r->label, pid);
	}

	/* The Wait is still in flight on the same connection. */
	bg_expect_pending(r, wi, "container running");

	/* Successful Empty response = zero-length frame, type 2, flags 0, no status. */
	{
		KillReq req = CONTAINERD__RUNTIME__LINUX__SHIM__V1__KILL_REQUEST__INIT;
		struct shimclient_reply rep;
		req.id = r->si.id;
		req.signal = 9;
		assert_int_equal(shimclient_call_ex(r->c, SHIM_SERVICE, "Kill", &req.base,
						    CALL_TIMEOUT_MS, &rep),
				 0);
		trf(r,
		    "Kill(id, 9) -> code=%d msg=\"%s\" frame_len=%u type=%u flags=%u status=%s\n",
		    rep.code, rep.msg, rep.frame_len, rep.type, rep.flags,
		    rep.has_status ? "present" : "absent");
		bool ok = rep.code == 0 && rep.frame_len == 0 && rep.type == 2 && rep.flags == 0 &&
			  !rep.has_status;
		shimclient_reply_free(&rep);
		if (!ok)
			fail_msg("[%s] Kill success is not a zero-length type-2 frame", r->label);
	}

	bg_join(r, wi, "id", D_WAIT_RESP, &wr);
	expect_ok(r, "Wait");
	assert_int_equal(wr->exit_status, 137);
	if (!ts_is_recent(wr->exited_at))
		fail_msg("[%s] Wait.exited_at is not a recent time", r->label);

	kill_(r, r->si.id, 9, "id, 9 again");
	expect_err(r, 5, "process already finished: not found");

	st = state(r, r->si.id, "id");
	expect_ok(r, "State");
	assert_int_equal(st->status, CONTAINERD__V1__TYPES__STATUS__STOPPED);
	assert_int_equal(st->exit_status, 137);
	FREE_MSG(st);

	check_exit_events(r, 1, (uint32_t)pid, 137, wr->exited_at);

	dr = delete_(r, "");
	expect_ok(r, "Delete");
	assert_int_equal(dr->pid, pid);
	assert_int_equal(dr->exit_status, 137);
	FREE_MSG(dr);
	FREE_MSG(wr);
	st = state(r, r->si.id, "id");
	assert_int_equal(r->code, 5);
	FREE_MSG(st);
}

static void scen_kill_created(struct run *r)
{
	StateResp *st;
	StartResp *sr;
	WaitResp *wr = NULL;
	DeleteResp *dr;
	int pid, wi;

	pid = create(r, NULL, NULL);
	expect_ok(r, "Create");
	wi = wait_bg_start(r);
	usleep(100000);
	bg_expect_pending(r, wi, "container created, not started");
	kill_(r, r->si.id, 9, "id, 9");
	expect_ok(r, "Kill");
	bg_join(r, wi, "id", D_WAIT_RESP, &wr);
	expect_ok(r, "Wait");
	assert_int_equal(wr->exit_status, 137);

	st = state(r, r->si.id, "id");
	expect_ok(r, "State");
	assert_int_equal(st->status, CONTAINERD__V1__TYPES__STATUS__STOPPED);
	assert_int_equal(st->exit_status, 137);
	assert_int_equal(st->pid, pid);
	FREE_MSG(st);

	sr = start(r, "id");
	expect_err(r, 2, "cannot start a stopped process");
	FREE_MSG(sr);

	check_exit_events(r, 1, (uint32_t)pid, 137, wr->exited_at);
	FREE_MSG(wr);

	dr = delete_(r, "");
	expect_ok(r, "Delete");
	assert_int_equal(dr->pid, pid);
	assert_int_equal(dr->exit_status, 137);
	FREE_MSG(dr);
}

static void scen_bad_command(struct run *r)
{
	StateResp *st;
	DeleteResp *dr;
	const char *prefix = "OCI runtime create failed:";

	create(r, NULL, NULL);
	if (r->code != 2 || strncmp(r->msg, prefix, strlen(prefix)) != 0)
		fail_msg("[%s] Create of /nonexistent: expected code 2 \"%s ...\", got %d \"%s\"",
			 r->label, prefix, r->code, r->msg);
	/* containerd's reaction to a failed Create: ShimInfo, then SIGKILL. */
	shiminfo(r);
	st = state(r, r->si.id, "id");
	{
		char m[128];
		snprintf(m, sizeof(m), "process %s does not exist: not found", r->si.id);
		expect_err(r, 5, m);
	}
	FREE_MSG(st);
	dr = delete_(r, "");
	expect_err(r, 9, "container must be created: failed precondition");
	FREE_MSG(dr);
	check_exit_events(r, 0, 0, 0, NULL);
}

/* An exec whose stdin is a FIFO and whose stdout+stderr are one file:// target (ctr exec
 * --log-uri): what the client writes reaches the process (cat), whose output lands in the
 * file. The Go shim copies stdin whatever the stdout scheme (containerd's copyPipes). */
static void scen_stdin_file_uri(struct run *r)
{
	typedef Containerd__Runtime__Linux__Shim__V1__ExecProcessRequest ExecReq;
	static const char spec[] = "{\"args\":[\"/bin/cat\"],\"env\":[\"PATH=/bin\"],\"cwd\":\"/\","
				   "\"user\":{\"uid\":0,\"gid\":0},\"terminal\":false}";
	char in[PATH_MAX + 16], out[PATH_MAX + 16], uri[PATH_MAX + 32];
	ExecReq xr = CONTAINERD__RUNTIME__LINUX__SHIM__V1__EXEC_PROCESS_REQUEST__INIT;
	Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
	StateResp *st;
	StartResp *sr;
	WaitResp *wr = NULL;
	int w = -1;
	char *text = NULL;

	snprintf(in, sizeof(in), "%s/cat-stdin", r->si.dir);
	snprintf(out, sizeof(out), "%s/logs/cat.log", r->si.dir); /* logs/ made by the shim */
	snprintf(uri, sizeof(uri), "file://%s", out);
	assert_int_equal(mkfifo(in, 0700), 0);
	create(r, NULL, NULL);
	expect_ok(r, "Create");
	sr = start(r, "id");
	expect_ok(r, "Start");
	FREE_MSG(sr);

	any.type_url = "types.containerd.io/opencontainers/runtime-spec/1/Process";
	any.value.data = (uint8_t *)spec;
	any.value.len = strlen(spec);
	xr.id = "cat";
	xr.stdin = in;
	xr.stdout = uri;
	xr.stderr = uri;
	xr.spec = &any;
	call(r, "Exec", "cat, stdin fifo, file:// stdout+stderr", &xr, D_EMPTY, NULL);
	expect_ok(r, "Exec");
	{
		StartReq req = CONTAINERD__RUNTIME__LINUX__SHIM__V1__START_REQUEST__INIT;
		req.id = "cat";
		call(r, "Start", "cat", &req, D_START_RESP, &sr);
		expect_ok(r, "Start cat");
		FREE_MSG(sr);
	}
	st = state(r, "cat", "cat");
	expect_ok(r, "State cat");
	assert_int_equal(st->status, CONTAINERD__V1__TYPES__STATUS__RUNNING);
	assert_string_equal(st->stdin, in);
	assert_string_equal(st->stdout, uri);
	FREE_MSG(st);

	/* The shim reads the FIFO: a non-blocking writer open succeeds once it does (ENXIO
	 * while nobody reads it). The bound only guards against a hang. */
	for (int i = 0; i < 2000 && w < 0; i++) {
		w = open(in, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
		if (w < 0 && errno != ENXIO)
			fail_msg("[%s] open %s: %s", r->label, in, strerror(errno));
		if (w < 0)
			usleep(10000);
	}
	if (w < 0)
		fail_msg("[%s] the shim never opened the stdin FIFO of a file:// exec", r->label);
	trf(r, "stdin fifo: a reader is there\n");
	assert_int_equal(write(w, "hello via stdin\n", 16), 16);
	close(w);
	{
		CloseIOReq req = CONTAINERD__RUNTIME__LINUX__SHIM__V1__CLOSE_IOREQUEST__INIT;
		req.id = "cat";
		req.stdin = 1;
		call(r, "CloseIO", "cat, stdin", &req, D_EMPTY, NULL);
		expect_ok(r, "CloseIO cat");
	}
	{
		WaitReq req = CONTAINERD__RUNTIME__LINUX__SHIM__V1__WAIT_REQUEST__INIT;
		req.id = "cat";
		call(r, "Wait", "cat", &req, D_WAIT_RESP, &wr);
		expect_ok(r, "Wait cat");
		assert_int_equal(wr->exit_status, 0);
		FREE_MSG(wr);
	}
	/* the copy into the file may end just after the exit: read until the line is there */
	for (int i = 0; i < 2000; i++) {
		free(text);
		text = it_read_file(out, NULL);
		if (text && strstr(text, "\n"))
			break;
		usleep(10000);
	}
	trf(r, "file:// content: \"%s\"\n", text ? text : "(none)");
	if (!text || strcmp(text, "hello via stdin\n") != 0)
		fail_msg("[%s] file:// target holds \"%s\", want what was written to stdin",
			 r->label, text ? text : "(none)");
	free(text);
	{
		DeleteProcReq req =
			CONTAINERD__RUNTIME__LINUX__SHIM__V1__DELETE_PROCESS_REQUEST__INIT;
		req.id = "cat";
		call(r, "DeleteProcess", "cat", &req, D_DELETE_RESP, NULL);
		expect_ok(r, "DeleteProcess cat");
	}
	wr = NULL;
	int wi = wait_bg_start(r);
	kill_(r, r->si.id, 9, "id, 9");
	expect_ok(r, "Kill");
	bg_join(r, wi, "id", D_WAIT_RESP, &wr);
	expect_ok(r, "Wait");
	FREE_MSG(wr);
	DeleteResp *dr = delete_(r, "");
	expect_ok(r, "Delete");
	FREE_MSG(dr);
}

/*
 * Stdio that fails to start after the runtime ran. The Go shim opens its stdout target only
 * then (copyPipes): a stdout path that does not exist fails it. cshim opens every path before
 * the runtime runs (that fails earlier, with nothing created), so its run is cshim-fp with
 * CSHIM_FP_STDIO_START (the last copy fails to start, ENOMEM) and valid FIFOs. Both must
 * answer UNKNOWN "failed to start io pipe copy: unable to copy pipes: ..." (the transcript
 * holds the code and that prefix; the cause differs by construction) and leave the state as
 * the Go shim leaves it. cshim must leave nothing behind (the Go shim leaves the runc
 * container and its process: docs/v1-protocol.md §8.4): no runc container, no process, no fd.
 */
#define IO_START_PREFIX "failed to start io pipe copy: unable to copy pipes: "

/* One call recorded as its code and, on error, whether the message has the prefix. */
static int call_prefix(struct run *r, const char *method, const char *args, const void *req,
		       const ProtobufCMessageDescriptor *rdesc, const char *prefix)
{
	ProtobufCMessage *resp = NULL;
	int code = -1, rc;
	char *msg = NULL;

	rc = shimclient_call(r->c, method, req, rdesc, &resp, &code, &msg, CREATE_TIMEOUT_MS);
	if (rc < 0)
		fail_msg("[%s] %s(%s): transport error %d (%s)%s", r->label, method, args, rc,
			 strerror(-rc), shim_death(r));
	bool has = msg && strncmp(msg, prefix, strlen(prefix)) == 0;
	trf(r, "%s(%s) -> code=%d msg=\"%s...\"\n", method, args, code, has ? prefix : "(other)");
	print_message("[%s] %s(%s): code %d \"%s\"\n", r->label, method, args, code,
		      msg ? msg : "");
	if (resp)
		protobuf_c_message_free_unpacked(resp, NULL);
	free(r->msg);
	r->msg = msg;
	r->code = code;
	return code;
}

/* The stdout/stderr targets of this run, the same paths for both shims: in a directory that
 * does not exist (Go), or FIFOs there (cshim-fp; the shim opens them read-write). */
static void failing_stdio(struct run *r, char *out, char *err, size_t n)
{
	char d[PATH_MAX + 16];
	snprintf(d, sizeof(d), "%s/io", r->si.dir);
	snprintf(out, n, "%s/stdout", d);
	snprintf(err, n, "%s/stderr", d);
	if (r->is_c) {
		assert_int_equal(mkdir(d, 0700), 0);
		assert_int_equal(mkfifo(out, 0700), 0);
		assert_int_equal(mkfifo(err, 0700), 0);
	}
}

/* runc containers in the shim's runtime root (runc --root DIR/runc/NS list -q). */
static int runc_containers(struct run *r, char *names, size_t n)
{
	char root[PATH_MAX + 64];
	char *out = NULL;
	int count = 0;
	snprintf(root, sizeof(root), "%s/%s", r->si.runtime_root, IT_NAMESPACE);
	const char *argv[] = { "/usr/sbin/runc", "--root", root, "list", "-q", NULL };
	int st = it_run(argv, 10000, &out);
	names[0] = '\0';
	if (st < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		free(out);
		return 0; /* no root: none */
	}
	for (char *t = strtok(out, "\n"); t; t = strtok(NULL, "\n")) {
		count++;
		snprintf(names + strlen(names), n - strlen(names), "%s ", t);
	}
	free(out);
	return count;
}

static int shim_fds(struct run *r)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)r->si.pid);
	DIR *d = opendir(path);
	struct dirent *de;
	int n = 0;
	if (!d)
		return -1;
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

/* The shim's children, by their /proc/PID/stat ppid (a hang guard: they may still be going). */
static int shim_children(struct run *r, int want)
{
	int n = 0;
	for (int i = 0; i < 2000; i++) {
		DIR *d = opendir("/proc");
		struct dirent *de;
		n = 0;
		while (d && (de = readdir(d))) {
			char path[300], buf[512];
			int pid = atoi(de->d_name), ppid = 0;
			if (pid <= 0)
				continue;
			snprintf(path, sizeof(path), "/proc/%d/stat", pid);
			FILE *fp = fopen(path, "r");
			if (!fp)
				continue;
			size_t k = fread(buf, 1, sizeof(buf) - 1, fp);
			fclose(fp);
			buf[k] = '\0';
			char *rp = strrchr(buf, ')');
			if (rp && sscanf(rp + 2, "%*c %d", &ppid) == 1 && ppid == r->si.pid)
				n++;
		}
		if (d)
			closedir(d);
		if (n == want)
			break;
		usleep(10000);
	}
	return n;
}

static void scen_create_io_fails(struct run *r)
{
	char out[PATH_MAX + 32], err[PATH_MAX + 32], names[512];
	CreateReq req = CONTAINERD__RUNTIME__LINUX__SHIM__V1__CREATE_TASK_REQUEST__INIT;
	StateResp *st;
	DeleteResp *dr;
	int fds0 = 0, fds1 = 0;

	failing_stdio(r, out, err, sizeof(out));
	req.id = r->si.id;
	req.bundle = r->si.bundle;
	req.runtime = "runc";
	req.stdout = out;
	req.stderr = err;
	if (r->is_c)
		fds0 = shim_fds(r);
	call_prefix(r, "Create", "id, stdio that fails to start", &req, D_CREATE_RESP,
		    IO_START_PREFIX);
	if (r->code != 2 || !r->msg || strncmp(r->msg, IO_START_PREFIX, strlen(IO_START_PREFIX)))
		fail_msg("[%s] Create whose stdio fails to start: want code 2 \"%s...\", got %d "
			 "\"%s\"",
			 r->label, IO_START_PREFIX, r->code, r->msg ? r->msg : "");
	st = state(r, r->si.id, "id");
	{
		char m[128];
		snprintf(m, sizeof(m), "process %s does not exist: not found", r->si.id);
		expect_err(r, 5, m);
	}
	FREE_MSG(st);
	dr = delete_(r, "");
	expect_err(r, 9, "container must be created: failed precondition");
	FREE_MSG(dr);
	shiminfo(r);
	check_exit_events(r, 0, 0, 0, NULL);

	int left = runc_containers(r, names, sizeof(names));
	print_message("[%s] runc containers after the failed Create: %d %s\n", r->label, left,
		      names);
	if (!r->is_c) {
		/* what the Go shim left (docs/v1-protocol.md §8.4): its runc init, by pid file */
		char pf[PATH_MAX + 16], *txt;
		snprintf(pf, sizeof(pf), "%s/init.pid", r->si.bundle);
		txt = it_read_file(pf, NULL);
		int ipid = txt ? atoi(txt) : 0;
		free(txt);
		if (ipid > 0 && kill(ipid, SIGKILL) == 0) {
			/* gone once the Go shim reaped it (after the shim is killed, nobody
			 * here would); the bound is a hang guard */
			char sp[64];
			struct stat sb;
			snprintf(sp, sizeof(sp), "/proc/%d", ipid);
			for (int i = 0; i < 2000 && stat(sp, &sb) == 0; i++)
				usleep(10000);
		}
	}
	if (r->is_c) {
		/* nothing behind: no runc container, no child, the fds of before */
		if (left != 0)
			fail_msg("[cshim] the failed Create left runc container(s): %s", names);
		int kids = shim_children(r, 0);
		if (kids != 0)
			fail_msg("[cshim] the failed Create left %d child process(es)", kids);
		for (int i = 0; i < 2000 && (fds1 = shim_fds(r)) != fds0; i++)
			usleep(10000);
		if (fds1 != fds0)
			fail_msg("[cshim] %d fds open before the failed Create, %d after", fds0,
				 fds1);
	}
}

static void scen_exec_io_fails(struct run *r)
{
	typedef Containerd__Runtime__Linux__Shim__V1__ExecProcessRequest ExecReq;
	static const char spec[] =
		"{\"args\":[\"/bin/sleep\",\"1000\"],\"env\":[\"PATH=/bin\"],\"cwd\":\"/\","
		"\"user\":{\"uid\":0,\"gid\":0},\"terminal\":false}";
	char out[PATH_MAX + 32], err[PATH_MAX + 32];
	ExecReq xr = CONTAINERD__RUNTIME__LINUX__SHIM__V1__EXEC_PROCESS_REQUEST__INIT;
	Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
	StartReq sreq = CONTAINERD__RUNTIME__LINUX__SHIM__V1__START_REQUEST__INIT;
	StateResp *st;
	StartResp *sr;
	WaitResp *wr = NULL;
	DeleteResp *dr;
	int pid, fds0 = 0, fds1 = 0;

	pid = create(r, NULL, NULL);
	expect_ok(r, "Create");
	sr = start(r, "id");
	expect_ok(r, "Start");
	FREE_MSG(sr);

	failing_stdio(r, out, err, sizeof(out));
	any.type_url = "types.containerd.io/opencontainers/runtime-spec/1/Process";
	any.value.data = (uint8_t *)spec;
	any.value.len = strlen(spec);
	xr.id = "x";
	xr.stdout = out;
	xr.stderr = err;
	xr.spec = &any;
	call(r, "Exec", "x, stdio that fails to start", &xr, D_EMPTY, NULL);
	expect_ok(r, "Exec");
	if (r->is_c)
		fds0 = shim_fds(r);
	sreq.id = "x";
	call_prefix(r, "Start", "x", &sreq, D_START_RESP, IO_START_PREFIX);
	if (r->code != 2 || !r->msg || strncmp(r->msg, IO_START_PREFIX, strlen(IO_START_PREFIX)))
		fail_msg("[%s] Start of an exec whose stdio fails to start: want code 2 \"%s...\", "
			 "got %d \"%s\"",
			 r->label, IO_START_PREFIX, r->code, r->msg ? r->msg : "");
	/* as the Go shim leaves it: created, no pid */
	st = state(r, "x", "x");
	expect_ok(r, "State x");
	assert_int_equal(st->status, CONTAINERD__V1__TYPES__STATUS__CREATED);
	assert_int_equal(st->pid, 0);
	FREE_MSG(st);
	if (r->is_c) {
		/* nothing behind: the exec's process is gone (the init is the only child),
		 * the fds of before */
		/* its Wait is released as for any failed start (the Go shim's hangs: App. C.2) */
		WaitReq wq = CONTAINERD__RUNTIME__LINUX__SHIM__V1__WAIT_REQUEST__INIT;
		ProtobufCMessage *wresp = NULL;
		int wcode = -1;
		char *wmsg = NULL;
		wq.id = "x";
		int wrc = shimclient_call(r->c, "Wait", &wq.base, D_WAIT_RESP, &wresp, &wcode,
					  &wmsg, WAIT_TIMEOUT_MS);
		free(wmsg);
		if (wresp)
			protobuf_c_message_free_unpacked(wresp, NULL);
		if (wrc < 0 || wcode != 0)
			fail_msg("[cshim] Wait of the exec whose start failed: rc %d code %d", wrc,
				 wcode);
		int kids = shim_children(r, 1);
		if (kids != 1)
			fail_msg("[cshim] %d children after the failed exec Start (the init only "
				 "expected)",
				 kids);
		for (int i = 0; i < 2000 && (fds1 = shim_fds(r)) != fds0; i++)
			usleep(10000);
		if (fds1 != fds0)
			fail_msg("[cshim] %d fds open before the failed exec Start, %d after", fds0,
				 fds1);
	}
	/* The same with a terminal: the console copy fails (Go: its stdout cannot be opened). */
	{
		static const char tspec[] =
			"{\"args\":[\"/bin/sleep\",\"1000\"],\"env\":[\"PATH=/bin\"],\"cwd\":\"/\","
			"\"user\":{\"uid\":0,\"gid\":0},\"terminal\":true}";
		const char *cprefix = "failed to start console copy: ";
		any.value.data = (uint8_t *)tspec;
		any.value.len = strlen(tspec);
		xr.id = "t";
		xr.terminal = 1;
		xr.stderr = "";
		call(r, "Exec", "t, terminal, stdout that fails to start", &xr, D_EMPTY, NULL);
		expect_ok(r, "Exec t");
		if (r->is_c)
			fds0 = shim_fds(r);
		sreq.id = "t";
		call_prefix(r, "Start", "t", &sreq, D_START_RESP, cprefix);
		if (r->code != 2 || !r->msg || strncmp(r->msg, cprefix, strlen(cprefix)))
			fail_msg(
				"[%s] Start of a terminal exec whose console copy fails: want code 2 "
				"\"%s...\", got %d \"%s\"",
				r->label, cprefix, r->code, r->msg ? r->msg : "");
		st = state(r, "t", "t");
		expect_ok(r, "State t");
		assert_int_equal(st->status, CONTAINERD__V1__TYPES__STATUS__CREATED);
		assert_int_equal(st->pid, 0);
		FREE_MSG(st);
		if (r->is_c) {
			int kids = shim_children(r, 1);
			if (kids != 1)
				fail_msg("[cshim] %d children after the failed terminal exec Start",
					 kids);
			for (int k = 0; k < 2000 && (fds1 = shim_fds(r)) != fds0; k++)
				usleep(10000);
			if (fds1 != fds0)
				fail_msg(
					"[cshim] %d fds open before the failed terminal exec Start, %d "
					"after",
					fds0, fds1);
		}
		DeleteProcReq req =
			CONTAINERD__RUNTIME__LINUX__SHIM__V1__DELETE_PROCESS_REQUEST__INIT;
		req.id = "t";
		call(r, "DeleteProcess", "t", &req, D_DELETE_RESP, NULL);
	}
	{
		DeleteProcReq req =
			CONTAINERD__RUNTIME__LINUX__SHIM__V1__DELETE_PROCESS_REQUEST__INIT;
		req.id = "x";
		call(r, "DeleteProcess", "x", &req, D_DELETE_RESP, NULL);
	}
	int wi = wait_bg_start(r);
	kill_(r, r->si.id, 9, "id, 9");
	expect_ok(r, "Kill");
	bg_join(r, wi, "id", D_WAIT_RESP, &wr);
	expect_ok(r, "Wait");
	assert_int_equal(wr->exit_status, 137);
	FREE_MSG(wr);
	dr = delete_(r, "");
	expect_ok(r, "Delete");
	assert_int_equal(dr->pid, pid);
	FREE_MSG(dr);
}

/* Records one raw reply line and checks the generic frame invariants. */
static void wire_record(struct run *r, const char *what, int rc, const struct shimclient_reply *rep,
			uint32_t want_stream)
{
	if (rc < 0)
		fail_msg("[%s] wire %s: transport error %d (%s)%s", r->label, what, rc,
			 strerror(-rc), shim_death(r));
	char *nm = norm(r, rep->msg);
	trf(r, "wire %s -> stream=%s type=%u flags=%u code=%d msg=\"%s\" status=%s payload=%s\n",
	    what, rep->stream == want_stream ? "same" : "OTHER", rep->type, rep->flags, rep->code,
	    nm, rep->has_status ? "present" : "absent", rep->plen ? "non-empty" : "empty");
	free(nm);
	if (rep->stream != want_stream || rep->type != 2 || rep->flags != 0)
		fail_msg("[%s] wire %s: reply stream %u (want %u) type %u flags %u", r->label, what,
			 rep->stream, want_stream, rep->type, rep->flags);
	if (rep->code != 0 && (!rep->has_status || rep->plen != 0))
		fail_msg("[%s] wire %s: error reply must carry a status and no payload", r->label,
			 what);
	if (rep->code == 0 && rep->has_status)
		fail_msg("[%s] wire %s: success reply carries a status", r->label, what);
	r->code = rep->code;
	free(r->msg);
	r->msg = strdup(rep->msg ? rep->msg : "");
}

static int raw_request(struct run *r, uint32_t stream, uint8_t type, uint8_t flags,
		       const char *service, const char *method, const uint8_t *payload, size_t plen)
{
	uint8_t *frame = NULL;
	size_t flen = 0;
	int rc = ttrpc_request_frame(stream, service, method, payload, plen, 0, &frame, &flen);
	assert_int_equal(rc, 0);
	frame[8] = type;
	frame[9] = flags;
	rc = shimclient_send_raw(r->c, frame, flen);
	free(frame);
	return rc;
}

static int recv_reply(struct run *r, uint32_t stream, int timeout_ms, struct shimclient_reply *rep)
{
	struct ttrpc_hdr h;
	uint8_t *body = NULL;
	int rc = shimclient_recv_frame(r->c, stream, timeout_ms, &h, &body);
	if (rc < 0) {
		memset(rep, 0, sizeof(*rep));
		return rc;
	}
	rc = shimclient_decode_reply(&h, body, rep);
	free(body);
	return rc;
}

static void expect_shiminfo_payload(struct run *r, const struct shimclient_reply *rep)
{
	ShimInfoResp *si = containerd__runtime__linux__shim__v1__shim_info_response__unpack(
		NULL, rep->plen, rep->payload);
	assert_non_null(si);
	if (si->shim_pid != r->shim_pid)
		fail_msg("[%s] ShimInfo pid mismatch", r->label);
	containerd__runtime__linux__shim__v1__shim_info_response__free_unpacked(si, NULL);
}

static void scen_wire(struct run *r)
{
	struct shimclient_reply rep;
	uint32_t s;
	int rc;
	/* StateRequest{id: <16 bytes>} truncated after 3 bytes: "unexpected EOF" for Go. */
	static const uint8_t trunc[] = { 0x0a, 0x10, 'f', 'o', 'o' };

	/* unknown service / method */
	s = shimclient_next_stream(r->c);
	rc = shimclient_call_bytes(r->c, s, "foo.Bar", "Nope", NULL, 0, CALL_TIMEOUT_MS, &rep);
	wire_record(r, "unknown-service", rc, &rep, s);
	shimclient_reply_free(&rep);
	expect_err(r, 12, "service foo.Bar");

	s = shimclient_next_stream(r->c);
	rc = shimclient_call_bytes(r->c, s, SHIM_SERVICE, "Nope", NULL, 0, CALL_TIMEOUT_MS, &rep);
	wire_record(r, "unknown-method", rc, &rep, s);
	shimclient_reply_free(&rep);
	expect_err(r, 12, "method Nope");

	/* even stream id: answered on that even id */
	rc = shimclient_call_bytes(r->c, 2, SHIM_SERVICE, "ShimInfo", NULL, 0, CALL_TIMEOUT_MS,
				   &rep);
	wire_record(r, "even-stream", rc, &rep, 2);
	shimclient_reply_free(&rep);
	expect_err(r, 3, "StreamID must be odd for client initiated streams");

	/* undecodable ttrpc.Request (odd and even id: decode is checked before parity) */
	{
		struct ttrpc_hdr h = { .len = sizeof(trunc), .type = 1 };
		h.stream = s = shimclient_next_stream(r->c);
		assert_int_equal(shimclient_send_frame(r->c, &h, trunc, sizeof(trunc), 0), 0);
		rc = recv_reply(r, s, CALL_TIMEOUT_MS, &rep);
		wire_record(r, "garbage-request", rc, &rep, s);
		shimclient_reply_free(&rep);
		expect_err(r, 3, "unmarshal request error: unexpected EOF");

		h.stream = 4;
		assert_int_equal(shimclient_send_frame(r->c, &h, trunc, sizeof(trunc), 0), 0);
		rc = recv_reply(r, 4, CALL_TIMEOUT_MS, &rep);
		wire_record(r, "garbage-request-even-stream", rc, &rep, 4);
		shimclient_reply_free(&rep);
		expect_err(r, 3, "unmarshal request error: unexpected EOF");
	}

	/* payload undecodable as StateRequest */
	s = shimclient_next_stream(r->c);
	rc = shimclient_call_bytes(r->c, s, SHIM_SERVICE, "State", trunc, sizeof(trunc),
				   CALL_TIMEOUT_MS, &rep);
	wire_record(r, "bad-payload", rc, &rep, s);
	shimclient_reply_free(&rep);
	expect_err(r, 13, "ttrpc: error unmarshalling payload: unexpected EOF");

	/* oversized frame: discarded, RESOURCE_EXHAUSTED on its stream, connection usable */
	{
		struct ttrpc_hdr h = { .len = MAX_MSG + 1, .type = 1 };
		h.stream = s = shimclient_next_stream(r->c);
		assert_int_equal(shimclient_send_frame(r->c, &h, NULL, 0, 0), 0);
		rc = recv_reply(r, s, CALL_TIMEOUT_MS, &rep);
		wire_record(r, "length-4194305", rc, &rep, s);
		shimclient_reply_free(&rep);
		expect_err(r, 8, "message length 4194305 exceed maximum message size of 4194304");
		shiminfo(r);
	}

	/* exactly 4 MiB: a valid ShimInfo Request padded with an unknown field (15) */
	{
		Ttrpc__Request req = TTRPC__REQUEST__INIT;
		size_t base, pad_total, L;
		uint8_t *body = malloc(MAX_MSG);
		struct ttrpc_hdr h = { .len = MAX_MSG, .type = 1 };

		assert_non_null(body);
		req.service = SHIM_SERVICE;
		req.method = "ShimInfo";
		base = ttrpc__request__pack(&req, body);
		pad_total = MAX_MSG - base;
		L = pad_total - 5; /* tag (1 byte) + 4-byte varint length */
		uint8_t *p = body + base;
		*p++ = (15 << 3) | 2;
		*p++ = (uint8_t)(0x80 | (L & 0x7f));
		*p++ = (uint8_t)(0x80 | ((L >> 7) & 0x7f));
		*p++ = (uint8_t)(0x80 | ((L >> 14) & 0x7f));
		*p++ = (uint8_t)((L >> 21) & 0x7f);
		memset(p, 'p', L);
		assert_true((size_t)(p + L - body) == MAX_MSG);
		h.stream = s = shimclient_next_stream(r->c);
		rc = shimclient_send_frame(r->c, &h, body, MAX_MSG, 0);
		free(body);
		assert_int_equal(rc, 0);
		rc = recv_reply(r, s, CALL_TIMEOUT_MS, &rep);
		wire_record(r, "length-4194304", rc, &rep, s);
		if (rep.code == 8)
			fail_msg("[%s] a 4 MiB frame must be accepted", r->label);
		if (rep.code == 0)
			expect_shiminfo_payload(r, &rep);
		shimclient_reply_free(&rep);
	}

	/* type 3 gets no reply; the connection still works */
	s = shimclient_next_stream(r->c);
	assert_int_equal(raw_request(r, s, 3, 0, SHIM_SERVICE, "ShimInfo", NULL, 0), 0);
	shiminfo(r);
	rc = recv_reply(r, s, 300, &rep);
	trf(r, "wire type-3 -> %s\n", rc == -ETIMEDOUT ? "no reply" : "REPLY");
	shimclient_reply_free(&rep);
	if (rc != -ETIMEDOUT)
		fail_msg("[%s] a type-3 frame got a reply (rc %d)", r->label, rc);

	/* flags are ignored on requests */
	s = shimclient_next_stream(r->c);
	assert_int_equal(raw_request(r, s, 1, 0x05, SHIM_SERVICE, "ShimInfo", NULL, 0), 0);
	rc = recv_reply(r, s, CALL_TIMEOUT_MS, &rep);
	wire_record(r, "flags-0x05", rc, &rep, s);
	expect_ok(r, "ShimInfo with flags 0x05");
	expect_shiminfo_payload(r, &rep);
	shimclient_reply_free(&rep);

	/* two frames in one write, then one frame split over three writes */
	{
		uint8_t *f1, *f2, *both;
		size_t l1, l2;
		uint32_t s1 = shimclient_next_stream(r->c), s2 = shimclient_next_stream(r->c);
		StateReq sq = CONTAINERD__RUNTIME__LINUX__SHIM__V1__STATE_REQUEST__INIT;
		uint8_t pl[16];
		size_t pn;

		sq.id = "x";
		pn = protobuf_c_message_pack(&sq.base, pl);
		assert_int_equal(
			ttrpc_request_frame(s1, SHIM_SERVICE, "ShimInfo", NULL, 0, 0, &f1, &l1), 0);
		assert_int_equal(
			ttrpc_request_frame(s2, SHIM_SERVICE, "State", pl, pn, 0, &f2, &l2), 0);
		both = malloc(l1 + l2);
		assert_non_null(both);
		memcpy(both, f1, l1);
		memcpy(both + l1, f2, l2);
		rc = shimclient_send_raw(r->c, both, l1 + l2);
		free(both);
		free(f1);
		free(f2);
		assert_int_equal(rc, 0);
		rc = recv_reply(r, s1, CALL_TIMEOUT_MS, &rep);
		wire_record(r, "coalesced-1-ShimInfo", rc, &rep, s1);
		expect_ok(r, "coalesced ShimInfo");
		shimclient_reply_free(&rep);
		rc = recv_reply(r, s2, CALL_TIMEOUT_MS, &rep);
		wire_record(r, "coalesced-2-State", rc, &rep, s2);
		shimclient_reply_free(&rep);
		expect_err(r, 5, "process x does not exist: not found");

		s = shimclient_next_stream(r->c);
		assert_int_equal(ttrpc_request_frame(s, SHIM_SERVICE, "State", pl, pn, 0, &f1, &l1),
				 0);
		assert_int_equal(shimclient_send_raw(r->c, f1, 4), 0);
		usleep(50000);
		assert_int_equal(shimclient_send_raw(r->c, f1 + 4, 8), 0);
		usleep(50000);
		assert_int_equal(shimclient_send_raw(r->c, f1 + 12, l1 - 12), 0);
		free(f1);
		rc = recv_reply(r, s, CALL_TIMEOUT_MS, &rep);
		wire_record(r, "split-State", rc, &rep, s);
		shimclient_reply_free(&rep);
		expect_err(r, 5, "process x does not exist: not found");
	}

	/* a duplicate stream id is simply processed again */
	{
		s = shimclient_next_stream(r->c);
		assert_int_equal(raw_request(r, s, 1, 0, SHIM_SERVICE, "ShimInfo", NULL, 0), 0);
		assert_int_equal(raw_request(r, s, 1, 0, SHIM_SERVICE, "ShimInfo", NULL, 0), 0);
		for (int i = 0; i < 2; i++) {
			rc = recv_reply(r, s, CALL_TIMEOUT_MS, &rep);
			wire_record(r, "duplicate-stream", rc, &rep, s);
			expect_ok(r, "duplicate-stream ShimInfo");
			shimclient_reply_free(&rep);
		}
	}

	shiminfo(r);
	if (shimclient_pending_frames(r->c) != 0)
		fail_msg("[%s] unexpected extra response frames", r->label);
}

/* Two requests in flight on one connection: a blocked Wait does not block State. */
static void scen_inflight(struct run *r)
{
	StateResp *st;
	StartResp *sr;
	WaitResp *wr = NULL;
	DeleteResp *dr;
	int pid, wi;

	pid = create(r, NULL, NULL);
	expect_ok(r, "Create");
	sr = start(r, "id");
	expect_ok(r, "Start");
	FREE_MSG(sr);
	wi = wait_bg_start(r);
	usleep(100000);
	/* Each State is answered while the Wait is still pending (it can only return after the
	 * Kill below): an ordering, not a time bound. A State queued behind the Wait would never
	 * be answered (call() fails at its hang guard). */
	for (int i = 0; i < 3; i++) {
		st = state(r, r->si.id, "id, Wait in flight");
		expect_ok(r, "State");
		assert_int_equal(st->status, CONTAINERD__V1__TYPES__STATUS__RUNNING);
		FREE_MSG(st);
		bg_expect_pending(r, wi, "container running");
	}
	shiminfo(r);

	/* a second connection works concurrently too */
	r->c2 = shimclient_connect(r->si.sock, 5000);
	assert_non_null(r->c2);
	{
		StateReq req = CONTAINERD__RUNTIME__LINUX__SHIM__V1__STATE_REQUEST__INIT;
		ProtobufCMessage *resp = NULL;
		int code = -1;
		char *msg = NULL;
		req.id = r->si.id;
		assert_int_equal(shimclient_call(r->c2, "State", &req.base, D_STATE_RESP, &resp,
						 &code, &msg, CALL_TIMEOUT_MS),
				 0);
		trf(r, "State(id) [second connection] -> code=%d\n", code);
		free(msg);
		assert_int_equal(code, 0);
		assert_int_equal(((StateResp *)resp)->pid, pid);
		protobuf_c_message_free_unpacked(resp, NULL);
	}
	bg_expect_pending(r, wi, "container running");

	kill_(r, r->si.id, 9, "id, 9");
	expect_ok(r, "Kill");
	bg_join(r, wi, "id", D_WAIT_RESP, &wr);
	expect_ok(r, "Wait");
	assert_int_equal(wr->exit_status, 137);
	check_exit_events(r, 1, (uint32_t)pid, 137, wr->exited_at);
	FREE_MSG(wr);
	dr = delete_(r, "");
	expect_ok(r, "Delete");
	FREE_MSG(dr);
}

/* ------------------------------------------------------------------------------------------ */
/* cmocka plumbing                                                                             */

struct scenario {
	const char *name;
	const char *const *argv;
	void (*fn)(struct run *r);
	char *go_transcript;
	bool go_ok;
	bool fp; /* cshim's run is cshim-fp with its stdio-start failpoint on */
};

static struct scenario SCENARIOS[] = {
	{ "precreate", ARGV_SLEEP, scen_precreate, NULL, false, false },
	{ "echo_exit3_nostdio", ARGV_ECHO, scen_echo_nostdio, NULL, false, false },
	{ "echo_exit3_fifo", ARGV_ECHO, scen_echo_fifo, NULL, false, false },
	{ "sleep_running", ARGV_SLEEP, scen_sleep, NULL, false, false },
	{ "kill_created", ARGV_SLEEP, scen_kill_created, NULL, false, false },
	{ "bad_command", ARGV_BAD, scen_bad_command, NULL, false, false },
	{ "wire", ARGV_SLEEP, scen_wire, NULL, false, false },
	{ "inflight", ARGV_SLEEP, scen_inflight, NULL, false, false },
	{ "stdin_file_uri", ARGV_SLEEP, scen_stdin_file_uri, NULL, false, false },
	{ "create_io_start_fails", ARGV_SLEEP, scen_create_io_fails, NULL, false, true },
	{ "exec_io_start_fails", ARGV_SLEEP, scen_exec_io_fails, NULL, false, true },
};
#define NSCEN (sizeof(SCENARIOS) / sizeof(SCENARIOS[0]))

static int teardown_runs(void **state)
{
	(void)state;
	for (int i = 0; i < MAX_RUNS; i++) {
		pthread_mutex_lock(&g_runs_mu);
		struct run *r = g_runs[i];
		pthread_mutex_unlock(&g_runs_mu);
		if (!r)
			continue;
		run_free(r);
		pthread_mutex_lock(&g_runs_mu);
		g_runs[i] = NULL;
		pthread_mutex_unlock(&g_runs_mu);
	}
	return 0;
}

static void compare_transcripts(const char *name, const char *go, const char *c)
{
	const char *a = go, *b = c;
	int line = 1;

	if (strcmp(go, c) == 0)
		return;
	while (*a && *a == *b) {
		if (*a == '\n')
			line++;
		a++;
		b++;
	}
	/* back up to the start of the differing line */
	while (a > go && a[-1] != '\n')
		a--, b--;
	const char *ea = strchr(a, '\n'), *eb = strchr(b, '\n');
	fprintf(stderr, "---- go transcript (%s) ----\n%s---- cshim transcript ----\n%s----\n",
		name, go, c);
	fflush(stderr);
	fail_msg("%s: transcripts differ at line %d:\n  go:    %.*s\n  cshim: %.*s", name, line,
		 (int)(ea ? ea - a : (long)strlen(a)), a, (int)(eb ? eb - b : (long)strlen(b)), b);
}

/* The Go shim's run of a scenario: the reference transcript the cshim run must match, not a
 * test (the setup of the scenario's test: it counts as no pass; if it fails, the scenario
 * fails). Its shim is gone before cshim's run starts. */
static int reference_go(void **state)
{
	struct scenario *sc = *state;
	struct run *r;

	g_cur_ok = false;
	r = run_begin(false, sc->name, sc->argv);
	sc->fn(r);
	run_end(r);
	free(sc->go_transcript);
	sc->go_transcript = strdup(sb_str(&r->tr));
	sc->go_ok = true;
	g_cur_ok = true;
	print_message("[ REFERENCE ] %s: Go shim transcript recorded\n", sc->name);
	return teardown_runs(state);
}

static void test_c(void **state)
{
	struct scenario *sc = *state;
	struct run *r;

	g_cur_ok = false;
	if (sc->fp && access(fp_shim_path(), X_OK) != 0)
		fail_msg("%s: the failpoint shim %s is missing (make %s, or set CSHIM_FP)",
			 sc->name, fp_shim_path(), "build/tests/cshim-fp");
	r = run_begin_fp(true, sc->name, sc->argv, sc->fp);
	sc->fn(r);
	run_end(r);
	if (!sc->go_ok)
		fail_msg("%s: no Go transcript to compare with (the Go run failed or was filtered)",
			 sc->name);
	compare_transcripts(sc->name, sc->go_transcript, sb_str(&r->tr));
	g_cur_ok = true;
}

/* Last resort: on SIGINT/SIGTERM/SIGHUP or when the whole run exceeds its time budget, kill
 * what we started, force-delete the containers and remove the temp dir. These signals are
 * blocked in every other thread (children get an empty mask before exec). */
static sigset_t g_stop_sigs;

static void *watchdog_main(void *arg)
{
	long secs = (long)(intptr_t)arg;
	struct timespec dl, now, left;
	siginfo_t si;
	int sig;

	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += secs;
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		left.tv_sec = dl.tv_sec - now.tv_sec;
		left.tv_nsec = dl.tv_nsec - now.tv_nsec;
		if (left.tv_nsec < 0) {
			left.tv_sec--;
			left.tv_nsec += 1000000000L;
		}
		if (left.tv_sec < 0) {
			sig = 0;
			break;
		}
		sig = sigtimedwait(&g_stop_sigs, &si, &left);
		if (sig > 0)
			break;
		if (sig < 0 && errno == EAGAIN) {
			sig = 0;
			break;
		}
	}
	if (sig)
		fprintf(stderr, "[ ERROR ] interrupted by signal %d: killing shims and exiting\n",
			sig);
	else
		fprintf(stderr,
			"[ ERROR ] integration tests exceeded %ld s: killing shims and exiting\n",
			secs);
	for (int i = 0; i < MAX_RUNS; i++) {
		struct run *r = g_runs[i];
		if (r && r->si.pid > 0) {
			kill(-r->si.pid, SIGKILL);
			kill(r->si.pid, SIGKILL);
		}
	}
	for (int i = 0; i < MAX_RUNS; i++) {
		struct run *r = g_runs[i];
		if (r && r->si_prepared) {
			r->si.pid = 0;
			shim_cleanup(&r->si); /* runc delete --force + rm */
		}
	}
	it_root_remove();
	_exit(sig ? 128 + sig : 2);
	return NULL;
}

/* Anything we started that is still around: a process whose cgroup or command line mentions
 * one of our ids/dirs. Reported (and killed) after all tests. */
static int leftover_check(void)
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
				print_error("leftover process %d: %s\n", pid, buf);
				kill(pid, SIGKILL);
				found++;
				break;
			}
		}
	}
	closedir(d);
	return found;
}

static int group_setup(void **state)
{
	(void)state;
	if (geteuid() != 0) {
		print_error("integration tests need root (runc, cgroups)\n");
		return -1;
	}
	if (access(go_shim_path(), X_OK) != 0) {
		print_error("Go shim %s not found (set GOSHIM)\n", go_shim_path());
		return -1;
	}
	if (!it_root()) {
		print_error("mkdtemp failed\n");
		return -1;
	}
	return 0;
}

static int group_teardown(void **state)
{
	int left;
	teardown_runs(state);
	usleep(200000);
	left = leftover_check();
	it_root_remove();
	for (size_t i = 0; i < NSCEN; i++) {
		free(SCENARIOS[i].go_transcript);
		SCENARIOS[i].go_transcript = NULL;
	}
	return left ? -1 : 0;
}

int main(void)
{
	struct CMUnitTest tests[NSCEN];
	const char *ts = getenv("CSHIM_IT_TIMEOUT");
	long secs = ts ? atol(ts) : 110;
	pthread_t wd;

	signal(SIGPIPE, SIG_IGN);
	it_require_cshim("test_integration", c_shim_path());
	sigemptyset(&g_stop_sigs);
	sigaddset(&g_stop_sigs, SIGINT);
	sigaddset(&g_stop_sigs, SIGTERM);
	sigaddset(&g_stop_sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &g_stop_sigs, NULL);
	if (secs <= 0)
		secs = 110;
	if (pthread_create(&wd, NULL, watchdog_main, (void *)(intptr_t)secs) == 0)
		pthread_detach(wd);
	for (size_t i = 0; i < NSCEN; i++)
		tests[i] = (struct CMUnitTest){
			.name = SCENARIOS[i].name,
			.test_func = test_c,
			.setup_func = reference_go,
			.teardown_func = teardown_runs,
			.initial_state = &SCENARIOS[i],
		};
	return _cmocka_run_group_tests("cshim_integration", tests, NSCEN, group_setup,
				       group_teardown);
}
