/* SPDX-License-Identifier: Apache-2.0 */
/* NUL-separated strings as: the command line, rootfs mount options, a binary:// URI and a
 * stdio URI. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/logger.h"
#include "core/mount.h"
#include "io/stdio.h"
#include "server/flags.h"
#include "fuzz_plant.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size + 1), *argv[65], msg[256], dataopt[8192], buf[4096], scheme[16];
	struct shim_flags f;
	unsigned long flags;
	char *largv[64];
	int argc = 1;

	FUZZ_PLANT(size);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	argv[0] = (char *)"cshim";
	for (char *p = copy; p <= copy + size && argc < 64; p += strlen(p) + 1)
		argv[argc++] = p;
	argv[argc] = NULL;
	(void)flags_parse(argc, argv, &f, msg, sizeof(msg));
	(void)mount_parse_options(argv + 1, (size_t)(argc - 1), &flags, dataopt, sizeof(dataopt));
	(void)logger_parse_uri(copy, buf, sizeof(buf), largv, 64);
	(void)stdio_uri_scheme(copy, scheme, sizeof(scheme));
	free(copy);
	return 0;
}
