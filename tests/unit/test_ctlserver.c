/* Unit tests for the control-socket transport's local limits (ctl/server.c):
 * the admission rule (per-uid cap, slots reserved for root and the control
 * group), and on a real server in this process the refusal log budget: a
 * flood of refused requests gives at most CTLSRV_REFUSAL_LINES lines per uid
 * and window, then one summary line. As root, other uids are played by
 * forked children that drop to throwaway uids. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "ctl/server.h"
#include "tests/unit/tap.h"

static char dir[] = "/tmp/ias-ctlsrv-XXXXXX";
static char sock_path[128], log_path[160];
static sd_event *ev;

static int op_status(struct ctlsrv_req *x)
{
	(void)x;
	return 0;
}

static int op_report(struct ctlsrv_req *x)
{
	(void)x;
	return 0;
}

static const struct ctlsrv_handler handlers[] = {
	{ IAS_CTL_OP_STATUS, op_status },
	{ IAS_CTL_OP_REPORT_ATTACK, op_report },
};

static void test_admit(void)
{
	struct ctlsrv_conf c = { .max_clients = 10, .max_clients_per_user = 3, .reserved_clients = 4 };

	is_int(ctlsrv_admit(&c, 0, 0, 1000, 0), 0, "a first connection is admitted");
	is_int(ctlsrv_admit(&c, 2, 2, 1000, 0), 0, "below the per-user cap: admitted");
	is_int(ctlsrv_admit(&c, 3, 3, 1000, 0), CTLSRV_USER_CAP, "at the per-user cap: refused");
	is_int(ctlsrv_admit(&c, 3, 3, 1000, 1), CTLSRV_USER_CAP,
	       "the cap holds for a control-group member too");
	is_int(ctlsrv_admit(&c, 5, 30, 0, 1), 0, "root has no per-user cap");
	is_int(ctlsrv_admit(&c, 6, 0, 1001, 0), CTLSRV_RESERVED,
	       "only reserved slots left: an unprivileged user is refused");
	is_int(ctlsrv_admit(&c, 6, 0, 1001, 1), 0, "a control-group member takes a reserved slot");
	is_int(ctlsrv_admit(&c, 9, 9, 0, 1), 0, "root takes the last slot");
	is_int(ctlsrv_admit(&c, 10, 10, 0, 1), CTLSRV_FULL, "every slot taken: root too is refused");
	c.max_clients_per_user = 0;
	is_int(ctlsrv_admit(&c, 5, 5, 1000, 0), 0, "max_clients_per_user 0: no per-user cap");
	c.reserved_clients = 20;
	is_int(ctlsrv_admit(&c, 0, 0, 1000, 0), CTLSRV_RESERVED,
	       "more reserved than slots: unprivileged users get none");
}

static int dial(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* One request, its reply's status; INT32_MIN when none came. */
static int32_t ask(int fd, uint16_t op)
{
	uint8_t out[64], in[IAS_CTL_MAX_MSG];
	struct ias_ctl_msg m;
	struct ias_ctl_hdr h;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n;

	ias_ctl_msg_init(&m, out, sizeof(out), IAS_CTL_REQUEST, op, 1, 0);
	if (op == IAS_CTL_OP_REPORT_ATTACK)
		ias_ctl_put_u32(&m, IAS_CTL_A_PID, 1);
	ias_ctl_msg_finish(&m);
	if (send(fd, m.buf, m.len, MSG_NOSIGNAL) < 0 || poll(&p, 1, 3000) <= 0)
		return INT32_MIN;
	n = recv(fd, in, sizeof(in), 0);
	if (n <= 0 || ias_ctl_validate(in, (size_t)n))
		return INT32_MIN;
	ias_ctl_parse_hdr(in, (size_t)n, &h, NULL);
	return h.status;
}

/* Runs fn in a child as uid (when we are root and uid differs), serving the
 * server meanwhile; the child's exit status, or -1. */
static int as_child(uid_t uid, int (*fn)(int), int arg)
{
	pid_t pid = fork();
	int st = 0, r;

	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (uid != geteuid() && (setgroups(0, NULL) < 0 || setresgid(uid, uid, uid) < 0 ||
					 setresuid(uid, uid, uid) < 0))
			_exit(250);
		_exit(fn(arg));
	}
	for (;;) {
		sd_event_run(ev, 5 * 1000);
		r = waitpid(pid, &st, WNOHANG);
		if (r == pid)
			break;
		if (r < 0)
			return -1;
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* How many connections proven by a STATUS reply (of at most max). */
static int held_fds[64];

static int hold(int max)
{
	int n = 0, fd;

	while (n < max && (fd = dial()) >= 0) {
		if (ask(fd, IAS_CTL_OP_STATUS) != 0) {
			close(fd);
			break;
		}
		held_fds[n++] = fd;
	}
	return n;
}

/* n privileged requests; how many were refused with E_PERM, / 100. */
static int flood(int n)
{
	int fd = dial(), i, refused = 0;

	if (fd < 0)
		return 255;
	for (i = 0; i < n; i++)
		refused += ask(fd, IAS_CTL_OP_REPORT_ATTACK) == IAS_CTL_E_PERM;
	close(fd);
	return refused / 100;
}

/* A child as uid holding what it can (at most 10) until killed; the count
 * it held, served meanwhile. */
static int spawn_holder(uid_t uid, pid_t *pid)
{
	int p[2];
	char c = -1;

	if (pipe(p) < 0 || (*pid = fork()) < 0)
		return -1;
	if (*pid == 0) {
		close(p[0]);
		if (setgroups(0, NULL) < 0 || setresgid(uid, uid, uid) < 0 ||
		    setresuid(uid, uid, uid) < 0)
			_exit(250);
		c = (char)hold(10);
		if (write(p[1], &c, 1) != 1)
			_exit(251);
		for (;;)
			pause();
	}
	close(p[1]);
	for (int i = 0; i < 2000 && c < 0; i++) {
		struct pollfd pf = { .fd = p[0], .events = POLLIN };

		sd_event_run(ev, 5 * 1000);
		if (poll(&pf, 1, 0) > 0 && read(p[0], &c, 1) != 1)
			break;
	}
	close(p[0]);
	return c;
}

static int count_lines(const char *needle)
{
	char line[512];
	FILE *f;
	int n = 0;

	fflush(stderr);
	f = fopen(log_path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		n += strstr(line, needle) != NULL;
	fclose(f);
	return n;
}

static void serve_ms(int ms)
{
	int i;

	for (i = 0; i < ms / 10; i++)
		sd_event_run(ev, 10 * 1000);
}

static void test_server(void)
{
	struct ctlsrv_conf c = {
		.handlers = handlers, .nhandlers = 2, .control_gid = (gid_t)-1,
		.max_clients = 8, .max_clients_per_user = 3, .reserved_clients = 2,
		.perm_msg = "not for you", .unknown_op_msg = "no", .reply_toobig_msg = "big",
		.log_group = "ias", .refusal_window_ms = 400,
	};
	struct ctlsrv *srv = NULL;
	int saved, fd, root = geteuid() == 0, r;

	uid_t flooder = root ? 40101 : geteuid();
	char needle[64];

	snprintf(sock_path, sizeof(sock_path), "%s/ctl.sock", dir);
	snprintf(log_path, sizeof(log_path), "%s/log", dir);
	fd = open(log_path, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0600);
	saved = dup(2);
	dup2(fd, 2);
	close(fd);
	ias_log_init("test", LOG_DEBUG);
	sd_event_default(&ev);
	c.ev = ev;
	r = ctlsrv_start(&c, sock_path, -1, &srv);
	chmod(dir, 0755);
	if (r) {
		dup2(saved, 2);
		ok(0, "the server starts: %s", strerror(-r));
		return;
	}

	/* 1000 refused requests: at most 5 lines, then the summary when the
	 * (shortened) window closes. */
	is_int(as_child(flooder, flood, 1000), 10, "1000 privileged requests from a user: all refused");
	snprintf(needle, sizeof(needle), "uid %u (PID", (unsigned)flooder);
	is_int(count_lines(needle), CTLSRV_REFUSAL_LINES, "only the first 5 are logged one by one");
	serve_ms(600);
	snprintf(needle, sizeof(needle), "uid %u: 1000 requests refused in the last 400 ms",
		 (unsigned)flooder);
	is_int(count_lines(needle), 1, "then one summary line for the window");
	serve_ms(600);
	is_int(count_lines("requests refused in the last"), 1, "and no more once the flood stopped");

	if (!root) {
		dup2(saved, 2);
		tap_diag("not root: the per-uid connection checks need other uids (the daemon tier runs them)");
		ctlsrv_stop(srv);
		return;
	}
	/* Users take what they can: 3 each, so two of them leave 8 - 6 = 2
	 * slots, both reserved: a third user gets none, root gets both. */
	{
		pid_t a, b;
		int st;

		is_int(spawn_holder(40102, &a), 3, "a user holds max_clients_per_user (3) connections");
		is_int(spawn_holder(40103, &b), 3, "a second user holds 3 too");
		is_int(ctlsrv_nclients(srv), 6, "6 of 8 taken, 2 reserved left");
		is_int(as_child(40104, hold, 10), 0, "a third user gets no reserved slot");
		ok(count_lines("kept for root") >= 1, "the refusal is logged with its reason");
		is_int(as_child(0, hold, 2), 2, "root still gets the two reserved slots");
		kill(a, SIGTERM);
		kill(b, SIGTERM);
		waitpid(a, &st, 0);
		waitpid(b, &st, 0);
	}
	ctlsrv_stop(srv);
	sd_event_unref(ev);
	dup2(saved, 2);
}

int main(void)
{
	test_admit();
	if (!mkdtemp(dir)) {
		ok(0, "mkdtemp");
		return tap_done();
	}
	test_server();
	unlink(sock_path);
	unlink(log_path);
	rmdir(dir);
	return tap_done();
}
