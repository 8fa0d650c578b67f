/* libias-sc: the non-blocking connection state machine and the message
 * exchange (contexts in sc_ctx.c, TLS in sc_tls.c, QPs in sc_qp.c).
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "verbs_ext/ias.h"
#include "verbs_ext/sc_int.h"

/* ---- the exchange ---------------------------------------------------------- */

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

static int flush_out(struct ias_sc_conn *c)
{
	int r;

	while (c->outoff < c->outlen) {
		ERR_clear_error();
		r = SSL_write(c->ssl, c->out + c->outoff, (int)(c->outlen - c->outoff));
		if (r <= 0)
			return sc_tls_io(c, r);
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
			return sc_tls_io(c, r);
		c->inlen += (size_t)r;
	}
}

/* ---- the state machine ------------------------------------------------------ */

static int on_handshake(struct ias_sc_conn *c)
{
	int rc;

	sc_set_peer(c);
	if (!c->ctx->cfg.server) {
		c->state = ST_CLI_WAIT_SERVER;
		return 0;
	}
	rc = sc_qp_init(c);
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
		rc = sc_qp_rtr_rts(c);
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
		rc = sc_qp_init(c);
		if (rc == 0)
			rc = sc_qp_rtr_rts(c);
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
				rc = sc_tls_io(c, rc);
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

/* ---- accessors ------------------------------------------------------------- */

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
