/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for server/metrics.h: core/cgstats.h's structs to the cgroups v1/v2 Metrics
 * messages and their google.protobuf.Any. Every field lands in the message field of its name,
 * a sub-message is there exactly when core says it is, and the Any packs and unpacks back to
 * the same values. (tests/unit/test_cgstats.c checks the bytes against golden ones.)
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "server/metrics.h"

typedef Io__Containerd__Cgroups__V1__Metrics P1;
typedef Io__Containerd__Cgroups__V2__Metrics P2;

/* A distinct value per field (the k-th of a sequence), a third of them past 32 bits. */
static uint64_t next_val(uint64_t *k)
{
	++*k;
	return *k % 3 == 0 ? UINT64_MAX - *k : *k % 3 == 1 ? *k : (*k << 40) + 7;
}

static void blk_list(struct cgstats_v1_blkio_list *l, size_t n, uint64_t *k)
{
	l->n = n;
	l->v = calloc(n, sizeof(*l->v));
	assert_non_null(l->v);
	for (size_t i = 0; i < n; i++) {
		l->v[i].major = next_val(k);
		l->v[i].minor = next_val(k);
		l->v[i].value = next_val(k);
		/* the first without an op (sectors, time files): "" */
		assert_true(asprintf(&l->v[i].op, "%s", i == 0 ? "" : "Write") >= 0);
		assert_true(asprintf(&l->v[i].device, "/dev/d%llu", (unsigned long long)*k) > 0);
	}
}

static void rdma_list(struct cgstats_rdma_entry **v, size_t *n_v, size_t n, uint64_t *k)
{
	*n_v = n;
	*v = calloc(n, sizeof(**v));
	assert_non_null(*v);
	for (size_t i = 0; i < n; i++) {
		(*v)[i].hca_handles = (uint32_t)next_val(k);
		(*v)[i].hca_objects = i == 1 ? UINT32_MAX : (uint32_t)next_val(k);
		assert_true(asprintf(&(*v)[i].device, "mlx%zu", i) > 0);
	}
}

/* Every field set, every sub-message present. */
static void fill_v1(struct cgstats_v1_metrics *s)
{
	uint64_t k = 0;

	memset(s, 0, sizeof(*s));
	s->has_pids = s->has_memory = s->has_memory_oom_control = s->has_blkio = s->has_rdma = true;
	s->pids.current = next_val(&k);
	s->pids.limit = next_val(&k);
	s->cpu.total = next_val(&k);
	s->cpu.kernel = next_val(&k);
	s->cpu.user = next_val(&k);
	s->cpu.n_per_cpu = 3;
	s->cpu.per_cpu = calloc(3, sizeof(uint64_t));
	assert_non_null(s->cpu.per_cpu);
	for (size_t i = 0; i < 3; i++)
		s->cpu.per_cpu[i] = next_val(&k);
	s->cpu.periods = next_val(&k);
	s->cpu.throttled_periods = next_val(&k);
	s->cpu.throttled_time = next_val(&k);
	s->memory.cache = next_val(&k);
	s->memory.rss = next_val(&k);
	s->memory.rss_huge = next_val(&k);
	s->memory.mapped_file = next_val(&k);
	s->memory.dirty = next_val(&k);
	s->memory.writeback = next_val(&k);
	s->memory.pg_pg_in = next_val(&k);
	s->memory.pg_pg_out = next_val(&k);
	s->memory.pg_fault = next_val(&k);
	s->memory.pg_maj_fault = next_val(&k);
	s->memory.inactive_anon = next_val(&k);
	s->memory.active_anon = next_val(&k);
	s->memory.inactive_file = next_val(&k);
	s->memory.active_file = next_val(&k);
	s->memory.unevictable = next_val(&k);
	s->memory.hierarchical_memory_limit = next_val(&k);
	s->memory.hierarchical_swap_limit = next_val(&k);
	s->memory.total_cache = next_val(&k);
	s->memory.total_rss = next_val(&k);
	s->memory.total_rss_huge = next_val(&k);
	s->memory.total_mapped_file = next_val(&k);
	s->memory.total_dirty = next_val(&k);
	s->memory.total_writeback = next_val(&k);
	s->memory.total_pg_pg_in = next_val(&k);
	s->memory.total_pg_pg_out = next_val(&k);
	s->memory.total_pg_fault = next_val(&k);
	s->memory.total_pg_maj_fault = next_val(&k);
	s->memory.total_inactive_anon = next_val(&k);
	s->memory.total_active_anon = next_val(&k);
	s->memory.total_inactive_file = next_val(&k);
	s->memory.total_active_file = next_val(&k);
	s->memory.total_unevictable = next_val(&k);
	struct cgstats_v1_mem_entry *e[] = { &s->memory.usage, &s->memory.swap, &s->memory.kernel,
					     &s->memory.kernel_tcp };
	for (size_t i = 0; i < 4; i++) {
		e[i]->limit = next_val(&k);
		e[i]->usage = next_val(&k);
		e[i]->max = next_val(&k);
		e[i]->failcnt = next_val(&k);
	}
	s->memory_oom_control.oom_kill_disable = next_val(&k);
	s->memory_oom_control.under_oom = next_val(&k);
	s->memory_oom_control.oom_kill = next_val(&k);
	blk_list(&s->blkio.io_service_bytes_recursive, 2, &k);
	blk_list(&s->blkio.io_serviced_recursive, 3, &k);
	blk_list(&s->blkio.io_queued_recursive, 1, &k);
	blk_list(&s->blkio.io_service_time_recursive, 1, &k);
	blk_list(&s->blkio.io_wait_time_recursive, 2, &k);
	blk_list(&s->blkio.io_merged_recursive, 1, &k);
	blk_list(&s->blkio.io_time_recursive, 1, &k);
	blk_list(&s->blkio.sectors_recursive, 2, &k);
	rdma_list(&s->rdma.current, &s->rdma.n_current, 2, &k);
	rdma_list(&s->rdma.limit, &s->rdma.n_limit, 1, &k);
	s->n_hugetlb = 2;
	s->hugetlb = calloc(2, sizeof(*s->hugetlb));
	assert_non_null(s->hugetlb);
	for (size_t i = 0; i < 2; i++) {
		s->hugetlb[i].usage = next_val(&k);
		s->hugetlb[i].max = next_val(&k);
		s->hugetlb[i].failcnt = next_val(&k);
		s->hugetlb[i].pagesize = strdup(i ? "2MB" : "1GB");
		assert_non_null(s->hugetlb[i].pagesize);
	}
}

static void assert_blk_list(const struct cgstats_v1_blkio_list *s,
			    Io__Containerd__Cgroups__V1__BlkIOEntry *const *d, size_t n)
{
	assert_int_equal(n, s->n);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(d[i]->major, s->v[i].major);
		assert_int_equal(d[i]->minor, s->v[i].minor);
		assert_int_equal(d[i]->value, s->v[i].value);
		assert_string_equal(d[i]->op, s->v[i].op);
		assert_string_equal(d[i]->device, s->v[i].device);
	}
}

static void assert_v1_rdma(const struct cgstats_rdma_entry *s, size_t n,
			   Io__Containerd__Cgroups__V1__RdmaEntry *const *d, size_t dn)
{
	assert_int_equal(dn, n);
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(d[i]->device, s[i].device);
		assert_int_equal(d[i]->hca_handles, s[i].hca_handles);
		assert_int_equal(d[i]->hca_objects, s[i].hca_objects);
	}
}

/* m holds every field of s, and a sub-message exactly where s has one. */
static void assert_v1(const struct cgstats_v1_metrics *s, const P1 *m)
{
	assert_int_equal(m->n_hugetlb, s->n_hugetlb);
	for (size_t i = 0; i < s->n_hugetlb; i++) {
		assert_int_equal(m->hugetlb[i]->usage, s->hugetlb[i].usage);
		assert_int_equal(m->hugetlb[i]->max, s->hugetlb[i].max);
		assert_int_equal(m->hugetlb[i]->failcnt, s->hugetlb[i].failcnt);
		assert_string_equal(m->hugetlb[i]->pagesize, s->hugetlb[i].pagesize);
	}
	assert_int_equal(m->pids != NULL, s->has_pids);
	if (m->pids) {
		assert_int_equal(m->pids->current, s->pids.current);
		assert_int_equal(m->pids->limit, s->pids.limit);
	}
	/* CPUStat, its usage and throttling: always */
	assert_non_null(m->cpu);
	assert_non_null(m->cpu->usage);
	assert_non_null(m->cpu->throttling);
	assert_int_equal(m->cpu->usage->total, s->cpu.total);
	assert_int_equal(m->cpu->usage->kernel, s->cpu.kernel);
	assert_int_equal(m->cpu->usage->user, s->cpu.user);
	assert_int_equal(m->cpu->usage->n_per_cpu, s->cpu.n_per_cpu);
	for (size_t i = 0; i < s->cpu.n_per_cpu; i++)
		assert_int_equal(m->cpu->usage->per_cpu[i], s->cpu.per_cpu[i]);
	assert_int_equal(m->cpu->throttling->periods, s->cpu.periods);
	assert_int_equal(m->cpu->throttling->throttled_periods, s->cpu.throttled_periods);
	assert_int_equal(m->cpu->throttling->throttled_time, s->cpu.throttled_time);
	assert_int_equal(m->memory != NULL, s->has_memory);
	if (m->memory) {
		const Io__Containerd__Cgroups__V1__MemoryStat *d = m->memory;
		const struct cgstats_v1_memory *sm = &s->memory;
		const Io__Containerd__Cgroups__V1__MemoryEntry *de[] = { d->usage, d->swap,
									 d->kernel, d->kernel_tcp };
		const struct cgstats_v1_mem_entry *se[] = { &sm->usage, &sm->swap, &sm->kernel,
							    &sm->kernel_tcp };
		assert_int_equal(d->cache, sm->cache);
		assert_int_equal(d->rss, sm->rss);
		assert_int_equal(d->rss_huge, sm->rss_huge);
		assert_int_equal(d->mapped_file, sm->mapped_file);
		assert_int_equal(d->dirty, sm->dirty);
		assert_int_equal(d->writeback, sm->writeback);
		assert_int_equal(d->pg_pg_in, sm->pg_pg_in);
		assert_int_equal(d->pg_pg_out, sm->pg_pg_out);
		assert_int_equal(d->pg_fault, sm->pg_fault);
		assert_int_equal(d->pg_maj_fault, sm->pg_maj_fault);
		assert_int_equal(d->inactive_anon, sm->inactive_anon);
		assert_int_equal(d->active_anon, sm->active_anon);
		assert_int_equal(d->inactive_file, sm->inactive_file);
		assert_int_equal(d->active_file, sm->active_file);
		assert_int_equal(d->unevictable, sm->unevictable);
		assert_int_equal(d->hierarchical_memory_limit, sm->hierarchical_memory_limit);
		assert_int_equal(d->hierarchical_swap_limit, sm->hierarchical_swap_limit);
		assert_int_equal(d->total_cache, sm->total_cache);
		assert_int_equal(d->total_rss, sm->total_rss);
		assert_int_equal(d->total_rss_huge, sm->total_rss_huge);
		assert_int_equal(d->total_mapped_file, sm->total_mapped_file);
		assert_int_equal(d->total_dirty, sm->total_dirty);
		assert_int_equal(d->total_writeback, sm->total_writeback);
		assert_int_equal(d->total_pg_pg_in, sm->total_pg_pg_in);
		assert_int_equal(d->total_pg_pg_out, sm->total_pg_pg_out);
		assert_int_equal(d->total_pg_fault, sm->total_pg_fault);
		assert_int_equal(d->total_pg_maj_fault, sm->total_pg_maj_fault);
		assert_int_equal(d->total_inactive_anon, sm->total_inactive_anon);
		assert_int_equal(d->total_active_anon, sm->total_active_anon);
		assert_int_equal(d->total_inactive_file, sm->total_inactive_file);
		assert_int_equal(d->total_active_file, sm->total_active_file);
		assert_int_equal(d->total_unevictable, sm->total_unevictable);
		for (size_t i = 0; i < 4; i++) { /* all four, whenever MemoryStat is there */
			assert_non_null(de[i]);
			assert_int_equal(de[i]->limit, se[i]->limit);
			assert_int_equal(de[i]->usage, se[i]->usage);
			assert_int_equal(de[i]->max, se[i]->max);
			assert_int_equal(de[i]->failcnt, se[i]->failcnt);
		}
	}
	assert_int_equal(m->blkio != NULL, s->has_blkio);
	if (m->blkio) {
		assert_blk_list(&s->blkio.io_service_bytes_recursive,
				m->blkio->io_service_bytes_recursive,
				m->blkio->n_io_service_bytes_recursive);
		assert_blk_list(&s->blkio.io_serviced_recursive, m->blkio->io_serviced_recursive,
				m->blkio->n_io_serviced_recursive);
		assert_blk_list(&s->blkio.io_queued_recursive, m->blkio->io_queued_recursive,
				m->blkio->n_io_queued_recursive);
		assert_blk_list(&s->blkio.io_service_time_recursive,
				m->blkio->io_service_time_recursive,
				m->blkio->n_io_service_time_recursive);
		assert_blk_list(&s->blkio.io_wait_time_recursive, m->blkio->io_wait_time_recursive,
				m->blkio->n_io_wait_time_recursive);
		assert_blk_list(&s->blkio.io_merged_recursive, m->blkio->io_merged_recursive,
				m->blkio->n_io_merged_recursive);
		assert_blk_list(&s->blkio.io_time_recursive, m->blkio->io_time_recursive,
				m->blkio->n_io_time_recursive);
		assert_blk_list(&s->blkio.sectors_recursive, m->blkio->sectors_recursive,
				m->blkio->n_sectors_recursive);
	}
	assert_int_equal(m->rdma != NULL, s->has_rdma);
	if (m->rdma) {
		assert_v1_rdma(s->rdma.current, s->rdma.n_current, m->rdma->current,
			       m->rdma->n_current);
		assert_v1_rdma(s->rdma.limit, s->rdma.n_limit, m->rdma->limit, m->rdma->n_limit);
	}
	assert_int_equal(m->memory_oom_control != NULL, s->has_memory_oom_control);
	if (m->memory_oom_control) {
		assert_int_equal(m->memory_oom_control->oom_kill_disable,
				 s->memory_oom_control.oom_kill_disable);
		assert_int_equal(m->memory_oom_control->under_oom, s->memory_oom_control.under_oom);
		assert_int_equal(m->memory_oom_control->oom_kill, s->memory_oom_control.oom_kill);
	}
	/* never filled by the library */
	assert_int_equal(m->n_network, 0);
	assert_null(m->cgroup_stats);
}

/* The Any packs, unpacks, and holds the same message. */
static void v1_roundtrip(const struct cgstats_v1_metrics *s)
{
	Google__Protobuf__Any any, *back;
	uint8_t *buf;
	size_t n;
	P1 *m;

	assert_int_equal(metrics_v1_any(s, &any), 0);
	assert_string_equal(any.type_url, "io.containerd.cgroups.v1.Metrics");
	n = google__protobuf__any__get_packed_size(&any);
	buf = malloc(n);
	assert_non_null(buf);
	assert_int_equal(google__protobuf__any__pack(&any, buf), n);
	metrics_any_clear(&any);
	back = google__protobuf__any__unpack(NULL, n, buf);
	assert_non_null(back);
	assert_string_equal(back->type_url, "io.containerd.cgroups.v1.Metrics");
	m = io__containerd__cgroups__v1__metrics__unpack(NULL, back->value.len, back->value.data);
	assert_non_null(m);
	assert_v1(s, m);
	io__containerd__cgroups__v1__metrics__free_unpacked(m, NULL);
	google__protobuf__any__free_unpacked(back, NULL);
	free(buf);
}

static void test_v1_every_field(void **state)
{
	(void)state;
	struct cgstats_v1_metrics s;
	P1 *m = NULL;

	fill_v1(&s);
	assert_int_equal(metrics_v1_message(&s, &m), 0);
	assert_v1(&s, m);
	io__containerd__cgroups__v1__metrics__free_unpacked(m, NULL);
	v1_roundtrip(&s);
	cgstats_v1_metrics_done(&s);
}

/* What core leaves out stays out; what it read as zero is there, empty. */
static void test_v1_presence(void **state)
{
	(void)state;
	/* CPUStat {usage {}, throttling {}}: field 3 holding two empty messages */
	static const uint8_t cpu_only[] = { 0x1a, 0x04, 0x0a, 0x00, 0x12, 0x00 };
	struct cgstats_v1_metrics s;
	Google__Protobuf__Any any;
	P1 *m = NULL;

	memset(&s, 0, sizeof(s)); /* every controller's files missing */
	assert_int_equal(metrics_v1_message(&s, &m), 0);
	assert_null(m->pids);
	assert_null(m->memory);
	assert_null(m->memory_oom_control);
	assert_null(m->blkio);
	assert_null(m->rdma);
	assert_int_equal(m->n_hugetlb, 0);
	assert_v1(&s, m);
	io__containerd__cgroups__v1__metrics__free_unpacked(m, NULL);
	assert_int_equal(metrics_v1_any(&s, &any), 0);
	assert_int_equal(any.value.len, sizeof(cpu_only));
	assert_memory_equal(any.value.data, cpu_only, sizeof(cpu_only));
	metrics_any_clear(&any);
	v1_roundtrip(&s);

	/* memory.stat read and an empty blkio: MemoryStat and its four entries, all zero */
	s.has_memory = s.has_blkio = true;
	assert_int_equal(metrics_v1_message(&s, &m), 0);
	assert_non_null(m->memory);
	assert_non_null(m->memory->kernel_tcp);
	assert_non_null(m->blkio);
	assert_int_equal(m->blkio->n_io_serviced_recursive, 0);
	assert_null(m->memory_oom_control);
	assert_v1(&s, m);
	io__containerd__cgroups__v1__metrics__free_unpacked(m, NULL);
	v1_roundtrip(&s);
}

/* ===================================== cgroup v2 ===================================== */

static void fill_v2(struct cgstats_v2_metrics *s)
{
	uint64_t k = 100;

	memset(s, 0, sizeof(*s));
	s->has_memory_events = true;
	s->pids.current = next_val(&k);
	s->pids.limit = next_val(&k);
	s->cpu.usage_usec = next_val(&k);
	s->cpu.user_usec = next_val(&k);
	s->cpu.system_usec = next_val(&k);
	s->cpu.nr_periods = next_val(&k);
	s->cpu.nr_throttled = next_val(&k);
	s->cpu.throttled_usec = next_val(&k);
	s->memory.anon = next_val(&k);
	s->memory.file = next_val(&k);
	s->memory.kernel_stack = next_val(&k);
	s->memory.slab = next_val(&k);
	s->memory.sock = next_val(&k);
	s->memory.shmem = next_val(&k);
	s->memory.file_mapped = next_val(&k);
	s->memory.file_dirty = next_val(&k);
	s->memory.file_writeback = next_val(&k);
	s->memory.anon_thp = next_val(&k);
	s->memory.inactive_anon = next_val(&k);
	s->memory.active_anon = next_val(&k);
	s->memory.inactive_file = next_val(&k);
	s->memory.active_file = next_val(&k);
	s->memory.unevictable = next_val(&k);
	s->memory.slab_reclaimable = next_val(&k);
	s->memory.slab_unreclaimable = next_val(&k);
	s->memory.pgfault = next_val(&k);
	s->memory.pgmajfault = next_val(&k);
	s->memory.workingset_refault = next_val(&k);
	s->memory.workingset_activate = next_val(&k);
	s->memory.workingset_nodereclaim = next_val(&k);
	s->memory.pgrefill = next_val(&k);
	s->memory.pgscan = next_val(&k);
	s->memory.pgsteal = next_val(&k);
	s->memory.pgactivate = next_val(&k);
	s->memory.pgdeactivate = next_val(&k);
	s->memory.pglazyfree = next_val(&k);
	s->memory.pglazyfreed = next_val(&k);
	s->memory.thp_fault_alloc = next_val(&k);
	s->memory.thp_collapse_alloc = next_val(&k);
	s->memory.usage = next_val(&k);
	s->memory.usage_limit = next_val(&k);
	s->memory.swap_usage = next_val(&k);
	s->memory.swap_limit = next_val(&k);
	s->memory_events.low = next_val(&k);
	s->memory_events.high = next_val(&k);
	s->memory_events.max = next_val(&k);
	s->memory_events.oom = next_val(&k);
	s->memory_events.oom_kill = next_val(&k);
	s->n_io = 2;
	s->io = calloc(2, sizeof(*s->io));
	assert_non_null(s->io);
	for (size_t i = 0; i < 2; i++) {
		s->io[i].major = next_val(&k);
		s->io[i].minor = next_val(&k);
		s->io[i].rbytes = next_val(&k);
		s->io[i].wbytes = next_val(&k);
		s->io[i].rios = next_val(&k);
		s->io[i].wios = next_val(&k);
	}
	rdma_list(&s->rdma.current, &s->rdma.n_current, 1, &k);
	rdma_list(&s->rdma.limit, &s->rdma.n_limit, 2, &k);
	s->n_hugetlb = 1;
	s->hugetlb = calloc(1, sizeof(*s->hugetlb));
	assert_non_null(s->hugetlb);
	s->hugetlb[0].current = next_val(&k);
	s->hugetlb[0].max = UINT64_MAX;
	s->hugetlb[0].pagesize = strdup("2MB");
	assert_non_null(s->hugetlb[0].pagesize);
}

static void assert_v2_rdma(const struct cgstats_rdma_entry *s, size_t n,
			   Io__Containerd__Cgroups__V2__RdmaEntry *const *d, size_t dn)
{
	assert_int_equal(dn, n);
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(d[i]->device, s[i].device);
		assert_int_equal(d[i]->hca_handles, s[i].hca_handles);
		assert_int_equal(d[i]->hca_objects, s[i].hca_objects);
	}
}

static void assert_v2(const struct cgstats_v2_metrics *s, const P2 *m)
{
	/* Pids, CPU, Memory, Io and Rdma: always */
	assert_non_null(m->pids);
	assert_non_null(m->cpu);
	assert_non_null(m->memory);
	assert_non_null(m->io);
	assert_non_null(m->rdma);
	assert_int_equal(m->pids->current, s->pids.current);
	assert_int_equal(m->pids->limit, s->pids.limit);
	assert_int_equal(m->cpu->usage_usec, s->cpu.usage_usec);
	assert_int_equal(m->cpu->user_usec, s->cpu.user_usec);
	assert_int_equal(m->cpu->system_usec, s->cpu.system_usec);
	assert_int_equal(m->cpu->nr_periods, s->cpu.nr_periods);
	assert_int_equal(m->cpu->nr_throttled, s->cpu.nr_throttled);
	assert_int_equal(m->cpu->throttled_usec, s->cpu.throttled_usec);
	/* not read by cgroups v1.0.4 */
	assert_int_equal(m->cpu->nr_bursts, 0);
	assert_int_equal(m->cpu->burst_usec, 0);
	assert_null(m->cpu->psi);
	{
		const Io__Containerd__Cgroups__V2__MemoryStat *d = m->memory;
		const struct cgstats_v2_memory *sm = &s->memory;
		assert_int_equal(d->anon, sm->anon);
		assert_int_equal(d->file, sm->file);
		assert_int_equal(d->kernel_stack, sm->kernel_stack);
		assert_int_equal(d->slab, sm->slab);
		assert_int_equal(d->sock, sm->sock);
		assert_int_equal(d->shmem, sm->shmem);
		assert_int_equal(d->file_mapped, sm->file_mapped);
		assert_int_equal(d->file_dirty, sm->file_dirty);
		assert_int_equal(d->file_writeback, sm->file_writeback);
		assert_int_equal(d->anon_thp, sm->anon_thp);
		assert_int_equal(d->inactive_anon, sm->inactive_anon);
		assert_int_equal(d->active_anon, sm->active_anon);
		assert_int_equal(d->inactive_file, sm->inactive_file);
		assert_int_equal(d->active_file, sm->active_file);
		assert_int_equal(d->unevictable, sm->unevictable);
		assert_int_equal(d->slab_reclaimable, sm->slab_reclaimable);
		assert_int_equal(d->slab_unreclaimable, sm->slab_unreclaimable);
		assert_int_equal(d->pgfault, sm->pgfault);
		assert_int_equal(d->pgmajfault, sm->pgmajfault);
		assert_int_equal(d->workingset_refault, sm->workingset_refault);
		assert_int_equal(d->workingset_activate, sm->workingset_activate);
		assert_int_equal(d->workingset_nodereclaim, sm->workingset_nodereclaim);
		assert_int_equal(d->pgrefill, sm->pgrefill);
		assert_int_equal(d->pgscan, sm->pgscan);
		assert_int_equal(d->pgsteal, sm->pgsteal);
		assert_int_equal(d->pgactivate, sm->pgactivate);
		assert_int_equal(d->pgdeactivate, sm->pgdeactivate);
		assert_int_equal(d->pglazyfree, sm->pglazyfree);
		assert_int_equal(d->pglazyfreed, sm->pglazyfreed);
		assert_int_equal(d->thp_fault_alloc, sm->thp_fault_alloc);
		assert_int_equal(d->thp_collapse_alloc, sm->thp_collapse_alloc);
		assert_int_equal(d->usage, sm->usage);
		assert_int_equal(d->usage_limit, sm->usage_limit);
		assert_int_equal(d->swap_usage, sm->swap_usage);
		assert_int_equal(d->swap_limit, sm->swap_limit);
		assert_int_equal(d->max_usage, 0);
		assert_int_equal(d->swap_max_usage, 0);
		assert_null(d->psi);
	}
	assert_int_equal(m->memory_events != NULL, s->has_memory_events);
	if (m->memory_events) {
		assert_int_equal(m->memory_events->low, s->memory_events.low);
		assert_int_equal(m->memory_events->high, s->memory_events.high);
		assert_int_equal(m->memory_events->max, s->memory_events.max);
		assert_int_equal(m->memory_events->oom, s->memory_events.oom);
		assert_int_equal(m->memory_events->oom_kill, s->memory_events.oom_kill);
		assert_int_equal(m->memory_events->oom_group_kill, 0);
	}
	assert_int_equal(m->io->n_usage, s->n_io);
	for (size_t i = 0; i < s->n_io; i++) {
		assert_int_equal(m->io->usage[i]->major, s->io[i].major);
		assert_int_equal(m->io->usage[i]->minor, s->io[i].minor);
		assert_int_equal(m->io->usage[i]->rbytes, s->io[i].rbytes);
		assert_int_equal(m->io->usage[i]->wbytes, s->io[i].wbytes);
		assert_int_equal(m->io->usage[i]->rios, s->io[i].rios);
		assert_int_equal(m->io->usage[i]->wios, s->io[i].wios);
	}
	assert_v2_rdma(s->rdma.current, s->rdma.n_current, m->rdma->current, m->rdma->n_current);
	assert_v2_rdma(s->rdma.limit, s->rdma.n_limit, m->rdma->limit, m->rdma->n_limit);
	assert_int_equal(m->n_hugetlb, s->n_hugetlb);
	for (size_t i = 0; i < s->n_hugetlb; i++) {
		assert_int_equal(m->hugetlb[i]->current, s->hugetlb[i].current);
		assert_int_equal(m->hugetlb[i]->max, s->hugetlb[i].max);
		assert_string_equal(m->hugetlb[i]->pagesize, s->hugetlb[i].pagesize);
	}
	assert_int_equal(m->n_network, 0);
}

static void v2_roundtrip(const struct cgstats_v2_metrics *s)
{
	Google__Protobuf__Any any, *back;
	uint8_t *buf;
	size_t n;
	P2 *m;

	assert_int_equal(metrics_v2_any(s, &any), 0);
	assert_string_equal(any.type_url, "io.containerd.cgroups.v2.Metrics");
	n = google__protobuf__any__get_packed_size(&any);
	buf = malloc(n);
	assert_non_null(buf);
	assert_int_equal(google__protobuf__any__pack(&any, buf), n);
	metrics_any_clear(&any);
	back = google__protobuf__any__unpack(NULL, n, buf);
	assert_non_null(back);
	assert_string_equal(back->type_url, "io.containerd.cgroups.v2.Metrics");
	m = io__containerd__cgroups__v2__metrics__unpack(NULL, back->value.len, back->value.data);
	assert_non_null(m);
	assert_v2(s, m);
	io__containerd__cgroups__v2__metrics__free_unpacked(m, NULL);
	google__protobuf__any__free_unpacked(back, NULL);
	free(buf);
}

static void test_v2_every_field(void **state)
{
	(void)state;
	struct cgstats_v2_metrics s;
	P2 *m = NULL;

	fill_v2(&s);
	assert_int_equal(metrics_v2_message(&s, &m), 0);
	assert_v2(&s, m);
	io__containerd__cgroups__v2__metrics__free_unpacked(m, NULL);
	v2_roundtrip(&s);
	cgstats_v2_metrics_done(&s);
}

/* An empty cgroup.controllers and nothing else: the five messages there, empty. */
static void test_v2_presence(void **state)
{
	(void)state;
	struct cgstats_v2_metrics s;
	P2 *m = NULL;

	memset(&s, 0, sizeof(s));
	assert_int_equal(metrics_v2_message(&s, &m), 0);
	assert_null(m->memory_events);
	assert_int_equal(m->n_hugetlb, 0);
	assert_v2(&s, m);
	io__containerd__cgroups__v2__metrics__free_unpacked(m, NULL);
	v2_roundtrip(&s);
}

/* The type_url is the message's full name, as containerd's typeurl registers it. */
static void test_type_urls(void **state)
{
	(void)state;
	assert_string_equal(io__containerd__cgroups__v1__metrics__descriptor.name,
			    METRICS_V1_TYPE_URL);
	assert_string_equal(io__containerd__cgroups__v2__metrics__descriptor.name,
			    METRICS_V2_TYPE_URL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v1_every_field), cmocka_unit_test(test_v1_presence),
		cmocka_unit_test(test_v2_every_field), cmocka_unit_test(test_v2_presence),
		cmocka_unit_test(test_type_urls),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
