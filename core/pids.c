/* SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../io/base.h"
#include "../io/fd_util.h"
#include "pids.h"

struct pidvec {
	uint32_t *v;
	size_t n, cap;
};

static int pidvec_push(struct pidvec *pv, uint32_t pid)
{
	if (pv->n == pv->cap) {
		size_t ncap = pv->cap ? pv->cap * 2 : 64;
		uint32_t *nv = realloc(pv->v, ncap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		pv->v = nv;
		pv->cap = ncap;
	}
	pv->v[pv->n++] = pid;
	return 0;
}

int pids_cgroup_from_state(const char *buf, size_t len, char *out, size_t outsz)
{
	json_error_t jerr;
	json_t *root = json_loadb(buf, len, 0, &jerr), *paths, *p;
	int r = -ENOENT;

	if (!root)
		return -EINVAL;
	paths = json_object_get(root, "cgroup_paths");
	if (json_is_object(paths)) {
		p = json_object_get(paths, "devices");
		if (!json_is_string(p))
			p = json_object_get(paths, "");
		if (json_is_string(p) && json_string_value(p)[0] == '/')
			r = (size_t)snprintf(out, outsz, "%s", json_string_value(p)) < outsz
				    ? 0
				    : -ENAMETOOLONG;
	}
	json_decref(root);
	return r;
}

/* The walk's work list: directories still to visit, as paths relative to the cgroup, on the
 * heap. A stack: the last pushed is visited next, so pushing a directory's subdirectories in
 * reverse lexical order visits them (and their subtrees) in lexical order, as runc's
 * filepath.Walk does. The walk's stack frame does not grow with the tree's depth: the shim's
 * threads have 256 KiB stacks, and a container may nest cgroups as deep as it likes. */
struct dirstack {
	char **v;
	size_t n, cap;
};

static int dirstack_push(struct dirstack *ds, char *rel)
{
	if (!rel)
		return -ENOMEM;
	if (ds->n == ds->cap) {
		size_t ncap = ds->cap ? ds->cap * 2 : 16;
		char **nv = realloc(ds->v, ncap * sizeof(*nv));
		if (!nv) {
			free(rel);
			return -ENOMEM;
		}
		ds->v = nv;
		ds->cap = ncap;
	}
	ds->v[ds->n++] = rel;
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *path_join(const char *dir, const char *name)
{
	char *p;
	return asprintf(&p, "%s/%s", dir, name) < 0 ? NULL : p;
}

/* Appends the pids of cgroup.procs in dfd. */
static int read_procs(int dfd, struct pidvec *pv)
{
	_cleanup_free_ char *buf = NULL;
	_cleanup_close_ int fd = openat(dfd, "cgroup.procs", O_RDONLY | O_CLOEXEC | O_NOCTTY);
	size_t len;
	int r;

	if (fd < 0)
		return -errno;
	r = fd_read_all(fd, 16u << 20, &buf, &len);
	if (r < 0)
		return r;
	for (char *s = buf, *end; *s; s = end) {
		unsigned long v = strtoul(s, &end, 10);
		if (end == s) {
			end = s + 1;
			continue;
		}
		if (v > 0 && (r = pidvec_push(pv, (uint32_t)v)) < 0)
			return r;
	}
	return 0;
}

/* Pushes the subdirectories of dfd (consumed), which is rel, in reverse lexical order. */
static int push_subdirs(int dfd, const char *rel, struct dirstack *ds)
{
	DIR *d = fdopendir(dfd);
	struct dirstack names = { 0 };
	struct dirent *e;
	int r = 0;

	if (!d) {
		r = -errno;
		close(dfd);
		return r;
	}
	while ((errno = 0, e = readdir(d))) {
		if (e->d_type != DT_DIR || strcmp(e->d_name, ".") == 0 ||
		    strcmp(e->d_name, "..") == 0)
			continue;
		if ((r = dirstack_push(&names, strdup(e->d_name))) < 0)
			break;
	}
	if (r == 0 && errno)
		r = -errno;
	closedir(d);
	if (r == 0 && names.n > 1)
		qsort(names.v, names.n, sizeof(*names.v), cmp_names);
	for (size_t i = names.n; i-- > 0;) {
		if (r == 0)
			r = dirstack_push(ds, path_join(rel, names.v[i]));
		free(names.v[i]);
	}
	free(names.v);
	return r;
}

/* cgroup.procs of the cgroup and every descendant, in lexical walk order. A descendant that
 * vanishes meanwhile is skipped; the cgroup itself missing is -ENOENT. */
static int walk(const char *cgroup, struct pidvec *pv)
{
	_cleanup_close_ int root = open(cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct dirstack ds = { 0 };
	int r;

	if (root < 0)
		return -errno;
	r = dirstack_push(&ds, strdup("."));
	while (r == 0 && ds.n > 0) {
		char *rel = ds.v[--ds.n];
		bool top = strcmp(rel, ".") == 0;
		int dfd = openat(root, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0)
			r = -errno;
		else if ((r = read_procs(dfd, pv)) < 0)
			close(dfd);
		else
			r = push_subdirs(dfd, rel, &ds);
		if (r == -ENOENT && !top) /* removed meanwhile */
			r = 0;
		free(rel);
	}
	while (ds.n > 0)
		free(ds.v[--ds.n]);
	free(ds.v);
	return r;
}

/* The cgroup of the last container asked for: a container's cgroup does not move, so
 * state.json (several KiB of JSON) is parsed once, not per request. */
static struct {
	pthread_mutex_t mu;
	char *id, *cg; /* one allocation ("ID\0CGROUP\0"); NULL: none */
} cache = { .mu = PTHREAD_MUTEX_INITIALIZER };

void pids_forget(void)
{
	pthread_mutex_lock(&cache.mu);
	free(cache.id);
	cache.id = cache.cg = NULL;
	pthread_mutex_unlock(&cache.mu);
}

static int cgroup_of(const char *runtime_root_ns, const char *id, char *cg, size_t cgsz)
{
	_cleanup_free_ char *path = NULL;
	char *buf = NULL;
	size_t len;
	int r;

	pthread_mutex_lock(&cache.mu);
	if (cache.id && strcmp(cache.id, id) == 0) {
		snprintf(cg, cgsz, "%s", cache.cg);
		pthread_mutex_unlock(&cache.mu);
		return 0;
	}
	pthread_mutex_unlock(&cache.mu);
	if (asprintf(&path, "%s/%s/state.json", runtime_root_ns, id) < 0)
		return -ENOMEM;
	r = fd_read_file(path, 4u << 20, &buf, &len);
	if (r < 0)
		return -ENOENT;
	r = pids_cgroup_from_state(buf, len, cg, cgsz);
	free(buf);
	if (r < 0)
		return -ENOENT;
	size_t idlen = strlen(id) + 1, cglen = strlen(cg) + 1;
	char *m = malloc(idlen + cglen);
	if (m) {
		memcpy(m, id, idlen);
		memcpy(m + idlen, cg, cglen);
		pthread_mutex_lock(&cache.mu);
		free(cache.id);
		cache.id = m;
		cache.cg = m + idlen;
		pthread_mutex_unlock(&cache.mu);
	}
	return 0;
}

int pids_from_cgroup(const char *runtime_root_ns, const char *id, uint32_t **ret, size_t *ret_n)
{
	char cg[4096];
	struct pidvec pv = { 0 };
	int r;

	if (!*id || strchr(id, '/') || strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
		return -ENOENT;
	if (cgroup_of(runtime_root_ns, id, cg, sizeof(cg)) < 0)
		return -ENOENT;
	r = walk(cg, &pv);
	if (r < 0) {
		/* gone (container deleted and recreated elsewhere?): ask again next time */
		pids_forget();
		free(pv.v);
		return -ENOENT;
	}
	*ret = pv.v;
	*ret_n = pv.n;
	return 0;
}

int pids_parse_ps_json(const char *buf, size_t len, uint32_t **ret, size_t *ret_n)
{
	json_error_t jerr;
	json_t *arr = json_loadb(buf, len, JSON_DECODE_ANY, &jerr), *v;
	struct pidvec pv = { 0 };
	size_t i;

	if (!arr)
		return -EINVAL;
	if (json_is_null(arr)) { /* a Go nil slice */
		json_decref(arr);
		*ret = NULL;
		*ret_n = 0;
		return 0;
	}
	if (!json_is_array(arr)) {
		json_decref(arr);
		return -EINVAL;
	}
	json_array_foreach(arr, i, v) {
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > UINT32_MAX ||
		    pidvec_push(&pv, (uint32_t)json_integer_value(v)) < 0) {
			free(pv.v);
			json_decref(arr);
			return -EINVAL;
		}
	}
	json_decref(arr);
	*ret = pv.v;
	*ret_n = pv.n;
	return 0;
}
