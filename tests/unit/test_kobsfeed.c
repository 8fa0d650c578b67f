/* Unit tests for sema/kobsfeed.c: kernel records (kobs) into the QP table.
 * The merge rules are pure; the event handler runs against a table with no
 * kobs open (the fake MAD port serves "dev0"). */
#include <string.h>

#include "sema/kobsfeed.h"
#include "tests/unit/fake_sema.h"
#include "tests/unit/tap.h"

static struct kobs_qp rc_rec(const char *dev, uint32_t qpn, uint32_t dqpn, uint16_t dlid)
{
	struct kobs_qp k;

	memset(&k, 0, sizeof(k));
	snprintf(k.dev, sizeof(k.dev), "%s", dev);
	k.qpn = qpn;
	k.type = 2;
	k.state = 3;
	k.dest_qpn = dqpn;
	k.dlid = dlid;
	k.flags = KOBS_QP_CREATE | KOBS_QP_DEST | KOBS_QP_AV;
	k.tgid = 4242;
	k.start_ns = 777;
	return k;
}

static void test_merge(void)
{
	struct qptable t;
	struct qpt_entry *q;
	struct kobs_qp k;
	char buf[96];
	int rep;

	qpt_init(&t);
	q = qpt_upsert(&t, "dev0", 0x11);
	k = rc_rec("dev0", 0x11, 0x22, 7);

	/* Nothing known yet: the kernel's destination, trusted. */
	is_int(kobsfeed_merge(q, &k, &rep), 1, "first kernel destination merged");
	is_int(rep, 0, "nothing replaced");
	ok(q->has_remote && q->remote_qpn == 0x22 && q->remote_lid == 7, "remote end qp 0x22 lid 7");
	ok(qpt_remote_trusted(q), "a kernel-learned remote end is a trace target");
	is_str(qpt_remote_src_str(q->remote_src, buf, sizeof(buf)), "kernel-bpf", "source kernel-bpf");
	is_int(kobsfeed_merge(q, &k, &rep), 0, "the same record again changes nothing");

	/* No destination QPN, or no address: not used. */
	kobsfeed_forget(q);
	ok(!q->has_remote && q->remote_src == 0, "forget drops the kernel's remote end");
	k.flags = KOBS_QP_CREATE | KOBS_QP_AV;
	is_int(kobsfeed_merge(q, &k, &rep), 0, "no destination QPN: nothing merged");
	k.flags = KOBS_QP_CREATE | KOBS_QP_DEST;
	is_int(kobsfeed_merge(q, &k, &rep), 0, "no address vector: nothing merged");
	ok(!q->has_remote, "still no remote end");

	/* A registration the kernel confirms keeps both sources. */
	q->has_remote = 1;
	q->remote_qpn = 0x22;
	q->remote_lid = 7;
	q->remote_src = QPT_RSRC_LIBIAS;
	ok(!qpt_remote_trusted(q), "a registration alone is not trusted");
	k = rc_rec("dev0", 0x11, 0x22, 7);
	is_int(kobsfeed_merge(q, &k, &rep), 1, "a matching kernel record confirms it");
	is_int(rep, 0, "a confirmation replaces nothing");
	is_int(q->remote_src, QPT_RSRC_LIBIAS | QPT_RSRC_KOBS, "sources kernel-bpf + libias");

	/* A registration the kernel contradicts is replaced. */
	q->remote_qpn = 0x99;
	q->remote_lid = 3;
	q->remote_src = QPT_RSRC_LIBIAS | QPT_RSRC_NLQPN;
	is_int(kobsfeed_merge(q, &k, &rep), 1, "a contradicting kernel record wins");
	is_int(rep, 1, "... and says it replaced a claim");
	ok(q->remote_qpn == 0x22 && q->remote_lid == 7, "the kernel's qp and lid are kept");
	is_int(q->remote_src, QPT_RSRC_KOBS, "the claim's sources are gone (and netlink's other QPN)");

	/* netlink's remote QPN alone, same QPN: an address completes it. */
	kobsfeed_forget(q);
	q->has_remote = 1;
	q->remote_qpn = 0x22;
	q->remote_src = QPT_RSRC_NLQPN;
	is_int(kobsfeed_merge(q, &k, &rep), 1, "netlink's QPN gets the kernel's address");
	is_int(rep, 0, "netlink's QPN is no claim to replace");
	is_int(q->remote_src, QPT_RSRC_NLQPN | QPT_RSRC_KOBS, "sources kernel-bpf + kernel-qpn");

	/* RoCE: no LID, a destination GID. */
	kobsfeed_forget(q);
	k.dlid = 0;
	k.flags |= KOBS_QP_GRH;
	memset(k.dgid, 0, 16);
	k.dgid[0] = 0xfe;
	k.dgid[1] = 0x80;
	k.dgid[15] = 2;
	is_int(kobsfeed_merge(q, &k, &rep), 1, "a GID-only destination (RoCE) is merged");
	ok(q->remote_lid == 0 && q->remote_gid[15] == 2 && qpt_remote_trusted(q),
	   "RoCE remote end by GID, trusted");
	k.flags &= ~KOBS_QP_GRH;
	is_int(kobsfeed_merge(q, &k, &rep), 0, "a record without GRH and LID 0 names no place");
	qpt_free(&t);
}

static void test_ah(void)
{
	struct qpt_entry q;
	struct kobs_qp rec, ah;
	struct qpt_dest d;

	memset(&q, 0, sizeof(q));
	snprintf(q.device, sizeof(q.device), "dev0");
	q.qpn = 0x40;
	q.type = 4;
	memset(&d, 0, sizeof(d));
	d.lid = 9;
	d.qpn = 0x41;
	d.src = QPT_RSRC_LIBIAS;
	qpt_add_dest(&q, &d);
	d.lid = 10;
	qpt_add_dest(&q, &d);

	rec = rc_rec("dev0", 0x40, 0, 0);
	rec.type = 4;
	rec.flags = KOBS_QP_CREATE;
	ah = rc_rec("dev0", 0, 0, 9);
	ah.flags = KOBS_QP_AV;
	ah.handle = 0xffff8888;
	is_int(kobsfeed_confirm_ah(&q, &rec, &ah), 1, "the AH confirms the UD destination at its address");
	is_int(q.dest[0].src, QPT_RSRC_LIBIAS | QPT_RSRC_KOBS, "destination lid 9: kernel-bpf + libias");
	is_int(q.dest[1].src, QPT_RSRC_LIBIAS, "destination lid 10 stays a claim");
	is_int(kobsfeed_confirm_ah(&q, &rec, &ah), 0, "confirming twice counts once");
	ah.tgid = 1;
	ah.dlid = 10;
	is_int(kobsfeed_confirm_ah(&q, &rec, &ah), 0, "another owner's AH confirms nothing");
	ah.tgid = rec.tgid;
	ah.start_ns = rec.start_ns + 1;
	is_int(kobsfeed_confirm_ah(&q, &rec, &ah), 0, "a reused tgid (other start time) confirms nothing");
	ah.start_ns = rec.start_ns;
	snprintf(ah.dev, sizeof(ah.dev), "dev1");
	is_int(kobsfeed_confirm_ah(&q, &rec, &ah), 0, "an AH on another device confirms nothing");
	kobsfeed_forget(&q);
	is_int(q.dest[0].src, QPT_RSRC_LIBIAS, "destroy drops the kernel's confirmation");
}

static void test_events(void)
{
	struct sema s;
	struct qpt_entry *q, *o;
	struct kobs_qp k;

	memset(&s, 0, sizeof(s));
	qpt_init(&s.qps);
	ok(kobsfeed_serves(NULL, "rxe3") && kobsfeed_serves("", "rxe3"),
	   "no served device known: every device is taken");
	ok(kobsfeed_serves("rxe1", "rxe1") && !kobsfeed_serves("rxe1", "rxe2"),
	   "a served device: only its records");
	is_str(kobsfeed_state(&s), "off (not started)", "state before start");
	ok(!kobsfeed_active(&s), "not active before start");

	q = qpt_upsert(&s.qps, "dev0", 0x11);
	q->sources = QPT_SRC_KERNEL;
	q->pid = 321;
	q->has_remote = 1;
	q->remote_qpn = 0x77;
	q->remote_lid = 5;
	q->remote_src = QPT_RSRC_LIBIAS;
	o = qpt_upsert(&s.qps, "dev1", 0x11);
	o->sources = QPT_SRC_KERNEL;

	k = rc_rec("dev0", 0x11, 0x22, 7);
	kobsfeed_event(&s, KOBS_MODIFY, &k);
	ok(q->remote_qpn == 0x22 && q->remote_lid == 7 && (q->remote_src & QPT_RSRC_KOBS),
	   "modify event: the kernel's remote end replaces the registered one");
	is_int(s.stats.kernel_conflicts, 1, "the conflict is counted");
	is_int(q->pid, 321, "the owner PID is untouched (netlink's)");
	kobsfeed_event(&s, KOBS_MODIFY, &k);
	is_int(s.stats.kernel_conflicts, 1, "the same record again is no new conflict");

	k = rc_rec("dev1", 0x11, 0x33, 8);
	kobsfeed_event(&s, KOBS_MODIFY, &k);
	ok(!o->has_remote, "a record of a device this agent does not serve is ignored");

	k = rc_rec("dev0", 0x11, 0x22, 7);
	kobsfeed_event(&s, KOBS_DESTROY, &k);
	ok(!q->has_remote && q->remote_src == 0, "destroy event: the kernel's remote end is dropped");
	ok(qpt_find(&s.qps, "dev0", 0x11) != NULL, "the entry itself stays for the scan's sweep");
	qpt_free(&s.qps);
}

int main(void)
{
	test_merge();
	test_ah();
	test_events();
	return tap_done();
}
