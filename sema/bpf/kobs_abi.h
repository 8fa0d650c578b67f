/* The records the kernel side of kobs (kobs.bpf.c) writes into its maps, and
 * the user side (kobs.c) reads back. Shared by both compilers: clang -target
 * bpf for the BPF object, and the ordinary C compiler for the library. Every
 * field has a fixed width and a fixed offset (pinned by _Static_assert in
 * kobs.c), so the layout does not depend on either compiler's padding rules.
 *
 * Keys: a QP is (FNV-1a 32 of the device name, QPN); an address handle is
 * the kernel's ib_ah address, an opaque handle that only matches an AH's
 * creation with its destruction. */
#ifndef IAS_SEMA_BPF_KOBS_ABI_H
#define IAS_SEMA_BPF_KOBS_ABI_H

#ifdef __bpf__
typedef unsigned char kobs_u8;
typedef unsigned short kobs_u16;
typedef unsigned int kobs_u32;
typedef unsigned long long kobs_u64;
#else
#include <stdint.h>
typedef uint8_t kobs_u8;
typedef uint16_t kobs_u16;
typedef uint32_t kobs_u32;
typedef uint64_t kobs_u64;
#endif

#define KOBS_DEV_NAME_MAX 64	/* IB_DEVICE_NAME_MAX */
#define KOBS_COMM_LEN 16	/* TASK_COMM_LEN */
#define KOBS_MAX_QPS 65536
#define KOBS_MAX_AHS 16384
#define KOBS_RINGBUF_BYTES (256 * 1024)

/* kobs_rec_abi.flags */
#define KOBS_F_CREATE 0x01	/* seen at creation (else first seen at a modify) */
#define KOBS_F_DEST 0x02	/* dest_qpn is set */
#define KOBS_F_AV 0x04		/* an address vector was set (dlid/sl/av_port) */
#define KOBS_F_GRH 0x08		/* ... with a GRH (dgid, sgid_index) */
#define KOBS_F_SQ_PSN 0x10
#define KOBS_F_RQ_PSN 0x20
#define KOBS_F_OWNER_RES 0x40	/* owner read from the QP's restrack entry */

/* kobs_ev_abi.kind */
#define KOBS_EV_CREATE 1
#define KOBS_EV_MODIFY 2
#define KOBS_EV_DESTROY 3
#define KOBS_EV_AH_CREATE 4
#define KOBS_EV_AH_DESTROY 5

struct kobs_key_abi {
	kobs_u32 dev_hash;
	kobs_u32 qpn;
};

/* One QP, or (for AH records) one address handle: qpn, dest_qpn and the QP
 * state fields are 0 there. */
struct kobs_rec_abi {
	kobs_u64 start_ns;	/* owner's group leader start_boottime */
	kobs_u64 cgroup_id;	/* owner's cgroup v2 id */
	kobs_u64 create_ns;	/* bpf_ktime_get_boot_ns() at first sight */
	kobs_u64 update_ns;	/* ... at the last change */
	kobs_u64 handle;	/* AH records: the ib_ah; QPs: 0 */
	kobs_u8 dgid[16];
	char dev[KOBS_DEV_NAME_MAX];
	char comm[KOBS_COMM_LEN];
	kobs_u32 dev_index;
	kobs_u32 dev_hash;
	kobs_u32 qpn;
	kobs_u32 port;
	kobs_u32 tgid;
	kobs_u32 dest_qpn;
	kobs_u32 av_port;
	kobs_u32 flags;
	kobs_u32 sq_psn;
	kobs_u32 rq_psn;
	kobs_u32 flow_label;
	kobs_u16 dlid;
	kobs_u8 qp_type;
	kobs_u8 state;
	kobs_u8 sl;
	kobs_u8 sgid_index;
	kobs_u8 av_type;
	kobs_u8 hop_limit;
	kobs_u8 reserved[4];
};

struct kobs_ev_abi {
	kobs_u32 kind;
	kobs_u32 reserved;
	struct kobs_rec_abi rec;
};

#endif
