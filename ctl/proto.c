/* The agent's local control protocol: builder, parser and validator.
 * See ctl/proto.h and docs/control-protocol.md. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ctl/proto.h"

_Static_assert(IAS_CTL_OFF_VERSION == IAS_CTL_OFF_MAGIC + 4, "version follows magic");
_Static_assert(IAS_CTL_OFF_KIND == 5 && IAS_CTL_OFF_OP == 6, "kind/op offsets");
_Static_assert(IAS_CTL_OFF_SEQ == 8 && IAS_CTL_OFF_STATUS == 12, "seq/status offsets");
_Static_assert(IAS_CTL_OFF_LENGTH == 16 && IAS_CTL_OFF_RESERVED == 20, "length/reserved offsets");
_Static_assert(IAS_CTL_OFF_RESERVED + 4 == IAS_CTL_HDR_LEN, "header is 24 bytes");
_Static_assert(IAS_CTL_MAX_MSG - IAS_CTL_HDR_LEN - IAS_CTL_ATTR_HDR_LEN <= 0xffff,
	       "any nest that fits in a message fits its u16 length");
_Static_assert(IAS_CTL_A_MAX < 128, "attribute bitmaps hold 128 types");

/* ---- names and wire forms ---------------------------------------------- */

struct attr_info {
	const char *name;
	enum ias_ctl_wire wire;
	uint16_t cap; /* strings: max bytes */
};

#define A(t, w, c) [IAS_CTL_A_##t] = { #t, IAS_CTL_W_##w, c }
static const struct attr_info attrs[IAS_CTL_A_MAX + 1] = {
	A(MESSAGE, STR, IAS_CTL_MESSAGE_MAX),
	A(PID, U32, 0),
	A(REASON, STR, IAS_CTL_REASON_MAX),
	A(OVERRIDE, U8, 0),
	A(DURATION_S, U32, 0),
	A(BLOCK, NESTED, 0),
	A(INCIDENT_ID, STR, IAS_CTL_INCIDENT_ID_MAX),
	A(BLOCK_ID, U64, 0),
	A(DRY_RUN, U8, 0),
	A(COUNT, U32, 0),
	A(RELEASE_NOTE, STR, IAS_CTL_STR_MAX),
	A(NODE, STR, IAS_CTL_NODE_MAX),
	A(ORIGIN, STR, IAS_CTL_ORIGIN_MAX),
	A(TS_MS, U64, 0),
	A(QPN, U32, 0),
	A(QP_TYPE, U8, 0),
	A(QP_STATE, U8, 0),
	A(DEVICE, STR, IAS_CTL_DEVICE_MAX),
	A(PORT, U32, 0),
	A(REMOTE_LID, U32, 0),
	A(REMOTE_GID, GID, 0),
	A(REMOTE_QPN, U32, 0),
	A(SIMULATED, U8, 0),
	A(DEST, NESTED, 0),
	A(QP, NESTED, 0),
	A(COMM, STR, IAS_CTL_COMM_MAX),
	A(SOURCE, STR, IAS_CTL_NAME_MAX),
	A(BLOCKED, U8, 0),
	A(ALL, U8, 0),
	A(UID, U32, 0),
	A(EXE, STR, IAS_CTL_STR_MAX),
	A(MECHANISM, STR, IAS_CTL_NAME_MAX),
	A(CREATED_MS, U64, 0),
	A(UNTIL_MS, U64, 0),
	A(RELEASED_MS, U64, 0),
	A(OFFENCE, U32, 0),
	A(AUDIT, NESTED, 0),
	A(ACTOR, STR, IAS_CTL_NAME_MAX),
	A(ACTION, STR, IAS_CTL_NAME_MAX),
	A(DETAIL, STR, IAS_CTL_STR_MAX),
	A(INCIDENT, NESTED, 0),
	A(OPENED_MS, U64, 0),
	A(ROOT_PID, U32, 0),
	A(STATE, STR, IAS_CTL_NAME_MAX),
	A(CLOSED_MS, U64, 0),
	A(EVENT, NESTED, 0),
	A(KIND, STR, IAS_CTL_NAME_MAX),
	A(TEXT, STR, IAS_CTL_STR_MAX),
	A(ALLOW, NESTED, 0),
	A(ALLOW_ID, U64, 0),
	A(VALUE, STR, IAS_CTL_STR_MAX),
	A(NOTE, STR, IAS_CTL_STR_MAX),
	A(POLICY, NESTED, 0),
	A(LEVEL, STR, IAS_CTL_NAME_MAX),
	A(BLOCK_MODE, STR, IAS_CTL_NAME_MAX),
	A(BASE_DURATION_S, U32, 0),
	A(MAX_DURATION_S, U32, 0),
	A(ESCALATION, U32, 0),
	A(HOP_LIMIT, U32, 0),
	A(FANOUT_LIMIT, U32, 0),
	A(POLICY_VERSION, U32, 0),
	A(STATUS, NESTED, 0),
	A(AGENT_VERSION, STR, IAS_CTL_NAME_MAX),
	A(UPTIME_S, U64, 0),
	A(BLOCKS_ACTIVE, U32, 0),
	A(BLOCKS_TOTAL, U32, 0),
	A(QPS_BLOCKED, U32, 0),
	A(QPS_KNOWN, U32, 0),
	A(INCIDENTS, U32, 0),
	A(ALERTS_PENDING, U32, 0),
	A(PORT_STATE, STR, IAS_CTL_NAME_MAX),
	A(PEERS_REACHABLE, U32, 0),
	A(PEERS_KNOWN, U32, 0),
	A(MADS_REJECTED, U64, 0),
	A(PEER, STR, IAS_CTL_PEER_MAX),
	A(NODE_GUID, U64, 0),
	A(LID, U32, 0),
	A(AGENT, U8, 0),
	A(REACHABLE, U8, 0),
	A(LAST_REPORT_MS, U64, 0),
	A(FABRIC_NODE, NESTED, 0),
	A(ROLE, STR, IAS_CTL_NAME_MAX),
	A(SM_LID, U32, 0),
	A(SM_GUID, U64, 0),
	A(NODE_TYPE, STR, IAS_CTL_NAME_MAX),
	A(POLICY_STATE, STR, IAS_CTL_NAME_MAX),
	A(REPORTS, U64, 0),
	A(PEER_NODE, STR, IAS_CTL_NODE_MAX),
	A(REMOTE_SOURCE, STR, IAS_CTL_STR_MAX),
	A(TRACES_REFUSED, U64, 0),
	A(TRACE_WHERE, STR, IAS_CTL_MESSAGE_MAX),
	A(KERNEL_OBS, STR, IAS_CTL_MESSAGE_MAX),
};
#undef A

const char *ias_ctl_attr_name(uint16_t type)
{
	return type <= IAS_CTL_A_MAX ? attrs[type].name : NULL;
}

enum ias_ctl_wire ias_ctl_attr_wire(uint16_t type)
{
	return type <= IAS_CTL_A_MAX ? attrs[type].wire : IAS_CTL_W_UNKNOWN;
}

static const char *const op_names[IAS_CTL_OP_MAX_REQ + 1] = {
	[IAS_CTL_OP_STATUS] = "STATUS",
	[IAS_CTL_OP_REPORT_ATTACK] = "REPORT_ATTACK",
	[IAS_CTL_OP_GET_ATTACK_PID] = "GET_ATTACK_PID",
	[IAS_CTL_OP_RELEASE] = "RELEASE",
	[IAS_CTL_OP_SUBSCRIBE] = "SUBSCRIBE",
	[IAS_CTL_OP_QP_REGISTER] = "QP_REGISTER",
	[IAS_CTL_OP_QP_UPDATE] = "QP_UPDATE",
	[IAS_CTL_OP_QP_UNREGISTER] = "QP_UNREGISTER",
	[IAS_CTL_OP_QPS_LIST] = "QPS_LIST",
	[IAS_CTL_OP_BLOCKS_LIST] = "BLOCKS_LIST",
	[IAS_CTL_OP_BLOCK_INSPECT] = "BLOCK_INSPECT",
	[IAS_CTL_OP_INCIDENTS_LIST] = "INCIDENTS_LIST",
	[IAS_CTL_OP_INCIDENT_SHOW] = "INCIDENT_SHOW",
	[IAS_CTL_OP_ALLOW_LIST] = "ALLOW_LIST",
	[IAS_CTL_OP_ALLOW_ADD] = "ALLOW_ADD",
	[IAS_CTL_OP_ALLOW_REMOVE] = "ALLOW_REMOVE",
	[IAS_CTL_OP_POLICY_SHOW] = "POLICY_SHOW",
	[IAS_CTL_OP_POLICY_SET] = "POLICY_SET",
	[IAS_CTL_OP_FABRIC_STATUS] = "FABRIC_STATUS",
	[IAS_CTL_OP_REPORT_QP] = "REPORT_QP",
};

const char *ias_ctl_op_name(uint16_t op)
{
	if (op >= 1 && op <= IAS_CTL_OP_MAX_REQ)
		return op_names[op];
	if (op == IAS_CTL_EV_ALERT)
		return "ALERT";
	if (op == IAS_CTL_EV_QP_ORDER)
		return "QP_ORDER";
	return NULL;
}

bool ias_ctl_op_privileged(uint16_t op)
{
	switch (op) {
	case IAS_CTL_OP_REPORT_ATTACK:
	case IAS_CTL_OP_GET_ATTACK_PID:
	case IAS_CTL_OP_RELEASE:
	case IAS_CTL_OP_SUBSCRIBE:
	case IAS_CTL_OP_ALLOW_ADD:
	case IAS_CTL_OP_ALLOW_REMOVE:
	case IAS_CTL_OP_POLICY_SET:
	case IAS_CTL_OP_REPORT_QP:
		return true;
	default:
		return false;
	}
}

const char *ias_ctl_strerror(int status)
{
	switch (status) {
	case IAS_CTL_OK: return "success";
	case IAS_CTL_E_INVAL: return "malformed request";
	case IAS_CTL_E_PERM: return "permission denied (not root or in group ias, or not the caller's own)";
	case IAS_CTL_E_NOENT: return "no such process, block, incident or entry";
	case IAS_CTL_E_NEVERBLOCK: return "target is on the never-block list (needs override)";
	case IAS_CTL_E_AGAIN: return "nothing pending";
	case IAS_CTL_E_EXIST: return "already exists";
	case IAS_CTL_E_BUSY: return "agent busy, try again";
	case IAS_CTL_E_INTERNAL: return "internal error: nothing was acknowledged";
	case IAS_CTL_E_VERSION: return "unsupported protocol version";
	case IAS_CTL_E_TOOBIG: return "message too big";
	default: return "unknown status";
	}
}

/* ---- builder ------------------------------------------------------------ */

void ias_ctl_msg_init(struct ias_ctl_msg *m, void *buf, size_t cap, uint8_t kind,
		      uint16_t op, uint32_t seq, int32_t status)
{
	memset(m, 0, sizeof(*m));
	m->buf = buf;
	m->cap = cap > IAS_CTL_MAX_MSG ? IAS_CTL_MAX_MSG : cap;
	if (!buf || m->cap < IAS_CTL_HDR_LEN) {
		m->err = -ENOSPC;
		return;
	}
	ias_put_be32(m->buf + IAS_CTL_OFF_MAGIC, IAS_CTL_MAGIC);
	m->buf[IAS_CTL_OFF_VERSION] = IAS_CTL_VERSION;
	m->buf[IAS_CTL_OFF_KIND] = kind;
	ias_put_be16(m->buf + IAS_CTL_OFF_OP, op);
	ias_put_be32(m->buf + IAS_CTL_OFF_SEQ, seq);
	ias_put_be32(m->buf + IAS_CTL_OFF_STATUS, (uint32_t)status);
	ias_put_be32(m->buf + IAS_CTL_OFF_LENGTH, IAS_CTL_HDR_LEN);
	ias_put_be32(m->buf + IAS_CTL_OFF_RESERVED, 0);
	m->len = IAS_CTL_HDR_LEN;
}

void ias_ctl_msg_set_seq(struct ias_ctl_msg *m, uint32_t seq)
{
	if (m->buf && m->cap >= IAS_CTL_HDR_LEN)
		ias_put_be32(m->buf + IAS_CTL_OFF_SEQ, seq);
}

void ias_ctl_put_bytes(struct ias_ctl_msg *m, uint16_t type, const void *p, size_t n)
{
	if (m->err)
		return;
	if (n > 0xffff) {
		m->err = -EINVAL;
		return;
	}
	if (m->cap - m->len < IAS_CTL_ATTR_HDR_LEN + n) {
		m->err = -ENOSPC;
		return;
	}
	ias_put_be16(m->buf + m->len, type);
	ias_put_be16(m->buf + m->len + 2, (uint16_t)n);
	if (n)
		memcpy(m->buf + m->len + IAS_CTL_ATTR_HDR_LEN, p, n);
	m->len += IAS_CTL_ATTR_HDR_LEN + n;
}

void ias_ctl_put_u8(struct ias_ctl_msg *m, uint16_t type, uint8_t v)
{
	ias_ctl_put_bytes(m, type, &v, 1);
}

void ias_ctl_put_u32(struct ias_ctl_msg *m, uint16_t type, uint32_t v)
{
	uint8_t b[4];

	ias_put_be32(b, v);
	ias_ctl_put_bytes(m, type, b, sizeof(b));
}

void ias_ctl_put_u64(struct ias_ctl_msg *m, uint16_t type, uint64_t v)
{
	uint8_t b[8];

	ias_put_be64(b, v);
	ias_ctl_put_bytes(m, type, b, sizeof(b));
}

void ias_ctl_put_str(struct ias_ctl_msg *m, uint16_t type, const char *s)
{
	if (s)
		ias_ctl_put_bytes(m, type, s, strlen(s));
}

void ias_ctl_nest_begin(struct ias_ctl_msg *m, uint16_t type)
{
	if (m->err)
		return;
	if (m->depth >= IAS_CTL_MAX_DEPTH) {
		m->err = -EINVAL;
		return;
	}
	if (m->cap - m->len < IAS_CTL_ATTR_HDR_LEN) {
		m->err = -ENOSPC;
		return;
	}
	m->nest_at[m->depth++] = m->len;
	ias_put_be16(m->buf + m->len, type);
	ias_put_be16(m->buf + m->len + 2, 0);
	m->len += IAS_CTL_ATTR_HDR_LEN;
}

void ias_ctl_nest_end(struct ias_ctl_msg *m)
{
	size_t at, n;

	if (m->err)
		return;
	if (m->depth <= 0) {
		m->err = -EINVAL;
		return;
	}
	at = m->nest_at[--m->depth];
	n = m->len - at - IAS_CTL_ATTR_HDR_LEN;
	if (n > 0xffff) {
		m->err = -EINVAL;
		return;
	}
	ias_put_be16(m->buf + at + 2, (uint16_t)n);
}

int ias_ctl_msg_finish(struct ias_ctl_msg *m)
{
	if (!m->err && m->depth != 0)
		m->err = -EINVAL;
	if (m->err)
		return m->err;
	ias_put_be32(m->buf + IAS_CTL_OFF_LENGTH, (uint32_t)m->len);
	return 0;
}

int ias_ctl_build_error(void *buf, size_t cap, uint16_t op, uint32_t seq, int32_t status,
			const char *message)
{
	struct ias_ctl_msg m;
	char clean[IAS_CTL_MESSAGE_MAX + 1];
	size_t i;

	/* Keep MESSAGE valid whatever the caller passed: cap and strip controls. */
	snprintf(clean, sizeof(clean), "%s", message ? message : ias_ctl_strerror(status));
	for (i = 0; clean[i]; i++)
		if ((unsigned char)clean[i] < 0x20 || clean[i] == 0x7f)
			clean[i] = ' ';
	ias_ctl_msg_init(&m, buf, cap, IAS_CTL_REPLY, op, seq, status);
	ias_ctl_put_str(&m, IAS_CTL_A_MESSAGE, clean);
	if (ias_ctl_msg_finish(&m))
		return -ENOSPC;
	return (int)m.len;
}

/* ---- parser ------------------------------------------------------------- */

static bool op_known(uint8_t kind, uint16_t op)
{
	if (kind == IAS_CTL_EVENT)
		return op == IAS_CTL_EV_ALERT || op == IAS_CTL_EV_QP_ORDER;
	return op >= 1 && op <= IAS_CTL_OP_MAX_REQ;
}

static int hdr_check(const void *buf, size_t len, struct ias_ctl_hdr *h, struct ias_rd *attrs_rd,
		     char *why, size_t whylen)
{
	struct ias_rd r;
	uint32_t magic, status, reserved;

#define FAIL(code, ...) do { if (why && whylen) snprintf(why, whylen, __VA_ARGS__); return (code); } while (0)
	memset(h, 0, sizeof(*h));
	if (attrs_rd)
		ias_rd_init(attrs_rd, buf, 0);
	if (!buf || len < IAS_CTL_HDR_LEN)
		FAIL(IAS_CTL_E_INVAL, "message shorter than the %d-byte header", IAS_CTL_HDR_LEN);
	ias_rd_init(&r, buf, len);
	/* Fill h first so an error reply can echo seq and op. */
	(void)ias_rd_u32(&r, &magic);
	(void)ias_rd_u8(&r, &h->version);
	(void)ias_rd_u8(&r, &h->kind);
	(void)ias_rd_u16(&r, &h->op);
	(void)ias_rd_u32(&r, &h->seq);
	(void)ias_rd_u32(&r, &status);
	h->status = (int32_t)status;
	(void)ias_rd_u32(&r, &h->length);
	(void)ias_rd_u32(&r, &reserved);
	if (len > IAS_CTL_MAX_MSG)
		FAIL(IAS_CTL_E_TOOBIG, "message of %zu bytes exceeds %d", len, IAS_CTL_MAX_MSG);
	if (magic != IAS_CTL_MAGIC)
		FAIL(IAS_CTL_E_INVAL, "bad magic 0x%08x", magic);
	if (h->version != IAS_CTL_VERSION)
		FAIL(IAS_CTL_E_VERSION, "protocol version %u not supported (this side speaks %d)",
		     h->version, IAS_CTL_VERSION);
	if (h->kind < IAS_CTL_REQUEST || h->kind > IAS_CTL_EVENT)
		FAIL(IAS_CTL_E_INVAL, "bad message kind %u", h->kind);
	if (reserved != 0)
		FAIL(IAS_CTL_E_INVAL, "reserved header field is not zero");
	if (h->length != len)
		FAIL(IAS_CTL_E_INVAL, "length field %u does not match the datagram size %zu",
		     h->length, len);
	/* An error reply echoes whatever op was asked, even one this side does
	 * not know or 0 when the request's header was unreadable. */
	if (!op_known(h->kind, h->op) && !(h->kind == IAS_CTL_REPLY && h->status < 0))
		FAIL(IAS_CTL_E_INVAL, "unknown op %u for message kind %u", h->op, h->kind);
	if (h->kind == IAS_CTL_REPLY ? h->status > 0 : h->status != 0)
		FAIL(IAS_CTL_E_INVAL, "bad status %d for message kind %u", h->status, h->kind);
	if (attrs_rd)
		ias_rd_init(attrs_rd, (const uint8_t *)buf + IAS_CTL_HDR_LEN, len - IAS_CTL_HDR_LEN);
	return 0;
#undef FAIL
}

int ias_ctl_parse_hdr(const void *buf, size_t len, struct ias_ctl_hdr *h, struct ias_rd *attrs_rd)
{
	return hdr_check(buf, len, h, attrs_rd, NULL, 0);
}

int ias_ctl_next(struct ias_rd *r, struct ias_ctl_attr *a)
{
	struct ias_rd save = *r;

	memset(a, 0, sizeof(*a));
	if (ias_rd_left(r) == 0)
		return 0;
	if (ias_rd_u16(r, &a->type) || ias_rd_u16(r, &a->len) ||
	    ias_rd_ptr(r, &a->val, a->len)) {
		*r = save;
		memset(a, 0, sizeof(*a));
		return IAS_CTL_E_INVAL;
	}
	return 1;
}

int ias_ctl_get_u8(const struct ias_ctl_attr *a, uint8_t *out)
{
	*out = 0;
	if (a->len != 1)
		return IAS_CTL_E_INVAL;
	*out = a->val[0];
	return 0;
}

int ias_ctl_get_u32(const struct ias_ctl_attr *a, uint32_t *out)
{
	*out = 0;
	if (a->len != 4)
		return IAS_CTL_E_INVAL;
	*out = ias_get_be32(a->val);
	return 0;
}

int ias_ctl_get_u64(const struct ias_ctl_attr *a, uint64_t *out)
{
	*out = 0;
	if (a->len != 8)
		return IAS_CTL_E_INVAL;
	*out = ias_get_be64(a->val);
	return 0;
}

int ias_ctl_get_bytes(const struct ias_ctl_attr *a, void *out, size_t n)
{
	memset(out, 0, n);
	if (a->len != n)
		return IAS_CTL_E_INVAL;
	if (n)
		memcpy(out, a->val, n);
	return 0;
}

static bool str_ok(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] < 0x20 || p[i] == 0x7f)
			return false;
	return true;
}

int ias_ctl_get_str(const struct ias_ctl_attr *a, char *out, size_t outlen)
{
	if (outlen)
		out[0] = '\0';
	if (!outlen || (size_t)a->len + 1 > outlen || !str_ok(a->val, a->len))
		return IAS_CTL_E_INVAL;
	memcpy(out, a->val, a->len);
	out[a->len] = '\0';
	return 0;
}

void ias_ctl_attr_nested(const struct ias_ctl_attr *a, struct ias_rd *inner)
{
	ias_rd_init(inner, a->val, a->len);
}

/* ---- schema ------------------------------------------------------------- */

/* A rule for one TLV list: which types may appear, which must, which may
 * repeat. Lists end with 0. */
struct rule {
	uint16_t allowed[24];
	uint16_t required[8];
	uint16_t repeat[4];
};

#define L(...) { __VA_ARGS__, 0 }
#define NONE { 0 }

static const struct rule req_rules[IAS_CTL_OP_MAX_REQ + 1] = {
	[IAS_CTL_OP_STATUS] = { NONE, NONE, NONE },
	[IAS_CTL_OP_REPORT_ATTACK] = {
		L(IAS_CTL_A_PID, IAS_CTL_A_REASON, IAS_CTL_A_OVERRIDE, IAS_CTL_A_DURATION_S,
		  IAS_CTL_A_INCIDENT_ID),
		L(IAS_CTL_A_PID), NONE },
	[IAS_CTL_OP_GET_ATTACK_PID] = { NONE, NONE, NONE },
	[IAS_CTL_OP_RELEASE] = {
		L(IAS_CTL_A_PID, IAS_CTL_A_BLOCK_ID, IAS_CTL_A_INCIDENT_ID, IAS_CTL_A_DRY_RUN),
		NONE, NONE },
	[IAS_CTL_OP_SUBSCRIBE] = { NONE, NONE, NONE },
	[IAS_CTL_OP_QP_REGISTER] = {
		L(IAS_CTL_A_QPN, IAS_CTL_A_QP_TYPE, IAS_CTL_A_QP_STATE, IAS_CTL_A_DEVICE,
		  IAS_CTL_A_PORT, IAS_CTL_A_REMOTE_LID, IAS_CTL_A_REMOTE_GID,
		  IAS_CTL_A_REMOTE_QPN, IAS_CTL_A_SIMULATED, IAS_CTL_A_PEER),
		L(IAS_CTL_A_QPN, IAS_CTL_A_QP_TYPE, IAS_CTL_A_QP_STATE, IAS_CTL_A_DEVICE,
		  IAS_CTL_A_PORT), NONE },
	[IAS_CTL_OP_QP_UPDATE] = {
		L(IAS_CTL_A_QPN, IAS_CTL_A_QP_TYPE, IAS_CTL_A_QP_STATE, IAS_CTL_A_DEVICE,
		  IAS_CTL_A_PORT, IAS_CTL_A_REMOTE_LID, IAS_CTL_A_REMOTE_GID,
		  IAS_CTL_A_REMOTE_QPN, IAS_CTL_A_SIMULATED, IAS_CTL_A_DEST, IAS_CTL_A_PEER),
		L(IAS_CTL_A_QPN, IAS_CTL_A_DEVICE), L(IAS_CTL_A_DEST) },
	[IAS_CTL_OP_QP_UNREGISTER] = {
		L(IAS_CTL_A_QPN, IAS_CTL_A_DEVICE), L(IAS_CTL_A_QPN, IAS_CTL_A_DEVICE), NONE },
	[IAS_CTL_OP_QPS_LIST] = { L(IAS_CTL_A_PID), NONE, NONE },
	[IAS_CTL_OP_BLOCKS_LIST] = {
		L(IAS_CTL_A_PID, IAS_CTL_A_ALL, IAS_CTL_A_INCIDENT_ID), NONE, NONE },
	[IAS_CTL_OP_BLOCK_INSPECT] = { L(IAS_CTL_A_BLOCK_ID), L(IAS_CTL_A_BLOCK_ID), NONE },
	[IAS_CTL_OP_INCIDENTS_LIST] = { NONE, NONE, NONE },
	[IAS_CTL_OP_INCIDENT_SHOW] = { L(IAS_CTL_A_INCIDENT_ID), L(IAS_CTL_A_INCIDENT_ID), NONE },
	[IAS_CTL_OP_ALLOW_LIST] = { NONE, NONE, NONE },
	[IAS_CTL_OP_ALLOW_ADD] = {
		L(IAS_CTL_A_KIND, IAS_CTL_A_VALUE, IAS_CTL_A_NOTE),
		L(IAS_CTL_A_KIND, IAS_CTL_A_VALUE), NONE },
	[IAS_CTL_OP_ALLOW_REMOVE] = {
		L(IAS_CTL_A_KIND, IAS_CTL_A_VALUE), L(IAS_CTL_A_KIND, IAS_CTL_A_VALUE), NONE },
	[IAS_CTL_OP_POLICY_SHOW] = { NONE, NONE, NONE },
	[IAS_CTL_OP_POLICY_SET] = { L(IAS_CTL_A_POLICY), L(IAS_CTL_A_POLICY), NONE },
	[IAS_CTL_OP_FABRIC_STATUS] = { NONE, NONE, NONE },
	[IAS_CTL_OP_REPORT_QP] = {
		L(IAS_CTL_A_DEVICE, IAS_CTL_A_QPN, IAS_CTL_A_REASON),
		L(IAS_CTL_A_DEVICE, IAS_CTL_A_QPN), NONE },
};

/* Children of each nested type. Strict in requests, lenient elsewhere. */
static const struct rule *nest_rule(uint16_t type)
{
	static const struct rule dest = {
		L(IAS_CTL_A_REMOTE_LID, IAS_CTL_A_REMOTE_GID, IAS_CTL_A_REMOTE_QPN, IAS_CTL_A_TS_MS),
		NONE, NONE };
	static const struct rule policy = {
		L(IAS_CTL_A_LEVEL, IAS_CTL_A_BLOCK_MODE, IAS_CTL_A_DRY_RUN,
		  IAS_CTL_A_BASE_DURATION_S, IAS_CTL_A_MAX_DURATION_S, IAS_CTL_A_ESCALATION,
		  IAS_CTL_A_HOP_LIMIT, IAS_CTL_A_FANOUT_LIMIT, IAS_CTL_A_POLICY_VERSION),
		NONE, NONE };
	static const struct rule block = {
		L(IAS_CTL_A_BLOCK_ID, IAS_CTL_A_ORIGIN, IAS_CTL_A_NODE, IAS_CTL_A_PID,
		  IAS_CTL_A_UID, IAS_CTL_A_COMM, IAS_CTL_A_EXE, IAS_CTL_A_QPN, IAS_CTL_A_REASON,
		  IAS_CTL_A_INCIDENT_ID, IAS_CTL_A_MECHANISM, IAS_CTL_A_CREATED_MS,
		  IAS_CTL_A_UNTIL_MS, IAS_CTL_A_RELEASED_MS, IAS_CTL_A_OFFENCE,
		  IAS_CTL_A_SIMULATED, IAS_CTL_A_RELEASE_NOTE),
		NONE, L(IAS_CTL_A_QPN) };
	static const struct rule qp = {
		L(IAS_CTL_A_QPN, IAS_CTL_A_QP_TYPE, IAS_CTL_A_QP_STATE, IAS_CTL_A_PID,
		  IAS_CTL_A_COMM, IAS_CTL_A_DEVICE, IAS_CTL_A_PORT, IAS_CTL_A_REMOTE_LID,
		  IAS_CTL_A_REMOTE_GID, IAS_CTL_A_REMOTE_QPN, IAS_CTL_A_SOURCE,
		  IAS_CTL_A_BLOCKED, IAS_CTL_A_SIMULATED, IAS_CTL_A_DEST, IAS_CTL_A_PEER,
		  IAS_CTL_A_REMOTE_SOURCE),
		NONE, L(IAS_CTL_A_DEST) };
	static const struct rule audit = {
		L(IAS_CTL_A_TS_MS, IAS_CTL_A_ACTOR, IAS_CTL_A_ACTION, IAS_CTL_A_DETAIL),
		NONE, NONE };
	static const struct rule incident = {
		L(IAS_CTL_A_INCIDENT_ID, IAS_CTL_A_ORIGIN, IAS_CTL_A_NODE, IAS_CTL_A_OPENED_MS,
		  IAS_CTL_A_ROOT_PID, IAS_CTL_A_REASON, IAS_CTL_A_STATE, IAS_CTL_A_CLOSED_MS,
		  IAS_CTL_A_EVENT),
		NONE, L(IAS_CTL_A_EVENT) };
	static const struct rule event = {
		L(IAS_CTL_A_TS_MS, IAS_CTL_A_NODE, IAS_CTL_A_PID, IAS_CTL_A_QPN,
		  IAS_CTL_A_KIND, IAS_CTL_A_TEXT, IAS_CTL_A_PEER_NODE),
		NONE, NONE };
	static const struct rule allow = {
		L(IAS_CTL_A_ALLOW_ID, IAS_CTL_A_KIND, IAS_CTL_A_VALUE, IAS_CTL_A_CREATED_MS,
		  IAS_CTL_A_NOTE),
		NONE, NONE };
	static const struct rule status = {
		L(IAS_CTL_A_AGENT_VERSION, IAS_CTL_A_NODE, IAS_CTL_A_UPTIME_S,
		  IAS_CTL_A_BLOCKS_ACTIVE, IAS_CTL_A_BLOCKS_TOTAL, IAS_CTL_A_QPS_BLOCKED,
		  IAS_CTL_A_QPS_KNOWN, IAS_CTL_A_INCIDENTS, IAS_CTL_A_ALERTS_PENDING,
		  IAS_CTL_A_PORT_STATE, IAS_CTL_A_PEERS_REACHABLE, IAS_CTL_A_PEERS_KNOWN,
		  IAS_CTL_A_MADS_REJECTED, IAS_CTL_A_DRY_RUN, IAS_CTL_A_POLICY, IAS_CTL_A_STATE,
		  IAS_CTL_A_TRACES_REFUSED, IAS_CTL_A_KERNEL_OBS),
		NONE, NONE };

	static const struct rule fabric_node = {
		L(IAS_CTL_A_NODE, IAS_CTL_A_NODE_GUID, IAS_CTL_A_LID, IAS_CTL_A_NODE_TYPE,
		  IAS_CTL_A_AGENT, IAS_CTL_A_REACHABLE, IAS_CTL_A_POLICY_VERSION,
		  IAS_CTL_A_POLICY_STATE, IAS_CTL_A_BLOCKS_ACTIVE, IAS_CTL_A_LAST_REPORT_MS,
		  IAS_CTL_A_REPORTS),
		NONE, NONE };

	switch (type) {
	case IAS_CTL_A_FABRIC_NODE: return &fabric_node;
	case IAS_CTL_A_DEST: return &dest;
	case IAS_CTL_A_POLICY: return &policy;
	case IAS_CTL_A_BLOCK: return &block;
	case IAS_CTL_A_QP: return &qp;
	case IAS_CTL_A_AUDIT: return &audit;
	case IAS_CTL_A_INCIDENT: return &incident;
	case IAS_CTL_A_EVENT: return &event;
	case IAS_CTL_A_ALLOW: return &allow;
	case IAS_CTL_A_STATUS: return &status;
	default: return NULL;
	}
}

static bool in_list(const uint16_t *l, uint16_t t)
{
	for (; *l; l++)
		if (*l == t)
			return true;
	return false;
}

/* ---- validation --------------------------------------------------------- */

struct vctx {
	bool strict;
	char *why;
	size_t whylen;
};

__attribute__((format(printf, 2, 3)))
static int vfail(struct vctx *c, const char *fmt, ...)
{
	va_list ap;

	if (c->why && c->whylen) {
		va_start(ap, fmt);
		vsnprintf(c->why, c->whylen, fmt, ap);
		va_end(ap);
	}
	return IAS_CTL_E_INVAL;
}

static const char *tname(uint16_t t)
{
	const char *n = ias_ctl_attr_name(t);

	return n ? n : "?";
}

/* Check one attribute's value against its wire form; recurse into nests. */
static int check_list(struct vctx *c, struct ias_rd *r, const struct rule *rule, int depth,
		      const char *where);

static int check_value(struct vctx *c, const struct ias_ctl_attr *a, int depth)
{
	const struct attr_info *ai = &attrs[a->type];
	struct ias_rd inner;

	switch (ai->wire) {
	case IAS_CTL_W_U8:
		if (a->len != 1)
			return vfail(c, "attribute %s must be 1 byte, got %u", ai->name, a->len);
		return 0;
	case IAS_CTL_W_U32:
		if (a->len != 4)
			return vfail(c, "attribute %s must be 4 bytes, got %u", ai->name, a->len);
		return 0;
	case IAS_CTL_W_U64:
		if (a->len != 8)
			return vfail(c, "attribute %s must be 8 bytes, got %u", ai->name, a->len);
		return 0;
	case IAS_CTL_W_GID:
		if (a->len != 16)
			return vfail(c, "attribute %s must be 16 bytes, got %u", ai->name, a->len);
		return 0;
	case IAS_CTL_W_STR:
		if (a->len > ai->cap)
			return vfail(c, "attribute %s is %u bytes, longer than %u",
				     ai->name, a->len, ai->cap);
		if (!str_ok(a->val, a->len))
			return vfail(c, "attribute %s contains a NUL or control character", ai->name);
		return 0;
	case IAS_CTL_W_NESTED:
		if (depth + 1 > IAS_CTL_MAX_DEPTH)
			return vfail(c, "attributes nested deeper than %d", IAS_CTL_MAX_DEPTH);
		ias_ctl_attr_nested(a, &inner);
		return check_list(c, &inner, nest_rule(a->type), depth + 1, ai->name);
	default:
		return vfail(c, "unknown attribute type %u", a->type);
	}
}

static int check_list(struct vctx *c, struct ias_rd *r, const struct rule *rule, int depth,
		      const char *where)
{
	uint64_t seen[2] = { 0, 0 };
	struct ias_ctl_attr a;
	const uint16_t *q;
	int rc;

	while ((rc = ias_ctl_next(r, &a)) == 1) {
		bool known = a.type >= 1 && a.type <= IAS_CTL_A_MAX;

		if (c->strict && (!known || !in_list(rule->allowed, a.type)))
			return vfail(c, "attribute type %u (%s) not allowed in %s", a.type,
				     known ? tname(a.type) : "unknown", where);
		if (!known)
			continue; /* lenient: skip what a newer peer added */
		if ((rc = check_value(c, &a, depth)) != 0)
			return rc;
		if (c->strict && !in_list(rule->repeat, a.type)) {
			if (seen[a.type / 64] & (1ull << (a.type % 64)))
				return vfail(c, "attribute %s repeated in %s", tname(a.type), where);
		}
		seen[a.type / 64] |= 1ull << (a.type % 64);
	}
	if (rc < 0)
		return vfail(c, "attribute runs past the end of %s", where);
	if (c->strict)
		for (q = rule->required; *q; q++)
			if (!(seen[*q / 64] & (1ull << (*q % 64))))
				return vfail(c, "%s requires attribute %s", where, tname(*q));
	return 0;
}

int ias_ctl_validate_msg(const void *buf, size_t len, char *why, size_t whylen)
{
	static const struct rule lenient = { NONE, NONE, NONE };
	struct vctx c = { .why = why, .whylen = whylen };
	struct ias_ctl_hdr h;
	struct ias_rd r;
	int rc;

	if (why && whylen)
		why[0] = '\0';
	rc = hdr_check(buf, len, &h, &r, why, whylen);
	if (rc)
		return rc;
	c.strict = h.kind == IAS_CTL_REQUEST;
	rc = check_list(&c, &r, c.strict ? &req_rules[h.op] : &lenient, 0, ias_ctl_op_name(h.op));
	if (rc)
		return rc;
	if (c.strict && h.op == IAS_CTL_OP_RELEASE) {
		struct ias_ctl_attr a;
		int n = 0;

		ias_rd_init(&r, (const uint8_t *)buf + IAS_CTL_HDR_LEN, len - IAS_CTL_HDR_LEN);
		while (ias_ctl_next(&r, &a) == 1)
			if (a.type == IAS_CTL_A_PID || a.type == IAS_CTL_A_BLOCK_ID ||
			    a.type == IAS_CTL_A_INCIDENT_ID)
				n++;
		if (n != 1)
			return vfail(&c, "RELEASE needs exactly one of PID, BLOCK_ID, INCIDENT_ID");
	}
	return 0;
}

int ias_ctl_validate(const void *buf, size_t len)
{
	return ias_ctl_validate_msg(buf, len, NULL, 0);
}
