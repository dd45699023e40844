/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cgstats_dump STATE_JSON: the Stats message cgstats reads for the container whose runc
 * state.json is given, printed as JSON the way `ctr task metrics --format json` prints the Go
 * shim's (encoding/json of the gogo structs: proto field names, zero scalars and empty
 * strings and lists left out, a present message printed even when empty). For
 * tests/e2e/cgstats-crosscheck.sh, built by it against build/libcshim.a.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cgstats.h"
#include "core/pids.h"
#include "io/fd_util.h"

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

int main(int argc, char **argv)
{
	struct cgstats_v1 cg;
	char *buf, dir[4096];
	size_t len;
	int r;

	if (argc != 2) {
		fprintf(stderr, "usage: %s STATE_JSON\n", argv[0]);
		return 2;
	}
	if ((r = fd_read_file(argv[1], 4u << 20, &buf, &len)) < 0) {
		fprintf(stderr, "%s: %s\n", argv[1], strerror(-r));
		return 1;
	}
	r = cgstats_v1_from_state(buf, len, NULL, &cg);
	if (r == 0) {
		Io__Containerd__Cgroups__V1__Metrics *m;
		r = cgstats_v1_read(&cg, &m);
		cgstats_v1_done(&cg);
		if (r == 0) {
			dump(&m->base, 0);
			io__containerd__cgroups__v1__metrics__free_unpacked(m, NULL);
		}
	} else if (r == -ENOENT && pids_cgroup_from_state(buf, len, dir, sizeof(dir)) == 0) {
		Io__Containerd__Cgroups__V2__Metrics *m;
		r = cgstats_v2_read(dir, &m);
		if (r == 0) {
			dump(&m->base, 0);
			io__containerd__cgroups__v2__metrics__free_unpacked(m, NULL);
		}
	}
	free(buf);
	if (r < 0) {
		fprintf(stderr, "cgstats: %s\n", strerror(-r));
		return 1;
	}
	printf("\n");
	return 0;
}
