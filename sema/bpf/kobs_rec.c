/* kobs: the parts that need no kernel -- record decoding, the pin path, the
 * device-name hash, names and reasons. */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "sema/bpf/kobs.h"
#include "sema/bpf/kobs_abi.h"

/* The layout both compilers must agree on (see kobs_abi.h). */
_Static_assert(sizeof(struct kobs_key_abi) == 8, "kobs key layout");
_Static_assert(offsetof(struct kobs_rec_abi, start_ns) == 0, "kobs rec layout");
_Static_assert(offsetof(struct kobs_rec_abi, handle) == 32, "kobs rec layout");
_Static_assert(offsetof(struct kobs_rec_abi, dgid) == 40, "kobs rec layout");
_Static_assert(offsetof(struct kobs_rec_abi, dev) == 56, "kobs rec layout");
_Static_assert(offsetof(struct kobs_rec_abi, comm) == 120, "kobs rec layout");
_Static_assert(offsetof(struct kobs_rec_abi, dev_index) == 136, "kobs rec layout");
_Static_assert(offsetof(struct kobs_rec_abi, flow_label) == 176, "kobs rec layout");
_Static_assert(offsetof(struct kobs_rec_abi, dlid) == 180, "kobs rec layout");
_Static_assert(offsetof(struct kobs_rec_abi, hop_limit) == 187, "kobs rec layout");
_Static_assert(sizeof(struct kobs_rec_abi) == 192, "kobs rec layout");
_Static_assert(offsetof(struct kobs_ev_abi, rec) == 8, "kobs event layout");
_Static_assert(sizeof(struct kobs_ev_abi) == 200, "kobs event layout");
_Static_assert(KOBS_QP_FLAGS_ALL == (KOBS_F_CREATE | KOBS_F_DEST | KOBS_F_AV | KOBS_F_GRH |
				     KOBS_F_SQ_PSN | KOBS_F_RQ_PSN | KOBS_F_OWNER_RES),
	       "kobs flags");
_Static_assert(KOBS_NAME_MAX == KOBS_DEV_NAME_MAX && KOBS_COMM_MAX == KOBS_COMM_LEN,
	       "kobs name sizes");

uint32_t kobs_dev_hash(const char *name)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < KOBS_DEV_NAME_MAX && name[i]; i++) {
		h ^= (uint8_t)name[i];
		h *= 16777619u;
	}
	return h;
}

int kobs_pin_path(const char *pin_dir, const char *name, char *buf, size_t len)
{
	const char *p;
	size_t dl, nl;

	if (!pin_dir || !name || !buf || pin_dir[0] != '/' || !name[0] || strchr(name, '/'))
		return -EINVAL;
	/* No ".." component anywhere. */
	for (p = pin_dir; (p = strstr(p, "..")) != NULL; p += 2)
		if ((p == pin_dir || p[-1] == '/') && (p[2] == '/' || p[2] == '\0'))
			return -EINVAL;
	dl = strlen(pin_dir);
	while (dl > 1 && pin_dir[dl - 1] == '/')
		dl--;
	nl = strlen(name);
	if (dl + 1 + nl + 1 > len)
		return -ENAMETOOLONG;
	memcpy(buf, pin_dir, dl);
	if (dl == 1)	/* "/" */
		dl = 0;
	buf[dl] = '/';
	memcpy(buf + dl + 1, name, nl + 1);
	return 0;
}

static int copy_str(char *dst, const char *src, size_t n)
{
	if (!memchr(src, '\0', n))
		return -EBADMSG;
	memcpy(dst, src, n);
	return 0;
}

int kobs_decode(const void *val, size_t len, struct kobs_qp *out)
{
	struct kobs_rec_abi r;

	memset(out, 0, sizeof(*out));
	if (!val || len != sizeof(r))
		return -EBADMSG;
	memcpy(&r, val, sizeof(r));	/* the map's bytes, at any alignment */
	if (copy_str(out->dev, r.dev, sizeof(out->dev)) || !out->dev[0] ||
	    copy_str(out->comm, r.comm, sizeof(out->comm)) ||
	    (r.flags & ~(uint32_t)KOBS_QP_FLAGS_ALL) || r.state > 6 || r.av_type > KOBS_AV_OPA ||
	    r.dev_hash != kobs_dev_hash(out->dev)) {
		memset(out, 0, sizeof(*out));
		return -EBADMSG;
	}
	out->dev_index = r.dev_index;
	out->port = r.port;
	out->qpn = r.qpn;
	out->type = r.qp_type;
	out->state = r.state;
	out->flags = r.flags;
	if (r.flags & KOBS_F_DEST)
		out->dest_qpn = r.dest_qpn & 0xffffff;
	if (r.flags & KOBS_F_AV) {
		out->dlid = r.dlid;
		out->sl = r.sl;
		out->av_type = r.av_type;
		out->av_port = r.av_port;
	}
	if (r.flags & KOBS_F_GRH) {
		memcpy(out->dgid, r.dgid, sizeof(out->dgid));
		out->sgid_index = r.sgid_index;
		out->hop_limit = r.hop_limit;
		out->flow_label = r.flow_label;
	}
	if (r.flags & KOBS_F_SQ_PSN)
		out->sq_psn = r.sq_psn & 0xffffff;
	if (r.flags & KOBS_F_RQ_PSN)
		out->rq_psn = r.rq_psn & 0xffffff;
	out->tgid = r.tgid;
	out->start_ns = r.start_ns;
	out->cgroup_id = r.cgroup_id;
	out->create_ns = r.create_ns;
	out->update_ns = r.update_ns;
	out->handle = r.handle;
	return 0;
}

int kobs_decode_event(const void *data, size_t len, enum kobs_ev_kind *kind, struct kobs_qp *out)
{
	const unsigned char *p = data;
	uint32_t k;

	memset(out, 0, sizeof(*out));
	*kind = 0;
	/* The ring buffer hands out the exact reserved size. */
	if (!data || len != sizeof(struct kobs_ev_abi))
		return -EBADMSG;
	memcpy(&k, p + offsetof(struct kobs_ev_abi, kind), sizeof(k));
	if (k < KOBS_EV_CREATE || k > KOBS_EV_AH_DESTROY)
		return -EBADMSG;
	if (kobs_decode(p + offsetof(struct kobs_ev_abi, rec), sizeof(struct kobs_rec_abi), out))
		return -EBADMSG;
	*kind = (enum kobs_ev_kind)k;
	return 0;
}

const char *kobs_strerror(int err)
{
	switch (err < 0 ? -err : err) {
	case 0: return "ok";
	case EOPNOTSUPP: return "the kernel cannot run these BPF programs (no BTF, or no fentry/fexit)";
	case EPERM:
	case EACCES: return "no permission to load BPF programs (needs root or CAP_BPF+CAP_PERFMON)";
	case ENOENT: return "ib_core is not loaded";
	case EINVAL: return "invalid pin directory (absolute, without \"..\")";
	case ENOTDIR: return "the pin directory is not on a bpf filesystem (mount -t bpf bpf /sys/fs/bpf)";
	case ENAMETOOLONG: return "pin directory path too long";
	case EPROTO: return "pinned maps of another layout (kobs_unpin them first)";
	case ENOMEM: return "out of memory (or locked-memory limit)";
	default: return "BPF load failed";
	}
}

uint64_t kobs_start_ticks(uint64_t start_ns, long clk_tck)
{
	if (clk_tck <= 0 || clk_tck > 1000000000L)
		return 0;
	return start_ns / (1000000000ull / (uint64_t)clk_tck);
}
