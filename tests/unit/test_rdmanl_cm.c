/* Unit tests for sema/rdmanl_cm: RES_CM_ID_GET dumps and RTM_NEWNEIGH
 * messages built by hand with libmnl (addresses laid out with the C
 * library's own struct sockaddr_in/_in6, as the kernel holds them), decoded;
 * malformed input refused whole; the remote GID from a destination.
 *
 * With $IAS_RDMANL_CM_SEEDS set to a directory, each buffer is also written
 * there as a fuzz seed (tests/fuzz/corpus/rdmanl_cm/ was made so). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <rdma/rdma_netlink.h>

#include "sema/rdmanl.h"
#include "sema/rdmanl_cm.h"
#include "tests/unit/corpus_file.h"
#include "tests/unit/tap.h"

#define CM_MSG RDMA_NL_GET_TYPE(RDMA_NL_NLDEV, RDMA_NLDEV_CMD_RES_CM_ID_GET)

static union {
	char c[16384];
	uint32_t align;
} b;
static size_t blen;

#define MAXC 16
static struct ias_kcm got[MAXC];
static int ngot, stop_first;

static int collect(const struct ias_kcm *c, void *arg)
{
	(void)arg;
	if (ngot < MAXC)
		got[ngot] = *c;
	ngot++;
	return stop_first;
}

static void reset(void)
{
	memset(&b, 0, sizeof(b));
	blen = 0;
	ngot = 0;
}

static void seed(const char *name)
{
	corpus_seed_env("IAS_RDMANL_CM_SEEDS", name, b.c, blen);
}

static int parse(void)
{
	ngot = 0;
	return ias_rdmanl_parse_cm(b.c, blen, collect, NULL);
}

static void done(void)
{
	ias_rdmanl_put_done(b.c, sizeof(b.c), &blen, 7);
}

/* ---- hand-built messages ---------------------------------------------- */

static struct nlmsghdr *msg_begin(void)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(b.c + blen);

	nlh->nlmsg_type = CM_MSG;
	nlh->nlmsg_flags = NLM_F_MULTI;
	nlh->nlmsg_seq = 7;
	mnl_attr_put_u32(nlh, RDMA_NLDEV_ATTR_DEV_INDEX, 1);
	mnl_attr_put_strz(nlh, RDMA_NLDEV_ATTR_DEV_NAME, "rxe0");
	return nlh;
}

static void msg_end(struct nlmsghdr *nlh)
{
	blen += MNL_ALIGN(nlh->nlmsg_len);
}

static void put_ss(struct nlmsghdr *nlh, uint16_t type, const void *sa, size_t salen, size_t attr_len)
{
	uint8_t ss[256] = { 0 };

	memcpy(ss, sa, salen);
	mnl_attr_put(nlh, type, attr_len, ss);
}

static void put_in4(struct nlmsghdr *nlh, uint16_t type, const char *ip, uint16_t port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };

	inet_pton(AF_INET, ip, &sin.sin_addr);
	put_ss(nlh, type, &sin, sizeof(sin), IAS_KCM_SS_SIZE);
}

static void put_in6(struct nlmsghdr *nlh, uint16_t type, const char *ip, uint16_t port)
{
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_port = htons(port),
				     .sin6_flowinfo = htonl(0x12345), .sin6_scope_id = 3 };

	inet_pton(AF_INET6, ip, &sin6.sin6_addr);
	put_ss(nlh, type, &sin6, sizeof(sin6), IAS_KCM_SS_SIZE);
}

/* A connected RC cm_id as fill_res_cm_id_entry writes it, with extra
 * attributes picked by the caller through flags. */
enum { E_NO_PS = 1, E_NO_STATE = 2, E_LQPN_ONLY = 4, E_PID_AND_KERN = 8, E_SHORT_ADDR = 16,
       E_LONG_ADDR = 32, E_ZERO_FAMILY = 64, E_DUP_PS = 128, E_BAD_PS_LEN = 256,
       E_ENTRY_TYPE = 512, E_TAIL = 1024, E_KERN = 2048 };

static void put_entry(struct nlmsghdr *nlh, unsigned f, uint32_t lqpn)
{
	struct nlattr *e = mnl_attr_nest_start(nlh, f & E_ENTRY_TYPE ? RDMA_NLDEV_ATTR_RES_QP_ENTRY
							      : RDMA_NLDEV_ATTR_RES_CM_ID_ENTRY);

	mnl_attr_put_u32(nlh, RDMA_NLDEV_ATTR_PORT_INDEX, 1);
	mnl_attr_put_u32(nlh, RDMA_NLDEV_ATTR_RES_LQPN, lqpn);
	if (!(f & E_LQPN_ONLY))
		mnl_attr_put_u8(nlh, RDMA_NLDEV_ATTR_RES_TYPE, 2);
	if (f & E_BAD_PS_LEN)
		mnl_attr_put_u16(nlh, RDMA_NLDEV_ATTR_RES_PS, 0x106);
	else if (!(f & E_NO_PS))
		mnl_attr_put_u32(nlh, RDMA_NLDEV_ATTR_RES_PS, 0x106);
	if (f & E_DUP_PS)
		mnl_attr_put_u32(nlh, RDMA_NLDEV_ATTR_RES_PS, 0x106);
	if (!(f & E_NO_STATE))
		mnl_attr_put_u8(nlh, RDMA_NLDEV_ATTR_RES_STATE, 5);
	put_in4(nlh, RDMA_NLDEV_ATTR_RES_SRC_ADDR, "10.0.0.1", 40000);
	if (f & E_SHORT_ADDR) {
		struct sockaddr_in6 s6 = { .sin6_family = AF_INET6 };

		put_ss(nlh, RDMA_NLDEV_ATTR_RES_DST_ADDR, &s6, sizeof(s6), IAS_KCM_SS_SIZE - 1);
	} else if (f & E_LONG_ADDR) {
		struct sockaddr_in6 s6 = { .sin6_family = AF_INET6 };

		put_ss(nlh, RDMA_NLDEV_ATTR_RES_DST_ADDR, &s6, sizeof(s6), IAS_KCM_SS_SIZE + 4);
	} else if (f & E_ZERO_FAMILY) {
		put_ss(nlh, RDMA_NLDEV_ATTR_RES_DST_ADDR, "", 0, IAS_KCM_SS_SIZE);
	} else {
		put_in6(nlh, RDMA_NLDEV_ATTR_RES_DST_ADDR, "fd00::2", 7174);
	}
	mnl_attr_put_u32(nlh, RDMA_NLDEV_ATTR_RES_CM_IDN, 9);
	if (f & E_KERN)
		mnl_attr_put_strz(nlh, RDMA_NLDEV_ATTR_RES_KERN_NAME, "rdma_cm");
	else
		mnl_attr_put_u32(nlh, RDMA_NLDEV_ATTR_RES_PID, 4242);
	if (f & E_PID_AND_KERN)
		mnl_attr_put_strz(nlh, RDMA_NLDEV_ATTR_RES_KERN_NAME, "rdma_cm");
	mnl_attr_nest_end(nlh, e);
	if (f & E_TAIL) {
		/* Bytes inside the entry after its last attribute. */
		memset((char *)nlh + nlh->nlmsg_len, 0, 4);
		e->nla_len += 4;
		nlh->nlmsg_len += 4;
	}
}

static void one_msg(unsigned f)
{
	struct nlmsghdr *nlh;
	struct nlattr *t;

	reset();
	nlh = msg_begin();
	t = mnl_attr_nest_start(nlh, RDMA_NLDEV_ATTR_RES_CM_ID);
	put_entry(nlh, 0, 0x11);        /* a good entry first: never delivered */
	put_entry(nlh, f, 0x12);
	mnl_attr_nest_end(nlh, t);
	msg_end(nlh);
	done();
}

static void test_kernel_layout(void)
{
	char ip[INET6_ADDRSTRLEN];

	one_msg(0);
	seed("connected_rc");
	is_int(parse(), IAS_RDMANL_DONE, "hand-built RES_CM_ID_GET dump decodes");
	is_int(ngot, 2, "two cm_ids");
	if (ngot < 2)
		return;
	is_str(got[1].dev_name, "rxe0", "device name");
	is_int(got[1].dev_index, 1, "device index");
	is_int(got[1].port, 1, "port");
	ok(got[1].has_lqpn && got[1].lqpn == 0x12 && got[1].qp_type == 2, "LQPN and QP type");
	is_str(ias_kcm_ps_str(got[1].ps), "TCP", "port space");
	is_str(ias_kcm_state_str(got[1].state), "CONNECT", "state");
	ok(got[1].has_pid && got[1].pid == 4242 && !got[1].kern_name[0], "PID, no kernel name");
	ok(got[1].has_cm_idn && got[1].cm_idn == 9, "cm_id number");
	is_int(got[1].src.family, AF_INET, "source family from the first two bytes (host order)");
	is_int(got[1].src.port, 40000, "IPv4 port (network order in the kernel)");
	inet_ntop(AF_INET, got[1].src.addr, ip, sizeof(ip));
	is_str(ip, "10.0.0.1", "IPv4 address at sockaddr_in's offset");
	is_int(got[1].dst.family, AF_INET6, "destination family");
	is_int(got[1].dst.port, 7174, "IPv6 port");
	inet_ntop(AF_INET6, got[1].dst.addr, ip, sizeof(ip));
	is_str(ip, "fd00::2", "IPv6 address at sockaddr_in6's offset (after the flow info)");

	one_msg(E_KERN);
	is_int(parse(), IAS_RDMANL_DONE, "a kernel cm_id decodes");
	ok(ngot == 2 && !got[1].has_pid && strcmp(got[1].kern_name, "rdma_cm") == 0,
	   "kernel cm_id: module name, no PID");
}

static void test_listener_and_ib(void)
{
	struct nlmsghdr *nlh;
	struct nlattr *t, *e;
	uint8_t sib[IAS_KCM_SS_SIZE] = { 0 };
	uint16_t fam = AF_IB;
	static const uint8_t gid[16] = { 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 2, 0xc9, 3, 0, 1, 2, 3 };

	reset();
	nlh = msg_begin();
	t = mnl_attr_nest_start(nlh, RDMA_NLDEV_ATTR_RES_CM_ID);
	/* A listener: no port, no QP, a source address only. */
	e = mnl_attr_nest_start(nlh, RDMA_NLDEV_ATTR_RES_CM_ID_ENTRY);
	mnl_attr_put_u32(nlh, RDMA_NLDEV_ATTR_RES_PS, 0x106);
	mnl_attr_put_u8(nlh, RDMA_NLDEV_ATTR_RES_STATE, 8);
	put_in4(nlh, RDMA_NLDEV_ATTR_RES_SRC_ADDR, "0.0.0.0", 7174);
	mnl_attr_put_u32(nlh, RDMA_NLDEV_ATTR_RES_PID, 77);
	mnl_attr_nest_end(nlh, e);
	/* AF_IB: struct sockaddr_ib, the GID after P_Key and flow info. */
	e = mnl_attr_nest_start(nlh, RDMA_NLDEV_ATTR_RES_CM_ID_ENTRY);
	mnl_attr_put_u32(nlh, RDMA_NLDEV_ATTR_RES_LQPN, 0x33);
	mnl_attr_put_u8(nlh, RDMA_NLDEV_ATTR_RES_TYPE, 2);
	mnl_attr_put_u32(nlh, RDMA_NLDEV_ATTR_RES_PS, 0x13f);
	mnl_attr_put_u8(nlh, RDMA_NLDEV_ATTR_RES_STATE, 5);
	memcpy(sib, &fam, 2);
	sib[2] = 0xff;
	sib[3] = 0xff;
	memcpy(sib + 8, gid, 16);
	mnl_attr_put(nlh, RDMA_NLDEV_ATTR_RES_DST_ADDR, sizeof(sib), sib);
	mnl_attr_put_u32(nlh, RDMA_NLDEV_ATTR_RES_PID, 78);
	mnl_attr_nest_end(nlh, e);
	mnl_attr_nest_end(nlh, t);
	msg_end(nlh);
	done();
	seed("listener_and_af_ib");
	is_int(parse(), IAS_RDMANL_DONE, "listener and AF_IB cm_ids decode");
	if (ngot != 2)
		return;
	ok(!got[0].has_lqpn && got[0].port == 0 && got[0].dst.family == 0 &&
	   got[0].src.port == 7174 && strcmp(ias_kcm_state_str(got[0].state), "LISTEN") == 0,
	   "listener: no QP, no port, no destination");
	ok(got[1].dst.family == AF_IB && memcmp(got[1].dst.addr, gid, 16) == 0 && got[1].dst.port == 0,
	   "AF_IB destination: the GID at sockaddr_ib's offset");
	is_str(ias_kcm_ps_str(got[1].ps), "IB", "port space IB");
}

static void expect_reject(unsigned f, const char *name)
{
	int r;

	one_msg(f);
	r = parse();
	if (!ok(r == -EBADMSG && ngot == 0, "refused whole: %s", name))
		printf("#   got %d with %d cm_ids\n", r, ngot);
}

static void test_malformed(void)
{
	struct nlmsghdr *nlh;
	char name[32];
	size_t full;
	int r;

	expect_reject(E_NO_PS, "no port space");
	seed("mal_no_ps");
	expect_reject(E_NO_STATE, "no state");
	expect_reject(E_LQPN_ONLY, "LQPN without QP type");
	expect_reject(E_PID_AND_KERN, "both a PID and a kernel name");
	seed("mal_pid_and_kern");
	expect_reject(E_SHORT_ADDR, "address one byte short of sockaddr_storage");
	seed("mal_short_addr");
	expect_reject(E_LONG_ADDR, "address longer than sockaddr_storage");
	expect_reject(E_ZERO_FAMILY, "address with family 0");
	expect_reject(E_DUP_PS, "duplicate attribute");
	expect_reject(E_BAD_PS_LEN, "port space of 2 bytes");
	expect_reject(E_ENTRY_TYPE, "a QP entry inside the cm_id table");
	expect_reject(E_TAIL, "bytes after an entry's last attribute");
	seed("mal_tail");

	/* The table must be a nest. */
	reset();
	nlh = msg_begin();
	mnl_attr_put_u32(nlh, RDMA_NLDEV_ATTR_RES_CM_ID, 1);
	msg_end(nlh);
	done();
	is_int(parse(), -EBADMSG, "cm_id table that is not a nest");

	/* Every truncation of a good dump is refused or ends cleanly. */
	one_msg(0);
	full = blen;
	for (r = 0, blen = 1; blen < full; blen++) {
		int x = parse();

		if (x >= 0 && x != IAS_RDMANL_MORE && x != IAS_RDMANL_DONE)
			r++;
		if (x == IAS_RDMANL_DONE && blen < full - 20)
			r++;
	}
	is_int(r, 0, "every truncation: an error, or no DONE before the end");
	blen = full - 24;       /* inside the message: the last entry cut */
	is_int(parse(), -EBADMSG, "cut inside the message");
	snprintf(name, sizeof(name), "mal_cut");
	seed(name);

	/* A QP dump message is not a cm_id message. */
	reset();
	nlh = msg_begin();
	nlh->nlmsg_type = RDMA_NL_GET_TYPE(RDMA_NL_NLDEV, RDMA_NLDEV_CMD_RES_QP_GET);
	msg_end(nlh);
	is_int(parse(), -EPROTO, "message of another command");
	is_int(ias_rdmanl_parse_cm(NULL, 0, collect, NULL), -EINVAL, "no buffer");
}

static void test_stop_unaligned_roundtrip(void)
{
	struct ias_kcm a[2];
	static union { char c[4096]; uint32_t x; } enc;
	char *odd;
	size_t len = 0;
	int r;

	one_msg(0);
	stop_first = 1;
	r = parse();
	stop_first = 0;
	ok(r == IAS_RDMANL_STOPPED && ngot == 1, "a callback that stops gets STOPPED after one call");

	odd = malloc(blen + 1);
	memcpy(odd + 1, b.c, blen);
	ngot = 0;
	r = ias_rdmanl_parse_cm(odd + 1, blen, collect, NULL);
	free(odd);
	ok(r == IAS_RDMANL_DONE && ngot == 2, "same bytes at an odd address");

	parse();
	memcpy(a, got, sizeof(a));
	ok(ias_rdmanl_put_cm(enc.c, sizeof(enc.c), &len, 1, &a[0]) == 0 &&
	   ias_rdmanl_put_cm(enc.c, sizeof(enc.c), &len, 1, &a[1]) == 0 &&
	   ias_rdmanl_put_done(enc.c, sizeof(enc.c), &len, 1) == 0, "encoder writes both");
	ngot = 0;
	r = ias_rdmanl_parse_cm(enc.c, len, collect, NULL);
	ok(r == IAS_RDMANL_DONE && ngot == 2 && got[1].lqpn == a[1].lqpn &&
	   memcmp(&got[1].dst, &a[1].dst, sizeof(a[1].dst)) == 0 &&
	   memcmp(&got[1].src, &a[1].src, sizeof(a[1].src)) == 0, "decode -> encode -> decode");
	a[0].has_pid = 1;
	strcpy(a[0].kern_name, "x");
	len = 0;
	is_int(ias_rdmanl_put_cm(enc.c, sizeof(enc.c), &len, 1, &a[0]), -EINVAL,
	       "encoder refuses a PID with a kernel name");
	is_int(ias_rdmanl_put_cm(enc.c, 16, &len, 1, &a[1]), -ENOSPC, "encoder: no room");
	is_str(ias_kcm_state_str(200), "UNKNOWN", "unknown state");
	is_str(ias_kcm_ps_str(1), "UNKNOWN", "unknown port space");
}

/* ---- neighbours ------------------------------------------------------- */

static struct ias_kneigh nbs[MAXC];
static int nnb;

static int nb_collect(const struct ias_kneigh *n, void *arg)
{
	(void)arg;
	if (nnb < MAXC)
		nbs[nnb] = *n;
	nnb++;
	return 0;
}

static int nb_parse(void)
{
	nnb = 0;
	return ias_neigh_parse(b.c, blen, nb_collect, NULL);
}

/* One RTM_NEWNEIGH laid out with the kernel's own struct ndmsg. */
static struct nlmsghdr *nb_msg(uint8_t family, int ifindex, const char *ip, const uint8_t *ll,
			       size_t lllen)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(b.c + blen);
	struct ndmsg *ndm;
	uint8_t a[16];

	nlh->nlmsg_type = RTM_NEWNEIGH;
	nlh->nlmsg_flags = NLM_F_MULTI;
	nlh->nlmsg_seq = 7;
	ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));
	ndm->ndm_family = family;
	ndm->ndm_ifindex = ifindex;
	ndm->ndm_state = NUD_PERMANENT;
	if (ip) {
		inet_pton(family, ip, a);
		mnl_attr_put(nlh, NDA_DST, family == AF_INET ? 4 : 16, a);
	}
	if (ll)
		mnl_attr_put(nlh, NDA_LLADDR, lllen, ll);
	return nlh;
}

static const uint8_t mac1[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };
static const uint8_t mac2[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x03 };
static const uint8_t ipoib[20] = { 0x00, 0x00, 0x04, 0x48, 0xfe, 0x80, 0, 0, 0, 0, 0, 0,
				   0x00, 0x02, 0xc9, 0x03, 0x00, 0xaa, 0xbb, 0xcc };

static void test_neigh(void)
{
	struct nlmsghdr *nlh;
	uint8_t ll33[33] = { 0 };
	char ip[INET6_ADDRSTRLEN];

	reset();
	msg_end(nb_msg(AF_INET, 5, "10.0.0.2", mac1, 6));
	msg_end(nb_msg(AF_INET6, 5, "fd00::2", mac1, 6));
	msg_end(nb_msg(AF_INET, 9, "192.168.7.2", ipoib, 20));
	msg_end(nb_msg(7 /* AF_BRIDGE */, 5, NULL, mac1, 6));
	done();
	seed("neigh_eth_ipoib");
	is_int(nb_parse(), IAS_RDMANL_DONE, "neighbour dump decodes");
	is_int(nnb, 3, "IPv4 and IPv6 entries reported, another family not");
	if (nnb == 3) {
		inet_ntop(AF_INET6, nbs[1].addr, ip, sizeof(ip));
		ok(nbs[0].ifindex == 5 && nbs[0].lladdr_len == 6 && nbs[0].state == NUD_PERMANENT &&
		   memcmp(nbs[0].lladdr, mac1, 6) == 0, "IPv4 neighbour: link, MAC, state");
		is_str(ip, "fd00::2", "IPv6 neighbour address");
		ok(nbs[2].lladdr_len == 20 && memcmp(nbs[2].lladdr, ipoib, 20) == 0,
		   "IPoIB hardware address of 20 bytes");
	}

	reset();
	nlh = nb_msg(AF_INET, 5, NULL, mac1, 6);
	mnl_attr_put(nlh, NDA_DST, 16, ll33);
	msg_end(nlh);
	is_int(nb_parse(), -EBADMSG, "IPv4 neighbour with a 16-byte address");
	reset();
	msg_end(nb_msg(AF_INET6, 5, NULL, mac1, 6));
	is_int(nb_parse(), -EBADMSG, "neighbour without an address");
	reset();
	msg_end(nb_msg(AF_INET, 5, "10.0.0.2", ll33, sizeof(ll33)));
	seed("mal_neigh_long_lladdr");
	is_int(nb_parse(), -EBADMSG, "hardware address over 32 bytes");
	reset();
	nlh = nb_msg(AF_INET, 5, "10.0.0.2", mac1, 6);
	mnl_attr_put(nlh, NDA_LLADDR, 6, mac2);
	msg_end(nlh);
	is_int(nb_parse(), -EBADMSG, "duplicate hardware address");
	reset();
	nlh = mnl_nlmsg_put_header(b.c);
	nlh->nlmsg_type = RTM_NEWNEIGH;
	mnl_nlmsg_put_extra_header(nlh, 8);
	msg_end(nlh);
	seed("mal_neigh_short_hdr");
	is_int(nb_parse(), -EBADMSG, "message shorter than struct ndmsg");
	reset();
	nlh = nb_msg(AF_INET, 5, "10.0.0.2", mac1, 6);
	nlh->nlmsg_len += 4;    /* a half attribute header at the end */
	msg_end(nlh);
	is_int(nb_parse(), -EBADMSG, "bytes after the last attribute");
}

/* ---- the remote GID --------------------------------------------------- */

static struct ias_kcm_addr addr(int family, const char *ip)
{
	struct ias_kcm_addr a = { .family = (uint16_t)family };

	inet_pton(family, ip, a.addr);
	return a;
}

static const char *gid_of(const struct ias_kcm_addr *a, enum ias_link link, enum ias_gid_how want)
{
	static char s[INET6_ADDRSTRLEN];
	uint8_t gid[16] = { 0 };
	enum ias_gid_how how = ias_kcm_remote_gid(a, link, nbs, (size_t)nnb, gid);

	if (how != want) {
		snprintf(s, sizeof(s), "how=%s", ias_gid_how_str(how));
		return s;
	}
	inet_ntop(AF_INET6, gid, s, sizeof(s));
	return s;
}

static void test_gid(void)
{
	struct ias_kcm_addr a4 = addr(AF_INET, "10.0.0.2"), a6 = addr(AF_INET6, "fd00::2"),
			    ib4 = addr(AF_INET, "192.168.7.2"), other = addr(AF_INET, "10.0.0.9");
	uint8_t gid[16];

	reset();
	msg_end(nb_msg(AF_INET, 5, "10.0.0.2", mac1, 6));
	msg_end(nb_msg(AF_INET6, 5, "fe80::2", mac1, 6));
	msg_end(nb_msg(AF_INET6, 5, "fd00::2", mac1, 6));
	msg_end(nb_msg(AF_INET6, 6, "fd00::7", mac1, 6));      /* same MAC, another link */
	msg_end(nb_msg(AF_INET, 9, "192.168.7.2", ipoib, 20));
	msg_end(nb_msg(AF_INET6, 9, "fd01::2", ipoib, 20));
	done();
	nb_parse();

	is_str(gid_of(&a6, IAS_LINK_ETH, IAS_GID_ROCE_IP6), "fd00::2", "RoCE, IPv6: the address is the GID");
	is_str(gid_of(&a4, IAS_LINK_ETH, IAS_GID_ROCE_NEIGH6), "fd00::2",
	       "RoCE, IPv4: the IPv6 neighbour with the same MAC on the same link (not link-local)");
	is_str(gid_of(&other, IAS_LINK_ETH, IAS_GID_ROCE_IP4), "::ffff:10.0.0.9",
	       "RoCE, IPv4 without a neighbour: the IPv4-mapped GID");
	is_str(gid_of(&ib4, IAS_LINK_IB, IAS_GID_IPOIB), "fe80::2:c903:aa:bbcc",
	       "InfiniBand, IPv4: the GID in the IPoIB hardware address");
	{
		struct ias_kcm_addr ib6 = addr(AF_INET6, "fd01::2");

		is_str(gid_of(&ib6, IAS_LINK_IB, IAS_GID_IPOIB), "fe80::2:c903:aa:bbcc",
		       "InfiniBand, IPv6: the IPoIB neighbour, not the address");
		is_str(gid_of(&ib6, IAS_LINK_UNKNOWN, IAS_GID_IPOIB), "fe80::2:c903:aa:bbcc",
		       "a 20-byte neighbour means IPoIB whatever sysfs says");
	}
	is_str(gid_of(&other, IAS_LINK_IB, IAS_GID_NONE), "::", "InfiniBand without a neighbour: none");
	{
		struct ias_kcm_addr ibaddr = { .family = 27 };

		memcpy(ibaddr.addr, ipoib + 4, 16);
		is_str(gid_of(&ibaddr, IAS_LINK_IB, IAS_GID_AF_IB), "fe80::2:c903:aa:bbcc", "AF_IB: the GID");
	}
	{
		struct ias_kcm_addr none = { 0 }, unix_ = { .family = AF_UNIX };

		is_str(gid_of(&none, IAS_LINK_ETH, IAS_GID_NONE), "::", "no destination: none");
		is_str(gid_of(&unix_, IAS_LINK_ETH, IAS_GID_NONE), "::", "another family: none");
	}
	/* Ambiguous: the same IPv4 address with two MACs on two links. */
	reset();
	msg_end(nb_msg(AF_INET, 9, "192.168.7.2", ipoib, 20));
	msg_end(nb_msg(AF_INET, 10, "192.168.7.2", mac2, 6));
	done();
	nb_parse();
	is_str(gid_of(&ib4, IAS_LINK_IB, IAS_GID_NONE), "::",
	       "InfiniBand: neighbours that disagree are refused, not guessed");
	is_int(ias_ipoib_gid(ipoib, 19, gid), -EINVAL, "IPoIB address of 19 bytes refused");
}

static void test_live(void)
{
	int r;

	nnb = 0;
	r = ias_neigh_dump(nb_collect, NULL);
	is_int(r, 0, "live neighbour dump of this namespace");
	ngot = 0;
	r = ias_rdmanl_dump_cm_ids(collect, NULL);
	ok(r == 0 || r == -ENOENT, "live cm_id dump: done, or no RDMA here (%d)", r);
}

int main(void)
{
	test_kernel_layout();
	test_listener_and_ib();
	test_malformed();
	test_stop_unaligned_roundtrip();
	test_neigh();
	test_gid();
	test_live();
	return tap_done();
}
