/* SPDX-License-Identifier: Apache-2.0 */
/* The shim's command line, in Go flag syntax (-f v, -f=v, --f v, --f=v; booleans -f, -f=true). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct shim_flags {
	const char *ns, *workdir, *address, *containerd_binary, *runtime_root, *criu, *socket;
	bool systemd_cgroup, debug, version, help;
};

enum flags_result { FLAGS_OK = 0, FLAGS_EXIT_OK = 1, FLAGS_USAGE_ERROR = 2 };

/* One flag of a flag set: a string (const char *) or a bool at offset off of the caller's
 * struct. */
struct flag_def {
	const char *name;
	bool is_bool;
	size_t off;
	const char *usage;
};

/* The engine under flags_parse (Go's flag.Parse): parses argv[1..] into out by defs, stopping
 * at the first non-flag argument or "--". Returns FLAGS_OK with *ret_args = the index of the
 * first argument left (argc when none), FLAGS_EXIT_OK with *ret_help set for -h/-help, or
 * FLAGS_USAGE_ERROR with Go's message in msg. Defaults are the caller's. Pure. */
enum flags_result flags_parse_defs(const struct flag_def *defs, size_t ndefs, void *out, int argc,
				   char *const *argv, int *ret_args, bool *ret_help, char *msg,
				   size_t msgsz);
void flags_usage_defs(const struct flag_def *defs, size_t ndefs, const char *prog, int fd);

/* Parses argv (argv[0] skipped). On FLAGS_USAGE_ERROR, msg holds Go's message. Pure. */
enum flags_result flags_parse(int argc, char *const *argv, struct shim_flags *f, char *msg,
			      size_t msgsz);
void flags_usage(const char *prog, int fd);
/* Whether name (nlen bytes) is a v1 flag that takes a value (for server/v2_cli.c's scan). */
bool flags_v1_takes_value(const char *name, size_t nlen);
