/* The agent's clock (see sema.h). */
#include <time.h>

#include "sema/sema.h"

int64_t sema_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t sema_now_ms(void)
{
	return sema_now_us() / 1000;
}
