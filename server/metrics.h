/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A container's cgroup statistics (core/cgstats.h) as the Stats reply carries them: the
 * io.containerd.cgroups.v1.Metrics or io.containerd.cgroups.v2.Metrics message, in a
 * google.protobuf.Any whose type_url is the message's name (containerd's typeurl falls back
 * to it). Every field core read is copied as it is, every sub-message core marks present is
 * there (and only those), so the packed bytes are those of containerd-shim-runc-v2's reply.
 */
#pragma once

#include "core/cgstats.h"
#include "github.com/containerd/cgroups/cgroup1/stats/metrics.pb-c.h"
#include "github.com/containerd/cgroups/cgroup2/stats/metrics.pb-c.h"
#include "google/protobuf/any.pb-c.h"

#define METRICS_V1_TYPE_URL "io.containerd.cgroups.v1.Metrics"
#define METRICS_V2_TYPE_URL "io.containerd.cgroups.v2.Metrics"

/* The message, on the heap (free with io__containerd__cgroups__v1__metrics__free_unpacked(m,
 * NULL)). Returns 0 or -ENOMEM. */
int metrics_v1_message(const struct cgstats_v1_metrics *s,
		       Io__Containerd__Cgroups__V1__Metrics **ret);
/* The same for v2 (free with io__containerd__cgroups__v2__metrics__free_unpacked(m, NULL)). */
int metrics_v2_message(const struct cgstats_v2_metrics *s,
		       Io__Containerd__Cgroups__V2__Metrics **ret);

/* The message packed into *any (initialised here): type_url the static name, value.data on the
 * heap (release with metrics_any_clear). Returns 0 or -ENOMEM. */
int metrics_v1_any(const struct cgstats_v1_metrics *s, Google__Protobuf__Any *any);
int metrics_v2_any(const struct cgstats_v2_metrics *s, Google__Protobuf__Any *any);
void metrics_any_clear(Google__Protobuf__Any *any);
