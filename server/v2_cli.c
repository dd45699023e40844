/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <string.h>

#include "io/base.h"
#include "v2_actions.h"
#include "v2_cli.h"

#define S(field) offsetof(struct v2_flags, field)
static const struct flag_def v2_defs[] = {
	{ "namespace", false, S(ns), "namespace that owns the shim" },
	{ "address", false, S(address), "grpc address back to main containerd" },
	{ "publish-binary", false, S(publish_binary),
	  "path to publish binary (used for publishing events)" },
	{ "id", false, S(id), "id of the task" },
	{ "bundle", false, S(bundle), "path to the bundle if not workdir" },
	{ "socket", false, S(socket), "socket path to serve" },
	{ "debug-socket", false, S(debug_socket), "debug socket path to serve (ignored)" },
	{ "debug", true, S(debug), "enable debug output in logs" },
	{ "v", true, S(v), "show the shim version and exit" },
	{ "version", true, S(version), "show the shim version and exit" },
	{ "info", true, S(info),
	  "get the option protobuf from stdin, print the shim info and exit" },
};

static const struct {
	const char *word;
	enum v2_action action;
} actions[] = {
	{ "start", V2_ACT_START },
	{ "delete", V2_ACT_DELETE },
	{ V2_SERVE_WORD, V2_ACT_SERVE },
};

static enum v2_action action_of(const char *word)
{
	for (size_t k = 0; k < ARRAY_SIZE(actions); k++)
		if (strcmp(word, actions[k].word) == 0)
			return actions[k].action;
	return V2_ACT_NONE;
}

static const struct flag_def *find_def(const char *name, size_t nlen)
{
	for (size_t k = 0; k < ARRAY_SIZE(v2_defs); k++)
		if (strlen(v2_defs[k].name) == nlen && strncmp(v2_defs[k].name, name, nlen) == 0)
			return &v2_defs[k];
	return NULL;
}

bool v2_cli_selected(int argc, char *const *argv)
{
	bool info = false, v = false, version = false, id = false;

	if (argc > 1 && action_of(argv[argc - 1]) != V2_ACT_NONE)
		return true;
	/* The leading flags, read the way v2_cli_parse would (a string flag's value is skipped,
	 * so "-namespace v" does not count as -v); names v2 does not know are passed over (with their values when v1 has them). */
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *name = a + 1, *eq;
		const struct flag_def *d;
		size_t nlen;

		if (a[0] != '-' || a[1] == '\0')
			break;
		if (name[0] == '-')
			name++;
		if (name[0] == '\0')
			break;
		eq = strchr(name, '=');
		nlen = eq ? (size_t)(eq - name) : strlen(name);
		d = find_def(name, nlen);
		if (!d) {
			if (!eq && flags_v1_takes_value(name, nlen))
				i++; /* -workdir DIR: DIR is no flag */
			continue;
		}
		if (!d->is_bool) {
			if (d->off == S(id))
				id = true;
			if (!eq)
				i++;
			continue;
		}
		if (d->off == S(info))
			info = true;
		else if (d->off == S(v))
			v = true;
		else if (d->off == S(version))
			version = true;
	}
	return info || v || (version && id);
}

enum flags_result v2_cli_parse(int argc, char *const *argv, struct v2_flags *f, char *msg,
			       size_t msgsz)
{
	enum flags_result r;
	int args;

	memset(f, 0, sizeof(*f));
	f->ns = f->address = f->id = f->bundle = f->socket = f->debug_socket = "";
	f->publish_binary = "containerd";
	r = flags_parse_defs(v2_defs, ARRAY_SIZE(v2_defs), f, argc, argv, &args, &f->help, msg,
			     msgsz);
	if (r != FLAGS_OK)
		return r;
	if (f->v || f->version)
		return FLAGS_EXIT_OK;
	if (args < argc) {
		f->action = action_of(argv[args]);
		if (f->action == V2_ACT_NONE) {
			snprintf(msg, msgsz, "unknown action \"%s\" (expected start or delete)",
				 argv[args]);
			return FLAGS_USAGE_ERROR;
		}
	} else if (!f->info) {
		snprintf(msg, msgsz, "no action given (expected start or delete)");
		return FLAGS_USAGE_ERROR;
	}
	return FLAGS_OK;
}

void v2_cli_usage(const char *prog, int fd)
{
	flags_usage_defs(v2_defs, ARRAY_SIZE(v2_defs), prog, fd);
}

int v2_main(int argc, char **argv)
{
	struct v2_flags f;
	char msg[256];

	switch (v2_cli_parse(argc, argv, &f, msg, sizeof(msg))) {
	case FLAGS_USAGE_ERROR:
		fprintf(stderr, "%s\n", msg);
		v2_cli_usage(argv[0], 2);
		return 2;
	case FLAGS_EXIT_OK:
		if (f.help) {
			v2_cli_usage(argv[0], 2);
			return 0;
		}
		printf("%s:\n  Version:  %s\n  Revision: %s\n\n", argv[0], v2_version(), "");
		return 0;
	case FLAGS_OK: break;
	}
	if (f.info)
		return v2_info_main(&f);
	if (!*f.ns) {
		fprintf(stderr, "shim namespace cannot be empty\n");
		return 1;
	}
	switch (f.action) {
	case V2_ACT_START: return v2_start_main(&f);
	case V2_ACT_DELETE: return v2_delete_main(&f);
	case V2_ACT_SERVE: return v2_serve_main(&f);
	case V2_ACT_NONE: break;
	}
	return 2;
}
