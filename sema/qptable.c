/* See qptable.h. The entries are a dense array (modules iterate over it);
 * (device, QPN) look-ups go through a hash index beside it, so that a node
 * with tens of thousands of QPs, or a local user registering as many as the
 * control socket lets it, costs O(1) per look-up. The index is open
 * addressing with linear probing, at most half full, keyed by SipHash-2-4
 * with a random per-table key: registrations cannot be chosen to pile up on
 * one probe sequence. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "sema/qptable.h"

#define MIN_SLOTS 128u

static uint64_t rotl(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

static void sipround(uint64_t v[4])
{
	v[0] += v[1]; v[1] = rotl(v[1], 13); v[1] ^= v[0]; v[0] = rotl(v[0], 32);
	v[2] += v[3]; v[3] = rotl(v[3], 16); v[3] ^= v[2];
	v[0] += v[3]; v[3] = rotl(v[3], 21); v[3] ^= v[0];
	v[2] += v[1]; v[1] = rotl(v[1], 17); v[1] ^= v[2]; v[2] = rotl(v[2], 32);
}

static void sip_block(uint64_t v[4], uint64_t m)
{
	v[3] ^= m;
	sipround(v);
	sipround(v);
	v[0] ^= m;
}

/* SipHash-2-4 of the device name (up to its NUL) and the QPN. */
static uint64_t key_hash(const struct qptable *t, const char *device, uint32_t qpn)
{
	uint64_t v[4] = {
		t->seed[0] ^ 0x736f6d6570736575ull, t->seed[1] ^ 0x646f72616e646f6dull,
		t->seed[0] ^ 0x6c7967656e657261ull, t->seed[1] ^ 0x7465646279746573ull,
	};
	size_t len = strnlen(device, sizeof(((struct qpt_entry *)0)->device) - 1);
	size_t total = len + 4, i;
	uint8_t buf[sizeof(((struct qpt_entry *)0)->device) + 4 + 8];
	uint64_t m;

	memcpy(buf, device, len);
	buf[len] = (uint8_t)qpn;
	buf[len + 1] = (uint8_t)(qpn >> 8);
	buf[len + 2] = (uint8_t)(qpn >> 16);
	buf[len + 3] = (uint8_t)(qpn >> 24);
	for (i = 0; i + 8 <= total; i += 8) {
		memcpy(&m, buf + i, 8);
		sip_block(v, m);
	}
	m = (uint64_t)(total & 0xff) << 56;
	for (size_t k = 0; i + k < total; k++)
		m |= (uint64_t)buf[i + k] << (8 * k);
	sip_block(v, m);
	v[2] ^= 0xff;
	sipround(v);
	sipround(v);
	sipround(v);
	sipround(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

static int same_key(const struct qpt_entry *q, const char *device, uint32_t qpn)
{
	return q->qpn == qpn && strncmp(q->device, device, sizeof(q->device) - 1) == 0;
}

void qpt_init(struct qptable *t)
{
	memset(t, 0, sizeof(*t));
	if (getrandom(t->seed, sizeof(t->seed), GRND_NONBLOCK) != (ssize_t)sizeof(t->seed)) {
		/* No entropy yet (early boot): still unpredictable enough to a
		 * local user that cannot read our memory. */
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		t->seed[0] = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ull ^ (uint64_t)getpid();
		t->seed[1] = (uint64_t)ts.tv_sec ^ (uint64_t)(uintptr_t)t;
	}
}

void qpt_free(struct qptable *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		free(t->e[i].dest);
	free(t->e);
	free(t->slot);
	memset(t, 0, sizeof(*t));
}

/* The slot holding entry index `want` (or, want == SIZE_MAX, the key's
 * entry), or the empty slot where the key would go. */
static size_t probe(const struct qptable *t, const char *device, uint32_t qpn, size_t want)
{
	size_t mask = t->nslot - 1, s = (size_t)key_hash(t, device, qpn) & mask;

	for (;;) {
		uint32_t v = t->slot[s];

		if (!v)
			return s;
		if (want == SIZE_MAX ? same_key(&t->e[v - 1], device, qpn) : v - 1 == want)
			return s;
		s = (s + 1) & mask;
	}
}

static int rebuild(struct qptable *t, size_t nslot)
{
	uint32_t *slot = calloc(nslot, sizeof(*slot));
	size_t i;

	if (!slot)
		return -ENOMEM;
	free(t->slot);
	t->slot = slot;
	t->nslot = nslot;
	for (i = 0; i < t->n; i++)
		t->slot[probe(t, t->e[i].device, t->e[i].qpn, i)] = (uint32_t)(i + 1);
	return 0;
}

struct qpt_entry *qpt_find(struct qptable *t, const char *device, uint32_t qpn)
{
	uint32_t v;

	if (!t->nslot)
		return NULL;
	v = t->slot[probe(t, device, qpn, SIZE_MAX)];
	return v ? &t->e[v - 1] : NULL;
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
	if (t->n >= UINT32_MAX - 1)
		return NULL;
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		struct qpt_entry *ne = realloc(t->e, cap * sizeof(*ne));

		if (!ne)
			return NULL;
		t->e = ne;
		t->cap = cap;
	}
	if ((t->n + 1) * 2 > t->nslot &&
	    rebuild(t, t->nslot ? t->nslot * 2 : MIN_SLOTS) < 0)
		return NULL;
	q = &t->e[t->n];
	memset(q, 0, sizeof(*q));
	strncpy(q->device, device, sizeof(q->device) - 1);
	q->qpn = qpn;
	t->slot[probe(t, q->device, qpn, SIZE_MAX)] = (uint32_t)(t->n + 1);
	t->n++;
	return q;
}

/* Empties slot s and moves later members of its probe run back into the
 * gap (deletion without tombstones). */
static void slot_delete(struct qptable *t, size_t s)
{
	size_t mask = t->nslot - 1, j = s;

	for (;;) {
		size_t home;
		uint32_t v;

		j = (j + 1) & mask;
		v = t->slot[j];
		if (!v)
			break;
		home = (size_t)key_hash(t, t->e[v - 1].device, t->e[v - 1].qpn) & mask;
		/* Move v into the gap at s unless its home lies cyclically in
		 * (s, j]: then it is still reachable where it is. */
		if (s <= j ? (home <= s || home > j) : (home <= s && home > j)) {
			t->slot[s] = v;
			s = j;
		}
	}
	t->slot[s] = 0;
}

static void remove_at(struct qptable *t, size_t i)
{
	size_t last = t->n - 1;

	slot_delete(t, probe(t, t->e[i].device, t->e[i].qpn, i));
	free(t->e[i].dest);
	if (i != last) {
		t->slot[probe(t, t->e[last].device, t->e[last].qpn, last)] = (uint32_t)(i + 1);
		t->e[i] = t->e[last];
	}
	t->n--;
	t->removals++;
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

int qpt_add_dest(struct qpt_entry *q, const struct qpt_dest *d)
{
	unsigned i;

	if (!q->dest) {
		q->dest = calloc(QPT_UD_HISTORY, sizeof(*q->dest));
		if (!q->dest)
			return -ENOMEM;
		q->ndest = 0;
	}
	for (i = 0; i < q->ndest; i++) {
		if (q->dest[i].lid == d->lid && q->dest[i].qpn == d->qpn &&
		    memcmp(q->dest[i].gid, d->gid, 16) == 0) {
			/* Known: move it to the newest position. */
			struct qpt_dest keep = *d;

			memmove(&q->dest[i], &q->dest[i + 1], (q->ndest - i - 1) * sizeof(*d));
			q->dest[q->ndest - 1] = keep;
			return 0;
		}
	}
	if (q->ndest == QPT_UD_HISTORY) {
		memmove(&q->dest[0], &q->dest[1], (QPT_UD_HISTORY - 1) * sizeof(*d));
		q->ndest--;
	}
	q->dest[q->ndest++] = *d;
	return 0;
}

size_t qpt_count_pid(const struct qptable *t, pid_t pid)
{
	size_t i, n = 0;

	for (i = 0; i < t->n; i++)
		n += t->e[i].pid == pid;
	return n;
}

size_t qpt_count_client(const struct qptable *t, uint64_t client_id)
{
	size_t i, n = 0;

	for (i = 0; i < t->n; i++)
		n += t->e[i].client_id == client_id;
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
