/* Unit tests for common/cursor. */
#include <errno.h>

#include "common/cursor.h"
#include "tests/unit/tap.h"

int main(void)
{
	uint8_t buf[16] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
			    0x09, 0x0a, 0x0b, 0x00, 0x00, 0x00, 0xff, 0xee };
	uint8_t out[16];
	struct ias_rd r, sub;
	struct ias_wr w;
	uint64_t v64;
	uint32_t v32;
	uint16_t v16;
	uint8_t v8;

	ias_rd_init(&r, buf, sizeof(buf));
	is_int(ias_rd_u16(&r, &v16), 0, "u16 read");
	is_int(v16, 0x0102, "u16 is big-endian");
	is_int(ias_rd_u24(&r, &v32), 0, "u24 read");
	is_int(v32, 0x030405, "u24 value");
	is_int(ias_rd_u32(&r, &v32), 0, "u32 read");
	is_int(v32, 0x06070809, "u32 value");
	is_int(ias_rd_u8(&r, &v8), 0, "u8 read");
	is_int(ias_rd_zero(&r, 1), -EBADMSG, "non-zero reserved byte rejected");
	is_int(r.off, 10, "failed zero check leaves the cursor");
	is_int(ias_rd_skip(&r, 1), 0, "skip one");
	is_int(ias_rd_zero(&r, 3), 0, "zero bytes accepted");
	v64 = 42;
	is_int(ias_rd_u64(&r, &v64), -EBADMSG, "u64 past the end rejected");
	is_int(v64, 0, "output zeroed on failure");
	is_int(r.off, 14, "failed read leaves the cursor");
	is_int(ias_rd_sub(&r, &sub, 2), 0, "sub-reader of the last two bytes");
	is_int(ias_rd_left(&r), 0, "parent consumed");
	is_int(ias_rd_u16(&sub, &v16), 0, "read through the sub-reader");
	is_int(v16, 0xffee, "sub-reader value");
	is_int(ias_rd_u8(&sub, &v8), -EBADMSG, "sub-reader is bounded");

	ias_wr_init(&w, out, 7);
	is_int(ias_wr_u32(&w, 0xdeadbeef), 0, "u32 write");
	is_int(ias_wr_u24(&w, 0x1000000), -ENOSPC, "u24 out of range refused");
	is_int(ias_wr_u24(&w, 0xabcdef), 0, "u24 write");
	is_int(ias_wr_u8(&w, 1), -ENOSPC, "write past capacity refused");
	is_int(w.off, 7, "failed write leaves the cursor");
	is_int(ias_get_be32(out), 0xdeadbeef, "written big-endian");
	is_int(out[4] << 16 | out[5] << 8 | out[6], 0xabcdef, "u24 bytes");
	return tap_done();
}
