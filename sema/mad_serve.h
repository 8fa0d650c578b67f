/* What the agent answers over the fabric: the handlers of the MAD port's
 * table (sema/mad_port.h), one per SecMgt attribute the agent serves.
 * main.c puts them in the table; each takes the agent (struct sema *) as its
 * context. This module sits above the MAD port, trace, report and the
 * store. */
#ifndef IAS_SEMA_MAD_SERVE_H
#define IAS_SEMA_MAD_SERVE_H

#include <stdint.h>

#include "sema/mad_port.h"

/* Get(ClassPortInfo): the agent's role, version, capabilities, GUID, name. */
uint16_t mad_serve_port_info(void *ctx, const struct ias_secmgt_msg *req,
			     const struct mad_dest *from, struct ias_secmgt_msg *resp);
/* Get(Status): block, QP and incident counts. */
uint16_t mad_serve_status(void *ctx, const struct ias_secmgt_msg *req,
			  const struct mad_dest *from, struct ias_secmgt_msg *resp);
/* Get(Policy) / Set(Policy): the policy; a Set is checked, stored, and
 * teaches the agent the manager's LID. */
uint16_t mad_serve_policy(void *ctx, const struct ias_secmgt_msg *req,
			  const struct mad_dest *from, struct ias_secmgt_msg *resp);
/* Set(Trace): trace.c's trace_handle; answered with a TraceResult. */
uint16_t mad_serve_trace(void *ctx, const struct ias_secmgt_msg *req,
			 const struct mad_dest *from, struct ias_secmgt_msg *resp);
/* Get(Report, seq): report.c's report_serve_get. */
uint16_t mad_serve_report(void *ctx, const struct ias_secmgt_msg *req,
			  const struct mad_dest *from, struct ias_secmgt_msg *resp);

/* Get(Mirror): mirror.c's mirror_serve. */
uint16_t mad_serve_mirror(void *ctx, const struct ias_secmgt_msg *req,
			  const struct mad_dest *from, struct ias_secmgt_msg *resp);
/* Set(AgentList): one segment of the manager's agent list (roster.c). */
uint16_t mad_serve_agent_list(void *ctx, const struct ias_secmgt_msg *req,
			      const struct mad_dest *from, struct ias_secmgt_msg *resp);

#endif
