/* QP ownership from the kernel's rdma netlink resource tracker.
 *
 * The kernel answers RES_QP_GET dumps one device at a time (the request must
 * name a device index), so a full dump is two steps: list the devices with a
 * RDMA_NLDEV_CMD_GET dump, then dump each device's QPs.
 *
 * Received bytes are read only through libmnl, never through a struct laid
 * over them by this module: mnl_cb_run2 walks the messages (and checks
 * sender, sequence and interrupted dumps), each message is first checked to
 * lie within the buffer, mnl_attr_parse / mnl_attr_parse_nested walk its
 * attributes and nests (each one checked to end within its message or nest,
 * and the area consumed to its end), mnl_attr_validate checks every
 * attribute's type and exact length (strings: NUL-terminated) before
 * mnl_attr_get_u8/u32/str read it, and integers in control messages are
 * copied out with memcpy. A message that fails any step is refused as a
 * whole, before its first callback. */
#include "sema/rdmanl.h"
#include "sema/rdmanl_int.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <rdma/rdma_netlink.h>

#define RECV_SIZE 32768            /* kernel dump skbs are at most this big */
#define RECV_TIMEOUT_SEC 5
#define MAX_DEVICES 4096

/* Take an attribute of the area: it must end within the area's exact
 * length (libmnl bounds a message's attributes by its padded length). */
int ias_rnl_take_attr(struct ias_rnl_area *ar, const struct nlattr *attr)
{
	const char *p = mnl_attr_get_payload(attr);
	size_t n = mnl_attr_get_payload_len(attr), off;

	if (p < ar->base || (size_t)(p - ar->base) > ar->len)
		return -EBADMSG;
	off = (size_t)(p - ar->base);
	if (ar->len - off < n)
		return -EBADMSG;
	ar->used = off + MNL_ALIGN(n);
	return 0;
}

/* The area was consumed to its end (the last item's padding may be cut). */
int ias_rnl_area_done(const struct ias_rnl_area *ar)
{
	return ar->used >= ar->len ? 0 : -EBADMSG;
}

static void area_of_msg(struct ias_rnl_area *ar, const struct nlmsghdr *nlh)
{
	ar->base = mnl_nlmsg_get_payload(nlh);
	ar->len = mnl_nlmsg_get_payload_len(nlh);
	ar->used = 0;
}

void ias_rnl_area_of_nest(struct ias_rnl_area *ar, const struct nlattr *nest)
{
	ar->base = mnl_attr_get_payload(nest);
	ar->len = mnl_attr_get_payload_len(nest);
	ar->used = 0;
}

/* One decoding pass over a recv() buffer. */
struct walk {
	uint16_t msg_type;      /* expected non-control message type */
	int check_seq;          /* check seq/portid (live socket only) */
	uint32_t seq, portid;
	struct ias_rnl_area buf;        /* the messages */
	int res;                /* what a callback decided (IAS_RDMANL_* or -errno) */
	/* QP mode, or any resource message (mcb) */
	ias_kqp_cb cb;
	ias_rnl_msg_cb mcb;
	void *arg;
	/* device-list mode */
	struct ias_kdev *devs;
	size_t ndevs, cap;
	ias_kdev_cb dcb;        /* instead of collecting into devs */
	void *darg;
};

static int collect_cb(const struct nlattr *attr, void *data)
{
	struct ias_rnl_tb *t = data;
	uint16_t type = mnl_attr_get_type(attr);

	if (ias_rnl_take_attr(&t->ar, attr)) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	if (type >= IAS_RNL_TB_SIZE)
		return MNL_CB_OK;       /* newer kernel attribute: not ours */
	if (t->a[type]) {
		errno = EBADMSG;        /* duplicates are never sent */
		return MNL_CB_ERROR;
	}
	t->a[type] = attr;
	return MNL_CB_OK;
}

/* Collect the attributes of a message or of a nest into t: every one within
 * bounds, nothing left over. */
int ias_rnl_collect_msg(const struct nlmsghdr *nlh, struct ias_rnl_tb *t)
{
	memset(t->a, 0, sizeof(t->a));
	area_of_msg(&t->ar, nlh);
	if (mnl_attr_parse(nlh, 0, collect_cb, t) < 0)
		return -EBADMSG;
	return ias_rnl_area_done(&t->ar);
}

int ias_rnl_collect_nest(const struct nlattr *nest, struct ias_rnl_tb *t)
{
	memset(t->a, 0, sizeof(t->a));
	if (mnl_attr_validate(nest, MNL_TYPE_NESTED) < 0)
		return -EBADMSG;
	ias_rnl_area_of_nest(&t->ar, nest);
	if (mnl_attr_parse_nested(nest, collect_cb, t) < 0)
		return -EBADMSG;
	return ias_rnl_area_done(&t->ar);
}

/* Expected data type of every attribute this module reads (mnl_attr_validate
 * checks the exact length of the integer types, and that a NUL_STRING is
 * not empty and ends in NUL). */
static const struct {
	uint16_t type;
	enum mnl_attr_data_type dt;
} attr_types[] = {
	{ RDMA_NLDEV_ATTR_DEV_INDEX, MNL_TYPE_U32 },
	{ RDMA_NLDEV_ATTR_DEV_NAME, MNL_TYPE_NUL_STRING },
	{ RDMA_NLDEV_ATTR_PORT_INDEX, MNL_TYPE_U32 },
	{ RDMA_NLDEV_ATTR_RES_QP, MNL_TYPE_NESTED },
	{ RDMA_NLDEV_ATTR_RES_QP_ENTRY, MNL_TYPE_NESTED },
	{ RDMA_NLDEV_ATTR_RES_LQPN, MNL_TYPE_U32 },
	{ RDMA_NLDEV_ATTR_RES_RQPN, MNL_TYPE_U32 },
	{ RDMA_NLDEV_ATTR_RES_RQ_PSN, MNL_TYPE_U32 },
	{ RDMA_NLDEV_ATTR_RES_SQ_PSN, MNL_TYPE_U32 },
	{ RDMA_NLDEV_ATTR_RES_PATH_MIG_STATE, MNL_TYPE_U8 },
	{ RDMA_NLDEV_ATTR_RES_TYPE, MNL_TYPE_U8 },
	{ RDMA_NLDEV_ATTR_RES_STATE, MNL_TYPE_U8 },
	{ RDMA_NLDEV_ATTR_RES_PID, MNL_TYPE_U32 },
	{ RDMA_NLDEV_ATTR_RES_KERN_NAME, MNL_TYPE_NUL_STRING },
	{ RDMA_NLDEV_ATTR_RES_PDN, MNL_TYPE_U32 },
};

/* Check the type and length of every attribute of t that we know. */
int ias_rnl_validate(const struct ias_rnl_tb *t)
{
	size_t i;

	for (i = 0; i < sizeof(attr_types) / sizeof(attr_types[0]); i++) {
		const struct nlattr *a = t->a[attr_types[i].type];

		if (a && mnl_attr_validate(a, attr_types[i].dt) < 0)
			return -EBADMSG;
	}
	return 0;
}

/* Copy a validated NUL-terminated string attribute; -EBADMSG if it does not
 * fit and strict, else truncate. */
int ias_rnl_copy_str(char *dst, size_t cap, const struct nlattr *a, int strict)
{
	const char *s = mnl_attr_get_str(a);
	size_t n = strnlen(s, mnl_attr_get_payload_len(a));

	if (n >= cap) {
		if (strict)
			return -EBADMSG;
		n = cap - 1;
	}
	memcpy(dst, s, n);
	dst[n] = '\0';
	return 0;
}

/* Device part shared by both message kinds: index and name. */
int ias_rnl_decode_dev(const struct ias_rnl_tb *t, struct ias_kqp *q)
{
	if (!t->a[RDMA_NLDEV_ATTR_DEV_INDEX] || !t->a[RDMA_NLDEV_ATTR_DEV_NAME])
		return -EBADMSG;
	q->dev_index = mnl_attr_get_u32(t->a[RDMA_NLDEV_ATTR_DEV_INDEX]);
	return ias_rnl_copy_str(q->dev_name, sizeof(q->dev_name), t->a[RDMA_NLDEV_ATTR_DEV_NAME], 1);
}

static int decode_entry(const struct nlattr *entry, struct ias_kqp *q)
{
	struct ias_rnl_tb t;
	int r;

	if ((r = ias_rnl_collect_nest(entry, &t)) != 0 || (r = ias_rnl_validate(&t)) != 0)
		return r;
	if (!t.a[RDMA_NLDEV_ATTR_RES_LQPN] || !t.a[RDMA_NLDEV_ATTR_RES_TYPE] ||
	    !t.a[RDMA_NLDEV_ATTR_RES_STATE])
		return -EBADMSG;
	/* A QP belongs either to a process or to the kernel, not both. */
	if (t.a[RDMA_NLDEV_ATTR_RES_PID] && t.a[RDMA_NLDEV_ATTR_RES_KERN_NAME])
		return -EBADMSG;
	q->lqpn = mnl_attr_get_u32(t.a[RDMA_NLDEV_ATTR_RES_LQPN]);
	q->type = mnl_attr_get_u8(t.a[RDMA_NLDEV_ATTR_RES_TYPE]);
	q->state = mnl_attr_get_u8(t.a[RDMA_NLDEV_ATTR_RES_STATE]);
	if (t.a[RDMA_NLDEV_ATTR_PORT_INDEX])
		q->port = mnl_attr_get_u32(t.a[RDMA_NLDEV_ATTR_PORT_INDEX]);
	if (t.a[RDMA_NLDEV_ATTR_RES_RQPN]) {
		q->rqpn = mnl_attr_get_u32(t.a[RDMA_NLDEV_ATTR_RES_RQPN]);
		q->has_rqpn = 1;
	}
	if (t.a[RDMA_NLDEV_ATTR_RES_RQ_PSN]) {
		q->rq_psn = mnl_attr_get_u32(t.a[RDMA_NLDEV_ATTR_RES_RQ_PSN]);
		q->has_rq_psn = 1;
	}
	if (t.a[RDMA_NLDEV_ATTR_RES_SQ_PSN])
		q->sq_psn = mnl_attr_get_u32(t.a[RDMA_NLDEV_ATTR_RES_SQ_PSN]);
	if (t.a[RDMA_NLDEV_ATTR_RES_PID]) {
		q->pid = mnl_attr_get_u32(t.a[RDMA_NLDEV_ATTR_RES_PID]);
		q->has_pid = 1;
	}
	if (t.a[RDMA_NLDEV_ATTR_RES_KERN_NAME])
		ias_rnl_copy_str(q->kern_name, sizeof(q->kern_name),
			 t.a[RDMA_NLDEV_ATTR_RES_KERN_NAME], 0);
	if (t.a[RDMA_NLDEV_ATTR_RES_PDN])
		q->pdn = mnl_attr_get_u32(t.a[RDMA_NLDEV_ATTR_RES_PDN]);
	return 0;
}

/* The QP table of one message, walked twice: first every entry is checked,
 * then each is decoded again and handed to the callback. */
struct table {
	struct ias_rnl_area ar;
	const struct ias_kqp *dev;
	struct walk *w;
	int deliver;
	int res;
};

static int entry_cb(const struct nlattr *e, void *data)
{
	struct table *x = data;
	struct ias_kqp q = *x->dev;
	int r;

	if (ias_rnl_take_attr(&x->ar, e) || mnl_attr_get_type(e) != RDMA_NLDEV_ATTR_RES_QP_ENTRY)
		r = -EBADMSG;
	else
		r = decode_entry(e, &q);
	if (r == 0 && x->deliver && (r = x->w->cb(&q, x->w->arg)) > 0)
		r = IAS_RDMANL_STOPPED;
	if (r == 0)
		return MNL_CB_OK;
	x->res = r;
	return r > 0 ? MNL_CB_STOP : MNL_CB_ERROR;
}

/* One RES_QP_GET message: device attributes and a table of QP entries. The
 * whole message is validated before the first callback. */
static int qp_msg(const struct nlmsghdr *nlh, struct walk *w)
{
	const struct nlattr *qps;
	struct table x;
	struct ias_kqp dev;
	struct ias_rnl_tb t;
	int r;

	memset(&dev, 0, sizeof(dev));
	if ((r = ias_rnl_collect_msg(nlh, &t)) != 0 || (r = ias_rnl_validate(&t)) != 0 ||
	    (r = ias_rnl_decode_dev(&t, &dev)) != 0)
		return r;
	qps = t.a[RDMA_NLDEV_ATTR_RES_QP];
	if (!qps)
		return 0;
	for (x.deliver = 0; x.deliver < 2; x.deliver++) {
		ias_rnl_area_of_nest(&x.ar, qps);
		x.dev = &dev;
		x.w = w;
		x.res = 0;
		if (mnl_attr_parse_nested(qps, entry_cb, &x) < 0 || x.res)
			return x.res ? x.res : -EBADMSG;
		if ((r = ias_rnl_area_done(&x.ar)) != 0)
			return r;
	}
	return 0;
}

/* One RDMA_NLDEV_CMD_GET message: remember the device index and name. */
static int dev_msg(const struct nlmsghdr *nlh, struct walk *w)
{
	struct ias_kqp dev;
	struct ias_kdev kd;
	struct ias_rnl_tb t;
	int r;

	memset(&dev, 0, sizeof(dev));
	if ((r = ias_rnl_collect_msg(nlh, &t)) != 0 || (r = ias_rnl_validate(&t)) != 0 ||
	    (r = ias_rnl_decode_dev(&t, &dev)) != 0)
		return r;
	memset(&kd, 0, sizeof(kd));
	kd.index = dev.dev_index;
	memcpy(kd.name, dev.dev_name, sizeof(kd.name));
	if (w->dcb) {
		if ((r = w->dcb(&kd, w->darg)) != 0)
			return r < 0 ? r : IAS_RDMANL_STOPPED;
		return 0;
	}
	if (w->ndevs == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 8;
		struct ias_kdev *d;

		if (cap > MAX_DEVICES)
			return -E2BIG;
		d = realloc(w->devs, cap * sizeof(*d));
		if (!d)
			return -ENOMEM;
		w->devs = d;
		w->cap = cap;
	}
	w->devs[w->ndevs++] = kd;
	return 0;
}

/* An error code carried by the kernel (NLMSG_ERROR, NLMSG_DONE payload). */
static int kernel_errno(int e)
{
	if (e < 0 && e >= -4095)
		return e;
	return -EBADMSG;
}

/* Every message callback starts here: the message must lie within the
 * buffer. (mnl_nlmsg_ok compares nlmsg_len as an int, so a length above
 * INT_MAX passes it.) Then it is taken as consumed. */
static int msg_take(struct walk *w, const struct nlmsghdr *nlh)
{
	const char *p = mnl_nlmsg_get_payload(nlh);
	size_t n = mnl_nlmsg_get_payload_len(nlh), off;

	if (p < w->buf.base || (size_t)(p - w->buf.base) > w->buf.len)
		return -EBADMSG;
	off = (size_t)(p - w->buf.base);
	if (w->buf.len - off < n)
		return -EBADMSG;
	w->buf.used = off + MNL_ALIGN(n);
	return 0;
}

/* A callback's verdict into libmnl's: r is 0 (go on), IAS_RDMANL_DONE or
 * STOPPED (stop), or a negative errno (error). */
static int verdict(struct walk *w, int r)
{
	if (r == 0)
		return MNL_CB_OK;
	w->res = r;
	return r > 0 ? MNL_CB_STOP : MNL_CB_ERROR;
}

/* The int at the start of a control message's payload (the error of
 * NLMSG_ERROR and NLMSG_DONE), when the payload holds min bytes. */
static int ctl_int(const struct nlmsghdr *nlh, size_t min, int *v)
{
	if (mnl_nlmsg_get_payload_len(nlh) < min)
		return -EBADMSG;
	memcpy(v, mnl_nlmsg_get_payload(nlh), sizeof(*v));
	return 0;
}

static int data_cb(const struct nlmsghdr *nlh, void *data)
{
	struct walk *w = data;
	int r = msg_take(w, nlh);

	if (r == 0 && nlh->nlmsg_type != w->msg_type)
		r = -EPROTO;
	if (r == 0)
		r = w->mcb ? w->mcb(nlh, w->arg) : w->cb ? qp_msg(nlh, w) : dev_msg(nlh, w);
	return verdict(w, r);
}

static int ctl_cb(const struct nlmsghdr *nlh, void *data)
{
	struct walk *w = data;
	int r = msg_take(w, nlh), e = 0;

	if (r)
		return verdict(w, r);
	switch (nlh->nlmsg_type) {
	case NLMSG_NOOP:
		return MNL_CB_OK;
	case NLMSG_DONE:
		/* A dump that failed in the kernel ends with its errno. */
		if (ctl_int(nlh, sizeof(int), &e) == 0 && e != 0)
			return verdict(w, kernel_errno(e));
		return verdict(w, IAS_RDMANL_DONE);
	case NLMSG_ERROR:
		/* An ACK (error 0) is not an answer to a dump either. */
		r = ctl_int(nlh, sizeof(struct nlmsgerr), &e);
		return verdict(w, r ? r : kernel_errno(e));
	case NLMSG_OVERRUN:
		return verdict(w, -EOVERFLOW);
	default:
		return verdict(w, -EPROTO);
	}
}

/* Walk a 4-byte aligned buffer, readable up to len rounded up to 4 (libmnl
 * bounds the last message's attributes by its padded length). */
static int parse_buf(const void *buf, size_t len, struct walk *w)
{
	mnl_cb_t ctl[NLMSG_MIN_TYPE];
	size_t i;
	int r;

	if (len > INT_MAX)
		return -EMSGSIZE;
	for (i = 0; i < NLMSG_MIN_TYPE; i++)
		ctl[i] = ctl_cb;
	w->buf.base = buf;
	w->buf.len = len;
	w->buf.used = 0;
	w->res = 0;
	r = mnl_cb_run2(buf, len, w->check_seq ? w->seq : 0, w->check_seq ? w->portid : 0,
			data_cb, w, ctl, NLMSG_MIN_TYPE);
	if (w->res)
		return w->res;
	if (r < 0) /* libmnl's own checks: sender, sequence, interrupted dump */
		return errno == ESRCH || errno == EPROTO ? -EPROTO : errno == EINTR ? -EINTR : -EBADMSG;
	/* Every message walked: nothing may be left but the last one's padding. */
	return ias_rnl_area_done(&w->buf) ? -EBADMSG : IAS_RDMANL_MORE;
}

/* Decode a buffer that may be unaligned, or end in the middle of the last
 * message's padding: then decode an aligned, zero-padded copy. */
static int parse_any(const void *buf, size_t len, struct walk *w)
{
	void *copy = NULL;
	int r;

	if (len > INT_MAX)
		return -EMSGSIZE;
	if ((uintptr_t)buf % NLMSG_ALIGNTO || len % NLMSG_ALIGNTO) {
		copy = calloc(1, MNL_ALIGN(len) ? MNL_ALIGN(len) : 1);
		if (!copy)
			return -ENOMEM;
		memcpy(copy, buf, len);
		buf = copy;
	}
	r = parse_buf(buf, len, w);
	free(copy);
	return r;
}

int ias_rdmanl_parse(const void *buf, size_t len, ias_kqp_cb cb, void *arg)
{
	struct walk w = {
		.msg_type = RDMA_NL_GET_TYPE(RDMA_NL_NLDEV, RDMA_NLDEV_CMD_RES_QP_GET),
		.cb = cb, .arg = arg,
	};

	if (!buf || !cb)
		return -EINVAL;
	return parse_any(buf, len, &w);
}

int ias_rnl_parse(const void *buf, size_t len, uint16_t msg_type, uint32_t seq, uint32_t portid,
		  ias_rnl_msg_cb cb, void *arg)
{
	struct walk w = { .msg_type = msg_type, .check_seq = 1, .seq = seq, .portid = portid,
			  .mcb = cb, .arg = arg };

	if (!buf || !cb)
		return -EINVAL;
	return parse_any(buf, len, &w);
}

int ias_rdmanl_parse_devs(const void *buf, size_t len, ias_kdev_cb cb, void *arg)
{
	struct walk w = {
		.msg_type = RDMA_NL_GET_TYPE(RDMA_NL_NLDEV, RDMA_NLDEV_CMD_GET),
		.dcb = cb, .darg = arg,
	};

	if (!buf || !cb)
		return -EINVAL;
	return parse_any(buf, len, &w);
}

/* Send one dump request (optionally for one device) and decode the answer
 * until NLMSG_DONE, an error or the callback stops it. */
static int dump(struct mnl_socket *nl, char *buf, uint16_t cmd, const uint32_t *dev_index,
		struct walk *w)
{
	struct nlmsghdr *nlh;
	int r;

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RDMA_NL_GET_TYPE(RDMA_NL_NLDEV, cmd);
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = ++w->seq;
	if (dev_index)
		mnl_attr_put_u32(nlh, RDMA_NLDEV_ATTR_DEV_INDEX, *dev_index);
	w->msg_type = nlh->nlmsg_type;
	w->check_seq = 1;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl, buf, RECV_SIZE);

		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
		/* Zero what follows up to a multiple of 4 (see parse_buf). */
		memset(buf + n, 0, MNL_ALIGN((size_t)n) - (size_t)n);
		r = parse_buf(buf, (size_t)n, w);
		if (r != IAS_RDMANL_MORE)
			return r;
	}
}

/* A bound NETLINK_RDMA socket with a receive timeout. */
static int open_sock(struct mnl_socket **out)
{
	struct timeval tv = { .tv_sec = RECV_TIMEOUT_SEC };
	struct mnl_socket *nl;
	int r;

	*out = NULL;
	nl = mnl_socket_open(NETLINK_RDMA);
	if (!nl)
		/* No ib_core: the protocol family is not registered. */
		return (errno == EPROTONOSUPPORT || errno == EAFNOSUPPORT) ? -ENOENT : -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0) {
		r = -errno;
		mnl_socket_close(nl);
		return r;
	}
	*out = nl;
	return 0;
}

/* Dump resource cmd of every device, each message to cb (QPs) or mcb. */
static int dump_each_dev(uint16_t cmd, ias_kqp_cb cb, ias_rnl_msg_cb mcb, void *arg)
{
	struct walk w = { 0 };
	struct mnl_socket *nl = NULL;
	char *buf = NULL;
	size_t i;
	int r;

	if ((r = open_sock(&nl)) != 0)
		goto out;
	buf = malloc(RECV_SIZE + NLMSG_ALIGNTO);
	if (!buf) {
		r = -ENOMEM;
		goto out;
	}
	w.portid = mnl_socket_get_portid(nl);
	w.seq = (uint32_t)time(NULL);

	/* Step 1: the devices. */
	r = dump(nl, buf, RDMA_NLDEV_CMD_GET, NULL, &w);
	if (r < 0)
		goto out;
	if (w.ndevs == 0) {
		r = -ENOENT;
		goto out;
	}
	/* Step 2: each device's resources. */
	w.cb = cb;
	w.mcb = mcb;
	w.arg = arg;
	for (i = 0; i < w.ndevs; i++) {
		r = dump(nl, buf, cmd, &w.devs[i].index, &w);
		/* A device that went away between the two steps is not an error. */
		if (r == -ENODEV)
			continue;
		if (r < 0)
			goto out;
		if (r == IAS_RDMANL_STOPPED)
			break;
	}
	r = 0;
out:
	free(w.devs);
	free(buf);
	if (nl)
		mnl_socket_close(nl);
	return r;
}

int ias_rdmanl_dump_qps(ias_kqp_cb cb, void *arg)
{
	return cb ? dump_each_dev(RDMA_NLDEV_CMD_RES_QP_GET, cb, NULL, arg) : -EINVAL;
}

int ias_rnl_dump(uint16_t cmd, ias_rnl_msg_cb cb, void *arg)
{
	return cb ? dump_each_dev(cmd, NULL, cb, arg) : -EINVAL;
}

/* ---- kept-open handle ------------------------------------------------------ */

struct ias_rdmanl {
	struct mnl_socket *nl;  /* NULL after an error: reopened on next use */
	char *buf;
	uint32_t seq;
	struct ias_kdev *devs;  /* the cached device map */
	size_t ndevs;
	int have_map;
};

int ias_rdmanl_open(struct ias_rdmanl **out)
{
	struct ias_rdmanl *h;
	int r;

	if (!out)
		return -EINVAL;
	*out = NULL;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->buf = malloc(RECV_SIZE + NLMSG_ALIGNTO);
	if (!h->buf) {
		r = -ENOMEM;
		goto out;
	}
	if ((r = open_sock(&h->nl)) != 0)
		goto out;
	h->seq = (uint32_t)time(NULL);
	*out = h;
	return 0;
out:
	ias_rdmanl_close(h);
	return r;
}

void ias_rdmanl_close(struct ias_rdmanl *h)
{
	if (!h)
		return;
	if (h->nl)
		mnl_socket_close(h->nl);
	free(h->devs);
	free(h->buf);
	free(h);
}

/* Forget the socket (and the map) after an error: stale answers may be
 * queued on it. */
static void h_reset(struct ias_rdmanl *h)
{
	if (h->nl)
		mnl_socket_close(h->nl);
	h->nl = NULL;
	free(h->devs);
	h->devs = NULL;
	h->ndevs = 0;
	h->have_map = 0;
}

/* One dump on the handle's socket; the walk's sequence comes from h. */
static int h_dump(struct ias_rdmanl *h, uint16_t cmd, const uint32_t *dev_index, struct walk *w)
{
	int r;

	if (!h->nl && (r = open_sock(&h->nl)) != 0)
		return r;
	w->portid = mnl_socket_get_portid(h->nl);
	w->seq = h->seq;
	r = dump(h->nl, h->buf, cmd, dev_index, w);
	h->seq = w->seq;
	if (r < 0 && r != -ENODEV && r != -EINVAL)
		h_reset(h);     /* the socket may be out of step */
	return r;
}

static int h_refresh(struct ias_rdmanl *h)
{
	struct walk w = { 0 };
	int r;

	r = h_dump(h, RDMA_NLDEV_CMD_GET, NULL, &w);
	if (r < 0) {
		free(w.devs);
		return r;
	}
	free(h->devs);
	h->devs = w.devs;
	h->ndevs = w.ndevs;
	h->have_map = 1;
	return 0;
}

static int h_index(const struct ias_rdmanl *h, const char *name, uint32_t *index)
{
	size_t i;

	for (i = 0; i < h->ndevs; i++)
		if (strcmp(h->devs[i].name, name) == 0) {
			*index = h->devs[i].index;
			return 1;
		}
	return 0;
}

struct find {
	const char *dev_name;
	uint32_t lqpn;
	struct ias_kqp *out;
	int found, other_name;
};

/* Sees every QP of the device: the dump is always read to its end, so the
 * socket stays in step. */
static int find_cb(const struct ias_kqp *qp, void *arg)
{
	struct find *f = arg;

	if (strcmp(qp->dev_name, f->dev_name) != 0) {
		f->other_name = 1;      /* the index now names another device */
		return 0;
	}
	if (qp->lqpn == f->lqpn && !f->found) {
		*f->out = *qp;
		f->found = 1;
	}
	return 0;
}

int ias_rdmanl_find_qp(struct ias_rdmanl *h, const char *dev_name, uint32_t lqpn,
		       struct ias_kqp *out)
{
	int attempt, r;

	if (!h || !dev_name || !out)
		return -EINVAL;
	for (attempt = 0; attempt < 2; attempt++) {
		struct find f = { .dev_name = dev_name, .lqpn = lqpn, .out = out };
		struct walk w = { .cb = find_cb, .arg = &f };
		uint32_t index;

		if ((!h->have_map || attempt > 0 || !h_index(h, dev_name, &index)) &&
		    (r = h_refresh(h)) < 0)
			return r;
		if (h->ndevs == 0)
			return -ENOENT;
		if (!h_index(h, dev_name, &index))
			return -ENODEV;
		r = h_dump(h, RDMA_NLDEV_CMD_RES_QP_GET, &index, &w);
		/* The device went away (the kernel knows no such index):
		 * refresh the map once. */
		if (r == -ENODEV || r == -EINVAL) {
			h->have_map = 0;
			continue;
		}
		if (r < 0)
			return r;
		if (f.other_name) {
			h->have_map = 0;
			continue;
		}
		return f.found;
	}
	/* The map kept disagreeing with the kernel's answers. */
	return -EPROTO;
}

const char *ias_kqp_type_str(uint8_t type)
{
	static const char *const names[] = {
		[0] = "SMI", [1] = "GSI", [2] = "RC", [3] = "UC", [4] = "UD",
		[5] = "RAW_IPV6", [6] = "RAW_ETHERTYPE", [8] = "RAW_PACKET",
		[9] = "XRC_INI", [10] = "XRC_TGT",
	};

	if (type == 0xff)
		return "DRIVER";
	if (type < sizeof(names) / sizeof(names[0]) && names[type])
		return names[type];
	return "UNKNOWN";
}

const char *ias_kqp_state_str(uint8_t state)
{
	static const char *const names[] = {
		"RESET", "INIT", "RTR", "RTS", "SQD", "SQE", "ERR",
	};

	if (state < sizeof(names) / sizeof(names[0]))
		return names[state];
	return "UNKNOWN";
}
