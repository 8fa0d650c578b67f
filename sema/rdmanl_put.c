/* sema/rdmanl: writers of RDMA_NLDEV_CMD_GET and RES_QP_GET dump messages
 * in the form the kernel sends them, for test fixtures and the fuzz
 * harness's round trip (see rdmanl.h). They write our own buffers only. */
#include "sema/rdmanl.h"

#include <errno.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <rdma/rdma_netlink.h>

int ias_rdmanl_put_dev(void *buf, size_t cap, size_t *len, uint32_t seq,
		       const struct ias_kdev *dev)
{
	struct nlmsghdr *nlh;

	if (strnlen(dev->name, sizeof(dev->name)) == sizeof(dev->name))
		return -EINVAL;
	if (*len > cap || cap - *len < MNL_NLMSG_HDRLEN + 2 * MNL_ATTR_HDRLEN + 4 + 64)
		return -ENOSPC;
	nlh = mnl_nlmsg_put_header((char *)buf + *len);
	nlh->nlmsg_type = RDMA_NL_GET_TYPE(RDMA_NL_NLDEV, RDMA_NLDEV_CMD_GET);
	nlh->nlmsg_flags = NLM_F_MULTI;
	nlh->nlmsg_seq = seq;
	mnl_attr_put_u32(nlh, RDMA_NLDEV_ATTR_DEV_INDEX, dev->index);
	mnl_attr_put_strz(nlh, RDMA_NLDEV_ATTR_DEV_NAME, dev->name);
	*len += MNL_ALIGN(nlh->nlmsg_len);
	return 0;
}

/* Room for one message with one QP entry, names at their longest. */
#define QP_MSG_MAX (MNL_NLMSG_HDRLEN + 2 * MNL_ATTR_HDRLEN + 8 + 64 + \
		    13 * MNL_ATTR_HDRLEN + 9 * 4 + 2 * 4 + 32)

int ias_rdmanl_put_qp(void *buf, size_t cap, size_t *len, uint32_t seq,
		      const struct ias_kqp *qp)
{
	struct nlattr *table, *entry;
	struct nlmsghdr *nlh;
	char *at = (char *)buf + *len;

	if ((qp->has_pid && qp->kern_name[0]) ||
	    strnlen(qp->dev_name, sizeof(qp->dev_name)) == sizeof(qp->dev_name) ||
	    strnlen(qp->kern_name, sizeof(qp->kern_name)) == sizeof(qp->kern_name))
		return -EINVAL;
	if (*len > cap || cap - *len < QP_MSG_MAX)
		return -ENOSPC;
	nlh = mnl_nlmsg_put_header(at);
	nlh->nlmsg_type = RDMA_NL_GET_TYPE(RDMA_NL_NLDEV, RDMA_NLDEV_CMD_RES_QP_GET);
	nlh->nlmsg_flags = NLM_F_MULTI;
	nlh->nlmsg_seq = seq;
	mnl_attr_put_u32(nlh, RDMA_NLDEV_ATTR_DEV_INDEX, qp->dev_index);
	mnl_attr_put_strz(nlh, RDMA_NLDEV_ATTR_DEV_NAME, qp->dev_name);
	table = mnl_attr_nest_start(nlh, RDMA_NLDEV_ATTR_RES_QP);
	entry = mnl_attr_nest_start(nlh, RDMA_NLDEV_ATTR_RES_QP_ENTRY);
	if (qp->port)
		mnl_attr_put_u32(nlh, RDMA_NLDEV_ATTR_PORT_INDEX, qp->port);
	mnl_attr_put_u32(nlh, RDMA_NLDEV_ATTR_RES_LQPN, qp->lqpn);
	if (qp->has_rqpn)
		mnl_attr_put_u32(nlh, RDMA_NLDEV_ATTR_RES_RQPN, qp->rqpn);
	if (qp->has_rq_psn)
		mnl_attr_put_u32(nlh, RDMA_NLDEV_ATTR_RES_RQ_PSN, qp->rq_psn);
	mnl_attr_put_u32(nlh, RDMA_NLDEV_ATTR_RES_SQ_PSN, qp->sq_psn);
	mnl_attr_put_u8(nlh, RDMA_NLDEV_ATTR_RES_TYPE, qp->type);
	mnl_attr_put_u8(nlh, RDMA_NLDEV_ATTR_RES_STATE, qp->state);
	if (qp->has_pid)
		mnl_attr_put_u32(nlh, RDMA_NLDEV_ATTR_RES_PID, qp->pid);
	if (qp->kern_name[0])
		mnl_attr_put_strz(nlh, RDMA_NLDEV_ATTR_RES_KERN_NAME, qp->kern_name);
	if (qp->pdn)
		mnl_attr_put_u32(nlh, RDMA_NLDEV_ATTR_RES_PDN, qp->pdn);
	mnl_attr_nest_end(nlh, entry);
	mnl_attr_nest_end(nlh, table);
	*len += MNL_ALIGN(nlh->nlmsg_len);
	return 0;
}

int ias_rdmanl_put_done(void *buf, size_t cap, size_t *len, uint32_t seq)
{
	struct nlmsghdr *nlh;
	int zero = 0;

	if (*len > cap || cap - *len < MNL_NLMSG_HDRLEN + sizeof(zero))
		return -ENOSPC;
	nlh = mnl_nlmsg_put_header((char *)buf + *len);
	nlh->nlmsg_type = NLMSG_DONE;
	nlh->nlmsg_flags = NLM_F_MULTI;
	nlh->nlmsg_seq = seq;
	memcpy(mnl_nlmsg_put_extra_header(nlh, sizeof(zero)), &zero, sizeof(zero));
	*len += nlh->nlmsg_len;
	return 0;
}
