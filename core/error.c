/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "error.h"

int shim_fail(struct shim_error *e, int r, enum shim_err_kind kind, enum shim_op op,
	      const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return r;
	e->kind = kind;
	e->op = op;
	e->path = NULL;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return r;
}

int shim_fail_state(struct shim_error *e, enum shim_op op, enum proc_status st)
{
	int r = st == PROC_DELETED ? -ENOENT : -EBUSY;

	shim_fail(e, r, SHIM_ERR_STATE, op, "%s", "");
	if (e)
		e->state = st;
	return r;
}
