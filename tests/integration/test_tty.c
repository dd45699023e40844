/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Terminal exec against both shims: output through the pty, and the end of stdin (CloseIO,
 * then the client closing its writer) shutting the console down, so that a process reading
 * its terminal sees the hangup and exits (docs/v1-protocol.md §5.3).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "itutil.h"

/* Reads the FIFO until `want` shows up or timeout_ms passes. */
static bool read_until(int fd, const char *want, int timeout_ms, char *buf, size_t bufsz)
{
	size_t len = 0;
	long end = it_now_ms() + timeout_ms;

	buf[0] = '\0';
	while (it_now_ms() < end) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 100) > 0) {
			ssize_t n = read(fd, buf + len, bufsz - 1 - len);
			if (n > 0) {
				len += (size_t)n;
				buf[len] = '\0';
				if (strstr(buf, want))
					return true;
			}
		}
	}
	return false;
}

static void run_tty(bool is_c)
{
	const char *init_argv[] = { "/bin/sleep", "100", NULL };
	const char *cat_argv[] = { "/bin/cat", NULL };
	char in[512], out[512], err[512], buf[4096], *msg = NULL, *json;
	ExecReq req = CONTAINERD__RUNTIME__LINUX__SHIM__V1__EXEC_PROCESS_REQUEST__INIT;
	Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
	CloseIOReq creq = CONTAINERD__RUNTIME__LINUX__SHIM__V1__CLOSE_IOREQUEST__INIT;
	struct it_fx f;
	const char *e;
	int outfd = -1, errfd = -1, infd = -1, code;
	uint32_t status = 0;
	long t0;

	e = it_fx_launch(&f, is_c, "tty", init_argv);
	assert_null(e);
	assert_int_equal(it_create(&f, &msg), 0);
	free(msg);
	assert_int_equal(it_start(f.c, f.si.id, NULL, &msg, 15000), 0);
	free(msg);

	snprintf(in, sizeof(in), "%s/tty-in", it_root());
	snprintf(out, sizeof(out), "%s/tty-out", it_root());
	snprintf(err, sizeof(err), "%s/tty-err", it_root());
	unlink(in);
	unlink(out);
	unlink(err);
	assert_int_equal(mkfifo(in, 0700), 0);
	assert_int_equal(mkfifo(out, 0700), 0);
	assert_int_equal(mkfifo(err, 0700), 0);
	/* The client's ends, as containerd's cio opens them. */
	outfd = open(out, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	errfd = open(err, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	assert_true(outfd >= 0 && errfd >= 0);

	json = it_process_json(cat_argv);
	req.id = "tty1";
	req.terminal = true;
	req.stdin = in;
	req.stdout = out;
	req.stderr = err;
	any.type_url = IT_PROCESS_TYPE_URL;
	any.value.data = (uint8_t *)json;
	any.value.len = strlen(json);
	req.spec = &any;
	code = it_call(f.c, "Exec", &req, D_EMPTY, NULL, &msg, 10000);
	assert_int_equal(code, 0);
	free(msg);
	/* The stdin writer opens once the shim holds the FIFO's read side (in Start). */
	assert_int_equal(it_start(f.c, "tty1", NULL, &msg, 15000), 0);
	free(msg);
	infd = open(in, O_WRONLY | O_CLOEXEC);
	assert_true(infd >= 0);
	assert_int_equal(write(infd, "ping-tty\n", 9), 9);
	/* The pty echoes the line, then cat prints it: \r\n line endings. */
	assert_true(read_until(outfd, "ping-tty\r\nping-tty\r\n", 5000, buf, sizeof(buf)));

	/* End of stdin: CloseIO drops the shim's keep-alive writer, then the client closes
	 * its own: the console is shut down and cat, reading a hung-up terminal, ends. */
	creq.id = "tty1";
	creq.stdin = true;
	assert_int_equal(it_call(f.c, "CloseIO", &creq, D_EMPTY, NULL, NULL, 5000), 0);
	close(infd);
	t0 = it_now_ms();
	code = it_wait(f.c, "tty1", &status, &msg, 8000);
	printf("[%s] tty exec after stdin EOF: Wait code %d status %u after %ld ms\n",
	       is_c ? "cshim" : "go", code, status, it_now_ms() - t0);
	assert_int_equal(code, 0);
	free(msg);

	(void)it_kill(f.c, f.si.id, 9, false, NULL, 5000);
	(void)it_wait(f.c, f.si.id, NULL, NULL, 5000);
	free(json);
	close(outfd);
	close(errfd);
	it_fx_free(&f);
}

static void test_tty_c(void **state)
{
	(void)state;
	run_tty(true);
}

/* The same run against the Go shim: the reference (the setup of test_tty_c, never a pass). */
static int reference_tty_go(void **state)
{
	(void)state;
	run_tty(false);
	print_message("[ REFERENCE ] tty: the Go shim's run observed\n");
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_tty_c, reference_tty_go),
	};
	it_require_cshim("test_tty", it_c_shim());
	int r = cmocka_run_group_tests_name("tty", tests, NULL, NULL);
	it_root_remove();
	return r;
}
