/* libias: the IAS verbs (report, fetch, release, alerts), QP registration
 * over one long-lived per-process connection, and QP orders. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ctl/proto.h"
#include "verbs_ext/ias.h"
#include "verbs_ext/ias_int.h"

#define REQ_CAP 4096

int ias_status_to_errno(int status)
{
	switch (status) {
	case IAS_CTL_OK: return 0;
	case IAS_CTL_E_INVAL: return -EINVAL;
	case IAS_CTL_E_PERM: return -EPERM;
	case IAS_CTL_E_NOENT: return -ESRCH;
	case IAS_CTL_E_NEVERBLOCK: return -ECANCELED;
	case IAS_CTL_E_AGAIN: return -EAGAIN;
	case IAS_CTL_E_EXIST: return -EEXIST;
	case IAS_CTL_E_BUSY: return -EBUSY;
	case IAS_CTL_E_INTERNAL: return -EIO;
	case IAS_CTL_E_VERSION: return -EPROTONOSUPPORT;
	case IAS_CTL_E_TOOBIG: return -EMSGSIZE;
	default: return -EPROTO;
	}
}

const char *ias_strerror(int err)
{
	if (err >= 0)
		return "success";
	if (err >= IAS_CTL_E_FIRST && err <= IAS_CTL_E_LAST)
		return ias_ctl_strerror(err);
	switch (-err) {
	case ECONNREFUSED: return "cannot reach the IAS agent (is sema running?)";
	case ECONNRESET: return "the IAS agent closed the connection";
	case ETIMEDOUT: return "the IAS agent did not answer in time";
	case EBADMSG: return "invalid reply from the IAS agent";
	case ECANCELED: return ias_ctl_strerror(IAS_CTL_E_NEVERBLOCK);
	case EPERM: return ias_ctl_strerror(IAS_CTL_E_PERM);
	case ESRCH: return ias_ctl_strerror(IAS_CTL_E_NOENT);
	case EAGAIN: return ias_ctl_strerror(IAS_CTL_E_AGAIN);
	case EIO: return ias_ctl_strerror(IAS_CTL_E_INTERNAL);
	default: {
		const char *s = strerrordesc_np(-err);

		return s ? s : "unknown error";
	}
	}
}

/* One request on a fresh connection; the reply (status 0) in *reply, which
 * the caller frees. */
static int one_shot(struct ias_ctl_msg *req, uint8_t **reply, size_t *len, struct ias_rd *attrs)
{
	struct ias_client *c = NULL;
	struct ias_ctl_hdr h;
	uint8_t *buf = NULL;
	int rc;

	*reply = NULL;
	buf = malloc(IAS_CTL_MAX_MSG);
	if (!buf)
		return -ENOMEM;
	rc = ias_client_open(NULL, &c);
	if (rc)
		goto out;
	rc = ias_client_call(c, req, buf, IAS_CTL_MAX_MSG, len);
	if (rc)
		goto out;
	ias_ctl_parse_hdr(buf, *len, &h, attrs);
	rc = ias_status_to_errno(h.status);
	if (rc)
		goto out;
	*reply = buf;
	buf = NULL;
out:
	ias_client_close(c);
	free(buf);
	return rc;
}

int ias_report_attack_reason(pid_t pid, const char *reason)
{
	uint8_t rq[REQ_CAP], *reply = NULL;
	struct ias_ctl_msg m;
	struct ias_rd r;
	size_t len;
	int rc;

	if (pid <= 0)
		return -EINVAL;
	if (reason && strlen(reason) > IAS_CTL_REASON_MAX)
		return -ENAMETOOLONG;
	ias_ctl_msg_init(&m, rq, sizeof(rq), IAS_CTL_REQUEST, IAS_CTL_OP_REPORT_ATTACK, 0, 0);
	ias_ctl_put_u32(&m, IAS_CTL_A_PID, (uint32_t)pid);
	if (reason && *reason)
		ias_ctl_put_str(&m, IAS_CTL_A_REASON, reason);
	rc = one_shot(&m, &reply, &len, &r);
	free(reply);
	return rc;
}

int ias_report_attack(pid_t pid)
{
	return ias_report_attack_reason(pid, NULL);
}

pid_t ias_get_attack_pid(void)
{
	uint8_t rq[REQ_CAP], *reply = NULL;
	struct ias_ctl_attr a;
	struct ias_ctl_msg m;
	struct ias_rd r;
	uint32_t pid = 0;
	size_t len;
	int rc;

	ias_ctl_msg_init(&m, rq, sizeof(rq), IAS_CTL_REQUEST, IAS_CTL_OP_GET_ATTACK_PID, 0, 0);
	rc = one_shot(&m, &reply, &len, &r);
	if (rc == -EAGAIN)
		return 0;
	if (rc)
		return rc;
	while (ias_ctl_next(&r, &a) == 1)
		if (a.type == IAS_CTL_A_PID)
			ias_ctl_get_u32(&a, &pid);
	free(reply);
	if (pid == 0 || pid > INT32_MAX)
		return -EBADMSG;
	return (pid_t)pid;
}

int ias_release_block(pid_t pid)
{
	uint8_t rq[REQ_CAP], *reply = NULL;
	struct ias_ctl_attr a;
	struct ias_ctl_msg m;
	struct ias_rd r;
	uint32_t count = 0;
	size_t len;
	int rc;

	if (pid <= 0)
		return -EINVAL;
	ias_ctl_msg_init(&m, rq, sizeof(rq), IAS_CTL_REQUEST, IAS_CTL_OP_RELEASE, 0, 0);
	ias_ctl_put_u32(&m, IAS_CTL_A_PID, (uint32_t)pid);
	rc = one_shot(&m, &reply, &len, &r);
	if (rc)
		return rc;
	while (ias_ctl_next(&r, &a) == 1)
		if (a.type == IAS_CTL_A_COUNT)
			ias_ctl_get_u32(&a, &count);
	free(reply);
	return count > INT32_MAX ? INT32_MAX : (int)count;
}

int ias_alert_subscribe(void)
{
	uint8_t rq[REQ_CAP], *reply = NULL;
	struct ias_client *c = NULL;
	struct ias_ctl_msg m;
	struct ias_ctl_hdr h;
	size_t len;
	int rc;

	reply = malloc(IAS_CTL_MAX_MSG);
	if (!reply)
		return -ENOMEM;
	rc = ias_client_open(NULL, &c);
	if (rc)
		goto out;
	ias_ctl_msg_init(&m, rq, sizeof(rq), IAS_CTL_REQUEST, IAS_CTL_OP_SUBSCRIBE, 0, 0);
	rc = ias_client_call(c, &m, reply, IAS_CTL_MAX_MSG, &len);
	if (rc)
		goto out;
	ias_ctl_parse_hdr(reply, len, &h, NULL);
	rc = ias_status_to_errno(h.status);
	if (rc)
		goto out;
	/* Hand the bare fd over; alerts are read with ias_alert_read. An
	 * alert that raced the reply stays pending in the agent for
	 * GET_ATTACK_PID, so nothing is lost by dropping the queue here. */
	rc = ias_client_detach(c);
out:
	ias_client_close(c);
	free(reply);
	return rc;
}

int ias_alert_read(int fd, struct ias_alert *al)
{
	struct ias_ctl_attr a;
	struct ias_ctl_hdr h;
	struct ias_rd r;
	uint8_t *buf;
	uint32_t pid;
	ssize_t n;
	int rc;

	memset(al, 0, sizeof(*al));
	buf = malloc(IAS_CTL_MAX_MSG);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		n = recv(fd, buf, IAS_CTL_MAX_MSG, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			goto out;
		}
		if (n == 0) {
			rc = 0;
			goto out;
		}
		if (ias_ctl_validate(buf, (size_t)n) == 0 &&
		    ias_ctl_parse_hdr(buf, (size_t)n, &h, &r) == 0 &&
		    h.kind == IAS_CTL_EVENT && h.op == IAS_CTL_EV_ALERT)
			break;
		/* anything else on an alert connection is skipped */
	}
	while (ias_ctl_next(&r, &a) == 1) {
		switch (a.type) {
		case IAS_CTL_A_PID:
			ias_ctl_get_u32(&a, &pid);
			al->pid = pid > INT32_MAX ? 0 : (pid_t)pid;
			break;
		case IAS_CTL_A_INCIDENT_ID:
			ias_ctl_get_str(&a, al->incident, sizeof(al->incident));
			break;
		case IAS_CTL_A_REASON:
			ias_ctl_get_str(&a, al->reason, sizeof(al->reason));
			break;
		case IAS_CTL_A_NODE:
			ias_ctl_get_str(&a, al->node, sizeof(al->node));
			break;
		case IAS_CTL_A_ORIGIN:
			ias_ctl_get_str(&a, al->origin, sizeof(al->origin));
			break;
		case IAS_CTL_A_TS_MS:
			ias_ctl_get_u64(&a, &al->ts_ms);
			break;
		default:
			break;
		}
	}
	rc = 1;
out:
	free(buf);
	return rc;
}

/* ---- the per-process registration connection ---------------------------
 *
 * Opened lazily, guarded by reg_lock. SO_PEERCRED is fixed when a connection
 * is made, so a child after fork() must not reuse its parent's connection:
 * it is dropped whenever getpid() changes. When the agent restarts (the
 * connection fails with -ECONNRESET), the connection is reopened once and
 * every QP this process registered is registered again. */

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ias_client *reg;
static pid_t reg_pid;
static int reg_err;
static int reg_warned;
static int reg_lost;	/* a connection was lost: register everything again */
static struct ias_qp_info *known;
static size_t nknown, capknown;

#define ORD_BATCH 16
static int collect_orders_locked(struct ias_qp_order *out, int cap);
static void apply_and_queue(struct ias_qp_order *o, int n);
static void orders_start(void);

static void put_info(struct ias_ctl_msg *m, const struct ias_qp_info *i, bool full)
{
	ias_ctl_put_u32(m, IAS_CTL_A_QPN, i->qpn);
	ias_ctl_put_str(m, IAS_CTL_A_DEVICE, i->device);
	if (full) {
		ias_ctl_put_u8(m, IAS_CTL_A_QP_TYPE, i->qp_type);
		ias_ctl_put_u8(m, IAS_CTL_A_QP_STATE, i->qp_state);
		ias_ctl_put_u32(m, IAS_CTL_A_PORT, i->port);
	}
	if (i->has_remote) {
		static const uint8_t zero[16];

		ias_ctl_put_u32(m, IAS_CTL_A_REMOTE_LID, i->remote_lid);
		if (memcmp(i->remote_gid, zero, 16) != 0)
			ias_ctl_put_bytes(m, IAS_CTL_A_REMOTE_GID, i->remote_gid, 16);
		ias_ctl_put_u32(m, IAS_CTL_A_REMOTE_QPN, i->remote_qpn);
	}
	if (i->simulated)
		ias_ctl_put_u8(m, IAS_CTL_A_SIMULATED, 1);
	if (i->peer[0] && memchr(i->peer, '\0', sizeof(i->peer)))
		ias_ctl_put_str(m, IAS_CTL_A_PEER, i->peer);
}

static int info_check(const struct ias_qp_info *i)
{
	if (!i || !i->device[0] || memchr(i->device, '\0', sizeof(i->device)) == NULL ||
	    strlen(i->device) > IAS_CTL_DEVICE_MAX)
		return -EINVAL;
	return 0;
}

static void known_set(const struct ias_qp_info *i)
{
	size_t k;

	for (k = 0; k < nknown; k++)
		if (known[k].qpn == i->qpn && strcmp(known[k].device, i->device) == 0) {
			known[k] = *i;
			return;
		}
	if (nknown == capknown) {
		size_t ncap = capknown ? capknown * 2 : 16;
		struct ias_qp_info *n = realloc(known, ncap * sizeof(*n));

		if (!n)
			return; /* only re-registration after a restart suffers */
		known = n;
		capknown = ncap;
	}
	known[nknown++] = *i;
}

static void known_del(uint32_t qpn, const char *device)
{
	size_t k;

	for (k = 0; k < nknown; k++)
		if (known[k].qpn == qpn && strcmp(known[k].device, device) == 0) {
			known[k] = known[--nknown];
			return;
		}
}

/* Call with reg_lock held. Status mapped to errno. */
static int reg_call_once(struct ias_ctl_msg *req, uint8_t *reply)
{
	struct ias_ctl_hdr h;
	size_t len;
	int rc;

	rc = ias_client_call(reg, req, reply, IAS_CTL_MAX_MSG, &len);
	if (rc)
		return rc;
	ias_ctl_parse_hdr(reply, len, &h, NULL);
	return ias_status_to_errno(h.status);
}

static int reg_connect(uint8_t *reply, bool replay)
{
	uint8_t rq[REQ_CAP];
	struct ias_ctl_msg m;
	size_t k;
	int rc;

	if (reg && reg_pid != getpid()) {
		ias_client_close(reg); /* the parent's connection: not ours */
		reg = NULL;
		nknown = 0;      /* and neither are the parent's QPs */
	}
	if (reg)
		return 0;
	rc = ias_client_open(NULL, &reg);
	if (rc)
		return rc;
	reg_pid = getpid();
	replay = replay || reg_lost;
	reg_lost = 0;
	for (k = 0; replay && k < nknown; k++) {
		ias_ctl_msg_init(&m, rq, sizeof(rq), IAS_CTL_REQUEST, IAS_CTL_OP_QP_REGISTER, 0, 0);
		put_info(&m, &known[k], true);
		(void)reg_call_once(&m, reply);
	}
	return 0;
}

static void reg_note(int rc)
{
	reg_err = rc;
	if (rc < 0 && !reg_warned && getenv("IAS_DEBUG")) {
		reg_warned = 1;
		fprintf(stderr, "libias: QP registration with the IAS agent failed: %s\n",
			ias_strerror(rc));
	}
}

/* Send a registration request, reconnecting once if the agent restarted. */
static int reg_call(struct ias_ctl_msg *req)
{
	uint8_t *reply = malloc(IAS_CTL_MAX_MSG);
	int rc;

	if (!reply)
		return -ENOMEM;
	struct ias_qp_order got[ORD_BATCH];
	int n = 0;

	pthread_mutex_lock(&reg_lock);
	rc = reg_connect(reply, false);
	if (rc == 0) {
		rc = reg_call_once(req, reply);
		if (rc == -ECONNRESET || rc == -ENOTCONN || rc == -EPIPE) {
			ias_client_close(reg);
			reg = NULL;
			rc = reg_connect(reply, true);
			if (rc == 0)
				rc = reg_call_once(req, reply);
		}
	}
	reg_note(rc);
	/* Orders that arrived while the reply was awaited were queued in the
	 * client, where the order thread's poll() cannot see them. */
	if (reg)
		n = collect_orders_locked(got, ORD_BATCH);
	pthread_mutex_unlock(&reg_lock);
	free(reply);
	apply_and_queue(got, n);
	return rc;
}

int ias_register_qp_info(const struct ias_qp_info *info)
{
	uint8_t rq[REQ_CAP];
	struct ias_ctl_msg m;
	int rc;

	if (info_check(info))
		return -EINVAL;
	ias_ctl_msg_init(&m, rq, sizeof(rq), IAS_CTL_REQUEST, IAS_CTL_OP_QP_REGISTER, 0, 0);
	put_info(&m, info, true);
	rc = reg_call(&m);
	pthread_mutex_lock(&reg_lock);
	known_set(info); /* kept even on failure: registered on reconnect */
	pthread_mutex_unlock(&reg_lock);
	return rc;
}

int ias_update_qp(const struct ias_qp_info *info)
{
	uint8_t rq[REQ_CAP];
	struct ias_ctl_msg m;
	int rc;

	if (info_check(info))
		return -EINVAL;
	ias_ctl_msg_init(&m, rq, sizeof(rq), IAS_CTL_REQUEST, IAS_CTL_OP_QP_UPDATE, 0, 0);
	put_info(&m, info, true);
	if (info->has_remote && info->qp_type == IBV_QPT_UD) {
		/* A UD QP's peers are a history, not one remote end. */
		ias_ctl_nest_begin(&m, IAS_CTL_A_DEST);
		ias_ctl_put_u32(&m, IAS_CTL_A_REMOTE_LID, info->remote_lid);
		ias_ctl_put_u32(&m, IAS_CTL_A_REMOTE_QPN, info->remote_qpn);
		ias_ctl_nest_end(&m);
	}
	rc = reg_call(&m);
	pthread_mutex_lock(&reg_lock);
	known_set(info);
	pthread_mutex_unlock(&reg_lock);
	return rc;
}

int ias_unregister_qp(uint32_t qpn, const char *device)
{
	uint8_t rq[REQ_CAP];
	struct ias_ctl_msg m;

	if (!device || !*device || strlen(device) > IAS_CTL_DEVICE_MAX)
		return -EINVAL;
	pthread_mutex_lock(&reg_lock);
	known_del(qpn, device);
	pthread_mutex_unlock(&reg_lock);
	ias_ctl_msg_init(&m, rq, sizeof(rq), IAS_CTL_REQUEST, IAS_CTL_OP_QP_UNREGISTER, 0, 0);
	ias_ctl_put_u32(&m, IAS_CTL_A_QPN, qpn);
	ias_ctl_put_str(&m, IAS_CTL_A_DEVICE, device);
	return reg_call(&m);
}

int ias_registration_error(void)
{
	int rc;

	pthread_mutex_lock(&reg_lock);
	rc = reg_err;
	pthread_mutex_unlock(&reg_lock);
	return rc;
}

/* ---- verbs wrappers ---------------------------------------------------- */

void ias_int_qp_info(struct ibv_qp *qp, struct ias_qp_info *i)
{
	struct ibv_qp_init_attr init;
	struct ibv_qp_attr at;

	memset(i, 0, sizeof(*i));
	i->qpn = qp->qp_num;
	i->qp_type = (uint8_t)qp->qp_type;
	i->qp_state = (uint8_t)qp->state;
	snprintf(i->device, sizeof(i->device), "%s", ibv_get_device_name(qp->context->device));
	memset(&at, 0, sizeof(at));
	if (ibv_query_qp(qp, &at, IBV_QP_STATE | IBV_QP_PORT | IBV_QP_AV | IBV_QP_DEST_QPN,
			 &init) != 0)
		return;
	i->qp_state = (uint8_t)at.qp_state;
	i->port = at.port_num;
	if (at.qp_state >= IBV_QPS_RTR && at.qp_state <= IBV_QPS_SQD &&
	    (qp->qp_type == IBV_QPT_RC || qp->qp_type == IBV_QPT_UC)) {
		i->has_remote = 1;
		i->remote_lid = at.ah_attr.dlid;
		if (at.ah_attr.is_global)
			memcpy(i->remote_gid, at.ah_attr.grh.dgid.raw, 16);
		i->remote_qpn = at.dest_qp_num;
	}
}

int ias_register_qp(struct ibv_qp *qp)
{
	struct ias_qp_info i;
	int rc;

	if (!qp)
		return -EINVAL;
	/* Track first: an order may follow the registration at once. */
	(void)ias_int_track_qp(qp);
	ias_int_qp_info(qp, &i);
	rc = ias_register_qp_info(&i);
	orders_start();
	return rc;
}

struct ibv_qp *ias_create_qp(struct ibv_pd *pd, struct ibv_qp_init_attr *attr, pid_t pid)
{
	struct ibv_qp *qp;
	int saved;

	if (pid != getpid()) {
		errno = EPERM;
		return NULL;
	}
	qp = ibv_create_qp(pd, attr);
	if (!qp)
		return NULL;
	saved = errno;
	(void)ias_register_qp(qp); /* failure recorded in ias_registration_error() */
	errno = saved;
	return qp;
}

int ias_modify_qp(struct ibv_qp *qp, struct ibv_qp_attr *attr, int attr_mask)
{
	struct ias_qp_info i;
	int rc = ibv_modify_qp(qp, attr, attr_mask);

	if (rc == 0 && (attr_mask & IBV_QP_STATE)) {
		ias_int_qp_info(qp, &i);
		i.qp_state = (uint8_t)attr->qp_state;
		(void)ias_update_qp(&i);
	}
	return rc;
}

int ias_destroy_qp(struct ibv_qp *qp)
{
	uint32_t qpn;
	char dev[64];

	if (!qp)
		return EINVAL;
	qpn = qp->qp_num;
	snprintf(dev, sizeof(dev), "%s", ibv_get_device_name(qp->context->device));
	(void)ias_unregister_qp(qpn, dev);
	ias_int_untrack_qp(qp);
	return ibv_destroy_qp(qp);
}

/* ---- orders ------------------------------------------------------------
 *
 * Orders are carried out by a background thread, started at the first
 * registration of a QP by pointer (or by ias_orders_fd()). It sleeps in
 * poll() on the registration connection and on a wake-up eventfd, so it
 * costs nothing while no order comes; when one comes it is applied at once,
 * whatever the application is doing (even if it never calls libias again).
 * Orders that arrive while another thread awaits a reply are picked up by
 * that thread (reg_call) and applied there. Each applied order is queued
 * (bounded) for ias_poll_orders(), and counted on an eventfd in semaphore
 * mode that ias_orders_fd() returns. The thread also tells the agent about
 * new UD destinations and reconnects (registering every QP again) when the
 * agent restarts. IAS_ORDERS=manual: no thread and nothing applied; orders
 * are only reported, as in earlier releases. */

#define RING 64
static pthread_mutex_t ord_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ias_qp_order ring[RING];
static unsigned ring_head, ring_n;
static int note_fd = -1;	/* EFD_SEMAPHORE: one count per queued order */
static int wake_fd = -1;	/* wakes the thread: new UD destination, reconnect */
static int thr_state;		/* 0 not started, 1 running, -1 could not start */
static pid_t thr_pid;
static int atfork_done;

static int manual_mode(void)
{
	const char *v = getenv("IAS_ORDERS");

	return v && strcmp(v, "manual") == 0;
}

/* reg_lock held. Takes up to cap orders from the connection without
 * waiting. A lost connection is dropped (and marked for re-registration). */
static int collect_orders_locked(struct ias_qp_order *out, int cap)
{
	struct ias_ctl_attr a;
	struct ias_ctl_hdr h;
	struct ias_rd r;
	uint8_t *buf;
	size_t len;
	int n = 0, rc;

	if (!reg || reg_pid != getpid())
		return 0;
	buf = malloc(IAS_CTL_MAX_MSG);
	if (!buf)
		return 0;
	while (n < cap) {
		rc = ias_client_event(reg, buf, IAS_CTL_MAX_MSG, &len, 0);
		if (rc == -ECONNRESET) {
			ias_client_close(reg);
			reg = NULL;
			reg_lost = 1;
		}
		if (rc <= 0)
			break;
		if (ias_ctl_parse_hdr(buf, len, &h, &r) != 0 || h.op != IAS_CTL_EV_QP_ORDER)
			continue;
		memset(&out[n], 0, sizeof(out[n]));
		while (ias_ctl_next(&r, &a) == 1) {
			if (a.type == IAS_CTL_A_QPN)
				ias_ctl_get_u32(&a, &out[n].qpn);
			else if (a.type == IAS_CTL_A_DEVICE)
				ias_ctl_get_str(&a, out[n].device, sizeof(out[n].device));
			else if (a.type == IAS_CTL_A_ACTION)
				ias_ctl_get_str(&a, out[n].action, sizeof(out[n].action));
		}
		n++;
	}
	free(buf);
	return n;
}

/* No lock held: applying may call ibv_modify_qp, which the interposer
 * reports to the agent through reg_call. */
static void apply_and_queue(struct ias_qp_order *o, int n)
{
	uint64_t one = 1;
	int k;

	for (k = 0; k < n; k++) {
		o[k].result = manual_mode() ? IAS_ORDER_NOT_APPLIED : ias_apply_order(&o[k]);
		if (o[k].result < 0 && getenv("IAS_DEBUG"))
			fprintf(stderr, "libias: order %s QP 0x%x on %s: %s\n", o[k].action,
				o[k].qpn, o[k].device, ias_strerror(o[k].result));
		pthread_mutex_lock(&ord_lock);
		if (ring_n == RING) { /* drop the oldest report, never the order */
			ring_head = (ring_head + 1) % RING;
			ring_n--;
		} else if (note_fd >= 0) {
			(void)!write(note_fd, &one, sizeof(one));
		}
		ring[(ring_head + ring_n++) % RING] = o[k];
		pthread_mutex_unlock(&ord_lock);
	}
}

static void wake_thread(void)
{
	uint64_t one = 1;

	if (wake_fd >= 0)
		(void)!write(wake_fd, &one, sizeof(one));
}

/* Tell the agent about UD destinations the post wrappers saw. */
static void send_dests(void)
{
	struct ias_int_dest d[16];
	struct ias_qp_info i;
	size_t n, k;

	while ((n = ias_int_take_dests(d, 16)) > 0)
		for (k = 0; k < n; k++) {
			memset(&i, 0, sizeof(i));
			i.qpn = d[k].qpn;
			memcpy(i.device, d[k].device, sizeof(i.device));
			i.qp_type = IBV_QPT_UD;
			i.qp_state = IBV_QPS_RTS;
			i.has_remote = 1;
			i.remote_lid = d[k].dlid;
			memcpy(i.remote_gid, d[k].dgid, 16);
			i.remote_qpn = d[k].rqpn;
			(void)ias_update_qp(&i);
		}
}

static void *order_thread(void *arg)
{
	struct ias_qp_order got[ORD_BATCH];
	struct pollfd p[2];
	uint64_t v;
	uint8_t *reply;
	int n, fd;

	(void)arg;
	reply = malloc(IAS_CTL_MAX_MSG);
	if (!reply)
		return NULL;
	for (;;) {
		pthread_mutex_lock(&reg_lock);
		/* Lost the agent: reconnect (and register again) once a second. */
		if (!reg && reg_lost && nknown)
			(void)reg_connect(reply, true);
		fd = reg && reg_pid == getpid() ? ias_client_fd(reg) : -1;
		pthread_mutex_unlock(&reg_lock);
		p[0].fd = wake_fd;
		p[0].events = POLLIN;
		p[1].fd = fd;
		p[1].events = POLLIN;
		if (poll(p, 2, fd < 0 ? 1000 : -1) < 0)
			continue;
		if (p[0].revents & POLLIN)
			(void)!read(wake_fd, &v, sizeof(v));
		send_dests();
		pthread_mutex_lock(&reg_lock);
		n = collect_orders_locked(got, ORD_BATCH);
		pthread_mutex_unlock(&reg_lock);
		apply_and_queue(got, n);
	}
	return NULL;
}

static void fork_prepare(void)
{
	pthread_mutex_lock(&reg_lock);
	pthread_mutex_lock(&ord_lock);
	ias_int_atfork_prepare();
}

static void fork_parent(void)
{
	ias_int_atfork_parent();
	pthread_mutex_unlock(&ord_lock);
	pthread_mutex_unlock(&reg_lock);
}

/* The child has no order thread and must not share the parent's eventfds
 * or connection; it starts its own at its first registration. */
static void fork_child(void)
{
	ias_int_atfork_child();
	if (note_fd >= 0)
		close(note_fd);
	if (wake_fd >= 0)
		close(wake_fd);
	note_fd = wake_fd = -1;
	thr_state = 0;
	ring_n = 0;
	pthread_mutex_unlock(&ord_lock);
	pthread_mutex_unlock(&reg_lock);
}

/* Start the order thread once per process (idempotent, thread-safe). */
static void orders_start(void)
{
	pthread_attr_t at;
	sigset_t all, old;
	pthread_t t;

	if (manual_mode())
		return;
	pthread_mutex_lock(&ord_lock);
	if (thr_state != 0 && thr_pid == getpid())
		goto out;
	if (!atfork_done) {
		pthread_atfork(fork_prepare, fork_parent, fork_child);
		atfork_done = 1;
	}
	thr_state = -1;
	thr_pid = getpid();
	if (note_fd < 0)
		note_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK | EFD_SEMAPHORE);
	if (wake_fd < 0)
		wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (note_fd < 0 || wake_fd < 0)
		goto out;
	/* The application's signals are for its own threads. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&at, 64 * 1024);
	if (pthread_create(&t, &at, order_thread, NULL) == 0) {
		thr_state = 1;
		pthread_setname_np(t, "ias-orders");
	}
	pthread_attr_destroy(&at);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ring_n && note_fd >= 0) { /* orders queued before the thread existed */
		uint64_t k = ring_n;

		(void)!write(note_fd, &k, sizeof(k));
	}
out:
	pthread_mutex_unlock(&ord_lock);
	if (thr_state == 1)
		ias_int_set_dest_notify(wake_thread);
}

int ias_orders_fd(void)
{
	uint8_t *reply = malloc(IAS_CTL_MAX_MSG);
	int rc;

	if (!reply)
		return -ENOMEM;
	pthread_mutex_lock(&reg_lock);
	rc = reg_connect(reply, true);
	if (rc == 0 && manual_mode())
		rc = ias_client_fd(reg);
	pthread_mutex_unlock(&reg_lock);
	free(reply);
	if (rc < 0 || manual_mode())
		return rc;
	orders_start();
	pthread_mutex_lock(&ord_lock);
	rc = thr_state == 1 ? note_fd : -EAGAIN;
	pthread_mutex_unlock(&ord_lock);
	return rc;
}

int ias_poll_orders(struct ias_qp_order *o)
{
	struct ias_qp_order got[ORD_BATCH];
	uint64_t v;
	int n, rc = 0;

	memset(o, 0, sizeof(*o));
	/* Whatever waits on the connection first (without a thread, this is
	 * the only way orders get in). */
	pthread_mutex_lock(&reg_lock);
	n = collect_orders_locked(got, ORD_BATCH);
	pthread_mutex_unlock(&reg_lock);
	apply_and_queue(got, n);
	pthread_mutex_lock(&ord_lock);
	if (ring_n) {
		*o = ring[ring_head];
		ring_head = (ring_head + 1) % RING;
		ring_n--;
		if (note_fd >= 0)
			(void)!read(note_fd, &v, sizeof(v));
		rc = 1;
	}
	pthread_mutex_unlock(&ord_lock);
	return rc;
}
