/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for core/cgstats.h over fixture cgroup directories built in a temporary
 * directory. The expected values are what github.com/containerd/cgroups v1.0.4 produces for
 * the same files (read from its source: cgroup.go, pids.go, cpu.go, cpuacct.go, memory.go,
 * blkio.go, hugetlb.go, rdma.go, v2/manager.go, v2/utils.go). File contents come from this
 * host's cgroup v1 files (kernel 6.18) and from the library's own test data (memory_test.go's
 * memoryData and memoryOomControlData); the v2 files follow the kernel's formats.
 * The last tests carry what core read through server/metrics.h to the packed Any of the Stats
 * reply and compare it with golden bytes (tests/unit/test_metrics.c tests the conversion).
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/cgstats.h"
#include "core/container.h"
#include "core/container_priv.h"
#include "core/error.h"
#include "server/metrics.h"

typedef struct cgstats_v1_metrics M1;
typedef struct cgstats_v2_metrics M2;

static char root[64];

static void put(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s/%s", root, dir, name);
	f = fopen(path, "we");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static void del(const char *dir, const char *name)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s/%s", root, dir, name);
	assert_int_equal(unlink(path), 0);
}

static char *sub(const char *dir)
{
	char *p;
	assert_true(asprintf(&p, "%s/%s", root, dir) > 0);
	return p;
}

static void mk(const char *dir)
{
	char *p = sub(dir);
	assert_int_equal(mkdir(p, 0755), 0);
	free(p);
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(p);
}

/* The library's memory_test.go data: each field's value is its position. */
static const char memory_data[] =
	"cache 1\nrss 2\nrss_huge 3\nmapped_file 4\ndirty 5\nwriteback 6\npgpgin 7\npgpgout 8\n"
	"pgfault 9\npgmajfault 10\ninactive_anon 11\nactive_anon 12\ninactive_file 13\n"
	"active_file 14\nunevictable 15\nhierarchical_memory_limit 16\n"
	"hierarchical_memsw_limit 17\ntotal_cache 18\ntotal_rss 19\ntotal_rss_huge 20\n"
	"total_mapped_file 21\ntotal_dirty 22\ntotal_writeback 23\ntotal_pgpgin 24\n"
	"total_pgpgout 25\ntotal_pgfault 26\ntotal_pgmajfault 27\ntotal_inactive_anon 28\n"
	"total_active_anon 29\ntotal_inactive_file 30\ntotal_active_file 31\n"
	"total_unevictable 32\n";

/* This host's root memory cgroup (cgroup v1, kernel 6.18): keys the library does not read
 * (shmem, swap, workingset_*) are ignored. */
static const char memory_real[] =
	"cache 13692928\nrss 6569984\nrss_huge 0\nshmem 10465280\nmapped_file 7913472\n"
	"dirty 4096\nwriteback 0\nworkingset_refault_anon 0\nworkingset_refault_file 581\n"
	"swap 0\nswapcached 0\npgpgin 35466\npgpgout 30519\npgfault 49021\npgmajfault 0\n"
	"inactive_anon 0\nactive_anon 0\ninactive_file 40960\nactive_file 3186688\n"
	"unevictable 17035264\nhierarchical_memory_limit 9223372036854771712\n"
	"hierarchical_memsw_limit 9223372036854771712\ntotal_cache 975290368\n"
	"total_rss 195940352\ntotal_rss_huge 0\ntotal_shmem 10465280\n"
	"total_mapped_file 80904192\ntotal_dirty 98304\ntotal_writeback 0\n"
	"total_workingset_refault_anon 0\ntotal_workingset_refault_file 227983\ntotal_swap 0\n"
	"total_swapcached 0\ntotal_pgpgin 73098626\ntotal_pgpgout 72851207\n"
	"total_pgfault 112555559\ntotal_pgmajfault 3970\ntotal_inactive_anon 189034496\n"
	"total_active_anon 155648\ntotal_inactive_file 356364288\n"
	"total_active_file 608460800\ntotal_unevictable 17035264\n";

#define NOLIMIT "9223372036854771712\n"

/* A complete v1 container cgroup: one directory per controller, plus /proc/partitions and
 * /sys/kernel/mm/hugepages look-alikes. */
static int setup_v1(void **state)
{
	static const char *const ctls[] = { "pids",  "cpu",  "cpuacct", "memory",
					    "blkio", "rdma", "hugetlb", "hugepages" };
	(void)state;
	snprintf(root, sizeof(root), "/tmp/cgstats-XXXXXX");
	assert_non_null(mkdtemp(root));
	for (size_t i = 0; i < sizeof(ctls) / sizeof(ctls[0]); i++)
		mk(ctls[i]);
	mk("hugepages/hugepages-2048kB");
	mk("hugepages/hugepages-1048576kB");
	put("pids", "pids.current", "3\n");
	put("pids", "pids.max", "max\n");
	/* this host's cpu.stat (nr_bursts/burst_time are not read) with throttling */
	put("cpu", "cpu.stat",
	    "nr_periods 1205\nnr_throttled 37\nthrottled_time 2913004588\nnr_bursts 0\n"
	    "burst_time 0\n");
	put("cpuacct", "cpuacct.stat", "user 138516\nsystem 107546\n");
	put("cpuacct", "cpuacct.usage", "2460628415250\n");
	put("cpuacct", "cpuacct.usage_percpu", "1179160440348 1281470920277 \n");
	put("memory", "memory.stat", memory_real);
	put("memory", "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");
	put("memory", "memory.usage_in_bytes", "1171345408\n");
	put("memory", "memory.max_usage_in_bytes", "1787887616\n");
	put("memory", "memory.failcnt", "0\n");
	put("memory", "memory.limit_in_bytes", "268435456\n");
	put("memory", "memory.memsw.usage_in_bytes", "1171345409\n");
	put("memory", "memory.memsw.max_usage_in_bytes", "1787887617\n");
	put("memory", "memory.memsw.failcnt", "5\n");
	put("memory", "memory.memsw.limit_in_bytes", NOLIMIT);
	put("memory", "memory.kmem.usage_in_bytes", "150544384\n");
	put("memory", "memory.kmem.max_usage_in_bytes", "249315328\n");
	put("memory", "memory.kmem.failcnt", "0\n");
	put("memory", "memory.kmem.limit_in_bytes", NOLIMIT);
	put("memory", "memory.kmem.tcp.usage_in_bytes", "0\n");
	put("memory", "memory.kmem.tcp.max_usage_in_bytes", "0\n");
	put("memory", "memory.kmem.tcp.failcnt", "0\n");
	put("memory", "memory.kmem.tcp.limit_in_bytes", NOLIMIT);
	/* no CFQ on this host: the throttle files, in the kernel's format */
	put("blkio", "blkio.throttle.io_serviced",
	    "254:0 Read 120\n254:0 Write 7\n254:0 Sync 100\n254:0 Async 27\n254:0 Discard 0\n"
	    "254:0 Total 127\n7:1 Read 2\nTotal 129\n");
	put("blkio", "blkio.throttle.io_service_bytes",
	    "254:0 Read 4096000\n254:0 Write 8192\nTotal 4104192\n");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	assert_int_equal(nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS), 0);
	return 0;
}

/* /proc/partitions of this host, plus a loop device */
static const char partitions[] = "major minor  #blocks  name\n\n"
				 " 254        0  268435456 vda\n"
				 "   7        1      10240 loop1\n"
				 " 254        0        100 vda-dup\n";

static void v1_paths(struct cgstats_v1 *cg)
{
	static const char *const dirs[CGSTATS_NCTL] = {
		[CGSTATS_PIDS] = "pids",       [CGSTATS_CPU] = "cpu",
		[CGSTATS_CPUACCT] = "cpuacct", [CGSTATS_MEMORY] = "memory",
		[CGSTATS_BLKIO] = "blkio",     [CGSTATS_RDMA] = "rdma",
		[CGSTATS_HUGETLB] = "hugetlb",
	};
	char *hp = sub("hugepages");
	memset(cg, 0, sizeof(*cg));
	for (int c = 0; c < CGSTATS_NCTL; c++)
		cg->dir[c] = sub(dirs[c]);
	assert_int_equal(cgstats_hugepage_sizes(hp, &cg->hp_sizes, &cg->n_hp), 0);
	free(hp);
}

static char *partitions_file(void)
{
	char *p;
	FILE *f;
	assert_true(asprintf(&p, "%s/partitions.txt", root) > 0);
	f = fopen(p, "we");
	assert_non_null(f);
	fputs(partitions, f);
	fclose(f);
	return p;
}

static void read_v1(struct cgstats_v1 *cg, char **parts, M1 *m)
{
	*parts = partitions_file();
	cg->partitions = *parts;
	assert_int_equal(cgstats_v1_read(cg, m), 0);
}

static void assert_blk(const struct cgstats_v1_blkio_entry *e, uint64_t maj, uint64_t min,
		       const char *op, uint64_t v, const char *dev)
{
	assert_int_equal(e->major, maj);
	assert_int_equal(e->minor, min);
	assert_string_equal(e->op, op);
	assert_int_equal(e->value, v);
	assert_string_equal(e->device, dev);
}

static void test_v1_hugetlb_sizes(void **state)
{
	(void)state;
	char *hp = sub("hugepages"), **s;
	size_t n;

	/* ioutil.ReadDir's name order: "hugepages-1048576kB" before "hugepages-2048kB" */
	assert_int_equal(cgstats_hugepage_sizes(hp, &s, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(s[0], "1GB");
	assert_string_equal(s[1], "2MB");
	for (size_t i = 0; i < n; i++)
		free(s[i]);
	free(s);
	mk("hugepages/hugepages-64kB");
	mk("hugepages/hugepages-1536kB");
	assert_int_equal(cgstats_hugepage_sizes(hp, &s, &n), 0);
	assert_int_equal(n, 4);
	assert_string_equal(s[1], "1.5MB"); /* %g */
	assert_string_equal(s[3], "64KB");
	for (size_t i = 0; i < n; i++)
		free(s[i]);
	free(s);
	free(hp);
}

static void test_v1_full(void **state)
{
	(void)state;
	struct cgstats_v1 cg;
	char *parts;
	M1 m[1];

	put("hugetlb", "hugetlb.2MB.usage_in_bytes", "4194304\n");
	put("hugetlb", "hugetlb.2MB.max_usage_in_bytes", "6291456\n");
	put("hugetlb", "hugetlb.2MB.failcnt", "1\n");
	put("hugetlb", "hugetlb.1GB.usage_in_bytes", "0\n");
	put("hugetlb", "hugetlb.1GB.max_usage_in_bytes", "0\n");
	put("hugetlb", "hugetlb.1GB.failcnt", "0\n");
	put("rdma", "rdma.current",
	    "mlx4_0 hca_handle=2 hca_object=2000\nocrdma1 hca_handle=3 "
	    "hca_object=max\n");
	put("rdma", "rdma.max",
	    "mlx4_0 hca_handle=max hca_object=max\nocrdma1 hca_handle=-1 "
	    "hca_object=4294967296\n");
	v1_paths(&cg);
	read_v1(&cg, &parts, m);

	assert_true(m->has_pids);
	assert_int_equal(m->pids.current, 3);
	assert_int_equal(m->pids.limit, 0); /* "max": no limit, 0 */

	assert_int_equal(m->cpu.periods, 1205);
	assert_int_equal(m->cpu.throttled_periods, 37);
	assert_int_equal(m->cpu.throttled_time, 2913004588u);
	assert_int_equal(m->cpu.total, 2460628415250u);
	/* USER_HZ ticks (100/s) to ns */
	assert_int_equal(m->cpu.user, 1385160000000u);
	assert_int_equal(m->cpu.kernel, 1075460000000u);
	assert_int_equal(m->cpu.n_per_cpu, 2);
	assert_int_equal(m->cpu.per_cpu[0], 1179160440348u);
	assert_int_equal(m->cpu.per_cpu[1], 1281470920277u);

	struct cgstats_v1_memory *ms = &m->memory;
	assert_true(m->has_memory);
	assert_int_equal(ms->cache, 13692928);
	assert_int_equal(ms->rss, 6569984);
	assert_int_equal(ms->rss_huge, 0);
	assert_int_equal(ms->mapped_file, 7913472);
	assert_int_equal(ms->dirty, 4096);
	assert_int_equal(ms->writeback, 0);
	assert_int_equal(ms->pg_pg_in, 35466);
	assert_int_equal(ms->pg_pg_out, 30519);
	assert_int_equal(ms->pg_fault, 49021);
	assert_int_equal(ms->pg_maj_fault, 0);
	assert_int_equal(ms->inactive_anon, 0);
	assert_int_equal(ms->active_anon, 0);
	assert_int_equal(ms->inactive_file, 40960);
	assert_int_equal(ms->active_file, 3186688);
	assert_int_equal(ms->unevictable, 17035264);
	assert_int_equal(ms->hierarchical_memory_limit, 9223372036854771712u);
	assert_int_equal(ms->hierarchical_swap_limit, 9223372036854771712u);
	assert_int_equal(ms->total_cache, 975290368);
	assert_int_equal(ms->total_rss, 195940352);
	assert_int_equal(ms->total_rss_huge, 0);
	assert_int_equal(ms->total_mapped_file, 80904192);
	assert_int_equal(ms->total_dirty, 98304);
	assert_int_equal(ms->total_writeback, 0);
	assert_int_equal(ms->total_pg_pg_in, 73098626);
	assert_int_equal(ms->total_pg_pg_out, 72851207);
	assert_int_equal(ms->total_pg_fault, 112555559);
	assert_int_equal(ms->total_pg_maj_fault, 3970);
	assert_int_equal(ms->total_inactive_anon, 189034496);
	assert_int_equal(ms->total_active_anon, 155648);
	assert_int_equal(ms->total_inactive_file, 356364288);
	assert_int_equal(ms->total_active_file, 608460800);
	assert_int_equal(ms->total_unevictable, 17035264);
	assert_int_equal(ms->usage.usage, 1171345408);
	assert_int_equal(ms->usage.max, 1787887616);
	assert_int_equal(ms->usage.failcnt, 0);
	assert_int_equal(ms->usage.limit, 268435456);
	assert_int_equal(ms->swap.usage, 1171345409);
	assert_int_equal(ms->swap.max, 1787887617);
	assert_int_equal(ms->swap.failcnt, 5);
	assert_int_equal(ms->swap.limit, 9223372036854771712u);
	assert_int_equal(ms->kernel.usage, 150544384);
	assert_int_equal(ms->kernel.max, 249315328);
	assert_int_equal(ms->kernel.failcnt, 0);
	assert_int_equal(ms->kernel.limit, 9223372036854771712u);
	assert_int_equal(ms->kernel_tcp.usage, 0);
	assert_int_equal(ms->kernel_tcp.max, 0);
	assert_int_equal(ms->kernel_tcp.failcnt, 0);
	assert_int_equal(ms->kernel_tcp.limit, 9223372036854771712u);
	assert_true(m->has_memory_oom_control);
	assert_int_equal(m->memory_oom_control.oom_kill_disable, 0);
	assert_int_equal(m->memory_oom_control.under_oom, 0);
	assert_int_equal(m->memory_oom_control.oom_kill, 2);

	/* throttle files: serviced to io_serviced_recursive, bytes to io_service_bytes_recursive,
	 * "Total" lines skipped, device names from partitions (first wins, unknown ""). */
	struct cgstats_v1_blkio *b = &m->blkio;
	assert_true(m->has_blkio);
	assert_int_equal(b->io_serviced_recursive.n, 7);
	assert_blk(&b->io_serviced_recursive.v[0], 254, 0, "Read", 120, "/dev/vda");
	assert_blk(&b->io_serviced_recursive.v[1], 254, 0, "Write", 7, "/dev/vda");
	assert_blk(&b->io_serviced_recursive.v[5], 254, 0, "Total", 127, "/dev/vda");
	assert_blk(&b->io_serviced_recursive.v[6], 7, 1, "Read", 2, "/dev/loop1");
	assert_int_equal(b->io_service_bytes_recursive.n, 2);
	assert_blk(&b->io_service_bytes_recursive.v[0], 254, 0, "Read", 4096000, "/dev/vda");
	assert_blk(&b->io_service_bytes_recursive.v[1], 254, 0, "Write", 8192, "/dev/vda");
	assert_int_equal(b->sectors_recursive.n + b->io_queued_recursive.n +
				 b->io_service_time_recursive.n + b->io_wait_time_recursive.n +
				 b->io_merged_recursive.n + b->io_time_recursive.n,
			 0);

	assert_int_equal(m->n_hugetlb, 2);
	assert_string_equal(m->hugetlb[0].pagesize, "1GB");
	assert_int_equal(m->hugetlb[0].usage, 0);
	assert_string_equal(m->hugetlb[1].pagesize, "2MB");
	assert_int_equal(m->hugetlb[1].usage, 4194304);
	assert_int_equal(m->hugetlb[1].max, 6291456);
	assert_int_equal(m->hugetlb[1].failcnt, 1);

	assert_true(m->has_rdma);
	assert_int_equal(m->rdma.n_current, 2);
	assert_string_equal(m->rdma.current[0].device, "mlx4_0");
	assert_int_equal(m->rdma.current[0].hca_handles, 2);
	assert_int_equal(m->rdma.current[0].hca_objects, 2000);
	assert_int_equal(m->rdma.current[1].hca_objects, UINT32_MAX); /* "max" */
	assert_int_equal(m->rdma.n_limit, 2);
	assert_int_equal(m->rdma.limit[0].hca_handles, UINT32_MAX);
	assert_int_equal(m->rdma.limit[1].hca_handles, 0); /* negative: 0 */
	assert_int_equal(m->rdma.limit[1].hca_objects, 0); /* over 32 bits: left unset */

	cgstats_v1_metrics_done(m);
	cgstats_v1_done(&cg);
	free(parts);
}

/* The library's own memory fixture: each memory.stat key lands in its field. */
static void test_v1_memory_fields(void **state)
{
	(void)state;
	struct cgstats_v1 cg;
	char *parts;
	M1 m[1];

	put("memory", "memory.stat", memory_data);
	put("memory", "memory.oom_control", "oom_kill_disable 1\nunder_oom 2\noom_kill 3\n");
	v1_paths(&cg);
	read_v1(&cg, &parts, m);
	const uint64_t *f = &m->memory.cache;
	for (int i = 0; i < 32; i++)
		assert_int_equal(f[i], i + 1);
	assert_ptr_equal(&f[31], &m->memory.total_unevictable);
	assert_int_equal(m->memory_oom_control.oom_kill_disable, 1);
	assert_int_equal(m->memory_oom_control.under_oom, 2);
	assert_int_equal(m->memory_oom_control.oom_kill, 3);
	cgstats_v1_metrics_done(m);
	cgstats_v1_done(&cg);
	free(parts);
}

/* What a missing file does: the controller's stats end there, what was read stays. */
static void test_v1_missing(void **state)
{
	(void)state;
	struct cgstats_v1 cg;
	char *parts;
	M1 m[1];

	/* no swap accounting: memsw missing, so kmem and kmem.tcp are not read either */
	del("memory", "memory.memsw.failcnt");
	/* pids.max missing: no PidsStat at all */
	del("pids", "pids.max");
	/* cpuacct.usage_percpu missing: none of cpuacct's fields */
	del("cpuacct", "cpuacct.usage_percpu");
	/* hugetlb: the 1GB files exist, 2MB's failcnt does not: the list stops after 1GB */
	put("hugetlb", "hugetlb.1GB.usage_in_bytes", "0\n");
	put("hugetlb", "hugetlb.1GB.max_usage_in_bytes", "0\n");
	put("hugetlb", "hugetlb.1GB.failcnt", "0\n");
	put("hugetlb", "hugetlb.2MB.usage_in_bytes", "1\n");
	put("hugetlb", "hugetlb.2MB.max_usage_in_bytes", "1\n");
	/* rdma: no files at all */
	v1_paths(&cg);
	read_v1(&cg, &parts, m);

	assert_false(m->has_pids);
	assert_false(m->has_rdma);
	assert_int_equal(m->cpu.total, 0);
	assert_int_equal(m->cpu.user, 0);
	assert_int_equal(m->cpu.n_per_cpu, 0);
	assert_int_equal(m->cpu.periods, 1205); /* cpu.stat still read */
	assert_int_equal(m->memory.usage.limit, 268435456);
	assert_int_equal(m->memory.swap.usage, 1171345409); /* read before failcnt */
	assert_int_equal(m->memory.swap.max, 1787887617);
	assert_int_equal(m->memory.swap.failcnt, 0);
	assert_int_equal(m->memory.swap.limit, 0);
	assert_int_equal(m->memory.kernel.usage, 0);
	assert_int_equal(m->memory.kernel_tcp.limit, 0);
	assert_int_equal(m->n_hugetlb, 1);
	assert_string_equal(m->hugetlb[0].pagesize, "1GB");
	cgstats_v1_metrics_done(m);

	/* memory.oom_control missing: MemoryStat kept, its entries zero, no OomControl */
	del("memory", "memory.oom_control");
	assert_int_equal(cgstats_v1_read(&cg, m), 0);
	assert_true(m->has_memory);
	assert_int_equal(m->memory.cache, 13692928);
	assert_int_equal(m->memory.usage.usage, 0);
	assert_false(m->has_memory_oom_control);
	cgstats_v1_metrics_done(m);

	/* every directory gone (container deleted): CPU (empty) and an empty BlkIOStat only */
	for (int c = 0; c < CGSTATS_NCTL; c++) {
		free(cg.dir[c]);
		assert_true(asprintf(&cg.dir[c], "%s/gone", root) > 0);
	}
	assert_int_equal(cgstats_v1_read(&cg, m), 0);
	assert_int_equal(m->cpu.periods, 0);
	assert_int_equal(m->cpu.total, 0);
	assert_false(m->has_pids);
	assert_false(m->has_memory);
	assert_false(m->has_memory_oom_control);
	assert_true(m->has_blkio);
	assert_int_equal(m->blkio.io_serviced_recursive.n, 0);
	assert_int_equal(m->n_hugetlb, 0);
	cgstats_v1_metrics_done(m);

	/* a controller not active at all: left out */
	for (int c = 0; c < CGSTATS_NCTL; c++) {
		free(cg.dir[c]);
		cg.dir[c] = NULL;
	}
	assert_int_equal(cgstats_v1_read(&cg, m), 0);
	assert_false(m->has_blkio);
	cgstats_v1_metrics_done(m);
	cgstats_v1_done(&cg);
	free(parts);
}

/* CFQ files: read when blkio.io_serviced_recursive exists and they hold an entry. */
static void test_v1_blkio_cfq(void **state)
{
	(void)state;
	static const char *const cfq[] = {
		"sectors_recursive",         "io_service_bytes_recursive",
		"io_serviced_recursive",     "io_queued_recursive",
		"io_service_time_recursive", "io_wait_time_recursive",
		"io_merged_recursive",       "time_recursive"
	};
	struct cgstats_v1 cg;
	char *parts, name[64];
	M1 m[1];

	for (size_t i = 0; i < 8; i++) {
		snprintf(name, sizeof(name), "blkio.%s", cfq[i]);
		put("blkio", name,
		    i == 0   ? "254:0 81920\n"
		    : i == 7 ? "254:0 55\n"
			     : "254:0 Read 10\n254:0 Write 20\nTotal 30\n");
	}
	v1_paths(&cg);
	read_v1(&cg, &parts, m);
	assert_int_equal(m->blkio.sectors_recursive.n, 1);
	assert_blk(&m->blkio.sectors_recursive.v[0], 254, 0, "", 81920, "/dev/vda");
	assert_int_equal(m->blkio.io_time_recursive.n, 1);
	assert_blk(&m->blkio.io_time_recursive.v[0], 254, 0, "", 55, "/dev/vda");
	assert_int_equal(m->blkio.io_serviced_recursive.n, 2); /* not the throttle file's */
	assert_blk(&m->blkio.io_serviced_recursive.v[1], 254, 0, "Write", 20, "/dev/vda");
	assert_int_equal(m->blkio.io_merged_recursive.n, 2);
	cgstats_v1_metrics_done(m);

	/* CFQ files present but empty ("Total 0"): the throttle files instead */
	for (size_t i = 0; i < 8; i++) {
		snprintf(name, sizeof(name), "blkio.%s", cfq[i]);
		put("blkio", name, "Total 0\n");
	}
	assert_int_equal(cgstats_v1_read(&cg, m), 0);
	assert_int_equal(m->blkio.io_serviced_recursive.n, 7);
	assert_int_equal(m->blkio.io_service_bytes_recursive.n, 2);
	assert_int_equal(m->blkio.sectors_recursive.n, 0);
	cgstats_v1_metrics_done(m);
	cgstats_v1_done(&cg);
	free(parts);
}

/* What fails the whole call: a file the library cannot parse. Negative numbers are 0. */
static void test_v1_errors(void **state)
{
	(void)state;
	struct cgstats_v1 cg;
	char *parts;
	M1 m[1];

	v1_paths(&cg);
	parts = partitions_file();
	cg.partitions = parts;

	put("memory", "memory.stat", "cache 1\nrss\n");
	assert_int_equal(cgstats_v1_read(&cg, m), -EINVAL);
	put("memory", "memory.stat", "cache -5\nrss -9223372036854775809\n"); /* -> 0 */
	put("memory", "memory.limit_in_bytes", "-1\n");
	assert_int_equal(cgstats_v1_read(&cg, m), 0);
	assert_int_equal(m->memory.cache, 0);
	assert_int_equal(m->memory.rss, 0);
	assert_int_equal(m->memory.usage.limit, 0);
	cgstats_v1_metrics_done(m);
	put("memory", "memory.failcnt", "-0\n"); /* ParseInt gives 0, not negative: error */
	assert_int_equal(cgstats_v1_read(&cg, m), -EINVAL);
	put("memory", "memory.failcnt", "18446744073709551616\n"); /* overflow */
	assert_int_equal(cgstats_v1_read(&cg, m), -EINVAL);
	put("memory", "memory.failcnt", "0\n");

	put("cpuacct", "cpuacct.stat", "user 1\nsystem 2\nextra 3\n");
	assert_int_equal(cgstats_v1_read(&cg, m), -EINVAL);
	put("cpuacct", "cpuacct.stat", "user 1\nsys 2\n");
	assert_int_equal(cgstats_v1_read(&cg, m), -EINVAL);
	put("cpuacct", "cpuacct.stat", "user -1\nsystem 2\n"); /* strict ParseUint */
	assert_int_equal(cgstats_v1_read(&cg, m), -EINVAL);
	put("cpuacct", "cpuacct.stat", "user 138516\nsystem 107546\n");

	put("pids", "pids.max", "lots\n");
	assert_int_equal(cgstats_v1_read(&cg, m), -EINVAL);
	put("pids", "pids.max", "64\n");

	put("cpu", "cpu.stat", "nr_periods 1 2\n");
	assert_int_equal(cgstats_v1_read(&cg, m), -EINVAL);
	put("cpu", "cpu.stat", "nr_periods 1\n");

	put("blkio", "blkio.throttle.io_serviced", "254:0 Read\n");
	assert_int_equal(cgstats_v1_read(&cg, m), -EINVAL);
	put("blkio", "blkio.throttle.io_serviced", "254:0 Read -1\n");
	assert_int_equal(cgstats_v1_read(&cg, m), -EINVAL);
	put("blkio", "blkio.throttle.io_serviced", "Total 0\n");

	assert_int_equal(cgstats_v1_read(&cg, m), 0);
	assert_int_equal(m->pids.limit, 64);
	cgstats_v1_metrics_done(m);
	cgstats_v1_done(&cg);
	free(parts);
}

static void test_v1_from_state(void **state)
{
	(void)state;
	/* the cgroup_paths of a runc 1.1.5 state.json on this host */
	static const char st[] = "{\"id\":\"c1\",\"init_process_pid\":42,\"cgroup_paths\":{"
				 "\"blkio\":\"/sys/fs/cgroup/blkio/default/c1\","
				 "\"cpu\":\"/sys/fs/cgroup/cpu,cpuacct/default/c1\","
				 "\"cpuacct\":\"/sys/fs/cgroup/cpu,cpuacct/default/c1\","
				 "\"cpuset\":\"/sys/fs/cgroup/cpuset/default/c1\","
				 "\"devices\":\"/sys/fs/cgroup/devices/default/c1\","
				 "\"freezer\":\"/sys/fs/cgroup/freezer/default/c1\","
				 "\"hugetlb\":\"/sys/fs/cgroup/hugetlb/default/c1\","
				 "\"memory\":\"/sys/fs/cgroup/memory/default/c1\","
				 "\"name=systemd\":\"/sys/fs/cgroup/systemd/default/c1\","
				 "\"pids\":\"/sys/fs/cgroup/pids/default/c1\"}}";
	static const char v2[] = "{\"cgroup_paths\":{\"\":\"/sys/fs/cgroup/default/c1\"}}";
	struct cgstats_v1 cg;
	char *hp = sub("hugepages"), *nohp = sub("nohugepages");

	assert_int_equal(cgstats_v1_from_state(st, strlen(st), hp, &cg), 0);
	assert_string_equal(cg.dir[CGSTATS_CPU], "/sys/fs/cgroup/cpu,cpuacct/default/c1");
	assert_string_equal(cg.dir[CGSTATS_CPUACCT], "/sys/fs/cgroup/cpu,cpuacct/default/c1");
	assert_string_equal(cg.dir[CGSTATS_MEMORY], "/sys/fs/cgroup/memory/default/c1");
	assert_string_equal(cg.dir[CGSTATS_BLKIO], "/sys/fs/cgroup/blkio/default/c1");
	assert_string_equal(cg.dir[CGSTATS_PIDS], "/sys/fs/cgroup/pids/default/c1");
	assert_string_equal(cg.dir[CGSTATS_HUGETLB], "/sys/fs/cgroup/hugetlb/default/c1");
	assert_null(cg.dir[CGSTATS_RDMA]);
	assert_int_equal(cg.n_hp, 2);
	cgstats_v1_done(&cg);
	/* no /sys/kernel/mm/hugepages: no hugetlb controller */
	assert_int_equal(cgstats_v1_from_state(st, strlen(st), nohp, &cg), 0);
	assert_null(cg.dir[CGSTATS_HUGETLB]);
	assert_int_equal(cg.n_hp, 0);
	cgstats_v1_done(&cg);
	assert_int_equal(cgstats_v1_from_state(v2, strlen(v2), hp, &cg), -ENOENT);
	assert_int_equal(cgstats_v1_from_state("{", 1, hp, &cg), -EINVAL);
	free(hp);
	free(nohp);
}

/* ===================================== cgroup v2 ===================================== */

static int setup_v2(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "/tmp/cgstats-XXXXXX");
	assert_non_null(mkdtemp(root));
	mk("cg");
	put("cg", "cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n");
	put("cg", "cpu.stat",
	    "usage_usec 2460628\nuser_usec 1385160\nsystem_usec 1075468\nnr_periods 1205\n"
	    "nr_throttled 37\nthrottled_usec 2913004\nnr_bursts 0\nburst_usec 0\n");
	/* kernel 6.x memory.stat: keys the library does not read are ignored */
	put("cg", "memory.stat",
	    "anon 6569984\nfile 13692928\nkernel 1200000\nkernel_stack 65536\npagetables 90112\n"
	    "sec_pagetables 0\npercpu 1440\nsock 4096\nvmalloc 0\nshmem 10465280\nzswap 0\n"
	    "zswapped 0\nfile_mapped 7913472\nfile_dirty 4096\nfile_writeback 8192\n"
	    "swapcached 0\nanon_thp 2097152\nfile_thp 0\nshmem_thp 0\ninactive_anon 10\n"
	    "active_anon 11\ninactive_file 40960\nactive_file 3186688\nunevictable 12\n"
	    "slab_reclaimable 13\nslab_unreclaimable 14\nslab 27\nworkingset_refault_anon 0\n"
	    "workingset_refault_file 581\nworkingset_activate_anon 0\n"
	    "workingset_activate_file 15\nworkingset_restore_anon 0\n"
	    "workingset_restore_file 0\nworkingset_nodereclaim 16\npgscan 17\npgsteal 18\n"
	    "pgscan_kswapd 0\npgscan_direct 0\npgsteal_kswapd 0\npgsteal_direct 0\n"
	    "pgfault 49021\npgmajfault 3\npgrefill 19\npgactivate 20\npgdeactivate 21\n"
	    "pglazyfree 22\npglazyfreed 23\nthp_fault_alloc 24\nthp_collapse_alloc 25\n"
	    "workingset_refault 26\nworkingset_activate 28\n");
	put("cg", "memory.current", "20262912\n");
	put("cg", "memory.max", "max\n");
	put("cg", "memory.swap.current", "0\n");
	put("cg", "memory.swap.max", "1073741824\n");
	put("cg", "memory.events", "low 0\nhigh 1\nmax 2\noom 3\noom_kill 4\noom_group_kill 5\n");
	put("cg", "pids.current", "3\n");
	put("cg", "pids.max", "max\n");
	put("cg", "io.stat",
	    "254:0 rbytes=4096000 wbytes=8192 rios=120 wios=7 dbytes=0 dios=0\n"
	    "7:1 rbytes=2048 wbytes=0 rios=2 wios=0 dbytes=0 dios=0\n");
	put("cg", "rdma.current", "mlx4_0 hca_handle=2 hca_object=2000\n");
	put("cg", "rdma.max", "mlx4_0 hca_handle=max hca_object=max\n");
	put("cg", "hugetlb.2MB.current", "4194304\n");
	put("cg", "hugetlb.2MB.max", "max\n");
	put("cg", "hugetlb.2MB.rsvd.current", "0\n");
	put("cg", "hugetlb.2MB.rsvd.max", "max\n");
	put("cg", "hugetlb.2MB.events", "max 0\n");
	put("cg", "hugetlb.1GB.current", "0\n");
	put("cg", "hugetlb.1GB.max", "1073741824\n");
	return 0;
}

static void read_v2(M2 *m)
{
	char *d = sub("cg");
	assert_int_equal(cgstats_v2_read(d, m), 0);
	free(d);
}

static struct cgstats_v2_hugetlb *hp2(M2 *m, const char *size)
{
	for (size_t i = 0; i < m->n_hugetlb; i++)
		if (strcmp(m->hugetlb[i].pagesize, size) == 0)
			return &m->hugetlb[i];
	return NULL;
}

static void test_v2_full(void **state)
{
	(void)state;
	M2 m[1];

	read_v2(m);

	assert_int_equal(m->pids.current, 3);
	assert_int_equal(m->pids.limit, UINT64_MAX); /* "max" on v2: MaxUint64 */
	/* cpu.stat in microseconds, as they are */
	assert_int_equal(m->cpu.usage_usec, 2460628);
	assert_int_equal(m->cpu.user_usec, 1385160);
	assert_int_equal(m->cpu.system_usec, 1075468);
	assert_int_equal(m->cpu.nr_periods, 1205);
	assert_int_equal(m->cpu.nr_throttled, 37);
	assert_int_equal(m->cpu.throttled_usec, 2913004);

	struct cgstats_v2_memory *ms = &m->memory;
	assert_int_equal(ms->anon, 6569984);
	assert_int_equal(ms->file, 13692928);
	assert_int_equal(ms->kernel_stack, 65536);
	assert_int_equal(ms->slab, 27);
	assert_int_equal(ms->sock, 4096);
	assert_int_equal(ms->shmem, 10465280);
	assert_int_equal(ms->file_mapped, 7913472);
	assert_int_equal(ms->file_dirty, 4096);
	assert_int_equal(ms->file_writeback, 8192);
	assert_int_equal(ms->anon_thp, 2097152);
	assert_int_equal(ms->inactive_anon, 10);
	assert_int_equal(ms->active_anon, 11);
	assert_int_equal(ms->inactive_file, 40960);
	assert_int_equal(ms->active_file, 3186688);
	assert_int_equal(ms->unevictable, 12);
	assert_int_equal(ms->slab_reclaimable, 13);
	assert_int_equal(ms->slab_unreclaimable, 14);
	assert_int_equal(ms->pgfault, 49021);
	assert_int_equal(ms->pgmajfault, 3);
	assert_int_equal(ms->workingset_refault, 26);
	assert_int_equal(ms->workingset_activate, 28);
	assert_int_equal(ms->workingset_nodereclaim, 16);
	assert_int_equal(ms->pgrefill, 19);
	assert_int_equal(ms->pgscan, 17);
	assert_int_equal(ms->pgsteal, 18);
	assert_int_equal(ms->pgactivate, 20);
	assert_int_equal(ms->pgdeactivate, 21);
	assert_int_equal(ms->pglazyfree, 22);
	assert_int_equal(ms->pglazyfreed, 23);
	assert_int_equal(ms->thp_fault_alloc, 24);
	assert_int_equal(ms->thp_collapse_alloc, 25);
	assert_int_equal(ms->usage, 20262912);
	assert_int_equal(ms->usage_limit, UINT64_MAX); /* "max" */
	assert_int_equal(ms->swap_usage, 0);
	assert_int_equal(ms->swap_limit, 1073741824);

	assert_true(m->has_memory_events);
	assert_int_equal(m->memory_events.low, 0);
	assert_int_equal(m->memory_events.high, 1);
	assert_int_equal(m->memory_events.max, 2);
	assert_int_equal(m->memory_events.oom, 3);
	assert_int_equal(m->memory_events.oom_kill, 4);

	assert_int_equal(m->n_io, 2);
	assert_int_equal(m->io[0].major, 254);
	assert_int_equal(m->io[0].minor, 0);
	assert_int_equal(m->io[0].rbytes, 4096000);
	assert_int_equal(m->io[0].wbytes, 8192);
	assert_int_equal(m->io[0].rios, 120);
	assert_int_equal(m->io[0].wios, 7);
	assert_int_equal(m->io[1].major, 7);
	assert_int_equal(m->io[1].rbytes, 2048);

	assert_int_equal(m->rdma.n_current, 1);
	assert_string_equal(m->rdma.current[0].device, "mlx4_0");
	assert_int_equal(m->rdma.current[0].hca_handles, 2);
	assert_int_equal(m->rdma.current[0].hca_objects, 2000);
	assert_int_equal(m->rdma.n_limit, 1);
	assert_int_equal(m->rdma.limit[0].hca_handles, UINT32_MAX);

	assert_int_equal(m->n_hugetlb, 2);
	assert_non_null(hp2(m, "2MB"));
	assert_int_equal(hp2(m, "2MB")->current, 4194304);
	assert_int_equal(hp2(m, "2MB")->max, UINT64_MAX);
	assert_non_null(hp2(m, "1GB"));
	assert_int_equal(hp2(m, "1GB")->current, 0);
	assert_int_equal(hp2(m, "1GB")->max, 1073741824);
	cgstats_v2_metrics_done(m);
}

/* Missing files and the controllers list. */
static void test_v2_missing(void **state)
{
	(void)state;
	M2 m[1];
	char *d = sub("cg");

	/* cpu not among the controllers: cpu.stat is not read */
	put("cg", "cgroup.controllers", "memory pids\n");
	del("cg", "memory.events");
	del("cg", "memory.max");
	del("cg", "io.stat");
	del("cg", "pids.max");
	read_v2(m);
	assert_int_equal(m->cpu.usage_usec, 0);
	assert_int_equal(m->cpu.nr_periods, 0);
	assert_int_equal(m->memory.anon, 6569984);
	assert_int_equal(m->memory.usage_limit, 0); /* unreadable: 0 */
	assert_false(m->has_memory_events);
	assert_int_equal(m->n_io, 0);
	assert_int_equal(m->pids.current, 3);
	assert_int_equal(m->pids.limit, 0);
	cgstats_v2_metrics_done(m);

	/* nothing but cgroup.controllers (empty): all zero (the messages are all there: see
	 * test_metrics) */
	put("cg", "cgroup.controllers", "\n");
	del("cg", "pids.current");
	assert_int_equal(cgstats_v2_read(d, m), 0);
	assert_int_equal(m->pids.current, 0);
	assert_int_equal(m->memory.anon, 0);
	assert_int_equal(m->memory.usage, 20262912); /* memory.current is read regardless */
	assert_int_equal(m->n_io, 0);
	assert_int_equal(m->rdma.n_current, 1);
	cgstats_v2_metrics_done(m);

	/* cgroup.controllers missing fails the call (manager.go does not ignore it) */
	del("cg", "cgroup.controllers");
	assert_int_equal(cgstats_v2_read(d, m), -ENOENT);
	assert_int_equal(m->n_io, 0); /* left empty */
	assert_null(m->io);
	free(d);
}

static void test_v2_parsing(void **state)
{
	(void)state;
	M2 m[1];
	char *d = sub("cg");

	/* a value that is not a number is a string in the library's map: 0, "max" too */
	put("cg", "cpu.stat", "usage_usec max\nuser_usec -4\nsystem_usec x\n");
	put("cg", "pids.max", "-7\n");
	put("cg", "pids.current", "many\n");
	put("cg", "memory.swap.max", "garbage\n");
	put("cg", "io.stat",
	    "254:0 rbytes=1 wbytes=x rios=3=4 wios=4\n"
	    "bogus\n"
	    "1:2:3 rbytes=9\n"
	    "8:0  rbytes=5\n"
	    "x:1 rbytes=6\n"
	    "9:9 rbytes=7\n");
	put("cg", "hugetlb.2MB.current", "-1\n"); /* strict ParseUint: skipped */
	read_v2(m);
	assert_int_equal(m->cpu.usage_usec, 0);
	assert_int_equal(m->cpu.user_usec, 0); /* parseUint: negative is 0 */
	assert_int_equal(m->cpu.system_usec, 0);
	assert_int_equal(m->pids.limit, 0);
	assert_int_equal(m->pids.current, 0);
	assert_int_equal(m->memory.swap_limit, 0);
	/* the io.stat lines up to the unparsable major ("x"): the list ends there */
	assert_int_equal(m->n_io, 2);
	assert_int_equal(m->io[0].rbytes, 1);
	assert_int_equal(m->io[0].wbytes, 0);
	assert_int_equal(m->io[0].rios, 0);
	assert_int_equal(m->io[0].wios, 4);
	assert_int_equal(m->io[1].major, 8); /* the empty part is skipped */
	assert_int_equal(m->io[1].rbytes, 5);
	assert_int_equal(hp2(m, "2MB")->current, 0);
	cgstats_v2_metrics_done(m);

	/* a line of memory.stat or memory.events that is not "key value" fails the call */
	put("cg", "memory.events", "low 0\nhigh\n");
	assert_int_equal(cgstats_v2_read(d, m), -EINVAL);
	put("cg", "memory.events", "low 0\n");
	put("cg", "memory.stat", "anon 1 2\n");
	assert_int_equal(cgstats_v2_read(d, m), -EINVAL);
	free(d);
}

/* ===================================== the wire bytes ===================================== */

/* The google.protobuf.Any {type_url, value} of the v1 fixture of test_v1_full, packed: the
 * bytes the Stats reply carries (server/metrics.c's conversion of what core read), as cgstats
 * produced them when tests/e2e/cgstats-crosscheck.sh found them equal to
 * containerd-shim-runc-v2's Stats reply (captured from that code, commit 2cd411e). */
static const uint8_t golden_v1[] = {
	0x0a, 0x20, 0x69, 0x6f, 0x2e, 0x63, 0x6f, 0x6e, 0x74, 0x61, 0x69, 0x6e, 0x65, 0x72, 0x64,
	0x2e, 0x63, 0x67, 0x72, 0x6f, 0x75, 0x70, 0x73, 0x2e, 0x76, 0x31, 0x2e, 0x4d, 0x65, 0x74,
	0x72, 0x69, 0x63, 0x73, 0x12, 0xdf, 0x04, 0x0a, 0x05, 0x22, 0x03, 0x31, 0x47, 0x42, 0x0a,
	0x11, 0x08, 0x80, 0x80, 0x80, 0x02, 0x10, 0x80, 0x80, 0x80, 0x03, 0x18, 0x01, 0x22, 0x03,
	0x32, 0x4d, 0x42, 0x12, 0x02, 0x08, 0x03, 0x1a, 0x32, 0x0a, 0x23, 0x08, 0x92, 0xe6, 0x87,
	0xc7, 0xce, 0x47, 0x10, 0x80, 0x92, 0xa5, 0xb3, 0xa6, 0x1f, 0x18, 0x80, 0x84, 0xe1, 0x8f,
	0xa8, 0x28, 0x22, 0x0c, 0x9c, 0xdc, 0xc1, 0xdb, 0xa8, 0x22, 0xd5, 0xec, 0xf9, 0xec, 0xa5,
	0x25, 0x12, 0x0b, 0x08, 0xb5, 0x09, 0x10, 0x25, 0x18, 0xac, 0xd8, 0x83, 0xed, 0x0a, 0x22,
	0xe3, 0x01, 0x08, 0x80, 0xe0, 0xc3, 0x06, 0x10, 0x80, 0x80, 0x91, 0x03, 0x20, 0x80, 0x80,
	0xe3, 0x03, 0x28, 0x80, 0x20, 0x38, 0x8a, 0x95, 0x02, 0x40, 0xb7, 0xee, 0x01, 0x48, 0xfd,
	0xfe, 0x02, 0x68, 0x80, 0xc0, 0x02, 0x70, 0x80, 0xc0, 0xc2, 0x01, 0x78, 0x80, 0xe0, 0x8f,
	0x08, 0x80, 0x01, 0x80, 0xe0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0x88, 0x01, 0x80,
	0xe0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0x90, 0x01, 0x80, 0x80, 0x87, 0xd1, 0x03,
	0x98, 0x01, 0x80, 0xa0, 0xb7, 0x5d, 0xa8, 0x01, 0x80, 0x80, 0xca, 0x26, 0xb0, 0x01, 0x80,
	0x80, 0x06, 0xc0, 0x01, 0x82, 0xcb, 0xed, 0x22, 0xc8, 0x01, 0x87, 0xbe, 0xde, 0x22, 0xd0,
	0x01, 0xa7, 0xec, 0xd5, 0x35, 0xd8, 0x01, 0x82, 0x1f, 0xe0, 0x01, 0x80, 0xe0, 0x91, 0x5a,
	0xe8, 0x01, 0x80, 0xc0, 0x09, 0xf0, 0x01, 0x80, 0xe0, 0xf6, 0xa9, 0x01, 0xf8, 0x01, 0x80,
	0xc0, 0x91, 0xa2, 0x02, 0x80, 0x02, 0x80, 0xe0, 0x8f, 0x08, 0x8a, 0x02, 0x12, 0x08, 0x80,
	0x80, 0x80, 0x80, 0x01, 0x10, 0x80, 0xa0, 0xc5, 0xae, 0x04, 0x18, 0x80, 0x80, 0xc4, 0xd4,
	0x06, 0x92, 0x02, 0x18, 0x08, 0x80, 0xe0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0x10,
	0x81, 0xa0, 0xc5, 0xae, 0x04, 0x18, 0x81, 0x80, 0xc4, 0xd4, 0x06, 0x20, 0x05, 0x9a, 0x02,
	0x14, 0x08, 0x80, 0xe0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0x10, 0x80, 0xc0, 0xe4,
	0x47, 0x18, 0x80, 0x80, 0xf1, 0x76, 0xa2, 0x02, 0x0a, 0x08, 0x80, 0xe0, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0x7f, 0x2a, 0xdb, 0x01, 0x0a, 0x18, 0x0a, 0x04, 0x52, 0x65, 0x61, 0x64,
	0x12, 0x08, 0x2f, 0x64, 0x65, 0x76, 0x2f, 0x76, 0x64, 0x61, 0x18, 0xfe, 0x01, 0x28, 0x80,
	0x80, 0xfa, 0x01, 0x0a, 0x17, 0x0a, 0x05, 0x57, 0x72, 0x69, 0x74, 0x65, 0x12, 0x08, 0x2f,
	0x64, 0x65, 0x76, 0x2f, 0x76, 0x64, 0x61, 0x18, 0xfe, 0x01, 0x28, 0x80, 0x40, 0x12, 0x15,
	0x0a, 0x04, 0x52, 0x65, 0x61, 0x64, 0x12, 0x08, 0x2f, 0x64, 0x65, 0x76, 0x2f, 0x76, 0x64,
	0x61, 0x18, 0xfe, 0x01, 0x28, 0x78, 0x12, 0x16, 0x0a, 0x05, 0x57, 0x72, 0x69, 0x74, 0x65,
	0x12, 0x08, 0x2f, 0x64, 0x65, 0x76, 0x2f, 0x76, 0x64, 0x61, 0x18, 0xfe, 0x01, 0x28, 0x07,
	0x12, 0x15, 0x0a, 0x04, 0x53, 0x79, 0x6e, 0x63, 0x12, 0x08, 0x2f, 0x64, 0x65, 0x76, 0x2f,
	0x76, 0x64, 0x61, 0x18, 0xfe, 0x01, 0x28, 0x64, 0x12, 0x16, 0x0a, 0x05, 0x41, 0x73, 0x79,
	0x6e, 0x63, 0x12, 0x08, 0x2f, 0x64, 0x65, 0x76, 0x2f, 0x76, 0x64, 0x61, 0x18, 0xfe, 0x01,
	0x28, 0x1b, 0x12, 0x16, 0x0a, 0x07, 0x44, 0x69, 0x73, 0x63, 0x61, 0x72, 0x64, 0x12, 0x08,
	0x2f, 0x64, 0x65, 0x76, 0x2f, 0x76, 0x64, 0x61, 0x18, 0xfe, 0x01, 0x12, 0x16, 0x0a, 0x05,
	0x54, 0x6f, 0x74, 0x61, 0x6c, 0x12, 0x08, 0x2f, 0x64, 0x65, 0x76, 0x2f, 0x76, 0x64, 0x61,
	0x18, 0xfe, 0x01, 0x28, 0x7f, 0x12, 0x18, 0x0a, 0x04, 0x52, 0x65, 0x61, 0x64, 0x12, 0x0a,
	0x2f, 0x64, 0x65, 0x76, 0x2f, 0x6c, 0x6f, 0x6f, 0x70, 0x31, 0x18, 0x07, 0x20, 0x01, 0x28,
	0x02, 0x32, 0x43, 0x0a, 0x0d, 0x0a, 0x06, 0x6d, 0x6c, 0x78, 0x34, 0x5f, 0x30, 0x10, 0x02,
	0x18, 0xd0, 0x0f, 0x0a, 0x11, 0x0a, 0x07, 0x6f, 0x63, 0x72, 0x64, 0x6d, 0x61, 0x31, 0x10,
	0x03, 0x18, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x12, 0x14, 0x0a, 0x06, 0x6d, 0x6c, 0x78, 0x34,
	0x5f, 0x30, 0x10, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x18, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x12,
	0x09, 0x0a, 0x07, 0x6f, 0x63, 0x72, 0x64, 0x6d, 0x61, 0x31, 0x4a, 0x02, 0x18, 0x02
};

/* The same for setup_v2's fixture without the 1GB huge page files (the library lists the
 * sizes in directory order: one size keeps the bytes independent of the filesystem). */
static const uint8_t golden_v2[] = {
	0x0a, 0x20, 0x69, 0x6f, 0x2e, 0x63, 0x6f, 0x6e, 0x74, 0x61, 0x69, 0x6e, 0x65, 0x72, 0x64,
	0x2e, 0x63, 0x67, 0x72, 0x6f, 0x75, 0x70, 0x73, 0x2e, 0x76, 0x32, 0x2e, 0x4d, 0x65, 0x74,
	0x72, 0x69, 0x63, 0x73, 0x12, 0x93, 0x02, 0x0a, 0x0d, 0x08, 0x03, 0x10, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x12, 0x17, 0x08, 0xd4, 0x97, 0x96, 0x01, 0x10,
	0xc8, 0xc5, 0x54, 0x18, 0x8c, 0xd2, 0x41, 0x20, 0xb5, 0x09, 0x28, 0x25, 0x30, 0xec, 0xe5,
	0xb1, 0x01, 0x22, 0x82, 0x01, 0x08, 0x80, 0x80, 0x91, 0x03, 0x10, 0x80, 0xe0, 0xc3, 0x06,
	0x18, 0x80, 0x80, 0x04, 0x20, 0x1b, 0x28, 0x80, 0x20, 0x30, 0x80, 0xe0, 0xfe, 0x04, 0x38,
	0x80, 0x80, 0xe3, 0x03, 0x40, 0x80, 0x20, 0x48, 0x80, 0x40, 0x50, 0x80, 0x80, 0x80, 0x01,
	0x58, 0x0a, 0x60, 0x0b, 0x68, 0x80, 0xc0, 0x02, 0x70, 0x80, 0xc0, 0xc2, 0x01, 0x78, 0x0c,
	0x80, 0x01, 0x0d, 0x88, 0x01, 0x0e, 0x90, 0x01, 0xfd, 0xfe, 0x02, 0x98, 0x01, 0x03, 0xa0,
	0x01, 0x1a, 0xa8, 0x01, 0x1c, 0xb0, 0x01, 0x10, 0xb8, 0x01, 0x13, 0xc0, 0x01, 0x11, 0xc8,
	0x01, 0x12, 0xd0, 0x01, 0x14, 0xd8, 0x01, 0x15, 0xe0, 0x01, 0x16, 0xe8, 0x01, 0x17, 0xf0,
	0x01, 0x18, 0xf8, 0x01, 0x19, 0x80, 0x02, 0x80, 0xe0, 0xd4, 0x09, 0x88, 0x02, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x98, 0x02, 0x80, 0x80, 0x80, 0x80, 0x04,
	0x2a, 0x25, 0x0a, 0x0d, 0x0a, 0x06, 0x6d, 0x6c, 0x78, 0x34, 0x5f, 0x30, 0x10, 0x02, 0x18,
	0xd0, 0x0f, 0x12, 0x14, 0x0a, 0x06, 0x6d, 0x6c, 0x78, 0x34, 0x5f, 0x30, 0x10, 0xff, 0xff,
	0xff, 0xff, 0x0f, 0x18, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x32, 0x1c, 0x0a, 0x0f, 0x08, 0xfe,
	0x01, 0x18, 0x80, 0x80, 0xfa, 0x01, 0x20, 0x80, 0x40, 0x28, 0x78, 0x30, 0x07, 0x0a, 0x09,
	0x08, 0x07, 0x10, 0x01, 0x18, 0x80, 0x10, 0x28, 0x02, 0x3a, 0x15, 0x08, 0x80, 0x80, 0x80,
	0x02, 0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x1a, 0x03, 0x32,
	0x4d, 0x42, 0x42, 0x08, 0x10, 0x01, 0x18, 0x02, 0x20, 0x03, 0x28, 0x04
};

static void v1_golden_fixture(void)
{
	put("hugetlb", "hugetlb.2MB.usage_in_bytes", "4194304\n");
	put("hugetlb", "hugetlb.2MB.max_usage_in_bytes", "6291456\n");
	put("hugetlb", "hugetlb.2MB.failcnt", "1\n");
	put("hugetlb", "hugetlb.1GB.usage_in_bytes", "0\n");
	put("hugetlb", "hugetlb.1GB.max_usage_in_bytes", "0\n");
	put("hugetlb", "hugetlb.1GB.failcnt", "0\n");
	put("rdma", "rdma.current",
	    "mlx4_0 hca_handle=2 hca_object=2000\nocrdma1 hca_handle=3 "
	    "hca_object=max\n");
	put("rdma", "rdma.max",
	    "mlx4_0 hca_handle=max hca_object=max\nocrdma1 hca_handle=-1 "
	    "hca_object=4294967296\n");
}

static void assert_bytes(const uint8_t *got, size_t n, const uint8_t *want, size_t wn)
{
	for (size_t i = 0; i < n && i < wn; i++)
		if (got[i] != want[i])
			fail_msg("byte %zu: 0x%02x, want 0x%02x", i, got[i], want[i]);
	assert_int_equal(n, wn);
}

/* The Any server/metrics.c packs, packed once more as the reply carries it. */
static void assert_any(const Google__Protobuf__Any *any, const char *url, const uint8_t *want,
		       size_t wn)
{
	size_t n = google__protobuf__any__get_packed_size(any);
	uint8_t *buf = malloc(n);

	assert_string_equal(any->type_url, url);
	assert_non_null(buf);
	assert_int_equal(google__protobuf__any__pack(any, buf), n);
	assert_bytes(buf, n, want, wn);
	free(buf);
}

/* The packed v1 Any (files -> core/cgstats -> server/metrics) is byte for byte the golden
 * one. */
static void test_v1_golden(void **state)
{
	(void)state;
	Google__Protobuf__Any any;
	struct cgstats_v1 cg;
	char *parts;
	M1 m[1];

	v1_golden_fixture();
	v1_paths(&cg);
	read_v1(&cg, &parts, m);
	assert_int_equal(metrics_v1_any(m, &any), 0);
	assert_any(&any, "io.containerd.cgroups.v1.Metrics", golden_v1, sizeof(golden_v1));
	metrics_any_clear(&any);
	assert_null(any.value.data);
	cgstats_v1_metrics_done(m);
	cgstats_v1_done(&cg);
	free(parts);
}

static void test_v2_golden(void **state)
{
	(void)state;
	Google__Protobuf__Any any;
	M2 m[1];

	del("cg", "hugetlb.1GB.current");
	del("cg", "hugetlb.1GB.max");
	read_v2(m);
	assert_int_equal(metrics_v2_any(m, &any), 0);
	assert_any(&any, "io.containerd.cgroups.v2.Metrics", golden_v2, sizeof(golden_v2));
	metrics_any_clear(&any);
	cgstats_v2_metrics_done(m);
}

/* A container's Stats (core/stats.c): the cgroup comes from the runtime's state.json once,
 * the figures from the cgroup's files every time. state.json turned to garbage after the
 * first call changes nothing; a file's new value shows at once. */
static void test_container_stats_parse_once(void **state)
{
	struct container *c = container_new("ctr1", "/nonexistent");
	struct shim_error err = { 0 };
	char *dir = sub("ctr1"), *json;
	bool v2 = false;
	M1 m1[1];
	M2 m2[1];

	(void)state;
	assert_non_null(c);
	c->rt.root = root;
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_true(asprintf(&json, "{\"id\":\"ctr1\",\"cgroup_paths\":{\"\":\"%s/cg\"}}", root) >
		    0);
	put("ctr1", "state.json", json);
	assert_int_equal(container_cgroup_stats(c, &v2, m1, m2, &err), 0);
	assert_true(v2);
	assert_int_equal(m2->pids.current, 3);
	cgstats_v1_metrics_done(m1);
	cgstats_v2_metrics_done(m2);

	put("ctr1", "state.json", "{");
	put("cg", "pids.current", "4\n");
	v2 = false;
	assert_int_equal(container_cgroup_stats(c, &v2, m1, m2, &err), 0);
	assert_true(v2);
	assert_int_equal(m2->pids.current, 4);
	cgstats_v1_metrics_done(m1);
	cgstats_v2_metrics_done(m2);

	/* a new container of that id (after a Delete) reads state.json again */
	c->rt.root = NULL;
	container_unref(c);
	c = container_new("ctr1", "/nonexistent");
	assert_non_null(c);
	c->rt.root = root;
	assert_int_equal(container_cgroup_stats(c, &v2, m1, m2, &err), -EINVAL);
	c->rt.root = NULL;
	container_unref(c);
	free(json);
	free(dir);
}

/* Every descriptor opened while reading is closed again. */
static void test_no_fd_leak(void **state)
{
	(void)state;
	struct cgstats_v1 cg;
	char *parts;
	M1 m[1];
	int before = fcntl(0, F_DUPFD_CLOEXEC, 0), after;

	close(before);
	v1_paths(&cg);
	read_v1(&cg, &parts, m);
	cgstats_v1_metrics_done(m);
	after = fcntl(0, F_DUPFD_CLOEXEC, 0);
	close(after);
	assert_int_equal(before, after);
	cgstats_v1_done(&cg);
	free(parts);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_v1_hugetlb_sizes, setup_v1, teardown),
		cmocka_unit_test_setup_teardown(test_v1_full, setup_v1, teardown),
		cmocka_unit_test_setup_teardown(test_v1_memory_fields, setup_v1, teardown),
		cmocka_unit_test_setup_teardown(test_v1_missing, setup_v1, teardown),
		cmocka_unit_test_setup_teardown(test_v1_blkio_cfq, setup_v1, teardown),
		cmocka_unit_test_setup_teardown(test_v1_errors, setup_v1, teardown),
		cmocka_unit_test_setup_teardown(test_v1_from_state, setup_v1, teardown),
		cmocka_unit_test_setup_teardown(test_no_fd_leak, setup_v1, teardown),
		cmocka_unit_test_setup_teardown(test_v2_full, setup_v2, teardown),
		cmocka_unit_test_setup_teardown(test_v2_missing, setup_v2, teardown),
		cmocka_unit_test_setup_teardown(test_v2_parsing, setup_v2, teardown),
		cmocka_unit_test_setup_teardown(test_container_stats_parse_once, setup_v2,
						teardown),
		cmocka_unit_test_setup_teardown(test_v1_golden, setup_v1, teardown),
		cmocka_unit_test_setup_teardown(test_v2_golden, setup_v2, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
