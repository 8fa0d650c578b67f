/* Reports from agents (SecMgt Report, served on the manager's serving
 * handle): verified, stored exactly once, then acknowledged. A report not
 * stored is not acknowledged: the agent sends it again. */
#include <string.h>

#include "common/log.h"
#include "mad_defs/secmgt.h"
#include "sem/madint.h"

/* The status to answer req with; the acknowledged report in resp. 0 when
 * the report could not be stored (no answer at all). */
static int take_report(struct sem_mad *m, uint16_t lid, const struct ias_secmgt_msg *req,
		       struct ias_secmgt_msg *resp)
{
	struct sem *s = m->s;
	struct sem_node *n = sem_view_by_lid(&s->view, lid);
	struct ias_attr_report rep = req->u.report;
	int r;

	rep.node_guid = sem_node_identity(n, rep.node_guid);
	if (n && n->rec.guid != rep.node_guid) {
		log_warn("Report from LID %u (%s) names node 0x%016llx: refused", lid, n->rec.name,
			 (unsigned long long)req->u.report.node_guid);
		resp->status = IAS_STATUS_REFUSED;
		return 1;
	}
	r = sem_view_report(&s->view, &rep, sem_now_ms());
	if (r < 0) {
		log_err("storing a report: %s", semstore_errmsg(s->store));
		return 0;
	}
	log_debug("report %llu of 0x%016llx: %s", (unsigned long long)rep.seq,
		  (unsigned long long)rep.node_guid, r ? "new" : "duplicate");
	resp->u.report = req->u.report;
	return 1;
}

void sem_intake_request(struct sem_mad *m, const struct ias_umad_rx *rx)
{
	struct ias_secmgt_msg req, resp;
	enum ias_mad_reason why;
	uint8_t out[IAS_MAD_SIZE];

	why = ias_secmgt_decode(rx->mad, rx->len, &m->auth.kr, m->auth.rp, (uint64_t)sem_now_ms(), &req);
	if (why != IAS_MAD_OK) {
		ias_umad_refused(m->u, ias_mad_reason_str(why), rx->lid);
		return;
	}
	if (ias_secmgt_init_response(&req, req.attr_id, &resp))
		return;
	if (req.method != IAS_METHOD_REPORT)
		resp.status = IAS_STATUS_WRONG_ROLE;
	else if (!take_report(m, rx->lid, &req, &resp))
		return;
	memset(out, 0, sizeof(out));
	if (ias_secmgt_encode(&resp, &m->auth.kr, (uint64_t)sem_now_ms(), out))
		return;
	ias_umad_reply(m->u, rx, out);
	sem_probe_drive(m);	/* a gap may need fetching */
}
