/* See mad_port.h. The port, its retries, the requests in flight and the
 * bounded logging of refused MADs are common/umad.c's, shared with the
 * manager; this file dispatches the agent's attributes through the handler
 * table main.c gives it (it calls nothing above it) and matches answers to
 * its requests. Every received MAD is decoded and verified by mad_defs
 * before anything else looks at it; a MAD that fails is counted, logged at a
 * bounded rate, and never answered. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "common/log.h"
#include "common/umad.h"
#include "mad_defs/secmgt.h"
#include "mad_defs/secmgt_auth.h"
#include "sema/mad_port.h"

#define REQ_KIND 1		/* the agent tracks one kind of request */
#define MAX_PENDING 1024

/* One of the agent's own requests: the table entry's data. */
struct mad_req {
	struct ias_secmgt_msg msg;
	struct mad_dest to;
	mad_done_fn done;
	void *ctx;
};

struct mad_port {
	struct sema *s;
	struct ias_umad *u;
	struct ias_secmgt_auth auth;
	const struct mad_handler *handlers;	/* main.c's table */
	size_t nhandlers;
};

/* The handler of an authenticated request, or NULL. */
static const struct mad_handler *find_handler(const struct mad_port *p,
					      const struct ias_secmgt_msg *req)
{
	size_t i;

	for (i = 0; i < p->nhandlers; i++)
		if (p->handlers[i].attr_id == req->attr_id &&
		    (p->handlers[i].method == 0 || p->handlers[i].method == req->method))
			return &p->handlers[i];
	return NULL;
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

static uint64_t now_ms(void)
{
	return (uint64_t)sema_now_ms();
}

static void on_request(void *ctx, struct ias_umad *u, const struct ias_umad_rx *rx)
{
	struct mad_port *p = ctx;
	struct ias_secmgt_msg req, resp;
	const struct mad_handler *h;
	struct mad_dest from;
	enum ias_mad_reason why;
	uint8_t out[IAS_MAD_SIZE];

	why = ias_secmgt_decode(rx->mad, rx->len, &p->auth.kr, p->auth.rp, now_ms(), &req);
	if (why != IAS_MAD_OK) {
		ias_umad_refused(u, ias_mad_reason_str(why), rx->lid);
		return;
	}
	h = find_handler(p, &req);
	if (ias_secmgt_init_response(&req, h && h->resp_attr ? h->resp_attr : req.attr_id, &resp))
		return;
	memset(&from, 0, sizeof(from));
	from.lid = rx->lid;
	if (rx->has_grh) {
		from.has_gid = 1;
		memcpy(from.gid, rx->gid, 16);
	}
	resp.status = h ? h->serve(h->ctx, &req, &from, &resp) : IAS_STATUS_METHOD_ATTR_UNSUPP;
	if (resp.status)
		memset(&resp.u, 0, sizeof(resp.u));
	memset(out, 0, sizeof(out));
	if (ias_secmgt_encode(&resp, &p->auth.kr, now_ms(), out)) {
		log_err("encoding a response failed");
		return;
	}
	ias_umad_reply(u, rx, out);
}

/* ---- the agent's own requests --------------------------------------------- */

/* Send the try e stands for (its TID is fresh). */
static int req_send(struct mad_port *p, struct ias_pend_ent *e)
{
	struct mad_req *r = e->data;
	uint8_t mad[IAS_MAD_SIZE];
	int rc;

	r->msg.tid = e->tid;
	memset(mad, 0, sizeof(mad));
	rc = ias_secmgt_encode(&r->msg, &p->auth.kr, now_ms(), mad);
	if (rc)
		return rc;
	e->nonce = r->msg.nonce;
	if (ias_umad_send(p->u, 0, r->to.lid, r->to.has_gid ? r->to.gid : NULL, mad,
			  (unsigned)p->s->cfg.mad_timeout) < 0)
		log_debug("send to LID %u failed (try %u)", r->to.lid, e->tries);
	return 0;
}

static void req_finish(struct mad_port *p, struct ias_pend_ent *e,
		       const struct ias_secmgt_msg *resp)
{
	struct mad_req *r = e->data;

	ias_umad_untrack(p->u, e);
	r->done(p->s, r->ctx, &r->to, resp);
	free(r);
}

static void on_expired(void *ctx, struct ias_umad *u, struct ias_pend_ent *e)
{
	struct mad_port *p = ctx;
	struct mad_req *r = e->data;
	const struct sema_config *c = &p->s->cfg;

	if (e->tries <= c->mad_retries) {
		ias_umad_retry(u, e, c->mad_timeout);
		if (req_send(p, e) == 0)
			return;
	}
	log_info("LID %u did not answer %u tries", r->to.lid, e->tries);
	req_finish(p, e, NULL);
}

int mad_port_request(struct mad_port *p, const struct mad_dest *to,
		     const struct ias_secmgt_msg *req, mad_done_fn done, void *ctx)
{
	struct ias_pend_ent *e;
	struct mad_req *r;
	int rc;

	if (!p || !ias_umad_attached(p->u))
		return -ENODEV;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->msg = *req;
	r->to = *to;
	r->done = done;
	r->ctx = ctx;
	e = ias_umad_track(p->u, REQ_KIND, to->lid, p->s->cfg.mad_timeout);
	if (!e) {
		free(r);
		return -EBUSY;
	}
	e->data = r;
	rc = req_send(p, e);
	if (rc) {
		ias_umad_untrack(p->u, e);
		free(r);
	}
	return rc;
}

static void on_response(void *ctx, struct ias_umad *u, const struct ias_umad_rx *rx)
{
	struct mad_port *p = ctx;
	struct ias_secmgt_msg resp;
	enum ias_mad_reason why;
	struct ias_pend_ent *e;

	why = ias_secmgt_decode(rx->mad, rx->len, &p->auth.kr, p->auth.rp, now_ms(), &resp);
	if (why != IAS_MAD_OK) {
		ias_umad_refused(u, ias_mad_reason_str(why), rx->lid);
		return;
	}
	if (resp.method != IAS_METHOD_GET_RESP && resp.method != IAS_METHOD_REPORT_RESP)
		return;
	e = ias_umad_find(u, ias_mad_tid32(resp.tid));
	if (!e || e->nonce != resp.echo_nonce)
		return;	/* late answer to an earlier try, or not ours */
	req_finish(p, e, &resp);
}

const char *mad_port_ca(const struct mad_port *p)
{
	return p && ias_umad_attached(p->u) ? ias_umad_port(p->u)->ca : NULL;
}

uint64_t mad_port_guid(const struct mad_port *p)
{
	return p && p->u ? ias_umad_port(p->u)->port_guid : 0;
}

uint64_t mad_port_node_guid(const struct mad_port *p)
{
	return p && p->u ? ias_umad_port(p->u)->node_guid : 0;
}

uint16_t mad_port_lid(struct mad_port *p)
{
	return p && p->u ? ias_umad_port(p->u)->lid : 0;
}

unsigned mad_port_pending(const struct mad_port *p)
{
	return p ? (unsigned)ias_umad_pending(p->u, IAS_PEND_ANY) : 0;
}

static void on_attach(void *ctx, struct ias_umad *u)
{
	struct mad_port *p = ctx;

	p->u = u;
}

int mad_port_start(struct sema *s, const struct mad_handler *table, size_t n,
		   struct mad_port **out)
{
	struct mad_port *p = calloc(1, sizeof(*p));
	struct ias_umad_ops ops = {
		.who = "agent",
		.where = { s->cfg.umad_ca, s->cfg.umad_port, s->cfg.simulated_fabric, s->cfg.port_retry },
		.gid_index = s->cfg.gid_index,
		/* Report requests are the manager's to serve, not the agent's:
		 * the kernel allows one agent per method on a port. */
		.serve_methods = (1u << IAS_METHOD_GET) | (1u << IAS_METHOD_SET),
		.max_pending = MAX_PENDING,
		.rejected = &s->stats.mads_rejected,
		.ctx = p,
		.on_request = on_request,
		.on_response = on_response,
		.on_expired = on_expired,
		.on_attach = on_attach,
	};
	uint32_t bad = 0;
	int r;

	if (!p)
		return -ENOMEM;
	p->s = s;
	p->handlers = table;
	p->nhandlers = n;
	r = ias_secmgt_auth_init(&p->auth, s->keys, s->nkeys, s->cfg.replay_window, &bad);
	if (r) {
		if (bad)
			log_err("key %u: %s", bad, strerror(-r));
		free(p);
		return r;
	}
	r = ias_umad_start(s->ev, &ops, &p->u);
	if (r) {
		ias_secmgt_auth_wipe(&p->auth);
		free(p);
		return r;
	}
	*out = p;
	return 0;
}

void mad_port_stop(struct mad_port *p)
{
	struct ias_pend_ent *e;

	if (!p)
		return;
	while (p->u && (e = ias_umad_first(p->u))) {
		free(e->data);
		ias_umad_untrack(p->u, e);
	}
	ias_umad_stop(p->u);
	ias_secmgt_auth_wipe(&p->auth);
	free(p);
}

void mad_port_describe(struct mad_port *p, char *buf, size_t len)
{
	ias_umad_describe(p ? p->u : NULL, buf, len);
}
