/* Unit tests for the agent's QP ownership table. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sema/qptable.h"
#include "tests/unit/tap.h"

/* The index against a linear reference: random inserts and removals over a
 * small key space (so that keys come back after removal), every key looked
 * up after each step batch, the array scanned for the same answer. */
struct ref {
	char device[8];
	uint32_t qpn;
	int present;
	uint32_t tag;
};

static struct qpt_entry *linear_find(struct qptable *t, const char *dev, uint32_t qpn)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (t->e[i].qpn == qpn && strcmp(t->e[i].device, dev) == 0)
			return &t->e[i];
	return NULL;
}

static void churn(void)
{
	enum { NKEYS = 6000, STEPS = 200000 };
	static struct ref r[NKEYS];
	struct qptable t;
	unsigned seed = 12345, bad_find = 0, bad_tag = 0, bad_n = 0, present = 0, i, step;
	size_t j;

	qpt_init(&t);
	for (i = 0; i < NKEYS; i++) {
		snprintf(r[i].device, sizeof(r[i].device), "d%u", i % 3);
		r[i].qpn = 0x100 + i / 3;
	}
	for (step = 0; step < STEPS; step++) {
		struct ref *k = &r[rand_r(&seed) % NKEYS];
		struct qpt_entry *q;

		if (!k->present) {
			q = qpt_upsert(&t, k->device, k->qpn);
			if (!q)
				break;
			k->present = 1;
			k->tag = step + 1;
			q->pid = (pid_t)k->tag;
			present++;
		} else if (rand_r(&seed) % 3 == 0) {
			/* Sometimes through the client drop path. */
			q = qpt_find(&t, k->device, k->qpn);
			q->client_id = 99;
			q->sources = QPT_SRC_LIBIAS;
			qpt_drop_client(&t, 99);
			k->present = 0;
			present--;
		} else {
			qpt_remove(&t, k->device, k->qpn);
			k->present = 0;
			present--;
		}
		if (step % 20000 == 19999 || step == STEPS - 1) {
			for (i = 0; i < NKEYS; i++) {
				struct qpt_entry *a = qpt_find(&t, r[i].device, r[i].qpn);
				struct qpt_entry *b = linear_find(&t, r[i].device, r[i].qpn);

				bad_find += a != b || (!!a != r[i].present);
				bad_tag += a && (uint32_t)a->pid != r[i].tag;
			}
			bad_n += t.n != present;
		}
	}
	is_int(step, STEPS, "200,000 inserts and removals done");
	is_int(bad_find, 0, "index and linear scan agree on every key after churn");
	is_int(bad_tag, 0, "every entry found is the one inserted for that key");
	is_int(bad_n, 0, "the table holds exactly the present keys");
	/* Every array slot is reachable through the index. */
	for (j = 0, i = 0; j < t.n; j++)
		i += qpt_find(&t, t.e[j].device, t.e[j].qpn) != &t.e[j];
	is_int(i, 0, "every entry of the array is indexed at its own position");
	qpt_free(&t);
}

/* A memory figure for the report: what an entry costs, with and without a
 * UD history. */
static void sizes(void)
{
	char line[128];

	snprintf(line, sizeof(line), "sizeof(struct qpt_entry) = %zu bytes, a UD history %zu more",
		 sizeof(struct qpt_entry), QPT_UD_HISTORY * sizeof(struct qpt_dest));
	tap_diag(line);
	ok(sizeof(struct qpt_entry) < 512, "an entry without UD history stays under 512 bytes");
}

int main(void)
{
	struct qptable t;
	struct qpt_entry *a, *b, *k;
	struct qpt_dest d;
	unsigned i;

	qpt_init(&t);
	a = qpt_upsert(&t, "rxe0", 0x11);
	ok(a != NULL, "insert rxe0/0x11");
	a->pid = 100;
	a->sources = QPT_SRC_LIBIAS;
	a->client_id = 7;
	ok(qpt_upsert(&t, "rxe0", 0x11) == a, "upsert returns the existing entry");
	b = qpt_upsert(&t, "rxe1", 0x11);
	ok(b != NULL && b != a, "same QPN on another device is another QP");
	b->pid = 100;
	b->sources = QPT_SRC_KERNEL | QPT_SRC_LIBIAS;
	b->client_id = 7;
	is_int(qpt_count_pid(&t, 100), 2, "two QPs for PID 100");

	/* UD history: bounded, newest last, repeats move to the end. */
	memset(&d, 0, sizeof(d));
	for (i = 0; i < QPT_UD_HISTORY + 3; i++) {
		d.lid = i + 1;
		d.qpn = 0x100 + i;
		qpt_add_dest(a, &d);
	}
	is_int(a->ndest, QPT_UD_HISTORY, "UD history is bounded");
	is_int(a->dest[0].lid, 4, "oldest destinations dropped first");
	d.lid = 5;
	d.qpn = 0x104;
	qpt_add_dest(a, &d);
	is_int(a->ndest, QPT_UD_HISTORY, "a repeat does not grow the history");
	is_int(a->dest[QPT_UD_HISTORY - 1].lid, 5, "a repeat becomes the newest");

	/* A disconnecting client drops its registrations but not kernel truth. */
	is_int(qpt_drop_client(&t, 7), 1, "client gone: its libias-only QP dropped");
	k = qpt_find(&t, "rxe1", 0x11);
	ok(k && k->sources == QPT_SRC_KERNEL && k->client_id == 0,
	   "a QP the kernel also knows stays, as kernel-only");

	/* Kernel sweep: entries the kernel no longer reports go. */
	k = qpt_upsert(&t, "rxe0", 0x22);
	k->sources = QPT_SRC_KERNEL;
	qpt_kernel_begin(&t);
	qpt_find(&t, "rxe0", 0x22)->kernel_seen = 1;
	is_int(qpt_kernel_sweep(&t), 1, "sweep drops the unseen kernel QP");
	ok(qpt_find(&t, "rxe1", 0x11) == NULL, "rxe1/0x11 is gone");
	ok(qpt_find(&t, "rxe0", 0x22) != NULL, "rxe0/0x22 stays");
	is_int(qpt_remove(&t, "rxe0", 0x22), 0, "remove");
	is_int(qpt_remove(&t, "rxe0", 0x22), -2, "remove twice: -ENOENT");

	is_str(qpt_type_str(2), "RC", "type names");
	is_str(qpt_state_str(6), "ERR", "state names");
	is_str(qpt_source_str(QPT_SRC_KERNEL | QPT_SRC_LIBIAS), "kernel+libias", "source names");
	is_str(qpt_source_str(QPT_SRC_SIMULATED | QPT_SRC_LIBIAS), "simulated",
	       "simulated is always shown as such");

	/* Remote-end provenance: a registration alone is a hint. */
	{
		char rb[96];

		k = qpt_upsert(&t, "rxe0", 0x33);
		k->has_remote = 1;
		k->remote_lid = 7;
		k->remote_qpn = 0x44;
		k->remote_src = QPT_RSRC_LIBIAS;
		ok(!qpt_remote_trusted(k), "a registered remote end alone is not trusted");
		is_str(qpt_remote_src_str(k->remote_src, rb, sizeof(rb)), "libias (unconfirmed)",
		       "and is shown as unconfirmed");
		k->remote_src |= QPT_RSRC_PEER;
		ok(qpt_remote_trusted(k), "confirmed by the peer agent: trusted");
		is_str(qpt_remote_src_str(k->remote_src, rb, sizeof(rb)), "peer+libias",
		       "sources joined");
		k->remote_src = QPT_RSRC_NLQPN;
		ok(!qpt_remote_trusted(k), "the kernel's remote QPN alone has no address");
		k->remote_src = QPT_RSRC_KOBS | QPT_RSRC_NLQPN;
		ok(qpt_remote_trusted(k), "the kernel's address vector: trusted");
		k->remote_lid = 0;
		ok(!qpt_remote_trusted(k), "no LID and no GID: nothing to trace to");
		is_str(qpt_remote_src_str(0, rb, sizeof(rb)), "", "no source: empty");
		is_str(qpt_remote_src_str(QPT_RSRC_CM, rb, 4), "", "too small: empty, not cut");
	}
	qpt_free(&t);
	churn();
	sizes();
	return tap_done();
}
