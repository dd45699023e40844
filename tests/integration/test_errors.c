/* SPDX-License-Identifier: Apache-2.0 */
/* Differential error table for the whole v1 state machine (docs/v1-protocol.md §3.0,
 * §3.8-3.10, §3.14, §6). Every case = (fixture state, optional per-case exec state, one operation)
 * is run against the Go reference shim (GOSHIM, default /usr/bin/containerd-shim) and against cshim
 * (CSHIM, default build/bin/cshim); the gRPC code, the normalized message and a short normalized
 * response summary must be identical. Cases where the Go shim crashes (docs/v1-protocol.md §8.5:
 * Exec without spec / Update without resources in states where Go gets as far as decoding them; and
 * a second Start of an exec whose start failed, where Go panics with "close of closed channel") are
 * only run on cshim, which must answer the listed code and stay alive. Cases marked F_KNOWN are
 * reported but do not fail the run (documented differences; none at the moment). Cases marked
 * F_DELIB are deliberate differences (cshim refuses what the Go shim accepts, e.g. checkpoint paths
 * through a symlink): both shims run them, the Go answer is reported, and cshim must answer c_code
 * with c_msg in its message and c_resp as its response summary (when set). A zombie child under
 * cshim at any fixture teardown fails the run too.
 *
 * Fixtures are reused between cases: a case marked MUT (it changes the init's state) ends
 * its fixture, the next case starts a fresh shim; GOMUT ends only the Go shim's fixture (the
 * request changes the Go shim's state, cshim refuses it before acting: its next cases, run on
 * the same shim, show that nothing changed). Exec cases get their own exec id
 * (x<case#>, n<case#> for a new id), identical for both shims.
 *
 * Environment: GOSHIM, CSHIM, CSHIM_IT_DEBUG, CSHIM_IT_KEEP, CSHIM_IT_VERBOSE (log every
 * case as it runs), CSHIM_IT_TIMEOUT (watchdog seconds, default 100), CSHIM_ERR_FILTER (run
 * only cases whose name contains this text), CSHIM_ERR_RUN_GOCRASH (also run the Go shim on
 * the cases where it is known to crash, to re-verify that). */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "tests/integration/itutil.h"

#define OP_TIMEOUT_MS 10000
#define WAIT_PROBE_MS 400 /* a Wait not answered within this is recorded as "blocks" */

enum fxkind {
	FX_CREATED,       /* Create(sleep 1000) */
	FX_RUNNING,       /* + Start */
	FX_PAUSED,        /* + Exec px (sleep) + Start px + Pause */
	FX_STOPPED,       /* + Exec kx (sleep) + Start kx + Kill(init, 9) + Wait init + Wait kx */
	FX_DELETED,       /* FX_STOPPED + Delete */
	FX_PAUSED_KILLED, /* FX_PAUSED + Kill(init, 9) (runc thaws after SIGKILL) */
	FX_FRESH,         /* the shim only (ShimInfo): for Create cases */
	FX_WRAPPED,       /* FX_RUNNING with a runtime whose checkpoint fails (g_ckpt_wrapper) */
};
static const char *const FX_NAMES[] = { "created", "running",       "paused", "stopped",
					"deleted", "paused+killed", "fresh",  "wrapped" };

/* State of the case's own exec (id x<case#>), set up before the operation. */
enum xstate {
	XS_NONE,
	XS_CREATED,              /* Exec(sleep 1000) */
	XS_RUNNING,              /* + Start */
	XS_STOPPED,              /* Exec(sh -c 'exit 7') + Start + Wait == 7 */
	XS_DELETED,              /* XS_STOPPED + DeleteProcess */
	XS_BADCMD,               /* Exec(/nonexistent) */
	XS_STARTFAILED,          /* XS_BADCMD + Start (fails) */
	XS_STARTFAILED_INFLIGHT, /* XS_BADCMD + Wait sent (in flight) + Start (fails) */
};
static const char *const XS_NAMES[] = { "",        "created", "running",     "stopped",
					"deleted", "badcmd",  "startfailed", "startfailed+wait" };

enum op {
	OP_START,
	OP_DELETE,
	OP_DELPROC,
	OP_KILL,
	OP_PAUSE,
	OP_RESUME,
	OP_UPDATE,
	OP_EXEC,
	OP_RESIZE,
	OP_CLOSEIO,
	OP_STATE,
	OP_WAIT,
	OP_LISTPIDS,
	OP_CHECKPOINT,
	OP_CREATE,
};
static const char *const OP_NAMES[] = { "Start",     "Delete",     "DeleteProcess", "Kill",
					"Pause",     "Resume",     "Update",        "Exec",
					"ResizePty", "CloseIO",    "State",         "Wait",
					"ListPids",  "Checkpoint", "Create" };

/* OP_EXEC / OP_UPDATE payload variants */
enum variant {
	V_DEFAULT,  /* Exec: sleep 1000; Update: resources {} */
	V_BADJSON,  /* "{" */
	V_GARBAGE,  /* "xx" */
	V_MISSING,  /* no spec / no resources (crashes the Go shim) */
	V_EXIT7,    /* Exec: sh -c 'exit 7' */
	V_ARRAY,    /* "[]" */
	V_TRAILING, /* "{}x" */
	V_BADTYPE,  /* Exec: {"args":1}; Update: {"pids":"x"} */
	/* OP_CHECKPOINT (path) / OP_CREATE (checkpoint); see ckpt_paths() for the tree in $DIR */
	V_P_OK,      /* an existing directory */
	V_P_REL,     /* relative */
	V_P_DOTDOT,  /* a ".." component */
	V_P_CTRL,    /* a newline in it */
	V_P_NUL,     /* a NUL in it (on the wire; protobuf-c would cut the string there) */
	V_P_SYMLINK, /* through a symlink to a directory */
	V_P_NOTDIR,  /* a regular file */
	V_P_NOENT,   /* Checkpoint: parent missing too; Create: missing */
	V_W_REL,     /* Checkpoint work_path / Create criu_work_path relative (path ok) */
	V_W_SYMLINK, /* ... through a symlink */
	V_W_NEW,     /* ... a new leaf in an existing directory (accepted) */
	V_PARENT_UP, /* Create parent_checkpoint "../x" (checkpoint ok) */
	V_DUMPLINK,  /* FX_WRAPPED: BUNDLE/criu-dump.log planted as a symlink */
	V_WORKLINK,  /* FX_WRAPPED: WORKDIR/criu-work planted as a symlink */
};

#define F_MUT 1u     /* changes the init's state: the fixture ends after this case */
#define F_GOCRASH 2u /* the Go shim crashes here: cshim only, expect c_code and alive */
#define F_KNOWN 4u   /* documented difference: reported, never fails */
#define F_DELIB 8u   /* deliberate difference: cshim must answer c_code/c_msg/c_resp */
#define F_GOMUT 16u  /* changes the Go shim's state only: its fixture ends after this case */

struct ecase {
	const char *row; /* "init/created", "exec/running", ... (for the table) */
	enum fxkind fx;
	enum xstate xs;
	enum op op;
	const char *id; /* "@c" container id, "@x" the case's exec, "@n" a new exec id */
	uint32_t sig;
	bool all;
	enum variant var;
	unsigned flags;
	int c_code;         /* F_GOCRASH, F_DELIB: cshim's expected code */
	const char *c_msg;  /* F_DELIB: text cshim's (normalized) message must contain */
	const char *c_resp; /* F_DELIB: cshim's response summary */
	const char *note;   /* F_KNOWN / F_GOCRASH / F_DELIB: why */
};

#define SIG(s) .sig = (s)
#define E(row_, fx_, xs_, op_, id_, ...)                                                           \
	{                                                                                          \
		.row = row_, .fx = fx_, .xs = xs_, .op = op_, .id = id_, __VA_ARGS__               \
	}

static const struct ecase CASES[] = {
	/* ---------------- init: created ---------------- */
	E("init/created", FX_CREATED, XS_NONE, OP_STATE, "@c"),
	E("init/created", FX_CREATED, XS_NONE, OP_WAIT, "@c"),
	E("init/created", FX_CREATED, XS_NONE, OP_LISTPIDS, "@c"),
	E("init/created", FX_CREATED, XS_NONE, OP_DELPROC, "@c"),
	E("init/created", FX_CREATED, XS_NONE, OP_PAUSE, ""),
	E("init/created", FX_CREATED, XS_NONE, OP_RESUME, ""),
	E("init/created", FX_CREATED, XS_NONE, OP_UPDATE, ""),
	E("init/created", FX_CREATED, XS_NONE, OP_UPDATE, "", .var = V_BADJSON),
	E("init/created", FX_CREATED, XS_NONE, OP_UPDATE, "", .var = V_MISSING, .flags = F_GOCRASH,
	  .c_code = 3, .note = "Go: nil resources crash (App. C.5)"),
	E("init/created", FX_CREATED, XS_NONE, OP_CHECKPOINT, ""),
	E("init/created", FX_CREATED, XS_NONE, OP_RESIZE, "@c"),
	E("init/created", FX_CREATED, XS_NONE, OP_CLOSEIO, "@c"),
	E("init/created", FX_CREATED, XS_NONE, OP_KILL, "@c", SIG(0)),
	E("init/created", FX_CREATED, XS_NONE, OP_KILL, "", SIG(0)),
	E("init/created", FX_CREATED, XS_NONE, OP_EXEC, "@n"),
	E("init/created", FX_CREATED, XS_NONE, OP_EXEC, "@c"),
	E("init/created", FX_CREATED, XS_NONE, OP_EXEC, "@n", .var = V_BADJSON),
	E("init/created", FX_CREATED, XS_NONE, OP_EXEC, "@n", .var = V_MISSING, .flags = F_GOCRASH,
	  .c_code = 3, .note = "Go: nil spec crash (App. C.5)"),
	/* exec into a created (not started) container */
	E("init/created", FX_CREATED, XS_CREATED, OP_START, "@x", .flags = F_MUT),
	E("init/created", FX_CREATED, XS_NONE, OP_START, "@c", .flags = F_MUT),
	E("init/created", FX_CREATED, XS_NONE, OP_KILL, "@c", SIG(9), .flags = F_MUT),
	E("init/created", FX_CREATED, XS_NONE, OP_DELETE, "", .flags = F_MUT),

	/* ---------------- init: running ---------------- */
	E("init/running", FX_RUNNING, XS_NONE, OP_STATE, "@c"),
	E("init/running", FX_RUNNING, XS_NONE, OP_WAIT, "@c"),
	E("init/running", FX_RUNNING, XS_NONE, OP_LISTPIDS, "@c"),
	E("init/running", FX_RUNNING, XS_NONE, OP_START, "@c"),
	E("init/running", FX_RUNNING, XS_NONE, OP_DELETE, ""),
	E("init/running", FX_RUNNING, XS_NONE, OP_DELPROC, "@c"),
	E("init/running", FX_RUNNING, XS_NONE, OP_RESUME, ""),
	E("init/running", FX_RUNNING, XS_NONE, OP_UPDATE, ""),
	E("init/running", FX_RUNNING, XS_NONE, OP_UPDATE, "", .var = V_GARBAGE),
	E("init/running", FX_RUNNING, XS_NONE, OP_UPDATE, "", .var = V_ARRAY),
	E("init/running", FX_RUNNING, XS_NONE, OP_UPDATE, "", .var = V_BADTYPE),
	E("init/running", FX_RUNNING, XS_NONE, OP_UPDATE, "", .var = V_MISSING, .flags = F_GOCRASH,
	  .c_code = 3, .note = "Go: nil resources crash (App. C.5)"),
	E("init/running", FX_RUNNING, XS_NONE, OP_RESIZE, "@c"),
	E("init/running", FX_RUNNING, XS_NONE, OP_CLOSEIO, "@c"),
	E("init/running", FX_RUNNING, XS_NONE, OP_KILL, "@c", SIG(0)),
	E("init/running", FX_RUNNING, XS_NONE, OP_KILL, "", SIG(0)),
	E("init/running", FX_RUNNING, XS_NONE, OP_EXEC, "@n"),
	E("init/running", FX_RUNNING, XS_NONE, OP_EXEC, "@c"),
	E("init/running", FX_RUNNING, XS_NONE, OP_EXEC, "@n", .var = V_BADJSON),
	E("init/running", FX_RUNNING, XS_NONE, OP_EXEC, "@n", .var = V_GARBAGE),
	E("init/running", FX_RUNNING, XS_NONE, OP_EXEC, "@n", .var = V_ARRAY),
	E("init/running", FX_RUNNING, XS_NONE, OP_EXEC, "@n", .var = V_TRAILING),
	E("init/running", FX_RUNNING, XS_NONE, OP_EXEC, "@n", .var = V_BADTYPE),
	E("init/running", FX_RUNNING, XS_NONE, OP_EXEC, "@n", .var = V_MISSING, .flags = F_GOCRASH,
	  .c_code = 3, .note = "Go: nil spec crash (App. C.5)"),

	/* ---------------- exec: created (sleep, not started) ---------------- */
	E("exec/created", FX_RUNNING, XS_CREATED, OP_STATE, "@x"),
	E("exec/created", FX_RUNNING, XS_CREATED, OP_WAIT, "@x"),
	E("exec/created", FX_RUNNING, XS_CREATED, OP_LISTPIDS, "@x"),
	E("exec/created", FX_RUNNING, XS_CREATED, OP_KILL, "@x", SIG(9)),
	E("exec/created", FX_RUNNING, XS_CREATED, OP_KILL, "@x", SIG(0)),
	E("exec/created", FX_RUNNING, XS_CREATED, OP_RESIZE, "@x"),
	E("exec/created", FX_RUNNING, XS_CREATED, OP_CLOSEIO, "@x"),
	E("exec/created", FX_RUNNING, XS_CREATED, OP_EXEC, "@x"),
	E("exec/created", FX_RUNNING, XS_CREATED, OP_DELPROC, "@x"),
	E("exec/created", FX_RUNNING, XS_CREATED, OP_START, "@x"),
	/* init-level operations with this exec around */
	E("exec/created", FX_RUNNING, XS_CREATED, OP_DELETE, ""),
	E("exec/created", FX_RUNNING, XS_CREATED, OP_RESUME, ""),
	E("exec/created", FX_RUNNING, XS_CREATED, OP_UPDATE, ""),
	/* ---------------- exec: running (sleep) ---------------- */
	E("exec/running", FX_RUNNING, XS_RUNNING, OP_STATE, "@x"),
	E("exec/running", FX_RUNNING, XS_RUNNING, OP_WAIT, "@x"),
	E("exec/running", FX_RUNNING, XS_RUNNING, OP_LISTPIDS, "@x"),
	E("exec/running", FX_RUNNING, XS_RUNNING, OP_START, "@x"),
	E("exec/running", FX_RUNNING, XS_RUNNING, OP_DELPROC, "@x"),
	E("exec/running", FX_RUNNING, XS_RUNNING, OP_RESIZE, "@x"),
	E("exec/running", FX_RUNNING, XS_RUNNING, OP_CLOSEIO, "@x"),
	E("exec/running", FX_RUNNING, XS_RUNNING, OP_EXEC, "@x"),
	E("exec/running", FX_RUNNING, XS_RUNNING, OP_KILL, "@x", SIG(0)),
	E("exec/running", FX_RUNNING, XS_RUNNING, OP_KILL, "@x", SIG(9), .all = true),
	/* init-level operations with this exec around */
	E("exec/running", FX_RUNNING, XS_RUNNING, OP_DELETE, ""),
	E("exec/running", FX_RUNNING, XS_RUNNING, OP_RESUME, ""),
	E("exec/running", FX_RUNNING, XS_RUNNING, OP_UPDATE, ""),
	/* ---------------- exec: stopped (exit 7) ---------------- */
	E("exec/stopped", FX_RUNNING, XS_STOPPED, OP_STATE, "@x"),
	E("exec/stopped", FX_RUNNING, XS_STOPPED, OP_WAIT, "@x"),
	E("exec/stopped", FX_RUNNING, XS_STOPPED, OP_LISTPIDS, "@x"),
	E("exec/stopped", FX_RUNNING, XS_STOPPED, OP_START, "@x"),
	E("exec/stopped", FX_RUNNING, XS_STOPPED, OP_KILL, "@x", SIG(9)),
	E("exec/stopped", FX_RUNNING, XS_STOPPED, OP_RESIZE, "@x"),
	E("exec/stopped", FX_RUNNING, XS_STOPPED, OP_CLOSEIO, "@x"),
	E("exec/stopped", FX_RUNNING, XS_STOPPED, OP_EXEC, "@x"),
	E("exec/stopped", FX_RUNNING, XS_STOPPED, OP_DELPROC, "@x"),
	/* init-level operations with this exec around */
	E("exec/stopped", FX_RUNNING, XS_STOPPED, OP_DELETE, ""),
	E("exec/stopped", FX_RUNNING, XS_STOPPED, OP_RESUME, ""),
	E("exec/stopped", FX_RUNNING, XS_STOPPED, OP_UPDATE, ""),
	/* ---------------- exec: deleted (after DeleteProcess) ---------------- */
	E("exec/deleted", FX_RUNNING, XS_DELETED, OP_STATE, "@x"),
	E("exec/deleted", FX_RUNNING, XS_DELETED, OP_WAIT, "@x"),
	E("exec/deleted", FX_RUNNING, XS_DELETED, OP_START, "@x"),
	E("exec/deleted", FX_RUNNING, XS_DELETED, OP_KILL, "@x", SIG(9)),
	E("exec/deleted", FX_RUNNING, XS_DELETED, OP_RESIZE, "@x"),
	E("exec/deleted", FX_RUNNING, XS_DELETED, OP_CLOSEIO, "@x"),
	E("exec/deleted", FX_RUNNING, XS_DELETED, OP_DELPROC, "@x"),
	E("exec/deleted", FX_RUNNING, XS_DELETED, OP_EXEC, "@x"), /* the id is reusable */
	/* init-level operations with this exec around */
	E("exec/deleted", FX_RUNNING, XS_DELETED, OP_DELETE, ""),
	E("exec/deleted", FX_RUNNING, XS_DELETED, OP_RESUME, ""),
	E("exec/deleted", FX_RUNNING, XS_DELETED, OP_UPDATE, ""),
	/* ---------------- exec: start failure (/nonexistent) ---------------- */
	E("exec/badcmd", FX_RUNNING, XS_BADCMD, OP_START, "@x"),
	E("exec/startfailed", FX_RUNNING, XS_STARTFAILED_INFLIGHT, OP_WAIT, "@x"),
	E("exec/startfailed", FX_RUNNING, XS_STARTFAILED, OP_WAIT, "@x"),
	E("exec/startfailed", FX_RUNNING, XS_STARTFAILED, OP_STATE, "@x"),
	E("exec/startfailed", FX_RUNNING, XS_STARTFAILED, OP_KILL, "@x", SIG(9)),
	E("exec/startfailed", FX_RUNNING, XS_STARTFAILED, OP_RESIZE, "@x"),
	E("exec/startfailed", FX_RUNNING, XS_STARTFAILED, OP_START, "@x", .flags = F_GOCRASH,
	  .c_code = 2, .note = "Go panics: close of closed channel (exec.go:209; not in App. C)"),
	E("exec/startfailed", FX_RUNNING, XS_STARTFAILED, OP_DELPROC, "@x"),
	/* ---------------- unknown ids ---------------- */
	E("unknown-id", FX_RUNNING, XS_NONE, OP_RESIZE, "nope"),
	E("unknown-id", FX_RUNNING, XS_NONE, OP_RESIZE, ""),
	E("unknown-id", FX_RUNNING, XS_NONE, OP_STATE, "nope"),
	E("unknown-id", FX_RUNNING, XS_NONE, OP_STATE, ""),
	E("unknown-id", FX_RUNNING, XS_NONE, OP_WAIT, "nope"),
	E("unknown-id", FX_RUNNING, XS_NONE, OP_START, "nope"),
	E("unknown-id", FX_RUNNING, XS_NONE, OP_KILL, "nope", SIG(9)),
	E("unknown-id", FX_RUNNING, XS_NONE, OP_DELPROC, "nope"),
	E("unknown-id", FX_RUNNING, XS_NONE, OP_DELPROC, ""),
	E("unknown-id", FX_RUNNING, XS_NONE, OP_CLOSEIO, "nope"),
	E("unknown-id", FX_RUNNING, XS_NONE, OP_LISTPIDS, "nope"),
	/* mutating running cases last */
	/* Pause with an exec created / running (then State of that exec) */
	E("exec/created", FX_RUNNING, XS_CREATED, OP_PAUSE, "", .flags = F_MUT),
	E("exec/running", FX_RUNNING, XS_RUNNING, OP_PAUSE, "", .flags = F_MUT),
	/* runs criu: the outcome depends on the host; both shims must agree */
	E("init/running", FX_RUNNING, XS_NONE, OP_CHECKPOINT, "", .flags = F_MUT),
	E("init/running", FX_RUNNING, XS_NONE, OP_PAUSE, "", .flags = F_MUT),
	E("init/running", FX_RUNNING, XS_NONE, OP_KILL, "@c", SIG(9), .flags = F_MUT),

	/* ---------------- init: paused (exec px running inside) ---------------- */
	E("init/paused", FX_PAUSED, XS_NONE, OP_STATE, "@c"),
	E("init/paused", FX_PAUSED, XS_NONE, OP_STATE, "px"), /* exec reports PAUSED */
	E("init/paused", FX_PAUSED, XS_NONE, OP_WAIT, "@c"),
	E("init/paused", FX_PAUSED, XS_NONE, OP_WAIT, "px"),
	E("init/paused", FX_PAUSED, XS_NONE, OP_LISTPIDS, "@c"),
	E("init/paused", FX_PAUSED, XS_NONE, OP_START, "@c"),
	E("init/paused", FX_PAUSED, XS_NONE, OP_START, "px"),
	E("init/paused", FX_PAUSED, XS_NONE, OP_DELETE, ""),
	E("init/paused", FX_PAUSED, XS_NONE, OP_DELPROC, "@c"),
	E("init/paused", FX_PAUSED, XS_NONE, OP_DELPROC, "px"),
	E("init/paused", FX_PAUSED, XS_NONE, OP_PAUSE, ""),
	E("init/paused", FX_PAUSED, XS_NONE, OP_UPDATE, ""),
	E("init/paused", FX_PAUSED, XS_NONE, OP_UPDATE, "", .var = V_MISSING, .flags = F_GOCRASH,
	  .c_code = 3, .note = "Go: nil resources crash (App. C.5)"),
	E("init/paused", FX_PAUSED, XS_NONE, OP_RESIZE, "@c"),
	E("init/paused", FX_PAUSED, XS_NONE, OP_RESIZE, "px"),
	E("init/paused", FX_PAUSED, XS_NONE, OP_CLOSEIO, "@c"),
	E("init/paused", FX_PAUSED, XS_NONE, OP_KILL, "@c", SIG(0)),
	E("init/paused", FX_PAUSED, XS_NONE, OP_KILL, "px", SIG(0)),
	E("init/paused", FX_PAUSED, XS_NONE, OP_EXEC, "@n"),
	E("init/paused", FX_PAUSED, XS_NONE, OP_EXEC, "@c"),
	E("init/paused", FX_PAUSED, XS_NONE, OP_EXEC, "px"),
	E("init/paused", FX_PAUSED, XS_NONE, OP_EXEC, "@n", .var = V_MISSING), /* no Go crash */
	E("init/paused", FX_PAUSED, XS_NONE, OP_RESUME, "", .flags = F_MUT),
	E("init/paused", FX_PAUSED, XS_NONE, OP_KILL, "@c", SIG(9), .flags = F_MUT),

	/* ---------------- init: paused, then Kill(init, SIGKILL) ---------------- */
	E("init/paused+kill9", FX_PAUSED_KILLED, XS_NONE, OP_WAIT, "@c"),
	E("init/paused+kill9", FX_PAUSED_KILLED, XS_NONE, OP_WAIT, "px"),
	E("init/paused+kill9", FX_PAUSED_KILLED, XS_NONE, OP_STATE, "@c"),
	E("init/paused+kill9", FX_PAUSED_KILLED, XS_NONE, OP_STATE, "px"),
	E("init/paused+kill9", FX_PAUSED_KILLED, XS_NONE, OP_RESUME, ""),
	E("init/paused+kill9", FX_PAUSED_KILLED, XS_NONE, OP_PAUSE, ""),
	E("init/paused+kill9", FX_PAUSED_KILLED, XS_NONE, OP_DELETE, "", .flags = F_MUT),

	/* ---------------- init: stopped (killed; exec kx died with it) ---------------- */
	E("init/stopped", FX_STOPPED, XS_NONE, OP_STATE, "@c"),
	E("init/stopped", FX_STOPPED, XS_NONE, OP_STATE, "kx"),
	E("init/stopped", FX_STOPPED, XS_NONE, OP_WAIT, "@c"),
	E("init/stopped", FX_STOPPED, XS_NONE, OP_LISTPIDS, "@c"),
	E("init/stopped", FX_STOPPED, XS_NONE, OP_START, "@c"),
	E("init/stopped", FX_STOPPED, XS_NONE, OP_DELPROC, "@c"),
	E("init/stopped", FX_STOPPED, XS_NONE, OP_PAUSE, ""),
	E("init/stopped", FX_STOPPED, XS_NONE, OP_RESUME, ""),
	E("init/stopped", FX_STOPPED, XS_NONE, OP_UPDATE, ""),
	/* Go checks the state first here (no crash), so cshim can and should answer the same */
	E("init/stopped", FX_STOPPED, XS_NONE, OP_UPDATE, "", .var = V_MISSING),
	E("init/stopped", FX_STOPPED, XS_NONE, OP_CHECKPOINT, ""),
	E("init/stopped", FX_STOPPED, XS_NONE, OP_RESIZE, "@c"),
	E("init/stopped", FX_STOPPED, XS_NONE, OP_RESIZE, "kx"),
	E("init/stopped", FX_STOPPED, XS_NONE, OP_CLOSEIO, "@c"),
	E("init/stopped", FX_STOPPED, XS_NONE, OP_KILL, "@c", SIG(9)),
	E("init/stopped", FX_STOPPED, XS_NONE, OP_KILL, "", SIG(9)),
	E("init/stopped", FX_STOPPED, XS_NONE, OP_KILL, "@c", SIG(9), .all = true),
	E("init/stopped", FX_STOPPED, XS_NONE, OP_KILL, "kx", SIG(9)),
	E("init/stopped", FX_STOPPED, XS_NONE, OP_EXEC, "@n"),
	E("init/stopped", FX_STOPPED, XS_NONE, OP_EXEC, "@c"),
	E("init/stopped", FX_STOPPED, XS_NONE, OP_EXEC, "@n", .var = V_MISSING), /* no Go crash */
	E("init/stopped", FX_STOPPED, XS_NONE, OP_DELETE, "", .flags = F_MUT),

	/* ---------------- init: deleted (after Delete; exec kx survives) ---------------- */
	E("init/deleted", FX_DELETED, XS_NONE, OP_STATE, "@c"),
	E("init/deleted", FX_DELETED, XS_NONE, OP_STATE, "kx"),
	E("init/deleted", FX_DELETED, XS_NONE, OP_WAIT, "@c"),
	E("init/deleted", FX_DELETED, XS_NONE, OP_WAIT, "kx"),
	E("init/deleted", FX_DELETED, XS_NONE, OP_LISTPIDS, "@c"),
	E("init/deleted", FX_DELETED, XS_NONE, OP_START, "@c"),
	E("init/deleted", FX_DELETED, XS_NONE, OP_DELETE, ""),
	E("init/deleted", FX_DELETED, XS_NONE, OP_DELPROC, "@c"),
	E("init/deleted", FX_DELETED, XS_NONE, OP_PAUSE, ""),
	E("init/deleted", FX_DELETED, XS_NONE, OP_RESUME, ""),
	E("init/deleted", FX_DELETED, XS_NONE, OP_UPDATE, ""),
	E("init/deleted", FX_DELETED, XS_NONE, OP_UPDATE, "", .var = V_MISSING),
	E("init/deleted", FX_DELETED, XS_NONE, OP_CHECKPOINT, ""),
	E("init/deleted", FX_DELETED, XS_NONE, OP_RESIZE, "@c"),
	E("init/deleted", FX_DELETED, XS_NONE, OP_CLOSEIO, "@c"),
	E("init/deleted", FX_DELETED, XS_NONE, OP_KILL, "@c", SIG(9)),
	E("init/deleted", FX_DELETED, XS_NONE, OP_KILL, "", SIG(9)),
	E("init/deleted", FX_DELETED, XS_NONE, OP_KILL, "kx", SIG(9)),
	E("init/deleted", FX_DELETED, XS_NONE, OP_EXEC, "@n"),
	E("init/deleted", FX_DELETED, XS_NONE, OP_EXEC, "@c"),
	E("init/deleted", FX_DELETED, XS_NONE, OP_EXEC, "@n", .var = V_MISSING),
	E("init/deleted", FX_DELETED, XS_NONE, OP_EXEC, "kx"),
	E("init/deleted", FX_DELETED, XS_NONE, OP_DELPROC, "kx", .flags = F_MUT),

/* ---------------- request paths (README, Reliability: confined) ----------------
	 * Checkpoint's path and work_path, Create's checkpoint, parent_checkpoint and
	 * CreateOptions.criu_work_path must be absolute and clean, resolve without a symlink in
	 * any component, and name a directory (Checkpoint's two and criu_work_path: or a new leaf
	 * in one, which runc makes). The Go shim hands them to runc as given (Checkpoint: runc
	 * and criu run; Create: accepted, pid 0). cshim refuses them before any runtime runs,
	 * with INVALID_ARGUMENT naming the field; the State / Create that follow on the same
	 * cshim show nothing changed. ckpt_paths() has the tree in $DIR. */
#define PATH_NOTE "deliberate: cshim confines request paths, the Go shim passes them to runc"
#define BADPATH(row_, fx_, op_, var_, msg_)                                                        \
	E(row_, fx_, XS_NONE, op_, "", .var = var_, .flags = F_DELIB | F_GOMUT, .c_code = 3,       \
	  .c_msg = msg_, .note = PATH_NOTE)
	BADPATH("paths/running", FX_RUNNING, OP_CHECKPOINT, V_P_REL,
		"checkpoint path \"ckpt-rel\": must be an absolute, clean path: invalid argument"),
	BADPATH("paths/running", FX_RUNNING, OP_CHECKPOINT, V_P_DOTDOT,
		"checkpoint path \"$DIR/real/../ckpt\": must be an absolute, clean path: "
		"invalid argument"),
	BADPATH("paths/running", FX_RUNNING, OP_CHECKPOINT, V_P_CTRL,
		"checkpoint path \"$DIR/ck\\x0apt\": must not contain NUL or control "
		"characters: invalid argument"),
	BADPATH("paths/running", FX_RUNNING, OP_CHECKPOINT, V_P_NUL,
		"checkpoint path \"$DIR/ck\\x00...\": must not contain NUL or control "
		"characters: invalid argument"),
	BADPATH("paths/running", FX_RUNNING, OP_CHECKPOINT, V_P_SYMLINK,
		"checkpoint path \"$DIR/lnk/ckpt\": has a symlink component: invalid argument"),
	BADPATH("paths/running", FX_RUNNING, OP_CHECKPOINT, V_P_NOTDIR,
		"checkpoint path \"$DIR/file\": is not a directory: invalid argument"),
	BADPATH("paths/running", FX_RUNNING, OP_CHECKPOINT, V_P_NOENT,
		"checkpoint path \"$DIR/nope/ckpt\": does not exist, nor does its parent "
		"directory: invalid argument"),
	BADPATH("paths/running", FX_RUNNING, OP_CHECKPOINT, V_W_REL,
		"checkpoint work_path \"work-rel\": must be an absolute, clean path: invalid "
		"argument"),
	BADPATH("paths/running", FX_RUNNING, OP_CHECKPOINT, V_W_SYMLINK,
		"checkpoint work_path \"$DIR/lnk/work\": has a symlink component: invalid "
		"argument"),
	E("paths/running", FX_RUNNING, XS_NONE, OP_STATE, "@c"), /* still RUNNING */
	/* accepted: an existing image dir and a new work dir; runc and criu run */
	E("paths/running", FX_RUNNING, XS_NONE, OP_CHECKPOINT, "", .var = V_W_NEW, .flags = F_MUT),
	BADPATH("paths/fresh", FX_FRESH, OP_CREATE, V_P_REL,
		"create checkpoint \"img-rel\": must be an absolute, clean path: invalid argument"),
	BADPATH("paths/fresh", FX_FRESH, OP_CREATE, V_P_DOTDOT,
		"create checkpoint \"$DIR/real/../real/img\": must be an absolute, clean path: "
		"invalid argument"),
	BADPATH("paths/fresh", FX_FRESH, OP_CREATE, V_P_CTRL,
		"create checkpoint \"$DIR/im\\x0ag\": must not contain NUL or control "
		"characters: invalid argument"),
	BADPATH("paths/fresh", FX_FRESH, OP_CREATE, V_P_NUL,
		"create checkpoint \"$DIR/im\\x00...\": must not contain NUL or control "
		"characters: invalid argument"),
	BADPATH("paths/fresh", FX_FRESH, OP_CREATE, V_P_SYMLINK,
		"create checkpoint \"$DIR/lnk/img\": has a symlink component: invalid argument"),
	BADPATH("paths/fresh", FX_FRESH, OP_CREATE, V_P_NOTDIR,
		"create checkpoint \"$DIR/file\": is not a directory: invalid argument"),
	BADPATH("paths/fresh", FX_FRESH, OP_CREATE, V_P_NOENT,
		"create checkpoint \"$DIR/nope\": does not exist: invalid argument"),
	BADPATH("paths/fresh", FX_FRESH, OP_CREATE, V_PARENT_UP,
		"create parent_checkpoint \"../x\": must be a relative, clean path: invalid "
		"argument"),
	BADPATH("paths/fresh", FX_FRESH, OP_CREATE, V_W_REL,
		"create criu_work_path \"work-rel\": must be an absolute, clean path: invalid "
		"argument"),
	BADPATH("paths/fresh", FX_FRESH, OP_CREATE, V_W_SYMLINK,
		"create criu_work_path \"$DIR/lnk/work\": has a symlink component: invalid "
		"argument"),
	E("paths/fresh", FX_FRESH, XS_NONE, OP_STATE, "@c"), /* nothing was created */
	E("paths/fresh", FX_FRESH, XS_NONE, OP_CREATE, "", .var = V_W_NEW, .flags = F_MUT),
	E("paths/fresh", FX_FRESH, XS_NONE, OP_CREATE, "", .var = V_P_OK, .flags = F_MUT),
	/* runtime wrapper whose checkpoint writes WORK/dump.log and fails like criu does */
	E("paths/wrapped", FX_WRAPPED, XS_NONE, OP_CHECKPOINT, "", .var = V_DUMPLINK,
	  .flags = F_DELIB, .c_code = 2, .c_msg = "path= $DIR/bundle/criu-dump.log",
	  .c_resp = "criu-dump.log=file(copied) victim=untouched victimdir=empty work=removed",
	  .note = "deliberate: the Go shim writes the dump log through a symlink planted as "
		  "BUNDLE/criu-dump.log; cshim renames a new file over it"),
	E("paths/wrapped", FX_WRAPPED, XS_NONE, OP_CHECKPOINT, "", .var = V_WORKLINK,
	  .flags = F_DELIB, .c_code = 2, .c_msg = "path= $DIR/bundle/criu-dump.log",
	  .c_resp = "criu-dump.log=file(copied) victim=untouched victimdir=empty work=removed",
	  .note = "deliberate: the Go shim lets runc reuse a symlink planted as "
		  "WORKDIR/criu-work; cshim removes it first"),
	E("paths/wrapped", FX_WRAPPED, XS_NONE, OP_STATE, "@c"), /* still RUNNING */
};
#define NCASES (sizeof(CASES) / sizeof(CASES[0]))

/* ------------------------------------------------------------------------------------------ */

enum { R_BLOCKS = -1, R_TRANSPORT = -2, R_SETUP = -3, R_SKIPPED = -4, R_NOTRUN = -5 };

struct res {
	int code;
	char *msg;  /* normalized */
	char *resp; /* normalized response summary ("" for Empty / errors) */
	char *diag; /* setup/transport diagnostics */
	long ms;
};

static struct res g_go[NCASES], g_c[NCASES];
static bool g_go_done, g_c_done;

/* Fixture tracking for the watchdog. */

struct fixture {
	struct it_fx f;
	bool live;
	bool dirty;
	enum fxkind kind;
	uint32_t shim_pid;
	uint32_t inflight; /* stream of a Wait sent by exec_setup (XS_STARTFAILED_INFLIGHT) */
};

/* --- string helpers --- */

__attribute__((format(printf, 1, 2))) static char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		abort();
	va_end(ap);
	return s;
}

/* Replaces the launch dir, the container id, runc's temp process file and \n. */
static char *norm(const struct it_fx *f, const char *s)
{
	size_t cap = strlen(s ? s : "") * 2 + 64, n = 0;
	char *o = malloc(cap);
	const char *dir = f->si.dir, *id = f->si.id;
	size_t dl = strlen(dir), il = strlen(id);

	if (!o)
		abort();
	if (!s)
		s = "(null)";
	while (*s) {
		const char *rep = NULL;
		size_t skip = 0;
		if (dl && strncmp(s, dir, dl) == 0) {
			rep = "$DIR";
			skip = dl;
		} else if (il && strncmp(s, id, il) == 0) {
			rep = "$ID";
			skip = il;
		} else if (strncmp(s, "runc-process", 12) == 0) {
			rep = "runc-process*";
			skip = 12;
			while (isdigit((unsigned char)s[skip]))
				skip++;
		} else if (*s == '\n') {
			rep = "\\n";
			skip = 1;
		}
		if (n + 32 >= cap) {
			cap *= 2;
			o = realloc(o, cap);
			if (!o)
				abort();
		}
		if (rep) {
			n += (size_t)snprintf(o + n, cap - n, "%s", rep);
			s += skip;
		} else {
			o[n++] = *s++;
		}
	}
	o[n] = '\0';
	return o;
}

static const char *ts_class(const Google__Protobuf__Timestamp *ts)
{
	if (!ts)
		return "absent";
	if (ts->seconds == IT_GO_ZERO_SECONDS && ts->nanos == 0)
		return "zero";
	if (ts->seconds == 0 && ts->nanos == 0)
		return "EPOCH";
	time_t now = time(NULL);
	if (ts->seconds > now - 3600 && ts->seconds < now + 60 && ts->nanos >= 0 &&
	    ts->nanos < 1000000000)
		return "set";
	return "BOGUS";
}

static const char *status_name(int s)
{
	static const char *const n[] = { "UNKNOWN", "CREATED", "RUNNING",
					 "STOPPED", "PAUSED",  "PAUSING" };
	return s >= 0 && s <= 5 ? n[s] : "?";
}

static void res_clear(struct res *r)
{
	free(r->msg);
	free(r->resp);
	free(r->diag);
	memset(r, 0, sizeof(*r));
}

static void res_set_diag(struct res *r, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void res_set_diag(struct res *r, int code, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		abort();
	va_end(ap);
	r->code = code;
	free(r->diag);
	r->diag = s;
	if (!r->msg)
		r->msg = strdup("");
	if (!r->resp)
		r->resp = strdup("");
}

/* --- fixtures --- */

static const char *const ARGV_SLEEP[] = { "/bin/sleep", "1000", NULL };
static const char *const ARGV_EXIT7[] = { "/bin/sh", "-c", "exit 7", NULL };
static const char *const ARGV_BAD[] = { "/nonexistent", NULL };

static char *g_json_sleep, *g_json_exit7, *g_json_bad;

/* Runtime for FX_WRAPPED: `checkpoint` writes WORK/dump.log (following whatever is there, as
 * runc's mkdir + open do) and fails the way runc does when criu fails; the rest is runc. */
static char g_ckpt_wrapper[PATH_MAX];
#define CKPT_DUMP_TEXT "cshim-it: injected dump log"
static const char CKPT_WRAPPER_SH[] =
	"#!/bin/sh\n"
	"work= sub= prev=\n"
	"for a in \"$@\"; do\n"
	"\tif [ -n \"$prev\" ]; then\n"
	"\t\t[ \"$prev\" = --work-path ] && work=$a\n"
	"\t\tprev=\n"
	"\t\tcontinue\n"
	"\tfi\n"
	"\tcase $a in\n"
	"\t--root | --log | --log-format | --criu | --work-path | --image-path) prev=$a ;;\n"
	"\t-*) ;;\n"
	"\t*) [ -z \"$sub\" ] && sub=$a ;;\n"
	"\tesac\n"
	"done\n"
	"if [ \"$sub\" = checkpoint ]; then\n"
	"\tmkdir -p \"$work\" && echo '" CKPT_DUMP_TEXT "' >\"$work/dump.log\"\n"
	"\techo 'criu failed: type DUMP errno 0' >&2\n"
	"\texit 1\n"
	"fi\n"
	"exec runc \"$@\"\n";

/* A step of a setup sequence that must succeed: returns false and fills *why otherwise. */
static bool step(struct fixture *fx, int code, char *msg, int want, const char *what, char **why)
{
	bool ok = code == want;
	if (!ok)
		*why = xasprintf("%s: expected %d, got %d \"%s\"%s%s", what, want, code,
				 msg ? msg : (code < 0 ? strerror(-code) : ""), code < 0 ? " " : "",
				 code < 0 ? it_death(&fx->f.si) : "");
	free(msg);
	return ok;
}

/* Zombie children found under a shim at fixture teardown (a reaping bug), per shim. */
static int g_zombies[2];
static char g_zombie_desc[2][1024];

static void fixture_free(struct fixture *fx)
{
	if (!fx->live)
		return;
	if (fx->f.si.pid > 0 && shim_alive(&fx->f.si)) {
		char desc[1024];
		int z = 0;
		for (int i = 0; i < 20; i++) {
			it_proc_children(fx->f.si.pid, &z, desc, sizeof(desc));
			if (!z)
				break;
			usleep(25000);
		}
		if (z) {
			g_zombies[fx->f.is_c] += z;
			snprintf(g_zombie_desc[fx->f.is_c], sizeof(g_zombie_desc[0]),
				 "fixture %s: %.900s", FX_NAMES[fx->kind], desc);
		}
	}
	it_watch(NULL);
	it_fx_free(&fx->f);
	fx->live = false;
}

/* Builds a fixture of the given kind; NULL or a heap error text. */
static char *fixture_build(struct fixture *fx, bool is_c, enum fxkind kind)
{
	const char *e;
	char *msg = NULL, *why = NULL;
	struct shimclient *c;
	uint32_t st = 0;
	int code;
	char tag[64];

	memset(fx, 0, sizeof(*fx));
	snprintf(tag, sizeof(tag), "%s-err-%s", is_c ? "c" : "go", FX_NAMES[kind]);
	fx->live = true;
	fx->kind = kind;
	it_watch(&fx->f);
	e = it_fx_launch(&fx->f, is_c, tag, ARGV_SLEEP);
	if (e)
		return xasprintf("launch: %s", e);
	if (getenv("CSHIM_IT_VERBOSE"))
		fprintf(stderr, "[%s] fixture %s: %s (shim pid %d)\n", is_c ? "c" : "go",
			FX_NAMES[kind], fx->f.si.dir, (int)fx->f.si.pid);
	c = fx->f.c;
	{
		ShimInfoResp *si = NULL;
		Google__Protobuf__Empty em = GOOGLE__PROTOBUF__EMPTY__INIT;
		code = it_call(c, "ShimInfo", &em, D_SHIMINFO_RESP, &si, &msg, OP_TIMEOUT_MS);
		if (code == 0 && si)
			fx->shim_pid = si->shim_pid;
		IT_FREE(si);
		if (!step(fx, code, msg, 0, "ShimInfo", &why))
			return why;
	}
	if (kind == FX_FRESH)
		return NULL;
	if (kind == FX_WRAPPED) {
		CreateReq req = CONTAINERD__RUNTIME__LINUX__SHIM__V1__CREATE_TASK_REQUEST__INIT;
		CreateResp *cr = NULL;
		req.id = fx->f.si.id;
		req.bundle = fx->f.si.bundle;
		req.runtime = g_ckpt_wrapper;
		code = it_call(c, "Create", &req, D_CREATE_RESP, &cr, &msg, 15000);
		IT_FREE(cr);
	} else {
		code = it_create(&fx->f, &msg);
	}
	if (!step(fx, code, msg, 0, "Create", &why))
		return why;
	if (kind == FX_CREATED)
		return NULL;
	code = it_start(c, fx->f.si.id, NULL, &msg, OP_TIMEOUT_MS);
	if (!step(fx, code, msg, 0, "Start", &why))
		return why;
	if (kind == FX_RUNNING || kind == FX_WRAPPED)
		return NULL;
	{
		const char *xid = kind == FX_PAUSED || kind == FX_PAUSED_KILLED ? "px" : "kx";
		code = it_exec(c, xid, g_json_sleep, NULL, NULL, NULL, &msg, OP_TIMEOUT_MS);
		if (!step(fx, code, msg, 0, "Exec(sleep)", &why))
			return why;
		code = it_start(c, xid, NULL, &msg, OP_TIMEOUT_MS);
		if (!step(fx, code, msg, 0, "Start(exec)", &why))
			return why;
	}
	if (kind == FX_PAUSED || kind == FX_PAUSED_KILLED) {
		code = it_empty_call(c, "Pause", D_EMPTY, &msg, OP_TIMEOUT_MS);
		if (!step(fx, code, msg, 0, "Pause", &why))
			return why;
		if (kind == FX_PAUSED)
			return NULL;
		code = it_kill(c, fx->f.si.id, 9, false, &msg, OP_TIMEOUT_MS);
		if (!step(fx, code, msg, 0, "Kill(init, 9)", &why))
			return why;
		return NULL;
	}
	code = it_kill(c, fx->f.si.id, 9, false, &msg, OP_TIMEOUT_MS);
	if (!step(fx, code, msg, 0, "Kill(init, 9)", &why))
		return why;
	code = it_wait(c, fx->f.si.id, &st, &msg, OP_TIMEOUT_MS);
	if (!step(fx, code, msg, 0, "Wait(init)", &why))
		return why;
	if (st != 137)
		return xasprintf("Wait(init) status %u, want 137", st);
	code = it_wait(c, "kx", &st, &msg, OP_TIMEOUT_MS);
	if (!step(fx, code, msg, 0, "Wait(kx)", &why))
		return why;
	if (st != 137)
		return xasprintf("Wait(kx) status %u, want 137", st);
	if (kind == FX_STOPPED)
		return NULL;
	{
		DeleteResp *d = NULL;
		Google__Protobuf__Empty em = GOOGLE__PROTOBUF__EMPTY__INIT;
		code = it_call(c, "Delete", &em, D_DELETE_RESP, &d, &msg, OP_TIMEOUT_MS);
		IT_FREE(d);
		if (!step(fx, code, msg, 0, "Delete", &why))
			return why;
	}
	return NULL;
}

/* Brings the case's exec (id xid) into state xs. NULL or heap error text. */
static char *exec_setup(struct fixture *fx, enum xstate xs, const char *xid)
{
	struct shimclient *c = fx->f.c;
	char *msg = NULL, *why = NULL;
	uint32_t st = 0;
	int code;
	const char *json =
		xs == XS_STOPPED || xs == XS_DELETED ? g_json_exit7
		: (xs == XS_BADCMD || xs == XS_STARTFAILED || xs == XS_STARTFAILED_INFLIGHT)
			? g_json_bad
			: g_json_sleep;

	code = it_exec(c, xid, json, NULL, NULL, NULL, &msg, OP_TIMEOUT_MS);
	if (!step(fx, code, msg, 0, "Exec", &why))
		return why;
	if (xs == XS_CREATED || xs == XS_BADCMD)
		return NULL;
	if (xs == XS_STARTFAILED_INFLIGHT) {
		/* a Wait in flight across the failing Start */
		WaitReq w = CONTAINERD__RUNTIME__LINUX__SHIM__V1__WAIT_REQUEST__INIT;
		uint8_t pl[64], *frame = NULL;
		size_t flen = 0, pn;
		w.id = (char *)xid;
		pn = protobuf_c_message_pack(&w.base, pl);
		fx->inflight = shimclient_next_stream(c);
		if (ttrpc_request_frame(fx->inflight, SHIM_SERVICE, "Wait", pl, pn, 0, &frame,
					&flen) < 0 ||
		    shimclient_send_raw(c, frame, flen) < 0) {
			free(frame);
			return xasprintf("sending Wait failed");
		}
		free(frame);
		if (fx->f.is_c) {
			/* an ordering (see wait_ordered): a State behind it, answered first */
			char *smsg = NULL;
			(void)it_state(c, xid, NULL, NULL, &smsg, OP_TIMEOUT_MS);
			free(smsg);
		} else {
			usleep(100000); /* the Go shim: a reference, no order to lean on */
		}
		if (shimclient_pending_frames(c) != 0)
			return xasprintf("Wait on a created exec returned before Start");
	}
	code = it_start(c, xid, NULL, &msg, OP_TIMEOUT_MS);
	if (xs == XS_STARTFAILED || xs == XS_STARTFAILED_INFLIGHT) {
		free(msg);
		if (code != 2)
			return xasprintf("Start(/nonexistent): expected code 2, got %d", code);
		return NULL;
	}
	if (!step(fx, code, msg, 0, "Start(exec)", &why))
		return why;
	if (xs == XS_RUNNING)
		return NULL;
	code = it_wait(c, xid, &st, &msg, OP_TIMEOUT_MS);
	if (!step(fx, code, msg, 0, "Wait(exec)", &why))
		return why;
	if (st != 7)
		return xasprintf("Wait(exec) status %u, want 7", st);
	if (xs == XS_STOPPED)
		return NULL;
	code = it_delete_process(c, xid, &msg, OP_TIMEOUT_MS);
	if (!step(fx, code, msg, 0, "DeleteProcess(exec)", &why))
		return why;
	return NULL;
}

/* --- operations --- */

static void set_result(struct res *r, const struct it_fx *f, int code, const char *msg, char *resp)
{
	r->code = code;
	r->msg = norm(f, msg ? msg : "");
	r->resp = resp ? resp : strdup("");
}

/* The tree the path cases name, in the launch dir $DIR (idempotent):
 *   $DIR/real/img/   a directory (a checkpoint image dir)
 *   $DIR/lnk         -> $DIR/real
 *   $DIR/file        a regular file
 *   $DIR/victim      a file a planted symlink points to ("victim\n")
 *   $DIR/victimdir/  a directory a planted symlink points to (must stay empty) */
static void ckpt_paths(const struct it_fx *f)
{
	char p[PATH_MAX + 32], t[PATH_MAX + 32];
	FILE *fp;

	it_snprintf(p, sizeof(p), "%s/real", f->si.dir);
	(void)mkdir(p, 0700);
	it_snprintf(p, sizeof(p), "%s/real/img", f->si.dir);
	(void)mkdir(p, 0700);
	it_snprintf(p, sizeof(p), "%s/victimdir", f->si.dir);
	(void)mkdir(p, 0700);
	it_snprintf(t, sizeof(t), "%s/real", f->si.dir);
	it_snprintf(p, sizeof(p), "%s/lnk", f->si.dir);
	(void)symlink(t, p);
	it_snprintf(p, sizeof(p), "%s/file", f->si.dir);
	if ((fp = fopen(p, "we")))
		fclose(fp);
	it_snprintf(p, sizeof(p), "%s/victim", f->si.dir);
	if ((fp = fopen(p, "we"))) {
		fputs("victim\n", fp);
		fclose(fp);
	}
}

/* The path of a V_P_* / V_W_* variant (Checkpoint when ckpt, else Create). */
static void variant_path(const struct it_fx *f, enum variant v, bool ckpt, char *out, size_t n)
{
	const char *d = f->si.dir;
	switch (v) {
	case V_P_REL: it_snprintf(out, n, "%s", ckpt ? "ckpt-rel" : "img-rel"); break;
	case V_P_DOTDOT: it_snprintf(out, n, "%s/real/../%s", d, ckpt ? "ckpt" : "real/img"); break;
	case V_P_CTRL: it_snprintf(out, n, "%s/%s", d, ckpt ? "ck\npt" : "im\ng"); break;
	case V_P_NUL: /* the \001 becomes a NUL in the packed request (call_nul) */
		it_snprintf(out, n, "%s/%s", d, ckpt ? "ck\001pt" : "im\001g");
		break;
	case V_P_SYMLINK: it_snprintf(out, n, "%s/lnk/%s", d, ckpt ? "ckpt" : "img"); break;
	case V_P_NOTDIR: it_snprintf(out, n, "%s/file", d); break;
	case V_P_NOENT: it_snprintf(out, n, "%s/%s", d, ckpt ? "nope/ckpt" : "nope"); break;
	default: /* Checkpoint: a new leaf (the table's original case); Create: existing */
		if (ckpt)
			it_snprintf(out, n, "%s/ckpt", d);
		else
			it_snprintf(out, n, "%s/real/img", d);
	}
}

static bool variant_work(const struct it_fx *f, enum variant v, char *out, size_t n)
{
	switch (v) {
	case V_W_REL: it_snprintf(out, n, "work-rel"); return true;
	case V_W_SYMLINK: it_snprintf(out, n, "%s/lnk/work", f->si.dir); return true;
	case V_W_NEW: it_snprintf(out, n, "%s/work-new", f->si.dir); return true;
	default: return false;
	}
}

/* V_DUMPLINK / V_WORKLINK: plants the symlink, with the victims reset. */
static void plant(const struct it_fx *f, enum variant v)
{
	char p[PATH_MAX + 32], t[PATH_MAX + 32];
	const char *rm[] = { "/bin/rm", "-rf", p, NULL };

	ckpt_paths(f);
	it_snprintf(p, sizeof(p), "%s/victimdir", f->si.dir);
	(void)it_run(rm, 5000, NULL);
	(void)mkdir(p, 0700);
	it_snprintf(p, sizeof(p), "%s/criu-dump.log", f->si.bundle);
	(void)unlink(p);
	it_snprintf(p, sizeof(p), "%s/criu-work", f->si.workdir);
	(void)it_run(rm, 5000, NULL);
	if (v == V_DUMPLINK) {
		it_snprintf(t, sizeof(t), "%s/victim", f->si.dir);
		it_snprintf(p, sizeof(p), "%s/criu-dump.log", f->si.bundle);
	} else {
		it_snprintf(t, sizeof(t), "%s/victimdir", f->si.dir);
		it_snprintf(p, sizeof(p), "%s/criu-work", f->si.workdir);
	}
	(void)symlink(t, p);
}

/* What a failed checkpoint left: BUNDLE/criu-dump.log, the victims, WORKDIR/criu-work. */
static char *planted_summary(const struct it_fx *f)
{
	char p[PATH_MAX + 32], buf[256];
	const char *dump, *victim;
	struct stat st;
	int vd;
	FILE *fp;
	size_t k = 0;

	it_snprintf(p, sizeof(p), "%s/criu-dump.log", f->si.bundle);
	if (lstat(p, &st) < 0) {
		dump = "missing";
	} else if (S_ISLNK(st.st_mode)) {
		dump = "symlink";
	} else if (S_ISREG(st.st_mode)) {
		dump = "file(other)";
		if ((fp = fopen(p, "re"))) {
			k = fread(buf, 1, sizeof(buf) - 1, fp);
			buf[k] = '\0';
			fclose(fp);
			if (strcmp(buf, CKPT_DUMP_TEXT "\n") == 0)
				dump = "file(copied)";
		}
	} else {
		dump = "other";
	}
	it_snprintf(p, sizeof(p), "%s/victim", f->si.dir);
	victim = "missing";
	if ((fp = fopen(p, "re"))) {
		k = fread(buf, 1, sizeof(buf) - 1, fp);
		buf[k] = '\0';
		fclose(fp);
		victim = strcmp(buf, "victim\n") == 0 ? "untouched" : "overwritten";
	}
	it_snprintf(p, sizeof(p), "%s/victimdir", f->si.dir);
	vd = it_count_dir(p);
	it_snprintf(p, sizeof(p), "%s/criu-work", f->si.workdir);
	return xasprintf("criu-dump.log=%s victim=%s victimdir=%s work=%s", dump, victim,
			 vd == 0  ? "empty"
			 : vd > 0 ? "written"
				  : "missing",
			 lstat(p, &st) < 0 ? "removed" : "left");
}

/* Sends req with the \001 of its V_P_NUL path turned into a NUL (a string field with a NUL
 * inside, which protobuf-c cannot pack). Same contract as it_call. */
static int call_nul(struct shimclient *c, const char *method, const ProtobufCMessage *req,
		    const ProtobufCMessageDescriptor *rdesc, void *respp, char **msg, int tmo)
{
	const char *mark = strcmp(method, "Checkpoint") == 0 ? "/ck\001pt" : "/im\001g";
	size_t n = protobuf_c_message_get_packed_size(req);
	uint8_t *buf = malloc(n + 1), *x;
	struct shimclient_reply rep;
	int rc;

	if (!buf)
		abort();
	protobuf_c_message_pack(req, buf);
	if ((x = memmem(buf, n, mark, strlen(mark))))
		x[3] = 0;
	rc = shimclient_call_bytes(c, shimclient_next_stream(c), SHIM_SERVICE, method, buf, n, tmo,
				   &rep);
	free(buf);
	if (rc < 0) {
		*msg = NULL;
		return rc;
	}
	*msg = rep.msg ? rep.msg : strdup("");
	rep.msg = NULL;
	rc = rep.code;
	if (rc == 0 && rdesc && respp)
		*(ProtobufCMessage **)respp =
			protobuf_c_message_unpack(rdesc, NULL, rep.plen, rep.payload);
	shimclient_reply_free(&rep);
	return rc;
}

/*
 * Whether a Wait on cshim blocks, as an ordering rather than a time: cshim registers a Wait,
 * and answers one that can be answered at once, on its loop thread, which handles a
 * connection's frames in the order they arrive, as it does State. So a Wait answered at once
 * is answered before a State sent after it on the same connection; one whose reply has not
 * come when the State's has, blocks. (The Go shim answers each request on a goroutine of its
 * own, with no such order: its runs keep the WAIT_PROBE_MS probe, a reference only.)
 * Same contract as it_call; -ETIMEDOUT: blocks.
 */
static int wait_ordered(struct shimclient *c, const char *id, WaitResp **w, char **msg)
{
	WaitReq req = CONTAINERD__RUNTIME__LINUX__SHIM__V1__WAIT_REQUEST__INIT;
	uint8_t pl[512], *frame = NULL, *body = NULL;
	size_t flen = 0, pn;
	uint32_t sw;
	struct ttrpc_hdr h;
	struct shimclient_reply rep;
	char *smsg = NULL;
	int code;

	req.id = (char *)id;
	if (protobuf_c_message_get_packed_size(&req.base) > sizeof(pl))
		return -EINVAL;
	pn = protobuf_c_message_pack(&req.base, pl);
	sw = shimclient_next_stream(c);
	if (ttrpc_request_frame(sw, SHIM_SERVICE, "Wait", pl, pn, 0, &frame, &flen) < 0)
		return -ENOMEM;
	code = shimclient_send_raw(c, frame, flen);
	free(frame);
	if (code < 0)
		return code;
	/* the barrier: its own answer does not matter, only that it came */
	code = it_state(c, id, NULL, NULL, &smsg, OP_TIMEOUT_MS);
	free(smsg);
	if (code == -ETIMEDOUT || code == -EPIPE)
		return -EPIPE; /* no barrier: a transport failure, not "blocks" */
	code = shimclient_recv_frame(c, sw, 0, &h, &body);
	if (code < 0)
		return code;
	code = shimclient_decode_reply(&h, body, &rep);
	free(body);
	if (code < 0)
		return code;
	code = rep.code;
	*msg = rep.msg ? rep.msg : strdup("");
	rep.msg = NULL;
	if (code == 0)
		*w = containerd__runtime__linux__shim__v1__wait_response__unpack(NULL, rep.plen,
										 rep.payload);
	shimclient_reply_free(&rep);
	return code;
}

static void do_op(struct fixture *fx, const struct ecase *k, const char *id, struct res *r)
{
	struct shimclient *c = fx->f.c;
	struct it_fx *f = &fx->f;
	char *msg = NULL, *resp = NULL;
	int code = -1;
	/* After a SIGKILL to a paused init the exit must come (runc thaws; the shim resumes). */
	int tmo = k->op != OP_WAIT            ? OP_TIMEOUT_MS
		  : k->fx == FX_PAUSED_KILLED ? 3000
					      : WAIT_PROBE_MS;

	switch (k->op) {
	case OP_START: {
		StartReq req = CONTAINERD__RUNTIME__LINUX__SHIM__V1__START_REQUEST__INIT;
		StartResp *s = NULL;
		req.id = (char *)id;
		code = it_call(c, "Start", &req, D_START_RESP, &s, &msg, tmo);
		if (code == 0 && s) {
			char *nid = norm(f, s->id);
			resp = xasprintf("id=%s pid=%s", nid, s->pid ? "+" : "0");
			free(nid);
		}
		IT_FREE(s);
		break;
	}
	case OP_DELETE:
	case OP_DELPROC: {
		DeleteProcReq req =
			CONTAINERD__RUNTIME__LINUX__SHIM__V1__DELETE_PROCESS_REQUEST__INIT;
		Google__Protobuf__Empty em = GOOGLE__PROTOBUF__EMPTY__INIT;
		DeleteResp *d = NULL;
		req.id = (char *)id;
		if (k->op == OP_DELETE)
			code = it_call(c, "Delete", &em, D_DELETE_RESP, &d, &msg, tmo);
		else
			code = it_call(c, "DeleteProcess", &req, D_DELETE_RESP, &d, &msg, tmo);
		if (code == 0 && d)
			resp = xasprintf("pid=%s exit=%u at=%s", d->pid ? "+" : "0", d->exit_status,
					 ts_class(d->exited_at));
		IT_FREE(d);
		break;
	}
	case OP_KILL: code = it_kill(c, id, k->sig, k->all, &msg, tmo); break;
	case OP_PAUSE: code = it_empty_call(c, "Pause", D_EMPTY, &msg, tmo); break;
	case OP_RESUME: code = it_empty_call(c, "Resume", D_EMPTY, &msg, tmo); break;
	case OP_UPDATE: {
		UpdateReq req = CONTAINERD__RUNTIME__LINUX__SHIM__V1__UPDATE_TASK_REQUEST__INIT;
		Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
		const char *v = k->var == V_BADJSON    ? "{"
				: k->var == V_GARBAGE  ? "xx"
				: k->var == V_ARRAY    ? "[]"
				: k->var == V_TRAILING ? "{}x"
				: k->var == V_BADTYPE  ? "{\"pids\":\"x\"}"
						       : "{}";
		any.type_url = IT_RESOURCES_TYPE_URL;
		any.value.data = (uint8_t *)v;
		any.value.len = strlen(v);
		if (k->var != V_MISSING)
			req.resources = &any;
		code = it_call(c, "Update", &req, D_EMPTY, NULL, &msg, tmo);
		break;
	}
	case OP_EXEC: {
		const char *json = k->var == V_BADJSON    ? "{"
				   : k->var == V_GARBAGE  ? "xx"
				   : k->var == V_ARRAY    ? "[]"
				   : k->var == V_TRAILING ? "{}x"
				   : k->var == V_BADTYPE  ? "{\"args\":1}"
				   : k->var == V_MISSING  ? NULL
				   : k->var == V_EXIT7    ? g_json_exit7
							  : g_json_sleep;
		code = it_exec(c, id, json, NULL, NULL, NULL, &msg, tmo);
		break;
	}
	case OP_RESIZE: {
		ResizeReq req = CONTAINERD__RUNTIME__LINUX__SHIM__V1__RESIZE_PTY_REQUEST__INIT;
		req.id = (char *)id;
		req.width = 80;
		req.height = 24;
		code = it_call(c, "ResizePty", &req, D_EMPTY, NULL, &msg, tmo);
		break;
	}
	case OP_CLOSEIO: {
		CloseIOReq req = CONTAINERD__RUNTIME__LINUX__SHIM__V1__CLOSE_IOREQUEST__INIT;
		req.id = (char *)id;
		req.stdin = 1;
		code = it_call(c, "CloseIO", &req, D_EMPTY, NULL, &msg, tmo);
		break;
	}
	case OP_STATE: {
		StateReq req = CONTAINERD__RUNTIME__LINUX__SHIM__V1__STATE_REQUEST__INIT;
		StateResp *s = NULL;
		req.id = (char *)id;
		code = it_call(c, "State", &req, D_STATE_RESP, &s, &msg, tmo);
		if (code == 0 && s) {
			char *nid = norm(f, s->id), *nb = norm(f, s->bundle);
			resp = xasprintf("id=%s bundle=%s st=%s pid=%s exit=%u at=%s", nid, nb,
					 status_name(s->status), s->pid ? "+" : "0", s->exit_status,
					 ts_class(s->exited_at));
			free(nid);
			free(nb);
		}
		IT_FREE(s);
		break;
	}
	case OP_WAIT: {
		WaitReq req = CONTAINERD__RUNTIME__LINUX__SHIM__V1__WAIT_REQUEST__INIT;
		WaitResp *w = NULL;
		req.id = (char *)id;
		if (k->xs == XS_STARTFAILED_INFLIGHT) {
			/* collect the Wait sent before the failed Start */
			struct ttrpc_hdr h;
			uint8_t *body = NULL;
			struct shimclient_reply rep;
			code = shimclient_recv_frame(c, fx->inflight, 2000, &h, &body);
			if (code == 0) {
				code = shimclient_decode_reply(&h, body, &rep);
				free(body);
				if (code == 0) {
					code = rep.code;
					msg = rep.msg;
					rep.msg = NULL;
					if (code == 0)
						w = containerd__runtime__linux__shim__v1__wait_response__unpack(
							NULL, rep.plen, rep.payload);
					shimclient_reply_free(&rep);
				}
			}
		} else if (f->is_c && tmo == WAIT_PROBE_MS) {
			code = wait_ordered(c, id, &w, &msg);
		} else {
			code = it_call(c, "Wait", &req, D_WAIT_RESP, &w, &msg, tmo);
		}
		if (code == 0 && w)
			resp = xasprintf("exit=%u at=%s", w->exit_status, ts_class(w->exited_at));
		IT_FREE(w);
		if (code == -ETIMEDOUT) {
			/* one text for both (the table compares it): for cshim, no reply before a
			 * later State's (wait_ordered); for the Go shim, none within tmo */
			set_result(r, f, R_BLOCKS, "", xasprintf("(no reply)"));
			return;
		}
		break;
	}
	case OP_LISTPIDS: {
		ListPidsReq req = CONTAINERD__RUNTIME__LINUX__SHIM__V1__LIST_PIDS_REQUEST__INIT;
		ListPidsResp *l = NULL;
		req.id = (char *)id;
		code = it_call(c, "ListPids", &req, D_LISTPIDS_RESP, &l, &msg, tmo);
		if (code == 0 && l) {
			size_t det = 0;
			for (size_t i = 0; i < l->n_processes; i++)
				if (l->processes[i]->info)
					det++;
			resp = xasprintf("n=%zu with-details=%zu", l->n_processes, det);
		}
		IT_FREE(l);
		break;
	}
	case OP_CHECKPOINT: {
		CheckpointReq req =
			CONTAINERD__RUNTIME__LINUX__SHIM__V1__CHECKPOINT_TASK_REQUEST__INIT;
		Containerd__Linux__Runc__CheckpointOptions co =
			CONTAINERD__LINUX__RUNC__CHECKPOINT_OPTIONS__INIT;
		Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
		char path[PATH_MAX + 32], work[PATH_MAX + 32];
		uint8_t obuf[2 * PATH_MAX];
		if (k->var != V_DEFAULT)
			ckpt_paths(f);
		variant_path(f, k->var, true, path, sizeof(path));
		req.path = path;
		if (variant_work(f, k->var, work, sizeof(work))) {
			co.work_path = work;
			any.type_url = "containerd.linux.runc.CheckpointOptions";
			any.value.len = protobuf_c_message_pack(&co.base, obuf);
			any.value.data = obuf;
			req.options = &any;
		}
		if (k->var == V_DUMPLINK || k->var == V_WORKLINK)
			plant(f, k->var);
		if (k->var == V_P_NUL)
			code = call_nul(c, "Checkpoint", &req.base, NULL, NULL, &msg, tmo);
		else
			code = it_call(c, "Checkpoint", &req, D_EMPTY, NULL, &msg, tmo);
		if (k->var == V_DUMPLINK || k->var == V_WORKLINK)
			resp = planted_summary(f);
		break;
	}
	case OP_CREATE: {
		CreateReq req = CONTAINERD__RUNTIME__LINUX__SHIM__V1__CREATE_TASK_REQUEST__INIT;
		Containerd__Linux__Runc__CreateOptions co =
			CONTAINERD__LINUX__RUNC__CREATE_OPTIONS__INIT;
		Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
		CreateResp *cr = NULL;
		char path[PATH_MAX + 32], work[PATH_MAX + 32];
		uint8_t obuf[2 * PATH_MAX];
		ckpt_paths(f);
		req.id = f->si.id;
		req.bundle = f->si.bundle;
		req.runtime = "runc";
		variant_path(f, k->var, false, path, sizeof(path));
		req.checkpoint = path;
		if (k->var == V_PARENT_UP)
			req.parent_checkpoint = "../x";
		if (variant_work(f, k->var, work, sizeof(work))) {
			co.criu_work_path = work;
			any.type_url = "containerd.linux.runc.CreateOptions";
			any.value.len = protobuf_c_message_pack(&co.base, obuf);
			any.value.data = obuf;
			req.options = &any;
		}
		if (k->var == V_P_NUL)
			code = call_nul(c, "Create", &req.base, D_CREATE_RESP, &cr, &msg, tmo);
		else
			code = it_call(c, "Create", &req, D_CREATE_RESP, &cr, &msg, tmo);
		if (code == 0 && cr)
			resp = xasprintf("pid=%s", cr->pid ? "+" : "0");
		IT_FREE(cr);
		break;
	}
	}
	if (code < 0) {
		free(resp);
		res_set_diag(r, R_TRANSPORT, "transport error %d (%s) %s", code, strerror(-code),
			     it_death(&f->si));
		free(msg);
		return;
	}
	set_result(r, f, code, msg, resp);
	free(msg);
}

static void case_name(const struct ecase *k, char *out, size_t n)
{
	char extra[64] = "";
	const char *id = k->id;
	if ((k->op == OP_KILL))
		snprintf(extra, sizeof(extra), ", %u%s", k->sig, k->all ? ", all" : "");
	if (k->op == OP_CHECKPOINT || k->op == OP_CREATE) {
		static const char *const vn[] = {
			[V_P_OK] = "dir",
			[V_P_REL] = "relative",
			[V_P_DOTDOT] = "..",
			[V_P_CTRL] = "newline",
			[V_P_NUL] = "NUL",
			[V_P_SYMLINK] = "symlink",
			[V_P_NOTDIR] = "file",
			[V_P_NOENT] = "missing",
			[V_W_REL] = "work relative",
			[V_W_SYMLINK] = "work symlink",
			[V_W_NEW] = "work new",
			[V_PARENT_UP] = "parent ../x",
			[V_DUMPLINK] = "criu-dump.log symlink",
			[V_WORKLINK] = "criu-work symlink",
		};
		if (k->var != V_DEFAULT && k->var < sizeof(vn) / sizeof(vn[0]) && vn[k->var])
			snprintf(extra, sizeof(extra), "%s", vn[k->var]);
	}
	if (k->op == OP_EXEC || k->op == OP_UPDATE) {
		const char *v = k->var == V_BADJSON    ? "json \"{\""
				: k->var == V_GARBAGE  ? "json \"xx\""
				: k->var == V_ARRAY    ? "json \"[]\""
				: k->var == V_TRAILING ? "json \"{}x\""
				: k->var == V_BADTYPE
					? (k->op == OP_EXEC ? "{\"args\":1}" : "{\"pids\":\"x\"}")
				: k->var == V_MISSING
					? (k->op == OP_EXEC ? "no spec" : "no resources")
				: k->op == OP_UPDATE ? "{}"
						     : "";
		if (*v)
			snprintf(extra, sizeof(extra), ", %s", v);
	}
	if (strcmp(id, "@c") == 0)
		id = "cid";
	else if (strcmp(id, "@x") == 0)
		id = "x";
	else if (strcmp(id, "@n") == 0)
		id = "new";
	else if (!*id && (k->op == OP_PAUSE || k->op == OP_RESUME || k->op == OP_UPDATE ||
			  k->op == OP_DELETE || k->op == OP_CHECKPOINT || k->op == OP_CREATE))
		id = NULL;
	else if (!*id)
		id = "\"\"";
	snprintf(out, n, "%s %s(%s%s)", k->row, OP_NAMES[k->op], id ? id : "", extra);
}

/* Runs the whole table against one shim. */
static void run_table(bool is_c, struct res *out)
{
	struct fixture fx = { 0 };
	bool verbose = getenv("CSHIM_IT_VERBOSE") != NULL;
	bool run_gocrash = getenv("CSHIM_ERR_RUN_GOCRASH") != NULL;
	const char *filter = getenv("CSHIM_ERR_FILTER");

	for (size_t i = 0; i < NCASES; i++) {
		const struct ecase *k = &CASES[i];
		struct res *r = &out[i];
		char xid[16], nid[16], name[128];
		const char *id;
		long t0 = it_now_ms();

		res_clear(r);
		case_name(k, name, sizeof(name));
		if (filter && !strstr(name, filter)) {
			res_set_diag(r, R_NOTRUN, "filtered out");
			continue;
		}
		if ((k->flags & F_GOCRASH) && !is_c && !run_gocrash) {
			res_set_diag(r, R_SKIPPED, "not run: %s", k->note);
			continue;
		}
		if (fx.live && (fx.dirty || fx.kind != k->fx || !shim_alive(&fx.f.si) ||
				shimclient_closed(fx.f.c)))
			fixture_free(&fx);
		if (!fx.live) {
			char *e = fixture_build(&fx, is_c, k->fx);
			if (e) {
				res_set_diag(r, R_SETUP, "fixture %s: %s", FX_NAMES[k->fx], e);
				free(e);
				fixture_free(&fx);
				continue;
			}
		}
		snprintf(xid, sizeof(xid), "x%03zu", i);
		snprintf(nid, sizeof(nid), "n%03zu", i);
		if (k->xs != XS_NONE) {
			char *e = exec_setup(&fx, k->xs, xid);
			if (e) {
				res_set_diag(r, R_SETUP, "exec %s: %s", XS_NAMES[k->xs], e);
				free(e);
				fx.dirty = true;
				continue;
			}
		}
		id = strcmp(k->id, "@c") == 0   ? fx.f.si.id
		     : strcmp(k->id, "@x") == 0 ? xid
		     : strcmp(k->id, "@n") == 0 ? nid
						: k->id;
		do_op(&fx, k, id, r);
		if (r->code == R_TRANSPORT)
			fx.dirty = true;
		if (k->flags & F_GOCRASH) {
			/* cshim must stay alive and keep serving this connection */
			char *m = NULL;
			int code = it_empty_call(fx.f.c, "ShimInfo", D_SHIMINFO_RESP, &m,
						 OP_TIMEOUT_MS);
			free(m);
			if (code != 0) {
				free(r->diag);
				r->diag = xasprintf("ShimInfo after the call failed (%d) %s", code,
						    it_death(&fx.f.si));
				fx.dirty = true;
			}
		}
		if ((k->flags & F_MUT) || ((k->flags & F_GOMUT) && !is_c))
			fx.dirty = true;
		r->ms = it_now_ms() - t0;
		if (verbose)
			fprintf(stderr, "[%s] %-52s -> %d \"%s\" %s %s (%ld ms)\n",
				is_c ? "c" : "go", name, r->code, r->msg ? r->msg : "",
				r->resp ? r->resp : "", r->diag ? r->diag : "", r->ms);
	}
	fixture_free(&fx);
}

/* --- table output and verdicts --- */

static void fmt_res(const struct res *r, char *out, size_t n)
{
	switch (r->code) {
	case R_BLOCKS: snprintf(out, n, "blocks"); break;
	case R_TRANSPORT: snprintf(out, n, "TRANSPORT: %s", r->diag ? r->diag : ""); break;
	case R_SETUP: snprintf(out, n, "SETUP FAILED: %s", r->diag ? r->diag : ""); break;
	case R_SKIPPED: snprintf(out, n, "(%s)", r->diag ? r->diag : "skipped"); break;
	case R_NOTRUN: snprintf(out, n, "(not run)"); break;
	default:
		if (r->code == 0)
			snprintf(out, n, "0 %s", r->resp && *r->resp ? r->resp : "ok");
		else
			snprintf(out, n, "%d \"%s\"", r->code, r->msg ? r->msg : "");
	}
}

static bool same(const struct res *a, const struct res *b)
{
	return a->code == b->code && a->code != R_TRANSPORT && a->code != R_SETUP &&
	       strcmp(a->msg ? a->msg : "", b->msg ? b->msg : "") == 0 &&
	       strcmp(a->resp ? a->resp : "", b->resp ? b->resp : "") == 0;
}

/* Verdict of case i: "same", "KNOWN", "ok(c-only)" or "MISMATCH"/"FAIL". */
static const char *verdict(size_t i)
{
	const struct ecase *k = &CASES[i];
	const struct res *g = &g_go[i], *c = &g_c[i];

	if (c->code == R_NOTRUN)
		return "-";
	if (k->flags & F_GOCRASH) {
		if (c->code == k->c_code && !c->diag)
			return "ok(c-only)";
		return "FAIL";
	}
	if (k->flags & F_DELIB) {
		if (c->code != k->c_code || c->diag ||
		    (k->c_msg && !strstr(c->msg ? c->msg : "", k->c_msg)) ||
		    (k->c_resp && strcmp(c->resp ? c->resp : "", k->c_resp) != 0))
			return "FAIL";
		return same(g, c) ? "same" : "DELIB";
	}
	if (same(g, c))
		return "same";
	if (k->flags & F_KNOWN)
		return "KNOWN";
	return "MISMATCH";
}

/*
 * The Go shim's answers, recorded by one run (CSHIM_ERR_GO_RECORD=FILE) and read by another
 * (CSHIM_ERR_GO_REPLAY=FILE) instead of running the Go shim again: `make asan` and `make tsan`
 * compare their instrumented cshim with what the uninstrumented Go shim answered in the plain
 * run just before (the same binary, the same table), and save its ~15 s. The file is used
 * only when it was written for this table (case count, a hash of every case's name and
 * flags) and this Go shim (path, size, mtime); otherwise the Go shim runs. The recording
 * run's root dir, which a few messages contain, is replaced by this run's.
 */
#define GO_REC_MAGIC "cshim-test_errors-go-answers 1"

static uint64_t table_sig(void)
{
	uint64_t h = 14695981039346656037ULL;
	char name[160];
	for (size_t i = 0; i < NCASES; i++) {
		case_name(&CASES[i], name, sizeof(name));
		snprintf(name + strlen(name), sizeof(name) - strlen(name), "|%u|%d",
			 (unsigned)CASES[i].flags, CASES[i].c_code);
		for (const char *p = name; *p; p++)
			h = (h ^ (unsigned char)*p) * 1099511628211ULL;
		h = (h ^ '\n') * 1099511628211ULL;
	}
	return h;
}

static bool go_id(char *out, size_t n)
{
	struct stat st;
	if (stat(it_go_shim(), &st) != 0)
		return false;
	snprintf(out, n, "%s %lld %lld.%09ld", it_go_shim(), (long long)st.st_size,
		 (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
	return true;
}

static void hex_put(FILE *f, const char *s)
{
	if (!s) {
		fputs(" -", f);
		return;
	}
	fputs(" =", f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		fprintf(f, "%02x", *p);
}

/* Decodes one field at *pp (" -" or " =hex") into *out (NULL or heap), replacing old_root with
 * new_root. Returns false on a malformed field. */
static bool hex_get(char **pp, char **out, const char *old_root, const char *new_root)
{
	char *p = *pp, *buf, *r;
	size_t n = 0, ol = strlen(old_root), nl = strlen(new_root), k = 0;

	*out = NULL;
	if (p[0] != ' ' || (p[1] != '-' && p[1] != '='))
		return false;
	if (p[1] == '-') {
		*pp = p + 2;
		return true;
	}
	p += 2;
	while (isxdigit((unsigned char)p[n]))
		n++;
	if (n % 2 || !(buf = malloc(n / 2 + 1)))
		return false;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned v;
		sscanf(p + 2 * i, "%2x", &v);
		buf[i] = (char)v;
	}
	buf[n / 2] = '\0';
	*pp = p + n;
	/* the recording run's root -> ours */
	size_t hits = 0;
	for (const char *q = buf; ol && (q = strstr(q, old_root)); q += ol)
		hits++;
	if (!(r = malloc(n / 2 + hits * nl + 1))) {
		free(buf);
		return false;
	}
	for (const char *q = buf; *q;) {
		if (ol && strncmp(q, old_root, ol) == 0) {
			memcpy(r + k, new_root, nl);
			k += nl;
			q += ol;
		} else {
			r[k++] = *q++;
		}
	}
	r[k] = '\0';
	free(buf);
	*out = r;
	return true;
}

static void go_record(const char *path)
{
	char id[PATH_MAX + 64], tmp[PATH_MAX + 8];
	FILE *f;

	if (!go_id(id, sizeof(id)))
		return;
	it_snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (!(f = fopen(tmp, "we")))
		return;
	fprintf(f, "%s %zu %016" PRIx64 " %s\n%s\n", GO_REC_MAGIC, NCASES, table_sig(), it_root(),
		id);
	for (size_t i = 0; i < NCASES; i++) {
		fprintf(f, "%d", g_go[i].code);
		hex_put(f, g_go[i].msg);
		hex_put(f, g_go[i].resp);
		hex_put(f, g_go[i].diag);
		fputc('\n', f);
	}
	if (fclose(f) != 0 || rename(tmp, path) != 0)
		unlink(tmp);
}

/* Fills g_go from path; false (g_go cleared) if it is not a recording for this table and
 * this Go shim. */
static bool go_replay(const char *path)
{
	char *text = NULL, *p, *nl, magic[64], root[PATH_MAX], id[PATH_MAX + 64];
	size_t n = 0, cap = 0, ncases = 0;
	uint64_t sig = 0;
	bool ok = false;
	FILE *f = fopen(path, "re");

	if (!f || !go_id(id, sizeof(id))) {
		if (f)
			fclose(f);
		return false;
	}
	for (;;) {
		if (cap - n < 65536) {
			char *nt = realloc(text, cap + 1048576);
			if (!nt)
				break;
			text = nt;
			cap += 1048576;
		}
		size_t k = fread(text + n, 1, cap - n - 1, f);
		if (k == 0)
			break;
		n += k;
	}
	fclose(f);
	if (!text)
		return false;
	text[n] = '\0';
	p = text;
	if (!(nl = strchr(p, '\n')))
		goto out;
	*nl = '\0';
	it_snprintf(magic, sizeof(magic), "%s %zu %016" PRIx64 " ", GO_REC_MAGIC, NCASES,
		    table_sig());
	if (strncmp(p, magic, strlen(magic)) != 0 ||
	    sscanf(p, "%*s %*s %zu %" SCNx64, &ncases, &sig) != 2)
		goto out;
	it_snprintf(root, sizeof(root), "%s", p + strlen(magic));
	p = nl + 1;
	if (!(nl = strchr(p, '\n')))
		goto out;
	*nl = '\0';
	if (strcmp(p, id) != 0)
		goto out;
	p = nl + 1;
	for (size_t i = 0; i < NCASES; i++) {
		struct res *r = &g_go[i];
		char *end;
		res_clear(r);
		r->code = (int)strtol(p, &end, 10);
		p = end;
		if (!hex_get(&p, &r->msg, root, it_root()) ||
		    !hex_get(&p, &r->resp, root, it_root()) ||
		    !hex_get(&p, &r->diag, root, it_root()) || *p != '\n')
			goto out;
		p++;
	}
	ok = *p == '\0';
out:
	free(text);
	if (!ok)
		for (size_t i = 0; i < NCASES; i++)
			res_clear(&g_go[i]);
	return ok;
}

/* The Go shim's run of the table: the reference the cshim run is compared with, not a test
 * (a setup of test_c: it counts as no pass; if it cannot complete, test_c fails). */
static int reference_go(void **state)
{
	(void)state;
	long t0 = it_now_ms();
	const char *replay = getenv("CSHIM_ERR_GO_REPLAY"), *record = getenv("CSHIM_ERR_GO_RECORD");
	if (replay && *replay && go_replay(replay)) {
		g_go_done = true;
		print_message(
			"[ REFERENCE ] Go shim: %zu cases as it answered them in the run that "
			"recorded %s\n",
			NCASES, replay);
		return 0;
	}
	if (replay && *replay)
		print_message("[ REFERENCE ] %s: no recording for this table and Go shim: the Go "
			      "shim runs\n",
			      replay);
	run_table(false, g_go);
	g_go_done = true;
	print_message("[ REFERENCE ] Go shim: %zu cases observed in %ld ms\n", NCASES,
		      it_now_ms() - t0);
	if (record && *record)
		go_record(record);
	for (size_t i = 0; i < NCASES; i++)
		if (g_go[i].code == R_SETUP || g_go[i].code == R_TRANSPORT) {
			char name[128];
			case_name(&CASES[i], name, sizeof(name));
			print_error("Go shim: %s: %s\n", name, g_go[i].diag ? g_go[i].diag : "");
		}
	return 0;
}

static void test_c(void **state)
{
	(void)state;
	long t0 = it_now_ms();
	run_table(true, g_c);
	g_c_done = true;
	print_message("cshim: %zu cases in %ld ms\n", NCASES, it_now_ms() - t0);
}

static void test_compare(void **state)
{
	(void)state;
	int bad = 0, known = 0, same_n = 0, conly = 0, delib = 0;
	char a[512], b[512], name[128];

	if (!g_go_done)
		fail_msg("the Go run did not complete");
	if (!g_c_done)
		fail_msg("the cshim run did not complete");

	printf("\n%-3s %-50s | %-60s | %-60s | %s\n", "#", "case", "go", "cshim", "verdict");
	for (size_t i = 0; i < NCASES; i++) {
		const char *v = verdict(i);
		case_name(&CASES[i], name, sizeof(name));
		fmt_res(&g_go[i], a, sizeof(a));
		fmt_res(&g_c[i], b, sizeof(b));
		printf("%-3zu %-50s | %-60.60s | %-60.60s | %s\n", i, name, a, b, v);
		if (strcmp(v, "same") == 0)
			same_n++;
		else if (strcmp(v, "KNOWN") == 0)
			known++;
		else if (strcmp(v, "DELIB") == 0)
			delib++;
		else if (strcmp(v, "ok(c-only)") == 0)
			conly++;
		else if (strcmp(v, "-") != 0)
			bad++;
	}
	printf("\n%zu cases: %d identical, %d cshim-only ok, %d deliberate differences, %d known "
	       "differences, %d failures\n",
	       NCASES, same_n, conly, delib, known, bad);
	for (size_t i = 0; i < NCASES; i++) {
		const char *v = verdict(i);
		if (strcmp(v, "same") == 0 || strcmp(v, "ok(c-only)") == 0 || strcmp(v, "-") == 0)
			continue;
		case_name(&CASES[i], name, sizeof(name));
		fmt_res(&g_go[i], a, sizeof(a));
		fmt_res(&g_c[i], b, sizeof(b));
		printf("%s #%zu %s%s%s\n    go:    %s\n    cshim: %s%s%s\n", v, i, name,
		       CASES[i].note ? " -- " : "", CASES[i].note ? CASES[i].note : "", a, b,
		       g_c[i].diag && g_c[i].code >= 0 ? "\n    diag:  " : "",
		       g_c[i].diag && g_c[i].code >= 0 ? g_c[i].diag : "");
	}
	fflush(stdout);
	for (int k = 0; k < 2; k++)
		if (g_zombies[k])
			printf("%s: %d zombie children under the shim at fixture teardown (last: %s)\n",
			       k ? "cshim" : "go", g_zombies[k], g_zombie_desc[k]);
	if (bad)
		fail_msg("%d of %zu cases differ from the Go shim (or failed on cshim)", bad,
			 NCASES);
	if (g_zombies[1])
		fail_msg("cshim left zombie children (see above)");
}

/* --- cleanup (the watchdog: itutil.h) --- */

static int group_setup(void **state)
{
	(void)state;
	if (geteuid() != 0) {
		print_error("integration tests need root (runc, cgroups)\n");
		return -1;
	}
	if (access(it_go_shim(), X_OK) != 0) {
		print_error("Go shim %s not found (set GOSHIM)\n", it_go_shim());
		return -1;
	}
	if (!it_root())
		return -1;
	g_json_sleep = it_process_json(ARGV_SLEEP);
	g_json_exit7 = it_process_json(ARGV_EXIT7);
	g_json_bad = it_process_json(ARGV_BAD);
	{
		FILE *fp;
		it_snprintf(g_ckpt_wrapper, sizeof(g_ckpt_wrapper), "%s/ckpt-fail.sh", it_root());
		fp = fopen(g_ckpt_wrapper, "we");
		if (!fp || fputs(CKPT_WRAPPER_SH, fp) < 0 || fclose(fp) != 0 ||
		    chmod(g_ckpt_wrapper, 0755) != 0) {
			print_error("cannot write %s: %s\n", g_ckpt_wrapper, strerror(errno));
			return -1;
		}
	}
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	usleep(200000);
	int left = it_leftover_check();
	it_root_remove();
	for (size_t i = 0; i < NCASES; i++) {
		res_clear(&g_go[i]);
		res_clear(&g_c[i]);
	}
	free(g_json_sleep);
	free(g_json_exit7);
	free(g_json_bad);
	return left ? -1 : 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_c, reference_go),
		cmocka_unit_test(test_compare),
	};
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	it_require_cshim("test_errors", it_c_shim());
	it_watchdog_start("test_errors", 100);
	return cmocka_run_group_tests_name("cshim_errors", tests, group_setup, group_teardown);
}
