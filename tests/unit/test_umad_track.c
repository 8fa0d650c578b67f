/* common/umad_track: the TID generator, the table of requests in flight
 * and the common MAD header, without a port. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "common/cursor.h"
#include "common/umad_track.h"
#include "tests/unit/tap.h"

static void test_tids(void)
{
	struct ias_tid_gen g;
	uint8_t *seen = calloc(1, 1 << 17);	/* a bit per TID below 2^20 */
	unsigned i, dup = 0, zero = 0;

	ias_tid_init(&g, 0);
	for (i = 0; i < (1u << 20) - 1; i++) {
		uint32_t t = ias_tid_next(&g);

		zero += t == 0;
		if (t < (1u << 20)) {
			dup += (seen[t >> 3] >> (t & 7)) & 1;
			seen[t >> 3] |= (uint8_t)(1u << (t & 7));
		}
	}
	is_int(zero, 0, "no TID is 0");
	is_int(dup, 0, "2^20 - 1 TIDs in a row are distinct");
	free(seen);
	ias_tid_init(&g, UINT32_MAX - 1);
	is_int(ias_tid_next(&g), UINT32_MAX, "last TID before the wrap");
	is_int(ias_tid_next(&g), 1, "the wrap skips 0");
}

static void test_pend(void)
{
	struct ias_pend p;
	struct ias_pend_ent *a, *b, *c;
	uint32_t ta, old;

	is_int(ias_pend_init(&p, 0, 0), -EINVAL, "a table of 0 slots is refused");
	is_int(ias_pend_init(&p, 2, UINT32_MAX), 0, "a table of 2 slots");
	a = ias_pend_add(&p, 1, 0x1111, 100);
	b = ias_pend_add(&p, 2, 0x2222, 50);
	c = ias_pend_add(&p, 1, 0x3333, 10);
	ok(a && b && !c, "two entries fit, the third does not");
	ok(a->tid && b->tid && a->tid != b->tid, "each has its own non-zero TID across the wrap");
	is_int(a->tries, 1, "tries start at 1");
	ok(ias_pend_find(&p, a->tid) == a && ias_pend_find(&p, b->tid) == b, "found by TID");
	ok(!ias_pend_find(&p, 0), "TID 0 never matches");
	is_int(ias_pend_count(&p, 1), 1, "count of one kind");
	is_int(ias_pend_count(&p, IAS_PEND_ANY), 2, "count of all");
	is_int(ias_pend_next_deadline(&p), 50, "the earliest deadline");
	ok(!ias_pend_expired(&p, 49), "nothing expired before it");
	ok(ias_pend_expired(&p, 50) == b, "due at its deadline");
	ta = a->tid;
	a->nonce = 77;
	old = ias_pend_retry(&p, a, 300);
	ok(old != ta && a->tid == old, "a retry gets a fresh TID");
	ok(!ias_pend_find(&p, ta), "a late answer to the first try matches nothing");
	is_int(a->tries, 2, "the retry is counted");
	is_int(a->nonce, 0, "and waits for the new try's nonce");
	ias_pend_del(&p, b);
	is_int(ias_pend_count(&p, IAS_PEND_ANY), 1, "deleted");
	ias_pend_del(&p, b);
	is_int(ias_pend_count(&p, IAS_PEND_ANY), 1, "a second delete is harmless");
	c = ias_pend_add(&p, 3, 0x4444, 20);
	ok(c && c->kind == 3 && c->key == 0x4444 && c->data == NULL, "a freed slot is reused clean");
	ias_pend_del(&p, a);
	ias_pend_del(&p, c);
	is_int(ias_pend_next_deadline(&p), INT64_MAX, "an empty table has no deadline");
	ok(!ias_pend_expired(&p, INT64_MAX), "and nothing expires");
	ias_pend_free(&p);
}

static void test_hdr(void)
{
	uint8_t mad[256] = { 0 };
	struct ias_mad_hdr h;

	mad[0] = 1;
	mad[1] = 0x43;
	mad[2] = 1;
	mad[3] = 0x81;
	ias_put_be16(mad + 4, 0x001c);
	ias_put_be64(mad + 8, 0xdeadbeef00000007ull);
	ias_put_be16(mad + 16, 0x0014);
	ias_put_be16(mad + 18, 0xffff);	/* reserved: not the decoder's business */
	ias_put_be32(mad + 20, 0x01020304);
	is_int(ias_mad_hdr_decode(mad, sizeof(mad), &h), 0, "a header decodes");
	ok(h.base_version == 1 && h.mgmt_class == 0x43 && h.class_version == 1 && h.method == 0x81,
	   "version, class, class version, method");
	is_int(h.status, 0x001c, "status");
	ok(h.tid == 0xdeadbeef00000007ull, "all 64 TID bits as received");
	is_int(ias_mad_tid32(h.tid), 7, "our TID is the low 32 bits");
	ok(h.attr_id == 0x0014 && h.attr_mod == 0x01020304, "attribute id and modifier");
	is_int(ias_mad_hdr_decode(mad, IAS_MAD_HDR_LEN - 1, &h), -EBADMSG, "23 bytes: too short");
	ok(h.tid == 0 && h.mgmt_class == 0, "a failed decode leaves nothing behind");
	is_int(ias_mad_hdr_decode(mad, IAS_MAD_HDR_LEN, &h), 0, "exactly the header: enough");
}

int main(void)
{
	test_tids();
	test_pend();
	test_hdr();
	return tap_done();
}
