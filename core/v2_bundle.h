/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The files of a runtime v2 bundle that cshim reads or writes outside a request
 * (docs/v2-protocol.md §2.2): the group key from config.json's annotations, the `address` file, and
 * cshim's own record of the container's runtime options (`cshim-options.json`), which `delete`
 * reads because it gets no options (containerd never reads that file).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define V2_GROUP_ANNOTATION "io.containerd.runc.v2.group"
#define V2_SANDBOX_ANNOTATION "io.kubernetes.cri.sandbox-id"
#define V2_OPTIONS_FILE "cshim-options.json"
#define V2_DEFAULT_RUNTIME "runc"
#define V2_DEFAULT_ROOT "/run/containerd/runc"

/* The group of the container in BUNDLE/config.json: the first annotation present of
 * io.containerd.runc.v2.group and io.kubernetes.cri.sandbox-id (even when empty, as Go's map
 * lookup), else id. Returns 0, -ENOENT (no config.json), -EINVAL (not an OCI spec's JSON:
 * msg says why), -ENAMETOOLONG. */
int v2_bundle_group(const char *bundle, const char *id, char *buf, size_t bufsz, char *msg,
		    size_t msgsz);

/* Writes BUNDLE/address = address (no newline, 0644) atomically: BUNDLE/.address, renamed. */
int v2_bundle_write_address(const char *bundle, const char *address);

/* What delete needs of containerd.runc.v1.Options. Strings are owned (free with
 * v2_runtime_opts_free); empty strings mean "default". */
struct v2_runtime_opts {
	char *binary_name, *root, *criu_path;
	bool systemd_cgroup;
};

/* Saves opts in BUNDLE/cshim-options.json (atomic, 0600). */
int v2_bundle_save_opts(const char *bundle, const struct v2_runtime_opts *opts);
/* Loads them; the defaults (runc, /run/containerd/runc) fill what is absent or empty.
 * Returns 0, 1 when the file is absent (defaults only), or -EINVAL for an unreadable file. */
int v2_bundle_load_opts(const char *bundle, struct v2_runtime_opts *opts);
void v2_runtime_opts_free(struct v2_runtime_opts *opts);
