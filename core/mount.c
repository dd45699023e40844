/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../io/base.h"
#include "mount.h"

static const struct {
	const char *name;
	bool clear;
	unsigned long flag;
} mount_flags[] = {
	{ "async", true, MS_SYNCHRONOUS },
	{ "atime", true, MS_NOATIME },
	{ "bind", false, MS_BIND },
	{ "defaults", false, 0 },
	{ "dev", true, MS_NODEV },
	{ "diratime", true, MS_NODIRATIME },
	{ "dirsync", false, MS_DIRSYNC },
	{ "exec", true, MS_NOEXEC },
	{ "mand", false, MS_MANDLOCK },
	{ "noatime", false, MS_NOATIME },
	{ "nodev", false, MS_NODEV },
	{ "nodiratime", false, MS_NODIRATIME },
	{ "noexec", false, MS_NOEXEC },
	{ "nomand", true, MS_MANDLOCK },
	{ "norelatime", true, MS_RELATIME },
	{ "nostrictatime", true, MS_STRICTATIME },
	{ "nosuid", false, MS_NOSUID },
	{ "rbind", false, MS_BIND | MS_REC },
	{ "relatime", false, MS_RELATIME },
	{ "remount", false, MS_REMOUNT },
	{ "ro", false, MS_RDONLY },
	{ "rw", true, MS_RDONLY },
	{ "strictatime", false, MS_STRICTATIME },
	{ "suid", true, MS_NOSUID },
	{ "sync", false, MS_SYNCHRONOUS },
};

int mount_parse_options(char *const *options, size_t n, unsigned long *ret_flags, char *data,
			size_t datasz)
{
	unsigned long flags = 0;
	size_t len = 0;
	long page = sysconf(_SC_PAGESIZE);

	data[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		const char *o = options[i];
		bool known = false;
		if (strcmp(o, "loop") == 0)
			return -ENOTSUP;
		for (size_t k = 0; k < ARRAY_SIZE(mount_flags); k++) {
			if (strcmp(o, mount_flags[k].name) != 0)
				continue;
			if (mount_flags[k].clear)
				flags &= ~mount_flags[k].flag;
			else
				flags |= mount_flags[k].flag;
			known = true;
			break;
		}
		if (known)
			continue;
		size_t ol = strlen(o), need = len + (len ? 1 : 0) + ol; /* without the NUL */
		if (need + 1 > datasz || need > (size_t)page)
			return -E2BIG;
		if (len)
			data[len++] = ',';
		memcpy(data + len, o, ol + 1);
		len += ol;
	}
	*ret_flags = flags;
	return 0;
}

int mount_all(const struct mount_spec *m, size_t n, const char *target, char *msg, size_t msgsz)
{
	const size_t datasz = 8192;
	_cleanup_free_ char *data = malloc(datasz); /* not on a worker's stack */

	if (!data) {
		snprintf(msg, msgsz, "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned long flags;
		int r = mount_parse_options(m[i].options, m[i].n_options, &flags, data, datasz);
		if (r == -ENOTSUP) {
			snprintf(msg, msgsz, "mount option \"loop\" is not supported by cshim");
			goto undo;
		}
		if (r < 0) {
			snprintf(msg, msgsz, "mount options too long");
			goto undo;
		}
		if (strncmp(m[i].type, "fuse.", 5) == 0 || strncmp(m[i].type, "fuse3.", 6) == 0) {
			snprintf(msg, msgsz, "mount type %s needs a fuse helper, not supported",
				 m[i].type);
			r = -ENOTSUP;
			goto undo;
		}
		if (!((flags & MS_REMOUNT) && !data[0])) {
			if (mount(m[i].source, target, m[i].type, flags, data[0] ? data : NULL) <
			    0) {
				r = -errno;
				snprintf(msg, msgsz, "failed to mount rootfs component: %s",
					 strerror(errno));
				goto undo;
			}
		}
		if ((flags & MS_BIND) && (flags & MS_RDONLY)) {
			if (mount("", target, "", flags | MS_REMOUNT, NULL) < 0) {
				r = -errno;
				snprintf(msg, msgsz, "failed to remount read-only: %s",
					 strerror(errno));
				goto undo;
			}
		}
		continue;
	undo:
		(void)mount_unmount_all(target);
		return r;
	}
	return 0;
}

static int unmount_one(const char *target)
{
	for (int i = 0; i < 50; i++) {
		if (umount2(target, 0) == 0)
			return 0;
		if (errno != EBUSY)
			return -errno;
		nanosleep(&(struct timespec){ .tv_nsec = 50 * 1000000L }, NULL);
	}
	return -EBUSY;
}

int mount_unmount_all(const char *target)
{
	for (int i = 0; i < 1024; i++) {
		int r = unmount_one(target);
		if (r == -EINVAL || r == -ENOENT)
			return 0;
		if (r < 0)
			return r;
	}
	return 0;
}
