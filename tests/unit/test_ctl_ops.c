/* The agent's control handlers (sema/ctl_ops.c, ctl_qp.c, ctl_view.c),
 * driven through the real transport and dispatch (ctl/server.c) over a
 * socket in a temporary directory, against the fake effects and MAD port
 * and a real store. Each connection is given a peer credential (root, a
 * member of the control group, an unprivileged user) after accept, so the
 * authorisation rules are checked without changing users. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl/proto.h"
#include "ctl/server.h"
#include "sema/ctl_ops.h"
#include "sema/engine.h"
#include "tests/unit/fake_sema.h"
#include "tests/unit/tap.h"

#define CONTROL_GID 4242
#define USER_UID 1000

static struct sema S;
static char sock_path[128];
static uint64_t next_client;
static uint32_t next_seq;

/* A reply: status, MESSAGE text and the attributes. */
struct reply {
	uint8_t buf[IAS_CTL_MAX_MSG];
	size_t len;
	struct ias_ctl_hdr h;
	struct ias_rd attrs;
	char message[IAS_CTL_MESSAGE_MAX + 1];
};

enum who { ROOT, GROUP, USER };

/* Connect and give the connection the credential of who (PID pid). */
static int client(enum who who, pid_t pid)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct ctlsrv_client *cl = NULL;
	int fd, i;

	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -1;
	next_client++;
	for (i = 0; i < 100 && !cl; i++) {
		sd_event_run(S.ev, 10 * 1000);
		cl = ctl_server_client(S.ctl, next_client);
	}
	if (!cl) {
		close(fd);
		return -1;
	}
	cl->cred.uid = who == ROOT ? 0 : USER_UID;
	cl->cred.gid = who == GROUP ? CONTROL_GID : USER_UID;
	cl->cred.pid = pid;
	cl->ngroups = 0;
	snprintf(cl->comm, sizeof(cl->comm), "iasctl");
	return fd;
}

/* Send m and run the reactor until the reply is in. 0 or -1. */
static int call(int fd, struct ias_ctl_msg *m, struct reply *r)
{
	struct ias_ctl_attr a;
	struct ias_rd rd;
	ssize_t n = -1;
	int i;

	memset(r, 0, sizeof(*r));
	if (ias_ctl_msg_finish(m) || send(fd, m->buf, m->len, 0) < 0)
		return -1;
	for (i = 0; i < 200; i++) {
		sd_event_run(S.ev, 10 * 1000);
		n = recv(fd, r->buf, sizeof(r->buf), MSG_DONTWAIT);
		if (n >= 0)
			break;
	}
	if (n < 0 || ias_ctl_validate(r->buf, (size_t)n))
		return -1;
	r->len = (size_t)n;
	ias_ctl_parse_hdr(r->buf, r->len, &r->h, &r->attrs);
	rd = r->attrs;
	while (ias_ctl_next(&rd, &a) > 0)
		if (a.type == IAS_CTL_A_MESSAGE)
			ias_ctl_get_str(&a, r->message, sizeof(r->message));
	return 0;
}

static void req(struct ias_ctl_msg *m, uint8_t *buf, uint16_t op)
{
	ias_ctl_msg_init(m, buf, IAS_CTL_MAX_MSG, IAS_CTL_REQUEST, op, ++next_seq, 0);
}

static void allow_req(struct ias_ctl_msg *m, uint8_t *buf, uint16_t op, const char *kind,
		      const char *value)
{
	req(m, buf, op);
	ias_ctl_put_str(m, IAS_CTL_A_KIND, kind);
	ias_ctl_put_str(m, IAS_CTL_A_VALUE, value);
}

/* A request with no attributes; the reply's status. */
static int simple(int fd, uint16_t op, struct reply *r)
{
	static uint8_t buf[IAS_CTL_MAX_MSG];
	struct ias_ctl_msg m;

	req(&m, buf, op);
	if (call(fd, &m, r))
		return -1000;
	return r->h.status;
}

/* A request naming a PID; the reply's status. */
static int pid_call(int fd, uint16_t op, uint32_t pid, struct reply *r)
{
	static uint8_t buf[IAS_CTL_MAX_MSG];
	struct ias_ctl_msg m;

	req(&m, buf, op);
	ias_ctl_put_u32(&m, IAS_CTL_A_PID, pid);
	if (call(fd, &m, r))
		return -1000;
	return r->h.status;
}

/* How many top-level attributes of type t the reply has; the first one
 * into *first when first != NULL. */
static unsigned count(const struct reply *r, uint16_t t, struct ias_ctl_attr *first)
{
	struct ias_rd rd = r->attrs;
	struct ias_ctl_attr a;
	unsigned n = 0;

	while (ias_ctl_next(&rd, &a) > 0)
		if (a.type == t) {
			if (!n && first)
				*first = a;
			n++;
		}
	return n;
}

/* A string child of the nested attribute a ("" if absent). */
static void nested_str(const struct ias_ctl_attr *a, uint16_t t, char *out, size_t len)
{
	struct ias_ctl_attr in;
	struct ias_rd rd;

	out[0] = 0;
	ias_ctl_attr_nested(a, &rd);
	while (ias_ctl_next(&rd, &in) > 0)
		if (in.type == t)
			ias_ctl_get_str(&in, out, len);
}

static int top_str(const struct reply *r, uint16_t t, char *out, size_t len)
{
	struct ias_ctl_attr a;

	out[0] = 0;
	if (!count(r, t, &a))
		return -1;
	return ias_ctl_get_str(&a, out, len);
}

/* ---- the tests --------------------------------------------------------- */

static void test_status(int user)
{
	struct reply r;
	struct ias_ctl_attr st;
	char state[64];

	is_int(simple(user, IAS_CTL_OP_STATUS, &r), 0, "status: an unprivileged user may ask");
	ok(count(&r, IAS_CTL_A_STATUS, &st) == 1, "status: one STATUS nest");
	nested_str(&st, IAS_CTL_A_STATE, state, sizeof(state));
	is_str(state, "ready", "status: the agent is ready");
	S.store_failed = 1;
	simple(user, IAS_CTL_OP_STATUS, &r);
	count(&r, IAS_CTL_A_STATUS, &st);
	nested_str(&st, IAS_CTL_A_STATE, state, sizeof(state));
	is_str(state, "not ready: the store cannot commit", "status: not ready after a failed commit");
	S.store_failed = 0;
}

static void test_privileged_refused(int user)
{
	static const uint16_t ops[] = {
		IAS_CTL_OP_GET_ATTACK_PID, IAS_CTL_OP_SUBSCRIBE,
	};
	static uint8_t buf[IAS_CTL_MAX_MSG];
	struct ias_ctl_msg m;
	struct reply r;
	size_t i;

	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		ok(simple(user, ops[i], &r) == IAS_CTL_E_PERM, "%s refused to an unprivileged user",
		   ias_ctl_op_name(ops[i]));
	is_int(pid_call(user, IAS_CTL_OP_REPORT_ATTACK, (uint32_t)getpid(), &r), IAS_CTL_E_PERM, "REPORT_ATTACK refused to an unprivileged user");
	ok(strstr(r.message, "control group") != NULL, "the refusal says why");
	is_int(pid_call(user, IAS_CTL_OP_RELEASE, 1, &r), IAS_CTL_E_PERM, "RELEASE refused to an unprivileged user");
	allow_req(&m, buf, IAS_CTL_OP_ALLOW_ADD, "comm", "x");
	call(user, &m, &r);
	is_int(r.h.status, IAS_CTL_E_PERM, "ALLOW_ADD refused to an unprivileged user");
	req(&m, buf, IAS_CTL_OP_POLICY_SET);
	ias_ctl_nest_begin(&m, IAS_CTL_A_POLICY);
	ias_ctl_put_u32(&m, IAS_CTL_A_HOP_LIMIT, 3);
	ias_ctl_nest_end(&m);
	call(user, &m, &r);
	is_int(r.h.status, IAS_CTL_E_PERM, "POLICY_SET refused to an unprivileged user");
	is_int((int)S.policy.hop_limit, 4, "the policy is unchanged");
	ok(S.stats.requests_rejected >= 6, "refusals are counted");
}

static void qp_req(struct ias_ctl_msg *m, uint8_t *buf, uint16_t op, uint32_t qpn, int sim)
{
	req(m, buf, op);
	ias_ctl_put_u32(m, IAS_CTL_A_QPN, qpn);
	ias_ctl_put_str(m, IAS_CTL_A_DEVICE, "dev0");
	if (op == IAS_CTL_OP_QP_REGISTER) {
		ias_ctl_put_u8(m, IAS_CTL_A_QP_TYPE, 2);	/* RC */
		ias_ctl_put_u8(m, IAS_CTL_A_QP_STATE, 1);	/* INIT */
		ias_ctl_put_u32(m, IAS_CTL_A_PORT, 1);
	}
	if (sim && op != IAS_CTL_OP_QP_UNREGISTER)
		ias_ctl_put_u8(m, IAS_CTL_A_SIMULATED, 1);
}

/* A simulated QP request (with a new QP state when state >= 0); the reply's
 * status. */
static int qp_call(int fd, uint16_t op, uint32_t qpn, int state, struct reply *r)
{
	static uint8_t buf[IAS_CTL_MAX_MSG];
	struct ias_ctl_msg m;

	qp_req(&m, buf, op, qpn, 1);
	if (state >= 0)
		ias_ctl_put_u8(&m, IAS_CTL_A_QP_STATE, (uint8_t)state);
	if (call(fd, &m, r))
		return -1000;
	return r->h.status;
}

static void test_qps(int user, int other, pid_t victim)
{
	static uint8_t buf[IAS_CTL_MAX_MSG];
	struct ias_ctl_msg m;
	struct reply r;
	struct qpt_entry *e;

	S.cfg.simulated_fabric = false;
	is_int(qp_call(user, IAS_CTL_OP_QP_REGISTER, 0x101, -1, &r), IAS_CTL_E_PERM, "simulated QP refused without simulated_fabric");
	S.cfg.simulated_fabric = true;

	qp_req(&m, buf, IAS_CTL_OP_QP_REGISTER, 0x101, 1);
	ias_ctl_put_u32(&m, IAS_CTL_A_REMOTE_LID, 7);
	ias_ctl_put_u32(&m, IAS_CTL_A_REMOTE_QPN, 0x202);
	call(user, &m, &r);
	is_int(r.h.status, 0, "a user registers its QP");
	e = qpt_find(&S.qps, "dev0", 0x101);
	ok(e && e->pid == victim && e->has_remote && e->remote_lid == 7,
	   "the QP is the caller's, with its remote end");

	is_int(qp_call(other, IAS_CTL_OP_QP_REGISTER, 0x101, -1, &r), IAS_CTL_E_EXIST, "another process may not take the QP over");
	is_int(qp_call(other, IAS_CTL_OP_QP_UPDATE, 0x101, 3, &r), IAS_CTL_E_NOENT, "another connection may not update it");
	is_int(qp_call(other, IAS_CTL_OP_QP_UNREGISTER, 0x101, -1, &r), IAS_CTL_E_NOENT, "nor unregister it");

	is_int(qp_call(user, IAS_CTL_OP_QP_UPDATE, 0x101, 3, &r), 0, "the owner updates it");
	ok(e && e->state == 3, "the new state is kept");

	is_int(qp_call(user, IAS_CTL_OP_QP_UPDATE, 0x101, 9, &r), IAS_CTL_E_INVAL, "a QP state that is none is refused");
	ok(r.message[0] != 0, "with a message");
	is_int(qp_call(user, IAS_CTL_OP_QP_REGISTER, 0x1000000, -1, &r), IAS_CTL_E_INVAL, "a QPN over 24 bits is refused");

	is_int(pid_call(user, IAS_CTL_OP_QPS_LIST, (uint32_t)victim, &r), 0, "QPS_LIST");
	is_int((int)count(&r, IAS_CTL_A_QP, NULL), 1, "QPS_LIST --pid: the one QP");

	/* A second QP for the report and release below. */
	is_int(qp_call(user, IAS_CTL_OP_QP_REGISTER, 0x102, -1, &r), 0, "a second QP");
	is_int(qp_call(user, IAS_CTL_OP_QP_UNREGISTER, 0x102, -1, &r), 0, "the owner unregisters it");
	ok(!qpt_find(&S.qps, "dev0", 0x102), "it is gone");
}

static void test_report_release(int root, int group, pid_t victim)
{
	static uint8_t buf[IAS_CTL_MAX_MSG];
	struct ias_ctl_msg m;
	struct reply r;
	struct ias_ctl_attr a;
	char incident[64], inc2[64];
	unsigned alerts;

	is_int(pid_call(group, IAS_CTL_OP_REPORT_ATTACK, 0, &r), IAS_CTL_E_INVAL, "REPORT_ATTACK of PID 0: INVAL");

	is_int(pid_call(group, IAS_CTL_OP_REPORT_ATTACK, 0x7ffffff0, &r), IAS_CTL_E_NOENT, "REPORT_ATTACK of no process: NOENT");

	fake_reset();
	req(&m, buf, IAS_CTL_OP_REPORT_ATTACK);
	ias_ctl_put_u32(&m, IAS_CTL_A_PID, (uint32_t)victim);
	ias_ctl_put_str(&m, IAS_CTL_A_REASON, "unit test");
	call(group, &m, &r);
	is_int(r.h.status, 0, "REPORT_ATTACK by a member of the control group");
	ok(count(&r, IAS_CTL_A_BLOCK, NULL) == 1, "the reply carries the block");
	top_str(&r, IAS_CTL_A_INCIDENT_ID, incident, sizeof(incident));
	ok(incident[0] != 0, "and its incident");
	is_int((int)fake_orders("pause"), 1, "the registered QP got a pause order");
	is_int((int)fake.alerts, 1, "an alert was broadcast");
	ok(fake.ntraces == 1 && fake.traces[0].pid == victim, "the trace was sent");
	ok(engine_blocked(&S, victim), "the process is blocked");

	req(&m, buf, IAS_CTL_OP_REPORT_ATTACK);
	ias_ctl_put_u32(&m, IAS_CTL_A_PID, (uint32_t)victim);
	ias_ctl_put_str(&m, IAS_CTL_A_INCIDENT_ID, incident);
	call(root, &m, &r);
	is_int(r.h.status, 0, "a second report in the same incident");
	top_str(&r, IAS_CTL_A_INCIDENT_ID, inc2, sizeof(inc2));
	is_str(inc2, incident, "it names the same incident");

	/* Listings. */
	is_int(simple(group, IAS_CTL_OP_BLOCKS_LIST, &r), 0, "BLOCKS_LIST");
	is_int((int)count(&r, IAS_CTL_A_BLOCK, NULL), 1, "one active block");
	is_int(simple(group, IAS_CTL_OP_INCIDENTS_LIST, &r), 0, "INCIDENTS_LIST");
	ok(count(&r, IAS_CTL_A_INCIDENT, NULL) >= 1, "the incident is listed");
	req(&m, buf, IAS_CTL_OP_INCIDENT_SHOW);
	ias_ctl_put_str(&m, IAS_CTL_A_INCIDENT_ID, incident);
	call(group, &m, &r);
	is_int(r.h.status, 0, "INCIDENT_SHOW");
	req(&m, buf, IAS_CTL_OP_INCIDENT_SHOW);
	ias_ctl_put_str(&m, IAS_CTL_A_INCIDENT_ID, "no-such-incident");
	call(group, &m, &r);
	ok(r.h.status != 0, "INCIDENT_SHOW of an unknown incident fails");

	/* GetAttackPID and the subscription. */
	is_int(simple(group, IAS_CTL_OP_SUBSCRIBE, &r), 0, "SUBSCRIBE by the control group");
	alerts = 0;
	while (simple(root, IAS_CTL_OP_GET_ATTACK_PID, &r) == 0 && alerts < 10) {
		if (alerts == 0 && count(&r, IAS_CTL_A_PID, &a)) {
			uint32_t pid = 0;

			ias_ctl_get_u32(&a, &pid);
			is_int((int)pid, (int)victim, "GetAttackPID: the blocked PID");
		}
		alerts++;
	}
	ok(alerts >= 1, "GetAttackPID returned the pending alert(s)");
	is_int(r.h.status, IAS_CTL_E_AGAIN, "then AGAIN: none pending");

	/* Release. */
	is_int(simple(group, IAS_CTL_OP_RELEASE, &r), IAS_CTL_E_INVAL, "RELEASE without a selector");
	is_int(pid_call(group, IAS_CTL_OP_RELEASE, 0x7ffffff0, &r), IAS_CTL_E_NOENT, "RELEASE of a PID with no block: NOENT");
	fake_reset();
	req(&m, buf, IAS_CTL_OP_RELEASE);
	ias_ctl_put_str(&m, IAS_CTL_A_INCIDENT_ID, incident);
	call(group, &m, &r);
	is_int(r.h.status, 0, "RELEASE of the incident");
	ok(count(&r, IAS_CTL_A_COUNT, NULL) == 1, "the reply counts the released blocks");
	is_int((int)fake_orders("resume"), 1, "the QP got a resume order");
	ok(!engine_blocked(&S, victim), "the process is free");
	is_int(simple(group, IAS_CTL_OP_BLOCKS_LIST, &r), 0, "BLOCKS_LIST after release");
	is_int((int)count(&r, IAS_CTL_A_BLOCK, NULL), 0, "no active block");
}

static void test_allow(int root, int group, int user)
{
	static uint8_t buf[IAS_CTL_MAX_MSG];
	struct ias_ctl_msg m;
	struct reply r;

	allow_req(&m, buf, IAS_CTL_OP_ALLOW_ADD, "comm", "backupd");
	ias_ctl_put_str(&m, IAS_CTL_A_NOTE, "nightly");
	call(group, &m, &r);
	is_int(r.h.status, 0, "ALLOW_ADD");
	allow_req(&m, buf, IAS_CTL_OP_ALLOW_ADD, "comm", "backupd");
	call(root, &m, &r);
	is_int(r.h.status, IAS_CTL_E_EXIST, "ALLOW_ADD twice: EXIST");
	allow_req(&m, buf, IAS_CTL_OP_ALLOW_ADD, "colour", "blue");
	call(root, &m, &r);
	is_int(r.h.status, IAS_CTL_E_INVAL, "ALLOW_ADD of an unknown kind: INVAL");
	ok(strstr(r.message, "kind") != NULL, "the message names the kinds");
	is_int(simple(user, IAS_CTL_OP_ALLOW_LIST, &r), 0, "ALLOW_LIST by anyone");
	is_int((int)count(&r, IAS_CTL_A_ALLOW, NULL), 1, "one entry");
	allow_req(&m, buf, IAS_CTL_OP_ALLOW_REMOVE, "comm", "backupd");
	call(user, &m, &r);
	is_int(r.h.status, IAS_CTL_E_PERM, "ALLOW_REMOVE refused to an unprivileged user");
	allow_req(&m, buf, IAS_CTL_OP_ALLOW_REMOVE, "comm", "backupd");
	call(group, &m, &r);
	is_int(r.h.status, 0, "ALLOW_REMOVE");
	allow_req(&m, buf, IAS_CTL_OP_ALLOW_REMOVE, "comm", "backupd");
	call(group, &m, &r);
	is_int(r.h.status, IAS_CTL_E_NOENT, "ALLOW_REMOVE again: NOENT");
}

static void policy_req(struct ias_ctl_msg *m, uint8_t *buf, const char *mode, uint32_t hops,
		       uint32_t fanout)
{
	req(m, buf, IAS_CTL_OP_POLICY_SET);
	ias_ctl_nest_begin(m, IAS_CTL_A_POLICY);
	if (mode)
		ias_ctl_put_str(m, IAS_CTL_A_BLOCK_MODE, mode);
	if (hops)
		ias_ctl_put_u32(m, IAS_CTL_A_HOP_LIMIT, hops);
	if (fanout)
		ias_ctl_put_u32(m, IAS_CTL_A_FANOUT_LIMIT, fanout);
	ias_ctl_nest_end(m);
}

static void test_policy(int group, int user)
{
	static uint8_t buf[IAS_CTL_MAX_MSG];
	struct ias_ctl_msg m;
	struct reply r;
	struct ias_ctl_attr pol;
	char mode[32];
	uint32_t v0 = S.policy.version;

	is_int(simple(user, IAS_CTL_OP_POLICY_SHOW, &r), 0, "POLICY_SHOW by anyone");
	ok(count(&r, IAS_CTL_A_POLICY, &pol) == 1, "one POLICY nest");
	nested_str(&pol, IAS_CTL_A_BLOCK_MODE, mode, sizeof(mode));
	is_str(mode, "pause", "block mode by its name");

	policy_req(&m, buf, "cut", 5, 255);
	call(group, &m, &r);
	is_int(r.h.status, 0, "POLICY_SET by the control group");
	ok(S.policy.block_mode == IAS_MODE_CUT && S.policy.hop_limit == 5 &&
	   S.policy.fanout_limit == 255, "the policy is in force");
	is_int((int)S.policy.version, (int)v0 + 1, "its version went up");

	policy_req(&m, buf, "smash", 0, 0);
	call(group, &m, &r);
	is_int(r.h.status, IAS_CTL_E_INVAL, "an unknown block mode: INVAL");
	ok(strstr(r.message, "smash") != NULL, "the message names it");
	policy_req(&m, buf, NULL, IAS_POLICY_HOP_MAX + 1, 0);
	call(group, &m, &r);
	is_int(r.h.status, IAS_CTL_E_INVAL, "a hop limit over the range: INVAL");
	policy_req(&m, buf, NULL, 0, IAS_POLICY_FANOUT_MAX + 1);
	call(group, &m, &r);
	is_int(r.h.status, IAS_CTL_E_INVAL, "a fan-out limit over the range: INVAL");
	is_int((int)S.policy.version, (int)v0 + 1, "refused changes leave the policy alone");
	ok(S.policy.block_mode == IAS_MODE_CUT, "still cut");

	policy_req(&m, buf, "pause", 4, 8);
	call(group, &m, &r);
	is_int(r.h.status, 0, "back to pause");
}

static void test_malformed(int user)
{
	static uint8_t buf[IAS_CTL_MAX_MSG];
	struct ias_ctl_msg m;
	struct reply r;

	/* An attribute the op does not take: the strict request rules. */
	is_int(pid_call(user, IAS_CTL_OP_STATUS, 1, &r), IAS_CTL_E_INVAL, "STATUS with a PID attribute: INVAL");
	is_int((int)r.h.seq, (int)next_seq, "the error reply echoes the seq");
	req(&m, buf, IAS_CTL_OP_FABRIC_STATUS);
	call(user, &m, &r);
	is_int(r.h.status, IAS_CTL_E_INVAL, "an op the agent does not serve: INVAL");
	ok(strstr(r.message, "agent") != NULL, "the message says so");
}

int main(void)
{
	char dir[64];
	pid_t victim, other_pid;
	int root, group, user, other;

	if (fake_sema_open(&S, dir, sizeof(dir)) < 0) {
		tap_skip_all("no store");
		return 0;
	}
	if (sd_event_new(&S.ev) < 0) {
		fake_sema_close(&S, dir);
		tap_skip_all("no sd-event");
	}
	S.control_gid = CONTROL_GID;
	S.cfg.max_clients = 16;
	snprintf(S.cfg.control_group, sizeof(S.cfg.control_group), "ias");
	snprintf(sock_path, sizeof(sock_path), "%s/sema.sock", dir);
	if (ctl_server_start(&S, sock_path, -1, &S.ctl) < 0) {
		fake_sema_close(&S, dir);
		tap_skip_all("no control socket");
	}
	victim = fake_victim();
	other_pid = fake_victim();
	root = client(ROOT, getpid());
	group = client(GROUP, getpid());
	user = client(USER, victim);
	other = client(USER, other_pid);
	ok(root >= 0 && group >= 0 && user >= 0 && other >= 0, "four connections");

	test_status(user);
	test_privileged_refused(user);
	test_qps(user, other, victim);
	test_report_release(root, group, victim);
	test_allow(root, group, user);
	test_policy(group, user);
	test_malformed(user);

	close(root);
	close(group);
	close(user);
	close(other);
	ctl_server_stop(S.ctl);
	S.ctl = NULL;
	fake_victim_end(victim);
	fake_victim_end(other_pid);
	S.ev = sd_event_unref(S.ev);
	fake_sema_close(&S, dir);
	return tap_done();
}
