/* Code shared by ias-sc-server and ias-sc-client (included by each; only
 * static functions): clocks, limits, the data pattern, the table that maps
 * work request ids back to connections, PSN pair bookkeeping, the options
 * both take, and the buffer and CQ chores around libias-sc. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "verbs_ext/ias_sc.h"

static __attribute__((unused)) uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static __attribute__((unused)) uint64_t now_ms(void)
{
	return now_ns() / 1000000ull;
}

/* As many descriptors as the hard limit allows: one socket per client. */
static __attribute__((unused)) void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static __attribute__((unused)) int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || end == s || *end || v > max || s[0] == '-')
		return -1;
	*out = v;
	return 0;
}

/* ---- the data pattern: message seq of a connection whose client started
 * at PSN token: seq u32 | token u32 | bytes derived from both. ----------- */

#define PAT_HDR 8

static __attribute__((unused)) uint8_t pat_byte(uint32_t token, uint32_t seq, size_t j)
{
	return (uint8_t)(token * 13u + seq * 31u + (uint32_t)j * 7u + (uint32_t)(j >> 8));
}

static __attribute__((unused)) void pattern_fill(uint8_t *b, size_t n, uint32_t token, uint32_t seq)
{
	size_t j;

	for (j = 0; j < n; j++)
		b[j] = pat_byte(token, seq, j);
	if (n >= PAT_HDR) {
		b[0] = (uint8_t)(seq >> 24);
		b[1] = (uint8_t)(seq >> 16);
		b[2] = (uint8_t)(seq >> 8);
		b[3] = (uint8_t)seq;
		b[4] = (uint8_t)(token >> 24);
		b[5] = (uint8_t)(token >> 16);
		b[6] = (uint8_t)(token >> 8);
		b[7] = (uint8_t)token;
	}
}

/* 0 when b[0..n) is exactly message seq of token at length want. */
static __attribute__((unused)) int pattern_check(const uint8_t *b, size_t n, size_t want, uint32_t token, uint32_t seq)
{
	size_t j;

	if (n != want || n < PAT_HDR)
		return -1;
	if (((uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3]) != seq)
		return -1;
	if (((uint32_t)b[4] << 24 | (uint32_t)b[5] << 16 | (uint32_t)b[6] << 8 | b[7]) != token)
		return -1;
	for (j = PAT_HDR; j < n; j++)
		if (b[j] != pat_byte(token, seq, j))
			return -1;
	return 0;
}

/* ---- id table: wr_id and epoll data = index << 32 | generation << 8 | slot.
 * A completion or event for a freed connection finds another generation
 * (or nothing) and is ignored. ---------------------------------------------- */

struct idtab {
	void **p;
	uint32_t *gen;
	uint32_t cap;
	uint32_t *freel;
	uint32_t nfree;
};

static __attribute__((unused)) int idtab_init(struct idtab *t, uint32_t cap)
{
	uint32_t i;

	t->p = calloc(cap, sizeof(*t->p));
	t->gen = calloc(cap, sizeof(*t->gen));
	t->freel = calloc(cap, sizeof(*t->freel));
	if (!t->p || !t->gen || !t->freel)
		return -ENOMEM;
	t->cap = cap;
	for (i = 0; i < cap; i++)
		t->freel[i] = cap - 1 - i;
	t->nfree = cap;
	return 0;
}

/* Returns the key (never 0) or 0 when full. */
static __attribute__((unused)) uint64_t idtab_add(struct idtab *t, void *p)
{
	uint32_t i;

	if (t->nfree == 0)
		return 0;
	i = t->freel[--t->nfree];
	t->p[i] = p;
	t->gen[i] = (t->gen[i] + 1) & 0xFFFFFF;
	if (t->gen[i] == 0)
		t->gen[i] = 1;
	return (uint64_t)i << 32 | (uint64_t)t->gen[i] << 8;
}

static void *idtab_get(const struct idtab *t, uint64_t key)
{
	uint32_t i = (uint32_t)(key >> 32);

	if (i >= t->cap || !t->p[i] || t->gen[i] != ((uint32_t)key >> 8 & 0xFFFFFF))
		return NULL;
	return t->p[i];
}

static __attribute__((unused)) void idtab_del(struct idtab *t, uint64_t key)
{
	uint32_t i = (uint32_t)(key >> 32);

	if (i < t->cap && t->p[i]) {
		t->p[i] = NULL;
		t->freel[t->nfree++] = i;
	}
}

/* ---- PSN pairs ----------------------------------------------------------- */

struct psnset {
	uint64_t *v;
	size_t n, cap;
};

static __attribute__((unused)) void psn_add(struct psnset *s, uint32_t a, uint32_t b)
{
	if (s->n == s->cap) {
		size_t nc = s->cap ? s->cap * 2 : 256;
		uint64_t *nv = realloc(s->v, nc * sizeof(*nv));

		if (!nv)
			return;
		s->v = nv;
		s->cap = nc;
	}
	s->v[s->n++] = (uint64_t)a << 24 | b;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Number of pairs that repeat an earlier one. */
static __attribute__((unused)) size_t psn_dupes(struct psnset *s)
{
	size_t i, d = 0;

	if (s->n < 2)
		return 0;
	qsort(s->v, s->n, sizeof(*s->v), cmp_u64);
	for (i = 1; i < s->n; i++)
		if (s->v[i] == s->v[i - 1])
			d++;
	return d;
}

static __attribute__((unused)) long rss_kib(void)
{
	char line[256];
	long v = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld", &v) == 1)
			break;
	fclose(f);
	return v;
}

/* ---- around libias-sc: what both tools do the same way -------------------- */

/* The options both tools take, with the same meaning: the device (-d,
 * --ib-port, --gid-index), --port, the TLS files (--cert, --key, --ca),
 * --no-resume, --qpn-pool, --no-register, and the data path's --msg-size,
 * --depth and --timeout. 1 taken, 0 not one of them, -1 a bad value. */
static int common_opt(int c, char *arg, struct ias_sc_config *cfg, const char **port,
		      unsigned long *msg_size, unsigned long *depth, unsigned long *timeout_ms)
{
	unsigned long v;

	switch (c) {
	case 'd': cfg->device = arg; return 1;
	case 'i':
		if (parse_uint(arg, 255, &v) || !v) return -1;
		cfg->port = (uint8_t)v;
		return 1;
	case 'g':
		if (parse_uint(arg, 255, &v)) return -1;
		cfg->gid_index = (int)v;
		return 1;
	case 'p': *port = arg; return 1;
	case 'C': cfg->cert = arg; return 1;
	case 'K': cfg->key = arg; return 1;
	case 'A': cfg->ca = arg; return 1;
	case 'N': cfg->no_resume = 1; return 1;
	case 'P':
		if (parse_uint(arg, 65536, &v)) return -1;
		cfg->qpn_pool = (int)v;
		return 1;
	case 'R': cfg->no_register = 1; return 1;
	case 's':
		return parse_uint(arg, 1 << 20, msg_size) || *msg_size < PAT_HDR ? -1 : 1;
	case 'D':
		return parse_uint(arg, 255, depth) || !*depth ? -1 : 1;
	case 'T':
		return parse_uint(arg, 3600000, timeout_ms) || !*timeout_ms ? -1 : 1;
	default:
		return 0;
	}
}

/* The connection's message buffer and its MR, released (release()). */
static void buf_free(uint8_t **buf, struct ibv_mr **mr)
{
	if (*mr)
		ibv_dereg_mr(*mr);
	free(*buf);
	*mr = NULL;
	*buf = NULL;
}

/* Take the completion channel's events and re-arm both CQs; the caller
 * then polls them. */
static void cq_rearm(struct ias_sc_ctx *ctx)
{
	struct ibv_comp_channel *ch = ias_sc_ctx_channel(ctx);
	struct ibv_cq *cq;
	void *cctx;

	while (ibv_get_cq_event(ch, &cq, &cctx) == 0) {
		ibv_ack_cq_events(cq, 1);
		ibv_req_notify_cq(cq, 0);
	}
}
