/* SPDX-License-Identifier: Apache-2.0 */
/* An invariant of a fuzz target: when it does not hold, print what broke and abort (libFuzzer
 * keeps the input as crash-*). */
#pragma once

#include <stdio.h>
#include <stdlib.h>

#define FUZZ_CHECK(cond, ...)                                                                      \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "invariant broken: %s: ", #cond);                          \
			fprintf(stderr, __VA_ARGS__);                                              \
			fputc('\n', stderr);                                                       \
			abort();                                                                   \
		}                                                                                  \
	} while (0)
