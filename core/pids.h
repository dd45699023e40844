/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The pids of a container, as `runc ps` gives them, read from its cgroup instead of spawning
 * the runtime: the cgroup path comes from the runtime's state.json (cgroup_paths, the
 * "devices" controller on cgroup v1 as runc's GetAllPids uses, the unified path on v2), then
 * cgroup.procs of it and every descendant, in lexical walk order.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Returns 0, -ENOENT when the cgroup cannot be found (fall back to `runc ps`), or -errno. */
int pids_from_cgroup(const char *runtime_root_ns, const char *id, uint32_t **ret, size_t *ret_n);
/* Forgets the cached cgroup (the container was deleted). */
void pids_forget(void);
/* Parses `runc ps --format json` output (a JSON array of pids). Pure, for tests. */
int pids_parse_ps_json(const char *buf, size_t len, uint32_t **ret, size_t *ret_n);
/* The cgroup directory from a state.json text. Pure, for tests. */
int pids_cgroup_from_state(const char *buf, size_t len, char *out, size_t outsz);
