/* libias-sc: QP set-up for a connection (see sc_int.h). QPs come from a
 * pool with randomised QPNs when asked (qpn_pool), else each connection
 * gets its own PD and QP. Every state change is registered with the local
 * agent through libias unless the application said no_register. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "verbs_ext/ias.h"
#include "verbs_ext/sc_int.h"

static int rand24(uint32_t *out)
{
	uint8_t b[3];

	if (RAND_bytes(b, sizeof(b)) != 1)
		return -EIO;
	*out = (uint32_t)b[0] << 16 | (uint32_t)b[1] << 8 | b[2];
	return 0;
}

static uint32_t rand_below(uint32_t n)
{
	uint32_t v;

	if (n == 0 || RAND_bytes((unsigned char *)&v, sizeof(v)) != 1)
		return 0;
	return v % n;
}

static struct ibv_qp *create_qp(struct ias_sc_ctx *ctx, struct ibv_pd *pd)
{
	struct ibv_qp_init_attr ia;

	memset(&ia, 0, sizeof(ia));
	ia.send_cq = ctx->scq;
	ia.recv_cq = ctx->rcq;
	ia.qp_type = IBV_QPT_RC;
	ia.cap.max_send_wr = ctx->cfg.max_send_wr;
	ia.cap.max_recv_wr = ctx->cfg.max_recv_wr;
	ia.cap.max_send_sge = 1;
	ia.cap.max_recv_sge = 1;
	return ibv_create_qp(pd, &ia);
}

/* Create and destroy up to max-1 QPs so the next QPN is not the one after
 * the last. */
static void qpn_skip(struct ias_sc_ctx *ctx, uint32_t max)
{
	uint32_t n = rand_below(max), i;

	for (i = 0; i < n; i++) {
		struct ibv_qp *q = create_qp(ctx, ctx->pd);

		if (!q)
			break;
		ibv_destroy_qp(q);
	}
}

int sc_pool_fill(struct ias_sc_ctx *ctx)
{
	int i;

	ctx->pool = calloc((size_t)ctx->cfg.qpn_pool, sizeof(*ctx->pool));
	if (!ctx->pool)
		return -ENOMEM;
	qpn_skip(ctx, 256);
	for (i = 0; i < ctx->cfg.qpn_pool; i++) {
		ctx->pool[i] = create_qp(ctx, ctx->pd);
		if (!ctx->pool[i])
			return errno ? -errno : -ENOMEM;
		ctx->npool++;
	}
	return 0;
}

/* A QP picked at random from the pool, replaced by a fresh one created
 * after a random skip. */
static struct ibv_qp *pool_take(struct ias_sc_ctx *ctx)
{
	uint32_t i;
	struct ibv_qp *q;

	if (ctx->npool == 0)
		return create_qp(ctx, ctx->pd);
	i = rand_below((uint32_t)ctx->npool);
	q = ctx->pool[i];
	qpn_skip(ctx, 4);
	ctx->pool[i] = create_qp(ctx, ctx->pd);
	if (!ctx->pool[i])
		ctx->pool[i] = ctx->pool[--ctx->npool];
	return q;
}

/* ---- registration with the local agent ----------------------------------- */

static void reg_info(struct ias_sc_conn *c, struct ias_qp_info *i, enum ibv_qp_state st)
{
	memset(i, 0, sizeof(*i));
	i->qpn = c->qp->qp_num;
	i->qp_type = IBV_QPT_RC;
	i->qp_state = (uint8_t)st;
	snprintf(i->device, sizeof(i->device), "%s", c->ctx->devname);
	i->port = c->ctx->port;
	snprintf(i->peer, sizeof(i->peer), "%s", c->peer);
	if (st >= IBV_QPS_RTR) {
		i->has_remote = 1;
		i->remote_lid = c->remote.lid;
		memcpy(i->remote_gid, c->remote.gid, 16);
		i->remote_qpn = c->remote.qpn;
	}
}

static void reg_update(struct ias_sc_conn *c, enum ibv_qp_state st)
{
	struct ias_qp_info i;

	if (c->ctx->cfg.no_register)
		return;
	reg_info(c, &i, st);
	if (!c->registered) {
		c->reg_err = ias_register_qp_info(&i);
		c->registered = 1; /* libias keeps it for re-registration either way */
	} else {
		c->reg_err = ias_update_qp(&i);
	}
}

/* ---- INIT, RTR, RTS ------------------------------------------------------ */

int sc_qp_init(struct ias_sc_conn *c)
{
	struct ias_sc_ctx *ctx = c->ctx;
	struct ibv_qp_attr a;
	int rc;

	if (ctx->cfg.qpn_pool > 0) {
		c->qp = pool_take(ctx);
	} else {
		c->pd = ibv_alloc_pd(ctx->dev); /* a PD per connection */
		if (!c->pd)
			return errno ? -errno : -ENOMEM;
		c->qp = create_qp(ctx, c->pd);
	}
	if (!c->qp)
		return errno ? -errno : -ENOMEM;
	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_INIT;
	a.pkey_index = 0;
	a.port_num = ctx->port;
	a.qp_access_flags = IBV_ACCESS_LOCAL_WRITE | ctx->cfg.qp_access;
	rc = ibv_modify_qp(c->qp, &a,
			   IBV_QP_STATE | IBV_QP_PKEY_INDEX | IBV_QP_PORT | IBV_QP_ACCESS_FLAGS);
	if (rc)
		return -rc;
	c->local.qpn = c->qp->qp_num;
	if (ctx->cfg.use_fixed_psn)
		c->local.psn = ctx->cfg.fixed_psn & 0xFFFFFF;
	else if ((rc = rand24(&c->local.psn)) != 0)
		return rc;
	c->local.lid = ctx->lid;
	c->local.mtu = (uint8_t)ctx->mtu;
	memcpy(c->local.gid, ctx->gid, 16);
	if (ctx->cfg.prepare) {
		rc = ctx->cfg.prepare(c, ctx->cfg.arg);
		if (rc)
			return rc < 0 ? rc : -EIO;
	}
	c->prepared = 1;
	reg_update(c, IBV_QPS_INIT);
	return 0;
}

int sc_qp_rtr_rts(struct ias_sc_conn *c)
{
	struct ias_sc_ctx *ctx = c->ctx;
	struct ibv_qp_attr a;
	int rc;

	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTR;
	a.path_mtu = c->local.mtu < c->remote.mtu ? c->local.mtu : c->remote.mtu;
	a.dest_qp_num = c->remote.qpn;
	a.rq_psn = c->remote.psn;
	a.max_dest_rd_atomic = 1;
	a.min_rnr_timer = 12;
	a.ah_attr.dlid = c->remote.lid;
	a.ah_attr.port_num = ctx->port;
	if (ctx->roce || c->remote.lid == 0) {
		a.ah_attr.is_global = 1;
		memcpy(a.ah_attr.grh.dgid.raw, c->remote.gid, 16);
		a.ah_attr.grh.sgid_index = (uint8_t)ctx->gid_index;
		a.ah_attr.grh.hop_limit = 64;
	}
	rc = ibv_modify_qp(c->qp, &a,
			   IBV_QP_STATE | IBV_QP_AV | IBV_QP_PATH_MTU | IBV_QP_DEST_QPN |
				   IBV_QP_RQ_PSN | IBV_QP_MAX_DEST_RD_ATOMIC | IBV_QP_MIN_RNR_TIMER);
	if (rc)
		return -rc;
	reg_update(c, IBV_QPS_RTR);
	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTS;
	a.timeout = 14;
	a.retry_cnt = 7;
	a.rnr_retry = 7;
	a.sq_psn = c->local.psn;
	a.max_rd_atomic = 1;
	rc = ibv_modify_qp(c->qp, &a,
			   IBV_QP_STATE | IBV_QP_TIMEOUT | IBV_QP_RETRY_CNT | IBV_QP_RNR_RETRY |
				   IBV_QP_SQ_PSN | IBV_QP_MAX_QP_RD_ATOMIC);
	if (rc)
		return -rc;
	reg_update(c, IBV_QPS_RTS);
	return 0;
}
