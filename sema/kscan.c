/* The kernel's view of QP ownership (rdma netlink): the periodic scan and
 * one-QP look-ups. */
#include <errno.h>
#include <string.h>

#include "common/log.h"
#include "sema/engine_int.h"
#include "sema/kcm.h"
#include "sema/kobsfeed.h"
#include "sema/rdmanl.h"

static int kqp_cb(const struct ias_kqp *k, void *arg)
{
	struct sema *s = arg;
	struct qpt_entry *q;

	if (!k->has_pid)
		return 0;	/* kernel-owned QP (GSI/SMI of the MAD layer) */
	q = qpt_upsert(&s->qps, k->dev_name, k->lqpn);
	if (!q)
		return -ENOMEM;
	if ((q->sources & QPT_SRC_LIBIAS) && q->pid && q->pid != (pid_t)k->pid) {
		s->stats.kernel_conflicts++;
		log_warn("QP %s/0x%x: registered by PID %d but the kernel says PID %u; "
			 "keeping the kernel's", k->dev_name, k->lqpn, (int)q->pid, k->pid);
	}
	q->pid = (pid_t)k->pid;
	q->type = k->type;
	q->state = k->state;
	q->port = k->port;
	if (k->has_rqpn && k->rqpn == 0) {
		/* RC/UC before RTR: not connected yet, which contradicts
		 * nothing a registration says. */
		q->remote_src &= ~QPT_RSRC_NLQPN;
	} else if (k->has_rqpn) {
		if (q->has_remote && q->remote_qpn != k->rqpn) {
			/* The kernel's remote QPN wins; an address claimed with
			 * the other QPN is dropped with it. */
			if (q->remote_src & QPT_RSRC_LIBIAS)
				log_warn("QP %s/0x%x: registered remote QP 0x%x but the kernel says "
					 "0x%x; keeping the kernel's", k->dev_name, k->lqpn,
					 q->remote_qpn, k->rqpn);
			q->remote_lid = 0;
			memset(q->remote_gid, 0, sizeof(q->remote_gid));
			q->remote_src = 0;
		}
		q->remote_qpn = k->rqpn;
		q->has_remote = 1;
		q->remote_src |= QPT_RSRC_NLQPN;
	}
	/* The destination's address: ib_core's own record (eBPF), if open. */
	kobsfeed_apply(s, q);
	if (!(q->sources & QPT_SRC_KERNEL) && !q->kernel_seen)
		engine_qp_appeared(s, q);
	q->sources |= QPT_SRC_KERNEL;
	q->kernel_seen = 1;
	return 0;
}

int engine_kernel_scan(struct sema *s)
{
	int r;

	kobsfeed_retry(s);
	qpt_kernel_begin(&s->qps);
	r = ias_rdmanl_dump_qps(kqp_cb, s);
	if (r < 0) {
		if (s->kernel_rdma)
			log_info("rdma netlink no longer answers: %s", strerror(-r));
		s->kernel_rdma = 0;
		/* Keep what we knew: a failed read is not the kernel saying
		 * the QPs are gone. */
		return r;
	}
	if (!s->kernel_rdma)
		log_info("reading QP ownership from the kernel (rdma netlink)");
	s->kernel_rdma = 1;
	engine_kernel_cm(s);	/* rdma_cm connections: remote addresses (kcm.c) */
	qpt_kernel_sweep(&s->qps);
	return 0;
}

/* Kept-open rdma netlink handle for one-QP look-ups (registrations). */
static struct ias_rdmanl *knl;

int engine_kernel_lookup(struct sema *s, const char *device, uint32_t qpn)
{
	struct ias_kqp k;
	struct qpt_entry *q;
	int r;

	if (!knl && (r = ias_rdmanl_open(&knl)) < 0)
		return engine_kernel_scan(s) < 0 ? r : 0;
	r = ias_rdmanl_find_qp(knl, device, qpn, &k);
	if (r < 0 && r != -ENODEV) {
		/* Anything but a clear answer: the full scan decides, as
		 * before (and records that the kernel no longer answers). */
		log_debug("QP %s/0x%x: look-up failed (%s); full scan", device, qpn, strerror(-r));
		return engine_kernel_scan(s);
	}
	if (!s->kernel_rdma)
		log_info("reading QP ownership from the kernel (rdma netlink)");
	s->kernel_rdma = 1;
	if (r == 1 && k.has_pid) {
		r = kqp_cb(&k, s);
		return r < 0 ? r : 0;
	}
	/* The kernel reports no such QP of a process: forget an older view. */
	q = qpt_find(&s->qps, device, qpn);
	if (q && (q->sources & QPT_SRC_KERNEL)) {
		q->sources &= ~QPT_SRC_KERNEL;
		q->kernel_seen = 0;
		if (!q->sources)
			qpt_remove(&s->qps, device, qpn);
	}
	return 0;
}
