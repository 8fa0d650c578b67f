/* libias-sc: contexts (device, PD, CQs, TLS 1.3) and the non-blocking
 * connection state machine.
 *
 * Server: TLS handshake (client certificate verified in it when required)
 *   -> create QP, INIT, prepare(), register, send SERVER_PARAMS
 *   -> CLIENT_PARAMS: RTR (remote end registered), RTS, send READY.
 * Client: TLS handshake (server certificate and name verified)
 *   -> SERVER_PARAMS: create QP, INIT, prepare(), register, RTR, RTS,
 *      send CLIENT_PARAMS -> READY: established.
 * The server speaks first after the handshake, so a client the server
 * refuses learns nothing and has sent nothing about its QP. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "verbs_ext/ias.h"
#include "verbs_ext/ias_sc.h"

enum st {
	ST_TLS,
	ST_SRV_WAIT_CLIENT,
	ST_CLI_WAIT_SERVER,
	ST_CLI_WAIT_READY,
	ST_ESTABLISHED,
	ST_FAILED,
};

struct ias_sc_ctx {
	struct ias_sc_config cfg;
	SSL_CTX *ssl;
	SSL_SESSION *sess; /* client: the newest session to resume */
	struct ibv_context *dev;
	char devname[64];
	struct ibv_pd *pd;
	struct ibv_comp_channel *ch;
	struct ibv_cq *scq, *rcq;
	uint8_t port;
	int roce;
	int gid_index;
	uint8_t gid[16];
	uint16_t lid;
	enum ibv_mtu mtu;
	struct ibv_qp **pool;
	int npool;
};

struct ias_sc_conn {
	struct ias_sc_ctx *ctx;
	SSL *ssl;
	int fd;
	enum st state;
	int fail_rc;
	int want;
	struct ibv_qp *qp;
	struct ibv_pd *pd; /* own PD; NULL when the QP came from the pool */
	struct ias_sc_params local, remote;
	char peer[256];
	char err[256];
	int registered;
	int reg_err;
	int prepared;
	void *user;
	uint8_t out[IAS_SC_MSG_MAX];
	size_t outlen, outoff;
	uint8_t in[IAS_SC_MSG_MAX];
	size_t inlen;
	uint16_t body;
	int hdr_ok;
};

static __thread char tls_err[256];

const char *ias_sc_tls_error(void)
{
	return tls_err;
}

static void note_tls_error(char *buf, size_t cap, const char *what)
{
	unsigned long e = ERR_peek_last_error();
	char t[200] = "";

	if (e)
		ERR_error_string_n(e, t, sizeof(t));
	snprintf(buf, cap, "%s%s%s", what, t[0] ? ": " : "", t);
	ERR_clear_error();
}

static int rand24(uint32_t *out)
{
	uint8_t b[3];

	if (RAND_bytes(b, sizeof(b)) != 1)
		return -EIO;
	*out = (uint32_t)b[0] << 16 | (uint32_t)b[1] << 8 | b[2];
	return 0;
}

/* ---- TLS ---------------------------------------------------------------- */

static int new_session(SSL *ssl, SSL_SESSION *s)
{
	struct ias_sc_ctx *ctx = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));

	if (!ctx || ctx->cfg.no_resume)
		return 0;
	if (ctx->sess)
		SSL_SESSION_free(ctx->sess);
	ctx->sess = s; /* we keep the reference */
	return 1;
}

static int tls_setup(struct ias_sc_ctx *ctx)
{
	const struct ias_sc_config *cfg = &ctx->cfg;
	SSL_CTX *s;

	tls_err[0] = '\0';
	ERR_clear_error();
	s = SSL_CTX_new(cfg->server ? TLS_server_method() : TLS_client_method());
	if (!s) {
		note_tls_error(tls_err, sizeof(tls_err), "SSL_CTX_new");
		return -EPROTO;
	}
	ctx->ssl = s;
	SSL_CTX_set_app_data(s, ctx);
	if (!SSL_CTX_set_min_proto_version(s, TLS1_3_VERSION) ||
	    !SSL_CTX_set_max_proto_version(s, TLS1_3_VERSION)) {
		note_tls_error(tls_err, sizeof(tls_err), "TLS 1.3 only");
		return -EPROTO;
	}
	if (cfg->cert && SSL_CTX_use_certificate_chain_file(s, cfg->cert) != 1) {
		note_tls_error(tls_err, sizeof(tls_err), cfg->cert);
		return -EPROTO;
	}
	if (cfg->key && (SSL_CTX_use_PrivateKey_file(s, cfg->key, SSL_FILETYPE_PEM) != 1 ||
			 SSL_CTX_check_private_key(s) != 1)) {
		note_tls_error(tls_err, sizeof(tls_err), cfg->key);
		return -EPROTO;
	}
	if (cfg->ca) {
		if (SSL_CTX_load_verify_locations(s, cfg->ca, NULL) != 1) {
			note_tls_error(tls_err, sizeof(tls_err), cfg->ca);
			return -EPROTO;
		}
	} else if (!cfg->server && SSL_CTX_set_default_verify_paths(s) != 1) {
		note_tls_error(tls_err, sizeof(tls_err), "default trust store");
		return -EPROTO;
	}
	if (cfg->server) {
		static const unsigned char sid[] = "ias-sc";

		SSL_CTX_set_session_id_context(s, sid, sizeof(sid) - 1);
		SSL_CTX_set_num_tickets(s, cfg->no_resume ? 0 : 1);
		if (cfg->require_peer_cert)
			SSL_CTX_set_verify(s, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	} else {
		SSL_CTX_set_verify(s, SSL_VERIFY_PEER, NULL);
		SSL_CTX_set_session_cache_mode(s, SSL_SESS_CACHE_CLIENT |
						      SSL_SESS_CACHE_NO_INTERNAL_STORE);
		SSL_CTX_sess_set_new_cb(s, new_session);
	}
	return 0;
}

/* ---- verbs -------------------------------------------------------------- */

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

static uint32_t rand_below(uint32_t n)
{
	uint32_t v;

	if (n == 0 || RAND_bytes((unsigned char *)&v, sizeof(v)) != 1)
		return 0;
	return v % n;
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

static int pool_fill(struct ias_sc_ctx *ctx)
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
	rc = tls_setup(ctx);
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
		rc = pool_fill(ctx);
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

/* ---- connection set-up ---------------------------------------------------- */

static int qp_init(struct ias_sc_conn *c)
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

static int qp_rtr_rts(struct ias_sc_conn *c)
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

static int queue_msg(struct ias_sc_conn *c, const struct ias_sc_msg *m)
{
	size_t n;
	int rc;

	if (c->outoff < c->outlen)
		return -EBUSY;
	rc = ias_sc_msg_encode(m, c->out, sizeof(c->out), &n);
	if (rc)
		return rc;
	c->outlen = n;
	c->outoff = 0;
	return 0;
}

static int queue_params(struct ias_sc_conn *c, uint8_t type)
{
	struct ias_sc_msg m;

	memset(&m, 0, sizeof(m));
	m.type = type;
	m.params = c->local;
	return queue_msg(c, &m);
}

/* SSL result r of an I/O call: 0 would block (want set), < 0 failure. */
static int tls_io(struct ias_sc_conn *c, int r)
{
	int e = SSL_get_error(c->ssl, r);

	switch (e) {
	case SSL_ERROR_WANT_READ:
		c->want = IAS_SC_WANT_READ;
		return 0;
	case SSL_ERROR_WANT_WRITE:
		c->want = IAS_SC_WANT_WRITE;
		return 0;
	case SSL_ERROR_ZERO_RETURN:
		return -ECONNRESET;
	case SSL_ERROR_SYSCALL:
		if (!c->err[0])
			snprintf(c->err, sizeof(c->err), "connection closed during TLS");
		ERR_clear_error();
		return -ECONNRESET;
	default:
		if (!c->err[0]) {
			long v = SSL_get_verify_result(c->ssl);

			note_tls_error(c->err, sizeof(c->err), "TLS");
			if (v != X509_V_OK) {
				size_t l = strlen(c->err);

				snprintf(c->err + l, sizeof(c->err) - l, " (%s)",
					 X509_verify_cert_error_string(v));
			}
		}
		ERR_clear_error();
		return -EPROTO;
	}
}

static int flush_out(struct ias_sc_conn *c)
{
	int r;

	while (c->outoff < c->outlen) {
		ERR_clear_error();
		r = SSL_write(c->ssl, c->out + c->outoff, (int)(c->outlen - c->outoff));
		if (r <= 0)
			return tls_io(c, r);
		c->outoff += (size_t)r;
	}
	c->outoff = c->outlen = 0;
	return 1;
}

/* 1 a whole message in m, 0 would block, < 0 failure. */
static int read_msg(struct ias_sc_conn *c, struct ias_sc_msg *m)
{
	int r, rc;

	for (;;) {
		size_t need = c->hdr_ok ? IAS_SC_HDR_LEN + (size_t)c->body : IAS_SC_HDR_LEN;

		if (c->inlen == need) {
			if (!c->hdr_ok) {
				rc = ias_sc_hdr_check(c->in, c->inlen, &c->body);
				if (rc)
					return rc;
				c->hdr_ok = 1;
				continue;
			}
			rc = ias_sc_msg_decode(c->in, c->inlen, m);
			c->inlen = 0;
			c->hdr_ok = 0;
			return rc ? rc : 1;
		}
		ERR_clear_error();
		r = SSL_read(c->ssl, c->in + c->inlen, (int)(need - c->inlen));
		if (r <= 0)
			return tls_io(c, r);
		c->inlen += (size_t)r;
	}
}

static void set_peer(struct ias_sc_conn *c)
{
	X509 *pc = SSL_get1_peer_certificate(c->ssl);
	BIO *b;
	int n;

	if (!pc) {
		snprintf(c->peer, sizeof(c->peer), "anonymous client");
		return;
	}
	b = BIO_new(BIO_s_mem());
	if (b && X509_NAME_print_ex(b, X509_get_subject_name(pc), 0, XN_FLAG_RFC2253) >= 0) {
		n = BIO_read(b, c->peer, (int)sizeof(c->peer) - 1);
		c->peer[n > 0 ? n : 0] = '\0';
	}
	if (!c->peer[0])
		snprintf(c->peer, sizeof(c->peer), "unnamed certificate");
	BIO_free(b);
	X509_free(pc);
}

static int on_handshake(struct ias_sc_conn *c)
{
	int rc;

	set_peer(c);
	if (!c->ctx->cfg.server) {
		c->state = ST_CLI_WAIT_SERVER;
		return 0;
	}
	rc = qp_init(c);
	if (rc)
		return rc;
	rc = queue_params(c, IAS_SC_T_SERVER_PARAMS);
	if (rc)
		return rc;
	c->state = ST_SRV_WAIT_CLIENT;
	return 0;
}

static int on_msg(struct ias_sc_conn *c, const struct ias_sc_msg *m)
{
	int rc;

	if (m->type == IAS_SC_T_ERROR) {
		snprintf(c->err, sizeof(c->err), "peer gave up: %s", ias_sc_code_str(m->code));
		return -ECONNREFUSED;
	}
	switch (c->state) {
	case ST_SRV_WAIT_CLIENT:
		if (m->type != IAS_SC_T_CLIENT_PARAMS)
			return -EPROTO;
		c->remote = m->params;
		rc = qp_rtr_rts(c);
		if (rc)
			return rc;
		{
			struct ias_sc_msg r = { .type = IAS_SC_T_READY };

			rc = queue_msg(c, &r);
		}
		if (rc)
			return rc;
		c->state = ST_ESTABLISHED;
		return 0;
	case ST_CLI_WAIT_SERVER:
		if (m->type != IAS_SC_T_SERVER_PARAMS)
			return -EPROTO;
		c->remote = m->params;
		rc = qp_init(c);
		if (rc == 0)
			rc = qp_rtr_rts(c);
		if (rc == 0)
			rc = queue_params(c, IAS_SC_T_CLIENT_PARAMS);
		if (rc)
			return rc;
		c->state = ST_CLI_WAIT_READY;
		return 0;
	case ST_CLI_WAIT_READY:
		if (m->type != IAS_SC_T_READY)
			return -EPROTO;
		c->state = ST_ESTABLISHED;
		return 0;
	default:
		return -EPROTO;
	}
}

static int fail(struct ias_sc_conn *c, int rc)
{
	enum ias_sc_code code = IAS_SC_E_RESOURCE;

	if (rc == -EBADMSG || rc == -EMSGSIZE || rc == -EPROTONOSUPPORT ||
	    (rc == -EPROTO && !c->err[0]))
		code = IAS_SC_E_PROTO;
	if (rc != -ECONNREFUSED && rc != -ECONNRESET && !(rc == -EPROTO && c->err[0]))
		ias_sc_abort(c, code);
	if (!c->err[0]) {
		if (code == IAS_SC_E_PROTO)
			snprintf(c->err, sizeof(c->err), "bad exchange message: %s", strerror(-rc));
		else
			snprintf(c->err, sizeof(c->err), "QP set-up: %s", strerror(-rc));
	}
	c->state = ST_FAILED;
	c->fail_rc = rc;
	return rc;
}

static int conn_new(struct ias_sc_ctx *ctx, int fd, struct ias_sc_conn **out)
{
	struct ias_sc_conn *c = calloc(1, sizeof(*c));

	*out = NULL;
	if (!c) {
		close(fd);
		return -ENOMEM;
	}
	c->ctx = ctx;
	c->fd = fd;
	/* Small messages in both directions: without this, Nagle's algorithm and
	 * delayed ACKs add tens of milliseconds to the exchange. Not a TCP
	 * socket (e.g. AF_UNIX in tests): nothing to do. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
	c->want = IAS_SC_WANT_READ;
	ERR_clear_error();
	c->ssl = SSL_new(ctx->ssl);
	if (c->ssl)
		SSL_set_read_ahead(c->ssl, 1); /* fewer read(2) calls per record */
	if (!c->ssl || SSL_set_fd(c->ssl, fd) != 1) {
		ERR_clear_error();
		ias_sc_conn_free(c);
		return -ENOMEM;
	}
	*out = c;
	return 0;
}

int ias_sc_accept(struct ias_sc_ctx *ctx, int fd, struct ias_sc_conn **out)
{
	int rc;

	if (!ctx->cfg.server) {
		close(fd);
		return -EINVAL;
	}
	rc = conn_new(ctx, fd, out);
	if (rc == 0)
		SSL_set_accept_state((*out)->ssl);
	return rc;
}

int ias_sc_connect(struct ias_sc_ctx *ctx, int fd, const char *server_name,
		   struct ias_sc_conn **out)
{
	struct ias_sc_conn *c;
	const char *vn = ctx->cfg.verify_name;
	int rc;

	if (ctx->cfg.server) {
		close(fd);
		return -EINVAL;
	}
	rc = conn_new(ctx, fd, &c);
	if (rc)
		return rc;
	SSL_set_connect_state(c->ssl);
	if (server_name)
		SSL_set_tlsext_host_name(c->ssl, server_name);
	if (vn && SSL_set1_host(c->ssl, vn) != 1) {
		ias_sc_conn_free(c);
		return -EINVAL;
	}
	if (ctx->sess && !ctx->cfg.no_resume)
		SSL_set_session(c->ssl, ctx->sess);
	c->want = IAS_SC_WANT_WRITE;
	*out = c;
	return 0;
}

int ias_sc_step(struct ias_sc_conn *c)
{
	struct ias_sc_msg m;
	int rc;

	for (;;) {
		if (c->state == ST_FAILED)
			return c->fail_rc;
		if (c->outoff < c->outlen) {
			rc = flush_out(c);
			if (rc < 0)
				return fail(c, rc);
			if (rc == 0)
				return 0;
		}
		switch (c->state) {
		case ST_TLS:
			ERR_clear_error();
			rc = SSL_do_handshake(c->ssl);
			if (rc != 1) {
				rc = tls_io(c, rc);
				return rc < 0 ? fail(c, rc) : 0;
			}
			rc = on_handshake(c);
			if (rc)
				return fail(c, rc);
			break;
		case ST_ESTABLISHED:
			return 1;
		default:
			rc = read_msg(c, &m);
			if (rc == 0)
				return 0;
			if (rc < 0)
				return fail(c, rc);
			rc = on_msg(c, &m);
			if (rc)
				return fail(c, rc);
			break;
		}
	}
}

int ias_sc_want(const struct ias_sc_conn *c)
{
	return c->want;
}

int ias_sc_fd(const struct ias_sc_conn *c)
{
	return c->fd;
}

int ias_sc_flush(struct ias_sc_conn *c)
{
	int rc = flush_out(c);

	return rc < 0 ? rc : 0;
}

int ias_sc_send_msg(struct ias_sc_conn *c, const struct ias_sc_msg *m)
{
	int rc;

	if (c->state != ST_ESTABLISHED)
		return -ENOTCONN;
	if (m->type == IAS_SC_T_SERVER_PARAMS || m->type == IAS_SC_T_CLIENT_PARAMS ||
	    m->type == IAS_SC_T_READY)
		return -EINVAL;
	rc = queue_msg(c, m);
	if (rc)
		return rc;
	return ias_sc_flush(c);
}

int ias_sc_recv_msg(struct ias_sc_conn *c, struct ias_sc_msg *m)
{
	if (c->state != ST_ESTABLISHED)
		return -ENOTCONN;
	return read_msg(c, m);
}

void ias_sc_abort(struct ias_sc_conn *c, enum ias_sc_code code)
{
	struct ias_sc_msg m = { .type = IAS_SC_T_ERROR, .code = (uint16_t)code };
	size_t n;

	if (!c->ssl || !SSL_is_init_finished(c->ssl))
		return;
	if (ias_sc_msg_encode(&m, c->out, sizeof(c->out), &n) == 0) {
		ERR_clear_error();
		(void)SSL_write(c->ssl, c->out, (int)n); /* one try, never waits */
		ERR_clear_error();
	}
	c->outlen = c->outoff = 0;
}

void ias_sc_conn_free(struct ias_sc_conn *c)
{
	if (!c)
		return;
	if (c->qp) {
		if (c->registered && !c->ctx->cfg.no_register)
			(void)ias_unregister_qp(c->qp->qp_num, c->ctx->devname);
		ibv_destroy_qp(c->qp);
	}
	if (c->prepared && c->ctx->cfg.release)
		c->ctx->cfg.release(c, c->ctx->cfg.arg);
	if (c->pd)
		ibv_dealloc_pd(c->pd);
	if (c->ssl) {
		ERR_clear_error();
		if (SSL_is_init_finished(c->ssl))
			(void)SSL_shutdown(c->ssl); /* close_notify, no waiting */
		SSL_free(c->ssl);
		ERR_clear_error();
	}
	if (c->fd >= 0)
		close(c->fd);
	free(c);
}

struct ibv_qp *ias_sc_conn_qp(const struct ias_sc_conn *c)
{
	return c->qp;
}

struct ibv_pd *ias_sc_conn_pd(const struct ias_sc_conn *c)
{
	return c->pd ? c->pd : c->ctx->pd;
}

int ias_sc_conn_set_buf(struct ias_sc_conn *c, uint64_t addr, uint32_t rkey, uint32_t len)
{
	c->local.has_buf = 1;
	c->local.addr = addr;
	c->local.rkey = rkey;
	c->local.len = len;
	return 0;
}

const struct ias_sc_params *ias_sc_conn_local(const struct ias_sc_conn *c)
{
	return &c->local;
}

const struct ias_sc_params *ias_sc_conn_remote(const struct ias_sc_conn *c)
{
	return &c->remote;
}

const char *ias_sc_conn_peer(const struct ias_sc_conn *c)
{
	return c->peer;
}

const char *ias_sc_conn_error(const struct ias_sc_conn *c)
{
	return c->err;
}

int ias_sc_conn_reg_error(const struct ias_sc_conn *c)
{
	return c->reg_err;
}

int ias_sc_conn_resumed(const struct ias_sc_conn *c)
{
	return c->ssl ? SSL_session_reused(c->ssl) : 0;
}

void ias_sc_conn_set_user(struct ias_sc_conn *c, void *user)
{
	c->user = user;
}

void *ias_sc_conn_user(const struct ias_sc_conn *c)
{
	return c->user;
}
