/* See qptable.h. A flat array: nodes hold hundreds to a few thousand QPs and
 * every lookup is rare next to the data path, which never comes here. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sema/qptable.h"

void qpt_init(struct qptable *t)
{
	memset(t, 0, sizeof(*t));
}

void qpt_free(struct qptable *t)
{
	free(t->e);
	memset(t, 0, sizeof(*t));
}

struct qpt_entry *qpt_find(struct qptable *t, const char *device, uint32_t qpn)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (t->e[i].qpn == qpn && strcmp(t->e[i].device, device) == 0)
			return &t->e[i];
	return NULL;
}

struct qpt_entry *qpt_find_qpn(struct qptable *t, uint32_t qpn)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (t->e[i].qpn == qpn)
			return &t->e[i];
	return NULL;
}

struct qpt_entry *qpt_upsert(struct qptable *t, const char *device, uint32_t qpn)
{
	struct qpt_entry *q = qpt_find(t, device, qpn);

	if (q)
		return q;
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		struct qpt_entry *ne = realloc(t->e, cap * sizeof(*ne));

		if (!ne)
			return NULL;
		t->e = ne;
		t->cap = cap;
	}
	q = &t->e[t->n++];
	memset(q, 0, sizeof(*q));
	strncpy(q->device, device, sizeof(q->device) - 1);
	q->qpn = qpn;
	return q;
}

static void remove_at(struct qptable *t, size_t i)
{
	t->e[i] = t->e[--t->n];
}

int qpt_remove(struct qptable *t, const char *device, uint32_t qpn)
{
	struct qpt_entry *q = qpt_find(t, device, qpn);

	if (!q)
		return -ENOENT;
	remove_at(t, (size_t)(q - t->e));
	return 0;
}

size_t qpt_drop_client(struct qptable *t, uint64_t client_id)
{
	size_t i = 0, dropped = 0;

	while (i < t->n) {
		struct qpt_entry *q = &t->e[i];

		if (client_id && q->client_id == client_id) {
			q->client_id = 0;
			q->sources &= ~(QPT_SRC_LIBIAS | QPT_SRC_SIMULATED);
			if (!q->sources) {
				remove_at(t, i);
				dropped++;
				continue;
			}
		}
		i++;
	}
	return dropped;
}

void qpt_add_dest(struct qpt_entry *q, const struct qpt_dest *d)
{
	unsigned i;

	for (i = 0; i < q->ndest; i++) {
		if (q->dest[i].lid == d->lid && q->dest[i].qpn == d->qpn &&
		    memcmp(q->dest[i].gid, d->gid, 16) == 0) {
			/* Known: move it to the newest position. */
			struct qpt_dest keep = *d;

			memmove(&q->dest[i], &q->dest[i + 1], (q->ndest - i - 1) * sizeof(*d));
			q->dest[q->ndest - 1] = keep;
			return;
		}
	}
	if (q->ndest == QPT_UD_HISTORY) {
		memmove(&q->dest[0], &q->dest[1], (QPT_UD_HISTORY - 1) * sizeof(*d));
		q->ndest--;
	}
	q->dest[q->ndest++] = *d;
}

size_t qpt_count_pid(const struct qptable *t, pid_t pid)
{
	size_t i, n = 0;

	for (i = 0; i < t->n; i++)
		n += t->e[i].pid == pid;
	return n;
}

size_t qpt_count_blocked(const struct qptable *t)
{
	size_t i, n = 0;

	for (i = 0; i < t->n; i++)
		n += !!t->e[i].blocked;
	return n;
}

void qpt_kernel_begin(struct qptable *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		t->e[i].kernel_seen = 0;
}

size_t qpt_kernel_sweep(struct qptable *t)
{
	size_t i = 0, gone = 0;

	while (i < t->n) {
		struct qpt_entry *q = &t->e[i];

		if ((q->sources & QPT_SRC_KERNEL) && !q->kernel_seen) {
			q->sources &= ~QPT_SRC_KERNEL;
			if (!q->sources) {
				remove_at(t, i);
				gone++;
				continue;
			}
		}
		i++;
	}
	return gone;
}

const char *qpt_type_str(uint8_t type)
{
	/* IBV_QPT_RC = 2, UC = 3, UD = 4, RAW_PACKET = 8, XRC_SEND = 9, XRC_RECV = 10 */
	switch (type) {
	case 0: return "SMI";
	case 1: return "GSI";
	case 2: return "RC";
	case 3: return "UC";
	case 4: return "UD";
	case 8: return "RAW";
	case 9: return "XRC_INI";
	case 10: return "XRC_TGT";
	default: return "?";
	}
}

const char *qpt_state_str(uint8_t state)
{
	static const char *const names[] = { "RESET", "INIT", "RTR", "RTS", "SQD", "SQE", "ERR" };

	return state < sizeof(names) / sizeof(names[0]) ? names[state] : "?";
}

const char *qpt_source_str(unsigned sources)
{
	if (sources & QPT_SRC_SIMULATED)
		return "simulated";
	if ((sources & (QPT_SRC_KERNEL | QPT_SRC_LIBIAS)) == (QPT_SRC_KERNEL | QPT_SRC_LIBIAS))
		return "kernel+libias";
	if (sources & QPT_SRC_KERNEL)
		return "kernel";
	return "libias";
}

const char *qpt_remote_src_str(unsigned src, char *buf, size_t len)
{
	static const struct {
		unsigned bit;
		const char *name;
	} names[] = {
		{ QPT_RSRC_KOBS, "kernel-bpf" },
		{ QPT_RSRC_CM, "kernel-cm" },
		{ QPT_RSRC_NLQPN, "kernel-qpn" },
		{ QPT_RSRC_PEER, "peer" },
		{ QPT_RSRC_MIRROR, "mirror" },
		{ QPT_RSRC_LIBIAS, "libias" },
	};
	size_t i, used = 0;

	if (!len)
		return buf;
	buf[0] = 0;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		int n;

		if (!(src & names[i].bit))
			continue;
		n = snprintf(buf + used, len - used, "%s%s", used ? "+" : "", names[i].name);
		if (n < 0 || (size_t)n >= len - used) {
			buf[used] = 0;	/* whole names only */
			break;
		}
		used += (size_t)n;
	}
	if (src && !(src & QPT_RSRC_TRUSTED) && (src & QPT_RSRC_LIBIAS) && used + 14 < len)
		snprintf(buf + used, len - used, " (unconfirmed)");
	return buf;
}

int qpt_remote_trusted(const struct qpt_entry *q)
{
	static const uint8_t zero[16];

	return q->has_remote && (q->remote_src & QPT_RSRC_TRUSTED) &&
	       (q->remote_lid != 0 || memcmp(q->remote_gid, zero, 16) != 0);
}
