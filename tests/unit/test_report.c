/* The report outbox (sema/outbox.c, sema/report.c) against a fake MAD port
 * on a real store: reports leave in sequence order, one at a time, only
 * once durable; an acknowledgement moves on to the next; a timeout keeps the
 * report queued and the next offer sends it again; Get(Report, seq) answers
 * any report with the incident id through the one codec. */
#include <errno.h>
#include <string.h>

#include "mad_defs/incident.h"
#include "sema/outbox.h"
#include "sema/report.h"
#include "sema/store.h"
#include "tests/unit/fake_sema.h"
#include "tests/unit/tap.h"

static struct sema S;

static void answer(unsigned i, uint64_t seq, uint16_t status)
{
	struct ias_secmgt_msg resp;

	memset(&resp, 0, sizeof(resp));
	resp.status = status;
	resp.u.report.seq = seq;
	fake_mad_reqs[i].done(&S, fake_mad_reqs[i].ctx, &fake_mad_reqs[i].to, &resp);
	fake_mad_reqs[i].done = NULL;
}

int main(void)
{
	struct ias_attr_report a;
	struct ias_report_rec r;
	char dir[64];

	if (fake_sema_open(&S, dir, sizeof(dir)) < 0)
		tap_skip_all("no store");
	S.mad = (struct mad_port *)&S;	/* any non-NULL port: the fake ignores it */
	fake_reset();
	is_int(outbox_add(&S, IAS_REPORT_BLOCK, "I-0a1b2c-7", 1, 100, 2, "evil", 0, 0), 0,
	       "a block report queued");
	is_int(outbox_add(&S, IAS_REPORT_HOP, "I-0a1b2c-7", 0, 100, 0, NULL, 5, 0x44), 0,
	       "a hop report queued");
	report_kick(&S);
	is_int(fake_mad_nreqs, 0, "no manager known: nothing sent");
	S.manager_lid = 1;
	ias_store_begin(S.store);
	is_int(outbox_add(&S, IAS_REPORT_RELEASE, "I-0a1b2c-7", 1, 100, 2, "evil", 0, 0), 0,
	       "a release report inside an open transaction");
	report_kick(&S);
	is_int(fake_mad_nreqs, 0, "nothing leaves while a transaction is open");
	ias_store_commit(S.store);
	report_kick(&S);
	is_int(fake_mad_nreqs, 1, "after the commit: one report in flight");
	ok(fake_mad_nreqs && fake_mad_reqs[0].msg.u.report.seq == 1 &&
	   fake_mad_reqs[0].msg.u.report.kind == IAS_REPORT_BLOCK &&
	   fake_mad_reqs[0].msg.u.report.incident_id == ias_incident_make(0x0a1b2c, 7),
	   "the oldest first, its incident as the codec's u64");
	report_kick(&S);
	is_int(fake_mad_nreqs, 1, "one at a time");
	answer(0, 1, 0);
	is_int(fake_mad_nreqs, 2, "acknowledged: the next one leaves");
	ok(fake_mad_reqs[1].msg.u.report.seq == 2, "seq 2");
	fake_mad_reqs[1].done(&S, fake_mad_reqs[1].ctx, &fake_mad_reqs[1].to, NULL);
	fake_mad_reqs[1].done = NULL;
	is_int(fake_mad_nreqs, 2, "a timeout sends nothing at once");
	report_kick(&S);
	ok(fake_mad_nreqs == 3 && fake_mad_reqs[2].msg.u.report.seq == 2,
	   "the next offer sends seq 2 again");
	answer(2, 99, 0);
	report_kick(&S);
	ok(fake_mad_nreqs == 4 && fake_mad_reqs[3].msg.u.report.seq == 2,
	   "an acknowledgement of another seq does not count");
	answer(3, 2, 0);
	ok(fake_mad_nreqs == 5 && fake_mad_reqs[4].msg.u.report.seq == 3, "then seq 3");
	answer(4, 3, 0);
	ok(ias_store_report_next(S.store, &r) == -ENOENT, "all delivered");
	is_int(report_serve_get(&S, 2, &a), IAS_STATUS_OK, "Get(Report, 2)");
	ok(a.seq == 2 && a.kind == IAS_REPORT_HOP && a.peer_lid == 5 && a.peer_qpn == 0x44 &&
	   a.incident_id == ias_incident_make(0x0a1b2c, 7), "the hop report as it was queued");
	ok(report_serve_get(&S, 9, &a) != IAS_STATUS_OK, "an unknown seq is not found");
	S.mad = NULL;
	fake_reset();
	fake_sema_close(&S, dir);
	return tap_done();
}
