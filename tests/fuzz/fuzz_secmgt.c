/* libFuzzer harness for the SecMgt decoder (mad_defs/).
 *
 * Input byte 0 picks the mode, the rest is the payload:
 *   0  a received MAD, decoded as is (fixed test key 1);
 *   1  the same, but the harness first signs it with the key its key id
 *      names, so the fuzzer reaches the checks behind the tag;
 *   2  method u8, status u16, attr id u16, then attribute data, fed straight
 *      to ias_secmgt_decode_attr().
 * Invariants (abort on violation): an accepted MAD re-encodes to the same
 * bytes (apart from the fresh nonce and the tag) and decodes to the same
 * fields; a replay guard accepts it once, then says REPLAY; accepted
 * attribute data re-encodes byte for byte. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mad_defs/secmgt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct ias_keyring kr;
static struct ias_replay rp;
static int ready;

static void setup(void)
{
	uint8_t k1[32], k2[40];
	size_t i;

	for (i = 0; i < sizeof(k1); i++)
		k1[i] = (uint8_t)(0x11 + i);
	for (i = 0; i < sizeof(k2); i++)
		k2[i] = (uint8_t)(0x5a ^ i);
	if (ias_keyring_init(&kr) || ias_keyring_add(&kr, 1, k1, sizeof(k1)) ||
	    ias_keyring_add(&kr, 2, k2, sizeof(k2)))
		abort();
	ready = 1;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void check_mad(const uint8_t *buf, size_t len)
{
	struct ias_secmgt_msg m, m2, m3;
	uint8_t again[IAS_MAD_SIZE];
	enum ias_mad_reason why;
	size_t i;

	why = ias_secmgt_decode(buf, len, &kr, NULL, 0, &m);
	if (why != IAS_MAD_OK) {
		/* Rejected output must be all zero. */
		const uint8_t *p = (const uint8_t *)&m;

		for (i = 0; i < sizeof(m); i++)
			if (p[i])
				abort();
		return;
	}
	if (len != IAS_MAD_SIZE)
		abort();
	/* Freshness: accepted once, then a replay. */
	if (ias_replay_init(&rp, 1000))
		abort();
	if (ias_secmgt_decode(buf, len, &kr, &rp, m.timestamp_ms, &m2) != IAS_MAD_OK ||
	    memcmp(&m, &m2, sizeof(m)) != 0)
		abort();
	if (ias_secmgt_decode(buf, len, &kr, &rp, m.timestamp_ms, &m2) != IAS_MAD_REPLAY)
		abort();
	/* Re-encode with the same key and clock: canonical bytes. */
	m2 = m;
	if (ias_keyring_set_active(&kr, m.key_id))
		abort();
	if (ias_secmgt_encode(&m2, &kr, m.timestamp_ms, again))
		abort();
	for (i = 0; i < IAS_MAD_SIZE; i++) {
		if (i >= IAS_OFF_NONCE && i < IAS_OFF_NONCE + 8)
			continue;
		if (i >= IAS_OFF_TAG && i < IAS_OFF_TAG + IAS_TAG_LEN)
			continue;
		if (again[i] != buf[i])
			abort();
	}
	if (ias_secmgt_decode(again, sizeof(again), &kr, NULL, 0, &m3) != IAS_MAD_OK)
		abort();
	m3.nonce = m.nonce;
	if (memcmp(&m, &m3, sizeof(m)) != 0)
		abort();
}

static void check_attr(const uint8_t *p, size_t n)
{
	union ias_secmgt_attr a, b;
	uint8_t out[IAS_SECMGT_DATA_MAX];
	uint16_t status, attr;
	uint8_t method;
	size_t len;

	if (n < 5)
		return;
	method = p[0];
	status = (uint16_t)(p[1] << 8 | p[2]);
	attr = (uint16_t)(p[3] << 8 | p[4]);
	if (ias_secmgt_decode_attr(method, status, attr, p + 5, n - 5, &a) != IAS_MAD_OK)
		return;
	if (ias_secmgt_encode_attr(method, status, attr, &a, out, sizeof(out), &len) ||
	    len != n - 5 || memcmp(out, p + 5, len) != 0)
		abort();
	if (ias_secmgt_decode_attr(method, status, attr, out, len, &b) != IAS_MAD_OK ||
	    memcmp(&a, &b, sizeof(a)) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t mad[IAS_MAD_SIZE], tag[IAS_TAG_LEN];

	if (!ready)
		setup();
	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0:
		check_mad(data + 1, size - 1);
		break;
	case 1:
		if (size - 1 != IAS_MAD_SIZE) {
			check_mad(data + 1, size - 1);
			break;
		}
		memcpy(mad, data + 1, IAS_MAD_SIZE);
		if (ias_secmgt_compute_tag(&kr, be32(mad + IAS_OFF_KEY_ID), mad, tag) == 0)
			memcpy(mad + IAS_OFF_TAG, tag, IAS_TAG_LEN);
		check_mad(mad, sizeof(mad));
		break;
	default:
		check_attr(data + 1, size - 1);
		break;
	}
	return 0;
}
