/* SPDX-License-Identifier: Apache-2.0 */
/* Checks of what a request names, before anything acts on it. Pure, for tests. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* containerd's identifier rules (pkg/identifiers): ^[A-Za-z0-9]+([._-][A-Za-z0-9]+)*$, at most
 * 76 characters. Returns true, or false with containerd's message in msg. */
bool validate_identifier(const char *id, char *msg, size_t msgsz);
/* The v1 contract: the bundle of Create is the shim's working directory (compared after
 * resolving both). */
bool validate_bundle(const char *bundle, const char *cwd, char *msg, size_t msgsz);
