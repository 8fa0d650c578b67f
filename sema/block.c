/* Planning a block, enforcing it, and undoing it (see engine_int.h). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/note.h"
#include "sema/engine_int.h"

const char *const engine_mode_names[] = { "pause", "cut", "freeze", "kill" };

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
	/* The mechanism string is read back at release: keep its grammar. */
	rec->mechanism[0] = '\0';
	if (p->orders)
		snprintf(rec->mechanism, sizeof(rec->mechanism), "%s(%u)",
			 engine_mode_names[p->mode], p->orders);
	if (p->process_level)
		snprintf(rec->mechanism + strlen(rec->mechanism),
			 sizeof(rec->mechanism) - strlen(rec->mechanism), "%s%s",
			 rec->mechanism[0] ? "," : "", p->process_level == 2 ? "kill" : "freeze");
	if (!rec->mechanism[0])
		snprintf(rec->mechanism, sizeof(rec->mechanism), "none");
}

void block_eproc_cfg(const struct sema *s, struct eproc_cfg *c)
{
	c->cgroup_root = s->cfg.cgroup_root[0] ? s->cfg.cgroup_root : NULL;
	c->block_parent = s->cfg.block_cgroup_parent[0] ? s->cfg.block_cgroup_parent : NULL;
}

void block_eproc_key(int64_t block_id, char *key, size_t len)
{
	snprintf(key, len, "eproc:%lld", (long long)block_id);
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
	char id[64], note[512], key[48], text[1200];
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
	block_eproc_key(p->block_id, key, sizeof(key));
	if (b->did && eproc_format(b, text, sizeof(text)) == 0 &&
	    ias_store_kv_set(s->store, key, text) < 0)
		log_err("block %lld: what was done is not recorded: %s", (long long)p->block_id,
			ias_store_errmsg(s->store));
}

void block_enforce(struct sema *s, const struct plan *p, struct enforced *e)
{
	size_t i;

	memset(e, 0, sizeof(*e));
	e->plan = *p;
	if (p->simulated)
		return;
	for (i = 0; i < s->qps.n; i++) {
		struct qpt_entry *q = &s->qps.e[i];

		if (q->pid != p->pid)
			continue;
		q->blocked = 1;
		if (q->client_id && (p->mode == IAS_MODE_PAUSE || p->mode == IAS_MODE_CUT) &&
		    fx_order(s, q->client_id, q->qpn, q->device, engine_mode_names[p->mode]) == 0 &&
		    p->mode == IAS_MODE_PAUSE)
			e->paused++;
	}
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
	size_t i;

	blocked_del(s, p->pid, p->pid_start);
	if (p->simulated)
		return;
	for (i = 0; i < s->qps.n; i++) {
		struct qpt_entry *q = &s->qps.e[i];

		if (q->pid != p->pid)
			continue;
		q->blocked = 0;
		if (q->client_id && p->mode == IAS_MODE_PAUSE)
			fx_order(s, q->client_id, q->qpn, q->device, "resume");
	}
	if (e->b.did) {
		struct eproc_cfg c;

		block_eproc_cfg(s, &c);
		eproc_release(&c, &e->b, note, sizeof(note));
		log_warn("PID %d: enforcement undone, its block was not recorded: %s",
			 (int)p->pid, note);
	}
}

int mech_has(const char *mech, const char *word)
{
	size_t n = strlen(word);
	const char *p = mech;

	while ((p = strstr(p, word))) {
		if ((p == mech || p[-1] == ',') && (p[n] == '\0' || p[n] == ',' || p[n] == '('))
			return 1;
		p += n;
	}
	return 0;
}

/* The process-level part of block_undo. */
static void undo_process(struct sema *s, const struct ias_block_rec *rec, bool dry_run,
			 bool same, struct ias_note *note)
{
	struct eproc_block b;
	struct eproc_cfg c;
	char key[48], text[1200], enote[512];

	block_eproc_key(rec->id, key, sizeof(key));
	block_eproc_cfg(s, &c);
	if (ias_store_kv_get(s->store, key, text, sizeof(text)) == 0 &&
	    eproc_parse(text, &b) == 0) {
		if (!same && (b.did & (EPROC_MOVED | EPROC_SIGSTOP))) {
			/* Another process has the PID now: only the block
			 * cgroup is removed, nothing is moved or signalled. */
			b.did &= ~(unsigned)(EPROC_MOVED | EPROC_SIGSTOP);
			ias_note_add(note, "PID %d now names another process: not moved, not signalled",
				     (int)rec->pid);
		}
		if (dry_run) {
			ias_note_add(note, "would undo: %s", text);
		} else {
			eproc_release(&c, &b, enote, sizeof(enote));
			ias_note_add(note, "%s", enote);
			if (eproc_format(&b, text, sizeof(text)) == 0)
				ias_store_kv_set(s->store, key, text);
		}
	} else if (mech_has(rec->mechanism, "kill")) {
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
	int same = block_same_process(rec);
	uint32_t resumed = 0;
	size_t i;

	buf[0] = '\0';
	if (rec->simulated) {
		ias_note_add(&note, "dry-run block: nothing was enforced, nothing to undo");
		return;
	}
	for (i = 0; same && i < s->qps.n; i++) {
		struct qpt_entry *q = &s->qps.e[i];

		if (q->pid != rec->pid)
			continue;
		if (!dry_run)
			q->blocked = 0;
		if (q->client_id && mech_has(rec->mechanism, "pause")) {
			if (!dry_run)
				fx_order(s, q->client_id, q->qpn, q->device, "resume");
			resumed++;
		}
	}
	if (mech_has(rec->mechanism, "pause"))
		ias_note_add(&note, "%s %u QP(s) through libias", dry_run ? "would resume" : "resumed",
			     resumed);
	if (mech_has(rec->mechanism, "cut"))
		ias_note_add(&note, "cut QPs are in the error state and cannot resume: "
			     "the application must reconnect");
	if (mech_has(rec->mechanism, "freeze") || mech_has(rec->mechanism, "kill"))
		undo_process(s, rec, dry_run, same, &note);
	if (mech_has(rec->mechanism, "none"))
		ias_note_add(&note, "nothing was enforced (no QPs were known)");
}
