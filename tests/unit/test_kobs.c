/* Unit tests for what kobs does without a kernel: decoding of the records
 * the BPF side writes, the pin-path rules, the device-name hash, the start
 * time in /proc ticks, and the reasons kobs_open gives. */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include "sema/bpf/kobs.h"
#include "sema/bpf/kobs_abi.h"
#include "tests/unit/tap.h"

/* A record as the kernel side writes it: an RC QP on rxe0 in RTS. */
static void make_rec(struct kobs_rec_abi *r)
{
	memset(r, 0, sizeof(*r));
	strcpy(r->dev, "rxe0");
	strcpy(r->comm, "ibv_rc_pingpong");
	r->dev_index = 3;
	r->dev_hash = kobs_dev_hash("rxe0");
	r->qpn = 17;
	r->port = 1;
	r->qp_type = 2;
	r->state = 3;
	r->flags = KOBS_F_CREATE | KOBS_F_DEST | KOBS_F_AV | KOBS_F_GRH | KOBS_F_SQ_PSN |
		   KOBS_F_OWNER_RES;
	r->dest_qpn = 18;
	r->dlid = 0;
	r->sl = 2;
	r->av_port = 1;
	r->av_type = KOBS_AV_ROCE;
	r->dgid[0] = 0xfd;
	r->dgid[15] = 2;
	r->sgid_index = 2;
	r->hop_limit = 64;
	r->sq_psn = 0x123456;
	r->rq_psn = 0x777777;	/* flag not set: must not show */
	r->tgid = 4242;
	r->start_ns = 1234567890123ull;
	r->cgroup_id = 99;
	r->create_ns = 5;
	r->update_ns = 6;
}

static void test_decode(void)
{
	struct kobs_rec_abi r;
	unsigned char buf[sizeof(r) + 1];
	struct kobs_qp q;

	make_rec(&r);
	is_int(kobs_decode(&r, sizeof(r), &q), 0, "valid record decodes");
	is_str(q.dev, "rxe0", "device name");
	is_int(q.dev_index, 3, "device index");
	is_int(q.qpn, 17, "qpn");
	is_int(q.dest_qpn, 18, "dest qpn");
	is_int(q.type, 2, "type RC");
	is_int(q.state, 3, "state RTS");
	is_int(q.tgid, 4242, "owner pid");
	is_int(q.start_ns, 1234567890123ull, "owner start");
	is_int(q.cgroup_id, 99, "cgroup id");
	is_str(q.comm, "ibv_rc_pingpong", "comm");
	ok(q.dgid[0] == 0xfd && q.dgid[15] == 2, "dgid");
	is_int(q.sl, 2, "sl");
	is_int(q.av_port, 1, "av port");
	is_int(q.sq_psn, 0x123456, "sq psn (flag set)");
	is_int(q.rq_psn, 0, "rq psn hidden (flag not set)");

	/* At an odd address: the same. */
	memcpy(buf + 1, &r, sizeof(r));
	is_int(kobs_decode(buf + 1, sizeof(r), &q), 0, "unaligned record decodes");
	is_int(q.qpn, 17, "unaligned qpn");

	/* Fields hidden when their flag is off. */
	r.flags = KOBS_F_CREATE;
	is_int(kobs_decode(&r, sizeof(r), &q), 0, "record without destination decodes");
	ok(q.dest_qpn == 0 && q.dgid[0] == 0 && q.sl == 0 && q.av_port == 0,
	   "no destination fields without their flags");

	make_rec(&r);
	is_int(kobs_decode(&r, sizeof(r) - 1, &q), -EBADMSG, "short record refused");
	is_int(kobs_decode(&r, sizeof(r) + 1, &q), -EBADMSG, "long record refused");
	is_int(kobs_decode(NULL, sizeof(r), &q), -EBADMSG, "NULL refused");
	memset(r.dev, 'x', sizeof(r.dev));
	is_int(kobs_decode(&r, sizeof(r), &q), -EBADMSG, "unterminated device name refused");
	ok(q.dev[0] == 0 && q.qpn == 0, "output cleared on refusal");
	make_rec(&r);
	r.dev[0] = 0;
	is_int(kobs_decode(&r, sizeof(r), &q), -EBADMSG, "empty device name refused");
	make_rec(&r);
	memset(r.comm, 'c', sizeof(r.comm));
	is_int(kobs_decode(&r, sizeof(r), &q), -EBADMSG, "unterminated comm refused");
	make_rec(&r);
	r.flags |= 0x80;
	is_int(kobs_decode(&r, sizeof(r), &q), -EBADMSG, "unknown flag refused");
	make_rec(&r);
	r.state = 7;
	is_int(kobs_decode(&r, sizeof(r), &q), -EBADMSG, "state out of range refused");
	make_rec(&r);
	r.dev_hash ^= 1;
	is_int(kobs_decode(&r, sizeof(r), &q), -EBADMSG, "key hash not matching the name refused");
	make_rec(&r);
	r.dest_qpn = 0xff000012;
	is_int(kobs_decode(&r, sizeof(r), &q), 0, "wide dest qpn decodes");
	is_int(q.dest_qpn, 0x12, "dest qpn kept to 24 bits");
}

static void test_event(void)
{
	struct kobs_ev_abi ev;
	enum kobs_ev_kind kind;
	struct kobs_qp q;

	memset(&ev, 0, sizeof(ev));
	ev.kind = KOBS_EV_DESTROY;
	make_rec(&ev.rec);
	is_int(kobs_decode_event(&ev, sizeof(ev), &kind, &q), 0, "event decodes");
	is_int(kind, KOBS_DESTROY, "event kind");
	is_int(q.qpn, 17, "event record");
	ev.kind = 9;
	is_int(kobs_decode_event(&ev, sizeof(ev), &kind, &q), -EBADMSG, "unknown kind refused");
	ev.kind = KOBS_EV_CREATE;
	is_int(kobs_decode_event(&ev, sizeof(ev) - 8, &kind, &q), -EBADMSG, "short event refused");
}

static void test_paths(void)
{
	char b[64];

	is_int(kobs_pin_path("/sys/fs/bpf/ias", "kobs_qps", b, sizeof(b)), 0, "pin path");
	is_str(b, "/sys/fs/bpf/ias/kobs_qps", "pin path joined");
	is_int(kobs_pin_path("/sys/fs/bpf/ias///", "m", b, sizeof(b)), 0, "trailing slashes");
	is_str(b, "/sys/fs/bpf/ias/m", "trailing slashes dropped");
	is_int(kobs_pin_path("/", "m", b, sizeof(b)), 0, "root dir");
	is_str(b, "/m", "root dir joined");
	is_int(kobs_pin_path("ias", "m", b, sizeof(b)), -EINVAL, "relative dir refused");
	is_int(kobs_pin_path("", "m", b, sizeof(b)), -EINVAL, "empty dir refused");
	is_int(kobs_pin_path("/sys/fs/bpf/../etc", "m", b, sizeof(b)), -EINVAL, "\"..\" refused");
	is_int(kobs_pin_path("/sys/fs/bpf/..", "m", b, sizeof(b)), -EINVAL, "trailing \"..\" refused");
	is_int(kobs_pin_path("/sys/fs/bpf/a..b", "m", b, sizeof(b)), 0, "\"..\" inside a name is fine");
	is_int(kobs_pin_path("/sys/fs/bpf", "a/b", b, sizeof(b)), -EINVAL, "name with '/' refused");
	is_int(kobs_pin_path("/sys/fs/bpf", "", b, sizeof(b)), -EINVAL, "empty name refused");
	is_int(kobs_pin_path("/sys/fs/bpf/ias", "kobs_qps", b, 24), -ENAMETOOLONG, "too long");
	is_int(kobs_pin_path("/sys/fs/bpf/ias", "kobs_qps", b, 25), 0, "exact fit");
}

static void test_misc(void)
{
	char why[200];
	struct kobs *k = (struct kobs *)1;

	is_int(kobs_dev_hash(""), 2166136261u, "FNV-1a of the empty name");
	is_int(kobs_dev_hash("a"), 0xe40c292cu, "FNV-1a of \"a\"");
	ok(kobs_dev_hash("rxe0") != kobs_dev_hash("rxe1"), "rxe0 and rxe1 differ");
	is_int(kobs_start_ticks(1234567890123ull, 100), 123456, "start in ticks at USER_HZ 100");
	is_int(kobs_start_ticks(5, 0), 0, "bad clock rate gives 0");
	ok(strstr(kobs_strerror(-EPERM), "permission") != NULL, "EPERM reason");
	ok(strstr(kobs_strerror(-EOPNOTSUPP), "BTF") != NULL, "EOPNOTSUPP reason");
	ok(strstr(kobs_strerror(-ENOENT), "ib_core") != NULL, "ENOENT reason");

	is_int(kobs_open("relative/dir", &k, why, sizeof(why)), -EINVAL, "open: relative pin dir");
	ok(k == NULL, "open: no handle on failure");
	ok(strstr(why, "relative/dir") != NULL && !strchr(why, '\n'), "open: one-line reason: %s", why);
	/* On a kernel without BTF or RDMA (this host, most CI), or as non-root,
	 * the open fails with a reason and no handle. */
	if (access("/sys/kernel/btf/vmlinux", R_OK) != 0 || access("/sys/module/ib_core", F_OK) != 0) {
		int err = kobs_open("/sys/fs/bpf/ias-unit-test", &k, why, sizeof(why));

		ok(err == -EOPNOTSUPP || err == -ENOENT || err == -EPERM,
		   "open without BTF or ib_core fails: %d", err);
		ok(k == NULL && why[0] && !strchr(why, '\n'), "with a one-line reason: %s", why);
	}
	is_int(kobs_unpin("rel", why, sizeof(why)), -EINVAL, "unpin: relative dir refused");
}

int main(void)
{
	test_decode();
	test_event();
	test_paths();
	test_misc();
	return tap_done();
}
