/* Internal to the engine's files (engine.c, block.c, blocked.c,
 * neverblock.c, kscan.c, uow.c): not for the modules above the engine. */
#ifndef IAS_SEMA_ENGINE_INT_H
#define IAS_SEMA_ENGINE_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "sema/enforce_proc.h"
#include "sema/engine.h"
#include "sema/procinfo.h"

/* What a block does to a process, decided before it is recorded. */
struct plan {
	int64_t block_id;	/* names the block cgroup */
	pid_t pid;
	uint64_t pid_start;	/* the process's start time (0: unknown) */
	unsigned mode;
	uint32_t orders;	/* QPs told to pause/cut through libias */
	int process_level;	/* 1: freeze, 2: SIGKILL */
	uint32_t fallback;	/* QPs without libias that forced process level */
	char incident[32];	/* for the "enforced" event */
	bool simulated;		/* dry-run: remembered as blocked, nothing enforced */
};

/* What one enforcement did, so that a unit of work whose commit failed can
 * undo it. */
struct enforced {
	struct plan plan;
	struct eproc_block b;	/* b.did == 0: no process-level action */
	uint32_t paused;	/* pause or cut orders sent */
};


/* block.c: planning, enforcement and its undo. */
void block_plan(struct sema *s, pid_t pid, struct ias_block_rec *rec, struct plan *p);
/* Enforces p (QP orders, freeze/kill) and records the "enforced" event and
 * the process undo state inside the open transaction; fills *e. */
void block_enforce(struct sema *s, const struct plan *p, struct enforced *e);
/* Undoes e after its unit of work failed to commit: resume, thaw, forget. */
void block_unenforce(struct sema *s, struct enforced *e);
/* Undo what a recorded block did (release, expiry); say what into buf. */
void block_undo(struct sema *s, const struct ias_block_rec *rec, bool dry_run, char *buf,
		size_t buflen);
void block_eproc_cfg(const struct sema *s, struct eproc_cfg *c);
/* Between what enforce_proc did and the store's undo row. */
void block_undo_from_eproc(const struct eproc_block *b, int64_t block_id, uint64_t pid_start,
			   struct ias_proc_undo *u);
void block_eproc_from_undo(const struct ias_proc_undo *u, struct eproc_block *b);
/* rec's process is the one still running under rec->pid (same start time,
 * or the start time is unknown and the PID exists). */
int block_same_process(const struct ias_block_rec *rec);

/* freeze.c: the asynchronous confirmation of a freeze. */
void freeze_watch_start(struct sema *s, const struct plan *p, const struct eproc_block *b);
void freeze_watch_stop_all(struct sema *s);
/* The "enforced" incident event of p, now; how: NULL or a note. */
void freeze_record_enforced(struct sema *s, const struct plan *p, const char *how);

/* blocked.c: the in-memory set of blocked processes (PID + start time) and
 * the incidents each is part of. */
int blocked_add(struct sema *s, pid_t pid, uint64_t start, const char *incident);
void blocked_del(struct sema *s, pid_t pid, uint64_t start);
/* 1 if pid (with that start time; 0: read it from /proc) is in the set. */
int blocked_has(struct sema *s, pid_t pid, uint64_t start);
/* 1 if pid is blocked and part of incident. */
int blocked_in_incident(struct sema *s, pid_t pid, uint64_t start, const char *incident);
void blocked_reset(struct sema *s);

/* neverblock.c */
int never_block_pi(struct sema *s, const struct proc_info *pi, char *why, size_t whylen);

/* engine.c: the effects, NULL-safe. */
int fx_order(struct sema *s, uint64_t client_id, uint32_t qpn, const char *device,
	     const char *action);

#endif
