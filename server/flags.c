/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "flags.h"
#include "io/base.h"

#define S(field) offsetof(struct shim_flags, field)
static const struct flag_def v1_defs[] = {
	{ "namespace", false, S(ns), "namespace that owns the shim" },
	{ "workdir", false, S(workdir), "path used to store large temporary data" },
	{ "address", false, S(address), "grpc address back to main containerd" },
	{ "containerd-binary", false, S(containerd_binary),
	  "path to containerd binary (used for `containerd publish`)" },
	{ "runtime-root", false, S(runtime_root), "root directory for the runtime" },
	{ "criu", false, S(criu), "path to criu binary" },
	{ "criu-path", false, S(criu), "path to criu binary (as containerd 1.6 passes it)" },
	{ "socket", false, S(socket),
	  "socket path to serve (unix://PATH; default: the listener on fd 3)" },
	{ "systemd-cgroup", true, S(systemd_cgroup), "set runtime to use systemd-cgroup" },
	{ "debug", true, S(debug), "enable debug output in logs" },
	{ "version", true, S(version), "print the version and exit" },
};

static void set_defaults(struct shim_flags *f)
{
	memset(f, 0, sizeof(*f));
	f->ns = "";
	f->workdir = "";
	f->address = "";
	f->containerd_binary = "containerd";
	f->runtime_root = "/run/containerd/runc";
	f->criu = "";
	f->socket = "";
}

static int parse_bool(const char *v, bool *out)
{
	static const char *const t[] = { "1", "t", "T", "true", "TRUE", "True" };
	static const char *const fl[] = { "0", "f", "F", "false", "FALSE", "False" };
	for (size_t i = 0; i < ARRAY_SIZE(t); i++)
		if (strcmp(v, t[i]) == 0)
			return *out = true, 0;
	for (size_t i = 0; i < ARRAY_SIZE(fl); i++)
		if (strcmp(v, fl[i]) == 0)
			return *out = false, 0;
	return -1;
}

enum flags_result flags_parse_defs(const struct flag_def *defs, size_t ndefs, void *out, int argc,
				   char *const *argv, int *ret_args, bool *ret_help, char *msg,
				   size_t msgsz)
{
	int i;

	msg[0] = '\0';
	*ret_help = false;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *name, *eq;
		const struct flag_def *d = NULL;
		size_t nlen;

		if (a[0] != '-' || a[1] == '\0')
			break; /* first non-flag argument */
		name = a + 1;
		if (name[0] == '-') {
			name++;
			if (name[0] == '\0') {
				i++;
				break; /* "--" ends the flags */
			}
		}
		if (name[0] == '-' || name[0] == '=') {
			snprintf(msg, msgsz, "bad flag syntax: %s", a);
			return FLAGS_USAGE_ERROR;
		}
		eq = strchr(name, '=');
		nlen = eq ? (size_t)(eq - name) : strlen(name);
		if ((nlen == 1 && name[0] == 'h') || (nlen == 4 && strncmp(name, "help", 4) == 0)) {
			*ret_help = true;
			return FLAGS_EXIT_OK;
		}
		for (size_t k = 0; k < ndefs; k++) {
			if (strlen(defs[k].name) == nlen &&
			    strncmp(defs[k].name, name, nlen) == 0) {
				d = &defs[k];
				break;
			}
		}
		if (!d) {
			snprintf(msg, msgsz, "flag provided but not defined: -%.*s", (int)nlen,
				 name);
			return FLAGS_USAGE_ERROR;
		}
		if (d->is_bool) {
			bool *b = (bool *)((char *)out + d->off);
			if (eq) {
				if (parse_bool(eq + 1, b) < 0) {
					snprintf(
						msg, msgsz,
						"invalid boolean value \"%s\" for -%s: parse error",
						eq + 1, d->name);
					return FLAGS_USAGE_ERROR;
				}
			} else {
				*b = true;
			}
		} else {
			const char **s = (const char **)((char *)out + d->off);
			if (eq) {
				*s = eq + 1;
			} else if (i + 1 < argc) {
				*s = argv[++i];
			} else {
				snprintf(msg, msgsz, "flag needs an argument: -%s", d->name);
				return FLAGS_USAGE_ERROR;
			}
		}
	}
	*ret_args = i;
	return FLAGS_OK;
}

enum flags_result flags_parse(int argc, char *const *argv, struct shim_flags *f, char *msg,
			      size_t msgsz)
{
	enum flags_result r;
	int args;

	set_defaults(f);
	r = flags_parse_defs(v1_defs, ARRAY_SIZE(v1_defs), f, argc, argv, &args, &f->help, msg,
			     msgsz);
	if (r != FLAGS_OK)
		return r;
	if (f->version)
		return FLAGS_EXIT_OK;
	return FLAGS_OK;
}

void flags_usage_defs(const struct flag_def *defs, size_t ndefs, const char *prog, int fd)
{
	dprintf(fd, "Usage of %s:\n", prog);
	for (size_t k = 0; k < ndefs; k++)
		dprintf(fd, "  -%s%s\n    \t%s\n", defs[k].name, defs[k].is_bool ? "" : " string",
			defs[k].usage);
}

void flags_usage(const char *prog, int fd)
{
	flags_usage_defs(v1_defs, ARRAY_SIZE(v1_defs), prog, fd);
}

bool flags_v1_takes_value(const char *name, size_t nlen)
{
	for (size_t k = 0; k < ARRAY_SIZE(v1_defs); k++)
		if (strlen(v1_defs[k].name) == nlen && strncmp(v1_defs[k].name, name, nlen) == 0)
			return !v1_defs[k].is_bool;
	return false;
}
