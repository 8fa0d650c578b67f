/* bench_sc_tcp: the baseline for bench_sc.sh. RC QP set-up the way
 * ibv_rc_pingpong does it: QP parameters (LID, QPN, PSN from lrand48, GID)
 * as text over a plain TCP connection, no TLS.
 *
 *   bench_sc_tcp server DEV GID_INDEX PORT
 *   bench_sc_tcp client DEV GID_INDEX HOST PORT N
 *
 * The client opens N connections one after the other; each is timed from
 * before connect() until its QP is at RTS with the server's at RTS too (the
 * server answers only after its own RTR/RTS), then torn down. Prints
 * "SETUP n=N median_us=.. p90_us=.. min_us=.. rate_per_s=..". The server
 * serves connections one at a time until killed. */
#include <arpa/inet.h>
#include <netdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <infiniband/verbs.h>

#define MSG_LEN 52 /* "LLLL:QQQQQQ:PPPPPP:" + 32 hex GID digits + NUL */

static struct ibv_context *ctx;
static struct ibv_cq *cq;
static struct ibv_port_attr pa;
static union ibv_gid gid;
static int gidx;

struct end {
	uint32_t lid, qpn, psn;
	union ibv_gid gid;
};

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static int full_io(int fd, void *b, size_t n, int wr)
{
	size_t d = 0;

	while (d < n) {
		ssize_t k = wr ? write(fd, (char *)b + d, n - d) : read(fd, (char *)b + d, n - d);

		if (k <= 0)
			return -1;
		d += (size_t)k;
	}
	return 0;
}

static int send_end(int fd, const struct end *e)
{
	char m[MSG_LEN];
	int i, o;

	o = snprintf(m, sizeof(m), "%04x:%06x:%06x:", e->lid, e->qpn, e->psn);
	for (i = 0; i < 16; i++)
		o += snprintf(m + o, sizeof(m) - (size_t)o, "%02x", e->gid.raw[i]);
	return full_io(fd, m, sizeof(m), 1);
}

static int recv_end(int fd, struct end *e)
{
	char m[MSG_LEN];
	unsigned v;
	int i;

	if (full_io(fd, m, sizeof(m), 0))
		return -1;
	m[MSG_LEN - 1] = '\0';
	if (sscanf(m, "%x:%x:%x:", &e->lid, &e->qpn, &e->psn) != 3 || strlen(m) != MSG_LEN - 1)
		return -1;
	for (i = 0; i < 16; i++) {
		if (sscanf(m + 19 + 2 * i, "%2x", &v) != 1)
			return -1;
		e->gid.raw[i] = (uint8_t)v;
	}
	return 0;
}

static struct ibv_qp *make_qp(struct ibv_pd **pd, struct end *me)
{
	struct ibv_qp_init_attr ia = { .qp_type = IBV_QPT_RC };
	struct ibv_qp_attr a = { .qp_state = IBV_QPS_INIT, .port_num = 1,
				 .qp_access_flags = IBV_ACCESS_LOCAL_WRITE };
	struct ibv_qp *qp;

	*pd = ibv_alloc_pd(ctx);
	ia.send_cq = ia.recv_cq = cq;
	ia.cap.max_send_wr = ia.cap.max_recv_wr = 16;
	ia.cap.max_send_sge = ia.cap.max_recv_sge = 1;
	qp = *pd ? ibv_create_qp(*pd, &ia) : NULL;
	if (!qp || ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_PKEY_INDEX | IBV_QP_PORT |
						 IBV_QP_ACCESS_FLAGS))
		return NULL;
	me->lid = pa.lid;
	me->qpn = qp->qp_num;
	me->psn = (uint32_t)lrand48() & 0xffffff;
	me->gid = gid;
	return qp;
}

static int connect_qp(struct ibv_qp *qp, const struct end *me, const struct end *r)
{
	struct ibv_qp_attr a;

	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTR;
	a.path_mtu = pa.active_mtu;
	a.dest_qp_num = r->qpn;
	a.rq_psn = r->psn;
	a.max_dest_rd_atomic = 1;
	a.min_rnr_timer = 12;
	a.ah_attr.dlid = (uint16_t)r->lid;
	a.ah_attr.port_num = 1;
	a.ah_attr.is_global = 1;
	a.ah_attr.grh.dgid = r->gid;
	a.ah_attr.grh.sgid_index = (uint8_t)gidx;
	a.ah_attr.grh.hop_limit = 64;
	if (ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_AV | IBV_QP_PATH_MTU | IBV_QP_DEST_QPN |
					  IBV_QP_RQ_PSN | IBV_QP_MAX_DEST_RD_ATOMIC |
					  IBV_QP_MIN_RNR_TIMER))
		return -1;
	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTS;
	a.timeout = 14;
	a.retry_cnt = 7;
	a.rnr_retry = 7;
	a.sq_psn = me->psn;
	a.max_rd_atomic = 1;
	return ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_TIMEOUT | IBV_QP_RETRY_CNT |
					     IBV_QP_RNR_RETRY | IBV_QP_SQ_PSN | IBV_QP_MAX_QP_RD_ATOMIC);
}

static void teardown(struct ibv_qp *qp, struct ibv_pd *pd)
{
	if (qp)
		ibv_destroy_qp(qp);
	if (pd)
		ibv_dealloc_pd(pd);
}

static int cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	struct ibv_device **list;
	int n, i, server;

	if (argc < 5 || (strcmp(argv[1], "server") && strcmp(argv[1], "client")) ||
	    (argv[1][0] == 'c' && argc != 7)) {
		fprintf(stderr, "usage: bench_sc_tcp server DEV GID PORT | client DEV GID HOST PORT N\n");
		return 2;
	}
	server = argv[1][0] == 's';
	gidx = atoi(argv[3]);
	srand48((long)getpid() * time(NULL));
	list = ibv_get_device_list(&n);
	for (i = 0; list && i < n; i++)
		if (strcmp(ibv_get_device_name(list[i]), argv[2]) == 0)
			ctx = ibv_open_device(list[i]);
	if (!ctx || ibv_query_port(ctx, 1, &pa) || ibv_query_gid(ctx, 1, gidx, &gid) ||
	    !(cq = ibv_create_cq(ctx, 64, NULL, NULL, 0))) {
		fprintf(stderr, "bench_sc_tcp: cannot open %s\n", argv[2]);
		return 1;
	}
	if (server) {
		struct sockaddr_in6 sa = { .sin6_family = AF_INET6,
					   .sin6_port = htons((uint16_t)atoi(argv[4])) };
		int one = 1, lfd = socket(AF_INET6, SOCK_STREAM, 0);

		setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 64)) {
			perror("bench_sc_tcp: listen");
			return 1;
		}
		printf("LISTENING\n");
		fflush(stdout);
		for (;;) {
			struct end me, r;
			struct ibv_pd *pd = NULL;
			struct ibv_qp *qp = NULL;
			char done;
			int fd = accept(lfd, NULL, NULL);

			if (fd < 0)
				continue;
			if (recv_end(fd, &r) == 0 && (qp = make_qp(&pd, &me)) &&
			    connect_qp(qp, &me, &r) == 0 && send_end(fd, &me) == 0)
				(void)full_io(fd, &done, 1, 0); /* until the client closes */
			teardown(qp, pd);
			close(fd);
		}
	} else {
		struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res;
		unsigned long total = strtoul(argv[6], NULL, 0), k;
		uint64_t *t = calloc(total ? total : 1, sizeof(*t)), t0, all0 = now_ns();
		double secs;

		if (getaddrinfo(argv[4], argv[5], &hints, &res)) {
			fprintf(stderr, "bench_sc_tcp: cannot resolve %s\n", argv[4]);
			return 1;
		}
		for (k = 0; k < total; k++) {
			struct end me, r;
			struct ibv_pd *pd = NULL;
			struct ibv_qp *qp;
			int fd;

			t0 = now_ns();
			fd = socket(res->ai_family, SOCK_STREAM, 0);
			if (fd < 0 || connect(fd, res->ai_addr, res->ai_addrlen) ||
			    !(qp = make_qp(&pd, &me)) || send_end(fd, &me) || recv_end(fd, &r) ||
			    connect_qp(qp, &me, &r)) {
				fprintf(stderr, "bench_sc_tcp: connection %lu failed\n", k);
				return 1;
			}
			t[k] = now_ns() - t0;
			teardown(qp, pd);
			close(fd);
		}
		secs = (double)(now_ns() - all0) / 1e9;
		qsort(t, total, sizeof(*t), cmp);
		printf("SETUP n=%lu median_us=%.1f p90_us=%.1f min_us=%.1f rate_per_s=%.1f\n", total,
		       (double)t[total / 2] / 1e3, (double)t[total * 9 / 10] / 1e3,
		       (double)t[0] / 1e3, (double)total / secs);
		freeaddrinfo(res);
		free(t);
	}
	return 0;
}
