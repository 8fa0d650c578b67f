/* libias-sc internals shared between its source files (not installed):
 * the context and connection objects and the steps each file provides.
 *   sc_ctx.c   contexts: device, port, GID, PD, completion channel, CQs
 *   sc_tls.c   the TLS 1.3 context, TLS errors, the peer's name
 *   sc_qp.c    QP set-up: creation (QPN pool), INIT, RTR, RTS, registration
 *   sc_conn.c  the connection state machine and the message exchange */
#ifndef IAS_VERBS_EXT_SC_INT_H
#define IAS_VERBS_EXT_SC_INT_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

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

/* ---- sc_tls.c ---- */

/* The context's SSL_CTX from its configuration; on failure the reason is
 * kept for ias_sc_tls_error(). 0 or -EPROTO. */
int sc_tls_setup(struct ias_sc_ctx *ctx);
/* "what: <newest OpenSSL error>" into buf; clears the error queue. */
void sc_note_tls_error(char *buf, size_t cap, const char *what);
/* SSL result r of an I/O call on c: 0 would block (c->want set), < 0
 * failure (c->err says why). */
int sc_tls_io(struct ias_sc_conn *c, int r);
/* c->peer from the peer's certificate subject, after the handshake. */
void sc_set_peer(struct ias_sc_conn *c);

/* ---- sc_qp.c ---- */

/* Fill the context's QPN pool (cfg.qpn_pool QPs, after a random skip). */
int sc_pool_fill(struct ias_sc_ctx *ctx);
/* Create the connection's QP (from the pool or on its own PD), move it to
 * INIT, fill c->local, call prepare() and register it. 0 or -errno. */
int sc_qp_init(struct ias_sc_conn *c);
/* RTR towards c->remote, then RTS, the registration following each. */
int sc_qp_rtr_rts(struct ias_sc_conn *c);

#endif
