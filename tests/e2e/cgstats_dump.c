/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cgstats_dump STATE_JSON: the Stats message cgstats reads for the container whose runc
 * state.json is given, printed as JSON the way `ctr task metrics --format json` prints the Go
 * shim's (encoding/json of the gogo structs: proto field names, zero scalars and empty
 * strings and lists left out, a present message printed even when empty). For
 * tests/e2e/cgstats-crosscheck.sh, built by it against build/libcshim.a.
 *
 * cgstats_dump STATE_JSON SHIM_SOCKET ID: the bytes instead. Calls Stats on the Go v2 shim
 * (containerd.task.v2.Task/Stats over ttrpc) between two cgstats reads and compares the Any
 * it returns (type_url and the packed message) with cgstats' own, converted and packed by
 * server/metrics.c.
 * Prints "bytes: equal" (to either read) or both hex dumps; exits 1 when they differ.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cgstats.h"
#include "core/pids.h"
#include "io/fd_util.h"
#include "server/metrics.h"
#include "tests/integration/shimclient.h"

static void dump(const ProtobufCMessage *m, int depth);

static int scalar(const ProtobufCFieldDescriptor *f, const void *p)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_UINT64: return printf("%" PRIu64, *(const uint64_t *)p);
	case PROTOBUF_C_TYPE_UINT32: return printf("%" PRIu32, *(const uint32_t *)p);
	case PROTOBUF_C_TYPE_DOUBLE: return printf("%.17g", *(const double *)p);
	case PROTOBUF_C_TYPE_STRING:
		return printf("\"%s\"", *(char *const *)p); /* cgroup names: no escapes needed */
	case PROTOBUF_C_TYPE_MESSAGE: dump(*(ProtobufCMessage *const *)p, 0); return 0;
	default: return printf("null");
	}
}

static int empty(const ProtobufCFieldDescriptor *f, const void *p)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_UINT64: return *(const uint64_t *)p == 0;
	case PROTOBUF_C_TYPE_UINT32: return *(const uint32_t *)p == 0;
	case PROTOBUF_C_TYPE_DOUBLE: return *(const double *)p == 0;
	case PROTOBUF_C_TYPE_STRING: return !*(char *const *)p || !**(char *const *)p;
	default: return *(void *const *)p == NULL;
	}
}

static size_t elem_size(const ProtobufCFieldDescriptor *f)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_DOUBLE: return 8;
	case PROTOBUF_C_TYPE_UINT32: return 4;
	default: return sizeof(void *);
	}
}

static void dump(const ProtobufCMessage *m, int depth)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	int first = 1;

	(void)depth;
	printf("{");
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		const char *base = (const char *)m + f->offset;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *(const size_t *)((const char *)m + f->quantifier_offset);
			const char *arr = *(char *const *)base;
			if (n == 0)
				continue;
			printf("%s\"%s\":[", first ? "" : ",", f->name);
			for (size_t k = 0; k < n; k++) {
				if (k)
					printf(",");
				scalar(f, arr + k * elem_size(f));
			}
			printf("]");
		} else {
			if (empty(f, base))
				continue;
			printf("%s\"%s\":", first ? "" : ",", f->name);
			scalar(f, base);
		}
		first = 0;
	}
	printf("}");
}

/* cgstats' message for the container (core/cgstats read, server/metrics converted); the
 * type_url in *url. */
static int read_ours(const char *buf, size_t len, const char **url, ProtobufCMessage **ret)
{
	struct cgstats_v1 cg;
	char dir[4096];
	int r = cgstats_v1_from_state(buf, len, NULL, &cg);

	if (r == 0) {
		struct cgstats_v1_metrics s;
		Io__Containerd__Cgroups__V1__Metrics *m1 = NULL;
		r = cgstats_v1_read(&cg, &s);
		cgstats_v1_done(&cg);
		if (r == 0)
			r = metrics_v1_message(&s, &m1);
		cgstats_v1_metrics_done(&s);
		*ret = m1 ? &m1->base : NULL;
		*url = METRICS_V1_TYPE_URL;
	} else if (r == -ENOENT && (r = pids_cgroup_from_state(buf, len, dir, sizeof(dir))) == 0) {
		struct cgstats_v2_metrics s;
		Io__Containerd__Cgroups__V2__Metrics *m2 = NULL;
		r = cgstats_v2_read(dir, &s);
		if (r == 0)
			r = metrics_v2_message(&s, &m2);
		cgstats_v2_metrics_done(&s);
		*ret = m2 ? &m2->base : NULL;
		*url = METRICS_V2_TYPE_URL;
	}
	return r;
}

/* The same packed by server/metrics into its Any: the type_url in *url, the bytes in *out. */
static int pack_ours(const char *buf, size_t len, const char **url, uint8_t **out, size_t *n)
{
	struct cgstats_v1 cg;
	Google__Protobuf__Any any;
	char dir[4096];
	int r = cgstats_v1_from_state(buf, len, NULL, &cg);

	if (r == 0) {
		struct cgstats_v1_metrics s;
		r = cgstats_v1_read(&cg, &s);
		cgstats_v1_done(&cg);
		if (r == 0)
			r = metrics_v1_any(&s, &any);
		cgstats_v1_metrics_done(&s);
	} else if (r == -ENOENT && (r = pids_cgroup_from_state(buf, len, dir, sizeof(dir))) == 0) {
		struct cgstats_v2_metrics s;
		r = cgstats_v2_read(dir, &s);
		if (r == 0)
			r = metrics_v2_any(&s, &any);
		cgstats_v2_metrics_done(&s);
	}
	if (r < 0)
		return r;
	*url = any.type_url;
	*n = any.value.len;
	*out = any.value.data; /* the Any's own buffer, taken over */
	return 0;
}

static void hex(const char *what, const uint8_t *p, size_t n)
{
	printf("%s (%zu bytes):", what, n);
	for (size_t i = 0; i < n; i++)
		printf("%s%02x", i % 32 ? "" : "\n  ", p[i]);
	printf("\n");
}

static int bytes_mode(const char *buf, size_t len, const char *sock, const char *id)
{
	struct shimclient *c = shimclient_connect(sock, 5000);
	struct shimclient_reply rep = { 0 };
	uint8_t req[300], *a = NULL, *b = NULL;
	const char *url = NULL;
	size_t idlen = strlen(id), na = 0, nb = 0;
	Google__Protobuf__Any *any = NULL;
	int r, ok = 0;

	if (!c || idlen > 127) {
		fprintf(stderr, "cannot connect to %s\n", sock);
		return 1;
	}
	req[0] = 0x0a; /* StatsRequest.id = 1 */
	req[1] = (uint8_t)idlen;
	memcpy(req + 2, id, idlen);
	r = pack_ours(buf, len, &url, &a, &na);
	if (r == 0)
		r = shimclient_call_bytes(c, shimclient_next_stream(c), "containerd.task.v2.Task",
					  "Stats", req, idlen + 2, 5000, &rep);
	if (r == 0)
		r = pack_ours(buf, len, &url, &b, &nb);
	shimclient_close(c);
	if (r < 0 || rep.code != 0) {
		fprintf(stderr, "Stats: %s (code %d %s)\n", strerror(-r), rep.code,
			rep.msg ? rep.msg : "");
		shimclient_reply_free(&rep);
		return 1;
	}
	/* StatsResponse { Any stats = 1; }: one length-delimited field */
	if (rep.plen >= 2 && rep.payload[0] == 0x0a) {
		size_t off = 1, l = 0;
		for (int sh = 0; off < rep.plen && sh < 63; sh += 7) {
			l |= (size_t)(rep.payload[off] & 0x7f) << sh;
			if (!(rep.payload[off++] & 0x80))
				break;
		}
		if (off + l == rep.plen)
			any = google__protobuf__any__unpack(NULL, l, rep.payload + off);
	}
	if (!any) {
		hex("undecodable StatsResponse", rep.payload, rep.plen);
		shimclient_reply_free(&rep);
		return 1;
	}
	printf("type_url: go %s, cgstats %s\n", any->type_url, url);
	ok = strcmp(any->type_url, url) == 0 &&
	     ((any->value.len == na && memcmp(any->value.data, a, na) == 0) ||
	      (any->value.len == nb && memcmp(any->value.data, b, nb) == 0));
	if (ok) {
		printf("bytes: equal (%zu)\n", any->value.len);
	} else {
		hex("go", any->value.data, any->value.len);
		hex("cgstats before", a, na);
		hex("cgstats after", b, nb);
	}
	google__protobuf__any__free_unpacked(any, NULL);
	shimclient_reply_free(&rep);
	free(a);
	free(b);
	return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
	ProtobufCMessage *m = NULL;
	const char *url;
	char *buf;
	size_t len;
	int r;

	if (argc != 2 && argc != 4) {
		fprintf(stderr, "usage: %s STATE_JSON [SHIM_SOCKET ID]\n", argv[0]);
		return 2;
	}
	if ((r = fd_read_file(argv[1], 4u << 20, &buf, &len)) < 0) {
		fprintf(stderr, "%s: %s\n", argv[1], strerror(-r));
		return 1;
	}
	if (argc == 4) {
		r = bytes_mode(buf, len, argv[2], argv[3]);
		free(buf);
		return r;
	}
	r = read_ours(buf, len, &url, &m);
	if (r == 0) {
		dump(m, 0);
		protobuf_c_message_free_unpacked(m, NULL);
	}
	free(buf);
	if (r < 0) {
		fprintf(stderr, "cgstats: %s\n", strerror(-r));
		return 1;
	}
	printf("\n");
	return 0;
}
