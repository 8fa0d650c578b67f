/* Fuzz harness for the control protocol parser.
 *
 * Invariants checked on every input:
 *  - ias_ctl_validate never crashes and returns 0 or an IAS_CTL_E_* code;
 *  - anything it accepts can be walked completely: every known attribute's
 *    getter succeeds and every nest opens;
 *  - re-encoding the walked attributes with the builder reproduces the input
 *    byte for byte, and the re-encoded message validates too. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/proto.h"

static uint8_t out[IAS_CTL_MAX_MSG];

static void walk(struct ias_rd *r, struct ias_ctl_msg *m, int depth)
{
	struct ias_ctl_attr a;
	int rc;

	if (depth > IAS_CTL_MAX_DEPTH)
		abort();
	while ((rc = ias_ctl_next(r, &a)) == 1) {
		char s[IAS_CTL_STR_MAX + 1];
		uint8_t u8, gid[16];
		uint32_t u32;
		uint64_t u64;
		struct ias_rd inner;

		switch (ias_ctl_attr_wire(a.type)) {
		case IAS_CTL_W_U8:
			if (ias_ctl_get_u8(&a, &u8))
				abort();
			ias_ctl_put_u8(m, a.type, u8);
			break;
		case IAS_CTL_W_U32:
			if (ias_ctl_get_u32(&a, &u32))
				abort();
			ias_ctl_put_u32(m, a.type, u32);
			break;
		case IAS_CTL_W_U64:
			if (ias_ctl_get_u64(&a, &u64))
				abort();
			ias_ctl_put_u64(m, a.type, u64);
			break;
		case IAS_CTL_W_STR:
			if (ias_ctl_get_str(&a, s, sizeof(s)) || strlen(s) != a.len)
				abort();
			ias_ctl_put_str(m, a.type, s);
			break;
		case IAS_CTL_W_GID:
			if (ias_ctl_get_bytes(&a, gid, sizeof(gid)))
				abort();
			ias_ctl_put_bytes(m, a.type, gid, sizeof(gid));
			break;
		case IAS_CTL_W_NESTED:
			ias_ctl_attr_nested(&a, &inner);
			ias_ctl_nest_begin(m, a.type);
			walk(&inner, m, depth + 1);
			ias_ctl_nest_end(m);
			break;
		default: /* unknown type: only accepted in replies/events, opaque */
			ias_ctl_put_bytes(m, a.type, a.val, a.len);
			break;
		}
	}
	if (rc != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ias_ctl_hdr h;
	struct ias_ctl_msg m;
	struct ias_rd r;
	int rc = ias_ctl_validate(data, size);

	if (rc != 0) {
		if (rc < IAS_CTL_E_FIRST || rc > IAS_CTL_E_LAST)
			abort();
		return 0;
	}
	if (ias_ctl_parse_hdr(data, size, &h, &r) != 0)
		abort();
	ias_ctl_msg_init(&m, out, sizeof(out), h.kind, h.op, h.seq, h.status);
	walk(&r, &m, 0);
	if (ias_ctl_msg_finish(&m) != 0 || m.len != size || memcmp(out, data, size) != 0)
		abort();
	if (ias_ctl_validate(out, m.len) != 0)
		abort();
	return 0;
}
