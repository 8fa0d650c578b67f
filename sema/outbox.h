/* The durable outbox of reports to the manager, written by the engine and
 * the trace handler inside their unit of work; sent by sema/report.c. A
 * lower module: it calls only the store. */
#ifndef IAS_SEMA_OUTBOX_H
#define IAS_SEMA_OUTBOX_H

#include <stdint.h>
#include <sys/types.h>

#include "sema/sema.h"

/* Append one report (inside the caller's transaction, if any). 0 or -errno. */
int outbox_add(struct sema *s, uint8_t kind, const char *incident, int64_t block_id,
	       pid_t pid, uint32_t qp_count, const char *comm, uint16_t peer_lid,
	       uint32_t peer_qpn);

#endif
