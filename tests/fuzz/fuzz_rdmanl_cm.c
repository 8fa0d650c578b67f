/* Fuzz harness for the cm_id decoder (ias_rdmanl_parse_cm: RES_CM_ID_GET
 * dumps, addresses as struct __kernel_sockaddr_storage) and the neighbour
 * decoder (ias_neigh_parse: RTM_NEWNEIGH) of sema/rdmanl_cm.c.
 *
 * Invariants checked on every input:
 *  - results are MORE, DONE, STOPPED or a negative errno;
 *  - every cm_id is sane: NUL-terminated names, flags 0/1, never both a
 *    PID and a kernel name, nothing set behind a flag that is 0;
 *  - the same bytes at an odd address give the same result and entries;
 *  - a callback that stops after the first entry gets STOPPED and one call;
 *  - decode -> encode (ias_rdmanl_put_cm / ias_neigh_put) -> decode gives
 *    the same entries;
 *  - each decoded destination, with the decoded neighbours, gives a GID or
 *    none without fault, for every link type. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sema/rdmanl.h"
#include "sema/rdmanl_cm.h"

#define MAXE 256

struct got {
	struct ias_kcm c[MAXE];
	int n;
	int stop_first;
};

struct gotn {
	struct ias_kneigh nb[MAXE];
	int n;
};

static int collect(const struct ias_kcm *c, void *arg)
{
	struct got *g = arg;

	if (g->n < MAXE)
		g->c[g->n] = *c;
	g->n++;
	return g->stop_first ? 1 : 0;
}

static int collect_nb(const struct ias_kneigh *n, void *arg)
{
	struct gotn *g = arg;

	if (n->lladdr_len > sizeof(n->lladdr) || (n->family != 2 && n->family != 10))
		abort();
	if (g->n < MAXE)
		g->nb[g->n] = *n;
	g->n++;
	return 0;
}

static int same_addr(const struct ias_kcm_addr *a, const struct ias_kcm_addr *b)
{
	return a->family == b->family && a->port == b->port && memcmp(a->addr, b->addr, 16) == 0;
}

static int same(const struct ias_kcm *a, const struct ias_kcm *b)
{
	return a->dev_index == b->dev_index && strcmp(a->dev_name, b->dev_name) == 0 &&
	       a->port == b->port && a->has_lqpn == b->has_lqpn && a->lqpn == b->lqpn &&
	       a->qp_type == b->qp_type && a->ps == b->ps && a->state == b->state &&
	       a->has_pid == b->has_pid && a->pid == b->pid &&
	       strcmp(a->kern_name, b->kern_name) == 0 && a->has_cm_idn == b->has_cm_idn &&
	       a->cm_idn == b->cm_idn && same_addr(&a->src, &b->src) && same_addr(&a->dst, &b->dst);
}

static void sane(const struct ias_kcm *c)
{
	if (!memchr(c->dev_name, 0, sizeof(c->dev_name)) ||
	    !memchr(c->kern_name, 0, sizeof(c->kern_name)))
		abort();
	if ((c->has_lqpn & ~1) || (c->has_pid & ~1) || (c->has_cm_idn & ~1))
		abort();
	if ((c->has_pid && c->kern_name[0]) || (!c->has_pid && c->pid) ||
	    (!c->has_lqpn && (c->lqpn || c->qp_type)) || (!c->has_cm_idn && c->cm_idn))
		abort();
}

static int same_nb(const struct ias_kneigh *a, const struct ias_kneigh *b)
{
	return a->ifindex == b->ifindex && a->family == b->family && a->state == b->state &&
	       memcmp(a->addr, b->addr, sizeof(a->addr)) == 0 && a->lladdr_len == b->lladdr_len &&
	       memcmp(a->lladdr, b->lladdr, a->lladdr_len) == 0;
}

static void neighbours(const uint8_t *data, size_t size, struct gotn *n1)
{
	static struct gotn n2;
	static union { char c[MAXE * 96]; uint32_t a; } enc;
	uint8_t *shifted;
	size_t len = 0;
	int r1, r2, i;

	n1->n = 0;
	r1 = ias_neigh_parse(data, size, collect_nb, n1);
	if (r1 != IAS_RDMANL_MORE && r1 != IAS_RDMANL_DONE && r1 >= 0)
		abort();
	shifted = malloc(size + 1);
	if (!shifted)
		return;
	memcpy(shifted + 1, data, size);
	n2.n = 0;
	r2 = ias_neigh_parse(shifted + 1, size, collect_nb, &n2);
	free(shifted);
	if (r2 != r1 || n2.n != n1->n)
		abort();
	if (n1->n > MAXE)
		return;
	for (i = 0; i < n1->n; i++)
		if (ias_neigh_put(enc.c, sizeof(enc.c), &len, 1, &n1->nb[i]) != 0)
			abort();
	if (ias_rdmanl_put_done(enc.c, sizeof(enc.c), &len, 1) != 0)
		abort();
	n2.n = 0;
	if (ias_neigh_parse(enc.c, len, collect_nb, &n2) != IAS_RDMANL_DONE || n2.n != n1->n)
		abort();
	for (i = 0; i < n1->n; i++)
		if (!same_nb(&n1->nb[i], &n2.nb[i]))
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct got g1, g2, g3;
	static struct gotn nb;
	static union { char c[MAXE * 512]; uint32_t a; } enc;
	uint8_t *shifted, gid[16];
	size_t len = 0;
	int r1, r2, r3, i, link;

	neighbours(data, size, &nb);

	g1.n = 0;
	r1 = ias_rdmanl_parse_cm(data, size, collect, &g1);
	if (r1 != IAS_RDMANL_MORE && r1 != IAS_RDMANL_DONE && r1 >= 0)
		abort();
	for (i = 0; i < g1.n && i < MAXE; i++) {
		sane(&g1.c[i]);
		for (link = IAS_LINK_UNKNOWN; link <= IAS_LINK_ETH; link++)
			ias_kcm_remote_gid(&g1.c[i].dst, (enum ias_link)link, nb.nb,
					   nb.n < MAXE ? (size_t)nb.n : MAXE, gid);
	}

	shifted = malloc(size + 1);
	if (!shifted)
		return 0;
	memcpy(shifted + 1, data, size);
	g2.n = 0;
	r2 = ias_rdmanl_parse_cm(shifted + 1, size, collect, &g2);
	free(shifted);
	if (r2 != r1 || g2.n != g1.n)
		abort();

	if (g1.n > 0) {
		g3.n = 0;
		g3.stop_first = 1;
		r3 = ias_rdmanl_parse_cm(data, size, collect, &g3);
		g3.stop_first = 0;
		if (r3 != IAS_RDMANL_STOPPED || g3.n != 1 || !same(&g3.c[0], &g1.c[0]))
			abort();
	}

	if (g1.n > MAXE)
		return 0;
	for (i = 0; i < g1.n; i++)
		if (ias_rdmanl_put_cm(enc.c, sizeof(enc.c), &len, 1, &g1.c[i]) != 0)
			abort();
	if (ias_rdmanl_put_done(enc.c, sizeof(enc.c), &len, 1) != 0)
		abort();
	g3.n = 0;
	r3 = ias_rdmanl_parse_cm(enc.c, len, collect, &g3);
	if (r3 != IAS_RDMANL_DONE || g3.n != g1.n)
		abort();
	for (i = 0; i < g1.n; i++)
		if (!same(&g1.c[i], &g3.c[i]))
			abort();
	return 0;
}
