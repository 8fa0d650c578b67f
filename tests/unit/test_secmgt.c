/* Unit tests for mad_defs/: SecMgt encode/decode, the authenticator, the
 * keyring and the decoder's rejections.
 *
 * With "--write-corpus DIR" it instead writes the fuzz seed corpus (valid
 * MADs of every attribute, signed with the fuzz harness's fixed key, plus
 * malformed ones) and exits. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "common/cursor.h"
#include "mad_defs/secmgt.h"
#include "tests/unit/corpus_file.h"
#include "tests/unit/tap.h"

#define NOW 1700000000000ull
#define WINDOW 30000ull

static uint8_t key1[32], key2[48];

static void make_keys(void)
{
	size_t i;

	/* The fuzz harness uses the same key 1 (bytes 0x11, 0x12, ...). */
	for (i = 0; i < sizeof(key1); i++)
		key1[i] = (uint8_t)(0x11 + i);
	for (i = 0; i < sizeof(key2); i++)
		key2[i] = (uint8_t)(0xA0 ^ (i * 7));
}

static void ring(struct ias_keyring *kr, uint32_t active)
{
	if (ias_keyring_init(kr) || ias_keyring_add(kr, 1, key1, sizeof(key1)) ||
	    ias_keyring_add(kr, 2, key2, sizeof(key2)) ||
	    ias_keyring_set_active(kr, active)) {
		printf("Bail out! keyring setup failed\n");
		exit(1);
	}
}

/* One valid sample of every (method, attribute) pair. */
struct sample {
	const char *name;
	uint8_t method;
	uint16_t attr_id;
	uint16_t status;
};

static const struct sample samples[] = {
	{ "get-cpi", IAS_METHOD_GET, IAS_ATTR_CLASS_PORT_INFO, 0 },
	{ "getresp-cpi", IAS_METHOD_GET_RESP, IAS_ATTR_CLASS_PORT_INFO, 0 },
	{ "set-trace", IAS_METHOD_SET, IAS_ATTR_TRACE, 0 },
	{ "getresp-traceresult", IAS_METHOD_GET_RESP, IAS_ATTR_TRACE_RESULT, 0 },
	{ "set-block", IAS_METHOD_SET, IAS_ATTR_BLOCK, 0 },
	{ "getresp-block", IAS_METHOD_GET_RESP, IAS_ATTR_BLOCK, 0 },
	{ "set-release", IAS_METHOD_SET, IAS_ATTR_RELEASE, 0 },
	{ "getresp-release", IAS_METHOD_GET_RESP, IAS_ATTR_RELEASE, 0 },
	{ "get-policy", IAS_METHOD_GET, IAS_ATTR_POLICY, 0 },
	{ "set-policy", IAS_METHOD_SET, IAS_ATTR_POLICY, 0 },
	{ "getresp-policy", IAS_METHOD_GET_RESP, IAS_ATTR_POLICY, 0 },
	{ "get-status", IAS_METHOD_GET, IAS_ATTR_STATUS, 0 },
	{ "getresp-status", IAS_METHOD_GET_RESP, IAS_ATTR_STATUS, 0 },
	{ "report", IAS_METHOD_REPORT, IAS_ATTR_REPORT, 0 },
	{ "reportresp", IAS_METHOD_REPORT_RESP, IAS_ATTR_REPORT, 0 },
	{ "get-report", IAS_METHOD_GET, IAS_ATTR_REPORT, 0 },
	{ "getresp-report", IAS_METHOD_GET_RESP, IAS_ATTR_REPORT, 0 },
	{ "getresp-report-notfound", IAS_METHOD_GET_RESP, IAS_ATTR_REPORT, IAS_STATUS_NOT_FOUND },
	{ "getresp-notfound", IAS_METHOD_GET_RESP, IAS_ATTR_RELEASE, IAS_STATUS_NOT_FOUND },
};
#define NSAMPLES (sizeof(samples) / sizeof(samples[0]))

static void fill(const struct sample *s, struct ias_secmgt_msg *m)
{
	union ias_secmgt_attr *u = &m->u;
	unsigned i;

	memset(m, 0, sizeof(*m));
	m->method = s->method;
	m->attr_id = s->attr_id;
	m->status = s->status;
	m->tid = 0x1234567800abcdefull;
	m->attr_mod = 0x01020304;
	if (s->method == IAS_METHOD_GET_RESP || s->method == IAS_METHOD_REPORT_RESP)
		m->echo_nonce = 0x0badc0ffee0ddf00ull;
	if (s->method == IAS_METHOD_GET || s->status)
		return;
	switch (s->attr_id) {
	case IAS_ATTR_CLASS_PORT_INFO:
		u->cpi.proto_version = 1;
		u->cpi.role = IAS_ROLE_MANAGER;
		u->cpi.resp_time_value = 18;
		u->cpi.cap_mask = IAS_CAP_POLICY | IAS_CAP_REPORT | 0x80000000u;
		u->cpi.node_guid = 0x0002c90300a1b2c3ull;
		/* 64 characters: the longest node description. */
		memset(u->cpi.node_desc, 'n', 64);
		memcpy(u->cpi.node_desc, "mgmt01 HCA-1 ", 13);
		break;
	case IAS_ATTR_TRACE:
		u->trace.incident_id = 0xfeedface00000017ull;
		u->trace.origin_guid = 0x0002c90300000003ull;
		u->trace.sender_guid = 0x0002c90300000002ull;
		u->trace.dest_qpn = 0xabcdef;
		u->trace.sender_qpn = 0x000102;
		u->trace.hop_count = 2;
		u->trace.hop_limit = 8;
		u->trace.fanout_limit = 32;
		u->trace.search_level = IAS_SEARCH_LCA;
		u->trace.flags = IAS_TRACE_F_DRY_RUN;
		u->trace.reason = IAS_TREASON_TRACE_HOP;
		break;
	case IAS_ATTR_TRACE_RESULT:
		u->tres.incident_id = 0xfeedface00000017ull;
		u->tres.responder_guid = 0x0002c90300000001ull;
		u->tres.result = IAS_TRESULT_BLOCKED;
		u->tres.flags = IAS_TRESULT_F_TRUNCATED;
		u->tres.n_qpns = IAS_TRACE_MAX_QPNS;
		u->tres.n_hops = IAS_TRACE_MAX_HOPS;
		u->tres.owner_pid = 4242;
		u->tres.qps_blocked = 40;
		for (i = 0; i < IAS_TRACE_MAX_QPNS; i++)
			u->tres.qpns[i] = 0xff0000 + i * 3;
		for (i = 0; i < IAS_TRACE_MAX_HOPS; i++) {
			u->tres.hops[i].lid = (uint16_t)(0xc000 + i);
			u->tres.hops[i].qpn = 0x100 + i;
		}
		break;
	case IAS_ATTR_BLOCK:
		u->block.scope = IAS_SCOPE_PID;
		u->block.flags = IAS_BLOCK_F_OVERRIDE;
		u->block.pid = 977;
		u->block.incident_id = 17;
		u->block.block_id = s->method == IAS_METHOD_SET ? 0 : 43;
		u->block.duration_s = 3600;
		strcpy(u->block.reason, "via n07/qp 0x1a ~ manual {test}");
		break;
	case IAS_ATTR_RELEASE:
		u->release.scope = IAS_SCOPE_BLOCK;
		u->release.flags = IAS_RELEASE_F_DRY_RUN;
		u->release.released = s->method == IAS_METHOD_SET ? 0 : 3;
		u->release.id = 43;
		break;
	case IAS_ATTR_POLICY:
		u->policy.policy_version = 7;
		u->policy.search_level = IAS_SEARCH_ZONE;
		u->policy.block_mode = IAS_BLOCK_FREEZE;
		u->policy.flags = IAS_POLICY_F_DRY_RUN;
		u->policy.hop_limit = 16;
		u->policy.fanout_limit = 64;
		u->policy.escalation_x100 = 250;
		u->policy.base_duration_s = 600;
		u->policy.max_duration_s = 86400;
		break;
	case IAS_ATTR_STATUS:
		u->status.node_guid = 0x0002c90300000009ull;
		u->status.uptime_s = 123456789;
		u->status.active_blocks = 3;
		u->status.policy_version = 7;
		u->status.total_blocks = 17;
		u->status.qps_known = 1000;
		u->status.qps_blocked = 15;
		u->status.incidents = 5;
		u->status.mads_rejected = 0xffffffffffull;
		break;
	case IAS_ATTR_REPORT:
		u->report.seq = 99;
		u->report.incident_id = 17;
		u->report.node_guid = 0x0002c90300000007ull;
		u->report.event_time_ms = NOW - 5;
		u->report.block_id = 42;
		u->report.kind = IAS_REPORT_HOP;
		u->report.peer_lid = 0x1f;
		u->report.peer_qpn = 0x1a;
		u->report.pid = 4242;
		u->report.qp_count = 12;
		strcpy(u->report.comm, "mpi_app-rank-07");
		break;
	}
}

static int encode_sample(const struct sample *s, const struct ias_keyring *kr,
			 uint8_t out[IAS_MAD_SIZE], struct ias_secmgt_msg *m)
{
	fill(s, m);
	return ias_secmgt_encode(m, kr, NOW, out);
}

/* Recompute the tag after deliberately changing signed bytes, so a test
 * reaches the checks behind the tag. */
static void resign(const struct ias_keyring *kr, uint8_t mad[IAS_MAD_SIZE])
{
	uint8_t tag[IAS_TAG_LEN];

	if (ias_secmgt_compute_tag(kr, ias_get_be32(mad + IAS_OFF_KEY_ID), mad, tag) == 0)
		memcpy(mad + IAS_OFF_TAG, tag, IAS_TAG_LEN);
}

static enum ias_mad_reason dec(const uint8_t *buf, size_t len,
			       const struct ias_keyring *kr)
{
	struct ias_secmgt_msg m;

	return ias_secmgt_decode(buf, len, kr, NULL, NOW, &m);
}

static int same_msg(const struct ias_secmgt_msg *a, const struct ias_secmgt_msg *b)
{
	return a->method == b->method && a->status == b->status &&
	       a->tid == b->tid && a->attr_id == b->attr_id &&
	       a->attr_mod == b->attr_mod && a->key_id == b->key_id &&
	       a->timestamp_ms == b->timestamp_ms && a->nonce == b->nonce &&
	       a->echo_nonce == b->echo_nonce && a->data_len == b->data_len &&
	       memcmp(&a->u, &b->u, sizeof(a->u)) == 0;
}

/* ---- Tests ------------------------------------------------------------- */

static void test_tag_spec(const struct ias_keyring *kr)
{
	uint8_t mad[IAS_MAD_SIZE], cov[IAS_MAD_SIZE], tag[IAS_TAG_LEN];
	uint8_t ref[EVP_MAX_MD_SIZE];
	struct ias_secmgt_msg m;
	size_t n = 0;
	int r;

	r = encode_sample(&samples[2], kr, mad, &m);
	is_int(r, 0, "encode a Trace");
	memcpy(cov, mad, sizeof(cov));
	memset(cov + 8, 0, 4);
	memset(cov + 72, 0, 16);
	ok(EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key1, sizeof(key1), cov,
		     sizeof(cov), ref, sizeof(ref), &n) && n == 32,
	   "reference HMAC-SHA256 computed one-shot");
	ok(memcmp(mad + IAS_OFF_TAG, ref, IAS_TAG_LEN) == 0,
	   "tag = first 128 bits of HMAC-SHA256 over MAD with TID[8..11] and tag zeroed");
	r = ias_secmgt_compute_tag(kr, 1, mad, tag);
	ok(r == 0 && memcmp(tag, ref, IAS_TAG_LEN) == 0,
	   "reused HMAC context gives the same tag again");
	is_int(ias_secmgt_compute_tag(kr, 99, mad, tag), -ENOENT, "tag with unknown key id");
}

static void test_round_trips(const struct ias_keyring *kr)
{
	uint8_t mad[IAS_MAD_SIZE];
	struct ias_secmgt_msg m, d;
	size_t i;

	for (i = 0; i < NSAMPLES; i++) {
		int r = encode_sample(&samples[i], kr, mad, &m);
		enum ias_mad_reason why;

		is_int(r, 0, samples[i].name);
		memset(&d, 0xAA, sizeof(d));
		why = ias_secmgt_decode(mad, sizeof(mad), kr, NULL, NOW, &d);
		if (!ok(why == IAS_MAD_OK && same_msg(&m, &d),
			"%s: decode gives back every field", samples[i].name))
			printf("#   reason %s\n", ias_mad_reason_str(why));
	}
	/* Spot-check wire positions against the documented offsets. */
	encode_sample(&samples[2], kr, mad, &m);
	ok(mad[0] == 1 && mad[1] == 0x43 && mad[2] == 1 && mad[3] == 0x02 &&
	   ias_get_be64(mad + 8) == m.tid && ias_get_be16(mad + 16) == IAS_ATTR_TRACE &&
	   ias_get_be32(mad + 20) == 0x01020304 &&
	   mad[37] == 0x0A && mad[38] == 0x1A && mad[39] == 0x5C && mad[40] == 1 &&
	   ias_get_be16(mad + 42) == IAS_TRACE_SIZE &&
	   ias_get_be32(mad + 44) == 1 && ias_get_be64(mad + 48) == NOW &&
	   ias_get_be64(mad + 56) == m.nonce && ias_get_be64(mad + 64) == 0,
	   "header bytes sit at the documented offsets");
	ok(ias_get_be32(mad + 88 + IAS_TRACE_DEST_QPN) == 0xabcdef &&
	   mad[88 + IAS_TRACE_SEARCH] == IAS_SEARCH_LCA &&
	   ias_get_be16(mad + 88 + IAS_TRACE_REASON) == IAS_TREASON_TRACE_HOP,
	   "Trace fields sit at the documented offsets");
	encode_sample(&samples[3], kr, mad, &m);
	ok(ias_get_be16(mad + 88 + IAS_TRES_HOPS + 6 * 11) == 0xc000 + 11 &&
	   ias_get_be32(mad + 88 + IAS_TRES_HOPS + 6 * 11 + 2) == 0x100 + 11 &&
	   ias_get_be32(mad + 88 + IAS_TRES_QPNS + 4 * 15) == 0xff0000 + 45,
	   "TraceResult lists sit at the documented offsets");
	{
		uint64_t n1, n2;

		encode_sample(&samples[0], kr, mad, &m);
		n1 = m.nonce;
		encode_sample(&samples[0], kr, mad, &m);
		n2 = m.nonce;
		ok(n1 != n2, "every encode draws a fresh nonce");
	}
	{
		uint64_t mine = 0, child = 0;
		int fd[2], st = 0;
		pid_t pid;

		if (pipe(fd) == 0 && (pid = fork()) >= 0) {
			if (pid == 0) {
				encode_sample(&samples[0], kr, mad, &m);
				_exit(write(fd[1], &m.nonce, sizeof(m.nonce)) == sizeof(m.nonce) ? 0 : 1);
			}
			encode_sample(&samples[0], kr, mad, &m);
			mine = m.nonce;
			if (read(fd[0], &child, sizeof(child)) != sizeof(child))
				child = mine;
			waitpid(pid, &st, 0);
			close(fd[0]);
			close(fd[1]);
			ok(child != mine, "a forked child does not reuse the parent's nonces");
		} else {
			ok(0, "pipe/fork for the nonce test");
		}
	}
}

static void test_tamper(const struct ias_keyring *kr)
{
	static const size_t which[] = { 0, 3, 4, 13, 15 };
	uint8_t mad[IAS_MAD_SIZE], t[IAS_MAD_SIZE];
	struct ias_secmgt_msg m, d;
	size_t k, i;

	for (k = 0; k < sizeof(which) / sizeof(which[0]); k++) {
		const struct sample *s = &samples[which[k]];
		unsigned accepted = 0, tid_hi_ok = 0, flips;

		encode_sample(s, kr, mad, &m);
		for (i = 0; i < IAS_MAD_SIZE; i++) {
			for (flips = 0; flips < 8; flips++) {
				enum ias_mad_reason why;

				memcpy(t, mad, sizeof(t));
				t[i] ^= (uint8_t)(1u << flips);
				why = ias_secmgt_decode(t, sizeof(t), kr, NULL, NOW, &d);
				if (i >= 8 && i < 12) {
					tid_hi_ok += why == IAS_MAD_OK &&
						     (d.tid ^ m.tid) == ((uint64_t)1 << flips) << (8 * (15 - i));
				} else if (why == IAS_MAD_OK) {
					if (accepted++ < 4)
						printf("#   byte %zu bit %u accepted\n", i, flips);
				}
			}
		}
		is_int(accepted, 0, "every single-bit change outside TID[8..11] is rejected");
		printf("#   (%s, %d positions x 8 bits)\n", s->name, IAS_MAD_SIZE - 4);
		is_int(tid_hi_ok, 32, "changes to TID bytes 8..11 are accepted and visible");
	}
}

static void test_truncation(const struct ias_keyring *kr)
{
	uint8_t mad[IAS_MAD_SIZE + 8];
	struct ias_secmgt_msg m;
	unsigned bad = 0;
	size_t n;

	encode_sample(&samples[4], kr, mad, &m);
	mad[256] = 0;
	for (n = 0; n < IAS_MAD_SIZE; n++)
		if (dec(mad, n, kr) != IAS_MAD_TRUNCATED)
			bad++;
	is_int(bad, 0, "every length 0..255 is TRUNCATED");
	is_int(dec(mad, IAS_MAD_SIZE + 1, kr), IAS_MAD_BAD_LENGTH, "257 bytes: BAD_LENGTH");
	is_int(dec(NULL, 256, kr), IAS_MAD_TRUNCATED, "NULL buffer");
}

static void test_header_rejections(const struct ias_keyring *kr)
{
	uint8_t mad[IAS_MAD_SIZE], t[IAS_MAD_SIZE];
	struct ias_secmgt_msg m, d;
	struct ias_keyring only2;

	encode_sample(&samples[4], kr, mad, &m);
#define MUT(stmt, want, name) do { \
		memcpy(t, mad, sizeof(t)); stmt; resign(kr, t); \
		is_int(dec(t, sizeof(t), kr), want, name); \
	} while (0)
	MUT(t[0] = 2, IAS_MAD_BAD_BASE_VERSION, "base version 2");
	MUT(t[1] = 0x44, IAS_MAD_BAD_CLASS, "wrong class");
	MUT(t[2] = 2, IAS_MAD_BAD_CLASS_VERSION, "class version 2");
	MUT(t[39] ^= 1, IAS_MAD_BAD_OUI, "wrong OUI");
	MUT(memset(t + 37, 0, 3), IAS_MAD_BAD_OUI, "zero OUI");
	MUT(t[3] = 0x03, IAS_MAD_BAD_METHOD, "method 0x03 (Send)");
	MUT(t[3] = 0x07, IAS_MAD_BAD_METHOD, "method 0x07 (Trap Repress)");
	MUT(t[40] = 2, IAS_MAD_BAD_SECMGT_VERSION, "SecMgt version 2");
	MUT(ias_put_be16(t + 42, 169), IAS_MAD_BAD_LENGTH, "data_len 169");
	MUT(ias_put_be16(t + 42, IAS_BLOCK_SIZE - 1), IAS_MAD_BAD_LENGTH,
	    "data_len one short: wrong attribute length");
	MUT(ias_put_be16(t + 42, IAS_BLOCK_SIZE - 64), IAS_MAD_RESERVED_NONZERO,
	    "data_len cutting into the reason: non-zero padding");
	MUT(ias_put_be16(t + 42, IAS_BLOCK_SIZE + 1), IAS_MAD_BAD_LENGTH,
	    "data_len one long: wrong attribute length");
	MUT(t[6] = 1, IAS_MAD_RESERVED_NONZERO, "class-specific field");
	MUT(t[19] = 1, IAS_MAD_RESERVED_NONZERO, "reserved after attr id");
	MUT(t[24] = 0x20, IAS_MAD_RESERVED_NONZERO, "RMPP header");
	MUT(t[35] = 1, IAS_MAD_RESERVED_NONZERO, "RMPP header last byte");
	MUT(t[36] = 1, IAS_MAD_RESERVED_NONZERO, "reserved byte 36");
	MUT(t[41] = 1, IAS_MAD_RESERVED_NONZERO, "SecMgt flags");
	MUT(t[255] = 1, IAS_MAD_RESERVED_NONZERO, "last padding byte");
	MUT(t[88 + IAS_BLOCK_SIZE] = 1, IAS_MAD_RESERVED_NONZERO, "first padding byte");
	MUT(ias_put_be16(t + 4, IAS_STATUS_BUSY), IAS_MAD_RESERVED_NONZERO,
	    "status in a request");
	MUT(t[71] = 1, IAS_MAD_RESERVED_NONZERO, "echo nonce in a request");
	MUT(ias_put_be32(t + 44, 0), IAS_MAD_UNKNOWN_KEY, "key id 0");
	MUT(ias_put_be32(t + 44, 3), IAS_MAD_UNKNOWN_KEY, "key id 3 (not in the ring)");
	memcpy(t, mad, sizeof(t));
	ias_put_be32(t + 44, 2);
	is_int(dec(t, sizeof(t), kr), IAS_MAD_BAD_TAG, "key id 2, tag made with key 1");
	MUT(ias_put_be16(t + 16, 0x0099), IAS_MAD_UNKNOWN_ATTR, "unknown attribute 0x0099");
	MUT(ias_put_be16(t + 16, IAS_ATTR_REPORT), IAS_MAD_BAD_ATTR_FOR_METHOD,
	    "Set carrying a Report attribute");
	MUT(ias_put_be16(t + 16, IAS_ATTR_STATUS), IAS_MAD_BAD_ATTR_FOR_METHOD,
	    "Set carrying a Status attribute");
	MUT(ias_put_be16(t + 16, IAS_ATTR_POLICY), IAS_MAD_BAD_LENGTH,
	    "Set Policy with a Block-sized body");
	/* Header fields a TID rewrite must not touch. */
	memcpy(t, mad, sizeof(t));
	memset(t + 8, 0xee, 4);
	ok(ias_secmgt_decode(t, sizeof(t), kr, NULL, NOW, &d) == IAS_MAD_OK &&
	   (d.tid & 0xffffffffu) == (m.tid & 0xffffffffu) && d.tid >> 32 == 0xeeeeeeee,
	   "rewritten TID high half verifies and is reported as received");

	/* Unknown key: a ring that only has key 2. */
	if (ias_keyring_init(&only2) == 0 &&
	    ias_keyring_add(&only2, 2, key2, sizeof(key2)) == 0) {
		is_int(dec(mad, sizeof(mad), &only2), IAS_MAD_UNKNOWN_KEY,
		       "key id 1 unknown to the receiver");
		ias_keyring_wipe(&only2);
	} else {
		ok(0, "keyring with key 2 only");
	}
	is_int(dec(mad, sizeof(mad), NULL), IAS_MAD_UNKNOWN_KEY, "no keyring at all");
#undef MUT
}

static void test_attr_rejections(const struct ias_keyring *kr)
{
	uint8_t mad[IAS_MAD_SIZE], t[IAS_MAD_SIZE];
	struct ias_secmgt_msg m;
#define AMUT(si, stmt, want, name) do { \
		encode_sample(&samples[si], kr, mad, &m); \
		memcpy(t, mad, sizeof(t)); { uint8_t *at = t + IAS_OFF_DATA; (void)at; stmt; } \
		resign(kr, t); \
		is_int(dec(t, sizeof(t), kr), want, name); \
	} while (0)
	/* Block (sample 4): reserved, strings, values. */
	AMUT(4, at[IAS_BLOCK_RESERVED + 1] = 1, IAS_MAD_RESERVED_NONZERO, "Block reserved u16");
	AMUT(4, at[IAS_BLOCK_RESERVED2] = 1, IAS_MAD_RESERVED_NONZERO, "Block reserved u32");
	AMUT(4, at[IAS_BLOCK_FLAGS] |= 0x80, IAS_MAD_RESERVED_NONZERO, "Block unknown flag");
	AMUT(4, at[IAS_BLOCK_ID + 7] = 1, IAS_MAD_RESERVED_NONZERO, "Block id set in a Set");
	AMUT(4, memset(at + IAS_BLOCK_REASON, 'A', IAS_REASON_TEXT_SIZE),
	     IAS_MAD_BAD_STRING, "reason without NUL");
	AMUT(4, at[IAS_BLOCK_REASON + 2] = 0x07, IAS_MAD_BAD_STRING, "reason with a BEL");
	AMUT(4, at[IAS_BLOCK_REASON + 2] = 0x80, IAS_MAD_BAD_STRING, "reason with a high byte");
	AMUT(4, at[IAS_BLOCK_REASON + 2] = '\n', IAS_MAD_BAD_STRING, "reason with a newline");
	AMUT(4, at[IAS_BLOCK_REASON + 63] = 'x', IAS_MAD_BAD_STRING, "garbage after the NUL");
	AMUT(4, at[IAS_BLOCK_SCOPE] = 3, IAS_MAD_BAD_VALUE, "Block scope 3");
	AMUT(4, at[IAS_BLOCK_SCOPE] = 0, IAS_MAD_BAD_VALUE, "Block scope 0");
	AMUT(4, memset(at + IAS_BLOCK_PID, 0, 4), IAS_MAD_BAD_VALUE, "PID scope with PID 0");
	/* Trace (sample 2). */
	AMUT(2, at[IAS_TRACE_DEST_QPN] = 1, IAS_MAD_RESERVED_NONZERO, "DestinationQP over 24 bits");
	AMUT(2, at[IAS_TRACE_SENDER_QPN] = 1, IAS_MAD_RESERVED_NONZERO, "sender QPN over 24 bits");
	AMUT(2, at[IAS_TRACE_SEARCH] = 5, IAS_MAD_BAD_VALUE, "search level 5");
	AMUT(2, at[IAS_TRACE_REASON + 1] = 0, IAS_MAD_BAD_VALUE, "trace reason 0");
	AMUT(2, at[IAS_TRACE_FLAGS] = 1, IAS_MAD_RESERVED_NONZERO, "trace flag bit 8");
	AMUT(2, memset(at + IAS_TRACE_INCIDENT, 0, 8), IAS_MAD_BAD_VALUE, "incident id 0");
	/* TraceResult (sample 3). */
	AMUT(3, at[IAS_TRES_N_QPNS] = IAS_TRACE_MAX_QPNS + 1, IAS_MAD_BAD_VALUE, "17 QPNs");
	AMUT(3, at[IAS_TRES_N_HOPS] = IAS_TRACE_MAX_HOPS + 1, IAS_MAD_BAD_VALUE, "13 hops");
	AMUT(3, at[IAS_TRES_N_QPNS] = 15, IAS_MAD_RESERVED_NONZERO, "QPN past the count not zero");
	AMUT(3, at[IAS_TRES_N_HOPS] = 11, IAS_MAD_RESERVED_NONZERO, "hop past the count not zero");
	AMUT(3, at[IAS_TRES_RESULT] = IAS_TRESULT_MAX + 1, IAS_MAD_BAD_VALUE, "result code past the last");
	AMUT(3, at[IAS_TRES_FLAGS] = 2, IAS_MAD_RESERVED_NONZERO, "result flag bit 1");
	/* ClassPortInfo (sample 1). */
	AMUT(1, at[IAS_CPI_NODE_DESC + 64] = 'x', IAS_MAD_BAD_STRING, "node description of 65 chars");
	AMUT(1, at[IAS_CPI_ROLE] = 3, IAS_MAD_BAD_VALUE, "role 3");
	AMUT(1, at[IAS_CPI_RESP_TIME] = 32, IAS_MAD_BAD_VALUE, "response time 32");
	AMUT(1, at[IAS_CPI_RESERVED2 + 2] = 1, IAS_MAD_RESERVED_NONZERO, "CPI trailing reserved");
	/* Release (sample 6). */
	AMUT(6, at[IAS_REL_RELEASED + 3] = 1, IAS_MAD_RESERVED_NONZERO, "released count in a Set");
	AMUT(6, memset(at + IAS_REL_ID, 0, 8), IAS_MAD_BAD_VALUE, "release id 0");
	AMUT(6, (at[IAS_REL_SCOPE] = IAS_SCOPE_PID, at[IAS_REL_ID + 3] = 1),
	     IAS_MAD_BAD_VALUE, "PID over 32 bits");
	/* Policy (sample 9). */
	AMUT(9, ias_put_be32(at + IAS_POL_MAX_DUR, 599), IAS_MAD_BAD_VALUE, "max duration < base");
	AMUT(9, ias_put_be16(at + IAS_POL_ESCALATION, 99), IAS_MAD_BAD_VALUE, "escalation < 1.00");
	AMUT(9, at[IAS_POL_BLOCK_MODE] = 4, IAS_MAD_BAD_VALUE, "block mode 4");
	AMUT(9, memset(at + IAS_POL_BASE_DUR, 0, 4), IAS_MAD_BAD_VALUE, "base duration 0");
	AMUT(9, at[IAS_POL_RESERVED] = 1, IAS_MAD_RESERVED_NONZERO, "policy reserved byte");
	/* Report (sample 13). */
	AMUT(13, at[IAS_REP_KIND] = 0, IAS_MAD_BAD_VALUE, "report kind 0");
	AMUT(13, memset(at + IAS_REP_SEQ, 0, 8), IAS_MAD_BAD_VALUE, "report seq 0");
	AMUT(13, at[IAS_REP_COMM + 15] = 'x', IAS_MAD_BAD_STRING, "comm of 16 chars");
	AMUT(13, at[IAS_REP_PEER_QPN] = 1, IAS_MAD_RESERVED_NONZERO, "peer QPN over 24 bits");
	/* Get carries no data; error responses carry none either. */
	AMUT(0, (ias_put_be16(t + 42, IAS_CPI_SIZE), memset(at, 0, 4)),
	     IAS_MAD_BAD_LENGTH, "Get with a body");
	AMUT(15, ias_put_be16(t + 42, 0 + IAS_REL_SIZE), IAS_MAD_BAD_LENGTH,
	     "error response with a body");
#undef AMUT
}

static void test_encode_refusals(const struct ias_keyring *kr)
{
	uint8_t mad[IAS_MAD_SIZE];
	struct ias_secmgt_msg m;
	struct ias_keyring none;

#define EREF(si, stmt, want, name) do { \
		fill(&samples[si], &m); stmt; \
		is_int(ias_secmgt_encode(&m, kr, NOW, mad), want, name); \
	} while (0)
	EREF(0, m.attr_id = IAS_ATTR_TRACE, -EINVAL, "encode: Get of Trace");
	EREF(2, m.method = 0x05, -EINVAL, "encode: unknown method");
	EREF(2, m.attr_id = 0x0042, -EINVAL, "encode: unknown attribute");
	EREF(2, m.status = 1, -EINVAL, "encode: status in a request");
	EREF(2, m.echo_nonce = 1, -EINVAL, "encode: echo nonce in a request");
	EREF(2, m.u.trace.dest_qpn = 0x1000000, -EINVAL, "encode: QPN over 24 bits");
	EREF(3, m.u.tres.n_qpns = 17, -EINVAL, "encode: 17 QPNs");
	EREF(4, memset(m.u.block.reason, 'r', sizeof(m.u.block.reason)), -EINVAL,
	     "encode: reason without NUL");
	EREF(4, m.u.block.reason[0] = '\t', -EINVAL, "encode: reason with a tab");
	EREF(9, m.u.policy.max_duration_s = 1, -EINVAL, "encode: max < base");
	EREF(13, m.u.report.kind = 9, -EINVAL, "encode: report kind 9");
	ok(memcmp(mad, (uint8_t[IAS_MAD_SIZE]){ 0 }, IAS_MAD_SIZE) == 0,
	   "a refused encode leaves the buffer zeroed");
#undef EREF
	if (ias_keyring_init(&none) == 0) {
		fill(&samples[0], &m);
		is_int(ias_secmgt_encode(&m, &none, NOW, mad), -ENOKEY,
		       "encode: no active key");
		ias_keyring_wipe(&none);
	}
}

static void test_keyring(void)
{
	struct ias_keyring kr, a, b;
	uint8_t big[65] = { 1 }, mad[IAS_MAD_SIZE];
	struct ias_secmgt_msg m, d;
	uint32_t i;
	int r = 0;

	is_int(ias_keyring_init(&kr), 0, "keyring init");
	is_int(ias_keyring_add(&kr, 1, big, 31), -EINVAL, "31-byte key refused");
	is_int(ias_keyring_add(&kr, 1, big, 65), -EINVAL, "65-byte key refused");
	is_int(ias_keyring_add(&kr, 0, big, 32), -EINVAL, "key id 0 refused");
	is_int(ias_keyring_add(&kr, 1, big, 64), 0, "64-byte key accepted");
	is_int(ias_keyring_add(&kr, 1, big, 32), -EEXIST, "duplicate id refused");
	for (i = 2; i <= IAS_KEYRING_MAX; i++)
		r |= ias_keyring_add(&kr, i, big, 32);
	is_int(r, 0, "16 keys fit");
	is_int(ias_keyring_add(&kr, 100, big, 32), -ENOSPC, "a 17th does not");
	is_int(ias_keyring_set_active(&kr, 100), -ENOENT, "activate unknown id");
	is_int(ias_keyring_set_active(&kr, 16), 0, "activate key 16");
	is_int(ias_keyring_remove(&kr, 16), 0, "remove the active key");
	is_int(kr.active_id, 0, "no active key after removing it");
	is_int(ias_keyring_remove(&kr, 16), -ENOENT, "remove it twice");
	is_int(ias_keyring_add(&kr, 100, big, 32), 0, "its slot is reusable");
	ias_keyring_wipe(&kr);
	ok(kr.mac == NULL && kr.keys[0].id == 0 && kr.keys[0].mac_ctx == NULL,
	   "wipe clears the ring");

	/* Rotation: A still sends with key 1, B already with key 2. */
	ring(&a, 1);
	ring(&b, 2);
	fill(&samples[13], &m);
	r = ias_secmgt_encode(&m, &a, NOW, mad);
	ok(r == 0 && ias_secmgt_decode(mad, sizeof(mad), &b, NULL, NOW, &d) == IAS_MAD_OK &&
	   d.key_id == 1, "rotation: old-key MAD verifies at an upgraded peer");
	fill(&samples[14], &m);
	r = ias_secmgt_encode(&m, &b, NOW, mad);
	ok(r == 0 && ias_secmgt_decode(mad, sizeof(mad), &a, NULL, NOW, &d) == IAS_MAD_OK &&
	   d.key_id == 2, "rotation: new-key MAD verifies at a peer still sending key 1");
	fill(&samples[13], &m);
	ias_secmgt_encode(&m, &a, NOW, mad);
	ias_keyring_remove(&b, 1);
	is_int(dec(mad, sizeof(mad), &b), IAS_MAD_UNKNOWN_KEY,
	       "rotation done: key 1 removed, its MADs are refused");
	ias_keyring_wipe(&a);
	ias_keyring_wipe(&b);
}

static struct ias_replay rp;

static void test_freshness(const struct ias_keyring *kr)
{
	uint8_t mad[IAS_MAD_SIZE], bad[IAS_MAD_SIZE];
	struct ias_secmgt_msg m, d;
	uint32_t before;

	is_int(ias_replay_init(&rp, WINDOW), 0, "replay guard init");
	encode_sample(&samples[2], kr, mad, &m);
	is_int(ias_secmgt_decode(mad, sizeof(mad), kr, &rp, NOW, &d), IAS_MAD_OK,
	       "first delivery accepted");
	memset(&d, 0x55, sizeof(d));
	is_int(ias_secmgt_decode(mad, sizeof(mad), kr, &rp, NOW + 1, &d), IAS_MAD_REPLAY,
	       "second delivery is a REPLAY");
	ok(d.method == 0 && d.nonce == 0 && d.u.trace.incident_id == 0,
	   "a rejected decode leaves the output zeroed");
	memcpy(bad, mad, sizeof(bad));
	memset(bad + 8, 0x77, 4);
	is_int(ias_secmgt_decode(bad, sizeof(bad), kr, &rp, NOW + 1, &d), IAS_MAD_REPLAY,
	       "replay with a rewritten TID high half is still a REPLAY");

	/* Unverified input leaves no state. */
	encode_sample(&samples[2], kr, mad, &m);
	memcpy(bad, mad, sizeof(bad));
	bad[IAS_OFF_TAG] ^= 1;
	before = rp.count;
	is_int(ias_secmgt_decode(bad, sizeof(bad), kr, &rp, NOW, &d), IAS_MAD_BAD_TAG,
	       "forged tag rejected");
	is_int(rp.count, before, "forged MAD left no nonce behind");
	is_int(ias_secmgt_decode(mad, sizeof(mad), kr, &rp, NOW, &d), IAS_MAD_OK,
	       "the genuine MAD with that nonce is still accepted");

	/* Window edges. */
	encode_sample(&samples[2], kr, mad, &m);
	is_int(ias_secmgt_decode(mad, sizeof(mad), kr, &rp, NOW + WINDOW + 1, &d),
	       IAS_MAD_STALE, "older than the window: STALE");
	is_int(ias_secmgt_decode(mad, sizeof(mad), kr, &rp, NOW - WINDOW - 1, &d),
	       IAS_MAD_STALE, "newer than the window (future): STALE");
	is_int(ias_secmgt_decode(mad, sizeof(mad), kr, &rp, NOW + WINDOW, &d),
	       IAS_MAD_OK, "exactly at the window edge: accepted");
	encode_sample(&samples[2], kr, mad, &m);
	is_int(ias_secmgt_decode(mad, sizeof(mad), kr, &rp, NOW - WINDOW, &d),
	       IAS_MAD_OK, "exactly at the future edge: accepted");
	is_int(ias_secmgt_decode(mad, sizeof(mad), kr, NULL, NOW + 10 * WINDOW, &d),
	       IAS_MAD_OK, "without a replay guard no freshness check");
}

static void test_response_and_peek(const struct ias_keyring *kr)
{
	uint8_t mad[IAS_MAD_SIZE];
	struct ias_secmgt_msg req, resp, d;
	uint64_t tid;
	uint8_t method;

	fill(&samples[2], &req);
	ias_secmgt_encode(&req, kr, NOW, mad);
	is_int(ias_secmgt_init_response(&req, IAS_ATTR_TRACE_RESULT, &resp), 0,
	       "init response to a Set");
	ok(resp.method == IAS_METHOD_GET_RESP && resp.tid == req.tid &&
	   resp.echo_nonce == req.nonce && resp.attr_mod == req.attr_mod &&
	   resp.status == 0 && resp.attr_id == IAS_ATTR_TRACE_RESULT,
	   "response: GetResp, same TID, echoes the nonce");
	resp.u.tres.incident_id = req.u.trace.incident_id;
	resp.u.tres.result = IAS_TRESULT_DUPLICATE;
	is_int(ias_secmgt_encode(&resp, kr, NOW, mad), 0, "encode the TraceResult");
	ok(ias_secmgt_decode(mad, sizeof(mad), kr, NULL, NOW, &d) == IAS_MAD_OK &&
	   d.echo_nonce == req.nonce && d.u.tres.result == IAS_TRESULT_DUPLICATE,
	   "requester sees its nonce echoed");
	is_int(ias_secmgt_init_response(&d, IAS_ATTR_TRACE_RESULT, &resp), -EINVAL,
	       "no response to a response");
	fill(&samples[13], &req);
	ias_secmgt_init_response(&req, IAS_ATTR_REPORT, &resp);
	is_int(resp.method, IAS_METHOD_REPORT_RESP, "Report is answered by ReportResp");

	/* Error response: status set, no body. */
	fill(&samples[6], &req);
	ias_secmgt_encode(&req, kr, NOW, mad);
	ias_secmgt_init_response(&req, IAS_ATTR_RELEASE, &resp);
	resp.status = IAS_STATUS_NOT_FOUND;
	resp.u.release.id = 5; /* ignored: error responses carry no body */
	ok(ias_secmgt_encode(&resp, kr, NOW, mad) == 0 &&
	   ias_secmgt_decode(mad, sizeof(mad), kr, NULL, NOW, &d) == IAS_MAD_OK &&
	   d.status == IAS_STATUS_NOT_FOUND && d.data_len == 0 && d.u.release.id == 0,
	   "error response carries status and no attribute data");

	ok(ias_secmgt_peek_tid_unauth(mad, sizeof(mad), &tid) == 0 && tid == req.tid,
	   "peek TID (unauthenticated)");
	ok(ias_secmgt_peek_method_unauth(mad, sizeof(mad), &method) == 0 &&
	   method == IAS_METHOD_GET_RESP, "peek method (unauthenticated)");
	mad[IAS_OFF_TAG] ^= 0xff;
	ok(ias_secmgt_peek_tid_unauth(mad, sizeof(mad), &tid) == 0,
	   "peek does not verify the tag");
	mad[1] = 0x09;
	is_int(ias_secmgt_peek_tid_unauth(mad, sizeof(mad), &tid), -EBADMSG,
	       "peek refuses another class");
	is_int(ias_secmgt_peek_method_unauth(mad, 100, &method), -EBADMSG,
	       "peek refuses a short buffer");
}

static void test_reasons(void)
{
	int i, j, distinct = 1;

	for (i = 0; i < IAS_MAD_REASON_COUNT; i++)
		for (j = 0; j < i; j++)
			if (strcmp(ias_mad_reason_str((enum ias_mad_reason)i),
				   ias_mad_reason_str((enum ias_mad_reason)j)) == 0 ||
			    strcmp(ias_mad_reason_str((enum ias_mad_reason)i), "unknown reason") == 0)
				distinct = 0;
	ok(distinct, "every reason has its own name");
	is_str(ias_mad_reason_str(IAS_MAD_REPLAY), "replayed nonce", "REPLAY's name");
	is_str(ias_mad_reason_str((enum ias_mad_reason)1000), "unknown reason",
	       "out-of-range reason");
}

static void test_attr_direct(void)
{
	union ias_secmgt_attr u;
	uint8_t buf[IAS_SECMGT_DATA_MAX];
	size_t len;

	is_int(ias_secmgt_decode_attr(IAS_METHOD_GET, 0, IAS_ATTR_STATUS, buf, 0, &u),
	       IAS_MAD_OK, "decode_attr: Get Status has no body");
	is_int(ias_secmgt_decode_attr(IAS_METHOD_SET, 0, IAS_ATTR_RELEASE, buf, 8, &u),
	       IAS_MAD_BAD_LENGTH, "decode_attr: short Release");
	is_int(ias_secmgt_attr_len(IAS_METHOD_GET_RESP, 0, IAS_ATTR_TRACE_RESULT),
	       IAS_TRES_SIZE, "attr_len: TraceResult");
	is_int(ias_secmgt_attr_len(IAS_METHOD_SET, 0, IAS_ATTR_TRACE_RESULT), -1,
	       "attr_len: TraceResult is never sent with Set");
	memset(&u, 0, sizeof(u));
	is_int(ias_secmgt_encode_attr(IAS_METHOD_SET, 0, IAS_ATTR_RELEASE, &u, buf, 4, &len),
	       -ENOSPC, "encode_attr: no room");
}

/* ---- Corpus writer ------------------------------------------------------ */

static int write_corpus(const char *dir, const struct ias_keyring *kr)
{
	uint8_t mad[IAS_MAD_SIZE], t[IAS_MAD_SIZE + 8];
	struct ias_secmgt_msg m;
	char name[128];
	size_t i;
	int r = 0;

	for (i = 0; i < NSAMPLES; i++) {
		encode_sample(&samples[i], kr, mad, &m);
		/* mode 0: as received; mode 2: attribute data only. */
		snprintf(name, sizeof(name), "mad-%s", samples[i].name);
		r |= corpus_write(dir, name, 0, mad, sizeof(mad));
		t[0] = mad[IAS_OFF_METHOD];
		memcpy(t + 1, mad + IAS_OFF_STATUS, 2);
		memcpy(t + 3, mad + IAS_OFF_ATTR_ID, 2);
		memcpy(t + 5, mad + IAS_OFF_DATA, m.data_len);
		snprintf(name, sizeof(name), "attr-%s", samples[i].name);
		r |= corpus_write(dir, name, 2, t, 5 + (size_t)m.data_len);
	}
	/* Malformed: resigned (mode 1) bad values, and plain garbage. */
	encode_sample(&samples[4], kr, mad, &m);
	memcpy(t, mad, IAS_MAD_SIZE);
	t[IAS_OFF_DATA + IAS_BLOCK_REASON + 1] = 0x01;
	r |= corpus_write(dir, "resign-bad-string", 1, t, IAS_MAD_SIZE);
	memcpy(t, mad, IAS_MAD_SIZE);
	t[IAS_OFF_DATA + IAS_BLOCK_SCOPE] = 9;
	r |= corpus_write(dir, "resign-bad-scope", 1, t, IAS_MAD_SIZE);
	encode_sample(&samples[3], kr, mad, &m);
	memcpy(t, mad, IAS_MAD_SIZE);
	t[IAS_OFF_DATA + IAS_TRES_N_HOPS] = 200;
	r |= corpus_write(dir, "resign-bad-count", 1, t, IAS_MAD_SIZE);
	memcpy(t, mad, IAS_MAD_SIZE);
	t[IAS_OFF_TAG + 3] ^= 0x10;
	r |= corpus_write(dir, "bad-tag", 0, t, IAS_MAD_SIZE);
	r |= corpus_write(dir, "truncated", 0, mad, 100);
	memset(t, 0, sizeof(t));
	r |= corpus_write(dir, "zeros", 0, t, IAS_MAD_SIZE);
	t[1] = IAS_SECMGT_CLASS;
	r |= corpus_write(dir, "attr-garbage", 2, t, 40);
	return r ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct ias_keyring kr;

	make_keys();
	ring(&kr, 1);
	if (argc == 3 && strcmp(argv[1], "--write-corpus") == 0)
		return write_corpus(argv[2], &kr);

	test_tag_spec(&kr);
	test_round_trips(&kr);
	test_tamper(&kr);
	test_truncation(&kr);
	test_header_rejections(&kr);
	test_attr_rejections(&kr);
	test_encode_refusals(&kr);
	test_keyring();
	test_freshness(&kr);
	test_response_and_peek(&kr);
	test_reasons();
	test_attr_direct();
	ias_keyring_wipe(&kr);
	return tap_done();
}
