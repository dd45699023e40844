/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "container.h"

/* Called with p->mu held. */
int exec_start(struct proc *p, uint64_t deadline_ns, struct shim_error *err);
int exec_kill(struct proc *p, uint32_t sig, struct shim_error *err);
