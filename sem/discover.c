/* Fabric discovery through the SA: one NodeRecord table query to the
 * master SM, or, when the table is unusable (a transport without RMPP, such
 * as the ibsim shim), one query per LID with SEM_SCAN_WINDOW in flight,
 * ending SCAN_GAP empty LIDs past the highest one found. A complete round
 * goes to the view and decides the manager's role. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "sem/madint.h"
#include "sem/madio.h"
#include "sem/sa.h"

#define SCAN_GAP 64		/* empty LIDs past the highest found end a scan */
#define MAX_RECS 1024		/* records taken from one answer */

static int found_add(struct sem_mad *m, const struct sem_node_rec *recs, size_t n)
{
	if (m->nfound + n > m->capfound) {
		size_t cap = (m->nfound + n) * 2 + 16;
		struct sem_node_rec *p = realloc(m->found, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		m->found = p;
		m->capfound = cap;
	}
	memcpy(m->found + m->nfound, recs, n * sizeof(*recs));
	m->nfound += n;
	return 0;
}

/* The local port's LID, GUID and master SM LID, as the kernel sees them. */
static void refresh_local(struct sem_mad *m)
{
	const struct ias_umad_port *p;

	if (ias_umad_refresh(m->u))
		return;
	p = ias_umad_port(m->u);
	m->s->sm_lid = ias_umad_sm_lid(m->u);
	m->s->local_port_guid = p->port_guid;
}

static void finish_round(struct sem_mad *m)
{
	struct sem *s = m->s;
	size_t i, agents = 0;

	m->disc = SEM_DISC_IDLE;
	if (sem_view_discovered(&s->view, m->found, m->nfound, sem_now_ms()))
		log_err("storing the discovered nodes: %s", semstore_errmsg(s->store));
	sem_role_from_discovery(s, m->found, m->nfound);
	for (i = 0; i < s->view.n; i++)
		agents += s->view.nodes[i].rec.agent && s->view.nodes[i].present;
	log_info("discovery: %zu node(s), %zu known agent(s); master SM LID %u GUID 0x%016llx",
		 m->nfound, agents, s->sm_lid, (unsigned long long)s->sm_guid);
	sem_update_role(s);
	sem_probe_drive(m);
}

static int sa_send(struct sem_mad *m, uint8_t method, uint16_t lid)
{
	struct ias_pend_ent *e;
	uint8_t mad[256];

	if (ias_umad_pending(m->u, SEM_PEND_SA) >= SEM_SCAN_WINDOW)
		return -EBUSY;
	e = ias_umad_track(m->u, SEM_PEND_SA, lid, 2 * m->s->cfg.mad_timeout);
	if (!e)
		return -EBUSY;
	sa_build_node_query(mad, method, lid, e->tid);
	if (ias_umad_send(m->u, 1, m->s->sm_lid, NULL, mad, (unsigned)m->s->cfg.mad_timeout)) {
		ias_umad_untrack(m->u, e);
		return -EIO;
	}
	return 0;
}

/* Keep the per-LID scan's window full; finish when it is done. */
static void scan_fill(struct sem_mad *m)
{
	while (m->scan_next <= m->s->cfg.max_lid && m->scan_next <= m->scan_high + SCAN_GAP &&
	       ias_umad_pending(m->u, SEM_PEND_SA) < SEM_SCAN_WINDOW) {
		if (sa_send(m, SA_METHOD_GET, (uint16_t)m->scan_next))
			break;
		m->scan_next++;
	}
	if (!ias_umad_pending(m->u, SEM_PEND_SA))
		finish_round(m);
}

static void start_scan(struct sem_mad *m)
{
	m->disc = SEM_DISC_SCAN;
	m->nfound = 0;
	m->scan_next = 1;
	m->scan_high = 0;
	scan_fill(m);
}

void sem_discover_response(struct sem_mad *m, const struct ias_umad_rx *rx)
{
	static struct sem_node_rec recs[MAX_RECS];
	struct ias_mad_hdr h;
	struct ias_pend_ent *e;
	uint16_t status;
	size_t n;
	int truncated, r;

	if (ias_mad_hdr_decode(rx->mad, rx->len, &h) ||
	    !(e = ias_umad_find(m->u, ias_mad_tid32(h.tid))) || e->kind != SEM_PEND_SA ||
	    m->disc == SEM_DISC_IDLE)
		return;
	ias_umad_untrack(m->u, e);
	r = sa_parse_node_records(rx->mad, rx->len, recs, MAX_RECS, &n, &status, &truncated);
	if (m->disc == SEM_DISC_TABLE) {
		if (r || status || truncated || n == MAX_RECS) {
			/* No usable table (no RMPP on this transport): ask LID by LID. */
			log_debug("NodeRecord table unusable (%d, status 0x%04x, truncated %d): scanning LIDs",
				  r, status, truncated);
			start_scan(m);
			return;
		}
		/* The whole table in one answer. */
		m->nfound = 0;
		found_add(m, recs, n);
		finish_round(m);
		return;
	}
	if (!r && !status && n) {
		found_add(m, recs, n);
		if (recs[0].lid > m->scan_high)
			m->scan_high = recs[0].lid;
	}
	scan_fill(m);
}

void sem_discover_expired(struct sem_mad *m, struct ias_pend_ent *e)
{
	ias_umad_untrack(m->u, e);
	if (m->disc == SEM_DISC_TABLE) {
		log_warn("the SA at LID %u did not answer a NodeRecord query", m->s->sm_lid);
		m->disc = SEM_DISC_IDLE;
	} else if (m->disc == SEM_DISC_SCAN) {
		scan_fill(m);
	}
}

void sem_mad_discover(struct sem_mad *m)
{
	if (!m || !ias_umad_attached(m->u) || m->disc != SEM_DISC_IDLE)
		return;
	refresh_local(m);
	if (!m->s->sm_lid) {
		log_info("no subnet manager known on %s/%d yet", ias_umad_port(m->u)->ca,
			 ias_umad_port(m->u)->port);
		return;
	}
	m->nfound = 0;
	m->disc = SEM_DISC_TABLE;
	if (sa_send(m, SA_METHOD_GET_TABLE, 0)) {
		log_warn("sending a NodeRecord query to LID %u failed", m->s->sm_lid);
		m->disc = SEM_DISC_IDLE;
	}
}
