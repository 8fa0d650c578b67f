/* ias-sc-server: serve secured data channels. One device context, one
 * thread, one epoll loop; every client gets its own RC QP whose parameters
 * cross only inside TLS 1.3. Each client then sends numbered pattern
 * messages over RDMA; the server verifies every one and answers the
 * client's DONE with a RESULT. See ias-sc-server(8). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "verbs_ext/ias.h"
#include "verbs_ext/ias_sc.h"
#include "verbs_ext/sc_tool.c"

#define TAG_LISTEN 1
#define TAG_CQ 2
#define TAG_SIG 3

struct sconn {
	struct ias_sc_conn *c;
	uint64_t key;
	unsigned events;
	uint64_t deadline; /* set-up, or waiting for data after DONE; 0 none */
	int established;
	int done, result_sent;
	uint32_t done_count;
	uint32_t expect, ok, bad;
	uint8_t *buf;
	struct ibv_mr *mr;
	unsigned long num;
};

static struct {
	const char *listen_addr, *port;
	unsigned long msg_size, depth, max_clients, timeout_ms, count;
	int bench, verbose;
	struct ias_sc_config cfg;
} opt = {
	.port = "4433",
	.msg_size = 1024,
	.depth = 16,
	.max_clients = 4096,
	.timeout_ms = 5000,
};

static struct {
	unsigned long accepted, established, refused, proto_err, timeouts, finished, busy;
	unsigned long verified, bad, reg_fail, live, max_live;
} st;

static int epfd;
static struct idtab tab;
static struct psnset pairs;
static unsigned long serial;

static void close_conn(struct sconn *s, const char *why)
{
	if (!s)
		return;
	if (s->established) {
		if (!opt.bench || s->bad)
			printf("CLOSE %lu peer=\"%s\" verified=%" PRIu32 " bad=%" PRIu32 " (%s)\n",
			       s->num, ias_sc_conn_peer(s->c), s->ok, s->bad, why);
		st.finished++;
	}
	epoll_ctl(epfd, EPOLL_CTL_DEL, ias_sc_fd(s->c), NULL);
	idtab_del(&tab, s->key);
	ias_sc_conn_free(s->c); /* release() frees the buffers */
	free(s);
	st.live--;
}

static int post_recv(struct sconn *s, uint32_t slot)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)(s->buf + (size_t)slot * opt.msg_size),
		.length = (uint32_t)opt.msg_size,
		.lkey = s->mr->lkey,
	};
	struct ibv_recv_wr wr = { .wr_id = s->key | slot, .sg_list = &sge, .num_sge = 1 }, *bad;

	return ibv_post_recv(ias_sc_conn_qp(s->c), &wr, &bad);
}

static int prepare(struct ias_sc_conn *c, void *arg)
{
	struct sconn *s = ias_sc_conn_user(c);
	size_t sz = opt.msg_size * opt.depth;
	uint32_t i;

	(void)arg;
	if (posix_memalign((void **)&s->buf, 4096, sz))
		return -ENOMEM;
	s->mr = ibv_reg_mr(ias_sc_conn_pd(c), s->buf, sz, IBV_ACCESS_LOCAL_WRITE);
	if (!s->mr)
		return errno ? -errno : -ENOMEM;
	for (i = 0; i < opt.depth; i++)
		if (post_recv(s, i))
			return -EIO;
	return 0;
}

static void release(struct ias_sc_conn *c, void *arg)
{
	struct sconn *s = ias_sc_conn_user(c);

	(void)arg;
	buf_free(&s->buf, &s->mr);
}

static void set_events(struct sconn *s)
{
	unsigned ev = ias_sc_want(s->c) == IAS_SC_WANT_WRITE ? EPOLLOUT : EPOLLIN;
	struct epoll_event e = { .events = ev, .data.u64 = s->key };

	if (ev != s->events) {
		epoll_ctl(epfd, EPOLL_CTL_MOD, ias_sc_fd(s->c), &e);
		s->events = ev;
	}
}

static void check_done(struct sconn *s)
{
	struct ias_sc_msg r = { .type = IAS_SC_T_RESULT };

	if (!s->done || s->result_sent || s->ok + s->bad < s->done_count)
		return;
	r.count = s->ok;
	r.bad = s->bad;
	r.code = (s->bad || s->ok != s->done_count) ? IAS_SC_E_VERIFY : IAS_SC_OK;
	s->result_sent = 1;
	s->deadline = 0;
	if (ias_sc_send_msg(s->c, &r) < 0)
		close_conn(s, "could not send result");
	else
		set_events(s);
}

/* After establishment: read DONE (or the end). Returns 0, or -1 if s was freed. */
static int serve_msgs(struct sconn *s)
{
	struct ias_sc_msg m;
	int rc;

	if (ias_sc_flush(s->c) < 0) {
		close_conn(s, "write failed");
		return -1;
	}
	for (;;) {
		rc = ias_sc_recv_msg(s->c, &m);
		if (rc == 0)
			break;
		if (rc < 0) {
			if (rc != -ECONNRESET)
				st.proto_err++;
			close_conn(s, rc == -ECONNRESET ? "client closed" : "bad message");
			return -1;
		}
		if (m.type == IAS_SC_T_DONE && !s->done) {
			s->done = 1;
			s->done_count = m.count;
			s->deadline = now_ms() + opt.timeout_ms;
			check_done(s);
			continue;
		}
		if (m.type != IAS_SC_T_ERROR)
			st.proto_err++;
		ias_sc_abort(s->c, IAS_SC_E_PROTO);
		close_conn(s, "unexpected message");
		return -1;
	}
	set_events(s);
	return 0;
}

static void drive(struct sconn *s)
{
	const struct ias_sc_params *l, *r;
	int rc;

	if (s->established) {
		serve_msgs(s);
		return;
	}
	rc = ias_sc_step(s->c);
	if (rc < 0) {
		if (rc == -EPROTO && ias_sc_conn_peer(s->c)[0] == '\0')
			st.refused++;
		else
			st.proto_err++;
		printf("REFUSED %lu: %s\n", s->num, ias_sc_conn_error(s->c));
		close_conn(s, "failed");
		return;
	}
	if (rc == 0) {
		set_events(s);
		return;
	}
	s->established = 1;
	s->deadline = 0;
	st.established++;
	if (ias_sc_conn_reg_error(s->c))
		st.reg_fail++;
	l = ias_sc_conn_local(s->c);
	r = ias_sc_conn_remote(s->c);
	psn_add(&pairs, l->psn, r->psn);
	if (!opt.bench)
		printf("CONN %lu peer=\"%s\" server_qpn=%" PRIu32 " server_psn=%" PRIu32
		       " client_qpn=%" PRIu32 " client_psn=%" PRIu32 " resumed=%d registered=%s\n",
		       s->num, ias_sc_conn_peer(s->c), l->qpn, l->psn, r->qpn, r->psn,
		       ias_sc_conn_resumed(s->c),
		       ias_sc_conn_reg_error(s->c) ? ias_strerror(ias_sc_conn_reg_error(s->c)) : "yes");
	serve_msgs(s);
}

static void accept_all(int lfd, struct ias_sc_ctx *ctx)
{
	for (;;) {
		struct epoll_event e;
		struct sconn *s;
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			return;
		if (st.live >= opt.max_clients || !(s = calloc(1, sizeof(*s)))) {
			st.busy++;
			close(fd);
			continue;
		}
		s->key = idtab_add(&tab, s);
		if (!s->key || ias_sc_accept(ctx, fd, &s->c) < 0) {
			if (s->key)
				idtab_del(&tab, s->key);
			else
				close(fd);
			free(s);
			st.busy++;
			continue;
		}
		ias_sc_conn_set_user(s->c, s);
		s->num = ++serial;
		s->deadline = now_ms() + opt.timeout_ms;
		s->events = EPOLLIN;
		e.events = EPOLLIN;
		e.data.u64 = s->key;
		epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &e);
		st.accepted++;
		if (++st.live > st.max_live)
			st.max_live = st.live;
		drive(s);
	}
}

static void on_recv(struct ibv_wc *wc)
{
	struct sconn *s = idtab_get(&tab, wc->wr_id & ~0xFFull);
	uint32_t slot = (uint32_t)(wc->wr_id & 0xFF);

	if (!s)
		return; /* the connection is gone */
	if (wc->status != IBV_WC_SUCCESS) {
		if (wc->status != IBV_WC_WR_FLUSH_ERR)
			printf("QPERR %lu: %s\n", s->num, ibv_wc_status_str(wc->status));
		return;
	}
	if (pattern_check(s->buf + (size_t)slot * opt.msg_size, wc->byte_len, opt.msg_size,
			  ias_sc_conn_remote(s->c)->psn, s->expect) == 0) {
		s->ok++;
		st.verified++;
	} else {
		s->bad++;
		st.bad++;
		if (s->bad <= 3)
			printf("BAD %lu: message %" PRIu32 " (%u bytes) did not verify\n", s->num,
			       s->expect, wc->byte_len);
	}
	s->expect++;
	if (post_recv(s, slot)) {
		close_conn(s, "repost failed");
		return;
	}
	check_done(s);
}

static void on_cq(struct ias_sc_ctx *ctx)
{
	struct ibv_wc wc[32];
	int n, i;

	cq_rearm(ctx);
	while ((n = ibv_poll_cq(ias_sc_ctx_recv_cq(ctx), 32, wc)) > 0)
		for (i = 0; i < n; i++)
			on_recv(&wc[i]);
	while (ibv_poll_cq(ias_sc_ctx_send_cq(ctx), 32, wc) > 0)
		; /* the server sends nothing over RDMA */
}

static void scan_deadlines(void)
{
	uint64_t t = now_ms();
	uint32_t i;

	for (i = 0; i < tab.cap; i++) {
		struct sconn *s = tab.p[i];

		if (!s || !s->deadline || t < s->deadline)
			continue;
		if (!s->established) {
			st.timeouts++;
			printf("TIMEOUT %lu: set-up not finished in %lu ms\n", s->num, opt.timeout_ms);
			ias_sc_abort(s->c, IAS_SC_E_TIMEOUT);
			close_conn(s, "timeout");
		} else {
			s->done_count = s->ok + s->bad + 1; /* forces a failing RESULT */
			check_done(s);
		}
	}
}

static void print_stats(void)
{
	size_t d = psn_dupes(&pairs);

	printf("STATS accepted=%lu established=%lu refused=%lu protocol_errors=%lu timeouts=%lu "
	       "finished=%lu busy=%lu verified=%lu bad=%lu registration_failures=%lu live=%lu "
	       "max_live=%lu rss_kib=%ld\n",
	       st.accepted, st.established, st.refused, st.proto_err, st.timeouts, st.finished,
	       st.busy, st.verified, st.bad, st.reg_fail, st.live, st.max_live, rss_kib());
	printf("PSNPAIRS total=%zu duplicates=%zu unique=%s\n", pairs.n, d, d ? "no" : "yes");
	fflush(stdout);
}

static int listen_on(void)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE };
	struct addrinfo *res;
	int fd, one = 1, rc;

	rc = getaddrinfo(opt.listen_addr, opt.port, &hints, &res);
	if (rc) {
		fprintf(stderr, "ias-sc-server: %s: %s\n", opt.listen_addr ? opt.listen_addr : "*",
			gai_strerror(rc));
		return -1;
	}
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd >= 0 && res->ai_family == AF_INET6) {
		int zero = 0;

		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	}
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, res->ai_addr, res->ai_addrlen) || listen(fd, 4096)) {
		perror("ias-sc-server: listen");
		freeaddrinfo(res);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	freeaddrinfo(res);
	return fd;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: ias-sc-server --cert FILE --key FILE [options]\n"
		"  -d, --device DEV          RDMA device (default: the first)\n"
		"  -i, --ib-port N           port (default 1)\n"
		"  -g, --gid-index N         GID index (default: a RoCE v2 global IPv6 GID)\n"
		"  -l, --listen ADDR         address to listen on (default: all)\n"
		"  -p, --port PORT           TCP port (default 4433)\n"
		"      --cert FILE --key FILE   server certificate chain and key (PEM)\n"
		"      --ca FILE             CAs for client certificates\n"
		"      --require-client-cert mutual TLS: refuse clients without a valid certificate\n"
		"      --qpn-pool N          draw QPs at random from a pool of N\n"
		"      --no-register         do not register QPs with the IAS agent\n"
		"      --no-resume           no TLS session tickets\n"
		"  -s, --msg-size BYTES      message size (default 1024)\n"
		"      --depth N             receives posted per client (default 16)\n"
		"      --max-clients N       concurrent clients (default 4096)\n"
		"      --timeout MS          set-up and result deadline (default 5000)\n"
		"      --count N             exit after N clients have finished\n"
		"      --bench               no per-connection lines\n"
		"  -h, --help\n");
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "device", 1, 0, 'd' }, { "ib-port", 1, 0, 'i' }, { "gid-index", 1, 0, 'g' },
		{ "listen", 1, 0, 'l' }, { "port", 1, 0, 'p' }, { "cert", 1, 0, 'C' },
		{ "key", 1, 0, 'K' }, { "ca", 1, 0, 'A' }, { "require-client-cert", 0, 0, 'M' },
		{ "qpn-pool", 1, 0, 'P' }, { "no-register", 0, 0, 'R' }, { "no-resume", 0, 0, 'N' },
		{ "msg-size", 1, 0, 's' }, { "depth", 1, 0, 'D' }, { "max-clients", 1, 0, 'X' },
		{ "timeout", 1, 0, 'T' }, { "count", 1, 0, 'c' }, { "bench", 0, 0, 'B' },
		{ "help", 0, 0, 'h' }, { 0, 0, 0, 0 }
	};
	struct epoll_event e, evs[256];
	struct ias_sc_ctx *ctx = NULL;
	sigset_t ss;
	int c, lfd, sfd, rc, n, i, stop = 0;
	uint64_t next_scan = 0;

	opt.cfg.server = 1;
	opt.cfg.gid_index = -1;
	while ((c = getopt_long(argc, argv, "d:i:g:l:p:s:h", lo, NULL)) != -1) {
		rc = common_opt(c, optarg, &opt.cfg, &opt.port, &opt.msg_size, &opt.depth,
				&opt.timeout_ms);
		if (rc > 0)
			continue;
		switch (rc < 0 ? '?' : c) {
		case 'l': opt.listen_addr = optarg; break;
		case 'M': opt.cfg.require_peer_cert = 1; break;
		case 'X':
			if (parse_uint(optarg, 1 << 20, &opt.max_clients) || !opt.max_clients) goto bad;
			break;
		case 'c':
			if (parse_uint(optarg, ULONG_MAX, &opt.count)) goto bad;
			break;
		case 'B': opt.bench = 1; break;
		case 'h': usage(stdout); return 0;
		default:
		bad:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || !opt.cfg.cert || !opt.cfg.key) {
		usage(stderr);
		return 2;
	}
	if (opt.cfg.require_peer_cert && !opt.cfg.ca) {
		fprintf(stderr, "ias-sc-server: --require-client-cert needs --ca\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	raise_nofile();
	opt.cfg.max_recv_wr = (unsigned)opt.depth;
	opt.cfg.max_send_wr = 4;
	opt.cfg.prepare = prepare;
	opt.cfg.release = release;
	rc = ias_sc_ctx_new(&opt.cfg, &ctx);
	if (rc) {
		fprintf(stderr, "ias-sc-server: %s%s%s\n", strerror(-rc),
			ias_sc_tls_error()[0] ? ": " : "", ias_sc_tls_error());
		return 1;
	}
	if (idtab_init(&tab, (uint32_t)opt.max_clients + 1) || (lfd = listen_on()) < 0)
		return 1;
	sigemptyset(&ss);
	sigaddset(&ss, SIGINT);
	sigaddset(&ss, SIGTERM);
	sigaddset(&ss, SIGUSR1);
	sigprocmask(SIG_BLOCK, &ss, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &ss, SFD_NONBLOCK | SFD_CLOEXEC);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	e.events = EPOLLIN;
	e.data.u64 = TAG_LISTEN;
	epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &e);
	e.data.u64 = TAG_CQ;
	epoll_ctl(epfd, EPOLL_CTL_ADD, ias_sc_ctx_channel(ctx)->fd, &e);
	e.data.u64 = TAG_SIG;
	epoll_ctl(epfd, EPOLL_CTL_ADD, sfd, &e);
	printf("LISTENING port=%s device=%s mtls=%s qpn_pool=%d rss_kib=%ld\n", opt.port,
	       opt.cfg.device ? opt.cfg.device : "(first)", opt.cfg.require_peer_cert ? "yes" : "no",
	       opt.cfg.qpn_pool, rss_kib());

	while (!stop) {
		n = epoll_wait(epfd, evs, 256, 100);
		for (i = 0; i < n; i++) {
			uint64_t k = evs[i].data.u64;

			if (k == TAG_LISTEN) {
				accept_all(lfd, ctx);
			} else if (k == TAG_CQ) {
				on_cq(ctx);
			} else if (k == TAG_SIG) {
				struct signalfd_siginfo si;

				while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
					if (si.ssi_signo == SIGUSR1)
						print_stats();
					else
						stop = 1;
				}
			} else {
				struct sconn *s = idtab_get(&tab, k);

				if (s)
					drive(s);
			}
		}
		if (now_ms() >= next_scan) {
			scan_deadlines();
			next_scan = now_ms() + 100;
		}
		if (opt.count && st.finished >= opt.count)
			stop = 1;
	}
	for (i = 0; (uint32_t)i < tab.cap; i++)
		if (tab.p[i]) {
			ias_sc_abort(((struct sconn *)tab.p[i])->c, IAS_SC_E_SHUTDOWN);
			close_conn(tab.p[i], "server exit");
		}
	print_stats();
	ias_sc_ctx_free(ctx);
	close(lfd);
	close(epfd);
	close(sfd);
	free(pairs.v);
	return 0;
}
