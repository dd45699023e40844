/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/pathcheck.h"
#include "io/base.h"
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
		snprintf(
			msg, msgsz,
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
	_cleanup_free_ char *a = NULL, *b = NULL; /* two PATH_MAX buffers: not on the stack */

	if (!bundle || bundle[0] != '/') {
		snprintf(msg, msgsz, "bundle path %s is not absolute: invalid argument",
			 bundle ? bundle : "");
		return false;
	}
	a = realpath(bundle, NULL);
	b = a ? realpath(cwd, NULL) : NULL;
	if (!a || !b || strcmp(a, b) != 0) {
		snprintf(msg, msgsz, "bundle %s is not the shim's bundle %s: invalid argument",
			 bundle, cwd);
		return false;
	}
	return true;
}

/* The path as a double-quoted string for a message: printable ASCII as is, the rest escaped
 * (the status text must stay valid UTF-8), at most 200 bytes of it. */
static void quote_path(char *out, size_t outsz, const char *s, size_t wire_len)
{
	size_t n = strlen(s), o = 0;

	if (outsz < 16) {
		if (outsz)
			out[0] = '\0';
		return;
	}
	out[o++] = '"';
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (i == 200 || o + 12 >= outsz) {
			o += (size_t)snprintf(out + o, outsz - o, "...");
			break;
		}
		if (c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = (char)c;
		} else if (c >= 0x20 && c < 0x7f) {
			out[o++] = (char)c;
		} else {
			o += (size_t)snprintf(out + o, outsz - o, "\\x%02x", c);
		}
	}
	if (wire_len > n && n <= 200 && o + 12 < outsz)
		o += (size_t)snprintf(out + o, outsz - o, "\\x00...");
	out[o++] = '"';
	out[o] = '\0';
}

static bool path_refused(const char *field, const char *path, size_t wire_len, int r,
			 const char *why, char *msg, size_t msgsz)
{
	char q[256];

	quote_path(q, sizeof(q), path, wire_len);
	if (why)
		snprintf(msg, msgsz, "%s %s: %s: invalid argument", field, q, why);
	else
		snprintf(msg, msgsz, "%s %s: cannot be opened: %s: invalid argument", field, q,
			 strerror(-r));
	return false;
}

bool validate_request_path(const char *field, const char *path, size_t wire_len,
			   enum req_path_rule rule, char *msg, size_t msgsz)
{
	const char *why = NULL;
	int r = path_check_abs(path, wire_len, &why);

	if (r == 0)
		r = path_check_dir(path, rule == REQ_PATH_DIR_OR_LEAF, &why);
	if (r < 0)
		return path_refused(field, path, wire_len, r, why, msg, msgsz);
	return true;
}

bool validate_request_subpath(const char *field, const char *base, const char *rel, size_t wire_len,
			      char *msg, size_t msgsz)
{
	char joined[PATH_MAX];
	const char *why = NULL;
	int r = path_check_rel(rel, wire_len, &why);

	if (r == 0) {
		if ((size_t)snprintf(joined, sizeof(joined), "%s/%s", base, rel) >=
		    sizeof(joined)) {
			r = -ENAMETOOLONG;
			why = "is longer than PATH_MAX";
		} else {
			r = path_check_dir(joined, false, &why);
		}
	}
	if (r < 0)
		return path_refused(field, rel, wire_len, r, why, msg, msgsz);
	return true;
}

static bool read_varint(const uint8_t *b, size_t n, size_t *i, uint64_t *v)
{
	*v = 0;
	for (int shift = 0; shift < 64 && *i < n; shift += 7) {
		uint8_t c = b[(*i)++];
		*v |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80))
			return true;
	}
	return false;
}

size_t validate_wire_len(const uint8_t *buf, size_t len, uint32_t field, const char *s)
{
	size_t i = 0, found = SIZE_MAX;
	uint64_t key, v;

	if (!s)
		s = "";

	while (buf && i < len) {
		if (!read_varint(buf, len, &i, &key))
			return strlen(s);
		switch (key & 7) {
		case 0:
			if (!read_varint(buf, len, &i, &v))
				return strlen(s);
			break;
		case 1:
			if (len - i < 8)
				return strlen(s);
			i += 8;
			break;
		case 5:
			if (len - i < 4)
				return strlen(s);
			i += 4;
			break;
		case 2:
			if (!read_varint(buf, len, &i, &v) || v > len - i)
				return strlen(s);
			if ((key >> 3) == field)
				found = (size_t)v;
			i += (size_t)v;
			break;
		default: return strlen(s);
		}
	}
	return found == SIZE_MAX ? strlen(s) : found;
}

bool validate_utf8(const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	while (*p) {
		unsigned c = *p, n, min;
		uint32_t cp;
		if (c < 0x80) {
			p++;
			continue;
		}
		if ((c & 0xe0) == 0xc0)
			n = 1, cp = c & 0x1f, min = 0x80;
		else if ((c & 0xf0) == 0xe0)
			n = 2, cp = c & 0x0f, min = 0x800;
		else if ((c & 0xf8) == 0xf0)
			n = 3, cp = c & 0x07, min = 0x10000;
		else
			return false;
		for (unsigned i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		p += n + 1;
	}
	return true;
}
