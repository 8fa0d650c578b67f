/* See mad_serve.h. */
#include <stdio.h>

#include "common/log.h"
#include "mad_defs/policy.h"
#include "mad_defs/secmgt.h"
#include "sema/engine.h"
#include "sema/mad_serve.h"
#include "sema/mirror.h"
#include "sema/policy.h"
#include "sema/report.h"
#include "sema/roster.h"
#include "sema/trace.h"

uint16_t mad_serve_port_info(void *ctx, const struct ias_secmgt_msg *req,
			     const struct mad_dest *from, struct ias_secmgt_msg *resp)
{
	struct sema *s = ctx;

	(void)req;
	(void)from;
	resp->u.cpi.proto_version = IAS_SECMGT_VERSION;
	resp->u.cpi.role = IAS_ROLE_AGENT;
	resp->u.cpi.resp_time_value = 18;	/* ~1 s */
	resp->u.cpi.cap_mask = IAS_CAP_STATUS | IAS_CAP_POLICY;
	resp->u.cpi.node_guid = mad_port_node_guid(s->mad);
	snprintf(resp->u.cpi.node_desc, sizeof(resp->u.cpi.node_desc), "%s", s->cfg.node_name);
	return IAS_STATUS_OK;
}

uint16_t mad_serve_status(void *ctx, const struct ias_secmgt_msg *req,
			  const struct mad_dest *from, struct ias_secmgt_msg *resp)
{
	struct sema *s = ctx;
	struct engine_counts n;

	(void)req;
	(void)from;
	if (engine_counts(s, &n) < 0)
		return IAS_STATUS_INTERNAL;
	resp->u.status.node_guid = mad_port_node_guid(s->mad);
	resp->u.status.uptime_s = (uint64_t)(sema_now_ms() - s->started_ms) / 1000;
	resp->u.status.active_blocks = n.blocks_active;
	resp->u.status.total_blocks = n.blocks_total;
	resp->u.status.policy_version = s->policy.version;
	resp->u.status.qps_known = (uint32_t)s->qps.n;
	resp->u.status.qps_blocked = (uint32_t)qpt_count_blocked(&s->qps);
	resp->u.status.incidents = n.incidents;
	resp->u.status.mads_rejected = s->stats.mads_rejected;
	return IAS_STATUS_OK;
}

uint16_t mad_serve_policy(void *ctx, const struct ias_secmgt_msg *req,
			  const struct mad_dest *from, struct ias_secmgt_msg *resp)
{
	struct sema *s = ctx;

	if (req->method == IAS_METHOD_SET) {
		struct ias_policy np;
		char why[128];

		ias_policy_from_attr(&req->u.policy, &np);
		if (ias_policy_check(&np, why, sizeof(why))) {
			log_warn("Set(Policy) refused: %s", why);
			return IAS_STATUS_INVALID_VALUE;
		}
		if (policy_save(s, &np) < 0)
			return IAS_STATUS_INTERNAL;
		s->policy = np;
		log_notice("policy version %u set over the fabric", np.version);
		report_manager_seen(s, from->lid);
	}
	if (ias_policy_to_attr(&s->policy, &resp->u.policy))
		return IAS_STATUS_INTERNAL;	/* "until released": not on the wire */
	return IAS_STATUS_OK;
}

uint16_t mad_serve_trace(void *ctx, const struct ias_secmgt_msg *req,
			 const struct mad_dest *from, struct ias_secmgt_msg *resp)
{
	return trace_handle(ctx, req, from, &resp->u.tres);
}

uint16_t mad_serve_report(void *ctx, const struct ias_secmgt_msg *req,
			  const struct mad_dest *from, struct ias_secmgt_msg *resp)
{
	(void)from;
	return report_serve_get(ctx, req->attr_mod, &resp->u.report);
}

uint16_t mad_serve_mirror(void *ctx, const struct ias_secmgt_msg *req,
			  const struct mad_dest *from, struct ias_secmgt_msg *resp)
{
	return mirror_serve(ctx, &req->u.mirq, from, &resp->u.mira);
}

uint16_t mad_serve_agent_list(void *ctx, const struct ias_secmgt_msg *req,
			      const struct mad_dest *from, struct ias_secmgt_msg *resp)
{
	uint16_t st = roster_take_segment(ctx, &req->u.alist, from);

	resp->u.alist = req->u.alist;	/* the echo */
	return st;
}
