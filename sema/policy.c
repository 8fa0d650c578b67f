/* See policy.h. Stored as "key=value" pairs separated by spaces. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sema/policy.h"
#include "sema/store.h"

int policy_save(struct sema *s, const struct ias_policy *p)
{
	char buf[512];

	snprintf(buf, sizeof(buf),
		 "version=%" PRIu32 " level=%u mode=%u dry_run=%d base_ms=%" PRIu64
		 " max_ms=%" PRIu64 " escalation=%" PRIu64 " hops=%" PRIu64 " fanout=%" PRIu64,
		 p->version, p->level, p->block_mode, p->dry_run ? 1 : 0, p->base_duration_ms,
		 p->max_duration_ms, p->escalation, p->hop_limit, p->fanout_limit);
	return ias_store_kv_set(s->store, "policy", buf);
}

int policy_load(struct sema *s, struct ias_policy *p)
{
	struct ias_policy q = *p;
	char buf[512], *tok, *save = NULL, msg[128];
	int r = ias_store_kv_get(s->store, "policy", buf, sizeof(buf));

	if (r < 0)
		return r;
	for (tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		char *eq = strchr(tok, '='), *end;
		unsigned long long v;

		if (!eq)
			return -EBADMSG;
		*eq++ = '\0';
		v = strtoull(eq, &end, 10);
		if (*end || end == eq)
			return -EBADMSG;
		if (strcmp(tok, "version") == 0) q.version = (uint32_t)v;
		else if (strcmp(tok, "level") == 0) q.level = (unsigned)v;
		else if (strcmp(tok, "mode") == 0) q.block_mode = (unsigned)v;
		else if (strcmp(tok, "dry_run") == 0) q.dry_run = v != 0;
		else if (strcmp(tok, "base_ms") == 0) q.base_duration_ms = v;
		else if (strcmp(tok, "max_ms") == 0) q.max_duration_ms = v;
		else if (strcmp(tok, "escalation") == 0) q.escalation = v;
		else if (strcmp(tok, "hops") == 0) q.hop_limit = v;
		else if (strcmp(tok, "fanout") == 0) q.fanout_limit = v;
	}
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
