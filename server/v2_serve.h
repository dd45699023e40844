/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The long-running runtime v2 process (spec v2 §1.6): SELF -namespace NS -id ID -address A
 * [-publish-binary P] [-debug] serve, cwd the first container's bundle, the listener on fd 3,
 * the log on fd 2. Serves containerd.task.v2.Task (and v3) until Shutdown finds no container.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct v2_serve_flags {
	const char *ns, *id, *address, *publish_binary, *socket;
	bool debug;
};

/* Parses the serve argv (Go flag syntax; the last word is "serve"). 0, or -EINVAL with the
 * reason in msg. Pure. */
int v2_serve_flags_parse(int argc, char *const *argv, struct v2_serve_flags *f, char *msg,
			 size_t msgsz);
/* The process's main: returns only on failure (the exit status). */
int v2_serve_main(int argc, char **argv);
