/* What the agent's decisions do to the world beyond the store and the
 * kernel: the effects interface. The engine (report, release, expiry,
 * restore) and the unit of work call only these; main.c wires them to the
 * control socket (ctl_ops), the trace sender (trace) and the outbox sender
 * (report). The unit tests wire fakes. Every function may be NULL (the
 * effect is then dropped). The engine includes no header of a module above
 * it: this is its only way up. */
#ifndef IAS_SEMA_EFFECTS_H
#define IAS_SEMA_EFFECTS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct ias_alert_rec;

/* Flags of send_traces. */
#define SEMA_TRACE_DRY_RUN 1u	/* the incident is a dry run: receivers only simulate */

struct sema_effects {
	void *ctx;
	/* Send a QP_ORDER ("pause", "cut", "resume") to the libias connection
	 * that registered the QP. 0, or -ENOENT when that connection is gone. */
	int (*send_order)(void *ctx, uint64_t client_id, uint32_t qpn, const char *device,
			  const char *action);
	/* Push an ALERT to the subscribed analyzers (after the commit only). */
	void (*broadcast_alert)(void *ctx, const struct ias_alert_rec *a, const char *node,
				const char *origin);
	/* Send the traces for a blocked process (hop 1 at the origin), recorded
	 * inside the open unit of work. Returns how many left. */
	unsigned (*send_traces)(void *ctx, const char *incident, pid_t pid, uint8_t hop,
				uint32_t except_qpn, unsigned flags);
	/* Offer the outbox to the manager (after a commit). */
	void (*kick_outbox)(void *ctx);
	/* The store can (ready) or cannot commit: readiness follows it. why
	 * is NULL when ready. */
	void (*readiness)(void *ctx, bool ready, const char *why);
};

#endif
