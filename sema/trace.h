/* Cross-node trace-back (the paper's SecMgt trace): after a block, send an
 * authenticated Set(Trace) to the remote end of every QP of the blocked
 * process; on receiving one, block the owner of the named QP and trace on.
 * Traces are idempotent and loop-free: a process already blocked answers
 * DUPLICATE and forwards nothing, a trace never goes back through the QP it
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
 * except local QP except_qpn (0: none), at hop count hop. Fills up to maxhops
 * next hops; returns how many traces were sent. */
unsigned trace_out(struct sema *s, const char *incident, pid_t pid, uint8_t hop,
		   uint32_t except_qpn, struct ias_hop *hops, unsigned maxhops);

/* Incident ids between their text form "I-<tag>-<seq>" and the MAD's u64
 * (tag << 40 | seq). */
int incident_to_u64(const char *id, uint64_t *out);
void incident_from_u64(uint64_t v, char *out, size_t outlen);

#endif
