/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A container's cgroup files kept open between Stats (core/cgstats.c reads them again with
 * pread from offset 0: a cgroupfs or procfs seq_file regenerates its text on such a read).
 * Keyed by a controller index and a file name; one reader at a time (cgcache_trylock), the
 * others read without it. The fds count against one budget for the whole process, a quarter
 * of RLIMIT_NOFILE's soft limit: past it, files are opened per read as without a cache.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct cgcache;

struct cgcache *cgcache_new(void);
/* Closes every kept fd. NULL is a no-op. */
void cgcache_free(struct cgcache *c);

/* Takes c for one reader: false if another reader has it (read without the cache then). */
bool cgcache_trylock(struct cgcache *c);
void cgcache_unlock(struct cgcache *c);

/* With c taken: the fd kept for (ctl, name), or -1. */
int cgcache_get(struct cgcache *c, int ctl, const char *name);
/* With c taken: keeps fd for (ctl, name) and owns it (0), or leaves it to the caller
 * (-ENOSPC past the budget, -ENOMEM). */
int cgcache_put(struct cgcache *c, int ctl, const char *name, int fd);
/* With c taken: closes and forgets every fd of ctl (its cgroup directory is gone, or going). */
void cgcache_drop_ctl(struct cgcache *c, int ctl);

/* The fds c keeps, and all caches of the process together (for tests and the docs' figures). */
size_t cgcache_nfds(struct cgcache *c);
size_t cgcache_total_fds(void);
/* The process-wide budget in fds (0: the default from RLIMIT_NOFILE). For tests. */
void cgcache_set_budget(size_t max);
