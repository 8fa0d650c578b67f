/* libFuzzer harness for the TSV snapshot parser and the searches.
 *
 * Whatever parses must be a forest sorted by unique PIDs, must survive
 * write -> parse unchanged, and every search on it (all levels, reported
 * PIDs chosen from the input) must return only existing PIDs, never PID 1 or
 * an excluded PID, in strictly ascending order, with every reported PID
 * present as "reported". */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/search.h"
#include "analyzer/snapshot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "invariant failed: %s (%s:%d)\n", \
				#c, __FILE__, __LINE__); abort(); } } while (0)

static void check_search(const struct ias_snapshot *s, unsigned levels, const pid_t *in,
			 size_t nin, const pid_t *ex, size_t nex)
{
	struct ias_search_result *res = NULL;
	size_t i, j;
	int r;

	r = ias_search(s, levels, in, nin, ex, nex, &res, NULL);
	CHECK(r == 0);
	for (i = 0; i < res->n; i++) {
		CHECK(ias_snapshot_index(s, res->c[i].pid) >= 0);
		CHECK(res->c[i].pid != 1);
		CHECK(i == 0 || res->c[i - 1].pid < res->c[i].pid);
		CHECK(res->c[i].reason && res->c[i].reason[0]);
		for (j = 0; j < nex; j++)
			CHECK(res->c[i].pid != ex[j]);
	}
	for (i = 0; i < nin; i++) {
		int found = 0, ignored = in[i] == 1;

		for (j = 0; j < nex; j++)
			ignored |= in[i] == ex[j];
		for (j = 0; j < res->n; j++)
			if (res->c[j].pid == in[i])
				found = res->c[j].kind == IAS_WHY_REPORTED;
		CHECK(found != ignored);
	}
	ias_search_result_free(res);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ias_snapshot *s = NULL, *s2 = NULL;
	struct ias_snap_err err;
	struct ias_proc a, b;
	char *out = NULL;
	size_t n, i, olen = 0;
	pid_t in[8], ex[2];
	size_t nin = 0;
	FILE *f;

	if (ias_snapshot_parse_tsv((const char *)data, size, &s, &err)) {
		CHECK(s == NULL);
		CHECK(err.msg[0] != '\0');
		return 0;
	}
	n = ias_snapshot_count(s);
	for (i = 0; i < n; i++) {
		CHECK(ias_snapshot_get(s, i, &a) == 0);
		CHECK(a.pid >= 1 && a.pid <= IAS_SNAP_PID_MAX);
		CHECK(i == 0 || ias_snapshot_get(s, i - 1, &b) == 0);
		CHECK(i == 0 || b.pid < a.pid);
		CHECK(a.ppid == 0 || ias_snapshot_index(s, a.ppid) >= 0);
		CHECK(ias_snapshot_index(s, a.pid) == (long)i);
	}

	/* Round trip. */
	f = open_memstream(&out, &olen);
	CHECK(f != NULL);
	CHECK(ias_snapshot_write_tsv(s, f) == 0);
	fclose(f);
	CHECK(ias_snapshot_parse_tsv(out, olen, &s2, &err) == 0);
	CHECK(ias_snapshot_count(s2) == n);
	for (i = 0; i < n; i++) {
		ias_snapshot_get(s, i, &a);
		ias_snapshot_get(s2, i, &b);
		CHECK(a.pid == b.pid && a.ppid == b.ppid);
		CHECK(strcmp(a.exe, b.exe) == 0 && strcmp(a.context, b.context) == 0 &&
		      strcmp(a.zone, b.zone) == 0);
	}
	ias_snapshot_free(s2);
	free(out);

	/* Searches: reported PIDs picked by the input's bytes. */
	if (n) {
		for (i = 0; i < sizeof(in) / sizeof(in[0]) && i < size; i++) {
			ias_snapshot_get(s, data[size - 1 - i] % n, &a);
			in[nin++] = a.pid;
		}
		ias_snapshot_get(s, data[0] % n, &a);
		ex[0] = a.pid;
		ex[1] = 1;
		for (i = 0; i <= IAS_LEVEL_ALL; i++) {
			check_search(s, (unsigned)i, in, nin, NULL, 0);
			check_search(s, (unsigned)i, in, nin, ex, 2);
		}
	}
	ias_snapshot_free(s);
	return 0;
}
