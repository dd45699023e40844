/* SPDX-License-Identifier: Apache-2.0 */
/* core/cgstats.h's structs to the protobuf-c Metrics messages: see metrics.h. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "io/base.h"
#include "metrics.h"

/* A message on the heap, initialised; false when out of memory. */
#define NEW(p, init)                                                                               \
	({                                                                                         \
		(p) = malloc(sizeof(*(p)));                                                        \
		if (p)                                                                             \
			init(p);                                                                   \
		(p) != NULL;                                                                       \
	})

/* A repeated message field of n zeroed pointers (n_field set once allocated, so that
 * free_unpacked frees whatever was filled in); false when out of memory. */
#define NEW_REPEATED(arr, n_arr, n)                                                                \
	({                                                                                         \
		(arr) = (n) ? calloc((n), sizeof(*(arr))) : NULL;                                  \
		if ((arr) || !(n))                                                                 \
			(n_arr) = (n);                                                             \
		(arr) != NULL || !(n);                                                             \
	})

/* The uint64 counters of a MemoryStat: where each is in core's struct and in the message. */
struct u64_field {
	size_t from, to;
};

#define V1MEM(f)                                                                                   \
	{                                                                                          \
		offsetof(struct cgstats_v1_memory, f),                                             \
			offsetof(Io__Containerd__Cgroups__V1__MemoryStat, f)                       \
	}
static const struct u64_field v1_memory_fields[] = {
	V1MEM(cache),
	V1MEM(rss),
	V1MEM(rss_huge),
	V1MEM(mapped_file),
	V1MEM(dirty),
	V1MEM(writeback),
	V1MEM(pg_pg_in),
	V1MEM(pg_pg_out),
	V1MEM(pg_fault),
	V1MEM(pg_maj_fault),
	V1MEM(inactive_anon),
	V1MEM(active_anon),
	V1MEM(inactive_file),
	V1MEM(active_file),
	V1MEM(unevictable),
	V1MEM(hierarchical_memory_limit),
	V1MEM(hierarchical_swap_limit),
	V1MEM(total_cache),
	V1MEM(total_rss),
	V1MEM(total_rss_huge),
	V1MEM(total_mapped_file),
	V1MEM(total_dirty),
	V1MEM(total_writeback),
	V1MEM(total_pg_pg_in),
	V1MEM(total_pg_pg_out),
	V1MEM(total_pg_fault),
	V1MEM(total_pg_maj_fault),
	V1MEM(total_inactive_anon),
	V1MEM(total_active_anon),
	V1MEM(total_inactive_file),
	V1MEM(total_active_file),
	V1MEM(total_unevictable),
};

#define V2MEM(f)                                                                                   \
	{                                                                                          \
		offsetof(struct cgstats_v2_memory, f),                                             \
			offsetof(Io__Containerd__Cgroups__V2__MemoryStat, f)                       \
	}
static const struct u64_field v2_memory_fields[] = {
	V2MEM(anon),
	V2MEM(file),
	V2MEM(kernel_stack),
	V2MEM(slab),
	V2MEM(sock),
	V2MEM(shmem),
	V2MEM(file_mapped),
	V2MEM(file_dirty),
	V2MEM(file_writeback),
	V2MEM(anon_thp),
	V2MEM(inactive_anon),
	V2MEM(active_anon),
	V2MEM(inactive_file),
	V2MEM(active_file),
	V2MEM(unevictable),
	V2MEM(slab_reclaimable),
	V2MEM(slab_unreclaimable),
	V2MEM(pgfault),
	V2MEM(pgmajfault),
	V2MEM(workingset_refault),
	V2MEM(workingset_activate),
	V2MEM(workingset_nodereclaim),
	V2MEM(pgrefill),
	V2MEM(pgscan),
	V2MEM(pgsteal),
	V2MEM(pgactivate),
	V2MEM(pgdeactivate),
	V2MEM(pglazyfree),
	V2MEM(pglazyfreed),
	V2MEM(thp_fault_alloc),
	V2MEM(thp_collapse_alloc),
	V2MEM(usage),
	V2MEM(usage_limit),
	V2MEM(swap_usage),
	V2MEM(swap_limit),
};

static void copy_u64(void *to, const void *from, const struct u64_field *f, size_t n)
{
	for (size_t i = 0; i < n; i++)
		memcpy((char *)to + f[i].to, (const char *)from + f[i].from, sizeof(uint64_t));
}

/* ===================================== cgroup v1 ===================================== */

static Io__Containerd__Cgroups__V1__MemoryEntry *v1_mem_entry(const struct cgstats_v1_mem_entry *s)
{
	Io__Containerd__Cgroups__V1__MemoryEntry *d;

	if (!NEW(d, io__containerd__cgroups__v1__memory_entry__init))
		return NULL;
	d->limit = s->limit;
	d->usage = s->usage;
	d->max = s->max;
	d->failcnt = s->failcnt;
	return d;
}

static int v1_memory(const struct cgstats_v1_memory *s, Io__Containerd__Cgroups__V1__Metrics *m)
{
	Io__Containerd__Cgroups__V1__MemoryStat *d;

	if (!NEW(m->memory, io__containerd__cgroups__v1__memory_stat__init))
		return -ENOMEM;
	d = m->memory;
	copy_u64(d, s, v1_memory_fields, ARRAY_SIZE(v1_memory_fields));
	d->usage = v1_mem_entry(&s->usage);
	d->swap = v1_mem_entry(&s->swap);
	d->kernel = v1_mem_entry(&s->kernel);
	d->kernel_tcp = v1_mem_entry(&s->kernel_tcp);
	return d->usage && d->swap && d->kernel && d->kernel_tcp ? 0 : -ENOMEM;
}

static int v1_blkio_list(const struct cgstats_v1_blkio_list *s,
			 Io__Containerd__Cgroups__V1__BlkIOEntry ***arr, size_t *n_arr)
{
	if (!NEW_REPEATED(*arr, *n_arr, s->n))
		return -ENOMEM;
	for (size_t i = 0; i < s->n; i++) {
		Io__Containerd__Cgroups__V1__BlkIOEntry *d;
		if (!NEW((*arr)[i], io__containerd__cgroups__v1__blk_ioentry__init))
			return -ENOMEM;
		d = (*arr)[i];
		d->major = s->v[i].major;
		d->minor = s->v[i].minor;
		d->value = s->v[i].value;
		d->op = strdup(s->v[i].op);
		d->device = strdup(s->v[i].device);
		if (!d->op || !d->device)
			return -ENOMEM;
	}
	return 0;
}

static int v1_blkio(const struct cgstats_v1_blkio *s, Io__Containerd__Cgroups__V1__Metrics *m)
{
	Io__Containerd__Cgroups__V1__BlkIOStat *d;
	int r;

	if (!NEW(m->blkio, io__containerd__cgroups__v1__blk_iostat__init))
		return -ENOMEM;
	d = m->blkio;
	if ((r = v1_blkio_list(&s->io_service_bytes_recursive, &d->io_service_bytes_recursive,
			       &d->n_io_service_bytes_recursive)) < 0 ||
	    (r = v1_blkio_list(&s->io_serviced_recursive, &d->io_serviced_recursive,
			       &d->n_io_serviced_recursive)) < 0 ||
	    (r = v1_blkio_list(&s->io_queued_recursive, &d->io_queued_recursive,
			       &d->n_io_queued_recursive)) < 0 ||
	    (r = v1_blkio_list(&s->io_service_time_recursive, &d->io_service_time_recursive,
			       &d->n_io_service_time_recursive)) < 0 ||
	    (r = v1_blkio_list(&s->io_wait_time_recursive, &d->io_wait_time_recursive,
			       &d->n_io_wait_time_recursive)) < 0 ||
	    (r = v1_blkio_list(&s->io_merged_recursive, &d->io_merged_recursive,
			       &d->n_io_merged_recursive)) < 0 ||
	    (r = v1_blkio_list(&s->io_time_recursive, &d->io_time_recursive,
			       &d->n_io_time_recursive)) < 0 ||
	    (r = v1_blkio_list(&s->sectors_recursive, &d->sectors_recursive,
			       &d->n_sectors_recursive)) < 0)
		return r;
	return 0;
}

static int v1_rdma_list(const struct cgstats_rdma_entry *s, size_t n,
			Io__Containerd__Cgroups__V1__RdmaEntry ***arr, size_t *n_arr)
{
	if (!NEW_REPEATED(*arr, *n_arr, n))
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (!NEW((*arr)[i], io__containerd__cgroups__v1__rdma_entry__init))
			return -ENOMEM;
		(*arr)[i]->hca_handles = s[i].hca_handles;
		(*arr)[i]->hca_objects = s[i].hca_objects;
		if (!((*arr)[i]->device = strdup(s[i].device)))
			return -ENOMEM;
	}
	return 0;
}

static int v1_fill(const struct cgstats_v1_metrics *s, Io__Containerd__Cgroups__V1__Metrics *m)
{
	int r;

	if (!NEW_REPEATED(m->hugetlb, m->n_hugetlb, s->n_hugetlb))
		return -ENOMEM;
	for (size_t i = 0; i < s->n_hugetlb; i++) {
		Io__Containerd__Cgroups__V1__HugetlbStat *d;
		if (!NEW(m->hugetlb[i], io__containerd__cgroups__v1__hugetlb_stat__init))
			return -ENOMEM;
		d = m->hugetlb[i];
		d->usage = s->hugetlb[i].usage;
		d->max = s->hugetlb[i].max;
		d->failcnt = s->hugetlb[i].failcnt;
		if (!(d->pagesize = strdup(s->hugetlb[i].pagesize)))
			return -ENOMEM;
	}
	if (s->has_pids) {
		if (!NEW(m->pids, io__containerd__cgroups__v1__pids_stat__init))
			return -ENOMEM;
		m->pids->current = s->pids.current;
		m->pids->limit = s->pids.limit;
	}
	if (!NEW(m->cpu, io__containerd__cgroups__v1__cpustat__init) ||
	    !NEW(m->cpu->usage, io__containerd__cgroups__v1__cpuusage__init) ||
	    !NEW(m->cpu->throttling, io__containerd__cgroups__v1__throttle__init))
		return -ENOMEM;
	m->cpu->usage->total = s->cpu.total;
	m->cpu->usage->kernel = s->cpu.kernel;
	m->cpu->usage->user = s->cpu.user;
	if (!NEW_REPEATED(m->cpu->usage->per_cpu, m->cpu->usage->n_per_cpu, s->cpu.n_per_cpu))
		return -ENOMEM;
	for (size_t i = 0; i < s->cpu.n_per_cpu; i++)
		m->cpu->usage->per_cpu[i] = s->cpu.per_cpu[i];
	m->cpu->throttling->periods = s->cpu.periods;
	m->cpu->throttling->throttled_periods = s->cpu.throttled_periods;
	m->cpu->throttling->throttled_time = s->cpu.throttled_time;
	if (s->has_memory && (r = v1_memory(&s->memory, m)) < 0)
		return r;
	if (s->has_blkio && (r = v1_blkio(&s->blkio, m)) < 0)
		return r;
	if (s->has_rdma) {
		if (!NEW(m->rdma, io__containerd__cgroups__v1__rdma_stat__init))
			return -ENOMEM;
		if ((r = v1_rdma_list(s->rdma.current, s->rdma.n_current, &m->rdma->current,
				      &m->rdma->n_current)) < 0 ||
		    (r = v1_rdma_list(s->rdma.limit, s->rdma.n_limit, &m->rdma->limit,
				      &m->rdma->n_limit)) < 0)
			return r;
	}
	if (s->has_memory_oom_control) {
		Io__Containerd__Cgroups__V1__MemoryOomControl *d;
		if (!NEW(m->memory_oom_control,
			 io__containerd__cgroups__v1__memory_oom_control__init))
			return -ENOMEM;
		d = m->memory_oom_control;
		d->oom_kill_disable = s->memory_oom_control.oom_kill_disable;
		d->under_oom = s->memory_oom_control.under_oom;
		d->oom_kill = s->memory_oom_control.oom_kill;
	}
	return 0;
}

int metrics_v1_message(const struct cgstats_v1_metrics *s,
		       Io__Containerd__Cgroups__V1__Metrics **ret)
{
	Io__Containerd__Cgroups__V1__Metrics *m;
	int r;

	if (!NEW(m, io__containerd__cgroups__v1__metrics__init))
		return -ENOMEM;
	if ((r = v1_fill(s, m)) < 0) {
		io__containerd__cgroups__v1__metrics__free_unpacked(m, NULL);
		return r;
	}
	*ret = m;
	return 0;
}

/* ===================================== cgroup v2 ===================================== */

static int v2_rdma_list(const struct cgstats_rdma_entry *s, size_t n,
			Io__Containerd__Cgroups__V2__RdmaEntry ***arr, size_t *n_arr)
{
	if (!NEW_REPEATED(*arr, *n_arr, n))
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (!NEW((*arr)[i], io__containerd__cgroups__v2__rdma_entry__init))
			return -ENOMEM;
		(*arr)[i]->hca_handles = s[i].hca_handles;
		(*arr)[i]->hca_objects = s[i].hca_objects;
		if (!((*arr)[i]->device = strdup(s[i].device)))
			return -ENOMEM;
	}
	return 0;
}

static int v2_fill(const struct cgstats_v2_metrics *s, Io__Containerd__Cgroups__V2__Metrics *m)
{
	int r;

	if (!NEW(m->pids, io__containerd__cgroups__v2__pids_stat__init) ||
	    !NEW(m->cpu, io__containerd__cgroups__v2__cpustat__init) ||
	    !NEW(m->memory, io__containerd__cgroups__v2__memory_stat__init) ||
	    !NEW(m->io, io__containerd__cgroups__v2__iostat__init) ||
	    !NEW(m->rdma, io__containerd__cgroups__v2__rdma_stat__init))
		return -ENOMEM;
	m->pids->current = s->pids.current;
	m->pids->limit = s->pids.limit;
	m->cpu->usage_usec = s->cpu.usage_usec;
	m->cpu->user_usec = s->cpu.user_usec;
	m->cpu->system_usec = s->cpu.system_usec;
	m->cpu->nr_periods = s->cpu.nr_periods;
	m->cpu->nr_throttled = s->cpu.nr_throttled;
	m->cpu->throttled_usec = s->cpu.throttled_usec;
	copy_u64(m->memory, &s->memory, v2_memory_fields, ARRAY_SIZE(v2_memory_fields));
	if (s->has_memory_events) {
		Io__Containerd__Cgroups__V2__MemoryEvents *d;
		if (!NEW(m->memory_events, io__containerd__cgroups__v2__memory_events__init))
			return -ENOMEM;
		d = m->memory_events;
		d->low = s->memory_events.low;
		d->high = s->memory_events.high;
		d->max = s->memory_events.max;
		d->oom = s->memory_events.oom;
		d->oom_kill = s->memory_events.oom_kill;
	}
	if ((r = v2_rdma_list(s->rdma.current, s->rdma.n_current, &m->rdma->current,
			      &m->rdma->n_current)) < 0 ||
	    (r = v2_rdma_list(s->rdma.limit, s->rdma.n_limit, &m->rdma->limit, &m->rdma->n_limit)) <
		    0)
		return r;
	if (!NEW_REPEATED(m->io->usage, m->io->n_usage, s->n_io))
		return -ENOMEM;
	for (size_t i = 0; i < s->n_io; i++) {
		Io__Containerd__Cgroups__V2__IOEntry *d;
		if (!NEW(m->io->usage[i], io__containerd__cgroups__v2__ioentry__init))
			return -ENOMEM;
		d = m->io->usage[i];
		d->major = s->io[i].major;
		d->minor = s->io[i].minor;
		d->rbytes = s->io[i].rbytes;
		d->wbytes = s->io[i].wbytes;
		d->rios = s->io[i].rios;
		d->wios = s->io[i].wios;
	}
	if (!NEW_REPEATED(m->hugetlb, m->n_hugetlb, s->n_hugetlb))
		return -ENOMEM;
	for (size_t i = 0; i < s->n_hugetlb; i++) {
		Io__Containerd__Cgroups__V2__HugeTlbStat *d;
		if (!NEW(m->hugetlb[i], io__containerd__cgroups__v2__huge_tlb_stat__init))
			return -ENOMEM;
		d = m->hugetlb[i];
		d->current = s->hugetlb[i].current;
		d->max = s->hugetlb[i].max;
		if (!(d->pagesize = strdup(s->hugetlb[i].pagesize)))
			return -ENOMEM;
	}
	return 0;
}

int metrics_v2_message(const struct cgstats_v2_metrics *s,
		       Io__Containerd__Cgroups__V2__Metrics **ret)
{
	Io__Containerd__Cgroups__V2__Metrics *m;
	int r;

	if (!NEW(m, io__containerd__cgroups__v2__metrics__init))
		return -ENOMEM;
	if ((r = v2_fill(s, m)) < 0) {
		io__containerd__cgroups__v2__metrics__free_unpacked(m, NULL);
		return r;
	}
	*ret = m;
	return 0;
}

/* ======================================== Any ======================================== */

static int pack_any(ProtobufCMessage *msg, const char *type_url, Google__Protobuf__Any *any)
{
	size_t n = protobuf_c_message_get_packed_size(msg);
	uint8_t *buf = malloc(n ? n : 1);

	google__protobuf__any__init(any);
	if (!buf)
		return -ENOMEM;
	protobuf_c_message_pack(msg, buf);
	any->type_url = (char *)type_url;
	any->value.data = buf;
	any->value.len = n;
	return 0;
}

int metrics_v1_any(const struct cgstats_v1_metrics *s, Google__Protobuf__Any *any)
{
	Io__Containerd__Cgroups__V1__Metrics *m;
	int r = metrics_v1_message(s, &m);

	if (r < 0) {
		google__protobuf__any__init(any);
		return r;
	}
	r = pack_any(&m->base, METRICS_V1_TYPE_URL, any);
	io__containerd__cgroups__v1__metrics__free_unpacked(m, NULL);
	return r;
}

int metrics_v2_any(const struct cgstats_v2_metrics *s, Google__Protobuf__Any *any)
{
	Io__Containerd__Cgroups__V2__Metrics *m;
	int r = metrics_v2_message(s, &m);

	if (r < 0) {
		google__protobuf__any__init(any);
		return r;
	}
	r = pack_any(&m->base, METRICS_V2_TYPE_URL, any);
	io__containerd__cgroups__v2__metrics__free_unpacked(m, NULL);
	return r;
}

void metrics_any_clear(Google__Protobuf__Any *any)
{
	free(any->value.data);
	google__protobuf__any__init(any);
}
