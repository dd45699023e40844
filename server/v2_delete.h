/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* The serialized containerd.task.v2.DeleteResponse{pid, 137, now} into buf. Returns its length
 * or -ENOBUFS. Pure. */
int v2_delete_response(uint32_t pid, const struct timespec *now, uint8_t *buf, size_t bufsz);
