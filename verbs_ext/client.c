/* libias: the control-socket client (one connection, request/reply by seq,
 * events queued while a reply is awaited). */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ctl/proto.h"
#include "verbs_ext/ias.h"
#include "verbs_ext/ias_int.h"

#define CALL_TIMEOUT_MS 5000
#define EVQ_MAX 64

struct evq {
	struct evq *next;
	size_t len;
	uint8_t data[];
};

struct ias_client {
	int fd;
	uint32_t seq;
	struct evq *head, *tail;
	int nq;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *ias_socket_path(const char *path)
{
	const char *env;

	if (path && *path)
		return path;
	env = getenv(IAS_CTL_SOCKET_ENV);
	return env && *env ? env : IAS_CTL_DEFAULT_SOCKET;
}

int ias_client_open(const char *path, struct ias_client **out)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct ias_client *c;
	int fd, rc;

	*out = NULL;
	path = ias_socket_path(path);
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		rc = -errno;
		goto out;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = -errno;
		/* A missing or dead socket both mean "the agent is not there". */
		if (rc == -ENOENT || rc == -ENOTDIR)
			rc = -ECONNREFUSED;
		goto out;
	}
	c->fd = fd;
	c->seq = (uint32_t)now_ms() ^ (uint32_t)getpid() << 16;
	*out = c;
	return 0;
out:
	if (fd >= 0)
		close(fd);
	free(c);
	return rc;
}

int ias_client_fd(struct ias_client *c)
{
	return c ? c->fd : -EBADF;
}

int ias_client_detach(struct ias_client *c)
{
	int fd = c->fd;

	c->fd = -1;
	return fd;
}

void ias_client_close(struct ias_client *c)
{
	struct evq *e, *n;

	if (!c)
		return;
	for (e = c->head; e; e = n) {
		n = e->next;
		free(e);
	}
	if (c->fd >= 0)
		close(c->fd);
	free(c);
}

/* Receive one datagram, waiting at most timeout_ms (-1 forever).
 * 1 got one, 0 timed out, < 0 error (-ECONNRESET on EOF). */
static int recv_one(struct ias_client *c, uint8_t *buf, size_t cap, size_t *len, int timeout_ms)
{
	struct pollfd p = { .fd = c->fd, .events = POLLIN };
	ssize_t n;
	int rc;

	*len = 0;
	do
		rc = poll(&p, 1, timeout_ms);
	while (rc < 0 && errno == EINTR);
	if (rc < 0)
		return -errno;
	if (rc == 0)
		return 0;
	do
		n = recv(c->fd, buf, cap, MSG_TRUNC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN ? 0 : -errno;
	if (n == 0)
		return -ECONNRESET;
	if ((size_t)n > cap)
		return -EMSGSIZE;
	*len = (size_t)n;
	return 1;
}

static void enqueue(struct ias_client *c, const uint8_t *buf, size_t len)
{
	struct evq *e;

	if (c->nq >= EVQ_MAX) { /* drop the oldest */
		e = c->head;
		c->head = e->next;
		if (!c->head)
			c->tail = NULL;
		free(e);
		c->nq--;
	}
	e = malloc(sizeof(*e) + len);
	if (!e)
		return;
	e->next = NULL;
	e->len = len;
	memcpy(e->data, buf, len);
	if (c->tail)
		c->tail->next = e;
	else
		c->head = e;
	c->tail = e;
	c->nq++;
}

int ias_client_call(struct ias_client *c, struct ias_ctl_msg *req, void *reply, size_t cap,
		    size_t *len)
{
	struct ias_ctl_hdr rq, h;
	int64_t deadline;
	ssize_t n;
	int rc;

	*len = 0;
	if (!c || c->fd < 0)
		return -EBADF;
	ias_ctl_msg_set_seq(req, ++c->seq);
	rc = ias_ctl_msg_finish(req);
	if (rc)
		return rc;
	if (ias_ctl_parse_hdr(req->buf, req->len, &rq, NULL))
		return -EINVAL;
	do
		n = send(c->fd, req->buf, req->len, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EPIPE ? -ECONNRESET : -errno;
	deadline = now_ms() + CALL_TIMEOUT_MS;
	for (;;) {
		int64_t left = deadline - now_ms();

		if (left <= 0)
			return -ETIMEDOUT;
		rc = recv_one(c, reply, cap, len, (int)left);
		if (rc < 0)
			return rc;
		if (rc == 0)
			return -ETIMEDOUT;
		rc = ias_ctl_parse_hdr(reply, *len, &h, NULL);
		if (rc == IAS_CTL_E_VERSION)
			return -EPROTONOSUPPORT;
		if (rc)
			continue; /* not ours to answer; ignore */
		if (h.kind == IAS_CTL_EVENT) {
			if (ias_ctl_validate(reply, *len) == 0)
				enqueue(c, reply, *len);
			continue;
		}
		if (h.kind != IAS_CTL_REPLY || h.seq != rq.seq)
			continue; /* a stale reply to an earlier, timed-out call */
		if (h.op != rq.op || ias_ctl_validate(reply, *len) != 0)
			return -EBADMSG;
		return 0;
	}
}

int ias_client_event(struct ias_client *c, void *buf, size_t cap, size_t *len, int timeout_ms)
{
	struct ias_ctl_hdr h;
	int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	int rc;

	*len = 0;
	if (!c || c->fd < 0)
		return -EBADF;
	if (c->head) {
		struct evq *e = c->head;

		if (e->len > cap)
			return -EMSGSIZE;
		memcpy(buf, e->data, e->len);
		*len = e->len;
		c->head = e->next;
		if (!c->head)
			c->tail = NULL;
		c->nq--;
		free(e);
		return 1;
	}
	for (;;) {
		int wait = -1;

		if (deadline >= 0) {
			int64_t left = deadline - now_ms();

			wait = left > 0 ? (int)left : 0;
		}
		rc = recv_one(c, buf, cap, len, wait);
		if (rc <= 0)
			return rc;
		if (ias_ctl_parse_hdr(buf, *len, &h, NULL) == 0 && h.kind == IAS_CTL_EVENT &&
		    ias_ctl_validate(buf, *len) == 0)
			return 1;
		*len = 0; /* stray reply or garbage: skip */
		if (wait == 0)
			return 0;
	}
}
