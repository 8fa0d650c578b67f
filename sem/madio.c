/* See madio.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <endian.h>
#include <infiniband/umad.h>

#include "common/log.h"
#include "common/umadport.h"
#include "mad_defs/secmgt.h"
#include "sem/madio.h"
#include "sem/sa.h"

#define QKEY_GSI 0x80010000
#define SMI_CLASS 0x01
#define TICK_MS 100
#define MAX_PEND 256
#define SCAN_WINDOW 8
#define SCAN_GAP 64		/* empty LIDs past the highest found end a scan */

struct pend {
	uint32_t tid;		/* 0: free */
	uint64_t nonce;
	uint64_t guid;
	uint16_t attr_id;
};

struct sa_pend {
	uint32_t tid;		/* 0: free */
	uint16_t lid;		/* SCAN: the LID asked; TABLE: 0 */
	int64_t deadline;
};

enum disc_state { DISC_IDLE, DISC_TABLE, DISC_SCAN };

struct sem_mad {
	struct sem *s;
	int srv, cli;
	int srv_agent, cli_agent, sa_agent;
	sd_event_source *srv_src, *cli_src, *retry, *tick, *disc_timer;
	char ca[UMAD_CA_NAME_LEN];
	int portnum;
	uint16_t lid;
	uint64_t guid;
	int attached;
	struct ias_keyring kr;
	struct ias_replay *rp;
	uint32_t next_tid;
	struct pend pend[MAX_PEND];
	/* discovery */
	enum disc_state disc;
	struct sa_pend sa[SCAN_WINDOW];
	uint32_t scan_next, scan_high;
	struct sem_node_rec *found;
	size_t nfound, capfound;
	uint64_t log_until;
	unsigned logged;
	uint8_t *buf;
	size_t bufcap;		/* MAD bytes the buffer holds */
};

static uint32_t new_tid(struct sem_mad *m)
{
	if (++m->next_tid == 0)
		m->next_tid = 1;
	return m->next_tid;
}

static void close_port(struct sem_mad *m)
{
	sd_event_source_disable_unref(m->srv_src);
	sd_event_source_disable_unref(m->cli_src);
	m->srv_src = m->cli_src = NULL;
	if (m->srv >= 0)
		umad_close_port(m->srv);
	if (m->cli >= 0)
		umad_close_port(m->cli);
	m->srv = m->cli = -1;
	m->attached = 0;
}

static void note_reject(struct sem_mad *m, enum ias_mad_reason why, uint16_t lid)
{
	uint64_t now = (uint64_t)sem_now_ms();

	m->s->mads_rejected++;
	if (now > m->log_until) {
		m->log_until = now + 10000;
		m->logged = 0;
	}
	if (m->logged++ < 10)
		log_warn("SecMgt MAD from LID %u refused: %s (%llu refused so far)", lid,
			 ias_mad_reason_str(why), (unsigned long long)m->s->mads_rejected);
}

/* Receive one MAD into m->buf, growing it for RMPP answers. Returns the
 * MAD length or a negative errno. */
static int recv_mad(struct sem_mad *m, int portid)
{
	int len = (int)m->bufcap, r;

	r = umad_recv(portid, m->buf, &len, 0);
	if (r == -ENOSPC && len > (int)m->bufcap && len <= (1 << 24)) {
		uint8_t *nb = realloc(m->buf, umad_size() + (size_t)len);

		if (!nb)
			return -ENOMEM;
		m->buf = nb;
		m->bufcap = (size_t)len;
		len = (int)m->bufcap;
		r = umad_recv(portid, m->buf, &len, 0);
	}
	if (r < 0)
		return r;
	return len;
}

static int send_to(struct sem_mad *m, int agent, uint16_t lid, const uint8_t *mad, int timeout)
{
	uint8_t out[1024];

	memset(out, 0, umad_size() + IAS_MAD_SIZE);
	memcpy(umad_get_mad(out), mad, IAS_MAD_SIZE);
	umad_set_addr(out, lid, 1, 0, QKEY_GSI);
	umad_set_pkey(out, 0);
	if (umad_send(m->cli, agent, out, IAS_MAD_SIZE, timeout, 0) < 0)
		return -EIO;
	return 0;
}

/* ---- SecMgt requests to agents ---------------------------------------- */

static struct pend *pend_find(struct sem_mad *m, uint32_t tid)
{
	size_t i;

	for (i = 0; i < MAX_PEND; i++)
		if (m->pend[i].tid && m->pend[i].tid == tid)
			return &m->pend[i];
	return NULL;
}

static int send_request(struct sem_mad *m, struct sem_node *n, enum sem_action act, uint32_t mod)
{
	struct ias_secmgt_msg msg;
	uint8_t mad[IAS_MAD_SIZE];
	struct pend *p = pend_find(m, 0);
	size_t i;
	int r;

	for (i = 0; !p && i < MAX_PEND; i++)
		if (!m->pend[i].tid)
			p = &m->pend[i];
	if (!p)
		return -EBUSY;
	memset(&msg, 0, sizeof(msg));
	msg.method = IAS_METHOD_GET;
	msg.attr_mod = mod;
	msg.tid = new_tid(m);
	switch (act) {
	case SEM_ACT_PROBE: msg.attr_id = IAS_ATTR_CLASS_PORT_INFO; break;
	case SEM_ACT_STATUS: msg.attr_id = IAS_ATTR_STATUS; break;
	case SEM_ACT_POLICY: msg.attr_id = IAS_ATTR_POLICY; break;
	case SEM_ACT_PUSH:
		msg.method = IAS_METHOD_SET;
		msg.attr_id = IAS_ATTR_POLICY;
		msg.u.policy = m->s->view.policy;
		break;
	case SEM_ACT_LATEST:
	case SEM_ACT_FETCH: msg.attr_id = IAS_ATTR_REPORT; break;
	default: return -EINVAL;
	}
	r = ias_secmgt_encode(&msg, &m->kr, (uint64_t)sem_now_ms(), mad);
	if (r)
		return r;
	r = send_to(m, m->cli_agent, n->rec.lid, mad, (int)m->s->cfg.mad_timeout);
	if (r)
		return r;
	p->tid = (uint32_t)msg.tid;
	p->nonce = msg.nonce;
	p->guid = n->rec.guid;
	p->attr_id = msg.attr_id;
	if (act == SEM_ACT_PUSH)
		log_info("pushing policy version %u to %s (LID %u)", msg.u.policy.policy_version,
			 n->rec.name, n->rec.lid);
	return 0;
}

static void drop_pend_of(struct sem_mad *m, uint64_t guid)
{
	size_t i;

	for (i = 0; i < MAX_PEND; i++)
		if (m->pend[i].tid && m->pend[i].guid == guid)
			m->pend[i].tid = 0;
}

/* Give every node with nothing in flight its next request. */
static void drive(struct sem_mad *m)
{
	struct sem *s = m->s;
	int64_t now = sem_now_ms();
	size_t i;

	if (!m->attached)
		return;
	sem_view_expire(&s->view, now);
	for (i = 0; i < s->view.n; i++) {
		struct sem_node *n = &s->view.nodes[i];
		enum sem_action act;
		uint32_t mod;

		if (!n->busy)
			drop_pend_of(m, n->rec.guid);
		act = sem_view_next(&s->view, n, now, &mod);
		if (act == SEM_ACT_NONE)
			continue;
		if (send_request(m, n, act, mod)) {
			log_debug("could not send to %s", n->rec.name);
			continue;
		}
		sem_view_sent(n, act, mod, now + (int64_t)s->cfg.mad_timeout);
	}
}

/* The protocol names an agent by its node GUID. An agent that names
 * itself by the GUID of the port it speaks from (the node's only port on
 * the LID it answers from) is the same node: use the node GUID the SA gave
 * for it, so that its answers and reports are recognised and stored under
 * one identity. */
static uint64_t node_identity(const struct sem_node *n, uint64_t named)
{
	if (n && named && named != n->rec.guid && named == n->rec.port_guid)
		return n->rec.guid;
	return named;
}

static void secmgt_response(struct sem_mad *m, const uint8_t *mad, size_t len, uint16_t lid)
{
	struct sem *s = m->s;
	struct ias_secmgt_msg msg;
	enum ias_mad_reason why;
	struct sem_node *n;
	struct pend *p;
	uint64_t tid;
	int r;

	if (ias_secmgt_peek_tid_unauth(mad, len, &tid) || !(p = pend_find(m, (uint32_t)tid)))
		return;		/* not ours, or already timed out */
	why = ias_secmgt_decode(mad, len, &m->kr, m->rp, (uint64_t)sem_now_ms(), &msg);
	if (why != IAS_MAD_OK) {
		note_reject(m, why, lid);
		return;		/* unanswered: the request times out */
	}
	if (msg.method != IAS_METHOD_GET_RESP || msg.echo_nonce != p->nonce ||
	    msg.attr_id != p->attr_id) {
		note_reject(m, IAS_MAD_BAD_ATTR_FOR_METHOD, lid);
		return;
	}
	n = sem_view_by_guid(&s->view, p->guid);
	p->tid = 0;
	if (!n || !n->busy)
		return;
	switch (msg.attr_id) {
	case IAS_ATTR_CLASS_PORT_INFO:
		msg.u.cpi.node_guid = node_identity(n, msg.u.cpi.node_guid);
		break;
	case IAS_ATTR_STATUS:
		msg.u.status.node_guid = node_identity(n, msg.u.status.node_guid);
		break;
	case IAS_ATTR_REPORT:
		msg.u.report.node_guid = node_identity(n, msg.u.report.node_guid);
		break;
	default:
		break;
	}
	r = sem_view_result(&s->view, n, msg.status, &msg.u, sem_now_ms());
	if (r)
		log_warn("%s: %s", n->rec.name, r == -EPROTO ? "answered for another node"
							    : semstore_errmsg(s->store));
}

/* ---- discovery --------------------------------------------------------- */

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

static void refresh_local(struct sem_mad *m)
{
	umad_port_t port;

	if (umad_get_port(m->ca, m->portnum, &port) < 0)
		return;
	m->lid = (uint16_t)port.base_lid;
	m->s->sm_lid = (uint16_t)port.sm_lid;
	m->guid = be64toh(port.port_guid);
	m->s->local_port_guid = m->guid;
	umad_release_port(&port);
}

static void finish_round(struct sem_mad *m)
{
	struct sem *s = m->s;
	size_t i, agents = 0;

	m->disc = DISC_IDLE;
	if (sem_view_discovered(&s->view, m->found, m->nfound, sem_now_ms()))
		log_err("storing the discovered nodes: %s", semstore_errmsg(s->store));
	s->sm_guid = 0;
	for (i = 0; i < m->nfound; i++)
		if (m->found[i].lid == s->sm_lid)
			s->sm_guid = m->found[i].port_guid;
	for (i = 0; i < s->view.n; i++)
		agents += s->view.nodes[i].rec.agent && s->view.nodes[i].present;
	log_info("discovery: %zu node(s), %zu known agent(s); master SM LID %u GUID 0x%016llx",
		 m->nfound, agents, s->sm_lid, (unsigned long long)s->sm_guid);
	sem_update_role(s);
	drive(m);
}

static int sa_send(struct sem_mad *m, uint8_t method, uint16_t lid)
{
	uint8_t mad[256];
	size_t i;

	for (i = 0; i < SCAN_WINDOW; i++)
		if (!m->sa[i].tid)
			break;
	if (i == SCAN_WINDOW)
		return -EBUSY;
	m->sa[i].tid = new_tid(m);
	m->sa[i].lid = lid;
	m->sa[i].deadline = sem_now_ms() + 2 * (int64_t)m->s->cfg.mad_timeout;
	sa_build_node_query(mad, method, lid, m->sa[i].tid);
	if (send_to(m, m->sa_agent, m->s->sm_lid, mad, (int)m->s->cfg.mad_timeout)) {
		m->sa[i].tid = 0;
		return -EIO;
	}
	return 0;
}

static unsigned sa_inflight(const struct sem_mad *m)
{
	unsigned i, k = 0;

	for (i = 0; i < SCAN_WINDOW; i++)
		k += m->sa[i].tid != 0;
	return k;
}

/* Keep the per-LID scan's window full; finish when it is done. */
static void scan_fill(struct sem_mad *m)
{
	while (m->scan_next <= m->s->cfg.max_lid && m->scan_next <= m->scan_high + SCAN_GAP &&
	       sa_inflight(m) < SCAN_WINDOW) {
		if (sa_send(m, SA_METHOD_GET, (uint16_t)m->scan_next))
			break;
		m->scan_next++;
	}
	if (!sa_inflight(m))
		finish_round(m);
}

static void sa_response(struct sem_mad *m, const uint8_t *mad, size_t len)
{
	static struct sem_node_rec recs[1024];
	uint16_t status;
	size_t i, n;
	int truncated, r;
	uint32_t tid;

	if (len < 16)
		return;
	tid = (uint32_t)(((uint32_t)mad[12] << 24) | ((uint32_t)mad[13] << 16) |
			 ((uint32_t)mad[14] << 8) | mad[15]);
	for (i = 0; i < SCAN_WINDOW; i++)
		if (m->sa[i].tid && m->sa[i].tid == tid)
			break;
	if (i == SCAN_WINDOW || m->disc == DISC_IDLE)
		return;
	m->sa[i].tid = 0;
	r = sa_parse_node_records(mad, len, recs, 1024, &n, &status, &truncated);
	if (m->disc == DISC_TABLE) {
		if (r || status || truncated || n == 1024) {
			/* No usable table (no RMPP on this transport): ask LID by LID. */
			log_debug("NodeRecord table unusable (%d, status 0x%04x, truncated %d): scanning LIDs",
				  r, status, truncated);
			m->disc = DISC_SCAN;
			m->nfound = 0;
			m->scan_next = 1;
			m->scan_high = 0;
			scan_fill(m);
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

static void sa_expire(struct sem_mad *m, int64_t now)
{
	size_t i;
	int expired = 0;

	for (i = 0; i < SCAN_WINDOW; i++)
		if (m->sa[i].tid && now >= m->sa[i].deadline) {
			m->sa[i].tid = 0;
			expired = 1;
		}
	if (!expired)
		return;
	if (m->disc == DISC_TABLE) {
		log_warn("the SA at LID %u did not answer a NodeRecord query", m->s->sm_lid);
		m->disc = DISC_IDLE;
	} else if (m->disc == DISC_SCAN) {
		scan_fill(m);
	}
}

void sem_mad_discover(struct sem_mad *m)
{
	if (!m || !m->attached || m->disc != DISC_IDLE)
		return;
	refresh_local(m);
	if (!m->s->sm_lid) {
		log_info("no subnet manager known on %s/%d yet", m->ca, m->portnum);
		return;
	}
	m->nfound = 0;
	m->disc = DISC_TABLE;
	if (sa_send(m, SA_METHOD_GET_TABLE, 0)) {
		log_warn("sending a NodeRecord query to LID %u failed", m->s->sm_lid);
		m->disc = DISC_IDLE;
	}
}

/* ---- I/O --------------------------------------------------------------- */

static int cli_io(sd_event_source *src, int fd, uint32_t revents, void *arg)
{
	struct sem_mad *m = arg;
	const uint8_t *mad;
	int len;

	(void)src;
	(void)fd;
	(void)revents;
	len = recv_mad(m, m->cli);
	if (len < 0)
		return 0;
	mad = umad_get_mad(m->buf);
	if (umad_status(m->buf)) {
		/* A request that timed out in the kernel: our own TID. The
		 * view's deadline handles it. */
		return 0;
	}
	if (len >= 2 && mad[1] == SA_CLASS)
		sa_response(m, mad, (size_t)len);
	else if (len >= 2 && mad[1] == IAS_SECMGT_CLASS) {
		ib_mad_addr_t *a = umad_get_mad_addr(m->buf);

		secmgt_response(m, mad, (size_t)len, be16toh(a->lid));
		drive(m);
	}
	return 0;
}

/* A Report from an agent: stored exactly once, then acknowledged. */
static int srv_io(sd_event_source *src, int fd, uint32_t revents, void *arg)
{
	struct sem_mad *m = arg;
	struct sem *s = m->s;
	struct ias_secmgt_msg req, resp;
	struct ias_attr_report rep;
	enum ias_mad_reason why;
	struct sem_node *n;
	ib_mad_addr_t addr;
	uint8_t out[1024];
	const uint8_t *mad;
	int len, r;

	(void)src;
	(void)fd;
	(void)revents;
	len = recv_mad(m, m->srv);
	if (len < 0 || umad_status(m->buf))
		return 0;
	mad = umad_get_mad(m->buf);
	memcpy(&addr, umad_get_mad_addr(m->buf), sizeof(addr));
	if (len < 2 || mad[1] != IAS_SECMGT_CLASS)
		return 0;	/* simulator strays (SMPs) */
	why = ias_secmgt_decode(mad, (size_t)len, &m->kr, m->rp, (uint64_t)sem_now_ms(), &req);
	if (why != IAS_MAD_OK) {
		note_reject(m, why, be16toh(addr.lid));
		return 0;
	}
	if (ias_secmgt_init_response(&req, req.attr_id, &resp))
		return 0;
	if (req.method != IAS_METHOD_REPORT) {
		resp.status = IAS_STATUS_WRONG_ROLE;
	} else {
		n = sem_view_by_lid(&s->view, be16toh(addr.lid));
		rep = req.u.report;
		rep.node_guid = node_identity(n, rep.node_guid);
		if (n && n->rec.guid != rep.node_guid) {
			log_warn("Report from LID %u (%s) names node 0x%016llx: refused",
				 be16toh(addr.lid), n->rec.name,
				 (unsigned long long)req.u.report.node_guid);
			resp.status = IAS_STATUS_REFUSED;
		} else {
			r = sem_view_report(&s->view, &rep, sem_now_ms());
			if (r < 0) {
				/* Not stored: not acknowledged; the agent retries. */
				log_err("storing a report: %s", semstore_errmsg(s->store));
				return 0;
			}
			log_debug("report %llu of 0x%016llx: %s", (unsigned long long)rep.seq,
				  (unsigned long long)rep.node_guid, r ? "new" : "duplicate");
			resp.u.report = req.u.report;
		}
	}
	memset(out, 0, umad_size() + IAS_MAD_SIZE);
	if (ias_secmgt_encode(&resp, &m->kr, (uint64_t)sem_now_ms(), umad_get_mad(out)))
		return 0;
	umad_set_addr(out, be16toh(addr.lid), (int)be32toh(addr.qpn), addr.sl, QKEY_GSI);
	if (addr.grh_present)
		umad_set_grh(out, &addr);
	umad_set_pkey(out, addr.pkey_index);
	if (umad_send(m->srv, m->srv_agent, out, IAS_MAD_SIZE, 0, 0) < 0)
		log_warn("sending ReportResp to LID %u failed", be16toh(addr.lid));
	drive(m);	/* a gap may need fetching */
	return 0;
}

static int on_tick(sd_event_source *src, uint64_t usec, void *arg)
{
	struct sem_mad *m = arg;

	(void)usec;
	sa_expire(m, sem_now_ms());
	drive(m);
	sd_event_source_set_time_relative(src, TICK_MS * 1000);
	return sd_event_source_set_enabled(src, SD_EVENT_ONESHOT);
}

static int on_discover(sd_event_source *src, uint64_t usec, void *arg)
{
	struct sem_mad *m = arg;

	(void)usec;
	sem_mad_discover(m);
	sd_event_source_set_time_relative(src, m->s->cfg.discovery_interval * 1000);
	return sd_event_source_set_enabled(src, SD_EVENT_ONESHOT);
}

static int pick_port(struct sem_mad *m)
{
	struct ias_umad_port up;
	int r = ias_umad_pick_port(m->s->cfg.umad_ca, m->s->cfg.umad_port, &up);

	if (r)
		return r;
	snprintf(m->ca, sizeof(m->ca), "%s", up.ca);
	m->portnum = up.port;
	return 0;
}

static int try_attach(struct sem_mad *m)
{
	uint8_t oui[3] = { (IAS_SECMGT_OUI >> 16) & 0xff, (IAS_SECMGT_OUI >> 8) & 0xff,
			   IAS_SECMGT_OUI & 0xff };
	long mask[16 / sizeof(long)];
	int r;

	r = pick_port(m);
	if (r)
		return r;
	refresh_local(m);
	m->srv = umad_open_port(m->ca, m->portnum);
	m->cli = umad_open_port(m->ca, m->portnum);
	if (m->srv < 0 || m->cli < 0) {
		close_port(m);
		return -EIO;
	}
	/* SecMgt's class version is 1, which umad_register_oui() implies; it
	 * also works where umad_register2() is not available (the simulator
	 * shim). */
	memset(mask, 0, sizeof(mask));
	mask[IAS_METHOD_REPORT / (8 * sizeof(long))] = 1L << (IAS_METHOD_REPORT % (8 * sizeof(long)));
	m->srv_agent = umad_register_oui(m->srv, IAS_SECMGT_CLASS, 0, oui, mask);
	m->cli_agent = m->srv_agent < 0 ? -1 : umad_register_oui(m->cli, IAS_SECMGT_CLASS, 0, oui, NULL);
	r = m->srv_agent < 0 ? m->srv_agent : m->cli_agent < 0 ? m->cli_agent : 0;
	if (!r) {
		m->sa_agent = umad_register(m->cli, SA_CLASS, SA_CLASS_VERSION, 1, NULL);
		r = m->sa_agent < 0 ? m->sa_agent : 0;
	}
	if (r) {
		log_err("registering MAD agents on %s/%d: %s", m->ca, m->portnum,
			strerror(r < 0 ? -r : r));
		close_port(m);
		return r < 0 ? r : -r;
	}
	if (m->s->cfg.simulated_fabric && umad_register(m->srv, SMI_CLASS, 1, 0, NULL) < 0)
		log_warn("could not register for the SM class under the simulator");
	if ((r = sd_event_add_io(m->s->ev, &m->srv_src, umad_get_fd(m->srv), EPOLLIN, srv_io, m)) < 0 ||
	    (r = sd_event_add_io(m->s->ev, &m->cli_src, umad_get_fd(m->cli), EPOLLIN, cli_io, m)) < 0) {
		close_port(m);
		return r;
	}
	m->attached = 1;
	log_notice("SecMgt manager on %s port %d (LID %u, GUID 0x%016llx), SM LID %u", m->ca,
		   m->portnum, m->lid, (unsigned long long)m->guid, m->s->sm_lid);
	sem_update_role(m->s);
	return 0;
}

static int on_retry(sd_event_source *src, uint64_t usec, void *arg)
{
	struct sem_mad *m = arg;

	(void)usec;
	if (try_attach(m) == 0) {
		sem_mad_discover(m);
		return sd_event_source_set_enabled(src, SD_EVENT_OFF);
	}
	sd_event_source_set_time_relative(src, m->s->cfg.port_retry * 1000);
	return sd_event_source_set_enabled(src, SD_EVENT_ONESHOT);
}

int sem_mad_start(struct sem *s, struct sem_mad **out)
{
	struct sem_mad *m = calloc(1, sizeof(*m));
	size_t i;
	int r;

	if (!m)
		return -ENOMEM;
	m->s = s;
	m->srv = m->cli = -1;
	m->bufcap = 64 * 1024;
	m->buf = calloc(1, umad_size() + m->bufcap);
	m->rp = malloc(sizeof(*m->rp));
	if (!m->buf || !m->rp || ias_keyring_init(&m->kr)) {
		free(m->buf);
		free(m->rp);
		free(m);
		return -ENOMEM;
	}
	for (i = 0; i < s->nkeys; i++) {
		r = ias_keyring_add(&m->kr, s->keys[i].id, s->keys[i].key, s->keys[i].len);
		if (r)
			goto fail;
	}
	r = s->nkeys ? ias_keyring_set_active(&m->kr, s->keys[0].id) : -ENOKEY;
	if (!r)
		r = ias_replay_init(m->rp, s->cfg.replay_window);
	if (r)
		goto fail;
	if (umad_init() < 0)
		log_warn("libibumad could not initialise; will keep trying");
	if ((r = sd_event_add_time_relative(s->ev, &m->tick, CLOCK_MONOTONIC, TICK_MS * 1000, 0,
					    on_tick, m)) < 0 ||
	    (r = sd_event_add_time_relative(s->ev, &m->disc_timer, CLOCK_MONOTONIC,
					    s->cfg.discovery_interval * 1000, 0, on_discover, m)) < 0)
		goto fail;
	if ((r = try_attach(m)) == 0) {
		sem_mad_discover(m);
	} else {
		log_notice("no RDMA port yet (%s); looking again every %llu ms", strerror(-r),
			   (unsigned long long)s->cfg.port_retry);
		r = sd_event_add_time_relative(s->ev, &m->retry, CLOCK_MONOTONIC,
					       s->cfg.port_retry * 1000, 0, on_retry, m);
		if (r < 0)
			goto fail;
	}
	*out = m;
	return 0;
fail:
	sd_event_source_disable_unref(m->tick);
	sd_event_source_disable_unref(m->disc_timer);
	ias_keyring_wipe(&m->kr);
	free(m->buf);
	free(m->rp);
	free(m);
	return r;
}

void sem_mad_stop(struct sem_mad *m)
{
	if (!m)
		return;
	close_port(m);
	sd_event_source_disable_unref(m->retry);
	sd_event_source_disable_unref(m->tick);
	sd_event_source_disable_unref(m->disc_timer);
	ias_keyring_wipe(&m->kr);
	free(m->found);
	free(m->buf);
	free(m->rp);
	free(m);
}

void sem_mad_describe(const struct sem_mad *m, char *buf, size_t len)
{
	if (!m || !m->attached)
		snprintf(buf, len, "waiting for an RDMA port");
	else
		snprintf(buf, len, "%s/%d lid %u", m->ca, m->portnum, m->lid);
}
