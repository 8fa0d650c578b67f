/* The agent list the active manager pushes to every agent (Set(AgentList),
 * docs/secmgt-protocol.md): the agents it knows (answered ClassPortInfo as
 * an agent, present in the latest discovery round), so that an agent can
 * ask the others for a QP's mirror (sema/mirror.h).
 *
 * The list is rebuilt from the view on every drive (a fingerprint of GUIDs
 * and LIDs, O(agents)); a change starts a new generation. An agent that
 * has not acknowledged every segment of the current generation gets the
 * whole list again after LIST_RETRY_MS; every agent gets it again every
 * LIST_REFRESH_MS (an agent keeps it in memory only). At most
 * LIST_MAX_INFLIGHT segments are in flight. This is the one place the list
 * is built and sent (issue 12 will sign it here). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "mad_defs/secmgt.h"
#include "sem/madint.h"

#define LIST_RETRY_MS     3000
#define LIST_REFRESH_MS   (10 * 60 * 1000)
#define LIST_MAX_INFLIGHT 64

struct al_agent {
	uint64_t guid;
	uint32_t acked_gen;	/* every segment of it acknowledged */
	unsigned acks;		/* segments of gen acknowledged */
	int64_t due_ms;		/* next (re)send of the whole list */
};

struct sem_agentlist {
	uint32_t generation;
	uint64_t fingerprint;
	struct ias_agent_entry *list;
	size_t n;
	struct al_agent *agents;	/* one per list entry, same order */
};

static int listed(const struct sem_node *n)
{
	return n->present && n->rec.agent && n->rec.lid && n->rec.lid < 0xc000;
}

static uint64_t fingerprint(const struct sem_view *v, size_t *count)
{
	uint64_t h = 1469598103934665603ull;
	size_t i;

	*count = 0;
	for (i = 0; i < v->n; i++) {
		if (!listed(&v->nodes[i]))
			continue;
		h = (h ^ v->nodes[i].rec.guid) * 1099511628211ull;
		h = (h ^ v->nodes[i].rec.lid) * 1099511628211ull;
		(*count)++;
	}
	return h ^ *count;
}

/* A new generation from the view, due to every agent at once. */
static int rebuild(struct sem_agentlist *al, const struct sem_view *v, size_t count,
		   uint64_t fp, int64_t now)
{
	struct ias_agent_entry *list = calloc(count ? count : 1, sizeof(*list));
	struct al_agent *agents = calloc(count ? count : 1, sizeof(*agents));
	size_t i, k = 0;

	if (!list || !agents) {
		free(list);
		free(agents);
		return -ENOMEM;
	}
	for (i = 0; i < v->n && k < count; i++) {
		const struct sem_node *n = &v->nodes[i];

		if (!listed(n))
			continue;
		list[k].node_guid = n->rec.guid;
		list[k].lid = n->rec.lid;
		agents[k].guid = n->rec.guid;
		agents[k].due_ms = now;	/* the new generation: due at once */
		k++;
	}
	free(al->list);
	free(al->agents);
	al->list = list;
	al->agents = agents;
	al->n = k;
	al->fingerprint = fp;
	/* Wall-clock seconds, so that a restarted manager's generation is
	 * new to the agents too; strictly increasing within a run. */
	al->generation = (uint32_t)(now / 1000) > al->generation ? (uint32_t)(now / 1000)
								   : al->generation + 1;
	if (!al->generation)
		al->generation = 1;
	log_info("agent list generation %u: %zu agent(s)", al->generation, k);
	return 0;
}

static int send_segment(struct sem_mad *m, struct sem_agentlist *al, const struct sem_node *to,
			uint16_t first)
{
	struct ias_secmgt_msg msg;
	uint8_t mad[IAS_MAD_SIZE];
	struct ias_pend_ent *e;
	size_t i;
	int r;

	memset(&msg, 0, sizeof(msg));
	msg.method = IAS_METHOD_SET;
	msg.attr_id = IAS_ATTR_AGENT_LIST;
	msg.u.alist.generation = al->generation;
	msg.u.alist.total = (uint16_t)al->n;
	msg.u.alist.first = first;
	for (i = first; i < al->n && msg.u.alist.count < IAS_AGENT_LIST_PER_MAD; i++)
		msg.u.alist.e[msg.u.alist.count++] = al->list[i];
	e = ias_umad_track(m->u, SEM_PEND_LIST, to->rec.guid, m->s->cfg.mad_timeout);
	if (!e)
		return -EBUSY;
	msg.tid = e->tid;
	r = ias_secmgt_encode(&msg, &m->auth.kr, (uint64_t)sem_now_ms(), mad);
	if (!r)
		r = ias_umad_send(m->u, 0, to->rec.lid, NULL, mad, (unsigned)m->s->cfg.mad_timeout);
	if (r) {
		ias_umad_untrack(m->u, e);
		return r;
	}
	e->nonce = msg.nonce;
	e->data = (void *)(uintptr_t)al->generation;
	return 0;
}

void sem_agentlist_drive(struct sem_mad *m)
{
	struct sem *s = m->s;
	struct sem_agentlist *al = m->al;
	int64_t now = sem_now_ms();
	size_t i, count, budget;
	uint64_t fp;
	uint16_t first;

	if (!s->view.active || !ias_umad_attached(m->u))
		return;
	if (!al && !(al = m->al = calloc(1, sizeof(*al))))
		return;
	fp = fingerprint(&s->view, &count);
	if ((fp != al->fingerprint || !al->generation) && count > IAS_AGENT_LIST_MAX)
		count = IAS_AGENT_LIST_MAX;
	if ((fp != al->fingerprint || !al->generation) && rebuild(al, &s->view, count, fp, now) < 0)
		return;
	budget = ias_umad_pending(m->u, SEM_PEND_LIST);
	budget = budget < LIST_MAX_INFLIGHT ? LIST_MAX_INFLIGHT - budget : 0;
	for (i = 0; i < al->n && budget; i++) {
		struct al_agent *a = &al->agents[i];
		struct sem_node *n = sem_view_by_guid(&s->view, a->guid);
		size_t segs = (al->n + IAS_AGENT_LIST_PER_MAD - 1) / IAS_AGENT_LIST_PER_MAD;

		if (!n || now < a->due_ms || segs > budget)
			continue;
		ias_umad_untrack_key(m->u, SEM_PEND_LIST, a->guid);
		a->acks = 0;
		a->due_ms = now + LIST_RETRY_MS;
		for (first = 0; first < al->n; first = (uint16_t)(first + IAS_AGENT_LIST_PER_MAD)) {
			if (send_segment(m, al, n, first) < 0) {
				log_debug("agent list to %s not sent", n->rec.name);
				break;
			}
			budget--;
		}
	}
}

void sem_agentlist_response(struct sem_mad *m, const struct ias_umad_rx *rx, struct ias_pend_ent *e)
{
	struct sem_agentlist *al = m->al;
	struct ias_secmgt_msg msg;
	enum ias_mad_reason why;
	uint32_t gen = (uint32_t)(uintptr_t)e->data;
	uint64_t guid = e->key;
	size_t i, segs;

	why = ias_secmgt_decode(rx->mad, rx->len, &m->auth.kr, m->auth.rp, (uint64_t)sem_now_ms(), &msg);
	if (why != IAS_MAD_OK) {
		ias_umad_refused(m->u, ias_mad_reason_str(why), rx->lid);
		return;
	}
	if (msg.method != IAS_METHOD_GET_RESP || msg.echo_nonce != e->nonce ||
	    msg.attr_id != IAS_ATTR_AGENT_LIST) {
		ias_umad_refused(m->u, ias_mad_reason_str(IAS_MAD_BAD_ATTR_FOR_METHOD), rx->lid);
		return;
	}
	ias_umad_untrack(m->u, e);
	if (!al || gen != al->generation)
		return;
	for (i = 0; i < al->n; i++) {
		struct al_agent *a = &al->agents[i];

		if (a->guid != guid)
			continue;
		if (msg.status) {
			log_info("agent 0x%016llx refused the agent list: MAD status 0x%04x",
				 (unsigned long long)guid, msg.status);
			return;	/* sent again after LIST_RETRY_MS */
		}
		segs = (al->n + IAS_AGENT_LIST_PER_MAD - 1) / IAS_AGENT_LIST_PER_MAD;
		if (++a->acks >= segs) {
			a->acked_gen = gen;
			a->due_ms = sem_now_ms() + LIST_REFRESH_MS;
			log_debug("agent 0x%016llx holds agent list generation %u",
				  (unsigned long long)guid, gen);
		}
		return;
	}
}

void sem_agentlist_free(struct sem_mad *m)
{
	if (!m->al)
		return;
	free(m->al->list);
	free(m->al->agents);
	free(m->al);
	m->al = NULL;
}
