/* libias per-QP enforcement (verbs_ext/enforce.c) against fake device
 * contexts: the ops-table wrappers, pause (error and wait), cut, resume,
 * unknown QPs, several contexts, UD destination history. No RDMA needed:
 * ibv_modify_qp and ibv_get_device_name are defined here. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/unit/tap.h"
#include "verbs_ext/ias.h"
#include "verbs_ext/ias_int.h"

static int sends[2], recvs[2], modifies;
static enum ibv_qp_state last_state;

const char *ibv_get_device_name(struct ibv_device *device)
{
	return device->name;
}

int ibv_modify_qp(struct ibv_qp *qp, struct ibv_qp_attr *attr, int attr_mask)
{
	(void)attr_mask;
	modifies++;
	last_state = attr->qp_state;
	qp->state = attr->qp_state;
	return 0;
}

static int send0(struct ibv_qp *qp, struct ibv_send_wr *wr, struct ibv_send_wr **bad)
{
	(void)qp, (void)wr, (void)bad;
	sends[0]++;
	return 0;
}

static int recv0(struct ibv_qp *qp, struct ibv_recv_wr *wr, struct ibv_recv_wr **bad)
{
	(void)qp, (void)wr, (void)bad;
	recvs[0]++;
	return 0;
}

static int send1(struct ibv_qp *qp, struct ibv_send_wr *wr, struct ibv_send_wr **bad)
{
	(void)qp, (void)wr, (void)bad;
	sends[1]++;
	return 0;
}

static int recv1(struct ibv_qp *qp, struct ibv_recv_wr *wr, struct ibv_recv_wr **bad)
{
	(void)qp, (void)wr, (void)bad;
	recvs[1]++;
	return 0;
}

static struct ibv_device dev0, dev1;
static struct ibv_context ctx0, ctx1;
static struct ibv_qp qa, qb, qc, qud;

static void mkqp(struct ibv_qp *q, struct ibv_context *c, uint32_t qpn, enum ibv_qp_type t)
{
	memset(q, 0, sizeof(*q));
	q->context = c;
	q->qp_num = qpn;
	q->qp_type = t;
	q->state = IBV_QPS_RTS;
}

static int order(uint32_t qpn, const char *dev, const char *action)
{
	struct ias_qp_order o;

	memset(&o, 0, sizeof(o));
	o.qpn = qpn;
	snprintf(o.device, sizeof(o.device), "%s", dev);
	snprintf(o.action, sizeof(o.action), "%s", action);
	return ias_apply_order(&o);
}

static int post(struct ibv_qp *q)
{
	struct ibv_send_wr wr, *bad = NULL;
	int rc;

	memset(&wr, 0, sizeof(wr));
	rc = ibv_post_send(q, &wr, &bad);
	if (rc && bad != &wr)
		return -1000; /* the failing WR must be reported */
	return rc;
}

static int post_r(struct ibv_qp *q)
{
	struct ibv_recv_wr wr, *bad = NULL;

	memset(&wr, 0, sizeof(wr));
	return ibv_post_recv(q, &wr, &bad);
}

static _Atomic int waiter_rc = -1;

static void *waiter(void *arg)
{
	atomic_store(&waiter_rc, post(arg));
	return NULL;
}

int main(void)
{
	struct ias_int_dest d[4];
	struct ibv_ah_attr aa;
	struct ibv_send_wr uw, *bad;
	struct ibv_ah *ah = (struct ibv_ah *)&aa; /* any distinct pointer */
	pthread_t t;
	int s0;

	snprintf(dev0.name, sizeof(dev0.name), "rxe0");
	snprintf(dev1.name, sizeof(dev1.name), "rxe1");
	ctx0.device = &dev0;
	ctx0.ops.post_send = send0;
	ctx0.ops.post_recv = recv0;
	ctx1.device = &dev1;
	ctx1.ops.post_send = send1;
	ctx1.ops.post_recv = recv1;
	mkqp(&qa, &ctx0, 0x11, IBV_QPT_RC);
	mkqp(&qb, &ctx0, 0x12, IBV_QPT_RC);
	mkqp(&qc, &ctx1, 0x11, IBV_QPT_RC);
	mkqp(&qud, &ctx1, 0x20, IBV_QPT_UD);

	unsetenv("IAS_PAUSE");
	unsetenv("IAS_PAUSE_SQD");
	is_int(ias_int_track_qp(&qa), 0, "track a QP");
	ok(ctx0.ops.post_send != send0 && ctx0.ops.post_recv != recv0,
	   "the context's post_send/post_recv are wrapped");
	is_int(ias_int_track_qp(&qb), 0, "track a second QP on the same context");
	is_int(ias_int_track_qp(&qc), 0, "track a QP on another context");
	is_int(post(&qa), 0, "running QP: post goes through");
	is_int(sends[0], 1, "...to the context's own post_send");
	is_int(post(&qc), 0, "other context: post goes through");
	is_int(sends[1], 1, "...to that context's own post_send");
	is_int(ias_qp_blocked(&qa), 0, "state: running");

	is_int(order(0x11, "rxe0", "pause"), 0, "pause order applied");
	is_int(ias_qp_blocked(&qa), 1, "state: paused");
	is_int(post(&qa), EAGAIN, "paused QP: post_send fails with EAGAIN, bad_wr set");
	is_int(post_r(&qa), EAGAIN, "paused QP: post_recv fails with EAGAIN");
	is_int(sends[0], 1, "nothing reached the provider");
	is_int(recvs[0], 0, "no receive reached the provider");
	is_int(modifies, 0, "pause without IAS_PAUSE_SQD does not modify the QP");
	is_int(post(&qb), 0, "another QP on the same context still works");
	is_int(post(&qc), 0, "same QPN on another device still works");
	is_int(order(0x11, "rxe0", "pause"), 0, "pausing again is harmless");
	is_int(order(0x11, "rxe0", "resume"), 0, "resume order applied");
	is_int(post(&qa), 0, "resumed QP: post goes through");
	is_int(ias_qp_blocked(&qa), 0, "state: running again");
	is_int(order(0x11, "rxe0", "resume"), 0, "resuming a running QP is harmless");

	setenv("IAS_PAUSE_SQD", "1", 1);
	is_int(order(0x12, "rxe0", "pause"), 0, "pause with IAS_PAUSE_SQD=1");
	ok(modifies == 1 && last_state == IBV_QPS_SQD, "...moved the QP to SQD");
	is_int(order(0x12, "rxe0", "resume"), 0, "resume");
	ok(modifies == 2 && last_state == IBV_QPS_RTS, "...moved it back to RTS");
	unsetenv("IAS_PAUSE_SQD");

	is_int(order(0x11, "rxe0", "cut"), 0, "cut order applied");
	ok(modifies == 3 && last_state == IBV_QPS_ERR, "cut moved the QP to ERR");
	is_int(post(&qa), EPERM, "cut QP: post fails with EPERM");
	is_int(ias_qp_blocked(&qa), 2, "state: cut");
	is_int(order(0x11, "rxe0", "resume"), -EPERM, "a cut QP cannot resume");
	is_int(order(0x11, "rxe0", "pause"), -EPERM, "a cut QP cannot be paused");

	is_int(order(0x99, "rxe0", "pause"), -ENOENT, "unknown QPN: -ENOENT");
	is_int(order(0x11, "mlx5_0", "pause"), -ENOENT, "unknown device: -ENOENT");
	is_int(order(0x12, "rxe0", "explode"), -EINVAL, "unknown action: -EINVAL");

	ias_int_untrack_qp(&qa);
	is_int(ias_qp_blocked(&qa), -ENOENT, "untracked QP is unknown");

	/* IAS_PAUSE=wait: the posting thread waits until resumed. */
	setenv("IAS_PAUSE", "wait", 1);
	is_int(order(0x11, "rxe1", "pause"), 0, "pause (wait mode)");
	s0 = sends[1];
	ok(pthread_create(&t, NULL, waiter, &qc) == 0, "a thread posts on the paused QP");
	usleep(100000);
	is_int(sends[1], s0, "the post did not reach the provider while paused");
	is_int(order(0x11, "rxe1", "resume"), 0, "resume");
	pthread_join(t, NULL);
	is_int(atomic_load(&waiter_rc), 0, "the waiting post went through after resume");
	is_int(sends[1], s0 + 1, "...to the provider");
	is_int(order(0x11, "rxe1", "pause"), 0, "pause again (wait mode)");
	ok(pthread_create(&t, NULL, waiter, &qc) == 0, "a thread posts on the paused QP");
	is_int(order(0x11, "rxe1", "cut"), 0, "cut while a post waits");
	pthread_join(t, NULL);
	is_int(atomic_load(&waiter_rc), EPERM, "the waiting post fails with EPERM");
	unsetenv("IAS_PAUSE");

	/* UD destinations. */
	memset(&aa, 0, sizeof(aa));
	aa.dlid = 7;
	aa.is_global = 1;
	aa.grh.dgid.raw[0] = 0xfd;
	aa.grh.dgid.raw[15] = 2;
	ias_int_note_ah(ah, &aa);
	is_int(ias_int_track_qp(&qud), 0, "track a UD QP");
	memset(&uw, 0, sizeof(uw));
	uw.wr.ud.ah = ah;
	uw.wr.ud.remote_qpn = 0x55;
	is_int(ibv_post_send(&qud, &uw, &bad), 0, "UD post goes through");
	is_int(ibv_post_send(&qud, &uw, &bad), 0, "UD post to the same destination");
	is_int((int)ias_int_take_dests(d, 4), 1, "one new destination recorded");
	ok(d[0].qpn == 0x20 && d[0].rqpn == 0x55 && d[0].dlid == 7 && d[0].dgid[0] == 0xfd &&
	   d[0].dgid[15] == 2 && strcmp(d[0].device, "rxe1") == 0,
	   "destination: QP, device, remote QPN and the AH's DLID/DGID");
	uw.wr.ud.remote_qpn = 0x56;
	is_int(ibv_post_send(&qud, &uw, &bad), 0, "UD post to another QPN");
	is_int((int)ias_int_take_dests(d, 4), 1, "...recorded as a new destination");
	ias_int_forget_ah(ah);
	is_int((int)ias_int_take_dests(d, 4), 0, "nothing else pending");
	ias_int_untrack_qp(&qud);
	ias_int_untrack_qp(&qb);
	ias_int_untrack_qp(&qc);
	return tap_done();
}
