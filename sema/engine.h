/* The agent's decisions: report -> block, release, expiry, escalation,
 * restore, the never-block list and dry-run. The engine calls only the
 * modules below it (store, qptable, procinfo, enforce_proc, rdmanl) and the
 * effects interface (sema/effects.h); every entry runs inside one unit of
 * work (sema/uow.h): rows written, then enforced, then committed, then
 * acknowledged. */
#ifndef IAS_SEMA_ENGINE_H
#define IAS_SEMA_ENGINE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "sema/sema.h"
#include "sema/store.h"

struct sema_uow;

struct report_req {
	pid_t pid;
	const char *reason;	/* NULL: "reported" */
	const char *origin;	/* "analyzer", "trace", "manual", "manager" */
	const char *actor;	/* for the audit log */
	bool override;		/* block even if on the never-block list */
	bool dry_run;		/* simulate only (a dry-run trace), whatever the policy */
	uint32_t duration_s;	/* 0: policy with escalation */
	const char *incident;	/* join this incident; NULL opens a new one */
	bool trace_on;		/* send the first traces (hop 1) once enforced,
				 * before the commit */
};

/* Inside the open unit of work u. Returns 0 with a new block in *out; 1 when
 * the process (PID and start time) already has an active block that is part
 * of this incident, or no incident was named (a duplicate: the block in
 * *out); 2 when the process is blocked for another incident and now joins
 * rq->incident too (an event says so; the block in *out); or a negative
 * errno: -ESRCH no such process, -EACCES on the never-block list (why in
 * msg), -EIO store failure (msg says why; the caller aborts the unit). */
int engine_report(struct sema *s, struct sema_uow *u, const struct report_req *rq,
		  struct ias_block_rec *out, char *msg, size_t msglen);

struct release_sel {
	pid_t pid;		/* 0: any */
	int64_t block_id;	/* 0: any */
	const char *incident;	/* NULL: any */
};
typedef void (*release_cb)(const struct ias_block_rec *rec, void *arg);

/* Releases every active block matching sel (exactly one selector is set),
 * each in a unit of work of its own. Calls cb for each with the record as
 * released (release_note says what each mechanism did). With dry_run
 * nothing changes and the note says what would be done. Returns the count,
 * or -ENOENT (nothing matched), -EALREADY (the block id names a released
 * block), -EIO. A process that merely reuses a blocked PID is never
 * touched. */
int engine_release(struct sema *s, const struct release_sel *sel, bool dry_run,
		   const char *actor, release_cb cb, void *arg);

/* 1 if the process now running under pid has an active block (dry-run ones
 * too); engine_blocked_in: and is part of incident. From memory. */
int engine_blocked(struct sema *s, pid_t pid);
int engine_blocked_in(struct sema *s, pid_t pid, const char *incident);

/* What status reports (the control socket's and the MAD's): blocks active
 * and in all, incidents. From the store; 0 or negative errno. */
struct engine_counts {
	uint32_t blocks_active;
	uint32_t blocks_total;
	uint32_t incidents;
};
int engine_counts(struct sema *s, struct engine_counts *c);

/* Releases blocks whose end has passed. */
void engine_expire_due(struct sema *s);
/* At start: re-apply the active blocks found in the store. */
int engine_restore(struct sema *s);
/* At start, after engine_restore: block cgroups no active block explains.
 * Orphans of this database instance are undone (or adopted as recovered
 * blocks when s->adopt_orphans); cgroups of another instance refuse the
 * start (-EEXIST, err names them) unless release_foreign, which thaws and
 * removes them. 0 or -EEXIST. */
int engine_recover(struct sema *s, bool release_foreign, char *err, size_t errlen);
/* Frees the engine's memory (at exit). */
void engine_free(struct sema *s);
/* A QP was registered or found: if its owner is blocked, block it too. */
void engine_qp_appeared(struct sema *s, struct qpt_entry *q);
/* 1 if the process is on the never-block list (why filled), else 0. The
 * verdict is cached per process (PID and start time) while the allow-list
 * and the configured lists are unchanged: a hit costs one /proc/PID/stat
 * read, no store access. A process that does not exist: 0. */
int engine_never_block(struct sema *s, pid_t pid, char *why, size_t whylen);
/* Computes the never-block verdict ahead of need (a QP of pid appeared). */
void engine_never_block_prime(struct sema *s, pid_t pid);
/* Refresh the QP table from the kernel (rdma netlink); 0 or -errno. */
int engine_kernel_scan(struct sema *s);
/* Refresh one QP's kernel view (owner, state) with one rdma netlink exchange
 * on a kept-open socket; falls back to engine_kernel_scan when the look-up
 * cannot answer. Sets s->kernel_rdma like the scan. 0 or -errno. */
int engine_kernel_lookup(struct sema *s, const char *device, uint32_t qpn);

/* A new incident id of this node ("I-<tag>-<seq>"), never one handed out
 * before in this run; inside the caller's open unit of work. 0 or -EIO. */
int engine_new_incident_id(struct sema *s, char *out, size_t outlen);

/* CLOCK_REALTIME in microseconds (see sema_now_us). */
int64_t engine_now_us(void);

#endif
