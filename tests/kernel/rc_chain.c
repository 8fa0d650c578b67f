/* rc_chain: one process, several RC QPs, continuous two-way traffic on each,
 * for the kernel bed's chain test.
 *
 *   rc_chain -d DEV -x GID_INDEX -o STATUS {-l PORT | -c PORT}... [-s SIZE] [-D DEPTH]
 *   rc_chain --read STATUS
 *
 * Every -l PORT accepts one peer on 127.0.0.1:PORT and every -c PORT connects
 * to one; each peer gets its own RC QP on DEV, addressed by the RoCE GID at
 * GID_INDEX. QP parameters cross the TCP connection as one 64-byte text
 * record ("IASRC1 qpn psn gid"). Then both ends keep DEPTH SENDs and DEPTH
 * receives posted on every QP, reposting each one as it completes.
 *
 * The counters live in STATUS, a shared mapping updated at every
 * completion, so they stay readable while the process is frozen: per QP
 * the QPN, completed sends and receives, the CLOCK_REALTIME microsecond of
 * the last completion, posts refused (a libias pause answers EAGAIN, a cut
 * EPERM; refused posts are retried every 20 ms) and completion errors.
 * --read prints them, one QP a line: "qpn sends recvs last_us refused errors".
 * The program uses plain libibverbs; whether libias sees it depends on
 * LD_PRELOAD alone. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <infiniband/verbs.h>

#include "tests/lib/roce_qp.h"

#define MAXQP 8
#define REC_LEN 64
#define STATUS_MAGIC 0x49524353u /* "IRCS" */

struct qstat {
	uint32_t qpn, pad;
	uint64_t sends, recvs, last_us, refused, errors;
};

struct status {
	uint32_t magic, nqp;
	struct qstat q[MAXQP];
};

struct peer {
	int listen_port, connect_port, lfd, fd;
	struct ibv_qp *qp;
	unsigned pend_send, pend_recv;
	int failed;
};

static volatile sig_atomic_t stop;
static struct status *st;
static size_t size = 1024;
static unsigned depth = 8;
static uint8_t *buf;
static struct ibv_mr *mr;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void die(const char *what)
{
	fprintf(stderr, "rc_chain: %s: %s\n", what, strerror(errno));
	exit(1);
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int read_status(const char *path)
{
	struct status s;
	unsigned i;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || read(fd, &s, sizeof(s)) != (ssize_t)sizeof(s) || s.magic != STATUS_MAGIC ||
	    s.nqp > MAXQP) {
		fprintf(stderr, "rc_chain: %s: not a status file\n", path);
		return 1;
	}
	for (i = 0; i < s.nqp; i++)
		printf("%u %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 "\n", s.q[i].qpn,
		       s.q[i].sends, s.q[i].recvs, s.q[i].last_us, s.q[i].refused, s.q[i].errors);
	close(fd);
	return 0;
}

static int full_io(int fd, void *p, size_t n, int wr)
{
	size_t done = 0;

	while (done < n) {
		ssize_t r = wr ? write(fd, (char *)p + done, n - done) : read(fd, (char *)p + done, n - done);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		done += (size_t)r;
	}
	return 0;
}

static int tcp_listen(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 1))
		die("listen");
	return fd;
}

static int tcp_connect(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int i;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (i = 0; i < 600; i++) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);

		if (fd < 0)
			die("socket");
		if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0)
			return fd;
		close(fd);
		usleep(100000);
	}
	die("connect");
	return -1;
}

static void gid_hex(const union ibv_gid *g, char *out)
{
	int i;

	for (i = 0; i < 16; i++)
		sprintf(out + 2 * i, "%02x", g->raw[i]);
}

static int gid_parse(const char *hex, union ibv_gid *g)
{
	int i;

	if (strlen(hex) != 32)
		return -1;
	for (i = 0; i < 16; i++) {
		unsigned v;

		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return -1;
		g->raw[i] = (uint8_t)v;
	}
	return 0;
}

static void connect_qp(struct peer *p, const union ibv_gid *mygid, int gidx)
{
	char rec[REC_LEN], hex[33], rhex[40];
	union ibv_gid rgid;
	unsigned rqpn, rpsn, psn = (unsigned)lrand48() & 0xffffff;
	gid_hex(mygid, hex);
	memset(rec, 0, sizeof(rec));
	snprintf(rec, sizeof(rec), "IASRC1 %06x %06x %s", p->qp->qp_num, psn, hex);
	if (full_io(p->fd, rec, sizeof(rec), 1) || full_io(p->fd, rec, sizeof(rec), 0))
		die("exchange");
	rec[REC_LEN - 1] = '\0';
	if (sscanf(rec, "IASRC1 %x %x %39s", &rqpn, &rpsn, rhex) != 3 || rqpn > 0xffffff ||
	    rpsn > 0xffffff || gid_parse(rhex, &rgid)) {
		fprintf(stderr, "rc_chain: bad peer record\n");
		exit(1);
	}
	if (roce_qp_rtr(p->qp, rqpn, rpsn, &rgid, gidx))
		die("modify to RTR");
	if (roce_qp_rts(p->qp, psn))
		die("modify to RTS");
	/* Both ends are ready before either sends. */
	if (full_io(p->fd, rec, 1, 1) || full_io(p->fd, rec, 1, 0))
		die("ready");
}

static uint8_t *slot(unsigned qi, unsigned k, int recv)
{
	return buf + ((size_t)qi * 2 * depth + (recv ? depth : 0) + k) * size;
}

static int post_one(struct peer *p, unsigned qi, unsigned k, int recv)
{
	struct ibv_sge sge = { .addr = (uintptr_t)slot(qi, k, recv), .length = (uint32_t)size,
			       .lkey = mr->lkey };
	uint64_t id = (uint64_t)qi << 32 | k << 1 | (unsigned)recv;

	if (recv) {
		struct ibv_recv_wr wr = { .wr_id = id, .sg_list = &sge, .num_sge = 1 }, *bad;

		return ibv_post_recv(p->qp, &wr, &bad);
	} else {
		struct ibv_send_wr wr = { .wr_id = id, .sg_list = &sge, .num_sge = 1,
					  .opcode = IBV_WR_SEND, .send_flags = IBV_SEND_SIGNALED },
				   *bad;

		return ibv_post_send(p->qp, &wr, &bad);
	}
}

/* Post, or remember it for the next retry; the slot index does not matter
 * for the traffic, so a pending post reuses slot 0. */
static void repost(struct peer *p, unsigned qi, unsigned k, int recv)
{
	if (p->failed)
		return;
	if (post_one(p, qi, k, recv) == 0)
		return;
	__atomic_add_fetch(&st->q[qi].refused, 1, __ATOMIC_RELAXED);
	if (recv)
		p->pend_recv++;
	else
		p->pend_send++;
}

static void retry_pending(struct peer *p, unsigned qi)
{
	while (!p->failed && p->pend_recv && post_one(p, qi, 0, 1) == 0)
		p->pend_recv--;
	while (!p->failed && p->pend_send && post_one(p, qi, 0, 0) == 0)
		p->pend_send--;
}

static int drain(struct ibv_cq *cq, struct peer *peers, unsigned n)
{
	struct ibv_wc wc[32];
	int got, c, total = 0;

	while ((got = ibv_poll_cq(cq, 32, wc)) > 0) {
		total += got;
		for (c = 0; c < got; c++) {
			unsigned qi = (unsigned)(wc[c].wr_id >> 32);
			unsigned k = (unsigned)(wc[c].wr_id & 0xffffffffu) >> 1;
			int recv = (int)(wc[c].wr_id & 1);

			if (qi >= n)
				continue;
			if (wc[c].status != IBV_WC_SUCCESS) {
				peers[qi].failed = 1;
				__atomic_add_fetch(&st->q[qi].errors, 1, __ATOMIC_RELAXED);
				continue;
			}
			__atomic_add_fetch(recv ? &st->q[qi].recvs : &st->q[qi].sends, 1,
					   __ATOMIC_RELAXED);
			__atomic_store_n(&st->q[qi].last_us, now_us(), __ATOMIC_RELAXED);
			repost(&peers[qi], qi, k, recv);
		}
	}
	return total;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = { { "read", required_argument, NULL, 'r' }, { 0 } };
	struct peer peers[MAXQP];
	struct ibv_device **devs;
	struct ibv_context *ctx = NULL;
	struct ibv_comp_channel *ch;
	struct ibv_cq *cq;
	struct ibv_pd *pd;
	union ibv_gid gid;
	const char *dev = NULL, *out = NULL;
	unsigned n = 0, i, k;
	int gidx = -1, c, fd;

	memset(peers, 0, sizeof(peers));
	while ((c = getopt_long(argc, argv, "d:x:o:l:c:s:D:", lo, NULL)) != -1) {
		switch (c) {
		case 'r': return read_status(optarg);
		case 'd': dev = optarg; break;
		case 'x': gidx = atoi(optarg); break;
		case 'o': out = optarg; break;
		case 's': size = strtoul(optarg, NULL, 0); break;
		case 'D': depth = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'l':
		case 'c':
			if (n == MAXQP) {
				fprintf(stderr, "rc_chain: at most %d peers\n", MAXQP);
				return 2;
			}
			if (c == 'l')
				peers[n++].listen_port = atoi(optarg);
			else
				peers[n++].connect_port = atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: rc_chain -d DEV -x GID_INDEX -o STATUS {-l PORT | -c PORT}... "
				"[-s SIZE] [-D DEPTH] | --read STATUS\n");
			return 2;
		}
	}
	if (!dev || gidx < 0 || !out || !n || size < 64 || size > (1u << 20) || !depth || depth > 64) {
		fprintf(stderr, "rc_chain: -d, -x, -o and at least one -l/-c are needed\n");
		return 2;
	}
	srand48((long)now_us() ^ getpid());
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	fd = open(out, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || ftruncate(fd, sizeof(*st)))
		die(out);
	st = mmap(NULL, sizeof(*st), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (st == MAP_FAILED)
		die("mmap");
	close(fd);

	devs = ibv_get_device_list(NULL);
	for (i = 0; devs && devs[i]; i++)
		if (!strcmp(ibv_get_device_name(devs[i]), dev))
			ctx = ibv_open_device(devs[i]);
	if (!ctx)
		die(dev);
	ibv_free_device_list(devs);
	if (ibv_query_gid(ctx, 1, gidx, &gid))
		die("query gid");
	pd = ibv_alloc_pd(ctx);
	ch = ibv_create_comp_channel(ctx);
	cq = ch ? ibv_create_cq(ctx, (int)(n * depth * 2 + 16), NULL, ch, 0) : NULL;
	buf = calloc((size_t)n * 2 * depth, size);
	mr = pd && buf ? ibv_reg_mr(pd, buf, (size_t)n * 2 * depth * size, IBV_ACCESS_LOCAL_WRITE) : NULL;
	if (!pd || !cq || !mr)
		die("verbs set-up");

	/* Listen on every port first, so peers can connect in any order. */
	for (i = 0; i < n; i++)
		if (peers[i].listen_port)
			peers[i].lfd = tcp_listen(peers[i].listen_port);
	for (i = 0; i < n; i++) {
		struct ibv_qp_init_attr qa = { .send_cq = cq, .recv_cq = cq, .qp_type = IBV_QPT_RC,
					       .cap = { .max_send_wr = depth, .max_recv_wr = depth,
							.max_send_sge = 1, .max_recv_sge = 1 } };
		struct peer *p = &peers[i];

		p->qp = ibv_create_qp(pd, &qa);
		if (!p->qp || roce_qp_init(p->qp, IBV_ACCESS_LOCAL_WRITE))
			die("create qp");
		if (p->listen_port) {
			p->fd = accept(p->lfd, NULL, NULL);
			if (p->fd < 0)
				die("accept");
			close(p->lfd);
		} else {
			p->fd = tcp_connect(p->connect_port);
		}
		for (k = 0; k < depth; k++)
			if (post_one(p, i, k, 1))
				die("post recv");
		connect_qp(p, &gid, gidx);
		st->q[i].qpn = p->qp->qp_num;
		st->nqp = i + 1;
		for (k = 0; k < depth; k++)
			repost(p, i, k, 0);
	}
	st->magic = STATUS_MAGIC;
	printf("rc_chain: %u QP(s) up:", n);
	for (i = 0; i < n; i++)
		printf(" 0x%x", peers[i].qp->qp_num);
	printf("\n");
	fflush(stdout);

	/* Drain, arm, drain again (a completion between the first drain and
	 * the arming raises no event), then sleep at most 20 ms. */
	while (!stop) {
		struct pollfd pf = { .fd = ch->fd, .events = POLLIN };
		struct ibv_cq *ecq;
		void *ectx;

		for (i = 0; i < n; i++)
			retry_pending(&peers[i], i);
		drain(cq, peers, n);
		if (ibv_req_notify_cq(cq, 0))
			die("notify");
		if (drain(cq, peers, n) > 0)
			continue;
		if (poll(&pf, 1, 20) > 0 && ibv_get_cq_event(ch, &ecq, &ectx) == 0)
			ibv_ack_cq_events(ecq, 1);
	}
	for (i = 0; i < n; i++)
		ibv_destroy_qp(peers[i].qp);
	return 0;
}
