/* SPDX-License-Identifier: Apache-2.0 */
/* Turning load results into table rows and JSON objects. */
#pragma once

#include <jansson.h>
#include <stdio.h>

#include "bench/load.h"

/* Method description of a result: "State", "ListPids", "mix(State=8,ListPids=1,...)". */
const char *lr_method_desc(const struct load_result *r, char *buf, size_t n);
/* Total of everything that went wrong in the window. */
unsigned long long lr_errors(const struct load_result *r);

void lr_table_header(FILE *f);
void lr_table_row(FILE *f, const char *label, const struct load_result *r);
/* Per-method lines of a mix (no-op for a single method). */
void lr_table_mix_rows(FILE *f, const struct load_result *r);

json_t *lr_json(const char *label, const struct load_result *r);
json_t *hist_json(const struct hist *h);

/* Writes one JSON document (compact, one line, newline) to path; 0 or -errno. */
int json_write_line(const char *path, json_t *j);
