/* See umad.h. */
#include "config.h"

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/ratelimit.h"
#include "common/umad.h"

#define SECMGT_CLASS 0x43		/* mad_defs/secmgt.h IAS_SECMGT_CLASS */
#define SECMGT_OUI 0x0A1A5Cu		/* IAS_SECMGT_OUI */
#define SA_CLASS 0x03
#define SA_CLASS_VERSION 2
#define SMI_CLASS 0x01
#define QKEY_GSI 0x80010000
#define HOP_LIMIT_GRH 64
#define MAD_SIZE 256
#define RECV_START (64 * 1024)		/* MAD bytes; grows for RMPP answers */
#define RECV_MAX (16 * 1024 * 1024)
/* The sending buffer: a umad header and one MAD, with room to spare. */
#define SEND_CAP 2048

struct ias_umad {
	sd_event *ev;
	struct ias_umad_ops ops;
	int srv, cli;			/* umad port ids, -1 closed */
	int srv_agent, cli_agent, sa_agent;
	sd_event_source *srv_src, *cli_src, *retry, *timer;
	struct ias_umad_port port;
	uint16_t sm_lid;
	int attached;
	struct ias_pend pend;
	struct ias_ratelimit refused_log;
	uint8_t *buf;			/* receiving: umad header + MAD */
	size_t bufcap;			/* MAD bytes buf holds */
	uint8_t *out;			/* sending: umad header + 256 */
};

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void close_port(struct ias_umad *u)
{
	sd_event_source_disable_unref(u->srv_src);
	sd_event_source_disable_unref(u->cli_src);
	u->srv_src = u->cli_src = NULL;
	if (u->srv >= 0)
		umad_close_port(u->srv);
	if (u->cli >= 0)
		umad_close_port(u->cli);
	u->srv = u->cli = -1;
	u->attached = 0;
}

int ias_umad_refresh(struct ias_umad *u)
{
	umad_port_t port;
	int r;

	if (!u->port.ca[0])
		return -ENODEV;
	r = umad_get_port(u->port.ca, u->port.port, &port);
	if (r < 0)
		return r;
	u->port.lid = (uint16_t)port.base_lid;
	u->port.port_guid = be64toh(port.port_guid);
	u->sm_lid = (uint16_t)port.sm_lid;
	umad_release_port(&port);
	return 0;
}

/* Receive one MAD into u->buf, growing it for RMPP answers: its length, or
 * a negative errno. */
static int recv_mad(struct ias_umad *u, int portid)
{
	int len = (int)u->bufcap, r;

	r = umad_recv(portid, u->buf, &len, 0);
	if (r == -ENOSPC && len > (int)u->bufcap && len <= RECV_MAX) {
		uint8_t *nb = realloc(u->buf, umad_size() + (size_t)len);

		if (!nb)
			return -ENOMEM;
		u->buf = nb;
		u->bufcap = (size_t)len;
		len = (int)u->bufcap;
		r = umad_recv(portid, u->buf, &len, 0);
	}
	return r < 0 ? r : len;
}

/* Read one MAD from portid into rx; 1 when there is one for the daemon. */
static int take(struct ias_umad *u, int portid, struct ias_umad_rx *rx)
{
	int len = recv_mad(u, portid);

	if (len < 0)
		return 0;
	if (umad_status(u->buf)) {
		/* Our own send ending in an error or timeout: the request's
		 * deadline decides what happens next. */
		log_debug("a MAD to LID %u ended with status %d",
			  be16toh(umad_get_mad_addr(u->buf)->lid), umad_status(u->buf));
		return 0;
	}
	memset(rx, 0, sizeof(*rx));
	rx->mad = umad_get_mad(u->buf);
	rx->len = (size_t)len;
	if (len < 2)
		return 0;
	rx->mgmt_class = rx->mad[1];
	memcpy(&rx->addr, umad_get_mad_addr(u->buf), sizeof(rx->addr));
	rx->lid = be16toh(rx->addr.lid);
	rx->gid_index = rx->addr.gid_index;
	if (rx->addr.grh_present) {
		rx->has_grh = 1;
		memcpy(rx->gid, rx->addr.gid, 16);
		if (ias_log_level() >= LOG_DEBUG) {
			char g[INET6_ADDRSTRLEN];

			inet_ntop(AF_INET6, rx->gid, g, sizeof(g));
			log_debug("MAD from GID %s (local GID index %u)", g, rx->gid_index);
		}
	}
	return 1;
}

static int srv_io(sd_event_source *src, int fd, uint32_t revents, void *arg)
{
	struct ias_umad *u = arg;
	struct ias_umad_rx rx;

	(void)src;
	(void)fd;
	(void)revents;
	/* Only SecMgt: the simulator's strays (SMPs) are dropped. */
	if (take(u, u->srv, &rx) && rx.mgmt_class == SECMGT_CLASS && u->ops.on_request)
		u->ops.on_request(u->ops.ctx, u, &rx);
	return 0;
}

static int cli_io(sd_event_source *src, int fd, uint32_t revents, void *arg)
{
	struct ias_umad *u = arg;
	struct ias_umad_rx rx;

	(void)src;
	(void)fd;
	(void)revents;
	if (take(u, u->cli, &rx) &&
	    (rx.mgmt_class == SECMGT_CLASS || (u->ops.sa && rx.mgmt_class == SA_CLASS)) &&
	    u->ops.on_response)
		u->ops.on_response(u->ops.ctx, u, &rx);
	return 0;
}

/* umad_set_grh() leaves the source GID index at 0 (on RoCE, the link-local
 * GID, which the kernel does not route), so it is set after it. */
static void set_grh(void *umad, const ib_mad_addr_t *addr)
{
	umad_set_grh(umad, (void *)addr);
	umad_get_mad_addr(umad)->gid_index = addr->gid_index;
}

int ias_umad_reply(struct ias_umad *u, const struct ias_umad_rx *rx, const uint8_t mad[256])
{
	const ib_mad_addr_t *a = &rx->addr;

	if (!u->attached)
		return -ENODEV;
	memset(u->out, 0, umad_size() + MAD_SIZE);
	memcpy(umad_get_mad(u->out), mad, MAD_SIZE);
	umad_set_addr(u->out, be16toh(a->lid), (int)be32toh(a->qpn), a->sl, QKEY_GSI);
	if (a->grh_present)
		set_grh(u->out, a);
	umad_set_pkey(u->out, a->pkey_index);
	if (umad_send(u->srv, u->srv_agent, u->out, MAD_SIZE, 0, 0) < 0) {
		log_warn("sending an answer to LID %u failed", be16toh(a->lid));
		return -EIO;
	}
	return 0;
}

int ias_umad_send(struct ias_umad *u, int sa, uint16_t lid, const uint8_t *gid,
		  const uint8_t mad[256], unsigned timeout_ms)
{
	ib_mad_addr_t addr;

	if (!u->attached || (sa && !u->ops.sa))
		return -ENODEV;
	memset(u->out, 0, umad_size() + MAD_SIZE);
	memcpy(umad_get_mad(u->out), mad, MAD_SIZE);
	umad_set_addr(u->out, lid, 1, 0, QKEY_GSI);
	umad_set_pkey(u->out, 0);
	if (gid) {
		memset(&addr, 0, sizeof(addr));
		addr.grh_present = 1;
		addr.gid_index = (uint8_t)u->ops.gid_index;
		addr.hop_limit = HOP_LIMIT_GRH;
		memcpy(addr.gid, gid, 16);
		set_grh(u->out, &addr);
		if (ias_log_level() >= LOG_DEBUG) {
			char g[INET6_ADDRSTRLEN];

			inet_ntop(AF_INET6, gid, g, sizeof(g));
			log_debug("MAD to GID %s (source GID index %u)", g, addr.gid_index);
		}
	}
	if (umad_send(u->cli, sa ? u->sa_agent : u->cli_agent, u->out, MAD_SIZE,
		      (int)timeout_ms, 0) < 0)
		return -EIO;
	return 0;
}

void ias_umad_refused(struct ias_umad *u, const char *why, uint16_t lid)
{
	uint64_t n = 0;

	if (u->ops.rejected)
		n = ++*u->ops.rejected;
	if (ias_ratelimit_ok(&u->refused_log, (uint64_t)mono_ms()))
		log_warn("SecMgt MAD from LID %u refused: %s (%llu refused so far)", lid, why,
			 (unsigned long long)n);
}

static int register_agents(struct ias_umad *u)
{
	uint8_t oui[3] = { (SECMGT_OUI >> 16) & 0xff, (SECMGT_OUI >> 8) & 0xff, SECMGT_OUI & 0xff };
	long mask[16 / sizeof(long)];
	unsigned m;

	/* SecMgt's class version is 1, which umad_register_oui() implies; it
	 * also works where umad_register2() is not available (the simulator
	 * shim). */
	memset(mask, 0, sizeof(mask));
	for (m = 0; m < 32; m++)
		if (u->ops.serve_methods & (1u << m))
			mask[m / (8 * sizeof(long))] |= 1L << (m % (8 * sizeof(long)));
	u->srv_agent = umad_register_oui(u->srv, SECMGT_CLASS, 0, oui, mask);
	if (u->srv_agent < 0)
		return u->srv_agent;
	u->cli_agent = umad_register_oui(u->cli, SECMGT_CLASS, 0, oui, NULL);
	if (u->cli_agent < 0)
		return u->cli_agent;
	if (u->ops.sa) {
		u->sa_agent = umad_register(u->cli, SA_CLASS, SA_CLASS_VERSION, 1, NULL);
		if (u->sa_agent < 0)
			return u->sa_agent;
	}
	/* Under the simulator, a MAD of a class nobody registered crashes the
	 * client: take the SM class and drop what arrives there. */
	if (u->ops.where.simulated && umad_register(u->srv, SMI_CLASS, 1, 0, NULL) < 0)
		log_warn("could not register for the SM class under the simulator");
	return 0;
}

static int try_attach(struct ias_umad *u)
{
	int r = ias_umad_pick_port(u->ops.where.ca, u->ops.where.port, &u->port);

	if (r)
		return r;
	ias_umad_refresh(u);
	u->srv = umad_open_port(u->port.ca, u->port.port);
	u->cli = umad_open_port(u->port.ca, u->port.port);
	if (u->srv < 0 || u->cli < 0) {
		r = u->srv < 0 ? u->srv : u->cli;
		close_port(u);
		return r < 0 ? r : -EIO;
	}
	r = register_agents(u);
	if (r) {
		log_err("registering MAD agents on %s/%d: %s", u->port.ca, u->port.port,
			strerror(r < 0 ? -r : r));
		close_port(u);
		return r < 0 ? r : -r;
	}
	r = sd_event_add_io(u->ev, &u->srv_src, umad_get_fd(u->srv), EPOLLIN, srv_io, u);
	if (r >= 0)
		r = sd_event_add_io(u->ev, &u->cli_src, umad_get_fd(u->cli), EPOLLIN, cli_io, u);
	if (r < 0) {
		close_port(u);
		return r;
	}
	u->attached = 1;
	log_notice("SecMgt %s on %s port %d (LID %u, GUID 0x%016llx)", u->ops.who, u->port.ca,
		   u->port.port, u->port.lid, (unsigned long long)u->port.port_guid);
	if (u->ops.on_attach)
		u->ops.on_attach(u->ops.ctx, u);
	return 0;
}

static int on_retry(sd_event_source *src, uint64_t usec, void *arg)
{
	struct ias_umad *u = arg;

	(void)usec;
	if (try_attach(u) == 0)
		return sd_event_source_set_enabled(src, SD_EVENT_OFF);
	sd_event_source_set_time_relative(src, u->ops.where.retry_ms * 1000);
	return sd_event_source_set_enabled(src, SD_EVENT_ONESHOT);
}

/* ---- requests in flight ---------------------------------------------------- */

static void rearm(struct ias_umad *u)
{
	int64_t d = ias_pend_next_deadline(&u->pend);

	if (!u->timer)
		return;
	if (d == INT64_MAX) {
		sd_event_source_set_enabled(u->timer, SD_EVENT_OFF);
		return;
	}
	sd_event_source_set_time(u->timer, (uint64_t)(d < 0 ? 0 : d) * 1000);
	sd_event_source_set_enabled(u->timer, SD_EVENT_ONESHOT);
}

static int on_deadline(sd_event_source *src, uint64_t usec, void *arg)
{
	struct ias_umad *u = arg;
	int64_t now = mono_ms();
	struct ias_pend_ent *e;

	(void)src;
	(void)usec;
	while ((e = ias_pend_expired(&u->pend, now))) {
		uint32_t tid = e->tid;

		if (u->ops.on_expired)
			u->ops.on_expired(u->ops.ctx, u, e);
		if (e->tid == tid && e->deadline_ms <= now)
			ias_pend_del(&u->pend, e);	/* left alone: forgotten */
	}
	rearm(u);
	return 0;
}

struct ias_pend_ent *ias_umad_track(struct ias_umad *u, uint32_t kind, uint64_t key,
				    uint64_t timeout_ms)
{
	struct ias_pend_ent *e = ias_pend_add(&u->pend, kind, key, mono_ms() + (int64_t)timeout_ms);

	if (e)
		rearm(u);
	return e;
}

uint32_t ias_umad_retry(struct ias_umad *u, struct ias_pend_ent *e, uint64_t timeout_ms)
{
	uint32_t tid = ias_pend_retry(&u->pend, e, mono_ms() + (int64_t)timeout_ms);

	rearm(u);
	return tid;
}

struct ias_pend_ent *ias_umad_find(struct ias_umad *u, uint32_t tid)
{
	return ias_pend_find(&u->pend, tid);
}

void ias_umad_untrack(struct ias_umad *u, struct ias_pend_ent *e)
{
	ias_pend_del(&u->pend, e);
	rearm(u);
}

void ias_umad_untrack_key(struct ias_umad *u, uint32_t kind, uint64_t key)
{
	size_t i;

	for (i = 0; i < u->pend.cap; i++)
		if (u->pend.e[i].tid && u->pend.e[i].kind == kind && u->pend.e[i].key == key)
			ias_pend_del(&u->pend, &u->pend.e[i]);
	rearm(u);
}

size_t ias_umad_pending(const struct ias_umad *u, uint32_t kind)
{
	return u ? ias_pend_count(&u->pend, kind) : 0;
}

struct ias_pend_ent *ias_umad_first(struct ias_umad *u)
{
	return ias_pend_expired(&u->pend, INT64_MAX);
}

/* ---- the port ------------------------------------------------------------- */

int ias_umad_attached(const struct ias_umad *u)
{
	return u && u->attached;
}

const struct ias_umad_port *ias_umad_port(struct ias_umad *u)
{
	if (u->attached && !u->port.lid)
		ias_umad_refresh(u);
	return &u->port;
}

uint16_t ias_umad_sm_lid(const struct ias_umad *u)
{
	return u ? u->sm_lid : 0;
}

void ias_umad_describe(struct ias_umad *u, char *buf, size_t len)
{
	if (!u || !u->attached)
		snprintf(buf, len, "waiting for an RDMA port");
	else
		snprintf(buf, len, "%s/%d lid %u", u->port.ca, u->port.port, ias_umad_port(u)->lid);
}

int ias_umad_start(sd_event *ev, const struct ias_umad_ops *ops, struct ias_umad **out)
{
	struct ias_umad *u = calloc(1, sizeof(*u));
	int r;

	if (!u)
		return -ENOMEM;
	/* First: umad_size() depends on the ABI umad_init() finds. */
	if (umad_init() < 0)
		log_warn("libibumad could not initialise; will keep trying");
	u->ev = ev;
	u->ops = *ops;
	u->srv = u->cli = -1;
	u->refused_log = (struct ias_ratelimit)IAS_RATELIMIT_INIT(10000, 10);
	u->bufcap = RECV_START;
	u->buf = calloc(1, umad_size() + u->bufcap);
	u->out = calloc(1, umad_size() + SEND_CAP);
	r = u->buf && u->out ? 0 : -ENOMEM;
	if (!r)
		r = ias_pend_init(&u->pend, ops->max_pending ? ops->max_pending : 64,
				  (uint32_t)mono_ms() * 2654435761u ^ (uint32_t)getpid());
	if (!r)
		r = sd_event_add_time(ev, &u->timer, CLOCK_MONOTONIC, 0, 1000, on_deadline, u);
	if (r < 0)
		goto fail;
	sd_event_source_set_enabled(u->timer, SD_EVENT_OFF);
	r = try_attach(u);
	if (r) {
		log_notice("no RDMA port yet (%s): looking again every %llu ms", strerror(-r),
			   (unsigned long long)ops->where.retry_ms);
		r = sd_event_add_time_relative(ev, &u->retry, CLOCK_MONOTONIC, ops->where.retry_ms * 1000,
					       0, on_retry, u);
		if (r < 0)
			goto fail;
	}
	*out = u;
	return 0;
fail:
	ias_umad_stop(u);
	return r;
}

void ias_umad_stop(struct ias_umad *u)
{
	if (!u)
		return;
	close_port(u);
	sd_event_source_disable_unref(u->retry);
	sd_event_source_disable_unref(u->timer);
	ias_pend_free(&u->pend);
	free(u->buf);
	free(u->out);
	free(u);
}
