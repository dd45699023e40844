/* SPDX-License-Identifier: Apache-2.0 */
/* Checks of what a request names, before anything acts on it. Pure, for tests. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* containerd's identifier rules (pkg/identifiers): ^[A-Za-z0-9]+([._-][A-Za-z0-9]+)*$, at most
 * 76 characters. Returns true, or false with containerd's message in msg. */
bool validate_identifier(const char *id, char *msg, size_t msgsz);
/* The v1 contract: the bundle of Create is the shim's working directory (compared after
 * resolving both). */
bool validate_bundle(const char *bundle, const char *cwd, char *msg, size_t msgsz);

/* How a path named by a request must resolve (core/pathcheck.h). */
enum req_path_rule {
	REQ_PATH_DIR,         /* an existing directory */
	REQ_PATH_DIR_OR_LEAF, /* that, or a missing last component under one (runc makes it) */
};

/* A path field of a request (checkpoint image and CRIU work dirs): absolute, no "." or ".."
 * component, no "//", no NUL or control character, shorter than PATH_MAX, and resolved
 * without a symlink in any component as rule says. wire_len is the field's length on the wire
 * (validate_wire_len). Returns true, or false with
 * `<field> "<path>": <reason>: invalid argument` in msg. */
bool validate_request_path(const char *field, const char *path, size_t wire_len,
			   enum req_path_rule rule, char *msg, size_t msgsz);

/* A relative path field resolved beneath an already validated directory base
 * (parent_checkpoint beneath the checkpoint image dir, as runc joins them): relative, clean,
 * and base/rel an existing directory without symlinks. Same message format. */
bool validate_request_subpath(const char *field, const char *base, const char *rel, size_t wire_len,
			      char *msg, size_t msgsz);

/* The length on the wire of string field `field` at the top level of the protobuf message in
 * buf (its last occurrence, which is the one protobuf-c keeps), or strlen(s) when the field is
 * absent or buf does not parse. Larger than strlen(s) when the client sent a NUL in it. Pure. */
size_t validate_wire_len(const uint8_t *buf, size_t len, uint32_t field, const char *s);

/* Go's utf8.Valid on a C string (NULL is ""): the Go decoder rejects proto3 strings that are
 * not UTF-8. Refused: a byte that starts no sequence, a missing continuation byte, an overlong
 * form, a surrogate (U+D800..U+DFFF), anything above U+10FFFF. Pure. */
bool validate_utf8(const char *s);
