/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The runtime v2 front end's command line (docs/v2-launch.md, docs/v2-protocol.md §2): which front
 * end an argv is for, the v2 flags (Go flag syntax, server/flags.h) and the action word.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "flags.h"

enum v2_action {
	V2_ACT_NONE = 0, /* -v/-version/-info only */
	V2_ACT_START,    /* containerd: launch (or reuse) the long-running shim */
	V2_ACT_DELETE,   /* containerd: clean up after a dead or finished shim */
	V2_ACT_SERVE,    /* cshim's own: the long-running process that start spawns */
};

struct v2_flags {
	const char *ns, *address, *publish_binary, *id, *bundle, *socket, *debug_socket;
	bool debug, v, version, info, help;
	enum v2_action action;
};

/* The action word cshim gives its own long-running v2 process (containerd never sends it). */
#define V2_SERVE_WORD "serve"

/* True when argv is a runtime v2 call: its last argument is an action word (start, delete,
 * or cshim's own serve), or it has -info or -v, or -version together with -id. containerd's
 * v1 calls have none of these (no action, no -id, no -info/-v). Pure. */
bool v2_cli_selected(int argc, char *const *argv);

/* Parses a v2 argv. FLAGS_EXIT_OK: -h/-help (f->help) or -v/-version. FLAGS_USAGE_ERROR: msg
 * holds the reason (Go's texts for flag errors). Pure. */
enum flags_result v2_cli_parse(int argc, char *const *argv, struct v2_flags *f, char *msg,
			       size_t msgsz);
void v2_cli_usage(const char *prog, int fd);

/* The v2 front end: parses argv and runs the action. Returns the process exit status. */
int v2_main(int argc, char **argv);
