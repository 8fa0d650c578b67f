/* kobs: kernel observation of RDMA QPs with eBPF.
 *
 * BPF programs in ib_core record, for every user QP, what the kernel itself
 * holds: device, port, QPN, type, state, the destination QPN and address
 * vector (DLID, DGID, SL, port) as set by modify, and the owner (tgid, its
 * start time, cgroup id). Records live in maps pinned under a directory
 * (default KOBS_PIN_DIR), with the programs' links, so they survive the
 * process that loaded them: a later kobs_open() finds and reuses them.
 *
 * Comparing owners with /proc: start_ns is the owner's group leader
 * task->start_boottime (CLOCK_BOOTTIME, ns), the value /proc/PID/stat field
 * 22 prints in clock ticks: field22 == start_ns / (1000000000 / USER_HZ)
 * (kobs_start_ticks() with sysconf(_SC_CLK_TCK)).
 *
 * Every function returns 0 or a negative errno; kobs_open fills `why` with a
 * one-line reason when it fails. Nothing here prints or exits. */
#ifndef IAS_SEMA_BPF_KOBS_H
#define IAS_SEMA_BPF_KOBS_H

#include <stddef.h>
#include <stdint.h>

#define KOBS_PIN_DIR "/sys/fs/bpf/ias"
#define KOBS_NAME_MAX 64
#define KOBS_COMM_MAX 16

/* kobs_qp.flags (the same bits as the kernel record's) */
#define KOBS_QP_CREATE 0x01	/* seen at creation, else first seen at a modify */
#define KOBS_QP_DEST 0x02	/* dest_qpn valid */
#define KOBS_QP_AV 0x04		/* dlid, sl, av_port, av_type valid */
#define KOBS_QP_GRH 0x08	/* dgid, sgid_index, hop_limit, flow_label valid */
#define KOBS_QP_SQ_PSN 0x10
#define KOBS_QP_RQ_PSN 0x20
#define KOBS_QP_OWNER_RES 0x40	/* owner from the QP's restrack entry */
#define KOBS_QP_FLAGS_ALL 0x7f

/* rdma_ah_attr_type */
#define KOBS_AV_UNDEFINED 0
#define KOBS_AV_IB 1
#define KOBS_AV_ROCE 2
#define KOBS_AV_OPA 3

/* One QP (or one user address handle: then qpn/dest_qpn/state are 0 and
 * handle identifies the AH). */
struct kobs_qp {
	char dev[KOBS_NAME_MAX];
	uint32_t dev_index;
	uint32_t port;
	uint32_t qpn;
	uint8_t type;		/* enum ib_qp_type: 2 RC, 3 UC, 4 UD, ... */
	uint8_t state;		/* enum ib_qp_state: 0 RESET .. 6 ERR */
	uint32_t flags;
	uint32_t dest_qpn;
	uint16_t dlid;
	uint8_t sl;
	uint8_t av_type;
	uint32_t av_port;
	uint8_t dgid[16];
	uint8_t sgid_index;
	uint8_t hop_limit;
	uint32_t flow_label;
	uint32_t sq_psn, rq_psn;
	uint32_t tgid;
	uint64_t start_ns;
	uint64_t cgroup_id;
	char comm[KOBS_COMM_MAX];
	uint64_t create_ns, update_ns;	/* CLOCK_BOOTTIME */
	uint64_t handle;		/* AH records only */
};

enum kobs_ev_kind {
	KOBS_CREATE = 1,
	KOBS_MODIFY = 2,
	KOBS_DESTROY = 3,
	KOBS_AH_CREATE = 4,
	KOBS_AH_DESTROY = 5,
};

struct kobs;

/* Load and attach the programs, or find them already pinned under pin_dir
 * (NULL: KOBS_PIN_DIR; it must be absolute and on a bpf filesystem). On
 * failure: -EOPNOTSUPP (no kernel BTF, BPF or fentry unsupported), -EPERM
 * (no privilege), -ENOENT (ib_core not loaded), -EINVAL (bad pin_dir),
 * -ENOTDIR (pin_dir not on bpffs), or another errno; `why` says which. */
int kobs_open(const char *pin_dir, struct kobs **out, char *why, size_t len);
/* Close the handle; the pinned programs and records stay. */
void kobs_close(struct kobs *k);
/* Detach the programs and remove the pinned maps and links. */
int kobs_unpin(const char *pin_dir, char *why, size_t len);
/* 1 when this open loaded the programs, 0 when it found them pinned. */
int kobs_loaded_here(const struct kobs *k);

/* Calls cb for every QP record (cb returns nonzero to stop; that value is
 * returned). */
int kobs_foreach(struct kobs *k, int (*cb)(const struct kobs_qp *, void *), void *arg);
/* The same for address handles created through the kernel. */
int kobs_foreach_ah(struct kobs *k, int (*cb)(const struct kobs_qp *, void *), void *arg);
/* 0 and *out, or -ENOENT. */
int kobs_lookup(struct kobs *k, const char *dev, uint32_t qpn, struct kobs_qp *out);

/* Change events: an fd for epoll (readable when events wait), and a
 * non-blocking consume that calls cb per waiting event; returns the number
 * consumed or a negative errno. A cb returning nonzero stops it early (the
 * events after that one stay queued). */
int kobs_fd(struct kobs *k);
int kobs_consume(struct kobs *k, int (*cb)(enum kobs_ev_kind, const struct kobs_qp *, void *),
		 void *arg);

/* ---- pure helpers (unit-tested) ---- */
/* FNV-1a 32 of a device name, as the kernel side keys its records. */
uint32_t kobs_dev_hash(const char *name);
/* "<pin_dir>/<name>" into buf; -EINVAL for a relative or ".." path, an empty
 * name or one with '/', -ENAMETOOLONG when it does not fit. */
int kobs_pin_path(const char *pin_dir, const char *name, char *buf, size_t len);
/* Decode a kernel record (len must be its exact size). -EBADMSG when the
 * size is wrong, a name is not NUL-terminated, or a field is out of range. */
int kobs_decode(const void *val, size_t len, struct kobs_qp *out);
/* Decode a ring buffer event. */
int kobs_decode_event(const void *data, size_t len, enum kobs_ev_kind *kind, struct kobs_qp *out);
/* A one-line reason for an errno from kobs_open's checks. */
const char *kobs_strerror(int err);
/* start_ns in /proc/PID/stat field-22 ticks. */
uint64_t kobs_start_ticks(uint64_t start_ns, long clk_tck);
/* type and state are the kernel's enums, named by ias_kqp_type_str() and
 * ias_kqp_state_str() of sema/rdmanl.h. */

#endif
