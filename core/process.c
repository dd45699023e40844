/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <urcu/urcu-memb.h>
#include <urcu/rculfhash.h>

#include "../io/base.h"
#include "container.h"
#include "process.h"

/* Fixed size, no auto-resize: a shim holds one container (v1) or a pod's few, and their execs
 * (an exec storm of 500 still means chains of ~8), and auto-resize costs a resize worker
 * thread in every shim. */
#define LFHT_BUCKETS 64
static struct cds_lfht *by_id, *by_pid;

static unsigned long hash_str(const char *s)
{
	/* FNV-1a */
	unsigned long h = 1469598103934665603UL;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211UL;
	}
	return h;
}

/* A process's key in by_id: its container and its id. */
struct proc_key {
	const struct container *c;
	const char *id;
};

static unsigned long hash_key(const struct container *c, const char *id)
{
	unsigned long h = hash_str(id) ^ ((uintptr_t)c >> 4);
	return h * 0x9e3779b97f4a7c15UL;
}

static unsigned long hash_pid(uint32_t pid)
{
	unsigned long h = pid;
	h ^= h >> 16;
	h *= 0x45d9f3bUL;
	h ^= h >> 16;
	return h;
}

struct proc *proc_new(const char *id, bool is_init, const char *in, const char *out,
		      const char *err, bool terminal)
{
	struct proc *p = calloc(1, sizeof(*p));
	struct proc_snap *s = calloc(1, sizeof(*s));

	if (!p || !s)
		goto fail;
	p->id = strdup(id);
	p->in = strdup(in ? in : "");
	p->out = strdup(out ? out : "");
	p->err = strdup(err ? err : "");
	if (!p->id || !p->in || !p->out || !p->err)
		goto fail;
	p->is_init = is_init;
	p->terminal = terminal;
	p->pidfd = -1;
	p->logger.pidfd = -1;
	s->status = PROC_CREATED;
	p->snap = s;
	atomic_init(&p->refs, 1);
	pthread_mutex_init(&p->mu, NULL);
	pthread_mutex_init(&p->st_mu, NULL);
	cds_lfht_node_init(&p->id_node);
	cds_lfht_node_init(&p->pid_node);
	stdio_init(&p->io);
	return p;
fail:
	if (p) {
		free(p->id);
		free(p->in);
		free(p->out);
		free(p->err);
	}
	free(p);
	free(s);
	return NULL;
}

struct proc *proc_ref(struct proc *p)
{
	atomic_fetch_add(&p->refs, 1);
	return p;
}

void proc_unref(struct proc *p)
{
	if (!p || atomic_fetch_sub(&p->refs, 1) != 1)
		return;
	stdio_destroy(&p->io);
	safe_close(p->pidfd);
	if (p->logger.pid > 0)
		logger_stop(&p->logger);
	free(p->snap); /* no reader can hold it: the process left the tables a grace period ago */
	free(p->spec_json);
	free(p->ckpt_image);
	free(p->ckpt_parent);
	free(p->id);
	free(p->in);
	free(p->out);
	free(p->err);
	pthread_mutex_destroy(&p->mu);
	pthread_mutex_destroy(&p->st_mu);
	container_unref(p->c);
	free(p);
}

void proc_set_container(struct proc *p, struct container *c)
{
	p->c = c ? container_ref(c) : NULL;
}

void proc_snap_get(struct proc *p, struct proc_snap *out)
{
	struct proc_snap *s;
	urcu_memb_read_lock();
	s = proc_snap_deref(p);
	*out = *s;
	urcu_memb_read_unlock();
}

#ifdef __SANITIZE_THREAD__
char proc_rcu_gp;
#endif

static void snap_free_rcu(struct rcu_head *h)
{
	proc_rcu_gp_acquire();
	free(caa_container_of(h, struct proc_snap, rcu));
}

int proc_snap_set(struct proc *p, const struct proc_snap *s)
{
	struct proc_snap *n = malloc(sizeof(*n)), *old;
	if (!n)
		return -ENOMEM;
	*n = *s;
	old = __atomic_exchange_n(&p->snap, n, __ATOMIC_ACQ_REL);
	proc_rcu_gp_release();
	urcu_memb_call_rcu(&old->rcu, snap_free_rcu);
	return 0;
}

enum proc_status proc_transition(struct proc *p, unsigned from_mask, enum proc_status st)
{
	struct proc_snap s;
	enum proc_status old;

	pthread_mutex_lock(&p->st_mu);
	s = *p->snap;
	old = s.status;
	if (from_mask & (1u << old)) {
		s.status = st;
		(void)proc_snap_set(p, &s);
	}
	pthread_mutex_unlock(&p->st_mu);
	return old;
}

int proc_wait_add(struct proc *p, struct proc_waiter *w, uint32_t *ret_status,
		  struct timespec *ret_at)
{
	pthread_mutex_lock(&p->st_mu);
	if (p->released) {
		*ret_status = p->rel_status;
		*ret_at = p->rel_at;
		pthread_mutex_unlock(&p->st_mu);
		return 1;
	}
	w->next = p->waiters;
	p->waiters = w;
	pthread_mutex_unlock(&p->st_mu);
	return 0;
}

void proc_wait_release(struct proc *p, uint32_t status, const struct timespec *at)
{
	struct proc_waiter *w;

	pthread_mutex_lock(&p->st_mu);
	if (p->released) {
		pthread_mutex_unlock(&p->st_mu);
		return;
	}
	p->released = true;
	p->rel_status = status;
	p->rel_at = *at;
	w = p->waiters;
	p->waiters = NULL;
	pthread_mutex_unlock(&p->st_mu);
	while (w) {
		struct proc_waiter *next = w->next;
		w->fn(w, status, at);
		w = next;
	}
}

bool proc_wait_released(struct proc *p)
{
	bool r;
	pthread_mutex_lock(&p->st_mu);
	r = p->released;
	pthread_mutex_unlock(&p->st_mu);
	return r;
}

int proc_table_init(void)
{
	by_id = cds_lfht_new_flavor(LFHT_BUCKETS, LFHT_BUCKETS, LFHT_BUCKETS, 0, &urcu_memb_flavor,
				    NULL);
	by_pid = cds_lfht_new_flavor(LFHT_BUCKETS, LFHT_BUCKETS, LFHT_BUCKETS, 0, &urcu_memb_flavor,
				     NULL);
	return by_id && by_pid ? 0 : -ENOMEM;
}

/* A process reached through the tables' links: acquire what its publication released. */
static struct proc *linked(struct proc *p)
{
	(void)atomic_load_explicit(&p->published, memory_order_acquire);
	return p;
}

static const char *proc_key_of(const struct proc *p)
{
	return p->key ? p->key : p->id;
}

static int match_id(struct cds_lfht_node *node, const void *key)
{
	struct proc *p = linked(caa_container_of(node, struct proc, id_node));
	const struct proc_key *k = key;
	return p->c == k->c && strcmp(proc_key_of(p), k->id) == 0;
}

static int match_pid(struct cds_lfht_node *node, const void *key)
{
	struct proc *p = linked(caa_container_of(node, struct proc, pid_node));
	return proc_snap_deref(p)->pid == *(const uint32_t *)key;
}

int proc_table_add(struct proc *p)
{
	struct cds_lfht_node *n;

	proc_ref(p);
	atomic_store_explicit(&p->published, true, memory_order_release);
	urcu_memb_read_lock();
	n = cds_lfht_add_unique(by_id, hash_key(p->c, proc_key_of(p)), match_id,
				&(struct proc_key){ p->c, proc_key_of(p) }, &p->id_node);
	urcu_memb_read_unlock();
	if (n != &p->id_node) {
		proc_unref(p);
		return -EEXIST;
	}
	return 0;
}

int proc_table_map_pid(struct proc *p, uint32_t pid)
{
	/* The snapshot carries the pid the match function compares: publish it first. */
	atomic_store_explicit(&p->published, true, memory_order_release);
	urcu_memb_read_lock();
	cds_lfht_add(by_pid, hash_pid(pid), &p->pid_node);
	urcu_memb_read_unlock();
	p->pid_mapped = true;
	return 0;
}

static void proc_unref_rcu(struct rcu_head *h)
{
	proc_rcu_gp_acquire();
	proc_unref(caa_container_of(h, struct proc, rcu));
}

void proc_table_remove(struct proc *p)
{
	urcu_memb_read_lock();
	(void)cds_lfht_del(by_id, &p->id_node);
	if (p->pid_mapped)
		(void)cds_lfht_del(by_pid, &p->pid_node);
	urcu_memb_read_unlock();
	proc_rcu_gp_release();
	urcu_memb_call_rcu(&p->rcu, proc_unref_rcu);
}

struct proc *proc_table_find_id(const struct container *c, const char *id)
{
	struct cds_lfht_iter it;
	struct cds_lfht_node *n;

	cds_lfht_lookup(by_id, hash_key(c, id), match_id, &(struct proc_key){ c, id }, &it);
	n = cds_lfht_iter_get_node(&it);
	return n ? linked(caa_container_of(n, struct proc, id_node)) : NULL;
}

struct proc *proc_table_find_pid(uint32_t pid)
{
	struct cds_lfht_iter it;
	struct cds_lfht_node *n;

	if (pid == 0)
		return NULL;
	cds_lfht_lookup(by_pid, hash_pid(pid), match_pid, &pid, &it);
	n = cds_lfht_iter_get_node(&it);
	return n ? linked(caa_container_of(n, struct proc, pid_node)) : NULL;
}

struct proc *proc_table_get(const struct container *c, const char *id)
{
	struct proc *p;
	urcu_memb_read_lock();
	p = proc_table_find_id(c, id);
	if (p)
		proc_ref(p);
	urcu_memb_read_unlock();
	return p;
}
