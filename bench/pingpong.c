/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench/pingpong.h"
#include "bench/report.h"
#include "bench/svg.h"
#include "bench/util.h"
#include "github.com/containerd/containerd/runtime/v1/shim/v1/shim.pb-c.h"
#include "google/protobuf/timestamp.pb-c.h"
#include "proto/ttrpc_codec.h"
#include "proto/ttrpc_frame.h"

/* Echo server: for every complete request frame, the canned response on its stream id. All
 * memory is allocated before fork. */
static void serve(int fd, uint8_t *rbuf, size_t rcap, uint8_t *resp, size_t resp_len)
{
	size_t have = 0;
	for (;;) {
		ssize_t k = read(fd, rbuf + have, rcap - have);
		size_t off = 0;
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			_exit(0);
		have += (size_t)k;
		while (have - off >= TTRPC_HDR_LEN) {
			struct ttrpc_hdr h;
			ttrpc_hdr_decode(rbuf + off, &h);
			if (TTRPC_HDR_LEN + (size_t)h.len > rcap)
				_exit(2);
			if (have - off < TTRPC_HDR_LEN + (size_t)h.len)
				break;
			memcpy(resp + 4, rbuf + off + 4, 4); /* stream id */
			for (size_t w = 0; w < resp_len;) {
				ssize_t n = write(fd, resp + w, resp_len - w);
				if (n < 0 && errno == EINTR)
					continue;
				if (n <= 0)
					_exit(0);
				w += (size_t)n;
			}
			off += TTRPC_HDR_LEN + h.len;
		}
		memmove(rbuf, rbuf + off, have - off);
		have -= off;
	}
}

static uint8_t *synth_state_response(const char *id, size_t *plen)
{
	Containerd__Runtime__Linux__Shim__V1__StateResponse r =
		CONTAINERD__RUNTIME__LINUX__SHIM__V1__STATE_RESPONSE__INIT;
	Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
	char bundle[128];
	uint8_t *buf;
	xsnprintf(bundle, sizeof(bundle), "/tmp/cshimit.AbCdEf/bench-%s/bundle", id);
	r.id = (char *)id;
	r.bundle = bundle;
	r.pid = 123456;
	r.status = CONTAINERD__V1__TYPES__STATUS__RUNNING;
	ts.seconds = -62135596800LL; /* Go's zero time, as every shim sends */
	r.exited_at = &ts;
	*plen = protobuf_c_message_get_packed_size(&r.base);
	buf = malloc(*plen);
	if (!buf)
		die("out of memory");
	protobuf_c_message_pack(&r.base, buf);
	return buf;
}

int pingpong_run(const struct pingpong_params *p, struct load_result *r, size_t *req_len,
		 size_t *resp_len)
{
	const char *id = p->container_id ? p->container_id : "it123456x1";
	uint8_t *payload = NULL, *resp = NULL, *rbuf;
	size_t plen = p->resp_plen, rlen = 0;
	struct load_spec s;
	int conns = p->conns > 0 ? p->conns : 1;
	int *fds = calloc((size_t)conns, sizeof(int));
	pid_t *pids = calloc((size_t)conns, sizeof(pid_t));
	int rc;

	if (!fds || !pids)
		die("out of memory");
	if (p->resp_payload) {
		payload = malloc(plen);
		if (!payload)
			die("out of memory");
		memcpy(payload, p->resp_payload, plen);
	} else {
		payload = synth_state_response(id, &plen);
	}
	if (ttrpc_response_frame(1, 0, NULL, payload, plen, &resp, &rlen) < 0)
		die("out of memory");
	rbuf = malloc(1 << 20);
	if (!rbuf)
		die("out of memory");
	for (int i = 0; i < conns; i++) {
		int sv[2];
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
			die("socketpair: %s", strerror(errno));
		pids[i] = fork();
		if (pids[i] < 0)
			die("fork: %s", strerror(errno));
		if (pids[i] == 0) {
			sigset_t none;
			sigemptyset(&none);
			sigprocmask(SIG_SETMASK, &none, NULL);
			close(sv[0]);
			serve(sv[1], rbuf, 1 << 20, resp, rlen);
		}
		close(sv[1]);
		fds[i] = sv[0];
	}

	load_spec_defaults(&s);
	s.fds = fds;
	s.server_pid = conns == 1 ? pids[0] : 0; /* one server process per connection */
	s.container_id = id;
	s.conns = conns;
	s.streams = p->streams > 0 ? p->streams : 1;
	s.warmup_s = p->warmup_s;
	s.duration_s = p->duration_s;
	s.rate = p->rate;
	s.label = "pingpong";
	rc = load_run(&s, r);
	if (conns > 1) /* CPU of all echo servers: sum after the fact is not possible; mark */
		r->shim_cpu_s = -1;

	for (int i = 0; i < conns; i++) {
		int st;
		close(fds[i]);
		while (waitpid(pids[i], &st, 0) < 0 && errno == EINTR)
			;
	}
	{
		/* sizes (data length, header excluded) for the record */
		uint8_t pl[256], *f = NULL;
		size_t n, fl = 0;
		Containerd__Runtime__Linux__Shim__V1__StateRequest q =
			CONTAINERD__RUNTIME__LINUX__SHIM__V1__STATE_REQUEST__INIT;
		q.id = (char *)id;
		n = protobuf_c_message_pack(&q.base, pl);
		if (ttrpc_request_frame(1, "containerd.runtime.linux.shim.v1.Shim", "State", pl, n,
					0, &f, &fl) == 0 &&
		    req_len)
			*req_len = fl - TTRPC_HDR_LEN;
		free(f);
		if (resp_len)
			*resp_len = rlen - TTRPC_HDR_LEN;
	}
	free(rbuf);
	free(resp);
	free(payload);
	free(fds);
	free(pids);
	return rc;
}

int cmd_pingpong(int argc, char **argv)
{
	struct pingpong_params p = { .warmup_s = 0.5, .duration_s = 2 };
	struct load_result r;
	const char *plot = NULL, *json_path = NULL;
	size_t ql = 0, sl = 0;
	json_t *j;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--duration"))
			p.duration_s = parse_double(a, v), i++;
		else if (!strcmp(a, "--warmup"))
			p.warmup_s = parse_double(a, v), i++;
		else if (!strcmp(a, "--conns"))
			p.conns = (int)parse_long(a, v), i++;
		else if (!strcmp(a, "--streams"))
			p.streams = (int)parse_long(a, v), i++;
		else if (!strcmp(a, "--rate"))
			p.rate = parse_double(a, v), i++;
		else if (!strcmp(a, "--plot"))
			plot = v, i++;
		else if (!strcmp(a, "--json"))
			json_path = v, i++;
		else
			die("pingpong: unknown option %s", a);
	}
	if (pingpong_run(&p, &r, &ql, &sl) < 0)
		die("pingpong failed");
	printf("pingpong: bare AF_UNIX request/response between two processes, State-sized "
	       "(request %zu bytes + 10, response %zu bytes + 10), %s, window %.1fs\n",
	       ql, sl, r.open_loop ? "open loop" : "closed loop", r.window_s);
	lr_table_header(stdout);
	lr_table_row(stdout, "pingpong", &r);
	j = lr_json("pingpong", &r);
	json_object_set_new(j, "request_bytes", json_integer((json_int_t)ql));
	json_object_set_new(j, "response_bytes", json_integer((json_int_t)sl));
	json_dumpf(j, stdout, JSON_COMPACT | JSON_REAL_PRECISION(6));
	putchar('\n');
	if (json_path)
		json_write_line(json_path, j);
	json_decref(j);
	if (plot) {
		struct svg_series s = { "pingpong", &r.all };
		if (svg_cdf(plot, "pingpong: State-sized AF_UNIX request/response", &s, 1) < 0)
			warnx_("writing %s failed", plot);
	}
	return lr_errors(&r) ? 1 : 0;
}
