/* PLACEHOLDER until branch "mirror" is merged: its sema/mirror.c replaces
 * this file. No look-up is possible here: every call fails at once, so a
 * trace that needs one becomes a dead end or an unconfirmed claim. */
#include <errno.h>

#include "sema/mirror.h"

int mirror_confirm(struct sema *s, const struct mad_dest *agent, const char *device,
		   uint32_t lqpn, uint32_t rqpn, mirror_cb cb, void *arg)
{
	(void)s, (void)agent, (void)device, (void)lqpn, (void)rqpn, (void)cb, (void)arg;
	return -EOPNOTSUPP;
}

int mirror_find(struct sema *s, const char *device, uint32_t lqpn, uint32_t rqpn,
		mirror_cb cb, void *arg)
{
	(void)s, (void)device, (void)lqpn, (void)rqpn, (void)cb, (void)arg;
	return -EOPNOTSUPP;
}

const char *mirror_result_str(enum mirror_result r)
{
	static const char *const names[] = { "found", "none", "ambiguous", "no answer", "no agents" };

	return (unsigned)r < sizeof(names) / sizeof(names[0]) ? names[r] : "?";
}
