/* rdma_cm connections as the kernel knows them, and the remote port's GID.
 *
 * The kernel's resource tracker records every rdma_cm identifier (cm_id)
 * with its device and port, the QP it was given (rdma_create_qp), its port
 * space and state, the owner (PID, or the kernel module's name) and the
 * source and destination addresses of the connection. RDMA_NLDEV_CMD_RES_
 * CM_ID_GET dumps them, one device at a time, like the QP table (rdmanl.h).
 * The PID is absent for kernel cm_ids and for owners outside the reader's PID
 * namespace; the kernel does not send a user owner's command name (read it
 * from /proc, as procinfo.c does).
 *
 * An address is a struct __kernel_sockaddr_storage as the kernel holds it
 * (128 bytes): the family in host order, then the family's fields; read
 * field by field through common/cursor.h.
 *
 * The remote port's GID (where trace MADs go) follows from the destination:
 * AF_IB carries it; on RoCE v2 the IP address is the GID (IPv4 as
 * ::ffff:a.b.c.d); on InfiniBand the IP address is IPoIB's, and the GID is
 * the last 16 bytes of the 20-byte IPoIB hardware address in the neighbour
 * table (rtnetlink RTM_GETNEIGH), also decoded here.
 *
 * Same rules as rdmanl.h: outside input through libmnl and the cursor only,
 * a message that does not decode exactly is refused whole, functions return
 * 0 or a negative errno, never print, never exit. */
#ifndef IAS_SEMA_RDMANL_CM_H
#define IAS_SEMA_RDMANL_CM_H

#include <stddef.h>
#include <stdint.h>

/* sizeof(struct __kernel_sockaddr_storage): each address attribute's size. */
#define IAS_KCM_SS_SIZE 128

struct ias_kcm_addr {
	uint16_t family;        /* 0 absent; AF_INET, AF_INET6, AF_IB decoded; another
				 * family is kept with no address */
	uint16_t port;          /* AF_INET/AF_INET6 port, host order; 0 for AF_IB */
	uint8_t addr[16];       /* AF_INET: 4 bytes; AF_INET6: the address; AF_IB: the GID */
};

struct ias_kcm {
	uint32_t dev_index;
	char dev_name[64];
	uint32_t port;          /* 0 before the cm_id is bound to a port */
	uint32_t lqpn;
	int has_lqpn;           /* a QP was created on the cm_id */
	uint8_t qp_type;        /* with has_lqpn: IB_QPT_* (RC=2, UC=3, UD=4) */
	uint32_t ps;            /* port space, RDMA_PS_* */
	uint8_t state;          /* the kernel's enum rdma_cm_state */
	uint32_t pid;
	int has_pid;
	char kern_name[32];     /* owning kernel module for kernel cm_ids, else "" */
	uint32_t cm_idn;
	int has_cm_idn;         /* kernels from 5.9 number cm_ids */
	struct ias_kcm_addr src, dst;
};

typedef int (*ias_kcm_cb)(const struct ias_kcm *cm, void *arg);

/* Dump every cm_id the kernel tracks (all devices) and call cb for each;
 * results as ias_rdmanl_dump_qps (a kernel without cm_id tracking answers
 * -EOPNOTSUPP or -EINVAL). */
int ias_rdmanl_dump_cm_ids(ias_kcm_cb cb, void *arg);

/* Decode one recv() buffer of RES_CM_ID_GET dump messages; results as
 * ias_rdmanl_parse. Every entry of a message is checked before the first
 * callback. Required per entry: port space and state; LQPN and QP type come
 * together; never both a PID and a kernel name; an address attribute is
 * exactly IAS_KCM_SS_SIZE bytes with a non-zero family. */
int ias_rdmanl_parse_cm(const void *buf, size_t len, ias_kcm_cb cb, void *arg);

/* Append one RES_CM_ID_GET dump message carrying cm, in the kernel's form
 * (test fixtures). 0, -ENOSPC, or -EINVAL (both a PID and a kernel name,
 * names that do not fit). buf 4-byte aligned. End with ias_rdmanl_put_done. */
int ias_rdmanl_put_cm(void *buf, size_t cap, size_t *len, uint32_t seq, const struct ias_kcm *cm);

/* "IDLE", "ADDR_QUERY", ..., "LISTEN", "DEVICE_REMOVAL", "DESTROYING";
 * "UNKNOWN" otherwise. */
const char *ias_kcm_state_str(uint8_t state);
/* "TCP", "UDP", "IB", "IPOIB"; "UNKNOWN" otherwise. */
const char *ias_kcm_ps_str(uint32_t ps);

/* ---- the neighbour table (rtnetlink) ------------------------------------ */

struct ias_kneigh {
	int ifindex;
	uint8_t family;         /* AF_INET or AF_INET6 (others are not reported) */
	uint8_t addr[16];       /* NDA_DST: 4 or 16 bytes */
	uint16_t state;         /* NUD_* */
	uint8_t lladdr[32];     /* NDA_LLADDR (MAX_ADDR_LEN); 20 bytes on IPoIB */
	uint8_t lladdr_len;     /* 0: none */
};

typedef int (*ias_kneigh_cb)(const struct ias_kneigh *n, void *arg);

/* Dump the IPv4 and IPv6 neighbour tables of the caller's network namespace.
 * Results as ias_rdmanl_dump_qps. */
int ias_neigh_dump(ias_kneigh_cb cb, void *arg);
/* Decode one recv() buffer of RTM_NEWNEIGH messages: the struct ndmsg
 * header read field by field, NDA_DST of the family's exact size, NDA_LLADDR
 * at most 32 bytes; entries of other families are checked, not reported. */
int ias_neigh_parse(const void *buf, size_t len, ias_kneigh_cb cb, void *arg);
/* Append one RTM_NEWNEIGH message (test fixtures). 0, -ENOSPC, -EINVAL. */
int ias_neigh_put(void *buf, size_t cap, size_t *len, uint32_t seq, const struct ias_kneigh *n);

/* ---- the remote port's GID ---------------------------------------------- */

enum ias_link { IAS_LINK_UNKNOWN, IAS_LINK_IB, IAS_LINK_ETH };

/* How a GID was found (for logs and docs). */
enum ias_gid_how {
	IAS_GID_NONE,           /* not learnable from the kernel */
	IAS_GID_AF_IB,          /* the address is the GID */
	IAS_GID_IPOIB,          /* the IPoIB neighbour's hardware address */
	IAS_GID_ROCE_IP6,       /* RoCE v2: the IPv6 address */
	IAS_GID_ROCE_NEIGH6,    /* RoCE v2, IPv4 connection: the IPv6 neighbour with
				 * the same MAC on the same link */
	IAS_GID_ROCE_IP4,       /* RoCE v2: the IPv4-mapped address */
};

/* The GID of the port at the far end of a connection to dst, from a local
 * port of link type link and the neighbour entries nb[0..n). Returns the
 * way it was found (IAS_GID_NONE: nothing written). On InfiniBand only the
 * IPoIB neighbour (or AF_IB) gives the GID; on RoCE an IPv4 destination
 * prefers a global or unique-local IPv6 neighbour with the same MAC. */
enum ias_gid_how ias_kcm_remote_gid(const struct ias_kcm_addr *dst, enum ias_link link,
				    const struct ias_kneigh *nb, size_t n, uint8_t gid[16]);
const char *ias_gid_how_str(enum ias_gid_how how);

/* The GID inside a 20-byte IPoIB hardware address (4 bytes of flags and QPN,
 * then the GID): 0, or -EINVAL for another length. */
int ias_ipoib_gid(const uint8_t *lladdr, size_t len, uint8_t gid[16]);

#endif
