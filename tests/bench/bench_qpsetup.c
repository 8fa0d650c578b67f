/* bench_qpsetup: QP create + connect time, timed in-process.
 *
 *   bench_qpsetup DEV GID_INDEX N
 *
 * N rounds; each creates two RC QPs on one PD and CQ and takes both through
 * RESET->INIT->RTR->RTS, connected to each other over the device's own GID
 * (loopback), then destroys them (not timed). Prints one line per round,
 * "setup TOTAL CREATE CONNECT" in microseconds: ibv_create_qp + the three
 * ibv_modify_qp of one QP, and its two parts (the round's totals over two),
 * then "median TOTAL". Run it with and without
 * LD_PRELOAD=libias-preload.so to see the interposer's cost. Not part of the
 * test suite. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <infiniband/verbs.h>

#include "tests/lib/roce_qp.h"

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int connect_qp(struct ibv_qp *qp, uint32_t dqpn, const union ibv_gid *gid, int gidx)
{
	if (roce_qp_init(qp, IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ) ||
	    roce_qp_rtr(qp, dqpn, 0, gid, gidx) || roce_qp_rts(qp, 0))
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	struct ibv_device **list = NULL;
	struct ibv_context *ctx = NULL;
	struct ibv_pd *pd = NULL;
	struct ibv_cq *cq = NULL;
	struct ibv_qp_init_attr ia;
	union ibv_gid gid;
	double *v = NULL, t, d, dc;
	int i, n, gidx, ret = 1;

	if (argc != 4) {
		fprintf(stderr, "usage: %s DEV GID_INDEX N\n", argv[0]);
		return 1;
	}
	gidx = atoi(argv[2]);
	n = atoi(argv[3]);
	if (n < 1 || !(v = calloc((size_t)n, sizeof(*v))))
		return 1;
	list = ibv_get_device_list(NULL);
	for (i = 0; list && list[i]; i++)
		if (strcmp(ibv_get_device_name(list[i]), argv[1]) == 0)
			ctx = ibv_open_device(list[i]);
	if (!ctx) {
		fprintf(stderr, "bench_qpsetup: cannot open %s\n", argv[1]);
		goto out;
	}
	pd = ibv_alloc_pd(ctx);
	cq = pd ? ibv_create_cq(ctx, 16, NULL, NULL, 0) : NULL;
	if (!cq || ibv_query_gid(ctx, 1, gidx, &gid)) {
		fprintf(stderr, "bench_qpsetup: PD/CQ/GID setup failed\n");
		goto out;
	}
	memset(&ia, 0, sizeof(ia));
	ia.send_cq = ia.recv_cq = cq;
	ia.qp_type = IBV_QPT_RC;
	ia.cap.max_send_wr = ia.cap.max_recv_wr = 8;
	ia.cap.max_send_sge = ia.cap.max_recv_sge = 1;
	for (i = 0; i < n; i++) {
		struct ibv_qp *a, *b;

		t = now_us();
		a = ibv_create_qp(pd, &ia);
		d = now_us() - t;
		t = now_us();
		b = a ? ibv_create_qp(pd, &ia) : NULL;
		d += now_us() - t;
		dc = d;
		if (!b) {
			fprintf(stderr, "bench_qpsetup: ibv_create_qp: %s\n", strerror(errno));
			if (a)
				ibv_destroy_qp(a);
			goto out;
		}
		t = now_us();
		if (connect_qp(a, b->qp_num, &gid, gidx)) {
			fprintf(stderr, "bench_qpsetup: connect: %s\n", strerror(errno));
			ibv_destroy_qp(a);
			ibv_destroy_qp(b);
			goto out;
		}
		d += now_us() - t;
		t = now_us();
		if (connect_qp(b, a->qp_num, &gid, gidx)) {
			fprintf(stderr, "bench_qpsetup: connect: %s\n", strerror(errno));
			ibv_destroy_qp(a);
			ibv_destroy_qp(b);
			goto out;
		}
		d += now_us() - t;
		ibv_destroy_qp(a);
		ibv_destroy_qp(b);
		v[i] = d / 2;
		printf("setup %.1f %.1f %.1f\n", v[i], dc / 2, (d - dc) / 2);
	}
	qsort(v, (size_t)n, sizeof(*v), cmpd);
	printf("median %.1f\n", v[n / 2]);
	ret = 0;
out:
	if (cq)
		ibv_destroy_cq(cq);
	if (pd)
		ibv_dealloc_pd(pd);
	if (ctx)
		ibv_close_device(ctx);
	if (list)
		ibv_free_device_list(list);
	free(v);
	return ret;
}
