/* Unit tests for the agent's QP ownership table. */
#include <string.h>

#include "sema/qptable.h"
#include "tests/unit/tap.h"

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
	return tap_done();
}
