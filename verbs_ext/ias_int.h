/* libias internals shared between its source files (not installed). */
#ifndef IAS_VERBS_EXT_IAS_INT_H
#define IAS_VERBS_EXT_IAS_INT_H

/* path if set, else $IAS_SOCKET, else the default socket path. */
const char *ias_socket_path(const char *path);

struct ias_client;
/* Take the socket out of the client (the client keeps no fd afterwards). */
int ias_client_detach(struct ias_client *c);

/* ---- enforce.c: per-QP orders inside the process --------------------- */
#include <stddef.h>
#include <stdint.h>
#include <infiniband/verbs.h>

/* Hook the QP's context (post_send/post_recv wrappers) and track the QP so
 * that orders naming it can be carried out. 0 or negative errno. */
int ias_int_track_qp(struct ibv_qp *qp);
/* Same, for a QP created with IBV_QP_INIT_ATTR_SEND_OPS_FLAGS (it has a
 * usable ibv_qp_ex): its wr_complete is wrapped too. Only for such QPs. */
int ias_int_track_qp_ex(struct ibv_qp *qp);
void ias_int_untrack_qp(struct ibv_qp *qp);
/* Hook a context at once (post_send/post_recv, and create_qp_ex, through
 * which QPs created with send_ops_flags are tracked with
 * ias_int_track_qp_ex as they are made). 0 or negative errno. */
int ias_int_hook_context(struct ibv_context *c);
/* fn is called (no lock held) with every QP the hooked create_qp_ex
 * makes; the interposer registers it there. NULL: none. */
void ias_int_set_qp_created(void (*fn)(struct ibv_qp *));
int ias_int_qp_known(const struct ibv_qp *qp);

/* A UD destination seen on a tracked UD QP, waiting to be told to the agent. */
struct ias_int_dest {
	uint32_t qpn;
	char device[64];
	uint32_t rqpn, dlid;
	uint8_t dgid[16];
};
void ias_int_note_ah(struct ibv_ah *ah, const struct ibv_ah_attr *attr);
void ias_int_forget_ah(struct ibv_ah *ah);
/* fn is called (under an internal lock: it must only wake someone) when a
 * new destination is queued. */
void ias_int_set_dest_notify(void (*fn)(void));
size_t ias_int_take_dests(struct ias_int_dest *out, size_t cap);

struct ias_qp_info;
/* Describe a QP as the agent wants it (ibv_query_qp for the remote end). */
void ias_int_qp_info(struct ibv_qp *qp, struct ias_qp_info *i);

void ias_int_atfork_prepare(void);
void ias_int_atfork_parent(void);
void ias_int_atfork_child(void);

/* ---- libias.c, register.c, orders.c ---------------------------------- */
#include <stdbool.h>

#define IAS_INT_REQ_CAP 4096	/* bytes of one request libias sends */
#define IAS_INT_ORD_BATCH 16	/* orders taken from the connection at once */

struct ias_qp_order;

/* register.c: the per-process registration connection, for orders.c. */
/* Up to cap orders that wait on the connection, without waiting. */
int ias_int_reg_take_orders(struct ias_qp_order *out, int cap);
/* The connection's fd for poll(), -1 none; reconnects (and registers every
 * QP again) when the connection was lost. reply: IAS_CTL_MAX_MSG bytes. */
int ias_int_reg_watch_fd(uint8_t *reply);
/* Connect (registering every known QP again): 0, the connection's fd when
 * want_fd, or a negative errno. */
int ias_int_reg_open(bool want_fd);
/* The registration lock, held across fork() (orders.c's atfork handlers). */
void ias_int_reg_lock(void);
void ias_int_reg_unlock(void);

/* orders.c: carry out (or, with IAS_ORDERS=manual, only record) orders and
 * queue them for ias_poll_orders(); called with no lock held. */
void ias_int_orders_apply(struct ias_qp_order *o, int n);
/* Start the order thread once per process (idempotent, thread-safe). */
void ias_int_orders_start(void);

#endif
