/* See ctl/server.h. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/ratelimit.h"
#include "ctl/server.h"

/* Per uid: live connections and the refusal log budget. A fixed table
 * (clients point into it): max_clients + USERS_SPARE records, one of them
 * the catch-all for when every other record is busy. */
#define USERS_SPARE 64

struct ctlsrv_user {
	uid_t uid;
	int used;
	unsigned nconn;
	struct ias_ratelimit rl;	/* log lines about this uid's refusals */
	uint64_t refused;		/* refusals in the open window */
	uint64_t suppressed_base;	/* rl.suppressed when the window opened */
};

struct ctlsrv {
	struct ctlsrv_conf conf;
	int fd, owns_path;
	char path[108];
	sd_event_source *src;
	struct ctlsrv_client *clients;
	unsigned nclients;
	uint64_t next_id;
	struct ctlsrv_user *users;
	size_t nusers;			/* records; users[nusers - 1] is the catch-all */
	sd_event_source *summary_timer;
	char window_text[24];		/* "10 s" */
	uint64_t summary_at;		/* ms the timer is armed for, 0 none */
	uint8_t in[IAS_CTL_MAX_MSG + 1];
	uint8_t out[IAS_CTL_MAX_MSG];
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- per-uid records and the refusal log budget ------------------------- */

static int pending(const struct ctlsrv_user *u)
{
	return u->rl.suppressed != u->suppressed_base;
}

/* Closes u's window: one summary line when some of its refusals were not
 * logged one by one. */
static void summarise(struct ctlsrv *srv, struct ctlsrv_user *u)
{
	if (pending(u) && srv->conf.log_group) {
		if (u == &srv->users[srv->nusers - 1])
			log_notice("other uids: %llu requests refused in the last %s",
				   (unsigned long long)u->refused, srv->window_text);
		else
			log_notice("uid %u: %llu requests refused in the last %s",
				   (unsigned)u->uid, (unsigned long long)u->refused, srv->window_text);
	}
	u->refused = 0;
	u->suppressed_base = u->rl.suppressed;
	u->rl.window_end = 0;
}

static int summary_due(sd_event_source *src, uint64_t usec, void *arg);

static void arm_summary(struct ctlsrv *srv, uint64_t at_ms)
{
	if (srv->summary_at && srv->summary_at <= at_ms)
		return;
	if (!srv->summary_timer) {
		if (sd_event_add_time(srv->conf.ev, &srv->summary_timer, CLOCK_MONOTONIC,
				      at_ms * 1000, 100 * 1000, summary_due, srv) < 0)
			return;	/* the summary comes with the uid's next refusal */
	} else {
		sd_event_source_set_time(srv->summary_timer, at_ms * 1000);
	}
	sd_event_source_set_enabled(srv->summary_timer, SD_EVENT_ONESHOT);
	srv->summary_at = at_ms;
}

static int summary_due(sd_event_source *src, uint64_t usec, void *arg)
{
	struct ctlsrv *srv = arg;
	uint64_t now = now_ms(), next = 0;
	size_t i;

	(void)src;
	(void)usec;
	srv->summary_at = 0;
	for (i = 0; i < srv->nusers; i++) {
		struct ctlsrv_user *u = &srv->users[i];

		if (!u->used || !u->rl.window_end)
			continue;
		if (now >= u->rl.window_end)
			summarise(srv, u);
		else if (pending(u) && (!next || u->rl.window_end < next))
			next = u->rl.window_end;
		if (!u->nconn && !u->rl.window_end && i != srv->nusers - 1)
			u->used = 0;
	}
	if (next)
		arm_summary(srv, next);
	return 0;
}

/* The record for uid: its own, a free one, or the catch-all. */
static struct ctlsrv_user *user_of(struct ctlsrv *srv, uid_t uid)
{
	struct ctlsrv_user *free_u = NULL, *idle = NULL;
	uint64_t now = now_ms();
	size_t i;

	for (i = 0; i + 1 < srv->nusers; i++) {
		struct ctlsrv_user *u = &srv->users[i];

		if (u->used && u->uid == uid)
			return u;
		if (!u->used && !free_u)
			free_u = u;
		else if (u->used && !u->nconn && !idle &&
			 (!u->rl.window_end || now >= u->rl.window_end))
			idle = u;
	}
	if (!free_u && idle) {
		summarise(srv, idle);
		free_u = idle;
	}
	if (!free_u)
		return &srv->users[srv->nusers - 1];
	memset(free_u, 0, sizeof(*free_u));
	free_u->used = 1;
	free_u->uid = uid;
	free_u->rl = srv->users[srv->nusers - 1].rl;
	free_u->rl.window_end = 0;
	free_u->rl.used = 0;
	free_u->rl.suppressed = 0;
	return free_u;
}

/* Counts one refusal of u's; 1 when it may have its own log line. */
static int note_refusal(struct ctlsrv *srv, struct ctlsrv_user *u)
{
	uint64_t now = now_ms();

	if (u->rl.window_end && now >= u->rl.window_end)
		summarise(srv, u);
	u->refused++;
	if (ias_ratelimit_ok(&u->rl, now))
		return srv->conf.log_group != NULL;
	arm_summary(srv, u->rl.window_end);
	return 0;
}

int ctlsrv_refused(struct ctlsrv_req *x)
{
	return note_refusal(x->cl->srv, x->cl->user);
}

int ctlsrv_admit(const struct ctlsrv_conf *conf, unsigned nclients, unsigned user_nconn,
		 uid_t uid, int privileged)
{
	unsigned open_slots = conf->max_clients > conf->reserved_clients ?
			      conf->max_clients - conf->reserved_clients : 0;

	if (nclients >= conf->max_clients)
		return CTLSRV_FULL;
	if (!privileged && nclients >= open_slots)
		return CTLSRV_RESERVED;
	if (uid != 0 && conf->max_clients_per_user && user_nconn >= conf->max_clients_per_user)
		return CTLSRV_USER_CAP;
	return 0;
}

int ctlsrv_fail(struct ctlsrv_req *x, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(x->msg, sizeof(x->msg), fmt, ap);
	va_end(ap);
	return status;
}

static int privileged(const struct ctlsrv_client *cl, gid_t gid)
{
	int i;

	if (cl->cred.uid == 0)
		return 1;
	if (gid == (gid_t)-1)
		return 0;
	if (cl->cred.gid == gid)
		return 1;
	for (i = 0; i < cl->ngroups; i++)
		if (cl->groups[i] == gid)
			return 1;
	return 0;
}

void ctlsrv_send(struct ctlsrv_client *cl, const void *buf, size_t len)
{
	if (send(cl->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 && cl->srv->conf.log_group)
		log_debug("client %llu: send: %s", (unsigned long long)cl->id, strerror(errno));
}

static void reply_error(struct ctlsrv_client *cl, uint16_t op, uint32_t seq, int status,
			const char *message)
{
	struct ctlsrv *srv = cl->srv;
	int n = ias_ctl_build_error(srv->out, sizeof(srv->out), op, seq, status, message);

	if (srv->conf.on_error)
		srv->conf.on_error(srv->conf.ctx, status);
	if (n > 0)
		ctlsrv_send(cl, srv->out, (size_t)n);
}

/* A request refused before any handler: counted for the caller's uid, one
 * log line within its budget, and the error reply. */
static void refuse(struct ctlsrv_client *cl, uint16_t op, uint32_t seq, int status,
		   const char *message)
{
	if (note_refusal(cl->srv, cl->user))
		log_notice("uid %u (PID %d): refused a malformed request (%s): %s",
			   (unsigned)cl->cred.uid, (int)cl->cred.pid, ias_ctl_strerror(status), message);
	reply_error(cl, op, seq, status, message);
}

static const struct ctlsrv_handler *find_handler(const struct ctlsrv_conf *c, uint16_t op)
{
	size_t i;

	for (i = 0; i < c->nhandlers; i++)
		if (c->handlers[i].op == op)
			return &c->handlers[i];
	return NULL;
}

static void handle(struct ctlsrv_client *cl, size_t len)
{
	struct ctlsrv *srv = cl->srv;
	const struct ctlsrv_handler *hd;
	struct ias_ctl_msg rep;
	struct ctlsrv_req x;
	int st;

	memset(&x, 0, sizeof(x));
	x.ctx = srv->conf.ctx;
	x.cl = cl;
	if (len > IAS_CTL_MAX_MSG) {
		ias_ctl_parse_hdr(srv->in, IAS_CTL_HDR_LEN, &x.h, NULL);
		refuse(cl, x.h.op, x.h.seq, IAS_CTL_E_TOOBIG, "request larger than 65536 bytes");
		return;
	}
	st = ias_ctl_validate_msg(srv->in, len, x.msg, sizeof(x.msg));
	ias_ctl_parse_hdr(srv->in, len, &x.h, &x.attrs);
	if (st) {
		refuse(cl, x.h.op, x.h.seq, st, x.msg[0] ? x.msg : ias_ctl_strerror(st));
		return;
	}
	if (x.h.kind != IAS_CTL_REQUEST) {
		refuse(cl, x.h.op, x.h.seq, IAS_CTL_E_INVAL, "only requests are accepted");
		return;
	}
	if (ias_ctl_op_privileged(x.h.op) && !privileged(cl, srv->conf.control_gid)) {
		if (note_refusal(srv, cl->user))
			log_notice("uid %u (PID %d) refused %s: not root nor in group %s",
				   (unsigned)cl->cred.uid, (int)cl->cred.pid,
				   ias_ctl_op_name(x.h.op), srv->conf.log_group);
		reply_error(cl, x.h.op, x.h.seq, IAS_CTL_E_PERM, srv->conf.perm_msg);
		return;
	}
	hd = find_handler(&srv->conf, x.h.op);
	if (!hd) {
		refuse(cl, x.h.op, x.h.seq, IAS_CTL_E_INVAL, srv->conf.unknown_op_msg);
		return;
	}
	snprintf(x.actor, sizeof(x.actor), "uid=%u pid=%d (%s)", (unsigned)cl->cred.uid,
		 (int)cl->cred.pid, cl->comm);
	ias_ctl_msg_init(&rep, srv->out, sizeof(srv->out), IAS_CTL_REPLY, x.h.op, x.h.seq, 0);
	x.rep = &rep;
	st = hd->fn(&x);
	if (st) {
		reply_error(cl, x.h.op, x.h.seq, st, x.msg[0] ? x.msg : ias_ctl_strerror(st));
		return;
	}
	if (ias_ctl_msg_finish(&rep)) {
		reply_error(cl, x.h.op, x.h.seq, IAS_CTL_E_TOOBIG, srv->conf.reply_toobig_msg);
		return;
	}
	ctlsrv_send(cl, rep.buf, rep.len);
}

static void client_close(struct ctlsrv_client *cl)
{
	struct ctlsrv *srv = cl->srv;
	struct ctlsrv_client **pp;

	for (pp = &srv->clients; *pp; pp = &(*pp)->next)
		if (*pp == cl) {
			*pp = cl->next;
			break;
		}
	srv->nclients--;
	cl->user->nconn--;
	if (srv->conf.on_close)
		srv->conf.on_close(srv->conf.ctx, cl);
	sd_event_source_disable_unref(cl->src);
	close(cl->fd);
	free(cl);
}

static int client_io(sd_event_source *src, int fd, uint32_t revents, void *arg)
{
	struct ctlsrv_client *cl = arg;
	ssize_t n;

	(void)src;
	if (revents & EPOLLIN) {
		n = recv(fd, cl->srv->in, sizeof(cl->srv->in), MSG_DONTWAIT | MSG_TRUNC);
		if (n > 0) {
			handle(cl, (size_t)n);
			return 0;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
	}
	client_close(cl);
	return 0;
}

static void read_comm(struct ctlsrv_client *cl)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)cl->cred.pid);
	f = fopen(path, "re");
	if (!f)
		return;
	if (fgets(cl->comm, sizeof(cl->comm), f))
		cl->comm[strcspn(cl->comm, "\n")] = '\0';
	fclose(f);
}

static const char *admit_why(const struct ctlsrv *srv, int why, char *buf, size_t len)
{
	switch (why) {
	case CTLSRV_FULL:
		snprintf(buf, len, "all %u connections are in use", srv->conf.max_clients);
		break;
	case CTLSRV_RESERVED:
		snprintf(buf, len, "the last %u of %u connections are kept for root and group %s",
			 srv->conf.reserved_clients, srv->conf.max_clients,
			 srv->conf.log_group ? srv->conf.log_group : "(none)");
		break;
	default:
		snprintf(buf, len, "it holds %u connections already (max_clients_per_user)",
			 srv->conf.max_clients_per_user);
		break;
	}
	return buf;
}

static int listen_io(sd_event_source *src, int fd, uint32_t revents, void *arg)
{
	struct ctlsrv *srv = arg;
	struct ctlsrv_client *cl;
	struct ctlsrv_user *u;
	struct ucred cred;
	char why[160];
	socklen_t len;
	int cfd, adm;

	(void)src;
	(void)revents;
	cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (cfd < 0)
		return 0;
	len = sizeof(cred);
	if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
		if (srv->conf.log_group)
			log_warn("SO_PEERCRED: %s", strerror(errno));
		close(cfd);
		return 0;
	}
	cl = calloc(1, sizeof(*cl));
	if (!cl) {
		close(cfd);
		return 0;
	}
	cl->srv = srv;
	cl->fd = cfd;
	cl->cred = cred;
	len = sizeof(cl->groups);
	if (getsockopt(cfd, SOL_SOCKET, SO_PEERGROUPS, cl->groups, &len) == 0)
		cl->ngroups = (int)(len / sizeof(gid_t));
	u = user_of(srv, cred.uid);
	adm = ctlsrv_admit(&srv->conf, srv->nclients, u->nconn, cred.uid,
			   privileged(cl, srv->conf.control_gid));
	if (adm) {
		if (note_refusal(srv, u))
			log_warn("refusing a control connection from uid %u (PID %d): %s",
				 (unsigned)cred.uid, (int)cred.pid, admit_why(srv, adm, why, sizeof(why)));
		goto fail;
	}
	cl->id = ++srv->next_id;
	read_comm(cl);
	if (sd_event_add_io(srv->conf.ev, &cl->src, cfd, EPOLLIN, client_io, cl) < 0)
		goto fail;
	cl->user = u;
	u->nconn++;
	cl->next = srv->clients;
	srv->clients = cl;
	srv->nclients++;
	return 0;
fail:
	close(cfd);
	free(cl);
	return 0;
}

static int make_socket(const char *path, int *out)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[sizeof(sa.sun_path)];
	char *slash;
	int fd, r;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			return -errno;
	}
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    chmod(path, 0666) < 0 || listen(fd, 64) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	*out = fd;
	return 0;
}

int ctlsrv_start(const struct ctlsrv_conf *conf, const char *path, int listen_fd,
		 struct ctlsrv **out)
{
	struct ctlsrv *srv = calloc(1, sizeof(*srv));
	int r;

	if (!srv)
		return -ENOMEM;
	srv->conf = *conf;
	srv->nusers = (size_t)conf->max_clients + USERS_SPARE;
	srv->users = calloc(srv->nusers, sizeof(*srv->users));
	if (!srv->users) {
		free(srv);
		return -ENOMEM;
	}
	srv->users[srv->nusers - 1].used = 1;	/* the catch-all */
	srv->users[srv->nusers - 1].uid = (uid_t)-1;
	srv->users[srv->nusers - 1].rl.interval_ms =
		conf->refusal_window_ms ? conf->refusal_window_ms : CTLSRV_REFUSAL_WINDOW_MS;
	srv->users[srv->nusers - 1].rl.burst =
		conf->refusal_lines ? conf->refusal_lines : CTLSRV_REFUSAL_LINES;
	if (srv->users[srv->nusers - 1].rl.interval_ms % 1000)
		snprintf(srv->window_text, sizeof(srv->window_text), "%llu ms",
			 (unsigned long long)srv->users[srv->nusers - 1].rl.interval_ms);
	else
		snprintf(srv->window_text, sizeof(srv->window_text), "%llu s",
			 (unsigned long long)srv->users[srv->nusers - 1].rl.interval_ms / 1000);
	srv->fd = listen_fd;
	snprintf(srv->path, sizeof(srv->path), "%s", path);
	if (srv->fd < 0) {
		r = make_socket(path, &srv->fd);
		if (r) {
			free(srv->users);
			free(srv);
			return r;
		}
		srv->owns_path = 1;
	}
	r = sd_event_add_io(conf->ev, &srv->src, srv->fd, EPOLLIN, listen_io, srv);
	if (r < 0) {
		close(srv->fd);
		free(srv->users);
		free(srv);
		return r;
	}
	*out = srv;
	return 0;
}

void ctlsrv_stop(struct ctlsrv *srv)
{
	if (!srv)
		return;
	while (srv->clients)
		client_close(srv->clients);
	for (size_t i = 0; i < srv->nusers; i++)
		if (srv->users[i].used)
			summarise(srv, &srv->users[i]);
	sd_event_source_disable_unref(srv->summary_timer);
	sd_event_source_disable_unref(srv->src);
	close(srv->fd);
	if (srv->owns_path)
		unlink(srv->path);
	free(srv->users);
	free(srv);
}

unsigned ctlsrv_nclients(const struct ctlsrv *srv)
{
	return srv ? srv->nclients : 0;
}

struct ctlsrv_client *ctlsrv_next(struct ctlsrv *srv, struct ctlsrv_client *cl)
{
	if (!srv)
		return NULL;
	return cl ? cl->next : srv->clients;
}

struct ctlsrv_client *ctlsrv_find(struct ctlsrv *srv, uint64_t id)
{
	struct ctlsrv_client *cl;

	for (cl = ctlsrv_next(srv, NULL); cl; cl = cl->next)
		if (cl->id == id)
			return cl;
	return NULL;
}
