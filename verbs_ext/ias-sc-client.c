/* ias-sc-client: open N secured data channels to ias-sc-server (all at once,
 * or C at a time), send numbered pattern messages over each RC QP, and have
 * the server confirm every one. Prints the PSN pair of each connection and
 * checks that they are unique; --bench reports set-up latency. See
 * ias-sc-client(8). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "verbs_ext/ias.h"
#include "verbs_ext/ias_sc.h"
#include "verbs_ext/sc_tool.c"

#define TAG_CQ 1

enum cst { C_TCP, C_SETUP, C_WAITFILE, C_SEND, C_RESULT };

struct cconn {
	struct ias_sc_conn *c;
	int fd;
	uint64_t key;
	unsigned events;
	enum cst state;
	unsigned long num;
	uint64_t t0, deadline;
	uint32_t posted, completed;
	uint8_t *buf;
	struct ibv_mr *mr;
};

static struct {
	const char *server, *port, *wait_file;
	unsigned long n, conc, messages, msg_size, depth, timeout_ms;
	int bench, quiet;
	struct ias_sc_config cfg;
} opt = {
	.server = "localhost",
	.port = "4433",
	.n = 1,
	.messages = 16,
	.msg_size = 1024,
	.depth = 8,
	.timeout_ms = 20000,
};

static struct {
	unsigned long started, established, ok, failed, resumed, reg_fail, live;
} st;

static int epfd;
static struct idtab tab;
static struct psnset pairs;
static struct addrinfo *srv;
static struct ias_sc_ctx *ctx;
static uint64_t *setup_ns;
static size_t nsetup;
static int all_est_printed;

static void finish(struct cconn *k, int ok, const char *why)
{
	if (ok)
		st.ok++;
	else {
		st.failed++;
		printf("FAILED %lu: %s%s%s\n", k->num, why, k->c && ias_sc_conn_error(k->c)[0] ? ": " : "",
		       k->c ? ias_sc_conn_error(k->c) : "");
	}
	if (k->fd >= 0)
		epoll_ctl(epfd, EPOLL_CTL_DEL, k->fd, NULL);
	idtab_del(&tab, k->key);
	if (k->c)
		ias_sc_conn_free(k->c); /* closes the fd */
	else if (k->fd >= 0)
		close(k->fd);
	free(k);
	st.live--;
}

static void set_events(struct cconn *k, unsigned ev)
{
	struct epoll_event e = { .events = ev, .data.u64 = k->key };

	if (ev != k->events) {
		epoll_ctl(epfd, EPOLL_CTL_MOD, k->fd, &e);
		k->events = ev;
	}
}

static void want_events(struct cconn *k)
{
	set_events(k, ias_sc_want(k->c) == IAS_SC_WANT_WRITE ? EPOLLOUT : EPOLLIN);
}

static int prepare(struct ias_sc_conn *c, void *arg)
{
	struct cconn *k = ias_sc_conn_user(c);
	size_t sz = opt.msg_size * opt.depth;

	(void)arg;
	if (posix_memalign((void **)&k->buf, 4096, sz))
		return -ENOMEM;
	k->mr = ibv_reg_mr(ias_sc_conn_pd(c), k->buf, sz, IBV_ACCESS_LOCAL_WRITE);
	return k->mr ? 0 : (errno ? -errno : -ENOMEM);
}

static void release(struct ias_sc_conn *c, void *arg)
{
	struct cconn *k = ias_sc_conn_user(c);

	(void)arg;
	buf_free(&k->buf, &k->mr);
}

static void send_done(struct cconn *k)
{
	struct ias_sc_msg m = { .type = IAS_SC_T_DONE };

	m.count = (uint32_t)opt.messages;
	m.bytes = (uint64_t)opt.messages * opt.msg_size;
	k->state = C_RESULT;
	if (ias_sc_send_msg(k->c, &m) < 0) {
		finish(k, 0, "could not send DONE");
		return;
	}
	want_events(k);
}

/* Post sends while there is room. 0, or -1 if k was freed. */
static int post_sends(struct cconn *k)
{
	uint32_t token = ias_sc_conn_local(k->c)->psn;

	while (k->posted < opt.messages && k->posted - k->completed < opt.depth) {
		uint32_t slot = k->posted % (uint32_t)opt.depth;
		uint8_t *p = k->buf + (size_t)slot * opt.msg_size;
		struct ibv_sge sge = { .addr = (uintptr_t)p, .length = (uint32_t)opt.msg_size,
				       .lkey = k->mr->lkey };
		struct ibv_send_wr wr = { .wr_id = k->key | slot, .sg_list = &sge, .num_sge = 1,
					  .opcode = IBV_WR_SEND, .send_flags = IBV_SEND_SIGNALED },
				   *bad;

		pattern_fill(p, opt.msg_size, token, k->posted);
		if (ibv_post_send(ias_sc_conn_qp(k->c), &wr, &bad)) {
			finish(k, 0, "ibv_post_send failed");
			return -1;
		}
		k->posted++;
	}
	if (k->completed == opt.messages)
		send_done(k);
	return 0;
}

static void start_data(struct cconn *k)
{
	if (opt.messages == 0) {
		send_done(k);
		return;
	}
	k->state = C_SEND;
	set_events(k, EPOLLIN); /* an ERROR from the server may arrive */
	post_sends(k);
}

static void on_established(struct cconn *k)
{
	const struct ias_sc_params *l = ias_sc_conn_local(k->c), *r = ias_sc_conn_remote(k->c);
	uint64_t dt = now_ns() - k->t0;

	st.established++;
	if (nsetup < opt.n)
		setup_ns[nsetup++] = dt;
	if (ias_sc_conn_resumed(k->c))
		st.resumed++;
	if (ias_sc_conn_reg_error(k->c))
		st.reg_fail++;
	psn_add(&pairs, r->psn, l->psn);
	if (!opt.quiet)
		printf("CONN %lu peer=\"%s\" client_qpn=%" PRIu32 " client_psn=%" PRIu32
		       " server_qpn=%" PRIu32 " server_psn=%" PRIu32 " resumed=%d setup_us=%" PRIu64
		       "\n",
		       k->num, ias_sc_conn_peer(k->c), l->qpn, l->psn, r->qpn, r->psn,
		       ias_sc_conn_resumed(k->c), dt / 1000);
	if (st.established == opt.n && !all_est_printed) {
		printf("ALL-ESTABLISHED %lu rss_kib=%ld\n", st.established, rss_kib());
		all_est_printed = 1;
	}
	if (opt.wait_file) {
		k->state = C_WAITFILE;
		k->deadline = 0;
		set_events(k, EPOLLIN);
		return;
	}
	start_data(k);
}

static void drive(struct cconn *k, unsigned ev)
{
	struct ias_sc_msg m;
	int rc;

	switch (k->state) {
	case C_TCP: {
		int err = 0;
		socklen_t l = sizeof(err);

		if (!(ev & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
			return;
		getsockopt(k->fd, SOL_SOCKET, SO_ERROR, &err, &l);
		if (err) {
			finish(k, 0, strerror(err));
			return;
		}
		rc = ias_sc_connect(ctx, k->fd, opt.server, &k->c);
		if (rc) {
			k->fd = -1; /* closed by ias_sc_connect */
			finish(k, 0, strerror(-rc));
			return;
		}
		ias_sc_conn_set_user(k->c, k);
		k->state = C_SETUP;
	}
		/* fall through */
	case C_SETUP:
		rc = ias_sc_step(k->c);
		if (rc < 0) {
			finish(k, 0, "set-up failed");
			return;
		}
		if (rc == 0) {
			want_events(k);
			return;
		}
		on_established(k);
		return;
	default:
		break;
	}
	/* Established: the server may send RESULT (or ERROR). */
	if (ias_sc_flush(k->c) < 0) {
		finish(k, 0, "write failed");
		return;
	}
	for (;;) {
		rc = ias_sc_recv_msg(k->c, &m);
		if (rc == 0)
			break;
		if (rc < 0) {
			finish(k, 0, rc == -ECONNRESET ? "server closed" : "bad message");
			return;
		}
		if (m.type == IAS_SC_T_RESULT && k->state == C_RESULT) {
			int good = m.code == IAS_SC_OK && m.count == opt.messages && m.bad == 0;

			if (!opt.quiet || !good)
				printf("RESULT %lu verified=%" PRIu32 " bad=%" PRIu32 " code=%s\n", k->num,
				       m.count, m.bad, ias_sc_code_str(m.code));
			finish(k, good, "server did not verify the data");
			return;
		}
		finish(k, 0, m.type == IAS_SC_T_ERROR ? ias_sc_code_str(m.code) : "unexpected message");
		return;
	}
	want_events(k);
}

static int start_one(void)
{
	struct epoll_event e;
	struct cconn *k = calloc(1, sizeof(*k));
	int rc;

	if (!k)
		return -1;
	k->num = ++st.started;
	k->t0 = now_ns();
	k->deadline = now_ms() + opt.timeout_ms;
	k->key = idtab_add(&tab, k);
	st.live++;
	k->fd = socket(srv->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (k->fd < 0) {
		finish(k, 0, strerror(errno));
		return 0;
	}
	rc = connect(k->fd, srv->ai_addr, srv->ai_addrlen);
	if (rc < 0 && errno != EINPROGRESS) {
		finish(k, 0, strerror(errno));
		return 0;
	}
	k->state = C_TCP;
	k->events = EPOLLOUT;
	e.events = EPOLLOUT;
	e.data.u64 = k->key;
	epoll_ctl(epfd, EPOLL_CTL_ADD, k->fd, &e);
	if (rc == 0)
		drive(k, EPOLLOUT);
	return 0;
}

static void on_cq(void)
{
	struct ibv_wc wc[32];
	int n, i;

	cq_rearm(ctx);
	while ((n = ibv_poll_cq(ias_sc_ctx_send_cq(ctx), 32, wc)) > 0)
		for (i = 0; i < n; i++) {
			struct cconn *k = idtab_get(&tab, wc[i].wr_id & ~0xFFull);

			if (!k || k->state != C_SEND)
				continue;
			if (wc[i].status != IBV_WC_SUCCESS) {
				char why[96];

				snprintf(why, sizeof(why), "send failed: %s",
					 ibv_wc_status_str(wc[i].status));
				finish(k, 0, why);
				continue;
			}
			k->completed++;
			post_sends(k);
		}
	while (ibv_poll_cq(ias_sc_ctx_recv_cq(ctx), 32, wc) > 0)
		;
}

static void scan(void)
{
	uint64_t t = now_ms();
	int go = opt.wait_file && access(opt.wait_file, F_OK) == 0;
	uint32_t i;

	for (i = 0; i < tab.cap; i++) {
		struct cconn *k = tab.p[i];

		if (!k)
			continue;
		if (k->state == C_WAITFILE) {
			if (go) {
				k->deadline = t + opt.timeout_ms;
				start_data(k);
			}
			continue;
		}
		if (k->deadline && t >= k->deadline) {
			if (k->c)
				ias_sc_abort(k->c, IAS_SC_E_TIMEOUT);
			finish(k, 0, "timed out");
		}
	}
}

static int cmp_u64p(const void *a, const void *b)
{
	return cmp_u64(a, b);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: ias-sc-client [options] [SERVER]\n"
		"  -d, --device DEV          RDMA device (default: the first)\n"
		"  -i, --ib-port N           port (default 1)\n"
		"  -g, --gid-index N         GID index (default: a RoCE v2 global IPv6 GID)\n"
		"  -p, --port PORT           server's TCP port (default 4433)\n"
		"      --ca FILE             CAs for the server certificate\n"
		"      --name NAME           expected server name in its certificate\n"
		"      --cert FILE --key FILE   client certificate and key (mutual TLS)\n"
		"      --no-resume           no TLS session resumption\n"
		"      --qpn-pool N          draw QPs at random from a pool of N\n"
		"      --no-register         do not register QPs with the IAS agent\n"
		"  -n, --connections N       connections in total (default 1)\n"
		"  -c, --concurrency C       at most C at a time (default N)\n"
		"  -m, --messages M          messages per connection (default 16)\n"
		"  -s, --msg-size BYTES      message size (default 1024; as the server's)\n"
		"      --depth N             sends in flight per connection (default 8)\n"
		"      --timeout MS          per-connection deadline (default 20000)\n"
		"      --wait-file PATH      once established, wait until PATH exists\n"
		"      --bench               report set-up latency; no per-connection lines\n"
		"      --insecure-fixed-psn N  start at PSN N (demonstrations of the attack only)\n"
		"  -q, --quiet               no per-connection lines\n"
		"  -h, --help\n");
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "device", 1, 0, 'd' }, { "ib-port", 1, 0, 'i' }, { "gid-index", 1, 0, 'g' },
		{ "port", 1, 0, 'p' }, { "ca", 1, 0, 'A' }, { "name", 1, 0, 'H' },
		{ "cert", 1, 0, 'C' }, { "key", 1, 0, 'K' }, { "no-resume", 0, 0, 'N' },
		{ "qpn-pool", 1, 0, 'P' }, { "no-register", 0, 0, 'R' },
		{ "connections", 1, 0, 'n' }, { "concurrency", 1, 0, 'c' },
		{ "messages", 1, 0, 'm' }, { "msg-size", 1, 0, 's' }, { "depth", 1, 0, 'D' },
		{ "timeout", 1, 0, 'T' }, { "wait-file", 1, 0, 'W' }, { "bench", 0, 0, 'B' },
		{ "insecure-fixed-psn", 1, 0, 'F' }, { "quiet", 0, 0, 'q' },
		{ "help", 0, 0, 'h' }, { 0, 0, 0, 0 }
	};
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct epoll_event e, evs[256];
	unsigned long v;
	uint64_t t_start, next_scan = 0;
	int c, rc, n, i;
	size_t d;

	opt.cfg.gid_index = -1;
	while ((c = getopt_long(argc, argv, "d:i:g:p:n:c:m:s:qh", lo, NULL)) != -1) {
		rc = common_opt(c, optarg, &opt.cfg, &opt.port, &opt.msg_size, &opt.depth,
				&opt.timeout_ms);
		if (rc > 0)
			continue;
		switch (rc < 0 ? '?' : c) {
		case 'H': opt.cfg.verify_name = optarg; break;
		case 'n':
			if (parse_uint(optarg, 1 << 20, &opt.n) || !opt.n) goto bad;
			break;
		case 'c':
			if (parse_uint(optarg, 1 << 20, &opt.conc) || !opt.conc) goto bad;
			break;
		case 'm':
			if (parse_uint(optarg, 1u << 31, &opt.messages)) goto bad;
			break;
		case 'W': opt.wait_file = optarg; break;
		case 'B': opt.bench = 1; opt.quiet = 1; break;
		case 'F':
			if (parse_uint(optarg, 0xFFFFFF, &v)) goto bad;
			opt.cfg.use_fixed_psn = 1;
			opt.cfg.fixed_psn = (uint32_t)v;
			break;
		case 'q': opt.quiet = 1; break;
		case 'h': usage(stdout); return 0;
		default:
		bad:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc)
		opt.server = argv[optind++];
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (!opt.conc || opt.conc > opt.n)
		opt.conc = opt.n;
	setvbuf(stdout, NULL, _IOLBF, 0);
	raise_nofile();
	signal(SIGPIPE, SIG_IGN);
	rc = getaddrinfo(opt.server, opt.port, &hints, &srv);
	if (rc) {
		fprintf(stderr, "ias-sc-client: %s: %s\n", opt.server, gai_strerror(rc));
		return 1;
	}
	opt.cfg.max_send_wr = (unsigned)opt.depth;
	opt.cfg.max_recv_wr = 1;
	opt.cfg.prepare = prepare;
	opt.cfg.release = release;
	rc = ias_sc_ctx_new(&opt.cfg, &ctx);
	if (rc) {
		fprintf(stderr, "ias-sc-client: %s%s%s\n", strerror(-rc),
			ias_sc_tls_error()[0] ? ": " : "", ias_sc_tls_error());
		return 1;
	}
	setup_ns = calloc(opt.n, sizeof(*setup_ns));
	if (!setup_ns || idtab_init(&tab, (uint32_t)opt.conc + 1))
		return 1;
	epfd = epoll_create1(EPOLL_CLOEXEC);
	e.events = EPOLLIN;
	e.data.u64 = TAG_CQ;
	epoll_ctl(epfd, EPOLL_CTL_ADD, ias_sc_ctx_channel(ctx)->fd, &e);

	t_start = now_ns();
	while (st.ok + st.failed < opt.n) {
		while (st.live < opt.conc && st.started < opt.n)
			start_one();
		n = epoll_wait(epfd, evs, 256, 50);
		for (i = 0; i < n; i++) {
			struct cconn *k;

			if (evs[i].data.u64 == TAG_CQ) {
				on_cq();
				continue;
			}
			k = idtab_get(&tab, evs[i].data.u64);
			if (k)
				drive(k, evs[i].events);
		}
		if (now_ms() >= next_scan) {
			scan();
			next_scan = now_ms() + 50;
		}
	}
	d = psn_dupes(&pairs);
	printf("SUMMARY connections=%lu established=%lu verified_ok=%lu failed=%lu resumed=%lu "
	       "registration_failures=%lu psn_pairs=%zu duplicates=%zu unique=%s\n",
	       opt.n, st.established, st.ok, st.failed, st.resumed, st.reg_fail, pairs.n, d,
	       d ? "no" : "yes");
	if (opt.bench && nsetup) {
		double total = (double)(now_ns() - t_start) / 1e9;

		qsort(setup_ns, nsetup, sizeof(*setup_ns), cmp_u64p);
		printf("SETUP n=%zu median_us=%.1f p90_us=%.1f min_us=%.1f rate_per_s=%.1f\n", nsetup,
		       (double)setup_ns[nsetup / 2] / 1e3, (double)setup_ns[nsetup * 9 / 10] / 1e3,
		       (double)setup_ns[0] / 1e3, (double)nsetup / total);
	}
	ias_sc_ctx_free(ctx);
	freeaddrinfo(srv);
	free(setup_ns);
	free(pairs.v);
	close(epfd);
	return st.ok == opt.n && d == 0 ? 0 : 1;
}
