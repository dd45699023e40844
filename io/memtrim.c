/* SPDX-License-Identifier: Apache-2.0 */
#include <malloc.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>

#include "memtrim.h"

#ifdef CSHIM_JEMALLOC
#include <jemalloc/jemalloc.h>

#define STR_(x) #x
#define STR(x) STR_(x)

void memtrim(void)
{
	(void)mallctl("thread.tcache.flush", NULL, NULL, NULL, 0);
	(void)mallctl("arena." STR(MALLCTL_ARENAS_ALL) ".purge", NULL, NULL, NULL, 0);
}
#else
/* glibc malloc (sanitizer and USE_JEMALLOC=0 builds) */
void memtrim(void)
{
	(void)malloc_trim(0);
}
#endif

static __thread uintptr_t stack_lo;

void memtrim_stack_init(void)
{
	pthread_attr_t a;
	void *addr;
	size_t size;

	if (pthread_getattr_np(pthread_self(), &a) != 0)
		return;
	if (pthread_attr_getstack(&a, &addr, &size) == 0)
		stack_lo = (uintptr_t)addr;
	pthread_attr_destroy(&a);
}

void memtrim_stack(void)
{
	/* One page of margin below this frame covers the red zone and madvise's own call. */
	uintptr_t hi = ((uintptr_t)__builtin_frame_address(0) - 4096) & ~(uintptr_t)4095;

	/* Holes in the range (the main thread's stack grows on demand) only make it ENOMEM. */
	if (stack_lo && hi > stack_lo)
		(void)madvise((void *)stack_lo, hi - stack_lo, MADV_DONTNEED);
}
