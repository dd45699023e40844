/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The floor any shim is held to: a bare AF_UNIX request/response between two processes, with
 * the very bytes of a State exchange. The client is the same load engine `rpc` uses (same
 * request frame, same response parsing); the server is a forked process that reads a frame
 * and writes back a canned ttrpc Response holding a StateResponse, nothing else.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "bench/load.h"

struct pingpong_params {
	double warmup_s, duration_s;
	const char *container_id;    /* sizes the request (NULL: a typical one) */
	const uint8_t *resp_payload; /* a real StateResponse (NULL: synthesized) */
	size_t resp_plen;
	int conns, streams;
	double rate;
};

int pingpong_run(const struct pingpong_params *p, struct load_result *r, size_t *req_len,
		 size_t *resp_len);
int cmd_pingpong(int argc, char **argv);
