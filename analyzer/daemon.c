/* ias-analyzer daemon mode: one sd-event reactor that turns the agent's
 * AttackAlerts into process-tree searches and reports the conspirators it
 * finds back to the agent.
 *
 * Two connections to the agent: an alert subscription (ias_alert_subscribe),
 * used only as the wake-up, and one client connection for GET_ATTACK_PID,
 * REPORT_ATTACK, BLOCKS_LIST and RELEASE. Every wake-up (and every
 * (re)connection) drains GET_ATTACK_PID, so alerts that arrived while the
 * analyzer was down or disconnected are handled too. A failure before
 * readiness (configuration) exits non-zero; afterwards only a signal stops
 * the daemon: a lost agent is reconnected. */
#include "config.h"

#include <errno.h>
#include <selinux/selinux.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include "common/config.h"
#include "common/daemon.h"
#include "common/log.h"
#include "analyzer/daemon.h"
#include "analyzer/incidents.h"
#include "analyzer/search.h"
#include "analyzer/snapshot.h"
#include "ctl/proto.h"
#include "verbs_ext/ias.h"

#define REQ_CAP 4096
#define REASON_MAX 255
#define INCIDENTS_MAX 4096

struct az_config {
	char control_socket[108];
	char level[64];
	struct ias_cfg_list exclude_exe;
	char auto_release[32];
	char log_level[16];
	uint64_t reconnect_interval;
	uint64_t incident_memory;
};

#define T struct az_config
static const struct ias_cfg_opt az_opts[] = {
	IAS_CFG_PATHNAME(T, control_socket, "/run/ias/sema.sock",
			 "the local agent's control socket"),
	IAS_CFG_STR(T, level, "sibling",
		    "search level: basic, sibling, lca, selinux, zone, or a comma list of the last four"),
	IAS_CFG_L(T, exclude_exe,
		  "/usr/sbin/sshd,/usr/sbin/opensm,/usr/sbin/sema,/usr/sbin/sem,"
		  "/usr/sbin/ias-analyzer,/usr/lib/systemd/systemd",
		  "programs whose processes are never reported (nor, as LCA, their children)"),
	IAS_CFG_STR(T, auto_release, "off",
		    "off, or a clean investigation window (e.g. 10m) after which the analyzer's own "
		    "blocks are released unless the incident was re-reported"),
	IAS_CFG_STR(T, log_level, "info", "err, warning, notice, info or debug"),
	IAS_CFG_MS(T, reconnect_interval, 100, 3600000, "2s",
		   "how often to retry the agent when it is not reachable"),
	IAS_CFG_MS(T, incident_memory, 60000, 31536000000ull, "1d",
		   "forget an incident after this long without alerts"),
};
#undef T

/* Parses auto_release: "off"/"no"/"0" or a duration. */
struct az_window {
	uint64_t auto_release;
};
#define T struct az_window
static const struct ias_cfg_opt az_window_opt[] = {
	IAS_CFG_MS(T, auto_release, 1000, 31536000000ull, NULL, NULL),
};
#undef T

struct pending_release {
	uint64_t block_id;
	pid_t pid;
	char incident[AZ_INCIDENT_ID_MAX + 1];
	uint64_t due_ms;
};

struct az {
	struct az_config cfg;
	unsigned levels;
	uint64_t auto_release_ms;
	const char *exes[IAS_CFG_LIST_MAX];
	sd_event *ev;
	sd_event_source *alert_src, *retry_timer, *release_timer;
	struct ias_client *cl;
	int alert_fd;
	pid_t agent_pid;
	bool warned_down;
	struct az_incidents incs;
	struct pending_release *pend;
	size_t npend, cappend;
	uint8_t *buf;
	uint64_t n_alerts, n_rounds, n_reported, n_refused, n_released;
};

static struct az g = { .alert_fd = -1 };

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: ias-analyzer daemon [OPTIONS]   (or: ias-analyzer --daemon [OPTIONS])\n"
		"Subscribes to the local agent's alerts, searches the process tree for the\n"
		"conspirators of alerted processes and reports them to the agent.\n\n"
		"  -c, --config FILE     configuration file (default %s/ias/ias.conf), section [analyzer]\n"
		"  -s, --set KEY=VALUE   override one configuration key (repeatable)\n"
		"  -f, --foreground      log to stderr (the daemon never forks)\n"
		"  -p, --print-config    print the effective configuration and exit\n"
		"  -h, --help            this help\n", IAS_SYSCONFDIR);
}

/* ---- agent connection ------------------------------------------------------ */

static void disconnect(const char *why);
static int arm_retry(void);

/* Send one request on the client connection. 0 with *status and *attrs of
 * the reply, or a negative errno (the connection is then dropped). */
static int call(struct ias_ctl_msg *m, int *status, struct ias_rd *attrs)
{
	struct ias_ctl_hdr h;
	size_t len;
	int r;

	if (!g.cl)
		return -ENOTCONN;
	r = ias_client_call(g.cl, m, g.buf, IAS_CTL_MAX_MSG, &len);
	if (r) {
		char why[96];

		snprintf(why, sizeof(why), "request failed: %s", strerror(-r));
		disconnect(why);
		return r;
	}
	ias_ctl_parse_hdr(g.buf, len, &h, attrs);
	*status = h.status;
	return 0;
}

/* Reply MESSAGE, or the status's fixed text. */
static const char *reply_message(struct ias_rd *attrs, int status, char *buf, size_t len)
{
	struct ias_ctl_attr a;
	struct ias_rd r = *attrs;

	while (ias_ctl_next(&r, &a) == 1)
		if (a.type == IAS_CTL_A_MESSAGE && ias_ctl_get_str(&a, buf, len) == 0)
			return buf;
	return ias_ctl_strerror(status);
}

/* GET_ATTACK_PID: 1 got one, 0 nothing pending, < 0 error. */
static int take_alert(pid_t *pid, char *incident, size_t ilen)
{
	uint8_t rq[REQ_CAP];
	struct ias_ctl_msg m;
	struct ias_ctl_attr a;
	struct ias_rd attrs;
	uint32_t p = 0;
	int st, r;

	ias_ctl_msg_init(&m, rq, sizeof(rq), IAS_CTL_REQUEST, IAS_CTL_OP_GET_ATTACK_PID, 0, 0);
	if ((r = call(&m, &st, &attrs)))
		return r;
	if (st == IAS_CTL_E_AGAIN)
		return 0;
	if (st) {
		char msg[256];

		log_warn("GET_ATTACK_PID refused: %s", reply_message(&attrs, st, msg, sizeof(msg)));
		return ias_status_to_errno(st);
	}
	incident[0] = '\0';
	while (ias_ctl_next(&attrs, &a) == 1) {
		if (a.type == IAS_CTL_A_PID)
			ias_ctl_get_u32(&a, &p);
		else if (a.type == IAS_CTL_A_INCIDENT_ID)
			ias_ctl_get_str(&a, incident, ilen);
	}
	if (p == 0 || p > IAS_SNAP_PID_MAX)
		return -EBADMSG;
	*pid = (pid_t)p;
	return 1;
}

/* Did this analyzer (a process named ias-analyzer) make the block of pid in
 * incident? After a restart the analyzer's own earlier reports come back
 * without any memory of them. The block's ORIGIN cannot tell: the agent
 * calls every reporter but iasctl "analyzer", detectors using libias
 * included. So look at who the audit log says made the block. */
static bool actor_is_analyzer(const char *actor)
{
	const char *p = strrchr(actor, '(');

	return p && (strcmp(p, "(ias-analyzer)") == 0 || strcmp(p, "(lt-ias-analyzer)") == 0);
}

static bool block_made_by_analyzer(uint64_t block_id)
{
	uint8_t rq[REQ_CAP];
	struct ias_ctl_msg m;
	struct ias_ctl_attr a, b;
	struct ias_rd attrs, in;
	char actor[64], action[64];
	int st;

	ias_ctl_msg_init(&m, rq, sizeof(rq), IAS_CTL_REQUEST, IAS_CTL_OP_BLOCK_INSPECT, 0, 0);
	ias_ctl_put_u64(&m, IAS_CTL_A_BLOCK_ID, block_id);
	if (call(&m, &st, &attrs) || st)
		return false;
	while (ias_ctl_next(&attrs, &a) == 1) {
		if (a.type != IAS_CTL_A_AUDIT)
			continue;
		actor[0] = action[0] = '\0';
		ias_ctl_attr_nested(&a, &in);
		while (ias_ctl_next(&in, &b) == 1) {
			if (b.type == IAS_CTL_A_ACTOR)
				ias_ctl_get_str(&b, actor, sizeof(actor));
			else if (b.type == IAS_CTL_A_ACTION)
				ias_ctl_get_str(&b, action, sizeof(action));
		}
		if (strcmp(action, "block") == 0)
			return actor_is_analyzer(actor);
	}
	return false;
}

static bool blocked_by_analyzer(pid_t pid, const char *incident)
{
	uint8_t rq[REQ_CAP];
	struct ias_ctl_msg m;
	struct ias_ctl_attr a, b;
	struct ias_rd attrs, in;
	uint64_t ids[8];
	size_t n = 0, i;
	int st;

	ias_ctl_msg_init(&m, rq, sizeof(rq), IAS_CTL_REQUEST, IAS_CTL_OP_BLOCKS_LIST, 0, 0);
	ias_ctl_put_u32(&m, IAS_CTL_A_PID, (uint32_t)pid);
	ias_ctl_put_str(&m, IAS_CTL_A_INCIDENT_ID, incident);
	ias_ctl_put_u8(&m, IAS_CTL_A_ALL, 1);
	if (call(&m, &st, &attrs) || st)
		return false;
	while (n < sizeof(ids) / sizeof(ids[0]) && ias_ctl_next(&attrs, &a) == 1) {
		if (a.type != IAS_CTL_A_BLOCK)
			continue;
		ias_ctl_attr_nested(&a, &in);
		while (ias_ctl_next(&in, &b) == 1)
			if (b.type == IAS_CTL_A_BLOCK_ID && ias_ctl_get_u64(&b, &ids[n]) == 0)
				n++;
	}
	/* The reply lives in g.buf, which the next call reuses: ids copied. */
	for (i = 0; i < n && g.cl; i++)
		if (block_made_by_analyzer(ids[i]))
			return true;
	return false;
}

/* REPORT_ATTACK pid with reason in incident. Returns the reply status (0,
 * IAS_CTL_E_*) or a negative errno; on 0, *block_id is the block and *mine
 * says whether this report made it (an existing block of the process, made
 * by someone else, is returned as it is: its reason or incident differ). */
static int report(pid_t pid, const char *reason, const char *incident, uint64_t *block_id,
		  bool *mine, char *msg, size_t mlen)
{
	char b_reason[REASON_MAX + 1] = "", b_inc[AZ_INCIDENT_ID_MAX + 1] = "";
	uint8_t rq[REQ_CAP];
	struct ias_ctl_msg m;
	struct ias_ctl_attr a, b;
	struct ias_rd attrs, in;
	int st, r;

	*block_id = 0;
	*mine = false;
	msg[0] = '\0';
	ias_ctl_msg_init(&m, rq, sizeof(rq), IAS_CTL_REQUEST, IAS_CTL_OP_REPORT_ATTACK, 0, 0);
	ias_ctl_put_u32(&m, IAS_CTL_A_PID, (uint32_t)pid);
	ias_ctl_put_str(&m, IAS_CTL_A_REASON, reason);
	ias_ctl_put_str(&m, IAS_CTL_A_INCIDENT_ID, incident);
	if ((r = call(&m, &st, &attrs)))
		return r;
	if (st) {
		reply_message(&attrs, st, msg, mlen);
		return st;
	}
	while (ias_ctl_next(&attrs, &a) == 1) {
		if (a.type != IAS_CTL_A_BLOCK)
			continue;
		ias_ctl_attr_nested(&a, &in);
		while (ias_ctl_next(&in, &b) == 1) {
			if (b.type == IAS_CTL_A_BLOCK_ID)
				ias_ctl_get_u64(&b, block_id);
			else if (b.type == IAS_CTL_A_REASON)
				ias_ctl_get_str(&b, b_reason, sizeof(b_reason));
			else if (b.type == IAS_CTL_A_INCIDENT_ID)
				ias_ctl_get_str(&b, b_inc, sizeof(b_inc));
		}
	}
	*mine = strcmp(b_reason, reason) == 0 && strcmp(b_inc, incident) == 0;
	return 0;
}

/* RELEASE one block by id. Returns the status or a negative errno. */
static int release_block(uint64_t block_id, uint32_t *count)
{
	uint8_t rq[REQ_CAP];
	struct ias_ctl_msg m;
	struct ias_ctl_attr a;
	struct ias_rd attrs;
	int st, r;

	*count = 0;
	ias_ctl_msg_init(&m, rq, sizeof(rq), IAS_CTL_REQUEST, IAS_CTL_OP_RELEASE, 0, 0);
	ias_ctl_put_u64(&m, IAS_CTL_A_BLOCK_ID, block_id);
	if ((r = call(&m, &st, &attrs)))
		return r;
	while (!st && ias_ctl_next(&attrs, &a) == 1)
		if (a.type == IAS_CTL_A_COUNT)
			ias_ctl_get_u32(&a, count);
	return st;
}

/* ---- auto-release ---------------------------------------------------------- */

static int on_release_timer(sd_event_source *src, uint64_t usec, void *arg);

static void arm_release_timer(void)
{
	uint64_t due = UINT64_MAX, now = now_ms();
	size_t i;

	for (i = 0; i < g.npend; i++)
		if (g.pend[i].due_ms < due)
			due = g.pend[i].due_ms;
	if (due == UINT64_MAX) {
		if (g.release_timer)
			sd_event_source_set_enabled(g.release_timer, SD_EVENT_OFF);
		return;
	}
	due = due > now ? due - now : 0;
	if (!g.release_timer) {
		if (sd_event_add_time_relative(g.ev, &g.release_timer, CLOCK_MONOTONIC, due * 1000,
					       0, on_release_timer, NULL) < 0)
			log_err("cannot arm the auto-release timer");
		return;
	}
	sd_event_source_set_time_relative(g.release_timer, due * 1000);
	sd_event_source_set_enabled(g.release_timer, SD_EVENT_ONESHOT);
}

static void pending_add(uint64_t block_id, pid_t pid, const char *incident)
{
	struct pending_release *p;

	if (g.npend == g.cappend) {
		size_t cap = g.cappend ? g.cappend * 2 : 16;

		p = realloc(g.pend, cap * sizeof(*p));
		if (!p) {
			log_err("out of memory: block %llu will not be auto-released",
				(unsigned long long)block_id);
			return;
		}
		g.pend = p;
		g.cappend = cap;
	}
	p = &g.pend[g.npend++];
	p->block_id = block_id;
	p->pid = pid;
	snprintf(p->incident, sizeof(p->incident), "%s", incident);
	p->due_ms = now_ms() + g.auto_release_ms;
}

/* The incident was re-reported: keep the analyzer's blocks in it. */
static void pending_cancel(const char *incident)
{
	size_t i, j, n = 0;

	for (i = j = 0; i < g.npend; i++) {
		if (strcmp(g.pend[i].incident, incident) == 0)
			n++;
		else
			g.pend[j++] = g.pend[i];
	}
	g.npend = j;
	if (n)
		log_notice("incident %s was re-reported: %zu block(s) the analyzer made stay "
			   "until an operator releases them", incident, n);
}

static int on_release_timer(sd_event_source *src, uint64_t usec, void *arg)
{
	uint64_t now = now_ms();
	size_t i, j;

	if (!g.cl)
		return 0;	/* re-armed after reconnecting */
	for (i = j = 0; i < g.npend; i++) {
		struct pending_release *p = &g.pend[i];
		uint32_t count;
		int r;

		if (p->due_ms > now || !g.cl) {
			g.pend[j++] = *p;
			continue;
		}
		r = release_block(p->block_id, &count);
		if (r < 0) {
			g.pend[j++] = *p;	/* connection lost: retry later */
			continue;
		}
		if (r == 0 && count) {
			g.n_released++;
			log_notice("released block %llu (PID %d, incident %s) after a clean "
				   "investigation window", (unsigned long long)p->block_id,
				   (int)p->pid, p->incident);
		} else {
			log_info("block %llu (PID %d, incident %s) was already released",
				 (unsigned long long)p->block_id, (int)p->pid, p->incident);
		}
	}
	g.npend = j;
	arm_release_timer();
	return 0;
}

/* ---- rounds ---------------------------------------------------------------- */

static void report_found(struct az_incident *inc, const struct ias_conspirator *c)
{
	char reason[REASON_MAX + 1], msg[256];
	uint64_t block_id;
	bool mine;
	int st;

	az_reason_copy(reason, sizeof(reason), c->reason);
	if (az_inc_mark_ours(inc, c->pid, now_ms()) < 0) {
		log_err("out of memory: PID %d not reported", (int)c->pid);
		return;
	}
	st = report(c->pid, reason, inc->id, &block_id, &mine, msg, sizeof(msg));
	switch (st) {
	case 0:
		g.n_reported++;
		log_notice("reported PID %d (%s), incident %s, block %llu", (int)c->pid, reason,
			   inc->id, (unsigned long long)block_id);
		if (g.auto_release_ms && !inc->rereported && block_id && mine) {
			pending_add(block_id, c->pid, inc->id);
			arm_release_timer();
		}
		break;
	case IAS_CTL_E_NEVERBLOCK:
		g.n_refused++;
		log_info("PID %d (%s) not blocked: %s", (int)c->pid, reason, msg);
		break;
	case IAS_CTL_E_NOENT:
		log_info("PID %d (%s) exited before it could be reported", (int)c->pid, reason);
		break;
	default:
		if (st < 0)
			log_warn("PID %d not reported: %s", (int)c->pid, strerror(-st));
		else
			log_warn("PID %d not reported: %s", (int)c->pid, msg);
	}
}

static void round_for(struct az_incident *inc, const struct ias_snapshot *snap,
		      const pid_t *excl, size_t nexcl)
{
	struct ias_search_result *res = NULL;
	pid_t *seeds, missing;
	size_t n = inc->seeds.n, i, k;
	int r;

	inc->dirty = false;
	if (!n)
		return;
	seeds = malloc(n * sizeof(*seeds));
	if (!seeds) {
		log_err("out of memory: incident %s not searched", inc->id);
		return;
	}
	memcpy(seeds, inc->seeds.v, n * sizeof(*seeds));
	for (;;) {
		missing = 0;
		r = ias_search(snap, g.levels, seeds, n, excl, nexcl, &res, &missing);
		if (r != -ESRCH)
			break;
		/* The process exited before the snapshot: search without it. */
		log_info("incident %s: PID %d has exited; searching without it", inc->id,
			 (int)missing);
		for (i = k = 0; i < n; i++)
			if (seeds[i] != missing)
				seeds[k++] = seeds[i];
		if (k == n || k == 0) {
			r = 0;
			res = NULL;
			break;
		}
		n = k;
	}
	if (r) {
		log_err("incident %s: search failed: %s", inc->id, strerror(-r));
		goto out;
	}
	if (!res)
		goto out;
	g.n_rounds++;
	log_info("incident %s: %zu seed(s), %zu found by the search", inc->id, res->n_input,
		 res->n_new);
	for (i = 0; i < res->n && g.cl; i++)
		if (res->c[i].kind != IAS_WHY_REPORTED && az_inc_is_new(inc, res->c[i].pid))
			report_found(inc, &res->c[i]);
out:
	ias_search_result_free(res);
	free(seeds);
}

/* Take every pending alert, then run one round per incident with new seeds. */
static void drain(void)
{
	struct ias_snapshot *snap = NULL;
	pid_t *excl = NULL, self = getpid(), known[2];
	size_t nexcl = 0, i;
	bool any = false;
	int r;

	while (g.cl) {
		char incident[AZ_INCIDENT_ID_MAX + 1];
		struct az_incident *inc;
		bool created, ours;
		pid_t pid;

		r = take_alert(&pid, incident, sizeof(incident));
		if (r <= 0)
			break;
		g.n_alerts++;
		if (!incident[0]) {
			log_warn("alert for PID %d without an incident: ignored", (int)pid);
			continue;
		}
		inc = az_inc_get(&g.incs, incident, now_ms(), &created);
		if (!inc) {
			log_err("incident %s: %s", incident, strerror(errno));
			continue;
		}
		ours = az_pidset_has(&inc->ours, pid) ||
		       (!az_pidset_has(&inc->seeds, pid) && blocked_by_analyzer(pid, incident));
		r = az_inc_alert(inc, pid, ours, now_ms());
		if (r < 0) {
			log_err("incident %s: %s", incident, strerror(-r));
			continue;
		}
		log_debug("alert: PID %d, incident %s%s", (int)pid, incident,
			  ours ? " (reported by an analyzer: starts no round)" :
			  r ? " (new seed)" : "");
		if (r && inc->rereported)
			pending_cancel(inc->id);
		any |= r == 1;
	}
	if (!any)
		goto forget;
	r = ias_snapshot_live(NULL, ias_level_snapshot_flags(g.levels), &snap);
	if (r) {
		log_err("cannot read /proc: %s; alerts stay unsearched", strerror(-r));
		goto forget;
	}
	known[0] = self;
	known[1] = g.agent_pid;
	r = az_exclusions(snap, self, known, 2, g.exes, g.cfg.exclude_exe.n, &excl, &nexcl);
	if (r) {
		log_err("out of memory computing exclusions");
		goto forget;
	}
	for (i = 0; i < g.incs.n && g.cl; i++)
		if (g.incs.v[i]->dirty)
			round_for(g.incs.v[i], snap, excl, nexcl);
forget:
	i = az_inc_forget(&g.incs, now_ms() > g.cfg.incident_memory ?
			  now_ms() - g.cfg.incident_memory : 0, INCIDENTS_MAX);
	if (i)
		log_debug("forgot %zu idle incident(s)", i);
	free(excl);
	ias_snapshot_free(snap);
}

static int on_alert(sd_event_source *src, int fd, uint32_t revents, void *arg)
{
	struct ias_alert al;
	int r = ias_alert_read(fd, &al);

	if (r <= 0) {
		disconnect(r == 0 ? "the agent closed the alert connection" : strerror(-r));
		return 0;
	}
	log_debug("AttackAlert: PID %d, incident %s, origin %s", (int)al.pid, al.incident,
		  al.origin);
	drain();
	return 0;
}

static int try_connect(void)
{
	struct ucred cr;
	socklen_t crlen = sizeof(cr);
	int r, fd;

	r = ias_client_open(g.cfg.control_socket, &g.cl);
	if (r)
		return r;
	if (getsockopt(ias_client_fd(g.cl), SOL_SOCKET, SO_PEERCRED, &cr, &crlen) == 0)
		g.agent_pid = cr.pid;
	fd = ias_alert_subscribe();
	if (fd < 0) {
		ias_client_close(g.cl);
		g.cl = NULL;
		return fd;
	}
	r = sd_event_add_io(g.ev, &g.alert_src, fd, EPOLLIN, on_alert, NULL);
	if (r < 0) {
		close(fd);
		ias_client_close(g.cl);
		g.cl = NULL;
		return r;
	}
	g.alert_fd = fd;
	return 0;
}

static void set_status(void)
{
	char st[200];

	if (g.cl)
		snprintf(st, sizeof(st), "STATUS=connected to agent PID %d at %s",
			 (int)g.agent_pid, g.cfg.control_socket);
	else
		snprintf(st, sizeof(st), "STATUS=waiting for the agent at %s", g.cfg.control_socket);
	sd_notify(0, st);
}

static int on_retry(sd_event_source *src, uint64_t usec, void *arg)
{
	int r = try_connect();

	if (r) {
		if (!g.warned_down)
			log_warn("agent not reachable at %s: %s; retrying every %llu ms",
				 g.cfg.control_socket, ias_strerror(r),
				 (unsigned long long)g.cfg.reconnect_interval);
		g.warned_down = true;
		set_status();
		return arm_retry();
	}
	g.warned_down = false;
	set_status();
	log_notice("connected to the agent (PID %d) at %s; subscribed to alerts",
		   (int)g.agent_pid, g.cfg.control_socket);
	drain();
	if (g.npend)
		arm_release_timer();
	return 0;
}

static int arm_retry(void)
{
	int r;

	if (!g.retry_timer)
		return sd_event_add_time_relative(g.ev, &g.retry_timer, CLOCK_MONOTONIC,
						  g.cfg.reconnect_interval * 1000, 0, on_retry,
						  NULL);
	r = sd_event_source_set_time_relative(g.retry_timer, g.cfg.reconnect_interval * 1000);
	return r < 0 ? r : sd_event_source_set_enabled(g.retry_timer, SD_EVENT_ONESHOT);
}

static void disconnect(const char *why)
{
	if (!g.cl && g.alert_fd < 0)
		return;
	log_warn("lost the agent (%s); reconnecting", why);
	g.alert_src = sd_event_source_disable_unref(g.alert_src);
	if (g.alert_fd >= 0)
		close(g.alert_fd);
	g.alert_fd = -1;
	ias_client_close(g.cl);
	g.cl = NULL;
	set_status();
	arm_retry();
}

/* ---- start-up -------------------------------------------------------------- */

/* After the common loading (common/daemon.c). */
static int check_config(void)
{
	struct az_window w = { 0 };
	char err[512], lv[64];
	unsigned i;

	if (ias_level_parse(g.cfg.level, &g.levels)) {
		fprintf(stderr, "ias-analyzer: level: \"%s\" is not basic, sibling, lca, selinux, "
			"zone or a comma-separated list of the last four\n", g.cfg.level);
		return -1;
	}
	/* Canonical spelling, so --print-config shows what is applied. */
	snprintf(g.cfg.level, sizeof(g.cfg.level), "%s", ias_level_format(g.levels, lv, sizeof(lv)));
	if (strcmp(g.cfg.auto_release, "off") == 0 || strcmp(g.cfg.auto_release, "no") == 0 ||
	    strcmp(g.cfg.auto_release, "0") == 0) {
		g.auto_release_ms = 0;
		snprintf(g.cfg.auto_release, sizeof(g.cfg.auto_release), "off");
	} else if (ias_cfg_set(az_window_opt, 1, &w, "auto_release", g.cfg.auto_release, err,
			       sizeof(err))) {
		fprintf(stderr, "ias-analyzer: %s (or \"off\")\n", err);
		return -1;
	} else {
		g.auto_release_ms = w.auto_release;
	}
	for (i = 0; i < g.cfg.exclude_exe.n; i++)
		g.exes[i] = g.cfg.exclude_exe.item[i];
	return 0;
}

static int start(void)
{
	int r;

	if ((g.levels & IAS_LEVEL_SELINUX) && is_selinux_enabled() <= 0) {
		log_err("refusing to start: level %s includes selinux, but SELinux is not "
			"enabled on this system", g.cfg.level);
		return -1;
	}
	g.buf = malloc(IAS_CTL_MAX_MSG);
	if (!g.buf) {
		log_err("out of memory");
		return -1;
	}
	r = sd_event_default(&g.ev);
	if (r < 0) {
		log_err("sd_event: %s", strerror(-r));
		return -1;
	}
	if (ias_daemon_signals(g.ev) < 0) {
		log_err("cannot install signal handlers");
		return -1;
	}
	/* libias's alert subscription honours $IAS_SOCKET. */
	if (setenv(IAS_CTL_SOCKET_ENV, g.cfg.control_socket, 1) < 0) {
		log_err("setenv: %s", strerror(errno));
		return -1;
	}
	/* First connection attempt right away (it drains pending alerts). */
	if (sd_event_add_time_relative(g.ev, &g.retry_timer, CLOCK_MONOTONIC, 0, 0, on_retry,
				       NULL) < 0) {
		log_err("cannot arm the connection timer");
		return -1;
	}
	sd_event_set_watchdog(g.ev, 1);
	return 0;
}

static void stop(void)
{
	g.alert_src = sd_event_source_disable_unref(g.alert_src);
	if (g.alert_fd >= 0)
		close(g.alert_fd);
	g.alert_fd = -1;
	ias_client_close(g.cl);
	g.cl = NULL;
	g.retry_timer = sd_event_source_disable_unref(g.retry_timer);
	g.release_timer = sd_event_source_disable_unref(g.release_timer);
	sd_event_unref(g.ev);
	az_incidents_free(&g.incs);
	free(g.pend);
	free(g.buf);
}

int az_daemon_main(int argc, char **argv)
{
	static const struct ias_daemon d = {
		.name = "ias-analyzer",
		.arg_name = "ias-analyzer: daemon",
		.section = "analyzer",
		.usage = usage,
		.opts = az_opts,
		.nopts = IAS_CFG_NOPTS(az_opts),
		.cfg = &g.cfg,
		.log_level = g.cfg.log_level,
		.check = check_config,
	};
	int rc = ias_daemon_setup(&d, argc, argv);
	char lv[64];

	if (rc >= 0)
		return rc;
	rc = 1;
	ias_log_init("ias-analyzer", ias_log_level_parse(g.cfg.log_level));
	if (start() == 0) {
		sd_notify(0, "READY=1");
		set_status();
		log_notice("ias-analyzer %s ready: level %s, agent socket %s, auto-release %s",
			   PACKAGE_VERSION, ias_level_format(g.levels, lv, sizeof(lv)),
			   g.cfg.control_socket, g.cfg.auto_release);
		rc = sd_event_loop(g.ev) < 0;
		sd_notify(0, "STOPPING=1");
		log_notice("stopping: %llu alert(s), %llu round(s), %llu reported, %llu refused, "
			   "%llu auto-released", (unsigned long long)g.n_alerts,
			   (unsigned long long)g.n_rounds, (unsigned long long)g.n_reported,
			   (unsigned long long)g.n_refused, (unsigned long long)g.n_released);
	}
	stop();
	return rc;
}
