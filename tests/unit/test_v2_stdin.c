/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for server/v2_stdin.h (start's and -info's stdin, docs/v2-protocol.md §2.3),
 * and the two messages the short-lived actions print: delete's DeleteResponse (§2.6) and
 * -info's RuntimeInfo (§2.7). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "github.com/containerd/containerd/api/runtime/bootstrap/v1/bootstrap.pb-c.h"
#include "github.com/containerd/containerd/api/types/introspection.pb-c.h"
#include "github.com/containerd/containerd/runtime/v2/runc/options/oci.pb-c.h"
#include "server/v2_delete.h"
#include "server/v2_info.h"
#include "server/v2_stdin.h"

static char msg[256];

/* What containerd 1.6 wrote on start's stdin for `ctr run --runc-binary /usr/sbin/runc`
 * (docs/v2-protocol.md §2.3, captured). */
static const uint8_t captured_any[] = {
	0x0a, 0x1a, 'c', 'o', 'n', 't', 'a', 'i', 'n', 'e', 'r', 'd', '.',  'r',  'u',  'n',
	'c',  '.',  'v', '1', '.', 'O', 'p', 't', 'i', 'o', 'n', 's', 0x12, 0x10, 0x32, 0x0e,
	'/',  'u',  's', 'r', '/', 's', 'b', 'i', 'n', '/', 'r', 'u', 'n',  'c',
};

static void test_empty(void **state)
{
	(void)state;
	struct v2_stdin s;

	assert_int_equal(v2_stdin_decode((const uint8_t *)"", 0, "c1", "ns", &s, msg, sizeof(msg)),
			 0);
	assert_int_equal(s.kind, V2_STDIN_EMPTY);
	assert_false(s.has_options);
	assert_false(s.runc);
	v2_stdin_free(&s);
}

static void test_captured_any(void **state)
{
	(void)state;
	struct v2_stdin s;

	assert_int_equal(v2_stdin_decode(captured_any, sizeof(captured_any), "c1", "default", &s,
					 msg, sizeof(msg)),
			 0);
	assert_int_equal(s.kind, V2_STDIN_ANY);
	assert_true(s.has_options);
	assert_true(s.runc);
	assert_string_equal(s.type_url, "containerd.runc.v1.Options");
	assert_int_equal(s.value_len, 16);
	assert_memory_equal(s.value, captured_any + 30, 16);
	assert_string_equal(s.opts.binary_name, "/usr/sbin/runc");
	assert_string_equal(s.opts.root, "");
	assert_string_equal(s.shim_cgroup, "");
	v2_stdin_free(&s);
}

static size_t pack_options(uint8_t *buf, const char *shim_cgroup, const char *root)
{
	Containerd__Runc__V1__Options o = CONTAINERD__RUNC__V1__OPTIONS__INIT;
	o.shim_cgroup = (char *)shim_cgroup;
	o.root = (char *)root;
	o.systemd_cgroup = 1;
	return containerd__runc__v1__options__pack(&o, buf);
}

static size_t pack_bootstrap(uint8_t *buf, const char *id, const char *ns, const char *sockdir,
			     const uint8_t *opts, size_t optslen)
{
	Containerd__Runtime__Bootstrap__V1__BootstrapParams b =
		CONTAINERD__RUNTIME__BOOTSTRAP__V1__BOOTSTRAP_PARAMS__INIT;
	Containerd__Runtime__Bootstrap__V1__Extension e =
		CONTAINERD__RUNTIME__BOOTSTRAP__V1__EXTENSION__INIT;
	Containerd__Runtime__Bootstrap__V1__Extension *ep = &e;
	Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;

	b.instance_id = (char *)id;
	b.namespace_ = (char *)ns;
	b.containerd_version = "2.3.0";
	b.containerd_ttrpc_address = "/run/containerd/containerd.sock.ttrpc";
	b.socket_dir = (char *)sockdir;
	any.type_url = "containerd.runc.v1.Options";
	any.value.data = (uint8_t *)opts;
	any.value.len = optslen;
	e.value = &any;
	b.n_extensions = 1;
	b.extensions = &ep;
	return containerd__runtime__bootstrap__v1__bootstrap_params__pack(&b, buf);
}

static void test_bootstrap_matching(void **state)
{
	(void)state;
	uint8_t opts[128], buf[512];
	size_t olen = pack_options(opts, "/shims", "/run/alt"), n;
	struct v2_stdin s;

	n = pack_bootstrap(buf, "c1", "k8s.io", "/run/containerd/s2", opts, olen);
	assert_int_equal(v2_stdin_decode(buf, n, "c1", "k8s.io", &s, msg, sizeof(msg)), 0);
	assert_int_equal(s.kind, V2_STDIN_BOOTSTRAP);
	assert_true(s.runc);
	assert_string_equal(s.socket_dir, "/run/containerd/s2");
	assert_string_equal(s.shim_cgroup, "/shims");
	assert_string_equal(s.opts.root, "/run/alt");
	assert_true(s.opts.systemd_cgroup);
	v2_stdin_free(&s);
}

static void test_bootstrap_not_ours(void **state)
{
	(void)state;
	uint8_t opts[128], buf[512];
	size_t olen = pack_options(opts, "", ""), n;
	struct v2_stdin s;

	/* another instance's or namespace's params are not ours; nor are they an Any */
	n = pack_bootstrap(buf, "c1", "k8s.io", "", opts, olen);
	assert_int_equal(v2_stdin_decode(buf, n, "c2", "k8s.io", &s, msg, sizeof(msg)), -EINVAL);
	assert_non_null(strstr(msg, "neither"));
	v2_stdin_free(&s);
	assert_int_equal(v2_stdin_decode(buf, n, "c1", "default", &s, msg, sizeof(msg)), -EINVAL);
	v2_stdin_free(&s);
	/* -info never takes a BootstrapParams */
	assert_int_equal(v2_stdin_decode(buf, n, NULL, NULL, &s, msg, sizeof(msg)), -EINVAL);
	assert_non_null(strstr(msg, "is not a google.protobuf.Any"));
	v2_stdin_free(&s);
}

static void test_any_that_parses_as_bootstrap(void **state)
{
	(void)state;
	struct v2_stdin s;

	/* An Any also decodes as a BootstrapParams (type_url as instance_id, value as
	 * namespace): an instance_id equal to -id alone does not make it one, the namespace
	 * must match too. */
	assert_int_equal(v2_stdin_decode(captured_any, sizeof(captured_any),
					 "containerd.runc.v1.Options", "default", &s, msg,
					 sizeof(msg)),
			 0);
	assert_int_equal(s.kind, V2_STDIN_ANY);
	v2_stdin_free(&s);
}

static void test_garbage(void **state)
{
	(void)state;
	struct v2_stdin s;
	const char *g = "hello, this is not protobuf\n";
	uint8_t bad_opts[] = { 0x0a, 0x1a, 'c', 'o', 'n', 't', 'a',  'i',  'n',  'e', 'r',
			       'd',  '.',  'r', 'u', 'n', 'c', '.',  'v',  '1',  '.', 'O',
			       'p',  't',  'i', 'o', 'n', 's', 0x12, 0x02, 0x32, 0x7f };
	uint8_t truncated[] = { 0x0a, 0x40, 'x' };

	assert_int_equal(
		v2_stdin_decode((const uint8_t *)g, strlen(g), "c1", "ns", &s, msg, sizeof(msg)),
		-EINVAL);
	assert_non_null(strstr(msg, "google.protobuf.Any"));
	v2_stdin_free(&s);
	assert_int_equal(
		v2_stdin_decode(truncated, sizeof(truncated), "c1", "ns", &s, msg, sizeof(msg)),
		-EINVAL);
	v2_stdin_free(&s);
	/* an Any of the runc type whose value is not an Options */
	assert_int_equal(
		v2_stdin_decode(bad_opts, sizeof(bad_opts), "c1", "ns", &s, msg, sizeof(msg)),
		-EINVAL);
	assert_non_null(strstr(msg, "containerd.runc.v1.Options"));
	v2_stdin_free(&s);
}

static void test_other_type_passes(void **state)
{
	(void)state;
	Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
	uint8_t buf[128];
	size_t n;
	struct v2_stdin s;

	any.type_url = "runtimeoptions.v1.Options";
	any.value.data = (uint8_t *)"\x12\x03x=y";
	any.value.len = 5;
	n = google__protobuf__any__pack(&any, buf);
	assert_int_equal(v2_stdin_decode(buf, n, "c1", "ns", &s, msg, sizeof(msg)), 0);
	assert_true(s.has_options);
	assert_false(s.runc);
	assert_string_equal(s.type_url, "runtimeoptions.v1.Options");
	v2_stdin_free(&s);
}

static void test_delete_response_bytes(void **state)
{
	(void)state;
	/* the Go shim's delete output, captured (docs/v2-protocol.md §2.6) */
	static const uint8_t go[] = { 0x08, 0xe8, 0xfa, 0x01, 0x10, 0x89, 0x01,
				      0x1a, 0x0c, 0x08, 0xf4, 0x8b, 0xd4, 0xd8,
				      0x06, 0x10, 0x96, 0xeb, 0xfe, 0xea, 0x01 };
	struct timespec ts = { .tv_sec = 1796539892, .tv_nsec = 492811670 };
	uint8_t out[64];
	int n = v2_delete_response(32104, &ts, out, sizeof(out));

	assert_int_equal(n, sizeof(go));
	assert_memory_equal(out, go, sizeof(go));
	/* unknown pid as the Go shim sends it (uint32 of -1) */
	n = v2_delete_response(UINT32_MAX, &ts, out, sizeof(out));
	assert_int_equal(out[0], 0x08);
	assert_memory_equal(out + 1, "\xff\xff\xff\xff\x0f", 5);
	assert_int_equal(v2_delete_response(1, &ts, out, 4), -ENOBUFS);
}

static void test_info(void **state)
{
	(void)state;
	struct v2_stdin s;
	uint8_t *buf;
	size_t len;
	const char *runc_out = "{\n  \"ociVersionMin\": \"1.0.0\",\n  \"hooks\": "
			       "[\"prestart\"],\n  \"annotations\": {\"a\": \"b\"}\n}\n";
	char *feat = v2_info_features_json(runc_out, strlen(runc_out));
	Containerd__Types__RuntimeInfo *ri;

	assert_non_null(feat);
	assert_string_equal(feat, "{\"ociVersionMin\":\"1.0.0\",\"hooks\":[\"prestart\"],"
				  "\"annotations\":{\"a\":\"b\"}}");
	assert_null(v2_info_features_json("not json", 8));
	assert_null(v2_info_features_json("[1]", 3));
	assert_int_equal(v2_stdin_decode(captured_any, sizeof(captured_any), NULL, NULL, &s, msg,
					 sizeof(msg)),
			 0);
	assert_int_equal(v2_info_pack(&s, feat, &buf, &len), 0);
	ri = containerd__types__runtime_info__unpack(NULL, len, buf);
	assert_non_null(ri);
	assert_string_equal(ri->name, "io.containerd.runc.v2");
	assert_non_null(ri->version);
	assert_true(strlen(ri->version->version) > 0);
	assert_non_null(ri->options);
	assert_string_equal(ri->options->type_url, "containerd.runc.v1.Options");
	assert_int_equal(ri->options->value.len, 16);
	assert_non_null(ri->features);
	assert_string_equal(ri->features->type_url,
			    "types.containerd.io/opencontainers/runtime-spec/1/features/Features");
	assert_int_equal(ri->features->value.len, strlen(feat));
	assert_int_equal(ri->n_annotations, 0);
	containerd__types__runtime_info__free_unpacked(ri, NULL);
	free(buf);
	v2_stdin_free(&s);
	/* no options, no features: neither field is sent */
	memset(&s, 0, sizeof(s));
	assert_int_equal(v2_info_pack(&s, NULL, &buf, &len), 0);
	ri = containerd__types__runtime_info__unpack(NULL, len, buf);
	assert_null(ri->options);
	assert_null(ri->features);
	containerd__types__runtime_info__free_unpacked(ri, NULL);
	free(buf);
	free(feat);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_captured_any),
		cmocka_unit_test(test_bootstrap_matching),
		cmocka_unit_test(test_bootstrap_not_ours),
		cmocka_unit_test(test_any_that_parses_as_bootstrap),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_other_type_passes),
		cmocka_unit_test(test_delete_response_bytes),
		cmocka_unit_test(test_info),
	};
	return cmocka_run_group_tests_name("v2_stdin", tests, NULL, NULL);
}
