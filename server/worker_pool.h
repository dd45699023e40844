/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A small pthread pool for requests that may block (they run the OCI runtime). Threads are
 * started lazily, up to a bound, and leave after being idle for a while, so an idle shim
 * holds none. Every worker is a registered RCU reader.
 */
#pragma once

/* Sets the bound and the idle time (any time: a waiting thread uses the new idle time when it
 * next waits). */
int worker_pool_init(int max_threads, int idle_ms);
/* Queues fn(arg). Returns 0 or -ENOMEM / -EAGAIN (queue full). */
int worker_pool_submit(void (*fn)(void *), void *arg);
int worker_pool_threads(void);
/* Threads waiting for a job (for tests). */
int worker_pool_idle(void);
/* Before any thread starts: threads created elsewhere (the reaper, liburcu's call_rcu
 * thread) get the same small stack as ours instead of glibc's 8 MiB, which no thread here
 * uses but which is address space and, with vm.overcommit_memory=2, commit charge. */
int thread_defaults_init(void);
/* Creates a thread with every signal blocked and a small stack. */
int thread_start(const char *name, void *(*fn)(void *), void *arg);
