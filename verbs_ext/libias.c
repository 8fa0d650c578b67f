/* libias: the IAS verbs (report, fetch, release, alerts) and the error
 * mapping every libias call uses. QP registration over one long-lived
 * per-process connection is in register.c, QP orders in orders.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ctl/proto.h"
#include "verbs_ext/ias.h"
#include "verbs_ext/ias_int.h"

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

/* One request on a fresh connection into buf (IAS_CTL_MAX_MSG bytes),
 * the reply's status mapped to errno. The connection is left in *c, which
 * the caller closes, whatever the result. */
static int open_call(struct ias_client **c, struct ias_ctl_msg *req, uint8_t *buf,
		     size_t *len, struct ias_rd *attrs)
{
	struct ias_ctl_hdr h;
	int rc;

	*c = NULL;
	rc = ias_client_open(NULL, c);
	if (rc)
		return rc;
	rc = ias_client_call(*c, req, buf, IAS_CTL_MAX_MSG, len);
	if (rc)
		return rc;
	ias_ctl_parse_hdr(buf, *len, &h, attrs);
	return ias_status_to_errno(h.status);
}

/* One request on a fresh connection; the reply (status 0) in *reply, which
 * the caller frees. */
static int one_shot(struct ias_ctl_msg *req, uint8_t **reply, size_t *len, struct ias_rd *attrs)
{
	struct ias_client *c;
	uint8_t *buf;
	int rc;

	*reply = NULL;
	buf = malloc(IAS_CTL_MAX_MSG);
	if (!buf)
		return -ENOMEM;
	rc = open_call(&c, req, buf, len, attrs);
	ias_client_close(c);
	if (rc) {
		free(buf);
		return rc;
	}
	*reply = buf;
	return 0;
}

int ias_report_attack_reason(pid_t pid, const char *reason)
{
	uint8_t rq[IAS_INT_REQ_CAP], *reply = NULL;
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

int ias_report_qp(const char *device, uint32_t qpn, const char *reason)
{
	uint8_t rq[IAS_INT_REQ_CAP], *reply = NULL;
	struct ias_ctl_msg m;
	struct ias_rd r;
	size_t len;
	int rc;

	if (!device || !*device || qpn == 0 || qpn > 0xffffff)
		return -EINVAL;
	if (strlen(device) > IAS_CTL_DEVICE_MAX || (reason && strlen(reason) > IAS_CTL_REASON_MAX))
		return -ENAMETOOLONG;
	ias_ctl_msg_init(&m, rq, sizeof(rq), IAS_CTL_REQUEST, IAS_CTL_OP_REPORT_QP, 0, 0);
	ias_ctl_put_str(&m, IAS_CTL_A_DEVICE, device);
	ias_ctl_put_u32(&m, IAS_CTL_A_QPN, qpn);
	if (reason && *reason)
		ias_ctl_put_str(&m, IAS_CTL_A_REASON, reason);
	rc = one_shot(&m, &reply, &len, &r);
	free(reply);
	return rc;
}

pid_t ias_get_attack_pid(void)
{
	uint8_t rq[IAS_INT_REQ_CAP], *reply = NULL;
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
	uint8_t rq[IAS_INT_REQ_CAP], *reply = NULL;
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
	uint8_t rq[IAS_INT_REQ_CAP], *reply;
	struct ias_client *c;
	struct ias_ctl_msg m;
	size_t len;
	int rc;

	reply = malloc(IAS_CTL_MAX_MSG);
	if (!reply)
		return -ENOMEM;
	ias_ctl_msg_init(&m, rq, sizeof(rq), IAS_CTL_REQUEST, IAS_CTL_OP_SUBSCRIBE, 0, 0);
	rc = open_call(&c, &m, reply, &len, NULL);
	/* Hand the bare fd over; alerts are read with ias_alert_read. An
	 * alert that raced the reply stays pending in the agent for
	 * GET_ATTACK_PID, so nothing is lost by dropping the queue here. */
	if (rc == 0)
		rc = ias_client_detach(c);
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
