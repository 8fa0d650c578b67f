/* Planning a block, enforcing it, and undoing it (see engine_int.h). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/note.h"
#include "sema/engine_int.h"
#include "sema/psnwatch.h"


void block_plan(struct sema *s, pid_t pid, struct ias_block_rec *rec, struct plan *p)
{
	size_t i;

	memset(p, 0, sizeof(*p));
	p->pid = pid;
	p->mode = s->policy.block_mode;
	rec->nqps = 0;
	for (i = 0; i < s->qps.n; i++) {
		struct qpt_entry *q = &s->qps.e[i];

		if (q->pid != pid)
			continue;
		if (rec->nqps < IAS_MAX_QPS_PER_BLOCK)
			rec->qpns[rec->nqps++] = q->qpn;
		if (p->mode == IAS_MODE_PAUSE || p->mode == IAS_MODE_CUT) {
			if (q->client_id)
				p->orders++;
			else
				p->fallback++;
		}
	}
	if (p->mode == IAS_MODE_FREEZE || p->fallback)
		p->process_level = 1;
	if (p->mode == IAS_MODE_KILL)
		p->process_level = 2;
	/* The mechanism bits are read back at release. */
	rec->mech = 0;
	rec->qp_orders = p->orders;
	if (p->orders)
		rec->mech |= p->mode == IAS_MODE_CUT ? IAS_MECH_CUT : IAS_MECH_PAUSE;
	if (p->process_level)
		rec->mech |= p->process_level == 2 ? IAS_MECH_KILL : IAS_MECH_FREEZE;
}

void block_eproc_cfg(const struct sema *s, struct eproc_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->cgroup_root = s->cfg.cgroup_root[0] ? s->cfg.cgroup_root : NULL;
	c->block_parent = s->cfg.block_cgroup_parent[0] ? s->cfg.block_cgroup_parent : NULL;
}

void block_undo_from_eproc(const struct eproc_block *b, int64_t block_id, uint64_t pid_start,
			   struct ias_proc_undo *u)
{
	memset(u, 0, sizeof(*u));
	u->block_id = block_id;
	u->pid = b->pid;
	u->pid_start = pid_start;
	u->did = b->did;
	snprintf(u->cgroup, sizeof(u->cgroup), "%s", b->cgroup);
	snprintf(u->origin, sizeof(u->origin), "%s", b->origin);
}

void block_eproc_from_undo(const struct ias_proc_undo *u, struct eproc_block *b)
{
	memset(b, 0, sizeof(*b));
	b->pid = u->pid;
	b->did = u->did;
	snprintf(b->cgroup, sizeof(b->cgroup), "%s", u->cgroup);
	snprintf(b->origin, sizeof(b->origin), "%s", u->origin);
}

int block_same_process(const struct ias_block_rec *rec)
{
	return proc_same(rec->pid, rec->pid_start);
}

/* Freeze (cgroup v2 freezer plus the rdma cap, SIGSTOP where the freezer
 * cannot be used) or kill, from outside the process. What was done is kept
 * in the store under the block id, in the open transaction, so that release
 * can undo it, also after the agent restarted. */
static void process_block(struct sema *s, const struct plan *p, struct eproc_block *b)
{
	struct eproc_cfg c;
	struct ias_proc_undo u;
	char id[64], note[512];
	int r;

	block_eproc_cfg(s, &c);
	if (!s->instance || eproc_id_format(s->instance, p->block_id, id, sizeof(id)) < 0)
		snprintf(id, sizeof(id), "%lld", (long long)p->block_id);
	memset(b, 0, sizeof(*b));
	if (p->pid_start && !proc_same(p->pid, p->pid_start)) {
		log_warn("block %lld: PID %d no longer names the reported process: not touched",
			 (long long)p->block_id, (int)p->pid);
		return;
	}
	if (p->process_level == 2)
		r = eproc_kill(p->pid, b, note, sizeof(note));
	else
		r = eproc_freeze_begin(&c, p->pid, id, s->cfg.rdma_cap, b, note, sizeof(note));
	if (r < 0)
		log_warn("block %lld, PID %d: %s", (long long)p->block_id, (int)p->pid, note);
	else
		log_info("block %lld, PID %d: %s", (long long)p->block_id, (int)p->pid, note);
	block_undo_from_eproc(b, p->block_id, p->pid_start, &u);
	if (b->did && ias_store_proc_undo_set(s->store, &u) < 0)
		log_err("block %lld: what was done is not recorded: %s", (long long)p->block_id,
			ias_store_errmsg(s->store));
}

/* Marks pid's QPs blocked (or not) and sends action (NULL: none) to those
 * registered through libias; returns how many orders went out. */
static uint32_t mark_qps(struct sema *s, pid_t pid, int blocked, const char *action)
{
	uint32_t sent = 0;
	size_t i;

	for (i = 0; i < s->qps.n; i++) {
		struct qpt_entry *q = &s->qps.e[i];

		if (q->pid != pid)
			continue;
		q->blocked = blocked;
		if (q->client_id && action && fx_order(s, q->client_id, q->qpn, q->device, action) == 0)
			sent++;
	}
	return sent;
}

void block_enforce(struct sema *s, const struct plan *p, struct enforced *e)
{
	bool per_qp = p->mode == IAS_MODE_PAUSE || p->mode == IAS_MODE_CUT;

	memset(e, 0, sizeof(*e));
	e->plan = *p;
	if (p->simulated)
		return;
	e->paused = mark_qps(s, p->pid, 1, per_qp ? ias_mode_name(p->mode) : NULL);
	/* The suspect's libias carries the orders out: check from outside. */
	if (per_qp && e->paused && !p->process_level && psnwatch_start(s, p) < 0)
		log_err("block %lld: the PSN watch could not start (out of memory)",
			(long long)p->block_id);
	if (p->process_level)
		process_block(s, p, &e->b);
	/* When the block took effect, in µs (the benchmarks read it): now
	 * for QP orders, a kill or a SIGSTOP; for a cgroup freeze when the
	 * kernel says frozen (freeze.c watches it on the reactor). */
	if (p->process_level == 1 && (e->b.did & EPROC_FROZEN))
		freeze_watch_start(s, p, &e->b);
	else
		freeze_record_enforced(s, p, NULL);
}

void block_unenforce(struct sema *s, struct enforced *e)
{
	const struct plan *p = &e->plan;
	char note[512];

	blocked_del(s, p->pid, p->pid_start);
	if (p->simulated)
		return;
	psnwatch_stop(s, p->pid, p->pid_start);
	mark_qps(s, p->pid, 0, p->mode == IAS_MODE_PAUSE ? "resume" : NULL);
	if (e->b.did) {
		struct eproc_cfg c;

		block_eproc_cfg(s, &c);
		eproc_release(&c, &e->b, note, sizeof(note));
		log_warn("PID %d: enforcement undone, its block was not recorded: %s",
			 (int)p->pid, note);
	}
}

/* The process-level part of block_undo. */
static void undo_process(struct sema *s, const struct ias_block_rec *rec, bool dry_run,
			 bool same, struct ias_note *note)
{
	struct eproc_block b;
	struct eproc_cfg c;
	struct ias_proc_undo u;
	char text[1200], enote[512];

	block_eproc_cfg(s, &c);
	if (ias_store_proc_undo_get(s->store, rec->id, &u) == 0) {
		block_eproc_from_undo(&u, &b);
		if (!same && (b.did & (EPROC_MOVED | EPROC_SIGSTOP))) {
			/* Another process has the PID now: only the block
			 * cgroup is removed, nothing is moved or signalled. */
			b.did &= ~(unsigned)(EPROC_MOVED | EPROC_SIGSTOP);
			ias_note_add(note, "PID %d now names another process: not moved, not signalled",
				     (int)rec->pid);
		}
		if (dry_run) {
			if (eproc_format(&b, text, sizeof(text)) != 0)
				text[0] = '\0';
			ias_note_add(note, "would undo: %s", text);
		} else {
			eproc_release(&c, &b, enote, sizeof(enote));
			ias_note_add(note, "%s", enote);
			block_undo_from_eproc(&b, rec->id, u.pid_start, &u);
			ias_store_proc_undo_set(s->store, &u);
		}
	} else if (rec->mech & IAS_MECH_KILL) {
		ias_note_add(note, "process was killed: nothing to undo");
	} else if (!same) {
		ias_note_add(note, "process %d is gone: nothing to thaw", (int)rec->pid);
	} else if (dry_run) {
		ias_note_add(note, "would send SIGCONT to %d", (int)rec->pid);
	} else if (kill(rec->pid, SIGCONT) == 0) {
		ias_note_add(note, "SIGCONT sent to %d", (int)rec->pid);
	} else {
		ias_note_add(note, "SIGCONT to %d failed: %s", (int)rec->pid, strerror(errno));
	}
}

void block_undo(struct sema *s, const struct ias_block_rec *rec, bool dry_run, char *buf,
		size_t buflen)
{
	struct ias_note note = { buf, buflen, 0 };
	struct ias_proc_undo u;
	int same = block_same_process(rec);
	uint32_t resumed = 0;
	size_t i;

	buf[0] = '\0';
	if (rec->simulated) {
		ias_note_add(&note, "dry-run block: nothing was enforced, nothing to undo");
		return;
	}
	if (!same)
		ias_note_add(&note, "the process is gone%s: its QPs are not touched",
			     proc_same(rec->pid, 0) ? " (its PID names another process)" : "");
	for (i = 0; same && i < s->qps.n; i++) {
		struct qpt_entry *q = &s->qps.e[i];

		if (q->pid != rec->pid)
			continue;
		if (!dry_run)
			q->blocked = 0;
		if (q->client_id && (rec->mech & IAS_MECH_PAUSE)) {
			if (!dry_run)
				fx_order(s, q->client_id, q->qpn, q->device, "resume");
			resumed++;
		}
	}
	if ((rec->mech & IAS_MECH_PAUSE) && same)
		ias_note_add(&note, "%s %u QP(s) through libias", dry_run ? "would resume" : "resumed",
			     resumed);
	if (rec->mech & IAS_MECH_CUT)
		ias_note_add(&note, "cut QPs are in the error state and cannot resume: "
			     "the application must reconnect");
	if (!dry_run)
		psnwatch_stop(s, rec->pid, rec->pid_start);
	/* A pause the PSN watch escalated has a freeze to undo too: its
	 * undo row says so (the record's mechanism bits say pause). */
	if ((rec->mech & (IAS_MECH_FREEZE | IAS_MECH_KILL)) ||
	    ias_store_proc_undo_get(s->store, rec->id, &u) == 0)
		undo_process(s, rec, dry_run, same, &note);
	if (rec->mech == 0)
		ias_note_add(&note, "nothing was enforced (no QPs were known)");
}
