/* Unit tests for sema/kcm.c: which QP a kernel cm_id gives a remote address
 * to, and how that address meets a registration's claim and an eBPF
 * observation in the QP table. */
#include <arpa/inet.h>
#include <string.h>

#include "sema/kcm.h"
#include "sema/qptable.h"
#include "sema/rdmanl_cm.h"
#include "sema/sema.h"
#include "tests/unit/tap.h"

static struct sema S;

static struct qpt_entry *kqp(uint32_t qpn, unsigned sources, unsigned rsrc)
{
	struct qpt_entry *q = qpt_upsert(&S.qps, "rxe0", qpn);

	q->sources = sources;
	q->pid = 4242;
	q->type = 2;
	q->has_remote = !!rsrc;
	q->remote_qpn = rsrc ? 0x99 : 0;
	q->remote_src = rsrc;
	return q;
}

static struct ias_kcm cm(uint32_t lqpn)
{
	struct ias_kcm c;

	memset(&c, 0, sizeof(c));
	strcpy(c.dev_name, "rxe0");
	c.has_lqpn = 1;
	c.lqpn = lqpn;
	c.qp_type = 2;
	c.has_pid = 1;
	c.pid = 4242;
	c.dst.family = AF_INET6;
	inet_pton(AF_INET6, "fd00::2", c.dst.addr);
	return c;
}

int main(void)
{
	struct ias_kcm c;
	struct qpt_entry *q;
	uint8_t gid[16], other[16];
	char buf[96];

	qpt_init(&S.qps);
	inet_pton(AF_INET6, "fd00::2", gid);
	inet_pton(AF_INET6, "fd00::7", other);

	q = kqp(0x11, QPT_SRC_KERNEL, QPT_RSRC_NLQPN);
	c = cm(0x11);
	ok(kcm_target(&S, &c) == q, "a process's connected RC cm_id names its kernel QP");
	ok(!qpt_remote_trusted(q), "before: a remote QPN alone is not a trace target");
	is_int(kcm_apply(&S, q, &c, gid, "test"), 1, "address applied");
	ok(memcmp(q->remote_gid, gid, 16) == 0 && q->remote_lid == 0 && q->remote_qpn == 0x99,
	   "remote GID from rdma_cm, LID 0, the QP dump's remote QPN kept");
	is_str(qpt_remote_src_str(q->remote_src, buf, sizeof(buf)), "kernel-cm+kernel-qpn",
	       "listed as kernel-cm");
	ok(qpt_remote_trusted(q), "after: a trace target");
	ok(kcm_target(&S, &c) == NULL, "learned once: the next scan leaves it");

	c = cm(0x12);
	c.has_pid = 0;
	kqp(0x12, QPT_SRC_KERNEL, QPT_RSRC_NLQPN);
	ok(kcm_target(&S, &c) == NULL, "a cm_id without a PID (kernel, other namespace): nothing");
	c = cm(0x12);
	c.has_lqpn = 0;
	c.lqpn = 0;
	ok(kcm_target(&S, &c) == NULL, "a cm_id without a QP: nothing");
	c = cm(0x12);
	c.qp_type = 4;
	ok(kcm_target(&S, &c) == NULL, "a UD cm_id: nothing (no single remote end)");
	c = cm(0x12);
	c.dst.family = 0;
	ok(kcm_target(&S, &c) == NULL, "a cm_id without a destination (listener): nothing");
	c = cm(0x13);
	ok(kcm_target(&S, &c) == NULL, "a QP the QP dump did not report: nothing");
	kqp(0x14, QPT_SRC_KERNEL, 0);
	c = cm(0x14);
	ok(kcm_target(&S, &c) == NULL, "a QP without a remote QPN from the QP dump: nothing");
	kqp(0x15, QPT_SRC_LIBIAS, QPT_RSRC_LIBIAS);
	c = cm(0x15);
	ok(kcm_target(&S, &c) == NULL, "a QP only registered, not in the kernel's dump: nothing");

	/* A registration that claims another remote end: the kernel's wins. */
	q = kqp(0x16, QPT_SRC_KERNEL | QPT_SRC_LIBIAS, QPT_RSRC_NLQPN | QPT_RSRC_LIBIAS);
	memcpy(q->remote_gid, other, 16);
	q->remote_lid = 5;
	c = cm(0x16);
	ok(kcm_target(&S, &c) == q, "a registered kernel QP is a target");
	S.stats.kernel_conflicts = 0;
	is_int(kcm_apply(&S, q, &c, gid, "test"), 1, "the kernel's address replaces the claim");
	ok(memcmp(q->remote_gid, gid, 16) == 0 && q->remote_lid == 0 &&
	   !(q->remote_src & QPT_RSRC_LIBIAS) && (q->remote_src & QPT_RSRC_CM),
	   "claim dropped, kernel-cm recorded");
	is_int(S.stats.kernel_conflicts, 1, "the contradiction is counted");

	/* A registration that agrees keeps its mark beside the kernel's. */
	q = kqp(0x17, QPT_SRC_KERNEL | QPT_SRC_LIBIAS, QPT_RSRC_NLQPN | QPT_RSRC_LIBIAS);
	memcpy(q->remote_gid, gid, 16);
	c = cm(0x17);
	kcm_apply(&S, q, &c, gid, "test");
	ok((q->remote_src & (QPT_RSRC_LIBIAS | QPT_RSRC_CM)) == (QPT_RSRC_LIBIAS | QPT_RSRC_CM) &&
	   S.stats.kernel_conflicts == 1, "an agreeing registration: both marks, no conflict");

	/* An eBPF observation that differs is kept. */
	q = kqp(0x18, QPT_SRC_KERNEL, QPT_RSRC_NLQPN | QPT_RSRC_KOBS);
	memcpy(q->remote_gid, other, 16);
	c = cm(0x18);
	is_int(kcm_apply(&S, q, &c, gid, "test"), 0, "a differing eBPF observation is kept");
	ok(memcmp(q->remote_gid, other, 16) == 0 && !(q->remote_src & QPT_RSRC_CM),
	   "observation unchanged");
	q = kqp(0x19, QPT_SRC_KERNEL, QPT_RSRC_NLQPN | QPT_RSRC_KOBS);
	memcpy(q->remote_gid, gid, 16);
	c = cm(0x19);
	is_int(kcm_apply(&S, q, &c, gid, "test"), 1, "an agreeing observation: rdma_cm recorded too");

	/* UC has one remote end too. */
	kqp(0x1a, QPT_SRC_KERNEL, QPT_RSRC_NLQPN);
	c = cm(0x1a);
	c.qp_type = 3;
	ok(kcm_target(&S, &c) != NULL, "a UC cm_id is a target");

	qpt_free(&S.qps);
	return tap_done();
}
