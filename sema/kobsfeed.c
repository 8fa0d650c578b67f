/* Kernel observation (kobs) into the QP table. See kobsfeed.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "common/log.h"
#include "sema/engine.h"
#include "sema/kobsfeed.h"
#include "sema/mad_port.h"

struct kobsfeed {
	struct kobs *k;
	sd_event_source *src;
	int last_err;		/* kobs_open's, 0 when open */
	int64_t last_try_ms;
	char state[320];
};

static const uint8_t zero_gid[16];

/* ---- pure parts ---------------------------------------------------------- */

int kobsfeed_serves(const char *served, const char *device)
{
	return !served || !served[0] || strcmp(served, device) == 0;
}

/* The address of a record: DLID when an address vector was set, DGID when
 * it had a GRH. 0 when it names no place. */
static int rec_addr(const struct kobs_qp *k, uint32_t *lid, uint8_t gid[16])
{
	*lid = (k->flags & KOBS_QP_AV) ? k->dlid : 0;
	if (k->flags & KOBS_QP_GRH)
		memcpy(gid, k->dgid, 16);
	else
		memset(gid, 0, 16);
	return *lid != 0 || memcmp(gid, zero_gid, 16) != 0;
}

int kobsfeed_merge(struct qpt_entry *q, const struct kobs_qp *k, int *replaced)
{
	uint32_t lid;
	uint8_t gid[16];
	int same;

	*replaced = 0;
	if (!(k->flags & KOBS_QP_DEST) || !rec_addr(k, &lid, gid))
		return 0;
	same = q->has_remote && q->remote_qpn == k->dest_qpn && q->remote_lid == lid &&
	       memcmp(q->remote_gid, gid, 16) == 0;
	if (same && (q->remote_src & QPT_RSRC_KOBS))
		return 0;
	if (!same) {
		/* Another source's remote end (a registration, a peer's or a
		 * mirror look-up's word) that the kernel contradicts goes;
		 * netlink's remote QPN alone is not contradicted by an
		 * address. */
		*replaced = q->has_remote &&
			    (q->remote_src & ~(QPT_RSRC_NLQPN | QPT_RSRC_KOBS)) != 0;
		if (q->remote_qpn != k->dest_qpn)
			q->remote_src &= ~QPT_RSRC_NLQPN;
		q->remote_src &= QPT_RSRC_NLQPN;
	}
	q->has_remote = 1;
	q->remote_qpn = k->dest_qpn;
	q->remote_lid = lid;
	memcpy(q->remote_gid, gid, 16);
	q->remote_src |= QPT_RSRC_KOBS;
	return 1;
}

void kobsfeed_forget(struct qpt_entry *q)
{
	unsigned i;

	for (i = 0; i < q->ndest; i++)
		q->dest[i].src &= ~QPT_RSRC_KOBS;
	if (!(q->remote_src & QPT_RSRC_KOBS))
		return;
	q->has_remote = 0;
	q->remote_qpn = 0;
	q->remote_lid = 0;
	memset(q->remote_gid, 0, sizeof(q->remote_gid));
	q->remote_src = 0;
}

unsigned kobsfeed_confirm_ah(struct qpt_entry *q, const struct kobs_qp *rec,
			     const struct kobs_qp *ah)
{
	uint32_t lid;
	uint8_t gid[16];
	unsigned i, n = 0;

	if (strcmp(rec->dev, ah->dev) != 0 || strcmp(q->device, ah->dev) != 0 ||
	    rec->qpn != q->qpn || !rec->tgid || rec->tgid != ah->tgid ||
	    rec->start_ns != ah->start_ns || !rec_addr(ah, &lid, gid))
		return 0;
	for (i = 0; i < q->ndest; i++) {
		struct qpt_dest *d = &q->dest[i];

		if (d->lid == lid && memcmp(d->gid, gid, 16) == 0 && !(d->src & QPT_RSRC_KOBS)) {
			d->src |= QPT_RSRC_KOBS;
			n++;
		}
	}
	return n;
}

/* ---- the table ------------------------------------------------------------ */

static const char *served_ca(const struct sema *s)
{
	const char *ca = mad_port_ca(s->mad);

	return ca ? ca : s->cfg.umad_ca;
}

static void merge_into(struct sema *s, struct qpt_entry *q, const struct kobs_qp *k)
{
	char was[64];
	int replaced;

	snprintf(was, sizeof(was), "qp 0x%x lid %u", q->remote_qpn, q->remote_lid);
	if (!kobsfeed_merge(q, k, &replaced))
		return;
	if (replaced) {
		s->stats.kernel_conflicts++;
		log_warn("QP %s/0x%x (PID %d): the kernel says remote qp 0x%x lid %u, not the "
			 "claimed %s; keeping the kernel's", q->device, q->qpn, (int)q->pid,
			 q->remote_qpn, q->remote_lid, was);
	}
	log_debug("QP %s/0x%x: remote end qp 0x%x lid %u from the kernel (eBPF)", q->device,
		  q->qpn, q->remote_qpn, q->remote_lid);
}

void kobsfeed_apply(struct sema *s, struct qpt_entry *q)
{
	struct kobs_qp k;

	if (!s->kobsfeed || !s->kobsfeed->k || !kobsfeed_serves(served_ca(s), q->device))
		return;
	if (kobs_lookup(s->kobsfeed->k, q->device, q->qpn, &k) == 0)
		merge_into(s, q, &k);
}

/* An AH: every UD QP of its owner on its device. */
static int ah_cb(const struct kobs_qp *ah, void *arg)
{
	struct sema *s = arg;
	struct kobs_qp rec;
	size_t i;

	if (!s->kobsfeed || !s->kobsfeed->k || !kobsfeed_serves(served_ca(s), ah->dev))
		return 0;
	for (i = 0; i < s->qps.n; i++) {
		struct qpt_entry *q = &s->qps.e[i];

		if (q->type != 4 /* UD */ || strcmp(q->device, ah->dev) != 0)
			continue;
		if (kobs_lookup(s->kobsfeed->k, q->device, q->qpn, &rec) == 0 &&
		    kobsfeed_confirm_ah(q, &rec, ah))
			log_debug("QP %s/0x%x: UD destination confirmed by a kernel AH", q->device,
				  q->qpn);
	}
	return 0;
}

void kobsfeed_event(struct sema *s, enum kobs_ev_kind kind, const struct kobs_qp *k)
{
	struct qpt_entry *q;

	if (!kobsfeed_serves(served_ca(s), k->dev))
		return;
	switch (kind) {
	case KOBS_CREATE:
		/* A new QP (perhaps a QPN reused): the owner from netlink. */
		q = qpt_find(&s->qps, k->dev, k->qpn);
		if (q)
			kobsfeed_forget(q);
		engine_kernel_lookup(s, k->dev, k->qpn);
		break;
	case KOBS_MODIFY:
		q = qpt_find(&s->qps, k->dev, k->qpn);
		if (!q || !(q->sources & QPT_SRC_KERNEL)) {
			/* Unknown to netlink yet: the look-up adds it and
			 * merges the kernel's record (kobsfeed_apply). */
			engine_kernel_lookup(s, k->dev, k->qpn);
			break;
		}
		merge_into(s, q, k);
		break;
	case KOBS_DESTROY:
		q = qpt_find(&s->qps, k->dev, k->qpn);
		if (q)
			kobsfeed_forget(q);
		break;
	case KOBS_AH_CREATE:
		ah_cb(k, s);
		break;
	case KOBS_AH_DESTROY:
		break;
	}
}

/* ---- the reactor ----------------------------------------------------------- */

static int ev_cb(enum kobs_ev_kind kind, const struct kobs_qp *k, void *arg)
{
	kobsfeed_event(arg, kind, k);
	return 0;
}

static int qp_walk_cb(const struct kobs_qp *k, void *arg)
{
	struct sema *s = arg;
	struct qpt_entry *q;

	if (!kobsfeed_serves(served_ca(s), k->dev))
		return 0;
	q = qpt_find(&s->qps, k->dev, k->qpn);
	if (q && (q->sources & QPT_SRC_KERNEL))
		merge_into(s, q, k);
	return 0;
}

static int on_kobs(sd_event_source *src, int fd, uint32_t revents, void *arg)
{
	struct sema *s = arg;
	int n;

	(void)src;
	(void)fd;
	(void)revents;
	n = kobs_consume(s->kobsfeed->k, ev_cb, s);
	if (n < 0)
		log_debug("kernel observation: reading events: %s", strerror(-n));
	return 0;
}

static int try_open(struct sema *s, int quiet)
{
	struct kobsfeed *f = s->kobsfeed;
	char why[256];
	int r, fd;

	f->last_try_ms = sema_now_ms();
	r = kobs_open(s->cfg.kobs_pin_dir, &f->k, why, sizeof(why));
	if (r == 0) {
		fd = kobs_fd(f->k);
		r = fd < 0 ? fd : sd_event_add_io(s->ev, &f->src, fd, EPOLLIN, on_kobs, s);
		if (r < 0) {
			snprintf(why, sizeof(why), "kobs: event fd: %s", strerror(-r));
			kobs_close(f->k);
			f->k = NULL;
		}
	}
	f->last_err = r;
	if (r < 0) {
		snprintf(f->state, sizeof(f->state), "unavailable: %s", why);
		if (!quiet)
			log_notice("kernel observation unavailable (%s); remote ends come from the "
				   "other sources only", why);
		return r;
	}
	snprintf(f->state, sizeof(f->state), "active (%s %s)",
		 kobs_loaded_here(f->k) ? "loaded and pinned under" : "found pinned under",
		 s->cfg.kobs_pin_dir);
	log_notice("kernel observation %s", f->state);
	/* QPs connected before: the pinned records, once. Those netlink has
	 * not reported yet are merged by the scan (kobsfeed_apply). */
	kobs_foreach(f->k, qp_walk_cb, s);
	kobs_foreach_ah(f->k, ah_cb, s);
	return 0;
}

int kobsfeed_start(struct sema *s)
{
	struct kobsfeed *f = calloc(1, sizeof(*f));

	if (!f) {
		log_warn("kernel observation: out of memory");
		return 0;
	}
	s->kobsfeed = f;
	if (s->cfg.kernel_observation == SEMA_KOBS_OFF) {
		snprintf(f->state, sizeof(f->state), "off (kernel_observation = off)");
		log_notice("kernel observation off by configuration; remote ends come from the "
			   "other sources only");
		return 0;
	}
	try_open(s, 0);
	return 0;
}

void kobsfeed_retry(struct sema *s)
{
	struct kobsfeed *f = s->kobsfeed;

	/* Only "ib_core is not loaded" passes by itself; the other reasons
	 * (no BTF, no privilege, no bpffs) need someone to act. */
	if (!f || f->k || s->cfg.kernel_observation == SEMA_KOBS_OFF || f->last_err != -ENOENT ||
	    sema_now_ms() - f->last_try_ms < (int64_t)s->cfg.port_retry)
		return;
	try_open(s, 1);
}

void kobsfeed_stop(struct sema *s)
{
	struct kobsfeed *f = s->kobsfeed;

	if (!f)
		return;
	sd_event_source_disable_unref(f->src);
	kobs_close(f->k);
	free(f);
	s->kobsfeed = NULL;
}

int kobsfeed_active(const struct sema *s)
{
	return s->kobsfeed && s->kobsfeed->k;
}

const char *kobsfeed_state(const struct sema *s)
{
	return s->kobsfeed ? s->kobsfeed->state : "off (not started)";
}
