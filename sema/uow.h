/* One unit of work: every entry into the engine (a report from the control
 * socket, a trace hop, a release, the expiry, the restore) runs inside one.
 *
 *   uow_begin      opens the store transaction
 *   ... decide; write the rows (no fsync yet); enforce and send the first
 *       traces (the stop does not wait for the disk); each enforcement is
 *       remembered in the unit (uow_enforced) and each acknowledgement
 *       queued (uow_ack_alert, uow_ack_log, uow_kick) ...
 *   uow_commit     the fsync. Only then are the acknowledgements made:
 *                  alerts broadcast, "blocked" logged, the outbox kicked;
 *                  the caller replies after it returns 0.
 *                  If the commit fails: every enforcement of the unit is
 *                  undone (thaw, resume), nothing is acknowledged, an error
 *                  that claims no block is logged, and the agent withdraws
 *                  its readiness until a later unit commits.
 *   uow_abort      the same undo without a store failure (nothing to keep).
 *
 * The lists are growable and owned by the unit: no fixed-size deferral, and
 * a block is never enforced before its rows are written. */
#ifndef IAS_SEMA_UOW_H
#define IAS_SEMA_UOW_H

#include <stdbool.h>
#include <stddef.h>

#include "sema/sema.h"
#include "sema/store.h"

struct enforced;
struct uow_ack;

struct sema_uow {
	struct sema *s;
	struct enforced *enf;
	size_t nenf, capenf;
	struct uow_ack *ack;
	size_t nack, capack;
	bool open;		/* the transaction is open */
	bool kick;		/* the outbox has new reports */
};

/* 0, or -EIO with the store's message in err. */
int uow_begin(struct sema *s, struct sema_uow *u, char *err, size_t errlen);
/* Remember an enforcement (copied) to undo if the unit fails. 0 or -ENOMEM
 * (the enforcement is then undone at once: never one without a record). */
int uow_enforced(struct sema_uow *u, const struct enforced *e);
/* Acknowledgements, made only after the commit. */
int uow_ack_alert(struct sema_uow *u, const struct ias_alert_rec *a, const char *origin);
int uow_ack_log(struct sema_uow *u, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void uow_kick(struct sema_uow *u);
/* 0 committed and acknowledged; -EIO the store could not commit (undone,
 * err says why); frees the unit either way. */
int uow_commit(struct sema_uow *u, char *err, size_t errlen);
/* Roll back and undo; frees the unit. NULL-safe on an unopened unit. */
void uow_abort(struct sema_uow *u);

#endif
