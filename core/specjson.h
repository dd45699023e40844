/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Decoding of the runtime-spec JSON that requests carry (Exec's Process, Update's
 * LinuxResources) with jansson, reporting errors in Go's encoding/json words, as the Go shim
 * does: syntax errors ("invalid character 'x' looking for beginning of value", "unexpected end
 * of JSON input") and type errors of the top-level fields ("json: cannot unmarshal number
 * into Go struct field Process.args of type []string"). Pure, for tests and fuzzing.
 */
#pragma once

#include <jansson.h>
#include <stddef.h>

enum specjson_kind { SPECJSON_PROCESS, SPECJSON_RESOURCES };

/* Returns the decoded object (JSON null decodes to an empty object, as in Go), or NULL with
 * the error text in msg. */
json_t *specjson_decode(const char *buf, size_t len, enum specjson_kind kind, char *msg,
			size_t msgsz);
