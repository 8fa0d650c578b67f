/* Bounds-checked big-endian cursor; see cursor.h for the contract. */
#include <errno.h>
#include <string.h>

#include "common/cursor.h"

static int rd_take(struct ias_rd *r, size_t n, const uint8_t **at)
{
	if (r->off > r->len || n > r->len - r->off)
		return -EBADMSG;
	*at = r->p + r->off;
	r->off += n;
	return 0;
}

int ias_rd_u8(struct ias_rd *r, uint8_t *v)
{
	const uint8_t *p;

	*v = 0;
	if (rd_take(r, 1, &p))
		return -EBADMSG;
	*v = p[0];
	return 0;
}

int ias_rd_u16(struct ias_rd *r, uint16_t *v)
{
	const uint8_t *p;

	*v = 0;
	if (rd_take(r, 2, &p))
		return -EBADMSG;
	*v = ias_get_be16(p);
	return 0;
}

int ias_rd_u24(struct ias_rd *r, uint32_t *v)
{
	const uint8_t *p;

	*v = 0;
	if (rd_take(r, 3, &p))
		return -EBADMSG;
	*v = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
	return 0;
}

int ias_rd_u32(struct ias_rd *r, uint32_t *v)
{
	const uint8_t *p;

	*v = 0;
	if (rd_take(r, 4, &p))
		return -EBADMSG;
	*v = ias_get_be32(p);
	return 0;
}

int ias_rd_u64(struct ias_rd *r, uint64_t *v)
{
	const uint8_t *p;

	*v = 0;
	if (rd_take(r, 8, &p))
		return -EBADMSG;
	*v = ias_get_be64(p);
	return 0;
}

int ias_rd_bytes(struct ias_rd *r, void *out, size_t n)
{
	const uint8_t *p;

	memset(out, 0, n);
	if (rd_take(r, n, &p))
		return -EBADMSG;
	memcpy(out, p, n);
	return 0;
}

int ias_rd_ptr(struct ias_rd *r, const uint8_t **out, size_t n)
{
	*out = NULL;
	return rd_take(r, n, out);
}

int ias_rd_zero(struct ias_rd *r, size_t n)
{
	const uint8_t *p;
	size_t i;

	if (r->off > r->len || n > r->len - r->off)
		return -EBADMSG;
	p = r->p + r->off;
	for (i = 0; i < n; i++)
		if (p[i])
			return -EBADMSG;
	r->off += n;
	return 0;
}

int ias_rd_skip(struct ias_rd *r, size_t n)
{
	const uint8_t *p;

	return rd_take(r, n, &p);
}

int ias_rd_sub(struct ias_rd *r, struct ias_rd *sub, size_t n)
{
	const uint8_t *p;

	ias_rd_init(sub, NULL, 0);
	if (rd_take(r, n, &p))
		return -EBADMSG;
	ias_rd_init(sub, p, n);
	return 0;
}

static int wr_take(struct ias_wr *w, size_t n, uint8_t **at)
{
	if (w->off > w->cap || n > w->cap - w->off)
		return -ENOSPC;
	*at = w->p + w->off;
	w->off += n;
	return 0;
}

int ias_wr_u8(struct ias_wr *w, uint8_t v)
{
	uint8_t *p;

	if (wr_take(w, 1, &p))
		return -ENOSPC;
	p[0] = v;
	return 0;
}

int ias_wr_u16(struct ias_wr *w, uint16_t v)
{
	uint8_t *p;

	if (wr_take(w, 2, &p))
		return -ENOSPC;
	ias_put_be16(p, v);
	return 0;
}

int ias_wr_u24(struct ias_wr *w, uint32_t v)
{
	uint8_t *p;

	if (v > 0xffffff || wr_take(w, 3, &p))
		return -ENOSPC;
	p[0] = (uint8_t)(v >> 16);
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)v;
	return 0;
}

int ias_wr_u32(struct ias_wr *w, uint32_t v)
{
	uint8_t *p;

	if (wr_take(w, 4, &p))
		return -ENOSPC;
	ias_put_be32(p, v);
	return 0;
}

int ias_wr_u64(struct ias_wr *w, uint64_t v)
{
	uint8_t *p;

	if (wr_take(w, 8, &p))
		return -ENOSPC;
	ias_put_be64(p, v);
	return 0;
}

int ias_wr_bytes(struct ias_wr *w, const void *src, size_t n)
{
	uint8_t *p;

	if (wr_take(w, n, &p))
		return -ENOSPC;
	if (n)
		memcpy(p, src, n);
	return 0;
}

int ias_wr_zero(struct ias_wr *w, size_t n)
{
	uint8_t *p;

	if (wr_take(w, n, &p))
		return -ENOSPC;
	memset(p, 0, n);
	return 0;
}
