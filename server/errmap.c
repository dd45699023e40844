/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/runtime.h"
#include "errmap.h"
#include "proto/ttrpc_codec.h"

static const struct {
	int err;
	int code;
	const char *suffix;
} errno_codes[] = {
	{ ENOENT, GRPC_NOT_FOUND, "not found" },
	{ EEXIST, GRPC_ALREADY_EXISTS, "already exists" },
	{ EINVAL, GRPC_INVALID_ARGUMENT, "invalid argument" },
	{ ETIMEDOUT, GRPC_DEADLINE_EXCEEDED, "context deadline exceeded" },
	{ ENOTSUP, GRPC_UNIMPLEMENTED, "not implemented" },
	{ EPERM, GRPC_PERMISSION_DENIED, "permission denied" },
	{ EACCES, GRPC_PERMISSION_DENIED, "permission denied" },
	{ ENOMEM, GRPC_RESOURCE_EXHAUSTED, "out of memory" },
	{ EAGAIN, GRPC_UNAVAILABLE, "unavailable" },
};

int errmap_code(int r, const struct shim_error *err, char *msg, size_t msgsz)
{
	if (err && err->code) {
		snprintf(msg, msgsz, "%s", err->msg);
		return err->code;
	}
	if (r >= 0)
		r = -EIO;
	for (size_t i = 0; i < sizeof(errno_codes) / sizeof(errno_codes[0]); i++) {
		if (errno_codes[i].err == -r) {
			snprintf(msg, msgsz, "%s: %s", strerror(-r), errno_codes[i].suffix);
			return errno_codes[i].code;
		}
	}
	snprintf(msg, msgsz, "%s", strerror(-r));
	return GRPC_UNKNOWN;
}
