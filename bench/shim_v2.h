/* SPDX-License-Identifier: Apache-2.0 */
/* The runtime v2 side of bench/shim.c (bshim_use_v2): launching through `start`, the Task
 * service's calls. Only bench/shim.c calls these; the rest of the bench goes through shim.h. */
#pragma once

#include "bench/shim.h"

/* After shim_prepare: the `start` action, the connection, Connect (the first answer: its
 * time from `start` invoked in b->first_answer_s, the shim pid it names in b->pid). */
int v2_start(struct bshim *b, const char *publisher);
/* Create + Start of b's own container. */
int v2_create_start(struct bshim *b);
/* Kill, Wait, Delete of every container (the added ones first), then Shutdown. */
void v2_teardown(struct bshim *b);
int v2_exec_cycle(const struct bshim *b, struct shimclient *c, const char *id, char *err,
		  size_t errn);
int v2_wait(const struct bshim *b, struct shimclient *c, const char *id, uint32_t *status,
	    int timeout_ms);
