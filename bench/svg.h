/* SPDX-License-Identifier: Apache-2.0 */
/* Latency CDF plots as hand-written SVG: left panel CDF (log latency, linear fraction),
 * right panel the tail (1 - CDF on a log scale), one line per series. */
#pragma once

#include "bench/hist.h"

struct svg_series {
	const char *label;
	const struct hist *h;
};

/* 0 or -errno. */
int svg_cdf(const char *path, const char *title, const struct svg_series *s, int n);
