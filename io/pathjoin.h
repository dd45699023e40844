/* SPDX-License-Identifier: Apache-2.0 */
/* Go's path/filepath Join and Clean on Linux, byte for byte (containerd derives names from them). */
#pragma once

#include <stddef.h>

/* filepath.Clean: the shortest equivalent path ("" -> "."). Returns the length, or -ENAMETOOLONG
 * when it does not fit bufsz (with its NUL). Pure. */
int path_clean(const char *path, char *buf, size_t bufsz);
/* filepath.Join: the non-empty parts joined by "/" and cleaned; "" when every part is empty.
 * Returns the length or -ENAMETOOLONG. Pure. */
int path_join(const char *const *parts, size_t nparts, char *buf, size_t bufsz);
