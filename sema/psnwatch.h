/* The PSN watch: a per-QP pause is carried out by the suspect's own libias,
 * so after any pause order the agent checks it from outside. It reads the
 * send PSNs of every QP the kernel says the paused process owns (rdma
 * netlink QP dump, sema/rdmanl.h), once the grace period (psn_watch_grace)
 * has let posted work drain, then every grace period while the block lasts.
 * When a PSN moves past the grace period, the block is escalated to a
 * freeze in a unit of work, and an "escalated" incident event and an audit
 * entry say why: the process undid the pause or posted through a path
 * libias does not gate. One timer and one dump per tick serve every watch;
 * nothing blocks but the dump (local netlink). */
#ifndef IAS_SEMA_PSNWATCH_H
#define IAS_SEMA_PSNWATCH_H

#include <stdint.h>
#include <sys/types.h>

#include "sema/rdmanl.h"

struct sema;
struct plan;

/* Start watching p's process (after its pause orders went out). 0 or
 * -ENOMEM. Without a reactor (s->ev NULL) nothing ticks by itself: the
 * caller drives psnwatch_tick. */
int psnwatch_start(struct sema *s, const struct plan *p);
/* Stop watching pid (with that start time; 0: any) after a release, an
 * undo or an escalation. */
void psnwatch_stop(struct sema *s, pid_t pid, uint64_t pid_start);
void psnwatch_stop_all(struct sema *s);
/* How many processes are watched. */
unsigned psnwatch_count(const struct sema *s);

/* One tick now, as the timer does it (tests drive it): dump, compare,
 * escalate. Returns how many blocks were escalated, or a negative errno of
 * the dump (the watches are kept). */
int psnwatch_tick(struct sema *s);

/* Tests: the QP dump to use instead of ias_rdmanl_dump_qps (NULL: back to
 * it). */
void psnwatch_set_dump(int (*dump)(ias_kqp_cb cb, void *arg));

#endif
