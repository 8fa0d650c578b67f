/* The control socket's REPORT_QP (report by QP, the victim's side): a local
 * QP is under attack from its remote end. The local process is the victim
 * and is not blocked; an incident is opened and the trace goes to the QP's
 * remote end (sema/trace.h trace_report_qp), whose agent blocks the owner
 * and traces on. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "ctl/proto.h"
#include "ctl/server.h"
#include "sema/ctl_ops_int.h"
#include "sema/engine.h"
#include "sema/procinfo.h"
#include "sema/trace.h"
#include "sema/uow.h"

/* The incident, its "victim" event and the audit row, in the open unit. */
static int open_incident(struct sema *s, const struct qpt_entry *q, const char *reason,
			 const char *actor, char *id, size_t idlen)
{
	struct ias_incident_rec inc;
	struct ias_incident_event ev;
	struct proc_info pi;
	char detail[512];
	int64_t now = sema_now_ms();

	if (engine_new_incident_id(s, id, idlen) < 0)
		return -EIO;
	memset(&inc, 0, sizeof(inc));
	snprintf(inc.id, sizeof(inc.id), "%s", id);
	snprintf(inc.origin, sizeof(inc.origin), "report-qp");
	snprintf(inc.node, sizeof(inc.node), "%s", s->cfg.node_name);
	inc.opened_ms = now;
	snprintf(inc.reason, sizeof(inc.reason), "%s", reason);
	snprintf(inc.state, sizeof(inc.state), "open");
	memset(&ev, 0, sizeof(ev));
	snprintf(ev.incident, sizeof(ev.incident), "%s", id);
	ev.ts_us = sema_now_us();
	ev.ts_ms = ev.ts_us / 1000;
	snprintf(ev.node, sizeof(ev.node), "%s", s->cfg.node_name);
	ev.pid = q->pid;
	ev.qpn = q->qpn;
	snprintf(ev.kind, sizeof(ev.kind), "victim");
	if (q->pid <= 0 || proc_info_get(q->pid, &pi) < 0)
		snprintf(pi.comm, sizeof(pi.comm), "?");
	snprintf(ev.text, sizeof(ev.text), "qp %s/0x%x of PID %d (%s) is under attack from its "
		 "remote end: %s; the victim is not blocked", q->device, q->qpn, (int)q->pid,
		 pi.comm, reason);
	snprintf(detail, sizeof(detail), "incident %s qp %s/0x%x pid %d: %s", id, q->device,
		 q->qpn, (int)q->pid, reason);
	if (ias_store_incident_add(s->store, &inc) < 0 ||
	    ias_store_incident_event_add(s->store, &ev) < 0 ||
	    ias_store_audit(s->store, now, actor, "report-qp", detail) < 0)
		return -EIO;
	return 0;
}

int op_report_qp(struct ctlsrv_req *x)
{
	struct sema *s = x->ctx;
	char device[IAS_CTL_DEVICE_MAX + 1] = "", reason[IAS_CTL_REASON_MAX + 1] = "";
	char id[IAS_CTL_INCIDENT_ID_MAX + 1], where[256], err[320];
	struct ias_ctl_attr a;
	struct qpt_entry *q;
	struct sema_uow u;
	uint32_t qpn = 0;
	int r;

	while (ias_ctl_next(&x->attrs, &a) > 0) {
		if (a.type == IAS_CTL_A_QPN)
			ias_ctl_get_u32(&a, &qpn);
		else if (a.type == IAS_CTL_A_DEVICE && ctl_get_str(x, &a, device, sizeof(device)))
			return IAS_CTL_E_INVAL;
		else if (a.type == IAS_CTL_A_REASON && ctl_get_str(x, &a, reason, sizeof(reason)))
			return IAS_CTL_E_INVAL;
	}
	if (!device[0] || qpn == 0 || qpn > 0xffffff)
		return ctlsrv_fail(x, IAS_CTL_E_INVAL, "a device and a 24-bit QPN are required");
	/* The kernel's current view of this QP first (owner, remote QPN). */
	if (s->kernel_rdma || !qpt_find(&s->qps, device, qpn))
		engine_kernel_lookup(s, device, qpn);
	q = qpt_find(&s->qps, device, qpn);
	if (!q)
		return ctlsrv_fail(x, IAS_CTL_E_NOENT, "no QP %s:0x%x is known on this node",
				   device, qpn);
	if (!reason[0])
		snprintf(reason, sizeof(reason), "attacked through qp %s:0x%x", device, qpn);
	if (uow_begin(s, &u, err, sizeof(err)) < 0)
		return ctlsrv_fail(x, IAS_CTL_E_INTERNAL, "not recorded, nothing sent: %s", err);
	if (open_incident(s, q, reason, x->actor, id, sizeof(id)) < 0) {
		uow_abort(&u);
		return ctlsrv_fail(x, IAS_CTL_E_INTERNAL, "store: %s", ias_store_errmsg(s->store));
	}
	r = trace_report_qp(s, id, q, 0, where, sizeof(where));
	if (r == -ENOTCONN) {
		uow_abort(&u);
		return ctlsrv_fail(x, IAS_CTL_E_NOENT, "QP %s:0x%x has no remote end (%s, %s)",
				   device, qpn, qpt_type_str(q->type), qpt_state_str(q->state));
	}
	if (r < 0) {
		uow_abort(&u);
		return ctlsrv_fail(x, IAS_CTL_E_INTERNAL, "%s", strerror(-r));
	}
	uow_kick(&u);
	if (uow_commit(&u, err, sizeof(err)) < 0) {
		log_err("report by qp %s:0x%x: %s", device, qpn, err);
		return ctlsrv_fail(x, IAS_CTL_E_INTERNAL, "%s", err);
	}
	log_notice("incident %s: qp %s:0x%x of PID %d reported under attack by %s: %s", id,
		   device, qpn, (int)q->pid, x->actor, where);
	ias_ctl_put_str(x->rep, IAS_CTL_A_INCIDENT_ID, id);
	ias_ctl_put_u32(x->rep, IAS_CTL_A_PID, (uint32_t)(q->pid > 0 ? q->pid : 0));
	ias_ctl_put_str(x->rep, IAS_CTL_A_TRACE_WHERE, where);
	return 0;
}
