/* SPDX-License-Identifier: Apache-2.0 */
#include <malloc.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "memtrim.h"

#ifdef CSHIM_JEMALLOC
/*
 * jemalloc, configured for one shim per container. jemalloc reads this at its first
 * allocation (MALLOC_CONF overrides it); it lives here so that every program linking this
 * file (the shim, its unit tests) runs with it. Measured on an idle shim with a busybox
 * `sleep` container (`cshim-bench density 5 build/bin/cshim --settle 12`, Private_Dirty per
 * shim) and shim CPU per request at 64 connections (`cshim-bench rpc --method State|ShimInfo
 * --conns 64`), glibc shared and the other libraries static unless said:
 *   narenas:1,dirty_decay_ms:1000,muzzy_decay_ms:0, flushed and purged by mallctl  625 kB
 *   the same without any mallctl() call                                             561 kB
 *   narenas:1,dirty_decay_ms:0,muzzy_decay_ms:0                                      524 kB
 *   + tcache_max:4096,tcache_nslots_small_max:16 (cache of 8 on refill)              462 kB
 *   + slab_sizes:1-16384:1                                                            461 kB
 *   the same linked -static-pie (Makefile)                                            392 kB
 *   + this cache drain at idle, no page-sized static buffers (8 shims)           334-340 kB
 *   tcache:false instead: 438 kB but 12.6 instead of 5.2 us per State (28k req/s, not 170k)
 * CPU per State/ShimInfo request stayed 4.3-5.5 us in every tcache setting above.
 * Why each:
 * - No mallctl(), ever: jemalloc builds its statistics tree at the first mallctl() call,
 *   whatever the name; with one arena that is 116 kB dirty per process, for good. So the
 *   thread-cache flush below goes through allocation, and nothing purges by hand:
 * - dirty_decay_ms:0: pages freed are returned at once (an idle shim never calls jemalloc,
 *   so a decay delay would keep a burst's pages forever; no purge call is needed).
 * - One arena: one loop thread serves the hot requests, workers are few and short-lived.
 * - A small thread cache (up to 16 objects a class, none above 4 KiB): requests stay cheap
 *   (the loop thread's cache is what makes State cost ~5 us) but it pins few slabs.
 * - One-page slabs: a size class with a single live object pins one page, not up to seven.
 */
const char *malloc_conf = "narenas:1,dirty_decay_ms:0,muzzy_decay_ms:0,tcache_max:4096,"
			  "tcache_nslots_small_min:8,tcache_nslots_small_max:16,"
			  "slab_sizes:1-16384:1";

/*
 * Empties the calling thread's cache without mallctl(). jemalloc 5.3 runs one step of its
 * cache garbage collection each time a thread has allocated tcache_gc_incr_bytes (64 KiB):
 * the step visits the next size class (29 up to tcache_max 4 KiB) and returns 3/4 of the
 * objects that stayed unused since that class's previous visit (16 -> 4 -> 1 -> 0). So
 * allocating and freeing one 1 KiB object (served by the cache itself, ~20 ns) 64 times per
 * step, for four rounds of the classes, leaves the cache holding that one object (of a class
 * the shim keeps live objects of anyway: a 4 KiB one would pin a page of its own). ~7400
 * calls, ~0.15 ms, once per idle period. The unit test checks the effect with jemalloc's
 * own statistics.
 */
#define GC_INCR_BYTES 65536
#define GC_CLASSES 29
#define GC_ROUNDS 4
#define GC_OBJ 1024

static void tcache_drain(void)
{
	for (int i = 0; i < GC_ROUNDS * GC_CLASSES * (GC_INCR_BYTES / GC_OBJ); i++) {
		void *p = malloc(GC_OBJ);
		if (!p)
			return;
		__asm__ volatile("" : : "r"(p) : "memory"); /* keep the pair */
		free(p);
	}
}

void memtrim(void)
{
	tcache_drain();
}

void memtrim_thread_exit(void)
{
	/* the exit flushes and frees the cache; dirty_decay_ms:0 returns the pages */
}
#elif defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
/* ASan's or TSan's allocator: glibc's malloc is never used, and its malloc_trim (which they
 * do not intercept) would initialize glibc's unused arena, racily when two workers exit at
 * once (test_worker_pool crashed in mtrim now and then). Nothing to give back here. */
void memtrim(void)
{
}

void memtrim_thread_exit(void)
{
}
#else
/* glibc malloc (USE_JEMALLOC=0 builds, UBSan) */
void memtrim(void)
{
	(void)malloc_trim(0);
}

void memtrim_thread_exit(void)
{
	(void)malloc_trim(0);
}
#endif

void *memtrim_pages_new(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

void memtrim_pages_release(void *p, size_t len)
{
	if (p)
		(void)madvise(p, len, MADV_DONTNEED);
}

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
