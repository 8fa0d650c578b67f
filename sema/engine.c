/* See engine.h: the entries (report, release, expiry, restore, a QP that
 * appears). Planning and enforcement are block.c, the blocked set
 * blocked.c, the never-block list neverblock.c, the kernel view kscan.c,
 * the unit of work uow.c. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "common/log.h"
#include "mad_defs/incident.h"
#include "mad_defs/secmgt.h"
#include "sema/crash.h"
#include "sema/effects.h"
#include "sema/engine_int.h"
#include "sema/outbox.h"
#include "sema/uow.h"

static void copy(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%s", src ? src : "");
}

int64_t engine_now_us(void)
{
	return sema_now_us();
}

int fx_order(struct sema *s, uint64_t client_id, uint32_t qpn, const char *device,
	     const char *action)
{
	if (!s->fx || !s->fx->send_order)
		return -ENOENT;
	return s->fx->send_order(s->fx->ctx, client_id, qpn, device, action);
}

/* A fresh incident id. A sequence number handed out to a unit of work that
 * was then rolled back is skipped: it is never issued twice in a run. */
int engine_new_incident_id(struct sema *s, char *out, size_t outlen)
{
	uint64_t seq;

	do {
		seq = ias_store_next_seq(s->store, "incident");
		if (!seq)
			return -EIO;
	} while (seq <= s->incident_seq_used);
	s->incident_seq_used = seq;
	return ias_incident_format(ias_incident_make(ias_incident_tag(s->cfg.node_name), seq),
				   out, outlen) ? -EIO : 0;
}

static void event_of(struct sema *s, struct ias_incident_event *ev, const char *incident,
		     pid_t pid, const char *kind)
{
	memset(ev, 0, sizeof(*ev));
	copy(ev->incident, sizeof(ev->incident), incident);
	ev->ts_us = sema_now_us();
	ev->ts_ms = ev->ts_us / 1000;
	copy(ev->node, sizeof(ev->node), s->cfg.node_name);
	ev->pid = pid;
	copy(ev->kind, sizeof(ev->kind), kind);
}

/* ---- report --------------------------------------------------------------- */

struct find_active {
	struct ias_block_rec *out;
	uint64_t start;		/* the running process's start time */
	int found;
	int64_t stale[8];	/* active blocks of earlier processes with this PID */
	unsigned nstale;
};

static int find_active_cb(const struct ias_block_rec *rec, void *arg)
{
	struct find_active *f = arg;

	if (rec->pid_start && f->start && rec->pid_start != f->start) {
		if (f->nstale < sizeof(f->stale) / sizeof(f->stale[0]))
			f->stale[f->nstale++] = rec->id;
		return 0;
	}
	*f->out = *rec;
	f->found = 1;
	return 1;
}

static uint64_t escalate(struct sema *s, uint32_t offence)
{
	uint64_t d = s->policy.base_duration_ms, max = s->policy.max_duration_ms;
	uint32_t i;

	if (d == 0)
		return 0;	/* no end */
	for (i = 1; i < offence && d < max; i++) {
		if (s->policy.escalation && d > max / s->policy.escalation) {
			d = max;
			break;
		}
		d *= s->policy.escalation ? s->policy.escalation : 1;
	}
	return max && d > max ? max : d;
}

/* The process is blocked already: a duplicate (1), or it joins another
 * incident (2). */
static int already_blocked(struct sema *s, const struct report_req *rq,
			   const struct ias_block_rec *rec, uint64_t start, char *msg, size_t msglen)
{
	struct ias_incident_event ev;

	if (!rq->incident || !*rq->incident || strcmp(rec->incident, rq->incident) == 0 ||
	    blocked_in_incident(s, rec->pid, start, rq->incident))
		return 1;
	event_of(s, &ev, rq->incident, rec->pid, "joined");
	snprintf(ev.text, sizeof(ev.text), "%d (%s) already blocked by block %lld (incident %s): "
		 "part of this incident too", (int)rec->pid, rec->comm, (long long)rec->id,
		 rec->incident);
	if (ias_store_incident_event_add(s->store, &ev) < 0) {
		snprintf(msg, msglen, "store: %s", ias_store_errmsg(s->store));
		return -EIO;
	}
	blocked_add(s, rec->pid, start, rq->incident);
	return 2;
}

/* Release blocks of processes that are gone, whose PID another process now
 * has (inside the unit). */
static int release_stale(struct sema *s, const struct find_active *fa, pid_t pid)
{
	unsigned i;

	for (i = 0; i < fa->nstale; i++) {
		if (ias_store_block_release(s->store, fa->stale[i], sema_now_ms(),
					    "the process is gone: its PID names another process") < 0)
			return -EIO;
		log_info("block %lld: PID %d names another process now; released",
			 (long long)fa->stale[i], (int)pid);
	}
	return 0;
}

/* The incident the block belongs to: the one named (recorded here if it was
 * opened elsewhere) or a new one. */
static int open_incident(struct sema *s, const struct report_req *rq, struct ias_block_rec *out,
			 int64_t now)
{
	struct ias_incident_rec inc;

	if (rq->incident && *rq->incident) {
		copy(out->incident, sizeof(out->incident), rq->incident);
		if (ias_store_incident_get(s->store, out->incident, &inc) == 0)
			return 0;
	} else if (!out->incident[0] &&
		   engine_new_incident_id(s, out->incident, sizeof(out->incident)) < 0) {
		return -EIO;
	}
	memset(&inc, 0, sizeof(inc));
	copy(inc.id, sizeof(inc.id), out->incident);
	copy(inc.origin, sizeof(inc.origin), rq->origin);
	copy(inc.node, sizeof(inc.node), s->cfg.node_name);
	inc.opened_ms = now;
	inc.root_pid = rq->pid;
	copy(inc.reason, sizeof(inc.reason), out->reason);
	copy(inc.state, sizeof(inc.state), "open");
	return ias_store_incident_add(s->store, &inc) < 0 ? -EIO : 0;
}

/* The rows of a new block, in the open transaction. */
static int write_block(struct sema *s, const struct report_req *rq, struct ias_block_rec *out,
		       struct ias_alert_rec *al, int64_t now, int64_t now_us)
{
	struct ias_incident_event ev;
	char detail[512], mech[32];

	ias_mech_str(out->mech, out->qp_orders, mech, sizeof(mech));
	if (open_incident(s, rq, out, now) < 0 || ias_store_block_add(s->store, out) < 0)
		return -EIO;
	event_of(s, &ev, out->incident, rq->pid, out->simulated ? "would-block" : "block");
	ev.ts_us = now_us;
	ev.ts_ms = now;
	snprintf(ev.text, sizeof(ev.text), "%s %d (%s): %u QP(s), %s; %s",
		 out->simulated ? "would block" : "blocked", (int)rq->pid, out->comm,
		 out->nqps, mech, out->reason);
	if (ias_store_incident_event_add(s->store, &ev) < 0)
		return -EIO;
	snprintf(detail, sizeof(detail), "block %lld pid %d (%s) qps %u mechanism %s "
		 "offence %u until %lld incident %s%s",
		 (long long)out->id, (int)rq->pid, out->comm, out->nqps, mech,
		 out->offence, (long long)out->until_ms, out->incident,
		 out->simulated ? " (dry-run)" : "");
	if (ias_store_audit(s->store, now, rq->actor, "block", detail) < 0)
		return -EIO;
	memset(al, 0, sizeof(*al));
	al->pid = rq->pid;
	copy(al->incident, sizeof(al->incident), out->incident);
	copy(al->reason, sizeof(al->reason), out->reason);
	al->created_ms = now;
	if (ias_store_alert_push(s->store, al) < 0)
		return -EIO;
	if (outbox_add(s, IAS_REPORT_BLOCK, out->incident, out->id, rq->pid, out->nqps,
		       out->comm, 0, 0) < 0)
		return -EIO;
	return 0;
}

/* Decide: the record of the block, not yet written. */
static void decide(struct sema *s, const struct report_req *rq, const struct proc_info *pi,
		   struct ias_block_rec *out, struct plan *plan, int64_t now)
{
	uint32_t earlier = 0;
	uint64_t dur_ms;

	engine_kernel_scan(s);
	copy(out->origin, sizeof(out->origin), rq->origin);
	copy(out->node, sizeof(out->node), s->cfg.node_name);
	out->pid = rq->pid;
	out->pid_start = pi->starttime;
	out->uid = pi->uid;
	copy(out->comm, sizeof(out->comm), pi->comm);
	copy(out->exe, sizeof(out->exe), pi->exe);
	copy(out->reason, sizeof(out->reason), rq->reason && *rq->reason ? rq->reason : "reported");
	out->created_ms = now;
	out->simulated = s->policy.dry_run || rq->dry_run;
	block_plan(s, rq->pid, out, plan);
	plan->pid_start = pi->starttime;
	if (ias_store_offence_count(s->store, pi->exe, pi->uid,
				    now - (int64_t)s->cfg.offence_window, &earlier) < 0)
		earlier = 0;
	out->offence = earlier + 1;
	dur_ms = rq->duration_s ? (uint64_t)rq->duration_s * 1000 : escalate(s, out->offence);
	if (s->policy.max_duration_ms && dur_ms > s->policy.max_duration_ms)
		dur_ms = s->policy.max_duration_ms;
	out->until_ms = dur_ms ? now + (int64_t)dur_ms : 0;
}

int engine_report(struct sema *s, struct sema_uow *u, const struct report_req *rq,
		  struct ias_block_rec *out, char *msg, size_t msglen)
{
	struct ias_block_filter f = { .pid = rq->pid };
	struct find_active fa = { .out = out };
	struct ias_alert_rec al;
	struct proc_info pi;
	struct enforced enf;
	struct plan plan;
	char mech[32];
	int64_t now_us = sema_now_us(), now = now_us / 1000;

	msg[0] = '\0';
	memset(out, 0, sizeof(*out));
	if (proc_info_get(rq->pid, &pi)) {
		snprintf(msg, msglen, "no process with PID %d", (int)rq->pid);
		return -ESRCH;
	}
	if (never_block_pi(s, &pi, msg, msglen)) {
		if (!rq->override)
			return -EACCES;
		log_notice("PID %d: %s; blocking anyway (override by %s)",
			   (int)rq->pid, msg, rq->actor);
		msg[0] = '\0';
	}
	fa.start = pi.starttime;
	if (ias_store_blocks_foreach(s->store, &f, find_active_cb, &fa) < 0)
		goto store_fail;
	if (fa.found)
		return already_blocked(s, rq, out, pi.starttime, msg, msglen);
	if (release_stale(s, &fa, rq->pid) < 0)
		goto store_fail;

	decide(s, rq, &pi, out, &plan, now);
	sema_crash_point("decide");
	/* The first traces leave as soon as the block is decided: the
	 * incident id is all they need (a new one is drawn here), and the
	 * other nodes' blocks do not wait for this node's rows or its
	 * enforcement. The traces' own events join the unit of work. */
	if (rq->incident && *rq->incident)
		copy(out->incident, sizeof(out->incident), rq->incident);
	else if (engine_new_incident_id(s, out->incident, sizeof(out->incident)) < 0)
		goto store_fail;
	if (rq->trace_on && s->fx && s->fx->send_traces)
		s->fx->send_traces(s->fx->ctx, out->incident, rq->pid, 1, 0,
				   out->simulated ? SEMA_TRACE_DRY_RUN : 0);
	if (write_block(s, rq, out, &al, now, now_us) < 0)
		goto store_fail;
	sema_crash_point("rows");

	/* Written (not yet durable): act now, acknowledge after the commit. */
	plan.block_id = out->id;
	copy(plan.incident, sizeof(plan.incident), out->incident);
	plan.simulated = out->simulated;
	blocked_add(s, rq->pid, pi.starttime, out->incident);
	block_enforce(s, &plan, &enf);
	if (uow_enforced(u, &enf) < 0) {
		snprintf(msg, msglen, "out of memory");
		return -ENOMEM;
	}
	sema_crash_point("enforce");
	s->stats.blocks_total++;
	uow_ack_alert(u, &al, rq->origin);
	uow_ack_log(u, LOG_NOTICE, "%s PID %d (%s): %u QP(s), %s, incident %s, offence %u",
		    out->simulated ? "dry-run: would block" : "blocked", (int)rq->pid,
		    pi.comm, out->nqps, ias_mech_str(out->mech, out->qp_orders, mech, sizeof(mech)),
		    out->incident, out->offence);
	uow_kick(u);
	return 0;

store_fail:
	snprintf(msg, msglen, "store: %s", ias_store_errmsg(s->store));
	return -EIO;
}

/* ---- release ---------------------------------------------------------------- */

struct collect {
	struct ias_block_rec *v;
	size_t n, cap;
	int64_t only_id;
};

static int collect_cb(const struct ias_block_rec *rec, void *arg)
{
	struct collect *c = arg;

	if (c->only_id && rec->id != c->only_id)
		return 0;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 8;
		struct ias_block_rec *nv = realloc(c->v, cap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		c->v = nv;
		c->cap = cap;
	}
	c->v[c->n++] = *rec;
	return 0;
}

static int release_rows(struct sema *s, struct ias_block_rec *rec, const char *actor, int64_t now)
{
	struct ias_incident_event ev;
	char detail[512];

	if (ias_store_block_release(s->store, rec->id, now, rec->release_note) < 0)
		return -EIO;
	rec->released_ms = now;
	snprintf(detail, sizeof(detail), "block %lld pid %d: %s", (long long)rec->id,
		 (int)rec->pid, rec->release_note);
	if (ias_store_audit(s->store, now, actor, "release", detail) < 0)
		return -EIO;
	if (rec->incident[0]) {
		event_of(s, &ev, rec->incident, rec->pid, "release");
		snprintf(ev.text, sizeof(ev.text), "released %d: %s", (int)rec->pid,
			 rec->release_note);
		if (ias_store_incident_event_add(s->store, &ev) < 0)
			return -EIO;
	}
	return outbox_add(s, IAS_REPORT_RELEASE, rec->incident, rec->id, rec->pid, rec->nqps,
			  rec->comm, 0, 0) < 0 ? -EIO : 0;
}

static int release_one(struct sema *s, struct ias_block_rec *rec, bool dry_run,
		       const char *actor, const char *why)
{
	struct sema_uow u;
	int64_t now = sema_now_ms();
	char note[256];

	if (dry_run) {
		block_undo(s, rec, true, note, sizeof(note));
		snprintf(rec->release_note, sizeof(rec->release_note), "%s: %s", why, note);
		return 0;
	}
	if (uow_begin(s, &u, NULL, 0) < 0)
		return -EIO;
	/* The undo is not deferred: a release that fails to commit leaves the
	 * block active and the process free, which the restore re-applies. */
	block_undo(s, rec, false, note, sizeof(note));
	snprintf(rec->release_note, sizeof(rec->release_note), "%s: %s", why, note);
	if (release_rows(s, rec, actor, now) < 0) {
		uow_abort(&u);
		return -EIO;
	}
	uow_kick(&u);
	uow_ack_log(&u, LOG_NOTICE, "released block %lld (PID %d): %s", (long long)rec->id,
		    (int)rec->pid, rec->release_note);
	if (uow_commit(&u, NULL, 0) < 0)
		return -EIO;
	blocked_del(s, rec->pid, rec->pid_start);
	return 0;
}

int engine_release(struct sema *s, const struct release_sel *sel, bool dry_run,
		   const char *actor, release_cb cb, void *arg)
{
	struct ias_block_filter f = { .pid = sel->pid, .incident = sel->incident };
	struct collect c = { .only_id = sel->block_id };
	size_t i;
	int r = 0, count = 0;

	if (sel->block_id) {
		struct ias_block_rec rec;

		r = ias_store_block_get(s->store, sel->block_id, &rec);
		if (r < 0)
			return r == -ENOENT ? -ENOENT : -EIO;
		if (rec.released_ms)
			return -EALREADY;
	}
	if (ias_store_blocks_foreach(s->store, &f, collect_cb, &c) < 0) {
		free(c.v);
		return -EIO;
	}
	for (i = 0; i < c.n; i++) {
		char why[64];

		snprintf(why, sizeof(why), "released by %s", actor);
		r = release_one(s, &c.v[i], dry_run, actor, why);
		if (r < 0)
			break;
		if (cb)
			cb(&c.v[i], arg);
		count++;
	}
	free(c.v);
	if (r < 0)
		return r;
	return count ? count : -ENOENT;
}

void engine_expire_due(struct sema *s)
{
	struct ias_block_filter f = { .expired_before_ms = sema_now_ms() };
	struct collect c = { 0 };
	size_t i;

	if (ias_store_blocks_foreach(s->store, &f, collect_cb, &c) < 0) {
		log_err("store: %s", ias_store_errmsg(s->store));
		free(c.v);
		return;
	}
	for (i = 0; i < c.n; i++)
		if (release_one(s, &c.v[i], false, "expiry", "expired") < 0)
			log_err("block %lld: expiry not recorded: %s", (long long)c.v[i].id,
				ias_store_errmsg(s->store));
	free(c.v);
}

/* ---- restore and QPs that appear -------------------------------------------- */

static int restore_cb(const struct ias_block_rec *rec, void *arg)
{
	struct sema *s = arg;
	int same = block_same_process(rec);
	char mech[32];
	size_t i;

	if (!same) {
		log_info("block %lld: PID %d (%s) is gone%s; nothing re-applied", (long long)rec->id,
			 (int)rec->pid, rec->comm, proc_same(rec->pid, 0) ? " (its PID names another process)" : "");
		return 0;
	}
	blocked_add(s, rec->pid, rec->pid_start, rec->incident);
	if (rec->simulated)
		return 0;
	for (i = 0; i < s->qps.n; i++)
		if (s->qps.e[i].pid == rec->pid)
			s->qps.e[i].blocked = 1;
	/* A cgroup freeze outlives the agent; a SIGSTOP fallback may have been
	 * undone by a SIGCONT from anyone of the same user meanwhile. */
	if (rec->mech & IAS_MECH_FREEZE) {
		struct ias_proc_undo u;

		if (ias_store_proc_undo_get(s->store, rec->id, &u) != 0 || (u.did & EPROC_SIGSTOP))
			kill(rec->pid, SIGSTOP);
	}
	log_info("restored block %lld: PID %d (%s), %s, incident %s", (long long)rec->id,
		 (int)rec->pid, rec->comm, ias_mech_str(rec->mech, rec->qp_orders, mech, sizeof(mech)),
		 rec->incident);
	return 0;
}

int engine_restore(struct sema *s)
{
	struct ias_block_filter f = { 0 };

	blocked_reset(s);
	return ias_store_blocks_foreach(s->store, &f, restore_cb, s);
}

void engine_free(struct sema *s)
{
	freeze_watch_stop_all(s);
	blocked_reset(s);
}

struct appeared {
	struct sema *s;
	struct qpt_entry *q;
};

static int appeared_cb(const struct ias_block_rec *rec, void *arg)
{
	struct appeared *a = arg;
	struct qpt_entry *q = a->q;

	if (!block_same_process(rec))
		return 0;
	if (rec->simulated)
		return 1;
	q->blocked = 1;
	if (q->client_id && ((rec->mech & (IAS_MECH_PAUSE | IAS_MECH_CUT)) || rec->mech == 0))
		fx_order(a->s, q->client_id, q->qpn, q->device,
			 (rec->mech & IAS_MECH_CUT) ? "cut" : "pause");
	log_info("QP %s/0x%x of blocked PID %d blocked on sight (block %lld)", q->device,
		 q->qpn, (int)q->pid, (long long)rec->id);
	return 1;
}

void engine_qp_appeared(struct sema *s, struct qpt_entry *q)
{
	struct ias_block_filter f = { .pid = q->pid };
	struct appeared a = { s, q };

	if (q->pid <= 0)
		return;
	if (blocked_has(s, q->pid, 0))
		ias_store_blocks_foreach(s->store, &f, appeared_cb, &a);
	else
		engine_never_block_prime(s, q->pid);	/* ready for a trace */
}

static int count_block_cb(const struct ias_block_rec *rec, void *arg)
{
	(void)rec;
	(*(uint32_t *)arg)++;
	return 0;
}

static int count_incident_cb(const struct ias_incident_rec *rec, void *arg)
{
	(void)rec;
	(*(uint32_t *)arg)++;
	return 0;
}

int engine_counts(struct sema *s, struct engine_counts *c)
{
	struct ias_block_filter active = { 0 }, all = { .include_released = 1 };
	int r;

	memset(c, 0, sizeof(*c));
	if ((r = ias_store_blocks_foreach(s->store, &active, count_block_cb, &c->blocks_active)) < 0 ||
	    (r = ias_store_blocks_foreach(s->store, &all, count_block_cb, &c->blocks_total)) < 0 ||
	    (r = ias_store_incidents_foreach(s->store, count_incident_cb, &c->incidents)) < 0)
		return r;
	return 0;
}
