/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
#include <stddef.h>
#include <stdint.h>
/* Decodes a ttrpc.Request and its payload as every method's request type. */
void fuzz_decode_request(const uint8_t *buf, size_t len);
/* Decodes buf as every Shim request message type. */
void fuzz_decode_payloads(const uint8_t *buf, size_t len);
