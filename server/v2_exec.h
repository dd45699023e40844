/* SPDX-License-Identifier: Apache-2.0 */
/* Running a program to completion from the short-lived v2 actions (delete, -info), which have
 * no reaper thread: spawn (core/spawn.h), read its stdout to EOF, wait for its pidfd. */
#pragma once

#include <stddef.h>

/* Runs path with argv (stdin /dev/null, stderr to ours), capturing stdout (at most max bytes
 * kept). Returns 0 with *ret_status = the exit status (128+n for signal n), or -errno. */
int v2_exec_capture(const char *path, char *const *argv, size_t max, char **ret_out,
		    size_t *ret_len, int *ret_status);
