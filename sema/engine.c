/* See engine.h. */
#include <errno.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/note.h"
#include "sema/ctl_ops.h"
#include "sema/engine.h"
#include "sema/enforce_proc.h"
#include "sema/procinfo.h"
#include "sema/rdmanl.h"
#include "sema/report.h"
#include "sema/trace.h"

static const char *const mode_names[] = { "pause", "cut", "freeze", "kill" };

static void copy(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%s", src ? src : "");
}

int64_t engine_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void engine_incident_id(struct sema *s, uint64_t seq, char *out, size_t outlen)
{
	/* A short tag from the node name keeps ids unique across the fabric
	 * without coordination (FNV-1a, 24 bits). */
	uint32_t h = 2166136261u;
	const char *p;

	for (p = s->cfg.node_name; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	snprintf(out, outlen, "I-%06x-%llu", h & 0xffffff, (unsigned long long)seq);
}

/* ---- never-block list ---------------------------------------------------- */

static int list_has(const struct ias_cfg_list *l, const char *v)
{
	unsigned i;

	if (!v || !*v)
		return 0;
	for (i = 0; i < l->n; i++)
		if (strcmp(l->item[i], v) == 0)
			return 1;
	return 0;
}

struct allow_match {
	const struct proc_info *pi;
	const char *user;
	const char *unit;
	char *why;
	size_t whylen;
	int hit;
};

static int allow_cb(const struct ias_allow_rec *a, void *arg)
{
	struct allow_match *m = arg;
	char pidbuf[16];
	const char *have = NULL;

	if (strcmp(a->kind, "exe") == 0)
		have = m->pi->exe;
	else if (strcmp(a->kind, "comm") == 0)
		have = m->pi->comm;
	else if (strcmp(a->kind, "user") == 0)
		have = m->user;
	else if (strcmp(a->kind, "unit") == 0)
		have = m->unit;
	else if (strcmp(a->kind, "pid") == 0) {
		snprintf(pidbuf, sizeof(pidbuf), "%d", (int)m->pi->pid);
		have = pidbuf;
	}
	if (have && *have && strcmp(have, a->value) == 0) {
		snprintf(m->why, m->whylen, "%s %s is on the allowlist (entry %lld)",
			 a->kind, a->value, (long long)a->id);
		m->hit = 1;
		return 1;
	}
	return 0;
}

static int never_block_pi(struct sema *s, const struct proc_info *pi, char *why, size_t whylen)
{
	struct allow_match m = { .pi = pi, .why = why, .whylen = whylen };
	char user[64] = "", unit[256] = "";
	struct passwd pw, *pwp = NULL;
	char pwbuf[1024];

	if (pi->pid == 1) {
		snprintf(why, whylen, "PID 1 (init) is never blocked");
		return 1;
	}
	if (pi->pid == getpid()) {
		snprintf(why, whylen, "PID %d is this agent", (int)pi->pid);
		return 1;
	}
	if (getpwuid_r(pi->uid, &pw, pwbuf, sizeof(pwbuf), &pwp) == 0 && pwp)
		copy(user, sizeof(user), pw.pw_name);
	proc_unit(pi->cgroup, unit, sizeof(unit));
	if (list_has(&s->cfg.never_block_exe, pi->exe)) {
		snprintf(why, whylen, "executable %s is on the never-block list", pi->exe);
		return 1;
	}
	if (list_has(&s->cfg.never_block_comm, pi->comm)) {
		snprintf(why, whylen, "command %s is on the never-block list", pi->comm);
		return 1;
	}
	if (list_has(&s->cfg.never_block_user, user)) {
		snprintf(why, whylen, "user %s is on the never-block list", user);
		return 1;
	}
	if (list_has(&s->cfg.never_block_unit, unit)) {
		snprintf(why, whylen, "unit %s is on the never-block list", unit);
		return 1;
	}
	m.user = user;
	m.unit = unit;
	/* The walk returns the callback's non-zero stop value on a hit. */
	if (ias_store_allow_foreach(s->store, allow_cb, &m) < 0)
		log_warn("allowlist not readable: %s", ias_store_errmsg(s->store));
	return m.hit;
}

/* ---- in-memory views for the trace fast path --------------------------------
 *
 * A Set(Trace) is forwarded before anything is written; deciding whether to
 * forward needs "is the owner already blocked?" (loop-freedom, idempotency)
 * and "is the owner on the never-block list?". Both are answered from memory:
 * the set of PIDs with an active block mirrors the store (filled at restore,
 * added to when a block's transaction committed, removed from at release),
 * and never-block verdicts are cached per process (PID + start time), keyed
 * by the allow-list generation and the configured lists. The block itself
 * still re-checks everything against /proc and the store. */

static struct {
	pid_t *v;
	size_t n, cap;
} bset;

static int bset_has(pid_t pid)
{
	size_t i;

	for (i = 0; i < bset.n; i++)
		if (bset.v[i] == pid)
			return 1;
	return 0;
}

static void bset_add(pid_t pid)
{
	if (bset_has(pid))
		return;
	if (bset.n == bset.cap) {
		size_t cap = bset.cap ? bset.cap * 2 : 16;
		pid_t *nv = realloc(bset.v, cap * sizeof(*nv));

		if (!nv) {
			log_err("out of memory: PID %d not remembered as blocked", (int)pid);
			return;
		}
		bset.v = nv;
		bset.cap = cap;
	}
	bset.v[bset.n++] = pid;
}

static void bset_del(pid_t pid)
{
	size_t i;

	for (i = 0; i < bset.n; i++)
		if (bset.v[i] == pid) {
			bset.v[i] = bset.v[--bset.n];
			return;
		}
}

#define NBCACHE 256
static struct nb_entry {
	pid_t pid;
	uint64_t starttime;
	uint64_t allow_gen;
	uint64_t cfg_hash;
	int verdict;
	int statfd;		/* its /proc/PID/stat + 1; 0: none */
	char why[160];
} nbcache[NBCACHE];


static uint64_t hash_list(uint64_t h, const struct ias_cfg_list *l)
{
	unsigned i;
	const char *p;

	for (i = 0; i < l->n; i++) {
		for (p = l->item[i]; *p; p++)
			h = (h ^ (uint8_t)*p) * 1099511628211ull;
		h = (h ^ 0xff) * 1099511628211ull;
	}
	return (h ^ 0xfe) * 1099511628211ull;
}

static uint64_t never_block_cfg_hash(const struct sema *s)
{
	uint64_t h = 14695981039346656037ull;

	h = hash_list(h, &s->cfg.never_block_exe);
	h = hash_list(h, &s->cfg.never_block_comm);
	h = hash_list(h, &s->cfg.never_block_user);
	return hash_list(h, &s->cfg.never_block_unit);
}

/* The cached verdict still holds: same process (checked through the
 * descriptor bound to it: one pread), same allow-list and configuration. */
static bool nb_valid(struct sema *s, const struct nb_entry *e, pid_t pid)
{
	return pid > 0 && e->pid == pid && e->statfd > 0 &&
	       e->allow_gen == ias_store_allow_gen(s->store) &&
	       e->cfg_hash == never_block_cfg_hash(s) &&
	       proc_stat_same(e->statfd - 1, e->starttime);
}

/* Computes and caches the verdict for pi. */
static int nb_fill(struct sema *s, const struct proc_info *pi, char *why, size_t whylen)
{
	struct nb_entry *e = &nbcache[(unsigned)pi->pid % NBCACHE];
	uint64_t gen = ias_store_allow_gen(s->store), h = never_block_cfg_hash(s);

	int fd;

	e->pid = 0;
	e->why[0] = '\0';
	if (e->statfd > 0)
		close(e->statfd - 1);
	fd = proc_stat_open(pi->pid);
	e->statfd = fd >= 0 ? fd + 1 : 0;
	e->verdict = never_block_pi(s, pi, e->why, sizeof(e->why));
	e->pid = pi->pid;
	e->starttime = pi->starttime;
	e->allow_gen = gen;
	e->cfg_hash = h;
	if (why && whylen)
		snprintf(why, whylen, "%s", e->why);
	return e->verdict;
}

void engine_never_block_prime(struct sema *s, pid_t pid)
{
	struct nb_entry *e = &nbcache[(unsigned)pid % NBCACHE];
	struct proc_info pi;

	if (pid <= 0 || nb_valid(s, e, pid))
		return;
	if (proc_info_get(pid, &pi) == 0)
		nb_fill(s, &pi, NULL, 0);
}

int engine_never_block(struct sema *s, pid_t pid, char *why, size_t whylen)
{
	struct nb_entry *e = &nbcache[(unsigned)pid % NBCACHE];
	struct proc_info pi;

	if (nb_valid(s, e, pid)) {
		snprintf(why, whylen, "%s", e->why);
		return e->verdict;
	}
	if (proc_info_get(pid, &pi))
		return 0;
	return nb_fill(s, &pi, why, whylen);
}

/* ---- kernel view ---------------------------------------------------------- */

static int kqp_cb(const struct ias_kqp *k, void *arg)
{
	struct sema *s = arg;
	struct qpt_entry *q;

	if (!k->has_pid)
		return 0;	/* kernel-owned QP (GSI/SMI of the MAD layer) */
	q = qpt_upsert(&s->qps, k->dev_name, k->lqpn);
	if (!q)
		return -ENOMEM;
	if ((q->sources & QPT_SRC_LIBIAS) && q->pid && q->pid != (pid_t)k->pid) {
		s->stats.kernel_conflicts++;
		log_warn("QP %s/0x%x: registered by PID %d but the kernel says PID %u; "
			 "keeping the kernel's", k->dev_name, k->lqpn, (int)q->pid, k->pid);
	}
	q->pid = (pid_t)k->pid;
	q->type = k->type;
	q->state = k->state;
	q->port = k->port;
	if (k->has_rqpn && !q->has_remote) {
		q->remote_qpn = k->rqpn;
		q->has_remote = 1;
	}
	if (!(q->sources & QPT_SRC_KERNEL) && !q->kernel_seen)
		engine_qp_appeared(s, q);
	q->sources |= QPT_SRC_KERNEL;
	q->kernel_seen = 1;
	return 0;
}

int engine_kernel_scan(struct sema *s)
{
	int r;

	qpt_kernel_begin(&s->qps);
	r = ias_rdmanl_dump_qps(kqp_cb, s);
	if (r < 0) {
		if (s->kernel_rdma)
			log_info("rdma netlink no longer answers: %s", strerror(-r));
		s->kernel_rdma = 0;
		/* Keep what we knew: a failed read is not the kernel saying
		 * the QPs are gone. */
		return r;
	}
	if (!s->kernel_rdma)
		log_info("reading QP ownership from the kernel (rdma netlink)");
	s->kernel_rdma = 1;
	qpt_kernel_sweep(&s->qps);
	return 0;
}

/* Kept-open rdma netlink handle for one-QP look-ups (registrations). */
static struct ias_rdmanl *knl;

int engine_kernel_lookup(struct sema *s, const char *device, uint32_t qpn)
{
	struct ias_kqp k;
	struct qpt_entry *q;
	int r;

	if (!knl && (r = ias_rdmanl_open(&knl)) < 0)
		return engine_kernel_scan(s) < 0 ? r : 0;
	r = ias_rdmanl_find_qp(knl, device, qpn, &k);
	if (r < 0 && r != -ENODEV) {
		/* Anything but a clear answer: the full scan decides, as
		 * before (and records that the kernel no longer answers). */
		log_debug("QP %s/0x%x: look-up failed (%s); full scan", device, qpn, strerror(-r));
		return engine_kernel_scan(s);
	}
	if (!s->kernel_rdma)
		log_info("reading QP ownership from the kernel (rdma netlink)");
	s->kernel_rdma = 1;
	if (r == 1 && k.has_pid) {
		r = kqp_cb(&k, s);
		return r < 0 ? r : 0;
	}
	/* The kernel reports no such QP of a process: forget an older view. */
	q = qpt_find(&s->qps, device, qpn);
	if (q && (q->sources & QPT_SRC_KERNEL)) {
		q->sources &= ~QPT_SRC_KERNEL;
		q->kernel_seen = 0;
		if (!q->sources)
			qpt_remove(&s->qps, device, qpn);
	}
	return 0;
}

/* ---- enforcement ---------------------------------------------------------- */

/* What a block does to a process, decided before it is recorded. */
struct plan {
	int64_t block_id;	/* names the block cgroup */
	unsigned mode;
	uint32_t orders;	/* QPs told to pause/cut through libias */
	int process_level;	/* 1: SIGSTOP, 2: SIGKILL */
	uint32_t fallback;	/* QPs without libias that forced process level */
	uint64_t pid_start;	/* the process's start time, for its undo row */
	char incident[32];	/* for the "enforced" event */
	bool simulated;		/* dry-run: remembered as blocked, nothing enforced */
};

static void plan_block(struct sema *s, pid_t pid, struct ias_block_rec *rec, struct plan *p)
{
	size_t i;

	memset(p, 0, sizeof(*p));
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

/* Blocks recorded inside a caller's transaction are enforced only once that
 * transaction is durable (engine_apply_deferred); the agent runs one
 * reactor, so a small fixed list is enough. */
#define DEFER_MAX 64
static struct {
	pid_t pid;
	struct plan plan;
} deferred[DEFER_MAX];
static unsigned ndeferred;

static void apply_block(struct sema *s, pid_t pid, const struct plan *p);

static void apply_or_defer(struct sema *s, pid_t pid, const struct plan *p)
{
	if (!ias_store_in_transaction(s->store) || ndeferred == DEFER_MAX) {
		apply_block(s, pid, p);
		return;
	}
	deferred[ndeferred].pid = pid;
	deferred[ndeferred].plan = *p;
	ndeferred++;
}

void engine_apply_deferred(struct sema *s, bool committed)
{
	unsigned i;

	for (i = 0; committed && i < ndeferred; i++)
		apply_block(s, deferred[i].pid, &deferred[i].plan);
	ndeferred = 0;
}

static void eproc_cfg_of(const struct sema *s, struct eproc_cfg *c)
{
	c->cgroup_root = s->cfg.cgroup_root[0] ? s->cfg.cgroup_root : NULL;
	c->block_parent = s->cfg.block_cgroup_parent[0] ? s->cfg.block_cgroup_parent : NULL;
}

static void undo_from_eproc(const struct eproc_block *b, int64_t block_id, uint64_t pid_start,
			    struct ias_proc_undo *u)
{
	memset(u, 0, sizeof(*u));
	u->block_id = block_id;
	u->pid = b->pid;
	u->pid_start = pid_start;
	u->did = b->did;
	copy(u->cgroup, sizeof(u->cgroup), b->cgroup);
	copy(u->origin, sizeof(u->origin), b->origin);
}

static void eproc_from_undo(const struct ias_proc_undo *u, struct eproc_block *b)
{
	memset(b, 0, sizeof(*b));
	b->pid = u->pid;
	b->did = u->did;
	copy(b->cgroup, sizeof(b->cgroup), u->cgroup);
	copy(b->origin, sizeof(b->origin), u->origin);
}

/* Freeze (cgroup v2 freezer plus the rdma cap, SIGSTOP where the freezer
 * cannot be used) or kill, from outside the process. What was done is kept
 * in the store under the block id so that release can undo it, also after
 * the agent restarted. */
static void process_block(struct sema *s, pid_t pid, const struct plan *p)
{
	struct eproc_block b;
	struct eproc_cfg c;
	struct ias_proc_undo u;
	char id[32], note[512];
	int r;

	eproc_cfg_of(s, &c);
	snprintf(id, sizeof(id), "%lld", (long long)p->block_id);
	memset(&b, 0, sizeof(b));
	if (p->process_level == 2)
		r = eproc_kill(pid, &b, note, sizeof(note));
	else
		r = eproc_freeze(&c, pid, id, s->cfg.rdma_cap, &b, note, sizeof(note));
	if (r < 0)
		log_warn("block %lld, PID %d: %s", (long long)p->block_id, (int)pid, note);
	else
		log_info("block %lld, PID %d: %s", (long long)p->block_id, (int)pid, note);
	undo_from_eproc(&b, p->block_id, p->pid_start, &u);
	if (b.did && ias_store_proc_undo_set(s->store, &u) < 0)
		log_err("block %lld: what was done is not recorded: %s", (long long)p->block_id,
			ias_store_errmsg(s->store));
}

static void apply_block(struct sema *s, pid_t pid, const struct plan *p)
{
	size_t i;

	bset_add(pid);
	if (p->simulated)
		return;
	for (i = 0; i < s->qps.n; i++) {
		struct qpt_entry *q = &s->qps.e[i];

		if (q->pid != pid)
			continue;
		q->blocked = 1;
		if (q->client_id && (p->mode == IAS_MODE_PAUSE || p->mode == IAS_MODE_CUT))
			ctl_send_order(s->ctl, q->client_id, q->qpn, q->device,
				       mode_names[p->mode]);
	}
	if (p->process_level)
		process_block(s, pid, p);
	if (p->incident[0]) {
		struct ias_incident_event ev;

		/* When the block took effect (after its commit), in µs: the
		 * fabric benchmark reads it. */
		memset(&ev, 0, sizeof(ev));
		copy(ev.incident, sizeof(ev.incident), p->incident);
		ev.ts_us = engine_now_us();
		ev.ts_ms = ev.ts_us / 1000;
		copy(ev.node, sizeof(ev.node), s->cfg.node_name);
		ev.pid = pid;
		copy(ev.kind, sizeof(ev.kind), "enforced");
		snprintf(ev.text, sizeof(ev.text), "block %lld of %d in force",
			 (long long)p->block_id, (int)pid);
		if (ias_store_incident_event_add(s->store, &ev) < 0)
			log_err("incident %s: event not recorded: %s", p->incident,
				ias_store_errmsg(s->store));
	}
}

/* Undo what is reversible; say exactly what was done into note. */
static void undo_block(struct sema *s, const struct ias_block_rec *rec, bool dry_run,
		       char *buf, size_t buflen)
{
	struct ias_note note = { buf, buflen, 0 };
	int alive = proc_same(rec->pid, 0);
	uint32_t resumed = 0;
	size_t i;

	buf[0] = '\0';
	if (rec->simulated) {
		ias_note_add(&note, "dry-run block: nothing was enforced, nothing to undo");
		return;
	}
	for (i = 0; i < s->qps.n; i++) {
		struct qpt_entry *q = &s->qps.e[i];

		if (q->pid != rec->pid)
			continue;
		if (!dry_run)
			q->blocked = 0;
		if (q->client_id && (rec->mech & IAS_MECH_PAUSE)) {
			if (!dry_run)
				ctl_send_order(s->ctl, q->client_id, q->qpn, q->device, "resume");
			resumed++;
		}
	}
	if ((rec->mech & IAS_MECH_PAUSE))
		ias_note_add(&note, "%s %u QP(s) through libias", dry_run ? "would resume" : "resumed",
			 resumed);
	if ((rec->mech & IAS_MECH_CUT))
		ias_note_add(&note, "cut QPs are in the error state and cannot resume: "
			 "the application must reconnect");
	if ((rec->mech & IAS_MECH_FREEZE) || (rec->mech & IAS_MECH_KILL)) {
		struct eproc_block b;
		struct eproc_cfg c;
		struct ias_proc_undo u;
		char text[1200], enote[512];

		eproc_cfg_of(s, &c);
		if (ias_store_proc_undo_get(s->store, rec->id, &u) == 0) {
			eproc_from_undo(&u, &b);
			if (dry_run) {
				if (eproc_format(&b, text, sizeof(text)) != 0)
					text[0] = '\0';
				ias_note_add(&note, "would undo: %s", text);
			} else {
				eproc_release(&c, &b, enote, sizeof(enote));
				ias_note_add(&note, "%s", enote);
				undo_from_eproc(&b, rec->id, u.pid_start, &u);
				ias_store_proc_undo_set(s->store, &u);
			}
		} else if ((rec->mech & IAS_MECH_KILL)) {
			ias_note_add(&note, "process was killed: nothing to undo");
		} else if (!alive) {
			ias_note_add(&note, "process %d is gone: nothing to thaw", (int)rec->pid);
		} else if (dry_run) {
			ias_note_add(&note, "would send SIGCONT to %d", (int)rec->pid);
		} else if (kill(rec->pid, SIGCONT) == 0) {
			ias_note_add(&note, "SIGCONT sent to %d", (int)rec->pid);
		} else {
			ias_note_add(&note, "SIGCONT to %d failed: %s", (int)rec->pid, strerror(errno));
		}
	}
	if (rec->mech == 0)
		ias_note_add(&note, "nothing was enforced (no QPs were known)");
}

/* ---- report --------------------------------------------------------------- */

struct find_active {
	struct ias_block_rec *out;
	int found;
};

static int find_active_cb(const struct ias_block_rec *rec, void *arg)
{
	struct find_active *f = arg;

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

int engine_report(struct sema *s, const struct report_req *rq,
		  struct ias_block_rec *out, char *msg, size_t msglen)
{
	struct ias_block_filter f = { .pid = rq->pid };
	struct find_active fa = { .out = out };
	struct ias_incident_rec inc;
	struct ias_incident_event ev;
	struct ias_alert_rec al;
	struct proc_info pi;
	struct plan plan;
	char mech[32];
	uint32_t earlier = 0;
	uint64_t dur_ms;
	int64_t now_us = engine_now_us(), now = now_us / 1000;
	int r;

	msg[0] = '\0';
	memset(out, 0, sizeof(*out));
	r = proc_info_get(rq->pid, &pi);
	if (r) {
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
	if (ias_store_blocks_foreach(s->store, &f, find_active_cb, &fa) < 0) {
		snprintf(msg, msglen, "store: %s", ias_store_errmsg(s->store));
		return -EIO;
	}
	if (fa.found)
		return 1;

	engine_kernel_scan(s);
	copy(out->origin, sizeof(out->origin), rq->origin);
	copy(out->node, sizeof(out->node), s->cfg.node_name);
	out->pid = rq->pid;
	out->uid = pi.uid;
	copy(out->comm, sizeof(out->comm), pi.comm);
	copy(out->exe, sizeof(out->exe), pi.exe);
	copy(out->reason, sizeof(out->reason), rq->reason && *rq->reason ? rq->reason : "reported");
	out->created_ms = now;
	out->simulated = s->policy.dry_run;
	out->pid_start = pi.starttime;
	plan_block(s, rq->pid, out, &plan);
	ias_mech_str(out->mech, out->qp_orders, mech, sizeof(mech));
	if (ias_store_offence_count(s->store, pi.exe, pi.uid,
				    now - (int64_t)s->cfg.offence_window, &earlier) < 0)
		earlier = 0;
	out->offence = earlier + 1;
	dur_ms = rq->duration_s ? (uint64_t)rq->duration_s * 1000 : escalate(s, out->offence);
	if (s->policy.max_duration_ms && dur_ms > s->policy.max_duration_ms)
		dur_ms = s->policy.max_duration_ms;
	out->until_ms = dur_ms ? now + (int64_t)dur_ms : 0;

	if (ias_store_begin(s->store) < 0)
		goto store_fail;
	if (rq->incident && *rq->incident) {
		copy(out->incident, sizeof(out->incident), rq->incident);
		if (ias_store_incident_get(s->store, out->incident, &inc) == -ENOENT)
			goto new_incident;
	} else {
		uint64_t seq = ias_store_next_seq(s->store, "incident");

		if (!seq)
			goto rollback;
		engine_incident_id(s, seq, out->incident, sizeof(out->incident));
new_incident:
		memset(&inc, 0, sizeof(inc));
		copy(inc.id, sizeof(inc.id), out->incident);
		copy(inc.origin, sizeof(inc.origin), rq->origin);
		copy(inc.node, sizeof(inc.node), s->cfg.node_name);
		inc.opened_ms = now;
		inc.root_pid = rq->pid;
		copy(inc.reason, sizeof(inc.reason), out->reason);
		copy(inc.state, sizeof(inc.state), "open");
		if (ias_store_incident_add(s->store, &inc) < 0)
			goto rollback;
	}
	/* Decided, and the incident id is known: the traces need nothing
	 * more (they are recorded after they left, in this transaction). */
	if (rq->trace_on)
		trace_out(s, out->incident, rq->pid, 1, 0, NULL, 0);
	if (ias_store_block_add(s->store, out) < 0)
		goto rollback;
	memset(&ev, 0, sizeof(ev));
	copy(ev.incident, sizeof(ev.incident), out->incident);
	ev.ts_ms = now;
	ev.ts_us = now_us;
	copy(ev.node, sizeof(ev.node), s->cfg.node_name);
	ev.pid = rq->pid;
	copy(ev.kind, sizeof(ev.kind), out->simulated ? "would-block" : "block");
	snprintf(ev.text, sizeof(ev.text), "%s %d (%s): %u QP(s), %s; %s",
		 out->simulated ? "would block" : "blocked", (int)rq->pid, pi.comm,
		 out->nqps, mech, out->reason);
	if (ias_store_incident_event_add(s->store, &ev) < 0)
		goto rollback;
	{
		char detail[512];

		snprintf(detail, sizeof(detail), "block %lld pid %d (%s) qps %u mechanism %s "
			 "offence %u until %lld incident %s%s",
			 (long long)out->id, (int)rq->pid, pi.comm, out->nqps, mech,
			 out->offence, (long long)out->until_ms, out->incident,
			 out->simulated ? " (dry-run)" : "");
		if (ias_store_audit(s->store, now, rq->actor, "block", detail) < 0)
			goto rollback;
	}
	memset(&al, 0, sizeof(al));
	al.pid = rq->pid;
	copy(al.incident, sizeof(al.incident), out->incident);
	copy(al.reason, sizeof(al.reason), out->reason);
	al.created_ms = now;
	if (ias_store_alert_push(s->store, &al) < 0)
		goto rollback;
	if (report_add(s, IAS_REPORT_BLOCK, out->incident, out->id, rq->pid, out->nqps,
		       pi.comm, 0, 0) < 0)
		goto rollback;
	if (ias_store_commit(s->store) < 0)
		goto rollback;
	report_kick(s);

	/* Recorded: now act. */
	s->stats.blocks_total++;
	plan.block_id = out->id;
	plan.pid_start = out->pid_start;
	copy(plan.incident, sizeof(plan.incident), out->incident);
	plan.simulated = out->simulated;
	apply_or_defer(s, rq->pid, &plan);
	ctl_broadcast_alert(s->ctl, &al, s->cfg.node_name, rq->origin);
	log_notice("%s PID %d (%s): %u QP(s), %s, incident %s, offence %u",
		   out->simulated ? "dry-run: would block" : "blocked", (int)rq->pid,
		   pi.comm, out->nqps, mech, out->incident, out->offence);
	return 0;

rollback:
	ias_store_rollback(s->store);
store_fail:
	snprintf(msg, msglen, "store: %s", ias_store_errmsg(s->store));
	log_err("PID %d not blocked: %s", (int)rq->pid, msg);
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

static int release_one(struct sema *s, struct ias_block_rec *rec, bool dry_run,
		       const char *actor, const char *why)
{
	struct ias_incident_event ev;
	int64_t now = sema_now_ms();
	char note[256], detail[512];

	undo_block(s, rec, dry_run, note, sizeof(note));
	snprintf(rec->release_note, sizeof(rec->release_note), "%s: %s", why, note);
	if (dry_run)
		return 0;
	if (ias_store_begin(s->store) < 0)
		return -EIO;
	if (ias_store_block_release(s->store, rec->id, now, rec->release_note) < 0)
		goto rollback;
	rec->released_ms = now;
	snprintf(detail, sizeof(detail), "block %lld pid %d: %s", (long long)rec->id,
		 (int)rec->pid, rec->release_note);
	if (ias_store_audit(s->store, now, actor, "release", detail) < 0)
		goto rollback;
	if (rec->incident[0]) {
		memset(&ev, 0, sizeof(ev));
		copy(ev.incident, sizeof(ev.incident), rec->incident);
		ev.ts_ms = now;
		copy(ev.node, sizeof(ev.node), s->cfg.node_name);
		ev.pid = rec->pid;
		copy(ev.kind, sizeof(ev.kind), "release");
		snprintf(ev.text, sizeof(ev.text), "released %d: %s", (int)rec->pid,
			 rec->release_note);
		if (ias_store_incident_event_add(s->store, &ev) < 0)
			goto rollback;
	}
	if (report_add(s, IAS_REPORT_RELEASE, rec->incident, rec->id, rec->pid, rec->nqps,
		       rec->comm, 0, 0) < 0)
		goto rollback;
	if (ias_store_commit(s->store) < 0)
		goto rollback;
	bset_del(rec->pid);
	report_kick(s);
	log_notice("released block %lld (PID %d): %s", (long long)rec->id, (int)rec->pid,
		   rec->release_note);
	return 0;
rollback:
	ias_store_rollback(s->store);
	return -EIO;
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

static int restore_cb(const struct ias_block_rec *rec, void *arg)
{
	struct sema *s = arg;
	char mech[32];
	size_t i;

	bset_add(rec->pid);
	if (rec->simulated)
		return 0;
	for (i = 0; i < s->qps.n; i++)
		if (s->qps.e[i].pid == rec->pid)
			s->qps.e[i].blocked = 1;
	/* A cgroup freeze outlives the agent; a SIGSTOP fallback may have been
	 * undone by a SIGCONT from anyone of the same user meanwhile. */
	if ((rec->mech & IAS_MECH_FREEZE) && proc_same(rec->pid, 0)) {
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

	bset.n = 0;
	return ias_store_blocks_foreach(s->store, &f, restore_cb, s);
}

struct appeared {
	struct sema *s;
	struct qpt_entry *q;
};

static int appeared_cb(const struct ias_block_rec *rec, void *arg)
{
	struct appeared *a = arg;
	struct qpt_entry *q = a->q;

	if (rec->simulated)
		return 1;
	q->blocked = 1;
	if (q->client_id && ((rec->mech & IAS_MECH_PAUSE) || (rec->mech & IAS_MECH_CUT) ||
			     rec->mech == 0))
		ctl_send_order(a->s->ctl, q->client_id, q->qpn, q->device,
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
	if (bset_has(q->pid))
		ias_store_blocks_foreach(s->store, &f, appeared_cb, &a);
	else
		engine_never_block_prime(s, q->pid);	/* ready for a trace */
}

int engine_blocked(struct sema *s, pid_t pid)
{
	(void)s;
	return bset_has(pid);
}
