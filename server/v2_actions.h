/* SPDX-License-Identifier: Apache-2.0 */
/* The v2 front end's actions (each returns the process exit status). */
#pragma once

#include <stdbool.h>

#include "v2_cli.h"

const char *v2_version(void);
/* -info (docs/v2-launch.md, `-info`): the serialized containerd.types.RuntimeInfo on stdout. */
int v2_info_main(const struct v2_flags *f);
/* delete (docs/v2-launch.md, `delete`): clean up after the container, print a DeleteResponse. */
int v2_delete_main(const struct v2_flags *f);
/* start (docs/v2-launch.md, `start`): bind the group's socket, spawn the long-running shim. */
int v2_start_main(const struct v2_flags *f);
/* The long-running process (argv: v2_serve_argv). */
int v2_serve_main(const struct v2_flags *f);
/* Whether this build has the long-running Task v2 server (start refuses to run without it). */
bool v2_serve_available(void);
