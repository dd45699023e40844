/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for core/process.h: process objects, snapshots, waiters and the RCU tables. */
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
#include <time.h>

#include <cmocka.h>

#include "core/process.h"

static int refs(struct proc *p)
{
	return atomic_load(&p->refs);
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

static struct proc *find_id_locked(const char *id)
{
	struct proc *p;
	urcu_memb_read_lock();
	p = proc_table_find_id(id);
	urcu_memb_read_unlock();
	return p; /* compared by address only */
}

static struct proc *find_pid_locked(uint32_t pid)
{
	struct proc *p;
	urcu_memb_read_lock();
	p = proc_table_find_pid(pid);
	urcu_memb_read_unlock();
	return p;
}

static void test_proc_new(void **state)
{
	(void)state;
	const char *id = "init-1";
	struct proc *p = proc_new(id, true, "/run/in", "/run/out", "/run/err", true);
	struct proc *e = proc_new("exec-1", false, NULL, NULL, NULL, false);
	struct proc_snap s;

	assert_non_null(p);
	assert_string_equal(p->id, "init-1");
	assert_ptr_not_equal(p->id, id); /* a copy */
	assert_true(p->is_init);
	assert_string_equal(p->in, "/run/in");
	assert_string_equal(p->out, "/run/out");
	assert_string_equal(p->err, "/run/err");
	assert_true(p->terminal);
	assert_int_equal(p->pidfd, -1);
	assert_int_equal(refs(p), 1);
	proc_snap_get(p, &s);
	assert_int_equal(s.status, PROC_CREATED);
	assert_int_equal(s.pid, 0);
	assert_int_equal(s.exit_status, 0);
	assert_int_equal(s.exited_at.tv_sec, 0);
	assert_int_equal(s.exited_at.tv_nsec, 0);
	assert_false(proc_wait_released(p));

	assert_non_null(e);
	assert_false(e->is_init);
	assert_false(e->terminal);
	assert_string_equal(e->in, "");
	assert_string_equal(e->out, "");
	assert_string_equal(e->err, "");

	assert_ptr_equal(proc_ref(p), p);
	assert_int_equal(refs(p), 2);
	proc_unref(p);
	assert_int_equal(refs(p), 1);
	proc_unref(p);
	proc_unref(e);
	proc_unref(NULL); /* allowed */
}

static void test_snap_set_get(void **state)
{
	(void)state;
	struct proc *p = proc_new("snap-1", false, NULL, NULL, NULL, false);
	struct proc_snap s = { .status = PROC_STOPPED,
			       .pid = 4242,
			       .exit_status = 137,
			       .exited_at = { 1795865281, 626643803 } };
	struct proc_snap got;

	assert_non_null(p);
	pthread_mutex_lock(&p->st_mu);
	assert_int_equal(proc_snap_set(p, &s), 0);
	pthread_mutex_unlock(&p->st_mu);
	proc_snap_get(p, &got);
	assert_int_equal(got.status, PROC_STOPPED);
	assert_int_equal(got.pid, 4242);
	assert_int_equal(got.exit_status, 137);
	assert_int_equal(got.exited_at.tv_sec, 1795865281);
	assert_int_equal(got.exited_at.tv_nsec, 626643803);
	/* the published snapshot is a copy, not the caller's struct */
	s.pid = 1;
	proc_snap_get(p, &got);
	assert_int_equal(got.pid, 4242);
	urcu_memb_barrier();
	proc_unref(p);
}

static void test_transition_masks(void **state)
{
	(void)state;
	struct proc *p = proc_new("tr-1", true, NULL, NULL, NULL, false);
	struct proc_snap s;

	assert_non_null(p);
	set_pid(p, 31337);
	/* created -> running */
	assert_int_equal(proc_transition(p, 1u << PROC_CREATED, PROC_RUNNING), PROC_CREATED);
	proc_snap_get(p, &s);
	assert_int_equal(s.status, PROC_RUNNING);
	assert_int_equal(s.pid, 31337); /* other fields kept */
	/* not in the mask: no change, the current status is returned */
	assert_int_equal(proc_transition(p, 1u << PROC_CREATED, PROC_DELETED), PROC_RUNNING);
	proc_snap_get(p, &s);
	assert_int_equal(s.status, PROC_RUNNING);
	/* empty mask never transitions */
	assert_int_equal(proc_transition(p, 0, PROC_STOPPED), PROC_RUNNING);
	proc_snap_get(p, &s);
	assert_int_equal(s.status, PROC_RUNNING);
	/* multi-status mask */
	assert_int_equal(
		proc_transition(p, (1u << PROC_RUNNING) | (1u << PROC_PAUSED), PROC_PAUSING),
		PROC_RUNNING);
	assert_int_equal(proc_transition(p, 1u << PROC_PAUSING, PROC_PAUSED), PROC_PAUSING);
	assert_int_equal(
		proc_transition(p, (1u << PROC_RUNNING) | (1u << PROC_PAUSED), PROC_STOPPED),
		PROC_PAUSED);
	proc_snap_get(p, &s);
	assert_int_equal(s.status, PROC_STOPPED);
	assert_int_equal(proc_transition(p, 1u << PROC_STOPPED, PROC_DELETED), PROC_STOPPED);
	proc_snap_get(p, &s);
	assert_int_equal(s.status, PROC_DELETED);
	assert_int_equal(s.pid, 31337);
	urcu_memb_barrier();
	proc_unref(p);
}

struct test_waiter {
	struct proc_waiter w; /* first */
	int calls;
	uint32_t status;
	struct timespec at;
};

static void waiter_fn(struct proc_waiter *w, uint32_t exit_status, const struct timespec *at)
{
	struct test_waiter *t = (struct test_waiter *)w;
	t->calls++;
	t->status = exit_status;
	t->at = *at;
}

static void test_waiters(void **state)
{
	(void)state;
	struct proc *p = proc_new("wait-1", false, NULL, NULL, NULL, false);
	struct test_waiter a = { .w.fn = waiter_fn }, b = { .w.fn = waiter_fn },
			   late = { .w.fn = waiter_fn };
	struct timespec at = { 1795865281, 626643803 }, at2 = { 5, 6 }, got_at = { 0, 0 };
	uint32_t got = 0;

	assert_non_null(p);
	assert_int_equal(proc_wait_add(p, &a.w, &got, &got_at), 0);
	assert_int_equal(proc_wait_add(p, &b.w, &got, &got_at), 0);
	assert_int_equal(a.calls, 0);
	assert_false(proc_wait_released(p));

	proc_wait_release(p, 137, &at);
	assert_true(proc_wait_released(p));
	assert_int_equal(a.calls, 1);
	assert_int_equal(b.calls, 1);
	assert_int_equal(a.status, 137);
	assert_int_equal(b.status, 137);
	assert_int_equal(a.at.tv_sec, at.tv_sec);
	assert_int_equal(a.at.tv_nsec, at.tv_nsec);
	assert_int_equal(b.at.tv_nsec, at.tv_nsec);

	/* once: a second release changes nothing and calls nobody */
	proc_wait_release(p, 1, &at2);
	assert_int_equal(a.calls, 1);
	assert_int_equal(b.calls, 1);

	/* a late waiter gets the first result right away and is not queued */
	assert_int_equal(proc_wait_add(p, &late.w, &got, &got_at), 1);
	assert_int_equal(got, 137);
	assert_int_equal(got_at.tv_sec, at.tv_sec);
	assert_int_equal(got_at.tv_nsec, at.tv_nsec);
	assert_int_equal(late.calls, 0);
	proc_wait_release(p, 2, &at2);
	assert_int_equal(late.calls, 0);
	proc_unref(p);
}

static void test_release_without_waiters(void **state)
{
	(void)state;
	struct proc *p = proc_new("wait-2", false, NULL, NULL, NULL, false);
	struct timespec at = { 7, 8 }, got_at;
	struct test_waiter w = { .w.fn = waiter_fn };
	uint32_t got = 99;

	assert_non_null(p);
	proc_wait_release(p, 0, &at);
	assert_int_equal(proc_wait_add(p, &w.w, &got, &got_at), 1);
	assert_int_equal(got, 0);
	assert_int_equal(got_at.tv_sec, 7);
	assert_int_equal(got_at.tv_nsec, 8);
	assert_int_equal(w.calls, 0);
	proc_unref(p);
}

static void test_table_add_find_remove(void **state)
{
	(void)state;
	struct proc *p = proc_new("tbl-1", true, NULL, NULL, NULL, false);
	struct proc *q = proc_new("tbl-2", false, NULL, NULL, NULL, false);

	assert_non_null(p);
	assert_non_null(q);
	assert_null(find_id_locked("tbl-1"));
	assert_int_equal(proc_table_add(p), 0);
	assert_int_equal(refs(p), 2); /* the table's reference */
	assert_int_equal(proc_table_add(q), 0);
	assert_ptr_equal(find_id_locked("tbl-1"), p);
	assert_ptr_equal(find_id_locked("tbl-2"), q);
	assert_null(find_id_locked("tbl-"));
	assert_null(find_id_locked("tbl-10"));
	assert_null(find_id_locked(""));

	/* get takes a reference */
	struct proc *g = proc_table_get("tbl-1");
	assert_ptr_equal(g, p);
	assert_int_equal(refs(p), 3);
	proc_unref(g);
	assert_null(proc_table_get("nope"));

	/* pids: set the snapshot first, then map */
	assert_null(find_pid_locked(5001));
	set_pid(p, 5001);
	assert_int_equal(proc_table_map_pid(p, 5001), 0);
	set_pid(q, 5002);
	assert_int_equal(proc_table_map_pid(q, 5002), 0);
	assert_ptr_equal(find_pid_locked(5001), p);
	assert_ptr_equal(find_pid_locked(5002), q);
	assert_null(find_pid_locked(5003));
	assert_null(find_pid_locked(0));

	/* remove: both maps forget it at once; the table's reference goes after a grace period */
	proc_table_remove(p);
	assert_null(find_id_locked("tbl-1"));
	assert_null(find_pid_locked(5001));
	assert_ptr_equal(find_id_locked("tbl-2"), q);
	assert_ptr_equal(find_pid_locked(5002), q);
	urcu_memb_barrier();
	assert_int_equal(refs(p), 1);
	proc_unref(p);

	/* the id is free again */
	struct proc *p2 = proc_new("tbl-1", false, NULL, NULL, NULL, false);
	assert_int_equal(proc_table_add(p2), 0);
	assert_ptr_equal(find_id_locked("tbl-1"), p2);
	proc_table_remove(p2);
	proc_unref(p2);

	proc_table_remove(q);
	assert_null(find_id_locked("tbl-2"));
	assert_null(find_pid_locked(5002));
	proc_unref(q);
	urcu_memb_barrier();
}

static void test_table_duplicate_id(void **state)
{
	(void)state;
	struct proc *a = proc_new("dup", true, NULL, NULL, NULL, false);
	struct proc *b = proc_new("dup", false, NULL, NULL, NULL, false);

	assert_int_equal(proc_table_add(a), 0);
	assert_int_equal(proc_table_add(b), -EEXIST);
	assert_int_equal(refs(b), 1); /* no reference kept on failure */
	assert_ptr_equal(find_id_locked("dup"), a);
	proc_unref(b);
	proc_table_remove(a);
	proc_unref(a);
	urcu_memb_barrier();
	assert_null(find_id_locked("dup"));
}

static void test_table_remove_unmapped(void **state)
{
	(void)state;
	/* removing a process whose pid was never mapped (created, never started) */
	struct proc *p = proc_new("nopid", false, NULL, NULL, NULL, false);
	assert_int_equal(proc_table_add(p), 0);
	proc_ref(p);
	proc_table_remove(p);
	assert_null(find_id_locked("nopid"));
	urcu_memb_barrier();
	assert_int_equal(refs(p), 2);
	proc_unref(p);
	proc_unref(p);
}

/* ---- concurrency: readers look up while a writer adds and removes ---- */

#define NSLOTS 64
#define PID_BASE 200000u
#define NREADERS 3

static atomic_bool stop;
static atomic_long lookups, hits, bad;

static void *reader(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg;
	urcu_memb_register_thread();
	while (!atomic_load(&stop)) {
		for (int i = 0; i < 256; i++) {
			unsigned k = (seed = seed * 1103515245u + 12345u) >> 16;
			char id[32];
			k %= NSLOTS;
			snprintf(id, sizeof(id), "cc%u", k);
			urcu_memb_read_lock();
			struct proc *p = proc_table_find_id(id);
			if (p) {
				uint32_t pid = proc_snap_deref(p)->pid;
				atomic_fetch_add(&hits, 1);
				if (strcmp(p->id, id) != 0 || (pid != 0 && pid != PID_BASE + k))
					atomic_fetch_add(&bad, 1);
			}
			p = proc_table_find_pid(PID_BASE + k);
			if (p) {
				atomic_fetch_add(&hits, 1);
				if (strcmp(p->id, id) != 0 ||
				    proc_snap_deref(p)->pid != PID_BASE + k)
					atomic_fetch_add(&bad, 1);
			}
			urcu_memb_read_unlock();
			atomic_fetch_add(&lookups, 2);
		}
	}
	urcu_memb_unregister_thread();
	return NULL;
}

static uint64_t now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

static void test_concurrent_readers_and_writer(void **state)
{
	(void)state;
	pthread_t th[NREADERS];
	struct proc *slot[NSLOTS] = { 0 };
	unsigned seed = 42;
	long adds = 0, removes = 0, updates = 0;
	uint64_t end;

	atomic_store(&stop, false);
	for (int i = 0; i < NREADERS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, reader, (void *)(uintptr_t)(i + 1)),
				 0);
	end = now_ms() + 400;
	while (now_ms() < end) {
		for (int i = 0; i < 64; i++) {
			unsigned k = ((seed = seed * 1103515245u + 12345u) >> 16) % NSLOTS;
			char id[32];
			snprintf(id, sizeof(id), "cc%u", k);
			if (slot[k]) {
				if (seed & 0x100000) {
					/* republish the snapshot (a status change) */
					(void)proc_transition(slot[k], ~0u, PROC_RUNNING);
					updates++;
					continue;
				}
				proc_table_remove(slot[k]);
				slot[k] = NULL;
				removes++;
			} else {
				struct proc *p = proc_new(id, false, NULL, NULL, NULL, false);
				assert_non_null(p);
				assert_int_equal(proc_table_add(p), 0);
				set_pid(p, PID_BASE + k);
				assert_int_equal(proc_table_map_pid(p, PID_BASE + k), 0);
				slot[k] = p;
				proc_unref(p); /* the table holds it now */
				adds++;
			}
		}
	}
	atomic_store(&stop, true);
	for (int i = 0; i < NREADERS; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	for (int k = 0; k < NSLOTS; k++) {
		if (slot[k]) {
			proc_table_remove(slot[k]);
			slot[k] = NULL;
		}
	}
	urcu_memb_barrier();
	for (int k = 0; k < NSLOTS; k++) {
		char id[32];
		snprintf(id, sizeof(id), "cc%d", k);
		assert_null(find_id_locked(id));
		assert_null(find_pid_locked(PID_BASE + k));
	}
	assert_true(adds > 100);
	assert_true(removes > 50);
	assert_true(updates > 0);
	assert_true(atomic_load(&lookups) > 1000);
	assert_true(atomic_load(&hits) > 0);
	assert_int_equal(atomic_load(&bad), 0);
}

static int group_setup(void **state)
{
	(void)state;
	urcu_memb_register_thread();
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
		cmocka_unit_test(test_proc_new),
		cmocka_unit_test(test_snap_set_get),
		cmocka_unit_test(test_transition_masks),
		cmocka_unit_test(test_waiters),
		cmocka_unit_test(test_release_without_waiters),
		cmocka_unit_test(test_table_add_find_remove),
		cmocka_unit_test(test_table_duplicate_id),
		cmocka_unit_test(test_table_remove_unmapped),
		cmocka_unit_test(test_concurrent_readers_and_writer),
	};
	return cmocka_run_group_tests_name("proc_table", tests, group_setup, group_teardown);
}
