/* Inside the rdma netlink decoders only (rdmanl.c, rdmanl_cm.c): the strict
 * attribute walk of rdmanl.c and its per-device dump, shared so that each
 * resource kind (QPs, cm_ids) decodes its own entries the same way. Not an
 * interface for other modules; the rules are those of rdmanl.h. */
#ifndef IAS_SEMA_RDMANL_INT_H
#define IAS_SEMA_RDMANL_INT_H

#include <stddef.h>
#include <stdint.h>

#include <libmnl/libmnl.h>
#include <rdma/rdma_netlink.h>

#include "sema/rdmanl.h"

/* Attribute table size: every type the decoders read is below this. */
#define IAS_RNL_TB_SIZE RDMA_NLDEV_ATTR_MAX

_Static_assert(RDMA_NLDEV_ATTR_RES_CM_IDN < IAS_RNL_TB_SIZE, "attribute table too small");
_Static_assert(RDMA_NLDEV_ATTR_RES_PDN < IAS_RNL_TB_SIZE, "attribute table too small");
_Static_assert(sizeof(((struct ias_kqp *)0)->dev_name) == 64, "IB_DEVICE_NAME_MAX");
_Static_assert(sizeof(((struct ias_kdev *)0)->name) == 64, "IB_DEVICE_NAME_MAX");

/* An area of received bytes being walked by libmnl (a buffer of messages,
 * the attributes of a message or of a nest): base, its exact length, and how
 * far the items seen so far reach (with their alignment padding). libmnl
 * stops quietly at an item that does not fit; comparing how far the items
 * reached with the length tells a clean end from a bad tail. */
struct ias_rnl_area {
	const char *base;
	size_t len;
	size_t used;
};

struct ias_rnl_tb {
	const struct nlattr *a[IAS_RNL_TB_SIZE];
	struct ias_rnl_area ar;
};

/* Take an attribute of the area: it must end within the area's length. */
int ias_rnl_take_attr(struct ias_rnl_area *ar, const struct nlattr *attr);
/* 0 when the area was consumed to its end, else -EBADMSG. */
int ias_rnl_area_done(const struct ias_rnl_area *ar);
void ias_rnl_area_of_nest(struct ias_rnl_area *ar, const struct nlattr *nest);
/* Collect the attributes of a message or a nest: each within bounds, no
 * duplicates, nothing left over. 0 or -EBADMSG. */
int ias_rnl_collect_msg(const struct nlmsghdr *nlh, struct ias_rnl_tb *t);
int ias_rnl_collect_nest(const struct nlattr *nest, struct ias_rnl_tb *t);
/* Check type and length of the attributes rdmanl.c knows (device, port,
 * LQPN, type, state, PID, kernel name, ...). */
int ias_rnl_validate(const struct ias_rnl_tb *t);
/* Copy a validated string attribute; -EBADMSG if it does not fit and
 * strict, else truncated. */
int ias_rnl_copy_str(char *dst, size_t cap, const struct nlattr *a, int strict);
/* Device index and name (both required) into q->dev_index, q->dev_name. */
int ias_rnl_decode_dev(const struct ias_rnl_tb *t, struct ias_kqp *q);

/* One data message of a resource dump, after the framing checks (within
 * the buffer, the expected message type). Returns 0 to go on,
 * IAS_RDMANL_STOPPED to stop, or a negative errno. */
typedef int (*ias_rnl_msg_cb)(const struct nlmsghdr *nlh, void *arg);

/* Decode one recv() buffer of dump messages of type msg_type (any netlink
 * family: the framing checks are the same), as ias_rdmanl_parse does,
 * handing each data message to cb. seq and portid, when not 0, must match
 * every message (a live socket); 0 for fixtures. */
int ias_rnl_parse(const void *buf, size_t len, uint16_t msg_type, uint32_t seq, uint32_t portid,
		  ias_rnl_msg_cb cb, void *arg);
/* Dump resource command cmd of every device (as ias_rdmanl_dump_qps). */
int ias_rnl_dump(uint16_t cmd, ias_rnl_msg_cb cb, void *arg);

#endif
