/* The control-socket transport both daemons (the agent sema and the manager
 * sem) serve their control protocol (ctlproto) with: an AF_UNIX
 * SOCK_SEQPACKET listener (or the socket-activation fd), accepting with
 * SO_PEERCRED/SO_PEERGROUPS and the peer's comm, a client limit, and for every
 * datagram the documented validation order: size (MSG_TRUNC: TOOBIG), header
 * and attributes (ias_ctl_validate_msg), kind is REQUEST, authorisation of
 * privileged ops against the daemon's control gid, then the daemon's handler
 * for the op. Every request gets exactly one reply. What the ops do, what a
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
};

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
