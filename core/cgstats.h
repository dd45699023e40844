/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A container's cgroup statistics, as the runtime v2 shim's Stats returns them: the
 * io.containerd.cgroups.v1.Metrics (cgroup v1) or io.containerd.cgroups.v2.Metrics (unified)
 * message, filled from the cgroup files exactly as github.com/containerd/cgroups v1.0.4 (the
 * library containerd 1.6's containerd-shim-runc-v2 uses) fills it: the same files, units and
 * conversions, and the same choice of which missing files are skipped and which errors fail the
 * whole call. No process is forked. See docs/stats.md for the file-to-field map.
 */
#pragma once

#include <stddef.h>

#include "github.com/containerd/cgroups/cgroup1/stats/metrics.pb-c.h"
#include "github.com/containerd/cgroups/cgroup2/stats/metrics.pb-c.h"

/* The type_url of the Any wrapping each message (typeurl falls back to the proto name). */
#define CGSTATS_V1_TYPE_URL "io.containerd.cgroups.v1.Metrics"
#define CGSTATS_V2_TYPE_URL "io.containerd.cgroups.v2.Metrics"

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

/* Reads the statistics. Returns 0 with a heap message (free with
 * io__containerd__cgroups__v1__metrics__free_unpacked(m, NULL)), or -errno (-EINVAL: a file
 * the library fails to parse). */
int cgstats_v1_read(const struct cgstats_v1 *cg, Io__Containerd__Cgroups__V1__Metrics **ret);
/* The same on a unified host, from the container's cgroup directory. Free with
 * io__containerd__cgroups__v2__metrics__free_unpacked(m, NULL). */
int cgstats_v2_read(const char *dir, Io__Containerd__Cgroups__V2__Metrics **ret);
