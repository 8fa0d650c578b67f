/* libias: QP registration with the local agent over one long-lived
 * per-process connection, and the verbs wrappers that register as they go.
 * Orders that arrive on this connection are collected here and carried out
 * in orders.c. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl/proto.h"
#include "verbs_ext/ias.h"
#include "verbs_ext/ias_int.h"

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
	uint8_t rq[IAS_INT_REQ_CAP];
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

/* Send a registration request, reconnecting once if the agent restarted. */
static int reg_call(struct ias_ctl_msg *req)
{
	uint8_t *reply = malloc(IAS_CTL_MAX_MSG);
	int rc;

	if (!reply)
		return -ENOMEM;
	struct ias_qp_order got[IAS_INT_ORD_BATCH];
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
		n = collect_orders_locked(got, IAS_INT_ORD_BATCH);
	pthread_mutex_unlock(&reg_lock);
	free(reply);
	ias_int_orders_apply(got, n);
	return rc;
}

/* REGISTER or UPDATE the QP info describes; the info is kept (even on
 * failure) so that it is registered again on reconnect. */
static int send_info(uint16_t op, const struct ias_qp_info *info)
{
	uint8_t rq[IAS_INT_REQ_CAP];
	struct ias_ctl_msg m;
	int rc;

	if (info_check(info))
		return -EINVAL;
	ias_ctl_msg_init(&m, rq, sizeof(rq), IAS_CTL_REQUEST, op, 0, 0);
	put_info(&m, info, true);
	if (op == IAS_CTL_OP_QP_UPDATE && info->has_remote && info->qp_type == IBV_QPT_UD) {
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

int ias_register_qp_info(const struct ias_qp_info *info)
{
	return send_info(IAS_CTL_OP_QP_REGISTER, info);
}

int ias_update_qp(const struct ias_qp_info *info)
{
	return send_info(IAS_CTL_OP_QP_UPDATE, info);
}

int ias_unregister_qp(uint32_t qpn, const char *device)
{
	uint8_t rq[IAS_INT_REQ_CAP];
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

/* ---- for the order thread (orders.c) ---------------------------------------- */

int ias_int_reg_take_orders(struct ias_qp_order *out, int cap)
{
	int n;

	pthread_mutex_lock(&reg_lock);
	n = collect_orders_locked(out, cap);
	pthread_mutex_unlock(&reg_lock);
	return n;
}

int ias_int_reg_watch_fd(uint8_t *reply)
{
	int fd;

	pthread_mutex_lock(&reg_lock);
	/* Lost the agent: reconnect (and register again) once a second. */
	if (!reg && reg_lost && nknown)
		(void)reg_connect(reply, true);
	fd = reg && reg_pid == getpid() ? ias_client_fd(reg) : -1;
	pthread_mutex_unlock(&reg_lock);
	return fd;
}

int ias_int_reg_open(bool want_fd)
{
	uint8_t *reply = malloc(IAS_CTL_MAX_MSG);
	int rc;

	if (!reply)
		return -ENOMEM;
	pthread_mutex_lock(&reg_lock);
	rc = reg_connect(reply, true);
	if (rc == 0 && want_fd)
		rc = ias_client_fd(reg);
	pthread_mutex_unlock(&reg_lock);
	free(reply);
	return rc;
}

void ias_int_reg_lock(void)
{
	pthread_mutex_lock(&reg_lock);
}

void ias_int_reg_unlock(void)
{
	pthread_mutex_unlock(&reg_lock);
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
	ias_int_orders_start();
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
