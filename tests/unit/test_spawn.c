/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for core/spawn.h, with /bin/sh as the child (no reaper here: the test reaps its
 * children through their pidfds). What a spawned process gets: exactly fds[i] as fd i (-1:
 * /dev/null) and no other fd, even one the parent leaked without CLOEXEC; an empty signal mask
 * and default dispositions, whatever the spawning thread had; the working directory asked for.
 * Exec failures come back as -errno; the pidfd is CLOEXEC and is the child's; PATH lookup;
 * NOTIFY_SOCKET is not passed on. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/spawn.h"

static char *const env[] = { "PATH=/usr/bin:/bin", "LC_ALL=C", NULL };

/* Runs path with stdout captured; returns its exit status and the output. */
static int run_prog(const char *path, char *const *argv, const char *cwd, char *out, size_t outsz)
{
	int p[2], fds[3], pidfd = -1, r;
	struct spawn_opts o = {
		.path = path, .argv = argv, .envp = env, .fds = fds, .nfds = 3, .cwd = cwd
	};
	siginfo_t si = { 0 };
	size_t len = 0;
	ssize_t n;
	pid_t pid;

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	fds[0] = -1;
	fds[1] = p[1];
	fds[2] = 2;
	r = spawn_process(&o, &pid, &pidfd);
	close(p[1]);
	assert_int_equal(r, 0);
	assert_true(pid > 0);
	assert_true(fcntl(pidfd, F_GETFD) & FD_CLOEXEC);
	while (len + 1 < outsz && (n = read(p[0], out + len, outsz - len - 1)) > 0)
		len += (size_t)n;
	out[len] = '\0';
	close(p[0]);
	assert_int_equal(waitid(P_PIDFD, (id_t)pidfd, &si, WEXITED), 0);
	assert_int_equal(si.si_pid, pid);
	close(pidfd);
	return si.si_code == CLD_EXITED ? si.si_status : 128 + si.si_status;
}

static int run_sh(const char *script, const char *cwd, char *out, size_t outsz)
{
	char *const argv[] = { "sh", "-c", (char *)script, NULL };
	return run_prog("/bin/sh", argv, cwd, out, outsz);
}

static void test_fds_exactly(void **state)
{
	(void)state;
	char out[512];
	/* leaked on purpose: not CLOEXEC, above the child's range */
	int leak = fcntl(0, F_DUPFD, 20);

	assert_true(leak >= 20);
	/* ls runs as a child of sh and lists sh's fds */
	assert_int_equal(run_sh("ls /proc/$$/fd; readlink /proc/$$/fd/0", NULL, out, sizeof(out)),
			 0);
	close(leak);
	assert_string_equal(out, "0\n1\n2\n/dev/null\n");
}

static void test_signals_reset(void **state)
{
	(void)state;
	sigset_t set, old;
	struct sigaction ign = { .sa_handler = SIG_IGN }, old_pipe, old_hup;
	char out[512];

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	assert_int_equal(pthread_sigmask(SIG_BLOCK, &set, &old), 0);
	assert_int_equal(sigaction(SIGPIPE, &ign, &old_pipe), 0);
	assert_int_equal(sigaction(SIGHUP, &ign, &old_hup), 0);
	/* grep itself, not a shell (dash clears its signal mask at start-up) */
	char *const argv[] = { "grep", "-E", "^Sig(Blk|Ign)", "/proc/self/status", NULL };
	assert_int_equal(run_prog("/bin/grep", argv, NULL, out, sizeof(out)), 0);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	sigaction(SIGPIPE, &old_pipe, NULL);
	sigaction(SIGHUP, &old_hup, NULL);
	assert_string_equal(out, "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n");
}

static void test_cwd(void **state)
{
	(void)state;
	char out[512];
	assert_int_equal(run_sh("pwd", "/usr", out, sizeof(out)), 0);
	assert_string_equal(out, "/usr\n");
	assert_int_equal(run_sh("pwd", "/", out, sizeof(out)), 0);
	assert_string_equal(out, "/\n");
	assert_int_equal(run_sh("exit 7", NULL, out, sizeof(out)), 7);
	assert_int_equal(run_sh("kill -9 $$", NULL, out, sizeof(out)), 137);
}

static int spawn_simple(const char *path, const char *cwd, int nfds)
{
	char *const argv[] = { (char *)path, NULL };
	int fds[17];
	struct spawn_opts o = {
		.path = path, .argv = argv, .envp = env, .fds = fds, .nfds = nfds, .cwd = cwd
	};
	pid_t pid = -1;
	int pidfd = -1, r;

	for (int i = 0; i < 17; i++)
		fds[i] = -1;
	r = spawn_process(&o, &pid, &pidfd);
	if (r == 0) {
		siginfo_t si;
		(void)waitid(P_PIDFD, (id_t)pidfd, &si, WEXITED);
		close(pidfd);
	} else {
		/* the failed child exits 127: reap it (any child of ours is it) */
		siginfo_t si;
		(void)waitid(P_ALL, 0, &si, WEXITED);
	}
	return r;
}

static void test_exec_failures(void **state)
{
	(void)state;
	char dir[] = "/tmp/cshim-test-spawn-XXXXXX", file[64];
	int fd;

	assert_int_equal(spawn_simple("/nonexistent/prog", NULL, 3), -ENOENT);
	assert_non_null(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/noexec", dir);
	fd = open(file, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	close(fd);
	/* root may exec nothing without an x bit either */
	assert_int_equal(spawn_simple(file, NULL, 3), -EACCES);
	assert_int_equal(spawn_simple("/bin/true", "/nonexistent-dir", 3), -ENOENT);
	assert_int_equal(spawn_simple("/bin/true", NULL, 17), -EINVAL);
	assert_int_equal(spawn_simple("/bin/true", NULL, 16), 0);
	unlink(file);
	rmdir(dir);
}

static void test_find_program(void **state)
{
	(void)state;
	char buf[4096];
	struct stat st;

	assert_int_equal(spawn_find_program("sh", buf, sizeof(buf)), 0);
	assert_int_equal(stat(buf, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(spawn_find_program("./rel/prog", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "./rel/prog");
	assert_int_equal(spawn_find_program("cshim-no-such-program", buf, sizeof(buf)), -ENOENT);
	assert_int_equal(spawn_find_program("", buf, sizeof(buf)), -ENOENT);
}

static void test_child_env(void **state)
{
	(void)state;
	bool seen_path = false;

	assert_int_equal(setenv("NOTIFY_SOCKET", "/run/notify", 1), 0);
	assert_int_equal(setenv("CSHIM_SPAWN_TEST", "1", 1), 0);
	assert_int_equal(spawn_init_env(), 0);
	for (char *const *e = spawn_child_env(); *e; e++) {
		assert_true(strncmp(*e, "NOTIFY_SOCKET=", 14) != 0);
		if (strcmp(*e, "CSHIM_SPAWN_TEST=1") == 0)
			seen_path = true;
	}
	assert_true(seen_path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fds_exactly),  cmocka_unit_test(test_signals_reset),
		cmocka_unit_test(test_cwd),          cmocka_unit_test(test_exec_failures),
		cmocka_unit_test(test_find_program), cmocka_unit_test(test_child_env),
	};
	return cmocka_run_group_tests_name("spawn", tests, NULL, NULL);
}
