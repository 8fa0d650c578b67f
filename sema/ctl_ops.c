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
#include "ctl/proto.h"
#include "ctl/server.h"
#include "sema/crash.h"
#include "sema/engine.h"
#include "sema/mad_port.h"
#include "sema/policy.h"
#include "sema/procinfo.h"
#include "sema/uow.h"

struct ctl_server {
	struct ctlsrv *srv;
	struct sema *s;
	uint8_t ev[4096];	/* events built while a reply is in the transport's buffer */
};

static void put_block(struct ias_ctl_msg *m, const struct ias_block_rec *b)
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

static void put_policy(struct ias_ctl_msg *m, const struct ias_policy *p)
{
	ias_ctl_nest_begin(m, IAS_CTL_A_POLICY);
	ias_ctl_put_str(m, IAS_CTL_A_LEVEL, policy_level_names[p->level]);
	ias_ctl_put_str(m, IAS_CTL_A_BLOCK_MODE, policy_mode_names[p->block_mode]);
	ias_ctl_put_u8(m, IAS_CTL_A_DRY_RUN, (uint8_t)!!p->dry_run);
	ias_ctl_put_u32(m, IAS_CTL_A_BASE_DURATION_S, (uint32_t)(p->base_duration_ms / 1000));
	ias_ctl_put_u32(m, IAS_CTL_A_MAX_DURATION_S, (uint32_t)(p->max_duration_ms / 1000));
	ias_ctl_put_u32(m, IAS_CTL_A_ESCALATION, (uint32_t)p->escalation);
	ias_ctl_put_u32(m, IAS_CTL_A_HOP_LIMIT, (uint32_t)p->hop_limit);
	ias_ctl_put_u32(m, IAS_CTL_A_FANOUT_LIMIT, (uint32_t)p->fanout_limit);
	ias_ctl_put_u32(m, IAS_CTL_A_POLICY_VERSION, p->version);
	ias_ctl_nest_end(m);
}

static int get_str(struct ctlsrv_req *x, const struct ias_ctl_attr *a, char *out, size_t len)
{
	if (ias_ctl_get_str(a, out, len))
		return ctlsrv_fail(x, IAS_CTL_E_INVAL, "%s: not a valid string of at most %zu bytes",
			    ias_ctl_attr_name(a->type), len - 1);
	return 0;
}

/* ---- handlers ---------------------------------------------------------------- */

static int count_cb(const struct ias_block_rec *rec, void *arg)
{
	(void)rec;
	(*(uint32_t *)arg)++;
	return 0;
}

static int count_inc_cb(const struct ias_incident_rec *rec, void *arg)
{
	(void)rec;
	(*(uint32_t *)arg)++;
	return 0;
}

static int op_status(struct ctlsrv_req *x)
{
	struct sema *s = x->ctx;
	struct ias_block_filter active = { 0 }, all = { .include_released = 1 };
	uint32_t nactive = 0, ntotal = 0, ninc = 0, nalerts = 0;
	char port[128], ver[64];

	if (ias_store_blocks_foreach(s->store, &active, count_cb, &nactive) < 0 ||
	    ias_store_blocks_foreach(s->store, &all, count_cb, &ntotal) < 0 ||
	    ias_store_incidents_foreach(s->store, count_inc_cb, &ninc) < 0 ||
	    ias_store_alert_count(s->store, &nalerts) < 0)
		return ctlsrv_fail(x, IAS_CTL_E_INTERNAL, "store: %s", ias_store_errmsg(s->store));
	mad_port_describe(s->mad, port, sizeof(port));
	snprintf(ver, sizeof(ver), "sema %s", PACKAGE_VERSION);
	ias_ctl_nest_begin(x->rep, IAS_CTL_A_STATUS);
	ias_ctl_put_str(x->rep, IAS_CTL_A_AGENT_VERSION, ver);
	ias_ctl_put_str(x->rep, IAS_CTL_A_NODE, s->cfg.node_name);
	ias_ctl_put_u64(x->rep, IAS_CTL_A_UPTIME_S, (uint64_t)(sema_now_ms() - s->started_ms) / 1000);
	ias_ctl_put_u32(x->rep, IAS_CTL_A_BLOCKS_ACTIVE, nactive);
	ias_ctl_put_u32(x->rep, IAS_CTL_A_BLOCKS_TOTAL, ntotal);
	ias_ctl_put_u32(x->rep, IAS_CTL_A_QPS_BLOCKED, (uint32_t)qpt_count_blocked(&s->qps));
	ias_ctl_put_u32(x->rep, IAS_CTL_A_QPS_KNOWN, (uint32_t)s->qps.n);
	ias_ctl_put_u32(x->rep, IAS_CTL_A_INCIDENTS, ninc);
	ias_ctl_put_u32(x->rep, IAS_CTL_A_ALERTS_PENDING, nalerts);
	ias_ctl_put_str(x->rep, IAS_CTL_A_PORT_STATE, port);
	ias_ctl_put_str(x->rep, IAS_CTL_A_STATE,
			s->store_failed ? "not ready: the store cannot commit" : "ready");
	ias_ctl_put_u64(x->rep, IAS_CTL_A_MADS_REJECTED, s->stats.mads_rejected);
	ias_ctl_put_u8(x->rep, IAS_CTL_A_DRY_RUN, (uint8_t)!!s->policy.dry_run);
	put_policy(x->rep, &s->policy);
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
			 get_str(x, &a, incident, sizeof(incident)))
			return IAS_CTL_E_INVAL;
		else if (a.type == IAS_CTL_A_REASON && get_str(x, &a, reason, sizeof(reason)))
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
		put_block(x->rep, &rec);
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
	put_block(arg, rec);
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
		else if (a.type == IAS_CTL_A_INCIDENT_ID && get_str(x, &a, incident, sizeof(incident)))
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

struct qp_args {
	uint32_t qpn, port, remote_lid, remote_qpn;
	uint8_t type, state, sim;
	uint8_t gid[16];
	int has_qpn, has_type, has_state, has_port, has_remote;
	char device[IAS_CTL_DEVICE_MAX + 1];
	char peer[IAS_CTL_PEER_MAX + 1];
	struct qpt_dest dest[QPT_UD_HISTORY];
	unsigned ndest;
};

static int parse_dest(struct ctlsrv_req *x, const struct ias_ctl_attr *a, struct qpt_dest *d)
{
	struct ias_ctl_attr in;
	struct ias_rd r;

	memset(d, 0, sizeof(*d));
	ias_ctl_attr_nested(a, &r);
	while (ias_ctl_next(&r, &in) > 0) {
		if (in.type == IAS_CTL_A_REMOTE_LID)
			ias_ctl_get_u32(&in, &d->lid);
		else if (in.type == IAS_CTL_A_REMOTE_QPN)
			ias_ctl_get_u32(&in, &d->qpn);
		else if (in.type == IAS_CTL_A_REMOTE_GID)
			ias_ctl_get_bytes(&in, d->gid, 16);
	}
	if (d->qpn > 0xffffff)
		return ctlsrv_fail(x, IAS_CTL_E_INVAL, "destination QPN 0x%x is not 24-bit", d->qpn);
	d->seen_ms = sema_now_ms();
	return 0;
}

static int parse_qp_args(struct ctlsrv_req *x, struct qp_args *q)
{
	struct ias_ctl_attr a;

	memset(q, 0, sizeof(*q));
	while (ias_ctl_next(&x->attrs, &a) > 0) {
		switch (a.type) {
		case IAS_CTL_A_QPN: ias_ctl_get_u32(&a, &q->qpn); q->has_qpn = 1; break;
		case IAS_CTL_A_QP_TYPE: ias_ctl_get_u8(&a, &q->type); q->has_type = 1; break;
		case IAS_CTL_A_QP_STATE: ias_ctl_get_u8(&a, &q->state); q->has_state = 1; break;
		case IAS_CTL_A_PORT: ias_ctl_get_u32(&a, &q->port); q->has_port = 1; break;
		case IAS_CTL_A_REMOTE_LID: ias_ctl_get_u32(&a, &q->remote_lid); q->has_remote = 1; break;
		case IAS_CTL_A_REMOTE_QPN: ias_ctl_get_u32(&a, &q->remote_qpn); q->has_remote = 1; break;
		case IAS_CTL_A_REMOTE_GID: ias_ctl_get_bytes(&a, q->gid, 16); q->has_remote = 1; break;
		case IAS_CTL_A_SIMULATED: ias_ctl_get_u8(&a, &q->sim); break;
		case IAS_CTL_A_DEVICE:
			if (get_str(x, &a, q->device, sizeof(q->device)))
				return IAS_CTL_E_INVAL;
			break;
		case IAS_CTL_A_PEER:
			if (get_str(x, &a, q->peer, sizeof(q->peer)))
				return IAS_CTL_E_INVAL;
			break;
		case IAS_CTL_A_DEST:
			if (q->ndest == QPT_UD_HISTORY)
				return ctlsrv_fail(x, IAS_CTL_E_INVAL, "at most %d destinations per request",
					    QPT_UD_HISTORY);
			if (parse_dest(x, &a, &q->dest[q->ndest++]))
				return IAS_CTL_E_INVAL;
			break;
		default:
			break;
		}
	}
	if (!q->has_qpn || !q->device[0])
		return ctlsrv_fail(x, IAS_CTL_E_INVAL, "QPN and DEVICE are required");
	if (q->qpn == 0 || q->qpn > 0xffffff || q->remote_qpn > 0xffffff)
		return ctlsrv_fail(x, IAS_CTL_E_INVAL, "QPNs are 24-bit and non-zero");
	if (q->has_state && q->state > 6)
		return ctlsrv_fail(x, IAS_CTL_E_INVAL, "QP state %u is not a QP state", q->state);
	if (q->remote_lid > 0xffff)
		return ctlsrv_fail(x, IAS_CTL_E_INVAL, "LID %u is out of range", q->remote_lid);
	return 0;
}

static void qp_apply_args(struct qpt_entry *e, const struct qp_args *q)
{
	unsigned i;

	if (q->has_type)
		e->type = q->type;
	if (q->has_state)
		e->state = q->state;
	if (q->has_port)
		e->port = q->port;
	if (q->has_remote) {
		e->has_remote = 1;
		e->remote_lid = q->remote_lid;
		e->remote_qpn = q->remote_qpn;
		memcpy(e->remote_gid, q->gid, 16);
	}
	for (i = 0; i < q->ndest; i++)
		qpt_add_dest(e, &q->dest[i]);
	if (q->peer[0])
		memcpy(e->peer, q->peer, sizeof(e->peer) < sizeof(q->peer) ? sizeof(e->peer) : sizeof(q->peer));
}

static int op_qp_register(struct ctlsrv_req *x)
{
	struct sema *s = x->ctx;
	struct qpt_entry *e;
	struct qp_args q;
	int r = parse_qp_args(x, &q);

	if (r)
		return r;
	if (q.sim && !s->cfg.simulated_fabric)
		return ctlsrv_fail(x, IAS_CTL_E_PERM,
			    "simulated QPs are accepted only when the agent runs with simulated_fabric = yes");
	if (!q.sim) {
		/* One exchange for this QP; the periodic scan does the rest. */
		engine_kernel_lookup(s, q.device, q.qpn);
		if (s->kernel_rdma) {
			e = qpt_find(&s->qps, q.device, q.qpn);
			if (!e || !(e->sources & QPT_SRC_KERNEL)) {
				s->stats.kernel_conflicts++;
				log_warn("PID %d registered QP %s/0x%x that the kernel does not report; refused",
					 (int)x->cl->cred.pid, q.device, q.qpn);
				return ctlsrv_fail(x, IAS_CTL_E_NOENT, "the kernel reports no QP 0x%x on %s",
					    q.qpn, q.device);
			}
			if (e->pid != x->cl->cred.pid) {
				s->stats.kernel_conflicts++;
				log_warn("PID %d registered QP %s/0x%x but the kernel says PID %d owns it; refused",
					 (int)x->cl->cred.pid, q.device, q.qpn, (int)e->pid);
				return ctlsrv_fail(x, IAS_CTL_E_PERM, "the kernel says QP 0x%x belongs to PID %d",
					    q.qpn, (int)e->pid);
			}
		}
	}
	e = qpt_find(&s->qps, q.device, q.qpn);
	if (e && e->client_id && e->client_id != x->cl->id && e->pid != x->cl->cred.pid)
		return ctlsrv_fail(x, IAS_CTL_E_EXIST, "QP 0x%x on %s is registered by PID %d",
			    q.qpn, q.device, (int)e->pid);
	if (!e && !(e = qpt_upsert(&s->qps, q.device, q.qpn)))
		return ctlsrv_fail(x, IAS_CTL_E_INTERNAL, "out of memory");
	e->pid = x->cl->cred.pid;
	e->client_id = x->cl->id;
	e->sources |= q.sim ? QPT_SRC_SIMULATED : QPT_SRC_LIBIAS;
	qp_apply_args(e, &q);
	log_debug("PID %d registered QP %s/0x%x%s", (int)e->pid, e->device, e->qpn,
		  q.sim ? " (simulated)" : "");
	engine_qp_appeared(s, e);
	return 0;
}

static struct qpt_entry *own_qp(struct ctlsrv_req *x, const struct qp_args *q, int *status)
{
	struct qpt_entry *e = qpt_find(&((struct sema *)x->ctx)->qps, q->device, q->qpn);

	*status = 0;
	if (!e || e->client_id != x->cl->id) {
		*status = ctlsrv_fail(x, IAS_CTL_E_NOENT, "QP 0x%x on %s is not registered on this connection",
			       q->qpn, q->device);
		return NULL;
	}
	return e;
}

static int op_qp_update(struct ctlsrv_req *x)
{
	struct qpt_entry *e;
	struct qp_args q;
	int r = parse_qp_args(x, &q);

	if (r)
		return r;
	e = own_qp(x, &q, &r);
	if (!e)
		return r;
	qp_apply_args(e, &q);
	return 0;
}

static int op_qp_unregister(struct ctlsrv_req *x)
{
	struct sema *s = x->ctx;
	struct qpt_entry *e;
	struct qp_args q;
	int r = parse_qp_args(x, &q);

	if (r)
		return r;
	e = own_qp(x, &q, &r);
	if (!e)
		return r;
	e->client_id = 0;
	e->sources &= ~(QPT_SRC_LIBIAS | QPT_SRC_SIMULATED);
	if (!e->sources)
		qpt_remove(&s->qps, q.device, q.qpn);
	return 0;
}

static int opt_pid(struct ctlsrv_req *x, uint32_t *pid)
{
	struct ias_ctl_attr a;

	*pid = 0;
	while (ias_ctl_next(&x->attrs, &a) > 0)
		if (a.type == IAS_CTL_A_PID)
			ias_ctl_get_u32(&a, pid);
	return 0;
}

static int op_qps_list(struct ctlsrv_req *x)
{
	struct sema *s = x->ctx;
	uint32_t pid;
	size_t i;

	opt_pid(x, &pid);
	engine_kernel_scan(s);
	for (i = 0; i < s->qps.n; i++) {
		const struct qpt_entry *e = &s->qps.e[i];
		struct proc_info pi;
		unsigned d;

		if (pid && (uint32_t)e->pid != pid)
			continue;
		proc_info_get(e->pid, &pi);
		ias_ctl_nest_begin(x->rep, IAS_CTL_A_QP);
		ias_ctl_put_u32(x->rep, IAS_CTL_A_QPN, e->qpn);
		ias_ctl_put_u8(x->rep, IAS_CTL_A_QP_TYPE, e->type);
		ias_ctl_put_u8(x->rep, IAS_CTL_A_QP_STATE, e->state);
		ias_ctl_put_u32(x->rep, IAS_CTL_A_PID, (uint32_t)e->pid);
		ias_ctl_put_str(x->rep, IAS_CTL_A_COMM, pi.comm);
		ias_ctl_put_str(x->rep, IAS_CTL_A_DEVICE, e->device);
		ias_ctl_put_u32(x->rep, IAS_CTL_A_PORT, e->port);
		if (e->has_remote) {
			ias_ctl_put_u32(x->rep, IAS_CTL_A_REMOTE_LID, e->remote_lid);
			ias_ctl_put_bytes(x->rep, IAS_CTL_A_REMOTE_GID, e->remote_gid, 16);
			ias_ctl_put_u32(x->rep, IAS_CTL_A_REMOTE_QPN, e->remote_qpn);
		}
		ias_ctl_put_str(x->rep, IAS_CTL_A_SOURCE, qpt_source_str(e->sources));
		if (e->peer[0])
			ias_ctl_put_str(x->rep, IAS_CTL_A_PEER, e->peer);
		ias_ctl_put_u8(x->rep, IAS_CTL_A_BLOCKED, (uint8_t)!!e->blocked);
		for (d = 0; d < e->ndest; d++) {
			ias_ctl_nest_begin(x->rep, IAS_CTL_A_DEST);
			ias_ctl_put_u32(x->rep, IAS_CTL_A_REMOTE_LID, e->dest[d].lid);
			ias_ctl_put_bytes(x->rep, IAS_CTL_A_REMOTE_GID, e->dest[d].gid, 16);
			ias_ctl_put_u32(x->rep, IAS_CTL_A_REMOTE_QPN, e->dest[d].qpn);
			ias_ctl_put_u64(x->rep, IAS_CTL_A_TS_MS, (uint64_t)e->dest[d].seen_ms);
			ias_ctl_nest_end(x->rep);
		}
		ias_ctl_nest_end(x->rep);
	}
	return 0;
}

static int put_block_cb(const struct ias_block_rec *rec, void *arg)
{
	put_block(arg, rec);
	return ((struct ias_ctl_msg *)arg)->err ? 1 : 0;
}

static int op_blocks_list(struct ctlsrv_req *x)
{
	struct sema *s = x->ctx;
	char incident[IAS_CTL_INCIDENT_ID_MAX + 1] = "";
	struct ias_block_filter f = { 0 };
	struct ias_ctl_attr a;
	uint32_t pid = 0;
	uint8_t all = 0;

	while (ias_ctl_next(&x->attrs, &a) > 0) {
		if (a.type == IAS_CTL_A_PID)
			ias_ctl_get_u32(&a, &pid);
		else if (a.type == IAS_CTL_A_ALL)
			ias_ctl_get_u8(&a, &all);
		else if (a.type == IAS_CTL_A_INCIDENT_ID && get_str(x, &a, incident, sizeof(incident)))
			return IAS_CTL_E_INVAL;
	}
	f.pid = (int32_t)pid;
	f.include_released = all;
	f.incident = incident[0] ? incident : NULL;
	if (ias_store_blocks_foreach(s->store, &f, put_block_cb, x->rep) < 0)
		return ctlsrv_fail(x, IAS_CTL_E_INTERNAL, "store: %s", ias_store_errmsg(s->store));
	return 0;
}

struct audit_ctx {
	struct ias_ctl_msg *m;
	char prefix[32];
};

static int audit_cb(int64_t ts, const char *actor, const char *action, const char *detail, void *arg)
{
	struct audit_ctx *c = arg;

	if (strncmp(detail, c->prefix, strlen(c->prefix)) != 0)
		return 0;
	ias_ctl_nest_begin(c->m, IAS_CTL_A_AUDIT);
	ias_ctl_put_u64(c->m, IAS_CTL_A_TS_MS, (uint64_t)ts);
	ias_ctl_put_str(c->m, IAS_CTL_A_ACTOR, actor);
	ias_ctl_put_str(c->m, IAS_CTL_A_ACTION, action);
	ias_ctl_put_str(c->m, IAS_CTL_A_DETAIL, detail);
	ias_ctl_nest_end(c->m);
	return 0;
}

static int op_block_inspect(struct ctlsrv_req *x)
{
	struct sema *s = x->ctx;
	struct audit_ctx ac = { .m = x->rep };
	struct ias_block_rec rec;
	struct ias_ctl_attr a;
	uint64_t id = 0;
	int r;

	while (ias_ctl_next(&x->attrs, &a) > 0)
		if (a.type == IAS_CTL_A_BLOCK_ID)
			ias_ctl_get_u64(&a, &id);
	if (id == 0 || id > INT64_MAX)
		return ctlsrv_fail(x, IAS_CTL_E_INVAL, "a block id is required");
	r = ias_store_block_get(s->store, (int64_t)id, &rec);
	if (r == -ENOENT)
		return ctlsrv_fail(x, IAS_CTL_E_NOENT, "no block %llu", (unsigned long long)id);
	if (r < 0)
		return ctlsrv_fail(x, IAS_CTL_E_INTERNAL, "store: %s", ias_store_errmsg(s->store));
	put_block(x->rep, &rec);
	snprintf(ac.prefix, sizeof(ac.prefix), "block %llu ", (unsigned long long)id);
	if (ias_store_audit_foreach(s->store, 0, audit_cb, &ac) < 0)
		return ctlsrv_fail(x, IAS_CTL_E_INTERNAL, "store: %s", ias_store_errmsg(s->store));
	return 0;
}

static void put_incident_fields(struct ias_ctl_msg *m, const struct ias_incident_rec *i)
{
	ias_ctl_put_str(m, IAS_CTL_A_INCIDENT_ID, i->id);
	ias_ctl_put_str(m, IAS_CTL_A_ORIGIN, i->origin);
	ias_ctl_put_str(m, IAS_CTL_A_NODE, i->node);
	ias_ctl_put_u64(m, IAS_CTL_A_OPENED_MS, (uint64_t)i->opened_ms);
	ias_ctl_put_u32(m, IAS_CTL_A_ROOT_PID, (uint32_t)i->root_pid);
	ias_ctl_put_str(m, IAS_CTL_A_REASON, i->reason);
	ias_ctl_put_str(m, IAS_CTL_A_STATE, i->state);
	ias_ctl_put_u64(m, IAS_CTL_A_CLOSED_MS, (uint64_t)i->closed_ms);
}

static int put_incident_cb(const struct ias_incident_rec *i, void *arg)
{
	struct ias_ctl_msg *m = arg;

	ias_ctl_nest_begin(m, IAS_CTL_A_INCIDENT);
	put_incident_fields(m, i);
	ias_ctl_nest_end(m);
	return m->err ? 1 : 0;
}

static int op_incidents_list(struct ctlsrv_req *x)
{
	struct sema *s = x->ctx;

	if (ias_store_incidents_foreach(s->store, put_incident_cb, x->rep) < 0)
		return ctlsrv_fail(x, IAS_CTL_E_INTERNAL, "store: %s", ias_store_errmsg(s->store));
	return 0;
}

static int put_event_cb(const struct ias_incident_event *e, void *arg)
{
	struct ias_ctl_msg *m = arg;

	ias_ctl_nest_begin(m, IAS_CTL_A_EVENT);
	ias_ctl_put_u64(m, IAS_CTL_A_TS_MS, (uint64_t)e->ts_ms);
	ias_ctl_put_str(m, IAS_CTL_A_NODE, e->node);
	ias_ctl_put_u32(m, IAS_CTL_A_PID, (uint32_t)e->pid);
	ias_ctl_put_u32(m, IAS_CTL_A_QPN, e->qpn);
	ias_ctl_put_str(m, IAS_CTL_A_KIND, e->kind);
	ias_ctl_put_str(m, IAS_CTL_A_TEXT, e->text);
	ias_ctl_nest_end(m);
	return m->err ? 1 : 0;
}

static int op_incident_show(struct ctlsrv_req *x)
{
	struct sema *s = x->ctx;
	char id[IAS_CTL_INCIDENT_ID_MAX + 1] = "";
	struct ias_incident_rec inc;
	struct ias_ctl_attr a;
	int r;

	while (ias_ctl_next(&x->attrs, &a) > 0)
		if (a.type == IAS_CTL_A_INCIDENT_ID && get_str(x, &a, id, sizeof(id)))
			return IAS_CTL_E_INVAL;
	if (!id[0])
		return ctlsrv_fail(x, IAS_CTL_E_INVAL, "an incident id is required");
	r = ias_store_incident_get(s->store, id, &inc);
	if (r == -ENOENT)
		return ctlsrv_fail(x, IAS_CTL_E_NOENT, "no incident %s", id);
	if (r < 0)
		return ctlsrv_fail(x, IAS_CTL_E_INTERNAL, "store: %s", ias_store_errmsg(s->store));
	ias_ctl_nest_begin(x->rep, IAS_CTL_A_INCIDENT);
	put_incident_fields(x->rep, &inc);
	if (ias_store_incident_events_foreach(s->store, id, put_event_cb, x->rep) < 0)
		return ctlsrv_fail(x, IAS_CTL_E_INTERNAL, "store: %s", ias_store_errmsg(s->store));
	ias_ctl_nest_end(x->rep);
	return 0;
}

static void put_allow(struct ias_ctl_msg *m, const struct ias_allow_rec *a)
{
	ias_ctl_nest_begin(m, IAS_CTL_A_ALLOW);
	ias_ctl_put_u64(m, IAS_CTL_A_ALLOW_ID, (uint64_t)a->id);
	ias_ctl_put_str(m, IAS_CTL_A_KIND, a->kind);
	ias_ctl_put_str(m, IAS_CTL_A_VALUE, a->value);
	ias_ctl_put_u64(m, IAS_CTL_A_CREATED_MS, (uint64_t)a->created_ms);
	ias_ctl_put_str(m, IAS_CTL_A_NOTE, a->note);
	ias_ctl_nest_end(m);
}

static int put_allow_cb(const struct ias_allow_rec *a, void *arg)
{
	put_allow(arg, a);
	return ((struct ias_ctl_msg *)arg)->err ? 1 : 0;
}

static int op_allow_list(struct ctlsrv_req *x)
{
	struct sema *s = x->ctx;

	if (ias_store_allow_foreach(s->store, put_allow_cb, x->rep) < 0)
		return ctlsrv_fail(x, IAS_CTL_E_INTERNAL, "store: %s", ias_store_errmsg(s->store));
	return 0;
}

static int allow_args(struct ctlsrv_req *x, struct ias_allow_rec *rec)
{
	static const char *const kinds[] = { "exe", "user", "unit", "comm", "pid" };
	struct ias_ctl_attr a;
	size_t i;

	memset(rec, 0, sizeof(*rec));
	while (ias_ctl_next(&x->attrs, &a) > 0) {
		if (a.type == IAS_CTL_A_KIND && get_str(x, &a, rec->kind, sizeof(rec->kind)))
			return IAS_CTL_E_INVAL;
		if (a.type == IAS_CTL_A_VALUE && get_str(x, &a, rec->value, sizeof(rec->value)))
			return IAS_CTL_E_INVAL;
		if (a.type == IAS_CTL_A_NOTE && get_str(x, &a, rec->note, sizeof(rec->note)))
			return IAS_CTL_E_INVAL;
	}
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(rec->kind, kinds[i]) == 0)
			break;
	if (i == sizeof(kinds) / sizeof(kinds[0]))
		return ctlsrv_fail(x, IAS_CTL_E_INVAL, "kind must be exe, user, unit, comm or pid");
	if (!rec->value[0])
		return ctlsrv_fail(x, IAS_CTL_E_INVAL, "a value is required");
	return 0;
}

static int op_allow_add(struct ctlsrv_req *x)
{
	struct sema *s = x->ctx;
	struct ias_allow_rec rec;
	char detail[600];
	int r = allow_args(x, &rec);

	if (r)
		return r;
	rec.created_ms = sema_now_ms();
	r = ias_store_allow_add(s->store, &rec);
	if (r == -EEXIST)
		return ctlsrv_fail(x, IAS_CTL_E_EXIST, "%s %s is already on the allowlist", rec.kind, rec.value);
	if (r < 0)
		return ctlsrv_fail(x, IAS_CTL_E_INTERNAL, "store: %s", ias_store_errmsg(s->store));
	snprintf(detail, sizeof(detail), "allow %s %s", rec.kind, rec.value);
	ias_store_audit(s->store, rec.created_ms, x->actor, "allow-add", detail);
	put_allow(x->rep, &rec);
	return 0;
}

static int op_allow_remove(struct ctlsrv_req *x)
{
	struct sema *s = x->ctx;
	struct ias_allow_rec rec;
	char detail[600];
	int r = allow_args(x, &rec);

	if (r)
		return r;
	r = ias_store_allow_remove(s->store, rec.kind, rec.value);
	if (r == -ENOENT)
		return ctlsrv_fail(x, IAS_CTL_E_NOENT, "%s %s is not on the allowlist", rec.kind, rec.value);
	if (r < 0)
		return ctlsrv_fail(x, IAS_CTL_E_INTERNAL, "store: %s", ias_store_errmsg(s->store));
	snprintf(detail, sizeof(detail), "allow %s %s", rec.kind, rec.value);
	ias_store_audit(s->store, sema_now_ms(), x->actor, "allow-remove", detail);
	return 0;
}

static int op_policy_show(struct ctlsrv_req *x)
{
	put_policy(x->rep, &((struct sema *)x->ctx)->policy);
	return 0;
}

static int op_policy_set(struct ctlsrv_req *x)
{
	struct sema *s = x->ctx;
	struct ias_policy p = s->policy;
	struct ias_ctl_attr a, in;
	struct ias_rd r;
	char name[IAS_CTL_NAME_MAX + 1];
	uint32_t v;
	uint8_t b;
	int idx;

	while (ias_ctl_next(&x->attrs, &a) > 0) {
		if (a.type != IAS_CTL_A_POLICY)
			continue;
		ias_ctl_attr_nested(&a, &r);
		while (ias_ctl_next(&r, &in) > 0) {
			switch (in.type) {
			case IAS_CTL_A_LEVEL:
			case IAS_CTL_A_BLOCK_MODE:
				if (get_str(x, &in, name, sizeof(name)))
					return IAS_CTL_E_INVAL;
				idx = policy_lookup(in.type == IAS_CTL_A_LEVEL ? policy_level_names
									 : policy_mode_names, name);
				if (idx < 0)
					return ctlsrv_fail(x, IAS_CTL_E_INVAL, "%s: unknown value %s",
						    ias_ctl_attr_name(in.type), name);
				if (in.type == IAS_CTL_A_LEVEL)
					p.level = (unsigned)idx;
				else
					p.block_mode = (unsigned)idx;
				break;
			case IAS_CTL_A_DRY_RUN:
				ias_ctl_get_u8(&in, &b);
				p.dry_run = b != 0;
				break;
			case IAS_CTL_A_BASE_DURATION_S:
				ias_ctl_get_u32(&in, &v);
				p.base_duration_ms = (uint64_t)v * 1000;
				break;
			case IAS_CTL_A_MAX_DURATION_S:
				ias_ctl_get_u32(&in, &v);
				p.max_duration_ms = (uint64_t)v * 1000;
				break;
			case IAS_CTL_A_ESCALATION:
				ias_ctl_get_u32(&in, &v);
				p.escalation = v;
				break;
			case IAS_CTL_A_HOP_LIMIT:
				ias_ctl_get_u32(&in, &v);
				p.hop_limit = v;
				break;
			case IAS_CTL_A_FANOUT_LIMIT:
				ias_ctl_get_u32(&in, &v);
				p.fanout_limit = v;
				break;
			default:
				break;
			}
		}
	}
	if (policy_check(&p, x->msg, sizeof(x->msg)))
		return IAS_CTL_E_INVAL;
	p.version = s->policy.version + 1;
	if (policy_save(s, &p) < 0)
		return ctlsrv_fail(x, IAS_CTL_E_INTERNAL, "store: %s", ias_store_errmsg(s->store));
	s->policy = p;
	log_notice("policy version %u set by %s", p.version, x->actor);
	put_policy(x->rep, &s->policy);
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

	if (!c)
		return -ENOENT;
	cl = ctlsrv_find(c->srv, client_id);
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
