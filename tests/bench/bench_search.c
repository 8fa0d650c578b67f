/* Benchmark: sibling and lca searches on synthetic snapshots, against the
 * straightforward algorithms of the paper's sketch.
 *
 * Usage: bench_search N [ROUNDS]
 *
 * The tree: init and kthreadd with kernel threads (2%); about 40 daemons under
 * init, each with many shallow workers (most run the daemon's program, some
 * fork helpers one or two levels down); 2% of the processes in deep chains
 * of 100..1000 (build pipelines, nested shells). PIDs are a random
 * permutation, so parents do not always have lower PIDs.
 *
 * Times exclude parsing (the snapshot is built once). The baselines:
 *   sibling: for each reported process scan the whole list for processes
 *            with the same parent and program;
 *   lca:     the paper's counter sketch: sort the process list by PID, walk
 *            each reported process's ancestors (binary search for each
 *            parent) incrementing a counter per node; a node with counter
 *            >= 2 and no child with counter >= 2 is an LCA; then scan the list
 *            for the LCAs' children.
 * The baseline's LCA set is the lowest meeting points only; ours is every
 * pairwise LCA (a superset); the program checks that relation. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analyzer/search.h"
#include "analyzer/snapshot.h"

struct bp {
	int32_t pid, ppid, exe;
};

static uint64_t rs = 0x2545f4914f6cdd1dull;

static uint64_t rnd(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return rs;
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_d);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int cmp_bp(const void *a, const void *b)
{
	const struct bp *x = a, *y = b;

	return (x->pid > y->pid) - (x->pid < y->pid);
}

static long bfind(const struct bp *v, size_t n, int32_t pid)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t m = lo + (hi - lo) / 2;

		if (v[m].pid == pid)
			return (long)m;
		if (v[m].pid < pid)
			lo = m + 1;
		else
			hi = m;
	}
	return -1;
}

/* The paper's counter sketch, written plainly. Returns the number of
 * conspirators found (reported + LCAs + children, without duplicates) and
 * the LCAs in lcas[]. */
static size_t baseline_lca(const struct bp *list, size_t n, const int32_t *in, size_t k,
			   int32_t *lcas, size_t *nlcas, int presorted)
{
	struct bp *v = presorted ? (struct bp *)list : malloc(n * sizeof(*v));
	int *cnt = calloc(n, sizeof(*cnt));
	char *child2 = calloc(n, 1), *isl = calloc(n, 1), *out = calloc(n, 1);
	size_t i, j, found = 0;

	if (!presorted) {
		memcpy(v, list, n * sizeof(*v));
		qsort(v, n, sizeof(*v), cmp_bp);
	}
	for (j = 0; j < k; j++) {
		long x = bfind(v, n, in[j]);

		while (x >= 0) {
			cnt[x]++;
			if (v[x].pid == 1 || v[x].ppid == 0)
				break;
			x = bfind(v, n, v[x].ppid);
		}
	}
	for (i = 0; i < n; i++)
		if (cnt[i] >= 2 && v[i].ppid) {
			long p = bfind(v, n, v[i].ppid);

			if (p >= 0)
				child2[p] = 1;
		}
	*nlcas = 0;
	for (i = 0; i < n; i++)
		if (cnt[i] >= 2 && !child2[i] && v[i].pid != 1) {
			isl[i] = 1;
			lcas[(*nlcas)++] = v[i].pid;
			out[i] = 1;
		}
	for (i = 0; i < n; i++) {
		long p = v[i].ppid ? bfind(v, n, v[i].ppid) : -1;

		if (p >= 0 && isl[p])
			out[i] = 1;
	}
	for (j = 0; j < k; j++) {
		long x = bfind(v, n, in[j]);

		if (x >= 0)
			out[x] = 1;
	}
	for (i = 0; i < n; i++)
		found += out[i];
	if (!presorted)
		free(v);
	free(cnt);
	free(child2);
	free(isl);
	free(out);
	return found;
}

/* Straightforward sibling search: a scan of the whole list per reported
 * process. */
static size_t baseline_sibling(const struct bp *list, size_t n, const int32_t *in, size_t k)
{
	size_t i, j, found = 0;
	char *out = calloc(n, 1);

	for (j = 0; j < k; j++) {
		const struct bp *me = NULL;

		for (i = 0; i < n; i++)
			if (list[i].pid == in[j]) {
				me = &list[i];
				out[i] = 1;
			}
		if (!me || me->ppid <= 1)
			continue;
		for (i = 0; i < n; i++)
			if (list[i].ppid == me->ppid && list[i].exe == me->exe && list[i].exe)
				out[i] = 1;
	}
	for (i = 0; i < n; i++)
		found += out[i];
	free(out);
	return found;
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 100000, i, j, len = 0, cap;
	int rounds = argc > 2 ? atoi(argv[2]) : 21, r;
	int32_t *perm, in[8], *blcas;
	size_t k = 8, nbl = 0, ndaemons = 40, nk, nchain;
	struct bp *list;
	struct ias_snapshot *s;
	struct ias_snap_err err;
	char *tsv;
	double *t_sib, *t_lca, *t_bsib, *t_blca, *t_blca2, t0, t_parse;
	struct bp *sorted;
	size_t ours_lca = 0, ours_sib = 0, b_lca = 0, b_sib = 0, subset_ok = 1;

	if (n < 1000 || rounds < 1) {
		fprintf(stderr, "usage: bench_search N>=1000 [ROUNDS]\n");
		return 2;
	}
	list = calloc(n, sizeof(*list));
	perm = malloc(n * sizeof(*perm));
	/* PIDs: 1 and 2 fixed, the rest a random permutation of 3..n+... */
	for (i = 0; i < n; i++)
		perm[i] = (int32_t)i + 1;
	for (i = n - 1; i > 2; i--) {
		size_t x = 2 + rnd() % (i - 1);
		int32_t t = perm[i];

		perm[i] = perm[x];
		perm[x] = t;
	}
	/* Slot 0 = init, 1 = kthreadd; slots are positions in list. */
	list[0] = (struct bp){ 1, 0, 1 };
	list[1] = (struct bp){ 2, 0, 0 };
	nk = n / 50;
	nchain = n / 50;
	for (i = 2; i < 2 + nk; i++)
		list[i] = (struct bp){ perm[i], 2, 0 };
	for (j = 0; j < ndaemons; j++, i++)
		list[i] = (struct bp){ perm[i], 1, 10 + (int32_t)j };
	{
		size_t dstart = 2 + nk, chain_left = 0;
		int32_t chain_prev = 0;

		for (; i < n; i++) {
			if (i >= n - nchain) {
				/* deep chains */
				if (!chain_left) {
					chain_left = 100 + rnd() % 900;
					chain_prev = list[dstart + rnd() % ndaemons].pid;
				}
				list[i] = (struct bp){ perm[i], chain_prev, 5 };
				chain_prev = perm[i];
				chain_left--;
				continue;
			}
			if (rnd() % 10 < 8 || i < dstart + ndaemons + 100) {
				/* worker of a daemon: usually the daemon's program */
				size_t d = dstart + rnd() % ndaemons;

				list[i] = (struct bp){ perm[i], list[d].pid,
					rnd() % 10 < 9 ? list[d].exe : 100 + (int32_t)(rnd() % 50) };
			} else {
				/* helper under an earlier worker */
				size_t w = dstart + ndaemons + rnd() % (i - dstart - ndaemons);

				list[i] = (struct bp){ perm[i], list[w].pid, 200 + (int32_t)(rnd() % 20) };
			}
		}
	}
	/* As TSV, in list order (not PID order). */
	cap = n * 64 + 64;
	tsv = malloc(cap);
	len = (size_t)snprintf(tsv, cap, "pid\tppid\texe\tcontext\tzone\n");
	for (i = 0; i < n; i++) {
		if (list[i].exe)
			len += (size_t)snprintf(tsv + len, cap - len, "%d\t%d\t/usr/bin/p%d\t-\t/s%d\n",
						list[i].pid, list[i].ppid, list[i].exe,
						list[i].exe % 40);
		else
			len += (size_t)snprintf(tsv + len, cap - len, "%d\t%d\t-\t-\t/\n",
						list[i].pid, list[i].ppid);
	}
	t0 = now_us();
	r = ias_snapshot_parse_tsv(tsv, len, &s, &err);
	t_parse = now_us() - t0;
	if (r) {
		fprintf(stderr, "generated snapshot rejected: line %lu: %s\n", err.line, err.msg);
		return 1;
	}
	/* Reported: 3 workers of one daemon, 2 deep-chain members, 3 anywhere. */
	{
		size_t d = 2 + nk, got = 0;

		for (i = d + ndaemons; i < n - nchain && got < 3; i++)
			if (list[i].ppid == list[d].pid)
				in[got++] = list[i].pid;
		in[3] = list[n - 1].pid;
		in[4] = list[n - nchain / 2].pid;
		for (j = 5; j < k; j++)
			in[j] = list[2 + nk + rnd() % (n - 2 - nk)].pid;
	}

	t_sib = calloc((size_t)rounds, sizeof(double));
	t_lca = calloc((size_t)rounds, sizeof(double));
	t_bsib = calloc((size_t)rounds, sizeof(double));
	t_blca = calloc((size_t)rounds, sizeof(double));
	t_blca2 = calloc((size_t)rounds, sizeof(double));
	sorted = malloc(n * sizeof(*sorted));
	memcpy(sorted, list, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), cmp_bp);
	blcas = malloc(n * sizeof(*blcas));
	for (r = 0; r < rounds; r++) {
		struct ias_search_result *res;
		pid_t pin[8];

		for (j = 0; j < k; j++)
			pin[j] = in[j];
		t0 = now_us();
		ias_search(s, IAS_LEVEL_SIBLING, pin, k, NULL, 0, &res, NULL);
		t_sib[r] = now_us() - t0;
		ours_sib = res->n;
		ias_search_result_free(res);

		t0 = now_us();
		ias_search(s, IAS_LEVEL_LCA, pin, k, NULL, 0, &res, NULL);
		t_lca[r] = now_us() - t0;
		ours_lca = res->n;
		if (r == 0) {
			/* Every baseline LCA must be one of ours. */
			b_lca = baseline_lca(list, n, in, k, blcas, &nbl, 0);
			for (j = 0; j < nbl; j++) {
				size_t m;
				int hit = 0;

				for (m = 0; m < res->n; m++)
					hit |= res->c[m].pid == blcas[j] &&
					       (res->c[m].kind == IAS_WHY_LCA ||
						res->c[m].kind == IAS_WHY_REPORTED);
				subset_ok &= hit;
			}
		}
		ias_search_result_free(res);

		t0 = now_us();
		b_sib = baseline_sibling(list, n, in, k);
		t_bsib[r] = now_us() - t0;

		t0 = now_us();
		b_lca = baseline_lca(list, n, in, k, blcas, &nbl, 0);
		t_blca[r] = now_us() - t0;

		t0 = now_us();
		baseline_lca(sorted, n, in, k, blcas, &nbl, 1);
		t_blca2[r] = now_us() - t0;
	}
	{
		double ms = median(t_sib, rounds), ml = median(t_lca, rounds);
		double bs = median(t_bsib, rounds), bl = median(t_blca, rounds);

		printf("n=%zu rounds=%d reported=%zu parse+index=%.1f ms\n", n, rounds, k,
		       t_parse / 1e3);
		printf("  sibling  ours %9.3f ms  baseline %9.3f ms  speed-up x%.1f  (found %zu vs %zu)\n",
		       ms / 1e3, bs / 1e3, bs / ms, ours_sib, b_sib);
		printf("  lca      ours %9.3f ms  baseline %9.3f ms  speed-up x%.1f  (found %zu vs %zu;"
		       " baseline LCAs %s ours)\n", ml / 1e3, bl / 1e3, bl / ml, ours_lca, b_lca,
		       subset_ok ? "all among" : "NOT all among");
		printf("  lca      ours %9.3f ms  baseline %9.3f ms  speed-up x%.1f  (baseline on a"
		       " list sorted beforehand)\n", ml / 1e3, median(t_blca2, rounds) / 1e3,
		       median(t_blca2, rounds) / ml);
	}
	ias_snapshot_free(s);
	free(tsv);
	free(list);
	free(perm);
	free(blcas);
	free(t_sib);
	free(t_lca);
	free(t_bsib);
	free(t_blca);
	free(t_blca2);
	free(sorted);
	return subset_ok ? 0 : 1;
}
