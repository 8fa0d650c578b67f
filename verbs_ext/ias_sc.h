/* libias-sc: secured data channels. RC QPs whose parameters (QPN, starting
 * PSN, LID/GID, MTU, optionally a buffer's address and rkey) cross only
 * inside TLS 1.3, with starting PSNs drawn from a CSPRNG, QPs driven
 * INIT->RTR->RTS by hand and registered with the local IAS agent under the
 * authenticated peer identity. See ias_sc(3) and docs/secure-channels.md.
 *
 * Functions return 0 (or a documented positive value) or a negative errno;
 * none exits or prints. A context and its connections belong to one thread. */
#ifndef IAS_IAS_SC_H
#define IAS_IAS_SC_H

#include <stddef.h>
#include <stdint.h>

#include <infiniband/verbs.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- the exchange message (inside TLS), see docs/secure-channels.md ---- */

#define IAS_SC_MAGIC 0x49415343u /* "IASC" */
#define IAS_SC_VERSION 1
#define IAS_SC_HDR_LEN 8         /* magic u32, version u8, type u8, body length u16 */
#define IAS_SC_PARAMS_LEN 28     /* qpn, psn, lid, mtu, flags, gid */
#define IAS_SC_BUF_LEN 16        /* addr u64, rkey u32, len u32 (flag bit 0) */
#define IAS_SC_MSG_MAX 64        /* no valid message is longer */

enum ias_sc_type {
	IAS_SC_T_SERVER_PARAMS = 1, /* server -> client, first message */
	IAS_SC_T_CLIENT_PARAMS = 2, /* client -> server, its QP at RTS */
	IAS_SC_T_READY = 3,         /* server -> client, server QP at RTS */
	IAS_SC_T_DONE = 4,          /* either way: what was sent over RDMA */
	IAS_SC_T_RESULT = 5,        /* reply to DONE: what was verified */
	IAS_SC_T_ERROR = 6,         /* the sender gives up; code says why */
};

enum ias_sc_code {
	IAS_SC_OK = 0,
	IAS_SC_E_PROTO = 1,     /* malformed or unexpected message */
	IAS_SC_E_TIMEOUT = 2,   /* the exchange did not finish in time */
	IAS_SC_E_RESOURCE = 3,  /* the sender could not set up its QP */
	IAS_SC_E_VERIFY = 4,    /* RDMA data did not verify */
	IAS_SC_E_SHUTDOWN = 5,  /* the sender is going away */
};

struct ias_sc_params {
	uint32_t qpn;  /* 24 bits */
	uint32_t psn;  /* 24 bits: the sender's starting send PSN */
	uint16_t lid;
	uint8_t mtu;   /* enum ibv_mtu, 1..5 */
	uint8_t gid[16];
	int has_buf;   /* a buffer the peer may access: */
	uint64_t addr;
	uint32_t rkey;
	uint32_t len;
};

struct ias_sc_msg {
	uint8_t type;                 /* enum ias_sc_type */
	struct ias_sc_params params;  /* SERVER_PARAMS, CLIENT_PARAMS */
	uint32_t count;               /* DONE: messages sent; RESULT: verified */
	uint64_t bytes;               /* DONE: bytes sent */
	uint32_t bad;                 /* RESULT: messages that failed to verify */
	uint16_t code;                /* RESULT status, ERROR reason */
};

/* Encode m into buf: 0 and *len, -EINVAL for a value that has no encoding
 * (QPN/PSN over 24 bits, MTU out of range, unknown type), -ENOSPC. */
int ias_sc_msg_encode(const struct ias_sc_msg *m, uint8_t *buf, size_t cap, size_t *len);
/* Check a header (the first IAS_SC_HDR_LEN bytes): 0 and the body length
 * that must follow, -EAGAIN if len < IAS_SC_HDR_LEN, -EBADMSG for a wrong
 * magic, -EPROTONOSUPPORT for another version, -EMSGSIZE when the body
 * length is not the one the type has, -EBADMSG for an unknown type. */
int ias_sc_hdr_check(const uint8_t *buf, size_t len, uint16_t *body_len);
/* Decode exactly one whole message (header and body, nothing after it):
 * 0, or the header errors above, or -EBADMSG (a field out of range, a
 * reserved bit or byte set, trailing bytes). */
int ias_sc_msg_decode(const uint8_t *buf, size_t len, struct ias_sc_msg *m);
const char *ias_sc_code_str(int code);

/* ---- contexts and connections ------------------------------------------ */

struct ias_sc_ctx;
struct ias_sc_conn;

struct ias_sc_config {
	int server;              /* 1 server side, 0 client side */
	const char *device;      /* RDMA device; NULL the first one */
	uint8_t port;            /* 0: port 1 */
	int gid_index;           /* < 0: pick a RoCE v2 global IPv6 GID, else 0 */
	const char *cert, *key;  /* own certificate (chain) and key, PEM */
	const char *ca;          /* trust anchors (PEM file) for the peer */
	int require_peer_cert;   /* server: demand and verify a client cert */
	const char *verify_name; /* client: expected server name (NULL: any) */
	int no_resume;           /* client: no TLS session resumption */
	int qpn_pool;            /* > 0: draw QPs at random from a pool this big */
	int no_register;         /* do not register QPs with the IAS agent */
	unsigned max_send_wr, max_recv_wr; /* per QP; 0: 16 */
	unsigned cq_size;        /* shared CQs; 0: min(16384, device max) */
	unsigned qp_access;      /* IBV_ACCESS_REMOTE_* for the peer (buffers) */
	int use_fixed_psn;       /* INSECURE, demonstrations only: start at */
	uint32_t fixed_psn;      /* this PSN instead of a random one */
	/* Called once the connection's QP is in INIT, before anything about it
	 * is sent: register memory in ias_sc_conn_pd(), post receives, offer a
	 * buffer with ias_sc_conn_set_buf(). Non-zero fails the connection. */
	int (*prepare)(struct ias_sc_conn *c, void *arg);
	/* Called when a connection is freed, after its QP is destroyed and
	 * before its PD is: deregister what prepare registered. */
	void (*release)(struct ias_sc_conn *c, void *arg);
	void *arg;
};

/* Open the device, allocate the shared PD, completion channel and CQs, set
 * up TLS 1.3 (only) with the certificates. 0 or negative errno; on -EPROTO
 * (TLS set-up) ias_sc_tls_error() has the text. */
int ias_sc_ctx_new(const struct ias_sc_config *cfg, struct ias_sc_ctx **out);
void ias_sc_ctx_free(struct ias_sc_ctx *ctx);
/* The shared completion channel (pollable fd) and CQs: every connection's
 * QP sends to scq and receives to rcq; wr_id is the application's. */
struct ibv_comp_channel *ias_sc_ctx_channel(struct ias_sc_ctx *ctx);
struct ibv_cq *ias_sc_ctx_send_cq(struct ias_sc_ctx *ctx);
struct ibv_cq *ias_sc_ctx_recv_cq(struct ias_sc_ctx *ctx);
/* The text of the last TLS set-up error of this thread. */
const char *ias_sc_tls_error(void);

/* Start a connection on a connected (or connecting) non-blocking stream
 * socket; the connection owns fd from here on, also on error. */
int ias_sc_accept(struct ias_sc_ctx *ctx, int fd, struct ias_sc_conn **out);
int ias_sc_connect(struct ias_sc_ctx *ctx, int fd, const char *server_name,
		   struct ias_sc_conn **out);

enum { IAS_SC_WANT_READ = 1, IAS_SC_WANT_WRITE = 2 };

/* Drive the set-up as far as it goes without blocking: 1 the QP is at RTS
 * on both sides (established), 0 in progress (wait for ias_sc_want() on the
 * fd and call again), < 0 failed: -EPROTO TLS failure (see
 * ias_sc_conn_error()), -EBADMSG etc. a bad message, -ECONNREFUSED the peer
 * sent ERROR, -ECONNRESET the peer went away, or the errno of a verbs call. */
int ias_sc_step(struct ias_sc_conn *c);
int ias_sc_want(const struct ias_sc_conn *c);
int ias_sc_fd(const struct ias_sc_conn *c);

/* After establishment: send a DONE/RESULT/ERROR message, receive one.
 * send: 0 sent or queued (call ias_sc_flush() when writable), < 0 error.
 * recv: 1 got one, 0 would block, < 0 error (-ECONNRESET at end of stream). */
int ias_sc_send_msg(struct ias_sc_conn *c, const struct ias_sc_msg *m);
int ias_sc_flush(struct ias_sc_conn *c);
int ias_sc_recv_msg(struct ias_sc_conn *c, struct ias_sc_msg *m);
/* Best effort: tell the peer (if TLS is up) why we give up. */
void ias_sc_abort(struct ias_sc_conn *c, enum ias_sc_code code);
/* Unregister and destroy the QP, release(), free the PD, close TLS and fd. */
void ias_sc_conn_free(struct ias_sc_conn *c);

struct ibv_qp *ias_sc_conn_qp(const struct ias_sc_conn *c);
struct ibv_pd *ias_sc_conn_pd(const struct ias_sc_conn *c);
int ias_sc_conn_set_buf(struct ias_sc_conn *c, uint64_t addr, uint32_t rkey, uint32_t len);
const struct ias_sc_params *ias_sc_conn_local(const struct ias_sc_conn *c);
const struct ias_sc_params *ias_sc_conn_remote(const struct ias_sc_conn *c);
/* The authenticated peer: the subject of its certificate (RFC 2253), or
 * "anonymous client" on a server without client certificates. */
const char *ias_sc_conn_peer(const struct ias_sc_conn *c);
/* Why the connection failed (TLS/verification text), "" if it did not. */
const char *ias_sc_conn_error(const struct ias_sc_conn *c);
/* The last agent registration result for this connection's QP (0 worked). */
int ias_sc_conn_reg_error(const struct ias_sc_conn *c);
int ias_sc_conn_resumed(const struct ias_sc_conn *c);
void ias_sc_conn_set_user(struct ias_sc_conn *c, void *user);
void *ias_sc_conn_user(const struct ias_sc_conn *c);

#ifdef __cplusplus
}
#endif

#endif
