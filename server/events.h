/* SPDX-License-Identifier: Apache-2.0 */
/*
 * /tasks/exit, the only event a v1 shim publishes (spec §4): by running
 * `<containerd-binary> --address A publish --topic /tasks/exit --namespace NS` with the
 * Any-encoded TaskExit on stdin. The event is handed to the publisher (spawned, stdin
 * written and closed) before the caller returns, so a Wait answered afterwards cannot beat
 * it; a failed publish is retried a bounded number of times. An init's exit is the exception
 * to "closed": its stdin stays open until the earlier events are published (events.c).
 */
#pragma once

#include <stdint.h>
#include <time.h>

/* The strings are kept, not copied (the shim's flags, for its life). */
void events_setup(const char *containerd_binary, const char *address, const char *ns);
void events_publish_exit(const char *container_id, const char *id, uint32_t pid,
			 uint32_t exit_status, const struct timespec *exited_at);
/* Encodes the Any{TaskExit} bytes (pure, for tests). Returns the heap buffer. */
uint8_t *events_encode_exit(const char *container_id, const char *id, uint32_t pid,
			    uint32_t exit_status, const struct timespec *exited_at,
			    size_t *ret_len);
