/* Cross-node trace-back (the paper's SecMgt trace): after a block, send an
 * authenticated Set(Trace) to the remote end of every QP of the blocked
 * process; on receiving one, block the owner of the named QP and trace on.
 *
 * Only a trusted remote end (qpt_remote_trusted: the kernel, or a peer
 * agent's confirmation) is traced at once. A remote end only the owner's
 * registration claims is confirmed with the agent it names first
 * (mirror_confirm); a remote QPN without an address is searched for
 * (mirror_find); the trace leaves when the answer comes, in a unit of work
 * of its own, if the block still exists. A claim not confirmed is an
 * "unconfirmed" incident event, a QP whose remote end cannot be learnt a
 * "dead-end" event; both are log lines too. A Trace received is obeyed only
 * when the QP it names is connected to the sender (see trace_handle).
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
#include "sema/mirror.h"
#include "sema/sema.h"

/* Serve an authenticated Set(Trace) from `from`; fills the TraceResult.
 * The named QP's remote QPN, known from the kernel or confirmed by a peer,
 * must be the sender's QPN, and where the kernel gave its remote address,
 * that must be the MAD's source; else the result is NOT_CONNECTED (counted
 * in stats.traces_refused, logged rate-limited, an incident event).
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

/* Report by QP (the victim's side): the local QP device/qpn is under attack
 * from its remote end. Opens incident `incident` (already written by the
 * caller in its open unit of work) and sends the hop-1 trace to the remote
 * end by the rules above; the owner of the local QP is not blocked. Fills
 * where (a line for the reply: where the trace went, or why it could not).
 * 0, -ENOENT (no such QP), -ENOTCONN (a QP without a remote end). */
int trace_report_qp(struct sema *s, const char *incident, const struct qpt_entry *q,
		    unsigned flags, char *where, size_t wherelen);

/* The mirror look-ups trace.c uses; the unit tests replace them. */
struct trace_mirror_ops {
	int (*confirm)(struct sema *s, const struct mad_dest *agent, const char *device,
		       uint32_t lqpn, uint32_t rqpn, mirror_cb cb, void *arg);
	int (*find)(struct sema *s, const char *device, uint32_t lqpn, uint32_t rqpn,
		    mirror_cb cb, void *arg);
};
extern const struct trace_mirror_ops *trace_mirror;

#endif
