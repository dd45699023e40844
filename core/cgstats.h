/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A container's cgroup statistics, as the runtime v2 shim's Stats returns them: the fields of
 * the io.containerd.cgroups.v1.Metrics (cgroup v1) or io.containerd.cgroups.v2.Metrics
 * (unified) message, filled from the cgroup files exactly as github.com/containerd/cgroups
 * v1.0.4 (the library containerd 1.6's containerd-shim-runc-v2 uses) fills them: the same
 * files, units and conversions, and the same choice of which missing files are skipped and
 * which errors fail the whole call. No process is forked. See docs/stats.md for the
 * file-to-field map.
 *
 * The structs below are plain C: field names and units are the messages' own, a has_* flag
 * stands for a sub-message that may be absent, and only the fields the library fills are
 * here. server/metrics.h turns them into the protobuf messages (core does not know them).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The cgroup v1 controllers that have statistics, in the library's order. */
enum cgstats_ctl {
	CGSTATS_PIDS,
	CGSTATS_CPU,
	CGSTATS_CPUACCT,
	CGSTATS_MEMORY,
	CGSTATS_BLKIO,
	CGSTATS_RDMA,
	CGSTATS_HUGETLB,
	CGSTATS_NCTL
};

/* A container's cgroup on a v1 host. */
struct cgstats_v1 {
	/* The container's directory in each controller's hierarchy; NULL: not active (its stats
	 * are left out, as for a controller the library did not load). */
	char *dir[CGSTATS_NCTL];
	/* The huge page sizes ("2MB", "1GB"), from /sys/kernel/mm/hugepages in name order. */
	char **hp_sizes;
	size_t n_hp;
	/* The block device names' source; NULL: "/proc/partitions". */
	const char *partitions;
};

/*
 * Fills cg from the text of runc's state.json (cgroup_paths, one path per controller) and the
 * huge page sizes of hugepages_dir (NULL: /sys/kernel/mm/hugepages; missing: no hugetlb
 * stats, as the library drops the controller). Returns 0, -ENOENT when state.json names no v1
 * controller with stats (a unified host: see cgstats_v2_read), -EINVAL or -errno.
 */
int cgstats_v1_from_state(const char *buf, size_t len, const char *hugepages_dir,
			  struct cgstats_v1 *cg);
void cgstats_v1_done(struct cgstats_v1 *cg);
/* The huge page sizes in the library's notation, from a hugepages directory. Pure but for the
 * directory read; for tests. *ret is NULL when there are none. */
int cgstats_hugepage_sizes(const char *dir, char ***ret, size_t *ret_n);

/* ---- cgroup v1: io.containerd.cgroups.v1.Metrics ---- */

struct cgstats_v1_pids {
	uint64_t current, limit;
};

struct cgstats_v1_cpu {
	/* CPUUsage, in ns */
	uint64_t total, kernel, user;
	uint64_t *per_cpu;
	size_t n_per_cpu;
	/* Throttle */
	uint64_t periods, throttled_periods, throttled_time;
};

struct cgstats_v1_mem_entry {
	uint64_t limit, usage, max, failcnt;
};

/* MemoryStat: the 32 memory.stat counters in the message's field order, then its four
 * entries (all four exist whenever MemoryStat does). */
struct cgstats_v1_memory {
	uint64_t cache, rss, rss_huge, mapped_file, dirty, writeback, pg_pg_in, pg_pg_out, pg_fault,
		pg_maj_fault, inactive_anon, active_anon, inactive_file, active_file, unevictable,
		hierarchical_memory_limit, hierarchical_swap_limit, total_cache, total_rss,
		total_rss_huge, total_mapped_file, total_dirty, total_writeback, total_pg_pg_in,
		total_pg_pg_out, total_pg_fault, total_pg_maj_fault, total_inactive_anon,
		total_active_anon, total_inactive_file, total_active_file, total_unevictable;
	struct cgstats_v1_mem_entry usage, swap, kernel, kernel_tcp;
};

struct cgstats_v1_oom_control {
	uint64_t oom_kill_disable, under_oom, oom_kill;
};

struct cgstats_v1_blkio_entry {
	char *op, *device; /* never NULL ("" when there is none) */
	uint64_t major, minor, value;
};

struct cgstats_v1_blkio_list {
	struct cgstats_v1_blkio_entry *v;
	size_t n;
};

/* BlkIOStat's lists, in the message's field order */
struct cgstats_v1_blkio {
	struct cgstats_v1_blkio_list io_service_bytes_recursive, io_serviced_recursive,
		io_queued_recursive, io_service_time_recursive, io_wait_time_recursive,
		io_merged_recursive, io_time_recursive, sectors_recursive;
};

/* RdmaEntry (the v1 and v2 messages are the same) */
struct cgstats_rdma_entry {
	char *device;
	uint32_t hca_handles, hca_objects;
};

struct cgstats_rdma {
	struct cgstats_rdma_entry *current, *limit;
	size_t n_current, n_limit;
};

struct cgstats_v1_hugetlb {
	uint64_t usage, max, failcnt;
	char *pagesize;
};

/* Metrics. CPUStat and its usage and throttling always exist; network and cgroup_stats are
 * never filled by the library. */
struct cgstats_v1_metrics {
	bool has_pids, has_memory, has_memory_oom_control, has_blkio, has_rdma;
	struct cgstats_v1_pids pids;
	struct cgstats_v1_cpu cpu;
	struct cgstats_v1_memory memory;
	struct cgstats_v1_oom_control memory_oom_control;
	struct cgstats_v1_blkio blkio;
	struct cgstats_rdma rdma;
	struct cgstats_v1_hugetlb *hugetlb;
	size_t n_hugetlb;
};

/* Reads the statistics into *ret (zeroed first; release with cgstats_v1_metrics_done, also
 * after a failure). Returns 0 or -errno (-EINVAL: a file the library fails to parse). */
int cgstats_v1_read(const struct cgstats_v1 *cg, struct cgstats_v1_metrics *ret);
void cgstats_v1_metrics_done(struct cgstats_v1_metrics *m);

/* ---- cgroup v2: io.containerd.cgroups.v2.Metrics ---- */

struct cgstats_v2_pids {
	uint64_t current, limit;
};

struct cgstats_v2_cpu {
	uint64_t usage_usec, user_usec, system_usec, nr_periods, nr_throttled, throttled_usec;
};

/* MemoryStat: the memory.stat keys the library reads, then memory.current, memory.max,
 * memory.swap.current and memory.swap.max. */
struct cgstats_v2_memory {
	uint64_t anon, file, kernel_stack, slab, sock, shmem, file_mapped, file_dirty,
		file_writeback, anon_thp, inactive_anon, active_anon, inactive_file, active_file,
		unevictable, slab_reclaimable, slab_unreclaimable, pgfault, pgmajfault,
		workingset_refault, workingset_activate, workingset_nodereclaim, pgrefill, pgscan,
		pgsteal, pgactivate, pgdeactivate, pglazyfree, pglazyfreed, thp_fault_alloc,
		thp_collapse_alloc;
	uint64_t usage, usage_limit, swap_usage, swap_limit;
};

struct cgstats_v2_memory_events {
	uint64_t low, high, max, oom, oom_kill;
};

struct cgstats_v2_io_entry {
	uint64_t major, minor, rbytes, wbytes, rios, wios;
};

struct cgstats_v2_hugetlb {
	uint64_t current, max;
	char *pagesize;
};

/* Metrics. Pids, CPU, Memory, Io (the io list) and Rdma always exist; MemoryEvents when
 * has_memory_events. */
struct cgstats_v2_metrics {
	bool has_memory_events;
	struct cgstats_v2_pids pids;
	struct cgstats_v2_cpu cpu;
	struct cgstats_v2_memory memory;
	struct cgstats_v2_memory_events memory_events;
	struct cgstats_v2_io_entry *io;
	size_t n_io;
	struct cgstats_rdma rdma;
	struct cgstats_v2_hugetlb *hugetlb;
	size_t n_hugetlb;
};

/* The same on a unified host, from the container's cgroup directory (release *ret with
 * cgstats_v2_metrics_done, also after a failure). */
int cgstats_v2_read(const char *dir, struct cgstats_v2_metrics *ret);
void cgstats_v2_metrics_done(struct cgstats_v2_metrics *m);
/* For the OOM watch on a unified host: memory.events' oom_kill (-errno when unreadable), and
 * cgroup.events' populated (1, or 0 also when unreadable). */
int cgstats_v2_oom_kill(const char *dir, uint64_t *ret);
int cgstats_v2_populated(const char *dir);
