/* Reports to the manager (SeM). Every block, release, trace hop and
 * unreachable peer is appended to the store's outbox in the same
 * transaction as the event itself, then sent as an authenticated Report MAD
 * to the manager, one at a time in sequence order, until the manager
 * acknowledges it (ReportResp). Nothing is lost while the manager is down,
 * and the manager can fetch any report again with Get(Report, seq), so it
 * holds each exactly once. The manager's LID comes from the config
 * (manager_lid) or from the source of the last authenticated Set(Policy). */
#ifndef IAS_SEMA_REPORT_H
#define IAS_SEMA_REPORT_H

#include <stdint.h>
#include <sys/types.h>

#include "mad_defs/secmgt.h"
#include "sema/sema.h"

/* Reports are appended by sema/outbox.h inside the unit of work. */
/* Start sending what is waiting (after a commit, or when the manager
 * becomes known). */
void report_kick(struct sema *s);
/* The manager spoke from this LID (an authenticated Set(Policy)). */
void report_manager_seen(struct sema *s, uint16_t lid);
/* Answer Get(Report, seq); returns the MAD status. */
uint16_t report_serve_get(struct sema *s, uint32_t seq, struct ias_attr_report *out);
int report_start(struct sema *s);
void report_stop(struct sema *s);

#endif
