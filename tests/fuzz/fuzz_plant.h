/* SPDX-License-Identifier: Apache-2.0 */
/* A crash planted on purpose: built with -DFUZZ_PLANT_CRASH (tests/fuzz/selftest.sh does it,
 * in its own build dir), a target traps on every input longer than one byte (libFuzzer starts an empty corpus with the one-byte "\n"). It proves that `make
 * test-fuzz` and `make fuzz` fail when a target crashes. Without the flag it is nothing. */
#pragma once

#ifdef FUZZ_PLANT_CRASH
#define FUZZ_PLANT(size)                                                                           \
	do {                                                                                       \
		if ((size) > 1)                                                                    \
			__builtin_trap();                                                          \
	} while (0)
#else
#define FUZZ_PLANT(size)                                                                           \
	do {                                                                                       \
	} while (0)
#endif
