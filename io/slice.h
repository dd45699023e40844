/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The scheduler's time slice of a thread (Linux >= 6.12, EEVDF: sched_setattr's sched_runtime
 * for SCHED_OTHER/SCHED_BATCH). A thread that runs for microseconds at a time and must answer
 * promptly asks for a short slice: on wake-up it then preempts a task with a longer one
 * instead of waiting for that task's slice to end. Its weight (nice) is unchanged: it gets no
 * more CPU than before, only sooner.
 */
#pragma once

#include <stdint.h>

#define SLICE_MIN_NS 100000ULL /* the kernel's lower bound */

/* Sets the calling thread's slice (0: back to the default), keeping its policy and nice.
 * Threads and processes it creates inherit the slice. Returns 0, or -errno (a kernel before
 * 6.12 ignores it; a real-time or idle policy: -EPERM, left alone). System calls only. */
int slice_set(uint64_t ns);
/* In a just-forked child before exec, and at the start of a thread: drops a slice inherited
 * from the creating thread (the runtime and the container get the default). */
void slice_reset(void);
