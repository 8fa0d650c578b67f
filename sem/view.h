/* The manager's view of the fabric and what it does next with each agent.
 *
 * Pure logic over the store, no I/O: the daemon's MAD layer asks
 * sem_view_next() what to send to a node, reports the outcome with
 * sem_view_result(), hands in discovery rounds and received reports. This
 * keeps the per-agent state machine testable with fakes.
 *
 * Per agent, one request at a time, in this order of priority:
 *   probe   Get(ClassPortInfo): is there an agent (role agent)? due each
 *           discovery round; an agent that misses max_misses probes in a
 *           row is unreachable until it answers again;
 *   status  Get(Status): its active blocks;
 *   policy  Get(Policy): its policy;
 *   push    Set(Policy) when its policy (any field, version included) is
 *           not the fabric's, only
 *           while this manager is active (its SM is the master); a refused
 *           push is retried after a back-off;
 *   latest  Get(Report), attr_mod 0: its highest report seq (after a
 *           restart, or when the agent is first seen in this run);
 *   fetch   Get(Report), attr_mod = seq, for every seq in 1..highest that
 *           the store lacks (a gap seen in received reports, or the view
 *           rebuilt after a restart). */
#ifndef IAS_SEM_VIEW_H
#define IAS_SEM_VIEW_H

#include <stddef.h>
#include <stdint.h>

#include "mad_defs/secmgt.h"
#include "sem/semstore.h"

enum sem_action {
	SEM_ACT_NONE = 0,
	SEM_ACT_PROBE,		/* Get(ClassPortInfo) */
	SEM_ACT_STATUS,		/* Get(Status) */
	SEM_ACT_POLICY,		/* Get(Policy) */
	SEM_ACT_PUSH,		/* Set(Policy) */
	SEM_ACT_LATEST,		/* Get(Report) attr_mod 0 */
	SEM_ACT_FETCH,		/* Get(Report) attr_mod seq */
};

#define SEM_FETCH_BATCH 16
#define SEM_TIMEOUT (-1)	/* sem_view_result status: no answer */

struct sem_node {
	struct sem_node_rec rec;
	int present;		/* in the latest discovery round */
	int reachable;		/* the agent answered its latest request */
	unsigned misses;	/* requests in a row without an answer */
	int probe_due, status_due, policy_due, need_latest;
	int policy_known;
	int announced;		/* this manager's Set(Policy) reached the agent
				 * since it was (re)found or we became active:
				 * the agent knows our LID for its reports */
	struct ias_attr_policy agent_policy;	/* when policy_known */
	uint32_t active_blocks;
	uint16_t push_status;	/* MAD status of the last refused push, 0 none */
	int64_t push_retry_ms;	/* no push before this */
	uint64_t agent_latest;	/* highest seq the agent is known to have */
	uint64_t synced_upto;	/* no hole in 1..synced_upto */
	uint64_t fetch[SEM_FETCH_BATCH];
	size_t nfetch, ifetch;
	/* the request in flight */
	enum sem_action busy;
	uint32_t busy_mod;
	int64_t deadline_ms;
};

struct sem_view_stats {
	uint64_t reports_new, reports_dup, fetched, lost, pushes, push_refused;
};

struct sem_view {
	struct semstore *st;
	struct sem_node *nodes;
	size_t n, cap;
	struct ias_attr_policy policy;	/* the fabric policy */
	int active;			/* 1: our SM is the master: push policy */
	unsigned max_misses;		/* probes in a row before unreachable */
	int64_t push_backoff_ms;
	struct sem_view_stats stats;
};

/* Load the nodes remembered in the store: not present, not reachable, and
 * every agent marked for a rebuild (latest + fetch). 0 / -errno. */
int sem_view_init(struct sem_view *v, struct semstore *st, const struct ias_attr_policy *p);
void sem_view_free(struct sem_view *v);

struct sem_node *sem_view_by_guid(struct sem_view *v, uint64_t guid);
struct sem_node *sem_view_by_lid(struct sem_view *v, uint16_t lid);

/* One complete discovery round (every node the SA knows). Nodes not in it
 * are no longer present (nor reachable); channel adapters get a probe.
 * Persists the nodes. 0 / -errno. */
int sem_view_discovered(struct sem_view *v, const struct sem_node_rec *recs, size_t n,
			int64_t now_ms);

/* What to send to node now (SEM_ACT_NONE if nothing or one is in flight);
 * *attr_mod is the attribute modifier to send. */
enum sem_action sem_view_next(struct sem_view *v, struct sem_node *node, int64_t now_ms,
			      uint32_t *attr_mod);
/* The request chosen by sem_view_next() went out. */
void sem_view_sent(struct sem_node *node, enum sem_action act, uint32_t attr_mod,
		   int64_t deadline_ms);
/* Its outcome: status is the MAD status (a) holds the decoded attribute when
 * 0) or SEM_TIMEOUT. Returns 0 / -errno (store). */
int sem_view_result(struct sem_view *v, struct sem_node *node, int status,
		    const union ias_secmgt_attr *a, int64_t now_ms);
/* Every request past its deadline gets SEM_TIMEOUT. */
void sem_view_expire(struct sem_view *v, int64_t now_ms);

/* A Report received from an agent: stored exactly once. 1 new, 0 duplicate,
 * -errno (then it must not be acknowledged). */
int sem_view_report(struct sem_view *v, const struct ias_attr_report *r, int64_t now_ms);

/* A new fabric policy (its version must be higher than the current one):
 * every agent gets it while active. */
void sem_view_set_policy(struct sem_view *v, const struct ias_attr_policy *p);
/* Become active (push policy) or standby. Becoming active makes every
 * agent due for one Set(Policy), so that it sends its reports here. */
void sem_view_set_active(struct sem_view *v, int active);

/* Does the node hold the fabric policy? */
int sem_view_policy_current(const struct sem_view *v, const struct sem_node *n);

/* Incident ids on the wire are u64; shown as "I-<6 hex>-<seq>" (the
 * agent's node tag in bits 40..63, its sequence in bits 0..39). */
void sem_incident_str(uint64_t id, char *out, size_t len);
/* Accepts that form, or a decimal or 0x-hex number. 0 / -EINVAL. */
int sem_incident_parse(const char *s, uint64_t *id);

#endif
