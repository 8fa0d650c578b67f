/* Unit tests for the SecMgt attributes of the mirror look-up and the
 * manager's agent list (mad_defs/secmgt_attr.c): round trips through the
 * authenticated MAD, and the decoder's rejections of malformed data.
 *
 * With "--write-corpus DIR" it writes their fuzz seeds for
 * tests/fuzz/fuzz_secmgt.c instead (same modes and key as
 * test_secmgt --write-corpus) and exits. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cursor.h"
#include "mad_defs/secmgt.h"
#include "tests/unit/tap.h"

#define NOW 1700000000000ull

static struct ias_keyring kr;

static void ring(void)
{
	uint8_t k[32];
	size_t i;

	/* The fuzz harness's key 1 (bytes 0x11, 0x12, ...). */
	for (i = 0; i < sizeof(k); i++)
		k[i] = (uint8_t)(0x11 + i);
	if (ias_keyring_init(&kr) || ias_keyring_add(&kr, 1, k, sizeof(k)) ||
	    ias_keyring_set_active(&kr, 1)) {
		printf("Bail out! keyring setup failed\n");
		exit(1);
	}
}

static void mirq(struct ias_secmgt_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->method = IAS_METHOD_GET;
	m->attr_id = IAS_ATTR_MIRROR;
	m->tid = 0x11;
	m->u.mirq.asker_guid = 0x0002c90300000001ull;
	m->u.mirq.asker_qpn = 0x101;
	m->u.mirq.remote_qpn = 0xfffffe;
}

static void mira(struct ias_secmgt_msg *m, uint8_t match)
{
	memset(m, 0, sizeof(*m));
	m->method = IAS_METHOD_GET_RESP;
	m->attr_id = IAS_ATTR_MIRROR;
	m->tid = 0x11;
	m->echo_nonce = 0x77;
	m->u.mira.responder_guid = 0x0002c90300000002ull;
	m->u.mira.asker_guid = 0x0002c90300000001ull;
	m->u.mira.asker_qpn = 0x101;
	m->u.mira.qpn = match ? 0x202 : 0;
	m->u.mira.match = match;
}

static void alist(struct ias_secmgt_msg *m, uint16_t total, uint16_t first, uint8_t count)
{
	unsigned i;

	memset(m, 0, sizeof(*m));
	m->method = IAS_METHOD_SET;
	m->attr_id = IAS_ATTR_AGENT_LIST;
	m->tid = 0x12;
	m->u.alist.generation = 7;
	m->u.alist.total = total;
	m->u.alist.first = first;
	m->u.alist.count = count;
	for (i = 0; i < count; i++) {
		m->u.alist.e[i].node_guid = 0x0002c90300000100ull + first + i;
		if (i % 2) {
			m->u.alist.e[i].gid[0] = 0xfe;
			m->u.alist.e[i].gid[1] = 0x80;
			m->u.alist.e[i].gid[15] = (uint8_t)(first + i);
		} else {
			m->u.alist.e[i].lid = (uint16_t)(first + i + 1);
		}
	}
}

static int round_trip(struct ias_secmgt_msg *m, const char *what)
{
	uint8_t mad[IAS_MAD_SIZE];
	struct ias_secmgt_msg back;

	if (!ok(ias_secmgt_encode(m, &kr, NOW, mad) == 0, "%s: encodes", what))
		return -1;
	ok(ias_secmgt_decode(mad, sizeof(mad), &kr, NULL, NOW, &back) == IAS_MAD_OK,
	   "%s: decodes", what);
	ok(memcmp(&back.u, &m->u, sizeof(back.u)) == 0 && back.data_len == m->data_len,
	   "%s: same fields back (%u bytes)", what, m->data_len);
	return 0;
}

static void test_round_trips(void)
{
	struct ias_secmgt_msg m;

	mirq(&m);
	round_trip(&m, "Get(Mirror)");
	is_int(m.data_len, IAS_MIRQ_SIZE, "Get(Mirror) carries the QP pair");
	mira(&m, IAS_MIRROR_EXACT);
	round_trip(&m, "GetResp(Mirror) exact");
	mira(&m, IAS_MIRROR_QPN);
	round_trip(&m, "GetResp(Mirror) QPN only");
	mira(&m, IAS_MIRROR_NOT_FOUND);
	round_trip(&m, "GetResp(Mirror) not found");
	alist(&m, 12, 10, 2);
	round_trip(&m, "Set(AgentList) last segment");
	alist(&m, 5, 0, 5);
	round_trip(&m, "Set(AgentList) full segment");
	alist(&m, 0, 0, 0);
	round_trip(&m, "Set(AgentList) empty list");
	alist(&m, 3, 0, 3);
	m.method = IAS_METHOD_GET_RESP;
	round_trip(&m, "GetResp(AgentList) echo");
}

/* Encoded attribute data of m, then decode it again after poke() changed it. */
static enum ias_mad_reason poked(struct ias_secmgt_msg *m, size_t off, const uint8_t *v, size_t n)
{
	uint8_t data[IAS_SECMGT_DATA_MAX];
	union ias_secmgt_attr u;
	size_t len;

	if (ias_secmgt_encode_attr(m->method, m->status, m->attr_id, &m->u, data, sizeof(data), &len))
		return IAS_MAD_REASON_COUNT;
	memcpy(data + off, v, n);
	return ias_secmgt_decode_attr(m->method, m->status, m->attr_id, data, len, &u);
}

static void test_malformed(void)
{
	static const uint8_t zero4[4], one = 1, three = 3, six = 6, big[2] = { 0x20, 0x01 };
	static const uint8_t lid_mc[2] = { 0xc0, 0x01 }, qpn_hi[4] = { 0x01, 0, 1, 1 };
	union ias_secmgt_attr u;
	uint8_t data[IAS_SECMGT_DATA_MAX] = { 0 };
	struct ias_secmgt_msg m;
	size_t len;

	mirq(&m);
	is_int(poked(&m, IAS_MIRQ_ASKER_QPN, zero4, 4), IAS_MAD_BAD_VALUE, "Mirror: asker QPN 0 refused");
	is_int(poked(&m, IAS_MIRQ_REMOTE_QPN, zero4, 4), IAS_MAD_BAD_VALUE, "Mirror: remote QPN 0 refused");
	is_int(poked(&m, IAS_MIRQ_REMOTE_QPN, qpn_hi, 4), IAS_MAD_RESERVED_NONZERO,
	       "Mirror: a QPN over 24 bits refused");
	is_int(ias_secmgt_decode_attr(IAS_METHOD_GET, 0, IAS_ATTR_MIRROR, data, 0, &u),
	       IAS_MAD_BAD_LENGTH, "Mirror: a Get without the QP pair refused");
	is_int(ias_secmgt_decode_attr(IAS_METHOD_GET, 0, IAS_ATTR_MIRROR, data, IAS_MIRA_SIZE, &u),
	       IAS_MAD_BAD_LENGTH, "Mirror: a Get with an answer's length refused");
	is_int(ias_secmgt_decode_attr(IAS_METHOD_SET, 0, IAS_ATTR_MIRROR, data, IAS_MIRQ_SIZE, &u),
	       IAS_MAD_BAD_ATTR_FOR_METHOD, "Mirror: never with Set");

	mira(&m, IAS_MIRROR_EXACT);
	is_int(poked(&m, IAS_MIRA_MATCH, &three, 1), IAS_MAD_BAD_VALUE, "Mirror answer: match 3 refused");
	is_int(poked(&m, IAS_MIRA_QPN, zero4, 4), IAS_MAD_BAD_VALUE,
	       "Mirror answer: found without a QPN refused");
	is_int(poked(&m, IAS_MIRA_RESERVED + 1, &one, 1), IAS_MAD_RESERVED_NONZERO,
	       "Mirror answer: reserved bytes must be zero");
	mira(&m, IAS_MIRROR_NOT_FOUND);
	is_int(poked(&m, IAS_MIRA_QPN + 3, &one, 1), IAS_MAD_BAD_VALUE,
	       "Mirror answer: not found with a QPN refused");
	m.u.mira.qpn = 5;
	is_int(ias_secmgt_encode_attr(m.method, 0, m.attr_id, &m.u, data, sizeof(data), &len), -EINVAL,
	       "Mirror answer: the encoder refuses what the decoder would");
	is_int(ias_secmgt_decode_attr(IAS_METHOD_GET_RESP, IAS_STATUS_NOT_FOUND, IAS_ATTR_MIRROR,
				      data, 0, &u), IAS_MAD_OK, "Mirror answer: an error status carries no data");

	alist(&m, 12, 10, 2);
	is_int(poked(&m, IAS_AL_GENERATION, zero4, 4), IAS_MAD_BAD_VALUE, "AgentList: generation 0 refused");
	is_int(poked(&m, IAS_AL_COUNT, &six, 1), IAS_MAD_BAD_VALUE, "AgentList: 6 entries in one MAD refused");
	is_int(poked(&m, IAS_AL_TOTAL, big, 2), IAS_MAD_BAD_VALUE, "AgentList: total over the maximum refused");
	is_int(poked(&m, IAS_AL_FIRST + 1, (const uint8_t[]){ 11 }, 1), IAS_MAD_BAD_VALUE,
	       "AgentList: a segment past the total refused");
	is_int(poked(&m, IAS_AL_FLAGS, &one, 1), IAS_MAD_RESERVED_NONZERO, "AgentList: flags must be zero");
	is_int(poked(&m, IAS_AL_ENTRIES + 2 * IAS_AGENT_ENTRY_SIZE + 9, &one, 1), IAS_MAD_RESERVED_NONZERO,
	       "AgentList: an unused entry must be zero");
	is_int(poked(&m, IAS_AL_ENTRIES + 10, &one, 1), IAS_MAD_RESERVED_NONZERO,
	       "AgentList: an entry's reserved bytes must be zero");
	is_int(poked(&m, IAS_AL_ENTRIES, (const uint8_t[8]){ 0 }, 8), IAS_MAD_BAD_VALUE,
	       "AgentList: an entry without a node GUID refused");
	is_int(poked(&m, IAS_AL_ENTRIES + 8, lid_mc, 2), IAS_MAD_BAD_VALUE,
	       "AgentList: a multicast LID refused");
	is_int(poked(&m, IAS_AL_ENTRIES + IAS_AGENT_ENTRY_SIZE + 12, (const uint8_t[16]){ 0 }, 16),
	       IAS_MAD_BAD_VALUE, "AgentList: an entry with neither LID nor GID refused");
	alist(&m, 3, 0, 3);
	is_int(poked(&m, IAS_AL_COUNT, (const uint8_t[]){ 0 }, 1), IAS_MAD_BAD_VALUE,
	       "AgentList: an empty segment of a non-empty list refused");
	is_int(ias_secmgt_decode_attr(IAS_METHOD_SET, 0, IAS_ATTR_AGENT_LIST, data, IAS_AL_SIZE - 1, &u),
	       IAS_MAD_BAD_LENGTH, "AgentList: short data refused");
	is_int(ias_secmgt_decode_attr(IAS_METHOD_GET, 0, IAS_ATTR_AGENT_LIST, data, 0, &u),
	       IAS_MAD_BAD_ATTR_FOR_METHOD, "AgentList: never with Get");
}

/* ---- Corpus writer ------------------------------------------------------ */

static int write_file(const char *dir, const char *name, uint8_t mode, const uint8_t *p, size_t n)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f)
		return -1;
	fputc(mode, f);
	fwrite(p, 1, n, f);
	return fclose(f);
}

static int write_one(const char *dir, const char *name, struct ias_secmgt_msg *m)
{
	uint8_t mad[IAS_MAD_SIZE], t[IAS_MAD_SIZE];
	char fn[128];
	int r;

	if (ias_secmgt_encode(m, &kr, NOW, mad))
		return -1;
	snprintf(fn, sizeof(fn), "mad-%s", name);
	r = write_file(dir, fn, 0, mad, sizeof(mad));
	t[0] = mad[IAS_OFF_METHOD];
	memcpy(t + 1, mad + IAS_OFF_STATUS, 2);
	memcpy(t + 3, mad + IAS_OFF_ATTR_ID, 2);
	memcpy(t + 5, mad + IAS_OFF_DATA, m->data_len);
	snprintf(fn, sizeof(fn), "attr-%s", name);
	return r | write_file(dir, fn, 2, t, 5 + (size_t)m->data_len);
}

static int write_corpus(const char *dir)
{
	struct ias_secmgt_msg m;
	uint8_t mad[IAS_MAD_SIZE];
	int r = 0;

	mirq(&m);
	r |= write_one(dir, "get-mirror", &m);
	mira(&m, IAS_MIRROR_EXACT);
	r |= write_one(dir, "getresp-mirror", &m);
	mira(&m, IAS_MIRROR_NOT_FOUND);
	r |= write_one(dir, "getresp-mirror-none", &m);
	alist(&m, 12, 10, 2);
	r |= write_one(dir, "set-agentlist", &m);
	alist(&m, 5, 0, 5);
	m.method = IAS_METHOD_GET_RESP;
	r |= write_one(dir, "getresp-agentlist", &m);
	/* resigned (mode 1) with a bad count */
	alist(&m, 5, 0, 5);
	if (ias_secmgt_encode(&m, &kr, NOW, mad) == 0) {
		mad[IAS_OFF_DATA + IAS_AL_COUNT] = 9;
		r |= write_file(dir, "resign-agentlist-count", 1, mad, sizeof(mad));
	}
	return r ? 1 : 0;
}

int main(int argc, char **argv)
{
	ring();
	if (argc == 3 && strcmp(argv[1], "--write-corpus") == 0)
		return write_corpus(argv[2]);
	test_round_trips();
	test_malformed();
	ias_keyring_wipe(&kr);
	return tap_done();
}
