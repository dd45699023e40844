/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "github.com/containerd/containerd/api/runtime/bootstrap/v1/bootstrap.pb-c.h"
#include "github.com/containerd/containerd/runtime/v2/runc/options/oci.pb-c.h"
#include "google/protobuf/any.pb-c.h"
#include "io/base.h"
#include "io/fd_util.h"
#include "v2_stdin.h"

#define STDIN_MAX (4u << 20)

/* The bare name (containerd's typeurl) or any prefix ending in '/' (the protobuf convention). */
static bool is_runc_options(const char *type_url)
{
	size_t n = strlen(type_url), t = strlen(V2_RUNC_OPTIONS_TYPE);
	if (n == t)
		return strcmp(type_url, V2_RUNC_OPTIONS_TYPE) == 0;
	return n > t && type_url[n - t - 1] == '/' &&
	       strcmp(type_url + n - t, V2_RUNC_OPTIONS_TYPE) == 0;
}

static char *dup_or_empty(const char *s)
{
	return strdup(s ? s : "");
}

static int take_any(const char *type_url, const ProtobufCBinaryData *v, struct v2_stdin *out,
		    char *msg, size_t msgsz)
{
	Containerd__Runc__V1__Options *o;

	out->has_options = true;
	out->type_url = strdup(type_url);
	out->value = malloc(v->len ? v->len : 1);
	if (!out->type_url || !out->value)
		return -ENOMEM;
	if (v->len)
		memcpy(out->value, v->data, v->len);
	out->value_len = v->len;
	if (!is_runc_options(type_url))
		return 0; /* another runtime's options: passed on (-info), nothing to apply */
	o = containerd__runc__v1__options__unpack(NULL, v->len, v->data);
	if (!o) {
		snprintf(msg, msgsz, "invalid %s on stdin (%zu bytes)", V2_RUNC_OPTIONS_TYPE,
			 v->len);
		return -EINVAL;
	}
	out->runc = true;
	out->shim_cgroup = dup_or_empty(o->shim_cgroup);
	out->opts.binary_name = dup_or_empty(o->binary_name);
	out->opts.root = dup_or_empty(o->root);
	out->opts.criu_path = dup_or_empty(o->criu_path);
	out->opts.systemd_cgroup = o->systemd_cgroup;
	containerd__runc__v1__options__free_unpacked(o, NULL);
	if (!out->shim_cgroup || !out->opts.binary_name || !out->opts.root || !out->opts.criu_path)
		return -ENOMEM;
	return 0;
}

static int from_bootstrap(const Containerd__Runtime__Bootstrap__V1__BootstrapParams *b,
			  struct v2_stdin *out, char *msg, size_t msgsz)
{
	out->kind = V2_STDIN_BOOTSTRAP;
	out->socket_dir = dup_or_empty(b->socket_dir);
	if (!out->socket_dir)
		return -ENOMEM;
	/* The runtime options are the extension that is a runc Options, else the first one. */
	const Google__Protobuf__Any *pick = NULL;
	for (size_t i = 0; i < b->n_extensions; i++) {
		const Google__Protobuf__Any *v = b->extensions[i]->value;
		if (!v)
			continue;
		if (!pick)
			pick = v;
		if (is_runc_options(v->type_url)) {
			pick = v;
			break;
		}
	}
	return pick ? take_any(pick->type_url, &pick->value, out, msg, msgsz) : 0;
}

int v2_stdin_decode(const uint8_t *buf, size_t len, const char *id, const char *ns,
		    struct v2_stdin *out, char *msg, size_t msgsz)
{
	Google__Protobuf__Any *any;
	int r;

	memset(out, 0, sizeof(*out));
	msg[0] = '\0';
	if (len == 0)
		return 0;
	if (id && ns) {
		Containerd__Runtime__Bootstrap__V1__BootstrapParams *b =
			containerd__runtime__bootstrap__v1__bootstrap_params__unpack(NULL, len,
										     buf);
		if (b && strcmp(b->instance_id, id) == 0 && strcmp(b->namespace_, ns) == 0) {
			r = from_bootstrap(b, out, msg, msgsz);
			containerd__runtime__bootstrap__v1__bootstrap_params__free_unpacked(b,
											    NULL);
			return r;
		}
		if (b)
			containerd__runtime__bootstrap__v1__bootstrap_params__free_unpacked(b,
											    NULL);
	}
	any = google__protobuf__any__unpack(NULL, len, buf);
	/* Garbage may still parse (as unknown fields); an Any without a type is not an Any. */
	if (!any || any->base.n_unknown_fields || !any->type_url || !*any->type_url) {
		if (id && ns)
			snprintf(
				msg, msgsz,
				"stdin (%zu bytes) is neither a google.protobuf.Any with the runtime "
				"options nor a BootstrapParams for this instance",
				len);
		else /* -info: options only */
			snprintf(
				msg, msgsz,
				"stdin (%zu bytes) is not a google.protobuf.Any with the runtime options",
				len);
		if (any)
			google__protobuf__any__free_unpacked(any, NULL);
		return -EINVAL;
	}
	out->kind = V2_STDIN_ANY;
	r = take_any(any->type_url, &any->value, out, msg, msgsz);
	google__protobuf__any__free_unpacked(any, NULL);
	return r;
}

int v2_stdin_read(int fd, const char *id, const char *ns, struct v2_stdin *out, char *msg,
		  size_t msgsz)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	int r = fd_read_all(fd, STDIN_MAX, &buf, &len);

	if (r < 0) {
		memset(out, 0, sizeof(*out));
		snprintf(msg, msgsz, "read stdin: %s", strerror(-r));
		return r;
	}
	return v2_stdin_decode((const uint8_t *)buf, len, id, ns, out, msg, msgsz);
}

void v2_stdin_free(struct v2_stdin *s)
{
	free(s->type_url);
	free(s->value);
	free(s->shim_cgroup);
	free(s->socket_dir);
	v2_runtime_opts_free(&s->opts);
	memset(s, 0, sizeof(*s));
}
