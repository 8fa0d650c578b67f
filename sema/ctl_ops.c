/* See ctl_ops.h. The agent's side of the control socket: its handlers,
 * the events it sends, and what a closing client leaves behind. The
 * transport (accept, credentials, the validation order, dispatch, error
 * replies) is ctl/server.c, shared with the manager. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "sema/ctl_ops.h"
#include "sema/ctl_ops_int.h"
#include "ctl/proto.h"
#include "ctl/server.h"
#include "sema/crash.h"
#include "sema/engine.h"
#include "sema/kobsfeed.h"
#include "sema/mad_port.h"
#include "sema/policy.h"
#include "sema/procinfo.h"
#include "sema/uow.h"

struct ctl_server {
	struct ctlsrv *srv;
	struct sema *s;
	uint8_t ev[4096];	/* events built while a reply is in the transport's buffer */
};

void ctl_put_block(struct ias_ctl_msg *m, const struct ias_block_rec *b)
{
	char mech[32], shown[48];
	uint32_t i;

	ias_ctl_nest_begin(m, IAS_CTL_A_BLOCK);
	ias_ctl_put_u64(m, IAS_CTL_A_BLOCK_ID, (uint64_t)b->id);
	ias_ctl_put_str(m, IAS_CTL_A_ORIGIN, b->origin);
	ias_ctl_put_str(m, IAS_CTL_A_NODE, b->node);
	ias_ctl_put_u32(m, IAS_CTL_A_PID, (uint32_t)b->pid);
	ias_ctl_put_u32(m, IAS_CTL_A_UID, b->uid);
	ias_ctl_put_str(m, IAS_CTL_A_COMM, b->comm);
	ias_ctl_put_str(m, IAS_CTL_A_EXE, b->exe);
	for (i = 0; i < b->nqps; i++)
		ias_ctl_put_u32(m, IAS_CTL_A_QPN, b->qpns[i]);
	ias_ctl_put_str(m, IAS_CTL_A_REASON, b->reason);
	ias_ctl_put_str(m, IAS_CTL_A_INCIDENT_ID, b->incident);
	ias_mech_str(b->mech, b->qp_orders, mech, sizeof(mech));
	if (b->simulated)
		snprintf(shown, sizeof(shown), "dry-run:%s", mech);
	else
		snprintf(shown, sizeof(shown), "%s", mech);
	ias_ctl_put_str(m, IAS_CTL_A_MECHANISM, shown);
	ias_ctl_put_u64(m, IAS_CTL_A_CREATED_MS, (uint64_t)b->created_ms);
	ias_ctl_put_u64(m, IAS_CTL_A_UNTIL_MS, (uint64_t)b->until_ms);
	ias_ctl_put_u64(m, IAS_CTL_A_RELEASED_MS, (uint64_t)b->released_ms);
	ias_ctl_put_u32(m, IAS_CTL_A_OFFENCE, b->offence);
	ias_ctl_put_u8(m, IAS_CTL_A_SIMULATED, (uint8_t)!!b->simulated);
	if (b->release_note[0])
		ias_ctl_put_str(m, IAS_CTL_A_RELEASE_NOTE, b->release_note);
	ias_ctl_nest_end(m);
}

void ctl_put_policy(struct ias_ctl_msg *m, const struct ias_policy *p)
{
	ias_ctl_nest_begin(m, IAS_CTL_A_POLICY);
	ias_ctl_put_str(m, IAS_CTL_A_LEVEL, ias_level_name(p->level));
	ias_ctl_put_str(m, IAS_CTL_A_BLOCK_MODE, ias_mode_name(p->block_mode));
	ias_ctl_put_u8(m, IAS_CTL_A_DRY_RUN, (uint8_t)!!p->dry_run);
	ias_ctl_put_u32(m, IAS_CTL_A_BASE_DURATION_S, (uint32_t)(p->base_duration_ms / 1000));
	ias_ctl_put_u32(m, IAS_CTL_A_MAX_DURATION_S, (uint32_t)(p->max_duration_ms / 1000));
	ias_ctl_put_u32(m, IAS_CTL_A_ESCALATION, (uint32_t)p->escalation);
	ias_ctl_put_u32(m, IAS_CTL_A_HOP_LIMIT, (uint32_t)p->hop_limit);
	ias_ctl_put_u32(m, IAS_CTL_A_FANOUT_LIMIT, (uint32_t)p->fanout_limit);
	ias_ctl_put_u32(m, IAS_CTL_A_POLICY_VERSION, p->version);
	ias_ctl_nest_end(m);
}

int ctl_get_str(struct ctlsrv_req *x, const struct ias_ctl_attr *a, char *out, size_t len)
{
	if (ias_ctl_get_str(a, out, len))
		return ctlsrv_fail(x, IAS_CTL_E_INVAL, "%s: not a valid string of at most %zu bytes",
			    ias_ctl_attr_name(a->type), len - 1);
	return 0;
}

/* ---- handlers ---------------------------------------------------------------- */

static int op_status(struct ctlsrv_req *x)
{
	struct sema *s = x->ctx;
	struct engine_counts n;
	uint32_t nalerts = 0;
	char port[128], ver[64];

	if (engine_counts(s, &n) < 0 || ias_store_alert_count(s->store, &nalerts) < 0)
		return ctlsrv_fail(x, IAS_CTL_E_INTERNAL, "store: %s", ias_store_errmsg(s->store));
	mad_port_describe(s->mad, port, sizeof(port));
	snprintf(ver, sizeof(ver), "sema %s", PACKAGE_VERSION);
	ias_ctl_nest_begin(x->rep, IAS_CTL_A_STATUS);
	ias_ctl_put_str(x->rep, IAS_CTL_A_AGENT_VERSION, ver);
	ias_ctl_put_str(x->rep, IAS_CTL_A_NODE, s->cfg.node_name);
	ias_ctl_put_u64(x->rep, IAS_CTL_A_UPTIME_S, (uint64_t)(sema_now_ms() - s->started_ms) / 1000);
	ias_ctl_put_u32(x->rep, IAS_CTL_A_BLOCKS_ACTIVE, n.blocks_active);
	ias_ctl_put_u32(x->rep, IAS_CTL_A_BLOCKS_TOTAL, n.blocks_total);
	ias_ctl_put_u32(x->rep, IAS_CTL_A_QPS_BLOCKED, (uint32_t)qpt_count_blocked(&s->qps));
	ias_ctl_put_u32(x->rep, IAS_CTL_A_QPS_KNOWN, (uint32_t)s->qps.n);
	ias_ctl_put_u32(x->rep, IAS_CTL_A_INCIDENTS, n.incidents);
	ias_ctl_put_u32(x->rep, IAS_CTL_A_ALERTS_PENDING, nalerts);
	ias_ctl_put_str(x->rep, IAS_CTL_A_PORT_STATE, port);
	ias_ctl_put_str(x->rep, IAS_CTL_A_STATE,
			s->store_failed ? "not ready: the store cannot commit" : "ready");
	ias_ctl_put_u64(x->rep, IAS_CTL_A_MADS_REJECTED, s->stats.mads_rejected);
	ias_ctl_put_u64(x->rep, IAS_CTL_A_TRACES_REFUSED, s->stats.traces_refused);
	ias_ctl_put_str(x->rep, IAS_CTL_A_KERNEL_OBS, kobsfeed_state(s));
	ias_ctl_put_u8(x->rep, IAS_CTL_A_DRY_RUN, (uint8_t)!!s->policy.dry_run);
	ctl_put_policy(x->rep, &s->policy);
	ias_ctl_nest_end(x->rep);
	return 0;
}

/* The test-only "reply" crash point: once the reply has left (the next
 * reactor iteration after the handler returned). */
static int crash_reply_cb(sd_event_source *src, void *arg)
{
	(void)src;
	(void)arg;
	sema_crash_point("reply");
	return 0;
}

static void crash_after_reply(struct sema *s)
{
	const char *at = getenv("IAS_TEST_CRASH_AT");

	if (at && strcmp(at, "reply") == 0)
		sd_event_add_defer(s->ev, NULL, crash_reply_cb, NULL);
}

static int op_report(struct ctlsrv_req *x)
{
	struct sema *s = x->ctx;
	struct report_req rq = { .actor = x->actor };
	struct ias_block_rec rec;
	struct sema_uow u;
	char err[320];
	struct ias_ctl_attr a;
	char reason[IAS_CTL_REASON_MAX + 1] = "";
	char incident[IAS_CTL_INCIDENT_ID_MAX + 1] = "";
	uint32_t pid = 0;
	uint8_t ov = 0;
	int r;

	while ((r = ias_ctl_next(&x->attrs, &a)) > 0) {
		if (a.type == IAS_CTL_A_PID)
			ias_ctl_get_u32(&a, &pid);
		else if (a.type == IAS_CTL_A_INCIDENT_ID &&
			 ctl_get_str(x, &a, incident, sizeof(incident)))
			return IAS_CTL_E_INVAL;
		else if (a.type == IAS_CTL_A_REASON && ctl_get_str(x, &a, reason, sizeof(reason)))
			return IAS_CTL_E_INVAL;
		else if (a.type == IAS_CTL_A_OVERRIDE)
			ias_ctl_get_u8(&a, &ov);
		else if (a.type == IAS_CTL_A_DURATION_S)
			ias_ctl_get_u32(&a, &rq.duration_s);
	}
	if (pid == 0 || pid > 0x7fffffff)
		return ctlsrv_fail(x, IAS_CTL_E_INVAL, "PID must be a positive process id");
	rq.pid = (pid_t)pid;
	rq.reason = reason;
	rq.incident = incident[0] ? incident : NULL;
	rq.override = ov;
	rq.origin = strcmp(x->cl->comm, "iasctl") == 0 ? "manual" : "analyzer";
	/* One unit of work: rows written, enforced and the first traces sent,
	 * then the commit; the reply (and the alert, the log line) only after
	 * it. A failed commit undoes the enforcement and claims no block. */
	rq.trace_on = true;
	if (uow_begin(s, &u, err, sizeof(err)) < 0)
		return ctlsrv_fail(x, IAS_CTL_E_INTERNAL, "not recorded, nothing blocked: %s", err);
	r = engine_report(s, &u, &rq, &rec, x->msg, sizeof(x->msg));
	if (r < 0) {
		uow_abort(&u);
	} else if (uow_commit(&u, err, sizeof(err)) < 0) {
		log_err("PID %d: %s", (int)rq.pid, err);
		return ctlsrv_fail(x, IAS_CTL_E_INTERNAL, "%s", err);
	}
	if (r >= 0)
		crash_after_reply(s);
	switch (r) {
	case 0:
	case 1:
	case 2:
		ctl_put_block(x->rep, &rec);
		ias_ctl_put_str(x->rep, IAS_CTL_A_INCIDENT_ID, rec.incident);
		return 0;
	case -ESRCH:
		return IAS_CTL_E_NOENT;
	case -EACCES:
		return IAS_CTL_E_NEVERBLOCK;
	default:
		return IAS_CTL_E_INTERNAL;
	}
}

static int op_get_attack_pid(struct ctlsrv_req *x)
{
	struct sema *s = x->ctx;
	struct ias_alert_rec al;
	int r = ias_store_alert_pop(s->store, &al);

	if (r == -ENOENT)
		return ctlsrv_fail(x, IAS_CTL_E_AGAIN, "no alert is pending");
	if (r < 0)
		return ctlsrv_fail(x, IAS_CTL_E_INTERNAL, "store: %s", ias_store_errmsg(s->store));
	ias_ctl_put_u32(x->rep, IAS_CTL_A_PID, (uint32_t)al.pid);
	ias_ctl_put_str(x->rep, IAS_CTL_A_INCIDENT_ID, al.incident);
	ias_ctl_put_str(x->rep, IAS_CTL_A_REASON, al.reason);
	return 0;
}

static void released_cb(const struct ias_block_rec *rec, void *arg)
{
	ctl_put_block(arg, rec);
}

static int op_release(struct ctlsrv_req *x)
{
	struct sema *s = x->ctx;
	struct release_sel sel = { 0 };
	char incident[IAS_CTL_INCIDENT_ID_MAX + 1] = "";
	struct ias_ctl_attr a;
	uint64_t id = 0;
	uint32_t pid = 0;
	uint8_t dry = 0;
	int r;

	while ((r = ias_ctl_next(&x->attrs, &a)) > 0) {
		if (a.type == IAS_CTL_A_PID)
			ias_ctl_get_u32(&a, &pid);
		else if (a.type == IAS_CTL_A_BLOCK_ID)
			ias_ctl_get_u64(&a, &id);
		else if (a.type == IAS_CTL_A_INCIDENT_ID && ctl_get_str(x, &a, incident, sizeof(incident)))
			return IAS_CTL_E_INVAL;
		else if (a.type == IAS_CTL_A_DRY_RUN)
			ias_ctl_get_u8(&a, &dry);
	}
	if (pid > 0x7fffffff || id > INT64_MAX)
		return ctlsrv_fail(x, IAS_CTL_E_INVAL, "selector out of range");
	sel.pid = (pid_t)pid;
	sel.block_id = (int64_t)id;
	sel.incident = incident[0] ? incident : NULL;
	if (!sel.pid && !sel.block_id && !sel.incident)
		return ctlsrv_fail(x, IAS_CTL_E_INVAL, "name a PID, a block id or an incident");
	r = engine_release(s, &sel, dry, x->actor, released_cb, x->rep);
	if (r == -ENOENT)
		return ctlsrv_fail(x, IAS_CTL_E_NOENT, "no active block matches");
	if (r == -EALREADY)
		return ctlsrv_fail(x, IAS_CTL_E_NOENT, "block %llu is already released",
			    (unsigned long long)id);
	if (r < 0)
		return ctlsrv_fail(x, IAS_CTL_E_INTERNAL, "store: %s", ias_store_errmsg(s->store));
	ias_ctl_put_u32(x->rep, IAS_CTL_A_COUNT, (uint32_t)r);
	return 0;
}

static int op_subscribe(struct ctlsrv_req *x)
{
	x->cl->subscribed = 1;
	return 0;
}

static const struct ctlsrv_handler handlers[] = {
	{ IAS_CTL_OP_STATUS, op_status },
	{ IAS_CTL_OP_REPORT_ATTACK, op_report },
	{ IAS_CTL_OP_GET_ATTACK_PID, op_get_attack_pid },
	{ IAS_CTL_OP_RELEASE, op_release },
	{ IAS_CTL_OP_SUBSCRIBE, op_subscribe },
	{ IAS_CTL_OP_QP_REGISTER, op_qp_register },
	{ IAS_CTL_OP_QP_UPDATE, op_qp_update },
	{ IAS_CTL_OP_QP_UNREGISTER, op_qp_unregister },
	{ IAS_CTL_OP_QPS_LIST, op_qps_list },
	{ IAS_CTL_OP_BLOCKS_LIST, op_blocks_list },
	{ IAS_CTL_OP_BLOCK_INSPECT, op_block_inspect },
	{ IAS_CTL_OP_INCIDENTS_LIST, op_incidents_list },
	{ IAS_CTL_OP_INCIDENT_SHOW, op_incident_show },
	{ IAS_CTL_OP_ALLOW_LIST, op_allow_list },
	{ IAS_CTL_OP_ALLOW_ADD, op_allow_add },
	{ IAS_CTL_OP_ALLOW_REMOVE, op_allow_remove },
	{ IAS_CTL_OP_POLICY_SHOW, op_policy_show },
	{ IAS_CTL_OP_POLICY_SET, op_policy_set },
	{ IAS_CTL_OP_REPORT_QP, op_report_qp },
};

/* ---- transport (ctl/server.c) and events ------------------------------------ */

static void on_error(void *ctx, int status)
{
	struct sema *s = ctx;

	s->stats.requests_rejected += status != IAS_CTL_E_AGAIN;
}

static void on_close(void *ctx, struct ctlsrv_client *cl)
{
	struct sema *s = ctx;
	size_t dropped = qpt_drop_client(&s->qps, cl->id);

	if (dropped)
		log_debug("PID %d disconnected: %zu QP registration(s) dropped",
			  (int)cl->cred.pid, dropped);
}

int ctl_server_start(struct sema *s, const char *path, int listen_fd, struct ctl_server **out)
{
	struct ctlsrv_conf conf = {
		.ev = s->ev,
		.ctx = s,
		.handlers = handlers,
		.nhandlers = sizeof(handlers) / sizeof(handlers[0]),
		.control_gid = s->control_gid,
		.max_clients = s->cfg.max_clients,
		.max_clients_per_user = s->cfg.max_clients_per_user,
		.reserved_clients = s->cfg.reserved_clients,
		.perm_msg = "this request needs root or membership of the agent's control group",
		.unknown_op_msg = "op not served by this agent",
		.reply_toobig_msg = "the reply does not fit in one message: narrow it (--pid, --incident)",
		.log_group = s->cfg.control_group,
		.on_error = on_error,
		.on_close = on_close,
	};
	struct ctl_server *c = calloc(1, sizeof(*c));
	int r;

	if (!c)
		return -ENOMEM;
	c->s = s;
	r = ctlsrv_start(&conf, path, listen_fd, &c->srv);
	if (r) {
		free(c);
		return r;
	}
	*out = c;
	return 0;
}

void ctl_server_stop(struct ctl_server *c)
{
	if (!c)
		return;
	ctlsrv_stop(c->srv);
	free(c);
}

unsigned ctl_server_clients(const struct ctl_server *c)
{
	return c ? ctlsrv_nclients(c->srv) : 0;
}

struct ctlsrv_client *ctl_server_client(struct ctl_server *c, uint64_t id)
{
	return c ? ctlsrv_find(c->srv, id) : NULL;
}

void ctl_broadcast_alert(struct ctl_server *c, const struct ias_alert_rec *a,
			 const char *node, const char *origin)
{
	struct ias_ctl_msg m;
	struct ctlsrv_client *cl;

	if (!c)
		return;
	ias_ctl_msg_init(&m, c->ev, sizeof(c->ev), IAS_CTL_EVENT, IAS_CTL_EV_ALERT, 0, 0);
	ias_ctl_put_u32(&m, IAS_CTL_A_PID, (uint32_t)a->pid);
	ias_ctl_put_str(&m, IAS_CTL_A_INCIDENT_ID, a->incident);
	ias_ctl_put_str(&m, IAS_CTL_A_REASON, a->reason);
	ias_ctl_put_str(&m, IAS_CTL_A_NODE, node);
	ias_ctl_put_str(&m, IAS_CTL_A_ORIGIN, origin);
	ias_ctl_put_u64(&m, IAS_CTL_A_TS_MS, (uint64_t)a->created_ms);
	if (ias_ctl_msg_finish(&m))
		return;
	for (cl = ctlsrv_next(c->srv, NULL); cl; cl = ctlsrv_next(c->srv, cl))
		if (cl->subscribed)
			ctlsrv_send(cl, m.buf, m.len);
}

int ctl_send_order(struct ctl_server *c, uint64_t client_id, uint32_t qpn,
		   const char *device, const char *action)
{
	struct ias_ctl_msg m;
	struct ctlsrv_client *cl;
	uint8_t buf[256];

	cl = ctl_server_client(c, client_id);
	if (!cl)
		return -ENOENT;
	ias_ctl_msg_init(&m, buf, sizeof(buf), IAS_CTL_EVENT, IAS_CTL_EV_QP_ORDER, 0, 0);
	ias_ctl_put_u32(&m, IAS_CTL_A_QPN, qpn);
	ias_ctl_put_str(&m, IAS_CTL_A_DEVICE, device);
	ias_ctl_put_str(&m, IAS_CTL_A_ACTION, action);
	if (ias_ctl_msg_finish(&m))
		return -ENOSPC;
	ctlsrv_send(cl, m.buf, m.len);
	return 0;
}
