/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What containerd writes on the stdin of `start` and `-info` (docs/v2-protocol.md §2.3, §2.7):
 * nothing, an options google.protobuf.Any (1.6-2.2), or a
 * containerd.runtime.bootstrap.v1.BootstrapParams (2.3+) carrying that Any as an extension. A
 * BootstrapParams is recognised by identity (instance_id == -id and namespace == -namespace), never
 * by "it parsed": an Any parses as one.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/v2_bundle.h"

enum v2_stdin_kind { V2_STDIN_EMPTY = 0, V2_STDIN_ANY, V2_STDIN_BOOTSTRAP };

#define V2_RUNC_OPTIONS_TYPE "containerd.runc.v1.Options"

struct v2_stdin {
	enum v2_stdin_kind kind;
	bool has_options; /* an options Any was found */
	char *type_url;   /* its type_url, value as sent */
	uint8_t *value;
	size_t value_len;
	bool runc;         /* the Any is a containerd.runc.v1.Options; the fields below are its */
	char *shim_cgroup; /* "" when unset */
	struct v2_runtime_opts opts;
	char *socket_dir; /* BootstrapParams.socket_dir; "" when unset */
};

/* Decodes buf (all of stdin). id/ns: -id and -namespace (NULL for -info: never a
 * BootstrapParams then). Returns 0, or -EINVAL with msg saying what is wrong. */
int v2_stdin_decode(const uint8_t *buf, size_t len, const char *id, const char *ns,
		    struct v2_stdin *out, char *msg, size_t msgsz);
void v2_stdin_free(struct v2_stdin *s);
/* Reads fd to EOF (at most 4 MiB) and decodes it. */
int v2_stdin_read(int fd, const char *id, const char *ns, struct v2_stdin *out, char *msg,
		  size_t msgsz);
