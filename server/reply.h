/* SPDX-License-Identifier: Apache-2.0 */
/* Answers shared by the v1 and v2 services (service.c). */
#pragma once

#include <protobuf-c/protobuf-c.h>
#include <time.h>

#include "dispatch.h"
#include "google/protobuf/timestamp.pb-c.h"

/* Packs msg (NULL: empty) and answers the call with it. */
void reply_msg(struct call *call, const ProtobufCMessage *msg);
/* A Timestamp of t; zero is Go's zero time (year 1), never 1970. */
void set_ts(Google__Protobuf__Timestamp *ts, const struct timespec *t);
