/* See view.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mad_defs/incident.h"
#include "sem/view.h"

static struct sem_node *add_node(struct sem_view *v, const struct sem_node_rec *rec)
{
	struct sem_node *n;

	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 16;
		struct sem_node *p = realloc(v->nodes, cap * sizeof(*p));

		if (!p)
			return NULL;
		v->nodes = p;
		v->cap = cap;
	}
	n = &v->nodes[v->n++];
	memset(n, 0, sizeof(*n));
	n->rec = *rec;
	return n;
}

static int load_cb(const struct sem_node_rec *rec, void *arg)
{
	struct sem_view *v = arg;
	struct sem_node *n = add_node(v, rec);

	if (!n)
		return -ENOMEM;
	/* After a restart the view is rebuilt from every agent. */
	n->need_latest = rec->agent;
	return 0;
}

int sem_view_init(struct sem_view *v, struct semstore *st, const struct ias_attr_policy *p)
{
	int r;

	memset(v, 0, sizeof(*v));
	v->st = st;
	v->policy = *p;
	v->max_misses = 3;
	v->push_backoff_ms = 30000;
	r = semstore_nodes_foreach(st, load_cb, v);
	if (r) {
		sem_view_free(v);
		return r < 0 ? r : -EIO;
	}
	return 0;
}

void sem_view_free(struct sem_view *v)
{
	free(v->nodes);
	v->nodes = NULL;
	v->n = v->cap = 0;
}

struct sem_node *sem_view_by_guid(struct sem_view *v, uint64_t guid)
{
	size_t i;

	for (i = 0; i < v->n; i++)
		if (v->nodes[i].rec.guid == guid)
			return &v->nodes[i];
	return NULL;
}

struct sem_node *sem_view_by_lid(struct sem_view *v, uint16_t lid)
{
	size_t i;

	for (i = 0; i < v->n; i++)
		if (v->nodes[i].present && v->nodes[i].rec.lid == lid)
			return &v->nodes[i];
	return NULL;
}

int sem_view_discovered(struct sem_view *v, const struct sem_node_rec *recs, size_t n,
			int64_t now_ms)
{
	size_t i, j;
	int r;

	for (i = 0; i < v->n; i++)
		v->nodes[i].present = 0;
	for (i = 0; i < n; i++) {
		struct sem_node *node;

		/* One record per node: a node with several ports keeps its
		 * first LID. */
		for (j = 0; j < i; j++)
			if (recs[j].guid == recs[i].guid)
				break;
		if (j < i)
			continue;
		node = sem_view_by_guid(v, recs[i].guid);
		if (!node) {
			node = add_node(v, &recs[i]);
			if (!node)
				return -ENOMEM;
			node->rec.first_seen_ms = now_ms;
			node->rec.agent = 0;
		}
		node->rec.lid = recs[i].lid;
		node->rec.port_guid = recs[i].port_guid;
		node->rec.node_type = recs[i].node_type;
		memcpy(node->rec.name, recs[i].name, sizeof(node->rec.name));
		node->rec.last_seen_ms = now_ms;
		node->present = 1;
		if (node->rec.node_type == 1)
			node->probe_due = 1;
		if ((r = semstore_node_put(v->st, &node->rec)) != 0)
			return r;
	}
	for (i = 0; i < v->n; i++)
		if (!v->nodes[i].present) {
			v->nodes[i].reachable = 0;
			v->nodes[i].probe_due = 0;
		}
	return 0;
}

/* Refill the list of seqs to fetch; 0 when there is no hole. */
static size_t refill(struct sem_view *v, struct sem_node *n)
{
	int k;

	n->nfetch = n->ifetch = 0;
	if (n->agent_latest <= n->synced_upto)
		return 0;
	k = semstore_report_missing(v->st, n->rec.guid, n->agent_latest, n->fetch,
				    SEM_FETCH_BATCH);
	if (k <= 0) {
		if (k == 0)
			n->synced_upto = n->agent_latest;
		return 0;
	}
	n->nfetch = (size_t)k;
	return n->nfetch;
}

enum sem_action sem_view_next(struct sem_view *v, struct sem_node *n, int64_t now_ms,
			      uint32_t *attr_mod)
{
	*attr_mod = 0;
	if (n->busy || !n->present || n->rec.node_type != 1)
		return SEM_ACT_NONE;
	if (n->probe_due)
		return SEM_ACT_PROBE;
	if (!n->rec.agent || !n->reachable)
		return SEM_ACT_NONE;
	if (n->status_due)
		return SEM_ACT_STATUS;
	if (n->policy_due)
		return SEM_ACT_POLICY;
	if (v->active && n->policy_known && !sem_view_policy_current(v, n) &&
	    now_ms >= n->push_retry_ms)
		return SEM_ACT_PUSH;
	if (n->need_latest)
		return SEM_ACT_LATEST;
	while (n->ifetch < n->nfetch || refill(v, n)) {
		uint64_t seq = n->fetch[n->ifetch];

		if (seq > UINT32_MAX) {	/* cannot be named by attr_mod */
			n->ifetch = n->nfetch = 0;
			n->synced_upto = n->agent_latest;
			break;
		}
		*attr_mod = (uint32_t)seq;
		return SEM_ACT_FETCH;
	}
	/* Agents send reports to the source of the latest Set(Policy): push
	 * once even when the agent's policy is current, so that it learns
	 * this (active) manager's LID. */
	if (v->active && n->policy_known && !n->announced && now_ms >= n->push_retry_ms)
		return SEM_ACT_PUSH;
	return SEM_ACT_NONE;
}

void sem_view_sent(struct sem_node *n, enum sem_action act, uint32_t attr_mod, int64_t deadline_ms)
{
	n->busy = act;
	n->busy_mod = attr_mod;
	n->deadline_ms = deadline_ms;
}

static int store_fetched(struct sem_view *v, struct sem_node *n, const struct ias_attr_report *r,
			 int64_t now_ms)
{
	int k;

	if (r->node_guid != n->rec.guid)
		return -EPROTO;	/* an agent answers only for itself */
	k = semstore_report_add(v->st, r, now_ms, SEM_VIA_FETCH);
	if (k < 0)
		return k;
	if (k)
		v->stats.fetched++;
	if (r->seq > n->agent_latest)
		n->agent_latest = r->seq;
	return 0;
}

int sem_view_result(struct sem_view *v, struct sem_node *n, int status,
		    const union ias_secmgt_attr *a, int64_t now_ms)
{
	enum sem_action act = n->busy;
	uint32_t mod = n->busy_mod;
	int r = 0;

	n->busy = SEM_ACT_NONE;
	if (status == SEM_TIMEOUT) {
		/* A CA that never answered has no agent: one try per round. */
		if (++n->misses >= (n->rec.agent ? v->max_misses : 1)) {
			n->reachable = 0;
			n->probe_due = 0;
		} else if (act == SEM_ACT_PUSH) {
			n->push_retry_ms = now_ms;
		}
		return 0;
	}
	n->misses = 0;
	switch (act) {
	case SEM_ACT_PROBE:
		n->probe_due = 0;
		if (status == IAS_STATUS_OK && a->cpi.role == IAS_ROLE_AGENT &&
		    a->cpi.node_guid == n->rec.guid) {
			if (!n->rec.agent || !n->reachable) {
				n->need_latest = 1;
				n->announced = 0;
			}
			if (!n->rec.agent) {
				n->rec.agent = 1;
				r = semstore_node_put(v->st, &n->rec);
			}
			n->reachable = 1;
			n->status_due = 1;
		} else {
			n->reachable = 0;
		}
		break;
	case SEM_ACT_STATUS:
		n->status_due = 0;
		n->policy_due = 1;
		if (status == IAS_STATUS_OK)
			n->active_blocks = a->status.active_blocks;
		break;
	case SEM_ACT_POLICY:
		n->policy_due = 0;
		if (status == IAS_STATUS_OK) {
			n->policy_known = 1;
			n->agent_policy = a->policy;
		}
		break;
	case SEM_ACT_PUSH:
		if (status == IAS_STATUS_OK) {
			n->agent_policy = a->policy;
			n->push_status = 0;
			n->announced = 1;
			v->stats.pushes++;
		} else {
			n->push_status = (uint16_t)status;
			n->push_retry_ms = now_ms + v->push_backoff_ms;
			v->stats.push_refused++;
		}
		break;
	case SEM_ACT_LATEST:
		n->need_latest = 0;
		if (status == IAS_STATUS_OK)
			r = store_fetched(v, n, &a->report, now_ms);
		/* NOT_FOUND: the agent has no report yet. */
		break;
	case SEM_ACT_FETCH:
		if (n->ifetch < n->nfetch && n->fetch[n->ifetch] == mod)
			n->ifetch++;
		if (status == IAS_STATUS_OK && a->report.seq == mod) {
			r = store_fetched(v, n, &a->report, now_ms);
		} else if (status == IAS_STATUS_NOT_FOUND) {
			r = semstore_report_lost(v->st, n->rec.guid, mod, now_ms);
			if (r > 0)
				v->stats.lost++;
			r = r < 0 ? r : 0;
		}
		break;
	default:
		break;
	}
	return r;
}

void sem_view_expire(struct sem_view *v, int64_t now_ms)
{
	size_t i;

	for (i = 0; i < v->n; i++)
		if (v->nodes[i].busy && now_ms >= v->nodes[i].deadline_ms)
			sem_view_result(v, &v->nodes[i], SEM_TIMEOUT, NULL, now_ms);
}

int sem_view_report(struct sem_view *v, const struct ias_attr_report *r, int64_t now_ms)
{
	struct sem_node *n;
	int k;

	k = semstore_report_add(v->st, r, now_ms, SEM_VIA_REPORT);
	if (k < 0)
		return k;
	if (k)
		v->stats.reports_new++;
	else
		v->stats.reports_dup++;
	n = sem_view_by_guid(v, r->node_guid);
	if (n && r->seq > n->agent_latest)
		n->agent_latest = r->seq;	/* a gap below it is fetched */
	return k;
}

int sem_view_policy_current(const struct sem_view *v, const struct sem_node *n)
{
	const struct ias_attr_policy *a = &n->agent_policy, *b = &v->policy;

	return n->policy_known && a->policy_version == b->policy_version &&
	       a->search_level == b->search_level && a->block_mode == b->block_mode &&
	       a->flags == b->flags && a->hop_limit == b->hop_limit &&
	       a->fanout_limit == b->fanout_limit && a->escalation_x100 == b->escalation_x100 &&
	       a->base_duration_s == b->base_duration_s && a->max_duration_s == b->max_duration_s;
}

void sem_view_set_active(struct sem_view *v, int active)
{
	size_t i;

	if (active && !v->active)
		for (i = 0; i < v->n; i++)
			v->nodes[i].announced = 0;
	v->active = active;
}

void sem_view_set_policy(struct sem_view *v, const struct ias_attr_policy *p)
{
	size_t i;

	v->policy = *p;
	for (i = 0; i < v->n; i++)
		v->nodes[i].push_retry_ms = 0;
}

void sem_incident_str(uint64_t id, char *out, size_t len)
{
	if (ias_incident_format(id, out, len) < 0 && len)
		snprintf(out, len, "%" PRIu64, id);	/* no sequence number: the raw value */
}

int sem_incident_parse(const char *s, uint64_t *id)
{
	unsigned long long v;
	char *end;

	*id = 0;
	if (!s || !*s)
		return -EINVAL;
	if (s[0] == 'I' && s[1] == '-')
		return ias_incident_parse(s, id);
	if (s[0] == '-' || s[0] == '+' || s[0] == ' ')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end || end == s)
		return -EINVAL;
	*id = v;
	return 0;
}
