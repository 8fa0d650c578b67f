/* See sa.h. */
#include <errno.h>
#include <string.h>

#include "common/cursor.h"
#include "sem/sa.h"

_Static_assert(SA_OFF_DATA - SA_OFF_SM_KEY == SA_HDR_LEN, "SA header is 20 bytes");
_Static_assert(SA_NR_DESC + 64 == SA_NR_SIZE, "NodeRecord is 108 bytes");

void sa_build_node_query(uint8_t mad[256], uint8_t method, uint16_t lid, uint64_t tid)
{
	memset(mad, 0, 256);
	mad[0] = 1;			/* base version */
	mad[1] = SA_CLASS;
	mad[2] = SA_CLASS_VERSION;
	mad[3] = method;
	ias_put_be64(mad + 8, tid);
	ias_put_be16(mad + 16, SA_ATTR_NODE_RECORD);
	mad[SA_OFF_RMPP_VERSION] = method == SA_METHOD_GET_TABLE ? 1 : 0;
	if (method == SA_METHOD_GET) {
		ias_put_be64(mad + SA_OFF_COMP_MASK, 1);	/* component 0: LID */
		ias_put_be16(mad + SA_OFF_DATA + SA_NR_LID, lid);
	}
}

/* The cursor reads forward only: position it at off from the start. */
static int seek(struct ias_rd *r, const uint8_t *buf, size_t len, size_t off)
{
	ias_rd_init(r, buf, len);
	return ias_rd_skip(r, off);
}

static void copy_desc(char *out, size_t cap, const uint8_t *p, size_t n)
{
	size_t i, k = 0;

	for (i = 0; i < n && p[i] && k + 1 < cap; i++)
		out[k++] = (p[i] >= 0x20 && p[i] < 0x7f) ? (char)p[i] : '?';
	out[k] = '\0';
}

int sa_parse_node_records(const uint8_t *buf, size_t len, struct sem_node_rec *out,
			  size_t max, size_t *n, uint16_t *status, int *truncated)
{
	struct ias_rd r;
	uint8_t base, cls, method, flags;
	uint16_t st, attr, stride8;
	uint32_t paylen;
	size_t data, stride, off;

	*n = 0;
	*status = 0;
	*truncated = 0;
	ias_rd_init(&r, buf, len);
	if (ias_rd_u8(&r, &base) || ias_rd_u8(&r, &cls) || ias_rd_skip(&r, 1) ||
	    ias_rd_u8(&r, &method) || ias_rd_u16(&r, &st))
		return -EBADMSG;
	if (base != 1 || cls != SA_CLASS ||
	    (method != SA_METHOD_GET_RESP && method != SA_METHOD_GET_TABLE_RESP))
		return -EBADMSG;
	if (seek(&r, buf, len, 16) || ias_rd_u16(&r, &attr) || attr != SA_ATTR_NODE_RECORD)
		return -EBADMSG;
	*status = st;
	if (st)
		return 0;
	if (len < SA_OFF_DATA || seek(&r, buf, len, SA_OFF_RMPP_FLAGS) || ias_rd_u8(&r, &flags) ||
	    seek(&r, buf, len, SA_OFF_RMPP_PAYLEN) || ias_rd_u32(&r, &paylen) ||
	    seek(&r, buf, len, SA_OFF_ATTR_OFFSET) || ias_rd_u16(&r, &stride8))
		return -EBADMSG;
	data = len - SA_OFF_DATA;
	if (flags & SA_RMPP_ACTIVE) {
		if (!(flags & SA_RMPP_LAST) && len <= 256)
			*truncated = 1;
		if (paylen >= SA_HDR_LEN && paylen - SA_HDR_LEN < data)
			data = paylen - SA_HDR_LEN;
	}
	stride = (size_t)stride8 * 8;
	if (method == SA_METHOD_GET_RESP) {
		stride = SA_NR_SIZE;
		data = data < SA_NR_SIZE ? 0 : SA_NR_SIZE;
	}
	if (stride < SA_NR_SIZE)
		return stride8 == 0 && data == 0 ? 0 : -EBADMSG;
	for (off = 0; off + SA_NR_SIZE <= data && *n < max; off += stride) {
		struct sem_node_rec *rec = &out[*n];
		const uint8_t *p;
		uint16_t lid;
		uint8_t type;

		memset(rec, 0, sizeof(*rec));
		if (seek(&r, buf, len, SA_OFF_DATA + off) || ias_rd_u16(&r, &lid) ||
		    seek(&r, buf, len, SA_OFF_DATA + off + SA_NR_NODE_TYPE) || ias_rd_u8(&r, &type) ||
		    seek(&r, buf, len, SA_OFF_DATA + off + SA_NR_NODE_GUID) ||
		    ias_rd_u64(&r, &rec->guid) || ias_rd_u64(&r, &rec->port_guid) ||
		    seek(&r, buf, len, SA_OFF_DATA + off + SA_NR_DESC) || ias_rd_ptr(&r, &p, 64))
			return -EBADMSG;
		if (!lid || !rec->guid)
			continue;
		rec->lid = lid;
		rec->node_type = type;
		copy_desc(rec->name, sizeof(rec->name), p, 64);
		(*n)++;
	}
	return 0;
}
