/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base.h"
#include "pathjoin.h"

/* Go's lexical rules: collapse slashes, drop ".", let ".." eat the previous element (never
 * the root; kept when a relative path has nothing left to eat), no trailing slash. */
static size_t clean_into(const char *p, size_t n, char *out)
{
	bool rooted = n > 0 && p[0] == '/';
	size_t r = 0, w = 0, dotdot = 0;

	if (rooted) {
		out[w++] = '/';
		r = dotdot = 1;
	}
	while (r < n) {
		if (p[r] == '/') {
			r++;
		} else if (p[r] == '.' && (r + 1 == n || p[r + 1] == '/')) {
			r++;
		} else if (p[r] == '.' && p[r + 1] == '.' && (r + 2 == n || p[r + 2] == '/')) {
			r += 2;
			if (w > dotdot) {
				w--;
				while (w > dotdot && out[w] != '/')
					w--;
			} else if (!rooted) {
				if (w > 0)
					out[w++] = '/';
				out[w++] = '.';
				out[w++] = '.';
				dotdot = w;
			}
		} else {
			if ((rooted && w != 1) || (!rooted && w != 0))
				out[w++] = '/';
			for (; r < n && p[r] != '/'; r++)
				out[w++] = p[r];
		}
	}
	if (w == 0)
		out[w++] = '.';
	return w;
}

int path_clean(const char *path, char *buf, size_t bufsz)
{
	size_t n = strlen(path), w;
	/* The result is never longer than the input, or "." for an empty one. */
	_cleanup_free_ char *tmp = malloc(n + 2);

	if (!tmp)
		return -ENOMEM;
	w = clean_into(path, n, tmp);
	if (w + 1 > bufsz)
		return -ENAMETOOLONG;
	memcpy(buf, tmp, w);
	buf[w] = '\0';
	return (int)w;
}

int path_join(const char *const *parts, size_t nparts, char *buf, size_t bufsz)
{
	_cleanup_free_ char *joined = NULL;
	size_t len = 0, w = 0;

	for (size_t i = 0; i < nparts; i++)
		len += strlen(parts[i]) + 1;
	joined = malloc(len + 1);
	if (!joined)
		return -ENOMEM;
	for (size_t i = 0; i < nparts; i++) {
		size_t l = strlen(parts[i]);
		if (l == 0)
			continue;
		if (w > 0)
			joined[w++] = '/';
		memcpy(joined + w, parts[i], l);
		w += l;
	}
	joined[w] = '\0';
	if (w == 0) {
		if (bufsz < 1)
			return -ENAMETOOLONG;
		buf[0] = '\0';
		return 0;
	}
	return path_clean(joined, buf, bufsz);
}
