/* rdma_cm connections as a kernel source of QP remote ends (kcm.c). */
#ifndef IAS_SEMA_KCM_H
#define IAS_SEMA_KCM_H

#include <stdint.h>

struct sema;
struct qpt_entry;
struct ias_kcm;

/* Read the kernel's cm_ids and give each QP of the table that a process's
 * connected cm_id names (device, local QPN; RC or UC) its remote port's GID,
 * with source QPT_RSRC_CM. Call after the QP dump of the same scan: only QPs
 * that dump reported, with a remote QPN from it, are filled. The kernel's
 * address replaces a registration's claim. 0, or the dump's -errno (said
 * once in the log; nothing in the table changes). */
int engine_kernel_cm(struct sema *s);

/* The two steps for one cm_id (exposed for tests). kcm_target: the entry the
 * cm_id gives an address to, or NULL (not a process's connected RC/UC cm_id
 * with a destination; QP not in the QP dump or without its remote QPN;
 * address already learned from rdma_cm). kcm_apply: set the entry's remote
 * GID (LID 0) with QPT_RSRC_CM, replacing and logging a registration that
 * differs; an eBPF observation (QPT_RSRC_KOBS) that differs is kept. 1 when
 * applied, 0 when kept. how says how the GID was found (logs). */
struct qpt_entry *kcm_target(struct sema *s, const struct ias_kcm *c);
int kcm_apply(struct sema *s, struct qpt_entry *q, const struct ias_kcm *c, const uint8_t gid[16],
	      const char *how);

#endif
