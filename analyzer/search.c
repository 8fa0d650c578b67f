/* Conspirator search over a snapshot; see search.h and ias-analyzer(8).
 *
 * The LCA rule ("every process that is the LCA of some pair of reported
 * processes") is computed without pairwise work. Walk up from each reported
 * process, marking nodes, and stop at the first node already marked. Count at
 * every node the "events" reaching it: one if it is itself reported, plus one
 * per marked child (each child is marked once, so it arrives once). A node
 * is the LCA of some pair exactly when it has two events: two marked children
 * hold reported processes in different subtrees, or the node is reported and
 * a marked child holds another one below it. Every node is marked at most
 * once, so a round costs O(number of marked nodes) <= O(n). */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/search.h"
#include "analyzer/snapshot-int.h"

enum { F_EXCL = 1, F_SEED = 2, F_OUT = 4 };

struct vec32 {
	int32_t *v;
	size_t n, cap;
};

static int vec_push(struct vec32 *v, int32_t x)
{
	if (v->n == v->cap) {
		size_t ncap = v->cap ? v->cap * 2 : 64;
		int32_t *nv = realloc(v->v, ncap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		v->v = nv;
		v->cap = ncap;
	}
	v->v[v->n++] = x;
	return 0;
}

struct search {
	const struct ias_snapshot *s;
	const struct snap_proc *p;
	uint8_t *flag;
	struct ias_search_result *res;
	size_t cap;
	int32_t *seeds;		/* snapshot indices, ascending PID */
	size_t nseeds;
	/* LCA walk state, indexed by snapshot index. */
	uint32_t *first;	/* seed index + 1 of the first event; 0 = unmarked */
	uint32_t *second;	/* seed index + 1 of the second event */
	uint8_t *events;	/* 0, 1 or 2 (saturated) */
	struct vec32 marked;
	/* Induced-forest parent memo for the selinux level: 0 unknown, 1 none,
	 * else index + 2. */
	uint32_t *memo;
	struct vec32 memo_set;
	uint32_t ctx;		/* the context of the current selinux round */
	struct vec32 stack;
};

__attribute__((format(printf, 6, 7)))
static int add(struct search *st, int32_t i, enum ias_reason_kind kind, pid_t a, pid_t b,
	       const char *fmt, ...)
{
	struct ias_search_result *r = st->res;
	struct ias_conspirator *c;
	va_list ap;
	int n;

	if (st->flag[i] & (F_EXCL | F_OUT) || st->p[i].pid <= 1)
		return 0;
	if (r->n == st->cap) {
		size_t ncap = st->cap ? st->cap * 2 : 32;
		struct ias_conspirator *nc = realloc(r->c, ncap * sizeof(*nc));

		if (!nc)
			return -ENOMEM;
		r->c = nc;
		st->cap = ncap;
	}
	c = &r->c[r->n];
	c->pid = st->p[i].pid;
	c->kind = kind;
	c->a = a;
	c->b = b;
	va_start(ap, fmt);
	n = vasprintf(&c->reason, fmt, ap);
	va_end(ap);
	if (n < 0) {
		c->reason = NULL;
		return -ENOMEM;
	}
	r->n++;
	if (kind != IAS_WHY_REPORTED)
		r->n_new++;
	st->flag[i] |= F_OUT;
	return 0;
}

/* ---- sibling --------------------------------------------------------- */

/* PID 0 (no parent), PID 1 and parents without a known program (kernel
 * threads and their helpers) never group their children. */
static bool groups_children(const struct search *st, int32_t parent)
{
	return parent >= 0 && st->p[parent].pid != 1 && st->p[parent].exe != SNAP_STR_UNKNOWN;
}

static int do_sibling(struct search *st)
{
	const struct ias_snapshot *s = st->s;
	struct vec32 reps = { 0 };
	size_t k, j;
	int r = 0;

	for (k = 0; k < st->nseeds; k++) {
		int32_t par = st->p[st->seeds[k]].parent;
		uint32_t c;

		if (!groups_children(st, par) || st->events[par])
			continue;
		st->events[par] = 1;	/* parent handled (reset below) */
		if ((r = vec_push(&st->marked, par)))
			goto out;
		/* Representatives: the lowest-PID reported child per program. */
		reps.n = 0;
		for (c = s->child_off[par]; c < s->child_off[par + 1]; c++) {
			int32_t ch = (int32_t)s->child[c];

			if (!(st->flag[ch] & F_SEED) || st->p[ch].exe == SNAP_STR_UNKNOWN)
				continue;
			for (j = 0; j < reps.n; j++)
				if (snap_same_program(&st->p[reps.v[j]], &st->p[ch]))
					break;
			if (j == reps.n && (r = vec_push(&reps, ch)))
				goto out;
		}
		for (c = s->child_off[par]; c < s->child_off[par + 1]; c++) {
			int32_t ch = (int32_t)s->child[c];

			for (j = 0; j < reps.n; j++) {
				if (!snap_same_program(&st->p[reps.v[j]], &st->p[ch]))
					continue;
				r = add(st, ch, IAS_WHY_SIBLING, st->p[reps.v[j]].pid, 0,
					"sibling of %d running the same program",
					(int)st->p[reps.v[j]].pid);
				if (r)
					goto out;
				break;
			}
		}
	}
out:
	for (k = 0; k < st->marked.n; k++)
		st->events[st->marked.v[k]] = 0;
	st->marked.n = 0;
	free(reps.v);
	return r;
}

/* ---- LCA walk -------------------------------------------------------- */

static int32_t parent_plain(struct search *st, int32_t i)
{
	return st->p[i].parent;
}

/* Nearest proper ancestor with context st->ctx, memoised for the nodes of
 * other contexts passed on the way so no chain is walked twice. */
static int32_t parent_ctx(struct search *st, int32_t i)
{
	size_t base = st->stack.n, k;
	int32_t q = st->p[i].parent, res;

	while (q >= 0 && st->p[q].ctx != st->ctx) {
		if (st->memo[q]) {
			q = (int32_t)st->memo[q] - 2;
			break;
		}
		if (vec_push(&st->stack, q))
			return -2;
		q = st->p[q].parent;
	}
	res = q;
	for (k = base; k < st->stack.n; k++) {
		int32_t x = st->stack.v[k];

		st->memo[x] = (uint32_t)(res + 2);
		if (vec_push(&st->memo_set, x))
			return -2;
	}
	st->stack.n = base;
	return res;
}

static void event(struct search *st, int32_t node, size_t seed)
{
	if (st->events[node] < 2 && ++st->events[node] == 2)
		st->second[node] = (uint32_t)seed + 1;
}

/* Mark from every seed in list[] (indices into st->seeds); append the LCAs
 * (nodes with two events) to *lcas. */
static int lca_walk(struct search *st, const size_t *list, size_t n,
		    int32_t (*parent)(struct search *, int32_t), struct vec32 *lcas)
{
	size_t k;
	int r;

	for (k = 0; k < n; k++) {
		size_t sd = list[k];
		int32_t u = st->seeds[sd];

		/* Up from the seed, marking, to the first node reached before:
		 * the seed itself (reached from below: the self event) or an
		 * ancestor another seed's walk marked. */
		for (;;) {
			if (st->first[u]) {
				event(st, u, sd);
				break;
			}
			st->first[u] = (uint32_t)sd + 1;
			st->events[u] = 1;
			if ((r = vec_push(&st->marked, u)))
				return r;
			u = parent(st, u);
			if (u == -2)
				return -ENOMEM;
			if (u < 0)
				break;
		}
	}
	for (k = 0; k < st->marked.n; k++)
		if (st->events[st->marked.v[k]] >= 2 && (r = vec_push(lcas, st->marked.v[k])))
			return r;
	return 0;
}

static void lca_reset(struct search *st)
{
	size_t k;

	for (k = 0; k < st->marked.n; k++) {
		int32_t i = st->marked.v[k];

		st->first[i] = st->second[i] = 0;
		st->events[i] = 0;
	}
	st->marked.n = 0;
	for (k = 0; k < st->memo_set.n; k++)
		st->memo[st->memo_set.v[k]] = 0;
	st->memo_set.n = 0;
}

static int cmp_i32(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;

	return (x > y) - (x < y);
}

/* An LCA (not PID 1, not excluded) and its witnesses. */
static bool lca_usable(struct search *st, int32_t v, pid_t *x, pid_t *y)
{
	pid_t a = st->p[st->seeds[st->first[v] - 1]].pid;
	pid_t b = st->p[st->seeds[st->second[v] - 1]].pid;

	if (st->p[v].pid <= 1 || (st->flag[v] & F_EXCL))
		return false;
	*x = a < b ? a : b;
	*y = a < b ? b : a;
	return true;
}

static int do_lca(struct search *st)
{
	const struct ias_snapshot *s = st->s;
	struct vec32 lcas = { 0 };
	size_t *list = NULL, k;
	int r;

	list = malloc((st->nseeds ? st->nseeds : 1) * sizeof(*list));
	if (!list)
		return -ENOMEM;
	for (k = 0; k < st->nseeds; k++)
		list[k] = k;
	if ((r = lca_walk(st, list, st->nseeds, parent_plain, &lcas)))
		goto out;
	if (lcas.n > 1)
		qsort(lcas.v, lcas.n, sizeof(*lcas.v), cmp_i32);
	/* The LCAs first, then their children, so an LCA that is also a
	 * child of another LCA is named as an LCA. */
	for (k = 0; k < lcas.n; k++) {
		pid_t x, y;

		if (lca_usable(st, lcas.v[k], &x, &y) &&
		    (r = add(st, lcas.v[k], IAS_WHY_LCA, x, y, "LCA of %d and %d", (int)x, (int)y)))
			goto out;
	}
	for (k = 0; k < lcas.n; k++) {
		int32_t v = lcas.v[k];
		uint32_t c;
		pid_t x, y;

		if (!lca_usable(st, v, &x, &y))
			continue;
		for (c = s->child_off[v]; c < s->child_off[v + 1]; c++)
			if ((r = add(st, (int32_t)s->child[c], IAS_WHY_LCA_CHILD, st->p[v].pid, 0,
				     "child of LCA %d", (int)st->p[v].pid)))
				goto out;
	}
out:
	lca_reset(st);
	free(lcas.v);
	free(list);
	return r;
}

/* ---- selinux: LCA in the forest induced by one context --------------- */

static int ctx_children(struct search *st, int32_t v, const char *ctxname)
{
	const struct ias_snapshot *s = st->s;
	size_t base = st->stack.n;
	int r = 0;

	if ((r = vec_push(&st->stack, v)))
		return r;
	while (st->stack.n > base) {
		int32_t u = st->stack.v[--st->stack.n];
		uint32_t c;

		for (c = s->child_off[u]; c < s->child_off[u + 1]; c++) {
			int32_t ch = (int32_t)s->child[c];

			if (st->p[ch].ctx != st->ctx) {
				if ((r = vec_push(&st->stack, ch)))
					return r;
				continue;
			}
			r = add(st, ch, IAS_WHY_CTX_CHILD, st->p[v].pid, 0,
				"child of LCA %d in context %s", (int)st->p[v].pid, ctxname);
			if (r)
				return r;
		}
	}
	return 0;
}

static int do_selinux(struct search *st)
{
	struct vec32 lcas = { 0 }, ctxs = { 0 };
	size_t *list = NULL, k, j, nl;
	int r = 0;

	list = malloc((st->nseeds ? st->nseeds : 1) * sizeof(*list));
	if (!list)
		return -ENOMEM;
	/* Contexts in order of their lowest reported PID; "-" never groups. */
	for (k = 0; k < st->nseeds; k++) {
		uint32_t c = st->p[st->seeds[k]].ctx;

		if (c == SNAP_STR_UNKNOWN)
			continue;
		for (j = 0; j < ctxs.n && (uint32_t)ctxs.v[j] != c; j++)
			;
		if (j == ctxs.n && (r = vec_push(&ctxs, (int32_t)c)))
			goto out;
	}
	for (j = 0; j < ctxs.n; j++) {
		const char *name = snap_str(st->s, (uint32_t)ctxs.v[j]);

		st->ctx = (uint32_t)ctxs.v[j];
		for (k = 0, nl = 0; k < st->nseeds; k++)
			if (st->p[st->seeds[k]].ctx == st->ctx)
				list[nl++] = k;
		lcas.n = 0;
		r = lca_walk(st, list, nl, parent_ctx, &lcas);
		if (r)
			goto out;
		if (lcas.n > 1)
			qsort(lcas.v, lcas.n, sizeof(*lcas.v), cmp_i32);
		for (k = 0; k < lcas.n; k++) {
			pid_t x, y;

			if (lca_usable(st, lcas.v[k], &x, &y) &&
			    (r = add(st, lcas.v[k], IAS_WHY_CTX_LCA, x, y,
				     "LCA of %d and %d in context %s", (int)x, (int)y, name)))
				goto out;
		}
		for (k = 0; k < lcas.n; k++) {
			pid_t x, y;

			if (lca_usable(st, lcas.v[k], &x, &y) &&
			    (r = ctx_children(st, lcas.v[k], name)))
				goto out;
		}
		lca_reset(st);
	}
out:
	lca_reset(st);
	free(lcas.v);
	free(ctxs.v);
	free(list);
	return r;
}

/* ---- zone ------------------------------------------------------------ */

static int do_zone(struct search *st)
{
	const struct ias_snapshot *s = st->s;
	long root = snap_lookup(s, "/", 1);
	int32_t *rep = calloc(s->strs.n ? s->strs.n : 1, sizeof(*rep));	/* seed idx + 1 */
	size_t k;
	int r = 0;

	if (!rep)
		return -ENOMEM;
	for (k = 0; k < st->nseeds; k++) {
		uint32_t z = st->p[st->seeds[k]].zone;

		if (z == SNAP_STR_UNKNOWN || (root >= 0 && z == (uint32_t)root) || rep[z])
			continue;
		rep[z] = st->seeds[k] + 1;
	}
	for (k = 0; k < s->n; k++) {
		int32_t w = rep[st->p[k].zone];

		if (!w)
			continue;
		r = add(st, (int32_t)k, IAS_WHY_ZONE, st->p[w - 1].pid, 0, "same zone as %d (%s)",
			(int)st->p[w - 1].pid, snap_str(s, st->p[k].zone));
		if (r)
			break;
	}
	free(rep);
	return r;
}

/* ---- entry point ----------------------------------------------------- */

static int cmp_pid_t(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return (x > y) - (x < y);
}

static int cmp_consp(const void *a, const void *b)
{
	return cmp_pid_t(&((const struct ias_conspirator *)a)->pid,
			 &((const struct ias_conspirator *)b)->pid);
}

void ias_search_result_free(struct ias_search_result *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->n; i++)
		free(r->c[i].reason);
	free(r->c);
	free(r->input);
	free(r->ignored);
	free(r);
}

static size_t sort_unique(pid_t *v, size_t n)
{
	size_t i, w = 0;

	qsort(v, n, sizeof(*v), cmp_pid_t);
	for (i = 0; i < n; i++)
		if (!w || v[w - 1] != v[i])
			v[w++] = v[i];
	return w;
}

int ias_search(const struct ias_snapshot *s, unsigned levels, const pid_t *pids, size_t npids,
	       const pid_t *exclude, size_t nexclude, struct ias_search_result **out,
	       pid_t *missing)
{
	struct search st = { .s = s, .p = s->p };
	struct ias_search_result *res = NULL;
	size_t i, n = s->n ? s->n : 1;
	int r = 0;

	*out = NULL;
	if (levels & ~(unsigned)IAS_LEVEL_ALL)
		return -EINVAL;
	if ((levels & IAS_LEVEL_SELINUX) && !s->has_contexts)
		return -EOPNOTSUPP;
	for (i = 0; i < npids; i++)
		if (pids[i] <= 0 || pids[i] > IAS_SNAP_PID_MAX)
			return -EINVAL;
	res = calloc(1, sizeof(*res));
	st.flag = calloc(n, 1);
	st.seeds = malloc((npids ? npids : 1) * sizeof(*st.seeds));
	st.first = calloc(n, sizeof(*st.first));
	st.second = calloc(n, sizeof(*st.second));
	st.events = calloc(n, 1);
	st.memo = (levels & IAS_LEVEL_SELINUX) ? calloc(n, sizeof(*st.memo)) : NULL;
	if (res)
		res->input = malloc((npids ? npids : 1) * sizeof(*res->input));
	if (!res || !st.flag || !st.seeds || !st.first || !st.second || !st.events ||
	    !res->input || ((levels & IAS_LEVEL_SELINUX) && !st.memo)) {
		r = -ENOMEM;
		goto out;
	}
	st.res = res;
	res->levels = levels;
	if (npids)
		memcpy(res->input, pids, npids * sizeof(*pids));
	res->n_input = sort_unique(res->input, npids);
	res->ignored = malloc((res->n_input ? res->n_input : 1) * sizeof(*res->ignored));
	if (!res->ignored) {
		r = -ENOMEM;
		goto out;
	}

	for (i = 0; i < nexclude; i++) {
		long x = ias_snapshot_index(s, exclude[i]);

		if (x >= 0)
			st.flag[x] |= F_EXCL;
	}
	{
		long init = ias_snapshot_index(s, 1);

		if (init >= 0)
			st.flag[init] |= F_EXCL;
	}
	for (i = 0; i < res->n_input; i++) {
		long x = ias_snapshot_index(s, res->input[i]);

		if (x < 0) {
			if (missing)
				*missing = res->input[i];
			r = -ESRCH;
			goto out;
		}
		if (st.flag[x] & F_EXCL) {
			res->ignored[res->n_ignored++] = res->input[i];
			continue;
		}
		st.flag[x] |= F_SEED;
		st.seeds[st.nseeds++] = (int32_t)x;
	}

	/* Rules in a fixed order; a process keeps the first reason found. */
	for (i = 0; i < st.nseeds; i++)
		if ((r = add(&st, st.seeds[i], IAS_WHY_REPORTED, 0, 0, "reported")))
			goto out;
	if ((levels & IAS_LEVEL_SIBLING) && (r = do_sibling(&st)))
		goto out;
	if ((levels & IAS_LEVEL_LCA) && (r = do_lca(&st)))
		goto out;
	if ((levels & IAS_LEVEL_SELINUX) && (r = do_selinux(&st)))
		goto out;
	if ((levels & IAS_LEVEL_ZONE) && (r = do_zone(&st)))
		goto out;
	if (res->n > 1)
		qsort(res->c, res->n, sizeof(*res->c), cmp_consp);
out:
	free(st.flag);
	free(st.seeds);
	free(st.first);
	free(st.second);
	free(st.events);
	free(st.memo);
	free(st.marked.v);
	free(st.memo_set.v);
	free(st.stack.v);
	if (r) {
		ias_search_result_free(res);
		return r;
	}
	*out = res;
	return 0;
}

/* ---- level names ----------------------------------------------------- */

static const struct {
	const char *name;
	unsigned bit;
} level_names[] = {
	{ "sibling", IAS_LEVEL_SIBLING },
	{ "lca", IAS_LEVEL_LCA },
	{ "selinux", IAS_LEVEL_SELINUX },
	{ "zone", IAS_LEVEL_ZONE },
};

int ias_level_parse(const char *str, unsigned *levels)
{
	unsigned v = 0;
	bool basic = false;
	const char *p = str;

	*levels = 0;
	if (!*p)
		return -EINVAL;
	for (;;) {
		size_t len = strcspn(p, ","), i;

		if (len == 5 && strncmp(p, "basic", 5) == 0) {
			basic = true;
		} else {
			for (i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
				if (strlen(level_names[i].name) == len &&
				    strncmp(p, level_names[i].name, len) == 0)
					break;
			if (i == sizeof(level_names) / sizeof(level_names[0]))
				return -EINVAL;
			v |= level_names[i].bit;
		}
		if (!p[len])
			break;
		p += len + 1;
	}
	/* "basic" means nothing beyond the input; it does not mix. */
	if (basic && v)
		return -EINVAL;
	*levels = v;
	return 0;
}

const char *ias_level_format(unsigned levels, char *buf, size_t len)
{
	size_t i, off = 0;

	if (!len)
		return buf;
	buf[0] = '\0';
	if (!(levels & IAS_LEVEL_ALL)) {
		snprintf(buf, len, "basic");
		return buf;
	}
	for (i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		int n;

		if (!(levels & level_names[i].bit))
			continue;
		n = snprintf(buf + off, len - off, "%s%s", off ? "," : "", level_names[i].name);
		if (n < 0 || (size_t)n >= len - off)
			break;
		off += (size_t)n;
	}
	return buf;
}

unsigned ias_level_snapshot_flags(unsigned levels)
{
	return (levels & IAS_LEVEL_ZONE ? 0 : IAS_SNAP_LIVE_NO_ZONE) |
	       (levels & IAS_LEVEL_SELINUX ? 0 : IAS_SNAP_LIVE_NO_CONTEXT);
}
