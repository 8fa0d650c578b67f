/* Cross-node trace-back (the paper's SecMgt trace): after a block, send an
 * authenticated Set(Trace) to the remote end of every QP of the blocked
 * process; on receiving one, block the owner of the named QP and trace on.
 * Traces are idempotent and loop-free: a process already part of the
 * incident answers DUPLICATE and forwards nothing (a process blocked for
 * another incident joins this one and traces on), the dry-run flag travels
 * with the trace, a trace never goes back through the QP it
 * arrived on, and hop and fan-out limits bound it. Every hop is an incident
 * event. */
#ifndef IAS_SEMA_TRACE_H
#define IAS_SEMA_TRACE_H

#include <stdint.h>
#include <sys/types.h>

#include "mad_defs/secmgt.h"
#include "sema/mad_port.h"
#include "sema/sema.h"

/* Serve an authenticated Set(Trace) from `from`; fills the TraceResult.
 * Returns the MAD status. */
uint16_t trace_handle(struct sema *s, const struct ias_secmgt_msg *req, const struct mad_dest *from,
		      struct ias_attr_trace_result *res);

/* Send traces for a blocked process: to the remote end of each of its QPs
 * except local QP except_qpn (0: none), at hop count hop; flags
 * SEMA_TRACE_DRY_RUN (sema/effects.h) marks them dry-run (so does the
 * policy). Records them in the caller's open transaction. Returns how many
 * traces were sent. Wired as the send_traces effect. */
unsigned trace_out(struct sema *s, const char *incident, pid_t pid, uint8_t hop,
		   uint32_t except_qpn, unsigned flags);

#endif
