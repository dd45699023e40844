/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bench/svg.h"
#include "bench/util.h"

static const char *const COLORS[] = { "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e",
				      "#9467bd", "#8c564b", "#e377c2", "#17becf" };

#define W 1000
#define PW 400 /* panel plot width */
#define PH 330 /* panel plot height */
#define TOP 60
#define LEFT1 70
#define LEFT2 560

static void xml_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '<')
			fputs("&lt;", f);
		else if (*s == '>')
			fputs("&gt;", f);
		else if (*s == '&')
			fputs("&amp;", f);
		else
			fputc(*s, f);
	}
}

static const char *tick_label(char *b, size_t n, double ns)
{
	if (ns < 1e3)
		xsnprintf(b, n, "%gns", ns);
	else if (ns < 1e6)
		xsnprintf(b, n, "%gus", ns / 1e3);
	else if (ns < 1e9)
		xsnprintf(b, n, "%gms", ns / 1e6);
	else
		xsnprintf(b, n, "%gs", ns / 1e9);
	return b;
}

int svg_cdf(const char *path, const char *title, const struct svg_series *s, int n)
{
	FILE *f = fopen(path, "w");
	double lo = 1e300, hi = 0;
	int dlo, dhi, tail_decades = 4;
	uint64_t maxcount = 0;

	if (!f)
		return -errno;
	for (int i = 0; i < n; i++) {
		if (!s[i].h->count)
			continue;
		if ((double)s[i].h->min < lo)
			lo = (double)s[i].h->min;
		if ((double)s[i].h->max > hi)
			hi = (double)s[i].h->max;
		if (s[i].h->count > maxcount)
			maxcount = s[i].h->count;
	}
	if (hi <= 0) {
		lo = 1e3;
		hi = 1e6;
	}
	if (lo < 1)
		lo = 1;
	dlo = (int)floor(log10(lo));
	dhi = (int)ceil(log10(hi));
	if (dhi <= dlo)
		dhi = dlo + 1;
	while (maxcount > 0 && tail_decades < 7 && pow(10, tail_decades) < (double)maxcount)
		tail_decades++;

	/* legend: two columns below the panels */
	int height = TOP + PH + 56 + ((n + 1) / 2) * 18 + 8;
	fprintf(f,
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		"font-family=\"sans-serif\" font-size=\"12\">\n",
		W, height);
	fprintf(f, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
	fprintf(f, "<text x=\"%d\" y=\"22\" font-size=\"15\" font-weight=\"bold\">", LEFT1);
	xml_text(f, title);
	fprintf(f, "</text>\n");

	for (int panel = 0; panel < 2; panel++) {
		int x0 = panel ? LEFT2 : LEFT1;
		char b[32];
		fprintf(f,
			"<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" "
			"stroke=\"#333\"/>\n",
			x0, TOP, PW, PH);
		fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s</text>\n",
			x0 + PW / 2, TOP - 8,
			panel ? "tail: fraction slower than x (log)"
			      : "CDF: fraction answered within x");
		fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">latency (log)</text>\n",
			x0 + PW / 2, TOP + PH + 34);
		for (int d = dlo; d <= dhi; d++) {
			double x = x0 + (double)(d - dlo) / (dhi - dlo) * PW;
			fprintf(f,
				"<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#ddd\"/>\n",
				x, TOP, x, TOP + PH);
			fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n",
				x, TOP + PH + 16, tick_label(b, sizeof(b), pow(10, d)));
		}
		if (!panel) {
			for (int k = 0; k <= 10; k += 2) {
				double y = TOP + PH - k / 10.0 * PH;
				fprintf(f,
					"<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" "
					"stroke=\"#ddd\"/>\n",
					x0, y, x0 + PW, y);
				fprintf(f,
					"<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%.1f</text>\n",
					x0 - 6, y + 4, k / 10.0);
			}
		} else {
			for (int k = 0; k <= tail_decades; k++) {
				double y = TOP + (double)k / tail_decades * PH;
				fprintf(f,
					"<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" "
					"stroke=\"#ddd\"/>\n",
					x0, y, x0 + PW, y);
				fprintf(f,
					"<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">1e-%d</text>\n",
					x0 - 6, y + 4, k);
			}
		}
		for (int i = 0; i < n; i++) {
			const struct hist *h = s[i].h;
			uint64_t cum = 0;
			bool first = true;
			if (!h->count)
				continue;
			fprintf(f, "<path fill=\"none\" stroke=\"%s\" stroke-width=\"1.6\" d=\"",
				COLORS[i % 8]);
			for (size_t bi = 0; bi < HIST_BUCKETS; bi++) {
				if (!h->b[bi])
					continue;
				double xv = (double)hist_bucket_hi(bi);
				if (xv > (double)h->max)
					xv = (double)h->max;
				if (xv < 1)
					xv = 1;
				double xp = x0 + (log10(xv) - dlo) / (dhi - dlo) * PW;
				double before = (double)cum / (double)h->count;
				cum += h->b[bi];
				double after = (double)cum / (double)h->count;
				double yb, ya;
				if (!panel) {
					yb = TOP + PH - before * PH;
					ya = TOP + PH - after * PH;
				} else {
					double tb = 1 - before, ta = 1 - after;
					double lb = tb > 0 ? -log10(tb) : tail_decades;
					double la = ta > 0 ? -log10(ta) : tail_decades;
					if (lb > tail_decades)
						lb = tail_decades;
					if (la > tail_decades)
						la = tail_decades;
					yb = TOP + lb / tail_decades * PH;
					ya = TOP + la / tail_decades * PH;
				}
				if (xp < x0)
					xp = x0;
				if (first) {
					fprintf(f, "M%.1f %.1f", xp, yb);
					first = false;
				}
				fprintf(f, " L%.1f %.1f L%.1f %.1f", xp, yb, xp, ya);
			}
			fprintf(f, "\"/>\n");
		}
	}
	/* legend */
	for (int i = 0; i < n; i++) {
		char p50[24], p99[24];
		int y = TOP + PH + 62 + (i / 2) * 18;
		int x = LEFT1 + (i % 2) * 470;
		fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"14\" height=\"4\" fill=\"%s\"/>\n", x,
			y - 4, COLORS[i % 8]);
		fprintf(f, "<text x=\"%d\" y=\"%d\">", x + 20, y);
		xml_text(f, s[i].label);
		fprintf(f, " (p50 %s, p99 %s, n=%llu)</text>\n",
			fmt_ns(p50, sizeof(p50), hist_pct(s[i].h, 50)),
			fmt_ns(p99, sizeof(p99), hist_pct(s[i].h, 99)),
			(unsigned long long)s[i].h->count);
	}
	fprintf(f, "</svg>\n");
	return fclose(f) == 0 ? 0 : -errno;
}
