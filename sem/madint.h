/* Internal to the manager's MAD modules (sem/madio.c: the port and the
 * timers; sem/discover.c: SA discovery; sem/probe.c: requests to agents,
 * policy pushes included; sem/intake.c: Reports from agents; sem/role.c:
 * active or standby). Not for the rest of sem. */
#ifndef IAS_SEM_MADINT_H
#define IAS_SEM_MADINT_H

#include <stddef.h>
#include <stdint.h>

#include "common/umad.h"
#include "mad_defs/secmgt_auth.h"
#include "sem/sem.h"

/* What a tracked request is (struct ias_pend_ent kind). */
enum sem_pend_kind {
	SEM_PEND_AGENT = 1,	/* SecMgt Get/Set to an agent; key: its node GUID */
	SEM_PEND_SA,		/* an SA NodeRecord query; key: the LID asked (0: table) */
	SEM_PEND_LIST,		/* Set(AgentList) segment to an agent; key: its node GUID */
};

#define SEM_SCAN_WINDOW 8	/* SA queries in flight during a per-LID scan */

enum sem_disc_state { SEM_DISC_IDLE, SEM_DISC_TABLE, SEM_DISC_SCAN };

struct sem_mad {
	struct sem *s;
	struct ias_umad *u;
	struct ias_secmgt_auth auth;
	sd_event_source *tick, *disc_timer;
	/* discovery */
	enum sem_disc_state disc;
	uint32_t scan_next, scan_high;
	struct sem_node_rec *found;
	size_t nfound, capfound;
	struct sem_agentlist *al;	/* agentlist.c */
};

/* probe.c */
void sem_probe_drive(struct sem_mad *m);
void sem_probe_response(struct sem_mad *m, const struct ias_umad_rx *rx);
/* The node's identity for a GUID an agent named (see probe.c). */
uint64_t sem_node_identity(const struct sem_node *n, uint64_t named);

/* agentlist.c: the agent list pushed to every agent (while active). */
void sem_agentlist_drive(struct sem_mad *m);
void sem_agentlist_response(struct sem_mad *m, const struct ias_umad_rx *rx, struct ias_pend_ent *e);
void sem_agentlist_free(struct sem_mad *m);

/* discover.c */
void sem_discover_response(struct sem_mad *m, const struct ias_umad_rx *rx);
void sem_discover_expired(struct sem_mad *m, struct ias_pend_ent *e);

/* intake.c */
void sem_intake_request(struct sem_mad *m, const struct ias_umad_rx *rx);

/* role.c: the master SM's port GUID among the discovered nodes. */
void sem_role_from_discovery(struct sem *s, const struct sem_node_rec *recs, size_t n);

#endif
