/* Fuzz harness for ias_rdmanl_parse (kernel rdma netlink RES_QP_GET dumps).
 *
 * Invariants checked on every input:
 *  - the result is MORE, DONE, STOPPED or a negative errno;
 *  - every reported QP is sane: NUL-terminated names, flags 0/1, never both a
 *    pid and a kernel name;
 *  - decode -> encode (ias_rdmanl_put_qp) -> decode gives the same QPs;
 *  - the same bytes at an unaligned address decode to the same result;
 *  - a callback that stops after the first QP gets STOPPED and one call;
 *  - the same bytes read as a device list (ias_rdmanl_parse_devs): a valid
 *    result, NUL-terminated names, the same at an odd address, and
 *    decode -> encode (ias_rdmanl_put_dev) -> decode gives the same devices. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sema/rdmanl.h"

#define MAXQ 512

struct got {
	struct ias_kqp q[MAXQ];
	int n;
	int stop_first;
};

static int collect(const struct ias_kqp *qp, void *arg)
{
	struct got *g = arg;

	if (g->n < MAXQ)
		g->q[g->n] = *qp;
	g->n++;
	return g->stop_first ? 1 : 0;
}

static int same(const struct ias_kqp *a, const struct ias_kqp *b)
{
	return a->dev_index == b->dev_index && strcmp(a->dev_name, b->dev_name) == 0 &&
	       a->port == b->port && a->lqpn == b->lqpn && a->has_rqpn == b->has_rqpn &&
	       (!a->has_rqpn || a->rqpn == b->rqpn) && a->type == b->type &&
	       a->state == b->state && a->has_pid == b->has_pid &&
	       (!a->has_pid || a->pid == b->pid) && strcmp(a->kern_name, b->kern_name) == 0 &&
	       a->sq_psn == b->sq_psn && a->has_rq_psn == b->has_rq_psn &&
	       (!a->has_rq_psn || a->rq_psn == b->rq_psn) && a->pdn == b->pdn;
}

static void sane(const struct ias_kqp *q)
{
	if (!memchr(q->dev_name, 0, sizeof(q->dev_name)) ||
	    !memchr(q->kern_name, 0, sizeof(q->kern_name)))
		abort();
	if ((q->has_rqpn & ~1) || (q->has_pid & ~1) || (q->has_rq_psn & ~1))
		abort();
	if (q->has_pid && q->kern_name[0])
		abort();
	if (!q->has_rqpn && q->rqpn) abort();
	if (!q->has_pid && q->pid) abort();
	if (!q->has_rq_psn && q->rq_psn) abort();
}

struct gotd {
	struct ias_kdev d[MAXQ];
	int n;
};

static int collect_dev(const struct ias_kdev *dev, void *arg)
{
	struct gotd *g = arg;

	if (!memchr(dev->name, 0, sizeof(dev->name)))
		abort();
	if (g->n < MAXQ)
		g->d[g->n] = *dev;
	g->n++;
	return 0;
}

static void devs(const uint8_t *data, size_t size)
{
	static struct gotd d1, d2, d3;
	static union { char c[MAXQ * 128]; uint32_t a; } enc;
	uint8_t *shifted;
	size_t len = 0;
	int r1, r2, r3, i;

	d1.n = 0;
	r1 = ias_rdmanl_parse_devs(data, size, collect_dev, &d1);
	if (r1 != IAS_RDMANL_MORE && r1 != IAS_RDMANL_DONE && r1 >= 0)
		abort();
	shifted = malloc(size + 1);
	if (!shifted)
		return;
	memcpy(shifted + 1, data, size);
	d2.n = 0;
	r2 = ias_rdmanl_parse_devs(shifted + 1, size, collect_dev, &d2);
	free(shifted);
	if (r2 != r1 || d2.n != d1.n)
		abort();
	if (d1.n > MAXQ)
		return;
	for (i = 0; i < d1.n; i++)
		if (ias_rdmanl_put_dev(enc.c, sizeof(enc.c), &len, 1, &d1.d[i]) != 0)
			abort();
	if (ias_rdmanl_put_done(enc.c, sizeof(enc.c), &len, 1) != 0)
		abort();
	d3.n = 0;
	r3 = ias_rdmanl_parse_devs(enc.c, len, collect_dev, &d3);
	if (r3 != IAS_RDMANL_DONE || d3.n != d1.n)
		abort();
	for (i = 0; i < d1.n; i++)
		if (d1.d[i].index != d3.d[i].index || strcmp(d1.d[i].name, d3.d[i].name) != 0)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct got g1, g2, g3;
	static union { char c[MAXQ * 256]; uint32_t a; } enc;
	uint8_t *shifted;
	size_t len = 0;
	int r1, r2, r3, i;

	devs(data, size);

	g1.n = 0;
	r1 = ias_rdmanl_parse(data, size, collect, &g1);
	if (r1 != IAS_RDMANL_MORE && r1 != IAS_RDMANL_DONE && r1 >= 0)
		abort();
	for (i = 0; i < g1.n && i < MAXQ; i++)
		sane(&g1.q[i]);

	/* Same bytes, odd address. */
	shifted = malloc(size + 1);
	if (!shifted)
		return 0;
	memcpy(shifted + 1, data, size);
	g2.n = 0;
	r2 = ias_rdmanl_parse(shifted + 1, size, collect, &g2);
	free(shifted);
	if (r2 != r1 || g2.n != g1.n)
		abort();

	/* Stop after the first QP. */
	if (g1.n > 0) {
		g3.n = 0;
		g3.stop_first = 1;
		r3 = ias_rdmanl_parse(data, size, collect, &g3);
		g3.stop_first = 0;
		if (r3 != IAS_RDMANL_STOPPED || g3.n != 1 || !same(&g3.q[0], &g1.q[0]))
			abort();
	}

	/* Round trip of what was decoded. */
	if (g1.n > MAXQ)
		return 0;
	for (i = 0; i < g1.n; i++)
		if (ias_rdmanl_put_qp(enc.c, sizeof(enc.c), &len, 1, &g1.q[i]) != 0)
			abort();
	if (ias_rdmanl_put_done(enc.c, sizeof(enc.c), &len, 1) != 0)
		abort();
	g3.n = 0;
	r3 = ias_rdmanl_parse(enc.c, len, collect, &g3);
	if (r3 != IAS_RDMANL_DONE || g3.n != g1.n)
		abort();
	for (i = 0; i < g1.n; i++)
		if (!same(&g1.q[i], &g3.q[i]))
			abort();
	return 0;
}
