/* libias: carrying out the agent's per-QP orders inside the process.
 *
 * ibv_post_send/ibv_post_recv are static inline calls through
 * qp->context->ops, so libias replaces those two entries, once per device
 * context, with wrappers. A wrapper costs one load and compare to find the
 * context's original functions (the first slot in the common one-context
 * case) and one predictable branch on `slow`, which is zero unless some QP
 * of the process is paused or cut, or a UD QP's destinations are recorded
 * (or a QP has extended-API functions unlike its context's first one).
 * Only then does it take tq_lock and look the QP up.
 *
 * The extended post API (ibv_wr_start ... ibv_wr_complete on an ibv_qp_ex)
 * is reached through function pointers in the provider's QP instead. libias
 * also replaces the context's create_qp_ex (in the verbs_context, which the
 * inline ibv_create_qp_ex calls), so that it sees every QP created with
 * IBV_QP_INIT_ATTR_SEND_OPS_FLAGS, and replaces that QP's wr_complete with
 * a wrapper of the same cost: on a paused or cut QP the batch built since
 * ibv_wr_start is dropped with the provider's own wr_abort (which also
 * releases what wr_start took) and wr_complete fails with EAGAIN or EPERM.
 * ibv_wr_start and the wr_* builders are left alone: nothing reaches the
 * device before wr_complete.
 *
 *   pause  new posts on the QP fail with EAGAIN (or, with IAS_PAUSE=wait,
 *          the posting thread waits until the QP is resumed or cut);
 *          with IAS_PAUSE_SQD=1 the QP also goes RTS->SQD;
 *   cut    the QP goes to ERR (ibv_modify_qp); new posts fail with EPERM;
 *   resume clears a pause (and SQD->RTS when SQD was used); a cut QP cannot
 *          resume.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "verbs_ext/ias.h"
#include "verbs_ext/ias_int.h"

#define MAX_CTX 64
#define UD_HIST 16	/* destinations remembered per UD QP */
#define AH_MAX 4096	/* address handles remembered per process */

typedef int (*send_fn)(struct ibv_qp *, struct ibv_send_wr *, struct ibv_send_wr **);
typedef int (*recv_fn)(struct ibv_qp *, struct ibv_recv_wr *, struct ibv_recv_wr **);
typedef struct ibv_qp *(*create_ex_fn)(struct ibv_context *, struct ibv_qp_init_attr_ex *);
typedef int (*wr_complete_fn)(struct ibv_qp_ex *);
typedef void (*wr_abort_fn)(struct ibv_qp_ex *);

struct hook {
	struct ibv_context *_Atomic ctx;
	send_fn send;
	recv_fn recv;
	create_ex_fn create_ex;		/* NULL: the context has none */
	/* The extended-API functions of the context's first hooked qp_ex; a
	 * QP with other ones is "odd" and always takes the slow path. */
	wr_complete_fn wr_complete;
	wr_abort_fn wr_abort;
};

static struct hook hooks[MAX_CTX];
static _Atomic unsigned nhooks;
static _Atomic unsigned slow;

enum { RUN = 0, PAUSED = 1, CUT = 2 };

struct ud_dest {
	struct ibv_ah *ah;
	uint32_t rqpn;
};

struct tqp {
	struct ibv_qp *qp;
	uint32_t qpn;
	char device[64];
	int state;
	int sqd;		/* paused through RTS->SQD as well */
	int ud;			/* destinations are recorded */
	struct ud_dest hist[UD_HIST];
	unsigned nhist, next;
	struct ibv_qp_ex *qpx;	/* wr_complete wrapped; NULL if not */
	wr_complete_fn wr_complete;
	wr_abort_fn wr_abort;
	int odd;		/* not the context's wr_* functions: holds `slow` */
};

struct ahrec {
	struct ibv_ah *ah;
	uint32_t dlid;
	uint8_t dgid[16];
};

static pthread_mutex_t tq_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t tq_cond = PTHREAD_COND_INITIALIZER;
static struct tqp *tq;
static size_t ntq, captq;
static struct ahrec *ahs;
static size_t nah, capah;
static struct ias_int_dest *pend;	/* UD destinations not yet told to the agent */
static size_t npend, cappend;
static void (*dest_notify)(void);
static void (*qp_created)(struct ibv_qp *);

/* The documented way to reach a QP's ibv_qp_ex. Weak, so that a program
 * linked without libibverbs (the unit test) can still use this file: the
 * provider's verbs_qp starts with the ibv_qp_ex, itself starting with the
 * ibv_qp, which is what ibv_qp_to_qp_ex returns. */
#pragma weak ibv_qp_to_qp_ex

static int env_flag(const char *name, int def)
{
	const char *v = getenv(name);

	if (!v || !*v)
		return def;
	return strcmp(v, "0") != 0 && strcmp(v, "no") != 0 && strcmp(v, "off") != 0;
}

static int pause_wait(void)
{
	const char *v = getenv("IAS_PAUSE");

	return v && strcmp(v, "wait") == 0;
}

static const struct hook *hook_of(struct ibv_context *c)
{
	unsigned n = atomic_load_explicit(&nhooks, memory_order_acquire), i;

	for (i = 0; i < n; i++)
		if (atomic_load_explicit(&hooks[i].ctx, memory_order_relaxed) == c)
			return &hooks[i];
	return NULL;
}

static struct tqp *tq_find(const struct ibv_qp *qp)
{
	size_t i;

	for (i = 0; i < ntq; i++)
		if (tq[i].qp == qp)
			return &tq[i];
	return NULL;
}

static struct tqp *tq_find_qpn(uint32_t qpn, const char *device)
{
	size_t i;

	for (i = 0; i < ntq; i++)
		if (tq[i].qpn == qpn && strcmp(tq[i].device, device) == 0)
			return &tq[i];
	return NULL;
}

static const struct ahrec *ah_find(const struct ibv_ah *ah)
{
	size_t i;

	for (i = 0; i < nah; i++)
		if (ahs[i].ah == ah)
			return &ahs[i];
	return NULL;
}

/* tq_lock held. Record (ah, rqpn) for a UD QP; queue it for the agent when
 * it is new. The history is bounded: the oldest entry is overwritten. */
static void ud_note(struct tqp *t, struct ibv_ah *ah, uint32_t rqpn)
{
	const struct ahrec *a;
	struct ias_int_dest *d;
	unsigned i;

	for (i = 0; i < t->nhist; i++)
		if (t->hist[i].ah == ah && t->hist[i].rqpn == rqpn)
			return;
	t->hist[t->next].ah = ah;
	t->hist[t->next].rqpn = rqpn;
	t->next = (t->next + 1) % UD_HIST;
	if (t->nhist < UD_HIST)
		t->nhist++;
	if (npend == cappend) {
		size_t nc = cappend ? cappend * 2 : 16;

		if (nc > 1024)
			return; /* the agent is not keeping up: drop, the kernel still knows the QP */
		d = realloc(pend, nc * sizeof(*d));
		if (!d)
			return;
		pend = d;
		cappend = nc;
	}
	d = &pend[npend++];
	memset(d, 0, sizeof(*d));
	d->qpn = t->qpn;
	snprintf(d->device, sizeof(d->device), "%s", t->device);
	d->rqpn = rqpn;
	a = ah_find(ah);
	if (a) {
		d->dlid = a->dlid;
		memcpy(d->dgid, a->dgid, 16);
	}
	if (dest_notify)
		dest_notify();
}

/* tq_lock held. What a post on t may do now: 0 go on, EPERM (cut),
 * EAGAIN (paused), or -1 wait for a change (paused, IAS_PAUSE=wait). */
static int verdict(const struct tqp *t)
{
	if (!t || t->state == RUN)
		return 0;
	if (t->state == CUT)
		return EPERM;
	return pause_wait() ? -1 : EAGAIN;
}

/* The slow path: 0 to go on with the post, or the errno to fail it with. */
static int gate(struct ibv_qp *qp, struct ibv_send_wr *swr)
{
	struct tqp *t;
	int rc;

	pthread_mutex_lock(&tq_lock);
	for (;;) {
		t = tq_find(qp);
		rc = verdict(t);
		if (rc >= 0)
			break;
		pthread_cond_wait(&tq_cond, &tq_lock);
	}
	if (rc == 0 && t && t->ud && swr)
		for (; swr; swr = swr->next)
			ud_note(t, swr->wr.ud.ah, swr->wr.ud.remote_qpn);
	pthread_mutex_unlock(&tq_lock);
	return rc;
}

static int w_post_send(struct ibv_qp *qp, struct ibv_send_wr *wr, struct ibv_send_wr **bad)
{
	const struct hook *h = hook_of(qp->context);
	int rc;

	if (__builtin_expect(atomic_load_explicit(&slow, memory_order_relaxed) != 0, 0)) {
		rc = gate(qp, wr);
		if (rc) {
			*bad = wr;
			return rc;
		}
	}
	if (__builtin_expect(!h, 0)) {
		*bad = wr;
		return ENOSYS;
	}
	return h->send(qp, wr, bad);
}

static int w_post_recv(struct ibv_qp *qp, struct ibv_recv_wr *wr, struct ibv_recv_wr **bad)
{
	const struct hook *h = hook_of(qp->context);
	int rc;

	if (__builtin_expect(atomic_load_explicit(&slow, memory_order_relaxed) != 0, 0)) {
		rc = gate(qp, NULL);
		if (rc) {
			*bad = wr;
			return rc;
		}
	}
	if (__builtin_expect(!h, 0)) {
		*bad = wr;
		return ENOSYS;
	}
	return h->recv(qp, wr, bad);
}

/* The slow path of wr_complete: the QP's own functions, and whether the
 * batch may go (0) or must be dropped (the errno). */
static int gate_ex(struct ibv_qp_ex *x, wr_complete_fn *complete, wr_abort_fn *abort_)
{
	const struct hook *h = hook_of(x->qp_base.context);
	struct tqp *t;
	int rc;

	if (h) { /* only for a QP untracked while its thread was on the way in */
		*complete = h->wr_complete;
		*abort_ = h->wr_abort;
	}
	pthread_mutex_lock(&tq_lock);
	for (;;) {
		t = tq_find(&x->qp_base);
		if (t && t->qpx == x) {
			*complete = t->wr_complete;
			*abort_ = t->wr_abort;
		}
		rc = verdict(t);
		if (rc >= 0)
			break;
		/* The provider's send-queue lock, taken by wr_start, is held
		 * meanwhile: other threads posting on this QP wait too. */
		pthread_cond_wait(&tq_cond, &tq_lock);
	}
	pthread_mutex_unlock(&tq_lock);
	return rc;
}

static int w_wr_complete(struct ibv_qp_ex *x)
{
	wr_complete_fn complete = NULL;
	wr_abort_fn abort_ = NULL;
	int rc;

	if (__builtin_expect(atomic_load_explicit(&slow, memory_order_relaxed) != 0, 0)) {
		rc = gate_ex(x, &complete, &abort_);
		if (__builtin_expect(!complete || !abort_, 0))
			return ENOSYS; /* cannot happen: hooked QPs have both */
		if (rc) {
			abort_(x);
			return rc;
		}
		return complete(x);
	}
	/* Never NULL: wr_complete is only wrapped once the context is hooked,
	 * and a QP whose functions differ from the context's keeps slow > 0. */
	return hook_of(x->qp_base.context)->wr_complete(x);
}

static void ex_unhook(struct tqp *t);

/* tq_lock held. Wrap the QP's wr_complete (once). */
static void ex_hook(struct tqp *t, struct hook *h)
{
	struct ibv_qp_ex *x;

	if (t->qpx) {
		if (t->qpx->wr_complete == w_wr_complete)
			return;
		ex_unhook(t); /* stale: a new QP at a destroyed one's address */
	}
	x = ibv_qp_to_qp_ex ? ibv_qp_to_qp_ex(t->qp) : (struct ibv_qp_ex *)t->qp;
	if (!x || !x->wr_complete || !x->wr_abort || x->wr_complete == w_wr_complete)
		return;
	t->wr_complete = x->wr_complete;
	t->wr_abort = x->wr_abort;
	if (!h->wr_complete) {
		h->wr_complete = t->wr_complete;
		h->wr_abort = t->wr_abort;
	} else if (h->wr_complete != t->wr_complete || h->wr_abort != t->wr_abort) {
		t->odd = 1;
		atomic_fetch_add(&slow, 1);
	}
	t->qpx = x;
	atomic_thread_fence(memory_order_seq_cst);
	x->wr_complete = w_wr_complete;
}

/* tq_lock held. Put the original back (the QP may outlive its tracking). */
static void ex_unhook(struct tqp *t)
{
	if (!t->qpx)
		return;
	if (t->qpx->wr_complete == w_wr_complete)
		t->qpx->wr_complete = t->wr_complete;
	if (t->odd)
		atomic_fetch_sub(&slow, 1);
	t->qpx = NULL;
	t->odd = 0;
}

static int track_locked(struct ibv_qp *qp, bool ex);

static struct ibv_qp *w_create_qp_ex(struct ibv_context *c, struct ibv_qp_init_attr_ex *attr)
{
	const struct hook *h = hook_of(c);
	void (*created)(struct ibv_qp *);
	struct ibv_qp *qp;
	int saved;

	if (__builtin_expect(!h || !h->create_ex, 0)) {
		errno = EOPNOTSUPP;
		return NULL;
	}
	qp = h->create_ex(c, attr);
	if (!qp)
		return NULL;
	saved = errno;
	pthread_mutex_lock(&tq_lock);
	/* Only a QP created with send_ops_flags has a usable ibv_qp_ex. */
	if (attr->comp_mask & IBV_QP_INIT_ATTR_SEND_OPS_FLAGS)
		(void)track_locked(qp, true);
	created = qp_created;
	pthread_mutex_unlock(&tq_lock);
	if (created)
		created(qp);
	errno = saved;
	return qp;
}

/* tq_lock held. The hook of context c, installing it if need be; each
 * entry (post_send/post_recv, create_qp_ex) is replaced at most once. */
static int hook_install(struct ibv_context *c, struct hook **out)
{
	unsigned n = atomic_load_explicit(&nhooks, memory_order_relaxed), i;
	struct verbs_context *vc;
	struct hook *h = NULL;

	for (i = 0; i < n; i++)
		if (atomic_load_explicit(&hooks[i].ctx, memory_order_relaxed) == c)
			h = &hooks[i];
	if (c->ops.post_send == w_post_send) {
		if (!h)
			return -EINVAL; /* wrapped, but not by this copy of libias */
		goto out;
	}
	/* New, or a closed context's address reused by a new context. */
	if (!h) {
		if (n == MAX_CTX)
			return -ENOSPC;
		h = &hooks[n];
	}
	h->send = c->ops.post_send;
	h->recv = c->ops.post_recv;
	h->create_ex = NULL;
	h->wr_complete = NULL;
	h->wr_abort = NULL;
	vc = verbs_get_ctx_op(c, create_qp_ex);
	if (vc && vc->create_qp_ex != w_create_qp_ex)
		h->create_ex = vc->create_qp_ex;
	atomic_store_explicit(&h->ctx, c, memory_order_relaxed);
	if (h == &hooks[n])
		atomic_store_explicit(&nhooks, n + 1, memory_order_release);
	atomic_thread_fence(memory_order_seq_cst);
	c->ops.post_send = w_post_send;
	c->ops.post_recv = w_post_recv;
	if (h->create_ex)
		vc->create_qp_ex = w_create_qp_ex;
out:
	if (out)
		*out = h;
	return 0;
}

int ias_int_hook_context(struct ibv_context *c)
{
	int rc;

	if (!c)
		return -EINVAL;
	pthread_mutex_lock(&tq_lock);
	rc = hook_install(c, NULL);
	pthread_mutex_unlock(&tq_lock);
	return rc;
}

void ias_int_set_qp_created(void (*fn)(struct ibv_qp *))
{
	pthread_mutex_lock(&tq_lock);
	qp_created = fn;
	pthread_mutex_unlock(&tq_lock);
}

/* tq_lock held. ex: the QP was created with send_ops_flags. */
static int track_locked(struct ibv_qp *qp, bool ex)
{
	struct hook *h;
	struct tqp *t;
	int rc;

	rc = hook_install(qp->context, &h);
	if (rc)
		return rc;
	t = tq_find(qp);
	if (!t) {
		if (ntq == captq) {
			size_t nc = captq ? captq * 2 : 16;
			struct tqp *n = realloc(tq, nc * sizeof(*n));

			if (!n)
				return -ENOMEM;
			tq = n;
			captq = nc;
		}
		t = &tq[ntq++];
		memset(t, 0, sizeof(*t));
		t->qp = qp;
		if (qp->qp_type == IBV_QPT_UD && env_flag("IAS_UD_HISTORY", 1)) {
			t->ud = 1;
			atomic_fetch_add(&slow, 1);
		}
	}
	t->qpn = qp->qp_num;
	snprintf(t->device, sizeof(t->device), "%s", ibv_get_device_name(qp->context->device));
	if (ex)
		ex_hook(t, h);
	return 0;
}

static int track(struct ibv_qp *qp, bool ex)
{
	int rc;

	if (!qp || !qp->context)
		return -EINVAL;
	pthread_mutex_lock(&tq_lock);
	rc = track_locked(qp, ex);
	pthread_mutex_unlock(&tq_lock);
	return rc;
}

int ias_int_track_qp(struct ibv_qp *qp)
{
	return track(qp, false);
}

int ias_int_track_qp_ex(struct ibv_qp *qp)
{
	return track(qp, true);
}

void ias_int_untrack_qp(struct ibv_qp *qp)
{
	struct tqp *t;

	pthread_mutex_lock(&tq_lock);
	t = tq_find(qp);
	if (t) {
		if (t->state != RUN)
			atomic_fetch_sub(&slow, 1);
		if (t->ud)
			atomic_fetch_sub(&slow, 1);
		ex_unhook(t);
		*t = tq[--ntq];
		pthread_cond_broadcast(&tq_cond);
	}
	pthread_mutex_unlock(&tq_lock);
}

int ias_int_qp_known(const struct ibv_qp *qp)
{
	int r;

	pthread_mutex_lock(&tq_lock);
	r = tq_find(qp) != NULL;
	pthread_mutex_unlock(&tq_lock);
	return r;
}

static int to_state(struct ibv_qp *qp, enum ibv_qp_state st)
{
	struct ibv_qp_attr a;

	memset(&a, 0, sizeof(a));
	a.qp_state = st;
	if (st == IBV_QPS_SQD)
		a.en_sqd_async_notify = 0;
	return ibv_modify_qp(qp, &a, IBV_QP_STATE);
}

int ias_apply_order(const struct ias_qp_order *o)
{
	struct ibv_qp *qp = NULL;
	enum ibv_qp_state go = IBV_QPS_RESET;
	struct tqp *t;
	int rc = 0, r;

	if (!o || !memchr(o->device, '\0', sizeof(o->device)))
		return -EINVAL;
	pthread_mutex_lock(&tq_lock);
	t = tq_find_qpn(o->qpn, o->device);
	if (!t) {
		rc = -ENOENT; /* registered by description only, or already destroyed */
		goto out;
	}
	qp = t->qp;
	if (strcmp(o->action, "pause") == 0) {
		if (t->state == CUT) {
			rc = -EPERM;
			goto out;
		}
		if (t->state == RUN) {
			t->state = PAUSED;
			atomic_fetch_add(&slow, 1);
			if (env_flag("IAS_PAUSE_SQD", 0) && qp->qp_type != IBV_QPT_UD) {
				t->sqd = 1;
				go = IBV_QPS_SQD;
			}
		}
	} else if (strcmp(o->action, "cut") == 0) {
		if (t->state == RUN)
			atomic_fetch_add(&slow, 1);
		t->state = CUT;
		t->sqd = 0;
		go = IBV_QPS_ERR;
	} else if (strcmp(o->action, "resume") == 0) {
		if (t->state == CUT) {
			rc = -EPERM;
			goto out;
		}
		if (t->state == PAUSED) {
			t->state = RUN;
			atomic_fetch_sub(&slow, 1);
			if (t->sqd)
				go = IBV_QPS_RTS;
			t->sqd = 0;
		}
	} else {
		rc = -EINVAL;
		goto out;
	}
	pthread_cond_broadcast(&tq_cond);
out:
	pthread_mutex_unlock(&tq_lock);
	/* The state change runs unlocked: with the interposer loaded,
	 * ibv_modify_qp reports the new state to the agent. */
	if (rc == 0 && go != IBV_QPS_RESET) {
		r = to_state(qp, go);
		if (r)
			rc = -r;
	}
	return rc;
}

int ias_qp_blocked(const struct ibv_qp *qp)
{
	struct tqp *t;
	int r;

	pthread_mutex_lock(&tq_lock);
	t = tq_find(qp);
	r = t ? t->state : -ENOENT;
	pthread_mutex_unlock(&tq_lock);
	return r;
}

/* ---- address handles (UD destinations) --------------------------------- */

void ias_int_note_ah(struct ibv_ah *ah, const struct ibv_ah_attr *attr)
{
	pthread_mutex_lock(&tq_lock);
	if (nah == capah) {
		size_t nc = capah ? capah * 2 : 64;
		struct ahrec *n;

		if (nc > AH_MAX)
			goto out; /* destinations of later AHs are sent without LID/GID */
		n = realloc(ahs, nc * sizeof(*n));
		if (!n)
			goto out;
		ahs = n;
		capah = nc;
	}
	ahs[nah].ah = ah;
	ahs[nah].dlid = attr->dlid;
	if (attr->is_global)
		memcpy(ahs[nah].dgid, attr->grh.dgid.raw, 16);
	else
		memset(ahs[nah].dgid, 0, 16);
	nah++;
out:
	pthread_mutex_unlock(&tq_lock);
}

void ias_int_forget_ah(struct ibv_ah *ah)
{
	size_t i;

	pthread_mutex_lock(&tq_lock);
	for (i = 0; i < nah; i++)
		if (ahs[i].ah == ah) {
			ahs[i] = ahs[--nah];
			break;
		}
	pthread_mutex_unlock(&tq_lock);
}

void ias_int_set_dest_notify(void (*fn)(void))
{
	pthread_mutex_lock(&tq_lock);
	dest_notify = fn;
	pthread_mutex_unlock(&tq_lock);
}

size_t ias_int_take_dests(struct ias_int_dest *out, size_t cap)
{
	size_t n;

	pthread_mutex_lock(&tq_lock);
	n = npend < cap ? npend : cap;
	memcpy(out, pend, n * sizeof(*out));
	memmove(pend, pend + n, (npend - n) * sizeof(*pend));
	npend -= n;
	pthread_mutex_unlock(&tq_lock);
	return n;
}

void ias_int_atfork_prepare(void)
{
	pthread_mutex_lock(&tq_lock);
}

void ias_int_atfork_parent(void)
{
	pthread_mutex_unlock(&tq_lock);
}

void ias_int_atfork_child(void)
{
	pthread_mutex_unlock(&tq_lock);
	npend = 0;
}
