/* See trace.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "mad_defs/incident.h"
#include "sema/effects.h"
#include "sema/engine.h"
#include "sema/mad_port.h"
#include "sema/outbox.h"
#include "sema/trace.h"
#include "sema/uow.h"

struct trace_ctx {
	char incident[32];
	uint32_t local_qpn;
	uint32_t remote_qpn;
	uint8_t hop;
};

/* An incident event at time ts_us (0: now). */
static void event_at(struct sema *s, int64_t ts_us, const char *incident, const char *kind,
		     pid_t pid, uint32_t qpn, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));
#define event(s, ...) event_at(s, 0, __VA_ARGS__)

static void event_at(struct sema *s, int64_t ts_us, const char *incident, const char *kind,
		     pid_t pid, uint32_t qpn, const char *fmt, ...)
{
	struct ias_incident_event ev;
	va_list ap;

	memset(&ev, 0, sizeof(ev));
	snprintf(ev.incident, sizeof(ev.incident), "%s", incident);
	ev.ts_us = ts_us ? ts_us : sema_now_us();
	ev.ts_ms = ev.ts_us / 1000;
	snprintf(ev.node, sizeof(ev.node), "%s", s->cfg.node_name);
	ev.pid = pid;
	ev.qpn = qpn;
	snprintf(ev.kind, sizeof(ev.kind), "%s", kind);
	va_start(ap, fmt);
	vsnprintf(ev.text, sizeof(ev.text), fmt, ap);
	va_end(ap);
	if (ias_store_incident_event_add(s->store, &ev) < 0)
		log_err("incident %s: event not recorded: %s", incident, ias_store_errmsg(s->store));
}

static const char *result_str(uint8_t r)
{
	switch (r) {
	case IAS_TRESULT_BLOCKED: return "blocked";
	case IAS_TRESULT_DUPLICATE: return "already blocked";
	case IAS_TRESULT_NO_OWNER: return "no owner";
	case IAS_TRESULT_ALLOWLISTED: return "on the never-block list";
	case IAS_TRESULT_DRY_RUN: return "would block (dry-run)";
	case IAS_TRESULT_HOP_LIMIT: return "hop limit reached";
	default: return "error";
	}
}

static void trace_done(struct sema *s, void *arg, const struct mad_dest *to,
		       const struct ias_secmgt_msg *resp)
{
	struct trace_ctx *c = arg;
	char hops[160] = "", dst[64];
	size_t used = 0;
	unsigned i;

	if (!resp) {
		s->stats.trace_unreachable++;
		event(s, c->incident, "unreachable", 0, c->local_qpn,
		      "%s (qp 0x%x) did not answer the trace: %u tries",
		      mad_dest_str(to, dst, sizeof(dst)), c->remote_qpn,
		      (unsigned)s->cfg.mad_retries + 1);
		if (outbox_add(s, IAS_REPORT_UNREACHABLE, c->incident, 0, 0, 0, NULL, to->lid,
			       c->remote_qpn) == 0 && s->fx && s->fx->kick_outbox)
			s->fx->kick_outbox(s->fx->ctx);
		log_warn("incident %s: %s unreachable", c->incident, dst);
	} else if (resp->status) {
		event(s, c->incident, "trace-result", 0, c->local_qpn,
		      "%s refused the trace: MAD status 0x%04x", mad_dest_str(to, dst, sizeof(dst)),
		      resp->status);
	} else {
		const struct ias_attr_trace_result *r = &resp->u.tres;

		for (i = 0; i < r->n_hops && used < sizeof(hops) - 24; i++)
			used += r->hops[i].lid ?
				(size_t)snprintf(hops + used, sizeof(hops) - used, "%slid %u/qp 0x%x",
						 i ? ", " : "", r->hops[i].lid, r->hops[i].qpn) :
				(size_t)snprintf(hops + used, sizeof(hops) - used, "%sqp 0x%x",
						 i ? ", " : "", r->hops[i].qpn);
		event(s, c->incident, "trace-result", (pid_t)r->owner_pid, c->local_qpn,
		      "%s qp 0x%x: %s PID %u, %u QP(s)%s%s", mad_dest_str(to, dst, sizeof(dst)),
		      c->remote_qpn,
		      result_str(r->result), r->owner_pid, r->qps_blocked,
		      r->n_hops ? "; traced on to " : "", hops);
	}
	free(c);
}

/* One onward trace: sent first, recorded after all have left. The fields
 * are copied out of the QP table, which a later kernel scan may move. */
struct onward {
	pid_t pid;
	uint32_t local_qpn;
	uint32_t remote_qpn;
	struct mad_dest to;
	int64_t sent_us;
	int r;			/* mad_port_request's result */
};

static int send_one(struct sema *s, uint64_t inc64, const char *incident, struct onward *o,
		    uint8_t hop, unsigned flags)
{
	struct ias_secmgt_msg m;
	struct trace_ctx *c;

	memset(&m, 0, sizeof(m));
	m.method = IAS_METHOD_SET;
	m.attr_id = IAS_ATTR_TRACE;
	m.u.trace.incident_id = inc64;
	m.u.trace.origin_guid = mad_port_node_guid(s->mad);
	m.u.trace.sender_guid = mad_port_node_guid(s->mad);
	m.u.trace.dest_qpn = o->remote_qpn;
	m.u.trace.sender_qpn = o->local_qpn;
	m.u.trace.hop_count = hop;
	m.u.trace.hop_limit = (uint8_t)s->policy.hop_limit;
	m.u.trace.fanout_limit = (uint8_t)s->policy.fanout_limit;
	m.u.trace.search_level = (uint8_t)s->policy.level;
	m.u.trace.flags = s->policy.dry_run || (flags & SEMA_TRACE_DRY_RUN) ? IAS_TRACE_F_DRY_RUN : 0;
	m.u.trace.reason = hop == 1 ? IAS_TREASON_ATTACK_REPORTED : IAS_TREASON_TRACE_HOP;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	snprintf(c->incident, sizeof(c->incident), "%s", incident);
	c->local_qpn = o->local_qpn;
	c->remote_qpn = o->remote_qpn;
	c->hop = hop;
	/* Taken before the send: once the MAD is out, this process may be
	 * preempted by its receiver (all nodes share the host's cores). */
	o->sent_us = sema_now_us();
	o->r = mad_port_request(s->mad, &o->to, &m, trace_done, c);
	if (o->r)
		free(c);
	return o->r;
}

/* The incident events and manager reports of traces already sent (inside
 * the caller's unit of work, which kicks the outbox after its commit). */
static void record_sent(struct sema *s, const char *incident, const struct onward *o,
			unsigned n, uint8_t hop)
{
	char dst[64];
	unsigned i;

	for (i = 0; i < n; i++, o++) {
		mad_dest_str(&o->to, dst, sizeof(dst));
		if (o->r) {
			event_at(s, o->sent_us, incident, "unreachable", o->pid, o->local_qpn,
				 "trace to %s qp 0x%x not sent: %s", dst, o->remote_qpn,
				 o->r == -ENODEV ? "no RDMA port" : strerror(-o->r));
			continue;
		}
		event_at(s, o->sent_us, incident, "trace-out", o->pid, o->local_qpn,
			 "trace to %s qp 0x%x (hop %u)", dst, o->remote_qpn, hop);
		if (outbox_add(s, IAS_REPORT_HOP, incident, 0, o->pid, 0, NULL, o->to.lid,
			       o->remote_qpn) < 0)
			log_err("incident %s: hop report not queued: %s", incident,
				ias_store_errmsg(s->store));
	}
}

static int dest_known(uint32_t lid, const uint8_t *gid)
{
	static const uint8_t zero[16];

	return lid != 0 || memcmp(gid, zero, 16) != 0;
}

static void dest_of(struct mad_dest *to, uint32_t lid, const uint8_t *gid)
{
	static const uint8_t zero[16];

	memset(to, 0, sizeof(*to));
	to->lid = (uint16_t)lid;
	if (lid == 0 && memcmp(gid, zero, 16) != 0) {
		to->has_gid = 1;
		memcpy(to->gid, gid, 16);
	}
}

/* Sends the traces for pid (see trace_out) without writing anything;
 * returns how many were attempted (o[] filled, at most max). */
static unsigned send_all(struct sema *s, const char *incident, pid_t pid, uint8_t hop,
			 uint32_t except_qpn, unsigned flags, struct onward *o, unsigned max)
{
	unsigned tried = 0, sent = 0;
	uint64_t inc64;
	size_t i;

	if (ias_incident_parse(incident, &inc64) || hop > s->policy.hop_limit)
		return 0;
	for (i = 0; i < s->qps.n && tried < max; i++) {
		const struct qpt_entry *q = &s->qps.e[i];
		unsigned d;

		if (q->pid != pid || q->qpn == except_qpn)
			continue;
		if (q->has_remote && dest_known(q->remote_lid, q->remote_gid)) {
			dest_of(&o[tried].to, q->remote_lid, q->remote_gid);
			o[tried].pid = pid;
			o[tried].local_qpn = q->qpn;
			o[tried].remote_qpn = q->remote_qpn;
			if (send_one(s, inc64, incident, &o[tried], hop, flags) == 0)
				sent++;
			tried++;
		}
		/* UD: every recent destination. */
		for (d = 0; d < q->ndest && tried < max; d++) {
			if (!dest_known(q->dest[d].lid, q->dest[d].gid))
				continue;
			dest_of(&o[tried].to, q->dest[d].lid, q->dest[d].gid);
			o[tried].pid = pid;
			o[tried].local_qpn = q->qpn;
			o[tried].remote_qpn = q->dest[d].qpn;
			if (send_one(s, inc64, incident, &o[tried], hop, flags) == 0)
				sent++;
			tried++;
		}
	}
	if (tried >= max)
		log_notice("incident %s: fan-out limit %u reached for PID %d", incident, max,
			   (int)pid);
	return tried;
}

/* Fills hops[] with the traces that left; returns how many left. */
static unsigned hops_of(const struct onward *o, unsigned n, struct ias_hop *hops,
			unsigned maxhops)
{
	unsigned i, sent = 0;

	for (i = 0; i < n; i++) {
		if (o[i].r)
			continue;
		if (hops && sent < maxhops) {
			hops[sent].lid = o[i].to.lid;
			hops[sent].qpn = o[i].remote_qpn;
		}
		sent++;
	}
	return sent;
}

unsigned trace_out(struct sema *s, const char *incident, pid_t pid, uint8_t hop,
		   uint32_t except_qpn, unsigned flags)
{
	unsigned limit = (unsigned)s->policy.fanout_limit, n, sent;
	struct onward *o;

	if (limit == 0)
		return 0;
	o = calloc(limit, sizeof(*o));
	if (!o) {
		log_err("incident %s: out of memory, no traces sent", incident);
		return 0;
	}
	n = send_all(s, incident, pid, hop, except_qpn, flags, o, limit);
	record_sent(s, incident, o, n, hop);
	sent = hops_of(o, n, NULL, 0);
	free(o);
	return sent;
}

/* The QP a trace names: QPNs are per device, so one on the device the
 * trace arrived through comes first. */
static struct qpt_entry *find_dest(struct sema *s, uint32_t qpn)
{
	const char *ca = mad_port_ca(s->mad);
	struct qpt_entry *q = ca ? qpt_find(&s->qps, ca, qpn) : NULL;

	return q ? q : qpt_find_qpn(&s->qps, qpn);
}

/* This node's part of a hop, in one unit of work: block the owner (or join
 * it to the incident), record the traces that left; fills res. */
static void hop_here(struct sema *s, const struct ias_attr_trace *t, const char *incident,
		     const char *src, pid_t pid, int64_t arrived_us, const struct onward *onward,
		     unsigned n_onward, struct ias_attr_trace_result *res)
{
	struct report_req rq = { 0 };
	struct ias_block_rec rec;
	struct sema_uow u;
	char reason[128], actor[80], msg[256];
	unsigned i;
	int r;

	if (uow_begin(s, &u, msg, sizeof(msg)) < 0) {
		log_err("incident %s: hop not recorded: %s", incident, msg);
		res->result = IAS_TRESULT_ERROR;
		return;
	}
	snprintf(reason, sizeof(reason), "trace from %s/qp 0x%x (hop %u)", src, t->sender_qpn,
		 t->hop_count);
	snprintf(actor, sizeof(actor), "mad:%s", src);
	rq.pid = pid;
	rq.reason = reason;
	rq.origin = "trace";
	rq.actor = actor;
	rq.incident = incident;
	rq.dry_run = (t->flags & IAS_TRACE_F_DRY_RUN) != 0;
	event_at(s, arrived_us, incident, "trace-in", pid, t->dest_qpn,
		 "trace from %s qp 0x%x (hop %u)%s", src, t->sender_qpn, t->hop_count,
		 rq.dry_run ? ", dry-run" : "");
	record_sent(s, incident, onward, n_onward, (uint8_t)(t->hop_count + 1));
	if (n_onward)
		uow_kick(&u);
	r = engine_report(s, &u, &rq, &rec, msg, sizeof(msg));
	switch (r) {
	case 0:
	case 2:		/* already blocked, and now part of this incident too */
		res->result = rec.simulated ? IAS_TRESULT_DRY_RUN : IAS_TRESULT_BLOCKED;
		res->qps_blocked = rec.nqps;
		for (i = 0; i < rec.nqps && i < IAS_TRACE_MAX_QPNS; i++)
			res->qpns[i] = rec.qpns[i];
		res->n_qpns = (uint8_t)i;
		if (rec.nqps > IAS_TRACE_MAX_QPNS)
			res->flags |= IAS_TRESULT_F_TRUNCATED;
		break;
	case 1:
		res->result = IAS_TRESULT_DUPLICATE;
		res->qps_blocked = rec.nqps;
		break;
	case -EACCES:
		res->result = IAS_TRESULT_ALLOWLISTED;
		event(s, incident, "refused", pid, t->dest_qpn, "%s", msg);
		break;
	case -ESRCH:
		res->result = IAS_TRESULT_NO_OWNER;
		break;
	default:
		log_err("incident %s: PID %d not blocked: %s", incident, (int)pid, msg);
		uow_abort(&u);
		res->result = IAS_TRESULT_ERROR;
		return;
	}
	if (uow_commit(&u, msg, sizeof(msg)) < 0) {
		log_err("incident %s: hop not recorded: %s", incident, msg);
		res->result = IAS_TRESULT_ERROR;
	}
}

uint16_t trace_handle(struct sema *s, const struct ias_secmgt_msg *req, const struct mad_dest *from,
		      struct ias_attr_trace_result *res)
{
	const struct ias_attr_trace *t = &req->u.trace;
	struct qpt_entry *q;
	struct onward *onward = NULL;
	char incident[IAS_INCIDENT_STR_LEN], msg[256], src[64];
	unsigned n_onward = 0, nhops, limit = (unsigned)s->policy.fanout_limit;
	unsigned flags = (t->flags & IAS_TRACE_F_DRY_RUN) ? SEMA_TRACE_DRY_RUN : 0;
	int64_t arrived_us = sema_now_us();
	pid_t pid;

	mad_dest_str(from, src, sizeof(src));
	memset(res, 0, sizeof(*res));
	res->incident_id = t->incident_id;
	res->responder_guid = mad_port_node_guid(s->mad);
	if (ias_incident_format(t->incident_id, incident, sizeof(incident)) < 0) {
		res->result = IAS_TRESULT_ERROR;
		return IAS_STATUS_OK;
	}
	if (t->hop_count == 0 || t->hop_count > t->hop_limit) {
		res->result = IAS_TRESULT_HOP_LIMIT;
		return IAS_STATUS_OK;
	}
	/* The owner from the table; the kernel is asked only for a QP the
	 * table does not know (engine_report refreshes it before blocking). */
	q = find_dest(s, t->dest_qpn);
	if ((!q || q->pid <= 0) && s->kernel_rdma) {
		engine_kernel_scan(s);
		q = find_dest(s, t->dest_qpn);
	}
	if (!q || q->pid <= 0) {
		res->result = IAS_TRESULT_NO_OWNER;
		event_at(s, arrived_us, incident, "trace-in", 0, t->dest_qpn,
			 "trace from %s for qp 0x%x: no process owns it", src,
			 t->dest_qpn);
		return IAS_STATUS_OK;
	}
	pid = q->pid;
	res->owner_pid = (uint32_t)pid;
	/* The fast path: the onward traces leave before anything is read from
	 * /proc or the store or written. Whether to forward is decided from
	 * memory: a process already part of this incident (a repeat, or a
	 * cycle back to it) forwards nothing and is answered from its block
	 * record; one blocked for another incident traces on for this one;
	 * the never-block verdict is cached per process. */
	if ((unsigned)t->hop_count + 1 <= t->hop_limit && limit &&
	    !engine_blocked_in(s, pid, incident) && !engine_never_block(s, pid, msg, sizeof(msg))) {
		onward = calloc(limit, sizeof(*onward));
		if (onward)
			n_onward = send_all(s, incident, pid, (uint8_t)(t->hop_count + 1),
					    t->dest_qpn, flags, onward, limit);
		else
			log_err("incident %s: out of memory, trace not forwarded", incident);
	}
	hop_here(s, t, incident, src, pid, arrived_us, onward, n_onward, res);
	nhops = hops_of(onward, n_onward, res->hops, IAS_TRACE_MAX_HOPS);
	res->n_hops = (uint8_t)(nhops < IAS_TRACE_MAX_HOPS ? nhops : IAS_TRACE_MAX_HOPS);
	if (nhops > IAS_TRACE_MAX_HOPS)
		res->flags |= IAS_TRESULT_F_TRUNCATED;
	free(onward);
	return IAS_STATUS_OK;
}
