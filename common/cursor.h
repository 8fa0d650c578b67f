/* Bounds-checked big-endian cursor for every decoder of outside input.
 *
 * Readers zero their output before checking bounds, never read past the end,
 * and return 0 or -EBADMSG. Writers return 0 or -ENOSPC and never write past
 * the capacity. A failed call leaves the cursor where it was. No struct is
 * ever cast over received bytes: fields are read one by one through here. */
#ifndef IAS_COMMON_CURSOR_H
#define IAS_COMMON_CURSOR_H

#include <stddef.h>
#include <stdint.h>

struct ias_rd {
	const uint8_t *p;
	size_t len;
	size_t off;
};

struct ias_wr {
	uint8_t *p;
	size_t cap;
	size_t off;
};

static inline void ias_rd_init(struct ias_rd *r, const void *p, size_t len)
{
	r->p = p;
	r->len = len;
	r->off = 0;
}

static inline size_t ias_rd_left(const struct ias_rd *r)
{
	return r->len - r->off;
}

static inline void ias_wr_init(struct ias_wr *w, void *p, size_t cap)
{
	w->p = p;
	w->cap = cap;
	w->off = 0;
}

int ias_rd_u8(struct ias_rd *r, uint8_t *v);
int ias_rd_u16(struct ias_rd *r, uint16_t *v);
int ias_rd_u24(struct ias_rd *r, uint32_t *v);
int ias_rd_u32(struct ias_rd *r, uint32_t *v);
int ias_rd_u64(struct ias_rd *r, uint64_t *v);
/* Copy n bytes out. */
int ias_rd_bytes(struct ias_rd *r, void *out, size_t n);
/* Borrow a pointer to the next n bytes and advance. */
int ias_rd_ptr(struct ias_rd *r, const uint8_t **out, size_t n);
/* Advance over n bytes that must all be zero (reserved fields). */
int ias_rd_zero(struct ias_rd *r, size_t n);
/* Advance over n bytes whatever they hold. */
int ias_rd_skip(struct ias_rd *r, size_t n);
/* Split off the next n bytes as a sub-reader and advance past them. */
int ias_rd_sub(struct ias_rd *r, struct ias_rd *sub, size_t n);

int ias_wr_u8(struct ias_wr *w, uint8_t v);
int ias_wr_u16(struct ias_wr *w, uint16_t v);
int ias_wr_u24(struct ias_wr *w, uint32_t v);
int ias_wr_u32(struct ias_wr *w, uint32_t v);
int ias_wr_u64(struct ias_wr *w, uint64_t v);
int ias_wr_bytes(struct ias_wr *w, const void *src, size_t n);
int ias_wr_zero(struct ias_wr *w, size_t n);

/* Big-endian loads/stores at a known-valid position (used by writers that
 * patch a length after the fact, and by tests). */
static inline uint16_t ias_get_be16(const uint8_t *p)
{
	return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static inline uint32_t ias_get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t ias_get_be64(const uint8_t *p)
{
	return (uint64_t)ias_get_be32(p) << 32 | ias_get_be32(p + 4);
}

static inline void ias_put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void ias_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline void ias_put_be64(uint8_t *p, uint64_t v)
{
	ias_put_be32(p, (uint32_t)(v >> 32));
	ias_put_be32(p + 4, (uint32_t)v);
}

#endif
