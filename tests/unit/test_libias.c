/* libias against a fake agent: verbs, status mapping, alerts, QP
 * registration over the shared connection, queued orders, reconnect with
 * re-registration, and behaviour without an agent. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ctl/proto.h"
#include "tests/unit/tap.h"
#include "tests/unit/test_iasctl_fake.h"
#include "verbs_ext/ias.h"

static int refuse;        /* status to answer REPORT_ATTACK with */
static int pending = 1;   /* GET_ATTACK_PID has something */
static int drop_after;    /* close the connection after the next reply */

static int handler(const struct ias_ctl_hdr *h, struct ias_rd *attrs, struct ias_ctl_msg *m,
		   int fd, void *arg)
{
	uint8_t ev[512];
	struct ias_ctl_msg e;
	int close_it = 0;

	(void)attrs;
	(void)arg;
	switch (h->op) {
	case IAS_CTL_OP_REPORT_ATTACK:
		if (refuse) {
			ias_ctl_msg_init(m, m->buf, m->cap, IAS_CTL_REPLY, h->op, h->seq, refuse);
			ias_ctl_put_str(m, IAS_CTL_A_MESSAGE, "refused");
			break;
		}
		ias_ctl_nest_begin(m, IAS_CTL_A_BLOCK);
		ias_ctl_put_u64(m, IAS_CTL_A_BLOCK_ID, 1);
		ias_ctl_nest_end(m);
		ias_ctl_put_str(m, IAS_CTL_A_INCIDENT_ID, "I-1");
		break;
	case IAS_CTL_OP_GET_ATTACK_PID:
		if (!pending) {
			ias_ctl_msg_init(m, m->buf, m->cap, IAS_CTL_REPLY, h->op, h->seq,
					 IAS_CTL_E_AGAIN);
			ias_ctl_put_str(m, IAS_CTL_A_MESSAGE, "nothing pending");
			break;
		}
		ias_ctl_put_u32(m, IAS_CTL_A_PID, 977);
		ias_ctl_put_str(m, IAS_CTL_A_INCIDENT_ID, "I-1");
		ias_ctl_put_str(m, IAS_CTL_A_REASON, "trace");
		break;
	case IAS_CTL_OP_RELEASE:
		ias_ctl_put_u32(m, IAS_CTL_A_COUNT, 2);
		break;
	case IAS_CTL_OP_SUBSCRIBE:
		/* The reply must go first: send it from here, then the alert. */
		ias_ctl_msg_finish(m);
		send(fd, m->buf, m->len, 0);
		ias_ctl_msg_init(&e, ev, sizeof(ev), IAS_CTL_EVENT, IAS_CTL_EV_ALERT, 0, 0);
		ias_ctl_put_u32(&e, IAS_CTL_A_PID, 4242);
		ias_ctl_put_str(&e, IAS_CTL_A_INCIDENT_ID, "I-9");
		ias_ctl_put_str(&e, IAS_CTL_A_REASON, "reported");
		ias_ctl_put_str(&e, IAS_CTL_A_NODE, "n07");
		ias_ctl_put_str(&e, IAS_CTL_A_ORIGIN, "analyzer");
		ias_ctl_put_u64(&e, IAS_CTL_A_TS_MS, 123);
		ias_ctl_msg_finish(&e);
		send(fd, ev, e.len, 0);
		m->err = -ECANCELED; /* already sent: the fake must not send it again */
		break;
	case IAS_CTL_OP_QP_REGISTER:
		/* An order racing the reply: libias must queue it. */
		ias_ctl_msg_init(&e, ev, sizeof(ev), IAS_CTL_EVENT, IAS_CTL_EV_QP_ORDER, 0, 0);
		ias_ctl_put_u32(&e, IAS_CTL_A_QPN, 26);
		ias_ctl_put_str(&e, IAS_CTL_A_DEVICE, "sim0");
		ias_ctl_put_str(&e, IAS_CTL_A_ACTION, "pause");
		ias_ctl_msg_finish(&e);
		send(fd, ev, e.len, 0);
		break;
	default:
		break;
	}
	if (drop_after) {
		drop_after = 0;
		close_it = 1;
	}
	return close_it;
}

int main(void)
{
	struct ias_qp_info qi = { .qpn = 26, .qp_type = 2, .qp_state = 0, .device = "sim0",
				  .port = 1, .simulated = 1 };
	struct ias_qp_order o;
	struct ias_alert al;
	struct fake *f;
	uint8_t last[IAS_CTL_MAX_MSG];
	char s[256], ops[1024];
	uint32_t v;
	size_t len;
	int fd;

	/* No agent at all. */
	setenv("IAS_SOCKET", "/nonexistent/ias.sock", 1);
	is_int(ias_report_attack(1234), -ECONNREFUSED, "no agent: report -> -ECONNREFUSED");
	is_int(ias_register_qp_info(&qi), -ECONNREFUSED, "no agent: register -> -ECONNREFUSED");
	is_int(ias_registration_error(), -ECONNREFUSED, "registration error recorded");
	is_str(ias_strerror(-ECONNREFUSED), "cannot reach the IAS agent (is sema running?)",
	       "strerror for an absent agent");
	errno = 0;
	ok(ias_create_qp(NULL, NULL, getpid() + 1) == NULL && errno == EPERM,
	   "create_qp with another pid: NULL, EPERM");

	f = fake_start(handler, NULL);
	if (!f)
		tap_skip_all("cannot start the fake agent");
	setenv("IAS_SOCKET", fake_path(f), 1);

	is_int(ias_report_attack_reason(4242, "scan"), 0, "report accepted");
	fake_requests(f, NULL, last, sizeof(last), &len);
	fake_attr_u32(last, len, IAS_CTL_A_PID, &v);
	is_int(v, 4242, "report carries the PID");
	fake_attr_str(last, len, IAS_CTL_A_REASON, s, sizeof(s));
	is_str(s, "scan", "report carries the reason");
	is_int(ias_report_attack(0), -EINVAL, "pid 0 refused locally");
	refuse = IAS_CTL_E_NEVERBLOCK;
	is_int(ias_report_attack(1), -ECANCELED, "never-block refusal -> -ECANCELED");
	refuse = IAS_CTL_E_PERM;
	is_int(ias_report_attack(1), -EPERM, "permission refusal -> -EPERM");
	refuse = IAS_CTL_E_NOENT;
	is_int(ias_report_attack(1), -ESRCH, "no such process -> -ESRCH");
	refuse = 0;

	is_int(ias_get_attack_pid(), 977, "get_attack_pid returns the pending PID");
	pending = 0;
	is_int(ias_get_attack_pid(), 0, "nothing pending -> 0");
	is_int(ias_release_block(977), 2, "release returns the count");

	fd = ias_alert_subscribe();
	ok(fd >= 0, "subscribe gives an fd");
	is_int(ias_alert_read(fd, &al), 1, "alert read");
	is_int(al.pid, 4242, "alert pid");
	is_str(al.incident, "I-9", "alert incident");
	is_str(al.origin, "analyzer", "alert origin");
	is_int((int)al.ts_ms, 123, "alert time");
	close(fd);

	memset(&o, 0, sizeof(o));
	is_int(ias_poll_orders(&o), 0, "no orders before any registration");
	is_int(ias_register_qp_info(&qi), 0, "QP registered");
	is_int(ias_registration_error(), 0, "registration error cleared");
	ok(ias_orders_fd() >= 0, "orders fd available");
	is_int(ias_poll_orders(&o), 1, "the order that raced the reply was queued");
	is_int(o.qpn, 26, "order qpn");
	is_str(o.device, "sim0", "order device");
	is_str(o.action, "pause", "order action");
	is_int(ias_poll_orders(&o), 0, "no further orders");

	/* The agent "restarts": the connection drops after the next reply. */
	fake_ops(f, ops, sizeof(ops));
	drop_after = 1;
	qi.qp_state = 2;
	qi.has_remote = 1;
	qi.remote_lid = 3;
	qi.remote_qpn = 99;
	is_int(ias_update_qp(&qi), 0, "update before the drop");
	is_int(ias_unregister_qp(27, "sim0"), 0, "a call after the drop reconnects");
	fake_ops(f, ops, sizeof(ops));
	is_str(ops, "QP_UPDATE,QP_REGISTER,QP_UNREGISTER",
	       "after reconnecting, the known QP was registered again");
	is_int(ias_unregister_qp(26, "sim0"), 0, "unregister");
	is_int(ias_unregister_qp(26, NULL), -EINVAL, "unregister without a device");

	fake_stop(f);
	return tap_done();
}
