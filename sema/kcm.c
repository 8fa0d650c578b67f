/* The kernel's rdma_cm connections into the QP table: the remote address of
 * a QP connected with rdma_cm, from the cm_id the kernel tracks (rdmanl_cm.h),
 * as a second kernel source beside the eBPF observations (kobs). The remote
 * QPN stays the QP dump's (QPT_RSRC_NLQPN); this adds the address. */
#include "sema/kcm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "common/log.h"
#include "sema/engine_int.h"
#include "sema/rdmanl_cm.h"

#define MAX_NEIGH 4096

struct kcm_scan {
	struct sema *s;
	struct ias_kneigh *nb;
	size_t nnb, cap;
	int nb_state;           /* 0 not read, 1 read, -1 failed */
};

/* The link layer of a device's port, from sysfs (the same kernel). */
static enum ias_link port_link(const char *dev, uint32_t port)
{
	char path[192], buf[32] = "";
	ssize_t n;
	int fd;

	if (!dev[0] || strchr(dev, '/') || dev[0] == '.' || port == 0)
		return IAS_LINK_UNKNOWN;
	snprintf(path, sizeof(path), "/sys/class/infiniband/%s/ports/%u/link_layer", dev, port);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return IAS_LINK_UNKNOWN;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return IAS_LINK_UNKNOWN;
	buf[n] = '\0';
	if (strncmp(buf, "InfiniBand", 10) == 0)
		return IAS_LINK_IB;
	if (strncmp(buf, "Ethernet", 8) == 0)
		return IAS_LINK_ETH;
	return IAS_LINK_UNKNOWN;
}

static int nb_collect(const struct ias_kneigh *n, void *arg)
{
	struct kcm_scan *k = arg;

	if (k->nnb == k->cap) {
		size_t cap = k->cap ? k->cap * 2 : 64;
		struct ias_kneigh *p;

		if (cap > MAX_NEIGH)
			return 1;       /* enough: the rest is not read */
		p = realloc(k->nb, cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		k->nb = p;
		k->cap = cap;
	}
	k->nb[k->nnb++] = *n;
	return 0;
}

/* The neighbour table, read once per scan and only when a cm_id needs it. */
static void need_neigh(struct kcm_scan *k)
{
	int r;

	if (k->nb_state)
		return;
	r = ias_neigh_dump(nb_collect, k);
	k->nb_state = r < 0 ? -1 : 1;
	if (r < 0) {
		log_debug("neighbour table not readable: %s", strerror(-r));
		k->nnb = 0;
	}
}

struct qpt_entry *kcm_target(struct sema *s, const struct ias_kcm *c)
{
	struct qpt_entry *q;

	/* A process's connected RC/UC QP: one remote end. */
	if (!c->has_pid || !c->has_lqpn || !c->dst.family || (c->qp_type != 2 && c->qp_type != 3))
		return NULL;
	q = qpt_find(&s->qps, c->dev_name, c->lqpn);
	/* The QP dump decides that the QP exists, its owner and its remote QPN. */
	if (!q || !(q->sources & QPT_SRC_KERNEL) || !(q->remote_src & QPT_RSRC_NLQPN) ||
	    (q->remote_src & QPT_RSRC_CM))
		return NULL;
	return q;
}

int kcm_apply(struct sema *s, struct qpt_entry *q, const struct ias_kcm *c, const uint8_t gid[16],
	      const char *how)
{
	char g[INET6_ADDRSTRLEN] = "?";

	inet_ntop(AF_INET6, gid, g, sizeof(g));
	if ((q->remote_src & QPT_RSRC_KOBS) && memcmp(q->remote_gid, gid, 16) != 0) {
		/* The QP's own address vector, seen at modify, is closer. */
		log_debug("QP %s/0x%x: rdma_cm says GID %s, the kernel observation differs; "
			  "keeping the observation", q->device, q->qpn, g);
		return 0;
	}
	if ((q->remote_src & QPT_RSRC_LIBIAS) &&
	    (q->remote_lid != 0 || memcmp(q->remote_gid, gid, 16) != 0)) {
		s->stats.kernel_conflicts++;
		log_warn("QP %s/0x%x: registered remote end differs from the kernel's rdma_cm "
			 "connection (GID %s); keeping the kernel's", q->device, q->qpn, g);
		q->remote_src &= ~QPT_RSRC_LIBIAS;
	}
	q->remote_lid = 0;
	memcpy(q->remote_gid, gid, 16);
	q->has_remote = 1;
	q->remote_src |= QPT_RSRC_CM;
	log_debug("QP %s/0x%x (PID %u): remote end GID %s QP 0x%x from rdma_cm (%s)",
		  q->device, q->qpn, c->pid, g, q->remote_qpn, how);
	return 1;
}

static int cm_cb(const struct ias_kcm *c, void *arg)
{
	struct kcm_scan *k = arg;
	struct qpt_entry *q = kcm_target(k->s, c);
	enum ias_link link;
	enum ias_gid_how how;
	uint8_t gid[16];

	if (!q)
		return 0;
	link = port_link(c->dev_name, c->port ? c->port : q->port);
	if (c->dst.family != AF_IB && (link != IAS_LINK_ETH || c->dst.family == AF_INET))
		need_neigh(k);
	how = ias_kcm_remote_gid(&c->dst, link, k->nb, k->nnb, gid);
	if (how == IAS_GID_NONE) {
		log_debug("QP %s/0x%x: rdma_cm gives no remote GID (family %u, link %d)",
			  c->dev_name, c->lqpn, c->dst.family, (int)link);
		return 0;
	}
	kcm_apply(k->s, q, c, gid, ias_gid_how_str(how));
	return 0;
}

int engine_kernel_cm(struct sema *s)
{
	static int said;
	struct kcm_scan k = { .s = s };
	int r;

	r = ias_rdmanl_dump_cm_ids(cm_cb, &k);
	free(k.nb);
	if (r < 0) {
		if (said != r)
			log_info("rdma_cm connections not read from the kernel: %s", strerror(-r));
		said = r;
		return r;
	}
	if (said)
		log_info("reading rdma_cm connections from the kernel");
	said = 0;
	return 0;
}
