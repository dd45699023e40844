/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "validate.h"

#define IDENTIFIER_MAX 76

bool validate_identifier(const char *id, char *msg, size_t msgsz)
{
	size_t n = strlen(id);
	bool prev_alnum = false;

	if (n == 0) {
		snprintf(msg, msgsz, "identifier must not be empty: invalid argument");
		return false;
	}
	if (n > IDENTIFIER_MAX) {
		snprintf(msg, msgsz,
			 "identifier \"%.*s...\" greater than maximum length (%d characters): invalid "
			 "argument",
			 32, id, IDENTIFIER_MAX);
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)id[i];
		if (isascii(c) && isalnum(c)) {
			prev_alnum = true;
		} else if ((c == '.' || c == '_' || c == '-') && prev_alnum && i + 1 < n) {
			prev_alnum = false;
		} else {
			snprintf(msg, msgsz,
				 "identifier \"%s\" must match pattern "
				 "^[A-Za-z0-9]+(?:[._-](?:[A-Za-z0-9]+))*$: invalid argument",
				 id);
			return false;
		}
	}
	return true;
}

bool validate_bundle(const char *bundle, const char *cwd, char *msg, size_t msgsz)
{
	char a[PATH_MAX], b[PATH_MAX];

	if (!bundle || bundle[0] != '/') {
		snprintf(msg, msgsz, "bundle path %s is not absolute: invalid argument",
			 bundle ? bundle : "");
		return false;
	}
	if (!realpath(bundle, a) || !realpath(cwd, b) || strcmp(a, b) != 0) {
		snprintf(msg, msgsz,
			 "bundle %s is not the shim's bundle %s: invalid argument", bundle, cwd);
		return false;
	}
	return true;
}
