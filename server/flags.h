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

/* Parses argv (argv[0] skipped). On FLAGS_USAGE_ERROR, msg holds Go's message. Pure. */
enum flags_result flags_parse(int argc, char *const *argv, struct shim_flags *f, char *msg,
			      size_t msgsz);
void flags_usage(const char *prog, int fd);
