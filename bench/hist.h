/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Log-linear latency histogram (HDR style, no per-sample storage): values 0..255 ns are
 * exact, above that every power of two is split into 128 linear sub-buckets, so a recorded
 * value is known to within 1/128 (0.8 %). Covers up to ~73 minutes. Exact count, sum, min
 * and max are kept on the side.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define HIST_SUB_BITS 7
#define HIST_SUB (1u << HIST_SUB_BITS)
#define HIST_MAX_SHIFT 34
#define HIST_BUCKETS ((HIST_MAX_SHIFT + 2) * HIST_SUB)

struct hist {
	uint64_t count, sum, min, max;
	uint64_t b[HIST_BUCKETS];
};

void hist_init(struct hist *h);
void hist_add(struct hist *h, uint64_t v);
void hist_merge(struct hist *dst, const struct hist *src);
/* Value at percentile p (0 < p <= 100); 0 for an empty histogram. p = 100 is the exact max. */
double hist_pct(const struct hist *h, double p);
double hist_mean(const struct hist *h);

/* Bucket geometry (for the CDF plot). */
size_t hist_index(uint64_t v);
uint64_t hist_bucket_lo(size_t i);
uint64_t hist_bucket_hi(size_t i); /* exclusive */
