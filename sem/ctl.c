/* See ctl.h. Every datagram is validated (ias_ctl_validate_msg), must be a
 * request, passes the authorisation check for privileged ops (root or the
 * control group, from SO_PEERCRED/SO_PEERGROUPS), then reaches its handler;
 * every request gets exactly one reply. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/log.h"
#include "sema/ctlproto.h"
#include "sem/ctl.h"
#include "sem/madio.h"

#define MAX_GROUPS 64

struct client {
	struct sem_ctl *ctl;
	struct client *next;
	int fd;
	sd_event_source *src;
	struct ucred cred;
	gid_t groups[MAX_GROUPS];
	int ngroups;
};

struct sem_ctl {
	struct sem *s;
	int fd, owns_path;
	char path[108];
	sd_event_source *src;
	struct client *clients;
	unsigned nclients;
	uint8_t in[IAS_CTL_MAX_MSG + 1];
	uint8_t out[IAS_CTL_MAX_MSG];
};

struct req {
	struct sem *s;
	struct client *cl;
	struct ias_ctl_hdr h;
	struct ias_rd attrs;
	struct ias_ctl_msg *rep;
	char msg[IAS_CTL_MESSAGE_MAX + 1];
};

__attribute__((format(printf, 3, 4)))
static int fail(struct req *x, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(x->msg, sizeof(x->msg), fmt, ap);
	va_end(ap);
	return status;
}

static void node_name(struct sem *s, uint64_t guid, char *out, size_t len)
{
	struct sem_node *n = sem_view_by_guid(&s->view, guid);

	if (n && n->rec.name[0])
		snprintf(out, len, "%.63s", n->rec.name);
	else
		snprintf(out, len, "0x%016" PRIx64, guid);
}

static void put_policy(struct ias_ctl_msg *m, const struct ias_attr_policy *p)
{
	ias_ctl_nest_begin(m, IAS_CTL_A_POLICY);
	ias_ctl_put_str(m, IAS_CTL_A_LEVEL, sem_level_names[p->search_level]);
	ias_ctl_put_str(m, IAS_CTL_A_BLOCK_MODE, sem_mode_names[p->block_mode]);
	ias_ctl_put_u8(m, IAS_CTL_A_DRY_RUN, (uint8_t)!!(p->flags & IAS_POLICY_F_DRY_RUN));
	ias_ctl_put_u32(m, IAS_CTL_A_BASE_DURATION_S, p->base_duration_s);
	ias_ctl_put_u32(m, IAS_CTL_A_MAX_DURATION_S, p->max_duration_s);
	ias_ctl_put_u32(m, IAS_CTL_A_ESCALATION, p->escalation_x100 / 100u);
	ias_ctl_put_u32(m, IAS_CTL_A_HOP_LIMIT, p->hop_limit);
	ias_ctl_put_u32(m, IAS_CTL_A_FANOUT_LIMIT, p->fanout_limit);
	ias_ctl_put_u32(m, IAS_CTL_A_POLICY_VERSION, p->policy_version);
	ias_ctl_nest_end(m);
}

static unsigned count_agents(struct sem *s, int reachable)
{
	unsigned k = 0;
	size_t i;

	for (i = 0; i < s->view.n; i++)
		if (s->view.nodes[i].rec.agent && (!reachable || s->view.nodes[i].reachable))
			k++;
	return k;
}

static int op_status(struct req *x)
{
	struct sem *s = x->s;
	char port[128], ver[64];

	sem_mad_describe(s->mad, port, sizeof(port));
	snprintf(ver, sizeof(ver), "sem %s", PACKAGE_VERSION);
	ias_ctl_put_str(x->rep, IAS_CTL_A_ROLE, s->view.active ? "active" : "standby");
	ias_ctl_nest_begin(x->rep, IAS_CTL_A_STATUS);
	ias_ctl_put_str(x->rep, IAS_CTL_A_AGENT_VERSION, ver);
	ias_ctl_put_str(x->rep, IAS_CTL_A_NODE, s->cfg.node_name);
	ias_ctl_put_u64(x->rep, IAS_CTL_A_UPTIME_S, (uint64_t)(sem_now_ms() - s->started_ms) / 1000);
	ias_ctl_put_str(x->rep, IAS_CTL_A_PORT_STATE, port);
	ias_ctl_put_u32(x->rep, IAS_CTL_A_PEERS_REACHABLE, count_agents(s, 1));
	ias_ctl_put_u32(x->rep, IAS_CTL_A_PEERS_KNOWN, count_agents(s, 0));
	ias_ctl_put_u64(x->rep, IAS_CTL_A_MADS_REJECTED, s->mads_rejected);
	ias_ctl_put_u8(x->rep, IAS_CTL_A_DRY_RUN, (uint8_t)!!(s->view.policy.flags & IAS_POLICY_F_DRY_RUN));
	put_policy(x->rep, &s->view.policy);
	ias_ctl_nest_end(x->rep);
	return 0;
}

static const char *type_name(uint8_t t)
{
	switch (t) {
	case 1: return "ca";
	case 2: return "switch";
	case 3: return "router";
	default: return "unknown";
	}
}

static int op_fabric_status(struct req *x)
{
	struct sem *s = x->s;
	uint64_t total = 0;
	size_t i;

	ias_ctl_put_str(x->rep, IAS_CTL_A_ROLE, s->view.active ? "active" : "standby");
	ias_ctl_put_u32(x->rep, IAS_CTL_A_SM_LID, s->sm_lid);
	ias_ctl_put_u64(x->rep, IAS_CTL_A_SM_GUID, s->sm_guid);
	ias_ctl_put_u32(x->rep, IAS_CTL_A_POLICY_VERSION, s->view.policy.policy_version);
	for (i = 0; i < s->view.n; i++) {
		struct sem_node *n = &s->view.nodes[i];
		uint64_t maxseq = 0, cnt = 0;
		int64_t last = 0;
		const char *pst = "unknown";

		if (semstore_report_span(s->store, n->rec.guid, &maxseq, &cnt) ||
		    semstore_report_last_ms(s->store, n->rec.guid, &last))
			return fail(x, IAS_CTL_E_INTERNAL, "store: %s", semstore_errmsg(s->store));
		total += cnt;
		if (n->push_status)
			pst = "refused";
		else if (n->policy_known)
			pst = sem_view_policy_current(&s->view, n) ? "current" : "pending";
		ias_ctl_nest_begin(x->rep, IAS_CTL_A_FABRIC_NODE);
		ias_ctl_put_str(x->rep, IAS_CTL_A_NODE, n->rec.name);
		ias_ctl_put_u64(x->rep, IAS_CTL_A_NODE_GUID, n->rec.guid);
		ias_ctl_put_u32(x->rep, IAS_CTL_A_LID, n->present ? n->rec.lid : 0);
		ias_ctl_put_str(x->rep, IAS_CTL_A_NODE_TYPE, type_name(n->rec.node_type));
		ias_ctl_put_u8(x->rep, IAS_CTL_A_AGENT, (uint8_t)!!n->rec.agent);
		ias_ctl_put_u8(x->rep, IAS_CTL_A_REACHABLE, (uint8_t)!!n->reachable);
		if (n->rec.agent) {
			if (n->policy_known)
				ias_ctl_put_u32(x->rep, IAS_CTL_A_POLICY_VERSION,
						n->agent_policy.policy_version);
			ias_ctl_put_str(x->rep, IAS_CTL_A_POLICY_STATE, pst);
			ias_ctl_put_u32(x->rep, IAS_CTL_A_BLOCKS_ACTIVE, n->active_blocks);
			ias_ctl_put_u64(x->rep, IAS_CTL_A_LAST_REPORT_MS, (uint64_t)last);
			ias_ctl_put_u64(x->rep, IAS_CTL_A_REPORTS, cnt);
		}
		ias_ctl_nest_end(x->rep);
	}
	ias_ctl_put_u64(x->rep, IAS_CTL_A_REPORTS, total);
	return 0;
}

/* ---- incidents, from the reports -------------------------------------- */

struct inc {
	uint64_t id, origin;
	int64_t opened, closed;
	uint32_t root_pid;
	unsigned blocks, releases;
};

struct incs {
	struct inc *v;
	size_t n, cap;
};

static int inc_cb(const struct sem_report_rec *r, void *arg)
{
	struct incs *a = arg;
	struct inc *i = NULL;
	size_t k;

	for (k = 0; k < a->n; k++)
		if (a->v[k].id == r->r.incident_id)
			i = &a->v[k];
	if (!i) {
		if (a->n == a->cap) {
			size_t cap = a->cap ? a->cap * 2 : 32;
			struct inc *p = realloc(a->v, cap * sizeof(*p));

			if (!p)
				return -ENOMEM;
			a->v = p;
			a->cap = cap;
		}
		i = &a->v[a->n++];
		memset(i, 0, sizeof(*i));
		i->id = r->r.incident_id;
		i->origin = r->r.node_guid;
		i->opened = (int64_t)r->r.event_time_ms;
	}
	if (r->r.kind == IAS_REPORT_BLOCK) {
		if (!i->blocks)
			i->root_pid = r->r.pid;
		i->blocks++;
	} else if (r->r.kind == IAS_REPORT_RELEASE) {
		i->releases++;
		i->closed = (int64_t)r->r.event_time_ms;
	}
	return 0;
}

static void put_incident(struct req *x, const struct inc *i)
{
	char id[40], node[80];
	int released = i->blocks && i->releases >= i->blocks;

	sem_incident_str(i->id, id, sizeof(id));
	node_name(x->s, i->origin, node, sizeof(node));
	ias_ctl_put_str(x->rep, IAS_CTL_A_INCIDENT_ID, id);
	ias_ctl_put_str(x->rep, IAS_CTL_A_ORIGIN, "fabric");
	ias_ctl_put_str(x->rep, IAS_CTL_A_NODE, node);
	ias_ctl_put_u64(x->rep, IAS_CTL_A_OPENED_MS, (uint64_t)i->opened);
	ias_ctl_put_u32(x->rep, IAS_CTL_A_ROOT_PID, i->root_pid);
	ias_ctl_put_str(x->rep, IAS_CTL_A_STATE, released ? "released" : "open");
	ias_ctl_put_u64(x->rep, IAS_CTL_A_CLOSED_MS, released ? (uint64_t)i->closed : 0);
}

static int op_incidents_list(struct req *x)
{
	struct incs a = { 0 };
	size_t k;
	int r;

	r = semstore_reports_foreach(x->s->store, 0, inc_cb, &a);
	if (r) {
		free(a.v);
		return fail(x, IAS_CTL_E_INTERNAL, "store: %s", semstore_errmsg(x->s->store));
	}
	for (k = 0; k < a.n; k++) {
		ias_ctl_nest_begin(x->rep, IAS_CTL_A_INCIDENT);
		put_incident(x, &a.v[k]);
		ias_ctl_nest_end(x->rep);
	}
	free(a.v);
	return 0;
}

static const char *kind_name(uint8_t k)
{
	switch (k) {
	case IAS_REPORT_BLOCK: return "block";
	case IAS_REPORT_RELEASE: return "release";
	case IAS_REPORT_UNREACHABLE: return "unreachable";
	case IAS_REPORT_HOP: return "hop";
	default: return "?";
	}
}

static int event_cb(const struct sem_report_rec *r, void *arg)
{
	struct req *x = arg;
	char node[80], text[160], peer[80];
	struct sem_node *pn;

	node_name(x->s, r->r.node_guid, node, sizeof(node));
	if (r->r.kind == IAS_REPORT_HOP || r->r.kind == IAS_REPORT_UNREACHABLE) {
		pn = sem_view_by_lid(&x->s->view, r->r.peer_lid);
		snprintf(peer, sizeof(peer), "%s", pn ? pn->rec.name : "?");
		snprintf(text, sizeof(text), "%s %s (LID %u) qp 0x%x",
			 r->r.kind == IAS_REPORT_HOP ? "traced to" : "no answer from", peer,
			 r->r.peer_lid, r->r.peer_qpn);
	} else {
		snprintf(text, sizeof(text), "%s, %u QP(s), block %" PRIu64, r->r.comm,
			 r->r.qp_count, r->r.block_id);
	}
	ias_ctl_nest_begin(x->rep, IAS_CTL_A_EVENT);
	ias_ctl_put_u64(x->rep, IAS_CTL_A_TS_MS, r->r.event_time_ms);
	ias_ctl_put_str(x->rep, IAS_CTL_A_NODE, node);
	ias_ctl_put_u32(x->rep, IAS_CTL_A_PID, r->r.pid);
	if (r->r.peer_qpn)
		ias_ctl_put_u32(x->rep, IAS_CTL_A_QPN, r->r.peer_qpn);
	ias_ctl_put_str(x->rep, IAS_CTL_A_KIND, kind_name(r->r.kind));
	ias_ctl_put_str(x->rep, IAS_CTL_A_TEXT, text);
	ias_ctl_nest_end(x->rep);
	return x->rep->err ? 1 : 0;
}

static int op_incident_show(struct req *x)
{
	char id[IAS_CTL_INCIDENT_ID_MAX + 1] = "";
	struct incs a = { 0 };
	struct ias_ctl_attr at;
	uint64_t inc;
	int r;

	while (ias_ctl_next(&x->attrs, &at) > 0)
		if (at.type == IAS_CTL_A_INCIDENT_ID && ias_ctl_get_str(&at, id, sizeof(id)))
			return fail(x, IAS_CTL_E_INVAL, "bad incident id");
	if (sem_incident_parse(id, &inc) || !inc)
		return fail(x, IAS_CTL_E_INVAL, "incident ids look like I-0a1b2c-17");
	r = semstore_reports_foreach(x->s->store, inc, inc_cb, &a);
	if (r || !a.n) {
		free(a.v);
		if (r)
			return fail(x, IAS_CTL_E_INTERNAL, "store: %s", semstore_errmsg(x->s->store));
		return fail(x, IAS_CTL_E_NOENT, "no report of incident %s", id);
	}
	ias_ctl_nest_begin(x->rep, IAS_CTL_A_INCIDENT);
	put_incident(x, &a.v[0]);
	free(a.v);
	r = semstore_reports_foreach(x->s->store, inc, event_cb, x);
	if (r < 0)
		return fail(x, IAS_CTL_E_INTERNAL, "store: %s", semstore_errmsg(x->s->store));
	ias_ctl_nest_end(x->rep);
	return 0;
}

/* ---- policy -------------------------------------------------------------- */

static int op_policy_show(struct req *x)
{
	put_policy(x->rep, &x->s->view.policy);
	return 0;
}

static int lookup(const char *const *names, const char *v)
{
	int i;

	for (i = 0; names[i]; i++)
		if (strcmp(names[i], v) == 0)
			return i;
	return -1;
}

static int op_policy_set(struct req *x)
{
	struct sem *s = x->s;
	struct ias_attr_policy p = s->view.policy;
	struct sem_policy_rec rec;
	struct ias_ctl_attr a, in;
	char name[IAS_CTL_NAME_MAX + 1];
	struct ias_rd r;
	uint32_t v;
	uint8_t b;
	int idx;

	while (ias_ctl_next(&x->attrs, &a) > 0) {
		if (a.type != IAS_CTL_A_POLICY)
			continue;
		ias_ctl_attr_nested(&a, &r);
		while (ias_ctl_next(&r, &in) > 0) {
			switch (in.type) {
			case IAS_CTL_A_LEVEL:
			case IAS_CTL_A_BLOCK_MODE:
				if (ias_ctl_get_str(&in, name, sizeof(name)))
					return fail(x, IAS_CTL_E_INVAL, "bad name");
				idx = lookup(in.type == IAS_CTL_A_LEVEL ? sem_level_names : sem_mode_names, name);
				if (idx < 0)
					return fail(x, IAS_CTL_E_INVAL, "%s: unknown value %s",
						    ias_ctl_attr_name(in.type), name);
				if (in.type == IAS_CTL_A_LEVEL)
					p.search_level = (uint8_t)idx;
				else
					p.block_mode = (uint8_t)idx;
				break;
			case IAS_CTL_A_DRY_RUN:
				ias_ctl_get_u8(&in, &b);
				p.flags = (uint8_t)((p.flags & ~IAS_POLICY_F_DRY_RUN) |
						    (b ? IAS_POLICY_F_DRY_RUN : 0));
				break;
			case IAS_CTL_A_POLICY_VERSION:
				break;	/* the manager numbers its policies */
			default:
				ias_ctl_get_u32(&in, &v);
				if (in.type == IAS_CTL_A_BASE_DURATION_S) {
					p.base_duration_s = v;
				} else if (in.type == IAS_CTL_A_MAX_DURATION_S) {
					p.max_duration_s = v;
				} else if (in.type == IAS_CTL_A_ESCALATION) {
					if (v < 1 || v > 100)
						return fail(x, IAS_CTL_E_INVAL, "escalation must be 1..100");
					p.escalation_x100 = (uint16_t)(v * 100);
				} else if (in.type == IAS_CTL_A_HOP_LIMIT ||
					   in.type == IAS_CTL_A_FANOUT_LIMIT) {
					if (v < 1 || v > 255)
						return fail(x, IAS_CTL_E_INVAL, "%s must be 1..255 fabric-wide",
							    ias_ctl_attr_name(in.type));
					if (in.type == IAS_CTL_A_HOP_LIMIT)
						p.hop_limit = (uint8_t)v;
					else
						p.fanout_limit = (uint8_t)v;
				}
				break;
			}
		}
	}
	if (sem_policy_check(&p, x->msg, sizeof(x->msg)))
		return IAS_CTL_E_INVAL;
	p.policy_version = s->view.policy.policy_version + 1;
	memset(&rec, 0, sizeof(rec));
	rec.p = p;
	rec.updated_ms = sem_now_ms();
	if (semstore_policy_put(s->store, &rec))
		return fail(x, IAS_CTL_E_INTERNAL, "store: %s", semstore_errmsg(s->store));
	sem_view_set_policy(&s->view, &p);
	log_notice("fabric policy version %u set by uid %u (PID %d)%s", p.policy_version,
		   (unsigned)x->cl->cred.uid, (int)x->cl->cred.pid,
		   s->view.active ? "" : "; standby: not pushed until our SM is the master");
	put_policy(x->rep, &p);
	return 0;
}

static const struct {
	uint16_t op;
	int (*fn)(struct req *x);
} handlers[] = {
	{ IAS_CTL_OP_STATUS, op_status },
	{ IAS_CTL_OP_FABRIC_STATUS, op_fabric_status },
	{ IAS_CTL_OP_INCIDENTS_LIST, op_incidents_list },
	{ IAS_CTL_OP_INCIDENT_SHOW, op_incident_show },
	{ IAS_CTL_OP_POLICY_SHOW, op_policy_show },
	{ IAS_CTL_OP_POLICY_SET, op_policy_set },
};

/* ---- transport ----------------------------------------------------------- */

static int privileged(const struct client *cl, gid_t gid)
{
	int i;

	if (cl->cred.uid == 0)
		return 1;
	if (gid == (gid_t)-1)
		return 0;
	if (cl->cred.gid == gid)
		return 1;
	for (i = 0; i < cl->ngroups; i++)
		if (cl->groups[i] == gid)
			return 1;
	return 0;
}

static void reply_error(struct client *cl, uint16_t op, uint32_t seq, int status, const char *msg)
{
	int n = ias_ctl_build_error(cl->ctl->out, sizeof(cl->ctl->out), op, seq, status, msg);

	if (n > 0)
		send(cl->fd, cl->ctl->out, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL);
}

static void handle(struct client *cl, size_t len)
{
	struct sem_ctl *c = cl->ctl;
	struct ias_ctl_msg rep;
	struct req x;
	size_t i;
	int st;

	memset(&x, 0, sizeof(x));
	x.s = c->s;
	x.cl = cl;
	if (len > IAS_CTL_MAX_MSG) {
		ias_ctl_parse_hdr(c->in, IAS_CTL_HDR_LEN, &x.h, NULL);
		reply_error(cl, x.h.op, x.h.seq, IAS_CTL_E_TOOBIG, "request larger than 65536 bytes");
		return;
	}
	st = ias_ctl_validate_msg(c->in, len, x.msg, sizeof(x.msg));
	ias_ctl_parse_hdr(c->in, len, &x.h, &x.attrs);
	if (st) {
		reply_error(cl, x.h.op, x.h.seq, st, x.msg[0] ? x.msg : ias_ctl_strerror(st));
		return;
	}
	if (x.h.kind != IAS_CTL_REQUEST) {
		reply_error(cl, x.h.op, x.h.seq, IAS_CTL_E_INVAL, "only requests are accepted");
		return;
	}
	if (ias_ctl_op_privileged(x.h.op) && !privileged(cl, c->s->control_gid)) {
		reply_error(cl, x.h.op, x.h.seq, IAS_CTL_E_PERM,
			    "this request needs root or membership of the manager's control group");
		return;
	}
	for (i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++)
		if (handlers[i].op == x.h.op)
			break;
	if (i == sizeof(handlers) / sizeof(handlers[0])) {
		reply_error(cl, x.h.op, x.h.seq, IAS_CTL_E_INVAL,
			    "op not served by the manager (ask the node's agent)");
		return;
	}
	ias_ctl_msg_init(&rep, c->out, sizeof(c->out), IAS_CTL_REPLY, x.h.op, x.h.seq, 0);
	x.rep = &rep;
	st = handlers[i].fn(&x);
	if (st) {
		reply_error(cl, x.h.op, x.h.seq, st, x.msg[0] ? x.msg : ias_ctl_strerror(st));
		return;
	}
	if (ias_ctl_msg_finish(&rep)) {
		reply_error(cl, x.h.op, x.h.seq, IAS_CTL_E_TOOBIG, "the reply does not fit in one message");
		return;
	}
	send(cl->fd, rep.buf, rep.len, MSG_DONTWAIT | MSG_NOSIGNAL);
}

static void client_close(struct client *cl)
{
	struct client **pp;

	for (pp = &cl->ctl->clients; *pp; pp = &(*pp)->next)
		if (*pp == cl) {
			*pp = cl->next;
			break;
		}
	cl->ctl->nclients--;
	sd_event_source_disable_unref(cl->src);
	close(cl->fd);
	free(cl);
}

static int client_io(sd_event_source *src, int fd, uint32_t revents, void *arg)
{
	struct client *cl = arg;
	ssize_t n;

	(void)src;
	if (revents & EPOLLIN) {
		n = recv(fd, cl->ctl->in, sizeof(cl->ctl->in), MSG_DONTWAIT | MSG_TRUNC);
		if (n > 0) {
			handle(cl, (size_t)n);
			return 0;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
	}
	client_close(cl);
	return 0;
}

static int listen_io(sd_event_source *src, int fd, uint32_t revents, void *arg)
{
	struct sem_ctl *c = arg;
	struct client *cl;
	socklen_t len;
	int cfd;

	(void)src;
	(void)revents;
	cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (cfd < 0)
		return 0;
	if (c->nclients >= c->s->cfg.max_clients || !(cl = calloc(1, sizeof(*cl)))) {
		close(cfd);
		return 0;
	}
	cl->ctl = c;
	cl->fd = cfd;
	len = sizeof(cl->cred);
	if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cl->cred, &len) < 0) {
		close(cfd);
		free(cl);
		return 0;
	}
	len = sizeof(cl->groups);
	if (getsockopt(cfd, SOL_SOCKET, SO_PEERGROUPS, cl->groups, &len) == 0)
		cl->ngroups = (int)(len / sizeof(gid_t));
	if (sd_event_add_io(c->s->ev, &cl->src, cfd, EPOLLIN, client_io, cl) < 0) {
		close(cfd);
		free(cl);
		return 0;
	}
	cl->next = c->clients;
	c->clients = cl;
	c->nclients++;
	return 0;
}

static int make_socket(const char *path, int *out)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[sizeof(sa.sun_path)];
	char *slash;
	int fd, r;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			return -errno;
	}
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(path, 0666) < 0 ||
	    listen(fd, 64) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	*out = fd;
	return 0;
}

int sem_ctl_start(struct sem *s, const char *path, int listen_fd, struct sem_ctl **out)
{
	struct sem_ctl *c = calloc(1, sizeof(*c));
	int r;

	if (!c)
		return -ENOMEM;
	c->s = s;
	c->fd = listen_fd;
	snprintf(c->path, sizeof(c->path), "%s", path);
	if (c->fd < 0) {
		r = make_socket(path, &c->fd);
		if (r) {
			free(c);
			return r;
		}
		c->owns_path = 1;
	}
	r = sd_event_add_io(s->ev, &c->src, c->fd, EPOLLIN, listen_io, c);
	if (r < 0) {
		close(c->fd);
		free(c);
		return r;
	}
	*out = c;
	return 0;
}

void sem_ctl_stop(struct sem_ctl *c)
{
	if (!c)
		return;
	while (c->clients)
		client_close(c->clients);
	sd_event_source_disable_unref(c->src);
	close(c->fd);
	if (c->owns_path)
		unlink(c->path);
	free(c);
}
