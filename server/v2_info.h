/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "v2_stdin.h"

#define V2_INFO_NAME "io.containerd.runc.v2"
#define V2_FEATURES_TYPE "types.containerd.io/opencontainers/runtime-spec/1/features/Features"

/* The runtime's `features` output as the features Any's value: the JSON object, compact, in
 * its own key order. NULL when text is not a JSON object. Pure. */
char *v2_info_features_json(const char *text, size_t len);
/* The serialized RuntimeInfo for in's options and features_json (NULL: no features). */
int v2_info_pack(const struct v2_stdin *in, const char *features_json, uint8_t **ret_buf,
		 size_t *ret_len);
