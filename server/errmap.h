/* SPDX-License-Identifier: Apache-2.0 */
/* The one place where internal errors become ttrpc status codes and texts. */
#pragma once

#include <stddef.h>

struct shim_error;

/* r < 0: -errno; err (may be NULL): core's facts about it. Writes the text the Go shim gives
 * to msg and returns the ttrpc status code. */
int errmap_code(int r, const struct shim_error *err, char *msg, size_t msgsz);
