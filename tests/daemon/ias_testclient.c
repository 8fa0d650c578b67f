/* Test client for the daemon tier: drives a real agent through libias and
 * through raw datagrams. Not installed.
 *
 *   ias_testclient register-sim QPN[:RLID:RQPN] ...   register simulated QPs,
 *        print "registered N", then print each order "order QPN ACTION"
 *        until SIGTERM (or 300 s)
 *   ias_testclient register DEV QPN   register a real QP of DEV (not simulated)
 *        as this process's; print "registered" or "refused: REASON"; exit 0
 *        when registered, 1 when refused (the agent checks it against the
 *        kernel)
 *   ias_testclient alert PID        subscribe, report PID, expect the alert
 *        event and the PID from GetAttackPID
 *   ias_testclient garbage          malformed requests: each must get an
 *        error reply, and the agent must still serve a valid request after
 *
 * Output lines "ok - ..." / "not ok - ..." are folded into the caller's TAP
 * stream; the exit status is 0 only if every check passed. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/cursor.h"
#include "ctl/proto.h"
#include "verbs_ext/ias.h"

static int failures;
static volatile sig_atomic_t stop;

static void check(int cond, const char *what)
{
	printf("%sok - %s\n", cond ? "" : "not ", what);
	fflush(stdout);
	if (!cond)
		failures++;
}

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static int register_sim(int argc, char **argv)
{
	struct ias_qp_order o;
	time_t end = time(NULL) + 300;
	int i, n = 0, r;

	for (i = 0; i < argc; i++) {
		struct ias_qp_info qi;
		unsigned long qpn, lid = 0, rqpn = 0;
		char *p;

		memset(&qi, 0, sizeof(qi));
		qpn = strtoul(argv[i], &p, 0);
		if (*p == ':') {
			lid = strtoul(p + 1, &p, 0);
			if (*p == ':')
				rqpn = strtoul(p + 1, &p, 0);
		}
		if (*p || qpn == 0 || qpn > 0xffffff) {
			fprintf(stderr, "bad QP spec %s\n", argv[i]);
			return 2;
		}
		qi.qpn = (uint32_t)qpn;
		qi.qp_type = IBV_QPT_RC;
		qi.qp_state = IBV_QPS_RTS;
		snprintf(qi.device, sizeof(qi.device), "sim0");
		qi.port = 1;
		qi.simulated = 1;
		if (lid || rqpn) {
			qi.has_remote = 1;
			qi.remote_lid = (uint32_t)lid;
			qi.remote_qpn = (uint32_t)rqpn;
		}
		r = ias_register_qp_info(&qi);
		if (r) {
			fprintf(stderr, "register 0x%lx: %s\n", qpn, ias_strerror(r));
			return 1;
		}
		n++;
	}
	printf("registered %d\n", n);
	fflush(stdout);
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	while (!stop && time(NULL) < end) {
		struct pollfd pfd = { .fd = ias_orders_fd(), .events = POLLIN };

		if (pfd.fd < 0)
			return 1;
		if (poll(&pfd, 1, 200) <= 0)
			continue;
		while ((r = ias_poll_orders(&o)) > 0) {
			printf("order 0x%x %s\n", o.qpn, o.action);
			fflush(stdout);
		}
		if (r < 0)
			return r == -ECONNRESET ? 3 : 1;
	}
	return 0;
}

static int alert(pid_t pid)
{
	struct ias_alert a;
	struct pollfd pfd;
	int fd = ias_alert_subscribe(), got = 0, r, i;
	pid_t p;

	check(fd >= 0, "subscribed to alerts");
	if (fd < 0)
		return 1;
	r = ias_report_attack_reason(pid, "alert round trip");
	check(r == 0, "ReportAttack through libias");
	pfd.fd = fd;
	pfd.events = POLLIN;
	while (!got && poll(&pfd, 1, 5000) > 0) {
		if (ias_alert_read(fd, &a) != 1)
			break;
		got = a.pid == pid;
	}
	check(got, "AttackAlert event names the reported PID");
	check(got && strncmp(a.incident, "I-", 2) == 0, "the alert carries the incident id");
	for (i = 0, got = 0; i < 64; i++) {
		p = ias_get_attack_pid();
		if (p <= 0)
			break;
		if (p == pid)
			got = 1;
	}
	check(got, "GetAttackPID returns the reported PID");
	check(ias_get_attack_pid() == 0, "GetAttackPID returns 0 when nothing is pending");
	close(fd);
	return failures != 0;
}

/* Send raw bytes, wait for one reply; return its status (or 1 if none or
 * not a valid reply). */
static int raw_call(int fd, const void *buf, size_t len, uint32_t *seq_out)
{
	uint8_t reply[IAS_CTL_MAX_MSG];
	struct ias_ctl_hdr h;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	ssize_t n;

	if (send(fd, buf, len, MSG_NOSIGNAL) < 0)
		return 1;
	if (poll(&pfd, 1, 3000) <= 0)
		return 1;
	n = recv(fd, reply, sizeof(reply), 0);
	if (n <= 0 || ias_ctl_validate(reply, (size_t)n) != 0)
		return 1;
	ias_ctl_parse_hdr(reply, (size_t)n, &h, NULL);
	if (h.kind != IAS_CTL_REPLY)
		return 1;
	if (seq_out)
		*seq_out = h.seq;
	return h.status;
}

static size_t build(uint8_t *buf, uint16_t op, uint32_t seq, int with_pid)
{
	struct ias_ctl_msg m;

	ias_ctl_msg_init(&m, buf, IAS_CTL_MAX_MSG, IAS_CTL_REQUEST, op, seq, 0);
	if (with_pid)
		ias_ctl_put_u32(&m, IAS_CTL_A_PID, (uint32_t)getpid());
	ias_ctl_msg_finish(&m);
	return m.len;
}

static int garbage(void)
{
	static uint8_t buf[70000];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *path = getenv(IAS_CTL_SOCKET_ENV);
	uint64_t rng = 12345;
	uint32_t seq = 0;
	size_t len;
	int fd, i, st, replied = 0;

	if (!path)
		path = IAS_CTL_DEFAULT_SOCKET;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		check(0, "connect to the agent");
		return 1;
	}
	memset(buf, 0xab, 64);
	check(raw_call(fd, buf, 1, NULL) == IAS_CTL_E_INVAL, "1-byte datagram: INVAL");
	check(raw_call(fd, buf, 23, NULL) == IAS_CTL_E_INVAL, "short header: INVAL");

	len = build(buf, IAS_CTL_OP_STATUS, 7, 0);
	buf[0] ^= 0xff;
	check(raw_call(fd, buf, len, NULL) == IAS_CTL_E_INVAL, "bad magic: INVAL");

	len = build(buf, IAS_CTL_OP_STATUS, 8, 0);
	buf[IAS_CTL_OFF_VERSION] = 2;
	check(raw_call(fd, buf, len, &seq) == IAS_CTL_E_VERSION, "version 2: VERSION");
	check(seq == 8, "the error reply echoes the request's seq");

	len = build(buf, IAS_CTL_OP_STATUS, 9, 0);
	buf[IAS_CTL_OFF_KIND] = IAS_CTL_REPLY;
	check(raw_call(fd, buf, len, NULL) == IAS_CTL_E_INVAL, "a reply sent as a request: INVAL");

	len = build(buf, IAS_CTL_OP_STATUS, 10, 0);
	buf[IAS_CTL_OFF_RESERVED + 3] = 1;
	check(raw_call(fd, buf, len, NULL) == IAS_CTL_E_INVAL, "non-zero reserved: INVAL");

	len = build(buf, IAS_CTL_OP_STATUS, 11, 0);
	ias_put_be32(buf + IAS_CTL_OFF_LENGTH, (uint32_t)len + 4);
	check(raw_call(fd, buf, len, NULL) == IAS_CTL_E_INVAL, "length field mismatch: INVAL");

	len = build(buf, 999, 12, 0);
	check(raw_call(fd, buf, len, NULL) == IAS_CTL_E_INVAL, "unknown op: INVAL");

	len = build(buf, IAS_CTL_OP_REPORT_ATTACK, 13, 1);
	ias_put_be16(buf + IAS_CTL_HDR_LEN + 2, 200);	/* attribute runs past the end */
	check(raw_call(fd, buf, len, NULL) == IAS_CTL_E_INVAL, "attribute past the end: INVAL");

	len = build(buf, IAS_CTL_OP_REPORT_ATTACK, 14, 0);
	check(raw_call(fd, buf, len, NULL) == IAS_CTL_E_INVAL, "ReportAttack without PID: INVAL");

	{
		struct ias_ctl_msg m;

		ias_ctl_msg_init(&m, buf, sizeof(buf), IAS_CTL_REQUEST, IAS_CTL_OP_REPORT_ATTACK, 15, 0);
		ias_ctl_put_u32(&m, IAS_CTL_A_PID, 1);
		ias_ctl_put_str(&m, IAS_CTL_A_REASON, "bad\x01reason");
		ias_ctl_msg_finish(&m);
		check(raw_call(fd, buf, m.len, NULL) == IAS_CTL_E_INVAL,
		      "control character in a string: INVAL");
	}
	memset(buf, 0, sizeof(buf));
	len = build(buf, IAS_CTL_OP_STATUS, 16, 0);
	check(raw_call(fd, buf, 68000, NULL) == IAS_CTL_E_TOOBIG, "68000-byte datagram: TOOBIG");

	for (i = 0; i < 300; i++) {
		size_t k, n = 1 + (size_t)(rng % 300);

		for (k = 0; k < n; k++) {
			rng ^= rng << 13;
			rng ^= rng >> 7;
			rng ^= rng << 17;
			buf[k] = (uint8_t)rng;
		}
		if (i % 2) {	/* a valid header over random attributes */
			struct ias_ctl_msg m;

			ias_ctl_msg_init(&m, buf, sizeof(buf), IAS_CTL_REQUEST,
					 (uint16_t)(1 + rng % IAS_CTL_OP_MAX_REQ), (uint32_t)i, 0);
			m.len = n < IAS_CTL_HDR_LEN ? IAS_CTL_HDR_LEN : n;
			ias_put_be32(buf + IAS_CTL_OFF_LENGTH, (uint32_t)m.len);
			n = m.len;
		}
		st = raw_call(fd, buf, n, NULL);
		replied += st != 1;
	}
	check(replied == 300, "300 random datagrams: every one answered");
	len = build(buf, IAS_CTL_OP_STATUS, 17, 0);
	check(raw_call(fd, buf, len, NULL) == 0, "a valid STATUS still works on the same connection");
	close(fd);
	return failures != 0;
}

static int register_real(const char *dev, const char *qpn_s)
{
	struct ias_qp_info qi;
	unsigned long qpn;
	char *p;
	int r;

	memset(&qi, 0, sizeof(qi));
	qpn = strtoul(qpn_s, &p, 0);
	if (*p || qpn == 0 || qpn > 0xffffff || strlen(dev) >= sizeof(qi.device)) {
		fprintf(stderr, "bad QP %s on %s\n", qpn_s, dev);
		return 2;
	}
	qi.qpn = (uint32_t)qpn;
	qi.qp_type = IBV_QPT_RC;
	qi.qp_state = IBV_QPS_RTS;
	snprintf(qi.device, sizeof(qi.device), "%s", dev);
	qi.port = 1;
	r = ias_register_qp_info(&qi);
	if (r) {
		printf("refused: %s\n", ias_strerror(r));
		return 1;
	}
	printf("registered\n");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "register") == 0)
		return register_real(argv[2], argv[3]);
	if (argc >= 3 && strcmp(argv[1], "register-sim") == 0)
		return register_sim(argc - 2, argv + 2);
	if (argc == 3 && strcmp(argv[1], "alert") == 0)
		return alert((pid_t)strtol(argv[2], NULL, 10));
	if (argc == 2 && strcmp(argv[1], "garbage") == 0)
		return garbage();
	fprintf(stderr, "usage: ias_testclient register-sim QPN... | register DEV QPN | alert PID | garbage\n");
	return 2;
}
