/* common/ratelimit: the one limiter for log lines about outside input. */
#include "common/ratelimit.h"
#include "tests/unit/tap.h"

int main(void)
{
	struct ias_ratelimit rl = IAS_RATELIMIT_INIT(10000, 3);
	unsigned i, k = 0;

	for (i = 0; i < 10; i++)
		k += (unsigned)ias_ratelimit_ok(&rl, 1000 + i);
	is_int(k, 3, "three lines in the first window");
	is_int(rl.suppressed, 7, "the rest counted as suppressed");
	ok(!ias_ratelimit_ok(&rl, 10999), "still refused just before the window ends");
	ok(ias_ratelimit_ok(&rl, 11000), "a new window opens at its end");
	ok(ias_ratelimit_ok(&rl, 11001) && ias_ratelimit_ok(&rl, 11002), "with its own burst");
	ok(!ias_ratelimit_ok(&rl, 11003), "and its own bound");
	ok(ias_ratelimit_ok(&rl, 500000), "a long quiet time opens a window too");

	{
		struct ias_ratelimit z = IAS_RATELIMIT_INIT(0, 1);

		ok(ias_ratelimit_ok(&z, 0), "interval 0 at time 0: allowed");
		ok(!ias_ratelimit_ok(&z, 0), "and bounded within the same millisecond");
		ok(ias_ratelimit_ok(&z, 1), "a millisecond later: allowed again");
	}
	{
		struct ias_ratelimit none = IAS_RATELIMIT_INIT(1000, 0);

		ok(!ias_ratelimit_ok(&none, 5), "burst 0 logs nothing");
	}
	return tap_done();
}
