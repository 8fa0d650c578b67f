/* See policy.h. Stored in the store's typed policy table. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sema/policy.h"
#include "sema/store.h"

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
	if (ias_policy_check(&q, msg, sizeof(msg)))
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
