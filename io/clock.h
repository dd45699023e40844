/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one clock for deadlines and orderings: CLOCK_MONOTONIC, which a wall-clock step (NTP, an
 * administrator's `date -s`) does not move. Wall-clock time is only for what is reported
 * (exited_at, log lines). A condvar that waits for a deadline must be made with
 * clock_cond_init(): pthread's default condvar measures its timeout on CLOCK_REALTIME, and a
 * monotonic deadline given to it is decades in the past.
 */
#pragma once

#include <pthread.h>
#include <stdint.h>
#include <time.h>

#define CLOCK_NS_PER_MS 1000000ULL
#define CLOCK_NS_PER_SEC 1000000000ULL

/* Nanoseconds on CLOCK_MONOTONIC. */
uint64_t clock_mono_ns(void);
/* The monotonic time ms milliseconds from now (ms <= 0: now). */
uint64_t clock_mono_after_ms(int ms);
/* A monotonic nanosecond count as an absolute timespec for clock_cond_timedwait(). */
struct timespec clock_mono_timespec(uint64_t ns);
/* Initializes a condvar whose timed waits measure CLOCK_MONOTONIC. Returns 0 or -errno. */
int clock_cond_init(pthread_cond_t *cv);
/* Waits on cv (made by clock_cond_init) until deadline_ns (CLOCK_MONOTONIC). Returns 0 when
 * woken (spurious wake-ups included: loop), -ETIMEDOUT at the deadline. */
int clock_cond_timedwait(pthread_cond_t *cv, pthread_mutex_t *mu, uint64_t deadline_ns);
