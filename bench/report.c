/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <string.h>

#include "bench/report.h"
#include "bench/util.h"

const char *lr_method_desc(const struct load_result *r, char *buf, size_t n)
{
	int nm = 0, last = 0;
	size_t k = 0;
	for (int m = 0; m < M_COUNT; m++)
		if (r->weights[m]) {
			nm++;
			last = m;
		}
	if (nm == 1) {
		xsnprintf(buf, n, "%s", method_names[last]);
		return buf;
	}
	k += (size_t)xsnprintf(buf, n, "mix(");
	for (int m = 0; m < M_COUNT && k < n; m++)
		if (r->weights[m])
			k += (size_t)xsnprintf(buf + k, n - k, "%s%s=%u", k > 4 ? "," : "",
					       method_names[m], r->weights[m]);
	if (k < n)
		xsnprintf(buf + k, n - k, ")");
	return buf;
}

unsigned long long lr_errors(const struct load_result *r)
{
	return (unsigned long long)(r->errors + r->timeouts + r->conn_errors + r->overflows);
}

void lr_table_header(FILE *f)
{
	fprintf(f, "%-14s %9s %9s %9s %9s %9s %9s %7s %9s %9s %9s\n", "", "req/s", "p50", "p90",
		"p99", "p99.9", "max", "errors", "shimCPU", "shim/req", "client/req");
}

static void row(FILE *f, const char *label, const struct hist *h, double rps,
		unsigned long long errs, double cpu_s, double cpu_req_us, double cli_req_us)
{
	char a[5][24], c[24], d[24], e[24];
	xsnprintf(c, sizeof(c), cpu_s >= 0 ? "%.2fs" : "-", cpu_s);
	xsnprintf(d, sizeof(d), cpu_req_us >= 0 ? "%.1fus" : "-", cpu_req_us);
	xsnprintf(e, sizeof(e), cli_req_us >= 0 ? "%.1fus" : "-", cli_req_us);
	fprintf(f, "%-14s %9.0f %9s %9s %9s %9s %9s %7llu %9s %9s %9s\n", label, rps,
		fmt_ns(a[0], 24, hist_pct(h, 50)), fmt_ns(a[1], 24, hist_pct(h, 90)),
		fmt_ns(a[2], 24, hist_pct(h, 99)), fmt_ns(a[3], 24, hist_pct(h, 99.9)),
		fmt_ns(a[4], 24, (double)h->max), errs, c, d, e);
}

void lr_table_row(FILE *f, const char *label, const struct load_result *r)
{
	row(f, label, &r->all, r->rps, lr_errors(r), r->shim_cpu_s, lr_cpu_per_req_us(r),
	    lr_client_cpu_per_req_us(r));
}

void lr_table_mix_rows(FILE *f, const struct load_result *r)
{
	int nm = 0;
	for (int m = 0; m < M_COUNT; m++)
		nm += r->weights[m] != 0;
	if (nm < 2)
		return;
	for (int m = 0; m < M_COUNT; m++) {
		char l[32];
		if (!r->weights[m])
			continue;
		xsnprintf(l, sizeof(l), "  %s", method_names[m]);
		row(f, l, &r->per[m], (double)r->per[m].count / r->window_s, 0, -1, -1, -1);
	}
}

json_t *hist_json(const struct hist *h)
{
	return json_pack("{s:I,s:f,s:f,s:f,s:f,s:f,s:f,s:f}", "count", (json_int_t)h->count,
			 "min_ns", h->count ? (double)h->min : 0.0, "mean_ns", hist_mean(h),
			 "p50_ns", hist_pct(h, 50), "p90_ns", hist_pct(h, 90), "p99_ns",
			 hist_pct(h, 99), "p999_ns", hist_pct(h, 99.9), "max_ns", (double)h->max);
}

json_t *lr_json(const char *label, const struct load_result *r)
{
	char md[128];
	json_t *j = json_object(), *per = json_object(), *codes = json_object();
	json_object_set_new(j, "label", json_string(label));
	json_object_set_new(j, "method", json_string(lr_method_desc(r, md, sizeof(md))));
	json_object_set_new(j, "mode", json_string(r->open_loop ? "open" : "closed"));
	if (r->open_loop)
		json_object_set_new(j, "rate", json_real(r->rate));
	json_object_set_new(j, "conns", json_integer(r->conns));
	json_object_set_new(j, "streams", json_integer(r->streams));
	json_object_set_new(j, "window_s", json_real(r->window_s));
	json_object_set_new(j, "ok", json_integer((json_int_t)r->ok));
	json_object_set_new(j, "errors", json_integer((json_int_t)lr_errors(r)));
	json_object_set_new(j, "error_responses", json_integer((json_int_t)r->errors));
	json_object_set_new(j, "timeouts", json_integer((json_int_t)r->timeouts));
	json_object_set_new(j, "conn_errors", json_integer((json_int_t)r->conn_errors));
	json_object_set_new(j, "overflows", json_integer((json_int_t)r->overflows));
	for (int k = 0; k < 17; k++)
		if (r->err_by_code[k]) {
			char key[8];
			xsnprintf(key, sizeof(key), "%d", k);
			json_object_set_new(codes, key,
					    json_integer((json_int_t)r->err_by_code[k]));
		}
	json_object_set_new(j, "error_codes", codes);
	if (r->first_error[0])
		json_object_set_new(j, "first_error", json_string(r->first_error));
	json_object_set_new(j, "rps", json_real(r->rps));
	json_object_set_new(j, "latency", hist_json(&r->all));
	json_object_set_new(j, "shim_cpu_s", json_real(r->shim_cpu_s));
	json_object_set_new(j, "shim_cpu_per_req_us", json_real(lr_cpu_per_req_us(r)));
	json_object_set_new(j, "shim_children_cpu_s", json_real(r->shim_child_cpu_s));
	json_object_set_new(j, "shim_run_delay_s", json_real(r->shim_run_delay_s));
	json_object_set_new(j, "client_cpu_s", json_real(r->client_cpu_s));
	json_object_set_new(j, "machine_cpu_busy", json_real(r->sys_busy));
	json_object_set_new(j, "client_cpu_per_req_us", json_real(lr_client_cpu_per_req_us(r)));
	for (int m = 0; m < M_COUNT; m++)
		if (r->weights[m])
			json_object_set_new(per, method_names[m], hist_json(&r->per[m]));
	json_object_set_new(j, "per_method", per);
	return j;
}

int json_write_line(const char *path, json_t *j)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -errno;
	json_dumpf(j, f, JSON_COMPACT | JSON_REAL_PRECISION(6));
	fputc('\n', f);
	return fclose(f) == 0 ? 0 : -errno;
}
