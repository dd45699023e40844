/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Giving memory back once a burst is over, and the allocator's configuration (memtrim.c).
 * jemalloc returns freed pages at once (dirty_decay_ms:0), but a thread's cache of freed
 * objects pins their slabs until the thread allocates again, which an idle shim never does.
 */
#pragma once

#include <stddef.h>

/* Empties the calling thread's cache of freed objects into the arena, whose emptied pages
 * go back to the kernel (glibc: malloc_trim). */
void memtrim(void);
/* For a thread about to exit: what memtrim() does that the exit does not (jemalloc flushes
 * and frees an exiting thread's cache itself; glibc's arenas need malloc_trim). */
void memtrim_thread_exit(void);
/* Page-aligned memory for a buffer the idle trim hands back with memtrim_pages_release():
 * mapped, not static, so that it does not spread the small static variables around it over
 * pages of their own. NULL on failure. */
void *memtrim_pages_new(size_t len);
void memtrim_pages_release(void *p, size_t len);
/* Remembers where the calling thread's stack ends (call once, early, in each thread that
 * will use memtrim_stack()). */
void memtrim_stack_init(void);
/* Returns the calling thread's stack pages below the current frame to the kernel: a deep
 * request leaves its pages dirty, and glibc keeps an exited thread's stack for reuse. */
void memtrim_stack(void);
