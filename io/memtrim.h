/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Giving memory back once a burst is over. jemalloc purges freed pages only when it is
 * called (there is no background thread here), so a shim that goes idle after Create/Start
 * would keep a burst's freed pages, and the loop thread's cache of freed objects, forever.
 */
#pragma once

/* Flushes the calling thread's cache of freed objects to the arena, then returns every unused
 * dirty page of every arena to the kernel. */
void memtrim(void);
/* Remembers where the calling thread's stack ends (call once, early, in each thread that
 * will use memtrim_stack()). */
void memtrim_stack_init(void);
/* Returns the calling thread's stack pages below the current frame to the kernel: a deep
 * request leaves its pages dirty, and glibc keeps an exited thread's stack for reuse. */
void memtrim_stack(void);
