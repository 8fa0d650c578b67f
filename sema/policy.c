/* See policy.h. Stored in the store's typed policy table. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sema/policy.h"
#include "sema/store.h"

const char *const policy_level_names[] = { "basic", "sibling", "lca", "selinux", "zone", NULL };
const char *const policy_mode_names[] = { "pause", "cut", "freeze", "kill", NULL };

#define DAY_MS (24ull * 3600 * 1000)

int policy_lookup(const char *const *names, const char *name)
{
	int i;

	for (i = 0; names[i]; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	return -1;
}

int policy_check(const struct ias_policy *p, char *msg, size_t msglen)
{
	if (p->level > IAS_LEVEL_ZONE || p->block_mode > IAS_MODE_KILL) {
		snprintf(msg, msglen, "unknown level or block mode");
		return -EINVAL;
	}
	if (p->max_duration_ms && p->base_duration_ms > p->max_duration_ms) {
		snprintf(msg, msglen, "base duration exceeds the maximum duration");
		return -EINVAL;
	}
	if (p->max_duration_ms > 365 * DAY_MS) {
		snprintf(msg, msglen, "maximum duration is at most 365 days");
		return -EINVAL;
	}
	if (p->escalation < 1 || p->escalation > 100) {
		snprintf(msg, msglen, "escalation factor must be 1 to 100");
		return -EINVAL;
	}
	if (p->hop_limit < 1 || p->hop_limit > 64) {
		snprintf(msg, msglen, "hop limit must be 1 to 64");
		return -EINVAL;
	}
	if (p->fanout_limit < 1 || p->fanout_limit > 4096) {
		snprintf(msg, msglen, "fan-out limit must be 1 to 4096");
		return -EINVAL;
	}
	return 0;
}

int policy_save(struct sema *s, const struct ias_policy *p)
{
	return ias_store_policy_set(s->store, p);
}

int policy_load(struct sema *s, struct ias_policy *p)
{
	struct ias_policy q;
	char msg[128];
	int r = ias_store_policy_get(s->store, &q);

	if (r < 0)
		return r;
	if (policy_check(&q, msg, sizeof(msg)))
		return -EBADMSG;
	*p = q;
	return 0;
}

void policy_from_config(const struct sema_config *c, struct ias_policy *p)
{
	memset(p, 0, sizeof(*p));
	p->version = 1;
	p->level = c->level;
	p->block_mode = c->block_mode;
	p->dry_run = c->dry_run;
	p->base_duration_ms = c->block_duration;
	p->max_duration_ms = c->block_duration_max;
	p->escalation = c->escalation;
	p->hop_limit = c->hop_limit;
	p->fanout_limit = c->fanout_limit;
}
