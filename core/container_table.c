/* SPDX-License-Identifier: Apache-2.0 */
/* The container objects and the shim's container table: an RCU hash table by id. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "container_priv.h"

/* Fixed size, no auto-resize (as the process tables): a pod's containers are few. */
#define LFHT_BUCKETS 16

static struct cds_lfht *by_id;
/* Writers of the table (add, remove) and the count; a leaf. Readers take no lock. */
static pthread_mutex_t table_mu = PTHREAD_MUTEX_INITIALIZER;
static atomic_uint n_containers;

static unsigned long hash_id(const char *s)
{
	unsigned long h = 1469598103934665603UL; /* FNV-1a */
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211UL;
	}
	return h;
}

int container_table_init(void)
{
	if (by_id)
		return 0;
	by_id = cds_lfht_new_flavor(LFHT_BUCKETS, LFHT_BUCKETS, LFHT_BUCKETS, 0, &urcu_memb_flavor,
				    NULL);
	return by_id ? 0 : -ENOMEM;
}

struct container *container_new(const char *id, const char *bundle)
{
	struct container *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->id = strdup(id);
	c->bundle = strdup(bundle);
	if (!c->id || !c->bundle) {
		free(c->id);
		free(c->bundle);
		free(c);
		return NULL;
	}
	atomic_init(&c->refs, 1);
	pthread_mutex_init(&c->mu, NULL);
	pthread_mutex_init(&c->hold_mu, NULL);
	cds_lfht_node_init(&c->node);
	return c;
}

struct container *container_ref(struct container *c)
{
	atomic_fetch_add(&c->refs, 1);
	return c;
}

void container_unref(struct container *c)
{
	if (!c || atomic_fetch_sub(&c->refs, 1) != 1)
		return;
	runtime_free(&c->rt);
	container_stats_forget(c);
	free(c->criu_work_path);
	free(c->dump_log);
	pthread_mutex_destroy(&c->mu);
	pthread_mutex_destroy(&c->hold_mu);
	free(c->id);
	free(c->bundle);
	free(c);
}

const char *container_id(const struct container *c)
{
	return c ? c->id : "";
}

unsigned container_count(void)
{
	return atomic_load(&n_containers);
}

/* A container reached through the table's links: acquire what its publication released
 * (liburcu-cds links nodes with its own barriers, which ThreadSanitizer cannot see). */
static struct container *linked(struct container *c)
{
	(void)atomic_load_explicit(&c->published, memory_order_acquire);
	return c;
}

static int match_id(struct cds_lfht_node *node, const void *key)
{
	return strcmp(linked(caa_container_of(node, struct container, node))->id, key) == 0;
}

int container_table_add(struct container *c, bool only_one)
{
	struct cds_lfht_node *n;
	int r = 0;

	pthread_mutex_lock(&table_mu);
	if (only_one && atomic_load(&n_containers) > 0) {
		r = -EEXIST;
	} else {
		container_ref(c);
		atomic_store_explicit(&c->published, true, memory_order_release);
		urcu_memb_read_lock();
		n = cds_lfht_add_unique(by_id, hash_id(c->id), match_id, c->id, &c->node);
		urcu_memb_read_unlock();
		if (n != &c->node) {
			container_unref(c);
			r = -EEXIST;
		} else {
			c->in_table = true;
			atomic_fetch_add(&n_containers, 1);
		}
	}
	pthread_mutex_unlock(&table_mu);
	return r;
}

static void container_unref_rcu(struct rcu_head *h)
{
	proc_rcu_gp_acquire(); /* TSan: after the readers of the grace period (process.h) */
	container_unref(caa_container_of(h, struct container, rcu));
}

void container_table_remove(struct container *c)
{
	bool was;

	pthread_mutex_lock(&table_mu);
	was = c->in_table;
	if (was) {
		urcu_memb_read_lock();
		(void)cds_lfht_del(by_id, &c->node);
		urcu_memb_read_unlock();
		c->in_table = false;
		atomic_fetch_sub(&n_containers, 1);
	}
	pthread_mutex_unlock(&table_mu);
	if (was) {
		proc_rcu_gp_release();
		urcu_memb_call_rcu(&c->rcu, container_unref_rcu);
	}
}

struct container *container_table_find(const char *id)
{
	struct cds_lfht_iter it;
	struct cds_lfht_node *n;

	cds_lfht_lookup(by_id, hash_id(id), match_id, id, &it);
	n = cds_lfht_iter_get_node(&it);
	return n ? linked(caa_container_of(n, struct container, node)) : NULL;
}

struct container *container_get(const char *id)
{
	struct container *c;

	urcu_memb_read_lock();
	c = container_table_find(id);
	if (c)
		container_ref(c);
	urcu_memb_read_unlock();
	return c;
}
