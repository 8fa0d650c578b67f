/* The agent's policy: what a block does and how long it lasts. Set from the
 * configuration at first start, then by Set(Policy) from the manager or
 * `iasctl policy set`, and kept in the store across restarts. Names, ranges
 * and the check are the one policy model's (mad_defs/policy.h). */
#ifndef IAS_SEMA_POLICY_H
#define IAS_SEMA_POLICY_H

#include <stddef.h>

#include "mad_defs/policy.h"
#include "sema/sema.h"

/* Transitional names for callers not yet switched to mad_defs/policy.h
 * (sema/main.c, sema/ctl_ops.c); to be removed once they are. */
#define policy_level_names ias_level_names
#define policy_mode_names ias_mode_names
#define policy_check ias_policy_check
static inline int policy_lookup(const char *const *names, const char *name)
{
	return names == ias_level_names ? ias_level_parse(name) : ias_mode_parse(name);
}

/* Persist / load through the store's policy table. */
int policy_save(struct sema *s, const struct ias_policy *p);
/* 0 loaded, -ENOENT none stored (p untouched), other negative errno. */
int policy_load(struct sema *s, struct ias_policy *p);
void policy_from_config(const struct sema_config *c, struct ias_policy *p);

#endif
