/* rdma_cm identifiers from the kernel's resource tracker, the neighbour
 * table, and the remote port's GID they give (rdmanl_cm.h).
 *
 * The netlink framing (messages within the buffer, sequence and sender,
 * NLMSG_DONE/ERROR, interrupted dumps) and the strict attribute walk are
 * rdmanl.c's, through rdmanl_int.h; this file decodes the cm_id entries and
 * the neighbour messages. Addresses and the neighbour message header are
 * read field by field through the cursor. */
#include "sema/rdmanl_cm.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "common/cursor.h"
#include "sema/rdmanl_int.h"

#ifndef AF_IB
#define AF_IB 27
#endif

#define CM_MSG_TYPE RDMA_NL_GET_TYPE(RDMA_NL_NLDEV, RDMA_NLDEV_CMD_RES_CM_ID_GET)
#define NDMSG_SIZE 12           /* struct ndmsg */
#define NEIGH_RECV_SIZE 32768
#define NEIGH_TIMEOUT_SEC 5

_Static_assert(sizeof(((struct ias_kcm *)0)->dev_name) == 64, "IB_DEVICE_NAME_MAX");
_Static_assert(sizeof(((struct ias_kcm *)0)->kern_name) == sizeof(((struct ias_kqp *)0)->kern_name),
	       "kernel names as in rdmanl.h");

/* ---- cm_id entries ------------------------------------------------------ */

/* The cm_id attributes rdmanl.c's check does not know. */
static int validate_cm(const struct ias_rnl_tb *t)
{
	static const struct {
		uint16_t type;
		enum mnl_attr_data_type dt;
	} types[] = {
		{ RDMA_NLDEV_ATTR_RES_PS, MNL_TYPE_U32 },
		{ RDMA_NLDEV_ATTR_RES_CM_IDN, MNL_TYPE_U32 },
		{ RDMA_NLDEV_ATTR_RES_CM_ID, MNL_TYPE_NESTED },
	};
	size_t i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		const struct nlattr *a = t->a[types[i].type];

		if (a && mnl_attr_validate(a, types[i].dt) < 0)
			return -EBADMSG;
	}
	return ias_rnl_validate(t);
}

/* A struct __kernel_sockaddr_storage: the family (host order), then its
 * fields: sockaddr_in (port, address), sockaddr_in6 (port, flow info,
 * address), sockaddr_ib (P_Key, flow info, GID). */
static int decode_addr(const struct nlattr *a, struct ias_kcm_addr *out)
{
	struct ias_rd r;
	int e = 0;

	memset(out, 0, sizeof(*out));
	if (mnl_attr_get_payload_len(a) != IAS_KCM_SS_SIZE)
		return -EBADMSG;
	ias_rd_init(&r, mnl_attr_get_payload(a), IAS_KCM_SS_SIZE);
	e |= ias_rd_bytes(&r, &out->family, sizeof(out->family));
	if (e || out->family == 0)
		return -EBADMSG;
	switch (out->family) {
	case AF_INET:
		e |= ias_rd_u16(&r, &out->port);
		e |= ias_rd_bytes(&r, out->addr, 4);
		break;
	case AF_INET6:
		e |= ias_rd_u16(&r, &out->port);
		e |= ias_rd_skip(&r, 4);
		e |= ias_rd_bytes(&r, out->addr, 16);
		break;
	case AF_IB:
		e |= ias_rd_skip(&r, 2 + 4);
		e |= ias_rd_bytes(&r, out->addr, 16);
		break;
	default:
		break;  /* a family we do not read: kept, no address */
	}
	return e ? -EBADMSG : 0;
}

static int decode_cm(const struct nlattr *entry, struct ias_kcm *c)
{
	struct ias_rnl_tb t;
	int r;

	if ((r = ias_rnl_collect_nest(entry, &t)) != 0 || (r = validate_cm(&t)) != 0)
		return r;
	if (!t.a[RDMA_NLDEV_ATTR_RES_PS] || !t.a[RDMA_NLDEV_ATTR_RES_STATE] ||
	    !t.a[RDMA_NLDEV_ATTR_RES_LQPN] != !t.a[RDMA_NLDEV_ATTR_RES_TYPE] ||
	    (t.a[RDMA_NLDEV_ATTR_RES_PID] && t.a[RDMA_NLDEV_ATTR_RES_KERN_NAME]))
		return -EBADMSG;
	c->ps = mnl_attr_get_u32(t.a[RDMA_NLDEV_ATTR_RES_PS]);
	c->state = mnl_attr_get_u8(t.a[RDMA_NLDEV_ATTR_RES_STATE]);
	if (t.a[RDMA_NLDEV_ATTR_PORT_INDEX])
		c->port = mnl_attr_get_u32(t.a[RDMA_NLDEV_ATTR_PORT_INDEX]);
	if (t.a[RDMA_NLDEV_ATTR_RES_LQPN]) {
		c->lqpn = mnl_attr_get_u32(t.a[RDMA_NLDEV_ATTR_RES_LQPN]);
		c->qp_type = mnl_attr_get_u8(t.a[RDMA_NLDEV_ATTR_RES_TYPE]);
		c->has_lqpn = 1;
	}
	if (t.a[RDMA_NLDEV_ATTR_RES_PID]) {
		c->pid = mnl_attr_get_u32(t.a[RDMA_NLDEV_ATTR_RES_PID]);
		c->has_pid = 1;
	}
	if (t.a[RDMA_NLDEV_ATTR_RES_KERN_NAME])
		ias_rnl_copy_str(c->kern_name, sizeof(c->kern_name),
				 t.a[RDMA_NLDEV_ATTR_RES_KERN_NAME], 0);
	if (t.a[RDMA_NLDEV_ATTR_RES_CM_IDN]) {
		c->cm_idn = mnl_attr_get_u32(t.a[RDMA_NLDEV_ATTR_RES_CM_IDN]);
		c->has_cm_idn = 1;
	}
	if (t.a[RDMA_NLDEV_ATTR_RES_SRC_ADDR] &&
	    (r = decode_addr(t.a[RDMA_NLDEV_ATTR_RES_SRC_ADDR], &c->src)) != 0)
		return r;
	if (t.a[RDMA_NLDEV_ATTR_RES_DST_ADDR] &&
	    (r = decode_addr(t.a[RDMA_NLDEV_ATTR_RES_DST_ADDR], &c->dst)) != 0)
		return r;
	return 0;
}

struct cm_walk {
	ias_kcm_cb cb;
	void *arg;
	/* one message's table */
	struct ias_rnl_area ar;
	const struct ias_kcm *dev;
	int deliver;
	int res;
};

static int cm_entry_cb(const struct nlattr *e, void *data)
{
	struct cm_walk *x = data;
	struct ias_kcm c = *x->dev;
	int r;

	if (ias_rnl_take_attr(&x->ar, e) || mnl_attr_get_type(e) != RDMA_NLDEV_ATTR_RES_CM_ID_ENTRY)
		r = -EBADMSG;
	else
		r = decode_cm(e, &c);
	if (r == 0 && x->deliver && (r = x->cb(&c, x->arg)) > 0)
		r = IAS_RDMANL_STOPPED;
	if (r == 0)
		return MNL_CB_OK;
	x->res = r;
	return r > 0 ? MNL_CB_STOP : MNL_CB_ERROR;
}

/* One RES_CM_ID_GET message: the device, then a table of cm_id entries,
 * all checked before the first callback. */
static int cm_msg(const struct nlmsghdr *nlh, void *arg)
{
	struct cm_walk *x = arg;
	const struct nlattr *tab;
	struct ias_kcm dev;
	struct ias_kqp d;
	struct ias_rnl_tb t;
	int r;

	memset(&d, 0, sizeof(d));
	if ((r = ias_rnl_collect_msg(nlh, &t)) != 0 || (r = validate_cm(&t)) != 0 ||
	    (r = ias_rnl_decode_dev(&t, &d)) != 0)
		return r;
	memset(&dev, 0, sizeof(dev));
	dev.dev_index = d.dev_index;
	memcpy(dev.dev_name, d.dev_name, sizeof(dev.dev_name));
	tab = t.a[RDMA_NLDEV_ATTR_RES_CM_ID];
	if (!tab)
		return 0;
	for (x->deliver = 0; x->deliver < 2; x->deliver++) {
		ias_rnl_area_of_nest(&x->ar, tab);
		x->dev = &dev;
		x->res = 0;
		if (mnl_attr_parse_nested(tab, cm_entry_cb, x) < 0 || x->res)
			return x->res ? x->res : -EBADMSG;
		if ((r = ias_rnl_area_done(&x->ar)) != 0)
			return r;
	}
	return 0;
}

int ias_rdmanl_parse_cm(const void *buf, size_t len, ias_kcm_cb cb, void *arg)
{
	struct cm_walk x = { .cb = cb, .arg = arg };

	if (!cb)
		return -EINVAL;
	return ias_rnl_parse(buf, len, CM_MSG_TYPE, 0, 0, cm_msg, &x);
}

int ias_rdmanl_dump_cm_ids(ias_kcm_cb cb, void *arg)
{
	struct cm_walk x = { .cb = cb, .arg = arg };

	if (!cb)
		return -EINVAL;
	return ias_rnl_dump(RDMA_NLDEV_CMD_RES_CM_ID_GET, cm_msg, &x);
}

static void put_addr(struct nlmsghdr *nlh, uint16_t type, const struct ias_kcm_addr *a)
{
	uint8_t ss[IAS_KCM_SS_SIZE] = { 0 };
	struct ias_wr w;

	ias_wr_init(&w, ss, sizeof(ss));
	ias_wr_bytes(&w, &a->family, sizeof(a->family));
	if (a->family == AF_INET) {
		ias_wr_u16(&w, a->port);
		ias_wr_bytes(&w, a->addr, 4);
	} else if (a->family == AF_INET6) {
		ias_wr_u16(&w, a->port);
		ias_wr_zero(&w, 4);
		ias_wr_bytes(&w, a->addr, 16);
	} else if (a->family == AF_IB) {
		ias_wr_zero(&w, 2 + 4);
		ias_wr_bytes(&w, a->addr, 16);
	}
	mnl_attr_put(nlh, type, sizeof(ss), ss);
}

/* Room for one message with one entry, names at their longest. */
#define CM_MSG_MAX (MNL_NLMSG_HDRLEN + 12 * MNL_ATTR_HDRLEN + 6 * 4 + 2 * 4 + 64 + 32 + \
		    2 * IAS_KCM_SS_SIZE)

int ias_rdmanl_put_cm(void *buf, size_t cap, size_t *len, uint32_t seq, const struct ias_kcm *c)
{
	struct nlattr *table, *entry;
	struct nlmsghdr *nlh;

	if ((c->has_pid && c->kern_name[0]) ||
	    strnlen(c->dev_name, sizeof(c->dev_name)) == sizeof(c->dev_name) ||
	    strnlen(c->kern_name, sizeof(c->kern_name)) == sizeof(c->kern_name))
		return -EINVAL;
	if (*len > cap || cap - *len < CM_MSG_MAX)
		return -ENOSPC;
	nlh = mnl_nlmsg_put_header((char *)buf + *len);
	nlh->nlmsg_type = CM_MSG_TYPE;
	nlh->nlmsg_flags = NLM_F_MULTI;
	nlh->nlmsg_seq = seq;
	mnl_attr_put_u32(nlh, RDMA_NLDEV_ATTR_DEV_INDEX, c->dev_index);
	mnl_attr_put_strz(nlh, RDMA_NLDEV_ATTR_DEV_NAME, c->dev_name);
	table = mnl_attr_nest_start(nlh, RDMA_NLDEV_ATTR_RES_CM_ID);
	entry = mnl_attr_nest_start(nlh, RDMA_NLDEV_ATTR_RES_CM_ID_ENTRY);
	if (c->port)
		mnl_attr_put_u32(nlh, RDMA_NLDEV_ATTR_PORT_INDEX, c->port);
	if (c->has_lqpn) {
		mnl_attr_put_u32(nlh, RDMA_NLDEV_ATTR_RES_LQPN, c->lqpn);
		mnl_attr_put_u8(nlh, RDMA_NLDEV_ATTR_RES_TYPE, c->qp_type);
	}
	mnl_attr_put_u32(nlh, RDMA_NLDEV_ATTR_RES_PS, c->ps);
	mnl_attr_put_u8(nlh, RDMA_NLDEV_ATTR_RES_STATE, c->state);
	if (c->src.family)
		put_addr(nlh, RDMA_NLDEV_ATTR_RES_SRC_ADDR, &c->src);
	if (c->dst.family)
		put_addr(nlh, RDMA_NLDEV_ATTR_RES_DST_ADDR, &c->dst);
	if (c->has_cm_idn)
		mnl_attr_put_u32(nlh, RDMA_NLDEV_ATTR_RES_CM_IDN, c->cm_idn);
	if (c->has_pid)
		mnl_attr_put_u32(nlh, RDMA_NLDEV_ATTR_RES_PID, c->pid);
	if (c->kern_name[0])
		mnl_attr_put_strz(nlh, RDMA_NLDEV_ATTR_RES_KERN_NAME, c->kern_name);
	mnl_attr_nest_end(nlh, entry);
	mnl_attr_nest_end(nlh, table);
	*len += MNL_ALIGN(nlh->nlmsg_len);
	return 0;
}

const char *ias_kcm_state_str(uint8_t state)
{
	static const char *const names[] = {
		"IDLE", "ADDR_QUERY", "ADDR_RESOLVED", "ROUTE_QUERY", "ROUTE_RESOLVED",
		"CONNECT", "DISCONNECT", "ADDR_BOUND", "LISTEN", "DEVICE_REMOVAL", "DESTROYING",
	};

	return state < sizeof(names) / sizeof(names[0]) ? names[state] : "UNKNOWN";
}

const char *ias_kcm_ps_str(uint32_t ps)
{
	switch (ps) {
	case 0x0106: return "TCP";
	case 0x0111: return "UDP";
	case 0x013f: return "IB";
	case 0x0002: return "IPOIB";
	default: return "UNKNOWN";
	}
}

/* ---- neighbours --------------------------------------------------------- */

struct nb_walk {
	ias_kneigh_cb cb;
	void *arg;
	struct ias_rnl_area ar;
	const struct nlattr *dst, *ll;
};

static int nb_attr_cb(const struct nlattr *a, void *data)
{
	struct nb_walk *x = data;
	const struct nlattr **slot = NULL;

	if (ias_rnl_take_attr(&x->ar, a))
		return MNL_CB_ERROR;
	if (mnl_attr_get_type(a) == NDA_DST)
		slot = &x->dst;
	else if (mnl_attr_get_type(a) == NDA_LLADDR)
		slot = &x->ll;
	if (!slot)
		return MNL_CB_OK;
	if (*slot)
		return MNL_CB_ERROR;    /* duplicates are never sent */
	*slot = a;
	return MNL_CB_OK;
}

/* One RTM_NEWNEIGH: struct ndmsg (family, two pad bytes, ifindex, state,
 * flags, type; host order), then attributes. */
static int nb_msg(const struct nlmsghdr *nlh, void *arg)
{
	struct nb_walk *x = arg;
	struct ias_kneigh n;
	struct ias_rd r;
	size_t plen = mnl_nlmsg_get_payload_len(nlh), alen;
	int32_t ifindex;
	int e = 0;

	memset(&n, 0, sizeof(n));
	ias_rd_init(&r, mnl_nlmsg_get_payload(nlh), plen);
	e |= ias_rd_u8(&r, &n.family);
	e |= ias_rd_skip(&r, 3);
	e |= ias_rd_bytes(&r, &ifindex, sizeof(ifindex));
	e |= ias_rd_bytes(&r, &n.state, sizeof(n.state));
	e |= ias_rd_skip(&r, 2);
	if (e)
		return -EBADMSG;
	n.ifindex = ifindex;
	x->ar.base = (const char *)mnl_nlmsg_get_payload(nlh) + NDMSG_SIZE;
	x->ar.len = plen - NDMSG_SIZE;
	x->ar.used = 0;
	x->dst = x->ll = NULL;
	if (mnl_attr_parse(nlh, NDMSG_SIZE, nb_attr_cb, x) < 0 || ias_rnl_area_done(&x->ar))
		return -EBADMSG;
	if (n.family != AF_INET && n.family != AF_INET6)
		return 0;
	alen = n.family == AF_INET ? 4 : 16;
	if (!x->dst || mnl_attr_get_payload_len(x->dst) != alen)
		return -EBADMSG;
	memcpy(n.addr, mnl_attr_get_payload(x->dst), alen);
	if (x->ll) {
		if (mnl_attr_get_payload_len(x->ll) > sizeof(n.lladdr))
			return -EBADMSG;
		n.lladdr_len = (uint8_t)mnl_attr_get_payload_len(x->ll);
		memcpy(n.lladdr, mnl_attr_get_payload(x->ll), n.lladdr_len);
	}
	e = x->cb(&n, x->arg);
	return e > 0 ? IAS_RDMANL_STOPPED : e;
}

int ias_neigh_parse(const void *buf, size_t len, ias_kneigh_cb cb, void *arg)
{
	struct nb_walk x = { .cb = cb, .arg = arg };

	if (!cb)
		return -EINVAL;
	return ias_rnl_parse(buf, len, RTM_NEWNEIGH, 0, 0, nb_msg, &x);
}

int ias_neigh_dump(ias_kneigh_cb cb, void *arg)
{
	struct timeval tv = { .tv_sec = NEIGH_TIMEOUT_SEC };
	struct nb_walk x = { .cb = cb, .arg = arg };
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	uint8_t *ndm;
	char *buf;
	uint32_t seq = (uint32_t)time(NULL), portid;
	int r;

	if (!cb)
		return -EINVAL;
	buf = malloc(NEIGH_RECV_SIZE + NLMSG_ALIGNTO);
	if (!buf)
		return -ENOMEM;
	nl = mnl_socket_open(NETLINK_ROUTE);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0) {
		r = -errno;
		goto out;
	}
	portid = mnl_socket_get_portid(nl);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETNEIGH;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	ndm = mnl_nlmsg_put_extra_header(nlh, NDMSG_SIZE);
	ndm[0] = AF_UNSPEC;     /* every family; the rest of struct ndmsg zero */
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		r = -errno;
		goto out;
	}
	do {
		ssize_t n = mnl_socket_recvfrom(nl, buf, NEIGH_RECV_SIZE);

		if (n < 0) {
			r = errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
			break;
		}
		memset(buf + n, 0, MNL_ALIGN((size_t)n) - (size_t)n);
		r = ias_rnl_parse(buf, (size_t)n, RTM_NEWNEIGH, seq, portid, nb_msg, &x);
	} while (r == IAS_RDMANL_MORE);
	if (r == IAS_RDMANL_DONE || r == IAS_RDMANL_STOPPED)
		r = 0;
out:
	if (nl)
		mnl_socket_close(nl);
	free(buf);
	return r;
}

int ias_neigh_put(void *buf, size_t cap, size_t *len, uint32_t seq, const struct ias_kneigh *n)
{
	struct nlmsghdr *nlh;
	uint8_t ndm[NDMSG_SIZE] = { 0 };
	struct ias_wr w;
	int32_t ifindex = n->ifindex;

	if ((n->family != AF_INET && n->family != AF_INET6) || n->lladdr_len > sizeof(n->lladdr))
		return -EINVAL;
	if (*len > cap || cap - *len < MNL_NLMSG_HDRLEN + NDMSG_SIZE + 2 * MNL_ATTR_HDRLEN + 16 + 32)
		return -ENOSPC;
	ias_wr_init(&w, ndm, sizeof(ndm));
	ias_wr_u8(&w, n->family);
	ias_wr_zero(&w, 3);
	ias_wr_bytes(&w, &ifindex, sizeof(ifindex));
	ias_wr_bytes(&w, &n->state, sizeof(n->state));
	nlh = mnl_nlmsg_put_header((char *)buf + *len);
	nlh->nlmsg_type = RTM_NEWNEIGH;
	nlh->nlmsg_flags = NLM_F_MULTI;
	nlh->nlmsg_seq = seq;
	memcpy(mnl_nlmsg_put_extra_header(nlh, NDMSG_SIZE), ndm, NDMSG_SIZE);
	mnl_attr_put(nlh, NDA_DST, n->family == AF_INET ? 4 : 16, n->addr);
	if (n->lladdr_len)
		mnl_attr_put(nlh, NDA_LLADDR, n->lladdr_len, n->lladdr);
	*len += MNL_ALIGN(nlh->nlmsg_len);
	return 0;
}

/* ---- the remote GID ----------------------------------------------------- */

int ias_ipoib_gid(const uint8_t *lladdr, size_t len, uint8_t gid[16])
{
	if (len != 20)
		return -EINVAL;
	memcpy(gid, lladdr + 4, 16);
	return 0;
}

static int nb_usable(const struct ias_kneigh *n)
{
	return n->lladdr_len > 0 && !(n->state & (NUD_INCOMPLETE | NUD_FAILED));
}

/* The one hardware address the neighbour table gives dst (NULL if none, or
 * if entries on several links disagree). */
static const struct ias_kneigh *nb_of(const struct ias_kcm_addr *dst, const struct ias_kneigh *nb,
				      size_t n)
{
	const struct ias_kneigh *hit = NULL;
	size_t i, alen = dst->family == AF_INET ? 4 : 16;

	for (i = 0; i < n; i++) {
		if (nb[i].family != dst->family || memcmp(nb[i].addr, dst->addr, alen) != 0 ||
		    !nb_usable(&nb[i]))
			continue;
		if (hit && (hit->lladdr_len != nb[i].lladdr_len ||
			    memcmp(hit->lladdr, nb[i].lladdr, hit->lladdr_len) != 0))
			return NULL;    /* ambiguous: refused, not guessed */
		if (!hit)
			hit = &nb[i];
	}
	return hit;
}

/* A global or unique-local IPv6 neighbour with eth's MAC on eth's link. */
static const struct ias_kneigh *nb6_same_mac(const struct ias_kneigh *eth, const struct ias_kneigh *nb,
					     size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (nb[i].family == AF_INET6 && nb[i].ifindex == eth->ifindex && nb_usable(&nb[i]) &&
		    nb[i].lladdr_len == eth->lladdr_len &&
		    memcmp(nb[i].lladdr, eth->lladdr, eth->lladdr_len) == 0 &&
		    nb[i].addr[0] != 0xff && !(nb[i].addr[0] == 0xfe && (nb[i].addr[1] & 0xc0) == 0x80))
			return &nb[i];
	return NULL;
}

enum ias_gid_how ias_kcm_remote_gid(const struct ias_kcm_addr *dst, enum ias_link link,
				    const struct ias_kneigh *nb, size_t n, uint8_t gid[16])
{
	const struct ias_kneigh *hw, *n6;

	if (dst->family == AF_IB) {
		memcpy(gid, dst->addr, 16);
		return IAS_GID_AF_IB;
	}
	if (dst->family != AF_INET && dst->family != AF_INET6)
		return IAS_GID_NONE;
	hw = nb_of(dst, nb, n);
	if (hw && ias_ipoib_gid(hw->lladdr, hw->lladdr_len, gid) == 0)
		return IAS_GID_IPOIB;
	if (link == IAS_LINK_IB)
		return IAS_GID_NONE;    /* an IPoIB address is not a GID */
	if (dst->family == AF_INET6) {
		memcpy(gid, dst->addr, 16);
		return IAS_GID_ROCE_IP6;
	}
	if (hw && hw->lladdr_len == 6 && (n6 = nb6_same_mac(hw, nb, n))) {
		memcpy(gid, n6->addr, 16);
		return IAS_GID_ROCE_NEIGH6;
	}
	memset(gid, 0, 10);
	gid[10] = gid[11] = 0xff;
	memcpy(gid + 12, dst->addr, 4);
	return IAS_GID_ROCE_IP4;
}

const char *ias_gid_how_str(enum ias_gid_how how)
{
	switch (how) {
	case IAS_GID_AF_IB: return "AF_IB address";
	case IAS_GID_IPOIB: return "IPoIB neighbour";
	case IAS_GID_ROCE_IP6: return "RoCE IPv6 address";
	case IAS_GID_ROCE_NEIGH6: return "RoCE IPv6 neighbour of the IPv4 peer";
	case IAS_GID_ROCE_IP4: return "RoCE IPv4-mapped address";
	default: return "none";
	}
}
