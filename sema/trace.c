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
#include "common/ratelimit.h"
#include "sema/mad_port.h"
#include "sema/mirror.h"
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
	case IAS_TRESULT_NOT_CONNECTED: return "refused: the QP is not connected to this sender";
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
enum onward_kind {
	ONW_SENT = 0,		/* a trace left (or failed to: r) */
	ONW_ASKED,		/* not traced yet: a look-up was started */
	ONW_UNCONFIRMED,	/* a claim nobody could confirm: not traced */
	ONW_DEAD,		/* no remote end learnable: a dead end */
};

struct onward {
	pid_t pid;
	uint32_t local_qpn;
	uint32_t remote_qpn;
	struct mad_dest to;
	int64_t sent_us;
	int r;			/* mad_port_request's (or the look-up's) result */
	uint8_t kind;		/* enum onward_kind */
	const char *why;	/* static text for the event; NULL on the fast path */
};

/* The mirror look-ups (sema/mirror.h), replaceable by the unit tests. */
static const struct trace_mirror_ops mirror_ops = { mirror_confirm, mirror_find };
const struct trace_mirror_ops *trace_mirror = &mirror_ops;

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
		return o->r = -ENOMEM;
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

/* The events of a QP that got no trace now: a look-up under way, a claim
 * that could not be confirmed, or a dead end (each also a log line). There
 * is no manager report kind for these: the incident's events carry them. */
static void record_unsent(struct sema *s, const char *incident, const struct onward *o,
			  const char *dst)
{
	char rq[96] = "";

	switch (o->kind) {
	case ONW_ASKED:
		event(s, incident, "lookup", o->pid, o->local_qpn,
		      "qp 0x%x: remote qp 0x%x%s%s: %s", o->local_qpn, o->remote_qpn,
		      o->to.lid || o->to.has_gid ? " at " : "", o->to.lid || o->to.has_gid ? dst : "",
		      o->why);
		break;
	case ONW_UNCONFIRMED:
		event(s, incident, "unconfirmed", o->pid, o->local_qpn,
		      "qp 0x%x: its registration claims %s qp 0x%x; not traced: %s", o->local_qpn,
		      dst, o->remote_qpn, o->why);
		log_warn("incident %s: PID %d qp 0x%x: registered remote end %s qp 0x%x not "
			 "confirmed, not traced: %s", incident, (int)o->pid, o->local_qpn, dst,
			 o->remote_qpn, o->why);
		break;
	default:
		if (o->remote_qpn)
			snprintf(rq, sizeof(rq), " (remote qp 0x%x, no address from the kernel%s)",
				 o->remote_qpn, s->cfg.kernel_observation == SEMA_KOBS_OFF ?
				 ": eBPF observation is off" : "");
		event(s, incident, "dead-end", o->pid, o->local_qpn, "qp 0x%x%s: %s", o->local_qpn,
		      rq, o->why);
		log_warn("incident %s: PID %d qp 0x%x: dead end, no trace: %s", incident,
			 (int)o->pid, o->local_qpn, o->why);
		break;
	}
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
		if (o->kind != ONW_SENT) {
			record_unsent(s, incident, o, dst);
			continue;
		}
		if (o->r) {
			event_at(s, o->sent_us, incident, "unreachable", o->pid, o->local_qpn,
				 "trace to %s qp 0x%x not sent: %s", dst, o->remote_qpn,
				 o->r == -ENODEV ? "no RDMA port" : strerror(-o->r));
			continue;
		}
		event_at(s, o->sent_us, incident, "trace-out", o->pid, o->local_qpn,
			 "trace to %s qp 0x%x (hop %u)%s%s", dst, o->remote_qpn, hop,
			 o->why ? ": " : "", o->why ? o->why : "");
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

/* A look-up in flight: what to send when it answers. */
struct later {
	char incident[IAS_INCIDENT_STR_LEN];
	uint64_t inc64;
	pid_t pid;		/* the blocked owner; 0: a victim's report-by-QP */
	char device[64];
	uint32_t local_qpn, remote_qpn;
	struct mad_dest claimed;	/* confirm: the registration's claim */
	bool confirm;
	uint8_t hop;
	unsigned flags;
};

/* Is the trace still wanted? The owner's block in the incident (released
 * meanwhile: no), or, for a victim's report, the incident itself. */
static bool still_wanted(struct sema *s, const struct later *l)
{
	struct ias_incident_rec inc;

	if (l->pid)
		return engine_blocked_in(s, l->pid, l->incident) == 1;
	return ias_store_incident_get(s->store, l->incident, &inc) == 0 &&
	       strcmp(inc.state, "closed") != 0;
}

static const char *lookup_why(enum mirror_result r, bool confirm)
{
	switch (r) {
	case MIRROR_NONE:
		return confirm ? "the agent it names holds no such QP connected to this one"
			       : "no agent holds the mirror QP";
	case MIRROR_AMBIGUOUS: return "more than one agent holds a mirror QP (ambiguous, refused)";
	case MIRROR_NO_ANSWER: return confirm ? "the agent it names did not answer"
					      : "no agent said yes and some did not answer";
	case MIRROR_NO_AGENTS: return "no agent to ask (no agent list from a manager, no peers)";
	default: return "the look-up failed";
	}
}

/* A look-up answered (from the reactor): trace now, in a unit of work of
 * its own, or record why not. */
static void later_done(struct sema *s, void *arg, enum mirror_result r,
		       const struct mirror_where *where)
{
	struct later *l = arg;
	struct onward o;
	struct sema_uow u;
	char msg[256];

	if (!still_wanted(s, l)) {
		log_info("incident %s: look-up for qp 0x%x answered (%s) after the block or "
			 "incident ended: nothing sent", l->incident, l->local_qpn,
			 mirror_result_str(r));
		free(l);
		return;
	}
	if (uow_begin(s, &u, msg, sizeof(msg)) < 0) {
		log_err("incident %s: look-up for qp 0x%x not followed: %s", l->incident,
			l->local_qpn, msg);
		free(l);
		return;
	}
	memset(&o, 0, sizeof(o));
	o.pid = l->pid;
	o.local_qpn = l->local_qpn;
	o.remote_qpn = l->remote_qpn;
	o.to = l->claimed;
	if (r == MIRROR_FOUND && where) {
		o.to = where->agent;
		o.remote_qpn = where->qpn;
		o.why = l->confirm ? "the registration's claim, confirmed by its agent"
				   : "found by a mirror look-up";
		send_one(s, l->inc64, l->incident, &o, l->hop, l->flags);
		uow_kick(&u);
	} else {
		o.kind = l->confirm ? ONW_UNCONFIRMED : ONW_DEAD;
		o.why = lookup_why(r, l->confirm);
	}
	record_sent(s, l->incident, &o, 1, l->hop);
	if (uow_commit(&u, msg, sizeof(msg)) < 0)
		log_err("incident %s: look-up outcome not recorded: %s", l->incident, msg);
	free(l);
}

/* Starts the look-up for o's QP (o->kind ONW_ASKED), or fills in why it
 * could not start (then it is the kind given). */
static void ask(struct sema *s, uint64_t inc64, const char *incident, const struct qpt_entry *q,
		uint8_t hop, unsigned flags, bool confirm, struct onward *o)
{
	struct later *l = calloc(1, sizeof(*l));
	int r;

	o->kind = confirm ? ONW_UNCONFIRMED : ONW_DEAD;
	if (!l) {
		o->why = "out of memory";
		return;
	}
	snprintf(l->incident, sizeof(l->incident), "%s", incident);
	snprintf(l->device, sizeof(l->device), "%s", q->device);
	l->inc64 = inc64;
	l->pid = o->pid;
	l->local_qpn = q->qpn;
	l->remote_qpn = q->remote_qpn;
	l->claimed = o->to;
	l->confirm = confirm;
	l->hop = hop;
	l->flags = flags;
	r = confirm ? trace_mirror->confirm(s, &o->to, q->device, q->qpn, q->remote_qpn, later_done, l)
		    : trace_mirror->find(s, q->device, q->qpn, q->remote_qpn, later_done, l);
	o->r = r;
	if (r < 0) {
		free(l);
		o->why = r == -ENODEV ? "no MAD port to ask other agents" :
			 r == -EOPNOTSUPP ? "no mirror look-up in this agent" :
			 "the look-up could not start";
		return;
	}
	o->kind = ONW_ASKED;
	o->why = confirm ? "claimed by the registration only, not traced on its word: asking "
			   "that agent to confirm the mirror QP"
			 : "no address from the kernel: asking the agents for the mirror QP";
}

/* Why a connected QP has no remote end to look for. */
static const char *no_remote_why(const struct sema *s)
{
	if (!s->kernel_rdma)
		return "no remote end learnt: rdma netlink does not answer and nothing else "
		       "reported one";
	if (s->cfg.kernel_observation == SEMA_KOBS_OFF)
		return "no remote end learnt: no address or remote QPN from the kernel "
		       "(eBPF observation is off)";
	return "no remote end learnt: no address or remote QPN from the kernel";
}

/* A QP whose remote end is not trusted: a look-up (a registration's claim is
 * confirmed with the agent it names; a remote QPN alone is searched for), or
 * a dead end. Returns 0 when nothing is to be recorded (a QP that was never
 * connected). */
static int untrusted(struct sema *s, uint64_t inc64, const char *incident,
		     const struct qpt_entry *q, pid_t owner, uint8_t hop, unsigned flags,
		     struct onward *o)
{
	memset(o, 0, sizeof(*o));
	o->pid = owner;
	o->local_qpn = q->qpn;
	if (q->has_remote && q->remote_qpn) {
		o->remote_qpn = q->remote_qpn;
		if ((q->remote_src & QPT_RSRC_LIBIAS) && dest_known(q->remote_lid, q->remote_gid)) {
			dest_of(&o->to, q->remote_lid, q->remote_gid);
			ask(s, inc64, incident, q, hop, flags, true, o);
		} else {
			ask(s, inc64, incident, q, hop, flags, false, o);
		}
		return 1;
	}
	/* RC and UC QPs past INIT have a remote end; UD has destinations. */
	if ((q->type != 2 && q->type != 3) || q->state < 2)
		return 0;
	o->kind = ONW_DEAD;
	o->why = no_remote_why(s);
	return 1;
}

static int same_addr(uint32_t lid, const uint8_t *gid, const struct mad_dest *from)
{
	if (lid)
		return from->lid == lid;
	return from->has_gid && memcmp(from->gid, gid, 16) == 0;
}

/* Is from the remote address a source vouches for? A kernel source's
 * address must be the MAD's source exactly; a peer's or a mirror look-up's
 * is the answering agent's port, compared by LID (a RoCE agent may answer
 * from another GID of the same port: not compared). Otherwise there is no
 * address to compare. */
static int addr_ok(unsigned src, uint32_t lid, const uint8_t *gid, const struct mad_dest *from)
{
	if (src & (QPT_RSRC_KOBS | QPT_RSRC_CM))
		return same_addr(lid, gid, from);
	if ((src & (QPT_RSRC_PEER | QPT_RSRC_MIRROR)) && lid)
		return from->lid == lid;
	return 1;
}

/* Sends the traces for pid (see trace_out) without writing anything: to
 * trusted remote ends at once, look-ups for the others; returns how many
 * entries of o[] were filled (at most max). */
static unsigned send_all(struct sema *s, const char *incident, pid_t pid, uint8_t hop,
			 uint32_t except_qpn, unsigned flags, struct onward *o, unsigned max)
{
	unsigned tried = 0;
	uint64_t inc64;
	size_t i;

	if (ias_incident_parse(incident, &inc64) || hop > s->policy.hop_limit)
		return 0;
	for (i = 0; i < s->qps.n && tried < max; i++) {
		const struct qpt_entry *q = &s->qps.e[i];
		unsigned d;

		if (q->pid != pid || q->qpn == except_qpn)
			continue;
		if (qpt_remote_trusted(q)) {
			dest_of(&o[tried].to, q->remote_lid, q->remote_gid);
			o[tried].pid = pid;
			o[tried].local_qpn = q->qpn;
			o[tried].remote_qpn = q->remote_qpn;
			send_one(s, inc64, incident, &o[tried], hop, flags);
			tried++;
		} else if (untrusted(s, inc64, incident, q, pid, hop, flags, &o[tried])) {
			tried++;
		}
		/* UD: every recent destination the kernel or a peer reported;
		 * one only registered is a claim nobody can confirm (a UD QP
		 * has no mirror). */
		for (d = 0; d < q->ndest && tried < max; d++) {
			if (!dest_known(q->dest[d].lid, q->dest[d].gid))
				continue;
			dest_of(&o[tried].to, q->dest[d].lid, q->dest[d].gid);
			o[tried].pid = pid;
			o[tried].local_qpn = q->qpn;
			o[tried].remote_qpn = q->dest[d].qpn;
			if (q->dest[d].src & QPT_RSRC_TRUSTED) {
				send_one(s, inc64, incident, &o[tried], hop, flags);
			} else {
				o[tried].kind = ONW_UNCONFIRMED;
				o[tried].why = "a UD destination only the registration reported";
			}
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
		if (o[i].kind != ONW_SENT || o[i].r)
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

int trace_report_qp(struct sema *s, const char *incident, const struct qpt_entry *q,
		    unsigned flags, char *where, size_t wherelen)
{
	struct onward o;
	uint64_t inc64;
	char dst[64], rsrc[64];

	if (ias_incident_parse(incident, &inc64))
		return -EINVAL;
	memset(&o, 0, sizeof(o));
	if (qpt_remote_trusted(q)) {
		dest_of(&o.to, q->remote_lid, q->remote_gid);
		o.local_qpn = q->qpn;
		o.remote_qpn = q->remote_qpn;
		send_one(s, inc64, incident, &o, 1, flags);
	} else if (q->type == 4 || !untrusted(s, inc64, incident, q, 0, 1, flags, &o)) {
		return -ENOTCONN;
	}
	record_sent(s, incident, &o, 1, 1);
	mad_dest_str(&o.to, dst, sizeof(dst));
	if (o.kind == ONW_SENT && !o.r)
		snprintf(where, wherelen, "trace sent to %s qp 0x%x (remote end from %s)", dst,
			 o.remote_qpn, qpt_remote_src_str(q->remote_src, rsrc, sizeof(rsrc)));
	else if (o.kind == ONW_SENT)
		snprintf(where, wherelen, "trace to %s qp 0x%x not sent: %s", dst, o.remote_qpn,
			 o.r == -ENODEV ? "no RDMA port" : strerror(-o.r));
	else
		snprintf(where, wherelen, "%s: %s",
			 o.kind == ONW_ASKED ? "not traced yet" :
			 o.kind == ONW_UNCONFIRMED ? "not traced (unconfirmed)" : "dead end", o.why);
	return 0;
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

/* Is the QP a trace names connected to the trace's sender? NULL yes, else
 * why not. The remote QPN must be known from the kernel or confirmed by a
 * peer and be the sender's QPN; where the kernel gave the remote address,
 * it must be the MAD's source: the LID, or on RoCE (LID 0) the GID. A RoCE
 * port has several GIDs: only the exact GID the kernel recorded counts (the
 * agents must send from the GID index their QPs use, sema.8 gid_index).
 * For a UD QP, a trusted destination with the sender's QPN (and address,
 * when a kernel source gave it) binds it. */
static const char *not_connected(const struct qpt_entry *q, const struct ias_attr_trace *t,
				 const struct mad_dest *from)
{
	static const unsigned qpn_src = QPT_RSRC_TRUSTED | QPT_RSRC_NLQPN;
	unsigned d;

	if (q->has_remote && (q->remote_src & qpn_src) && q->remote_qpn == t->sender_qpn) {
		if (addr_ok(q->remote_src, q->remote_lid, q->remote_gid, from))
			return NULL;
		return "its remote address is not the sender's";
	}
	for (d = 0; d < q->ndest; d++)
		if ((q->dest[d].src & QPT_RSRC_TRUSTED) && q->dest[d].qpn == t->sender_qpn &&
		    addr_ok(q->dest[d].src, q->dest[d].lid, q->dest[d].gid, from))
			return NULL;
	if (!q->has_remote)
		return "this node knows no remote end for it";
	if (!(q->remote_src & qpn_src))
		return "its remote end is only claimed by its owner's registration";
	return "its remote QPN is not the sender's QPN";
}

static struct ias_ratelimit refused_log = IAS_RATELIMIT_INIT(10000, 10);

/* A trace not bound to a connection: counted, logged (rate-limited), an
 * incident event. */
static void refuse(struct sema *s, const struct qpt_entry *q, const struct ias_attr_trace *t,
		   const char *src, const char *incident, int64_t arrived_us, const char *why)
{
	s->stats.traces_refused++;
	event_at(s, arrived_us, incident, "trace-refused", q->pid, t->dest_qpn,
		 "trace from %s qp 0x%x for qp 0x%x refused: %s", src, t->sender_qpn, t->dest_qpn,
		 why);
	if (ias_ratelimit_ok(&refused_log, (uint64_t)(arrived_us / 1000)))
		log_warn("incident %s: trace from %s qp 0x%x for qp 0x%x refused: %s (%llu "
			 "refused in all)", incident, src, t->sender_qpn, t->dest_qpn, why,
			 (unsigned long long)s->stats.traces_refused);
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
	const char *why;
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
	why = not_connected(q, t, from);
	if (why) {
		refuse(s, q, t, src, incident, arrived_us, why);
		res->result = IAS_TRESULT_NOT_CONNECTED;
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
