/* The agent's QP ownership table.
 *
 * One entry per (device, QPN). Entries come from two sources: registrations
 * by processes through libias (the PID is the caller's SO_PEERCRED PID) and
 * the kernel's rdma netlink resource tracking. The kernel's word wins: when
 * both know a QP and disagree on the owner, the kernel PID is kept and the
 * conflict is counted and logged by the caller. Simulated QPs (simulator bed
 * only) carry their own source flag and are shown as such. */
#ifndef IAS_SEMA_QPTABLE_H
#define IAS_SEMA_QPTABLE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define QPT_SRC_KERNEL    0x1u
#define QPT_SRC_LIBIAS    0x2u
#define QPT_SRC_SIMULATED 0x4u

#define QPT_UD_HISTORY 8

/* Where a QP's remote end (or a UD destination) was learned: qpt_entry
 * remote_src, qpt_dest src. Kernel sources and a peer agent's confirmation
 * make a remote end a trace target; a registration alone is a hint. */
#define QPT_RSRC_KOBS   0x01u	/* the kernel: eBPF observation of modify / AH create */
#define QPT_RSRC_CM     0x02u	/* the kernel: rdma_cm cm_id tracking */
#define QPT_RSRC_NLQPN  0x04u	/* the kernel: rdma netlink (remote QPN only, no address) */
#define QPT_RSRC_PEER   0x08u	/* the agent at the claimed remote end confirmed the mirror QP */
#define QPT_RSRC_MIRROR 0x10u	/* found by a mirror-pair look-up across agents */
#define QPT_RSRC_LIBIAS 0x20u	/* claimed by the owner's own registration: a hint only */
#define QPT_RSRC_TRUSTED (QPT_RSRC_KOBS | QPT_RSRC_CM | QPT_RSRC_PEER | QPT_RSRC_MIRROR)

struct qpt_dest {
	uint32_t lid;
	uint8_t gid[16];
	uint32_t qpn;
	int64_t seen_ms;
	unsigned src;		/* QPT_RSRC_* */
};

struct qpt_entry {
	char device[64];
	uint32_t port;
	uint32_t qpn;
	uint8_t type;		/* IBV_QPT_* numbering */
	uint8_t state;		/* IBV_QPS_* numbering */
	pid_t pid;
	unsigned sources;	/* QPT_SRC_* */
	int has_remote;
	uint32_t remote_lid;
	uint8_t remote_gid[16];
	uint32_t remote_qpn;
	unsigned remote_src;	/* QPT_RSRC_*: who said so */
	int blocked;		/* an active block covers this QP */
	uint64_t client_id;	/* libias connection that registered it, 0 none */
	char peer[256];		/* authenticated peer identity, "" unknown */
	unsigned ndest;		/* UD destination history, newest last */
	struct qpt_dest *dest;	/* room for QPT_UD_HISTORY, allocated by the
				 * first qpt_add_dest (most QPs have none) and
				 * owned by the table */
	int kernel_seen;	/* scratch for kernel merges */
};

/* Entries stay a dense array (e[0..n-1]) for the modules that loop over
 * them; removal moves the last entry into the hole. Look-ups by (device,
 * QPN) go through a private hash index (open addressing, keyed by a random
 * per-table seed so that nobody can aim registrations at one chain). */
struct qptable {
	struct qpt_entry *e;
	size_t n, cap;
	/* private to qptable.c */
	uint32_t *slot;		/* entry index + 1, 0 empty; nslot a power of two */
	size_t nslot;
	uint64_t seed[2];
	uint64_t removals;	/* entries removed so far (for callers' cached counts) */
};

void qpt_init(struct qptable *t);
void qpt_free(struct qptable *t);
/* Look-ups by (device, QPN) are O(1) on average (the index); qpt_find_qpn,
 * qpt_count_* and the sweeps walk the array. */
struct qpt_entry *qpt_find(struct qptable *t, const char *device, uint32_t qpn);
/* Find by QPN alone (on the simulator, QPNs are unique per node). */
struct qpt_entry *qpt_find_qpn(struct qptable *t, uint32_t qpn);
/* Insert or return the existing entry; NULL on allocation failure. */
struct qpt_entry *qpt_upsert(struct qptable *t, const char *device, uint32_t qpn);
int qpt_remove(struct qptable *t, const char *device, uint32_t qpn);
/* Remove every entry a libias connection registered and the kernel does
 * not also know. Returns how many were removed. */
size_t qpt_drop_client(struct qptable *t, uint64_t client_id);
/* Records a UD destination; 0, or -ENOMEM (nothing recorded). */
int qpt_add_dest(struct qpt_entry *q, const struct qpt_dest *d);
/* Entries whose client_id is id. */
size_t qpt_count_client(const struct qptable *t, uint64_t client_id);
size_t qpt_count_pid(const struct qptable *t, pid_t pid);
size_t qpt_count_blocked(const struct qptable *t);

/* Kernel merge: mark all kernel entries unseen, feed each kernel QP, then
 * sweep to drop kernel-only entries the kernel no longer reports. */
void qpt_kernel_begin(struct qptable *t);
size_t qpt_kernel_sweep(struct qptable *t);

const char *qpt_type_str(uint8_t type);
const char *qpt_state_str(uint8_t state);
/* "kernel", "libias", "kernel+libias", "simulated". */
const char *qpt_source_str(unsigned sources);
/* "kernel-bpf", "kernel-cm", "kernel-qpn", "peer", "mirror", "libias
 * (unconfirmed)", joined with '+'; "" for 0. Into buf; returns buf. */
const char *qpt_remote_src_str(unsigned src, char *buf, size_t len);
/* 1 when q's remote end has an address (LID or GID) and a QPN, and a source
 * in QPT_RSRC_TRUSTED said so. */
int qpt_remote_trusted(const struct qpt_entry *q);

#endif
