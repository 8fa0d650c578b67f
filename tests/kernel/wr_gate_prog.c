/* wr_gate_prog: two RC QPs of one process, connected to each other on one
 * device, made with ibv_create_qp_ex (send ops SEND and RDMA_WRITE) and
 * posted to with the extended post API only (ibv_wr_*). Driven line by line
 * on stdin by tests/kernel/test_wr_gate.sh, which runs it under
 * libias-preload.so:
 *
 *   usage: wr_gate_prog DEVICE GID_INDEX
 *   prints  CREATED pid=P a=QPN b=QPN     (or NOEX errno=E: no qp_ex here)
 *           and waits for a line (any) before it connects the QPs
 *   prints  READY pid=P a=QPN b=QPN       connected (RTS), B's receives posted
 *   post    one batch on A: SEND + RDMA WRITE to B, both signaled;
 *           prints POST rc=R, then (R = 0) waits up to 5 s for the
 *           completions: CQE send=N recv=M bad=K
 *   probe   one batch on A with one RDMA WRITE (uses no receive of B);
 *           prints POST rc=R and, when R = 0, CQE ... as for post
 *   poll    prints CQE send=N recv=M bad=K for whatever completes within
 *           300 ms (nothing is expected when posts were refused)
 *   quit
 * B has 100 receives posted at start: every "post" uses one. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <infiniband/verbs.h>

#include "tests/lib/roce_qp.h"

#define BUF 4096
#define NRECV 100

struct end {
	struct ibv_qp *qp;
	struct ibv_qp_ex *x;
	struct ibv_cq *cq;
	struct ibv_mr *mr;
	char *buf;
};

static union ibv_gid gid;
static int gidx;

static int die(const char *what, int err)
{
	printf("FAIL %s: %s\n", what, strerror(err));
	fflush(stdout);
	return 2;
}

static int make_end(struct ibv_context *c, struct ibv_pd *pd, struct end *e)
{
	struct ibv_qp_init_attr_ex a;

	e->buf = calloc(1, BUF);
	e->cq = ibv_create_cq(c, 256, NULL, NULL, 0);
	if (!e->buf || !e->cq)
		return errno ? errno : ENOMEM;
	e->mr = ibv_reg_mr(pd, e->buf, BUF,
			   IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE);
	if (!e->mr)
		return errno;
	memset(&a, 0, sizeof(a));
	a.qp_type = IBV_QPT_RC;
	a.send_cq = e->cq;
	a.recv_cq = e->cq;
	a.cap.max_send_wr = 64;
	a.cap.max_recv_wr = NRECV + 8;
	a.cap.max_send_sge = 1;
	a.cap.max_recv_sge = 1;
	a.pd = pd;
	a.comp_mask = IBV_QP_INIT_ATTR_PD | IBV_QP_INIT_ATTR_SEND_OPS_FLAGS;
	a.send_ops_flags = IBV_QP_EX_WITH_SEND | IBV_QP_EX_WITH_RDMA_WRITE;
	e->qp = ibv_create_qp_ex(c, &a);
	if (!e->qp)
		return errno;
	e->x = ibv_qp_to_qp_ex(e->qp);
	return e->x ? 0 : EOPNOTSUPP;
}

static int connect_to(struct end *e, uint32_t rqpn)
{
	int rc = roce_qp_init(e->qp, IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE);

	if (!rc)
		rc = roce_qp_rtr(e->qp, rqpn, 0, &gid, gidx);
	return rc ? rc : roce_qp_rts(e->qp, 0);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Poll both CQs until want completions arrived or ms passed. */
static void reap(struct end *a, struct end *b, int want, int ms)
{
	struct ibv_wc wc[16];
	int sends = 0, recvs = 0, bad = 0, n, i;
	double end = now() + ms / 1000.0;
	struct timespec nap = { 0, 1000000 };

	while (now() < end && (want == 0 || sends + recvs < want)) {
		n = ibv_poll_cq(a->cq, 16, wc);
		for (i = 0; i < n; i++) {
			sends++;
			bad += wc[i].status != IBV_WC_SUCCESS;
		}
		n = ibv_poll_cq(b->cq, 16, wc);
		for (i = 0; i < n; i++) {
			recvs++;
			bad += wc[i].status != IBV_WC_SUCCESS;
		}
		nanosleep(&nap, NULL);
	}
	printf("CQE send=%d recv=%d bad=%d\n", sends, recvs, bad);
}

int main(int argc, char **argv)
{
	struct ibv_device **list;
	struct ibv_context *c = NULL;
	struct ibv_pd *pd;
	struct end a, b;
	char line[64];
	uint64_t id = 0;
	int i, rc;

	if (argc != 3) {
		fprintf(stderr, "usage: %s DEVICE GID_INDEX\n", argv[0]);
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	gidx = atoi(argv[2]);
	list = ibv_get_device_list(NULL);
	for (i = 0; list && list[i]; i++)
		if (strcmp(ibv_get_device_name(list[i]), argv[1]) == 0)
			c = ibv_open_device(list[i]);
	if (!c)
		return die("open device", ENODEV);
	if (ibv_query_gid(c, 1, gidx, &gid))
		return die("query gid", errno);
	pd = ibv_alloc_pd(c);
	if (!pd)
		return die("alloc pd", errno);
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	rc = make_end(c, pd, &a);
	if (!rc)
		rc = make_end(c, pd, &b);
	if (rc) {
		printf("NOEX errno=%d (%s)\n", rc, strerror(rc));
		return 3;
	}
	printf("CREATED pid=%d a=%u b=%u\n", (int)getpid(), a.qp->qp_num, b.qp->qp_num);
	if (!fgets(line, sizeof(line), stdin))
		return 0;
	if ((rc = connect_to(&a, b.qp->qp_num)) || (rc = connect_to(&b, a.qp->qp_num)))
		return die("connect", rc);
	for (i = 0; i < NRECV; i++) {
		struct ibv_sge s = { (uintptr_t)b.buf, 64, b.mr->lkey };
		struct ibv_recv_wr r = { .wr_id = (uint64_t)i, .sg_list = &s, .num_sge = 1 };
		struct ibv_recv_wr *bad;

		rc = ibv_post_recv(b.qp, &r, &bad);
		if (rc)
			return die("post recv", rc);
	}
	printf("READY pid=%d a=%u b=%u\n", (int)getpid(), a.qp->qp_num, b.qp->qp_num);

	while (fgets(line, sizeof(line), stdin)) {
		int send = strncmp(line, "post", 4) == 0;

		if (send || strncmp(line, "probe", 5) == 0) {
			ibv_wr_start(a.x);
			if (send) {
				a.x->wr_id = ++id;
				a.x->wr_flags = IBV_SEND_SIGNALED;
				ibv_wr_send(a.x);
				ibv_wr_set_sge(a.x, a.mr->lkey, (uintptr_t)a.buf, 64);
			}
			a.x->wr_id = ++id;
			a.x->wr_flags = IBV_SEND_SIGNALED;
			ibv_wr_rdma_write(a.x, b.mr->rkey, (uintptr_t)b.buf + 1024);
			ibv_wr_set_sge(a.x, a.mr->lkey, (uintptr_t)a.buf + 1024, 256);
			rc = ibv_wr_complete(a.x);
			printf("POST rc=%d\n", rc);
			if (rc == 0)
				reap(&a, &b, send ? 3 : 1, 5000);
		} else if (strncmp(line, "poll", 4) == 0) {
			reap(&a, &b, 0, 300);
		} else if (strncmp(line, "quit", 4) == 0) {
			break;
		}
	}
	return 0;
}
