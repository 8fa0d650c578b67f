/* See mad_port.h. Every received MAD is decoded and verified by mad_defs
 * before anything else looks at it; a MAD that fails is counted, logged at a
 * bounded rate, and never answered. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <endian.h>
#include <arpa/inet.h>
#include <infiniband/umad.h>

#include "common/log.h"
#include "common/umadport.h"
#include "mad_defs/secmgt.h"
#include "sema/policy.h"
#include "sema/store.h"
#include "sema/mad_port.h"
#include "sema/trace.h"
#include "sema/report.h"

#define QKEY_GSI 0x80010000
#define SMI_CLASS 0x01
#define HOP_LIMIT_GRH 64

struct mad_req {
	struct mad_req *next;
	struct mad_port *p;
	uint32_t tid;
	uint64_t nonce;		/* of the try in flight: the response must echo it */
	struct ias_secmgt_msg msg;
	struct mad_dest to;
	unsigned tries;
	sd_event_source *timer;
	mad_done_fn done;
	void *ctx;
};

struct mad_port {
	struct sema *s;
	int srv, cli;			/* umad port ids, -1 when closed */
	int srv_agent, cli_agent;
	sd_event_source *srv_src, *cli_src, *retry;
	struct mad_req *reqs;
	unsigned npending;
	uint32_t next_tid;
	char ca[UMAD_CA_NAME_LEN];
	int portnum;
	uint16_t lid;
	uint64_t guid;		/* port GUID */
	uint64_t node_guid;
	int attached;
	int warned;
	struct ias_keyring kr;
	struct ias_replay *rp;
	uint64_t log_budget_ms;		/* rate limit for rejection logs */
	struct mad_dest from;		/* source of the request being served */
	unsigned logged;
	uint8_t buf[1024];
	uint8_t cbuf[1024];	/* client side: sends and responses */
};

static void close_port(struct mad_port *p)
{
	sd_event_source_disable_unref(p->srv_src);
	sd_event_source_disable_unref(p->cli_src);
	p->srv_src = p->cli_src = NULL;
	if (p->srv >= 0)
		umad_close_port(p->srv);
	if (p->cli >= 0)
		umad_close_port(p->cli);
	p->srv = p->cli = -1;
	p->attached = 0;
}

static void policy_to_attr(const struct ias_policy *sp, struct ias_attr_policy *a)
{
	memset(a, 0, sizeof(*a));
	a->policy_version = sp->version;
	a->search_level = (uint8_t)sp->level;
	a->block_mode = (uint8_t)sp->block_mode;
	a->flags = sp->dry_run ? IAS_POLICY_F_DRY_RUN : 0;
	a->hop_limit = (uint8_t)(sp->hop_limit > 255 ? 255 : sp->hop_limit);
	a->fanout_limit = (uint8_t)(sp->fanout_limit > 255 ? 255 : sp->fanout_limit);
	a->escalation_x100 = (uint16_t)(sp->escalation * 100);
	a->base_duration_s = (uint32_t)(sp->base_duration_ms / 1000);
	a->max_duration_s = (uint32_t)(sp->max_duration_ms / 1000);
}

static int count_blocks_cb(const struct ias_block_rec *rec, void *arg)
{
	(void)rec;
	(*(uint32_t *)arg)++;
	return 0;
}

static int count_inc_cb(const struct ias_incident_rec *rec, void *arg)
{
	(void)rec;
	(*(uint64_t *)arg)++;
	return 0;
}

/* Fill resp for an authenticated request; returns the MAD status. */
static uint16_t serve(struct mad_port *p, const struct ias_secmgt_msg *req,
		      struct ias_secmgt_msg *resp)
{
	struct sema *s = p->s;

	switch (req->attr_id) {
	case IAS_ATTR_CLASS_PORT_INFO:
		resp->u.cpi.proto_version = IAS_SECMGT_VERSION;
		resp->u.cpi.role = IAS_ROLE_AGENT;
		resp->u.cpi.resp_time_value = 18;	/* ~1 s */
		resp->u.cpi.cap_mask = IAS_CAP_STATUS | IAS_CAP_POLICY;
		resp->u.cpi.node_guid = p->node_guid;
		snprintf(resp->u.cpi.node_desc, sizeof(resp->u.cpi.node_desc), "%s",
			 s->cfg.node_name);
		return IAS_STATUS_OK;
	case IAS_ATTR_STATUS: {
		struct ias_block_filter active = { 0 }, all = { .include_released = 1 };
		uint32_t nactive = 0, ntotal = 0;
		uint64_t ninc = 0;

		if (ias_store_blocks_foreach(s->store, &active, count_blocks_cb, &nactive) < 0 ||
		    ias_store_blocks_foreach(s->store, &all, count_blocks_cb, &ntotal) < 0 ||
		    ias_store_incidents_foreach(s->store, count_inc_cb, &ninc) < 0)
			return IAS_STATUS_INTERNAL;
		resp->u.status.node_guid = p->node_guid;
		resp->u.status.uptime_s = (uint64_t)(sema_now_ms() - s->started_ms) / 1000;
		resp->u.status.active_blocks = nactive;
		resp->u.status.total_blocks = ntotal;
		resp->u.status.policy_version = s->policy.version;
		resp->u.status.qps_known = (uint32_t)s->qps.n;
		resp->u.status.qps_blocked = (uint32_t)qpt_count_blocked(&s->qps);
		resp->u.status.incidents = ninc;
		resp->u.status.mads_rejected = s->stats.mads_rejected;
		return IAS_STATUS_OK;
	}
	case IAS_ATTR_POLICY:
		if (req->method == IAS_METHOD_SET) {
			const struct ias_attr_policy *a = &req->u.policy;
			struct ias_policy np = s->policy;
			char why[128];

			np.version = a->policy_version;
			np.level = a->search_level;
			np.block_mode = a->block_mode;
			np.dry_run = (a->flags & IAS_POLICY_F_DRY_RUN) != 0;
			np.hop_limit = a->hop_limit;
			np.fanout_limit = a->fanout_limit;
			np.escalation = a->escalation_x100 / 100;
			np.base_duration_ms = (uint64_t)a->base_duration_s * 1000;
			np.max_duration_ms = (uint64_t)a->max_duration_s * 1000;
			if (policy_check(&np, why, sizeof(why))) {
				log_warn("Set(Policy) refused: %s", why);
				return IAS_STATUS_INVALID_VALUE;
			}
			if (policy_save(s, &np) < 0)
				return IAS_STATUS_INTERNAL;
			s->policy = np;
			log_notice("policy version %u set over the fabric", np.version);
			report_manager_seen(s, p->from.lid);
		}
		policy_to_attr(&s->policy, &resp->u.policy);
		return IAS_STATUS_OK;
	case IAS_ATTR_TRACE:
		return trace_handle(s, req, &p->from, &resp->u.tres);
	case IAS_ATTR_REPORT:
		return report_serve_get(s, req->attr_mod, &resp->u.report);
	default:
		return IAS_STATUS_METHOD_ATTR_UNSUPP;
	}
}

static void note_reject(struct mad_port *p, enum ias_mad_reason why, const ib_mad_addr_t *addr)
{
	int64_t now = sema_now_ms();

	p->s->stats.mads_rejected++;
	if ((uint64_t)now > p->log_budget_ms) {
		p->log_budget_ms = (uint64_t)now + 10000;
		p->logged = 0;
	}
	if (p->logged++ < 10)
		log_warn("SecMgt MAD from LID %u refused: %s (%llu refused so far)",
			 be16toh(addr->lid), ias_mad_reason_str(why),
			 (unsigned long long)p->s->stats.mads_rejected);
}

const char *mad_dest_str(const struct mad_dest *d, char *buf, size_t len)
{
	char g[INET6_ADDRSTRLEN];

	if (d->lid == 0 && d->has_gid && inet_ntop(AF_INET6, d->gid, g, sizeof(g)))
		snprintf(buf, len, "gid %s", g);
	else
		snprintf(buf, len, "lid %u", d->lid);
	return buf;
}

/* umad_set_grh() leaves the source GID index at 0 (on RoCE, the link-local
 * GID), so it is set here after it. */
static void set_grh(void *umad, const ib_mad_addr_t *addr)
{
	umad_set_grh(umad, (void *)addr);
	umad_get_mad_addr(umad)->gid_index = addr->gid_index;
}

static int srv_io(sd_event_source *src, int fd, uint32_t revents, void *arg)
{
	struct mad_port *p = arg;
	struct ias_secmgt_msg req, resp;
	enum ias_mad_reason why;
	ib_mad_addr_t addr;
	int len = IAS_MAD_SIZE, r;
	uint8_t *mad;

	(void)src;
	(void)fd;
	(void)revents;
	r = umad_recv(p->srv, p->buf, &len, 0);
	if (r < 0)
		return 0;
	if (umad_status(p->buf))
		return 0;	/* a send completion or timeout, not a request */
	mad = umad_get_mad(p->buf);
	memcpy(&addr, umad_get_mad_addr(p->buf), sizeof(addr));
	if (len < 2 || mad[1] != IAS_SECMGT_CLASS)
		return 0;	/* simulator strays (SMPs) */
	if (addr.grh_present && ias_log_level() >= LOG_DEBUG) {
		char g[INET6_ADDRSTRLEN];

		inet_ntop(AF_INET6, addr.gid, g, sizeof(g));
		log_debug("request from GID %s (local GID index %u)", g, addr.gid_index);
	}
	why = ias_secmgt_decode(mad, (size_t)len, &p->kr, p->rp, (uint64_t)sema_now_ms(), &req);
	if (why != IAS_MAD_OK) {
		note_reject(p, why, &addr);
		return 0;
	}
	if (ias_secmgt_init_response(&req, req.attr_id == IAS_ATTR_TRACE ?
				      IAS_ATTR_TRACE_RESULT : req.attr_id, &resp))
		return 0;
	memset(&p->from, 0, sizeof(p->from));
	p->from.lid = be16toh(addr.lid);
	if (addr.grh_present) {
		p->from.has_gid = 1;
		memcpy(p->from.gid, addr.gid, 16);
	}
	resp.status = serve(p, &req, &resp);
	if (resp.status)
		memset(&resp.u, 0, sizeof(resp.u));
	memset(p->buf, 0, umad_size() + IAS_MAD_SIZE);
	if (ias_secmgt_encode(&resp, &p->kr, (uint64_t)sema_now_ms(), umad_get_mad(p->buf))) {
		log_err("encoding a response failed");
		return 0;
	}
	umad_set_addr(p->buf, be16toh(addr.lid), (int)be32toh(addr.qpn), addr.sl, QKEY_GSI);
	if (addr.grh_present)
		set_grh(p->buf, &addr);
	umad_set_pkey(p->buf, addr.pkey_index);
	if (umad_send(p->srv, p->srv_agent, p->buf, IAS_MAD_SIZE, 0, 0) < 0)
		log_warn("sending a response to LID %u failed", be16toh(addr.lid));
	return 0;
}

/* The SM may assign the LID after the agent attached: read it again while
 * it is still 0. */
static void refresh_lid(struct mad_port *p)
{
	umad_port_t port;

	if (!p || !p->attached || p->lid)
		return;
	if (umad_get_port(p->ca, p->portnum, &port) == 0) {
		p->lid = (uint16_t)port.base_lid;
		umad_release_port(&port);
	}
}

/* ---- the agent's own requests --------------------------------------------- */

static void req_free(struct mad_req *r)
{
	struct mad_port *p = r->p;
	struct mad_req **pp;

	for (pp = &p->reqs; *pp; pp = &(*pp)->next)
		if (*pp == r) {
			*pp = r->next;
			break;
		}
	p->npending--;
	sd_event_source_disable_unref(r->timer);
	free(r);
}

static int req_send(struct mad_req *r)
{
	struct mad_port *p = r->p;
	ib_mad_addr_t addr;
	int r2;

	if (!p->attached)
		return -ENODEV;
	/* A fresh TID per try: a late answer to an earlier try is ignored. */
	r->tid = ++p->next_tid ? p->next_tid : ++p->next_tid;
	r->msg.tid = r->tid;
	memset(p->cbuf, 0, umad_size() + IAS_MAD_SIZE);
	r2 = ias_secmgt_encode(&r->msg, &p->kr, (uint64_t)sema_now_ms(), umad_get_mad(p->cbuf));
	if (r2)
		return r2;
	r->nonce = r->msg.nonce;
	umad_set_addr(p->cbuf, r->to.lid, 1, 0, QKEY_GSI);
	if (r->to.has_gid) {
		memset(&addr, 0, sizeof(addr));
		addr.grh_present = 1;
		addr.gid_index = (uint8_t)p->s->cfg.gid_index;
		addr.hop_limit = HOP_LIMIT_GRH;
		memcpy(addr.gid, r->to.gid, 16);
		set_grh(p->cbuf, &addr);
		if (ias_log_level() >= LOG_DEBUG) {
			char g[INET6_ADDRSTRLEN];

			inet_ntop(AF_INET6, r->to.gid, g, sizeof(g));
			log_debug("request to GID %s (source GID index %u)", g, addr.gid_index);
		}
	}
	r->tries++;
	if (umad_send(p->cli, p->cli_agent, p->cbuf, IAS_MAD_SIZE,
		      (int)p->s->cfg.mad_timeout, 0) < 0)
		log_debug("send to LID %u failed (try %u)", r->to.lid, r->tries);
	return 0;
}

static int req_timeout(sd_event_source *src, uint64_t usec, void *arg)
{
	struct mad_req *r = arg;
	struct sema *s = r->p->s;

	(void)usec;
	if (r->tries <= s->cfg.mad_retries && req_send(r) == 0) {
		sd_event_source_set_time_relative(src, s->cfg.mad_timeout * 1000);
		return sd_event_source_set_enabled(src, SD_EVENT_ONESHOT);
	}
	log_info("LID %u did not answer %u tries", r->to.lid, r->tries);
	r->done(s, r->ctx, &r->to, NULL);
	req_free(r);
	return 0;
}

int mad_port_request(struct mad_port *p, const struct mad_dest *to,
		     const struct ias_secmgt_msg *req, mad_done_fn done, void *ctx)
{
	struct mad_req *r;
	int rc;

	if (!p || !p->attached)
		return -ENODEV;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->p = p;
	r->msg = *req;
	r->to = *to;
	r->done = done;
	r->ctx = ctx;
	rc = req_send(r);
	if (rc == 0)
		rc = sd_event_add_time_relative(p->s->ev, &r->timer, CLOCK_MONOTONIC,
						p->s->cfg.mad_timeout * 1000, 1000, req_timeout, r);
	if (rc < 0) {
		free(r);
		return rc;
	}
	r->next = p->reqs;
	p->reqs = r;
	p->npending++;
	return 0;
}

static int cli_io(sd_event_source *src, int fd, uint32_t revents, void *arg)
{
	struct mad_port *p = arg;
	struct ias_secmgt_msg resp;
	enum ias_mad_reason why;
	struct mad_req *r;
	ib_mad_addr_t addr;
	int len = IAS_MAD_SIZE;

	(void)src;
	(void)fd;
	(void)revents;
	if (umad_recv(p->cli, p->cbuf, &len, 0) < 0)
		return 0;
	if (umad_status(p->cbuf)) {
		/* Our own send completing with an error or timeout; the request's
		 * own timer decides what happens next. */
		log_debug("a request to LID %u ended with status %d", be16toh(umad_get_mad_addr(p->cbuf)->lid),
			  umad_status(p->cbuf));
		return 0;
	}
	memcpy(&addr, umad_get_mad_addr(p->cbuf), sizeof(addr));
	why = ias_secmgt_decode(umad_get_mad(p->cbuf), (size_t)len, &p->kr, p->rp,
				(uint64_t)sema_now_ms(), &resp);
	if (why != IAS_MAD_OK) {
		note_reject(p, why, &addr);
		return 0;
	}
	if (resp.method != IAS_METHOD_GET_RESP && resp.method != IAS_METHOD_REPORT_RESP)
		return 0;
	for (r = p->reqs; r; r = r->next)
		if (r->tid == (uint32_t)resp.tid && r->nonce == resp.echo_nonce)
			break;
	if (!r)
		return 0;	/* late answer to an earlier try, or not ours */
	r->done(p->s, r->ctx, &r->to, &resp);
	req_free(r);
	return 0;
}

const char *mad_port_ca(const struct mad_port *p)
{
	return p && p->attached ? p->ca : NULL;
}

uint64_t mad_port_guid(const struct mad_port *p)
{
	return p ? p->guid : 0;
}

uint64_t mad_port_node_guid(const struct mad_port *p)
{
	return p ? p->node_guid : 0;
}

uint16_t mad_port_lid(struct mad_port *p)
{
	refresh_lid(p);
	return p ? p->lid : 0;
}

unsigned mad_port_pending(const struct mad_port *p)
{
	return p ? p->npending : 0;
}

static int register_class(int portid, int with_methods, int *agent)
{
	struct umad_reg_attr ra;
	uint32_t id = 0;
	int r;

	memset(&ra, 0, sizeof(ra));
	ra.mgmt_class = IAS_SECMGT_CLASS;
	ra.mgmt_class_version = IAS_SECMGT_CLASS_VERSION;
	ra.oui = IAS_SECMGT_OUI;
	if (with_methods)
		/* Report requests are the manager's to serve, not the agent's:
		 * the kernel allows one agent per method on a port. */
		ra.method_mask[0] = (1ull << IAS_METHOD_GET) | (1ull << IAS_METHOD_SET);
	r = umad_register2(portid, &ra, &id);
	if (r)
		return r < 0 ? r : -r;
	*agent = (int)id;
	return 0;
}

static int pick_port(struct mad_port *p)
{
	struct ias_umad_port up;
	int r = ias_umad_pick_port(p->s->cfg.umad_ca, p->s->cfg.umad_port, &up);

	if (r)
		return r;
	snprintf(p->ca, sizeof(p->ca), "%s", up.ca);
	p->portnum = up.port;
	p->lid = up.lid;
	p->guid = up.port_guid;
	p->node_guid = up.node_guid;
	return 0;
}

static int try_attach(struct mad_port *p)
{
	int r;

	r = pick_port(p);
	if (r)
		return r;
	p->srv = umad_open_port(p->ca, p->portnum);
	p->cli = umad_open_port(p->ca, p->portnum);
	if (p->srv < 0 || p->cli < 0) {
		r = p->srv < 0 ? p->srv : p->cli;
		close_port(p);
		return r < 0 ? r : -EIO;
	}
	r = register_class(p->srv, 1, &p->srv_agent);
	if (!r)
		r = register_class(p->cli, 0, &p->cli_agent);
	if (r) {
		log_err("registering SecMgt class 0x%x on %s/%d: %s", IAS_SECMGT_CLASS, p->ca,
			p->portnum, strerror(-r));
		close_port(p);
		return r;
	}
	/* Under the simulator, SMPs reach the request-serving client too;
	 * an agent for the SM class keeps them from crashing the shim. */
	if (p->s->cfg.simulated_fabric && umad_register(p->srv, SMI_CLASS, 1, 0, NULL) < 0)
		log_warn("could not register for the SM class under the simulator");
	r = sd_event_add_io(p->s->ev, &p->srv_src, umad_get_fd(p->srv), EPOLLIN, srv_io, p);
	if (r >= 0)
		r = sd_event_add_io(p->s->ev, &p->cli_src, umad_get_fd(p->cli), EPOLLIN, cli_io, p);
	if (r < 0) {
		close_port(p);
		return r;
	}
	p->attached = 1;
	log_notice("SecMgt agent on %s port %d (LID %u, GUID 0x%016llx)", p->ca, p->portnum,
		   p->lid, (unsigned long long)p->guid);
	return 0;
}

static int on_retry(sd_event_source *src, uint64_t usec, void *arg)
{
	struct mad_port *p = arg;

	(void)usec;
	if (try_attach(p) == 0)
		return sd_event_source_set_enabled(src, SD_EVENT_OFF);
	sd_event_source_set_time_relative(src, p->s->cfg.port_retry * 1000);
	return sd_event_source_set_enabled(src, SD_EVENT_ONESHOT);
}

int mad_port_start(struct sema *s, struct mad_port **out)
{
	struct mad_port *p = calloc(1, sizeof(*p));
	size_t i;
	int r;

	if (!p)
		return -ENOMEM;
	p->s = s;
	p->srv = p->cli = -1;
	p->rp = malloc(sizeof(*p->rp));
	if (!p->rp || ias_keyring_init(&p->kr)) {
		free(p->rp);
		free(p);
		return -ENOMEM;
	}
	for (i = 0; i < s->nkeys; i++) {
		r = ias_keyring_add(&p->kr, s->keys[i].id, s->keys[i].key, s->keys[i].len);
		if (r) {
			log_err("key %u: %s", s->keys[i].id, strerror(-r));
			goto fail;
		}
	}
	r = s->nkeys ? ias_keyring_set_active(&p->kr, s->keys[0].id) : -ENOKEY;
	if (!r)
		r = ias_replay_init(p->rp, s->cfg.replay_window);
	if (r)
		goto fail;
	if (umad_init() < 0)
		log_warn("libibumad could not initialise; will keep trying");
	if (try_attach(p)) {
		log_notice("no RDMA port yet: serving local requests; looking again every %llu ms",
			   (unsigned long long)s->cfg.port_retry);
		r = sd_event_add_time_relative(s->ev, &p->retry, CLOCK_MONOTONIC,
					       s->cfg.port_retry * 1000, 0, on_retry, p);
		if (r < 0)
			goto fail;
	}
	*out = p;
	return 0;
fail:
	ias_keyring_wipe(&p->kr);
	free(p->rp);
	free(p);
	return r;
}

void mad_port_stop(struct mad_port *p)
{
	if (!p)
		return;
	while (p->reqs)
		req_free(p->reqs);
	close_port(p);
	sd_event_source_disable_unref(p->retry);
	ias_keyring_wipe(&p->kr);
	free(p->rp);
	free(p);
}

void mad_port_describe(struct mad_port *p, char *buf, size_t len)
{
	refresh_lid(p);
	if (!p || !p->attached)
		snprintf(buf, len, "waiting for an RDMA port");
	else
		snprintf(buf, len, "%s/%d lid %u", p->ca, p->portnum, p->lid);
}

unsigned mad_port_peers(const struct mad_port *p, int reachable)
{
	(void)p;
	(void)reachable;
	return 0;
}
