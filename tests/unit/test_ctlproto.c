/* Control protocol codec: every op's request and reply round-trips, each
 * validation step rejects what it should with the right code, nesting depth
 * is capped, and builder errors are sticky. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ctl/proto.h"
#include "tests/unit/tap.h"

static uint8_t buf[IAS_CTL_MAX_MSG + 64];

/* Render a TLV list as "NAME=value,..." with nests as NAME{...}. */
static void dump_list(struct ias_rd *r, char *out, size_t cap)
{
	struct ias_ctl_attr a;
	size_t n = strlen(out);

	while (ias_ctl_next(r, &a) == 1) {
		const char *name = ias_ctl_attr_name(a.type);
		char s[IAS_CTL_STR_MAX + 1];
		uint8_t u8, gid[16];
		uint32_t u32;
		uint64_t u64;
		struct ias_rd inner;

		if (n && out[n - 1] != '{')
			n += (size_t)snprintf(out + n, cap - n, ",");
		switch (ias_ctl_attr_wire(a.type)) {
		case IAS_CTL_W_U8:
			ias_ctl_get_u8(&a, &u8);
			n += (size_t)snprintf(out + n, cap - n, "%s=%u", name, u8);
			break;
		case IAS_CTL_W_U32:
			ias_ctl_get_u32(&a, &u32);
			n += (size_t)snprintf(out + n, cap - n, "%s=%" PRIu32, name, u32);
			break;
		case IAS_CTL_W_U64:
			ias_ctl_get_u64(&a, &u64);
			n += (size_t)snprintf(out + n, cap - n, "%s=%" PRIu64, name, u64);
			break;
		case IAS_CTL_W_STR:
			ias_ctl_get_str(&a, s, sizeof(s));
			n += (size_t)snprintf(out + n, cap - n, "%s='%s'", name, s);
			break;
		case IAS_CTL_W_GID:
			ias_ctl_get_bytes(&a, gid, 16);
			n += (size_t)snprintf(out + n, cap - n, "%s=%02x..%02x", name, gid[0], gid[15]);
			break;
		case IAS_CTL_W_NESTED:
			n += (size_t)snprintf(out + n, cap - n, "%s{", name);
			ias_ctl_attr_nested(&a, &inner);
			dump_list(&inner, out, cap);
			n = strlen(out);
			n += (size_t)snprintf(out + n, cap - n, "}");
			break;
		default:
			n += (size_t)snprintf(out + n, cap - n, "#%u", a.type);
			break;
		}
	}
}

static const char *dump(const uint8_t *msg, size_t len)
{
	static char out[8192];
	struct ias_ctl_hdr h;
	struct ias_rd r;

	out[0] = '\0';
	if (ias_ctl_parse_hdr(msg, len, &h, &r))
		return "(bad header)";
	dump_list(&r, out, sizeof(out));
	return out;
}

/* Finish, validate, and compare the rendering. */
static void check_msg(struct ias_ctl_msg *m, const char *want, const char *name)
{
	char why[256];
	int rc = ias_ctl_msg_finish(m);

	is_int(rc, 0, name);
	rc = ias_ctl_validate_msg(m->buf, m->len, why, sizeof(why));
	if (!ok(rc == 0, "%s validates", name))
		printf("#   %d: %s\n", rc, why);
	is_str(dump(m->buf, m->len), want, name);
}

static void req(struct ias_ctl_msg *m, uint16_t op)
{
	ias_ctl_msg_init(m, buf, sizeof(buf), IAS_CTL_REQUEST, op, 7, 0);
}

static void rep(struct ias_ctl_msg *m, uint16_t op)
{
	ias_ctl_msg_init(m, buf, sizeof(buf), IAS_CTL_REPLY, op, 7, 0);
}

static void put_block(struct ias_ctl_msg *m)
{
	ias_ctl_nest_begin(m, IAS_CTL_A_BLOCK);
	ias_ctl_put_u64(m, IAS_CTL_A_BLOCK_ID, 42);
	ias_ctl_put_str(m, IAS_CTL_A_ORIGIN, "analyzer");
	ias_ctl_put_str(m, IAS_CTL_A_NODE, "n07");
	ias_ctl_put_u32(m, IAS_CTL_A_PID, 4242);
	ias_ctl_put_u32(m, IAS_CTL_A_QPN, 0x1a);
	ias_ctl_put_u32(m, IAS_CTL_A_QPN, 0x1b);
	ias_ctl_put_u64(m, IAS_CTL_A_UNTIL_MS, 0);
	ias_ctl_nest_end(m);
}
#define BLOCK_STR "BLOCK{BLOCK_ID=42,ORIGIN='analyzer',NODE='n07',PID=4242,QPN=26,QPN=27,UNTIL_MS=0}"

static const uint8_t gid[16] = { 0xfe, 0x80, [15] = 0x01 };

static void test_round_trips(void)
{
	struct ias_ctl_msg m;

	/* STATUS */
	req(&m, IAS_CTL_OP_STATUS);
	check_msg(&m, "", "STATUS request");
	rep(&m, IAS_CTL_OP_STATUS);
	ias_ctl_nest_begin(&m, IAS_CTL_A_STATUS);
	ias_ctl_put_str(&m, IAS_CTL_A_AGENT_VERSION, "0.1.0");
	ias_ctl_put_u64(&m, IAS_CTL_A_UPTIME_S, 5);
	ias_ctl_put_u32(&m, IAS_CTL_A_BLOCKS_ACTIVE, 3);
	ias_ctl_put_str(&m, IAS_CTL_A_PORT_STATE, "waiting for an RDMA port");
	ias_ctl_put_u64(&m, IAS_CTL_A_MADS_REJECTED, 1ull << 40);
	ias_ctl_nest_begin(&m, IAS_CTL_A_POLICY);
	ias_ctl_put_str(&m, IAS_CTL_A_LEVEL, "lca");
	ias_ctl_nest_end(&m);
	ias_ctl_nest_end(&m);
	check_msg(&m, "STATUS{AGENT_VERSION='0.1.0',UPTIME_S=5,BLOCKS_ACTIVE=3,"
		  "PORT_STATE='waiting for an RDMA port',MADS_REJECTED=1099511627776,"
		  "POLICY{LEVEL='lca'}}", "STATUS reply");

	/* REPORT_ATTACK */
	req(&m, IAS_CTL_OP_REPORT_ATTACK);
	ias_ctl_put_u32(&m, IAS_CTL_A_PID, 4242);
	ias_ctl_put_str(&m, IAS_CTL_A_REASON, "reported");
	ias_ctl_put_u8(&m, IAS_CTL_A_OVERRIDE, 1);
	ias_ctl_put_u32(&m, IAS_CTL_A_DURATION_S, 3600);
	check_msg(&m, "PID=4242,REASON='reported',OVERRIDE=1,DURATION_S=3600",
		  "REPORT_ATTACK request");
	rep(&m, IAS_CTL_OP_REPORT_ATTACK);
	put_block(&m);
	ias_ctl_put_str(&m, IAS_CTL_A_INCIDENT_ID, "I-17");
	check_msg(&m, BLOCK_STR ",INCIDENT_ID='I-17'", "REPORT_ATTACK reply");

	/* GET_ATTACK_PID */
	req(&m, IAS_CTL_OP_GET_ATTACK_PID);
	check_msg(&m, "", "GET_ATTACK_PID request");
	rep(&m, IAS_CTL_OP_GET_ATTACK_PID);
	ias_ctl_put_u32(&m, IAS_CTL_A_PID, 977);
	ias_ctl_put_str(&m, IAS_CTL_A_INCIDENT_ID, "I-17");
	ias_ctl_put_str(&m, IAS_CTL_A_REASON, "via n07/qp 0x1a");
	check_msg(&m, "PID=977,INCIDENT_ID='I-17',REASON='via n07/qp 0x1a'",
		  "GET_ATTACK_PID reply");

	/* RELEASE */
	req(&m, IAS_CTL_OP_RELEASE);
	ias_ctl_put_u64(&m, IAS_CTL_A_BLOCK_ID, 42);
	ias_ctl_put_u8(&m, IAS_CTL_A_DRY_RUN, 1);
	check_msg(&m, "BLOCK_ID=42,DRY_RUN=1", "RELEASE request");
	rep(&m, IAS_CTL_OP_RELEASE);
	ias_ctl_nest_begin(&m, IAS_CTL_A_BLOCK);
	ias_ctl_put_u64(&m, IAS_CTL_A_BLOCK_ID, 42);
	ias_ctl_put_str(&m, IAS_CTL_A_RELEASE_NOTE, "thawed; 2 QPs resumed");
	ias_ctl_nest_end(&m);
	ias_ctl_put_u32(&m, IAS_CTL_A_COUNT, 1);
	check_msg(&m, "BLOCK{BLOCK_ID=42,RELEASE_NOTE='thawed; 2 QPs resumed'},COUNT=1",
		  "RELEASE reply");

	/* SUBSCRIBE and its ALERT event */
	req(&m, IAS_CTL_OP_SUBSCRIBE);
	check_msg(&m, "", "SUBSCRIBE request");
	rep(&m, IAS_CTL_OP_SUBSCRIBE);
	check_msg(&m, "", "SUBSCRIBE reply");
	ias_ctl_msg_init(&m, buf, sizeof(buf), IAS_CTL_EVENT, IAS_CTL_EV_ALERT, 0, 0);
	ias_ctl_put_u32(&m, IAS_CTL_A_PID, 977);
	ias_ctl_put_str(&m, IAS_CTL_A_INCIDENT_ID, "I-17");
	ias_ctl_put_str(&m, IAS_CTL_A_REASON, "trace");
	ias_ctl_put_str(&m, IAS_CTL_A_NODE, "n11");
	ias_ctl_put_str(&m, IAS_CTL_A_ORIGIN, "trace");
	ias_ctl_put_u64(&m, IAS_CTL_A_TS_MS, 1700000000000ull);
	check_msg(&m, "PID=977,INCIDENT_ID='I-17',REASON='trace',NODE='n11',ORIGIN='trace',"
		  "TS_MS=1700000000000", "ALERT event");
	ias_ctl_msg_init(&m, buf, sizeof(buf), IAS_CTL_EVENT, IAS_CTL_EV_QP_ORDER, 0, 0);
	ias_ctl_put_u32(&m, IAS_CTL_A_QPN, 26);
	ias_ctl_put_str(&m, IAS_CTL_A_DEVICE, "mlx5_0");
	ias_ctl_put_str(&m, IAS_CTL_A_ACTION, "pause");
	check_msg(&m, "QPN=26,DEVICE='mlx5_0',ACTION='pause'", "QP_ORDER event");

	/* QP_REGISTER / QP_UPDATE / QP_UNREGISTER */
	req(&m, IAS_CTL_OP_QP_REGISTER);
	ias_ctl_put_u32(&m, IAS_CTL_A_QPN, 26);
	ias_ctl_put_u8(&m, IAS_CTL_A_QP_TYPE, 2);
	ias_ctl_put_u8(&m, IAS_CTL_A_QP_STATE, 0);
	ias_ctl_put_str(&m, IAS_CTL_A_DEVICE, "mlx5_0");
	ias_ctl_put_u32(&m, IAS_CTL_A_PORT, 1);
	ias_ctl_put_bytes(&m, IAS_CTL_A_REMOTE_GID, gid, 16);
	ias_ctl_put_u8(&m, IAS_CTL_A_SIMULATED, 1);
	check_msg(&m, "QPN=26,QP_TYPE=2,QP_STATE=0,DEVICE='mlx5_0',PORT=1,REMOTE_GID=fe..01,"
		  "SIMULATED=1", "QP_REGISTER request");
	rep(&m, IAS_CTL_OP_QP_REGISTER);
	check_msg(&m, "", "QP_REGISTER reply");
	req(&m, IAS_CTL_OP_QP_UPDATE);
	ias_ctl_put_u32(&m, IAS_CTL_A_QPN, 26);
	ias_ctl_put_str(&m, IAS_CTL_A_DEVICE, "mlx5_0");
	ias_ctl_put_u8(&m, IAS_CTL_A_QP_STATE, 2);
	ias_ctl_nest_begin(&m, IAS_CTL_A_DEST);
	ias_ctl_put_u32(&m, IAS_CTL_A_REMOTE_LID, 3);
	ias_ctl_put_u32(&m, IAS_CTL_A_REMOTE_QPN, 99);
	ias_ctl_nest_end(&m);
	ias_ctl_nest_begin(&m, IAS_CTL_A_DEST);
	ias_ctl_put_u32(&m, IAS_CTL_A_REMOTE_LID, 4);
	ias_ctl_nest_end(&m);
	check_msg(&m, "QPN=26,DEVICE='mlx5_0',QP_STATE=2,DEST{REMOTE_LID=3,REMOTE_QPN=99},"
		  "DEST{REMOTE_LID=4}", "QP_UPDATE request");
	rep(&m, IAS_CTL_OP_QP_UPDATE);
	check_msg(&m, "", "QP_UPDATE reply");
	req(&m, IAS_CTL_OP_QP_UNREGISTER);
	ias_ctl_put_u32(&m, IAS_CTL_A_QPN, 26);
	ias_ctl_put_str(&m, IAS_CTL_A_DEVICE, "mlx5_0");
	check_msg(&m, "QPN=26,DEVICE='mlx5_0'", "QP_UNREGISTER request");
	rep(&m, IAS_CTL_OP_QP_UNREGISTER);
	check_msg(&m, "", "QP_UNREGISTER reply");

	/* QPS_LIST */
	req(&m, IAS_CTL_OP_QPS_LIST);
	ias_ctl_put_u32(&m, IAS_CTL_A_PID, 4242);
	check_msg(&m, "PID=4242", "QPS_LIST request");
	rep(&m, IAS_CTL_OP_QPS_LIST);
	ias_ctl_nest_begin(&m, IAS_CTL_A_QP);
	ias_ctl_put_u32(&m, IAS_CTL_A_QPN, 26);
	ias_ctl_put_str(&m, IAS_CTL_A_SOURCE, "kernel+libias");
	ias_ctl_put_u8(&m, IAS_CTL_A_BLOCKED, 1);
	ias_ctl_nest_begin(&m, IAS_CTL_A_DEST);
	ias_ctl_put_u32(&m, IAS_CTL_A_REMOTE_LID, 3);
	ias_ctl_nest_end(&m);
	ias_ctl_nest_end(&m);
	check_msg(&m, "QP{QPN=26,SOURCE='kernel+libias',BLOCKED=1,DEST{REMOTE_LID=3}}",
		  "QPS_LIST reply");

	/* BLOCKS_LIST / BLOCK_INSPECT */
	req(&m, IAS_CTL_OP_BLOCKS_LIST);
	ias_ctl_put_u8(&m, IAS_CTL_A_ALL, 1);
	ias_ctl_put_str(&m, IAS_CTL_A_INCIDENT_ID, "I-17");
	check_msg(&m, "ALL=1,INCIDENT_ID='I-17'", "BLOCKS_LIST request");
	rep(&m, IAS_CTL_OP_BLOCKS_LIST);
	put_block(&m);
	put_block(&m);
	check_msg(&m, BLOCK_STR "," BLOCK_STR, "BLOCKS_LIST reply");
	req(&m, IAS_CTL_OP_BLOCK_INSPECT);
	ias_ctl_put_u64(&m, IAS_CTL_A_BLOCK_ID, 42);
	check_msg(&m, "BLOCK_ID=42", "BLOCK_INSPECT request");
	rep(&m, IAS_CTL_OP_BLOCK_INSPECT);
	put_block(&m);
	ias_ctl_nest_begin(&m, IAS_CTL_A_AUDIT);
	ias_ctl_put_u64(&m, IAS_CTL_A_TS_MS, 1);
	ias_ctl_put_str(&m, IAS_CTL_A_ACTOR, "uid 0");
	ias_ctl_put_str(&m, IAS_CTL_A_ACTION, "block");
	ias_ctl_put_str(&m, IAS_CTL_A_DETAIL, "SIGSTOP sent");
	ias_ctl_nest_end(&m);
	check_msg(&m, BLOCK_STR ",AUDIT{TS_MS=1,ACTOR='uid 0',ACTION='block',DETAIL='SIGSTOP sent'}",
		  "BLOCK_INSPECT reply");

	/* INCIDENTS_LIST / INCIDENT_SHOW */
	req(&m, IAS_CTL_OP_INCIDENTS_LIST);
	check_msg(&m, "", "INCIDENTS_LIST request");
	rep(&m, IAS_CTL_OP_INCIDENTS_LIST);
	ias_ctl_nest_begin(&m, IAS_CTL_A_INCIDENT);
	ias_ctl_put_str(&m, IAS_CTL_A_INCIDENT_ID, "I-17");
	ias_ctl_put_u32(&m, IAS_CTL_A_ROOT_PID, 4242);
	ias_ctl_put_str(&m, IAS_CTL_A_STATE, "open");
	ias_ctl_nest_end(&m);
	check_msg(&m, "INCIDENT{INCIDENT_ID='I-17',ROOT_PID=4242,STATE='open'}",
		  "INCIDENTS_LIST reply");
	req(&m, IAS_CTL_OP_INCIDENT_SHOW);
	ias_ctl_put_str(&m, IAS_CTL_A_INCIDENT_ID, "I-17");
	check_msg(&m, "INCIDENT_ID='I-17'", "INCIDENT_SHOW request");
	rep(&m, IAS_CTL_OP_INCIDENT_SHOW);
	ias_ctl_nest_begin(&m, IAS_CTL_A_INCIDENT);
	ias_ctl_put_str(&m, IAS_CTL_A_INCIDENT_ID, "I-17");
	ias_ctl_nest_begin(&m, IAS_CTL_A_EVENT);
	ias_ctl_put_str(&m, IAS_CTL_A_NODE, "n07");
	ias_ctl_put_str(&m, IAS_CTL_A_KIND, "block");
	ias_ctl_nest_end(&m);
	ias_ctl_nest_end(&m);
	check_msg(&m, "INCIDENT{INCIDENT_ID='I-17',EVENT{NODE='n07',KIND='block'}}",
		  "INCIDENT_SHOW reply");

	/* ALLOW_* */
	req(&m, IAS_CTL_OP_ALLOW_LIST);
	check_msg(&m, "", "ALLOW_LIST request");
	rep(&m, IAS_CTL_OP_ALLOW_LIST);
	ias_ctl_nest_begin(&m, IAS_CTL_A_ALLOW);
	ias_ctl_put_u64(&m, IAS_CTL_A_ALLOW_ID, 1);
	ias_ctl_put_str(&m, IAS_CTL_A_KIND, "exe");
	ias_ctl_put_str(&m, IAS_CTL_A_VALUE, "/usr/sbin/sshd");
	ias_ctl_nest_end(&m);
	check_msg(&m, "ALLOW{ALLOW_ID=1,KIND='exe',VALUE='/usr/sbin/sshd'}", "ALLOW_LIST reply");
	req(&m, IAS_CTL_OP_ALLOW_ADD);
	ias_ctl_put_str(&m, IAS_CTL_A_KIND, "comm");
	ias_ctl_put_str(&m, IAS_CTL_A_VALUE, "opensm");
	ias_ctl_put_str(&m, IAS_CTL_A_NOTE, "subnet manager");
	check_msg(&m, "KIND='comm',VALUE='opensm',NOTE='subnet manager'", "ALLOW_ADD request");
	rep(&m, IAS_CTL_OP_ALLOW_ADD);
	ias_ctl_nest_begin(&m, IAS_CTL_A_ALLOW);
	ias_ctl_put_u64(&m, IAS_CTL_A_ALLOW_ID, 2);
	ias_ctl_nest_end(&m);
	check_msg(&m, "ALLOW{ALLOW_ID=2}", "ALLOW_ADD reply");
	req(&m, IAS_CTL_OP_ALLOW_REMOVE);
	ias_ctl_put_str(&m, IAS_CTL_A_KIND, "comm");
	ias_ctl_put_str(&m, IAS_CTL_A_VALUE, "opensm");
	check_msg(&m, "KIND='comm',VALUE='opensm'", "ALLOW_REMOVE request");
	rep(&m, IAS_CTL_OP_ALLOW_REMOVE);
	check_msg(&m, "", "ALLOW_REMOVE reply");

	/* POLICY_* */
	req(&m, IAS_CTL_OP_POLICY_SHOW);
	check_msg(&m, "", "POLICY_SHOW request");
	rep(&m, IAS_CTL_OP_POLICY_SHOW);
	ias_ctl_nest_begin(&m, IAS_CTL_A_POLICY);
	ias_ctl_put_str(&m, IAS_CTL_A_LEVEL, "lca");
	ias_ctl_put_str(&m, IAS_CTL_A_BLOCK_MODE, "freeze");
	ias_ctl_put_u8(&m, IAS_CTL_A_DRY_RUN, 0);
	ias_ctl_put_u32(&m, IAS_CTL_A_POLICY_VERSION, 3);
	ias_ctl_nest_end(&m);
	check_msg(&m, "POLICY{LEVEL='lca',BLOCK_MODE='freeze',DRY_RUN=0,POLICY_VERSION=3}",
		  "POLICY_SHOW reply");
	req(&m, IAS_CTL_OP_POLICY_SET);
	ias_ctl_nest_begin(&m, IAS_CTL_A_POLICY);
	ias_ctl_put_u32(&m, IAS_CTL_A_HOP_LIMIT, 8);
	ias_ctl_nest_end(&m);
	check_msg(&m, "POLICY{HOP_LIMIT=8}", "POLICY_SET request");
	rep(&m, IAS_CTL_OP_POLICY_SET);
	ias_ctl_nest_begin(&m, IAS_CTL_A_POLICY);
	ias_ctl_put_u32(&m, IAS_CTL_A_HOP_LIMIT, 8);
	ias_ctl_nest_end(&m);
	check_msg(&m, "POLICY{HOP_LIMIT=8}", "POLICY_SET reply");
}

static void test_header_fields(void)
{
	struct ias_ctl_msg m;
	struct ias_ctl_hdr h;
	struct ias_rd r;
	int len;

	ias_ctl_msg_init(&m, buf, sizeof(buf), IAS_CTL_REQUEST, IAS_CTL_OP_STATUS, 0xdeadbeef, 0);
	ias_ctl_msg_set_seq(&m, 12345);
	is_int(ias_ctl_msg_finish(&m), 0, "empty request finishes");
	is_int(m.len, IAS_CTL_HDR_LEN, "empty request is header only");
	is_int(ias_get_be32(buf), 0x49415343, "magic on the wire");
	is_int(ias_ctl_parse_hdr(buf, m.len, &h, &r), 0, "header parses");
	is_int(h.seq, 12345, "seq set after init");
	is_int(h.kind, IAS_CTL_REQUEST, "kind");
	is_int(h.op, IAS_CTL_OP_STATUS, "op");
	is_int(h.length, IAS_CTL_HDR_LEN, "length");
	is_int(ias_rd_left(&r), 0, "no attributes");

	len = ias_ctl_build_error(buf, sizeof(buf), IAS_CTL_OP_RELEASE, 9, IAS_CTL_E_NOENT,
				  "no block 42\n");
	ok(len > 0, "error reply built");
	is_int(ias_ctl_validate(buf, (size_t)len), 0, "error reply validates");
	ias_ctl_parse_hdr(buf, (size_t)len, &h, NULL);
	is_int(h.status, IAS_CTL_E_NOENT, "error reply status");
	is_int(h.seq, 9, "error reply echoes seq");
	is_str(dump(buf, (size_t)len), "MESSAGE='no block 42 '", "control char in message replaced");
	ok(ias_ctl_build_error(buf, 10, 1, 1, IAS_CTL_E_INVAL, "x") == -ENOSPC,
	   "error reply into a tiny buffer: -ENOSPC");
}

/* A valid request to damage, step by step. */
static size_t base_req(void)
{
	struct ias_ctl_msg m;

	ias_ctl_msg_init(&m, buf, sizeof(buf), IAS_CTL_REQUEST, IAS_CTL_OP_REPORT_ATTACK, 1, 0);
	ias_ctl_put_u32(&m, IAS_CTL_A_PID, 4242);
	ias_ctl_put_str(&m, IAS_CTL_A_REASON, "x");
	ias_ctl_msg_finish(&m);
	return m.len;
}

static void test_malformed_header(void)
{
	struct ias_ctl_hdr h;
	size_t n;

	n = base_req();
	is_int(ias_ctl_validate(buf, n), 0, "base request valid");
	is_int(ias_ctl_validate(buf, 0), IAS_CTL_E_INVAL, "1: empty datagram");
	is_int(ias_ctl_validate(buf, IAS_CTL_HDR_LEN - 1), IAS_CTL_E_INVAL, "1: short header");
	is_int(ias_ctl_validate(NULL, 100), IAS_CTL_E_INVAL, "1: NULL buffer");
	memset(buf + n, 0, IAS_CTL_MAX_MSG + 1 - n);
	ias_put_be32(buf + IAS_CTL_OFF_LENGTH, IAS_CTL_MAX_MSG + 1);
	is_int(ias_ctl_validate(buf, IAS_CTL_MAX_MSG + 1), IAS_CTL_E_TOOBIG, "1: oversize datagram");

	n = base_req();
	buf[0] = 'X';
	is_int(ias_ctl_validate(buf, n), IAS_CTL_E_INVAL, "2: bad magic");
	n = base_req();
	buf[IAS_CTL_OFF_VERSION] = 2;
	is_int(ias_ctl_validate(buf, n), IAS_CTL_E_VERSION, "3: bad version -> E_VERSION");
	is_int(ias_ctl_parse_hdr(buf, n, &h, NULL), IAS_CTL_E_VERSION, "3: parse_hdr too");
	is_int(h.seq, 1, "3: seq still available for the error reply");
	n = base_req();
	buf[IAS_CTL_OFF_KIND] = 0;
	is_int(ias_ctl_validate(buf, n), IAS_CTL_E_INVAL, "4: kind 0");
	buf[IAS_CTL_OFF_KIND] = 4;
	is_int(ias_ctl_validate(buf, n), IAS_CTL_E_INVAL, "4: kind 4");
	n = base_req();
	buf[IAS_CTL_OFF_RESERVED + 3] = 1;
	is_int(ias_ctl_validate(buf, n), IAS_CTL_E_INVAL, "5: reserved not zero");
	n = base_req();
	is_int(ias_ctl_validate(buf, n - 1), IAS_CTL_E_INVAL, "6: length > datagram");
	buf[n] = 0;
	is_int(ias_ctl_validate(buf, n + 1), IAS_CTL_E_INVAL, "6: length < datagram");
	n = base_req();
	ias_put_be16(buf + IAS_CTL_OFF_OP, 0);
	is_int(ias_ctl_validate(buf, n), IAS_CTL_E_INVAL, "7: op 0");
	ias_put_be16(buf + IAS_CTL_OFF_OP, IAS_CTL_OP_MAX_REQ + 1);
	is_int(ias_ctl_validate(buf, n), IAS_CTL_E_INVAL, "7: op past the last");
	ias_put_be16(buf + IAS_CTL_OFF_OP, IAS_CTL_EV_ALERT);
	is_int(ias_ctl_validate(buf, n), IAS_CTL_E_INVAL, "7: event op in a request");
	buf[IAS_CTL_OFF_KIND] = IAS_CTL_EVENT;
	ias_put_be16(buf + IAS_CTL_OFF_OP, IAS_CTL_OP_STATUS);
	is_int(ias_ctl_validate(buf, n), IAS_CTL_E_INVAL, "7: request op in an event");
	n = base_req();
	ias_put_be32(buf + IAS_CTL_OFF_STATUS, (uint32_t)IAS_CTL_E_INVAL);
	is_int(ias_ctl_validate(buf, n), IAS_CTL_E_INVAL, "8: status in a request");
	buf[IAS_CTL_OFF_KIND] = IAS_CTL_REPLY;
	is_int(ias_ctl_validate(buf, n), 0, "8: negative status in a reply is fine");
	ias_put_be32(buf + IAS_CTL_OFF_STATUS, 5);
	is_int(ias_ctl_validate(buf, n), IAS_CTL_E_INVAL, "8: positive status in a reply");
}

/* Build a request from raw attribute bytes appended to a header. */
static size_t raw_req(uint16_t op, const uint8_t *attrs_raw, size_t n)
{
	struct ias_ctl_msg m;

	ias_ctl_msg_init(&m, buf, sizeof(buf), IAS_CTL_REQUEST, op, 1, 0);
	memcpy(buf + IAS_CTL_HDR_LEN, attrs_raw, n);
	m.len += n;
	ias_ctl_msg_finish(&m);
	return m.len;
}

static void expect_inval(struct ias_ctl_msg *m, const char *name, const char *why_has)
{
	char why[256] = "";
	int rc;

	ias_ctl_msg_finish(m);
	rc = ias_ctl_validate_msg(m->buf, m->len, why, sizeof(why));
	is_int(rc, IAS_CTL_E_INVAL, name);
	if (!ok(strstr(why, why_has) != NULL, "%s: explanation mentions '%s'", name, why_has))
		printf("#   got '%s'\n", why);
}

static void test_malformed_attrs(void)
{
	static const uint8_t trunc_hdr[] = { 0, 2, 0 };
	static const uint8_t trunc_val[] = { 0, 2, 0, 4, 0, 0, 0 };
	static const uint8_t nul_str[] = { 0, 2, 0, 4, 0, 0, 0, 1, 0, 3, 0, 2, 'a', 0 };
	static const uint8_t ctl_str[] = { 0, 2, 0, 4, 0, 0, 0, 1, 0, 3, 0, 2, 'a', 0x1b };
	static const uint8_t del_str[] = { 0, 2, 0, 4, 0, 0, 0, 1, 0, 3, 0, 1, 0x7f };
	static const uint8_t hi_str[] = { 0, 2, 0, 4, 0, 0, 0, 1, 0, 3, 0, 2, 0xc3, 0xa9 };
	struct ias_ctl_msg m;
	char longs[IAS_CTL_REASON_MAX + 2];
	size_t n;

	n = raw_req(IAS_CTL_OP_REPORT_ATTACK, trunc_hdr, sizeof(trunc_hdr));
	is_int(ias_ctl_validate(buf, n), IAS_CTL_E_INVAL, "attribute header truncated");
	n = raw_req(IAS_CTL_OP_REPORT_ATTACK, trunc_val, sizeof(trunc_val));
	is_int(ias_ctl_validate(buf, n), IAS_CTL_E_INVAL, "attribute value past the end");
	n = raw_req(IAS_CTL_OP_REPORT_ATTACK, nul_str, sizeof(nul_str));
	is_int(ias_ctl_validate(buf, n), IAS_CTL_E_INVAL, "NUL inside a string");
	n = raw_req(IAS_CTL_OP_REPORT_ATTACK, ctl_str, sizeof(ctl_str));
	is_int(ias_ctl_validate(buf, n), IAS_CTL_E_INVAL, "escape character in a string");
	n = raw_req(IAS_CTL_OP_REPORT_ATTACK, del_str, sizeof(del_str));
	is_int(ias_ctl_validate(buf, n), IAS_CTL_E_INVAL, "DEL in a string");
	n = raw_req(IAS_CTL_OP_REPORT_ATTACK, hi_str, sizeof(hi_str));
	is_int(ias_ctl_validate(buf, n), 0, "UTF-8 bytes allowed in a string");

	req(&m, IAS_CTL_OP_REPORT_ATTACK);
	ias_ctl_put_u32(&m, IAS_CTL_A_PID, 1);
	ias_ctl_put_u32(&m, 500, 1);
	expect_inval(&m, "unknown attribute type in a request", "not allowed");
	req(&m, IAS_CTL_OP_REPORT_ATTACK);
	ias_ctl_put_u32(&m, IAS_CTL_A_PID, 1);
	ias_ctl_put_u64(&m, IAS_CTL_A_BLOCK_ID, 1);
	expect_inval(&m, "known attribute not for this op", "BLOCK_ID");
	req(&m, IAS_CTL_OP_REPORT_ATTACK);
	ias_ctl_put_u32(&m, IAS_CTL_A_PID, 1);
	ias_ctl_put_str(&m, IAS_CTL_A_MESSAGE, "hi");
	expect_inval(&m, "MESSAGE in a request", "MESSAGE");
	req(&m, IAS_CTL_OP_REPORT_ATTACK);
	ias_ctl_put_u64(&m, IAS_CTL_A_PID, 1);
	expect_inval(&m, "u32 attribute of 8 bytes", "4 bytes");
	req(&m, IAS_CTL_OP_REPORT_ATTACK);
	ias_ctl_put_u32(&m, IAS_CTL_A_PID, 1);
	ias_ctl_put_u32(&m, IAS_CTL_A_OVERRIDE, 1);
	expect_inval(&m, "u8 attribute of 4 bytes", "1 byte");
	req(&m, IAS_CTL_OP_RELEASE);
	ias_ctl_put_u32(&m, IAS_CTL_A_BLOCK_ID, 1);
	expect_inval(&m, "u64 attribute of 4 bytes", "8 bytes");
	req(&m, IAS_CTL_OP_QP_REGISTER);
	ias_ctl_put_u32(&m, IAS_CTL_A_QPN, 1);
	ias_ctl_put_u8(&m, IAS_CTL_A_QP_TYPE, 2);
	ias_ctl_put_u8(&m, IAS_CTL_A_QP_STATE, 0);
	ias_ctl_put_str(&m, IAS_CTL_A_DEVICE, "d");
	ias_ctl_put_u32(&m, IAS_CTL_A_PORT, 1);
	ias_ctl_put_bytes(&m, IAS_CTL_A_REMOTE_GID, gid, 15);
	expect_inval(&m, "GID of 15 bytes", "16 bytes");
	req(&m, IAS_CTL_OP_REPORT_ATTACK);
	ias_ctl_put_u32(&m, IAS_CTL_A_PID, 1);
	memset(longs, 'a', sizeof(longs) - 1);
	longs[sizeof(longs) - 1] = '\0';
	ias_ctl_put_str(&m, IAS_CTL_A_REASON, longs);
	expect_inval(&m, "REASON over its cap", "longer than");
	longs[sizeof(longs) - 2] = '\0';
	req(&m, IAS_CTL_OP_REPORT_ATTACK);
	ias_ctl_put_u32(&m, IAS_CTL_A_PID, 1);
	ias_ctl_put_str(&m, IAS_CTL_A_REASON, longs);
	ias_ctl_msg_finish(&m);
	is_int(ias_ctl_validate(buf, m.len), 0, "REASON at its cap is fine");
	req(&m, IAS_CTL_OP_REPORT_ATTACK);
	ias_ctl_put_u32(&m, IAS_CTL_A_PID, 1);
	ias_ctl_put_u32(&m, IAS_CTL_A_PID, 2);
	expect_inval(&m, "duplicate attribute", "repeated");
	req(&m, IAS_CTL_OP_REPORT_ATTACK);
	ias_ctl_put_str(&m, IAS_CTL_A_REASON, "x");
	expect_inval(&m, "missing required PID", "requires attribute PID");
	req(&m, IAS_CTL_OP_RELEASE);
	expect_inval(&m, "RELEASE without a selector", "exactly one");
	req(&m, IAS_CTL_OP_RELEASE);
	ias_ctl_put_u32(&m, IAS_CTL_A_PID, 1);
	ias_ctl_put_u64(&m, IAS_CTL_A_BLOCK_ID, 1);
	expect_inval(&m, "RELEASE with two selectors", "exactly one");
	req(&m, IAS_CTL_OP_POLICY_SET);
	ias_ctl_nest_begin(&m, IAS_CTL_A_POLICY);
	ias_ctl_put_u32(&m, IAS_CTL_A_PID, 1);
	ias_ctl_nest_end(&m);
	expect_inval(&m, "foreign attribute inside a request nest", "POLICY");
	req(&m, IAS_CTL_OP_POLICY_SET);
	ias_ctl_nest_begin(&m, IAS_CTL_A_POLICY);
	ias_ctl_put_u32(&m, IAS_CTL_A_HOP_LIMIT, 1);
	ias_ctl_put_u32(&m, IAS_CTL_A_HOP_LIMIT, 2);
	ias_ctl_nest_end(&m);
	expect_inval(&m, "duplicate inside a request nest", "repeated");
	req(&m, IAS_CTL_OP_POLICY_SET);
	ias_ctl_nest_begin(&m, IAS_CTL_A_POLICY);
	ias_ctl_put_u8(&m, IAS_CTL_A_HOP_LIMIT, 1);
	ias_ctl_nest_end(&m);
	expect_inval(&m, "bad width inside a nest", "HOP_LIMIT");

	/* Replies are lenient about unknown types but not about known ones. */
	rep(&m, IAS_CTL_OP_STATUS);
	ias_ctl_put_u32(&m, 999, 1);
	ias_ctl_nest_begin(&m, IAS_CTL_A_STATUS);
	ias_ctl_put_str(&m, 998, "future");
	ias_ctl_nest_end(&m);
	ias_ctl_msg_finish(&m);
	is_int(ias_ctl_validate(buf, m.len), 0, "reply: unknown types skipped");
	rep(&m, IAS_CTL_OP_STATUS);
	ias_ctl_nest_begin(&m, IAS_CTL_A_STATUS);
	ias_ctl_put_u8(&m, IAS_CTL_A_UPTIME_S, 1);
	ias_ctl_nest_end(&m);
	ias_ctl_msg_finish(&m);
	is_int(ias_ctl_validate(buf, m.len), IAS_CTL_E_INVAL, "reply: known type of wrong width");
}

static void test_nesting_depth(void)
{
	struct ias_ctl_msg m;
	uint8_t raw[64];
	size_t n = 0;
	int i;

	/* Five levels of POLICY is more than the parser takes. Built by hand:
	 * the builder refuses a fifth level itself. */
	ias_ctl_msg_init(&m, buf, sizeof(buf), IAS_CTL_REPLY, IAS_CTL_OP_STATUS, 1, 0);
	for (i = 0; i < IAS_CTL_MAX_DEPTH; i++)
		ias_ctl_nest_begin(&m, IAS_CTL_A_POLICY);
	is_int(m.err, 0, "four open nests are fine");
	ias_ctl_nest_begin(&m, IAS_CTL_A_POLICY);
	is_int(m.err, -EINVAL, "a fifth nest is refused by the builder");
	is_int(ias_ctl_msg_finish(&m), -EINVAL, "finish reports it");

	ias_ctl_msg_init(&m, buf, sizeof(buf), IAS_CTL_REPLY, IAS_CTL_OP_STATUS, 1, 0);
	for (i = 0; i < IAS_CTL_MAX_DEPTH; i++)
		ias_ctl_nest_begin(&m, IAS_CTL_A_POLICY);
	for (i = 0; i < IAS_CTL_MAX_DEPTH; i++)
		ias_ctl_nest_end(&m);
	is_int(ias_ctl_msg_finish(&m), 0, "four levels build");
	is_int(ias_ctl_validate(buf, m.len), 0, "four levels validate");

	for (i = 0; i < 5; i++) {
		ias_put_be16(raw + n, IAS_CTL_A_POLICY);
		ias_put_be16(raw + n + 2, (uint16_t)(4 * (4 - i)));
		n += 4;
	}
	ias_ctl_msg_init(&m, buf, sizeof(buf), IAS_CTL_REPLY, IAS_CTL_OP_STATUS, 1, 0);
	memcpy(buf + m.len, raw, n);
	m.len += n;
	ias_ctl_msg_finish(&m);
	is_int(ias_ctl_validate(buf, m.len), IAS_CTL_E_INVAL, "five levels rejected");

	ias_ctl_msg_init(&m, buf, sizeof(buf), IAS_CTL_REPLY, IAS_CTL_OP_STATUS, 1, 0);
	ias_ctl_nest_begin(&m, IAS_CTL_A_STATUS);
	is_int(ias_ctl_msg_finish(&m), -EINVAL, "finish with an open nest");
	ias_ctl_msg_init(&m, buf, sizeof(buf), IAS_CTL_REPLY, IAS_CTL_OP_STATUS, 1, 0);
	ias_ctl_nest_end(&m);
	is_int(ias_ctl_msg_finish(&m), -EINVAL, "nest_end without begin");
}

static void test_enospc(void)
{
	uint8_t small[40];
	struct ias_ctl_msg m;
	size_t len_before;

	ias_ctl_msg_init(&m, small, sizeof(small), IAS_CTL_REQUEST, IAS_CTL_OP_REPORT_ATTACK, 1, 0);
	ias_ctl_put_u32(&m, IAS_CTL_A_PID, 1);          /* 8 bytes: 32 */
	ias_ctl_put_u64(&m, IAS_CTL_A_BLOCK_ID, 1);     /* 12 bytes: would be 44 */
	is_int(m.err, -ENOSPC, "overflow sets -ENOSPC");
	len_before = m.len;
	ias_ctl_put_u8(&m, IAS_CTL_A_OVERRIDE, 1);      /* would fit, but sticky */
	is_int(m.len, len_before, "later puts are ignored");
	ias_ctl_nest_begin(&m, IAS_CTL_A_POLICY);
	ias_ctl_nest_end(&m);
	is_int(m.err, -ENOSPC, "error stays -ENOSPC");
	is_int(ias_ctl_msg_finish(&m), -ENOSPC, "finish returns -ENOSPC");

	ias_ctl_msg_init(&m, small, 10, IAS_CTL_REQUEST, IAS_CTL_OP_STATUS, 1, 0);
	is_int(ias_ctl_msg_finish(&m), -ENOSPC, "buffer smaller than the header");

	ias_ctl_msg_init(&m, buf, sizeof(buf), IAS_CTL_REPLY, IAS_CTL_OP_STATUS, 1, 0);
	is_int(m.cap, IAS_CTL_MAX_MSG, "capacity clamped to the maximum message");
	ias_ctl_put_bytes(&m, IAS_CTL_A_TEXT, buf, 70000);
	is_int(m.err, -EINVAL, "attribute longer than 65535: -EINVAL");
}

static void test_getters_and_names(void)
{
	struct ias_ctl_attr a = { IAS_CTL_A_REASON, 3, (const uint8_t *)"abc" };
	uint32_t u32 = 7;
	char s[4];

	is_int(ias_ctl_get_str(&a, s, sizeof(s)), 0, "string fits exactly");
	is_str(s, "abc", "string value");
	is_int(ias_ctl_get_str(&a, s, 3), IAS_CTL_E_INVAL, "string too long for the buffer");
	is_str(s, "", "output emptied on error");
	is_int(ias_ctl_get_u32(&a, &u32), IAS_CTL_E_INVAL, "u32 of 3 bytes");
	is_int(u32, 0, "output zeroed on error");
	is_str(ias_ctl_op_name(IAS_CTL_OP_POLICY_SET), "POLICY_SET", "op name");
	is_str(ias_ctl_op_name(IAS_CTL_EV_QP_ORDER), "QP_ORDER", "event name");
	ok(ias_ctl_op_name(99) == NULL, "unknown op has no name");
	is_str(ias_ctl_attr_name(IAS_CTL_A_BLOCK_ID), "BLOCK_ID", "attribute name");
	ok(ias_ctl_attr_name(0) == NULL && ias_ctl_attr_name(IAS_CTL_A_MAX + 1) == NULL,
	   "unknown attribute names");
	ok(ias_ctl_op_privileged(IAS_CTL_OP_REPORT_ATTACK) &&
	   !ias_ctl_op_privileged(IAS_CTL_OP_QP_REGISTER) &&
	   !ias_ctl_op_privileged(IAS_CTL_OP_STATUS), "privileged ops");
	is_str(ias_ctl_strerror(IAS_CTL_E_NEVERBLOCK),
	       "target is on the never-block list (needs override)", "status text");
	is_str(ias_ctl_strerror(-1), "unknown status", "unknown status text");
	for (int t = 1; t <= IAS_CTL_A_MAX; t++)
		if (!ias_ctl_attr_name((uint16_t)t) || ias_ctl_attr_wire((uint16_t)t) == IAS_CTL_W_UNKNOWN)
			ok(0, "attribute %d has a name and a wire form", t);
	for (int op = 1; op <= IAS_CTL_OP_MAX_REQ; op++)
		if (!ias_ctl_op_name((uint16_t)op))
			ok(0, "op %d has a name", op);
	ok(1, "every attribute and op is named");
}

/* The manager's op and attributes (19, 76..87). */
static void test_fabric_status(void)
{
	uint8_t fb[512];
	struct ias_ctl_msg m;

	ias_ctl_msg_init(&m, fb, sizeof(buf), IAS_CTL_REQUEST, IAS_CTL_OP_FABRIC_STATUS, 5, 0);
	ias_ctl_msg_finish(&m);
	is_int(ias_ctl_validate(fb, m.len), 0, "FABRIC_STATUS request without attributes");
	ok(!ias_ctl_op_privileged(IAS_CTL_OP_FABRIC_STATUS), "FABRIC_STATUS is open to every user");
	is_str(ias_ctl_op_name(IAS_CTL_OP_FABRIC_STATUS), "FABRIC_STATUS", "op 19 name");
	ias_ctl_msg_init(&m, fb, sizeof(buf), IAS_CTL_REQUEST, IAS_CTL_OP_FABRIC_STATUS, 5, 0);
	ias_ctl_put_u32(&m, IAS_CTL_A_LID, 3);
	ias_ctl_msg_finish(&m);
	is_int(ias_ctl_validate(fb, m.len), IAS_CTL_E_INVAL, "FABRIC_STATUS takes no attributes");

	ias_ctl_msg_init(&m, fb, sizeof(buf), IAS_CTL_REPLY, IAS_CTL_OP_FABRIC_STATUS, 5, 0);
	ias_ctl_put_str(&m, IAS_CTL_A_ROLE, "active");
	ias_ctl_put_u32(&m, IAS_CTL_A_SM_LID, 1);
	ias_ctl_put_u64(&m, IAS_CTL_A_SM_GUID, 0x100001);
	ias_ctl_put_u64(&m, IAS_CTL_A_REPORTS, 9);
	for (int i = 0; i < 2; i++) {
		ias_ctl_nest_begin(&m, IAS_CTL_A_FABRIC_NODE);
		ias_ctl_put_str(&m, IAS_CTL_A_NODE, "h2");
		ias_ctl_put_u64(&m, IAS_CTL_A_NODE_GUID, 0x100002);
		ias_ctl_put_u32(&m, IAS_CTL_A_LID, 3);
		ias_ctl_put_str(&m, IAS_CTL_A_NODE_TYPE, "ca");
		ias_ctl_put_u8(&m, IAS_CTL_A_AGENT, 1);
		ias_ctl_put_u8(&m, IAS_CTL_A_REACHABLE, 1);
		ias_ctl_put_u32(&m, IAS_CTL_A_POLICY_VERSION, 4);
		ias_ctl_put_str(&m, IAS_CTL_A_POLICY_STATE, "current");
		ias_ctl_put_u32(&m, IAS_CTL_A_BLOCKS_ACTIVE, 0);
		ias_ctl_put_u64(&m, IAS_CTL_A_LAST_REPORT_MS, 0);
		ias_ctl_nest_end(&m);
	}
	is_int(ias_ctl_msg_finish(&m), 0, "FABRIC_STATUS reply built");
	is_int(ias_ctl_validate(fb, m.len), 0, "FABRIC_STATUS reply with two nodes is valid");
	/* The LID of the second node cut to 2 bytes: wrong width. */
	ias_ctl_msg_init(&m, fb, sizeof(buf), IAS_CTL_REPLY, IAS_CTL_OP_FABRIC_STATUS, 5, 0);
	ias_ctl_nest_begin(&m, IAS_CTL_A_FABRIC_NODE);
	ias_ctl_put_bytes(&m, IAS_CTL_A_LID, "\0\3", 2);
	ias_ctl_nest_end(&m);
	ias_ctl_msg_finish(&m);
	is_int(ias_ctl_validate(fb, m.len), IAS_CTL_E_INVAL, "a 2-byte LID is refused");
}

int main(void)
{
	test_fabric_status();
	test_round_trips();
	test_header_fields();
	test_malformed_header();
	test_malformed_attrs();
	test_nesting_depth();
	test_enospc();
	test_getters_and_names();
	return tap_done();
}
