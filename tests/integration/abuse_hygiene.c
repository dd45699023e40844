/* SPDX-License-Identifier: Apache-2.0 */
/* test_abuse's hygiene case (abuse.h): the fds, signal masks and scheduler slice of every
 * process the shim spawns, and the shim's own fds. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/slice.h"
#include "tests/integration/abuse.h"

/* ======================================================================================
 * Case: fd and signal hygiene of spawned processes
 * ====================================================================================== */

/* Checks one probe record (fdprobe.sh / publish-probe.sh format). script: the path dash
 * reads (its O_CLOEXEC fd is the one allowed extra). */
static void check_probe(struct tc *t, const char *what, const char *path, const char *script)
{
	char *txt = it_read_file(path, NULL);
	if (!CHECK(t, txt != NULL, "%s: no record %s", what, path))
		return;
	char *save = NULL;
	int script_fds = 0;
	char extra[400] = "", sig[128] = "";
	size_t el = 0;
	bool sig_ok = false;
	for (char *ln = strtok_r(txt, "\n", &save); ln; ln = strtok_r(NULL, "\n", &save)) {
		if (strncmp(ln, "SIG ", 4) == 0) {
			it_snprintf(sig, sizeof(sig), "%s", ln + 4);
			sig_ok = strstr(ln, "SigBlk:0000000000000000") &&
				 strstr(ln, "SigIgn:0000000000000000");
		} else if (strncmp(ln, "FD ", 3) == 0) {
			int n = -1;
			char flags[32] = "", tgt[PATH_MAX] = "";
			if (sscanf(ln + 3, "%d %31s %4095[^\n]", &n, flags, tgt) < 2)
				continue;
			if (n >= 0 && n <= 2)
				continue;
			unsigned long fv = strtoul(flags, NULL, 8);
			if (strcmp(tgt, script) == 0 && (fv & O_CLOEXEC)) {
				script_fds++;
				continue;
			}
			if (el + 8 < sizeof(extra))
				el += (size_t)snprintf(extra + el, sizeof(extra) - el,
						       " %d(%s)->%s", n, flags, tgt);
		}
	}
	CHECK(t, sig_ok, "%s: signal state not clean: %s", what, sig);
	CHECK(t, el == 0, "%s: inherited extra fds:%s", what, extra);
	CHECK(t, script_fds <= 1, "%s: %d fds on the script itself", what, script_fds);
	free(txt);
}

/* se.slice of a task (/proc/.../sched), -1 when the kernel does not show it. */
static long long sched_slice(const char *path)
{
	char *txt = it_read_file(path, NULL), *p;
	long long v = -1;
	if (txt && (p = strstr(txt, "se.slice")) && (p = strchr(p, ':')))
		v = strtoll(p + 1, NULL, 10);
	free(txt);
	return v;
}

static void check_live(struct tc *t, const char *what, pid_t pid)
{
	char desc[1024], blk[64] = "?", ign[64] = "?", sp[64];
	int extra = 0;
	int n = proc_fd_desc(pid, desc, sizeof(desc), &extra);
	long long slice, dflt = sched_slice("/proc/self/sched");
	proc_status(pid, "SigBlk", blk, sizeof(blk));
	proc_status(pid, "SigIgn", ign, sizeof(ign));
	CHECK(t, n >= 0 && extra == 0, "%s (pid %d): fds beyond 0-2: %s", what, (int)pid, desc);
	CHECK(t, strcmp(blk, "0000000000000000") == 0 && strcmp(ign, "0000000000000000") == 0,
	      "%s (pid %d): SigBlk %s SigIgn %s", what, (int)pid, blk, ign);
	/* not the shim loop thread's short slice (io/slice.h): the default, as this process has */
	it_snprintf(sp, sizeof(sp), "/proc/%d/sched", (int)pid);
	slice = sched_slice(sp);
	CHECK(t, dflt < 0 || slice == dflt,
	      "%s (pid %d): scheduler slice %lld ns, not the default %lld", what, (int)pid, slice,
	      dflt);
	obs(t, "%s: fds [%s] SigBlk %s SigIgn %s slice %lld ns", what, desc, blk, ign, slice);
}

void case_hygiene(struct tc *t)
{
	struct fx f = { 0 };
	int ofd = -1, xfd = -1, efd = -1, xefd = -1;
	char out[PATH_MAX], xout[PATH_MAX], err[PATH_MAX], xerr[PATH_MAX];
	char *msg = NULL;

	if (fx_launch(t, &f, "hyg", ARGV_SLEEP) < 0)
		goto out;
	/* The fake publisher becomes the recording one (same directory as events.log). */
	{
		char *src = it_read_file(wrapper("publish-probe.sh"), NULL);
		FILE *o = fopen(f.si.publisher, "we");
		if (!CHECK(t, src && o, "harness: publisher copy"))
			goto out_pub;
		fputs(src, o);
	out_pub:
		if (o)
			fclose(o);
		free(src);
		chmod(f.si.publisher, 0755);
	}
	const char *probe = wrapper("fdprobe.sh");
	if (mk_fifo(&f, "out", true, out, sizeof(out), &ofd) < 0 ||
	    mk_fifo(&f, "err", true, err, sizeof(err), &efd) < 0 ||
	    mk_fifo(&f, "xout", true, xout, sizeof(xout), &xfd) < 0 ||
	    mk_fifo(&f, "xerr", true, xerr, sizeof(xerr), &xefd) < 0) {
		CHECK(t, false, "harness: fifos: %s", strerror(errno));
		goto out;
	}
	int code = rpc_create(f.c, &f.si, probe, out, err, &f.init_pid, &msg, 20000);
	if (!CHECK(t, code == 0, "Create through fdprobe.sh: %d %s", code, msg ? msg : ""))
		goto out;
	free(msg);
	msg = NULL;
	code = it_start(f.c, f.si.id, NULL, &msg, 20000);
	if (!CHECK(t, code == 0, "Start through fdprobe.sh: %d %s", code, msg ? msg : ""))
		goto out;
	free(msg);
	msg = NULL;
	const char *xargv[] = { "/bin/sleep", "999", NULL };
	code = rpc_exec(f.c, "px", xargv, xout, xerr, &msg, 10000);
	free(msg);
	msg = NULL;
	uint32_t xpid = 0;
	if (CHECK(t, code == 0, "Exec: %d", code))
		code = it_start(f.c, "px", &xpid, NULL, 20000);
	CHECK(t, code == 0 && xpid > 0, "exec Start: %d", code);
	sleep_ms(200);
	check_live(t, "container init (sleep)", (pid_t)f.init_pid);
	if (xpid)
		check_live(t, "exec process (sleep)", (pid_t)xpid);
	if (t->is_c) {
		/* the loop thread (the main one) asks for the shortest slice, where the kernel has
		 * them (EEVDF custom slices, 6.12+) */
		char sp[64];
		long long loop;
		bool can = slice_set(SLICE_MIN_NS) == 0 &&
			   sched_slice("/proc/thread-self/sched") == (long long)SLICE_MIN_NS;
		(void)slice_set(0);
		it_snprintf(sp, sizeof(sp), "/proc/%d/task/%d/sched", (int)f.si.pid, (int)f.si.pid);
		loop = sched_slice(sp);
		CHECK(t, !can || loop == (long long)SLICE_MIN_NS, "shim loop thread: slice %lld ns",
		      loop);
		obs(t, "shim loop thread: scheduler slice %lld ns (custom slices here: %s)", loop,
		    can ? "yes" : "no");
	}

	/* The shim's own fds: every one above 2 must be O_CLOEXEC. */
	{
		char dp[64], fp[96], tgt[PATH_MAX], line[128], bad[400] = "";
		size_t bl = 0;
		int total = 0;
		it_snprintf(dp, sizeof(dp), "/proc/%d/fd", (int)f.si.pid);
		DIR *d = opendir(dp);
		struct dirent *de;
		while (d && (de = readdir(d))) {
			int n = atoi(de->d_name);
			if (de->d_name[0] == '.' || n <= 2)
				continue;
			it_snprintf(fp, sizeof(fp), "/proc/%d/fdinfo/%d", (int)f.si.pid, n);
			FILE *fi = fopen(fp, "re");
			unsigned long fv = 0;
			while (fi && fgets(line, sizeof(line), fi))
				if (strncmp(line, "flags:", 6) == 0)
					fv = strtoul(line + 6, NULL, 8);
			if (fi)
				fclose(fi);
			else
				continue;
			total++;
			if (!(fv & O_CLOEXEC)) {
				it_snprintf(fp, sizeof(fp), "%s/%d", dp, n);
				ssize_t k = readlink(fp, tgt, sizeof(tgt) - 1);
				tgt[k > 0 ? k : 0] = '\0';
				if (bl + 8 < sizeof(bad))
					bl += (size_t)snprintf(bad + bl, sizeof(bad) - bl,
							       " %d->%s", n, tgt);
			}
		}
		if (d)
			closedir(d);
		CHECK(t, bl == 0, "shim fds without O_CLOEXEC:%s", bad);
		obs(t, "shim holds %d fds above 2; without O_CLOEXEC:%s", total,
		    bl ? bad : " none");
	}

	/* Exit -> TaskExit through the recording publisher; then Delete (runc delete). */
	code = it_kill(f.c, f.si.id, SIGKILL, false, NULL, 5000);
	uint32_t es = 0;
	int wrc = it_wait(f.c, f.si.id, &es, NULL, 5000);
	CHECK(t, code == 0 && wrc == 0 && es == 137, "Kill/Wait: %d %d %u", code, wrc, es);
	(void)it_wait(f.c, "px", NULL, NULL, 5000);
	(void)it_delete_process(f.c, "px", NULL, 10000);
	int nev = pub_events_wait(&f.si, 1, 5000);
	CHECK(t, nev >= 1, "no TaskExit published (%d)", nev);
	code = rpc_delete(f.c, NULL, NULL, 10000);
	CHECK(t, code == 0, "Delete: %d", code);

	/* Every record. */
	char subs[256] = "";
	size_t sl = 0;
	int nrec = 0, npub = 0;
	for (int pass = 0; pass < 2; pass++) {
		const char *dir = pass == 0 ? f.si.bundle : f.si.dir;
		const char *pfx = pass == 0 ? "probe." : "pubprobe.";
		DIR *d = opendir(dir);
		struct dirent *de;
		while (d && (de = readdir(d))) {
			char p[PATH_MAX + 300], what[96];
			if (strncmp(de->d_name, pfx, strlen(pfx)) != 0 ||
			    strstr(de->d_name, ".tmp"))
				continue;
			it_snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
			if (pass == 0) {
				char sub[48] = "";
				sscanf(de->d_name + 6, "%47[^.]", sub);
				it_snprintf(what, sizeof(what), "runtime '%s'", sub);
				if (sl + 50 < sizeof(subs))
					sl += (size_t)snprintf(subs + sl, sizeof(subs) - sl, "%s%s",
							       sl ? "," : "", sub);
				check_probe(t, what, p, probe);
				nrec++;
			} else {
				it_snprintf(what, sizeof(what), "publisher");
				check_probe(t, what, p, f.si.publisher);
				npub++;
			}
		}
		if (d)
			closedir(d);
	}
	CHECK(t, nrec >= 3, "only %d runtime invocations recorded (%s)", nrec, subs);
	CHECK(t, npub >= 1, "no publisher record");
	obs(t, "checked %d runtime invocations (%s) and %d publisher runs", nrec, subs, npub);
	if (nrec > 0) {
		/* show one record verbatim, for the report */
		DIR *d = opendir(f.si.bundle);
		struct dirent *de;
		while (d && (de = readdir(d))) {
			if (strncmp(de->d_name, "probe.create.", 13) == 0) {
				char p[PATH_MAX + 300];
				it_snprintf(p, sizeof(p), "%s/%s", f.si.bundle, de->d_name);
				char *txt = it_read_file(p, NULL);
				for (char *q = txt; q && *q; q++)
					if (*q == '\n')
						*q = '|';
				obs(t, "runtime create record: %.480s", txt ? txt : "");
				free(txt);
				break;
			}
		}
		if (d)
			closedir(d);
	}
out:
	free(msg);
	if (ofd >= 0)
		close(ofd);
	if (xfd >= 0)
		close(xfd);
	if (efd >= 0)
		close(efd);
	if (xefd >= 0)
		close(xefd);
	fx_free(&f);
}
