/* SPDX-License-Identifier: Apache-2.0 */
/* The containerd.task.v2.Task (and v3) service of the long-running v2 process. */
#pragma once

#include "dispatch.h"

/* exit_fn: Shutdown with no container left (flushes the events and exits). */
void v2_service_setup(void (*exit_fn)(void));
const struct method *v2_find_method(const char *name);
extern const char *const v2_service_names[];
