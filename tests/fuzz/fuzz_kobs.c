/* Fuzz harness for kobs_decode and kobs_decode_event (the records and
 * events the kobs BPF programs write; kernel-written, but decoded as
 * outside input all the same).
 *
 * Invariants: the result is 0 or -EBADMSG; on success the names are
 * NUL-terminated and non-empty, the flags known, the state in range, the
 * 24-bit fields in range, and fields whose flag is off are zero; on failure
 * the output is all zero; the same bytes at an odd address decode alike. The
 * input is read both as a record (its first record-size bytes) and as an
 * event. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sema/bpf/kobs.h"
#include "sema/bpf/kobs_abi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int err, const struct kobs_qp *q)
{
	static const struct kobs_qp zero;

	if (err != 0 && err != -EBADMSG)
		abort();
	if (err) {
		if (memcmp(q, &zero, sizeof(zero)) != 0)
			abort();
		return;
	}
	if (!memchr(q->dev, 0, sizeof(q->dev)) || !q->dev[0] || !memchr(q->comm, 0, sizeof(q->comm)))
		abort();
	if ((q->flags & ~(uint32_t)KOBS_QP_FLAGS_ALL) || q->state > 6 || q->av_type > KOBS_AV_OPA)
		abort();
	if (q->dest_qpn > 0xffffff || q->sq_psn > 0xffffff || q->rq_psn > 0xffffff)
		abort();
	if (!(q->flags & KOBS_QP_DEST) && q->dest_qpn)
		abort();
	if (!(q->flags & KOBS_QP_AV) && (q->sl || q->dlid || q->av_port))
		abort();
	if (!(q->flags & KOBS_QP_GRH) && (q->dgid[0] || q->sgid_index))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kobs_qp a, b;
	enum kobs_ev_kind kind;
	uint8_t *odd;
	size_t rl = sizeof(struct kobs_rec_abi);
	int e1, e2;

	e1 = kobs_decode(data, size < rl ? size : rl, &a);
	check(e1, &a);
	odd = malloc(size + 1);
	if (!odd)
		return 0;
	memcpy(odd + 1, data, size);
	e2 = kobs_decode(odd + 1, size < rl ? size : rl, &b);
	if (e1 != e2 || memcmp(&a, &b, sizeof(a)) != 0)
		abort();
	e1 = kobs_decode_event(data, size, &kind, &a);
	check(e1, &a);
	if (e1 == 0 && (kind < KOBS_CREATE || kind > KOBS_AH_DESTROY))
		abort();
	e2 = kobs_decode_event(odd + 1, size, &kind, &b);
	if (e1 != e2 || memcmp(&a, &b, sizeof(a)) != 0)
		abort();
	free(odd);
	return 0;
}
