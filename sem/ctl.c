/* See ctl.h. The manager's handlers; the transport (validation order,
 * authorisation from SO_PEERCRED/SO_PEERGROUPS against the control group,
 * dispatch, exactly one reply per request) is ctl/server.c, shared with the
 * agent. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "mad_defs/policy.h"
#include "ctl/proto.h"
#include "ctl/server.h"
#include "sem/ctl.h"
#include "sem/madio.h"

struct sem_ctl {
	struct ctlsrv *srv;
};

static struct sem *sem_of(const struct ctlsrv_req *x)
{
	return x->ctx;
}

static void node_name(struct sem *s, uint64_t guid, char *out, size_t len)
{
	struct sem_node *n = sem_view_by_guid(&s->view, guid);

	if (n && n->rec.name[0])
		snprintf(out, len, "%.63s", n->rec.name);
	else
		snprintf(out, len, "0x%016" PRIx64, guid);
}

static void put_policy(struct ias_ctl_msg *m, const struct ias_attr_policy *p)
{
	ias_ctl_nest_begin(m, IAS_CTL_A_POLICY);
	ias_ctl_put_str(m, IAS_CTL_A_LEVEL, ias_level_name(p->search_level));
	ias_ctl_put_str(m, IAS_CTL_A_BLOCK_MODE, ias_mode_name(p->block_mode));
	ias_ctl_put_u8(m, IAS_CTL_A_DRY_RUN, (uint8_t)!!(p->flags & IAS_POLICY_F_DRY_RUN));
	ias_ctl_put_u32(m, IAS_CTL_A_BASE_DURATION_S, p->base_duration_s);
	ias_ctl_put_u32(m, IAS_CTL_A_MAX_DURATION_S, p->max_duration_s);
	ias_ctl_put_u32(m, IAS_CTL_A_ESCALATION, p->escalation_x100 / 100u);
	ias_ctl_put_u32(m, IAS_CTL_A_HOP_LIMIT, p->hop_limit);
	ias_ctl_put_u32(m, IAS_CTL_A_FANOUT_LIMIT, p->fanout_limit);
	ias_ctl_put_u32(m, IAS_CTL_A_POLICY_VERSION, p->policy_version);
	ias_ctl_nest_end(m);
}

static unsigned count_agents(struct sem *s, int reachable)
{
	unsigned k = 0;
	size_t i;

	for (i = 0; i < s->view.n; i++)
		if (s->view.nodes[i].rec.agent && (!reachable || s->view.nodes[i].reachable))
			k++;
	return k;
}

static int op_status(struct ctlsrv_req *x)
{
	struct sem *s = sem_of(x);
	char port[128], ver[64];

	sem_mad_describe(s->mad, port, sizeof(port));
	snprintf(ver, sizeof(ver), "sem %s", PACKAGE_VERSION);
	ias_ctl_put_str(x->rep, IAS_CTL_A_ROLE, s->view.active ? "active" : "standby");
	ias_ctl_nest_begin(x->rep, IAS_CTL_A_STATUS);
	ias_ctl_put_str(x->rep, IAS_CTL_A_AGENT_VERSION, ver);
	ias_ctl_put_str(x->rep, IAS_CTL_A_NODE, s->cfg.node_name);
	ias_ctl_put_u64(x->rep, IAS_CTL_A_UPTIME_S, (uint64_t)(sem_now_ms() - s->started_ms) / 1000);
	ias_ctl_put_str(x->rep, IAS_CTL_A_PORT_STATE, port);
	ias_ctl_put_u32(x->rep, IAS_CTL_A_PEERS_REACHABLE, count_agents(s, 1));
	ias_ctl_put_u32(x->rep, IAS_CTL_A_PEERS_KNOWN, count_agents(s, 0));
	ias_ctl_put_u64(x->rep, IAS_CTL_A_MADS_REJECTED, s->mads_rejected);
	ias_ctl_put_u8(x->rep, IAS_CTL_A_DRY_RUN, (uint8_t)!!(s->view.policy.flags & IAS_POLICY_F_DRY_RUN));
	put_policy(x->rep, &s->view.policy);
	ias_ctl_nest_end(x->rep);
	return 0;
}

static const char *type_name(uint8_t t)
{
	switch (t) {
	case 1: return "ca";
	case 2: return "switch";
	case 3: return "router";
	default: return "unknown";
	}
}

static int op_fabric_status(struct ctlsrv_req *x)
{
	struct sem *s = sem_of(x);
	uint64_t total = 0;
	size_t i;

	ias_ctl_put_str(x->rep, IAS_CTL_A_ROLE, s->view.active ? "active" : "standby");
	ias_ctl_put_u32(x->rep, IAS_CTL_A_SM_LID, s->sm_lid);
	ias_ctl_put_u64(x->rep, IAS_CTL_A_SM_GUID, s->sm_guid);
	ias_ctl_put_u32(x->rep, IAS_CTL_A_POLICY_VERSION, s->view.policy.policy_version);
	for (i = 0; i < s->view.n; i++) {
		struct sem_node *n = &s->view.nodes[i];
		uint64_t maxseq = 0, cnt = 0;
		int64_t last = 0;
		const char *pst = "unknown";

		if (semstore_report_span(s->store, n->rec.guid, &maxseq, &cnt) ||
		    semstore_report_last_ms(s->store, n->rec.guid, &last))
			return ctlsrv_fail(x, IAS_CTL_E_INTERNAL, "store: %s", semstore_errmsg(s->store));
		total += cnt;
		if (n->push_status)
			pst = "refused";
		else if (n->policy_known)
			pst = sem_view_policy_current(&s->view, n) ? "current" : "pending";
		ias_ctl_nest_begin(x->rep, IAS_CTL_A_FABRIC_NODE);
		ias_ctl_put_str(x->rep, IAS_CTL_A_NODE, n->rec.name);
		ias_ctl_put_u64(x->rep, IAS_CTL_A_NODE_GUID, n->rec.guid);
		ias_ctl_put_u32(x->rep, IAS_CTL_A_LID, n->present ? n->rec.lid : 0);
		ias_ctl_put_str(x->rep, IAS_CTL_A_NODE_TYPE, type_name(n->rec.node_type));
		ias_ctl_put_u8(x->rep, IAS_CTL_A_AGENT, (uint8_t)!!n->rec.agent);
		ias_ctl_put_u8(x->rep, IAS_CTL_A_REACHABLE, (uint8_t)!!n->reachable);
		if (n->rec.agent) {
			if (n->policy_known)
				ias_ctl_put_u32(x->rep, IAS_CTL_A_POLICY_VERSION,
						n->agent_policy.policy_version);
			ias_ctl_put_str(x->rep, IAS_CTL_A_POLICY_STATE, pst);
			ias_ctl_put_u32(x->rep, IAS_CTL_A_BLOCKS_ACTIVE, n->active_blocks);
			ias_ctl_put_u64(x->rep, IAS_CTL_A_LAST_REPORT_MS, (uint64_t)last);
			ias_ctl_put_u64(x->rep, IAS_CTL_A_REPORTS, cnt);
		}
		ias_ctl_nest_end(x->rep);
	}
	ias_ctl_put_u64(x->rep, IAS_CTL_A_REPORTS, total);
	return 0;
}

/* ---- incidents, from the reports -------------------------------------- */

struct inc {
	uint64_t id, origin;
	int64_t opened, closed;
	uint32_t root_pid;
	unsigned blocks, releases;
};

struct incs {
	struct inc *v;
	size_t n, cap;
};

static int inc_cb(const struct sem_report_rec *r, void *arg)
{
	struct incs *a = arg;
	struct inc *i = NULL;
	size_t k;

	for (k = 0; k < a->n; k++)
		if (a->v[k].id == r->r.incident_id)
			i = &a->v[k];
	if (!i) {
		if (a->n == a->cap) {
			size_t cap = a->cap ? a->cap * 2 : 32;
			struct inc *p = realloc(a->v, cap * sizeof(*p));

			if (!p)
				return -ENOMEM;
			a->v = p;
			a->cap = cap;
		}
		i = &a->v[a->n++];
		memset(i, 0, sizeof(*i));
		i->id = r->r.incident_id;
		i->origin = r->r.node_guid;
		i->opened = (int64_t)r->r.event_time_ms;
	}
	if (r->r.kind == IAS_REPORT_BLOCK) {
		if (!i->blocks)
			i->root_pid = r->r.pid;
		i->blocks++;
	} else if (r->r.kind == IAS_REPORT_RELEASE) {
		i->releases++;
		i->closed = (int64_t)r->r.event_time_ms;
	}
	return 0;
}

static void put_incident(struct ctlsrv_req *x, const struct inc *i)
{
	char id[40], node[80];
	int released = i->blocks && i->releases >= i->blocks;

	sem_incident_str(i->id, id, sizeof(id));
	node_name(sem_of(x), i->origin, node, sizeof(node));
	ias_ctl_put_str(x->rep, IAS_CTL_A_INCIDENT_ID, id);
	ias_ctl_put_str(x->rep, IAS_CTL_A_ORIGIN, "fabric");
	ias_ctl_put_str(x->rep, IAS_CTL_A_NODE, node);
	ias_ctl_put_u64(x->rep, IAS_CTL_A_OPENED_MS, (uint64_t)i->opened);
	ias_ctl_put_u32(x->rep, IAS_CTL_A_ROOT_PID, i->root_pid);
	ias_ctl_put_str(x->rep, IAS_CTL_A_STATE, released ? "released" : "open");
	ias_ctl_put_u64(x->rep, IAS_CTL_A_CLOSED_MS, released ? (uint64_t)i->closed : 0);
}

static int op_incidents_list(struct ctlsrv_req *x)
{
	struct incs a = { 0 };
	size_t k;
	int r;

	r = semstore_reports_foreach(sem_of(x)->store, 0, inc_cb, &a);
	if (r) {
		free(a.v);
		return ctlsrv_fail(x, IAS_CTL_E_INTERNAL, "store: %s", semstore_errmsg(sem_of(x)->store));
	}
	for (k = 0; k < a.n; k++) {
		ias_ctl_nest_begin(x->rep, IAS_CTL_A_INCIDENT);
		put_incident(x, &a.v[k]);
		ias_ctl_nest_end(x->rep);
	}
	free(a.v);
	return 0;
}

static const char *kind_name(uint8_t k)
{
	switch (k) {
	case IAS_REPORT_BLOCK: return "block";
	case IAS_REPORT_RELEASE: return "release";
	case IAS_REPORT_UNREACHABLE: return "unreachable";
	case IAS_REPORT_HOP: return "hop";
	default: return "?";
	}
}

static int event_cb(const struct sem_report_rec *r, void *arg)
{
	struct ctlsrv_req *x = arg;
	char node[80], text[160], peer[80] = "?";
	struct sem_node *pn;

	node_name(sem_of(x), r->r.node_guid, node, sizeof(node));
	if (r->r.kind == IAS_REPORT_HOP || r->r.kind == IAS_REPORT_UNREACHABLE) {
		pn = sem_view_by_lid(&sem_of(x)->view, r->r.peer_lid);
		snprintf(peer, sizeof(peer), "%s", pn ? pn->rec.name : "?");
		snprintf(text, sizeof(text), "%s %s (LID %u) qp 0x%x",
			 r->r.kind == IAS_REPORT_HOP ? "traced to" : "no answer from", peer,
			 r->r.peer_lid, r->r.peer_qpn);
	} else {
		snprintf(text, sizeof(text), "%s, %u QP(s), block %" PRIu64, r->r.comm,
			 r->r.qp_count, r->r.block_id);
	}
	ias_ctl_nest_begin(x->rep, IAS_CTL_A_EVENT);
	ias_ctl_put_u64(x->rep, IAS_CTL_A_TS_MS, r->r.event_time_ms);
	ias_ctl_put_str(x->rep, IAS_CTL_A_NODE, node);
	ias_ctl_put_u32(x->rep, IAS_CTL_A_PID, r->r.pid);
	if (r->r.peer_qpn)
		ias_ctl_put_u32(x->rep, IAS_CTL_A_QPN, r->r.peer_qpn);
	ias_ctl_put_str(x->rep, IAS_CTL_A_KIND, kind_name(r->r.kind));
	ias_ctl_put_str(x->rep, IAS_CTL_A_TEXT, text);
	if ((r->r.kind == IAS_REPORT_HOP || r->r.kind == IAS_REPORT_UNREACHABLE) &&
	    strcmp(peer, "?") != 0)
		ias_ctl_put_str(x->rep, IAS_CTL_A_PEER_NODE, peer);
	ias_ctl_nest_end(x->rep);
	return x->rep->err ? 1 : 0;
}

static int op_incident_show(struct ctlsrv_req *x)
{
	char id[IAS_CTL_INCIDENT_ID_MAX + 1] = "";
	struct incs a = { 0 };
	struct ias_ctl_attr at;
	uint64_t inc;
	int r;

	while (ias_ctl_next(&x->attrs, &at) > 0)
		if (at.type == IAS_CTL_A_INCIDENT_ID && ias_ctl_get_str(&at, id, sizeof(id)))
			return ctlsrv_fail(x, IAS_CTL_E_INVAL, "bad incident id");
	if (sem_incident_parse(id, &inc) || !inc)
		return ctlsrv_fail(x, IAS_CTL_E_INVAL, "incident ids look like I-0a1b2c-17");
	r = semstore_reports_foreach(sem_of(x)->store, inc, inc_cb, &a);
	if (r || !a.n) {
		free(a.v);
		if (r)
			return ctlsrv_fail(x, IAS_CTL_E_INTERNAL, "store: %s", semstore_errmsg(sem_of(x)->store));
		return ctlsrv_fail(x, IAS_CTL_E_NOENT, "no report of incident %s", id);
	}
	ias_ctl_nest_begin(x->rep, IAS_CTL_A_INCIDENT);
	put_incident(x, &a.v[0]);
	free(a.v);
	r = semstore_reports_foreach(sem_of(x)->store, inc, event_cb, x);
	if (r < 0)
		return ctlsrv_fail(x, IAS_CTL_E_INTERNAL, "store: %s", semstore_errmsg(sem_of(x)->store));
	ias_ctl_nest_end(x->rep);
	return 0;
}

/* ---- policy -------------------------------------------------------------- */

static int op_policy_show(struct ctlsrv_req *x)
{
	put_policy(x->rep, &sem_of(x)->view.policy);
	return 0;
}

/* Set fields of p from the request's POLICY nest: 0, or a control error. */
static int policy_fields(struct ctlsrv_req *x, struct ias_policy *p)
{
	struct ias_ctl_attr a, in;
	char name[IAS_CTL_NAME_MAX + 1];
	struct ias_rd r;
	uint32_t v;
	uint8_t b;
	int idx;

	while (ias_ctl_next(&x->attrs, &a) > 0) {
		if (a.type != IAS_CTL_A_POLICY)
			continue;
		ias_ctl_attr_nested(&a, &r);
		while (ias_ctl_next(&r, &in) > 0) {
			switch (in.type) {
			case IAS_CTL_A_LEVEL:
			case IAS_CTL_A_BLOCK_MODE:
				if (ias_ctl_get_str(&in, name, sizeof(name)))
					return ctlsrv_fail(x, IAS_CTL_E_INVAL, "bad name");
				idx = in.type == IAS_CTL_A_LEVEL ? ias_level_parse(name) : ias_mode_parse(name);
				if (idx < 0)
					return ctlsrv_fail(x, IAS_CTL_E_INVAL, "%s: unknown value %s",
						    ias_ctl_attr_name(in.type), name);
				if (in.type == IAS_CTL_A_LEVEL)
					p->level = (unsigned)idx;
				else
					p->block_mode = (unsigned)idx;
				break;
			case IAS_CTL_A_DRY_RUN:
				ias_ctl_get_u8(&in, &b);
				p->dry_run = b != 0;
				break;
			case IAS_CTL_A_POLICY_VERSION:
				break;	/* the manager numbers its policies */
			default:
				ias_ctl_get_u32(&in, &v);
				if (in.type == IAS_CTL_A_BASE_DURATION_S)
					p->base_duration_ms = (uint64_t)v * 1000;
				else if (in.type == IAS_CTL_A_MAX_DURATION_S)
					p->max_duration_ms = (uint64_t)v * 1000;
				else if (in.type == IAS_CTL_A_ESCALATION)
					p->escalation = v;
				else if (in.type == IAS_CTL_A_HOP_LIMIT)
					p->hop_limit = v;
				else if (in.type == IAS_CTL_A_FANOUT_LIMIT)
					p->fanout_limit = v;
				break;
			}
		}
	}
	return 0;
}

static int op_policy_set(struct ctlsrv_req *x)
{
	struct sem *s = sem_of(x);
	struct ias_attr_policy a;
	struct sem_policy_rec rec;
	struct ias_policy p;
	int r;

	ias_policy_from_attr(&s->view.policy, &p);
	r = policy_fields(x, &p);
	if (r)
		return r;
	if (ias_policy_check(&p, x->msg, sizeof(x->msg)))
		return IAS_CTL_E_INVAL;
	ias_policy_to_attr(&p, &a);	/* base 0 cannot go on the wire: refused here */
	if (ias_policy_check_attr(&a, x->msg, sizeof(x->msg)))
		return IAS_CTL_E_INVAL;
	a.policy_version = s->view.policy.policy_version + 1;
	memset(&rec, 0, sizeof(rec));
	rec.p = a;
	rec.updated_ms = sem_now_ms();
	if (semstore_policy_put(s->store, &rec))
		return ctlsrv_fail(x, IAS_CTL_E_INTERNAL, "store: %s", semstore_errmsg(s->store));
	sem_view_set_policy(&s->view, &a);
	log_notice("fabric policy version %u set by uid %u (PID %d)%s", a.policy_version,
		   (unsigned)x->cl->cred.uid, (int)x->cl->cred.pid,
		   s->view.active ? "" : "; standby: not pushed until our SM is the master");
	put_policy(x->rep, &a);
	return 0;
}

static const struct ctlsrv_handler handlers[] = {
	{ IAS_CTL_OP_STATUS, op_status },
	{ IAS_CTL_OP_FABRIC_STATUS, op_fabric_status },
	{ IAS_CTL_OP_INCIDENTS_LIST, op_incidents_list },
	{ IAS_CTL_OP_INCIDENT_SHOW, op_incident_show },
	{ IAS_CTL_OP_POLICY_SHOW, op_policy_show },
	{ IAS_CTL_OP_POLICY_SET, op_policy_set },
};

/* ---- transport: ctl/server.c --------------------------------------------- */

int sem_ctl_start(struct sem *s, const char *path, int listen_fd, struct sem_ctl **out)
{
	struct ctlsrv_conf conf = {
		.ev = s->ev,
		.ctx = s,
		.handlers = handlers,
		.nhandlers = sizeof(handlers) / sizeof(handlers[0]),
		.control_gid = s->control_gid,
		.max_clients = s->cfg.max_clients,
		.max_clients_per_user = s->cfg.max_clients_per_user,
		.reserved_clients = s->cfg.reserved_clients,
		.log_group = s->cfg.control_group,
		.perm_msg = "this request needs root or membership of the manager's control group",
		.unknown_op_msg = "op not served by the manager (ask the node's agent)",
		.reply_toobig_msg = "the reply does not fit in one message",
	};
	struct sem_ctl *c = calloc(1, sizeof(*c));
	int r;

	if (!c)
		return -ENOMEM;
	r = ctlsrv_start(&conf, path, listen_fd, &c->srv);
	if (r) {
		free(c);
		return r;
	}
	*out = c;
	return 0;
}

void sem_ctl_stop(struct sem_ctl *c)
{
	if (!c)
		return;
	ctlsrv_stop(c->srv);
	free(c);
}
