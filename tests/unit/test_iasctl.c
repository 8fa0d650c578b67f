/* iasctl against a fake agent: human and JSON rendering (including []),
 * exit codes for each refusal, and usage errors. The fake answers with
 * canned messages built with the codec. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctl/proto.h"
#include "tests/unit/tap.h"
#include "tests/unit/test_iasctl_fake.h"

#define NOW 1700000000000ull /* IASCTL_NOW_MS for the runs */

static int force_status; /* if set, every reply carries this status */
static int as_manager;   /* answer STATUS as the manager does */

static void put_block(struct ias_ctl_msg *m, uint64_t id, uint32_t pid, const char *comm,
		      uint64_t released)
{
	ias_ctl_nest_begin(m, IAS_CTL_A_BLOCK);
	ias_ctl_put_u64(m, IAS_CTL_A_BLOCK_ID, id);
	ias_ctl_put_str(m, IAS_CTL_A_ORIGIN, id == 42 ? "analyzer" : "trace");
	ias_ctl_put_str(m, IAS_CTL_A_NODE, id == 42 ? "n07" : "n11");
	ias_ctl_put_u32(m, IAS_CTL_A_PID, pid);
	ias_ctl_put_u32(m, IAS_CTL_A_UID, 1000);
	ias_ctl_put_str(m, IAS_CTL_A_COMM, comm);
	ias_ctl_put_u32(m, IAS_CTL_A_QPN, 0x1a);
	ias_ctl_put_u32(m, IAS_CTL_A_QPN, 0x1b);
	ias_ctl_put_str(m, IAS_CTL_A_REASON, id == 42 ? "reported" : "via n07/qp 0x1a");
	ias_ctl_put_str(m, IAS_CTL_A_INCIDENT_ID, "I-17");
	ias_ctl_put_str(m, IAS_CTL_A_MECHANISM, "freeze");
	ias_ctl_put_u64(m, IAS_CTL_A_CREATED_MS, NOW - 120000);
	ias_ctl_put_u64(m, IAS_CTL_A_UNTIL_MS, NOW + 3480000);
	ias_ctl_put_u64(m, IAS_CTL_A_RELEASED_MS, released);
	if (released)
		ias_ctl_put_str(m, IAS_CTL_A_RELEASE_NOTE, "thawed");
	ias_ctl_nest_end(m);
}

static int handler(const struct ias_ctl_hdr *h, struct ias_rd *attrs, struct ias_ctl_msg *m,
		   int fd, void *arg)
{
	struct ias_ctl_attr a;
	uint32_t pid = 0;
	uint64_t id = 0;
	uint8_t all = 0, dry = 0;
	uint32_t qpn = 0;
	char inc[32] = "";

	(void)fd;
	(void)arg;
	while (ias_ctl_next(attrs, &a) == 1) {
		if (a.type == IAS_CTL_A_PID)
			ias_ctl_get_u32(&a, &pid);
		else if (a.type == IAS_CTL_A_BLOCK_ID)
			ias_ctl_get_u64(&a, &id);
		else if (a.type == IAS_CTL_A_ALL)
			ias_ctl_get_u8(&a, &all);
		else if (a.type == IAS_CTL_A_DRY_RUN)
			ias_ctl_get_u8(&a, &dry);
		else if (a.type == IAS_CTL_A_QPN)
			ias_ctl_get_u32(&a, &qpn);
		else if (a.type == IAS_CTL_A_INCIDENT_ID)
			ias_ctl_get_str(&a, inc, sizeof(inc));
	}
	if (force_status) {
		ias_ctl_msg_init(m, m->buf, m->cap, IAS_CTL_REPLY, h->op, h->seq, force_status);
		ias_ctl_put_str(m, IAS_CTL_A_MESSAGE, "canned refusal");
		return 0;
	}
	switch (h->op) {
	case IAS_CTL_OP_STATUS:
		/* The agent sends no peer count (it has none); the manager
		 * counts the agents it knows in the same fields, and has no
		 * block or QP counters. */
		if (as_manager)
			ias_ctl_put_str(m, IAS_CTL_A_ROLE, "active");
		ias_ctl_nest_begin(m, IAS_CTL_A_STATUS);
		ias_ctl_put_str(m, IAS_CTL_A_AGENT_VERSION, as_manager ? "sem 0.1.0" : "0.1.0");
		ias_ctl_put_str(m, IAS_CTL_A_NODE, "n07");
		ias_ctl_put_u64(m, IAS_CTL_A_UPTIME_S, 7200);
		if (!as_manager) {
			ias_ctl_put_u32(m, IAS_CTL_A_BLOCKS_ACTIVE, 3);
			ias_ctl_put_u32(m, IAS_CTL_A_BLOCKS_TOTAL, 17);
			ias_ctl_put_u32(m, IAS_CTL_A_QPS_BLOCKED, 15);
			ias_ctl_put_u32(m, IAS_CTL_A_QPS_KNOWN, 40);
		}
		ias_ctl_put_str(m, IAS_CTL_A_PORT_STATE, "mlx5_0/1 lid 3");
		if (!as_manager)
			ias_ctl_put_str(m, IAS_CTL_A_STATE, "not ready: the store cannot commit");
		if (as_manager) {
			ias_ctl_put_u32(m, IAS_CTL_A_PEERS_REACHABLE, 6);
			ias_ctl_put_u32(m, IAS_CTL_A_PEERS_KNOWN, 7);
		}
		ias_ctl_put_u64(m, IAS_CTL_A_MADS_REJECTED, 2);
		ias_ctl_nest_begin(m, IAS_CTL_A_POLICY);
		ias_ctl_put_str(m, IAS_CTL_A_LEVEL, "lca");
		ias_ctl_nest_end(m);
		ias_ctl_nest_end(m);
		break;
	case IAS_CTL_OP_REPORT_ATTACK:
		if (pid == 1) {
			ias_ctl_msg_init(m, m->buf, m->cap, IAS_CTL_REPLY, h->op, h->seq,
					 IAS_CTL_E_NEVERBLOCK);
			ias_ctl_put_str(m, IAS_CTL_A_MESSAGE, "pid 1 (init) is on the never-block list");
			break;
		}
		put_block(m, 42, pid, "mpi_app", 0);
		ias_ctl_put_str(m, IAS_CTL_A_INCIDENT_ID, "I-17");
		break;
	case IAS_CTL_OP_BLOCKS_LIST:
		if (pid == 1)
			break; /* empty list */
		if (pid == 2) { /* comm as a process may set it: quotes, bad UTF-8 */
			put_block(m, 5, 2, "\"},\xff{\\", 0);
			break;
		}
		put_block(m, 42, 4242, "mpi_app", 0);
		put_block(m, 43, 977, "helper", 0);
		if (all)
			put_block(m, 7, 555, "old", NOW - 1000);
		break;
	case IAS_CTL_OP_BLOCK_INSPECT:
		if (id != 42) {
			ias_ctl_msg_init(m, m->buf, m->cap, IAS_CTL_REPLY, h->op, h->seq,
					 IAS_CTL_E_NOENT);
			ias_ctl_put_str(m, IAS_CTL_A_MESSAGE, "no block 999");
			break;
		}
		put_block(m, 42, 4242, "mpi_app", 0);
		ias_ctl_nest_begin(m, IAS_CTL_A_AUDIT);
		ias_ctl_put_u64(m, IAS_CTL_A_TS_MS, NOW - 120000);
		ias_ctl_put_str(m, IAS_CTL_A_ACTOR, "uid 0");
		ias_ctl_put_str(m, IAS_CTL_A_ACTION, "block");
		ias_ctl_put_str(m, IAS_CTL_A_DETAIL, "cgroup frozen");
		ias_ctl_nest_end(m);
		break;
	case IAS_CTL_OP_RELEASE:
		ias_ctl_nest_begin(m, IAS_CTL_A_BLOCK);
		ias_ctl_put_u64(m, IAS_CTL_A_BLOCK_ID, 42);
		ias_ctl_put_u32(m, IAS_CTL_A_PID, 4242);
		ias_ctl_put_str(m, IAS_CTL_A_COMM, "mpi_app");
		ias_ctl_put_str(m, IAS_CTL_A_INCIDENT_ID, "I-17");
		ias_ctl_put_str(m, IAS_CTL_A_RELEASE_NOTE, dry ? "would thaw" : "thawed; 2 QPs resumed");
		ias_ctl_nest_end(m);
		ias_ctl_nest_begin(m, IAS_CTL_A_BLOCK);
		ias_ctl_put_u64(m, IAS_CTL_A_BLOCK_ID, 44);
		ias_ctl_put_u32(m, IAS_CTL_A_PID, 4242);
		ias_ctl_put_str(m, IAS_CTL_A_COMM, "mpi_app");
		ias_ctl_put_str(m, IAS_CTL_A_INCIDENT_ID, "I-18");
		ias_ctl_put_str(m, IAS_CTL_A_RELEASE_NOTE, dry ? "would thaw" : "thawed");
		ias_ctl_nest_end(m);
		ias_ctl_put_u32(m, IAS_CTL_A_COUNT, 2);
		break;
	case IAS_CTL_OP_INCIDENT_SHOW:
		ias_ctl_nest_begin(m, IAS_CTL_A_INCIDENT);
		ias_ctl_put_str(m, IAS_CTL_A_INCIDENT_ID, "I-17");
		ias_ctl_put_str(m, IAS_CTL_A_STATE, "open");
		ias_ctl_put_str(m, IAS_CTL_A_REASON, "reported");
		ias_ctl_nest_begin(m, IAS_CTL_A_EVENT);
		ias_ctl_put_str(m, IAS_CTL_A_NODE, "n07");
		ias_ctl_put_u32(m, IAS_CTL_A_PID, 4242);
		ias_ctl_put_str(m, IAS_CTL_A_KIND, "block");
		ias_ctl_put_str(m, IAS_CTL_A_TEXT, "frozen");
		ias_ctl_nest_end(m);
		ias_ctl_nest_begin(m, IAS_CTL_A_EVENT);
		ias_ctl_put_str(m, IAS_CTL_A_NODE, "n11");
		ias_ctl_put_u32(m, IAS_CTL_A_PID, 977);
		ias_ctl_put_u32(m, IAS_CTL_A_QPN, 0x1a);
		ias_ctl_put_str(m, IAS_CTL_A_KIND, "trace");
		ias_ctl_put_str(m, IAS_CTL_A_TEXT, "owner found");
		ias_ctl_nest_end(m);
		if (strcmp(inc, "I-18") == 0) {
			ias_ctl_nest_begin(m, IAS_CTL_A_EVENT);
			ias_ctl_put_str(m, IAS_CTL_A_NODE, "n11");
			ias_ctl_put_u32(m, IAS_CTL_A_PID, 977);
			ias_ctl_put_u32(m, IAS_CTL_A_QPN, 0x1b);
			ias_ctl_put_str(m, IAS_CTL_A_KIND, "dead-end");
			ias_ctl_put_str(m, IAS_CTL_A_TEXT, "qp 0x1b: no remote end learnt");
			ias_ctl_nest_end(m);
		}
		ias_ctl_nest_end(m);
		break;
	case IAS_CTL_OP_REPORT_QP:
		if (qpn == 0x99) {
			ias_ctl_msg_init(m, m->buf, m->cap, IAS_CTL_REPLY, h->op, h->seq,
					 IAS_CTL_E_NOENT);
			ias_ctl_put_str(m, IAS_CTL_A_MESSAGE, "no QP rxe0:0x99 is known on this node");
			break;
		}
		ias_ctl_put_str(m, IAS_CTL_A_INCIDENT_ID, "I-19");
		ias_ctl_put_u32(m, IAS_CTL_A_PID, 555);
		ias_ctl_put_str(m, IAS_CTL_A_TRACE_WHERE, "trace sent to lid 4 qp 0x22 (remote end from kernel-bpf)");
		break;
	case IAS_CTL_OP_QPS_LIST:
		if (pid != 7)
			break;
		ias_ctl_nest_begin(m, IAS_CTL_A_QP);
		ias_ctl_put_u32(m, IAS_CTL_A_QPN, 0x2a0);
		ias_ctl_put_u32(m, IAS_CTL_A_PID, 7);
		ias_ctl_put_str(m, IAS_CTL_A_DEVICE, "rxe0");
		ias_ctl_put_u32(m, IAS_CTL_A_REMOTE_LID, 1);
		ias_ctl_put_u32(m, IAS_CTL_A_REMOTE_QPN, 0x1b0);
		ias_ctl_put_str(m, IAS_CTL_A_SOURCE, "libias");
		ias_ctl_put_str(m, IAS_CTL_A_REMOTE_SOURCE, "libias (unconfirmed)");
		ias_ctl_nest_end(m);
		break;
	case IAS_CTL_OP_POLICY_SET:
	case IAS_CTL_OP_POLICY_SHOW:
		ias_ctl_nest_begin(m, IAS_CTL_A_POLICY);
		ias_ctl_put_str(m, IAS_CTL_A_LEVEL, "lca");
		ias_ctl_put_str(m, IAS_CTL_A_BLOCK_MODE, "freeze");
		ias_ctl_put_u8(m, IAS_CTL_A_DRY_RUN, 0);
		ias_ctl_put_u32(m, IAS_CTL_A_HOP_LIMIT, 8);
		ias_ctl_nest_end(m);
		break;
	case IAS_CTL_OP_ALLOW_ADD:
		ias_ctl_nest_begin(m, IAS_CTL_A_ALLOW);
		ias_ctl_put_u64(m, IAS_CTL_A_ALLOW_ID, 3);
		ias_ctl_put_str(m, IAS_CTL_A_KIND, "exe");
		ias_ctl_put_str(m, IAS_CTL_A_VALUE, "/usr/sbin/opensm");
		ias_ctl_nest_end(m);
		break;
	default: /* lists stay empty; ALLOW_REMOVE ok */
		break;
	}
	return 0;
}

static char out[65536], err[8192];
static const char *sock;

/* Run iasctl with args; capture stdout/stderr; return the exit status. */
static int run(const char *const *args)
{
	char path[4096], *argv[32];
	int o[2], e[2], st, n = 0;
	const char *bd = getenv("top_builddir");
	ssize_t k;
	size_t lo = 0, le = 0;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/iasctl/iasctl", bd ? bd : ".");
	argv[n++] = path;
	while (*args && n < 31)
		argv[n++] = (char *)*args++;
	argv[n] = NULL;
	if (pipe(o) || pipe(e))
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(o[1], 1);
		dup2(e[1], 2);
		close(o[0]);
		close(e[0]);
		execv(path, argv);
		_exit(127);
	}
	close(o[1]);
	close(e[1]);
	while ((k = read(o[0], out + lo, sizeof(out) - 1 - lo)) > 0)
		lo += (size_t)k;
	while ((k = read(e[0], err + le, sizeof(err) - 1 - le)) > 0)
		le += (size_t)k;
	out[lo] = err[le] = '\0';
	close(o[0]);
	close(e[0]);
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

#define RUN(...) run((const char *const[]){ __VA_ARGS__, NULL })

static void has(const char *hay, const char *needle, const char *name)
{
	if (!ok(strstr(hay, needle) != NULL, "%s", name))
		printf("#   '%s' not in:\n%s\n", needle, hay);
}

int main(void)
{
	struct fake *f;
	char iasbin[4096];
	const char *bd = getenv("top_builddir");

	snprintf(iasbin, sizeof(iasbin), "%s/iasctl/iasctl", bd ? bd : ".");
	if (access(iasbin, X_OK) != 0)
		tap_skip_all("iasctl not built");
	f = fake_start(handler, NULL);
	if (!f)
		tap_skip_all("cannot start the fake agent");
	sock = fake_path(f);
	setenv("IAS_SOCKET", sock, 1);
	setenv("IASCTL_NOW_MS", "1700000000000", 1);
	unsetenv("NO_COLOR");

	is_int(RUN("status"), 0, "status: exit 0");
	has(out, "Status\n", "status: title");
	has(out, "|- State:             not ready: the store cannot commit\n|- Port:",
	    "status: the agent's readiness, before the port");
	has(out, "|- Blocked processes: 3   (total since start: 17)\n", "status: blocked line");
	has(out, "|- QPs blocked:       15  (of 40 known)\n", "status: QPs line");
	has(out, "|- Policy level:      lca\n", "status: policy line");
	has(out, "`- MADs rejected:     2\n", "status: MADs rejected last");
	ok(strstr(out, "Peers") == NULL, "status: no peer count when the agent sends none");
	ok(strchr(out, '\033') == NULL, "no colour when stdout is not a terminal");
	is_int(RUN("--color", "always", "status"), 0, "--color always");
	ok(strchr(out, '\033') != NULL, "colour when forced");
	is_int(RUN("-o", "json", "status"), 0, "status json: exit 0");
	has(out, "\"blocks_active\": 3", "status json: snake_case counter");
	has(out, "\"policy\": {", "status json: nested policy");
	has(out, "\"state\": \"not ready: the store cannot commit\"", "status json: state");

	as_manager = 1;
	is_int(RUN("--manager", "--socket", sock, "status"), 0, "manager status: exit 0");
	has(out, "|- Agent:             sem 0.1.0 on n07, up 2h\n", "manager status: version");
	has(out, "`- Agents:            6 reachable / 7 known\n", "manager status: agents, last");
	ok(strstr(out, "State:") == NULL, "manager status: no State line when the reply has none");
	ok(strstr(out, "Blocked") == NULL && strstr(out, "QPs") == NULL,
	   "manager status: no counters it does not send");
	as_manager = 0;

	is_int(RUN("-o", "json", "blocks", "list", "--pid", "2"), 0, "hostile comm json: exit 0");
	has(out, "\"comm\": \"\\\"},\xef\xbf\xbd{\\\\\"", "hostile comm: escaped, U+FFFD");
	is_int(RUN("blocks", "list", "--pid", "2"), 0, "hostile comm table: exit 0");
	has(out, "  \"},\xef\xbf\xbd{\\  ", "hostile comm: shown, padded");

	is_int(RUN("blocks", "list"), 0, "blocks list: exit 0");
	is_str(out,
	       "ID  ORIGIN    NODE  PID   COMM     QPS  REASON           INCIDENT  SINCE  EXPIRES\n"
	       "42  analyzer  n07   4242  mpi_app  2    reported         I-17      2m     58m\n"
	       "43  trace     n11   977   helper   2    via n07/qp 0x1a  I-17      2m     58m\n",
	       "blocks list: table like the sample");
	is_int(RUN("blocks", "list", "--all"), 0, "blocks list --all: exit 0");
	has(out, "7   trace     n11   555   old      2    via n07/qp 0x1a  I-17      2m     RELEASED\n",
	    "released block shows RELEASED");
	is_int(RUN("-o", "json", "blocks", "list", "--pid", "1"), 0, "empty json list: exit 0");
	is_str(out, "[]\n", "empty listing prints []");
	is_int(RUN("blocks", "list", "--pid", "1"), 0, "empty human list: exit 0");
	is_str(out, "ID  ORIGIN  NODE  PID  COMM  QPS  REASON  INCIDENT  SINCE  EXPIRES\n",
	       "empty human list: header only");
	is_int(RUN("-o", "json", "blocks", "list"), 0, "json list: exit 0");
	ok(out[0] == '[', "json listing is an array");
	has(out, "\"block_id\": 42", "json: block_id");
	has(out, "\"qpns\": [", "json: qpns array");
	has(out, "\"incident_id\": \"I-17\"", "json: incident_id");
	has(out, "\"released_ms\": 0", "json: released_ms");
	is_int(RUN("-o", "json", "qps", "list"), 0, "qps json: exit 0");
	is_str(out, "[]\n", "qps: empty []");
	is_int(RUN("-o", "json", "incidents", "list"), 0, "incidents json: exit 0");
	is_str(out, "[]\n", "incidents: empty []");
	is_int(RUN("-o", "json", "allowlist", "list"), 0, "allowlist json: exit 0");
	is_str(out, "[]\n", "allowlist: empty []");

	is_int(RUN("blocks", "inspect", "42"), 0, "inspect: exit 0");
	has(out, "QPs:          0x1a 0x1b\n", "inspect: QPs in hex");
	has(out, "`- ", "inspect: audit tree");
	has(out, "block: cgroup frozen", "inspect: audit entry");
	is_int(RUN("blocks", "inspect", "999"), 5, "inspect unknown: exit 5");
	has(err, "no block 999", "inspect unknown: agent's message on stderr");

	is_int(RUN("blocks", "release", "--pid", "4242"), 0, "release: exit 0");
	is_str(out,
	       "released block 42 (pid 4242 mpi_app, incident I-17): thawed; 2 QPs resumed\n"
	       "released block 44 (pid 4242 mpi_app, incident I-18): thawed\n"
	       "released 2 block(s)\n", "release: each item and the count");
	is_int(RUN("blocks", "release", "42", "--dry-run"), 0, "release dry run: exit 0");
	has(out, "would release 2 block(s)\n", "dry run says would");
	is_int(RUN("-o", "json", "blocks", "release", "42"), 0, "release json: exit 0");
	has(out, "\"count\": 2", "release json: count");

	is_int(RUN("report", "--pid", "4242", "--reason", "scan"), 0, "report: exit 0");
	is_str(out, "blocked pid 4242: block 42, incident I-17\n", "report: summary");
	is_int(RUN("report", "--pid", "1"), 6, "report never-block: exit 6");
	has(err, "never-block", "report never-block: message");
	is_int(RUN("report", "--qp", "rxe0:0x2a", "--reason", "flood"), 0, "report --qp: exit 0");
	is_str(out, "qp rxe0:0x2a of pid 555 (the victim, not blocked): incident I-19\n"
	       "trace sent to lid 4 qp 0x22 (remote end from kernel-bpf)\n",
	       "report --qp: the incident and where the trace went");
	is_int(RUN("-o", "json", "report", "--qp", "rxe0:2a"), 0, "report --qp json: exit 0");
	has(out, "\"trace_where\": \"trace sent to lid 4", "report --qp json: trace_where");
	is_int(RUN("report", "--qp", "rxe0:0x99"), 5, "report --qp unknown QP: exit 5");
	has(err, "no QP rxe0:0x99", "report --qp unknown QP: the agent's message");
	is_int(RUN("report", "--qp", "rxe0"), 2, "usage: --qp without a QPN");
	is_int(RUN("report", "--qp", ":0x2a"), 2, "usage: --qp without a device");
	is_int(RUN("report", "--qp", "rxe0:0"), 2, "usage: --qp 0");
	is_int(RUN("report", "--qp", "rxe0:0x1000000"), 2, "usage: --qp wider than 24 bits");
	is_int(RUN("report", "--qp", "rxe0:zz"), 2, "usage: --qp not hex");
	is_int(RUN("report", "--qp", "rxe0:0x2a", "--pid", "5"), 2, "usage: --qp with --pid");
	is_int(RUN("qps", "list", "--pid", "7"), 0, "qps list: exit 0");
	has(out, "REMOTE FROM", "qps list: the remote source column");
	has(out, "libias (unconfirmed)", "qps list: an unconfirmed claim is visible");
	is_int(RUN("-o", "json", "qps", "list", "--pid", "7"), 0, "qps json: exit 0");
	has(out, "\"remote_source\": \"libias (unconfirmed)\"", "qps json: remote_source");
	is_int(RUN("incidents", "show", "I-18"), 0, "incident with a dead end: exit 0");
	has(out, "!! dead-end pid 977 qp 0x1b: qp 0x1b: no remote end learnt",
	    "incident tree: a dead end stands out");
	has(out, "!! 1 QP(s) or trace(s) marked !! were not followed", "incident tree: counted");
	is_int(RUN("incidents", "show", "I-18", "--dot"), 0, "incident dot with a dead end: exit 0");
	has(out, "color=red", "dot: the node with a dead end is red");

	is_int(RUN("incidents", "show", "I-17"), 0, "incident show: exit 0");
	has(out, "|- n07\n", "incident tree: first node");
	has(out, "`- n11\n", "incident tree: last node");
	has(out, "trace pid 977 qp 0x1a: owner found", "incident tree: event");
	is_int(RUN("incidents", "show", "I-17", "--dot"), 0, "incident dot: exit 0");
	has(out, "digraph \"I-17\" {", "dot: graph");
	has(out, "\"n07\" -> \"n11\" [label=\"qp 0x1a\"];", "dot: edge along the trace");

	is_int(RUN("policy", "set", "level=lca", "hop-limit=8", "dry_run=no"), 0, "policy set: exit 0");
	has(out, "hop_limit        8\n", "policy set prints the effective policy");
	is_int(RUN("policy", "set", "hop_limit=99999999999"), 2, "policy set out of range: 2");
	is_int(RUN("policy", "set", "colour=blue"), 2, "policy set unknown key: 2");
	is_int(RUN("-o", "json", "policy", "show"), 0, "policy show json");
	has(out, "\"block_mode\": \"freeze\"", "policy json");
	is_int(RUN("allowlist", "add", "exe", "/usr/sbin/opensm", "--note", "SM"), 0, "allow add");
	has(out, "(id 3)", "allow add: id");
	is_int(RUN("allowlist", "add", "host", "x"), 2, "allow add bad kind: 2");
	is_int(RUN("allowlist", "remove", "exe", "/usr/sbin/opensm"), 0, "allow remove");

	force_status = IAS_CTL_E_PERM;
	is_int(RUN("allowlist", "add", "exe", "/bin/x"), 4, "permission denied: exit 4");
	force_status = IAS_CTL_E_AGAIN;
	is_int(RUN("incidents", "list"), 7, "nothing pending: exit 7");
	force_status = IAS_CTL_E_INTERNAL;
	is_int(RUN("status"), 1, "other agent error: exit 1");
	has(err, "canned refusal", "agent message shown");
	force_status = IAS_CTL_E_NOENT;
	is_int(RUN("allowlist", "remove", "exe", "/bin/x"), 5, "not found: exit 5");
	force_status = 0;

	is_int(RUN("--socket", "/nonexistent/sema.sock", "status"), 3, "unreachable: exit 3");
	has(err, "cannot reach", "unreachable: message");
	is_int(RUN("report", "--pid", "12abc"), 2, "usage: trailing garbage in pid");
	is_int(RUN("report", "--pid", "-1"), 2, "usage: negative pid");
	is_int(RUN("report", "--pid", " 5"), 2, "usage: blank in pid");
	is_int(RUN("report", "--pid", "4294967296"), 2, "usage: pid out of range");
	is_int(RUN("report"), 2, "usage: report without --pid");
	is_int(RUN("blocks", "release", "1", "--pid", "2"), 2, "usage: two release selectors");
	is_int(RUN("blocks", "release"), 2, "usage: no release selector");
	is_int(RUN("blocks", "inspect", "0x2a"), 2, "usage: hex block id");
	is_int(RUN("blocks", "frobnicate"), 2, "usage: unknown verb");
	is_int(RUN("qps", "list", "--all"), 2, "usage: an option of another command");
	is_int(RUN("incidents", "show", "I-17", "--bogus"), 2, "usage: unknown option");
	is_int(RUN("blocks", "inspect"), 2, "usage: missing ID");
	has(err, "usage: blocks inspect ID", "usage names the command's arguments");
	is_int(RUN("status", "extra"), 2, "usage: status takes no arguments");
	is_int(RUN("report", "--pid"), 2, "usage: --pid without a value");
	is_int(RUN("policy", "set"), 2, "usage: policy set without KEY=VALUE");
	is_int(RUN("fabric"), 2, "usage: unknown noun");
	is_int(RUN("-o", "xml", "status"), 2, "usage: bad -o");
	is_int(run((const char *const[]){ NULL }), 2, "usage: nothing at all");
	is_int(RUN("--help"), 0, "--help: exit 0");
	has(out, "Exit status", "--help documents exit codes");
	is_int(RUN("--version"), 0, "--version: exit 0");
	has(out, "iasctl", "--version names the program");

	fake_stop(f);
	return tap_done();
}
