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

int container_cgroup_stats(struct container *c, bool *is_v2, struct cgstats_v1_metrics *m1,
			   struct cgstats_v2_metrics *m2, struct shim_error *err)
{
	_cleanup_free_ char *buf = NULL;
	struct cgstats_v1 cg = { 0 };
	size_t len = 0;
	int r;

	*is_v2 = false;
	memset(m1, 0, sizeof(*m1));
	memset(m2, 0, sizeof(*m2));
	if (!c)
		return shim_fail(err, -ENOENT, SHIM_ERR_NO_INIT, SHIM_OP_NONE, "no container");
	r = read_state(c, &buf, &len);
	if (r < 0)
		return shim_fail(err, r, SHIM_ERR_FAILED, SHIM_OP_NONE, "cgroup does not exist");
	r = cgstats_v1_from_state(buf, len, NULL, &cg);
	if (r == -ENOENT) {
		_cleanup_free_ char *dir = unified_dir(buf, len);
		if (!dir)
			return shim_fail(err, -ENOENT, SHIM_ERR_FAILED, SHIM_OP_NONE,
					 "cgroup does not exist");
		*is_v2 = true;
		r = cgstats_v2_read(dir, m2);
	} else if (r == 0) {
		r = cgstats_v1_read(&cg, m1);
		cgstats_v1_done(&cg);
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
	_cleanup_free_ char *buf = NULL;
	struct cgstats_v1 cg = { 0 };
	size_t len = 0;
	int r;

	*ret = NULL;
	*unified = false;
	if (!c)
		return -ENOENT;
	if ((r = read_state(c, &buf, &len)) < 0)
		return r;
	r = cgstats_v1_from_state(buf, len, NULL, &cg);
	if (r == -ENOENT) { /* no v1 hierarchy: a unified host, as for Stats */
		*ret = unified_dir(buf, len);
		*unified = *ret != NULL;
		return *ret ? 0 : -ENOENT;
	}
	if (r < 0)
		return r;
	if (cg.dir[CGSTATS_MEMORY]) {
		*ret = cg.dir[CGSTATS_MEMORY];
		cg.dir[CGSTATS_MEMORY] = NULL;
	}
	cgstats_v1_done(&cg);
	return *ret ? 0 : -ENOENT;
}
