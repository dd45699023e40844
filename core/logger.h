/* SPDX-License-Identifier: Apache-2.0 */
/*
 * binary:// stdio (docs/v1-protocol.md §5.1): a logging program gets the container's stdout and
 * stderr pipes as fd 3 and 4 and a "ready" pipe as fd 5; runc gets the write ends, nothing is
 * copied. argv = the URI's path, then each query key and its first value; env = CONTAINER_ID and
 * CONTAINER_NAMESPACE (taken from -namespace: the Go v1 shim's request-metadata lookup is broken
 * under containerd 1.6).
 */
#pragma once

#include <stddef.h>
#include <sys/types.h>

struct logger {
	pid_t pid;
	int pidfd;
};

/* Splits a binary:// URI into a decoded path and argv (pure, for tests). argv gets path
 * first; returns the argument count or -EINVAL. Strings live in buf. */
int logger_parse_uri(const char *uri, char *buf, size_t bufsz, char **argv, int max);
/* Starts the logger; on success ret_fds[0..2] are what the runtime gets (stdin /dev/null). */
int logger_start(const char *uri, const char *id, const char *ns, struct logger *lg, int ret_fds[3],
		 char *msg, size_t msgsz);
/* SIGTERM, up to 12 s, then SIGKILL (docs/v1-protocol.md §5.1). */
void logger_stop(struct logger *lg);
