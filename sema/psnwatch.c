/* The PSN watch after a per-QP pause: see psnwatch.h and
 * docs/blocking-mechanisms.md ("PSN watch"). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <systemd/sd-event.h>

#include "common/log.h"
#include "sema/engine_int.h"
#include "sema/psnwatch.h"
#include "sema/uow.h"

#define PSN_DEFAULT_GRACE_MS 200

struct psn_qp {
	char dev[64];
	uint32_t lqpn;
	uint32_t hi;		/* the highest send PSN seen (24 bits, wrapping) */
};

struct psn_watch {
	struct psn_watch *next;
	struct plan plan;
	int64_t since_us;	/* when the pause orders went out */
	bool armed;		/* the baseline after the grace period is taken */
	bool moved;		/* a PSN moved past the grace period */
	bool seen;		/* the kernel listed a QP of it in this tick */
	struct psn_qp *q;
	size_t nq, cap;
	char what[160];		/* the first QP that moved, for the record */
};

/* All watches of the agent hang off one list and one timer; the agent has
 * one struct sema, tests make several one after the other. */
struct psn_set {
	struct sema *s;
	struct psn_watch *head;
	sd_event_source *timer;
};

static struct psn_set set;
static int (*dump_fn)(ias_kqp_cb cb, void *arg);
static int dump_warned;

void psnwatch_set_dump(int (*dump)(ias_kqp_cb cb, void *arg))
{
	dump_fn = dump;
}

static uint64_t grace_ms(const struct sema *s)
{
	return s->cfg.psn_watch_grace ? s->cfg.psn_watch_grace : PSN_DEFAULT_GRACE_MS;
}

/* Ticks come four times per grace period (at least every 10 ms apart), so
 * that the marks see the PSNs' highest points. */
static uint64_t tick_us(const struct sema *s)
{
	uint64_t us = grace_ms(s) * 1000 / 4;

	return us < 10000 ? 10000 : us;
}

static void watch_free(struct psn_watch *w)
{
	free(w->q);
	free(w);
}

/* Off the list (the timer goes with the last watch); not freed. */
static void detach(struct psn_watch *w)
{
	struct psn_watch **pp;

	for (pp = &set.head; *pp; pp = &(*pp)->next)
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	if (!set.head) {
		set.timer = sd_event_source_disable_unref(set.timer);
		set.s = NULL;
	}
}

static void unlink_watch(struct psn_watch *w)
{
	detach(w);
	watch_free(w);
}

unsigned psnwatch_count(const struct sema *s)
{
	const struct psn_watch *w;
	unsigned n = 0;

	if (set.s != s)
		return 0;
	for (w = set.head; w; w = w->next)
		n++;
	return n;
}

static int on_timer(sd_event_source *src, uint64_t usec, void *arg)
{
	struct sema *s = arg;

	(void)usec;
	psnwatch_tick(s);
	if (!set.head || set.timer != src)
		return 0;	/* the last watch went: the timer is gone */
	sd_event_source_set_time_relative(src, tick_us(s));
	return sd_event_source_set_enabled(src, SD_EVENT_ONESHOT);
}

int psnwatch_start(struct sema *s, const struct plan *p)
{
	struct psn_watch *w;

	if (set.s && set.s != s)
		psnwatch_stop_all(set.s);
	psnwatch_stop(s, p->pid, p->pid_start);	/* a second pause restarts it */
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->plan = *p;
	w->since_us = sema_now_us();
	if (s->ev && !set.timer &&
	    sd_event_add_time_relative(s->ev, &set.timer, CLOCK_MONOTONIC, tick_us(s), 0,
				       on_timer, s) < 0) {
		set.timer = NULL;
		free(w);
		return -ENOMEM;
	}
	set.s = s;
	w->next = set.head;
	set.head = w;
	return 0;
}

void psnwatch_stop(struct sema *s, pid_t pid, uint64_t pid_start)
{
	struct psn_watch *w, *next;

	if (set.s != s)
		return;
	for (w = set.head; w; w = next) {
		next = w->next;
		if (w->plan.pid == pid && (!pid_start || !w->plan.pid_start ||
					   w->plan.pid_start == pid_start))
			unlink_watch(w);
	}
}

void psnwatch_stop_all(struct sema *s)
{
	if (set.s != s)
		return;
	while (set.head)
		unlink_watch(set.head);
}

static struct psn_qp *qp_of(struct psn_watch *w, const struct ias_kqp *k)
{
	size_t i;

	for (i = 0; i < w->nq; i++)
		if (w->q[i].lqpn == k->lqpn && strcmp(w->q[i].dev, k->dev_name) == 0)
			return &w->q[i];
	return NULL;
}

static int qp_add(struct psn_watch *w, const struct ias_kqp *k)
{
	struct psn_qp *q;

	if (w->nq == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 8;

		q = realloc(w->q, cap * sizeof(*q));
		if (!q)
			return -ENOMEM;
		w->q = q;
		w->cap = cap;
	}
	q = &w->q[w->nq++];
	snprintf(q->dev, sizeof(q->dev), "%s", k->dev_name);
	q->lqpn = k->lqpn;
	q->hi = k->sq_psn & 0xffffff;
	return 0;
}

/* How far PSN b is ahead of a (24-bit serial arithmetic); <= 0: not ahead. */
static int32_t psn_ahead(uint32_t b, uint32_t a)
{
	uint32_t d = (b - a) & 0xffffff;

	return d & 0x800000 ? -(int32_t)((0x1000000 - d) & 0xffffff) : (int32_t)d;
}

static int tick_cb(const struct ias_kqp *k, void *arg)
{
	struct psn_watch *w;
	struct psn_qp *q;

	(void)arg;
	if (!k->has_pid)
		return 0;
	for (w = set.head; w; w = w->next) {
		if ((uint32_t)w->plan.pid != k->pid)
			continue;
		w->seen = true;
		q = qp_of(w, k);
		if (!q) {
			/* A QP made during the pause counts from now on. */
			if (qp_add(w, k) < 0)
				return -ENOMEM;
			continue;
		}
		/* Only new PSNs count: rxe rewinds the send PSN to resend
		 * after an RNR NAK or a timeout, which moves it up to where it
		 * was, not past it. Before the grace period ends, posted work
		 * drains and raises the mark. */
		if (psn_ahead(k->sq_psn & 0xffffff, q->hi) <= 0)
			continue;
		if (w->armed && !w->moved) {
			w->moved = true;
			snprintf(w->what, sizeof(w->what), "the send PSN of QP %s/0x%x went past %u "
				 "to %u", k->dev_name, k->lqpn, q->hi, k->sq_psn & 0xffffff);
		}
		q->hi = k->sq_psn & 0xffffff;
	}
	return 0;
}

/* The block of w is made a freeze, in a unit of work of its own. */
static int escalate(struct sema *s, struct psn_watch *w)
{
	struct ias_incident_event ev;
	struct ias_block_rec rec;
	struct sema_uow u;
	struct enforced e;
	struct plan p = w->plan;
	char detail[700];

	if (p.pid_start && !proc_same(p.pid, p.pid_start))
		return 0;	/* gone: nothing to freeze */
	if (uow_begin(s, &u, NULL, 0) < 0)
		return -EIO;
	if (ias_store_block_get(s->store, p.block_id, &rec) < 0 || rec.released_ms) {
		uow_abort(&u);
		return 0;	/* released meanwhile */
	}
	p.mode = IAS_MODE_FREEZE;
	p.process_level = 1;
	p.orders = 0;
	p.simulated = false;
	block_enforce(s, &p, &e);
	if (uow_enforced(&u, &e) < 0) {
		uow_abort(&u);
		return -ENOMEM;
	}
	snprintf(detail, sizeof(detail), "block %lld pid %d: %s more than %llu ms after the pause: "
		 "the process undid the pause or posted through a path libias does not gate; "
		 "escalated to freeze", (long long)p.block_id, (int)p.pid, w->what,
		 (unsigned long long)grace_ms(s));
	if (ias_store_audit(s->store, sema_now_ms(), "psnwatch", "escalate", detail) < 0) {
		uow_abort(&u);
		return -EIO;
	}
	if (p.incident[0]) {
		memset(&ev, 0, sizeof(ev));
		snprintf(ev.incident, sizeof(ev.incident), "%s", p.incident);
		ev.ts_us = sema_now_us();
		ev.ts_ms = ev.ts_us / 1000;
		snprintf(ev.node, sizeof(ev.node), "%s", s->cfg.node_name);
		ev.pid = p.pid;
		snprintf(ev.kind, sizeof(ev.kind), "escalated");
		snprintf(ev.text, sizeof(ev.text), "pause of %d not kept (%s): the process undid the "
			 "pause or posted through a path libias does not gate; frozen", (int)p.pid,
			 w->what);
		if (ias_store_incident_event_add(s->store, &ev) < 0) {
			uow_abort(&u);
			return -EIO;
		}
	}
	uow_ack_log(&u, LOG_WARNING, "%s", detail);
	return uow_commit(&u, NULL, 0) < 0 ? -EIO : 1;
}

int psnwatch_tick(struct sema *s)
{
	int64_t now_us = sema_now_us();
	int64_t grace_us = (int64_t)grace_ms(s) * 1000;
	struct psn_watch *w, *next;
	int r, escalated = 0;

	if (set.s != s || !set.head)
		return 0;
	for (w = set.head; w; w = w->next)
		w->seen = false;
	r = (dump_fn ? dump_fn : ias_rdmanl_dump_qps)(tick_cb, NULL);
	if (r < 0) {
		if (!dump_warned)	/* once until a dump works again */
			log_info("PSN watch: no QP dump from the kernel (%s): paused QPs are not "
				 "checked", strerror(-r));
		dump_warned = 1;
		return r;
	}
	dump_warned = 0;
	for (w = set.head; w; w = next) {
		next = w->next;
		if (w->moved)
			continue;
		if (now_us - w->since_us >= grace_us)
			w->armed = true;	/* the marks so far are the baseline */
		if (!w->seen && w->plan.pid_start && !proc_same(w->plan.pid, w->plan.pid_start))
			unlink_watch(w);	/* the process is gone */
	}
	/* Escalations last, each off the list first: its unit of work may
	 * undo itself (block_unenforce), which stops watches too. */
	for (;;) {
		for (w = set.head; w && !w->moved; w = w->next)
			;
		if (!w)
			break;
		detach(w);
		r = escalate(s, w);
		escalated += r > 0;
		if (r < 0)
			log_err("block %lld: PSN moved after the pause but the freeze was not "
				"recorded: %s", (long long)w->plan.block_id, strerror(-r));
		watch_free(w);
	}
	return escalated;
}
