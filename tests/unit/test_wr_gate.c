/* libias per-QP enforcement of the extended post API (verbs_ext/enforce.c):
 * a fake extended device context whose create_qp_ex makes fake QPs with an
 * ibv_qp_ex whose wr_* functions count their calls. Checks that the
 * context's create_qp_ex is hooked, that QPs created with send_ops_flags
 * are tracked and their wr_complete wrapped, and that pause / wait / cut /
 * resume act on ibv_wr_complete as on ibv_post_send (a refused batch is
 * dropped with the provider's wr_abort). No RDMA needed: the few libibverbs
 * functions enforce.c calls are defined here. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/unit/tap.h"
#include "verbs_ext/ias.h"
#include "verbs_ext/ias_int.h"

#define NQP 6

/* What a provider's QP looks like to libibverbs: the ibv_qp_ex first. */
struct fake_qp {
	struct ibv_qp_ex x;
	int has_ex;
};

static struct fake_qp fq[NQP];
static int nfq;
static _Atomic int starts, sends, completes, aborts, completes2, aborts2;
static int modifies, to_ex_calls, created_calls, fail_next;
static struct ibv_qp *created_last;
static enum ibv_qp_state last_state;

const char *ibv_get_device_name(struct ibv_device *device)
{
	return device->name;
}

int ibv_modify_qp(struct ibv_qp *qp, struct ibv_qp_attr *attr, int attr_mask)
{
	(void)attr_mask;
	modifies++;
	last_state = attr->qp_state;
	qp->state = attr->qp_state;
	return 0;
}

/* The real one checks the provider's VERBS_QP_EX bit; enforce.c uses it
 * when libibverbs provides it. */
struct ibv_qp_ex *ibv_qp_to_qp_ex(struct ibv_qp *qp)
{
	struct fake_qp *f = (struct fake_qp *)qp;

	to_ex_calls++;
	return f->has_ex ? &f->x : NULL;
}

static int post_send0(struct ibv_qp *qp, struct ibv_send_wr *wr, struct ibv_send_wr **bad)
{
	(void)qp, (void)wr, (void)bad;
	return 0;
}

static int post_recv0(struct ibv_qp *qp, struct ibv_recv_wr *wr, struct ibv_recv_wr **bad)
{
	(void)qp, (void)wr, (void)bad;
	return 0;
}

static void wr_start1(struct ibv_qp_ex *x)
{
	(void)x;
	atomic_fetch_add(&starts, 1);
}

static void wr_send1(struct ibv_qp_ex *x)
{
	(void)x;
	atomic_fetch_add(&sends, 1);
}

static int wr_complete1(struct ibv_qp_ex *x)
{
	(void)x;
	atomic_fetch_add(&completes, 1);
	return 0;
}

static void wr_abort1(struct ibv_qp_ex *x)
{
	(void)x;
	atomic_fetch_add(&aborts, 1);
}

/* A second flavour, as a provider may have for some QP types. */
static int wr_complete2(struct ibv_qp_ex *x)
{
	(void)x;
	atomic_fetch_add(&completes2, 1);
	return 0;
}

static void wr_abort2(struct ibv_qp_ex *x)
{
	(void)x;
	atomic_fetch_add(&aborts2, 1);
}

static int flavour2; /* the next QP gets wr_complete2/wr_abort2 */

static struct ibv_qp *fake_create_qp_ex(struct ibv_context *c, struct ibv_qp_init_attr_ex *a)
{
	struct fake_qp *f;

	if (fail_next) {
		fail_next = 0;
		errno = ENOMEM;
		return NULL;
	}
	if (nfq == NQP) {
		errno = ENOSPC;
		return NULL;
	}
	f = &fq[nfq++];
	memset(f, 0, sizeof(*f));
	f->x.qp_base.context = c;
	f->x.qp_base.qp_num = 0x100 + (uint32_t)nfq;
	f->x.qp_base.qp_type = a->qp_type;
	f->x.qp_base.state = IBV_QPS_RESET;
	if (a->comp_mask & IBV_QP_INIT_ATTR_SEND_OPS_FLAGS) {
		f->has_ex = 1;
		f->x.wr_start = wr_start1;
		f->x.wr_send = wr_send1;
		f->x.wr_complete = flavour2 ? wr_complete2 : wr_complete1;
		f->x.wr_abort = flavour2 ? wr_abort2 : wr_abort1;
	}
	return &f->x.qp_base;
}

static void on_created(struct ibv_qp *qp)
{
	created_calls++;
	created_last = qp;
}

static struct ibv_device dev;
static struct verbs_context vctx;

static struct ibv_qp *mk(int ex)
{
	struct ibv_qp_init_attr_ex a;

	memset(&a, 0, sizeof(a));
	a.qp_type = IBV_QPT_RC;
	a.comp_mask = IBV_QP_INIT_ATTR_PD | IBV_QP_INIT_ATTR_CREATE_FLAGS;
	if (ex) {
		a.comp_mask |= IBV_QP_INIT_ATTR_SEND_OPS_FLAGS;
		a.send_ops_flags = IBV_QP_EX_WITH_SEND | IBV_QP_EX_WITH_RDMA_WRITE;
	}
	return ibv_create_qp_ex(&vctx.context, &a);
}

static int order(const struct ibv_qp *qp, const char *action)
{
	struct ias_qp_order o;

	memset(&o, 0, sizeof(o));
	o.qpn = qp->qp_num;
	snprintf(o.device, sizeof(o.device), "%s", dev.name);
	snprintf(o.action, sizeof(o.action), "%s", action);
	return ias_apply_order(&o);
}

/* One batch of one send through the extended API. */
static int batch(struct ibv_qp *qp)
{
	struct ibv_qp_ex *x = (struct ibv_qp_ex *)qp;

	ibv_wr_start(x);
	ibv_wr_send(x);
	return ibv_wr_complete(x);
}

static _Atomic int waiter_rc = -1;

static void *waiter(void *arg)
{
	atomic_store(&waiter_rc, batch(arg));
	return NULL;
}

int main(void)
{
	struct ibv_send_wr wr, *bad = NULL;
	struct ibv_qp *a, *b, *plain, *odd, *again;
	struct ibv_qp_ex *xa;
	pthread_t t;
	int c0, a0;

	unsetenv("IAS_PAUSE");
	unsetenv("IAS_PAUSE_SQD");
	snprintf(dev.name, sizeof(dev.name), "rxe0");
	vctx.sz = sizeof(vctx);
	vctx.context.abi_compat = __VERBS_ABI_IS_EXTENDED;
	vctx.context.device = &dev;
	vctx.context.ops.post_send = post_send0;
	vctx.context.ops.post_recv = post_recv0;
	vctx.create_qp_ex = fake_create_qp_ex;

	is_int(ias_int_hook_context(&vctx.context), 0, "hook an extended context");
	ok(vctx.create_qp_ex != fake_create_qp_ex, "its create_qp_ex is wrapped");
	ok(vctx.context.ops.post_send != post_send0, "its post_send is wrapped");
	is_int(ias_int_hook_context(&vctx.context), 0, "hooking again is harmless");
	ias_int_set_qp_created(on_created);

	/* Creation. */
	a = mk(1);
	ok(a == &fq[0].x.qp_base, "ibv_create_qp_ex (send_ops_flags) reaches the provider");
	ok(created_calls == 1 && created_last == a, "the creation callback saw the new QP");
	is_int(ias_qp_blocked(a), 0, "the QP is tracked (running)");
	xa = (struct ibv_qp_ex *)a;
	ok(xa->wr_complete != wr_complete1, "its wr_complete is wrapped");
	ok(xa->wr_abort == wr_abort1 && xa->wr_start == wr_start1 && xa->wr_send == wr_send1,
	   "wr_abort, wr_start and the builders are left alone");
	ok(to_ex_calls >= 1, "the qp_ex was found through ibv_qp_to_qp_ex");
	plain = mk(0);
	ok(plain != NULL && created_calls == 2 && created_last == plain,
	   "a QP without send_ops_flags: created, callback called");
	is_int(ias_qp_blocked(plain), -ENOENT, "...but not tracked by the hook itself");
	ok(fq[1].x.wr_complete == NULL, "...and its qp_ex left alone");
	fail_next = 1;
	errno = 0;
	ok(mk(1) == NULL && errno == ENOMEM, "a failed creation: NULL, the provider's errno");
	is_int(created_calls, 2, "...and no callback");
	b = mk(1);
	ok(b != NULL && ias_qp_blocked(b) == 0, "a second extended QP, tracked");

	/* Running. */
	is_int(batch(a), 0, "running QP: wr_complete goes through");
	ok(completes == 1 && aborts == 0 && starts == 1 && sends == 1,
	   "...to the provider's wr_complete");

	/* Pause. */
	is_int(order(a, "pause"), 0, "pause order applied");
	c0 = completes;
	is_int(batch(a), EAGAIN, "paused QP: wr_complete fails with EAGAIN");
	is_int(completes, c0, "...the provider's wr_complete was not called");
	is_int(aborts, 1, "...the batch was dropped with the provider's wr_abort");
	memset(&wr, 0, sizeof(wr));
	is_int(ibv_post_send(a, &wr, &bad), EAGAIN, "ibv_post_send on it fails with EAGAIN too");
	is_int(batch(b), 0, "another QP of the context still completes");
	is_int(completes, c0 + 1, "...through the provider");
	is_int(modifies, 0, "pause does not modify the QP");
	is_int(order(a, "resume"), 0, "resume");
	is_int(batch(a), 0, "resumed QP: wr_complete goes through");
	is_int(completes, c0 + 2, "...to the provider");

	/* A QP whose provider functions differ from the context's first. */
	flavour2 = 1;
	odd = mk(1);
	flavour2 = 0;
	ok(odd != NULL && ((struct ibv_qp_ex *)odd)->wr_complete != wr_complete2,
	   "a QP with other wr_* functions: wrapped");
	c0 = completes;
	is_int(batch(odd), 0, "its wr_complete goes through");
	ok(completes2 == 1 && completes == c0, "...to its own wr_complete, not the context's first");
	is_int(order(odd, "pause"), 0, "pause it");
	is_int(batch(odd), EAGAIN, "paused: EAGAIN");
	ok(aborts2 == 1 && completes2 == 1, "...dropped with its own wr_abort");
	is_int(order(odd, "resume"), 0, "resume it");
	ias_int_untrack_qp(odd);
	ok(((struct ibv_qp_ex *)odd)->wr_complete == wr_complete2,
	   "untracking puts its wr_complete back");
	is_int(batch(a), 0, "with it gone, the first QP still completes");

	/* IAS_PAUSE=wait. */
	setenv("IAS_PAUSE", "wait", 1);
	is_int(order(b, "pause"), 0, "pause (wait mode)");
	c0 = completes;
	ok(pthread_create(&t, NULL, waiter, b) == 0, "a thread completes a batch on the paused QP");
	usleep(100000);
	is_int(completes, c0, "the batch did not reach the provider while paused");
	is_int(order(b, "resume"), 0, "resume");
	pthread_join(t, NULL);
	is_int(atomic_load(&waiter_rc), 0, "the waiting wr_complete went through after resume");
	is_int(completes, c0 + 1, "...to the provider");
	is_int(order(b, "pause"), 0, "pause again (wait mode)");
	a0 = aborts;
	ok(pthread_create(&t, NULL, waiter, b) == 0, "a thread completes a batch on the paused QP");
	is_int(order(b, "cut"), 0, "cut while it waits");
	pthread_join(t, NULL);
	is_int(atomic_load(&waiter_rc), EPERM, "the waiting wr_complete fails with EPERM");
	is_int(aborts, a0 + 1, "...and its batch was dropped with wr_abort");
	unsetenv("IAS_PAUSE");

	/* Cut. */
	is_int(order(a, "cut"), 0, "cut order applied");
	ok(last_state == IBV_QPS_ERR, "cut moved the QP to ERR");
	a0 = aborts;
	c0 = completes;
	is_int(batch(a), EPERM, "cut QP: wr_complete fails with EPERM");
	ok(aborts == a0 + 1 && completes == c0, "...the batch dropped, nothing completed");
	is_int(order(a, "resume"), -EPERM, "a cut QP cannot resume");

	/* Untracking, and a new QP at the same address. */
	ias_int_untrack_qp(a);
	ias_int_untrack_qp(b);
	ok(xa->wr_complete == wr_complete1, "untracking puts wr_complete back");
	is_int(ias_qp_blocked(a), -ENOENT, "untracked QP is unknown");
	nfq = 0; /* the provider hands out the same memory again */
	again = mk(1);
	ok(again == a && ias_qp_blocked(again) == 0 && xa->wr_complete != wr_complete1,
	   "a new QP at a destroyed one's address is tracked and wrapped again");
	c0 = completes;
	is_int(batch(again), 0, "...and completes (not cut like its predecessor)");
	is_int(completes, c0 + 1, "...through the provider");
	ias_int_untrack_qp(again);
	ias_int_untrack_qp(plain);
	return tap_done();
}
