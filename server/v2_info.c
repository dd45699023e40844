/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `SHIM -info` (spec v2 §6.2, containerd 2.x; containerd 1.6's runc-v2 has no -info): the
 * serialized containerd.types.RuntimeInfo on stdout, as containerd 2.x's runc-v2 shim builds
 * it: name io.containerd.runc.v2, the shim's version, the options Any from stdin (only a
 * containerd.runc.v1.Options is accepted), and `<runtime> features` as the features Any
 * (absent when the runtime has no features command or prints no JSON).
 */
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/spawn.h"
#include "github.com/containerd/containerd/api/types/introspection.pb-c.h"
#include "io/base.h"
#include "io/fd_util.h"
#include "v2_actions.h"
#include "v2_exec.h"
#include "v2_info.h"
#include "v2_stdin.h"

#ifndef CSHIM_VERSION
#define CSHIM_VERSION "0.1.0"
#endif

const char *v2_version(void)
{
	return CSHIM_VERSION;
}

char *v2_info_features_json(const char *text, size_t len)
{
	json_t *j = json_loadb(text, len, 0, NULL);
	char *out;

	if (!j)
		return NULL;
	if (!json_is_object(j)) {
		json_decref(j);
		return NULL;
	}
	/* Go unmarshals into specs.Features and marshals it again: compact, in field order
	 * (runc writes the same struct, so its key order is that order). */
	out = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(j);
	return out;
}

int v2_info_pack(const struct v2_stdin *in, const char *features_json, uint8_t **ret_buf,
		 size_t *ret_len)
{
	Containerd__Types__RuntimeInfo info = CONTAINERD__TYPES__RUNTIME_INFO__INIT;
	Containerd__Types__RuntimeVersion ver = CONTAINERD__TYPES__RUNTIME_VERSION__INIT;
	Google__Protobuf__Any opts = GOOGLE__PROTOBUF__ANY__INIT;
	Google__Protobuf__Any feat = GOOGLE__PROTOBUF__ANY__INIT;
	size_t n;

	info.name = (char *)V2_INFO_NAME;
	ver.version = (char *)v2_version();
	info.version = &ver;
	if (in->has_options) {
		opts.type_url = in->type_url;
		opts.value.data = in->value;
		opts.value.len = in->value_len;
		info.options = &opts;
	}
	if (features_json) {
		feat.type_url = (char *)V2_FEATURES_TYPE;
		feat.value.data = (uint8_t *)features_json;
		feat.value.len = strlen(features_json);
		info.features = &feat;
	}
	n = containerd__types__runtime_info__get_packed_size(&info);
	*ret_buf = malloc(n ? n : 1);
	if (!*ret_buf)
		return -ENOMEM;
	*ret_len = containerd__types__runtime_info__pack(&info, *ret_buf);
	return 0;
}

static char *runtime_features(const char *path)
{
	_cleanup_free_ char *out = NULL;
	char *argv[] = { (char *)path, "features", NULL };
	size_t len;
	int status;

	if (v2_exec_capture(path, argv, 1u << 20, &out, &len, &status) < 0 || status != 0)
		return NULL; /* Go: logged at debug level, features left out */
	return v2_info_features_json(out, len);
}

int v2_info_main(const struct v2_flags *f)
{
	_cleanup_free_ char *features = NULL;
	_cleanup_free_ uint8_t *buf = NULL;
	struct v2_stdin in;
	_cleanup_free_ char *path = malloc(PATH_MAX); /* a page: on the heap (README) */
	char msg[256];
	const char *binary = V2_DEFAULT_RUNTIME;
	size_t len;
	int r;

	(void)f;
	if (v2_stdin_read(STDIN_FILENO, NULL, NULL, &in, msg, sizeof(msg)) < 0) {
		fprintf(stderr, "cshim: -info: %s\n", msg);
		return 1;
	}
	if (in.has_options && !in.runc) {
		fprintf(stderr,
			"cshim: -info: failed to read runtime options (*options.Options): "
			"type %s is not %s\n",
			in.type_url, V2_RUNC_OPTIONS_TYPE);
		v2_stdin_free(&in);
		return 1;
	}
	if (in.runc && *in.opts.binary_name)
		binary = in.opts.binary_name;
	if (!path || spawn_init_env() < 0 || spawn_find_program(binary, path, PATH_MAX) < 0) {
		fprintf(stderr, "cshim: -info: failed to look up the path of \"%s\"\n", binary);
		v2_stdin_free(&in);
		return 1;
	}
	features = runtime_features(path);
	r = v2_info_pack(&in, features, &buf, &len);
	v2_stdin_free(&in);
	if (r < 0 || fd_write_all(STDOUT_FILENO, buf, len) < 0) {
		fprintf(stderr, "cshim: -info: writing the RuntimeInfo failed\n");
		return 1;
	}
	return 0;
}
