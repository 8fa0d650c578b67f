/* Unit tests of the secured-channel exchange message (verbs_ext/sc_msg.c):
 * pinned wire layout, round trips of every type, and refusal of every kind
 * of malformed input the receiver can meet. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "tests/unit/tap.h"
#include "verbs_ext/ias_sc.h"

static struct ias_sc_msg params_msg(uint8_t type, int buf)
{
	struct ias_sc_msg m;
	int i;

	memset(&m, 0, sizeof(m));
	m.type = type;
	m.params.qpn = 0x123456;
	m.params.psn = 0xABCDEF;
	m.params.lid = 0x0102;
	m.params.mtu = IBV_MTU_1024;
	for (i = 0; i < 16; i++)
		m.params.gid[i] = (uint8_t)(0xF0 + i);
	if (buf) {
		m.params.has_buf = 1;
		m.params.addr = 0x1122334455667788ull;
		m.params.rkey = 0x99AABBCC;
		m.params.len = 4096;
	}
	return m;
}

static int same(const struct ias_sc_msg *a, const struct ias_sc_msg *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

int main(void)
{
	static const uint8_t want_hdr[] = { 'I', 'A', 'S', 'C', 1, 1, 0, 28 };
	uint8_t b[IAS_SC_MSG_MAX + 8], c[IAS_SC_MSG_MAX + 8];
	struct ias_sc_msg m, d;
	uint16_t body;
	size_t n;
	int t;

	/* Layout of a SERVER_PARAMS message without a buffer. */
	m = params_msg(IAS_SC_T_SERVER_PARAMS, 0);
	is_int(ias_sc_msg_encode(&m, b, sizeof(b), &n), 0, "encode server params");
	is_int(n, IAS_SC_HDR_LEN + IAS_SC_PARAMS_LEN, "length 36");
	ok(memcmp(b, want_hdr, 8) == 0, "header bytes: magic, version 1, type 1, length 28");
	ok(b[8] == 0 && b[9] == 0x12 && b[10] == 0x34 && b[11] == 0x56, "qpn big-endian at 8");
	ok(b[12] == 0 && b[13] == 0xAB && b[14] == 0xCD && b[15] == 0xEF, "psn big-endian at 12");
	ok(b[16] == 1 && b[17] == 2 && b[18] == IBV_MTU_1024 && b[19] == 0, "lid, mtu, flags");
	ok(b[20] == 0xF0 && b[35] == 0xFF, "gid at 20..35");
	is_int(ias_sc_msg_decode(b, n, &d), 0, "decode it");
	ok(same(&m, &d), "round trip");

	/* With a buffer. */
	m = params_msg(IAS_SC_T_CLIENT_PARAMS, 1);
	is_int(ias_sc_msg_encode(&m, b, sizeof(b), &n), 0, "encode client params with buffer");
	is_int(n, IAS_SC_HDR_LEN + IAS_SC_PARAMS_LEN + IAS_SC_BUF_LEN, "length 52");
	is_int(b[19], 1, "buffer flag set");
	ok(b[36] == 0x11 && b[43] == 0x88 && b[44] == 0x99 && b[51] == 0x00, "addr, rkey, len");
	is_int(ias_sc_msg_decode(b, n, &d), 0, "decode it");
	ok(same(&m, &d), "round trip with buffer");

	/* Every other type round-trips. */
	for (t = IAS_SC_T_READY; t <= IAS_SC_T_ERROR; t++) {
		memset(&m, 0, sizeof(m));
		m.type = (uint8_t)t;
		if (t == IAS_SC_T_DONE) {
			m.count = 77;
			m.bytes = 0x100000000ull;
		} else if (t == IAS_SC_T_RESULT) {
			m.code = IAS_SC_E_VERIFY;
			m.count = 5;
			m.bad = 2;
		} else if (t == IAS_SC_T_ERROR) {
			m.code = IAS_SC_E_TIMEOUT;
		}
		ok(ias_sc_msg_encode(&m, b, sizeof(b), &n) == 0 &&
			   ias_sc_msg_decode(b, n, &d) == 0 && same(&m, &d),
		   "type %d round trip (%zu bytes)", t, n);
	}

	/* Encoder refuses values without an encoding and short buffers. */
	m = params_msg(IAS_SC_T_SERVER_PARAMS, 0);
	m.params.psn = 0x1000000;
	is_int(ias_sc_msg_encode(&m, b, sizeof(b), &n), -EINVAL, "psn over 24 bits");
	m = params_msg(IAS_SC_T_SERVER_PARAMS, 0);
	m.params.qpn = 0x1000000;
	is_int(ias_sc_msg_encode(&m, b, sizeof(b), &n), -EINVAL, "qpn over 24 bits");
	m.params.qpn = 1;
	m.params.mtu = 6;
	is_int(ias_sc_msg_encode(&m, b, sizeof(b), &n), -EINVAL, "mtu 6");
	m.params.mtu = 0;
	is_int(ias_sc_msg_encode(&m, b, sizeof(b), &n), -EINVAL, "mtu 0");
	m.type = 9;
	is_int(ias_sc_msg_encode(&m, b, sizeof(b), &n), -EINVAL, "unknown type");
	m = params_msg(IAS_SC_T_SERVER_PARAMS, 0);
	is_int(ias_sc_msg_encode(&m, b, 20, &n), -ENOSPC, "no room");
	is_int(n, 0, "no length on failure");

	/* Header checks. */
	m = params_msg(IAS_SC_T_SERVER_PARAMS, 0);
	ias_sc_msg_encode(&m, b, sizeof(b), &n);
	is_int(ias_sc_hdr_check(b, 7, &body), -EAGAIN, "short header: need more");
	is_int(ias_sc_hdr_check(b, 8, &body), 0, "good header");
	is_int(body, 28, "body length 28");
	memcpy(c, b, n);
	c[0] = 'X';
	is_int(ias_sc_hdr_check(c, 8, &body), -EBADMSG, "bad magic");
	memcpy(c, b, n);
	c[4] = 2;
	is_int(ias_sc_hdr_check(c, 8, &body), -EPROTONOSUPPORT, "other version");
	memcpy(c, b, n);
	c[5] = 0;
	is_int(ias_sc_hdr_check(c, 8, &body), -EBADMSG, "type 0");
	c[5] = 7;
	is_int(ias_sc_hdr_check(c, 8, &body), -EBADMSG, "type 7");
	memcpy(c, b, n);
	c[6] = 0xFF;
	c[7] = 0xFF;
	is_int(ias_sc_hdr_check(c, 8, &body), -EMSGSIZE, "oversized body length");
	is_int(body, 0, "no body length on failure");
	c[6] = 0;
	c[7] = 29;
	is_int(ias_sc_hdr_check(c, 8, &body), -EMSGSIZE, "params body length 29");

	/* Whole-message checks. */
	is_int(ias_sc_msg_decode(b, n - 1, &d), -EBADMSG, "truncated body");
	is_int(ias_sc_msg_decode(b, 5, &d), -EBADMSG, "truncated header");
	memcpy(c, b, n);
	c[n] = 0;
	is_int(ias_sc_msg_decode(c, n + 1, &d), -EBADMSG, "trailing byte");
	memcpy(c, b, n);
	c[8] = 1; /* qpn 0x01123456 */
	is_int(ias_sc_msg_decode(c, n, &d), -EBADMSG, "qpn over 24 bits");
	ok(d.type == 0 && d.params.qpn == 0, "output zeroed on failure");
	memcpy(c, b, n);
	c[12] = 1;
	is_int(ias_sc_msg_decode(c, n, &d), -EBADMSG, "psn over 24 bits");
	memcpy(c, b, n);
	c[18] = 0;
	is_int(ias_sc_msg_decode(c, n, &d), -EBADMSG, "mtu 0");
	memcpy(c, b, n);
	c[19] = 2;
	is_int(ias_sc_msg_decode(c, n, &d), -EBADMSG, "reserved flag bit");
	memcpy(c, b, n);
	c[19] = 1; /* buffer flag without the buffer */
	is_int(ias_sc_msg_decode(c, n, &d), -EBADMSG, "flag and length disagree");
	m = params_msg(IAS_SC_T_SERVER_PARAMS, 1);
	ias_sc_msg_encode(&m, c, sizeof(c), &n);
	c[19] = 0;
	is_int(ias_sc_msg_decode(c, n, &d), -EBADMSG, "buffer without the flag");
	memset(&m, 0, sizeof(m));
	m.type = IAS_SC_T_ERROR;
	ias_sc_msg_encode(&m, c, sizeof(c), &n);
	c[10] = 1;
	is_int(ias_sc_msg_decode(c, n, &d), -EBADMSG, "reserved bytes of ERROR");
	is_str(ias_sc_code_str(IAS_SC_E_TIMEOUT), "exchange timed out", "code text");
	tap_done();
	return 0;
}
