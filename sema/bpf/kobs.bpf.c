// SPDX-License-Identifier: GPL-2.0-only
/* kobs: the kernel's own view of RDMA QPs, recorded where ib_core creates,
 * modifies and destroys them (and, for UD, where it creates user address
 * handles), into maps pinned under the loader's pin directory.
 *
 * Built with clang -target bpf against the minimal types below, marked
 * preserve_access_index: libbpf relocates every field access at load time
 * against the running kernel's BTF (vmlinux and ib_core's module BTF), so the
 * build needs no kernel headers and no BTF on the build host.
 *
 * Hooks (all in ib_core, all exported):
 *  - fexit ib_create_qp_user: a user QP exists (both uverbs create paths);
 *  - fexit ib_modify_qp_with_udata: a successful modify from user space
 *    (uverbs modify_qp): new state, destination QPN, address vector, PSNs;
 *  - fentry/fexit ib_destroy_qp_user: the record goes when the destroy
 *    succeeded;
 *  - fexit rdma_create_user_ah / fentry rdma_destroy_ah_user: address handles
 *    that a provider creates in the kernel (rxe does; mlx5 does not). */
#include "sema/bpf/kobs_abi.h"

typedef kobs_u8 __u8;
typedef kobs_u16 __u16;
typedef kobs_u32 __u32;
typedef kobs_u64 __u64;
typedef signed char __s8;
typedef short __s16;
typedef int __s32;
typedef long long __s64;
typedef __u16 __be16;
typedef __u32 __be32;
typedef __u64 __be64;
typedef __u32 __wsum;
typedef _Bool bool;

/* The few uapi values used (linux/bpf.h, stable ABI), so that no kernel or
 * multiarch header is needed. */
enum {
	BPF_MAP_TYPE_HASH = 1,
	BPF_MAP_TYPE_PERCPU_ARRAY = 6,
	BPF_MAP_TYPE_RINGBUF = 27,
};
#define BPF_ANY 0

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";

/* ---- the kernel types, only the fields read here (names as in 6.1) ---- */
struct kernfs_node {
	__u64 id;
} __attribute__((preserve_access_index));

struct cgroup {
	struct kernfs_node *kn;
} __attribute__((preserve_access_index));

struct css_set {
	struct cgroup *dfl_cgrp;
} __attribute__((preserve_access_index));

struct task_struct {
	int tgid;
	__u64 start_boottime;
	struct task_struct *group_leader;
	struct css_set *cgroups;
	char comm[16];
} __attribute__((preserve_access_index));

struct rdma_restrack_entry {
	struct task_struct *task;
} __attribute__((preserve_access_index));

struct ib_device {
	char name[KOBS_DEV_NAME_MAX];
	__u32 index;
} __attribute__((preserve_access_index));

/* Enums must be enums of the same name for CO-RE to match them. */
enum ib_qp_type { IB_QPT_SMI };
enum ib_qp_state { IB_QPS_RESET };
enum rdma_ah_attr_type { RDMA_AH_ATTR_TYPE_UNDEFINED };

struct ib_qp {
	struct ib_device *device;
	__u32 qp_num;
	__u32 port;
	enum ib_qp_type qp_type;
	struct rdma_restrack_entry res;
} __attribute__((preserve_access_index));

union ib_gid {
	__u8 raw[16];
} __attribute__((preserve_access_index));

struct ib_global_route {
	union ib_gid dgid;
	__u32 flow_label;
	__u8 sgid_index;
	__u8 hop_limit;
} __attribute__((preserve_access_index));

struct ib_ah_attr {
	__u16 dlid;
} __attribute__((preserve_access_index));

struct rdma_ah_attr {
	struct ib_global_route grh;
	__u8 sl;
	__u32 port_num;
	__u8 ah_flags;
	enum rdma_ah_attr_type type;
	union {
		struct ib_ah_attr ib;
	};
} __attribute__((preserve_access_index));

struct ib_qp_attr {
	enum ib_qp_state qp_state;
	__u32 rq_psn;
	__u32 sq_psn;
	__u32 dest_qp_num;
	struct rdma_ah_attr ah_attr;
	__u32 port_num;
} __attribute__((preserve_access_index));

struct ib_pd {
	struct ib_device *device;
} __attribute__((preserve_access_index));

struct ib_ah {
	struct ib_device *device;
} __attribute__((preserve_access_index));

/* enum ib_qp_attr_mask */
#define IB_QP_STATE (1 << 0)
#define IB_QP_PORT (1 << 5)
#define IB_QP_AV (1 << 7)
#define IB_QP_RQ_PSN (1 << 12)
#define IB_QP_SQ_PSN (1 << 16)
#define IB_QP_DEST_QPN (1 << 20)
#define IB_AH_GRH 1
#define RDMA_AH_ATTR_TYPE_IB 1

/* ---- maps ---- */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KOBS_MAX_QPS);
	__type(key, struct kobs_key_abi);
	__type(value, struct kobs_rec_abi);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} kobs_qps SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KOBS_MAX_AHS);
	__type(key, __u64);
	__type(value, struct kobs_rec_abi);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} kobs_ahs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, KOBS_RINGBUF_BYTES);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} kobs_events SEC(".maps");

/* Scratch for building a record (too big for the 512-byte stack together
 * with the rest). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kobs_rec_abi);
} kobs_scratch SEC(".maps");

/* Destroys in flight: thread -> key, committed at fexit when it succeeded. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);
	__type(value, struct kobs_key_abi);
} kobs_dying SEC(".maps");

static __always_inline struct kobs_rec_abi *scratch(void)
{
	__u32 zero = 0;
	struct kobs_rec_abi *r = bpf_map_lookup_elem(&kobs_scratch, &zero);

	if (r)
		__builtin_memset(r, 0, sizeof(*r));
	return r;
}

static __always_inline __u32 name_hash(const char *s)
{
	__u32 h = 2166136261u;

	for (int i = 0; i < KOBS_DEV_NAME_MAX; i++) {
		if (!s[i])
			break;
		h ^= (__u8)s[i];
		h *= 16777619u;
	}
	return h;
}

static __always_inline void fill_dev(struct kobs_rec_abi *r, struct ib_device *dev)
{
	bpf_probe_read_kernel_str(r->dev, sizeof(r->dev), &dev->name);
	r->dev_index = BPF_CORE_READ(dev, index);
	r->dev_hash = name_hash(r->dev);
}

/* The owner: the task restrack charged the object to when there is one (the
 * creator), else the current task. */
static __always_inline void fill_owner(struct kobs_rec_abi *r, struct task_struct *t)
{
	struct task_struct *leader;

	if (t)
		r->flags |= KOBS_F_OWNER_RES;
	else
		t = (struct task_struct *)bpf_get_current_task();
	leader = BPF_CORE_READ(t, group_leader);
	r->tgid = BPF_CORE_READ(t, tgid);
	r->start_ns = BPF_CORE_READ(leader, start_boottime);
	r->cgroup_id = BPF_CORE_READ(t, cgroups, dfl_cgrp, kn, id);
	bpf_probe_read_kernel_str(r->comm, sizeof(r->comm), &leader->comm);
}

static __always_inline void emit(__u32 kind, const struct kobs_rec_abi *r)
{
	struct kobs_ev_abi *ev = bpf_ringbuf_reserve(&kobs_events, sizeof(*ev), 0);

	if (!ev)
		return;
	ev->kind = kind;
	ev->reserved = 0;
	__builtin_memcpy(&ev->rec, r, sizeof(*r));
	bpf_ringbuf_submit(ev, 0);
}

static __always_inline void fill_qp(struct kobs_rec_abi *r, struct ib_qp *qp)
{
	fill_dev(r, BPF_CORE_READ(qp, device));
	r->qpn = BPF_CORE_READ(qp, qp_num);
	r->qp_type = (__u8)BPF_CORE_READ(qp, qp_type);
	r->port = BPF_CORE_READ(qp, port);
	fill_owner(r, BPF_CORE_READ(qp, res.task));
}

/* The address vector of an rdma_ah_attr (a QP's primary path or an AH). */
static __always_inline void fill_av(struct kobs_rec_abi *r, struct rdma_ah_attr *ah)
{
	__u8 ah_flags = BPF_CORE_READ(ah, ah_flags);

	r->flags |= KOBS_F_AV;
	r->sl = BPF_CORE_READ(ah, sl);
	r->av_port = BPF_CORE_READ(ah, port_num);
	r->av_type = (__u8)BPF_CORE_READ(ah, type);
	r->dlid = r->av_type == RDMA_AH_ATTR_TYPE_IB ? BPF_CORE_READ(ah, ib.dlid) : 0;
	if (ah_flags & IB_AH_GRH) {
		r->flags |= KOBS_F_GRH;
		bpf_probe_read_kernel(r->dgid, sizeof(r->dgid), &ah->grh.dgid.raw);
		r->sgid_index = BPF_CORE_READ(ah, grh.sgid_index);
		r->hop_limit = BPF_CORE_READ(ah, grh.hop_limit);
		r->flow_label = BPF_CORE_READ(ah, grh.flow_label);
	} else {
		__builtin_memset(r->dgid, 0, sizeof(r->dgid));
		r->sgid_index = 0;
	}
}

SEC("fexit/ib_create_qp_user")
int BPF_PROG(kobs_qp_create, struct ib_device *dev, struct ib_pd *pd, void *init_attr,
	     void *udata, void *uobj, const char *caller, struct ib_qp *qp)
{
	struct kobs_rec_abi *r;
	struct kobs_key_abi key;

	if ((unsigned long)qp >= (unsigned long)-4095L || !qp)
		return 0;
	r = scratch();
	if (!r)
		return 0;
	fill_qp(r, qp);
	r->flags |= KOBS_F_CREATE;
	r->create_ns = r->update_ns = bpf_ktime_get_boot_ns();
	key.dev_hash = r->dev_hash;
	key.qpn = r->qpn;
	bpf_map_update_elem(&kobs_qps, &key, r, BPF_ANY);
	emit(KOBS_EV_CREATE, r);
	return 0;
}

SEC("fexit/ib_modify_qp_with_udata")
int BPF_PROG(kobs_qp_modify, struct ib_qp *qp, struct ib_qp_attr *attr, int mask,
	     void *udata, int ret)
{
	struct kobs_rec_abi *r, *old;
	struct kobs_key_abi key;

	if (ret)
		return 0;
	r = scratch();
	if (!r)
		return 0;
	fill_dev(r, BPF_CORE_READ(qp, device));
	key.dev_hash = r->dev_hash;
	key.qpn = BPF_CORE_READ(qp, qp_num);
	old = bpf_map_lookup_elem(&kobs_qps, &key);
	if (old) {
		__builtin_memcpy(r, old, sizeof(*r));
	} else {
		/* Created before kobs was loaded: learn it now. */
		fill_qp(r, qp);
		r->create_ns = bpf_ktime_get_boot_ns();
	}
	r->update_ns = bpf_ktime_get_boot_ns();
	if (mask & IB_QP_STATE)
		r->state = (__u8)BPF_CORE_READ(attr, qp_state);
	if (mask & IB_QP_PORT)
		r->port = BPF_CORE_READ(attr, port_num);
	if (mask & IB_QP_DEST_QPN) {
		r->dest_qpn = BPF_CORE_READ(attr, dest_qp_num);
		r->flags |= KOBS_F_DEST;
	}
	if (mask & IB_QP_AV)
		fill_av(r, &attr->ah_attr);
	if (mask & IB_QP_SQ_PSN) {
		r->sq_psn = BPF_CORE_READ(attr, sq_psn);
		r->flags |= KOBS_F_SQ_PSN;
	}
	if (mask & IB_QP_RQ_PSN) {
		r->rq_psn = BPF_CORE_READ(attr, rq_psn);
		r->flags |= KOBS_F_RQ_PSN;
	}
	bpf_map_update_elem(&kobs_qps, &key, r, BPF_ANY);
	emit(KOBS_EV_MODIFY, r);
	return 0;
}

SEC("fentry/ib_destroy_qp_user")
int BPF_PROG(kobs_qp_destroy_enter, struct ib_qp *qp, void *udata)
{
	struct kobs_key_abi key;
	char name[KOBS_DEV_NAME_MAX];
	__u64 tid = bpf_get_current_pid_tgid();

	bpf_probe_read_kernel_str(name, sizeof(name), BPF_CORE_READ(qp, device)->name);
	key.dev_hash = name_hash(name);
	key.qpn = BPF_CORE_READ(qp, qp_num);
	bpf_map_update_elem(&kobs_dying, &tid, &key, BPF_ANY);
	return 0;
}

SEC("fexit/ib_destroy_qp_user")
int BPF_PROG(kobs_qp_destroy, struct ib_qp *qp, void *udata, int ret)
{
	__u64 tid = bpf_get_current_pid_tgid();
	struct kobs_key_abi *key = bpf_map_lookup_elem(&kobs_dying, &tid);
	struct kobs_rec_abi *old, *r;

	if (!key)
		return 0;
	if (!ret) {
		old = bpf_map_lookup_elem(&kobs_qps, key);
		r = scratch();
		if (old && r) {
			__builtin_memcpy(r, old, sizeof(*r));
			r->update_ns = bpf_ktime_get_boot_ns();
			emit(KOBS_EV_DESTROY, r);
		}
		bpf_map_delete_elem(&kobs_qps, key);
	}
	bpf_map_delete_elem(&kobs_dying, &tid);
	return 0;
}

SEC("fexit/rdma_create_user_ah")
int BPF_PROG(kobs_ah_create, struct ib_pd *pd, struct rdma_ah_attr *ah_attr, void *udata,
	     struct ib_ah *ah)
{
	struct kobs_rec_abi *r;
	__u64 handle = (__u64)(unsigned long)ah;

	if ((unsigned long)ah >= (unsigned long)-4095L || !ah)
		return 0;
	r = scratch();
	if (!r)
		return 0;
	fill_dev(r, BPF_CORE_READ(pd, device));
	fill_owner(r, 0);
	r->port = BPF_CORE_READ(ah_attr, port_num);
	fill_av(r, ah_attr);
	r->handle = handle;
	r->create_ns = r->update_ns = bpf_ktime_get_boot_ns();
	bpf_map_update_elem(&kobs_ahs, &handle, r, BPF_ANY);
	emit(KOBS_EV_AH_CREATE, r);
	return 0;
}

SEC("fentry/rdma_destroy_ah_user")
int BPF_PROG(kobs_ah_destroy, struct ib_ah *ah, __u32 flags, void *udata)
{
	__u64 handle = (__u64)(unsigned long)ah;
	struct kobs_rec_abi *old = bpf_map_lookup_elem(&kobs_ahs, &handle);
	struct kobs_rec_abi *r;

	if (!old)
		return 0;
	r = scratch();
	if (r) {
		__builtin_memcpy(r, old, sizeof(*r));
		r->update_ns = bpf_ktime_get_boot_ns();
		emit(KOBS_EV_AH_DESTROY, r);
	}
	bpf_map_delete_elem(&kobs_ahs, &handle);
	return 0;
}
