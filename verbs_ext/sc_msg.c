/* libias-sc: the versioned exchange message. Pure: no I/O.
 *
 * header: magic u32 | version u8 | type u8 | body length u16
 * PARAMS body (28, or 44 with a buffer):
 *   qpn u32 (<= 0xFFFFFF) | psn u32 (<= 0xFFFFFF) | lid u16 | mtu u8 (1..5) |
 *   flags u8 (bit 0: buffer follows; other bits zero) | gid[16] |
 *   [addr u64 | rkey u32 | len u32]
 * READY: empty. DONE: count u32 | bytes u64. RESULT: code u16 | zero u16 |
 * count u32 | bad u32. ERROR: code u16 | zero u16.
 * All big-endian, every field read through common/cursor.h. */
#include <errno.h>
#include <string.h>

#include "common/cursor.h"
#include "verbs_ext/ias_sc.h"

#define BODY_READY 0
#define BODY_DONE 12
#define BODY_RESULT 12
#define BODY_ERROR 4
#define FLAG_BUF 0x01

_Static_assert(IAS_SC_HDR_LEN == 4 + 1 + 1 + 2, "header layout");
_Static_assert(IAS_SC_PARAMS_LEN == 4 + 4 + 2 + 1 + 1 + 16, "params layout");
_Static_assert(IAS_SC_BUF_LEN == 8 + 4 + 4, "buffer layout");
_Static_assert(IAS_SC_HDR_LEN + IAS_SC_PARAMS_LEN + IAS_SC_BUF_LEN <= IAS_SC_MSG_MAX,
	       "largest message fits");

/* Is body length n one the type may have? */
static int body_ok(uint8_t type, uint16_t n)
{
	switch (type) {
	case IAS_SC_T_SERVER_PARAMS:
	case IAS_SC_T_CLIENT_PARAMS:
		return n == IAS_SC_PARAMS_LEN || n == IAS_SC_PARAMS_LEN + IAS_SC_BUF_LEN;
	case IAS_SC_T_READY:
		return n == BODY_READY;
	case IAS_SC_T_DONE:
		return n == BODY_DONE;
	case IAS_SC_T_RESULT:
		return n == BODY_RESULT;
	case IAS_SC_T_ERROR:
		return n == BODY_ERROR;
	}
	return 0;
}

static int known_type(uint8_t t)
{
	return t >= IAS_SC_T_SERVER_PARAMS && t <= IAS_SC_T_ERROR;
}

int ias_sc_msg_encode(const struct ias_sc_msg *m, uint8_t *buf, size_t cap, size_t *len)
{
	const struct ias_sc_params *p = &m->params;
	struct ias_wr w;
	uint16_t body;
	int rc = 0;

	*len = 0;
	if (!known_type(m->type))
		return -EINVAL;
	switch (m->type) {
	case IAS_SC_T_SERVER_PARAMS:
	case IAS_SC_T_CLIENT_PARAMS:
		if (p->qpn > 0xFFFFFF || p->psn > 0xFFFFFF || p->mtu < IBV_MTU_256 ||
		    p->mtu > IBV_MTU_4096)
			return -EINVAL;
		body = IAS_SC_PARAMS_LEN + (p->has_buf ? IAS_SC_BUF_LEN : 0);
		break;
	case IAS_SC_T_READY:
		body = BODY_READY;
		break;
	case IAS_SC_T_DONE:
		body = BODY_DONE;
		break;
	case IAS_SC_T_RESULT:
		body = BODY_RESULT;
		break;
	default:
		body = BODY_ERROR;
		break;
	}
	ias_wr_init(&w, buf, cap);
	rc |= ias_wr_u32(&w, IAS_SC_MAGIC);
	rc |= ias_wr_u8(&w, IAS_SC_VERSION);
	rc |= ias_wr_u8(&w, m->type);
	rc |= ias_wr_u16(&w, body);
	switch (m->type) {
	case IAS_SC_T_SERVER_PARAMS:
	case IAS_SC_T_CLIENT_PARAMS:
		rc |= ias_wr_u32(&w, p->qpn);
		rc |= ias_wr_u32(&w, p->psn);
		rc |= ias_wr_u16(&w, p->lid);
		rc |= ias_wr_u8(&w, p->mtu);
		rc |= ias_wr_u8(&w, p->has_buf ? FLAG_BUF : 0);
		rc |= ias_wr_bytes(&w, p->gid, 16);
		if (p->has_buf) {
			rc |= ias_wr_u64(&w, p->addr);
			rc |= ias_wr_u32(&w, p->rkey);
			rc |= ias_wr_u32(&w, p->len);
		}
		break;
	case IAS_SC_T_DONE:
		rc |= ias_wr_u32(&w, m->count);
		rc |= ias_wr_u64(&w, m->bytes);
		break;
	case IAS_SC_T_RESULT:
		rc |= ias_wr_u16(&w, m->code);
		rc |= ias_wr_zero(&w, 2);
		rc |= ias_wr_u32(&w, m->count);
		rc |= ias_wr_u32(&w, m->bad);
		break;
	case IAS_SC_T_ERROR:
		rc |= ias_wr_u16(&w, m->code);
		rc |= ias_wr_zero(&w, 2);
		break;
	}
	if (rc)
		return -ENOSPC;
	*len = w.off;
	return 0;
}

int ias_sc_hdr_check(const uint8_t *buf, size_t len, uint16_t *body_len)
{
	struct ias_rd r;
	uint32_t magic;
	uint8_t ver, type;
	uint16_t n;

	*body_len = 0;
	if (len < IAS_SC_HDR_LEN)
		return -EAGAIN;
	ias_rd_init(&r, buf, IAS_SC_HDR_LEN);
	if (ias_rd_u32(&r, &magic) || ias_rd_u8(&r, &ver) || ias_rd_u8(&r, &type) ||
	    ias_rd_u16(&r, &n))
		return -EBADMSG;
	if (magic != IAS_SC_MAGIC)
		return -EBADMSG;
	if (ver != IAS_SC_VERSION)
		return -EPROTONOSUPPORT;
	if (!known_type(type))
		return -EBADMSG;
	if (!body_ok(type, n))
		return -EMSGSIZE;
	*body_len = n;
	return 0;
}

static int decode_params(struct ias_rd *r, uint16_t n, struct ias_sc_params *p)
{
	uint8_t flags;

	if (ias_rd_u32(r, &p->qpn) || ias_rd_u32(r, &p->psn) || ias_rd_u16(r, &p->lid) ||
	    ias_rd_u8(r, &p->mtu) || ias_rd_u8(r, &flags) || ias_rd_bytes(r, p->gid, 16))
		return -EBADMSG;
	if (p->qpn > 0xFFFFFF || p->psn > 0xFFFFFF || p->mtu < IBV_MTU_256 ||
	    p->mtu > IBV_MTU_4096 || (flags & ~FLAG_BUF))
		return -EBADMSG;
	/* The flag and the length must agree. */
	if (!!(flags & FLAG_BUF) != (n == IAS_SC_PARAMS_LEN + IAS_SC_BUF_LEN))
		return -EBADMSG;
	if (flags & FLAG_BUF) {
		p->has_buf = 1;
		if (ias_rd_u64(r, &p->addr) || ias_rd_u32(r, &p->rkey) || ias_rd_u32(r, &p->len))
			return -EBADMSG;
	}
	return 0;
}

int ias_sc_msg_decode(const uint8_t *buf, size_t len, struct ias_sc_msg *m)
{
	struct ias_rd r;
	uint16_t n;
	int rc;

	memset(m, 0, sizeof(*m));
	rc = ias_sc_hdr_check(buf, len, &n);
	if (rc == -EAGAIN)
		return -EBADMSG; /* a whole message was promised */
	if (rc)
		return rc;
	if (len != (size_t)IAS_SC_HDR_LEN + n)
		return -EBADMSG;
	m->type = buf[5];
	ias_rd_init(&r, buf + IAS_SC_HDR_LEN, n);
	switch (m->type) {
	case IAS_SC_T_SERVER_PARAMS:
	case IAS_SC_T_CLIENT_PARAMS:
		rc = decode_params(&r, n, &m->params);
		break;
	case IAS_SC_T_READY:
		break;
	case IAS_SC_T_DONE:
		if (ias_rd_u32(&r, &m->count) || ias_rd_u64(&r, &m->bytes))
			rc = -EBADMSG;
		break;
	case IAS_SC_T_RESULT:
		if (ias_rd_u16(&r, &m->code) || ias_rd_zero(&r, 2) || ias_rd_u32(&r, &m->count) ||
		    ias_rd_u32(&r, &m->bad))
			rc = -EBADMSG;
		break;
	case IAS_SC_T_ERROR:
		if (ias_rd_u16(&r, &m->code) || ias_rd_zero(&r, 2))
			rc = -EBADMSG;
		break;
	}
	if (rc == 0 && ias_rd_left(&r) != 0)
		rc = -EBADMSG;
	if (rc)
		memset(m, 0, sizeof(*m));
	return rc;
}

const char *ias_sc_code_str(int code)
{
	switch (code) {
	case IAS_SC_OK:
		return "ok";
	case IAS_SC_E_PROTO:
		return "malformed or unexpected message";
	case IAS_SC_E_TIMEOUT:
		return "exchange timed out";
	case IAS_SC_E_RESOURCE:
		return "peer could not set up its QP";
	case IAS_SC_E_VERIFY:
		return "RDMA data did not verify";
	case IAS_SC_E_SHUTDOWN:
		return "peer is shutting down";
	}
	return "unknown code";
}
