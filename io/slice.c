/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "slice.h"

/* include/uapi/linux/sched/types.h (glibc < 2.41 has no wrapper) */
struct kernel_sched_attr {
	uint32_t size;
	uint32_t sched_policy;
	uint64_t sched_flags;
	int32_t sched_nice;
	uint32_t sched_priority;
	uint64_t sched_runtime;
	uint64_t sched_deadline;
	uint64_t sched_period;
	uint32_t sched_util_min;
	uint32_t sched_util_max;
};

int slice_set(uint64_t ns)
{
	struct kernel_sched_attr a = { 0 };

	if (syscall(SYS_sched_getattr, 0, &a, sizeof(a), 0) < 0)
		return -errno;
	if (a.sched_policy != SCHED_OTHER && a.sched_policy != SCHED_BATCH)
		return -EPERM;
	a.size = sizeof(a);
	a.sched_flags &= 0x01; /* SCHED_FLAG_RESET_ON_FORK stays as it was */
	a.sched_runtime = ns;
	if (syscall(SYS_sched_setattr, 0, &a, 0) < 0)
		return -errno;
	return 0;
}

void slice_reset(void)
{
	(void)slice_set(0);
}
