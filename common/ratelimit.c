/* See ratelimit.h. */
#include "common/ratelimit.h"

int ias_ratelimit_ok(struct ias_ratelimit *rl, uint64_t now_ms)
{
	if (!rl->window_end || now_ms >= rl->window_end) {
		rl->window_end = now_ms + (rl->interval_ms ? rl->interval_ms : 1);
		rl->used = 0;
	}
	if (rl->used < rl->burst) {
		rl->used++;
		return 1;
	}
	rl->suppressed++;
	return 0;
}
