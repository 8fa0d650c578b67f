/* Shared by the agent's control handlers (ctl_ops.c, ctl_qp.c, ctl_view.c). */
#ifndef IAS_SEMA_CTL_OPS_INT_H
#define IAS_SEMA_CTL_OPS_INT_H

#include <stddef.h>

#include "ctl/proto.h"
#include "ctl/server.h"
#include "sema/sema.h"
#include "sema/store.h"

void ctl_put_block(struct ias_ctl_msg *m, const struct ias_block_rec *b);
void ctl_put_policy(struct ias_ctl_msg *m, const struct ias_policy *p);
/* A string attribute into out, or an INVAL reply. 0 or the error status. */
int ctl_get_str(struct ctlsrv_req *x, const struct ias_ctl_attr *a, char *out, size_t len);

/* ctl_qp.c */
int op_qp_register(struct ctlsrv_req *x);
int op_qp_update(struct ctlsrv_req *x);
int op_qp_unregister(struct ctlsrv_req *x);
int op_qps_list(struct ctlsrv_req *x);
/* ctl_report.c */
int op_report_qp(struct ctlsrv_req *x);
/* ctl_view.c */
int op_blocks_list(struct ctlsrv_req *x);
int op_block_inspect(struct ctlsrv_req *x);
int op_incidents_list(struct ctlsrv_req *x);
int op_incident_show(struct ctlsrv_req *x);
int op_allow_list(struct ctlsrv_req *x);
int op_allow_add(struct ctlsrv_req *x);
int op_allow_remove(struct ctlsrv_req *x);
int op_policy_show(struct ctlsrv_req *x);
int op_policy_set(struct ctlsrv_req *x);

#endif
