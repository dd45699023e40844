/* SPDX-License-Identifier: Apache-2.0 */
/* Rootfs mounts from a Create request (docs/v1-protocol.md §3.17), unmounted at Delete. */
#pragma once

#include <stddef.h>

struct mount_spec {
	const char *type, *source;
	char **options;
	size_t n_options;
};

/* Splits options into mount flags and a data string (pure, for tests and fuzzing).
 * Returns 0, or -E2BIG when the data would exceed a page, -ENOTSUP for "loop". */
int mount_parse_options(char *const *options, size_t n, unsigned long *ret_flags, char *data,
			size_t datasz);
/* Mounts every entry in order onto target; on failure undoes what it mounted. */
int mount_all(const struct mount_spec *m, size_t n, const char *target, char *msg, size_t msgsz);
/* Unmounts everything stacked on target (until EINVAL), retrying EBUSY. */
int mount_unmount_all(const char *target);
