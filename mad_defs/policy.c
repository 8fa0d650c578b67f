/* See policy.h: the one policy model's names, ranges, check and wire
 * conversion. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "mad_defs/policy.h"
#include "mad_defs/secmgt.h"

#define FIELD_MAX(type, field) \
	((1ull << (8 * sizeof(((type *)0)->field))) - 1)

/* The ranges fit the wire fields that carry them. */
_Static_assert(IAS_POLICY_HOP_MAX <= FIELD_MAX(struct ias_attr_policy, hop_limit),
	       "hop_limit range exceeds the wire's u8");
_Static_assert(IAS_POLICY_HOP_MAX <= FIELD_MAX(struct ias_attr_trace, hop_limit),
	       "hop_limit range exceeds the Trace's u8");
_Static_assert(IAS_POLICY_FANOUT_MAX <= FIELD_MAX(struct ias_attr_policy, fanout_limit),
	       "fanout_limit range exceeds the wire's u8");
_Static_assert(IAS_POLICY_FANOUT_MAX <= FIELD_MAX(struct ias_attr_trace, fanout_limit),
	       "fanout_limit range exceeds the Trace's u8");
_Static_assert(IAS_POLICY_ESCALATION_MAX * 100 <= FIELD_MAX(struct ias_attr_policy, escalation_x100),
	       "escalation range exceeds the wire's u16 x100");
_Static_assert(IAS_POLICY_DURATION_MAX_MS / 1000 <= FIELD_MAX(struct ias_attr_policy, max_duration_s),
	       "duration range exceeds the wire's u32 seconds");
_Static_assert(IAS_POLICY_HOP_MIN >= 1 && IAS_POLICY_FANOUT_MIN >= 1 && IAS_POLICY_ESCALATION_MIN >= 1,
	       "limits of 0 mean nothing");
/* The host enums are the wire's numbers. */
#define SAME(a, b) ((int)(a) == (int)(b))
_Static_assert(SAME(IAS_LEVEL_BASIC, IAS_SEARCH_BASIC) && SAME(IAS_LEVEL_SIBLING, IAS_SEARCH_SIBLING) &&
	       SAME(IAS_LEVEL_LCA, IAS_SEARCH_LCA) && SAME(IAS_LEVEL_SELINUX, IAS_SEARCH_SELINUX) &&
	       SAME(IAS_LEVEL_ZONE, IAS_SEARCH_ZONE) && SAME(IAS_SEARCH_MAX, IAS_LEVEL_ZONE),
	       "search levels differ from the wire's");
_Static_assert(SAME(IAS_MODE_PAUSE, IAS_BLOCK_PAUSE) && SAME(IAS_MODE_CUT, IAS_BLOCK_CUT) &&
	       SAME(IAS_MODE_FREEZE, IAS_BLOCK_FREEZE) && SAME(IAS_MODE_KILL, IAS_BLOCK_KILL) &&
	       SAME(IAS_BLOCK_MODE_MAX, IAS_MODE_KILL),
	       "block modes differ from the wire's");

const char *const ias_level_names[] = {
	[IAS_LEVEL_BASIC] = "basic",
	[IAS_LEVEL_SIBLING] = "sibling",
	[IAS_LEVEL_LCA] = "lca",
	[IAS_LEVEL_SELINUX] = "selinux",
	[IAS_LEVEL_ZONE] = "zone",
	NULL
};

const char *const ias_mode_names[] = {
	[IAS_MODE_PAUSE] = "pause",
	[IAS_MODE_CUT] = "cut",
	[IAS_MODE_FREEZE] = "freeze",
	[IAS_MODE_KILL] = "kill",
	NULL
};

#define NLEVELS (sizeof(ias_level_names) / sizeof(ias_level_names[0]) - 1)
#define NMODES (sizeof(ias_mode_names) / sizeof(ias_mode_names[0]) - 1)
_Static_assert(NLEVELS == IAS_LEVEL_ZONE + 1, "a name for every level");
_Static_assert(NMODES == IAS_MODE_KILL + 1, "a name for every mode");

const char *ias_level_name(unsigned level)
{
	return level < NLEVELS ? ias_level_names[level] : "?";
}

const char *ias_mode_name(unsigned mode)
{
	return mode < NMODES ? ias_mode_names[mode] : "?";
}

static int parse(const char *const *names, const char *name)
{
	int i;

	for (i = 0; name && names[i]; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	return -EINVAL;
}

int ias_level_parse(const char *name)
{
	return parse(ias_level_names, name);
}

int ias_mode_parse(const char *name)
{
	return parse(ias_mode_names, name);
}

static int fail(char *msg, size_t msglen, const char *why)
{
	if (msg && msglen)
		snprintf(msg, msglen, "%s", why);
	return -EINVAL;
}

#define STR_(x) #x
#define STR(x) STR_(x)

int ias_policy_check(const struct ias_policy *p, char *msg, size_t msglen)
{
	if (p->level >= NLEVELS)
		return fail(msg, msglen, "unknown search level");
	if (p->block_mode >= NMODES)
		return fail(msg, msglen, "unknown block mode");
	if (p->max_duration_ms > IAS_POLICY_DURATION_MAX_MS ||
	    p->base_duration_ms > IAS_POLICY_DURATION_MAX_MS)
		return fail(msg, msglen, "durations are at most 365 days");
	if (p->max_duration_ms && p->base_duration_ms > p->max_duration_ms)
		return fail(msg, msglen, "base duration exceeds the maximum duration");
	if (p->escalation < IAS_POLICY_ESCALATION_MIN || p->escalation > IAS_POLICY_ESCALATION_MAX)
		return fail(msg, msglen, "escalation factor must be "
			    STR(IAS_POLICY_ESCALATION_MIN) " to " STR(IAS_POLICY_ESCALATION_MAX));
	if (p->hop_limit < IAS_POLICY_HOP_MIN || p->hop_limit > IAS_POLICY_HOP_MAX)
		return fail(msg, msglen, "hop limit must be "
			    STR(IAS_POLICY_HOP_MIN) " to " STR(IAS_POLICY_HOP_MAX));
	if (p->fanout_limit < IAS_POLICY_FANOUT_MIN || p->fanout_limit > IAS_POLICY_FANOUT_MAX)
		return fail(msg, msglen, "fan-out limit must be "
			    STR(IAS_POLICY_FANOUT_MIN) " to " STR(IAS_POLICY_FANOUT_MAX));
	return 0;
}

static uint64_t clamp(uint64_t v, uint64_t max)
{
	return v > max ? max : v;
}

int ias_policy_to_attr(const struct ias_policy *p, struct ias_attr_policy *a)
{
	int r = ias_policy_check(p, NULL, 0) ? -ERANGE : 0;

	memset(a, 0, sizeof(*a));
	a->policy_version = p->version;
	a->search_level = (uint8_t)clamp(p->level, UINT8_MAX);
	a->block_mode = (uint8_t)clamp(p->block_mode, UINT8_MAX);
	a->flags = p->dry_run ? IAS_POLICY_F_DRY_RUN : 0;
	a->hop_limit = (uint8_t)clamp(p->hop_limit, IAS_POLICY_HOP_MAX);
	a->fanout_limit = (uint8_t)clamp(p->fanout_limit, IAS_POLICY_FANOUT_MAX);
	a->escalation_x100 = (uint16_t)(clamp(p->escalation, IAS_POLICY_ESCALATION_MAX) * 100);
	a->base_duration_s = (uint32_t)(clamp(p->base_duration_ms, IAS_POLICY_DURATION_MAX_MS) / 1000);
	a->max_duration_s = (uint32_t)(clamp(p->max_duration_ms, IAS_POLICY_DURATION_MAX_MS) / 1000);
	if (!a->base_duration_s || p->base_duration_ms % 1000 || p->max_duration_ms % 1000 ||
	    a->max_duration_s < a->base_duration_s)
		r = -ERANGE;
	return r;
}

void ias_policy_from_attr(const struct ias_attr_policy *a, struct ias_policy *p)
{
	memset(p, 0, sizeof(*p));
	p->version = a->policy_version;
	p->level = a->search_level;
	p->block_mode = a->block_mode;
	p->dry_run = (a->flags & IAS_POLICY_F_DRY_RUN) != 0;
	p->hop_limit = a->hop_limit;
	p->fanout_limit = a->fanout_limit;
	p->escalation = a->escalation_x100 / 100u;
	p->base_duration_ms = (uint64_t)a->base_duration_s * 1000;
	p->max_duration_ms = (uint64_t)a->max_duration_s * 1000;
}

int ias_policy_check_attr(const struct ias_attr_policy *a, char *msg, size_t msglen)
{
	struct ias_policy p;

	if (a->flags & ~IAS_POLICY_F_MASK)
		return fail(msg, msglen, "unknown policy flags");
	if (!a->base_duration_s)
		return fail(msg, msglen, "base_duration_s must be positive");
	if (a->max_duration_s < a->base_duration_s)
		return fail(msg, msglen, "max_duration_s must be at least base_duration_s");
	ias_policy_from_attr(a, &p);
	return ias_policy_check(&p, msg, msglen);
}
