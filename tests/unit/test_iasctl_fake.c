/* A tiny fake agent for client tests; see test_iasctl_fake.h. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "tests/unit/test_iasctl_fake.h"

#define MAXC 16

struct fake {
	char dir[32], path[64];
	int lfd, stop[2];
	int cfd[MAXC];
	fake_handler fn;
	void *arg;
	pthread_t th;
	pthread_mutex_t mu;
	int nreq;
	uint16_t last_op;
	uint8_t last[IAS_CTL_MAX_MSG];
	size_t last_len;
	char ops[4096];
};

static void serve(struct fake *f, int i)
{
	static uint8_t in[IAS_CTL_MAX_MSG], out[IAS_CTL_MAX_MSG];
	struct ias_ctl_msg m;
	struct ias_ctl_hdr h;
	struct ias_rd r;
	char why[256];
	ssize_t n;
	int rc, close_after = 0;

	n = recv(f->cfd[i], in, sizeof(in), 0);
	if (n <= 0) {
		close(f->cfd[i]);
		f->cfd[i] = -1;
		return;
	}
	ias_ctl_parse_hdr(in, (size_t)n, &h, &r);
	pthread_mutex_lock(&f->mu);
	f->nreq++;
	f->last_op = h.op;
	memcpy(f->last, in, (size_t)n);
	f->last_len = (size_t)n;
	snprintf(f->ops + strlen(f->ops), sizeof(f->ops) - strlen(f->ops), "%s%s",
		 f->ops[0] ? "," : "", ias_ctl_op_name(h.op) ? ias_ctl_op_name(h.op) : "?");
	pthread_mutex_unlock(&f->mu);
	rc = ias_ctl_validate_msg(in, (size_t)n, why, sizeof(why));
	if (rc) {
		rc = ias_ctl_build_error(out, sizeof(out), h.op, h.seq, rc, why);
		if (rc > 0)
			send(f->cfd[i], out, (size_t)rc, MSG_NOSIGNAL);
		return;
	}
	ias_ctl_msg_init(&m, out, sizeof(out), IAS_CTL_REPLY, h.op, h.seq, 0);
	close_after = f->fn(&h, &r, &m, f->cfd[i], f->arg);
	if (ias_ctl_msg_finish(&m) == 0)
		send(f->cfd[i], out, m.len, MSG_NOSIGNAL);
	if (close_after) {
		close(f->cfd[i]);
		f->cfd[i] = -1;
	}
}

static void *loop(void *p)
{
	struct fake *f = p;

	for (;;) {
		struct pollfd pf[MAXC + 2];
		int n = 0, i, map[MAXC];

		pf[n++] = (struct pollfd){ .fd = f->stop[0], .events = POLLIN };
		pf[n++] = (struct pollfd){ .fd = f->lfd, .events = POLLIN };
		for (i = 0; i < MAXC; i++)
			if (f->cfd[i] >= 0) {
				map[n - 2] = i;
				pf[n++] = (struct pollfd){ .fd = f->cfd[i], .events = POLLIN };
			}
		if (poll(pf, (nfds_t)n, -1) < 0)
			continue;
		if (pf[0].revents)
			return NULL;
		if (pf[1].revents & POLLIN) {
			int c = accept4(f->lfd, NULL, NULL, SOCK_CLOEXEC);

			for (i = 0; c >= 0 && i < MAXC; i++)
				if (f->cfd[i] < 0) {
					f->cfd[i] = c;
					c = -1;
				}
			if (c >= 0)
				close(c);
		}
		for (i = 2; i < n; i++)
			if (pf[i].revents)
				serve(f, map[i - 2]);
	}
}

struct fake *fake_start(fake_handler fn, void *arg)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct fake *f = calloc(1, sizeof(*f));
	int i;

	if (!f)
		return NULL;
	snprintf(f->dir, sizeof(f->dir), "/tmp/ias-fake-XXXXXX");
	if (!mkdtemp(f->dir))
		goto fail;
	snprintf(f->path, sizeof(f->path), "%s/sema.sock", f->dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", f->path);
	f->lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (f->lfd < 0 || bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(f->lfd, 8) < 0 || pipe(f->stop) < 0)
		goto fail;
	for (i = 0; i < MAXC; i++)
		f->cfd[i] = -1;
	f->fn = fn;
	f->arg = arg;
	pthread_mutex_init(&f->mu, NULL);
	if (pthread_create(&f->th, NULL, loop, f) != 0)
		goto fail;
	return f;
fail:
	free(f);
	return NULL;
}

const char *fake_path(const struct fake *f)
{
	return f->path;
}

int fake_requests(struct fake *f, uint16_t *last_op, uint8_t *last, size_t cap, size_t *len)
{
	int n;

	pthread_mutex_lock(&f->mu);
	n = f->nreq;
	if (last_op)
		*last_op = f->last_op;
	if (last && len) {
		*len = f->last_len < cap ? f->last_len : cap;
		memcpy(last, f->last, *len);
	}
	pthread_mutex_unlock(&f->mu);
	return n;
}

void fake_ops(struct fake *f, char *out, size_t cap)
{
	pthread_mutex_lock(&f->mu);
	snprintf(out, cap, "%s", f->ops);
	f->ops[0] = '\0';
	pthread_mutex_unlock(&f->mu);
}

void fake_stop(struct fake *f)
{
	int i;

	if (!f)
		return;
	if (write(f->stop[1], "x", 1) != 1)
		return;
	pthread_join(f->th, NULL);
	for (i = 0; i < MAXC; i++)
		if (f->cfd[i] >= 0)
			close(f->cfd[i]);
	close(f->lfd);
	close(f->stop[0]);
	close(f->stop[1]);
	unlink(f->path);
	rmdir(f->dir);
	free(f);
}

static int find(const uint8_t *msg, size_t len, uint16_t type, struct ias_ctl_attr *a)
{
	struct ias_ctl_hdr h;
	struct ias_rd r;

	if (ias_ctl_parse_hdr(msg, len, &h, &r))
		return -1;
	while (ias_ctl_next(&r, a) == 1)
		if (a->type == type)
			return 0;
	return -1;
}

int fake_attr_u32(const uint8_t *msg, size_t len, uint16_t type, uint32_t *v)
{
	struct ias_ctl_attr a;

	*v = 0;
	return find(msg, len, type, &a) ? -1 : ias_ctl_get_u32(&a, v);
}

int fake_attr_str(const uint8_t *msg, size_t len, uint16_t type, char *out, size_t cap)
{
	struct ias_ctl_attr a;

	out[0] = '\0';
	return find(msg, len, type, &a) ? -1 : ias_ctl_get_str(&a, out, cap);
}
