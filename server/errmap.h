/* SPDX-License-Identifier: Apache-2.0 */
/* The one place where internal errors become ttrpc status codes and texts. */
#pragma once

#include <stddef.h>

struct shim_error;

/* r < 0: -errno. A shim_error with a code wins; otherwise errno is mapped. */
int errmap_code(int r, const struct shim_error *err, char *msg, size_t msgsz);
