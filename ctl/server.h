/* The control-socket transport both daemons (the agent sema and the manager
 * sem) serve their control protocol (ctlproto) with: an AF_UNIX
 * SOCK_SEQPACKET listener (or the socket-activation fd), accepting with
 * SO_PEERCRED/SO_PEERGROUPS and the peer's comm, a client limit, and for every
 * datagram the documented validation order: size (MSG_TRUNC: TOOBIG), header
 * and attributes (ias_ctl_validate_msg), kind is REQUEST, authorisation of
 * privileged ops against the daemon's control gid, then the daemon's handler
 * for the op. Every request gets exactly one reply.
 *
 * Local users cannot starve it: each uid but root holds at most
 * max_clients_per_user connections, and the last reserved_clients of the
 * max_clients slots are only for root and the control group. Refusals
 * (connections turned away, requests failing validation or the privilege
 * check, and what a handler reports through ctlsrv_refused) are counted per
 * uid; each uid gets at most CTLSRV_REFUSAL_LINES log lines per
 * CTLSRV_REFUSAL_WINDOW_MS, and the rest of a window is one summary line
 * ("uid 1000: 19874 requests refused in the last 10 s") when it closes. What the ops do, what a
 * closing client leaves behind and which events go to whom stay with the
 * daemon. Daemon code: it logs through common/log.h. */
#ifndef IAS_CTL_SERVER_H
#define IAS_CTL_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "ctl/proto.h"

#define CTLSRV_MAX_GROUPS 64

struct ctlsrv;
struct ctlsrv_user;

/* One connection. The daemon reads these fields (and may set subscribed);
 * the transport owns the rest. */
struct ctlsrv_client {
	struct ctlsrv *srv;
	struct ctlsrv_client *next;
	uint64_t id;		/* 1, 2, ... in order of connection */
	int fd;
	sd_event_source *src;
	struct ucred cred;	/* SO_PEERCRED at accept */
	gid_t groups[CTLSRV_MAX_GROUPS];
	int ngroups;
	char comm[32];		/* /proc/PID/comm at accept, "" if unknown */
	int subscribed;		/* the daemon's: wants broadcast events */
	/* The daemon's: what this connection registered (a per-connection
	 * cap), and a stamp for when the count was last made exact. */
	unsigned long nregs;
	uint64_t nregs_stamp;
	struct ctlsrv_user *user;	/* the transport's per-uid record */
};

#define CTLSRV_REFUSAL_WINDOW_MS 10000
#define CTLSRV_REFUSAL_LINES 5

/* One request on its way through a handler. */
struct ctlsrv_req {
	void *ctx;			/* the daemon's, from ctlsrv_conf */
	struct ctlsrv_client *cl;
	struct ias_ctl_hdr h;
	struct ias_rd attrs;		/* the request's attributes */
	struct ias_ctl_msg *rep;	/* the reply being built (status 0) */
	char actor[96];			/* "uid=U pid=P (comm)" */
	char msg[IAS_CTL_MESSAGE_MAX + 1];	/* error text; "" = generic */
};

/* A handler returns 0 (the reply in x->rep is sent) or an IAS_CTL_E_*
 * status (an error reply with x->msg, or the status's generic text). */
struct ctlsrv_handler {
	uint16_t op;
	int (*fn)(struct ctlsrv_req *x);
};

struct ctlsrv_conf {
	sd_event *ev;
	void *ctx;
	const struct ctlsrv_handler *handlers;
	size_t nhandlers;
	gid_t control_gid;		/* (gid_t)-1: root only */
	unsigned max_clients;
	unsigned max_clients_per_user;	/* per uid but root; 0: no cap */
	unsigned reserved_clients;	/* of max_clients, for root and control_gid */
	/* The refusal log budget per uid; 0: CTLSRV_REFUSAL_WINDOW_MS and
	 * CTLSRV_REFUSAL_LINES (tests shorten the window). */
	unsigned refusal_window_ms;
	unsigned refusal_lines;
	/* Reply texts that name the daemon. */
	const char *perm_msg;		/* privileged op from an unprivileged peer */
	const char *unknown_op_msg;	/* op without a handler */
	const char *reply_toobig_msg;	/* reply larger than one message */
	/* Non-NULL: log refusals (privilege, with this group name; client
	 * limit; SO_PEERCRED) and failed sends. NULL: stay quiet. */
	const char *log_group;
	/* Optional: every error reply (status) goes past here. */
	void (*on_error)(void *ctx, int status);
	/* Optional: a client is about to be freed (peer closed or stop). */
	void (*on_close)(void *ctx, struct ctlsrv_client *cl);
};

/* Error text for a handler: sets x->msg, returns status. */
__attribute__((format(printf, 3, 4)))
int ctlsrv_fail(struct ctlsrv_req *x, int status, const char *fmt, ...);

/* A handler refuses x for a reason worth a log line: 1 when the caller's
 * uid may have the line now (log it), 0 when its budget for this window is
 * spent (the refusal goes into the uid's summary). Counts the refusal. */
int ctlsrv_refused(struct ctlsrv_req *x);

/* The admission rule, pure (unit tests): 0 admits a new connection, else
 * CTLSRV_FULL (every slot taken), CTLSRV_RESERVED (only reserved slots
 * left and the peer is not privileged) or CTLSRV_USER_CAP (this uid holds
 * its cap already; root has none). */
enum { CTLSRV_FULL = 1, CTLSRV_RESERVED, CTLSRV_USER_CAP };
int ctlsrv_admit(const struct ctlsrv_conf *conf, unsigned nclients, unsigned user_nconn,
		 uid_t uid, int privileged);

/* Listens on listen_fd if >= 0 (socket activation; not unlinked at stop),
 * else creates path (its directory 0755 if missing, socket 0666; peers are
 * told apart by their credentials). 0 or negative errno. */
int ctlsrv_start(const struct ctlsrv_conf *conf, const char *path, int listen_fd,
		 struct ctlsrv **out);
/* Closes every client (on_close for each), the listener, the path we made. */
void ctlsrv_stop(struct ctlsrv *srv);
unsigned ctlsrv_nclients(const struct ctlsrv *srv);
/* Iteration over the connected clients: first with cl = NULL. */
struct ctlsrv_client *ctlsrv_next(struct ctlsrv *srv, struct ctlsrv_client *cl);
struct ctlsrv_client *ctlsrv_find(struct ctlsrv *srv, uint64_t id);
/* Sends one datagram, never blocking; a full socket drops it. */
void ctlsrv_send(struct ctlsrv_client *cl, const void *buf, size_t len);

#endif
