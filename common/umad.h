/* The one umad layer of the agent (sema) and the manager (sem): a SecMgt
 * endpoint on an RDMA port through libibumad, on the daemon's sd-event
 * reactor.
 *
 * Two umad handles on the chosen port (common/umadport.h picks it): a
 * serving handle, registered for the SecMgt class with the methods the
 * daemon serves (the kernel allows one agent per method on a port, so an
 * agent and a manager on one node split them), and a requesting handle,
 * registered without methods, that sends the daemon's own requests and
 * receives their answers -- optionally also SA (class 0x03) queries. Under
 * the ibsim simulator (`simulated`) the serving handle also takes the SM
 * class (0x01): umad2sim crashes a client on a MAD of a class nobody
 * registered (docs/fabric-bed.md, problem 8); those MADs are dropped here.
 *
 * When no port exists yet (the driver loads after the daemon at boot), the
 * layer looks again every retry_ms and calls on_attach once it holds one.
 *
 * Requests in flight are tracked here (common/umad_track.h: TIDs from one
 * generator, deadlines on one timer). Refused MADs are counted and logged
 * through one rate limiter. Authentication (mad_defs) stays with the
 * daemon: this layer moves bytes and never trusts them. */
#ifndef IAS_COMMON_UMAD_H
#define IAS_COMMON_UMAD_H

#include <stddef.h>
#include <stdint.h>
#include <infiniband/umad.h>
#include <systemd/sd-event.h>

#include "common/umad_track.h"
#include "common/umadport.h"

struct ias_umad;

/* One MAD received (valid during the callback only). */
struct ias_umad_rx {
	const uint8_t *mad;
	size_t len;
	uint8_t mgmt_class;
	uint16_t lid;		/* the sender's, host order */
	int has_grh;
	uint8_t gid[16];	/* the sender's GID when has_grh */
	uint8_t gid_index;	/* the local GID index it arrived on */
	ib_mad_addr_t addr;	/* as umad gave it: ias_umad_reply answers by it */
};

/* Which port, and how to wait for one. */
struct ias_umad_where {
	const char *ca;			/* NULL / "": any */
	unsigned port;			/* 0: any */
	int simulated;			/* under ibsim: also take the SM class */
	uint64_t retry_ms;		/* how often to look for a port */
};

struct ias_umad_ops {
	const char *who;		/* "agent" or "manager", for log lines */
	struct ias_umad_where where;
	unsigned gid_index;		/* source GID index of requests sent with a GRH */
	uint32_t serve_methods;		/* SecMgt methods served: bit n = method n (< 32) */
	int sa;				/* register the SA class on the requesting handle */
	size_t max_pending;		/* the size of the table of requests in flight */
	uint64_t *rejected;		/* counter of refused MADs, or NULL */
	void *ctx;
	/* A SecMgt request on the serving handle. */
	void (*on_request)(void *ctx, struct ias_umad *u, const struct ias_umad_rx *rx);
	/* An answer (SecMgt, or SA when sa) on the requesting handle. */
	void (*on_response)(void *ctx, struct ias_umad *u, const struct ias_umad_rx *rx);
	/* A tracked request's deadline passed: retry it (ias_umad_retry) or
	 * forget it (ias_umad_untrack); one left alone is forgotten. */
	void (*on_expired)(void *ctx, struct ias_umad *u, struct ias_pend_ent *e);
	/* The layer holds a port now (also at start). May be NULL. */
	void (*on_attach)(void *ctx, struct ias_umad *u);
};

/* 0 (attached, or looking on a timer), or negative errno (no memory, the
 * reactor refused a source). ops is copied; ops->ctx must outlive u. */
int ias_umad_start(sd_event *ev, const struct ias_umad_ops *ops, struct ias_umad **out);
void ias_umad_stop(struct ias_umad *u);

int ias_umad_attached(const struct ias_umad *u);
/* The port held (zeroed when none). Its LID, port GUID and the master SM's
 * LID are read again while the LID is 0 (the SM may assign it after the
 * attach), or always with ias_umad_refresh. */
const struct ias_umad_port *ias_umad_port(struct ias_umad *u);
/* Read the port's LID, GUID and SM LID again: 0 or negative errno. */
int ias_umad_refresh(struct ias_umad *u);
/* The master SM's LID as the local port last saw it (0: none known). */
uint16_t ias_umad_sm_lid(const struct ias_umad *u);
/* "waiting for an RDMA port" or "CA/PORT lid N". */
void ias_umad_describe(struct ias_umad *u, char *buf, size_t len);

/* Answer rx on the serving handle, back the way it came (GRH included). */
int ias_umad_reply(struct ias_umad *u, const struct ias_umad_rx *rx, const uint8_t mad[256]);
/* Send a request on the requesting handle to QP1 of lid, by GRH to gid when
 * gid is not NULL (RoCE: LID 0). sa: through the SA agent. timeout_ms is
 * the kernel's send timeout (0: none). 0, -ENODEV (no port) or -EIO. */
int ias_umad_send(struct ias_umad *u, int sa, uint16_t lid, const uint8_t *gid,
		  const uint8_t mad[256], unsigned timeout_ms);

/* Count a refused MAD and log why, at most 10 lines in 10 s. */
void ias_umad_refused(struct ias_umad *u, const char *why, uint16_t lid);

/* ---- requests in flight ---------------------------------------------------- */

/* Track a request about to be sent: a fresh TID, due in timeout_ms. NULL
 * when the table is full. */
struct ias_pend_ent *ias_umad_track(struct ias_umad *u, uint32_t kind, uint64_t key,
				    uint64_t timeout_ms);
/* Another try: a fresh TID, due in timeout_ms. Returns the TID. */
uint32_t ias_umad_retry(struct ias_umad *u, struct ias_pend_ent *e, uint64_t timeout_ms);
struct ias_pend_ent *ias_umad_find(struct ias_umad *u, uint32_t tid);
void ias_umad_untrack(struct ias_umad *u, struct ias_pend_ent *e);
/* Forget every request of kind about key. */
void ias_umad_untrack_key(struct ias_umad *u, uint32_t kind, uint64_t key);
size_t ias_umad_pending(const struct ias_umad *u, uint32_t kind);
/* Any request still tracked, or NULL (to release every one at a stop). */
struct ias_pend_ent *ias_umad_first(struct ias_umad *u);

#endif
