/* Unit tests for sema/mirror.c and sema/roster.c with the fake MAD port:
 * mirror_find's decision (unique yes, exact beats QPN-only, ambiguous,
 * none, no answer within mirror_timeout, no agents), joining concurrent
 * look-ups, mirror_confirm, the registration hook, answering Get(Mirror),
 * the pushed agent list and the `peers` syntax. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sema/mirror.h"
#include "sema/roster.h"
#include "tests/unit/fake_sema.h"
#include "tests/unit/tap.h"

static struct sema S;

struct got {
	int calls;
	enum mirror_result r;
	struct mirror_where w;
};

static void on_result(struct sema *s, void *arg, enum mirror_result r,
		      const struct mirror_where *where)
{
	struct got *g = arg;

	(void)s;
	g->calls++;
	g->r = r;
	if (where)
		g->w = *where;
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Run the reactor until g has its answer (or 3 s). */
static void run_until(struct got *g)
{
	int64_t end = mono_ms() + 3000;

	while (!g->calls && mono_ms() < end)
		sd_event_run(S.ev, 20 * 1000);
}

/* Answer request i: match 0 (no), 1 (QPN only), 2 (exact); -1: a MAD error
 * status. The request's slot is emptied. */
static void answer(unsigned i, int match)
{
	struct fake_mad_req *q = &fake_mad_reqs[i];
	struct ias_secmgt_msg m;

	memset(&m, 0, sizeof(m));
	m.method = IAS_METHOD_GET_RESP;
	m.attr_id = IAS_ATTR_MIRROR;
	if (match < 0) {
		m.status = IAS_STATUS_METHOD_ATTR_UNSUPP;
	} else {
		m.u.mira.responder_guid = 0x1000 + q->to.lid;
		m.u.mira.asker_guid = q->msg.u.mirq.asker_guid;
		m.u.mira.asker_qpn = q->msg.u.mirq.asker_qpn;
		m.u.mira.match = (uint8_t)match;
		m.u.mira.qpn = match ? q->msg.u.mirq.remote_qpn : 0;
	}
	q->done(&S, q->ctx, &q->to, &m);
	q->done = NULL;
}

/* A QP whose remote QPN only the kernel told (no address). */
static struct qpt_entry *nlqpn_qp(uint32_t qpn, uint32_t rqpn)
{
	struct qpt_entry *e = qpt_upsert(&S.qps, "dev0", qpn);

	e->pid = 4242;
	e->sources = QPT_SRC_KERNEL;
	e->has_remote = 1;
	e->remote_qpn = rqpn;
	e->remote_src = QPT_RSRC_NLQPN;
	return e;
}

static void set_peers(const char *const *items, unsigned n)
{
	char err[256];
	unsigned i;

	roster_free(&S);
	memset(&S.cfg.peers, 0, sizeof(S.cfg.peers));
	for (i = 0; i < n; i++)
		snprintf(S.cfg.peers.item[i], sizeof(S.cfg.peers.item[i]), "%s", items[i]);
	S.cfg.peers.n = n;
	if (roster_init(&S, err, sizeof(err)) < 0)
		printf("# roster_init: %s\n", err);
}

static void test_peers_syntax(void)
{
	static const char *const bad[] = { "lid:0", "lid:", "lid:x", "lid:49152", "lid:5x",
					   "gid:zz", "gid:::", "host:1", "5" };
	struct mad_dest d;
	char err[256];
	unsigned i;

	is_int(roster_parse_peer("lid:17", &d), 0, "peers: lid:17 parses");
	is_int(d.lid, 17, "peers: ... LID 17");
	is_int(roster_parse_peer("gid:fe80::2", &d), 0, "peers: gid:fe80::2 parses");
	ok(d.has_gid && d.lid == 0 && d.gid[0] == 0xfe && d.gid[15] == 2, "peers: ... that GID");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(roster_parse_peer(bad[i], &d) == -EINVAL, "peers: \"%s\" refused", bad[i]);
	roster_free(&S);
	S.cfg.peers.n = 2;
	snprintf(S.cfg.peers.item[0], IAS_CFG_ITEM_MAX, "lid:3");
	snprintf(S.cfg.peers.item[1], IAS_CFG_ITEM_MAX, "lid:nope");
	ok(roster_init(&S, err, sizeof(err)) == -EINVAL && strstr(err, "lid:nope"),
	   "a bad peers entry stops the start, naming it (%s)", err);
}

static void test_find_decisions(void)
{
	static const char *const peers[] = { "lid:1", "lid:2", "lid:3", "lid:4" };
	struct qpt_entry *e;
	struct got g;
	char buf[96];
	int64_t t0;

	set_peers(peers, 4);
	S.cfg.mirror_fanout = 8;
	S.cfg.mirror_timeout = 300;

	/* unique QPN-only yes */
	fake_reset();
	memset(&g, 0, sizeof(g));
	nlqpn_qp(0x100, 0x200);
	is_int(mirror_find(&S, "dev0", 0x100, 0x200, on_result, &g), 0, "find: started");
	is_int(fake_mad_nreqs, 3, "find: asks the 3 other agents (never itself, LID 1)");
	ok(fake_mad_reqs[0].msg.method == IAS_METHOD_GET && fake_mad_reqs[0].msg.attr_id == IAS_ATTR_MIRROR &&
	   fake_mad_reqs[0].msg.u.mirq.asker_qpn == 0x100 && fake_mad_reqs[0].msg.u.mirq.remote_qpn == 0x200,
	   "find: Get(Mirror) names (L 0x100, R 0x200)");
	answer(0, 0);
	answer(1, 1);
	is_int(g.calls, 0, "find: no decision while an agent has not answered");
	answer(2, 0);
	is_int(g.calls, 1, "find: decided once every agent answered");
	is_int(g.r, MIRROR_FOUND, "find: a unique yes is found");
	is_int(g.w.agent.lid, 3, "find: ... at the agent that said yes");
	is_int(g.w.node_guid, 0x1003, "find: ... its node GUID");
	e = qpt_find(&S.qps, "dev0", 0x100);
	ok(e && e->remote_lid == 3 && (e->remote_src & QPT_RSRC_MIRROR) && qpt_remote_trusted(e),
	   "find: the entry's remote end is that agent, source mirror (%s)",
	   e ? qpt_remote_src_str(e->remote_src, buf, sizeof(buf)) : "gone");

	/* exact beats QPN-only */
	fake_reset();
	memset(&g, 0, sizeof(g));
	nlqpn_qp(0x101, 0x201);
	mirror_find(&S, "dev0", 0x101, 0x201, on_result, &g);
	answer(0, 1);
	answer(1, 2);
	answer(2, 1);
	ok(g.r == MIRROR_FOUND && g.w.agent.lid == 3, "find: one exact yes beats two QPN-only ones");

	/* ambiguous */
	fake_reset();
	memset(&g, 0, sizeof(g));
	e = nlqpn_qp(0x102, 0x202);
	mirror_find(&S, "dev0", 0x102, 0x202, on_result, &g);
	answer(0, 2);
	answer(1, 0);
	answer(2, 2);
	is_int(g.r, MIRROR_AMBIGUOUS, "find: two exact yes are ambiguous");
	e = qpt_find(&S.qps, "dev0", 0x102);
	ok(e && e->remote_lid == 0 && !(e->remote_src & QPT_RSRC_MIRROR), "find: ... and nothing is filled in");
	fake_reset();
	memset(&g, 0, sizeof(g));
	nlqpn_qp(0x103, 0x203);
	mirror_find(&S, "dev0", 0x103, 0x203, on_result, &g);
	answer(0, 1);
	answer(1, 1);
	answer(2, 0);
	is_int(g.r, MIRROR_AMBIGUOUS, "find: two QPN-only yes (no exact) are ambiguous");

	/* none; an error status counts as no */
	fake_reset();
	memset(&g, 0, sizeof(g));
	nlqpn_qp(0x104, 0x204);
	mirror_find(&S, "dev0", 0x104, 0x204, on_result, &g);
	answer(0, 0);
	answer(1, -1);
	answer(2, 0);
	is_int(g.r, MIRROR_NONE, "find: every agent said no: none");

	/* a yes for another pair is no yes */
	fake_reset();
	memset(&g, 0, sizeof(g));
	mirror_find(&S, "dev0", 0x104, 0x204, on_result, &g);
	fake_mad_reqs[0].msg.u.mirq.remote_qpn = 0x999;
	answer(0, 1);
	answer(1, 0);
	answer(2, 0);
	is_int(g.r, MIRROR_NONE, "find: an answer naming another QP is not a yes");

	/* bounded by mirror_timeout */
	fake_reset();
	memset(&g, 0, sizeof(g));
	nlqpn_qp(0x105, 0x205);
	t0 = mono_ms();
	mirror_find(&S, "dev0", 0x105, 0x205, on_result, &g);
	answer(0, 0);
	run_until(&g);
	t0 = mono_ms() - t0;
	is_int(g.r, MIRROR_NO_ANSWER, "find: agents silent past mirror_timeout: no answer");
	ok(t0 >= 290 && t0 < 1000, "find: ... decided at mirror_timeout (%lld ms for 300)", (long long)t0);
	answer(1, 1);	/* late: ignored */
	is_int(g.calls, 1, "find: a late yes changes nothing, cb ran once");
	e = qpt_find(&S.qps, "dev0", 0x105);
	ok(e && !(e->remote_src & QPT_RSRC_MIRROR), "find: ... nor the entry");
	fake_mad_timeout_all(&S);

	/* a late yes in time, with a silent agent: the timeout decides on it */
	fake_reset();
	memset(&g, 0, sizeof(g));
	mirror_find(&S, "dev0", 0x105, 0x205, on_result, &g);
	answer(0, 1);
	run_until(&g);
	is_int(g.r, MIRROR_FOUND, "find: one yes and silence until the deadline: found");
	fake_mad_timeout_all(&S);

	/* fan-out bound */
	fake_reset();
	memset(&g, 0, sizeof(g));
	S.cfg.mirror_fanout = 2;
	mirror_find(&S, "dev0", 0x106, 0x206, on_result, &g);
	is_int(fake_mad_nreqs, 2, "find: at most mirror_fanout agents asked");
	fake_mad_timeout_all(&S);
	is_int(g.r, MIRROR_NO_ANSWER, "find: every try timed out: no answer");
	S.cfg.mirror_fanout = 8;

	/* no agents: answered from the reactor, not from the call */
	set_peers(NULL, 0);
	fake_reset();
	memset(&g, 0, sizeof(g));
	is_int(mirror_find(&S, "dev0", 0x107, 0x207, on_result, &g), 0, "find with no agents: started");
	is_int(g.calls, 0, "find with no agents: cb not called from inside the call");
	run_until(&g);
	is_int(g.r, MIRROR_NO_AGENTS, "find with no agents: no agents");
}

static void test_join(void)
{
	static const char *const peers[] = { "lid:2", "lid:3" };
	struct got g1, g2, g3;

	set_peers(peers, 2);
	fake_reset();
	memset(&g1, 0, sizeof(g1));
	memset(&g2, 0, sizeof(g2));
	memset(&g3, 0, sizeof(g3));
	nlqpn_qp(0x110, 0x210);
	mirror_find(&S, "dev0", 0x110, 0x210, on_result, &g1);
	mirror_find(&S, "dev0", 0x110, 0x210, on_result, &g2);
	is_int(fake_mad_nreqs, 2, "join: a second look-up for the same QP sends nothing");
	mirror_find(&S, "dev0", 0x111, 0x211, on_result, &g3);
	is_int(fake_mad_nreqs, 4, "join: another QP is another look-up");
	answer(0, 2);
	answer(1, 0);
	ok(g1.calls == 1 && g2.calls == 1 && g1.r == MIRROR_FOUND && g2.r == MIRROR_FOUND,
	   "join: both callers get the one answer");
	answer(2, 0);
	answer(3, 0);
	ok(g3.calls == 1 && g3.r == MIRROR_NONE, "join: the other look-up decided on its own");
	memset(&g1, 0, sizeof(g1));
	mirror_find(&S, "dev0", 0x110, 0x210, on_result, &g1);
	is_int(fake_mad_nreqs, 6, "join: a finished look-up is not joined: asked again");
	answer(4, 0);
	answer(5, 0);
}

static void test_confirm(void)
{
	struct mad_dest d = { .lid = 9 };
	struct qpt_entry *e;
	struct got g;

	set_peers(NULL, 0);
	fake_reset();
	memset(&g, 0, sizeof(g));
	e = qpt_upsert(&S.qps, "dev0", 0x120);
	e->pid = 4243;
	e->sources = QPT_SRC_SIMULATED;
	e->has_remote = 1;
	e->remote_lid = 9;
	e->remote_qpn = 0x220;
	e->remote_src = QPT_RSRC_LIBIAS;
	ok(!qpt_remote_trusted(e), "confirm: a registration alone is not trusted");
	mirror_claimed(&S, e);
	is_int(fake_mad_nreqs, 1, "registration hook: one Get(Mirror) ...");
	ok(fake_mad_reqs[0].to.lid == 9 && fake_mad_reqs[0].msg.u.mirq.asker_qpn == 0x120 &&
	   fake_mad_reqs[0].msg.u.mirq.remote_qpn == 0x220, "registration hook: ... to the claimed agent");
	is_int(mirror_confirm(&S, &d, "dev0", 0x120, 0x220, on_result, &g), 0, "confirm: joins");
	is_int(fake_mad_nreqs, 1, "confirm: ... the hook's question");
	answer(0, 1);
	is_int(g.r, MIRROR_FOUND, "confirm: yes");
	e = qpt_find(&S.qps, "dev0", 0x120);
	ok(e && (e->remote_src & QPT_RSRC_PEER) && qpt_remote_trusted(e), "confirm: the entry is peer-confirmed");
	fake_reset();
	mirror_claimed(&S, e);
	is_int(fake_mad_nreqs, 0, "registration hook: a trusted remote end is not asked about again");

	fake_reset();
	memset(&g, 0, sizeof(g));
	e = qpt_upsert(&S.qps, "dev0", 0x121);
	e->has_remote = 1;
	e->remote_lid = 9;
	e->remote_qpn = 0x221;
	e->remote_src = QPT_RSRC_LIBIAS;
	mirror_confirm(&S, &d, "dev0", 0x121, 0x221, on_result, &g);
	answer(0, 0);
	is_int(g.r, MIRROR_NONE, "confirm: the named agent says no");
	e = qpt_find(&S.qps, "dev0", 0x121);
	ok(e && !(e->remote_src & QPT_RSRC_PEER), "confirm: ... the claim stays unconfirmed");
}

static void test_serve(void)
{
	struct ias_attr_mirror_q q = { .asker_guid = 7, .asker_qpn = 0x330, .remote_qpn = 0x130 };
	struct mad_dest from = { .lid = 5 };
	struct ias_attr_mirror_a a;
	struct qpt_entry *e;

	e = qpt_upsert(&S.qps, "dev0", 0x130);
	e->pid = 4244;
	e->sources = QPT_SRC_SIMULATED;
	e->has_remote = 1;
	e->remote_lid = 5;
	e->remote_qpn = 0x330;
	e->remote_src = QPT_RSRC_LIBIAS;
	from.lid = 6;
	is_int(mirror_serve(&S, &q, &from, &a), IAS_STATUS_OK, "serve: answered");
	ok(a.match == IAS_MIRROR_QPN && a.qpn == 0x130 && a.asker_qpn == 0x330 && a.asker_guid == 7 &&
	   a.responder_guid == 0x1122334455667788ull, "serve: QPN-only match from another address");
	e = qpt_find(&S.qps, "dev0", 0x130);
	ok(!(e->remote_src & QPT_RSRC_PEER), "serve: ... confirms nothing");
	from.lid = 5;
	mirror_serve(&S, &q, &from, &a);
	is_int(a.match, IAS_MIRROR_EXACT, "serve: exact match from the claimed remote end");
	e = qpt_find(&S.qps, "dev0", 0x130);
	ok((e->remote_src & QPT_RSRC_PEER) && qpt_remote_trusted(e),
	   "serve: ... the asker's question confirms the registration");
	q.asker_qpn = 0x331;
	mirror_serve(&S, &q, &from, &a);
	ok(a.match == IAS_MIRROR_NOT_FOUND && a.qpn == 0, "serve: another remote QPN: not found");
	q.remote_qpn = 0x999;
	mirror_serve(&S, &q, &from, &a);
	is_int(a.match, IAS_MIRROR_NOT_FOUND, "serve: an unknown QP: not found");
}

static void segment(struct ias_attr_agent_list *seg, uint32_t gen, uint16_t total, uint16_t first,
		    uint8_t count)
{
	unsigned i;

	memset(seg, 0, sizeof(*seg));
	seg->generation = gen;
	seg->total = total;
	seg->first = first;
	seg->count = count;
	for (i = 0; i < count; i++) {
		seg->e[i].node_guid = 0x500 + first + i;
		seg->e[i].lid = (uint16_t)(first + i + 1);	/* LID 1 is this node */
	}
}

static void test_pushed_list(void)
{
	static const char *const peers[] = { "lid:3", "lid:40" };
	struct roster_agent out[16];
	struct ias_attr_agent_list seg;
	struct mad_dest mgr = { .lid = 77 };
	size_t n;

	set_peers(peers, 2);
	S.manager_lid = 0;
	segment(&seg, 3, 7, 0, 5);
	is_int(roster_take_segment(&S, &seg, &mgr), IAS_STATUS_OK, "list: first segment taken");
	is_int(roster_generation(&S, &n), 0, "list: not in use before every segment arrived");
	is_int(roster_agents(&S, out, 16), 2, "list: ... only the peers meanwhile");
	segment(&seg, 3, 7, 5, 2);
	roster_take_segment(&S, &seg, &mgr);
	is_int(roster_generation(&S, &n), 3, "list: generation 3 in use once complete");
	is_int(n, 7, "list: 7 agents");
	n = roster_agents(&S, out, 16);
	is_int(n, 7, "list: 6 others (this node left out) + peer lid:40 (lid:3 once)");
	ok(out[0].at.lid == 2 && out[0].node_guid == 0x501 && out[6].at.lid == 40 && out[6].node_guid == 0,
	   "list: the manager's agents first, then the peers");
	is_int(roster_agents(&S, out, 3), 3, "list: at most max agents");
	segment(&seg, 4, 1, 0, 1);
	S.manager_lid = 78;
	is_int(roster_take_segment(&S, &seg, &mgr), IAS_STATUS_REFUSED,
	       "list: refused from anyone but the known manager");
	S.manager_lid = 77;
	roster_take_segment(&S, &seg, &mgr);
	is_int(roster_generation(&S, &n), 4, "list: a new generation replaces the old");
	is_int(n, 1, "list: ... with its own size");
	segment(&seg, 5, 0, 0, 0);
	roster_take_segment(&S, &seg, &mgr);
	ok(roster_generation(&S, &n) == 5 && n == 0, "list: an empty list is a list");
}

int main(void)
{
	char dir[256];

	if (fake_sema_open(&S, dir, sizeof(dir)) < 0) {
		printf("Bail out! fake agent\n");
		return 1;
	}
	if (sd_event_new(&S.ev) < 0) {
		printf("Bail out! sd_event\n");
		return 1;
	}
	test_peers_syntax();
	test_find_decisions();
	test_join();
	test_confirm();
	test_serve();
	test_pushed_list();
	mirror_stop(&S);
	roster_free(&S);
	S.ev = sd_event_unref(S.ev);
	fake_sema_close(&S, dir);
	return tap_done();
}
