/* Unit tests for the SecMgt replay guard (mad_defs/replay.c): window,
 * replays, the bounded table and its floor, clock steps. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mad_defs/secmgt.h"
#include "tests/unit/tap.h"

#define T0 1700000000000ull
#define W 30000ull

static struct ias_replay rp;

static uint64_t rng = 0x243f6a8885a308d3ull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static enum ias_mad_reason chk(uint64_t ts, uint64_t nonce, uint64_t now)
{
	return ias_replay_check_and_remember(&rp, ts, nonce, now);
}

static void test_init(void)
{
	is_int(ias_replay_init(&rp, 0), -EINVAL, "window 0 refused");
	is_int(ias_replay_init(&rp, 25ull * 3600 * 1000), -EINVAL, "window over a day refused");
	is_int(ias_replay_init(&rp, W), 0, "init with a 30 s window");
	is_int(rp.count, 0, "starts empty");
}

static void test_basic(void)
{
	ias_replay_init(&rp, W);
	is_int(chk(T0, 1, T0), IAS_MAD_OK, "fresh nonce accepted");
	is_int(chk(T0, 1, T0 + 5), IAS_MAD_REPLAY, "same nonce again: REPLAY");
	is_int(chk(T0 + 3, 1, T0 + 5), IAS_MAD_REPLAY, "same nonce, other timestamp: REPLAY");
	is_int(chk(T0, 2, T0), IAS_MAD_OK, "another nonce accepted");
	is_int(chk(T0 - W - 1, 3, T0), IAS_MAD_STALE, "too old: STALE");
	is_int(chk(T0 + W + 1, 4, T0), IAS_MAD_STALE, "too far in the future: STALE");
	is_int(chk(T0 - W, 5, T0), IAS_MAD_OK, "oldest edge accepted");
	is_int(chk(T0 + W, 6, T0), IAS_MAD_OK, "newest edge accepted");
	is_int(rp.count, 4, "four nonces remembered (no state for rejected ones)");
	is_int(chk(0, 7, 10), IAS_MAD_OK, "clock near zero does not underflow");
	is_int(chk(UINT64_MAX, 8, UINT64_MAX - 1), IAS_MAD_OK,
	       "clock near the top does not overflow");
}

static void test_expiry_and_clock_step(void)
{
	ias_replay_init(&rp, W);
	is_int(chk(T0, 100, T0), IAS_MAD_OK, "nonce at T0");
	/* Time passes; the next check forgets the T0 entry. */
	is_int(chk(T0 + W + 10, 101, T0 + W + 10), IAS_MAD_OK, "nonce after a window");
	is_int(rp.count, 1, "expired nonce forgotten");
	ok(rp.floor_ms > T0, "floor rose above the forgotten timestamp");
	/* The local clock steps back: the window alone would accept T0 again. */
	is_int(chk(T0, 100, T0), IAS_MAD_STALE, "replay after a clock step back: STALE");
	is_int(chk(T0 + 1, 102, T0), IAS_MAD_OK, "new messages after the step are fine");
}

static void test_capacity(void)
{
	unsigned i, bad = 0;

	ias_replay_init(&rp, W);
	for (i = 0; i < IAS_REPLAY_SLOTS; i++)
		bad += chk(T0, 1000 + i, T0) != IAS_MAD_OK;
	is_int(bad, 0, "4096 nonces in one millisecond accepted");
	is_int(rp.count, IAS_REPLAY_SLOTS, "table full");
	is_int(chk(T0, 999999, T0), IAS_MAD_STALE,
	       "a 4097th with the same timestamp: STALE (floor)");
	is_int(rp.forced, 1, "one forced eviction counted");
	is_int(chk(T0, 1000, T0), IAS_MAD_STALE, "the evicted nonce: STALE, never accepted");
	is_int(chk(T0, 1000 + IAS_REPLAY_SLOTS - 1, T0), IAS_MAD_STALE,
	       "any nonce at the floor: STALE");
	is_int(chk(T0 + 1, 5, T0 + 1), IAS_MAD_OK, "newer message accepted");
	is_int(rp.count, IAS_REPLAY_SLOTS, "memory stays bounded");
}

/* Model check: random arrivals with advancing time; every nonce accepted
 * must be refused afterwards, as REPLAY while remembered or STALE after. */
static void test_model(void)
{
	enum { N = 20000 };
	static uint64_t nonces[N], stamps[N];
	unsigned i, j, accepted = 0, wrong = 0, replays = 0;
	uint64_t now = T0;

	ias_replay_init(&rp, W);
	for (i = 0; i < N; i++) {
		enum ias_mad_reason why;

		now += rnd() % 8;
		nonces[i] = rnd();
		stamps[i] = now - rnd() % 1000 + 500;
		why = chk(stamps[i], nonces[i], now);
		if (why == IAS_MAD_OK)
			accepted++;
		else
			nonces[i] = 0;
		/* Replay a few earlier accepted ones. */
		for (j = 0; j < 2; j++) {
			unsigned k = (unsigned)(rnd() % (i + 1));

			if (!nonces[k])
				continue;
			why = chk(stamps[k], nonces[k], now);
			if (why == IAS_MAD_OK)
				wrong++;
			replays += why == IAS_MAD_REPLAY;
		}
	}
	ok(accepted > N * 9 / 10, "most fresh messages accepted (%u of %u)", accepted, N);
	is_int(wrong, 0, "no replay ever accepted");
	ok(replays > 0, "recent replays are caught as REPLAY (%u)", replays);
	ok(rp.count <= IAS_REPLAY_SLOTS, "table within bounds");
}

int main(void)
{
	test_init();
	test_basic();
	test_expiry_and_clock_step();
	test_capacity();
	test_model();
	return tap_done();
}
