/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>

#include "clock.h"

uint64_t clock_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * CLOCK_NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

uint64_t clock_mono_after_ms(int ms)
{
	return clock_mono_ns() + (ms > 0 ? (uint64_t)ms * CLOCK_NS_PER_MS : 0);
}

struct timespec clock_mono_timespec(uint64_t ns)
{
	return (struct timespec){ .tv_sec = (time_t)(ns / CLOCK_NS_PER_SEC),
				  .tv_nsec = (long)(ns % CLOCK_NS_PER_SEC) };
}

int clock_cond_init(pthread_cond_t *cv)
{
	pthread_condattr_t attr;
	int r = pthread_condattr_init(&attr);
	if (r)
		return -r;
	r = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	if (r == 0)
		r = pthread_cond_init(cv, &attr);
	pthread_condattr_destroy(&attr);
	return -r;
}

int clock_cond_timedwait(pthread_cond_t *cv, pthread_mutex_t *mu, uint64_t deadline_ns)
{
	struct timespec ts = clock_mono_timespec(deadline_ns);
	int r = pthread_cond_timedwait(cv, mu, &ts);
	return -r;
}
