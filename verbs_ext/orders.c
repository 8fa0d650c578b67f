/* libias: QP orders. See the comment below for the order thread. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "ctl/proto.h"
#include "verbs_ext/ias.h"
#include "verbs_ext/ias_int.h"

/* ---- orders ------------------------------------------------------------
 *
 * Orders are carried out by a background thread, started at the first
 * registration of a QP by pointer (or by ias_orders_fd()). It sleeps in
 * poll() on the registration connection and on a wake-up eventfd, so it
 * costs nothing while no order comes; when one comes it is applied at once,
 * whatever the application is doing (even if it never calls libias again).
 * Orders that arrive while another thread awaits a reply are picked up by
 * that thread (reg_call) and applied there. Each applied order is queued
 * (bounded) for ias_poll_orders(), and counted on an eventfd in semaphore
 * mode that ias_orders_fd() returns. The thread also tells the agent about
 * new UD destinations and reconnects (registering every QP again) when the
 * agent restarts. IAS_ORDERS=manual: no thread and nothing applied; orders
 * are only reported, as in earlier releases. */

#define RING 64
static pthread_mutex_t ord_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ias_qp_order ring[RING];
static unsigned ring_head, ring_n;
static int note_fd = -1;	/* EFD_SEMAPHORE: one count per queued order */
static int wake_fd = -1;	/* wakes the thread: new UD destination, reconnect */
static int thr_state;		/* 0 not started, 1 running, -1 could not start */
static pid_t thr_pid;
static int atfork_done;

static int manual_mode(void)
{
	const char *v = getenv("IAS_ORDERS");

	return v && strcmp(v, "manual") == 0;
}

/* No lock held: applying may call ibv_modify_qp, which the interposer
 * reports to the agent through reg_call. */
void ias_int_orders_apply(struct ias_qp_order *o, int n)
{
	uint64_t one = 1;
	int k;

	for (k = 0; k < n; k++) {
		o[k].result = manual_mode() ? IAS_ORDER_NOT_APPLIED : ias_apply_order(&o[k]);
		if (o[k].result < 0 && getenv("IAS_DEBUG"))
			fprintf(stderr, "libias: order %s QP 0x%x on %s: %s\n", o[k].action,
				o[k].qpn, o[k].device, ias_strerror(o[k].result));
		pthread_mutex_lock(&ord_lock);
		if (ring_n == RING) { /* drop the oldest report, never the order */
			ring_head = (ring_head + 1) % RING;
			ring_n--;
		} else if (note_fd >= 0) {
			(void)!write(note_fd, &one, sizeof(one));
		}
		ring[(ring_head + ring_n++) % RING] = o[k];
		pthread_mutex_unlock(&ord_lock);
	}
}

static void wake_thread(void)
{
	uint64_t one = 1;

	if (wake_fd >= 0)
		(void)!write(wake_fd, &one, sizeof(one));
}

/* Tell the agent about UD destinations the post wrappers saw. */
static void send_dests(void)
{
	struct ias_int_dest d[16];
	struct ias_qp_info i;
	size_t n, k;

	while ((n = ias_int_take_dests(d, 16)) > 0)
		for (k = 0; k < n; k++) {
			memset(&i, 0, sizeof(i));
			i.qpn = d[k].qpn;
			memcpy(i.device, d[k].device, sizeof(i.device));
			i.qp_type = IBV_QPT_UD;
			i.qp_state = IBV_QPS_RTS;
			i.has_remote = 1;
			i.remote_lid = d[k].dlid;
			memcpy(i.remote_gid, d[k].dgid, 16);
			i.remote_qpn = d[k].rqpn;
			(void)ias_update_qp(&i);
		}
}

static void *order_thread(void *arg)
{
	struct ias_qp_order got[IAS_INT_ORD_BATCH];
	struct pollfd p[2];
	uint64_t v;
	uint8_t *reply;
	int n, fd;

	(void)arg;
	reply = malloc(IAS_CTL_MAX_MSG);
	if (!reply)
		return NULL;
	for (;;) {
		fd = ias_int_reg_watch_fd(reply);
		p[0].fd = wake_fd;
		p[0].events = POLLIN;
		p[1].fd = fd;
		p[1].events = POLLIN;
		if (poll(p, 2, fd < 0 ? 1000 : -1) < 0)
			continue;
		if (p[0].revents & POLLIN)
			(void)!read(wake_fd, &v, sizeof(v));
		send_dests();
		n = ias_int_reg_take_orders(got, IAS_INT_ORD_BATCH);
		ias_int_orders_apply(got, n);
	}
	return NULL;
}

static void fork_prepare(void)
{
	ias_int_reg_lock();
	pthread_mutex_lock(&ord_lock);
	ias_int_atfork_prepare();
}

static void fork_parent(void)
{
	ias_int_atfork_parent();
	pthread_mutex_unlock(&ord_lock);
	ias_int_reg_unlock();
}

/* The child has no order thread and must not share the parent's eventfds
 * or connection; it starts its own at its first registration. */
static void fork_child(void)
{
	ias_int_atfork_child();
	if (note_fd >= 0)
		close(note_fd);
	if (wake_fd >= 0)
		close(wake_fd);
	note_fd = wake_fd = -1;
	thr_state = 0;
	ring_n = 0;
	pthread_mutex_unlock(&ord_lock);
	ias_int_reg_unlock();
}

/* Start the order thread once per process (idempotent, thread-safe). */
void ias_int_orders_start(void)
{
	pthread_attr_t at;
	sigset_t all, old;
	pthread_t t;

	if (manual_mode())
		return;
	pthread_mutex_lock(&ord_lock);
	if (thr_state != 0 && thr_pid == getpid())
		goto out;
	if (!atfork_done) {
		pthread_atfork(fork_prepare, fork_parent, fork_child);
		atfork_done = 1;
	}
	thr_state = -1;
	thr_pid = getpid();
	if (note_fd < 0)
		note_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK | EFD_SEMAPHORE);
	if (wake_fd < 0)
		wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (note_fd < 0 || wake_fd < 0)
		goto out;
	/* The application's signals are for its own threads. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&at, 64 * 1024);
	if (pthread_create(&t, &at, order_thread, NULL) == 0) {
		thr_state = 1;
		pthread_setname_np(t, "ias-orders");
	}
	pthread_attr_destroy(&at);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ring_n && note_fd >= 0) { /* orders queued before the thread existed */
		uint64_t k = ring_n;

		(void)!write(note_fd, &k, sizeof(k));
	}
out:
	pthread_mutex_unlock(&ord_lock);
	if (thr_state == 1)
		ias_int_set_dest_notify(wake_thread);
}

int ias_orders_fd(void)
{
	int rc = ias_int_reg_open(manual_mode());

	if (rc < 0 || manual_mode())
		return rc;
	ias_int_orders_start();
	pthread_mutex_lock(&ord_lock);
	rc = thr_state == 1 ? note_fd : -EAGAIN;
	pthread_mutex_unlock(&ord_lock);
	return rc;
}

int ias_poll_orders(struct ias_qp_order *o)
{
	struct ias_qp_order got[IAS_INT_ORD_BATCH];
	uint64_t v;
	int n, rc = 0;

	memset(o, 0, sizeof(*o));
	/* Whatever waits on the connection first (without a thread, this is
	 * the only way orders get in). */
	n = ias_int_reg_take_orders(got, IAS_INT_ORD_BATCH);
	ias_int_orders_apply(got, n);
	pthread_mutex_lock(&ord_lock);
	if (ring_n) {
		*o = ring[ring_head];
		ring_head = (ring_head + 1) % RING;
		ring_n--;
		if (note_fd >= 0)
			(void)!read(note_fd, &v, sizeof(v));
		rc = 1;
	}
	pthread_mutex_unlock(&ord_lock);
	return rc;
}
