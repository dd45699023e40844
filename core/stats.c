/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A container's cgroup statistics (the runtime v2 Stats): the cgroup is the one the runtime's
 * state.json names (ROOT/NS/ID/state.json, cgroup_paths), read by core/cgstats.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgstats.h"
#include "container_priv.h"
#include "io/base.h"

#define STATE_MAX (1 << 20)

static int read_state(const struct container *c, char **ret, size_t *ret_len)
{
	_cleanup_free_ char *path = NULL;
	_cleanup_close_ int fd = -1;
	char *buf;
	size_t n = 0;
	ssize_t k;

	if (asprintf(&path, "%s/%s/state.json", c->rt.root, container_id(c)) < 0)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	buf = malloc(STATE_MAX);
	if (!buf)
		return -ENOMEM;
	while (n < STATE_MAX && (k = read(fd, buf + n, STATE_MAX - n)) > 0)
		n += (size_t)k;
	*ret = buf;
	*ret_len = n;
	return 0;
}

/* The unified hierarchy's directory: cgroup_paths[""] of state.json. */
static char *unified_dir(const char *buf, size_t len)
{
	json_t *root = json_loadb(buf, len, 0, NULL);
	json_t *v = root ? json_object_get(json_object_get(root, "cgroup_paths"), "") : NULL;
	char *dir = json_is_string(v) ? strdup(json_string_value(v)) : NULL;
	json_decref(root);
	return dir;
}

/* Where Stats reads: cgroup v1 controller directories, or the unified directory. */
struct stats_src {
	bool v2;
	char *unified;
	struct cgstats_v1 cg;
};

static void src_free(struct stats_src *s)
{
	if (!s)
		return;
	free(s->unified);
	cgstats_v1_done(&s->cg);
	free(s);
}

void container_stats_forget(struct container *c)
{
	src_free(c->stats_src);
	c->stats_src = NULL;
}

/* c's cgroup from state.json, parsed at the first call only (several KiB of JSON, most of a
 * Stats request's cost when done each time). -errno as cgstats_v1_from_state, or as the read
 * of state.json (then *read_failed). */
static int stats_src_get(struct container *c, struct stats_src **ret, bool *read_failed)
{
	struct stats_src *s = __atomic_load_n(&c->stats_src, __ATOMIC_ACQUIRE), *seen = NULL;
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	int r;

	*read_failed = false;
	if (s) {
		*ret = s;
		return 0;
	}
	if ((r = read_state(c, &buf, &len)) < 0) {
		*read_failed = true;
		return r;
	}
	if (!(s = calloc(1, sizeof(*s))))
		return -ENOMEM;
	r = cgstats_v1_from_state(buf, len, NULL, &s->cg);
	if (r == -ENOENT) {
		s->unified = unified_dir(buf, len);
		s->v2 = true;
		r = s->unified ? 0 : -ENOENT;
	}
	if (r < 0) {
		src_free(s);
		return r;
	}
	/* Two Stats at once may both parse it: the first one published is kept. */
	if (!__atomic_compare_exchange_n(&c->stats_src, &seen, s, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE)) {
		src_free(s);
		s = seen;
	}
	*ret = s;
	return 0;
}

int container_cgroup_stats(struct container *c, bool *is_v2, struct cgstats_v1_metrics *m1,
			   struct cgstats_v2_metrics *m2, struct shim_error *err)
{
	struct stats_src *s = NULL;
	bool read_failed;
	int r;

	*is_v2 = false;
	memset(m1, 0, sizeof(*m1));
	memset(m2, 0, sizeof(*m2));
	if (!c)
		return shim_fail(err, -ENOENT, SHIM_ERR_NO_INIT, SHIM_OP_NONE, "no container");
	r = stats_src_get(c, &s, &read_failed);
	if (r < 0 && read_failed)
		return shim_fail(err, r, SHIM_ERR_FAILED, SHIM_OP_NONE, "cgroup does not exist");
	if (r == 0) {
		*is_v2 = s->v2;
		r = s->v2 ? cgstats_v2_read(s->unified, m2) : cgstats_v1_read(&s->cg, m1);
	}
	if (r == -ENOENT)
		return shim_fail(err, r, SHIM_ERR_FAILED, SHIM_OP_NONE, "cgroup does not exist");
	if (r < 0)
		return shim_fail(err, r, SHIM_ERR_FAILED, SHIM_OP_NONE, "cgroup stats: %s",
				 strerror(-r));
	return 0;
}

int container_memory_cgroup(struct container *c, char **ret, bool *unified)
{
	struct stats_src *s = NULL;
	bool read_failed;
	const char *dir;
	int r;

	*ret = NULL;
	*unified = false;
	if (!c)
		return -ENOENT;
	/* the cgroup Stats keeps (parsed once per container) */
	if ((r = stats_src_get(c, &s, &read_failed)) < 0)
		return r;
	dir = s->v2 ? s->unified : s->cg.dir[CGSTATS_MEMORY];
	if (!dir)
		return -ENOENT;
	if (!(*ret = strdup(dir)))
		return -ENOMEM;
	*unified = s->v2;
	return 0;
}
