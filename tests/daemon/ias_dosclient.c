/* A local user trying to starve a daemon through its control socket, for
 * tests/daemon/test_localdos.sh (and for measuring). Not installed. Raw
 * datagrams built with the control protocol's own codec.
 *
 *   ias_dosclient hold SOCKET MAX      open connections, each proven by a
 *        STATUS reply, until MAX or three refusals in a row; print "held N",
 *        then keep them until SIGTERM or stdin closes (at most 300 s)
 *   ias_dosclient flood SOCKET N       N REPORT_ATTACK requests (privileged)
 *        on one connection, each awaiting its reply; print "refused R of N"
 *        (R: IAS_CTL_E_PERM replies)
 *   ias_dosclient register SOCKET N    register N simulated QPs on one
 *        connection; print "registered K" and, at the first refusal,
 *        "refused: MESSAGE"; then keep the connection until SIGTERM or stdin
 *        closes
 *
 * Exit status 0 when the mode ran to its end, 1 on a setup error. */
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

#include "ctl/proto.h"

static uint8_t buf[IAS_CTL_MAX_MSG];
static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static int dial(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -1;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Sends m and waits up to ms for the reply; its status in *status, its
 * message (if any) in msg. 0, or -1 when the daemon closed or did not
 * answer. */
static int ask(int fd, struct ias_ctl_msg *m, int ms, int32_t *status, char *msg, size_t msglen)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	struct ias_ctl_hdr h;
	struct ias_ctl_attr a;
	struct ias_rd rd;
	ssize_t n;

	if (send(fd, m->buf, m->len, MSG_NOSIGNAL) < 0)
		return -1;
	if (poll(&p, 1, ms) <= 0)
		return -1;
	n = recv(fd, buf, sizeof(buf), 0);
	if (n <= 0 || ias_ctl_validate(buf, (size_t)n) != 0)
		return -1;
	ias_ctl_parse_hdr(buf, (size_t)n, &h, &rd);
	*status = h.status;
	if (msg && msglen) {
		msg[0] = '\0';
		while (ias_ctl_next(&rd, &a) > 0)
			if (a.type == IAS_CTL_A_MESSAGE)
				ias_ctl_get_str(&a, msg, msglen);
	}
	return 0;
}

static void wait_for_end(void)
{
	time_t end = time(NULL) + 300;

	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	while (!stop && time(NULL) < end) {
		struct pollfd p = { .fd = 0, .events = POLLIN };
		char c;

		if (poll(&p, 1, 200) > 0 && read(0, &c, 1) <= 0)
			break;
	}
}

static int hold(const char *path, int max)
{
	uint8_t out[64];
	struct ias_ctl_msg m;
	int held = 0, misses = 0, fd;
	int32_t st;

	while (held < max && misses < 3) {
		fd = dial(path);
		if (fd < 0) {
			misses++;
			continue;
		}
		ias_ctl_msg_init(&m, out, sizeof(out), IAS_CTL_REQUEST, IAS_CTL_OP_STATUS, 1, 0);
		ias_ctl_msg_finish(&m);
		if (ask(fd, &m, 2000, &st, NULL, 0) < 0) {
			close(fd);
			misses++;
			continue;
		}
		misses = 0;
		held++;		/* kept open on purpose */
	}
	printf("held %d\n", held);
	fflush(stdout);
	wait_for_end();
	return 0;
}

static int flood(const char *path, long n)
{
	uint8_t out[64];
	struct ias_ctl_msg m;
	long i, refused = 0;
	int fd = dial(path);
	int32_t st;

	if (fd < 0) {
		perror("connect");
		return 1;
	}
	for (i = 0; i < n; i++) {
		ias_ctl_msg_init(&m, out, sizeof(out), IAS_CTL_REQUEST, IAS_CTL_OP_REPORT_ATTACK,
				 (uint32_t)i + 1, 0);
		ias_ctl_put_u32(&m, IAS_CTL_A_PID, 1);
		ias_ctl_msg_finish(&m);
		if (ask(fd, &m, 2000, &st, NULL, 0) < 0)
			break;
		refused += st == IAS_CTL_E_PERM;
	}
	printf("refused %ld of %ld\n", refused, n);
	return 0;
}

static int reg(const char *path, long n)
{
	uint8_t out[256];
	char msg[IAS_CTL_MESSAGE_MAX + 1];
	struct ias_ctl_msg m;
	long i, done = 0;
	int fd = dial(path);
	int32_t st = 0;

	if (fd < 0) {
		perror("connect");
		return 1;
	}
	msg[0] = '\0';
	for (i = 0; i < n; i++) {
		ias_ctl_msg_init(&m, out, sizeof(out), IAS_CTL_REQUEST, IAS_CTL_OP_QP_REGISTER,
				 (uint32_t)i + 1, 0);
		ias_ctl_put_str(&m, IAS_CTL_A_DEVICE, "dos0");
		ias_ctl_put_u32(&m, IAS_CTL_A_QPN, (uint32_t)(0x1000 + i) & 0xffffff);
		ias_ctl_put_u8(&m, IAS_CTL_A_QP_TYPE, 4);	/* UD */
		ias_ctl_put_u8(&m, IAS_CTL_A_QP_STATE, 3);	/* RTS */
		ias_ctl_put_u32(&m, IAS_CTL_A_PORT, 1);
		ias_ctl_put_u8(&m, IAS_CTL_A_SIMULATED, 1);
		ias_ctl_msg_finish(&m);
		if (ask(fd, &m, 5000, &st, msg, sizeof(msg)) < 0) {
			snprintf(msg, sizeof(msg), "no answer");
			st = -1;
			break;
		}
		if (st)
			break;
		done++;
	}
	printf("registered %ld\n", done);
	if (st)
		printf("refused: %s\n", msg);
	fflush(stdout);
	wait_for_end();
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "hold") == 0)
		return hold(argv[2], atoi(argv[3]));
	if (argc == 4 && strcmp(argv[1], "flood") == 0)
		return flood(argv[2], atol(argv[3]));
	if (argc == 4 && strcmp(argv[1], "register") == 0)
		return reg(argv[2], atol(argv[3]));
	fprintf(stderr, "usage: ias_dosclient hold|flood|register SOCKET N\n");
	return 1;
}
