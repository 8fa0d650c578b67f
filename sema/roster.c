/* See roster.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "common/log.h"
#include "sema/roster.h"

struct sema_roster {
	struct mad_dest peers[IAS_CFG_LIST_MAX];
	size_t npeers;
	/* the list in use */
	struct ias_agent_entry *list;
	size_t nlist;
	uint32_t generation;
	/* the generation being collected */
	struct ias_agent_entry *next;
	uint8_t *have;		/* per entry: arrived */
	size_t nnext, got;
	uint32_t next_gen;
};

int roster_parse_peer(const char *text, struct mad_dest *out)
{
	char *end;
	unsigned long v;

	memset(out, 0, sizeof(*out));
	if (strncmp(text, "lid:", 4) == 0) {
		text += 4;
		if (*text < '0' || *text > '9')
			return -EINVAL;
		errno = 0;
		v = strtoul(text, &end, 0);
		if (errno || *end || v == 0 || v >= 0xc000)
			return -EINVAL;
		out->lid = (uint16_t)v;
		return 0;
	}
	if (strncmp(text, "gid:", 4) == 0) {
		static const uint8_t zero[16];

		if (inet_pton(AF_INET6, text + 4, out->gid) != 1 || !memcmp(out->gid, zero, 16))
			return -EINVAL;
		out->has_gid = 1;
		return 0;
	}
	return -EINVAL;
}

int roster_init(struct sema *s, char *err, size_t errlen)
{
	struct sema_roster *r = calloc(1, sizeof(*r));
	unsigned i;

	if (!r) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (i = 0; i < s->cfg.peers.n; i++) {
		if (roster_parse_peer(s->cfg.peers.item[i], &r->peers[r->npeers]) < 0) {
			snprintf(err, errlen, "peers: \"%s\" is neither lid:N (1..49151) nor gid:ADDR",
				 s->cfg.peers.item[i]);
			free(r);
			return -EINVAL;
		}
		r->npeers++;
	}
	s->roster = r;
	return 0;
}

static void drop_next(struct sema_roster *r)
{
	free(r->next);
	free(r->have);
	r->next = NULL;
	r->have = NULL;
	r->nnext = r->got = 0;
	r->next_gen = 0;
}

void roster_free(struct sema *s)
{
	struct sema_roster *r = s->roster;

	if (!r)
		return;
	drop_next(r);
	free(r->list);
	free(r);
	s->roster = NULL;
}

static int start_next(struct sema_roster *r, uint32_t gen, size_t total)
{
	drop_next(r);
	if (total) {
		r->next = calloc(total, sizeof(*r->next));
		r->have = calloc(total, 1);
		if (!r->next || !r->have) {
			drop_next(r);
			return -ENOMEM;
		}
	}
	r->nnext = total;
	r->next_gen = gen;
	return 0;
}

uint16_t roster_take_segment(struct sema *s, const struct ias_attr_agent_list *seg,
			     const struct mad_dest *from)
{
	struct sema_roster *r = s->roster;
	unsigned i;

	if (!r)
		return IAS_STATUS_INTERNAL;
	/* Only the manager that sets the policy (once it is known). */
	if (s->manager_lid && from->lid != s->manager_lid) {
		log_warn("agent list from LID %u refused: the manager is LID %u", from->lid,
			 s->manager_lid);
		return IAS_STATUS_REFUSED;
	}
	if (seg->generation == r->generation && r->list != NULL && !r->next_gen)
		return IAS_STATUS_OK;	/* a repeat of the list in use */
	if (seg->generation != r->next_gen || seg->total != r->nnext) {
		if (start_next(r, seg->generation, seg->total) < 0)
			return IAS_STATUS_INTERNAL;
	}
	for (i = 0; i < seg->count; i++) {
		size_t k = (size_t)seg->first + i;

		r->next[k] = seg->e[i];
		if (!r->have[k]) {
			r->have[k] = 1;
			r->got++;
		}
	}
	if (r->got == r->nnext) {
		free(r->list);
		r->list = r->next;
		r->nlist = r->nnext;
		r->generation = r->next_gen;
		r->next = NULL;
		drop_next(r);
		log_info("agent list generation %u from the manager: %zu agent(s)", r->generation,
			 r->nlist);
		/* an empty list is held too */
		if (!r->list)
			r->list = calloc(1, sizeof(*r->list));
	}
	return IAS_STATUS_OK;
}

static int same_dest(const struct mad_dest *a, const struct mad_dest *b)
{
	if (a->lid && b->lid)
		return a->lid == b->lid;
	return a->has_gid && b->has_gid && memcmp(a->gid, b->gid, 16) == 0;
}

static int add_agent(struct roster_agent *out, size_t n, const struct mad_dest *at, uint64_t guid)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (same_dest(&out[i].at, at) || (guid && out[i].node_guid == guid))
			return 0;
	out[n].at = *at;
	out[n].node_guid = guid;
	return 1;
}

size_t roster_agents(struct sema *s, struct roster_agent *out, size_t max)
{
	const struct sema_roster *r = s->roster;
	uint64_t self_guid = mad_port_node_guid(s->mad);
	uint16_t self_lid = mad_port_lid(s->mad);
	struct mad_dest at;
	size_t i, n = 0;

	if (!r)
		return 0;
	for (i = 0; i < r->nlist && n < max; i++) {
		const struct ias_agent_entry *e = &r->list[i];

		if ((self_guid && e->node_guid == self_guid) || (self_lid && e->lid == self_lid))
			continue;
		memset(&at, 0, sizeof(at));
		at.lid = e->lid;
		if (!e->lid) {
			at.has_gid = 1;
			memcpy(at.gid, e->gid, 16);
		}
		n += (size_t)add_agent(out, n, &at, e->node_guid);
	}
	for (i = 0; i < r->npeers && n < max; i++) {
		if (self_lid && r->peers[i].lid == self_lid)
			continue;
		n += (size_t)add_agent(out, n, &r->peers[i], 0);
	}
	return n;
}

uint32_t roster_generation(const struct sema *s, size_t *n)
{
	*n = s->roster ? s->roster->nlist : 0;
	return s->roster ? s->roster->generation : 0;
}
