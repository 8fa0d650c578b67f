/* SecMgt replay guard: fixed tables, no allocation.
 *
 * Remembered nonces sit in a ring in arrival order, indexed by a chained hash
 * (bucket heads + next links, 16-bit slot numbers). A nonce leaves the ring
 * only from its head: when it has expired (timestamp older than now - window)
 * or when the ring is full. Either way the floor rises above the leaving
 * entry's timestamp, so this invariant holds: every accepted nonce whose
 * timestamp is >= floor is still remembered. A replay therefore meets either
 * its remembered nonce (REPLAY) or the floor (STALE), even if the local clock
 * steps back. */
#include <errno.h>
#include <string.h>

#include <openssl/rand.h>

#include "mad_defs/secmgt.h"

_Static_assert(IAS_REPLAY_SLOTS < IAS_REPLAY_NONE, "slot numbers fit u16");
_Static_assert((IAS_REPLAY_BUCKETS & (IAS_REPLAY_BUCKETS - 1)) == 0,
	       "bucket count is a power of two");

#define MAX_WINDOW_MS (24ull * 3600 * 1000)

int ias_replay_init(struct ias_replay *rp, uint64_t window_ms)
{
	memset(rp, 0, sizeof(*rp));
	if (window_ms == 0 || window_ms > MAX_WINDOW_MS)
		return -EINVAL;
	rp->window_ms = window_ms;
	memset(rp->bucket, 0xff, sizeof(rp->bucket));
	if (RAND_bytes((unsigned char *)&rp->seed, sizeof(rp->seed)) != 1)
		return -EIO;
	return 0;
}

static unsigned bucket_of(const struct ias_replay *rp, uint64_t nonce)
{
	uint64_t h = (nonce ^ rp->seed) * 0x9E3779B97F4A7C15ull;

	h ^= h >> 29;
	return (unsigned)(h & (IAS_REPLAY_BUCKETS - 1));
}

static void pop_head(struct ias_replay *rp)
{
	uint16_t s = (uint16_t)rp->head;
	uint16_t *link = &rp->bucket[bucket_of(rp, rp->nonce[s])];

	while (*link != IAS_REPLAY_NONE && *link != s)
		link = &rp->next[*link];
	if (*link == s)
		*link = rp->next[s];
	if (rp->ts[s] >= rp->floor_ms)
		rp->floor_ms = rp->ts[s] == UINT64_MAX ? UINT64_MAX : rp->ts[s] + 1;
	rp->head = (rp->head + 1) % IAS_REPLAY_SLOTS;
	rp->count--;
}

enum ias_mad_reason ias_replay_check_and_remember(struct ias_replay *rp,
						  uint64_t ts_ms, uint64_t nonce,
						  uint64_t now_ms)
{
	uint64_t w = rp->window_ms;
	unsigned b;
	uint16_t s;

	if (ts_ms < rp->floor_ms)
		return IAS_MAD_STALE;
	if (now_ms > w && ts_ms < now_ms - w)
		return IAS_MAD_STALE;
	if (ts_ms > now_ms && ts_ms - now_ms > w)
		return IAS_MAD_STALE;
	/* Forget what has expired at the head. */
	while (rp->count && now_ms > w && rp->ts[rp->head] < now_ms - w)
		pop_head(rp);
	b = bucket_of(rp, nonce);
	for (s = rp->bucket[b]; s != IAS_REPLAY_NONE; s = rp->next[s])
		if (rp->nonce[s] == nonce)
			return IAS_MAD_REPLAY;
	if (rp->count == IAS_REPLAY_SLOTS) {
		pop_head(rp);
		rp->forced++;
		/* The floor may now exclude this very message. */
		if (ts_ms < rp->floor_ms)
			return IAS_MAD_STALE;
	}
	s = (uint16_t)((rp->head + rp->count) % IAS_REPLAY_SLOTS);
	rp->nonce[s] = nonce;
	rp->ts[s] = ts_ms;
	rp->next[s] = rp->bucket[b];
	rp->bucket[b] = s;
	rp->count++;
	return IAS_MAD_OK;
}
