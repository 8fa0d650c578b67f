/* Unit tests for sema/rdmanl: RES_QP_GET dump buffers are built by hand with
 * libmnl, the way the kernel lays them out, and decoded. */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <rdma/rdma_netlink.h>

#include "sema/rdmanl.h"
#include "tests/unit/corpus_file.h"
#include "tests/unit/tap.h"

#define QP_MSG RDMA_NL_GET_TYPE(RDMA_NL_NLDEV, RDMA_NLDEV_CMD_RES_QP_GET)

static union {
	char c[16384];
	uint32_t align;
} b;
static size_t blen;

/* What one QP entry should carry; fields < 0 are left out. */
struct spec {
	long port, lqpn, rqpn, rq_psn, sq_psn, type, state, pid, pdn;
	const char *kern;
};

static const struct spec rc_a = { 1, 17, 18, 100, 200, 2, 3, 4242, -1, NULL };
static const struct spec rc_b = { 1, 18, 17, 200, 100, 2, 3, 4243, -1, NULL };
static const struct spec ud = { 1, 19, -1, -1, 7, 4, 3, 4244, -1, NULL };
static const struct spec gsi = { 1, 1, -1, -1, 0, 1, 3, -1, -1, "ib_core" };

static void reset(void)
{
	memset(&b, 0, sizeof(b));
	blen = 0;
}

static struct nlmsghdr *msg_begin(uint16_t type)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(b.c + blen);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_MULTI;
	nlh->nlmsg_seq = 7;
	return nlh;
}

static void msg_end(struct nlmsghdr *nlh)
{
	blen += MNL_ALIGN(nlh->nlmsg_len);
}

static void put_entry(struct nlmsghdr *nlh, const struct spec *s)
{
	struct nlattr *e = mnl_attr_nest_start(nlh, RDMA_NLDEV_ATTR_RES_QP_ENTRY);

	if (s->port >= 0)
		mnl_attr_put_u32(nlh, RDMA_NLDEV_ATTR_PORT_INDEX, (uint32_t)s->port);
	if (s->lqpn >= 0)
		mnl_attr_put_u32(nlh, RDMA_NLDEV_ATTR_RES_LQPN, (uint32_t)s->lqpn);
	if (s->pdn >= 0)
		mnl_attr_put_u32(nlh, RDMA_NLDEV_ATTR_RES_PDN, (uint32_t)s->pdn);
	if (s->pid >= 0)
		mnl_attr_put_u32(nlh, RDMA_NLDEV_ATTR_RES_PID, (uint32_t)s->pid);
	if (s->kern)
		mnl_attr_put_strz(nlh, RDMA_NLDEV_ATTR_RES_KERN_NAME, s->kern);
	if (s->rqpn >= 0)
		mnl_attr_put_u32(nlh, RDMA_NLDEV_ATTR_RES_RQPN, (uint32_t)s->rqpn);
	if (s->rq_psn >= 0)
		mnl_attr_put_u32(nlh, RDMA_NLDEV_ATTR_RES_RQ_PSN, (uint32_t)s->rq_psn);
	if (s->sq_psn >= 0)
		mnl_attr_put_u32(nlh, RDMA_NLDEV_ATTR_RES_SQ_PSN, (uint32_t)s->sq_psn);
	if (s->rqpn >= 0)
		mnl_attr_put_u8(nlh, RDMA_NLDEV_ATTR_RES_PATH_MIG_STATE, 2);
	if (s->type >= 0)
		mnl_attr_put_u8(nlh, RDMA_NLDEV_ATTR_RES_TYPE, (uint8_t)s->type);
	if (s->state >= 0)
		mnl_attr_put_u8(nlh, RDMA_NLDEV_ATTR_RES_STATE, (uint8_t)s->state);
	mnl_attr_nest_end(nlh, e);
}

static void put_dev(struct nlmsghdr *nlh, uint32_t idx, const char *name)
{
	mnl_attr_put_u32(nlh, RDMA_NLDEV_ATTR_DEV_INDEX, idx);
	mnl_attr_put_strz(nlh, RDMA_NLDEV_ATTR_DEV_NAME, name);
}

/* A whole QP message for device idx/name with n entries. */
static struct nlmsghdr *qp_msg(uint32_t idx, const char *name, const struct spec *const *s, int n)
{
	struct nlmsghdr *nlh = msg_begin(QP_MSG);
	struct nlattr *t;
	int i;

	put_dev(nlh, idx, name);
	t = mnl_attr_nest_start(nlh, RDMA_NLDEV_ATTR_RES_QP);
	for (i = 0; i < n; i++)
		put_entry(nlh, s[i]);
	mnl_attr_nest_end(nlh, t);
	msg_end(nlh);
	return nlh;
}

static void put_done(int err)
{
	struct nlmsghdr *nlh = msg_begin(NLMSG_DONE);

	memcpy(mnl_nlmsg_put_extra_header(nlh, sizeof(err)), &err, sizeof(err));
	msg_end(nlh);
}

static void put_error(int err, int full)
{
	struct nlmsghdr *nlh = msg_begin(NLMSG_ERROR);
	struct nlmsgerr e = { .error = err };

	memcpy(mnl_nlmsg_put_extra_header(nlh, full ? sizeof(e) : sizeof(int)), &e,
	       full ? sizeof(e) : sizeof(int));
	msg_end(nlh);
}

#define MAXQ 16
static struct ias_kqp got[MAXQ];
static int ngot, stop_after, stop_value;

static int collect(const struct ias_kqp *q, void *arg)
{
	(void)arg;
	if (ngot < MAXQ)
		got[ngot] = *q;
	ngot++;
	if (stop_after && ngot >= stop_after)
		return stop_value;
	return 0;
}

static int parse(void)
{
	ngot = 0;
	memset(got, 0, sizeof(got));
	return ias_rdmanl_parse(b.c, blen, collect, NULL);
}

static void test_good_dump(void)
{
	const struct spec *const all[] = { &gsi, &rc_a, &rc_b, &ud };
	int r;

	reset();
	qp_msg(3, "rxe0", all, 4);
	put_done(0);
	r = parse();
	is_int(r, IAS_RDMANL_DONE, "well-formed dump decodes to DONE");
	is_int(ngot, 4, "four QPs reported");

	is_str(got[0].dev_name, "rxe0", "dev name");
	is_int(got[0].dev_index, 3, "dev index");
	is_int(got[0].lqpn, 1, "GSI lqpn");
	is_str(ias_kqp_type_str(got[0].type), "GSI", "GSI type");
	is_int(got[0].has_pid, 0, "kernel QP has no pid");
	is_str(got[0].kern_name, "ib_core", "kernel QP carries its kernel name");
	is_int(got[0].has_rqpn, 0, "GSI has no rqpn");
	is_int(got[0].pdn, 0, "kernel QP reports no pdn");

	is_int(got[1].lqpn, 17, "RC A lqpn");
	is_int(got[1].rqpn, 18, "RC A rqpn");
	ok(got[1].has_rqpn && got[1].has_rq_psn, "RC A has rqpn and rq_psn");
	is_int(got[1].rq_psn, 100, "RC A rq_psn");
	is_int(got[1].sq_psn, 200, "RC A sq_psn");
	ok(got[1].has_pid && got[1].pid == 4242, "RC A pid 4242");
	is_str(got[1].kern_name, "", "user QP has no kernel name");
	is_str(ias_kqp_type_str(got[1].type), "RC", "RC type");
	is_str(ias_kqp_state_str(got[1].state), "RTS", "RTS state");
	is_int(got[1].port, 1, "port");
	ok(got[2].rqpn == got[1].lqpn && got[1].rqpn == got[2].lqpn, "RC pair points at each other");

	is_str(ias_kqp_type_str(got[3].type), "UD", "UD type");
	ok(!got[3].has_rqpn && !got[3].has_rq_psn, "UD has no rqpn/rq_psn");
	is_int(got[3].sq_psn, 7, "UD sq_psn");
}

static void test_pdn_and_two_devices(void)
{
	struct spec withpd = rc_a;
	const struct spec *one[] = { &withpd };
	const struct spec *two[] = { &ud };
	int r;

	withpd.pdn = 5;
	withpd.port = -1;
	reset();
	qp_msg(1, "rxe0", one, 1);
	qp_msg(2, "rxe1", two, 1);
	r = parse();
	is_int(r, IAS_RDMANL_MORE, "no NLMSG_DONE yet: MORE");
	is_int(ngot, 2, "one QP per device message");
	is_int(got[0].pdn, 5, "pdn decoded");
	is_int(got[0].port, 0, "absent port reads as 0");
	ok(got[1].dev_index == 2 && strcmp(got[1].dev_name, "rxe1") == 0, "second device");

	/* Device message without a QP table: nothing to report. */
	reset();
	{
		struct nlmsghdr *nlh = msg_begin(QP_MSG);

		put_dev(nlh, 1, "rxe0");
		msg_end(nlh);
	}
	put_done(0);
	r = parse();
	ok(r == IAS_RDMANL_DONE && ngot == 0, "device without QP table is empty, not an error");

	reset();
	is_int(parse(), IAS_RDMANL_MORE, "empty buffer: nothing, MORE");
}

static void test_flags_and_unknown(void)
{
	struct nlmsghdr *nlh;
	struct nlattr *t, *e, *drv;
	int r;

	/* Nests flagged NLA_F_NESTED, a driver nest and an attribute type from a
	 * newer kernel are accepted. */
	reset();
	nlh = msg_begin(QP_MSG);
	put_dev(nlh, 1, "rxe0");
	mnl_attr_put_u32(nlh, RDMA_NLDEV_ATTR_MAX + 5, 99);
	t = mnl_attr_nest_start(nlh, RDMA_NLDEV_ATTR_RES_QP);
	e = mnl_attr_nest_start(nlh, RDMA_NLDEV_ATTR_RES_QP_ENTRY);
	mnl_attr_put_u32(nlh, RDMA_NLDEV_ATTR_RES_LQPN, 33);
	mnl_attr_put_u8(nlh, RDMA_NLDEV_ATTR_RES_TYPE, 2);
	mnl_attr_put_u8(nlh, RDMA_NLDEV_ATTR_RES_STATE, 1);
	drv = mnl_attr_nest_start(nlh, RDMA_NLDEV_ATTR_DRIVER);
	mnl_attr_put_strz(nlh, RDMA_NLDEV_ATTR_DRIVER_STRING, "x");
	mnl_attr_nest_end(nlh, drv);
	mnl_attr_nest_end(nlh, e);
	mnl_attr_nest_end(nlh, t);
	t->nla_type |= NLA_F_NESTED;
	e->nla_type |= NLA_F_NESTED;
	msg_end(nlh);
	r = parse();
	ok(r == IAS_RDMANL_MORE && ngot == 1 && got[0].lqpn == 33,
	   "NLA_F_NESTED, driver nest and unknown attribute accepted");
	is_str(ias_kqp_state_str(got[0].state), "INIT", "INIT state");
}

static void test_stop_and_unaligned(void)
{
	const struct spec *const all[] = { &gsi, &rc_a, &rc_b };
	static union { char c[16384 + 8]; uint32_t a; } shifted;
	int r;

	reset();
	qp_msg(1, "rxe0", all, 3);
	put_done(0);
	stop_after = 2;
	stop_value = 1;
	r = parse();
	ok(r == IAS_RDMANL_STOPPED && ngot == 2, "positive callback value stops the walk");
	stop_value = -ECANCELED;
	r = parse();
	ok(r == -ECANCELED && ngot == 2, "negative callback value is handed back");
	stop_after = 0;

	memcpy(shifted.c + 1, b.c, blen);
	ngot = 0;
	r = ias_rdmanl_parse(shifted.c + 1, blen, collect, NULL);
	ok(r == IAS_RDMANL_DONE && ngot == 3 && got[2].lqpn == 18, "unaligned buffer decodes the same");
	is_int(ias_rdmanl_parse(NULL, 0, collect, NULL), -EINVAL, "NULL buffer is -EINVAL");
}

/* Malformed input: each case must be rejected with the given errno and,
 * because a message is validated whole before its first callback, report
 * nothing from the bad message. */
static void expect_reject(int want, const char *name)
{
	int r = parse();

	if (!ok(r == want && ngot == 0, "rejected: %s", name))
		printf("#   got %d (%d QPs), want %d\n", r, ngot, want);
}

static void test_malformed(void)
{
	const struct spec *const all[] = { &rc_a, &rc_b };
	struct nlmsghdr *nlh;
	struct nlattr *t, *e;
	struct spec s;
	size_t full;

	/* Truncated in the middle of the message. */
	reset();
	qp_msg(1, "rxe0", all, 2);
	full = blen;
	blen = full - 12;
	expect_reject(-EBADMSG, "message cut short");

	/* Header claims more than the nest holds: truncated nest. */
	reset();
	nlh = qp_msg(1, "rxe0", all, 2);
	t = (struct nlattr *)((char *)mnl_nlmsg_get_payload(nlh) + 8 + MNL_ALIGN(4 + 5));
	t->nla_len += 8;
	expect_reject(-EBADMSG, "QP table nest longer than its message");

	/* Entry nest whose last attribute is cut short. */
	reset();
	nlh = msg_begin(QP_MSG);
	put_dev(nlh, 1, "rxe0");
	t = mnl_attr_nest_start(nlh, RDMA_NLDEV_ATTR_RES_QP);
	e = mnl_attr_nest_start(nlh, RDMA_NLDEV_ATTR_RES_QP_ENTRY);
	mnl_attr_put_u32(nlh, RDMA_NLDEV_ATTR_RES_LQPN, 3);
	mnl_attr_put_u8(nlh, RDMA_NLDEV_ATTR_RES_TYPE, 2);
	mnl_attr_put_u8(nlh, RDMA_NLDEV_ATTR_RES_STATE, 1);
	mnl_attr_put_u32(nlh, RDMA_NLDEV_ATTR_RES_SQ_PSN, 3);
	mnl_attr_nest_end(nlh, e);
	mnl_attr_nest_end(nlh, t);
	e->nla_len -= 4;        /* SQ_PSN now runs past the entry */
	msg_end(nlh);
	expect_reject(-EBADMSG, "entry nest truncated inside an attribute");

	/* Trailing bytes after the last attribute of a nest. */
	reset();
	nlh = msg_begin(QP_MSG);
	put_dev(nlh, 1, "rxe0");
	t = mnl_attr_nest_start(nlh, RDMA_NLDEV_ATTR_RES_QP);
	put_entry(nlh, &rc_a);
	mnl_nlmsg_put_extra_header(nlh, 4);     /* 4 zero bytes: nla_len 0 */
	mnl_attr_nest_end(nlh, t);
	msg_end(nlh);
	expect_reject(-EBADMSG, "garbage after the last entry of the QP table");

	/* Wrong attribute lengths. */
	reset();
	nlh = msg_begin(QP_MSG);
	put_dev(nlh, 1, "rxe0");
	t = mnl_attr_nest_start(nlh, RDMA_NLDEV_ATTR_RES_QP);
	e = mnl_attr_nest_start(nlh, RDMA_NLDEV_ATTR_RES_QP_ENTRY);
	mnl_attr_put_u16(nlh, RDMA_NLDEV_ATTR_RES_LQPN, 3);
	mnl_attr_put_u8(nlh, RDMA_NLDEV_ATTR_RES_TYPE, 2);
	mnl_attr_put_u8(nlh, RDMA_NLDEV_ATTR_RES_STATE, 1);
	mnl_attr_nest_end(nlh, e);
	mnl_attr_nest_end(nlh, t);
	msg_end(nlh);
	expect_reject(-EBADMSG, "LQPN of 2 bytes");

	reset();
	nlh = msg_begin(QP_MSG);
	put_dev(nlh, 1, "rxe0");
	t = mnl_attr_nest_start(nlh, RDMA_NLDEV_ATTR_RES_QP);
	e = mnl_attr_nest_start(nlh, RDMA_NLDEV_ATTR_RES_QP_ENTRY);
	mnl_attr_put_u32(nlh, RDMA_NLDEV_ATTR_RES_LQPN, 3);
	mnl_attr_put_u32(nlh, RDMA_NLDEV_ATTR_RES_TYPE, 2);
	mnl_attr_put_u8(nlh, RDMA_NLDEV_ATTR_RES_STATE, 1);
	mnl_attr_nest_end(nlh, e);
	mnl_attr_nest_end(nlh, t);
	msg_end(nlh);
	expect_reject(-EBADMSG, "TYPE of 4 bytes");

	reset();
	nlh = msg_begin(QP_MSG);
	mnl_attr_put_u32(nlh, RDMA_NLDEV_ATTR_DEV_INDEX, 1);
	mnl_attr_put(nlh, RDMA_NLDEV_ATTR_DEV_NAME, 4, "rxe0");
	msg_end(nlh);
	expect_reject(-EBADMSG, "device name without its NUL");

	reset();
	nlh = msg_begin(QP_MSG);
	put_dev(nlh, 1, "a-device-name-that-is-far-too-long-for-the-kernel-to-ever-send-it");
	msg_end(nlh);
	expect_reject(-EBADMSG, "device name of 64 characters or more");

	reset();
	nlh = msg_begin(QP_MSG);
	mnl_attr_put_u16(nlh, RDMA_NLDEV_ATTR_DEV_INDEX, 1);
	mnl_attr_put_strz(nlh, RDMA_NLDEV_ATTR_DEV_NAME, "rxe0");
	msg_end(nlh);
	expect_reject(-EBADMSG, "device index of 2 bytes");

	/* Missing mandatory attributes. */
	s = rc_a;
	s.lqpn = -1;
	{
		const struct spec *one[] = { &s };

		reset();
		qp_msg(1, "rxe0", one, 1);
		expect_reject(-EBADMSG, "entry without LQPN");
		s = rc_a;
		s.type = -1;
		reset();
		qp_msg(1, "rxe0", one, 1);
		expect_reject(-EBADMSG, "entry without TYPE");
		s = rc_a;
		s.kern = "ib_core";
		reset();
		qp_msg(1, "rxe0", one, 1);
		expect_reject(-EBADMSG, "entry with both a pid and a kernel name");
	}
	reset();
	nlh = msg_begin(QP_MSG);
	mnl_attr_put_strz(nlh, RDMA_NLDEV_ATTR_DEV_NAME, "rxe0");
	msg_end(nlh);
	expect_reject(-EBADMSG, "message without device index");

	/* Duplicate attribute, foreign attribute in the QP table. */
	reset();
	nlh = msg_begin(QP_MSG);
	put_dev(nlh, 1, "rxe0");
	mnl_attr_put_u32(nlh, RDMA_NLDEV_ATTR_DEV_INDEX, 2);
	msg_end(nlh);
	expect_reject(-EBADMSG, "duplicate device index");

	reset();
	nlh = msg_begin(QP_MSG);
	put_dev(nlh, 1, "rxe0");
	t = mnl_attr_nest_start(nlh, RDMA_NLDEV_ATTR_RES_QP);
	mnl_attr_put_u32(nlh, RDMA_NLDEV_ATTR_RES_LQPN, 3);
	mnl_attr_nest_end(nlh, t);
	msg_end(nlh);
	expect_reject(-EBADMSG, "QP table holding something other than entries");

	/* A bad second entry: the good first one is not reported either. */
	s = rc_b;
	s.state = -1;
	{
		const struct spec *two[] = { &rc_a, &s };

		reset();
		qp_msg(1, "rxe0", two, 2);
		expect_reject(-EBADMSG, "bad second entry (whole message validated first)");
	}

	/* Control messages. */
	reset();
	put_error(-EPERM, 1);
	expect_reject(-EPERM, "NLMSG_ERROR carries its errno");
	reset();
	put_error(0, 1);
	expect_reject(-EBADMSG, "NLMSG_ERROR without an error (stray ACK)");
	reset();
	put_error(-EPERM, 0);
	expect_reject(-EBADMSG, "NLMSG_ERROR too short for struct nlmsgerr");
	reset();
	put_error(-100000, 1);
	expect_reject(-EBADMSG, "NLMSG_ERROR with an out-of-range errno");
	reset();
	put_done(-EINVAL);
	expect_reject(-EINVAL, "NLMSG_DONE carrying a dump error");
	reset();
	nlh = msg_begin(RDMA_NL_GET_TYPE(RDMA_NL_NLDEV, RDMA_NLDEV_CMD_RES_CQ_GET));
	put_dev(nlh, 1, "rxe0");
	msg_end(nlh);
	expect_reject(-EPROTO, "message of another command");

	/* Trailing partial message. */
	reset();
	put_done(0);
	blen += 3;
	{
		int r = parse();

		/* DONE ends the walk before the junk; junk first is an error. */
		is_int(r, IAS_RDMANL_DONE, "bytes after NLMSG_DONE are ignored");
	}
	reset();
	qp_msg(1, "rxe0", all, 2);
	blen += 3;
	{
		int r = parse();

		ok(r == -EBADMSG && ngot == 2, "3 stray bytes after a message: -EBADMSG");
	}
	reset();
	nlh = msg_begin(QP_MSG);
	msg_end(nlh);
	nlh->nlmsg_len = 8;
	expect_reject(-EBADMSG, "netlink header with a length below its own size");
	reset();
	put_done(0);
	((struct nlmsghdr *)b.c)->nlmsg_len = 0xfffffff0u;
	expect_reject(-EBADMSG, "netlink length above INT_MAX (found by the fuzzer)");
}

/* With $IAS_RDMANL_SEEDS set to a directory, the buffer is also written
 * there as a fuzz seed (that is how tests/fuzz/corpus/rdmanl/mal_* were
 * made). */
static void seed(const char *name)
{
	corpus_seed_env("IAS_RDMANL_SEEDS", name, b.c, blen);
}

/* reset, and a QP message for rxe0 begun. */
static struct nlmsghdr *rxe0_msg(void)
{
	struct nlmsghdr *nlh;

	reset();
	nlh = msg_begin(QP_MSG);
	put_dev(nlh, 1, "rxe0");
	return nlh;
}

static void reject_seed(const char *seed_name, int want, const char *name)
{
	seed(seed_name);
	expect_reject(want, name);
}

/* An entry nest holding LQPN, TYPE and STATE, plus what add() puts in. */
static struct nlattr *entry_begin(struct nlmsghdr *nlh, struct nlattr **table)
{
	*table = mnl_attr_nest_start(nlh, RDMA_NLDEV_ATTR_RES_QP);
	return mnl_attr_nest_start(nlh, RDMA_NLDEV_ATTR_RES_QP_ENTRY);
}

static void entry_end(struct nlmsghdr *nlh, struct nlattr *table, struct nlattr *e)
{
	mnl_attr_nest_end(nlh, e);
	mnl_attr_nest_end(nlh, table);
	msg_end(nlh);
}

static void entry_basics(struct nlmsghdr *nlh)
{
	mnl_attr_put_u32(nlh, RDMA_NLDEV_ATTR_RES_LQPN, 5);
	mnl_attr_put_u8(nlh, RDMA_NLDEV_ATTR_RES_TYPE, 2);
	mnl_attr_put_u8(nlh, RDMA_NLDEV_ATTR_RES_STATE, 3);
}

/* One attribute of a QP message for rxe0, with bytes of "ib_core!": in an
 * entry that also holds LQPN, TYPE and STATE, or at the message level. */
static const struct bad_attr {
	const char *seed, *name;
	int in_entry;
	uint16_t type, len;
} bad_attrs[] = {
	{ "mal_rqpn_8", "RQPN of 8 bytes", 1, RDMA_NLDEV_ATTR_RES_RQPN, 8 },
	{ "mal_pid_2", "PID of 2 bytes", 1, RDMA_NLDEV_ATTR_RES_PID, 2 },
	{ "mal_mig_0", "PATH_MIG_STATE of 0 bytes", 1, RDMA_NLDEV_ATTR_RES_PATH_MIG_STATE, 0 },
	{ NULL, "PORT_INDEX of 8 bytes", 1, RDMA_NLDEV_ATTR_PORT_INDEX, 8 },
	{ "mal_kern_name_nonul", "kernel name without its NUL", 1, RDMA_NLDEV_ATTR_RES_KERN_NAME, 7 },
	{ NULL, "kernel name of 0 bytes", 1, RDMA_NLDEV_ATTR_RES_KERN_NAME, 0 },
	{ "mal_table_2", "QP table of 2 bytes (not a nest)", 0, RDMA_NLDEV_ATTR_RES_QP, 2 },
	{ NULL, "PDN of 8 bytes at the message level", 0, RDMA_NLDEV_ATTR_RES_PDN, 8 },
};

/* More malformed input, each one refused as a whole with a clear error:
 * short headers, attribute lengths, nests that are missing or are not nests,
 * strings without their NUL, and bytes beyond what a message declares. */
static void test_malformed_more(void)
{
	struct nlmsghdr *nlh;
	struct nlattr *t, *e, *a;
	size_t i;
	int r;

	/* Short headers. */
	reset();
	put_done(0);
	blen = 10;
	reject_seed("mal_short_nlmsghdr", -EBADMSG, "10 bytes: shorter than a netlink header");
	reset();
	nlh = msg_begin(QP_MSG);
	msg_end(nlh);
	reject_seed("mal_header_only", -EBADMSG, "QP message with a header and nothing else (no device)");
	nlh = rxe0_msg();
	a = mnl_nlmsg_put_extra_header(nlh, 4);
	a->nla_len = 2;         /* below the attribute header's own size */
	a->nla_type = RDMA_NLDEV_ATTR_RES_PDN;
	msg_end(nlh);
	reject_seed("mal_attr_len_2", -EBADMSG, "attribute with nla_len 2");
	nlh = rxe0_msg();
	mnl_nlmsg_put_extra_header(nlh, 2);     /* 2 stray bytes inside the message */
	msg_end(nlh);
	reject_seed("mal_msg_tail", -EBADMSG, "2 bytes after the last attribute, inside nlmsg_len");

	/* Wrong attribute lengths (too long and too short), strings without
	 * their NUL, a QP table that is not a nest. */
	for (i = 0; i < sizeof(bad_attrs) / sizeof(bad_attrs[0]); i++) {
		const struct bad_attr *c = &bad_attrs[i];

		nlh = rxe0_msg();
		if (c->in_entry) {
			e = entry_begin(nlh, &t);
			entry_basics(nlh);
		}
		mnl_attr_put(nlh, c->type, c->len, "ib_core!");
		if (c->in_entry)
			entry_end(nlh, t, e);
		else
			msg_end(nlh);
		if (c->seed)
			seed(c->seed);
		expect_reject(-EBADMSG, c->name);
	}
	nlh = rxe0_msg();
	a = mnl_nlmsg_put_extra_header(nlh, 8);
	a->nla_len = 64;        /* runs past the message */
	a->nla_type = RDMA_NLDEV_ATTR_RES_PDN;
	msg_end(nlh);
	reject_seed("mal_attr_past_msg", -EBADMSG, "attribute longer than its message");

	/* Nests missing, or not nests. */
	nlh = rxe0_msg();
	t = mnl_attr_nest_start(nlh, RDMA_NLDEV_ATTR_RES_QP);
	mnl_attr_put_u32(nlh, RDMA_NLDEV_ATTR_RES_QP_ENTRY, 17);
	mnl_attr_nest_end(nlh, t);
	msg_end(nlh);
	reject_seed("mal_entry_u32", -EBADMSG, "QP entry that is a u32, not a nest");
	nlh = rxe0_msg();
	e = entry_begin(nlh, &t);
	entry_end(nlh, t, e);
	reject_seed("mal_entry_empty", -EBADMSG, "empty QP entry (no LQPN, TYPE, STATE)");
	nlh = rxe0_msg();
	e = entry_begin(nlh, &t);
	entry_basics(nlh);
	mnl_attr_nest_end(nlh, e);
	mnl_attr_nest_end(nlh, t);
	t->nla_len = 4;         /* the table ends before its entry */
	msg_end(nlh);
	ok(parse() == IAS_RDMANL_MORE && ngot == 0,
	   "an entry outside the QP table is not taken for a QP");
	nlh = rxe0_msg();
	t = mnl_attr_nest_start(nlh, RDMA_NLDEV_ATTR_RES_QP);
	mnl_attr_nest_end(nlh, t);
	msg_end(nlh);
	ok(parse() == IAS_RDMANL_MORE && ngot == 0, "an empty QP table is no QP, not an error");

	/* An empty string. */
	reset();
	nlh = msg_begin(QP_MSG);
	mnl_attr_put_u32(nlh, RDMA_NLDEV_ATTR_DEV_INDEX, 1);
	mnl_attr_put(nlh, RDMA_NLDEV_ATTR_DEV_NAME, 0, NULL);
	msg_end(nlh);
	reject_seed("mal_dev_name_empty", -EBADMSG, "device name of 0 bytes");

	/* The last message's padding may be cut; nothing may reach into it. */
	reset();
	nlh = msg_begin(QP_MSG);
	put_dev(nlh, 1, "rxe0");        /* name attribute 9 bytes, padded to 12 */
	nlh->nlmsg_len -= 3;
	blen = nlh->nlmsg_len;
	seed("unpadded_last");
	ok(parse() == IAS_RDMANL_MORE, "last message without its padding is accepted");
	a = (struct nlattr *)((char *)mnl_nlmsg_get_payload(nlh) + MNL_ALIGN(4 + 4));
	a->nla_len = 12;        /* the name now claims the missing padding */
	reject_seed("mal_attr_into_padding", -EBADMSG, "attribute reaching beyond the end of the last message");

	/* Control messages libmnl or we refuse. */
	reset();
	put_done(0);
	((struct nlmsghdr *)b.c)->nlmsg_type = 5;
	reject_seed("mal_ctl_5", -EPROTO, "unknown control message type");
	reset();
	qp_msg(1, "rxe0", (const struct spec *const[]){ &rc_a }, 1);
	((struct nlmsghdr *)b.c)->nlmsg_flags |= NLM_F_DUMP_INTR;
	reject_seed("mal_dump_intr", -EINTR, "interrupted dump");
	reset();
	nlh = msg_begin(NLMSG_NOOP);
	msg_end(nlh);
	put_done(0);
	r = parse();
	is_int(r, IAS_RDMANL_DONE, "NLMSG_NOOP is skipped");
}

static void test_encoder(void)
{
	struct ias_kqp q = { 0 }, k = { 0 };
	int r;

	reset();
	q.dev_index = 4;
	strcpy(q.dev_name, "rxe1");
	q.port = 1;
	q.lqpn = 0x11;
	q.rqpn = 0x12;
	q.has_rqpn = 1;
	q.type = 2;
	q.state = 3;
	q.pid = 77;
	q.has_pid = 1;
	q.sq_psn = 5;
	q.rq_psn = 6;
	q.has_rq_psn = 1;
	q.pdn = 9;
	k.dev_index = 4;
	strcpy(k.dev_name, "rxe1");
	k.lqpn = 1;
	k.type = 1;
	strcpy(k.kern_name, "ib_core");
	is_int(ias_rdmanl_put_qp(b.c, sizeof(b.c), &blen, 1, &q), 0, "encoder: user QP");
	is_int(ias_rdmanl_put_qp(b.c, sizeof(b.c), &blen, 1, &k), 0, "encoder: kernel QP");
	is_int(ias_rdmanl_put_done(b.c, sizeof(b.c), &blen, 1), 0, "encoder: done");
	r = parse();
	ok(r == IAS_RDMANL_DONE && ngot == 2, "encoded dump decodes");
	ok(got[0].lqpn == 0x11 && got[0].rqpn == 0x12 && got[0].pid == 77 &&
	   got[0].pdn == 9 && got[0].rq_psn == 6 && got[0].sq_psn == 5 && got[0].port == 1,
	   "user QP fields survive encode/decode");
	ok(!got[1].has_pid && strcmp(got[1].kern_name, "ib_core") == 0 && got[1].port == 0,
	   "kernel QP fields survive encode/decode");
	k.has_pid = 1;
	is_int(ias_rdmanl_put_qp(b.c, sizeof(b.c), &blen, 1, &k), -EINVAL,
	       "encoder refuses pid plus kernel name");
	is_int(ias_rdmanl_put_qp(b.c, 64, &blen, 1, &q), -ENOSPC, "encoder: no room");
}

static void test_strings(void)
{
	is_str(ias_kqp_type_str(3), "UC", "UC");
	is_str(ias_kqp_type_str(0), "SMI", "SMI");
	is_str(ias_kqp_type_str(8), "RAW_PACKET", "RAW_PACKET");
	is_str(ias_kqp_type_str(7), "UNKNOWN", "type 7 unknown");
	is_str(ias_kqp_type_str(0xff), "DRIVER", "DRIVER");
	is_str(ias_kqp_state_str(6), "ERR", "ERR");
	is_str(ias_kqp_state_str(0), "RESET", "RESET");
	is_str(ias_kqp_state_str(7), "UNKNOWN", "state 7 unknown");
}

/* The host here has no RDMA: the live dump must fail cleanly. Where RDMA is
 * present, it must succeed. */
static int live_cb(const struct ias_kqp *q, void *arg)
{
	(*(int *)arg)++;
	return q->dev_name[0] ? 0 : -EBADMSG;
}

static void test_live(void)
{
	DIR *d = opendir("/sys/class/infiniband");
	int have = 0, calls = 0, r;
	struct dirent *de;

	while (d && (de = readdir(d)))
		if (de->d_name[0] != '.')
			have++;
	if (d)
		closedir(d);
	r = ias_rdmanl_dump_qps(live_cb, &calls);
	if (have) {
		is_int(r, 0, "live dump succeeds where RDMA devices exist");
	} else {
		ok(r < 0 && calls == 0, "no RDMA device: live dump fails cleanly (%d, %s)",
		   r, strerror(-r));
	}
	is_int(ias_rdmanl_dump_qps(NULL, NULL), -EINVAL, "dump without callback is -EINVAL");
}

/* Device list (RDMA_NLDEV_CMD_GET dump) decoding. */
#define DEV_MSG RDMA_NL_GET_TYPE(RDMA_NL_NLDEV, RDMA_NLDEV_CMD_GET)
static struct ias_kdev gdev[MAXQ];
static int ndev;

static int dev_collect(const struct ias_kdev *d, void *arg)
{
	(void)arg;
	if (ndev < MAXQ)
		gdev[ndev] = *d;
	ndev++;
	return stop_after && ndev >= stop_after ? stop_value : 0;
}

static int parse_devs(void)
{
	ndev = 0;
	memset(gdev, 0, sizeof(gdev));
	return ias_rdmanl_parse_devs(b.c, blen, dev_collect, NULL);
}

static void test_devs(void)
{
	struct ias_kdev d0 = { 3, "rxe0" }, d1 = { 7, "mlx5_1" }, big;
	struct nlmsghdr *nlh;
	int r;

	reset();
	is_int(ias_rdmanl_put_dev(b.c, sizeof(b.c), &blen, 7, &d0), 0, "devs: encode rxe0");
	is_int(ias_rdmanl_put_dev(b.c, sizeof(b.c), &blen, 7, &d1), 0, "devs: encode mlx5_1");
	put_done(0);
	r = parse_devs();
	ok(r == IAS_RDMANL_DONE && ndev == 2, "device list decodes (%d, %d devices)", r, ndev);
	ok(gdev[0].index == 3 && strcmp(gdev[0].name, "rxe0") == 0 &&
	   gdev[1].index == 7 && strcmp(gdev[1].name, "mlx5_1") == 0, "device indexes and names");

	/* Same bytes at an odd address. */
	{
		static char odd[sizeof(b.c) + 1];

		memcpy(odd + 1, b.c, blen);
		ndev = 0;
		r = ias_rdmanl_parse_devs(odd + 1, blen, dev_collect, NULL);
		ok(r == IAS_RDMANL_DONE && ndev == 2, "device list at an odd address");
	}

	stop_after = 1;
	stop_value = 5;
	r = parse_devs();
	ok(r == IAS_RDMANL_STOPPED && ndev == 1, "device callback stops the walk");
	stop_value = -EIO;
	r = parse_devs();
	ok(r == -EIO && ndev == 1, "device callback error is handed back");
	stop_after = 0;
	stop_value = 0;

	/* A device message without a name. */
	reset();
	nlh = msg_begin(DEV_MSG);
	mnl_attr_put_u32(nlh, RDMA_NLDEV_ATTR_DEV_INDEX, 1);
	msg_end(nlh);
	is_int(parse_devs(), -EBADMSG, "device without a name is rejected");
	/* Name attribute that is not NUL-terminated. */
	reset();
	nlh = msg_begin(DEV_MSG);
	mnl_attr_put_u32(nlh, RDMA_NLDEV_ATTR_DEV_INDEX, 1);
	mnl_attr_put(nlh, RDMA_NLDEV_ATTR_DEV_NAME, 4, "rxe0");
	msg_end(nlh);
	is_int(parse_devs(), -EBADMSG, "unterminated device name is rejected");
	/* A QP message where a device list is expected. */
	reset();
	{
		const struct spec *one[] = { &rc_a };

		qp_msg(1, "rxe0", one, 1);
	}
	is_int(parse_devs(), -EPROTO, "QP message in a device list is -EPROTO");
	/* And a device message where QPs are expected. */
	reset();
	ias_rdmanl_put_dev(b.c, sizeof(b.c), &blen, 7, &d0);
	is_int(parse(), -EPROTO, "device message in a QP dump is -EPROTO");
	/* Kernel error at the end of the device dump. */
	reset();
	ias_rdmanl_put_dev(b.c, sizeof(b.c), &blen, 7, &d0);
	put_done(-EINVAL);
	ok(parse_devs() == -EINVAL && ndev == 1, "device dump ending in an error");
	reset();
	put_error(-EPERM, 1);
	is_int(parse_devs(), -EPERM, "NLMSG_ERROR in a device dump");

	memset(&big, 'x', sizeof(big));
	big.index = 1;
	reset();
	is_int(ias_rdmanl_put_dev(b.c, sizeof(b.c), &blen, 7, &big), -EINVAL,
	       "encoder refuses a name without room for its NUL");
	is_int(ias_rdmanl_put_dev(b.c, 16, &blen, 7, &d0), -ENOSPC, "device encoder: no room");
	is_int(ias_rdmanl_parse_devs(b.c, 0, NULL, NULL), -EINVAL, "device parse without callback");
}

/* Kept-open handle: here (no RDMA) opening fails cleanly; where RDMA devices
 * exist, a look-up of a QP number no process can hold answers "not found",
 * and an unknown device name -ENODEV. */
static void test_handle(void)
{
	DIR *d = opendir("/sys/class/infiniband");
	char name[64] = "";
	struct ias_rdmanl *h = NULL;
	struct ias_kqp q;
	struct dirent *de;
	int r;

	while (d && (de = readdir(d)))
		if (de->d_name[0] != '.' && !name[0])
			snprintf(name, sizeof(name), "%s", de->d_name);
	if (d)
		closedir(d);
	r = ias_rdmanl_open(&h);
	if (!name[0]) {
		ok((r < 0 && h == NULL) || (r == 0 && h != NULL),
		   "no RDMA device: open fails cleanly or opens (%d)", r);
		if (r == 0) {
			r = ias_rdmanl_find_qp(h, "rxe0", 17, &q);
			ok(r == -ENOENT, "no RDMA device: look-up says no device (%d)", r);
		}
		ias_rdmanl_close(h);
	} else {
		is_int(r, 0, "open succeeds where RDMA devices exist");
		is_int(ias_rdmanl_find_qp(h, name, 0xffffff, &q), 0, "QPN 0xffffff is not found");
		is_int(ias_rdmanl_find_qp(h, "no-such-device", 17, &q), -ENODEV,
		       "unknown device name is -ENODEV");
		/* Kernel QPs are listed only in the initial PID namespace. */
		r = ias_rdmanl_find_qp(h, name, 1, &q);
		ok(r == 0 || (r == 1 && !q.has_pid && strcmp(q.dev_name, name) == 0 && q.lqpn == 1),
		   "the GSI QP is the kernel's or hidden (%d)", r);
		ias_rdmanl_close(h);
	}
	is_int(ias_rdmanl_open(NULL), -EINVAL, "open without out pointer");
	is_int(ias_rdmanl_find_qp(NULL, "rxe0", 1, &q), -EINVAL, "look-up without handle");
	ias_rdmanl_close(NULL);
}

int main(void)
{
	test_good_dump();
	test_pdn_and_two_devices();
	test_flags_and_unknown();
	test_stop_and_unaligned();
	test_malformed();
	test_malformed_more();
	test_encoder();
	test_strings();
	test_live();
	test_devs();
	test_handle();
	return tap_done();
}
