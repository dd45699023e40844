/* SPDX-License-Identifier: Apache-2.0 */
/* Paths that a request names and the runtime or CRIU then writes to or reads from (checkpoint
 * image dirs, CRIU work dirs): their syntax (pure) and a resolution that follows no symlink.
 * Used by server/validate.c before any runtime runs, and by core/checkpoint.c for the files
 * the shim itself touches in those directories. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Syntax of an absolute path from a request. len is the length the client sent (a NUL inside
 * makes it larger than strlen(p): protobuf-c cuts strings at the first NUL). Refused: empty,
 * not starting with '/', a "." or ".." component, "//", NUL or control characters (< 0x20,
 * 0x7f), len >= PATH_MAX. One trailing '/' is accepted ("/a/b/" is "/a/b"). Returns 0, or
 * -EINVAL / -ENAMETOOLONG with a static reason in *why. Pure. */
int path_check_abs(const char *p, size_t len, const char **why);

/* The same rules for a relative path (no leading '/'): it can only name something beneath the
 * directory it is joined to. Pure. */
int path_check_rel(const char *p, size_t len, const char **why);

/* Opens an absolute path without following a symlink in any component (magic links of /proc
 * included): openat2(RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS), or path_open_walk() where
 * openat2 is unavailable (ENOSYS, or EPERM from a seccomp filter). flags are open(2) flags
 * (O_CLOEXEC is added). Returns an fd or -errno; -ELOOP means a component is a symlink. */
int path_open_nofollow(const char *path, int flags, mode_t mode);

/* The fallback: "/" then one openat(O_PATH | O_NOFOLLOW) per component, each checked with
 * fstat (a symlink -> -ELOOP, not a directory -> -ENOTDIR), the last one opened with flags |
 * O_NOFOLLOW. Exposed for tests. */
int path_open_walk(const char *path, int flags, mode_t mode);

/* An absolute path (syntax already checked) that must be an existing directory reached
 * without symlinks; with may_create, a missing last component is accepted when its parent is
 * such a directory (the runtime creates the leaf, as runc does with mkdir). Returns 0, or
 * -errno with a static reason in *why ("has a symlink component", "is not a directory",
 * "does not exist", ...; NULL for an unexpected errno: the caller prints strerror). */
int path_check_dir(const char *path, bool may_create, const char **why);

/* Removes a directory tree without following symlinks: the top is opened O_NOFOLLOW (a
 * symlink there is unlinked, never followed), every level through openat(O_NOFOLLOW), entries
 * removed with unlinkat. Depth-bounded. Missing path: nothing to do. Returns 0 or -errno. */
int path_remove_tree(const char *path);
