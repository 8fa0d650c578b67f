/* libias: the IAS verbs for applications, detectors and tools.
 *
 * Talks to the node's IAS agent over its local control socket
 * ($IAS_SOCKET, default /run/ias/sema.sock). Every function is thread-safe,
 * never exits and never aborts the application. Errors are negative errno
 * values; see libias(3) for how agent refusals map onto them. */
#ifndef IAS_IAS_H
#define IAS_IAS_H

#include <stdint.h>
#include <sys/types.h>

#include <infiniband/verbs.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- verbs for attack detectors (need root or group "ias") ------------- */

/* Report an attacking process on this node: the agent blocks it and traces
 * its QPs. 0 on success (also when the process was already blocked). */
int ias_report_attack(pid_t pid);
int ias_report_attack_reason(pid_t pid, const char *reason);
/* Report by QP, the victim's side: this node's QP device/qpn is under
 * attack from its remote end. The local process is not blocked; the agent
 * opens an incident and traces to the remote end, learnt from the kernel or
 * a peer agent (never from the QP's registration alone), whose owner is
 * blocked there. 0 when the incident is opened (see ias_report_qp(3)). */
int ias_report_qp(const char *device, uint32_t qpn, const char *reason);
/* Fetch the next pending alert's PID: > 0 a PID, 0 nothing pending, < 0 error. */
pid_t ias_get_attack_pid(void);
/* Release every active block on pid: >= 0 the number of blocks released. */
int ias_release_block(pid_t pid);

struct ias_alert {
	pid_t pid;
	char incident[32];
	char reason[256];
	char node[64];
	char origin[16];
	uint64_t ts_ms;
};
/* Open a dedicated connection subscribed to alerts. Returns a pollable fd
 * (close it with close(2)) or a negative errno. */
int ias_alert_subscribe(void);
/* Read one alert from that fd (blocks unless the fd is readable):
 * 1 got one, 0 the agent closed the connection, < 0 error. */
int ias_alert_read(int fd, struct ias_alert *a);

/* ---- QP registration (any user; the agent takes the PID from the socket) */

/* ibv_create_qp and register the new QP with the agent. pid must be
 * getpid(): otherwise NULL with errno EPERM. If the agent cannot be reached
 * the QP is still returned; see ias_registration_error(). */
struct ibv_qp *ias_create_qp(struct ibv_pd *pd, struct ibv_qp_init_attr *attr, pid_t pid);
/* ibv_modify_qp, then report the new state (and the remote end at RTR). */
int ias_modify_qp(struct ibv_qp *qp, struct ibv_qp_attr *attr, int attr_mask);
/* Unregister, then ibv_destroy_qp. Returns ibv_destroy_qp's result. */
int ias_destroy_qp(struct ibv_qp *qp);

struct ias_qp_info {
	uint32_t qpn;
	uint8_t qp_type, qp_state; /* IBV_QPT_*, IBV_QPS_* */
	char device[64];
	uint32_t port;
	int has_remote;
	uint32_t remote_lid;
	uint8_t remote_gid[16];
	uint32_t remote_qpn;
	int simulated;
	char peer[256]; /* authenticated peer identity (e.g. certificate subject), "" none */
};
/* Register a QP created some other way (e.g. by an interposer). */
int ias_register_qp(struct ibv_qp *qp);
/* Register from a description (e.g. simulated QPs on the simulator bed). */
int ias_register_qp_info(const struct ias_qp_info *info);
/* Record a state change or the remote end (QPN + device identify the QP). */
int ias_update_qp(const struct ias_qp_info *info);
int ias_unregister_qp(uint32_t qpn, const char *device);
/* The last registration failure in this process (0 if the last one worked).
 * With $IAS_DEBUG set, the first failure is also reported once on stderr. */
int ias_registration_error(void);

/* ---- orders from the agent for this process's QPs ---------------------- */

struct ias_qp_order {
	uint32_t qpn;
	char device[64];
	char action[16]; /* "pause", "cut" or "resume" */
	int result;      /* what carrying it out gave: 0 done, < 0 negative errno
			  * (-ENOENT: not a QP this process created through
			  * libias or the interposer), IAS_ORDER_NOT_APPLIED */
};
#define IAS_ORDER_NOT_APPLIED 1 /* IAS_ORDERS=manual: left to the caller */

/* libias carries orders out itself, at once, from a background thread it
 * starts at the first registration (see libias(3): IAS_ORDERS, IAS_PAUSE,
 * IAS_PAUSE_SQD). These report what was done. */
/* A descriptor that is POLLIN while ias_poll_orders() has something,
 * or a negative errno. */
int ias_orders_fd(void);
/* Take one order (already carried out unless IAS_ORDERS=manual) without
 * waiting: 1 got one, 0 none, < 0 error. */
int ias_poll_orders(struct ias_qp_order *o);
/* Carry out one order on a QP of this process: pause (new posts fail with
 * EAGAIN, or wait with IAS_PAUSE=wait), cut (QP to ERR, posts fail with
 * EPERM) or resume. 0 or a negative errno (-ENOENT unknown QP, -EPERM resume
 * or pause of a cut QP, -EINVAL unknown action, or ibv_modify_qp's error). */
int ias_apply_order(const struct ias_qp_order *o);
/* 0 running, 1 paused, 2 cut, -ENOENT not a QP libias knows by pointer. */
int ias_qp_blocked(const struct ibv_qp *qp);

/* Text for any value these functions return. */
const char *ias_strerror(int err);

/* ---- lower-level client (iasctl and tools) ----------------------------- */

struct ias_client;
struct ias_ctl_msg; /* ctl/proto.h (built into the caller) */

/* path NULL: $IAS_SOCKET or /run/ias/sema.sock. 0 or negative errno. */
int ias_client_open(const char *path, struct ias_client **out);
/* Assign a fresh seq to req, finish it, send it and wait (5 s) for the reply
 * with the same seq; events arriving meanwhile are queued. On 0 the reply
 * (already validated, any status) is in reply[0..*len). Errors: the builder's
 * error, -ETIMEDOUT, -ECONNRESET (agent went away), -EBADMSG (invalid reply),
 * -EMSGSIZE, or the errno of a failed send/recv. */
int ias_client_call(struct ias_client *c, struct ias_ctl_msg *req, void *reply, size_t cap,
		    size_t *len);
/* Next event (queued ones first), waiting up to timeout_ms (-1 forever,
 * 0 not at all): 1 got one in buf[0..*len), 0 none within the time,
 * < 0 error (-ECONNRESET when the agent closed the connection). */
int ias_client_event(struct ias_client *c, void *buf, size_t cap, size_t *len, int timeout_ms);
int ias_client_fd(struct ias_client *c);
void ias_client_close(struct ias_client *c);

/* Map a reply status (IAS_CTL_E_*) to the negative errno libias returns. */
int ias_status_to_errno(int status);

#ifdef __cplusplus
}
#endif

#endif
