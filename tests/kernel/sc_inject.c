/* sc_inject: an off-connection injection attempt for the kernel-bed tests.
 *
 *   sc_inject DEV GID_INDEX TARGET_QPN GUESSED_PSN SIZE
 *
 * Plays a third process that knows the victim's QPN (QPNs are sequential
 * and visible) but not its receive PSN: it brings an RC QP of its own up
 * with the victim as destination and GUESSED_PSN as its starting send PSN,
 * then sends one SIZE-byte message of 'INJECTED' bytes. On soft-RoCE the
 * victim's responder checks the packet's PSN against the one it expects
 * (and the source address against its peer's, which a process on the same
 * node shares); a wrong guess is dropped as a duplicate or answered with a
 * sequence NAK that goes to the victim's real peer, not to us.
 *
 * Prints "INJECT qpn=Q psn=P status=<work completion status>" and exits 0
 * once the send completed in any way (the status only says what the
 * injector saw; whether the victim took the bytes is for the victim to
 * tell). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <infiniband/verbs.h>

int main(int argc, char **argv)
{
	struct ibv_device **list;
	struct ibv_context *ctx = NULL;
	struct ibv_pd *pd;
	struct ibv_cq *cq;
	struct ibv_qp *qp;
	struct ibv_mr *mr;
	struct ibv_qp_init_attr ia;
	struct ibv_qp_attr a;
	struct ibv_port_attr pa;
	union ibv_gid gid;
	struct ibv_wc wc;
	struct timespec t0, t;
	unsigned long qpn, psn, size;
	int gidx, i, n;
	char *buf;

	if (argc != 6) {
		fprintf(stderr, "usage: sc_inject DEV GID_INDEX TARGET_QPN GUESSED_PSN SIZE\n");
		return 2;
	}
	gidx = atoi(argv[2]);
	qpn = strtoul(argv[3], NULL, 0);
	psn = strtoul(argv[4], NULL, 0) & 0xFFFFFF;
	size = strtoul(argv[5], NULL, 0);
	list = ibv_get_device_list(&n);
	for (i = 0; list && i < n; i++)
		if (strcmp(ibv_get_device_name(list[i]), argv[1]) == 0)
			ctx = ibv_open_device(list[i]);
	if (!ctx || ibv_query_port(ctx, 1, &pa) || ibv_query_gid(ctx, 1, gidx, &gid)) {
		fprintf(stderr, "sc_inject: cannot open %s\n", argv[1]);
		return 1;
	}
	pd = ibv_alloc_pd(ctx);
	cq = ibv_create_cq(ctx, 4, NULL, NULL, 0);
	buf = calloc(1, size ? size : 1);
	for (i = 0; i < (int)size; i++)
		buf[i] = "INJECTED"[i % 8];
	mr = pd ? ibv_reg_mr(pd, buf, size, IBV_ACCESS_LOCAL_WRITE) : NULL;
	memset(&ia, 0, sizeof(ia));
	ia.send_cq = ia.recv_cq = cq;
	ia.qp_type = IBV_QPT_RC;
	ia.cap.max_send_wr = ia.cap.max_recv_wr = 1;
	ia.cap.max_send_sge = ia.cap.max_recv_sge = 1;
	qp = cq && mr ? ibv_create_qp(pd, &ia) : NULL;
	if (!qp) {
		fprintf(stderr, "sc_inject: cannot create a QP\n");
		return 1;
	}
	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_INIT;
	a.port_num = 1;
	a.qp_access_flags = IBV_ACCESS_LOCAL_WRITE;
	if (ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_PKEY_INDEX | IBV_QP_PORT |
				      IBV_QP_ACCESS_FLAGS))
		return 1;
	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTR;
	a.path_mtu = pa.active_mtu;
	a.dest_qp_num = (uint32_t)qpn;
	a.rq_psn = 0;
	a.max_dest_rd_atomic = 1;
	a.min_rnr_timer = 1;
	a.ah_attr.port_num = 1;
	a.ah_attr.dlid = pa.lid;
	a.ah_attr.is_global = 1;
	a.ah_attr.grh.dgid = gid; /* the victim is on this node */
	a.ah_attr.grh.sgid_index = (uint8_t)gidx;
	a.ah_attr.grh.hop_limit = 64;
	if (ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_AV | IBV_QP_PATH_MTU | IBV_QP_DEST_QPN |
				      IBV_QP_RQ_PSN | IBV_QP_MAX_DEST_RD_ATOMIC |
				      IBV_QP_MIN_RNR_TIMER)) {
		perror("sc_inject: RTR");
		return 1;
	}
	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTS;
	a.timeout = 12; /* about 16 ms */
	a.retry_cnt = 1;
	a.rnr_retry = 1;
	a.sq_psn = (uint32_t)psn;
	a.max_rd_atomic = 1;
	if (ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_TIMEOUT | IBV_QP_RETRY_CNT |
				      IBV_QP_RNR_RETRY | IBV_QP_SQ_PSN | IBV_QP_MAX_QP_RD_ATOMIC)) {
		perror("sc_inject: RTS");
		return 1;
	}
	{
		struct ibv_sge sge = { .addr = (uintptr_t)buf, .length = (uint32_t)size,
				       .lkey = mr->lkey };
		struct ibv_send_wr wr = { .wr_id = 1, .sg_list = &sge, .num_sge = 1,
					  .opcode = IBV_WR_SEND, .send_flags = IBV_SEND_SIGNALED },
				   *bad;

		if (ibv_post_send(qp, &wr, &bad)) {
			perror("sc_inject: post");
			return 1;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		n = ibv_poll_cq(cq, 1, &wc);
		if (n == 1)
			break;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec > 20) {
			printf("INJECT qpn=%lu psn=%lu status=no-completion\n", qpn, psn);
			return 1;
		}
		nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
	}
	printf("INJECT qpn=%lu psn=%lu status=%s\n", qpn, psn, ibv_wc_status_str(wc.status));
	ibv_destroy_qp(qp);
	ibv_dereg_mr(mr);
	ibv_destroy_cq(cq);
	ibv_dealloc_pd(pd);
	ibv_close_device(ctx);
	ibv_free_device_list(list);
	free(buf);
	return 0;
}
