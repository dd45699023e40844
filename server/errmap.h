/* SPDX-License-Identifier: Apache-2.0 */
/* The one place where internal errors become ttrpc status codes and texts. */
#pragma once

#include <stddef.h>

struct shim_error;

/* r < 0: -errno; err (may be NULL): core's facts about it. Writes the text the Go shim gives
 * to msg and returns the ttrpc status code. */
int errmap_code(int r, const struct shim_error *err, char *msg, size_t msgsz);
/* The same for the runtime v2 Task service (its texts where they differ). */
int errmap_v2_code(int r, const struct shim_error *err, char *msg, size_t msgsz);
/* A request names no container of the shim. */
int errmap_v2_no_container(char *msg, size_t msgsz);
