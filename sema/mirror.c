/* See mirror.h. A look-up is one struct look: the agents asked, the answers
 * so far, the callers waiting (a look-up for the same QP and question joins
 * the one in flight), and a timer bounding it by mirror_timeout. The MAD
 * port cannot cancel a request, so a finished look-up lives on until its
 * last request has come back (late answers are ignored). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "mad_defs/secmgt.h"
#include "sema/engine.h"
#include "sema/mirror.h"
#include "sema/roster.h"

enum look_kind { LOOK_CONFIRM, LOOK_FIND };

struct look;

struct waiter {
	mirror_cb cb;
	void *arg;
	struct waiter *next;
};

/* One request of a look-up (the MAD port's context for it). */
struct ask {
	struct look *l;
	struct roster_agent agent;
};

struct look {
	struct sema *s;
	enum look_kind kind;
	char device[64];
	uint32_t lqpn, rqpn;
	struct mad_dest target;		/* LOOK_CONFIRM: the agent asked */
	struct ask *asks;
	unsigned nasks, inflight, no_answer;
	int finished;
	/* the best answers so far */
	uint8_t best;			/* enum ias_mirror_match */
	unsigned nbest;
	struct mirror_where where;
	sd_event_source *timer;
	struct waiter *waiters;
	struct look *next;		/* in sema_mirror.active, while unfinished */
};

struct sema_mirror {
	struct look *active;
};

static struct sema_mirror *state(struct sema *s)
{
	if (!s->mirror)
		s->mirror = calloc(1, sizeof(*s->mirror));
	return s->mirror;
}

const char *mirror_result_str(enum mirror_result r)
{
	switch (r) {
	case MIRROR_FOUND: return "found";
	case MIRROR_NONE: return "none";
	case MIRROR_AMBIGUOUS: return "ambiguous";
	case MIRROR_NO_ANSWER: return "no answer";
	case MIRROR_NO_AGENTS: return "no agents";
	}
	return "?";
}

static void look_free(struct look *l)
{
	struct waiter *w;

	while ((w = l->waiters)) {
		l->waiters = w->next;
		free(w);
	}
	sd_event_source_disable_unref(l->timer);
	free(l->asks);
	free(l);
}

static void unlink_look(struct look *l)
{
	struct sema_mirror *m = l->s->mirror;
	struct look **p;

	for (p = m ? &m->active : NULL; p && *p; p = &(*p)->next)
		if (*p == l) {
			*p = l->next;
			break;
		}
	l->next = NULL;
}

static struct qpt_entry *entry_of(struct sema *s, const char *device, uint32_t qpn)
{
	return device[0] ? qpt_find(&s->qps, device, qpn) : qpt_find_qpn(&s->qps, qpn);
}

/* On a yes: the QP table first, then the callers. */
static void look_finish(struct look *l)
{
	struct sema *s = l->s;
	enum mirror_result r;
	struct qpt_entry *e;
	struct waiter *w;
	char at[64];

	if (l->finished)
		return;
	l->finished = 1;
	unlink_look(l);
	sd_event_source_set_enabled(l->timer, SD_EVENT_OFF);
	if (l->nbest == 1)
		r = MIRROR_FOUND;
	else if (l->nbest > 1)
		r = MIRROR_AMBIGUOUS;
	else if (l->nasks == 0)
		r = MIRROR_NO_AGENTS;
	else if (l->no_answer || l->inflight)
		r = MIRROR_NO_ANSWER;
	else
		r = MIRROR_NONE;
	e = entry_of(s, l->device, l->lqpn);
	if (r == MIRROR_FOUND && e && l->kind == LOOK_CONFIRM) {
		/* the claim holds only while it is still the claim */
		if (e->has_remote && e->remote_qpn == l->rqpn)
			e->remote_src |= QPT_RSRC_PEER;
	} else if (r == MIRROR_FOUND && e && l->kind == LOOK_FIND &&
		   (!e->has_remote || e->remote_qpn == l->rqpn)) {
		const struct mad_dest *d = &l->where.agent;

		e->has_remote = 1;
		e->remote_qpn = l->rqpn;
		e->remote_lid = d->lid;
		memset(e->remote_gid, 0, sizeof(e->remote_gid));
		if (d->has_gid)
			memcpy(e->remote_gid, d->gid, 16);
		e->remote_src |= QPT_RSRC_MIRROR;
	}
	if (r == MIRROR_AMBIGUOUS)
		log_notice("mirror of QP %s/0x%x (remote QP 0x%x): %u agents hold it; refused",
			   l->device, l->lqpn, l->rqpn, l->nbest);
	else
		log_debug("mirror %s of QP %s/0x%x (remote QP 0x%x): %s%s%s",
			  l->kind == LOOK_CONFIRM ? "confirmation" : "look-up", l->device, l->lqpn,
			  l->rqpn, mirror_result_str(r), r == MIRROR_FOUND ? " at " : "",
			  r == MIRROR_FOUND ? mad_dest_str(&l->where.agent, at, sizeof(at)) : "");
	while ((w = l->waiters)) {
		l->waiters = w->next;
		w->cb(s, w->arg, r, r == MIRROR_FOUND ? &l->where : NULL);
		free(w);
	}
	if (!l->inflight)
		look_free(l);
}

static void ask_done(struct sema *s, void *ctx, const struct mad_dest *to,
		     const struct ias_secmgt_msg *resp)
{
	struct ask *a = ctx;
	struct look *l = a->l;
	const struct ias_attr_mirror_a *m = resp ? &resp->u.mira : NULL;

	(void)s;
	(void)to;
	l->inflight--;
	if (l->finished) {
		if (!l->inflight)
			look_free(l);
		return;
	}
	if (!resp)
		l->no_answer++;
	else if (!resp->status && resp->attr_id == IAS_ATTR_MIRROR && m->match &&
		 m->asker_qpn == l->lqpn && m->qpn == l->rqpn) {
		/* exact beats QPN-only (a confirmation takes either) */
		uint8_t level = l->kind == LOOK_CONFIRM ? IAS_MIRROR_QPN : m->match;

		if (level > l->best) {
			l->best = level;
			l->nbest = 0;
		}
		if (level == l->best && l->nbest++ == 0) {
			l->where.agent = a->agent.at;
			l->where.node_guid = m->responder_guid;
			l->where.qpn = m->qpn;
		}
	}
	if (!l->inflight)
		look_finish(l);
}

static int on_deadline(sd_event_source *src, uint64_t usec, void *arg)
{
	(void)src;
	(void)usec;
	look_finish(arg);
	return 0;
}

static struct look *find_joinable(struct sema *s, enum look_kind kind, const char *device,
				  uint32_t lqpn, uint32_t rqpn, const struct mad_dest *target)
{
	struct look *l;

	for (l = state(s) ? s->mirror->active : NULL; l; l = l->next)
		if (l->kind == kind && l->lqpn == lqpn && l->rqpn == rqpn &&
		    strcmp(l->device, device) == 0 &&
		    (kind == LOOK_FIND || memcmp(&l->target, target, sizeof(*target)) == 0))
			return l;
	return NULL;
}

static int add_waiter(struct look *l, mirror_cb cb, void *arg)
{
	struct waiter *w = calloc(1, sizeof(*w)), **p;

	if (!w)
		return -ENOMEM;
	w->cb = cb;
	w->arg = arg;
	for (p = &l->waiters; *p; p = &(*p)->next)
		;
	*p = w;
	return 0;
}

static int send_ask(struct look *l, struct ask *a)
{
	struct sema *s = l->s;
	struct ias_secmgt_msg m;

	memset(&m, 0, sizeof(m));
	m.method = IAS_METHOD_GET;
	m.attr_id = IAS_ATTR_MIRROR;
	m.u.mirq.asker_guid = mad_port_node_guid(s->mad);
	m.u.mirq.asker_qpn = l->lqpn;
	m.u.mirq.remote_qpn = l->rqpn;
	return mad_port_request(s->mad, &a->agent.at, &m, ask_done, a);
}

/* Ask every agent of asks[0..n) (taken over) under one deadline. */
static int look_start(struct sema *s, enum look_kind kind, const char *device, uint32_t lqpn,
		      uint32_t rqpn, struct ask *asks, unsigned n, mirror_cb cb, void *arg)
{
	struct look *l = calloc(1, sizeof(*l));
	uint64_t budget = s->cfg.mirror_timeout ? s->cfg.mirror_timeout : 1000;
	unsigned i;
	int r = 0, sent = 0;

	if (!l || !state(s) || add_waiter(l, cb, arg) < 0) {
		free(asks);
		if (l)
			look_free(l);
		return -ENOMEM;
	}
	l->s = s;
	l->kind = kind;
	snprintf(l->device, sizeof(l->device), "%s", device ? device : "");
	l->lqpn = lqpn;
	l->rqpn = rqpn;
	l->asks = asks;
	l->nasks = n;
	if (kind == LOOK_CONFIRM)
		l->target = asks[0].agent.at;
	/* n == 0: the deadline timer answers "no agents" from the reactor */
	r = sd_event_add_time_relative(s->ev, &l->timer, CLOCK_MONOTONIC, n ? budget * 1000 : 0, 0,
				       on_deadline, l);
	if (r < 0) {
		look_free(l);
		return r;
	}
	for (i = 0; i < n; i++) {
		asks[i].l = l;
		r = send_ask(l, &asks[i]);
		if (r == -ENODEV && sent == 0) {
			look_free(l);
			return -ENODEV;
		}
		if (r == 0) {
			l->inflight++;
			sent = 1;
		} else {
			l->no_answer++;
		}
	}
	if (!l->inflight)	/* nothing left: answer from the reactor */
		sd_event_source_set_time_relative(l->timer, 0);
	l->next = s->mirror->active;
	s->mirror->active = l;
	return 0;
}

int mirror_confirm(struct sema *s, const struct mad_dest *agent, const char *device,
		   uint32_t lqpn, uint32_t rqpn, mirror_cb cb, void *arg)
{
	struct look *l = find_joinable(s, LOOK_CONFIRM, device ? device : "", lqpn, rqpn, agent);
	struct ask *a;

	if (l)
		return add_waiter(l, cb, arg);
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->agent.at = *agent;
	return look_start(s, LOOK_CONFIRM, device, lqpn, rqpn, a, 1, cb, arg);
}

int mirror_find(struct sema *s, const char *device, uint32_t lqpn, uint32_t rqpn,
		mirror_cb cb, void *arg)
{
	struct look *l = find_joinable(s, LOOK_FIND, device ? device : "", lqpn, rqpn, NULL);
	unsigned max = s->cfg.mirror_fanout ? s->cfg.mirror_fanout : 1, i, n;
	struct roster_agent *agents;
	struct ask *asks;

	if (l)
		return add_waiter(l, cb, arg);
	agents = calloc(max, sizeof(*agents));
	asks = calloc(max ? max : 1, sizeof(*asks));
	if (!agents || !asks) {
		free(agents);
		free(asks);
		return -ENOMEM;
	}
	n = (unsigned)roster_agents(s, agents, max);
	for (i = 0; i < n; i++)
		asks[i].agent = agents[i];
	free(agents);
	return look_start(s, LOOK_FIND, device, lqpn, rqpn, asks, n, cb, arg);
}

void mirror_stop(struct sema *s)
{
	struct look *l;

	if (!s->mirror)
		return;
	/* Finished look-ups still waiting for their requests are freed by the
	 * MAD port's stop (it answers every request with NULL) or leak at exit. */
	while ((l = s->mirror->active)) {
		s->mirror->active = l->next;
		l->finished = 1;
		l->next = NULL;
		sd_event_source_set_enabled(l->timer, SD_EVENT_OFF);
		if (!l->inflight)
			look_free(l);
	}
	free(s->mirror);
	s->mirror = NULL;
}

/* ---- registration-time confirmation -------------------------------------- */

/* The outcome is in the QP table already, and logged by look_finish. */
static void claim_checked(struct sema *s, void *arg, enum mirror_result r,
			  const struct mirror_where *where)
{
	(void)s;
	(void)arg;
	(void)where;
	(void)r;
}

void mirror_claimed(struct sema *s, const struct qpt_entry *e)
{
	static const uint8_t zero[16];
	struct mad_dest d;
	char at[64];
	int r;

	if (!e->has_remote || !(e->remote_src & QPT_RSRC_LIBIAS) || qpt_remote_trusted(e) ||
	    !e->remote_qpn || (!e->remote_lid && !memcmp(e->remote_gid, zero, 16)))
		return;
	memset(&d, 0, sizeof(d));
	d.lid = (uint16_t)e->remote_lid;
	if (!e->remote_lid) {
		d.has_gid = 1;
		memcpy(d.gid, e->remote_gid, 16);
	}
	r = mirror_confirm(s, &d, e->device, e->qpn, e->remote_qpn, claim_checked, NULL);
	if (r < 0)
		log_debug("QP %s/0x%x: claimed remote end %s not confirmed: %s", e->device, e->qpn,
			  mad_dest_str(&d, at, sizeof(at)), strerror(-r));
}

/* ---- answering another agent --------------------------------------------- */

static int from_is(const struct qpt_entry *e, const struct mad_dest *from)
{
	if (from->has_gid && memcmp(e->remote_gid, from->gid, 16) == 0)
		return 1;
	return from->lid && e->remote_lid == from->lid;
}

static struct qpt_entry *holder(struct sema *s, uint32_t qpn, uint32_t rqpn)
{
	const char *ca = mad_port_ca(s->mad);
	struct qpt_entry *q = ca ? qpt_find(&s->qps, ca, qpn) : NULL;

	if (!q)
		q = qpt_find_qpn(&s->qps, qpn);
	return q && q->has_remote && q->remote_qpn == rqpn ? q : NULL;
}

uint16_t mirror_serve(struct sema *s, const struct ias_attr_mirror_q *q,
		      const struct mad_dest *from, struct ias_attr_mirror_a *a)
{
	const char *ca = mad_port_ca(s->mad);
	struct qpt_entry *e = holder(s, q->remote_qpn, q->asker_qpn);
	char at[64];

	memset(a, 0, sizeof(*a));
	a->responder_guid = mad_port_node_guid(s->mad);
	a->asker_guid = q->asker_guid;
	a->asker_qpn = q->asker_qpn;
	/* A QP the table does not know (or knows without its remote QPN):
	 * ask the kernel once. */
	if (!e && s->kernel_rdma) {
		if (ca)
			engine_kernel_lookup(s, ca, q->remote_qpn);
		else
			engine_kernel_scan(s);
		e = holder(s, q->remote_qpn, q->asker_qpn);
	}
	if (!e)
		return IAS_STATUS_OK;
	a->qpn = e->qpn;
	a->match = from_is(e, from) ? IAS_MIRROR_EXACT : IAS_MIRROR_QPN;
	/* The asker's authenticated question confirms a registration that
	 * named exactly it: the pair holds both ways. */
	if (a->match == IAS_MIRROR_EXACT && (e->remote_src & QPT_RSRC_LIBIAS) &&
	    !(e->remote_src & QPT_RSRC_PEER)) {
		e->remote_src |= QPT_RSRC_PEER;
		log_debug("QP %s/0x%x: remote end %s QP 0x%x confirmed by its agent's question",
			  e->device, e->qpn, mad_dest_str(from, at, sizeof(at)), q->asker_qpn);
	}
	return IAS_STATUS_OK;
}
