/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the container table (core/container_table.c) and the process tables across
 * containers (core/process.c): add, find, remove under RCU, the count of containers left,
 * exec ids per container, the shim-wide pid table. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/container_priv.h"

static int crefs(struct container *c)
{
	return atomic_load(&c->refs);
}

static struct container *find_locked(const char *id)
{
	struct container *c;
	urcu_memb_read_lock();
	c = container_table_find(id);
	urcu_memb_read_unlock();
	return c; /* compared by address only */
}

static struct proc *find_proc_locked(const struct container *c, const char *id)
{
	struct proc *p;
	urcu_memb_read_lock();
	p = proc_table_find_id(c, id);
	urcu_memb_read_unlock();
	return p;
}

static struct proc *find_pid_locked(uint32_t pid)
{
	struct proc *p;
	urcu_memb_read_lock();
	p = proc_table_find_pid(pid);
	urcu_memb_read_unlock();
	return p;
}

static void set_pid(struct proc *p, uint32_t pid)
{
	struct proc_snap s;
	pthread_mutex_lock(&p->st_mu);
	s = *p->snap;
	s.pid = pid;
	assert_int_equal(proc_snap_set(p, &s), 0);
	pthread_mutex_unlock(&p->st_mu);
}

static void test_add_find_remove(void **state)
{
	(void)state;
	unsigned n0 = container_count();
	struct container *a = container_new("ct-a", "/bundles/a");
	struct container *b = container_new("ct-b", "/bundles/b");
	struct container *dup = container_new("ct-a", "/bundles/other");

	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(dup);
	assert_string_equal(container_id(a), "ct-a");
	assert_string_equal(a->bundle, "/bundles/a");
	assert_string_equal(container_id(NULL), "");
	assert_null(find_locked("ct-a"));

	assert_int_equal(container_table_add(a, false), 0);
	assert_int_equal(crefs(a), 2); /* the table's reference */
	assert_int_equal(container_count(), n0 + 1);
	assert_ptr_equal(find_locked("ct-a"), a);
	assert_null(find_locked("ct-"));
	assert_null(find_locked("ct-b"));

	/* a taken id: refused, no reference kept, the count unchanged */
	assert_int_equal(container_table_add(dup, false), -EEXIST);
	assert_int_equal(crefs(dup), 1);
	assert_int_equal(container_count(), n0 + 1);
	assert_ptr_equal(find_locked("ct-a"), a);

	/* only_one (v1): a second container is refused while one is in the table */
	assert_int_equal(container_table_add(b, true), -EEXIST);
	assert_int_equal(crefs(b), 1);
	assert_null(find_locked("ct-b"));
	assert_int_equal(container_table_add(b, false), 0);
	assert_int_equal(container_count(), n0 + 2);

	/* get takes a reference */
	struct container *g = container_get("ct-b");
	assert_ptr_equal(g, b);
	assert_int_equal(crefs(b), 3);
	container_unref(g);
	assert_null(container_get("nope"));

	/* remove: gone at once, the table's reference after a grace period */
	container_table_remove(a);
	assert_null(find_locked("ct-a"));
	assert_ptr_equal(find_locked("ct-b"), b);
	assert_int_equal(container_count(), n0 + 1);
	container_table_remove(a); /* twice: nothing more */
	assert_int_equal(container_count(), n0 + 1);
	urcu_memb_barrier();
	assert_int_equal(crefs(a), 1);

	/* the id is free again (v1: Create after Delete) */
	assert_int_equal(container_table_add(dup, false), 0);
	assert_ptr_equal(find_locked("ct-a"), dup);

	container_table_remove(dup);
	container_table_remove(b);
	assert_int_equal(container_count(), n0);
	/* only_one again allowed once the table is empty */
	assert_int_equal(container_table_add(a, true), 0);
	assert_int_equal(container_count(), n0 + 1);
	container_table_remove(a);
	assert_int_equal(container_count(), n0);
	urcu_memb_barrier();
	assert_int_equal(crefs(a), 1);
	assert_int_equal(crefs(b), 1);
	assert_int_equal(crefs(dup), 1);
	container_unref(a);
	container_unref(b);
	container_unref(dup);
}

/* Two containers of the shim both have an exec "e1" and an init of their own id; the pid
 * table finds each process, whichever container it belongs to. */
static void test_same_exec_id_and_pids(void **state)
{
	(void)state;
	struct container *c1 = container_new("pod-1", "/b1");
	struct container *c2 = container_new("pod-2", "/b2");
	struct proc *i1 = proc_new("pod-1", true, NULL, NULL, NULL, false);
	struct proc *e1 = proc_new("e1", false, NULL, NULL, NULL, false);
	struct proc *e2 = proc_new("e1", false, NULL, NULL, NULL, false);
	struct proc *e1dup = proc_new("e1", false, NULL, NULL, NULL, false);

	assert_int_equal(container_table_add(c1, false), 0);
	assert_int_equal(container_table_add(c2, false), 0);
	proc_set_container(i1, c1);
	proc_set_container(e1, c1);
	proc_set_container(e2, c2);
	proc_set_container(e1dup, c1);
	assert_int_equal(crefs(c1), 5); /* own, table, three processes */
	assert_int_equal(crefs(c2), 3);

	assert_int_equal(proc_table_add(i1), 0);
	assert_int_equal(proc_table_add(e1), 0);
	assert_int_equal(proc_table_add(e2), 0); /* same id, other container */
	assert_int_equal(proc_table_add(e1dup), -EEXIST);
	assert_ptr_equal(find_proc_locked(c1, "e1"), e1);
	assert_ptr_equal(find_proc_locked(c2, "e1"), e2);
	assert_ptr_equal(find_proc_locked(c1, "pod-1"), i1);
	assert_null(find_proc_locked(c2, "pod-1"));
	assert_null(find_proc_locked(NULL, "e1")); /* no container: nothing */
	struct proc *g = proc_table_get(c2, "e1");
	assert_ptr_equal(g, e2);
	proc_unref(g);

	/* the pid table is the shim's: processes of both containers */
	set_pid(e1, 7001);
	assert_int_equal(proc_table_map_pid(e1, 7001), 0);
	set_pid(e2, 7002);
	assert_int_equal(proc_table_map_pid(e2, 7002), 0);
	set_pid(i1, 7003);
	assert_int_equal(proc_table_map_pid(i1, 7003), 0);
	assert_ptr_equal(find_pid_locked(7001), e1);
	assert_ptr_equal(find_pid_locked(7001)->c, c1);
	assert_ptr_equal(find_pid_locked(7002), e2);
	assert_ptr_equal(find_pid_locked(7002)->c, c2);
	assert_ptr_equal(find_pid_locked(7003), i1);
	assert_null(find_pid_locked(7004));

	/* removing one container's e1 leaves the other's */
	proc_table_remove(e1);
	assert_null(find_proc_locked(c1, "e1"));
	assert_null(find_pid_locked(7001));
	assert_ptr_equal(find_proc_locked(c2, "e1"), e2);
	assert_ptr_equal(find_pid_locked(7002), e2);

	/* the container leaves the table: its processes still find it, the table does not */
	container_table_remove(c1);
	assert_null(find_locked("pod-1"));
	assert_ptr_equal(find_locked("pod-2"), c2);
	assert_ptr_equal(find_proc_locked(c1, "pod-1"), i1);

	proc_table_remove(i1);
	proc_table_remove(e2);
	container_table_remove(c2);
	urcu_memb_barrier();
	/* the processes' references to their container go with them */
	assert_int_equal(crefs(c1), 4);
	proc_unref(e1dup);
	proc_unref(e1);
	proc_unref(i1);
	assert_int_equal(crefs(c1), 1);
	proc_unref(e2);
	assert_int_equal(crefs(c2), 1);
	container_unref(c1);
	container_unref(c2);
}

/* ---- concurrency: readers look containers up while a writer adds and removes ---- */

#define NSLOTS 16

static atomic_bool stop;
static atomic_long lookups, hits, bad;

static void *reader(void *arg)
{
	char id[32];
	unsigned k = 0;
	(void)arg;
	urcu_memb_register_thread();
	while (!atomic_load(&stop)) {
		snprintf(id, sizeof(id), "conc-%u", k++ % NSLOTS);
		urcu_memb_read_lock();
		struct container *c = container_table_find(id);
		/* found: its id matches and it is alive (freed only after a grace period) */
		if (c && (strcmp(c->id, id) != 0 || atomic_load(&c->refs) <= 0))
			atomic_fetch_add(&bad, 1);
		if (c)
			atomic_fetch_add(&hits, 1);
		urcu_memb_read_unlock();
		struct container *g = container_get(id);
		if (g && strcmp(container_id(g), id) != 0)
			atomic_fetch_add(&bad, 1);
		container_unref(g);
		atomic_fetch_add(&lookups, 1);
	}
	urcu_memb_unregister_thread();
	return NULL;
}

static void test_concurrent_lookups(void **state)
{
	(void)state;
	pthread_t th[2];
	struct container *slot[NSLOTS] = { 0 };
	unsigned n0 = container_count();
	int in = 0;

	atomic_store(&stop, false);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&th[i], NULL, reader, NULL), 0);
	atomic_store(&lookups, 0);
	atomic_store(&hits, 0);
	/* at least 3000 rounds, and on until the readers looked up enough (whatever the pace) */
	for (int round = 0; round < 3000 || atomic_load(&lookups) < 2000 || atomic_load(&hits) == 0;
	     round++) {
		unsigned k = (unsigned)(round * 7) % NSLOTS;
		if (slot[k]) {
			container_table_remove(slot[k]);
			container_unref(slot[k]);
			slot[k] = NULL;
			in--;
		} else {
			char id[32];
			snprintf(id, sizeof(id), "conc-%u", k);
			slot[k] = container_new(id, "/b");
			assert_non_null(slot[k]);
			assert_int_equal(container_table_add(slot[k], false), 0);
			in++;
		}
		assert_int_equal(container_count(), n0 + (unsigned)in);
	}
	atomic_store(&stop, true);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	for (unsigned k = 0; k < NSLOTS; k++) {
		if (slot[k]) {
			container_table_remove(slot[k]);
			container_unref(slot[k]);
		}
	}
	urcu_memb_barrier();
	assert_int_equal(container_count(), n0);
	assert_int_equal(atomic_load(&bad), 0);
}

static int group_setup(void **state)
{
	(void)state;
	urcu_memb_register_thread();
	if (container_table_init() < 0)
		return -1;
	return proc_table_init();
}

static int group_teardown(void **state)
{
	(void)state;
	urcu_memb_barrier();
	urcu_memb_unregister_thread();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_find_remove),
		cmocka_unit_test(test_same_exec_id_and_pids),
		cmocka_unit_test(test_concurrent_lookups),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
