/* The agent's consumer of kernel observation (sema/bpf, kobs): QPs' remote
 * ends as ib_core itself holds them, merged into the QP table.
 *
 * Ownership stays with rdma netlink (kscan.c): it is PID-namespace aware and
 * BPF's tgid is the initial namespace's. kobs gives, keyed by (device, QPN),
 * the destination QPN and address (DLID, DGID); those become the entry's
 * remote end with QPT_RSRC_KOBS, which makes it a trace target. The kernel's
 * word wins over any registration. Only records of the device(s) this agent
 * serves are taken (several nodes may share one kernel).
 *
 * kernel_observation = off: never opened. Where kobs cannot be opened the
 * agent says so once and goes on with the other sources; when the reason was
 * that ib_core was not loaded, the open is tried again, quietly, at most once
 * per port_retry from the kernel scan. */
#ifndef IAS_SEMA_KOBSFEED_H
#define IAS_SEMA_KOBSFEED_H

#include <stddef.h>

#include "sema/bpf/kobs.h"
#include "sema/sema.h"

/* Open kobs (unless off), add its event fd to the reactor and walk the
 * pinned records. Never fails the start: 0 always. */
int kobsfeed_start(struct sema *s);
/* Try again where the last open failed for a reason that may pass. */
void kobsfeed_retry(struct sema *s);
void kobsfeed_stop(struct sema *s);
/* 1 while kernel observation feeds the table. */
int kobsfeed_active(const struct sema *s);
/* "active (...)", "off (...)" or "unavailable: <reason>". */
const char *kobsfeed_state(const struct sema *s);

/* The kernel's record of q (same device and QPN), if kobs is open, merged
 * into q. Called by the kernel scan for every QP it reports. */
void kobsfeed_apply(struct sema *s, struct qpt_entry *q);
/* One change event (the reactor's handler calls this per event). */
void kobsfeed_event(struct sema *s, enum kobs_ev_kind kind, const struct kobs_qp *k);

/* ---- pure parts (unit-tested) ---- */
/* 1 when device is one this agent takes records of: served is the device
 * the agent serves on (NULL or "": not known, all are taken). */
int kobsfeed_serves(const char *served, const char *device);
/* Merge k's destination into q's remote end. Returns 1 when q changed, 0
 * when k has no usable destination (no QPN, or neither LID nor GID) or q
 * already says the same. *replaced is set to 1 when a remote end that
 * another source gave, and the kernel contradicts, was replaced. */
int kobsfeed_merge(struct qpt_entry *q, const struct kobs_qp *k, int *replaced);
/* The QP is gone (destroy): drop what the kernel said of its remote end. */
void kobsfeed_forget(struct qpt_entry *q);
/* A kernel-seen address handle ah of the process that owns QP rec (same
 * device, owner tgid and start time): the UD destinations of q at that
 * address are confirmed by the kernel. Returns how many. */
unsigned kobsfeed_confirm_ah(struct qpt_entry *q, const struct kobs_qp *rec,
			     const struct kobs_qp *ah);

#endif
