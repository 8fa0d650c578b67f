/* libias-preload.so: QP registration and per-QP orders for programs that
 * were not written for IAS. Load it with LD_PRELOAD (one program) or list
 * it in /etc/ld.so.preload (every program on the node); see
 * libias-preload(8).
 *
 * It defines the real libibverbs symbols (version IBVERBS_1.1) that mark a
 * QP's life and forwards each to the next definition (libibverbs):
 *   ibv_open_device hook the new context at once (enforce.c): its
 *                   post_send/post_recv, and its create_qp_ex, which the
 *                   inline ibv_create_qp_ex (and rdma_cm) call, so that
 *                   those QPs are registered as they are created and the
 *                   extended post API (ibv_wr_*) of QPs created with
 *                   send_ops_flags is gated like ibv_post_send;
 *   ibv_create_qp   register the QP with the agent and hook its context;
 *   ibv_modify_qp   report state changes and, at RTR, the remote LID/GID
 *                   and QPN; a QP first seen here (made on a context
 *                   opened before the interposer could see it) is
 *                   registered now;
 *   ibv_destroy_qp  unregister;
 *   ibv_create_ah / ibv_destroy_ah
 *                   remember each address handle's DLID/DGID, so that the
 *                   UD destinations seen by the post_send wrapper can be
 *                   told to the agent.
 * The data path (ibv_post_send/ibv_post_recv and ibv_wr_complete, inline)
 * is reached through the wrappers libias puts in the context's ops table
 * and in each qp_ex: see enforce.c. */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "verbs_ext/ias.h"
#include "verbs_ext/ias_int.h"

#define V "IBVERBS_1.1"

typedef struct ibv_context *(*open_device_fn)(struct ibv_device *);
typedef struct ibv_qp *(*create_qp_fn)(struct ibv_pd *, struct ibv_qp_init_attr *);
typedef int (*modify_qp_fn)(struct ibv_qp *, struct ibv_qp_attr *, int);
typedef int (*destroy_qp_fn)(struct ibv_qp *);
typedef struct ibv_ah *(*create_ah_fn)(struct ibv_pd *, struct ibv_ah_attr *);
typedef int (*destroy_ah_fn)(struct ibv_ah *);

static struct {
	open_device_fn open_device;
	create_qp_fn create_qp;
	modify_qp_fn modify_qp;
	destroy_qp_fn destroy_qp;
	create_ah_fn create_ah;
	destroy_ah_fn destroy_ah;
} real;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void *next(const char *name)
{
	void *p = dlvsym(RTLD_NEXT, name, V);

	return p ? p : dlsym(RTLD_NEXT, name);
}

/* A QP made by the context's create_qp_ex (enforce.c calls this). */
static void qp_created(struct ibv_qp *qp)
{
	(void)ias_register_qp(qp); /* the QP works even without an agent */
}

static void resolve(void)
{
	ias_int_set_qp_created(qp_created);
	real.open_device = (open_device_fn)next("ibv_open_device");
	real.create_qp = (create_qp_fn)next("ibv_create_qp");
	real.modify_qp = (modify_qp_fn)next("ibv_modify_qp");
	real.destroy_qp = (destroy_qp_fn)next("ibv_destroy_qp");
	real.create_ah = (create_ah_fn)next("ibv_create_ah");
	real.destroy_ah = (destroy_ah_fn)next("ibv_destroy_ah");
}

#define REAL(f) (pthread_once(&once, resolve), real.f)

struct ibv_context *ibv_open_device(struct ibv_device *device)
{
	struct ibv_context *c;
	int saved;

	if (!REAL(open_device)) {
		errno = ENOSYS;
		return NULL;
	}
	c = real.open_device(device);
	if (!c)
		return NULL;
	saved = errno;
	(void)ias_int_hook_context(c); /* -ENOSPC: hooked at its first QP, if room by then */
	errno = saved;
	return c;
}

struct ibv_qp *ibv_create_qp(struct ibv_pd *pd, struct ibv_qp_init_attr *attr)
{
	struct ibv_qp *qp;
	int saved;

	if (!REAL(create_qp)) {
		errno = ENOSYS;
		return NULL;
	}
	qp = real.create_qp(pd, attr);
	if (!qp)
		return NULL;
	saved = errno;
	(void)ias_register_qp(qp); /* the QP works even without an agent */
	errno = saved;
	return qp;
}

int ibv_modify_qp(struct ibv_qp *qp, struct ibv_qp_attr *attr, int attr_mask)
{
	struct ias_qp_info i;
	int rc, saved;

	if (!REAL(modify_qp))
		return ENOSYS;
	rc = real.modify_qp(qp, attr, attr_mask);
	if (rc != 0 || !(attr_mask & IBV_QP_STATE))
		return rc;
	saved = errno;
	if (!ias_int_qp_known(qp)) {
		(void)ias_register_qp(qp);
	} else {
		ias_int_qp_info(qp, &i);
		i.qp_state = (uint8_t)attr->qp_state;
		(void)ias_update_qp(&i);
	}
	errno = saved;
	return rc;
}

int ibv_destroy_qp(struct ibv_qp *qp)
{
	char dev[64];
	uint32_t qpn;

	if (!REAL(destroy_qp))
		return ENOSYS;
	if (qp && ias_int_qp_known(qp)) {
		qpn = qp->qp_num;
		snprintf(dev, sizeof(dev), "%s", ibv_get_device_name(qp->context->device));
		ias_int_untrack_qp(qp);
		(void)ias_unregister_qp(qpn, dev);
	}
	return real.destroy_qp(qp);
}

struct ibv_ah *ibv_create_ah(struct ibv_pd *pd, struct ibv_ah_attr *attr)
{
	struct ibv_ah *ah;

	if (!REAL(create_ah)) {
		errno = ENOSYS;
		return NULL;
	}
	ah = real.create_ah(pd, attr);
	if (ah && attr)
		ias_int_note_ah(ah, attr);
	return ah;
}

int ibv_destroy_ah(struct ibv_ah *ah)
{
	if (!REAL(destroy_ah))
		return ENOSYS;
	if (ah)
		ias_int_forget_ah(ah);
	return real.destroy_ah(ah);
}
