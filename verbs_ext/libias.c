/* libias: the IAS verbs (report, fetch, release, alerts), QP registration
 * over one long-lived per-process connection, and QP orders. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sema/ctlproto.h"
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
	pthread_mutex_unlock(&reg_lock);
	free(reply);
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

static void qp_info(struct ibv_qp *qp, struct ias_qp_info *i)
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

	if (!qp)
		return -EINVAL;
	qp_info(qp, &i);
	return ias_register_qp_info(&i);
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
		qp_info(qp, &i);
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
	return ibv_destroy_qp(qp);
}

/* ---- orders ------------------------------------------------------------ */

int ias_orders_fd(void)
{
	uint8_t *reply = malloc(IAS_CTL_MAX_MSG);
	int rc;

	if (!reply)
		return -ENOMEM;
	pthread_mutex_lock(&reg_lock);
	rc = reg_connect(reply, true);
	if (rc == 0)
		rc = ias_client_fd(reg);
	pthread_mutex_unlock(&reg_lock);
	free(reply);
	return rc;
}

int ias_poll_orders(struct ias_qp_order *o)
{
	struct ias_ctl_attr a;
	struct ias_ctl_hdr h;
	struct ias_rd r;
	uint8_t *buf;
	size_t len;
	int rc;

	memset(o, 0, sizeof(*o));
	buf = malloc(IAS_CTL_MAX_MSG);
	if (!buf)
		return -ENOMEM;
	pthread_mutex_lock(&reg_lock);
	if (!reg || reg_pid != getpid()) {
		rc = 0; /* no connection, so no orders */
		goto out;
	}
	for (;;) {
		rc = ias_client_event(reg, buf, IAS_CTL_MAX_MSG, &len, 0);
		if (rc == -ECONNRESET) {
			ias_client_close(reg); /* reconnect on the next registration */
			reg = NULL;
		}
		if (rc <= 0)
			goto out;
		ias_ctl_parse_hdr(buf, len, &h, &r);
		if (h.op == IAS_CTL_EV_QP_ORDER)
			break;
	}
	while (ias_ctl_next(&r, &a) == 1) {
		if (a.type == IAS_CTL_A_QPN)
			ias_ctl_get_u32(&a, &o->qpn);
		else if (a.type == IAS_CTL_A_DEVICE)
			ias_ctl_get_str(&a, o->device, sizeof(o->device));
		else if (a.type == IAS_CTL_A_ACTION)
			ias_ctl_get_str(&a, o->action, sizeof(o->action));
	}
	rc = 1;
out:
	pthread_mutex_unlock(&reg_lock);
	free(buf);
	return rc;
}
