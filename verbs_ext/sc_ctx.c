/* libias-sc: contexts (see sc_int.h): the device and port, the GID to
 * use, one PD, one completion channel and the send and receive CQs every
 * connection of the context shares, the TLS context and the QPN pool. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "verbs_ext/sc_int.h"

static int pick_gid(struct ias_sc_ctx *ctx, int tbl_len)
{
	static const uint8_t v4map[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	struct ibv_gid_entry e;
	int i;

	for (i = 0; ctx->roce && i < tbl_len; i++) {
		if (ibv_query_gid_ex(ctx->dev, ctx->port, (uint32_t)i, &e, 0) != 0)
			continue;
		if (e.gid_type != IBV_GID_TYPE_ROCE_V2)
			continue;
		if (memcmp(e.gid.raw, v4map, 12) == 0)
			continue;
		if (e.gid.raw[0] == 0xfe && (e.gid.raw[1] & 0xc0) == 0x80)
			continue; /* link-local */
		return i;
	}
	return 0;
}

int ias_sc_ctx_new(const struct ias_sc_config *cfg, struct ias_sc_ctx **out)
{
	struct ibv_device **list = NULL;
	struct ibv_device_attr da;
	struct ibv_port_attr pa;
	struct ias_sc_ctx *ctx;
	int n, i, rc;

	*out = NULL;
	if (!cfg || (cfg->server && (!cfg->cert || !cfg->key)) ||
	    (cfg->require_peer_cert && !cfg->ca) || (!cfg->cert != !cfg->key))
		return -EINVAL;
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return -ENOMEM;
	ctx->cfg = *cfg;
	if (!ctx->cfg.max_send_wr)
		ctx->cfg.max_send_wr = 16;
	if (!ctx->cfg.max_recv_wr)
		ctx->cfg.max_recv_wr = 16;
	ctx->port = cfg->port ? cfg->port : 1;
	rc = sc_tls_setup(ctx);
	if (rc)
		goto out;

	list = ibv_get_device_list(&n);
	if (!list) {
		rc = errno ? -errno : -ENODEV;
		goto out;
	}
	for (i = 0; i < n; i++)
		if (!cfg->device || strcmp(ibv_get_device_name(list[i]), cfg->device) == 0)
			break;
	if (i == n) {
		rc = -ENODEV;
		goto out;
	}
	snprintf(ctx->devname, sizeof(ctx->devname), "%s", ibv_get_device_name(list[i]));
	ctx->dev = ibv_open_device(list[i]);
	if (!ctx->dev) {
		rc = errno ? -errno : -ENODEV;
		goto out;
	}
	if (ibv_query_device(ctx->dev, &da) || ibv_query_port(ctx->dev, ctx->port, &pa)) {
		rc = -EIO;
		goto out;
	}
	ctx->roce = pa.link_layer == IBV_LINK_LAYER_ETHERNET;
	ctx->lid = pa.lid;
	ctx->mtu = pa.active_mtu;
	ctx->gid_index = cfg->gid_index >= 0 ? cfg->gid_index : pick_gid(ctx, pa.gid_tbl_len);
	{
		union ibv_gid g;

		if (ibv_query_gid(ctx->dev, ctx->port, ctx->gid_index, &g)) {
			rc = -EINVAL;
			goto out;
		}
		memcpy(ctx->gid, g.raw, 16);
	}
	if (!ctx->cfg.cq_size)
		ctx->cfg.cq_size = 16384;
	if (ctx->cfg.cq_size > (unsigned)da.max_cqe)
		ctx->cfg.cq_size = (unsigned)da.max_cqe;
	ctx->pd = ibv_alloc_pd(ctx->dev);
	ctx->ch = ctx->pd ? ibv_create_comp_channel(ctx->dev) : NULL;
	if (ctx->ch) {
		ctx->scq = ibv_create_cq(ctx->dev, (int)ctx->cfg.cq_size, NULL, ctx->ch, 0);
		ctx->rcq = ibv_create_cq(ctx->dev, (int)ctx->cfg.cq_size, NULL, ctx->ch, 0);
	}
	if (!ctx->scq || !ctx->rcq) {
		rc = errno ? -errno : -ENOMEM;
		goto out;
	}
	if (fcntl(ctx->ch->fd, F_SETFL, fcntl(ctx->ch->fd, F_GETFL) | O_NONBLOCK) < 0 ||
	    ibv_req_notify_cq(ctx->scq, 0) || ibv_req_notify_cq(ctx->rcq, 0)) {
		rc = -EIO;
		goto out;
	}
	if (cfg->qpn_pool > 0) {
		rc = sc_pool_fill(ctx);
		if (rc)
			goto out;
	}
	*out = ctx;
	ctx = NULL;
	rc = 0;
out:
	if (list)
		ibv_free_device_list(list);
	if (ctx)
		ias_sc_ctx_free(ctx);
	return rc;
}

void ias_sc_ctx_free(struct ias_sc_ctx *ctx)
{
	int i;

	if (!ctx)
		return;
	for (i = 0; i < ctx->npool; i++)
		ibv_destroy_qp(ctx->pool[i]);
	free(ctx->pool);
	if (ctx->scq)
		ibv_destroy_cq(ctx->scq);
	if (ctx->rcq)
		ibv_destroy_cq(ctx->rcq);
	if (ctx->ch)
		ibv_destroy_comp_channel(ctx->ch);
	if (ctx->pd)
		ibv_dealloc_pd(ctx->pd);
	if (ctx->dev)
		ibv_close_device(ctx->dev);
	if (ctx->sess)
		SSL_SESSION_free(ctx->sess);
	if (ctx->ssl)
		SSL_CTX_free(ctx->ssl);
	free(ctx);
}

struct ibv_comp_channel *ias_sc_ctx_channel(struct ias_sc_ctx *ctx)
{
	return ctx->ch;
}

struct ibv_cq *ias_sc_ctx_send_cq(struct ias_sc_ctx *ctx)
{
	return ctx->scq;
}

struct ibv_cq *ias_sc_ctx_recv_cq(struct ias_sc_ctx *ctx)
{
	return ctx->rcq;
}
