/* SPDX-License-Identifier: Apache-2.0 */
/* What the v1 and v2 services share (service.c): answers, and Create's rootfs. */
#pragma once

#include <protobuf-c/protobuf-c.h>
#include <time.h>

#include "core/mount.h"
#include "dispatch.h"
#include "github.com/containerd/containerd/api/types/mount.pb-c.h"
#include "google/protobuf/timestamp.pb-c.h"

/* Packs msg (NULL: empty) and answers the call with it. */
void reply_msg(struct call *call, const ProtobufCMessage *msg);
/* A Timestamp of t; zero is Go's zero time (year 1), never 1970. */
void set_ts(Google__Protobuf__Timestamp *ts, const struct timespec *t);
/* Create's rootfs as core's mount list (borrowing the request's strings): *ret NULL when
 * n is 0, else a heap array to free. 0 or -ENOMEM. */
int rootfs_mounts(Containerd__Types__Mount *const *rootfs, size_t n, struct mount_spec **ret);
