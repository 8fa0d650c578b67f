/* A bounded rate for log lines about outside input (refused MADs, bad
 * requests): at most `burst` lines per `interval_ms`, counted from the first
 * line of a window. Pure: the caller passes the clock. */
#ifndef IAS_COMMON_RATELIMIT_H
#define IAS_COMMON_RATELIMIT_H

#include <stdint.h>

struct ias_ratelimit {
	uint64_t interval_ms;
	unsigned burst;
	uint64_t window_end;	/* ms; 0: no window open yet */
	unsigned used;		/* lines in the current window */
	uint64_t suppressed;	/* lines refused, all time */
};

#define IAS_RATELIMIT_INIT(ms, n) { .interval_ms = (ms), .burst = (n) }

/* 1 when one more line may be logged at now_ms, else 0 (counted). */
int ias_ratelimit_ok(struct ias_ratelimit *rl, uint64_t now_ms);

#endif
