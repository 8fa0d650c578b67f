/* The trace handler (sema/trace.c) against a fake MAD port and fake effects
 * on a real store: a hop blocks the owner and traces on; the dry-run flag
 * travels; a repeat of the same incident (a loop) answers DUPLICATE and
 * forwards nothing; another incident reaching a blocked process joins it
 * and traces on; hop and fan-out limits; no owner. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "mad_defs/incident.h"
#include "sema/engine.h"
#include "sema/store.h"
#include "sema/trace.h"
#include "tests/unit/fake_sema.h"
#include "tests/unit/tap.h"

static struct sema S;

static void add_qp(pid_t pid, uint32_t qpn, uint32_t remote_lid)
{
	struct qpt_entry *q = qpt_upsert(&S.qps, "dev0", qpn);

	q->pid = pid;
	q->sources = QPT_SRC_SIMULATED;
	q->has_remote = 1;
	q->remote_lid = remote_lid;
	q->remote_qpn = qpn + 0x100;
	q->remote_src = QPT_RSRC_PEER;	/* confirmed: a trace target, and a trace source */
}

static struct ias_attr_trace_result hop(uint64_t inc, uint32_t dest_qpn, uint8_t hop_count,
					uint8_t hop_limit, uint16_t flags)
{
	struct ias_secmgt_msg m;
	struct ias_attr_trace_result res;
	struct qpt_entry *q = qpt_find(&S.qps, "dev0", dest_qpn);
	/* from the named QP's (peer-confirmed) remote end */
	struct mad_dest from = { .lid = q ? (uint16_t)q->remote_lid : 3 };

	memset(&m, 0, sizeof(m));
	m.method = IAS_METHOD_SET;
	m.attr_id = IAS_ATTR_TRACE;
	m.u.trace.incident_id = inc;
	m.u.trace.dest_qpn = dest_qpn;
	m.u.trace.sender_qpn = dest_qpn + 0x100;	/* the named QP's remote end */
	m.u.trace.hop_count = hop_count;
	m.u.trace.hop_limit = hop_limit;
	m.u.trace.flags = flags;
	trace_handle(&S, &m, &from, &res);
	return res;
}

static int blocks_of(pid_t pid, int *simulated)
{
	struct ias_block_rec rec;
	int n = 0;

	(void)rec;
	*simulated = -1;
	for (int64_t id = 1; id < 64; id++)
		if (ias_store_block_get(S.store, id, &rec) == 0 && rec.pid == pid && !rec.released_ms) {
			n++;
			*simulated = rec.simulated;
		}
	return n;
}

int main(void)
{
	struct ias_attr_trace_result r;
	uint64_t inc1 = ias_incident_make(0xabc, 1), inc2 = ias_incident_make(0xabc, 2);
	uint64_t inc3 = ias_incident_make(0xabc, 3);
	char dir[64];
	pid_t a, b;
	int sim;

	if (fake_sema_open(&S, dir, sizeof(dir)) < 0)
		tap_skip_all("no store");
	a = fake_victim();
	b = fake_victim();
	add_qp(a, 0x10, 5);
	add_qp(a, 0x11, 6);
	add_qp(b, 0x20, 7);

	fake_reset();
	r = hop(inc1, 0x10, 1, 4, IAS_TRACE_F_DRY_RUN);
	is_int(r.result, IAS_TRESULT_DRY_RUN, "a dry-run trace: would block");
	ok(blocks_of(a, &sim) == 1 && sim == 1, "the block is simulated");
	is_int(fake.norders, 0, "nothing enforced");
	is_int(fake_mad_nreqs, 1, "traced on through the other QP only");
	ok(fake_mad_nreqs && (fake_mad_reqs[0].msg.u.trace.flags & IAS_TRACE_F_DRY_RUN),
	   "the onward trace carries the dry-run flag");
	ok(fake_mad_nreqs && fake_mad_reqs[0].msg.u.trace.hop_count == 2 &&
	   fake_mad_reqs[0].to.lid == 6, "hop 2, to the far end of QP 0x11");
	is_int(r.n_hops, 1, "one hop listed");

	fake_reset();
	r = hop(inc1, 0x11, 2, 4, IAS_TRACE_F_DRY_RUN);
	is_int(r.result, IAS_TRESULT_DUPLICATE, "the same incident again (a loop): duplicate");
	is_int(fake_mad_nreqs, 0, "a loop forwards nothing");

	fake_reset();
	r = hop(inc2, 0x20, 1, 1, 0);
	is_int(r.result, IAS_TRESULT_BLOCKED, "a real trace at the hop limit blocks");
	ok(blocks_of(b, &sim) == 1 && sim == 0, "a real block");
	is_int(fake_mad_nreqs, 0, "but forwards nothing (hop limit)");

	fake_reset();
	r = hop(inc2, 0x20, 2, 1, 0);
	is_int(r.result, IAS_TRESULT_HOP_LIMIT, "hop count over the limit: refused");

	fake_reset();
	add_qp(b, 0x23, 10);
	r = hop(inc3, 0x20, 1, 4, 0);
	is_int(r.result, IAS_TRESULT_BLOCKED, "another incident reaching a blocked process: it joins");
	is_int(blocks_of(b, &sim), 1, "no second block");
	ok(engine_blocked_in(&S, b, "I-000abc-3"), "part of the new incident");
	is_int(fake_mad_nreqs, 1, "and traced on for it");
	fake_reset();
	r = hop(inc3, 0x20, 1, 4, 0);
	is_int(r.result, IAS_TRESULT_DUPLICATE, "the same new incident again: duplicate");
	is_int(fake_mad_nreqs, 0, "nothing forwarded");

	fake_reset();
	r = hop(inc1, 0x77, 1, 4, 0);
	is_int(r.result, IAS_TRESULT_NO_OWNER, "a QP nobody owns");

	fake_reset();
	S.policy.fanout_limit = 1;
	add_qp(b, 0x21, 8);
	add_qp(b, 0x22, 9);
	r = hop(ias_incident_make(0xabc, 4), 0x20, 1, 4, 0);
	is_int(fake_mad_nreqs, 1, "fan-out limit 1: one trace");
	fake_reset();
	fake_victim_end(a);
	fake_victim_end(b);
	fake_sema_close(&S, dir);
	return tap_done();
}
