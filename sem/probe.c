/* The manager's requests to agents, one at a time per agent as the view
 * decides (sem/view.h): probes (ClassPortInfo), status, policy reads and
 * pushes (Set(Policy)), and report fetches; and the matching of their
 * answers. The agent list (agentlist.c) is driven from here too. Every answer is verified by mad_defs before it is looked at. */
#include <errno.h>
#include <string.h>

#include "common/log.h"
#include "mad_defs/secmgt.h"
#include "sem/madint.h"

/* Fill msg for act; 0 or -EINVAL. */
static int build(struct sem_mad *m, enum sem_action act, uint32_t mod, struct ias_secmgt_msg *msg)
{
	memset(msg, 0, sizeof(*msg));
	msg->method = IAS_METHOD_GET;
	msg->attr_mod = mod;
	switch (act) {
	case SEM_ACT_PROBE: msg->attr_id = IAS_ATTR_CLASS_PORT_INFO; break;
	case SEM_ACT_STATUS: msg->attr_id = IAS_ATTR_STATUS; break;
	case SEM_ACT_POLICY: msg->attr_id = IAS_ATTR_POLICY; break;
	case SEM_ACT_PUSH:
		msg->method = IAS_METHOD_SET;
		msg->attr_id = IAS_ATTR_POLICY;
		msg->u.policy = m->s->view.policy;
		break;
	case SEM_ACT_LATEST:
	case SEM_ACT_FETCH: msg->attr_id = IAS_ATTR_REPORT; break;
	default: return -EINVAL;
	}
	return 0;
}

static int send_request(struct sem_mad *m, struct sem_node *n, enum sem_action act, uint32_t mod)
{
	struct ias_secmgt_msg msg;
	uint8_t mad[IAS_MAD_SIZE];
	struct ias_pend_ent *e;
	int r = build(m, act, mod, &msg);

	if (r)
		return r;
	e = ias_umad_track(m->u, SEM_PEND_AGENT, n->rec.guid, m->s->cfg.mad_timeout);
	if (!e)
		return -EBUSY;
	msg.tid = e->tid;
	r = ias_secmgt_encode(&msg, &m->auth.kr, (uint64_t)sem_now_ms(), mad);
	if (!r)
		r = ias_umad_send(m->u, 0, n->rec.lid, NULL, mad, (unsigned)m->s->cfg.mad_timeout);
	if (r) {
		ias_umad_untrack(m->u, e);
		return r;
	}
	e->nonce = msg.nonce;
	e->data = (void *)(uintptr_t)msg.attr_id;
	if (act == SEM_ACT_PUSH)
		log_info("pushing policy version %u to %s (LID %u)", msg.u.policy.policy_version,
			 n->rec.name, n->rec.lid);
	return 0;
}

/* Give every node with nothing in flight its next request. */
void sem_probe_drive(struct sem_mad *m)
{
	struct sem *s = m->s;
	int64_t now = sem_now_ms();
	size_t i;

	if (!ias_umad_attached(m->u))
		return;
	sem_view_expire(&s->view, now);
	for (i = 0; i < s->view.n; i++) {
		struct sem_node *n = &s->view.nodes[i];
		enum sem_action act;
		uint32_t mod;

		if (!n->busy)
			ias_umad_untrack_key(m->u, SEM_PEND_AGENT, n->rec.guid);
		act = sem_view_next(&s->view, n, now, &mod);
		if (act == SEM_ACT_NONE)
			continue;
		if (send_request(m, n, act, mod)) {
			log_debug("could not send to %s", n->rec.name);
			continue;
		}
		sem_view_sent(n, act, mod, now + (int64_t)s->cfg.mad_timeout);
	}
	sem_agentlist_drive(m);
}

/* The protocol names an agent by its node GUID. An agent that names
 * itself by the GUID of the port it speaks from (the node's only port on
 * the LID it answers from) is the same node: use the node GUID the SA gave
 * for it, so that its answers and reports are recognised and stored under
 * one identity. */
uint64_t sem_node_identity(const struct sem_node *n, uint64_t named)
{
	if (n && named && named != n->rec.guid && named == n->rec.port_guid)
		return n->rec.guid;
	return named;
}

void sem_probe_response(struct sem_mad *m, const struct ias_umad_rx *rx)
{
	struct sem *s = m->s;
	struct ias_secmgt_msg msg;
	enum ias_mad_reason why;
	struct ias_pend_ent *e;
	struct sem_node *n;
	uint64_t tid, guid;
	uint16_t attr_id;
	int r;

	/* Only answers we wait for are verified (and enter the replay guard). */
	if (ias_secmgt_peek_tid_unauth(rx->mad, rx->len, &tid) ||
	    !(e = ias_umad_find(m->u, ias_mad_tid32(tid))))
		return;		/* not ours, or already timed out */
	if (e->kind == SEM_PEND_LIST) {
		sem_agentlist_response(m, rx, e);
		return;
	}
	if (e->kind != SEM_PEND_AGENT)
		return;
	why = ias_secmgt_decode(rx->mad, rx->len, &m->auth.kr, m->auth.rp, (uint64_t)sem_now_ms(), &msg);
	if (why != IAS_MAD_OK) {
		ias_umad_refused(m->u, ias_mad_reason_str(why), rx->lid);
		return;		/* unanswered: the request times out */
	}
	attr_id = (uint16_t)(uintptr_t)e->data;
	if (msg.method != IAS_METHOD_GET_RESP || msg.echo_nonce != e->nonce || msg.attr_id != attr_id) {
		ias_umad_refused(m->u, ias_mad_reason_str(IAS_MAD_BAD_ATTR_FOR_METHOD), rx->lid);
		return;
	}
	guid = e->key;
	ias_umad_untrack(m->u, e);
	n = sem_view_by_guid(&s->view, guid);
	if (!n || !n->busy)
		return;
	switch (msg.attr_id) {
	case IAS_ATTR_CLASS_PORT_INFO:
		msg.u.cpi.node_guid = sem_node_identity(n, msg.u.cpi.node_guid);
		break;
	case IAS_ATTR_STATUS:
		msg.u.status.node_guid = sem_node_identity(n, msg.u.status.node_guid);
		break;
	case IAS_ATTR_REPORT:
		msg.u.report.node_guid = sem_node_identity(n, msg.u.report.node_guid);
		break;
	default:
		break;
	}
	r = sem_view_result(&s->view, n, msg.status, &msg.u, sem_now_ms());
	if (r)
		log_warn("%s: %s", n->rec.name, r == -EPROTO ? "answered for another node"
							    : semstore_errmsg(s->store));
}
