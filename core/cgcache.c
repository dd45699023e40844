/* SPDX-License-Identifier: Apache-2.0 */
/* Open cgroup files kept per container: see cgcache.h and docs/stats.md. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "cgcache.h"

struct cgfile {
	int ctl, fd;
	char *name;
};

struct cgcache {
	pthread_mutex_t lock;
	struct cgfile *v;
	size_t n;
	/* Where the last look-up matched + 1: a read asks for the same files in the same order
	 * each time, so the next look-up usually matches there. */
	size_t hint;
};

static size_t total;  /* fds kept by all caches (atomic) */
static size_t budget; /* 0 until first needed (atomic) */

static size_t budget_get(void)
{
	size_t b = __atomic_load_n(&budget, __ATOMIC_RELAXED);
	struct rlimit rl;

	if (b)
		return b;
	b = 256;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		b = rl.rlim_cur == RLIM_INFINITY ? 1u << 16 : (size_t)rl.rlim_cur / 4;
	__atomic_store_n(&budget, b, __ATOMIC_RELAXED);
	return b;
}

void cgcache_set_budget(size_t max)
{
	__atomic_store_n(&budget, max, __ATOMIC_RELAXED);
}

struct cgcache *cgcache_new(void)
{
	struct cgcache *c = calloc(1, sizeof(*c));

	if (c)
		pthread_mutex_init(&c->lock, NULL);
	return c;
}

void cgcache_free(struct cgcache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++) {
		close(c->v[i].fd);
		free(c->v[i].name);
	}
	__atomic_sub_fetch(&total, c->n, __ATOMIC_RELAXED);
	free(c->v);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

bool cgcache_trylock(struct cgcache *c)
{
	return pthread_mutex_trylock(&c->lock) == 0;
}

void cgcache_unlock(struct cgcache *c)
{
	pthread_mutex_unlock(&c->lock);
}

static struct cgfile *find(struct cgcache *c, int ctl, const char *name)
{
	for (size_t k = 0; k < c->n; k++) {
		size_t i = (c->hint + k) % c->n;
		if (c->v[i].ctl == ctl && strcmp(c->v[i].name, name) == 0) {
			c->hint = i + 1;
			return &c->v[i];
		}
	}
	return NULL;
}

int cgcache_get(struct cgcache *c, int ctl, const char *name)
{
	struct cgfile *f = find(c, ctl, name);
	return f ? f->fd : -1;
}

int cgcache_put(struct cgcache *c, int ctl, const char *name, int fd)
{
	struct cgfile *nv;
	char *dup;

	if (__atomic_add_fetch(&total, 1, __ATOMIC_RELAXED) > budget_get()) {
		__atomic_sub_fetch(&total, 1, __ATOMIC_RELAXED);
		return -ENOSPC;
	}
	nv = realloc(c->v, (c->n + 1) * sizeof(*nv));
	dup = nv ? strdup(name) : NULL;
	if (!dup) {
		if (nv)
			c->v = nv;
		__atomic_sub_fetch(&total, 1, __ATOMIC_RELAXED);
		return -ENOMEM;
	}
	c->v = nv;
	c->v[c->n++] = (struct cgfile){ ctl, fd, dup };
	return 0;
}

void cgcache_drop_ctl(struct cgcache *c, int ctl)
{
	size_t kept = 0, n = c->n;

	for (size_t i = 0; i < n; i++) {
		if (c->v[i].ctl == ctl) {
			close(c->v[i].fd);
			free(c->v[i].name);
		} else {
			c->v[kept++] = c->v[i];
		}
	}
	c->n = kept;
	c->hint = 0;
	__atomic_sub_fetch(&total, n - kept, __ATOMIC_RELAXED);
}

size_t cgcache_nfds(struct cgcache *c)
{
	size_t n;

	pthread_mutex_lock(&c->lock);
	n = c->n;
	pthread_mutex_unlock(&c->lock);
	return n;
}

size_t cgcache_total_fds(void)
{
	return __atomic_load_n(&total, __ATOMIC_RELAXED);
}
