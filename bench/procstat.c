/* SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "bench/procstat.h"
#include "bench/util.h"

static ssize_t read_small(const char *path, char *buf, size_t n)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t k;
	if (fd < 0)
		return -1;
	k = read(fd, buf, n - 1);
	close(fd);
	if (k < 0)
		return -1;
	buf[k] = '\0';
	return k;
}

struct proc_cpu proc_cpu(pid_t pid)
{
	struct proc_cpu c = { 0 };
	char path[64], buf[2048];
	long tck = sysconf(_SC_CLK_TCK);
	char *p;
	unsigned long long ut, st;
	long long cut, cst;
	DIR *d;

	xsnprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (read_small(path, buf, sizeof(buf)) <= 0)
		return c;
	p = strrchr(buf, ')');
	if (!p)
		return c;
	/* after ") ": state(3) ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt
	 * utime(14) stime cutime cstime */
	if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %lld %lld", &ut,
		   &st, &cut, &cst) != 4)
		return c;
	c.self_s = (double)(ut + st) / (double)tck;
	c.children_s = (double)(cut + cst) / (double)tck;
	c.ok = 1;
	xsnprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (d) {
		struct dirent *de;
		while ((de = readdir(d))) {
			char sp[128];
			unsigned long long run, wait;
			if (de->d_name[0] == '.')
				continue;
			xsnprintf(sp, sizeof(sp), "/proc/%d/task/%s/schedstat", (int)pid,
				  de->d_name);
			if (read_small(sp, buf, sizeof(buf)) > 0 &&
			    sscanf(buf, "%llu %llu", &run, &wait) == 2) {
				c.run_delay_ns += wait;
				if (c.ntids < PROC_CPU_TIDS) {
					c.tids[c.ntids].tid = (pid_t)atoi(de->d_name);
					c.tids[c.ntids++].run_delay_ns = wait;
				}
			}
		}
		closedir(d);
	}
	return c;
}

uint64_t proc_run_delay_between(const struct proc_cpu *a, const struct proc_cpu *b)
{
	uint64_t sum = 0;
	for (int i = 0; i < b->ntids; i++) {
		uint64_t before = 0;
		for (int j = 0; j < a->ntids; j++)
			if (a->tids[j].tid == b->tids[i].tid) {
				before = a->tids[j].run_delay_ns;
				break;
			}
		if (b->tids[i].run_delay_ns > before)
			sum += b->tids[i].run_delay_ns - before;
	}
	return sum;
}

double self_cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static long field_kb(const char *text, const char *key)
{
	const char *p = strstr(text, key);
	if (!p)
		return -1;
	p += strlen(key);
	return strtol(p, NULL, 10);
}

struct proc_mem proc_mem(pid_t pid)
{
	struct proc_mem m = { .pss_kb = -1,
			      .private_dirty_kb = -1,
			      .rss_kb = -1,
			      .vm_data_kb = -1,
			      .threads = -1,
			      .fds = -1 };
	char path[64], buf[8192];
	DIR *d;

	xsnprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)pid);
	if (read_small(path, buf, sizeof(buf)) > 0) {
		m.rss_kb = field_kb(buf, "\nRss:");
		m.pss_kb = field_kb(buf, "\nPss:");
		m.private_dirty_kb = field_kb(buf, "\nPrivate_Dirty:");
	}
	xsnprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (read_small(path, buf, sizeof(buf)) > 0) {
		m.threads = (int)field_kb(buf, "\nThreads:");
		m.vm_data_kb = field_kb(buf, "\nVmData:");
	}
	xsnprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	if (d) {
		struct dirent *de;
		m.fds = 0;
		while ((de = readdir(d)))
			if (de->d_name[0] != '.')
				m.fds++;
		closedir(d);
	}
	m.ok = m.pss_kb >= 0 && m.threads >= 0 && m.fds >= 0;
	return m;
}

struct sys_cpu sys_cpu(void)
{
	struct sys_cpu s = { 0 };
	char buf[512];
	unsigned long long v[10] = { 0 };
	if (read_small("/proc/stat", buf, sizeof(buf)) <= 0)
		return s;
	if (sscanf(buf, "cpu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1],
		   &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9]) < 8)
		return s;
	/* user nice system idle iowait irq softirq steal (guest counted in user) */
	for (int i = 0; i < 8; i++)
		s.total += v[i];
	s.busy = s.total - v[3] - v[4];
	return s;
}

double sys_cpu_busy(const struct sys_cpu *a, const struct sys_cpu *b)
{
	unsigned long long t = b->total - a->total;
	return t ? (double)(b->busy - a->busy) / (double)t : 0;
}
