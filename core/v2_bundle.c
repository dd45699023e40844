/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/base.h"
#include "io/fd_util.h"
#include "v2_bundle.h"

#define CONFIG_MAX (16u << 20) /* an OCI spec larger than this is not one */

static void json_decref_p(json_t **j)
{
	if (*j)
		json_decref(*j);
}
#define _cleanup_json_ _cleanup_(json_decref_p)

int v2_bundle_group(const char *bundle, const char *id, char *buf, size_t bufsz, char *msg,
		    size_t msgsz)
{
	static const char *const keys[] = { V2_GROUP_ANNOTATION, V2_SANDBOX_ANNOTATION };
	_cleanup_free_ char *path = NULL, *data = NULL;
	_cleanup_json_ json_t *root = NULL;
	json_error_t jerr;
	json_t *ann;
	const char *group = id;
	size_t len;
	int r;

	msg[0] = '\0';
	if (asprintf(&path, "%s/config.json", bundle) < 0)
		return -ENOMEM;
	r = fd_read_file(path, CONFIG_MAX, &data, &len);
	if (r < 0) {
		snprintf(msg, msgsz, "open %s: %s", path, strerror(-r));
		return r;
	}
	root = json_loadb(data, len, 0, &jerr);
	if (!root || !json_is_object(root)) {
		snprintf(msg, msgsz, "%s: not a JSON object%s%s", path, root ? "" : ": ",
			 root ? "" : jerr.text);
		return -EINVAL;
	}
	ann = json_object_get(root, "annotations");
	if (ann && !json_is_null(ann)) {
		if (!json_is_object(ann)) {
			snprintf(msg, msgsz, "%s: annotations is not an object", path);
			return -EINVAL;
		}
		for (size_t k = 0; k < ARRAY_SIZE(keys); k++) {
			json_t *v = json_object_get(ann, keys[k]);
			if (!v)
				continue;
			if (!json_is_string(v)) {
				snprintf(msg, msgsz, "%s: annotation %s is not a string", path,
					 keys[k]);
				return -EINVAL;
			}
			group = json_string_value(v);
			break;
		}
	}
	if (strlen(group) + 1 > bufsz) {
		snprintf(msg, msgsz, "group key too long");
		return -ENAMETOOLONG;
	}
	strcpy(buf, group);
	return 0;
}

/* BUNDLE/.NAME written, synced when asked, renamed onto BUNDLE/NAME: a reader sees the old
 * or the new. */
static int write_atomic(const char *bundle, const char *name, const void *data, size_t len,
			mode_t mode, bool sync)
{
	_cleanup_free_ char *tmp = NULL, *dst = NULL;
	_cleanup_close_ int fd = -1;
	int r;

	if (asprintf(&tmp, "%s/.%s", bundle, name) < 0 || asprintf(&dst, "%s/%s", bundle, name) < 0)
		return -ENOMEM;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return -errno;
	if (fchmod(fd, mode) < 0)
		r = -errno;
	else if ((r = fd_write_all(fd, data, len)) >= 0 && sync && fsync(fd) < 0)
		r = -errno;
	if (r >= 0 && rename(tmp, dst) < 0)
		r = -errno;
	if (r < 0)
		(void)unlink(tmp);
	return r < 0 ? r : 0;
}

int v2_bundle_write_address(const char *bundle, const char *address)
{
	/* synced, as the Go shim's O_SYNC write: containerd dials it after its own restart */
	return write_atomic(bundle, "address", address, strlen(address), 0644, true);
}

int v2_bundle_save_opts(const char *bundle, const struct v2_runtime_opts *o)
{
	_cleanup_json_ json_t *j = json_pack(
		"{s:s, s:s, s:s, s:b}", "binary_name", o->binary_name ? o->binary_name : "", "root",
		o->root ? o->root : "", "criu_path", o->criu_path ? o->criu_path : "",
		"systemd_cgroup", o->systemd_cgroup);
	_cleanup_free_ char *text = NULL;

	if (!j || !(text = json_dumps(j, JSON_COMPACT)))
		return -ENOMEM;
	/* not synced, as runc-v2's options.json (os.WriteFile): only `delete` reads it, on the
	 * same boot; a sync here was a third of `start`'s own time on an ext4 bundle */
	return write_atomic(bundle, V2_OPTIONS_FILE, text, strlen(text), 0600, false);
}

static int take_string(json_t *j, const char *key, const char *dflt, char **out)
{
	json_t *v = j ? json_object_get(j, key) : NULL;
	const char *s = dflt;

	if (v && !json_is_string(v))
		return -EINVAL;
	if (v && *json_string_value(v))
		s = json_string_value(v);
	*out = strdup(s);
	return *out ? 0 : -ENOMEM;
}

int v2_bundle_load_opts(const char *bundle, struct v2_runtime_opts *o)
{
	_cleanup_free_ char *path = NULL, *data = NULL;
	_cleanup_json_ json_t *j = NULL;
	json_t *sc;
	size_t len;
	int r, absent = 0;

	memset(o, 0, sizeof(*o));
	if (asprintf(&path, "%s/%s", bundle, V2_OPTIONS_FILE) < 0)
		return -ENOMEM;
	r = fd_read_file(path, 1u << 16, &data, &len);
	if (r == -ENOENT)
		absent = 1;
	else if (r < 0)
		return r;
	else if (!(j = json_loadb(data, len, 0, NULL)) || !json_is_object(j))
		return -EINVAL;
	sc = j ? json_object_get(j, "systemd_cgroup") : NULL;
	if (sc && !json_is_boolean(sc))
		return -EINVAL;
	o->systemd_cgroup = sc && json_is_true(sc);
	if ((r = take_string(j, "binary_name", V2_DEFAULT_RUNTIME, &o->binary_name)) < 0 ||
	    (r = take_string(j, "root", V2_DEFAULT_ROOT, &o->root)) < 0 ||
	    (r = take_string(j, "criu_path", "", &o->criu_path)) < 0) {
		v2_runtime_opts_free(o);
		return r;
	}
	return absent;
}

void v2_runtime_opts_free(struct v2_runtime_opts *o)
{
	free(o->binary_name);
	free(o->root);
	free(o->criu_path);
	memset(o, 0, sizeof(*o));
}
