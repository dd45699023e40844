/* SPDX-License-Identifier: Apache-2.0 */
#include <math.h>
#include <string.h>

#include "bench/hist.h"

void hist_init(struct hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

size_t hist_index(uint64_t v)
{
	if (v < 2 * HIST_SUB)
		return (size_t)v;
	unsigned e = 63u - (unsigned)__builtin_clzll(v); /* >= HIST_SUB_BITS + 1 */
	unsigned shift = e - HIST_SUB_BITS;
	size_t idx = (size_t)(shift + 1) * HIST_SUB + (size_t)((v >> shift) - HIST_SUB);
	return idx < HIST_BUCKETS ? idx : HIST_BUCKETS - 1;
}

uint64_t hist_bucket_lo(size_t i)
{
	if (i < 2 * HIST_SUB)
		return i;
	unsigned shift = (unsigned)(i / HIST_SUB) - 1;
	return ((uint64_t)(i % HIST_SUB) + HIST_SUB) << shift;
}

uint64_t hist_bucket_hi(size_t i)
{
	if (i < 2 * HIST_SUB)
		return i + 1;
	unsigned shift = (unsigned)(i / HIST_SUB) - 1;
	return (((uint64_t)(i % HIST_SUB) + HIST_SUB + 1) << shift);
}

void hist_add(struct hist *h, uint64_t v)
{
	h->b[hist_index(v)]++;
	h->count++;
	h->sum += v;
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
}

void hist_merge(struct hist *dst, const struct hist *src)
{
	if (!src->count)
		return;
	for (size_t i = 0; i < HIST_BUCKETS; i++)
		dst->b[i] += src->b[i];
	dst->count += src->count;
	dst->sum += src->sum;
	if (src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
}

double hist_pct(const struct hist *h, double p)
{
	uint64_t rank, cum = 0;

	if (!h->count)
		return 0;
	if (p >= 100)
		return (double)h->max;
	rank = (uint64_t)ceil(p / 100.0 * (double)h->count);
	if (rank < 1)
		rank = 1;
	for (size_t i = 0; i < HIST_BUCKETS; i++) {
		cum += h->b[i];
		if (cum >= rank) {
			/* middle of the bucket, clamped to what was really seen */
			double lo = (double)hist_bucket_lo(i), hi = (double)hist_bucket_hi(i);
			double v = i < 2 * HIST_SUB ? lo : (lo + hi) / 2;
			if (v < (double)h->min)
				v = (double)h->min;
			if (v > (double)h->max)
				v = (double)h->max;
			return v;
		}
	}
	return (double)h->max;
}

double hist_mean(const struct hist *h)
{
	return h->count ? (double)h->sum / (double)h->count : 0;
}
