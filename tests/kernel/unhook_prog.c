/* unhook_prog: a process that registers its QPs through libias and then
 * undoes libias's post gate, so a per-QP pause order changes nothing
 * (tests/kernel/test_undo_pause.sh).
 *
 *   unhook_prog DEV GID_INDEX STATUS
 *
 * Run under libias-preload.so: the interposer hooks the device context at
 * ibv_open_device and registers both QPs. Two RC QPs of this process, a and
 * b, are connected to each other on DEV (rxe loopback). Then the program
 * opens the same device a second time through libibverbs itself (dlsym on
 * libibverbs, past the interposer): that context is not hooked, so its
 * ops.post_send/post_recv are the provider's own, and it copies them back
 * into the first context (again whenever they change). It prints
 * "READY pid=P a=QPN b=QPN", then SENDs from a to b without end and writes
 * "<sends> <unhooked 0|1>" to STATUS every 64 completions. Exits 1 on a
 * set-up error. Not a verbs example: a test of the agent's PSN watch. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <infiniband/verbs.h>

#include "tests/lib/roce_qp.h"

#define DEPTH 16
#define SIZE 64

static int post_recv(struct ibv_qp *qp, struct ibv_mr *mr, char *buf)
{
	struct ibv_sge sge = { (uintptr_t)buf, SIZE, mr->lkey };
	struct ibv_recv_wr wr = { .wr_id = 2, .sg_list = &sge, .num_sge = 1 }, *bad;

	return ibv_post_recv(qp, &wr, &bad);
}

static int post_send(struct ibv_qp *qp, struct ibv_mr *mr, char *buf)
{
	struct ibv_sge sge = { (uintptr_t)buf, SIZE, mr->lkey };
	struct ibv_send_wr wr = { .wr_id = 1, .sg_list = &sge, .num_sge = 1,
				  .opcode = IBV_WR_SEND, .send_flags = IBV_SEND_SIGNALED }, *bad;

	return ibv_post_send(qp, &wr, &bad);
}

/* The provider's own post functions, from a context libias did not hook. */
static struct ibv_context *unhooked(struct ibv_device *dev)
{
	struct ibv_context *(*real_open)(struct ibv_device *);
	void *h = dlopen("libibverbs.so.1", RTLD_NOW | RTLD_NOLOAD);

	if (!h)
		return NULL;
	*(void **)&real_open = dlsym(h, "ibv_open_device");
	return real_open ? real_open(dev) : NULL;
}

int main(int argc, char **argv)
{
	struct ibv_device **list;
	struct ibv_context *ctx, *raw;
	struct ibv_pd *pd;
	struct ibv_cq *cq;
	struct ibv_mr *mr;
	struct ibv_qp *a, *b;
	struct ibv_qp_init_attr ia;
	struct ibv_wc wc[DEPTH];
	union ibv_gid gid;
	static char buf[2 * SIZE];
	unsigned long sends = 0;
	int i, n, gidx, fd, inflight = 0, undone = 0;

	if (argc != 4) {
		fprintf(stderr, "usage: unhook_prog DEV GID_INDEX STATUS\n");
		return 1;
	}
	gidx = atoi(argv[2]);
	list = ibv_get_device_list(NULL);
	for (i = 0; list && list[i] && strcmp(ibv_get_device_name(list[i]), argv[1]); i++)
		;
	if (!list || !list[i] || !(ctx = ibv_open_device(list[i])) || !(pd = ibv_alloc_pd(ctx)) ||
	    !(cq = ibv_create_cq(ctx, 4 * DEPTH, NULL, NULL, 0)) ||
	    !(mr = ibv_reg_mr(pd, buf, sizeof(buf), IBV_ACCESS_LOCAL_WRITE)) ||
	    ibv_query_gid(ctx, 1, gidx, &gid)) {
		fprintf(stderr, "unhook_prog: device set-up failed: %s\n", strerror(errno));
		return 1;
	}
	memset(&ia, 0, sizeof(ia));
	ia.send_cq = ia.recv_cq = cq;
	ia.qp_type = IBV_QPT_RC;
	ia.cap.max_send_wr = ia.cap.max_recv_wr = DEPTH;
	ia.cap.max_send_sge = ia.cap.max_recv_sge = 1;
	if (!(a = ibv_create_qp(pd, &ia)) || !(b = ibv_create_qp(pd, &ia)) ||
	    roce_qp_init(a, 0) || roce_qp_init(b, 0) ||
	    roce_qp_rtr(a, b->qp_num, 0, &gid, gidx) || roce_qp_rtr(b, a->qp_num, 0, &gid, gidx) ||
	    roce_qp_rts(a, 0) || roce_qp_rts(b, 0)) {
		fprintf(stderr, "unhook_prog: QP set-up failed: %s\n", strerror(errno));
		return 1;
	}
	raw = unhooked(list[i]);
	if (!raw) {
		fprintf(stderr, "unhook_prog: no second context through libibverbs\n");
		return 1;
	}
	for (n = 0; n < DEPTH; n++)
		if (post_recv(b, mr, buf + SIZE)) {
			fprintf(stderr, "unhook_prog: receive post failed\n");
			return 1;
		}
	fd = open(argv[3], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	printf("READY pid=%d a=%u b=%u\n", (int)getpid(), a->qp_num, b->qp_num);
	fflush(stdout);
	for (;;) {
		/* Undo the gate: the provider's posts, straight. */
		if (ctx->ops.post_send != raw->ops.post_send ||
		    ctx->ops.post_recv != raw->ops.post_recv) {
			ctx->ops.post_send = raw->ops.post_send;
			ctx->ops.post_recv = raw->ops.post_recv;
			undone = 1;
		}
		while (inflight < DEPTH / 2 && post_send(a, mr, buf) == 0)
			inflight++;
		n = ibv_poll_cq(cq, DEPTH, wc);
		for (i = 0; i < n; i++) {
			if (wc[i].status != IBV_WC_SUCCESS) {
				fprintf(stderr, "unhook_prog: completion error %d\n", wc[i].status);
				return 1;
			}
			if (wc[i].wr_id == 1) {
				inflight--;
				if (++sends % 64 == 0 && fd >= 0) {
					char line[64];
					int len = snprintf(line, sizeof(line), "%lu %d\n", sends, undone);

					if (pwrite(fd, line, (size_t)len, 0) < 0)
						fd = -1;
				}
			} else if (post_recv(b, mr, buf + SIZE)) {
				fprintf(stderr, "unhook_prog: receive post failed\n");
				return 1;
			}
		}
		if (!n)
			usleep(200);
	}
}
