/* The one policy model of IAS: search levels, block modes and the policy
 * record, shared by the SecMgt wire format, the agent, the manager, the
 * store and iasctl. Names, ranges and their checks live in
 * mad_defs/policy.c; the wire layout is struct ias_attr_policy in secmgt.h. */
#ifndef IAS_MAD_DEFS_POLICY_H
#define IAS_MAD_DEFS_POLICY_H

#include <stddef.h>
#include <stdint.h>

struct ias_attr_policy;

/* Analyzer search level (the paper's multi-level search). */
enum ias_level {
	IAS_LEVEL_BASIC,
	IAS_LEVEL_SIBLING,
	IAS_LEVEL_LCA,
	IAS_LEVEL_SELINUX,
	IAS_LEVEL_ZONE,
};

/* What a block does to a process. */
enum ias_mode {
	IAS_MODE_PAUSE,		/* per-QP pause orders through libias */
	IAS_MODE_CUT,		/* per-QP cut (QP to the error state) through libias */
	IAS_MODE_FREEZE,	/* the whole process frozen from outside */
	IAS_MODE_KILL,		/* the process killed (only where policy says so) */
};

/* A policy as the agent holds it (host units: milliseconds). */
struct ias_policy {
	uint32_t version;
	unsigned level;			/* enum ias_level */
	unsigned block_mode;		/* enum ias_mode */
	int dry_run;
	uint64_t base_duration_ms;	/* 0: no end */
	uint64_t max_duration_ms;
	uint64_t escalation;		/* duration factor per repeat offence */
	uint64_t hop_limit;
	uint64_t fanout_limit;
};

/* The ranges every component checks, config tables included. The wire
 * (struct ias_attr_policy) carries hop_limit and fanout_limit as u8, the
 * escalation factor as u16 x100 and durations as u32 seconds; policy.c pins
 * these ranges to those widths with static asserts. */
#define IAS_POLICY_HOP_MIN		1
#define IAS_POLICY_HOP_MAX		64
#define IAS_POLICY_FANOUT_MIN		1
#define IAS_POLICY_FANOUT_MAX		255
#define IAS_POLICY_ESCALATION_MIN	1
#define IAS_POLICY_ESCALATION_MAX	100
#define IAS_POLICY_DURATION_MAX_MS	(365ull * 24 * 3600 * 1000)	/* 365 days */

/* Names, indexed by the enums; NULL-terminated (config enum tables). */
extern const char *const ias_level_names[];
extern const char *const ias_mode_names[];

/* The name of a level or mode, or "?" when out of range. */
const char *ias_level_name(unsigned level);
const char *ias_mode_name(unsigned mode);
/* The enum value of a name, or -EINVAL. */
int ias_level_parse(const char *name);
int ias_mode_parse(const char *name);

/* 0, or -EINVAL with the reason in msg (msg may be NULL). A base duration of
 * 0 means "until released" (agent-local: the wire cannot carry it). */
int ias_policy_check(const struct ias_policy *p, char *msg, size_t msglen);

/* To the wire: 0, or -ERANGE when p cannot be carried (a field outside the
 * ranges above, or a duration that is 0 or not whole seconds' worth: the
 * wire wants base > 0). a is filled either way, clamped. */
int ias_policy_to_attr(const struct ias_policy *p, struct ias_attr_policy *a);
/* From the wire: every field converted (escalation rounded down to whole
 * factors); check the result with ias_policy_check. */
void ias_policy_from_attr(const struct ias_attr_policy *a, struct ias_policy *p);
/* Check a wire policy by the same rules: 0 or -EINVAL with the reason. */
int ias_policy_check_attr(const struct ias_attr_policy *a, char *msg, size_t msglen);

#endif
