/* The agents this agent may ask about mirror QPs (sema/mirror.h): the list
 * the manager pushes (Set(AgentList), segmented, one generation at a time)
 * and the static `peers` setting (lid:N or gid:ADDR).
 *
 * The pushed list is kept in memory only: the manager pushes it again to an
 * agent that does not hold its current generation, and refreshes every
 * agent on a slow timer (docs/man/sem.8), so a restarted agent has it back
 * within one refresh. */
#ifndef IAS_SEMA_ROSTER_H
#define IAS_SEMA_ROSTER_H

#include <stddef.h>
#include <stdint.h>

#include "mad_defs/secmgt.h"
#include "sema/mad_port.h"
#include "sema/sema.h"

struct roster_agent {
	struct mad_dest at;
	uint64_t node_guid;	/* 0: not known (a `peers` entry) */
};

/* "lid:N" (1..0xbfff) or "gid:ADDR" (an IPv6-form GID): 0, or -EINVAL. */
int roster_parse_peer(const char *text, struct mad_dest *out);
/* Parses s->cfg.peers (a bad entry: -EINVAL, err says which) and sets up
 * an empty pushed list. */
int roster_init(struct sema *s, char *err, size_t errlen);
void roster_free(struct sema *s);

/* One segment of a pushed list (already decoded and checked by mad_defs):
 * a segment of a new generation starts collecting it; once every entry of
 * the generation has arrived it replaces the list. Returns the MAD status
 * to answer with. */
uint16_t roster_take_segment(struct sema *s, const struct ias_attr_agent_list *seg,
			     const struct mad_dest *from);

/* The agents to ask, this node excluded (by node GUID and LID), each at most
 * once: the pushed list first, then the peers. Fills at most max; returns
 * how many were filled. */
size_t roster_agents(struct sema *s, struct roster_agent *out, size_t max);
/* The generation of the list in use (0: none pushed yet) and its size. */
uint32_t roster_generation(const struct sema *s, size_t *n);

#endif
