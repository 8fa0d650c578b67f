/* The agent's policy: what a block does and how long it lasts. Set from the
 * configuration at first start, then by Set(Policy) from the manager or
 * `iasctl policy set`, and kept in the store across restarts. Names, ranges
 * and the check are the one policy model's (mad_defs/policy.h). */
#ifndef IAS_SEMA_POLICY_H
#define IAS_SEMA_POLICY_H

#include <stddef.h>

#include "mad_defs/policy.h"
#include "sema/sema.h"

/* Persist / load through the store's policy table. */
int policy_save(struct sema *s, const struct ias_policy *p);
/* 0 loaded, -ENOENT none stored (p untouched), other negative errno. */
int policy_load(struct sema *s, struct ias_policy *p);
void policy_from_config(const struct sema_config *c, struct ias_policy *p);

#endif
