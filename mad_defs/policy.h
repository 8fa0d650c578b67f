/* The one policy model of IAS: search levels, block modes and the policy
 * record, shared by the SecMgt wire format, the agent, the manager, the
 * store and iasctl. Names, ranges and their checks live in
 * mad_defs/policy.c; the wire layout is struct ias_attr_policy in secmgt.h. */
#ifndef IAS_MAD_DEFS_POLICY_H
#define IAS_MAD_DEFS_POLICY_H

#include <stdint.h>

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

#endif
