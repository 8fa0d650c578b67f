/* Mirror-pair look-ups between agents: learning a QP's remote end with no
 * help from the kernel, and confirming what a registration claims.
 *
 * RC and UC QPs come in pairs: if this node's QP L has remote QPN R, the
 * agent whose node holds the mirror QP R (with remote QPN L) is the remote
 * end. An authenticated SecMgt Get asks other agents for it:
 *
 *  - mirror_confirm() asks one agent, the one a registration names, whether
 *    it holds the mirror. A yes marks the entry QPT_RSRC_PEER; only then is
 *    a registered remote end a trace target.
 *  - mirror_find() asks the agents this node knows (the manager's agent list
 *    and the `peers` setting), at most mirror_fanout of them, within
 *    mirror_timeout. Exactly one yes fills the entry's remote address and
 *    marks it QPT_RSRC_MIRROR; more than one is ambiguous and refused (no
 *    guess), none is a dead end.
 *
 * On a yes the QP table entry is updated before cb runs. cb is called
 * exactly once, from the reactor, unless the call itself fails (then it is
 * never called). A look-up for a QP that one is already waiting on joins it.
 * The entry may be gone by the time cb runs: look it up again. */
#ifndef IAS_SEMA_MIRROR_H
#define IAS_SEMA_MIRROR_H

#include <stdint.h>

#include "mad_defs/secmgt.h"
#include "sema/mad_port.h"
#include "sema/sema.h"

/* The result handed to cb. */
enum mirror_result {
	MIRROR_FOUND = 0,	/* a unique agent holds the mirror: *where filled */
	MIRROR_NONE,		/* every agent asked answered no */
	MIRROR_AMBIGUOUS,	/* more than one agent said yes: refused */
	MIRROR_NO_ANSWER,	/* no yes, and some agents did not answer in time */
	MIRROR_NO_AGENTS,	/* no agent to ask (no list from a manager, no peers) */
};

struct mirror_where {
	struct mad_dest agent;	/* the agent holding the mirror */
	uint64_t node_guid;	/* its node */
	uint32_t qpn;		/* the mirror QP there (= the asked remote QPN) */
};

typedef void (*mirror_cb)(struct sema *s, void *arg, enum mirror_result r,
			  const struct mirror_where *where);

/* 0, or a negative errno (-ENODEV: no MAD port; -ENOMEM). */
int mirror_confirm(struct sema *s, const struct mad_dest *agent, const char *device,
		   uint32_t lqpn, uint32_t rqpn, mirror_cb cb, void *arg);
int mirror_find(struct sema *s, const char *device, uint32_t lqpn, uint32_t rqpn,
		mirror_cb cb, void *arg);
/* A registration's claimed remote end (e: a registered entry with an
 * address and a remote QPN, not yet trusted) is confirmed in the background
 * by mirror_confirm() to the claimed agent; nothing if there is nothing to
 * confirm. The outcome is logged at debug. */
void mirror_claimed(struct sema *s, const struct qpt_entry *e);
/* Get(Mirror) from another agent (from: its address): does this node hold
 * QP q->remote_qpn with remote QPN q->asker_qpn? Unknown QPNs are looked up
 * in the kernel once. An exact match on a registration marks it
 * QPT_RSRC_PEER. Fills a; returns the MAD status. */
uint16_t mirror_serve(struct sema *s, const struct ias_attr_mirror_q *q,
		      const struct mad_dest *from, struct ias_attr_mirror_a *a);
/* Forget every look-up (callers are not called); at exit. */
void mirror_stop(struct sema *s);
/* A short name for r ("found", "none", "ambiguous", "no answer", "no agents"). */
const char *mirror_result_str(enum mirror_result r);

#endif
