/* SPDX-License-Identifier: Apache-2.0 */
/* What /proc says about a process: CPU time, scheduler wait, memory, threads, fds. */
#pragma once

#include <stdint.h>
#include <sys/types.h>

#define PROC_CPU_TIDS 64

struct proc_cpu {
	double self_s;         /* utime + stime of the process (all its threads) */
	double children_s;     /* cutime + cstime: reaped children (runc, publishers) */
	uint64_t run_delay_ns; /* sum over live threads of time spent runnable, not running */
	int ntids;             /* the first PROC_CPU_TIDS live threads, each with its delay */
	struct {
		pid_t tid;
		uint64_t run_delay_ns;
	} tids[PROC_CPU_TIDS];
	int ok;
};

struct proc_mem {
	long pss_kb, private_dirty_kb, rss_kb;
	long vm_data_kb; /* private writable address space: what vm.overcommit_memory=2 charges */
	int threads, fds;
	int ok;
};

/* /proc/PID/stat fields 14-17 and /proc/PID/task/ * /schedstat. */
struct proc_cpu proc_cpu(pid_t pid);
/* Run delay of the process between two snapshots, thread by thread: a thread that started in
 * between counts whole, one that ended in between is lost (so it never goes negative, as a
 * difference of sums over the live threads would). */
uint64_t proc_run_delay_between(const struct proc_cpu *a, const struct proc_cpu *b);
/* The caller itself: getrusage(RUSAGE_SELF). */
double self_cpu_s(void);
/* /proc/PID/smaps_rollup (Pss, Private_Dirty, Rss), /proc/PID/status (Threads, VmData),
 * /proc/PID/fd. */
struct proc_mem proc_mem(pid_t pid);

/* System-wide CPU from /proc/stat: busy and total jiffies (all CPUs). */
struct sys_cpu {
	unsigned long long busy, total;
};
struct sys_cpu sys_cpu(void);
/* Busy fraction (0..1) between two snapshots. */
double sys_cpu_busy(const struct sys_cpu *a, const struct sys_cpu *b);
