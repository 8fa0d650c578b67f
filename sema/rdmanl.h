/* QP ownership as the kernel knows it, read over rdma netlink.
 *
 * The kernel's resource tracker (restrack) records every QP with the PID of
 * the process that created it (or, for QPs the kernel made itself, the name
 * of the kernel module). RDMA_NLDEV_CMD_RES_QP_GET dumps that table on a
 * NETLINK_RDMA socket; any local user may ask. This module sends the dump
 * request and decodes the answer into one struct ias_kqp per QP.
 *
 * The answer is outside input, read only through libmnl's message and
 * attribute helpers (no struct is laid over received bytes): every attribute
 * is checked for length and type before use, and a message that does not
 * decode exactly (truncated, trailing bytes, wrong attribute size, a string
 * without its NUL, a QP table or entry that is not a nest, QP entry without
 * an LQPN, ...) is an error.
 *
 * Library rules: functions return 0 or a negative errno, never print, never
 * exit. */
#ifndef IAS_SEMA_RDMANL_H
#define IAS_SEMA_RDMANL_H

#include <stddef.h>
#include <stdint.h>

struct ias_kqp {
	uint32_t dev_index;
	char dev_name[64];
	uint32_t port;          /* 0 when the kernel did not report one yet */
	uint32_t lqpn, rqpn;
	int has_rqpn;           /* RC/UC only */
	uint8_t type;           /* IB_QPT_* numbering as the kernel reports (RC=2, UC=3, UD=4, ...) */
	uint8_t state;          /* kernel QP state numbering (RESET=0 ... ERR=6) */
	uint32_t pid;           /* in the reader's PID namespace */
	int has_pid;            /* 0 for kernel QPs and for owners outside our PID namespace */
	char kern_name[32];     /* owning kernel module for kernel QPs, else "" */
	uint32_t sq_psn, rq_psn;
	int has_rq_psn;         /* RC/UC only */
	uint32_t pdn;           /* 0 for kernel QPs (not reported) */
};

/* Called once per QP. Return 0 to go on; non-zero stops the walk. A negative
 * value is handed back to the caller as the walk's result. */
typedef int (*ias_kqp_cb)(const struct ias_kqp *qp, void *arg);

/* Dump every QP the kernel tracks and call cb for each.
 * Returns 0 when the dump completed or cb stopped it with a positive value;
 * cb's negative value; -ENOENT when the kernel has no RDMA netlink or no RDMA
 * device; -EBADMSG/-EPROTO for an answer that does not decode; -EINTR when
 * the kernel marks the dump interrupted (NLM_F_DUMP_INTR); -ETIMEDOUT if the
 * kernel does not answer; other -errno from the socket. */
int ias_rdmanl_dump_qps(ias_kqp_cb cb, void *arg);

/* Results of ias_rdmanl_parse() besides negative errno. */
enum {
	IAS_RDMANL_MORE = 0,    /* buffer fully decoded, the dump goes on */
	IAS_RDMANL_DONE = 1,    /* NLMSG_DONE seen: the dump is complete */
	IAS_RDMANL_STOPPED = 2, /* cb returned a positive value */
};

/* Decode one recv() buffer of RES_QP_GET dump messages (any number of netlink
 * messages, back to back) and call cb for each QP entry in it. Messages after
 * NLMSG_DONE are ignored. NLMSG_ERROR yields its error (or -EBADMSG when it
 * carries none). Returns IAS_RDMANL_MORE/DONE/STOPPED, cb's negative value, or
 * a negative errno; entries before a malformed message may already have been
 * passed to cb. buf needs no particular alignment. */
int ias_rdmanl_parse(const void *buf, size_t len, ias_kqp_cb cb, void *arg);

/* Append to buf (cap bytes, used bytes at *len) one RES_QP_GET dump message
 * carrying qp, in the form the kernel sends. For test fixtures that stand in
 * for the kernel. Returns 0 or -ENOSPC; -EINVAL if qp has both a pid and a
 * kernel name, or names that do not fit. buf must be 4-byte aligned. */
int ias_rdmanl_put_qp(void *buf, size_t cap, size_t *len, uint32_t seq,
		      const struct ias_kqp *qp);
/* Append the NLMSG_DONE that ends a dump (error 0). */
int ias_rdmanl_put_done(void *buf, size_t cap, size_t *len, uint32_t seq);

/* ---- one QP at a time, on a kept-open socket ----------------------------
 *
 * A full dump costs one socket, one device listing and one dump per device.
 * To check one QP (its owner at registration), a handle keeps the NETLINK_RDMA
 * socket open and caches the device-name -> index map; a look-up is then one
 * RES_QP_GET dump of the one device. (The kernel's single-QP "doit" form needs
 * the QP's port, which a QP just created does not have yet, so it cannot
 * serve here.) The map is refreshed when a name is unknown or the kernel
 * answers for another name under that index. After any socket or decoding
 * error the socket is closed and reopened by the next look-up. */
struct ias_rdmanl;

/* One RDMA device as the kernel lists it (RDMA_NLDEV_CMD_GET). */
struct ias_kdev {
	uint32_t index;
	char name[64];
};

typedef int (*ias_kdev_cb)(const struct ias_kdev *dev, void *arg);

/* Open a handle: -ENOENT when the kernel has no RDMA netlink, other -errno. */
int ias_rdmanl_open(struct ias_rdmanl **out);
void ias_rdmanl_close(struct ias_rdmanl *h);

/* Look up QP lqpn of device dev_name. Returns 1 and fills *out when the kernel
 * reports it; 0 when the device exists but has no such QP; -ENODEV when the
 * kernel lists other devices but none of that name; -ENOENT when it lists no
 * device at all; -EBADMSG/-EPROTO/-ETIMEDOUT/-errno as for a dump. */
int ias_rdmanl_find_qp(struct ias_rdmanl *h, const char *dev_name, uint32_t lqpn,
		       struct ias_kqp *out);

/* Decode one recv() buffer of RDMA_NLDEV_CMD_GET dump messages (the device
 * list) and call cb for each device. Same checks and results as
 * ias_rdmanl_parse. */
int ias_rdmanl_parse_devs(const void *buf, size_t len, ias_kdev_cb cb, void *arg);

/* Append one RDMA_NLDEV_CMD_GET dump message for dev (test fixtures).
 * 0, -ENOSPC, or -EINVAL for a name that does not fit. buf 4-byte aligned. */
int ias_rdmanl_put_dev(void *buf, size_t cap, size_t *len, uint32_t seq,
		       const struct ias_kdev *dev);

/* "SMI", "GSI", "RC", "UC", "UD", "RAW_IPV6", "RAW_ETHERTYPE", "RAW_PACKET",
 * "XRC_INI", "XRC_TGT", "DRIVER"; "UNKNOWN" otherwise. */
const char *ias_kqp_type_str(uint8_t type);
/* "RESET", "INIT", "RTR", "RTS", "SQD", "SQE", "ERR"; "UNKNOWN" otherwise. */
const char *ias_kqp_state_str(uint8_t state);

#endif
