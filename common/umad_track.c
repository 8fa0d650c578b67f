/* See umad_track.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/cursor.h"
#include "common/umad_track.h"

void ias_tid_init(struct ias_tid_gen *g, uint32_t seed)
{
	g->last = seed;
}

uint32_t ias_tid_next(struct ias_tid_gen *g)
{
	if (++g->last == 0)
		g->last = 1;
	return g->last;
}

int ias_pend_init(struct ias_pend *p, size_t cap, uint32_t tid_seed)
{
	memset(p, 0, sizeof(*p));
	if (!cap)
		return -EINVAL;
	p->e = calloc(cap, sizeof(*p->e));
	if (!p->e)
		return -ENOMEM;
	p->cap = cap;
	ias_tid_init(&p->tids, tid_seed);
	return 0;
}

void ias_pend_free(struct ias_pend *p)
{
	free(p->e);
	memset(p, 0, sizeof(*p));
}

/* A TID no entry waits for (a table of < 2^32 entries always has one). */
static uint32_t fresh_tid(struct ias_pend *p)
{
	uint32_t tid;

	do
		tid = ias_tid_next(&p->tids);
	while (ias_pend_find(p, tid));
	return tid;
}

struct ias_pend_ent *ias_pend_add(struct ias_pend *p, uint32_t kind, uint64_t key,
				  int64_t deadline_ms)
{
	size_t i;

	if (p->n >= p->cap)
		return NULL;
	for (i = 0; i < p->cap; i++) {
		struct ias_pend_ent *e = &p->e[i];

		if (e->tid)
			continue;
		memset(e, 0, sizeof(*e));
		e->tid = fresh_tid(p);
		e->kind = kind;
		e->key = key;
		e->deadline_ms = deadline_ms;
		e->tries = 1;
		p->n++;
		return e;
	}
	return NULL;
}

uint32_t ias_pend_retry(struct ias_pend *p, struct ias_pend_ent *e, int64_t deadline_ms)
{
	e->tid = 0;
	e->tid = fresh_tid(p);
	e->nonce = 0;
	e->tries++;
	e->deadline_ms = deadline_ms;
	return e->tid;
}

struct ias_pend_ent *ias_pend_find(struct ias_pend *p, uint32_t tid)
{
	size_t i;

	if (!tid)
		return NULL;
	for (i = 0; i < p->cap; i++)
		if (p->e[i].tid == tid)
			return &p->e[i];
	return NULL;
}

void ias_pend_del(struct ias_pend *p, struct ias_pend_ent *e)
{
	if (!e || !e->tid)
		return;
	memset(e, 0, sizeof(*e));
	p->n--;
}

struct ias_pend_ent *ias_pend_expired(struct ias_pend *p, int64_t now_ms)
{
	size_t i;

	for (i = 0; p->n && i < p->cap; i++)
		if (p->e[i].tid && p->e[i].deadline_ms <= now_ms)
			return &p->e[i];
	return NULL;
}

int64_t ias_pend_next_deadline(const struct ias_pend *p)
{
	int64_t d = INT64_MAX;
	size_t i;

	for (i = 0; p->n && i < p->cap; i++)
		if (p->e[i].tid && p->e[i].deadline_ms < d)
			d = p->e[i].deadline_ms;
	return d;
}

size_t ias_pend_count(const struct ias_pend *p, uint32_t kind)
{
	size_t i, k = 0;

	if (kind == IAS_PEND_ANY)
		return p->n;
	for (i = 0; i < p->cap; i++)
		k += p->e[i].tid && p->e[i].kind == kind;
	return k;
}

int ias_mad_hdr_decode(const uint8_t *mad, size_t len, struct ias_mad_hdr *h)
{
	struct ias_rd r;

	memset(h, 0, sizeof(*h));
	ias_rd_init(&r, mad, len);
	if (ias_rd_u8(&r, &h->base_version) || ias_rd_u8(&r, &h->mgmt_class) ||
	    ias_rd_u8(&r, &h->class_version) || ias_rd_u8(&r, &h->method) ||
	    ias_rd_u16(&r, &h->status) || ias_rd_u16(&r, &h->class_specific) ||
	    ias_rd_u64(&r, &h->tid) || ias_rd_u16(&r, &h->attr_id) || ias_rd_skip(&r, 2) ||
	    ias_rd_u32(&r, &h->attr_mod)) {
		memset(h, 0, sizeof(*h));
		return -EBADMSG;
	}
	return 0;
}
