/* Which remote ends a trace goes to, and which traces are obeyed
 * (sema/trace.c), against a fake MAD port, fake effects and a fake mirror
 * look-up on a real store:
 *  - a trusted remote end is traced at once;
 *  - a registration's claim is not traced on its word: the agent it names
 *    is asked, and the trace leaves only when it confirms ("unconfirmed"
 *    event otherwise);
 *  - a remote QPN without an address is searched for (mirror_find): found
 *    -> traced, ambiguous / none -> a dead end;
 *  - a connected QP with nothing learnable is a dead end;
 *  - an answer after the block was released sends nothing;
 *  - a received trace is refused unless the named QP is connected to the
 *    sender (remote QPN from a trusted source, address from the kernel);
 *  - report by QP: the victim's QP traced to its remote end, the victim
 *    not blocked. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "mad_defs/incident.h"
#include "sema/engine.h"
#include "sema/store.h"
#include "sema/trace.h"
#include "tests/unit/fake_sema.h"
#include "tests/unit/tap.h"

static struct sema S;

/* ---- the fake mirror look-up ------------------------------------------- */

struct ask {
	bool confirm;
	struct mad_dest agent;
	uint32_t lqpn, rqpn;
	mirror_cb cb;
	void *arg;
};
static struct ask asks[16];
static unsigned nasks;
static int ask_fail;	/* a negative errno: the next calls fail */

static int fake_confirm(struct sema *s, const struct mad_dest *agent, const char *device,
			uint32_t lqpn, uint32_t rqpn, mirror_cb cb, void *arg)
{
	(void)s, (void)device;
	if (ask_fail)
		return ask_fail;
	asks[nasks++] = (struct ask){ true, *agent, lqpn, rqpn, cb, arg };
	return 0;
}

static int fake_find(struct sema *s, const char *device, uint32_t lqpn, uint32_t rqpn,
		     mirror_cb cb, void *arg)
{
	(void)s, (void)device;
	if (ask_fail)
		return ask_fail;
	asks[nasks++] = (struct ask){ false, { 0 }, lqpn, rqpn, cb, arg };
	return 0;
}

static const struct trace_mirror_ops fake_mirror = { fake_confirm, fake_find };

/* Answer look-up i (the agent at lid, its QP qpn, when found). */
static void answer(unsigned i, enum mirror_result r, uint16_t lid, uint32_t qpn)
{
	struct mirror_where w = { .agent = { .lid = lid }, .node_guid = 0x77, .qpn = qpn };

	asks[i].cb(&S, asks[i].arg, r, r == MIRROR_FOUND ? &w : NULL);
}

/* ---- QPs, traces, events ------------------------------------------------ */

static struct qpt_entry *qp(pid_t pid, uint32_t qpn, uint32_t rlid, uint32_t rqpn, unsigned src)
{
	struct qpt_entry *q = qpt_upsert(&S.qps, "dev0", qpn);

	q->pid = pid;
	q->sources = QPT_SRC_KERNEL;
	q->type = 2;	/* RC */
	q->state = 3;	/* RTS */
	q->has_remote = rqpn != 0;
	q->remote_lid = rlid;
	q->remote_qpn = rqpn;
	q->remote_src = src;
	return q;
}

static struct ias_attr_trace_result trace_in(uint64_t inc, uint32_t dest_qpn,
					     uint32_t sender_qpn, const struct mad_dest *from)
{
	struct ias_secmgt_msg m;
	struct ias_attr_trace_result res;

	memset(&m, 0, sizeof(m));
	m.method = IAS_METHOD_SET;
	m.attr_id = IAS_ATTR_TRACE;
	m.u.trace.incident_id = inc;
	m.u.trace.dest_qpn = dest_qpn;
	m.u.trace.sender_qpn = sender_qpn;
	m.u.trace.hop_count = 1;
	m.u.trace.hop_limit = 4;
	trace_handle(&S, &m, from, &res);
	return res;
}

struct evcount {
	const char *kind;
	const char *needle;	/* NULL: any text */
	unsigned n;
};

static int ev_cb(const struct ias_incident_event *ev, void *arg)
{
	struct evcount *c = arg;

	if (strcmp(ev->kind, c->kind) == 0 && (!c->needle || strstr(ev->text, c->needle)))
		c->n++;
	return 0;
}

static unsigned events(const char *incident, const char *kind, const char *needle)
{
	struct evcount c = { kind, needle, 0 };

	ias_store_incident_events_foreach(S.store, incident, ev_cb, &c);
	return c.n;
}

/* The MAD request to this LID, or NULL. */
static const struct fake_mad_req *mad_to(uint16_t lid)
{
	unsigned i;

	for (i = 0; i < fake_mad_nreqs; i++)
		if (fake_mad_reqs[i].to.lid == lid)
			return &fake_mad_reqs[i];
	return NULL;
}

static void reset(void)
{
	fake_reset();
	nasks = 0;
	ask_fail = 0;
}

int main(void)
{
	struct mad_dest from3 = { .lid = 3 }, from9 = { .lid = 9 };
	uint64_t inc1 = ias_incident_make(0xabc, 1), inc2 = ias_incident_make(0xabc, 2);
	struct ias_attr_trace_result r;
	const struct fake_mad_req *mq;
	struct qpt_entry *q;
	char dir[64], where[256];
	pid_t a, b, v;

	if (fake_sema_open(&S, dir, sizeof(dir)) < 0)
		tap_skip_all("no store");
	trace_mirror = &fake_mirror;
	a = fake_victim();
	b = fake_victim();
	v = fake_victim();

	/* a's QPs: the one the trace names (the kernel knows its remote end:
	 * lid 3, qp 0x500), then one per kind of remote end. */
	qp(a, 0x10, 3, 0x500, QPT_RSRC_KOBS | QPT_RSRC_NLQPN);
	qp(a, 0x11, 5, 0x511, QPT_RSRC_KOBS);			/* trusted */
	qp(a, 0x12, 6, 0x512, QPT_RSRC_LIBIAS);			/* a claim */
	qp(a, 0x13, 0, 0x513, QPT_RSRC_NLQPN);			/* QPN only */
	qp(a, 0x14, 0, 0, 0);					/* nothing */
	qp(a, 0x15, 7, 0x515, QPT_RSRC_LIBIAS);			/* a claim */
	qp(a, 0x16, 0, 0x516, QPT_RSRC_NLQPN);			/* QPN only */
	q = qp(a, 0x17, 0, 0, 0);				/* never connected */
	q->state = 1;

	reset();
	r = trace_in(inc1, 0x10, 0x500, &from3);
	is_int(r.result, IAS_TRESULT_BLOCKED, "a trace from the QP's kernel-known remote end: obeyed");
	is_int(fake_mad_nreqs, 1, "one trace at once: to the trusted remote end only");
	ok(mad_to(5) && mad_to(5)->msg.u.trace.dest_qpn == 0x511 &&
	   mad_to(5)->msg.u.trace.sender_qpn == 0x11, "to lid 5 qp 0x511, from qp 0x11");
	ok(!mad_to(6) && !mad_to(7), "no trace to a registered claim on its word");
	is_int(r.n_hops, 1, "the result lists the one hop that left");
	is_int(nasks, 4, "four look-ups started");
	ok(nasks == 4 && asks[0].confirm && asks[0].agent.lid == 6 && asks[0].lqpn == 0x12 &&
	   asks[0].rqpn == 0x512, "the claim: its named agent (lid 6) asked to confirm 0x12/0x512");
	ok(nasks == 4 && !asks[1].confirm && asks[1].lqpn == 0x13 && asks[1].rqpn == 0x513,
	   "the QPN-only QP: a mirror search for 0x13/0x513");
	is_int(events("I-000abc-1", "lookup", NULL), 4, "each look-up is an event");
	is_int(events("I-000abc-1", "dead-end", "qp 0x14"), 1,
	       "a connected QP with nothing learnable: a dead-end event");
	is_int(events("I-000abc-1", "dead-end", "qp 0x17"), 0, "a never-connected QP: no event");

	fake_reset();
	answer(0, MIRROR_FOUND, 6, 0x512);
	mq = mad_to(6);
	ok(mq && mq->msg.u.trace.dest_qpn == 0x512 && mq->msg.u.trace.hop_count == 2,
	   "confirmed: the trace leaves then (hop 2, to qp 0x512)");
	is_int(events("I-000abc-1", "trace-out", "confirmed by its agent"), 1,
	       "with a trace-out event saying so");
	answer(1, MIRROR_FOUND, 8, 0x513);
	ok(mad_to(8) && mad_to(8)->msg.u.trace.dest_qpn == 0x513,
	   "QPN-only, found: traced to the agent holding the mirror");
	is_int(events("I-000abc-1", "trace-out", "mirror look-up"), 1, "with an event");
	is_int(fake_mad_nreqs, 2, "two late traces");

	fake_reset();
	answer(2, MIRROR_NONE, 0, 0);
	is_int(fake_mad_nreqs, 0, "a claim its agent denies: not traced");
	is_int(events("I-000abc-1", "unconfirmed", "qp 0x15"), 1, "an unconfirmed event");
	answer(3, MIRROR_AMBIGUOUS, 0, 0);
	is_int(fake_mad_nreqs, 0, "an ambiguous search: not traced");
	is_int(events("I-000abc-1", "dead-end", "ambiguous"), 1, "a dead-end event says why");

	/* A look-up that cannot start: dead end at once. */
	reset();
	ask_fail = -EOPNOTSUPP;
	qp(b, 0x20, 3, 0x520, QPT_RSRC_CM);
	qp(b, 0x21, 0, 0x521, QPT_RSRC_NLQPN);
	r = trace_in(inc2, 0x20, 0x520, &from3);
	is_int(r.result, IAS_TRESULT_BLOCKED, "b blocked");
	is_int(events("I-000abc-2", "dead-end", "qp 0x21"), 1,
	       "no look-up possible: a dead end at once");

	/* An answer after the block ended: nothing sent. */
	reset();
	qp(b, 0x22, 0, 0x522, QPT_RSRC_NLQPN);
	r = trace_in(ias_incident_make(0xabc, 3), 0x20, 0x520, &from3);
	is_int(nasks, 2, "searches for b's QPs 0x21 and 0x22");
	ok(engine_release(&S, &(struct release_sel){ .pid = b }, false, "test", NULL, NULL) > 0,
	   "b released");
	fake_reset();
	for (unsigned i = 0; i < nasks; i++)
		answer(i, MIRROR_FOUND, 8, asks[i].rqpn);
	is_int(fake_mad_nreqs, 0, "the late answers send nothing");

	/* The receiving side. */
	reset();
	r = trace_in(ias_incident_make(0xabc, 4), 0x11, 0x999, &from3);
	is_int(r.result, IAS_TRESULT_NOT_CONNECTED, "a sender QPN that is not the remote QPN: refused");
	r = trace_in(ias_incident_make(0xabc, 4), 0x11, 0x511, &from9);
	is_int(r.result, IAS_TRESULT_NOT_CONNECTED,
	       "the right QPN from a LID the kernel did not record: refused");
	r = trace_in(ias_incident_make(0xabc, 4), 0x15, 0x515, &from9);
	is_int(r.result, IAS_TRESULT_NOT_CONNECTED, "a QP whose remote end is only claimed: refused");
	r = trace_in(ias_incident_make(0xabc, 4), 0x14, 0x514, &from9);
	is_int(r.result, IAS_TRESULT_NOT_CONNECTED, "a QP with no remote end: refused");
	qp(a, 0x18, 3, 0x518, QPT_RSRC_PEER | QPT_RSRC_LIBIAS);
	r = trace_in(ias_incident_make(0xabc, 4), 0x18, 0x518, &from9);
	is_int(r.result, IAS_TRESULT_NOT_CONNECTED,
	       "a peer-confirmed remote end, traced from another LID: refused");
	is_int((int)S.stats.traces_refused, 5, "every refusal counted");
	is_int(events("I-000abc-4", "trace-refused", NULL), 5, "and an incident event");
	is_int(fake_mad_nreqs, 0, "a refused trace forwards nothing");
	{
		struct qpt_entry *g = qp(b, 0x30, 0, 0x530, QPT_RSRC_KOBS);
		struct mad_dest gfrom = { .has_gid = 1 };

		memset(g->remote_gid, 0xfe, 16);
		r = trace_in(ias_incident_make(0xabc, 5), 0x30, 0x530, &gfrom);
		is_int(r.result, IAS_TRESULT_NOT_CONNECTED, "RoCE: another GID than the kernel's: refused");
		memset(gfrom.gid, 0xfe, 16);
		r = trace_in(ias_incident_make(0xabc, 5), 0x30, 0x530, &gfrom);
		is_int(r.result, IAS_TRESULT_BLOCKED, "RoCE: the kernel's GID: obeyed");
	}

	/* Report by QP: the victim's QP, traced to its remote end. */
	reset();
	{
		struct ias_incident_rec inc = { .id = "I-000abc-9", .origin = "report-qp",
						.state = "open" };

		ias_store_incident_add(S.store, &inc);
	}
	qp(v, 0x40, 12, 0x540, QPT_RSRC_KOBS);
	q = qp(v, 0x41, 13, 0x541, QPT_RSRC_LIBIAS);
	is_int(trace_report_qp(&S, "I-000abc-9", qpt_find(&S.qps, "dev0", 0x40), 0, where,
			       sizeof(where)), 0, "report by QP, trusted remote end");
	ok(mad_to(12) && mad_to(12)->msg.u.trace.dest_qpn == 0x540 &&
	   mad_to(12)->msg.u.trace.hop_count == 1, "hop 1 to the remote end");
	ok(strstr(where, "trace sent to lid 12 qp 0x540") != NULL, "the reply says where");
	ok(!engine_blocked(&S, v), "the victim is not blocked");
	fake_reset();
	is_int(trace_report_qp(&S, "I-000abc-9", q, 0, where, sizeof(where)), 0,
	       "report by QP, a registered remote end");
	is_int(fake_mad_nreqs, 0, "not traced on the victim's registration");
	ok(nasks == 1 && asks[0].confirm && asks[0].agent.lid == 13, "its agent is asked");
	ok(strstr(where, "not traced yet") != NULL, "the reply says so");
	if (nasks)
		answer(0, MIRROR_FOUND, 13, 0x541);
	ok(mad_to(13) != NULL, "confirmed: traced, with no block here to check");
	q = qp(v, 0x42, 0, 0, 0);
	q->state = 1;
	is_int(trace_report_qp(&S, "I-000abc-9", q, 0, where, sizeof(where)), -ENOTCONN,
	       "a QP never connected: no remote end");

	fake_victim_end(a);
	fake_victim_end(b);
	fake_victim_end(v);
	fake_sema_close(&S, dir);
	return tap_done();
}
