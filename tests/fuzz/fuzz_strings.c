/* SPDX-License-Identifier: Apache-2.0 */
/* The string checks of server/validate.c on a client string (the input up to its first NUL),
 * each against an independent reference:
 *   validate_utf8        glibc's mbrtowc in C.UTF-8 (which refuses overlong forms and
 *                        surrogates), plus Go's limit U+10FFFF (glibc decodes up to 0x7fffffff);
 *   validate_identifier  POSIX regexec of containerd's pattern
 *                        ^[A-Za-z0-9]+([._-][A-Za-z0-9]+)*$ and its 76-character limit. */
#include <locale.h>
#include <regex.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "fuzz_check.h"
#include "fuzz_plant.h"
#include "server/validate.h"

static locale_t utf8_loc;
static regex_t ident_re;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* The pattern is compiled in the C locale (single bytes), mbrtowc runs in C.UTF-8. */
	FUZZ_CHECK(regcomp(&ident_re, "^[A-Za-z0-9]+([._-][A-Za-z0-9]+)*$",
			   REG_EXTENDED | REG_NOSUB) == 0,
		   "regcomp");
	utf8_loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
	FUZZ_CHECK(utf8_loc != (locale_t)0, "the C.UTF-8 locale is missing");
	uselocale(utf8_loc);
	return 0;
}

static bool ref_utf8(const char *s)
{
	size_t n = strlen(s);
	mbstate_t st;

	memset(&st, 0, sizeof(st));
	while (n > 0) {
		wchar_t w;
		size_t k = mbrtowc(&w, s, n, &st);
		if (k == (size_t)-1 || k == (size_t)-2 || k == 0)
			return false;
		if ((uint32_t)w > 0x10ffff)
			return false;
		s += k;
		n -= k;
	}
	return true;
}

static bool ref_identifier(const char *s)
{
	return strlen(s) <= 76 && regexec(&ident_re, s, 0, NULL, 0) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), msg[512];
	bool got, want;

	FUZZ_PLANT(size);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';

	got = validate_utf8(s);
	want = ref_utf8(s);
	FUZZ_CHECK(got == want, "validate_utf8 says %d, mbrtowc says %d", got, want);

	msg[0] = '\0';
	got = validate_identifier(s, msg, sizeof(msg));
	want = ref_identifier(s);
	FUZZ_CHECK(got == want, "validate_identifier says %d, the regex says %d", got, want);
	FUZZ_CHECK(got || (strstr(msg, "identifier") && strstr(msg, ": invalid argument")),
		   "a refusal without containerd's message: \"%s\"", msg);
	free(s);
	return 0;
}
