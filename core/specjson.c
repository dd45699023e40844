/* SPDX-License-Identifier: Apache-2.0 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "../io/base.h"
#include "specjson.h"

/* The JSON shape a Go field type accepts. */
enum shape { S_STRING, S_NUMBER, S_BOOL, S_OBJECT, S_ARRAY_STRING, S_ARRAY };

struct field {
	const char *name;
	enum shape shape;
	const char *gotype; /* as Go prints it */
};

/* opencontainers/runtime-spec v1.0.2 specs.Process and specs.LinuxResources. */
static const struct field process_fields[] = {
	{ "terminal", S_BOOL, "bool" },
	{ "consoleSize", S_OBJECT, "specs.Box" },
	{ "user", S_OBJECT, "specs.User" },
	{ "args", S_ARRAY_STRING, "[]string" },
	{ "commandLine", S_STRING, "string" },
	{ "env", S_ARRAY_STRING, "[]string" },
	{ "cwd", S_STRING, "string" },
	{ "capabilities", S_OBJECT, "specs.LinuxCapabilities" },
	{ "rlimits", S_ARRAY, "[]specs.POSIXRlimit" },
	{ "noNewPrivileges", S_BOOL, "bool" },
	{ "apparmorProfile", S_STRING, "string" },
	{ "oomScoreAdj", S_NUMBER, "int" },
	{ "selinuxLabel", S_STRING, "string" },
};

static const struct field resources_fields[] = {
	{ "devices", S_ARRAY, "[]specs.LinuxDeviceCgroup" },
	{ "memory", S_OBJECT, "specs.LinuxMemory" },
	{ "cpu", S_OBJECT, "specs.LinuxCPU" },
	{ "pids", S_OBJECT, "specs.LinuxPids" },
	{ "blockIO", S_OBJECT, "specs.LinuxBlockIO" },
	{ "hugepageLimits", S_ARRAY, "[]specs.LinuxHugepageLimit" },
	{ "network", S_OBJECT, "specs.LinuxNetwork" },
	{ "rdma", S_OBJECT, "map[string]specs.LinuxRdma" },
	{ "unified", S_OBJECT, "map[string]string" },
};

/* Go's name for the JSON type of a value. */
static const char *go_json_type(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "object";
	case JSON_ARRAY: return "array";
	case JSON_STRING: return "string";
	case JSON_INTEGER:
	case JSON_REAL: return "number";
	case JSON_TRUE:
	case JSON_FALSE: return "bool";
	default: return "null";
	}
}

static bool fits(const json_t *v, enum shape s)
{
	if (json_is_null(v))
		return true; /* null leaves a Go field as it is */
	switch (s) {
	case S_STRING: return json_is_string(v);
	case S_NUMBER: return json_is_number(v);
	case S_BOOL: return json_is_boolean(v);
	case S_OBJECT: return json_is_object(v);
	case S_ARRAY:
	case S_ARRAY_STRING: return json_is_array(v);
	}
	return false;
}

/* Go's syntax error for buf, from where jansson stopped. */
static void syntax_error(const char *buf, size_t len, char *msg, size_t msgsz)
{
	size_t i = 0;
	json_error_t e;
	json_t *v;

	while (i < len && strchr(" \t\r\n", buf[i]))
		i++;
	if (i == len) {
		snprintf(msg, msgsz, "unexpected end of JSON input");
		return;
	}
	if (!strchr("{[\"-0123456789tfn", buf[i])) {
		snprintf(msg, msgsz, "invalid character '%c' looking for beginning of value",
			 buf[i]);
		return;
	}
	/* A value followed by more than white space? */
	v = json_loadb(buf, len, JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK, &e);
	if (v) {
		size_t k = (size_t)e.position;
		json_decref(v);
		while (k < len && strchr(" \t\r\n", buf[k]))
			k++;
		if (k < len) {
			snprintf(msg, msgsz, "invalid character '%c' after top-level value",
				 buf[k]);
			return;
		}
	}
	if ((size_t)e.position >= len || strstr(e.text, "end of file") ||
	    strstr(e.text, "premature end"))
		snprintf(msg, msgsz, "unexpected end of JSON input");
	else
		snprintf(msg, msgsz, "invalid character '%c' looking for beginning of value",
			 buf[e.position > 0 ? e.position - 1 : 0]);
}

json_t *specjson_decode(const char *buf, size_t len, enum specjson_kind kind, char *msg,
			size_t msgsz)
{
	const struct field *fields = kind == SPECJSON_PROCESS ? process_fields : resources_fields;
	size_t nfields = kind == SPECJSON_PROCESS ? ARRAY_SIZE(process_fields)
						  : ARRAY_SIZE(resources_fields);
	const char *gostruct = kind == SPECJSON_PROCESS ? "Process" : "LinuxResources";
	json_error_t e;
	json_t *v = json_loadb(buf, len, JSON_DECODE_ANY, &e);

	if (!v) {
		syntax_error(buf, len, msg, msgsz);
		return NULL;
	}
	if (json_is_null(v)) {
		json_decref(v);
		return json_object();
	}
	if (!json_is_object(v)) {
		snprintf(msg, msgsz, "json: cannot unmarshal %s into Go value of type specs.%s",
			 go_json_type(v), gostruct);
		json_decref(v);
		return NULL;
	}
	for (size_t i = 0; i < nfields; i++) {
		json_t *f = json_object_get(v, fields[i].name), *el;
		size_t k;
		if (!f)
			continue;
		if (!fits(f, fields[i].shape)) {
			snprintf(msg, msgsz,
				 "json: cannot unmarshal %s into Go struct field %s.%s of type %s",
				 go_json_type(f), gostruct, fields[i].name, fields[i].gotype);
			json_decref(v);
			return NULL;
		}
		if (fields[i].shape != S_ARRAY_STRING || !json_is_array(f))
			continue;
		json_array_foreach(f, k, el) {
			if (!json_is_string(el) && !json_is_null(el)) {
				snprintf(
					msg, msgsz,
					"json: cannot unmarshal %s into Go struct field %s.%s of type "
					"string",
					go_json_type(el), gostruct, fields[i].name);
				json_decref(v);
				return NULL;
			}
		}
	}
	return v;
}
