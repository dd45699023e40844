/* SPDX-License-Identifier: Apache-2.0 */
/* Cgroup statistics as github.com/containerd/cgroups v1.0.4 reads them: see cgstats.h and
 * docs/stats.md. Each reader says in a comment which Go code it follows. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../io/base.h"
#include "../io/fd_util.h"
#include "cgstats.h"

/* Cgroup files are small; a file this big is not one (the read fails). */
#define FILE_MAX (1u << 20)

/* ---- text helpers: Go's strconv and strings, as the library calls them ---- */

/* strconv.ParseUint(s, 10, bits): digits only, no sign, no overflow. */
static int go_parse_uint_strict(const char *s, size_t n, unsigned bits, uint64_t *ret)
{
	uint64_t max = bits >= 64 ? UINT64_MAX : (UINT64_C(1) << bits) - 1, v = 0;

	if (n == 0)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		unsigned d = (unsigned char)s[i] - '0';
		if (d > 9)
			return -EINVAL;
		if (v > (max - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*ret = v;
	return 0;
}

/* The library's parseUint: ParseUint, but a negative integer (ParseInt succeeds below zero or
 * overflows downwards) is 0. "-0" stays an error, as ParseInt gives 0, not below zero. */
static int go_parse_uint(const char *s, size_t n, unsigned bits, uint64_t *ret)
{
	int r = go_parse_uint_strict(s, n, bits, ret);
	bool nonzero = false;

	if (r == 0 || n < 2 || s[0] != '-')
		return r;
	for (size_t i = 1; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return r;
		nonzero |= s[i] != '0';
	}
	if (!nonzero)
		return r;
	*ret = 0;
	return 0;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* strings.TrimSpace, in place on [*s, *s + *n). */
static void trim(const char **s, size_t *n)
{
	while (*n > 0 && is_space(**s))
		(*s)++, (*n)--;
	while (*n > 0 && is_space((*s)[*n - 1]))
		(*n)--;
}

struct tok {
	const char *s;
	size_t n;
};

/* strings.Fields (sep NULL) or strings.FieldsFunc with the separators in sep: at most max
 * tokens kept, the count returned (it may exceed max). */
static size_t fields(const char *s, size_t n, const char *sep, struct tok *t, size_t max)
{
	size_t count = 0, i = 0;

	while (i < n) {
		while (i < n && (sep ? strchr(sep, s[i]) != NULL : is_space(s[i])))
			i++;
		if (i == n)
			break;
		size_t start = i;
		while (i < n && !(sep ? strchr(sep, s[i]) != NULL : is_space(s[i])))
			i++;
		if (count < max)
			t[count] = (struct tok){ s + start, i - start };
		count++;
	}
	return count;
}

static bool tok_is(struct tok t, const char *lit)
{
	return t.n == strlen(lit) && memcmp(t.s, lit, t.n) == 0;
}

/* bufio.Scanner's lines: split at '\n', a trailing '\r' dropped, no empty last line. */
static bool next_line(const char **cur, const char *end, struct tok *line)
{
	const char *s = *cur, *nl;

	if (s >= end)
		return false;
	nl = memchr(s, '\n', (size_t)(end - s));
	line->s = s;
	line->n = (size_t)((nl ? nl : end) - s);
	*cur = nl ? nl + 1 : end;
	if (line->n > 0 && s[line->n - 1] == '\r')
		line->n--;
	return true;
}

/* ---- file reads ---- */

/* A controller directory, opened once: dfd, or err (-errno) when it could not be opened, so
 * that each read of it fails as a read of a file in a missing directory does. */
struct cgdir {
	int dfd, err;
};

static struct cgdir cgdir_open(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return (struct cgdir){ fd, fd < 0 ? -errno : 0 };
}

static void cgdir_close(struct cgdir *d)
{
	if (d->dfd >= 0)
		close(d->dfd);
	d->dfd = -1;
}

static int read_fd(int fd, char **buf, size_t *len)
{
	int r = fd_read_all(fd, FILE_MAX, buf, len);
	if (r == 0 && *len >= FILE_MAX) {
		free(*buf);
		*buf = NULL;
		r = -EFBIG;
	}
	return r;
}

static int read_at(const struct cgdir *d, const char *name, char **buf, size_t *len)
{
	_cleanup_close_ int fd = -1;

	if (d->dfd < 0)
		return d->err;
	fd = openat(d->dfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	return read_fd(fd, buf, len);
}

/* The library's readUint: the file, trimmed, through parseUint. */
static int read_uint_at(const struct cgdir *d, const char *name, uint64_t *ret)
{
	_cleanup_free_ char *buf = NULL;
	const char *s;
	size_t n;
	int r = read_at(d, name, &buf, &n);

	if (r < 0)
		return r;
	s = buf;
	trim(&s, &n);
	return go_parse_uint(s, n, 64, ret) < 0 ? -EINVAL : 0;
}

static char *strndup_tok(struct tok t)
{
	return strndup(t.s, t.n);
}

/* Appends p to an array of pointers. */
static int push_ptr(void ***v, size_t *n, void *p)
{
	void **nv;

	if (!p)
		return -ENOMEM;
	nv = realloc(*v, (*n + 1) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	nv[(*n)++] = p;
	*v = nv;
	return 0;
}

#define PUSH(arr, n, p) push_ptr((void ***)&(arr), &(n), (p))

/* Appends a zeroed element of size bytes to the array *v of *n: the new element, or NULL. */
static void *grow(void **v, size_t *n, size_t size)
{
	char *nv = realloc(*v, (*n + 1) * size);

	if (!nv)
		return NULL;
	*v = nv;
	memset(nv + *n * size, 0, size);
	return nv + (*n)++ * size;
}

#define GROW(arr, n) ((__typeof__(arr))grow((void **)&(arr), &(n), sizeof(*(arr))))

/* ===================================== cgroup v1 ===================================== */

/* pids.go Stat: pids.current through readUint, pids.max "max" as 0 (no limit). */
static int v1_pids(const struct cgdir *d, struct cgstats_v1_metrics *m)
{
	_cleanup_free_ char *buf = NULL;
	uint64_t cur, max = 0;
	const char *s;
	size_t n;
	int r;

	if ((r = read_uint_at(d, "pids.current", &cur)) < 0)
		return r;
	if ((r = read_at(d, "pids.max", &buf, &n)) < 0)
		return r;
	s = buf;
	trim(&s, &n);
	if (!(n == 3 && memcmp(s, "max", 3) == 0) && go_parse_uint(s, n, 64, &max) < 0)
		return -EINVAL;
	m->has_pids = true;
	m->pids.current = cur;
	m->pids.limit = max;
	return 0;
}

/* parseKV: exactly two fields, the value through parseUint. */
static int parse_kv(struct tok line, struct tok *key, uint64_t *v)
{
	struct tok t[2];

	if (fields(line.s, line.n, NULL, t, 2) != 2 || go_parse_uint(t[1].s, t[1].n, 64, v) < 0)
		return -EINVAL;
	*key = t[0];
	return 0;
}

/* cpu.go Stat: cpu.stat's throttling counters, as they are (periods, and ns). */
static int v1_cpu(const struct cgdir *d, struct cgstats_v1_metrics *m)
{
	_cleanup_free_ char *buf = NULL;
	struct cgstats_v1_cpu *th = &m->cpu;
	const char *cur, *end;
	struct tok line, key;
	uint64_t v;
	size_t n;
	int r;

	if ((r = read_at(d, "cpu.stat", &buf, &n)) < 0)
		return r;
	for (cur = buf, end = buf + n; next_line(&cur, end, &line);) {
		if (parse_kv(line, &key, &v) < 0)
			return -EINVAL;
		if (tok_is(key, "nr_periods"))
			th->periods = v;
		else if (tok_is(key, "nr_throttled"))
			th->throttled_periods = v;
		else if (tok_is(key, "throttled_time"))
			th->throttled_time = v;
	}
	return 0;
}

/* cpuacct.go Stat: cpuacct.stat's user and system in USER_HZ ticks (clockTicks is 100 in the
 * library) converted to ns as (ticks * 1e9) / 100 in uint64, cpuacct.usage (ns) and
 * cpuacct.usage_percpu (ns); set only when all three were read. */
static int v1_cpuacct(const struct cgdir *d, struct cgstats_v1_metrics *m)
{
	_cleanup_free_ char *st = NULL, *pc = NULL;
	_cleanup_free_ uint64_t *percpu = NULL;
	struct cgstats_v1_cpu *u = &m->cpu;
	uint64_t user, sys, total;
	size_t n, npc = 0, cnt;
	struct tok t[4];
	int r;

	if ((r = read_at(d, "cpuacct.stat", &st, &n)) < 0)
		return r;
	if (fields(st, n, NULL, t, 4) != 4 || !tok_is(t[0], "user") || !tok_is(t[2], "system") ||
	    go_parse_uint_strict(t[1].s, t[1].n, 64, &user) < 0 ||
	    go_parse_uint_strict(t[3].s, t[3].n, 64, &sys) < 0)
		return -EINVAL;
	if ((r = read_uint_at(d, "cpuacct.usage", &total)) < 0)
		return r;
	if ((r = read_at(d, "cpuacct.usage_percpu", &pc, &n)) < 0)
		return r;
	cnt = fields(pc, n, NULL, NULL, 0);
	if (cnt > 0) {
		const char *s = pc, *end = pc + n;
		percpu = calloc(cnt, sizeof(*percpu));
		if (!percpu)
			return -ENOMEM;
		while (npc < cnt) {
			struct tok one;
			while (is_space(*s))
				s++;
			one.s = s;
			while (s < end && !is_space(*s))
				s++;
			one.n = (size_t)(s - one.s);
			if (go_parse_uint_strict(one.s, one.n, 64, &percpu[npc++]) < 0)
				return -EINVAL;
		}
	}
	u->total = total;
	u->user = user * UINT64_C(1000000000) / 100;
	u->kernel = sys * UINT64_C(1000000000) / 100;
	free(u->per_cpu);
	u->per_cpu = TAKE_PTR(percpu);
	u->n_per_cpu = npc;
	return 0;
}

/* memory.stat's keys, in the order of MemoryStat's fields (parseStats). */
#define V1MEM(key, field)                                                                          \
	{                                                                                          \
		key, offsetof(struct cgstats_v1_memory, field)                                     \
	}
static const struct {
	const char *key;
	size_t off;
} v1_mem_keys[] = {
	V1MEM("cache", cache),
	V1MEM("rss", rss),
	V1MEM("rss_huge", rss_huge),
	V1MEM("mapped_file", mapped_file),
	V1MEM("dirty", dirty),
	V1MEM("writeback", writeback),
	V1MEM("pgpgin", pg_pg_in),
	V1MEM("pgpgout", pg_pg_out),
	V1MEM("pgfault", pg_fault),
	V1MEM("pgmajfault", pg_maj_fault),
	V1MEM("inactive_anon", inactive_anon),
	V1MEM("active_anon", active_anon),
	V1MEM("inactive_file", inactive_file),
	V1MEM("active_file", active_file),
	V1MEM("unevictable", unevictable),
	V1MEM("hierarchical_memory_limit", hierarchical_memory_limit),
	V1MEM("hierarchical_memsw_limit", hierarchical_swap_limit),
	V1MEM("total_cache", total_cache),
	V1MEM("total_rss", total_rss),
	V1MEM("total_rss_huge", total_rss_huge),
	V1MEM("total_mapped_file", total_mapped_file),
	V1MEM("total_dirty", total_dirty),
	V1MEM("total_writeback", total_writeback),
	V1MEM("total_pgpgin", total_pg_pg_in),
	V1MEM("total_pgpgout", total_pg_pg_out),
	V1MEM("total_pgfault", total_pg_fault),
	V1MEM("total_pgmajfault", total_pg_maj_fault),
	V1MEM("total_inactive_anon", total_inactive_anon),
	V1MEM("total_active_anon", total_active_anon),
	V1MEM("total_inactive_file", total_inactive_file),
	V1MEM("total_active_file", total_active_file),
	V1MEM("total_unevictable", total_unevictable),
};

/* memory.go Stat: memory.stat (bytes and event counts as they are, the last of a repeated
 * key wins), then memory.oom_control, then usage/max_usage/failcnt/limit of the memory,
 * memsw, kmem and kmem.tcp files in that order. A missing file ends the controller's stats
 * there: what was read stays (MemoryStat and its four entries exist once memory.stat was
 * read; a host without swap accounting has no memsw files, and then kmem is not read). */
static int v1_memory(const struct cgdir *d, struct cgstats_v1_metrics *m)
{
	static const char *const mods[] = { "", "memsw.", "kmem.", "kmem.tcp." };
	static const char *const names[] = { "usage_in_bytes", "max_usage_in_bytes", "failcnt",
					     "limit_in_bytes" };
	_cleanup_free_ char *buf = NULL, *oom = NULL;
	struct cgstats_v1_memory *ms = &m->memory;
	const char *cur, *end;
	struct tok line, key;
	uint64_t v;
	size_t n;
	int r;

	if ((r = read_at(d, "memory.stat", &buf, &n)) < 0)
		return r;
	m->has_memory = true;
	for (cur = buf, end = buf + n; next_line(&cur, end, &line);) {
		if (parse_kv(line, &key, &v) < 0)
			return -EINVAL;
		for (size_t i = 0; i < ARRAY_SIZE(v1_mem_keys); i++)
			if (tok_is(key, v1_mem_keys[i].key))
				*(uint64_t *)((char *)ms + v1_mem_keys[i].off) = v;
	}

	if ((r = read_at(d, "memory.oom_control", &oom, &n)) < 0)
		return r;
	m->has_memory_oom_control = true;
	for (cur = oom, end = oom + n; next_line(&cur, end, &line);) {
		if (parse_kv(line, &key, &v) < 0)
			return -EINVAL;
		if (tok_is(key, "oom_kill_disable"))
			m->memory_oom_control.oom_kill_disable = v;
		else if (tok_is(key, "under_oom"))
			m->memory_oom_control.under_oom = v;
		else if (tok_is(key, "oom_kill"))
			m->memory_oom_control.oom_kill = v;
	}

	struct cgstats_v1_mem_entry *entries[] = { &ms->usage, &ms->swap, &ms->kernel,
						   &ms->kernel_tcp };
	for (size_t i = 0; i < ARRAY_SIZE(mods); i++) {
		uint64_t *dst[] = { &entries[i]->usage, &entries[i]->max, &entries[i]->failcnt,
				    &entries[i]->limit };
		for (size_t j = 0; j < ARRAY_SIZE(names); j++) {
			char file[64];
			snprintf(file, sizeof(file), "memory.%s%s", mods[i], names[j]);
			if ((r = read_uint_at(d, file, dst[j])) < 0)
				return r;
		}
	}
	return 0;
}

/* /proc/partitions as blkio.go's getDevices reads it: the first two lines skipped, then
 * "major minor blocks name"; the first name of a major:minor wins. */
struct devname {
	uint64_t major, minor;
	char *name;
};

struct devmap {
	struct devname *v;
	size_t n;
};

static void devmap_free(struct devmap *dm)
{
	for (size_t i = 0; i < dm->n; i++)
		free(dm->v[i].name);
	free(dm->v);
}

/* strconv.Atoi (a sign allowed), as an int64. */
static int go_atoi(struct tok t, int64_t *ret)
{
	bool neg = t.n > 0 && t.s[0] == '-';
	uint64_t u;

	if (t.n > 0 && (t.s[0] == '-' || t.s[0] == '+'))
		t.s++, t.n--;
	if (go_parse_uint_strict(t.s, t.n, 64, &u) < 0 || u > (uint64_t)INT64_MAX + neg)
		return -EINVAL;
	*ret = neg ? (int64_t)(0 - u) : (int64_t)u;
	return 0;
}

static int read_partitions(const char *path, struct devmap *dm)
{
	_cleanup_free_ char *buf = NULL;
	const char *cur, *end;
	struct tok line, t[4];
	size_t n;
	int r = fd_read_file(path, FILE_MAX, &buf, &n);

	if (r < 0)
		return r;
	if (n >= FILE_MAX)
		return -EFBIG;
	cur = buf;
	end = buf + n;
	for (int i = 0; next_line(&cur, end, &line); i++) {
		int64_t maj, min;
		bool dup = false;
		if (i < 2)
			continue;
		/* the library would crash on a line of fewer than 4 fields: skipped here */
		if (fields(line.s, line.n, NULL, t, 4) < 4)
			continue;
		if (go_atoi(t[0], &maj) < 0 || go_atoi(t[1], &min) < 0)
			return -EINVAL;
		for (size_t k = 0; k < dm->n && !dup; k++)
			dup = dm->v[k].major == (uint64_t)maj && dm->v[k].minor == (uint64_t)min;
		if (dup)
			continue;
		struct devname *nv = realloc(dm->v, (dm->n + 1) * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		dm->v = nv;
		if (asprintf(&nv[dm->n].name, "/dev/%.*s", (int)t[3].n, t[3].s) < 0)
			return -ENOMEM;
		nv[dm->n].major = (uint64_t)maj;
		nv[dm->n].minor = (uint64_t)min;
		dm->n++;
	}
	return 0;
}

/* blkio.go readEntry: "major:minor [op] value" lines (fields split at ' ' and ':'), a
 * "Total N" line skipped, anything else shorter an error. */
static int v1_blkio_entries(const struct cgdir *d, const char *name, const struct devmap *dm,
			    struct cgstats_v1_blkio_list *list)
{
	_cleanup_free_ char *buf = NULL;
	const char *cur, *end;
	struct tok line, t[4];
	char file[64];
	size_t n;
	int r;

	snprintf(file, sizeof(file), "blkio.%s", name);
	if ((r = read_at(d, file, &buf, &n)) < 0)
		return r;
	for (cur = buf, end = buf + n; next_line(&cur, end, &line);) {
		size_t nf = fields(line.s, line.n, " :", t, 4);
		uint64_t maj, min, v;
		struct tok op = { "", 0 }, val = t[2];
		if (nf < 3) {
			if (nf == 2 && tok_is(t[0], "Total"))
				continue;
			return -EINVAL;
		}
		if (go_parse_uint_strict(t[0].s, t[0].n, 64, &maj) < 0 ||
		    go_parse_uint_strict(t[1].s, t[1].n, 64, &min) < 0)
			return -EINVAL;
		if (nf == 4) {
			op = t[2];
			val = t[3];
		}
		if (go_parse_uint_strict(val.s, val.n, 64, &v) < 0)
			return -EINVAL;
		const char *dev = "";
		struct cgstats_v1_blkio_entry *e = GROW(list->v, list->n);
		if (!e)
			return -ENOMEM;
		e->major = maj;
		e->minor = min;
		e->value = v;
		for (size_t k = 0; k < dm->n; k++)
			if (dm->v[k].major == maj && dm->v[k].minor == min)
				dev = dm->v[k].name;
		e->op = strndup_tok(op);
		e->device = strdup(dev);
		if (!e->op || !e->device)
			return -ENOMEM;
	}
	return 0;
}

/* blkio.go Stat: the CFQ *_recursive files when blkio.io_serviced_recursive exists and they
 * hold any entry, else throttle.io_serviced and throttle.io_service_bytes. BlkIOStat exists
 * as soon as the controller is read, empty when its files are missing. */
static int v1_blkio(const struct cgdir *d, const char *partitions, struct cgstats_v1_metrics *m)
{
	struct devmap dm = { 0 };
	struct cgstats_v1_blkio *b = &m->blkio;
	struct stat st;
	bool cfq;
	int r = 0;

	m->has_blkio = true;
	cfq = d->dfd >= 0 &&
	      fstatat(d->dfd, "blkio.io_serviced_recursive", &st, AT_SYMLINK_NOFOLLOW) == 0;
	if ((r = read_partitions(partitions ? partitions : "/proc/partitions", &dm)) < 0)
		goto out;
	if (cfq) {
		struct {
			const char *name;
			struct cgstats_v1_blkio_list *list;
		} cfq_files[] = {
			{ "sectors_recursive", &b->sectors_recursive },
			{ "io_service_bytes_recursive", &b->io_service_bytes_recursive },
			{ "io_serviced_recursive", &b->io_serviced_recursive },
			{ "io_queued_recursive", &b->io_queued_recursive },
			{ "io_service_time_recursive", &b->io_service_time_recursive },
			{ "io_wait_time_recursive", &b->io_wait_time_recursive },
			{ "io_merged_recursive", &b->io_merged_recursive },
			{ "time_recursive", &b->io_time_recursive },
		};
		size_t total = 0;
		for (size_t i = 0; i < ARRAY_SIZE(cfq_files); i++) {
			r = v1_blkio_entries(d, cfq_files[i].name, &dm, cfq_files[i].list);
			if (r < 0)
				goto out;
			total += cfq_files[i].list->n;
		}
		if (total > 0)
			goto out;
	}
	r = v1_blkio_entries(d, "throttle.io_serviced", &dm, &b->io_serviced_recursive);
	if (r == 0)
		r = v1_blkio_entries(d, "throttle.io_service_bytes", &dm,
				     &b->io_service_bytes_recursive);
out:
	devmap_free(&dm);
	return r;
}

/* hugetlb.go Stat: per page size, usage_in_bytes, max_usage_in_bytes and failcnt of
 * hugetlb.<size>.*; a missing file ends the list there. */
static int v1_hugetlb(const struct cgdir *d, const struct cgstats_v1 *cg,
		      struct cgstats_v1_metrics *m)
{
	static const char *const names[] = { "usage_in_bytes", "max_usage_in_bytes", "failcnt" };
	int r;

	for (size_t i = 0; i < cg->n_hp; i++) {
		struct cgstats_v1_hugetlb h = { 0 }, *e;
		uint64_t *dst[] = { &h.usage, &h.max, &h.failcnt };
		for (size_t j = 0; j < ARRAY_SIZE(names); j++) {
			char file[96];
			snprintf(file, sizeof(file), "hugetlb.%s.%s", cg->hp_sizes[i], names[j]);
			if ((r = read_uint_at(d, file, dst[j])) < 0)
				return r;
		}
		if (!(e = GROW(m->hugetlb, m->n_hugetlb)))
			return -ENOMEM;
		*e = h;
		if (!(e->pagesize = strdup(cg->hp_sizes[i])))
			return -ENOMEM;
	}
	return 0;
}

/* rdma.go parseRdmaKV: "hca_handle=N" / "hca_object=N", "max" as MaxUint32, a value
 * parseUint(…, 32) rejects leaves the field as it was. */
static void rdma_kv(struct tok kv, uint32_t *handles, uint32_t *objects)
{
	const char *eq = memchr(kv.s, '=', kv.n);
	uint64_t v;

	if (!eq || memchr(eq + 1, '=', kv.n - (size_t)(eq + 1 - kv.s)))
		return;
	struct tok k = { kv.s, (size_t)(eq - kv.s) }, val = { eq + 1, kv.n - k.n - 1 };
	if (tok_is(val, "max"))
		v = UINT32_MAX;
	else if (go_parse_uint(val.s, val.n, 32, &v) < 0)
		return;
	if (tok_is(k, "hca_handle"))
		*handles = (uint32_t)v;
	else if (tok_is(k, "hca_object"))
		*objects = (uint32_t)v;
}

/* toRdmaEntry: lines of exactly three fields "device hca_handle=N hca_object=N" (the v1 and
 * v2 RdmaEntry are the same). */
static int rdma_entries(const char *buf, size_t n, struct cgstats_rdma_entry **arr, size_t *narr)
{
	const char *cur = buf, *end = buf + n;
	struct tok line, t[3];

	while (next_line(&cur, end, &line)) {
		if (fields(line.s, line.n, NULL, t, 3) != 3)
			continue;
		struct cgstats_rdma_entry *e = GROW(*arr, *narr);
		if (!e)
			return -ENOMEM;
		rdma_kv(t[1], &e->hca_handles, &e->hca_objects);
		rdma_kv(t[2], &e->hca_handles, &e->hca_objects);
		if (!(e->device = strndup_tok(t[0])))
			return -ENOMEM;
	}
	return 0;
}

static size_t count_char(const char *s, size_t n, char c)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		k += s[i] == c;
	return k;
}

/* rdma.go Stat: rdma.current and rdma.max, dropped when their line counts differ (a device
 * went away between the reads). */
static int v1_rdma(const struct cgdir *d, struct cgstats_v1_metrics *m)
{
	_cleanup_free_ char *cur = NULL, *max = NULL;
	size_t ncur, nmax;
	int r;

	if ((r = read_at(d, "rdma.current", &cur, &ncur)) < 0)
		return r;
	if ((r = read_at(d, "rdma.max", &max, &nmax)) < 0)
		return r;
	if (count_char(cur, ncur, '\n') != count_char(max, nmax, '\n'))
		return 0;
	m->has_rdma = true;
	if ((r = rdma_entries(cur, ncur, &m->rdma.current, &m->rdma.n_current)) < 0)
		return r;
	return rdma_entries(max, nmax, &m->rdma.limit, &m->rdma.n_limit);
}

/* cgroup.go Stat with IgnoreNotExist: every controller's stats; a controller whose files are
 * missing (ENOENT) keeps what it read before, any other error fails the whole call. The CPU
 * message and its usage and throttling always exist. */
static void rdma_done(struct cgstats_rdma *rd)
{
	for (size_t i = 0; i < rd->n_current; i++)
		free(rd->current[i].device);
	for (size_t i = 0; i < rd->n_limit; i++)
		free(rd->limit[i].device);
	free(rd->current);
	free(rd->limit);
}

static void blkio_list_done(struct cgstats_v1_blkio_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].op);
		free(l->v[i].device);
	}
	free(l->v);
}

void cgstats_v1_metrics_done(struct cgstats_v1_metrics *m)
{
	struct cgstats_v1_blkio *b = &m->blkio;
	struct cgstats_v1_blkio_list *lists[] = {
		&b->io_service_bytes_recursive, &b->io_serviced_recursive,  &b->io_queued_recursive,
		&b->io_service_time_recursive,  &b->io_wait_time_recursive, &b->io_merged_recursive,
		&b->io_time_recursive,          &b->sectors_recursive,
	};

	free(m->cpu.per_cpu);
	for (size_t i = 0; i < ARRAY_SIZE(lists); i++)
		blkio_list_done(lists[i]);
	rdma_done(&m->rdma);
	for (size_t i = 0; i < m->n_hugetlb; i++)
		free(m->hugetlb[i].pagesize);
	free(m->hugetlb);
	memset(m, 0, sizeof(*m));
}

int cgstats_v1_read(const struct cgstats_v1 *cg, struct cgstats_v1_metrics *m)
{
	int r = 0;

	memset(m, 0, sizeof(*m));
	for (int c = 0; c < CGSTATS_NCTL && r == 0; c++) {
		struct cgdir d;
		if (!cg->dir[c])
			continue;
		d = cgdir_open(cg->dir[c]);
		switch (c) {
		case CGSTATS_PIDS: r = v1_pids(&d, m); break;
		case CGSTATS_CPU: r = v1_cpu(&d, m); break;
		case CGSTATS_CPUACCT: r = v1_cpuacct(&d, m); break;
		case CGSTATS_MEMORY: r = v1_memory(&d, m); break;
		case CGSTATS_BLKIO: r = v1_blkio(&d, cg->partitions, m); break;
		case CGSTATS_RDMA: r = v1_rdma(&d, m); break;
		case CGSTATS_HUGETLB: r = v1_hugetlb(&d, cg, m); break;
		}
		cgdir_close(&d);
		if (r == -ENOENT)
			r = 0;
	}
	if (r < 0)
		cgstats_v1_metrics_done(m);
	return r;
}

/* ---- where a v1 cgroup is ---- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* go-units RAMInBytes ("2048kB": binary multiples) then CustomSize("%g%s", size, 1024,
 * {B, KB, MB, GB, TB, PB}), as hugePageSizes does for "hugepages-2048kB". */
static int hp_size_name(const char *dirent, char **ret)
{
	static const char units[] = "kmgtp";
	static const char *const names[] = { "B", "KB", "MB", "GB", "TB", "PB" };
	const char *dash = strchr(dirent, '-'), *s, *p;
	double num, size, mult = 1;
	char digits[32];
	int i = 0;

	if (!dash)
		return -EINVAL;
	s = p = dash + 1;
	/* ^(\d+(\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$ */
	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	while (isdigit((unsigned char)*p))
		p++;
	while (*p == '.' && isdigit((unsigned char)p[1])) {
		p++;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if ((size_t)(p - s) >= sizeof(digits))
		return -EINVAL;
	memcpy(digits, s, (size_t)(p - s));
	digits[p - s] = '\0';
	num = strtod(digits, NULL); /* "1.2.3" reads as 1.2, as Go's ParseFloat would fail: rare */
	if (*p == ' ')
		p++;
	if (*p && strchr(units, tolower((unsigned char)*p))) {
		for (const char *u = units; *u; u++) {
			mult *= 1024;
			if (*u == tolower((unsigned char)*p))
				break;
		}
		p++;
	}
	if (*p == 'i' || *p == 'I')
		p++;
	if (*p == 'b' || *p == 'B')
		p++;
	if (*p)
		return -EINVAL;
	size = (double)(int64_t)(num * mult);
	while (size >= 1024 && i < (int)ARRAY_SIZE(names) - 1) {
		size /= 1024;
		i++;
	}
	/* Go's %g: the shortest representation that reads back the same */
	for (int prec = 1; prec <= 17; prec++) {
		char b[40];
		snprintf(b, sizeof(b), "%.*g", prec, size);
		if (strtod(b, NULL) == size || prec == 17)
			return asprintf(ret, "%s%s", b, names[i]) < 0 ? -ENOMEM : 0;
	}
	return -EINVAL;
}

int cgstats_hugepage_sizes(const char *dir, char ***ret, size_t *ret_n)
{
	DIR *d = opendir(dir); /* O_CLOEXEC: glibc opens directories close-on-exec */
	char **names = NULL, **sizes = NULL;
	size_t n = 0;
	struct dirent *e;
	int r = 0;

	if (!d)
		return -errno;
	while ((errno = 0, e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if ((r = PUSH(names, n, strdup(e->d_name))) < 0)
			break;
	}
	if (r == 0 && errno)
		r = -errno;
	closedir(d);
	if (r == 0 && n > 0) {
		qsort(names, n, sizeof(*names), cmp_str); /* ioutil.ReadDir sorts by name */
		sizes = calloc(n, sizeof(*sizes));
		if (!sizes)
			r = -ENOMEM;
		for (size_t i = 0; i < n && r == 0; i++)
			r = hp_size_name(names[i], &sizes[i]);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (r < 0) {
		for (size_t i = 0; sizes && i < n; i++)
			free(sizes[i]);
		free(sizes);
		return r;
	}
	*ret = sizes;
	*ret_n = n;
	return 0;
}

void cgstats_v1_done(struct cgstats_v1 *cg)
{
	for (int c = 0; c < CGSTATS_NCTL; c++)
		free(cg->dir[c]);
	for (size_t i = 0; i < cg->n_hp; i++)
		free(cg->hp_sizes[i]);
	free(cg->hp_sizes);
	memset(cg, 0, sizeof(*cg));
}

int cgstats_v1_from_state(const char *buf, size_t len, const char *hugepages_dir,
			  struct cgstats_v1 *cg)
{
	static const char *const keys[CGSTATS_NCTL] = {
		[CGSTATS_PIDS] = "pids",       [CGSTATS_CPU] = "cpu",
		[CGSTATS_CPUACCT] = "cpuacct", [CGSTATS_MEMORY] = "memory",
		[CGSTATS_BLKIO] = "blkio",     [CGSTATS_RDMA] = "rdma",
		[CGSTATS_HUGETLB] = "hugetlb",
	};
	json_error_t jerr;
	json_t *root = json_loadb(buf, len, 0, &jerr), *paths;
	bool any = false;
	int r = 0;

	memset(cg, 0, sizeof(*cg));
	if (!root)
		return -EINVAL;
	paths = json_object_get(root, "cgroup_paths");
	for (int c = 0; c < CGSTATS_NCTL && r == 0 && json_is_object(paths); c++) {
		json_t *p = json_object_get(paths, keys[c]);
		if (!json_is_string(p) || json_string_value(p)[0] != '/')
			continue;
		if (!(cg->dir[c] = strdup(json_string_value(p))))
			r = -ENOMEM;
		any = true;
	}
	json_decref(root);
	if (r == 0 && !any)
		r = -ENOENT;
	if (r == 0 && cg->dir[CGSTATS_HUGETLB]) {
		r = cgstats_hugepage_sizes(hugepages_dir ? hugepages_dir
							 : "/sys/kernel/mm/hugepages",
					   &cg->hp_sizes, &cg->n_hp);
		if (r == -ENOENT) { /* no huge pages on the host: the controller is not loaded */
			free(cg->dir[CGSTATS_HUGETLB]);
			cg->dir[CGSTATS_HUGETLB] = NULL;
			r = 0;
		}
	}
	if (r < 0)
		cgstats_v1_done(cg);
	return r;
}

/* ===================================== cgroup v2 ===================================== */

/* The keys of the one map manager.go's Stat reads cpu.stat, memory.stat, pids.current and
 * pids.max into (a key of one file would shadow the same key of another, in read order). */
#define V2CPU(key, field)                                                                          \
	{                                                                                          \
		key, 0, offsetof(struct cgstats_v2_cpu, field)                                     \
	}
#define V2MEM(key, field)                                                                          \
	{                                                                                          \
		key, 1, offsetof(struct cgstats_v2_memory, field)                                  \
	}
static const struct {
	const char *key;
	int msg; /* 0 cpu, 1 memory, 2 pids */
	size_t off;
} v2_keys[] = {
	V2CPU("usage_usec", usage_usec),
	V2CPU("user_usec", user_usec),
	V2CPU("system_usec", system_usec),
	V2CPU("nr_periods", nr_periods),
	V2CPU("nr_throttled", nr_throttled),
	V2CPU("throttled_usec", throttled_usec),
	V2MEM("anon", anon),
	V2MEM("file", file),
	V2MEM("kernel_stack", kernel_stack),
	V2MEM("slab", slab),
	V2MEM("sock", sock),
	V2MEM("shmem", shmem),
	V2MEM("file_mapped", file_mapped),
	V2MEM("file_dirty", file_dirty),
	V2MEM("file_writeback", file_writeback),
	V2MEM("anon_thp", anon_thp),
	V2MEM("inactive_anon", inactive_anon),
	V2MEM("active_anon", active_anon),
	V2MEM("inactive_file", inactive_file),
	V2MEM("active_file", active_file),
	V2MEM("unevictable", unevictable),
	V2MEM("slab_reclaimable", slab_reclaimable),
	V2MEM("slab_unreclaimable", slab_unreclaimable),
	V2MEM("pgfault", pgfault),
	V2MEM("pgmajfault", pgmajfault),
	V2MEM("workingset_refault", workingset_refault),
	V2MEM("workingset_activate", workingset_activate),
	V2MEM("workingset_nodereclaim", workingset_nodereclaim),
	V2MEM("pgrefill", pgrefill),
	V2MEM("pgscan", pgscan),
	V2MEM("pgsteal", pgsteal),
	V2MEM("pgactivate", pgactivate),
	V2MEM("pgdeactivate", pgdeactivate),
	V2MEM("pglazyfree", pglazyfree),
	V2MEM("pglazyfreed", pglazyfreed),
	V2MEM("thp_fault_alloc", thp_fault_alloc),
	V2MEM("thp_collapse_alloc", thp_collapse_alloc),
	{ "pids.current", 2, offsetof(struct cgstats_v2_pids, current) },
	{ "pids.max", 2, offsetof(struct cgstats_v2_pids, limit) },
};

/* A map value: a number, or a string (a value parseUint rejects). getUint64Value gives a
 * string 0; getPidValue gives "max" MaxUint64. */
struct v2val {
	bool set, str_max;
	uint64_t v;
};

static void v2_put(struct v2val *vals, struct tok key, struct tok val)
{
	for (size_t i = 0; i < ARRAY_SIZE(v2_keys); i++) {
		if (!tok_is(key, v2_keys[i].key))
			continue;
		vals[i].set = true;
		vals[i].str_max = false;
		if (go_parse_uint(val.s, val.n, 64, &vals[i].v) < 0) {
			vals[i].v = 0;
			vals[i].str_max = tok_is(val, "max");
		}
	}
}

/* readKVStatsFile: lines of exactly two fields, else the whole Stat fails. Calls put for each
 * (the number of lines read is returned through nlines). */
static int v2_kv_file(int dfd, const char *name, struct v2val *vals, uint64_t *events,
		      size_t *nlines)
{
	static const char *const ev_keys[] = { "low", "high", "max", "oom", "oom_kill" };
	_cleanup_free_ char *buf = NULL;
	_cleanup_close_ int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	const char *cur, *end;
	struct tok line, t[2];
	size_t n;
	int r;

	if (fd < 0)
		return -errno;
	if ((r = read_fd(fd, &buf, &n)) < 0)
		return r;
	for (cur = buf, end = buf + n; next_line(&cur, end, &line);) {
		if (fields(line.s, line.n, NULL, t, 2) != 2)
			return -EINVAL;
		if (nlines)
			(*nlines)++;
		if (vals)
			v2_put(vals, t[0], t[1]);
		for (size_t i = 0; events && i < ARRAY_SIZE(ev_keys); i++) {
			uint64_t v;
			if (tok_is(t[0], ev_keys[i]))
				events[i] = go_parse_uint(t[1].s, t[1].n, 64, &v) < 0 ? 0 : v;
		}
	}
	return 0;
}

/* readSingleFile: the trimmed file is one value under the file's name. */
static int v2_single_file(int dfd, const char *name, struct v2val *vals)
{
	_cleanup_free_ char *buf = NULL;
	_cleanup_close_ int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	const char *s;
	size_t n;
	int r;

	if (fd < 0)
		return -errno;
	if ((r = read_fd(fd, &buf, &n)) < 0)
		return r;
	s = buf;
	trim(&s, &n);
	v2_put(vals, (struct tok){ name, strlen(name) }, (struct tok){ s, n });
	return 0;
}

/* getStatFileContentUint64: 0 when unreadable or unparsable, "max" MaxUint64. */
static uint64_t v2_file_u64(int dfd, const char *name)
{
	_cleanup_free_ char *buf = NULL;
	_cleanup_close_ int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	const char *s;
	uint64_t v;
	size_t n;

	if (fd < 0 || read_fd(fd, &buf, &n) < 0)
		return 0;
	s = buf;
	trim(&s, &n);
	if (tok_is((struct tok){ s, n }, "max"))
		return UINT64_MAX;
	return go_parse_uint(s, n, 64, &v) < 0 ? 0 : v;
}

/* readIoStats: "major:minor key=value ..." split at single spaces; rbytes, wbytes, rios,
 * wios; an unparsable major or minor ends the list there, an unparsable value is skipped. */
static int v2_io(int dfd, struct cgstats_v2_metrics *m)
{
	_cleanup_free_ char *buf = NULL;
	_cleanup_close_ int fd = openat(dfd, "io.stat", O_RDONLY | O_CLOEXEC | O_NOCTTY);
	const char *cur, *end;
	struct tok line;
	size_t n;

	if (fd < 0 || read_fd(fd, &buf, &n) < 0)
		return 0;
	cur = buf;
	end = buf + n;
	while (cur < end) { /* strings.Split(data, "\n") */
		const char *nl = memchr(cur, '\n', (size_t)(end - cur));
		line = (struct tok){ cur, (size_t)((nl ? nl : end) - cur) };
		cur = nl ? nl + 1 : end;
		const char *sp = memchr(line.s, ' ', line.n), *colon;
		uint64_t maj, min;
		if (!sp)
			continue; /* fewer than two parts */
		struct tok mm = { line.s, (size_t)(sp - line.s) };
		colon = memchr(mm.s, ':', mm.n);
		if (!colon || memchr(colon + 1, ':', mm.n - (size_t)(colon + 1 - mm.s)))
			continue;
		if (go_parse_uint_strict(mm.s, (size_t)(colon - mm.s), 64, &maj) < 0 ||
		    go_parse_uint_strict(colon + 1, mm.n - (size_t)(colon + 1 - mm.s), 64, &min) <
			    0)
			return 0;
		struct cgstats_v2_io_entry *e = GROW(m->io, m->n_io);
		if (!e)
			return -ENOMEM;
		e->major = maj;
		e->minor = min;
		for (const char *p = sp + 1, *lend = line.s + line.n; p <= lend;) {
			const char *q = memchr(p, ' ', (size_t)(lend - p));
			struct tok part = { p, (size_t)((q ? q : lend) - p) };
			const char *eq = memchr(part.s, '=', part.n);
			uint64_t v;
			p = q ? q + 1 : lend + 1;
			if (!eq || memchr(eq + 1, '=', part.n - (size_t)(eq + 1 - part.s)))
				continue;
			struct tok k = { part.s, (size_t)(eq - part.s) };
			if (go_parse_uint_strict(eq + 1, part.n - k.n - 1, 64, &v) < 0)
				continue;
			if (tok_is(k, "rbytes"))
				e->rbytes = v;
			else if (tok_is(k, "wbytes"))
				e->wbytes = v;
			else if (tok_is(k, "rios"))
				e->rios = v;
			else if (tok_is(k, "wios"))
				e->wios = v;
		}
	}
	return 0;
}

static int v2_rdma_file(int dfd, const char *name, struct cgstats_rdma_entry **arr, size_t *n)
{
	_cleanup_free_ char *buf = NULL;
	_cleanup_close_ int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	size_t len;

	if (fd < 0 || read_fd(fd, &buf, &len) < 0)
		return 0;
	return rdma_entries(buf, len, arr, n);
}

/* readHugeTlbStats: every entry of the directory named *hugetlb*max or *hugetlb*current,
 * "hugetlb.<size>.<kind>": current or max ("max" MaxUint64) of that size; an unreadable or
 * unparsable file is skipped, a size is listed once a file of it was read (rsvd.* files list
 * the size and set nothing). The library returns its sizes in Go map order (random): here
 * in the order they were first read. */
static int v2_hugetlb(int dfd, struct cgstats_v2_metrics *m)
{
	int dup = fcntl(dfd, F_DUPFD_CLOEXEC, 3);
	struct dirent *e;
	DIR *d;
	int r = 0;

	if (dup < 0)
		return 0;
	if (!(d = fdopendir(dup))) {
		close(dup);
		return 0;
	}
	while ((e = readdir(d)) && r == 0) {
		const char *nm = e->d_name, *p1, *p2;
		size_t len = strlen(nm);
		uint64_t v;
		if (!strstr(nm, "hugetlb") || !((len >= 3 && strcmp(nm + len - 3, "max") == 0) ||
						(len >= 7 && strcmp(nm + len - 7, "current") == 0)))
			continue;
		p1 = strchr(nm, '.');
		p2 = p1 ? strchr(p1 + 1, '.') : NULL;
		if (!p2) /* the library would crash here (fileName[2]); skipped */
			continue;
		struct tok size = { p1 + 1, (size_t)(p2 - p1 - 1) }, kind = { p2 + 1, 0 };
		const char *p3 = strchr(p2 + 1, '.');
		kind.n = p3 ? (size_t)(p3 - kind.s) : strlen(kind.s);
		_cleanup_free_ char *buf = NULL;
		_cleanup_close_ int fd = openat(dirfd(d), nm, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		const char *s;
		size_t n;
		if (fd < 0 || read_fd(fd, &buf, &n) < 0)
			continue;
		s = buf;
		trim(&s, &n);
		if (tok_is((struct tok){ s, n }, "max"))
			v = UINT64_MAX;
		else if (go_parse_uint_strict(s, n, 64, &v) < 0)
			continue;
		struct cgstats_v2_hugetlb *h = NULL;
		for (size_t i = 0; i < m->n_hugetlb && !h; i++)
			if (tok_is(size, m->hugetlb[i].pagesize))
				h = &m->hugetlb[i];
		if (!h) {
			if (!(h = GROW(m->hugetlb, m->n_hugetlb))) {
				r = -ENOMEM;
				break;
			}
			if (!(h->pagesize = strndup_tok(size))) {
				r = -ENOMEM;
				break;
			}
		}
		if (tok_is(kind, "max"))
			h->max = v;
		else if (tok_is(kind, "current"))
			h->current = v;
	}
	closedir(d);
	return r;
}

void cgstats_v2_metrics_done(struct cgstats_v2_metrics *m)
{
	free(m->io);
	rdma_done(&m->rdma);
	for (size_t i = 0; i < m->n_hugetlb; i++)
		free(m->hugetlb[i].pagesize);
	free(m->hugetlb);
	memset(m, 0, sizeof(*m));
}

/* The oom_kill count of dir's memory.events (0 without the line), as pkg/oom/v2 reads it on
 * each inotify wake-up. */
int cgstats_v2_oom_kill(const char *dir, uint64_t *ret)
{
	_cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	uint64_t ev[5] = { 0 };
	int r;

	*ret = 0;
	if (dfd < 0)
		return -errno;
	if ((r = v2_kv_file(dfd, "memory.events", NULL, ev, NULL)) < 0)
		return r;
	*ret = ev[4];
	return 0;
}

/* cgroup.events' populated (manager.go isCgroupEmpty): 1 or 0; any failure or a file
 * without the line reads as empty (0), so that a watch ends rather than leaks. */
int cgstats_v2_populated(const char *dir)
{
	_cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	_cleanup_close_ int fd = dfd < 0 ? -1 : openat(dfd, "cgroup.events", O_RDONLY | O_CLOEXEC);
	_cleanup_free_ char *buf = NULL;
	const char *cur, *end;
	struct tok line, t[2];
	size_t n;
	uint64_t v;

	if (fd < 0 || read_fd(fd, &buf, &n) < 0)
		return 0;
	for (cur = buf, end = buf + n; next_line(&cur, end, &line);) {
		if (fields(line.s, line.n, NULL, t, 2) != 2)
			return 0;
		if (tok_is(t[0], "populated"))
			return go_parse_uint(t[1].s, t[1].n, 64, &v) == 0 && v > 0;
	}
	return 0;
}

/* manager.go Stat. cgroup.controllers must be readable (else the call fails); cpu.stat and
 * memory.stat are read when their controller is listed, pids.current and pids.max always;
 * a missing file of these is skipped, a line that is not "key value" fails the call. Pids,
 * CPU, Memory, Io and Rdma always exist; MemoryEvents when memory.events has a line. */
int cgstats_v2_read(const char *dir, struct cgstats_v2_metrics *m)
{
	_cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	_cleanup_free_ char *ctl = NULL;
	struct v2val vals[ARRAY_SIZE(v2_keys)] = { 0 };
	uint64_t ev[5] = { 0 };
	size_t n, nev = 0;
	struct tok t;
	const char *cur, *end;
	int r;

	memset(m, 0, sizeof(*m));
	if (dfd < 0)
		return -errno;
	{
		_cleanup_close_ int fd =
			openat(dfd, "cgroup.controllers", O_RDONLY | O_CLOEXEC | O_NOCTTY);
		if (fd < 0)
			return -errno;
		if ((r = read_fd(fd, &ctl, &n)) < 0)
			return r;
	}
	for (cur = ctl, end = ctl + n; cur < end;) {
		while (cur < end && is_space(*cur))
			cur++;
		t.s = cur;
		while (cur < end && !is_space(*cur))
			cur++;
		t.n = (size_t)(cur - t.s);
		if (!tok_is(t, "cpu") && !tok_is(t, "memory"))
			continue;
		r = v2_kv_file(dfd, tok_is(t, "cpu") ? "cpu.stat" : "memory.stat", vals, NULL,
			       NULL);
		if (r < 0 && r != -ENOENT)
			return r;
	}
	if ((r = v2_single_file(dfd, "pids.current", vals)) < 0 && r != -ENOENT)
		return r;
	if ((r = v2_single_file(dfd, "pids.max", vals)) < 0 && r != -ENOENT)
		return r;
	if ((r = v2_kv_file(dfd, "memory.events", NULL, ev, &nev)) < 0 && r != -ENOENT)
		return r;

	for (size_t i = 0; i < ARRAY_SIZE(v2_keys); i++) {
		void *msg = v2_keys[i].msg == 0   ? (void *)&m->cpu
			    : v2_keys[i].msg == 1 ? (void *)&m->memory
						  : (void *)&m->pids;
		uint64_t v = !vals[i].set                             ? 0
			     : vals[i].str_max && v2_keys[i].msg == 2 ? UINT64_MAX
								      : vals[i].v;
		*(uint64_t *)((char *)msg + v2_keys[i].off) = v;
	}
	m->memory.usage = v2_file_u64(dfd, "memory.current");
	m->memory.usage_limit = v2_file_u64(dfd, "memory.max");
	m->memory.swap_usage = v2_file_u64(dfd, "memory.swap.current");
	m->memory.swap_limit = v2_file_u64(dfd, "memory.swap.max");
	if (nev > 0) {
		m->has_memory_events = true;
		m->memory_events.low = ev[0];
		m->memory_events.high = ev[1];
		m->memory_events.max = ev[2];
		m->memory_events.oom = ev[3];
		m->memory_events.oom_kill = ev[4];
	}
	if ((r = v2_io(dfd, m)) < 0 ||
	    (r = v2_rdma_file(dfd, "rdma.current", &m->rdma.current, &m->rdma.n_current)) < 0 ||
	    (r = v2_rdma_file(dfd, "rdma.max", &m->rdma.limit, &m->rdma.n_limit)) < 0 ||
	    (r = v2_hugetlb(dfd, m)) < 0)
		cgstats_v2_metrics_done(m);
	return r;
}
