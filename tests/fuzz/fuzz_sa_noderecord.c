/* libFuzzer harness for the SA NodeRecord parser (sem/sa.c): the answers
 * of the fabric's SA, which the manager parses during discovery.
 *
 * The input is one received SA MAD (any length: RMPP answers are longer
 * than 256 bytes). Invariants (abort on violation): the parser returns 0 or
 * -EBADMSG; it never reports more records than it was given room for; with
 * a non-zero MAD status or an error it reports none; every record has a
 * non-zero LID and node GUID and a NUL-terminated printable name; a smaller
 * room yields a prefix of the same records; a query the manager builds is
 * never taken for an answer. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sem/sa.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ROOM 64
#define SMALL 2

static void check_recs(const struct sem_node_rec *recs, size_t n)
{
	size_t i, k;

	for (i = 0; i < n; i++) {
		const struct sem_node_rec *r = &recs[i];

		if (!r->lid || !r->guid)
			abort();
		for (k = 0; k < sizeof(r->name) && r->name[k]; k++)
			if (r->name[k] < 0x20 || r->name[k] >= 0x7f)
				abort();
		if (k == sizeof(r->name))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sem_node_rec recs[ROOM], few[SMALL];
	uint8_t q[256];
	uint16_t status, st2, lid;
	size_t n, n2;
	int truncated, t2, r, r2;

	r = sa_parse_node_records(data, size, recs, ROOM, &n, &status, &truncated);
	if (r != 0 && r != -EBADMSG)
		abort();
	if (n > ROOM || ((r || status) && n))
		abort();
	check_recs(recs, n);

	r2 = sa_parse_node_records(data, size, few, SMALL, &n2, &st2, &t2);
	if (r2 != r && !(r2 == 0 && r == -EBADMSG))
		abort();	/* less room may stop before a bad record, never more */
	if (!r && (n2 != (n < SMALL ? n : SMALL) || st2 != status || t2 != truncated ||
		   memcmp(few, recs, n2 * sizeof(*few))))
		abort();

	lid = size >= 2 ? (uint16_t)(data[0] << 8 | data[1]) : 1;
	sa_build_node_query(q, size & 1 ? SA_METHOD_GET : SA_METHOD_GET_TABLE, lid, size);
	if (sa_parse_node_records(q, sizeof(q), recs, ROOM, &n, &status, &truncated) != -EBADMSG)
		abort();
	return 0;
}
