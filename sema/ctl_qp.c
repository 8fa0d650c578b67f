/* The control socket's QP handlers: register, update, unregister, list
 * (see ctl_ops.h). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "ctl/proto.h"
#include "ctl/server.h"
#include "sema/ctl_ops_int.h"
#include "sema/engine.h"
#include "sema/mirror.h"
#include "sema/policy.h"
#include "sema/procinfo.h"

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
			if (ctl_get_str(x, &a, q->device, sizeof(q->device)))
				return IAS_CTL_E_INVAL;
			break;
		case IAS_CTL_A_PEER:
			if (ctl_get_str(x, &a, q->peer, sizeof(q->peer)))
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
	if (q->has_remote && !(e->remote_src & ~QPT_RSRC_LIBIAS & ~QPT_RSRC_NLQPN)) {
		/* A claim: a hint only, and never over what the kernel or a
		 * peer said. A remote QPN the kernel contradicts is ignored. */
		if (!(e->remote_src & QPT_RSRC_NLQPN) || e->remote_qpn == q->remote_qpn) {
			e->has_remote = 1;
			e->remote_lid = q->remote_lid;
			e->remote_qpn = q->remote_qpn;
			memcpy(e->remote_gid, q->gid, 16);
			e->remote_src |= QPT_RSRC_LIBIAS;
		}
	}
	for (i = 0; i < q->ndest; i++) {
		struct qpt_dest d = q->dest[i];

		d.src = QPT_RSRC_LIBIAS;
		qpt_add_dest(e, &d);
	}
	if (q->peer[0])
		memcpy(e->peer, q->peer, sizeof(e->peer) < sizeof(q->peer) ? sizeof(e->peer) : sizeof(q->peer));
}

/* The per-connection registration cap (max_qps_per_client, 0 none): the
 * connection's cached count, made exact from the table when it reaches the
 * cap and entries were removed since it was last made exact. */
static int over_reg_cap(struct sema *s, struct ctlsrv_client *cl)
{
	unsigned cap = s->cfg.max_qps_per_client;

	if (!cap || cl->nregs < cap)
		return 0;
	if (cl->nregs_stamp != s->qps.removals + 1) {
		cl->nregs = qpt_count_client(&s->qps, cl->id);
		cl->nregs_stamp = s->qps.removals + 1;
	}
	return cl->nregs >= cap;
}

/* e's registration moves to x's connection. */
static void take_reg(struct ctlsrv_req *x, struct qpt_entry *e)
{
	struct ctlsrv_client *old;

	if (e->client_id == x->cl->id)
		return;
	if (e->client_id && (old = ctlsrv_find(x->cl->srv, e->client_id)) && old->nregs)
		old->nregs--;
	x->cl->nregs++;
}

int op_qp_register(struct ctlsrv_req *x)
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
				if (ctlsrv_refused(x))
					log_warn("PID %d registered QP %s/0x%x that the kernel does not report; refused",
						 (int)x->cl->cred.pid, q.device, q.qpn);
				return ctlsrv_fail(x, IAS_CTL_E_NOENT, "the kernel reports no QP 0x%x on %s",
					    q.qpn, q.device);
			}
			if (e->pid != x->cl->cred.pid) {
				s->stats.kernel_conflicts++;
				if (ctlsrv_refused(x))
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
	if ((!e || e->client_id != x->cl->id) && over_reg_cap(s, x->cl)) {
		if (ctlsrv_refused(x))
			log_warn("PID %d (uid %u) registers more than %u QPs on one connection; refused",
				 (int)x->cl->cred.pid, (unsigned)x->cl->cred.uid, s->cfg.max_qps_per_client);
		return ctlsrv_fail(x, IAS_CTL_E_BUSY,
			    "this connection holds %u QP registrations, the most allowed (max_qps_per_client)",
			    s->cfg.max_qps_per_client);
	}
	if (!e && !(e = qpt_upsert(&s->qps, q.device, q.qpn)))
		return ctlsrv_fail(x, IAS_CTL_E_INTERNAL, "out of memory");
	take_reg(x, e);
	e->pid = x->cl->cred.pid;
	e->client_id = x->cl->id;
	e->sources |= q.sim ? QPT_SRC_SIMULATED : QPT_SRC_LIBIAS;
	qp_apply_args(e, &q);
	log_debug("PID %d registered QP %s/0x%x%s", (int)e->pid, e->device, e->qpn,
		  q.sim ? " (simulated)" : "");
	engine_qp_appeared(s, e);
	mirror_claimed(s, e);
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

int op_qp_update(struct ctlsrv_req *x)
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
	mirror_claimed(x->ctx, e);
	return 0;
}

int op_qp_unregister(struct ctlsrv_req *x)
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
	if (x->cl->nregs)
		x->cl->nregs--;
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

int op_qps_list(struct ctlsrv_req *x)
{
	struct sema *s = x->ctx;
	uint32_t pid;
	size_t i;

	opt_pid(x, &pid);
	engine_kernel_scan(s);
	for (i = 0; i < s->qps.n; i++) {
		const struct qpt_entry *e = &s->qps.e[i];
		struct proc_info pi;
		char rsrc[96];
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
			ias_ctl_put_str(x->rep, IAS_CTL_A_REMOTE_SOURCE,
					qpt_remote_src_str(e->remote_src, rsrc, sizeof(rsrc)));
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
