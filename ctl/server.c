/* See ctl/server.h. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/log.h"
#include "ctl/server.h"

struct ctlsrv {
	struct ctlsrv_conf conf;
	int fd, owns_path;
	char path[108];
	sd_event_source *src;
	struct ctlsrv_client *clients;
	unsigned nclients;
	uint64_t next_id;
	uint8_t in[IAS_CTL_MAX_MSG + 1];
	uint8_t out[IAS_CTL_MAX_MSG];
};

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
		reply_error(cl, x.h.op, x.h.seq, IAS_CTL_E_TOOBIG, "request larger than 65536 bytes");
		return;
	}
	st = ias_ctl_validate_msg(srv->in, len, x.msg, sizeof(x.msg));
	ias_ctl_parse_hdr(srv->in, len, &x.h, &x.attrs);
	if (st) {
		reply_error(cl, x.h.op, x.h.seq, st, x.msg[0] ? x.msg : ias_ctl_strerror(st));
		return;
	}
	if (x.h.kind != IAS_CTL_REQUEST) {
		reply_error(cl, x.h.op, x.h.seq, IAS_CTL_E_INVAL, "only requests are accepted");
		return;
	}
	if (ias_ctl_op_privileged(x.h.op) && !privileged(cl, srv->conf.control_gid)) {
		if (srv->conf.log_group)
			log_notice("uid %u (PID %d) refused %s: not root nor in group %s",
				   (unsigned)cl->cred.uid, (int)cl->cred.pid,
				   ias_ctl_op_name(x.h.op), srv->conf.log_group);
		reply_error(cl, x.h.op, x.h.seq, IAS_CTL_E_PERM, srv->conf.perm_msg);
		return;
	}
	hd = find_handler(&srv->conf, x.h.op);
	if (!hd) {
		reply_error(cl, x.h.op, x.h.seq, IAS_CTL_E_INVAL, srv->conf.unknown_op_msg);
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

static int listen_io(sd_event_source *src, int fd, uint32_t revents, void *arg)
{
	struct ctlsrv *srv = arg;
	struct ctlsrv_client *cl;
	socklen_t len;
	int cfd;

	(void)src;
	(void)revents;
	cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (cfd < 0)
		return 0;
	if (srv->nclients >= srv->conf.max_clients) {
		if (srv->conf.log_group)
			log_warn("refusing a control connection: %u clients already", srv->nclients);
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
	cl->id = ++srv->next_id;
	len = sizeof(cl->cred);
	if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cl->cred, &len) < 0) {
		if (srv->conf.log_group)
			log_warn("SO_PEERCRED: %s", strerror(errno));
		goto fail;
	}
	len = sizeof(cl->groups);
	if (getsockopt(cfd, SOL_SOCKET, SO_PEERGROUPS, cl->groups, &len) == 0)
		cl->ngroups = (int)(len / sizeof(gid_t));
	read_comm(cl);
	if (sd_event_add_io(srv->conf.ev, &cl->src, cfd, EPOLLIN, client_io, cl) < 0)
		goto fail;
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
	srv->fd = listen_fd;
	snprintf(srv->path, sizeof(srv->path), "%s", path);
	if (srv->fd < 0) {
		r = make_socket(path, &srv->fd);
		if (r) {
			free(srv);
			return r;
		}
		srv->owns_path = 1;
	}
	r = sd_event_add_io(conf->ev, &srv->src, srv->fd, EPOLLIN, listen_io, srv);
	if (r < 0) {
		close(srv->fd);
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
	sd_event_source_disable_unref(srv->src);
	close(srv->fd);
	if (srv->owns_path)
		unlink(srv->path);
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
